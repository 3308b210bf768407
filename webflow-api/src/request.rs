//! The one request path: every operation (a create, a bulk chunk, a lookup, a page of a
//! listing) goes through [`Client::call`], the only attempt loop. Per attempt it reserves a
//! slot from the client's rate limiter, applies the overall deadline, sets the attempt
//! timeout, opens the tracing span, decodes the answer into the operation's type or an
//! [`Error`] (one mapping, generic over the operation), classifies it and asks
//! [`retry::decide`] whether to send it again.
//!
//! The generated client's [`ClientHooks`](progenitor_client::ClientHooks) stay thin (see
//! `hooks.rs`): they apply what this loop decided for the attempt in scope and note what
//! the answer said.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::future::{Either, select};
use http_body_util::Full;
use progenitor_client::ResponseValue;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION};
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::error::{
    ApiError, RateLimitedError, RedirectError, TimeoutError, TimeoutKind, TransportError,
    UndecodableResponse,
};
use crate::pacing::Observation;
use crate::rate_limit::RateLimit;
use crate::retry::{self, Decision, RetryInput, RetryPolicy, StopReason, WaitReason};
use crate::types::WebflowError;
use crate::{Client, Error};
use tokio_util::sync::CancellationToken;

/// An operation of the API, as far as the request path is concerned.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Operation {
    /// Webflow's operationId, as in the spec (and in tracing spans).
    pub(crate) id: &'static str,
    /// Whether sending it twice does no more than sending it once.
    pub(crate) idempotent: bool,
}

/// `POST /collections/{collection_id}/items/live`: not idempotent.
pub(crate) const CREATE_ITEM_LIVE: Operation = Operation {
    id: "create-item-live",
    idempotent: false,
};

/// `GET /collections/{collection_id}/items`: idempotent.
pub(crate) const LIST_COLLECTION_ITEMS: Operation = Operation {
    id: "list-collection-items",
    idempotent: true,
};

/// What a call reports while it waits, for progress displays.
#[derive(Clone, Copy, Debug)]
pub(crate) enum CallEvent {
    /// Waiting this long, and why.
    Waiting {
        wait: Duration,
        until: Instant,
        reason: WaitReason,
    },
    /// Webflow answered 429.
    Throttled { retry_after: Option<Duration> },
}

/// How one call may retry and wait; unset fields are the client's.
#[derive(Clone, Copy, Default)]
pub(crate) struct CallOptions<'a> {
    pub(crate) retry: Option<&'a RetryPolicy>,
    pub(crate) cancel: Option<&'a CancellationToken>,
    pub(crate) events: Option<&'a (dyn Fn(CallEvent) + Send + Sync)>,
}

/// Why a call ended without a value.
#[derive(Debug)]
pub(crate) enum CallError {
    /// The last attempt's error.
    Failed(Error),
    /// Cancelled before an attempt was sent; the error of an earlier attempt, if any.
    Cancelled(Option<Error>),
}

impl From<CallError> for Error {
    fn from(error: CallError) -> Self {
        match error {
            CallError::Failed(error) | CallError::Cancelled(Some(error)) => error,
            CallError::Cancelled(None) => Error::InvalidInput(
                "the call was cancelled before its request was sent; nothing took effect".into(),
            ),
        }
    }
}

/// What a call came to, and what it took.
#[derive(Debug)]
pub(crate) struct CallOutcome<T> {
    pub(crate) result: Result<T, CallError>,
    /// Requests sent.
    pub(crate) requests: u32,
    /// 429 answers met.
    pub(crate) throttled: u32,
}

impl<T> CallOutcome<T> {
    /// A call refused before any request.
    pub(crate) fn refused(error: Error) -> Self {
        CallOutcome {
            result: Err(CallError::Failed(error)),
            requests: 0,
            throttled: 0,
        }
    }
}

tokio::task_local! {
    static ATTEMPT: Arc<Attempt>;
}

/// One attempt in flight, shared with the hooks: the timeout this loop chose, and what the
/// HTTP exchange showed.
#[derive(Debug)]
pub(crate) struct Attempt {
    timeout: Duration,
    /// Set when the connection pulled the request body: from then on the request may have
    /// reached the server. A request whose body was never pulled was never sent.
    body_pulled: AtomicBool,
    had_body: AtomicBool,
    /// The request body as sent, for a retry to rebuild from.
    sent_body: std::sync::OnceLock<Bytes>,
    answer: Mutex<AnswerFacts>,
}

