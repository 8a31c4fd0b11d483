//! The shareable URL: the address bar always holds the whole state, readable for the
//! common case and checked field by field when read back.
//!
//! ```text
//! ?v=7&s=dm-crypt-swap&p=linux-4.7&k=mempool_variant:neilbrown&t=12.5
//!  v     model version the link was made with        s    built-in scenario
//!  p     preset                                      k    knobs changed from the preset
//!  seed  seed (if not the scenario's)                t    time in seconds (ms precision)
//!  f     forks: TICK@knob:value,…                    cmp  compare panes: preset,preset,…
//!  e     edited scenario parameters (deflate + base64url, opaque here)
//!  task  selected task   ev  event-log filter        present, predict, embed, autoplay: 1
//!  speed ticks per frame                             loop  FROM-TO in seconds
//! ```
//!
//! Reading never fails: every bad field is reported with its name and what was wrong, and
//! replaced by the nearest valid value.

use crate::scenario;
use crate::sim::policy::{self, Knobs};

use super::recording::Fork;

/// The model version a link is made with. Bump it when the same link would show different
/// numbers (a changed model), so an old link says so instead of silently differing.
pub use crate::sim::MODEL_VERSION;
pub const DEFAULT_SCENARIO: &str = "watermarks-101";
/// Compare mode shows 2–4 panes.
pub const COMPARE_MAX: usize = 4;
/// Bytes of a query string read at most: a link that reproduces a screen is a few hundred
/// bytes (edits compressed); a fuzzed 2 MB one made half a million messages (400 MB).
pub const QUERY_BYTES_MAX: usize = 64 * 1024;
/// Forks a link carries at most (a class's live toggles are a handful; each is at most
/// about 50 bytes, so the forks of a link always fit in one).
pub const FORKS_MAX: usize = 1000;
/// Problems listed at most (the rest are counted); each is at most a few hundred bytes
/// plus the value it quotes, itself within the query's bound.
pub const PROBLEMS_MAX: usize = 20;
pub const SPEEDS: [u64; 5] = [1, 10, 100, 1000, 5000];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlState {
    pub version: u32,
    pub scenario: String,
    pub preset: String,
    pub knobs: Vec<(String, String)>,
    pub seed: Option<u64>,
    pub tick: u64,
    pub forks: Vec<Fork>,
    pub compare: Vec<String>,
    pub edits: Option<String>,
    pub task: Option<String>,
    pub event_filter: Option<String>,
    pub presenter: bool,
    pub predict: bool,
    pub embed: bool,
    pub autoplay: bool,
    pub speed: Option<u64>,
    pub loop_ticks: Option<(u64, u64)>,
}

impl UrlState {
    /// The state of a fresh page: the default scenario under its default preset.
    pub fn default_for(scenario_name: &str) -> UrlState {
        let preset = scenario::builtin(scenario_name)
            .map(|f| f.default_preset)
            .unwrap_or_else(|| "linux-4.7".to_string());
        UrlState {
            version: MODEL_VERSION,
            scenario: scenario_name.to_string(),
            preset,
            knobs: Vec::new(),
            seed: None,
            tick: 0,
            forks: Vec::new(),
            compare: Vec::new(),
            edits: None,
            task: None,
            event_filter: None,
            presenter: false,
            predict: false,
            embed: false,
            autoplay: false,
            speed: None,
            loop_ticks: None,
        }
    }
}

/// `12.5` for 12 500 ticks: seconds with at most three decimals, no trailing zeros.
pub fn format_seconds(tick: u64) -> String {
    let s = format!("{}.{:03}", tick / 1000, tick % 1000);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Seconds (`12.5`, `12`, `0.001`) to ticks; rejects negatives, junk and sub-ms digits.
pub fn parse_seconds(text: &str) -> Option<u64> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && frac.is_empty()
        || frac.len() > 3
        || !whole
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac_ms: u64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<3}").parse().ok()?
    };
    whole.checked_mul(1000)?.checked_add(frac_ms)
}

