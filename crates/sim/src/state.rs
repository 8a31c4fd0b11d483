//! Everything that changes during a run. `State` is plain data: cloning it is a snapshot,
//! and serde round-trips it (Architecture invariant: no `HashMap`, no pointers, no clock).

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::event::SleepFn;
use super::gfp::{Gfp, TaskFlags};
use super::policy::Knobs;
use super::rng::SimRng;
use super::time::Tick;
use super::watermarks::Watermarks;

/// One zone's pages by LRU list and page state (counts, never page objects).
/// Conservation: `free + anon() + file() + kernel == managed_pages`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    /// NR_FREE_PAGES.
    pub free: u64,
    /// Anonymous pages not in the swap cache, by LRU list.
    pub anon_active: u64,
    pub anon_inactive: u64,
    /// Anonymous pages in the swap cache under writeback (NR_WRITEBACK, swap part).
    pub anon_writeback: u64,
    /// Of `anon_writeback`, pages still isolated from the LRU (NR_ISOLATED_ANON): the
    /// batch of a reclaimer whose swap submit is blocked (dm core's mempool_alloc). They
    /// are under writeback already — `__swap_writepage` sets PageWriteback before
    /// `submit_bio` — but off the inactive list until `putback_inactive_pages`.
    /// File batches never stay isolated across a tick: their writeback submit never blocks.
    pub anon_isolated: u64,
    /// Swap-cache pages whose writeback finished (PageReclaim: freed on the next scan).
    pub anon_swapped_clean: u64,
    /// Clean page cache.
    pub file_active: u64,
    pub file_inactive: u64,
    /// NR_FILE_DIRTY and file NR_WRITEBACK, per backing device (index = device). Changed
    /// only through the `file_*` methods, which keep the totals beside them (reclaim reads
    /// the totals several times per shrink_zone).
    pub file_dirty: Vec<u64>,
    pub file_writeback: Vec<u64>,
    #[serde(default)]
    pub file_dirty_sum: u64,
    #[serde(default)]
    pub file_writeback_sum: u64,
    /// Page-cache pages locked for a read in flight (readahead): on the LRU, so counted
    /// as reclaimable, but `shrink_page_list` cannot lock them; clean cache once read.
    pub file_locked: u64,
    /// Pages held by the kernel itself: slab pages, mempool pages, skbs, ciphertext pages.
    pub kernel: u64,
    /// Of `kernel`, pages handed out below min by ALLOC_NO_WATERMARKS (page->pfmemalloc).
    pub kernel_pfmemalloc: u64,
    /// `zone->pages_scanned` since the last page freed, for the all_unreclaimable heuristic.
    pub pages_scanned: u64,
    /// `zone->all_unreclaimable` (2.6.35/3.6): set by kswapd, cleared when reclaim frees.
    pub all_unreclaimable: bool,
}

impl Zone {
    /// Pages return to the free lists (`free_pcppages_bulk`): any free resets the reclaim
    /// scan counter and the all_unreclaimable flag (2.6.35 … 4.7).
    pub fn give_back(&mut self, pages: u64) {
        self.free += pages;
        if pages > 0 {
            self.pages_scanned = 0;
            self.all_unreclaimable = false;
        }
    }

