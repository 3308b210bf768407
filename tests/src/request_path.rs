//! The fault matrix of the one request path (issue 8), one call at a time: redirects, huge
//! and unreadable `Retry-After`s, deadlines against the pacer, exactly the requests the
//! retry policy decided, timeouts before anything was sent, 429 variants, and the
//! neutrality of errors. Every test counts the requests the server saw. Waits run on a
//! `ManualClock` shared by the client and the mock, so no test sleeps; the only real-time
//! delays are the per-attempt timeouts under test (at most 300 ms).
//!
//! Each test's doc comment says how the design before the one request path failed it.

use std::error::Error as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use proptest::prelude::*;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use webflow_api::mock::{Fault, MockResponse, MockWebflow};
use webflow_api::reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use webflow_api::retry::{self, MAX_RETRY_AFTER};
use webflow_api::time::ManualClock;
use webflow_api::{
    Client, Disposition, Error, NewItem, Pacing, RateLimit, RetryPolicy, TimeoutKind, Timeouts,
};

use crate::support::builder_for;

const S: fn(u64) -> Duration = Duration::from_secs;
const MS: fn(u64) -> Duration = Duration::from_millis;
const COLLECTION: &str = MockWebflow::COLLECTION_ID;

/// A mock and a client sharing one `ManualClock`.
async fn on_manual_clock(
    pacing: Pacing,
    timeouts: Timeouts,
    policy: RetryPolicy,
) -> (MockWebflow, Client, ManualClock) {
    let clock = ManualClock::new();
    let mock = MockWebflow::builder().clock(clock.clone()).start().await;
    let client = builder_for(&mock.base_url())
        .pacing(pacing)
        .timeouts(timeouts)
        .retry_policy(policy)
        .clock(clock.clone())
        .build()
        .unwrap();
    (mock, client, clock)
}

/// Unpaced, default timeouts and retry policy.
async fn unpaced() -> (MockWebflow, Client, ManualClock) {
    on_manual_clock(Pacing::Off, Timeouts::default(), RetryPolicy::default()).await
}

async fn create(client: &Client, slug: &str) -> Result<webflow_api::CollectionItem, Error> {
    client
        .create_live_item(COLLECTION, NewItem::new("Mug", slug))
        .await
}

/// The URL of the collection's list: where a misconfigured proxy might send a create.
fn list_url(mock: &MockWebflow) -> String {
    format!("{}/collections/{COLLECTION}/items", mock.base_url())
}

fn too_many_requests() -> MockResponse {
    MockResponse::webflow_error(429, "too_many_requests", "Too Many Requests", json!([]))
}

fn server_error(status: u16) -> MockResponse {
    MockResponse::webflow_error(
        status,
        "internal_error",
        "An Internal Error occurred",
        json!([]),
    )
}

/// An item as Webflow answers it.
fn item_json(id: &str, slug: &str) -> Value {
    json!({
        "id": id,
        "cmsLocaleId": null,
        "lastPublished": null,
        "lastUpdated": "2026-01-01T00:00:00.000Z",
        "createdOn": "2026-01-01T00:00:00.000Z",
        "isArchived": false,
        "isDraft": false,
        "fieldData": {"name": "Mug", "slug": slug},
    })
}

/// A list page with these items and this `total`.
fn list_page(items: Vec<Value>, total: u64) -> MockResponse {
    MockResponse::status(200).json(&json!({
        "items": items,
        "pagination": {"limit": 100, "offset": 0, "total": total},
    }))
}

// ---------------------------------------------------------------------------------------
// 1. Redirects
// ---------------------------------------------------------------------------------------

/// Old design: reqwest followed redirects: the 303 became a GET of the list (2 requests, no error).
#[tokio::test]
async fn a_redirected_create_is_an_error_never_followed_nor_resent() {
    for status in [301u16, 302, 303, 307, 308] {
        let (mock, client, clock) = unpaced().await;
        let target = list_url(&mock);
        mock.push_fault(Fault::instead(
            MockResponse::status(status).header("location", &target),
        ));
        let error = create(&client, "mug").await.unwrap_err();
        let Error::Redirect(redirect) = &error else {
            panic!("{status}: expected a redirect, got {error:?}")
        };
        assert_eq!(redirect.status.as_u16(), status);
        assert_eq!(redirect.location.as_deref(), Some(target.as_str()));
        assert!(!redirect.followed, "{status}");
        assert_eq!(error.disposition(), Disposition::Redirected);
        assert!(error.outcome_unknown() && !error.is_retryable(), "{status}");
        let text = error.to_string();
        assert!(
            text.contains(&status.to_string()) && text.contains(&target),
            "{text}"
        );
        assert_eq!(mock.request_count(), 1, "{status}: exactly one request");
        assert_eq!(mock.requests()[0].method, "POST");
        assert_eq!(mock.created_count(), 0);
        assert!(clock.sleeps().is_empty(), "{status}");
    }
}

