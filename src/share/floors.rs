//! The effective floor of the allocations that dipped below a zone's min watermark: read
//! from the recorded `ReserveUsed` events up to the cursor (the core says how low each
//! allocation may go, `floor`), and put into words for the zone gauges — "net_rx:
//! GFP_ATOMIC floor 3/8·min" or "kswapd0: PF_MEMALLOC, no floor". Nothing here decides a
//! floor; it only names the fraction of min the core reported.

use crate::sim::event::Event;

/// How far back (ticks = ms) an allocation below min still marks its floor on the gauge.
pub const RECENT_TICKS: u64 = 100;
/// Floors marked per zone at most (the most recent distinct ones).
pub const PER_ZONE_MAX: usize = 2;

/// One recent allocation below min.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FloorMark {
    pub zone: usize,
    pub task: usize,
    /// Pages: free may go down to here for this allocation.
    pub floor: u64,
    /// The tick of the step that made the allocation.
    pub tick: u64,
    /// What let it below min, as the core reported it.
    pub reason: &'static str,
}

/// The most recent allocations below min visible at cursor `now` (events of ticks
/// `now - RECENT_TICKS ..= now - 1`), one per distinct (zone, floor), at most
/// [`PER_ZONE_MAX`] per zone, the latest first. `events` is sorted by tick.
pub fn recent(events: &[(u64, Event)], now: u64) -> Vec<FloorMark> {
    let end = events.partition_point(|(t, _)| *t < now);
    let from = now.saturating_sub(RECENT_TICKS);
    let mut out: Vec<FloorMark> = Vec::new();
    for (t, ev) in events[..end].iter().rev() {
        if *t < from {
            break;
        }
        if let Event::ReserveUsed {
            task,
            zone,
            floor,
            reason,
            ..
        } = ev
        {
            let seen = out.iter().filter(|m| m.zone == *zone).count();
            if seen < PER_ZONE_MAX && !out.iter().any(|m| m.zone == *zone && m.floor == *floor) {
                out.push(FloorMark {
                    zone: *zone,
                    task: *task,
                    floor: *floor,
                    tick: *t,
                    reason,
                });
            }
        }
    }
    out
}

/// The floor in words: what allowed the allocation below min and what fraction of min
/// it may reach ("ALLOC_HIGH|ALLOC_HARDER (GFP_ATOMIC): floor 3/8·min = 543").
pub fn describe(floor: u64, min: u64, reason: &str) -> String {
    if floor == 0 {
        return format!("{reason}: no floor");
    }
    let near = |num: u64, den: u64| floor.abs_diff(min * num / den) <= 1;
    let fraction = if near(3, 8) {
        "3/8·min"
    } else if near(1, 2) {
        "1/2·min"
    } else if near(3, 4) {
        "3/4·min"
    } else {
        "floor"
    };
    let reason = if reason == "ALLOC_HIGH|ALLOC_HARDER" {
        "GFP_ATOMIC"
    } else {
        reason
    };
    if fraction == "floor" {
        format!("{reason}: floor {floor} pages")
    } else {
        format!("{reason}: floor {fraction} = {floor}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn used(task: usize, zone: usize, floor: u64) -> Event {
        Event::ReserveUsed {
            task,
            zone,
            pages: 1,
            free_after: 100,
            floor,
            reason: if floor == 0 {
                "PF_MEMALLOC"
            } else {
                "ALLOC_HIGH|ALLOC_HARDER"
            },
        }
    }

    #[test]
    fn recent_keeps_the_latest_distinct_floors_per_zone() {
        let events = vec![
            (10, used(1, 0, 543)),
            (200, used(2, 0, 0)),
            (205, used(3, 0, 543)),
            (206, used(4, 0, 0)),
            (207, used(5, 1, 0)),
            (300, used(6, 0, 0)),
        ];
        let marks = recent(&events, 250);
        assert_eq!(
            marks
                .iter()
                .map(|m| (m.zone, m.task, m.floor))
                .collect::<Vec<_>>(),
            vec![(1, 5, 0), (0, 4, 0), (0, 3, 543)]
        );
        assert!(
            recent(&events, 10).is_empty(),
            "an event shows once its tick is past"
        );
        assert_eq!(recent(&events, 11).len(), 1);
        assert!(recent(&events, 111).is_empty(), "old dips are forgotten");
    }

    #[test]
    fn floors_are_named() {
        assert_eq!(describe(0, 1448, "PF_MEMALLOC"), "PF_MEMALLOC: no floor");
        assert_eq!(describe(0, 1448, "TIF_MEMDIE"), "TIF_MEMDIE: no floor");
        assert_eq!(
            describe(543, 1448, "ALLOC_HIGH|ALLOC_HARDER"),
            "GFP_ATOMIC: floor 3/8·min = 543"
        );
        assert_eq!(
            describe(724, 1448, "ALLOC_HIGH"),
            "ALLOC_HIGH: floor 1/2·min = 724"
        );
        assert_eq!(
            describe(1086, 1448, "ALLOC_HARDER"),
            "ALLOC_HARDER: floor 3/4·min = 1086"
        );
        assert_eq!(
            describe(100, 1448, "ALLOC_HARDER"),
            "ALLOC_HARDER: floor 100 pages"
        );
    }
}
