//! Kernel stack depth: every task's call stack is a list of named frames with byte sizes,
//! assembled from segments. Segment frames come from the real traces in
//! `data/stack-traces/` (Chinner 2010, Gorman 2010) where those exist; frames the traces do
//! not show are estimates and are marked so (kernel-mm.md §11.3, §14.8).

use super::event::SleepFn;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    pub function: String,
    pub bytes: u64,
    /// True when the size is an estimate rather than a measured frame.
    pub estimated: bool,
}

/// A run of frames that always appear together, bottom (outermost) first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub frames: Vec<Frame>,
    pub bytes: u64,
}

impl Segment {
    fn new(frames: Vec<Frame>) -> Segment {
        let bytes = frames.iter().map(|f| f.bytes).sum();
        Segment { frames, bytes }
    }
}

const CHINNER_CSV: &str =
    include_str!("../../../data/stack-traces/chinner-2010-xfs-direct-reclaim.csv");
const GORMAN_CSV: &str = include_str!("../../../data/stack-traces/gorman-2010-flusher-xfs.csv");

/// Rows of a trace CSV (`depth_bytes,size_bytes,function,module`), outermost frame first.
fn parse_trace(csv: &str) -> Vec<Frame> {
    let mut frames: Vec<Frame> = csv
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut cols = line.split(',');
            let _depth = cols.next()?;
            let size = cols.next()?.parse::<u64>().ok()?;
            let function = cols.next()?.to_string();
            Some(Frame {
                function,
                bytes: size,
                estimated: false,
            })
        })
        .collect();
    frames.reverse();
    frames
}

/// The frames of `trace` from `from` up to and including `to` (outermost first).
fn slice(trace: &[Frame], from: &str, to: &str) -> Vec<Frame> {
    let start = trace
        .iter()
        .position(|f| f.function == from)
        .expect("frame in trace");
    let end = trace
        .iter()
        .position(|f| f.function == to)
        .expect("frame in trace");
    trace[start..=end].to_vec()
}

fn est(frames: &[(&str, u64)]) -> Vec<Frame> {
    frames
        .iter()
        .map(|(f, b)| Frame {
            function: (*f).to_string(),
            bytes: *b,
            estimated: true,
        })
        .collect()
}

/// Which base a task's stack starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StackBase {
    /// `sys_select` → … → `__get_free_pages`: Chinner's caller, 1728 bytes.
    #[serde(rename = "sys_select")]
    SysSelect,
    /// An anonymous page fault (estimated sizes).
    #[serde(rename = "page_fault")]
    PageFault,
    /// A buffered `write(2)` into the page cache (estimated sizes).
    #[serde(rename = "sys_write")]
    SysWrite,
    /// A kernel thread's loop (kswapd, flusher, workers, nfsd, oom_reaper).
    #[serde(rename = "kthread")]
    Kthread,
    /// Network receive softirq.
    #[serde(rename = "softirq")]
    Softirq,
}

