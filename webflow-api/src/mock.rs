//! An in-process mock of Webflow's create-live-items endpoint on 127.0.0.1, for tests,
//! examples and trying the client without a token (feature `mock`).
//!
//! It behaves like the real endpoint where it matters to a client: it checks the bearer
//! token, validates and creates items (single or `{"items": [...]}`), refuses duplicate
//! slugs, sends `X-RateLimit-*` headers, and can enforce a per-minute rate limit on a
//! scaled clock. Faults (any status, body, headers or delay, before or after the items are
//! created) can be scripted per request. It records every request and every created item,
//! so a test can check that nothing was created twice.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), webflow_api::Error> {
//! use webflow_api::{Client, NewItem, mock::MockWebflow};
//! let mock = MockWebflow::start().await;
//! let client = Client::builder().token(webflow_api::ApiToken::new("test-token")?).base_url(mock.base_url()).build()?;
//! let item = client.create_live_item(MockWebflow::COLLECTION_ID, NewItem::new("Mug", "mug")).await?;
//! assert_eq!(mock.created_items().len(), 1);
//! assert_eq!(item.field_data.slug, "mug");
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Checks one new item (its JSON as sent); `Some(detail)` rejects the whole request with a
/// 400 `validation_error` whose `details` holds the detail.
pub type Validator = Arc<dyn Fn(&Value) -> Option<Value> + Send + Sync>;

/// A running mock. Dropping it stops the server.
pub struct MockWebflow {
    server: MockServer,
    state: Arc<Mutex<State>>,
}

/// Configures a [`MockWebflow`].
#[must_use]
pub struct MockWebflowBuilder {
    config: Config,
}

#[derive(Clone)]
struct Config {
    record: bool,
    rate_limit: Option<u32>,
    advertised_limit: u32,
    time_scale: f64,
    max_items_per_request: usize,
    validator: Option<Validator>,
    random_throttle: Option<(f64, u64)>,
}

/// A scripted answer that replaces the normal one for a request.
#[derive(Clone, Debug)]
pub struct Fault {
    response: MockResponse,
    process_first: bool,
}

impl Fault {
    /// Answer with `response` instead of processing the request: nothing is created (as with a 429 or a refused request).
    pub fn instead(response: MockResponse) -> Fault {
        Fault {
            response,
            process_first: false,
        }
    }

    /// Create the items as usual, then answer with `response` instead (a 500 or a timeout
    /// after the work was done: the client cannot know the items exist).
    pub fn after_processing(response: MockResponse) -> Fault {
        Fault {
            response,
            process_first: true,
        }
    }

    /// Create the items and answer normally, but only after `delay` (a slow server).
    pub fn slow(delay: Duration) -> Fault {
        Fault {
            response: MockResponse::normal().delay(delay),
            process_first: true,
        }
    }
}

/// A response the mock sends: a status, headers, a body and an optional delay.
#[derive(Clone, Debug)]
pub struct MockResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    delay: Option<Duration>,
}

impl MockResponse {
    /// A response with `status` and an empty body.
    pub fn status(status: u16) -> MockResponse {
        MockResponse {
            status,
            headers: Vec::new(),
            body: Some(Vec::new()),
            delay: None,
        }
    }

    /// The answer the mock would have sent anyway (used with a delay).
    fn normal() -> MockResponse {
        MockResponse {
            status: 0,
            headers: Vec::new(),
            body: None,
            delay: None,
        }
    }

    /// A Webflow error body `{code, message, externalReference: null, details}` with `status`.
    pub fn webflow_error(status: u16, code: &str, message: &str, details: Value) -> MockResponse {
        let body = json!({"code": code, "message": message, "externalReference": null, "details": details});
        MockResponse::status(status).json(&body)
    }

    /// The body, as JSON.
    pub fn json(mut self, body: &Value) -> MockResponse {
        self.body = Some(serde_json::to_vec(body).expect("a JSON value serializes"));
        self.header("content-type", "application/json")
    }

