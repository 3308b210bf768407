//! The comparable model of one operation, read from openapiv3's types: `$ref`s resolved,
//! 3.0 and 3.1 spellings made equal, annotations set apart from what decides the wire
//! format, every node tagged with where it came from. Serialised (annotations left out),
//! it is the normalised form that `spec/deviations.yaml` records.

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet};

use openapiv3 as oa;
use openapiv3::ReferenceOr;
use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::downgrade::{ORIGINAL, Original};
use super::resolve::{Loc, Resolver, Scope, escape_token, parameter_token};

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

/// Descriptions, examples, titles and vendor extensions of a node, keyed by keyword.
pub type Annotations = BTreeMap<String, Value>;

fn is_false(value: &bool) -> bool {
    !*value
}

/// One operation, normalised.
#[derive(Debug, Serialize)]
pub struct Operation {
    #[serde(skip)]
    pub loc: Loc,
    #[serde(skip)]
    pub method: String,
    #[serde(skip)]
    pub path: String,
    /// Its own parameters, then those of the path item it does not override.
    #[serde(
        serialize_with = "own_parameters",
        skip_serializing_if = "no_own_parameters"
    )]
    pub parameters: Vec<Parameter>,
    #[serde(rename = "requestBody", skip_serializing_if = "Option::is_none")]
    pub request_body: Option<RequestBody>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub responses: BTreeMap<String, Response>,
    /// `None` when neither the operation nor the document says anything about security.
    #[serde(skip_serializing_if = "not_the_operations")]
    pub security: Option<Security>,
    #[serde(skip)]
    pub annotations: Annotations,
}

/// Deviations name an operation's own parameters by `parameter_token`.
fn own_parameters<S: Serializer>(parameters: &[Parameter], s: S) -> Result<S::Ok, S::Error> {
    let own = parameters.iter().filter(|p| !p.from_path_item);
    s.collect_map(own.map(|p| (parameter_token(&p.location, &p.name), p)))
}

fn no_own_parameters(parameters: &[Parameter]) -> bool {
    parameters.iter().all(|p| p.from_path_item)
}

fn not_the_operations(security: &Option<Security>) -> bool {
    security
        .as_ref()
        .is_none_or(|s| s.loc.scope != Scope::Operation)
}

#[derive(Debug, Serialize)]
pub struct Parameter {
    #[serde(skip)]
    pub loc: Loc,
    pub name: String,
    #[serde(rename = "in")]
    pub location: String,
    #[serde(skip_serializing_if = "is_false")]
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<Schema>,
    /// `true` when the parameter comes from the path item rather than the operation.
    #[serde(skip)]
    pub from_path_item: bool,
    #[serde(skip)]
    pub annotations: Annotations,
}

impl Parameter {
    /// Parameters are identified by location and name; header names ignore case.
    pub fn key(&self) -> String {
        parameter_token(&self.location, &self.name)
    }
}

#[derive(Debug, Serialize)]
pub struct RequestBody {
    #[serde(skip)]
    pub loc: Loc,
    #[serde(skip_serializing_if = "is_false")]
    pub required: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub content: BTreeMap<String, MediaType>,
    #[serde(skip)]
    pub annotations: Annotations,
}

#[derive(Debug, Serialize)]
pub struct MediaType {
    #[serde(skip)]
    pub loc: Loc,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<Schema>,
    #[serde(skip)]
    pub annotations: Annotations,
}

#[derive(Debug, Serialize)]
pub struct Response {
    #[serde(skip)]
    pub loc: Loc,
    /// Keyed by the header name in lower case; `Header::name` keeps the spelling.
    #[serde(serialize_with = "by_name", skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, Header>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub content: BTreeMap<String, MediaType>,
    #[serde(skip)]
    pub annotations: Annotations,
}

fn by_name<S: Serializer>(headers: &BTreeMap<String, Header>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(headers.values().map(|header| (&header.name, header)))
}

#[derive(Debug, Serialize)]
pub struct Header {
    #[serde(skip)]
    pub loc: Loc,
    #[serde(skip)]
    pub name: String,
    #[serde(skip_serializing_if = "is_false")]
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<Schema>,
    #[serde(skip)]
    pub annotations: Annotations,
}

