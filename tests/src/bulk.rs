//! Bulk import against a mock that enforces a rate limit on a scaled clock (one mock
//! minute = 60 ms): every item accounted for exactly once, in input order, and nothing
//! created twice on the server, under every fault.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use webflow_api::mock::{Fault, MockResponse, MockWebflow, RateLimitModel};
use webflow_api::time::ManualClock;
use webflow_api::{
    BulkEvent, BulkReport, CancellationToken, Client, Error, ImportEnd, ItemResult, NewItem,
    Pacing, RetryPolicy, Settle, Timeouts,
};

use crate::support::builder_for;

pub(crate) fn slug(index: u64) -> String {
    format!("item-{index}")
}

pub(crate) fn items(n: u64) -> impl Iterator<Item = NewItem> + Send {
    (0..n).map(|i| NewItem::new(format!("Item {i}"), slug(i)).field("position", i))
}

/// A mock enforcing `per_minute`, on a manual clock the client shares: waits take no real
/// time, and no assertion depends on the machine's speed.
async fn rate_limited_mock(per_minute: u32) -> (MockWebflow, ManualClock) {
    let clock = ManualClock::new();
    let mock = MockWebflow::builder()
        .rate_limit(per_minute)
        .clock(clock.clone())
        .start()
        .await;
    (mock, clock)
}

fn manual_client(mock: &MockWebflow, clock: &ManualClock) -> Client {
    manual_client_paced(mock, clock, Pacing::adaptive())
}

fn manual_client_paced(mock: &MockWebflow, clock: &ManualClock, pacing: Pacing) -> Client {
    builder_for(&mock.base_url())
        .clock(clock.clone())
        .pacing(pacing)
        .build()
        .unwrap()
}

/// A request body holds the item with this slug.
pub(crate) fn holds_slug(body: &Value, wanted: &str) -> bool {
    body["items"]
        .as_array()
        .is_some_and(|items| items.iter().any(|item| item["fieldData"]["slug"] == wanted))
}

/// The invariants every import must keep, whatever happened:
/// one outcome per item pulled, sorted by input position; nothing created twice on the
/// server; every item reported created exists on the server with that id; items reported
/// failed or not attempted do not exist; the totals add up; every request is counted.
pub(crate) fn assert_accounted(n: u64, report: &BulkReport, mock: &MockWebflow) {
    let summary = &report.summary;
    assert_eq!(report.outcomes.len() as u64, n, "one outcome per item");
    assert_eq!(summary.total, n);
    assert_eq!(
        summary.created
            + summary.skipped
            + summary.failed
            + summary.unknown
            + summary.not_attempted,
        n,
        "{summary:?}"
    );
    assert!(
        mock.duplicates().is_empty(),
        "created twice: {:?}",
        mock.duplicates()
    );
    for (position, outcome) in report.outcomes.iter().enumerate() {
        assert_eq!(outcome.index, position as u64, "input order");
        assert_eq!(outcome.slug, slug(position as u64));
    }

    let on_server = mock.created_items();
    let mut seen = HashSet::new();
    for item in &on_server {
        assert!(
            seen.insert(item.slug().to_owned()),
            "{} was created twice",
            item.slug()
        );
    }
    for outcome in &report.outcomes {
        let server = on_server.iter().find(|item| item.slug() == outcome.slug);
        match &outcome.result {
            ItemResult::Created { id, .. } => {
                let server = server.unwrap_or_else(|| {
                    panic!("{} reported created but not on the server", outcome.slug)
                });
                assert_eq!(server.item["id"], id.as_str());
            }
            ItemResult::Failed { .. } | ItemResult::NotAttempted => {
                assert!(
                    server.is_none(),
                    "{} reported {:?} but exists",
                    outcome.slug,
                    outcome.result
                );
            }
            ItemResult::Unknown { .. } => {}
            other => panic!("an outcome this test does not know: {other:?}"),
        }
    }
    let counted =
        |f: fn(&ItemResult) -> bool| report.outcomes.iter().filter(|o| f(&o.result)).count() as u64;
    assert_eq!(
        summary.created,
        counted(|r| matches!(r, ItemResult::Created { .. }))
    );
    assert_eq!(
        summary.failed,
        counted(|r| matches!(r, ItemResult::Failed { .. }))
    );
    assert_eq!(
        summary.unknown,
        counted(|r| matches!(r, ItemResult::Unknown { .. }))
    );
    assert_eq!(
        summary.not_attempted,
        counted(|r| matches!(r, ItemResult::NotAttempted))
    );
    assert_eq!(summary.requests, mock.request_count(), "requests counted");
    assert_eq!(
        summary.requests,
        summary.create_requests + summary.list_requests
    );
}

