//! Policies: every behaviour that differs between kernel versions or proposals is a knob,
//! and a preset is nothing but a named set of knob values (kernel-mm.md §10, §14).
//!
//! Architecture invariant: no code branches on a preset's name. Presets are data in
//! [`PRESETS`]; the model reads only [`Knobs`], which may change between any two ticks.

use serde::{Deserialize, Serialize};

use super::watermarks::{
    WatermarkFormula, WATERMARK_SCALE_FACTOR_DEFAULT, WATERMARK_SCALE_FACTOR_MAX,
};

/// The `mempool_alloc` control flows of kernel-mm.md §6 and §14.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MempoolVariant {
    /// A: 2.6.35 — no-reclaim try, pool, 5 s wait, then reclaim-capable tries.
    #[serde(rename = "2.6.35")]
    V2_6_35,
    /// B: 3.6 … 4.5 and 4.8+ (the revert): no-reclaim try, pool, immediate reclaim retry, 5 s wait.
    #[serde(rename = "3.6")]
    V3_6,
    /// C: 4.6/4.7 releases with f9054c70d28b: NOMEMALLOC only while the pool has elements.
    #[serde(rename = "f9054c70")]
    F9054c70,
    /// D: Hocko RFC 1/2 — NOMEMALLOC dropped only for TIF_MEMDIE callers with an empty pool.
    #[serde(rename = "hocko-1")]
    Hocko1,
    /// E: D plus Hocko RFC 2/2 — PF_LESS_THROTTLE inside mempool_alloc.
    #[serde(rename = "hocko-2")]
    Hocko2,
    /// F: NeilBrown's recommendation — never direct reclaim from a pool, wait on pool->wait.
    #[serde(rename = "neilbrown")]
    Neilbrown,
    /// D plus GFP_TRANSIENT — reclaim never sleeps on behalf of the pool's allocations.
    #[serde(rename = "transient")]
    Transient,
}

/// The slow-path shapes of kernel-mm.md §2.4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AllocSlowpath {
    #[serde(rename = "2.6.35")]
    V2_6_35,
    #[serde(rename = "3.6")]
    V3_6,
    #[serde(rename = "4.7")]
    V4_7,
}

/// `balance_dirty_pages` before and after IO-less throttling (3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DirtyThrottling {
    /// The writer writes its own BDI's pages, then naps 1 jiffy … HZ/10.
    #[serde(rename = "2.6.35")]
    V2_6_35,
    /// The writer only pauses (up to 200 ms); the flusher does all writing.
    #[serde(rename = "io-less")]
    IoLess,
}

/// The per-pass nap of direct reclaim (kernel-mm.md §4.1, §5.4, §5.5), taken only while
/// `reclaim_throttle` is 2.6.35 or 3.2: 3.11's do_try_to_free_pages has none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReclaimNap {
    #[serde(rename = "congestion_wait")]
    CongestionWait,
    #[serde(rename = "wait_iff_congested")]
    WaitIffCongested,
}

/// How reclaim waits for writeback beyond direct reclaim's per-pass nap (`reclaim_nap`):
/// kswapd's per-pass nap in balance_pgdat and what `shrink_inactive_list` does after a
/// batch of order-0 reclaim that met pages under writeback (kernel-mm.md §3, §4.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReclaimThrottle {
    /// 2.6.35: kswapd naps in congestion_wait(HZ/10) after a pass at priority < 10 that
    /// scanned, unless a zone is below min (`has_under_min_watermark_zone`);
    /// shrink_inactive_list throttles only lumpy (order > 0) reclaim.
    #[serde(rename = "2.6.35")]
    V2_6_35,
    /// 3.2 … 3.10: as 2.6.35, and (92df3a723f84, "mm: vmscan: throttle reclaim if
    /// encountering too many dirty pages under writeback") any reclaimer, kswapd included,
    /// naps in `wait_iff_congested(zone, BLK_RW_ASYNC, HZ/10)` when `nr_writeback >=
    /// nr_taken >> (DEF_PRIORITY - priority)`.
    #[serde(rename = "3.2")]
    V3_2,
    /// 3.11+ (283aba9f9e0e, "mm: vmscan: block kswapd if it is encountering pages under
    /// writeback", with the flattened kswapd priority loop, which has no per-pass nap):
    /// kswapd naps in congestion_wait on nr_immediate; other reclaimers that
    /// `current_may_throttle` nap in wait_iff_congested when the zone is ZONE_CONGESTED.
    #[serde(rename = "3.11")]
    V3_11,
}

