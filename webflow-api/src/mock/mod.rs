//! An in-process mock of Webflow's CMS item endpoints on 127.0.0.1, for tests, examples and
//! trying the client without a token (feature `mock`).
//!
//! # What it models
//!
//! - **`POST /v2/collections/{id}/items/live`** (`create-item-live`): one item, or
//!   `{"items": [...]}` with 1 to [`max_items_per_request`](MockWebflowBuilder::max_items_per_request)
//!   items. It requires `fieldData.name` and `fieldData.slug`, runs an optional
//!   [`validator`](MockWebflowBuilder::validator), keeps slugs unique per collection and
//!   locale ([`DuplicateSlugs`]), and answers `202` with the created item(s) in request order.
//!   Any other field is stored as sent.
//! - **`GET /v2/collections/{id}/items`** (`list-collection-items`): filters `cmsLocaleId`
//!   (comma-separated), `name` and `slug` (exact), sorts by `sortBy`/`sortOrder`, pages with
//!   `offset`/`limit`, and answers `{"items": [...], "pagination": {"limit", "offset",
//!   "total"}}`, where `total` counts every item that matches the filters (not only the
//!   page). Without `sortBy` items come in creation order; ties are broken by creation
//!   order, reversed with `sortOrder=desc`, so every answer is deterministic. New items can
//!   show up late ([`visibility_lag`](MockWebflowBuilder::visibility_lag)), and a test can
//!   [`insert_items`](MockWebflow::insert_items) that existed before it started.
//! - **Authentication**: a `Bearer` token is required on every request; with
//!   [`token`](MockWebflowBuilder::token) only that one is accepted (any other gets a `401
//!   not_authorized`), otherwise any non-empty one is.
//! - **Rate limits**: `X-RateLimit-Limit` and `X-RateLimit-Remaining` on every answer; an
//!   optional per-minute [`rate_limit`](MockWebflowBuilder::rate_limit) over every request
//!   (GET and POST) as a token bucket (refilled continuously, as users report Webflow's
//!   budget behaves), and optional [`random_throttle`](MockWebflowBuilder::random_throttle)
//!   429s.
//! - **Time**: the rate-limit bucket, item timestamps and visibility run on a [`Clock`]
//!   ([`clock`](MockWebflowBuilder::clock)); share one [`ManualClock`](crate::time::ManualClock)
//!   with the client and the client's waits move the mock too. Timestamps read
//!   `2026-01-01T00:00:00.000Z` plus the mock time elapsed since the mock started, so they
//!   do not change while a manual clock stands still. Scripted delays are real time.
//! - **Faults**: any answer, before or after the work is done, a slow answer, or a
//!   connection closed without an answer ([`Fault`]), for a request picked by number, by
//!   order, by its body or by any part of it.
//! - **Records**: every request and every created item, with the slug asked for, so a test
//!   can prove that nothing was created twice ([`duplicates`](MockWebflow::duplicates)).
//!
//! Unknown paths and methods get a `404 resource_not_found`.
//!
//! # What it does not model
//!
//! Collection schemas (fields other than `name` and `slug` are not type-checked: use a
//! [`validator`](MockWebflowBuilder::validator)); whether a collection exists (any id is
//! accepted, an unknown one is empty); sites and locales (any `cmsLocaleId` is accepted);
//! updates, deletes, drafts and publishing (`isDraft`/`isArchived` are stored as sent);
//! files and `skipInvalidFiles`; scopes (`403`); per-token rate limits; `Retry-After` as an
//! HTTP-date (it sends seconds); TLS and HTTP/2 (plain HTTP/1.1). Unknown query parameters
//! are ignored. With [`without_recording`](MockWebflowBuilder::without_recording) it keeps
//! no items: no duplicate-slug check, no listing, no [`insert_items`](MockWebflow::insert_items).
//!
//! # Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), webflow_api::Error> {
//! use webflow_api::{ApiToken, Client, NewItem, mock::MockWebflow};
//! let mock = MockWebflow::builder().token(MockWebflow::TOKEN).start().await;
//! let client = Client::builder()
//!     .token(ApiToken::new(MockWebflow::TOKEN)?)
//!     .base_url(mock.base_url())
//!     .build()?;
//! let item = client.create_live_item(MockWebflow::COLLECTION_ID, NewItem::new("Mug", "mug")).await?;
//! assert_eq!(item.field_data.slug, "mug");
//! assert_eq!(mock.created_items().len(), 1);
//! assert!(mock.duplicates().is_empty(), "nothing was created twice");
//! # Ok(()) }
//! ```
//!
//! The server runs on the tokio runtime that started it, one task per connection, and stops
//! when the [`MockWebflow`] is dropped.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, MutexGuard};
use std::time::Duration;

