//! Dirty-page accounting and writeback throttling (mm/page-writeback.c, fs/fs-writeback.c;
//! kernel-mm.md §5): dirtyable memory and the dirty thresholds with the PF_LESS_THROTTLE
//! bonus, `balance_dirty_pages` in its 2.6.35 and IO-less forms, `throttle_vm_writeout`'s
//! limit, the flusher thread, and nfsd serving a loopback mount.

use super::config::{Config, DeviceKind};
use super::event::SleepFn;
use super::gfp::Gfp;
use super::page_alloc::{self, PageUse};
use super::policy::{AllocSlowpath, DirtyThrottling};
use super::state::State;
use super::state::WaitQueue;
use super::time::{HZ, HZ_DIV_10};
use super::{block, Ctx, Step};

/// `dirty_writeback_interval`: the flusher's periodic (kupdate) pass, 500 centisecs.
pub const DIRTY_WRITEBACK_INTERVAL_TICKS: u64 = 5 * HZ;
/// IO-less throttling's longest pause (`MAX_PAUSE`, HZ/5).
pub const MAX_PAUSE_TICKS: u64 = HZ / 5;
/// 2.6.35 `write_chunk` = ratelimit + ratelimit/2 with `ratelimit_pages` = 32.
pub const WRITE_CHUNK_PAGES: u64 = 48;

/// Dirtyable memory: 2.6.35 counts free + file + anon (with swap); 3.x/4.7 count
/// (free − totalreserve) + file only, so a box full of anon has tiny dirty limits (§5.1).
pub fn dirtyable_pages(cfg: &Config, st: &State) -> u64 {
    // 2.6.35 counts all free pages; 3.3+ subtract totalreserve_pages (≈ Σ high).
    let old = st.knobs.alloc_slowpath == AllocSlowpath::V2_6_35;
    let with_anon = st.knobs.dirtyable_anon && cfg.swap.is_some();
    let mut total = 1;
    for (z, zone) in st.zones.iter().enumerate() {
        if cfg.zones[z].highmem {
            continue;
        }
        let free = if old {
            zone.free
        } else {
            zone.free.saturating_sub(st.wmarks[z].high())
        };
        total += free + zone.file();
        if with_anon {
            total += zone.anon();
        }
    }
    total
}

/// `global_dirty_limits` / `domain_dirty_limits` for `task`: (background, dirty) in pages.
pub fn dirty_limits(ctx: &Ctx, task: Option<usize>) -> (u64, u64) {
    limits_for(ctx.cfg, ctx.st, task)
}

/// [`dirty_limits`] on a read-only state (charts and samples).
pub fn limits_for(cfg: &Config, st: &State, task: Option<usize>) -> (u64, u64) {
    let dirtyable = dirtyable_pages(cfg, st);
    let knobs = &st.knobs;
    let mut dirty = dirtyable * knobs.dirty_ratio / 100;
    let mut bg = dirtyable * knobs.dirty_background_ratio / 100;
    if bg >= dirty {
        bg = dirty / 2;
    }
    let bonus = task.is_some_and(|t| st.tasks[t].flags.less_throttle || cfg.tasks[t].realtime);
    if bonus {
        if knobs.alloc_slowpath == AllocSlowpath::V4_7 {
            // NeilBrown's a53eaff8c119 ("MM: increase safety margin provided by
            // PF_LESS_THROTTLE", v4.7-rc1) adds 1/32 of global_wb_domain.dirty_limit —
            // the smoothed limit of `update_dirty_limit`, not this call's threshold.
            let domain_limit = st.dirty_limit_pages;
            bg += bg / 4 + domain_limit / 32;
            dirty += dirty / 4 + domain_limit / 32;
        } else {
            bg += bg / 4;
            dirty += dirty / 4;
        }
    }
    (bg, dirty)
}

pub fn global_dirty(ctx: &Ctx) -> u64 {
    ctx.st.zones.iter().map(|z| z.file_dirty_total()).sum()
}

