//! Webflow's rate-limit headers (`X-RateLimit-Limit`, `X-RateLimit-Remaining`) as read from
//! each response.

use reqwest::header::HeaderMap;

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
pub const LIMIT_HEADER: &str = "x-ratelimit-limit";
/// The header with the requests left in the current minute.
pub const REMAINING_HEADER: &str = "x-ratelimit-remaining";

impl RateLimit {
    /// Reads both headers; `None` when neither is present or parseable.
    pub fn from_headers(headers: &HeaderMap) -> Option<RateLimit> {
        let read = |name: &str| -> Option<u32> {
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
            limit: read(LIMIT_HEADER),
            remaining: read(REMAINING_HEADER),
        };
        (rate_limit.limit.is_some() || rate_limit.remaining.is_some()).then_some(rate_limit)
    }
}