    pub fn anon(&self) -> u64 {
        self.anon_active + self.anon_inactive + self.anon_writeback + self.anon_swapped_clean
    }
    pub fn file_dirty_total(&self) -> u64 {
        self.file_dirty_sum
    }
    pub fn file_writeback_total(&self) -> u64 {
        self.file_writeback_sum
    }
    /// `n` page-cache pages of `device` dirtied.
    pub fn file_dirty_add(&mut self, device: usize, n: u64) {
        self.file_dirty[device] += n;
        self.file_dirty_sum += n;
    }
    /// `n` dirty pages of `device` go under writeback (`clear_page_dirty_for_io`).
    pub fn file_dirty_to_writeback(&mut self, device: usize, n: u64) {
        self.file_dirty[device] -= n;
        self.file_dirty_sum -= n;
        self.file_writeback[device] += n;
        self.file_writeback_sum += n;
    }
    /// Writeback of `n` pages of `device` completed (`end_page_writeback`).
    pub fn file_writeback_done(&mut self, device: usize, n: u64) {
        self.file_writeback[device] -= n;
        self.file_writeback_sum -= n;
    }
    pub fn file(&self) -> u64 {
        self.file_active
            + self.file_inactive
            + self.file_locked
            + self.file_dirty_total()
            + self.file_writeback_total()
    }
    /// NR_INACTIVE_ANON: the inactive anon LRU (plain, under writeback, swapped-clean),
    /// isolated pages excluded.
    pub fn nr_inactive_anon(&self) -> u64 {
        self.anon_inactive + self.anon_writeback + self.anon_swapped_clean - self.anon_isolated
    }
    /// NR_INACTIVE_FILE (readahead pages locked for a read are on the inactive list too).
    pub fn nr_inactive_file(&self) -> u64 {
        self.file_inactive
            + self.file_locked
            + self.file_dirty_total()
            + self.file_writeback_total()
    }
    /// `zone_reclaimable_pages`: LRU pages (anon counts only when swap has room).
    pub fn reclaimable(&self, swap_room: bool) -> u64 {
        let anon = if swap_room {
            self.anon()
        } else {
            self.anon_swapped_clean + self.anon_writeback
        };
        self.file() + anon
    }
}

/// Where a sleeping task is queued, i.e. what can wake it before its timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WaitQueue {
    /// Only the timeout ends the sleep.
    Timer,
    /// `congestion_wqh[BLK_RW_ASYNC]`: woken when any BDI leaves congestion.
    Congestion,
    /// `pool->wait`.
    Pool(usize),
    /// `pgdat->pfmemalloc_wait`, woken by kswapd.
    PfmemallocWait,
    /// `pgdat->kswapd_wait`.
    KswapdWait,
    /// A worker waiting for work on its queue (kcryptd, nfsd, the flusher, oom_reaper).
    Work,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wait {
    pub function: SleepFn,
    pub since: Tick,
    pub until: Tick,
    pub queue: WaitQueue,
}

/// Where a resumable page allocation is in `__alloc_pages_slowpath` (kernel-mm.md §2.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlowStage {
    /// Fast path at the low mark.
    Fast,
    /// After `throttle_direct_reclaim` allowed us (or was skipped): go and reclaim.
    Reclaim,
    /// Back from a retry nap: re-enter at `rebalance`.
    Rebalance,
}

/// A page allocation in progress (one `alloc_pages` request for `want` order-0 pages).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocReq {
    pub gfp: Gfp,
    pub want: u64,
    pub stage: SlowStage,
    pub no_progress_loops: u32,
    pub did_some_progress: bool,
    /// Pages obtained so far (the request may sleep between tries).
    pub got: u64,
}

/// A direct-reclaim or kswapd pass in progress (`do_try_to_free_pages` / `balance_pgdat`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReclaimCtx {
    pub gfp: Gfp,
    pub priority: u32,
    pub zone_idx: usize,
    pub nr_reclaimed: u64,
    pub nr_scanned: u64,
    pub may_writepage: bool,
    /// The pass slept in throttle_vm_writeout after shrinking `zone_idx`; resume there.
    pub in_throttle: bool,
    /// The pass slept in its per-priority nap; resume at the next priority.
    pub in_nap: bool,
    /// Pages of a swap bio still to be handed to the device (the submit blocked in
    /// dm core's mempool_alloc).
    pub pending_swap_submit: u64,
    pub pending_zone: usize,
    /// The last shrink_zone's batch: scanned, reclaimed, and met under writeback.
    pub last_scanned: u64,
    pub last_reclaimed: u64,
    pub last_writeback_met: u64,
}

impl ReclaimCtx {
    /// A fresh reclaim pass (`struct scan_control` as try_to_free_pages and balance_pgdat
    /// set it up): DEF_PRIORITY, nothing scanned or reclaimed, writepage allowed.
    pub fn new(gfp: Gfp) -> ReclaimCtx {
        ReclaimCtx {
            gfp,
            priority: super::vmscan::DEF_PRIORITY,
            zone_idx: 0,
            nr_reclaimed: 0,
            nr_scanned: 0,
            may_writepage: true,
            in_throttle: false,
            in_nap: false,
            pending_swap_submit: 0,
            pending_zone: 0,
            last_scanned: 0,
            last_reclaimed: 0,
            last_writeback_met: 0,
        }
    }
}

