//! `spec/deviations.yaml`: reading the record of intentional differences (per operation of
//! the fragment, or about the whole document), deciding which entries still describe
//! upstream (and which are stale), and which differences each explains.

use std::collections::BTreeMap;
use std::path::Path;

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::compare::Difference;
use super::resolve::Scope;

/// The file as written; `load` checks it and turns it into `Deviations`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    upstream: UpstreamSource,
    operations: Vec<OperationRecord>,
    deviations: Vec<Entry>,
}

/// Which published document the recorded upstream values were taken from (shown in the
/// report; the check compares with whatever document it is given).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamSource {
    pub repository: String,
    pub file: String,
    pub commit: String,
}

impl UpstreamSource {
    /// `repository` `file` at the commit's first 8 characters, for a sentence.
    pub fn describe(&self) -> String {
        let commit: String = self.commit.chars().take(8).collect();
        format!("{} {} at {commit}", self.repository, self.file)
    }
}

/// One operation of our fragment, as Webflow publishes it: found upstream by
/// `operation_id`, else by `method` and `path`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationRecord {
    pub operation_id: String,
    pub method: String,
    pub path: String,
}

impl OperationRecord {
    /// `METHOD /path`, for messages.
    pub fn route(&self) -> String {
        format!("{} {}", self.method.to_uppercase(), self.path)
    }
}

/// `scope:` of an entry; only `document` may be written (an operation's entries name
/// the operation instead).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ScopeName {
    Document,
}

/// One deviation as written. `upstream`, `ours`, `why` and `evidence` are for people, but
/// must be there.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    operation: Option<String>,
    scope: Option<ScopeName>,
    pointers: Vec<String>,
    #[serde(rename = "upstream")]
    _upstream: IgnoredAny,
    upstream_absent: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    upstream_value: Option<Value>,
    upstream_values: Option<BTreeMap<String, Value>>,
    #[serde(rename = "ours")]
    _ours: IgnoredAny,
    why: String,
    evidence: Vec<String>,
}

/// `Some(value)` for a key that is present, even when its value is `null`.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// One deviation, checked.
#[derive(Debug)]
pub struct Deviation {
    pub id: String,
    /// The operationId it is about (pointers relative to its operation object), or `None`
    /// for the whole document (pointers relative to the root).
    pub operation: Option<String>,
    /// Each pointer, with the normalised value recorded for upstream there (`None`: absent).
    pub expected: Vec<(String, Option<Value>)>,
}

impl Deviation {
    /// The pointer of the deviation that covers a difference: the same operation (or the
    /// document), at or below it.
    fn covering_pointer(&self, difference: &Difference) -> Option<&String> {
        let at = &difference.upstream;
        let same_target = match &self.operation {
            Some(id) => at.scope == Scope::Operation && difference.operation.as_ref() == Some(id),
            None => at.scope == Scope::Document,
        };
        let mut pointers = self.expected.iter().map(|(pointer, _)| pointer);
        pointers.find(|pointer| same_target && at_or_below(&at.relative, pointer))
    }
}

/// Whether `pointer` is `base` or below it (token-wise).
fn at_or_below(pointer: &str, base: &str) -> bool {
    pointer == base || (pointer.starts_with(base) && pointer[base.len()..].starts_with('/'))
}

#[derive(Debug)]
pub struct Deviations {
    pub upstream: UpstreamSource,
    pub operations: Vec<OperationRecord>,
    pub entries: Vec<Deviation>,
}

impl Deviations {
    /// What `document` (upstream as written, before any rewrite) has at each pointer of the
    /// `scope: document` entries, through `$ref`s as if everything were inlined.
    pub fn document_values(&self, document: &Value) -> BTreeMap<String, Option<Value>> {
        let entries = self.entries.iter().filter(|e| e.operation.is_none());
        let pointers = entries.flat_map(|e| e.expected.iter().map(|(pointer, _)| pointer));
        let value = |pointer: &String| lookup_through_refs(document, pointer).cloned();
        pointers
            .map(|pointer| (pointer.clone(), value(pointer)))
            .collect()
    }
}

/// Follows `pointer` through `root` through `$ref`s, as if everything were inlined.
fn lookup_through_refs<'a>(root: &'a Value, pointer: &str) -> Option<&'a Value> {
    let follow = |mut node: &'a Value| {
        for _ in 0..32 {
            let target = node.get("$ref").and_then(Value::as_str);
            match target.and_then(|r| r.strip_prefix('#')) {
                Some(target) => node = root.pointer(target)?,
                None => return Some(node),
            }
        }
        None
    };
    let mut node = root;
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        node = match follow(node)? {
            Value::Object(map) => map.get(&token)?,
            Value::Array(items) => items.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    follow(node)
}

