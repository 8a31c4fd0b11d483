//! Command-line interface (native only). The JSON shapes printed here are a contract
//! other tools rely on (issue "The kernel model", CLI section).

use std::time::Instant;

use clap::{Parser, Subcommand};
use pressure_lab::report::{self, RunSummary};
use pressure_lab::scenario::{self, Scenario};
use pressure_lab::sim::policy::{self, knob_specs, Knobs};
use pressure_lab::sim::watermarks::{
    setup_per_zone_wmarks, WatermarkFormula, ZoneSize, WATERMARK_SCALE_FACTOR_MAX,
};
use serde_json::json;

/// `println!` that ends the program quietly when stdout is closed (`… | head`), as Unix
/// tools do, instead of panicking on a broken pipe.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

#[derive(Parser)]
#[command(
    name = "pressure-lab",
    about = "Linux memory allocation under pressure, simulated"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario (built-in name or path to a JSON file) and print its summary.
    Run {
        #[command(flatten)]
        run: RunArgs,
        /// Simulated seconds (default: the scenario's duration).
        #[arg(long, allow_negative_numbers = true)]
        seconds: Option<u64>,
        #[arg(long)]
        json: bool,
    },
    /// Print min/low/high per zone as the kernel computes them.
    Watermarks {
        /// Managed pages per zone, comma-separated (all lowmem).
        #[arg(
            long,
            value_delimiter = ',',
            required = true,
            allow_negative_numbers = true
        )]
        managed_pages: Vec<u64>,
        #[arg(long, allow_negative_numbers = true)]
        min_free_kbytes: u64,
        #[arg(long, default_value_t = 10, allow_negative_numbers = true)]
        watermark_scale_factor: u64,
        #[arg(long, default_value = "classic")]
        formula: String,
        #[arg(long)]
        json: bool,
    },
    /// List built-in scenarios, presets and knobs.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Every built-in scenario under every preset: outcome and key metrics.
    Matrix {
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
        seed: u64,
    },
    /// Speed per built-in scenario, and RAM scaling from 1 GiB to 1 TiB.
    Bench,
    /// Print the golden-trace lines of a run (legend in src/trace.rs).
    Trace {
        #[command(flatten)]
        run: RunArgs,
        /// Print one line every this many simulated milliseconds.
        #[arg(long, default_value_t = 500, allow_negative_numbers = true)]
        every_ms: u64,
    },
}

/// What to run: the scenario, the policy and the seed (shared by `run` and `trace`).
#[derive(clap::Args)]
struct RunArgs {
    /// A built-in scenario name or the path of a scenario JSON file.
    scenario: String,
    #[arg(long)]
    preset: Option<String>,
    /// KNOB=VALUE, repeatable (on/off for on/off knobs).
    #[arg(long = "set")]
    set: Vec<String>,
    /// (Negative numbers are parsed as values, so the message names the flag.)
    #[arg(long, allow_negative_numbers = true)]
    seed: Option<u64>,
}

impl RunArgs {
    /// The validated scenario with the seed applied, and the resolved preset and knobs.
    fn resolve(&self) -> Result<(Scenario, String, Knobs), Bad> {
        let mut sc = load(&self.scenario)?;
        if let Some(seed) = self.seed {
            sc.config.seed = seed;
            sc.file.seed = seed;
        }
        let (preset, knobs) = resolve_knobs(&sc, self.preset.as_deref(), &self.set)?;
        Ok((sc, preset, knobs))
    }
}

/// Bad input: one line on stderr, exit status 2.
struct Bad(String);

/// `text` with its control characters (Unicode's Cc: C0, DEL, C1) written as `\u{..}`: a
/// value quoted in a message stays on one line and cannot drive the terminal it is
/// printed on. (The page shows messages as text, where neither matters.)
fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let control = |c: char| matches!(c as u32, 0..=0x1f | 0x7f..=0x9f);
    if !text.chars().any(control) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if control(c) {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let n = c as usize;
            out.push_str("\\u{");
            if n > 0xf {
                out.push(char::from(HEX[n >> 4]));
            }
            out.push(char::from(HEX[n & 0xf]));
            out.push('}');
        } else {
            out.push(c);
        }
    }
    out.into()
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return 0;
            }
            let text = e.to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or("bad arguments")
                .trim_start_matches("error: ");
            eprintln!("pressure-lab: {}", printable(first));
            return 2;
        }
    };
    match dispatch(cli.command) {
        Ok(()) => 0,
        Err(Bad(msg)) => {
            // One line whatever the input held (a file name or value with a newline).
            eprintln!("pressure-lab: {}", printable(&msg));
            2
        }
    }
}

