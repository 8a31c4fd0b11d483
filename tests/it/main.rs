//! Integration tests, one binary (matklad's layout): each module states its goal first.
//!
//! - `determinism`: same input, same trace hash; snapshots restore exactly.
//! - `dirty_limits`: the PF_LESS_THROTTLE thresholds per version.
//! - `golden`: per-scenario trace lines, reviewed as diffs.
//! - `invariants`: page conservation and friends after every tick of every scenario.
//! - `lanes`: a recording's task lanes, forks included, are every tick's task states.
//! - `lowmem`: ZONE_DMA's lowmem_reserve holds against all but ALLOC_NO_WATERMARKS.
//! - `bad_input`: mutated scenario files, drawn URLs and edits are refused by field name or work.
//! - `properties`: invariants on drawn machines (proptest).
//! - `reclaim`: too_many_isolated throttles direct reclaim, as the kernel does; reclaim
//!   wakes the flusher only when something is dirty.
//! - `scenarios`: bad scenario files are refused with the field, value and allowed range.
//! - `stacks`: a sleeping task's call stack is the one the seed traces show.
//! - `cli`: the command-line contract other tools rely on.
//! - `matrix`: the outcome matrix of the seed scenarios (issue "The seed situations").
//! - `tidy`: no scenario or preset name steers the core; every scenario file is built in.

mod bad_input;
mod cli;
mod congestion;
mod determinism;
mod dirty_limits;
mod golden;
mod invariants;
mod lanes;
mod lowmem;
mod matrix;
mod properties;
mod reclaim;
mod scenarios;
mod stacks;
mod tidy;

use pressure_lab::report::{self, RunSummary};
use pressure_lab::scenario;
use pressure_lab::sim::policy;

/// Runs a built-in scenario under a preset (keeping the scenario's own knob settings),
/// with optional seed and `knob=value` overrides. The one place tests run the model.
pub fn run(name: &str, preset: &str, seed: Option<u64>, sets: &[(&str, &str)]) -> RunSummary {
    run_file(
        scenario::builtin(name).expect("built-in"),
        preset,
        seed,
        sets,
    )
}

pub fn run_file(
    file: scenario::ScenarioFile,
    preset: &str,
    seed: Option<u64>,
    sets: &[(&str, &str)],
) -> RunSummary {
    let mut sc = scenario::validate(file).expect("valid");
    if let Some(seed) = seed {
        sc.config.seed = seed;
    }
    let mut knobs = preset_knobs(&sc, preset);
    for (k, v) in sets {
        knobs.set(k, v).expect("test knob");
    }
    report::run(&sc, knobs, preset, None).1
}

/// A preset's knobs with the scenario's own knob settings on top, as the CLI resolves them.
pub fn preset_knobs(sc: &scenario::Scenario, preset: &str) -> policy::Knobs {
    let mut knobs = (policy::preset(preset).expect("preset").knobs)();
    for (k, v) in &sc.file.knobs {
        knobs.set(k, v).expect("scenario knob");
    }
    knobs
}

/// RAM (with the workload) halved, as written, doubled: the robustness check of the matrix.
pub const SCALES: [(u64, u64); 3] = [(1, 2), (1, 1), (2, 1)];

/// As [`run`], with the scenario scaled by `num/den` (`ScenarioFile::scaled`).
pub fn run_scaled(
    name: &str,
    preset: &str,
    seed: Option<u64>,
    (num, den): (u64, u64),
    sets: &[(&str, &str)],
) -> RunSummary {
    let file = scenario::builtin(name).expect("built-in").scaled(num, den);
    run_file(file, preset, seed, sets)
}

/// The index of the device named `name` in a validated scenario's config.
pub fn device_index(config: &pressure_lab::sim::config::Config, name: &str) -> usize {
    config
        .devices
        .iter()
        .position(|d| d.name == name)
        .unwrap_or_else(|| panic!("no device {name}"))
}
