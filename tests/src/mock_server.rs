//! The mock server itself, driven by a plain `reqwest::Client`: authentication, listing,
//! duplicate slugs, visibility lag, pre-existing items, dropped connections, request
//! faults, the rate limit (fixed windows here; the token bucket in `mock_adversarial.rs`)
//! and timestamps on a shared manual clock. The helpers are shared with the other
//! `mock_*` test files.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use webflow_api::mock::{DuplicateSlugs, Fault, MockResponse, MockWebflow, RateLimitModel};
use webflow_api::time::ManualClock;

pub(crate) const COLLECTION: &str = MockWebflow::COLLECTION_ID;

/// A plain HTTP client for a mock, sending `MockWebflow::TOKEN` unless told otherwise.
pub(crate) struct Api {
    http: reqwest::Client,
    base: String,
}

/// What came back: the status, the `x-ratelimit-remaining`, `retry-after` and `date`
/// headers, the raw body and the JSON body (`Null` if none).
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) remaining: Option<u32>,
    pub(crate) retry_after: Option<String>,
    pub(crate) date: Option<String>,
    pub(crate) text: String,
    pub(crate) body: Value,
}

impl Api {
    pub(crate) fn new(mock: &MockWebflow) -> Api {
        // reqwest is built with `rustls-no-provider` here, so `reqwest::Client::new()` would
        // need a process-wide crypto provider; the crate's own builder brings its TLS set-up.
        Api {
            http: webflow_api::reqwest_builder().unwrap().build().unwrap(),
            base: mock.base_url(),
        }
    }

    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> reqwest::Result<Answer> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let remaining = header("x-ratelimit-remaining").and_then(|v| v.parse().ok());
        let retry_after = header("retry-after");
        let date = header("date");
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        Ok(Answer {
            status,
            remaining,
            retry_after,
            date,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        })
    }

    async fn try_create(&self, body: &Value) -> reqwest::Result<Answer> {
        let path = format!("/collections/{COLLECTION}/items/live");
        self.send(Method::POST, &path, Some(MockWebflow::TOKEN), Some(body))
            .await
    }

    /// `create-item-live` in [`COLLECTION`].
    pub(crate) async fn create(&self, body: &Value) -> Answer {
        self.try_create(body).await.expect("the mock answers")
    }

    async fn try_list(&self, query: &str) -> reqwest::Result<Answer> {
        let path = format!("/collections/{COLLECTION}/items?{query}");
        self.send(Method::GET, &path, Some(MockWebflow::TOKEN), None)
            .await
    }

    /// `list-collection-items` of [`COLLECTION`].
    pub(crate) async fn list(&self, query: &str) -> Answer {
        self.try_list(query).await.expect("the mock answers")
    }

    /// Any request with `MockWebflow::TOKEN`; `path` is below `/v2`.
    pub(crate) async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Answer {
        self.send(method, path, Some(MockWebflow::TOKEN), body)
            .await
            .expect("the mock answers")
    }
}

pub(crate) fn item(name: &str, slug: &str) -> Value {
    json!({"fieldData": {"name": name, "slug": slug}})
}

pub(crate) fn in_locale(name: &str, slug: &str, locale: &str) -> Value {
    json!({"cmsLocaleId": locale, "fieldData": {"name": name, "slug": slug}})
}

pub(crate) fn slugs(list: &Value) -> Vec<&str> {
    list["items"]
        .as_array()
        .expect("a list of items")
        .iter()
        .map(|item| item["fieldData"]["slug"].as_str().unwrap())
        .collect()
}

pub(crate) fn total(list: &Value) -> u64 {
    list["pagination"]["total"].as_u64().unwrap()
}

