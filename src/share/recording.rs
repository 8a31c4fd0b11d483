//! The recorded run: [`pressure_lab_record::recording`] (its own crate, so the browser
//! build can optimise it for speed: ARCHITECTURE.md). Its tests live here, where the
//! built-in scenarios are.

pub use pressure_lab_record::recording::*;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::timeline::Point;
    use crate::scenario;
    use crate::sim::event::Event;
    use crate::sim::Sim;

    fn recording(name: &str) -> Recording {
        let sc = scenario::validate(scenario::builtin(name).unwrap()).unwrap();
        Recording::new(
            Sim::new(sc.config.clone(), sc.knobs.clone()),
            &sc.file.chapter_starts(),
        )
    }

    /// Seeking anywhere, forwards or backwards, gives the state an uninterrupted run has.
    #[test]
    fn seek_is_exact() {
        let mut rec = recording("watermarks-101");
        rec.advance(u64::MAX);
        assert!(rec.is_done());
        let mut straight = rec.base().clone();
        let mut cursor = rec.base().clone();
        for t in [0u64, 1, 700, 255, 256, 257, 4000, 3, 1999] {
            straight = rec.base().clone();
            straight.run(t);
            rec.seek(&mut cursor, t);
            assert_eq!(cursor.tick(), t);
            assert_eq!(cursor.snapshot(), straight.snapshot(), "tick {t}");
        }
        drop(straight);
    }

    /// A fork keeps the past and changes the future; undo restores the first branch.
    #[test]
    fn fork_keeps_the_past_and_undo_restores() {
        let mut rec = recording("dirty-throttling-101");
        rec.advance(u64::MAX);
        let end_a = rec.computed_tick();
        let events_a = rec.events().len();
        let before: Vec<Point> = rec
            .points()
            .iter()
            .filter(|p| p.tick < 3000)
            .cloned()
            .collect();
        rec.fork(3000, "dirty_ratio", "5");
        rec.advance(u64::MAX);
        let kept: Vec<Point> = rec
            .points()
            .iter()
            .filter(|p| p.tick < 3000)
            .cloned()
            .collect();
        assert_eq!(before, kept, "the past stays");
        assert_eq!(rec.sim_at(3001).knobs().dirty_ratio, 5);
        assert_ne!(rec.sim_at(2999).knobs().dirty_ratio, 5);
        rec.undo_fork();
        rec.advance(u64::MAX);
        assert_eq!(rec.computed_tick(), end_a);
        assert_eq!(rec.events().len(), events_a);
    }

    /// A seek after a fork replays the fork: the cursor sees what the recording computed.
    #[test]
    fn seek_after_fork_matches_recorded_points() {
        let mut rec = recording("watermarks-101");
        rec.advance(u64::MAX);
        rec.fork(1000, "min_free_kbytes", "8192");
        rec.advance(u64::MAX);
        for t in [999u64, 1000, 1500, 2048, 3333] {
            let sim = rec.sim_at(t);
            let p = rec.point_at(t).unwrap();
            assert_eq!(p.tick, t);
            assert_eq!(*p, Point::from_sample(&sim.sample()), "tick {t}");
        }
    }

    #[test]
    fn chapters_resolve_where_their_event_first_happens() {
        let mut rec = recording("dm-crypt-swap");
        rec.advance(20_000);
        // "Filling memory" is pinned to 0 ms; "Below the reserve" waits for the first
        // reserve_used event and starts on the tick after it (where it becomes visible).
        assert_eq!(rec.chapters()[0], Some(0));
        let first_reserve = rec
            .events()
            .iter()
            .find(|(_, ev)| ev.kind() == "reserve_used")
            .map(|(t, _)| t + 1);
        assert!(first_reserve.is_some_and(|t| t > 0));
        assert_eq!(rec.chapters()[3], first_reserve);
    }

    /// A fork made late in a computed run leaves the chapters, events and kernel log that
    /// the same fork set up front gives: what the fork throws away is recomputed.
    #[test]
    fn a_fork_after_the_fact_matches_the_fork_from_the_start() {
        let mut late = recording("dm-crypt-swap");
        late.advance(40_000);
        late.fork(2_500, "mempool_variant", "neilbrown");
        late.advance(u64::MAX);
        // The same fork, known before anything is computed (as a shared link sets it).
        let mut early = recording("dm-crypt-swap");
        early.set_forks(late.forks().to_vec());
        early.advance(u64::MAX);
        // The knob change is the first event of its tick, and the tick before it is not
        // repeated (it was, when set_knobs kept the last step's events).
        let at_fork: Vec<&Event> = late
            .events()
            .iter()
            .filter(|(t, _)| *t == 2_500)
            .map(|(_, ev)| ev)
            .collect();
        assert!(matches!(at_fork[0], Event::KnobChanged { .. }));
        assert_eq!(
            at_fork
                .iter()
                .filter(|ev| ev.kind() == "knob_changed")
                .count(),
            1
        );
        assert!(early
            .chapters()
            .iter()
            .any(|c| c.is_some_and(|t| t > 2_500)));
        assert_eq!(late.chapters(), early.chapters());
        assert_eq!(late.events(), early.events());
        assert_eq!(late.klog().entries(), early.klog().entries());
        assert_eq!(late.functions(), early.functions());
    }

    /// The kernel log's ratelimit survives a fork: swap over NBD under 3.5 logs NET_RX's
    /// allocation failures from 29.5 s on; a fork at 42 s, inside a 5 s interval with
    /// reports already suppressed, computed late gives the log the same fork set up front
    /// gives (the truncated log replays the count of the reports it keeps).
    #[test]
    fn a_late_fork_keeps_the_kernel_logs_ratelimit() {
        let sc = scenario::validate(scenario::builtin("swap-over-nbd").unwrap()).unwrap();
        let knobs = crate::share::url::knobs_for("swap-over-nbd", "linux-3.5").unwrap();
        let new = || {
            Recording::new(
                Sim::new(sc.config.clone(), knobs.clone()),
                &sc.file.chapter_starts(),
            )
        };
        let mut late = new();
        late.advance(60_000);
        // A knob this run does not depend on (nothing dirties page cache): the failures
        // go on after the fork as before it.
        late.fork(42_000, "dirty_ratio", "30");
        late.advance(u64::MAX);
        let mut early = new();
        early.set_forks(late.forks().to_vec());
        early.advance(u64::MAX);
        let suppressed_after_fork = late
            .klog()
            .entries()
            .iter()
            .filter(|e| e.tick > 42_000 && e.lines[0].contains("callbacks suppressed"))
            .count();
        assert!(suppressed_after_fork >= 2, "{suppressed_after_fork}");
        assert_eq!(late.klog().entries(), early.klog().entries());
    }

    /// Past EVENTS_MAX the event list stops; the kernel log, chapters and function list
    /// still see everything, and a fork before the cut makes room again.
    #[test]
    fn the_event_list_is_bounded_and_the_rest_still_counts() {
        let mut full = recording("dm-crypt-swap");
        let mut capped = recording("dm-crypt-swap").with_events_max(1_000);
        full.advance(30_000);
        capped.advance(30_000);
        assert!(full.events().len() > 2_000, "{}", full.events().len());
        assert_eq!(capped.events(), &full.events()[..1_000]);
        assert_eq!(capped.events_full_at(), Some(full.events()[1_000].0));
        assert_eq!(full.events_full_at(), None);
        assert_eq!(capped.chapters(), full.chapters());
        assert_eq!(capped.functions(), full.functions());
        assert_eq!(capped.klog().entries(), full.klog().entries());
        assert_eq!(capped.points(), full.points());
        // A fork before the cut: the kept events before it stay and the list fills again.
        let cut = capped.events_full_at().unwrap();
        let at = capped.events()[500].0;
        for rec in [&mut full, &mut capped] {
            rec.fork(at, "mempool_variant", "neilbrown");
            rec.advance(30_000);
        }
        assert!(at < cut);
        assert_eq!(capped.events(), &full.events()[..1_000]);
        assert_eq!(capped.events_full_at(), Some(full.events()[1_000].0));
    }
}
