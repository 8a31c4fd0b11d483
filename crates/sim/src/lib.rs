//! The simulation core: a deterministic model of Linux memory allocation, reclaim and
//! writeback under pressure. No IO, no clock, no globals, no hash-order iteration.
//!
//! One call to [`Sim::step`] advances one tick (1 ms, HZ = 1000) in this fixed order:
//!
//! ```text
//!  1. I/O completions   block::complete_io      disks finish requests → end_page_writeback,
//!                                               mempool_free (wakes pool->wait), congestion off
//!                                               (wakes congestion_wait); network replies reach the NIC
//!  2. tasks, in index   task::run               each task whose sleep ended (timeout or wake-up)
//!     order                                     runs: user programs fault/dirty/allocate,
//!                                               kswapd balances, the flusher writes, kcryptd
//!                                               encrypts, nfsd copies, NET_RX receives, the
//!                                               OOM reaper reaps
//!  3. accounting        Sim::account            per-task sleep time, stack depth, reserve use,
//!                                               hung tasks, progress, trace hash, outcome
//! ```
//!
//! Subsystems are modules named after the kernel mechanism they model; each cites its
//! kernel function and version.

pub mod block;
pub mod config;
pub mod event;
pub mod gfp;
pub mod mempool;
pub mod oom_kill;
pub mod outcome;
pub mod page_alloc;
pub mod policy;
pub mod rng;
pub mod sample;
pub mod stack;
pub mod state;
pub mod task;
pub mod time;
pub mod vmscan;
pub mod watermarks;
pub mod writeback;

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use config::{Config, DeviceKind, TaskKind};
use event::{Event, SleepFn};
use gfp::TaskFlags;
use policy::Knobs;
use stack::{Frame, StackTables};
use state::{Counters, Device, Mempool, State, Task, Wait, WaitQueue, Zone};
use time::Tick;
use watermarks::{
    default_min_free_kbytes, setup_per_zone_lowmem_reserve, setup_per_zone_wmarks, ZoneSize,
};

/// The model's version: bump it whenever a change alters any trace (the golden traces in
/// `tests/golden` show it in review) or anything else a shared link's screen shows (13:
/// the stacks of programs and kernel threads waiting, and the depth of every direct-reclaim
/// pass; 14: packet drops count their packets, and the kernel log reports NET_RX's failed
/// skb allocations under warn_alloc_failed's 5 s ratelimit), so a link made with an older
/// model can say plainly that the numbers may differ.
pub const MODEL_VERSION: u32 = 14;

/// What a resumable kernel path did this tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Finished successfully.
    Done,
    /// Gave up (allocation failure).
    Fail,
    /// Put the task to sleep; it resumes at the same place when woken.
    Sleep,
    /// Ran out of its per-tick budget; continues next tick without sleeping.
    Yield,
}

/// Everything a subsystem function may touch during a tick.
pub struct Ctx<'a> {
    pub cfg: &'a Config,
    pub st: &'a mut State,
    pub stacks: &'a StackTables,
    pub events: &'a mut Vec<Event>,
    /// Shortcuts that compute what the general code path would, faster (see
    /// [`Sim::without_fast_paths`]); off only to check that they change nothing.
    pub fast_paths: bool,
}

/// A deterministic hasher that mixes a 64-bit word at a time (FNV's offset basis as the
/// start, a multiply-xorshift step per word). It is not cryptographic: it only has to make
/// two different runs hash differently. Every integer write is widened to 64 bits, so the
/// same run hashes alike on 32-bit wasm and 64-bit native; byte strings go in 8 bytes at a
/// time, then their length. Word-at-a-time matters: the hash covers every event of every
/// tick, and a byte-wise FNV was a tenth of the whole run's cost. Two lanes take the words
/// in turn and are folded together by `finish`: each step waits only for the step two
/// words back, which halves the chain of multiplies a tick's hash is (one lane was 3 % of
/// the time of a run of swap over NBD, BENCHMARKS.md).
pub struct TraceHasher {
    /// The lane the next word goes into…
    next: u64,
    /// …and the other one.
    other: u64,
}

impl TraceHasher {
    pub fn new(seed: u64) -> TraceHasher {
        TraceHasher::resume(0xcbf2_9ce4_8422_2325 ^ seed)
    }

    /// Continues from a hash `finish` returned.
    pub fn resume(hash: u64) -> TraceHasher {
        TraceHasher {
            next: hash,
            other: hash.rotate_left(32),
        }
    }

    fn step(x: u64) -> u64 {
        let h = x.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h ^ (h >> 29)
    }

    #[inline]
    fn mix(&mut self, word: u64) {
        let h = Self::step(self.next ^ word);
        self.next = self.other;
        self.other = h;
    }
}

