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
    /// Columns kept from the last draw of the same recording, and its generation (see
    /// [`LaneCache`]); without one, every lane is worked out from its start.
    pub cache: Option<(&'a std::cell::RefCell<LaneCache>, u64)>,
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

/// One lane's pixel columns, extended as the lane grows instead of recomputed: a redraw
/// while a run is computing then costs the new state changes, not all of them (a 600 s
/// run records 800 000, and the lanes redraw every few frames).
///
/// Per pixel column: the state occupying most of it, and a state too brief to fill most
/// of any column of its own span (a one-tick direct reclaim, a kernel thread's one-tick
/// run) that is more salient than the column's — drawn as a low mark so it does not
/// vanish on a whole-run axis, and does not pass for a state that lasted.
///
/// Invariant: `dominant` holds the contribution of the first `complete` entries, whose
/// spans are final (a next entry exists); `brief` holds the marks of the first
/// `brief_done` entries, whose columns no later entry can touch. The last entry's span
/// grows with `until`, so it and the marks that depend on it are worked out on copies.
#[derive(Clone, Debug, Default)]
pub struct LaneColumns {
    /// (end, width, until) the columns were computed for; another end or width, or an
    /// `until` that went back (a fork), starts over.
    key: (u64, u32, u64),
    complete: usize,
    dominant: Vec<Option<(TaskState, u64)>>,
    brief_done: usize,
    brief: Vec<Option<TaskState>>,
}

/// The columns of every lane of one recording, for one recording generation (a fork
/// throws the history they were built from away).
#[derive(Debug, Default)]
pub struct LaneCache {
    generation: u64,
    lanes: Vec<LaneColumns>,
}

impl LaneCache {
    /// One [`LaneColumns`] per lane, emptied when `generation` changed.
    pub fn lanes(&mut self, generation: u64, n: usize) -> &mut [LaneColumns] {
        if self.generation != generation || self.lanes.len() != n {
            self.generation = generation;
            self.lanes = vec![LaneColumns::default(); n];
        }
        &mut self.lanes
    }
}

/// Geometry of a lane on `width` columns spanning ticks `0..end`, drawn up to `until`.
#[derive(Clone, Copy)]
struct Axis {
    until: u64,
    end: u64,
    width: u32,
}

impl Axis {
    fn x_of(self, t: u64) -> u32 {
        mul_div(t.min(self.end), self.width as u64, self.end) as u32
    }

    /// Columns `x0..x1` and end tick of entry `i`, if it lasts a tick at all and starts
    /// before the axis ends.
    fn span(self, lane: &[(u64, TaskState)], i: usize) -> Option<(u32, u32, u64)> {
        let t0 = lane[i].0;
        let t1 = lane
            .get(i + 1)
            .map_or(self.until, |(t, _)| *t)
            .min(self.until);
        let x0 = self.x_of(t0);
        // Past the axis' end (x0 == width) nothing is drawn.
        (t1 > t0 && x0 < self.width).then(|| (x0, self.x_of(t1).max(x0 + 1).min(self.width), t1))
    }

    /// Entry `i`'s claim on each column it covers: the state with the most ticks in a
    /// column wins (the first of equals).
    fn add_dominant(
        self,
        lane: &[(u64, TaskState)],
        i: usize,
        cols: &mut [Option<(TaskState, u64)>],
    ) {
        let Some((x0, x1, t1)) = self.span(lane, i) else {
            return;
        };
        let (t0, s) = lane[i];
        for (x, col) in (x0..x1).zip(&mut cols[x0 as usize..x1 as usize]) {
            // Ticks of this segment inside column x.
            let c0 = mul_div(x as u64, self.end, self.width as u64);
            let c1 = mul_div(x as u64 + 1, self.end, self.width as u64);
            let share = t1.min(c1).saturating_sub(t0.max(c0)).max(1);
            if col.is_none_or(|(_, best)| share > best) {
                *col = Some((s, share));
            }
        }
    }

    /// Entry `i`'s brief mark, if no column of its span shows it and it outranks the
    /// state of its first column.
    fn add_brief(
        self,
        lane: &[(u64, TaskState)],
        i: usize,
        cols: &[Option<(TaskState, u64)>],
        brief: &mut [Option<TaskState>],
    ) {
        let Some((x0, x1, _)) = self.span(lane, i) else {
            return;
        };
        let s = lane[i].1;
        let shown = cols[x0 as usize..x1 as usize]
            .iter()
            .any(|c| c.is_some_and(|(cs, _)| cs == s));
        let outranks = cols[x0 as usize].is_some_and(|(cs, _)| salience(s) > salience(cs));
        if !shown && outranks && brief[x0 as usize].is_none_or(|b| salience(s) > salience(b)) {
            brief[x0 as usize] = Some(s);
        }
    }
}

impl LaneColumns {
    /// The columns of `lane` drawn up to `until` on `width_px` columns spanning
    /// `0..end` ticks; `lane` must extend the one of the previous call (or the call
    /// must differ in end, width or a smaller `until`, which starts over).
    pub fn columns(
        &mut self,
        lane: &[(u64, TaskState)],
        until: u64,
        end: u64,
        width_px: u32,
    ) -> Vec<Option<(TaskState, Option<TaskState>)>> {
        let axis = Axis {
            until,
            end: end.max(1),
            width: width_px.max(1),
        };
        let (k_end, k_width, k_until) = self.key;
        if k_end != axis.end
            || k_width != axis.width
            || k_until > until
            || lane.len() < self.complete
        {
            *self = LaneColumns {
                key: (axis.end, axis.width, until),
                complete: 0,
                dominant: vec![None; axis.width as usize],
                brief_done: 0,
                brief: vec![None; axis.width as usize],
            };
        }
        self.key.2 = until;
        while self.complete + 1 < lane.len() && lane[self.complete + 1].0 <= until {
            axis.add_dominant(lane, self.complete, &mut self.dominant);
            self.complete += 1;
        }
        // Columns left of the first incomplete entry's start are final.
        let final_below = lane
            .get(self.complete)
            .map_or(axis.width, |(t, _)| axis.x_of(*t));
        while self.brief_done < self.complete {
            if axis
                .span(lane, self.brief_done)
                .is_some_and(|(_, x1, _)| x1 > final_below)
            {
                break;
            }
            axis.add_brief(lane, self.brief_done, &self.dominant, &mut self.brief);
            self.brief_done += 1;
        }
        let mut cols = self.dominant.clone();
        for i in self.complete..lane.len() {
            axis.add_dominant(lane, i, &mut cols);
        }
        let mut brief = self.brief.clone();
        for i in self.brief_done..lane.len() {
            axis.add_brief(lane, i, &cols, &mut brief);
        }
        cols.iter()
            .zip(brief)
            .map(|(c, b)| c.map(|(s, _)| (s, b)))
            .collect()
    }
}

/// `a * b / c` rounded down, in u64 whenever the product fits (always for a run's ticks
/// times a canvas width): u128 division is a library call in wasm32, and a redraw of a
/// long run's lanes made hundreds of thousands of them.
fn mul_div(a: u64, b: u64, c: u64) -> u64 {
    match a.checked_mul(b) {
        Some(p) => p / c,
        None => (a as u128 * b as u128 / c as u128) as u64,
    }
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
    runs_with(&mut LaneColumns::default(), lane, until, end, width_px)
}

/// [`runs`], extending `cache` (the same lane's columns from the previous call).
pub fn runs_with(
    cache: &mut LaneColumns,
    lane: &[(u64, TaskState)],
    until: u64,
    end: u64,
    width_px: u32,
) -> LaneRuns {
    let cols = cache.columns(lane, until, end, width_px);
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
    let font = (palette::FONT, view.font_px).into_font();
    let mut cache = view
        .cache
        .map(|(c, generation)| (c.borrow_mut(), generation));
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
        let lane_runs = match &mut cache {
            Some((c, generation)) => {
                let columns = &mut c.lanes(*generation, view.lanes.len())[i];
                runs_with(columns, lane, view.until_tick, view.end_tick, plot_w)
            }
            None => runs(lane, view.until_tick, view.end_tick, plot_w),
        };
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

    proptest::proptest! {
        /// Columns extended draw after draw, as a run is computed, are the columns worked
        /// out afresh from the whole lane.
        #[test]
        fn extended_columns_are_the_columns_worked_out_afresh(
            steps in proptest::collection::vec((1u64..40, 0usize..5), 1..120),
            end in 1u64..3000,
            width in 1u32..200,
            draw_every in 1usize..12,
        ) {
            let states = [
                TaskState::Running,
                TaskState::DirectReclaim,
                TaskState::Sleeping(SleepFn::Idle),
                TaskState::Sleeping(SleepFn::ThrottleVmWriteout),
                TaskState::Exited,
            ];
            let mut lane = vec![(0u64, states[0])];
            let mut cache = LaneColumns::default();
            for (k, (gap, s)) in steps.iter().enumerate() {
                let t = lane.last().unwrap().0 + gap;
                lane.push((t, states[*s]));
                if k % draw_every == 0 {
                    // Drawn up to a tick at or after the last change, as the recording does.
                    let until = t + gap / 2;
                    let fresh = LaneColumns::default().columns(&lane, until, end, width);
                    proptest::prop_assert_eq!(cache.columns(&lane, until, end, width), fresh);
                }
            }
        }
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
                    cache: None,
                },
            )
            .unwrap();
        }
        assert!(svg.contains("kcryptd") && svg.contains("throttle_vm_writeout"));
    }
}
