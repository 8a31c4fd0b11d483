//! Simulated time. One tick is one millisecond and the simulated kernel runs at
//! `HZ = 1000`, so a kernel timeout of `HZ/10` is exactly 100 ticks.
//!
//! Architecture invariant: nothing in `sim` reads a wall clock; time advances only in
//! `Sim::step`.

/// Simulated kernel tick rate (CONFIG_HZ). Every timeout in kernel-mm.md is in HZ units.
pub const HZ: u64 = 1000;
/// Milliseconds per tick.
pub const TICK_MS: u64 = 1;

pub type Tick = u64;

/// `HZ/10`: congestion_wait in reclaim and throttle_vm_writeout (mm/vmscan.c,
/// mm/page-writeback.c), the OOM reaper's retry interval (mm/oom_kill.c, 4.6+).
pub const HZ_DIV_10: Tick = HZ / 10;
/// `HZ/50`: the allocator's retry nap in 2.6.35/3.6 (`should_alloc_retry` path).
pub const HZ_DIV_50: Tick = HZ / 50;
/// `5*HZ`: `io_schedule_timeout(5*HZ)` on `pool->wait` in mempool_alloc (every version).
pub const MEMPOOL_WAIT_TICKS: Tick = 5 * HZ;
