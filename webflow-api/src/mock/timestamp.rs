//! The mock's wall clock in the two forms it answers with: item timestamps in Webflow's
//! format (`YYYY-MM-DDTHH:MM:SS.mmmZ`, written by `crate::time`) and the `Date` header
//! (IMF-fixdate), both from milliseconds since the Unix epoch.

use std::time::{Duration, UNIX_EPOCH};

/// 2026-01-01T00:00:00.000Z, where a new mock's wall clock starts.
pub(super) const EPOCH_MS: u64 = 1_767_225_600_000;

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for `unix_ms` milliseconds after 1970-01-01T00:00:00Z.
pub(super) fn format(unix_ms: u64) -> String {
    crate::time::format_timestamp(UNIX_EPOCH + Duration::from_millis(unix_ms))
}

/// The `Date` header's IMF-fixdate (`Thu, 01 Jan 2026 00:00:00 GMT`) for `unix_ms`.
pub(super) fn http_date(unix_ms: u64) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_millis(unix_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MILLIS_PER_DAY: u64 = 86_400_000;

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
}
