//! The page allocator: `get_page_from_freelist` over the zonelist and a resumable
//! `__alloc_pages_slowpath` in the 2.6.35, 3.6 and 4.7 shapes (mm/page_alloc.c,
//! kernel-mm.md §2.2–§2.4). A request asks for `want` order-0 pages at once: pages are
//! counts, and one call serves a whole tick's worth of faults of a task.

use super::event::{Event, SleepFn, ALLOC_FAIL_FUNCTION};
use super::gfp::{gfp_to_alloc_flags, AllocFlags, Gfp};
use super::policy::AllocSlowpath;
use super::state::{AllocReq, SlowStage, WaitQueue};
use super::time::{HZ, HZ_DIV_50};
use super::watermarks::{order0_floor, pages_allowed, Mark};
use super::{oom_kill, vmscan, Ctx, Step};

/// `MAX_RECLAIM_RETRIES` (4.7 `should_reclaim_retry`).
pub const MAX_RECLAIM_RETRIES: u32 = 16;

/// What the allocated pages become.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageUse {
    /// Anonymous memory of the task (page fault).
    Anon,
    /// A page-cache page dirtied for `device`.
    FileDirty { device: usize },
    /// A page-cache page for a read in flight: locked (not yet uptodate) until the read
    /// completes, so reclaim's `trylock_page` fails on it (kernel-mm.md §11.5: the
    /// readahead pages of Rientjes' trace are such pages).
    FileLocked,
    /// Kernel memory: slab, mempool element, skb, ciphertext page.
    Kernel,
}

/// `get_page_from_freelist`: take up to `want` pages, zone by zone (highest zone first,
/// as a zonelist for a movable/normal allocation is ordered), each zone only while its
/// free count stays above the mark after the HIGH/HARDER cuts. Returns pages taken.
pub fn get_page_from_freelist(
    ctx: &mut Ctx,
    task: usize,
    want: u64,
    mark: Mark,
    af: AllocFlags,
    use_: PageUse,
) -> u64 {
    freelist(ctx, task, want, mark, af, use_)
}

/// The fast path's `get_page_from_freelist` (ALLOC_WMARK_LOW, no other alloc_flags):
/// the same body, compiled with the mark and the flags known, so the floor is the low
/// mark plus the reserve with no cuts to test. Half the allocator's tries are this one.
#[inline(always)]
fn get_page_from_freelist_low(ctx: &mut Ctx, task: usize, want: u64, use_: PageUse) -> u64 {
    freelist(ctx, task, want, Mark::Low, AllocFlags::default(), use_)
}

/// The slow path's tries at min without ALLOC_NO_WATERMARKS (the first one after waking
/// kswapd, the one after direct reclaim, the atomic callers' second): `af` with that
/// flag masked out, which is how the callers build it; one body for them all.
#[inline(always)]
fn get_page_from_freelist_min(
    ctx: &mut Ctx,
    task: usize,
    want: u64,
    af: AllocFlags,
    use_: PageUse,
) -> u64 {
    let at_min = AllocFlags {
        no_watermarks: false,
        ..af
    };
    freelist(ctx, task, want, Mark::Min, at_min, use_)
}

