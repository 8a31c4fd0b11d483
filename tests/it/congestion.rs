//! Goal: block-queue congestion is a property of request queues only (kernel-mm.md §5.6).
//! dm-crypt is a bio-based dm device: its BDI answers congestion queries with the state of
//! the device below it (v4.7 drivers/md/dm.c `dm_any_congested` →
//! `dm_table_any_congested`) and never sets or clears a state of its own, so the bios
//! queued for kcryptd count for no congestion test and wake no congestion_wait sleeper.
//! Method: dm-crypt-swap under linux-4.8, where kcryptd's queue runs far past 113 bios,
//! stepped tick by tick; every Congested/Uncongested event is checked by device.

use pressure_lab::scenario;
use pressure_lab::sim::event::Event;
use pressure_lab::sim::policy;
use pressure_lab::sim::Sim;

#[test]
fn only_the_disk_under_dm_crypt_congests() {
    let sc = scenario::validate(scenario::builtin("dm-crypt-swap").unwrap()).unwrap();
    let knobs = (policy::preset("linux-4.8").unwrap().knobs)();
    let mut sim = Sim::new(sc.config.clone(), knobs);
    let name = |d: usize| sc.config.devices[d].name.clone();
    let (mut on, mut off) = (Vec::new(), Vec::new());
    let mut kcryptd_backlog_max = 0;
    while !sim.state().finished {
        for e in sim.step() {
            match e {
                Event::Congested { device } => on.push(name(*device)),
                Event::Uncongested { device } => off.push(name(*device)),
                _ => {}
            }
        }
        let dm = &sim.state().devices[1];
        kcryptd_backlog_max = kcryptd_backlog_max.max(dm.work.len());
        assert!(!dm.congested, "dm-0 has no congestion state of its own");
    }
    assert_eq!(name(1), "dm-0");
    // The dm device's own queue does fill past the congestion threshold (113 of 128)…
    assert!(kcryptd_backlog_max >= 113, "{kcryptd_backlog_max}");
    // …and still only sda's request queue congests and clears.
    assert!(!on.is_empty(), "sda congests in this run");
    assert!(on.iter().chain(&off).all(|d| d == "sda"), "{on:?} {off:?}");
}