/// Old design: the 303 was followed to the list (2 requests) and its items came back `Ok`.
#[tokio::test]
async fn a_bulk_create_answered_303_is_one_request_and_an_error() {
    let (mock, client, _clock) = unpaced().await;
    mock.push_fault(Fault::instead(
        MockResponse::status(303).header("location", &list_url(&mock)),
    ));
    let items = (0..3).map(|i| NewItem::new(format!("Mug {i}"), format!("mug-{i}")));
    let error = client
        .create_live_items(COLLECTION, items)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Redirect(r) if r.status.as_u16() == 303),
        "{error:?}"
    );
    assert!(error.outcome_unknown());
    assert_eq!(mock.request_count(), 1);
}

/// Old design: the 302 was followed (2 requests) and the lookup answered from elsewhere.
#[tokio::test]
async fn a_redirected_lookup_is_not_resent_either() {
    let (mock, client, clock) = unpaced().await;
    mock.push_fault(Fault::instead(
        MockResponse::status(302).header("location", "https://elsewhere.example/v2"),
    ));
    let error = client
        .find_item_by_slug(COLLECTION, "mug")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Redirect(r) if r.status.as_u16() == 302 && !r.followed),
        "{error:?}"
    );
    assert_eq!(mock.request_count(), 1, "a redirect is never resent");
    // A listing stops at the redirect too.
    mock.push_fault(Fault::instead(
        MockResponse::status(307).header("location", "https://elsewhere.example/v2"),
    ));
    let pages: Vec<_> = client.list_items(COLLECTION).pages().collect().await;
    assert_eq!(pages.len(), 1);
    assert!(matches!(&pages[0], Err(Error::Redirect(_))), "{pages:?}");
    assert_eq!(mock.request_count(), 2);
    assert!(clock.sleeps().is_empty());
}

/// Old design: there was no `Error::Redirect`; a 3xx without Location was "undecodable".
#[tokio::test]
async fn a_redirect_without_location_is_still_a_redirect() {
    let (mock, client, _clock) = unpaced().await;
    mock.push_fault(Fault::instead(MockResponse::status(303)));
    let error = create(&client, "mug").await.unwrap_err();
    let Error::Redirect(redirect) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(redirect.location, None);
    assert!(
        error.to_string().contains("(no Location header)"),
        "{error}"
    );
    assert_eq!(mock.request_count(), 1);
}

/// A client that follows redirects: `ClientBuilder::http_client` with reqwest's default
/// redirect policy.
fn following_client(base_url: &str) -> Client {
    let http = webflow_api::reqwest_builder()
        .unwrap()
        .redirect(webflow_api::reqwest::redirect::Policy::default())
        .build()
        .unwrap();
    builder_for(base_url)
        .http_client(http)
        .pacing(Pacing::Off)
        .clock(ManualClock::new())
        .build()
        .unwrap()
}

/// Old design: a followed redirect went unnoticed: the list's item came back as created (`Ok`).
#[tokio::test]
async fn a_redirect_the_users_client_followed_is_detected() {
    let origin = MockWebflow::start().await;
    let target = MockWebflow::start().await;
    let client = following_client(&origin.base_url());

    // A create: POST answered 303, followed as a GET to a server answering a list.
    let to = list_url(&target);
    origin.push_fault(Fault::instead(
        MockResponse::status(303).header("location", &to),
    ));
    target.push_fault(Fault::instead(list_page(
        vec![item_json("580e64008c9a982ac9b8b754", "mug")],
        1,
    )));
    let error = create(&client, "mug").await.unwrap_err();
    let Error::Redirect(redirect) = &error else {
        panic!("expected a redirect, got {error:?}")
    };
    assert!(redirect.followed);
    assert_eq!(redirect.status.as_u16(), 200, "the final status");
    assert_eq!(redirect.location.as_deref(), Some(to.as_str()));
    assert!(error.outcome_unknown() && !error.is_retryable());
    assert!(
        error.to_string().contains("redirect::Policy::none()"),
        "{error}"
    );
    assert_eq!(origin.request_count(), 1);
    assert_eq!(target.request_count(), 1);
    assert_eq!(
        target.requests()[0].method,
        "GET",
        "303 turns the POST into a GET"
    );
    assert_eq!(origin.created_count() + target.created_count(), 0);

    // A lookup: a followed 302 to a list that holds the slug is not `Ok(Some(item))`.
    origin.push_fault(Fault::instead(
        MockResponse::status(302).header("location", &to),
    ));
    target.push_fault(Fault::instead(list_page(
        vec![item_json("580e64008c9a982ac9b8b754", "mug")],
        1,
    )));
    let error = client
        .find_item_by_slug(COLLECTION, "mug")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Redirect(r) if r.followed),
        "{error:?}"
    );
    assert_eq!((origin.request_count(), target.request_count()), (2, 2));
}

