//! The mock's rate limit: a token bucket (Webflow's behaviour as users report it) or fixed
//! one-minute windows, on the mock's monotonic clock, and what `X-RateLimit-Remaining` says.

use std::time::Duration;

use super::model::RateLimitModel;

const MINUTE: Duration = Duration::from_secs(60);
/// One token, in the bucket's units: a bucket of `n` per minute refills `n` units per
/// nanosecond, so one token takes `60e9 / n` nanoseconds, exactly, in integers.
const TOKEN: u128 = 60_000_000_000;

/// Both models' state; the fixed window also counts for the advertised (unenforced) limit.
#[derive(Debug, Default)]
pub(super) struct RateState {
    window_start: Option<Duration>,
    window_count: u32,
    /// Bucket content in units of `1 / TOKEN` token, and when it was last refilled.
    bucket: Option<(u128, Duration)>,
}

impl RateState {
    /// Starts a new fixed window once a mock minute has passed since the current one began.
    pub(super) fn roll_window(&mut self, now: Duration) {
        if let Some(start) = self.window_start {
            let since = now.saturating_sub(start);
            if since >= MINUTE {
                let windows = since.as_secs() / 60;
                self.window_start = Some(start + Duration::from_secs(windows * 60));
                self.window_count = 0;
            }
        }
    }

    /// Lets a request through (and counts it) or refuses it with the whole seconds until
    /// one can be sent, at least 1. Without `limit` every request goes through.
    pub(super) fn admit(
        &mut self,
        limit: Option<u32>,
        model: RateLimitModel,
        now: Duration,
    ) -> Result<(), u64> {
        let start = *self.window_start.get_or_insert(now);
        match (limit, model) {
            (Some(limit), RateLimitModel::TokenBucket) => {
                let rate = u128::from(limit.max(1));
                let fill = self.refilled(rate, now);
                if fill >= TOKEN {
                    self.bucket = Some((fill - TOKEN, now));
                    Ok(())
                } else {
                    self.bucket = Some((fill, now));
                    let nanos = (TOKEN - fill).div_ceil(rate);
                    Err(u64::try_from(nanos.div_ceil(1_000_000_000))
                        .unwrap_or(u64::MAX)
                        .max(1))
                }
            }
            (Some(limit), RateLimitModel::FixedWindow) if self.window_count >= limit => {
                let left = MINUTE.saturating_sub(now.saturating_sub(start));
                Err(left.as_secs_f64().ceil().max(1.0) as u64)
            }
            _ => {
                self.window_count += 1;
                Ok(())
            }
        }
    }

    /// `X-RateLimit-Remaining`: whole tokens left in the bucket, or what is left of the
    /// window's `limit` (the advertised one when none is enforced).
    pub(super) fn remaining(
        &self,
        enforced: Option<u32>,
        advertised: u32,
        model: RateLimitModel,
        now: Duration,
    ) -> u32 {
        match (enforced, model) {
            (Some(limit), RateLimitModel::TokenBucket) => {
                let tokens = self.refilled(u128::from(limit.max(1)), now) / TOKEN;
                u32::try_from(tokens).unwrap_or(u32::MAX)
            }
            (Some(limit), RateLimitModel::FixedWindow) => limit.saturating_sub(self.window_count),
            (None, _) => advertised.saturating_sub(self.window_count),
        }
    }

    /// The bucket's content at `now`: full before the first request, then refilled `rate`
    /// units per nanosecond since the last request, up to `rate` tokens.
    fn refilled(&self, rate: u128, now: Duration) -> u128 {
        let capacity = rate * TOKEN;
        match self.bucket {
            None => capacity,
            Some((fill, at)) => {
                let elapsed = now.saturating_sub(at).as_nanos();
                fill.saturating_add(elapsed.saturating_mul(rate))
                    .min(capacity)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn a_bucket_refills_continuously_and_says_when_a_token_is_back() {
        let mut state = RateState::default();
        let bucket = RateLimitModel::TokenBucket;
        let admit = |state: &mut RateState, at| state.admit(Some(3), bucket, at);
        assert_eq!(state.remaining(Some(3), 120, bucket, S(0)), 3);
        for _ in 0..3 {
            assert_eq!(admit(&mut state, S(0)), Ok(()));
        }
        assert_eq!(state.remaining(Some(3), 120, bucket, S(0)), 0);
        // One token takes 20 s at 3 per minute.
        assert_eq!(admit(&mut state, S(0)), Err(20));
        assert_eq!(admit(&mut state, S(19)), Err(1));
        assert_eq!(
            admit(&mut state, Duration::from_millis(19_500)),
            Err(1),
            "never 0"
        );
        assert_eq!(state.remaining(Some(3), 120, bucket, S(20)), 1);
        assert_eq!(admit(&mut state, S(20)), Ok(()));
        // Never more than the capacity, however long it rests.
        assert_eq!(state.remaining(Some(3), 120, bucket, S(3600)), 3);
        // A clock that steps back is read as no time passing.
        assert_eq!(admit(&mut state, S(10)), Err(20));
    }

    #[test]
    fn fixed_windows_reset_every_minute() {
        let mut state = RateState::default();
        let window = RateLimitModel::FixedWindow;
        assert_eq!(state.admit(Some(2), window, S(0)), Ok(()));
        assert_eq!(state.admit(Some(2), window, S(1)), Ok(()));
        assert_eq!(state.admit(Some(2), window, S(15)), Err(45));
        state.roll_window(S(60));
        assert_eq!(state.remaining(Some(2), 120, window, S(60)), 2);
        assert_eq!(state.admit(Some(2), window, S(60)), Ok(()));
    }
}
