//! Goal: `too_many_isolated` (kernel-mm.md §4.3) throttles a direct reclaimer while another
//! reclaimer holds isolated pages, with the 4.7 inactive/8 rule for GFP_KERNEL callers, and
//! only a fatal signal ends the wait. Method: dm-crypt-swap's machine at tick 0, edited
//! through a snapshot: the flusher stands in for a reclaimer whose swap submit is blocked
//! (it holds `isolated` pages of DMA32), and the hog is about to direct-reclaim.

use pressure_lab::scenario;
use pressure_lab::sim::event::{Event, SleepFn};
use pressure_lab::sim::gfp::Gfp;
use pressure_lab::sim::policy;
use pressure_lab::sim::state::{AllocReq, ReclaimCtx, SlowStage, Wait, WaitQueue};
use pressure_lab::sim::Sim;

const HOG: usize = 0;
const HOLDER: usize = 2;
const DMA32: usize = 1;

fn machine(preset: &str, inactive: u64, isolated: u64, gfp: Gfp) -> Sim {
    let mut sc = scenario::validate(scenario::builtin("dm-crypt-swap").unwrap()).unwrap();
    // A killed task that must finish would end the run (outcome oom_kill) before the
    // signal is acted on: here the stand-in holder is what keeps the run going.
    sc.config.tasks[HOG].must_finish = false;
    sc.config.tasks[HOLDER].must_finish = true;
    let mut sim = Sim::new(sc.config, (policy::preset(preset).unwrap().knobs)());
    let mut snap = sim.snapshot();
    let st = &mut snap.state;
    let z = &mut st.zones[DMA32];
    // No page cache (so reclaim scans anon), `inactive` anon pages on the LRU and
    // `isolated` more under writeback, held by the stand-in reclaimer.
    z.free += z.file_inactive;
    z.file_inactive = 0;
    z.free -= inactive + isolated;
    z.anon_inactive = inactive;
    z.anon_writeback = isolated;
    z.anon_isolated = isolated;
    let holder = &mut st.tasks[HOLDER];
    holder.wait = Some(Wait {
        function: SleepFn::MempoolAlloc,
        since: 0,
        until: 1_000_000,
        queue: WaitQueue::Timer,
    });
    holder.reclaim = Some(ReclaimCtx {
        pending_swap_submit: isolated,
        pending_zone: DMA32,
        ..ReclaimCtx::new(Gfp::KERNEL)
    });
    st.tasks[HOG].alloc = Some(AllocReq {
        gfp,
        want: 1,
        stage: SlowStage::Reclaim,
        no_progress_loops: 0,
        did_some_progress: false,
        got: 0,
    });
    sim.restore(&snap);
    sim
}

fn hog_sleep(sim: &Sim) -> Option<SleepFn> {
    sim.state().tasks[HOG].wait.as_ref().map(|w| w.function)
}

#[test]
fn gfp_kernel_reclaimer_waits_while_isolated_exceeds_an_eighth_of_inactive() {
    // 4.7: 126 isolated > 1000 >> 3 = 125.
    let mut sim = machine("linux-4.7", 1000, 126, Gfp::KERNEL);
    sim.step();
    assert_eq!(hog_sleep(&sim), Some(SleepFn::TooManyIsolated));
    assert!(sim.events().iter().any(|e| matches!(
        e,
        Event::Sleep {
            task: HOG,
            function: SleepFn::TooManyIsolated,
            timeout_ms: 100
        }
    )));
    // It keeps waiting, HZ/10 at a time, while the holder keeps its pages.
    for _ in 0..1000 {
        sim.step();
        assert!(
            sim.check_invariants().is_ok(),
            "{:?}",
            sim.check_invariants()
        );
    }
    assert_eq!(hog_sleep(&sim), Some(SleepFn::TooManyIsolated));
    assert!(sim.state().tasks[HOG].sleep_ms_by_fn[SleepFn::TooManyIsolated.index()] >= 1000);
    // One page fewer isolated: not too many.
    let mut sim = machine("linux-4.7", 1000, 125, Gfp::KERNEL);
    sim.step();
    assert_ne!(hog_sleep(&sim), Some(SleepFn::TooManyIsolated));
}

