//! Wire requests: what the client really sends for each operation — a single and a bulk
//! create, the collection's schema, an update, an unpublish and a delete — as received by
//! the mock server. CI checks every one of them against the fragment (openapi-core).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};
use webflow_api::NewItem;
use webflow_api::mock::{MockWebflow, ReceivedRequest};
use webflow_api::types::UpdateItem;

use crate::support::{TOKEN, client_for, with_snapshot_filters};

/// The parts of a request that matter, as snapshotted.
#[derive(Serialize)]
pub(crate) struct WireRequest {
    method: String,
    path: String,
    query: Option<String>,
    headers: BTreeMap<String, String>,
    body: Value,
}

impl From<ReceivedRequest> for WireRequest {
    fn from(request: ReceivedRequest) -> Self {
        WireRequest {
            method: request.method,
            path: request.path,
            query: request.query,
            headers: request.headers,
            body: request.body,
        }
    }
}

fn only_request(mock: &MockWebflow) -> ReceivedRequest {
    let mut requests = mock.requests();
    assert_eq!(requests.len(), 1, "exactly one request reaches the server");
    requests.remove(0)
}

/// The behaviour behind the redactions: the real header values are what Webflow expects.
fn assert_auth_and_user_agent(request: &ReceivedRequest) {
    assert_eq!(request.headers["authorization"], format!("Bearer {TOKEN}"));
    let user_agent = &request.headers["user-agent"];
    assert_eq!(user_agent, webflow_api::USER_AGENT_VALUE);
    let version = user_agent
        .strip_prefix("webflow-api-rs/")
        .expect("product name");
    assert_eq!(
        version
            .split('.')
            .filter(|part| part.parse::<u32>().is_ok())
            .count(),
        3,
        "{user_agent}"
    );
    assert_eq!(request.headers["content-type"], "application/json");
}

#[tokio::test]
async fn single_item_with_custom_fields_and_skip_invalid_files_false() {
    let mock = MockWebflow::start().await;
    let client = client_for(&mock);
    let item = NewItem::new("The Hitchhiker's Guide", "hitchhikers-guide")
        .field("plain-text", "Don't Panic.")
        .field("answer-to-everything", 42)
        .field("is-featured", true)
        .field("main-image", json!({"fileId": "62b720ef280c7a7a3be8cabe", "url": "/files/62b720ef280c7a7a3be8cabe_image.png"}))
        .field("tags", vec!["62b720ef280c7a7a3be8cab1", "62b720ef280c7a7a3be8cab2"])
        .locale("653ad57de882f528b32e810e");
    let created = client
        .create_live_item(MockWebflow::COLLECTION_ID, item)
        .skip_invalid_files(false)
        .await
        .unwrap();
    assert_eq!(created.field("answer-to-everything"), Some(json!(42)));

    let request = only_request(&mock);
    assert_auth_and_user_agent(&request);
    with_snapshot_filters(|| insta::assert_yaml_snapshot!(WireRequest::from(request)));
}

#[tokio::test]
async fn bulk_create_of_three_items() {
    let mock = MockWebflow::start().await;
    let client = client_for(&mock);
    let items = (1..=3).map(|n| {
        NewItem::new(format!("Plate {n}"), format!("plate-{n}"))
            .field("price", 8 * n)
            .draft(n == 3)
    });
    let created = client
        .create_live_items(MockWebflow::COLLECTION_ID, items)
        .await
        .unwrap();
    let slugs: Vec<_> = created
        .iter()
        .map(|item| item.field_data.slug.as_str())
        .collect();
    assert_eq!(slugs, ["plate-1", "plate-2", "plate-3"]);

    let request = only_request(&mock);
    assert_auth_and_user_agent(&request);
    assert_eq!(
        request.query, None,
        "skipInvalidFiles is left to Webflow's default unless set"
    );
    with_snapshot_filters(|| insta::assert_yaml_snapshot!(WireRequest::from(request)));
}

/// A mock holding two live items, `mug` and `plate`, and their ids.
fn mock_with_two_items(mock: &MockWebflow) -> Vec<String> {
    mock.insert_items(
        MockWebflow::COLLECTION_ID,
        [
            json!({"fieldData": {"name": "Mug", "slug": "mug", "price": 12}}),
            json!({"fieldData": {"name": "Plate", "slug": "plate", "price": 8}}),
        ],
    )
}

#[tokio::test]
async fn collection_details() {
    let mock = MockWebflow::start().await;
    let client = client_for(&mock);
    let collection = client.collection(MockWebflow::COLLECTION_ID).await.unwrap();
    assert!(!collection.fields.is_empty());

    let request = only_request(&mock);
    assert_eq!(request.headers["authorization"], format!("Bearer {TOKEN}"));
    assert_eq!(request.body, Value::Null, "a GET has no body");
    with_snapshot_filters(|| insta::assert_yaml_snapshot!(WireRequest::from(request)));
}

#[tokio::test]
async fn update_of_two_live_items_sends_only_the_fields_given() {
    let mock = MockWebflow::start().await;
    let client = client_for(&mock);
    let ids = mock_with_two_items(&mock);
    let updated = client
        .update_live_items(
            MockWebflow::COLLECTION_ID,
            [
                UpdateItem::new(&ids[0]).field("price", 14),
                UpdateItem::new(&ids[1]).field("name", "Dinner Plate"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(updated.len(), 2);

    let request = only_request(&mock);
    assert_auth_and_user_agent(&request);
    assert_eq!(request.method, "PATCH");
    with_snapshot_filters(|| insta::assert_yaml_snapshot!(WireRequest::from(request)));
}

#[tokio::test]
async fn unpublish_of_two_live_items() {
    let mock = MockWebflow::start().await;
    let client = client_for(&mock);
    let ids = mock_with_two_items(&mock);
    client
        .unpublish_live_items(MockWebflow::COLLECTION_ID, &ids)
        .await
        .unwrap();

    let request = only_request(&mock);
    assert_auth_and_user_agent(&request);
    with_snapshot_filters(|| insta::assert_yaml_snapshot!(WireRequest::from(request)));
}

#[tokio::test]
async fn delete_of_two_items() {
    let mock = MockWebflow::start().await;
    let client = client_for(&mock);
    let ids = mock_with_two_items(&mock);
    client
        .delete_items(MockWebflow::COLLECTION_ID, &ids)
        .await
        .unwrap();
    assert!(mock.items(MockWebflow::COLLECTION_ID).is_empty());

    let request = only_request(&mock);
    assert_auth_and_user_agent(&request);
    with_snapshot_filters(|| insta::assert_yaml_snapshot!(WireRequest::from(request)));
}
