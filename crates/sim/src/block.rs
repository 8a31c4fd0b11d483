//! Backing devices and their I/O paths: a request-queue disk with congestion marks
//! (block/blk-core.c), dm-crypt with its two allocation sites (drivers/md/dm.c,
//! drivers/md/dm-crypt.c; kernel-mm.md §9, §14.5), swap over the network whose completions
//! need RX allocations (kernel-mm.md §7.5, §11.2), and the loopback NFS mount served by
//! nfsd (§11.4). Completing a write ends page writeback and gives mempool elements back.

use super::config::{Config, DeviceKind};
use super::event::{Event, SleepFn, RX_ALLOC_FAILED};
use super::gfp::Gfp;
use super::mempool;
use super::page_alloc::{self, PageUse};
use super::policy::Knobs;
use super::state::{Device, Held, Payload, ReclaimCtx, Request, State, WaitQueue};
use super::time::Tick;
use super::{vmscan, Ctx, Step};

/// `blk_queue_congestion_threshold` (4.7): congested at `nr - nr/8 + 1` requests in flight,
/// uncongested below `nr - nr/8 - nr/16 - 1` (113 and 103 for 128).
pub fn congestion_on(nr_requests: u64) -> u64 {
    nr_requests - nr_requests / 8 + 1
}
pub fn congestion_off(nr_requests: u64) -> u64 {
    nr_requests - nr_requests / 8 - nr_requests / 16 - 1
}

/// `nfs_congestion_kb` (fs/nfs/write.c `nfs_init_writepagecache`, 2.6.x … 4.x):
/// `(16 * int_sqrt(totalram_pages)) << (PAGE_SHIFT - 10)` KiB, at most 256 MiB, as pages
/// (`NFS_CONGESTION_ON_THRESH`): 8192 pages for 1 GiB. The NFS client's BDI is congested
/// once more pages than this are under writeback to the server.
pub fn nfs_congestion_on_pages(totalram_pages: u64) -> u64 {
    const KIB_MAX: u64 = 256 * 1024;
    let kib = (16 * totalram_pages.isqrt()) << (PAGE_SHIFT - 10);
    kib.min(KIB_MAX) >> (PAGE_SHIFT - 10)
}

/// `NFS_CONGESTION_OFF_THRESH`: a quarter below the on mark.
pub fn nfs_congestion_off_pages(totalram_pages: u64) -> u64 {
    let on = nfs_congestion_on_pages(totalram_pages);
    on - (on >> 2)
}

const PAGE_SHIFT: u64 = 12;

/// Queues `pages` at a request-queue device (disk), in requests of at most
/// `request_pages`: FIFO service at the device's bandwidth, completion after its latency.
/// A bio that fits into the tail request, not yet started, is merged into it (the
/// elevator's back merge — swap slots and writeback runs are contiguous).
fn enqueue_disk(
    ctx: &mut Ctx,
    device: usize,
    pages: u64,
    payload: Payload,
    mut elements: Held,
    zone: usize,
) {
    let DeviceKind::Disk {
        bandwidth_pages_per_s,
        latency_ms,
    } = ctx.cfg.devices[device].kind
    else {
        unreachable!("enqueue_disk on a non-disk device");
    };
    let request_pages = ctx.cfg.devices[device].request_pages;
    let service = |n: u64| (n * 1000).div_ceil(bandwidth_pages_per_s.max(1));
    let now = ctx.st.tick;
    let mut left = pages;
    let dev = &mut ctx.st.devices[device];
    if let Some(tail) = dev.queue.back_mut() {
        let not_started = tail.start_tick > now;
        if not_started && tail.payload == payload && tail.zone == zone && tail.pages < request_pages
        {
            let n = left.min(request_pages - tail.pages);
            let before = service(tail.pages);
            tail.pages += n;
            let extra = service(tail.pages) - before;
            tail.done_tick += extra;
            dev.busy_until += extra;
            left -= n;
            if left == 0 {
                tail.elements.merge(&std::mem::take(&mut elements));
            }
        }
    }
    while left > 0 {
        let n = left.min(request_pages);
        left -= n;
        let dev = &mut ctx.st.devices[device];
        let start = dev.busy_until.max(now + 1);
        dev.busy_until = start + service(n);
        // Elements are attached to the last chunk: they are freed when the whole bio is done.
        let els = if left == 0 {
            std::mem::take(&mut elements)
        } else {
            Held::default()
        };
        dev.queue.push_back(Request {
            pages: n,
            payload,
            start_tick: start,
            done_tick: start + service(n) + latency_ms,
            elements: els,
            held_pages: 0,
            zone,
        });
    }
    update_congestion(ctx, device);
}

