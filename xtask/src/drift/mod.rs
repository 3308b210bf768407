//! `cargo xtask drift`: tells whether Webflow's published spec still matches every
//! operation of our fragment, and which differences `spec/deviations.yaml` explains.
//!
//! Both documents are read with openapiv3, after a pre-pass that rewrites the OpenAPI 3.1
//! constructs it cannot read (`downgrade`). Each operation listed under `operations:` in
//! the deviations file is found in both by operationId, else by method and path. Exit
//! codes: 0 no unexplained drift; 1 unexplained breaking or additive differences, or stale
//! deviations; 2 the check could not run (an unreadable document, or an operation that one
//! of them does not have).

mod compare;
mod deviations;
mod downgrade;
mod model;
mod report;
mod resolve;
mod source;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use openapiv3::{Components, OpenAPI, Operation, PathItem};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codegen;
use crate::spec_file;
use compare::{Class, Difference};
use deviations::{DeviationStatus, OperationRecord, UpstreamSource};
use downgrade::Rewrite;
use model::Reader;
use resolve::{Loc, escape_token};

/// The HTTP methods an OpenAPI path item can hold, in the order they are searched.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The deviations file, relative to the workspace root.
pub const DEVIATIONS_PATH: &str = "spec/deviations.yaml";

/// How the report is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

struct Options {
    upstream: String,
    format: Format,
    verbose: bool,
    spec: PathBuf,
    deviations: PathBuf,
}

/// Everything a report needs.
pub struct Outcome {
    pub upstream_source: String,
    pub upstream_version: String,
    /// What the pre-pass rewrote in the upstream document so that openapiv3 reads it.
    pub rewrites: Vec<Rewrite>,
    /// Our fragment and the deviations file, as shown (relative to the workspace when inside it).
    pub spec: String,
    pub deviations_file: String,
    /// The published document the deviations' upstream values were recorded from.
    pub recorded_from: UpstreamSource,
    /// The operations compared, in the order of `operations:` in the deviations file.
    pub operations: Vec<CheckedOperation>,
    /// Every difference; `Difference::operation` says in which operation (`None`: the
    /// document as a whole).
    pub differences: Vec<Difference>,
    pub deviations: Vec<DeviationStatus>,
    pub verbose: bool,
}

impl Outcome {
    /// 1 when a breaking or additive difference is unexplained or a deviation is stale.
    pub fn exit_code(&self) -> u8 {
        let wire = |d: &&Difference| d.class != Class::Cosmetic;
        let unexplained = self
            .differences
            .iter()
            .filter(wire)
            .any(|d| d.explained_by.is_none());
        u8::from(unexplained || self.deviations.iter().any(|d| d.stale))
    }
}

/// One operation of the fragment (ours: method in lower case, path), and where its upstream
/// counterpart was found.
#[derive(Serialize)]
pub struct CheckedOperation {
    pub operation_id: String,
    pub method: String,
    pub path: String,
    pub upstream: Found,
}

/// Where an operation is in a document, and how it was found.
#[derive(Serialize)]
pub struct Found {
    /// `operationId`, or `method and path` (its operationId is then not the recorded one).
    pub found_by: &'static str,
    /// The operationId found there, when found by method and path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    pub method: String,
    pub path: String,
    /// The document pointer of the operation object.
    pub pointer: String,
}

impl Found {
    /// How it was found, in words.
    pub fn how(&self) -> String {
        match self.found_by {
            "operationId" => "found by operationId".into(),
            _ => format!("found by method and path; its operationId is {}", self.id()),
        }
    }

    /// The operationId found, quoted, or `missing`.
    fn id(&self) -> String {
        let id = self.operation_id.as_deref();
        id.map_or_else(|| "missing".to_string(), |id| format!("`{id}`"))
    }
}

