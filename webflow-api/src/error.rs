//! Errors: what went wrong, whether the item may already exist, and what to do about it.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::rate_limit::RateLimit;
use crate::retry::Disposition;
use crate::types::WebflowError;

/// Everything that can go wrong when building a client or calling Webflow, whatever the
/// operation.
///
/// Every variant's `Display` says what happened and what to do; `source()` keeps the
/// underlying error (the HTTP client's, the JSON decoder's). Two questions, answered for
/// every variant by one classification ([`Error::disposition`]), cover most handling code:
/// - [`Error::is_retryable`]: nothing took effect, and sending the same request again is
///   safe and may succeed (a 429, a connection that never opened);
/// - [`Error::outcome_unknown`]: the request reached Webflow and it is unknown whether it
///   took effect (a 5xx, a timeout after sending). For a create, the item may exist: look
///   it up (for example with [`Client::find_item_by_slug`](crate::Client::find_item_by_slug),
///   in its locale, checking that what is found holds what was sent: the slug may be
///   someone else's) before sending it again — or let a bulk import of the one item settle
///   it (see [`Settle`](crate::Settle)).
///
/// [`Error::status`] and [`Error::api_error`] tell what Webflow answered. The API token
/// never appears in any error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client could not be built (missing token, bad base URL, TLS set-up).
    #[error("invalid client configuration: {0}")]
    Config(String),

    /// The input was refused before any request was sent.
    #[error("invalid input, nothing was sent: {0}")]
    InvalidInput(String),

    /// Webflow answered with an error status and an error body.
    #[error(transparent)]
    Api(Box<ApiError>),

    /// Rate limited, and the call may not wait that long: Webflow answered 429 and asked
    /// for a longer wait than allowed (or the retries ran out), or the client's rate limiter
    /// had no slot within the allowed wait. Nothing took effect.
    #[error(transparent)]
    RateLimited(Box<RateLimitedError>),

    /// No answer came in time, or the deadline would have passed before sending.
    #[error(transparent)]
    Timeout(TimeoutError),

    /// The connection failed.
    #[error(transparent)]
    Transport(TransportError),

    /// The answer was a redirect (3xx), which the client never follows.
    #[error(transparent)]
    Redirect(Box<RedirectError>),

    /// Webflow answered, but the body is not what the API describes (an HTML error page from
    /// a proxy, an empty body, truncated JSON).
    #[error(transparent)]
    UndecodableResponse(Box<UndecodableResponse>),

    /// An item could not be created because its slug is held by another item of the
    /// collection, one this import did not create. Nothing was created for it; sending it
    /// again would fail the same way (or make a copy under a suffixed slug).
    #[error(transparent)]
    SlugTaken(Box<SlugTakenError>),

    /// A listing of the collection could not be read to its end in a way that can be
    /// trusted (it kept changing, or the server does not page by offset). Nothing was
    /// changed by it.
    #[error(
        "the collection's listing cannot be trusted: {0}. Nothing was changed; read it again later"
    )]
    ListingUnreliable(String),
}

