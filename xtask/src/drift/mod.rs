//! `cargo xtask drift`: tells whether Webflow's published operation still matches our
//! fragment, and which differences `spec/deviations.yaml` explains.
//!
//! Exit codes: 0 no unexplained drift; 1 unexplained breaking or additive differences,
//! or stale deviations; 2 the check could not run.

mod compare;
mod deviations;
mod model;
mod report;
mod source;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::Value;

use crate::codegen;
use crate::spec_file;
use compare::{Class, Difference};
use deviations::{DeviationStatus, Deviations};
use model::{Document, Loc, METHODS, Operation};

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
    /// Our fragment and the deviations file, as shown (relative to the workspace when inside it).
    pub spec: String,
    pub deviations_file: String,
    pub found_by: FoundBy,
    pub operation_id: String,
    pub method: String,
    pub path: String,
    /// The document pointer of upstream's operation object.
    pub upstream_operation_pointer: String,
    pub differences: Vec<Difference>,
    pub deviations: Vec<DeviationStatus>,
    pub verbose: bool,
}

impl Outcome {
    pub fn unexplained(&self, class: Class) -> impl Iterator<Item = &Difference> {
        self.differences
            .iter()
            .filter(move |d| d.class == class && d.explained_by.is_none())
    }

    pub fn stale(&self) -> impl Iterator<Item = &DeviationStatus> {
        self.deviations.iter().filter(|d| d.is_stale())
    }

