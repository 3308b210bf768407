//! Client-side pacing: one budget of requests per client, shared by its clones, single
//! calls and bulk imports, so that every request made with one token respects one rate.
//!
//! Before every attempt the client asks its [`RateLimiter`] for a slot, and after every
//! answer it tells the limiter what the answer said. The built-in limiter ([`Pacer`],
//! configured by [`Pacing`]) keeps a **budget, not a metronome**: a token bucket holding
//! the `X-RateLimit-Remaining` Webflow reports, refilled at the `X-RateLimit-Limit` rate
//! (users report that `X-RateLimit-Remaining` is replenished a little at a time, not reset
//! each minute: <https://discourse.webflow.com/t/rate-limit-issues-with-api/85781>). A burst within the remaining budget goes out
//! at once; spacing starts only as the budget runs low; after a 429 every request is held
//! until its `Retry-After` has passed. A cap ([`ClientBuilder::max_requests_per_minute`](crate::ClientBuilder::max_requests_per_minute))
//! leaves part of the budget to the site's other integrations.
//!
//! # A limiter shared by several processes
//!
//! The trait is asynchronous and works in wall time (the client clock's `system_time()`),
//! so a limiter backed by a shared store fits behind it: [`acquire`](RateLimiter::acquire)
//! is one round trip that takes a token or says how long until one is free,
//! [`observe`](RateLimiter::observe) writes what an answer reported. With Redis, for
//! example, `acquire` runs a short Lua script on a hash `{tokens, updated_at}` (refill by
//! elapsed time, take one if there is one, else return the wait), atomically for every
//! process sharing the key; `observe` lowers `tokens` to the `remaining` Webflow reported.
//! Install it with [`ClientBuilder::rate_limiter`](crate::ClientBuilder::rate_limiter) in
//! every process. Nothing about the waiting is the limiter's concern: the client sleeps
//! (on its own clock, within its deadline and `max_wait`) and asks again.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures_util::future::Either;
use std::time::{Duration, SystemTime};

use crate::rate_limit::RateLimit;

/// A boxed `Send` future, as [`RateLimiter`]'s methods return.
pub type LimiterFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How the built-in [`Pacer`] paces requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pacing {
    /// No pacing: requests go out at once. A 429's `Retry-After` still holds the client's
    /// later requests (they would be refused anyway), and the call that met it waits as
    /// its [`RetryPolicy`](crate::RetryPolicy) allows.
    Off,
    /// A budget of `initial_per_minute` until Webflow reports its limit, then the
    /// `X-RateLimit-Limit` and `X-RateLimit-Remaining` Webflow reports; after a 429, every
    /// request held until its `Retry-After` has passed. The default, starting at 60 (the
    /// lowest plan's limit).
    Adaptive {
        /// The rate to assume until Webflow reports its limit.
        initial_per_minute: u32,
    },
    /// A budget of `per_minute`, whatever `X-RateLimit-Limit` says (the `remaining` Webflow
    /// reports and 429 waits still count).
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

/// A slot a [`RateLimiter`] granted: an opaque sequence number the limiter chose, handed
/// back with what the answer to that request said (or when it was not used).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Slot(pub u64);

/// What [`RateLimiter::acquire`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Acquire {
    /// Send now: the slot is taken.
    Granted(Slot),
    /// Nothing is taken; ask again after this long (or sooner, when
    /// [`changed`](RateLimiter::changed) completes).
    Wait(Duration),
    /// The next slot is further away than the caller may wait (it says how far): nothing is
    /// taken, and the call ends at once without sending.
    Refused(Duration),
}

/// What an answer told the limiter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Observation {
    /// The slot the request was sent in.
    pub slot: Slot,
    /// The answer's `X-RateLimit-*` headers.
    pub rate_limit: Option<RateLimit>,
    /// `true` for a 429.
    pub throttled: bool,
    /// A 429's `Retry-After`, read (and capped at
    /// [`MAX_RETRY_AFTER`](crate::retry::MAX_RETRY_AFTER)).
    pub retry_after: Option<Duration>,
}