// ---------------------------------------------------------------------------------------
// 2. and 3. Huge Retry-After, deadlines and the pacer
// ---------------------------------------------------------------------------------------

fn huge_retry_afters() -> [String; 3] {
    [
        u64::MAX.to_string(),
        "99999999999999999999".to_owned(),
        httpdate::fmt_http_date(UNIX_EPOCH + S(253_402_300_799)),
    ]
}

/// Old design: the pacer computed `now + Duration::from_secs(u64::MAX)` and panicked.
#[tokio::test]
async fn a_huge_retry_after_ends_the_call_at_once_and_holds_the_client() {
    for value in huge_retry_afters() {
        let (mock, client, clock) = on_manual_clock(
            Pacing::adaptive(),
            Timeouts::default(),
            RetryPolicy::default(),
        )
        .await;
        mock.push_fault(Fault::instead(
            too_many_requests().header("retry-after", &value),
        ));
        let error = create(&client, "mug").await.unwrap_err();
        let Error::RateLimited(limited) = &error else {
            panic!("{value}: {error:?}")
        };
        assert_eq!(limited.retry_after, Some(MAX_RETRY_AFTER), "{value}");
        assert_eq!(limited.allowed_wait, Some(S(60)), "{value}");
        assert!(limited.response.is_some(), "Webflow's 429");
        assert!(error.is_retryable(), "{value}");
        // The hold applies to the next call: refused without a request.
        let next = create(&client, "mug-2").await.unwrap_err();
        assert!(
            matches!(&next, Error::RateLimited(l) if l.response.is_none()),
            "{value}: {next:?}"
        );
        assert_eq!(mock.request_count(), 1, "{value}");
        assert!(clock.sleeps().is_empty(), "{value}: {:?}", clock.sleeps());
    }
}

/// Old design: the pacer slept 61.2 s for the slot (a recorded sleep), past the 5 s deadline.
#[tokio::test]
async fn a_pacing_slot_past_the_deadline_is_refused_at_once() {
    let (mock, client, clock) = on_manual_clock(
        Pacing::Fixed { per_minute: 1 },
        Timeouts::default().with_overall(S(5)),
        RetryPolicy::default(),
    )
    .await;
    create(&client, "first").await.unwrap();
    let error = create(&client, "second").await.unwrap_err();
    match &error {
        Error::Timeout(timeout) => {
            assert_eq!(timeout.kind, TimeoutKind::Deadline);
            assert!(!timeout.request_sent);
            assert_eq!(timeout.limit, S(5));
        }
        other => panic!("expected a deadline timeout, got {other:?}"),
    }
    assert!(error.is_retryable() && !error.outcome_unknown());
    assert!(error.to_string().contains("nothing was sent"), "{error}");
    assert_eq!(mock.request_count(), 1);
    assert!(clock.sleeps().is_empty(), "{:?}", clock.sleeps());
}

/// Old design: the pacer slept 61.2 s for the slot, longer than `max_wait`, then sent.
#[tokio::test]
async fn a_pacing_slot_past_max_wait_is_refused_at_once() {
    let (mock, client, clock) = on_manual_clock(
        Pacing::Fixed { per_minute: 1 },
        Timeouts::default(),
        RetryPolicy::default(),
    )
    .await;
    create(&client, "first").await.unwrap();
    let error = create(&client, "second").await.unwrap_err();
    let Error::RateLimited(limited) = &error else {
        panic!("expected a refused wait, got {error:?}")
    };
    assert!(limited.response.is_none(), "no request, no answer");
    let needed = limited.retry_after.unwrap();
    assert!(
        needed.abs_diff(Duration::from_millis(61_200)) < MS(1),
        "{needed:?}"
    );
    assert_eq!(limited.allowed_wait, Some(S(60)));
    assert!(error.is_retryable());
    assert_eq!(mock.request_count(), 1);
    assert!(clock.sleeps().is_empty());
}

/// Old design: every later call slept the 600 s hold in the pacer instead of ending at once.
#[tokio::test]
async fn a_long_hold_refuses_later_calls_until_it_has_passed() {
    let (mock, client, clock) = on_manual_clock(
        Pacing::adaptive(),
        Timeouts::default(),
        RetryPolicy::default(),
    )
    .await;
    mock.push_fault(Fault::instead(
        too_many_requests().header("retry-after", "600"),
    ));
    let error = create(&client, "mug").await.unwrap_err();
    assert!(
        matches!(&error, Error::RateLimited(l) if l.response.is_some() && l.retry_after == Some(S(600))),
        "{error:?}"
    );
    let clone = client.clone();
    for slug in ["a", "b", "c"] {
        let refused = clone
            .create_live_item(COLLECTION, NewItem::new("Mug", slug))
            .await;
        let Err(Error::RateLimited(limited)) = refused else {
            panic!("{refused:?}")
        };
        assert!(limited.response.is_none());
        assert_eq!(limited.retry_after, Some(S(600)));
    }
    let lookup = client.find_item_by_slug(COLLECTION, "mug").await;
    assert!(matches!(lookup, Err(Error::RateLimited(_))), "{lookup:?}");
    assert_eq!(mock.request_count(), 1, "refused calls send nothing");
    assert!(clock.sleeps().is_empty());

    clock.advance(S(600));
    create(&client, "after-the-hold").await.unwrap();
    assert_eq!(mock.request_count(), 2);
    assert!(clock.sleeps().is_empty());
}