/// Percent-encodes a query value, keeping the characters that read well and are legal.
pub fn encode_component(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:,@/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` and `+` (a space in form encoding). Bad escapes are an error.
pub fn decode_component(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                // Two hex digits (from_str_radix alone would take "+A").
                let hex = bytes
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => out.push(b),
                    None => return Err(format!("bad %-escape in '{s}'")),
                }
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| format!("'{s}' is not UTF-8 text"))
}

/// Preset names contain `+`, which form decoding turns into a space: turn it back.
fn preset_name(raw: &str) -> String {
    raw.trim().replace(' ', "+")
}

/// The scenario's knobs under `preset` (the preset plus the scenario's own overrides).
pub fn knobs_for(scenario_name: &str, preset: &str) -> Option<Knobs> {
    let file = scenario::builtin(scenario_name)?;
    let mut knobs = (policy::preset(preset)?.knobs)();
    for (k, v) in &file.knobs {
        knobs.set(k, v).ok()?;
    }
    Some(knobs)
}

/// Reads a query string (with or without `?`). Returns the state and what was wrong.
pub fn parse(query: &str) -> (UrlState, Vec<String>) {
    let (st, errors) = parse_all(query);
    (st, bounded(errors))
}

/// The first [`PROBLEMS_MAX`] problems and a count of the rest.
fn bounded(mut errors: Vec<String>) -> Vec<String> {
    let more = errors.len().saturating_sub(PROBLEMS_MAX);
    errors.truncate(PROBLEMS_MAX);
    if more > 0 {
        errors.push(format!("… and {more} more problems"));
    }
    errors
}

fn parse_all(query: &str) -> (UrlState, Vec<String>) {
    let mut errors = Vec::new();
    let mut query = query.trim_start_matches('?');
    if query.len() > QUERY_BYTES_MAX {
        errors.push(format!(
            "the link's query is {} bytes; only the parameters in its first {QUERY_BYTES_MAX} are read",
            query.len()
        ));
        // Whole parameters only: a cut one would read as a different value.
        // (Cut at the last '&' that fits: an ASCII byte, so a char boundary.)
        let end = query.as_bytes()[..QUERY_BYTES_MAX]
            .iter()
            .rposition(|&b| b == b'&')
            .unwrap_or(0);
        query = &query[..end];
    }
    let mut fields: Vec<(String, String)> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match (decode_component(k), decode_component(v)) {
            (Ok(k), Ok(v)) => fields.push((k, v)),
            (Err(e), _) | (_, Err(e)) => errors.push(format!("ignored a malformed parameter: {e}")),
        }
    }
    let get = |name: &str| {
        fields
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };

    let scenario_name = match get("s") {
        Some(s) if scenario::builtin(&s).is_some() => s,
        Some(s) => {
            errors.push(format!(
                "s={s}: no such scenario (built-in: {}); showing {DEFAULT_SCENARIO}",
                scenario::builtin_names().join(", ")
            ));
            DEFAULT_SCENARIO.to_string()
        }
        None => DEFAULT_SCENARIO.to_string(),
    };
    let mut st = UrlState::default_for(&scenario_name);

    if let Some(v) = get("v") {
        match v.parse::<u32>() {
            Ok(n) if n == MODEL_VERSION => {}
            Ok(n) => errors.push(format!("v={n}: this link was made with model version {n}; this page runs model version {MODEL_VERSION}, so the numbers may differ from what the sender saw")),
            Err(_) => errors.push(format!("v={v}: the model version must be a number (this page runs version {MODEL_VERSION})")),
        }
    }
    if let Some(p) = get("p") {
        let p = preset_name(&p);
        if policy::preset(&p).is_some() {
            st.preset = p;
        } else {
            errors.push(format!(
                "p={p}: no such preset (presets: {}); using {}",
                policy::preset_names().join(", "),
                st.preset
            ));
        }
    }
    let mut scratch =
        knobs_for(&st.scenario, &st.preset).expect("built-in scenario and known preset");
    if let Some(k) = get("k") {
        for item in k.split(',').filter(|s| !s.is_empty()) {
            let Some((name, value)) = item.split_once(':') else {
                errors.push(format!("k: '{item}' is not knob:value; ignored"));
                continue;
            };
            match scratch.set(name, value) {
                Ok(()) => st.knobs.push((name.to_string(), value.to_string())),
                Err(e) => errors.push(format!("k: {e}; ignored")),
            }
        }
    }
    if let Some(s) = get("seed") {
        match s.parse::<u64>() {
            Ok(n) => st.seed = Some(n),
            Err(_) => errors.push(format!(
                "seed={s}: not a whole number; using the scenario's seed"
            )),
        }
    }
    if let Some(t) = get("t") {
        match parse_seconds(&t) {
            Some(tick) => st.tick = tick,
            None => errors.push(format!(
                "t={t}: not a time in seconds like 12.5; starting at 0"
            )),
        }
    }
    if let Some(f) = get("f") {
        for item in f.split(',').filter(|s| !s.is_empty()) {
            match parse_fork(item, &scratch) {
                Ok(_) if st.forks.len() == FORKS_MAX => {
                    errors.push(format!("f: at most {FORKS_MAX} forks; the rest ignored"));
                    break;
                }
                Ok(fork) => st.forks.push(fork),
                Err(e) => errors.push(format!("f: {e}; fork ignored")),
            }
        }
        st.forks.sort_by_key(|f| f.tick);
    }
    if let Some(c) = get("cmp") {
        for p in c.split(',').map(preset_name).filter(|s| !s.is_empty()) {
            if policy::preset(&p).is_none() {
                errors.push(format!("cmp: no such preset '{p}'; pane dropped"));
            } else if st.compare.contains(&p) {
                // Same scenario, same seed: a second pane would be a copy of the first.
                errors.push(format!(
                    "cmp: '{p}' given twice; panes compare different presets, the copy dropped"
                ));
            } else if st.compare.len() >= COMPARE_MAX {
                errors.push(format!("cmp: at most {COMPARE_MAX} panes; '{p}' dropped"));
            } else {
                st.compare.push(p);
            }
        }
    }
    st.edits = get("e").filter(|e| !e.is_empty());
    st.task = get("task").filter(|t| !t.is_empty());
    st.event_filter = get("ev").filter(|t| !t.is_empty());
    let flag = |name: &str, errors: &mut Vec<String>| match get(name).as_deref() {
        None | Some("0") => false,
        Some("1") | Some("") => true,
        Some(other) => {
            errors.push(format!("{name}={other}: use 1 or 0; ignored"));
            false
        }
    };
    st.presenter = flag("present", &mut errors);
    st.predict = flag("predict", &mut errors);
    st.embed = flag("embed", &mut errors);
    st.autoplay = flag("autoplay", &mut errors);
    if let Some(s) = get("speed") {
        match s.parse::<u64>() {
            Ok(n) if SPEEDS.contains(&n) => st.speed = Some(n),
            _ => errors.push(format!(
                "speed={s}: use 1, 10, 100, 1000 or 5000 ticks per frame; using 10"
            )),
        }
    }
    if let Some(l) = get("loop") {
        match l
            .split_once('-')
            .and_then(|(a, b)| Some((parse_seconds(a)?, parse_seconds(b)?)))
        {
            Some((a, b)) if a < b => st.loop_ticks = Some((a, b)),
            _ => errors.push(format!(
                "loop={l}: use FROM-TO in seconds, FROM < TO, like 2-10; no loop"
            )),
        }
    }
    const KNOWN: &[&str] = &[
        "v", "s", "p", "k", "seed", "t", "f", "cmp", "e", "task", "ev", "present", "predict",
        "embed", "autoplay", "speed", "loop",
    ];
    for (k, _) in &fields {
        if !KNOWN.contains(&k.as_str()) {
            errors.push(format!("unknown parameter '{k}' ignored"));
        }
    }
    // The state must write a link that is read back whole: the free-text fields, raw in
    // the query, may triple once percent-encoded.
    if format(&st).len() > QUERY_BYTES_MAX {
        errors.push("e, task and ev are too long once encoded; ignored".to_string());
        (st.edits, st.task, st.event_filter) = (None, None, None);
    }
    (st, errors)
}

fn parse_fork(item: &str, knobs: &Knobs) -> Result<Fork, String> {
    let (tick, rest) = item
        .split_once('@')
        .ok_or_else(|| format!("'{item}' is not TICK@knob:value"))?;
    let tick: u64 = tick
        .parse()
        .map_err(|_| format!("'{item}': the tick (ms) is not a whole number"))?;
    let (knob, value) = rest
        .split_once(':')
        .ok_or_else(|| format!("'{item}' is not TICK@knob:value"))?;
    knobs.clone().set(knob, value).map_err(|e| e.0)?;
    if tick == 0 {
        return Err(format!(
            "'{item}': a fork at 0 is a knob change; put it in k="
        ));
    }
    Ok(Fork {
        tick,
        knob: knob.to_string(),
        value: value.to_string(),
    })
}

/// Writes the query string (with `?`), leaving out what has its default value.
pub fn format(st: &UrlState) -> String {
    let mut parts = vec![
        format!("v={}", st.version),
        format!("s={}", encode_component(&st.scenario)),
        format!("p={}", encode_component(&st.preset)),
    ];
    if !st.knobs.is_empty() {
        let k: Vec<String> = st.knobs.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        parts.push(format!("k={}", encode_component(&k.join(","))));
    }
    if let Some(seed) = st.seed {
        parts.push(format!("seed={seed}"));
    }
    if !st.forks.is_empty() {
        let f: Vec<String> = st
            .forks
            .iter()
            .map(|f| format!("{}@{}:{}", f.tick, f.knob, f.value))
            .collect();
        parts.push(format!("f={}", encode_component(&f.join(","))));
    }
    if !st.compare.is_empty() {
        parts.push(format!("cmp={}", encode_component(&st.compare.join(","))));
    }
    if let Some(e) = &st.edits {
        parts.push(format!("e={}", encode_component(e)));
    }
    if let Some(t) = &st.task {
        parts.push(format!("task={}", encode_component(t)));
    }
    if let Some(ev) = &st.event_filter {
        parts.push(format!("ev={}", encode_component(ev)));
    }
    for (name, on) in [
        ("present", st.presenter),
        ("predict", st.predict),
        ("embed", st.embed),
        ("autoplay", st.autoplay),
    ] {
        if on {
            parts.push(format!("{name}=1"));
        }
    }
    if let Some(s) = st.speed {
        parts.push(format!("speed={s}"));
    }
    if let Some((a, b)) = st.loop_ticks {
        parts.push(format!("loop={}-{}", format_seconds(a), format_seconds(b)));
    }
    if st.tick > 0 {
        parts.push(format!("t={}", format_seconds(st.tick)));
    }
    format!("?{}", parts.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_common_case_round_trips() {
        let (st, errors) = parse("?s=dm-crypt-swap&p=linux-4.7&t=12.5");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(st.scenario, "dm-crypt-swap");
        assert_eq!(st.tick, 12_500);
        assert_eq!(
            format(&st),
            format!("?v={MODEL_VERSION}&s=dm-crypt-swap&p=linux-4.7&t=12.5")
        );
    }

    #[test]
    fn everything_round_trips() {
        let mut st = UrlState::default_for("dm-crypt-swap");
        st.preset = "linux-4.7+neilbrown".into();
        st.knobs = vec![("thread_size".into(), "8192".into())];
        st.seed = Some(7);
        st.tick = 1;
        st.forks = vec![Fork {
            tick: 12_500,
            knob: "mempool_variant".into(),
            value: "3.6".into(),
        }];
        st.compare = vec!["linux-4.7".into(), "linux-4.8".into()];
        st.edits = Some("eJzT0tLSAgAA//8=".into());
        st.task = Some("flush-8:0".into());
        st.event_filter = Some("mempool_alloc".into());
        st.presenter = true;
        st.predict = true;
        st.embed = true;
        st.autoplay = true;
        st.speed = Some(100);
        st.loop_ticks = Some((2000, 10_500));
        let text = format(&st);
        assert!(text.contains("p=linux-4.7%2Bneilbrown"), "{text}");
        let (back, errors) = parse(&text);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(back, st);
        // A hand-typed '+' (a space once decoded) still names the preset.
        assert_eq!(
            parse("?s=dm-crypt-swap&p=linux-4.7+neilbrown").0.preset,
            "linux-4.7+neilbrown"
        );
    }

    /// Found by fuzzing: a 2 MB link of bad knobs made 524 288 messages (400 MB), and
    /// "%+A" decoded to a newline.
    #[test]
    fn a_huge_or_odd_link_stays_bounded() {
        let huge = format!("?s=dm-crypt-swap&k={}", "x:1,".repeat(524_288));
        let (st, errors) = parse(&huge);
        // The parameters that end within the limit are read; the cut one is not.
        assert_eq!((st.scenario.as_str(), st.knobs.len()), ("dm-crypt-swap", 0));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("only the parameters in its first 65536"));
        // Within the limit, one problem per bad item, counted past the first twenty.
        let (_, errors) = parse(&format!("?k={}", "x:1,".repeat(100)));
        assert_eq!(errors.len(), PROBLEMS_MAX + 1);
        assert_eq!(errors[PROBLEMS_MAX], "… and 80 more problems");
        // A query of multi-byte text is cut at a parameter boundary, not inside a char.
        let wide = format!("?s=dm-crypt-swap&ev={}&ev=x", "é".repeat(40_000));
        let (st, errors) = parse(&wide);
        assert_eq!(
            (st.scenario.as_str(), st.event_filter),
            ("dm-crypt-swap", None)
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
        // What parse accepts formats to a link parse reads back whole (a text field of
        // '+'s triples as "%20"s).
        let plus = format!("?s=watermarks-101&task={}&t=5", "+".repeat(30_000));
        let (st, errors) = parse(&plus);
        assert_eq!((st.task.as_deref(), st.tick), (None, 5000), "{errors:?}");
        assert_eq!(parse(&format(&st)), (st, vec![]));
        let forks = format!("?f={}", "1@thread_size:8192,".repeat(FORKS_MAX + 1));
        let (st, errors) = parse(&forks);
        assert_eq!(st.forks.len(), FORKS_MAX);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(decode_component("%+A").is_err());
        assert_eq!(decode_component("%0A"), Ok("\n".to_string()));
    }

    #[test]
    fn garbage_falls_back_with_messages() {
        let (st, errors) = parse("?s=nope&p=linux-9&k=bogus:1,thread_size:7&t=-3&f=x&cmp=linux-4.7,zzz&v=abc&speed=7&loop=5-2&%zz=1&what=1");
        assert_eq!(
            st,
            UrlState {
                compare: vec!["linux-4.7".into()],
                ..UrlState::default_for(DEFAULT_SCENARIO)
            }
        );
        let all = errors.join("\n");
        for needle in [
            "s=nope",
            "p=linux-9",
            "bogus",
            "thread_size",
            "t=-3",
            "f:",
            "zzz",
            "v=abc",
            "speed=7",
            "loop=5-2",
            "%-escape",
            "'what'",
        ] {
            assert!(all.contains(needle), "missing {needle} in:\n{all}");
        }
        // A preset twice is one pane and says so; a fifth distinct one is dropped.
        let (st, errors) =
            parse("?cmp=linux-4.7,linux-4.8,linux-4.7,linux-4.9,linux-3.6,linux-3.5");
        assert_eq!(
            st.compare,
            ["linux-4.7", "linux-4.8", "linux-4.9", "linux-3.6"]
        );
        assert_eq!(
            errors,
            [
                "cmp: 'linux-4.7' given twice; panes compare different presets, the copy dropped",
                "cmp: at most 4 panes; 'linux-3.5' dropped"
            ]
        );
        let (_, errors) = parse("?v=0&s=watermarks-101");
        assert!(errors[0].contains("model version 0"), "{errors:?}");
        assert!(parse("").1.is_empty());
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_seconds("12.5"), Some(12_500));
        assert_eq!(parse_seconds("0.001"), Some(1));
        assert_eq!(parse_seconds("7"), Some(7000));
        assert_eq!(parse_seconds("1.2345"), None);
        assert_eq!(parse_seconds(""), None);
        assert_eq!(parse_seconds("1e3"), None);
        assert_eq!(format_seconds(12_500), "12.5");
        assert_eq!(format_seconds(7000), "7");
        assert_eq!(format_seconds(1), "0.001");
    }
}
