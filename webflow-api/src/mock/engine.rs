//! What the mock answers: the state behind the server and the handling of one request,
//! free of any HTTP plumbing (see `server.rs`). Everything runs under one mutex that is
//! never held across an await.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hyper::header::{HeaderName, HeaderValue};
use serde_json::{Value, json};

use super::{
    Action, CreatedItem, DuplicateSlugs, Fault, MockResponse, ReceivedRequest, Validator, timestamp,
};
use crate::time::Clock;

/// The builder's settings.
pub(super) struct Config {
    pub(super) record: bool,
    pub(super) rate_limit: Option<u32>,
    pub(super) advertised_limit: u32,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) max_items_per_request: usize,
    pub(super) validator: Option<Validator>,
    pub(super) random_throttle: Option<(f64, u64)>,
    pub(super) token: Option<String>,
    pub(super) duplicate_slugs: DuplicateSlugs,
    pub(super) visibility_lag: Duration,
}

/// Picks the request a scripted fault applies to.
pub(super) enum Matcher {
    /// A POST whose JSON body satisfies the function.
    PostBody(Box<dyn Fn(&Value) -> bool + Send + Sync>),
    /// Any request that satisfies the function.
    Request(Box<dyn Fn(&ReceivedRequest) -> bool + Send + Sync>),
}

impl Matcher {
    fn matches(&self, request: &ReceivedRequest) -> bool {
        match self {
            Matcher::PostBody(matches) => request.method == "POST" && matches(&request.body),
            Matcher::Request(matches) => matches(request),
        }
    }
}

/// An item of a collection, as lists see it.
struct StoredItem {
    /// Creation order across the whole mock (inserted items included).
    sequence: u64,
    /// Mock time from which lists show it.
    visible_from: Duration,
    locale: Option<String>,
    /// The item as answered.
    item: Value,
}

/// (collection id, cmsLocaleId, slug): slugs are unique per collection and locale.
type SlugKey = (String, Option<String>, String);

/// Everything the mock remembers.
#[derive(Default)]
pub(super) struct State {
    pub(super) requests: Vec<ReceivedRequest>,
    pub(super) request_count: u64,
    pub(super) created: Vec<CreatedItem>,
    pub(super) created_count: u64,
    /// Indices in `created` of the items created under a slug that was taken.
    pub(super) duplicates: Vec<usize>,
    pub(super) throttled: u64,
    pub(super) faults_by_number: HashMap<u64, Fault>,
    pub(super) faults_queue: VecDeque<Fault>,
    pub(super) faults_by_match: Vec<(Matcher, Fault)>,
    collections: HashMap<String, Vec<StoredItem>>,
    slugs: HashSet<SlugKey>,
    sequence: u64,
    suffixes: u64,
    /// The rate-limit bucket: whole and partial requests left, and the mock time it was
    /// last refilled at (`None` before the first request: full).
    tokens: f64,
    refilled_at: Option<Duration>,
    rng: u64,
}

/// The state and settings shared by the server's tasks and the `MockWebflow` handle.
pub(super) struct Shared {
    pub(super) config: Config,
    /// The mock clock's reading when the mock started.
    started: Instant,
    state: Mutex<State>,
}

/// What the server does with a request.
pub(super) enum Reply {
    /// Send this answer (after its delay), with the headers in order: a later header
    /// replaces an earlier one of the same name.
    Answer(MockResponse),
    /// Close the connection without answering.
    Drop,
}

