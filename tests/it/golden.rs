//! Goal: every behaviour change shows up in review as a diff of readable traces.
//! Method: render each built-in scenario under its default preset as golden-trace lines
//! (legend in src/trace.rs), one per simulated second, and compare with
//! `tests/golden/<scenario>.trace`. `UPDATE_EXPECT=1 cargo test` rewrites them.

use expect_test::expect_file;
use pressure_lab::scenario;
use pressure_lab::sim::Sim;
use pressure_lab::trace;

#[test]
fn golden_traces() {
    for name in scenario::builtin_names() {
        let sc = scenario::validate(scenario::builtin(name).unwrap()).unwrap();
        let mut sim = Sim::new(sc.config.clone(), sc.knobs.clone());
        let text = trace::render(&mut sim, 1000);
        let path = format!("{}/tests/golden/{name}.trace", env!("CARGO_MANIFEST_DIR"));
        expect_file![path].assert_eq(&text);
    }
}
