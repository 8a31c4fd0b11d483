//! The closed set of things that can happen in a tick. The event log, the kernel log,
//! the verdicts and the trace hash all read this one stream.

use serde::Serialize;

/// The function a failed allocation's report names (`warn_alloc_failed`, called from
/// `__alloc_pages_slowpath`).
pub const ALLOC_FAIL_FUNCTION: &str = "__alloc_pages_slowpath";
/// The reason of a [`Event::PacketDrop`] whose skb allocation failed: each such packet is
/// one GFP_ATOMIC allocation that `warn_alloc_failed` reports (the kernel log's "page
/// allocation failure" lines, rate-limited).
pub const RX_ALLOC_FAILED: &str = "rx allocation failed";

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
    /// Whether khungtaskd can report a task asleep here. `check_hung_uninterruptible_tasks`
    /// (kernel/hung_task.c, 2.6.30 … 5.x) tests `t->state == TASK_UNINTERRUPTIBLE`, which
    /// skips TASK_KILLABLE: throttle_direct_reclaim waits on pfmemalloc_wait with
    /// `wait_event_killable` (__GFP_FS callers) or interruptibly for at most HZ (others),
    /// and idle kernel threads and userspace sleeps are interruptible. The remaining
    /// sleeps are uninterruptible; a timed one is reported only if a single sleep outlasts
    /// the timeout (the switch count changes on every wake-up).
    pub fn hung_task_checked(self) -> bool {
        !matches!(self, SleepFn::PfmemallocWait | SleepFn::Idle)
    }
    /// Counted as throttling (not as an idle kernel thread or plain I/O wait).
    pub fn is_throttle(self) -> bool {
        !matches!(self, SleepFn::Idle | SleepFn::IoWait)
    }
}

/// One zone's line of the `show_mem` summary `dump_header` prints with an OOM kill.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ZoneMemInfo {
    pub free: u64,
    pub min: u64,
    pub low: u64,
    pub high: u64,
    pub active_anon: u64,
    /// NR_INACTIVE_ANON: swapped-clean pages and pages under writeback included.
    pub inactive_anon: u64,
    pub isolated_anon: u64,
    pub active_file: u64,
    pub inactive_file: u64,
    pub dirty: u64,
    /// NR_WRITEBACK: file and swap pages.
    pub writeback: u64,
    pub slab: u64,
}