/// Old design: the retry went out at 2.5 s with 0.5 s left of the deadline (2 requests).
#[tokio::test]
async fn no_retry_is_started_without_the_minimum_budget() {
    let timeouts = Timeouts::default().with_overall(S(3));
    let (mock, client, clock) =
        on_manual_clock(Pacing::Off, timeouts, RetryPolicy::default()).await;
    mock.push_fault(Fault::instead(
        too_many_requests().header("retry-after", "2.5"),
    ));
    let error = create(&client, "mug").await.unwrap_err();
    assert!(
        matches!(&error, Error::RateLimited(l) if l.retry_after == Some(MS(2500))),
        "{error:?}"
    );
    assert_eq!(mock.request_count(), 1);
    assert!(clock.sleeps().is_empty());

    // 1.5 s leaves the minimum budget (1 s) before the deadline: retried.
    let (mock, client, clock) =
        on_manual_clock(Pacing::Off, timeouts, RetryPolicy::default()).await;
    mock.push_fault(Fault::instead(
        too_many_requests().header("retry-after", "1.5"),
    ));
    create(&client, "mug").await.unwrap();
    assert_eq!(mock.request_count(), 2);
    assert_eq!(clock.sleeps(), [MS(1500)]);
}

// ---------------------------------------------------------------------------------------
// 4. Exactly the requests decided
// ---------------------------------------------------------------------------------------

fn every_fault(mock: &MockWebflow) -> Vec<(&'static str, Fault)> {
    vec![
        (
            "429 with Retry-After",
            Fault::instead(too_many_requests().header("retry-after", "1")),
        ),
        (
            "429 without Retry-After",
            Fault::instead(too_many_requests()),
        ),
        (
            "408",
            Fault::instead(MockResponse::webflow_error(
                408,
                "request_timeout",
                "Request Timeout",
                json!([]),
            )),
        ),
        ("500", Fault::instead(server_error(500))),
        (
            "500 after processing",
            Fault::after_processing(server_error(500)),
        ),
        (
            "502 html",
            Fault::instead(
                MockResponse::status(502)
                    .body("<html>Bad Gateway</html>")
                    .header("content-type", "text/html"),
            ),
        ),
        ("503 empty", Fault::instead(MockResponse::status(503))),
        ("connection dropped", Fault::drop_connection()),
        (
            "connection dropped after processing",
            Fault::drop_after_processing(),
        ),
        (
            "303",
            Fault::instead(MockResponse::status(303).header("location", &list_url(mock))),
        ),
        (
            "200 malformed",
            Fault::after_processing(
                MockResponse::status(200)
                    .body("{\"id\": oops")
                    .header("content-type", "application/json"),
            ),
        ),
        ("slower than the attempt timeout", Fault::slow(MS(300))),
    ]
}

/// Old design: reqwest followed the 303 to the list, a second request with `RetryPolicy::none()`.
#[tokio::test]
async fn with_no_retries_every_fault_is_exactly_one_request() {
    let (mock, client, clock) = on_manual_clock(
        Pacing::Off,
        Timeouts::default().with_attempt(MS(100)),
        RetryPolicy::none(),
    )
    .await;
    for (n, (case, fault)) in every_fault(&mock).into_iter().enumerate() {
        // Past any hold a 429 left.
        clock.advance(S(10));
        let before = mock.request_count();
        mock.push_fault(fault.clone());
        let error = create(&client, &format!("create-{n}")).await.unwrap_err();
        assert_eq!(
            mock.request_count(),
            before + 1,
            "create, {case}: {error:?}"
        );

        clock.advance(S(10));
        mock.push_fault(fault);
        let lookup = client.find_item_by_slug(COLLECTION, "nothing").await;
        assert!(lookup.is_err(), "lookup, {case}: {lookup:?}");
        assert_eq!(mock.request_count(), before + 2, "lookup, {case}");
    }
    assert!(clock.sleeps().is_empty(), "{:?}", clock.sleeps());
}

