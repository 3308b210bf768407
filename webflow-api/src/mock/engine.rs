//! What the mock answers: the state behind the server and the handling of one request —
//! routing, the rate limit, authentication, faults, and each operation — free of any HTTP
//! plumbing (see `server.rs`). Everything runs under one mutex that is never held across
//! an await.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hyper::header::{HeaderName, HeaderValue};
use serde_json::{Map, Value, json};

use super::model::{
    Action, ChangeKind, CreatedItem, DuplicateSlugs, Fault, ItemChange, Listing, ListingKind,
    MockResponse, RateLimitModel, ReceivedRequest, Validator,
};
use super::rate::RateState;
use super::schema::{self, Schema};
use super::store::{SlugKey, Store, StoredItem};
use super::timestamp;
use crate::time::Clock;

/// The builder's settings.
pub(super) struct Config {
    pub(super) record: bool,
    pub(super) rate_limit: Option<u32>,
    pub(super) rate_limit_model: RateLimitModel,
    pub(super) advertised_limit: u32,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) max_items_per_request: usize,
    pub(super) validator: Option<Validator>,
    pub(super) random_throttle: Option<(f64, u64)>,
    pub(super) token: Option<String>,
    pub(super) duplicate_slugs: DuplicateSlugs,
    pub(super) visibility_lag: Duration,
    pub(super) site_id: String,
    pub(super) primary_locale: Option<String>,
    pub(super) port: u16,
    pub(super) state_file: Option<PathBuf>,
    /// Schemas defined on the builder (their `createdOn` is set when the mock starts).
    pub(super) collections: Vec<(String, Value)>,
    pub(super) listing: Listing,
    /// Milliseconds the wall clock is ahead (positive) or behind (negative) at start.
    pub(super) clock_offset_ms: i64,
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

