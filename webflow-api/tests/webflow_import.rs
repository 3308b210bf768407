//! End-to-end tests of the `webflow-import` command (feature `cli`): the built binary, run
//! as a child process with `--mock` (against its embedded mock), or with a token pointed at
//! a mock this test starts (the path a real token takes).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use webflow_api::mock::MockWebflow;

const BIN: &str = env!("CARGO_BIN_EXE_webflow-import");

/// The command, with none of the configuration variables of the environment it runs in.
fn bare_command() -> Command {
    let mut command = Command::new(BIN);
    command
        .env_remove("WEBFLOW_API_TOKEN")
        .env_remove("WEBFLOW_COLLECTION_ID")
        .env_remove("WEBFLOW_API_BASE_URL");
    command
}

/// The same, against the embedded mock (`--mock`).
fn command() -> Command {
    let mut command = bare_command();
    command.arg("--mock");
    command
}

/// The same, pointed at `mock` with its token: the real-token path.
fn command_for(mock: &MockWebflow) -> Command {
    let mut command = bare_command();
    command
        .env("WEBFLOW_API_TOKEN", MockWebflow::TOKEN)
        .env("WEBFLOW_API_BASE_URL", mock.base_url())
        .env("WEBFLOW_COLLECTION_ID", MockWebflow::COLLECTION_ID);
    command
}

struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Ran {
    /// The summary: the last stdout line, and the only one.
    fn summary(&self) -> Value {
        let lines: Vec<&str> = self.stdout.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "stdout is only the summary: {:?}",
            self.stdout
        );
        serde_json::from_str(lines[0]).expect("the last stdout line is JSON")
    }
}

fn run(mut command: Command, args: &[&str], stdin: Option<&str>) -> Ran {
    command
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the binary starts");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().expect("piped stdin");
        // A command that ends before reading (a usage error) closes its stdin.
        if let Err(e) = pipe.write_all(text.as_bytes()) {
            assert_eq!(
                e.kind(),
                std::io::ErrorKind::BrokenPipe,
                "stdin takes the input"
            );
        }
    }
    let output = child.wait_with_output().expect("the binary ends");
    Ran {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    }
}

/// A path in the temporary directory, unique to this process and call; the file is
/// removed when the value is dropped.
struct TempPath(PathBuf);

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn temp_path(name: &str) -> TempPath {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    TempPath(std::env::temp_dir().join(format!("webflow-import-{}-{n}-{name}", std::process::id())))
}

fn temp_file(name: &str, content: &str) -> TempPath {
    let path = temp_path(name);
    std::fs::write(&path.0, content).expect("the temporary file is written");
    path
}

fn item(name: &str, slug: &str) -> String {
    json!({"fieldData": {"name": name, "slug": slug}}).to_string()
}

fn ndjson(lines: &[&str]) -> String {
    lines.iter().map(|line| format!("{line}\n")).collect()
}

/// The report's lines, sorted by input line.
fn report_lines(path: &TempPath) -> Vec<Value> {
    let text = std::fs::read_to_string(&path.0).expect("the report exists");
    let mut lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("each report line is JSON"))
        .collect();
    lines.sort_by_key(|line| line["line"].as_u64());
    lines
}

fn path_arg(path: &TempPath) -> &str {
    path.0.to_str().expect("a UTF-8 temporary path")
}

#[test]
fn imports_a_file_into_the_embedded_mock() {
    let input = temp_file(
        "three.ndjson",
        &ndjson(&[&item("A", "a"), &item("B", "b"), &item("C", "c")]),
    );
    let ran = run(command(), &[path_arg(&input)], None);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let summary = ran.summary();
    assert_eq!(summary["created"], 3);
    assert_eq!(summary["failed"], 0);
    assert_eq!(summary["malformed_lines"], 0);
    assert_eq!(
        summary["requests"], 2,
        "three items: the collection's schema, then one create"
    );
    assert_eq!(summary["end"], "input_exhausted");
    assert_eq!(summary["mock"], true);
    for key in [
        "settled",
        "skipped",
        "unknown",
        "not_attempted",
        "renamed",
        "create_requests",
        "list_requests",
        "throttled",
        "elapsed_seconds",
    ] {
        assert!(summary.get(key).is_some(), "summary has {key}: {summary}");
    }
    assert!(ran.stderr.contains("local mock"), "{}", ran.stderr);
}

#[test]
fn reads_standard_input_with_a_dash() {
    let input = ndjson(&[&item("A", "a"), &item("B", "b"), &item("C", "c")]);
    let ran = run(command(), &["-"], Some(&input));
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert_eq!(ran.summary()["created"], 3);
}

#[test]
fn a_malformed_line_is_counted_reported_and_skipped() {
    let input = temp_file(
        "malformed.ndjson",
        &ndjson(&[&item("A", "a"), "{not json", &item("B", "b")]),
    );
    let report = temp_path("malformed-report.ndjson");
    let ran = run(
        command(),
        &[path_arg(&input), "--report", path_arg(&report)],
        None,
    );
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    let summary = ran.summary();
    assert_eq!(summary["malformed_lines"], 1);
    assert_eq!(summary["created"], 2, "the import went on after it");
    assert!(ran.stderr.contains("line 2: malformed"), "{}", ran.stderr);
    let lines = report_lines(&report);
    assert_eq!(lines[1]["line"], 2);
    assert_eq!(lines[1]["outcome"], "malformed");
    assert!(lines[1]["error"].is_string());
}

