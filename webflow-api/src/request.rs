//! The one request path: every operation (a create, an update, a lookup, a page of a
//! listing, a bulk chunk) is sent by [`Client::call`], the only attempt loop. Per attempt
//! it takes a slot from the client's rate limiter within the call's limits, makes the
//! attempt's transport (`transport.rs`), opens the tracing span, decodes the answer
//! (`decode.rs`), classifies it ([`Error::disposition`]) and asks [`retry::decide`] whether
//! to send it again.

use std::time::{Duration, Instant};

use futures_util::future::{Either, select};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::decode::{AttemptLimits, decode};
use crate::error::{RateLimitedError, TimeoutError, TimeoutKind};
use crate::operation::{GeneratedCall, Operation, is_idempotent, operation_id};
use crate::pacing::{Acquire, Observation, Slot};
use crate::retry::{self, Decision, RetryInput, RetryPolicy, StopReason, WaitReason};
use crate::transport::{AnswerFacts, Attempt};
use crate::{Client, Error};

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

/// A slot granted to an attempt, until the attempt is recorded. If the call's future is
/// dropped in between (a timeout wrapped around the call, an aborted task), the limiter is
/// told the slot ended without an answer, so that it does not count it in flight forever.
struct GrantedSlot {
    client: std::sync::Arc<crate::client::ClientInner>,
    slot: Option<Slot>,
}

impl Drop for GrantedSlot {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            let now = self.client.clock.system_time();
            self.client.limiter.end_dropped(now, slot);
        }
    }
}

/// Why the loop could not get a rate-limit slot.
enum NoSlot {
    /// The slot is further away than the call may wait: the wait it would have needed, the
    /// wait it was allowed, and whether the deadline (rather than `max_wait`) bound it.
    TooFar {
        needed: Duration,
        may_wait: Duration,
        by_deadline: bool,
    },
    Cancelled,
}

