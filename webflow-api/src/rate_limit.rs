//! Webflow's rate-limit headers (`X-RateLimit-Limit`, `X-RateLimit-Remaining`) as read from
//! each response.

use reqwest::header::{HeaderMap, HeaderName};

/// The rate-limit state one response reported. Webflow counts requests per API key per
/// minute: 60 on Starter and Basic plans, 120 on CMS, eCommerce and Business plans.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct RateLimit {
    /// `X-RateLimit-Limit`: requests allowed per minute.
    pub limit: Option<u32>,
    /// `X-RateLimit-Remaining`: requests left in the current minute.
    pub remaining: Option<u32>,
}

/// The header with the per-minute limit.
pub const LIMIT_HEADER: HeaderName = HeaderName::from_static("x-ratelimit-limit");
/// The header with the requests left in the current minute.
pub const REMAINING_HEADER: HeaderName = HeaderName::from_static("x-ratelimit-remaining");

impl RateLimit {
    /// Reads both headers; `None` when neither is present or parseable.
    pub fn from_headers(headers: &HeaderMap) -> Option<RateLimit> {
        let read = |name: &HeaderName| -> Option<u32> {
            let text = headers.get(name)?.to_str().ok()?.trim();
            // The spec types them as `number`: accept "60" and "60.0".
            text.parse::<u32>().ok().or_else(|| {
                text.parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite() && *n >= 0.0)
                    .map(|n| n as u32)
            })
        };
        let rate_limit = RateLimit {
            limit: read(&LIMIT_HEADER),
            remaining: read(&REMAINING_HEADER),
        };
        (rate_limit.limit.is_some() || rate_limit.remaining.is_some()).then_some(rate_limit)
    }
}

/// Client-side pacing: spacing requests so that a steady stream of creates stays under
/// Webflow's per-minute limit instead of running into 429s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pacing {
    /// No pacing (the default for single calls): requests go out at once; 429s are retried.
    Off,
    /// Start at `initial_per_minute`, then follow the `X-RateLimit-Limit` that Webflow
    /// reports; after a 429, hold every request until its `Retry-After` has passed.
    Adaptive {
        /// The rate to assume until Webflow reports its limit (60 is the lowest plan's).
        initial_per_minute: u32,
    },
    /// Exactly `per_minute`, whatever the headers say (still honouring 429 waits).
    Fixed {
        /// Requests per minute.
        per_minute: u32,
    },
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

/// Keeps requests from all clones of a client at most `rate` per minute, evenly spaced: each
/// request takes the next free slot, one interval after the previous one.
#[derive(Debug)]
pub(crate) struct Pacer {
    adaptive: bool,
    state: std::sync::Mutex<PacerState>,
}

#[derive(Debug)]
struct PacerState {
    per_minute: u32,
    /// The latest slot handed out.
    last_slot: Option<std::time::Instant>,
    /// The earliest time the next slot may start.
    next_slot: Option<std::time::Instant>,
    /// Whether a response has told the rate yet (adaptive pacing).
    learned: bool,
}

/// Slots are spaced a little wider than 60 s / limit, so that network jitter between the
/// client and Webflow does not push two requests into the same window slot.
const SAFETY_MARGIN: f64 = 1.02;

impl Pacer {
    pub(crate) fn new(pacing: Pacing) -> Option<Pacer> {
        let (per_minute, adaptive) = match pacing {
            Pacing::Off => return None,
            Pacing::Adaptive { initial_per_minute } => (initial_per_minute, true),
            Pacing::Fixed { per_minute } => (per_minute, false),
        };
        Some(Pacer {
            adaptive,
            state: std::sync::Mutex::new(PacerState {
                per_minute: per_minute.max(1),
                last_slot: None,
                next_slot: None,
                learned: !adaptive,
            }),
        })
    }

    fn interval(per_minute: u32) -> std::time::Duration {
        std::time::Duration::from_secs(60).mul_f64(SAFETY_MARGIN / f64::from(per_minute.max(1)))
    }

    /// Reserves the next slot and returns how long to wait for it from `now`.
    pub(crate) fn reserve(&self, now: std::time::Instant) -> std::time::Duration {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let slot = state.next_slot.map_or(now, |next| next.max(now));
        state.last_slot = Some(slot);
        state.next_slot = Some(slot + Self::interval(state.per_minute));
        slot - now
    }