#[test]
fn the_report_has_one_line_per_input_line_and_blank_lines_are_ignored() {
    let input = temp_file(
        "report.ndjson",
        &ndjson(&[
            &item("A", "a"),
            "",
            "   ",
            &item("B", "b"),
            r#"{"fieldData": {"slug": "no-name"}}"#,
            &item(" ", "blank-name"),
        ]),
    );
    let report = temp_path("report-out.ndjson");
    let ran = run(
        command(),
        &[path_arg(&input), "--report", path_arg(&report)],
        None,
    );
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    let summary = ran.summary();
    assert_eq!(summary["created"], 2);
    assert_eq!(summary["failed"], 1, "the item with a blank name");
    assert_eq!(summary["malformed_lines"], 1, "the line without a name");
    let lines = report_lines(&report);
    let outcomes: Vec<(u64, &str)> = lines
        .iter()
        .map(|line| {
            (
                line["line"].as_u64().unwrap(),
                line["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            (1, "created"),
            (4, "created"),
            (5, "malformed"),
            (6, "failed")
        ],
        "blank lines 2 and 3 have no report line"
    );
    assert!(lines[0]["id"].is_string());
    assert_eq!(lines[0]["slug"], "a");
    assert_eq!(
        lines[2]["slug"], "no-name",
        "the slug of a malformed line, when it has one"
    );
    assert!(lines[3]["error"].as_str().unwrap().contains("name"));
}

#[test]
fn blank_lines_and_crlf_are_fine() {
    let input = format!("\n{}\r\n\r\n  \n{}\n\n", item("A", "a"), item("B", "b"));
    let ran = run(command(), &["-"], Some(&input));
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let summary = ran.summary();
    assert_eq!(summary["created"], 2);
    assert_eq!(summary["malformed_lines"], 0);
}

#[test]
fn dry_run_checks_every_line_and_sends_nothing() {
    let input = temp_file(
        "dry.ndjson",
        &ndjson(&[
            &item("A", "a"),
            &item("A again", "a"),
            &item("Bad", "Bad Slug"),
            "{not json",
            &item("C", "c"),
        ]),
    );
    let report = temp_path("dry-report.ndjson");
    let ran = run(
        command(),
        &["--dry-run", path_arg(&input), "--report", path_arg(&report)],
        None,
    );
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    let summary = ran.summary();
    assert_eq!(
        summary["requests"], 1,
        "the collection's schema, nothing else"
    );
    assert_eq!(summary["created"], 0);
    assert_eq!(summary["would_create"], 2);
    assert_eq!(summary["skipped"], 0);
    assert_eq!(summary["invalid"], 1);
    assert_eq!(
        (summary["failed"].as_u64(), summary["duplicates"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(summary["malformed_lines"], 1);
    assert_eq!(summary["dry_run"], true);
    assert!(
        ran.stderr
            .contains("line 2 (a): failed: duplicate slug: line 1 has it already"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("line 3: invalid: slug \"Bad Slug\""),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("line 4: malformed"), "{}", ran.stderr);
    let mut outcomes: Vec<(u64, String)> = report_lines(&report)
        .iter()
        .map(|line| {
            (
                line["line"].as_u64().unwrap(),
                line["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    outcomes.sort();
    let outcomes: Vec<String> = outcomes
        .into_iter()
        .map(|(line, outcome)| format!("{line} {outcome}"))
        .collect();
    assert_eq!(
        outcomes,
        [
            "1 would_create",
            "2 failed",
            "3 invalid",
            "4 malformed",
            "5 would_create"
        ]
    );

    let valid = temp_file(
        "dry-valid.ndjson",
        &ndjson(&[&item("A", "a"), &item("B", "b-2")]),
    );
    let ran = run(command(), &["--dry-run", path_arg(&valid)], None);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert_eq!(ran.summary()["would_create"], 2);
}

#[test]
fn resume_on_a_fresh_mock_creates_everything() {
    let input = ndjson(&[&item("A", "a"), &item("B", "b")]);
    let ran = run(command(), &["--resume", "-"], Some(&input));
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let summary = ran.summary();
    assert_eq!(summary["created"], 2);
    assert_eq!(summary["skipped"], 0);
    assert_eq!(
        summary["list_requests"], 2,
        "the collection's schema, then its index"
    );
    assert!(ran.stderr.contains("it starts empty"), "{}", ran.stderr);

    let ran = run(command(), &["--dry-run", "--resume", "-"], Some(&input));
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let summary = ran.summary();
    assert_eq!(summary["would_create"], 2);
    assert_eq!(summary["skipped"], 0);
    assert_eq!(summary["create_requests"], 0);
    assert_eq!(
        summary["requests"], 2,
        "the schema and one page of the index"
    );
}

#[test]
fn configuration_errors_exit_2_with_one_line() {
    let missing = temp_path("missing.ndjson");
    let ran = run(command(), &[path_arg(&missing)], None);
    assert_eq!(ran.code, Some(2), "{}", ran.stderr);
    assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.stderr);
    assert!(
        ran.stderr.starts_with("error: cannot open the input"),
        "{}",
        ran.stderr
    );
    let summary = ran.summary();
    assert_eq!(summary["end"], "not_started");
    assert_eq!(summary["requests"], 0);

    let ran = run(command(), &["--no-such-flag", "-"], None);
    assert_eq!(ran.code, Some(2), "{}", ran.stderr);
    assert_eq!(ran.summary()["end"], "not_started");

    // A token without a collection.
    let mut with_token = bare_command();
    with_token.env("WEBFLOW_API_TOKEN", "some-token");
    let ran = run(with_token, &["-"], Some(""));
    assert_eq!(ran.code, Some(2), "{}", ran.stderr);
    assert!(ran.stderr.contains("--collection"), "{}", ran.stderr);
    assert!(!ran.stderr.contains("some-token") && !ran.stdout.contains("some-token"));
}

/// Runs the blocking child process off the runtime that serves the mock.
async fn run_async(command: Command, args: &[&str], stdin: Option<&str>) -> Ran {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let stdin = stdin.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(command, &args, stdin.as_deref())
    })
    .await
    .expect("the child process ran")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_resume_skips_what_exists() {
    let mock = MockWebflow::builder()
        .token(MockWebflow::TOKEN)
        .start()
        .await;
    mock.insert_items(
        MockWebflow::COLLECTION_ID,
        [json!({"fieldData": {"name": "A", "slug": "a"}})],
    );
    let input = ndjson(&[&item("A", "a"), &item("B", "b")]);

    let ran = run_async(
        command_for(&mock),
        &["--dry-run", "--resume", "-"],
        Some(&input),
    )
    .await;
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let summary = ran.summary();
    assert_eq!(
        (
            summary["skipped"].as_u64(),
            summary["would_create"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(summary["mock"], false);
    assert!(
        mock.requests().iter().all(|r| r.method == "GET"),
        "a dry run sends no create"
    );

    let ran = run_async(command_for(&mock), &["--resume", "-"], Some(&input)).await;
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let summary = ran.summary();
    assert_eq!(
        (summary["skipped"].as_u64(), summary["created"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(mock.created_items().len(), 1);
    assert!(
        !ran.stderr.contains(MockWebflow::TOKEN),
        "the token is never printed"
    );

    // A token the server refuses stops the import.
    let mut refused = command_for(&mock);
    refused.env("WEBFLOW_API_TOKEN", "wrong-token");
    let ran = run_async(refused, &["-"], Some(&ndjson(&[&item("C", "c")]))).await;
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    let summary = ran.summary();
    assert_eq!(summary["end"], "stopped");
    assert_eq!(summary["created"], 0);
    assert!(
        summary["error"]
            .as_str()
            .unwrap_or_default()
            .contains("401"),
        "{summary}"
    );
    assert!(!ran.stderr.contains("wrong-token"), "{}", ran.stderr);
}

/// A stand-in for Webflow on 127.0.0.1, for the scenarios the embedded mock cannot script
/// from outside: it creates every item it is sent (ids in order) and lists none, and holds
/// the create requests from a given one on until [`release`](Self::release); the test waits
/// for requests to reach it.
struct StandIn {
    base_url: String,
    shared: Arc<StandInShared>,
}

struct StandInShared {
    state: Mutex<StandInState>,
    changed: Condvar,
}

struct StandInState {
    /// Create requests received.
    creates: u64,
    /// Creates from this one (1-based) on are held until released.
    hold_from: u64,
    released: bool,
    next_id: u64,
}

impl StandIn {
    /// Starts it; `hold_from`: the first create request held (`u64::MAX`: none).
    fn start(hold_from: u64) -> StandIn {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a local port");
        let base_url = format!("http://{}/v2", listener.local_addr().unwrap());
        let shared = Arc::new(StandInShared {
            state: Mutex::new(StandInState {
                creates: 0,
                hold_from,
                released: false,
                next_id: 1,
            }),
            changed: Condvar::new(),
        });
        let serving = shared.clone();
        std::thread::spawn(move || {
            for connection in listener.incoming().map_while(Result::ok) {
                let shared = serving.clone();
                std::thread::spawn(move || serve(connection, &shared));
            }
        });
        StandIn { base_url, shared }
    }

    /// The command with a token, pointed at the stand-in.
    fn command(&self) -> Command {
        let mut command = bare_command();
        command
            .env("WEBFLOW_API_TOKEN", STAND_IN_TOKEN)
            .env("WEBFLOW_API_BASE_URL", &self.base_url)
            .env("WEBFLOW_COLLECTION_ID", MockWebflow::COLLECTION_ID);
        command
    }

    /// Waits until `count` create requests have arrived.
    fn wait_for_creates(&self, count: u64) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut state = self.shared.state.lock().unwrap();
        while state.creates < count {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "create request {count} never arrived");
            state = self.shared.changed.wait_timeout(state, left).unwrap().0;
        }
    }

    /// Answers the held requests, and every later one at once.
    fn release(&self) {
        self.shared.state.lock().unwrap().released = true;
        self.shared.changed.notify_all();
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.release();
    }
}

const STAND_IN_TOKEN: &str = "stand-in-token-5f3a9c";

/// The end of the path of `collection-details` (the stand-in's schema has name and slug).
const COLLECTION_PATH_END: &str = "/collections/6520d7b1a3c4e5f60718293a";

/// One connection: HTTP/1.1 requests with a Content-Length, one after the other.
fn serve(connection: std::net::TcpStream, shared: &StandInShared) {
    let mut reader = BufReader::new(connection.try_clone().expect("a second handle"));
    let mut writer = connection;
    loop {
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) if line == "\r\n" => break,
                Ok(_) => head.push(line),
            }
        }
        let request_line = head.first().cloned().unwrap_or_default();
        let length: usize = head
            .iter()
            .find_map(|h| {
                let (name, value) = h.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .unwrap_or(0);
        let mut body = vec![0; length];
        if std::io::Read::read_exact(&mut reader, &mut body).is_err() {
            return;
        }
        let schema = request_line.starts_with("GET ")
            && request_line
                .split_whitespace()
                .nth(1)
                .is_some_and(|path| path.trim_end_matches('/').ends_with(COLLECTION_PATH_END));
        // The schema's answer carries no rate-limit headers, so the client keeps one create
        // in flight until the first create answers (as with a fresh budget).
        let (status, answer) = if schema {
            (
                "200 OK",
                json!({"id": "c", "displayName": "Items", "singularName": "Item", "fields": [
                    {"id": "f1", "slug": "name", "type": "PlainText", "isRequired": true, "displayName": "Name"},
                    {"id": "f2", "slug": "slug", "type": "PlainText", "isRequired": true, "displayName": "Slug"},
                ]}),
            )
        } else if request_line.starts_with("POST ") {
            let mut state = shared.state.lock().unwrap();
            state.creates += 1;
            let number = state.creates;
            shared.changed.notify_all();
            while number >= state.hold_from && !state.released {
                state = shared.changed.wait(state).unwrap();
            }
            let sent: Value = serde_json::from_slice(&body).unwrap_or_default();
            let items: Vec<Value> = sent["items"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|item| {
                    state.next_id += 1;
                    json!({
                        "id": format!("{:024x}", state.next_id),
                        "createdOn": "2026-01-01T00:00:00.000Z",
                        "lastUpdated": "2026-01-01T00:00:00.000Z",
                        "lastPublished": "2026-01-01T00:00:00.000Z",
                        "isArchived": false,
                        "isDraft": false,
                        "fieldData": item["fieldData"],
                    })
                })
                .collect();
            ("202 Accepted", json!({ "items": items }))
        } else {
            (
                "200 OK",
                json!({"items": [], "pagination": {"limit": 100, "offset": 0, "total": 0}}),
            )
        };
        let answer = answer.to_string();
        let limits = if schema {
            ""
        } else {
            "X-RateLimit-Limit: 6000\r\nX-RateLimit-Remaining: 5999\r\n"
        };
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             {limits}\r\n{answer}",
            answer.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// Sends `signal` (`TERM`, `HUP`, `INT`, `KILL`) to the process `pid`.
#[cfg(unix)]
fn send_signal(signal: &str, pid: u32) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal} {pid}");
}

/// Spawns the command with `args`, stdout and stderr piped, stdin closed.
fn spawn(mut command: Command, args: &[&str]) -> std::process::Child {
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts")
}

/// Every report line, in file order; each must be complete JSON.
fn report_entries(path: &TempPath) -> Vec<Value> {
    let text = std::fs::read_to_string(&path.0).unwrap_or_default();
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "the report ends with a whole line: {:?}",
        &text[text.len().saturating_sub(80)..]
    );
    text.lines()
        .map(|line| serde_json::from_str(line).expect("each report line is whole JSON"))
        .collect()
}

/// `n` items, `item-1` to `item-n`.
fn items(n: usize) -> String {
    let lines: Vec<String> = (1..=n)
        .map(|i| item(&format!("Item {i}"), &format!("item-{i}")))
        .collect();
    lines.iter().map(|line| format!("{line}\n")).collect()
}

/// SIGTERM and SIGHUP (a container or systemd stop, a closed terminal) stop the run as the
/// first Ctrl-C does: no new request, the request in flight answered, every line reported,
/// the closing line and one summary line, exit code 1 (a repeated SIGHUP changes nothing).
/// The stop messages agree with each other and with the file.
#[cfg(unix)]
#[test]
fn sigterm_and_sighup_stop_like_a_first_ctrl_c() {
    for signal in ["TERM", "HUP", "INT"] {
        let stand_in = StandIn::start(1);
        let input = temp_file("signal.ndjson", &items(150));
        let report = temp_path("signal-report.ndjson");
        let mut child = spawn(
            stand_in.command(),
            &[path_arg(&input), "--report", path_arg(&report)],
        );
        let stderr = stderr_lines(&mut child);
        stand_in.wait_for_creates(1);
        send_signal(signal, child.id());
        let acknowledged = wait_for_line(&stderr, Duration::from_secs(60), |line| {
            line.contains("stopping: no new request is sent")
        });
        assert!(
            acknowledged.contains(&format!("SIG{signal}")),
            "{acknowledged}"
        );
        if signal == "HUP" {
            // A closing terminal sends it twice: that is not a second stop.
            send_signal("HUP", child.id());
        }
        stand_in.release();
        let output = child.wait_with_output().expect("the binary ends");
        let rest: Vec<String> = stderr.iter().collect();
        assert_eq!(output.status.code(), Some(1), "SIG{signal}: {rest:#?}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert_eq!(stdout.lines().count(), 1, "one summary line: {stdout:?}");
        let summary: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(summary["end"], "cancelled");
        assert_eq!(summary["signal"], format!("SIG{signal}"));
        assert_eq!(
            summary["created"], 100,
            "the request in flight was answered"
        );
        let entries = report_entries(&report);
        let read = entries.len() as u64;
        assert_eq!(
            summary["created"].as_u64().unwrap() + summary["not_attempted"].as_u64().unwrap(),
            read,
            "every item read has its report line"
        );
        let closing = rest.last().expect("a closing line");
        assert!(
            closing.starts_with(&format!("cancelled by SIG{signal}: 100 created")),
            "{closing}"
        );
        if read == 150 {
            assert!(
                closing.contains("the whole input was read (150 lines)"),
                "{closing}"
            );
        } else {
            assert!(
                closing.contains(&format!(
                    "lines 1 to {read} of 150 were read, lines {} to 150 were not",
                    read + 1
                )),
                "{closing}"
            );
        }
        assert!(closing.contains("--resume"), "{closing}");
    }
}

/// A second signal exits at once with 130, without waiting for the request in flight: its
/// items get an `unknown` report line (they may have been created), and stdout still gets
/// its one summary line.
#[cfg(unix)]
#[test]
fn a_second_signal_reports_the_items_in_flight_unknown_and_exits_130() {
    let stand_in = StandIn::start(1);
    let input = temp_file("twice.ndjson", &items(150));
    let report = temp_path("twice-report.ndjson");
    let mut child = spawn(
        stand_in.command(),
        &[path_arg(&input), "--report", path_arg(&report)],
    );
    let stderr = stderr_lines(&mut child);
    stand_in.wait_for_creates(1);
    send_signal("INT", child.id());
    wait_for_line(&stderr, Duration::from_secs(60), |line| {
        line.contains("stopping: no new request is sent")
    });
    send_signal("INT", child.id());
    let output = child.wait_with_output().expect("the binary ends");
    assert_eq!(output.status.code(), Some(130));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "one summary line: {stdout:?}");
    let summary: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["end"], "interrupted");
    assert_eq!(summary["created"], 0);
    let entries = report_entries(&report);
    let unknown = entries.iter().filter(|e| e["outcome"] == "unknown").count();
    assert!(
        unknown >= 100,
        "the 100 items in flight are unknown: {unknown}"
    );
    assert_eq!(summary["unknown"], unknown as u64);
    let mut lines: Vec<u64> = entries
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    lines.sort_unstable();
    let expected: Vec<u64> = (1..=lines.len() as u64).collect();
    assert_eq!(lines, expected, "one line per item read, none twice");
    assert_eq!(summary["total"], lines.len() as u64);
    let closing = stderr.iter().last().expect("a closing line");
    assert!(closing.starts_with("interrupted (SIGINT)"), "{closing}");
}

/// Report lines reach the file as soon as their outcome is known, whole: a process killed
/// outright (SIGKILL) leaves every line it knew, and no torn one.
#[cfg(unix)]
#[test]
fn report_lines_are_on_disk_as_soon_as_known() {
    let stand_in = StandIn::start(2);
    let input = temp_file("on-disk.ndjson", &items(200));
    let report = temp_path("on-disk-report.ndjson");
    let mut child = spawn(
        stand_in.command(),
        &[path_arg(&input), "--report", path_arg(&report)],
    );
    stand_in.wait_for_creates(2);
    let deadline = Instant::now() + Duration::from_secs(60);
    while report_entries(&report).len() < 100 {
        assert!(
            Instant::now() < deadline,
            "the first request's 100 outcomes never reached the report: {} lines",
            report_entries(&report).len()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    send_signal("KILL", child.id());
    let _ = child.wait();
    let entries = report_entries(&report);
    assert_eq!(entries.len(), 100);
    assert!(entries.iter().all(|e| e["outcome"] == "created"));
}

/// `--report` naming the input (the same path, a symlink or a hard link to it) is refused
/// before anything is read or written: the input stays as it was, with or without
/// `--dry-run`.
#[cfg(unix)]
#[test]
fn a_report_that_is_the_input_is_refused_and_the_input_kept() {
    let content = ndjson(&[&item("A", "a"), &item("B", "b")]);
    let input = temp_file("same.ndjson", &content);
    let symlink = temp_path("same-symlink.ndjson");
    std::os::unix::fs::symlink(&input.0, &symlink.0).expect("a symlink");
    let hard_link = temp_path("same-hard-link.ndjson");
    std::fs::hard_link(&input.0, &hard_link.0).expect("a hard link");
    for report in [&input, &symlink, &hard_link] {
        for dry_run in [false, true] {
            let mut args = vec![path_arg(&input), "--report", path_arg(report)];
            if dry_run {
                args.push("--dry-run");
            }
            let ran = run(command(), &args, None);
            assert_eq!(ran.code, Some(2), "{args:?}: {}", ran.stderr);
            assert!(
                ran.stderr.contains("is the input"),
                "{args:?}: {}",
                ran.stderr
            );
            assert_eq!(ran.summary()["end"], "not_started");
            assert_eq!(
                std::fs::read_to_string(&input.0).unwrap(),
                content,
                "{args:?}: the input is intact"
            );
        }
    }
}

/// Without a token the command refuses to run (exit 2, nothing imported) unless `--mock`
/// asks for the embedded mock, also when a collection is configured — a dry run too: it
/// reads the collection's schema.
#[test]
fn without_a_token_only_an_explicit_mock_runs() {
    let input = temp_file("no-token.ndjson", &ndjson(&[&item("A", "a")]));
    let mut with_collection = bare_command();
    with_collection.env("WEBFLOW_COLLECTION_ID", MockWebflow::COLLECTION_ID);
    for command in [bare_command(), with_collection] {
        let ran = run(command, &[path_arg(&input)], None);
        assert_eq!(ran.code, Some(2), "{}", ran.stderr);
        assert!(
            ran.stderr.contains("WEBFLOW_API_TOKEN is not set") && ran.stderr.contains("--mock"),
            "{}",
            ran.stderr
        );
        let summary = ran.summary();
        assert_eq!(summary["end"], "not_started");
        assert_eq!(summary["created"], 0);
    }

    let ran = run(command(), &[path_arg(&input)], None);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert_eq!(ran.summary()["mock"], true);
    assert!(
        ran.stderr.contains("--mock: using a local mock"),
        "{}",
        ran.stderr
    );

    // A dry run reads the collection's schema: a token or --mock too.
    let ran = run(bare_command(), &["--dry-run", path_arg(&input)], None);
    assert_eq!(ran.code, Some(2), "{}", ran.stderr);
    let ran = run(command(), &["--dry-run", path_arg(&input)], None);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let summary = ran.summary();
    assert_eq!(
        (summary["would_create"].as_u64(), summary["mock"].as_bool()),
        (Some(1), Some(true))
    );
}

/// A mistyped option gets clap's "did you mean" tip.
#[test]
fn a_mistyped_option_gets_a_suggestion() {
    let ran = run(command(), &["--resme", "-"], None);
    assert_eq!(ran.code, Some(2), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("similar argument exists: '--resume'"),
        "{}",
        ran.stderr
    );
    assert_eq!(ran.summary()["end"], "not_started");
}

/// A JSON array is not NDJSON: the error says so and shows the jq command that converts it.
#[test]
fn a_json_array_gets_the_way_to_convert_it() {
    let array = format!("[{},{}]\n", item("A", "a"), item("B", "b"));
    let input = temp_file("array.json", &array);
    let ran = run(command(), &[path_arg(&input)], None);
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    assert_eq!(ran.summary()["malformed_lines"], 1);
    let converted = input.0.with_extension("ndjson");
    let hint = format!("jq -c '.[]' {} > {}", path_arg(&input), converted.display());
    assert!(
        ran.stderr.contains("NDJSON") && ran.stderr.contains(&hint),
        "{}",
        ran.stderr
    );
}

/// A field of the wrong type is named by its path, and the line keeps its slug.
#[test]
fn a_type_error_names_the_field() {
    let input = temp_file(
        "type-error.ndjson",
        &ndjson(&[r#"{"fieldData": {"name": 3, "slug": "three"}}"#]),
    );
    let report = temp_path("type-error-report.ndjson");
    let ran = run(
        command(),
        &[path_arg(&input), "--report", path_arg(&report)],
        None,
    );
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    assert!(
        ran.stderr.contains(
            "line 1: malformed: fieldData.name: invalid type: integer `3`, expected a string"
        ),
        "{}",
        ran.stderr
    );
    assert_eq!(report_lines(&report)[0]["slug"], "three");
}

/// A line over `--max-line-bytes` is malformed, and the lines after it are read as usual.
#[test]
fn a_line_over_the_limit_is_malformed_and_the_rest_is_read() {
    let long = item("Long", &"l".repeat(200));
    let input = ndjson(&[&long, &item("A", "a")]);
    let ran = run(command(), &["--max-line-bytes", "100", "-"], Some(&input));
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    let summary = ran.summary();
    assert_eq!(
        (
            summary["malformed_lines"].as_u64(),
            summary["created"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert!(
        ran.stderr.contains(&format!(
            "line 1: malformed: the line is {} bytes long, over the limit of 100 bytes (--max-line-bytes raises it)",
            long.len()
        )),
        "{}",
        ran.stderr
    );
    let ran = run(command(), &["--max-line-bytes", "1K", "-"], Some(&input));
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert_eq!(ran.summary()["created"], 2);
}

/// The peak resident memory of a running process, from `/proc`.
#[cfg(target_os = "linux")]
fn peak_memory_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc status")
}

/// A 100 MB one-line JSON array (the shape of a file that should have been converted) is
/// refused with the conversion hint, read through without being held: the process's peak
/// memory stays far below the line's size. The line comes through a pipe held open, so the
/// peak is read while the process runs, after the line was read through.
#[cfg(target_os = "linux")]
#[test]
fn a_huge_line_is_refused_with_flat_memory() {
    const LINE_BYTES: usize = 100 << 20;
    let mut child = command()
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stderr_lines = stderr_lines(&mut child);
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = std::thread::spawn(move || {
        let piece = format!("{},", item("A", "a"));
        let mut line = String::with_capacity(1 << 20);
        stdin.write_all(b"[").expect("the child reads");
        let mut written = 1;
        while written < LINE_BYTES {
            line.clear();
            while line.len() < (1 << 20) {
                line.push_str(&piece);
            }
            stdin.write_all(line.as_bytes()).expect("the child reads");
            written += line.len();
        }
        stdin
            .write_all(format!("{}]\n{}\n", item("Z", "z"), item("B", "b")).as_bytes())
            .expect("the child reads");
        stdin
    });
    let refused = wait_for_line(&stderr_lines, Duration::from_secs(300), |line| {
        line.starts_with("line 1: malformed")
    });
    let peak_kib = peak_memory_kib(child.id());
    drop(writer.join().expect("the writer ends"));
    let output = child.wait_with_output().expect("the binary ends");
    assert!(
        refused.contains("bytes long, over the limit of 1048576 bytes"),
        "{refused}"
    );
    assert!(refused.contains("jq -c '.[]'"), "{refused}");
    assert!(
        peak_kib < 64 * 1024,
        "peak memory {peak_kib} KiB for a {LINE_BYTES}-byte line"
    );
    assert_eq!(output.status.code(), Some(1));
    let summary: Value = serde_json::from_slice(&output.stdout).expect("one summary line");
    assert_eq!(
        (
            summary["malformed_lines"].as_u64(),
            summary["created"].as_u64()
        ),
        (Some(1), Some(1)),
        "the line after it was imported"
    );
}

/// Stderr's lines, as they come, on a channel.
fn stderr_lines(child: &mut std::process::Child) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel::<String>();
    let stderr = child.stderr.take().expect("piped stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// Waits for a line that `wanted` accepts, and returns it; panics after `timeout` (with
/// the lines seen) or when the stream ends.
fn wait_for_line(
    lines: &mpsc::Receiver<String>,
    timeout: Duration,
    wanted: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if wanted(&line) => return line,
            Ok(line) => seen.push(line),
            Err(e) => panic!("no such line ({e}); seen: {seen:#?}"),
        }
    }
}

/// Without a terminal (a log, CI) even a small import opens with a line that says what it
/// reads, how many items and where to, and closes with a line for people: the counts, the
/// time, the report.
#[test]
fn piped_stderr_has_a_start_line_and_a_closing_line() {
    let input = temp_file("piped.ndjson", &items(3));
    let report = temp_path("piped-report.ndjson");
    let ran = run(
        command(),
        &[path_arg(&input), "--report", path_arg(&report)],
        None,
    );
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert!(
        ran.stderr.contains(&format!(
            "importing {} (3 items) into collection",
            path_arg(&input)
        )),
        "{}",
        ran.stderr
    );
    let closing = ran.stderr.lines().last().unwrap();
    assert!(closing.starts_with("done: 3 created in "), "{closing}");
    assert!(
        closing.ends_with(&format!("; report: {}", path_arg(&report))),
        "{closing}"
    );
}

/// When something went wrong the closing line says what to do next.
#[test]
fn the_closing_line_says_what_to_do_next() {
    let input = ndjson(&[&item("A", "a"), "{not json", &item(" ", "blank-name")]);
    let ran = run(command(), &["-"], Some(&input));
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    let closing = ran.stderr.lines().last().unwrap();
    assert!(
        closing.starts_with("finished with problems: 1 created, 1 failed, 1 malformed line in "),
        "{closing}"
    );
    assert!(
        closing.ends_with(
            "Next: fix the failed, invalid and malformed lines (--report FILE lists them); then \
             run again with --resume (items that exist are skipped)"
        ),
        "{closing}"
    );

    let ran = run(command(), &["--dry-run", "-"], Some(&items(2)));
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let closing = ran.stderr.lines().last().unwrap();
    assert!(
        closing.starts_with("dry run: every line is valid: 2 would be created"),
        "{closing}"
    );
}

/// `-q`: only errors and the closing line.
#[test]
fn quiet_prints_only_errors_and_the_closing_line() {
    let ran = run(command(), &["-q", "-"], Some(&items(2)));
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.stderr);
    assert!(ran.stderr.starts_with("done: 2 created"), "{}", ran.stderr);
    let input = ndjson(&[&item("A", "a"), "{not json"]);
    let ran = run(command(), &["--quiet", "-"], Some(&input));
    let lines: Vec<&str> = ran.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", ran.stderr);
    assert!(lines[0].starts_with("line 2: malformed"), "{}", ran.stderr);
    assert_eq!(ran.summary()["created"], 1);
}

/// `-v` shows the library's log: each request, with its status; never the token.
#[test]
fn verbose_shows_each_request_and_never_the_token() {
    let stand_in = StandIn::start(u64::MAX);
    let ran = run(stand_in.command(), &["-vv", "-"], Some(&items(2)));
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("webflow.request")
            && ran.stderr.contains("http.response.status_code=202"),
        "{}",
        ran.stderr
    );
    assert!(!ran.stderr.contains(STAND_IN_TOKEN), "{}", ran.stderr);
    assert!(!ran.stdout.contains(STAND_IN_TOKEN));
    let ran = run(command(), &["-v", "-q", "-"], Some(&items(1)));
    assert_eq!(ran.code, Some(2), "-v and -q conflict: {}", ran.stderr);
}

/// `-` on a terminal says that it waits for NDJSON and how to end it (in a pseudo-terminal
/// made by util-linux's `script`).
#[cfg(target_os = "linux")]
#[test]
fn reading_a_terminal_says_how_to_end_the_input() {
    let shell_command = format!("stty cols 80; exec '{BIN}' --mock -");
    let mut script = Command::new("script")
        .args(["-qefc", &shell_command, "/dev/null"])
        .env_remove("WEBFLOW_API_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("util-linux script runs");
    let mut terminal_input = script.stdin.take().unwrap();
    let output = script.stdout.take().unwrap();
    let (sender, screen) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        let mut output = output;
        let mut buffer = [0u8; 4096];
        while let Ok(n) = std::io::Read::read(&mut output, &mut buffer) {
            if n == 0
                || sender
                    .send(String::from_utf8_lossy(&buffer[..n]).into_owned())
                    .is_err()
            {
                break;
            }
        }
    });
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !seen.contains("end with Ctrl-D") {
        let left = deadline.saturating_duration_since(Instant::now());
        seen.push_str(
            &screen
                .recv_timeout(left)
                .unwrap_or_else(|e| panic!("{e}: {}", tail(&seen))),
        );
    }
    assert!(
        seen.contains("reading NDJSON from the terminal"),
        "{seen:?}"
    );
    terminal_input
        .write_all(format!("{}\n\x04", item("A", "a")).as_bytes())
        .unwrap();
    while !seen.contains("\"created\":1") {
        let left = deadline.saturating_duration_since(Instant::now());
        seen.push_str(
            &screen
                .recv_timeout(left)
                .unwrap_or_else(|e| panic!("{e}: {}", tail(&seen))),
        );
    }
    drop(terminal_input);
    assert!(script.wait().unwrap().success());
}

/// The last 2,000 characters of a screen, for a failure message.
fn tail(screen: &str) -> String {
    let chars: Vec<char> = screen.chars().collect();
    let start = chars.len().saturating_sub(2000);
    format!("{:?}", chars[start..].iter().collect::<String>())
}

// --- Rehearsals on `--mock --mock-state FILE`: runs that follow each other on one mock
// collection, kept in a file (each run is a process of its own).

/// A current-thread runtime for a mock started in-process by a synchronous test.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// The items the state file holds, as a second mock started on a copy of it lists them
/// (the copy: the file itself is not touched).
fn stored_items(state: &TempPath) -> Vec<Value> {
    let copy = temp_path("state-copy.json");
    std::fs::copy(&state.0, &copy.0).expect("the state file exists");
    runtime().block_on(async {
        let mock = MockWebflow::builder().state_file(&copy.0).start().await;
        mock.items(MockWebflow::COLLECTION_ID)
    })
}

/// The slugs of `items`, sorted, each as often as an item holds it.
fn slugs(items: &[Value]) -> Vec<String> {
    let mut slugs: Vec<String> = items
        .iter()
        .map(|item| item["fieldData"]["slug"].as_str().unwrap().to_owned())
        .collect();
    slugs.sort();
    slugs
}

/// The report as `<line> <slug> <outcome>` (`-` for an item of the collection no line
/// has), sorted.
fn report_outcomes(path: &TempPath) -> Vec<String> {
    let mut outcomes: Vec<String> = report_entries(path)
        .iter()
        .map(|entry| {
            let line = entry["line"]
                .as_u64()
                .map_or_else(|| "-".to_owned(), |line| line.to_string());
            format!(
                "{line} {} {}",
                entry["slug"].as_str().unwrap_or("null"),
                entry["outcome"].as_str().unwrap()
            )
        })
        .collect();
    outcomes.sort();
    outcomes
}

/// The report's entry for `slug`.
fn entry_for(path: &TempPath, slug: &str) -> Value {
    report_entries(path)
        .into_iter()
        .find(|entry| entry["slug"] == slug)
        .unwrap_or_else(|| panic!("no report line for {slug}"))
}

/// The command on `--mock --mock-state state`.
fn on_state(state: &TempPath) -> Command {
    let mut command = command();
    command.args(["--mock-state", path_arg(state)]);
    command
}

/// `counts` (summary field, value) as the summary has them, for one comparison.
fn counts(summary: &Value, fields: &[&str]) -> Vec<(String, Value)> {
    fields
        .iter()
        .map(|field| ((*field).to_owned(), summary[*field].clone()))
        .collect()
}

/// `fields` and values, for comparison with [`counts`].
fn expected(pairs: &[(&str, u64)]) -> Vec<(String, Value)> {
    pairs
        .iter()
        .map(|(field, value)| ((*field).to_owned(), json!(value)))
        .collect()
}

/// `webflow-mock`, the standalone server, on `args`; killed when dropped.
struct MockServer {
    child: std::process::Child,
    base_url: String,
}

impl MockServer {
    fn start(args: &[&str]) -> MockServer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_webflow-mock"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("webflow-mock starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("webflow-mock prints its base URL");
        let base_url = line
            .trim_end()
            .strip_prefix("WEBFLOW_API_BASE_URL=")
            .unwrap_or_else(|| panic!("the base URL line: {line:?}"))
            .to_owned();
        MockServer { child, base_url }
    }

    /// `webflow-import` with a token, pointed at this server's default collection.
    fn command(&self) -> Command {
        let mut command = bare_command();
        command
            .env("WEBFLOW_API_TOKEN", "any-token")
            .env("WEBFLOW_API_BASE_URL", &self.base_url)
            .env("WEBFLOW_COLLECTION_ID", MockWebflow::COLLECTION_ID);
        command
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Issue observation 14: a rehearsal stopped part way (here: run on the first 3 lines of 5)
/// and run again with `--resume` on `--mock --mock-state` skips what the first run created
/// — the mock no longer starts empty each run — and a third run creates nothing. The state
/// file is JSON, and `webflow-mock --state` on it sees the same 5 items, each once.
#[test]
fn a_stopped_rehearsal_resumes_on_the_mock_state() {
    let state = temp_path("resume-state.json");
    let all: Vec<String> = (1..=5)
        .map(|i| item(&format!("Item {i}"), &format!("item-{i}")))
        .collect();
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let first_three = temp_file("resume-3.ndjson", &ndjson(&all[..3]));
    let five = temp_file("resume-5.ndjson", &ndjson(&all));
    let report = temp_path("resume-report.ndjson");
    let fields = ["created", "skipped", "failed", "unknown", "create_requests"];

    let ran = run(on_state(&state), &[path_arg(&first_three)], None);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert_eq!(
        counts(&ran.summary(), &fields),
        expected(&[
            ("created", 3),
            ("skipped", 0),
            ("failed", 0),
            ("unknown", 0),
            ("create_requests", 1)
        ])
    );
    assert!(
        ran.stderr.contains(&format!(
            "its collections are kept in {} between runs",
            path_arg(&state)
        )),
        "{}",
        ran.stderr
    );
    let first_ids: Vec<Value> = stored_items(&state)
        .iter()
        .map(|item| item["id"].clone())
        .collect();
    assert_eq!(first_ids.len(), 3);

    let ran = run(
        on_state(&state),
        &["--resume", path_arg(&five), "--report", path_arg(&report)],
        None,
    );
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert_eq!(
        counts(&ran.summary(), &fields),
        expected(&[
            ("created", 2),
            ("skipped", 3),
            ("failed", 0),
            ("unknown", 0),
            ("create_requests", 1)
        ])
    );
    assert_eq!(
        report_outcomes(&report),
        [
            "1 item-1 skipped",
            "2 item-2 skipped",
            "3 item-3 skipped",
            "4 item-4 created",
            "5 item-5 created"
        ]
    );
    for (n, id) in first_ids.iter().enumerate() {
        assert_eq!(
            &entry_for(&report, &format!("item-{}", n + 1))["id"],
            id,
            "skipped with the first run's id"
        );
    }

    let ran = run(
        on_state(&state),
        &["--resume", path_arg(&five), "--report", path_arg(&report)],
        None,
    );
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let summary = ran.summary();
    assert_eq!(
        counts(&summary, &fields),
        expected(&[
            ("created", 0),
            ("skipped", 5),
            ("failed", 0),
            ("unknown", 0),
            ("create_requests", 0)
        ])
    );
    assert_eq!(
        summary["requests"], summary["list_requests"],
        "nothing but reads: {summary}"
    );
    assert!(
        report_outcomes(&report)
            .iter()
            .all(|o| o.ends_with(" skipped"))
    );

    // The state file: JSON, holding the five items once each.
    let text = std::fs::read_to_string(&state.0).expect("the state file");
    let _: Value = serde_json::from_str(&text).expect("the state file is JSON");
    let items = stored_items(&state);
    assert_eq!(
        slugs(&items),
        ["item-1", "item-2", "item-3", "item-4", "item-5"],
        "nothing exists twice"
    );

    // A second mock, the standalone server on the same file, sees the same collection: a
    // dry run against it with a token skips every line, and writes nothing.
    let before = std::fs::read(&state.0).unwrap();
    let server = MockServer::start(&["--state", path_arg(&state)]);
    let ran = run(
        server.command(),
        &["--dry-run", "--resume", path_arg(&five)],
        None,
    );
    drop(server);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let summary = ran.summary();
    assert_eq!(
        counts(&summary, &["skipped", "would_create", "create_requests"]),
        expected(&[("skipped", 5), ("would_create", 0), ("create_requests", 0)])
    );
    assert_eq!(summary["mock"], false, "the server, not the embedded mock");
    assert_eq!(std::fs::read(&state.0).unwrap(), before);
}

// --- Syncs rehearsed on `--mock --mock-state FILE`, on a collection whose schema has a
// `price` field (the mock's default collection has only `name` and `slug`).

/// The collection's fields for the sync rehearsals: `name`, `slug` and a Number `price`.
fn price_schema() -> Value {
    json!({"fields": [{"slug": "price", "type": "Number"}]})
}

/// A `--mock-state` file whose collection (the mock's default id) has `schema` and no item:
/// written by a mock started in-process on it.
fn state_with_schema(name: &str, schema: Value) -> TempPath {
    let state = temp_path(name);
    runtime().block_on(async {
        let mock = MockWebflow::builder()
            .state_file(&state.0)
            .collection(MockWebflow::COLLECTION_ID, schema)
            .start()
            .await;
        drop(mock);
    });
    assert!(state.0.exists(), "the mock wrote its state file");
    state
}

/// The stored item with `slug`.
fn stored<'a>(items: &'a [Value], slug: &str) -> &'a Value {
    items
        .iter()
        .find(|item| item["fieldData"]["slug"] == slug)
        .unwrap_or_else(|| panic!("no stored item {slug}: {items:#?}"))
}

/// `item-n` with a price.
fn priced(n: u32, price: u32) -> String {
    json!({"fieldData": {"name": format!("Item {n}"), "slug": format!("item-{n}"), "price": price}})
        .to_string()
}

/// A dry run of a sync on `--mock --mock-state`, after a first sync: one line changed, one
/// removed, one new and `--prune delete` give the plan — 1 would be created, 1 updated, 1
/// pruned — in the summary, the report and the closing line, and write nothing: the state
/// file is byte for byte what it was.
#[test]
fn a_dry_run_of_a_sync_on_the_mock_state_writes_nothing() {
    let state = state_with_schema("plan-state.json", price_schema());
    let lines: Vec<String> = (1..=5).map(|n| priced(n, n * 10)).collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let five = temp_file("plan-5.ndjson", &ndjson(&lines));
    let ran = run(on_state(&state), &["--update", path_arg(&five)], None);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert_eq!(ran.summary()["created"], 5);
    let items = stored_items(&state);

    // Line 2's price changed, line 5 (item-5) gone, item-6 new.
    let changed = priced(2, 22);
    let new = priced(6, 60);
    let plan = temp_file(
        "plan.ndjson",
        &ndjson(&[lines[0], &changed, lines[2], lines[3], &new]),
    );
    let report = temp_path("plan-report.ndjson");
    let before = std::fs::read(&state.0).unwrap();
    let ran = run(
        on_state(&state),
        &[
            "--dry-run",
            "--update",
            "--prune",
            "delete",
            path_arg(&plan),
            "--report",
            path_arg(&report),
        ],
        None,
    );
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let summary = ran.summary();
    assert_eq!(
        counts(
            &summary,
            &[
                "would_create",
                "would_update",
                "would_prune",
                "unchanged",
                "created",
                "updated",
                "pruned",
                "invalid",
                "create_requests",
                "update_requests",
                "prune_requests",
            ]
        ),
        expected(&[
            ("would_create", 1),
            ("would_update", 1),
            ("would_prune", 1),
            ("unchanged", 3),
            ("created", 0),
            ("updated", 0),
            ("pruned", 0),
            ("invalid", 0),
            ("create_requests", 0),
            ("update_requests", 0),
            ("prune_requests", 0),
        ])
    );
    assert_eq!(summary["dry_run"], true);
    assert!(summary.get("prune_refused").is_none(), "{summary}");
    assert_eq!(
        std::fs::read(&state.0).unwrap(),
        before,
        "the state file is untouched"
    );
    assert_eq!(
        report_outcomes(&report),
        [
            "- item-5 would_prune",
            "1 item-1 unchanged",
            "2 item-2 would_update",
            "3 item-3 unchanged",
            "4 item-4 unchanged",
            "5 item-6 would_create"
        ]
    );
    let update = entry_for(&report, "item-2");
    assert_eq!(update["changed"], json!(["price"]), "{update}");
    assert_eq!(update["id"], stored(&items, "item-2")["id"]);
    assert_eq!(
        entry_for(&report, "item-5")["id"],
        stored(&items, "item-5")["id"]
    );
    let closing = ran.stderr.lines().last().unwrap();
    assert!(
        closing.starts_with(
            "dry run: every line is valid: 1 would be created, 1 would be updated, 3 unchanged, \
             1 would be pruned; nothing was written"
        ),
        "{closing}"
    );
    assert_eq!(stored_items(&state), items, "the collection is as it was");

    // A slug the dry run's own check refuses (the library never sees that line): the plan
    // must not promise a prune the real run would refuse. Before: `would_prune` 1 and no
    // `prune_refused` next to the invalid line.
    let bad_slug = r#"{"fieldData": {"name": "Bad", "slug": "Not A Slug"}}"#;
    let plan = temp_file(
        "plan-bad-slug.ndjson",
        &ndjson(&[lines[0], lines[1], lines[2], lines[3], bad_slug]),
    );
    let ran = run(
        on_state(&state),
        &[
            "--dry-run",
            "--update",
            "--prune",
            "delete",
            path_arg(&plan),
        ],
        None,
    );
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    let summary = ran.summary();
    assert_eq!(summary["invalid"], 1, "{summary}");
    assert_eq!(summary["would_prune"], 0, "{summary}");
    let refused = summary["prune_refused"].as_str().unwrap_or_default();
    assert!(refused.contains("1 input line is invalid"), "{summary}");
    assert_eq!(stored_items(&state), items, "the collection is as it was");
}

/// A sync rehearsed run after run on `--mock --mock-state`: created, then unchanged with no
/// write, one price updated, one item unpublished by `--prune unpublish`; then prunes the
/// tool must refuse — more than `--max-prune`, a malformed, invalid or duplicate line in the
/// input — delete nothing and exit 1 (`--help`: exit 0 needs "a --prune asked for was
/// done"). Each run is checked against what the state file holds.
#[test]
fn a_sync_rehearsed_run_after_run_on_the_mock_state() {
    let state = state_with_schema("sync-state.json", price_schema());
    let report = temp_path("sync-report.ndjson");
    let lines: Vec<String> = (1..=5).map(|n| priced(n, n * 10)).collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let five = temp_file("sync-5.ndjson", &ndjson(&lines));
    let fields = [
        "created",
        "updated",
        "unchanged",
        "not_live",
        "failed",
        "invalid",
        "pruned",
        "create_requests",
        "update_requests",
        "prune_requests",
    ];
    let sync = |args: &[&str]| {
        let mut all = vec!["--update", "--report", path_arg(&report)];
        all.extend_from_slice(args);
        run(on_state(&state), &all, None)
    };

    // Run 1: every line is new.
    let ran = sync(&[path_arg(&five)]);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let summary = ran.summary();
    assert_eq!(
        counts(&summary, &fields),
        expected(&[
            ("created", 5),
            ("updated", 0),
            ("unchanged", 0),
            ("not_live", 0),
            ("failed", 0),
            ("invalid", 0),
            ("pruned", 0),
            ("create_requests", 1),
            ("update_requests", 0),
            ("prune_requests", 0),
        ])
    );
    assert_eq!(report_outcomes(&report).len(), 5);
    assert!(
        report_outcomes(&report)
            .iter()
            .all(|o| o.ends_with(" created"))
    );
    let items = stored_items(&state);
    assert_eq!(
        slugs(&items),
        ["item-1", "item-2", "item-3", "item-4", "item-5"]
    );
    assert_eq!(stored(&items, "item-3")["fieldData"]["price"], 30);
    let id_of = |slug: &str| stored(&items, slug)["id"].clone();
    assert!(
        !ran.stderr.contains("are skipped"),
        "a sync skips nothing that exists: {}",
        ran.stderr
    );

    // Run 2: the same file: every item is in step, nothing is written.
    let before = std::fs::read(&state.0).unwrap();
    let ran = sync(&[path_arg(&five)]);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let summary = ran.summary();
    assert_eq!(
        counts(&summary, &fields),
        expected(&[
            ("created", 0),
            ("updated", 0),
            ("unchanged", 5),
            ("not_live", 0),
            ("failed", 0),
            ("invalid", 0),
            ("pruned", 0),
            ("create_requests", 0),
            ("update_requests", 0),
            ("prune_requests", 0),
        ])
    );
    assert_eq!(summary["requests"], summary["list_requests"], "{summary}");
    assert!(
        report_outcomes(&report)
            .iter()
            .all(|o| o.ends_with(" unchanged"))
    );
    assert_eq!(
        entry_for(&report, "item-2")["id"],
        id_of("item-2"),
        "unchanged lines name their item"
    );
    assert_eq!(std::fs::read(&state.0).unwrap(), before, "no write at all");
    let closing = ran.stderr.lines().last().unwrap();
    assert!(closing.starts_with("done: 5 unchanged in "), "{closing}");

    // Run 3: one price edited: that item alone is updated, that field alone.
    let mut edited = lines.clone();
    let three = priced(3, 33);
    edited[2] = &three;
    let edited_file = temp_file("sync-edited.ndjson", &ndjson(&edited));
    let ran = sync(&[path_arg(&edited_file)]);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert_eq!(
        counts(&ran.summary(), &fields),
        expected(&[
            ("created", 0),
            ("updated", 1),
            ("unchanged", 4),
            ("not_live", 0),
            ("failed", 0),
            ("invalid", 0),
            ("pruned", 0),
            ("create_requests", 0),
            ("update_requests", 1),
            ("prune_requests", 0),
        ])
    );
    assert_eq!(
        report_outcomes(&report),
        [
            "1 item-1 unchanged",
            "2 item-2 unchanged",
            "3 item-3 updated",
            "4 item-4 unchanged",
            "5 item-5 unchanged"
        ]
    );
    let updated = entry_for(&report, "item-3");
    assert_eq!(updated["changed"], json!(["price"]), "{updated}");
    assert_eq!(updated["id"], id_of("item-3"));
    let items = stored_items(&state);
    assert_eq!(stored(&items, "item-3")["fieldData"]["price"], 33);
    assert_eq!(stored(&items, "item-3")["id"], id_of("item-3"));
    let closing = ran.stderr.lines().last().unwrap();
    assert!(
        closing.starts_with("done: 1 updated, 4 unchanged in "),
        "{closing}"
    );

    // Run 4: the last line removed, --prune unpublish: its item is unpublished (a draft,
    // still in the collection).
    let four = temp_file("sync-4.ndjson", &ndjson(&edited[..4]));
    let ran = sync(&["--prune", "unpublish", path_arg(&four)]);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let summary = ran.summary();
    assert_eq!(
        counts(&summary, &fields),
        expected(&[
            ("created", 0),
            ("updated", 0),
            ("unchanged", 4),
            ("not_live", 0),
            ("failed", 0),
            ("invalid", 0),
            ("pruned", 1),
            ("create_requests", 0),
            ("update_requests", 0),
            ("prune_requests", 1),
        ])
    );
    assert!(summary.get("prune_refused").is_none(), "{summary}");
    assert_eq!(
        report_outcomes(&report),
        [
            "- item-5 pruned",
            "1 item-1 unchanged",
            "2 item-2 unchanged",
            "3 item-3 unchanged",
            "4 item-4 unchanged"
        ]
    );
    assert_eq!(entry_for(&report, "item-5")["id"], id_of("item-5"));
    let items = stored_items(&state);
    assert_eq!(items.len(), 5, "unpublished, not deleted");
    assert_eq!(stored(&items, "item-5")["isDraft"], true);
    assert_eq!(stored(&items, "item-5")["lastPublished"], Value::Null);
    let closing = ran.stderr.lines().last().unwrap();
    assert!(
        closing.starts_with("done: 4 unchanged, 1 pruned in "),
        "{closing}"
    );

    // Run 5: 3 of the 5 lines removed, --prune delete --max-prune 1: refused, nothing
    // deleted (item-5, a draft now, counts as one of the 3).
    let two = temp_file("sync-2.ndjson", &ndjson(&edited[..2]));
    let before = std::fs::read(&state.0).unwrap();
    let ran = sync(&["--prune", "delete", "--max-prune", "1", path_arg(&two)]);
    assert_eq!(
        ran.code,
        Some(1),
        "a prune asked for was not done: {}",
        ran.stderr
    );
    let summary = ran.summary();
    assert_eq!(
        counts(&summary, &fields),
        expected(&[
            ("created", 0),
            ("updated", 0),
            ("unchanged", 2),
            ("not_live", 0),
            ("failed", 0),
            ("invalid", 0),
            ("pruned", 0),
            ("create_requests", 0),
            ("update_requests", 0),
            ("prune_requests", 0),
        ])
    );
    let refused = summary["prune_refused"].as_str().expect("prune_refused");
    assert!(
        refused.contains(
            "it would take 3 of the collection's 5 items off the site, more than the 1 allowed"
        ),
        "{refused}"
    );
    assert_eq!(
        report_outcomes(&report),
        ["1 item-1 unchanged", "2 item-2 unchanged"],
        "no pruned line"
    );
    assert_eq!(std::fs::read(&state.0).unwrap(), before, "nothing written");
    assert_eq!(stored_items(&state).len(), 5);

    // Run 6: a mistake the tool can catch in the input never deletes, whatever
    // --max-prune allows: a malformed line, a field the schema lacks, a duplicate slug.
    let typo = r#"{"fieldData": {"name": "Item 6", "slug": "item-6", "pricee": 1}}"#;
    for (mistake, why) in [
        ("{not json", "malformed"),
        (typo, "invalid"),
        (edited[0], "failed"),
    ] {
        let input = temp_file(
            "sync-mistake.ndjson",
            &ndjson(&[edited[0], edited[1], mistake]),
        );
        let ran = sync(&["--prune", "delete", "--max-prune", "10", path_arg(&input)]);
        assert_eq!(ran.code, Some(1), "{why}: {}", ran.stderr);
        let summary = ran.summary();
        assert_eq!(
            (
                summary["pruned"].as_u64(),
                summary["prune_requests"].as_u64(),
                summary["created"].as_u64(),
                summary["unchanged"].as_u64()
            ),
            (Some(0), Some(0), Some(0), Some(2)),
            "{why}: {summary}"
        );
        let refused = summary["prune_refused"].as_str().unwrap_or_else(|| {
            panic!("{why}: the prune is refused: {summary}");
        });
        assert!(refused.contains(why), "{why}: {refused}");
        let outcomes = report_outcomes(&report);
        assert!(
            outcomes
                .iter()
                .any(|o| o.starts_with("3 ") && o.ends_with(&format!(" {why}"))),
            "{why}: {outcomes:?}"
        );
        assert!(!outcomes.iter().any(|o| o.ends_with(" pruned")), "{why}");
        assert_eq!(
            std::fs::read(&state.0).unwrap(),
            before,
            "{why}: nothing written"
        );
    }
    let items = stored_items(&state);
    assert_eq!(
        slugs(&items),
        ["item-1", "item-2", "item-3", "item-4", "item-5"],
        "every item is still there, each once"
    );
}

/// Every line is checked against the collection's schema through the command: a field the
/// collection lacks (`pricee`, where it has `price`) makes the line invalid, named with the
/// closest field, and never sent; the other lines are imported; exit code 1; and the
/// closing line says how to finish once the line is fixed.
#[test]
fn a_field_the_schema_lacks_is_invalid_named_and_never_sent() {
    let state = state_with_schema("schema-state.json", price_schema());
    let report = temp_path("schema-report.ndjson");
    let typo = r#"{"fieldData": {"name": "Item 2", "slug": "item-2", "pricee": 20}}"#;
    let input = temp_file(
        "schema.ndjson",
        &ndjson(&[&priced(1, 10), typo, &priced(3, 30)]),
    );
    let ran = run(
        on_state(&state),
        &[path_arg(&input), "--report", path_arg(&report)],
        None,
    );
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    let summary = ran.summary();
    assert_eq!(
        counts(
            &summary,
            &[
                "created",
                "invalid",
                "failed",
                "malformed_lines",
                "create_requests"
            ]
        ),
        expected(&[
            ("created", 2),
            ("invalid", 1),
            ("failed", 0),
            ("malformed_lines", 0),
            ("create_requests", 1),
        ])
    );
    assert_eq!(
        report_outcomes(&report),
        ["1 item-1 created", "2 item-2 invalid", "3 item-3 created"]
    );
    let invalid = entry_for(&report, "item-2");
    assert_eq!(
        invalid["error"],
        "pricee: Field not described in schema: undefined (did you mean `price`?)"
    );
    assert!(invalid.get("id").is_none(), "{invalid}");
    assert!(
        ran.stderr.contains(
            "line 2 (item-2): invalid: pricee: Field not described in schema: undefined (did you \
             mean `price`?)"
        ),
        "{}",
        ran.stderr
    );
    let items = stored_items(&state);
    assert_eq!(slugs(&items), ["item-1", "item-3"], "line 2 was never sent");
    assert_eq!(stored(&items, "item-3")["fieldData"]["price"], 30);
    let closing = ran.stderr.lines().last().unwrap();
    assert!(
        closing.starts_with("finished with problems: 2 created, 1 invalid in "),
        "{closing}"
    );
    assert!(
        closing.ends_with(&format!(
            "Next: fix the failed, invalid and malformed lines (see {}); then run again with \
             --resume (items that exist are skipped)",
            path_arg(&report)
        )),
        "with line 2 fixed, lines 1 and 3 must be skipped: {closing}"
    );

    // Fixed, and run again as the closing line says: line 2 alone is created.
    let fixed = temp_file(
        "schema-fixed.ndjson",
        &ndjson(&[&priced(1, 10), &priced(2, 20), &priced(3, 30)]),
    );
    let ran = run(on_state(&state), &["--resume", path_arg(&fixed)], None);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let summary = ran.summary();
    assert_eq!(
        counts(&summary, &["created", "skipped", "invalid"]),
        expected(&[("created", 1), ("skipped", 2), ("invalid", 0)])
    );
    assert_eq!(slugs(&stored_items(&state)), ["item-1", "item-2", "item-3"]);
}

/// `--rate N` caps the client's pace, observed on the embedded mock's clock (it moves only
/// when the client waits, so the waits are exact and take no real time): with `--rate 30`
/// the first 30 requests go at once and the 31st waits one slot, 60 s / 30 × 1.02 (the
/// pacer's margin) = 2,040 ms, shown by `-vv`; without `--rate` the same import never waits.
/// And `--rate 1`, whose slot is 61.2 s apart, still runs an import that lists the
/// collection first (`--resume`).
#[test]
fn rate_caps_the_pace_on_the_mock_clock() {
    let input = temp_file("rate.ndjson", &items(3_100));
    let ran = run(command(), &["--rate", "30", "-vv", path_arg(&input)], None);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let summary = ran.summary();
    assert_eq!(
        counts(
            &summary,
            &["created", "requests", "create_requests", "throttled"]
        ),
        expected(&[
            ("created", 3_100),
            ("requests", 32),
            ("create_requests", 31),
            ("throttled", 0),
        ]),
        "the schema and 31 creates of 100"
    );
    assert!(
        ran.stderr
            .contains("waiting for a rate-limit slot wait_ms=2040"),
        "the 31st request waits for a slot"
    );

    let ran = run(command(), &["-vv", path_arg(&input)], None);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert_eq!(ran.summary()["requests"], 32);
    assert!(
        !ran.stderr.contains("waiting for a rate-limit slot"),
        "without --rate nothing waits"
    );

    // Schema, index, create: the second and third requests wait a slot each.
    let ran = run(
        command(),
        &["--rate", "1", "--resume", "-"],
        Some(&items(2)),
    );
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let summary = ran.summary();
    assert_eq!(
        counts(
            &summary,
            &["created", "not_attempted", "requests", "throttled"]
        ),
        expected(&[
            ("created", 2),
            ("not_attempted", 0),
            ("requests", 3),
            ("throttled", 0)
        ])
    );
    assert!(summary.get("error").is_none(), "{summary}");
    assert!(
        ran.stderr.contains("waiting 1m 01s: rate limit"),
        "{}",
        ran.stderr
    );
}

/// The closing line of a sync names what it came to — updated, unchanged, pruned — and,
/// when the prune was refused, why, and what to do next: for a sync, run the same command
/// again (not `--resume`, which is about skipping what exists).
#[test]
fn the_closing_line_of_a_sync_says_what_came_of_it_and_what_next() {
    let state = state_with_schema("closing-state.json", price_schema());
    let report = temp_path("closing-report.ndjson");
    let lines: Vec<String> = (1..=5).map(|n| priced(n, n * 10)).collect();
    let five = temp_file(
        "closing-5.ndjson",
        &ndjson(&[&lines[0], &lines[1], &lines[2], &lines[3], &lines[4]]),
    );
    let ran = run(on_state(&state), &["--update", path_arg(&five)], None);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);

    // Line 3 edited, line 5 gone: updated, unchanged and pruned in one run.
    let edited = priced(3, 33);
    let input = temp_file(
        "closing-edited.ndjson",
        &ndjson(&[&lines[0], &lines[1], &edited, &lines[3]]),
    );
    let ran = run(
        on_state(&state),
        &[
            "--update",
            "--prune",
            "unpublish",
            path_arg(&input),
            "--report",
            path_arg(&report),
        ],
        None,
    );
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let summary = ran.summary();
    assert_eq!(
        counts(&summary, &["updated", "unchanged", "pruned"]),
        expected(&[("updated", 1), ("unchanged", 3), ("pruned", 1)])
    );
    let closing = ran.stderr.lines().last().unwrap();
    assert!(
        closing.starts_with("done: 1 updated, 3 unchanged, 1 pruned in "),
        "{closing}"
    );
    assert!(
        closing.ends_with(&format!("; report: {}", path_arg(&report))),
        "{closing}"
    );
    assert!(
        ran.stderr
            .contains("sync: the collection holds 5 items (list requests: 1)"),
        "{}",
        ran.stderr
    );

    // More to prune than --max-prune allows: the line says so, and how to go on.
    let two = temp_file("closing-2.ndjson", &ndjson(&[&lines[0], &lines[1]]));
    let ran = run(
        on_state(&state),
        &[
            "--update",
            "--prune",
            "delete",
            "--max-prune",
            "1",
            path_arg(&two),
        ],
        None,
    );
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    let closing = ran.stderr.lines().last().unwrap();
    assert!(
        closing.starts_with("finished with problems: 2 unchanged in "),
        "{closing}"
    );
    assert!(
        closing.ends_with(
            ". Nothing was pruned: it would take 3 of the collection's 5 items off the site, more \
             than the 1 allowed (max_prune, --max-prune; by default half): check the source, or \
             raise the limit"
        ),
        "{closing}"
    );

    // A malformed line: the prune is refused, and the way on is to fix the line and run the
    // same sync again.
    let input = temp_file(
        "closing-malformed.ndjson",
        &ndjson(&[&lines[0], &lines[1], &edited, &lines[3], "{not json"]),
    );
    let ran = run(
        on_state(&state),
        &["--update", "--prune", "delete", path_arg(&input)],
        None,
    );
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    assert_eq!(ran.summary()["pruned"], 0);
    let closing = ran.stderr.lines().last().unwrap();
    assert!(
        closing.starts_with("finished with problems: 4 unchanged, 1 malformed line in "),
        "{closing}"
    );
    assert!(
        closing.contains(". Nothing was pruned: 1 input line"),
        "{closing}"
    );
    assert!(
        closing.ends_with(
            "Next: fix the failed, invalid and malformed lines (--report FILE lists them); then \
             run the same command again (items already in step are left alone)"
        ),
        "{closing}"
    );
    assert!(!closing.contains("--resume"), "{closing}");
    assert_eq!(stored_items(&state).len(), 5, "nothing was deleted");

    // --prune without --update skips the lines whose slug exists, and says so (item-5 is
    // a draft already: nothing left to unpublish).
    let input = temp_file(
        "closing-prune-only.ndjson",
        &ndjson(&[&lines[0], &lines[1], &edited, &lines[3]]),
    );
    let ran = run(
        on_state(&state),
        &["--prune", "unpublish", path_arg(&input)],
        None,
    );
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert!(
        ran.stderr.contains(
            "--prune: the collection holds 5 items (list requests: 1); items with their slugs \
             are skipped"
        ),
        "{}",
        ran.stderr
    );
    let closing = ran.stderr.lines().last().unwrap();
    assert!(
        closing.starts_with("done: 4 skipped (they existed) in "),
        "{closing}"
    );
}