/// Every knob. Field names are the knob names of the CLI and the URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Knobs {
    pub mempool_variant: MempoolVariant,
    /// `throttle_vm_writeout` called at the end of every shrink_zone (removed in 4.9).
    pub throttle_vm_writeout: bool,
    /// Direct reclaim may ->writepage dirty *file* pages (until 3.2, ee72886d8ed5).
    pub direct_reclaim_file_writeback: bool,
    /// The filesystem accepts ->writepage from reclaim (PF_MEMALLOC) context; XFS stopped
    /// in 2.6.34 (kernel-mm.md §14.6).
    pub fs_reclaim_writepage: bool,
    /// The 3.6 swap-over-network machinery: page->pfmemalloc, __GFP_MEMALLOC, SOCK_MEMALLOC,
    /// throttle_direct_reclaim (kernel-mm.md §7).
    pub pfmemalloc_reserves: bool,
    /// The OOM reaper kthread (4.6+).
    pub oom_reaper: bool,
    /// nfsd runs with PF_LESS_THROTTLE (kernel-mm.md §11.4).
    pub nfsd_less_throttle: bool,
    pub alloc_slowpath: AllocSlowpath,
    pub dirty_throttling: DirtyThrottling,
    pub reclaim_nap: ReclaimNap,
    pub reclaim_throttle: ReclaimThrottle,
    pub watermark_formula: WatermarkFormula,
    /// Kernel stack size in bytes: 8192 (x86-64 until ~3.15) or 16384.
    pub thread_size: u32,
    /// `vm.min_free_kbytes`; `None` = the kernel's default for the RAM size.
    pub min_free_kbytes: Option<u64>,
    /// `vm.watermark_scale_factor` (4.6+; used by the scale-factor formula).
    pub watermark_scale_factor: u64,
    /// Anonymous pages count as dirtyable memory when swap exists (2.6.35 … 3.x; later
    /// kernels count only free and file pages, so an anon-full box has tiny dirty limits).
    pub dirtyable_anon: bool,
    /// `too_many_isolated` divides the inactive count by 8 for callers with both __GFP_IO
    /// and __GFP_FS, so GFP_NOIO/GFP_NOFS reclaimers may isolate more than GFP_KERNEL ones
    /// (kernel-mm.md §4.3 reads it in the 4.7 source; the 2.6.35 and 3.6 sources compare
    /// `isolated > inactive` for every caller).
    pub too_many_isolated_gfp_io_fs: bool,
    /// `vm.dirty_ratio`, percent of dirtyable memory.
    pub dirty_ratio: u64,
    /// `vm.dirty_background_ratio`, percent of dirtyable memory.
    pub dirty_background_ratio: u64,
}

/// A named, documented set of knob values.
pub struct Preset {
    pub name: &'static str,
    pub why: &'static str,
    pub knobs: fn() -> Knobs,
}