use hyper::StatusCode;
use hyper::header::{HeaderName, HeaderValue};
use serde_json::{Value, json};
use tokio::task::AbortHandle;

use crate::time::{Clock, ScaledClock, SystemClock};

mod engine;
mod server;
mod timestamp;

use engine::{Config, Matcher, Shared, State};

/// Checks one new item (its JSON as sent); `Some(detail)` rejects the whole request with a
/// 400 `validation_error` whose `details` holds the detail.
pub type Validator = Arc<dyn Fn(&Value) -> Option<Value> + Send + Sync>;

/// A running mock. Dropping it stops the server (its tasks are aborted).
pub struct MockWebflow {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: AbortHandle,
}

/// Configures a [`MockWebflow`].
#[must_use]
pub struct MockWebflowBuilder {
    config: Config,
}

/// What a create does with a slug that is already taken in the collection and locale.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DuplicateSlugs {
    /// Refuse the whole request with a 400 `validation_error` whose details say
    /// `Unique value is already in database: '<slug>'` for each taken slug (param
    /// `fieldData.slug`, or `items[<index>].fieldData.slug` in a bulk create). The default.
    #[default]
    Refuse,
    /// Accept it and store the item under `<slug>-<5 lowercase hex chars>` (as Webflow has
    /// been seen to do, e.g. `example-1-e9f6b`), returned in the answer. The suffixes are
    /// deterministic for a given sequence of creates. The item is listed by
    /// [`MockWebflow::duplicates`].
    Suffix,
}

/// A scripted answer that replaces the normal one for a request.
#[derive(Clone, Debug)]
pub struct Fault {
    action: Action,
}

#[derive(Clone, Debug)]
enum Action {
    /// Answer this, process nothing.
    Instead(MockResponse),
    /// Process, then answer `replace` (or the normal answer), after `delay`.
    Process {
        replace: Option<MockResponse>,
        delay: Option<Duration>,
    },
    /// Close the connection without an answer, after processing or not.
    Drop { process: bool },
}

impl Fault {
    /// Answer with `response` instead of processing the request: nothing is created (as
    /// with a 429 or a refused request).
    pub fn instead(response: MockResponse) -> Fault {
        Fault {
            action: Action::Instead(response),
        }
    }

    /// Process the request as usual (create the items, or compute the page of a list), then
    /// answer with `response` instead (a 500 after the work was done: the client cannot
    /// know the items exist).
    pub fn after_processing(response: MockResponse) -> Fault {
        Fault {
            action: Action::Process {
                replace: Some(response),
                delay: None,
            },
        }
    }

    /// Process the request and answer normally, but only after `delay` of real time (a slow
    /// server; the client's per-attempt timeout is real time too).
    pub fn slow(delay: Duration) -> Fault {
        Fault {
            action: Action::Process {
                replace: None,
                delay: Some(delay),
            },
        }
    }

    /// Close the connection without answering and without processing anything: the request
    /// was received (and recorded, with status 0), nothing was created.
    pub fn drop_connection() -> Fault {
        Fault {
            action: Action::Drop { process: false },
        }
    }

    /// Process the request (create the items), then close the connection without
    /// answering: the client sees a transport error although the items exist. Recorded with
    /// status 0.
    pub fn drop_after_processing() -> Fault {
        Fault {
            action: Action::Drop { process: true },
        }
    }
}

/// A response the mock sends: a status, headers, a body and an optional delay.
#[derive(Clone, Debug)]
pub struct MockResponse {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Vec<u8>,
    delay: Option<Duration>,
}

impl MockResponse {
    /// A response with `status` and an empty body.
    ///
    /// # Panics
    /// If `status` is not in `100..=999`.
    pub fn status(status: u16) -> MockResponse {
        MockResponse {
            status: StatusCode::from_u16(status).expect("an HTTP status is in 100..=999"),
            headers: Vec::new(),
            body: Vec::new(),
            delay: None,
        }
    }