#[tokio::test]
async fn sizes_0_1_100_101_250_take_the_minimum_number_of_requests() {
    for n in [0u64, 1, 100, 101, 250] {
        let (mock, clock) = rate_limited_mock(60).await;
        let client = manual_client(&mock, &clock);
        let report = client
            .bulk_create_live(MockWebflow::COLLECTION_ID)
            .run(items(n))
            .await
            .unwrap();
        assert_accounted(n, &report, &mock);
        assert!(report.summary.all_done(), "n = {n}: {:?}", report.summary);
        assert_eq!(report.summary.requests, n.div_ceil(100), "n = {n}");
        assert_eq!(
            report.summary.throttled, 0,
            "n = {n}: pacing keeps under the limit"
        );
        assert_eq!(mock.created_items().len() as u64, n);
    }
}

#[tokio::test]
async fn pacing_follows_the_rate_limit_without_429s() {
    // 1200 items = 12 requests against a bucket of 6 a mock minute: 6 at once (once the
    // first answer has reported the limit), then one per refill, never a 429. Mock and
    // client share a manual clock, so nothing depends on the machine's speed.
    let clock = ManualClock::new();
    let mock = MockWebflow::builder()
        .rate_limit(6)
        .clock(clock.clone())
        .start()
        .await;
    let client = builder_for(&mock.base_url())
        .clock(clock.clone())
        .pacing(Pacing::Adaptive {
            initial_per_minute: 6,
        })
        .build()
        .unwrap();
    let waits = Arc::new(AtomicU64::new(0));
    let counter = waits.clone();
    let report = client
        .bulk_create_live(MockWebflow::COLLECTION_ID)
        .on_progress(move |event| {
            if let BulkEvent::Waiting { .. } = event {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        })
        .run(items(1200))
        .await
        .unwrap();
    assert_accounted(1200, &report, &mock);
    assert_eq!(report.summary.throttled, 0);
    assert_eq!(mock.throttled(), 0);
    assert_eq!(report.summary.requests, 12);
    // Concurrent waits each move the manual clock: fewer waits than refills may be needed.
    assert!(
        waits.load(Ordering::Relaxed) >= 1,
        "paced waits were reported: {}",
        waits.load(Ordering::Relaxed)
    );
    let elapsed = report.summary.elapsed.as_secs_f64();
    assert!(
        elapsed >= 60.0,
        "never faster than the bucket refills: {elapsed} mock seconds"
    );
}

#[tokio::test]
async fn random_429s_are_waited_out_and_resent_without_duplicates() {
    let clock = ManualClock::new();
    let mock = MockWebflow::builder()
        .random_throttle(0.3, 7)
        .clock(clock.clone())
        .start()
        .await;
    let client = manual_client_paced(&mock, &clock, Pacing::Off);
    let throttled_events = Arc::new(AtomicU64::new(0));
    let counter = throttled_events.clone();
    let report = client
        .bulk_create_live(MockWebflow::COLLECTION_ID)
        .retry_policy(RetryPolicy::default().with_max_attempts(20))
        .on_progress(move |event| {
            if let BulkEvent::Throttled { .. } = event {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        })
        .run(items(1000))
        .await
        .unwrap();
    assert_accounted(1000, &report, &mock);
    assert!(report.summary.all_done(), "{:?}", report.summary);
    assert!(report.summary.throttled > 0, "the seed gives some 429s");
    assert_eq!(report.summary.requests, 10 + report.summary.throttled);
    assert_eq!(
        throttled_events.load(Ordering::Relaxed),
        report.summary.throttled
    );
}

#[tokio::test]
async fn a_real_rate_limit_without_pacing_is_ridden_out() {
    // Fixed windows: an unpaced import meets the limit at once, and every 429's
    // `Retry-After` is waited out on the manual clock.
    let clock = ManualClock::new();
    let mock = MockWebflow::builder()
        .rate_limit(3)
        .rate_limit_model(RateLimitModel::FixedWindow)
        .clock(clock.clone())
        .start()
        .await;
    let client = manual_client_paced(&mock, &clock, Pacing::Off);
    let report = client
        .bulk_create_live(MockWebflow::COLLECTION_ID)
        .retry_policy(RetryPolicy::default().with_max_attempts(20))
        .run(items(900))
        .await
        .unwrap();
    assert_accounted(900, &report, &mock);
    assert!(report.summary.all_done());
    assert!(report.summary.throttled > 0);
    assert_eq!(report.summary.throttled, mock.throttled());
}

#[tokio::test]
async fn without_settling_a_500_on_one_chunk_leaves_its_items_unknown_and_unsent_again() {
    for (case, fault) in [
        (
            "500 after creating",
            Fault::after_processing(MockResponse::webflow_error(
                500,
                "internal_error",
                "Oops",
                json!([]),
            )),
        ),
        (
            "500 before creating",
            Fault::instead(MockResponse::webflow_error(
                500,
                "internal_error",
                "Oops",
                json!([]),
            )),
        ),
    ] {
        let (mock, clock) = rate_limited_mock(60).await;
        mock.fault_when(|body| holds_slug(body, "item-150"), fault);
        let client = manual_client(&mock, &clock);
        let report = client
            .bulk_create_live(MockWebflow::COLLECTION_ID)
            .settle(Settle::off())
            .run(items(250))
            .await
            .unwrap();
        assert_accounted(250, &report, &mock);
        assert_eq!(
            (report.summary.created, report.summary.unknown),
            (150, 100),
            "{case}"
        );
        assert_eq!(
            report.summary.requests, 3,
            "{case}: the failed chunk is not resent"
        );
        for outcome in &report.outcomes[100..200] {
            match &outcome.result {
                ItemResult::Unknown { error, .. } => assert!(error.outcome_unknown(), "{case}"),
                other => panic!("{case}: {} is {other:?}", outcome.slug),
            }
        }
    }
}

#[tokio::test]
async fn without_settling_a_timeout_on_one_chunk_leaves_its_items_unknown_and_unsent_again() {
    let (mock, clock) = rate_limited_mock(60).await;
    mock.fault_when(
        |body| holds_slug(body, "item-0"),
        Fault::slow(Duration::from_secs(5)),
    );
    let client = builder_for(&mock.base_url())
        .clock(clock.clone())
        .timeouts(Timeouts::default().with_attempt(Duration::from_millis(300)))
        .build()
        .unwrap();
    let report = client
        .bulk_create_live(MockWebflow::COLLECTION_ID)
        .settle(Settle::off())
        .run(items(250))
        .await
        .unwrap();
    assert_accounted(250, &report, &mock);
    assert_eq!((report.summary.created, report.summary.unknown), (150, 100));
    assert_eq!(report.summary.requests, 3);
    assert!(
        matches!(&report.outcomes[0].result, ItemResult::Unknown { error, .. } if matches!(**error, Error::Timeout(_)))
    );
}

/// A mock whose validation refuses items that carry `"bad": true`.
async fn mock_refusing_bad_items(clock: &ManualClock) -> MockWebflow {
    MockWebflow::builder()
        .rate_limit(60)
        .clock(clock.clone())
        .validator(|item| {
            (item["fieldData"]["bad"] == true).then(|| {
                json!({"param": format!("{}.bad", item["fieldData"]["slug"].as_str().unwrap()), "description": "Field not described in schema: undefined"})
            })
        })
        .start()
        .await
}

fn items_with_two_bad_ones(n: u64) -> impl Iterator<Item = NewItem> + Send {
    items(n).enumerate().map(|(i, item)| {
        if i == 120 || i == 175 {
            item.field("bad", true)
        } else {
            item
        }
    })
}

/// With bisection off, a 400 whose details name no item (by position) fails its request.
#[tokio::test]
async fn a_400_with_details_fails_the_chunk_without_bisection() {
    let clock = ManualClock::new();
    let mock = mock_refusing_bad_items(&clock).await;
    let client = manual_client(&mock, &clock);
    let report = client
        .bulk_create_live(MockWebflow::COLLECTION_ID)
        .bisect_invalid(false)
        .run(items_with_two_bad_ones(250))
        .await
        .unwrap();
    assert_accounted(250, &report, &mock);
    assert_eq!((report.summary.created, report.summary.failed), (150, 100));
    assert_eq!(report.summary.requests, 3);
    let ItemResult::Failed { error, .. } = &report.outcomes[130].result else {
        panic!("{:?}", report.outcomes[130])
    };
    let text = error.to_string();
    assert!(
        text.contains("item-120.bad: Field not described in schema")
            && text.contains("item-175.bad"),
        "{text}"
    );
}

#[tokio::test]
async fn a_400_with_details_is_bisected_down_to_the_bad_items() {
    let clock = ManualClock::new();
    let mock = mock_refusing_bad_items(&clock).await;
    let client = manual_client(&mock, &clock);
    let report = client
        .bulk_create_live(MockWebflow::COLLECTION_ID)
        .bisect_invalid(true)
        .run(items_with_two_bad_ones(250))
        .await
        .unwrap();
    assert_accounted(250, &report, &mock);
    assert_eq!((report.summary.created, report.summary.failed), (248, 2));
    let failed: Vec<&str> = report
        .outcomes
        .iter()
        .filter(|o| !o.is_created())
        .map(|o| o.slug.as_str())
        .collect();
    assert_eq!(failed, ["item-120", "item-175"]);
    // 3 chunks, then halving 100 → 50 → 25 → 13/12 → ... until both bad items stand alone.
    assert!(
        report.summary.requests > 3 && report.summary.requests <= 3 + 2 * 2 * 7,
        "{}",
        report.summary.requests
    );
}

#[tokio::test]
async fn cancelling_half_way_stops_reading_the_input() {
    let (mock, clock) = rate_limited_mock(60).await;
    let client = manual_client(&mock, &clock);
    let token = CancellationToken::new();
    let canceller = token.clone();
    let report = client
        .bulk_create_live(MockWebflow::COLLECTION_ID)
        .cancel_token(token)
        .on_progress(move |event| {
            if let BulkEvent::Progress(progress) = event
                && progress.done >= 500
            {
                canceller.cancel();
            }
        })
        .run(items(1000))
        .await
        .unwrap();
    let summary = &report.summary;
    assert_eq!(summary.end, ImportEnd::Cancelled);
    assert!(
        summary.total < 1000,
        "the rest of the input is not read: {summary:?}"
    );
    assert_accounted(summary.total, &report, &mock);
    assert!(
        summary.created >= 500 && summary.created < 1000,
        "{summary:?}"
    );
    assert_eq!(
        summary.created + summary.not_attempted,
        summary.total,
        "{summary:?}"
    );
}

#[tokio::test]
async fn bad_options_fail_before_any_request() {
    let (mock, clock) = rate_limited_mock(60).await;
    let client = manual_client(&mock, &clock);
    let message = |result: Result<BulkReport, Error>| match result {
        Err(Error::InvalidInput(message)) => message,
        other => panic!("expected invalid input, got {other:?}"),
    };
    let bulk = || client.bulk_create_live(MockWebflow::COLLECTION_ID);
    let zero = message(bulk().max_items_per_request(0).run(items(5)).await);
    assert!(
        zero.starts_with("max_items_per_request is 0; it must be 1 to 100"),
        "{zero}"
    );
    let over = message(bulk().max_items_per_request(101).run(items(5)).await);
    assert!(
        over.starts_with("max_items_per_request is 101; it must be 1 to 100"),
        "{over}"
    );
    let concurrency = message(bulk().concurrency(0).run(items(5)).await);
    assert!(concurrency.starts_with("concurrency is 0"), "{concurrency}");
    let attempts = message(
        bulk()
            .retry_policy(RetryPolicy::default().with_max_attempts(0))
            .run(items(5))
            .await,
    );
    assert!(attempts.contains("max_attempts is 0"), "{attempts}");
    let collection = message(client.bulk_create_live("a/b").run(items(5)).await);
    assert!(
        collection.contains("would change the request URL"),
        "{collection}"
    );
    assert_eq!(mock.request_count(), 0);
}

#[tokio::test]
async fn items_without_name_or_slug_fail_alone_without_a_request() {
    let (mock, clock) = rate_limited_mock(60).await;
    let client = manual_client(&mock, &clock);
    let input = items(5).enumerate().map(|(i, item)| match i {
        1 => item.field("name", ""),
        3 => item.field("slug", " "),
        _ => item,
    });
    let report = client
        .bulk_create_live(MockWebflow::COLLECTION_ID)
        .run(input)
        .await
        .unwrap();
    assert_eq!((report.summary.created, report.summary.failed), (3, 2));
    assert_eq!(report.summary.requests, 1);
    let ItemResult::Failed { error, .. } = &report.outcomes[1].result else {
        panic!()
    };
    assert!(
        error.to_string().contains("the item's name is empty"),
        "{error}"
    );
    assert_eq!(
        mock.requests()[0].body["items"].as_array().unwrap().len(),
        3
    );
}

#[tokio::test]
async fn a_stream_of_items_with_progress_events() {
    let (mock, clock) = rate_limited_mock(60).await;
    let client = manual_client(&mock, &clock);
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let stream = futures_util::stream::iter(items(150));
    let report = client
        .bulk_create_live(MockWebflow::COLLECTION_ID)
        .expected_total(150)
        .on_progress(move |event| {
            if let BulkEvent::Progress(progress) = event {
                sink.lock().unwrap().push((progress.done, progress.total));
            }
        })
        .run_stream(stream)
        .await
        .unwrap();
    assert_accounted(150, &report, &mock);
    let events = events.lock().unwrap();
    assert_eq!(events.last(), Some(&(150, Some(150))));
    assert!(
        events.windows(2).all(|w| w[0].0 < w[1].0),
        "progress only grows: {events:?}"
    );
}

#[tokio::test]
async fn run_with_streams_outcomes_without_keeping_them() {
    let (mock, clock) = rate_limited_mock(60).await;
    let client = manual_client(&mock, &clock);
    let mut seen = HashSet::new();
    let summary = client
        .bulk_create_live(MockWebflow::COLLECTION_ID)
        .run_with(items(230), |outcome| {
            assert!(seen.insert(outcome.index), "each item once");
        })
        .await
        .unwrap();
    assert_eq!(seen.len(), 230);
    assert_eq!(summary.created, 230);
}
