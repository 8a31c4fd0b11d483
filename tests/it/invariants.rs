//! Goal: the model never creates or loses a page. Method: run every built-in scenario
//! under its own preset and the two oldest and newest presets, checking the invariants of
//! `Sim::check_invariants` after every tick.

use pressure_lab::scenario;
use pressure_lab::sim::{policy, Sim};

#[test]
fn invariants_hold_every_tick() {
    for name in scenario::builtin_names() {
        let sc = scenario::validate(scenario::builtin(name).unwrap()).unwrap();
        for preset in [sc.file.default_preset.as_str(), "linux-2.6.33", "linux-4.9"] {
            let knobs = (policy::preset(preset).unwrap().knobs)();
            let mut sim = Sim::new(sc.config.clone(), knobs);
            let mut ticks = 0;
            while !sim.is_finished() && ticks < 30_000 {
                sim.step();
                ticks += 1;
                if let Err(e) = sim.check_invariants() {
                    panic!("{name} under {preset}: {e}");
                }
            }
            assert!(ticks > 0);
        }
    }
}
