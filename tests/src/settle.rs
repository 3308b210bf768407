//! Exactly-once imports: unknown outcomes settled by looking the items up, and imports that
//! skip what already exists — each with exact request counts and a server-side check that
//! no slug was created twice. Client and mock share one manual clock, so the rate limit,
//! the settle delay and the mock's visibility lag take no real time.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{Value, json};
use webflow_api::mock::{DuplicateSlugs, Fault, MockResponse, MockWebflow, MockWebflowBuilder};
use webflow_api::time::ManualClock;
use webflow_api::{BulkEvent, BulkReport, Client, ItemResult, NewItem, Settle};

use crate::support::builder_for;

fn slug(index: u64) -> String {
    format!("item-{index}")
}

fn items(n: u64) -> impl Iterator<Item = NewItem> + Send {
    (0..n).map(|i| NewItem::new(format!("Item {i}"), slug(i)))
}

/// A mock enforcing 120 requests a minute and a client, on one manual clock.
async fn setup(
    configure: impl FnOnce(MockWebflowBuilder) -> MockWebflowBuilder,
) -> (MockWebflow, Client) {
    let clock = ManualClock::new();
    let mock = configure(MockWebflow::builder().rate_limit(120).clock(clock.clone()))
        .start()
        .await;
    let client = builder_for(&mock.base_url()).clock(clock).build().unwrap();
    (mock, client)
}

/// Imports 250 items (requests of 100) into a mock set up by `configure`, the second request
/// (items 100 to 199) meeting `fault`, settled as `settle` says.
async fn lose_the_second_request(
    configure: impl FnOnce(MockWebflowBuilder) -> MockWebflowBuilder,
    fault: Fault,
    settle: Settle,
) -> (MockWebflow, BulkReport) {
    let (mock, client) = setup(configure).await;
    mock.fault_when_request(create_holding("item-100"), fault);
    let report = client
        .bulk_create_live(MockWebflow::COLLECTION_ID)
        .settle(settle)
        .run(items(250))
        .await
        .unwrap();
    (mock, report)
}

/// The create request that holds `wanted`.
fn create_holding(wanted: &'static str) -> impl Fn(&webflow_api::mock::ReceivedRequest) -> bool {
    move |request| {
        request.method == "POST"
            && request.body["items"]
                .as_array()
                .is_some_and(|items| items.iter().any(|i| i["fieldData"]["slug"] == wanted))
    }
}

fn internal_error() -> MockResponse {
    MockResponse::webflow_error(
        500,
        "internal_error",
        "An Internal Error occurred",
        json!([]),
    )
}

/// (create requests, list requests) the mock received.
fn requests_by_kind(mock: &MockWebflow) -> (usize, usize) {
    let requests = mock.requests();
    let creates = requests.iter().filter(|r| r.method == "POST").count();
    (creates, requests.len() - creates)
}

/// Nothing was created twice: no requested slug created more than once, no duplicates
/// under suffixed slugs; every item reported created exists with that id.
fn assert_exactly_once(report: &BulkReport, mock: &MockWebflow) {
    let created = mock.created_items();
    let mut seen = HashSet::new();
    for item in &created {
        assert!(
            seen.insert(item.requested_slug.clone()),
            "{} created twice",
            item.requested_slug
        );
    }
    assert!(mock.duplicates().is_empty(), "{:?}", mock.duplicates());
    for outcome in &report.outcomes {
        if let ItemResult::Created { id, .. } = &outcome.result {
            let server = created
                .iter()
                .find(|item| item.item["id"] == id.as_str())
                .unwrap_or_else(|| {
                    panic!(
                        "{} reported created as {id}, not on the server",
                        outcome.slug
                    )
                });
            assert_eq!(server.requested_slug, outcome.slug);
        }
    }
    assert_eq!(report.summary.requests, mock.request_count());
}

/// A collection where a new item shows in listings only after an hour, and where a create
/// whose slug is taken is stored under a suffixed slug.
fn slow_and_suffixing(builder: MockWebflowBuilder) -> MockWebflowBuilder {
    builder
        .visibility_lag(Duration::from_secs(3600))
        .duplicate_slugs(DuplicateSlugs::Suffix)
}

fn settled_count(report: &BulkReport) -> usize {
    report
        .outcomes
        .iter()
        .filter(|o| matches!(o.result, ItemResult::Created { settled: true, .. }))
        .count()
}

