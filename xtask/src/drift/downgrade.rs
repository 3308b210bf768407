//! The pre-pass: rewrites the OpenAPI 3.1 constructs that openapiv3 (a 3.0 reader) cannot
//! read into their 3.0 equivalents, records each rewrite for the report, and leaves on each
//! rewritten schema what the model needs to describe it as it was written.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::resolve::escape_token;

/// The extension under which a rewritten schema keeps what it was (an `Original`).
pub const ORIGINAL: &str = "x-drift-original";

/// What the pre-pass changed in one schema, beyond what 3.0 says the same way.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Original {
    /// `type` listed several types besides `null`; 3.0 has one, so `type` was left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
    /// The keyword (`items` or `prefixItems`) that held a list of schemas (a tuple), now
    /// read as `items: {anyOf: [...]}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tuple: Option<String>,
    /// `{type: 'null'}` branches were dropped from `oneOf`/`anyOf`: where each kept branch was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_branches: Option<Vec<usize>>,
    /// Keywords openapiv3 does not read (or not with such a value), as written.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub set_aside: BTreeMap<String, Value>,
}

/// A kind of rewrite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    OpenapiVersion,
    PathItemRef,
    BooleanSchema,
    TypeList,
    NullBranch,
    ExclusiveBound,
    Const,
    TupleItems,
    SetAside,
}

impl Rule {
    /// What the rule reads as what, for the report.
    pub fn describe(self) -> &'static str {
        match self {
            Rule::OpenapiVersion => "`openapi: 3.1.x` read as 3.0.3",
            Rule::PathItemRef => "a path item's `$ref` inlined",
            Rule::BooleanSchema => "a boolean schema read as `{}` (true) or `{not: {}}` (false)",
            Rule::TypeList => {
                "`type: [T, 'null']` read as `type: T` + `nullable: true` (several types: \
                 compared as listed)"
            }
            Rule::NullBranch => {
                "a `{type: 'null'}` branch of `oneOf`/`anyOf` read as `nullable: true`"
            }
            Rule::ExclusiveBound => {
                "a numeric `exclusiveMinimum`/`exclusiveMaximum` read as the bound + `true`"
            }
            Rule::Const => "`const: v` read as `enum: [v]`",
            Rule::TupleItems => {
                "a list of schemas under `items` (or `prefixItems`) read as `items: {anyOf: \
                 [...]}` (compared as a tuple)"
            }
            Rule::SetAside => {
                "a schema keyword openapiv3 does not read (e.g. `examples`) set aside and \
                 compared as written"
            }
        }
    }
}

/// One rewrite, at its pointer in the document as written.
#[derive(Debug)]
pub struct Rewrite {
    pub rule: Rule,
    pub pointer: String,
}

/// The kinds of OpenAPI object the pre-pass walks through to reach every schema.
#[derive(Clone, Copy)]
enum Node {
    /// A mapping of names to path items: `paths`, or a callback.
    PathItems,
    PathItem,
    Operation,
    /// A parameter or a header.
    Parameter,
    RequestBody,
    Response,
    MediaType,
    Components,
    Schema,
}

/// How a keyword holds nodes: one (or a list of them), or a mapping of names to them.
#[derive(Clone, Copy, PartialEq)]
enum Holds {
    Each,
    Map,
}

/// Where each kind of node holds others (`""`: the node itself).
#[rustfmt::skip]
fn children(node: Node) -> &'static [(&'static str, Holds, Node)] {
    use Holds::{Each, Map};
    use Node::*;
    match node {
        PathItems => &[("", Map, PathItem)],
        PathItem => &[
            ("parameters", Each, Parameter), ("get", Each, Operation), ("put", Each, Operation),
            ("post", Each, Operation), ("delete", Each, Operation), ("options", Each, Operation),
            ("head", Each, Operation), ("patch", Each, Operation), ("trace", Each, Operation),
        ],
        Operation => &[
            ("parameters", Each, Parameter), ("requestBody", Each, RequestBody),
            ("responses", Map, Response), ("callbacks", Map, PathItems),
        ],
        Parameter => &[("schema", Each, Schema), ("content", Map, MediaType)],
        RequestBody => &[("content", Map, MediaType)],
        Response => &[("headers", Map, Parameter), ("content", Map, MediaType)],
        MediaType => &[("schema", Each, Schema)],
        Components => &[
            ("schemas", Map, Schema), ("responses", Map, Response), ("parameters", Map, Parameter),
            ("requestBodies", Map, RequestBody), ("headers", Map, Parameter),
            ("callbacks", Map, PathItems),
        ],
        Schema => &[
            ("properties", Map, Schema), ("items", Each, Schema), ("prefixItems", Each, Schema),
            ("additionalProperties", Each, Schema), ("allOf", Each, Schema),
            ("anyOf", Each, Schema), ("oneOf", Each, Schema), ("not", Each, Schema),
        ],
    }
}

