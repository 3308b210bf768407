//! One attempt's HTTP exchange: the generated client is made per attempt ([`Transport`]),
//! its inner value is the [`Attempt`] the attempt loop (`request.rs`) prepared, and the thin
//! [`ClientHooks`] only apply what the loop decided (credentials, the attempt's timeout, a
//! watched body) and record what the answer's head said ([`AnswerFacts`]). No retrying,
//! pacing or decoding here.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use progenitor_client::{ClientHooks, OperationInfo};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, DATE, HeaderValue, RETRY_AFTER, USER_AGENT};

use crate::client::{ClientInner, HttpClientKind, ServerDate};
use crate::rate_limit::RateLimit;

/// The generated client, made for one attempt.
pub(crate) use crate::generated::Client as Transport;

/// The `User-Agent` every request carries: `webflow-api-rs/<crate version>`.
pub const USER_AGENT_VALUE: &str = concat!("webflow-api-rs/", env!("CARGO_PKG_VERSION"));

/// One attempt, as the loop prepared it; the inner value of its [`Transport`].
#[derive(Clone, Debug)]
pub(crate) struct Attempt {
    client: Arc<ClientInner>,
    /// The limit for the exchange (sending and reading the whole answer).
    timeout: Duration,
    /// Whether to watch the request body: only when a timeout could strike before the
    /// request left (the attempt's limit is shorter than the connect timeout), or when the
    /// HTTP client is the user's (its connect timeout is not known).
    watch_body: bool,
    /// Whether to keep a copy of the request body for the operation (a create resends it).
    keep_body: bool,
    /// The request body sent, when kept.
    sent_body: OnceLock<Bytes>,
    /// Set when the connection pulled the request body: from then on the request may have
    /// reached the server. `None` until a body is watched.
    body_pulled: OnceLock<Arc<AtomicBool>>,
    /// What the answer's head said; unset until an answer came.
    answer: OnceLock<AnswerFacts>,
}

/// What the answer's head said, as recorded by the hooks.
#[derive(Clone, Debug, Default)]
pub(crate) struct AnswerFacts {
    pub(crate) status: Option<StatusCode>,
    pub(crate) rate_limit: Option<RateLimit>,
    /// `Retry-After`, in seconds or as an HTTP-date read against the answer's own `Date`.
    pub(crate) retry_after: Option<Duration>,
    /// The final URL, when the HTTP client followed a redirect (it differs from the one sent).
    pub(crate) followed_to: Option<String>,
    /// The answer's request id header, if any (only errors quote it).
    pub(crate) request_id: Option<String>,
    /// The answer's `Date`, with the client-clock instant it arrived.
    pub(crate) server_date: Option<ServerDate>,
}

impl Attempt {
    /// `keep_body`: keep a copy of the request body ([`take_sent_body`](Self::take_sent_body)).
    pub(crate) fn new(client: Arc<ClientInner>, timeout: Duration, keep_body: bool) -> Attempt {
        let watch_body =
            client.http_kind == HttpClientKind::Given || timeout < client.timeouts.connect;
        Attempt {
            client,
            timeout,
            watch_body,
            keep_body,
            sent_body: OnceLock::new(),
            body_pulled: OnceLock::new(),
            answer: OnceLock::new(),
        }
    }

    /// The transport for this attempt: the generated client, carrying the attempt.
    pub(crate) fn into_transport(self) -> Transport {
        Transport {
            baseurl: self.client.base_url.clone(),
            client: self.client.http.clone(),
            inner: self,
        }
    }

    /// The request body this attempt sent, when it was asked to keep it.
    pub(crate) fn take_sent_body(&mut self) -> Option<Bytes> {
        self.sent_body.take()
    }

    /// What the answer said (empty when none came).
    pub(crate) fn take_answer(&mut self) -> AnswerFacts {
        self.answer.take().unwrap_or_default()
    }

