//! The mock's vocabulary: what a test scripts (faults, answers, listings that lie, changes
//! between requests, clock shifts, rate-limit models, duplicate-slug policies) and what the
//! mock records (requests received, items created). `engine.rs` acts on them; `mod.rs`
//! offers them.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use hyper::StatusCode;
use hyper::header::{HeaderName, HeaderValue};
use serde_json::{Value, json};

/// Checks one new item (its JSON as sent); `Some(detail)` rejects the whole request with a
/// 400 `validation_error` whose `details` holds the detail.
pub type Validator = Arc<dyn Fn(&Value) -> Option<Value> + Send + Sync>;

/// What a create or an update does with a slug that is already taken in the collection
/// and locale.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DuplicateSlugs {
    /// Refuse the whole request with a 400 `validation_error` whose details say
    /// `Unique value is already in database: '<slug>'` for each taken slug (param `slug`,
    /// as in NangoHQ/nango#5210, or `items[<index>].fieldData.slug` in a bulk create or an
    /// update). The default.
    #[default]
    Refuse,
    /// Accept it and store the item under `<slug>-<5 lowercase hex chars>` (as Webflow has
    /// been seen to do, e.g. `example-1-e9f6b`), returned in the answer. The suffixes are
    /// deterministic for a given sequence of requests. The item is listed by
    /// [`MockWebflow::duplicates`](super::MockWebflow::duplicates).
    Suffix,
}

/// How [`MockWebflowBuilder::rate_limit`](super::MockWebflowBuilder::rate_limit) counts requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RateLimitModel {
    /// A token bucket of N tokens, full at start, refilled N per mock minute continuously;
    /// each request takes one. `X-RateLimit-Remaining` is the whole tokens left; a 429's
    /// `Retry-After` the whole seconds until one token is back (at least 1). Webflow's limit
    /// behaves this way as its users report it
    /// (<https://forum.webflow.com/t/api-rate-limit-inconsistency/114368>,
    /// <https://forum.webflow.com/t/rate-limit-issues-with-api/85781>). The default.
    #[default]
    TokenBucket,
    /// Fixed one-minute windows from the first request, N requests each;
    /// `X-RateLimit-Remaining` is what is left of the window, a 429's `Retry-After` the
    /// whole seconds until it ends (at least 1).
    FixedWindow,
}

/// A step of the mock's wall clock (item timestamps and the `Date` header) away from its
/// [`Clock`](crate::time::Clock): forward or back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClockShift {
    /// The wall clock moves this much ahead.
    Forward(Duration),
    /// The wall clock moves this much back.
    Back(Duration),
}

impl ClockShift {
    pub(super) fn millis(self) -> i64 {
        let millis = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        match self {
            ClockShift::Forward(by) => millis(by),
            ClockShift::Back(by) => -millis(by),
        }
    }
}

/// How honest `list-collection-items` is about pages ([`MockWebflowBuilder::listing`](super::MockWebflowBuilder::listing),
/// [`MockWebflow::set_listing`](super::MockWebflow::set_listing)). Filters, sorting and `limit` always work.
#[derive(Clone)]
pub struct Listing {
    pub(super) kind: ListingKind,
}

#[derive(Clone)]
pub(super) enum ListingKind {
    Exact,
    StaleTotal(u64),
    TotalFrom(Arc<dyn Fn(u64) -> u64 + Send + Sync>),
    IgnoresOffset,
}

impl Listing {
    /// `pagination.total` counts every item that matches now; pages follow `offset`. The
    /// default.
    pub fn exact() -> Listing {
        Listing {
            kind: ListingKind::Exact,
        }
    }

    /// `pagination.total` is always `total`, whatever the collection holds (a count from a
    /// stale cache).
    pub fn stale_total(total: u64) -> Listing {
        Listing {
            kind: ListingKind::StaleTotal(total),
        }
    }

    /// `pagination.total` is `total(true_total)`: e.g. `|n| n + 1` for a count one ahead,
    /// `|n| n.saturating_sub(1)` for one behind.
    pub fn total_from(total: impl Fn(u64) -> u64 + Send + Sync + 'static) -> Listing {
        Listing {
            kind: ListingKind::TotalFrom(Arc::new(total)),
        }
    }

