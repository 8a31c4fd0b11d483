//! The closed set of things that can happen in a tick. The event log, the kernel log,
//! the verdicts and the trace hash all read this one stream.

use serde::Serialize;

/// A kernel function a task can sleep in; the lanes and `sleep_ms_by_function` use these names.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
pub enum SleepFn {
    #[serde(rename = "throttle_vm_writeout")]
    ThrottleVmWriteout,
    #[serde(rename = "congestion_wait")]
    CongestionWait,
    #[serde(rename = "wait_iff_congested")]
    WaitIffCongested,
    #[serde(rename = "balance_dirty_pages")]
    BalanceDirtyPages,
    #[serde(rename = "mempool_alloc")]
    MempoolAlloc,
    #[serde(rename = "pfmemalloc_wait")]
    PfmemallocWait,
    #[serde(rename = "io_schedule")]
    IoWait,
    /// `congestion_wait(BLK_RW_ASYNC, HZ/10)` in shrink_inactive_list's loop while
    /// `too_many_isolated` holds (kernel-mm.md §4.3).
    #[serde(rename = "too_many_isolated")]
    TooManyIsolated,
    /// Idle kernel thread waiting for work (kswapd_wait, the flusher's timer, a work queue).
    #[serde(rename = "idle")]
    Idle,
}

impl SleepFn {
    pub const ALL: [SleepFn; 9] = [
        SleepFn::ThrottleVmWriteout,
        SleepFn::CongestionWait,
        SleepFn::WaitIffCongested,
        SleepFn::BalanceDirtyPages,
        SleepFn::MempoolAlloc,
        SleepFn::PfmemallocWait,
        SleepFn::IoWait,
        SleepFn::TooManyIsolated,
        SleepFn::Idle,
    ];
    /// Index into per-function arrays (`Task::sleep_ms_by_fn`): the declaration order,
    /// which `ALL` follows (tested).
    pub fn index(self) -> usize {
        self as usize
    }
    pub fn name(self) -> &'static str {
        match self {
            SleepFn::ThrottleVmWriteout => "throttle_vm_writeout",
            SleepFn::CongestionWait => "congestion_wait",
            SleepFn::WaitIffCongested => "wait_iff_congested",
            SleepFn::BalanceDirtyPages => "balance_dirty_pages",
            SleepFn::MempoolAlloc => "mempool_alloc",
            SleepFn::PfmemallocWait => "pfmemalloc_wait",
            SleepFn::IoWait => "io_schedule",
            SleepFn::TooManyIsolated => "too_many_isolated",
            SleepFn::Idle => "idle",
        }
    }
    /// Counted as throttling (not as an idle kernel thread or plain I/O wait).
    pub fn is_throttle(self) -> bool {
        !matches!(self, SleepFn::Idle | SleepFn::IoWait)
    }
}

