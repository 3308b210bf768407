//! Shared test helpers: clients pointed at a mock, and insta settings that redact the
//! token and filter volatile values.

use webflow_api::mock::MockWebflow;
use webflow_api::time::ManualClock;
use webflow_api::{ApiToken, Client, ClientBuilder, Pacing, RetryPolicy};

/// The token every test client uses. Snapshots, errors and logs must never contain it.
pub const TOKEN: &str = "wf-test-token-7c1e0d9a4b";

/// A builder for a client of `base_url`, authenticated with [`TOKEN`].
pub fn builder_for(base_url: &str) -> ClientBuilder {
    Client::builder()
        .token(ApiToken::new(TOKEN).unwrap())
        .base_url(base_url)
}

/// A client for `mock` with the default settings.
pub fn client_for(mock: &MockWebflow) -> Client {
    builder_for(&mock.base_url()).build().unwrap()
}

/// A client for `mock` that never retries, so each call is exactly one request.
pub fn client_without_retries(mock: &MockWebflow) -> Client {
    builder_for(&mock.base_url())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

/// A client of `base_url` with `policy` whose waits take no real time; the clock records
/// them. Unpaced, so that every recorded wait is a retry decision.
pub fn client_with_manual_clock(base_url: &str, policy: RetryPolicy) -> (Client, ManualClock) {
    let clock = ManualClock::new();
    let client = builder_for(base_url)
        .retry_policy(policy)
        .pacing(Pacing::Off)
        .clock(clock.clone())
        .build()
        .unwrap();
    (client, clock)
}

/// Runs `body` with insta filters that redact bearer tokens and hide the crate version and
/// the mock's port.
pub fn with_snapshot_filters<R>(body: impl FnOnce() -> R) -> R {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"Bearer [^\s\x22]+", "Bearer [REDACTED]");
    settings.add_filter(
        r"webflow-api-rs/\d+\.\d+\.\d+[^\s\x22]*",
        "webflow-api-rs/[VERSION]",
    );
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    settings.set_sort_maps(true);
    settings.bind(body)
}

/// After a 429 without `Retry-After` on a paced client: the waits recorded are the retry's
/// full-jitter backoff (below the first step, `initial`), then the rate limiter's slot if
/// the backoff was shorter — never sooner than the pacing `interval` in all.
pub fn assert_backoff_then_pacing_slot(
    sleeps: &[std::time::Duration],
    initial: std::time::Duration,
    interval: std::time::Duration,
) {
    assert!(!sleeps.is_empty() && sleeps.len() <= 2, "{sleeps:?}");
    assert!(
        sleeps[0] < initial,
        "full jitter below the step: {sleeps:?}"
    );
    let total: std::time::Duration = sleeps.iter().sum();
    assert!(
        total >= interval - std::time::Duration::from_millis(1),
        "never sooner than the pacer: {sleeps:?}"
    );
}
