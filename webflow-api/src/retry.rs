//! The retry policy and the one decision every call uses: may this request be sent again,
//! and after how long?
//!
//! A request that changes something (a create) is **not idempotent**: if Webflow received
//! it, sending it again can do it twice. So the client classifies every attempt once
//! ([`Disposition`], derived from the error by [`Error::disposition`](crate::Error::disposition))
//! and decides with the pure function [`decide`]:
//!
//! | What happened | [`Disposition`] | Sent again? |
//! |---|---|---|
//! | success | `Succeeded` | no |
//! | **429**, **408**, connection never opened, nothing sent before a timeout | `NotProcessed` | yes: after `Retry-After` (seconds or HTTP-date), else full-jitter backoff |
//! | other 4xx, input refused before sending | `Refused` | no (it would fail again) |
//! | **5xx**, timeout after sending, connection broken after sending, undecodable success | `OutcomeUnknown` | only if the operation is idempotent (a list), or [`RetryPolicy::retry_outcome_unknown`] is set — **each such resend of a create may make a duplicate** |
//! | **3xx** (the client never follows redirects) | `Redirected` | never |
//!
//! Every wait is bounded by [`RetryPolicy::max_wait`] (a longer `Retry-After` ends the call
//! with [`Error::RateLimited`](crate::Error::RateLimited)) and by the client's overall
//! deadline: a retry starts only when at least [`MIN_ATTEMPT_BUDGET`] (or the attempt
//! timeout, if shorter) is left of the deadline after the wait.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// The least time a retry must have left of the overall deadline after its wait (capped at
/// the attempt timeout and the deadline themselves): a retry that would be cut off at once
/// is not started.
pub const MIN_ATTEMPT_BUDGET: Duration = Duration::from_secs(1);

/// The longest `Retry-After` the client reads; a larger value (or an HTTP-date further
/// ahead) is read as this. Far beyond any sensible `max_wait`, so the call still ends with
/// [`Error::RateLimited`](crate::Error::RateLimited) and the wait Webflow asked for.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Why a call (or an import) waits, as told to progress displays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitReason {
    /// For a slot of the client's rate limiter (pacing, or a hold after a 429).
    RateLimit,
    /// Webflow answered 429 and asked for this wait (`Retry-After`).
    RetryAfter,
    /// Backing off before sending again after a transient failure.
    Backoff,
    /// The settle delay, before looking up items whose create answer was lost.
    Settle,
}

impl WaitReason {
    /// What the wait is for, in a few words: `rate limit`, `Webflow asked to wait (429)`, ...
    pub fn describe(self) -> &'static str {
        match self {
            WaitReason::RateLimit => "rate limit",
            WaitReason::RetryAfter => "Webflow asked to wait (429)",
            WaitReason::Backoff => "backing off before a retry",
            WaitReason::Settle => "settle delay before looking up lost items",
        }
    }
}

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
    /// The longest single wait, `Retry-After` and pacing included: when a call would have to
    /// wait longer, it ends at once without sending ([`Error::RateLimited`](crate::Error::RateLimited)
    /// with the wait). Default 60 s, the wait Webflow usually asks for.
    pub max_wait: Duration,
    /// Also resend non-idempotent requests (creates) whose outcome is unknown: 5xx answers,
    /// timeouts after sending and connections broken after sending. **Off by default: each
    /// such resend may create a duplicate item**, because Webflow may have created it before
    /// failing. Idempotent requests (lists) are resent after those outcomes regardless.
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

    /// Why this policy cannot be used, if it cannot.
    pub(crate) fn problem(&self) -> Option<&'static str> {
        (self.max_attempts == 0).then_some(
            "RetryPolicy::max_attempts is 0: it counts the first attempt too, so use 1 for no \
             retries (RetryPolicy::none())",
        )
    }
}

/// What one attempt came to, as far as sending the same request again is concerned. The
/// one classification every caller uses; [`Error::disposition`](crate::Error::disposition)
/// derives it from an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Disposition {
    /// It worked.
    Succeeded,
    /// Nothing took effect, and the same request may succeed later: a 429 or 408, a
    /// connection that never opened, a timeout before anything was sent, or a wait the
    /// client refused.
    NotProcessed,
    /// Refused, nothing took effect, and the same request will fail again: a 4xx (other
    /// than 408 and 429), or input refused before sending.
    Refused,
    /// The request reached the server and it is unknown whether it took effect: a 5xx, a
    /// timeout or a broken connection after sending, a success whose body does not decode.
    OutcomeUnknown,
    /// A 3xx: the answer points elsewhere (a proxy or a wrong base URL). The request may or
    /// may not have taken effect; the client never follows it and never resends it.
    Redirected,
}