    /// The body, as raw bytes (HTML, truncated JSON, ...).
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> MockResponse {
        self.body = Some(body.into());
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> MockResponse {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Delays the whole answer.
    pub fn delay(mut self, delay: Duration) -> MockResponse {
        self.delay = Some(delay);
        self
    }
}

/// One request the mock received.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ReceivedRequest {
    /// 1-based arrival order.
    pub number: u64,
    /// `POST`.
    pub method: String,
    /// The URL path, e.g. `/v2/collections/…/items/live`.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// Header names (lower case) and values, sorted by name; `authorization` included.
    pub headers: BTreeMap<String, String>,
    /// The body as JSON (`Value::Null` if it was not JSON).
    pub body: Value,
    /// The status the mock answered with.
    pub status: u16,
}

/// One item the mock created.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CreatedItem {
    /// The collection it was created in.
    pub collection_id: String,
    /// The item as the mock returned it (with `id`, timestamps and `fieldData`).
    pub item: Value,
    /// The request that created it.
    pub request_number: u64,
}

impl CreatedItem {
    /// The item's `fieldData.slug`.
    pub fn slug(&self) -> &str {
        self.item["fieldData"]["slug"].as_str().unwrap_or_default()
    }
}

/// A fault for the first request whose body matches.
type BodyMatcher = Box<dyn Fn(&Value) -> bool + Send + Sync>;

#[derive(Default)]
struct State {
    requests: Vec<ReceivedRequest>,
    request_count: u64,
    created: Vec<CreatedItem>,
    created_count: u64,
    slugs: HashSet<(String, String)>,
    faults_by_number: HashMap<u64, Fault>,
    faults_queue: VecDeque<Fault>,
    faults_by_body: Vec<(BodyMatcher, Fault)>,
    window_start: Option<Instant>,
    window_count: u32,
    throttled: u64,
    rng: u64,
}

impl MockWebflow {
    /// The collection id used by examples and tests (any id is accepted).
    pub const COLLECTION_ID: &'static str = "6520d7b1a3c4e5f60718293a";

