//! The comparable model of one operation: openapiv3's types read into one tree of `Node`s
//! (parameters, request body, responses, headers, media types, schemas), `$ref`s resolved,
//! 3.0 and 3.1 spellings made equal, annotations set apart from the wire keywords, every
//! node tagged with where it came from. `Node::canonical` (annotations left out) is the
//! normalised form that `spec/deviations.yaml` records.

use std::borrow::{Borrow, Cow};
use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{self as oa, ReferenceOr};
use serde::Serialize;
use serde::de::{Deserialize, DeserializeOwned};
use serde_json::{Map, Value};

use super::downgrade::{ORIGINAL, Original};
use super::resolve::{Loc, Scope, escape_token, parameter_token, resolve};

/// Keys that describe a node without changing what goes over the wire.
const ANNOTATION_KEYS: [&str; 9] = [
    "title",
    "description",
    "summary",
    "example",
    "examples",
    "deprecated",
    "externalDocs",
    "$comment",
    "xml",
];

/// Keyword to value, sorted by keyword.
pub type Keywords = Map<String, Value>;

/// What kind of OpenAPI object a node is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kind {
    Operation,
    Parameter,
    RequestBody,
    Response,
    Header,
    Media,
    #[default]
    Schema,
}

/// One object of an operation, normalised.
#[derive(Debug, Default)]
pub struct Node {
    pub kind: Kind,
    pub loc: Loc,
    /// How its parent names it: a parameter's `parameter_token`, a status, a header's,
    /// media type's or property's name as written; an index in a list.
    pub name: String,
    /// The other keywords that decide the wire format, as the normalised form writes them
    /// (`type`, `nullable`, `enum` sorted, `required` sorted, a boolean
    /// `additionalProperties`...; `$ref` marks a schema that refers back to one being
    /// expanded).
    pub facets: Keywords,
    /// The constraints that narrow a schema's values: `minLength`, `maximum`, `pattern`...
    pub limits: Keywords,
    /// Schema keywords the model does not interpret, compared as written.
    pub other: Keywords,
    /// Descriptions, examples, titles and vendor extensions.
    pub notes: Keywords,
    /// The nodes it holds, each under its keyword: `parameters`, `requestBody`,
    /// `responses`, `headers`, `content`, `schema`, `properties`, `additionalProperties`,
    /// `items`, `prefixItems` (a tuple, written `items: [...]`), `oneOf`, `anyOf`, `allOf`.
    pub kids: Vec<(&'static str, Node)>,
}

/// One operation: where it is served, its tree, and its effective security requirements.
#[derive(Debug)]
pub struct Operation {
    pub method: String,
    pub path: String,
    pub node: Node,
    /// `None` when neither the operation nor the document says anything about security.
    pub security: Option<Security>,
}

/// Effective security requirements: alternatives, each a map of scheme name to scopes.
#[derive(Debug)]
pub struct Security {
    pub loc: Loc,
    pub alternatives: Vec<BTreeMap<String, BTreeSet<String>>>,
}

impl Operation {
    /// The normalised form: the operation's own parameters keyed by `parameter_token`, its
    /// request body and responses, and its security when the operation itself sets it.
    pub fn canonical(&self) -> Value {
        let mut value = self.node.canonical();
        if let Some(security) = self.security.as_ref()
            && security.loc.scope == Scope::Operation
        {
            value["security"] = serde_json::to_value(&security.alternatives).unwrap_or_default();
        }
        value
    }
}

impl Node {
    fn new(kind: Kind, loc: Loc, notes: Keywords) -> Self {
        let node = Node::default();
        Node {
            kind,
            loc,
            notes,
            ..node
        }
    }

    /// Sets wire keyword `key`, unless `value` is null (not written).
    fn set(&mut self, key: &str, value: Value) {
        if !value.is_null() {
            self.facets.insert(key.to_string(), value);
        }
    }

    /// Sets a boolean keyword the normalised form writes only when true.
    fn flag(&mut self, key: &str, value: bool) {
        self.set(
            key,
            if value {
                Value::Bool(true)
            } else {
                Value::Null
            },
        );
    }

    fn hold(&mut self, keyword: &'static str, name: impl ToString, mut node: Node) {
        node.name = name.to_string();
        self.kids.push((keyword, node));
    }

