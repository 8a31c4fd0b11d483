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
                for (i, t) in sim.state().tasks.iter().enumerate() {
                    if t.exited {
                        assert!(
                            sim.call_stack(i).is_empty(),
                            "{name}: exited task {i} has a stack"
                        );
                        assert_eq!(t.depth_bytes, 0, "{name}: exited task {i}");
                    }
                }
            }
            assert!(ticks > 0);
        }
    }
}

/// kcryptd's call stack follows what it does: an idle worker is only `worker_thread`
/// waiting; a work item adds `process_one_work` → `kcryptd_crypt`; allocating its clone
/// bio puts `bio_alloc_bioset` right below `mempool_alloc`.
#[test]
fn kcryptd_stack_follows_its_work() {
    use pressure_lab::sim::event::SleepFn;
    use pressure_lab::sim::sample::{task_state, TaskState};
    let sc = scenario::validate(scenario::builtin("dm-crypt-swap").unwrap()).unwrap();
    let mut sim = Sim::new(sc.config.clone(), sc.knobs.clone());
    let k = sc
        .config
        .tasks
        .iter()
        .position(|t| t.name == "kcryptd")
        .expect("kcryptd");
    let (mut idle_seen, mut pool_seen) = (0, 0);
    while !sim.is_finished() && sim.tick() < 30_000 {
        sim.step();
        let stack = sim.call_stack(k);
        let names: Vec<&str> = stack.iter().map(|f| f.function.as_str()).collect();
        let has = |f: &str| names.contains(&f);
        match task_state(&sim.state().tasks[k], sim.tick()) {
            TaskState::Sleeping(SleepFn::Idle) => {
                idle_seen += 1;
                assert!(has("worker_thread"), "{names:?}");
                assert!(
                    !has("kcryptd_crypt") && !has("bio_alloc_bioset"),
                    "{names:?}"
                );
            }
            _ if sim.state().tasks[k].mempool.is_some() => {
                pool_seen += 1;
                let at = names.iter().position(|f| *f == "mempool_alloc").unwrap();
                assert_eq!(names[at - 1], "bio_alloc_bioset", "{names:?}");
                assert!(has("kcryptd_crypt"), "{names:?}");
            }
            _ => {}
        }
    }
    assert!(
        idle_seen > 0 && pool_seen > 0,
        "idle {idle_seen}, in mempool {pool_seen}"
    );
}
