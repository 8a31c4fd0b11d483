//! Scenario files: versioned JSON, unknown fields rejected, every value range-checked,
//! every rejection naming the field path, the value and what is allowed. A file becomes a
//! [`Config`] (the core's immutable input) plus its teaching text.
//!
//! Sizes are in MiB and rates in MiB/s because that is how people describe machines;
//! the core works in 4 KiB pages (1 MiB = 256 pages).

use serde::{Deserialize, Serialize};

use crate::sim::config::{
    Config, DeviceConfig, DeviceKind, NetProtocol, NetTraffic, Op, PoolConfig, PoolElement,
    SwapConfig, TaskConfig, TaskKind, ZoneConfig,
};
use crate::sim::gfp::Gfp;
use crate::sim::policy::{self, Knobs};
use crate::sim::stack::{ExtraDepth, StackBase};

pub const SCENARIO_VERSION: u32 = 1;
pub const PAGES_PER_MIB: u64 = 256;

/// Hard limits: no file can hang the browser or exhaust its memory.
pub const ZONES_MAX: usize = 4;
pub const TASKS_MAX: usize = 64;
pub const DEVICES_MAX: usize = 16;
pub use crate::sim::state::POOLS_MAX;
pub const OPS_MAX: usize = 64;
pub const CHAPTERS_MAX: usize = 12;
pub const TEXT_BYTES_MAX: usize = 4000;
/// Names of zones, pools, devices and tasks (lane labels, chain nodes).
pub const NAME_BYTES_MAX: usize = 32;
/// 1 TiB of RAM in all zones.
pub const RAM_MIB_MAX: u64 = 1 << 20;
pub const DURATION_MS_MAX: u64 = 600_000;
/// Tasks × `duration_ms` at most: a run's cost grows with both (every task may reclaim in
/// every tick), and 64 tasks for 600 s took 20–45 s natively in a fuzzed scenario. This
/// bound keeps the worst file found under about 10 s natively, and still admits the
/// longest built-in edited to 600 s (swap-over-nbd: 12 tasks, 7.2 M task-ms).
pub const TASK_MS_MAX: u64 = 8_000_000;
/// `parallelism` at most: 1 GiB scaled to the 1 TiB RAM limit.
pub const PARALLELISM_MAX: u64 = 1 << 10;
pub const RATE_MIB_PER_S_MAX: u64 = 1 << 24;
pub const SIZE_MIB_MAX: u64 = 64 << 20;
pub const POOL_MIN_NR_MAX: u64 = 1 << 20;
/// SLUB's MAX_PARTIAL (mm/slub.c): the most partial slabs a node keeps.
pub const EMPTY_SLABS_KEPT_MAX: u64 = 10;
/// One slab's worth: the low end of what SLUB keeps (docs/scenarios.md, dm-crypt-swap).
pub const EMPTY_SLABS_KEPT_DEFAULT: u64 = 1;
pub const SCENARIO_BYTES_MAX: usize = 256 * 1024;

/// Built-in scenarios, embedded in the binary (`scenarios/*.json` as build.rs minified
/// them): the one list the CLI, UI and tests read.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "watermarks-101",
        include_str!(concat!(env!("OUT_DIR"), "/watermarks-101.json")),
    ),
    (
        "dirty-throttling-101",
        include_str!(concat!(env!("OUT_DIR"), "/dirty-throttling-101.json")),
    ),
    (
        "dm-crypt-swap",
        include_str!(concat!(env!("OUT_DIR"), "/dm-crypt-swap.json")),
    ),
    (
        "oom-victim-mempool",
        include_str!(concat!(env!("OUT_DIR"), "/oom-victim-mempool.json")),
    ),
    (
        "swap-over-nbd",
        include_str!(concat!(env!("OUT_DIR"), "/swap-over-nbd.json")),
    ),
    (
        "swap-over-nfs",
        include_str!(concat!(env!("OUT_DIR"), "/swap-over-nfs.json")),
    ),
    (
        "direct-reclaim-writepage-xfs",
        include_str!(concat!(
            env!("OUT_DIR"),
            "/direct-reclaim-writepage-xfs.json"
        )),
    ),
    (
        "nfsd-loopback",
        include_str!(concat!(env!("OUT_DIR"), "/nfsd-loopback.json")),
    ),
];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub version: u32,
    pub name: String,
    pub title: String,
    pub summary: String,
    #[serde(default)]
    pub seed_thread: Option<String>,
    #[serde(default)]
    pub kernel_functions: Vec<String>,
    #[serde(default)]
    pub what_to_watch: Vec<String>,
    #[serde(default)]
    pub caveats: Vec<String>,
    #[serde(default)]
    pub chapters: Vec<Chapter>,
    pub default_preset: String,
    /// Knob values the scenario sets on top of its preset (`"nfsd_less_throttle": "off"`).
    #[serde(default)]
    pub knobs: std::collections::BTreeMap<String, String>,
    pub seed: u64,
    pub duration_ms: u64,
    pub stall_window_ms: u64,
    #[serde(default = "default_hung_task_ms")]
    pub hung_task_timeout_ms: u64,
    /// How many CPUs each modelled thread, and how many request queues each modelled
    /// block device, stand for (1: one each). A scenario scaled up N× in RAM and workload
    /// rates ([`ScenarioFile::scaled`]) is a machine with N× the CPUs and I/O width, so
    /// reclaim batches, scan budgets and request sizes scale with it instead of one CPU
    /// and one queue falling ever further behind (sim `Config::parallelism`).
    #[serde(default = "default_parallelism")]
    pub parallelism: u64,
    pub zones: Vec<ZoneFile>,
    #[serde(default)]
    pub devices: Vec<DeviceFile>,
    #[serde(default)]
    pub pools: Vec<PoolFile>,
    #[serde(default)]
    pub swap: Option<SwapFile>,
    #[serde(default)]
    pub net_traffic: Option<NetTrafficFile>,
    pub tasks: Vec<TaskFile>,
    #[serde(default)]
    pub stack_extra: Option<StackExtraFile>,
}