impl Error {
    /// The HTTP status of the answer, if one came.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::RateLimited(e) => e.response.as_ref().map(|r| r.status),
            Error::Redirect(e) => Some(e.status),
            Error::UndecodableResponse(e) => e.status,
            _ => None,
        }
    }

    /// The decoded error body, for [`Error::Api`] and a 429's [`Error::RateLimited`].
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            Error::RateLimited(e) => e.response.as_ref(),
            _ => None,
        }
    }

    /// How long Webflow (or the client's rate limiter) asked to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited(e) => e.retry_after,
            Error::Api(e) => e.retry_after,
            _ => None,
        }
    }

    /// The rate-limit headers of the answer that failed, if there was one.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        match self {
            Error::Api(e) => e.rate_limit,
            Error::RateLimited(e) => e.response.as_ref().and_then(|r| r.rate_limit),
            Error::Redirect(e) => e.rate_limit,
            Error::UndecodableResponse(e) => e.rate_limit,
            _ => None,
        }
    }

    /// What this error means for sending the same request again: the one classification
    /// the retry policy, bulk imports and these methods share (see [`crate::retry`]).
    pub fn disposition(&self) -> Disposition {
        match self {
            Error::Config(_) | Error::InvalidInput(_) => Disposition::Refused,
            Error::ListingUnreliable(_) => Disposition::NotProcessed,
            Error::SlugTaken(_) => Disposition::Refused,
            Error::Api(e) => status_disposition(e.status),
            Error::RateLimited(_) => Disposition::NotProcessed,
            Error::Timeout(e) => sent_disposition(e.request_sent),
            Error::Transport(e) => sent_disposition(e.request_sent),
            Error::Redirect(_) => Disposition::Redirected,
            Error::UndecodableResponse(e) => match e.status {
                // A success status: the work was probably done, its answer is garbled.
                Some(status) if status.is_success() => Disposition::OutcomeUnknown,
                Some(status) => status_disposition(status),
                None => Disposition::OutcomeUnknown,
            },
        }
    }

    /// `true` when nothing took effect and sending the same request again is safe and may
    /// succeed: a 429 or 408, a connection that failed before the request was sent.
    pub fn is_retryable(&self) -> bool {
        self.disposition().is_retryable()
    }

    /// `true` when the request reached Webflow and it is unknown whether it took effect: a
    /// 5xx, a timeout or a broken connection after sending, a success whose body could not
    /// be decoded, a redirect. Check before sending the same request again (for a create:
    /// look the item up by slug).
    pub fn outcome_unknown(&self) -> bool {
        self.disposition().may_have_taken_effect()
    }
}

/// What a status means beyond "may it be sent again": the one place where the crate
/// reads status numbers (and Webflow's error details) to decide what an import does.
impl Error {
    /// `true` when Webflow refused the request for what it holds (400 or 422): nothing was
    /// created, and the same request will fail again; another request without the items
    /// at fault may succeed.
    pub fn is_invalid_request(&self) -> bool {
        matches!(self.api_error(), Some(api) if matches!(api.status.as_u16(), 400 | 422))
    }

    /// `true` when every request with the same token and collection would fail the same way
    /// (401 bad token, 403 missing scope, 404 unknown collection): an import stops.
    pub fn affects_every_request(&self) -> bool {
        matches!(self.status().map(|s| s.as_u16()), Some(401 | 403 | 404))
    }

    /// `true` for a 404: the collection, or for an update or a delete one of its items, does
    /// not exist (or is not visible to this token).
    pub fn is_not_found(&self) -> bool {
        matches!(self.status().map(|s| s.as_u16()), Some(404))
    }

    /// `true` for a 409: the request conflicts with the collection's state (an update of an
    /// item that is not published; a collection whose structure changed since publishing).
    pub fn is_conflict(&self) -> bool {
        matches!(self.status().map(|s| s.as_u16()), Some(409))
    }

    /// For a refused bulk request: the positions its error details name
    /// (`items[48].fieldData.slug`), each with the detail as it applies to that item alone
    /// (its `param` without the `items[48].` prefix). Empty when no detail names an item.
    pub fn item_details(&self) -> Vec<(usize, Value)> {
        let Some(api) = self.api_error().filter(|_| self.is_invalid_request()) else {
            return Vec::new();
        };
        api.details
            .iter()
            .filter_map(|detail| {
                let param = detail.get("param").and_then(Value::as_str)?;
                let rest = param.strip_prefix("items[")?;
                let (position, rest) = rest.split_once(']')?;
                let position = position.parse().ok()?;
                let mut own = detail.clone();
                own["param"] = Value::String(rest.trim_start_matches('.').to_owned());
                Some((position, own))
            })
            .collect()
    }