/// What the answer's head said, as noted by the hooks.
#[derive(Clone, Debug, Default)]
pub(crate) struct AnswerFacts {
    pub(crate) status: Option<StatusCode>,
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) retry_after: Option<Duration>,
    /// The final URL, when the HTTP client followed a redirect (it differs from the one sent).
    pub(crate) followed_to: Option<String>,
    /// The answer's request id header, if any.
    pub(crate) request_id: Option<String>,
}

impl Attempt {
    fn new(timeout: Duration) -> Attempt {
        Attempt {
            timeout,
            body_pulled: AtomicBool::new(false),
            had_body: AtomicBool::new(false),
            sent_body: std::sync::OnceLock::new(),
            answer: Mutex::new(AnswerFacts::default()),
        }
    }

    /// The attempt in scope on this task, if the request is sent by [`Client::call`].
    pub(crate) fn current() -> Option<Arc<Attempt>> {
        ATTEMPT.try_with(Arc::clone).ok()
    }

    /// The timeout for this attempt's exchange (sending and reading the whole answer).
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Keeps the bytes of the request's body, so that a retry can be built from what was
    /// sent instead of from a copy of the typed body made in advance.
    pub(crate) fn keep_body(&self, request: &reqwest::Request) {
        if let Some(bytes) = request.body().and_then(reqwest::Body::as_bytes) {
            let _ = self.sent_body.set(Bytes::copy_from_slice(bytes));
        }
    }

    /// The body the attempt sent, if it had one.
    fn sent_body(&self) -> Option<&[u8]> {
        self.sent_body.get().map(|bytes| &bytes[..])
    }

    /// Wraps the request body (kept by [`keep_body`](Self::keep_body)) so that the attempt
    /// knows when the connection pulled it.
    pub(crate) fn watch_body(self: &Arc<Self>, request: &mut reqwest::Request) {
        let Some(bytes) = self.sent_body.get().cloned() else {
            return;
        };
        self.had_body.store(true, Ordering::Relaxed);
        *request.body_mut() = Some(reqwest::Body::wrap(WatchedBody {
            inner: Full::new(bytes),
            attempt: Arc::clone(self),
        }));
    }

    /// Notes what the answer's head says; `sent_to` is the URL sent to, when the HTTP client
    /// may have followed a redirect.
    pub(crate) fn note_answer(
        &self,
        response: &reqwest::Response,
        sent_to: Option<&reqwest::Url>,
        clock: &dyn crate::time::Clock,
    ) {
        let headers = response.headers();
        let facts = AnswerFacts {
            status: Some(response.status()),
            rate_limit: RateLimit::from_headers(headers),
            retry_after: headers
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|text| retry::parse_retry_after_value(text, clock.system_time())),
            followed_to: sent_to
                .filter(|sent| response.url() != *sent)
                .map(|_| response.url().to_string()),
            // Only errors quote it.
            request_id: (!response.status().is_success())
                .then(|| crate::error::request_id(headers))
                .flatten(),
        };
        *self.answer() = facts;
    }

    /// `Some(false)` when the request had a body the connection never pulled (it was not
    /// sent); `None` when it had no body (nothing to tell).
    fn body_was_pulled(&self) -> Option<bool> {
        self.had_body
            .load(Ordering::Relaxed)
            .then(|| self.body_pulled.load(Ordering::Relaxed))
    }

    fn answer(&self) -> MutexGuard<'_, AnswerFacts> {
        self.answer.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A request body that tells its attempt when the connection pulls it. Its exact size is
/// kept, so the request still carries a `Content-Length`.
struct WatchedBody {
    inner: Full<Bytes>,
    attempt: Arc<Attempt>,
}

impl http_body::Body for WatchedBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        self.attempt.body_pulled.store(true, Ordering::Relaxed);
        std::pin::Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

type Generated<T> = Result<ResponseValue<T>, progenitor_client::Error<WebflowError>>;

