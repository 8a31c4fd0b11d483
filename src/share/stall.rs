//! Words for a stall that no wait-for chain explains (a livelock, or waits on timers): who
//! of the tasks that must finish is doing what, what moved during the freeze (writeback,
//! dropped packets, reclaim's scans and frees: counter differences since the stall was
//! found), and where free memory stands against the floors of §2.2. Read from the `Sim`
//! at the cursor; nothing here is simulation.

use crate::sim::sample::{task_state, TaskState};
use crate::sim::watermarks::order0_floor;
use crate::sim::Sim;

use super::pages;
use super::url::format_seconds;

/// The "Why is it stuck?" text for a stall without a chain, as of `sim`: the cursor while
/// the freeze lasts; once the workload moved again at `resumed`, the freeze's last tick
/// (what the cursor shows then — tasks exited, memory back — no longer explains it).
pub fn without_chain(sim: &Sim, stalled_since: u64, resumed: Option<u64>) -> String {
    let cfg = sim.config();
    let st = sim.state();
    let mut spinning = Vec::new();
    let mut asleep = Vec::new();
    let mut in_reclaim = false;
    for (t, tc) in cfg.tasks.iter().enumerate() {
        if !tc.must_finish || st.tasks[t].exited {
            continue;
        }
        match task_state(&st.tasks[t], sim.tick()) {
            TaskState::DirectReclaim | TaskState::Running => {
                spinning.push(tc.name.as_str());
                in_reclaim |= st.tasks[t].reclaim.is_some() || st.tasks[t].alloc.is_some();
            }
            TaskState::Sleeping(f) => asleep.push(format!("{} sleeps in {}", tc.name, f.name())),
            TaskState::Killed | TaskState::Exited => {}
        }
    }
    let mut who = Vec::new();
    if !spinning.is_empty() {
        let (pronoun, s) = if spinning.len() == 1 {
            ("it", "s")
        } else {
            ("they", "")
        };
        let (verb, rest) = if in_reclaim {
            ("loop", "through direct reclaim, which frees nothing")
        } else {
            ("keep", "running without getting anywhere")
        };
        who.push(format!(
            "{} never sleep{s} — {pronoun} {verb}{s} {rest} (a livelock: nobody waits on anybody)",
            spinning.join(", ")
        ));
    }
    if !asleep.is_empty() {
        let each = if asleep.len() == 1 { "" } else { "each " };
        who.push(format!("{}, {each}on a timer or on I/O", asleep.join(", ")));
    }
    let since = format_seconds(stalled_since);
    let mut words = match resumed {
        None => format!("No task that must finish has made progress since {since} s, and no closed wait-for chain explains it"),
        Some(r) => format!(
            "No task that must finish made progress from {since} s to {} s, and no closed wait-for chain explains it.{}",
            format_seconds(r),
            if who.is_empty() { String::new() } else { format!(" At {} s", format_seconds(sim.tick())) }
        ),
    };
    // `who` is empty when everybody that must finish has exited: no dangling colon.
    if !who.is_empty() {
        words.push_str(": ");
        words.push_str(&who.join("; "));
        words.push('.');
    } else if resumed.is_none() {
        words.push('.');
    }
    if let Some((found, before)) = &st.counters_at_stall {
        if sim.tick() > *found {
            let c = &st.counters;
            words.push_str(&format!(
                " From {} s to {} s: {} pages written back, {} packets dropped for want of memory; direct reclaim scanned {} pages and freed {}.",
                format_seconds(*found),
                format_seconds(sim.tick()),
                pages(c.pages_written_back - before.pages_written_back),
                pages(c.packets_dropped - before.packets_dropped),
                pages(c.pgscan_direct - before.pgscan_direct),
                pages(c.pgsteal_direct - before.pgsteal_direct),
            ));
        }
    }
    for (z, zone) in st.zones.iter().enumerate() {
        let min = st.wmarks[z].min();
        // __zone_watermark_ok's cuts for GFP_ATOMIC (ALLOC_HIGH, then ALLOC_HARDER): 3/8·min.
        let atomic_floor = order0_floor(min, true, true, false).unwrap_or(0);
        let name = &cfg.zones[z].name;
        if zone.free <= atomic_floor {
            words.push_str(&format!(
                " {name}: {} pages free, at or below the GFP_ATOMIC floor ({} = 3/8·min): even atomic allocations (packet receive) fail there.",
                pages(zone.free),
                pages(atomic_floor)
            ));
        } else if zone.free < min {
            words.push_str(&format!(
                " {name}: {} pages free, below min ({}): only reserve-entitled allocations succeed.",
                pages(zone.free),
                pages(min)
            ));
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Swap over NBD under 3.5: the readers spin in direct reclaim at the GFP_ATOMIC floor,
    /// no swap write completes and replies are dropped — what the words must say.
    #[test]
    fn the_3_5_network_swap_lockup_in_words() {
        let sc =
            crate::scenario::validate(crate::scenario::builtin("swap-over-nbd").unwrap()).unwrap();
        let knobs = (crate::sim::policy::preset("linux-3.5").unwrap().knobs)();
        let mut sim = Sim::new(sc.config.clone(), knobs);
        sim.run(sc.config.duration_ticks);
        let o = sim.state().outcome.clone().expect("an outcome");
        assert_eq!(o.kind, crate::sim::outcome::OutcomeKind::Stalled);
        assert!(o.chain.is_empty(), "{:?}", o.chain);
        let words = without_chain(&sim, o.at_tick, None);
        assert!(
            words.contains("reader3, reader4, reader5, reader6, reader7 never sleep"),
            "{words}"
        );
        assert!(words.contains("loop through direct reclaim"), "{words}");
        assert!(words.contains(" 0 pages written back"), "{words}");
        assert!(
            words.contains("at or below the GFP_ATOMIC floor (543 = 3/8·min)"),
            "{words}"
        );
        let dropped: u64 = words
            .split(" packets dropped")
            .next()
            .and_then(|w| w.rsplit(' ').next())
            .and_then(|n| n.replace('\u{202F}', "").parse().ok())
            .expect("a count of dropped packets");
        assert!(dropped > 0, "{words}");
    }

    /// dm-crypt swap under 4.8 freezes for a stall window, then moves again and completes.
    /// Told at the run's end the words had nobody to name ("explains it: .": the hog had
    /// exited); told at the freeze's last tick they name the hog and what moved meanwhile.
    #[test]
    fn a_stall_that_ended_is_told_as_of_its_last_frozen_tick() {
        let sc =
            crate::scenario::validate(crate::scenario::builtin("dm-crypt-swap").unwrap()).unwrap();
        let knobs = (crate::sim::policy::preset("linux-4.8").unwrap().knobs)();
        let mut sim = Sim::new(sc.config.clone(), knobs.clone());
        sim.run(sc.config.duration_ticks);
        let o = sim.state().outcome.clone().expect("an outcome");
        assert_eq!(o.kind, crate::sim::outcome::OutcomeKind::Stalled);
        let resumed = sim.state().stall_resumed_at.expect("the freeze ended");
        let at_end = without_chain(&sim, o.at_tick, Some(resumed));
        assert!(!at_end.contains(": ."), "{at_end}");
        let mut frozen = Sim::new(sc.config.clone(), knobs);
        frozen.run(resumed - 1);
        assert_eq!(frozen.tick(), resumed - 1);
        let words = without_chain(&frozen, o.at_tick, Some(resumed));
        let span = format!(
            "made progress from {} s to {} s",
            format_seconds(o.at_tick),
            format_seconds(resumed)
        );
        assert!(words.contains(&span), "{words}");
        assert!(
            words.contains(&format!(
                "At {} s: hog sleeps in throttle_vm_writeout, on a timer",
                format_seconds(resumed - 1)
            )),
            "{words}"
        );
    }
}
