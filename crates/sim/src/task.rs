//! Tasks: user programs (fault anonymous memory, dirty page cache, allocate in a syscall,
//! sleep, free) and the kernel threads, run once per tick in task order. A task that
//! sleeps resumes exactly where it slept: its allocation, mempool and reclaim contexts
//! live in `state::Task`.

use super::config::{Op, TaskKind};
use super::event::Event;
use super::gfp::Gfp;
use super::page_alloc::{self, PageUse};
use super::state::WaitQueue;
use super::{block, oom_kill, vmscan, writeback, Ctx, Step};

/// Owed work is capped at two ticks' worth (plus a page), so a task that was blocked does
/// not burst to catch up — a faulting loop just continues at its pace.
fn owed_pages(rate_milli: &mut u64, pages_per_s: u64) -> u64 {
    *rate_milli = (*rate_milli + pages_per_s).min(2 * pages_per_s + 1000);
    let n = *rate_milli / 1000;
    *rate_milli %= 1000;
    n
}

pub fn run(ctx: &mut Ctx, task: usize) {
    let cfg = ctx.cfg;
    match &cfg.tasks[task].kind {
        TaskKind::User { program } => user_run(ctx, task, program),
        TaskKind::Kswapd => vmscan::kswapd_run(ctx, task),
        TaskKind::Flusher => writeback::flusher_run(ctx, task),
        TaskKind::Kcryptd { device } => block::kcryptd_run(ctx, task, *device),
        TaskKind::Nfsd { device } => writeback::nfsd_run(ctx, task, *device),
        TaskKind::NetRx => {
            block::net_rx_run(ctx, task);
            ctx.sleep(task, super::event::SleepFn::Idle, 1, WaitQueue::Timer);
        }
        TaskKind::OomReaper => oom_kill::oom_reaper_run(ctx, task),
    }
}

fn user_run(ctx: &mut Ctx, task: usize, program: &[Op]) {
    for _ in 0..4 {
        let t = &ctx.st.tasks[task];
        // SIGKILL is acted on when the task returns to user space: a read whose readahead
        // pages are allocated still goes on through dm_request (Rientjes' trace).
        let in_syscall = t.alloc.is_some()
            || t.reclaim.is_some()
            || t.mempool.is_some()
            || t.worker.have_pages > 0;
        if t.killed && !in_syscall {
            exit_task(ctx, task, true);
            return;
        }
        let Some(op) = program.get(t.op_index) else {
            exit_task(ctx, task, false);
            return;
        };
        match op_step(ctx, task, op) {
            OpStep::Next => {
                let t = &mut ctx.st.tasks[task];
                t.op_index += 1;
                t.op_done = 0;
                t.rate_milli = 0;
                t.sleep_op_until = None;
            }
            OpStep::Continue => return,
        }
    }
}

enum OpStep {
    /// The op is finished: go to the next one now.
    Next,
    /// The op goes on next tick (or after the task's sleep).
    Continue,
}