impl Client {
    /// Sends one operation until it succeeds, fails for good, or the policy says stop. See
    /// the [module documentation](self). `send` builds and sends one attempt through the
    /// generated client; from the second attempt on it is given the body the previous
    /// attempt sent, to build the same request again without keeping a copy in advance.
    pub(crate) async fn call<T, F, Fut>(
        &self,
        operation: Operation,
        options: CallOptions<'_>,
        mut send: F,
    ) -> CallOutcome<T>
    where
        T: DeserializeOwned,
        F: FnMut(Option<&[u8]>) -> Fut,
        Fut: Future<Output = Generated<T>>,
    {
        let shared = &*self.inner.shared;
        let clock = &*shared.clock;
        let policy = options.retry.unwrap_or(&shared.retry);
        let timeouts = shared.timeouts;
        let min_budget = retry::min_attempt_budget(Some(timeouts.attempt), Some(timeouts.overall));
        let started = clock.now();
        let mut outcome = CallOutcome {
            result: Err(CallError::Cancelled(None)),
            requests: 0,
            throttled: 0,
        };
        let mut last_error: Option<Error> = None;
        let mut previous: Option<Arc<Attempt>> = None;
        let mut attempt_number = 0u32;
        loop {
            attempt_number += 1;

            // A slot from the rate limiter, no later than the call may wait.
            let mut now = clock.now();
            let left = timeouts
                .overall
                .saturating_sub(now.saturating_duration_since(started));
            let may_wait = policy.max_wait.min(left.saturating_sub(min_budget));
            match shared.limiter.reserve(now, may_wait) {
                Ok(wait) => {
                    if !wait.is_zero() {
                        tracing::debug!(
                            operation_id = operation.id,
                            wait_ms = wait.as_millis() as u64,
                            "waiting for a rate-limit slot"
                        );
                        if !self.pause(wait, WaitReason::RateLimit, &options).await {
                            outcome.result = Err(CallError::Cancelled(last_error));
                            return outcome;
                        }
                        now = clock.now();
                    }
                }
                Err(needed) => {
                    let error = match last_error {
                        // A retry after a 429: the 429 stands, with the wait the limiter
                        // would have needed and what the call could wait.
                        Some(Error::RateLimited(mut limited)) => {
                            limited.retry_after = Some(needed);
                            limited.allowed_wait = Some(may_wait);
                            Error::RateLimited(limited)
                        }
                        Some(error) => error,
                        None => refused_wait(needed, may_wait, policy.max_wait, timeouts.overall),
                    };
                    outcome.result = Err(CallError::Failed(error));
                    return outcome;
                }
            }
            if options.cancel.is_some_and(CancellationToken::is_cancelled) {
                outcome.result = Err(CallError::Cancelled(last_error));
                return outcome;
            }

            // The attempt, within the attempt timeout and what is left of the deadline.
            let left = timeouts
                .overall
                .saturating_sub(now.saturating_duration_since(started));
            let (kind, limit) = if left < timeouts.attempt {
                (TimeoutKind::Deadline, left.max(Duration::from_millis(1)))
            } else {
                (TimeoutKind::Attempt, timeouts.attempt)
            };
            let attempt = Arc::new(Attempt::new(limit));
            let span = tracing::info_span!(
                "webflow.request",
                operation_id = operation.id,
                attempt = attempt_number,
                http.request.method = tracing::field::Empty,
                url.path = tracing::field::Empty,
                http.response.status_code = tracing::field::Empty,
                duration_ms = tracing::field::Empty,
                ratelimit.remaining = tracing::field::Empty,
                error = tracing::field::Empty,
            );
            let attempt_started = (!span.is_disabled()).then(Instant::now);
            outcome.requests += 1;
            let sent_before = previous.as_deref().and_then(Attempt::sent_body);
            let exchange = ATTEMPT.scope(attempt.clone(), async {
                let generated = send(sent_before).await;
                // What the answer's head said, noted by the hooks: read once.
                let answer = std::mem::take(&mut *attempt.answer());
                let result =
                    decode(generated, &attempt, &answer, kind, limit, timeouts.connect).await;
                (result, answer)
            });
            // Entering a span nobody listens to on every poll is not free.
            let (result, answer) = if span.is_disabled() {
                exchange.await
            } else {
                exchange.instrument(span.clone()).await
            };

            // What it came to.
            if let Some(started) = attempt_started {
                span.record("duration_ms", started.elapsed().as_millis() as u64);
            }
            if let Some(status) = answer.status {
                span.record("http.response.status_code", status.as_u16());
            }
            if let Some(remaining) = answer.rate_limit.and_then(|r| r.remaining) {
                span.record("ratelimit.remaining", remaining);
            }
            if let Some(rate_limit) = answer.rate_limit {
                *shared
                    .last_rate_limit
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = Some(rate_limit);
            }
            let throttled = answer.status == Some(StatusCode::TOO_MANY_REQUESTS);
            shared.limiter.observe(
                clock.now(),
                &Observation::new(answer.rate_limit, throttled, answer.retry_after),
            );
            if throttled {
                outcome.throttled += 1;
                options.emit(CallEvent::Throttled {
                    retry_after: answer.retry_after,
                });
            }
            let error = match result {
                Ok(value) => {
                    outcome.result = Ok(value);
                    return outcome;
                }
                Err(error) => error,
            };
            span.record("error", tracing::field::display(&error));

            let input = RetryInput::new(
                error.disposition(),
                attempt_number,
                clock.now().saturating_duration_since(started),
            )
            .retry_after(error.retry_after())
            .idempotent(operation.idempotent)
            .deadline(timeouts.overall, timeouts.attempt)
            .jitter(fastrand::f64());
            match retry::decide(policy, &input) {
                Decision::RetryAfter(wait) => {
                    span.in_scope(|| {
                        tracing::info!(
                            wait_ms = wait.as_millis() as u64,
                            disposition = ?input.disposition,
                            "retrying"
                        )
                    });
                    let reason = if input.retry_after.is_some() {
                        WaitReason::RetryAfter
                    } else {
                        WaitReason::Backoff
                    };
                    if !wait.is_zero() && !self.pause(wait, reason, &options).await {
                        outcome.result = Err(CallError::Cancelled(Some(error)));
                        return outcome;
                    }
                    last_error = Some(error);
                    previous = Some(attempt);
                }
                Decision::Stop(reason) => {
                    if attempt_number > 1 || reason != StopReason::Final {
                        span.in_scope(|| {
                            tracing::debug!(?reason, attempts = attempt_number, "giving up")
                        });
                    }
                    outcome.result = Err(CallError::Failed(final_error(error, reason, policy)));
                    return outcome;
                }
            }
        }
    }