impl Hasher for TraceHasher {
    fn finish(&self) -> u64 {
        Self::step(self.next ^ Self::step(self.other))
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.mix(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let mut last = [0u8; 8];
        last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        self.mix(u64::from_le_bytes(last));
        self.mix(bytes.len() as u64);
    }
    fn write_u8(&mut self, n: u8) {
        self.mix(u64::from(n));
    }
    fn write_u16(&mut self, n: u16) {
        self.mix(u64::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.mix(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.mix(n);
    }
    fn write_usize(&mut self, n: usize) {
        self.mix(n as u64);
    }
    fn write_i64(&mut self, n: i64) {
        self.mix(n as u64);
    }
    fn write_isize(&mut self, n: isize) {
        self.mix(n as i64 as u64);
    }
}

impl Ctx<'_> {
    pub fn emit(&mut self, event: Event) {
        self.st.counters.events += 1;
        self.events.push(event);
    }

    pub fn kswapd_task(&self) -> Option<usize> {
        self.cfg.roles.kswapd
    }
    pub fn flusher_task(&self) -> Option<usize> {
        self.cfg.roles.flusher
    }
    pub fn reaper_task(&self) -> Option<usize> {
        self.cfg.roles.oom_reaper
    }
    /// The worker that completes I/O queued at `device` (kcryptd, nfsd).
    pub fn worker_of(&self, device: usize) -> Option<usize> {
        self.cfg.worker_of(device)
    }

    /// A HZ/10 sleep on the congestion wait queue (`congestion_wqh`, woken when a device
    /// leaves congestion — `clear_bdi_congested`): congestion_wait, wait_iff_congested,
    /// throttle_vm_writeout and too_many_isolated all nap this way (mm/backing-dev.c).
    pub fn congestion_nap(&mut self, task: usize, function: SleepFn) {
        self.sleep(task, function, time::HZ_DIV_10, WaitQueue::Congestion);
    }

    pub fn sleep(&mut self, task: usize, function: SleepFn, timeout: Tick, queue: WaitQueue) {
        let since = self.st.tick;
        let t = &mut self.st.tasks[task];
        t.wait = Some(Wait {
            function,
            since,
            until: since.saturating_add(timeout.max(1)),
            queue,
        });
        t.woken = false;
        if function != SleepFn::Idle {
            let timeout_ms = if timeout >= u64::MAX / 8 { 0 } else { timeout };
            self.emit(Event::Sleep {
                task,
                function,
                timeout_ms,
            });
        }
    }

    pub fn wake_task(&mut self, task: usize) {
        if self.st.tasks[task].wait.is_some() {
            self.st.tasks[task].woken = true;
        }
    }

    pub fn wake_queue(&mut self, queue: WaitQueue) {
        for t in &mut self.st.tasks {
            if t.wait.as_ref().is_some_and(|w| w.queue == queue) {
                t.woken = true;
            }
        }
    }

    pub fn any_congested(&self) -> bool {
        self.st.devices.iter().any(|d| d.congested)
    }

    pub fn swap_device(&self) -> Option<usize> {
        self.cfg.swap.as_ref().map(|s| s.device)
    }
    pub fn swap_free_slots(&self) -> u64 {
        self.cfg
            .swap
            .as_ref()
            .map_or(0, |s| s.total_pages.saturating_sub(self.st.swap_used))
    }
    pub fn swap_room(&self) -> bool {
        self.swap_free_slots() > 0
    }
    pub fn is_local_fs(&self, device: usize) -> bool {
        matches!(self.cfg.devices[device].kind, DeviceKind::Disk { .. })
    }
    /// `bdi_congested(bdi, BLK_RW_ASYNC)` for `device`'s BDI (a dm device answers with
    /// its lower device's state).
    pub fn bdi_congested(&self, device: usize) -> bool {
        self.st.devices[block::congestion_device(self, device)].congested
    }
    /// `bdi_congested` or [`block::queue_full`], both asked of the device below a dm
    /// device, found once (a direct reclaimer asks this in every reclaim pass).
    pub fn device_congested_for_submit(&self, device: usize) -> bool {
        let d = block::congestion_device(self, device);
        self.st.devices[d].congested || block::queue_full_at(self, d)
    }

    /// The BDI a task writes to (`current->backing_dev_info`, set during a buffered
    /// write): a writer's own device, or nfsd's local filesystem.
    pub fn task_bdi(&self, task: usize) -> Option<usize> {
        match &self.cfg.tasks[task].kind {
            TaskKind::User { program } => match program.get(self.st.tasks[task].op_index) {
                Some(config::Op::WriteFile { device, .. }) => Some(*device),
                _ => None,
            },
            TaskKind::Nfsd { device } => match self.cfg.devices[*device].kind {
                DeviceKind::NfsLoopback { server_fs } => Some(server_fs),
                _ => None,
            },
            _ => None,
        }
    }

    /// Hocko's RFC 2/2 makes throttle_vm_writeout return for PF_LESS_THROTTLE tasks; the
    /// patch exists only with the `hocko-2` variant.
    pub fn less_throttle_skips_vm_writeout(&self) -> bool {
        mempool::rules(self.st.knobs.mempool_variant).less_throttle
    }

    /// `task` got what it asked for (pages, its read, its exit): if it is one of the tasks
    /// that must finish, the workload is not stalled.
    pub fn workload_progress(&mut self, task: usize) {
        if self.cfg.tasks[task].must_finish {
            self.st.workload_progress_tick = self.st.tick;
        }
    }

    pub fn pfmemalloc_pages(&self) -> u64 {
        self.st.zones.iter().map(|z| z.kernel_pfmemalloc).sum()
    }

    /// Frees `n` kernel pages, highest zone first.
    pub fn free_kernel_pages(&mut self, n: u64) {
        let mut left = n;
        for z in self.st.zones.iter_mut().rev() {
            let k = left.min(z.kernel);
            z.kernel -= k;
            z.give_back(k);
            let pf = k.min(z.kernel_pfmemalloc);
            z.kernel_pfmemalloc -= pf;
            left -= k;
        }
        debug_assert_eq!(left, 0, "freed more kernel pages than are held");
    }

    /// Swapped anonymous pages were freed by reclaim: charge them to the tasks with the
    /// most resident anon (largest first, lowest index on ties).
    pub fn uncharge_swapped_clean(&mut self, n: u64) {
        let mut left = n;
        for _ in 0..self.st.tasks.len() {
            if left == 0 {
                break;
            }
            let Some(t) = (0..self.st.tasks.len())
                .filter(|&t| self.st.tasks[t].anon_resident > 0)
                .max_by_key(|&t| (self.st.tasks[t].anon_resident, std::cmp::Reverse(t)))
            else {
                break;
            };
            let k = left.min(self.st.tasks[t].anon_resident);
            self.st.tasks[t].anon_resident -= k;
            self.st.tasks[t].anon_swapped += k;
            left -= k;
        }
    }

    /// Unmaps a task's anonymous memory (exit or OOM reap): resident pages return to the
    /// zones, swap slots are released. Returns resident pages freed.
    pub fn free_task_anon(&mut self, task: usize) -> u64 {
        let resident = std::mem::take(&mut self.st.tasks[task].anon_resident);
        let swapped = std::mem::take(&mut self.st.tasks[task].anon_swapped);
        let mut left = resident;
        for z in self.st.zones.iter_mut().rev() {
            let mut zone_freed = 0;
            for list in [
                &mut z.anon_inactive,
                &mut z.anon_active,
                &mut z.anon_swapped_clean,
            ] {
                let k = left.min(*list);
                *list -= k;
                zone_freed += k;
                left -= k;
            }
            z.give_back(zone_freed);
        }
        // Pages under writeback are freed when their I/O completes; account them as clean then.
        let freed = resident - left;
        self.st.swap_used -= (swapped + left).min(self.st.swap_used);
        freed
    }

    /// Depth of `task`'s stack right now, from the segments its state implies.
    pub fn depth_now(&self, task: usize) -> u64 {
        depth_of(self.cfg, self.stacks, task, StackShape::of(self.st, task))
    }

    /// Records the stack at the start of a direct-reclaim pass (try_to_free_pages →
    /// shrink_zone). Stacks are otherwise measured when a task's run ends, and a pass that
    /// reclaims its batch within the tick has ended by then.
    pub fn record_reclaim_entry_depth(&mut self, task: usize) {
        let depth = cached_depth(self.cfg, self.stacks, self.st, task);
        self.record_depth(task, depth, true);
    }

    pub fn record_depth(&mut self, task: usize, depth: u64, direct_reclaim: bool) {
        let t = &mut self.st.tasks[task];
        t.depth_bytes_max = t.depth_bytes_max.max(depth);
        self.st.max_stack_bytes = self.st.max_stack_bytes.max(depth);
        if direct_reclaim {
            self.st.max_stack_bytes_direct_reclaim =
                self.st.max_stack_bytes_direct_reclaim.max(depth);
        }
        let thread_size = u64::from(self.st.knobs.thread_size);
        if depth > thread_size && self.st.overflow.is_none() {
            self.st.overflow = Some((task, depth));
            self.emit(Event::StackOverflow {
                task,
                depth_bytes: depth,
                thread_size,
            });
        }
    }

    /// `pageout` → `->writepage` from reclaim: `writes` calls of xfs_vm_writepage on top of
    /// the current stack, each with the seeded extra depth of kernel-mm.md §14.8.
    pub fn writepage_stack_check(&mut self, task: usize, direct_reclaim: bool, writes: u64) {
        let base = self.depth_now(task)
            + self.stacks.shrink_page_list.bytes
            + self.stacks.xfs_writepage.bytes;
        let extra = &self.cfg.extra_depth;
        // The deepest of this batch's calls: (depth, interrupt taken, extra btree levels).
        let mut deepest = (base, false, 0);
        for _ in 0..writes.min(vmscan::SWAP_CLUSTER_MAX) {
            let interrupt = extra.interrupt_permille > 0
                && self.st.rng_stack.below(1000) < extra.interrupt_permille;
            let levels = if extra.btree_levels_max > 0 {
                self.st.rng_stack.below(extra.btree_levels_max + 1)
            } else {
                0
            };
            let d = base
                + if interrupt { extra.interrupt_bytes } else { 0 }
                + levels * extra.btree_level_bytes;
            if d > deepest.0 {
                deepest = (d, interrupt, levels);
            }
        }
        let (depth, interrupt, levels) = deepest;
        if depth > u64::from(self.st.knobs.thread_size) && self.st.overflow_frames.is_none() {
            let mut frames = frames_of(self.cfg, self.st, self.stacks, task);
            frames.extend(self.stacks.shrink_page_list.frames.iter().cloned());
            frames.extend(self.stacks.xfs_writepage.frames.iter().cloned());
            for _ in 0..levels {
                frames.push(Frame {
                    function: "xfs_btree_split (extra level, seeded)".to_string(),
                    bytes: extra.btree_level_bytes,
                    estimated: true,
                });
            }
            if interrupt {
                frames.push(Frame {
                    function: "hardware interrupt on this stack (seeded)".to_string(),
                    bytes: extra.interrupt_bytes,
                    estimated: true,
                });
            }
            self.st.overflow_frames = Some(frames);
        }
        self.record_depth(task, depth, direct_reclaim);
    }
}

/// The bytes of stack a task of `shape` uses.
fn depth_of(cfg: &Config, stacks: &StackTables, task: usize, shape: StackShape) -> u64 {
    call_stack_segments(cfg, stacks, task, shape)
        .iter()
        .map(|s| s.bytes)
        .sum()
}

/// A task's current call stack as frames, outermost first.
fn frames_of(cfg: &Config, st: &State, stacks: &StackTables, task: usize) -> Vec<Frame> {
    call_stack_segments(cfg, stacks, task, StackShape::of(st, task))
        .iter()
        .flat_map(|seg| seg.frames.iter().cloned())
        .collect()
}

/// Everything in a task's state its call stack depends on (with its kind and stack base,
/// which never change): `call_stack_segments` reads only this, so one shape always has
/// the same depth (each task caches the depths of its last few shapes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StackShape {
    exited: bool,
    /// The sleep, if not an idle kernel thread's wait for work.
    sleeping: Option<SleepFn>,
    idle: bool,
    in_alloc: bool,
    in_reclaim: bool,
    in_swap_submit: bool,
    in_mempool: bool,
    /// 4.7's frames where they differ from the 2.6.33 traces (alloc_slowpath stands for
    /// the kernel generation).
    v4_7: bool,
    /// The 3.6 PFMEMALLOC machinery (`pfmemalloc_reserves`): NET_RX's skb allocation goes
    /// through kmalloc_reserve.
    rx_reserves: bool,
}

impl StackShape {
    pub fn of(st: &State, task: usize) -> StackShape {
        let t = &st.tasks[task];
        let function = t.wait.as_ref().map(|w| w.function);
        StackShape {
            exited: t.exited,
            sleeping: function.filter(|&f| f != SleepFn::Idle),
            idle: function == Some(SleepFn::Idle),
            in_alloc: t.alloc.is_some(),
            in_reclaim: t.reclaim.is_some(),
            in_swap_submit: t
                .reclaim
                .as_ref()
                .is_some_and(|rc| rc.pending_swap_submit > 0),
            in_mempool: t.mempool.is_some(),
            v4_7: st.knobs.alloc_slowpath == policy::AllocSlowpath::V4_7,
            rx_reserves: st.knobs.pfmemalloc_reserves,
        }
    }

