//! Goal: bad scenario files are refused with a message naming the field path, the value
//! and what is allowed — never a panic. Method: data-driven edits of a built-in scenario
//! through one `check` helper.

use expect_test::{expect, Expect};
use pressure_lab::scenario;

/// Applies `edit` to watermarks-101's JSON and renders the validation result.
#[track_caller]
fn check(edit: impl FnOnce(&mut serde_json::Value), expect: Expect) {
    let (_, json) = scenario::BUILTIN
        .iter()
        .find(|(n, _)| *n == "watermarks-101")
        .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
    edit(&mut v);
    let text = serde_json::to_string(&v).unwrap();
    let got = match scenario::load_str(&text) {
        Ok(_) => "ok".to_string(),
        Err(e) => e.0,
    };
    expect.assert_eq(&got);
}

#[test]
fn every_builtin_validates() {
    for name in scenario::builtin_names() {
        let sc = scenario::validate(scenario::builtin(name).unwrap()).unwrap();
        assert_eq!(sc.file.name, name);
        assert!(
            !sc.file.summary.is_empty()
                && !sc.file.what_to_watch.is_empty()
                && !sc.file.caveats.is_empty(),
            "{name}: teaching text"
        );
        assert!(
            (3..=6).contains(&sc.file.chapters.len()),
            "{name}: 3-6 chapters"
        );
    }
}

#[test]
fn rejections_name_the_field_the_value_and_what_is_allowed() {
    check(|_| {}, expect!["ok"]);
    check(
        |v| v["version"] = 2.into(),
        expect!["version: value 2 is not allowed; this build reads version 1"],
    );
    check(
        |v| v["zones"][0]["mib"] = 4.into(),
        expect!["zones[0].mib: value 4 is not allowed; allowed: 16..=1048576"],
    );
    check(|v| v["bogus"] = 1.into(), expect!["bogus: unknown field `bogus`, expected one of `version`, `name`, `title`, `summary`, `seed_thread`, `kernel_functions`, `what_to_watch`, `caveats`, `chapters`, `default_preset`, `knobs`, `seed`, `duration_ms`, `stall_window_ms`, `hung_task_timeout_ms`, `parallelism`, `zones`, `devices`, `pools`, `swap`, `net_traffic`, `tasks`, `stack_extra` at line 1 column 8"]);
    check(
        |v| v["tasks"][0]["program"][0]["mib_per_s"] = 0.into(),
        expect!["tasks[0].program[0].mib_per_s: value 0 is not allowed; allowed: 1..=16777216"],
    );
    check(
        |v| v["pools"] = serde_json::json!([{"name": "p", "min_nr": 4, "element": "slab", "objs_per_slab": 8, "empty_slabs_kept": 5}]),
        expect!["ok"],
    );
    check(
        |v| v["pools"] = serde_json::json!([{"name": "p", "min_nr": 4, "element": "slab", "objs_per_slab": 8, "empty_slabs_kept": 11}]),
        expect!["pools[0].empty_slabs_kept: value 11 is not allowed; allowed: 0..=10"],
    );
    check(
        |v| v["pools"] = serde_json::json!([{"name": "p", "min_nr": 4, "element": "page", "empty_slabs_kept": 1}]),
        expect!["pools[0].empty_slabs_kept: value 1 is not allowed; only slab pools have empty_slabs_kept"],
    );
    check(|v| v["default_preset"] = "linux-9.9".into(), expect!["default_preset: value 'linux-9.9' is not allowed; must be one of: linux-2.6.33, linux-2.6.35, linux-2.6.35+gorman, linux-3.5, linux-3.6, linux-4.5, linux-4.7, linux-4.7+hocko, linux-4.7+neilbrown, linux-4.7+transient, linux-4.8, linux-4.9"]);
    check(
        |v| v["parallelism"] = 0.into(),
        expect!["parallelism: value 0 is not allowed; allowed: 1..=1024"],
    );
    check(
        |v| v["duration_ms"] = 10_000_000.into(),
        expect!["duration_ms: value 10000000 is not allowed; allowed: 1..=600000"],
    );
    check(|v| v["knobs"] = serde_json::json!({"dirty_ratio": "300"}), expect!["knobs.dirty_ratio: knob dirty_ratio: value '300' is not allowed; use an integer in 1..=100"]);
    check(|v| v["devices"][0]["kind"] = "floppy".into(), expect!["devices[0]: unknown variant `floppy`, expected one of `disk`, `dm-crypt`, `nbd`, `nfs`, `nfs-loopback` at line 1 column 1046"]);
    check(|v| v["tasks"][2]["kind"] = "kworker".into(), expect!["tasks[2].kind: value 'kworker' is not allowed; allowed: user, kswapd, flusher, kcryptd, nfsd, net_rx, oom_reaper"]);
    check(
        |v| v["tasks"][0]["must_finish"] = false.into(),
        expect!["ok"],
    );
    check(
        |v| {
            for t in v["tasks"].as_array_mut().unwrap() {
                t["must_finish"] = false.into();
            }
        },
        expect!["tasks: value with no must_finish task is not allowed; mark at least one task must_finish"],
    );
    check(|v| v["tasks"][0]["program"][0]["op"] = "fork_bomb".into(), expect!["tasks[0].program[0].op: unknown variant `fork_bomb`, expected one of `touch_anon`, `write_file`, `kernel_alloc`, `dm_read`, `sleep`, `free_anon` at line 1 column 1920"]);
}

