//! Collection schemas as the crate checks items against them: one check per field type
//! (table-driven), worded as Webflow words its validation errors — shared by the bulk
//! import, which checks lines before sending them, and the embedded mock, which checks what
//! it is sent as Webflow does.

use serde_json::{Map, Value};

use crate::types::CollectionField;

/// The description Webflow gives a field the schema does not have (js-webflow-api#165).
pub(crate) const NOT_IN_SCHEMA: &str = "Field not described in schema: undefined";
/// The description given to a required field that is missing, null or empty.
pub(crate) const REQUIRED: &str = "Field is required";

/// One field of a collection, as a check needs it.
pub(crate) trait FieldSchema {
    /// The key of its value in `fieldData`.
    fn slug(&self) -> &str;
    /// `PlainText`, `Number`, `Option`, ...
    fn kind(&self) -> &str;
    fn is_required(&self) -> bool;
    fn validations(&self) -> Option<&Map<String, Value>>;
}

impl FieldSchema for CollectionField {
    fn slug(&self) -> &str {
        self.slug.as_deref().unwrap_or_default()
    }

    fn kind(&self) -> &str {
        &self.type_
    }

    fn is_required(&self) -> bool {
        self.is_required
    }

    fn validations(&self) -> Option<&Map<String, Value>> {
        self.validations.as_ref()
    }
}

/// One problem with one field of one item.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    /// The field's slug (the key under `fieldData`).
    pub(crate) field: String,
    pub(crate) description: String,
}

/// Whether an item id exists in a collection: `(collection id, item id)`.
pub(crate) type Refs<'a> = &'a dyn Fn(&str, &str) -> bool;

/// The problems of one item's `fieldData`, sent fields first (in key order), then the
/// required fields it lacks. `partial` (an update) lets fields be left out; a required
/// field is then a problem only when it is sent as null or empty.
pub(crate) fn check<F: FieldSchema>(
    fields: &[F],
    field_data: &Map<String, Value>,
    partial: bool,
    refs: Refs<'_>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let problem = |field: &str, description: String| Problem {
        field: field.to_owned(),
        description,
    };
    for (key, value) in field_data {
        let Some(field) = fields.iter().find(|field| field.slug() == key) else {
            problems.push(problem(key, NOT_IN_SCHEMA.to_owned()));
            continue;
        };
        if is_empty(value) {
            if field.is_required() {
                problems.push(problem(key, REQUIRED.to_owned()));
            }
            continue;
        }
        let check = CHECKS
            .iter()
            .find(|(kind, _)| *kind == field.kind())
            .map(|(_, check)| check);
        if let Some(check) = check {
            let context = Context {
                slug: field.slug(),
                validations: field.validations(),
                refs,
            };
            if let Err(description) = check(value, &context) {
                problems.push(problem(key, description));
            }
        }
    }
    if !partial {
        for field in fields.iter().filter(|field| field.is_required()) {
            if !field_data.contains_key(field.slug()) {
                problems.push(problem(field.slug(), REQUIRED.to_owned()));
            }
        }
    }
    problems
}

/// What a field check sees besides the value.
struct Context<'a> {
    slug: &'a str,
    validations: Option<&'a Map<String, Value>>,
    refs: Refs<'a>,
}

impl Context<'_> {
    fn validation(&self, key: &str) -> Option<&Value> {
        self.validations.and_then(|v| v.get(key))
    }

    /// Webflow's wording for a value of the wrong JSON type (js-webflow-api#223).
    fn wrong_type(&self, expected: &str) -> String {
        format!("Value ({})'s type should be {expected}", self.slug)
    }
}