    /// The shape as one number, never 0 (a [`state::DepthCache`] compares these).
    pub fn key(self) -> u16 {
        Self::pack(
            self.exited,
            self.sleeping.map_or(0, |f| f.index() as u16 + 1),
            self.idle,
            [
                self.in_alloc,
                self.in_reclaim,
                self.in_swap_submit,
                self.in_mempool,
                self.v4_7,
                self.rx_reserves,
            ],
        )
    }

    /// `StackShape::of(st, task).key()` read straight from the task, without building the
    /// shape: a task's depth is looked up by it after every run (most find it cached).
    pub fn key_of(st: &State, task: usize) -> u16 {
        let t = &st.tasks[task];
        let (sleeping, idle) = match &t.wait {
            None => (0, false),
            Some(w) if w.function == SleepFn::Idle => (0, true),
            Some(w) => (w.function.index() as u16 + 1, false),
        };
        Self::pack(
            t.exited,
            sleeping,
            idle,
            [
                t.alloc.is_some(),
                t.reclaim.is_some(),
                t.reclaim
                    .as_ref()
                    .is_some_and(|rc| rc.pending_swap_submit > 0),
                t.mempool.is_some(),
                st.knobs.alloc_slowpath == policy::AllocSlowpath::V4_7,
                st.knobs.pfmemalloc_reserves,
            ],
        )
    }