    /// Learns from a response: the limit (adaptive pacing), and a `Retry-After` that holds
    /// every request until it has passed.
    pub(crate) fn observe(
        &self,
        now: std::time::Instant,
        rate_limit: Option<RateLimit>,
        retry_after: Option<std::time::Duration>,
    ) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if self.adaptive
            && let Some(limit) = rate_limit.and_then(|r| r.limit).filter(|l| *l > 0)
        {
            state.learned = true;
            if limit != state.per_minute {
                // Re-space from the latest slot handed out, at the new rate.
                state.per_minute = limit;
                state.next_slot = state.last_slot.map(|last| last + Self::interval(limit));
            }
        }
        if let Some(wait) = retry_after {
            let resume = now + wait;
            state.next_slot = Some(state.next_slot.map_or(resume, |next| next.max(resume)));
        }
    }

    /// `false` until a response has reported the limit (adaptive pacing only): until then
    /// a caller should keep one request in flight, so that the first answer sets the rate
    /// before more slots are handed out at the initial guess.
    pub(crate) fn has_learned_rate(&self) -> bool {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).learned
    }

    /// The rate currently paced at.
    pub(crate) fn per_minute(&self) -> u32 {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .per_minute
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn slots_are_evenly_spaced_at_the_rate() {
        let pacer = Pacer::new(Pacing::Fixed { per_minute: 60 }).unwrap();
        let now = Instant::now();
        let waits: Vec<Duration> = (0..4).map(|_| pacer.reserve(now)).collect();
        let step = Duration::from_secs_f64(1.02);
        assert_eq!(waits, [Duration::ZERO, step, step * 2, step * 3]);
    }

    #[test]
    fn a_late_request_does_not_bank_slots() {
        let pacer = Pacer::new(Pacing::Fixed { per_minute: 60 }).unwrap();
        let start = Instant::now();
        assert_eq!(pacer.reserve(start), Duration::ZERO);
        let later = start + Duration::from_secs(10);
        assert_eq!(pacer.reserve(later), Duration::ZERO);
        assert_eq!(pacer.reserve(later), Duration::from_secs_f64(1.02));
    }

    #[test]
    fn adaptive_pacing_follows_the_reported_limit_and_fixed_does_not() {
        let reported = Some(RateLimit {
            limit: Some(120),
            remaining: Some(50),
        });
        let adaptive = Pacer::new(Pacing::adaptive()).unwrap();
        adaptive.observe(Instant::now(), reported, None);
        assert_eq!(adaptive.per_minute(), 120);
        let fixed = Pacer::new(Pacing::Fixed { per_minute: 30 }).unwrap();
        fixed.observe(Instant::now(), reported, None);
        assert_eq!(fixed.per_minute(), 30);
        assert!(Pacer::new(Pacing::Off).is_none());
    }

    #[test]
    fn a_learned_rate_re_spaces_from_the_last_slot() {
        let pacer = Pacer::new(Pacing::adaptive()).unwrap();
        assert!(!pacer.has_learned_rate());
        let now = Instant::now();
        assert_eq!(pacer.reserve(now), Duration::ZERO);
        pacer.observe(
            now,
            Some(RateLimit {
                limit: Some(120),
                remaining: Some(119),
            }),
            None,
        );
        assert!(pacer.has_learned_rate());
        assert_eq!(
            pacer.reserve(now),
            Duration::from_secs_f64(0.51),
            "half a 60/min interval"
        );
        assert!(
            Pacer::new(Pacing::Fixed { per_minute: 60 })
                .unwrap()
                .has_learned_rate()
        );
    }

    #[test]
    fn retry_after_holds_every_later_request() {
        let pacer = Pacer::new(Pacing::Fixed { per_minute: 600 }).unwrap();
        let now = Instant::now();
        pacer.observe(now, None, Some(Duration::from_secs(60)));
        assert_eq!(pacer.reserve(now), Duration::from_secs(60));
    }

    #[test]
    fn headers_are_read_as_integers_or_numbers() {
        let mut headers = HeaderMap::new();
        headers.insert(LIMIT_HEADER, "120".parse().unwrap());
        headers.insert(REMAINING_HEADER, "7.0".parse().unwrap());
        assert_eq!(
            RateLimit::from_headers(&headers),
            Some(RateLimit {
                limit: Some(120),
                remaining: Some(7)
            })
        );
        headers.insert(REMAINING_HEADER, "lots".parse().unwrap());
        assert_eq!(
            RateLimit::from_headers(&headers),
            Some(RateLimit {
                limit: Some(120),
                remaining: None
            })
        );
        assert_eq!(RateLimit::from_headers(&HeaderMap::new()), None);
    }
}