    /// The nodes held under `keyword`, in order.
    pub fn kids<'a>(&'a self, keyword: &'a str) -> impl Iterator<Item = &'a Node> {
        let held = self.kids.iter().filter(move |(k, _)| *k == keyword);
        held.map(|(_, node)| node)
    }

    pub fn title(&self) -> Option<&str> {
        self.notes.get("title").and_then(Value::as_str)
    }

    /// The normalised form: wire keywords, the nodes held (maps by name, lists in order;
    /// parameters of the path item left out), then keywords the model does not interpret.
    pub fn canonical(&self) -> Value {
        let mut out = self.facets.clone();
        out.extend(self.limits.clone());
        for (keyword, node) in &self.kids {
            let value = node.canonical();
            let (list, map) = (Value::Array(Vec::new()), Value::Object(Map::new()));
            match *keyword {
                "parameters" if node.loc.scope != Scope::Operation => {}
                "requestBody" | "schema" | "additionalProperties" | "items" => {
                    out.insert(keyword.to_string(), value);
                }
                "prefixItems" | "oneOf" | "anyOf" | "allOf" => {
                    let key = keyword.replace("prefixItems", "items");
                    if let Value::Array(list) = out.entry(key).or_insert(list) {
                        list.push(value);
                    }
                }
                _ => {
                    if let Value::Object(map) = out.entry(*keyword).or_insert(map) {
                        map.insert(node.name.clone(), value);
                    }
                }
            }
        }
        out.extend(self.other.clone());
        Value::Object(out)
    }

    /// Whether the schema accepts every JSON value: written out, it has no keyword that
    /// narrows the values (it may have annotations, a default, `nullable`...).
    pub fn accepts_anything(&self) -> bool {
        let harmless = ["nullable", "default", "readOnly", "writeOnly"];
        let written = self.canonical();
        let keys = written.as_object().into_iter().flat_map(Map::keys);
        keys.into_iter().all(|key| harmless.contains(&key.as_str()))
    }
}

/// The JSON of a typed value, numbers written as integers when they are whole (openapiv3
/// reads `minimum` and a number's `enum` as floats).
fn json(value: impl Serialize) -> Value {
    let value = serde_json::to_value(value).unwrap_or_default();
    match value.as_f64() {
        Some(n) if value.is_f64() && n.fract() == 0.0 && n.abs() < 9e15 => Value::from(n as i64),
        _ => value,
    }
}

/// The annotations of a typed node (and any of `extra`), from the node as openapiv3 writes it.
fn notes(node: impl Serialize, extra: &[&str]) -> Keywords {
    let Value::Object(written) = json(node) else {
        return Keywords::new();
    };
    let annotation =
        |key: &str| ANNOTATION_KEYS.contains(&key) || extra.contains(&key) || key.starts_with("x-");
    let written = written.into_iter();
    written
        .filter(|(key, _)| annotation(key) && key != ORIGINAL)
        .collect()
}

/// Reads operations of one document into the model, following `$ref`s.
pub struct Reader<'a> {
    raw: &'a Value,
    api: &'a oa::OpenAPI,
    /// The `$ref` targets being expanded (to stop on recursive schemas).
    expanding: Vec<String>,
}

impl<'a> Reader<'a> {
    pub fn new(api: &'a oa::OpenAPI, raw: &'a Value) -> Self {
        let expanding = Vec::new();
        Reader {
            raw,
            api,
            expanding,
        }
    }