    /// The one layout of a key: bit 15 set (so no key is 0), exited, idle, then
    /// in_alloc, in_reclaim, in_swap_submit, in_mempool, v4_7 and rx_reserves, the sleep
    /// (its `SleepFn::index` + 1, 0 for none) from bit 8.
    fn pack(exited: bool, sleeping: u16, idle: bool, flags: [bool; 6]) -> u16 {
        let [in_alloc, in_reclaim, in_swap_submit, in_mempool, v4_7, rx_reserves] = flags;
        1 << 15
            | u16::from(exited)
            | u16::from(idle) << 1
            | u16::from(in_alloc) << 2
            | u16::from(in_reclaim) << 3
            | u16::from(in_swap_submit) << 4
            | u16::from(in_mempool) << 5
            | u16::from(v4_7) << 6
            | u16::from(rx_reserves) << 7
            | sleeping << 8
    }
}

/// The segments making up a task's stack, outermost first. Where the task is decides the
/// nesting: dm core's `mempool_alloc` for a swap write sits inside reclaim
/// (shrink_page_list → swap_writepage → … → __split_and_process_bio), while kcryptd's
/// reclaim sits inside its `mempool_alloc`; a task asleep on `pool->wait` is in
/// mempool_alloc itself, not in the slab allocation it tried before.
fn call_stack_segments<'t>(
    cfg: &Config,
    stacks: &'t StackTables,
    task: usize,
    shape: StackShape,
) -> Segments<'t> {
    let mut segs = Segments {
        list: [&stacks.kthread; SEGMENTS_MAX],
        len: 0,
    };
    if shape.exited {
        // do_exit freed the task's stack: nothing left to show or to count.
        return segs;
    }
    if shape.idle {
        // Waiting for work: a stack of its own, not the work's.
        let idle = match cfg.tasks[task].kind {
            TaskKind::User { .. } => Some(&stacks.user_sleep),
            TaskKind::Kswapd => Some(&stacks.kswapd_idle),
            TaskKind::Flusher => Some(&stacks.flusher_idle),
            TaskKind::Kcryptd { .. } => Some(&stacks.kcryptd_idle),
            TaskKind::Nfsd { .. } => Some(&stacks.nfsd_idle),
            TaskKind::OomReaper => Some(&stacks.oom_reaper_idle),
            // NET_RX is a softirq, not a thread: between ticks it has no stack of its own.
            TaskKind::NetRx => None,
        };
        if let Some(seg) = idle {
            segs.push(seg);
            return segs;
        }
    }
    segs.push(match cfg.tasks[task].kind {
        TaskKind::Kswapd => &stacks.kswapd,
        TaskKind::Flusher => &stacks.flusher,
        TaskKind::Kcryptd { .. } => &stacks.kcryptd,
        TaskKind::Nfsd { .. } => &stacks.nfsd,
        TaskKind::NetRx if shape.rx_reserves => &stacks.softirq,
        TaskKind::NetRx => &stacks.softirq_pre_reserves,
        TaskKind::OomReaper => &stacks.kthread,
        TaskKind::User { .. } => stacks.base(cfg.tasks[task].stack_base),
    });
    let sleeping = shape.sleeping;
    let kswapd = matches!(cfg.tasks[task].kind, TaskKind::Kswapd);
    if matches!(cfg.tasks[task].kind, TaskKind::Kcryptd { .. }) && !shape.idle {
        segs.push(&stacks.kcryptd_work);
        if shape.in_mempool {
            segs.push(&stacks.kcryptd_bio_alloc);
        }
    }
    let mempool = if sleeping == Some(SleepFn::MempoolAlloc) {
        &stacks.mempool_wait
    } else if shape.v4_7 {
        &stacks.mempool_slub_4_7
    } else {
        &stacks.mempool
    };
    let reclaim_segments = |segs: &mut Segments<'t>| {
        if kswapd {
            if shape.in_reclaim {
                segs.push(&stacks.kswapd_shrink);
            }
            return;
        }
        if shape.in_alloc {
            segs.push(&stacks.alloc);
        }
        // throttle_direct_reclaim runs at the top of try_to_free_pages, before any
        // shrink_zone; its frames come with the sleep.
        if shape.in_reclaim && sleeping != Some(SleepFn::PfmemallocWait) {
            segs.push(if shape.v4_7 {
                &stacks.direct_reclaim_memcg
            } else {
                &stacks.direct_reclaim
            });
        }
    };
    if shape.in_mempool && shape.in_swap_submit {
        // pageout → swap_writepage → submit_bio → dm_request → mempool_alloc.
        reclaim_segments(&mut segs);
        segs.push(&stacks.shrink_page_list);
        segs.push(&stacks.swap_writepage);
        segs.push(mempool);
    } else if shape.in_mempool {
        segs.push(mempool);
        if sleeping != Some(SleepFn::MempoolAlloc) {
            reclaim_segments(&mut segs);
        }
    } else {
        reclaim_segments(&mut segs);
    }
    if let Some(f) = sleeping {
        segs.push(stacks.sleeping_in(f));
    }
    segs
}