/// Effective security requirements: alternatives, each a map of scheme name to scopes.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Security {
    #[serde(skip)]
    pub loc: Loc,
    pub alternatives: Vec<BTreeMap<String, BTreeSet<String>>>,
}

/// `additionalProperties`, as written: progenitor treats `true` and `{}` differently even
/// though JSON Schema does not.
#[derive(Debug, Serialize)]
#[serde(untagged)]
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

    fn is_unspecified(&self) -> bool {
        matches!(self, Additional::Unspecified)
    }
}

/// `items`: one schema for every element, or the tuple form (a list of schemas under
/// `items`, or 2020-12 `prefixItems`).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Items {
    Each(Box<Schema>),
    Tuple(Vec<Schema>),
}

/// `oneOf` or `anyOf`, with its branches.
#[derive(Debug, Serialize)]
pub enum Union {
    #[serde(rename = "oneOf")]
    OneOf(Vec<Schema>),
    #[serde(rename = "anyOf")]
    AnyOf(Vec<Schema>),
}

impl Union {
    pub fn keyword(&self) -> &'static str {
        match self {
            Union::OneOf(_) => "oneOf",
            Union::AnyOf(_) => "anyOf",
        }
    }

    pub fn branches(&self) -> &[Schema] {
        match self {
            Union::OneOf(branches) | Union::AnyOf(branches) => branches,
        }
    }

    fn branches_mut(&mut self) -> &mut Vec<Schema> {
        match self {
            Union::OneOf(branches) | Union::AnyOf(branches) => branches,
        }
    }
}

/// A schema, normalised: `type: [T, 'null']`, `nullable: true` and a `{type: 'null'}`
/// branch of a `oneOf`/`anyOf` all become `nullable`; a schema with `properties` and no
/// `type` is an object; `const: v` is `enum: [v]`. Serialised, lists whose order means
/// nothing (`required`, `enum`, `type`) are sorted.
#[derive(Debug, Serialize)]
pub struct Schema {
    #[serde(skip)]
    pub loc: Loc,
    /// JSON types other than `null`; empty means any type.
    #[serde(
        rename = "type",
        serialize_with = "types",
        skip_serializing_if = "BTreeSet::is_empty"
    )]
    pub types: BTreeSet<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub nullable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(
        rename = "enum",
        serialize_with = "sorted",
        skip_serializing_if = "Option::is_none"
    )]
    pub enumeration: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, Schema>,
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub required: BTreeSet<String>,
    #[serde(
        rename = "additionalProperties",
        skip_serializing_if = "Additional::is_unspecified"
    )]
    pub additional: Additional,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Items>,
    #[serde(flatten)]
    pub union: Option<Union>,
    #[serde(rename = "allOf", skip_serializing_if = "Vec::is_empty")]
    pub all_of: Vec<Schema>,
    /// Keywords that narrow the accepted values (`minLength`, `maximum`, ...).
    #[serde(flatten)]
    pub constraints: BTreeMap<String, Value>,
    #[serde(rename = "readOnly", skip_serializing_if = "is_false")]
    pub read_only: bool,
    #[serde(rename = "writeOnly", skip_serializing_if = "is_false")]
    pub write_only: bool,
    /// Keywords the model does not interpret, compared as written.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
    #[serde(skip)]
    pub annotations: Annotations,
    /// Set instead of everything else when the schema refers back to one being expanded.
    #[serde(rename = "$ref", skip_serializing_if = "Option::is_none")]
    pub recursive: Option<String>,
}

fn types<S: Serializer>(types: &BTreeSet<String>, s: S) -> Result<S::Ok, S::Error> {
    match types.first() {
        Some(only) if types.len() == 1 => only.serialize(s),
        _ => types.serialize(s),
    }
}

fn sorted<S: Serializer>(values: &Option<Vec<Value>>, s: S) -> Result<S::Ok, S::Error> {
    values.as_deref().map(sorted_values).serialize(s)
}

