//! Call stacks read like the kernel's: where a task sleeps, its stack is the one the seed
//! threads' traces show, frame for frame in the same order.

use pressure_lab::scenario;
use pressure_lab::sim::event::SleepFn;
use pressure_lab::sim::{policy, Sim};

/// kcryptd's trace from NeilBrown's reply (seed 001), outermost frame first.
fn kcryptd_trace() -> Vec<String> {
    let csv = include_str!("../../data/stack-traces/kcryptd-2016.csv");
    let mut frames: Vec<String> = csv
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(2))
        .map(str::to_string)
        .collect();
    frames.reverse();
    frames
}

/// Runs dm-crypt-swap under `preset` until `task` sleeps in `function`; its stack then.
fn stack_when_asleep(preset: &str, task: &str, function: SleepFn) -> Vec<String> {
    let sc = scenario::validate(scenario::builtin("dm-crypt-swap").unwrap()).unwrap();
    let idx = task_index(&sc, task);
    let mut sim = Sim::new(sc.config.clone(), (policy::preset(preset).unwrap().knobs)());
    while !sim.is_finished() {
        sim.step();
        if sim.state().tasks[idx].wait.as_ref().map(|w| w.function) == Some(function) {
            return sim
                .call_stack(idx)
                .into_iter()
                .map(|f| f.function)
                .collect();
        }
    }
    panic!("{task} never slept in {function:?} under {preset}");
}

#[test]
fn kcryptd_throttled_in_reclaim_has_the_stack_of_neilbrowns_trace() {
    let model = stack_when_asleep("linux-4.8", "kcryptd", SleepFn::ThrottleVmWriteout);
    // Every frame of the trace, in order (4.7's shrink_zone_memcg and SLUB's ___slab_alloc
    // included).
    assert_eq!(model, kcryptd_trace());
}

/// The last `n` frames (deepest last).
fn deepest(stack: &[String], n: usize) -> Vec<&str> {
    stack[stack.len() - n..]
        .iter()
        .map(String::as_str)
        .collect()
}

#[test]
fn a_mempool_waiter_sleeps_in_mempool_alloc_not_in_the_slab_allocator() {
    let model = stack_when_asleep("linux-4.7+neilbrown", "kcryptd", SleepFn::MempoolAlloc);
    assert_eq!(
        deepest(&model, 5),
        [
            "bio_alloc_bioset",
            "mempool_alloc",
            "io_schedule_timeout",
            "schedule_timeout",
            "schedule"
        ]
    );
    assert_eq!(model.iter().filter(|f| *f == "mempool_alloc").count(), 1);
}

#[test]
fn kswapd_waiting_for_a_dm_io_sleeps_under_swap_writepage() {
    // dm core's allocation for a swap write runs in the submitter's context, inside
    // reclaim: balance_pgdat → shrink_zone → shrink_page_list → swap_writepage → … →
    // __split_and_process_bio → mempool_alloc (Rientjes' trace has the same call site).
    let model = stack_when_asleep("linux-4.7", "kswapd0", SleepFn::MempoolAlloc);
    let at = |f: &str| {
        model
            .iter()
            .position(|m| m == f)
            .unwrap_or_else(|| panic!("{f} in {model:?}"))
    };
    assert!(at("balance_pgdat") < at("shrink_zone"));
    assert!(at("shrink_zone") < at("shrink_page_list"));
    assert!(at("shrink_page_list") < at("swap_writepage"));
    assert!(at("swap_writepage") < at("__split_and_process_bio"));
    assert_eq!(
        deepest(&model, 5),
        [
            "__split_and_process_bio",
            "mempool_alloc",
            "io_schedule_timeout",
            "schedule_timeout",
            "schedule"
        ]
    );
}

#[test]
fn a_throttled_direct_reclaimer_sleeps_in_throttle_direct_reclaim() {
    let model = stack_when_asleep("linux-4.7", "hog", SleepFn::PfmemallocWait);
    assert_eq!(
        deepest(&model, 4),
        [
            "__alloc_pages_nodemask",
            "try_to_free_pages",
            "throttle_direct_reclaim",
            "schedule"
        ]
    );
    assert_eq!(model.first().map(String::as_str), Some("page_fault"));
}

fn task_index(sc: &scenario::Scenario, name: &str) -> usize {
    sc.config.tasks.iter().position(|t| t.name == name).unwrap()
}

/// The depth the stack view shows beside `task`'s frames: the sum of their sizes.
fn frames_and_depth(sim: &Sim, task: usize) -> (Vec<String>, u64, u64) {
    let frames = sim.call_stack(task);
    let sum = frames.iter().map(|f| f.bytes).sum();
    let names = frames.into_iter().map(|f| f.function).collect();
    (names, sum, sim.state().tasks[task].depth_bytes)
}

