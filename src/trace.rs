//! The golden-trace text format: one fixed-column line per sampled tick, readable in a
//! diff (TigerBeetle VOPR style).
//!
//! Legend:
//! ```text
//! t=   1000 free=  1287 min=  1024 anon= 102400 file=  30000 dirty=     0 wb=     0
//! swap=     0 pools=16/16,256/256 kswapd=R  tasks=R.S!x
//! ```
//! `free/min/anon/file/dirty/wb/swap` are pages summed over zones; `pools` is
//! curr_nr/min_nr per pool; `kswapd` is R (awake) or S; `tasks` has one letter per task:
//! `R` running, `D` in direct reclaim, `T` throttle_vm_writeout, `C` congestion_wait,
//! `W` wait_iff_congested, `B` balance_dirty_pages, `M` mempool_alloc, `P` pfmemalloc_wait,
//! `I` I/O wait, `X` too_many_isolated, `.` idle, `x` exited, `K` killed.

use crate::sim::event::SleepFn;
use crate::sim::sample::{Sample, TaskState};

pub fn task_letter(state: TaskState) -> char {
    match state {
        TaskState::Running => 'R',
        TaskState::DirectReclaim => 'D',
        TaskState::Sleeping(f) => match f {
            SleepFn::ThrottleVmWriteout => 'T',
            SleepFn::CongestionWait => 'C',
            SleepFn::WaitIffCongested => 'W',
            SleepFn::BalanceDirtyPages => 'B',
            SleepFn::MempoolAlloc => 'M',
            SleepFn::PfmemallocWait => 'P',
            SleepFn::IoWait => 'I',
            SleepFn::TooManyIsolated => 'X',
            SleepFn::Idle => '.',
        },
        TaskState::Killed => 'K',
        TaskState::Exited => 'x',
    }
}

pub fn line(s: &Sample) -> String {
    let sum =
        |f: fn(&crate::sim::sample::ZoneSample) -> u64| -> u64 { s.zones.iter().map(f).sum() };
    let pools: Vec<String> = s
        .pools
        .iter()
        .map(|p| format!("{}/{}", p.curr_nr, p.min_nr))
        .collect();
    let tasks: String = s.tasks.iter().map(|t| task_letter(t.state)).collect();
    format!(
        "t={:>7} free={:>7} min={:>6} anon={:>8} file={:>7} dirty={:>6} wb={:>6} kern={:>6} swap={:>8} pools={} kswapd={} tasks={}",
        s.tick,
        sum(|z| z.free),
        sum(|z| z.min),
        sum(|z| z.anon),
        sum(|z| z.file),
        sum(|z| z.dirty),
        sum(|z| z.writeback),
        sum(|z| z.kernel),
        s.swap_used,
        if pools.is_empty() { "-".to_string() } else { pools.join(",") },
        if s.kswapd_awake { 'R' } else { 'S' },
        tasks
    )
}

/// Runs `sim` to its end, rendering a line every `every_ticks` ticks and at the end.
pub fn render(sim: &mut crate::sim::Sim, every_ticks: u64) -> String {
    let mut out = String::new();
    while !sim.is_finished() {
        sim.step();
        if sim.tick().is_multiple_of(every_ticks) || sim.is_finished() {
            out.push_str(&line(&sim.sample()));
            out.push('\n');
        }
    }
    out
}