impl Shared {
    pub(super) fn new(config: Config) -> Shared {
        let rng = config
            .random_throttle
            .map_or(0, |(_, seed)| seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        Shared {
            started: config.clock.now(),
            config,
            state: Mutex::new(State {
                rng,
                ..State::default()
            }),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Mock time since the mock started.
    pub(super) fn elapsed(&self) -> Duration {
        self.config
            .clock
            .now()
            .saturating_duration_since(self.started)
    }

    /// Handles one request (its `number` and `status` are filled in here).
    pub(super) fn respond(&self, mut request: ReceivedRequest) -> Reply {
        let mut state = self.lock();
        // Read under the lock, so creation order and timestamps agree.
        let now = self.elapsed();
        state.request_count += 1;
        request.number = state.request_count;
        let action = match state.take_fault(&request) {
            Some(fault) => fault.action,
            None => Action::Process {
                replace: None,
                delay: None,
            },
        };
        let answer = match action {
            Action::Instead(response) => Some(response),
            Action::Process { replace, delay } => {
                let normal = self.process(&mut state, &request, now);
                let mut answer = replace.unwrap_or(normal);
                if delay.is_some() {
                    answer.delay = delay;
                }
                Some(answer)
            }
            Action::Drop { process } => {
                if process {
                    self.process(&mut state, &request, now);
                }
                None
            }
        };
        request.status = answer.as_ref().map_or(0, |answer| answer.status.as_u16());
        if self.config.record {
            state.requests.push(request);
        }
        let Some(mut answer) = answer else {
            return Reply::Drop;
        };
        let limit = self
            .config
            .rate_limit
            .unwrap_or(self.config.advertised_limit);
        let remaining = state.tokens.max(0.0).floor() as u32;
        // The server's clock, as the items' timestamps read it.
        let date = httpdate::fmt_http_date(timestamp::system_time(now));
        let mut headers = vec![
            (
                HeaderName::from_static("date"),
                HeaderValue::from_str(&date).expect("an HTTP date is a header value"),
            ),
            (
                HeaderName::from_static("x-ratelimit-limit"),
                HeaderValue::from(limit),
            ),
            (
                HeaderName::from_static("x-ratelimit-remaining"),
                HeaderValue::from(remaining),
            ),
        ];
        headers.append(&mut answer.headers);
        answer.headers = headers;
        Reply::Answer(answer)
    }

    /// The normal answer: rate limit, authentication, then the operation.
    fn process(&self, state: &mut State, request: &ReceivedRequest, now: Duration) -> MockResponse {
        if let Some(refused) = self.rate_limit(state, now) {
            return refused;
        }
        if !self.authorized(request) {
            return MockResponse::webflow_error(
                401,
                "not_authorized",
                "Request not authorized",
                json!([]),
            );
        }
        let segments: Vec<&str> = request
            .path
            .strip_prefix("/v2/")
            .map(|path| path.split('/').collect())
            .unwrap_or_default();
        match (request.method.as_str(), segments.as_slice()) {
            ("POST", ["collections", id, "items", "live"]) if !id.is_empty() => {
                self.create(state, id, request, now)
            }
            ("GET", ["collections", id, "items"]) if !id.is_empty() => {
                self.list(state, id, request.query.as_deref(), now)
            }
            _ => MockResponse::webflow_error(
                404,
                "resource_not_found",
                "Requested resource not found",
                json!([]),
            ),
        }
    }

    /// A token bucket of `limit` requests, refilled `limit` per mock minute, continuously
    /// (as users report Webflow's budget behaves); enforced only with a configured rate
    /// limit. `None` lets the request through (and takes its token).
    fn rate_limit(&self, state: &mut State, now: Duration) -> Option<MockResponse> {
        let limit = f64::from(
            self.config
                .rate_limit
                .unwrap_or(self.config.advertised_limit)
                .max(1),
        );
        let per_second = limit / 60.0;
        let tokens = match state.refilled_at {
            None => limit,
            Some(at) => {
                (state.tokens + now.saturating_sub(at).as_secs_f64() * per_second).min(limit)
            }
        };
        state.tokens = tokens;
        state.refilled_at = Some(now.max(state.refilled_at.unwrap_or_default()));
        if self.config.rate_limit.is_some() && tokens < 1.0 {
            state.throttled += 1;
            let wait = ((1.0 - tokens) / per_second).ceil().max(1.0) as u64;
            return Some(too_many_requests(wait));
        }
        state.tokens = (tokens - 1.0).max(0.0);
        if let Some((probability, _)) = self.config.random_throttle {
            // xorshift64*: deterministic for a seed.
            state.rng ^= state.rng >> 12;
            state.rng ^= state.rng << 25;
            state.rng ^= state.rng >> 27;
            let draw =
                (state.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64;
            if draw < probability {
                state.throttled += 1;
                return Some(too_many_requests(1));
            }
        }
        None
    }

    fn authorized(&self, request: &ReceivedRequest) -> bool {
        let bearer = request
            .headers
            .get("authorization")
            .and_then(|value| value.strip_prefix("Bearer "));
        match &self.config.token {
            Some(token) => bearer == Some(token.as_str()),
            None => bearer.is_some_and(|token| !token.trim().is_empty()),
        }
    }

    /// `create-item-live`: validate every item, then create them all, or none.
    fn create(
        &self,
        state: &mut State,
        collection_id: &str,
        request: &ReceivedRequest,
        now: Duration,
    ) -> MockResponse {
        let body = &request.body;
        if body.is_null() {
            return MockResponse::webflow_error(
                400,
                "bad_request",
                "Bad Request: Request is malformed",
                json!([]),
            );
        }
        let (items, bulk) = match body.get("items") {
            Some(Value::Array(items)) => (items.as_slice(), true),
            Some(_) => {
                return validation_error(
                    json!([{"param": "items", "description": "must be an array"}]),
                );
            }
            None => (std::slice::from_ref(body), false),
        };
        let max = self.config.max_items_per_request;
        if bulk && (items.is_empty() || items.len() > max) {
            return validation_error(json!([{
                "param": "items",
                "description": format!("must hold 1 to {max} items"),
            }]));
        }

        let refuse_taken =
            self.config.record && self.config.duplicate_slugs == DuplicateSlugs::Refuse;
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
            if refuse_taken && let Some(slug) = item["fieldData"]["slug"].as_str() {
                let key = slug_key(collection_id, item, slug);
                if state.slugs.contains(&key) || !slugs_in_request.insert(key) {
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

        let mut created: Vec<Value> = items
            .iter()
            .map(|item| state.create(&self.config, collection_id, item, request.number, now))
            .collect();
        let body = if bulk {
            json!({ "items": created })
        } else {
            created.remove(0)
        };
        MockResponse::status(202).json(&body)
    }

    /// `list-collection-items`: one page of the visible items that match the filters.
    fn list(
        &self,
        state: &State,
        collection_id: &str,
        query: Option<&str>,
        now: Duration,
    ) -> MockResponse {
        if !self.config.record {
            return MockResponse::webflow_error(
                501,
                "not_implemented",
                "This mock was started without recording: it keeps no items to list",
                json!([]),
            );
        }
        let params = match ListParams::parse(query) {
            Ok(params) => params,
            Err(details) => return validation_error(Value::Array(details)),
        };
        let mut matching: Vec<&StoredItem> = state
            .collections
            .get(collection_id)
            .map(|items| {
                items
                    .iter()
                    .filter(|stored| stored.visible_from <= now && params.matches(stored))
                    .collect()
            })
            .unwrap_or_default();
        matching.sort_by(|a, b| {
            let order = params.compare(a, b);
            if params.descending {
                order.reverse()
            } else {
                order
            }
        });
        let total = matching.len();
        let items: Vec<&Value> = matching
            .iter()
            .skip(params.offset)
            .take(params.limit)
            .map(|stored| &stored.item)
            .collect();
        MockResponse::status(200).json(&json!({
            "items": items,
            "pagination": {"limit": params.limit, "offset": params.offset, "total": total},
        }))
    }
}

impl State {
    /// The fault for this request, if any: by number, then by matcher, then the queue.
    fn take_fault(&mut self, request: &ReceivedRequest) -> Option<Fault> {
        if let Some(fault) = self.faults_by_number.remove(&request.number) {
            return Some(fault);
        }
        if let Some(position) = self
            .faults_by_match
            .iter()
            .position(|(matcher, _)| matcher.matches(request))
        {
            return Some(self.faults_by_match.remove(position).1);
        }
        self.faults_queue.pop_front()
    }

    /// Creates one validated item and returns it as answered.
    fn create(
        &mut self,
        config: &Config,
        collection_id: &str,
        item: &Value,
        request_number: u64,
        now: Duration,
    ) -> Value {
        self.created_count += 1;
        self.sequence += 1;
        let requested_slug = item["fieldData"]["slug"].as_str().unwrap_or_default();
        let mut field_data = item["fieldData"].clone();
        let id = id_for(self.sequence);
        let stamp = timestamp::format(now);
        let answered = |field_data: Value| {
            json!({
                "id": id,
                "cmsLocaleId": item.get("cmsLocaleId").cloned().unwrap_or(Value::Null),
                "lastPublished": stamp,
                "lastUpdated": stamp,
                "createdOn": stamp,
                "isArchived": item.get("isArchived").cloned().unwrap_or(Value::Bool(false)),
                "isDraft": item.get("isDraft").cloned().unwrap_or(Value::Bool(false)),
                "fieldData": field_data,
            })
        };
        if !config.record {
            return answered(field_data);
        }
        let key = slug_key(collection_id, item, requested_slug);
        let duplicate = self.slugs.contains(&key);
        let key = if duplicate {
            let (collection, locale, slug) = key;
            let stored = self.free_suffixed_slug(&collection, &locale, &slug);
            field_data["slug"] = Value::String(stored.clone());
            (collection, locale, stored)
        } else {
            key
        };
        let value = answered(field_data);
        let locale = key.1.clone();
        self.slugs.insert(key);
        self.collections
            .entry(collection_id.to_owned())
            .or_default()
            .push(StoredItem {
                sequence: self.sequence,
                visible_from: now + config.visibility_lag,
                locale,
                item: value.clone(),
            });
        if duplicate {
            self.duplicates.push(self.created.len());
        }
        self.created.push(CreatedItem {
            collection_id: collection_id.to_owned(),
            item: value.clone(),
            request_number,
            requested_slug: requested_slug.to_owned(),
        });
        value
    }

    /// `<slug>-<5 lowercase hex chars>`, free in the collection and locale; deterministic
    /// for a sequence of calls.
    fn free_suffixed_slug(
        &mut self,
        collection: &str,
        locale: &Option<String>,
        slug: &str,
    ) -> String {
        loop {
            self.suffixes += 1;
            let suffix = splitmix64(self.suffixes) & 0xF_FFFF;
            let candidate = format!("{slug}-{suffix:05x}");
            let key = (collection.to_owned(), locale.clone(), candidate);
            if !self.slugs.contains(&key) {
                return key.2;
            }
        }
    }

    /// Stores an item that existed before the test (`MockWebflow::insert_items`).
    pub(super) fn insert(&mut self, collection_id: &str, item: Value, now: Duration) -> String {
        let field = |name: &str| {
            item["fieldData"][name]
                .as_str()
                .unwrap_or_else(|| panic!("insert_items: an item needs a string fieldData.{name}"))
                .to_owned()
        };
        field("name");
        let slug = field("slug");
        self.sequence += 1;
        let id = id_for(self.sequence);
        let stamp = timestamp::format(now);
        let time = |name: &str| {
            item.get(name)
                .filter(|v| v.is_string())
                .cloned()
                .unwrap_or_else(|| Value::String(stamp.clone()))
        };
        let value = json!({
            "id": id,
            "cmsLocaleId": item.get("cmsLocaleId").cloned().unwrap_or(Value::Null),
            "lastPublished": time("lastPublished"),
            "lastUpdated": time("lastUpdated"),
            "createdOn": time("createdOn"),
            "isArchived": item.get("isArchived").cloned().unwrap_or(Value::Bool(false)),
            "isDraft": item.get("isDraft").cloned().unwrap_or(Value::Bool(false)),
            "fieldData": item["fieldData"],
        });
        let key = slug_key(collection_id, &item, &slug);
        let locale = key.1.clone();
        self.slugs.insert(key);
        self.collections
            .entry(collection_id.to_owned())
            .or_default()
            .push(StoredItem {
                sequence: self.sequence,
                visible_from: Duration::ZERO,
                locale,
                item: value,
            });
        id
    }
}

/// The query of a list request.
struct ListParams {
    locales: Option<Vec<String>>,
    offset: usize,
    limit: usize,
    name: Option<String>,
    slug: Option<String>,
    sort_by: Option<SortBy>,
    descending: bool,
}

#[derive(Clone, Copy)]
enum SortBy {
    CreatedOn,
    LastPublished,
    LastUpdated,
    Name,
    Slug,
}

impl ListParams {
    /// Parses the query; an empty value counts as absent, unknown parameters are ignored,
    /// and invalid values give one `{param, description}` detail each.
    fn parse(query: Option<&str>) -> Result<ListParams, Vec<Value>> {
        let mut params = ListParams {
            locales: None,
            offset: 0,
            limit: 100,
            name: None,
            slug: None,
            sort_by: None,
            descending: false,
        };
        let mut details = Vec::new();
        let mut invalid = |param: &str, description: &str| {
            details.push(json!({"param": param, "description": description}));
        };
        for (key, value) in query_pairs(query.unwrap_or_default()) {
            if value.is_empty() {
                continue;
            }
            match key.as_str() {
                "cmsLocaleId" => {
                    params.locales = Some(
                        value
                            .split(',')
                            .map(str::trim)
                            .filter(|locale| !locale.is_empty())
                            .map(str::to_owned)
                            .collect(),
                    );
                }
                "offset" => match value.parse::<usize>() {
                    Ok(offset) => params.offset = offset,
                    Err(_) => invalid("offset", "Must be an integer of 0 or more"),
                },
                "limit" => match value.parse::<usize>() {
                    Ok(limit @ 1..=100) => params.limit = limit,
                    _ => invalid("limit", "Must be an integer from 1 to 100"),
                },
                "name" => params.name = Some(value),
                "slug" => params.slug = Some(value),
                "sortBy" => match value.as_str() {
                    "createdOn" => params.sort_by = Some(SortBy::CreatedOn),
                    "lastPublished" => params.sort_by = Some(SortBy::LastPublished),
                    "lastUpdated" => params.sort_by = Some(SortBy::LastUpdated),
                    "name" => params.sort_by = Some(SortBy::Name),
                    "slug" => params.sort_by = Some(SortBy::Slug),
                    _ => invalid(
                        "sortBy",
                        "Must be one of createdOn, lastPublished, lastUpdated, name, slug",
                    ),
                },
                "sortOrder" => match value.as_str() {
                    "asc" => params.descending = false,
                    "desc" => params.descending = true,
                    _ => invalid("sortOrder", "Must be one of asc, desc"),
                },
                _ => {}
            }
        }
        if details.is_empty() {
            Ok(params)
        } else {
            Err(details)
        }
    }

    fn matches(&self, stored: &StoredItem) -> bool {
        let field = |name: &str| stored.item["fieldData"][name].as_str();
        self.locales.as_ref().is_none_or(|locales| {
            stored
                .locale
                .as_ref()
                .is_some_and(|locale| locales.contains(locale))
        }) && self
            .name
            .as_deref()
            .is_none_or(|name| field("name") == Some(name))
            && self
                .slug
                .as_deref()
                .is_none_or(|slug| field("slug") == Some(slug))
    }

    /// Ascending order: by the sort key (missing or null first), then by creation.
    fn compare(&self, a: &StoredItem, b: &StoredItem) -> Ordering {
        let key = |stored: &StoredItem| -> Option<String> {
            let item = &stored.item;
            let value = match self.sort_by? {
                SortBy::CreatedOn => &item["createdOn"],
                SortBy::LastPublished => &item["lastPublished"],
                SortBy::LastUpdated => &item["lastUpdated"],
                SortBy::Name => &item["fieldData"]["name"],
                SortBy::Slug => &item["fieldData"]["slug"],
            };
            value.as_str().map(str::to_owned)
        };
        key(a).cmp(&key(b)).then(a.sequence.cmp(&b.sequence))
    }
}

/// Splits a query string into decoded `(key, value)` pairs (`+` is a space).
fn query_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'+', _, _) => decoded.push(b' '),
            (b'%', Some(high), Some(low)) => {
                decoded.push((high * 16 + low) as u8);
                i += 2;
            }
            (byte, _, _) => decoded.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn slug_key(collection_id: &str, item: &Value, slug: &str) -> SlugKey {
    let locale = item
        .get("cmsLocaleId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    (collection_id.to_owned(), locale, slug.to_owned())
}

/// A 24-hex-digit id, like Webflow's.
fn id_for(sequence: u64) -> String {
    format!(
        "{:024x}",
        0x66a0_0000_0000_0000_0000_0000u128 + u128::from(sequence)
    )
}

fn splitmix64(n: u64) -> u64 {
    let mut z = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn validation_error(details: Value) -> MockResponse {
    MockResponse::webflow_error(400, "validation_error", "Validation Error", details)
}

fn too_many_requests(retry_after_secs: u64) -> MockResponse {
    MockResponse::webflow_error(429, "too_many_requests", "Too Many Requests", json!([]))
        .header("retry-after", &retry_after_secs.to_string())
}
