//! The event log's filter: which recorded events match what the viewer typed, kept as an
//! index that grows with the recording instead of being recomputed on every frame.
//!
//! A run records up to a few hundred thousand events (swap-over-nbd: 166 000 in 41 s).
//! Matching each of them by formatting it, on every frame while playing, took 200–450 ms
//! a frame in Chromium when the filter matched little — the page froze. Here a filter is
//! checked against each event once, without formatting or allocating, and the log asks
//! the index for the newest matches before the cursor by binary search.

use crate::sim::config::Config;
use crate::sim::event::Event;

use super::recording::Recording;

/// Whether `ev` matches `filter`: the filter is a substring of the event's kernel function,
/// its kind (`reserve_used`), the name of a task, zone, pool or device it refers to, or one
/// of its text fields (a reason, a GFP mask, a knob or its value). Empty matches all.
pub fn matches(cfg: &Config, ev: &Event, filter: &str) -> bool {
    if filter.is_empty() || ev.function().contains(filter) || ev.kind().contains(filter) {
        return true;
    }
    let m = ev.mentions();
    let named = |name: Option<&str>| name.is_some_and(|n| n.contains(filter));
    m.tasks
        .iter()
        .flatten()
        .any(|&t| named(cfg.tasks.get(t).map(|t| t.name.as_str())))
        || named(
            m.zone
                .and_then(|z| cfg.zones.get(z))
                .map(|z| z.name.as_str()),
        )
        || named(
            m.pool
                .and_then(|p| cfg.pools.get(p))
                .map(|p| p.name.as_str()),
        )
        || named(
            m.device
                .and_then(|d| cfg.devices.get(d))
                .map(|d| d.name.as_str()),
        )
        || m.texts.iter().any(|t| named(*t))
}

/// The positions in [`Recording::events`] of the events matching one filter, brought up to
/// date with [`FilterIndex::update`] before each use.
#[derive(Debug, Default)]
pub struct FilterIndex {
    filter: String,
    /// The recording's [`Recording::generation`] the index was built against: a fork
    /// truncates the events, and the index starts over.
    generation: u64,
    /// How many of the recording's events have been checked.
    scanned: usize,
    /// Positions of the matching events, ascending (so their ticks ascend too).
    matched: Vec<usize>,
}