/// `values` sorted by their JSON text, so that two enums compare as sets.
pub fn sorted_values(values: &[Value]) -> Vec<Value> {
    let mut sorted = values.to_vec();
    sorted.sort_by_cached_key(Value::to_string);
    sorted
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
            && self.additional.is_unspecified()
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

/// The values written in a typed `enum` (`None` is `null`); `None` when there is none.
fn values<T: Serialize>(values: &[Option<T>]) -> Option<Vec<Value>> {
    (!values.is_empty()).then(|| values.iter().map(json).collect())
}

/// The name of a typed `format` (`None` when there is none).
fn format_name(format: impl Serialize) -> Option<String> {
    json(format).as_str().map(str::to_string)
}

/// The annotations among `fields` (each given when written) and the `x-` extensions.
fn annotations<'e>(
    fields: impl IntoIterator<Item = (&'static str, Option<Value>)>,
    extensions: impl IntoIterator<Item = (&'e String, &'e Value)>,
) -> Annotations {
    let fields = fields
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_string(), v?)));
    let extensions = extensions
        .into_iter()
        .filter(|(key, _)| *key != ORIGINAL)
        .map(|(k, v)| (k.clone(), v.clone()));
    fields.chain(extensions).collect()
}

/// A field as an annotation when it is written.
fn some<T: Serialize>(value: &Option<T>) -> Option<Value> {
    value.as_ref().map(json)
}

/// A field as an annotation when it differs from its default (openapiv3 fills defaults in).
fn not_default<T: Serialize + Default + PartialEq>(value: &T) -> Option<Value> {
    (*value != T::default()).then(|| json(value))
}

/// Reads operations of one document into the model, following `$ref`s.
pub struct Reader<'a> {
    resolver: Resolver<'a>,
    api: &'a oa::OpenAPI,
    /// The `$ref` targets being expanded (to stop on recursive schemas).
    expanding: Vec<String>,
}

impl<'a> Reader<'a> {
    pub fn new(api: &'a oa::OpenAPI, raw: &'a Value) -> Self {
        let resolver = Resolver { raw };
        let expanding = Vec::new();
        Reader {
            resolver,
            api,
            expanding,
        }
    }

    /// Reads the operation `method` of the path item `path`, with the path item's own
    /// parameters (the operation's win on the same name and location).
    pub fn operation(&mut self, path: &str, method: &str) -> Result<Operation, String> {
        let item = (self.api.paths.paths.get(path)).ok_or_else(|| format!("no path `{path}`"))?;
        let item_loc = Loc::document(&format!("/paths/{}", escape_token(path)));
        let (item, item_loc) = self.resolver.resolve(item, &item_loc)?;
        let (_, op) = (item.iter().find(|(m, _)| *m == method))
            .ok_or_else(|| format!("no `{method}` under `{path}`"))?;
        let loc = Loc::operation(&item_loc.child(method).pointer);
        let mut parameters = self.parameters(&op.parameters, &loc.child("parameters"), false)?;
        for parameter in self.parameters(&item.parameters, &item_loc.child("parameters"), true)? {
            if !parameters.iter().any(|p| p.key() == parameter.key()) {
                parameters.push(parameter);
            }
        }
        let request_body = match &op.request_body {
            Some(body) => Some(self.request_body(body, &loc.child("requestBody"))?),
            None => None,
        };
        let mut responses = BTreeMap::new();
        let responses_loc = loc.child("responses");
        let statuses = op
            .responses
            .responses
            .iter()
            .map(|(s, r)| (s.to_string(), r));
        for (status, response) in
            statuses.chain(op.responses.default.iter().map(|r| ("default".into(), r)))
        {
            let response = self.response(response, &responses_loc.child(&status))?;
            responses.insert(status, response);
        }
        let security = match (&op.security, &self.api.security) {
            (Some(list), _) => Some(security(list, loc.child("security"))),
            (None, Some(list)) => Some(security(list, Loc::document("/security"))),
            (None, None) => None,
        };
        let tags = (!op.tags.is_empty()).then(|| json(&op.tags));
        let annotations = annotations(
            [
                ("summary", some(&op.summary)),
                ("description", some(&op.description)),
                ("externalDocs", some(&op.external_docs)),
                ("deprecated", not_default(&op.deprecated)),
                ("tags", tags),
            ],
            &op.extensions,
        );
        Ok(Operation {
            loc,
            method: method.to_string(),
            path: path.to_string(),
            parameters,
            request_body,
            responses,
            security,
            annotations,
        })
    }