impl Observation {
    /// What the answer to the request sent in `slot` said; `retry_after` counts only for a 429.
    pub fn new(
        slot: Slot,
        rate_limit: Option<RateLimit>,
        throttled: bool,
        retry_after: Option<Duration>,
    ) -> Self {
        Observation {
            slot,
            rate_limit,
            throttled,
            retry_after: retry_after.filter(|_| throttled),
        }
    }
}

/// Hands out request slots for one client (all its clones and imports), possibly shared
/// with other clients and processes. See the [module documentation](self).
pub trait RateLimiter: Send + Sync + fmt::Debug + 'static {
    /// Asks for a slot to send one request at `now` (wall time). `max_wait` is the longest
    /// the caller may still wait: a slot further away is [`Acquire::Refused`].
    fn acquire(&self, now: SystemTime, max_wait: Duration) -> LimiterFuture<'_, Acquire>;

    /// Learns how the request sent in a slot ended: called once for every granted slot
    /// whose request went out — with what the answer said (its rate-limit headers, a 429's
    /// `Retry-After`), or, when no answer came (a timeout, a dropped connection, the call's
    /// future dropped while its request was under way), with `rate_limit: None`, so the
    /// limiter knows the slot is no longer in flight. (After a dropped call it runs on a
    /// task of the current tokio runtime.)
    fn observe(&self, now: SystemTime, observation: Observation) -> LimiterFuture<'_, ()>;

    /// Takes back a granted slot whose request was never sent (the call was cancelled
    /// between the grant and the send). The default does nothing.
    fn release(&self, _slot: Slot) -> LimiterFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }

    /// Completes when callers told to [`Wait`](Acquire::Wait) should ask again early (the
    /// limiter learned a higher rate, or slots were given back). The default never does.
    fn changed(&self) -> LimiterFuture<'_, ()> {
        Box::pin(std::future::pending())
    }

    /// `false` while the rate is still a guess (before any answer reported it): a bulk
    /// import keeps a single request in flight until then.
    fn is_calibrated(&self) -> bool {
        true
    }
}

/// The built-in [`RateLimiter`]: a token bucket holding the budget Webflow reports. See
/// the [module documentation](self).
///
/// - Its size is the limit per minute (`X-RateLimit-Limit`, the starting guess, or the
///   fixed rate; at most the cap), and it refills at that rate, spread 2 % thinner so that
///   network jitter never makes it run ahead of Webflow's own bucket.
/// - Each answer's `X-RateLimit-Remaining` lowers the tokens to what Webflow says is left,
///   less every other request still in flight (Webflow may not have counted it yet: an
///   answer can overtake an earlier request on another connection). Other integrations
///   spending the same token's budget slow it down. Only the answer that first reports
///   the limit may raise it (adaptive pacing without a cap: a budget larger than guessed
///   is spent at once); after that only the refill does, since an answer may be older
///   than one already learned from.
/// - A 429 empties it, and holds every request until its `Retry-After` has passed.
/// - A wall clock that steps back refills nothing until it has caught up.
#[derive(Debug)]
pub struct Pacer {
    pacing: Pacing,
    cap: Option<u32>,
    state: Mutex<PacerState>,
    changed: tokio::sync::Notify,
}

#[derive(Debug)]
struct PacerState {
    /// Requests per minute the bucket is sized and refilled for.
    per_minute: u32,
    tokens: f64,
    /// When `tokens` was last brought up to date.
    updated: Option<SystemTime>,
    /// No slot before this (a 429's `Retry-After`).
    hold_until: Option<SystemTime>,
    /// Whether an answer has reported the limit (adaptive pacing).
    calibrated: bool,
    /// Slots granted so far (the sequence of the latest).
    granted: u64,
    /// Slots granted and not yet ended (answered, failed or released), with when: a
    /// request Webflow may not have counted yet. Paced limiters only; a handful at a time.
    in_flight: Vec<(u64, SystemTime)>,
}

