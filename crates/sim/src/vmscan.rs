//! Page reclaim (mm/vmscan.c): `shrink_zone` over aggregated LRU counts, the
//! `shrink_page_list` decisions for clean, dirty and writeback pages, `kswapd` /
//! `balance_pgdat`, and the resumable direct-reclaim loop `do_try_to_free_pages`
//! (kernel-mm.md §3, §4). Every sleep inside reclaim (throttle_vm_writeout, the
//! per-priority nap, wait_iff_congested, a blocked swap submit) saves the loop position in
//! the task's `ReclaimCtx`, so the pass resumes where the kernel would.

use super::event::{Event, SleepFn};
use super::gfp::Gfp;
use super::policy::{AllocSlowpath, ReclaimNap, ReclaimThrottle};
use super::state::{ReclaimCtx, WaitQueue};
use super::{block, writeback, Ctx, Step};

/// `DEF_PRIORITY` (include/linux/mmzone.h).
pub const DEF_PRIORITY: u32 = 12;
/// `SWAP_CLUSTER_MAX` (include/linux/swap.h): the reclaim batch and direct reclaim's target.
pub const SWAP_CLUSTER_MAX: u64 = 32;
/// Reclaim costs CPU: a reclaimer scans at most this many pages per 1 ms tick (about
/// 2 µs per page, unmapping included: 2 GiB/s); each page it starts writing counts
/// `WRITE_COST_PAGES` more (add_to_swap, bio set-up, submission). Without such a cost
/// an aggregated model would queue every anonymous page for swap within one tick.
pub const RECLAIM_SCAN_PAGES_PER_TICK: u64 = 512;
pub const WRITE_COST_PAGES: u64 = 3;

/// `SWAP_CLUSTER_MAX` for one modelled thread: it stands for `parallelism` CPUs, each
/// reclaiming its own batch (`Config::parallelism`; 1 in every built-in scenario).
fn swap_cluster_max(ctx: &Ctx) -> u64 {
    SWAP_CLUSTER_MAX * ctx.cfg.parallelism
}

/// kswapd runs at most this many `balance_pgdat` rounds (each reclaiming ≥ 32 pages) per
/// tick: a bound on work per tick, 16 × 32 pages/ms ≈ 2 GB/s of clean cache.
pub const KSWAPD_ROUNDS_PER_TICK: u32 = 16;

/// Proportional split: `n * part / total` with the remainder handled by the caller.
/// The product fits in 64 bits for any machine the scenario limits allow (batch × 1 TiB
/// of pages < 2^50); 128-bit arithmetic is a slow library call on wasm32, so it is only the
/// fallback.
fn share(n: u64, part: u64, total: u64) -> u64 {
    // No part, no division: a spinning reclaimer meets no swapped-clean page most of the
    // time, and the division is a good share of a shrink_zone that finds nothing.
    if total == 0 || part == 0 {
        return 0;
    }
    // Two 32-bit factors cannot overflow. Tested first because wasm32 has no 64-bit
    // high-multiply: `checked_mul` on u64 there is a call to `__multi3` (128-bit
    // multiplication), 3 % of the time of a run swapping over the network, in V8.
    if (n | part) >> 32 == 0 {
        return n * part / total;
    }
    match n.checked_mul(part) {
        Some(product) => product / total,
        None => (u128::from(n) * u128::from(part) / u128::from(total)) as u64,
    }
}

/// Who is reclaiming: decides `may_write_to_queue`, file writeback and early stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reclaimer {
    Kswapd,
    Direct,
}

/// Result of shrinking one zone once.
#[derive(Default)]
struct Shrunk {
    scanned: u64,
    reclaimed: u64,
    /// Dirty file pages met whose BDI was congested (ZONE_CONGESTED in 4.7).
    congested_dirty: u64,
    /// Pages met that were already under writeback (nr_writeback / nr_immediate).
    writeback_met: u64,
    /// Pages this batch started writing (swap or file).
    written: u64,
    dirty_met: u64,
    blocked: bool,
    /// shrink_inactive_list found `too_many_isolated` and did nothing.
    too_many_isolated: bool,
}

pub fn begin_direct_reclaim(ctx: &mut Ctx, task: usize, gfp: Gfp) {
    ctx.st.counters.allocstall += 1;
    let t = &mut ctx.st.tasks[task];
    // __perform_reclaim: PF_MEMALLOC around try_to_free_pages.
    t.flags.memalloc = true;
    t.reclaim = Some(ReclaimCtx::new(gfp));
    ctx.emit(Event::DirectReclaimStart { task });
    // So max_stack_bytes_direct_reclaim counts every pass, also one that ends in its tick.
    ctx.record_reclaim_entry_depth(task);
}

/// Ends the pass: clears PF_MEMALLOC, returns pages reclaimed.
pub fn end_direct_reclaim(ctx: &mut Ctx, task: usize) -> u64 {
    let t = &mut ctx.st.tasks[task];
    let rc = t.reclaim.take().expect("end_direct_reclaim without a pass");
    t.flags.memalloc = t.flags.kswapd; // kswapd keeps PF_MEMALLOC for life.
    ctx.emit(Event::DirectReclaimEnd {
        task,
        reclaimed: rc.nr_reclaimed,
    });
    rc.nr_reclaimed
}

/// `putback_inactive_pages` for `n` pages of the batch whose swap submit was pending:
/// they leave NR_ISOLATED_ANON (submitted: back on the inactive list under writeback;
/// refused: the caller requeues them).
pub fn putback_isolated(ctx: &mut Ctx, rc: &mut ReclaimCtx, n: u64) {
    rc.pending_swap_submit -= n;
    let z = &mut ctx.st.zones[rc.pending_zone];
    z.anon_isolated -= n;
}

