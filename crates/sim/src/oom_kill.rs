//! The OOM killer and the OOM reaper (mm/oom_kill.c, 4.7; kernel-mm.md §8).
//!
//! `out_of_memory` kills the task with the largest footprint unless the request lacks
//! __GFP_FS or a previous victim still holds TIF_MEMDIE (OOM_SCAN_ABORT). The reaper
//! (4.6+, knob `oom_reaper`) unmaps a victim's anonymous memory up to 10 times HZ/10
//! apart, then clears TIF_MEMDIE so another victim may be chosen.

use super::config::{Config, TaskKind};
use super::event::{Event, MemInfo, ZoneMemInfo};
use super::gfp::Gfp;
use super::state::{State, WaitQueue};
use super::time::HZ_DIV_10;
use super::Ctx;

/// `MAX_OOM_REAP_RETRIES`.
pub const MAX_OOM_REAP_RETRIES: u32 = 10;

/// `PTRS_PER_PTE` (x86-64): one page-table page maps this many pages.
const PTRS_PER_PTE: u64 = 512;

/// `oom_badness` (4.7): resident pages + swap entries + page-table pages (`nr_ptes`; one
/// per 512 pages the task has touched). oom_score_adj is 0 for every modelled task.
fn badness(ctx: &Ctx, task: usize) -> u64 {
    let t = &ctx.st.tasks[task];
    let touched = t.anon_resident + t.anon_swapped;
    touched + touched.div_ceil(PTRS_PER_PTE)
}

/// The score `oom_kill_process` prints: `select_bad_process` normalises the badness to
/// thousandths of `totalpages` = totalram_pages + total_swap_pages (`constrained_alloc`).
fn points(ctx: &Ctx, badness: u64) -> u64 {
    let swap_pages = ctx.cfg.swap.as_ref().map_or(0, |s| s.total_pages);
    let totalpages = (ctx.cfg.managed_pages() + swap_pages).max(1);
    badness * 1000 / totalpages
}

/// `show_mem` as `dump_header` (and `warn_alloc_failed`) calls it: every zone's counters
/// and watermarks, and swap.
pub(crate) fn mem_info(cfg: &Config, st: &State) -> MemInfo {
    let zones = st
        .zones
        .iter()
        .zip(&st.wmarks)
        .map(|(z, w)| ZoneMemInfo {
            free: z.free,
            min: w.min(),
            low: w.low(),
            high: w.high(),
            active_anon: z.anon_active,
            inactive_anon: z.nr_inactive_anon(),
            isolated_anon: z.anon_isolated,
            active_file: z.file_active,
            inactive_file: z.nr_inactive_file(),
            dirty: z.file_dirty_total(),
            writeback: z.file_writeback_total() + z.anon_writeback,
            slab: z.kernel,
        })
        .collect();
    let swap_total = cfg.swap.as_ref().map_or(0, |s| s.total_pages);
    MemInfo {
        zones,
        swap_free: swap_total.saturating_sub(st.swap_used),
        swap_total,
    }
}

pub fn out_of_memory(ctx: &mut Ctx, trigger: usize, gfp: Gfp) {
    // GFP_NOIO/NOFS requests never kill; they report progress and retry (4.7 §8 step 4).
    if !gfp.has(Gfp::FS) {
        return;
    }
    if ctx.st.tasks[trigger].killed {
        return;
    }
    // OOM_SCAN_ABORT while a victim keeps TIF_MEMDIE (not yet reaped).
    if ctx
        .st
        .oom
        .victims
        .iter()
        .any(|&(v, _, _)| ctx.st.tasks[v].flags.memdie)
    {
        return;
    }
    let victim = (0..ctx.cfg.tasks.len())
        .filter(|&t| matches!(ctx.cfg.tasks[t].kind, TaskKind::User { .. }))
        .filter(|&t| !ctx.st.tasks[t].exited && !ctx.st.tasks[t].killed)
        .max_by_key(|&t| (badness(ctx, t), std::cmp::Reverse(t)));
    let Some(victim) = victim else { return };
    let points = points(ctx, badness(ctx, victim));
    let (rss_pages, swap_pages) = (
        ctx.st.tasks[victim].anon_resident,
        ctx.st.tasks[victim].anon_swapped,
    );
    let now = ctx.st.tick;
    let v = &mut ctx.st.tasks[victim];
    v.killed = true;
    v.flags.memdie = true;
    ctx.st.oom.victims.push((victim, now, 0));
    ctx.st.counters.oom_kills += 1;
    let swap_used = ctx.st.swap_used;
    ctx.st
        .counters
        .swap_used_at_first_oom_kill
        .get_or_insert(swap_used);
    ctx.emit(Event::OomKill {
        victim,
        trigger,
        rss_pages,
        swap_pages,
        points,
        mem_info: Box::new(mem_info(ctx.cfg, ctx.st)),
    });
    // SIGKILL ends killable and interruptible sleeps only (not TASK_UNINTERRUPTIBLE I/O waits).
    if ctx.st.tasks[victim]
        .wait
        .as_ref()
        .is_some_and(|w| matches!(w.queue, WaitQueue::Timer | WaitQueue::PfmemallocWait))
        && ctx.st.tasks[victim].alloc.is_none()
    {
        ctx.wake_task(victim);
    }
    if let Some(r) = ctx.reaper_task() {
        ctx.wake_task(r);
    }
}

/// The `oom_reaper` kthread's tick.
pub fn oom_reaper_run(ctx: &mut Ctx, task: usize) {
    if !ctx.st.knobs.oom_reaper {
        ctx.sleep(
            task,
            super::event::SleepFn::Idle,
            u64::MAX / 4,
            WaitQueue::Work,
        );
        return;
    }
    let now = ctx.st.tick;
    let mut next_try = None;
    for i in 0..ctx.st.oom.victims.len() {
        let (victim, killed_at, tries) = ctx.st.oom.victims[i];
        if !ctx.st.tasks[victim].flags.memdie || tries >= MAX_OOM_REAP_RETRIES {
            continue;
        }
        let due = killed_at + u64::from(tries) * HZ_DIV_10;
        if due > now {
            next_try = Some(next_try.map_or(due, |d: u64| d.min(due)));
            continue;
        }
        // __oom_reap_task: unmap private anon memory. mmap_sem contention is not modelled,
        // so the first try succeeds; then MMF_OOM_REAPED and TIF_MEMDIE cleared.
        let pages = ctx.free_task_anon(victim);
        let c = &mut ctx.st.counters;
        c.oom_reap_delay_ms_max = c.oom_reap_delay_ms_max.max(now - killed_at);
        ctx.st.oom.victims[i].2 = MAX_OOM_REAP_RETRIES;
        ctx.st.tasks[victim].flags.memdie = false;
        ctx.emit(Event::OomReaped { victim, pages });
    }
    let timeout = next_try.map_or(u64::MAX / 4, |d| d - now);
    ctx.sleep(task, super::event::SleepFn::Idle, timeout, WaitQueue::Work);
}
