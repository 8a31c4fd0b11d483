use crate::scenario;
use crate::share::recording::Recording;
use crate::sim::{policy, Sim};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};
wasm_bindgen_test_configure!(run_in_browser);
#[wasm_bindgen_test]
fn bench_recording() {
    let sc = scenario::validate(scenario::builtin("dm-crypt-swap").unwrap()).unwrap();
    for preset in ["linux-4.7+neilbrown", "linux-4.7"] {
        let knobs = (policy::preset(preset).unwrap().knobs)();
        for _ in 0..3 {
            let t = js_sys::Date::now();
            let mut sim = Sim::new(sc.config.clone(), knobs.clone());
            while !sim.is_finished() && sim.tick() < sc.config.duration_ticks {
                sim.step();
            }
            let bare = js_sys::Date::now() - t;
            let t = js_sys::Date::now();
            let mut rec = Recording::new(Sim::new(sc.config.clone(), knobs.clone()), &sc.file);
            while !rec.is_done() {
                rec.advance(1000);
            }
            let recd = js_sys::Date::now() - t;
            console_log!(
                "BENCH {preset} ticks {} bare {bare} ms recorded {recd} ms",
                sim.tick()
            );
        }
    }
}