/// The most segments a stack is made of: a direct reclaimer asleep in dm core's
/// mempool_alloc has base, alloc, reclaim, shrink_page_list, swap_writepage, mempool, sleep.
const SEGMENTS_MAX: usize = 8;

struct Segments<'t> {
    list: [&'t stack::Segment; SEGMENTS_MAX],
    len: usize,
}

impl<'t> Segments<'t> {
    fn push(&mut self, seg: &'t stack::Segment) {
        self.list[self.len] = seg;
        self.len += 1;
    }
    fn iter(&self) -> impl Iterator<Item = &'t stack::Segment> + '_ {
        self.list[..self.len].iter().copied()
    }
}

/// The run: immutable config, mutable state, and the stack tables. The config and the
/// tables never change after `Sim::new`, so copies of a run (the UI keeps a recording's
/// base, its head and a cursor per pane) share them: cloning a `Sim` copies the state only.
#[derive(Clone)]
pub struct Sim {
    cfg: Arc<Config>,
    st: State,
    stacks: Arc<StackTables>,
    events: Vec<Event>,
    /// `KnobChanged` events of [`Sim::set_knobs`] calls since the last step: they open the
    /// next step's events (the change takes effect from that tick).
    knob_events: Vec<Event>,
    fast_paths: bool,
}

/// A saved state: restoring it and stepping gives the same trace as never stopping.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    pub state: State,
}