/// `too_many_isolated` (mm/vmscan.c, 2.6.32 … 4.7; kernel-mm.md §4.3): kswapd is never
/// throttled; any other reclaimer is when the zone's isolated pages of this LRU type
/// outnumber its inactive ones. With the 4.7 rule (knob `too_many_isolated_gfp_io_fs`) a
/// caller with both __GFP_IO and __GFP_FS compares against inactive / 8, so GFP_NOIO and
/// GFP_NOFS reclaimers (dm-crypt's kcryptd) may isolate more and are not blocked behind
/// the GFP_KERNEL ones they would have to make progress for.
pub fn too_many_isolated(
    zone: &super::state::Zone,
    file: bool,
    gfp: Gfp,
    kswapd: bool,
    io_fs_eighth: bool,
) -> bool {
    if kswapd {
        return false;
    }
    let (mut inactive, isolated) = if file {
        // File batches are written within the tick (enqueue_disk never blocks), so
        // NR_ISOLATED_FILE is 0 between ticks.
        (zone.nr_inactive_file(), 0)
    } else {
        (zone.nr_inactive_anon(), zone.anon_isolated)
    };
    if io_fs_eighth && gfp.has(Gfp::IO) && gfp.has(Gfp::FS) {
        inactive >>= 3;
    }
    isolated > inactive
}

/// `do_try_to_free_pages`, resumable. `Step::Done` when the pass is over.
pub fn direct_reclaim(ctx: &mut Ctx, task: usize) -> Step {
    ctx.st.tasks[task].last_direct_reclaim_tick = Some(ctx.st.tick);
    let mut rc = ctx.st.tasks[task]
        .reclaim
        .clone()
        .expect("direct_reclaim without a pass");
    let step = reclaim_loop(ctx, task, &mut rc, Reclaimer::Direct);
    ctx.st.tasks[task].reclaim = Some(rc);
    step
}

/// Zones in zonelist order (highest first).
fn zone_at(ctx: &Ctx, pos: usize) -> usize {
    ctx.st.zones.len() - 1 - pos
}