/// Regression guard (the old design passed too): nothing below the loop resends a sent request.
#[tokio::test]
async fn a_connection_closed_after_the_request_was_read_is_not_resent() {
    for (case, fault) in [
        ("before processing", Fault::drop_connection()),
        ("after processing", Fault::drop_after_processing()),
    ] {
        let (mock, client, clock) = unpaced().await;
        mock.push_fault(fault);
        let error = create(&client, "mug").await.unwrap_err();
        assert!(
            matches!(&error, Error::Transport(t) if t.request_sent),
            "{case}: {error:?}"
        );
        assert!(error.outcome_unknown(), "{case}");
        assert_eq!(mock.request_count(), 1, "{case}: the server saw it once");
        assert!(clock.sleeps().is_empty(), "{case}");
    }
}

// ---------------------------------------------------------------------------------------
// 5. Timeouts before anything was sent
// ---------------------------------------------------------------------------------------

/// A TCP listener that accepts and reads, and never answers (no TLS handshake either).
/// Returns its address and everything it read.
async fn silent_listener() -> (String, Arc<Mutex<Vec<u8>>>, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = received.clone();
    let task = tokio::spawn(async move {
        let mut connections = Vec::new();
        while let Ok((mut socket, _)) = listener.accept().await {
            let sink = sink.clone();
            connections.push(tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                while let Ok(n) = socket.read(&mut buffer).await {
                    if n == 0 {
                        break;
                    }
                    sink.lock().unwrap().extend_from_slice(&buffer[..n]);
                }
            }));
        }
    });
    (addr, received, task)
}

/// Old design: a timeout was `request_sent: !is_connect()`, so `true` inside the TLS handshake.
#[tokio::test]
async fn a_tls_handshake_that_never_completes_times_out_with_nothing_sent() {
    for (case, timeouts, kind) in [
        (
            "attempt timeout",
            Timeouts::default().with_attempt(MS(200)),
            TimeoutKind::Attempt,
        ),
        (
            "connect timeout",
            Timeouts::default().with_connect(MS(150)),
            TimeoutKind::Connect,
        ),
    ] {
        let (addr, received, server) = silent_listener().await;
        let client = builder_for(&format!("https://{addr}/v2"))
            .timeouts(timeouts)
            .retry_policy(RetryPolicy::none())
            .pacing(Pacing::Off)
            .build()
            .unwrap();
        let error = create(&client, "mug").await.unwrap_err();
        let Error::Timeout(timeout) = &error else {
            panic!("{case}: expected a timeout, got {error:?}")
        };
        assert_eq!(timeout.kind, kind, "{case}");
        assert!(!timeout.request_sent, "{case}");
        assert!(error.is_retryable() && !error.outcome_unknown(), "{case}");
        assert!(
            error.to_string().contains("nothing was sent"),
            "{case}: {error}"
        );
        let bytes = received.lock().unwrap().clone();
        assert_eq!(
            bytes.first(),
            Some(&0x16),
            "{case}: a TLS ClientHello, nothing else"
        );
        for http in [&b"HTTP/1.1"[..], b"POST", b"Bearer"] {
            assert!(
                !bytes.windows(http.len()).any(|w| w == http),
                "{case}: the listener saw HTTP bytes"
            );
        }
        server.abort();
    }
}

// ---------------------------------------------------------------------------------------
// 6. 429 variants
// ---------------------------------------------------------------------------------------

fn html_429(retry_after: &str) -> MockResponse {
    MockResponse::status(429)
        .body("<html><body><h1>429 Too Many Requests</h1></body></html>")
        .header("content-type", "text/html")
        .header("retry-after", retry_after)
}

/// Regression guard: the old hook read Retry-After from the headers; the one loop lost it (fixed).
#[tokio::test]
async fn a_429_with_an_html_body_honours_its_retry_after() {
    let (mock, client, clock) = on_manual_clock(
        Pacing::adaptive(),
        Timeouts::default(),
        RetryPolicy::default(),
    )
    .await;
    mock.push_fault(Fault::instead(html_429("2")));
    create(&client, "mug").await.unwrap();
    assert_eq!(mock.request_count(), 2);
    assert_eq!(clock.sleeps(), [S(2)]);
    assert_eq!(mock.created_count(), 1);

    // Without retries it is still a rate limit, with the wait Webflow asked for.
    let (mock, client, _clock) =
        on_manual_clock(Pacing::Off, Timeouts::default(), RetryPolicy::none()).await;
    mock.push_fault(Fault::instead(html_429("2")));
    let error = create(&client, "mug").await.unwrap_err();
    let Error::RateLimited(limited) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(limited.retry_after, Some(S(2)));
    assert_eq!(error.status().map(|s| s.as_u16()), Some(429));
    assert_eq!(error.rate_limit().and_then(|r| r.limit), Some(120));
    assert!(error.is_retryable() && !error.outcome_unknown());
    assert_eq!(mock.request_count(), 1);
}