fn default_hung_task_ms() -> u64 {
    120_000
}

fn default_parallelism() -> u64 {
    1
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chapter {
    pub title: String,
    pub text: String,
    /// Simulated time the chapter starts at…
    #[serde(default)]
    pub at_ms: Option<u64>,
    /// …or the first event of this kind (`sleep`, `oom_kill`, `swap_out`, …), optionally
    /// for a named task and kernel function.
    #[serde(default)]
    pub on_event: Option<EventTrigger>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventTrigger {
    pub kind: String,
    #[serde(default)]
    pub task: Option<String>,
    #[serde(default)]
    pub function: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneFile {
    pub name: String,
    pub mib: u64,
    #[serde(default)]
    pub highmem: bool,
    #[serde(default)]
    pub file_clean_mib: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "kebab-case")]
pub enum DeviceKindFile {
    Disk {
        bandwidth_mib_per_s: u64,
        latency_ms: u64,
    },
    DmCrypt {
        lower: String,
        io_pool: String,
        crypt_bio_pool: String,
        page_pool: String,
        encrypt_mib_per_s: u64,
    },
    Nbd(NetDeviceFile),
    Nfs(NetDeviceFile),
    NfsLoopback {
        server_fs: String,
    },
}

/// Swap over the network (NBD or NFS): the link and the socket's memory behaviour.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetDeviceFile {
    pub bandwidth_mib_per_s: u64,
    pub rtt_ms: u64,
    pub rto_ms: u64,
    /// Socket-buffer pages per page sent, per mille (1000: the data is copied).
    pub tx_permille: u64,
    pub sndbuf_kib: u64,
    pub rx_pages_per_reply: u64,
}

/// A device: the common fields here, the kind's own fields in [`DeviceKindFile`], which
/// rejects unknown fields (serde's `deny_unknown_fields` cannot sit on a struct with a
/// flattened field, so the check lives on the inner enum).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceFile {
    pub name: String,
    #[serde(flatten)]
    pub kind: DeviceKindFile,
    #[serde(default = "default_nr_requests")]
    pub nr_requests: u64,
    #[serde(default = "default_request_pages")]
    pub request_pages: u64,
}