/// The memory state at the moment of an OOM kill, in pages — taken by the killer itself,
/// as `dump_header` prints it before anything (the reaper, an exit) frees a page.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct MemInfo {
    pub zones: Vec<ZoneMemInfo>,
    pub swap_free: u64,
    pub swap_total: u64,
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
    /// Packets were dropped: their skb allocation failed ([`RX_ALLOC_FAILED`]), or the skb
    /// came from the reserve (pfmemalloc) and its socket is not SOCK_MEMALLOC.
    PacketDrop {
        device: usize,
        packets: u64,
        reason: &'static str,
    },
    /// `oom_kill_process`: victim chosen and marked TIF_MEMDIE. `points` is the score the
    /// kernel prints: `oom_badness` normalised to 0–1000 of RAM + swap (4.7).
    OomKill {
        victim: usize,
        trigger: usize,
        rss_pages: u64,
        swap_pages: u64,
        points: u64,
        mem_info: Box<MemInfo>,
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

/// See [`Event::mentions`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mentions<'a> {
    /// The task the event is about ([`Event::task`]) and, for an OOM kill, the task whose
    /// allocation invoked the killer.
    pub tasks: [Option<usize>; 2],
    pub zone: Option<usize>,
    pub pool: Option<usize>,
    pub device: Option<usize>,
    /// Reasons, GFP masks, knob names and values.
    pub texts: [Option<&'a str>; 2],
}

impl Event {
    /// The serde tag (`oom_kill`, `sleep`, …): the name scenario chapters and the event
    /// log use. Spelled out rather than serialised, because the recording asks for it on
    /// every event (tests check it against serde for every variant).
    pub fn kind(&self) -> &'static str {
        Event::KINDS[self.kind_index()]
    }

    /// Every kind, in variant order: `KINDS[ev.kind_index()] == ev.kind()`.
    pub const KINDS: [&'static str; 22] = [
        "kswapd_wake",
        "kswapd_sleep",
        "direct_reclaim_start",
        "direct_reclaim_end",
        "sleep",
        "reserve_used",
        "alloc_fail",
        "mempool_take_element",
        "mempool_refill",
        "swap_out",
        "reclaim_writepage",
        "writepage_refused",
        "congested",
        "uncongested",
        "packet_drop",
        "oom_kill",
        "oom_reaped",
        "stack_overflow",
        "hung_task",
        "task_exit",
        "task_killed",
        "knob_changed",
    ];

    /// The position of the event's kind in [`Event::KINDS`] (for per-kind tables).
    pub fn kind_index(&self) -> usize {
        match self {
            Event::KswapdWake { .. } => 0,
            Event::KswapdSleep => 1,
            Event::DirectReclaimStart { .. } => 2,
            Event::DirectReclaimEnd { .. } => 3,
            Event::Sleep { .. } => 4,
            Event::ReserveUsed { .. } => 5,
            Event::AllocFail { .. } => 6,
            Event::MempoolTakeElement { .. } => 7,
            Event::MempoolRefill { .. } => 8,
            Event::SwapOut { .. } => 9,
            Event::ReclaimWritepage { .. } => 10,
            Event::WritepageRefused { .. } => 11,
            Event::Congested { .. } => 12,
            Event::Uncongested { .. } => 13,
            Event::PacketDrop { .. } => 14,
            Event::OomKill { .. } => 15,
            Event::OomReaped { .. } => 16,
            Event::StackOverflow { .. } => 17,
            Event::HungTask { .. } => 18,
            Event::TaskExit { .. } => 19,
            Event::TaskKilled { .. } => 20,
            Event::KnobChanged { .. } => 21,
        }
    }

    /// The task the event is about (the victim for OOM kills and reaping).
    pub fn task(&self) -> Option<usize> {
        match self {
            Event::DirectReclaimStart { task }
            | Event::DirectReclaimEnd { task, .. }
            | Event::Sleep { task, .. }
            | Event::ReserveUsed { task, .. }
            | Event::AllocFail { task, .. }
            | Event::MempoolTakeElement { task, .. }
            | Event::SwapOut { task, .. }
            | Event::ReclaimWritepage { task, .. }
            | Event::WritepageRefused { task, .. }
            | Event::StackOverflow { task, .. }
            | Event::HungTask { task, .. }
            | Event::TaskExit { task }
            | Event::TaskKilled { task } => Some(*task),
            Event::OomKill { victim, .. } | Event::OomReaped { victim, .. } => Some(*victim),
            Event::KswapdWake { .. }
            | Event::KswapdSleep
            | Event::MempoolRefill { .. }
            | Event::Congested { .. }
            | Event::Uncongested { .. }
            | Event::PacketDrop { .. }
            | Event::KnobChanged { .. } => None,
        }
    }

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

    /// What the event names besides its kind and function: the tasks, zone, pool and
    /// device it refers to (indices into the config) and its text fields. The event log
    /// searches these instead of formatting every event it passes over.
    pub fn mentions(&self) -> Mentions<'_> {
        let mut m = Mentions {
            tasks: [self.task(), None],
            ..Mentions::default()
        };
        match self {
            Event::KswapdWake { zone } => m.zone = Some(*zone),
            Event::ReserveUsed { zone, reason, .. } => {
                m.zone = Some(*zone);
                m.texts[0] = Some(reason);
            }
            Event::AllocFail { gfp, .. } => m.texts[0] = Some(gfp),
            Event::MempoolTakeElement { pool, .. } | Event::MempoolRefill { pool, .. } => {
                m.pool = Some(*pool)
            }
            Event::Congested { device } | Event::Uncongested { device } => m.device = Some(*device),
            Event::PacketDrop { device, reason, .. } => {
                m.device = Some(*device);
                m.texts[0] = Some(reason);
            }
            Event::OomKill { trigger, .. } => m.tasks[1] = Some(*trigger),
            Event::KnobChanged { knob, value } => m.texts = [Some(knob), Some(value)],
            Event::KswapdSleep
            | Event::DirectReclaimStart { .. }
            | Event::DirectReclaimEnd { .. }
            | Event::Sleep { .. }
            | Event::SwapOut { .. }
            | Event::ReclaimWritepage { .. }
            | Event::WritepageRefused { .. }
            | Event::OomReaped { .. }
            | Event::StackOverflow { .. }
            | Event::HungTask { .. }
            | Event::TaskExit { .. }
            | Event::TaskKilled { .. } => {}
        }
        m
    }

    #[cfg(not(target_arch = "wasm32"))]
    /// One event of every variant, with made-up fields, and one `Sleep` and `HungTask` per
    /// sleeping function: the catalogue scenario chapters are checked against
    /// ([`Event::kinds`], [`Event::functions_of_kind`]). The match at the end makes a new
    /// variant a compile error here, so the catalogue cannot fall behind.
    pub fn examples() -> Vec<Event> {
        let mut all = vec![
            Event::KswapdWake { zone: 1 },
            Event::KswapdSleep,
            Event::DirectReclaimStart { task: 2 },
            Event::DirectReclaimEnd {
                task: 2,
                reclaimed: 32,
            },
            Event::ReserveUsed {
                task: 4,
                zone: 0,
                pages: 1,
                free_after: 9,
                floor: 0,
                reason: "PF_MEMALLOC",
            },
            Event::AllocFail {
                task: 5,
                gfp: "GFP_NOIO".into(),
                function: ALLOC_FAIL_FUNCTION,
            },
            Event::MempoolTakeElement {
                task: 6,
                pool: 0,
                curr_nr: 3,
            },
            Event::MempoolRefill {
                pool: 0,
                curr_nr: 4,
            },
            Event::SwapOut { task: 7, pages: 32 },
            Event::ReclaimWritepage { task: 8, pages: 1 },
            Event::WritepageRefused { task: 9, pages: 1 },
            Event::Congested { device: 0 },
            Event::Uncongested { device: 0 },
            Event::PacketDrop {
                device: 1,
                packets: 2,
                reason: "pfmemalloc",
            },
            Event::OomKill {
                victim: 10,
                trigger: 11,
                rss_pages: 5,
                swap_pages: 2,
                points: 7,
                mem_info: Box::new(MemInfo {
                    zones: Vec::new(),
                    swap_free: 0,
                    swap_total: 0,
                }),
            },
            Event::OomReaped {
                victim: 10,
                pages: 5,
            },
            Event::StackOverflow {
                task: 12,
                depth_bytes: 8200,
                thread_size: 8192,
            },
            Event::TaskExit { task: 14 },
            Event::TaskKilled { task: 15 },
            Event::KnobChanged {
                knob: "oom_reaper",
                value: "on".into(),
            },
        ];
        for function in SleepFn::ALL {
            all.push(Event::Sleep {
                task: 3,
                function,
                timeout_ms: 100,
            });
            all.push(Event::HungTask {
                task: 13,
                function,
                blocked_ms: 120_000,
            });
        }
        for ev in &all {
            match ev {
                Event::KswapdWake { .. }
                | Event::KswapdSleep
                | Event::DirectReclaimStart { .. }
                | Event::DirectReclaimEnd { .. }
                | Event::Sleep { .. }
                | Event::ReserveUsed { .. }
                | Event::AllocFail { .. }
                | Event::MempoolTakeElement { .. }
                | Event::MempoolRefill { .. }
                | Event::SwapOut { .. }
                | Event::ReclaimWritepage { .. }
                | Event::WritepageRefused { .. }
                | Event::Congested { .. }
                | Event::Uncongested { .. }
                | Event::PacketDrop { .. }
                | Event::OomKill { .. }
                | Event::OomReaped { .. }
                | Event::StackOverflow { .. }
                | Event::HungTask { .. }
                | Event::TaskExit { .. }
                | Event::TaskKilled { .. }
                | Event::KnobChanged { .. } => {}
            }
        }
        all
    }

    #[cfg(not(target_arch = "wasm32"))]
    /// Every event kind ([`Event::kind`]), each once, sorted.
    pub fn kinds() -> Vec<&'static str> {
        let mut kinds: Vec<_> = Event::examples().iter().map(Event::kind).collect();
        kinds.sort_unstable();
        kinds.dedup();
        kinds
    }

    #[cfg(not(target_arch = "wasm32"))]
    /// The kernel functions an event of `kind` can name ([`Event::function`]), sorted.
    pub fn functions_of_kind(kind: &str) -> Vec<&'static str> {
        let mut functions: Vec<_> = Event::examples()
            .iter()
            .filter(|ev| ev.kind() == kind)
            .map(Event::function)
            .collect();
        functions.sort_unstable();
        functions.dedup();
        functions
    }
}

#[cfg(test)]
mod tests {
    use super::{Event, SleepFn};

    /// `kind()` and `task()` say what the serialised event says.
    #[test]
    fn kind_and_task_agree_with_serde() {
        for ev in Event::examples() {
            let v = serde_json::to_value(&ev).unwrap();
            assert_eq!(ev.kind(), v["kind"].as_str().unwrap(), "{ev:?}");
            let task = v
                .get("task")
                .or_else(|| v.get("victim"))
                .and_then(|t| t.as_u64());
            assert_eq!(ev.task().map(|t| t as u64), task, "{ev:?}");
        }
    }

    #[test]
    fn all_follows_the_declaration_order() {
        for (i, f) in SleepFn::ALL.iter().enumerate() {
            assert_eq!(f.index(), i, "{}", f.name());
        }
    }
}