pub(crate) fn detail_params(error: &Value) -> Vec<&str> {
    error["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|detail| detail["param"].as_str().unwrap())
        .collect()
}

async fn mock_on(clock: &ManualClock) -> MockWebflow {
    MockWebflow::builder().clock(clock.clone()).start().await
}

#[tokio::test]
async fn configured_token_is_the_only_one_accepted() {
    assert_eq!(MockWebflow::TOKEN, "mock-token");
    let mock = MockWebflow::builder().token("s3cret").start().await;
    let api = Api::new(&mock);
    let path = format!("/collections/{COLLECTION}/items/live");
    let list = format!("/collections/{COLLECTION}/items");
    let body = item("Mug", "mug");
    for token in [Some("wrong"), Some("wrong"), None, Some("S3cret")] {
        let answer = api
            .send(Method::POST, &path, token, Some(&body))
            .await
            .unwrap();
        assert_eq!(answer.status, 401, "{token:?}");
        assert_eq!(answer.body["code"], "not_authorized");
        let answer = api.send(Method::GET, &list, token, None).await.unwrap();
        assert_eq!(answer.status, 401, "{token:?}");
    }
    assert_eq!(mock.created_count(), 0);
    let answer = api
        .send(Method::POST, &path, Some("s3cret"), Some(&body))
        .await
        .unwrap();
    assert_eq!(answer.status, 202);
    let answer = api
        .send(Method::GET, &list, Some("s3cret"), None)
        .await
        .unwrap();
    assert_eq!((answer.status, total(&answer.body)), (200, 1));
    assert_eq!(mock.request_count(), 10);
}

#[tokio::test]
async fn without_a_configured_token_any_non_empty_bearer_is_accepted() {
    let mock = MockWebflow::start().await;
    let api = Api::new(&mock);
    let path = format!("/collections/{COLLECTION}/items/live");
    for (n, token) in ["anything", "mock-token"].into_iter().enumerate() {
        let body = item("Mug", &format!("mug-{n}"));
        let answer = api
            .send(Method::POST, &path, Some(token), Some(&body))
            .await
            .unwrap();
        assert_eq!(answer.status, 202, "{token}");
    }
    for token in [Some(" "), None] {
        let answer = api
            .send(Method::POST, &path, token, Some(&item("Mug", "mug")))
            .await
            .unwrap();
        assert_eq!(answer.status, 401, "{token:?}");
        assert_eq!(answer.body["code"], "not_authorized");
    }
    assert_eq!(mock.created_count(), 2);
}

#[tokio::test]
async fn list_filters_by_slug_name_and_locales() {
    let mock = MockWebflow::start().await;
    let api = Api::new(&mock);
    let answer = api
        .create(&json!({"items": [
            in_locale("Mug", "mug", "en"),
            in_locale("Mug", "mug", "fr"),
            in_locale("Plate", "plate", "de"),
            item("Mug", "mug-plain"),
        ]}))
        .await;
    assert_eq!(answer.status, 202, "{:?}", answer.body);

    let list = api.list("slug=mug").await;
    assert_eq!(list.status, 200);
    assert_eq!(slugs(&list.body), ["mug", "mug"]);
    assert_eq!(total(&list.body), 2);
    let list = api.list("name=Mug").await;
    assert_eq!(slugs(&list.body), ["mug", "mug", "mug-plain"]);
    let list = api.list("cmsLocaleId=fr").await;
    assert_eq!(list.body["items"][0]["cmsLocaleId"], "fr");
    assert_eq!(total(&list.body), 1);
    let list = api.list("cmsLocaleId=en,de").await;
    assert_eq!(slugs(&list.body), ["mug", "plate"]);
    let list = api.list("cmsLocaleId=en%2Cfr&slug=mug&name=Mug").await;
    assert_eq!(total(&list.body), 2);
    let list = api.list("name=Mug&slug=plate").await;
    assert_eq!(total(&list.body), 0);
    let list = api.list("").await;
    assert_eq!(slugs(&list.body), ["mug", "mug", "plate", "mug-plain"]);
    // The listed items are the items as created.
    assert_eq!(list.body["items"][0], mock.created_items()[0].item);
    // Another collection is empty.
    let other = api
        .send(Method::GET, "/collections/0000/items", Some("t"), None)
        .await
        .unwrap();
    assert_eq!((other.status, total(&other.body)), (200, 0));
}

#[tokio::test]
async fn list_pages_with_offset_and_limit_and_an_exact_total() {
    let mock = MockWebflow::start().await;
    let api = Api::new(&mock);
    let items: Vec<Value> = (0..7)
        .map(|n| item(&format!("Item {n}"), &format!("item-{n}")))
        .collect();
    assert_eq!(api.create(&json!({ "items": items })).await.status, 202);
    for (offset, expected) in [
        (0, vec!["item-0", "item-1", "item-2"]),
        (3, vec!["item-3", "item-4", "item-5"]),
        (6, vec!["item-6"]),
        (9, vec![]),
    ] {
        let list = api.list(&format!("offset={offset}&limit=3")).await;
        assert_eq!(slugs(&list.body), expected, "offset {offset}");
        assert_eq!(
            list.body["pagination"],
            json!({"limit": 3, "offset": offset, "total": 7})
        );
    }
    let list = api.list("").await;
    assert_eq!(
        list.body["pagination"],
        json!({"limit": 100, "offset": 0, "total": 7})
    );
}

#[tokio::test]
async fn list_sorts_with_ties_broken_by_creation_order() {
    let clock = ManualClock::new();
    let mock = mock_on(&clock).await;
    let api = Api::new(&mock);
    // a and b share a timestamp; c is a second later; names tie between b and c.
    api.create(&item("Zed", "a")).await;
    api.create(&item("Ann", "b")).await;
    clock.advance(Duration::from_secs(1));
    api.create(&item("Ann", "c")).await;

    for (query, expected) in [
        ("", ["a", "b", "c"]),
        ("sortOrder=desc", ["c", "b", "a"]),
        ("sortBy=createdOn", ["a", "b", "c"]),
        ("sortBy=createdOn&sortOrder=desc", ["c", "b", "a"]),
        ("sortBy=lastUpdated&sortOrder=asc", ["a", "b", "c"]),
        ("sortBy=name", ["b", "c", "a"]),
        ("sortBy=name&sortOrder=desc", ["a", "c", "b"]),
        ("sortBy=slug&sortOrder=desc", ["c", "b", "a"]),
    ] {
        let list = api.list(query).await;
        assert_eq!(list.status, 200, "{query}");
        assert_eq!(slugs(&list.body), expected, "{query}");
    }
}

#[tokio::test]
async fn list_refuses_bad_parameters() {
    let mock = MockWebflow::start().await;
    let api = Api::new(&mock);
    for (query, param) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("sortBy=price", "sortBy"),
        ("sortBy=createdOn&sortOrder=up", "sortOrder"),
    ] {
        let list = api.list(query).await;
        assert_eq!(list.status, 400, "{query}");
        assert_eq!(list.body["code"], "validation_error", "{query}");
        assert_eq!(detail_params(&list.body), [param], "{query}");
    }
    let list = api
        .list("limit=100&offset=0&sortBy=slug&sortOrder=asc&other=1")
        .await;
    assert_eq!(list.status, 200);
}

