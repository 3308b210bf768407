//! `webflow-import`: imports an NDJSON file (one item per line) into a Webflow CMS
//! collection as live items, with `bulk_create_live`; with `--mock`, into the embedded mock.
//! See `docs/webflow-import.md`.
//!
//! ```text
//! cargo run -p webflow-api --features cli --bin webflow-import -- [OPTIONS] <FILE|->
//! ```
//!
//! Stdout carries one line, the JSON summary; everything else goes to stderr.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use clap::Parser;
use serde::Serialize;
use webflow_api::{BASE_URL_ENV, CancellationToken, Error, ImportEnd, TOKEN_ENV};

// A binary's root is its directory's module root: the submodules live beside it, in
// `webflow-import/`.
#[path = "webflow-import/dry_run.rs"]
mod dry_run;
#[path = "webflow-import/import.rs"]
mod import;
#[path = "webflow-import/input.rs"]
mod input;
#[path = "webflow-import/report.rs"]
mod report;
#[path = "webflow-import/target.rs"]
mod target;
#[path = "webflow-import/ui.rs"]
mod ui;

use input::Input;
use report::Report;
use target::{COLLECTION_ENV, Connected, Target};
use ui::Ui;

/// Exit code: a usage or configuration error (nothing was imported).
const EXIT_USAGE: u8 = 2;
/// Exit code: a second Ctrl-C.
const EXIT_INTERRUPTED: i32 = 130;

/// Import NDJSON items into a Webflow CMS collection as live items.
///
/// Each line of the input is one item: {"fieldData": {"name": ..., "slug": ..., ...},
/// "isDraft": ..., "isArchived": ..., "cmsLocaleId": ...}. Blank lines are ignored; a
/// malformed line is reported with its line number and does not stop the import. Items
/// go out in requests of up to 100, at the rate limit Webflow reports; an answer lost to a
/// 5xx or a timeout is settled by looking the items up, never by sending them blindly again.
///
/// The last line on stdout is a JSON summary; everything else goes to stderr. Ctrl-C stops
/// sending and reports what was not sent; a second Ctrl-C exits at once (code 130).
#[derive(Parser, Debug)]
#[command(
    name = "webflow-import",
    version,
    after_help = "\
Environment:
  WEBFLOW_API_TOKEN      site API token or OAuth token with cms:write (required, unless
                         --mock, or --dry-run without --resume)
  WEBFLOW_COLLECTION_ID  the collection, unless --collection is given
  WEBFLOW_API_BASE_URL   another API base URL (a proxy); default https://api.webflow.com/v2

Exit codes:
  0    every item created or skipped, no malformed line (--dry-run: every line valid)
  1    some item failed, is unknown or was not attempted, or some line is malformed
  2    usage or configuration error (nothing was imported)
  130  a second Ctrl-C"
)]
struct Args {
    /// NDJSON input, one item per line; `-` (or /dev/stdin) reads standard input
    #[arg(value_name = "FILE|-")]
    input: PathBuf,

    /// Collection id [default: $WEBFLOW_COLLECTION_ID; with --mock, the mock's]
    #[arg(short, long, value_name = "ID")]
    collection: Option<String>,

    #[command(flatten)]
    mock: target::MockOptions,

    #[command(flatten)]
    import: import::ImportOptions,

    /// Write one JSON line per input line (line, slug, outcome, id or error) to FILE, in the
    /// order outcomes arrive
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,

    /// Check every line (JSON, name, slug format, duplicate slugs) and send no create; with
    /// --resume, also count the slugs that already exist
    #[arg(long)]
    dry_run: bool,

    /// Refuse input lines longer than N bytes (suffixes K, M, G): such a line is malformed,
    /// and skipped without being held in memory
    #[arg(long, value_name = "N", default_value = "1M", value_parser = input::parse_byte_size)]
    max_line_bytes: u64,
}

/// The last stdout line.
#[derive(Serialize, Default)]
struct Summary {
    created: u64,
    settled: u64,
    skipped: u64,
    failed: u64,
    unknown: u64,
    not_attempted: u64,
    malformed_lines: u64,
    renamed: u64,
    requests: u64,
    create_requests: u64,
    list_requests: u64,
    throttled: u64,
    /// `input_exhausted`, `cancelled`, `stopped`, or `not_started` (exit code 2).
    end: &'static str,
    elapsed_seconds: f64,
    /// Items handed to the importer (every line that parsed).
    total: u64,
    /// Whether it ran against the embedded mock.
    mock: bool,
    dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    would_create: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    would_skip: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invalid: Option<u64>,
    /// Reading the input failed: the rest of it was not read.
    #[serde(skip_serializing_if = "Option::is_none")]
    input_error: Option<String>,
    /// Writing the report failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    report_error: Option<String>,
    /// Why nothing was imported (`end: not_started`), or why the run stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Locks a mutex, whether or not a panic poisoned it.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn main() -> ExitCode {
    let started = Instant::now();
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            if !e.use_stderr() {
                // --help, --version
                return ExitCode::SUCCESS;
            }
            // The error's first paragraph, on one line.
            let message = e.render().to_string();
            let first: Vec<&str> = message
                .lines()
                .take_while(|line| !line.trim().is_empty())
                .map(str::trim)
                .collect();
            let first = first.join(" ");
            summarize_not_started(first.trim_start_matches("error: "), started);
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            summarize_not_started(&format!("cannot start the runtime: {e}"), started);
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let code = runtime.block_on(run(args, started));
    // Exit without waiting for the runtime: a read of an interactive stdin cannot be
    // cancelled and would hold the shutdown until Enter is pressed.
    let _ = std::io::stdout().flush();
    std::process::exit(code.into());
}