fn reclaim_loop(ctx: &mut Ctx, task: usize, rc: &mut ReclaimCtx, who: Reclaimer) -> Step {
    let nr_zones = ctx.st.zones.len();
    // The loop is bounded: 13 priorities × zones; each iteration either advances or sleeps.
    let mut iterations = (DEF_PRIORITY as usize + 2) * (nr_zones + 1);
    // A direct reclaimer tries the keeping-all shortcut as the pass resumes, and again
    // after a shrink_zone of the general loop that freed pages: once the swapped-clean
    // pages are gone, the rest of such a pass usually keeps what it scans. (Trying after
    // every shrink_zone saved 1.4 % more in swap over NBD but cost 12 % in a run whose
    // reclaimer meets a zone it cannot keep after one it can; testing the zones first
    // cost more than it saved.)
    let shortcut = who == Reclaimer::Direct && ctx.fast_paths;
    let mut try_shortcut = shortcut;
    while iterations > 0 {
        if try_shortcut && !first_scan_frees(ctx, rc) {
            if let Some(step) = direct_reclaim_keeping_all(ctx, task, rc, &mut iterations) {
                return step;
            }
        }
        try_shortcut = false;
        iterations -= 1;
        if rc.in_nap {
            rc.in_nap = false;
            if rc.priority == 0 {
                return Step::Done;
            }
            rc.priority -= 1;
            rc.zone_idx = 0;
        }
        if rc.zone_idx < nr_zones {
            let zone = zone_at(ctx, rc.zone_idx);
            if cpu_left(ctx, task) == 0 && !rc.in_throttle {
                return Step::Yield;
            }
            if rc.pending_swap_submit > 0 && block::resume_swap_submit(ctx, task, rc) == Step::Sleep
            {
                return Step::Sleep;
            }
            if !rc.in_throttle {
                if who == Reclaimer::Kswapd && zone_balanced(ctx, zone) {
                    rc.zone_idx += 1;
                    continue;
                }
                let shrunk = shrink_zone(ctx, task, zone, rc, who);
                if shrunk.too_many_isolated {
                    // shrink_inactive_list (4.7): `while (too_many_isolated(...)) {
                    // congestion_wait(BLK_RW_ASYNC, HZ/10); if (fatal_signal_pending(current))
                    // return SWAP_CLUSTER_MAX; }` — an unbounded wait that only a fatal
                    // signal ends, claiming a batch reclaimed. Resumes at the same zone.
                    if ctx.st.tasks[task].killed {
                        rc.nr_reclaimed += swap_cluster_max(ctx);
                        rc.zone_idx += 1;
                        return Step::Done;
                    }
                    ctx.congestion_nap(task, SleepFn::TooManyIsolated);
                    return Step::Sleep;
                }
                rc.nr_scanned += shrunk.scanned;
                rc.nr_reclaimed += shrunk.reclaimed;
                try_shortcut = shortcut && shrunk.reclaimed > 0;
                rc.last_scanned = shrunk.scanned;
                rc.last_reclaimed = shrunk.reclaimed;
                rc.last_writeback_met = shrunk.writeback_met;
                if shrunk.blocked {
                    return Step::Sleep;
                }
                let throttle = ctx.st.knobs.reclaim_throttle;
                // 3.2 … 3.10 shrink_inactive_list: every reclaimer naps once the batch's
                // pages under writeback reach nr_taken >> (DEF_PRIORITY - priority) — all of
                // them at DEF_PRIORITY, any one from DEF_PRIORITY - 6 on for a 32-page batch
                // (the scan stands for its batches). wait_iff_congested sleeps only while a
                // BDI is congested.
                if throttle == ReclaimThrottle::V3_2
                    && shrunk.writeback_met > 0
                    && shrunk.writeback_met >= shrunk.scanned >> (DEF_PRIORITY - rc.priority)
                    && ctx.any_congested()
                {
                    ctx.congestion_nap(task, SleepFn::WaitIffCongested);
                    rc.zone_idx += 1;
                    return Step::Sleep;
                }
                // 3.11+ shrink_inactive_list: non-kswapd callers nap in wait_iff_congested
                // when the zone is ZONE_CONGESTED and a BDI is congested (current_may_throttle).
                if who == Reclaimer::Direct
                    && throttle == ReclaimThrottle::V3_11
                    && shrunk.dirty_met > 0
                    && shrunk.congested_dirty == shrunk.dirty_met
                    && may_throttle(ctx, task, rc.gfp)
                    && ctx.any_congested()
                {
                    ctx.congestion_nap(task, SleepFn::WaitIffCongested);
                    rc.zone_idx += 1;
                    return Step::Sleep;
                }
            }
            // 3.11+ shrink_inactive_list: kswapd meeting pages that are all still under
            // writeback (PageReclaim, ZONE_WRITEBACK → nr_immediate) naps in congestion_wait.
            if !rc.in_throttle
                && who == Reclaimer::Kswapd
                && ctx.st.knobs.reclaim_throttle == ReclaimThrottle::V3_11
                && rc.last_reclaimed == 0
                && rc.last_writeback_met > 0
                && rc.last_writeback_met * 2 >= rc.last_scanned
            {
                rc.zone_idx += 1;
                ctx.congestion_nap(task, SleepFn::CongestionWait);
                return Step::Sleep;
            }
            // shrink_zone ends in throttle_vm_writeout(sc->gfp_mask) (until 4.9).
            if throttle_vm_writeout_applies(ctx, task, rc.gfp)
                && writeback::vm_writeout_over_limit(ctx, task)
            {
                let loops = rc.gfp.has(Gfp::IO) && rc.gfp.has(Gfp::FS);
                if !rc.in_throttle || loops {
                    rc.in_throttle = true;
                    ctx.congestion_nap(task, SleepFn::ThrottleVmWriteout);
                    return Step::Sleep;
                }
            }
            rc.in_throttle = false;
            rc.zone_idx += 1;
            if who == Reclaimer::Direct && rc.nr_reclaimed >= swap_cluster_max(ctx) {
                return Step::Done;
            }
            continue;
        }
        // End of a priority pass. balance_pgdat (4.7) wakes pgdat->pfmemalloc_wait here,
        // after the zone loop, once pfmemalloc_watermark_ok holds — never from inside
        // shrink_zone, where kswapd may sleep in mempool_alloc or throttle_vm_writeout.
        if who == Reclaimer::Kswapd && super::page_alloc::pfmemalloc_watermark_ok(ctx) {
            ctx.wake_queue(WaitQueue::PfmemallocWait);
        }
        let batch = swap_cluster_max(ctx);
        if rc.nr_reclaimed >= batch {
            return Step::Done;
        }
        if rc.nr_scanned > batch + batch / 2 {
            writeback::wakeup_flusher(ctx, rc.nr_scanned);
            rc.may_writepage = true;
        }
        if who == Reclaimer::Kswapd {
            // balance_pgdat (2.6.35 … 3.6; v3.10's has none): "kswapd is getting into
            // trouble. Take a nap" — congestion_wait(BLK_RW_ASYNC, HZ/10) after a pass at
            // priority < 10 that scanned, skipped while a zone is below min
            // (has_under_min_watermark_zone, KSWAPD_SKIP_CONGESTION_WAIT). 3.11 flattened
            // the priority loop and dropped the nap; kswapd throttles on nr_immediate
            // instead (reclaim_throttle).
            let nap = ctx.st.knobs.reclaim_throttle != ReclaimThrottle::V3_11
                && rc.nr_scanned > 0
                && rc.priority < DEF_PRIORITY - 2
                && !any_zone_under_min(ctx);
            if nap {
                rc.in_nap = true;
                ctx.congestion_nap(task, SleepFn::CongestionWait);
                return Step::Sleep;
            }
            if rc.priority == 0 {
                return Step::Done;
            }
            rc.priority -= 1;
            rc.zone_idx = 0;
            continue;
        }
        // do_try_to_free_pages (2.6.35 … 3.10): "Take a nap, wait for some writeback to
        // complete" after a pass at priority < 10 that scanned. Mel Gorman's 3.11 reclaim
        // series dropped it with the rest of the priority-based naps (v3.10 has it, v3.11
        // does not), so it follows reclaim_throttle, not the allocator's shape: linux-4.5
        // (3.6 slow path, 3.11 reclaim) has no per-pass nap.
        let nap_allowed =
            ctx.st.knobs.reclaim_throttle != ReclaimThrottle::V3_11 && !rc.gfp.has(Gfp::TRANSIENT);
        if nap_allowed && rc.nr_scanned > 0 && rc.priority < DEF_PRIORITY - 2 {
            rc.in_nap = true;
            let function = match ctx.st.knobs.reclaim_nap {
                ReclaimNap::CongestionWait => SleepFn::CongestionWait,
                ReclaimNap::WaitIffCongested => SleepFn::WaitIffCongested,
            };
            if function == SleepFn::CongestionWait || ctx.any_congested() {
                ctx.congestion_nap(task, function);
                return Step::Sleep;
            }
            continue;
        }
        if rc.priority == 0 {
            return Step::Done;
        }
        rc.priority -= 1;
        rc.zone_idx = 0;
    }
    Step::Done
}

/// The first scan of the pass would meet swapped-clean pages and free them, so
/// [`direct_reclaim_keeping_all`] would stop at that scan, having done nothing but the
/// nap step the general loop does the same way: it is not entered (a quarter of the
/// direct passes in swap over NBD). A pass that ends at priority 0 ends before that scan.
fn first_scan_frees(ctx: &Ctx, rc: &ReclaimCtx) -> bool {
    let first = if rc.in_nap { 0 } else { rc.zone_idx };
    first < ctx.st.zones.len()
        && ctx.st.zones[zone_at(ctx, first)].anon_swapped_clean != 0
        && !(rc.in_nap && rc.priority == 0)
}

