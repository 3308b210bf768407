//! The retry policy: when a failed attempt may be sent again, and how long to wait first.
//!
//! A create is **not idempotent**: if Webflow received the request, sending it again can
//! create a second item. So by default the client only retries what provably created
//! nothing:
//!
//! - **429 Too Many Requests** (Webflow did not process the request): waits as
//!   `Retry-After` says (seconds or an HTTP-date), else backs off exponentially with full
//!   jitter;
//! - **408 Request Timeout** (the server gave up before reading the request);
//! - **connection failures before the request left** (refused, DNS, TLS handshake,
//!   connect timeout).
//!
//! A **5xx**, a **timeout after the request was sent** or a **connection broken before the
//! answer** leave it unknown whether the item exists. They are *not* retried unless
//! [`RetryPolicy::retry_outcome_unknown`] is set, and then at the risk of duplicates.
//!
//! Every wait is bounded by [`RetryPolicy::max_wait`] (a longer `Retry-After` stops the
//! retries) and by the client's overall deadline. The decision itself is the pure function
//! [`decide`].

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// How the client retries. See the [module documentation](self) for what is retried.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry). Default 4.
    pub max_attempts: u32,
    /// The first backoff step when Webflow gives no `Retry-After`. Default 1 s.
    pub initial_backoff: Duration,
    /// The longest backoff step (before jitter). Default 30 s.
    pub max_backoff: Duration,
    /// The longest single wait, `Retry-After` included: when Webflow asks for more, the
    /// client stops and returns the 429 (with the wait it asked for). Default 60 s, the
    /// wait Webflow usually asks for.
    pub max_wait: Duration,
    /// Also retry 5xx answers, timeouts after sending and connections broken before the
    /// answer. **Off by default: each such retry may create a duplicate item**, because
    /// Webflow may have created it before failing. Turn it on only if duplicates are
    /// harmless to you or you deduplicate afterwards (for example by slug).
    pub retry_outcome_unknown: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            max_wait: Duration::from_secs(60),
            retry_outcome_unknown: false,
        }
    }
}

impl RetryPolicy {
    /// Never retry: every call is exactly one request.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Sets [`max_attempts`](Self::max_attempts).
    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    /// Sets the backoff bounds ([`initial_backoff`](Self::initial_backoff),
    /// [`max_backoff`](Self::max_backoff)).
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }

    /// Sets [`max_wait`](Self::max_wait).
    pub fn with_max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// Sets [`retry_outcome_unknown`](Self::retry_outcome_unknown). **Risk: duplicates.**
    pub fn with_retry_outcome_unknown(mut self, retry: bool) -> Self {
        self.retry_outcome_unknown = retry;
        self
    }

    /// The exponential backoff step for `attempt` (1-based), before jitter:
    /// `initial × 2^(attempt−1)`, capped at `max_backoff`.
    pub fn backoff_step(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// What one attempt came to, as far as retrying is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttemptOutcome {
    /// An answer arrived, with this status and `Retry-After` (if any).
    Answered {
        /// The HTTP status.
        status: u16,
        /// `Retry-After`, parsed.
        retry_after: Option<Duration>,
    },
    /// The connection could not be opened: nothing was sent.
    NotSent,
    /// The request was sent, then the connection broke before a full answer.
    SentNoAnswer,
    /// The attempt timed out; `request_sent` is `false` for a connect timeout.
    TimedOut {
        /// Whether the request may have reached the server.
        request_sent: bool,
    },
}

/// The inputs of one retry decision.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct RetryInput {
    /// What the attempt came to.
    pub outcome: AttemptOutcome,
    /// The attempt that just finished (1-based).
    pub attempt: u32,
    /// Time since the first attempt started.
    pub elapsed: Duration,
    /// The overall deadline (all attempts and waits), if any.
    pub deadline: Option<Duration>,
    /// A uniform random sample in `[0, 1)` for jitter.
    pub jitter: f64,
}

impl RetryInput {
    /// The inputs for `outcome` after `attempt` attempts and `elapsed` time.
    pub fn new(outcome: AttemptOutcome, attempt: u32, elapsed: Duration) -> Self {
        RetryInput {
            outcome,
            attempt,
            elapsed,
            deadline: None,
            jitter: 0.5,
        }
    }

    /// With an overall deadline.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// With a jitter sample in `[0, 1)`.
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }
}

/// What to do after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Return this outcome to the caller.
    Stop(StopReason),
    /// Wait this long, then send the same request again.
    RetryAfter(Duration),
}

/// Why the client stops retrying.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// Success, or an answer that a retry cannot change (a 4xx).
    Final,
    /// The outcome is unknown (5xx, timeout, broken connection) and the policy does not
    /// risk a duplicate.
    OutcomeUnknown,
    /// `max_attempts` reached.
    AttemptsExhausted,
    /// Webflow asked to wait longer than `max_wait`.
    WaitTooLong,
    /// The wait would end after the overall deadline.
    DeadlineExceeded,
}

