//! The examples in Webflow's own published spec (copied into
//! `tests/fixtures/upstream-examples.json`) decode with our types, and the request examples
//! survive a round trip unchanged.

use serde_json::Value;
use webflow_api::{CollectionItem, CreateLiveItemsBody, CreatedLiveItems, WebflowError};

fn fixture() -> Value {
    serde_json::from_str(include_str!("../fixtures/upstream-examples.json")).unwrap()
}

#[test]
fn request_examples_decode_and_round_trip() {
    let fixture = fixture();
    let examples = fixture["requests"].as_object().unwrap();
    assert_eq!(examples.len(), 2);
    for (name, example) in examples {
        let body: CreateLiveItemsBody =
            serde_json::from_value(example.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected_variant = if example.get("items").is_some() {
            "BulkNewItems"
        } else {
            "NewItem"
        };
        assert!(
            format!("{body:?}").starts_with(expected_variant),
            "{name} decoded as {body:?}"
        );
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            *example,
            "{name} changes on a round trip"
        );
    }
}

#[test]
fn success_example_decodes_with_every_custom_field() {
    let example = fixture()["responses"]["202"].clone();
    let item: CollectionItem = serde_json::from_value(example.clone()).unwrap();
    assert_eq!(item.id, "42b720ef280c7a7a3be8cabe");
    let custom_fields = example["fieldData"].as_object().unwrap().len() - 2;
    assert_eq!(
        item.field_data.extra.len(),
        custom_fields,
        "custom fields are kept"
    );
    assert_eq!(serde_json::to_value(&item).unwrap(), example);
    let created: CreatedLiveItems = serde_json::from_value(example).unwrap();
    assert!(matches!(created, CreatedLiveItems::CollectionItem(_)));
}

#[test]
fn error_examples_decode() {
    let fixture = fixture();
    for status in ["400", "401", "404", "429", "500"] {
        let example = &fixture["responses"][status];
        let error: WebflowError =
            serde_json::from_value(example.clone()).unwrap_or_else(|e| panic!("{status}: {e}"));
        assert_eq!(error.code.as_deref(), example["code"].as_str(), "{status}");
        assert_eq!(
            error.external_reference, None,
            "{status}: externalReference is null"
        );
    }
}

#[test]
fn list_example_decodes_and_round_trips() {
    let example = fixture()["list_responses"]["200"].clone();
    let page: webflow_api::CollectionItemList = serde_json::from_value(example.clone()).unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.pagination.total, Some(2));
    assert_eq!(page.items[0].field("department"), Some("Data".into()));
    assert_eq!(serde_json::to_value(&page).unwrap(), example);
}

/// The examples of collection-details decode: every field, whatever its type, with its
/// validations as a JSON object (or none).
#[test]
fn collection_details_example_decodes_every_field() {
    use webflow_api::types::Collection;
    let example = fixture()["operations"]["collection-details"]["responses"]["200"].clone();
    let collection: Collection = serde_json::from_value(example.clone()).unwrap();
    assert_eq!(collection.fields.len(), 17);
    let types: Vec<&str> = collection.fields.iter().map(|f| f.type_.as_str()).collect();
    assert!(types.contains(&"Option") && types.contains(&"MultiReference"));
    let option = collection
        .fields
        .iter()
        .find(|f| f.type_ == "Option")
        .unwrap();
    let options = &option.validations.as_ref().unwrap()["options"];
    assert_eq!(options.as_array().unwrap().len(), 3);
    assert!(collection.fields.iter().any(|f| f.help_text.is_none()));
    // A type upstream's enum lacks still decodes.
    let mut field = example["fields"][0].clone();
    field["type"] = "MembershipPlan".into();
    let field: webflow_api::types::CollectionField = serde_json::from_value(field).unwrap();
    assert_eq!(field.type_, "MembershipPlan");
}

/// The examples of update-items-live decode (request and answer) and survive a round trip.
#[test]
fn update_items_live_examples_decode() {
    use webflow_api::types::UpdateItemsBody;
    let fixture = fixture();
    let operation = &fixture["operations"]["update-items-live"];
    let request = operation["requests"]["LocalizedItems"].clone();
    let body: UpdateItemsBody = serde_json::from_value(request.clone()).unwrap();
    assert_eq!(body.items.len(), 4);
    let field_data = body.items[0].field_data.as_ref().unwrap();
    assert_eq!(
        field_data.extra["featured"], false,
        "custom fields are kept"
    );
    assert_eq!(serde_json::to_value(&body).unwrap(), request);
    // Upstream's MultipleItems example has no ids: not an update.
    let invalid = operation["invalid_requests"]["MultipleItems"]["body"].clone();
    assert!(serde_json::from_value::<UpdateItemsBody>(invalid).is_err());
    for name in ["200", "200 MultipleItems"] {
        let answer: webflow_api::BulkCollectionItems =
            serde_json::from_value(operation["responses"][name].clone()).unwrap();
        assert!(!answer.items.is_empty(), "{name}");
    }
    let conflict: WebflowError =
        serde_json::from_value(operation["responses"]["409"].clone()).unwrap();
    assert_eq!(conflict.code.as_deref(), Some("conflict"));
}

/// The request bodies of delete-items-live and delete-items decode and round-trip; their
/// error examples decode, including delete-items' 409 that has no `code`.
#[test]
fn delete_items_examples_decode() {
    use webflow_api::types::ItemsById;
    let fixture = fixture();
    for id in ["delete-items-live", "delete-items"] {
        let operation = &fixture["operations"][id];
        for (name, request) in operation["requests"].as_object().unwrap() {
            let body: ItemsById = serde_json::from_value(request.clone()).unwrap();
            assert_eq!(body.items[0].cms_locale_ids.len(), 3, "{id} {name}");
            assert_eq!(
                serde_json::to_value(&body).unwrap(),
                *request,
                "{id} {name}"
            );
        }
        for (status, example) in operation["responses"].as_object().unwrap() {
            if example.is_null() {
                continue;
            }
            let error: WebflowError = serde_json::from_value(example.clone())
                .unwrap_or_else(|e| panic!("{id} {status}: {e}"));
            assert_eq!(
                error.code.as_deref(),
                example["code"].as_str(),
                "{id} {status}"
            );
        }
    }
}
