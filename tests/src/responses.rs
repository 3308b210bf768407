//! Decoded responses: representative bodies for every declared status, answered by the
//! mock and decoded by the client, snapshotted as the values a caller gets.

use serde::Serialize;
use serde_json::{Value, json};
use webflow_api::mock::{Fault, MockResponse, MockWebflow};
use webflow_api::{Error, NewItem};

use crate::support::{client_for, with_snapshot_filters};

fn item_body(id: &str, slug: &str) -> Value {
    json!({
        "id": id,
        "cmsLocaleId": "653ad57de882f528b32e810e",
        "lastPublished": "2023-03-17T18:47:35.560Z",
        "lastUpdated": "2023-03-17T18:47:35.560Z",
        "createdOn": "2023-03-17T18:47:35.560Z",
        "isArchived": false,
        "isDraft": false,
        "fieldData": {"name": format!("Item {slug}"), "slug": slug, "price": 10, "color": "#db4b68"}
    })
}

/// Sends one create to a mock that answers `response`, and returns what the client made of it.
async fn single_create_answered_with(
    response: MockResponse,
) -> Result<webflow_api::CollectionItem, Error> {
    let mock = MockWebflow::start().await;
    mock.push_fault(Fault::instead(response));
    let client = client_for(&mock);
    let outcome = client
        .create_live_item(MockWebflow::COLLECTION_ID, NewItem::new("A", "a"))
        .await;
    assert_eq!(mock.requests().len(), 1);
    outcome
}

async fn bulk_create_answered_with(
    response: MockResponse,
) -> Result<Vec<webflow_api::CollectionItem>, Error> {
    let mock = MockWebflow::start().await;
    mock.push_fault(Fault::instead(response));
    let client = client_for(&mock);
    let items = [NewItem::new("A", "a"), NewItem::new("B", "b")];
    client
        .create_live_items(MockWebflow::COLLECTION_ID, items)
        .await
}

#[tokio::test]
async fn status_202_single_item() {
    let item = single_create_answered_with(
        MockResponse::status(202).json(&item_body("580e64008c9a982ac9b8b754", "a")),
    )
    .await
    .unwrap();
    insta::assert_yaml_snapshot!(item);
}

#[tokio::test]
async fn status_200_single_item_decodes_like_202() {
    let item = single_create_answered_with(
        MockResponse::status(200).json(&item_body("580e64008c9a982ac9b8b754", "a")),
    )
    .await
    .unwrap();
    assert_eq!(item.id, "580e64008c9a982ac9b8b754");
    assert_eq!(item.field("price"), Some(json!(10)));
}

#[tokio::test]
async fn status_202_items_list() {
    let body = json!({"items": [item_body("580e64008c9a982ac9b8b754", "a"), item_body("580e64008c9a982ac9b8b755", "b")]});
    let items = bulk_create_answered_with(MockResponse::status(202).json(&body))
        .await
        .unwrap();
    insta::assert_yaml_snapshot!(items);
}

#[tokio::test]
async fn status_200_items_list() {
    let body = json!({"items": [item_body("580e64008c9a982ac9b8b754", "a"), item_body("580e64008c9a982ac9b8b755", "b")]});
    let items = bulk_create_answered_with(MockResponse::status(200).json(&body))
        .await
        .unwrap();
    assert_eq!(
        items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        ["580e64008c9a982ac9b8b754", "580e64008c9a982ac9b8b755"]
    );
}

#[tokio::test]
async fn single_create_answered_with_a_one_item_list() {
    let body = json!({"items": [item_body("580e64008c9a982ac9b8b754", "a")]});
    let item = single_create_answered_with(MockResponse::status(202).json(&body))
        .await
        .unwrap();
    assert_eq!(item.id, "580e64008c9a982ac9b8b754");
}

#[tokio::test]
async fn last_published_null_and_null_flags() {
    let mut body = item_body("580e64008c9a982ac9b8b754", "a");
    body["lastPublished"] = Value::Null;
    body["cmsLocaleId"] = Value::Null;
    body["isArchived"] = Value::Null;
    body["isDraft"] = Value::Null;
    let item = single_create_answered_with(MockResponse::status(202).json(&body))
        .await
        .unwrap();
    assert_eq!(item.last_published, None);
    insta::assert_yaml_snapshot!(item);
}