/// The body of `get_page_from_freelist`, inlined into each entry point above so that
/// the constant mark and flags of the fast-path and min tries fold away; the low and min
/// entry points are inlined in turn into their callers (the slow path, alloc_no_reclaim),
/// which spares the calls and lets the callers' `want` and `use_` fold too. The browser
/// build does the same: with the stack-depth lookups (lib.rs) the copies cost 1.8 KB of
/// its gzipped .wasm and take 6 % off the core's instructions in V8 (BENCHMARKS.md).
#[inline(always)]
fn freelist(
    ctx: &mut Ctx,
    task: usize,
    want: u64,
    mark: Mark,
    af: AllocFlags,
    use_: PageUse,
) -> u64 {
    let mut got = 0;
    for zone_idx in (0..ctx.st.zones.len()).rev() {
        if got == want {
            break;
        }
        let wm = ctx.st.wmarks[zone_idx];
        // __zone_watermark_ok: `free <= min + lowmem_reserve[classzone_idx]` fails; the
        // ALLOC_NO_WATERMARKS attempt skips the test, reserve and all.
        let lowmem_reserve = lowmem_reserve(ctx, zone_idx);
        let floor = order0_floor(wm.get(mark), af.high, af.harder, af.no_watermarks)
            .map(|m| m + lowmem_reserve);
        let zone = &mut ctx.st.zones[zone_idx];
        let n = pages_allowed(zone.free, floor, want - got);
        if n == 0 {
            continue;
        }
        zone.free -= n;
        // Of the `n` pages, those taken below min: min - free after, at most n. It is
        // what `min - free` grew by (saturated at 0 before and after), and it is positive
        // exactly when free ends below min (n > 0 here).
        let below_min = wm.min().saturating_sub(zone.free).min(n);
        match use_ {
            PageUse::Anon => zone.anon_active += n,
            PageUse::FileDirty { device } => zone.file_dirty_add(device, n),
            PageUse::FileLocked => zone.file_locked += n,
            PageUse::Kernel => {
                zone.kernel += n;
                if af.no_watermarks {
                    // page->pfmemalloc: the page came from the reserve-bypassing attempt
                    // (v3.6 get_page_from_freelist; kernel-mm.md §7.2).
                    zone.kernel_pfmemalloc += below_min;
                }
            }
        }
        if below_min > 0 {
            let free_after = zone.free;
            emit_reserve_used(ctx, task, zone_idx, below_min, free_after, floor, af);
        }
        got += n;
    }
    got
}

/// The event for pages taken below min. Out of line: the common allocation takes none,
/// and keeping the event's construction out of `get_page_from_freelist` spares every
/// call its register spills.
#[cold]
#[inline(never)]
fn emit_reserve_used(
    ctx: &mut Ctx,
    task: usize,
    zone: usize,
    pages: u64,
    free_after: u64,
    floor: Option<u64>,
    af: AllocFlags,
) {
    let reason = below_min_reason(af, ctx.st.tasks[task].flags);
    ctx.emit(Event::ReserveUsed {
        task,
        zone,
        pages,
        free_after,
        floor: floor.unwrap_or(0),
        reason,
    });
}

/// `zone->lowmem_reserve[classzone_idx]` (0 for a machine with one zone).
pub fn lowmem_reserve(ctx: &Ctx, zone_idx: usize) -> u64 {
    ctx.st.lowmem_reserve.get(zone_idx).copied().unwrap_or(0)
}

/// Why an allocation may take pages below min, for the event log and the gauges.
fn below_min_reason(af: AllocFlags, flags: super::gfp::TaskFlags) -> &'static str {
    match (af.no_watermarks, af.high, af.harder) {
        (true, _, _) if flags.memdie => "TIF_MEMDIE",
        (true, _, _) if flags.memalloc => "PF_MEMALLOC",
        (true, _, _) => "__GFP_MEMALLOC",
        (false, true, true) => "ALLOC_HIGH|ALLOC_HARDER",
        (false, true, false) => "ALLOC_HIGH",
        (false, false, true) => "ALLOC_HARDER",
        (false, false, false) => "min watermark",
    }
}

/// Pages allocated with the fast path only (`ALLOC_WMARK_LOW`), then the min-mark try:
/// what `alloc_pages` achieves without entering reclaim. Used by atomic callers.
// Inlined in the browser build (no PGO there): NET_RX allocates through it for every
// packet: 1.3 % of a recorded run of swap over NBD in V8 (BENCHMARKS.md).
#[cfg_attr(target_arch = "wasm32", inline(always))]
pub fn alloc_no_reclaim(ctx: &mut Ctx, task: usize, want: u64, gfp: Gfp, use_: PageUse) -> u64 {
    let mut got = get_page_from_freelist_low(ctx, task, want, use_);
    if got < want {
        if gfp.has(Gfp::KSWAPD_RECLAIM) {
            wakeup_kswapd(ctx);
        }
        let flags = ctx.st.tasks[task].flags;
        let af = gfp_to_alloc_flags(gfp, flags, ctx.st.knobs.alloc_slowpath);
        got += get_page_from_freelist_min(ctx, task, want - got, af, use_);
        if got < want && af.no_watermarks {
            got += get_page_from_freelist(ctx, task, want - got, Mark::Min, af, use_);
        }
    }
    got
}