/// Regression guard (old single calls passed; old imports zeroed the backoff under pacing).
#[tokio::test]
async fn a_429_without_retry_after_under_pacing_backs_off_with_jitter() {
    let initial = S(30);
    let interval = Duration::from_secs_f64(1.02);
    let (mock, client, clock) = on_manual_clock(
        Pacing::Fixed { per_minute: 60 },
        Timeouts::default(),
        RetryPolicy::default().with_backoff(initial, initial),
    )
    .await;
    let mut first_waits = Vec::new();
    for n in 0..5 {
        clock.advance(S(120));
        let before = clock.sleeps().len();
        mock.push_fault(Fault::instead(too_many_requests()));
        create(&client, &format!("mug-{n}")).await.unwrap();
        let sleeps = clock.sleeps()[before..].to_vec();
        assert_eq!(mock.request_count(), 2 * (n + 1));
        crate::support::assert_backoff_then_pacing_slot(&sleeps, initial, interval);
        if sleeps[0] >= interval {
            assert_eq!(sleeps.len(), 1, "no pacing wait after a long backoff");
        }
        first_waits.push(sleeps[0]);
    }
    assert!(
        first_waits.iter().any(|w| *w > interval + MS(100)),
        "the backoff, not the pacing interval, decides: {first_waits:?}"
    );
}

// ---------------------------------------------------------------------------------------
// 9. Header parsers never panic
// ---------------------------------------------------------------------------------------

fn now_from(secs: u64) -> SystemTime {
    UNIX_EPOCH + S(secs)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Old design: no cap: `u64::MAX` seconds were kept (and overflowed `Instant` in the pacer).
    #[test]
    fn retry_after_text_never_panics_and_is_capped(
        text in ".{0,40}",
        now in 0u64..=253_402_300_799,
    ) {
        if let Some(wait) = retry::parse_retry_after_value(&text, now_from(now)) {
            prop_assert!(wait <= MAX_RETRY_AFTER);
        }
    }

    /// Old design: no cap: `u64::MAX` parsed to `u64::MAX` seconds.
    #[test]
    fn retry_after_numbers_saturate_at_the_cap(
        seconds in any::<u64>(),
        zeros in 0usize..30,
        now in 0u64..=253_402_300_799,
    ) {
        let expected = Some(S(seconds).min(MAX_RETRY_AFTER));
        let now = now_from(now);
        prop_assert_eq!(retry::parse_retry_after_value(&seconds.to_string(), now), expected);
        let padded = format!(" {}{seconds} ", "0".repeat(zeros));
        prop_assert_eq!(retry::parse_retry_after_value(&padded, now), expected);
        let huge = format!("{seconds}{}", "9".repeat(zeros));
        let wait = retry::parse_retry_after_value(&huge, now).unwrap();
        prop_assert!(wait <= MAX_RETRY_AFTER);
    }

    /// Old design: floats were capped at 1e9 s, about 31 years.
    #[test]
    fn retry_after_number_like_text_is_capped(
        text in "[-+]?[0-9]{0,25}(\\.[0-9]{0,25})?([eE][-+]?[0-9]{1,4})?",
    ) {
        if let Some(wait) = retry::parse_retry_after_value(&text, now_from(1_700_000_000)) {
            prop_assert!(wait <= MAX_RETRY_AFTER);
        }
    }

    /// Old design: no cap: a date in year 9999 was a wait of about 8,000 years.
    #[test]
    fn retry_after_dates_are_capped(date in 0u64..=253_402_300_799, now in 0u64..=253_402_300_799) {
        let text = httpdate::fmt_http_date(now_from(date));
        let wait = retry::parse_retry_after_value(&text, now_from(now)).unwrap();
        prop_assert!(wait <= MAX_RETRY_AFTER);
        prop_assert_eq!(wait, S(date.saturating_sub(now)).min(MAX_RETRY_AFTER));
    }

    /// Old design: a header of digits held `u64::MAX` seconds (no cap).
    #[test]
    fn header_values_of_any_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        if let Ok(value) = HeaderValue::from_bytes(&bytes) {
            let mut headers = HeaderMap::new();
            headers.insert(RETRY_AFTER, value.clone());
            headers.insert("x-ratelimit-limit", value.clone());
            headers.insert("x-ratelimit-remaining", value);
            let _ = RateLimit::from_headers(&headers);
            if let Some(wait) = retry::parse_retry_after(&headers, now_from(1_700_000_000)) {
                prop_assert!(wait <= MAX_RETRY_AFTER);
            }
        }
    }

    /// Regression guard (the old design passed too: float casts saturate).
    #[test]
    fn rate_limit_numbers_saturate(limit in any::<u64>(), remaining in ".{0,30}") {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
        if let Ok(value) = HeaderValue::from_str(&remaining) {
            headers.insert("x-ratelimit-remaining", value);
        }
        let read = RateLimit::from_headers(&headers).unwrap();
        prop_assert_eq!(read.limit, Some(u32::try_from(limit).unwrap_or(u32::MAX)));
    }
}