    /// A Webflow error body `{code, message, externalReference: null, details}` with `status`.
    pub fn webflow_error(status: u16, code: &str, message: &str, details: Value) -> MockResponse {
        let body = json!({"code": code, "message": message, "externalReference": null, "details": details});
        MockResponse::status(status).json(&body)
    }

    /// The body, as JSON (and `content-type: application/json`).
    pub fn json(mut self, body: &Value) -> MockResponse {
        self.body = serde_json::to_vec(body).expect("a JSON value serializes");
        self.header("content-type", "application/json")
    }

    /// The body, as raw bytes (HTML, truncated JSON, ...).
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> MockResponse {
        self.body = body.into();
        self
    }

    /// Adds a header; it replaces a header of the same name that the mock would send (such
    /// as `x-ratelimit-remaining`), and a later call with the same name replaces it.
    ///
    /// # Panics
    /// If `name` or `value` is not a valid header name or value.
    pub fn header(mut self, name: &str, value: &str) -> MockResponse {
        let name = HeaderName::from_bytes(name.as_bytes()).expect("a valid header name");
        let value = HeaderValue::from_str(value).expect("a valid header value");
        self.headers.push((name, value));
        self
    }

    /// Delays the whole answer, in real time.
    pub fn delay(mut self, delay: Duration) -> MockResponse {
        self.delay = Some(delay);
        self
    }
}

/// One request the mock received.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ReceivedRequest {
    /// 1-based arrival order, counting every request.
    pub number: u64,
    /// `GET`, `POST`, ...
    pub method: String,
    /// The URL path, e.g. `/v2/collections/…/items/live`.
    pub path: String,
    /// The query string, if any (as sent, not decoded).
    pub query: Option<String>,
    /// Header names (lower case) and values, sorted by name; `authorization` included.
    pub headers: BTreeMap<String, String>,
    /// The body as JSON (`Value::Null` if it was empty or not JSON).
    pub body: Value,
    /// The status the mock answered with; 0 if it closed the connection without answering
    /// (and while a [`fault_when_request`](MockWebflow::fault_when_request) matcher looks at
    /// it).
    pub status: u16,
}

/// One item the mock created.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CreatedItem {
    /// The collection it was created in.
    pub collection_id: String,
    /// The item as the mock answered it (with `id`, timestamps and `fieldData`, whose
    /// `slug` is the stored one).
    pub item: Value,
    /// The request that created it.
    pub request_number: u64,
    /// The slug the request asked for (it differs from [`slug`](Self::slug) when
    /// [`DuplicateSlugs::Suffix`] stored it under another one).
    pub requested_slug: String,
}

impl CreatedItem {
    /// The item's stored `fieldData.slug`.
    pub fn slug(&self) -> &str {
        self.item["fieldData"]["slug"].as_str().unwrap_or_default()
    }
}

impl MockWebflow {
    /// The collection id used by examples and tests (any id is accepted).
    pub const COLLECTION_ID: &'static str = "6520d7b1a3c4e5f60718293a";

    /// A token for examples and tests, to give both to the client and to
    /// [`MockWebflowBuilder::token`].
    pub const TOKEN: &'static str = "mock-token";

    /// A mock with the default settings: any non-empty bearer token, no rate limit enforced
    /// (it still advertises `X-RateLimit-Limit: 120`), duplicate slugs refused, real time.
    ///
    /// # Panics
    /// If no port can be bound on 127.0.0.1.
    pub async fn start() -> MockWebflow {
        MockWebflow::builder().start().await
    }

    /// Configures a mock before starting it.
    pub fn builder() -> MockWebflowBuilder {
        MockWebflowBuilder {
            config: Config {
                record: true,
                rate_limit: None,
                advertised_limit: 120,
                clock: Arc::new(SystemClock),
                max_items_per_request: 100,
                validator: None,
                random_throttle: None,
                token: None,
                duplicate_slugs: DuplicateSlugs::Refuse,
                visibility_lag: Duration::ZERO,
            },
        }
    }