/// A `mempool_alloc` in progress: which variant round we are in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MempoolCtx {
    pub pool: usize,
    pub gfp_mask: Gfp,
    /// `gfp_temp` of the kernel loop (first round: no direct reclaim, no IO).
    pub gfp_temp: Gfp,
    pub want: u64,
    pub got: u64,
    /// The variant's step we resume at after a sleep.
    pub after_wait: bool,
    /// PF_LESS_THROTTLE value to restore on exit (variant E).
    pub saved_less_throttle: bool,
    /// Slab objects already taken from the cache in this round.
    pub cache_objs: u64,
    /// Pages the round's page allocation has obtained so far (it may sleep midway),
    /// and how many of them came from below min (page->pfmemalloc).
    pub carried_pages: u64,
    pub carried_pfmemalloc: u64,
    /// The round's `pool->alloc` page allocation: pages wanted, mask, and whether it is
    /// under way (so a wake-up resumes it instead of starting a new round).
    pub page_want: u64,
    pub page_gfp: Gfp,
    pub in_page_alloc: bool,
    /// The call runs inside reclaim (PF_MEMALLOC): its page allocations are one-shot.
    pub nested: bool,
    /// Keep elements obtained while waiting for the rest (see `mempool::begin`).
    pub hold_partial: bool,
}

/// What a worker is doing with the bio at the head of its queue.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerCtx {
    /// kcryptd: pages of the head bio that already hold a crypt bio / ciphertext page.
    pub have_bio: u64,
    pub have_pages: u64,
    /// Encryption budget carried between ticks (pages × 1000).
    pub budget_milli: u64,
}

/// The depths of the last [`DEPTH_CACHE_SIZE`] stack shapes a task was in. A task cycles
/// through a handful of shapes — a reader between its page fault and direct reclaim, kswapd
/// between its work and its idle wait — and the depth of a shape never changes. Summing
/// the segments again at every change of shape was 2.5 % of a run swapping over the
/// network (BENCHMARKS.md, 2026-12-04).
pub const DEPTH_CACHE_SIZE: usize = 4;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepthCache {
    /// `(StackShape::key, depth)`; key 0 is an empty entry (no shape has key 0).
    entries: [(u16, u64); DEPTH_CACHE_SIZE],
    /// The entry the next new shape replaces (round robin: deterministic, and a task's
    /// shapes are few enough that which one goes hardly matters).
    next: u8,
}

impl DepthCache {
    /// The cached depth of the shape with this key (`StackShape::key`), if any.
    pub fn get(&self, key: u16) -> Option<u64> {
        self.entries
            .iter()
            .find(|&&(k, _)| k == key)
            .map(|&(_, depth)| depth)
    }