/// A pointer where upstream no longer says what the deviation recorded.
#[derive(Debug, Serialize)]
pub struct Mismatch {
    pub pointer: String,
    /// What changed, in words.
    pub change: String,
    /// `None`: recorded as absent.
    pub recorded: Option<Value>,
    /// `None`: absent upstream now.
    #[serde(rename = "upstream_now")]
    pub now: Option<Value>,
}

/// What became of each deviation in this run.
#[derive(Debug, Serialize)]
pub struct DeviationStatus {
    pub id: String,
    /// Whether upstream no longer says what it records at some pointer.
    pub stale: bool,
    /// How many differences it explains.
    pub explains: usize,
    /// Empty when the deviation still matches upstream.
    pub mismatches: Vec<Mismatch>,
    /// The operationId it is about; `None` for the whole document.
    #[serde(skip)]
    pub operation: Option<String>,
}

/// Reads and checks the deviations file; the error is one paragraph naming it.
pub fn load(path: &Path) -> Result<Deviations, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read the file: {e}", path.display()))?;
    parse(&text).map_err(|cause| format!("{}: {cause}", path.display()))
}

fn parse(text: &str) -> Result<Deviations, String> {
    let file: File =
        serde_norway::from_str(text).map_err(|e| format!("not a valid deviations file: {e}"))?;
    if file.operations.is_empty() {
        return Err("`operations:` is empty; list every operation of the fragment".into());
    }
    let mut operations: Vec<OperationRecord> = Vec::new();
    for mut record in file.operations {
        record.method = record.method.to_ascii_lowercase();
        let id = &record.operation_id;
        if operations.iter().any(|o| &o.operation_id == id) {
            return Err(format!("`operations:` lists `{id}` twice"));
        }
        operations.push(record);
    }
    let mut entries: Vec<Deviation> = Vec::new();
    for (index, entry) in file.deviations.into_iter().enumerate() {
        let id = entry.id.clone();
        let deviation = check_entry(entry, &operations)
            .map_err(|cause| format!("deviation {} (`{id}`): {cause}", index + 1))?;
        if entries.iter().any(|e| e.id == deviation.id) {
            return Err(format!("two deviations have the id `{id}`"));
        }
        entries.push(deviation);
    }
    let upstream = file.upstream;
    Ok(Deviations {
        upstream,
        operations,
        entries,
    })
}

fn check_entry(entry: Entry, operations: &[OperationRecord]) -> Result<Deviation, String> {
    let operation = match (entry.operation, entry.scope) {
        (Some(id), None) if operations.iter().any(|o| o.operation_id == id) => Some(id),
        (Some(id), None) => {
            return Err(format!(
                "its operation `{id}` is not listed under `operations:`"
            ));
        }
        (None, Some(ScopeName::Document)) => None,
        _ => {
            return Err(
                "it needs exactly one of `operation: <operationId>` (pointers relative to that \
                 operation) or `scope: document` (pointers relative to the document root)"
                    .into(),
            );
        }
    };
    let pointers = entry.pointers;
    if pointers.is_empty() {
        return Err("`pointers` is empty".into());
    }
    if let Some(bad) = pointers.iter().find(|p| !p.starts_with('/')) {
        return Err(format!(
            "pointer `{bad}` is not a JSON pointer (it must start with `/`)"
        ));
    }
    if entry.why.trim().is_empty() || entry.evidence.is_empty() {
        return Err("it needs a `why` and at least one `evidence` line".into());
    }
    let recorded = (entry.upstream_absent, entry.upstream_value);
    let expected = match (recorded, entry.upstream_values) {
        ((Some(true), None), None) => pointers.iter().map(|p| (p.clone(), None)).collect(),
        ((None, Some(value)), None) => {
            let value = |p: &String| (p.clone(), Some(value.clone()));
            pointers.iter().map(value).collect()
        }
        ((None, None), Some(values)) => {
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
            let value = |p: &String| (p.clone(), values.get(p).cloned());
            pointers.iter().map(value).collect()
        }
        _ => {
            return Err(
                "it needs exactly one of `upstream_absent: true`, `upstream_value` or \
                 `upstream_values` (a mapping from each pointer to its value)"
                    .into(),
            );
        }
    };
    let id = entry.id;
    Ok(Deviation {
        id,
        operation,
        expected,
    })
}

