//! How a run ends (issue contract, kernel-mm.md §14.9): `stack_overflow` > `oom_kill` >
//! `deadlocked` > `stalled` > `completed` > `incomplete`, with the tick it was reached and
//! the verdict-like events on the way. A deadlock needs a wait-for chain: each blocked task
//! waits for something only another blocked task (or itself) can provide.

use serde::{Deserialize, Serialize};

use super::config::{Config, DeviceKind, TaskKind};
use super::event::{Event, SleepFn};
use super::state::{State, WaitQueue};
use super::time::Tick;
use super::Ctx;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    StackOverflow,
    OomKill,
    Deadlocked,
    Stalled,
    Completed,
    Incomplete,
}

impl OutcomeKind {
    pub fn name(self) -> &'static str {
        match self {
            OutcomeKind::StackOverflow => "stack_overflow",
            OutcomeKind::OomKill => "oom_kill",
            OutcomeKind::Deadlocked => "deadlocked",
            OutcomeKind::Stalled => "stalled",
            OutcomeKind::Completed => "completed",
            OutcomeKind::Incomplete => "incomplete",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub kind: OutcomeKind,
    pub at_tick: Tick,
    /// For deadlocks: the wait-for chain in words, one link per task.
    pub chain: Vec<String>,
    /// The link whose task the last link waits for: where the cycle closes (0 when the
    /// chain returns to its start; the OOM victim waiting for itself closes on itself).
    #[serde(default)]
    pub chain_closes_at: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub kind: String,
    pub at_ms: Tick,
    pub detail: VerdictDetail,
}

/// Who and where: the task, the kernel function, and (for deadlocks) the wait-for chain.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictDetail {
    pub task: Option<String>,
    pub function: Option<String>,
    pub chain: Vec<String>,
}

/// Records verdict-like events of this tick and decides whether the run is over.
pub fn check(ctx: &mut Ctx) {
    let now = ctx.st.tick;
    let name = |ctx: &Ctx, t: usize| ctx.cfg.tasks[t].name.clone();
    let mut new = Vec::new();
    for ev in ctx.events.iter() {
        let v = match ev {
            Event::OomKill { victim, .. } => Some(("oom_kill", Some(*victim), "oom_kill_process")),
            Event::OomReaped { victim, .. } => {
                Some(("oom_reaped", Some(*victim), "__oom_reap_task"))
            }
            Event::StackOverflow { task, .. } => {
                Some(("stack_overflow", Some(*task), "xfs_vm_writepage"))
            }
            Event::HungTask { task, function, .. } => {
                Some(("hung_task", Some(*task), function.name()))
            }
            _ => None,
        };
        if let Some((kind, task, function)) = v {
            new.push(Verdict {
                kind: kind.to_string(),
                at_ms: now,
                detail: VerdictDetail {
                    task: task.map(|t| name(ctx, t)),
                    function: Some(function.to_string()),
                    chain: Vec::new(),
                },
            });
        }
    }
    ctx.st.verdicts.extend(new);

    // No allocation on this per-tick path: an iterator over the tasks that must finish.
    let must = || (0..ctx.cfg.tasks.len()).filter(|&t| ctx.cfg.tasks[t].must_finish);
    let decided = if let Some((task, _)) = ctx.st.overflow {
        Some(Outcome {
            kind: OutcomeKind::StackOverflow,
            at_tick: now,
            chain: vec![name(ctx, task)],
            chain_closes_at: 0,
        })
    } else if let Some(t) = must().find(|&t| ctx.st.tasks[t].killed) {
        let at = ctx
            .st
            .verdicts
            .iter()
            .find(|v| {
                v.kind == "oom_kill" && v.detail.task.as_deref() == Some(&ctx.cfg.tasks[t].name)
            })
            .map_or(now, |v| v.at_ms);
        Some(Outcome {
            kind: OutcomeKind::OomKill,
            at_tick: at,
            chain: Vec::new(),
            chain_closes_at: 0,
        })
    } else if must().all(|t| ctx.st.tasks[t].finished_at.is_some()) {
        Some(Outcome {
            kind: OutcomeKind::Completed,
            at_tick: now,
            chain: Vec::new(),
            chain_closes_at: 0,
        })
    } else if now + 1 >= ctx.cfg.duration_ticks {
        Some(end_of_time(ctx))
    } else {
        None
    };
    if let Some(outcome) = decided {
        ctx.st.verdicts.push(Verdict {
            kind: outcome.kind.name().to_string(),
            at_ms: outcome.at_tick,
            detail: VerdictDetail {
                task: None,
                function: None,
                chain: outcome.chain.clone(),
            },
        });
        ctx.st.outcome = Some(outcome);
        ctx.st.finished = true;
    }
}

