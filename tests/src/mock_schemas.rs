//! The mock's collection schemas over HTTP: `collection-details`, creates checked against a
//! schema and worded as Webflow words its validation errors, and files re-hosted on the CDN.

use reqwest::Method;
use serde_json::{Value, json};
use webflow_api::mock::MockWebflow;
use webflow_api::types::Collection;

use crate::mock_server::{Api, COLLECTION, detail_params, item};

const AUTHORS: &str = "authors";

/// A products collection with one field of each type the mock checks.
fn products() -> Value {
    json!({
        "displayName": "Products",
        "singularName": "Product",
        "slug": "products",
        "fields": [
            {"slug": "name", "type": "PlainText", "isRequired": true, "displayName": "Name"},
            {"slug": "slug", "type": "PlainText", "isRequired": true, "displayName": "Slug"},
            {"slug": "price", "type": "Number", "isRequired": true,
             "validations": {"allowNegative": false, "maxValue": 1000}},
            {"slug": "summary", "type": "PlainText", "validations": {"maxLength": 20}},
            {"slug": "featured", "type": "Switch"},
            {"slug": "released", "type": "DateTime"},
            {"slug": "tint", "type": "Color"},
            {"slug": "kind", "type": "Option",
             "validations": {"options": [{"name": "Mug", "id": "66f6e966c9e1dc700a857ca3"}]}},
            {"slug": "author", "type": "Reference", "validations": {"collectionId": AUTHORS}},
            {"slug": "tags", "type": "MultiReference", "validations": {"collectionId": AUTHORS}},
            {"slug": "photo", "type": "Image"},
            {"slug": "manual", "type": "File"},
            {"slug": "plan", "type": "MembershipPlan"},
        ],
    })
}

async fn mock_with_products() -> MockWebflow {
    MockWebflow::builder()
        .collection(COLLECTION, products())
        .collection(AUTHORS, json!({"fields": []}))
        .start()
        .await
}

fn product(slug: &str, price: Value) -> Value {
    json!({"fieldData": {"name": "Mug", "slug": slug, "price": price}})
}

#[tokio::test]
async fn collection_details_answers_the_defined_schema_and_a_default_otherwise() {
    let mock = mock_with_products().await;
    let api = Api::new(&mock);
    let answer = api
        .call(Method::GET, &format!("/collections/{COLLECTION}"), None)
        .await;
    assert_eq!(answer.status, 200);
    let collection: Collection = serde_json::from_value(answer.body.clone()).unwrap();
    assert_eq!(collection.id, COLLECTION);
    assert_eq!(collection.display_name, "Products");
    assert_eq!(
        collection.created_on.as_deref(),
        Some("2026-01-01T00:00:00.000Z")
    );
    let fields: Vec<(&str, &str, bool)> = collection
        .fields
        .iter()
        .map(|f| (f.slug.as_deref().unwrap(), f.type_.as_str(), f.is_required))
        .collect();
    assert_eq!(fields.len(), 13);
    assert_eq!(fields[2], ("price", "Number", true));
    assert_eq!(fields[12], ("plan", "MembershipPlan", false));
    assert!(collection.fields.iter().all(|f| f.id.len() == 24));
    assert_eq!(
        answer.body["fields"][7]["validations"]["options"][0]["name"],
        "Mug"
    );
    assert_eq!(answer.body["fields"][3]["helpText"], Value::Null);

    // A collection no test defined: name and slug, any id accepted.
    let other = api.call(Method::GET, "/collections/0123", None).await;
    assert_eq!(other.status, 200);
    let fields: Vec<(&Value, &Value, &Value)> = other.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (&f["slug"], &f["type"], &f["isRequired"]))
        .collect();
    assert_eq!(
        fields,
        [
            (&json!("name"), &json!("PlainText"), &json!(true)),
            (&json!("slug"), &json!("PlainText"), &json!(true)),
        ]
    );

    // A schema defined later replaces it; name and slug are added.
    mock.define_collection(
        "0123",
        json!({"fields": [{"slug": "colour", "type": "Color"}]}),
    );
    let other = api.call(Method::GET, "/collections/0123", None).await;
    let slugs: Vec<&str> = other.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["name", "slug", "colour"]);
    assert_eq!(mock.request_count(), 3);
}

#[tokio::test]
async fn an_unknown_field_is_refused_in_webflows_words() {
    let mock = mock_with_products().await;
    let api = Api::new(&mock);
    let mut body = product("mug", json!(12));
    body["fieldData"]["ListingId"] = json!("26514721");
    let answer = api.create(&body).await;
    assert_eq!(answer.status, 400);
    // js-webflow-api#165, to the byte (keys in any order).
    let expected: Value = serde_json::from_str(
        r#"{"message":"Validation Error","code":"validation_error","externalReference":null,"details":[{"param":"ListingId","description":"Field not described in schema: undefined"}]}"#,
    )
    .unwrap();
    assert_eq!(answer.body, expected);
    assert_eq!(mock.created_count(), 0);
    assert!(mock.items(COLLECTION).is_empty());
}