    /// The base URL to give the client: `http://127.0.0.1:<port>/v2`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v2", self.addr)
    }

    /// Every request received so far, in arrival order (empty when not recording).
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.lock().requests.clone()
    }

    /// Every item created so far, in creation order (empty when not recording). Items added
    /// with [`insert_items`](Self::insert_items) are not included.
    pub fn created_items(&self) -> Vec<CreatedItem> {
        self.lock().created.clone()
    }

    /// The created items whose requested slug was already taken in the same collection and
    /// locale when they were created (only possible with [`DuplicateSlugs::Suffix`]):
    /// `mock.duplicates().is_empty()` proves nothing was created twice. Always empty when not
    /// recording.
    pub fn duplicates(&self) -> Vec<CreatedItem> {
        let state = self.lock();
        state
            .duplicates
            .iter()
            .map(|&index| state.created[index].clone())
            .collect()
    }

    /// How many requests arrived (counted even when not recording).
    pub fn request_count(&self) -> u64 {
        self.lock().request_count
    }

    /// How many items were created (counted even when not recording).
    pub fn created_count(&self) -> u64 {
        self.lock().created_count
    }

    /// How many requests were answered 429 by the rate limit or the random throttle (not by
    /// scripted faults).
    pub fn throttled(&self) -> u64 {
        self.lock().throttled
    }

    /// Replaces the answer to the `number`-th request (1-based, counting every request, GET
    /// or POST).
    pub fn fault_on_request(&self, number: u64, fault: Fault) {
        self.lock().faults_by_number.insert(number, fault);
    }

    /// Replaces the answer to the next request of any kind that has no other scripted
    /// fault; several calls queue up.
    pub fn push_fault(&self, fault: Fault) {
        self.lock().faults_queue.push_back(fault);
    }

    /// Replaces the answer to the first POST whose JSON body satisfies `matches` (for
    /// example, the bulk create that holds a given slug). Used once.
    ///
    /// `matches` runs while the mock's state is locked: it must not call the mock.
    pub fn fault_when(
        &self,
        matches: impl Fn(&Value) -> bool + Send + Sync + 'static,
        fault: Fault,
    ) {
        self.lock()
            .faults_by_match
            .push((Matcher::PostBody(Box::new(matches)), fault));
    }

    /// Replaces the answer to the first request (any method) that satisfies `matches`,
    /// which sees its number, method, path, query, headers and body (its `status` is still
    /// 0). Used once. Faults by number come first, then these and [`fault_when`](Self::fault_when)
    /// in the order they were added, then the queue of [`push_fault`](Self::push_fault).
    ///
    /// `matches` runs while the mock's state is locked: it must not call the mock.
    pub fn fault_when_request(
        &self,
        matches: impl Fn(&ReceivedRequest) -> bool + Send + Sync + 'static,
        fault: Fault,
    ) {
        self.lock()
            .faults_by_match
            .push((Matcher::Request(Box::new(matches)), fault));
    }

    /// Adds items to `collection_id` as if they had been created before the test: visible
    /// in lists at once, occupying their slugs, but neither counted as requests nor listed
    /// in [`created_items`](Self::created_items). Each item is
    /// `{"fieldData": {"name", "slug", ...}, "cmsLocaleId"?, "isDraft"?, "isArchived"?}`,
    /// and may set `createdOn`, `lastUpdated` and `lastPublished` (strings in Webflow's
    /// format; by default the mock's current time). Slugs are stored as given, even if
    /// taken, so a test can model a collection that already holds duplicates. Returns the
    /// new ids, in order.
    ///
    /// # Panics
    /// If an item has no string `fieldData.name` or `fieldData.slug`, or if the mock was
    /// started [`without_recording`](MockWebflowBuilder::without_recording).
    pub fn insert_items(
        &self,
        collection_id: &str,
        items: impl IntoIterator<Item = Value>,
    ) -> Vec<String> {
        assert!(
            self.shared.config.record,
            "insert_items needs a mock that records (not started without_recording)"
        );
        let mut state = self.lock();
        let now = self.shared.elapsed();
        items
            .into_iter()
            .map(|item| state.insert(collection_id, item, now))
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.lock()
    }
}

impl Drop for MockWebflow {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl fmt::Debug for MockWebflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockWebflow")
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for MockWebflowBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = &self.config;
        f.debug_struct("MockWebflowBuilder")
            .field("record", &config.record)
            .field("rate_limit", &config.rate_limit)
            .field("clock", &config.clock)
            .field("token", &config.token.as_ref().map(|_| "[REDACTED]"))
            .field("duplicate_slugs", &config.duplicate_slugs)
            .field("visibility_lag", &config.visibility_lag)
            .finish_non_exhaustive()
    }
}