fn default_nr_requests() -> u64 {
    128
}
/// `max_sectors_kb` = 512 KiB: the block layer merges contiguous bios up to this size.
fn default_request_pages() -> u64 {
    128
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolFile {
    pub name: String,
    pub min_nr: u64,
    /// `"page"` or `"slab"`.
    pub element: String,
    #[serde(default)]
    pub objs_per_slab: Option<u64>,
    /// Slab pools: how many slabs' worth of free objects the cache keeps before it frees
    /// empty slabs (0..=10, SLUB's MAX_PARTIAL; absent = 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty_slabs_kept: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwapFile {
    pub device: String,
    pub mib: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetTrafficFile {
    pub rx_mib_per_s: u64,
    pub hold_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, tag = "op", rename_all = "snake_case")]
pub enum OpFile {
    TouchAnon {
        mib: u64,
        mib_per_s: u64,
    },
    WriteFile {
        device: String,
        mib: u64,
        mib_per_s: u64,
    },
    /// A syscall allocating pages with an explicit mask (`GFP_KERNEL`, `GFP_NOFS`, `GFP_NOIO`, `GFP_ATOMIC`).
    KernelAlloc {
        pages: u64,
        pages_per_s: u64,
        gfp: String,
    },
    /// `count` reads through a dm device, each split into `clones` clones.
    DmRead {
        device: String,
        clones: u64,
        count: u64,
    },
    Sleep {
        ms: u64,
    },
    /// A struct variant with no fields, not a unit variant: serde ignores unknown fields
    /// of an internally tagged unit variant even under deny_unknown_fields.
    FreeAnon {},
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskFile {
    pub name: String,
    /// `user` (default), `kswapd`, `flusher`, `kcryptd`, `nfsd`, `net_rx`, `oom_reaper`.
    #[serde(default = "default_kind")]
    pub kind: String,
    /// For kcryptd and nfsd: the device they serve.
    #[serde(default)]
    pub device: Option<String>,
    #[serde(default)]
    pub program: Vec<OpFile>,
    #[serde(default)]
    pub must_finish: bool,
    /// `page_fault` (default), `sys_select`, `sys_write`.
    #[serde(default)]
    pub stack: Option<String>,
    #[serde(default)]
    pub realtime: bool,
}

fn default_kind() -> String {
    "user".to_string()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackExtraFile {
    pub interrupt_permille: u64,
    pub interrupt_bytes: u64,
    pub btree_levels_max: u64,
    pub btree_level_bytes: u64,
}

/// A rejected scenario: the field path, the value and what is allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError(pub String);

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(path: &str, value: impl std::fmt::Display, allowed: &str) -> Result<T, ScenarioError> {
    Err(ScenarioError(format!(
        "{path}: value {value} is not allowed; {allowed}"
    )))
}

fn range(path: &str, value: u64, lo: u64, hi: u64) -> Result<u64, ScenarioError> {
    if lo <= value && value <= hi {
        Ok(value)
    } else {
        err(path, value, &format!("allowed: {lo}..={hi}"))
    }
}

fn text(path: &str, value: &str, max: usize) -> Result<(), ScenarioError> {
    if value.len() > max {
        return err(
            path,
            format!("of {} bytes", value.len()),
            &format!("at most {max} bytes"),
        );
    }
    Ok(())
}

/// The name of a zone, pool, device or task: what the lanes, gauges, chains and
/// cross-references show, so 1..=32 bytes of printable text, unique within its list.
fn object_name(path: &str, value: &str, earlier: &[&str]) -> Result<(), ScenarioError> {
    text(path, value, NAME_BYTES_MAX)?;
    // Byte tests, not Unicode tables: a name is shown as given, so only blank names and
    // ASCII control characters (which no label can show) are refused.
    if value.bytes().all(|b| b == b' ') || value.bytes().any(|b| b < 0x20 || b == 0x7f) {
        // Quoted as given: the CLI escapes control characters for the terminal, and a
        // `{:?}` here would bring str's Debug and its Unicode tables into the page.
        return err(
            path,
            format!("'{value}'"),
            &format!("a name is 1..={NAME_BYTES_MAX} bytes of printable text, not blank"),
        );
    }
    if earlier.contains(&value) {
        return err(
            path,
            format!("'{value}'"),
            "names must be unique in their list",
        );
    }
    Ok(())
}

/// Fields only some kinds of task have are refused on the others, not ignored: a device
/// on a task that serves none, a stack base on a kernel thread. Natively only, like
/// `check_chapter_triggers`: the browser's files are built-ins with numeric edits.
#[cfg(not(target_arch = "wasm32"))]
fn check_task_fields(file: &ScenarioFile) -> Result<(), ScenarioError> {
    for (i, t) in file.tasks.iter().enumerate() {
        if let (Some(d), false) = (&t.device, matches!(t.kind.as_str(), "kcryptd" | "nfsd")) {
            return err(
                &format!("tasks[{i}].device"),
                format!("'{d}'"),
                "only kcryptd and nfsd name a device",
            );
        }
        if let (Some(st), false) = (&t.stack, t.kind == "user") {
            return err(
                &format!("tasks[{i}].stack"),
                format!("'{st}'"),
                "only user tasks have a stack base",
            );
        }
    }
    Ok(())
}

/// A chapter must be able to start: on an event kind the model emits, for a task the
/// scenario has and a kernel function events of that kind name — a misspelt trigger would
/// otherwise leave its chapter silently unreached. A time may lie past the end of the run
/// (editing `duration_ms` shortens a run without breaking its chapters).
#[cfg(not(target_arch = "wasm32"))]
fn check_chapter_triggers(file: &ScenarioFile) -> Result<(), ScenarioError> {
    use crate::sim::event::Event;
    let kinds = Event::kinds();
    for (i, c) in file.chapters.iter().enumerate() {
        let path = format!("chapters[{i}]");
        if let Some(at) = c.at_ms {
            range(&format!("{path}.at_ms"), at, 0, DURATION_MS_MAX)?;
        }
        let Some(on) = &c.on_event else { continue };
        if !kinds.contains(&on.kind.as_str()) {
            return err(
                &format!("{path}.on_event.kind"),
                format!("'{}'", on.kind),
                &format!("must be one of: {}", kinds.join(", ")),
            );
        }
        if let Some(task) = &on.task {
            if !file.tasks.iter().any(|t| &t.name == task) {
                let names: Vec<&str> = file.tasks.iter().map(|t| t.name.as_str()).collect();
                return err(
                    &format!("{path}.on_event.task"),
                    format!("'{task}'"),
                    &format!("must name one of: {}", names.join(", ")),
                );
            }
        }
        if let Some(function) = &on.function {
            let functions = Event::functions_of_kind(&on.kind);
            if !functions.contains(&function.as_str()) {
                return err(
                    &format!("{path}.on_event.function"),
                    format!("'{function}'"),
                    &format!("{} events name one of: {}", on.kind, functions.join(", ")),
                );
            }
        }
    }
    Ok(())
}

/// Parses JSON text into a [`ScenarioFile`] with the failing field's path in the message.
pub fn parse(json: &str) -> Result<ScenarioFile, ScenarioError> {
    if json.len() > SCENARIO_BYTES_MAX {
        return err(
            "scenario",
            format!("of {} bytes", json.len()),
            &format!("a scenario file is at most {SCENARIO_BYTES_MAX} bytes"),
        );
    }
    parse_with_paths(json)
}

/// serde with the failing field's path (serde_path_to_error), as files need.
#[cfg(not(target_arch = "wasm32"))]
fn parse_with_paths(json: &str) -> Result<ScenarioFile, ScenarioError> {
    let de = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.inner().to_string();
        let mut path = e.path().to_string();
        if path == "." {
            path = "scenario".to_string();
        } else if let Some(field) = field_in_tagged_object(json, e.path(), &inner) {
            path = format!("{path}.{field}");
        }
        ScenarioError(format!("{path}: {inner}"))
    })
}

/// The browser parses only built-in scenarios (checked natively by the tests) and their
/// numeric parameter edits, which keep every field's type: a parse error cannot carry a
/// path worth the ~6 KB of gzipped .wasm that path tracking costs. Range errors, the
/// ones an edit can cause, come from `validate` with their paths on both builds.
#[cfg(target_arch = "wasm32")]
fn parse_with_paths(json: &str) -> Result<ScenarioFile, ScenarioError> {
    serde_json::from_str(json).map_err(|e| ScenarioError(format!("scenario: {e}")))
}

/// serde follows no path into an internally tagged enum (a device's `kind`, an op's `op`):
/// it buffers the object first, so a wrong value inside stops the path at the object
/// (`devices[0]: invalid type: null, expected u64`). The field is the one whose value,
/// read as the expected type on its own, fails with the same message; `None` unless
/// exactly one does. Native only, with `parse_with_paths`.
#[cfg(not(target_arch = "wasm32"))]
fn field_in_tagged_object(json: &str, at: &serde_path_to_error::Path, msg: &str) -> Option<String> {
    use serde_path_to_error::Segment;
    let core = msg.split(" at line ").next()?;
    let fails_alike = |v: &serde_json::Value| -> bool {
        let e = if core.ends_with("expected u64") {
            serde_json::from_value::<u64>(v.clone()).err()
        } else if core.ends_with("expected a string") {
            serde_json::from_value::<String>(v.clone()).err()
        } else if core.ends_with("expected a boolean") {
            serde_json::from_value::<bool>(v.clone()).err()
        } else {
            None
        };
        e.is_some_and(|e| e.to_string() == core)
    };
    let doc: serde_json::Value = serde_json::from_str(json).ok()?;
    let mut node = &doc;
    for seg in at.iter() {
        node = match seg {
            Segment::Seq { index } => node.get(*index)?,
            Segment::Map { key } => node.get(key)?,
            _ => return None,
        };
    }
    let mut wrong = node.as_object()?.iter().filter(|(_, v)| fails_alike(v));
    match (wrong.next(), wrong.next()) {
        (Some((field, _)), None) => Some(field.clone()),
        _ => None,
    }
}

pub fn builtin(name: &str) -> Option<ScenarioFile> {
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, json)| parse(json).expect("built-in scenarios parse (tested)"))
}

pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}

/// A validated scenario: the core's config plus the text and policy defaults.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub file: ScenarioFile,
    pub config: Config,
    /// The scenario's default knobs: its preset plus its own knob overrides.
    pub knobs: Knobs,
}

fn find(path: &str, names: &[&str], name: &str) -> Result<usize, ScenarioError> {
    names.iter().position(|n| *n == name).map_or_else(
        || {
            let allowed = if names.is_empty() {
                "nothing of that kind is declared".to_string()
            } else {
                format!("must name one of: {}", names.join(", "))
            };
            err(path, format!("'{name}'"), &allowed)
        },
        Ok,
    )
}

fn mib_pages(path: &str, mib: u64, max: u64) -> Result<u64, ScenarioError> {
    Ok(range(path, mib, 0, max)? * PAGES_PER_MIB)
}

fn rate_pages(path: &str, mib_per_s: u64) -> Result<u64, ScenarioError> {
    Ok(range(path, mib_per_s, 1, RATE_MIB_PER_S_MAX)? * PAGES_PER_MIB)
}

fn parse_gfp(path: &str, s: &str) -> Result<Gfp, ScenarioError> {
    Ok(match s {
        "GFP_KERNEL" => Gfp::KERNEL,
        "GFP_NOFS" => Gfp::NOFS,
        "GFP_NOIO" => Gfp::NOIO,
        "GFP_ATOMIC" => Gfp::ATOMIC_MASK,
        "GFP_NOWAIT" => Gfp::NOWAIT,
        _ => {
            return err(
                path,
                format!("'{s}'"),
                "allowed: GFP_KERNEL, GFP_NOFS, GFP_NOIO, GFP_ATOMIC, GFP_NOWAIT",
            )
        }
    })
}

