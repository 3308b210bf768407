//! Reading OpenAPI documents from disk: YAML or JSON into a JSON value, with errors that
//! name the file and the cause, and a check that every local `$ref` resolves.

use std::fmt;
use std::path::{Path, PathBuf};

/// Why a spec file could not be used. `Display` is one paragraph naming the file.
#[derive(Debug)]
pub struct SpecError {
    pub path: PathBuf,
    pub cause: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.cause)
    }
}

impl std::error::Error for SpecError {}

impl SpecError {
    pub fn new(path: &Path, cause: impl Into<String>) -> Self {
        SpecError {
            path: path.to_path_buf(),
            cause: cause.into(),
        }
    }
}

/// Reads `path` (YAML, of which JSON is a subset) into a JSON value.
pub fn read_document(path: &Path) -> Result<(String, serde_json::Value), SpecError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| SpecError::new(path, format!("cannot read the file: {e}")))?;
    let value = parse_document(&text).map_err(|cause| SpecError::new(path, cause))?;
    Ok((text, value))
}

/// Parses YAML or JSON text into a JSON value; the error says where the syntax broke.
pub fn parse_document(text: &str) -> Result<serde_json::Value, String> {
    let value: serde_json::Value =
        serde_norway::from_str(text).map_err(|e| format!("not valid YAML or JSON: {e}"))?;
    if !value.is_object() {
        return Err("the document is not a mapping (expected an OpenAPI object)".into());
    }
    Ok(value)
}

/// Resolves a local JSON pointer reference (`#/components/schemas/Foo`) in `root`.
pub fn resolve_ref<'a>(
    root: &'a serde_json::Value,
    reference: &str,
) -> Option<&'a serde_json::Value> {
    let pointer = reference.strip_prefix('#')?;
    root.pointer(pointer)
}

/// Every `$ref` in the document, with the JSON pointer of the object that holds it.
pub fn refs(value: &serde_json::Value) -> Vec<(String, String)> {
    fn walk(value: &serde_json::Value, at: &mut String, out: &mut Vec<(String, String)>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(r)) = map.get("$ref") {
                    out.push((at.clone(), r.clone()));
                }
                for (key, child) in map {
                    let len = at.len();
                    at.push('/');
                    at.push_str(&key.replace('~', "~0").replace('/', "~1"));
                    walk(child, at, out);
                    at.truncate(len);
                }
            }
            serde_json::Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    let len = at.len();
                    at.push_str(&format!("/{i}"));
                    walk(child, at, out);
                    at.truncate(len);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, &mut String::new(), &mut out);
    out
}

/// Fails on the first `$ref` that does not resolve inside the document.
pub fn check_refs(root: &serde_json::Value) -> Result<(), String> {
    for (at, reference) in refs(root) {
        if !reference.starts_with('#') {
            return Err(format!(
                "`$ref: {reference}` at #{at} points outside this file; only local references \
                 (`#/components/...`) are supported"
            ));
        }
        if resolve_ref(root, &reference).is_none() {
            return Err(format!(
                "`$ref: {reference}` at #{at} does not resolve: there is nothing at that path in \
                 the document"
            ));
        }
    }
    Ok(())
}