#[test]
fn before_4_7_and_for_gfp_noio_the_bar_is_the_whole_inactive_list() {
    let mut sim = machine("linux-4.5", 1000, 126, Gfp::KERNEL);
    sim.step();
    assert_ne!(hog_sleep(&sim), Some(SleepFn::TooManyIsolated));
    let mut sim = machine("linux-4.7", 1000, 1000, Gfp::NOIO);
    sim.step();
    assert_ne!(hog_sleep(&sim), Some(SleepFn::TooManyIsolated));
    let mut sim = machine("linux-4.7", 1000, 1001, Gfp::NOIO);
    sim.step();
    assert_eq!(hog_sleep(&sim), Some(SleepFn::TooManyIsolated));
    // GFP_TRANSIENT (§14.2) is never throttled here.
    let mut sim = machine("linux-4.7", 1000, 1001, Gfp::NOIO.with(Gfp::TRANSIENT));
    sim.step();
    assert_ne!(hog_sleep(&sim), Some(SleepFn::TooManyIsolated));
}

#[test]
fn a_fatal_signal_ends_the_wait_claiming_a_batch() {
    let mut sim = machine("linux-4.7", 1000, 500, Gfp::KERNEL);
    sim.step();
    assert_eq!(hog_sleep(&sim), Some(SleepFn::TooManyIsolated));
    let mut snap = sim.snapshot();
    snap.state.tasks[HOG].killed = true;
    sim.restore(&snap);
    let mut ended = None;
    for _ in 0..200 {
        sim.step();
        for e in sim.events() {
            if let Event::DirectReclaimEnd {
                task: HOG,
                reclaimed,
            } = e
            {
                ended = Some(*reclaimed);
            }
        }
        if ended.is_some() {
            break;
        }
    }
    // shrink_inactive_list returns SWAP_CLUSTER_MAX: "We are about to die and free our memory".
    assert_eq!(ended, Some(32));
}

/// `wakeup_flusher_threads` skips a BDI without dirty inodes (`bdi_has_dirty_io`), so a
/// machine that only swaps — swap-over-nbd, readers of anonymous memory, no file written
/// — keeps its flusher asleep through the reclaim of a whole 3.5 lockup, up to the
/// periodic wake-up every 5 s (`dirty_writeback_interval`).
#[test]
fn reclaim_leaves_the_flusher_asleep_when_nothing_is_dirty() {
    let sc = scenario::validate(scenario::builtin("swap-over-nbd").unwrap()).unwrap();
    let flusher = sc.config.task_index("flush-8:0").unwrap();
    let mut sim = Sim::new(
        sc.config.clone(),
        (policy::preset("linux-3.5").unwrap().knobs)(),
    );
    let (mut awake_ticks, mut direct_reclaim_ticks) = (0u64, 0u64);
    while !sim.state().finished {
        sim.step();
        let st = sim.state();
        assert_eq!(
            st.zones.iter().map(|z| z.file_dirty_total()).sum::<u64>(),
            0
        );
        // Woken and back asleep within the tick still shows as a tick of running.
        let ran = st.tasks[flusher]
            .last_ran_tick
            .is_some_and(|r| r + 1 == st.tick);
        awake_ticks += u64::from(ran);
        direct_reclaim_ticks += st.tasks.iter().filter(|t| t.reclaim.is_some()).count() as u64;
    }
    let periodic_wakes = sim.state().tick / 5000 + 1;
    assert!(
        direct_reclaim_ticks > 100_000,
        "reclaim ran: {direct_reclaim_ticks}"
    );
    assert!(
        awake_ticks <= periodic_wakes,
        "{awake_ticks} > {periodic_wakes}"
    );
}