    /// For a refused create: the slugs Webflow says are already taken, as its details word
    /// it (`{"param": "fieldData.slug", "description": "Unique value is already in
    /// database: 'x'"}`, seen in NangoHQ/nango#5210), with the position when the detail
    /// names one.
    pub fn taken_slugs(&self) -> Vec<(Option<usize>, String)> {
        let Some(api) = self.api_error().filter(|_| self.is_invalid_request()) else {
            return Vec::new();
        };
        api.details
            .iter()
            .filter_map(|detail| {
                let text = |key: &str| detail.get(key).and_then(Value::as_str).unwrap_or("");
                let param = text("param");
                let description = text("description");
                if !param.ends_with("slug")
                    || !description
                        .to_ascii_lowercase()
                        .contains("already in database")
                {
                    return None;
                }
                let slug = description
                    .split_once('\'')
                    .and_then(|(_, rest)| rest.rsplit_once('\''))
                    .map(|(slug, _)| slug.to_owned())
                    .unwrap_or_default();
                let position = param
                    .strip_prefix("items[")
                    .and_then(|rest| rest.split_once(']'))
                    .and_then(|(n, _)| n.parse().ok());
                Some((position, slug))
            })
            .collect()
    }
}

impl Error {
    /// This refused request's error as it applies to one of its items: only the details
    /// that name it, with their `param` made relative to the item.
    pub(crate) fn for_item(&self, details: Vec<Value>) -> Error {
        match self.api_error() {
            Some(api) => {
                let mut own = api.clone();
                own.details = details;
                own.item_level = true;
                Error::Api(Box::new(own))
            }
            None => Error::InvalidInput(self.to_string()),
        }
    }
}

impl Error {
    /// Removes the API token and any credential from every piece of the answer this error
    /// quotes (see `auth::redact`).
    pub(crate) fn redact(&mut self, token: &str) {
        let scrub = |text: &mut String| *text = crate::auth::redact(text, token);
        let scrub_api = |api: &mut ApiError| {
            if let Some(message) = api.message.as_mut() {
                scrub(message);
            }
            if let Some(reference) = api.external_reference.as_mut() {
                scrub(reference);
            }
            for detail in &mut api.details {
                redact_value(detail, token);
            }
        };
        match self {
            Error::Api(api) => scrub_api(api),
            Error::RateLimited(limited) => {
                if let Some(api) = limited.response.as_mut() {
                    scrub_api(api);
                }
            }
            Error::Redirect(redirect) => {
                if let Some(location) = redirect.location.as_mut() {
                    scrub(location);
                }
            }
            Error::UndecodableResponse(undecodable) => {
                scrub(&mut undecodable.excerpt);
                scrub(&mut undecodable.reason);
            }
            _ => {}
        }
    }
}

fn redact_value(value: &mut Value, token: &str) {
    match value {
        Value::String(text) => *text = crate::auth::redact(text, token),
        Value::Array(items) => items.iter_mut().for_each(|item| redact_value(item, token)),
        Value::Object(map) => map.values_mut().for_each(|item| redact_value(item, token)),
        _ => {}
    }
}

/// An item's slug is held by another item, one this import did not create.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SlugTakenError {
    /// The slug sent.
    pub slug: String,
    /// The `cmsLocaleId` sent, if any.
    pub locale: Option<String>,
    /// The id of the item that holds it.
    pub taken_by: String,
}

impl fmt::Display for SlugTakenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the slug {:?} is already taken by item {}, which this import did not create; \
             nothing was created for this item and it was not sent again. Give it another slug, \
             or skip existing items (resume)",
            self.slug, self.taken_by
        )
    }
}

impl std::error::Error for SlugTakenError {}

/// What an answer's status means for sending the request again.
pub(crate) fn status_disposition(status: StatusCode) -> Disposition {
    match status.as_u16() {
        200..=299 => Disposition::Succeeded,
        300..=399 => Disposition::Redirected,
        408 | 429 => Disposition::NotProcessed,
        400..=499 => Disposition::Refused,
        _ => Disposition::OutcomeUnknown,
    }
}

fn sent_disposition(request_sent: bool) -> Disposition {
    if request_sent {
        Disposition::OutcomeUnknown
    } else {
        Disposition::NotProcessed
    }
}

