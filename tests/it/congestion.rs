//! Goal: block-queue congestion is a property of request queues only (kernel-mm.md §5.6).
//! dm-crypt is a bio-based dm device: its BDI answers congestion queries with the state of
//! the device below it (v4.7 drivers/md/dm.c `dm_any_congested` →
//! `dm_table_any_congested`) and never sets or clears a state of its own, so the bios
//! queued for kcryptd count for no congestion test and wake no congestion_wait sleeper.
//! Method: dm-crypt-swap under linux-4.8, where kcryptd's queue runs far past 113 bios,
//! stepped tick by tick; every Congested/Uncongested event is checked by device.

use pressure_lab::scenario;
use pressure_lab::sim::event::{Event, SleepFn};
use pressure_lab::sim::Sim;
use pressure_lab::sim::{block, policy, vmscan};

#[test]
fn only_the_disk_under_dm_crypt_congests() {
    let sc = scenario::validate(scenario::builtin("dm-crypt-swap").unwrap()).unwrap();
    let knobs = (policy::preset("linux-4.8").unwrap().knobs)();
    let mut sim = Sim::new(sc.config.clone(), knobs);
    let name = |d: usize| sc.config.devices[d].name.clone();
    let (mut on, mut off) = (Vec::new(), Vec::new());
    let mut kcryptd_backlog_max = 0;
    while !sim.state().finished {
        for e in sim.step() {
            match e {
                Event::Congested { device } => on.push(name(*device)),
                Event::Uncongested { device } => off.push(name(*device)),
                _ => {}
            }
        }
        let dm = &sim.state().devices[1];
        kcryptd_backlog_max = kcryptd_backlog_max.max(dm.work.len());
        assert!(!dm.congested, "dm-0 has no congestion state of its own");
    }
    assert_eq!(name(1), "dm-0");
    // The dm device's own queue does fill past the congestion threshold (113 of 128)…
    assert!(kcryptd_backlog_max >= 113, "{kcryptd_backlog_max}");
    // …and still only sda's request queue congests and clears.
    assert!(!on.is_empty(), "sda congests in this run");
    assert!(on.iter().chain(&off).all(|d| d == "sda"), "{on:?} {off:?}");
}

/// dm-crypt-swap (sda congests) under linux-3.6 with `reclaim_throttle` set, and kswapd's
/// task index.
fn dm_crypt_under_3_6_with(throttle: &str) -> (Sim, usize) {
    let sc = scenario::validate(scenario::builtin("dm-crypt-swap").unwrap()).unwrap();
    let mut knobs = (policy::preset("linux-3.6").unwrap().knobs)();
    knobs.set("reclaim_throttle", throttle).unwrap();
    let kswapd = sc.config.task_index("kswapd0").unwrap();
    (Sim::new(sc.config, knobs), kswapd)
}

/// Naps of kswapd in wait_iff_congested while its pass is still at priority 10 or above:
/// do_try_to_free_pages' per-pass nap waits for priority < DEF_PRIORITY - 2, so only
/// shrink_inactive_list's 3.2 writeback rule can put it there.
fn kswapd_early_writeback_naps(throttle: &str) -> usize {
    let (mut sim, kswapd) = dm_crypt_under_3_6_with(throttle);
    let mut naps = 0;
    while !sim.state().finished {
        let napped = sim.step().iter().any(|e| {
            matches!(e, Event::Sleep { task, function: SleepFn::WaitIffCongested, .. } if *task == kswapd)
        });
        let priority = sim.state().tasks[kswapd]
            .reclaim
            .as_ref()
            .map(|rc| rc.priority);
        if napped && priority.is_some_and(|p| p >= vmscan::DEF_PRIORITY - 2) {
            naps += 1;
        }
    }
    naps
}

#[test]
fn from_3_2_kswapd_naps_when_its_batch_meets_writeback() {
    // 92df3a723f84 (3.2 … 3.10): nr_writeback >= nr_taken >> (DEF_PRIORITY - priority).
    assert!(kswapd_early_writeback_naps("3.2") > 0);
    assert_eq!(kswapd_early_writeback_naps("2.6.35"), 0);
}

/// balance_pgdat before 3.11: after a pass at priority < 10 that scanned, kswapd naps in
/// congestion_wait — but not while a zone is below min (`has_under_min_watermark_zone`).
#[test]
fn before_3_11_kswapd_naps_per_pass_unless_a_zone_is_below_min() {
    let sc = scenario::validate(scenario::builtin("swap-over-nbd").unwrap()).unwrap();
    let knobs = (policy::preset("linux-3.6").unwrap().knobs)();
    let kswapd = sc.config.task_index("kswapd0").unwrap();
    let mut sim = Sim::new(sc.config.clone(), knobs);
    let (mut naps, mut below_min_skipped) = (0, 0);
    while !sim.state().finished {
        let before = sim.state().tasks[kswapd]
            .reclaim
            .as_ref()
            .map(|rc| rc.priority);
        let napped = sim.step().iter().any(|e| {
            matches!(e, Event::Sleep { task, function: SleepFn::CongestionWait, .. } if *task == kswapd)
        });
        let st = sim.state();
        let free = st.zones[0].free;
        let min = st.wmarks[0].min();
        if napped {
            naps += 1;
            assert!(
                free > min,
                "tick {}: napped with free {free} <= min {min}",
                st.tick
            );
        } else if before.is_some_and(|p| p < vmscan::DEF_PRIORITY - 2) && free <= min {
            below_min_skipped += 1;
        }
    }
    assert!(naps > 0, "kswapd naps per pass");
    assert!(
        below_min_skipped > 0,
        "and passes below min go on without a nap"
    );
}