    /// Waits `wait` on the client's clock, reporting it; `false` when cancelled meanwhile.
    pub(crate) async fn pause(
        &self,
        wait: Duration,
        reason: WaitReason,
        options: &CallOptions<'_>,
    ) -> bool {
        let clock = &*self.inner.shared.clock;
        if let Some(until) = clock.now().checked_add(wait) {
            options.emit(CallEvent::Waiting {
                wait,
                until,
                reason,
            });
        }
        let sleep = clock.sleep(wait);
        match options.cancel {
            None => {
                sleep.await;
                true
            }
            Some(token) => {
                let cancelled = std::pin::pin!(token.cancelled());
                match select(sleep, cancelled).await {
                    Either::Left(((), _)) => !token.is_cancelled(),
                    Either::Right(((), _)) => false,
                }
            }
        }
    }
}

impl CallOptions<'_> {
    fn emit(&self, event: CallEvent) {
        if let Some(events) = self.events {
            events(event);
        }
    }
}

/// The error for a first attempt the rate limiter could not fit in the call's limits:
/// nothing was sent. It names the limit that bound: `max_wait` ([`Error::RateLimited`]),
/// or what was left of the overall deadline ([`Error::Timeout`] with
/// [`TimeoutKind::Deadline`]) when that was shorter.
fn refused_wait(
    needed: Duration,
    may_wait: Duration,
    max_wait: Duration,
    overall: Duration,
) -> Error {
    if may_wait >= max_wait {
        Error::RateLimited(Box::new(RateLimitedError {
            retry_after: Some(needed),
            allowed_wait: Some(may_wait),
            response: None,
        }))
    } else {
        Error::Timeout(TimeoutError {
            kind: TimeoutKind::Deadline,
            limit: overall,
            request_sent: false,
            source: None,
        })
    }
}

/// The error a call ends with, completed with why it stopped.
fn final_error(error: Error, reason: StopReason, policy: &RetryPolicy) -> Error {
    match (error, reason) {
        (Error::RateLimited(mut limited), StopReason::WaitTooLong) => {
            limited.allowed_wait = Some(policy.max_wait);
            Error::RateLimited(limited)
        }
        (error, _) => error,
    }
}

/// Maps what the generated client returned for one attempt to the operation's value or an
/// [`Error`]. The one mapping every operation uses.
async fn decode<T: DeserializeOwned>(
    generated: Generated<T>,
    attempt: &Attempt,
    answer: &AnswerFacts,
    kind: TimeoutKind,
    limit: Duration,
    connect_timeout: Duration,
) -> Result<T, Error> {
    use progenitor_client::Error as G;
    if let Some(location) = answer.followed_to.clone() {
        return Err(Error::Redirect(Box::new(RedirectError {
            status: answer.status.unwrap_or(StatusCode::OK),
            location: Some(location),
            followed: true,
            rate_limit: answer.rate_limit,
        })));
    }
    match generated {
        Ok(value) => Ok(value.into_inner()),
        Err(G::ErrorResponse(response)) => {
            let status = response.status();
            let headers = response.headers().clone();
            Err(api_error(
                status,
                response.into_inner(),
                &headers,
                answer.retry_after,
            ))
        }
        Err(G::InvalidResponsePayload(_, _))
            if answer.status == Some(StatusCode::TOO_MANY_REQUESTS) =>
        {
            Err(throttled(
                answer.rate_limit,
                answer.request_id.clone(),
                answer.retry_after,
            ))
        }
        Err(G::InvalidResponsePayload(body, error)) => Err(Error::UndecodableResponse(Box::new(
            UndecodableResponse::new(answer.status, &body, &error, answer.rate_limit)
                .with_source(error),
        ))),
        Err(G::UnexpectedResponse(response)) => {
            let status = response.status();
            let headers = response.headers().clone();
            match response.bytes().await {
                Ok(body) => decode_undeclared(status, &headers, &body, answer.retry_after),
                Err(error) => Err(from_reqwest(error, attempt, kind, limit, connect_timeout)),
            }
        }
        Err(
            G::CommunicationError(error) | G::ResponseBodyError(error) | G::InvalidUpgrade(error),
        ) => Err(from_reqwest(error, attempt, kind, limit, connect_timeout)),
        Err(G::InvalidRequest(message) | G::Custom(message)) => Err(Error::InvalidInput(message)),
    }
}

