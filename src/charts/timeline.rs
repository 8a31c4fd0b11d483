//! The timeline: free pages against the min/low/high watermarks, with dirty, writeback
//! and swap-used pages, markers for verdicts/chapters/forks and (optionally) a cursor.
//!
//! The y axis can be logarithmic: free memory starts near the zone size and the story
//! happens a few hundred pages above min, three decades lower; on a linear axis the three
//! watermark lines would sit on top of each other at the bottom.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::palette;
use super::DrawResult;

pub use pressure_lab_record::point::Point;

/// At most `buckets` points: per bucket the lowest free (dips must stay visible), the
/// highest dirty/writeback/swap, and the bucket's last watermarks.
pub fn decimate(points: &[Point], buckets: usize) -> Vec<Point> {
    let buckets = buckets.max(1);
    if points.len() <= buckets {
        return points.to_vec();
    }
    let per = points.len().div_ceil(buckets);
    points
        .chunks(per)
        .map(|c| {
            let last = c[c.len() - 1];
            Point {
                tick: c[0].tick,
                free: c.iter().map(|p| p.free).min().unwrap_or(0),
                dirty: c.iter().map(|p| p.dirty).max().unwrap_or(0),
                writeback: c.iter().map(|p| p.writeback).max().unwrap_or(0),
                swap_used: c.iter().map(|p| p.swap_used).max().unwrap_or(0),
                ..last
            }
        })
        .collect()
}

/// A vertical marker: a verdict, a chapter or a policy fork.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Marker {
    pub tick: u64,
    pub label: String,
    pub kind: MarkerKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkerKind {
    Verdict,
    Chapter,
    Fork,
}

pub struct View<'a> {
    pub points: &'a [Point],
    /// The x axis spans `0..=end_tick`.
    pub end_tick: u64,
    /// Drawn as a line when given (the browser draws its cursor as an overlay instead).
    pub cursor_tick: Option<u64>,
    pub markers: &'a [Marker],
    /// Draw the y axis up to this many pages (linear: at least high × 3 so the watermarks
    /// show; log: the zone size).
    pub y_max: u64,
    pub log_y: bool,
    pub font_px: u32,
    /// Small multiples (compare mode): fewer labels.
    pub compact: bool,
    /// Draw the legend as a row under the chart (on screen the page shows an HTML legend
    /// instead; exported pictures and native renders draw it).
    pub legend: bool,
    /// A line above the chart saying what it shows (exported pictures: scenario, policy,
    /// time), or empty for none.
    pub caption: &'a str,
}

/// Chart margins in pixels, shared with the UI so it can map a click to a tick and line
/// the task lanes up under the timeline.
pub const LEFT_PX: u32 = 96;
pub const RIGHT_PX: u32 = 12;
pub const TOP_PX: u32 = 8;

/// Millionths of a decade: the log axis in integers. An f64 axis would make plotters
/// instantiate its float label formatter — 2 KB of the gzipped .wasm for labels this chart
/// draws itself.
const LOG_Y_UNITS: f64 = 1e6;

fn y_of(view: &View, pages: u64) -> u64 {
    if view.log_y {
        ((pages.max(1) as f64).log10() * LOG_Y_UNITS).round() as u64
    } else {
        pages.min(view.y_max)
    }
}

/// "12 s": whole seconds, rounded half to even (as `{:.0}` of the seconds would).
fn seconds_label(tick: u64) -> String {
    let (s, ms) = (tick / 1000, tick % 1000);
    let round_up = ms > 500 || (ms == 500 && s % 2 == 1);
    format!("{} s", s + u64::from(round_up))
}

fn pages_label(pages: u64) -> String {
    match pages {
        p if p >= 1_000_000 && p.is_multiple_of(1_000_000) => format!("{}M", p / 1_000_000),
        p if p >= 1000 && p.is_multiple_of(1000) => format!("{}k", p / 1000),
        p => p.to_string(),
    }
}

