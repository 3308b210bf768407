//! The comparable model of one operation: `$ref`s resolved, 3.0 and 3.1 spellings made
//! equal, annotations set apart from what decides the wire format, and every node tagged
//! with where it came from.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value};

/// The HTTP methods an OpenAPI path item can hold, in the order they are searched.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

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

/// Schema keywords that narrow the accepted values; compared for strictness.
const CONSTRAINT_KEYS: [&str; 13] = [
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
];

/// Schema keywords the model reads itself (everything else is kept as "other").
const MODELLED_SCHEMA_KEYS: [&str; 15] = [
    "$ref",
    "type",
    "nullable",
    "format",
    "enum",
    "const",
    "default",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "prefixItems",
    "oneOf",
    "anyOf",
    "allOf",
];

/// Escapes one reference token of a JSON pointer (RFC 6901).
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Whether deviation pointers for a node are relative to the operation or to the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loc {
    pub pointer: String,
    pub scope: Scope,
    pub relative: String,
}

impl Loc {
    pub fn operation(pointer: &str) -> Self {
        Loc {
            pointer: pointer.to_string(),
            scope: Scope::Operation,
            relative: String::new(),
        }
    }

    pub fn document(pointer: &str) -> Self {
        Loc {
            pointer: pointer.to_string(),
            scope: Scope::Document,
            relative: pointer.to_string(),
        }
    }

    /// The location of `token` below this one (which need not exist).
    pub fn child(&self, token: &str) -> Self {
        let escaped = escape_token(token);
        Loc {
            pointer: format!("{}/{escaped}", self.pointer),
            scope: self.scope,
            relative: format!("{}/{escaped}", self.relative),
        }
    }
}

/// Why a document could not be modelled (a `$ref` that does not resolve, a node of the
/// wrong kind). The message names the place; the caller adds the file.
#[derive(Debug)]
pub struct ModelError(pub String);

/// An OpenAPI document being read, with the `$ref` targets currently being expanded (to
/// stop on recursive schemas).
pub struct Document<'a> {
    root: &'a Value,
    expanding: Vec<String>,
}

/// One operation, normalised.
#[derive(Debug)]
pub struct Operation {
    pub loc: Loc,
    pub method: String,
    pub path: String,
    pub parameters: Vec<Parameter>,
    pub request_body: Option<RequestBody>,
    pub responses: BTreeMap<String, Response>,
    /// `None` when neither the operation nor the document says anything about security.
    pub security: Option<Security>,
    pub annotations: Annotations,
}

#[derive(Debug)]
pub struct Parameter {
    pub loc: Loc,
    pub name: String,
    pub location: String,
    pub required: bool,
    pub schema: Option<Schema>,
    /// `true` when the parameter comes from the path item rather than the operation.
    pub from_path_item: bool,
    pub annotations: Annotations,
}

impl Parameter {
    /// Parameters are identified by location and name; header names ignore case.
    pub fn key(&self) -> (String, String) {
        parameter_key(&self.location, &self.name)
    }
}

fn parameter_key(location: &str, name: &str) -> (String, String) {
    let name = if location == "header" {
        name.to_ascii_lowercase()
    } else {
        name.to_string()
    };
    (location.to_string(), name)
}

/// How a deviation pointer names an operation's parameter: `query:slug` (location and
/// name, as in `/parameters/query:slug`), so that a parameter added or removed upstream
/// does not move the others.
pub fn parameter_token(location: &str, name: &str) -> String {
    let (location, name) = parameter_key(location, name);
    format!("{location}:{name}")
}

#[derive(Debug)]
pub struct RequestBody {
    pub loc: Loc,
    pub required: bool,
    pub content: BTreeMap<String, MediaType>,
    pub annotations: Annotations,
}

#[derive(Debug)]
pub struct MediaType {
    pub loc: Loc,
    pub schema: Option<Schema>,
    pub annotations: Annotations,
}

#[derive(Debug)]
pub struct Response {
    pub loc: Loc,
    /// Keyed by the header name in lower case; `Header::name` keeps the spelling.
    pub headers: BTreeMap<String, Header>,
    pub content: BTreeMap<String, MediaType>,
    pub annotations: Annotations,
}

#[derive(Debug)]
pub struct Header {
    pub loc: Loc,
    pub name: String,
    pub required: bool,
    pub schema: Option<Schema>,
    pub annotations: Annotations,
}