/// All segments, built once per run from the embedded traces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackTables {
    pub sys_select: Segment,
    pub page_fault: Segment,
    pub sys_write: Segment,
    /// A program's own sleep (`Op::Sleep`): back in user space, then `nanosleep` — its
    /// page fault or write has returned, so none of those frames remain.
    pub user_sleep: Segment,
    /// Kernel threads asleep waiting for work, down to `schedule` (sizes estimated): none
    /// of them is inside the work it does when awake. kswapd sleeps in
    /// `kswapd_try_to_sleep` (mm/vmscan.c, 2.6.35 … 4.7), not in balance_pgdat; the
    /// 2.6.3x bdi flusher in `bdi_writeback_task`'s schedule_timeout (mm/backing-dev.c,
    /// fs/fs-writeback.c), not in ->writepage; a workqueue worker such as kcryptd in
    /// `worker_thread` (kernel/workqueue.c); nfsd in `svc_recv` (net/sunrpc/svc_xprt.c);
    /// the OOM reaper (4.6+) in `oom_reaper`'s wait_event_freezable (mm/oom_kill.c).
    pub kswapd_idle: Segment,
    pub flusher_idle: Segment,
    pub kcryptd_idle: Segment,
    pub nfsd_idle: Segment,
    pub oom_reaper_idle: Segment,
    pub kthread: Segment,
    /// NET_RX allocating an skb, 3.6+: `__alloc_skb` → `kmalloc_reserve`, which tries
    /// without the reserves first (net/core/skbuff.c, Mel Gorman's swap-over-network series).
    pub softirq: Segment,
    /// The same before 3.6 (and with `pfmemalloc_reserves=off`): `__alloc_skb` calls
    /// `kmalloc_node_track_caller` itself; kmalloc_reserve did not exist yet.
    pub softirq_pre_reserves: Segment,
    pub kswapd: Segment,
    pub flusher: Segment,
    /// `xfs_vm_writepage` … `get_page_from_freelist` in Mel's flusher trace (to 5064 bytes).
    pub flusher_writepage: Segment,
    /// An idle kcryptd worker: `worker_thread` waiting for work.
    pub kcryptd: Segment,
    /// kcryptd running a work item (`process_one_work` → `kcryptd_crypt`).
    pub kcryptd_work: Segment,
    /// kcryptd allocating its clone bio (`bio_alloc_bioset` → `mempool_alloc`).
    pub kcryptd_bio_alloc: Segment,
    pub nfsd: Segment,
    /// `__alloc_pages_nodemask` (Chinner: 240 bytes).
    pub alloc: Segment,
    /// `try_to_free_pages` → `do_try_to_free_pages` → `shrink_zone` (Chinner sizes).
    pub direct_reclaim: Segment,
    /// The same in 4.5+, where `shrink_zone` calls `shrink_zone_memcg` (kcryptd trace).
    pub direct_reclaim_memcg: Segment,
    /// `shrink_zone` as kswapd calls it from `balance_pgdat`.
    pub kswapd_shrink: Segment,
    /// `shrink_page_list` (384 bytes); `pageout` is inlined in Chinner's trace.
    pub shrink_page_list: Segment,
    /// `xfs_vm_writepage` … `mempool_alloc_slab`: Chinner's 4448 bytes.
    pub xfs_writepage: Segment,
    /// `swap_writepage` → `submit_bio` → `dm_request` → `mempool_alloc` (estimated).
    pub swap_writepage: Segment,
    /// `mempool_alloc` → `mempool_alloc_slab` → `kmem_cache_alloc` → slab refill (estimated
    /// from the 2010 traces' sizes of the same functions).
    pub mempool: Segment,
    /// The same with 4.7's SLUB, whose refill goes through `___slab_alloc` (kcryptd trace).
    pub mempool_slub_4_7: Segment,
    /// `mempool_alloc` asleep on `pool->wait` (it calls io_schedule_timeout itself).
    pub mempool_wait: Segment,
    /// The frames of each way to sleep, from the function that decides to sleep down to
    /// `schedule` (estimated sizes), indexed by `SleepFn::index`; see [`sleep_frames`].
    pub sleeping: Vec<Segment>,
}