/// A slot still marked in flight this long after it was granted is forgotten: its call
/// was dropped without ending (a request cannot outlive its attempt timeout by this much,
/// and Webflow's bucket has refilled what it took since).
const IN_FLIGHT_HORIZON: Duration = Duration::from_secs(600);

/// The refill is spread this much thinner than `limit / 60 s`.
const SAFETY_MARGIN: f64 = 1.02;

impl Pacer {
    /// A pacer for `pacing`, at most `cap` requests per minute (a zero rate is read as 1).
    pub fn new(pacing: Pacing, cap: Option<u32>) -> Pacer {
        let (rate, calibrated) = match pacing {
            Pacing::Off => (u32::MAX, true),
            Pacing::Adaptive { initial_per_minute } => (initial_per_minute, false),
            Pacing::Fixed { per_minute } => (per_minute, true),
        };
        let per_minute = cap.map_or(rate, |cap| cap.min(rate)).max(1);
        Pacer {
            pacing,
            cap,
            state: Mutex::new(PacerState {
                per_minute,
                tokens: f64::from(per_minute),
                updated: None,
                hold_until: None,
                calibrated,
                granted: 0,
                in_flight: Vec::new(),
            }),
            changed: tokio::sync::Notify::new(),
        }
    }

    /// The rate the bucket refills at, per minute (`None` with [`Pacing::Off`] and no cap).
    pub fn per_minute(&self) -> Option<u32> {
        (self.pacing != Pacing::Off || self.cap.is_some()).then(|| self.state().per_minute)
    }

    fn paced(&self) -> bool {
        self.pacing != Pacing::Off || self.cap.is_some()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, PacerState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a slot, or says how long until one is free.
    fn take(&self, now: SystemTime, max_wait: Duration) -> Acquire {
        let paced = self.paced();
        let mut state = self.state();
        state.refill(now);
        let mut wait = state
            .hold_until
            .and_then(|hold| hold.duration_since(now).ok())
            .unwrap_or_default();
        // A refill computed to the nanosecond can fall short of a whole token by a rounding
        // error: that is a whole token, not another wait of a few nanoseconds.
        if paced && state.tokens < 1.0 - 1e-6 {
            let per_second = f64::from(state.per_minute) / 60.0 / SAFETY_MARGIN;
            let refill = Duration::from_secs_f64(((1.0 - state.tokens) / per_second).min(1e9));
            wait = wait.max(refill);
        }
        if wait > max_wait {
            return Acquire::Refused(wait);
        }
        if !wait.is_zero() {
            return Acquire::Wait(wait);
        }
        state.granted += 1;
        if paced {
            state.tokens = (state.tokens - 1.0).max(-f64::from(state.per_minute));
            state.in_flight.retain(|(_, granted)| {
                now.duration_since(*granted)
                    .map_or(true, |age| age < IN_FLIGHT_HORIZON)
            });
            let slot = state.granted;
            state.in_flight.push((slot, now));
        }
        Acquire::Granted(Slot(state.granted))
    }

    fn learn(&self, now: SystemTime, observation: &Observation) {
        let paced = self.paced();
        let mut state = self.state();
        state.refill(now);
        state.end(observation.slot);
        let mut more = false;
        let first_report = !state.calibrated;
        let reported = observation.rate_limit.unwrap_or_default();
        if matches!(self.pacing, Pacing::Adaptive { .. })
            && let Some(limit) = reported.limit.filter(|l| *l > 0)
        {
            let limit = self.cap.map_or(limit, |cap| cap.min(limit));
            state.calibrated = true;
            more |= limit > state.per_minute;
            state.per_minute = limit;
        }
        if paced && let Some(remaining) = reported.remaining {
            // What Webflow says is left, less every other slot still in flight: Webflow may
            // not have counted it yet (answers overtake each other on separate
            // connections). Slots already answered are not subtracted: their own answers
            // were counted when they came.
            let in_flight = state.in_flight.len() as f64;
            let tokens = (f64::from(remaining) - in_flight).min(f64::from(state.per_minute));
            // Only down, but for the answer that first reports the limit (adaptive, no cap):
            // an answer can be older than one already learned from — a late answer to an
            // early request — and must not raise the budget past what the newer one said.
            // The bucket's refill raises it.
            let may_raise = first_report
                && matches!(self.pacing, Pacing::Adaptive { .. })
                && self.cap.is_none();
            if may_raise || tokens < state.tokens {
                more |= tokens > state.tokens;
                state.tokens = tokens.max(-f64::from(state.per_minute));
            }
        }
        state.tokens = state.tokens.min(f64::from(state.per_minute));
        if observation.throttled {
            // Webflow's budget is spent, whatever this bucket thought.
            state.tokens = state.tokens.min(0.0);
        }
        if let Some(wait) = observation.retry_after.filter(|_| observation.throttled)
            && let Some(resume) = now.checked_add(wait)
        {
            state.hold_until = Some(state.hold_until.map_or(resume, |hold| hold.max(resume)));
        }
        drop(state);
        if more {
            self.changed.notify_waiters();
        }
    }
}

impl PacerState {
    /// The slot is no longer in flight.
    fn end(&mut self, slot: Slot) {
        if let Some(at) = self.in_flight.iter().position(|(s, _)| *s == slot.0) {
            self.in_flight.swap_remove(at);
        }
    }