/// Rewrites `document` in place so that openapiv3 reads it; returns every rewrite.
pub fn downgrade(document: &mut Value) -> Vec<Rewrite> {
    let mut pass = Pass(Vec::new());
    if let Some(version) = document.get_mut("openapi")
        && version.as_str().is_some_and(|v| v.starts_with("3.1"))
    {
        *version = "3.0.3".into();
        pass.record(Rule::OpenapiVersion, "/openapi".into());
    }
    pass.inline_path_item_refs(document);
    for (key, node) in [("paths", Node::PathItems), ("components", Node::Components)] {
        if let Some(value) = document.get_mut(key) {
            pass.node(node, value, &format!("/{key}"));
        }
    }
    pass.0
}

struct Pass(Vec<Rewrite>);

impl Pass {
    fn record(&mut self, rule: Rule, pointer: String) {
        self.0.push(Rewrite { rule, pointer });
    }

    /// 3.1 path items may be `$ref`s (to `components/pathItems`); openapiv3 does not follow them.
    fn inline_path_item_refs(&mut self, document: &mut Value) {
        let paths = document
            .get("paths")
            .and_then(Value::as_object)
            .into_iter()
            .flatten();
        let targets: Vec<(String, Value)> = paths
            .filter_map(|(path, item)| {
                let pointer = item.get("$ref")?.as_str()?.strip_prefix('#')?;
                Some((path.clone(), document.pointer(pointer)?.clone()))
            })
            .collect();
        for (path, target) in targets {
            self.record(Rule::PathItemRef, format!("/paths/{}", escape_token(&path)));
            document["paths"][path] = target;
        }
    }

    /// Walks `value` (a `node`) and what it holds; children first, so that every pointer
    /// recorded is one of the document as written.
    fn node(&mut self, node: Node, value: &mut Value, at: &str) {
        if let (Node::Schema, Value::Bool(accepts)) = (node, &*value) {
            *value = if *accepts {
                json!({})
            } else {
                json!({"not": {}})
            };
            return self.record(Rule::BooleanSchema, at.to_string());
        }
        if !value.is_object() || value.get("$ref").is_some() {
            return;
        }
        for &(key, holds, child) in children(node) {
            let (held, at) = match key {
                "" => (&mut *value, at.to_string()),
                _ => match value.get_mut(key) {
                    Some(held) => (held, format!("{at}/{key}")),
                    None => continue,
                },
            };
            match (holds, held) {
                (Holds::Each, Value::Array(items)) => {
                    for (index, item) in items.iter_mut().enumerate() {
                        self.node(child, item, &format!("{at}/{index}"));
                    }
                }
                (Holds::Map, Value::Object(entries)) => {
                    for (name, item) in entries.iter_mut().filter(|(n, _)| !n.starts_with("x-")) {
                        self.node(child, item, &format!("{at}/{}", escape_token(name)));
                    }
                }
                // `additionalProperties: true` is 3.0 as well.
                (Holds::Each, Value::Bool(_)) if key == "additionalProperties" => {}
                (Holds::Each, held) => self.node(child, held, &at),
                _ => {}
            }
        }
        if let (Node::Schema, Value::Object(map)) = (node, value) {
            self.schema(map, at);
        }
    }