/// Runs `cargo xtask drift ARGS`; `Err` is a usage error for the caller to print.
pub fn command(args: &[String]) -> Result<ExitCode, String> {
    let options = parse_args(args)?;
    match check_catching_panics(&options) {
        Ok(outcome) => {
            let text = match options.format {
                Format::Text => report::text(&outcome),
                Format::Json => report::json(&outcome),
                Format::Markdown => report::markdown(&outcome),
            };
            print!("{text}");
            Ok(ExitCode::from(outcome.exit_code()))
        }
        Err(message) => {
            eprintln!("error: {message}");
            Ok(ExitCode::from(2))
        }
    }
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let root = codegen::project_root();
    let mut upstream = None;
    let mut format = Format::Text;
    let mut verbose = false;
    let mut spec = root.join(codegen::SPEC_PATH);
    let mut deviations = root.join(DEVIATIONS_PATH);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .cloned()
                .ok_or_else(|| format!("{arg} needs a value"))
        };
        match arg.as_str() {
            "--upstream" => upstream = Some(value()?),
            "--format" => {
                format = match value()?.as_str() {
                    "text" => Format::Text,
                    "json" => Format::Json,
                    "markdown" => Format::Markdown,
                    other => {
                        return Err(format!("unknown format `{other}` (text, json or markdown)"));
                    }
                }
            }
            "--verbose" => verbose = true,
            "--spec" => spec = PathBuf::from(value()?),
            "--deviations" => deviations = PathBuf::from(value()?),
            other => return Err(format!("unknown drift option `{other}`")),
        }
    }
    let upstream = upstream.ok_or("drift needs --upstream <path or https URL>")?;
    Ok(Options {
        upstream,
        format,
        verbose,
        spec,
        deviations,
    })
}

/// `check`, with a panic (a bug in the check) turned into a could-not-run message, so that
/// CI sees exit 2 and one paragraph rather than a backtrace.
fn check_catching_panics(options: &Options) -> Result<Outcome, String> {
    crate::panics::catch_quietly(|| check(options)).unwrap_or_else(|message| {
        Err(format!(
            "the drift check stopped on an internal error (\"{message}\") while comparing {}; this is a \
             bug in xtask/src/drift, please report it with the upstream document",
            options.upstream
        ))
    })
}

/// Loads everything, compares each operation, and applies the deviations. `Err` is a
/// one-paragraph reason why the check could not run.
fn check(options: &Options) -> Result<Outcome, String> {
    let deviations = deviations::load(&options.deviations)?;
    let deviations_file = shown_path(&options.deviations);
    let spec = options.spec.display();
    let ours = load_ours(&options.spec)?;
    let ours_found = find_ours(
        &ours.api,
        &spec.to_string(),
        &deviations_file,
        &deviations.operations,
    )?;

    let upstream_raw = source::load(&options.upstream)?;
    let upstream_name = format!("the upstream document {}", options.upstream);
    let in_upstream = |cause| format!("{upstream_name} {cause}");
    let upstream_version = openapi_version(&upstream_raw).map_err(in_upstream)?;
    let document_values = deviations.document_values(&upstream_raw);
    let upstream = Spec::read(upstream_raw).map_err(in_upstream)?;
    let records = &deviations.operations;
    let upstream_found = find_upstream(&upstream, records, &deviations_file);
    let upstream_found = upstream_found.map_err(in_upstream)?;

    let mut differences = Vec::new();
    if upstream_version != ours.api.openapi {
        let text = format!(
            "upstream is OpenAPI {upstream_version}, ours {}",
            ours.api.openapi
        );
        differences.push(document_difference(
            None,
            Loc::document("/openapi"),
            "/openapi",
            text,
        ));
    }
    let mut canonical = BTreeMap::new();
    let mut operations = Vec::new();
    let found = ours_found.into_iter().zip(upstream_found);
    for (record, (ours_at, upstream_at)) in deviations.operations.iter().zip(found) {
        let id = &record.operation_id;
        let upstream_op = Reader::new(&upstream.api, &upstream.raw)
            .operation(&upstream_at.path, &upstream_at.method)
            .map_err(|e| format!("{upstream_name} cannot be read: {e}"))?;
        let ours_op = Reader::new(&ours.api, &ours.raw)
            .operation(&ours_at.path, &ours_at.method)
            .map_err(|e| format!("{spec}: {e}"))?;
        if upstream_at.found_by != "operationId" {
            let text = format!(
                "upstream's operationId is {}, not `{id}` (found by method and path)",
                upstream_at.id()
            );
            let at = upstream_op.node.loc.child("operationId");
            let ours = ours_op.node.loc.child("operationId").pointer;
            differences.push(document_difference(Some(id), at, &ours, text));
        }
        differences.extend(compare::compare(id, &upstream_op, &ours_op));
        canonical.insert(id.clone(), upstream_op.canonical());
        let (method, path) = (ours_at.method, ours_at.path);
        operations.push(CheckedOperation {
            operation_id: id.clone(),
            method,
            path,
            upstream: upstream_at,
        });
    }
    let statuses = deviations::apply(&deviations, &canonical, &document_values, &mut differences);
    Ok(Outcome {
        upstream_source: options.upstream.clone(),
        upstream_version,
        rewrites: upstream.rewrites,
        spec: shown_path(&options.spec),
        deviations_file,
        recorded_from: deviations.upstream.clone(),
        operations,
        differences,
        deviations: statuses,
        verbose: options.verbose,
    })
}