/// A status the spec does not declare for the operation: a 2xx decodes as a success, a
/// 3xx is a redirect, anything else an error body if it is one.
fn decode_undeclared<T: DeserializeOwned>(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    retry_after: Option<Duration>,
) -> Result<T, Error> {
    let rate_limit = RateLimit::from_headers(headers);
    let undecodable = |reason: &dyn std::fmt::Display| {
        UndecodableResponse::new(Some(status), body, reason, rate_limit)
    };
    if status.is_success() {
        return serde_json::from_slice(body)
            .map_err(|e| Error::UndecodableResponse(Box::new(undecodable(&e).with_source(e))));
    }
    if status.is_redirection() {
        return Err(Error::Redirect(Box::new(RedirectError {
            status,
            location: headers
                .get(LOCATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
            followed: false,
            rate_limit,
        })));
    }
    match serde_json::from_slice::<WebflowError>(body) {
        Ok(parsed) if parsed.code.is_some() || parsed.message.is_some() => {
            Err(api_error(status, parsed, headers, retry_after))
        }
        _ if status == StatusCode::TOO_MANY_REQUESTS => Err(throttled(
            rate_limit,
            crate::error::request_id(headers),
            retry_after,
        )),
        Ok(_) => Err(Error::UndecodableResponse(Box::new(undecodable(
            &"not a Webflow error body",
        )))),
        Err(e) => Err(Error::UndecodableResponse(Box::new(
            undecodable(&e).with_source(e),
        ))),
    }
}

/// A decoded error body: a 429 is [`Error::RateLimited`], anything else [`Error::Api`].
fn api_error(
    status: StatusCode,
    body: WebflowError,
    headers: &HeaderMap,
    retry_after: Option<Duration>,
) -> Error {
    let error = ApiError::new(status, body, headers, retry_after);
    if status == StatusCode::TOO_MANY_REQUESTS {
        Error::RateLimited(Box::new(RateLimitedError {
            retry_after,
            allowed_wait: None,
            response: Some(error),
        }))
    } else {
        Error::Api(Box::new(error))
    }
}

/// A 429 whose body is not Webflow's error (a proxy's HTML page, an empty body) is still a
/// 429: nothing took effect, and its `Retry-After` is the wait, for the retry decision as
/// for the rate limiter.
fn throttled(
    rate_limit: Option<RateLimit>,
    request_id: Option<String>,
    retry_after: Option<Duration>,
) -> Error {
    Error::RateLimited(Box::new(RateLimitedError {
        retry_after,
        allowed_wait: None,
        response: Some(ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: None,
            message: None,
            external_reference: None,
            details: Vec::new(),
            retry_after,
            rate_limit,
            request_id,
        }),
    }))
}

/// A failure of the HTTP exchange. Whether the request was sent is read from the attempt:
/// a request whose body the connection never pulled was not sent, whatever timed out.
fn from_reqwest(
    error: reqwest::Error,
    attempt: &Attempt,
    kind: TimeoutKind,
    limit: Duration,
    connect_timeout: Duration,
) -> Error {
    let request_sent =
        !error.is_connect() && !error.is_builder() && attempt.body_was_pulled().unwrap_or(true);
    if error.is_timeout() {
        let (kind, limit) = if error.is_connect() {
            (TimeoutKind::Connect, connect_timeout)
        } else {
            (kind, limit)
        };
        return Error::Timeout(TimeoutError {
            kind,
            limit,
            request_sent,
            source: Some(Arc::new(error)),
        });
    }
    Error::Transport(TransportError {
        request_sent,
        source: error,
    })
}