impl Disposition {
    /// `true` for [`NotProcessed`](Self::NotProcessed): sending the same request again is
    /// safe and may succeed.
    pub fn is_retryable(self) -> bool {
        self == Disposition::NotProcessed
    }

    /// `true` for [`OutcomeUnknown`](Self::OutcomeUnknown) and
    /// [`Redirected`](Self::Redirected): the request may have taken effect.
    pub fn may_have_taken_effect(self) -> bool {
        matches!(self, Disposition::OutcomeUnknown | Disposition::Redirected)
    }
}

/// The inputs of one retry decision.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct RetryInput {
    /// What the attempt came to.
    pub disposition: Disposition,
    /// The wait the server asked for (`Retry-After`), if any.
    pub retry_after: Option<Duration>,
    /// Whether sending the request twice does no more than sending it once (a list).
    pub idempotent: bool,
    /// The attempt that just finished (1-based).
    pub attempt: u32,
    /// Time since the call started.
    pub elapsed: Duration,
    /// The call's overall deadline (from its start), if any.
    pub deadline: Option<Duration>,
    /// The attempt timeout: a retry needs `min(MIN_ATTEMPT_BUDGET, attempt_timeout)` left.
    pub attempt_timeout: Option<Duration>,
    /// A uniform random sample in `[0, 1)` for jitter.
    pub jitter: f64,
}

impl RetryInput {
    /// The inputs for a non-idempotent request whose `attempt`-th attempt came to
    /// `disposition` after `elapsed`, with no deadline and a jitter of 0.5.
    pub fn new(disposition: Disposition, attempt: u32, elapsed: Duration) -> Self {
        RetryInput {
            disposition,
            retry_after: None,
            idempotent: false,
            attempt,
            elapsed,
            deadline: None,
            attempt_timeout: None,
            jitter: 0.5,
        }
    }

    /// With the server's `Retry-After`.
    pub fn retry_after(mut self, wait: Option<Duration>) -> Self {
        self.retry_after = wait;
        self
    }

    /// For an idempotent request.
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    /// With an overall deadline and the attempt timeout.
    pub fn deadline(mut self, deadline: Duration, attempt_timeout: Duration) -> Self {
        self.deadline = Some(deadline);
        self.attempt_timeout = Some(attempt_timeout);
        self
    }

    /// With a jitter sample in `[0, 1)`.
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    /// The least time a retry needs left of the deadline after its wait.
    pub fn min_budget(&self) -> Duration {
        min_attempt_budget(self.attempt_timeout, self.deadline)
    }
}

/// `min(MIN_ATTEMPT_BUDGET, attempt timeout, deadline)`.
pub(crate) fn min_attempt_budget(
    attempt: Option<Duration>,
    deadline: Option<Duration>,
) -> Duration {
    [Some(MIN_ATTEMPT_BUDGET), attempt, deadline]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(MIN_ATTEMPT_BUDGET)
}

/// What to do after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Return this outcome to the caller.
    Stop(StopReason),
    /// Wait this long, then send the same request again.
    RetryAfter(Duration),
}

/// Why the client stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// Success, or an answer a retry cannot change (a 4xx, a redirect).
    Final,
    /// The outcome is unknown and the request is not idempotent: a resend could do it
    /// twice.
    OutcomeUnknown,
    /// `max_attempts` reached.
    AttemptsExhausted,
    /// The server asked to wait longer than `max_wait`.
    WaitTooLong,
    /// The wait would leave less than the minimum attempt budget before the deadline.
    DeadlineExceeded,
}

