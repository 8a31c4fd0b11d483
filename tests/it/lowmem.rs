//! Goal: `lowmem_reserve` (setup_per_zone_lowmem_reserve, 2.6.35 … 4.7) keeps ZONE_DMA's
//! last `DMA32 pages / 256` pages from every allocation that could have used DMA32, and
//! only ALLOC_NO_WATERMARKS (PF_MEMALLOC under f9054c70) takes them. Method: run
//! dm-crypt-swap's two-zone machine tick by tick and watch DMA's free count.

use pressure_lab::scenario;
use pressure_lab::sim::policy;
use pressure_lab::sim::Sim;

const DMA: usize = 0;

/// The lowest free count ZONE_DMA reaches in the first `ms` milliseconds, and its
/// min + lowmem_reserve.
fn dma_low_point(preset: &str, ms: u64) -> (u64, u64) {
    let sc = scenario::validate(scenario::builtin("dm-crypt-swap").unwrap()).unwrap();
    let mut sim = Sim::new(sc.config, (policy::preset(preset).unwrap().knobs)());
    let st = sim.state();
    let floor = st.wmarks[DMA].min() + st.lowmem_reserve[DMA];
    let mut low = u64::MAX;
    for _ in 0..ms {
        sim.step();
        low = low.min(sim.state().zones[DMA].free);
    }
    (low, floor)
}

#[test]
fn dma_keeps_its_lowmem_reserve_from_ordinary_allocations() {
    let sc = scenario::validate(scenario::builtin("dm-crypt-swap").unwrap()).unwrap();
    let sim = Sim::new(sc.config, (policy::preset("linux-4.8").unwrap().knobs)());
    // 1008 MiB of DMA32 = 258048 pages; / 256 = 1008.
    assert_eq!(sim.state().lowmem_reserve, vec![1008, 0]);
    // Mempool callers keep NOMEMALLOC (the revert, Hocko's patches, NeilBrown): nobody
    // takes DMA below min + lowmem_reserve.
    for preset in ["linux-4.8", "linux-4.7+hocko", "linux-4.7+neilbrown"] {
        let (low, floor) = dma_low_point(preset, 10_000);
        assert!(low >= floor, "{preset}: DMA free {low} < {floor}");
    }
    // f9054c70: dm core's allocations in kswapd's PF_MEMALLOC context ignore the
    // watermarks and the reserve alike, and empty ZONE_DMA too.
    let (low, floor) = dma_low_point("linux-4.7", 10_000);
    assert!(low < floor / 2, "4.7: DMA free only fell to {low}");
}