    /// Reads the operation `method` of the path item `path`, with the path item's own
    /// parameters (the operation's win on the same name and location).
    pub fn operation(&mut self, path: &str, method: &str) -> Result<Operation, String> {
        let item = (self.api.paths.paths.get(path)).ok_or_else(|| format!("no path `{path}`"))?;
        let item_loc = Loc::document(&format!("/paths/{}", escape_token(path)));
        let (item, item_loc) = resolve(self.raw, item, &item_loc)?;
        let (_, op) = (item.iter().find(|(m, _)| *m == method))
            .ok_or_else(|| format!("no `{method}` under `{path}`"))?;
        let loc = Loc::operation(&item_loc.child(method).pointer);
        let mut node = Node::new(Kind::Operation, loc.clone(), notes(op, &["tags"]));
        self.parameters(&mut node, &op.parameters, &loc.child("parameters"))?;
        self.parameters(&mut node, &item.parameters, &item_loc.child("parameters"))?;
        if let Some(body) = &op.request_body {
            let (body, loc) = resolve(self.raw, body, &loc.child("requestBody"))?;
            let mut held = Node::new(Kind::RequestBody, loc, notes(&body, &[]));
            held.flag("required", body.required);
            self.content(&mut held, &body.content)?;
            node.hold("requestBody", "", held);
        }
        let default = op.responses.default.iter().map(|r| ("default".into(), r));
        let statuses = op.responses.responses.iter();
        let statuses = statuses.map(|(s, r)| (s.to_string(), r));
        for (status, response) in statuses.chain(default) {
            let loc = loc.child("responses").child(&status);
            let held = self.response(response, &loc)?;
            node.hold("responses", status, held);
        }
        let security = match (&op.security, &self.api.security) {
            (Some(list), _) => Some(security(list, loc.child("security"))),
            (None, Some(list)) => Some(security(list, Loc::document("/security"))),
            (None, None) => None,
        };
        let (method, path) = (method.to_string(), path.to_string());
        Ok(Operation {
            method,
            path,
            node,
            security,
        })
    }

    /// Reads a `parameters` list into `op`. An operation's parameter is located by index in its document
    /// but, for deviations, by `parameter_token` (`/parameters/query:slug`).
    fn parameters(
        &mut self,
        op: &mut Node,
        list: &[ReferenceOr<oa::Parameter>],
        list_loc: &Loc,
    ) -> Result<(), String> {
        for (index, parameter) in list.iter().enumerate() {
            let (parameter, mut loc) = resolve(self.raw, parameter, &list_loc.child(index))?;
            let (data, written) = (parameter.parameter_data_ref(), json(&parameter));
            let location = written["in"].as_str().unwrap_or_default();
            let token = parameter_token(location, &data.name);
            // The path item's parameters (located in the document) give way to the operation's.
            if loc.scope == Scope::Document && op.kids("parameters").any(|p| p.name == token) {
                continue;
            }
            if loc.scope == Scope::Operation {
                loc.relative = format!("{}/{}", list_loc.relative, escape_token(&token));
            }
            let extra = ["style", "explode", "allowEmptyValue", "allowReserved"];
            let mut node = Node::new(Kind::Parameter, loc, notes(&written, &extra));
            node.set("name", data.name.clone().into());
            node.set("in", location.into());
            // A path parameter is always required.
            node.flag("required", data.required || location == "path");
            self.parameter_schema(&mut node, &data.format)?;
            op.hold("parameters", token, node);
        }
        Ok(())
    }

    fn parameter_schema(
        &mut self,
        node: &mut Node,
        format: &oa::ParameterSchemaOrContent,
    ) -> Result<(), String> {
        if let oa::ParameterSchemaOrContent::Schema(schema) = format {
            let schema = self.schema(schema, &node.loc.child("schema"))?;
            node.hold("schema", "", schema);
        }
        Ok(())
    }