/// Checks every field and builds the run's [`Config`] and default knobs.
pub fn validate(file: ScenarioFile) -> Result<Scenario, ScenarioError> {
    if file.version != SCENARIO_VERSION {
        return err(
            "version",
            file.version,
            &format!("this build reads version {SCENARIO_VERSION}"),
        );
    }
    text("name", &file.name, 64)?;
    if file.name.is_empty()
        || !file
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        return err(
            "name",
            format!("'{}'", file.name),
            "use 1-64 letters, digits, '-', '_' or '.'",
        );
    }
    text("title", &file.title, 200)?;
    text("summary", &file.summary, TEXT_BYTES_MAX)?;
    for (i, c) in file.chapters.iter().enumerate() {
        text(&format!("chapters[{i}].text"), &c.text, TEXT_BYTES_MAX)?;
        if c.at_ms.is_none() == c.on_event.is_none() {
            return err(
                &format!("chapters[{i}]"),
                "with neither or both of at_ms and on_event",
                "give exactly one of at_ms or on_event",
            );
        }
    }
    if file.chapters.len() > CHAPTERS_MAX {
        return err(
            "chapters",
            file.chapters.len(),
            &format!("at most {CHAPTERS_MAX} chapters"),
        );
    }
    let Some(preset) = policy::preset(&file.default_preset) else {
        return err(
            "default_preset",
            format!("'{}'", file.default_preset),
            &format!("must be one of: {}", policy::preset_names().join(", ")),
        );
    };
    let mut knobs = (preset.knobs)();
    for (k, v) in &file.knobs {
        knobs
            .set(k, v)
            .map_err(|e| ScenarioError(format!("knobs.{k}: {e}")))?;
    }
    let duration_ticks = range("duration_ms", file.duration_ms, 1, DURATION_MS_MAX)?;
    let stall_window_ticks = range(
        "stall_window_ms",
        file.stall_window_ms,
        100,
        DURATION_MS_MAX,
    )?;
    let hung_task_timeout_ticks = range(
        "hung_task_timeout_ms",
        file.hung_task_timeout_ms,
        1000,
        3_600_000,
    )?;
    let parallelism = range("parallelism", file.parallelism, 1, PARALLELISM_MAX)?;

    if file.zones.is_empty() || file.zones.len() > ZONES_MAX {
        return err(
            "zones",
            format!("with {} entries", file.zones.len()),
            &format!("1..={ZONES_MAX} zones"),
        );
    }
    let mut zones = Vec::new();
    let mut ram_mib = 0;
    for (i, z) in file.zones.iter().enumerate() {
        let p = format!("zones[{i}]");
        let earlier: Vec<&str> = file.zones[..i].iter().map(|z| z.name.as_str()).collect();
        object_name(&format!("{p}.name"), &z.name, &earlier)?;
        range(&format!("{p}.mib"), z.mib, 16, RAM_MIB_MAX)?;
        ram_mib += z.mib;
        if z.file_clean_mib > z.mib / 2 {
            return err(
                &format!("{p}.file_clean_mib"),
                z.file_clean_mib,
                &format!("at most half the zone ({} MiB)", z.mib / 2),
            );
        }
        zones.push(ZoneConfig {
            name: z.name.clone(),
            managed_pages: z.mib * PAGES_PER_MIB,
            highmem: z.highmem,
            file_clean_pages: z.file_clean_mib * PAGES_PER_MIB,
        });
    }
    if ram_mib > RAM_MIB_MAX {
        return err(
            "zones",
            format!("totalling {ram_mib} MiB"),
            &format!("at most {RAM_MIB_MAX} MiB (1 TiB) of RAM"),
        );
    }
    if zones.iter().all(|z| z.highmem) {
        return err(
            "zones",
            "with no lowmem zone",
            "at least one zone must have highmem false",
        );
    }

    if file.pools.len() > POOLS_MAX {
        return err(
            "pools",
            file.pools.len(),
            &format!("at most {POOLS_MAX} pools"),
        );
    }
    let pool_names: Vec<&str> = file.pools.iter().map(|p| p.name.as_str()).collect();
    let mut pools = Vec::new();
    for (i, p) in file.pools.iter().enumerate() {
        let path = format!("pools[{i}]");
        object_name(&format!("{path}.name"), &p.name, &pool_names[..i])?;
        let min_nr = range(&format!("{path}.min_nr"), p.min_nr, 1, POOL_MIN_NR_MAX)?;
        let element = match (p.element.as_str(), p.objs_per_slab) {
            ("page", None) => {
                if let Some(n) = p.empty_slabs_kept {
                    return err(
                        &format!("{path}.empty_slabs_kept"),
                        n,
                        "only slab pools have empty_slabs_kept",
                    );
                }
                PoolElement::Page
            }
            ("slab", Some(n)) => PoolElement::Slab {
                objs_per_slab: range(&format!("{path}.objs_per_slab"), n, 1, 512)?,
                empty_slabs_kept: range(
                    &format!("{path}.empty_slabs_kept"),
                    p.empty_slabs_kept.unwrap_or(EMPTY_SLABS_KEPT_DEFAULT),
                    0,
                    EMPTY_SLABS_KEPT_MAX,
                )?,
            },
            ("slab", None) => {
                return err(
                    &format!("{path}.objs_per_slab"),
                    "missing",
                    "a slab pool needs objs_per_slab (1..=512)",
                )
            }
            ("page", Some(n)) => {
                return err(
                    &format!("{path}.objs_per_slab"),
                    n,
                    "only slab pools have objs_per_slab",
                )
            }
            (other, _) => {
                return err(
                    &format!("{path}.element"),
                    format!("'{other}'"),
                    "allowed: page, slab",
                )
            }
        };
        pools.push(PoolConfig {
            name: p.name.clone(),
            min_nr,
            element,
        });
    }

    if file.devices.len() > DEVICES_MAX {
        return err(
            "devices",
            file.devices.len(),
            &format!("at most {DEVICES_MAX} devices"),
        );
    }
    let dev_names: Vec<&str> = file.devices.iter().map(|d| d.name.as_str()).collect();
    let mut devices = Vec::new();
    for (i, d) in file.devices.iter().enumerate() {
        let path = format!("devices[{i}]");
        object_name(&format!("{path}.name"), &d.name, &dev_names[..i])?;
        let nr_requests = range(&format!("{path}.nr_requests"), d.nr_requests, 16, 4096)?;
        // A device of a widened machine stands for `parallelism` queues side by side:
        // its requests carry that many times the pages (ScenarioFile::widened).
        let request_pages =
            range(&format!("{path}.request_pages"), d.request_pages, 1, 1024)? * parallelism;
        let net = |protocol, n: &NetDeviceFile| -> Result<DeviceKind, ScenarioError> {
            Ok(DeviceKind::Network {
                protocol,
                bandwidth_pages_per_s: rate_pages(
                    &format!("{path}.bandwidth_mib_per_s"),
                    n.bandwidth_mib_per_s,
                )?,
                rtt_ms: range(&format!("{path}.rtt_ms"), n.rtt_ms, 0, 10_000)?,
                rto_ms: range(&format!("{path}.rto_ms"), n.rto_ms, 1, 60_000)?,
                tx_permille: range(&format!("{path}.tx_permille"), n.tx_permille, 0, 2000)?,
                sndbuf_pages: range(&format!("{path}.sndbuf_kib"), n.sndbuf_kib, 64, 1 << 20)? / 4,
                rx_pages_per_reply: range(
                    &format!("{path}.rx_pages_per_reply"),
                    n.rx_pages_per_reply,
                    1,
                    64,
                )?,
            })
        };
        let kind = match &d.kind {
            DeviceKindFile::Disk {
                bandwidth_mib_per_s,
                latency_ms,
            } => DeviceKind::Disk {
                bandwidth_pages_per_s: rate_pages(
                    &format!("{path}.bandwidth_mib_per_s"),
                    *bandwidth_mib_per_s,
                )?,
                latency_ms: range(&format!("{path}.latency_ms"), *latency_ms, 0, 10_000)?,
            },
            DeviceKindFile::DmCrypt {
                lower,
                io_pool,
                crypt_bio_pool,
                page_pool,
                encrypt_mib_per_s,
            } => {
                let lower_idx = find(&format!("{path}.lower"), &dev_names, lower)?;
                if !matches!(file.devices[lower_idx].kind, DeviceKindFile::Disk { .. }) {
                    return err(
                        &format!("{path}.lower"),
                        format!("'{lower}'"),
                        "dm-crypt must sit on a disk device",
                    );
                }
                let page_pool_idx = find(&format!("{path}.page_pool"), &pool_names, page_pool)?;
                if pools[page_pool_idx].element != PoolElement::Page {
                    return err(
                        &format!("{path}.page_pool"),
                        format!("'{page_pool}'"),
                        "the ciphertext pool must be a page pool",
                    );
                }
                DeviceKind::DmCrypt {
                    lower: lower_idx,
                    io_pool: find(&format!("{path}.io_pool"), &pool_names, io_pool)?,
                    crypt_bio_pool: find(
                        &format!("{path}.crypt_bio_pool"),
                        &pool_names,
                        crypt_bio_pool,
                    )?,
                    page_pool: page_pool_idx,
                    encrypt_pages_per_s: rate_pages(
                        &format!("{path}.encrypt_mib_per_s"),
                        *encrypt_mib_per_s,
                    )?,
                }
            }
            DeviceKindFile::Nbd(n) => net(NetProtocol::Nbd, n)?,
            DeviceKindFile::Nfs(n) => net(NetProtocol::Nfs, n)?,
            DeviceKindFile::NfsLoopback { server_fs } => {
                let s = find(&format!("{path}.server_fs"), &dev_names, server_fs)?;
                if !matches!(file.devices[s].kind, DeviceKindFile::Disk { .. }) {
                    return err(
                        &format!("{path}.server_fs"),
                        format!("'{server_fs}'"),
                        "nfsd must export a filesystem on a disk device",
                    );
                }
                DeviceKind::NfsLoopback { server_fs: s }
            }
        };
        devices.push(DeviceConfig {
            name: d.name.clone(),
            kind,
            nr_requests,
            request_pages,
        });
    }

    let swap = match &file.swap {
        None => None,
        Some(s) => {
            let device = find("swap.device", &dev_names, &s.device)?;
            if matches!(devices[device].kind, DeviceKind::NfsLoopback { .. }) {
                return err(
                    "swap.device",
                    format!("'{}'", s.device),
                    "swap cannot live on a loopback NFS mount here",
                );
            }
            Some(SwapConfig {
                device,
                total_pages: mib_pages("swap.mib", s.mib, SIZE_MIB_MAX)?,
            })
        }
    };
    let net_traffic = match &file.net_traffic {
        None => None,
        Some(n) => Some(NetTraffic {
            rx_pages_per_s: range(
                "net_traffic.rx_mib_per_s",
                n.rx_mib_per_s,
                0,
                RATE_MIB_PER_S_MAX,
            )? * PAGES_PER_MIB,
            hold_ms: range("net_traffic.hold_ms", n.hold_ms, 1, 60_000)?,
        }),
    };

    if file.tasks.is_empty() || file.tasks.len() > TASKS_MAX {
        return err(
            "tasks",
            format!("with {} entries", file.tasks.len()),
            &format!("1..={TASKS_MAX} tasks"),
        );
    }
    let task_count = file.tasks.len() as u64;
    if task_count * duration_ticks > TASK_MS_MAX {
        return err(
            "duration_ms",
            duration_ticks,
            &format!(
                "with {task_count} tasks at most {} (tasks × duration_ms ≤ {TASK_MS_MAX})",
                TASK_MS_MAX / task_count
            ),
        );
    }
    let mut tasks = Vec::new();
    for (i, t) in file.tasks.iter().enumerate() {
        let path = format!("tasks[{i}]");
        let earlier: Vec<&str> = file.tasks[..i].iter().map(|t| t.name.as_str()).collect();
        object_name(&format!("{path}.name"), &t.name, &earlier)?;
        let device = |what: &str| -> Result<usize, ScenarioError> {
            let Some(d) = &t.device else {
                return err(
                    &format!("{path}.device"),
                    "missing",
                    &format!("a {what} task names the device it serves"),
                );
            };
            find(&format!("{path}.device"), &dev_names, d)
        };
        let kind = match t.kind.as_str() {
            "user" => {
                if t.program.len() > OPS_MAX {
                    return err(
                        &format!("{path}.program"),
                        t.program.len(),
                        &format!("at most {OPS_MAX} steps"),
                    );
                }
                let mut program = Vec::new();
                for (j, op) in t.program.iter().enumerate() {
                    let p = format!("{path}.program[{j}]");
                    program.push(match op {
                        OpFile::TouchAnon { mib, mib_per_s } => Op::TouchAnon {
                            pages: mib_pages(&format!("{p}.mib"), *mib, SIZE_MIB_MAX)?,
                            pages_per_s: rate_pages(&format!("{p}.mib_per_s"), *mib_per_s)?,
                        },
                        OpFile::WriteFile {
                            device,
                            mib,
                            mib_per_s,
                        } => {
                            let d = find(&format!("{p}.device"), &dev_names, device)?;
                            if !matches!(
                                devices[d].kind,
                                DeviceKind::Disk { .. } | DeviceKind::NfsLoopback { .. }
                            ) {
                                return err(
                                    &format!("{p}.device"),
                                    format!("'{device}'"),
                                    "files live on a disk or a loopback NFS mount",
                                );
                            }
                            Op::WriteFile {
                                device: d,
                                pages: mib_pages(&format!("{p}.mib"), *mib, SIZE_MIB_MAX)?,
                                pages_per_s: rate_pages(&format!("{p}.mib_per_s"), *mib_per_s)?,
                            }
                        }
                        OpFile::KernelAlloc {
                            pages,
                            pages_per_s,
                            gfp,
                        } => Op::KernelAlloc {
                            pages: range(
                                &format!("{p}.pages"),
                                *pages,
                                1,
                                SIZE_MIB_MAX * PAGES_PER_MIB,
                            )?,
                            pages_per_s: range(
                                &format!("{p}.pages_per_s"),
                                *pages_per_s,
                                1,
                                RATE_MIB_PER_S_MAX * PAGES_PER_MIB,
                            )?,
                            gfp: parse_gfp(&format!("{p}.gfp"), gfp)?,
                        },
                        OpFile::DmRead {
                            device,
                            clones,
                            count,
                        } => {
                            let d = find(&format!("{p}.device"), &dev_names, device)?;
                            if !matches!(devices[d].kind, DeviceKind::DmCrypt { .. }) {
                                return err(
                                    &format!("{p}.device"),
                                    format!("'{device}'"),
                                    "dm_read needs a dm-crypt device",
                                );
                            }
                            Op::DmRead {
                                device: d,
                                clones: range(&format!("{p}.clones"), *clones, 1, 4096)?,
                                count: range(&format!("{p}.count"), *count, 1, 1_000_000)?,
                            }
                        }
                        OpFile::Sleep { ms } => Op::Sleep {
                            ms: range(&format!("{p}.ms"), *ms, 1, DURATION_MS_MAX)?,
                        },
                        OpFile::FreeAnon {} => Op::FreeAnon,
                    });
                }
                TaskKind::User { program }
            }
            "kswapd" => TaskKind::Kswapd,
            "flusher" => TaskKind::Flusher,
            "kcryptd" => {
                let d = device("kcryptd")?;
                if !matches!(devices[d].kind, DeviceKind::DmCrypt { .. }) {
                    return err(
                        &format!("{path}.device"),
                        format!("'{}'", devices[d].name),
                        "kcryptd serves a dm-crypt device",
                    );
                }
                TaskKind::Kcryptd { device: d }
            }
            "nfsd" => {
                let d = device("nfsd")?;
                if !matches!(devices[d].kind, DeviceKind::NfsLoopback { .. }) {
                    return err(
                        &format!("{path}.device"),
                        format!("'{}'", devices[d].name),
                        "nfsd serves an nfs-loopback device",
                    );
                }
                TaskKind::Nfsd { device: d }
            }
            "net_rx" => TaskKind::NetRx,
            "oom_reaper" => TaskKind::OomReaper,
            other => {
                return err(
                    &format!("{path}.kind"),
                    format!("'{other}'"),
                    "allowed: user, kswapd, flusher, kcryptd, nfsd, net_rx, oom_reaper",
                )
            }
        };
        if !matches!(kind, TaskKind::User { .. }) && !t.program.is_empty() {
            return err(
                &format!("{path}.program"),
                "non-empty",
                "only user tasks have a program",
            );
        }
        let stack_base = match (t.stack.as_deref(), &kind) {
            (_, TaskKind::NetRx) => StackBase::Softirq,
            (_, k) if !matches!(k, TaskKind::User { .. }) => StackBase::Kthread,
            (None | Some("page_fault"), _) => StackBase::PageFault,
            (Some("sys_select"), _) => StackBase::SysSelect,
            (Some("sys_write"), _) => StackBase::SysWrite,
            (Some(other), _) => {
                return err(
                    &format!("{path}.stack"),
                    format!("'{other}'"),
                    "allowed: page_fault, sys_select, sys_write",
                )
            }
        };
        tasks.push(TaskConfig {
            name: t.name.clone(),
            kind,
            must_finish: t.must_finish,
            stack_base,
            realtime: t.realtime,
        });
    }
    // Every device that needs a worker has one, and each singleton kernel thread is unique.
    for (d, dev) in devices.iter().enumerate() {
        let needs = matches!(
            dev.kind,
            DeviceKind::DmCrypt { .. } | DeviceKind::NfsLoopback { .. }
        );
        let has = tasks.iter().any(|t| matches!(t.kind, TaskKind::Kcryptd { device } | TaskKind::Nfsd { device } if device == d));
        if needs && !has {
            return err(
                &format!("devices[{d}]"),
                format!("'{}'", dev.name),
                "a dm-crypt or nfs-loopback device needs a kcryptd or nfsd task serving it",
            );
        }
        if matches!(dev.kind, DeviceKind::Network { .. })
            && !tasks.iter().any(|t| matches!(t.kind, TaskKind::NetRx))
        {
            return err(
                &format!("devices[{d}]"),
                format!("'{}'", dev.name),
                "a network device needs a net_rx task",
            );
        }
    }
    for single in ["kswapd", "flusher", "net_rx", "oom_reaper"] {
        if file.tasks.iter().filter(|t| t.kind == single).count() > 1 {
            return err(
                "tasks",
                format!("with more than one {single}"),
                &format!("at most one {single} task"),
            );
        }
    }
    if !tasks.iter().any(|t| t.must_finish) {
        return err(
            "tasks",
            "with no must_finish task",
            "mark at least one task must_finish",
        );
    }
    let extra_depth = match &file.stack_extra {
        None => ExtraDepth::default(),
        Some(s) => ExtraDepth {
            interrupt_permille: range(
                "stack_extra.interrupt_permille",
                s.interrupt_permille,
                0,
                1000,
            )?,
            interrupt_bytes: range("stack_extra.interrupt_bytes", s.interrupt_bytes, 0, 8192)?,
            btree_levels_max: range("stack_extra.btree_levels_max", s.btree_levels_max, 0, 8)?,
            btree_level_bytes: range(
                "stack_extra.btree_level_bytes",
                s.btree_level_bytes,
                0,
                2048,
            )?,
        },
    };
    // Natively only, like `field_in_tagged_object`: the browser loads built-in scenarios
    // alone (checked by tests/it/scenarios.rs) and its edits are numbers, so the catalogue
    // of event kinds and functions would only add to the .wasm.
    #[cfg(not(target_arch = "wasm32"))]
    check_chapter_triggers(&file)?;
    #[cfg(not(target_arch = "wasm32"))]
    check_task_fields(&file)?;
    let roles = crate::sim::config::Roles::of(&tasks);
    let config = Config {
        name: file.name.clone(),
        seed: file.seed,
        duration_ticks,
        stall_window_ticks,
        hung_task_timeout_ticks,
        parallelism,
        zones,
        devices,
        pools,
        tasks,
        swap,
        net_traffic,
        extra_depth,
        roles,
    };
    Ok(Scenario {
        file,
        config,
        knobs,
    })
}

