//! Goal: the CLI contract (issue "The kernel model", CLI section). Method: run the built
//! binary and check the JSON keys, the kernel watermark table, and bad input → exit 2
//! with one line.

use std::process::Command;

fn cli(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pressure-lab"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn run_json_has_the_contract_fields() {
    let (code, out, _) = cli(&[
        "run",
        "watermarks-101",
        "--json",
        "--set",
        "throttle_vm_writeout=off",
        "--seed",
        "7",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for key in [
        "scenario",
        "preset",
        "knobs",
        "seed",
        "simulated_ms",
        "outcome",
        "outcome_at_ms",
        "verdicts",
        "metrics",
        "trace_hash",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["seed"], 7);
    assert_eq!(v["knobs"]["throttle_vm_writeout"], false);
    assert_eq!(v["knobs"]["mempool_variant"], "f9054c70");
    let hash = v["trace_hash"].as_str().unwrap();
    assert!(hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()));
    for key in [
        "min_free_pages",
        "reserve_pages_used_max",
        "pages_swapped_out",
        "swapout_pages_per_s",
        "pages_written_back",
        "oom_kills",
        "max_stack_bytes",
        "max_stack_bytes_direct_reclaim",
        "throttled_ms_total",
        "throttled_ms_by_task",
        "sleep_ms_by_function",
        "packets_dropped",
        "allocstall",
        "pgscan_direct",
        "pgscan_kswapd",
        "kswapd_wakeups",
    ] {
        assert!(v["metrics"].get(key).is_some(), "missing metrics.{key}");
    }
    assert!(v["metrics"]["kswapd_wakeups"].as_u64().unwrap() > 0);
}

#[test]
fn watermarks_reproduce_the_kernel_tables() {
    // kernel-mm.md §2.1: 2 GiB single zone, and §12 4.7 16 GiB.
    let (code, out, _) = cli(&[
        "watermarks",
        "--managed-pages",
        "524288",
        "--min-free-kbytes",
        "5792",
        "--json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (
            v["zones"][0]["min"].as_u64(),
            v["zones"][0]["low"].as_u64(),
            v["zones"][0]["high"].as_u64()
        ),
        (Some(1448), Some(1810), Some(2172))
    );
    let (_, out, _) = cli(&[
        "watermarks",
        "--managed-pages",
        "4194304",
        "--min-free-kbytes",
        "16384",
        "--formula",
        "scale-factor",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (
            v["zones"][0]["min"].as_u64(),
            v["zones"][0]["low"].as_u64(),
            v["zones"][0]["high"].as_u64()
        ),
        (Some(4096), Some(8290), Some(12484))
    );
    // Two zones: min split in proportion to managed pages.
    let (_, out, _) = cli(&[
        "watermarks",
        "--managed-pages",
        "65536,196608",
        "--min-free-kbytes",
        "4096",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["zones"][0]["min"], 256);
    assert_eq!(v["zones"][1]["min"], 768);
}

#[test]
fn list_names_scenarios_presets_and_knobs() {
    let (code, out, _) = cli(&["list", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["scenarios"].as_array().unwrap().len(), 8);
    assert_eq!(v["presets"].as_array().unwrap().len(), 12);
    assert!(v["knobs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["name"] == "mempool_variant"));
}

#[test]
fn bad_input_exits_2_with_one_line() {
    for args in [
        vec!["run", "no-such-scenario", "--json"],
        vec!["run", "watermarks-101", "--preset", "linux-9", "--json"],
        vec![
            "run",
            "watermarks-101",
            "--set",
            "mempool_variant=bogus",
            "--json",
        ],
        vec!["run", "watermarks-101", "--set", "nonsense", "--json"],
        vec![
            "watermarks",
            "--managed-pages",
            "0",
            "--min-free-kbytes",
            "1",
        ],
        vec!["frobnicate"],
        // Found by fuzzing: seconds × 1000 wrapped around; a newline split the message.
        vec![
            "run",
            "watermarks-101",
            "--seconds",
            "18446744073709552",
            "--json",
        ],
        vec!["run", "watermarks-101", "--preset", "a\nb", "--json"],
        vec!["run", "watermarks-101", "--seed", "-1", "--json"],
    ] {
        let (code, out, err) = cli(&args);
        assert_eq!(code, 2, "{args:?}");
        assert!(out.is_empty(), "{args:?}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        if let Some(flag) = args.iter().find(|a| a.starts_with("--") && **a != "--json") {
            assert!(
                err.contains(flag),
                "{args:?}: the message names {flag}: {err}"
            );
        }
    }
}

#[test]
fn a_scenario_file_path_runs_and_a_bad_file_is_named() {
    let dir = std::env::temp_dir().join(format!("pressure-lab-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The committed file, as a user would copy and edit it (the built-in text is minified).
    let json = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/nfsd-loopback.json"),
    )
    .unwrap();
    let good = dir.join("mine.json");
    std::fs::write(&good, &json).unwrap();
    let (code, out, _) = cli(&[
        "run",
        good.to_str().unwrap(),
        "--json",
        "--set",
        "nfsd_less_throttle=off",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["outcome"], "deadlocked");
    let last = v["verdicts"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "deadlocked");
    assert!(last["detail"]["chain"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l.as_str().unwrap().contains("nfsd")));
    let bad = dir.join("bad.json");
    std::fs::write(&bad, json.replace("\"mib\": 1024", "\"mib\": 1")).unwrap();
    let (code, _, err) = cli(&["run", bad.to_str().unwrap(), "--json"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("zones[0].mib") && err.contains("16..="),
        "{err}"
    );
    // Too large, refused after reading one byte past the limit; not text.
    let big = dir.join("big.json");
    std::fs::write(&big, " ".repeat(300_000)).unwrap();
    let (code, _, err) = cli(&["run", big.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("more than 262144 bytes"), "{err}");
    let binary = dir.join("binary.json");
    std::fs::write(&binary, [0xff, 0xfe, b'{', b'}']).unwrap();
    let (code, _, err) = cli(&["run", binary.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("not UTF-8 text"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A file with no size to check first (a device, a pipe) is read through the same limit:
/// it ends with a message, not a read that never stops.
#[cfg(unix)]
#[test]
fn an_endless_file_is_refused_at_the_limit() {
    let (code, out, err) = cli(&["run", "/dev/zero"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("/dev/zero: more than 262144 bytes"), "{err}");
}