/// Requests in flight at `device`: for a request queue, the requests allocated (they
/// count for its congestion); a dm device's are the bios waiting for its worker, which
/// count for no congestion (see [`update_congestion`]).
pub fn in_flight(ctx: &Ctx, device: usize) -> u64 {
    let dev = &ctx.st.devices[device];
    (dev.queue.len() + dev.work.len() + dev.replies.len()) as u64
}

/// `set_wb_congested` / `clear_wb_congested` as the request-queue code calls them
/// (v4.7 block/blk-core.c: on at 113 requests allocated, off below 103). A bio-based dm
/// device has no request queue and never sets a state of its own: its BDI answers with
/// the devices below it (v4.7 drivers/md/dm.c `dm_any_congested` →
/// `dm_table_any_congested`). So bios waiting for kcryptd count for no congestion test,
/// not even `wait_iff_congested`'s global count, and their draining wakes no
/// congestion_wait sleeper (only the disk's does).
///
/// The NFS client counts pages, not requests: `nfs_set_page_writeback` sets the BDI
/// congested when `nfss->writeback` passes `NFS_CONGESTION_ON_THRESH`, and
/// `nfs_end_page_writeback` clears it below `NFS_CONGESTION_OFF_THRESH`.
pub(super) fn update_congestion(ctx: &mut Ctx, device: usize) {
    let (n, on, off) = match ctx.cfg.devices[device].kind {
        DeviceKind::DmCrypt { .. } => return,
        DeviceKind::NfsLoopback { .. } => {
            let ram = ctx.cfg.managed_pages();
            let pages = nfs_writeback_pages(&ctx.st.devices[device]);
            // "> ON" sets it: the first page past the mark.
            (
                pages,
                nfs_congestion_on_pages(ram) + 1,
                nfs_congestion_off_pages(ram),
            )
        }
        _ => {
            let nr = ctx.cfg.devices[device].nr_requests;
            (
                in_flight(ctx, device),
                congestion_on(nr),
                congestion_off(nr),
            )
        }
    };
    let was = ctx.st.devices[device].congested;
    if !was && n >= on {
        ctx.st.devices[device].congested = true;
        ctx.emit(Event::Congested { device });
    } else if was && n < off {
        ctx.st.devices[device].congested = false;
        ctx.emit(Event::Uncongested { device });
        // clear_bdi_congested wakes every congestion_wait sleeper.
        ctx.wake_queue(WaitQueue::Congestion);
    }
}

/// The device whose congestion a submitter to `device` sees (`bdi_congested` of a dm
/// device asks its lower device, see [`update_congestion`]).
pub fn congestion_device(ctx: &Ctx, device: usize) -> usize {
    match ctx.cfg.devices[device].kind {
        DeviceKind::DmCrypt { lower, .. } => lower,
        _ => device,
    }
}

/// A request queue with every request slot taken (`get_request_wait` would block), or a
/// network device whose socket send buffer is full. There the sleep is still io_schedule
/// for the submitter: nbd's own thread (or the RPC transport) is the one that waits in
/// `sk_stream_wait_memory`; requests pile up behind it until submitters find no free
/// request slot (3.x nbd_request queues, nbd_thread sends). The sender is not a task of
/// its own here, so no lane shows sk_stream_wait_memory.
// Inlined in the browser build, which has no profile to guide the inliner (the native
// PGO build decides for itself): asked on every swap submission and congestion check.
#[cfg_attr(target_arch = "wasm32", inline(always))]
pub fn queue_full(ctx: &Ctx, device: usize) -> bool {
    queue_full_at(ctx, congestion_device(ctx, device))
}

