//! Task lanes: one lane per task, coloured by state over time and labelled with the state
//! (the sleeping function's name) wherever it fits, so colour is never the only cue.
//! The x axis lines up with the timeline's (same left/right margins).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::palette;
use super::timeline::{LEFT_PX, RIGHT_PX};
use super::DrawResult;
use crate::sim::event::SleepFn;
use crate::sim::sample::TaskState;

pub struct LaneView<'a> {
    pub names: &'a [String],
    /// Per task: (tick, state) at every change, starting at tick 0.
    pub lanes: &'a [Vec<(u64, TaskState)>],
    /// Lanes are drawn up to here (what is computed)…
    pub until_tick: u64,
    /// …on an axis spanning `0..end_tick`.
    pub end_tick: u64,
    pub selected: Option<usize>,
    pub font_px: u32,
    pub lane_px: u32,
}

/// The fixed colour of a state (ui-design.md).
pub fn state_colour(s: TaskState) -> RGBColor {
    match s {
        TaskState::Running => palette::FREE,
        TaskState::DirectReclaim => palette::LOW,
        TaskState::Sleeping(SleepFn::MempoolAlloc) => palette::WRITEBACK,
        TaskState::Sleeping(SleepFn::IoWait) => palette::HIGH,
        TaskState::Sleeping(SleepFn::Idle) => RGBColor(0xEE, 0xEE, 0xEE),
        TaskState::Sleeping(_) => palette::MIN,
        TaskState::Killed => RGBColor(0, 0, 0),
        TaskState::Exited => RGBColor(0xAA, 0xAA, 0xAA),
    }
}

/// Text that stays readable on the state's colour.
pub fn state_ink(s: TaskState) -> RGBColor {
    match s {
        TaskState::Killed | TaskState::Sleeping(SleepFn::IoWait) => WHITE,
        _ => palette::INK,
    }
}

/// Which state a brief mark may sit on: waiting for work hides nothing, running hides
/// less than reclaim, a throttle or a kill.
fn salience(s: TaskState) -> u8 {
    match s {
        TaskState::Sleeping(SleepFn::Idle) => 0,
        TaskState::Running => 1,
        _ => 2,
    }
}

/// Per pixel column: the state occupying most of it, and a state too brief to fill most
/// of any column of its own span (a one-tick direct reclaim, a kernel thread's one-tick
/// run) that is more salient than the column's — drawn as a low mark so it does not
/// vanish on a whole-run axis, and does not pass for a state that lasted.
fn columns(
    lane: &[(u64, TaskState)],
    until: u64,
    end: u64,
    width_px: u32,
) -> Vec<Option<(TaskState, Option<TaskState>)>> {
    let end = end.max(1);
    let width = width_px.max(1);
    let x_of = |t: u64| ((t.min(end) as u128 * width as u128) / end as u128) as u32;
    let span = |i: usize, t0: u64| -> Option<(u32, u32, u64)> {
        let t1 = lane.get(i + 1).map_or(until, |(t, _)| *t).min(until);
        (t1 > t0).then(|| (x_of(t0), x_of(t1).max(x_of(t0) + 1).min(width), t1))
    };
    let mut cols: Vec<Option<(TaskState, u64)>> = vec![None; width as usize];
    for (i, (t0, s)) in lane.iter().enumerate() {
        let Some((x0, x1, t1)) = span(i, *t0) else {
            continue;
        };
        for (x, col) in cols
            .iter_mut()
            .enumerate()
            .take(x1 as usize)
            .skip(x0 as usize)
        {
            // Ticks of this segment inside column x.
            let c0 = (x as u128 * end as u128 / width as u128) as u64;
            let c1 = ((x as u128 + 1) * end as u128 / width as u128) as u64;
            let share = t1.min(c1).saturating_sub((*t0).max(c0)).max(1);
            if col.is_none_or(|(_, best)| share > best) {
                *col = Some((*s, share));
            }
        }
    }
    let mut brief: Vec<Option<TaskState>> = vec![None; width as usize];
    for (i, (t0, s)) in lane.iter().enumerate() {
        let Some((x0, x1, _)) = span(i, *t0) else {
            continue;
        };
        let range = x0 as usize..x1 as usize;
        let shown = cols[range.clone()]
            .iter()
            .any(|c| c.is_some_and(|(cs, _)| cs == *s));
        let col = cols[x0 as usize];
        let outranks = col.is_some_and(|(cs, _)| salience(*s) > salience(cs));
        if !shown && outranks && brief[x0 as usize].is_none_or(|b| salience(*s) > salience(b)) {
            brief[x0 as usize] = Some(*s);
        }
    }
    cols.iter()
        .zip(brief)
        .map(|(c, b)| c.map(|(s, _)| (s, b)))
        .collect()
}

