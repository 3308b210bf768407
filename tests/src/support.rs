//! Shared test helpers: a client pointed at a mock, and insta settings that redact the
//! token and filter volatile values.

use webflow_api::mock::MockWebflow;
use webflow_api::{ApiToken, Client};

/// The token every test client uses. Snapshots must never contain it.
pub const TOKEN: &str = "wf-test-token-7c1e0d9a4b";

/// A client for `mock`, authenticated with [`TOKEN`].
pub fn client_for(mock: &MockWebflow) -> Client {
    Client::builder()
        .token(ApiToken::new(TOKEN).unwrap())
        .base_url(mock.base_url())
        .build()
        .unwrap()
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

/// A client for `mock` that never retries, so each call is exactly one request.
pub fn client_without_retries(mock: &MockWebflow) -> Client {
    client_for(mock)
}
