//! The comparable model of one operation, read from openapiv3's types: `$ref`s resolved,
//! 3.0 and 3.1 spellings made equal, annotations set apart from what decides the wire
//! format, every node tagged with where it came from. Serialised (annotations left out),
//! it is the normalised form that `spec/deviations.yaml` records.

use std::borrow::{Borrow, Cow};
use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{self as oa, ReferenceOr};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize, Serializer};
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

/// One operation, normalised.
#[derive(Debug, Serialize)]
pub struct Operation {
    #[serde(skip)]
    pub loc: Loc,
    #[serde(skip)]
    pub method: String,
    #[serde(skip)]
    pub path: String,
    /// Its own parameters, then those of the path item it does not override; serialised
    /// (own ones only) by `parameter_token`, as deviations name them.
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

fn own_parameters<S: Serializer>(parameters: &[Parameter], s: S) -> Result<S::Ok, S::Error> {
    let own = parameters.iter().filter(|p| !p.from_path_item);
    s.collect_map(own.map(|p| (p.key(), p)))
}

fn no_own_parameters(parameters: &[Parameter]) -> bool {
    parameters.iter().all(|p| p.from_path_item)
}

fn not_the_operations(security: &Option<Security>) -> bool {
    security
        .as_ref()
        .is_none_or(|s| s.loc.scope != Scope::Operation)
}

fn is_false(value: &bool) -> bool {
    !*value
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
    /// Keyed by the header name in lower case; serialised by `Header::name`, as written.
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
#[derive(Debug, Default, Serialize)]
#[serde(untagged)]
pub enum Additional {
    #[default]
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

/// A schema, normalised: `type: [T, 'null']`, `nullable: true` and a `{type: 'null'}`
/// branch of a `oneOf`/`anyOf` all become `nullable`; a schema with `properties` and no
/// `type` is an object; `const: v` is `enum: [v]`. Serialised, lists whose order means
/// nothing (`required`, `enum`, `type`) are sorted.
#[derive(Debug, Default, Serialize)]
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
    #[serde(rename = "oneOf", skip_serializing_if = "Vec::is_empty")]
    pub one_of: Vec<Schema>,
    #[serde(rename = "anyOf", skip_serializing_if = "Vec::is_empty")]
    pub any_of: Vec<Schema>,
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
    /// Whether the schema accepts every JSON value: written out, it has no keyword that
    /// narrows the values (it may have annotations, a default, `nullable`...).
    pub fn accepts_anything(&self) -> bool {
        let harmless = ["nullable", "default", "readOnly", "writeOnly"];
        let Value::Object(written) = json(self) else {
            return false;
        };
        written.keys().all(|key| harmless.contains(&key.as_str()))
    }

    /// `oneOf` or `anyOf`, and its branches.
    pub fn union(&self) -> Option<(&'static str, &[Schema])> {
        match (&self.one_of[..], &self.any_of[..]) {
            ([], []) => None,
            ([], any_of) => Some(("anyOf", any_of)),
            (one_of, _) => Some(("oneOf", one_of)),
        }
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

/// The annotations of a typed node (and any of `extra`), from the node as openapiv3 writes it.
fn annotations(node: impl Serialize, extra: &[&str]) -> Annotations {
    let Value::Object(written) = json(node) else {
        return Annotations::new();
    };
    let annotation =
        |key: &str| ANNOTATION_KEYS.contains(&key) || extra.contains(&key) || key.starts_with("x-");
    let written = written
        .into_iter()
        .filter(|(key, _)| annotation(key) && key != ORIGINAL);
    written.collect()
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
        let (resolver, expanding) = (Resolver { raw }, Vec::new());
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
            Some(body) => {
                let (body, loc) = self.resolver.resolve(body, &loc.child("requestBody"))?;
                let content = self.content(&body.content, &loc.child("content"))?;
                let annotations = annotations(&body, &[]);
                Some(RequestBody {
                    required: body.required,
                    content,
                    annotations,
                    loc,
                })
            }
            None => None,
        };
        let mut responses = BTreeMap::new();
        let default = op
            .responses
            .default
            .iter()
            .map(|r| ("default".to_string(), r));
        let statuses = op
            .responses
            .responses
            .iter()
            .map(|(s, r)| (s.to_string(), r));
        for (status, response) in statuses.chain(default) {
            let response = self.response(response, &loc.child("responses").child(&status))?;
            responses.insert(status, response);
        }
        let security = match (&op.security, &self.api.security) {
            (Some(list), _) => Some(security(list, loc.child("security"))),
            (None, Some(list)) => Some(security(list, Loc::document("/security"))),
            (None, None) => None,
        };
        let (method, path) = (method.to_string(), path.to_string());
        let annotations = annotations(op, &["tags"]);
        Ok(Operation {
            loc,
            method,
            path,
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
            let data = parameter.parameter_data_ref();
            let location = match &*parameter {
                oa::Parameter::Query { .. } => "query",
                oa::Parameter::Header { .. } => "header",
                oa::Parameter::Path { .. } => "path",
                oa::Parameter::Cookie { .. } => "cookie",
            };
            if loc.scope == Scope::Operation {
                let token = escape_token(&parameter_token(location, &data.name));
                loc.relative = format!("{}/{token}", list_loc.relative);
            }
            let extra = ["style", "explode", "allowEmptyValue", "allowReserved"];
            out.push(Parameter {
                name: data.name.clone(),
                location: location.to_string(),
                // A path parameter is always required.
                required: data.required || location == "path",
                schema: self.parameter_schema(&data.format, &loc)?,
                from_path_item,
                annotations: annotations(&parameter, &extra),
                loc,
            });
        }
        Ok(out)
    }

    fn parameter_schema(
        &mut self,
        format: &oa::ParameterSchemaOrContent,
        loc: &Loc,
    ) -> Result<Option<Schema>, String> {
        match format {
            oa::ParameterSchemaOrContent::Schema(schema) => {
                Ok(Some(self.schema(schema, &loc.child("schema"))?))
            }
            oa::ParameterSchemaOrContent::Content(_) => Ok(None),
        }
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
            let annotations = annotations(media, &[]);
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
            let header = Header {
                name: name.clone(),
                required: header.required,
                schema: self.parameter_schema(&header.format, &loc)?,
                annotations: annotations(&header, &[]),
                loc,
            };
            headers.insert(name.to_ascii_lowercase(), header);
        }
        let content = self.content(&response.content, &loc.child("content"))?;
        let annotations = annotations(&response, &[]);
        Ok(Response {
            headers,
            content,
            annotations,
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
                loc,
                ..Schema::default()
            });
        }
        self.expanding.push(loc.pointer.clone());
        let result = self.schema_object((*schema).borrow(), loc);
        self.expanding.pop();
        result
    }

    /// One schema object. Every kind of openapiv3's is read through its catch-all kind,
    /// `AnySchema`, which has every keyword; what the pre-pass rewrote is read back.
    fn schema_object(&mut self, schema: &oa::Schema, loc: Loc) -> Result<Schema, String> {
        let (data, unreadable) = (&schema.schema_data, |e: serde_json::Error| e.to_string());
        let original = match data.extensions.get(ORIGINAL) {
            Some(kept) => Original::deserialize(kept).map_err(unreadable)?,
            None => Original::default(),
        };
        let any = match &schema.schema_kind {
            oa::SchemaKind::Any(any) => Cow::Borrowed(any),
            kind => Cow::Owned(oa::AnySchema::deserialize(json(kind)).map_err(unreadable)?),
        };
        let mut out = Schema {
            loc,
            ..Schema::default()
        };
        out.types = original.types.iter().chain(&any.typ).cloned().collect();
        out.nullable = data.nullable;
        out.format = any.format.clone();
        out.enumeration = (!any.enumeration.is_empty()).then(|| {
            let values = any
                .enumeration
                .iter()
                .filter(|v| !(data.nullable && v.is_null()));
            values.map(json).collect()
        });
        (out.default, out.read_only, out.write_only) =
            (data.default.clone(), data.read_only, data.write_only);
        let constraints = [
            ("minLength", json(any.min_length)),
            ("maxLength", json(any.max_length)),
            ("pattern", json(&any.pattern)),
            ("minimum", json(any.minimum)),
            ("maximum", json(any.maximum)),
            (
                "exclusiveMinimum",
                json(any.exclusive_minimum.filter(|b| *b)),
            ),
            (
                "exclusiveMaximum",
                json(any.exclusive_maximum.filter(|b| *b)),
            ),
            ("multipleOf", json(any.multiple_of)),
            ("minItems", json(any.min_items)),
            ("maxItems", json(any.max_items)),
            ("uniqueItems", json(any.unique_items.filter(|b| *b))),
            ("minProperties", json(any.min_properties)),
            ("maxProperties", json(any.max_properties)),
        ];
        let written = constraints
            .into_iter()
            .filter(|(_, value)| !value.is_null());
        out.constraints = written
            .map(|(key, value)| (key.to_string(), value))
            .collect();
        let properties = out.loc.child("properties");
        for (name, property) in &any.properties {
            let property = self.schema(property, &properties.child(name))?;
            out.properties.insert(name.clone(), property);
        }
        out.required = any.required.iter().cloned().collect();
        out.additional = match &any.additional_properties {
            None => Additional::Unspecified,
            Some(oa::AdditionalProperties::Any(allowed)) => Additional::Bool(*allowed),
            Some(oa::AdditionalProperties::Schema(schema)) => {
                let loc = out.loc.child("additionalProperties");
                Additional::Schema(Box::new(self.schema(schema, &loc)?))
            }
        };
        out.items = match (&any.items, &original.tuple) {
            (None, _) => None,
            // A tuple the pre-pass read as `items: {anyOf: [...]}`, each schema at its place.
            (Some(ReferenceOr::Item(tuple)), Some(keyword)) => {
                let oa::SchemaKind::AnyOf { any_of } = &tuple.schema_kind else {
                    return Err(format!(
                        "the tuple at {} was not rewritten",
                        out.loc.pointer
                    ));
                };
                Some(Items::Tuple(self.list(
                    any_of,
                    &out.loc.child(keyword),
                    None,
                )?))
            }
            (Some(items), _) => Some(Items::Each(Box::new(
                self.schema(items, &out.loc.child("items"))?,
            ))),
        };
        let kept = original.kept_branches.as_deref();
        if !any.one_of.is_empty() {
            out.one_of = self.list(&any.one_of, &out.loc.child("oneOf"), kept)?;
        } else if !any.any_of.is_empty() {
            out.any_of = self.list(&any.any_of, &out.loc.child("anyOf"), kept)?;
        }
        out.all_of = self.list(&any.all_of, &out.loc.child("allOf"), None)?;
        if let Some(not) = &any.not {
            out.other.insert("not".into(), json(not));
        }
        if let Some(discriminator) = &data.discriminator {
            out.other
                .insert("discriminator".into(), json(discriminator));
        }
        out.annotations = annotations(schema, &[]);
        for (key, value) in original.set_aside {
            let annotation = ANNOTATION_KEYS.contains(&key.as_str());
            let kept = if annotation {
                &mut out.annotations
            } else {
                &mut out.other
            };
            kept.insert(key, value);
        }
        if kept.is_some() {
            fold_single_branch(&mut out);
        }
        if out.types.is_empty() && out.union().is_none() && out.all_of.is_empty() {
            let object = !out.properties.is_empty() || !out.required.is_empty();
            if object || !out.additional.is_unspecified() {
                out.types.insert("object".into());
            } else if out.items.is_some() {
                out.types.insert("array".into());
            }
        }
        Ok(out)
    }

    /// A list of schemas; `places` says where each was written, when the pre-pass moved them.
    fn list(
        &mut self,
        list: &[ReferenceOr<oa::Schema>],
        loc: &Loc,
        places: Option<&[usize]>,
    ) -> Result<Vec<Schema>, String> {
        let mut out = Vec::with_capacity(list.len());
        for (index, schema) in list.iter().enumerate() {
            let place = places.map_or(index, |places| places[index]);
            out.push(self.schema(schema, &loc.child(place))?);
        }
        Ok(out)
    }
}

/// A nullable union left with one branch (3.1's nullable reference, `oneOf: [{$ref: ...},
/// {type: 'null'}]`): the branch takes the union's place.
fn fold_single_branch(schema: &mut Schema) {
    let branches = if schema.one_of.is_empty() {
        &mut schema.any_of
    } else {
        &mut schema.one_of
    };
    if branches.len() != 1 {
        return;
    }
    let Some(only) = branches.pop() else { return };
    let parent = std::mem::replace(schema, only);
    (schema.loc, schema.nullable) = (parent.loc, true);
    for (key, value) in parent.annotations {
        schema.annotations.entry(key).or_insert(value);
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
