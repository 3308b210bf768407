//! An in-process mock of Webflow's CMS endpoints on 127.0.0.1, for tests, examples, the
//! `webflow-mock` server and trying the client without a token (feature `mock`).
//!
//! # What it models
//!
//! - **`POST /v2/collections/{id}/items/live`** (`create-item-live`): one item, or
//!   `{"items": [...]}` with 1 to [`max_items_per_request`](MockWebflowBuilder::max_items_per_request)
//!   items. It requires `fieldData.name` and `fieldData.slug` (or checks the item against
//!   the collection's schema, below), runs an optional
//!   [`validator`](MockWebflowBuilder::validator), keeps slugs unique per collection and
//!   locale ([`DuplicateSlugs`]), and answers `202` with the created item(s) in request order.
//! - **Collection schemas** (`GET /v2/collections/{id}`, `collection-details`): a test
//!   defines a collection's fields ([`collection`](MockWebflowBuilder::collection),
//!   [`define_collection`](MockWebflow::define_collection)) in the shape Webflow answers
//!   them. Creates and updates are then checked against it, all or nothing, worded as
//!   Webflow words them: `{"code": "validation_error", "message": "Validation Error",
//!   "details": [{"param", "description"}]}` with `param` the field's slug
//!   (`items[<index>].fieldData.<slug>` in a bulk create or an update), for an unknown
//!   field (`Field not described in schema: undefined`), a required field missing, null or
//!   empty, and a value of the wrong type for its field (strings for PlainText, RichText,
//!   Link, Email, Phone and VideoLink, with `minLength`/`maxLength`; numbers with
//!   `format: integer`, `allowNegative`, `allowZero`, `minValue`, `maxValue`; booleans;
//!   ISO 8601 DateTimes; hex Colors; an Option's option **id**; a Reference's existing item
//!   id in `validations.collectionId`, a MultiReference's array of them; an Image or File
//!   as a public URL or `{url, alt?, fileId?}`, a MultiImage as an array of them; any value
//!   for a type the mock does not know). Files are **re-hosted**: stored and answered as
//!   `{"fileId": "<24 hex>", "url": "https://cdn.prod.website-files.com/<site id>/<fileId>_<file name>",
//!   "alt"}`, with the same `fileId` for the same source URL. A collection no test defined
//!   accepts any fields and answers a schema of `name` and `slug` (PlainText, required).
//! - **`PATCH /v2/collections/{id}/items/live`** (`update-items-live`): up to 100 items by
//!   `id` (and `cmsLocaleId`); `fieldData` is partial: fields left out are kept, `null`
//!   clears one. It answers `200 {"items": [...]}` with the items as updated, their
//!   `lastUpdated` and `lastPublished` set to now. An unknown id is a `404
//!   resource_not_found`; an item that is archived or not published (`lastPublished:
//!   null`) a `409 conflict` ("Live PATCH updates can't be applied to items that have never
//!   been published"); nothing changes unless every item can be. Taken slugs are refused or
//!   suffixed as for creates. Sending the same update twice leaves the same content.
//! - **`DELETE /v2/collections/{id}/items/live`** (`delete-items-live`) unpublishes up to 100
//!   items (they stay, with `isDraft: true` and `lastPublished: null`), **`DELETE
//!   /v2/collections/{id}/items`** (`delete-items`) deletes them; both answer `204` without a
//!   body, and a `404` (changing nothing) when an id is unknown.
//! - **`GET /v2/collections/{id}/items`** (`list-collection-items`): filters `cmsLocaleId`
//!   (comma-separated), `name` and `slug` (exact), sorts by `sortBy`/`sortOrder`, pages with
//!   `offset`/`limit`, and answers `{"items": [...], "pagination": {"limit", "offset",
//!   "total"}}`, where `total` counts every item that matches the filters (not only the
//!   page). Without `sortBy` items come in creation order; ties are broken by creation
//!   order, reversed with `sortOrder=desc`, so every answer is deterministic. Without
//!   `cmsLocaleId` it lists **every locale**: the adversarial reading, since a client that
//!   forgets the filter then sees each item once per locale. New items can show up late
//!   ([`visibility_lag`](MockWebflowBuilder::visibility_lag)); a test can
//!   [`insert_items`](MockWebflow::insert_items) that existed before it started,
//!   [`delete_items`](MockWebflow::delete_items) behind the client's back, or schedule either
//!   [before a given request](MockWebflow::change_before_request) (between two pages). And
//!   listings can lie, on request ([`Listing`]): a stale `total`, or a server that ignores
//!   `offset` and sends no `total`.
//! - **Locales**: an item created without `cmsLocaleId` gets the
//!   [`primary_locale`](MockWebflowBuilder::primary_locale) if there is one, `null` otherwise.
//!   Slugs are unique per collection and locale.
//! - **Authentication**: a `Bearer` token is required on every request; with
//!   [`token`](MockWebflowBuilder::token) only that one is accepted (any other gets a `401
//!   not_authorized`), otherwise any non-empty one is.
//! - **Rate limits**: `X-RateLimit-Limit` and `X-RateLimit-Remaining` on every answer; an
//!   optional [`rate_limit`](MockWebflowBuilder::rate_limit) over every request, a **token
//!   bucket** by default (capacity N, refilled N per mock minute, continuously, as users
//!   report Webflow's limit behaves; `X-RateLimit-Remaining` is the whole tokens left and a
//!   429's `Retry-After` the whole seconds until one is back, at least 1), or fixed
//!   one-minute windows ([`RateLimitModel`]); optional
//!   [`random_throttle`](MockWebflowBuilder::random_throttle) 429s.
//! - **Time**: rate limits, item timestamps, the `Date` header and visibility run on a
//!   [`Clock`] ([`clock`](MockWebflowBuilder::clock)); share one
//!   [`ManualClock`](crate::time::ManualClock) with the client and the client's waits move
//!   the mock too. The mock's wall clock reads `2026-01-01T00:00:00.000Z` plus the mock time
//!   elapsed since it started, so timestamps do not change while a manual clock stands
//!   still; every answer's `Date` header (IMF-fixdate) reads it too. A test can put that
//!   wall clock ahead or behind, or step it ([`shift_clock`](MockWebflow::shift_clock)): a
//!   server clock that disagrees with the client's. It moves timestamps and `Date` only;
//!   the rate limit keeps the monotonic mock time. Scripted delays are real time.
//! - **Faults**: any answer, before or after the work is done, a slow answer, a connection
//!   closed without an answer, or the request echoed back, headers and all ([`Fault`]), for
//!   a request picked by number, by order, by its body or by any part of it.
//! - **Records**: every request; every created item, with the slug asked for, so a test
//!   can prove that nothing was created twice ([`duplicates`](MockWebflow::duplicates),
//!   which counts updates that renamed an item onto a taken slug too); and each
//!   collection's content now ([`items`](MockWebflow::items)).
//! - **State between runs**: with a [`state_file`](MockWebflowBuilder::state_file) the
//!   collections (schemas, items, counters, the wall clock) are loaded at start and saved
//!   after every change, so two runs of a command against the mock see the same
//!   collection. The `webflow-mock` binary (feature `cli`) serves it on a port for any
//!   language's tests.
//!
//! Unknown paths and methods get a `404 resource_not_found`.
//!
//! # What it does not model
//!
//! Whether a collection exists (any id is accepted, an unknown one is empty); sites, and
//! whether a locale exists (any `cmsLocaleId` is accepted); staged (non-live) items and
//! publishing a site; item variants across locales (every create makes a new id); the
//! wording of validation errors other than the unknown field and the taken slug (the mock's
//! own, in the same shape); fields a collection cannot edit; whether a file URL answers
//! (any public URL is "re-hosted"), its size, and `skipInvalidFiles`; scopes (`403`);
//! per-token rate limits; `Retry-After` as an HTTP-date (it sends seconds); TLS and HTTP/2
//! (plain HTTP/1.1). Unknown query parameters are ignored. With
//! [`without_recording`](MockWebflowBuilder::without_recording) it keeps no items: no
//! duplicate-slug check, no reference check, no listing, update or delete, no
//! [`insert_items`](MockWebflow::insert_items).
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
//! assert_eq!(mock.items(MockWebflow::COLLECTION_ID)[0]["id"], item.id.as_str());
//! assert!(mock.duplicates().is_empty(), "nothing was created twice");
//! # Ok(()) }
//! ```
//!
//! A collection with a schema, in the shape `GET /v2/collections/{id}` answers (only each
//! field's `slug` and `type` are needed; `name` and `slug` are added if absent):
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use serde_json::json;
//! use webflow_api::mock::MockWebflow;
//! let mock = MockWebflow::builder()
//!     .collection("products", json!({"fields": [
//!         {"slug": "price", "type": "Number", "isRequired": true,
//!          "validations": {"allowNegative": false}},
//!         {"slug": "photo", "type": "Image"},
//!     ]}))
//!     .start()
//!     .await;
//! # drop(mock); }
//! ```
//!
//! The server runs on the tokio runtime that started it, one task per connection, and stops
//! when the [`MockWebflow`] is dropped.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use tokio::task::AbortHandle;

