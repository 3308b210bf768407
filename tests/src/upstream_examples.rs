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