#[tokio::test]
async fn a_lost_answer_to_a_created_chunk_is_settled_by_lookup() {
    for (case, fault) in [
        ("answered 500", Fault::after_processing(internal_error())),
        ("connection dropped", Fault::drop_after_processing()),
    ] {
        let (mock, report) = lose_the_second_request(|b| b, fault, Settle::default()).await;
        assert_exactly_once(&report, &mock);
        let s = &report.summary;
        assert_eq!(
            (s.created, s.settled, s.unknown, s.failed),
            (250, 100, 0, 0),
            "{case}"
        );
        assert_eq!(settled_count(&report), 100, "{case}");
        assert!(
            report.outcomes[100..200]
                .iter()
                .all(|o| matches!(o.result, ItemResult::Created { settled: true, .. })),
            "{case}: the lost chunk's items are the settled ones"
        );
        // 3 creates, never resent; one newest-first scan of 2 pages found all 100.
        assert_eq!(requests_by_kind(&mock), (3, 2), "{case}");
        assert_eq!((s.create_requests, s.list_requests), (3, 2), "{case}");
        let scans: Vec<String> = mock
            .requests()
            .iter()
            .filter(|r| r.method == "GET")
            .map(|r| r.query.clone().unwrap_or_default())
            .collect();
        assert!(
            scans
                .iter()
                .all(|q| q.contains("sortBy=createdOn") && q.contains("sortOrder=desc")),
            "{scans:?}"
        );
    }
}

#[tokio::test]
async fn a_chunk_lost_before_being_created_is_resent_once() {
    let (mock, report) =
        lose_the_second_request(|b| b, Fault::instead(internal_error()), Settle::default()).await;
    assert_exactly_once(&report, &mock);
    let s = &report.summary;
    assert_eq!((s.created, s.settled, s.unknown), (250, 0, 0));
    // 3 creates + the 100 confirmed absent sent again in one request; the scan read to the
    // end of the (150-item) list.
    assert_eq!(requests_by_kind(&mock), (4, 2));
    let resent = mock
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .nth(3)
        .unwrap();
    let slugs: Vec<&str> = resent.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["fieldData"]["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs.len(), 100);
    assert_eq!((slugs[0], slugs[99]), ("item-100", "item-199"));
}

#[tokio::test]
async fn visibility_lag_shorter_than_the_settle_delay_makes_no_duplicate() {
    let (mock, report) = lose_the_second_request(
        |b| b.visibility_lag(Duration::from_secs(5)),
        Fault::drop_after_processing(),
        Settle::after(Duration::from_secs(10)),
    )
    .await;
    assert_exactly_once(&report, &mock);
    assert_eq!((report.summary.created, report.summary.settled), (250, 100));
    assert_eq!(requests_by_kind(&mock), (3, 2));
}

#[tokio::test]
async fn visibility_lag_longer_than_the_settle_delay_is_caught_by_the_refused_resend() {
    // The lost items become visible 15 s after their create: the first settle (10 s) finds
    // them absent and sends them again; Webflow refuses the resend (slugs taken), so they
    // are looked up again — and found.
    let (mock, report) = lose_the_second_request(
        |b| b.visibility_lag(Duration::from_secs(15)),
        Fault::drop_after_processing(),
        Settle::default(),
    )
    .await;
    assert_exactly_once(&report, &mock);
    let s = &report.summary;
    assert_eq!(
        (s.created, s.settled, s.unknown, s.failed),
        (250, 100, 0, 0)
    );
    assert_eq!(mock.created_items().len(), 250);
    // 3 creates + 1 refused resend; two scans.
    assert_eq!(requests_by_kind(&mock).0, 4);
}

#[tokio::test]
async fn visibility_lag_far_longer_leaves_items_unknown_never_created_twice() {
    let (mock, report) = lose_the_second_request(
        |b| b.visibility_lag(Duration::from_secs(3600)),
        Fault::drop_after_processing(),
        Settle::default(),
    )
    .await;
    assert_exactly_once(&report, &mock);
    let s = &report.summary;
    assert_eq!((s.created, s.settled, s.unknown), (150, 0, 100));
    assert_eq!(
        mock.created_items().len(),
        250,
        "they do exist on the server"
    );
}

#[tokio::test]
async fn where_webflow_suffixes_a_taken_slug_a_late_item_shows_as_a_reported_duplicate() {
    // The documented risk of resending: visibility far slower than the settle delay, and a
    // collection that stores a taken slug under a suffix instead of refusing it.
    let (mock, report) = lose_the_second_request(
        slow_and_suffixing,
        Fault::drop_after_processing(),
        Settle::default(),
    )
    .await;
    let s = &report.summary;
    assert_eq!((s.created, s.renamed, s.unknown), (250, 100, 0));
    assert_eq!(mock.duplicates().len(), 100);
    for outcome in &report.outcomes[100..200] {
        match &outcome.result {
            ItemResult::Created {
                stored_slug: Some(stored),
                ..
            } => assert!(
                stored.starts_with(&format!("{}-", outcome.slug)),
                "{stored}"
            ),
            other => panic!("{}: {other:?}", outcome.slug),
        }
    }
}

#[tokio::test]
async fn with_lookup_only_a_slow_collection_never_gets_a_duplicate() {
    let (mock, report) = lose_the_second_request(
        slow_and_suffixing,
        Fault::drop_after_processing(),
        Settle::default().lookup_only(),
    )
    .await;
    assert_exactly_once(&report, &mock);
    let s = &report.summary;
    assert_eq!((s.created, s.unknown), (150, 100));
    assert_eq!(requests_by_kind(&mock).0, 3, "nothing is sent again");
}

#[tokio::test]
async fn settling_one_lost_chunk_of_100_behind_three_newer_ones_costs_five_list_requests() {
    // Chunk 2 is lost while chunks 3, 4 and 5 are in flight: the scan reads their 300
    // newer items, then the lost 100 — in pages that overlap by one item (so that a shift
    // of the listing is seen), 100 + 99 + 99 + 99 + 3: five requests (four before pages
    // overlapped).
    let (mock, client) = setup(|b| b).await;
    mock.fault_when_request(create_holding("item-100"), Fault::drop_after_processing());
    let lists = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = lists.clone();
    let report = client
        .bulk_create_live(MockWebflow::COLLECTION_ID)
        .on_progress(move |event| {
            if let BulkEvent::Settled {
                list_requests,
                found,
                ..
            } = event
            {
                sink.lock().unwrap().push((*found, *list_requests));
            }
        })
        .run(items(500))
        .await
        .unwrap();
    assert_exactly_once(&report, &mock);
    assert_eq!((report.summary.created, report.summary.settled), (500, 100));
    assert_eq!(*lists.lock().unwrap(), [(100, 5)]);
    assert_eq!(requests_by_kind(&mock), (5, 5));
}

#[tokio::test]
async fn a_handful_of_lost_items_are_looked_up_by_slug() {
    let (mock, client) = setup(|b| b).await;
    mock.fault_when_request(create_holding("item-5"), Fault::drop_after_processing());
    let report = client
        .bulk_create_live(MockWebflow::COLLECTION_ID)
        .max_items_per_request(5)
        .run(items(12))
        .await
        .unwrap();
    assert_exactly_once(&report, &mock);
    assert_eq!((report.summary.created, report.summary.settled), (12, 5));
    let lookups: Vec<String> = mock
        .requests()
        .iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.query.clone().unwrap_or_default())
        .collect();
    assert_eq!(lookups.len(), 5);
    for (n, query) in (5..10).zip(&lookups) {
        assert!(query.contains(&format!("slug=item-{n}")), "{query}");
    }
}