impl MockWebflowBuilder {
    /// Enforces `requests_per_minute` over every request (GET and POST), per minute of the
    /// mock's [`clock`](Self::clock), as a token bucket: `requests_per_minute` requests,
    /// refilled at that rate continuously; a
    /// request over the limit gets a 429 with `Retry-After` (whole seconds of mock time
    /// until a request is back, at least 1) and is not processed. Also advertised as
    /// `X-RateLimit-Limit`.
    pub fn rate_limit(mut self, requests_per_minute: u32) -> Self {
        self.config.rate_limit = Some(requests_per_minute);
        self.config.advertised_limit = requests_per_minute;
        self
    }

    /// The clock behind the rate-limit bucket, item timestamps and visibility (default:
    /// real time). Give the client a clone of the same clock: with a
    /// [`ManualClock`](crate::time::ManualClock) the client's waits advance the mock's time
    /// too, and timestamps stay put while nothing waits. Scripted delays stay real time.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.config.clock = Arc::new(clock);
        self
    }

    /// Shorthand for `clock(ScaledClock::new(scale))`: the mock's time runs `scale` times
    /// faster than real time; with 100.0 a mock minute lasts 0.6 s, and `Retry-After: 60`
    /// means 0.6 s of real time. Pair it with a client whose clock has the same scale.
    ///
    /// # Panics
    /// If `scale` is not a positive finite number.
    pub fn time_scale(self, scale: f64) -> Self {
        assert!(
            scale.is_finite() && scale > 0.0,
            "time scale must be positive"
        );
        self.clock(ScaledClock::new(scale))
    }

    /// Accepts only `Authorization: Bearer <token>`: any other token, or none, gets a 401
    /// `not_authorized` on every request. Without it, any non-empty bearer token is
    /// accepted (and a missing or empty one gets the 401).
    pub fn token(mut self, token: &str) -> Self {
        self.config.token = Some(token.to_owned());
        self
    }

    /// What a create does with a slug already taken in the collection and locale (default
    /// [`DuplicateSlugs::Refuse`]).
    pub fn duplicate_slugs(mut self, policy: DuplicateSlugs) -> Self {
        self.config.duplicate_slugs = policy;
        self
    }

    /// An item created at mock time `t` appears in lists (and counts in their `total`) only
    /// from `t + lag` on the mock's clock, as in an eventually consistent index. Create
    /// answers, [`MockWebflow::created_items`] and the duplicate-slug check see it at once.
    /// Default zero.
    pub fn visibility_lag(mut self, lag: Duration) -> Self {
        self.config.visibility_lag = lag;
        self
    }

    /// The most items one request may carry (default 100); more gets a 400.
    pub fn max_items_per_request(mut self, max: usize) -> Self {
        self.config.max_items_per_request = max;
        self
    }

    /// An extra check on each new item; a `Some(detail)` rejects the whole request with a
    /// 400 `validation_error` whose `details` lists one detail per rejected item.
    pub fn validator(
        mut self,
        validator: impl Fn(&Value) -> Option<Value> + Send + Sync + 'static,
    ) -> Self {
        self.config.validator = Some(Arc::new(validator));
        self
    }

    /// Answers a random share (`probability`) of requests with a 429 (`Retry-After: 1`),
    /// from a seeded generator so runs repeat.
    pub fn random_throttle(mut self, probability: f64, seed: u64) -> Self {
        self.config.random_throttle = Some((probability, seed));
        self
    }

    /// Keeps only counters, so the mock's memory stays flat over long runs (benchmarks): no
    /// request log, no created items, no slug index. So there is no duplicate-slug check (in
    /// either [`DuplicateSlugs`] mode), lists answer `501 not_implemented`, and
    /// [`MockWebflow::insert_items`] panics.
    pub fn without_recording(mut self) -> Self {
        self.config.record = false;
        self
    }

    /// Starts the server on 127.0.0.1 on a free port, on the current tokio runtime.
    ///
    /// # Panics
    /// If no port can be bound on 127.0.0.1, or outside a tokio runtime.
    pub async fn start(self) -> MockWebflow {
        let shared = Arc::new(Shared::new(self.config));
        let (addr, server) = server::spawn(shared.clone()).await;
        MockWebflow {
            addr,
            shared,
            server,
        }
    }
}
