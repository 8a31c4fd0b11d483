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
    if ctx.st.stall_resumed_at.is_none()
        && ctx
            .st
            .stall
            .as_ref()
            .is_some_and(|s| ctx.st.workload_progress_tick > s.at_tick)
    {
        ctx.st.stall_resumed_at = Some(ctx.st.workload_progress_tick);
    }

    // No allocation on this per-tick path: an iterator over the tasks that must finish.
    let must = || (0..ctx.cfg.tasks.len()).filter(|&t| ctx.cfg.tasks[t].must_finish);
    // Only out_of_memory kills a task, and it counts every kill: until the first, no task
    // is killed and the search over the tasks (every tick) can be skipped.
    let killed = if ctx.st.counters.oom_kills == 0 {
        None
    } else {
        must().find(|&t| ctx.st.tasks[t].killed)
    };
    let decided = if let Some((task, _)) = ctx.st.overflow {
        Some(Outcome {
            kind: OutcomeKind::StackOverflow,
            at_tick: now,
            chain: vec![name(ctx, task)],
            chain_closes_at: 0,
        })
    } else if let Some(t) = killed {
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
        // A stall on the way outranks the completion (the order in the module doc).
        Some(ctx.st.stall.clone().unwrap_or(Outcome {
            kind: OutcomeKind::Completed,
            at_tick: now,
            chain: Vec::new(),
            chain_closes_at: 0,
        }))
    } else if let Some(deadlock) = check_stall(ctx) {
        Some(deadlock)
    } else if now + 1 >= ctx.cfg.duration_ticks {
        Some(ctx.st.stall.clone().unwrap_or(Outcome {
            kind: OutcomeKind::Incomplete,
            at_tick: now,
            chain: Vec::new(),
            chain_closes_at: 0,
        }))
    } else {
        None
    };
    if let Some(outcome) = decided {
        // A stall already has its verdict, from the tick it was found.
        if ctx.st.stall.as_ref() != Some(&outcome) {
            push_verdict(ctx.st, &outcome);
        }
        ctx.st.outcome = Some(outcome);
        ctx.st.finished = true;
    }
}

fn push_verdict(st: &mut State, outcome: &Outcome) {
    st.verdicts.push(Verdict {
        kind: outcome.kind.name().to_string(),
        at_ms: outcome.at_tick,
        detail: VerdictDetail {
            task: None,
            function: None,
            chain: outcome.chain.clone(),
        },
    });
}

/// Once per stall window while the tasks that must finish make no progress: a deadlock
/// ends the run (nothing it waits for can come); the first stall is recorded as a
/// verdict and the run goes on — the workload may resume, or things may get worse.
fn check_stall(ctx: &mut Ctx) -> Option<Outcome> {
    let window = ctx.cfg.stall_window_ticks;
    let quiet = ctx.st.tick - ctx.st.workload_progress_tick;
    if quiet < window || !quiet.is_multiple_of(window) {
        return None;
    }
    let found = stall(ctx);
    if found.kind == OutcomeKind::Deadlocked {
        return Some(found);
    }
    if ctx.st.stall.is_none() {
        ctx.st.counters.swap_used_at_stall = Some(ctx.st.swap_used);
        ctx.st.counters_at_stall = Some((ctx.st.tick, ctx.st.counters.clone()));
        push_verdict(ctx.st, &found);
        ctx.st.stall = Some(found);
    }
    None
}

/// The tasks that must finish have made no progress for the stall window (§14.9): the run
/// has failed. It is *deadlocked* when the blocked tasks form a wait-for chain and no
/// device worker the chain depends on moved in the window either; otherwise
/// *stalled* — the workload is frozen although something still trickles (swap on dm-crypt
/// under 4.7: kcryptd completes 60–80 pages/s while the hog waits for 50 s).
fn stall(ctx: &Ctx) -> Outcome {
    let now = ctx.st.tick;
    let window = ctx.cfg.stall_window_ticks;
    let (links, chain_closes_at) = chain_links(ctx.cfg, ctx.st);
    // A cycle is a deadlock only if what it waits for has not come for the window: the
    // worker each link depends on (kcryptd, nfsd, NET_RX) has moved none of that
    // device's work. Other devices' writeback may still complete meanwhile.
    let stuck = links
        .iter()
        .filter_map(|l| l.device)
        .all(|d| now - ctx.st.devices[d].worker_done_tick >= window);
    let kind = if !links.is_empty() && stuck {
        OutcomeKind::Deadlocked
    } else {
        OutcomeKind::Stalled
    };
    Outcome {
        kind,
        at_tick: ctx.st.workload_progress_tick,
        // Reported for a stall too: who waits for whom while the trickle goes on.
        chain: links.into_iter().map(|l| l.words).collect(),
        chain_closes_at,
    }
}