use crate::time::{Clock, ScaledClock, SystemClock};

mod engine;
mod model;
mod rate;
mod schema;
mod server;
mod store;
mod timestamp;

use engine::{Config, Matcher, Shared, State};
pub use model::{
    ClockShift, CreatedItem, DuplicateSlugs, Fault, ItemChange, Listing, MockResponse,
    RateLimitModel, ReceivedRequest, Validator,
};
pub use schema::InvalidSchema;

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

impl MockWebflow {
    /// The collection id used by examples and tests (any id is accepted).
    pub const COLLECTION_ID: &'static str = "6520d7b1a3c4e5f60718293a";

    /// A token for examples and tests, to give both to the client and to
    /// [`MockWebflowBuilder::token`].
    pub const TOKEN: &'static str = "mock-token";

    /// The site whose CDN the mock "re-hosts" files on, unless
    /// [`MockWebflowBuilder::site_id`] says otherwise.
    pub const SITE_ID: &'static str = "6520d7b1a3c4e5f607180000";

    /// A mock with the default settings: any non-empty bearer token, no rate limit enforced
    /// (it still advertises `X-RateLimit-Limit: 120`), duplicate slugs refused, real time.
    ///
    /// # Panics
    /// If no port can be bound on 127.0.0.1.
    pub async fn start() -> MockWebflow {
        MockWebflow::builder().start().await
    }