impl StackTables {
    pub fn build() -> StackTables {
        let chinner = parse_trace(CHINNER_CSV);
        let gorman = parse_trace(GORMAN_CSV);
        let kthread = est(&[("ret_from_fork", 56), ("kthread", 96)]);
        let with = |base: &[Frame], more: Vec<Frame>| {
            Segment::new(base.iter().cloned().chain(more).collect())
        };
        // NET_RX down to __alloc_skb; what __alloc_skb calls depends on the generation.
        let rx = est(&[
            ("irq_exit", 16),
            ("__do_softirq", 96),
            ("net_rx_action", 112),
            ("napi_gro_receive", 48),
            ("__netdev_alloc_skb", 48),
            ("__alloc_skb", 80),
        ]);
        StackTables {
            sys_select: Segment::new(slice(
                &chinner,
                "system_call_fastpath",
                "alloc_pages_current",
            )),
            page_fault: Segment::new(est(&[
                ("page_fault", 16),
                ("do_page_fault", 176),
                ("handle_mm_fault", 160),
                ("do_anonymous_page", 96),
                ("alloc_pages_vma", 64),
            ])),
            sys_write: Segment::new(est(&[
                ("system_call_fastpath", 128),
                ("sys_write", 80),
                ("vfs_write", 64),
                ("do_sync_write", 176),
                ("xfs_file_aio_write", 240),
                ("generic_file_buffered_write", 144),
                ("grab_cache_page_write_begin", 64),
            ])),
            user_sleep: Segment::new(est(&[
                ("system_call_fastpath", 128),
                ("sys_nanosleep", 64),
                ("hrtimer_nanosleep", 112),
                ("do_nanosleep", 64),
                ("schedule", 176),
            ])),
            kswapd_idle: with(
                &kthread,
                est(&[
                    ("kswapd", 128),
                    ("kswapd_try_to_sleep", 80),
                    ("schedule", 176),
                ]),
            ),
            // 2.6.3x bdi threads: bdi_writeback_task waits in schedule_timeout for the
            // next dirty_writeback_interval (Gorman's trace has the frames above it).
            flusher_idle: with(
                &slice(&gorman, "kernel_thread_helper", "bdi_writeback_task"),
                est(&[("schedule_timeout", 96), ("schedule", 176)]),
            ),
            kcryptd_idle: with(&kthread, est(&[("worker_thread", 96), ("schedule", 176)])),
            nfsd_idle: with(
                &kthread,
                est(&[
                    ("nfsd", 64),
                    ("svc_recv", 112),
                    ("schedule_timeout", 96),
                    ("schedule", 176),
                ]),
            ),
            oom_reaper_idle: with(&kthread, est(&[("oom_reaper", 64), ("schedule", 176)])),
            kthread: Segment::new(kthread.clone()),
            softirq: with(&rx, est(&[("kmalloc_reserve", 48)])),
            softirq_pre_reserves: with(&rx, est(&[("__kmalloc_node_track_caller", 48)])),
            kswapd: with(&kthread, est(&[("kswapd", 128), ("balance_pgdat", 208)])),
            flusher: Segment::new(slice(&gorman, "kernel_thread_helper", "__writepage")),
            flusher_writepage: Segment::new(slice(
                &gorman,
                "xfs_vm_writepage",
                "get_page_from_freelist",
            )),
            kcryptd: with(&kthread, est(&[("worker_thread", 96)])),
            kcryptd_work: Segment::new(est(&[("process_one_work", 112), ("kcryptd_crypt", 96)])),
            kcryptd_bio_alloc: Segment::new(est(&[("bio_alloc_bioset", 64)])),
            nfsd: with(
                &kthread,
                est(&[
                    ("nfsd", 64),
                    ("svc_process", 96),
                    ("nfsd_dispatch", 64),
                    ("nfsd_write", 96),
                    ("nfsd_vfs_write", 128),
                    ("vfs_writev", 112),
                    ("generic_perform_write", 144),
                ]),
            ),
            alloc: Segment::new(slice(
                &chinner,
                "__alloc_pages_nodemask",
                "__alloc_pages_nodemask",
            )),
            direct_reclaim: Segment::new(slice(&chinner, "try_to_free_pages", "shrink_zone")),
            direct_reclaim_memcg: with(
                &slice(&chinner, "try_to_free_pages", "shrink_zone"),
                est(&[("shrink_zone_memcg", 112)]),
            ),
            kswapd_shrink: Segment::new(slice(&chinner, "shrink_zone", "shrink_zone")),
            shrink_page_list: Segment::new(slice(&chinner, "shrink_page_list", "shrink_page_list")),
            xfs_writepage: Segment::new(slice(&chinner, "xfs_vm_writepage", "mempool_alloc_slab")),
            swap_writepage: Segment::new(est(&[
                ("swap_writepage", 48),
                ("__swap_writepage", 96),
                ("submit_bio", 80),
                ("generic_make_request", 208),
                ("dm_request", 64),
                ("__split_and_process_bio", 112),
            ])),
            mempool: Segment::new(est(&[
                ("mempool_alloc", 144),
                ("mempool_alloc_slab", 16),
                ("kmem_cache_alloc", 64),
                ("__slab_alloc", 96),
                ("new_slab", 48),
                ("alloc_pages_current", 48),
            ])),
            mempool_slub_4_7: Segment::new(est(&[
                ("mempool_alloc", 144),
                ("mempool_alloc_slab", 16),
                ("kmem_cache_alloc", 64),
                ("__slab_alloc", 32),
                ("___slab_alloc", 96),
                ("new_slab", 48),
                ("alloc_pages_current", 48),
            ])),
            mempool_wait: Segment::new(est(&[("mempool_alloc", 144)])),
            sleeping: SleepFn::ALL
                .iter()
                .map(|&f| Segment::new(est(sleep_frames(f))))
                .collect(),
        }
    }

    /// The frames a task sleeping in `function` has above the caller's.
    pub fn sleeping_in(&self, function: SleepFn) -> &Segment {
        &self.sleeping[function.index()]
    }

    pub fn base(&self, base: StackBase) -> &Segment {
        match base {
            StackBase::SysSelect => &self.sys_select,
            StackBase::PageFault => &self.page_fault,
            StackBase::SysWrite => &self.sys_write,
            StackBase::Kthread => &self.kthread,
            StackBase::Softirq => &self.softirq,
        }
    }
}