impl Sim {
    pub fn new(cfg: Config, knobs: Knobs) -> Sim {
        let stacks = StackTables::build();
        let n_dev = cfg.devices.len();
        let zones = cfg
            .zones
            .iter()
            .map(|z| Zone {
                free: z.managed_pages - z.file_clean_pages,
                file_inactive: z.file_clean_pages,
                file_dirty: vec![0; n_dev],
                file_writeback: vec![0; n_dev],
                ..Zone::default()
            })
            .collect();
        let tasks = cfg
            .tasks
            .iter()
            .map(|tc| {
                let kthread = !matches!(tc.kind, TaskKind::User { .. });
                let kswapd = matches!(tc.kind, TaskKind::Kswapd);
                Task {
                    flags: TaskFlags {
                        memalloc: kswapd,
                        kswapd,
                        kthread,
                        softirq: matches!(tc.kind, TaskKind::NetRx),
                        realtime: tc.realtime,
                        ..TaskFlags::default()
                    },
                    op_index: 0,
                    op_done: 0,
                    rate_milli: 0,
                    sleep_op_until: None,
                    anon_resident: 0,
                    anon_swapped: 0,
                    // A kernel thread starts asleep waiting for work, due at tick 0: it
                    // runs in the first tick as before, but the screen at 0 s shows it
                    // idle, with its idle stack, not inside work it has not begun.
                    wait: (kthread && !matches!(tc.kind, TaskKind::NetRx)).then_some(Wait {
                        function: SleepFn::Idle,
                        since: 0,
                        until: 0,
                        queue: WaitQueue::Timer,
                    }),
                    woken: false,
                    alloc: None,
                    reclaim: None,
                    mempool: None,
                    worker: Default::default(),
                    exited: false,
                    killed: false,
                    hung_reported: false,
                    depth_bytes: 0,
                    depth_bytes_max: 0,
                    depth_cache: Default::default(),
                    sleep_ms_by_fn: [0; 9],
                    finished_at: None,
                    bdp_pause_ticks: 0,
                    in_bdp: false,
                    io_pending: false,
                    reclaim_cpu_tick: 0,
                    reclaim_cpu_used: 0,
                    last_ran_tick: None,
                    last_direct_reclaim_tick: None,
                }
            })
            .collect();
        let st = State {
            tick: 0,
            wmarks: Vec::new(),
            lowmem_reserve: Vec::new(),
            knobs: knobs.clone(),
            zones,
            swap_used: 0,
            devices: vec![Device::default(); n_dev],
            pools: vec![Mempool::default(); cfg.pools.len()],
            tasks,
            counters: Counters::default(),
            oom: Default::default(),
            net: Default::default(),
            rng_stack: rng::SimRng::stream(cfg.seed, "stack-extra-depth"),
            kswapd_awake: false,
            flusher_kick_pages: 0,
            dirty_limit_pages: 0,
            workload_progress_tick: 0,
            reserve_pages_used_max: 0,
            min_free_pages: u64::MAX,
            max_stack_bytes: 0,
            max_stack_bytes_direct_reclaim: 0,
            overflow: None,
            overflow_frames: None,
            trace_hash: TraceHasher::new(cfg.seed).finish(),
            finished: false,
            outcome: None,
            stall: None,
            stall_resumed_at: None,
            counters_at_stall: None,
            verdicts: Vec::new(),
        };
        let mut sim = Sim {
            cfg: Arc::new(cfg),
            st,
            stacks: Arc::new(stacks),
            events: Vec::new(),
            knob_events: Vec::new(),
            fast_paths: true,
        };
        sim.apply_watermarks();
        // Every task has a stack before it first runs (a writer sits in its write syscall
        // at tick 0): without this the stack view at 0 s would list frames and a depth of
        // 0 bytes. Not recorded as a maximum of the run (record_depth): nothing has run.
        for task in 0..sim.cfg.tasks.len() {
            let depth = refresh_depth(&sim.cfg, &sim.stacks, &mut sim.st, task);
            sim.st.tasks[task].depth_bytes_max = depth;
        }
        let mut events = Vec::new();
        let mut ctx = Ctx {
            cfg: &sim.cfg,
            st: &mut sim.st,
            stacks: &sim.stacks,
            events: &mut events,
            fast_paths: true,
        };
        for pool in 0..ctx.cfg.pools.len() {
            mempool::prefill(&mut ctx, pool);
        }
        writeback::update_dirty_limit(&sim.cfg, &mut sim.st);
        sim
    }

    fn zone_sizes(&self) -> Vec<ZoneSize> {
        self.cfg
            .zones
            .iter()
            .map(|z| ZoneSize {
                managed_pages: z.managed_pages,
                highmem: z.highmem,
            })
            .collect()
    }

    /// Every zone's `lowmem_reserve[]` against every classzone (the kernel log's
    /// `lowmem_reserve[]:` lines).
    pub fn lowmem_reserve_table(&self) -> Vec<Vec<u64>> {
        watermarks::lowmem_reserve_table(&self.zone_sizes())
    }

    /// Recomputes min/low/high from the knobs (`setup_per_zone_wmarks` after a sysctl write)
    /// and the zones' `lowmem_reserve`.
    fn apply_watermarks(&mut self) {
        let sizes = self.zone_sizes();
        let knobs = &self.st.knobs;
        let mfk = knobs
            .min_free_kbytes
            .unwrap_or_else(|| default_min_free_kbytes(self.cfg.lowmem_pages()));
        self.st.lowmem_reserve = setup_per_zone_lowmem_reserve(&sizes);
        self.st.wmarks = setup_per_zone_wmarks(
            &sizes,
            mfk,
            knobs.watermark_formula,
            knobs.watermark_scale_factor,
        );
    }