    /// A mock with no rate limit enforced (it still advertises `X-RateLimit-Limit: 120`).
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
                time_scale: 1.0,
                max_items_per_request: 100,
                validator: None,
                random_throttle: None,
            },
        }
    }

    /// The base URL to give the client: `http://127.0.0.1:<port>/v2`.
    pub fn base_url(&self) -> String {
        format!("{}/v2", self.server.uri())
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.lock().requests.clone()
    }

    /// Every item created so far, in creation order (empty when not recording).
    pub fn created_items(&self) -> Vec<CreatedItem> {
        self.lock().created.clone()
    }

    /// How many requests arrived (counted even when not recording).
    pub fn request_count(&self) -> u64 {
        self.lock().request_count
    }

    /// How many items were created (counted even when not recording).
    pub fn created_count(&self) -> u64 {
        self.lock().created_count
    }

    /// How many requests were answered 429 by the rate limit (not by scripted faults).
    pub fn throttled(&self) -> u64 {
        self.lock().throttled
    }

    /// Replaces the answer to the `number`-th request (1-based, counting every request).
    pub fn fault_on_request(&self, number: u64, fault: Fault) {
        self.lock().faults_by_number.insert(number, fault);
    }

    /// Replaces the answer to the next request that has no other scripted fault; several
    /// calls queue up.
    pub fn push_fault(&self, fault: Fault) {
        self.lock().faults_queue.push_back(fault);
    }

    /// Replaces the answer to the first request whose JSON body satisfies `matches` (for
    /// example, the bulk request that holds a given slug).
    pub fn fault_when(
        &self,
        matches: impl Fn(&Value) -> bool + Send + Sync + 'static,
        fault: Fault,
    ) {
        self.lock().faults_by_body.push((Box::new(matches), fault));
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl fmt::Debug for MockWebflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockWebflow")
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

impl MockWebflowBuilder {
    /// Enforces `requests_per_minute` (per mock minute, see [`time_scale`](Self::time_scale)):
    /// fixed one-minute windows; a request over the limit gets a 429 with `Retry-After`
    /// (whole seconds of mock time until the window ends) and creates nothing.
    pub fn rate_limit(mut self, requests_per_minute: u32) -> Self {
        self.config.rate_limit = Some(requests_per_minute);
        self.config.advertised_limit = requests_per_minute;
        self
    }

    /// Runs the mock's clock `scale` times faster than real time: with 100.0 a mock minute
    /// lasts 0.6 s, and `Retry-After: 60` means 0.6 s of real time. Pair it with a client
    /// whose clock has the same scale (`webflow_api::time::ScaledClock`).
    pub fn time_scale(mut self, scale: f64) -> Self {
        assert!(
            scale.is_finite() && scale > 0.0,
            "time scale must be positive"
        );
        self.config.time_scale = scale;
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

    /// Keeps only counters: no request log, no list of created items, no duplicate-slug
    /// check. For long runs where the mock's own memory must stay flat (benchmarks).
    pub fn without_recording(mut self) -> Self {
        self.config.record = false;
        self
    }

    /// Starts the server on 127.0.0.1 on a free port.
    pub async fn start(self) -> MockWebflow {
        let mut server = MockServer::builder();
        if !self.config.record {
            server = server.disable_request_recording();
        }
        let server = server.start().await;
        let rng = self
            .config
            .random_throttle
            .map_or(0, |(_, seed)| seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let state = Arc::new(Mutex::new(State {
            rng,
            ..State::default()
        }));
        Mock::given(method("POST"))
            .and(path_regex(r"/collections/[^/]+/items/live$"))
            .respond_with(Responder {
                config: self.config,
                state: state.clone(),
            })
            .mount(&server)
            .await;
        MockWebflow { server, state }
    }
}

struct Responder {
    config: Config,
    state: Arc<Mutex<State>>,
}

/// A timestamp in Webflow's format; fixed so that snapshots are stable.
const MOCK_TIMESTAMP: &str = "2026-01-01T00:00:00.000Z";

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.request_count += 1;
        let number = state.request_count;
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let received = ReceivedRequest {
            number,
            method: request.method.to_string(),
            path: request.url.path().to_owned(),
            query: request.url.query().map(str::to_owned),
            headers: request
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: if self.config.record {
                body.clone()
            } else {
                Value::Null
            },
            status: 0,
        };
        if self.config.record {
            state.requests.push(received);
        }

        let by_body = state
            .faults_by_body
            .iter()
            .position(|(matches, _)| matches(&body));
        let fault = match (state.faults_by_number.remove(&number), by_body) {
            (Some(fault), _) => Some(fault),
            (None, Some(position)) => Some(state.faults_by_body.remove(position).1),
            (None, None) => state.faults_queue.pop_front(),
        };
        let answer = match fault {
            Some(Fault {
                response,
                process_first: false,
            }) => response,
            Some(Fault {
                response,
                process_first: true,
            }) => {
                let normal = self.process(&mut state, &body, request, number);
                if response.status == 0 {
                    MockResponse {
                        delay: response.delay,
                        ..normal
                    }
                } else {
                    response
                }
            }
            None => self.process(&mut state, &body, request, number),
        };
        if let Some(last) = state.requests.last_mut().filter(|_| self.config.record) {
            last.status = answer.status;
        }
        let remaining = self.remaining(&state);
        drop(state);
        to_template(answer, self.config.advertised_limit, remaining)
    }
}

impl Responder {
    /// The mock's clock, `time_scale` times faster than real time.
    fn mock_elapsed(&self, since: Instant) -> Duration {
        since.elapsed().mul_f64(self.config.time_scale)
    }

    fn remaining(&self, state: &State) -> u32 {
        let limit = self
            .config
            .rate_limit
            .unwrap_or(self.config.advertised_limit);
        limit.saturating_sub(state.window_count)
    }

    /// The normal answer: rate limit, authentication, validation, then creation.
    fn process(
        &self,
        state: &mut State,
        body: &Value,
        request: &Request,
        number: u64,
    ) -> MockResponse {
        // Rate limit (fixed windows of one mock minute).
        let now = Instant::now();
        let start = *state.window_start.get_or_insert(now);
        let elapsed = self.mock_elapsed(start);
        if elapsed >= Duration::from_secs(60) {
            let windows = elapsed.as_secs() / 60;
            let advance = Duration::from_secs(windows * 60).div_f64(self.config.time_scale);
            state.window_start = Some(start + advance);
            state.window_count = 0;
        }
        if let Some(limit) = self.config.rate_limit
            && state.window_count >= limit
        {
            let window_left = Duration::from_secs(60)
                .saturating_sub(self.mock_elapsed(state.window_start.unwrap_or(now)));
            state.throttled += 1;
            return MockResponse::webflow_error(
                429,
                "too_many_requests",
                "Too Many Requests",
                json!([]),
            )
            .header(
                "retry-after",
                &window_left.as_secs_f64().ceil().max(1.0).to_string(),
            );
        }
        state.window_count += 1;
        if let Some((probability, _)) = self.config.random_throttle {
            // xorshift64*: deterministic for a seed.
            state.rng ^= state.rng >> 12;
            state.rng ^= state.rng << 25;
            state.rng ^= state.rng >> 27;
            let draw =
                (state.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64;
            if draw < probability {
                return MockResponse::webflow_error(
                    429,
                    "too_many_requests",
                    "Too Many Requests",
                    json!([]),
                )
                .header("retry-after", "1");
            }
        }

        let authorized = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|token| !token.trim().is_empty());
        if !authorized {
            return MockResponse::webflow_error(
                401,
                "not_authorized",
                "Request not authorized",
                json!([]),
            );
        }

        let collection_id = request
            .url
            .path_segments()
            .and_then(|segments| {
                let segments: Vec<&str> = segments.collect();
                segments
                    .iter()
                    .position(|s| *s == "collections")
                    .and_then(|i| segments.get(i + 1).map(|s| (*s).to_owned()))
            })
            .unwrap_or_default();
        if body.is_null() {
            return MockResponse::webflow_error(
                400,
                "bad_request",
                "Bad Request: Request is malformed",
                json!([]),
            );
        }
        let (items, bulk) = match body.get("items") {
            Some(Value::Array(items)) => (items.clone(), true),
            Some(_) => {
                return validation_error(
                    json!([{"param": "items", "description": "must be an array"}]),
                );
            }
            None => (vec![body.clone()], false),
        };
        if bulk && (items.is_empty() || items.len() > self.config.max_items_per_request) {
            return validation_error(json!([{
                "param": "items",
                "description": format!("must hold 1 to {} items", self.config.max_items_per_request),
            }]));
        }

        let mut details = Vec::new();
        let mut slugs_in_request = HashSet::new();
        for (index, item) in items.iter().enumerate() {
            let at = |field: &str| {
                if bulk {
                    format!("items[{index}].fieldData.{field}")
                } else {
                    format!("fieldData.{field}")
                }
            };
            for field in ["name", "slug"] {
                if item["fieldData"][field].as_str().is_none_or(str::is_empty) {
                    details.push(json!({"param": at(field), "description": "Field is required"}));
                }
            }
            if let Some(slug) = item["fieldData"]["slug"]
                .as_str()
                .filter(|_| self.config.record)
            {
                let taken = state
                    .slugs
                    .contains(&(collection_id.clone(), slug.to_owned()));
                if taken || !slugs_in_request.insert(slug.to_owned()) {
                    details.push(json!({
                        "param": at("slug"),
                        "description": format!("Unique value is already in database: '{slug}'"),
                    }));
                }
            }
            if let Some(detail) = self
                .config
                .validator
                .as_ref()
                .and_then(|validate| validate(item))
            {
                details.push(detail);
            }
        }
        if !details.is_empty() {
            return validation_error(Value::Array(details));
        }

        let mut created = Vec::with_capacity(items.len());
        for item in items {
            state.created_count += 1;
            let id = format!(
                "{:024x}",
                0x66a0_0000_0000_0000_0000_0000u128 + u128::from(state.created_count)
            );
            let value = json!({
                "id": id,
                "cmsLocaleId": item.get("cmsLocaleId").cloned().unwrap_or(Value::Null),
                "lastPublished": MOCK_TIMESTAMP,
                "lastUpdated": MOCK_TIMESTAMP,
                "createdOn": MOCK_TIMESTAMP,
                "isArchived": item.get("isArchived").cloned().unwrap_or(Value::Bool(false)),
                "isDraft": item.get("isDraft").cloned().unwrap_or(Value::Bool(false)),
                "fieldData": item["fieldData"],
            });
            if self.config.record {
                let slug = item["fieldData"]["slug"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                state.slugs.insert((collection_id.clone(), slug));
                state.created.push(CreatedItem {
                    collection_id: collection_id.clone(),
                    item: value.clone(),
                    request_number: number,
                });
            }
            created.push(value);
        }
        let body = if bulk {
            json!({ "items": created })
        } else {
            created.remove(0)
        };
        MockResponse::status(202).json(&body)
    }
}

fn validation_error(details: Value) -> MockResponse {
    MockResponse::webflow_error(400, "validation_error", "Validation Error", details)
}

fn to_template(answer: MockResponse, limit: u32, remaining: u32) -> ResponseTemplate {
    let mut template = ResponseTemplate::new(answer.status)
        .insert_header("x-ratelimit-limit", limit.to_string().as_str())
        .insert_header("x-ratelimit-remaining", remaining.to_string().as_str());
    for (name, value) in &answer.headers {
        template = template.insert_header(name.as_str(), value.as_str());
    }
    if let Some(body) = answer.body {
        template = template.set_body_bytes(body);
    }
    if let Some(delay) = answer.delay {
        template = template.set_delay(delay);
    }
    template
}
