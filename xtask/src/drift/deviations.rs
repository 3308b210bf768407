//! `spec/deviations.yaml`: reading the record of intentional differences, deciding which
//! entries still describe upstream (and which are stale), and which differences each
//! explains.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::compare::Difference;
use super::model::{Scope, lookup_through_refs};
use crate::spec_file;

/// Where upstream's operation is, as the deviations file records it.
#[derive(Debug)]
pub struct UpstreamOperation {
    pub operation_id: String,
    pub method: String,
    pub path: String,
}

/// What a deviation says upstream has at its pointers.
#[derive(Debug)]
pub enum Expected {
    /// `upstream_absent: true`: nothing at any pointer.
    Absent,
    /// `upstream_value`: the same normalised value at every pointer.
    Same(Value),
    /// `upstream_values`: a normalised value per pointer.
    PerPointer(BTreeMap<String, Value>),
}

#[derive(Debug)]
pub struct Deviation {
    pub id: String,
    pub scope: Scope,
    pub pointers: Vec<String>,
    pub expected: Expected,
}

impl Deviation {
    fn expected_at(&self, pointer: &str) -> Option<&Value> {
        match &self.expected {
            Expected::Absent => None,
            Expected::Same(value) => Some(value),
            Expected::PerPointer(values) => values.get(pointer),
        }
    }
}

/// Whether `pointer` is `base` or below it (token-wise).
fn at_or_below(pointer: &str, base: &str) -> bool {
    pointer == base || (pointer.starts_with(base) && pointer[base.len()..].starts_with('/'))
}

#[derive(Debug)]
pub struct Deviations {
    pub upstream: UpstreamOperation,
    pub entries: Vec<Deviation>,
}

/// A pointer where upstream no longer says what the deviation recorded.
#[derive(Debug)]
pub struct Mismatch {
    pub pointer: String,
    /// `None`: recorded as absent.
    pub recorded: Option<Value>,
    /// `None`: absent upstream now.
    pub now: Option<Value>,
    /// What changed, in words.
    pub change: String,
}

/// What became of each deviation in this run.
#[derive(Debug)]
pub struct DeviationStatus {
    pub id: String,
    pub scope: Scope,
    /// Empty when the deviation still matches upstream.
    pub mismatches: Vec<Mismatch>,
    /// How many differences it explains.
    pub explains: usize,
}

impl DeviationStatus {
    pub fn is_stale(&self) -> bool {
        !self.mismatches.is_empty()
    }
}

/// Reads and checks the deviations file; the error is one paragraph naming it.
pub fn load(path: &Path) -> Result<Deviations, String> {
    let (_, root) = spec_file::read_document(path).map_err(|e| e.to_string())?;
    parse(&root).map_err(|cause| format!("{}: {cause}", path.display()))
}

fn parse(root: &Value) -> Result<Deviations, String> {
    let upstream = root
        .get("upstream")
        .ok_or("there is no `upstream:` section")?;
    let field = |name: &str| {
        upstream
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("`upstream:` has no `{name}` (a string)"))
    };
    let upstream = UpstreamOperation {
        operation_id: field("operation_id")?,
        method: field("method")?.to_ascii_lowercase(),
        path: field("path")?,
    };
    let list = root
        .get("deviations")
        .and_then(Value::as_array)
        .ok_or("there is no `deviations:` list")?;
    let mut entries: Vec<Deviation> = Vec::new();
    for (index, entry) in list.iter().enumerate() {
        let deviation = parse_entry(entry).map_err(|cause| {
            let id = entry.get("id").and_then(Value::as_str).unwrap_or("?");
            format!("deviation {} (`{id}`): {cause}", index + 1)
        })?;
        if entries.iter().any(|e| e.id == deviation.id) {
            return Err(format!("two deviations have the id `{}`", deviation.id));
        }
        entries.push(deviation);
    }
    Ok(Deviations { upstream, entries })
}

fn parse_entry(entry: &Value) -> Result<Deviation, String> {
    let id = entry
        .get("id")
        .and_then(Value::as_str)
        .ok_or("it has no `id`")?
        .to_string();
    let scope = match entry.get("scope").and_then(Value::as_str) {
        Some("operation") => Scope::Operation,
        Some("document") => Scope::Document,
        _ => return Err("`scope` must be `operation` or `document`".into()),
    };
    let pointers: Vec<String> = entry
        .get("pointers")
        .and_then(Value::as_array)
        .ok_or("it has no `pointers` list")?
        .iter()
        .map(|p| {
            p.as_str()
                .map(str::to_string)
                .ok_or("every pointer must be a string")
        })
        .collect::<Result<_, _>>()?;
    if pointers.is_empty() {
        return Err("`pointers` is empty".into());
    }
    if let Some(bad) = pointers.iter().find(|p| !p.starts_with('/')) {
        return Err(format!(
            "pointer `{bad}` is not a JSON pointer (it must start with `/`)"
        ));
    }
    let absent = entry.get("upstream_absent");
    let same = entry.get("upstream_value");
    let per_pointer = entry.get("upstream_values");
    let expected = match (absent, same, per_pointer) {
        (Some(Value::Bool(true)), None, None) => Expected::Absent,
        (None, Some(value), None) => Expected::Same(value.clone()),
        (None, None, Some(Value::Object(values))) => {
            let values: BTreeMap<String, Value> =
                values.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            if let Some(missing) = pointers.iter().find(|p| !values.contains_key(*p)) {
                return Err(format!(
                    "`upstream_values` has no value for pointer `{missing}`"
                ));
            }
            if let Some(extra) = values.keys().find(|k| !pointers.contains(k)) {
                return Err(format!(
                    "`upstream_values` names `{extra}`, which is not in `pointers`"
                ));
            }
            Expected::PerPointer(values)
        }
        _ => {
            return Err(
                "it needs exactly one of `upstream_absent: true`, `upstream_value` or \
                        `upstream_values` (a mapping from each pointer to its value)"
                    .into(),
            );
        }
    };
    Ok(Deviation {
        id,
        scope,
        pointers,
        expected,
    })
}