#[tokio::test]
async fn visibility_lag_hides_new_items_until_the_mock_clock_passes_it() {
    let clock = ManualClock::new();
    let mock = MockWebflow::builder()
        .clock(clock.clone())
        .visibility_lag(Duration::from_secs(5))
        .start()
        .await;
    let api = Api::new(&mock);
    let created = api.create(&item("Mug", "mug")).await;
    assert_eq!(created.status, 202);
    assert_eq!(created.body["fieldData"]["slug"], "mug");
    assert_eq!(mock.created_items().len(), 1);
    assert_eq!(total(&api.list("slug=mug").await.body), 0);
    clock.advance(Duration::from_millis(4999));
    assert_eq!(total(&api.list("").await.body), 0);
    // The hidden item still holds its slug.
    assert_eq!(api.create(&item("Mug", "mug")).await.status, 400);
    clock.advance(Duration::from_millis(1));
    let list = api.list("slug=mug").await;
    assert_eq!(total(&list.body), 1);
    assert_eq!(list.body["items"][0]["id"], created.body["id"]);
}

pub(crate) fn is_suffixed(slug: &str, base: &str) -> bool {
    slug.strip_prefix(base)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|suffix| {
            suffix.len() == 5
                && suffix
                    .chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        })
}

#[tokio::test]
async fn suffix_mode_stores_a_taken_slug_under_a_suffix_and_reports_it() {
    let mut stored_slugs = Vec::new();
    for _ in 0..2 {
        let mock = MockWebflow::builder()
            .duplicate_slugs(DuplicateSlugs::Suffix)
            .start()
            .await;
        let api = Api::new(&mock);
        assert_eq!(api.create(&item("Mug", "mug")).await.status, 202);
        assert!(mock.duplicates().is_empty());
        let second = api.create(&item("Mug again", "mug")).await;
        assert_eq!(second.status, 202);
        let stored = second.body["fieldData"]["slug"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(is_suffixed(&stored, "mug"), "{stored}");
        // Another locale has its own slugs.
        assert_eq!(
            api.create(&in_locale("Tasse", "mug", "fr")).await.status,
            202
        );

        let duplicates = mock.duplicates();
        assert_eq!(duplicates.len(), 1);
        assert_eq!(duplicates[0].requested_slug, "mug");
        assert_eq!(duplicates[0].slug(), stored);
        assert_eq!(duplicates[0].request_number, 2);
        assert_eq!(duplicates[0].item, second.body);
        assert_eq!(
            total(&api.list("slug=mug").await.body),
            2,
            "mug and the fr mug"
        );
        assert_eq!(total(&api.list(&format!("slug={stored}")).await.body), 1);
        stored_slugs.push(stored);
    }
    assert_eq!(
        stored_slugs[0], stored_slugs[1],
        "suffixes are deterministic"
    );
}

#[tokio::test]
async fn suffix_mode_suffixes_duplicates_within_one_bulk_create() {
    let mock = MockWebflow::builder()
        .duplicate_slugs(DuplicateSlugs::Suffix)
        .start()
        .await;
    let api = Api::new(&mock);
    let answer = api
        .create(&json!({"items": [item("A", "cup"), item("B", "cup")]}))
        .await;
    assert_eq!(answer.status, 202);
    let items = answer.body["items"].as_array().unwrap();
    assert_eq!(items[0]["fieldData"]["slug"], "cup");
    assert!(is_suffixed(
        items[1]["fieldData"]["slug"].as_str().unwrap(),
        "cup"
    ));
    assert_eq!(mock.duplicates().len(), 1);
}

#[tokio::test]
async fn refuse_mode_names_each_taken_slug() {
    let mock = MockWebflow::start().await;
    let api = Api::new(&mock);
    assert_eq!(api.create(&item("Mug", "mug")).await.status, 202);

    let single = api.create(&item("Mug", "mug")).await;
    assert_eq!(single.status, 400);
    assert_eq!(single.body["code"], "validation_error");
    assert_eq!(
        single.body["details"],
        json!([{"param": "slug", "description": "Unique value is already in database: 'mug'"}])
    );
    let bulk = api
        .create(&json!({"items": [
            item("Plate", "plate"),
            item("Mug", "mug"),
            item("Plate", "plate"),
            in_locale("Mug", "mug", "fr"),
        ]}))
        .await;
    assert_eq!(bulk.status, 400);
    assert_eq!(
        detail_params(&bulk.body),
        ["items[1].fieldData.slug", "items[2].fieldData.slug"]
    );
    assert_eq!(
        bulk.body["details"][1]["description"],
        "Unique value is already in database: 'plate'"
    );
    assert_eq!(mock.created_count(), 1, "refused requests create nothing");
    assert!(mock.duplicates().is_empty());
}

#[tokio::test]
async fn inserted_items_are_listed_at_once_and_occupy_their_slugs() {
    let clock = ManualClock::new();
    let mock = MockWebflow::builder()
        .clock(clock.clone())
        .visibility_lag(Duration::from_secs(60))
        .duplicate_slugs(DuplicateSlugs::Suffix)
        .start()
        .await;
    let ids = mock.insert_items(
        COLLECTION,
        [
            item("Old mug", "mug"),
            json!({"cmsLocaleId": "fr", "isDraft": true, "fieldData": {"name": "Tasse", "slug": "tasse", "price": 3}}),
        ],
    );
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    assert_eq!(mock.request_count(), 0);
    assert!(mock.created_items().is_empty());

    let api = Api::new(&mock);
    let list = api.list("").await;
    assert_eq!(slugs(&list.body), ["mug", "tasse"]);
    assert_eq!(list.body["items"][0]["id"], ids[0].as_str());
    assert_eq!(list.body["items"][1]["isDraft"], true);
    assert_eq!(list.body["items"][1]["cmsLocaleId"], "fr");
    assert_eq!(list.body["items"][1]["fieldData"]["price"], 3);
    assert_eq!(
        list.body["items"][0]["createdOn"],
        "2026-01-01T00:00:00.000Z"
    );

    let created = api.create(&item("New mug", "mug")).await;
    assert!(is_suffixed(
        created.body["fieldData"]["slug"].as_str().unwrap(),
        "mug"
    ));
    assert_eq!(
        mock.duplicates().len(),
        1,
        "the inserted mug was there first"
    );
    assert_eq!(mock.request_count(), 2);
}

#[tokio::test]
async fn inserted_items_refuse_a_later_create_of_their_slug() {
    let mock = MockWebflow::start().await;
    mock.insert_items("other-collection", [item("Mug", "mug")]);
    mock.insert_items(COLLECTION, [item("Mug", "mug")]);
    let api = Api::new(&mock);
    let answer = api.create(&item("Mug", "mug")).await;
    assert_eq!(answer.status, 400);
    assert_eq!(detail_params(&answer.body), ["slug"]);
}

#[tokio::test]
async fn drop_connection_answers_nothing_and_creates_nothing() {
    let mock = MockWebflow::start().await;
    let api = Api::new(&mock);
    mock.push_fault(Fault::drop_connection());
    let error = api.try_create(&item("Mug", "mug")).await.unwrap_err();
    assert!(!error.is_timeout() && error.status().is_none(), "{error:?}");
    assert_eq!(mock.request_count(), 1, "received once, not retried");
    assert_eq!(mock.requests()[0].status, 0);
    assert_eq!(mock.requests()[0].body, item("Mug", "mug"));
    assert_eq!(mock.created_count(), 0);

    // The server goes on: the same create now succeeds.
    assert_eq!(api.create(&item("Mug", "mug")).await.status, 202);
    assert_eq!(mock.request_count(), 2);
    assert_eq!(mock.created_count(), 1);
}

#[tokio::test]
async fn drop_after_processing_creates_the_item_but_answers_nothing() {
    let mock = MockWebflow::start().await;
    let api = Api::new(&mock);
    mock.push_fault(Fault::drop_after_processing());
    let error = api.try_create(&item("Mug", "mug")).await.unwrap_err();
    assert!(!error.is_timeout() && error.status().is_none(), "{error:?}");
    assert_eq!(mock.request_count(), 1);
    assert_eq!(mock.requests()[0].status, 0);
    assert_eq!(mock.created_count(), 1);
    assert_eq!(mock.created_items()[0].request_number, 1);

    // Looking it up finds it; sending it again is refused as a duplicate.
    let list = api.list("slug=mug").await;
    assert_eq!(total(&list.body), 1);
    assert_eq!(api.create(&item("Mug", "mug")).await.status, 400);
    assert_eq!(mock.request_count(), 3);
    assert!(mock.duplicates().is_empty());
}

#[tokio::test]
async fn drop_after_processing_on_a_list_drops_the_answer() {
    let mock = MockWebflow::start().await;
    let api = Api::new(&mock);
    mock.push_fault(Fault::drop_after_processing());
    let path = format!("/collections/{COLLECTION}/items");
    let result = api.send(Method::GET, &path, Some("t"), None).await;
    assert!(result.is_err(), "{result:?}");
    assert_eq!(mock.request_count(), 1);
}

#[tokio::test]
async fn fault_when_request_can_target_only_gets_or_one_slug() {
    let mock = MockWebflow::start().await;
    let api = Api::new(&mock);
    mock.fault_when_request(
        |request| request.method == "GET",
        Fault::after_processing(MockResponse::webflow_error(
            503,
            "internal_error",
            "Busy",
            json!([]),
        )),
    );
    mock.fault_when_request(
        |request| request.body["fieldData"]["slug"] == "plate",
        Fault::instead(MockResponse::status(500)),
    );
    assert_eq!(api.create(&item("Mug", "mug")).await.status, 202);
    let list = api.list("").await;
    assert_eq!(
        (list.status, list.body["code"].as_str()),
        (503, Some("internal_error"))
    );
    assert_eq!(
        api.list("").await.status,
        200,
        "a matched fault is used once"
    );
    assert_eq!(api.create(&item("Plate", "plate")).await.status, 500);
    assert_eq!(api.create(&item("Plate", "plate")).await.status, 202);
    let statuses: Vec<u16> = mock.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [202, 503, 200, 500, 202]);
    assert_eq!(mock.created_count(), 2);
}

