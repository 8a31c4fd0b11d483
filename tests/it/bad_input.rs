//! Goal: no input a user can type, paste or edit panics, hangs or is accepted silently
//! wrong. Method: proptest mutates the built-in scenario files (one leaf replaced by a
//! drawn value: negative, huge, fractional, a string, null) and draws address-bar queries
//! from the URL's own vocabulary mixed with junk; every rejection must name the field it
//! is about, and whatever is accepted must run (a short run, invariants checked) and,
//! for URLs, read back to itself.

use pressure_lab::scenario;
use pressure_lab::share::{params, url};
use pressure_lab::sim::Sim;
use proptest::prelude::*;
use serde_json::Value;

/// Ticks a mutated scenario that validated is run for: enough to reach reclaim in most
/// scenarios, little enough for a few hundred cases in a test run.
const RUN_TICKS: u64 = 4000;

/// Every leaf of a JSON document as a JSON pointer, in document order.
fn leaves(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                leaves(
                    x,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                leaves(x, format!("{at}/{i}"), out);
            }
        }
        _ => out.push(at),
    }
}

/// What happens to the drawn leaf.
#[derive(Clone, Debug)]
enum Change {
    /// Replaced by a value people mistype or try on purpose.
    Set(Value),
    /// A number multiplied by `num/den`: near the limits, often still valid.
    Scale(u64, u64),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        replacement().prop_map(Change::Set),
        proptest::sample::select(vec![
            (0u64, 1u64),
            (1, 2),
            (1, 16),
            (2, 1),
            (16, 1),
            (1000, 1),
            (1 << 20, 1)
        ])
        .prop_map(|(n, d)| Change::Scale(n, d)),
    ]
}

fn replacement() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::from(0)),
        Just(Value::from(-1)),
        Just(Value::from(u64::MAX)),
        Just(Value::from(i64::MIN)),
        Just(Value::from(1e300)),
        Just(Value::from(0.5)),
        Just(Value::Null),
        Just(Value::from(true)),
        Just(Value::from("")),
        (1u64..1 << 40).prop_map(Value::from),
        (0u64..100).prop_map(Value::from),
        "[a-z0-9+.-]{0,12}".prop_map(Value::from),
    ]
}

/// `tasks[0].program[1].mib` for the pointer `/tasks/0/program/1/mib`.
fn dotted(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').skip(1) {
        if seg.chars().all(|c| c.is_ascii_digit()) {
            out += &format!("[{seg}]");
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out += seg;
        }
    }
    out
}

/// The JSON pointer for a dotted path, the inverse of [`dotted`].
fn pointer_of(dotted: &str) -> String {
    dotted
        .replace('[', ".")
        .replace(']', "")
        .split('.')
        .filter(|s| !s.is_empty())
        .fold(String::new(), |acc, s| format!("{acc}/{s}"))
}

/// A rejection is about a field: its message starts with the path of a field that exists
/// in the document (`scenario` for the document itself), and a value of the wrong type is
/// blamed on the field that holds it (or on its object, when the value is the tag that
/// says what the object is).
fn check_message(doc: &Value, mutated: &str, msg: &str) -> Result<(), String> {
    let path = msg.split(": ").next().unwrap_or("");
    if path != "scenario" && doc.pointer(&pointer_of(path)).is_none() {
        return Err(format!("the message names no field of the document: {msg}"));
    }
    let wrong_type = msg.contains("invalid type") || msg.contains("invalid value");
    let here = dotted(mutated);
    let is_tag_of_path = [".kind", ".op"]
        .iter()
        .any(|tag| here == format!("{path}{tag}"));
    if wrong_type && path != here && !is_tag_of_path {
        return Err(format!(
            "{here} had the bad value, the message blames {path}: {msg}"
        ));
    }
    Ok(())
}

fn url_word() -> impl Strategy<Value = String> {
    let keys = [
        "v", "s", "p", "k", "seed", "t", "f", "cmp", "e", "task", "ev", "present", "predict",
        "embed", "autoplay", "speed", "loop",
    ];
    let values = prop_oneof![
        Just("dm-crypt-swap".to_string()),
        Just("linux-4.7+neilbrown".to_string()),
        Just("mempool_variant:neilbrown".to_string()),
        Just("2000@throttle_vm_writeout:off".to_string()),
        Just("linux-4.8,linux-4.9".to_string()),
        Just("1".to_string()),
        Just("12.5".to_string()),
        Just("3-9".to_string()),
        Just("%zz".to_string()),
        Just("99999999999999999999999".to_string()),
        "[ -~]{0,16}".prop_map(|s| s),
        "\\PC{0,8}".prop_map(|s| s),
    ];
    (proptest::sample::select(keys.to_vec()), values).prop_map(|(k, v)| format!("{k}={v}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, rng_seed: proptest::test_runner::RngSeed::Fixed(0xbad), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_scenario_with_one_bad_leaf_is_refused_by_name_or_runs(
        which in 0usize..scenario::BUILTIN.len(),
        pick in any::<proptest::sample::Index>(),
        change in change(),
    ) {
        let (_, text) = scenario::BUILTIN[which];
        let mut doc: Value = serde_json::from_str(text).unwrap();
        let mut paths = Vec::new();
        leaves(&doc, String::new(), &mut paths);
        let path = pick.get(&paths).clone();
        let slot = doc.pointer_mut(&path).unwrap();
        let value = match (&change, slot.as_u64()) {
            (Change::Set(v), _) => v.clone(),
            (Change::Scale(n, d), Some(x)) => Value::from(x.saturating_mul(*n) / d),
            (Change::Scale(..), None) => slot.clone(),
        };
        *slot = value.clone();
        match scenario::load_str(&doc.to_string()) {
            Err(e) => {
                if let Err(why) = check_message(&doc, &path, &e.0) {
                    prop_assert!(false, "{path} = {value}: {why}");
                }
            }
            Ok(sc) => {
                let mut sim = Sim::new(sc.config.clone(), sc.knobs.clone());
                for _ in 0..RUN_TICKS {
                    if sim.is_finished() {
                        break;
                    }
                    sim.step();
                    if let Err(broken) = sim.check_invariants() {
                        prop_assert!(false, "{path} = {value}: {broken}");
                    }
                }
            }
        }
    }

    #[test]
    fn any_address_bar_reads_back_to_a_valid_state(words in proptest::collection::vec(url_word(), 0..8)) {
        let query = format!("?{}", words.join("&"));
        let (state, _errors) = url::parse(&query);
        // What the page fell back to is itself a clean link: no message, the same state.
        let again = url::format(&state);
        let (back, errors) = url::parse(&again);
        prop_assert!(errors.is_empty(), "{query} -> {again}: {errors:?}");
        prop_assert_eq!(back, state);
    }

    #[test]
    fn any_edit_list_is_refused_by_name_or_validates(text in "[/a-z0-9_=;.-]{0,40}") {
        let file = scenario::builtin("dm-crypt-swap").unwrap();
        match params::decode_edits(&text) {
            Err(e) => prop_assert!(e.starts_with("edit '"), "{text}: {e}"),
            Ok(edits) => {
                if let Err(e) = params::apply(&file, &edits) {
                    let head = e.0.split(": ").next().unwrap_or("");
                    prop_assert!(head.starts_with('/') || !head.contains(' '), "{text}: {}", e.0);
                }
            }
        }
    }
}