    /// Rewrites one schema object (its subschemas are done).
    fn schema(&mut self, map: &mut Map<String, Value>, at: &str) {
        let mut original = Original::default();
        if let Some(Value::Array(listed)) = map.get("type").cloned() {
            map.remove("type");
            let (nulls, types): (Vec<String>, Vec<String>) = listed
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .partition(|t| t == "null");
            if !nulls.is_empty() && !types.is_empty() {
                map.insert("nullable".into(), true.into());
            }
            match &types[..] {
                [] if nulls.is_empty() => {}
                [] => _ = map.insert("type".into(), "null".into()),
                [only] => _ = map.insert("type".into(), only.as_str().into()),
                _ => original.types = types,
            }
            self.record(Rule::TypeList, format!("{at}/type"));
        }
        let union = ["oneOf", "anyOf"]
            .into_iter()
            .find(|k| map.contains_key(*k));
        if let Some(keyword) = union
            && let Some(Value::Array(branches)) = map.get_mut(keyword)
        {
            let is_null = |b: &Value| {
                b.get("type") == Some(&json!("null")) && b.get("nullable") != Some(&json!(true))
            };
            let kept: Vec<usize> = (0..branches.len())
                .filter(|&i| !is_null(&branches[i]))
                .collect();
            if kept.len() < branches.len() {
                branches.retain(|branch| !is_null(branch));
                map.insert("nullable".into(), true.into());
                original.kept_branches = Some(kept);
                self.record(Rule::NullBranch, format!("{at}/{keyword}"));
            }
        }
        // 3.0 has one bound per side, exclusive or not: the stricter one is kept.
        for (keyword, bound, sign) in [
            ("exclusiveMinimum", "minimum", 1.0),
            ("exclusiveMaximum", "maximum", -1.0),
        ] {
            let Some(limit) = map.get(keyword).filter(|v| v.is_number()).cloned() else {
                continue;
            };
            let bounds = map.get(bound).and_then(Value::as_f64).zip(limit.as_f64());
            if bounds.is_some_and(|(bound, limit)| (bound - limit) * sign > 0.0) {
                map.remove(keyword);
            } else {
                map.insert(bound.into(), limit);
                map.insert(keyword.into(), true.into());
            }
            self.record(Rule::ExclusiveBound, format!("{at}/{keyword}"));
        }
        if let Some(value) = map.remove("const") {
            if map.contains_key("enum") {
                original.set_aside.insert("const".into(), value);
            } else {
                map.insert("enum".into(), json!([value]));
            }
            self.record(Rule::Const, format!("{at}/const"));
        }
        for keyword in ["prefixItems", "items"] {
            if !map.get(keyword).is_some_and(Value::is_array) {
                continue;
            }
            let list = map.remove(keyword).unwrap_or_default();
            if let Some(items) = map.remove("items") {
                original.set_aside.insert("items".into(), items);
            }
            map.insert("items".into(), json!({ "anyOf": list }));
            original.tuple = Some(keyword.to_string());
            self.record(Rule::TupleItems, format!("{at}/{keyword}"));
            break;
        }
        let unread: Vec<String> = map
            .iter()
            .filter(|(key, value)| !key.starts_with("x-") && !reads(key, value))
            .map(|(key, _)| key.clone())
            .collect();
        for key in unread {
            let value = map.remove(&key).unwrap_or_default();
            self.record(Rule::SetAside, format!("{at}/{}", escape_token(&key)));
            original.set_aside.insert(key, value);
        }
        if original != Original::default() {
            let kept = serde_json::to_value(&original).unwrap_or_default();
            map.insert(ORIGINAL.into(), kept);
        }
    }
}

/// Whether openapiv3 reads schema keyword `key` with this value.
fn reads(key: &str, value: &Value) -> bool {
    match key {
        "type" | "format" | "pattern" | "title" | "description" => value.is_string(),
        "nullable" | "readOnly" | "writeOnly" | "deprecated" | "uniqueItems"
        | "exclusiveMinimum" | "exclusiveMaximum" => value.is_boolean(),
        "minimum" | "maximum" | "multipleOf" => value.is_number(),
        "minLength" | "maxLength" | "minItems" | "maxItems" | "minProperties" | "maxProperties" => {
            value.is_u64()
        }
        "properties" | "items" | "not" | "externalDocs" | "discriminator" => value.is_object(),
        "additionalProperties" => value.is_object() || value.is_boolean(),
        "required" => value
            .as_array()
            .is_some_and(|l| l.iter().all(Value::is_string)),
        "enum" | "allOf" | "anyOf" | "oneOf" => value.is_array(),
        "example" | "default" => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(schema: Value) -> (Value, Vec<Rule>) {
        let mut document = json!({"openapi": "3.1.0", "components": {"schemas": {"s": schema}}});
        let rules = downgrade(&mut document).iter().map(|r| r.rule).collect();
        (document["components"]["schemas"]["s"].take(), rules)
    }

    #[test]
    fn nullable_spellings_become_nullable() {
        let (schema, rules) = rewritten(json!({"type": ["string", "null"]}));
        assert_eq!(schema, json!({"type": "string", "nullable": true}));
        assert_eq!(rules, [Rule::OpenapiVersion, Rule::TypeList]);
        let (schema, _) = rewritten(json!({"oneOf": [{"type": "null"}, {"$ref": "#/x"}]}));
        let original = json!({"kept_branches": [1]});
        let expected = json!({"oneOf": [{"$ref": "#/x"}], "nullable": true, ORIGINAL: original});
        assert_eq!(schema, expected);
    }

    #[test]
    fn a_tuple_is_read_as_any_of_and_remembered() {
        let (schema, rules) =
            rewritten(json!({"type": "array", "items": [{"type": "string"}, true],
            "examples": [["a"]], "exclusiveMinimum": 3, "const": 1}));
        let original = json!({"tuple": "items", "set_aside": {"examples": [["a"]]}});
        assert_eq!(
            schema,
            json!({"type": "array", "items": {"anyOf": [{"type": "string"}, {}]}, "minimum": 3,
                "exclusiveMinimum": true, "enum": [1], ORIGINAL: original})
        );
        let expected = [
            Rule::OpenapiVersion,
            Rule::BooleanSchema,
            Rule::ExclusiveBound,
            Rule::Const,
            Rule::TupleItems,
            Rule::SetAside,
        ];
        assert_eq!(rules, expected);
    }
}
