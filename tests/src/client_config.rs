//! Building a client: token checks, base URL checks, and the token never showing in
//! `Debug` output or errors.

use webflow_api::mock::MockWebflow;
use webflow_api::{ApiToken, Client, Error, NewItem};

use crate::support::{TOKEN, client_for};

fn config_message(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::Config(message)) => message,
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[test]
fn empty_or_blank_token_is_a_clear_error() {
    for token in ["", "   ", "\n"] {
        let message = config_message(Client::from_token(token));
        assert!(
            message.starts_with("the Webflow API token is empty"),
            "{message}"
        );
    }
}

#[test]
fn token_that_cannot_be_a_header_is_refused_without_echoing_it() {
    let message = config_message(ApiToken::new("abc\u{7}secret"));
    assert!(
        message.contains("cannot be sent in an HTTP header"),
        "{message}"
    );
    assert!(!message.contains("secret"), "{message}");
}

#[test]
fn builder_without_token_says_how_to_give_one() {
    let message = config_message(Client::builder().build());
    assert!(
        message.contains("ClientBuilder::token") && message.contains("WEBFLOW_API_TOKEN"),
        "{message}"
    );
}

#[test]
fn invalid_base_urls_are_refused() {
    let cases = [
        ("not a url", "is not a valid URL"),
        ("ftp://example.com/v2", "is not an http or https URL"),
        ("https://api.webflow.com/v2?x=1", "has a query or fragment"),
    ];
    for (url, expected) in cases {
        let result = Client::builder()
            .token(ApiToken::new(TOKEN).unwrap())
            .base_url(url)
            .build();
        let message = config_message(result);
        assert!(message.contains(expected), "{url}: {message}");
    }
}

#[test]
fn base_url_trailing_slash_is_trimmed() {
    let client = Client::builder()
        .token(ApiToken::new(TOKEN).unwrap())
        .base_url("http://127.0.0.1:9/v2/")
        .build()
        .unwrap();
    assert_eq!(client.base_url(), "http://127.0.0.1:9/v2");
}

#[test]
fn default_base_url_is_webflow_v2() {
    assert_eq!(webflow_api::DEFAULT_BASE_URL, "https://api.webflow.com/v2");
}

#[tokio::test]
async fn token_never_appears_in_debug_output() {
    let mock = MockWebflow::start().await;
    let client = client_for(&mock);
    let debug = format!("{client:?}");
    assert!(!debug.contains(TOKEN), "{debug}");
    assert!(
        debug.contains("token: \"<redacted>\""),
        "the state names the token without showing it: {debug}"
    );
    let token = ApiToken::new(TOKEN).unwrap();
    assert_eq!(format!("{token:?}"), "ApiToken(<redacted>)");
    let builder = Client::builder().token(token);
    assert!(!format!("{builder:?}").contains(TOKEN));
}

#[tokio::test]
async fn token_never_appears_in_errors() {
    let mock = MockWebflow::start().await;
    let client = client_for(&mock);
    let error = client
        .create_live_item("", NewItem::new("A", "a"))
        .await
        .unwrap_err();
    assert!(!format!("{error} {error:?}").contains(TOKEN));
    // A refused connection: reqwest's error names the URL, never the headers.
    let closed = Client::builder()
        .token(ApiToken::new(TOKEN).unwrap())
        .base_url("http://127.0.0.1:9/v2")
        .build()
        .unwrap();
    let error = closed
        .create_live_item("abc", NewItem::new("A", "a"))
        .await
        .unwrap_err();
    assert!(!format!("{error} {error:?}").contains(TOKEN), "{error:?}");
}

#[test]
fn https_client_builds_without_openssl() {
    // The default base URL is https: building the client sets up rustls (ring provider).
    let client = Client::from_token(TOKEN).unwrap();
    assert!(client.base_url().starts_with("https://"));
}

#[test]
fn zero_limits_are_refused_when_building() {
    use std::time::Duration;
    use webflow_api::{Pacing, RetryPolicy, Timeouts};
    let builder = || Client::builder().token(ApiToken::new(TOKEN).unwrap());
    let timeout = config_message(
        builder()
            .timeouts(Timeouts::default().with_attempt(Duration::ZERO))
            .build(),
    );
    assert!(
        timeout.starts_with("the attempt timeout is zero"),
        "{timeout}"
    );
    let attempts = config_message(
        builder()
            .retry_policy(RetryPolicy::default().with_max_attempts(0))
            .build(),
    );
    assert!(
        attempts.contains("RetryPolicy::max_attempts is 0")
            && attempts.contains("RetryPolicy::none()"),
        "{attempts}"
    );
    let pacing = config_message(builder().pacing(Pacing::Fixed { per_minute: 0 }).build());
    assert!(
        pacing.starts_with("the pacing rate is 0 requests per minute"),
        "{pacing}"
    );
}