/// One document as the check reads it: its JSON after the pre-pass, openapiv3's reading
/// of that, and what the pre-pass rewrote.
struct Spec {
    raw: Value,
    api: OpenAPI,
    rewrites: Vec<Rewrite>,
}

impl Spec {
    /// Rewrites what openapiv3 cannot read, then reads it; the error names the first path
    /// item, operation or component that still does not read.
    fn read(mut raw: Value) -> Result<Spec, String> {
        let rewrites = downgrade::downgrade(&mut raw);
        match OpenAPI::deserialize(&raw) {
            Ok(api) => Ok(Spec { raw, api, rewrites }),
            Err(cause) => Err(unreadable(&raw, cause)),
        }
    }
}

/// Why openapiv3 cannot read a document, and where: the first path item (and operation)
/// it cannot read, else the components.
fn unreadable(raw: &Value, cause: serde_json::Error) -> String {
    let paths = raw
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten();
    let mut unread = paths.filter(|(_, item)| PathItem::deserialize(*item).is_err());
    let place = match unread.next() {
        Some((path, item)) => {
            let at = format!("/paths/{}", escape_token(path));
            let unread = |m: &&str| {
                item.get(*m)
                    .is_some_and(|o| Operation::deserialize(o).is_err())
            };
            let method = METHODS.into_iter().find(unread);
            Some(method.map_or(at.clone(), |m| format!("{at}/{m}")))
        }
        None => {
            let components = raw.get("components");
            let unread = components.is_some_and(|c| Components::deserialize(c).is_err());
            unread.then(|| "/components".to_string())
        }
    };
    let at = place.map_or_else(String::new, |at| format!(" at {at}"));
    format!("cannot be read as OpenAPI 3.0 (after rewriting its 3.1 constructs){at}: {cause}")
}

/// `path` relative to the workspace root when it is inside it.
fn shown_path(path: &Path) -> String {
    let path = path.strip_prefix(codegen::project_root()).unwrap_or(path);
    path.display().to_string().replace('\\', "/")
}

/// A cosmetic difference about the whole document (`operation: None`) or about one
/// operation's identity.
fn document_difference(
    operation: Option<&str>,
    upstream: Loc,
    ours: &str,
    text: String,
) -> Difference {
    Difference {
        operation: operation.map(str::to_string),
        class: Class::Cosmetic,
        subject: "document".into(),
        description: text,
        action: "Nothing required: the drift check reads both".into(),
        upstream,
        ours: ours.to_string(),
        explained_by: None,
        under_stale: None,
    }
}

/// Our fragment, read and with every `$ref` checked.
fn load_ours(spec: &Path) -> Result<Spec, String> {
    let (_, root) = spec_file::read_document(spec).map_err(|e| e.to_string())?;
    spec_file::check_refs(&root).map_err(|cause| format!("{}: {cause}", spec.display()))?;
    Spec::read(root).map_err(|cause| format!("{}: {cause}", spec.display()))
}