    fn content<'c>(
        &mut self,
        node: &mut Node,
        content: impl IntoIterator<Item = (&'c String, &'c oa::MediaType)>,
    ) -> Result<(), String> {
        for (name, media) in content {
            let loc = node.loc.child("content").child(name);
            let mut held = Node::new(Kind::Media, loc, notes(media, &[]));
            if let Some(schema) = &media.schema {
                let schema = self.schema(schema, &held.loc.child("schema"))?;
                held.hold("schema", "", schema);
            }
            node.hold("content", name, held);
        }
        Ok(())
    }

    fn response(
        &mut self,
        response: &ReferenceOr<oa::Response>,
        loc: &Loc,
    ) -> Result<Node, String> {
        let (response, loc) = resolve(self.raw, response, loc)?;
        let mut node = Node::new(Kind::Response, loc, notes(&response, &[]));
        // Header names ignore case: the last of several spellings counts.
        let mut headers = BTreeMap::new();
        for (name, header) in &response.headers {
            let loc = node.loc.child("headers").child(name);
            let (header, loc) = resolve(self.raw, header, &loc)?;
            let mut held = Node::new(Kind::Header, loc, notes(&header, &[]));
            held.flag("required", header.required);
            self.parameter_schema(&mut held, &header.format)?;
            headers.insert(name.to_ascii_lowercase(), (name, held));
        }
        for (name, held) in headers.into_values() {
            node.hold("headers", name, held);
        }
        self.content(&mut node, &response.content)?;
        Ok(node)
    }

    /// Reads a schema, resolving `$ref`s and normalising spellings.
    pub fn schema<T>(&mut self, value: &ReferenceOr<T>, loc: &Loc) -> Result<Node, String>
    where
        T: Borrow<oa::Schema> + DeserializeOwned + Clone,
    {
        let reference = matches!(value, ReferenceOr::Reference { .. });
        let (schema, loc) = resolve(self.raw, value, loc)?;
        if !reference {
            return self.schema_object((*schema).borrow(), loc);
        }
        if self.expanding.contains(&loc.pointer) {
            let mut node = Node::new(Kind::Schema, loc, Keywords::new());
            node.set("$ref", format!("#{}", node.loc.pointer).into());
            return Ok(node);
        }
        self.expanding.push(loc.pointer.clone());
        let result = self.schema_object((*schema).borrow(), loc);
        self.expanding.pop();
        result
    }

    /// One schema object. Every kind of openapiv3's is read through its catch-all kind,
    /// `AnySchema`, which has every keyword; what the pre-pass rewrote is read back.
    fn schema_object(&mut self, schema: &oa::Schema, loc: Loc) -> Result<Node, String> {
        let (data, unreadable) = (&schema.schema_data, |e: serde_json::Error| e.to_string());
        let original = match data.extensions.get(ORIGINAL) {
            Some(kept) => Original::deserialize(kept).map_err(unreadable)?,
            None => Original::default(),
        };
        let any = match &schema.schema_kind {
            oa::SchemaKind::Any(any) => Cow::Borrowed(any),
            kind => Cow::Owned(oa::AnySchema::deserialize(json(kind)).map_err(unreadable)?),
        };
        let mut out = Node::new(Kind::Schema, loc, notes(schema, &[]));
        let types: BTreeSet<&String> = original.types.iter().chain(&any.typ).collect();
        match types.first() {
            Some(only) if types.len() == 1 => out.set("type", json(only)),
            _ if types.is_empty() => {}
            _ => out.set("type", json(&types)),
        }
        out.flag("nullable", data.nullable);
        out.set("format", json(&any.format));
        if !any.enumeration.is_empty() {
            let values = any.enumeration.iter();
            let values = values.filter(|v| !(data.nullable && v.is_null()));
            out.set("enum", Value::Array(sorted_values(values.map(json))));
        }
        out.set("default", data.default.clone().unwrap_or_default());
        let exclusive = |bound: Option<bool>| json(bound.filter(|b| *b));
        let constraints = [
            ("minLength", json(any.min_length)),
            ("maxLength", json(any.max_length)),
            ("pattern", json(&any.pattern)),
            ("minimum", json(any.minimum)),
            ("maximum", json(any.maximum)),
            ("exclusiveMinimum", exclusive(any.exclusive_minimum)),
            ("exclusiveMaximum", exclusive(any.exclusive_maximum)),
            ("multipleOf", json(any.multiple_of)),
            ("minItems", json(any.min_items)),
            ("maxItems", json(any.max_items)),
            ("uniqueItems", exclusive(any.unique_items)),
            ("minProperties", json(any.min_properties)),
            ("maxProperties", json(any.max_properties)),
        ];
        let constraints = constraints
            .into_iter()
            .filter(|(_, value)| !value.is_null());
        out.limits = constraints
            .map(|(key, value)| (key.into(), value))
            .collect();
        out.flag("readOnly", data.read_only);
        out.flag("writeOnly", data.write_only);
        for (name, property) in &any.properties {
            let property = self.schema(property, &out.loc.child("properties").child(name))?;
            out.hold("properties", name, property);
        }
        let required: BTreeSet<&String> = any.required.iter().collect();
        if !required.is_empty() {
            out.set("required", json(required));
        }
        match &any.additional_properties {
            None => {}
            Some(oa::AdditionalProperties::Any(allowed)) => {
                out.set("additionalProperties", Value::Bool(*allowed));
            }
            Some(oa::AdditionalProperties::Schema(schema)) => {
                let loc = out.loc.child("additionalProperties");
                let schema = self.schema(schema, &loc)?;
                out.hold("additionalProperties", "", schema);
            }
        }
        match (&any.items, &original.tuple) {
            (None, _) => {}
            // A tuple the pre-pass read as `items: {anyOf: [...]}`, each schema at its place.
            (Some(ReferenceOr::Item(tuple)), Some(keyword)) => {
                let oa::SchemaKind::AnyOf { any_of } = &tuple.schema_kind else {
                    let at = &out.loc.pointer;
                    return Err(format!("the tuple at {at} was not rewritten"));
                };
                self.list(&mut out, "prefixItems", any_of, keyword, None)?;
            }
            (Some(items), _) => {
                let items = self.schema(items, &out.loc.child("items"))?;
                out.hold("items", "", items);
            }
        }
        let kept = original.kept_branches.as_deref();
        if !any.one_of.is_empty() {
            self.list(&mut out, "oneOf", &any.one_of, "oneOf", kept)?;
        } else if !any.any_of.is_empty() {
            self.list(&mut out, "anyOf", &any.any_of, "anyOf", kept)?;
        }
        self.list(&mut out, "allOf", &any.all_of, "allOf", None)?;
        if let Some(not) = &any.not {
            out.other.insert("not".into(), json(not));
        }
        if let Some(discriminator) = &data.discriminator {
            let discriminator = json(discriminator);
            out.other.insert("discriminator".into(), discriminator);
        }
        for (key, value) in original.set_aside {
            match ANNOTATION_KEYS.contains(&key.as_str()) {
                true => out.notes.insert(key, value),
                false => out.other.insert(key, value),
            };
        }
        if kept.is_some() {
            fold_single_branch(&mut out);
        }
        let held = |keyword| out.kids(keyword).next().is_some();
        let combined = ["oneOf", "anyOf", "allOf"].into_iter().any(held);
        if !out.facets.contains_key("type") && !combined {
            let object = ["properties", "additionalProperties"].into_iter().any(held)
                || out.facets.contains_key("required")
                || out.facets.contains_key("additionalProperties");
            if object {
                out.set("type", "object".into());
            } else if held("items") || held("prefixItems") {
                out.set("type", "array".into());
            }
        }
        Ok(out)
    }

    /// A list of schemas, held under `keyword`, written under `written`; `places` says where
    /// each was written, when the pre-pass moved them.
    fn list(
        &mut self,
        out: &mut Node,
        keyword: &'static str,
        list: &[ReferenceOr<oa::Schema>],
        written: &str,
        places: Option<&[usize]>,
    ) -> Result<(), String> {
        for (index, schema) in list.iter().enumerate() {
            let place = places.map_or(index, |places| places[index]);
            let schema = self.schema(schema, &out.loc.child(written).child(place))?;
            out.hold(keyword, index, schema);
        }
        Ok(())
    }
}