impl Client {
    /// Sends one operation until it succeeds, fails for good, or the policy says stop. See
    /// the [module documentation](self).
    pub(crate) async fn call<Op: Operation>(
        &self,
        op: &Op,
        options: CallOptions<'_>,
    ) -> CallOutcome<Op::Output> {
        if let Err(error) = op.check() {
            return CallOutcome::refused(error);
        }
        let inner = &*self.inner;
        let clock = &*inner.clock;
        let policy = options.retry.unwrap_or(&inner.retry);
        let timeouts = inner.timeouts;
        let operation = operation_id::<Op>();
        let min_budget = retry::min_attempt_budget(Some(timeouts.attempt), Some(timeouts.overall));
        let started = clock.now();
        let mut outcome = CallOutcome {
            result: Err(CallError::Cancelled(None)),
            requests: 0,
            throttled: 0,
        };
        let mut last_error: Option<Error> = None;
        let mut attempt_number = 0u32;
        loop {
            attempt_number += 1;

            // A slot from the rate limiter, no later than the call may wait.
            let slot = match self.slot(started, policy, min_budget, &options).await {
                Ok(slot) => slot,
                Err(NoSlot::Cancelled) => {
                    outcome.result = Err(CallError::Cancelled(last_error));
                    return outcome;
                }
                Err(NoSlot::TooFar {
                    needed,
                    may_wait,
                    by_deadline,
                }) => {
                    let error = match last_error {
                        // A retry after a 429: the 429 stands, with the wait the limiter
                        // would have needed and what the call could wait.
                        Some(Error::RateLimited(mut limited)) => {
                            limited.retry_after = Some(needed);
                            limited.allowed_wait = Some(may_wait);
                            Error::RateLimited(limited)
                        }
                        Some(error) => error,
                        None => refused_wait(needed, may_wait, by_deadline, timeouts.overall),
                    };
                    outcome.result = Err(CallError::Failed(error));
                    return outcome;
                }
            };
            if options.cancel.is_some_and(CancellationToken::is_cancelled) {
                inner.limiter.release(slot).await;
                outcome.result = Err(CallError::Cancelled(last_error));
                return outcome;
            }
            // Until the attempt is recorded: a call dropped meanwhile still ends its slot.
            let mut granted = GrantedSlot {
                client: self.inner.clone(),
                slot: Some(slot),
            };

            // The attempt, within the attempt timeout and what is left of the deadline.
            let now = clock.now();
            let left = timeouts
                .overall
                .saturating_sub(now.saturating_duration_since(started));
            let (kind, limit) = if left < timeouts.attempt {
                (TimeoutKind::Deadline, left.max(Duration::from_millis(1)))
            } else {
                (TimeoutKind::Attempt, timeouts.attempt)
            };
            let span = tracing::info_span!(
                "webflow.request",
                operation_id = operation,
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
            let mut transport =
                Attempt::new(self.inner.clone(), limit, Op::KEEPS_SENT_BODY).into_transport();
            let exchange = async {
                let generated = op.builder(&transport).send_attempt().await;
                let answer = transport.inner.take_answer();
                let limits = AttemptLimits {
                    kind,
                    limit,
                    connect_timeout: timeouts.connect,
                    body_pulled: transport.inner.body_was_pulled(),
                };
                let decoded = decode(generated, &answer, limits).await;
                (decoded, answer)
            };
            // Entering a span nobody listens to on every poll is not free.
            let (decoded, answer) = if span.is_disabled() {
                exchange.await
            } else {
                exchange.instrument(span.clone()).await
            };
            if let Some(body) = transport.inner.take_sent_body() {
                op.sent(body);
            }
            let result = decoded
                .and_then(|response| op.output(response))
                .map_err(|mut error| {
                    error.redact(inner.token());
                    error
                });

            // What it came to.
            granted.slot = None;
            self.record(&span, attempt_started, slot, &answer).await;
            if answer.status == Some(reqwest::StatusCode::TOO_MANY_REQUESTS) {
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
            .idempotent(is_idempotent::<Op>())
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

    /// A slot from the rate limiter: waits (reporting it) while the limiter says so, as long
    /// as the call's `max_wait` and what is left of its deadline allow.
    async fn slot(
        &self,
        started: Instant,
        policy: &RetryPolicy,
        min_budget: Duration,
        options: &CallOptions<'_>,
    ) -> Result<Slot, NoSlot> {
        let inner = &*self.inner;
        let clock = &*inner.clock;
        let asked = clock.now();
        loop {
            let now = clock.now();
            let left = inner
                .timeouts
                .overall
                .saturating_sub(now.saturating_duration_since(started));
            let waited = now.saturating_duration_since(asked);
            let may_wait = policy
                .max_wait
                .saturating_sub(waited)
                .min(left.saturating_sub(min_budget));
            match inner.limiter.acquire(clock.system_time(), may_wait).await {
                Acquire::Granted(slot) => return Ok(slot),
                Acquire::Wait(wait) if wait <= may_wait => {
                    tracing::debug!(
                        wait_ms = wait.as_millis() as u64,
                        "waiting for a rate-limit slot"
                    );
                    let changed = inner.limiter.changed();
                    if !self
                        .pause_or(wait, WaitReason::RateLimit, options, changed)
                        .await
                    {
                        return Err(NoSlot::Cancelled);
                    }
                }
                Acquire::Wait(wait) | Acquire::Refused(wait) => {
                    let by_deadline =
                        left.saturating_sub(min_budget) < policy.max_wait.saturating_sub(waited);
                    return Err(NoSlot::TooFar {
                        needed: wait.saturating_add(waited),
                        may_wait,
                        by_deadline,
                    });
                }
            }
        }
    }

    /// Records what the attempt's answer said: in its span, in the client's last-answer
    /// state, and to the rate limiter.
    async fn record(
        &self,
        span: &tracing::Span,
        attempt_started: Option<Instant>,
        slot: Slot,
        answer: &AnswerFacts,
    ) {
        if let Some(started) = attempt_started {
            span.record("duration_ms", started.elapsed().as_millis() as u64);
            if let Some(status) = answer.status {
                span.record("http.response.status_code", status.as_u16());
            }
            if let Some(remaining) = answer.rate_limit.and_then(|r| r.remaining) {
                span.record("ratelimit.remaining", remaining);
            }
        }
        let inner = &*self.inner;
        inner.note_answer(answer.rate_limit, answer.server_date);
        // Every sent request ends in one observation, answered or not: the limiter learns
        // the slot is no longer in flight.
        let throttled = answer.status == Some(reqwest::StatusCode::TOO_MANY_REQUESTS);
        let observation = Observation::new(slot, answer.rate_limit, throttled, answer.retry_after);
        inner
            .limiter
            .observe(inner.clock.system_time(), observation)
            .await;
    }

    /// Waits `wait` on the client's clock, reporting it; `false` when cancelled meanwhile.
    pub(crate) async fn pause(
        &self,
        wait: Duration,
        reason: WaitReason,
        options: &CallOptions<'_>,
    ) -> bool {
        self.pause_or(wait, reason, options, std::future::pending())
            .await
    }

    /// [`pause`](Self::pause), ending early (`true`) when `early` completes.
    async fn pause_or(
        &self,
        wait: Duration,
        reason: WaitReason,
        options: &CallOptions<'_>,
        early: impl std::future::Future<Output = ()> + Send,
    ) -> bool {
        let clock = &*self.inner.clock;
        if let Some(until) = clock.now().checked_add(wait) {
            options.emit(CallEvent::Waiting {
                wait,
                until,
                reason,
            });
        }
        let sleep = clock.sleep(wait);
        let early = std::pin::pin!(early);
        let waited = select(sleep, early);
        match options.cancel {
            None => {
                waited.await;
                true
            }
            Some(token) => {
                let cancelled = std::pin::pin!(token.cancelled());
                match select(waited, cancelled).await {
                    Either::Left(_) => !token.is_cancelled(),
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
    by_deadline: bool,
    overall: Duration,
) -> Error {
    if !by_deadline {
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
