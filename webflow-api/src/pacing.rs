//! Client-side pacing: one budget of requests per client, shared by its clones, single
//! calls and bulk imports, so that every request made with one token respects one rate.
//!
//! The client asks its [`RateLimiter`] for a slot before every attempt, and tells it what
//! each answer said. The built-in limiter ([`Pacer`], configured by [`Pacing`]) spaces
//! requests evenly at the rate Webflow reports in `X-RateLimit-Limit`, and after a 429
//! holds every request until its `Retry-After` has passed. A limiter shared across
//! processes (a Redis token bucket, say) can replace it through
//! [`ClientBuilder::rate_limiter`](crate::ClientBuilder::rate_limiter).
//!
//! A limiter never makes a call wait longer than the call may: [`RateLimiter::reserve`]
//! takes the caller's limit and refuses (reserving nothing) when the slot would start
//! later, so the call ends at once instead of sleeping past its deadline or `max_wait`.

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::rate_limit::RateLimit;

/// How the built-in [`Pacer`] spaces requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pacing {
    /// No spacing: requests go out at once. A 429's `Retry-After` still holds the client's
    /// later requests (they would be refused anyway), and the call that met it waits as
    /// its [`RetryPolicy`](crate::RetryPolicy) allows.
    Off,
    /// Start at `initial_per_minute`, then follow the `X-RateLimit-Limit` Webflow reports;
    /// after a 429, hold every request until its `Retry-After` has passed. The default,
    /// starting at 60 (the lowest plan's limit).
    Adaptive {
        /// The rate to assume until Webflow reports its limit.
        initial_per_minute: u32,
    },
    /// Exactly `per_minute`, whatever the headers say (still honouring 429 waits).
    Fixed {
        /// Requests per minute.
        per_minute: u32,
    },
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing::adaptive()
    }
}

impl Pacing {
    /// Adaptive pacing starting at 60 requests per minute, the lowest plan's limit.
    pub const fn adaptive() -> Pacing {
        Pacing::Adaptive {
            initial_per_minute: 60,
        }
    }

    /// Why this pacing cannot be used (a rate of zero), if it cannot.
    pub(crate) fn problem(self) -> Option<&'static str> {
        matches!(
            self,
            Pacing::Fixed { per_minute: 0 }
                | Pacing::Adaptive {
                    initial_per_minute: 0
                }
        )
        .then_some("the pacing rate is 0 requests per minute; use a positive rate or Pacing::Off")
    }
}

/// What an answer told the limiter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Observation {
    /// The answer's `X-RateLimit-*` headers.
    pub rate_limit: Option<RateLimit>,
    /// `true` for a 429.
    pub throttled: bool,
    /// A 429's `Retry-After`, read (and capped at
    /// [`MAX_RETRY_AFTER`](crate::retry::MAX_RETRY_AFTER)).
    pub retry_after: Option<Duration>,
}

impl Observation {
    /// What an answer with these headers said; `retry_after` counts only for a 429.
    pub fn new(
        rate_limit: Option<RateLimit>,
        throttled: bool,
        retry_after: Option<Duration>,
    ) -> Self {
        Observation {
            rate_limit,
            throttled,
            retry_after: retry_after.filter(|_| throttled),
        }
    }
}

/// Hands out request slots for one client (all its clones and imports). See the [module
/// documentation](self).
pub trait RateLimiter: Send + Sync + fmt::Debug + 'static {
    /// Takes the next free slot if it starts within `max_wait` of `now`, and returns how
    /// long to wait for it (zero: send now). When the slot would start later, reserves
    /// nothing and returns `Err` with the wait that would have been needed.
    fn reserve(&self, now: Instant, max_wait: Duration) -> Result<Duration, Duration>;

    /// Learns from an answer (its rate-limit headers, a 429's `Retry-After`).
    fn observe(&self, now: Instant, observation: &Observation);

    /// `false` while the rate is still a guess (before any answer reported it): a bulk
    /// import keeps a single request in flight until then.
    fn is_calibrated(&self) -> bool {
        true
    }
}

/// The built-in [`RateLimiter`]: evenly spaced slots at the paced rate (2 % wider than
/// `60 s / limit`, so that network jitter does not push two requests into one window
/// slot), and a hold until a 429's `Retry-After` has passed.
#[derive(Debug)]
pub struct Pacer {
    pacing: Pacing,
    state: Mutex<PacerState>,
}