/// Checks every deviation against upstream (`operation` is upstream's canonical
/// operation, `document` its whole document), then marks each difference with the
/// deviation that explains it. A difference is explained only below a pointer whose
/// recorded value still matches; below a mismatched pointer it stays unexplained and
/// names the stale deviation.
pub fn apply(
    deviations: &Deviations,
    operation: &Value,
    document: &Value,
    differences: &mut [Difference],
) -> Vec<DeviationStatus> {
    let mut statuses = Vec::new();
    for deviation in &deviations.entries {
        let mut mismatches = Vec::new();
        for pointer in &deviation.pointers {
            let now = match deviation.scope {
                Scope::Operation => operation.pointer(pointer),
                Scope::Document => lookup_through_refs(document, pointer),
            };
            let recorded = deviation.expected_at(pointer);
            if now != recorded {
                mismatches.push(Mismatch {
                    pointer: pointer.clone(),
                    recorded: recorded.cloned(),
                    now: now.cloned(),
                    change: change(recorded, now),
                });
            }
        }
        let mut explains = 0;
        for difference in differences.iter_mut() {
            let at = &difference.upstream;
            if difference.explained_by.is_some() || at.scope != deviation.scope {
                continue;
            }
            let Some(pointer) = deviation
                .pointers
                .iter()
                .find(|p| at_or_below(&at.relative, p))
            else {
                continue;
            };
            if let Some(mismatch) = mismatches.iter().find(|m| &m.pointer == pointer) {
                difference
                    .under_stale
                    .get_or_insert_with(|| (deviation.id.clone(), mismatch.change.clone()));
            } else {
                difference.explained_by = Some(deviation.id.clone());
                explains += 1;
            }
        }
        statuses.push(DeviationStatus {
            id: deviation.id.clone(),
            scope: deviation.scope,
            mismatches,
            explains,
        });
    }
    statuses
}

/// Longest value quoted in a change description.
const QUOTED_VALUE_CHARS: usize = 120;

fn quote(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > QUOTED_VALUE_CHARS {
        let cut: String = text.chars().take(QUOTED_VALUE_CHARS).collect();
        format!("`{cut}…`")
    } else {
        format!("`{text}`")
    }
}

/// What changed between the recorded upstream value and today's, in words.
pub fn change(recorded: Option<&Value>, now: Option<&Value>) -> String {
    match (recorded, now) {
        (Some(_), None) => "upstream no longer has anything here".into(),
        (None, Some(now)) => format!("upstream now has {}", quote(now)),
        (Some(Value::Array(old)), Some(Value::Array(new))) => {
            let added: Vec<String> = new.iter().filter(|v| !old.contains(v)).map(quote).collect();
            let dropped: Vec<String> = old.iter().filter(|v| !new.contains(v)).map(quote).collect();
            let mut parts = Vec::new();
            if !added.is_empty() {
                parts.push(format!("upstream adds {}", added.join(", ")));
            }
            if !dropped.is_empty() {
                parts.push(format!("upstream drops {}", dropped.join(", ")));
            }
            if parts.is_empty() {
                parts.push("the same entries in another order".into());
            }
            parts.join("; ")
        }
        (Some(Value::Object(old)), Some(Value::Object(new))) => {
            let mut parts = Vec::new();
            for (key, value) in new {
                match old.get(key) {
                    None => parts.push(format!("adds `{key}: {}`", quote(value).trim_matches('`'))),
                    Some(before) if before != value => parts.push(format!(
                        "`{key}` was {}, now {}",
                        quote(before),
                        quote(value)
                    )),
                    Some(_) => {}
                }
            }
            for key in old.keys().filter(|key| !new.contains_key(*key)) {
                parts.push(format!("drops `{key}`"));
            }
            format!("upstream {}", parts.join("; "))
        }
        (Some(old), Some(new)) => format!("was {}, now {}", quote(old), quote(new)),
        (None, None) => String::new(),
    }
}