fn op_step(ctx: &mut Ctx, task: usize, op: &Op) -> OpStep {
    match *op {
        Op::TouchAnon { pages, pages_per_s } => fault_pages(
            ctx,
            task,
            pages,
            pages_per_s,
            Gfp::HIGHUSER_MOVABLE,
            PageUse::Anon,
        ),
        Op::WriteFile {
            device,
            pages,
            pages_per_s,
        } => {
            if ctx.st.tasks[task].in_bdp {
                if writeback::balance_dirty_pages(ctx, task, device) == Step::Sleep {
                    return OpStep::Continue;
                }
                ctx.st.tasks[task].in_bdp = false;
            }
            let before = ctx.st.tasks[task].op_done;
            let step = fault_pages(
                ctx,
                task,
                pages,
                pages_per_s,
                Gfp::KERNEL,
                PageUse::FileDirty { device },
            );
            if ctx.st.tasks[task].op_done > before {
                // balance_dirty_pages_ratelimited after the pages were dirtied.
                ctx.st.tasks[task].in_bdp = true;
                if writeback::balance_dirty_pages(ctx, task, device) == Step::Sleep {
                    return OpStep::Continue;
                }
                ctx.st.tasks[task].in_bdp = false;
            }
            step
        }
        Op::KernelAlloc {
            pages,
            pages_per_s,
            gfp,
        } => fault_pages(ctx, task, pages, pages_per_s, gfp, PageUse::Kernel),
        Op::DmRead {
            device,
            clones,
            count,
        } => {
            let t = &ctx.st.tasks[task];
            if t.io_pending {
                ctx.sleep(
                    task,
                    super::event::SleepFn::IoWait,
                    u64::MAX / 4,
                    WaitQueue::Work,
                );
                return OpStep::Continue;
            }
            if t.op_done >= count {
                return OpStep::Next;
            }
            // Readahead first allocates the page-cache pages (GFP_KERNEL, may reclaim)…
            if ctx.st.tasks[task].worker.have_pages < clones && t.mempool.is_none() {
                if ctx.st.tasks[task].alloc.is_none() {
                    let need = clones - ctx.st.tasks[task].worker.have_pages;
                    page_alloc::begin(ctx, task, Gfp::KERNEL, need);
                }
                let mut got = 0;
                let step = page_alloc::alloc_pages(ctx, task, PageUse::FileLocked, &mut got);
                ctx.st.tasks[task].worker.have_pages += got;
                if matches!(step, Step::Sleep | Step::Yield)
                    || ctx.st.tasks[task].worker.have_pages < clones
                {
                    return OpStep::Continue;
                }
            }
            // …then submits the bio through dm, which maps it into clones.
            match block::dm_read(ctx, task, device, clones) {
                Step::Sleep | Step::Yield => OpStep::Continue,
                Step::Done | Step::Fail => {
                    ctx.st.tasks[task].op_done += 1;
                    ctx.st.tasks[task].worker.have_pages = 0;
                    ctx.sleep(
                        task,
                        super::event::SleepFn::IoWait,
                        u64::MAX / 4,
                        WaitQueue::Work,
                    );
                    OpStep::Continue
                }
            }
        }
        Op::Sleep { ms } => {
            ctx.workload_progress(task);
            let now = ctx.st.tick;
            let until = *ctx.st.tasks[task].sleep_op_until.get_or_insert(now + ms);
            if now >= until {
                return OpStep::Next;
            }
            ctx.sleep(
                task,
                super::event::SleepFn::Idle,
                until - now,
                WaitQueue::Timer,
            );
            OpStep::Continue
        }
        Op::FreeAnon => {
            ctx.workload_progress(task);
            ctx.free_task_anon(task);
            OpStep::Next
        }
    }
}

/// Allocates this tick's share of an op's pages, resuming a pending allocation first.
// Inlined in the browser build (no PGO there): a user task's every run goes through it.
#[cfg_attr(target_arch = "wasm32", inline(always))]
fn fault_pages(
    ctx: &mut Ctx,
    task: usize,
    pages: u64,
    pages_per_s: u64,
    gfp: Gfp,
    use_: PageUse,
) -> OpStep {
    if ctx.st.tasks[task].alloc.is_none() {
        let t = &mut ctx.st.tasks[task];
        if t.op_done >= pages {
            return OpStep::Next;
        }
        let n = owed_pages(&mut t.rate_milli, pages_per_s).min(pages - t.op_done);
        if n == 0 {
            return OpStep::Continue;
        }
        page_alloc::begin(ctx, task, gfp, n);
    }
    let mut got = 0;
    // Whatever the step, the op goes on: a sleeping allocation resumes when the task is
    // woken, a failed one (a NORETRY caller) is tried again next tick.
    let _step = page_alloc::alloc_pages(ctx, task, use_, &mut got);
    let t = &mut ctx.st.tasks[task];
    t.op_done += got;
    match use_ {
        PageUse::Anon => t.anon_resident += got,
        // A syscall's temporary pages (e.g. __pollwait's table page) are freed when it returns.
        PageUse::Kernel => ctx.free_kernel_pages(got),
        PageUse::FileDirty { .. } | PageUse::FileLocked => {}
    }
    if got > 0 {
        ctx.workload_progress(task);
    }
    if ctx.st.tasks[task].op_done >= pages {
        OpStep::Next
    } else {
        OpStep::Continue
    }
}

/// `do_exit`: the task's anonymous memory is unmapped (`exit_mmap`) and its swap freed.
pub fn exit_task(ctx: &mut Ctx, task: usize, killed: bool) {
    ctx.free_task_anon(task);
    let now = ctx.st.tick;
    let t = &mut ctx.st.tasks[task];
    t.exited = true;
    t.flags.memdie = false;
    t.wait = None;
    if !killed {
        t.finished_at = Some(now);
    }
    ctx.st.oom.victims.retain(|&(v, _, _)| v != task);
    ctx.emit(if killed {
        Event::TaskKilled { task }
    } else {
        Event::TaskExit { task }
    });
    ctx.workload_progress(task);
}