/// Merges equal neighbouring columns into runs `(x0, x1, state)`.
fn merge(cols: impl Iterator<Item = Option<TaskState>>) -> Vec<(u32, u32, TaskState)> {
    let mut out: Vec<(u32, u32, TaskState)> = Vec::new();
    for (x, col) in cols.enumerate() {
        let Some(s) = col else { continue };
        match out.last_mut() {
            Some((_, x1, last)) if *last == s && *x1 == x as u32 => *x1 = x as u32 + 1,
            _ => out.push((x as u32, x as u32 + 1, s)),
        }
    }
    out
}

/// A lane as drawn: runs `(x0, x1, state)` of the state occupying most of each pixel
/// column, and the brief states those runs cannot show, merged the same way (drawn low in
/// the lane).
#[derive(Debug, PartialEq, Eq)]
pub struct LaneRuns {
    pub dominant: Vec<(u32, u32, TaskState)>,
    pub brief: Vec<(u32, u32, TaskState)>,
}

pub fn runs(lane: &[(u64, TaskState)], until: u64, end: u64, width_px: u32) -> LaneRuns {
    let cols = columns(lane, until, end, width_px);
    LaneRuns {
        dominant: merge(cols.iter().map(|c| c.map(|(s, _)| s))),
        brief: merge(cols.iter().map(|c| c.and_then(|(_, b)| b))),
    }
}