#[tokio::test]
async fn fault_on_request_counts_gets_too() {
    let mock = MockWebflow::start().await;
    let api = Api::new(&mock);
    mock.fault_on_request(2, Fault::instead(MockResponse::status(418)));
    assert_eq!(api.list("").await.status, 200);
    assert_eq!(api.create(&item("Mug", "mug")).await.status, 418);
    assert_eq!(mock.created_count(), 0);
    assert_eq!(api.create(&item("Mug", "mug")).await.status, 202);
}

#[tokio::test]
async fn fixed_window_rate_limit_counts_gets_and_posts_in_mock_minutes() {
    let clock = ManualClock::new();
    let mock = MockWebflow::builder()
        .clock(clock.clone())
        .rate_limit(3)
        .rate_limit_model(RateLimitModel::FixedWindow)
        .start()
        .await;
    let api = Api::new(&mock);
    assert_eq!(api.list("").await.remaining, Some(2));
    assert_eq!(api.create(&item("Mug", "mug")).await.remaining, Some(1));
    assert_eq!(api.list("").await.remaining, Some(0));

    let refused = api.create(&item("Plate", "plate")).await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.body["code"], "too_many_requests");
    assert_eq!(refused.retry_after.as_deref(), Some("60"));
    clock.advance(Duration::from_secs(30));
    let refused = api.list("").await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.retry_after.as_deref(), Some("30"));
    assert_eq!(mock.throttled(), 2);
    assert_eq!(mock.created_count(), 1);

    clock.advance(Duration::from_secs(30));
    let allowed = api.create(&item("Plate", "plate")).await;
    assert_eq!((allowed.status, allowed.remaining), (202, Some(2)));
    assert_eq!(api.list("").await.status, 200);
    assert_eq!(mock.request_count(), 7);
}