/// Found by fuzzing: fields that meant nothing were accepted.
#[test]
fn fields_that_mean_nothing_are_refused_too() {
    // free_anon takes no fields (an internally tagged unit variant would ignore them).
    check(
        |v| v["tasks"][0]["program"][2]["mib"] = 5.into(),
        expect![
            "tasks[0].program[2]: unknown field `mib`, there are no fields at line 1 column 1975"
        ],
    );
    check(
        |v| v["tasks"][2]["stack"] = "sys_select".into(),
        expect![
            "tasks[2].stack: value 'sys_select' is not allowed; only user tasks have a stack base"
        ],
    );
    check(
        |v| v["tasks"][0]["device"] = "sda".into(),
        expect!["tasks[0].device: value 'sda' is not allowed; only kcryptd and nfsd name a device"],
    );
}

/// A run's cost grows with tasks × duration: the product is bounded (TASK_MS_MAX), and
/// the longest built-in edited to the longest duration still fits.
#[test]
fn tasks_times_duration_is_bounded() {
    check(|v| v["duration_ms"] = 600_000.into(), expect!["ok"]);
    check(
        |v| {
            v["duration_ms"] = 600_000.into();
            let hog = v["tasks"][0].clone();
            let tasks = v["tasks"].as_array_mut().unwrap();
            for i in 0..8 {
                let mut t = hog.clone();
                t["name"] = format!("hog{i}").into();
                tasks.push(t);
            }
        },
        expect!["duration_ms: value 600000 is not allowed; with 14 tasks at most 571428 (tasks × duration_ms ≤ 8000000)"],
    );
    // swap-over-nbd edited to 600 s (tests/e2e/ui-perf.test.cjs does it in the page).
    let nbd = scenario::builtin("swap-over-nbd").unwrap();
    assert_eq!(nbd.tasks.len(), 12);
    assert!(nbd.tasks.len() as u64 * scenario::DURATION_MS_MAX <= scenario::TASK_MS_MAX);
}

#[test]
fn garbage_is_refused_not_panicked_on() {
    for text in [
        "",
        "{",
        "[]",
        "null",
        "{\"version\":1}",
        &"x".repeat(300_000),
    ] {
        assert!(scenario::load_str(text).is_err(), "{text:.20}");
    }
}

/// A machine scaled up in RAM and rates and widened alike (CPUs, I/O width, pools) keeps
/// its story: the RAM benchmark compares like with like. watermarks-101 at 1 GiB and at
/// 1 TiB: the same outcome, the same number of direct-reclaim stalls within a few, and
/// 1024× the pages scanned within 2 % (watermarks follow their formula, so not exactly).
#[test]
fn a_wider_machine_keeps_its_story() {
    let base = scenario::builtin("watermarks-101").unwrap();
    let mib: u64 = base.zones.iter().map(|z| z.mib).sum();
    assert_eq!(mib, 1024, "the check assumes a 1 GiB scenario");
    let run = |file: scenario::ScenarioFile| {
        let sc = scenario::validate(file).unwrap();
        pressure_lab::report::run(&sc, sc.knobs.clone(), &sc.file.default_preset, None).1
    };
    let small = run(base.clone());
    let wide = base.scaled(1 << 20, mib).widened(1024);
    assert_eq!(wide.parallelism, 1024);
    let big = run(wide);
    assert_eq!(small.outcome, big.outcome);
    assert_eq!(small.simulated_ms, big.simulated_ms);
    assert!(small.metrics.allocstall.abs_diff(big.metrics.allocstall) <= 4);
    let scanned =
        |s: &pressure_lab::report::RunSummary| s.metrics.pgscan_kswapd + s.metrics.pgscan_direct;
    let (a, b) = (scanned(&small) * 1024, scanned(&big));
    assert!(
        a.abs_diff(b) * 50 <= a,
        "1 GiB {} × 1024 vs 1 TiB {b}",
        scanned(&small)
    );
    // Not widened, one CPU falls behind a workload 1024× faster: another story.
    let narrow = run(base.scaled(1 << 20, mib));
    assert_ne!(narrow.outcome, big.outcome);
}

#[test]
fn scaling_keeps_zone_dma_fixed_and_scales_the_ram_sized_zones() {
    // dm-crypt-swap: DMA 16 MiB + DMA32 1008 MiB (64 MiB clean cache).
    let base = scenario::builtin("dm-crypt-swap").unwrap();
    let mib = |f: &scenario::ScenarioFile| -> Vec<(u64, u64)> {
        f.zones.iter().map(|z| (z.mib, z.file_clean_mib)).collect()
    };
    assert_eq!(mib(&base), [(16, 0), (1008, 64)]);
    // Halved: 512 MiB of RAM, of which ZONE_DMA keeps its 16 MiB.
    assert_eq!(mib(&base.scaled(1, 2)), [(16, 0), (496, 31)]);
    // Doubled: 2 GiB.
    assert_eq!(mib(&base.scaled(2, 1)), [(16, 0), (2032, 129)]);
    // A single zone scales whatever its name.
    let one = scenario::builtin("oom-victim-mempool").unwrap();
    assert_eq!(mib(&one.scaled(2, 1)), [(2048, 64)]);
    for name in scenario::builtin_names() {
        let f = scenario::builtin(name).unwrap();
        for (num, den) in [(1, 2), (2, 1)] {
            let total: u64 = f.scaled(num, den).zones.iter().map(|z| z.mib).sum();
            let base_total: u64 = f.zones.iter().map(|z| z.mib).sum();
            assert_eq!(total, base_total * num / den, "{name} scaled {num}/{den}");
            assert!(scenario::validate(f.scaled(num, den)).is_ok(), "{name}");
        }
    }
}