/// `-0` is zero; `-1`, `NaN`, `-inf` are ignored; infinity (`inf`, `1e400`) is as long as the cap.
#[test]
fn negative_zero_and_non_numbers_are_not_waits() {
    let now = now_from(1_700_000_000);
    for text in ["-1", "NaN", "nan", "-inf", "", "soon", "+-1"] {
        assert_eq!(retry::parse_retry_after_value(text, now), None, "{text:?}");
    }
    for text in ["inf", "1e400"] {
        assert_eq!(
            retry::parse_retry_after_value(text, now),
            Some(retry::MAX_RETRY_AFTER),
            "{text:?}"
        );
    }
    for text in ["-0", "-0.0", "0", "1e-400"] {
        assert_eq!(
            retry::parse_retry_after_value(text, now),
            Some(Duration::ZERO),
            "{text:?}"
        );
    }
}

/// Regression guard (the old design passed too): unreadable values mean "no Retry-After".
#[tokio::test]
async fn an_unreadable_retry_after_means_a_jittered_backoff() {
    for value in ["-1", "NaN", "-inf", "soon"] {
        let (mock, client, clock) = unpaced().await;
        mock.push_fault(Fault::instead(
            too_many_requests().header("retry-after", value),
        ));
        create(&client, "mug").await.unwrap();
        assert_eq!(mock.request_count(), 2, "{value}");
        let sleeps = clock.sleeps();
        assert!(
            sleeps.len() <= 1 && sleeps.iter().all(|s| *s < S(1)),
            "{value}: {sleeps:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 10. Neutral errors
// ---------------------------------------------------------------------------------------

/// Old design: 5xx and timeouts said the *item* "may have been created", for lookups too.
#[tokio::test]
async fn errors_keep_their_source_and_neutral_wording() {
    // A transport error's source is reqwest's error.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = builder_for(&format!("http://127.0.0.1:{port}/v2"))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let error = create(&client, "mug").await.unwrap_err();
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    let source = error.source().expect("a transport error has a source");
    assert!(
        source
            .downcast_ref::<webflow_api::reqwest::Error>()
            .is_some(),
        "{source:?}"
    );

    // An undecodable success's source is serde_json's error, declared status or not.
    for status in [202u16, 299] {
        let (mock, client, _clock) = unpaced().await;
        mock.push_fault(Fault::instead(
            MockResponse::status(status)
                .body("{\"id\": oops")
                .header("content-type", "application/json"),
        ));
        let error = create(&client, "mug").await.unwrap_err();
        assert!(
            matches!(error, Error::UndecodableResponse(_)),
            "{status}: {error:?}"
        );
        let source = error.source().expect("the decoder's error");
        assert!(
            source.downcast_ref::<serde_json::Error>().is_some(),
            "{status}: {source:?}"
        );
    }

    // 5xx and timeouts: "may have taken effect", never a word about items.
    let (mock, client, _clock) = on_manual_clock(
        Pacing::Off,
        Timeouts::default().with_attempt(MS(100)),
        RetryPolicy::none(),
    )
    .await;
    let mut errors = Vec::new();
    for fault in [
        Fault::instead(server_error(500)),
        Fault::instead(MockResponse::status(502).body("<html>Bad Gateway</html>")),
        Fault::instead(MockResponse::status(503)),
        Fault::instead(MockResponse::status(599)),
        Fault::slow(MS(300)),
        Fault::drop_connection(),
    ] {
        mock.push_fault(fault.clone());
        errors.push(
            create(&client, &format!("mug-{}", errors.len()))
                .await
                .unwrap_err(),
        );
        mock.push_fault(fault);
        errors.push(
            client
                .find_item_by_slug(COLLECTION, "mug")
                .await
                .unwrap_err(),
        );
    }
    for error in &errors {
        let text = error.to_string();
        assert!(text.contains("may have taken effect"), "{text}");
        // The URL reqwest names (…/items/live) is not wording.
        let lower = without_urls(&text).to_lowercase();
        assert!(
            !lower.contains("item") && !lower.contains("created"),
            "not neutral: {text}"
        );
        assert!(error.outcome_unknown(), "{error:?}");
    }
    assert!(matches!(errors[8], Error::Timeout(_)), "{:?}", errors[8]);
    assert!(
        errors[8].source().is_some(),
        "a timeout keeps reqwest's error"
    );
}

/// `text` without the URLs in it.
fn without_urls(text: &str) -> String {
    text.split_whitespace()
        .filter(|word| !word.contains("http://") && !word.contains("https://"))
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------------------
// 11. Other adversarial answers
// ---------------------------------------------------------------------------------------

/// Old design (and until this branch): `create_live_items` returned the short list as `Ok`.
#[tokio::test]
async fn a_create_answered_with_the_wrong_number_of_items_is_never_ok() {
    let (mock, client, _clock) = unpaced().await;
    mock.push_fault(Fault::instead(
        MockResponse::status(200).json(&json!({"items": []})),
    ));
    let error = create(&client, "mug").await.unwrap_err();
    assert!(matches!(error, Error::UndecodableResponse(_)), "{error:?}");
    assert!(error.outcome_unknown() && !error.is_retryable());
    assert_eq!(mock.request_count(), 1);

    for answered in [vec![], vec![item_json("580e64008c9a982ac9b8b754", "mug-0")]] {
        let (mock, client, _clock) = unpaced().await;
        mock.push_fault(Fault::instead(
            MockResponse::status(202).json(&json!({"items": answered})),
        ));
        let items = (0..3).map(|i| NewItem::new(format!("Mug {i}"), format!("mug-{i}")));
        let result = client.create_live_items(COLLECTION, items).await;
        let error = result.unwrap_err();
        assert!(error.to_string().contains("3 items were sent"), "{error}");
        assert!(error.outcome_unknown());
        assert_eq!(mock.request_count(), 1);
    }
}

/// A server that reads one whole request per connection, answers `answer` and closes the
/// connection; counts the requests it read.
async fn raw_server(
    answer: &'static [u8],
) -> (String, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v2", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = requests.clone();
    let server = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut received = Vec::new();
                let mut buffer = [0u8; 4096];
                while let Ok(n) = socket.read(&mut buffer).await {
                    if n == 0 {
                        break;
                    }
                    received.extend_from_slice(&buffer[..n]);
                    let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&received[..end]).to_ascii_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    if received.len() >= end + 4 + length {
                        counter.fetch_add(1, Ordering::SeqCst);
                        let _ = socket.write_all(answer).await;
                        break;
                    }
                }
            });
        }
    });
    (url, requests, server)
}