    /// Reads a `parameters` list. An operation's parameter is located by index in its
    /// document but, for deviations, by `parameter_token` (`/parameters/query:slug`).
    fn parameters(
        &mut self,
        list: &[ReferenceOr<oa::Parameter>],
        list_loc: &Loc,
        from_path_item: bool,
    ) -> Result<Vec<Parameter>, String> {
        let mut out = Vec::new();
        for (index, parameter) in list.iter().enumerate() {
            let (parameter, mut loc) = self.resolver.resolve(parameter, &list_loc.child(index))?;
            let (location, style) = match &*parameter {
                oa::Parameter::Query { style, .. } => ("query", not_default(style)),
                oa::Parameter::Header { style, .. } => ("header", not_default(style)),
                oa::Parameter::Path { style, .. } => ("path", not_default(style)),
                oa::Parameter::Cookie { style, .. } => ("cookie", not_default(style)),
            };
            let (allow_empty, allow_reserved) = match &*parameter {
                oa::Parameter::Query {
                    allow_empty_value,
                    allow_reserved,
                    ..
                } => (some(allow_empty_value), not_default(allow_reserved)),
                _ => (None, None),
            };
            let data = parameter.parameter_data_ref();
            if loc.scope == Scope::Operation {
                let token = escape_token(&parameter_token(location, &data.name));
                loc.relative = format!("{}/{token}", list_loc.relative);
            }
            let schema = match &data.format {
                oa::ParameterSchemaOrContent::Schema(schema) => {
                    Some(self.schema(schema, &loc.child("schema"))?)
                }
                oa::ParameterSchemaOrContent::Content(_) => None,
            };
            let examples = (!data.examples.is_empty()).then(|| json(&data.examples));
            let fields = [
                ("description", some(&data.description)),
                ("deprecated", some(&data.deprecated)),
                ("example", some(&data.example)),
                ("examples", examples),
                ("style", style),
                ("explode", some(&data.explode)),
                ("allowEmptyValue", allow_empty),
                ("allowReserved", allow_reserved),
            ];
            out.push(Parameter {
                name: data.name.clone(),
                location: location.to_string(),
                // A path parameter is always required.
                required: data.required || location == "path",
                schema,
                from_path_item,
                annotations: annotations(fields, &data.extensions),
                loc,
            });
        }
        Ok(out)
    }

    fn request_body(
        &mut self,
        body: &ReferenceOr<oa::RequestBody>,
        loc: &Loc,
    ) -> Result<RequestBody, String> {
        let (body, loc) = self.resolver.resolve(body, loc)?;
        Ok(RequestBody {
            required: body.required,
            content: self.content(&body.content, &loc.child("content"))?,
            annotations: annotations([("description", some(&body.description))], &body.extensions),
            loc,
        })
    }

