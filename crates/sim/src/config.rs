//! The validated, immutable description of a run (built from a scenario file by
//! `crate::scenario`). Indices (`usize`) refer into the vectors of this struct; they are
//! stable for the whole run.

use serde::{Deserialize, Serialize};

use super::gfp::Gfp;
use super::stack::{ExtraDepth, StackBase};
use super::time::Tick;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneConfig {
    pub name: String,
    pub managed_pages: u64,
    pub highmem: bool,
    /// Clean page cache present at boot (reclaimable file pages).
    pub file_clean_pages: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NetProtocol {
    Nbd,
    Nfs,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeviceKind {
    /// A request-queue block device (blk-core): FIFO service at a bandwidth, plus latency.
    Disk {
        bandwidth_pages_per_s: u64,
        latency_ms: u64,
    },
    /// dm-crypt over `lower` (drivers/md/dm.c + dm-crypt.c, 4.7): dm core allocates a
    /// per-bio io with its clone bio (one element of `io_pool` stands for the pair) in the
    /// submitter's context; the kcryptd worker allocates an encrypted clone bio from
    /// `crypt_bio_pool` and one ciphertext page per data page from `page_pool`.
    DmCrypt {
        lower: usize,
        io_pool: usize,
        crypt_bio_pool: usize,
        page_pool: usize,
        encrypt_pages_per_s: u64,
    },
    /// Swap over the network (NBD or NFS/SUNRPC): a write completes only when the server's
    /// reply has been received, which needs an RX skb allocation in softirq.
    Network {
        protocol: NetProtocol,
        bandwidth_pages_per_s: u64,
        rtt_ms: u64,
        rto_ms: u64,
        /// Pages of socket buffer per page sent (1000 = the data is copied), held until
        /// the reply acknowledges it, at most `sndbuf_pages` at once (`sk_sndbuf`).
        tx_permille: u64,
        sndbuf_pages: u64,
        rx_pages_per_reply: u64,
    },
    /// An NFS mount served by nfsd on the same host: writeback to it is queued for nfsd,
    /// which must copy the data into `server_fs`'s page cache (kernel-mm.md §11.4).
    NfsLoopback { server_fs: usize },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceConfig {
    pub name: String,
    pub kind: DeviceKind,
    /// `q->nr_requests` (BLKDEV_MAX_RQ = 128 by default).
    pub nr_requests: u64,
    /// Pages merged into one request (aggregation: one request object carries this many
    /// pages), times `Config::parallelism` for a widened machine.
    pub request_pages: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PoolElement {
    /// `mempool_alloc_pages`: one page per element.
    Page,
    /// `mempool_alloc_slab`: objects of a slab cache, this many per slab page; the cache
    /// keeps `empty_slabs_kept` slabs' worth of free objects before it frees empty slabs.
    Slab {
        objs_per_slab: u64,
        empty_slabs_kept: u64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolConfig {
    pub name: String,
    pub min_nr: u64,
    pub element: PoolElement,
}

/// A step of a user task's program.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// Fault in `pages` new anonymous pages at a rate (GFP_HIGHUSER_MOVABLE).
    TouchAnon { pages: u64, pages_per_s: u64 },
    /// Dirty `pages` new page-cache pages of `device` at a rate (buffered write).
    WriteFile {
        device: usize,
        pages: u64,
        pages_per_s: u64,
    },
    /// Allocate and free pages with an explicit GFP mask from a syscall (e.g. `__pollwait`).
    KernelAlloc {
        pages: u64,
        pages_per_s: u64,
        gfp: Gfp,
    },
    /// `count` reads through a dm device, each one bio that dm core splits into `clones`
    /// clones (`__split_and_process_bio`). The clones wait on `current->bio_list` until
    /// the whole bio is mapped, so all `clones` elements of the device's io pool are held
    /// at once by this task (kernel-mm.md §11.5, Rientjes' trace).
    DmRead {
        device: usize,
        clones: u64,
        count: u64,
    },
    /// Sleep (userspace think time).
    Sleep { ms: u64 },
    /// Unmap and free this task's anonymous memory.
    FreeAnon,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskKind {
    User {
        program: Vec<Op>,
    },
    /// `kswapd` of the (single) node.
    Kswapd,
    /// The per-BDI flusher (`wb_workfn` / `bdi_writeback_task`).
    Flusher,
    /// The kcryptd write worker of a dm-crypt device.
    Kcryptd {
        device: usize,
    },
    /// An nfsd thread serving a loopback NFS device.
    Nfsd {
        device: usize,
    },
    /// Network receive softirq (NET_RX) of the host.
    NetRx,
    /// The `oom_reaper` kthread (only acts when the knob is on).
    OomReaper,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskConfig {
    pub name: String,
    pub kind: TaskKind,
    pub must_finish: bool,
    pub stack_base: StackBase,
    /// Realtime scheduling class (ALLOC_HARDER for sleeping allocations).
    pub realtime: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwapConfig {
    pub device: usize,
    pub total_pages: u64,
}

/// Unrelated network traffic competing for RX memory (kernel-mm.md §11.2 step 4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetTraffic {
    pub rx_pages_per_s: u64,
    /// How long a delivered packet's memory stays queued on its socket before the reader frees it.
    pub hold_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    pub name: String,
    pub seed: u64,
    pub duration_ticks: Tick,
    /// A run with no progress for this long at its end is stalled or deadlocked.
    pub stall_window_ticks: Tick,
    /// khungtaskd's timeout (`hung_task_timeout_secs`, 120 s by default; scenarios shorten it).
    pub hung_task_timeout_ticks: Tick,
    /// How many CPUs each modelled thread, and how many request queues each device, stand
    /// for (≥ 1). Per-thread batches and budgets — SWAP_CLUSTER_MAX batches, the reclaim
    /// scan budget, kcryptd's chunk, the 2.6.35 writer's chunk — are multiplied by it, and
    /// so is each device's request size (already in `DeviceConfig::request_pages`), so a
    /// machine scaled up N× in RAM and rates behaves like the original with N× the CPUs
    /// and I/O width: every modelled thread aggregates N of them, as every page count
    /// aggregates pages. 1 in every built-in scenario.
    pub parallelism: u64,
    pub zones: Vec<ZoneConfig>,
    pub devices: Vec<DeviceConfig>,
    pub pools: Vec<PoolConfig>,
    pub tasks: Vec<TaskConfig>,
    pub swap: Option<SwapConfig>,
    pub net_traffic: Option<NetTraffic>,
    pub extra_depth: ExtraDepth,
    /// Indices of the singleton kernel threads (derived from `tasks` by [`Roles::of`]).
    pub roles: Roles,
}

impl Config {
    /// The worker that completes I/O queued at `device` (kcryptd, nfsd).
    pub fn worker_of(&self, device: usize) -> Option<usize> {
        self.tasks.iter().position(|t| {
            matches!(t.kind, TaskKind::Kcryptd { device: d } | TaskKind::Nfsd { device: d } if d == device)
        })
    }
}

/// Where the singleton kernel threads are in the task list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roles {
    pub kswapd: Option<usize>,
    pub flusher: Option<usize>,
    pub oom_reaper: Option<usize>,
}

impl Roles {
    pub fn of(tasks: &[TaskConfig]) -> Roles {
        let find = |pred: fn(&TaskKind) -> bool| tasks.iter().position(|t| pred(&t.kind));
        Roles {
            kswapd: find(|k| matches!(k, TaskKind::Kswapd)),
            flusher: find(|k| matches!(k, TaskKind::Flusher)),
            oom_reaper: find(|k| matches!(k, TaskKind::OomReaper)),
        }
    }
}

impl Config {
    pub fn managed_pages(&self) -> u64 {
        self.zones.iter().map(|z| z.managed_pages).sum()
    }
    pub fn lowmem_pages(&self) -> u64 {
        self.zones
            .iter()
            .filter(|z| !z.highmem)
            .map(|z| z.managed_pages)
            .sum()
    }
    pub fn task_index(&self, name: &str) -> Option<usize> {
        self.tasks.iter().position(|t| t.name == name)
    }
}