/// Effective security requirements: alternatives, each a map of scheme name to scopes.
#[derive(Debug)]
pub struct Security {
    pub loc: Loc,
    pub alternatives: Vec<BTreeMap<String, BTreeSet<String>>>,
}

/// Descriptions, examples, titles and vendor extensions of a node, keyed by keyword.
pub type Annotations = BTreeMap<String, Value>;

/// `additionalProperties`, as written: progenitor treats `true` and `{}` differently even
/// though JSON Schema does not.
#[derive(Debug)]
pub enum Additional {
    Unspecified,
    Bool(bool),
    Schema(Box<Schema>),
}

impl Additional {
    /// Whether any extra property is accepted.
    pub fn accepts_any(&self) -> bool {
        match self {
            Additional::Unspecified | Additional::Bool(true) => true,
            Additional::Bool(false) => false,
            Additional::Schema(schema) => schema.accepts_anything(),
        }
    }
}

/// `items`: one schema for every element, or the draft-4 tuple form (a list of schemas;
/// 2020-12 `prefixItems` is read the same way).
#[derive(Debug)]
pub enum Items {
    Each(Box<Schema>),
    Tuple(Vec<Schema>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnionKind {
    OneOf,
    AnyOf,
}

impl UnionKind {
    pub fn keyword(self) -> &'static str {
        match self {
            UnionKind::OneOf => "oneOf",
            UnionKind::AnyOf => "anyOf",
        }
    }
}

/// A schema, normalised: `type: [T, 'null']`, `nullable: true` and a `{type: 'null'}`
/// branch of a `oneOf`/`anyOf` all become `nullable`; a schema with `properties` and no
/// `type` is an object; `const: v` is `enum: [v]`.
#[derive(Debug)]
pub struct Schema {
    pub loc: Loc,
    /// JSON types other than `null`; empty means any type.
    pub types: BTreeSet<String>,
    pub nullable: bool,
    pub format: Option<String>,
    pub enumeration: Option<Vec<Value>>,
    pub default: Option<Value>,
    pub properties: BTreeMap<String, Schema>,
    pub required: BTreeSet<String>,
    pub additional: Additional,
    pub items: Option<Items>,
    pub union: Option<(UnionKind, Vec<Schema>)>,
    pub all_of: Vec<Schema>,
    pub constraints: BTreeMap<String, Value>,
    pub read_only: bool,
    pub write_only: bool,
    /// Keywords the model does not interpret, compared as written.
    pub other: BTreeMap<String, Value>,
    pub annotations: Annotations,
    /// Set instead of everything else when the schema refers back to one being expanded.
    pub recursive: Option<String>,
}

impl Schema {
    fn empty(loc: Loc) -> Self {
        Schema {
            loc,
            types: BTreeSet::new(),
            nullable: false,
            format: None,
            enumeration: None,
            default: None,
            properties: BTreeMap::new(),
            required: BTreeSet::new(),
            additional: Additional::Unspecified,
            items: None,
            union: None,
            all_of: Vec::new(),
            constraints: BTreeMap::new(),
            read_only: false,
            write_only: false,
            other: BTreeMap::new(),
            annotations: Annotations::new(),
            recursive: None,
        }
    }

    /// Whether the schema accepts every JSON value (`{}`, possibly with annotations).
    pub fn accepts_anything(&self) -> bool {
        self.types.is_empty()
            && self.format.is_none()
            && self.enumeration.is_none()
            && self.properties.is_empty()
            && self.required.is_empty()
            && matches!(self.additional, Additional::Unspecified)
            && self.items.is_none()
            && self.union.is_none()
            && self.all_of.is_empty()
            && self.constraints.is_empty()
            && self.other.is_empty()
            && self.recursive.is_none()
    }

    /// The schema's `title`, if it has one.
    pub fn title(&self) -> Option<&str> {
        self.annotations.get("title").and_then(Value::as_str)
    }

