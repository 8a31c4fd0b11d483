//! Goal: outcomes come from mechanisms, never from a scenario or preset name, and every
//! scenario file ships. Method: scan the core's sources for those names; compare the
//! `scenarios/` directory with the built-in list.

use std::path::Path;

use pressure_lab::scenario;
use pressure_lab::sim::policy;

fn core_sources() -> Vec<(String, String)> {
    let out = sources_in("crates/sim/src");
    assert!(out.len() > 10, "found the core's modules");
    out
}

/// The `.rs` files of `dir` (relative to the package), `policy.rs` (the presets' names)
/// left out, with their text.
fn sources_in(dir: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("policy.rs") {
            out.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
    out.sort();
    out
}

#[test]
fn no_scenario_or_preset_name_in_the_core() {
    for (path, text) in core_sources() {
        for name in scenario::builtin_names() {
            assert!(!text.contains(name), "{path} mentions scenario {name}");
        }
        for name in policy::preset_names() {
            assert!(
                !text.contains(&format!("\"{name}\"")),
                "{path} mentions preset {name}"
            );
        }
    }
}

#[test]
fn the_core_touches_no_clock_io_or_hash_order() {
    // The recording too: a seek replays it, and must land on the same numbers every time.
    let record = sources_in("crates/record/src");
    assert!(record.len() >= 3, "found the recording's modules");
    // And the kernel log it writes.
    let klog = sources_in("crates/klog/src");
    assert_eq!(klog.len(), 1, "found the kernel log");
    for (path, text) in core_sources().into_iter().chain(record).chain(klog) {
        // Comments may name what is banned (to say why); code may not use it.
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let text = code;
        for banned in [
            "std::time",
            "HashMap",
            "HashSet",
            "std::fs",
            "std::io",
            "thread_rng",
            "web_sys",
            "yew",
        ] {
            assert!(!text.contains(banned), "{path} uses {banned}");
        }
    }
}

#[test]
fn every_scenario_file_is_built_in() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .to_string()
        })
        .collect();
    files.sort();
    let mut built_in: Vec<String> = scenario::builtin_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    built_in.sort();
    assert_eq!(files, built_in);
}

#[test]
fn built_in_texts_are_the_committed_files_minified() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    for (name, text) in scenario::BUILTIN {
        let file = std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap();
        let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
        assert_eq!(parse(text), parse(&file), "{name}");
        assert!(
            text.len() < file.len() && !text.contains("\n "),
            "{name} is minified"
        );
    }
}
