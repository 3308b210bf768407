//! End-to-end tests of the `webflow-mock` server (feature `cli`): the built binary as a
//! child process, read for its base URL, talked to over HTTP by the crate's client and by
//! plain requests, stopped with SIGTERM, and started again on the same state file.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{Value, json};
use webflow_api::{ApiToken, Client, NewItem, RetryPolicy};

const BIN: &str = env!("CARGO_BIN_EXE_webflow-mock");
const TOKEN: &str = "e2e-token";

/// A path in the temporary directory, unique to this process and call; removed on drop.
struct TempPath(PathBuf);

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn temp_path(name: &str) -> TempPath {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    TempPath(std::env::temp_dir().join(format!(
        "webflow-mock-e2e-{}-{n}-{name}",
        std::process::id()
    )))
}

/// A running `webflow-mock`; killed if a test fails before stopping it.
struct Server {
    child: Child,
    base_url: String,
}

impl Server {
    /// Starts the binary with `args` and reads the base URL it prints.
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("stdout is readable");
        let base_url = line
            .trim_end()
            .strip_prefix("WEBFLOW_API_BASE_URL=")
            .unwrap_or_else(|| panic!("the first stdout line names the base URL: {line:?}"))
            .to_owned();
        assert!(
            base_url.starts_with("http://127.0.0.1:") && base_url.ends_with("/v2"),
            "{base_url}"
        );
        Server { child, base_url }
    }

    /// SIGTERM, then the exit code and stderr.
    fn stop(mut self) -> (Option<i32>, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let child = std::mem::replace(&mut self.child, Command::new("true").spawn().unwrap());
        let output = child.wait_with_output().expect("the server ends");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    fn client(&self) -> Client {
        Client::builder()
            .token(ApiToken::new(TOKEN).unwrap())
            .base_url(&self.base_url)
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap()
    }

    /// A plain request with the token; the status and the JSON body (`Null` if none).
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let http = webflow_api::reqwest_builder().unwrap().build().unwrap();
        let method = webflow_api::reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = http
            .request(method, format!("{}{path}", self.base_url))
            .bearer_auth(TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(unix)]
#[tokio::test]
async fn serves_a_collection_that_outlives_the_process() {
    let state = temp_path("state.json");
    let schema = temp_path("products.json");
    std::fs::write(
        &schema.0,
        json!({"fields": [{"slug": "price", "type": "Number", "isRequired": true}]}).to_string(),
    )
    .unwrap();
    let state_arg = state.0.to_str().unwrap();
    let collection_arg = format!("products={}", schema.0.display());
    let server = Server::start(&[
        "--port",
        "0",
        "--state",
        state_arg,
        "--token",
        TOKEN,
        "--rate-limit",
        "600",
        "--duplicate-slugs",
        "suffix",
        "--collection",
        &collection_arg,
    ]);
    let client = server.client();
    let created = client
        .create_live_items(
            "products",
            [
                NewItem::new("Mug", "mug").field("price", 12),
                NewItem::new("Cup", "cup").field("price", 8),
            ],
        )
        .await
        .unwrap();
    assert_eq!(created.len(), 2);
    let refused = client
        .create_live_item("products", NewItem::new("Bowl", "bowl"))
        .await
        .unwrap_err();
    assert_eq!(refused.status().map(|s| s.as_u16()), Some(400), "{refused}");
    let (status, details) = server.call("GET", "/collections/products", None).await;
    assert_eq!(
        (status, &details["fields"][2]["slug"]),
        (200, &json!("price"))
    );
    let (status, _) = server
        .call(
            "DELETE",
            "/collections/products/items",
            Some(json!({"items": [{"id": created[1].id}]})),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = server
        .call("GET", "/collections/products/items", None)
        .await;
    assert_eq!(status, 200);
    // Only the configured token is accepted.
    let http = webflow_api::reqwest_builder().unwrap().build().unwrap();
    let other = http
        .get(format!("{}/collections/products/items", server.base_url))
        .bearer_auth("another")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status().as_u16(), 401);
    let (code, stderr) = server.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("stopped after 6 requests"), "{stderr}");

    // A second run on the same file: the same collection, schema and suffixing.
    let server = Server::start(&["--state", state_arg, "--duplicate-slugs", "suffix"]);
    let (status, page) = server
        .call("GET", "/collections/products/items", None)
        .await;
    assert_eq!(status, 200);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        (&items[0]["id"], &items[0]["fieldData"]["price"]),
        (&json!(created[0].id), &json!(12))
    );
    let again = server
        .client()
        .create_live_item("products", NewItem::new("Mug", "mug").field("price", 1))
        .await
        .unwrap();
    assert_ne!(
        again.field_data.slug, "mug",
        "the first run's slug is still taken"
    );
    assert!(again.field_data.slug.starts_with("mug-"));
    let (code, _) = server.stop();
    assert_eq!(code, Some(0));
}