    /// The normalised schema as JSON, without annotations: what deviations record as
    /// `upstream_value`. Lists whose order means nothing (`required`, `enum`, `type`) are
    /// sorted.
    pub fn canonical(&self) -> Value {
        let mut map = Map::new();
        if let Some(target) = &self.recursive {
            map.insert("$ref".into(), Value::String(target.clone()));
            return Value::Object(map);
        }
        match self.types.len() {
            0 => {}
            1 => {
                let only = self.types.iter().next().cloned().unwrap_or_default();
                map.insert("type".into(), Value::String(only));
            }
            _ => {
                map.insert(
                    "type".into(),
                    self.types.iter().cloned().map(Value::String).collect(),
                );
            }
        }
        if self.nullable {
            map.insert("nullable".into(), Value::Bool(true));
        }
        if let Some(format) = &self.format {
            map.insert("format".into(), Value::String(format.clone()));
        }
        if let Some(values) = &self.enumeration {
            map.insert("enum".into(), Value::Array(sorted_values(values)));
        }
        if let Some(default) = &self.default {
            map.insert("default".into(), default.clone());
        }
        if !self.properties.is_empty() {
            let properties = self
                .properties
                .iter()
                .map(|(name, schema)| (name.clone(), schema.canonical()));
            map.insert("properties".into(), Value::Object(properties.collect()));
        }
        if !self.required.is_empty() {
            map.insert(
                "required".into(),
                self.required.iter().cloned().map(Value::String).collect(),
            );
        }
        match &self.additional {
            Additional::Unspecified => {}
            Additional::Bool(allowed) => {
                map.insert("additionalProperties".into(), Value::Bool(*allowed));
            }
            Additional::Schema(schema) => {
                map.insert("additionalProperties".into(), schema.canonical());
            }
        }
        match &self.items {
            None => {}
            Some(Items::Each(schema)) => {
                map.insert("items".into(), schema.canonical());
            }
            Some(Items::Tuple(schemas)) => {
                map.insert(
                    "items".into(),
                    schemas.iter().map(Schema::canonical).collect(),
                );
            }
        }
        if let Some((kind, branches)) = &self.union {
            map.insert(
                kind.keyword().into(),
                branches.iter().map(Schema::canonical).collect(),
            );
        }
        if !self.all_of.is_empty() {
            map.insert(
                "allOf".into(),
                self.all_of.iter().map(Schema::canonical).collect(),
            );
        }
        for (key, value) in self.constraints.iter().chain(&self.other) {
            map.insert(key.clone(), value.clone());
        }
        if self.read_only {
            map.insert("readOnly".into(), Value::Bool(true));
        }
        if self.write_only {
            map.insert("writeOnly".into(), Value::Bool(true));
        }
        Value::Object(map)
    }
}

/// `values` sorted by their JSON text, so that two enums compare as sets.
pub fn sorted_values(values: &[Value]) -> Vec<Value> {
    let mut sorted = values.to_vec();
    sorted.sort_by_cached_key(Value::to_string);
    sorted
}

fn is_annotation(key: &str) -> bool {
    key.starts_with("x-") || ANNOTATION_KEYS.contains(&key)
}

/// The annotations among the keys of `map` (descriptions, examples, `x-*`, ...).
fn annotations(map: &Map<String, Value>) -> Annotations {
    map.iter()
        .filter(|(key, _)| is_annotation(key))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

impl<'a> Document<'a> {
    pub fn new(root: &'a Value) -> Self {
        Document {
            root,
            expanding: Vec::new(),
        }
    }

    /// Follows `$ref`s from `value` (found at `loc`) to the object they name. The logical
    /// location stays where the reference was written; the pointer moves to the target.
    fn resolve(&self, mut value: &'a Value, loc: &Loc) -> Result<(&'a Value, Loc), ModelError> {
        let mut loc = loc.clone();
        let mut seen = Vec::new();
        while let Some(reference) = value.get("$ref").and_then(Value::as_str) {
            let Some(pointer) = reference.strip_prefix('#') else {
                return Err(ModelError(format!(
                    "`$ref: {reference}` at {} points outside the document; only local \
                     references (`#/components/...`) are supported",
                    loc.pointer
                )));
            };
            if seen.iter().any(|p| p == pointer) {
                return Err(ModelError(format!(
                    "`$ref: {reference}` at {} refers to itself",
                    loc.pointer
                )));
            }
            let Some(target) = self.root.pointer(pointer) else {
                return Err(ModelError(format!(
                    "`$ref: {reference}` at {} does not resolve: there is nothing at that path \
                     in the document",
                    loc.pointer
                )));
            };
            seen.push(pointer.to_string());
            value = target;
            loc.pointer = pointer.to_string();
        }
        Ok((value, loc))
    }

    fn object(
        &self,
        value: &'a Value,
        loc: &Loc,
        what: &str,
    ) -> Result<(&'a Map<String, Value>, Loc), ModelError> {
        let (value, loc) = self.resolve(value, loc)?;
        match value {
            Value::Object(map) => Ok((map, loc)),
            other => Err(ModelError(format!(
                "{what} at {} should be a mapping, but it is {}",
                loc.pointer,
                kind_of(other)
            ))),
        }
    }

    /// Reads the operation `method` of the path item `path`, with the path item's own
    /// parameters (the operation's win on the same name and location).
    pub fn operation(&mut self, path: &str, method: &str) -> Result<Operation, ModelError> {
        let root = self.root;
        let item_pointer = format!("/paths/{}", escape_token(path));
        let item_value = root
            .pointer(&item_pointer)
            .ok_or_else(|| ModelError(format!("no path `{path}`")))?;
        let (item, item_loc) =
            self.object(item_value, &Loc::document(&item_pointer), "the path item")?;
        let op_value = item
            .get(method)
            .ok_or_else(|| ModelError(format!("no `{method}` under `{path}`")))?;
        let op_loc = Loc::operation(&item_loc.child(method).pointer);
        let (op, op_loc) = self.object(op_value, &op_loc, "the operation")?;

        let mut parameters = Vec::new();
        if let Some(list) = op.get("parameters") {
            parameters = self.parameters(list, &op_loc.child("parameters"), false)?;
        }
        if let Some(list) = item.get("parameters") {
            for parameter in self.parameters(list, &item_loc.child("parameters"), true)? {
                if !parameters.iter().any(|p| p.key() == parameter.key()) {
                    parameters.push(parameter);
                }
            }
        }
        let request_body = match op.get("requestBody") {
            Some(body) => Some(self.request_body(body, &op_loc.child("requestBody"))?),
            None => None,
        };
        let mut responses = BTreeMap::new();
        if let Some(value) = op.get("responses") {
            let (map, loc) = self.object(value, &op_loc.child("responses"), "`responses`")?;
            for (status, response) in map {
                if is_annotation(status) {
                    continue;
                }
                responses.insert(status.clone(), self.response(response, &loc.child(status))?);
            }
        }
        let security = match (op.get("security"), root.get("security")) {
            (Some(list), _) => Some(self.security(list, &op_loc.child("security"))?),
            (None, Some(list)) => Some(self.security(list, &Loc::document("/security"))?),
            (None, None) => None,
        };
        Ok(Operation {
            loc: op_loc,
            method: method.to_string(),
            path: path.to_string(),
            parameters,
            request_body,
            responses,
            security,
            // The operationId is compared where the operation is found (`drift::check`).
            annotations: annotations(op)
                .into_iter()
                .chain(
                    op.get("tags")
                        .map(|tags| ("tags".to_string(), tags.clone())),
                )
                .collect(),
        })
    }

    /// Reads a `parameters` list. An operation's parameter is located by index in its
    /// document but, for deviations, by `parameter_token` (`/parameters/query:slug`).
    fn parameters(
        &mut self,
        list: &'a Value,
        list_loc: &Loc,
        from_path_item: bool,
    ) -> Result<Vec<Parameter>, ModelError> {
        let Value::Array(items) = list else {
            return Err(ModelError(format!(
                "`parameters` at {} should be a list",
                list_loc.pointer
            )));
        };
        let mut out = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let (map, mut loc) =
                self.object(item, &list_loc.child(&index.to_string()), "a parameter")?;
            let name = map
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let location = map
                .get("in")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if loc.scope == Scope::Operation {
                let token = escape_token(&parameter_token(&location, &name));
                loc.relative = format!("{}/{token}", list_loc.relative);
            }
            let schema = match map.get("schema") {
                Some(schema) => Some(self.schema(schema, &loc.child("schema"))?),
                None => None,
            };
            let mut annotations = annotations(map);
            for key in ["style", "explode", "allowEmptyValue", "allowReserved"] {
                if let Some(value) = map.get(key) {
                    annotations.insert(key.to_string(), value.clone());
                }
            }
            out.push(Parameter {
                required: map
                    .get("required")
                    .and_then(Value::as_bool)
                    .unwrap_or(location == "path"),
                loc,
                name,
                location,
                schema,
                from_path_item,
                annotations,
            });
        }
        Ok(out)
    }

    fn request_body(&mut self, value: &'a Value, loc: &Loc) -> Result<RequestBody, ModelError> {
        let (map, loc) = self.object(value, loc, "`requestBody`")?;
        Ok(RequestBody {
            required: map
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            content: self.content(map.get("content"), &loc.child("content"))?,
            annotations: annotations(map),
            loc,
        })
    }

    fn content(
        &mut self,
        value: Option<&'a Value>,
        loc: &Loc,
    ) -> Result<BTreeMap<String, MediaType>, ModelError> {
        let mut out = BTreeMap::new();
        let Some(value) = value else { return Ok(out) };
        let (map, loc) = self.object(value, loc, "`content`")?;
        for (media_type, item) in map {
            let (item, item_loc) = self.object(item, &loc.child(media_type), "a media type")?;
            let schema = match item.get("schema") {
                Some(schema) => Some(self.schema(schema, &item_loc.child("schema"))?),
                None => None,
            };
            let media = MediaType {
                schema,
                annotations: annotations(item),
                loc: item_loc,
            };
            out.insert(media_type.clone(), media);
        }
        Ok(out)
    }

    fn response(&mut self, value: &'a Value, loc: &Loc) -> Result<Response, ModelError> {
        let (map, loc) = self.object(value, loc, "a response")?;
        let mut headers = BTreeMap::new();
        if let Some(value) = map.get("headers") {
            let (header_map, headers_loc) =
                self.object(value, &loc.child("headers"), "`headers`")?;
            for (name, header) in header_map {
                let (header, header_loc) =
                    self.object(header, &headers_loc.child(name), "a header")?;
                let schema = match header.get("schema") {
                    Some(schema) => Some(self.schema(schema, &header_loc.child("schema"))?),
                    None => None,
                };
                let header = Header {
                    name: name.clone(),
                    required: header
                        .get("required")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    schema,
                    annotations: annotations(header),
                    loc: header_loc,
                };
                headers.insert(name.to_ascii_lowercase(), header);
            }
        }
        Ok(Response {
            headers,
            content: self.content(map.get("content"), &loc.child("content"))?,
            annotations: annotations(map),
            loc,
        })
    }

    fn security(&self, value: &'a Value, loc: &Loc) -> Result<Security, ModelError> {
        let (value, loc) = self.resolve(value, loc)?;
        let Value::Array(items) = value else {
            return Err(ModelError(format!(
                "`security` at {} should be a list",
                loc.pointer
            )));
        };
        let mut alternatives = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let (map, _) = self.object(
                item,
                &loc.child(&index.to_string()),
                "a security requirement",
            )?;
            let requirement = map
                .iter()
                .map(|(scheme, scopes)| {
                    let scopes = scopes.as_array().into_iter().flatten();
                    let scopes = scopes
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect();
                    (scheme.clone(), scopes)
                })
                .collect();
            alternatives.push(requirement);
        }
        Ok(Security { loc, alternatives })
    }