    fn content<'c>(
        &mut self,
        content: impl IntoIterator<Item = (&'c String, &'c oa::MediaType)>,
        loc: &Loc,
    ) -> Result<BTreeMap<String, MediaType>, String> {
        let mut out = BTreeMap::new();
        for (name, media) in content {
            let loc = loc.child(name);
            let schema = match &media.schema {
                Some(schema) => Some(self.schema(schema, &loc.child("schema"))?),
                None => None,
            };
            let examples = (!media.examples.is_empty()).then(|| json(&media.examples));
            let fields = [("example", some(&media.example)), ("examples", examples)];
            let annotations = annotations(fields, &media.extensions);
            out.insert(
                name.clone(),
                MediaType {
                    loc,
                    schema,
                    annotations,
                },
            );
        }
        Ok(out)
    }

    fn response(
        &mut self,
        response: &ReferenceOr<oa::Response>,
        loc: &Loc,
    ) -> Result<Response, String> {
        let (response, loc) = self.resolver.resolve(response, loc)?;
        let mut headers = BTreeMap::new();
        for (name, header) in &response.headers {
            let (header, loc) = self
                .resolver
                .resolve(header, &loc.child("headers").child(name))?;
            let schema = match &header.format {
                oa::ParameterSchemaOrContent::Schema(schema) => {
                    Some(self.schema(schema, &loc.child("schema"))?)
                }
                oa::ParameterSchemaOrContent::Content(_) => None,
            };
            let examples = (!header.examples.is_empty()).then(|| json(&header.examples));
            let fields = [
                ("description", some(&header.description)),
                ("deprecated", some(&header.deprecated)),
                ("example", some(&header.example)),
                ("examples", examples),
            ];
            let header = Header {
                name: name.clone(),
                required: header.required,
                schema,
                annotations: annotations(fields, &header.extensions),
                loc,
            };
            headers.insert(name.to_ascii_lowercase(), header);
        }
        let description = Some(json(&response.description));
        Ok(Response {
            headers,
            content: self.content(&response.content, &loc.child("content"))?,
            annotations: annotations([("description", description)], &response.extensions),
            loc,
        })
    }

    /// Reads a schema, resolving `$ref`s and normalising spellings.
    pub fn schema<T>(&mut self, value: &ReferenceOr<T>, loc: &Loc) -> Result<Schema, String>
    where
        T: Borrow<oa::Schema> + DeserializeOwned + Clone,
    {
        let reference = matches!(value, ReferenceOr::Reference { .. });
        let (schema, loc) = self.resolver.resolve(value, loc)?;
        if !reference {
            return self.schema_object((*schema).borrow(), loc);
        }
        if self.expanding.contains(&loc.pointer) {
            let recursive = Some(format!("#{}", loc.pointer));
            return Ok(Schema {
                recursive,
                ..Schema::empty(loc)
            });
        }
        self.expanding.push(loc.pointer.clone());
        let result = self.schema_object((*schema).borrow(), loc);
        self.expanding.pop();
        result
    }

    fn schema_object(&mut self, schema: &oa::Schema, loc: Loc) -> Result<Schema, String> {
        let data = &schema.schema_data;
        let original: Original = match data.extensions.get(ORIGINAL) {
            Some(value) => serde_json::from_value(value.clone()).map_err(|e| e.to_string())?,
            None => Original::default(),
        };
        let mut out = Schema::empty(loc);
        self.kind(&mut out, &schema.schema_kind, &original)?;
        if !original.types.is_empty() {
            out.types = original.types.iter().cloned().collect();
        }
        out.nullable = data.nullable;
        if out.nullable
            && let Some(values) = &mut out.enumeration
        {
            values.retain(|v| !v.is_null());
        }
        out.default = data.default.clone();
        out.read_only = data.read_only;
        out.write_only = data.write_only;
        if let Some(discriminator) = &data.discriminator {
            out.other
                .insert("discriminator".into(), json(discriminator));
        }
        let fields = [
            ("title", some(&data.title)),
            ("description", some(&data.description)),
            ("example", some(&data.example)),
            ("deprecated", not_default(&data.deprecated)),
            ("externalDocs", some(&data.external_docs)),
        ];
        out.annotations = annotations(fields, &data.extensions);
        for (key, value) in original.set_aside {
            let kept = match ANNOTATION_KEYS.contains(&key.as_str()) {
                true => &mut out.annotations,
                false => &mut out.other,
            };
            kept.insert(key, value);
        }
        if original.kept_branches.is_some() {
            fold_single_branch(&mut out);
        }
        let unconstrained = out.union.is_none() && out.all_of.is_empty();
        if out.types.is_empty() && unconstrained {
            if !out.properties.is_empty()
                || !out.required.is_empty()
                || !out.additional.is_unspecified()
            {
                out.types.insert("object".into());
            } else if out.items.is_some() {
                out.types.insert("array".into());
            }
        }
        Ok(out)
    }

    /// What a schema's kind says: each typed kind of openapiv3 read into the one model.
    fn kind(
        &mut self,
        out: &mut Schema,
        kind: &oa::SchemaKind,
        original: &Original,
    ) -> Result<(), String> {
        use oa::{SchemaKind, Type};
        let mut typed = |name: &str, format: Option<String>, enumeration| {
            out.types.insert(name.to_string());
            out.format = format;
            out.enumeration = enumeration;
        };
        match kind {
            SchemaKind::Type(Type::String(t)) => {
                typed("string", format_name(&t.format), values(&t.enumeration));
                constrain(out, "pattern", &t.pattern);
                constrain(out, "minLength", &t.min_length);
                constrain(out, "maxLength", &t.max_length);
            }
            SchemaKind::Type(Type::Number(t)) => {
                typed("number", format_name(&t.format), values(&t.enumeration));
                number_bounds(
                    out,
                    &t.minimum,
                    &t.maximum,
                    t.exclusive_minimum,
                    t.exclusive_maximum,
                );
                constrain(out, "multipleOf", &t.multiple_of);
            }
            SchemaKind::Type(Type::Integer(t)) => {
                typed("integer", format_name(&t.format), values(&t.enumeration));
                number_bounds(
                    out,
                    &t.minimum,
                    &t.maximum,
                    t.exclusive_minimum,
                    t.exclusive_maximum,
                );
                constrain(out, "multipleOf", &t.multiple_of);
            }
            SchemaKind::Type(Type::Boolean(t)) => typed("boolean", None, values(&t.enumeration)),
            SchemaKind::Type(Type::Object(t)) => {
                typed("object", None, None);
                self.object(
                    out,
                    &t.properties,
                    &t.required,
                    t.additional_properties.as_ref(),
                )?;
                constrain(out, "minProperties", &t.min_properties);
                constrain(out, "maxProperties", &t.max_properties);
            }
            SchemaKind::Type(Type::Array(t)) => {
                typed("array", None, None);
                self.items(out, t.items.as_ref(), original)?;
                constrain(out, "minItems", &t.min_items);
                constrain(out, "maxItems", &t.max_items);
                constrain(out, "uniqueItems", &t.unique_items.then_some(true));
            }
            SchemaKind::OneOf { one_of } => self.union(out, "oneOf", one_of, original)?,
            SchemaKind::AnyOf { any_of } => self.union(out, "anyOf", any_of, original)?,
            SchemaKind::AllOf { all_of } => {
                out.all_of = self.list(all_of, &out.loc.child("allOf"))?
            }
            SchemaKind::Not { not } => _ = out.other.insert("not".into(), json(not)),
            SchemaKind::Any(any) => self.any(out, any, original)?,
        }
        Ok(())
    }

    /// openapiv3's catch-all kind: a schema whose keywords fit none of its typed kinds.
    fn any(
        &mut self,
        out: &mut Schema,
        any: &oa::AnySchema,
        original: &Original,
    ) -> Result<(), String> {
        out.types.extend(any.typ.clone());
        out.format = any.format.clone();
        out.enumeration = (!any.enumeration.is_empty()).then(|| any.enumeration.clone());
        let (min, max) = (any.exclusive_minimum, any.exclusive_maximum);
        number_bounds(
            out,
            &any.minimum,
            &any.maximum,
            min.unwrap_or(false),
            max.unwrap_or(false),
        );
        constrain(out, "pattern", &any.pattern);
        constrain(out, "multipleOf", &any.multiple_of);
        for (key, value) in [
            ("minLength", any.min_length),
            ("maxLength", any.max_length),
            ("minItems", any.min_items),
            ("maxItems", any.max_items),
            ("minProperties", any.min_properties),
            ("maxProperties", any.max_properties),
        ] {
            constrain(out, key, &value);
        }
        constrain(out, "uniqueItems", &any.unique_items.filter(|u| *u));
        self.object(
            out,
            &any.properties,
            &any.required,
            any.additional_properties.as_ref(),
        )?;
        self.items(out, any.items.as_ref(), original)?;
        if !any.one_of.is_empty() {
            self.union(out, "oneOf", &any.one_of, original)?;
        } else if !any.any_of.is_empty() {
            self.union(out, "anyOf", &any.any_of, original)?;
        }
        if !any.all_of.is_empty() {
            out.all_of = self.list(&any.all_of, &out.loc.child("allOf"))?;
        }
        if let Some(not) = &any.not {
            out.other.insert("not".into(), json(not));
        }
        Ok(())
    }

    fn object<'p>(
        &mut self,
        out: &mut Schema,
        properties: impl IntoIterator<Item = (&'p String, &'p ReferenceOr<Box<oa::Schema>>)>,
        required: &[String],
        additional: Option<&oa::AdditionalProperties>,
    ) -> Result<(), String> {
        let loc = out.loc.child("properties");
        for (name, property) in properties {
            let property = self.schema(property, &loc.child(name))?;
            out.properties.insert(name.clone(), property);
        }
        out.required.extend(required.iter().cloned());
        out.additional = match additional {
            None => Additional::Unspecified,
            Some(oa::AdditionalProperties::Any(allowed)) => Additional::Bool(*allowed),
            Some(oa::AdditionalProperties::Schema(schema)) => {
                let loc = out.loc.child("additionalProperties");
                Additional::Schema(Box::new(self.schema(schema, &loc)?))
            }
        };
        Ok(())
    }

    /// `items`; a tuple the pre-pass rewrote (`items: {anyOf: [...]}`) is read back as one,
    /// each schema at its place as written.
    fn items(
        &mut self,
        out: &mut Schema,
        items: Option<&ReferenceOr<Box<oa::Schema>>>,
        original: &Original,
    ) -> Result<(), String> {
        let Some(items) = items else { return Ok(()) };
        out.items = Some(match (&original.tuple, items) {
            (Some(keyword), ReferenceOr::Item(tuple)) => {
                let oa::SchemaKind::AnyOf { any_of } = &tuple.schema_kind else {
                    return Err(format!(
                        "the tuple at {} was not rewritten",
                        out.loc.pointer
                    ));
                };
                Items::Tuple(self.list(any_of, &out.loc.child(keyword))?)
            }
            _ => Items::Each(Box::new(self.schema(items, &out.loc.child("items"))?)),
        });
        Ok(())
    }

    /// `oneOf` or `anyOf`; branches keep their place as written, null branches dropped.
    fn union(
        &mut self,
        out: &mut Schema,
        keyword: &str,
        branches: &[ReferenceOr<oa::Schema>],
        original: &Original,
    ) -> Result<(), String> {
        let loc = out.loc.child(keyword);
        let mut read = Vec::with_capacity(branches.len());
        for (index, branch) in branches.iter().enumerate() {
            let place = (original.kept_branches.as_ref()).map_or(index, |kept| kept[index]);
            read.push(self.schema(branch, &loc.child(place))?);
        }
        out.union = Some(match keyword {
            "oneOf" => Union::OneOf(read),
            _ => Union::AnyOf(read),
        });
        Ok(())
    }

    fn list(&mut self, list: &[ReferenceOr<oa::Schema>], loc: &Loc) -> Result<Vec<Schema>, String> {
        let schemas = list.iter().enumerate();
        schemas
            .map(|(index, schema)| self.schema(schema, &loc.child(index)))
            .collect()
    }
}