/// Draws the lanes; the area's height should be `names.len() * lane_px`.
pub fn draw<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, view: &LaneView) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE)?;
    let (w, _) = area.dim_in_pixel();
    let plot_w = w.saturating_sub(LEFT_PX + RIGHT_PX);
    let lane_h = view.lane_px as i32;
    let font = ("sans-serif", view.font_px).into_font();
    for (i, lane) in view.lanes.iter().enumerate() {
        let y0 = i as i32 * lane_h;
        let selected = view.selected == Some(i);
        if selected {
            area.draw(&Rectangle::new(
                [(0, y0), (w as i32, y0 + lane_h)],
                palette::HIGH.mix(0.12).filled(),
            ))?;
        }
        let name = view.names.get(i).map_or("?", |n| n.as_str());
        let weight = if selected {
            FontStyle::Bold
        } else {
            FontStyle::Normal
        };
        area.draw(&Text::new(
            name.to_string(),
            (LEFT_PX as i32 - 6, y0 + lane_h / 2),
            font.clone()
                .style(weight)
                .color(&palette::INK)
                .pos(Pos::new(HPos::Right, VPos::Center)),
        ))?;
        let lane_runs = runs(lane, view.until_tick, view.end_tick, plot_w);
        for &(x0, x1, s) in &lane_runs.dominant {
            let (ax, bx) = (LEFT_PX as i32 + x0 as i32, LEFT_PX as i32 + x1 as i32);
            area.draw(&Rectangle::new(
                [(ax, y0 + 2), (bx, y0 + lane_h - 2)],
                state_colour(s).filled(),
            ))?;
            let label = s.label();
            let text_px = (label.len() as u32 * view.font_px * 55 / 100) as i32;
            if bx - ax > text_px + 6 && !matches!(s, TaskState::Sleeping(SleepFn::Idle)) {
                area.draw(&Text::new(
                    label.to_string(),
                    (ax + 3, y0 + lane_h / 2),
                    font.clone()
                        .color(&state_ink(s))
                        .pos(Pos::new(HPos::Left, VPos::Center)),
                ))?;
            }
        }
        // Brief states: a low mark, the lower third of the lane.
        for &(x0, x1, s) in &lane_runs.brief {
            let (ax, bx) = (LEFT_PX as i32 + x0 as i32, LEFT_PX as i32 + x1 as i32);
            area.draw(&Rectangle::new(
                [(ax, y0 + lane_h - 2 - lane_h / 3), (bx, y0 + lane_h - 2)],
                state_colour(s).filled(),
            ))?;
        }
        area.draw(&PathElement::new(
            vec![
                (LEFT_PX as i32, y0 + lane_h - 1),
                (w as i32 - RIGHT_PX as i32, y0 + lane_h - 1),
            ],
            palette::GRID,
        ))?;
    }
    area.present()?;
    Ok(())
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn runs_pick_the_dominant_state_per_column() {
        let lane = vec![
            (0, TaskState::Running),
            (50, TaskState::Sleeping(SleepFn::ThrottleVmWriteout)),
            (51, TaskState::Running),
            (500, TaskState::Exited),
        ];
        let r = runs(&lane, 1000, 1000, 10);
        assert_eq!(
            r.dominant,
            vec![(0, 5, TaskState::Running), (5, 10, TaskState::Exited)]
        );
        // The one-tick throttle is a brief mark in its column instead of vanishing.
        assert_eq!(
            r.brief,
            vec![(0, 1, TaskState::Sleeping(SleepFn::ThrottleVmWriteout))]
        );
        let r = runs(&lane, 300, 1000, 10);
        assert_eq!(r.dominant, vec![(0, 3, TaskState::Running)]);
    }

    #[test]
    fn a_one_tick_state_stays_visible_on_a_whole_run_axis() {
        // 5 s on 500 columns: 10 ticks a column. One tick of direct reclaim amid running,
        // one tick of running amid waiting for work.
        let lane = vec![
            (0, TaskState::Running),
            (2580, TaskState::DirectReclaim),
            (2581, TaskState::Running),
            (5000, TaskState::Exited),
        ];
        assert_eq!(
            runs(&lane, 5000, 5000, 500),
            LaneRuns {
                dominant: vec![(0, 500, TaskState::Running)],
                brief: vec![(258, 259, TaskState::DirectReclaim)],
            }
        );
        let idle = TaskState::Sleeping(SleepFn::Idle);
        let kswapd = vec![(0, idle), (1750, TaskState::Running), (1751, idle)];
        assert_eq!(
            runs(&kswapd, 5000, 5000, 500),
            LaneRuns {
                dominant: vec![(0, 500, idle)],
                brief: vec![(175, 176, TaskState::Running)],
            }
        );
        // A brief state never sits on a more salient one: the throttle keeps its column.
        let lane = vec![
            (0, TaskState::Sleeping(SleepFn::ThrottleVmWriteout)),
            (2580, TaskState::Running),
            (2581, TaskState::Sleeping(SleepFn::ThrottleVmWriteout)),
        ];
        assert!(runs(&lane, 5000, 5000, 500).brief.is_empty());
    }

    #[test]
    fn renders_to_svg_with_labels() {
        let names = vec!["hog".to_string(), "kcryptd".to_string()];
        let lanes = vec![
            vec![(0, TaskState::Running)],
            vec![(0, TaskState::Sleeping(SleepFn::ThrottleVmWriteout))],
        ];
        let mut svg = String::new();
        {
            let area = SVGBackend::with_string(&mut svg, (800, 60)).into_drawing_area();
            draw(
                &area,
                &LaneView {
                    names: &names,
                    lanes: &lanes,
                    until_tick: 1000,
                    end_tick: 1000,
                    selected: Some(1),
                    font_px: 13,
                    lane_px: 30,
                },
            )
            .unwrap();
        }
        assert!(svg.contains("kcryptd") && svg.contains("throttle_vm_writeout"));
    }
}
