//! One point of the timeline chart, summed over zones (`charts::timeline` draws them).

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
    pub fn from_sample(s: &pressure_lab_sim::sample::Sample) -> Point {
        let sum = |f: fn(&pressure_lab_sim::sample::ZoneSample) -> u64| s.zones.iter().map(f).sum();
        Point {
            tick: s.tick,
            free: sum(|z| z.free),
            min: sum(|z| z.min),
            low: sum(|z| z.low),
            high: sum(|z| z.high),
            dirty: sum(|z| z.dirty),
            writeback: sum(|z| z.writeback),
            swap_used: s.swap_used,
        }
    }

    /// The same numbers as [`Point::from_sample`], read straight from the state without
    /// building a whole `Sample` (the recording takes one every tick).
    pub fn from_state(st: &pressure_lab_sim::state::State) -> Point {
        let mut p = Point {
            tick: st.tick,
            swap_used: st.swap_used,
            ..Point::default()
        };
        for (z, w) in st.zones.iter().zip(&st.wmarks) {
            p.free += z.free;
            p.min += w.min();
            p.low += w.low();
            p.high += w.high();
            p.dirty += z.file_dirty_total();
            p.writeback += z.file_writeback_total() + z.anon_writeback;
        }
        p
    }
}