fn dispatch(command: Command) -> Result<(), Bad> {
    match command {
        Command::Run {
            run: args,
            seconds,
            json,
        } => run(&args, seconds, json),
        Command::Watermarks {
            managed_pages,
            min_free_kbytes,
            watermark_scale_factor,
            formula,
            json,
        } => watermarks(
            &managed_pages,
            min_free_kbytes,
            watermark_scale_factor,
            &formula,
            json,
        ),
        Command::List { json } => list(json),
        Command::Matrix { json, seed } => matrix(json, seed),
        Command::Bench => bench(),
        Command::Trace {
            run: args,
            every_ms,
        } => trace(&args, every_ms),
    }
}

fn load(name_or_path: &str) -> Result<Scenario, Bad> {
    let json = match scenario::BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
        Some((_, j)) => j.to_string(),
        None => {
            if !std::path::Path::new(name_or_path).exists() {
                return Err(Bad(format!(
                    "scenario '{name_or_path}' is neither a built-in ({}) nor a file",
                    scenario::builtin_names().join(", ")
                )));
            }
            read_limited(name_or_path)?
        }
    };
    scenario::load_str(&json).map_err(|e| Bad(format!("{name_or_path}: {e}")))
}

/// A scenario file's text, refused past `SCENARIO_BYTES_MAX`. Read through a limit, not
/// after a look at the file's size: a pipe or a device (`/dev/zero`) has no size and
/// would be read forever.
fn read_limited(path: &str) -> Result<String, Bad> {
    use std::io::Read;
    let limit = scenario::SCENARIO_BYTES_MAX;
    let file = std::fs::File::open(path).map_err(|e| Bad(format!("{path}: {e}")))?;
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Bad(format!("{path}: {e}")))?;
    if bytes.len() > limit {
        return Err(Bad(format!(
            "{path}: more than {limit} bytes: too large for a scenario file"
        )));
    }
    String::from_utf8(bytes).map_err(|_| Bad(format!("{path}: not UTF-8 text")))
}

/// The scenario's knobs under `preset` (default: the scenario's own), then `--set`s.
fn resolve_knobs(
    sc: &Scenario,
    preset: Option<&str>,
    sets: &[String],
) -> Result<(String, Knobs), Bad> {
    let (name, mut knobs) = match preset {
        None => (sc.file.default_preset.clone(), sc.knobs.clone()),
        Some(p) => {
            let Some(pr) = policy::preset(p) else {
                return Err(Bad(format!(
                    "--preset: '{p}' is not a preset; presets are: {}",
                    policy::preset_names().join(", ")
                )));
            };
            let mut k = (pr.knobs)();
            // The scenario's own knob settings stay (e.g. nfsd_less_throttle=off).
            for (kn, v) in &sc.file.knobs {
                k.set(kn, v).map_err(|e| Bad(e.0))?;
            }
            (p.to_string(), k)
        }
    };
    for s in sets {
        let Some((k, v)) = s.split_once('=') else {
            return Err(Bad(format!("--set '{s}': expected KNOB=VALUE")));
        };
        knobs
            .set(k.trim(), v.trim())
            .map_err(|e| Bad(format!("--set: {e}")))?;
    }
    Ok((name, knobs))
}

fn run(args: &RunArgs, seconds: Option<u64>, json: bool) -> Result<(), Bad> {
    let (mut sc, preset_name, knobs) = args.resolve()?;
    if let Some(s) = seconds {
        if s == 0
            || s.checked_mul(1000)
                .is_none_or(|ms| ms > scenario::DURATION_MS_MAX)
        {
            return Err(Bad(format!(
                "--seconds: value {s} is not allowed; allowed: 1..={}",
                scenario::DURATION_MS_MAX / 1000
            )));
        }
        sc.config.duration_ticks = s * 1000;
    }
    let (_, summary) = report::run(&sc, knobs, &preset_name, None);
    if json {
        out!(
            "{}",
            serde_json::to_string_pretty(&summary).expect("summary serialises")
        );
    } else {
        print_human(&summary);
    }
    Ok(())
}

fn print_human(s: &RunSummary) {
    out!(
        "{} under {} (seed {}): {} at {} ms",
        s.scenario,
        s.preset,
        s.seed,
        s.outcome,
        s.outcome_at_ms
    );
    for link in &s.chain {
        out!("  {link}");
    }
    let m = &s.metrics;
    out!(
        "  min free {} pages, reserve used {} pages, swapped out {} pages ({}/s), OOM kills {}",
        m.min_free_pages,
        m.reserve_pages_used_max,
        m.pages_swapped_out,
        m.swapout_pages_per_s,
        m.oom_kills
    );
    out!(
        "  max stack {} B ({} B in direct reclaim), throttled {} ms, trace {}",
        m.max_stack_bytes,
        m.max_stack_bytes_direct_reclaim,
        m.throttled_ms_total,
        s.trace_hash
    );
}