/// Decides whether to send the same request again, and after how long. Pure: everything it
/// depends on is in its arguments.
pub fn decide(policy: &RetryPolicy, input: &RetryInput) -> Decision {
    let wait = match input.outcome {
        AttemptOutcome::Answered {
            status,
            retry_after,
        } => match status {
            429 | 408 => match retry_after {
                Some(wait) if wait > policy.max_wait => {
                    return Decision::Stop(StopReason::WaitTooLong);
                }
                Some(wait) => wait,
                None => full_jitter(policy, input),
            },
            500..=599 if policy.retry_outcome_unknown => full_jitter(policy, input),
            500..=599 => return Decision::Stop(StopReason::OutcomeUnknown),
            _ => return Decision::Stop(StopReason::Final),
        },
        AttemptOutcome::NotSent
        | AttemptOutcome::TimedOut {
            request_sent: false,
        } => full_jitter(policy, input),
        AttemptOutcome::SentNoAnswer | AttemptOutcome::TimedOut { request_sent: true } => {
            if !policy.retry_outcome_unknown {
                return Decision::Stop(StopReason::OutcomeUnknown);
            }
            full_jitter(policy, input)
        }
    };
    if input.attempt >= policy.max_attempts {
        return Decision::Stop(StopReason::AttemptsExhausted);
    }
    if let Some(deadline) = input.deadline
        && input.elapsed.saturating_add(wait) >= deadline
    {
        return Decision::Stop(StopReason::DeadlineExceeded);
    }
    Decision::RetryAfter(wait)
}

