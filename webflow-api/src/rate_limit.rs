//! Webflow's rate-limit headers (`X-RateLimit-Limit`, `X-RateLimit-Remaining`) as read from
//! each response.

use reqwest::header::{HeaderMap, HeaderName};

/// The rate-limit state one response reported. Webflow counts requests per API key per
/// minute: 60 on Starter and Basic plans, 120 on CMS, eCommerce and Business plans.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
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
            // The spec types them as `number`: accept "60" and "60.0"; saturate huge values.
            text.parse::<u32>().ok().or_else(|| {
                text.parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite() && *n >= 0.0)
                    .map(|n| n.min(f64::from(u32::MAX)) as u32)
            })
        };
        let rate_limit = RateLimit {
            limit: read(&LIMIT_HEADER),
            remaining: read(&REMAINING_HEADER),
        };
        (rate_limit.limit.is_some() || rate_limit.remaining.is_some()).then_some(rate_limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        headers.insert(REMAINING_HEADER, "1e400".parse().unwrap());
        headers.insert(LIMIT_HEADER, "18446744073709551615".parse().unwrap());
        assert_eq!(
            RateLimit::from_headers(&headers),
            Some(RateLimit {
                limit: Some(u32::MAX),
                remaining: None
            }),
            "saturates; infinity is not a number of requests"
        );
        assert_eq!(RateLimit::from_headers(&HeaderMap::new()), None);
    }
}