    /// The same simulation without its fast paths (`vmscan`'s pass for direct reclaimers
    /// that keep every page they scan): slower, and by construction the same trace — the
    /// determinism tests hold every built-in scenario × preset to that.
    pub fn without_fast_paths(mut self) -> Sim {
        self.fast_paths = false;
        self
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }
    pub fn state(&self) -> &State {
        &self.st
    }
    pub fn knobs(&self) -> &Knobs {
        &self.st.knobs
    }
    pub fn tick(&self) -> Tick {
        self.st.tick
    }
    pub fn stacks(&self) -> &StackTables {
        &self.stacks
    }
    pub fn is_finished(&self) -> bool {
        self.st.finished
    }
    /// Events of the last step.
    pub fn events(&self) -> &[Event] {
        &self.events
    }
    /// Takes the events of the last step out (they are gone from [`Sim::events`]): for a
    /// caller that keeps them, a move instead of a clone.
    pub fn drain_events(&mut self) -> std::vec::Drain<'_, Event> {
        self.events.drain(..)
    }

    /// Changes knobs between two ticks (the UI's live toggle). The change is an event, so
    /// it enters the trace hash.
    pub fn set_knobs(&mut self, knobs: Knobs) {
        let changed = knobs.diff(&self.st.knobs);
        self.st.knobs = knobs;
        self.apply_watermarks();
        for (knob, value) in changed {
            self.knob_events.push(Event::KnobChanged { knob, value });
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            state: self.st.clone(),
        }
    }

    pub fn restore(&mut self, snapshot: &Snapshot) {
        self.st = snapshot.state.clone();
        self.events.clear();
        self.knob_events.clear();
    }

    /// `show_mem` now: what `warn_alloc_failed` prints after a failed allocation (the OOM
    /// report carries its own, taken at the kill).
    pub fn mem_info(&self) -> event::MemInfo {
        oom_kill::mem_info(&self.cfg, &self.st)
    }

    /// The task's current call stack, outermost frame first, including the sleeping
    /// function's frames (`throttle_vm_writeout` → `congestion_wait` → …).
    pub fn call_stack(&self, task: usize) -> Vec<Frame> {
        frames_of(&self.cfg, &self.st, &self.stacks, task)
    }

    /// The wait-for chain as it stands now (kernel-mm.md §14.9), whatever the outcome, and
    /// the link where it closes; empty when no chain closes. The verdict uses it once the
    /// stall window has passed without progress; the UI shows it whenever a task that must
    /// finish has been blocked that long, progress or not (a machine all but frozen).
    pub fn wait_for_chain_now(&self) -> (Vec<String>, usize) {
        outcome::wait_for_chain(&self.cfg, &self.st)
    }

    /// The task that must finish and has been asleep longest, with the tick it fell asleep.
    pub fn longest_blocked(&self) -> Option<(usize, Tick)> {
        (0..self.cfg.tasks.len())
            .filter(|&t| self.cfg.tasks[t].must_finish && !self.st.tasks[t].exited)
            .filter_map(|t| {
                let w = self.st.tasks[t].wait.as_ref()?;
                (w.function != SleepFn::Idle).then_some((t, w.since))
            })
            .min_by_key(|&(t, since)| (since, t))
    }

    /// The call stack at the moment a stack overflowed (outermost first, deepest frames
    /// last): the reclaim path, `->writepage` and the seeded extra depth that went past
    /// `thread_size`.
    pub fn overflow_stack(&self) -> Option<&[Frame]> {
        self.st.overflow_frames.as_deref()
    }

    /// Advances exactly one tick. Returns the events of this tick.
    pub fn step(&mut self) -> &[Event] {
        self.events.clear();
        if self.st.finished {
            self.knob_events.clear();
            return &self.events;
        }
        let mut events = std::mem::take(&mut self.events);
        events.append(&mut self.knob_events);
        {
            let mut ctx = Ctx {
                cfg: &self.cfg,
                st: &mut self.st,
                stacks: &self.stacks,
                events: &mut events,
                fast_paths: self.fast_paths,
            };
            block::complete_io(&mut ctx);
            for task in 0..ctx.cfg.tasks.len() {
                run_if_ready(&mut ctx, task);
                if ctx.st.overflow.is_some() {
                    break;
                }
            }
            writeback::update_dirty_limit(ctx.cfg, ctx.st);
            account(&mut ctx);
            outcome::check(&mut ctx);
        }
        self.events = events;
        let mut h = TraceHasher::resume(self.st.trace_hash);
        self.st.tick.hash(&mut h);
        for z in &self.st.zones {
            (z.free, z.anon_writeback, z.file_dirty_total()).hash(&mut h);
        }
        self.st.swap_used.hash(&mut h);
        self.events.hash(&mut h);
        self.st.trace_hash = h.finish();
        self.st.tick += 1;
        &self.events
    }

    /// The invariants that hold after every tick (TigerBeetle-style paired checks: the
    /// allocator asserts its side, this re-verifies the whole state).
    pub fn check_invariants(&self) -> Result<(), String> {
        for (i, (z, zc)) in self.st.zones.iter().zip(&self.cfg.zones).enumerate() {
            let total = z.free + z.anon() + z.file() + z.kernel;
            if total != zc.managed_pages {
                return Err(format!(
                    "tick {}: zone {i}: free+anon+file+kernel = {total} != managed {}",
                    self.st.tick, zc.managed_pages
                ));
            }
            let w = self.st.wmarks[i];
            if !(w.min() <= w.low() && w.low() <= w.high() && w.high() <= zc.managed_pages) {
                return Err(format!(
                    "tick {}: zone {i}: watermarks out of order",
                    self.st.tick
                ));
            }
            if z.anon_isolated > z.anon_writeback {
                return Err(format!(
                    "tick {}: zone {i}: more isolated pages than pages under writeback",
                    self.st.tick
                ));
            }
            let held: u64 = self
                .st
                .tasks
                .iter()
                .filter_map(|t| t.reclaim.as_ref())
                .filter(|r| r.pending_zone == i)
                .map(|r| r.pending_swap_submit)
                .sum();
            if held != z.anon_isolated {
                return Err(format!(
                    "tick {}: zone {i}: NR_ISOLATED_ANON {} != pages held by reclaimers {held}",
                    self.st.tick, z.anon_isolated
                ));
            }
            if z.file_dirty_sum != z.file_dirty.iter().sum::<u64>()
                || z.file_writeback_sum != z.file_writeback.iter().sum::<u64>()
            {
                return Err(format!(
                    "tick {}: zone {i}: file dirty/writeback totals out of step with the per-device counts",
                    self.st.tick
                ));
            }
            if z.kernel_pfmemalloc > z.kernel {
                return Err(format!(
                    "tick {}: zone {i}: more pfmemalloc pages than kernel pages",
                    self.st.tick
                ));
            }
        }
        for (i, (p, pc)) in self.st.pools.iter().zip(&self.cfg.pools).enumerate() {
            if p.curr_nr > pc.min_nr {
                return Err(format!(
                    "tick {}: pool {i}: curr_nr {} > min_nr {}",
                    self.st.tick, p.curr_nr, pc.min_nr
                ));
            }
        }
        if let Some(swap) = &self.cfg.swap {
            if self.st.swap_used > swap.total_pages {
                return Err(format!(
                    "tick {}: swap used {} > total {}",
                    self.st.tick, self.st.swap_used, swap.total_pages
                ));
            }
        }
        Ok(())
    }

    /// Runs to the end (or `max_ticks`), returning the number of events seen.
    pub fn run(&mut self, max_ticks: Tick) -> u64 {
        let mut events = 0;
        while !self.st.finished && self.st.tick < max_ticks {
            events += self.step().len() as u64;
        }
        events
    }
}