/// `values` sorted by their JSON text, so that two enums compare as sets.
fn sorted_values(values: impl Iterator<Item = Value>) -> Vec<Value> {
    let mut sorted: Vec<Value> = values.collect();
    sorted.sort_by_cached_key(Value::to_string);
    sorted
}

/// A nullable union left with one branch (3.1's nullable reference, `oneOf: [{$ref: ...},
/// {type: 'null'}]`): the branch takes the union's place.
fn fold_single_branch(schema: &mut Node) {
    let branches: Vec<usize> = (0..schema.kids.len())
        .filter(|&i| matches!(schema.kids[i].0, "oneOf" | "anyOf"))
        .collect();
    let [only] = branches[..] else { return };
    let (_, only) = schema.kids.remove(only);
    let parent = std::mem::replace(schema, only);
    schema.loc = parent.loc;
    schema.flag("nullable", true);
    for (key, value) in parent.notes {
        schema.notes.entry(key).or_insert(value);
    }
}

fn security(list: &[oa::SecurityRequirement], loc: Loc) -> Security {
    let alternatives = list.iter().map(|requirement| {
        let schemes = requirement
            .iter()
            .map(|(scheme, scopes)| (scheme.clone(), scopes.iter().cloned().collect()));
        schemes.collect()
    });
    Security {
        loc,
        alternatives: alternatives.collect(),
    }
}