    pub fn exit_code(&self) -> u8 {
        let drift = self.unexplained(Class::Breaking).next().is_some()
            || self.unexplained(Class::Additive).next().is_some()
            || self.stale().next().is_some();
        u8::from(drift)
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

/// Loads everything, compares, and applies the deviations. `Err` is a one-paragraph
/// reason why the check could not run.
fn check(options: &Options) -> Result<Outcome, String> {
    let deviations = deviations::load(&options.deviations)?;
    let (ours_root, ours) = load_ours(&options.spec, &deviations)?;

    let upstream_root = source::load(&options.upstream)?;
    let upstream_name = format!("the upstream document {}", options.upstream);
    let upstream_version =
        openapi_version(&upstream_root).map_err(|cause| format!("{upstream_name} {cause}"))?;
    let (path, method, found_by) = find_upstream_operation(&upstream_root, &deviations)
        .map_err(|cause| format!("{upstream_name} {cause}"))?;
    let upstream = Document::new(&upstream_root)
        .operation(&path, &method)
        .map_err(|e| format!("{upstream_name} cannot be read: {}", e.0))?;

    let mut differences = compare::compare(&upstream, &ours);
    let ours_version = ours_root
        .get("openapi")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if upstream_version != ours_version {
        let description = format!("upstream is OpenAPI {upstream_version}, ours {ours_version}");
        differences.insert(0, document_difference("/openapi", description));
    }
    if let FoundBy::MethodAndPath { operation_id } = &found_by {
        let description = format!(
            "upstream's operationId is {}, not `{}` (found by method and path)",
            operation_id
                .as_deref()
                .map_or_else(|| "missing".to_string(), |id| format!("`{id}`")),
            deviations.upstream.operation_id
        );
        let mut difference = document_difference("", description);
        difference.upstream = upstream.loc.child("operationId");
        difference.ours = ours.loc.child("operationId").pointer;
        differences.insert(0, difference);
    }
    let statuses = deviations::apply(
        &deviations,
        &upstream.canonical(),
        &upstream_root,
        &mut differences,
    );
    Ok(Outcome {
        upstream_source: options.upstream.clone(),
        upstream_version,
        spec: shown_path(&options.spec),
        deviations_file: shown_path(&options.deviations),
        found_by,
        operation_id: deviations.upstream.operation_id.clone(),
        method,
        path,
        upstream_operation_pointer: upstream.loc.pointer.clone(),
        differences,
        deviations: statuses,
        verbose: options.verbose,
    })
}

/// `path` relative to the workspace root when it is inside it.
fn shown_path(path: &Path) -> String {
    let path = path.strip_prefix(codegen::project_root()).unwrap_or(path);
    path.display().to_string().replace('\\', "/")
}

fn document_difference(pointer: &str, description: String) -> Difference {
    Difference {
        class: Class::Cosmetic,
        subject: "document".into(),
        description,
        action: "Nothing required: the drift check reads both".into(),
        upstream: Loc::document(pointer),
        ours: pointer.to_string(),
        explained_by: None,
        under_stale: None,
    }
}

/// Our fragment, checked and modelled.
fn load_ours(spec: &Path, deviations: &Deviations) -> Result<(Value, Operation), String> {
    let (_, root) = spec_file::read_document(spec).map_err(|e| e.to_string())?;
    spec_file::check_refs(&root).map_err(|cause| format!("{}: {cause}", spec.display()))?;
    let wanted = &deviations.upstream;
    let (path, method, _) =
        find_operation(&root, &wanted.operation_id, &wanted.method, &wanted.path).ok_or_else(
            || {
                format!(
                    "{}: it has no operation `{}`",
                    spec.display(),
                    wanted.operation_id
                )
            },
        )?;
    let operation = Document::new(&root)
        .operation(&path, &method)
        .map_err(|e| format!("{}: {}", spec.display(), e.0))?;
    Ok((root, operation))
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
            let keys: Vec<&str> = root
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k.as_str())
                .take(8)
                .collect();
            return Err(format!(
                "is not an OpenAPI document: it has no `openapi` field (its top-level keys are {}). \
                 Pass Webflow's OpenAPI document (openapi/v2.yml of github.com/webflow/openapi-spec).",
                keys.iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
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

/// How upstream's operation was found.
#[derive(Debug, PartialEq, Eq)]
pub enum FoundBy {
    OperationId,
    /// By method and path; the operationId found there (if any) is not ours.
    MethodAndPath {
        operation_id: Option<String>,
    },
}

/// Finds upstream's operation: by operationId, else by method and path.
fn find_upstream_operation(
    root: &Value,
    deviations: &Deviations,
) -> Result<(String, String, FoundBy), String> {
    let wanted = &deviations.upstream;
    find_operation(root, &wanted.operation_id, &wanted.method, &wanted.path).ok_or_else(|| {
        let count = root
            .get("paths")
            .and_then(Value::as_object)
            .map_or(0, |paths| paths.len());
        format!(
            "has no operation `{}`: no operation has that operationId, and there is no {} {} among \
             its {count} paths. Webflow may have renamed or moved it: find it in the document and \
             update `upstream:` in spec/deviations.yaml.",
            wanted.operation_id,
            wanted.method.to_uppercase(),
            wanted.path
        )
    })
}

/// `(path, method, how it was found)` of the operation `operation_id`, else of the one at
/// `method` + `path`.
fn find_operation(
    root: &Value,
    operation_id: &str,
    method: &str,
    path: &str,
) -> Option<(String, String, FoundBy)> {
    let paths = root.get("paths")?.as_object()?;
    for (candidate_path, item) in paths {
        let Some(item) = path_item(root, item) else {
            continue;
        };
        for candidate_method in METHODS {
            let id = item
                .get(candidate_method)
                .and_then(|op| op.get("operationId"))
                .and_then(Value::as_str);
            if id == Some(operation_id) {
                return Some((
                    candidate_path.clone(),
                    candidate_method.to_string(),
                    FoundBy::OperationId,
                ));
            }
        }
    }
    let operation = path_item(root, paths.get(path)?)?.get(method)?;
    let operation_id = operation
        .get("operationId")
        .and_then(Value::as_str)
        .map(str::to_string);
    Some((
        path.to_string(),
        method.to_string(),
        FoundBy::MethodAndPath { operation_id },
    ))
}

/// A path item, through its `$ref` if it has one.
fn path_item<'a>(root: &'a Value, item: &'a Value) -> Option<&'a Value> {
    match item.get("$ref").and_then(Value::as_str) {
        Some(reference) => spec_file::resolve_ref(root, reference),
        None => Some(item),
    }
}
