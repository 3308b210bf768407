//! End-to-end tests of the `webflow-import` command (feature `cli`): the built binary, run
//! as a child process with `--mock` (against its embedded mock), or with a token pointed at
//! a mock this test starts (the path a real token takes).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use webflow_api::mock::{Fault, MockWebflow};

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
        pipe.write_all(text.as_bytes())
            .expect("stdin takes the input");
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
    assert_eq!(summary["requests"], 1, "three items, one request");
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
    assert_eq!(summary["requests"], 0);
    assert_eq!(summary["created"], 0);
    assert_eq!(summary["would_create"], 2);
    assert_eq!(summary["would_skip"], 0);
    assert_eq!(summary["invalid"], 2);
    assert_eq!(summary["malformed_lines"], 1);
    assert_eq!(summary["dry_run"], true);
    assert!(
        ran.stderr
            .contains("line 2: invalid: duplicate slug \"a\" (first on line 1)"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("line 3: invalid: slug \"Bad Slug\""),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("line 4: malformed"), "{}", ran.stderr);
    let outcomes: Vec<String> = report_lines(&report)
        .iter()
        .map(|line| format!("{} {}", line["line"], line["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        outcomes,
        [
            "1 would_create",
            "2 invalid",
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
        summary["list_requests"], 1,
        "the collection is indexed first"
    );
    assert!(ran.stderr.contains("mock starts empty"), "{}", ran.stderr);

    let ran = run(command(), &["--dry-run", "--resume", "-"], Some(&input));
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let summary = ran.summary();
    assert_eq!(summary["would_create"], 2);
    assert_eq!(summary["would_skip"], 0);
    assert_eq!(summary["create_requests"], 0);
    assert_eq!(summary["requests"], 1, "one listing");
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
            summary["would_skip"].as_u64(),
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
    assert_eq!(summary["failed"], 1);
    assert!(!ran.stderr.contains("wrong-token"), "{}", ran.stderr);
}

/// Starts the command on one item whose create the mock answers slowly, and sends it
/// SIGINT once the create is in flight; `twice` sends a second one after the first is
/// acknowledged. Returns the exit code, stdout, and how long the exit took after the last
/// signal.
#[cfg(unix)]
async fn interrupt(slow: Duration, twice: bool) -> (Option<i32>, String, Duration) {
    let mock = MockWebflow::builder()
        .token(MockWebflow::TOKEN)
        .start()
        .await;
    mock.fault_when(|_| true, Fault::slow(slow));
    let input = temp_file("interrupt.ndjson", &ndjson(&[&item("A", "a")]));
    let mut command = command_for(&mock);
    command
        .arg(path_arg(&input))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the binary starts");
    let (lines, stderr_lines) = mpsc::channel::<String>();
    let stderr = child.stderr.take().expect("piped stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while mock.request_count() == 0 {
        assert!(Instant::now() < deadline, "the create was never sent");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let sigint = |pid: u32| {
        let status = Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    };
    sigint(child.id());
    let acknowledged = tokio::task::spawn_blocking(move || {
        stderr_lines
            .iter()
            .any(|line| line.starts_with("interrupted:"))
    });
    assert!(
        acknowledged.await.unwrap(),
        "the first Ctrl-C is acknowledged"
    );
    if twice {
        sigint(child.id());
    }
    let signalled = Instant::now();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .expect("the binary ends");
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
        signalled.elapsed(),
    )
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_sending_and_reports() {
    let (code, stdout, _) = interrupt(Duration::from_millis(800), false).await;
    assert_eq!(code, Some(1));
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["end"], "cancelled");
    assert_eq!(summary["created"], 1, "the request in flight was answered");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_ctrl_c_exits_at_once_with_130() {
    let (code, stdout, took) = interrupt(Duration::from_secs(20), true).await;
    assert_eq!(code, Some(130));
    assert!(
        stdout.is_empty(),
        "no summary after a second Ctrl-C: {stdout}"
    );
    assert!(
        took < Duration::from_secs(5),
        "exited in {took:?}, not after the slow answer"
    );
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
/// asks for the embedded mock, also when a collection is configured; a dry run without
/// `--resume` sends nothing and needs neither.
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

    let ran = run(bare_command(), &["--dry-run", path_arg(&input)], None);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let summary = ran.summary();
    assert_eq!(
        (summary["would_create"].as_u64(), summary["mock"].as_bool()),
        (Some(1), Some(false))
    );
    let ran = run(
        bare_command(),
        &["--dry-run", "--resume", path_arg(&input)],
        None,
    );
    assert_eq!(
        ran.code,
        Some(2),
        "--resume lists the collection: {}",
        ran.stderr
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
