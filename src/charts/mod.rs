//! Charts drawn with plotters, generic over the drawing backend: the same code draws on a
//! `<canvas>` in the browser and to SVG in native tests. Charts read samples, never the
//! simulation.

pub mod lanes;
pub mod timeline;

pub type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;

/// Colours with fixed meanings (Okabe–Ito, colour-blind safe; ui-design.md).
pub mod palette {
    use plotters::style::{FontFamily, RGBColor};
    /// The charts' one typeface. Named by the enum, not by the string "sans-serif":
    /// plotters' `From<&str>` lowercases the name, which links Unicode's case tables into
    /// the .wasm (163 B gzipped on its own; plotters' series-label legend, which the
    /// timeline no longer uses, needed them too).
    pub const FONT: FontFamily<'static> = FontFamily::SansSerif;
    pub const FREE: RGBColor = RGBColor(0x00, 0x9E, 0x73);
    pub const MIN: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
    pub const LOW: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
    pub const HIGH: RGBColor = RGBColor(0x00, 0x72, 0xB2);
    pub const ANON: RGBColor = RGBColor(0x56, 0xB4, 0xE9);
    pub const DIRTY: RGBColor = RGBColor(0xF0, 0xE4, 0x42);
    pub const WRITEBACK: RGBColor = RGBColor(0xCC, 0x79, 0xA7);
    pub const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
    pub const GRID: RGBColor = RGBColor(0xDD, 0xDD, 0xDD);
}
