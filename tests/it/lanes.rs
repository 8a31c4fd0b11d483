//! Goal: a recording's task lanes are what `task_state` says on every tick, also after a
//! fork (which throws the lanes' future away and recomputes it). Method: compare them with
//! lanes built from every task's state on every tick of a run forked as it went.

use pressure_lab::scenario;
use pressure_lab::share::recording::Recording;
use pressure_lab::sim::sample::{task_state, TaskState};
use pressure_lab::sim::Sim;

type Lanes = Vec<Vec<(u64, TaskState)>>;

/// Lanes from every task's state on every tick, from `sim` at tick 0 to its end, with the
/// knob set before the step at tick `at`, as `Recording::fork` does.
fn lanes_of_every_tick(mut sim: Sim, (at, knob, value): (u64, &str, &str)) -> Lanes {
    let mut lanes: Lanes = sim
        .state()
        .tasks
        .iter()
        .map(|t| vec![(0, task_state(t, 0))])
        .collect();
    while !sim.is_finished() && sim.tick() < sim.config().duration_ticks {
        if sim.tick() == at {
            let mut knobs = sim.knobs().clone();
            knobs.set(knob, value).expect("knob");
            sim.set_knobs(knobs);
        }
        sim.step();
        let now = sim.tick();
        for (lane, t) in lanes.iter_mut().zip(&sim.state().tasks) {
            let s = task_state(t, now);
            if s != lane.last().expect("starts at tick 0").1 {
                lane.push((now, s));
            }
        }
    }
    lanes
}

#[test]
fn lanes_after_a_fork_match_a_run_forked_as_it_went() {
    for (name, at, knob, value) in [
        ("dm-crypt-swap", 1_500, "mempool_variant", "neilbrown"),
        ("swap-over-nbd", 4_000, "pfmemalloc_reserves", "off"),
        ("oom-victim-mempool", 9_000, "oom_reaper", "on"),
    ] {
        let sc = scenario::validate(scenario::builtin(name).unwrap()).unwrap();
        let sim = Sim::new(sc.config.clone(), sc.knobs.clone());
        let forked = lanes_of_every_tick(sim.clone(), (at, knob, value));
        let mut rec = Recording::new(sim, &sc.file.chapter_starts());
        rec.advance(u64::MAX);
        rec.fork(at, knob, value);
        rec.advance(u64::MAX);
        assert_eq!(
            rec.lanes(),
            &forked[..],
            "{name}, {knob}={value} at tick {at}"
        );
    }
}