/// Checks every deviation against upstream (`operations` maps each operationId to
/// upstream's canonical operation, `document` has upstream's value at each pointer of the
/// `scope: document` entries), then marks each difference with the deviation that
/// explains it. A difference is explained only below a pointer whose recorded value still
/// matches; below a mismatched pointer it stays unexplained and names the stale deviation.
pub fn apply(
    deviations: &Deviations,
    operations: &BTreeMap<String, Value>,
    document: &BTreeMap<String, Option<Value>>,
    differences: &mut [Difference],
) -> Vec<DeviationStatus> {
    let mut statuses = Vec::new();
    for deviation in &deviations.entries {
        let mut mismatches = Vec::new();
        for (pointer, recorded) in &deviation.expected {
            let now = match &deviation.operation {
                Some(id) => operations.get(id).and_then(|op| op.pointer(pointer)),
                None => document.get(pointer).and_then(Option::as_ref),
            };
            if now != recorded.as_ref() {
                let (change, now) = (change(recorded.as_ref(), now), now.cloned());
                let (pointer, recorded) = (pointer.clone(), recorded.clone());
                mismatches.push(Mismatch {
                    pointer,
                    change,
                    recorded,
                    now,
                });
            }
        }
        let mut explains = 0;
        for difference in differences.iter_mut().filter(|d| d.explained_by.is_none()) {
            let Some(pointer) = deviation.covering_pointer(difference) else {
                continue;
            };
            let id = deviation.id.clone();
            match mismatches.iter().find(|m| &m.pointer == pointer) {
                Some(m) => _ = difference.under_stale.get_or_insert((id, m.change.clone())),
                None => (difference.explained_by, explains) = (Some(id), explains + 1),
            }
        }
        let (id, operation) = (deviation.id.clone(), deviation.operation.clone());
        let stale = !mismatches.is_empty();
        statuses.push(DeviationStatus {
            id,
            stale,
            explains,
            mismatches,
            operation,
        });
    }
    statuses
}

/// Longest value quoted in a change description.
const QUOTED_VALUE_CHARS: usize = 120;

fn quote(value: &Value) -> String {
    format!("`{}`", cut(value, QUOTED_VALUE_CHARS))
}

/// `value` as JSON, cut to its first `chars` characters (then "…").
pub fn cut(value: &Value, chars: usize) -> String {
    let text = value.to_string();
    match text.char_indices().nth(chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
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

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "\
upstream: {repository: r, file: f, commit: c}
operations:
  - {operation_id: list-collection-items, method: GET, path: /items}
deviations:
";

    fn entry(fields: &str) -> Result<Deviations, String> {
        parse(&format!(
            "{HEAD}  - id: e\n    pointers: [/responses/403]\n    upstream: null\n    ours: x\n    \
             why: y\n    evidence: [z]\n{fields}"
        ))
    }

    #[test]
    fn an_entry_is_about_one_listed_operation_or_the_document() {
        let deviations =
            entry("    operation: list-collection-items\n    upstream_absent: true\n").unwrap();
        let operation = deviations.entries[0].operation.as_deref();
        assert_eq!(operation, Some("list-collection-items"));
        assert_eq!(deviations.operations[0].method, "get");
        let document = entry("    scope: document\n    upstream_absent: true\n").unwrap();
        assert_eq!(document.entries[0].operation, None);
        let both = entry(
            "    scope: document\n    operation: list-collection-items\n    upstream_absent: true\n",
        );
        assert!(
            both.unwrap_err()
                .starts_with("deviation 1 (`e`): it needs exactly one of")
        );
    }

    #[test]
    fn a_recorded_null_is_not_an_absence() {
        let deviations =
            entry("    operation: list-collection-items\n    upstream_value: null\n").unwrap();
        let (_, recorded) = &deviations.entries[0].expected[0];
        assert_eq!(recorded, &Some(Value::Null));
    }

    #[test]
    fn a_misspelt_key_is_refused_with_its_place() {
        let error =
            entry("    operation: list-collection-items\n    upstream_absnet: true\n").unwrap_err();
        assert!(
            error.starts_with(
                "not a valid deviations file: deviations[0]: unknown field `upstream_absnet`"
            ),
            "{error}"
        );
    }
}
