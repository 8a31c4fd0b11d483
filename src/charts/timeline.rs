//! The timeline: free pages against the min/low/high watermarks, with dirty, writeback
//! and swap-used pages, markers for verdicts/chapters/forks and a cursor at the current
//! time.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::palette;
use super::DrawResult;

/// One point of the timeline, summed over zones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Point {
    pub tick: u64,
    pub free: u64,
    pub min: u64,
    pub low: u64,
    pub high: u64,
    pub dirty: u64,
    pub writeback: u64,
    pub swap_used: u64,
}

impl Point {
    pub fn from_sample(s: &crate::sim::sample::Sample) -> Point {
        let sum = |f: fn(&crate::sim::sample::ZoneSample) -> u64| s.zones.iter().map(f).sum();
        Point { tick: s.tick, free: sum(|z| z.free), min: sum(|z| z.min), low: sum(|z| z.low), high: sum(|z| z.high), dirty: sum(|z| z.dirty), writeback: sum(|z| z.writeback), swap_used: s.swap_used }
    }
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
    pub cursor_tick: u64,
    pub markers: &'a [Marker],
    /// Draw the y axis up to this many pages (at least high × 3 so the watermarks show).
    pub y_max: u64,
    pub font_px: u32,
}

/// Chart margins in pixels, shared with the UI so it can map a click to a tick.
pub const LEFT_PX: u32 = 64;
pub const RIGHT_PX: u32 = 12;

pub fn draw<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, view: &View) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE)?;
    let end = view.end_tick.max(1);
    let y_max = view.y_max.max(1);
    let mut chart = ChartBuilder::on(area)
        .margin_right(RIGHT_PX)
        .margin_top(8)
        .x_label_area_size(view.font_px * 2)
        .y_label_area_size(LEFT_PX)
        .build_cartesian_2d(0u64..end, 0u64..y_max)?;
    chart
        .configure_mesh()
        .light_line_style(palette::GRID.mix(0.4))
        .x_labels(8)
        .y_labels(6)
        .x_label_formatter(&|t| format!("{:.1} s", *t as f64 / 1000.0))
        .y_label_formatter(&|p| format!("{p}"))
        .label_style(("sans-serif", view.font_px))
        .draw()?;
    let pts = view.points;
    let series = |f: fn(&Point) -> u64| pts.iter().map(move |p| (p.tick, f(p).min(y_max)));
    let thin = |c: RGBColor| ShapeStyle::from(&c).stroke_width(2);
    chart.draw_series(LineSeries::new(series(|p| p.high), thin(palette::HIGH)))?.label("high").legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], thin(palette::HIGH)));
    chart.draw_series(LineSeries::new(series(|p| p.low), thin(palette::LOW)))?.label("low").legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], thin(palette::LOW)));
    chart.draw_series(LineSeries::new(series(|p| p.min), thin(palette::MIN)))?.label("min").legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], thin(palette::MIN)));
    chart.draw_series(LineSeries::new(series(|p| p.dirty), thin(palette::DIRTY)))?.label("dirty").legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], thin(palette::DIRTY)));
    chart.draw_series(LineSeries::new(series(|p| p.writeback), thin(palette::WRITEBACK)))?.label("writeback").legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], thin(palette::WRITEBACK)));
    let bold = ShapeStyle::from(&palette::FREE).stroke_width(3);
    chart.draw_series(LineSeries::new(series(|p| p.free), bold))?.label("free").legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], bold));
    for m in view.markers {
        let colour = match m.kind {
            MarkerKind::Verdict => palette::MIN,
            MarkerKind::Chapter => palette::HIGH,
            MarkerKind::Fork => palette::INK,
        };
        chart.draw_series(std::iter::once(PathElement::new(vec![(m.tick, 0), (m.tick, y_max)], ShapeStyle::from(&colour.mix(0.6)).stroke_width(1))))?;
        chart.draw_series(std::iter::once(Text::new(m.label.clone(), (m.tick, y_max - y_max / 20), ("sans-serif", view.font_px).into_font().color(&colour))))?;
    }
    chart.draw_series(std::iter::once(PathElement::new(vec![(view.cursor_tick.min(end), 0), (view.cursor_tick.min(end), y_max)], ShapeStyle::from(&palette::INK).stroke_width(2))))?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(palette::GRID)
        .label_font(("sans-serif", view.font_px))
        .draw()?;
    area.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chart renders natively to SVG with every series and the cursor.
    #[test]
    fn renders_to_svg() {
        let points: Vec<Point> = (0..100).map(|t| Point { tick: t * 10, free: 2000 - t * 10, min: 1024, low: 1280, high: 1536, dirty: t, writeback: t / 2, swap_used: 0 }).collect();
        let mut svg = String::new();
        {
            let area = SVGBackend::with_string(&mut svg, (800, 300)).into_drawing_area();
            let view = View { points: &points, end_tick: 1000, cursor_tick: 500, markers: &[Marker { tick: 700, label: "OOM".into(), kind: MarkerKind::Verdict }], y_max: 4000, font_px: 14 };
            draw(&area, &view).unwrap();
        }
        assert!(svg.contains("<svg"));
        assert!(svg.contains("free") && svg.contains("min") && svg.contains("OOM"));
        assert!(svg.matches("<polyline").count() >= 6, "six series lines");
    }
}