#[tokio::test]
async fn a_bulk_create_names_each_problem_by_position_and_creates_nothing() {
    let mock = mock_with_products().await;
    let api = Api::new(&mock);
    let answer = api
        .create(&json!({"items": [
            product("a", json!(1)),
            product("b", json!(-1)),
            item("C", "c"),
            product("d", json!("12")),
        ]}))
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        detail_params(&answer.body),
        [
            "items[1].fieldData.price",
            "items[2].fieldData.price",
            "items[3].fieldData.price"
        ]
    );
    let descriptions: Vec<&str> = answer.body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["description"].as_str().unwrap())
        .collect();
    assert_eq!(
        descriptions,
        [
            "Must not be negative",
            "Field is required",
            "Value (price)'s type should be number"
        ]
    );
    assert_eq!(mock.created_count(), 0, "all or nothing");
    assert_eq!(api.create(&product("a", json!(1))).await.status, 202);
}

/// One bad value per field type, each alone, over HTTP; then one item with every field.
#[tokio::test]
async fn each_field_type_is_checked_and_a_valid_item_is_stored() {
    let mock = mock_with_products().await;
    let author = &mock.insert_items(AUTHORS, [item("Ada", "ada")])[0];
    let api = Api::new(&mock);
    for (field, value, description) in [
        ("price", json!(1001), "Must be at most 1000"),
        (
            "summary",
            json!("a summary far too long"),
            "Must be at most 20 characters long",
        ),
        (
            "featured",
            json!("true"),
            "Value (featured)'s type should be boolean",
        ),
        (
            "released",
            json!("next week"),
            "Must be an ISO 8601 date, e.g. 2026-01-01T00:00:00.000Z",
        ),
        ("tint", json!("blue"), "Must be a hex color, e.g. #db4b68"),
        (
            "kind",
            json!("Mug"),
            "Must be the id of one of the field's options, not 'Mug'",
        ),
        (
            "author",
            json!("66a000000000000000000999"),
            "Referenced item not found: '66a000000000000000000999'",
        ),
        (
            "tags",
            json!([author, "nobody"]),
            "Referenced item not found: 'nobody'",
        ),
        (
            "photo",
            json!("mug.png"),
            "Must be a public URL, or {\"url\", \"alt\"?, \"fileId\"?} with one",
        ),
    ] {
        let mut body = product("mug", json!(10));
        body["fieldData"][field] = value;
        let answer = api.create(&body).await;
        assert_eq!(answer.status, 400, "{field}");
        assert_eq!(
            answer.body["details"],
            json!([{"param": field, "description": description}]),
            "{field}"
        );
    }
    assert_eq!(mock.created_count(), 0);

    let valid = json!({"fieldData": {
        "name": "Mug", "slug": "mug", "price": 10, "summary": "A mug", "featured": true,
        "released": "2026-02-01T00:00:00.000Z", "tint": "#db4b68",
        "kind": "66f6e966c9e1dc700a857ca3", "author": author, "tags": [author],
        "plan": {"anything": ["goes"]}, "manual": null,
    }});
    let answer = api.create(&valid).await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    let mut expected = valid["fieldData"].clone();
    expected.as_object_mut().unwrap().remove("manual");
    assert_eq!(
        answer.body["fieldData"], expected,
        "stored as sent, the empty field left out"
    );
    assert_eq!(mock.items(COLLECTION), [answer.body]);
}

#[tokio::test]
async fn files_are_rehosted_on_the_sites_cdn() {
    let mock = MockWebflow::builder()
        .collection(COLLECTION, products())
        .site_id("5f0c8c9e1c9d440000e8d8c0")
        .start()
        .await;
    let api = Api::new(&mock);
    let mut body = product("mug", json!(10));
    body["fieldData"]["photo"] =
        json!({"url": "https://example.com/img/mug.png?w=200", "alt": "A mug"});
    body["fieldData"]["manual"] = json!("https://example.com/docs/manual.pdf");
    let created = api.create(&body).await;
    assert_eq!(created.status, 202, "{}", created.body);
    let photo = &created.body["fieldData"]["photo"];
    let file_id = photo["fileId"].as_str().unwrap();
    assert!(file_id.len() == 24 && file_id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        photo["url"],
        format!("https://cdn.prod.website-files.com/5f0c8c9e1c9d440000e8d8c0/{file_id}_mug.png")
    );
    assert_eq!(photo["alt"], "A mug");
    let manual = &created.body["fieldData"]["manual"];
    assert!(
        manual["url"].as_str().unwrap().ends_with("_manual.pdf"),
        "{manual}"
    );
    assert_eq!(manual["alt"], Value::Null);

    // The same source URL gives the same file; the CDN value sent back is kept as is.
    let mut again = product("mug-2", json!(10));
    again["fieldData"]["photo"] = json!("https://example.com/img/mug.png?w=200");
    again["fieldData"]["manual"] = manual.clone();
    let again = api.create(&again).await;
    assert_eq!(again.body["fieldData"]["photo"]["fileId"], file_id);
    assert_eq!(again.body["fieldData"]["photo"]["alt"], Value::Null);
    assert_eq!(again.body["fieldData"]["manual"], *manual);
    let listed = api.list("slug=mug").await;
    assert_eq!(listed.body["items"][0]["fieldData"]["photo"], *photo);
}

#[tokio::test]
async fn a_collection_without_a_schema_keeps_any_field_as_sent() {
    let mock = MockWebflow::start().await;
    let api = Api::new(&mock);
    let body =
        json!({"fieldData": {"name": "Mug", "slug": "mug", "photo": "mug.png", "ListingId": 1}});
    let answer = api.create(&body).await;
    assert_eq!(answer.status, 202);
    assert_eq!(answer.body["fieldData"], body["fieldData"]);
}