#[derive(Debug)]
struct PacerState {
    per_minute: u32,
    /// The latest slot handed out.
    last_slot: Option<Instant>,
    /// The earliest start of the next slot, by spacing.
    next_slot: Option<Instant>,
    /// No slot starts before this (a 429's `Retry-After`).
    hold_until: Option<Instant>,
    /// Whether an answer has reported the limit (adaptive pacing).
    calibrated: bool,
}

/// Slots are spaced this much wider than `60 s / limit`.
const SAFETY_MARGIN: f64 = 1.02;

impl Pacer {
    /// A pacer for `pacing` (a zero rate is read as 1 per minute).
    pub fn new(pacing: Pacing) -> Pacer {
        let (per_minute, calibrated) = match pacing {
            Pacing::Off => (0, true),
            Pacing::Adaptive { initial_per_minute } => (initial_per_minute.max(1), false),
            Pacing::Fixed { per_minute } => (per_minute.max(1), true),
        };
        Pacer {
            pacing,
            state: Mutex::new(PacerState {
                per_minute,
                last_slot: None,
                next_slot: None,
                hold_until: None,
                calibrated,
            }),
        }
    }

    /// The rate slots are spaced at, per minute (`None` with [`Pacing::Off`]).
    pub fn per_minute(&self) -> Option<u32> {
        (self.pacing != Pacing::Off).then(|| self.state().per_minute)
    }