/// A Webflow error code. Any string decodes (Webflow adds codes over time); the codes
/// Webflow documents are associated constants.
///
/// ```
/// use webflow_api::ErrorCode;
/// assert_eq!(ErrorCode::from("validation_error"), ErrorCode::VALIDATION_ERROR);
/// assert!(!ErrorCode::from("brand_new_code").is_known());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrorCode(Cow<'static, str>);

macro_rules! error_codes {
    ($($name:ident = $code:literal,)*) => {
        impl ErrorCode {
            $(
                #[doc = concat!("`", $code, "`")]
                pub const $name: ErrorCode = ErrorCode(Cow::Borrowed($code));
            )*

            /// Every code Webflow's published spec lists.
            pub const KNOWN: &'static [ErrorCode] = &[$(ErrorCode::$name),*];
        }
    };
}

error_codes! {
    BAD_REQUEST = "bad_request",
    COLLECTION_NOT_FOUND = "collection_not_found",
    CONFLICT = "conflict",
    DUPLICATE_COLLECTION = "duplicate_collection",
    DUPLICATE_USER_EMAIL = "duplicate_user_email",
    ECOMMERCE_NOT_ENABLED = "ecommerce_not_enabled",
    FORBIDDEN = "forbidden",
    FORMS_REQUIRE_REPUBLISH = "forms_require_republish",
    INCOMPATIBLE_WEBHOOK_FILTER = "incompatible_webhook_filter",
    INTERNAL_ERROR = "internal_error",
    INVALID_AUTH_VERSION = "invalid_auth_version",
    INVALID_CREDENTIALS = "invalid_credentials",
    INVALID_DOMAIN = "invalid_domain",
    INVALID_USER_EMAIL = "invalid_user_email",
    ITEM_NOT_FOUND = "item_not_found",
    MISSING_SCOPES = "missing_scopes",
    NO_DOMAINS = "no_domains",
    NOT_AUTHORIZED = "not_authorized",
    NOT_ENTERPRISE_PLAN_SITE = "not_enterprise_plan_site",
    NOT_ENTERPRISE_PLAN_WORKSPACE = "not_enterprise_plan_workspace",
    ORDER_NOT_FOUND = "order_not_found",
    RESOURCE_NOT_FOUND = "resource_not_found",
    SERVICE_UNAVAILABLE = "service_unavailable",
    TOO_MANY_REQUESTS = "too_many_requests",
    UNSUPPORTED_VERSION = "unsupported_version",
    UNSUPPORTED_WEBHOOK_TRIGGER_TYPE = "unsupported_webhook_trigger_type",
    USER_LIMIT_REACHED = "user_limit_reached",
    USER_NOT_FOUND = "user_not_found",
    USERS_NOT_ENABLED = "users_not_enabled",
    VALIDATION_ERROR = "validation_error",
}

impl ErrorCode {
    /// The code as Webflow sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `true` for the codes in [`ErrorCode::KNOWN`].
    pub fn is_known(&self) -> bool {
        ErrorCode::KNOWN.contains(self)
    }
}

impl From<&str> for ErrorCode {
    fn from(code: &str) -> Self {
        ErrorCode(Cow::Owned(code.to_owned()))
    }
}

impl From<String> for ErrorCode {
    fn from(code: String) -> Self {
        ErrorCode(Cow::Owned(code))
    }
}

impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An error response from Webflow, decoded.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// Webflow's error code (`code`), if the body had one.
    pub code: Option<ErrorCode>,
    /// Webflow's message (`message`).
    pub message: Option<String>,
    /// `externalReference`: a link to more information, usually absent.
    pub external_reference: Option<String>,
    /// `details`: for a validation error, one entry per invalid field, e.g.
    /// `{"param": "price", "description": "..."}`. Entries may have any shape.
    pub details: Vec<Value>,
    /// `Retry-After`, parsed (seconds or HTTP-date).
    pub retry_after: Option<Duration>,
    /// The `X-RateLimit-*` headers of the response.
    pub rate_limit: Option<RateLimit>,
    /// The request id header of the response (`x-request-id`), if any: quote it to
    /// Webflow support.
    pub request_id: Option<String>,
    /// The error applies to one item of a bulk request: its details are that item's.
    pub(crate) item_level: bool,
}

