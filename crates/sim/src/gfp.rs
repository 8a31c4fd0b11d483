//! GFP flags, task flags and `gfp_to_alloc_flags` (mm/page_alloc.c; include/linux/gfp.h,
//! include/linux/sched.h — kernel-mm.md §2.3).
//!
//! A small bitset instead of a crate: the set is closed and the names must read like the
//! kernel's.

use serde::{Deserialize, Serialize};

use super::policy::AllocSlowpath;

/// GFP bits (a subset of include/linux/gfp.h, with 4.7 names; 2.6.35's `__GFP_WAIT` is
/// `DIRECT_RECLAIM | KSWAPD_RECLAIM` here).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Gfp(pub u32);

impl Gfp {
    pub const IO: Gfp = Gfp(1 << 0);
    pub const FS: Gfp = Gfp(1 << 1);
    pub const DIRECT_RECLAIM: Gfp = Gfp(1 << 2);
    pub const KSWAPD_RECLAIM: Gfp = Gfp(1 << 3);
    pub const HIGH: Gfp = Gfp(1 << 4);
    pub const ATOMIC: Gfp = Gfp(1 << 5);
    pub const MEMALLOC: Gfp = Gfp(1 << 6);
    pub const NOMEMALLOC: Gfp = Gfp(1 << 7);
    pub const NORETRY: Gfp = Gfp(1 << 8);
    pub const NOWARN: Gfp = Gfp(1 << 9);
    /// NeilBrown's proposed GFP_TRANSIENT (kernel-mm.md §6.7, §14.2; never merged):
    /// reclaim never sleeps on behalf of this allocation.
    pub const TRANSIENT: Gfp = Gfp(1 << 10);

    pub const RECLAIM: Gfp = Gfp(Self::DIRECT_RECLAIM.0 | Self::KSWAPD_RECLAIM.0);
    pub const KERNEL: Gfp = Gfp(Self::RECLAIM.0 | Self::IO.0 | Self::FS.0);
    pub const NOFS: Gfp = Gfp(Self::RECLAIM.0 | Self::IO.0);
    pub const NOIO: Gfp = Gfp(Self::RECLAIM.0);
    pub const ATOMIC_MASK: Gfp = Gfp(Self::HIGH.0 | Self::ATOMIC.0 | Self::KSWAPD_RECLAIM.0);
    pub const NOWAIT: Gfp = Gfp(Self::KSWAPD_RECLAIM.0);
    /// GFP_HIGHUSER_MOVABLE as far as reclaim cares: GFP_KERNEL.
    pub const HIGHUSER_MOVABLE: Gfp = Self::KERNEL;

    pub fn has(self, other: Gfp) -> bool {
        self.0 & other.0 == other.0
    }
    pub fn with(self, other: Gfp) -> Gfp {
        Gfp(self.0 | other.0)
    }
    pub fn without(self, other: Gfp) -> Gfp {
        Gfp(self.0 & !other.0)
    }
    pub fn can_direct_reclaim(self) -> bool {
        self.has(Gfp::DIRECT_RECLAIM)
    }

    /// Short kernel-style rendering for stack frames and the event log.
    pub fn describe(self) -> String {
        let named = [
            (Gfp::KERNEL, "GFP_KERNEL"),
            (Gfp::NOFS, "GFP_NOFS"),
            (Gfp::NOIO, "GFP_NOIO"),
            (Gfp::ATOMIC_MASK, "GFP_ATOMIC"),
            (Gfp::NOWAIT, "GFP_NOWAIT"),
        ];
        let base = Gfp(self.0 & (Self::KERNEL.0 | Self::HIGH.0 | Self::ATOMIC.0));
        let mut out = named
            .iter()
            .find(|(g, _)| *g == base)
            .map(|(_, n)| (*n).to_string())
            .unwrap_or_else(|| format!("{:#x}", base.0));
        for (flag, name) in [
            (Gfp::MEMALLOC, "__GFP_MEMALLOC"),
            (Gfp::NOMEMALLOC, "__GFP_NOMEMALLOC"),
            (Gfp::NORETRY, "__GFP_NORETRY"),
            (Gfp::TRANSIENT, "GFP_TRANSIENT"),
        ] {
            if self.has(flag) {
                out.push('|');
                out.push_str(name);
            }
        }
        out
    }
}

/// Task flags that change allocation and reclaim (include/linux/sched.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TaskFlags {
    /// PF_MEMALLOC: "I am freeing memory" — set for kswapd always, for a direct reclaimer
    /// inside `__perform_reclaim`, and for network RX processing of pfmemalloc skbs.
    pub memalloc: bool,
    /// PF_LESS_THROTTLE: nfsd (and loop); Hocko's patch 2/2 sets it inside mempool_alloc.
    pub less_throttle: bool,
    /// PF_KSWAPD.
    pub kswapd: bool,
    /// PF_KTHREAD (kernel threads and workqueue workers such as kcryptd).
    pub kthread: bool,
    /// TIF_MEMDIE: chosen as OOM victim (mm/oom_kill.c `mark_oom_victim`).
    pub memdie: bool,
    /// Running in softirq (network receive).
    pub softirq: bool,
    /// A realtime task (`rt_task(current)`): ALLOC_HARDER for sleeping allocations.
    pub realtime: bool,
}