    /// Every page starts at the first matching item whatever the `offset` asked for (which
    /// `pagination` echoes), and `pagination` has no `total`: a client that pages by offset
    /// sees the first page again and again.
    pub fn ignoring_offset() -> Listing {
        Listing {
            kind: ListingKind::IgnoresOffset,
        }
    }
}

impl Default for Listing {
    fn default() -> Self {
        Listing::exact()
    }
}

impl fmt::Debug for Listing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ListingKind::Exact => f.write_str("Listing::exact()"),
            ListingKind::StaleTotal(total) => write!(f, "Listing::stale_total({total})"),
            ListingKind::TotalFrom(_) => f.write_str("Listing::total_from(..)"),
            ListingKind::IgnoresOffset => f.write_str("Listing::ignoring_offset()"),
        }
    }
}

/// A change to a collection that a test schedules before a request
/// ([`MockWebflow::change_before_request`](super::MockWebflow::change_before_request)): items appearing or disappearing between two
/// pages of a listing, behind the client's back. Not a request.
#[derive(Clone, Debug)]
pub struct ItemChange {
    pub(super) kind: ChangeKind,
}

#[derive(Clone, Debug)]
pub(super) enum ChangeKind {
    Insert {
        collection: String,
        items: Vec<Value>,
    },
    Delete {
        collection: String,
        keys: Vec<String>,
    },
}

impl ItemChange {
    /// Adds `items` to `collection_id`, as [`MockWebflow::insert_items`](super::MockWebflow::insert_items) does.
    pub fn insert(collection_id: &str, items: impl IntoIterator<Item = Value>) -> ItemChange {
        ItemChange {
            kind: ChangeKind::Insert {
                collection: collection_id.to_owned(),
                items: items.into_iter().collect(),
            },
        }
    }

    /// Removes the items of `collection_id` whose id or slug is one of `ids_or_slugs`, as
    /// [`MockWebflow::delete_items`](super::MockWebflow::delete_items) does.
    pub fn delete<S: AsRef<str>>(
        collection_id: &str,
        ids_or_slugs: impl IntoIterator<Item = S>,
    ) -> ItemChange {
        ItemChange {
            kind: ChangeKind::Delete {
                collection: collection_id.to_owned(),
                keys: ids_or_slugs
                    .into_iter()
                    .map(|key| key.as_ref().to_owned())
                    .collect(),
            },
        }
    }
}

/// A scripted answer that replaces the normal one for a request.
#[derive(Clone, Debug)]
pub struct Fault {
    pub(super) action: Action,
}

#[derive(Clone, Debug)]
pub(super) enum Action {
    /// Answer this, process nothing.
    Instead(MockResponse),
    /// Process, then answer `replace` (or the normal answer), after `delay`.
    Process {
        replace: Option<MockResponse>,
        delay: Option<Duration>,
    },
    /// Close the connection without an answer, after processing or not.
    Drop { process: bool },
    /// Answer the request itself, as text, process nothing.
    Echo { status: u16, content_type: String },
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

    /// Answer with `status` and the request itself as the body — its request line, every
    /// header (`authorization` included) and its body as received — with this
    /// `content-type` (`text/plain` for a proxy's error page, `application/json` for a 200
    /// that is not JSON), processing nothing. For tests that no secret reaches an error
    /// message or an excerpt of a body.
    ///
    /// # Panics
    /// If `status` is not in `100..=999` or `content_type` is not a valid header value (when
    /// the request is answered).
    pub fn echo_request(status: u16, content_type: &str) -> Fault {
        Fault {
            action: Action::Echo {
                status,
                content_type: content_type.to_owned(),
            },
        }
    }
}

/// A response the mock sends: a status, headers, a body and an optional delay.
#[derive(Clone, Debug)]
pub struct MockResponse {
    pub(super) status: StatusCode,
    pub(super) headers: Vec<(HeaderName, HeaderValue)>,
    pub(super) body: Vec<u8>,
    pub(super) delay: Option<Duration>,
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
    /// (and while a [`fault_when_request`](super::MockWebflow::fault_when_request) matcher looks at
    /// it).
    pub status: u16,
}

/// One item the mock created (or, in [`MockWebflow::duplicates`](super::MockWebflow::duplicates), renamed by an update).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CreatedItem {
    /// The collection it was created in.
    pub collection_id: String,
    /// The item as the mock answered it then (with `id`, timestamps and `fieldData`, whose
    /// `slug` is the stored one); later updates do not change this record.
    pub item: Value,
    /// The request that created (or updated) it.
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