/// `wakeup_kswapd` (all zones share one node here).
pub fn wakeup_kswapd(ctx: &mut Ctx) {
    if !ctx.st.kswapd_awake {
        ctx.st.kswapd_awake = true;
        ctx.st.counters.kswapd_wakeups += 1;
        ctx.emit(Event::KswapdWake {
            zone: ctx.st.zones.len() - 1,
        });
    }
    if let Some(k) = ctx.kswapd_task() {
        ctx.wake_task(k);
    }
}

/// `pfmemalloc_watermark_ok` (3.6 … 4.7 vmscan.c): free in zones ≤ NORMAL above half
/// their min. Zones without reclaimable pages (`zone_reclaimable_pages() == 0`) are left
/// out of both sums; with no reserve left to count it does not throttle.
pub fn pfmemalloc_watermark_ok(ctx: &Ctx) -> bool {
    let swap_room = ctx.swap_room();
    let (mut free, mut reserve) = (0, 0);
    for (zone_idx, zone) in ctx.st.zones.iter().enumerate() {
        if ctx.cfg.zones[zone_idx].highmem || zone.reclaimable(swap_room) == 0 {
            continue;
        }
        free += zone.free;
        reserve += ctx.st.wmarks[zone_idx].min();
    }
    reserve == 0 || free > reserve / 2
}

/// Starts an allocation request for the task (the caller then drives `alloc_pages`).
pub fn begin(ctx: &mut Ctx, task: usize, gfp: Gfp, want: u64) {
    debug_assert!(
        ctx.st.tasks[task].alloc.is_none(),
        "one page allocation at a time per task"
    );
    ctx.st.tasks[task].alloc = Some(AllocReq {
        gfp,
        want,
        stage: SlowStage::Fast,
        no_progress_loops: 0,
        did_some_progress: false,
        got: 0,
    });
}

/// Drives the task's pending `AllocReq`. Pages obtained are added to `*got` as they come;
/// `Step::Done` when `want` is met, `Step::Fail` when the slow path gives up, otherwise
/// the task sleeps (`Step::Sleep`) or yields the CPU until next tick (`Step::Yield`).
pub fn alloc_pages(ctx: &mut Ctx, task: usize, use_: PageUse, got: &mut u64) -> Step {
    let pending = ctx.st.tasks[task]
        .alloc
        .as_ref()
        .expect("alloc_pages without a request");
    // The request counts what it obtained across sleeps, so a resumed slow path asks only
    // for the rest (`*got` reports this call's pages to the caller).
    let (stage, before) = (pending.stage, pending.got);
    let rest = remaining(pending, before);
    // The fast path: the first get_page_from_freelist, at the low mark. It reads nothing
    // of the request but the pages still wanted (and nothing it calls reads the request),
    // so it runs before the request is copied out, and an allocation it completes ends
    // here without the copy and the write-back.
    let mut fast = 0;
    if stage == SlowStage::Fast {
        fast = get_page_from_freelist_low(ctx, task, rest, use_);
        // It returns at most `rest`: equal means nothing remains.
        if fast == rest {
            *got += fast;
            ctx.st.tasks[task].alloc = None;
            return Step::Done;
        }
    }
    let mut req = ctx.st.tasks[task]
        .alloc
        .clone()
        .expect("alloc_pages without a request");
    let mut total = before + fast;
    let step = slowpath(ctx, task, use_, &mut req, &mut total);
    *got += total - req.got;
    req.got = total;
    ctx.st.tasks[task].alloc = match step {
        Step::Done | Step::Fail => None,
        Step::Sleep | Step::Yield => Some(req),
    };
    step
}

fn remaining(req: &AllocReq, got: u64) -> u64 {
    req.want.saturating_sub(got)
}

