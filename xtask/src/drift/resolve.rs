//! Where things are, and following `$ref`s to them: a `Loc` is a node's JSON pointer in its
//! document and its pointer as `spec/deviations.yaml` writes it; `resolve` turns an
//! openapiv3 `ReferenceOr<T>` into the `T` it names, moving the document pointer along.

use std::borrow::Cow;

use openapiv3::ReferenceOr;
use serde::Serialize;
use serde::de::{Deserialize, DeserializeOwned};
use serde_json::Value;

/// Escapes one reference token of a JSON pointer (RFC 6901).
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Whether deviation pointers for a node are relative to the operation or to the document.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    #[default]
    Operation,
    Document,
}

impl Scope {
    pub fn name(self) -> &'static str {
        match self {
            Scope::Operation => "operation",
            Scope::Document => "document",
        }
    }
}

/// Where a node is: its JSON pointer in its own document (after following `$ref`s), and
/// its pointer as `spec/deviations.yaml` writes it (relative to the operation, through
/// `$ref`s, as if everything were inlined, with parameters named by `parameter_token`).
/// Serialised as the upstream spot of a difference in the JSON report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Loc {
    #[serde(rename = "upstream_pointer")]
    pub pointer: String,
    #[serde(rename = "upstream_relative_pointer")]
    pub relative: String,
    #[serde(rename = "relative_to")]
    pub scope: Scope,
}

impl Loc {
    /// An operation object at `pointer`: the root of its relative pointers.
    pub fn operation(pointer: &str) -> Self {
        let pointer = pointer.to_string();
        Loc {
            pointer,
            ..Loc::default()
        }
    }

    pub fn document(pointer: &str) -> Self {
        let (pointer, relative) = (pointer.to_string(), pointer.to_string());
        let scope = Scope::Document;
        Loc {
            pointer,
            scope,
            relative,
        }
    }

    /// The location of `token` below this one (which need not exist).
    pub fn child(&self, token: impl ToString) -> Self {
        let escaped = escape_token(&token.to_string());
        Loc {
            pointer: format!("{}/{escaped}", self.pointer),
            scope: self.scope,
            relative: format!("{}/{escaped}", self.relative),
        }
    }
}

/// How a deviation pointer names an operation's parameter: `query:slug` (location and
/// name, as in `/parameters/query:slug`), so that a parameter added or removed upstream
/// does not move the others. Header names ignore case.
pub fn parameter_token(location: &str, name: &str) -> String {
    match location {
        "header" => format!("{location}:{}", name.to_ascii_lowercase()),
        _ => format!("{location}:{name}"),
    }
}

/// The item `value` (found at `loc` in `raw`, the document after the pre-pass) is or names,
/// following local `$ref`s and reading each target as the openapiv3 type the reference
/// stands for. The relative pointer stays where the reference was written; the document
/// pointer moves to the target.
pub fn resolve<'t, T: DeserializeOwned + Clone>(
    raw: &Value,
    value: &'t ReferenceOr<T>,
    loc: &Loc,
) -> Result<(Cow<'t, T>, Loc), String> {
    let mut reference = match value {
        ReferenceOr::Item(item) => return Ok((Cow::Borrowed(item), loc.clone())),
        ReferenceOr::Reference { reference } => reference.clone(),
    };
    let mut loc = loc.clone();
    let mut seen: Vec<String> = Vec::new();
    loop {
        let at = &loc.pointer;
        let Some(pointer) = reference.strip_prefix('#') else {
            return Err(format!(
                "`$ref: {reference}` at {at} points outside the document; only local \
                 references (`#/components/...`) are supported"
            ));
        };
        if seen.iter().any(|p| p == pointer) {
            return Err(format!("`$ref: {reference}` at {at} refers to itself"));
        }
        let Some(target) = raw.pointer(pointer) else {
            return Err(format!(
                "`$ref: {reference}` at {at} does not resolve: there is nothing at that \
                 path in the document"
            ));
        };
        let target = ReferenceOr::<T>::deserialize(target)
            .map_err(|e| format!("`$ref: {reference}` at {at}: its target cannot be read ({e})"))?;
        seen.push(pointer.to_string());
        loc.pointer = pointer.to_string();
        match target {
            ReferenceOr::Item(item) => return Ok((Cow::Owned(item), loc)),
            ReferenceOr::Reference { reference: next } => reference = next,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_chain_of_refs_moves_the_document_pointer_not_the_relative_one() {
        let raw = json!({"components": {"schemas": {
            "A": {"$ref": "#/components/schemas/B"}, "B": {"type": "string"},
            "C": {"$ref": "#/components/schemas/C"}}}});
        let loc = Loc::operation("/paths/~1x/get").child("requestBody");
        let chained = ReferenceOr::<openapiv3::Schema>::ref_("#/components/schemas/A");
        let (schema, at) = resolve(&raw, &chained, &loc).unwrap();
        assert!(matches!(schema, Cow::Owned(_)));
        assert_eq!(at.pointer, "/components/schemas/B");
        assert_eq!(
            (at.scope, at.relative.as_str()),
            (Scope::Operation, "/requestBody")
        );
        let looping = ReferenceOr::<openapiv3::Schema>::ref_("#/components/schemas/C");
        let error = resolve(&raw, &looping, &loc).unwrap_err();
        assert_eq!(
            error,
            "`$ref: #/components/schemas/C` at /components/schemas/C refers to itself"
        );
    }
}
