//! Goal: the core is deterministic. Method: run every built-in scenario twice and compare
//! trace hashes; check that the seed matters where the scenario draws random numbers; and
//! that snapshot → JSON → restore → continue gives the trace of an uninterrupted run.

use pressure_lab::scenario;
use pressure_lab::sim::{Sim, Snapshot};

use crate::{preset_knobs, run, SCALES};

#[test]
fn same_input_same_trace_hash() {
    for name in scenario::builtin_names() {
        let sc = scenario::builtin(name).unwrap();
        let a = run(name, &sc.default_preset, None, &[]);
        let b = run(name, &sc.default_preset, None, &[]);
        assert_eq!(a.trace_hash, b.trace_hash, "{name}");
        assert_eq!(a.trace_hash.len(), 16, "{name}: 16 hex digits");
        assert_eq!(a.outcome, b.outcome, "{name}");
    }
}

#[test]
fn the_seed_drives_the_stack_model() {
    let a = run("direct-reclaim-writepage-xfs", "linux-2.6.33", Some(1), &[]);
    let b = run("direct-reclaim-writepage-xfs", "linux-2.6.33", Some(2), &[]);
    assert_ne!(a.trace_hash, b.trace_hash);
}

#[test]
fn snapshot_restore_replays_exactly() {
    for name in ["dm-crypt-swap", "nfsd-loopback", "swap-over-nbd"] {
        let sc = scenario::validate(scenario::builtin(name).unwrap()).unwrap();
        let mut straight = Sim::new(sc.config.clone(), sc.knobs.clone());
        straight.run(9_000);
        let mut first = Sim::new(sc.config.clone(), sc.knobs.clone());
        first.run(6_543);
        let json = serde_json::to_string(&first.snapshot()).unwrap();
        let snapshot: Snapshot = serde_json::from_str(&json).unwrap();
        let mut resumed = Sim::new(sc.config.clone(), sc.knobs.clone());
        resumed.restore(&snapshot);
        resumed.run(9_000);
        assert_eq!(
            resumed.state().trace_hash,
            straight.state().trace_hash,
            "{name}"
        );
        assert_eq!(resumed.sample(), straight.sample(), "{name}");
    }
}

#[test]
fn a_live_knob_change_is_part_of_the_trace() {
    let sc = scenario::validate(scenario::builtin("dm-crypt-swap").unwrap()).unwrap();
    let mut a = Sim::new(sc.config.clone(), sc.knobs.clone());
    let mut b = Sim::new(sc.config.clone(), sc.knobs.clone());
    a.run(5_000);
    b.run(5_000);
    let mut k = b.knobs().clone();
    k.set("mempool_variant", "neilbrown").unwrap();
    b.set_knobs(k);
    a.run(20_000);
    b.run(20_000);
    assert_ne!(a.state().trace_hash, b.state().trace_hash);
}

/// vmscan's pass for direct reclaimers that keep every page they scan is a shortcut, not a
/// model: every built-in scenario under every preset (and the network scenarios at half
/// and double RAM) gives the same trace with it and without it.
#[test]
fn fast_paths_change_no_trace() {
    let trace = |file: scenario::ScenarioFile, preset: &str, fast: bool| {
        let sc = scenario::validate(file).unwrap();
        let mut sim = Sim::new(sc.config.clone(), preset_knobs(&sc, preset));
        if !fast {
            sim = sim.without_fast_paths();
        }
        sim.run(sc.config.duration_ticks);
        (sim.state().trace_hash, sim.tick())
    };
    let presets = pressure_lab::sim::policy::preset_names();
    let mut checked = 0;
    for name in scenario::builtin_names() {
        let scales: &[(u64, u64)] = if name.starts_with("swap-over") {
            &SCALES
        } else {
            &[(1, 1)]
        };
        for &(num, den) in scales {
            for &preset in &presets {
                let file = || scenario::builtin(name).unwrap().scaled(num, den);
                let fast = trace(file(), preset, true);
                let general = trace(file(), preset, false);
                assert_eq!(fast, general, "{name} × {num}/{den} under {preset}");
                checked += 1;
            }
        }
    }
    assert!(checked >= scenario::builtin_names().len() * presets.len());
}