    /// Reads a schema, resolving `$ref`s and normalising spellings.
    pub fn schema(&mut self, value: &'a Value, loc: &Loc) -> Result<Schema, ModelError> {
        let reference = value.get("$ref").and_then(Value::as_str);
        let (value, loc) = self.resolve(value, loc)?;
        if reference.is_some() && self.expanding.contains(&loc.pointer) {
            let mut schema = Schema::empty(loc.clone());
            schema.recursive = Some(format!("#{}", loc.pointer));
            return Ok(schema);
        }
        let map = match value {
            Value::Object(map) => map,
            Value::Bool(true) => return Ok(Schema::empty(loc)),
            Value::Bool(false) => {
                let mut schema = Schema::empty(loc);
                schema.other.insert("not".into(), Value::Object(Map::new()));
                return Ok(schema);
            }
            other => {
                return Err(ModelError(format!(
                    "the schema at {} should be a mapping, but it is {}",
                    loc.pointer,
                    kind_of(other)
                )));
            }
        };
        if reference.is_some() {
            self.expanding.push(loc.pointer.clone());
        }
        let result = self.schema_object(map, loc);
        if reference.is_some() {
            self.expanding.pop();
        }
        result
    }

    fn schema_object(
        &mut self,
        map: &'a Map<String, Value>,
        loc: Loc,
    ) -> Result<Schema, ModelError> {
        let mut schema = Schema::empty(loc.clone());
        match map.get("type") {
            Some(Value::String(name)) => {
                schema.types.insert(name.clone());
            }
            Some(Value::Array(names)) => {
                schema
                    .types
                    .extend(names.iter().filter_map(Value::as_str).map(str::to_string));
            }
            _ => {}
        }
        if schema.types.len() > 1 && schema.types.remove("null") {
            schema.nullable = true;
        }
        if map.get("nullable") == Some(&Value::Bool(true)) {
            schema.nullable = true;
        }
        schema.format = map
            .get("format")
            .and_then(Value::as_str)
            .map(str::to_string);
        schema.enumeration = match (map.get("enum"), map.get("const")) {
            (Some(Value::Array(values)), _) => Some(values.clone()),
            (_, Some(value)) => Some(vec![value.clone()]),
            _ => None,
        };
        if schema.nullable
            && let Some(values) = &mut schema.enumeration
        {
            values.retain(|v| !v.is_null());
        }
        schema.default = map.get("default").cloned();
        if let Some(value) = map.get("properties") {
            let (properties, properties_loc) =
                self.object(value, &loc.child("properties"), "`properties`")?;
            for (name, property) in properties {
                let property = self.schema(property, &properties_loc.child(name))?;
                schema.properties.insert(name.clone(), property);
            }
        }
        if let Some(Value::Array(names)) = map.get("required") {
            schema
                .required
                .extend(names.iter().filter_map(Value::as_str).map(str::to_string));
        }
        schema.additional = match map.get("additionalProperties") {
            None => Additional::Unspecified,
            Some(Value::Bool(allowed)) => Additional::Bool(*allowed),
            Some(value) => Additional::Schema(Box::new(
                self.schema(value, &loc.child("additionalProperties"))?,
            )),
        };
        schema.items = match (map.get("items"), map.get("prefixItems")) {
            (Some(Value::Array(list)), _) => {
                Some(Items::Tuple(self.schemas(list, &loc.child("items"))?))
            }
            (_, Some(Value::Array(list))) => {
                Some(Items::Tuple(self.schemas(list, &loc.child("prefixItems"))?))
            }
            (Some(value), None) => Some(Items::Each(Box::new(
                self.schema(value, &loc.child("items"))?,
            ))),
            _ => None,
        };
        for kind in [UnionKind::OneOf, UnionKind::AnyOf] {
            if let Some(Value::Array(list)) = map.get(kind.keyword()) {
                let branches = self.schemas(list, &loc.child(kind.keyword()))?;
                schema.union = Some((kind, branches));
                break;
            }
        }
        if let Some(Value::Array(list)) = map.get("allOf") {
            schema.all_of = self.schemas(list, &loc.child("allOf"))?;
        }
        for (key, value) in map {
            if CONSTRAINT_KEYS.contains(&key.as_str()) {
                schema.constraints.insert(key.clone(), value.clone());
            } else if key == "readOnly" {
                schema.read_only = value == &Value::Bool(true);
            } else if key == "writeOnly" {
                schema.write_only = value == &Value::Bool(true);
            } else if is_annotation(key) {
                schema.annotations.insert(key.clone(), value.clone());
            } else if !MODELLED_SCHEMA_KEYS.contains(&key.as_str()) && key != "nullable" {
                schema.other.insert(key.clone(), value.clone());
            }
        }
        fold_null_branch(&mut schema);
        if schema.types.is_empty() && schema.union.is_none() && schema.all_of.is_empty() {
            if !schema.properties.is_empty()
                || !schema.required.is_empty()
                || !matches!(schema.additional, Additional::Unspecified)
            {
                schema.types.insert("object".into());
            } else if schema.items.is_some() {
                schema.types.insert("array".into());
            }
        }
        Ok(schema)
    }