/// Everything the mock remembers.
#[derive(Default)]
pub(super) struct State {
    pub(super) requests: Vec<ReceivedRequest>,
    pub(super) request_count: u64,
    pub(super) created: Vec<CreatedItem>,
    pub(super) created_count: u64,
    /// Items created, or renamed by an update, under a slug that was taken.
    pub(super) duplicates: Vec<CreatedItem>,
    pub(super) throttled: u64,
    pub(super) faults_by_number: HashMap<u64, Fault>,
    pub(super) faults_queue: VecDeque<Fault>,
    pub(super) faults_by_match: Vec<(Matcher, Fault)>,
    pub(super) changes_before: HashMap<u64, Vec<ItemChange>>,
    pub(super) store: Store,
    pub(super) listing: Listing,
    /// Milliseconds the wall clock is ahead of (or, negative, behind) the mock's clock.
    pub(super) offset_ms: i64,
    /// The wall clock (Unix milliseconds) at mock time zero.
    wall_base_ms: u64,
    rate: RateState,
    rng: u64,
    /// The store changed since it was last saved.
    dirty: bool,
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

/// An answer, or the error answer that ends the operation early.
type Step<T> = Result<T, MockResponse>;

impl Shared {
    /// The shared state for `config`, with the store loaded from the state file if there is
    /// one, and the builder's schemas defined.
    pub(super) fn new(config: Config) -> Result<Shared, std::io::Error> {
        let rng = config
            .random_throttle
            .map_or(0, |(_, seed)| seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let loaded = match &config.state_file {
            Some(path) => Store::load(path)?,
            None => None,
        };
        let wall_base_ms = loaded.as_ref().map_or(timestamp::EPOCH_MS, |store| {
            store.wall_ms.max(timestamp::EPOCH_MS)
        });
        let mut state = State {
            rng,
            store: loaded.unwrap_or_default(),
            listing: config.listing.clone(),
            offset_ms: config.clock_offset_ms,
            wall_base_ms,
            ..State::default()
        };
        let created_on = timestamp::format(state.wall_ms(Duration::ZERO));
        for (id, schema) in &config.collections {
            let schema = Schema::parse(schema, created_on.clone())
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
            state.store.set_schema(id, schema);
            state.dirty = true;
        }
        let shared = Shared {
            started: config.clock.now(),
            config,
            state: Mutex::new(state),
        };
        shared.save_if_changed(&mut shared.lock());
        Ok(shared)
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

    /// Writes the state file if there is one and the store changed. A failure is logged
    /// (the mock goes on in memory).
    pub(super) fn save_if_changed(&self, state: &mut State) {
        if !std::mem::take(&mut state.dirty) {
            return;
        }
        if let Some(path) = &self.config.state_file {
            state.store.wall_ms = state.wall_ms(self.elapsed());
            if let Err(error) = state.store.save(path) {
                tracing::warn!(path = %path.display(), %error, "the mock could not save its state file");
            }
        }
    }

    /// Handles one request (its `number` and `status` are filled in here); `raw` is its
    /// body as received.
    pub(super) fn respond(&self, mut request: ReceivedRequest, raw: &[u8]) -> Reply {
        let mut state = self.lock();
        // Read under the lock, so creation order and timestamps agree.
        let now = self.elapsed();
        state.request_count += 1;
        request.number = state.request_count;
        for change in state
            .changes_before
            .remove(&request.number)
            .unwrap_or_default()
        {
            state.apply_change(&self.config, change, now);
        }
        state.rate.roll_window(now);
        let action = match state.take_fault(&request) {
            Some(fault) => fault.action,
            None => Action::Process {
                replace: None,
                delay: None,
            },
        };
        let answer = match action {
            Action::Instead(response) => Some(response),
            Action::Echo {
                status,
                content_type,
            } => Some(
                MockResponse::status(status)
                    .header("content-type", &content_type)
                    .body(echo(&request, raw)),
            ),
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
        self.save_if_changed(&mut state);
        let Some(mut answer) = answer else {
            return Reply::Drop;
        };
        let limit = self
            .config
            .rate_limit
            .unwrap_or(self.config.advertised_limit);
        let remaining = state.rate.remaining(
            self.config.rate_limit,
            self.config.advertised_limit,
            self.config.rate_limit_model,
            now,
        );
        let date = timestamp::http_date(state.wall_ms(now));
        let mut headers = vec![
            (
                HeaderName::from_static("x-ratelimit-limit"),
                HeaderValue::from(limit),
            ),
            (
                HeaderName::from_static("x-ratelimit-remaining"),
                HeaderValue::from(remaining),
            ),
            (
                hyper::header::DATE,
                HeaderValue::from_str(&date).expect("an HTTP-date is a valid header value"),
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
        let answer = match (request.method.as_str(), segments.as_slice()) {
            ("GET", ["collections", id]) if !id.is_empty() => {
                Ok(self.collection_details(state, id))
            }
            ("GET", ["collections", id, "items"]) if !id.is_empty() => {
                self.list(state, id, request.query.as_deref(), now)
            }
            ("POST", ["collections", id, "items", "live"]) if !id.is_empty() => {
                self.create(state, id, request, now)
            }
            ("PATCH", ["collections", id, "items", "live"]) if !id.is_empty() => {
                self.update_live(state, id, request, now)
            }
            ("DELETE", ["collections", id, "items", "live"]) if !id.is_empty() => {
                self.remove(state, id, request, Removal::Unpublish)
            }
            ("DELETE", ["collections", id, "items"]) if !id.is_empty() => {
                self.remove(state, id, request, Removal::Delete)
            }
            _ => Err(not_found()),
        };
        answer.unwrap_or_else(|error| error)
    }

    /// `None` lets the request through (and counts it).
    fn rate_limit(&self, state: &mut State, now: Duration) -> Option<MockResponse> {
        let limit = self.config.rate_limit;
        if let Err(retry_after) = state.rate.admit(limit, self.config.rate_limit_model, now) {
            state.throttled += 1;
            return Some(too_many_requests(retry_after));
        }
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

    /// `collection-details`: the schema a test defined, or `name` and `slug` only.
    fn collection_details(&self, state: &State, collection_id: &str) -> MockResponse {
        let answer = match state.store.schema(collection_id) {
            Some(schema) => schema.to_json(collection_id),
            None => Schema::default_for_undefined(timestamp::format(state.wall_ms(Duration::ZERO)))
                .to_json(collection_id),
        };
        MockResponse::status(200).json(&answer)
    }

    /// `create-item-live`: validate every item, then create them all, or none.
    fn create(
        &self,
        state: &mut State,
        collection_id: &str,
        request: &ReceivedRequest,
        now: Duration,
    ) -> Step<MockResponse> {
        let body = &request.body;
        if body.is_null() {
            return Err(bad_request());
        }
        let (items, bulk) = match body.get("items") {
            Some(Value::Array(items)) => (items.as_slice(), true),
            Some(_) => {
                return Err(validation_error(
                    json!([{"param": "items", "description": "must be an array"}]),
                ));
            }
            None => (std::slice::from_ref(body), false),
        };
        let max = self.config.max_items_per_request;
        if bulk && (items.is_empty() || items.len() > max) {
            return Err(items_count_error(max));
        }

        let schema = state.store.schema(collection_id).cloned();
        let refuse_taken =
            self.config.record && self.config.duplicate_slugs == DuplicateSlugs::Refuse;
        let mut details = Vec::new();
        let mut slugs_in_request = HashSet::new();
        for (index, item) in items.iter().enumerate() {
            let at = |field: &str| {
                if bulk {
                    format!("items[{index}].fieldData.{field}")
                } else {
                    field.to_owned()
                }
            };
            let empty = Map::new();
            let field_data = item["fieldData"].as_object().unwrap_or(&empty);
            match &schema {
                Some(schema) => {
                    let refs = |collection: &str, id: &str| {
                        !self.config.record || state.store.contains(collection, id)
                    };
                    for problem in schema.check(field_data, false, &refs) {
                        details.push(json!({"param": at(&problem.field), "description": problem.description}));
                    }
                }
                None => {
                    for field in ["name", "slug"] {
                        if field_data
                            .get(field)
                            .and_then(Value::as_str)
                            .is_none_or(str::is_empty)
                        {
                            details
                                .push(json!({"param": at(field), "description": schema::REQUIRED}));
                        }
                    }
                }
            }
            if refuse_taken && let Some(slug) = field_data.get("slug").and_then(Value::as_str) {
                let key = self.slug_key(collection_id, item.get("cmsLocaleId"), slug);
                if state.store.slug_taken(&key) || !slugs_in_request.insert(key) {
                    details.push(taken(&at("slug"), slug));
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
            return Err(validation_error(Value::Array(details)));
        }

        let stamp = timestamp::format(state.wall_ms(now));
        let mut created: Vec<Value> = items
            .iter()
            .map(|item| {
                let mut field_data = item["fieldData"].as_object().cloned().unwrap_or_default();
                if let Some(schema) = &schema {
                    schema.rehost(&mut field_data, &self.config.site_id);
                    field_data.retain(|_, value| !value.is_null());
                }
                state.create(
                    self,
                    collection_id,
                    item,
                    field_data,
                    request.number,
                    &stamp,
                    now,
                )
            })
            .collect();
        let body = if bulk {
            json!({ "items": created })
        } else {
            created.remove(0)
        };
        Ok(MockResponse::status(202).json(&body))
    }

    /// `update-items-live`: every item found, published and valid, then all updated; or
    /// nothing changes.
    fn update_live(
        &self,
        state: &mut State,
        collection_id: &str,
        request: &ReceivedRequest,
        now: Duration,
    ) -> Step<MockResponse> {
        self.recording()?;
        let entries = self.entries(&request.body)?;
        // Where each item is: an unknown id is a 404, an item not live a 409.
        let mut positions = Vec::with_capacity(entries.len());
        for entry in entries {
            let locale = entry
                .get("cmsLocaleId")
                .and_then(Value::as_str)
                .or(self.config.primary_locale.as_deref());
            let id = entry["id"].as_str().unwrap_or_default();
            let position = state
                .store
                .find(collection_id, id, locale)
                .or_else(|| {
                    // Without a locale, the only variant of an item is its primary one.
                    entry
                        .get("cmsLocaleId")
                        .is_none()
                        .then(|| state.store.find(collection_id, id, None))
                        .flatten()
                })
                .ok_or_else(not_found)?;
            let stored = &state.store.items(collection_id)[position].item;
            if stored["isArchived"] == true || stored["lastPublished"].is_null() {
                return Err(MockResponse::webflow_error(
                    409,
                    "conflict",
                    "Conflict: Conflict with server data: Live PATCH updates can't be applied to items that have never been published",
                    json!([]),
                ));
            }
            positions.push(position);
        }

        let schema = state.store.schema(collection_id).cloned();
        let mut details = Vec::new();
        let mut claimed: HashSet<SlugKey> = HashSet::new();
        let empty = Map::new();
        for (index, (entry, &position)) in entries.iter().zip(&positions).enumerate() {
            let at = |field: &str| format!("items[{index}].fieldData.{field}");
            if entry.get("fieldData").is_some_and(|v| !v.is_object()) {
                details.push(json!({
                    "param": format!("items[{index}].fieldData"),
                    "description": "Value (fieldData)'s type should be object",
                }));
            }
            let field_data = entry["fieldData"].as_object().unwrap_or(&empty);
            match &schema {
                Some(schema) => {
                    let refs = |collection: &str, id: &str| state.store.contains(collection, id);
                    for problem in schema.check(field_data, true, &refs) {
                        details.push(json!({"param": at(&problem.field), "description": problem.description}));
                    }
                }
                None => {
                    for field in ["name", "slug"] {
                        if field_data
                            .get(field)
                            .is_some_and(|v| v.as_str().is_none_or(str::is_empty))
                        {
                            details
                                .push(json!({"param": at(field), "description": schema::REQUIRED}));
                        }
                    }
                }
            }
            let stored = &state.store.items(collection_id)[position];
            if let Some(slug) = field_data.get("slug").and_then(Value::as_str)
                && slug != stored.slug()
                && self.config.duplicate_slugs == DuplicateSlugs::Refuse
            {
                let key = (
                    collection_id.to_owned(),
                    stored.locale().map(str::to_owned),
                    slug.to_owned(),
                );
                if state.store.slug_taken(&key) || !claimed.insert(key) {
                    details.push(taken(&at("slug"), slug));
                }
            }
        }
        if !details.is_empty() {
            return Err(validation_error(Value::Array(details)));
        }

        let stamp = timestamp::format(state.wall_ms(now));
        let mut updated = Vec::with_capacity(entries.len());
        for (entry, position) in entries.iter().zip(positions) {
            let mut changes = entry["fieldData"].as_object().cloned().unwrap_or_default();
            if let Some(schema) = &schema {
                schema.rehost(&mut changes, &self.config.site_id);
            }
            let stored = &state.store.items(collection_id)[position];
            let mut item = stored.item.clone();
            let requested_slug = changes
                .get("slug")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let mut renamed = None;
            if let Some(slug) = &requested_slug
                && slug != stored.slug()
            {
                let key = (
                    collection_id.to_owned(),
                    stored.locale().map(str::to_owned),
                    slug.clone(),
                );
                if state.store.slug_taken(&key) {
                    // Only in Suffix mode: Refuse refused the request above.
                    let stored_slug = state.free_suffixed_slug(&key);
                    changes.insert("slug".into(), Value::String(stored_slug));
                    renamed = Some(slug.clone());
                }
            }
            let field_data = item["fieldData"]
                .as_object_mut()
                .expect("a stored item has fieldData");
            for (key, value) in changes {
                if value.is_null() {
                    field_data.remove(&key);
                } else {
                    field_data.insert(key, value);
                }
            }
            for flag in ["isArchived", "isDraft"] {
                if let Some(value) = entry.get(flag).filter(|v| v.is_boolean()) {
                    item[flag] = value.clone();
                }
            }
            item["lastUpdated"] = Value::String(stamp.clone());
            item["lastPublished"] = Value::String(stamp.clone());
            state.store.replace(collection_id, position, item.clone());
            if let Some(requested_slug) = renamed {
                state.duplicates.push(CreatedItem {
                    collection_id: collection_id.to_owned(),
                    item: item.clone(),
                    request_number: request.number,
                    requested_slug,
                });
            }
            updated.push(item);
        }
        state.dirty = true;
        Ok(MockResponse::status(200).json(&json!({ "items": updated })))
    }

    /// `delete-items-live` (unpublish: `isDraft: true`, `lastPublished: null`) and
    /// `delete-items` (gone): every item found first, or nothing changes.
    fn remove(
        &self,
        state: &mut State,
        collection_id: &str,
        request: &ReceivedRequest,
        removal: Removal,
    ) -> Step<MockResponse> {
        self.recording()?;
        let entries = self.entries(&request.body)?;
        let mut positions = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let id = entry["id"].as_str().unwrap_or_default();
            let locales: Vec<Option<&str>> = match entry.get("cmsLocaleIds") {
                None => vec![self.config.primary_locale.as_deref()],
                Some(Value::Array(locales)) if locales.iter().all(Value::is_string) => {
                    locales.iter().map(Value::as_str).collect()
                }
                Some(_) => {
                    return Err(validation_error(json!([{
                        "param": format!("items[{index}].cmsLocaleIds"),
                        "description": "Value (cmsLocaleIds)'s type should be array of strings",
                    }])));
                }
            };
            for locale in locales {
                let position = state
                    .store
                    .find(collection_id, id, locale)
                    .or_else(|| {
                        entry
                            .get("cmsLocaleIds")
                            .is_none()
                            .then(|| state.store.find(collection_id, id, None))
                            .flatten()
                    })
                    .ok_or_else(not_found)?;
                if !positions.contains(&position) {
                    positions.push(position);
                }
            }
        }
        match removal {
            Removal::Unpublish => {
                for position in positions {
                    let mut item = state.store.items(collection_id)[position].item.clone();
                    item["isDraft"] = Value::Bool(true);
                    item["lastPublished"] = Value::Null;
                    state.store.replace(collection_id, position, item);
                }
            }
            Removal::Delete => {
                positions.sort_unstable();
                for position in positions.into_iter().rev() {
                    state.store.remove(collection_id, position);
                }
            }
        }
        state.dirty = true;
        Ok(MockResponse::status(204))
    }

    /// The `items` of a bulk update, unpublish or delete: 1 to the maximum, each with an id.
    fn entries<'a>(&self, body: &'a Value) -> Step<&'a [Value]> {
        if body.is_null() {
            return Err(bad_request());
        }
        let Some(entries) = body.get("items").and_then(Value::as_array) else {
            return Err(validation_error(
                json!([{"param": "items", "description": schema::REQUIRED}]),
            ));
        };
        let max = self.config.max_items_per_request;
        if entries.is_empty() || entries.len() > max {
            return Err(items_count_error(max));
        }
        let details: Vec<Value> = entries
            .iter()
            .enumerate()
            .filter(|(_, entry)| entry["id"].as_str().is_none_or(str::is_empty))
            .map(|(index, _)| json!({"param": format!("items[{index}].id"), "description": schema::REQUIRED}))
            .collect();
        if details.is_empty() {
            Ok(entries)
        } else {
            Err(validation_error(Value::Array(details)))
        }
    }

    /// Operations that need the items refuse a mock that keeps none.
    fn recording(&self) -> Step<()> {
        if self.config.record {
            Ok(())
        } else {
            Err(MockResponse::webflow_error(
                501,
                "not_implemented",
                "This mock was started without recording: it keeps no items",
                json!([]),
            ))
        }
    }

    /// `list-collection-items`: one page of the visible items that match the filters, with
    /// the listing's quirks.
    fn list(
        &self,
        state: &State,
        collection_id: &str,
        query: Option<&str>,
        now: Duration,
    ) -> Step<MockResponse> {
        self.recording()?;
        let params =
            ListParams::parse(query).map_err(|details| validation_error(Value::Array(details)))?;
        let mut matching: Vec<&StoredItem> = state
            .store
            .items(collection_id)
            .iter()
            .filter(|stored| stored.visible_from <= now && params.matches(stored))
            .collect();
        matching.sort_by(|a, b| {
            let order = params.compare(a, b);
            if params.descending {
                order.reverse()
            } else {
                order
            }
        });
        let total = matching.len() as u64;
        let skip = match state.listing.kind {
            ListingKind::IgnoresOffset => 0,
            _ => params.offset,
        };
        let items: Vec<&Value> = matching
            .iter()
            .skip(skip)
            .take(params.limit)
            .map(|stored| &stored.item)
            .collect();
        let mut pagination = json!({"limit": params.limit, "offset": params.offset});
        match &state.listing.kind {
            ListingKind::Exact => pagination["total"] = total.into(),
            ListingKind::StaleTotal(stale) => pagination["total"] = (*stale).into(),
            ListingKind::TotalFrom(total_from) => pagination["total"] = total_from(total).into(),
            ListingKind::IgnoresOffset => {}
        }
        Ok(MockResponse::status(200).json(&json!({"items": items, "pagination": pagination})))
    }

    /// The slug key of a new item: its locale, or the primary locale when it has none.
    fn slug_key(&self, collection_id: &str, locale: Option<&Value>, slug: &str) -> SlugKey {
        let locale = locale
            .and_then(Value::as_str)
            .or(self.config.primary_locale.as_deref())
            .map(str::to_owned);
        (collection_id.to_owned(), locale, slug.to_owned())
    }
}

#[derive(Clone, Copy)]
enum Removal {
    Unpublish,
    Delete,
}

impl State {
    /// The wall clock at mock time `now`, in Unix milliseconds (never before 1970).
    pub(super) fn wall_ms(&self, now: Duration) -> u64 {
        let ms =
            i128::from(self.wall_base_ms) + now.as_millis() as i128 + i128::from(self.offset_ms);
        u64::try_from(ms.max(0)).unwrap_or(u64::MAX)
    }

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

    /// Creates one validated item (`field_data` as it will be stored) and returns it as
    /// answered.
    #[allow(clippy::too_many_arguments)]
    fn create(
        &mut self,
        shared: &Shared,
        collection_id: &str,
        item: &Value,
        mut field_data: Map<String, Value>,
        request_number: u64,
        stamp: &str,
        now: Duration,
    ) -> Value {
        let config = &shared.config;
        self.created_count += 1;
        let requested_slug = field_data
            .get("slug")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let key = shared.slug_key(collection_id, item.get("cmsLocaleId"), &requested_slug);
        let answered = |sequence: u64, field_data: Map<String, Value>| {
            json!({
                "id": id_for(sequence),
                "cmsLocaleId": key.1,
                "lastPublished": stamp,
                "lastUpdated": stamp,
                "createdOn": stamp,
                "isArchived": item.get("isArchived").cloned().unwrap_or(Value::Bool(false)),
                "isDraft": item.get("isDraft").cloned().unwrap_or(Value::Bool(false)),
                "fieldData": field_data,
            })
        };
        self.store.sequence += 1;
        let sequence = self.store.sequence;
        if !config.record {
            return answered(sequence, field_data);
        }
        let duplicate = self.store.slug_taken(&key);
        if duplicate {
            field_data.insert("slug".into(), Value::String(self.free_suffixed_slug(&key)));
        }
        let value = answered(sequence, field_data);
        self.store.push(
            collection_id,
            StoredItem {
                sequence,
                visible_from: now + config.visibility_lag,
                item: value.clone(),
            },
        );
        self.dirty = true;
        let created = CreatedItem {
            collection_id: collection_id.to_owned(),
            item: value.clone(),
            request_number,
            requested_slug,
        };
        if duplicate {
            self.duplicates.push(created.clone());
        }
        self.created.push(created);
        value
    }

    /// `<slug>-<5 lowercase hex chars>`, free in the key's collection and locale;
    /// deterministic for a sequence of calls.
    fn free_suffixed_slug(&mut self, key: &SlugKey) -> String {
        let (collection, locale, slug) = key;
        loop {
            self.store.suffixes += 1;
            let suffix = splitmix64(self.store.suffixes) & 0xF_FFFF;
            let candidate = (
                collection.clone(),
                locale.clone(),
                format!("{slug}-{suffix:05x}"),
            );
            if !self.store.slug_taken(&candidate) {
                return candidate.2;
            }
        }
    }

    /// Stores an item that existed before the test (`MockWebflow::insert_items`).
    pub(super) fn insert(
        &mut self,
        config: &Config,
        collection_id: &str,
        item: Value,
        now: Duration,
    ) -> String {
        let field = |name: &str| {
            item["fieldData"][name]
                .as_str()
                .unwrap_or_else(|| panic!("insert_items: an item needs a string fieldData.{name}"))
                .to_owned()
        };
        field("name");
        field("slug");
        self.store.sequence += 1;
        let id = id_for(self.store.sequence);
        let stamp = timestamp::format(self.wall_ms(now));
        let time = |name: &str| {
            item.get(name)
                .filter(|v| v.is_string() || v.is_null())
                .cloned()
                .unwrap_or_else(|| Value::String(stamp.clone()))
        };
        let locale = item.get("cmsLocaleId").cloned().unwrap_or_else(|| {
            config
                .primary_locale
                .clone()
                .map_or(Value::Null, Value::String)
        });
        let value = json!({
            "id": id,
            "cmsLocaleId": locale,
            "lastPublished": time("lastPublished"),
            "lastUpdated": time("lastUpdated"),
            "createdOn": time("createdOn"),
            "isArchived": item.get("isArchived").cloned().unwrap_or(Value::Bool(false)),
            "isDraft": item.get("isDraft").cloned().unwrap_or(Value::Bool(false)),
            "fieldData": item["fieldData"],
        });
        let sequence = self.store.sequence;
        self.store.push(
            collection_id,
            StoredItem {
                sequence,
                visible_from: Duration::ZERO,
                item: value,
            },
        );
        self.dirty = true;
        id
    }

    /// Removes the items of `collection_id` whose id or slug is one of `keys`; returns how
    /// many (`MockWebflow::delete_items`).
    pub(super) fn delete_by_key(&mut self, collection_id: &str, keys: &[String]) -> usize {
        let positions: Vec<usize> = self
            .store
            .items(collection_id)
            .iter()
            .enumerate()
            .filter(|(_, stored)| {
                keys.iter()
                    .any(|key| key == stored.id() || key == stored.slug())
            })
            .map(|(position, _)| position)
            .collect();
        for &position in positions.iter().rev() {
            self.store.remove(collection_id, position);
        }
        if !positions.is_empty() {
            self.dirty = true;
        }
        positions.len()
    }

    /// Defines (or replaces) a collection's schema.
    pub(super) fn define(&mut self, collection_id: &str, schema: Schema) {
        self.store.set_schema(collection_id, schema);
        self.dirty = true;
    }

    fn apply_change(&mut self, config: &Config, change: ItemChange, now: Duration) {
        match change.kind {
            ChangeKind::Insert { collection, items } => {
                for item in items {
                    self.insert(config, &collection, item, now);
                }
            }
            ChangeKind::Delete { collection, keys } => {
                self.delete_by_key(&collection, &keys);
            }
        }
    }
}

/// The request as text (request line, every header, a blank line, the body as received),
/// for `Fault::echo_request`.
fn echo(request: &ReceivedRequest, raw: &[u8]) -> Vec<u8> {
    let query = request
        .query
        .as_deref()
        .map(|query| format!("?{query}"))
        .unwrap_or_default();
    let mut text = format!("{} {}{query} HTTP/1.1\r\n", request.method, request.path);
    for (name, value) in &request.headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(raw);
    bytes
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
                .locale()
                .is_some_and(|locale| locales.iter().any(|l| l == locale))
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

/// A 24-hex-digit id, like Webflow's.
fn id_for(sequence: u64) -> String {
    format!(
        "{:024x}",
        0x66a0_0000_0000_0000_0000_0000u128 + u128::from(sequence)
    )
}

pub(super) fn splitmix64(n: u64) -> u64 {
    let mut z = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A slug already in the collection and locale, as Webflow words it (NangoHQ/nango#5210).
fn taken(param: &str, slug: &str) -> Value {
    json!({"param": param, "description": format!("Unique value is already in database: '{slug}'")})
}

fn validation_error(details: Value) -> MockResponse {
    MockResponse::webflow_error(400, "validation_error", "Validation Error", details)
}

fn items_count_error(max: usize) -> MockResponse {
    validation_error(json!([{
        "param": "items",
        "description": format!("must hold 1 to {max} items"),
    }]))
}

fn bad_request() -> MockResponse {
    MockResponse::webflow_error(
        400,
        "bad_request",
        "Bad Request: Request is malformed",
        json!([]),
    )
}

/// Webflow's 404, for a path, a collection item or an id it does not know
/// (discourse.webflow.com/t/documenting-data-api-v2-errors/296289).
fn not_found() -> MockResponse {
    MockResponse::webflow_error(
        404,
        "resource_not_found",
        "Requested resource not found",
        json!([]),
    )
}

fn too_many_requests(retry_after_secs: u64) -> MockResponse {
    MockResponse::webflow_error(429, "too_many_requests", "Too Many Requests", json!([]))
        .header("retry-after", &retry_after_secs.to_string())
}