    fn interval(per_minute: u32) -> Duration {
        Duration::from_secs(60).mul_f64(SAFETY_MARGIN / f64::from(per_minute.max(1)))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, PacerState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl RateLimiter for Pacer {
    fn reserve(&self, now: Instant, max_wait: Duration) -> Result<Duration, Duration> {
        let spaced = self.pacing != Pacing::Off;
        let mut state = self.state();
        let mut slot = now;
        if spaced && let Some(next) = state.next_slot {
            slot = slot.max(next);
        }
        if let Some(hold) = state.hold_until {
            slot = slot.max(hold);
        }
        let wait = slot.saturating_duration_since(now);
        if wait > max_wait {
            return Err(wait);
        }
        state.last_slot = Some(slot);
        if spaced {
            state.next_slot = slot.checked_add(Self::interval(state.per_minute));
        }
        Ok(wait)
    }

    fn observe(&self, now: Instant, observation: &Observation) {
        let mut state = self.state();
        if matches!(self.pacing, Pacing::Adaptive { .. })
            && let Some(limit) = observation
                .rate_limit
                .and_then(|r| r.limit)
                .filter(|l| *l > 0)
        {
            state.calibrated = true;
            if limit != state.per_minute {
                // Re-space from the latest slot handed out, at the new rate. A hold is kept.
                state.per_minute = limit;
                state.next_slot = state
                    .last_slot
                    .and_then(|last| last.checked_add(Self::interval(limit)));
            }
        }
        if let Some(wait) = observation.retry_after.filter(|_| observation.throttled)
            && let Some(resume) = now.checked_add(wait)
        {
            state.hold_until = Some(state.hold_until.map_or(resume, |hold| hold.max(resume)));
        }
    }

    fn is_calibrated(&self) -> bool {
        self.state().calibrated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;
    const FOREVER: Duration = Duration::MAX;

    fn reported(limit: u32) -> Observation {
        Observation::new(
            Some(RateLimit {
                limit: Some(limit),
                remaining: Some(1),
            }),
            false,
            None,
        )
    }

    fn throttled(wait: Duration) -> Observation {
        Observation::new(None, true, Some(wait))
    }

    #[test]
    fn slots_are_evenly_spaced_at_the_rate() {
        let pacer = Pacer::new(Pacing::Fixed { per_minute: 60 });
        let now = Instant::now();
        let waits: Vec<Duration> = (0..4)
            .map(|_| pacer.reserve(now, FOREVER).unwrap())
            .collect();
        let step = Duration::from_secs_f64(1.02);
        assert_eq!(waits, [Duration::ZERO, step, step * 2, step * 3]);
    }

    #[test]
    fn a_late_request_does_not_bank_slots() {
        let pacer = Pacer::new(Pacing::Fixed { per_minute: 60 });
        let start = Instant::now();
        assert_eq!(pacer.reserve(start, FOREVER), Ok(Duration::ZERO));
        let later = start + S(10);
        assert_eq!(pacer.reserve(later, FOREVER), Ok(Duration::ZERO));
        assert_eq!(
            pacer.reserve(later, FOREVER),
            Ok(Duration::from_secs_f64(1.02))
        );
    }

    #[test]
    fn a_slot_beyond_the_callers_limit_is_refused_and_not_taken() {
        let pacer = Pacer::new(Pacing::Fixed { per_minute: 60 });
        let now = Instant::now();
        assert_eq!(pacer.reserve(now, Duration::ZERO), Ok(Duration::ZERO));
        let step = Duration::from_secs_f64(1.02);
        assert_eq!(pacer.reserve(now, S(1)), Err(step), "1.02 s > 1 s");
        assert_eq!(
            pacer.reserve(now, S(2)),
            Ok(step),
            "the refused slot is still free"
        );
    }

    #[test]
    fn adaptive_pacing_follows_the_reported_limit_and_fixed_does_not() {
        let adaptive = Pacer::new(Pacing::adaptive());
        assert!(!adaptive.is_calibrated());
        adaptive.observe(Instant::now(), &reported(120));
        assert_eq!(adaptive.per_minute(), Some(120));
        assert!(adaptive.is_calibrated());
        let fixed = Pacer::new(Pacing::Fixed { per_minute: 30 });
        fixed.observe(Instant::now(), &reported(120));
        assert_eq!(fixed.per_minute(), Some(30));
        assert!(fixed.is_calibrated());
        assert_eq!(Pacer::new(Pacing::Off).per_minute(), None);
    }

    #[test]
    fn a_learned_rate_re_spaces_from_the_last_slot() {
        let pacer = Pacer::new(Pacing::adaptive());
        let now = Instant::now();
        assert_eq!(pacer.reserve(now, FOREVER), Ok(Duration::ZERO));
        pacer.observe(now, &reported(120));
        assert_eq!(
            pacer.reserve(now, FOREVER),
            Ok(Duration::from_secs_f64(0.51)),
            "half a 60/min interval"
        );
    }

    #[test]
    fn retry_after_holds_every_later_request_even_unpaced() {
        for pacing in [Pacing::Fixed { per_minute: 600 }, Pacing::Off] {
            let pacer = Pacer::new(pacing);
            let now = Instant::now();
            pacer.observe(now, &throttled(S(60)));
            assert_eq!(pacer.reserve(now, FOREVER), Ok(S(60)), "{pacing:?}");
        }
    }

    #[test]
    fn a_retry_after_on_a_non_429_is_ignored() {
        let pacer = Pacer::new(Pacing::Off);
        let now = Instant::now();
        pacer.observe(now, &Observation::new(None, false, Some(S(60))));
        assert_eq!(pacer.reserve(now, FOREVER), Ok(Duration::ZERO));
    }

    #[test]
    fn a_new_limit_keeps_an_active_hold() {
        let pacer = Pacer::new(Pacing::adaptive());
        let now = Instant::now();
        pacer.reserve(now, FOREVER).unwrap();
        pacer.observe(now, &throttled(S(30)));
        pacer.observe(now, &reported(120));
        assert_eq!(pacer.reserve(now, FOREVER), Ok(S(30)));
    }

    #[test]
    fn a_long_hold_refuses_callers_with_shorter_limits_at_once() {
        let pacer = Pacer::new(Pacing::adaptive());
        let now = Instant::now();
        pacer.observe(now, &throttled(S(600)));
        assert_eq!(pacer.reserve(now, S(60)), Err(S(600)));
        assert_eq!(pacer.reserve(now + S(599), S(60)), Ok(S(1)));
    }

    #[test]
    fn huge_waits_never_panic() {
        let pacer = Pacer::new(Pacing::Fixed { per_minute: 1 });
        let now = Instant::now();
        pacer.observe(now, &throttled(Duration::MAX));
        pacer.observe(now, &reported(u32::MAX));
        assert_eq!(pacer.reserve(now, FOREVER), Ok(Duration::ZERO));
        assert!(pacer.reserve(now, FOREVER).is_ok());
    }
}