#[tokio::test]
async fn when_the_lookup_itself_fails_the_items_stay_unknown() {
    let (mock, client) = setup(|b| b).await;
    mock.fault_when_request(create_holding("item-100"), Fault::drop_after_processing());
    for _ in 0..4 {
        mock.fault_when_request(|r| r.method == "GET", Fault::instead(internal_error()));
    }
    let report = client
        .bulk_create_live(MockWebflow::COLLECTION_ID)
        .run(items(250))
        .await
        .unwrap();
    assert_exactly_once(&report, &mock);
    let s = &report.summary;
    assert_eq!((s.created, s.settled, s.unknown), (150, 0, 100));
    // The list is idempotent: retried up to the policy's 4 attempts, then given up.
    assert_eq!(requests_by_kind(&mock), (3, 4));
}

#[tokio::test]
async fn without_settling_lost_items_stay_unknown() {
    let (mock, report) =
        lose_the_second_request(|b| b, Fault::drop_after_processing(), Settle::off()).await;
    assert_exactly_once(&report, &mock);
    assert_eq!((report.summary.created, report.summary.unknown), (150, 100));
    assert_eq!(requests_by_kind(&mock), (3, 0));
}

fn existing(slugs: impl IntoIterator<Item = u64>) -> Vec<Value> {
    slugs
        .into_iter()
        .map(|i| json!({"fieldData": {"name": format!("Item {i}"), "slug": slug(i)}}))
        .collect()
}

#[tokio::test]
async fn resuming_skips_what_exists_and_a_second_run_creates_nothing() {
    let (mock, client) = setup(|b| b).await;
    // 150 of the 250 exist already, scattered.
    let present: Vec<u64> = (0..250).filter(|i| i % 5 != 0 && i % 5 != 3).collect();
    assert_eq!(present.len(), 150);
    let ids = mock.insert_items(MockWebflow::COLLECTION_ID, existing(present.clone()));
    let report = client
        .bulk_create_live(MockWebflow::COLLECTION_ID)
        .skip_existing(true)
        .run(items(250))
        .await
        .unwrap();
    assert_exactly_once(&report, &mock);
    let s = &report.summary;
    assert_eq!((s.skipped, s.created), (150, 100));
    assert_eq!((s.list_requests, s.create_requests), (2, 1));
    assert_eq!(requests_by_kind(&mock), (1, 2));
    for (index, id) in present.iter().zip(&ids) {
        match &report.outcomes[*index as usize].result {
            ItemResult::Skipped { id: skipped, .. } => assert_eq!(skipped, id),
            other => panic!("item {index}: {other:?}"),
        }
    }

    let again = client
        .bulk_create_live(MockWebflow::COLLECTION_ID)
        .skip_existing(true)
        .run(items(250))
        .await
        .unwrap();
    let s = &again.summary;
    assert_eq!((s.skipped, s.created, s.create_requests), (250, 0, 0));
    assert_eq!(s.list_requests, 3);
    assert!(s.all_done());
    assert!(mock.duplicates().is_empty());
    assert_eq!(mock.created_items().len(), 100);
}