/// Draws the chart; returns the plot area's x pixel range (for click → tick mapping).
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    view: &View,
) -> DrawResult<(i32, i32)>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE)?;
    let end = view.end_tick.max(1);
    let y_max = view.y_max.max(2);
    let y_top = y_of(view, y_max);
    // The legend is a row of its own under the x labels, where it covers no curve.
    let legend_px = if view.legend {
        legend_px(area.dim_in_pixel().0, view.font_px)
    } else {
        0
    };
    let caption_px = if view.caption.is_empty() {
        0
    } else {
        view.font_px * 2
    };
    let mut chart = ChartBuilder::on(area)
        .margin_right(RIGHT_PX)
        .margin_top(TOP_PX + caption_px)
        .margin_bottom(legend_px)
        .x_label_area_size(view.font_px * 2)
        .y_label_area_size(LEFT_PX)
        .build_cartesian_2d(0u64..end, 0u64..y_top)?;
    let label_style = (palette::FONT, view.font_px)
        .into_font()
        .color(&palette::INK);
    if caption_px > 0 {
        area.draw(&Text::new(
            view.caption,
            (LEFT_PX as i32, (TOP_PX + caption_px / 2) as i32),
            label_style.clone().pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    chart
        .configure_mesh()
        .light_line_style(palette::GRID.mix(0.4))
        .disable_y_mesh()
        .x_labels(if view.compact { 4 } else { 8 })
        // One key point, labelled with nothing: plotters' integer key-point search never
        // ends when asked for none (plotters 0.3.7 `compute_*_key_points`, max_points 0).
        .y_labels(1)
        .y_label_formatter(&|_| String::new())
        .set_tick_mark_size(LabelAreaPosition::Left, 0)
        .x_label_formatter(&|t| seconds_label(*t))
        .label_style(label_style.clone())
        .axis_desc_style(label_style.clone())
        .draw()?;
    // Y grid and labels by hand: powers of ten on a log axis, round numbers on a linear one.
    let grid: Vec<u64> = if view.log_y {
        (0..=9)
            .map(|e| 10u64.pow(e))
            .filter(|p| *p <= y_max)
            .collect()
    } else {
        let step = nice_step(y_max / 5);
        (0..=y_max / step).map(|i| i * step).collect()
    };
    for g in grid {
        let y = y_of(view, g);
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0, y), (end, y)],
            palette::GRID.mix(0.8),
        )))?;
        let (_, py) = chart.backend_coord(&(0, y));
        let (px, _) = chart.backend_coord(&(0, 0));
        area.draw(&Text::new(
            pages_label(g),
            (px - 6, py),
            label_style.clone().pos(Pos::new(HPos::Right, VPos::Center)),
        ))?;
    }
    // The unit runs up the left edge, beside the y labels, where nothing else is drawn.
    let (_, py0) = chart.backend_coord(&(0, 0));
    let (_, py_top) = chart.backend_coord(&(0, y_top));
    let unit = if view.log_y {
        "pages (log scale)"
    } else {
        "pages"
    };
    area.draw(&Text::new(
        unit,
        (2, (py0 + py_top) / 2),
        (palette::FONT, view.font_px.saturating_sub(1).max(10))
            .into_font()
            .transform(FontTransform::Rotate270)
            .color(&palette::INK)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;

    let pts = view.points;
    let series = move |f: fn(&Point) -> u64| pts.iter().map(move |p| (p.tick, y_of(view, f(p))));
    let line = |c: RGBColor, w: u32| ShapeStyle::from(&c).stroke_width(w);
    // The legend's entries in drawing order: name, line style, dashed.
    let mut entries: Vec<(&'static str, ShapeStyle, bool)> = Vec::new();
    let mut add = |f: fn(&Point) -> u64,
                   style: ShapeStyle,
                   name: &'static str,
                   outline: bool|
     -> DrawResult<()> {
        if outline {
            chart.draw_series(LineSeries::new(
                series(f),
                line(palette::INK, style.stroke_width + 2),
            ))?;
        }
        chart.draw_series(LineSeries::new(series(f), style))?;
        entries.push((name, style, false));
        Ok(())
    };
    if pts.iter().any(|p| p.swap_used > 0) {
        add(|p| p.swap_used, line(palette::ANON, 2), "swap used", false)?;
    }
    add(|p| p.dirty, line(palette::DIRTY, 2), "dirty", true)?;
    add(
        |p| p.writeback,
        line(palette::WRITEBACK, 2),
        "writeback",
        false,
    )?;
    add(|p| p.high, line(palette::HIGH, 2), "high", false)?;
    add(|p| p.low, line(palette::LOW, 2), "low", false)?;
    add(|p| p.min, line(palette::MIN, 2), "min", false)?;
    add(|p| p.free, line(palette::FREE, 3), "free", false)?;
    // Reserve use: how far free is below min (pages only PF_MEMALLOC, TIF_MEMDIE,
    // __GFP_MEMALLOC or the ATOMIC/HIGH cuts may take), dashed in min's colour.
    if pts.iter().any(|p| p.free < p.min) {
        let below = line(palette::MIN, 2);
        chart.draw_series(DashedLineSeries::new(
            series(|p| p.min.saturating_sub(p.free)),
            6,
            4,
            below,
        ))?;
        entries.push(("below min (reserve use)", below, true));
    }

    // Marker lines, then their labels: labels of the same kind closer than a label's
    // width are merged ("3, 4") so they never print over each other.
    let (right_edge, _) = chart.backend_coord(&(end, y_top));
    let (left_edge, _) = chart.backend_coord(&(0, y_top));
    let mut labels: Vec<(i32, i32, String, MarkerKind)> = Vec::new();
    let mut sorted: Vec<&Marker> = view.markers.iter().collect();
    sorted.sort_by_key(|m| m.tick);
    for m in sorted {
        let colour = marker_colour(m.kind);
        let dash = matches!(m.kind, MarkerKind::Chapter);
        let t = m.tick.min(end);
        let style = ShapeStyle::from(&colour.mix(0.7)).stroke_width(if dash { 1 } else { 2 });
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(t, 0), (t, y_top)],
            style,
        )))?;
        let (px, py) = chart.backend_coord(&(t, y_top));
        let label_w = text_px(&m.label, view.font_px) + 6;
        match labels.iter_mut().rev().find(|(_, _, _, k)| *k == m.kind) {
            Some((last_px, _, text, _)) if px - *last_px < label_w.max(view.font_px as i32 * 2) => {
                if !text.split(", ").any(|l| l == m.label) {
                    text.push_str(", ");
                    text.push_str(&m.label);
                }
                *last_px = px;
            }
            _ => labels.push((px, py, m.label.clone(), m.kind)),
        }
    }
    for (px, py, text, kind) in labels {
        let y = match kind {
            MarkerKind::Chapter => py + 2,
            MarkerKind::Verdict => py + 2 + view.font_px as i32,
            MarkerKind::Fork => py + 2 + 2 * view.font_px as i32,
        };
        // Labels past the middle of the plot go to the left of their line, so the last
        // verdict of a run is not cut off at the right edge.
        let (x, hpos) = if px > (left_edge + right_edge) / 2 {
            (px - 3, HPos::Right)
        } else {
            (px + 3, HPos::Left)
        };
        area.draw(&Text::new(
            text,
            (x, y),
            (palette::FONT, view.font_px)
                .into_font()
                .color(&marker_colour(kind))
                .pos(Pos::new(hpos, VPos::Top)),
        ))?;
    }
    if let Some(c) = view.cursor_tick {
        let c = c.min(end);
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(c, 0), (c, y_top)],
            ShapeStyle::from(&palette::INK).stroke_width(2),
        )))?;
    }
    if view.legend {
        let (w, h) = area.dim_in_pixel();
        let ordered: Vec<_> = LEGEND
            .iter()
            .filter_map(|n| entries.iter().find(|(name, ..)| name == n))
            .collect();
        let slots = legend_slots(ordered.iter().map(|(name, ..)| *name), w, view.font_px);
        let row_px = 2 * view.font_px as i32;
        let rows_top = h as i32 - legend_px as i32;
        for (&&(name, style, dashed), (x, row)) in ordered.iter().zip(slots) {
            let y = rows_top + row * row_px + row_px / 2;
            let dashes: &[(i32, i32)] = if dashed {
                &[(0, 7), (11, SAMPLE_PX)]
            } else {
                &[(0, SAMPLE_PX)]
            };
            for &(from, to) in dashes {
                area.draw(&PathElement::new(vec![(x + from, y), (x + to, y)], style))?;
            }
            area.draw(&Text::new(
                name,
                (x + SAMPLE_PX + 4, y),
                label_style.clone().pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
    }
    let range = chart.plotting_area().get_pixel_range().0;
    area.present()?;
    Ok((range.start, range.end))
}

/// The legend's entries, in the order of the page's HTML legend (src/ui/timeline.rs).
const LEGEND: [&str; 8] = [
    "free",
    "min",
    "low",
    "high",
    "dirty",
    "writeback",
    "swap used",
    "below min (reserve use)",
];
/// A legend entry's sample line, before its name.
const SAMPLE_PX: i32 = 18;
/// The legend's left edge.
const LEGEND_LEFT_PX: i32 = 8;

/// Where the legend's entries `names` go in a `width`-pixel-wide picture: x and row, left
/// to right, a new row when the next entry would pass the right edge.
fn legend_slots<'n>(
    names: impl Iterator<Item = &'n str>,
    width: u32,
    font_px: u32,
) -> Vec<(i32, i32)> {
    let (mut x, mut row) = (LEGEND_LEFT_PX, 0);
    let mut slots = Vec::new();
    for name in names {
        let entry_px = SAMPLE_PX + 4 + text_px(name, font_px);
        if x > LEGEND_LEFT_PX && x + entry_px > width as i32 {
            (x, row) = (LEGEND_LEFT_PX, row + 1);
        }
        slots.push((x, row));
        x += entry_px + font_px as i32;
    }
    slots
}

/// The height of the legend's rows under a `width`-pixel-wide chart: enough for every
/// entry (a run that draws fewer leaves the rest blank), so a caller sizing a picture
/// needs only the width.
pub fn legend_px(width: u32, font_px: u32) -> u32 {
    let rows = legend_slots(LEGEND.into_iter(), width, font_px)
        .last()
        .map_or(0, |&(_, row)| row + 1);
    rows as u32 * 2 * font_px
}

/// About how wide `text` is in pixels at `font_px` (a sans-serif glyph averages 0.6 em):
/// enough to space labels without measuring them on every backend.
fn text_px(text: &str, font_px: u32) -> i32 {
    (text.chars().count() as i32 * font_px as i32 * 6) / 10
}

fn marker_colour(kind: MarkerKind) -> RGBColor {
    match kind {
        MarkerKind::Verdict => palette::MIN,
        MarkerKind::Chapter => palette::HIGH,
        MarkerKind::Fork => palette::INK,
    }
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: u64) -> u64 {
    let mut p = 1;
    loop {
        for m in [1, 2, 5] {
            if m * p >= raw.max(1) {
                return m * p;
            }
        }
        p *= 10;
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    /// The integer x labels read as the float formatting they replaced did.
    #[test]
    fn seconds_labels_round_half_to_even_like_float_formatting() {
        for tick in (0..20_000).chain([499, 500, 501, 1500, 2500, 59_500, 60_000, u64::MAX / 2]) {
            assert_eq!(
                seconds_label(tick),
                format!("{:.0} s", tick as f64 / 1000.0),
                "{tick}"
            );
        }
    }

    /// The log axis in millionths of a decade: one decade per power of ten, the top exact.
    #[test]
    fn log_axis_units_are_decades() {
        let view = View {
            points: &[],
            end_tick: 1000,
            cursor_tick: None,
            markers: &[],
            y_max: 262_144,
            log_y: true,
            font_px: 14,
            compact: false,
            legend: false,
            caption: "",
        };
        assert_eq!(y_of(&view, 1), 0);
        assert_eq!(y_of(&view, 0), 0);
        assert_eq!(y_of(&view, 10), 1_000_000);
        assert_eq!(y_of(&view, 1000), 3_000_000);
        assert_eq!(y_of(&view, 262_144), 5_418_540);
    }

    /// The chart renders natively to SVG with every series, on both axes kinds.
    #[test]
    fn renders_to_svg() {
        let points: Vec<Point> = (0..100)
            .map(|t| Point {
                tick: t * 10,
                free: 2000 - t * 10,
                min: 1024,
                low: 1280,
                high: 1536,
                dirty: t,
                writeback: t / 2,
                swap_used: t,
            })
            .collect();
        for (log_y, legend) in [(false, true), (true, true), (true, false)] {
            let mut svg = String::new();
            let range = {
                let area = SVGBackend::with_string(&mut svg, (800, 300)).into_drawing_area();
                let view = View {
                    points: &points,
                    end_tick: 1000,
                    cursor_tick: Some(500),
                    markers: &[Marker {
                        tick: 700,
                        label: "OOM".into(),
                        kind: MarkerKind::Verdict,
                    }],
                    y_max: 4000,
                    log_y,
                    font_px: 14,
                    compact: false,
                    legend,
                    caption: if legend { "a caption" } else { "" },
                };
                draw(&area, &view).unwrap()
            };
            assert_eq!(
                range,
                (LEFT_PX as i32, 800 - RIGHT_PX as i32),
                "plot area starts at LEFT_PX"
            );
            assert!(svg.contains("<svg"));
            assert!(svg.contains("OOM"), "the verdict marker's label");
            // Series names are text only in the legend row: all eight with it, none
            // without it.
            for name in LEGEND {
                assert_eq!(has_text(&svg, name), legend, "{name} in the legend");
            }
            assert_eq!(
                has_text(&svg, "a caption"),
                legend,
                "the caption when given"
            );
            assert!(svg.matches("<polyline").count() >= 7, "seven series lines");
        }
    }

    #[test]
    fn legend_wraps_to_the_width() {
        for width in [300u32, 600, 704, 1280] {
            let slots = legend_slots(LEGEND.into_iter(), width, 13);
            for (name, &(x, _)) in LEGEND.iter().zip(&slots) {
                let right = x + SAMPLE_PX + 4 + text_px(name, 13);
                assert!(
                    right <= width as i32,
                    "{name} ends at {right} of {width} px"
                );
            }
            let rows = slots.last().unwrap().1 + 1;
            assert_eq!(legend_px(width, 13), rows as u32 * 26, "{width} px");
        }
        assert_eq!(
            legend_px(1280, 13),
            26,
            "one row across a projector-wide chart"
        );
        assert!(legend_px(300, 13) >= 3 * 26, "a narrow pane's legend wraps");
    }

    /// Whether the SVG holds a text element reading `text` (plotters puts it on a line of
    /// its own).
    fn has_text(svg: &str, text: &str) -> bool {
        svg.lines().any(|l| l.trim() == text)
    }

    #[test]
    fn decimation_keeps_dips() {
        let mut points: Vec<Point> = (0..1000)
            .map(|t| Point {
                tick: t,
                free: 5000,
                ..Point::default()
            })
            .collect();
        points[537].free = 10;
        let d = decimate(&points, 100);
        assert!(d.len() <= 100);
        assert_eq!(d.iter().map(|p| p.free).min(), Some(10));
    }
}