fn linux_2_6_33() -> Knobs {
    Knobs {
        mempool_variant: MempoolVariant::V2_6_35,
        throttle_vm_writeout: true,
        direct_reclaim_file_writeback: true,
        fs_reclaim_writepage: true,
        pfmemalloc_reserves: false,
        oom_reaper: false,
        nfsd_less_throttle: true,
        alloc_slowpath: AllocSlowpath::V2_6_35,
        dirty_throttling: DirtyThrottling::V2_6_35,
        reclaim_nap: ReclaimNap::CongestionWait,
        reclaim_throttle: ReclaimThrottle::V2_6_35,
        watermark_formula: WatermarkFormula::Classic,
        thread_size: 8192,
        min_free_kbytes: None,
        watermark_scale_factor: WATERMARK_SCALE_FACTOR_DEFAULT,
        dirtyable_anon: true,
        too_many_isolated_gfp_io_fs: false,
        dirty_ratio: 20,
        dirty_background_ratio: 10,
    }
}
fn linux_2_6_35() -> Knobs {
    Knobs {
        fs_reclaim_writepage: false,
        ..linux_2_6_33()
    }
}
fn linux_2_6_35_gorman() -> Knobs {
    Knobs {
        direct_reclaim_file_writeback: false,
        fs_reclaim_writepage: true,
        ..linux_2_6_35()
    }
}
fn linux_3_5() -> Knobs {
    Knobs {
        mempool_variant: MempoolVariant::V3_6,
        direct_reclaim_file_writeback: false,
        fs_reclaim_writepage: true,
        alloc_slowpath: AllocSlowpath::V3_6,
        dirty_throttling: DirtyThrottling::IoLess,
        reclaim_nap: ReclaimNap::WaitIffCongested,
        reclaim_throttle: ReclaimThrottle::V3_2,
        ..linux_2_6_33()
    }
}
fn linux_3_6() -> Knobs {
    Knobs {
        pfmemalloc_reserves: true,
        ..linux_3_5()
    }
}
fn linux_4_5() -> Knobs {
    Knobs {
        thread_size: 16384,
        dirtyable_anon: false,
        reclaim_throttle: ReclaimThrottle::V3_11,
        ..linux_3_6()
    }
}
fn linux_4_7() -> Knobs {
    Knobs {
        mempool_variant: MempoolVariant::F9054c70,
        oom_reaper: true,
        alloc_slowpath: AllocSlowpath::V4_7,
        watermark_formula: WatermarkFormula::ScaleFactor,
        too_many_isolated_gfp_io_fs: true,
        ..linux_4_5()
    }
}
fn linux_4_7_hocko() -> Knobs {
    Knobs {
        mempool_variant: MempoolVariant::Hocko2,
        ..linux_4_7()
    }
}
fn linux_4_7_neilbrown() -> Knobs {
    Knobs {
        mempool_variant: MempoolVariant::Neilbrown,
        ..linux_4_7()
    }
}
fn linux_4_7_transient() -> Knobs {
    Knobs {
        mempool_variant: MempoolVariant::Transient,
        ..linux_4_7()
    }
}
fn linux_4_8() -> Knobs {
    Knobs {
        mempool_variant: MempoolVariant::V3_6,
        ..linux_4_7()
    }
}
fn linux_4_9() -> Knobs {
    Knobs {
        throttle_vm_writeout: false,
        ..linux_4_8()
    }
}

/// Every preset, oldest first. The one list the CLI, the UI and the docs read.
pub const PRESETS: &[Preset] = &[
    Preset { name: "linux-2.6.33", why: "Direct reclaim may ->writepage file pages and XFS still accepts it: the 2010 stack overflows (Chinner's trace). 8 KiB stacks, mempool variant A, no swap-over-network reserves.", knobs: linux_2_6_33 },
    Preset { name: "linux-2.6.35", why: "As 2.6.33, but XFS refuses ->writepage from any PF_MEMALLOC context (2.6.34 stopgap): no overflow, and reclaim cannot clean dirty file pages at all.", knobs: linux_2_6_35 },
    Preset { name: "linux-2.6.35+gorman", why: "Mel Gorman's 2010 series on 2.6.35: direct reclaim never writes file pages (the VM decides, so the filesystem accepts kswapd's writepage again).", knobs: linux_2_6_35_gorman },
    Preset { name: "linux-3.5", why: "After 3.2: no file writeback from direct reclaim, IO-less dirty throttling, wait_iff_congested (also after a batch that met pages under writeback), mempool variant B. No PFMEMALLOC reserves yet, so swap over NBD can deadlock.", knobs: linux_3_5 },
    Preset { name: "linux-3.6", why: "Swap over NBD/NFS merged: page->pfmemalloc, __GFP_MEMALLOC, SOCK_MEMALLOC and throttle_direct_reclaim.", knobs: linux_3_6 },
    Preset { name: "linux-4.5", why: "Mempool variant B, 16 KiB stacks, 3.11's writeback throttling in shrink_inactive_list (kswapd on nr_immediate), the classic watermark formula and no OOM reaper: an OOM victim stuck in mempool_alloc blocks every further kill.", knobs: linux_4_5 },
    Preset { name: "linux-4.7", why: "The 4.6/4.7 releases: f9054c70d28b (mempool drops __GFP_NOMEMALLOC when the pool is empty), OOM reaper, watermark_scale_factor, the 4.7 slow path with should_reclaim_retry (progress = pages reclaimed), too_many_isolated comparing GFP_KERNEL reclaimers against inactive/8.", knobs: linux_4_7 },
    Preset { name: "linux-4.7+hocko", why: "4.7 with both of Michal Hocko's RFC patches (18 Jul 2016): reserves only for TIF_MEMDIE, and PF_LESS_THROTTLE inside mempool_alloc (variant hocko-2).", knobs: linux_4_7_hocko },
    Preset { name: "linux-4.7+neilbrown", why: "4.7 with NeilBrown's recommendation (22 Jul 2016): mempool_alloc never enters direct reclaim and waits only on pool->wait.", knobs: linux_4_7_neilbrown },
    Preset { name: "linux-4.7+transient", why: "4.7 with Hocko patch 1 plus NeilBrown's GFP_TRANSIENT: pool allocations may reclaim but are never throttled.", knobs: linux_4_7_transient },
    Preset { name: "linux-4.8", why: "The revert of f9054c70d28b (4e390b2b2f34): mempool variant B again, but throttle_vm_writeout still throttles kcryptd.", knobs: linux_4_8 },
    Preset { name: "linux-4.9", why: "throttle_vm_writeout removed (Hocko, Aug 2016).", knobs: linux_4_9 },
];

