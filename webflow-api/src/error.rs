//! Errors: what went wrong, whether the item may already exist, and what to do about it.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::rate_limit::RateLimit;
use crate::types::WebflowError;

/// Everything that can go wrong when building a client or creating items.
///
/// Every variant's `Display` says what happened and what to do. Three questions cover
/// most handling code:
/// - [`Error::is_retryable`]: sending the same request again is safe and may succeed;
/// - [`Error::may_have_been_created`]: the request reached Webflow but its outcome is
///   unknown, so resending it may create a duplicate item;
/// - [`Error::status`], [`Error::api_error`]: what Webflow answered.
///
/// The API token never appears in any error.
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
    #[error("{0}")]
    Api(Box<ApiError>),

    /// Webflow answered 429 Too Many Requests, and the retry policy gave up waiting.
    /// Nothing was created.
    #[error("{0}")]
    RateLimited(Box<ApiError>),

    /// No answer came in time.
    #[error("{0}")]
    Timeout(TimeoutError),

    /// The connection failed.
    #[error("{0}")]
    Transport(TransportError),

    /// Webflow answered, but the body is not what the API describes (an HTML error page from
    /// a proxy, an empty body, truncated JSON).
    #[error("{0}")]
    UndecodableResponse(Box<UndecodableResponse>),
}

impl Error {
    /// The HTTP status Webflow answered with, if it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(e) | Error::RateLimited(e) => Some(e.status),
            Error::UndecodableResponse(e) => e.status,
            _ => None,
        }
    }

    /// The decoded error response, for [`Error::Api`] and [`Error::RateLimited`].
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) | Error::RateLimited(e) => Some(e),
            _ => None,
        }
    }

    /// How long Webflow asked to wait (`Retry-After`), if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.api_error().and_then(|e| e.retry_after)
    }

    /// The rate-limit headers of the response that failed, if there was one.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        match self {
            Error::Api(e) | Error::RateLimited(e) => e.rate_limit,
            Error::UndecodableResponse(e) => e.rate_limit,
            _ => None,
        }
    }

    /// `true` when sending the same request again is safe (nothing was created) and may
    /// succeed: a 429, or a connection that failed before the request was sent.
    ///
    /// A 5xx or a timeout is *not* retryable in this sense: see
    /// [`Error::may_have_been_created`].
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited(_) => true,
            Error::Timeout(e) => !e.request_sent,
            Error::Transport(e) => !e.request_sent,
            _ => false,
        }
    }

    /// `true` when the request reached Webflow and it is unknown whether the item(s) were
    /// created: a 5xx, a timeout or a broken connection after the request was sent, or a
    /// success status whose body could not be decoded. Check the collection (for example
    /// by slug) before sending the same item again.
    pub fn may_have_been_created(&self) -> bool {
        match self {
            Error::Api(e) => e.status.is_server_error(),
            Error::Timeout(e) => e.request_sent,
            Error::Transport(e) => e.request_sent,
            Error::UndecodableResponse(e) => e.may_have_been_created(),
            _ => false,
        }
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
            400 | 422 if !self.details.is_empty() => {
                "Fix the fields named in the details; sending the request unchanged will fail again.".into()
            }
            400 | 422 => "Fix the request; sending it unchanged will fail again.".into(),
            401 => "Check the API token (WEBFLOW_API_TOKEN): it is missing, invalid, expired or revoked.".into(),
            403 => "The token may not do this: it needs the cms:write scope and access to this site.".into(),
            404 => "Check the collection id: no collection with this id is visible to this token.".into(),
            409 => "The collection changed (for example its fields since the last publish): publish or reload it, then send again.".into(),
            429 => match self.retry_after {
                Some(wait) => format!("Nothing was created. Webflow asked to wait {}s; slow down or enable pacing.", wait.as_secs()).into(),
                None => "Nothing was created; slow down or enable pacing.".into(),
            },
            s if s >= 500 => "The item(s) may have been created: check the collection (for example by slug) before sending again.".into(),
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

/// No answer came in time.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TimeoutError {
    /// Which limit ran out.
    pub kind: TimeoutKind,
    /// The limit that ran out.
    pub limit: Duration,
    /// `false` only when the connection could not even be opened, so nothing was sent.
    pub request_sent: bool,
}

/// Which timeout ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Opening the connection took longer than the connect timeout.
    Connect,
    /// One attempt (send and read the whole answer) took longer than the per-attempt timeout.
    Attempt,
    /// The overall deadline (all attempts and waits) ran out.
    Deadline,
}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            TimeoutKind::Connect => "connecting to Webflow",
            TimeoutKind::Attempt => "waiting for Webflow's answer",
            TimeoutKind::Deadline => "the request's overall deadline",
        };
        write!(f, "timed out after {:?} ({what})", self.limit)?;
        if self.request_sent {
            write!(
                f,
                ": the request was sent, so the item may have been created. Check the collection \
                 (for example by slug) before sending it again, or raise the timeout"
            )
        } else {
            write!(
                f,
                ": nothing was sent; check the network and the base URL, then retry"
            )
        }
    }
}

/// The connection failed.
#[derive(Debug)]
#[non_exhaustive]
pub struct TransportError {
    /// `false` when the request never left (connection refused, DNS, TLS handshake):
    /// resending is safe. `true` when the connection broke after the request was sent:
    /// the item may have been created.
    pub request_sent: bool,
    /// The underlying error.
    pub source: reqwest::Error,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // reqwest's message names the URL (never the token); its source says why.
        let cause = std::error::Error::source(&self.source)
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        if self.request_sent {
            write!(
                f,
                "the connection to Webflow failed after the request was sent: {}{cause}. The item \
                 may have been created; check the collection before sending it again",
                self.source
            )
        } else {
            write!(
                f,
                "could not reach Webflow, nothing was sent: {}{cause}. Check the network, proxy \
                 and base URL, then retry",
                self.source
            )
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

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
        }
    }

    /// `true` unless the status says the request was refused (4xx): a success status whose
    /// body is garbled most likely created the item; a 5xx leaves it unknown.
    pub fn may_have_been_created(&self) -> bool {
        !self.status.is_some_and(|s| s.is_client_error())
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
        write!(f, " ({})", self.reason)?;
        if self.body_len == 0 {
            write!(f, "; the body was empty")?;
        } else {
            write!(f, "; body ({} bytes): {:?}", self.body_len, self.excerpt)?;
        }
        match self.status {
            Some(s) if s.is_success() => write!(
                f,
                ". The item was probably created: check the collection before sending it again"
            ),
            Some(s) if s.is_client_error() => write!(f, ". Nothing was created"),
            _ => write!(
                f,
                ". The item may have been created: check the collection before sending it again"
            ),
        }
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
