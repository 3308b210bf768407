//! `list-collection-items` through the client: the request it sends (snapshotted), the page
//! it decodes (snapshotted, drafts with `lastPublished: null` included), lookups by slug,
//! and paged listings — with exact request counts.

use futures_util::TryStreamExt;
use serde_json::json;
use webflow_api::list::{SortBy, SortOrder};
use webflow_api::mock::{Fault, MockResponse, MockWebflow};
use webflow_api::{Error, Pacing};

use crate::support::{builder_for, with_snapshot_filters};
use crate::wire::WireRequest;

fn client_for(mock: &MockWebflow) -> webflow_api::Client {
    builder_for(&mock.base_url())
        .pacing(Pacing::Off)
        .build()
        .unwrap()
}

fn seed(mock: &MockWebflow, n: u64) -> Vec<String> {
    mock.insert_items(
        MockWebflow::COLLECTION_ID,
        (0..n).map(
            |i| json!({"fieldData": {"name": format!("Item {i}"), "slug": format!("item-{i}")}}),
        ),
    )
}

#[tokio::test]
async fn wire_request_of_a_sorted_filtered_page() {
    let mock = MockWebflow::start().await;
    let client = client_for(&mock);
    let page = client
        .list_items(MockWebflow::COLLECTION_ID)
        .slug("blue-mug")
        .locale("653ad57de882f528b32e810e")
        .sort(SortBy::CreatedOn, SortOrder::Desc)
        .page_size(50)
        .page(100)
        .await
        .unwrap();
    assert!(page.items.is_empty());
    let mut requests = mock.requests();
    assert_eq!(requests.len(), 1);
    let request = requests.remove(0);
    assert_eq!(request.body, serde_json::Value::Null, "a GET has no body");
    with_snapshot_filters(|| insta::assert_yaml_snapshot!(WireRequest::from(request)));
}

#[tokio::test]
async fn decoded_page_with_a_draft_whose_last_published_is_null() {
    let mock = MockWebflow::start().await;
    let body = json!({
        "items": [
            {
                "id": "62b720ef280c7a7a3be8cabe",
                "cmsLocaleId": "66f6e966c9e1dc700a857ca3",
                "lastPublished": "2022-06-30T13:35:20.878Z",
                "lastUpdated": "2022-06-25T14:51:27.809Z",
                "createdOn": "2022-06-25T14:51:27.809Z",
                "isArchived": false,
                "isDraft": false,
                "fieldData": {"name": "Senior Data Analyst", "slug": "senior-data-analyst", "department": "Data"}
            },
            {
                "id": "62c880ef281c7b7b4cf9dabc",
                "cmsLocaleId": null,
                "lastPublished": null,
                "lastUpdated": "2023-04-10T11:45:30.567Z",
                "createdOn": "2023-04-10T11:45:30.567Z",
                "isArchived": false,
                "isDraft": true,
                "fieldData": {"name": "Product Manager", "slug": "product-manager"}
            }
        ],
        "pagination": {"limit": 100, "offset": 0, "total": 2}
    });
    mock.push_fault(Fault::instead(MockResponse::status(200).json(&body)));
    let client = client_for(&mock);
    let page = client
        .list_items(MockWebflow::COLLECTION_ID)
        .page(0)
        .await
        .unwrap();
    insta::assert_yaml_snapshot!(page);
}

#[tokio::test]
async fn find_item_by_slug_found_and_not_found_in_one_request_each() {
    let mock = MockWebflow::start().await;
    let ids = seed(&mock, 3);
    let client = client_for(&mock);
    let found = client
        .find_item_by_slug(MockWebflow::COLLECTION_ID, "item-1")
        .await
        .unwrap()
        .expect("item-1 exists");
    assert_eq!(found.id, ids[1]);
    let missing = client
        .find_item_by_slug(MockWebflow::COLLECTION_ID, "item-9")
        .locale("653ad57de882f528b32e810e")
        .await
        .unwrap();
    assert!(missing.is_none());
    let queries: Vec<String> = mock
        .requests()
        .iter()
        .map(|r| r.query.clone().unwrap_or_default())
        .collect();
    assert_eq!(queries.len(), 2);
    assert!(queries[0].contains("slug=item-1"), "{}", queries[0]);
    assert!(
        queries[1].contains("slug=item-9")
            && queries[1].contains("cmsLocaleId=653ad57de882f528b32e810e"),
        "{}",
        queries[1]
    );
}

#[tokio::test]
async fn items_streams_every_page_once() {
    let mock = MockWebflow::start().await;
    seed(&mock, 250);
    let client = client_for(&mock);
    let items: Vec<_> = client
        .list_items(MockWebflow::COLLECTION_ID)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 250);
    assert_eq!(items[249].field_data.slug, "item-249");
    assert_eq!(mock.request_count(), 3, "pages of 100: 100 + 100 + 50");
    let empty = MockWebflow::start().await;
    let none: Vec<_> = client_for(&empty)
        .list_items(MockWebflow::COLLECTION_ID)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert!(none.is_empty());
    assert_eq!(empty.request_count(), 1);
}

#[tokio::test]
async fn a_listing_stops_on_an_empty_page_even_if_total_says_more() {
    let mock = MockWebflow::start().await;
    let client = client_for(&mock);
    mock.push_fault(Fault::instead(MockResponse::status(200).json(
        &json!({"items": [], "pagination": {"limit": 100, "offset": 0, "total": 5000}}),
    )));
    let pages: Vec<_> = client
        .list_items(MockWebflow::COLLECTION_ID)
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 1);
    assert_eq!(mock.request_count(), 1);
}

#[tokio::test]
async fn a_lookup_is_retried_after_a_5xx_because_it_changes_nothing() {
    let (mock, clock) = {
        let clock = webflow_api::time::ManualClock::new();
        (MockWebflow::start().await, clock)
    };
    seed(&mock, 1);
    let client = builder_for(&mock.base_url())
        .pacing(Pacing::Off)
        .clock(clock.clone())
        .build()
        .unwrap();
    mock.push_fault(Fault::instead(MockResponse::webflow_error(
        503,
        "service_unavailable",
        "Try again",
        json!([]),
    )));
    let found = client
        .find_item_by_slug(MockWebflow::COLLECTION_ID, "item-0")
        .await
        .unwrap();
    assert!(found.is_some());
    assert_eq!(mock.request_count(), 2);
    assert_eq!(clock.sleeps().len(), 1, "one backoff");
}

#[tokio::test]
async fn bad_page_sizes_are_refused_before_any_request() {
    let mock = MockWebflow::start().await;
    let client = client_for(&mock);
    for size in [0, 101] {
        let error = client
            .list_items(MockWebflow::COLLECTION_ID)
            .page_size(size)
            .page(0)
            .await
            .unwrap_err();
        assert!(matches!(error, Error::InvalidInput(_)), "{error:?}");
    }
    assert_eq!(mock.request_count(), 0);
}
