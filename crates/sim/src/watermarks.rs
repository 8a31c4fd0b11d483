//! Zone watermarks: `init_per_zone_wmark_min`, `__setup_per_zone_wmarks` and
//! `__zone_watermark_ok` (mm/page_alloc.c; 2.6.35, 3.6 and 4.7 — kernel-mm.md §2.1, §2.2).
//!
//! All arithmetic is integer and follows the kernel's own rounding, so the tables in
//! kernel-mm.md §2.1 and §12 come out exactly.

use serde::{Deserialize, Serialize};

/// Page size; kernel-mm.md §0.3.
pub const PAGE_KB: u64 = 4;
/// Lower and upper clamp of the default `min_free_kbytes` (2.6.35 … 4.7).
pub const MIN_FREE_KBYTES_FLOOR: u64 = 128;
pub const MIN_FREE_KBYTES_CAP: u64 = 65_536;
/// `watermark_scale_factor` default (4.6+): 10/10000 of the zone.
pub const WATERMARK_SCALE_FACTOR_DEFAULT: u64 = 10;
/// Largest `watermark_scale_factor` the sysctl accepts (4.7: 1000, i.e. 10 %).
pub const WATERMARK_SCALE_FACTOR_MAX: u64 = 1000;

/// Which `__setup_per_zone_wmarks` formula: 2.6.35–4.5 (`classic`) or 4.6+ (`scale-factor`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WatermarkFormula {
    #[serde(rename = "classic")]
    Classic,
    #[serde(rename = "scale-factor")]
    ScaleFactor,
}

/// min/low/high of one zone, in pages. Mirrors `zone->watermark[WMARK_*]`.
/// Private fields: `min <= low <= high` holds by construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watermarks {
    min: u64,
    low: u64,
    high: u64,
}

impl Watermarks {
    pub fn new(min: u64, low: u64, high: u64) -> Option<Watermarks> {
        (min <= low && low <= high).then_some(Watermarks { min, low, high })
    }
    pub fn min(&self) -> u64 {
        self.min
    }
    pub fn low(&self) -> u64 {
        self.low
    }
    pub fn high(&self) -> u64 {
        self.high
    }
}

/// `int_sqrt` of mm/page_alloc.c: the floor of the square root, in integers.
pub fn int_sqrt(x: u64) -> u64 {
    if x < 2 {
        return x;
    }
    // Newton's method from above converges to the floor.
    let mut r = x;
    let mut y = r.div_ceil(2);
    while y < r {
        r = y;
        y = (r + x / r) / 2;
    }
    r
}

/// `init_per_zone_wmark_min` (2.6.35 … 4.7): `int_sqrt(lowmem_kbytes * 16)` clamped to
/// [128, 65536]. We use the lowmem size itself for `nr_free_buffer_pages() * 4`
/// (kernel-mm.md §2.1: "a simulator can use the RAM size").
pub fn default_min_free_kbytes(lowmem_pages: u64) -> u64 {
    let lowmem_kbytes = lowmem_pages * PAGE_KB;
    int_sqrt(lowmem_kbytes * 16).clamp(MIN_FREE_KBYTES_FLOOR, MIN_FREE_KBYTES_CAP)
}

/// One zone's input to `__setup_per_zone_wmarks`.
#[derive(Clone, Copy, Debug)]
pub struct ZoneSize {
    pub managed_pages: u64,
    pub highmem: bool,
}

/// `__setup_per_zone_wmarks`: split `min_free_kbytes` over the lowmem zones in proportion
/// to their size; highmem gets a token `clamp(pages/1024, 32, 128)`; low/high follow the
/// chosen formula.
pub fn setup_per_zone_wmarks(
    zones: &[ZoneSize],
    min_free_kbytes: u64,
    formula: WatermarkFormula,
    watermark_scale_factor: u64,
) -> Vec<Watermarks> {
    let pages_min = min_free_kbytes / PAGE_KB;
    let lowmem_pages: u64 = zones
        .iter()
        .filter(|z| !z.highmem)
        .map(|z| z.managed_pages)
        .sum();
    zones
        .iter()
        .map(|zone| {
            // `tmp = pages_min * zone_pages / lowmem_pages` (64-bit in the kernel too).
            let tmp = if lowmem_pages == 0 {
                0
            } else {
                (u128::from(pages_min) * u128::from(zone.managed_pages) / u128::from(lowmem_pages))
                    as u64
            };
            let min = if zone.highmem {
                (zone.managed_pages / 1024).clamp(32, 128)
            } else {
                tmp
            };
            let (low, high) = match formula {
                WatermarkFormula::Classic => (min + tmp / 4, min + tmp / 2),
                WatermarkFormula::ScaleFactor => {
                    let scaled = (u128::from(zone.managed_pages)
                        * u128::from(watermark_scale_factor)
                        / 10_000) as u64;
                    let gap = (tmp / 4).max(scaled);
                    (min + gap, min + 2 * gap)
                }
            };
            Watermarks::new(min, low, high).expect("min <= low <= high by construction")
        })
        .collect()
}