/// Loads a built-in by name or a file by path (native CLI) and validates it.
pub fn load_str(json: &str) -> Result<Scenario, ScenarioError> {
    validate(parse(json)?)
}

/// ZONE_DMA: a fixed 16 MiB on x86 (ISA DMA), not a share of RAM; `scaled` keeps it.
pub const FIXED_SIZE_ZONE: &str = "DMA";

impl ScenarioFile {
    /// Where each narration chapter starts, for the recording (a chapter with neither a
    /// time nor an event starts at 0).
    pub fn chapter_starts(&self) -> Vec<pressure_lab_record::recording::ChapterStart> {
        use pressure_lab_record::recording::ChapterStart;
        self.chapters
            .iter()
            .map(|c| match (c.at_ms, &c.on_event) {
                (Some(at), _) => ChapterStart::At(at),
                (None, Some(e)) => ChapterStart::OnEvent {
                    kind: e.kind.clone(),
                    task: e.task.clone(),
                    function: e.function.clone(),
                },
                (None, None) => ChapterStart::At(0),
            })
            .collect()
    }

    /// The same scenario with RAM and every memory size and rate scaled by `num/den`
    /// (the robustness check of the outcome matrix). Pool sizes stay fixed, as in the kernel,
    /// and so does ZONE_DMA: on x86 it is the first 16 MiB of physical memory whatever the
    /// RAM size. The RAM-sized zones (DMA32, Normal, HighMem) share the rest of the scaled
    /// total in proportion to their sizes, so total RAM scales by exactly `num/den`.
    pub fn scaled(&self, num: u64, den: u64) -> ScenarioFile {
        let s = |x: u64| (x * num / den).max(1);
        let mut out = self.clone();
        let fixed = |z: &ZoneFile| z.name == FIXED_SIZE_ZONE && self.zones.len() > 1;
        let total: u64 = self.zones.iter().map(|z| z.mib).sum();
        let fixed_mib: u64 = self.zones.iter().filter(|z| fixed(z)).map(|z| z.mib).sum();
        let ram_sized = total - fixed_mib;
        let ram_sized_scaled = s(total).saturating_sub(fixed_mib).max(1);
        for (z, orig) in out.zones.iter_mut().zip(&self.zones) {
            if fixed(orig) {
                continue;
            }
            z.mib = (orig.mib * ram_sized_scaled / ram_sized.max(1)).max(1);
            z.file_clean_mib = orig.file_clean_mib * ram_sized_scaled / ram_sized.max(1);
        }
        if let Some(sw) = &mut out.swap {
            sw.mib = s(sw.mib);
        }
        if let Some(n) = &mut out.net_traffic {
            n.rx_mib_per_s = n.rx_mib_per_s * num / den;
        }
        for t in &mut out.tasks {
            for op in &mut t.program {
                match op {
                    OpFile::TouchAnon { mib, mib_per_s }
                    | OpFile::WriteFile { mib, mib_per_s, .. } => {
                        *mib = s(*mib);
                        *mib_per_s = s(*mib_per_s);
                    }
                    OpFile::KernelAlloc { .. }
                    | OpFile::DmRead { .. }
                    | OpFile::Sleep { .. }
                    | OpFile::FreeAnon {} => {}
                }
            }
        }
        for d in &mut out.devices {
            match &mut d.kind {
                DeviceKindFile::Disk {
                    bandwidth_mib_per_s,
                    ..
                } => *bandwidth_mib_per_s = s(*bandwidth_mib_per_s),
                DeviceKindFile::DmCrypt {
                    encrypt_mib_per_s, ..
                } => *encrypt_mib_per_s = s(*encrypt_mib_per_s),
                DeviceKindFile::Nbd(n) | DeviceKindFile::Nfs(n) => {
                    n.bandwidth_mib_per_s = s(n.bandwidth_mib_per_s)
                }
                DeviceKindFile::NfsLoopback { .. } => {}
            }
        }
        out
    }

    /// The same machine `n`× wider: `n`× the CPUs and I/O width (`parallelism`) and `n`×
    /// each mempool's reserve (a device standing for `n` devices has `n` pools). With
    /// [`Self::scaled`] by the same factor, a run keeps its story at any size — the RAM
    /// benchmark's 1 TiB machine. Without it one modelled CPU reclaims for a workload `n`×
    /// faster and the run becomes another story (the matrix's halved/doubled RAM checks
    /// keep the CPUs and pools fixed on purpose: that is how the kernel sizes them).
    pub fn widened(&self, n: u64) -> ScenarioFile {
        let mut out = self.clone();
        out.parallelism = (self.parallelism * n).clamp(1, PARALLELISM_MAX);
        for p in &mut out.pools {
            p.min_nr = (p.min_nr * n).min(POOL_MIN_NR_MAX);
        }
        out
    }
}
