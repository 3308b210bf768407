//! Clocks: where the client reads the time and how it waits (between retries, for the rate
//! limit). Tests inject a [`ManualClock`] so waits take no real time, or a [`ScaledClock`]
//! to run a rate-limited scenario many times faster than real time.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// A boxed `Send` future, as returned by [`Clock::sleep`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The time source and sleeper the client uses for retry waits, pacing and deadlines.
///
/// (Per-attempt and connect timeouts are enforced by the HTTP stack in real time.)
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// Monotonic now, for deadlines and pacing.
    fn now(&self) -> Instant;
    /// Wall-clock now, to read an HTTP-date `Retry-After` against.
    fn system_time(&self) -> SystemTime;
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// Real time, with tokio's timer. The default.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn system_time(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock that only moves when told to: `sleep` returns at once and advances the clock by
/// the requested duration, and every sleep is recorded. For tests of waits and deadlines
/// that must not take real time.
///
/// ```
/// use std::time::Duration;
/// use webflow_api::time::{Clock, ManualClock};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let clock = ManualClock::new();
/// let start = clock.now();
/// clock.sleep(Duration::from_secs(60)).await; // returns immediately
/// assert_eq!(clock.now() - start, Duration::from_secs(60));
/// assert_eq!(clock.sleeps(), [Duration::from_secs(60)]);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock {
    inner: Arc<ManualInner>,
}

#[derive(Debug)]
struct ManualInner {
    start: Instant,
    wall_start: SystemTime,
    state: Mutex<ManualState>,
}

#[derive(Debug, Default)]
struct ManualState {
    offset: Duration,
    sleeps: Vec<Duration>,
}

impl ManualClock {
    /// A clock at the current real time that will not move by itself.
    pub fn new() -> ManualClock {
        ManualClock {
            inner: Arc::new(ManualInner {
                start: Instant::now(),
                wall_start: SystemTime::now(),
                state: Mutex::new(ManualState::default()),
            }),
        }
    }

    /// Moves the clock forward without recording a sleep.
    pub fn advance(&self, duration: Duration) {
        self.state().offset += duration;
    }

    /// Every duration passed to `sleep`, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.state().sleeps.clone()
    }

    /// How far the clock has moved since it was created.
    pub fn elapsed(&self) -> Duration {
        self.state().offset
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ManualState> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.inner.start + self.state().offset
    }

    fn system_time(&self) -> SystemTime {
        self.inner.wall_start + self.state().offset
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        let mut state = self.state();
        state.offset += duration;
        state.sleeps.push(duration);
        Box::pin(std::future::ready(()))
    }
}

/// Real time running `factor` times faster: `sleep(60 s)` takes 60/`factor` real seconds and
/// `now()` advances `factor` seconds per real second. Pair it with a mock server whose clock
/// has the same scale to test rate limits and imports at full speed.
#[derive(Clone, Debug)]
pub struct ScaledClock {
    factor: f64,
    start: Instant,
    wall_start: SystemTime,
}

impl ScaledClock {
    /// A clock `factor` times faster than real time (`factor` > 0).
    ///
    /// # Panics
    /// If `factor` is not a positive finite number.
    pub fn new(factor: f64) -> ScaledClock {
        assert!(
            factor.is_finite() && factor > 0.0,
            "the time factor must be positive"
        );
        ScaledClock {
            factor,
            start: Instant::now(),
            wall_start: SystemTime::now(),
        }
    }

    fn scaled_elapsed(&self) -> Duration {
        self.start.elapsed().mul_f64(self.factor)
    }
}

impl Clock for ScaledClock {
    fn now(&self) -> Instant {
        self.start + self.scaled_elapsed()
    }

    fn system_time(&self) -> SystemTime {
        self.wall_start + self.scaled_elapsed()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration.div_f64(self.factor)))
    }
}
