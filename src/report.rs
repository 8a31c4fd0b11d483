//! Run summaries: the JSON the CLI prints and the UI's metrics panel shows. One place
//! computes the metrics so every front end reports the same numbers.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::scenario::Scenario;
use crate::sim::event::SleepFn;
use crate::sim::outcome::Verdict;
use crate::sim::policy::Knobs;
use crate::sim::Sim;

#[derive(Clone, Debug, Serialize)]
pub struct Metrics {
    pub min_free_pages: u64,
    pub reserve_pages_used_max: u64,
    pub pages_swapped_out: u64,
    pub swapout_pages_per_s: u64,
    pub swap_used_pages: u64,
    pub swap_total_pages: u64,
    pub pages_written_back: u64,
    pub reclaim_file_writes: u64,
    pub oom_kills: u64,
    /// Longest time from an OOM kill to the reaper freeing that victim's memory (ms).
    pub oom_reap_delay_ms_max: u64,
    /// Swap in use at the first OOM kill (pages); absent without a kill.
    pub swap_used_pages_at_first_oom_kill: Option<u64>,
    /// Swap in use when the first stall was found (pages); absent without a stall.
    pub swap_used_pages_at_stall: Option<u64>,
    /// When the stalled workload made progress again (ms); absent without a stall or
    /// while it stays frozen. The stall remains the outcome.
    pub stall_resumed_at_ms: Option<u64>,
    pub max_stack_bytes: u64,
    pub max_stack_bytes_direct_reclaim: u64,
    pub throttled_ms_total: u64,
    pub throttled_ms_by_task: BTreeMap<String, u64>,
    /// Sleep time per task and kernel function (idle kernel threads left out).
    pub sleep_ms_by_task: BTreeMap<String, BTreeMap<String, u64>>,
    pub sleep_ms_by_function: BTreeMap<String, u64>,
    pub packets_dropped: u64,
    pub allocstall: u64,
    pub pgscan_direct: u64,
    pub pgscan_kswapd: u64,
    pub pgsteal_direct: u64,
    pub pgsteal_kswapd: u64,
    pub pgscan_direct_throttle: u64,
    pub kswapd_wakeups: u64,
    pub alloc_failures: u64,
    pub min_watermark_pages: u64,
    pub events: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    pub scenario: String,
    pub preset: String,
    pub knobs: Knobs,
    pub seed: u64,
    pub simulated_ms: u64,
    pub outcome: String,
    pub outcome_at_ms: u64,
    pub chain: Vec<String>,
    pub verdicts: Vec<Verdict>,
    pub metrics: Metrics,
    pub trace_hash: String,
}

pub fn metrics(sim: &Sim) -> Metrics {
    let st = sim.state();
    let cfg = sim.config();
    let mut throttled_ms_by_task = BTreeMap::new();
    let mut sleep_ms_by_function: BTreeMap<String, u64> = BTreeMap::new();
    let mut throttled_ms_total = 0;
    let mut sleep_ms_by_task: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (i, t) in st.tasks.iter().enumerate() {
        let mut throttled = 0;
        for (f, ms) in SleepFn::ALL.iter().zip(t.sleep_ms_by_fn) {
            if *f != SleepFn::Idle && ms > 0 {
                sleep_ms_by_task
                    .entry(cfg.tasks[i].name.clone())
                    .or_default()
                    .insert(f.name().to_string(), ms);
            }
            if f.is_throttle() {
                throttled += ms;
                *sleep_ms_by_function
                    .entry(f.name().to_string())
                    .or_default() += ms;
            }
        }
        throttled_ms_by_task.insert(cfg.tasks[i].name.clone(), throttled);
        throttled_ms_total += throttled;
    }
    let simulated_ms = st.tick.max(1);
    let c = &st.counters;
    Metrics {
        min_free_pages: if st.min_free_pages == u64::MAX {
            0
        } else {
            st.min_free_pages
        },
        reserve_pages_used_max: st.reserve_pages_used_max,
        pages_swapped_out: c.swapout_completed,
        swapout_pages_per_s: c.swapout_completed * 1000 / simulated_ms,
        swap_used_pages: st.swap_used,
        swap_total_pages: cfg.swap.as_ref().map_or(0, |s| s.total_pages),
        pages_written_back: c.pages_written_back,
        reclaim_file_writes: c.reclaim_file_writes,
        oom_kills: c.oom_kills,
        oom_reap_delay_ms_max: c.oom_reap_delay_ms_max,
        swap_used_pages_at_first_oom_kill: c.swap_used_at_first_oom_kill,
        swap_used_pages_at_stall: c.swap_used_at_stall,
        stall_resumed_at_ms: st.stall_resumed_at,
        max_stack_bytes: st.max_stack_bytes,
        max_stack_bytes_direct_reclaim: st.max_stack_bytes_direct_reclaim,
        throttled_ms_total,
        throttled_ms_by_task,
        sleep_ms_by_task,
        sleep_ms_by_function,
        packets_dropped: c.packets_dropped,
        allocstall: c.allocstall,
        pgscan_direct: c.pgscan_direct,
        pgscan_kswapd: c.pgscan_kswapd,
        pgsteal_direct: c.pgsteal_direct,
        pgsteal_kswapd: c.pgsteal_kswapd,
        pgscan_direct_throttle: c.pgscan_direct_throttle,
        kswapd_wakeups: c.kswapd_wakeups,
        alloc_failures: c.alloc_failures,
        min_watermark_pages: st.wmarks.iter().map(|w| w.min()).sum(),
        events: c.events,
    }
}

pub fn summary(sim: &Sim, preset: &str) -> RunSummary {
    let st = sim.state();
    let (outcome, outcome_at_ms, chain) = match &st.outcome {
        Some(o) => (o.kind.name().to_string(), o.at_tick, o.chain.clone()),
        None => ("running".to_string(), st.tick, Vec::new()),
    };
    RunSummary {
        scenario: sim.config().name.clone(),
        preset: preset.to_string(),
        knobs: sim.knobs().clone(),
        seed: sim.config().seed,
        simulated_ms: st.tick,
        outcome,
        outcome_at_ms,
        chain,
        verdicts: st.verdicts.clone(),
        metrics: metrics(sim),
        trace_hash: format!("{:016x}", st.trace_hash),
    }
}

/// Runs a scenario under knobs to its end (or `max_ms`) and summarises it.
pub fn run(
    scenario: &Scenario,
    knobs: Knobs,
    preset: &str,
    max_ms: Option<u64>,
) -> (Sim, RunSummary) {
    let mut sim = Sim::new(scenario.config.clone(), knobs);
    sim.run(max_ms.unwrap_or(u64::MAX));
    let s = summary(&sim, preset);
    (sim, s)
}