/// The loop below for a direct reclaimer whose shrink_zone calls can only keep what they
/// scan ([`KeepingZone`]): the same steps in the same order — a zone scanned per
/// iteration, each priority closed by its own iteration with the flusher, nap and priority
/// rules — with what cannot change during such a run checked once: no BDI congested (so
/// no wait_iff_congested nap sleeps), throttle_vm_writeout not over its limit, no dirty
/// page cache for the flusher, whether the swap device takes a direct reclaimer's writes,
/// and each zone's lists (only scan counters change while every page is kept). It stops
/// where a scan could free or write a page and leaves the pass to the loop at that point,
/// with the iteration it had begun given back; `Some` when it reached the end of the pass
/// or of the tick's scan budget itself. Reclaimers spinning on pages under writeback (swap
/// over NBD) spend most of their passes here.
fn direct_reclaim_keeping_all(
    ctx: &mut Ctx,
    task: usize,
    rc: &mut ReclaimCtx,
    iterations: &mut usize,
) -> Option<Step> {
    let nr_zones = ctx.st.zones.len();
    if nr_zones > KEEPING_ZONES_MAX
        || rc.in_throttle
        || rc.pending_swap_submit > 0
        || ctx.any_congested()
        || writeback::global_dirty(ctx) > 0
        || (throttle_vm_writeout_applies(ctx, task, rc.gfp)
            && writeback::vm_writeout_over_limit(ctx, task))
    {
        return None;
    }
    // shrink_anon writes none of the pages it meets: no __GFP_IO, no swap, or the swap
    // device refuses a direct reclaimer (may_write_to_queue) — or, checked per scan, no
    // page that is not under writeback, or may_writepage still off.
    let writes_blocked = !rc.gfp.has(Gfp::IO)
        || ctx
            .swap_device()
            .is_none_or(|dev| ctx.device_congested_for_submit(dev));
    let mut zones = [None; KEEPING_ZONES_MAX];
    for (pos, slot) in zones.iter_mut().enumerate().take(nr_zones) {
        *slot = KeepingZone::of(ctx, zone_at(ctx, pos), rc.gfp);
    }
    let batch = swap_cluster_max(ctx);
    // Direct reclaim stops early once nr_to_reclaim is met (shrink_zone's loop in chunks);
    // nothing is reclaimed here, so the cap holds for the whole call, and so does the
    // test that ends the pass once the batch is reclaimed.
    let scan_cap = (batch.saturating_sub(rc.nr_reclaimed).max(1) * 4).max(batch);
    let batch_reclaimed = rc.nr_reclaimed >= batch;
    let nap_allowed =
        ctx.st.knobs.reclaim_throttle != ReclaimThrottle::V3_11 && !rc.gfp.has(Gfp::TRANSIENT);
    let nap_sleeps = ctx.st.knobs.reclaim_nap == ReclaimNap::CongestionWait;
    // The zone position and the scan of the last zone scanned, for `last_scanned` and
    // `last_writeback_met` (computed once, as the call ends).
    let mut last_scan: Option<(usize, KeptScan)> = None;
    // The tick's scan budget, the scan counters and the pass's position are kept in locals
    // and written back once, as the call ends: nothing this loop calls reads them, and
    // the loop runs about three scans per call.
    let mut cpu = cpu_left(ctx, task);
    let mut scanned_by_pos = [0u64; KEEPING_ZONES_MAX];
    let mut left = *iterations;
    let (mut priority, mut zone_idx, mut in_nap) = (rc.priority, rc.zone_idx, rc.in_nap);
    let (mut nr_scanned, mut may_writepage) = (rc.nr_scanned, rc.may_writepage);
    let step = loop {
        if left == 0 {
            break Some(Step::Done);
        }
        left -= 1;
        if in_nap {
            in_nap = false;
            if priority == 0 {
                break Some(Step::Done);
            }
            priority -= 1;
            zone_idx = 0;
        }
        if zone_idx < nr_zones {
            if cpu == 0 {
                break Some(Step::Yield);
            }
            let scan = zones[zone_idx]
                .map(|kz| (kz, kz.scan(priority, cpu, scan_cap, batch)))
                .filter(|(kz, scan)| {
                    !(may_writepage && !writes_blocked && kz.plain_met(scan.anon_met) > 0)
                });
            let Some((_, scan)) = scan else {
                // The loop redoes this iteration from here (its nap step is done).
                left += 1;
                break None;
            };
            let scanned = scan.file_met + scan.anon_met;
            cpu -= scanned;
            scanned_by_pos[zone_idx] += scanned;
            nr_scanned += scanned;
            last_scan = Some((zone_idx, scan));
            zone_idx += 1;
            if batch_reclaimed {
                break Some(Step::Done);
            }
            continue;
        }
        if batch_reclaimed {
            break Some(Step::Done);
        }
        if nr_scanned > batch + batch / 2 {
            // wakeup_flusher has nothing to kick: no dirty page cache.
            may_writepage = true;
        }
        if nap_allowed && nr_scanned > 0 && priority < DEF_PRIORITY - 2 {
            in_nap = true;
            // No BDI is congested, so only congestion_wait sleeps (taken as the call ends,
            // once the counters are written back).
            if nap_sleeps {
                break Some(Step::Sleep);
            }
            continue;
        }
        if priority == 0 {
            break Some(Step::Done);
        }
        priority -= 1;
        zone_idx = 0;
    };
    *iterations = left;
    (rc.priority, rc.zone_idx, rc.in_nap) = (priority, zone_idx, in_nap);
    (rc.nr_scanned, rc.may_writepage) = (nr_scanned, may_writepage);
    let scanned: u64 = scanned_by_pos.iter().sum();
    ctx.st.tasks[task].reclaim_cpu_used += scanned;
    ctx.st.counters.pgscan_direct += scanned;
    for (pos, &n) in scanned_by_pos.iter().enumerate().take(nr_zones) {
        let zone = zone_at(ctx, pos);
        ctx.st.zones[zone].pages_scanned += n;
    }
    if let Some((pos, scan)) = last_scan {
        // The last shrink_zone's batch: every page kept.
        let kz = zones[pos].expect("a zone scanned is a keeping zone");
        rc.last_scanned = scan.file_met + scan.anon_met;
        rc.last_reclaimed = 0;
        rc.last_writeback_met = scan.file_met + kz.under_writeback_met(scan.anon_met);
    }
    if step == Some(Step::Sleep) {
        // The per-priority nap: congestion_wait (no BDI is congested, so only it sleeps).
        ctx.congestion_nap(task, SleepFn::CongestionWait);
    }
    step
}

