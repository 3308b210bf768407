//! What runs around every request the generated client sends: the client's shared state
//! (`ClientState`) and its `progenitor_client::ClientHooks` implementation — pacing,
//! per-attempt timeouts, the retry loop, rate-limit bookkeeping and a tracing span per
//! attempt.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use progenitor_client::{ClientHooks, OperationInfo};
use tracing::Instrument;

use crate::Client;
use crate::call;
use crate::config::Timeouts;
use crate::error::TimeoutKind;
use crate::rate_limit::{Pacer, RateLimit};
use crate::retry::{self, AttemptOutcome, Decision, RetryInput, RetryPolicy, parse_retry_after};
use crate::time::Clock;

/// State shared by a [`Client`] and all its clones. Built by
/// [`ClientBuilder`](crate::ClientBuilder); it has no public constructor.
#[derive(Clone)]
pub struct ClientState {
    pub(crate) shared: Arc<Shared>,
}

pub(crate) struct Shared {
    pub(crate) retry: RetryPolicy,
    pub(crate) timeouts: Timeouts,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) pacer: Option<Pacer>,
    pub(crate) last_rate_limit: Mutex<Option<RateLimit>>,
}

impl fmt::Debug for ClientState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = &self.shared;
        f.debug_struct("ClientState")
            .field("retry", &shared.retry)
            .field("timeouts", &shared.timeouts)
            .field("clock", &shared.clock)
            .field(
                "pacing_per_minute",
                &shared.pacer.as_ref().map(Pacer::per_minute),
            )
            .field(
                "last_rate_limit",
                &*shared
                    .last_rate_limit
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()),
            )
            .finish()
    }
}

impl Client {
    /// The rate-limit headers of the latest response any clone of this client received.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        *self
            .inner
            .shared
            .last_rate_limit
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

impl ClientHooks<ClientState> for Client {
    /// Sends the request, retrying as the [`RetryPolicy`] decides. Each attempt waits for its
    /// pacing slot and gets the smaller of the per-attempt timeout and what is left of the
    /// overall deadline, for sending and for reading the whole answer.
    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let shared = &*self.inner.shared;
        let clock = &*shared.clock;
        let started = clock.now();
        let mut next = request;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            // A JSON body can always be cloned; without a spare the attempt is the last.
            let spare = next.try_clone();
            let mut request = next;

            if let Some(pacer) = &shared.pacer {
                let wait = pacer.reserve(clock.now());
                if !wait.is_zero() {
                    tracing::debug!(
                        wait_ms = wait.as_millis() as u64,
                        "waiting for a pacing slot"
                    );
                    clock.sleep(wait).await;
                }
            }
            let elapsed = if attempt == 1 && shared.pacer.is_none() {
                Duration::ZERO
            } else {
                clock.now().saturating_duration_since(started)
            };
            let left = shared
                .timeouts
                .overall
                .saturating_sub(elapsed)
                .max(Duration::from_millis(1));
            let (kind, limit) = if left < shared.timeouts.attempt {
                (TimeoutKind::Deadline, left)
            } else {
                (TimeoutKind::Attempt, shared.timeouts.attempt)
            };
            *request.timeout_mut() = Some(limit);
            call::update(|record| {
                record.attempts += 1;
                record.timeout = Some((kind, limit));
            });

            let span = tracing::info_span!(
                "webflow.request",
                operation_id = info.operation_id,
                http.request.method = %request.method(),
                url.path = %request.url().path(),
                attempt,
                http.response.status_code = tracing::field::Empty,
                duration_ms = tracing::field::Empty,
                ratelimit.remaining = tracing::field::Empty,
                error = tracing::field::Empty,
            );
            let attempt_started = (!span.is_disabled()).then(Instant::now);
            // The request's timeout covers reading the body too (reqwest applies it until the
            // body has finished), so the answer is returned unread.
            let result = self.client.execute(request).instrument(span.clone()).await;
            if let Some(started) = attempt_started {
                span.record("duration_ms", started.elapsed().as_millis() as u64);
            }

            let mut rate_limit = None;
            let outcome = match &result {
                Ok(response) => {
                    let headers = response.headers();
                    rate_limit = RateLimit::from_headers(headers);
                    let retry_after = if headers.contains_key(reqwest::header::RETRY_AFTER) {
                        parse_retry_after(headers, clock.system_time())
                    } else {
                        None
                    };
                    span.record("http.response.status_code", response.status().as_u16());
                    if let Some(remaining) = rate_limit.and_then(|r| r.remaining) {
                        span.record("ratelimit.remaining", remaining);
                    }
                    if let Some(rate_limit) = rate_limit {
                        *shared
                            .last_rate_limit
                            .lock()
                            .unwrap_or_else(|e| e.into_inner()) = Some(rate_limit);
                    }
                    let throttled = response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS;
                    if let Some(pacer) = &shared.pacer {
                        pacer.observe(
                            clock.now(),
                            rate_limit,
                            if throttled { retry_after } else { None },
                        );
                    }
                    if throttled {
                        call::update(|record| record.throttled += 1);
                    }
                    AttemptOutcome::Answered {
                        status: response.status().as_u16(),
                        retry_after,
                    }
                }
                Err(error) => {
                    span.record("error", tracing::field::display(error));
                    classify(error)
                }
            };

            let decision = match spare {
                Some(_) => {
                    let input = RetryInput::new(
                        outcome,
                        attempt,
                        clock.now().saturating_duration_since(started),
                    )
                    .deadline(shared.timeouts.overall)
                    .jitter(fastrand::f64());
                    retry::decide(&shared.retry, &input)
                }
                None => Decision::Stop(retry::StopReason::Final),
            };
            match (decision, spare) {
                (Decision::RetryAfter(wait), Some(spare)) => {
                    span.in_scope(|| {
                        tracing::info!(wait_ms = wait.as_millis() as u64, ?outcome, "retrying")
                    });
                    clock.sleep(wait).await;
                    next = spare;
                }
                (decision, _) => {
                    if let Decision::Stop(reason) = decision
                        && attempt > 1
                    {
                        span.in_scope(|| tracing::debug!(?reason, attempts = attempt, "giving up"));
                    }
                    if let Ok(response) = &result {
                        let received_at = clock.system_time();
                        call::update(|record| {
                            record.status = Some(response.status());
                            record.rate_limit = rate_limit;
                            record.received_at = Some(received_at);
                        });
                    }
                    return result;
                }
            }
        }
    }
}

/// What a transport error means for retrying: was the request possibly received?
fn classify(error: &reqwest::Error) -> AttemptOutcome {
    if error.is_timeout() {
        AttemptOutcome::TimedOut {
            request_sent: !error.is_connect(),
        }
    } else if error.is_connect() {
        AttemptOutcome::NotSent
    } else {
        AttemptOutcome::SentNoAnswer
    }
}