/// Old design: no `Disposition`; a 399 or 999 was a "final" answer, not a possible effect.
#[tokio::test]
async fn informational_and_unknown_statuses_are_one_request_with_unknown_outcome() {
    for answer in [
        &b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n"[..],
        b"HTTP/1.1 100 Continue\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
    ] {
        let case = String::from_utf8_lossy(&answer[..20]).into_owned();
        let (url, requests, server) = raw_server(answer).await;
        let client = builder_for(&url)
            .pacing(Pacing::Off)
            .clock(ManualClock::new())
            .build()
            .unwrap();
        let error = create(&client, "mug").await.unwrap_err();
        assert!(error.outcome_unknown(), "{case}: {error:?}");
        // A resend would have happened before the call returned (waits take no time).
        assert_eq!(requests.load(Ordering::SeqCst), 1, "{case}: one request");
        server.abort();
    }
    for status in [299u16, 399, 499, 599, 999] {
        let (mock, client, clock) = unpaced().await;
        mock.push_fault(Fault::instead(MockResponse::status(status)));
        let error = create(&client, "mug").await.unwrap_err();
        assert_eq!(
            error.status().map(|s| s.as_u16()),
            Some(status),
            "{error:?}"
        );
        let expected = match status {
            399 => Disposition::Redirected,
            499 => Disposition::Refused,
            _ => Disposition::OutcomeUnknown,
        };
        assert_eq!(error.disposition(), expected, "{status}");
        assert_eq!(mock.request_count(), 1, "{status}");
        assert!(clock.sleeps().is_empty());
    }
}

/// A `total` that says more does not keep a listing going past a short page (and, in
/// `listing.rs`, a smaller one does not end it at a full page).
#[tokio::test]
async fn a_listing_with_an_inflated_total_ends_at_a_short_page() {
    let (mock, client, _clock) = unpaced().await;
    let items: Vec<Value> = (0..3)
        .map(|i| json!({"fieldData": {"name": format!("Mug {i}"), "slug": format!("mug-{i}")}}))
        .collect();
    mock.insert_items(COLLECTION, items);
    let answered: Vec<Value> = (0..3)
        .map(|i| item_json(&format!("580e64008c9a982ac9b8b75{i}"), &format!("mug-{i}")))
        .collect();
    mock.push_fault(Fault::instead(list_page(answered, 1_000_000)));
    let items: Vec<_> = client.list_items(COLLECTION).items().collect().await;
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(Result::is_ok));
    assert_eq!(mock.request_count(), 1, "a short page is the last");

    mock.push_fault(Fault::instead(list_page(vec![], 1_000_000)));
    let pages: Vec<_> = client.list_items(COLLECTION).pages().collect().await;
    assert_eq!(pages.len(), 1);
    assert_eq!(mock.request_count(), 2, "an empty first page ends it");
}