/// NR_WRITEBACK: file and swap pages under writeback.
pub fn global_writeback(ctx: &Ctx) -> u64 {
    ctx.st
        .zones
        .iter()
        .map(|z| z.file_writeback_total() + z.anon_writeback)
        .sum()
}

/// `hard_dirty_limit`: with IO-less throttling the global domain's `dirty_limit` follows
/// the threshold up at once but down only slowly, so a sudden anonymous-memory storm
/// shrinks it over seconds, not instantly.
fn hard_dirty_limit(st: &State, thresh: u64) -> u64 {
    match st.knobs.dirty_throttling {
        DirtyThrottling::IoLess => thresh.max(st.dirty_limit_pages),
        DirtyThrottling::V2_6_35 => thresh,
    }
}

/// `throttle_vm_writeout`'s test: writeback + unstable above 110 % of the caller's
/// (hard) dirty threshold (PF_LESS_THROTTLE inflates the threshold).
pub fn vm_writeout_over_limit(ctx: &Ctx, task: usize) -> bool {
    let writeback = global_writeback(ctx);
    // Called at the end of every shrink_zone: skip computing the threshold when writeback
    // is within 110 % of a floor the hard limit never goes below (the same answer).
    let floor = match ctx.st.knobs.dirty_throttling {
        DirtyThrottling::IoLess => ctx.st.dirty_limit_pages,
        DirtyThrottling::V2_6_35 => 0,
    };
    if writeback <= floor + floor / 10 {
        return false;
    }
    let (_, dirty) = dirty_limits(ctx, Some(task));
    let dirty = hard_dirty_limit(ctx.st, dirty);
    writeback > dirty + dirty / 10
}

/// The limit `throttle_vm_writeout` compares against for an ordinary task (for charts).
pub fn vm_writeout_limit(cfg: &Config, st: &State) -> u64 {
    let (_, dirty) = limits_for(cfg, st, None);
    let dirty = hard_dirty_limit(st, dirty);
    dirty + dirty / 10
}

/// `BANDWIDTH_INTERVAL` (HZ/5): how often the domain's `dirty_limit` is updated.
pub const BANDWIDTH_INTERVAL_TICKS: u64 = HZ / 5;

/// `update_dirty_limit` (3.2+): follow the threshold up in one step, down by 1/32 of the
/// gap per interval, never below the dirty pages. In v4.7 only a task dirtying files
/// reaches it (balance_dirty_pages → __wb_update_bandwidth → domain_update_bandwidth,
/// once past freerun); here it runs every interval — a stand-in for the file dirtying a
/// real machine always has (logs, journals), which the scenarios do not model. Measured
/// (branch `wbdomain`, not merged): with the literal v4.7 rule, a machine where nothing
/// dirties files keeps its boot-time limit, and swap on dm-crypt under 4.8 loses kcryptd's
/// throttle_vm_writeout sleeps (42 % → 1 % of the run) — the story Mikulas reported.
pub fn update_dirty_limit(cfg: &Config, st: &mut State) {
    if !st.tick.is_multiple_of(BANDWIDTH_INTERVAL_TICKS) {
        return;
    }
    let (_, thresh) = limits_for(cfg, st, None);
    let limit = st.dirty_limit_pages;
    if limit < thresh {
        st.dirty_limit_pages = thresh;
        return;
    }
    let dirty: u64 = st.zones.iter().map(|z| z.file_dirty_total()).sum();
    let target = thresh.max(dirty);
    if limit > target {
        st.dirty_limit_pages = limit - ((limit - target) >> 5);
    }
}

/// `wakeup_flusher_threads(nr_pages)`: reclaim asks for `nr_pages` to be written. A BDI
/// without dirty inodes is skipped (`if (!bdi_has_dirty_io(bdi)) continue;`, 2.6.35 …
/// 4.x), so with no dirty file page anywhere nobody is woken: reclaim of a swap-only
/// machine does not keep the flusher busy.
pub fn wakeup_flusher(ctx: &mut Ctx, nr_pages: u64) {
    if global_dirty(ctx) == 0 {
        return;
    }
    ctx.st.flusher_kick_pages = ctx.st.flusher_kick_pages.saturating_add(nr_pages);
    if let Some(f) = ctx.flusher_task() {
        ctx.wake_task(f);
    }
}