    /// Adds the tokens earned since the last update (none while the clock is behind it).
    fn refill(&mut self, now: SystemTime) {
        let Some(updated) = self.updated else {
            self.updated = Some(now);
            return;
        };
        let Ok(elapsed) = now.duration_since(updated) else {
            return;
        };
        let per_second = f64::from(self.per_minute) / 60.0 / SAFETY_MARGIN;
        let capacity = f64::from(self.per_minute);
        self.tokens = (self.tokens + elapsed.as_secs_f64() * per_second).min(capacity);
        self.updated = Some(now);
    }
}

impl Pacer {
    /// Takes back a slot whose request was never sent.
    fn give_back(&self, slot: Slot) {
        if self.paced() {
            let mut state = self.state();
            state.end(slot);
            state.tokens = (state.tokens + 1.0).min(f64::from(state.per_minute));
            drop(state);
            self.changed.notify_waiters();
        }
    }
}

/// The client's rate limiter as the request path calls it: the built-in [`Pacer`] directly
/// (nothing boxed on the default path), or the caller's [`RateLimiter`] through the trait.
#[derive(Clone, Debug)]
pub(crate) enum ClientLimiter {
    Builtin(Arc<Pacer>),
    Custom(Arc<dyn RateLimiter>),
}

impl ClientLimiter {
    /// [`RateLimiter::acquire`].
    pub(crate) async fn acquire(&self, now: SystemTime, max_wait: Duration) -> Acquire {
        match self {
            ClientLimiter::Builtin(pacer) => pacer.take(now, max_wait),
            ClientLimiter::Custom(limiter) => limiter.acquire(now, max_wait).await,
        }
    }

    /// [`RateLimiter::observe`].
    pub(crate) async fn observe(&self, now: SystemTime, observation: Observation) {
        match self {
            ClientLimiter::Builtin(pacer) => pacer.learn(now, &observation),
            ClientLimiter::Custom(limiter) => limiter.observe(now, observation).await,
        }
    }

    /// [`RateLimiter::release`].
    pub(crate) async fn release(&self, slot: Slot) {
        match self {
            ClientLimiter::Builtin(pacer) => pacer.give_back(slot),
            ClientLimiter::Custom(limiter) => limiter.release(slot).await,
        }
    }

    /// [`RateLimiter::changed`], listening from this call on.
    pub(crate) fn changed(&self) -> impl Future<Output = ()> + Send + '_ {
        match self {
            ClientLimiter::Builtin(pacer) => Either::Left(pacer.changed.notified()),
            ClientLimiter::Custom(limiter) => Either::Right(limiter.changed()),
        }
    }

    /// [`RateLimiter::is_calibrated`].
    pub(crate) fn is_calibrated(&self) -> bool {
        match self {
            ClientLimiter::Builtin(pacer) => pacer.is_calibrated(),
            ClientLimiter::Custom(limiter) => limiter.is_calibrated(),
        }
    }