fn watermarks(managed: &[u64], mfk: u64, wsf: u64, formula: &str, json: bool) -> Result<(), Bad> {
    let formula = match formula {
        "classic" => WatermarkFormula::Classic,
        "scale-factor" => WatermarkFormula::ScaleFactor,
        other => {
            return Err(Bad(format!(
                "--formula: '{other}' is not allowed; use classic or scale-factor"
            )))
        }
    };
    if managed.is_empty()
        || managed.len() > scenario::ZONES_MAX
        || managed.iter().any(|&p| p == 0 || p > (1u64 << 40))
    {
        return Err(Bad(format!(
            "--managed-pages: give 1..={} zone sizes, each 1..=2^40 pages",
            scenario::ZONES_MAX
        )));
    }
    if mfk == 0 || mfk > 1 << 30 {
        return Err(Bad(format!(
            "--min-free-kbytes: value {mfk} is not allowed; allowed: 1..={}",
            1u64 << 30
        )));
    }
    if wsf == 0 || wsf > WATERMARK_SCALE_FACTOR_MAX {
        return Err(Bad(format!("--watermark-scale-factor: value {wsf} is not allowed; allowed: 1..={WATERMARK_SCALE_FACTOR_MAX}")));
    }
    let zones: Vec<ZoneSize> = managed
        .iter()
        .map(|&p| ZoneSize {
            managed_pages: p,
            highmem: false,
        })
        .collect();
    let w = setup_per_zone_wmarks(&zones, mfk, formula, wsf);
    let rows: Vec<_> = managed
        .iter()
        .zip(&w)
        .map(|(p, w)| json!({"managed_pages": p, "min": w.min(), "low": w.low(), "high": w.high()}))
        .collect();
    let out = json!({"formula": if formula == WatermarkFormula::Classic { "classic" } else { "scale-factor" }, "min_free_kbytes": mfk, "watermark_scale_factor": wsf, "zones": rows});
    if json {
        out!(
            "{}",
            serde_json::to_string_pretty(&out).expect("serialises")
        );
    } else {
        for (p, w) in managed.iter().zip(&w) {
            out!(
                "managed {p:>10}  min {:>8}  low {:>8}  high {:>8}",
                w.min(),
                w.low(),
                w.high()
            );
        }
    }
    Ok(())
}

fn list(json: bool) -> Result<(), Bad> {
    let scenarios: Vec<_> = scenario::BUILTIN
        .iter()
        .map(|(n, _)| {
            let f = scenario::builtin(n).expect("built-in");
            json!({"name": n, "title": f.title, "default_preset": f.default_preset})
        })
        .collect();
    let presets: Vec<_> = policy::PRESETS
        .iter()
        .map(|p| json!({"name": p.name, "why": p.why, "knobs": (p.knobs)()}))
        .collect();
    let knobs: Vec<_> = knob_specs()
        .into_iter()
        .map(|k| json!({"name": k.name, "allowed": k.allowed, "values": k.values, "doc": k.doc}))
        .collect();
    let out = json!({"scenarios": scenarios, "presets": presets, "knobs": knobs});
    if json {
        out!(
            "{}",
            serde_json::to_string_pretty(&out).expect("serialises")
        );
    } else {
        out!("scenarios: {}", scenario::builtin_names().join(", "));
        out!("presets:   {}", policy::preset_names().join(", "));
    }
    Ok(())
}

fn matrix(json: bool, seed: u64) -> Result<(), Bad> {
    let mut rows = Vec::new();
    for (name, _) in scenario::BUILTIN {
        let mut sc = load(name)?;
        sc.config.seed = seed;
        for p in policy::PRESETS {
            let (pn, knobs) = resolve_knobs(&sc, Some(p.name), &[])?;
            let (_, s) = report::run(&sc, knobs, &pn, None);
            let m = &s.metrics;
            rows.push(json!({
                "scenario": name, "preset": p.name, "outcome": s.outcome, "outcome_at_ms": s.outcome_at_ms,
                "metrics": {"min_free_pages": m.min_free_pages, "reserve_pages_used_max": m.reserve_pages_used_max,
                    "swapout_pages_per_s": m.swapout_pages_per_s, "oom_kills": m.oom_kills, "max_stack_bytes": m.max_stack_bytes,
                    "max_stack_bytes_direct_reclaim": m.max_stack_bytes_direct_reclaim, "throttled_ms_total": m.throttled_ms_total,
                    "packets_dropped": m.packets_dropped, "swap_used_pages": m.swap_used_pages, "reclaim_file_writes": m.reclaim_file_writes}
            }));
            if !json {
                out!(
                    "{name:<30} {:<22} {:<14} {:>7} ms",
                    p.name,
                    s.outcome,
                    s.outcome_at_ms
                );
            }
        }
    }
    if json {
        out!(
            "{}",
            serde_json::to_string_pretty(&json!({"seed": seed, "rows": rows})).expect("serialises")
        );
    }
    Ok(())
}