/// `balance_dirty_pages` after `task` dirtied pages of `device`. `Step::Done` lets the
/// writer go on; `Step::Sleep` means it paused (and will re-check when it wakes).
pub fn balance_dirty_pages(ctx: &mut Ctx, task: usize, device: usize) -> Step {
    let (bg, limit) = dirty_limits(ctx, Some(task));
    let nr = global_dirty(ctx) + global_writeback(ctx);
    let freerun = (bg + limit) / 2;
    if nr <= freerun {
        ctx.st.tasks[task].bdp_pause_ticks = 0;
        return Step::Done;
    }
    if global_dirty(ctx) > bg {
        // bdi_start_background_writeback.
        wakeup_flusher(ctx, 0);
    }
    match ctx.st.knobs.dirty_throttling {
        DirtyThrottling::IoLess => {
            let pause = if nr > limit {
                MAX_PAUSE_TICKS
            } else {
                (MAX_PAUSE_TICKS * (nr - freerun) / (limit - freerun).max(1)).max(1)
            };
            ctx.sleep(task, SleepFn::BalanceDirtyPages, pause, WaitQueue::Timer);
            Step::Sleep
        }
        DirtyThrottling::V2_6_35 => {
            // The writer writes up to write_chunk pages of its own BDI itself…
            if ctx.is_local_fs(device) && !block::queue_full(ctx, device) {
                write_some(ctx, device, WRITE_CHUNK_PAGES * ctx.cfg.parallelism);
            }
            if nr <= limit {
                ctx.st.tasks[task].bdp_pause_ticks = 0;
                return Step::Done;
            }
            // …then naps: 1 jiffy, doubling up to HZ/10.
            let t = &mut ctx.st.tasks[task];
            t.bdp_pause_ticks = (t.bdp_pause_ticks * 2).clamp(1, HZ_DIV_10);
            let pause = t.bdp_pause_ticks;
            ctx.sleep(task, SleepFn::BalanceDirtyPages, pause, WaitQueue::Timer);
            Step::Sleep
        }
    }
}

/// Moves up to `max_pages` dirty pages of `device` to writeback and submits them.
/// Returns pages submitted.
pub fn write_some(ctx: &mut Ctx, device: usize, max_pages: u64) -> u64 {
    let mut written = 0;
    for zone in 0..ctx.st.zones.len() {
        let n = ctx.st.zones[zone].file_dirty[device].min(max_pages - written);
        if n == 0 {
            continue;
        }
        let z = &mut ctx.st.zones[zone];
        z.file_dirty_to_writeback(device, n);
        block::submit_file_writeback(ctx, zone, device, n);
        written += n;
    }
    written
}