/// [`queue_full`] of the device that takes the submit (`congestion_device`'s answer).
#[cfg_attr(target_arch = "wasm32", inline(always))]
pub fn queue_full_at(ctx: &Ctx, d: usize) -> bool {
    match ctx.cfg.devices[d].kind {
        DeviceKind::Disk { .. } => {
            ctx.st.devices[d].queue.len() as u64 >= ctx.cfg.devices[d].nr_requests
        }
        DeviceKind::Network { sndbuf_pages, .. } => ctx.st.devices[d].tx_held_pages >= sndbuf_pages,
        _ => false,
    }
}

/// `nfss->writeback`: pages sent to the NFS server and not yet acknowledged.
fn nfs_writeback_pages(dev: &Device) -> u64 {
    dev.queue
        .iter()
        .chain(&dev.work)
        .chain(&dev.replies)
        .map(|r| r.pages)
        .sum()
}

/// What fills a device and what its limit means, for the devices panel: read from the
/// state, never changing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Load {
    /// Requests allocated on the queue, against `q->nr_requests`; congested from `on`.
    Requests {
        used: u64,
        limit: u64,
        on: u64,
        congested: bool,
    },
    /// Pages held in the socket's send buffer, against `sk_sndbuf`; `awaiting` requests
    /// sent and not yet answered.
    SendBuffer {
        used: u64,
        limit: u64,
        awaiting: u64,
    },
    /// Bios waiting for the dm device's worker; congestion is the lower device's.
    Bios { queued: u64, lower: usize },
    /// Pages under writeback to the NFS server; congested above `on`.
    NfsPages { used: u64, on: u64, congested: bool },
}

pub fn load(cfg: &Config, st: &State, device: usize) -> Load {
    let dev = &st.devices[device];
    match cfg.devices[device].kind {
        DeviceKind::Disk { .. } => {
            let nr = cfg.devices[device].nr_requests;
            Load::Requests {
                used: dev.queue.len() as u64,
                limit: nr,
                on: congestion_on(nr),
                congested: dev.congested,
            }
        }
        DeviceKind::Network { sndbuf_pages, .. } => Load::SendBuffer {
            used: dev.tx_held_pages,
            limit: sndbuf_pages,
            awaiting: (dev.queue.len() + dev.replies.len()) as u64,
        },
        DeviceKind::DmCrypt { lower, .. } => Load::Bios {
            queued: dev.work.len() as u64,
            lower,
        },
        DeviceKind::NfsLoopback { .. } => Load::NfsPages {
            used: nfs_writeback_pages(dev),
            on: nfs_congestion_on_pages(cfg.managed_pages()),
            congested: dev.congested,
        },
    }
}

/// File pages written back (flusher, reclaim's pageout, a 2.6.35 writer).
pub fn submit_file_writeback(ctx: &mut Ctx, zone: usize, device: usize, pages: u64) {
    let payload = Payload::File { device };
    match ctx.cfg.devices[device].kind {
        DeviceKind::Disk { .. } => enqueue_disk(ctx, device, pages, payload, Held::default(), zone),
        DeviceKind::NfsLoopback { .. } => {
            let now = ctx.st.tick;
            ctx.st.devices[device].work.push_back(Request {
                pages,
                payload,
                start_tick: now,
                done_tick: now,
                elements: Held::default(),
                held_pages: 0,
                zone,
            });
            update_congestion(ctx, device);
            wake_worker(ctx, device);
        }
        DeviceKind::DmCrypt { .. } | DeviceKind::Network { .. } => {
            // File systems on these devices are not part of any scenario; validation refuses them.
            unreachable!("file writeback to a dm-crypt or network device")
        }
    }
}