/// Runs per measurement; the fastest counts (the others met a busy machine).
const BENCH_REPEATS: usize = 3;

/// The result of `f` and its fastest wall time in ms over `repeats` runs.
fn best_of<T>(repeats: usize, mut f: impl FnMut() -> T) -> (T, f64) {
    let mut best = f64::MAX;
    let mut last = None;
    for _ in 0..repeats.max(1) {
        let t0 = Instant::now();
        let value = f();
        best = best.min(t0.elapsed().as_secs_f64() * 1000.0);
        last = Some(value);
    }
    (last.expect("ran at least once"), best)
}

fn bench() -> Result<(), Bad> {
    out!(
        "{:<30} {:>12} {:>10} {:>10} {:>14}",
        "scenario",
        "simulated_ms",
        "wall_ms",
        "factor",
        "events_per_s"
    );
    for (name, _) in scenario::BUILTIN {
        let sc = load(name)?;
        let (s, wall) = best_of(BENCH_REPEATS, || {
            report::run(&sc, sc.knobs.clone(), &sc.file.default_preset, None).1
        });
        let factor = s.simulated_ms as f64 / wall.max(1e-6);
        let eps = s.metrics.events as f64 / (wall / 1000.0).max(1e-9);
        out!(
            "{name:<30} {:>12} {:>10.2} {:>9.0}x {:>14.0}",
            s.simulated_ms,
            wall,
            factor,
            eps
        );
    }
    // RAM scaling: each scenario at 1 GiB and 1 TiB of RAM, workload sizes and rates scaled
    // alike and the machine widened with them. Runs may still differ in simulated length
    // (the kernel's own size-dependent values, e.g. min_free_kbytes' 64 MiB clamp, do not
    // scale linearly), so the cost is compared per simulated millisecond, and each row
    // says how both runs ended: a ratio means most when the story is the same.
    out!(
        "{:<30} {:>16} {:>16} {:>7}  {}",
        "ram-scaling",
        "1 GiB µs/sim-ms",
        "1 TiB µs/sim-ms",
        "ratio",
        "outcome at 1 GiB / 1 TiB"
    );
    for (name, _) in scenario::BUILTIN {
        let base = scenario::builtin(name).expect("built-in");
        let base_mib: u64 = base.zones.iter().map(|z| z.mib).sum();
        let mut cost = Vec::new();
        let mut outcomes = Vec::new();
        for target_gib in [1u64, 1024] {
            // 1 TiB is the same machine 1024× wider (CPUs, I/O width, pools), not one CPU
            // facing a workload 1024× faster (ScenarioFile::widened).
            let factor = (target_gib * 1024).div_ceil(base_mib);
            let file = base.scaled(target_gib * 1024, base_mib).widened(factor);
            let Ok(sc) = scenario::validate(file) else {
                break;
            };
            let (s, wall) = best_of(BENCH_REPEATS, || {
                report::run(&sc, sc.knobs.clone(), &sc.file.default_preset, None).1
            });
            cost.push(wall * 1000.0 / s.simulated_ms.max(1) as f64);
            outcomes.push(format!("{} at {} ms", s.outcome, s.outcome_at_ms));
        }
        match cost.as_slice() {
            [small, large] => out!(
                "{name:<30} {small:>16.3} {large:>16.3} {:>6.2}x  {}",
                large / small,
                outcomes.join(" / ")
            ),
            _ => out!("{name:<30} (a zone would fall below 16 MiB when scaled)"),
        }
    }
    Ok(())
}

fn trace(args: &RunArgs, every_ms: u64) -> Result<(), Bad> {
    let (sc, preset_name, knobs) = args.resolve()?;
    if every_ms == 0 {
        return Err(Bad(
            "--every-ms: value 0 is not allowed; allowed: 1 and more".to_string(),
        ));
    }
    let mut sim = pressure_lab::sim::Sim::new(sc.config.clone(), knobs);
    out!(
        "{}",
        pressure_lab::trace::render(&mut sim, every_ms).trim_end()
    );
    let s = report::summary(&sim, &preset_name);
    print_human(&s);
    Ok(())
}