/// A constraint keyword, when written.
fn constrain<T: Serialize>(out: &mut Schema, key: &str, value: &Option<T>) {
    if let Some(value) = value {
        out.constraints.insert(key.to_string(), json(value));
    }
}

fn number_bounds<T: Serialize>(
    out: &mut Schema,
    minimum: &Option<T>,
    maximum: &Option<T>,
    exclusive_minimum: bool,
    exclusive_maximum: bool,
) {
    constrain(out, "minimum", minimum);
    constrain(out, "maximum", maximum);
    constrain(out, "exclusiveMinimum", &exclusive_minimum.then_some(true));
    constrain(out, "exclusiveMaximum", &exclusive_maximum.then_some(true));
}

/// A nullable union left with one branch (3.1's nullable reference, `oneOf: [{$ref: ...},
/// {type: 'null'}]`): the branch takes the union's place.
fn fold_single_branch(schema: &mut Schema) {
    let Some(union) = &mut schema.union else {
        return;
    };
    if union.branches().len() != 1 {
        return;
    }
    let Some(only) = union.branches_mut().pop() else {
        return;
    };
    let parent = std::mem::replace(schema, only);
    schema.loc = parent.loc;
    schema.nullable = true;
    for (key, value) in parent.annotations {
        schema.annotations.entry(key).or_insert(value);
    }
}

fn security(list: &[oa::SecurityRequirement], loc: Loc) -> Security {
    let alternatives = list.iter().map(|requirement| {
        let schemes = requirement.iter();
        schemes
            .map(|(scheme, scopes)| (scheme.clone(), scopes.iter().cloned().collect()))
            .collect()
    });
    let alternatives = alternatives.collect();
    Security { loc, alternatives }
}