/// `alloc_flags` bits that matter for the watermark test (mm/internal.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct AllocFlags {
    pub high: bool,
    pub harder: bool,
    pub no_watermarks: bool,
}

/// `gfp_to_alloc_flags` (kernel-mm.md §2.3) in the 2.6.35 form or the 3.6/4.7 form.
pub fn gfp_to_alloc_flags(gfp: Gfp, task: TaskFlags, shape: AllocSlowpath) -> AllocFlags {
    let nomemalloc = gfp.has(Gfp::NOMEMALLOC);
    let high = gfp.has(Gfp::HIGH);
    let cannot_sleep = !gfp.has(Gfp::DIRECT_RECLAIM);
    let in_interrupt = task.softirq;
    match shape {
        AllocSlowpath::V2_6_35 => {
            let harder = cannot_sleep || (task.realtime && !in_interrupt);
            let no_watermarks = !nomemalloc && !in_interrupt && (task.memalloc || task.memdie);
            AllocFlags {
                high,
                harder,
                no_watermarks,
            }
        }
        AllocSlowpath::V3_6 | AllocSlowpath::V4_7 => {
            // 3.6: "cannot sleep → HARDER" skipped under NOMEMALLOC; 4.7 keys it on
            // __GFP_ATOMIC, which every GFP_ATOMIC caller sets — same result here.
            let harder = match shape {
                AllocSlowpath::V4_7 => gfp.has(Gfp::ATOMIC) && !nomemalloc,
                _ => cannot_sleep && !nomemalloc,
            } || (task.realtime && !in_interrupt);
            // __GFP_MEMALLOC anywhere; PF_MEMALLOC in softirq (RX) or in process context;
            // TIF_MEMDIE only in process context.
            let no_watermarks = !nomemalloc
                && (gfp.has(Gfp::MEMALLOC) || task.memalloc || (!in_interrupt && task.memdie));
            AllocFlags {
                high,
                harder,
                no_watermarks,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pf_memalloc_gets_no_watermarks_unless_nomemalloc() {
        let kswapd = TaskFlags {
            memalloc: true,
            kswapd: true,
            kthread: true,
            ..TaskFlags::default()
        };
        for shape in [
            AllocSlowpath::V2_6_35,
            AllocSlowpath::V3_6,
            AllocSlowpath::V4_7,
        ] {
            assert!(gfp_to_alloc_flags(Gfp::NOIO, kswapd, shape).no_watermarks);
            assert!(
                !gfp_to_alloc_flags(Gfp::NOIO.with(Gfp::NOMEMALLOC), kswapd, shape).no_watermarks
            );
        }
    }

    #[test]
    fn gfp_memalloc_works_in_softirq_only_from_3_6() {
        let softirq = TaskFlags {
            softirq: true,
            kthread: true,
            ..TaskFlags::default()
        };
        let gfp = Gfp::ATOMIC_MASK.with(Gfp::MEMALLOC);
        assert!(gfp_to_alloc_flags(gfp, softirq, AllocSlowpath::V3_6).no_watermarks);
        assert!(!gfp_to_alloc_flags(gfp, softirq, AllocSlowpath::V2_6_35).no_watermarks);
        let atomic = gfp_to_alloc_flags(Gfp::ATOMIC_MASK, softirq, AllocSlowpath::V4_7);
        assert!(atomic.high && atomic.harder && !atomic.no_watermarks);
    }

    #[test]
    fn realtime_tasks_get_alloc_harder_outside_interrupts() {
        let rt = TaskFlags {
            realtime: true,
            ..TaskFlags::default()
        };
        for shape in [
            AllocSlowpath::V2_6_35,
            AllocSlowpath::V3_6,
            AllocSlowpath::V4_7,
        ] {
            let af = gfp_to_alloc_flags(Gfp::KERNEL, rt, shape);
            assert!(af.harder && !af.high && !af.no_watermarks);
            assert!(!gfp_to_alloc_flags(Gfp::KERNEL, TaskFlags::default(), shape).harder);
        }
    }

    #[test]
    fn describe_reads_like_the_kernel() {
        assert_eq!(
            Gfp::NOIO.with(Gfp::NOMEMALLOC).describe(),
            "GFP_NOIO|__GFP_NOMEMALLOC"
        );
        assert_eq!(Gfp::KERNEL.describe(), "GFP_KERNEL");
    }
}