#[tokio::test]
async fn timestamps_are_the_mock_epoch_plus_mock_time() {
    let clock = ManualClock::new();
    // Time before the mock starts does not count.
    clock.advance(Duration::from_secs(3600));
    let mock = mock_on(&clock).await;
    let api = Api::new(&mock);
    let stamp = |answer: &Answer| {
        let item = &answer.body;
        assert_eq!(item["createdOn"], item["lastUpdated"]);
        assert_eq!(item["createdOn"], item["lastPublished"]);
        item["createdOn"].as_str().unwrap().to_owned()
    };
    assert_eq!(
        stamp(&api.create(&item("A", "a")).await),
        "2026-01-01T00:00:00.000Z"
    );
    assert_eq!(
        stamp(&api.create(&item("B", "b")).await),
        "2026-01-01T00:00:00.000Z",
        "a clock that stands still gives stable timestamps"
    );
    let day = 86_400;
    clock.advance(Duration::from_millis((59 * day + 3723) * 1000 + 456));
    assert_eq!(
        stamp(&api.create(&item("C", "c")).await),
        "2026-03-01T01:02:03.456Z"
    );
    // To 2028-02-29, a leap day: 789 days after the epoch.
    clock.advance(Duration::from_millis(730 * day * 1000 - 3_723_456));
    assert_eq!(
        stamp(&api.create(&item("D", "d")).await),
        "2028-02-29T00:00:00.000Z"
    );
    clock.advance(Duration::from_secs(306 * day + 86_399));
    assert_eq!(
        stamp(&api.create(&item("E", "e")).await),
        "2028-12-31T23:59:59.000Z"
    );
}