/// `zone_reclaimable`: a zone is hopeless once `pages_scanned` reaches six times its
/// reclaimable pages without a page being freed (kernel-mm.md §1).
///
/// 2.6.35/3.6: direct reclaim reads `zone->all_unreclaimable`, a flag only kswapd sets
/// (balance_pgdat) and any page free clears; 4.7: `zone_reclaimable` is computed from the
/// scan counter every reclaimer adds to.
pub fn any_zone_reclaimable(ctx: &Ctx) -> bool {
    let swap_room = ctx.swap_room();
    match ctx.st.knobs.alloc_slowpath {
        AllocSlowpath::V4_7 => ctx
            .st
            .zones
            .iter()
            .any(|z| z.pages_scanned < 6 * z.reclaimable(swap_room)),
        AllocSlowpath::V2_6_35 | AllocSlowpath::V3_6 => {
            ctx.st.zones.iter().any(|z| !z.all_unreclaimable)
        }
    }
}

/// balance_pgdat's `has_under_min_watermark_zone`: some zone fails
/// `zone_watermark_ok_safe(zone, 0, min, end_zone, 0)`, i.e. free ≤ min + lowmem_reserve
/// (the classzone is the highest zone, as for every modelled allocation).
fn any_zone_under_min(ctx: &Ctx) -> bool {
    (0..ctx.st.zones.len()).any(|z| {
        ctx.st.zones[z].free <= ctx.st.wmarks[z].min() + super::page_alloc::lowmem_reserve(ctx, z)
    })
}

/// Scan budget left to `task` in this tick.
fn cpu_left(ctx: &mut Ctx, task: usize) -> u64 {
    let now = ctx.st.tick;
    let parallelism = ctx.cfg.parallelism;
    let t = &mut ctx.st.tasks[task];
    if t.reclaim_cpu_tick != now {
        t.reclaim_cpu_tick = now;
        t.reclaim_cpu_used = 0;
    }
    (RECLAIM_SCAN_PAGES_PER_TICK * parallelism).saturating_sub(t.reclaim_cpu_used)
}

/// `current_may_throttle` (4.7): a PF_LESS_THROTTLE task is throttled only when its own
/// BDI is congested. A transient allocation is never throttled (§14.2).
fn may_throttle(ctx: &Ctx, task: usize, gfp: Gfp) -> bool {
    if gfp.has(Gfp::TRANSIENT) {
        return false;
    }
    let t = &ctx.st.tasks[task];
    if !t.flags.less_throttle {
        return true;
    }
    match ctx.task_bdi(task) {
        None => true,
        Some(dev) => ctx.bdi_congested(dev),
    }
}

fn throttle_vm_writeout_applies(ctx: &Ctx, task: usize, gfp: Gfp) -> bool {
    // Hocko RFC 2/2: return at once for PF_LESS_THROTTLE; GFP_TRANSIENT never sleeps.
    ctx.st.knobs.throttle_vm_writeout
        && !gfp.has(Gfp::TRANSIENT)
        && !(ctx.st.tasks[task].flags.less_throttle && ctx.less_throttle_skips_vm_writeout())
}

fn zone_balanced(ctx: &Ctx, zone: usize) -> bool {
    ctx.st.zones[zone].free >= ctx.st.wmarks[zone].high()
}

/// `shrink_zone` for one priority: scan `size >> priority` of each inactive list (at least
/// one batch when the list is not empty), age the active lists, then `shrink_page_list`.
fn shrink_zone(
    ctx: &mut Ctx,
    task: usize,
    zone: usize,
    rc: &mut ReclaimCtx,
    who: Reclaimer,
) -> Shrunk {
    let mut out = Shrunk::default();
    let swap_room = ctx.swap_room();
    let priority = rc.priority;
    let batch = swap_cluster_max(ctx);
    let z = &ctx.st.zones[zone];
    let anon_inactive = z.nr_inactive_anon();
    let file_inactive = z.nr_inactive_file();
    let scan_of = |size: u64| {
        if size == 0 {
            0
        } else {
            (size >> priority).max(size.min(batch))
        }
    };
    // get_scan_count (4.7): with enough inactive page cache, reclaim file pages only.
    let file_only =
        file_inactive >= z.file_active && (file_inactive >> priority) > 0 && z.file_inactive > 0;
    let mut scan_file = scan_of(file_inactive);
    let mut scan_anon = if file_only || !swap_room {
        scan_of(z.anon_swapped_clean)
    } else {
        scan_of(anon_inactive)
    };
    // shrink_inactive_list starts by waiting while too many pages are isolated (never
    // for a GFP_TRANSIENT allocation, §14.2).
    let io_fs_eighth = ctx.st.knobs.too_many_isolated_gfp_io_fs;
    let kswapd = who == Reclaimer::Kswapd;
    let z = &ctx.st.zones[zone];
    if !rc.gfp.has(Gfp::TRANSIENT)
        && ((scan_anon > 0 && too_many_isolated(z, false, rc.gfp, kswapd, io_fs_eighth))
            || (scan_file > 0 && too_many_isolated(z, true, rc.gfp, kswapd, io_fs_eighth)))
    {
        out.too_many_isolated = true;
        return out;
    }
    let cpu = cpu_left(ctx, task);
    scan_file = scan_file.min(cpu);
    scan_anon = scan_anon.min(cpu - scan_file);
    if who == Reclaimer::Direct {
        // Direct reclaim stops early once nr_to_reclaim is met (shrink_zone's loop in chunks).
        let budget = batch.saturating_sub(rc.nr_reclaimed).max(1) * 4;
        scan_file = scan_file.min(budget.max(batch));
        scan_anon = scan_anon.min(budget.max(batch));
    }
    age_active_lists(ctx, zone, scan_anon.max(scan_file));
    shrink_file(ctx, task, zone, scan_file, rc, who, &mut out);
    shrink_anon(ctx, task, zone, scan_anon, rc, who, &mut out);
    let t = &mut ctx.st.tasks[task];
    t.reclaim_cpu_used += out.scanned + WRITE_COST_PAGES * out.written;
    let zone_state = &mut ctx.st.zones[zone];
    zone_state.pages_scanned += out.scanned;
    if out.reclaimed > 0 {
        zone_state.pages_scanned = 0;
    }
    if who == Reclaimer::Kswapd && zone_state.pages_scanned >= 6 * zone_state.reclaimable(swap_room)
    {
        zone_state.all_unreclaimable = true;
    }
    if who == Reclaimer::Kswapd {
        ctx.st.counters.pgscan_kswapd += out.scanned;
        ctx.st.counters.pgsteal_kswapd += out.reclaimed;
    } else {
        ctx.st.counters.pgscan_direct += out.scanned;
        ctx.st.counters.pgsteal_direct += out.reclaimed;
    }
    out
}

