//! What a pane computes in the browser, callable from node: a built-in scenario under its
//! default policy or a named preset (`swap-over-nbd@linux-3.5`: what a toggle computes),
//! run to its end either by the simulation core alone or through the UI's [`Recording`]
//! (events, lanes, chart points, snapshots). `scripts/wasm-bench.sh` builds it with the
//! browser's profile and wasm-opt flags and times it in V8, where the page's own rendering
//! and scheduling do not blur the numbers (BENCHMARKS.md, "In V8").

use pressure_lab::scenario;
use pressure_lab::share::recording::Recording;
use pressure_lab::share::url;
use pressure_lab::sim::Sim;

/// Runs built-in scenario `name` (`scenario` or `scenario@preset`) to its end; returns the
/// ticks computed (0 for an unknown scenario or preset, so a typo in the driver shows up as
/// a zero rather than a trap).
pub fn run_to_end(name: &str, record: bool) -> u64 {
    let (scenario_name, preset) = match name.split_once('@') {
        Some((s, p)) => (s, Some(p)),
        None => (name, None),
    };
    let Some(file) = scenario::builtin(scenario_name) else {
        return 0;
    };
    let Ok(sc) = scenario::validate(file) else {
        return 0;
    };
    let knobs = match preset {
        None => sc.knobs.clone(),
        // The preset's knobs with the scenario's own settings on top, as the page does.
        Some(p) => match url::knobs_for(scenario_name, p) {
            Some(knobs) => knobs,
            None => return 0,
        },
    };
    let mut sim = Sim::new(sc.config.clone(), knobs);
    if record {
        let mut rec = Recording::new(sim, &sc.file.chapter_starts());
        rec.advance(u64::MAX);
        rec.computed_tick()
    } else {
        sim.run(u64::MAX);
        sim.tick()
    }
}

/// The built-in scenarios' names, comma-separated.
pub fn scenario_names() -> String {
    scenario::builtin_names().join(",")
}

#[cfg(target_arch = "wasm32")]
mod exports {
    use wasm_bindgen::prelude::wasm_bindgen;

    #[wasm_bindgen]
    pub fn run(name: &str, record: bool) -> u64 {
        super::run_to_end(name, record)
    }

    #[wasm_bindgen]
    pub fn names() -> String {
        super::scenario_names()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recording_and_core_alone_end_at_the_same_tick() {
        let core = run_to_end("watermarks-101", false);
        assert!(core > 0);
        assert_eq!(run_to_end("watermarks-101", true), core);
    }

    #[test]
    fn an_unknown_name_computes_nothing() {
        assert_eq!(run_to_end("no-such-scenario", false), 0);
        assert!(scenario_names().split(',').any(|n| n == "swap-over-nbd"));
        assert_eq!(run_to_end("watermarks-101@no-such-preset", false), 0);
    }

    #[test]
    fn a_preset_changes_the_run() {
        let default = run_to_end("swap-over-nbd", false);
        assert_eq!(run_to_end("swap-over-nbd@linux-3.6", false), default);
        assert_ne!(run_to_end("swap-over-nbd@linux-3.5", false), default);
    }
}