type Check = fn(&Value, &Context<'_>) -> Result<(), String>;

/// One check per field type; a type not listed here (Webflow has more: Price, SkuValues,
/// MembershipPlan, ...) takes any value.
const CHECKS: &[(&str, Check)] = &[
    ("PlainText", text),
    ("RichText", text),
    ("Link", text),
    ("Email", text),
    ("Phone", text),
    ("VideoLink", text),
    ("Number", number),
    ("Switch", switch),
    ("DateTime", date_time),
    ("Color", color),
    ("Option", option),
    ("Reference", reference),
    ("MultiReference", multi_reference),
    ("Image", file),
    ("File", file),
    ("MultiImage", files),
];

fn text(value: &Value, context: &Context<'_>) -> Result<(), String> {
    let text = value.as_str().ok_or_else(|| context.wrong_type("string"))?;
    let length = text.chars().count() as f64;
    let bound = |key: &str| context.validation(key).and_then(Value::as_f64);
    if let Some(max) = bound("maxLength").filter(|max| length > *max) {
        return Err(format!("Must be at most {max} characters long"));
    }
    if let Some(min) = bound("minLength").filter(|min| length < *min) {
        return Err(format!("Must be at least {min} characters long"));
    }
    Ok(())
}

fn number(value: &Value, context: &Context<'_>) -> Result<(), String> {
    let number = value.as_f64().ok_or_else(|| context.wrong_type("number"))?;
    let flag = |key: &str| context.validation(key).and_then(Value::as_bool);
    let bound = |key: &str| context.validation(key).and_then(Value::as_f64);
    if context.validation("format").and_then(Value::as_str) == Some("integer")
        && number.fract() != 0.0
    {
        return Err("Must be an integer".into());
    }
    if flag("allowNegative") == Some(false) && number < 0.0 {
        return Err("Must not be negative".into());
    }
    if flag("allowZero") == Some(false) && number == 0.0 {
        return Err("Must not be zero".into());
    }
    if let Some(min) = bound("minValue").filter(|min| number < *min) {
        return Err(format!("Must be at least {min}"));
    }
    if let Some(max) = bound("maxValue").filter(|max| number > *max) {
        return Err(format!("Must be at most {max}"));
    }
    Ok(())
}

fn switch(value: &Value, context: &Context<'_>) -> Result<(), String> {
    value
        .is_boolean()
        .then_some(())
        .ok_or_else(|| context.wrong_type("boolean"))
}

fn date_time(value: &Value, context: &Context<'_>) -> Result<(), String> {
    let text = value.as_str().ok_or_else(|| context.wrong_type("string"))?;
    if crate::time::is_iso_8601(text) {
        Ok(())
    } else {
        Err("Must be an ISO 8601 date, e.g. 2026-01-01T00:00:00.000Z".into())
    }
}

fn color(value: &Value, context: &Context<'_>) -> Result<(), String> {
    let text = value.as_str().ok_or_else(|| context.wrong_type("string"))?;
    let hex = text.strip_prefix('#').unwrap_or("");
    if matches!(hex.len(), 3 | 6 | 8) && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err("Must be a hex color, e.g. #db4b68".into())
    }
}

fn option(value: &Value, context: &Context<'_>) -> Result<(), String> {
    let id = value.as_str().ok_or_else(|| context.wrong_type("string"))?;
    let known = context
        .validation("options")
        .and_then(Value::as_array)
        .is_some_and(|options| options.iter().any(|option| option["id"] == id));
    if known {
        Ok(())
    } else {
        Err(format!(
            "Must be the id of one of the field's options, not '{id}'"
        ))
    }
}

fn reference(value: &Value, context: &Context<'_>) -> Result<(), String> {
    let id = value.as_str().ok_or_else(|| context.wrong_type("string"))?;
    referenced(id, context)
}

fn multi_reference(value: &Value, context: &Context<'_>) -> Result<(), String> {
    let ids = value
        .as_array()
        .ok_or_else(|| context.wrong_type("array"))?;
    for id in ids {
        let id = id
            .as_str()
            .ok_or_else(|| context.wrong_type("array of item ids"))?;
        referenced(id, context)?;
    }
    Ok(())
}

fn referenced(id: &str, context: &Context<'_>) -> Result<(), String> {
    match context.validation("collectionId").and_then(Value::as_str) {
        Some(collection) if !(context.refs)(collection, id) => {
            Err(format!("Referenced item not found: '{id}'"))
        }
        _ => Ok(()),
    }
}

fn file(value: &Value, _: &Context<'_>) -> Result<(), String> {
    let public = |url: &str| url.starts_with("https://") || url.starts_with("http://");
    let valid = match value {
        Value::String(url) => public(url),
        Value::Object(file) => {
            let alt_ok = file
                .get("alt")
                .is_none_or(|alt| alt.is_string() || alt.is_null());
            let url_ok = match file.get("url").and_then(Value::as_str) {
                Some(url) => public(url) || file.get("fileId").is_some_and(Value::is_string),
                None => false,
            };
            alt_ok && url_ok
        }
        _ => false,
    };
    if valid {
        Ok(())
    } else {
        Err("Must be a public URL, or {\"url\", \"alt\"?, \"fileId\"?} with one".into())
    }
}

fn files(value: &Value, context: &Context<'_>) -> Result<(), String> {
    let files = value
        .as_array()
        .ok_or_else(|| context.wrong_type("array"))?;
    files.iter().try_for_each(|one| file(one, context))
}

/// Null, or an empty string: a field left empty.
pub(crate) fn is_empty(value: &Value) -> bool {
    value.is_null() || value.as_str().is_some_and(str::is_empty)
}