    /// `Ok` if `schema` is a collection schema the mock can use
    /// ([`MockWebflowBuilder::collection`]), else what is wrong with it.
    pub fn check_collection_schema(schema: &Value) -> Result<(), InvalidSchema> {
        schema::Schema::parse(schema, String::new()).map(drop)
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
                rate_limit_model: RateLimitModel::TokenBucket,
                site_id: MockWebflow::SITE_ID.to_owned(),
                primary_locale: None,
                port: 0,
                state_file: None,
                collections: Vec::new(),
                listing: Listing::exact(),
                clock_offset_ms: 0,
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
    /// locale when they were created, and the items an update renamed onto a taken slug
    /// (with the item as updated and the update's request number); only possible with
    /// [`DuplicateSlugs::Suffix`]. `mock.duplicates().is_empty()` proves that no slug was
    /// ever held twice in a collection and locale by this run's requests. Always empty when
    /// not recording.
    pub fn duplicates(&self) -> Vec<CreatedItem> {
        self.lock().duplicates.clone()
    }

    /// The items `collection_id` holds now, in creation order, as lists answer them (every
    /// locale, updates applied, deleted items gone, items a
    /// [`visibility_lag`](MockWebflowBuilder::visibility_lag) still hides included).
    pub fn items(&self, collection_id: &str) -> Vec<Value> {
        self.lock()
            .store
            .items(collection_id)
            .iter()
            .map(|stored| stored.item.clone())
            .collect()
    }

    /// Defines (or replaces) the schema of `collection_id`, in the shape
    /// `GET /v2/collections/{id}` answers it: `{"displayName"?, "singularName"?, "slug"?,
    /// "fields": [{"slug", "type", "isRequired"?, "validations"?, "displayName"?, "id"?,
    /// "helpText"?}]}`. Fields `name` and `slug` (PlainText, required) are added if absent.
    /// Items already in the collection are not checked.
    ///
    /// # Panics
    /// If `schema` is not a schema ([`check_collection_schema`](Self::check_collection_schema)
    /// says why).
    pub fn define_collection(&self, collection_id: &str, schema: Value) {
        let mut state = self.lock();
        let created_on = timestamp::format(state.wall_ms(self.shared.elapsed()));
        let schema = schema::Schema::parse(&schema, created_on).unwrap_or_else(|e| panic!("{e}"));
        state.define(collection_id, schema);
        self.shared.save_if_changed(&mut state);
    }

    /// Removes the items of `collection_id` whose id or slug is one of `ids_or_slugs`, as if
    /// someone deleted them in Webflow's designer: not a request, not counted anywhere.
    /// Returns how many were removed.
    pub fn delete_items<S: AsRef<str>>(
        &self,
        collection_id: &str,
        ids_or_slugs: impl IntoIterator<Item = S>,
    ) -> usize {
        let keys: Vec<String> = ids_or_slugs
            .into_iter()
            .map(|key| key.as_ref().to_owned())
            .collect();
        let mut state = self.lock();
        let removed = state.delete_by_key(collection_id, &keys);
        self.shared.save_if_changed(&mut state);
        removed
    }

    /// Applies `change` just before the `number`-th request (1-based, counting every
    /// request) is handled: items appear or vanish between two pages of a listing the client
    /// reads by itself. Several changes for one request apply in the order they were added.
    pub fn change_before_request(&self, number: u64, change: ItemChange) {
        self.lock()
            .changes_before
            .entry(number)
            .or_default()
            .push(change);
    }

    /// From now on, lists answer as `listing` says.
    pub fn set_listing(&self, listing: Listing) {
        self.lock().listing = listing;
    }

    /// Steps the mock's wall clock — the timestamps of items created or updated from now on,
    /// and the `Date` header — forward or back, on top of any earlier step: a server clock
    /// that differs from the client's or jumps. The rate limit, visibility and the client's
    /// clock are not affected. The wall clock never goes before 1970.
    pub fn shift_clock(&self, step: ClockShift) {
        let mut state = self.lock();
        state.offset_ms = state.offset_ms.saturating_add(step.millis());
    }

    /// The mock's wall clock now, as its timestamps read (`2026-01-01T00:00:00.000Z` for a
    /// new mock whose clock has not moved).
    pub fn server_time(&self) -> String {
        let state = self.lock();
        timestamp::format(state.wall_ms(self.shared.elapsed()))
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
    /// format, or `null` for `lastPublished`; by default the mock's current time). Without
    /// `cmsLocaleId` an item gets the primary locale, if any. Slugs are stored as given,
    /// even if taken, and fields are not checked against a schema, so a test can model a
    /// collection that already holds duplicates or stale values. Returns the new ids, in
    /// order.
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
        let ids = items
            .into_iter()
            .map(|item| state.insert(&self.shared.config, collection_id, item, now))
            .collect();
        self.shared.save_if_changed(&mut state);
        ids
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
            .field("rate_limit_model", &config.rate_limit_model)
            .field("primary_locale", &config.primary_locale)
            .field("port", &config.port)
            .field("state_file", &config.state_file)
            .field("listing", &config.listing)
            .finish_non_exhaustive()
    }
}

impl MockWebflowBuilder {
    /// Enforces `requests_per_minute` over every request, per minute of the mock's
    /// [`clock`](Self::clock), as a token bucket (or as [`rate_limit_model`](Self::rate_limit_model)
    /// says): a request over the limit gets a 429 with `Retry-After` (whole seconds of mock
    /// time, at least 1) and is not processed. Also advertised as `X-RateLimit-Limit`.
    /// Without it nothing is enforced, and `X-RateLimit-Remaining` counts the advertised
    /// 120 down per fixed mock minute.
    pub fn rate_limit(mut self, requests_per_minute: u32) -> Self {
        self.config.rate_limit = Some(requests_per_minute);
        self.config.advertised_limit = requests_per_minute;
        self
    }