/// Each recorded operation in our fragment (by operationId, else method and path), in the
/// order of `records`; the fragment must have every recorded operation and no other.
fn find_ours(
    api: &OpenAPI,
    spec: &str,
    deviations_file: &str,
    records: &[OperationRecord],
) -> Result<Vec<Found>, String> {
    let mut found = Vec::new();
    for record in records {
        let (id, route) = (&record.operation_id, record.route());
        found.push(locate(api, record).ok_or_else(|| {
            format!(
                "{spec}: it has no operation `{id}` (nor {route}), which {deviations_file} lists \
                 under `operations:`. Correct the record there, or the fragment."
            )
        })?);
    }
    for (path, method, operation) in api.operations() {
        if !found.iter().any(|f| f.path == path && f.method == method) {
            let id = operation.operation_id.as_ref();
            let id = id.map_or_else(String::new, |id| format!("`{id}`, "));
            return Err(format!(
                "{spec}: its operation {id}{} {path} is not listed under `operations:` in \
                 {deviations_file}, so the drift check would not compare it. Add it there \
                 (operation_id, method and path as Webflow publishes it).",
                method.to_uppercase()
            ));
        }
    }
    Ok(found)
}

/// Finds every recorded operation upstream, by operationId, else by method and path; the
/// error names every one it could not find.
fn find_upstream(
    upstream: &Spec,
    records: &[OperationRecord],
    deviations_file: &str,
) -> Result<Vec<Found>, String> {
    let paths = upstream.raw.get("paths").and_then(Value::as_object);
    let count = paths.map_or(0, |paths| paths.len());
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for record in records {
        match locate(&upstream.api, record) {
            Some(at) => found.push(at),
            None => missing.push(format!(
                "`{}`: no operation has that operationId, and there is no {} among its {count} paths",
                record.operation_id,
                record.route()
            )),
        }
    }
    if missing.is_empty() {
        return Ok(found);
    }
    let them = if missing.len() == 1 { "it" } else { "them" };
    Err(format!(
        "has no operation {}. Webflow may have renamed or moved {them}: find {them} in the \
         document and update `operations:` in {deviations_file}.",
        missing.join("; and no operation ")
    ))
}

/// The operation `record.operation_id`, else the one at `record.method` + `record.path`.
fn locate(api: &OpenAPI, record: &OperationRecord) -> Option<Found> {
    let operations: Vec<(&str, &str, &Operation)> = api.operations().collect();
    let id = Some(record.operation_id.as_str());
    let by_id = operations
        .iter()
        .find(|(_, _, op)| op.operation_id.as_deref() == id);
    let (path, method, found_by, operation_id) = match by_id {
        Some((path, method, _)) => (path, method, "operationId", None),
        None => {
            let route = |(path, method, _): &&(&str, &str, &Operation)| {
                *path == record.path && *method == record.method
            };
            let (path, method, op) = operations.iter().find(route)?;
            (path, method, "method and path", op.operation_id.clone())
        }
    };
    let pointer = format!("/paths/{}/{method}", escape_token(path));
    let (method, path) = (method.to_string(), path.to_string());
    Some(Found {
        found_by,
        operation_id,
        method,
        path,
        pointer,
    })
}

/// The `openapi` version of an OpenAPI 3 document, or why the document is not one.
fn openapi_version(root: &Value) -> Result<String, String> {
    match root.get("openapi") {
        Some(Value::String(version)) if version.starts_with("3.") => {}
        Some(other) => {
            let shown = other
                .as_str()
                .map_or_else(|| other.to_string(), str::to_string);
            return Err(format!(
                "is OpenAPI `{shown}`; the drift check reads OpenAPI 3.0 and 3.1."
            ));
        }
        None if root.get("swagger").is_some() => {
            return Err(
                "is a Swagger 2.0 document; the drift check reads OpenAPI 3.0 and 3.1.".into(),
            );
        }
        None => {
            let keys = root.as_object().into_iter().flat_map(|o| o.keys()).take(8);
            let keys: Vec<String> = keys.map(|k| format!("`{k}`")).collect();
            return Err(format!(
                "is not an OpenAPI document: it has no `openapi` field (its top-level keys are {}). \
                 Pass Webflow's OpenAPI document (openapi/v2.yml of github.com/webflow/openapi-spec).",
                keys.join(", ")
            ));
        }
    }
    if !root.get("paths").is_some_and(Value::is_object) {
        return Err(
            "is not an OpenAPI document that can hold the operation: it has no `paths` mapping."
                .into(),
        );
    }
    Ok(root["openapi"].as_str().unwrap_or_default().to_string())
}