/// Submits the swap pages a reclaimer just put under writeback (`rc.pending_swap_submit`).
/// dm-crypt: dm core allocates a per-bio io + clone from its mempool in *this* task's
/// context (PF_MEMALLOC for kswapd and direct reclaimers). Network: a TX skb is allocated
/// under PF_MEMALLOC (and __GFP_MEMALLOC on a SOCK_MEMALLOC socket).
pub fn resume_swap_submit(ctx: &mut Ctx, task: usize, rc: &mut ReclaimCtx) -> Step {
    let Some(device) = ctx.swap_device() else {
        rc.pending_swap_submit = 0;
        return Step::Done;
    };
    let zone = rc.pending_zone;
    match ctx.cfg.devices[device].kind {
        DeviceKind::Disk { .. } => {
            enqueue_disk(
                ctx,
                device,
                rc.pending_swap_submit,
                Payload::SwapOut,
                Held::default(),
                zone,
            );
            let pending = rc.pending_swap_submit;
            vmscan::putback_isolated(ctx, rc, pending);
            Step::Done
        }
        DeviceKind::DmCrypt { io_pool, .. } => {
            if ctx.st.tasks[task]
                .mempool
                .as_ref()
                .is_some_and(|m| m.pool != io_pool)
            {
                // Already inside another mempool_alloc (a GFP_NOIO caller never gets here,
                // since swap-out needs __GFP_IO): keep the pages for a later pass.
                let pending = rc.pending_swap_submit;
                vmscan::putback_isolated(ctx, rc, pending);
                requeue_unsubmitted_swap(ctx, zone, pending);
                return Step::Done;
            }
            // One dm io (with its clone) per page: __split_and_process_bio per swap bio.
            for _ in 0..4 {
                if ctx.st.tasks[task].mempool.is_none() {
                    mempool::begin(ctx, task, io_pool, Gfp::NOIO, rc.pending_swap_submit, false);
                }
                let mut got = 0;
                if let Step::Sleep | Step::Yield = mempool::mempool_alloc(ctx, task, &mut got) {
                    return Step::Sleep;
                }
                if got == 0 {
                    break;
                }
                let now = ctx.st.tick;
                ctx.st.devices[device].work.push_back(Request {
                    pages: got,
                    payload: Payload::SwapOut,
                    start_tick: now,
                    done_tick: now,
                    elements: Held::of(io_pool, got),
                    held_pages: 0,
                    zone,
                });
                update_congestion(ctx, device);
                wake_worker(ctx, device);
                vmscan::putback_isolated(ctx, rc, got);
                if rc.pending_swap_submit == 0 {
                    return Step::Done;
                }
            }
            // An allocation that failed outright leaves the pages to a later reclaim pass.
            let pending = rc.pending_swap_submit;
            vmscan::putback_isolated(ctx, rc, pending);
            requeue_unsubmitted_swap(ctx, zone, pending);
            Step::Done
        }
        DeviceKind::Network {
            tx_permille,
            rtt_ms,
            bandwidth_pages_per_s,
            ..
        } => {
            let pages = rc.pending_swap_submit;
            // The data is copied into socket buffers allocated in this (PF_MEMALLOC)
            // context; a SOCK_MEMALLOC socket adds __GFP_MEMALLOC (3.6).
            let gfp = if ctx.st.knobs.pfmemalloc_reserves {
                Gfp::NOIO.with(Gfp::MEMALLOC)
            } else {
                Gfp::NOIO
            };
            let tx_want = (pages * tx_permille).div_ceil(1000);
            let tx = page_alloc::alloc_no_reclaim(ctx, task, tx_want, gfp, PageUse::Kernel);
            if tx < tx_want {
                ctx.free_kernel_pages(tx);
                vmscan::putback_isolated(ctx, rc, pages);
                requeue_unsubmitted_swap(ctx, zone, pages);
                return Step::Done;
            }
            let now = ctx.st.tick;
            let dev = &mut ctx.st.devices[device];
            let start = dev.busy_until.max(now);
            let service = (pages * 1000).div_ceil(bandwidth_pages_per_s.max(1));
            dev.busy_until = start + service;
            dev.queue.push_back(Request {
                pages,
                payload: Payload::SwapOut,
                start_tick: start,
                done_tick: start + service + rtt_ms,
                elements: Held::default(),
                held_pages: tx,
                zone,
            });
            dev.tx_held_pages += tx;
            update_congestion(ctx, device);
            let pending = rc.pending_swap_submit;
            vmscan::putback_isolated(ctx, rc, pending);
            Step::Done
        }
        DeviceKind::NfsLoopback { .. } => {
            unreachable!("swap on a loopback NFS mount is refused by validation")
        }
    }
}