    /// `Some(false)` when the request had a watched body the connection never pulled (it
    /// was not sent); `None` when nothing is known.
    pub(crate) fn body_was_pulled(&self) -> Option<bool> {
        self.body_pulled
            .get()
            .map(|pulled| pulled.load(Ordering::Relaxed))
    }

    /// Applies the loop's decisions to the request.
    fn prepare(&self, request: &mut reqwest::Request) {
        if self.client.http_kind == HttpClientKind::Given {
            // The crate's own client carries these as default headers.
            let headers = request.headers_mut();
            headers.insert(AUTHORIZATION, self.client.authorization.clone());
            headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        }
        *request.timeout_mut() = Some(self.timeout);
        let span = tracing::Span::current();
        if !span.is_disabled() {
            span.record(
                "http.request.method",
                tracing::field::display(request.method()),
            );
            span.record("url.path", tracing::field::display(request.url().path()));
        }
        // One copy of the body, shared by the operation's keep and the watch.
        let copied = (self.keep_body || self.watch_body)
            .then(|| request.body().and_then(reqwest::Body::as_bytes))
            .flatten()
            .map(Bytes::copy_from_slice);
        if self.keep_body
            && let Some(bytes) = &copied
        {
            let _ = self.sent_body.set(bytes.clone());
        }
        if self.watch_body
            && let Some(bytes) = copied
        {
            let pulled = Arc::new(AtomicBool::new(false));
            let body = WatchedBody {
                inner: Full::new(bytes),
                pulled: pulled.clone(),
            };
            *request.body_mut() = Some(reqwest::Body::wrap(body));
            let _ = self.body_pulled.set(pulled);
        }
    }

    /// Records what the answer's head says; `sent_to` is the URL sent to, when the HTTP
    /// client may have followed a redirect.
    fn note_answer(&self, response: &reqwest::Response, sent_to: Option<&reqwest::Url>) {
        let headers = response.headers();
        let received = self.client.clock.now();
        let date = headers
            .get(DATE)
            .and_then(|value| value.to_str().ok())
            .and_then(|text| httpdate::parse_http_date(text).ok());
        // An HTTP-date `Retry-After` is relative to the server's clock: read it against the
        // answer's `Date` when there is one, else against the client's wall clock.
        let reference = date.unwrap_or_else(|| self.client.clock.system_time());
        let facts = AnswerFacts {
            status: Some(response.status()),
            rate_limit: RateLimit::from_headers(headers),
            retry_after: headers
                .get(RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|text| crate::retry::parse_retry_after_value(text, reference)),
            followed_to: sent_to
                .filter(|sent| response.url() != *sent)
                .map(|_| response.url().to_string()),
            request_id: (!response.status().is_success())
                .then(|| crate::error::request_id(headers))
                .flatten(),
            server_date: date.map(|date| ServerDate { date, received }),
        };
        let _ = self.answer.set(facts);
    }
}

impl ClientHooks<Attempt> for Transport {
    /// Sends the attempt's request: the credentials (for a user's HTTP client), the
    /// attempt's timeout, a watched body when it matters; then records the answer's head.
    async fn exec(
        &self,
        mut request: reqwest::Request,
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let attempt = &self.inner;
        attempt.prepare(&mut request);
        // The crate's own client never follows redirects; a given one may.
        let sent_to =
            (attempt.client.http_kind == HttpClientKind::Given).then(|| request.url().clone());
        let result = self.client.execute(request).await;
        if let Ok(response) = &result {
            attempt.note_answer(response, sent_to.as_ref());
        }
        result
    }
}

/// A request body that records when the connection pulls it. Its exact size is kept, so
/// the request still carries a `Content-Length`.
struct WatchedBody {
    inner: Full<Bytes>,
    pulled: Arc<AtomicBool>,
}

impl http_body::Body for WatchedBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        self.pulled.store(true, Ordering::Relaxed);
        std::pin::Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