/// Prints a summary of nothing, for exit code 2.
fn summarize_not_started(error: &str, started: Instant) {
    not_started_summary(Summary::default(), error, started);
}

fn not_started_summary(base: Summary, error: &str, started: Instant) {
    print_summary(&Summary {
        end: "not_started",
        elapsed_seconds: seconds(started),
        error: Some(error.to_owned()),
        ..base
    });
}

/// Prints the error and a summary of nothing; returns exit code 2.
fn not_started(error: &str, started: Instant) -> u8 {
    eprintln!("error: {error}");
    summarize_not_started(error, started);
    EXIT_USAGE
}

/// A configuration error found once the run was set up (a bad collection id): exit code 2,
/// with the run's flags in the summary.
fn refused(ui: &Ui, mut base: Summary, error: &Error, started: Instant) -> u8 {
    ui.finish();
    eprintln!("error: {error}");
    base.requests = 0;
    base.list_requests = 0;
    not_started_summary(base, &error.to_string(), started);
    EXIT_USAGE
}

fn seconds(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0
}

fn print_summary(summary: &Summary) {
    let line = serde_json::to_string(summary).unwrap_or_else(|e| format!(r#"{{"error":"{e}"}}"#));
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

async fn run(args: Args, started: Instant) -> u8 {
    match prepare(&args).await {
        Ok(prepared) => execute(&args, prepared, started).await,
        Err(error) => not_started(&error, started),
    }
}

/// Everything set up before the first line is read.
struct Prepared {
    connected: Option<Connected>,
    mock: bool,
    input: Input,
    report: Option<Report>,
    ui: Arc<Ui>,
    cancel: CancellationToken,
}

async fn prepare(args: &Args) -> Result<Prepared, String> {
    // Before anything is read or written.
    if let Some(report) = &args.report {
        report::refuse_if_input(report, &args.input)?;
    }
    // A dry run without --resume sends nothing: no client, no mock.
    let sends = !args.dry_run || args.import.resume;
    let target = Target::choose(&args.mock, args.collection.as_deref(), sends)?;
    let mock = target.is_mock();
    let connected = target::connect(target, sends).await?;
    let input = Input::open(&args.input, args.max_line_bytes).await?;
    let report = args.report.as_deref().map(Report::create).transpose()?;
    let ui = Arc::new(Ui::new(None));
    let cancel = CancellationToken::new();
    if let Err(e) = on_interrupt(cancel.clone(), ui.clone(), report.clone()) {
        ui.say(format_args!(
            "warning: cannot catch Ctrl-C ({e}); it will end the import at once"
        ));
    }
    Ok(Prepared {
        connected,
        mock,
        input,
        report,
        ui,
        cancel,
    })
}

/// First Ctrl-C: cancel (stop sending, finish what is in flight, report). Second: exit now.
fn on_interrupt(
    cancel: CancellationToken,
    ui: Arc<Ui>,
    report: Option<Report>,
) -> std::io::Result<()> {
    #[cfg(unix)]
    let mut interrupts = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    #[cfg(windows)]
    let mut interrupts = tokio::signal::windows::ctrl_c()?;
    tokio::spawn(async move {
        if interrupts.recv().await.is_none() {
            return;
        }
        cancel.cancel();
        ui.say(
            "interrupted: no more requests are sent; waiting for the requests in flight \
             (Ctrl-C again to exit at once)",
        );
        if interrupts.recv().await.is_none() {
            return;
        }
        ui.finish();
        if let Some(report) = &report {
            report.flush();
        }
        eprintln!(
            "interrupted again: exiting without waiting for the requests in flight (their items \
             may have been created: run again with --resume)"
        );
        std::process::exit(EXIT_INTERRUPTED);
    });
    Ok(())
}

async fn execute(args: &Args, prepared: Prepared, started: Instant) -> u8 {
    let Prepared {
        connected,
        mock,
        input,
        report,
        ui,
        cancel,
    } = prepared;
    let source = if args.input.as_os_str() == "-" {
        "standard input".to_owned()
    } else {
        args.input.display().to_string()
    };
    if let Some(connected) = &connected
        && let Some(mock_server) = &connected.mock
    {
        ui.say(format_args!(
            "--mock: using a local mock Webflow at {} (collection {}); nothing reaches Webflow",
            mock_server.base_url(),
            connected.collection
        ));
        for ignored in [TOKEN_ENV, COLLECTION_ENV, BASE_URL_ENV] {
            if std::env::var_os(ignored).is_some() {
                ui.say(format_args!("{ignored} is ignored with --mock"));
            }
        }
        if args.import.resume {
            ui.say("--resume: the mock starts empty, so no item exists yet");
        }
    } else if let Some(connected) = &connected {
        ui.say(format_args!(
            "{} {source} into collection {} at {}",
            if args.dry_run {
                "checking"
            } else {
                "importing"
            },
            connected.collection,
            connected.client.base_url()
        ));
    }
    if args.dry_run {
        ui.say(format_args!(
            "dry run: checking {source}; no item is created{}",
            if connected.is_none() {
                ", nothing is sent"
            } else {
                ""
            }
        ));
    }

    let mut summary = Summary {
        mock,
        dry_run: args.dry_run,
        ..Summary::default()
    };
    let exit_ok;
    if args.dry_run {
        let lister = connected
            .as_ref()
            .map(|c| (&c.client, c.collection.as_str()));
        let checked = dry_run::run(input, lister, report.as_ref(), &ui, &cancel).await;
        summary.malformed_lines = checked.malformed;
        summary.list_requests = checked.list_requests;
        summary.requests = checked.list_requests;
        summary.total = checked
            .would_create
            .saturating_add(checked.would_skip)
            .saturating_add(checked.invalid);
        summary.would_create = Some(checked.would_create);
        summary.would_skip = Some(checked.would_skip);
        summary.invalid = Some(checked.invalid);
        summary.end = if checked.cancelled {
            "cancelled"
        } else if checked.stopped.is_some() {
            "stopped"
        } else {
            "input_exhausted"
        };
        match checked.stopped {
            Some(e @ (Error::InvalidInput(_) | Error::Config(_))) => {
                return refused(&ui, summary, &e, started);
            }
            Some(e) => {
                ui.say(format_args!("stopped: listing the collection failed: {e}"));
                summary.error = Some(format!("listing the collection failed: {e}"));
            }
            None => {}
        }
        summary.input_error = checked.input_error;
        if checked.cancelled {
            ui.say(format_args!(
                "cancelled: checked up to line {}; the lines after it were not read",
                checked.lines_read
            ));
        }
        exit_ok = summary.end == "input_exhausted"
            && checked.malformed == 0
            && checked.invalid == 0
            && summary.input_error.is_none();
    } else {
        let Some(connected) = &connected else {
            unreachable!("a real run always connects");
        };
        let ran = import::run(
            &connected.client,
            &connected.collection,
            input,
            &args.import,
            report.as_ref(),
            &ui,
            &cancel,
        )
        .await;
        let ran = match ran {
            Ok(ran) => ran,
            Err(e) => return refused(&ui, summary, &e, started),
        };
        let s = &ran.summary;
        summary.created = s.created;
        summary.settled = s.settled;
        summary.skipped = s.skipped;
        summary.failed = s.failed;
        summary.unknown = s.unknown;
        summary.not_attempted = s.not_attempted;
        summary.malformed_lines = ran.malformed;
        summary.renamed = s.renamed;
        summary.requests = s.requests;
        summary.create_requests = s.create_requests;
        summary.list_requests = s.list_requests;
        summary.throttled = s.throttled;
        summary.total = s.total;
        summary.end = match s.end {
            ImportEnd::InputExhausted => "input_exhausted",
            ImportEnd::Cancelled => "cancelled",
            _ => "stopped",
        };
        summary.input_error = ran.input_error;
        if s.end != ImportEnd::InputExhausted {
            ui.say(format_args!(
                "{}: read up to line {}; the lines after it were not read, {} items read were \
                 not sent (run again with --resume to finish)",
                summary.end, ran.lines_read, s.not_attempted
            ));
        }
        exit_ok = s.all_done() && ran.malformed == 0 && summary.input_error.is_none();
    }
    if let Some(report) = &report
        && let Err(e) = report.finish()
    {
        ui.say(format_args!("error: {e}"));
        summary.report_error = Some(e);
    }
    ui.finish();
    summary.elapsed_seconds = seconds(started);
    print_summary(&summary);
    if exit_ok && summary.report_error.is_none() {
        0
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// clap's own consistency checks of the arguments (conflicts, names, flattened groups).
    #[test]
    fn the_arguments_are_consistent() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }
}