impl ApiError {
    /// Builds the error from a status, the decoded body and the response headers.
    pub(crate) fn new(
        status: StatusCode,
        body: WebflowError,
        headers: &reqwest::header::HeaderMap,
        retry_after: Option<Duration>,
    ) -> Self {
        ApiError {
            status,
            code: body.code.map(ErrorCode::from),
            message: body.message,
            external_reference: body.external_reference,
            details: body.details,
            item_level: false,
            retry_after,
            rate_limit: RateLimit::from_headers(headers),
            request_id: request_id(headers),
        }
    }

    /// Each entry of `details` as one readable line, e.g. `price: must be a number`.
    pub fn detail_lines(&self) -> Vec<String> {
        self.details.iter().map(describe_detail).collect()
    }

    fn advice(&self) -> Cow<'static, str> {
        match self.status.as_u16() {
            400 | 422 if self.item_level => {
                "Webflow refused this item for the fields named; fix them and send it again (the other items of its request were sent without it).".into()
            }
            400 | 422 if !self.details.is_empty() => {
                "Fix the fields named in the details; sending the request unchanged will fail again.".into()
            }
            400 | 422 => "Fix the request; sending it unchanged will fail again.".into(),
            401 => "Check the API token (WEBFLOW_API_TOKEN): it is missing, invalid, expired or revoked.".into(),
            403 => "The token may not do this: check its scopes (cms:read to list items, cms:write to create them) and its access to this site.".into(),
            404 => "Check the collection id (and the base URL): nothing with this id is visible to this token.".into(),
            408 => "Webflow gave up before reading the request: nothing took effect; send it again.".into(),
            409 => "The collection changed (for example its fields since the last publish): publish or reload it, then send again.".into(),
            429 => match self.retry_after {
                Some(wait) => format!("Nothing took effect. Webflow asked to wait {}s; slow down or enable pacing.", wait.as_secs()).into(),
                None => "Nothing took effect; slow down or enable pacing.".into(),
            },
            s if s >= 500 => "The request may have taken effect before Webflow failed: check before sending it again.".into(),
            _ => "".into(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            write!(f, "rate limited by Webflow ({})", self.status)?;
        } else {
            write!(f, "Webflow API error {}", self.status)?;
        }
        if let Some(code) = &self.code {
            write!(f, " [{code}]")?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        let details = self.detail_lines();
        if !details.is_empty() {
            write!(f, " (details: {})", details.join("; "))?;
        }
        let advice = self.advice();
        if !advice.is_empty() {
            write!(f, ". {advice}")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// One `details` entry as text: `param: description` for Webflow's usual shape, the string
/// for a string, compact JSON otherwise.
fn describe_detail(detail: &Value) -> String {
    let field = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| detail.get(*k).and_then(Value::as_str))
    };
    match detail {
        Value::String(s) => s.clone(),
        Value::Object(_) => match (
            field(&["param", "field"]),
            field(&["description", "message"]),
        ) {
            (Some(name), Some(text)) => format!("{name}: {text}"),
            (None, Some(text)) => text.to_owned(),
            _ => detail.to_string(),
        },
        other => other.to_string(),
    }
}

pub(crate) fn request_id(headers: &reqwest::header::HeaderMap) -> Option<String> {
    const NAMES: [reqwest::header::HeaderName; 2] = [
        reqwest::header::HeaderName::from_static("x-request-id"),
        reqwest::header::HeaderName::from_static("x-webflow-request-id"),
    ];
    NAMES
        .iter()
        .find_map(|name| headers.get(name))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// No answer came in time, or the overall deadline would have passed before sending.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TimeoutError {
    /// Which limit ran out.
    pub kind: TimeoutKind,
    /// The limit that ran out.
    pub limit: Duration,
    /// `false` when nothing was sent (the connection never opened, or the call ended before
    /// sending): resending is safe. `true` when the request may have reached Webflow.
    pub request_sent: bool,
    /// The HTTP client's error, when it reported the timeout.
    pub source: Option<Arc<reqwest::Error>>,
}

/// Which timeout ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Opening the connection (TCP and TLS) took too long: nothing was sent.
    Connect,
    /// One attempt (send and read the whole answer) took longer than the attempt timeout.
    Attempt,
    /// The overall deadline (all attempts and waits) ran out, or would have before the
    /// request could be sent.
    Deadline,
}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            TimeoutKind::Connect => "connecting to Webflow",
            TimeoutKind::Attempt => "waiting for Webflow's answer",
            TimeoutKind::Deadline => "the call's overall deadline",
        };
        write!(f, "timed out after {:?} ({what})", self.limit)?;
        if self.request_sent {
            write!(
                f,
                ": the request was sent, so it may have taken effect. Check before sending it \
                 again, or raise the timeout"
            )
        } else if self.kind == TimeoutKind::Deadline {
            write!(
                f,
                ": nothing was sent (waiting for the rate limit would have passed the deadline); \
                 send it again later, or raise the overall deadline"
            )
        } else {
            write!(
                f,
                ": nothing was sent; check the network and the base URL, then retry"
            )
        }
    }
}