/// What a caller sees of an error, in one reviewable shape.
#[derive(Serialize)]
struct ErrorView {
    display: String,
    status: Option<u16>,
    code: Option<String>,
    known_code: Option<bool>,
    message: Option<String>,
    external_reference: Option<String>,
    details: Vec<Value>,
    retry_after_secs: Option<u64>,
    is_retryable: bool,
    may_have_been_created: bool,
}

impl From<&Error> for ErrorView {
    fn from(error: &Error) -> Self {
        let api = error.api_error();
        ErrorView {
            display: error.to_string(),
            status: error.status().map(|s| s.as_u16()),
            code: api.and_then(|e| e.code.as_ref()).map(|c| c.to_string()),
            known_code: api.and_then(|e| e.code.as_ref()).map(|c| c.is_known()),
            message: api.and_then(|e| e.message.clone()),
            external_reference: api.and_then(|e| e.external_reference.clone()),
            details: api.map(|e| e.details.clone()).unwrap_or_default(),
            retry_after_secs: error.retry_after().map(|d| d.as_secs()),
            is_retryable: error.is_retryable(),
            may_have_been_created: error.outcome_unknown(),
        }
    }
}

async fn error_for(status: u16, body: Value) -> ErrorView {
    let error = single_create_answered_with(MockResponse::status(status).json(&body))
        .await
        .unwrap_err();
    ErrorView::from(&error)
}

fn webflow_error(code: &str, message: &str, details: Value) -> Value {
    json!({"code": code, "message": message, "externalReference": null, "details": details})
}

#[tokio::test]
async fn status_400_validation_error_with_details() {
    let body = webflow_error(
        "validation_error",
        "Validation Error",
        json!([{"param": "ListingId", "description": "Field not described in schema: undefined"}]),
    );
    let view = error_for(400, body).await;
    assert!(
        view.display
            .contains("ListingId: Field not described in schema: undefined"),
        "{}",
        view.display
    );
    insta::assert_yaml_snapshot!(view);
}

#[tokio::test]
async fn status_400_details_of_any_shape() {
    let body = webflow_error(
        "bad_request",
        "Bad Request: Request is malformed",
        json!(["Invalid email address", {"field": "email", "message": "Invalid email address"}, 7]),
    );
    insta::assert_yaml_snapshot!(error_for(400, body).await);
}

#[tokio::test]
async fn status_401_not_authorized() {
    insta::assert_yaml_snapshot!(
        error_for(
            401,
            webflow_error("not_authorized", "Request not authorized", json!([]))
        )
        .await
    );
}

#[tokio::test]
async fn status_403_missing_scopes() {
    let body = webflow_error(
        "missing_scopes",
        "OAuthForbidden: You are missing the following scopes - cms:write",
        json!([]),
    );
    insta::assert_yaml_snapshot!(error_for(403, body).await);
}

#[tokio::test]
async fn status_404_collection_not_found() {
    let body = webflow_error(
        "resource_not_found",
        "Requested resource not found: The collection cannot be found",
        json!([]),
    );
    insta::assert_yaml_snapshot!(error_for(404, body).await);
}

#[tokio::test]
async fn status_409_conflict() {
    let body = webflow_error(
        "conflict",
        "Conflict: The collection structure changed since the last publish",
        json!([]),
    );
    insta::assert_yaml_snapshot!(error_for(409, body).await);
}

#[tokio::test]
async fn status_429_too_many_requests() {
    let mock = MockWebflow::start().await;
    let response = MockResponse::status(429)
        .json(&webflow_error(
            "too_many_requests",
            "Too Many Requests",
            json!([]),
        ))
        .header("retry-after", "60");
    // Every attempt is refused, so whatever the retry policy, the caller ends with a 429.
    for _ in 0..10 {
        mock.push_fault(Fault::instead(response.clone()));
    }
    let client = crate::support::client_without_retries(&mock);
    let error = client
        .create_live_item(MockWebflow::COLLECTION_ID, NewItem::new("A", "a"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::RateLimited(_)), "{error:?}");
    with_snapshot_filters(|| insta::assert_yaml_snapshot!(ErrorView::from(&error)));
}