/// Zones [`direct_reclaim_keeping_all`] handles (the scenario limit is 4); with more it
/// leaves every pass to the general loop.
const KEEPING_ZONES_MAX: usize = 4;

/// `shrink_zone` for a direct reclaimer in the case that makes most of its calls while
/// reclaimers spin (swap over NBD): the zone holds nothing it could free or write — no
/// swapped-clean anon page, no clean, dirty or locked file page, anon pages it may not
/// write now — and its active lists need no ageing. The scan then keeps every page it
/// meets and changes only the scan counters, which this computes directly with the numbers
/// `shrink_zone`'s general path reaches the long way: the same scan sizes, the same
/// `share` of pages under writeback (`tests/it/determinism.rs` holds every scenario ×
/// preset to the same trace with and without it). The zone's lists stay as they are while
/// every page is kept, so they are read once per call.
#[derive(Clone, Copy)]
struct KeepingZone {
    /// NR_INACTIVE_ANON: the plain inactive pages and those under writeback.
    anon_inactive: u64,
    /// Pages under writeback and not isolated by a reclaimer.
    anon_under_writeback: u64,
    /// Inactive anon pages not under writeback.
    anon_plain: u64,
    /// nr_inactive_file with no clean, dirty or locked page: the pages under writeback.
    file_inactive: u64,
    /// get_scan_count: no clean page cache, so not file_only; without swap room only the
    /// (absent) swapped-clean anon pages would be scanned.
    anon_scanned: bool,
}

/// What one keeping-all scan met: every page kept.
#[derive(Clone, Copy)]
struct KeptScan {
    file_met: u64,
    anon_met: u64,
}

impl KeepingZone {
    /// `None` when a scan of `zone` could free, write, deactivate or wait.
    fn of(ctx: &Ctx, zone: usize, gfp: Gfp) -> Option<KeepingZone> {
        let z = &ctx.st.zones[zone];
        if z.anon_swapped_clean != 0
            || z.file_inactive != 0
            || z.file_dirty_total() != 0
            || z.file_locked != 0
        {
            return None;
        }
        let anon_inactive = z.nr_inactive_anon();
        let file_inactive = z.file_writeback_total();
        // age_active_lists would deactivate pages.
        if anon_inactive < z.anon_active || file_inactive < z.file_active {
            return None;
        }
        let anon_scanned = ctx.swap_room();
        // A scan of a non-empty list starts by waiting while too many pages are isolated.
        let io_fs_eighth = ctx.st.knobs.too_many_isolated_gfp_io_fs;
        if !gfp.has(Gfp::TRANSIENT)
            && ((anon_scanned
                && anon_inactive > 0
                && too_many_isolated(z, false, gfp, false, io_fs_eighth))
                || (file_inactive > 0 && too_many_isolated(z, true, gfp, false, io_fs_eighth)))
        {
            return None;
        }
        Some(KeepingZone {
            anon_inactive,
            anon_under_writeback: z.anon_writeback - z.anon_isolated,
            anon_plain: z.anon_inactive,
            file_inactive,
            anon_scanned,
        })
    }

    /// The scan at `priority`: `size >> priority` of each inactive list (at least one
    /// batch when the list is not empty), file first, within the tick's CPU and the
    /// direct reclaimer's cap.
    fn scan(self, priority: u32, cpu: u64, scan_cap: u64, batch: u64) -> KeptScan {
        let scan_of = |size: u64| {
            if size == 0 {
                0
            } else {
                (size >> priority).max(size.min(batch))
            }
        };
        let scan_file = scan_of(self.file_inactive).min(cpu).min(scan_cap);
        let scan_anon = if self.anon_scanned {
            scan_of(self.anon_inactive)
                .min(cpu - scan_of(self.file_inactive).min(cpu))
                .min(scan_cap)
        } else {
            0
        };
        KeptScan {
            file_met: scan_file.min(self.file_inactive),
            anon_met: scan_anon.min(self.anon_inactive),
        }
    }

    /// Of `anon_met` pages met, those under writeback (shrink_page_list keeps them).
    fn under_writeback_met(self, anon_met: u64) -> u64 {
        share(anon_met, self.anon_under_writeback, self.anon_inactive).min(anon_met)
    }

    /// Of `anon_met` pages met, those not under writeback: pageout would write them.
    fn plain_met(self, anon_met: u64) -> u64 {
        (anon_met - self.under_writeback_met(anon_met)).min(self.anon_plain)
    }
}

/// `shrink_active_list`: keep inactive ≥ active by deactivating pages (ratio 1 for small zones).
fn age_active_lists(ctx: &mut Ctx, zone: usize, nr: u64) {
    let z = &mut ctx.st.zones[zone];
    // inactive_anon_is_low compares NR_INACTIVE_ANON, which counts the pages under
    // writeback and the swapped-clean ones still on the inactive list.
    let inactive = z.nr_inactive_anon();
    if inactive < z.anon_active {
        let n = nr.min(z.anon_active - inactive).max(nr.min(z.anon_active));
        z.anon_active -= n;
        z.anon_inactive += n;
    }
    let file_inactive = z.file_inactive + z.file_dirty_total() + z.file_writeback_total();
    if file_inactive < z.file_active {
        let n = nr.min(z.file_active);
        z.file_active -= n;
        z.file_inactive += n;
    }
}