/// One link of a wait-for chain.
struct Link {
    /// What the task waits for, in words.
    words: String,
    /// The task that alone can provide it.
    next: Option<usize>,
    /// The device whose worker (kcryptd, nfsd, NET_RX) must move for it to come.
    device: Option<usize>,
}

/// One link: what `task` waits for, and which task alone can provide it.
fn waits_for(cfg: &Config, st: &State, task: usize) -> Option<Link> {
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
        return t.alloc.is_some().then(|| Link {
            words: format!(
                "{name} → out_of_memory → no new kill while {} (TIF_MEMDIE) lives",
                cfg.tasks[victim].name
            ),
            next: Some(victim),
            device: None,
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
            Some(Link {
                words: format!(
                    "{name} → {} → writeback of {} pages that only {who} completes",
                    w.function.name(),
                    cfg.devices[d].name
                ),
                next,
                device: Some(d),
            })
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
                return Some(Link {
                    words: format!(
                        "{name} → mempool_alloc({}) → all {own} elements out are its own clones, \
                         held on current->bio_list until the bio is mapped: none can come back",
                        cfg.pools[pool].name
                    ),
                    next: Some(task),
                    device: None,
                });
            }
            let (d, next) = writeback_owner()?;
            let who = next.map_or("nobody".to_string(), |n| cfg.tasks[n].name.clone());
            Some(Link {
                words: format!("{name} → mempool_alloc({}) → elements held by I/O on {} that only {who} completes", cfg.pools[pool].name, cfg.devices[d].name),
                next,
                device: Some(d),
            })
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
            Some(Link {
                words: format!("{name} → too_many_isolated → pages isolated by {who}"),
                next: holder,
                device: None,
            })
        }
        SleepFn::PfmemallocWait => {
            let kswapd = cfg.roles.kswapd;
            let who = kswapd.map_or("kswapd", |k| cfg.tasks[k].name.as_str());
            Some(Link {
                words: format!("{name} → pfmemalloc_wait → {who}"),
                next: kswapd,
                device: None,
            })
        }
        SleepFn::IoWait if w.queue == WaitQueue::Congestion => {
            // Blocked submitting to a full request queue or socket send buffer.
            let (d, next) = writeback_owner()?;
            let who = next.map_or("nobody".to_string(), |n| cfg.tasks[n].name.clone());
            Some(Link {
                words: format!("{name} → io_schedule (queue or send buffer full) → writeback of {} pages that only {who} completes", cfg.devices[d].name),
                next,
                device: Some(d),
            })
        }
        SleepFn::IoWait | SleepFn::Idle => {
            if matches!(cfg.tasks[task].kind, TaskKind::NetRx) && st.counters.packets_dropped > 0 {
                // NET_RX is stuck when its skb allocations fail: memory comes back only when
                // swap writeback completes, which needs these very replies.
                let (d, _) = writeback_owner()?;
                return Some(Link {
                    words: format!("{name} → skb allocation fails below the atomic reserve → memory freed only by writeback on {}", cfg.devices[d].name),
                    next: Some(task),
                    device: Some(d),
                });
            }
            None
        }
    }
}

/// Follows the wait-for links from the first blocked task that must finish; returns the
/// chain if it closes on itself (a cycle) with the index of the link it closes at, else
/// an empty chain.
pub fn wait_for_chain(cfg: &Config, st: &State) -> (Vec<String>, usize) {
    let (links, closes_at) = chain_links(cfg, st);
    (links.into_iter().map(|l| l.words).collect(), closes_at)
}

fn chain_links(cfg: &Config, st: &State) -> (Vec<Link>, usize) {
    for start in (0..cfg.tasks.len()).filter(|&t| cfg.tasks[t].must_finish && !st.tasks[t].exited) {
        let mut chain: Vec<Link> = Vec::new();
        let mut tasks = Vec::new();
        let mut cur = start;
        // A blocked kernel thread that `start` waits on may itself be mid-reclaim: follow it.
        for _ in 0..cfg.tasks.len() + 1 {
            if let Some(at) = tasks.iter().position(|&t| t == cur) {
                return (chain, at);
            }
            tasks.push(cur);
            let Some(link) = waits_for(cfg, st, cur) else {
                break;
            };
            let next = link.next;
            chain.push(link);
            match next {
                Some(n) => cur = n,
                None => break,
            }
        }
    }
    (Vec::new(), 0)
}