    /// Ends the slot of a call dropped while its request was under way (no answer): at
    /// once for the built-in pacer; on a task of the current runtime for a limiter whose
    /// `observe` may await (without a runtime, its future is dropped unpolled).
    pub(crate) fn end_dropped(&self, now: SystemTime, slot: Slot) {
        let ended = Observation::new(slot, None, false, None);
        match self {
            ClientLimiter::Builtin(pacer) => pacer.learn(now, &ended),
            ClientLimiter::Custom(limiter) => {
                let limiter = limiter.clone();
                match tokio::runtime::Handle::try_current() {
                    Ok(runtime) => {
                        runtime.spawn(async move { limiter.observe(now, ended).await });
                    }
                    Err(_) => drop(limiter.observe(now, ended)),
                }
            }
        }
    }
}

impl RateLimiter for Pacer {
    fn acquire(&self, now: SystemTime, max_wait: Duration) -> LimiterFuture<'_, Acquire> {
        Box::pin(std::future::ready(self.take(now, max_wait)))
    }

    fn observe(&self, now: SystemTime, observation: Observation) -> LimiterFuture<'_, ()> {
        self.learn(now, &observation);
        Box::pin(std::future::ready(()))
    }

    fn release(&self, slot: Slot) -> LimiterFuture<'_, ()> {
        self.give_back(slot);
        Box::pin(std::future::ready(()))
    }

    fn changed(&self) -> LimiterFuture<'_, ()> {
        Box::pin(self.changed.notified())
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

    fn take(pacer: &Pacer, now: SystemTime) -> Acquire {
        pacer.take(now, FOREVER)
    }

    fn reported(slot: u64, limit: u32, remaining: u32) -> Observation {
        Observation::new(
            Slot(slot),
            Some(RateLimit {
                limit: Some(limit),
                remaining: Some(remaining),
            }),
            false,
            None,
        )
    }

    fn granted(acquire: Acquire) -> bool {
        matches!(acquire, Acquire::Granted(_))
    }

    #[test]
    fn a_burst_within_the_budget_goes_out_at_once() {
        let pacer = Pacer::new(Pacing::adaptive(), None);
        let now = SystemTime::now();
        assert!((0..60).all(|_| granted(take(&pacer, now))));
        match take(&pacer, now) {
            Acquire::Wait(wait) => assert_eq!(wait, Duration::from_secs_f64(1.02)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn spacing_starts_as_the_budget_runs_out_at_the_refill_rate() {
        let pacer = Pacer::new(Pacing::Fixed { per_minute: 60 }, None);
        let start = SystemTime::now();
        (0..60).for_each(|_| assert!(granted(take(&pacer, start))));
        let step = Duration::from_secs_f64(1.02);
        let mut now = start;
        for _ in 0..5 {
            assert_eq!(take(&pacer, now), Acquire::Wait(step));
            now += step;
            assert!(granted(take(&pacer, now)));
        }
    }

    #[test]
    fn the_reported_remaining_budget_counts_requests_granted_after_the_answered_one() {
        let pacer = Pacer::new(Pacing::adaptive(), None);
        let now = SystemTime::now();
        (0..10).for_each(|_| assert!(granted(take(&pacer, now))));
        // The first request's answer: 120 a minute, 119 left; 9 more were granted since.
        pacer.learn(now, &reported(1, 120, 119));
        assert_eq!(pacer.per_minute(), Some(120));
        assert!((0..110).all(|_| granted(take(&pacer, now))));
        assert!(matches!(take(&pacer, now), Acquire::Wait(_)));
    }

    #[test]
    fn an_answer_that_overtakes_an_earlier_request_still_counts_it() {
        // 10 a minute. Slot 1 is answered (9 left, as the pacer thought); slot 2 is on its
        // way; slots 3 to 6 reach Webflow first and are answered (8, 7, 6, 5 left: slot 2
        // not counted yet). 5 tokens are left for Webflow — 4 once slot 2 arrives.
        let pacer = Pacer::new(Pacing::adaptive(), None);
        let now = SystemTime::now();
        assert!(granted(take(&pacer, now)));
        pacer.learn(now, &reported(1, 10, 9));
        (2..=6).for_each(|_| assert!(granted(take(&pacer, now))));
        for (slot, remaining) in [(3, 8), (4, 7), (5, 6), (6, 5)] {
            pacer.learn(now, &reported(slot, 10, remaining));
        }
        assert!(
            (0..4).all(|_| granted(take(&pacer, now))),
            "4 left once slot 2 counts"
        );
        assert!(
            matches!(take(&pacer, now), Acquire::Wait(_)),
            "not a 5th: a 429"
        );
    }

    #[test]
    fn a_late_answer_to_an_earlier_request_does_not_empty_the_budget() {
        // As above, then slot 2 arrives last and is answered "4 left": Webflow counted the
        // later slots already; 4 tokens are still free.
        let pacer = Pacer::new(Pacing::adaptive(), None);
        let now = SystemTime::now();
        assert!(granted(take(&pacer, now)));
        pacer.learn(now, &reported(1, 10, 9));
        (2..=6).for_each(|_| assert!(granted(take(&pacer, now))));
        for (slot, remaining) in [(3, 8), (4, 7), (5, 6), (6, 5), (2, 4)] {
            pacer.learn(now, &reported(slot, 10, remaining));
        }
        assert!(
            (0..4).all(|_| granted(take(&pacer, now))),
            "the 4 left are free"
        );
        assert!(matches!(take(&pacer, now), Acquire::Wait(_)));
    }

    #[test]
    fn a_late_answer_never_raises_what_a_newer_one_said() {
        let pacer = Pacer::new(Pacing::adaptive(), None);
        let now = SystemTime::now();
        assert!(granted(take(&pacer, now)));
        pacer.learn(now, &reported(1, 10, 9));
        (2..=3).for_each(|_| assert!(granted(take(&pacer, now))));
        // Slot 3 reached Webflow first and says 2 left (other integrations spent 5), so 1
        // once slot 2 counts; slot 2's answer, computed earlier, says 8: the budget stays 1.
        pacer.learn(now, &reported(3, 10, 2));
        pacer.learn(now, &reported(2, 10, 8));
        assert!(granted(take(&pacer, now)));
        assert!(matches!(take(&pacer, now), Acquire::Wait(_)));
    }

    #[test]
    fn a_slot_ended_without_an_answer_is_no_longer_in_flight() {
        let pacer = Pacer::new(Pacing::adaptive(), None);
        let now = SystemTime::now();
        (1..=3).for_each(|_| assert!(granted(take(&pacer, now))));
        // Slot 1 timed out (no answer), slot 2 was released unsent, slot 3 answered: all of
        // Webflow's 9 left are free.
        pacer.learn(now, &Observation::new(Slot(1), None, false, None));
        drop(pacer.release(Slot(2))); // done on the call; the future is ready
        pacer.learn(now, &reported(3, 10, 9));
        assert!((0..9).all(|_| granted(take(&pacer, now))));
        assert!(matches!(take(&pacer, now), Acquire::Wait(_)));
    }

    #[test]
    fn other_integrations_spending_the_budget_slow_it_down() {
        let pacer = Pacer::new(Pacing::Fixed { per_minute: 120 }, None);
        let now = SystemTime::now();
        assert!(granted(take(&pacer, now)));
        pacer.learn(now, &reported(1, 120, 0));
        assert!(matches!(take(&pacer, now), Acquire::Wait(_)));
    }

    #[test]
    fn a_cap_bounds_the_reported_rate() {
        let pacer = Pacer::new(Pacing::adaptive(), Some(30));
        let now = SystemTime::now();
        assert!((0..30).all(|_| granted(take(&pacer, now))));
        pacer.learn(now, &reported(1, 120, 119));
        assert_eq!(pacer.per_minute(), Some(30));
        assert!(matches!(take(&pacer, now), Acquire::Wait(_)));
    }

    #[test]
    fn a_slot_beyond_the_callers_limit_is_refused_and_not_taken() {
        let pacer = Pacer::new(Pacing::Fixed { per_minute: 1 }, None);
        let now = SystemTime::now();
        assert!(granted(take(&pacer, now)));
        assert!(matches!(pacer.take(now, S(1)), Acquire::Refused(_)));
        assert!(granted(take(&pacer, now + S(62))));
    }

    #[test]
    fn a_released_slot_is_given_back() {
        let pacer = Pacer::new(Pacing::Fixed { per_minute: 1 }, None);
        let now = SystemTime::now();
        let Acquire::Granted(slot) = take(&pacer, now) else {
            panic!()
        };
        drop(pacer.release(slot));
        assert!(granted(take(&pacer, now)));
    }

    #[test]
    fn retry_after_holds_every_later_request_even_unpaced() {
        for pacing in [Pacing::Fixed { per_minute: 600 }, Pacing::Off] {
            let pacer = Pacer::new(pacing, None);
            let now = SystemTime::now();
            pacer.learn(now, &Observation::new(Slot(0), None, true, Some(S(60))));
            assert_eq!(take(&pacer, now), Acquire::Wait(S(60)), "{pacing:?}");
            assert!(matches!(pacer.take(now, S(59)), Acquire::Refused(w) if w == S(60)));
        }
    }

    /// Found by a rare failure of a request-path test: a 429 without `Retry-After` left the
    /// bucket as it was, so the retry went out before the next refill.
    #[test]
    fn a_429_empties_the_bucket_with_or_without_retry_after() {
        let pacer = Pacer::new(Pacing::Fixed { per_minute: 60 }, None);
        let now = SystemTime::now();
        assert!(granted(take(&pacer, now)));
        pacer.learn(now, &Observation::new(Slot(1), None, true, None));
        assert_eq!(
            take(&pacer, now),
            Acquire::Wait(Duration::from_secs_f64(1.02))
        );
    }

    #[test]
    fn a_retry_after_on_a_non_429_is_ignored() {
        let pacer = Pacer::new(Pacing::Off, None);
        let now = SystemTime::now();
        pacer.learn(now, &Observation::new(Slot(0), None, false, Some(S(60))));
        assert!(granted(take(&pacer, now)));
    }

    /// A wait computed for the refill is always enough: after it, the slot is granted (no
    /// nanosecond-long second wait from a rounding error), at any rate.
    #[test]
    fn a_wait_for_the_refill_is_enough_whatever_the_rounding() {
        for per_minute in [7, 60, 61, 120, 997] {
            let pacer = Pacer::new(Pacing::Fixed { per_minute }, None);
            let mut now = SystemTime::now();
            (0..per_minute).for_each(|_| assert!(granted(take(&pacer, now))));
            for step in [1u64, 333, 700, 1019, 7] {
                now += Duration::from_millis(step);
                if let Acquire::Wait(wait) = take(&pacer, now) {
                    now += wait;
                    assert!(
                        granted(take(&pacer, now)),
                        "{per_minute}/min: {step} ms, {wait:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_wall_clock_stepping_back_refills_nothing() {
        let pacer = Pacer::new(Pacing::Fixed { per_minute: 60 }, None);
        let now = SystemTime::now();
        (0..60).for_each(|_| assert!(granted(take(&pacer, now))));
        let earlier = now - S(3600);
        assert!(matches!(take(&pacer, earlier), Acquire::Wait(_)));
        assert!(granted(take(&pacer, now + S(2))));
    }

    #[test]
    fn huge_values_never_panic() {
        let pacer = Pacer::new(Pacing::Fixed { per_minute: 1 }, None);
        let now = SystemTime::now();
        pacer.learn(
            now,
            &Observation::new(Slot(0), None, true, Some(Duration::MAX)),
        );
        pacer.learn(now, &reported(u64::MAX, u32::MAX, u32::MAX));
        let _ = take(&pacer, now);
        let adaptive = Pacer::new(Pacing::adaptive(), None);
        adaptive.learn(now, &reported(0, u32::MAX, u32::MAX));
        assert!(granted(take(&adaptive, now)));
    }
}