/// Ticks in which a direct reclaimer sleeps in do_try_to_free_pages' per-pass nap
/// (`in_nap`), not in shrink_inactive_list's writeback rule, with linux-3.6's allocator.
fn direct_per_pass_naps(throttle: &str) -> usize {
    let (mut sim, kswapd) = dm_crypt_under_3_6_with(throttle);
    let mut naps = 0;
    while !sim.state().finished {
        sim.step();
        naps += sim
            .state()
            .tasks
            .iter()
            .enumerate()
            .filter(|(i, t)| {
                *i != kswapd
                    && t.wait
                        .as_ref()
                        .is_some_and(|w| w.function == SleepFn::WaitIffCongested)
                    && t.reclaim.as_ref().is_some_and(|rc| rc.in_nap)
            })
            .count();
    }
    naps
}

#[test]
fn direct_reclaim_naps_per_pass_until_3_10_only() {
    // do_try_to_free_pages: v3.10 ends a pass at priority < 10 that scanned with
    // wait_iff_congested(preferred_zone, BLK_RW_ASYNC, HZ/10); v3.11 has no such nap.
    // It is the reclaim code's, not the allocator's: the slow path stays 3.6's here.
    let with = direct_per_pass_naps("3.2");
    assert!(with > 0, "{with}");
    assert_eq!(direct_per_pass_naps("3.11"), 0);
}

#[test]
fn nfs_congestion_threshold_scales_with_ram_as_nfs_init_writepagecache_does() {
    // The table in fs/nfs/write.c: 64 MB → 8192k, 1 GB → 32768k, 16 GB → 131072k, at
    // most 256 MB; in pages of 4 KiB, with int_sqrt's rounding (2 GB → 46336k).
    let pages_of_mib = |mib: u64| mib * 256;
    assert_eq!(block::nfs_congestion_on_pages(pages_of_mib(64)), 8192 / 4);
    assert_eq!(
        block::nfs_congestion_on_pages(pages_of_mib(1024)),
        32768 / 4
    );
    assert_eq!(
        block::nfs_congestion_on_pages(pages_of_mib(2048)),
        46336 / 4
    );
    assert_eq!(
        block::nfs_congestion_on_pages(pages_of_mib(16 << 10)),
        131072 / 4
    );
    assert_eq!(
        block::nfs_congestion_on_pages(pages_of_mib(1 << 20)),
        256 * 256
    );
    // NFS_CONGESTION_OFF_THRESH: a quarter below.
    assert_eq!(block::nfs_congestion_off_pages(pages_of_mib(1024)), 6144);
}

/// The NFS client's BDI congests by pages under writeback, not by requests: nfsd-loopback
/// sends a few requests of thousands of pages each, which never reach 113 requests.
#[test]
fn the_loopback_nfs_mount_congests_by_pages_under_writeback() {
    let sc = scenario::validate(scenario::builtin("nfsd-loopback").unwrap()).unwrap();
    let nfs = crate::device_index(&sc.config, "nfs-mnt");
    let ram = sc.config.managed_pages();
    let (on, off) = (
        block::nfs_congestion_on_pages(ram),
        block::nfs_congestion_off_pages(ram),
    );
    assert_eq!((on, off), (8192, 6144), "1 GiB");
    let mut sim = Sim::new(
        sc.config.clone(),
        (policy::preset("linux-4.7").unwrap().knobs)(),
    );
    let (mut set, mut cleared, mut requests_max) = (0, 0, 0);
    while !sim.state().finished {
        let events: Vec<Event> = sim.step().to_vec();
        let dev = &sim.state().devices[nfs];
        let pages: u64 = dev.queue.iter().chain(&dev.work).map(|r| r.pages).sum();
        requests_max = requests_max.max(dev.queue.len() + dev.work.len());
        for e in events {
            match e {
                Event::Congested { device } if device == nfs => {
                    set += 1;
                    assert!(pages > on, "congested at {pages} pages");
                }
                Event::Uncongested { device } if device == nfs => {
                    cleared += 1;
                    assert!(pages < off, "uncongested at {pages} pages");
                }
                _ => {}
            }
        }
    }
    assert!(set > 0 && cleared > 0, "{set} {cleared}");
    assert!(
        requests_max < 113,
        "{requests_max} requests: a request count would never congest"
    );
}

/// The devices panel's numbers (`block::load`): what fills each device against its limit.
#[test]
fn device_load_reads_the_queue_the_send_buffer_and_kcryptd_backlog() {
    let sc = scenario::validate(scenario::builtin("swap-over-nbd").unwrap()).unwrap();
    let mut sim = Sim::new(
        sc.config.clone(),
        (policy::preset("linux-3.5").unwrap().knobs)(),
    );
    sim.run(40_000);
    // The 3.5 lockup: the send buffer (8 MiB) is full, replies are owed.
    match block::load(&sc.config, sim.state(), 0) {
        block::Load::SendBuffer {
            used,
            limit,
            awaiting,
        } => {
            assert_eq!(limit, 2048);
            assert!(used >= limit && awaiting > 0, "{used} {awaiting}");
        }
        other => panic!("{other:?}"),
    }
    let sc = scenario::validate(scenario::builtin("dm-crypt-swap").unwrap()).unwrap();
    let sim = Sim::new(
        sc.config.clone(),
        (policy::preset("linux-4.8").unwrap().knobs)(),
    );
    assert_eq!(
        block::load(&sc.config, sim.state(), 0),
        block::Load::Requests {
            used: 0,
            limit: 128,
            on: 113,
            congested: false
        }
    );
    assert_eq!(
        block::load(&sc.config, sim.state(), 1),
        block::Load::Bios {
            queued: 0,
            lower: 0
        }
    );
}