/// `shrink_page_list` on `n` inactive file pages: clean ones are freed, pages under
/// writeback are kept, dirty ones are written or skipped as the policy says.
fn shrink_file(
    ctx: &mut Ctx,
    task: usize,
    zone: usize,
    n: u64,
    rc: &ReclaimCtx,
    who: Reclaimer,
    out: &mut Shrunk,
) {
    if n == 0 {
        return;
    }
    let z = &ctx.st.zones[zone];
    // Pages locked for a read in flight are isolated and scanned, but trylock_page fails:
    // kept (they count towards pages_scanned and the all_unreclaimable heuristic).
    let locked = share(n, z.file_locked, z.nr_inactive_file()).min(z.file_locked);
    out.scanned += locked;
    let n = n - locked;
    let dirty_total = z.file_dirty_total();
    let total = z.file_inactive + dirty_total + z.file_writeback_total();
    let n = n.min(total);
    let clean = share(n, z.file_inactive, total).min(z.file_inactive);
    let dirty = share(n, dirty_total, total).min(dirty_total);
    let rest = n - clean - dirty;
    let clean = clean + rest.min(z.file_inactive - clean);
    out.writeback_met += n - clean - dirty;
    out.scanned += n;
    let z = &mut ctx.st.zones[zone];
    z.file_inactive -= clean;
    z.give_back(clean);
    out.reclaimed += clean;
    if dirty == 0 {
        return;
    }
    out.dirty_met += dirty;
    // Split the dirty pages met over their devices in proportion.
    let n_devices = ctx.st.zones[zone].file_dirty.len();
    for device in 0..n_devices {
        let dev_dirty = ctx.st.zones[zone].file_dirty[device];
        let met = share(dirty, dev_dirty, dirty_total).min(dev_dirty);
        if met == 0 {
            continue;
        }
        if ctx.bdi_congested(device) {
            out.congested_dirty += met;
        }
        out.written += reclaim_dirty_file(ctx, task, zone, device, met, rc, who);
    }
}

/// The dirty-file-page decision of `shrink_page_list` + `pageout` (kernel-mm.md §4.5).
fn reclaim_dirty_file(
    ctx: &mut Ctx,
    task: usize,
    zone: usize,
    device: usize,
    met: u64,
    rc: &ReclaimCtx,
    who: Reclaimer,
) -> u64 {
    let knobs = &ctx.st.knobs;
    // 2.6.35: any reclaimer with FS permission writes; 3.2+: only kswapd, under pressure.
    let vm_writes = match who {
        Reclaimer::Direct => knobs.direct_reclaim_file_writeback,
        Reclaimer::Kswapd => knobs.direct_reclaim_file_writeback || rc.priority < DEF_PRIORITY - 2,
    };
    if !vm_writes {
        // PageReclaim set, page kept; the flushers are woken for it.
        writeback::wakeup_flusher(ctx, met);
        return 0;
    }
    if !rc.gfp.has(Gfp::FS) || !rc.may_writepage {
        return 0;
    }
    // may_write_to_queue: PF_SWAPWRITE (kswapd), an uncongested BDI, or the task's own BDI.
    if who == Reclaimer::Direct && ctx.bdi_congested(device) && ctx.task_bdi(task) != Some(device) {
        return 0;
    }
    if !ctx.is_local_fs(device) {
        // Only local filesystems are written from reclaim here; NFS pages wait for the flusher.
        return 0;
    }
    // The filesystem's ->writepage: XFS (2.6.34+) redirties and refuses in PF_MEMALLOC context.
    if !ctx.st.knobs.fs_reclaim_writepage {
        ctx.emit(super::event::Event::WritepageRefused { task, pages: met });
        return 0;
    }
    let writes = met.min(swap_cluster_max(ctx));
    // Each ->writepage call runs xfs_vm_writepage on top of the reclaim stack.
    ctx.writepage_stack_check(task, who == Reclaimer::Direct, writes);
    if ctx.st.overflow.is_some() {
        return 0;
    }
    let z = &mut ctx.st.zones[zone];
    z.file_dirty_to_writeback(device, writes);
    ctx.st.counters.reclaim_file_writes += writes;
    ctx.emit(Event::ReclaimWritepage {
        task,
        pages: writes,
    });
    block::submit_file_writeback(ctx, zone, device, writes);
    writes
}

/// `shrink_page_list` on `n` inactive anonymous pages: swapped-clean pages are freed,
/// pages under writeback kept, the rest added to swap and written (`swap_writepage`).
fn shrink_anon(
    ctx: &mut Ctx,
    task: usize,
    zone: usize,
    n: u64,
    rc: &mut ReclaimCtx,
    who: Reclaimer,
    out: &mut Shrunk,
) {
    if n == 0 {
        return;
    }
    let batch = swap_cluster_max(ctx);
    let z = &ctx.st.zones[zone];
    // Isolated pages are off the LRU: the scan meets only what is on the inactive list.
    let total = z.nr_inactive_anon();
    let on_lru_writeback = z.anon_writeback - z.anon_isolated;
    let n = n.min(total);
    let clean = share(n, z.anon_swapped_clean, total)
        .max(n.min(z.anon_swapped_clean).min(batch))
        .min(n);
    let under_wb = share(n, on_lru_writeback, total).min(n - clean);
    let plain = (n - clean - under_wb).min(z.anon_inactive);
    out.writeback_met += under_wb;
    out.scanned += n;
    let z = &mut ctx.st.zones[zone];
    z.anon_swapped_clean -= clean;
    z.give_back(clean);
    out.reclaimed += clean;
    if clean > 0 {
        ctx.uncharge_swapped_clean(clean);
    }
    if plain == 0 || !rc.gfp.has(Gfp::IO) || !rc.may_writepage {
        return;
    }
    let Some(swap_dev) = ctx.swap_device() else {
        return;
    };
    // may_write_to_queue: kswapd (PF_SWAPWRITE) always; others only to an uncongested
    // queue. Nobody gets past a full request queue or socket send buffer: the submit would
    // block there (get_request_wait / sk_stream_wait_memory), so the pages stay for later.
    if who == Reclaimer::Direct && ctx.device_congested_for_submit(swap_dev) {
        return;
    }
    // (A direct reclaimer gets here only when the queue is not full: the test above.)
    if who == Reclaimer::Kswapd && block::queue_full(ctx, swap_dev) {
        // The submit would block (get_request_wait / sk_stream_wait_memory): the
        // reclaimer sleeps there until the device gives back a slot, then resumes.
        out.blocked = true;
        ctx.congestion_nap(task, SleepFn::IoWait);
        return;
    }
    let room = ctx.swap_free_slots();
    let pages = plain.min(room);
    if pages == 0 {
        return;
    }
    // add_to_swap + pageout → swap_writepage: the pages are now under writeback.
    let z = &mut ctx.st.zones[zone];
    z.anon_inactive -= pages;
    z.anon_writeback += pages;
    // The batch stays isolated (NR_ISOLATED_ANON) until its submit is done.
    z.anon_isolated += pages;
    ctx.st.swap_used += pages;
    ctx.st.counters.pswpout += pages;
    out.written += pages;
    ctx.emit(Event::SwapOut { task, pages });
    rc.pending_swap_submit = pages;
    rc.pending_zone = zone;
    if block::resume_swap_submit(ctx, task, rc) == Step::Sleep {
        out.blocked = true;
    }
}