pub fn preset(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

pub fn preset_names() -> Vec<&'static str> {
    PRESETS.iter().map(|p| p.name).collect()
}

/// A knob's name and the values it accepts, for `pressure-lab list` and the UI.
#[derive(Clone, Debug, Serialize)]
pub struct KnobSpec {
    pub name: &'static str,
    pub allowed: &'static str,
    pub values: Vec<&'static str>,
    pub doc: &'static str,
}

pub const THREAD_SIZES: [u32; 2] = [8192, 16384];
/// Limits on the numeric knobs (the sysctls' own ranges where they exist).
pub const MIN_FREE_KBYTES_KNOB_MAX: u64 = 262_144;
pub const RATIO_MAX_PERCENT: u64 = 100;

pub fn knob_specs() -> Vec<KnobSpec> {
    let onoff = || vec!["on", "off"];
    vec![
        KnobSpec {
            name: "mempool_variant",
            allowed: "one of the values",
            values: vec![
                "2.6.35",
                "3.6",
                "f9054c70",
                "hocko-1",
                "hocko-2",
                "neilbrown",
                "transient",
            ],
            doc: "mempool_alloc control flow (kernel-mm.md §6)",
        },
        KnobSpec {
            name: "throttle_vm_writeout",
            allowed: "on|off",
            values: onoff(),
            doc: "shrink_zone ends in throttle_vm_writeout (removed in 4.9)",
        },
        KnobSpec {
            name: "direct_reclaim_file_writeback",
            allowed: "on|off",
            values: onoff(),
            doc: "direct reclaim may ->writepage dirty file pages (until 3.2)",
        },
        KnobSpec {
            name: "fs_reclaim_writepage",
            allowed: "on|off",
            values: onoff(),
            doc:
                "the filesystem accepts ->writepage from reclaim context (XFS refused from 2.6.34)",
        },
        KnobSpec {
            name: "pfmemalloc_reserves",
            allowed: "on|off",
            values: onoff(),
            doc: "3.6 PFMEMALLOC machinery for swap over network",
        },
        KnobSpec {
            name: "oom_reaper",
            allowed: "on|off",
            values: onoff(),
            doc: "the OOM reaper (4.6+)",
        },
        KnobSpec {
            name: "nfsd_less_throttle",
            allowed: "on|off",
            values: onoff(),
            doc: "nfsd runs with PF_LESS_THROTTLE",
        },
        KnobSpec {
            name: "alloc_slowpath",
            allowed: "one of the values",
            values: vec!["2.6.35", "3.6", "4.7"],
            doc: "__alloc_pages_slowpath shape (kernel-mm.md §2.4)",
        },
        KnobSpec {
            name: "dirty_throttling",
            allowed: "one of the values",
            values: vec!["2.6.35", "io-less"],
            doc: "balance_dirty_pages: writer writes its own pages, or only pauses (3.2+)",
        },
        KnobSpec {
            name: "reclaim_nap",
            allowed: "one of the values",
            values: vec!["congestion_wait", "wait_iff_congested"],
            doc: "direct reclaim's per-pass nap",
        },
        KnobSpec {
            name: "reclaim_throttle",
            allowed: "one of the values",
            values: vec!["2.6.35", "3.2", "3.11"],
            doc: "kswapd's per-pass nap and shrink_inactive_list's nap on pages under writeback",
        },
        KnobSpec {
            name: "watermark_formula",
            allowed: "one of the values",
            values: vec!["classic", "scale-factor"],
            doc: "__setup_per_zone_wmarks formula (scale-factor is 4.6+)",
        },
        KnobSpec {
            name: "thread_size",
            allowed: "8192|16384",
            values: vec!["8192", "16384"],
            doc: "kernel stack size in bytes",
        },
        KnobSpec {
            name: "min_free_kbytes",
            allowed: "128..=262144 or 'default'",
            values: vec![],
            doc: "vm.min_free_kbytes",
        },
        KnobSpec {
            name: "watermark_scale_factor",
            allowed: "1..=1000",
            values: vec![],
            doc: "vm.watermark_scale_factor",
        },
        KnobSpec {
            name: "dirtyable_anon",
            allowed: "on|off",
            values: onoff(),
            doc: "anonymous pages count as dirtyable memory (until 3.14, UNVERIFIED release)",
        },
        KnobSpec {
            name: "too_many_isolated_gfp_io_fs",
            allowed: "on|off",
            values: onoff(),
            doc: "too_many_isolated divides inactive by 8 for __GFP_IO|__GFP_FS callers (4.7)",
        },
        KnobSpec {
            name: "dirty_ratio",
            allowed: "1..=100",
            values: vec![],
            doc: "vm.dirty_ratio (percent)",
        },
        KnobSpec {
            name: "dirty_background_ratio",
            allowed: "1..=100",
            values: vec![],
            doc: "vm.dirty_background_ratio (percent)",
        },
    ]
}