impl std::error::Error for TimeoutError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The connection failed.
#[derive(Debug)]
#[non_exhaustive]
pub struct TransportError {
    /// `false` when the request never left (connection refused, DNS, TLS handshake):
    /// resending is safe. `true` when the connection broke after the request was sent: it
    /// may have taken effect.
    pub request_sent: bool,
    /// The underlying error.
    pub source: reqwest::Error,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // What went wrong (reqwest's error: the URL, never the token) is `source()`; the
        // message does not repeat it, so error reporters that print the chain print it once.
        if self.request_sent {
            write!(
                f,
                "the connection to Webflow failed after the request was sent; it may have taken \
                 effect: check before sending it again"
            )
        } else {
            write!(
                f,
                "could not reach Webflow, nothing was sent; check the network, proxy and base \
                 URL, then retry"
            )
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Rate limited beyond what the call may wait. Nothing took effect.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RateLimitedError {
    /// The wait that would have been needed: Webflow's `Retry-After`, or the wait for the
    /// client's rate limiter's next slot.
    pub retry_after: Option<Duration>,
    /// The longest wait the call was allowed (its `max_wait`, or what was left of its
    /// deadline), when the wait was refused for being longer.
    pub allowed_wait: Option<Duration>,
    /// Webflow's 429 answer; `None` when the client's rate limiter refused before sending.
    pub response: Option<ApiError>,
}

impl fmt::Display for RateLimitedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.response {
            Some(response) => {
                write!(f, "rate limited by Webflow ({})", response.status)?;
                if let Some(code) = &response.code {
                    write!(f, " [{code}]")?;
                }
                if let Some(message) = &response.message {
                    write!(f, ": {message}")?;
                }
                write!(f, ". Nothing took effect")?;
                if let Some(id) = &response.request_id {
                    write!(f, " (request id {id})")?;
                }
            }
            None => write!(
                f,
                "rate limited: the client's rate limiter had no free slot in time (the paced rate, \
                 or an earlier 429's wait). Nothing was sent"
            )?,
        }
        match (self.retry_after, self.allowed_wait) {
            (Some(wait), Some(allowed)) => write!(
                f,
                ". The wait needed ({}) is longer than this call may wait ({}); send it again \
                 later, or raise RetryPolicy::max_wait",
                seconds(wait),
                seconds(allowed)
            ),
            (Some(wait), None) => write!(
                f,
                ". Webflow asked to wait {}; slow down or enable pacing",
                seconds(wait)
            ),
            (None, _) => write!(f, "; slow down or enable pacing"),
        }
    }
}

impl std::error::Error for RateLimitedError {}

/// A duration as seconds for messages: `600s`, `1.5s`.
fn seconds(duration: Duration) -> String {
    if duration.subsec_nanos() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{:.1}s", duration.as_secs_f64())
    }
}

