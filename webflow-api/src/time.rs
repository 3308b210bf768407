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

/// Webflow's timestamps (`2023-03-17T18:47:35.560Z`, RFC 3339 in UTC) as a point in time:
/// any number of fraction digits, `Z` or a numeric offset. `None` when the text is not one.
/// The one place timestamps are read; [`format_timestamp`] writes them.
pub fn parse_timestamp(text: &str) -> Option<SystemTime> {
    let bytes = text.as_bytes();
    if bytes.len() < 20 || bytes[4] != b'-' || bytes[7] != b'-' || bytes[13] != b':' {
        return None;
    }
    if !matches!(bytes[10], b'T' | b't' | b' ') || bytes[16] != b':' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u64> {
        let digits = text.get(range)?;
        digits
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| digits.parse().ok())
            .flatten()
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    let mut nanos: u64 = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        for (i, b) in fraction.bytes().take(digits).enumerate() {
            if i < 9 {
                nanos = nanos * 10 + u64::from(b - b'0');
            }
        }
        for _ in digits..9 {
            nanos *= 10;
        }
        rest = &fraction[digits..];
    }
    let offset_seconds: i64 = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (h, m) = rest[1..].split_once(':')?;
            if h.len() != 2 || m.len() != 2 {
                return None;
            }
            sign * (h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60)
        }
    };
    let days = days_from_civil(year, month, day)?;
    let seconds = i64::try_from(days).ok()? * 86_400
        + i64::try_from(hour * 3600 + minute * 60 + second).ok()?
        - offset_seconds;
    let seconds = u64::try_from(seconds).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::new(seconds, u32::try_from(nanos).ok()?))
}

/// A point in time in Webflow's format, `YYYY-MM-DDTHH:MM:SS.mmmZ` (milliseconds, rounded
/// down; times before 1970 are written as 1970-01-01T00:00:00.000Z).
pub fn format_timestamp(time: SystemTime) -> String {
    let since = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let millis = since.as_millis();
    let days = u64::try_from(millis / 86_400_000).unwrap_or(u64::MAX / 2);
    let of_day = millis % 86_400_000;
    let (year, month, day) = civil_from_days(days);
    let (hours, minutes) = (of_day / 3_600_000, of_day / 60_000 % 60);
    let (seconds, millis) = (of_day / 1000 % 60, of_day % 1000);
    format!("{year:04}-{month:02}-{day:02}T{hours:02}:{minutes:02}:{seconds:02}.{millis:03}Z")
}

/// `true` for an ISO 8601 date or date-time as Webflow's DateTime fields take it:
/// `YYYY-MM-DD`, optionally followed by `THH:MM`, `:SS`, a fraction, and `Z` or `±HH:MM`.
pub(crate) fn is_iso_8601(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range.clone())
            .is_some_and(|part| part.len() == range.len() && part.iter().all(u8::is_ascii_digit))
    };
    let number = |range: std::ops::Range<usize>| -> u32 { text[range].parse().unwrap_or(u32::MAX) };
    let date = digits(0..4)
        && bytes.get(4) == Some(&b'-')
        && digits(5..7)
        && bytes.get(7) == Some(&b'-')
        && digits(8..10)
        && (1..=12).contains(&number(5..7))
        && (1..=31).contains(&number(8..10));
    if !date {
        return false;
    }
    let rest = &text[10..];
    if rest.is_empty() {
        return true;
    }
    let Some(time) = rest.strip_prefix('T') else {
        return false;
    };
    let zone_at = time.find(['Z', '+', '-']).unwrap_or(time.len());
    let (clock, zone) = time.split_at(zone_at);
    let mut parts = clock.splitn(3, ':');
    let two_digits = |part: Option<&str>, max: u32| {
        part.is_some_and(|p| {
            p.len() == 2
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u32>().is_ok_and(|n| n <= max)
        })
    };
    let (hours, minutes, seconds) = (parts.next(), parts.next(), parts.next());
    if !two_digits(hours, 23) || !two_digits(minutes, 59) {
        return false;
    }
    if let Some(seconds) = seconds {
        let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, "0"));
        if !two_digits(Some(whole), 60)
            || fraction.is_empty()
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return false;
        }
    }
    match zone {
        "" | "Z" => true,
        offset => {
            let offset = &offset[1..];
            let (h, m) = match offset.split_once(':') {
                Some(parts) => parts,
                None if offset.len() == 4 && offset.is_ascii() => offset.split_at(2),
                None => (offset, ""),
            };
            two_digits(Some(h), 23) && two_digits(Some(m), 59)
        }
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date on or after it (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    let year = if month <= 2 {
        year.checked_sub(1)?
    } else {
        year
    };
    let era = year / 400;
    let yoe = year - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).checked_sub(719_468)
}

/// The date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_and_compare_as_instants() {
        for text in [
            "2023-03-17T18:47:35.560Z",
            "2026-01-01T00:00:00.000Z",
            "2024-02-29T23:59:59.999Z",
            "1970-01-01T00:00:00.000Z",
        ] {
            assert_eq!(format_timestamp(parse_timestamp(text).unwrap()), text);
        }
        let t = |s| parse_timestamp(s).unwrap();
        assert_eq!(t("2023-03-17T18:47:35Z"), t("2023-03-17T18:47:35.000Z"));
        assert_eq!(
            t("2023-03-17T20:47:35.5+02:00"),
            t("2023-03-17T18:47:35.500Z")
        );
        assert!(t("2022-12-31T23:59:59.999Z") < t("2023-01-01T00:00:00.000Z"));
        assert_eq!(
            t("2023-03-17T18:47:35.123456789Z")
                .duration_since(t("2023-03-17T18:47:35Z"))
                .unwrap(),
            Duration::from_nanos(123_456_789)
        );
        for bad in [
            "",
            "garbage",
            "2023-13-01T00:00:00Z",
            "2023-03-17T18:47:35",
            "2023-03-17T18:47:35.Z",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn iso_8601_dates_webflow_takes() {
        for good in [
            "2026-01-01",
            "1979-10-12T00:00:00.000Z",
            "2026-01-01T10:20",
            "2026-01-01T10:20:30Z",
            "2026-01-01T10:20:30.5+02:00",
            "2026-12-31T23:59:59-0500",
        ] {
            assert!(is_iso_8601(good), "{good}");
        }
        for bad in [
            "",
            "tomorrow",
            "2026-13-01",
            "2026-1-01",
            "2026-01-01 10:20",
            "2026-01-01T25:00",
            "2026-01-01T10:20:30.Z",
            "2026-01-01T10:20Zulu",
            "12/10/1979",
        ] {
            assert!(!is_iso_8601(bad), "{bad}");
        }
    }
}