/// Why a knob assignment was refused; the message names the knob, the value and what is allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnobError(pub String);

impl std::fmt::Display for KnobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn parse_onoff(name: &str, value: &str) -> Result<bool, KnobError> {
    match value {
        "on" | "true" => Ok(true),
        "off" | "false" => Ok(false),
        _ => Err(KnobError(format!(
            "knob {name}: value '{value}' is not allowed; use on or off"
        ))),
    }
}

fn parse_number(name: &str, value: &str, lo: u64, hi: u64) -> Result<u64, KnobError> {
    match value.parse::<u64>() {
        Ok(n) if lo <= n && n <= hi => Ok(n),
        _ => Err(KnobError(format!(
            "knob {name}: value '{value}' is not allowed; use an integer in {lo}..={hi}"
        ))),
    }
}

fn parse_named<T: for<'de> Deserialize<'de>>(name: &str, value: &str) -> Result<T, KnobError> {
    serde_json::from_value(serde_json::Value::String(value.to_string())).map_err(|_| {
        let allowed = knob_specs()
            .into_iter()
            .find(|k| k.name == name)
            .map(|k| k.values.join(", "))
            .unwrap_or_default();
        KnobError(format!(
            "knob {name}: value '{value}' is not allowed; use one of {allowed}"
        ))
    })
}