    /// Caches `depth` for the shape with this key, replacing the oldest entry.
    pub fn insert(&mut self, key: u16, depth: u64) {
        self.entries[usize::from(self.next)] = (key, depth);
        self.next = (self.next + 1) % DEPTH_CACHE_SIZE as u8;
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub flags: TaskFlags,
    pub op_index: usize,
    /// Pages done in the current op.
    pub op_done: u64,
    /// Rate accumulator (pages × 1000 owed).
    pub rate_milli: u64,
    pub sleep_op_until: Option<Tick>,
    /// Anonymous pages this task has resident / on swap (OOM badness, exit, reaping).
    pub anon_resident: u64,
    pub anon_swapped: u64,
    pub wait: Option<Wait>,
    pub woken: bool,
    pub alloc: Option<AllocReq>,
    pub reclaim: Option<ReclaimCtx>,
    pub mempool: Option<MempoolCtx>,
    pub worker: WorkerCtx,
    pub exited: bool,
    pub killed: bool,
    pub hung_reported: bool,
    /// Bytes of kernel stack in use right now.
    pub depth_bytes: u64,
    pub depth_bytes_max: u64,
    /// Depths of the stack shapes the task was last in (see [`DepthCache`]).
    pub depth_cache: DepthCache,
    pub sleep_ms_by_fn: [u64; 9],
    pub finished_at: Option<Tick>,
    /// 2.6.35 balance_dirty_pages pause, doubling from 1 jiffy to HZ/10.
    pub bdp_pause_ticks: u64,
    /// The task dirtied pages and is inside balance_dirty_pages (re-check on wake).
    pub in_bdp: bool,
    /// A read of this task is in flight.
    pub io_pending: bool,
    /// Reclaim CPU spent in tick `reclaim_cpu_tick` (see `vmscan::RECLAIM_SCAN_PAGES_PER_TICK`).
    pub reclaim_cpu_tick: u64,
    pub reclaim_cpu_used: u64,
    /// The last tick the task was on a CPU (it ran, even if it went back to sleep): lanes
    /// show a kernel thread that woke, did its work and waited again as running.
    #[serde(default)]
    pub last_ran_tick: Option<Tick>,
    /// The last tick the task ran a direct-reclaim pass in (it may have finished it
    /// within the tick): lanes show that tick as direct reclaim, not as running.
    #[serde(default)]
    pub last_direct_reclaim_tick: Option<Tick>,
}

/// Pools a scenario may declare (scenario.rs validates against it; [`Held`] sizes by it).
pub const POOLS_MAX: usize = 16;

/// Mempool elements a request holds until it completes: `(pool, count)` in the order they
/// were attached (the order `mempool_free` returns them, so the order waiters wake in).
/// Inline rather than a `Vec`: requests are created and completed thousands of times per
/// simulated second, and a heap allocation each was a tenth of a dm-crypt run's cost.
/// Each pool appears once, so [`POOLS_MAX`] entries always suffice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    len: u8,
    pools: [u8; POOLS_MAX],
    counts: [u64; POOLS_MAX],
}

impl Held {
    /// `count` elements of one pool.
    pub fn of(pool: usize, count: u64) -> Held {
        let mut h = Held::default();
        h.add(pool, count);
        h
    }
    /// Adds `count` elements of `pool` (to its entry when it has one).
    pub fn add(&mut self, pool: usize, count: u64) {
        let len = usize::from(self.len);
        match self.pools[..len]
            .iter()
            .position(|&p| usize::from(p) == pool)
        {
            Some(i) => self.counts[i] += count,
            None => {
                assert!(
                    pool < POOLS_MAX && len < POOLS_MAX,
                    "pool {pool} out of range"
                );
                self.pools[len] = pool as u8;
                self.counts[len] = count;
                self.len += 1;
            }
        }
    }
    /// Adds every entry of `more`, in its order.
    pub fn merge(&mut self, more: &Held) {
        for (pool, count) in more.iter() {
            self.add(pool, count);
        }
    }
    /// `(pool, count)` in attach order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        let len = usize::from(self.len);
        self.pools[..len]
            .iter()
            .zip(&self.counts[..len])
            .map(|(&p, &c)| (usize::from(p), c))
    }
    /// Takes `n` of every entry's count (a partly served head request keeps the rest).
    pub fn take_each(&mut self, n: u64) -> Held {
        let mut out = *self;
        let len = usize::from(self.len);
        for i in 0..len {
            out.counts[i] = n;
            self.counts[i] -= n;
        }
        out
    }
}