/// "Full jitter" backoff: a uniform wait in `[0, step)`, never above `max_wait`.
fn full_jitter(policy: &RetryPolicy, input: &RetryInput) -> Duration {
    let jitter = if input.jitter.is_finite() {
        input.jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    policy
        .backoff_step(input.attempt)
        .mul_f64(jitter)
        .min(policy.max_wait)
}

/// Reads `Retry-After` as a number of seconds or an HTTP-date (relative to `now`). A date
/// in the past means "now" (zero); anything unreadable is ignored.
pub fn parse_retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    if let Ok(seconds) = text.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0)
            .then(|| Duration::from_secs_f64(seconds.min(1e9)));
    }
    let date = httpdate::parse_http_date(text).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use AttemptOutcome::*;
    use Decision::*;
    use StopReason::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn answered(status: u16, retry_after: Option<u64>) -> AttemptOutcome {
        Answered {
            status,
            retry_after: retry_after.map(S),
        }
    }

    /// (case, policy, outcome, attempt, elapsed s, deadline s, jitter, expected)
    type Row<'a> = (
        &'a str,
        &'a RetryPolicy,
        AttemptOutcome,
        u32,
        u64,
        Option<u64>,
        f64,
        Decision,
    );

    #[test]
    fn decision_table() {
        let default = RetryPolicy::default();
        let risky = RetryPolicy::default().with_retry_outcome_unknown(true);
        let none = RetryPolicy::none();
        #[rustfmt::skip]
        let table: &[Row] = &[
            ("202 is final",                          &default, answered(202, None),     1, 0,   None,      0.5, Stop(Final)),
            ("200 is final",                          &default, answered(200, None),     1, 0,   None,      0.5, Stop(Final)),
            ("400 is final",                          &default, answered(400, None),     1, 0,   None,      0.5, Stop(Final)),
            ("401 is final",                          &default, answered(401, None),     1, 0,   None,      0.5, Stop(Final)),
            ("404 is final",                          &default, answered(404, None),     1, 0,   None,      0.5, Stop(Final)),
            ("409 is final",                          &default, answered(409, None),     1, 0,   None,      0.5, Stop(Final)),
            ("429 honours Retry-After",               &default, answered(429, Some(2)),  1, 0,   None,      0.5, RetryAfter(S(2))),
            ("429 Retry-After 0 retries at once",     &default, answered(429, Some(0)),  1, 0,   None,      0.5, RetryAfter(S(0))),
            ("429 Retry-After = max_wait is allowed", &default, answered(429, Some(60)), 1, 0,   None,      0.5, RetryAfter(S(60))),
            ("429 Retry-After > max_wait stops",      &default, answered(429, Some(61)), 1, 0,   None,      0.5, Stop(WaitTooLong)),
            ("429 without header: jitter of 1 s",     &default, answered(429, None),     1, 0,   None,      0.5, RetryAfter(Duration::from_millis(500))),
            ("429 without header: attempt 3, 4 s",    &default, answered(429, None),     3, 0,   None,      0.25, RetryAfter(S(1))),
            ("jitter near 1 gives nearly the step",   &default, answered(429, None),     3, 0,   None,      0.999_999, RetryAfter(S(4).mul_f64(0.999_999))),
            ("full jitter can be zero",               &default, answered(429, None),     2, 0,   None,      0.0, RetryAfter(S(0))),
            ("408 is retried like 429",               &default, answered(408, None),     1, 0,   None,      0.5, RetryAfter(Duration::from_millis(500))),
            ("last attempt stops",                    &default, answered(429, Some(1)),  4, 0,   None,      0.5, Stop(AttemptsExhausted)),
            ("no-retry policy stops at once",         &none,    answered(429, Some(1)),  1, 0,   None,      0.5, Stop(AttemptsExhausted)),
            ("wait past the deadline stops",          &default, answered(429, Some(30)), 1, 100, Some(120), 0.5, Stop(DeadlineExceeded)),
            ("wait ending at the deadline stops",     &default, answered(429, Some(20)), 1, 100, Some(120), 0.5, Stop(DeadlineExceeded)),
            ("wait before the deadline retries",      &default, answered(429, Some(19)), 1, 100, Some(120), 0.5, RetryAfter(S(19))),
            ("500 is not retried by default",         &default, answered(500, None),     1, 0,   None,      0.5, Stop(OutcomeUnknown)),
            ("502 is not retried by default",         &default, answered(502, None),     1, 0,   None,      0.5, Stop(OutcomeUnknown)),
            ("503 with Retry-After is not retried",   &default, answered(503, Some(1)),  1, 0,   None,      0.5, Stop(OutcomeUnknown)),
            ("500 is retried with the opt-in",        &risky,   answered(500, None),     1, 0,   None,      0.5, RetryAfter(Duration::from_millis(500))),
            ("opt-in still stops at the last attempt",&risky,   answered(503, None),     4, 0,   None,      0.5, Stop(AttemptsExhausted)),
            ("not sent is always safe to retry",      &default, NotSent,                 1, 0,   None,      0.5, RetryAfter(Duration::from_millis(500))),
            ("connect timeout is safe to retry",      &default, TimedOut { request_sent: false }, 2, 0, None, 0.5, RetryAfter(S(1))),
            ("timeout after sending is not retried",  &default, TimedOut { request_sent: true },  1, 0, None, 0.5, Stop(OutcomeUnknown)),
            ("broken answer is not retried",          &default, SentNoAnswer,            1, 0,   None,      0.5, Stop(OutcomeUnknown)),
            ("timeout retried with the opt-in",       &risky,   TimedOut { request_sent: true },  1, 0, None, 0.5, RetryAfter(Duration::from_millis(500))),
            ("broken answer retried with the opt-in", &risky,   SentNoAnswer,            1, 0,   None,      0.5, RetryAfter(Duration::from_millis(500))),
        ];
        for &(case, policy, outcome, attempt, elapsed, deadline, jitter, expected) in table {
            let mut input = RetryInput::new(outcome, attempt, S(elapsed)).jitter(jitter);
            if let Some(deadline) = deadline {
                input = input.deadline(S(deadline));
            }
            assert_eq!(decide(policy, &input), expected, "{case}");
        }
    }

    #[test]
    fn backoff_steps_double_up_to_the_cap() {
        let policy = RetryPolicy::default();
        let steps: Vec<u64> = (1..=7).map(|a| policy.backoff_step(a).as_secs()).collect();
        assert_eq!(steps, [1, 2, 4, 8, 16, 30, 30]);
        assert_eq!(policy.backoff_step(u32::MAX), S(30), "no overflow");
    }

    #[test]
    fn jitter_outside_the_unit_interval_is_clamped() {
        let policy = RetryPolicy::default();
        let input = |j: f64| RetryInput::new(answered(429, None), 1, S(0)).jitter(j);
        assert_eq!(decide(&policy, &input(f64::NAN)), RetryAfter(S(0)));
        assert_eq!(decide(&policy, &input(-3.0)), RetryAfter(S(0)));
        assert_eq!(decide(&policy, &input(7.0)), RetryAfter(S(1)));
    }

    #[test]
    fn retry_after_seconds_dates_and_garbage() {
        let now = SystemTime::UNIX_EPOCH + S(1_700_000_000);
        let parse = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(RETRY_AFTER, value.parse().unwrap());
            parse_retry_after(&headers, now)
        };
        assert_eq!(parse("2"), Some(S(2)));
        assert_eq!(parse(" 60 "), Some(S(60)));
        assert_eq!(parse("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse(&httpdate::fmt_http_date(now + S(3))), Some(S(3)));
        assert_eq!(
            parse(&httpdate::fmt_http_date(now - S(30))),
            Some(S(0)),
            "a past date means now"
        );
        assert_eq!(parse("-1"), None);
        assert_eq!(parse("soon"), None);
        assert_eq!(parse_retry_after(&HeaderMap::new(), now), None);
    }
}