/// The answer was a redirect. The client never follows one: a create redirected as a
/// `GET` would be reported as whatever the other address returns.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RedirectError {
    /// The status of the answer (a 3xx, or the final status when an HTTP client given with
    /// [`ClientBuilder::http_client`](crate::ClientBuilder::http_client) followed the redirect).
    pub status: StatusCode,
    /// Where it pointed (`Location`), or where a followed redirect ended.
    pub location: Option<String>,
    /// `true` when the HTTP client followed the redirect before the client could refuse it.
    pub followed: bool,
    /// The `X-RateLimit-*` headers of the answer.
    pub rate_limit: Option<RateLimit>,
}

impl fmt::Display for RedirectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let location = self.location.as_deref().unwrap_or("(no Location header)");
        if self.followed {
            write!(
                f,
                "the HTTP client followed a redirect to {location} (final status {}); the answer \
                 is not Webflow's. Configure the reqwest::Client with \
                 redirect::Policy::none()",
                self.status
            )?;
        } else {
            write!(
                f,
                "the answer was a redirect ({}) to {location}, which the client never follows",
                self.status
            )?;
        }
        write!(
            f,
            ". The request may or may not have taken effect: check the base URL \
             (WEBFLOW_API_BASE_URL) and any proxy, and check before sending it again"
        )
    }
}

impl std::error::Error for RedirectError {}

/// The longest body excerpt kept in [`UndecodableResponse`].
pub const BODY_EXCERPT_LIMIT: usize = 512;

/// Webflow answered with a body that does not decode as the API describes.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct UndecodableResponse {
    /// The status of the response, when known.
    pub status: Option<StatusCode>,
    /// At most [`BODY_EXCERPT_LIMIT`] bytes of the body, as lossy UTF-8.
    pub excerpt: String,
    /// The full length of the body in bytes.
    pub body_len: usize,
    /// Why it did not decode.
    pub reason: String,
    /// The `X-RateLimit-*` headers of the response.
    pub rate_limit: Option<RateLimit>,
    /// The decoder's error, when there was one.
    pub source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl UndecodableResponse {
    pub(crate) fn new(
        status: Option<StatusCode>,
        body: &[u8],
        reason: impl fmt::Display,
        rate_limit: Option<RateLimit>,
    ) -> Self {
        UndecodableResponse {
            status,
            excerpt: excerpt(body),
            body_len: body.len(),
            reason: reason.to_string(),
            rate_limit,
            source: None,
        }
    }

    /// The same, keeping the decoder's error as `source()`.
    pub(crate) fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        self.source = Some(Arc::new(source));
        self
    }
}

impl fmt::Display for UndecodableResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(status) => write!(
                f,
                "Webflow answered {status} with a body that could not be decoded"
            )?,
            None => write!(f, "Webflow's answer could not be decoded")?,
        }
        // The decoder's error, when there is one, is `source()`: not repeated here.
        if self.source.is_none() {
            write!(f, " ({})", self.reason)?;
        }
        if self.body_len == 0 {
            // Without a status the answer was read fine but did not match what was sent.
            if self.status.is_some() {
                write!(f, "; the body was empty")?;
            }
        } else {
            write!(f, "; body ({} bytes): {:?}", self.body_len, self.excerpt)?;
        }
        match self.status {
            Some(s) if s.is_success() => write!(
                f,
                ". The request probably took effect: check before sending it again"
            ),
            Some(s) if s.is_client_error() => write!(f, ". Nothing took effect"),
            _ => write!(
                f,
                ". The request may have taken effect: check before sending it again"
            ),
        }
    }
}

impl std::error::Error for UndecodableResponse {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The first [`BODY_EXCERPT_LIMIT`] bytes of `body` as text, cut on a character boundary.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(BODY_EXCERPT_LIMIT)]);
    let mut text = text.into_owned();
    if body.len() > BODY_EXCERPT_LIMIT {
        // A multi-byte character cut in half shows as U+FFFD; drop it.
        if text.ends_with('\u{FFFD}') {
            text.pop();
        }
        text.push('…');
    }
    text
}
