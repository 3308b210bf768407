//! Collection schemas: reading one a test defines, answering it as `collection-details`
//! does, checking an item's `fieldData` against it (table-driven, one check per field type)
//! and re-hosting the files it names on the mock's CDN, as Webflow does.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::schema::{self, FieldSchema};

/// Why a schema handed to the mock is not one: a message naming the problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidSchema(String);

impl fmt::Display for InvalidSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid collection schema: {}", self.0)
    }
}

impl std::error::Error for InvalidSchema {}

/// Where the mock "re-hosts" files: `https://cdn.prod.website-files.com/<site>/<fileId>_<name>`.
pub(super) const CDN: &str = "https://cdn.prod.website-files.com/";
pub(super) use crate::schema::{Problem, REQUIRED, Refs};

/// A collection's schema as the mock keeps it (and writes it to a state file).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(super) struct Schema {
    display_name: String,
    singular_name: String,
    slug: String,
    created_on: String,
    fields: Vec<Field>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Field {
    id: String,
    is_editable: bool,
    is_required: bool,
    #[serde(rename = "type")]
    kind: String,
    slug: String,
    display_name: String,
    help_text: Option<String>,
    validations: Option<Map<String, Value>>,
}

/// What a test may write: a `collection-details` answer, with everything but the fields'
/// `slug` and `type` optional.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SchemaInput {
    display_name: Option<String>,
    singular_name: Option<String>,
    slug: Option<String>,
    fields: Vec<FieldInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FieldInput {
    id: Option<String>,
    slug: String,
    #[serde(rename = "type")]
    kind: String,
    is_required: Option<bool>,
    is_editable: Option<bool>,
    display_name: Option<String>,
    help_text: Option<String>,
    validations: Option<Map<String, Value>>,
}

impl Schema {
    /// Reads a schema a test wrote; `name` and `slug` (PlainText, required) are added when
    /// absent, missing ids and names are made up deterministically.
    pub(super) fn parse(schema: &Value, created_on: String) -> Result<Schema, InvalidSchema> {
        let input: SchemaInput = serde_json::from_value(schema.clone()).map_err(|e| {
            InvalidSchema(format!(
                "{e} (expected {{\"fields\": [{{\"slug\", \"type\", ...}}]}})"
            ))
        })?;
        let mut fields = Vec::new();
        for built_in in ["name", "slug"] {
            if !input.fields.iter().any(|field| field.slug == built_in) {
                fields.push(Field::plain_text(built_in));
            }
        }
        for field in input.fields {
            if field.slug.is_empty() || field.kind.is_empty() {
                return Err(InvalidSchema("a field has an empty slug or type".into()));
            }
            if fields.iter().any(|known: &Field| known.slug == field.slug) {
                return Err(InvalidSchema(format!(
                    "the field slug `{}` is used twice",
                    field.slug
                )));
            }
            check_validations(&field)?;
            fields.push(Field {
                id: field
                    .id
                    .unwrap_or_else(|| hex_id(&format!("field:{}", field.slug))),
                is_editable: field.is_editable.unwrap_or(true),
                is_required: field.is_required.unwrap_or(false),
                display_name: field.display_name.unwrap_or_else(|| field.slug.clone()),
                kind: field.kind,
                slug: field.slug,
                help_text: field.help_text,
                validations: field.validations,
            });
        }
        Ok(Schema {
            display_name: input.display_name.unwrap_or_else(|| "Items".into()),
            singular_name: input.singular_name.unwrap_or_else(|| "Item".into()),
            slug: input.slug.unwrap_or_else(|| "items".into()),
            created_on,
            fields,
        })
    }

    /// The schema of a collection no test defined: `name` and `slug`, both required.
    pub(super) fn default_for_undefined(created_on: String) -> Schema {
        Schema {
            display_name: "Items".into(),
            singular_name: "Item".into(),
            slug: "items".into(),
            created_on,
            fields: vec![Field::plain_text("name"), Field::plain_text("slug")],
        }
    }

    /// The `collection-details` answer.
    pub(super) fn to_json(&self, collection_id: &str) -> Value {
        json!({
            "id": collection_id,
            "displayName": self.display_name,
            "singularName": self.singular_name,
            "slug": self.slug,
            "createdOn": self.created_on,
            "lastUpdated": self.created_on,
            "fields": self.fields,
        })
    }

