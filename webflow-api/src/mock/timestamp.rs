//! The mock's wall clock in the two forms it answers with: item timestamps in Webflow's
//! format (`YYYY-MM-DDTHH:MM:SS.mmmZ`) and the `Date` header (IMF-fixdate), both from
//! milliseconds since the Unix epoch; and the check of an ISO 8601 date a client sends.

use std::time::{Duration, UNIX_EPOCH};

/// 2026-01-01T00:00:00.000Z, where a new mock's wall clock starts.
pub(super) const EPOCH_MS: u64 = 1_767_225_600_000;
const MILLIS_PER_DAY: u64 = 86_400_000;

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for `unix_ms` milliseconds after 1970-01-01T00:00:00Z.
pub(super) fn format(unix_ms: u64) -> String {
    let (year, month, day) = civil_from_days(unix_ms / MILLIS_PER_DAY);
    let of_day = unix_ms % MILLIS_PER_DAY;
    let (hours, minutes) = (of_day / 3_600_000, of_day / 60_000 % 60);
    let (seconds, millis) = (of_day / 1000 % 60, of_day % 1000);
    format!("{year:04}-{month:02}-{day:02}T{hours:02}:{minutes:02}:{seconds:02}.{millis:03}Z")
}

/// The `Date` header's IMF-fixdate (`Thu, 01 Jan 2026 00:00:00 GMT`) for `unix_ms`.
pub(super) fn http_date(unix_ms: u64) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_millis(unix_ms))
}

/// `true` for an ISO 8601 date or date-time as Webflow's DateTime fields take it:
/// `YYYY-MM-DD`, optionally followed by `THH:MM`, `:SS`, a fraction, and `Z` or `±HH:MM`.
pub(super) fn is_iso_8601(text: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_epoch_in_both_forms() {
        assert_eq!(format(EPOCH_MS), "2026-01-01T00:00:00.000Z");
        assert_eq!(http_date(EPOCH_MS), "Thu, 01 Jan 2026 00:00:00 GMT");
        assert_eq!(format(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            format(EPOCH_MS + 59 * MILLIS_PER_DAY + 3_723_456),
            "2026-03-01T01:02:03.456Z"
        );
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