#[test]
fn a_task_has_its_stack_depth_before_it_first_runs() {
    let sc =
        scenario::validate(scenario::builtin("direct-reclaim-writepage-xfs").unwrap()).unwrap();
    let writer = task_index(&sc, "writer0");
    let sim = Sim::new(sc.config.clone(), sc.knobs.clone());
    let (names, sum, depth) = frames_and_depth(&sim, writer);
    assert_eq!(
        names.first().map(String::as_str),
        Some("system_call_fastpath")
    );
    assert_eq!(
        names.last().map(String::as_str),
        Some("grab_cache_page_write_begin")
    );
    // 128 + 80 + 64 + 176 + 240 + 144 + 64 bytes: the frames listed, not 0.
    assert_eq!((sum, depth), (896, 896));
    // Kernel threads start waiting for work, not inside it: the flusher is not at
    // __writepage before it has written anything.
    let flusher = task_index(&sc, "flush-8:0");
    let (names, sum, depth) = frames_and_depth(&sim, flusher);
    assert_eq!(names.last().map(String::as_str), Some("schedule"));
    assert_eq!((sum, depth), (680, 680));
    assert_eq!(sim.state().tasks[flusher].depth_bytes_max, 680);
}

#[test]
fn a_program_sleeping_in_user_space_is_in_nanosleep_not_in_its_page_fault() {
    // watermarks-101: the hog touches 700 MiB in 2 s, then sleeps 3 s holding it.
    let sc = scenario::validate(scenario::builtin("watermarks-101").unwrap()).unwrap();
    let hog = task_index(&sc, "hog");
    let mut sim = Sim::new(sc.config.clone(), sc.knobs.clone());
    let (names, _, _) = frames_and_depth(&sim, hog);
    assert_eq!(names.first().map(String::as_str), Some("page_fault"));
    while sim.tick() < 3000 {
        sim.step();
    }
    let asleep = sim.state().tasks[hog].wait.as_ref().map(|w| w.function);
    assert_eq!(asleep, Some(SleepFn::Idle));
    let (names, sum, depth) = frames_and_depth(&sim, hog);
    assert_eq!(
        names,
        [
            "system_call_fastpath",
            "sys_nanosleep",
            "hrtimer_nanosleep",
            "do_nanosleep",
            "schedule"
        ]
    );
    assert_eq!((sum, depth), (544, 544));
}

#[test]
fn kernel_threads_waiting_for_work_are_not_inside_their_work() {
    // watermarks-101 at 1 s: plenty of free memory, nothing dirty.
    let sc = scenario::validate(scenario::builtin("watermarks-101").unwrap()).unwrap();
    let (kswapd, flusher) = (task_index(&sc, "kswapd0"), task_index(&sc, "flush-8:0"));
    let mut sim = Sim::new(sc.config.clone(), sc.knobs.clone());
    while sim.tick() < 1000 {
        sim.step();
    }
    for task in [kswapd, flusher] {
        let asleep = sim.state().tasks[task].wait.as_ref().map(|w| w.function);
        assert_eq!(
            asleep,
            Some(SleepFn::Idle),
            "{}",
            sc.config.tasks[task].name
        );
    }
    let (names, sum, depth) = frames_and_depth(&sim, kswapd);
    assert_eq!(
        names,
        [
            "ret_from_fork",
            "kthread",
            "kswapd",
            "kswapd_try_to_sleep",
            "schedule"
        ]
    );
    assert_eq!((sum, depth), (536, 536));
    // The flusher's frames down to bdi_writeback_task are Gorman's trace (408 bytes
    // there); it then sleeps in schedule_timeout, not in ->writepage.
    let (names, sum, depth) = frames_and_depth(&sim, flusher);
    assert_eq!(
        names.first().map(String::as_str),
        Some("kernel_thread_helper")
    );
    assert!(!names.iter().any(|f| f.contains("writepage")), "{names:?}");
    assert_eq!(
        &names[names.len() - 3..],
        ["bdi_writeback_task", "schedule_timeout", "schedule"]
    );
    assert_eq!((sum, depth), (408 + 96 + 176, 680));
}

#[test]
fn a_direct_reclaim_pass_that_ends_within_its_tick_still_counts_its_stack() {
    // watermarks-101's burst reclaims its 32 pages within a tick, pass after pass.
    let s = crate::run("watermarks-101", "linux-3.6", None, &[]);
    assert!(s.metrics.allocstall > 0);
    // page_fault … alloc_pages_vma (512) + __alloc_pages_nodemask (240) +
    // try_to_free_pages, do_try_to_free_pages, shrink_zone (128 + 112 + 528).
    assert_eq!(s.metrics.max_stack_bytes_direct_reclaim, 1520);
    // 4.7 adds shrink_zone_memcg (112 bytes, the kcryptd trace).
    let s = crate::run("watermarks-101", "linux-4.7", None, &[]);
    assert_eq!(s.metrics.max_stack_bytes_direct_reclaim, 1632);
}