    /// The problems of one item's `fieldData` (see [`crate::schema::check`]).
    pub(super) fn check(
        &self,
        field_data: &Map<String, Value>,
        partial: bool,
        refs: Refs<'_>,
    ) -> Vec<Problem> {
        schema::check(&self.fields, field_data, partial, refs)
    }

    /// Re-hosts the files of a checked `fieldData` (Image, File, MultiImage fields): a URL
    /// or `{url, alt?}` becomes `{fileId, url, alt}` on the CDN of `site_id`; values
    /// already there are kept. Null values are dropped (the field is empty).
    pub(super) fn rehost(&self, field_data: &mut Map<String, Value>, site_id: &str) {
        for (key, value) in field_data.iter_mut() {
            let Some(field) = self.field(key) else {
                continue;
            };
            match field.kind.as_str() {
                "Image" | "File" if !value.is_null() => *value = rehosted(value, site_id),
                "MultiImage" => {
                    if let Value::Array(files) = value {
                        for file in files {
                            *file = rehosted(file, site_id);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn field(&self, slug: &str) -> Option<&Field> {
        self.fields.iter().find(|field| field.slug == slug)
    }
}

impl FieldSchema for Field {
    fn slug(&self) -> &str {
        &self.slug
    }

    fn kind(&self) -> &str {
        &self.kind
    }

    fn is_required(&self) -> bool {
        self.is_required
    }

    fn validations(&self) -> Option<&Map<String, Value>> {
        self.validations.as_ref()
    }
}

impl Field {
    fn plain_text(slug: &str) -> Field {
        let display_name = if slug == "name" { "Name" } else { "Slug" };
        Field {
            id: hex_id(&format!("field:{slug}")),
            is_editable: true,
            is_required: true,
            kind: "PlainText".into(),
            slug: slug.into(),
            display_name: display_name.into(),
            help_text: None,
            validations: None,
        }
    }
}

fn check_validations(field: &FieldInput) -> Result<(), InvalidSchema> {
    let validation = |key: &str| field.validations.as_ref().and_then(|v| v.get(key));
    let ok = match field.kind.as_str() {
        "Option" => validation("options")
            .and_then(Value::as_array)
            .is_some_and(|options| options.iter().all(|o| o["id"].is_string())),
        "Reference" | "MultiReference" => validation("collectionId").is_none_or(Value::is_string),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(InvalidSchema(format!(
            "the {} field `{}` needs validations {}",
            field.kind,
            field.slug,
            if field.kind == "Option" {
                "{\"options\": [{\"id\", \"name\"}, ...]}"
            } else {
                "{\"collectionId\": \"...\"} (a string)"
            }
        )))
    }
}

/// `{fileId, url, alt}` on the mock's CDN for a checked file value.
fn rehosted(value: &Value, site_id: &str) -> Value {
    let (url, alt, file_id) = match value {
        Value::String(url) => (url.as_str(), Value::Null, None),
        Value::Object(file) => (
            file.get("url").and_then(Value::as_str).unwrap_or_default(),
            file.get("alt").cloned().unwrap_or(Value::Null),
            file.get("fileId").and_then(Value::as_str),
        ),
        _ => return value.clone(),
    };
    if url.starts_with(CDN) || !(url.starts_with("https://") || url.starts_with("http://")) {
        // Already an asset of the site (or a reference by fileId): kept as sent.
        let file_id = file_id.map_or_else(|| hex_id(url), str::to_owned);
        return json!({"fileId": file_id, "url": url, "alt": alt});
    }
    let file_id = hex_id(url);
    let name = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest)
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .split_once('/')
        .map_or("", |(_, path)| path)
        .rsplit('/')
        .next()
        .filter(|name| !name.is_empty())
        .unwrap_or("file");
    json!({"fileId": file_id, "url": format!("{CDN}{site_id}/{file_id}_{name}"), "alt": alt})
}

/// 24 lowercase hex digits derived from `text` (FNV-1a, then two splitmix64 rounds): the
/// same text always gives the same id.
pub(super) fn hex_id(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let high = super::engine::splitmix64(hash);
    let low = super::engine::splitmix64(high) as u32;
    format!("{high:016x}{low:08x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::NOT_IN_SCHEMA;

    fn schema(fields: Value) -> Schema {
        Schema::parse(
            &json!({ "fields": fields }),
            "2026-01-01T00:00:00.000Z".into(),
        )
        .unwrap()
    }

    fn none(_: &str, _: &str) -> bool {
        false
    }

    #[test]
    fn name_and_slug_are_added_and_ids_are_stable() {
        let parsed = schema(json!([{"slug": "price", "type": "Number"}]));
        let slugs: Vec<&str> = parsed.fields.iter().map(|f| f.slug.as_str()).collect();
        assert_eq!(slugs, ["name", "slug", "price"]);
        assert!(parsed.fields[0].is_required && !parsed.fields[2].is_required);
        assert_eq!(parsed, schema(json!([{"slug": "price", "type": "Number"}])));
        assert_eq!(parsed.fields[2].id.len(), 24);
    }

    #[test]
    fn invalid_schemas_say_why() {
        let parse = |value: Value| {
            Schema::parse(&value, String::new())
                .unwrap_err()
                .to_string()
        };
        assert!(parse(json!({"fields": "x"})).contains("invalid collection schema"));
        assert!(parse(json!({"fields": [{"slug": "a", "type": "Number"}, {"slug": "a", "type": "Switch"}]})).contains("`a` is used twice"));
        assert!(parse(json!({"fields": [{"slug": "kind", "type": "Option"}]})).contains("options"));
        assert!(parse(json!({"fields": [{"slug": "x", "type": ""}]})).contains("empty"));
    }

    /// Every type's check, good and bad values (one table, as the checks are).
    #[test]
    fn each_type_checks_its_values() {
        let parsed = schema(json!([
            {"slug": "title", "type": "PlainText", "validations": {"maxLength": 5}},
            {"slug": "count", "type": "Number", "validations": {"format": "integer", "allowNegative": false, "allowZero": false, "minValue": 1, "maxValue": 5}},
            {"slug": "ratio", "type": "Number"},
            {"slug": "on", "type": "Switch"},
            {"slug": "when", "type": "DateTime"},
            {"slug": "tint", "type": "Color"},
            {"slug": "kind", "type": "Option", "validations": {"options": [{"name": "A", "id": "opt-a"}]}},
            {"slug": "author", "type": "Reference", "validations": {"collectionId": "people"}},
            {"slug": "tags", "type": "MultiReference", "validations": {"collectionId": "tags"}},
            {"slug": "photo", "type": "Image"},
            {"slug": "gallery", "type": "MultiImage"},
            {"slug": "cost", "type": "Price"},
        ]));
        let refs = |collection: &str, id: &str| {
            (collection, id) == ("people", "p1") || (collection, id) == ("tags", "t1")
        };
        let check = |field: &str, value: Value| {
            let mut data = Map::new();
            data.insert(field.to_owned(), value);
            parsed
                .check(&data, true, &refs)
                .into_iter()
                .map(|p| p.description)
                .next()
        };
        for (field, good) in [
            ("title", json!("Mug")),
            ("count", json!(3)),
            ("count", json!(5.0)),
            ("ratio", json!(-0.5)),
            ("on", json!(false)),
            ("when", json!("2026-02-03T04:05:06.789Z")),
            ("tint", json!("#db4b68")),
            ("kind", json!("opt-a")),
            ("author", json!("p1")),
            ("tags", json!(["t1", "t1"])),
            ("photo", json!("https://example.com/a.png")),
            (
                "photo",
                json!({"url": "https://example.com/a.png", "alt": "A"}),
            ),
            (
                "photo",
                json!({"fileId": "62b720ef280c7a7a3be8cabe", "url": "/files/62b720ef280c7a7a3be8cabe_image.png"}),
            ),
            ("gallery", json!(["https://example.com/a.png"])),
            ("cost", json!({"value": 100, "unit": "USD"})),
            ("title", Value::Null),
        ] {
            assert_eq!(check(field, good.clone()), None, "{field} = {good}");
        }
        for (field, bad, description) in [
            ("title", json!(5), "Value (title)'s type should be string"),
            (
                "title",
                json!("Teapot"),
                "Must be at most 5 characters long",
            ),
            ("count", json!("3"), "Value (count)'s type should be number"),
            ("count", json!(2.5), "Must be an integer"),
            ("count", json!(-1), "Must not be negative"),
            ("count", json!(0), "Must not be zero"),
            ("count", json!(6), "Must be at most 5"),
            ("on", json!("yes"), "Value (on)'s type should be boolean"),
            (
                "when",
                json!("12/10/1979"),
                "Must be an ISO 8601 date, e.g. 2026-01-01T00:00:00.000Z",
            ),
            ("tint", json!("red"), "Must be a hex color, e.g. #db4b68"),
            (
                "kind",
                json!("A"),
                "Must be the id of one of the field's options, not 'A'",
            ),
            ("author", json!("p2"), "Referenced item not found: 'p2'"),
            ("tags", json!("t1"), "Value (tags)'s type should be array"),
            (
                "tags",
                json!(["t1", "t2"]),
                "Referenced item not found: 't2'",
            ),
            (
                "photo",
                json!("a.png"),
                "Must be a public URL, or {\"url\", \"alt\"?, \"fileId\"?} with one",
            ),
            (
                "photo",
                json!({"alt": "no url"}),
                "Must be a public URL, or {\"url\", \"alt\"?, \"fileId\"?} with one",
            ),
            (
                "gallery",
                json!("https://example.com/a.png"),
                "Value (gallery)'s type should be array",
            ),
            ("colour", json!("#fff"), NOT_IN_SCHEMA),
            ("name", json!(""), REQUIRED),
        ] {
            assert_eq!(
                check(field, bad.clone()).as_deref(),
                Some(description),
                "{field} = {bad}"
            );
        }
    }

    #[test]
    fn a_full_item_needs_every_required_field() {
        let parsed = schema(json!([{"slug": "sku", "type": "PlainText", "isRequired": true}]));
        let data = json!({"name": "Mug", "extra": 1})
            .as_object()
            .unwrap()
            .clone();
        let problems: Vec<(String, String)> = parsed
            .check(&data, false, &none)
            .into_iter()
            .map(|p| (p.field, p.description))
            .collect();
        assert_eq!(
            problems,
            [
                ("extra".to_owned(), NOT_IN_SCHEMA.to_owned()),
                ("slug".to_owned(), REQUIRED.to_owned()),
                ("sku".to_owned(), REQUIRED.to_owned()),
            ]
        );
        assert!(
            parsed.check(&data, true, &none).len() == 1,
            "an update may leave fields out"
        );
    }

    #[test]
    fn files_are_rehosted_deterministically_and_kept_once_there() {
        let parsed = schema(json!([
            {"slug": "photo", "type": "Image"},
            {"slug": "gallery", "type": "MultiImage"},
        ]));
        let mut data = json!({
            "photo": {"url": "https://example.com/img/mug.png?size=2", "alt": "A mug"},
            "gallery": ["https://example.com/", {"url": "https://example.com/b.jpg"}],
        })
        .as_object()
        .unwrap()
        .clone();
        parsed.rehost(&mut data, "site1");
        let photo = &data["photo"];
        let id = photo["fileId"].as_str().unwrap();
        assert_eq!(id.len(), 24);
        assert_eq!(photo["url"], format!("{CDN}site1/{id}_mug.png"));
        assert_eq!(photo["alt"], "A mug");
        assert!(
            data["gallery"][0]["url"]
                .as_str()
                .unwrap()
                .ends_with("_file")
        );
        assert_eq!(data["gallery"][1]["alt"], Value::Null);
        // Sending the stored value back keeps it; the same URL gives the same id.
        let before = data.clone();
        parsed.rehost(&mut data, "site1");
        assert_eq!(data, before);
        assert_eq!(
            hex_id("https://example.com/b.jpg"),
            hex_id("https://example.com/b.jpg")
        );
        assert_ne!(
            hex_id("https://example.com/b.jpg"),
            hex_id("https://example.com/c.jpg")
        );
    }
}
