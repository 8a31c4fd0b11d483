//! Goal: the dirty thresholds of a PF_LESS_THROTTLE task (nfsd) per version (kernel-mm.md
//! §5.1, §11.4): a quarter more in 2.6.35 … 4.6 `global_dirty_limits`, and from v4.7
//! (a53eaff8c119, "MM: increase safety margin provided by PF_LESS_THROTTLE") a quarter
//! more plus 1/32 of `global_wb_domain.dirty_limit`, the smoothed limit, which may stand
//! above this moment's threshold. Method: nfsd-loopback at tick 0 with the smoothed limit
//! set to twice the threshold through a snapshot.

use pressure_lab::scenario;
use pressure_lab::sim::{policy, writeback, Sim};

/// (threshold of an ordinary task, threshold of nfsd, smoothed limit) under `preset`.
fn thresholds(preset: &str) -> (u64, u64, u64) {
    let sc = scenario::validate(scenario::builtin("nfsd-loopback").unwrap()).unwrap();
    let nfsd = sc.config.task_index("nfsd").unwrap();
    let mut sim = Sim::new(sc.config.clone(), (policy::preset(preset).unwrap().knobs)());
    let mut snap = sim.snapshot();
    let (_, thresh) = writeback::limits_for(&sc.config, &snap.state, None);
    snap.state.dirty_limit_pages = 2 * thresh;
    snap.state.tasks[nfsd].flags.less_throttle = true;
    sim.restore(&snap);
    let (_, ordinary) = writeback::limits_for(&sc.config, sim.state(), None);
    let (_, less_throttle) = writeback::limits_for(&sc.config, sim.state(), Some(nfsd));
    (ordinary, less_throttle, sim.state().dirty_limit_pages)
}

#[test]
fn nfsd_gets_a_quarter_more_before_4_7() {
    let (thresh, nfsd, _) = thresholds("linux-3.6");
    assert!(thresh > 0);
    assert_eq!(nfsd, thresh + thresh / 4);
}

#[test]
fn from_4_7_nfsd_also_gets_a_32nd_of_the_smoothed_limit() {
    let (thresh, nfsd, limit) = thresholds("linux-4.7");
    assert_eq!(limit, 2 * thresh);
    assert_eq!(nfsd, thresh + thresh / 4 + limit / 32);
    assert_ne!(
        nfsd,
        thresh + thresh / 4 + thresh / 32,
        "not 1/32 of the threshold"
    );
}
