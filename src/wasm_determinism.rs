//! Goal: the core gives the same trace in the browser as natively. Method: run built-in
//! scenarios in wasm (headless Chromium, `wasm-bindgen-test`) and compare the rendered
//! golden-trace lines with the files the native test suite checks
//! (`tests/golden/*.trace`).

use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

use crate::scenario;
use crate::sim::Sim;
use crate::trace;

wasm_bindgen_test_configure!(run_in_browser);

fn check(name: &str, golden: &str) {
    let sc = scenario::validate(scenario::builtin(name).unwrap()).unwrap();
    let mut sim = Sim::new(sc.config.clone(), sc.knobs.clone());
    assert_eq!(
        trace::render(&mut sim, 1000),
        golden,
        "{name}: wasm trace differs from the native golden"
    );
}

#[wasm_bindgen_test]
fn watermarks_101_matches_native() {
    check(
        "watermarks-101",
        include_str!("../tests/golden/watermarks-101.trace"),
    );
}

#[wasm_bindgen_test]
fn nfsd_loopback_matches_native() {
    check(
        "nfsd-loopback",
        include_str!("../tests/golden/nfsd-loopback.trace"),
    );
}

#[wasm_bindgen_test]
fn direct_reclaim_writepage_xfs_matches_native() {
    check(
        "direct-reclaim-writepage-xfs",
        include_str!("../tests/golden/direct-reclaim-writepage-xfs.trace"),
    );
}