/// How each sleep reaches `schedule` (4.7 names; sizes estimated). The kcryptd trace in
/// seed 001 (and `shared/data/stack-traces/kcryptd-2016.csv`) shows the throttle_vm_writeout
/// one: `throttle_vm_writeout` → `congestion_wait` → `io_schedule_timeout` →
/// `schedule_timeout` → `schedule`.
pub fn sleep_frames(function: SleepFn) -> &'static [(&'static str, u64)] {
    const TIMEOUT: [(&str, u64); 3] = [
        ("io_schedule_timeout", 48),
        ("schedule_timeout", 96),
        ("schedule", 176),
    ];
    match function {
        SleepFn::ThrottleVmWriteout => &[
            ("throttle_vm_writeout", 96),
            ("congestion_wait", 80),
            TIMEOUT[0],
            TIMEOUT[1],
            TIMEOUT[2],
        ],
        // congestion_wait from the reclaim nap, kswapd's nr_immediate wait,
        // should_reclaim_retry, or shrink_inactive_list's too_many_isolated loop.
        SleepFn::CongestionWait | SleepFn::TooManyIsolated => {
            &[("congestion_wait", 80), TIMEOUT[0], TIMEOUT[1], TIMEOUT[2]]
        }
        SleepFn::WaitIffCongested => &[
            ("wait_iff_congested", 96),
            TIMEOUT[0],
            TIMEOUT[1],
            TIMEOUT[2],
        ],
        // balance_dirty_pages_ratelimited → balance_dirty_pages → io_schedule_timeout(pause).
        SleepFn::BalanceDirtyPages => &[
            ("balance_dirty_pages_ratelimited", 48),
            ("balance_dirty_pages", 176),
            TIMEOUT[0],
            TIMEOUT[1],
            TIMEOUT[2],
        ],
        // mempool_alloc's own io_schedule_timeout(5*HZ) on pool->wait.
        SleepFn::MempoolAlloc => &TIMEOUT,
        // try_to_free_pages → throttle_direct_reclaim → wait_event_killable(pfmemalloc_wait).
        SleepFn::PfmemallocWait => &[
            ("try_to_free_pages", 128),
            ("throttle_direct_reclaim", 96),
            ("schedule", 176),
        ],
        // A blocked request allocation, a full socket send buffer, a page lock for a read.
        SleepFn::IoWait => &[("io_schedule", 32), ("schedule", 176)],
        SleepFn::Idle => &[("schedule", 176)],
    }
}

/// The seeded extra depth the traces do not show (kernel-mm.md §14.8): an interrupt
/// taken on the same stack, and extra btree split levels during delalloc conversion.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraDepth {
    /// Chance, per ->writepage call from reclaim, that a hardware interrupt lands on the
    /// task stack at its deepest point (per mille).
    pub interrupt_permille: u64,
    pub interrupt_bytes: u64,
    /// Extra btree levels split during delalloc conversion: uniform in 0..=max.
    pub btree_levels_max: u64,
    /// Bytes per extra split level (xfs_btree_insrec + xfs_btree_split + make_block_unfull).
    pub btree_level_bytes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinner_segments_add_up_to_the_trace() {
        let t = StackTables::build();
        // 7568 bytes deepest = caller (to alloc_pages_current, 1728) + __alloc_pages_nodemask (240)
        // + reclaim (768) + shrink_page_list (384) + XFS/block (4448).
        assert_eq!(t.sys_select.bytes, 1728);
        assert_eq!(t.alloc.bytes, 240);
        assert_eq!(t.direct_reclaim.bytes, 128 + 112 + 528);
        assert_eq!(t.shrink_page_list.bytes, 384);
        assert_eq!(t.xfs_writepage.bytes, 4448);
        let total = t.sys_select.bytes
            + t.alloc.bytes
            + t.direct_reclaim.bytes
            + t.shrink_page_list.bytes
            + t.xfs_writepage.bytes;
        assert_eq!(total, 7568);
        assert_eq!(8192 - total, 624);
    }

    #[test]
    fn gorman_flusher_reaches_writepage() {
        let t = StackTables::build();
        // Depth at __writepage in Mel's flusher trace is 1288 bytes.
        assert_eq!(t.flusher.bytes, 1288);
        assert!(!t.flusher.frames.iter().any(|f| f.estimated));
        assert_eq!(t.flusher.bytes + t.flusher_writepage.bytes, 5064);
    }
}