/// A read through a dm device: dm core maps the bio into `clones` clones, one io-pool
/// element each, all allocated before any is dispatched (`current->bio_list`). Returns
/// `Step::Done` once the read is queued at the lower device.
pub fn dm_read(ctx: &mut Ctx, task: usize, device: usize, clones: u64) -> Step {
    let DeviceKind::DmCrypt { lower, io_pool, .. } = ctx.cfg.devices[device].kind else {
        unreachable!("dm_read on a non-dm device (validation refuses it)");
    };
    if ctx.st.tasks[task].mempool.is_none() {
        mempool::begin(ctx, task, io_pool, Gfp::NOIO, clones, true);
    }
    let mut got = 0;
    match mempool::mempool_alloc(ctx, task, &mut got) {
        Step::Sleep => return Step::Sleep,
        Step::Yield => return Step::Yield,
        Step::Done | Step::Fail => {}
    }
    let zone = ctx.st.zones.len() - 1;
    enqueue_disk(
        ctx,
        lower,
        clones,
        Payload::Read { task },
        Held::of(io_pool, got),
        zone,
    );
    ctx.st.tasks[task].io_pending = true;
    Step::Done
}

/// Swap pages that could not be submitted go back to the inactive list (the swap slot is
/// released), as `pageout` returning PAGE_KEEP would leave them.
fn requeue_unsubmitted_swap(ctx: &mut Ctx, zone: usize, pages: u64) {
    let z = &mut ctx.st.zones[zone];
    let n = pages.min(z.anon_writeback);
    z.anon_writeback -= n;
    z.anon_inactive += n;
    ctx.st.swap_used -= n.min(ctx.st.swap_used);
    ctx.st.counters.pswpout -= n.min(ctx.st.counters.pswpout);
}

fn wake_worker(ctx: &mut Ctx, device: usize) {
    if let Some(w) = ctx.worker_of(device) {
        ctx.wake_task(w);
    }
}

/// Phase 1 of a tick: requests whose time has come complete (disks) or their reply
/// arrives at the NIC (network devices, handled by the RX softirq).
pub fn complete_io(ctx: &mut Ctx) {
    let now = ctx.st.tick;
    for device in 0..ctx.st.devices.len() {
        let network = matches!(ctx.cfg.devices[device].kind, DeviceKind::Network { .. });
        let mut changed = false;
        while ctx.st.devices[device]
            .queue
            .front()
            .is_some_and(|r| r.done_tick <= now)
        {
            let req = ctx.st.devices[device]
                .queue
                .pop_front()
                .expect("front exists");
            changed = true;
            if network {
                ctx.st.devices[device].replies.push_back(req);
            } else {
                complete_request(ctx, req);
            }
        }
        if changed {
            update_congestion(ctx, device);
            if let Some(w) = ctx.worker_of(device) {
                ctx.wake_task(w);
            }
            for upper in 0..ctx.cfg.devices.len() {
                if let DeviceKind::DmCrypt { lower, .. } = ctx.cfg.devices[upper].kind {
                    if lower == device {
                        wake_worker(ctx, upper);
                    }
                }
            }
        }
    }
}