#[test]
fn a_bad_schema_or_argument_exits_2_before_listening() {
    let schema = temp_path("bad.json");
    std::fs::write(
        &schema.0,
        r#"{"fields": [{"slug": "kind", "type": "Option"}]}"#,
    )
    .unwrap();
    for (args, expected) in [
        (
            vec![
                "--collection".to_owned(),
                format!("products={}", schema.0.display()),
            ],
            "needs validations",
        ),
        (
            vec!["--collection".to_owned(), "products".to_owned()],
            "expected ID=SCHEMA.json",
        ),
        (
            vec![
                "--collection".to_owned(),
                "p=/does/not/exist.json".to_owned(),
            ],
            "cannot read",
        ),
        (
            vec!["--duplicate-slugs".to_owned(), "sometimes".to_owned()],
            "sometimes",
        ),
    ] {
        let output = Command::new(BIN)
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

/// How many items the collection `rehearsal` of `server` lists.
async fn total(server: &Server) -> u64 {
    let (status, page) = server
        .call("GET", "/collections/rehearsal/items?limit=1", None)
        .await;
    assert_eq!(status, 200);
    page["pagination"]["total"].as_u64().unwrap()
}

/// The rehearsal the state file is for: `webflow-import` run twice against `webflow-mock`
/// (each a process of its own, the server restarted between them) sees one collection.
#[cfg(unix)]
#[tokio::test]
async fn two_imports_against_the_server_see_the_same_collection() {
    let state = temp_path("rehearsal.json");
    let input = temp_path("items.ndjson");
    let lines: String = (0..150)
        .map(|n| {
            format!(
                "{}\n",
                json!({"fieldData": {"name": format!("Item {n}"), "slug": format!("item-{n}")}})
            )
        })
        .collect();
    std::fs::write(&input.0, lines).unwrap();
    let import = |server: &Server, resume: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_webflow-import"));
        command
            .env("WEBFLOW_API_TOKEN", TOKEN)
            .env("WEBFLOW_API_BASE_URL", &server.base_url)
            .env("WEBFLOW_COLLECTION_ID", "rehearsal")
            .args(resume.then_some("--resume"))
            .arg(&input.0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command.status().expect("webflow-import runs").code()
    };
    let state_arg = state.0.to_str().unwrap();
    let server = Server::start(&["--state", state_arg]);
    assert_eq!(import(&server, false), Some(0));
    assert_eq!(total(&server).await, 150);
    assert_eq!(server.stop().0, Some(0));

    let server = Server::start(&["--state", state_arg]);
    assert_eq!(total(&server).await, 150, "the first run's items are there");
    assert_eq!(import(&server, true), Some(0), "--resume skips them all");
    assert_eq!(total(&server).await, 150, "nothing created twice");
    // Had it sent the items again, the taken slugs would have failed them (exit 1).
    assert_eq!(server.stop().0, Some(0));
}