    fn schemas(&mut self, list: &'a [Value], loc: &Loc) -> Result<Vec<Schema>, ModelError> {
        let mut out = Vec::with_capacity(list.len());
        for (index, item) in list.iter().enumerate() {
            out.push(self.schema(item, &loc.child(&index.to_string()))?);
        }
        Ok(out)
    }
}

/// 3.1 writes a nullable reference as `oneOf: [{$ref: ...}, {type: 'null'}]`: the null
/// branch becomes `nullable`, and a single remaining branch takes the union's place.
fn fold_null_branch(schema: &mut Schema) {
    let Some((_, branches)) = &mut schema.union else {
        return;
    };
    let before = branches.len();
    branches.retain(|branch| {
        !(branch.types.len() == 1 && branch.types.contains("null") && !branch.nullable)
    });
    if branches.len() == before {
        return;
    }
    schema.nullable = true;
    if branches.len() == 1 {
        let only = branches.pop().expect("one branch is left");
        let parent = std::mem::replace(schema, only);
        schema.loc = parent.loc;
        schema.nullable = true;
        for (key, value) in parent.annotations {
            schema.annotations.entry(key).or_insert(value);
        }
    }
}

pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

impl Operation {
    /// The operation as normalised JSON, laid out like an OpenAPI operation object (so that
    /// deviation pointers find their nodes) except that `parameters` is a mapping keyed by
    /// `parameter_token`, without annotations and empty collections.
    pub fn canonical(&self) -> Value {
        let mut map = Map::new();
        let own_parameters: Map<String, Value> = self
            .parameters
            .iter()
            .filter(|p| !p.from_path_item)
            .map(|p| {
                let mut parameter = Map::new();
                parameter.insert("name".into(), Value::String(p.name.clone()));
                parameter.insert("in".into(), Value::String(p.location.clone()));
                if p.required {
                    parameter.insert("required".into(), Value::Bool(true));
                }
                if let Some(schema) = &p.schema {
                    parameter.insert("schema".into(), schema.canonical());
                }
                (
                    parameter_token(&p.location, &p.name),
                    Value::Object(parameter),
                )
            })
            .collect();
        if !own_parameters.is_empty() {
            map.insert("parameters".into(), Value::Object(own_parameters));
        }
        if let Some(body) = &self.request_body {
            let mut request_body = Map::new();
            if body.required {
                request_body.insert("required".into(), Value::Bool(true));
            }
            insert_content(&mut request_body, &body.content);
            map.insert("requestBody".into(), Value::Object(request_body));
        }
        if !self.responses.is_empty() {
            let responses = self.responses.iter().map(|(status, response)| {
                let mut out = Map::new();
                if !response.headers.is_empty() {
                    let headers = response.headers.values().map(|header| {
                        let mut h = Map::new();
                        if header.required {
                            h.insert("required".into(), Value::Bool(true));
                        }
                        if let Some(schema) = &header.schema {
                            h.insert("schema".into(), schema.canonical());
                        }
                        (header.name.clone(), Value::Object(h))
                    });
                    out.insert("headers".into(), Value::Object(headers.collect()));
                }
                insert_content(&mut out, &response.content);
                (status.clone(), Value::Object(out))
            });
            map.insert("responses".into(), Value::Object(responses.collect()));
        }
        if let Some(security) = &self.security
            && security.loc.scope == Scope::Operation
        {
            let alternatives = security.alternatives.iter().map(|alternative| {
                let schemes = alternative.iter().map(|(scheme, scopes)| {
                    (
                        scheme.clone(),
                        scopes.iter().cloned().map(Value::String).collect(),
                    )
                });
                Value::Object(schemes.collect())
            });
            map.insert("security".into(), alternatives.collect());
        }
        Value::Object(map)
    }
}

fn insert_content(map: &mut Map<String, Value>, content: &BTreeMap<String, MediaType>) {
    if content.is_empty() {
        return;
    }
    let media = content.iter().map(|(media_type, media)| {
        let mut m = Map::new();
        if let Some(schema) = &media.schema {
            m.insert("schema".into(), schema.canonical());
        }
        (media_type.clone(), Value::Object(m))
    });
    map.insert("content".into(), Value::Object(media.collect()));
}

/// Follows `pointer` through `root` the way deviations mean it: through `$ref`s, as if
/// everything were inlined. Used for `document`-scope deviations.
pub fn lookup_through_refs<'a>(root: &'a Value, pointer: &str) -> Option<&'a Value> {
    let mut node = root;
    let follow = |mut node: &'a Value| {
        for _ in 0..32 {
            match node
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
            {
                Some(target) => node = root.pointer(target)?,
                None => return Some(node),
            }
        }
        None
    };
    if pointer.is_empty() {
        return Some(root);
    }
    for token in pointer.strip_prefix('/')?.split('/') {
        let token = token.replace("~1", "/").replace("~0", "~");
        node = follow(node)?;
        node = match node {
            Value::Object(map) => map.get(&token)?,
            Value::Array(items) => items.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    follow(node)
}
