//! The token never leaks: not in `Debug` or `Display` of the client or any error, and not
//! in tracing output at any level. Tracing spans carry what an operator needs instead.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::json;
use webflow_api::mock::{Fault, MockResponse, MockWebflow};
use webflow_api::{NewItem, RetryPolicy};

use crate::support::{TOKEN, client_with_manual_clock};

/// Collects everything a tracing subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Set in the child process that runs the traced create on its own.
const TRACING_CHILD: &str = "WEBFLOW_API_TESTS_TRACING_CHILD";

/// Tracing's per-callsite interest cache is process-wide, and the other tests create spans
/// on other threads at the same time; a scoped subscriber can then miss this test's spans.
/// So the traced create runs alone, in a child process with a global subscriber.
#[test]
fn tracing_has_a_span_per_attempt_and_never_the_token_or_body() {
    if std::env::var_os(TRACING_CHILD).is_some() {
        traced_create_in_this_process();
        return;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "secrets::tracing_has_a_span_per_attempt_and_never_the_token_or_body",
            "--exact",
            "--test-threads=1",
        ])
        .env(TRACING_CHILD, "1")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the traced create failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn traced_create_in_this_process() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mock = MockWebflow::start().await;
        mock.push_fault(Fault::instead(
            MockResponse::webflow_error(429, "too_many_requests", "Too Many Requests", json!([]))
                .header("retry-after", "1"),
        ));
        let (client, _clock) = client_with_manual_clock(&mock.base_url(), RetryPolicy::default());
        let item = NewItem::new("Secret launch", "secret-launch")
            .field("private-note", "body-marker-5e1f");
        client
            .create_live_item(MockWebflow::COLLECTION_ID, item)
            .await
            .unwrap();
    });

    let logs = captured.text();
    for expected in [
        "webflow.request",
        "operation_id=\"create-item-live\"",
        "http.request.method=POST",
        "url.path=/v2/collections/6520d7b1a3c4e5f60718293a/items/live",
        "attempt=1",
        "attempt=2",
        "http.response.status_code=429",
        "http.response.status_code=202",
        "ratelimit.remaining=",
        "duration_ms=",
        "retrying",
    ] {
        assert!(logs.contains(expected), "missing {expected:?} in:\n{logs}");
    }
    assert!(
        !logs.contains(TOKEN),
        "the token leaked into tracing output:\n{logs}"
    );
    assert!(
        !logs.contains("body-marker-5e1f"),
        "the request body leaked into tracing output:\n{logs}"
    );
}

#[tokio::test]
async fn token_never_appears_in_any_error() {
    let mock = MockWebflow::start().await;
    let (client, _clock) = client_with_manual_clock(&mock.base_url(), RetryPolicy::none());
    let answers = [
        MockResponse::webflow_error(
            400,
            "validation_error",
            "Validation Error",
            json!([{"param": "slug"}]),
        ),
        MockResponse::webflow_error(401, "not_authorized", "Request not authorized", json!([])),
        MockResponse::webflow_error(429, "too_many_requests", "Too Many Requests", json!([])),
        MockResponse::status(502).body("<html>Bad Gateway</html>"),
        MockResponse::status(202).body("{truncated"),
    ];
    for answer in answers {
        mock.push_fault(Fault::instead(answer));
        let error = client
            .create_live_item(MockWebflow::COLLECTION_ID, NewItem::new("A", "a"))
            .await
            .unwrap_err();
        let shown = format!("{error} {error:?} {:?}", std::error::Error::source(&error));
        assert!(!shown.contains(TOKEN), "{shown}");
    }
    let shown = format!("{client:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
}