/// Decides whether to send the same request again, and after how long. Pure: everything it
/// depends on is in its arguments.
pub fn decide(policy: &RetryPolicy, input: &RetryInput) -> Decision {
    let wait = match input.disposition {
        Disposition::Succeeded | Disposition::Refused | Disposition::Redirected => {
            return Decision::Stop(StopReason::Final);
        }
        Disposition::OutcomeUnknown if !(input.idempotent || policy.retry_outcome_unknown) => {
            return Decision::Stop(StopReason::OutcomeUnknown);
        }
        Disposition::NotProcessed | Disposition::OutcomeUnknown => match input.retry_after {
            Some(wait) if wait > policy.max_wait => {
                return Decision::Stop(StopReason::WaitTooLong);
            }
            Some(wait) => wait,
            None => full_jitter(policy, input),
        },
    };
    if input.attempt >= policy.max_attempts {
        return Decision::Stop(StopReason::AttemptsExhausted);
    }
    if let Some(deadline) = input.deadline {
        let needed = input
            .elapsed
            .saturating_add(wait)
            .saturating_add(input.min_budget());
        if needed > deadline {
            return Decision::Stop(StopReason::DeadlineExceeded);
        }
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
/// in the past means "now" (zero); anything unreadable is ignored; anything longer than
/// [`MAX_RETRY_AFTER`] is read as `MAX_RETRY_AFTER`. Never panics.
pub fn parse_retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after_value(text, now)
}

/// [`parse_retry_after`] for the header's text.
pub fn parse_retry_after_value(text: &str, now: SystemTime) -> Option<Duration> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        // Any number of digits: too many for u64 is still "very long".
        let seconds = text.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER));
    }
    if let Ok(seconds) = text.parse::<f64>() {
        // `1e400` is infinity: "very long", like any value past the cap; NaN is no number.
        return (seconds >= 0.0)
            .then(|| Duration::from_secs_f64(seconds.min(MAX_RETRY_AFTER.as_secs_f64())));
    }
    let date = httpdate::parse_http_date(text).ok()?;
    Some(
        date.duration_since(now)
            .unwrap_or(Duration::ZERO)
            .min(MAX_RETRY_AFTER),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use Decision::*;
    use Disposition::*;
    use StopReason::{AttemptsExhausted, DeadlineExceeded, Final, WaitTooLong};

    const S: fn(u64) -> Duration = Duration::from_secs;
    const MS: fn(u64) -> Duration = Duration::from_millis;

    /// (case, policy, disposition, retry-after s, idempotent, attempt, elapsed s,
    /// deadline s, jitter, expected)
    type Row<'a> = (
        &'a str,
        &'a RetryPolicy,
        Disposition,
        Option<u64>,
        bool,
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
            ("success is final",                       &default, Succeeded,      None,     false, 1, 0,   None,      0.5, Stop(Final)),
            ("a refusal is final",                     &default, Refused,        None,     false, 1, 0,   None,      0.5, Stop(Final)),
            ("a refusal is final for a list too",      &default, Refused,        None,     true,  1, 0,   None,      0.5, Stop(Final)),
            ("a redirect is never followed",           &default, Redirected,     None,     true,  1, 0,   None,      0.5, Stop(Final)),
            ("429 honours Retry-After",                &default, NotProcessed,   Some(2),  false, 1, 0,   None,      0.5, RetryAfter(S(2))),
            ("Retry-After 0 retries at once",          &default, NotProcessed,   Some(0),  false, 1, 0,   None,      0.5, RetryAfter(S(0))),
            ("Retry-After = max_wait is allowed",      &default, NotProcessed,   Some(60), false, 1, 0,   None,      0.5, RetryAfter(S(60))),
            ("Retry-After > max_wait stops",           &default, NotProcessed,   Some(61), false, 1, 0,   None,      0.5, Stop(WaitTooLong)),
            ("no Retry-After: jitter of 1 s",          &default, NotProcessed,   None,     false, 1, 0,   None,      0.5, RetryAfter(MS(500))),
            ("no Retry-After: attempt 3, step 4 s",    &default, NotProcessed,   None,     false, 3, 0,   None,      0.25, RetryAfter(S(1))),
            ("jitter near 1 gives nearly the step",    &default, NotProcessed,   None,     false, 3, 0,   None,      0.999_999, RetryAfter(S(4).mul_f64(0.999_999))),
            ("full jitter can be zero",                &default, NotProcessed,   None,     false, 2, 0,   None,      0.0, RetryAfter(S(0))),
            ("the last attempt stops",                 &default, NotProcessed,   Some(1),  false, 4, 0,   None,      0.5, Stop(AttemptsExhausted)),
            ("a no-retry policy stops at once",        &none,    NotProcessed,   Some(1),  false, 1, 0,   None,      0.5, Stop(AttemptsExhausted)),
            ("a wait past the deadline stops",         &default, NotProcessed,   Some(30), false, 1, 100, Some(120), 0.5, Stop(DeadlineExceeded)),
            ("a wait leaving < 1 s stops",             &default, NotProcessed,   Some(20), false, 1, 100,  Some(120), 0.5, Stop(DeadlineExceeded)),
            ("a wait leaving exactly 1 s retries",     &default, NotProcessed,   Some(19), false, 1, 100, Some(120), 0.5, RetryAfter(S(19))),
            ("unknown is not resent by default",       &default, OutcomeUnknown, None,     false, 1, 0,   None,      0.5, Stop(StopReason::OutcomeUnknown)),
            ("unknown with Retry-After not resent",    &default, OutcomeUnknown, Some(1),  false, 1, 0,   None,      0.5, Stop(StopReason::OutcomeUnknown)),
            ("unknown resent with the opt-in",         &risky,   OutcomeUnknown, None,     false, 1, 0,   None,      0.5, RetryAfter(MS(500))),
            ("the opt-in still stops at the last",     &risky,   OutcomeUnknown, None,     false, 4, 0,   None,      0.5, Stop(AttemptsExhausted)),
            ("unknown is resent for a list",           &default, OutcomeUnknown, None,     true,  1, 0,   None,      0.5, RetryAfter(MS(500))),
            ("a list honours a 503's Retry-After",     &default, OutcomeUnknown, Some(3),  true,  1, 0,   None,      0.5, RetryAfter(S(3))),
            ("a list stops at the last attempt",       &default, OutcomeUnknown, None,     true,  4, 0,   None,      0.5, Stop(AttemptsExhausted)),
        ];
        for &(
            case,
            policy,
            disposition,
            retry_after,
            idempotent,
            attempt,
            elapsed,
            deadline,
            jitter,
            expected,
        ) in table
        {
            let mut input = RetryInput::new(disposition, attempt, S(elapsed))
                .retry_after(retry_after.map(S))
                .idempotent(idempotent)
                .jitter(jitter);
            if let Some(deadline) = deadline {
                input = input.deadline(S(deadline), S(60));
            }
            assert_eq!(decide(policy, &input), expected, "{case}");
        }
    }

    #[test]
    fn the_minimum_budget_shrinks_with_short_timeouts() {
        let input = RetryInput::new(NotProcessed, 1, MS(100))
            .retry_after(Some(MS(10)))
            .deadline(MS(150), MS(30));
        assert_eq!(input.min_budget(), MS(30));
        assert_eq!(
            decide(&RetryPolicy::default(), &input),
            RetryAfter(MS(10)),
            "100 + 10 + 30 ≤ 150"
        );
        let late = RetryInput::new(NotProcessed, 1, MS(115))
            .retry_after(Some(MS(10)))
            .deadline(MS(150), MS(30));
        assert_eq!(
            decide(&RetryPolicy::default(), &late),
            Stop(DeadlineExceeded)
        );
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
        let input = |j: f64| RetryInput::new(NotProcessed, 1, S(0)).jitter(j);
        assert_eq!(decide(&policy, &input(f64::NAN)), RetryAfter(S(0)));
        assert_eq!(decide(&policy, &input(-3.0)), RetryAfter(S(0)));
        assert_eq!(decide(&policy, &input(7.0)), RetryAfter(S(1)));
    }

    #[test]
    fn extreme_inputs_never_panic() {
        let policy = RetryPolicy::default()
            .with_max_attempts(u32::MAX)
            .with_max_wait(Duration::MAX)
            .with_backoff(Duration::MAX, Duration::MAX);
        let input = RetryInput::new(NotProcessed, u32::MAX - 1, Duration::MAX)
            .retry_after(Some(Duration::MAX))
            .deadline(Duration::MAX - S(1), Duration::MAX)
            .jitter(1.0);
        assert_eq!(
            decide(&policy, &input),
            Stop(DeadlineExceeded),
            "sums saturate"
        );
    }

    #[test]
    fn retry_after_seconds_dates_and_garbage() {
        let now = SystemTime::UNIX_EPOCH + S(1_700_000_000);
        let parse = |value: &str| parse_retry_after_value(value, now);
        assert_eq!(parse("2"), Some(S(2)));
        assert_eq!(parse(" 60 "), Some(S(60)));
        assert_eq!(parse("1.5"), Some(MS(1500)));
        assert_eq!(parse(&httpdate::fmt_http_date(now + S(3))), Some(S(3)));
        assert_eq!(
            parse(&httpdate::fmt_http_date(now - S(30))),
            Some(S(0)),
            "a past date means now"
        );
        assert_eq!(parse("18446744073709551615"), Some(MAX_RETRY_AFTER));
        assert_eq!(parse("99999999999999999999999999"), Some(MAX_RETRY_AFTER));
        assert_eq!(parse("1e300"), Some(MAX_RETRY_AFTER));
        assert_eq!(parse("1e400"), Some(MAX_RETRY_AFTER));
        assert_eq!(
            parse(&httpdate::fmt_http_date(
                SystemTime::UNIX_EPOCH + S(253_402_300_799)
            )),
            Some(MAX_RETRY_AFTER),
            "a date in year 9999"
        );
        assert_eq!(parse("-1"), None);
        assert_eq!(parse("NaN"), None);
        assert_eq!(parse("inf"), Some(MAX_RETRY_AFTER));
        assert_eq!(parse(""), None);
        assert_eq!(parse("soon"), None);
        let mut headers = HeaderMap::new();
        assert_eq!(parse_retry_after(&headers, now), None);
        headers.insert(RETRY_AFTER, "5".parse().unwrap());
        assert_eq!(parse_retry_after(&headers, now), Some(S(5)));
    }
}