fn end_of_time(ctx: &Ctx) -> Outcome {
    let now = ctx.st.tick;
    let quiet = now.saturating_sub(ctx.st.last_progress_tick);
    if quiet < ctx.cfg.stall_window_ticks {
        return Outcome {
            kind: OutcomeKind::Incomplete,
            at_tick: now,
            chain: Vec::new(),
            chain_closes_at: 0,
        };
    }
    let (chain, chain_closes_at) = wait_for_chain(ctx.cfg, ctx.st);
    let kind = if chain.is_empty() {
        OutcomeKind::Stalled
    } else {
        OutcomeKind::Deadlocked
    };
    Outcome {
        kind,
        at_tick: ctx.st.last_progress_tick,
        chain,
        chain_closes_at,
    }
}

/// One link: what `task` waits for, and which task alone can provide it.
fn waits_for(cfg: &Config, st: &State, task: usize) -> Option<(String, Option<usize>)> {
    let name = &cfg.tasks[task].name;
    let Some(w) = st.tasks[task].wait.as_ref() else {
        // Not asleep, but retrying an allocation while an OOM victim keeps TIF_MEMDIE:
        // out_of_memory picks nobody else (OOM_SCAN_ABORT), so each retry re-blocks on
        // the same condition until that victim exits (§8, before the reaper).
        let t = &st.tasks[task];
        let victim = st
            .oom
            .victims
            .iter()
            .map(|&(v, _, _)| v)
            .find(|&v| v != task && st.tasks[v].flags.memdie)?;
        return t.alloc.is_some().then(|| {
            (
                format!(
                    "{name} → out_of_memory → no new kill while {} (TIF_MEMDIE) lives",
                    cfg.tasks[victim].name
                ),
                Some(victim),
            )
        });
    };
    let writeback_owner = || {
        // The device whose writeback cannot complete without a worker, and that worker.
        (0..cfg.devices.len()).find_map(|d| {
            let pending = !st.devices[d].work.is_empty();
            match cfg.devices[d].kind {
                DeviceKind::DmCrypt { .. } | DeviceKind::NfsLoopback { .. } if pending => {
                    cfg.worker_of(d).map(|wk| (d, Some(wk)))
                }
                DeviceKind::Network { .. } if !st.devices[d].replies.is_empty() => Some((
                    d,
                    cfg.tasks
                        .iter()
                        .position(|t| matches!(t.kind, TaskKind::NetRx)),
                )),
                _ => None,
            }
        })
    };
    match w.function {
        SleepFn::ThrottleVmWriteout
        | SleepFn::CongestionWait
        | SleepFn::WaitIffCongested
        | SleepFn::BalanceDirtyPages => {
            let (d, next) = writeback_owner()?;
            let who = next.map_or("nobody".to_string(), |n| cfg.tasks[n].name.clone());
            Some((
                format!(
                    "{name} → {} → writeback of {} pages that only {who} completes",
                    w.function.name(),
                    cfg.devices[d].name
                ),
                next,
            ))
        }
        SleepFn::MempoolAlloc => {
            let WaitQueue::Pool(pool) = w.queue else {
                return None;
            };
            // dm's clones wait on current->bio_list until the whole bio is mapped: when every
            // element out is one the waiter holds that way, none can come back — it waits
            // for itself (the §11.5 victim under NOMEMALLOC).
            let own = st.tasks[task]
                .mempool
                .as_ref()
                .filter(|m| m.pool == pool && m.hold_partial)
                .map_or(0, |m| m.got);
            if own > 0 && own >= st.pools[pool].outstanding {
                return Some((
                    format!(
                        "{name} → mempool_alloc({}) → all {own} elements out are its own clones, \
                         held on current->bio_list until the bio is mapped: none can come back",
                        cfg.pools[pool].name
                    ),
                    Some(task),
                ));
            }
            let (d, next) = writeback_owner()?;
            let who = next.map_or("nobody".to_string(), |n| cfg.tasks[n].name.clone());
            Some((format!("{name} → mempool_alloc({}) → elements held by I/O on {} that only {who} completes", cfg.pools[pool].name, cfg.devices[d].name), next))
        }
        SleepFn::TooManyIsolated => {
            // The isolated pages go back to the LRU only when their holder's swap submit
            // (blocked in dm core's mempool_alloc) finishes.
            let holder = (0..st.tasks.len()).find(|&t| {
                t != task
                    && st.tasks[t]
                        .reclaim
                        .as_ref()
                        .is_some_and(|r| r.pending_swap_submit > 0)
            });
            let who = holder.map_or("nobody".to_string(), |h| cfg.tasks[h].name.clone());
            Some((
                format!("{name} → too_many_isolated → pages isolated by {who}"),
                holder,
            ))
        }
        SleepFn::PfmemallocWait => {
            let kswapd = cfg.roles.kswapd;
            let who = kswapd.map_or("kswapd", |k| cfg.tasks[k].name.as_str());
            Some((format!("{name} → pfmemalloc_wait → {who}"), kswapd))
        }
        SleepFn::IoWait if w.queue == WaitQueue::Congestion => {
            // Blocked submitting to a full request queue or socket send buffer.
            let (d, next) = writeback_owner()?;
            let who = next.map_or("nobody".to_string(), |n| cfg.tasks[n].name.clone());
            Some((format!("{name} → io_schedule (queue or send buffer full) → writeback of {} pages that only {who} completes", cfg.devices[d].name), next))
        }
        SleepFn::IoWait | SleepFn::Idle => {
            if matches!(cfg.tasks[task].kind, TaskKind::NetRx) && st.counters.packets_dropped > 0 {
                // NET_RX is stuck when its skb allocations fail: memory comes back only when
                // swap writeback completes, which needs these very replies.
                let (d, _) = writeback_owner()?;
                return Some((format!("{name} → skb allocation fails below the atomic reserve → memory freed only by writeback on {}", cfg.devices[d].name), Some(task)));
            }
            None
        }
    }
}

/// Follows the wait-for links from the first blocked task that must finish; returns the
/// chain if it closes on itself (a cycle) with the index of the link it closes at, else
/// an empty chain.
pub fn wait_for_chain(cfg: &Config, st: &State) -> (Vec<String>, usize) {
    for start in (0..cfg.tasks.len()).filter(|&t| cfg.tasks[t].must_finish && !st.tasks[t].exited) {
        let mut chain = Vec::new();
        let mut tasks = Vec::new();
        let mut cur = start;
        // A blocked kernel thread that `start` waits on may itself be mid-reclaim: follow it.
        for _ in 0..cfg.tasks.len() + 1 {
            if let Some(at) = tasks.iter().position(|&t| t == cur) {
                return (chain, at);
            }
            tasks.push(cur);
            let Some((link, next)) = waits_for(cfg, st, cur) else {
                break;
            };
            chain.push(link);
            match next {
                Some(n) => cur = n,
                None => break,
            }
        }
    }
    (Vec::new(), 0)
}