/// kswapd's main loop for one tick: `balance_pgdat` rounds until every zone is at or
/// above high (then sleep, waking `pfmemalloc_wait`), a sleep inside reclaim, or the
/// per-tick round limit.
pub fn kswapd_run(ctx: &mut Ctx, task: usize) {
    for _ in 0..KSWAPD_ROUNDS_PER_TICK {
        if ctx.st.tasks[task].reclaim.is_none() {
            if (0..ctx.st.zones.len()).all(|z| zone_balanced(ctx, z)) {
                kswapd_sleep(ctx, task);
                return;
            }
            ctx.st.tasks[task].reclaim = Some(ReclaimCtx::new(Gfp::KERNEL));
        }
        let mut rc = ctx.st.tasks[task].reclaim.clone().expect("kswapd pass");
        let step = reclaim_loop(ctx, task, &mut rc, Reclaimer::Kswapd);
        match step {
            Step::Sleep | Step::Yield => {
                ctx.st.tasks[task].reclaim = Some(rc);
                return;
            }
            _ => {
                ctx.st.tasks[task].reclaim = None;
                if rc.nr_reclaimed == 0 && rc.nr_scanned == 0 {
                    // Nothing reclaimable at any priority: sleep until woken again.
                    kswapd_sleep(ctx, task);
                    return;
                }
            }
        }
    }
}

fn kswapd_sleep(ctx: &mut Ctx, task: usize) {
    ctx.st.kswapd_awake = false;
    ctx.st.tasks[task].reclaim = None;
    ctx.emit(Event::KswapdSleep);
    ctx.wake_queue(WaitQueue::PfmemallocWait);
    ctx.sleep(task, SleepFn::Idle, u64::MAX / 4, WaitQueue::KswapdWait);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Zone;

    /// A zone whose inactive anon list holds `inactive` pages on the LRU and `isolated`
    /// more taken off it by reclaimers (both under writeback, as a blocked swap submit
    /// leaves them).
    fn zone(inactive: u64, isolated: u64) -> Zone {
        Zone {
            anon_inactive: inactive,
            anon_writeback: isolated,
            anon_isolated: isolated,
            ..Zone::default()
        }
    }

    /// One case: (inactive, isolated) anon pages, the caller's gfp, whether it is kswapd,
    /// whether the 4.7 inactive/8 rule is on, and the verdict.
    fn check(inactive: u64, isolated: u64, gfp: Gfp, kswapd: bool, v4_7: bool, expected: bool) {
        assert_eq!(
            too_many_isolated(&zone(inactive, isolated), false, gfp, kswapd, v4_7),
            expected,
            "inactive {inactive}, isolated {isolated}, {gfp:?}, kswapd {kswapd}, 4.7 rule {v4_7}"
        );
    }

    #[test]
    fn too_many_isolated_compares_isolated_with_inactive() {
        // 2.6.32 … 4.6 rule: isolated > inactive, whatever the caller's gfp.
        check(1000, 1000, Gfp::KERNEL, false, false, false);
        check(1000, 1001, Gfp::KERNEL, false, false, true);
        check(1000, 1001, Gfp::NOIO, false, false, true);
        // kswapd is never throttled here.
        check(0, 5000, Gfp::KERNEL, true, true, false);
    }

    #[test]
    fn v4_7_divides_inactive_by_8_for_gfp_io_and_fs_callers() {
        // inactive 1000 >> 3 = 125: 126 isolated pages throttle GFP_KERNEL ...
        check(1000, 126, Gfp::KERNEL, false, true, true);
        check(1000, 125, Gfp::KERNEL, false, true, false);
        // ... but not GFP_NOFS (no __GFP_FS) or GFP_NOIO (neither) callers, which may
        // isolate up to the whole inactive list (kcryptd keeps going).
        check(1000, 126, Gfp::NOFS, false, true, false);
        check(1000, 1000, Gfp::NOIO, false, true, false);
        check(1000, 1001, Gfp::NOIO, false, true, true);
    }

    #[test]
    fn isolated_pages_are_not_on_the_inactive_list() {
        let z = zone(1000, 126);
        assert_eq!(z.nr_inactive_anon(), 1000);
        assert_eq!(z.anon(), 1126, "still counted in the zone (conservation)");
        // No file page is ever isolated between ticks.
        let mut f = Zone {
            file_inactive: 10,
            ..Zone::default()
        };
        f.file_dirty = vec![0];
        f.file_writeback = vec![0];
        assert!(!too_many_isolated(&f, true, Gfp::KERNEL, false, true));
    }
}