fn slowpath(ctx: &mut Ctx, task: usize, use_: PageUse, req: &mut AllocReq, got: &mut u64) -> Step {
    let shape = ctx.st.knobs.alloc_slowpath;
    // The flags as the call enters: direct reclaim below sets and clears PF_MEMALLOC, and
    // the alloc_flags of this call are those of its entry.
    let flags = ctx.st.tasks[task].flags;
    // gfp_to_alloc_flags depends on nothing but these three, so it is computed where a
    // stage first needs it: the fast-path try at the low mark (and a resumed pass still
    // reclaiming) does not.
    let gfp = req.gfp;
    let alloc_flags = move || gfp_to_alloc_flags(gfp, flags, shape);

    if req.stage == SlowStage::Fast {
        // The try at the low mark ran in alloc_pages and left pages to get.
        // Slow path step 1: wake kswapd, then try at min with ALLOC_NO_WATERMARKS masked out.
        if req.gfp.has(Gfp::KSWAPD_RECLAIM) {
            wakeup_kswapd(ctx);
        }
        *got += get_page_from_freelist_min(ctx, task, remaining(req, *got), alloc_flags(), use_);
        if remaining(req, *got) == 0 {
            return Step::Done;
        }
        req.stage = SlowStage::Rebalance;
    }

    if req.stage == SlowStage::Rebalance {
        // rebalance: the no-watermarks try (`__alloc_pages_high_priority`).
        let af = alloc_flags();
        if af.no_watermarks {
            *got += get_page_from_freelist(ctx, task, remaining(req, *got), Mark::Min, af, use_);
            if remaining(req, *got) == 0 {
                return Step::Done;
            }
        }
        if !req.gfp.can_direct_reclaim() {
            return fail(ctx, task, req);
        }
        // Reclaimers never recurse into reclaim; an OOM victim fails instead of reclaiming.
        if flags.memalloc || flags.memdie {
            return fail(ctx, task, req);
        }
        // throttle_direct_reclaim (3.6+, kernel-mm.md §7.6): kernel threads and tasks with
        // a fatal signal pending are exempt; a GFP_TRANSIENT allocation is never throttled
        // (§14.2).
        if ctx.st.knobs.pfmemalloc_reserves
            && shape != AllocSlowpath::V2_6_35
            && !flags.kthread
            && !ctx.st.tasks[task].killed
            && !req.gfp.has(Gfp::TRANSIENT)
            && !pfmemalloc_watermark_ok(ctx)
        {
            wakeup_kswapd(ctx);
            ctx.st.counters.pgscan_direct_throttle += 1;
            req.stage = SlowStage::Reclaim;
            let timeout = if req.gfp.has(Gfp::FS) {
                u64::MAX / 4
            } else {
                HZ
            };
            ctx.sleep(
                task,
                SleepFn::PfmemallocWait,
                timeout,
                WaitQueue::PfmemallocWait,
            );
            return Step::Sleep;
        }
        req.stage = SlowStage::Reclaim;
    }

    // Direct reclaim (`__alloc_pages_direct_reclaim` with PF_MEMALLOC around it).
    if ctx.st.tasks[task].reclaim.is_none() {
        vmscan::begin_direct_reclaim(ctx, task, req.gfp);
    }
    match vmscan::direct_reclaim(ctx, task) {
        Step::Sleep => return Step::Sleep,
        Step::Yield => return Step::Yield,
        Step::Done | Step::Fail => {}
    }
    let reclaimed = vmscan::end_direct_reclaim(ctx, task);
    // 2.6.35/3.6: do_try_to_free_pages reports progress while any zone is still
    // reclaimable ("Any of the zones still reclaimable? Don't OOM."), not only when it
    // freed pages. 4.7 ("mm, oom: rework oom detection", Hocko) dropped that line:
    // progress is pages reclaimed, and should_reclaim_retry decides whether the
    // reclaimable pages left are worth another round (kernel-mm.md §2.4).
    let progress = match shape {
        AllocSlowpath::V4_7 => reclaimed > 0,
        AllocSlowpath::V2_6_35 | AllocSlowpath::V3_6 => {
            reclaimed > 0 || vmscan::any_zone_reclaimable(ctx)
        }
    };
    req.did_some_progress = progress;
    *got += get_page_from_freelist_min(ctx, task, remaining(req, *got), alloc_flags(), use_);
    if remaining(req, *got) == 0 {
        return Step::Done;
    }
    if req.gfp.has(Gfp::NORETRY) {
        return fail(ctx, task, req);
    }
    req.stage = SlowStage::Rebalance;
    match shape {
        AllocSlowpath::V2_6_35 | AllocSlowpath::V3_6 => {
            if !progress && req.gfp.has(Gfp::FS) {
                may_oom(ctx, task, req, use_, got);
                if remaining(req, *got) == 0 {
                    return Step::Done;
                }
            }
            // should_alloc_retry: order-0 allocations retry forever, after a HZ/50 nap.
            let function = if shape == AllocSlowpath::V2_6_35 {
                SleepFn::CongestionWait
            } else {
                SleepFn::WaitIffCongested
            };
            nap(ctx, task, function, HZ_DIV_50, req.gfp)
        }
        AllocSlowpath::V4_7 => {
            req.no_progress_loops = if progress {
                0
            } else {
                req.no_progress_loops + 1
            };
            if should_reclaim_retry(ctx, req.no_progress_loops) {
                if !progress && dirty_writeback_heavy(ctx) {
                    ctx.congestion_nap(task, SleepFn::CongestionWait);
                    return Step::Sleep;
                }
                return Step::Yield;
            }
            may_oom(ctx, task, req, use_, got);
            req.no_progress_loops = 0;
            if remaining(req, *got) == 0 {
                return Step::Done;
            }
            Step::Yield
        }
    }
}