/// `bio_endio` → `end_page_writeback`: pages leave writeback, elements go back to their
/// pools, held kernel pages are freed.
pub fn complete_request(ctx: &mut Ctx, req: Request) {
    for (pool, n) in req.elements.iter() {
        mempool::mempool_free(ctx, pool, n);
    }
    ctx.free_kernel_pages(req.held_pages);
    let z = &mut ctx.st.zones[req.zone];
    match req.payload {
        Payload::SwapOut => {
            let n = req.pages.min(z.anon_writeback);
            z.anon_writeback -= n;
            z.anon_swapped_clean += n;
            ctx.st.counters.swapout_completed += n;
        }
        Payload::File { device } => {
            let n = req.pages.min(z.file_writeback[device]);
            z.file_writeback_done(device, n);
            z.file_inactive += n;
        }
        Payload::Read { task } => {
            // end_page_read → unlock_page: the readahead pages become clean cache.
            let mut left = req.pages;
            for z in ctx.st.zones.iter_mut().rev() {
                let n = left.min(z.file_locked);
                z.file_locked -= n;
                z.file_inactive += n;
                left -= n;
            }
            ctx.workload_progress(task);
            // The reader waits for the whole bio: the last of its requests wakes it.
            let more = ctx
                .st
                .devices
                .iter()
                .any(|d| d.queue.iter().any(|r| r.payload == Payload::Read { task }));
            if !more {
                ctx.st.tasks[task].io_pending = false;
                ctx.wake_task(task);
            }
            return;
        }
    }
    ctx.st.counters.pages_written_back += req.pages;
}

/// Pages kcryptd prepares (bio + ciphertext page each) before encrypting and submitting.
pub const KCRYPTD_CHUNK: u64 = 32;

/// The kcryptd write worker (`kcryptd_crypt` → `kcryptd_crypt_write_convert`): for each
/// page of the bio at the head of its queue, an encrypted clone bio from `cc->bs` and a
/// ciphertext page from `cc->page_pool` — first GFP_NOWAIT, then GFP_NOIO with direct
/// reclaim (`crypt_alloc_buffer`) — then encrypt and submit to the lower device. Each page
/// is its own bio in the kernel, so whatever prefix is ready is submitted at once.
pub fn kcryptd_run(ctx: &mut Ctx, task: usize, device: usize) {
    let DeviceKind::DmCrypt {
        lower,
        crypt_bio_pool,
        page_pool,
        encrypt_pages_per_s,
        ..
    } = ctx.cfg.devices[device].kind
    else {
        unreachable!("kcryptd on a non-dm-crypt device");
    };
    {
        let w = &mut ctx.st.tasks[task].worker;
        w.budget_milli =
            (w.budget_milli + encrypt_pages_per_s).min(encrypt_pages_per_s.max(1000) * 2);
    }
    for _ in 0..64 {
        let Some(head) = ctx.st.devices[device].work.front() else {
            ctx.sleep(task, SleepFn::Idle, u64::MAX / 4, WaitQueue::Work);
            return;
        };
        let pages = head.pages;
        if queue_full(ctx, lower) {
            ctx.sleep(task, SleepFn::IoWait, 10, WaitQueue::Work);
            return;
        }
        let (have_bio, have_pages) = (
            ctx.st.tasks[task].worker.have_bio,
            ctx.st.tasks[task].worker.have_pages,
        );
        let ready = have_bio.min(have_pages);
        let resuming = ctx.st.tasks[task].mempool.as_ref().map(|m| m.pool);
        if ready == 0 || resuming.is_some() {
            // Per page the kernel allocates a clone bio, then a ciphertext page, and submits;
            // we do it for up to KCRYPTD_CHUNK pages at a time, never hoarding more.
            let bio_round =
                resuming == Some(crypt_bio_pool) || (resuming.is_none() && have_bio == 0);
            if bio_round {
                if resuming.is_none() {
                    mempool::begin(
                        ctx,
                        task,
                        crypt_bio_pool,
                        Gfp::NOIO,
                        pages.min(KCRYPTD_CHUNK * ctx.cfg.parallelism),
                        false,
                    );
                }
                let mut got = 0;
                match mempool::mempool_alloc(ctx, task, &mut got) {
                    Step::Sleep | Step::Yield => return,
                    Step::Done | Step::Fail => ctx.st.tasks[task].worker.have_bio += got,
                }
                continue;
            }
            // Ciphertext pages for the bios held: GFP_NOWAIT first, then GFP_NOIO.
            if resuming.is_none() {
                let need = have_bio - have_pages;
                mempool::begin(ctx, task, page_pool, Gfp::NOWAIT, need, false);
                let mut got = 0;
                let _ = mempool::mempool_alloc(ctx, task, &mut got);
                ctx.st.tasks[task].mempool = None;
                ctx.st.tasks[task].worker.have_pages += got;
                if got > 0 {
                    continue;
                }
                mempool::begin(ctx, task, page_pool, Gfp::NOIO, need, false);
            }
            let mut got = 0;
            match mempool::mempool_alloc(ctx, task, &mut got) {
                Step::Sleep | Step::Yield => return,
                Step::Done | Step::Fail => ctx.st.tasks[task].worker.have_pages += got,
            }
            continue;
        }
        // Encrypt the ready pages at the CPU's rate, then submit them to the lower device.
        let budget_pages = ctx.st.tasks[task].worker.budget_milli / 1000;
        if budget_pages == 0 {
            ctx.sleep(task, SleepFn::Idle, 1, WaitQueue::Timer);
            return;
        }
        let n = ready.min(budget_pages);
        let w = &mut ctx.st.tasks[task].worker;
        w.budget_milli -= n * 1000;
        w.have_bio -= n;
        w.have_pages -= n;
        let head = ctx.st.devices[device]
            .work
            .front_mut()
            .expect("head exists");
        let (payload, zone) = (head.payload, head.zone);
        let mut elements = head.elements.take_each(n);
        head.pages -= n;
        if head.pages == 0 {
            ctx.st.devices[device].work.pop_front();
        }
        elements.add(crypt_bio_pool, n);
        elements.add(page_pool, n);
        enqueue_disk(ctx, lower, n, payload, elements, zone);
        ctx.st.devices[device].worker_done_tick = ctx.st.tick;
        update_congestion(ctx, device);
    }
}