/// Brings `task`'s `depth_bytes` up to date with its stack shape (summed again only for a
/// shape not in the task's [`state::DepthCache`]) and returns it.
#[inline(always)]
fn refresh_depth(cfg: &Config, stacks: &StackTables, st: &mut State, task: usize) -> u64 {
    let depth = cached_depth(cfg, stacks, st, task);
    st.tasks[task].depth_bytes = depth;
    depth
}

/// `task`'s stack depth now, from its [`state::DepthCache`] when its shape is there (the
/// shape itself is built only on a miss). Inlined into a run's end, which
/// looks a depth up 330 000 times in a run of swap over NBD: 1.3 % off the PGO build's
/// time. Splitting the miss out as a cold function cut instructions by 3 % and made the
/// PGO build 4 % slower (BENCHMARKS.md).
#[inline(always)]
fn cached_depth(cfg: &Config, stacks: &StackTables, st: &mut State, task: usize) -> u64 {
    let key = StackShape::key_of(st, task);
    debug_assert_eq!(key, StackShape::of(st, task).key());
    if let Some(depth) = st.tasks[task].depth_cache.get(key) {
        return depth;
    }
    let depth = depth_of(cfg, stacks, task, StackShape::of(st, task));
    st.tasks[task].depth_cache.insert(key, depth);
    depth
}

fn run_if_ready(ctx: &mut Ctx, task: usize) {
    let now = ctx.st.tick;
    let t = &mut ctx.st.tasks[task];
    if t.exited {
        return;
    }
    if let Some(w) = &t.wait {
        if !(t.woken || now >= w.until) {
            return;
        }
        t.wait = None;
        t.woken = false;
    }
    ctx.st.tasks[task].last_ran_tick = Some(now);
    task::run(ctx, task);
    // The stack only changes while a task runs: measure it here, not for every sleeper,
    // and only when its shape changed (most runs of a busy task keep the same stack).
    let depth = refresh_depth(ctx.cfg, ctx.stacks, ctx.st, task);
    let in_reclaim = ctx.st.tasks[task].reclaim.is_some() && !ctx.st.tasks[task].flags.kswapd;
    ctx.record_depth(task, depth, in_reclaim);
}

/// Phase 3: per-task sleep time and stack depth, reserve use, hung tasks.
fn account(ctx: &mut Ctx) {
    let now = ctx.st.tick;
    let hung_timeout = ctx.cfg.hung_task_timeout_ticks;
    // One pass over the tasks (it runs every tick), beside their configs: the state's
    // fields borrowed apart, so neither list is indexed (and bounds-checked) per task.
    let st = &mut *ctx.st;
    for (task, (t, tc)) in st.tasks.iter_mut().zip(&ctx.cfg.tasks).enumerate() {
        if t.exited {
            continue;
        }
        let Some(w) = &t.wait else {
            continue;
        };
        let (function, since, until) = (w.function, w.since, w.until);
        t.sleep_ms_by_fn[function.index()] += 1;
        // A task that must finish sleeping in userspace (an `Op::Sleep`) is not held up.
        if function == SleepFn::Idle && tc.must_finish {
            st.workload_progress_tick = now;
        }
        if function.hung_task_checked()
            && !t.hung_reported
            && now - since >= hung_timeout
            && until - since > hung_timeout
        {
            t.hung_reported = true;
            // `Ctx::emit`, with the tasks borrowed.
            st.counters.events += 1;
            ctx.events.push(Event::HungTask {
                task,
                function,
                blocked_ms: now - since,
            });
        }
    }
    for (z, zone) in ctx.st.zones.iter().enumerate() {
        let min = ctx.st.wmarks[z].min();
        ctx.st.reserve_pages_used_max = ctx
            .st
            .reserve_pages_used_max
            .max(min.saturating_sub(zone.free));
        ctx.st.min_free_pages = ctx.st.min_free_pages.min(zone.free);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every stack shape has a key of its own: the depth cache would otherwise hand one
    /// shape's depth to another.
    #[test]
    fn stack_shape_keys_are_distinct_and_never_empty() {
        let sleeps = std::iter::once(None).chain(SleepFn::ALL.iter().copied().map(Some));
        let mut keys = Vec::new();
        for sleeping in sleeps {
            for bits in 0u16..1 << 8 {
                let bit = |i: u16| bits >> i & 1 == 1;
                let shape = StackShape {
                    exited: bit(0),
                    sleeping,
                    idle: bit(1),
                    in_alloc: bit(2),
                    in_reclaim: bit(3),
                    in_swap_submit: bit(4),
                    in_mempool: bit(5),
                    v4_7: bit(6),
                    rx_reserves: bit(7),
                };
                keys.push(shape.key());
            }
        }
        let shapes = keys.len();
        assert_eq!(shapes, 10 * 256);
        assert!(
            keys.iter().all(|&k| k != 0),
            "key 0 marks an empty cache entry"
        );
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), shapes, "two shapes share a key");
    }
}