impl FilterIndex {
    /// Checks the events recorded since the last call (all of them after a fork or a new
    /// filter). An empty filter keeps no positions: every event matches.
    pub fn update(&mut self, rec: &Recording, filter: &str) {
        let events = rec.events();
        if self.filter != filter
            || self.generation != rec.generation()
            || self.scanned > events.len()
        {
            self.filter = filter.to_string();
            self.generation = rec.generation();
            self.scanned = 0;
            self.matched.clear();
        }
        if !filter.is_empty() {
            let cfg = rec.base().config();
            let start = self.scanned;
            self.matched.extend(
                events[start..]
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, ev))| matches(cfg, ev, filter))
                    .map(|(i, _)| start + i),
            );
        }
        self.scanned = events.len();
    }

    /// How many matching events come before `tick` (emitted by a step that started
    /// before it).
    pub fn count_before(&self, rec: &Recording, tick: u64) -> usize {
        let events = rec.events();
        if self.filter.is_empty() {
            events.partition_point(|(t, _)| *t < tick)
        } else {
            self.matched.partition_point(|&i| events[i].0 < tick)
        }
    }

    /// The position in [`Recording::events`] of the `k`-th matching event (ascending).
    pub fn nth(&self, k: usize) -> usize {
        if self.filter.is_empty() {
            k
        } else {
            self.matched[k]
        }
    }

    /// The newest `n` matching events before `tick`, newest first (positions into
    /// [`Recording::events`]).
    pub fn latest_before(&self, rec: &Recording, tick: u64, n: usize) -> Vec<usize> {
        let end = self.count_before(rec, tick);
        (end.saturating_sub(n)..end)
            .rev()
            .map(|k| self.nth(k))
            .collect()
    }

    /// The first matching event at or after `tick`.
    pub fn first_from(&self, rec: &Recording, tick: u64) -> Option<usize> {
        let k = self.count_before(rec, tick);
        let total = if self.filter.is_empty() {
            self.scanned
        } else {
            self.matched.len()
        };
        (k < total).then(|| self.nth(k))
    }

    /// The last matching event before `tick`.
    pub fn last_before(&self, rec: &Recording, tick: u64) -> Option<usize> {
        self.count_before(rec, tick)
            .checked_sub(1)
            .map(|k| self.nth(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario;
    use crate::sim::Sim;

    /// dm-crypt-swap under its default preset, linux-4.7.
    fn recording() -> Recording {
        let sc = scenario::validate(scenario::builtin("dm-crypt-swap").unwrap()).unwrap();
        Recording::new(
            Sim::new(sc.config.clone(), sc.knobs.clone()),
            &sc.file.chapter_starts(),
        )
    }

    /// Positions of the matching events, found the slow way.
    fn brute(rec: &Recording, filter: &str) -> Vec<usize> {
        let cfg = rec.base().config();
        (0..rec.events().len())
            .filter(|&i| matches(cfg, &rec.events()[i].1, filter))
            .collect()
    }

    fn indexed(idx: &FilterIndex, rec: &Recording) -> Vec<usize> {
        let n = idx.count_before(rec, u64::MAX);
        (0..n).map(|k| idx.nth(k)).collect()
    }

    #[test]
    fn a_filter_matches_functions_kinds_and_the_names_an_event_mentions() {
        let mut rec = recording();
        rec.advance(5_000);
        let cfg = rec.base().config();
        let count = |f: &str| brute(&rec, f).len();
        let kind_of = |f: &str| {
            brute(&rec, f)
                .iter()
                .map(|&i| rec.events()[i].1.kind())
                .collect::<std::collections::BTreeSet<_>>()
        };
        // A kernel function and an event kind.
        assert!(count("mempool_alloc") > 0);
        assert_eq!(
            kind_of("mempool_free"),
            ["mempool_refill"].into_iter().collect()
        );
        assert!(count("reserve_used") > 0);
        // A task, a pool and a zone by name (4.7 takes the DMA reserve for dm io).
        let kcryptd = brute(&rec, "kcryptd");
        assert!(!kcryptd.is_empty());
        assert!(kcryptd.iter().all(|&i| {
            let ev = &rec.events()[i].1;
            ev.mentions()
                .tasks
                .iter()
                .flatten()
                .any(|&t| cfg.tasks[t].name == "kcryptd")
        }));
        assert!(count("crypt-bioset") > 0);
        assert!(kind_of("DMA32").contains("reserve_used"));
        // A reason (what let the allocation below min).
        assert!(kind_of("PF_MEMALLOC").contains("reserve_used"));
        // Nothing names this.
        assert_eq!(count("no such thing"), 0);
        assert_eq!(count(""), rec.events().len());
    }

    #[test]
    fn the_index_grows_with_the_recording_and_starts_over_after_a_fork() {
        let mut rec = recording();
        let mut idx = FilterIndex::default();
        for filter in ["kcryptd", "", "throttle_vm_writeout"] {
            for _ in 0..4 {
                rec.advance(1_500);
                idx.update(&rec, filter);
                assert_eq!(indexed(&idx, &rec), brute(&rec, filter), "{filter}");
            }
        }
        let before = rec.events().len();
        rec.fork(2_000, "mempool_variant", "neilbrown");
        assert!(rec.events().len() < before);
        idx.update(&rec, "throttle_vm_writeout");
        assert_eq!(indexed(&idx, &rec), brute(&rec, "throttle_vm_writeout"));
        rec.advance(4_000);
        idx.update(&rec, "throttle_vm_writeout");
        assert_eq!(indexed(&idx, &rec), brute(&rec, "throttle_vm_writeout"));
    }

    #[test]
    fn latest_first_and_last_agree_with_the_ticks() {
        let mut rec = recording();
        rec.advance(6_000);
        let mut idx = FilterIndex::default();
        idx.update(&rec, "kcryptd");
        let all = brute(&rec, "kcryptd");
        let tick_of = |i: usize| rec.events()[i].0;
        let cut = tick_of(all[all.len() / 2]);
        let before: Vec<usize> = all.iter().copied().filter(|&i| tick_of(i) < cut).collect();
        let latest = idx.latest_before(&rec, cut, 5);
        assert_eq!(
            latest,
            before.iter().rev().take(5).copied().collect::<Vec<_>>()
        );
        assert_eq!(idx.last_before(&rec, cut), before.last().copied());
        assert_eq!(idx.first_from(&rec, cut), all.get(before.len()).copied());
        assert_eq!(idx.first_from(&rec, u64::MAX), None);
        assert_eq!(idx.last_before(&rec, 0), None);
    }
}