/// The allocator's retry nap: `congestion_wait` sleeps the full timeout unless a BDI
/// leaves congestion; `wait_iff_congested` sleeps only while some BDI is congested.
fn nap(ctx: &mut Ctx, task: usize, function: SleepFn, timeout: u64, gfp: Gfp) -> Step {
    if gfp.has(Gfp::TRANSIENT) {
        return Step::Yield;
    }
    if function == SleepFn::WaitIffCongested && !ctx.any_congested() {
        return Step::Yield;
    }
    ctx.sleep(task, function, timeout, WaitQueue::Congestion);
    Step::Sleep
}

/// 4.7 `should_reclaim_retry`: would free + reclaimable (discounted by the number of
/// no-progress loops) pass the min watermark of some zone?
fn should_reclaim_retry(ctx: &Ctx, no_progress_loops: u32) -> bool {
    if no_progress_loops > MAX_RECLAIM_RETRIES {
        return false;
    }
    let swap_room = ctx.swap_room();
    (0..ctx.st.zones.len()).any(|z| {
        let zone = &ctx.st.zones[z];
        let reclaimable = zone.reclaimable(swap_room);
        // available = reclaimable - DIV_ROUND_UP(loops * reclaimable, 16) + free, tested
        // by __zone_watermark_ok against min + lowmem_reserve[classzone_idx].
        let discount = (reclaimable * u64::from(no_progress_loops))
            .div_ceil(u64::from(MAX_RECLAIM_RETRIES))
            .min(reclaimable);
        let available = zone.free + reclaimable - discount;
        available > ctx.st.wmarks[z].min() + lowmem_reserve(ctx, z)
    })
}

/// 4.7: no progress while dirty + writeback exceed half the reclaimable pages.
fn dirty_writeback_heavy(ctx: &Ctx) -> bool {
    let swap_room = ctx.swap_room();
    ctx.st.zones.iter().any(|z| {
        let busy = z.file_dirty_total() + z.file_writeback_total() + z.anon_writeback;
        busy > z.reclaimable(swap_room) / 2
    })
}

/// `__alloc_pages_may_oom`: one more try at the high mark, then `out_of_memory`.
fn may_oom(ctx: &mut Ctx, task: usize, req: &AllocReq, use_: PageUse, got: &mut u64) {
    *got += get_page_from_freelist(
        ctx,
        task,
        remaining(req, *got),
        Mark::High,
        AllocFlags::default(),
        use_,
    );
    if remaining(req, *got) == 0 {
        return;
    }
    oom_kill::out_of_memory(ctx, task, req.gfp);
}

fn fail(ctx: &mut Ctx, task: usize, req: &AllocReq) -> Step {
    ctx.st.counters.alloc_failures += 1;
    if !req.gfp.has(Gfp::NOWARN) {
        ctx.emit(Event::AllocFail {
            task,
            gfp: req.gfp.describe(),
            function: ALLOC_FAIL_FUNCTION,
        });
    }
    Step::Fail
}
