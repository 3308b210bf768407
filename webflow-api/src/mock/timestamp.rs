//! Item timestamps in Webflow's format, `YYYY-MM-DDTHH:MM:SS.mmmZ`: the mock's epoch,
//! 2026-01-01T00:00:00.000Z, plus the mock time elapsed since the mock started.

use std::time::Duration;

/// Days from 1970-01-01 to 2026-01-01.
const EPOCH_DAYS: u64 = 20_454;
const MILLIS_PER_DAY: u128 = 86_400_000;

/// The mock's time as a point in time: 2026-01-01T00:00:00Z plus `elapsed`.
pub(super) fn system_time(elapsed: Duration) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + Duration::from_secs(EPOCH_DAYS * 86_400) + elapsed
}

/// `2026-01-01T00:00:00.000Z` plus `elapsed` (to the millisecond, rounded down).
pub(super) fn format(elapsed: Duration) -> String {
    let millis = elapsed.as_millis();
    let days = EPOCH_DAYS + u64::try_from(millis / MILLIS_PER_DAY).unwrap_or(u64::MAX / 2);
    let of_day = millis % MILLIS_PER_DAY;
    let (year, month, day) = civil_from_days(days);
    let (hours, minutes) = (of_day / 3_600_000, of_day / 60_000 % 60);
    let (seconds, millis) = (of_day / 1000 % 60, of_day % 1000);
    format!("{year:04}-{month:02}-{day:02}T{hours:02}:{minutes:02}:{seconds:02}.{millis:03}Z")
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`,
/// for days on or after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097; // day of era, [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // year of era, [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of year from March 1st, [0, 365]
    let mp = (5 * doy + 2) / 153; // month from March, [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}