    /// How [`rate_limit`](Self::rate_limit) counts (default [`RateLimitModel::TokenBucket`]).
    pub fn rate_limit_model(mut self, model: RateLimitModel) -> Self {
        self.config.rate_limit_model = model;
        self
    }

    /// Defines the schema of `collection_id` (see [`MockWebflow::define_collection`] for
    /// the shape): `GET /v2/collections/{id}` answers it, and creates and updates are
    /// checked against it. Call it once per collection.
    ///
    /// # Panics
    /// If `schema` is not a schema ([`MockWebflow::check_collection_schema`] says why).
    pub fn collection(mut self, collection_id: &str, schema: Value) -> Self {
        if let Err(error) = MockWebflow::check_collection_schema(&schema) {
            panic!("collection {collection_id}: {error}");
        }
        self.config
            .collections
            .push((collection_id.to_owned(), schema));
        self
    }

    /// Items created without a `cmsLocaleId` get this one (and updates, unpublishes and
    /// deletes without one act on it). Without it they are stored with `cmsLocaleId: null`.
    pub fn primary_locale(mut self, cms_locale_id: &str) -> Self {
        self.config.primary_locale = Some(cms_locale_id.to_owned());
        self
    }

    /// The site id in the CDN URLs of re-hosted files (default [`MockWebflow::SITE_ID`]).
    pub fn site_id(mut self, site_id: &str) -> Self {
        self.config.site_id = site_id.to_owned();
        self
    }