/// Which watermark a `__zone_watermark_ok` call compares against.
/// `sysctl_lowmem_reserve_ratio` (mm/page_alloc.c, 2.6.35 … 4.7): 256 for ZONE_DMA and
/// ZONE_DMA32, 32 for ZONE_NORMAL (whose reserve only counts against HighMem/Movable).
pub const LOWMEM_RESERVE_RATIO: u64 = 256;
pub const LOWMEM_RESERVE_RATIO_BELOW_HIGHMEM: u64 = 32;

/// `setup_per_zone_lowmem_reserve` (mm/page_alloc.c, 2.6.35 … 4.7), for the highest zone
/// as the allocation's classzone: a lower zone keeps `managed pages of every zone above
/// it / sysctl_lowmem_reserve_ratio[lower]` pages that an allocation which could have
/// used the higher zones may not take (`__zone_watermark_ok`: `free <= min +
/// lowmem_reserve[classzone_idx]` fails). ALLOC_NO_WATERMARKS ignores it. Every modelled
/// allocation may use every zone (no GFP_DMA callers), so the highest zone is the classzone.
pub fn setup_per_zone_lowmem_reserve(zones: &[ZoneSize]) -> Vec<u64> {
    lowmem_reserve_table(zones)
        .iter()
        .map(|row| row.last().copied().unwrap_or(0))
        .collect()
}