/// What happened, with the task, the zone or the pool and the kernel function involved.
/// Task, zone, pool and device fields are indices into the run's `Config`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// `wakeup_kswapd`: an allocation failed the low watermark.
    KswapdWake {
        zone: usize,
    },
    /// kswapd found every zone at or above high and went back to sleep.
    KswapdSleep,
    /// A task entered `try_to_free_pages`.
    DirectReclaimStart {
        task: usize,
    },
    /// A task left direct reclaim with this many pages reclaimed.
    DirectReclaimEnd {
        task: usize,
        reclaimed: u64,
    },
    /// A task went to sleep in `function` for at most `timeout_ms`.
    Sleep {
        task: usize,
        function: SleepFn,
        timeout_ms: u64,
    },
    /// An allocation took pages below the min watermark (ALLOC_NO_WATERMARKS or ATOMIC cuts).
    /// `floor` is how low that allocation may go: 3/8·min for GFP_ATOMIC, 0 for
    /// PF_MEMALLOC / TIF_MEMDIE / __GFP_MEMALLOC.
    ReserveUsed {
        task: usize,
        zone: usize,
        pages: u64,
        free_after: u64,
        floor: u64,
        /// What let it below min: `PF_MEMALLOC`, `TIF_MEMDIE`, `__GFP_MEMALLOC` (no floor)
        /// or the watermark cuts `ALLOC_HIGH`, `ALLOC_HARDER`, `ALLOC_HIGH|ALLOC_HARDER`.
        reason: &'static str,
    },
    /// An allocation failed for good (`warn_alloc_failed` unless __GFP_NOWARN).
    AllocFail {
        task: usize,
        gfp: String,
        function: &'static str,
    },
    /// The pool handed out one of its reserved elements.
    MempoolTakeElement {
        task: usize,
        pool: usize,
        curr_nr: u64,
    },
    /// `mempool_free` refilled the pool and woke `pool->wait`.
    MempoolRefill {
        pool: usize,
        curr_nr: u64,
    },
    /// Swap pages submitted for writeback.
    SwapOut {
        task: usize,
        pages: u64,
    },
    /// A dirty file page was written by reclaim (`pageout` → `->writepage`).
    ReclaimWritepage {
        task: usize,
        pages: u64,
    },
    /// The filesystem refused ->writepage from reclaim context and redirtied the pages.
    WritepageRefused {
        task: usize,
        pages: u64,
    },
    /// A block device became write-congested / left congestion (`set/clear_bdi_congested`).
    Congested {
        device: usize,
    },
    Uncongested {
        device: usize,
    },
    /// A packet was dropped (RX allocation failure or a pfmemalloc skb for a normal socket).
    PacketDrop {
        device: usize,
        reason: &'static str,
    },
    /// `oom_kill_process`: victim chosen and marked TIF_MEMDIE.
    OomKill {
        victim: usize,
        trigger: usize,
        anon_pages: u64,
    },
    /// The OOM reaper unmapped the victim's anonymous memory.
    OomReaped {
        victim: usize,
        pages: u64,
    },
    /// A task's stack went past thread_size.
    StackOverflow {
        task: usize,
        depth_bytes: u64,
        thread_size: u64,
    },
    /// A task blocked longer than the hung-task timeout (khungtaskd).
    HungTask {
        task: usize,
        function: SleepFn,
        blocked_ms: u64,
    },
    TaskExit {
        task: usize,
    },
    TaskKilled {
        task: usize,
    },
    /// A knob changed between two ticks (the UI's live toggle).
    KnobChanged {
        knob: &'static str,
        value: String,
    },
}

impl Event {
    /// The kernel function this event is about, for the event log's filter.
    pub fn function(&self) -> &'static str {
        match self {
            Event::KswapdWake { .. } => "wakeup_kswapd",
            Event::KswapdSleep => "kswapd_try_to_sleep",
            Event::DirectReclaimStart { .. } | Event::DirectReclaimEnd { .. } => {
                "try_to_free_pages"
            }
            Event::Sleep { function, .. } | Event::HungTask { function, .. } => function.name(),
            Event::ReserveUsed { .. } => "get_page_from_freelist",
            Event::AllocFail { function, .. } => function,
            Event::MempoolTakeElement { .. } => "mempool_alloc",
            Event::MempoolRefill { .. } => "mempool_free",
            Event::SwapOut { .. } => "swap_writepage",
            Event::ReclaimWritepage { .. } | Event::WritepageRefused { .. } => "pageout",
            Event::Congested { .. } => "set_bdi_congested",
            Event::Uncongested { .. } => "clear_bdi_congested",
            Event::PacketDrop { .. } => "__netif_receive_skb",
            Event::OomKill { .. } => "oom_kill_process",
            Event::OomReaped { .. } => "__oom_reap_task",
            Event::StackOverflow { .. } => "stack overflow",
            Event::TaskExit { .. } => "do_exit",
            Event::TaskKilled { .. } => "do_exit",
            Event::KnobChanged { .. } => "sysctl",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SleepFn;

    #[test]
    fn all_follows_the_declaration_order() {
        for (i, f) in SleepFn::ALL.iter().enumerate() {
            assert_eq!(f.index(), i, "{}", f.name());
        }
    }
}