    /// How honest lists are about pages (default [`Listing::exact`]); change it later with
    /// [`MockWebflow::set_listing`].
    pub fn listing(mut self, listing: Listing) -> Self {
        self.config.listing = listing;
        self
    }

    /// Starts the mock's wall clock (item timestamps, `Date`) ahead or behind
    /// `2026-01-01T00:00:00.000Z`; see [`MockWebflow::shift_clock`].
    pub fn clock_offset(mut self, offset: ClockShift) -> Self {
        self.config.clock_offset_ms = offset.millis();
        self
    }

    /// Keeps the collections — schemas, items, the counters behind ids and slug suffixes,
    /// and the wall clock — in `path`: loaded when the mock starts if the file exists, saved
    /// after every change (written beside it, then renamed over it). Requests, created-item
    /// records, faults and settings are not kept. A schema given to
    /// [`collection`](Self::collection) replaces the saved one. A file that cannot be written
    /// is logged (`tracing`, warn) and the mock goes on in memory.
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.state_file = Some(path.into());
        self
    }

    /// Listens on this port of 127.0.0.1 (default 0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.config.port = port;
        self
    }

    /// The clock behind the rate-limit windows, item timestamps and visibility (default:
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

    /// An extra check on each new item of a create (after the schema's); a `Some(detail)`
    /// rejects the whole request with a 400 `validation_error` whose `details` lists one
    /// detail per rejected item. Updates are not passed to it.
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
    /// either [`DuplicateSlugs`] mode) and no reference check, lists, updates, unpublishes
    /// and deletes answer `501 not_implemented`, and [`MockWebflow::insert_items`] panics.
    pub fn without_recording(mut self) -> Self {
        self.config.record = false;
        self
    }

    /// Starts the server on 127.0.0.1 (on a free port unless [`port`](Self::port) says
    /// otherwise), on the current tokio runtime.
    ///
    /// # Panics
    /// If the port cannot be bound, if the [`state_file`](Self::state_file) exists but
    /// cannot be read as one, or outside a tokio runtime.
    pub async fn start(self) -> MockWebflow {
        self.try_start()
            .await
            .unwrap_or_else(|error| panic!("the mock cannot start: {error}"))
    }

    /// [`start`](Self::start), returning why it cannot start (the port cannot be bound, the
    /// state file cannot be read) instead of panicking.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub async fn try_start(self) -> std::io::Result<MockWebflow> {
        let port = self.config.port;
        let shared = Arc::new(Shared::new(self.config)?);
        let (addr, server) = server::spawn(shared.clone(), port).await?;
        Ok(MockWebflow {
            addr,
            shared,
            server,
        })
    }
}