/// The whole `zone->lowmem_reserve[]` array of every zone, as `show_free_areas` prints
/// it: zone `i` against classzone `j` keeps the managed pages of zones `i+1..=j` divided
/// by `sysctl_lowmem_reserve_ratio[i]`, and nothing against itself or a lower classzone.
pub fn lowmem_reserve_table(zones: &[ZoneSize]) -> Vec<Vec<u64>> {
    (0..zones.len())
        .map(|i| {
            let ratio = match zones.get(i + 1) {
                Some(next) if next.highmem => LOWMEM_RESERVE_RATIO_BELOW_HIGHMEM,
                _ => LOWMEM_RESERVE_RATIO,
            };
            (0..zones.len())
                .map(|j| {
                    let above: u64 = zones
                        .get(i + 1..=j)
                        .map_or(0, |z| z.iter().map(|z| z.managed_pages).sum());
                    above / ratio
                })
                .collect()
        })
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mark {
    Min,
    Low,
    High,
}

impl Watermarks {
    pub fn get(&self, mark: Mark) -> u64 {
        match mark {
            Mark::Min => self.min,
            Mark::Low => self.low,
            Mark::High => self.high,
        }
    }
}

/// The level `free` must stay above for an order-0 allocation: `__zone_watermark_ok`
/// with the ALLOC_HIGH cut (`m -= m/2`) then the ALLOC_HARDER cut (`m -= m/4`), plus
/// `lowmem_reserve` (0 here: our zones do not fall back to each other for reserve).
/// `None` means ALLOC_NO_WATERMARKS: the check is skipped and the last page may go.
pub fn order0_floor(
    mark_pages: u64,
    alloc_high: bool,
    alloc_harder: bool,
    no_watermarks: bool,
) -> Option<u64> {
    if no_watermarks {
        return None;
    }
    let mut m = mark_pages;
    if alloc_high {
        m -= m / 2;
    }
    if alloc_harder {
        m -= m / 4;
    }
    Some(m)
}

/// How many order-0 pages an allocation may take from a zone holding `free_pages`:
/// each page needs `free > floor` before it is taken (`free <= m` fails the check).
pub fn pages_allowed(free_pages: u64, floor: Option<u64>, wanted: u64) -> u64 {
    match floor {
        None => wanted.min(free_pages),
        Some(m) => wanted.min(free_pages.saturating_sub(m)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};

    const MIB_PAGES: u64 = 256;

    /// Renders the kernel-mm.md §2.1 table row for a single lowmem zone of `ram_mib`.
    #[track_caller]
    fn check(ram_mib: u64, expect: Expect) {
        let pages = ram_mib * MIB_PAGES;
        let mfk = default_min_free_kbytes(pages);
        let zone = [ZoneSize {
            managed_pages: pages,
            highmem: false,
        }];
        let c = setup_per_zone_wmarks(&zone, mfk, WatermarkFormula::Classic, 10)[0];
        let s = setup_per_zone_wmarks(&zone, mfk, WatermarkFormula::ScaleFactor, 10)[0];
        expect.assert_eq(&format!(
            "mfk={mfk} min={} classic={}/{} scale={}/{}",
            c.min(),
            c.low(),
            c.high(),
            s.low(),
            s.high()
        ));
    }

    #[test]
    fn kernel_table_2_1() {
        check(
            512,
            expect!["mfk=2896 min=724 classic=905/1086 scale=905/1086"],
        );
        check(
            1024,
            expect!["mfk=4096 min=1024 classic=1280/1536 scale=1286/1548"],
        );
        check(
            2048,
            expect!["mfk=5792 min=1448 classic=1810/2172 scale=1972/2496"],
        );
        check(
            4096,
            expect!["mfk=8192 min=2048 classic=2560/3072 scale=3096/4144"],
        );
        check(
            16384,
            expect!["mfk=16384 min=4096 classic=5120/6144 scale=8290/12484"],
        );
        check(
            262_144,
            expect!["mfk=65536 min=16384 classic=20480/24576 scale=83492/150600"],
        );
    }

    #[test]
    fn lowmem_reserve_of_dma_against_dma32() {
        // 1 GiB x86-64: DMA (16 MiB, 3975 managed pages in a real boot; 4096 here) keeps
        // DMA32's 258048 pages / 256 = 1008 pages from GFP_HIGHUSER/GFP_KERNEL callers.
        let zones = [
            ZoneSize {
                managed_pages: 4096,
                highmem: false,
            },
            ZoneSize {
                managed_pages: 258_048,
                highmem: false,
            },
        ];
        assert_eq!(setup_per_zone_lowmem_reserve(&zones), vec![1008, 0]);
        let with_highmem = [
            ZoneSize {
                managed_pages: 4096,
                highmem: false,
            },
            ZoneSize {
                managed_pages: 225_280,
                highmem: false,
            },
            ZoneSize {
                managed_pages: 32_768,
                highmem: true,
            },
        ];
        assert_eq!(
            setup_per_zone_lowmem_reserve(&with_highmem),
            vec![(225_280 + 32_768) / 256, 32_768 / 32, 0]
        );
        // The whole array, as show_free_areas prints `lowmem_reserve[]:` per zone: DMA
        // against Normal keeps Normal's pages / 256, against HighMem Normal's and HighMem's.
        assert_eq!(
            lowmem_reserve_table(&with_highmem),
            vec![
                vec![0, 225_280 / 256, (225_280 + 32_768) / 256],
                vec![0, 0, 32_768 / 32],
                vec![0, 0, 0],
            ]
        );
    }

    #[test]
    fn default_min_free_kbytes_table_12_1() {
        let gib = 1024 * MIB_PAGES;
        assert_eq!(default_min_free_kbytes(64 * gib), 32_768);
        assert_eq!(default_min_free_kbytes(1024 * gib), 65_536); // Capped at 65536 (≤ 4.7).
        assert_eq!(default_min_free_kbytes(1), 128); // Floor.
    }

    #[test]
    fn min_is_split_in_proportion_to_zone_size() {
        // 1 GiB total split 1:3 between two lowmem zones; min_free_kbytes 4096 → 1024 pages.
        let zones = [
            ZoneSize {
                managed_pages: 65_536,
                highmem: false,
            },
            ZoneSize {
                managed_pages: 196_608,
                highmem: false,
            },
        ];
        let w = setup_per_zone_wmarks(&zones, 4096, WatermarkFormula::Classic, 10);
        assert_eq!(w[0].min(), 256);
        assert_eq!(w[1].min(), 768);
        assert_eq!(w[0].min() + w[1].min(), 1024);
    }

    #[test]
    fn highmem_gets_a_token_reserve() {
        let zones = [
            ZoneSize {
                managed_pages: 200_000,
                highmem: false,
            },
            ZoneSize {
                managed_pages: 300_000,
                highmem: true,
            },
        ];
        let w = setup_per_zone_wmarks(&zones, 4096, WatermarkFormula::Classic, 10);
        assert_eq!(w[0].min(), 1024);
        assert_eq!(w[1].min(), 128); // clamp(300000/1024 = 292, 32, 128).
    }

    #[test]
    fn effective_floors_table_2_2() {
        // min = 1024 (the 1 GiB example).
        assert_eq!(order0_floor(1024, false, false, false), Some(1024)); // GFP_KERNEL slow path.
        assert_eq!(order0_floor(1024, true, false, false), Some(512)); // __GFP_HIGH.
        assert_eq!(order0_floor(1024, true, true, false), Some(384)); // GFP_ATOMIC: 3/8.
        assert_eq!(order0_floor(1024, false, true, false), Some(768)); // rt task: 3/4.
        assert_eq!(order0_floor(1024, true, true, true), None); // PF_MEMALLOC.
        assert_eq!(pages_allowed(1030, Some(1024), 100), 6);
        assert_eq!(pages_allowed(1024, Some(1024), 100), 0);
        assert_eq!(pages_allowed(5, None, 100), 5);
    }

    #[test]
    fn int_sqrt_is_the_floor() {
        for x in [
            0u64,
            1,
            2,
            3,
            4,
            15,
            16,
            17,
            65_535,
            65_536,
            1 << 40,
            u64::MAX / 3,
        ] {
            let r = int_sqrt(x);
            assert!(u128::from(r) * u128::from(r) <= u128::from(x));
            assert!(u128::from(r + 1) * u128::from(r + 1) > u128::from(x));
        }
    }
}
