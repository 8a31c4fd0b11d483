//! Per-tick samples: plain data the charts, the UI panels, CSV export and golden traces
//! read. Built on demand by [`Sim::sample`] so a headless run pays nothing for them.

use serde::Serialize;

use super::event::SleepFn;
use super::writeback;
use super::Sim;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ZoneSample {
    pub free: u64,
    pub min: u64,
    pub low: u64,
    pub high: u64,
    pub anon: u64,
    pub file: u64,
    pub dirty: u64,
    pub writeback: u64,
    pub kernel: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TaskState {
    Running,
    DirectReclaim,
    Sleeping(SleepFn),
    Killed,
    Exited,
}

impl TaskState {
    pub fn label(self) -> &'static str {
        match self {
            TaskState::Running => "running",
            TaskState::DirectReclaim => "direct reclaim",
            TaskState::Sleeping(f) => f.name(),
            TaskState::Killed => "killed",
            TaskState::Exited => "exited",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TaskSample {
    pub state: TaskState,
    pub depth_bytes: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PoolSample {
    pub curr_nr: u64,
    pub min_nr: u64,
    pub outstanding: u64,
    pub waiters: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sample {
    pub tick: u64,
    pub zones: Vec<ZoneSample>,
    pub swap_used: u64,
    pub swap_total: u64,
    pub dirty_limit: u64,
    pub vm_writeout_limit: u64,
    pub pools: Vec<PoolSample>,
    pub tasks: Vec<TaskSample>,
    pub kswapd_awake: bool,
    pub allocstall: u64,
    pub pgscan_kswapd: u64,
    pub pgscan_direct: u64,
    pub pgsteal_kswapd: u64,
    pub pgsteal_direct: u64,
    pub pswpout: u64,
    pub pages_written_back: u64,
    pub oom_kills: u64,
    pub packets_dropped: u64,
}

impl Sim {
    /// The sample of the current state (after the last step).
    pub fn sample(&self) -> Sample {
        let st = self.state();
        let cfg = self.config();
        let zones = st
            .zones
            .iter()
            .zip(&st.wmarks)
            .map(|(z, w)| ZoneSample {
                free: z.free,
                min: w.min(),
                low: w.low(),
                high: w.high(),
                anon: z.anon(),
                file: z.file(),
                dirty: z.file_dirty_total(),
                writeback: z.file_writeback_total() + z.anon_writeback,
                kernel: z.kernel,
            })
            .collect();
        let pools = st
            .pools
            .iter()
            .enumerate()
            .map(|(i, p)| PoolSample {
                curr_nr: p.curr_nr,
                min_nr: cfg.pools[i].min_nr,
                outstanding: p.outstanding,
                waiters: st
                    .tasks
                    .iter()
                    .filter(|t| {
                        t.wait
                            .as_ref()
                            .is_some_and(|w| w.queue == super::state::WaitQueue::Pool(i))
                    })
                    .count() as u64,
            })
            .collect();
        let tasks = st
            .tasks
            .iter()
            .map(|t| TaskSample {
                state: task_state(t, st.tick),
                depth_bytes: t.depth_bytes,
            })
            .collect();
        let (dirty_limit, vm_writeout_limit) = self.limits();
        let c = &st.counters;
        Sample {
            tick: st.tick,
            zones,
            swap_used: st.swap_used,
            swap_total: cfg.swap.as_ref().map_or(0, |s| s.total_pages),
            dirty_limit,
            vm_writeout_limit,
            pools,
            tasks,
            kswapd_awake: st.kswapd_awake,
            allocstall: c.allocstall,
            pgscan_kswapd: c.pgscan_kswapd,
            pgscan_direct: c.pgscan_direct,
            pgsteal_kswapd: c.pgsteal_kswapd,
            pgsteal_direct: c.pgsteal_direct,
            pswpout: c.pswpout,
            pages_written_back: c.pages_written_back,
            oom_kills: c.oom_kills,
            packets_dropped: c.packets_dropped,
        }
    }

    fn limits(&self) -> (u64, u64) {
        let (_, dirty) = writeback::limits_for(self.config(), self.state(), None);
        (
            dirty,
            writeback::vm_writeout_limit(self.config(), self.state()),
        )
    }
}

/// What a lane shows for the tick just stepped (`tick` = ticks stepped so far): the sleep
/// the task ended the tick in, except that a task which ran during the tick and then waited
/// for new work (`SleepFn::Idle`: a kernel thread's work queue, a program's own sleep) was
/// running — else kcryptd, nfsd or the flusher look idle while they do the work — and a
/// task that ran a direct-reclaim pass during the tick was in direct reclaim, even if the
/// pass ended within it (a task short of a batch often reclaims its 32 pages in one tick).
// Inlined in the browser build: the recording asks it for every task on every tick.
#[cfg_attr(target_arch = "wasm32", inline(always))]
pub fn task_state(t: &super::state::Task, tick: u64) -> TaskState {
    if t.exited {
        return if t.killed {
            TaskState::Killed
        } else {
            TaskState::Exited
        };
    }
    let ran_this_tick = t.last_ran_tick.is_some_and(|r| r + 1 == tick);
    let reclaimed_this_tick =
        !t.flags.kswapd && t.last_direct_reclaim_tick.is_some_and(|r| r + 1 == tick);
    let busy = if reclaimed_this_tick {
        TaskState::DirectReclaim
    } else {
        TaskState::Running
    };
    match &t.wait {
        Some(w) if w.function == SleepFn::Idle && ran_this_tick => busy,
        Some(w) => TaskState::Sleeping(w.function),
        None if t.reclaim.is_some() && !t.flags.kswapd => TaskState::DirectReclaim,
        None => busy,
    }
}