/// A request in flight at a device, completing at `done_tick`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub pages: u64,
    pub payload: Payload,
    /// When the device starts serving it (requests not yet started can take merges).
    pub start_tick: Tick,
    pub done_tick: Tick,
    /// Mempool elements to give back when it completes.
    pub elements: Held,
    /// Kernel pages (TX skbs) to free when it completes.
    pub held_pages: u64,
    pub zone: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Payload {
    /// Anonymous pages being written to swap.
    SwapOut,
    /// File pages of `device` under writeback.
    File { device: usize },
    /// A read issued by `task`, which sleeps until it completes.
    Read { task: usize },
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Requests in flight (FIFO; `done_tick` non-decreasing).
    pub queue: VecDeque<Request>,
    pub busy_until: Tick,
    pub congested: bool,
    /// Bios waiting for a worker (kcryptd's or nfsd's queue).
    pub work: VecDeque<Request>,
    /// Network: replies that arrived and wait for RX (`done_tick` = arrival).
    pub replies: VecDeque<Request>,
    /// Network: socket-buffer pages held by writes not yet acknowledged.
    pub tx_held_pages: u64,
    /// Last tick this device's worker (kcryptd, nfsd, NET_RX) passed work on towards
    /// completion: whether a wait-for cycle through it is a deadlock or a trickle.
    pub worker_done_tick: Tick,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mempool {
    /// Elements sitting in the reserve.
    pub curr_nr: u64,
    /// Elements handed out (from the reserve or freshly allocated) and not yet freed.
    pub outstanding: u64,
    /// Free objects in this pool's slab cache (Slab pools), split by page->pfmemalloc.
    pub slab_free_objs: u64,
    pub slab_free_objs_pfmemalloc: u64,
    pub slab_pages: u64,
}

/// vmstat-style counters (include/linux/vm_event_item.h names where they exist).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub allocstall: u64,
    pub pgscan_kswapd: u64,
    pub pgscan_direct: u64,
    pub pgsteal_kswapd: u64,
    pub pgsteal_direct: u64,
    pub pgscan_direct_throttle: u64,
    pub pswpout: u64,
    /// Swap-out pages whose writeback completed.
    pub swapout_completed: u64,
    pub pages_written_back: u64,
    pub reclaim_file_writes: u64,
    pub oom_kills: u64,
    /// The longest time from an OOM kill to the reaper unmapping that victim (ms).
    pub oom_reap_delay_ms_max: u64,
    /// Swap in use when the first OOM kill happened (pages).
    pub swap_used_at_first_oom_kill: Option<u64>,
    /// Swap in use when the first stall was found (the tick the window ran out).
    pub swap_used_at_stall: Option<u64>,
    pub packets_dropped: u64,
    pub kswapd_wakeups: u64,
    pub alloc_failures: u64,
    pub events: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OomState {
    /// Victims killed and not yet exited or reaped, with the kill tick and reap attempts.
    pub victims: Vec<(usize, Tick, u32)>,
}

/// Packets of unrelated traffic held on ordinary sockets until their reader frees them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetState {
    pub held: VecDeque<(Tick, u64, usize)>,
    pub rate_milli: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub tick: Tick,
    pub knobs: Knobs,
    pub wmarks: Vec<Watermarks>,
    /// `zone->lowmem_reserve[classzone]` with the highest zone as classzone
    /// (`setup_per_zone_lowmem_reserve`).
    #[serde(default)]
    pub lowmem_reserve: Vec<u64>,
    pub zones: Vec<Zone>,
    pub swap_used: u64,
    pub devices: Vec<Device>,
    pub pools: Vec<Mempool>,
    pub tasks: Vec<Task>,
    pub counters: Counters,
    pub oom: OomState,
    pub net: NetState,
    pub rng_stack: SimRng,
    pub kswapd_awake: bool,
    /// `global_wb_domain.dirty_limit` (3.2+), pages.
    pub dirty_limit_pages: u64,
    /// Pages reclaim asked the flusher to write (`wakeup_flusher_threads`).
    pub flusher_kick_pages: u64,
    /// Last tick a task that must finish made progress (got pages, had its read
    /// complete, exited, or was asleep in userspace): the stall verdict's clock.
    pub workload_progress_tick: Tick,
    pub reserve_pages_used_max: u64,
    pub min_free_pages: u64,
    pub max_stack_bytes: u64,
    pub max_stack_bytes_direct_reclaim: u64,
    pub overflow: Option<(usize, u64)>,
    /// The stack that overflowed, frame by frame (see `Sim::overflow_stack`).
    pub overflow_frames: Option<Vec<super::stack::Frame>>,
    pub trace_hash: u64,
    pub finished: bool,
    pub outcome: Option<super::outcome::Outcome>,
    /// The first stall of the run (the workload made no progress for a stall window
    /// without a deadlock); the run goes on, and ends `stalled` unless worse follows.
    pub stall: Option<super::outcome::Outcome>,
    /// The first tick after that stall at which a task that must finish made progress
    /// again (the freeze ended; the stall stays the verdict).
    #[serde(default)]
    pub stall_resumed_at: Option<Tick>,
    /// The counters at the tick the first stall was found, and that tick: what moved
    /// during the freeze is the difference (the "Why is it stuck?" panel shows it).
    #[serde(default)]
    pub counters_at_stall: Option<(Tick, Counters)>,
    pub verdicts: Vec<super::outcome::Verdict>,
}