/// `sk_memalloc_socks()`: a SOCK_MEMALLOC socket exists — swap over the network with the
/// 3.6 machinery on (`sk_set_memalloc` when swapon reaches NBD or NFS). Then every RX skb
/// allocation may retry from the reserve (with __GFP_MEMALLOC, after a __GFP_NOWARN try).
pub fn memalloc_socks(cfg: &Config, knobs: &Knobs) -> bool {
    knobs.pfmemalloc_reserves
        && cfg
            .swap
            .as_ref()
            .is_some_and(|s| matches!(cfg.devices[s.device].kind, DeviceKind::Network { .. }))
}

/// The NET_RX softirq: replies of network swap writes and unrelated packets need an skb
/// each. `__alloc_skb(SKB_ALLOC_RX)` adds __GFP_MEMALLOC while memalloc sockets exist
/// (3.6); `kmalloc_reserve` first tries without the reserve. A pfmemalloc skb for a socket
/// without SOCK_MEMALLOC is dropped (`sk_filter`). A failed allocation drops the packet and
/// the sender retransmits after its RTO.
pub fn net_rx_run(ctx: &mut Ctx, task: usize) {
    let now = ctx.st.tick;
    let memalloc_socks = memalloc_socks(ctx.cfg, &ctx.st.knobs);
    // Replies to swap writes.
    for device in 0..ctx.st.devices.len() {
        let DeviceKind::Network {
            rx_pages_per_reply,
            rto_ms,
            ..
        } = ctx.cfg.devices[device].kind
        else {
            continue;
        };
        for _ in 0..ctx.st.devices[device].replies.len() {
            let Some(front) = ctx.st.devices[device].replies.front() else {
                break;
            };
            if front.done_tick > now {
                break;
            }
            let mut req = ctx.st.devices[device]
                .replies
                .pop_front()
                .expect("front exists");
            let got = rx_alloc(ctx, task, rx_pages_per_reply, memalloc_socks);
            if got < rx_pages_per_reply {
                ctx.free_kernel_pages(got);
                ctx.st.counters.packets_dropped += 1;
                ctx.emit(Event::PacketDrop {
                    device,
                    packets: 1,
                    reason: RX_ALLOC_FAILED,
                });
                req.done_tick = now + rto_ms;
                ctx.st.devices[device].replies.push_back(req);
                continue;
            }
            // Delivered to the NBD/SUNRPC socket (SOCK_MEMALLOC when reserves are on): the
            // write completes, its socket buffers are released, the skb is freed.
            ctx.free_kernel_pages(got);
            let held = req.held_pages;
            let dev = &mut ctx.st.devices[device];
            dev.tx_held_pages -= held.min(dev.tx_held_pages);
            dev.worker_done_tick = now;
            complete_request(ctx, req);
        }
        update_congestion(ctx, device);
    }
    // Unrelated traffic for ordinary sockets.
    while ctx.st.net.held.front().is_some_and(|(t, _, _)| *t <= now) {
        let (_, pages, _) = ctx.st.net.held.pop_front().expect("front exists");
        ctx.free_kernel_pages(pages);
    }
    let Some(traffic) = ctx.cfg.net_traffic.clone() else {
        return;
    };
    ctx.st.net.rate_milli += traffic.rx_pages_per_s;
    let packets = ctx.st.net.rate_milli / 1000;
    ctx.st.net.rate_milli %= 1000;
    if packets == 0 {
        return;
    }
    let normal =
        page_alloc::alloc_no_reclaim(ctx, task, packets, Gfp::ATOMIC_MASK, PageUse::Kernel);
    if normal > 0 {
        ctx.st
            .net
            .held
            .push_back((now + traffic.hold_ms, normal, 0));
    }
    let dropped = packets - normal;
    // The retry with __GFP_MEMALLOC (SOCK_MEMALLOC sockets exist) takes what it can from
    // the reserve, but such an skb is pfmemalloc and its socket is not SOCK_MEMALLOC:
    // sk_filter drops it. What the retry cannot get either is an allocation failure.
    let pfmemalloc = if dropped > 0 && memalloc_socks {
        let reserve = page_alloc::alloc_no_reclaim(
            ctx,
            task,
            dropped,
            Gfp::ATOMIC_MASK.with(Gfp::MEMALLOC),
            PageUse::Kernel,
        );
        ctx.free_kernel_pages(reserve);
        reserve
    } else {
        0
    };
    ctx.st.counters.packets_dropped += dropped;
    let device = ctx.swap_device().unwrap_or(0);
    for (packets, reason) in [
        (pfmemalloc, "pfmemalloc skb for a non-memalloc socket"),
        (dropped - pfmemalloc, RX_ALLOC_FAILED),
    ] {
        if packets > 0 {
            ctx.emit(Event::PacketDrop {
                device,
                packets,
                reason,
            });
        }
    }
}

/// `kmalloc_reserve` for an RX skb: without reserves, then (if allowed) with __GFP_MEMALLOC.
fn rx_alloc(ctx: &mut Ctx, task: usize, pages: u64, memalloc_socks: bool) -> u64 {
    let mut got = page_alloc::alloc_no_reclaim(ctx, task, pages, Gfp::ATOMIC_MASK, PageUse::Kernel);
    if got < pages && memalloc_socks {
        got += page_alloc::alloc_no_reclaim(
            ctx,
            task,
            pages - got,
            Gfp::ATOMIC_MASK.with(Gfp::MEMALLOC),
            PageUse::Kernel,
        );
    }
    got
}

/// Earliest tick at which any queued I/O completes (for idle skipping).
pub fn next_completion(ctx: &Ctx) -> Option<Tick> {
    ctx.st
        .devices
        .iter()
        .flat_map(|d| d.queue.front().into_iter().chain(d.replies.front()))
        .map(|r| r.done_tick)
        .min()
}