/// The flusher (`wb_writeback`): background writeback while dirty pages exceed the
/// background threshold, the pages reclaim asked for (`wakeup_flusher_threads`), and a
/// periodic kupdate pass every 5 s. Page ages are not tracked: the periodic pass writes a
/// sixth of the dirty pages, the share that passes the 30 s `dirty_expire` per 5 s interval
/// in steady state. Limited by free request slots.
pub fn flusher_run(ctx: &mut Ctx, task: usize) {
    let (bg, _) = dirty_limits(ctx, None);
    let dirty = global_dirty(ctx);
    let periodic = ctx.st.tick.is_multiple_of(DIRTY_WRITEBACK_INTERVAL_TICKS);
    let background = dirty.saturating_sub(bg);
    let kicked = std::mem::take(&mut ctx.st.flusher_kick_pages);
    let mut budget = background
        .max(kicked)
        .max(if periodic { dirty.div_ceil(6) } else { 0 });
    if budget == 0 || dirty == 0 {
        let next = DIRTY_WRITEBACK_INTERVAL_TICKS - ctx.st.tick % DIRTY_WRITEBACK_INTERVAL_TICKS;
        ctx.sleep(task, SleepFn::Idle, next, WaitQueue::Work);
        return;
    }
    let mut wrote = 0;
    for device in 0..ctx.cfg.devices.len() {
        let slots = match ctx.cfg.devices[device].kind {
            DeviceKind::Disk { .. } => ctx.cfg.devices[device]
                .nr_requests
                .saturating_sub(ctx.st.devices[device].queue.len() as u64),
            DeviceKind::NfsLoopback { .. } => ctx.cfg.devices[device]
                .nr_requests
                .saturating_sub(block::in_flight(ctx, device)),
            _ => 0,
        };
        let limit = (slots * ctx.cfg.devices[device].request_pages).min(budget);
        if limit > 0 {
            let n = write_some(ctx, device, limit);
            wrote += n;
            budget -= n;
        }
    }
    if wrote > 0 {
        // Mel Gorman's flusher trace: xfs_vm_writepages → … → get_page_from_freelist, 5064 bytes.
        let depth = ctx.stacks.flusher.bytes + ctx.stacks.flusher_writepage.bytes;
        ctx.record_depth(task, depth, false);
    }
    // Unfinished work (queue full): keep the request and come back as the device drains.
    ctx.st.flusher_kick_pages = ctx.st.flusher_kick_pages.saturating_add(budget.min(kicked));
    ctx.sleep(
        task,
        SleepFn::Idle,
        if background > 0 || budget > 0 { 1 } else { 10 },
        WaitQueue::Work,
    );
}

/// nfsd serving a loopback NFS mount: for each WRITE it copies the client's pages into the
/// local filesystem's page cache (dirtying them, then `balance_dirty_pages` for nfsd —
/// with the PF_LESS_THROTTLE bonus when the knob is on), and only then does the client's
/// writeback complete (kernel-mm.md §11.4).
pub fn nfsd_run(ctx: &mut Ctx, task: usize, device: usize) {
    let DeviceKind::NfsLoopback { server_fs } = ctx.cfg.devices[device].kind else {
        unreachable!("nfsd on a non-NFS device");
    };
    ctx.st.tasks[task].flags.less_throttle = ctx.st.knobs.nfsd_less_throttle;
    for _ in 0..8 {
        // Re-check a pause of balance_dirty_pages before taking more work.
        if ctx.st.tasks[task].in_bdp {
            if balance_dirty_pages(ctx, task, server_fs) == Step::Sleep {
                return;
            }
            ctx.st.tasks[task].in_bdp = false;
            let req = ctx.st.devices[device]
                .work
                .pop_front()
                .expect("nfsd holds a request");
            ctx.st.tasks[task].op_done = 0;
            ctx.st.devices[device].worker_done_tick = ctx.st.tick;
            block::complete_request(ctx, req);
            // nfs_end_page_writeback: the client's count drops with the pages.
            block::update_congestion(ctx, device);
            continue;
        }
        let Some(head) = ctx.st.devices[device].work.front() else {
            ctx.sleep(task, SleepFn::Idle, u64::MAX / 4, WaitQueue::Work);
            return;
        };
        let pages = head.pages;
        let have = ctx.st.tasks[task].op_done;
        if have < pages {
            if ctx.st.tasks[task].alloc.is_none() {
                page_alloc::begin(ctx, task, Gfp::KERNEL, pages - have);
            }
            let mut got = 0;
            let step = page_alloc::alloc_pages(
                ctx,
                task,
                PageUse::FileDirty { device: server_fs },
                &mut got,
            );
            ctx.st.tasks[task].op_done += got;
            if matches!(step, Step::Sleep | Step::Yield) {
                return;
            }
            continue;
        }
        ctx.st.tasks[task].in_bdp = true;
    }
}