#[tokio::test]
async fn unknown_paths_and_methods_get_a_404_with_rate_limit_headers() {
    let mock = MockWebflow::start().await;
    let api = Api::new(&mock);
    let live = format!("/collections/{COLLECTION}/items/live");
    let items = format!("/collections/{COLLECTION}/items");
    let item_path = format!("{items}/{}", "66a000000000000000000001");
    for (method, path) in [
        (Method::GET, live.as_str()),
        (Method::POST, items.as_str()),
        (Method::PUT, items.as_str()),
        (Method::DELETE, item_path.as_str()),
        (Method::GET, "/collections"),
        (Method::DELETE, "/collections/1"),
        (Method::GET, "/sites/1/collections/2/items"),
    ] {
        let answer = api
            .send(method.clone(), path, Some("t"), Some(&item("A", "a")))
            .await
            .unwrap();
        assert_eq!(answer.status, 404, "{method} {path}");
        assert_eq!(answer.body["code"], "resource_not_found");
        assert!(answer.remaining.is_some());
    }
    assert_eq!(mock.created_count(), 0);
    assert_eq!(mock.request_count(), 7);
}

#[tokio::test]
async fn without_recording_keeps_counters_only() {
    let mock = MockWebflow::builder().without_recording().start().await;
    let api = Api::new(&mock);
    assert_eq!(api.create(&item("Mug", "mug")).await.status, 202);
    assert_eq!(
        api.create(&item("Mug", "mug")).await.status,
        202,
        "no slug index"
    );
    assert_eq!(api.list("").await.status, 501);
    assert_eq!((mock.request_count(), mock.created_count()), (3, 2));
    assert!(mock.requests().is_empty() && mock.created_items().is_empty());
    assert!(mock.duplicates().is_empty());
}

#[tokio::test]
#[should_panic(expected = "insert_items needs a mock that records")]
async fn insert_items_needs_recording() {
    let mock = MockWebflow::builder().without_recording().start().await;
    mock.insert_items(COLLECTION, [item("Mug", "mug")]);
}

#[tokio::test]
async fn dropping_the_mock_stops_the_server() {
    let mock = MockWebflow::start().await;
    let api = Api::new(&mock);
    assert_eq!(api.list("").await.status, 200);
    drop(mock);
    let result = tokio::time::timeout(Duration::from_secs(10), api.try_list("")).await;
    let result = result.expect("the request fails rather than hangs");
    assert!(result.is_err(), "{result:?}");
}