impl Knobs {
    /// Applies `name=value` as the CLI's `--set` and the URL do.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), KnobError> {
        match name {
            "mempool_variant" => self.mempool_variant = parse_named(name, value)?,
            "throttle_vm_writeout" => self.throttle_vm_writeout = parse_onoff(name, value)?,
            "direct_reclaim_file_writeback" => {
                self.direct_reclaim_file_writeback = parse_onoff(name, value)?
            }
            "fs_reclaim_writepage" => self.fs_reclaim_writepage = parse_onoff(name, value)?,
            "pfmemalloc_reserves" => self.pfmemalloc_reserves = parse_onoff(name, value)?,
            "oom_reaper" => self.oom_reaper = parse_onoff(name, value)?,
            "nfsd_less_throttle" => self.nfsd_less_throttle = parse_onoff(name, value)?,
            "alloc_slowpath" => self.alloc_slowpath = parse_named(name, value)?,
            "dirty_throttling" => self.dirty_throttling = parse_named(name, value)?,
            "reclaim_nap" => self.reclaim_nap = parse_named(name, value)?,
            "reclaim_throttle" => self.reclaim_throttle = parse_named(name, value)?,
            "watermark_formula" => self.watermark_formula = parse_named(name, value)?,
            "thread_size" => {
                let n = parse_number(name, value, 8192, 16384)?;
                if !THREAD_SIZES.contains(&(n as u32)) {
                    return Err(KnobError(format!(
                        "knob thread_size: value '{value}' is not allowed; use 8192 or 16384"
                    )));
                }
                self.thread_size = n as u32;
            }
            "min_free_kbytes" => {
                self.min_free_kbytes = if value == "default" {
                    None
                } else {
                    Some(parse_number(
                        name,
                        value,
                        super::watermarks::MIN_FREE_KBYTES_FLOOR,
                        MIN_FREE_KBYTES_KNOB_MAX,
                    )?)
                }
            }
            "watermark_scale_factor" => {
                self.watermark_scale_factor =
                    parse_number(name, value, 1, WATERMARK_SCALE_FACTOR_MAX)?
            }
            "dirtyable_anon" => self.dirtyable_anon = parse_onoff(name, value)?,
            "too_many_isolated_gfp_io_fs" => {
                self.too_many_isolated_gfp_io_fs = parse_onoff(name, value)?
            }
            "dirty_ratio" => self.dirty_ratio = parse_number(name, value, 1, RATIO_MAX_PERCENT)?,
            "dirty_background_ratio" => {
                self.dirty_background_ratio = parse_number(name, value, 1, RATIO_MAX_PERCENT)?
            }
            _ => {
                let names: Vec<&str> = knob_specs().iter().map(|k| k.name).collect();
                return Err(KnobError(format!(
                    "unknown knob '{name}'; knobs are: {}",
                    names.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// The knob's value as the CLI and URL write it (`on`/`off`, names, numbers).
    pub fn get(&self, name: &str) -> Option<String> {
        let onoff = |b: bool| if b { "on" } else { "off" }.to_string();
        let named = |v: serde_json::Value| v.as_str().map(str::to_string);
        let json = serde_json::to_value(self).ok()?;
        let v = json.get(name)?;
        Some(match v {
            serde_json::Value::Bool(b) => onoff(*b),
            serde_json::Value::Null => "default".to_string(),
            serde_json::Value::Number(n) => n.to_string(),
            other => named(other.clone())?,
        })
    }

    /// Knob names whose value differs from `base`, in the order of [`knob_specs`].
    pub fn diff(&self, base: &Knobs) -> Vec<(&'static str, String)> {
        knob_specs()
            .into_iter()
            .filter_map(|k| {
                let mine = self.get(k.name)?;
                (Some(&mine) != base.get(k.name).as_ref()).then_some((k.name, mine))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_have_unique_names_and_round_trip_through_set() {
        let mut names = preset_names();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), PRESETS.len());
        for p in PRESETS {
            let knobs = (p.knobs)();
            let mut rebuilt = linux_2_6_33();
            for spec in knob_specs() {
                rebuilt
                    .set(spec.name, &knobs.get(spec.name).unwrap())
                    .unwrap();
            }
            assert_eq!(rebuilt, knobs, "{}", p.name);
        }
    }

    #[test]
    fn set_rejects_with_the_knob_value_and_allowed_range() {
        let mut k = linux_4_7();
        let e = k.set("mempool_variant", "bogus").unwrap_err();
        assert!(
            e.0.contains("mempool_variant") && e.0.contains("bogus") && e.0.contains("neilbrown"),
            "{e}"
        );
        let e = k.set("dirty_ratio", "200").unwrap_err();
        assert!(e.0.contains("1..=100"), "{e}");
        let e = k.set("nope", "1").unwrap_err();
        assert!(e.0.contains("unknown knob 'nope'"), "{e}");
        k.set("throttle_vm_writeout", "off").unwrap();
        assert!(!k.throttle_vm_writeout);
    }

    /// What the presets say about kernel history: (preset, knob, value).
    #[test]
    fn presets_follow_kernel_history() {
        for (name, knob, value) in [
            ("linux-2.6.35", "mempool_variant", "2.6.35"),
            ("linux-4.5", "mempool_variant", "3.6"),
            ("linux-4.7", "mempool_variant", "f9054c70"),
            ("linux-4.7+hocko", "mempool_variant", "hocko-2"),
            ("linux-4.8", "mempool_variant", "3.6"),
            ("linux-4.8", "throttle_vm_writeout", "on"),
            ("linux-4.9", "throttle_vm_writeout", "off"),
            ("linux-2.6.35", "reclaim_throttle", "2.6.35"),
            ("linux-3.5", "reclaim_throttle", "3.2"),
            ("linux-3.6", "reclaim_throttle", "3.2"),
            ("linux-4.5", "reclaim_throttle", "3.11"),
            ("linux-4.9", "reclaim_throttle", "3.11"),
        ] {
            let knobs = (preset(name).unwrap().knobs)();
            assert_eq!(knobs.get(knob).as_deref(), Some(value), "{name} {knob}");
        }
    }
}
