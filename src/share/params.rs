//! Editable scenario parameters: the numbers a teacher changes in front of a class (RAM,
//! workload sizes and rates, device speeds, pool sizes, the seed). An edit is a JSON
//! pointer into the scenario file and a new number; applying edits goes through
//! `scenario::parse` + `validate`, so every rejection is the scenario loader's own message.

use crate::scenario::{self, Scenario, ScenarioError, ScenarioFile};

/// Field names that are editable wherever they appear in a scenario file.
const EDITABLE: &[&str] = &[
    "mib",
    "file_clean_mib",
    "mib_per_s",
    "bandwidth_mib_per_s",
    "latency_ms",
    "rtt_ms",
    "encrypt_mib_per_s",
    "min_nr",
    "empty_slabs_kept",
    "pages",
    "pages_per_s",
    "rx_mib_per_s",
    "seed",
    "duration_ms",
];

/// One editable number of a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    /// JSON pointer into the scenario file, e.g. `/tasks/0/program/0/mib`.
    pub pointer: String,
    /// Human label, e.g. `task hog, step 1: mib`.
    pub label: String,
    /// The group it belongs to (`machine`, `workload`, `devices`, `pools`, `run`).
    pub group: &'static str,
    pub value: u64,
}

/// An edit: set the number at `pointer` to `value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub pointer: String,
    pub value: u64,
}

/// Every editable number of `file`, in file order.
pub fn params(file: &ScenarioFile) -> Vec<Param> {
    let json = serde_json::to_value(file).expect("a scenario file serialises");
    let mut out = Vec::new();
    for key in ["seed", "duration_ms"] {
        if let Some(v) = json.get(key).and_then(|v| v.as_u64()) {
            out.push(Param {
                pointer: format!("/{key}"),
                label: key.to_string(),
                group: "run",
                value: v,
            });
        }
    }
    let named = |section: &str, group: &'static str, out: &mut Vec<Param>| {
        for (i, item) in json
            .get(section)
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .enumerate()
        {
            let name = item.get("name").and_then(|n| n.as_str()).unwrap_or("?");
            collect(
                item,
                &format!("/{section}/{i}"),
                &format!("{} {name}", singular(section)),
                group,
                out,
            );
        }
    };
    named("zones", "machine", &mut out);
    if let Some(swap) = json.get("swap") {
        collect(swap, "/swap", "swap", "machine", &mut out);
    }
    named("devices", "devices", &mut out);
    named("pools", "pools", &mut out);
    if let Some(net) = json.get("net_traffic") {
        collect(net, "/net_traffic", "network traffic", "workload", &mut out);
    }
    for (i, task) in json
        .get("tasks")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .enumerate()
    {
        let name = task.get("name").and_then(|n| n.as_str()).unwrap_or("?");
        for (j, op) in task
            .get("program")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .enumerate()
        {
            let what = op.get("op").and_then(|o| o.as_str()).unwrap_or("step");
            collect(
                op,
                &format!("/tasks/{i}/program/{j}"),
                &format!("{name} {what}"),
                "workload",
                &mut out,
            );
        }
    }
    out
}

fn singular(section: &str) -> &str {
    section.strip_suffix('s').unwrap_or(section)
}

fn collect(
    item: &serde_json::Value,
    pointer: &str,
    label: &str,
    group: &'static str,
    out: &mut Vec<Param>,
) {
    let Some(obj) = item.as_object() else { return };
    for key in EDITABLE {
        if let Some(v) = obj.get(*key).and_then(|v| v.as_u64()) {
            out.push(Param {
                pointer: format!("{pointer}/{key}"),
                label: format!("{label}: {key}"),
                group,
                value: v,
            });
        }
    }
}

/// Applies `edits` to `file` and validates the result.
pub fn apply(file: &ScenarioFile, edits: &[Edit]) -> Result<Scenario, ScenarioError> {
    let mut json = serde_json::to_value(file).expect("a scenario file serialises");
    let editable = params(file);
    for e in edits {
        if !editable.iter().any(|p| p.pointer == e.pointer) {
            return Err(ScenarioError(format!(
                "{}: not an editable parameter of this scenario",
                e.pointer
            )));
        }
        let slot = json
            .pointer_mut(&e.pointer)
            .ok_or_else(|| ScenarioError(format!("{}: no such field", e.pointer)))?;
        *slot = serde_json::Value::from(e.value);
    }
    let text = serde_json::to_string(&json).expect("a JSON value serialises");
    scenario::validate(scenario::parse(&text)?)
}

/// `ptr=value;ptr=value`: the uncompressed text form of edits (the URL deflates it).
pub fn encode_edits(edits: &[Edit]) -> String {
    edits
        .iter()
        .map(|e| format!("{}={}", e.pointer, e.value))
        .collect::<Vec<_>>()
        .join(";")
}

pub fn decode_edits(text: &str) -> Result<Vec<Edit>, String> {
    text.split(';')
        .filter(|s| !s.is_empty())
        .map(|item| {
            let (ptr, value) = item
                .split_once('=')
                .ok_or_else(|| format!("edit '{item}' is not pointer=value"))?;
            if !ptr.starts_with('/') {
                return Err(format!("edit '{item}': the field path must start with '/'"));
            }
            let value = value
                .parse::<u64>()
                .map_err(|_| format!("edit '{item}': value is not a whole number"))?;
            Ok(Edit {
                pointer: ptr.to_string(),
                value,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_applies_edits_with_validation_messages() {
        let file = scenario::builtin("dm-crypt-swap").unwrap();
        let ps = params(&file);
        assert!(ps
            .iter()
            .any(|p| p.pointer == "/zones/0/mib" && p.value == file.zones[0].mib));
        assert!(ps
            .iter()
            .any(|p| p.pointer == "/pools/2/min_nr" && p.value == file.pools[2].min_nr));
        assert!(ps
            .iter()
            .any(|p| p.pointer == "/tasks/0/program/0/mib_per_s"));
        let ok = apply(
            &file,
            &[Edit {
                pointer: "/zones/0/mib".into(),
                value: 2048,
            }],
        )
        .unwrap();
        assert_eq!(ok.config.zones[0].managed_pages, 2048 * 256);
        let bad = apply(
            &file,
            &[Edit {
                pointer: "/zones/0/mib".into(),
                value: 1,
            }],
        )
        .unwrap_err();
        assert!(
            bad.0.contains("zones[0].mib") && bad.0.contains("16.."),
            "{bad}"
        );
        let not = apply(
            &file,
            &[Edit {
                pointer: "/name".into(),
                value: 1,
            }],
        )
        .unwrap_err();
        assert!(not.0.contains("not an editable"), "{not}");
    }

    #[test]
    fn edits_round_trip_as_text() {
        let edits = vec![
            Edit {
                pointer: "/zones/0/mib".into(),
                value: 2048,
            },
            Edit {
                pointer: "/seed".into(),
                value: 7,
            },
        ];
        assert_eq!(decode_edits(&encode_edits(&edits)).unwrap(), edits);
        assert!(decode_edits("/zones/0/mib=x").is_err());
        assert!(decode_edits("zones=1").is_err());
    }
}