#[tokio::test]
async fn status_500_internal_error() {
    insta::assert_yaml_snapshot!(
        error_for(
            500,
            webflow_error("internal_error", "An Internal Error occurred", json!([]))
        )
        .await
    );
}

#[tokio::test]
async fn unknown_error_code_still_decodes() {
    let body = webflow_error(
        "item_quota_exceeded",
        "You have reached the item limit of your plan",
        json!([]),
    );
    let view = error_for(400, body).await;
    assert_eq!(view.code.as_deref(), Some("item_quota_exceeded"));
    assert_eq!(view.known_code, Some(false));
    insta::assert_yaml_snapshot!(view);
}

#[tokio::test]
async fn external_reference_string_and_null() {
    let mut body = webflow_error("bad_request", "Bad Request", json!([]));
    body["externalReference"] =
        json!("https://developers.webflow.com/data/reference/error-handling");
    let view = error_for(400, body).await;
    assert_eq!(
        view.external_reference.as_deref(),
        Some("https://developers.webflow.com/data/reference/error-handling")
    );
    let view = error_for(400, webflow_error("bad_request", "Bad Request", json!([]))).await;
    assert_eq!(view.external_reference, None);
}

/// What the client decodes from Webflow's answers to the sync operations (fixed answers in
/// Webflow's shape, as its reference pages show them): a collection's fields — an Option
/// with its options, a Reference with its collection, a field type the upstream enum lacks,
/// `helpText: null` — and the items an update answers with.
#[tokio::test]
async fn decoded_collection_details_and_update_answer() {
    let mock = MockWebflow::start().await;
    let client = client_for(&mock);
    let collection = json!({
        "id": "6520d7b1a3c4e5f60718293a",
        "displayName": "Products",
        "singularName": "Product",
        "slug": "products",
        "createdOn": "2024-03-01T10:00:00.000Z",
        "lastUpdated": "2024-05-02T12:30:00.000Z",
        "fields": [
            {"id": "f1", "isEditable": true, "isRequired": true, "type": "PlainText",
             "slug": "name", "displayName": "Name", "helpText": null},
            {"id": "f2", "isEditable": true, "isRequired": false, "type": "Option",
             "slug": "color", "displayName": "Color", "helpText": "",
             "validations": {"options": [{"name": "Blue", "id": "opt-blue"}, {"name": "Red", "id": "opt-red"}]}},
            {"id": "f3", "isEditable": true, "isRequired": false, "type": "Reference",
             "slug": "maker", "displayName": "Maker",
             "validations": {"collectionId": "6520d7b1a3c4e5f6071829aa"}},
            {"id": "f4", "isEditable": true, "isRequired": false, "type": "Price",
             "slug": "price", "displayName": "Price"}
        ]
    });
    mock.push_fault(Fault::instead(MockResponse::status(200).json(&collection)));
    let decoded = client.collection(MockWebflow::COLLECTION_ID).await.unwrap();
    insta::assert_yaml_snapshot!("decoded_collection_details", decoded);

    let updated = json!({"items": [{
        "id": "62b720ef280c7a7a3be8cabe",
        "cmsLocaleId": "653ad57de882f528b32e810e",
        "lastPublished": "2024-05-02T12:31:00.000Z",
        "lastUpdated": "2024-05-02T12:31:00.000Z",
        "createdOn": "2024-03-01T10:05:00.000Z",
        "isArchived": false,
        "isDraft": false,
        "fieldData": {"name": "Blue Mug", "slug": "blue-mug", "price": 14, "color": "opt-blue"}
    }]});
    mock.push_fault(Fault::instead(MockResponse::status(200).json(&updated)));
    let decoded = client
        .update_live_items(
            MockWebflow::COLLECTION_ID,
            [webflow_api::types::UpdateItem::new("62b720ef280c7a7a3be8cabe").field("price", 14)],
        )
        .await
        .unwrap();
    insta::assert_yaml_snapshot!("decoded_update_answer", decoded);
}
