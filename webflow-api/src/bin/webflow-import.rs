//! `webflow-import`: imports an NDJSON file (one item per line) into a Webflow CMS
//! collection as live items, with `bulk_create_live`; with `--mock`, into the embedded mock.
//! See `docs/webflow-import.md`.
//!
//! ```text
//! cargo run -p webflow-api --features cli --bin webflow-import -- [OPTIONS] <FILE|->
//! ```
//!
//! This file owns the arguments and the run's course, from the arguments to the exit code.
//! Stdout carries one line, the JSON summary; everything else goes to stderr.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Instant;

use clap::Parser;
use webflow_api::{BASE_URL_ENV, BulkSummary, CancellationToken, Error, TOKEN_ENV};

// A binary's root is its directory's module root: the submodules live beside it, in
// `webflow-import/`.
#[path = "webflow-import/import.rs"]
mod import;
#[path = "webflow-import/input.rs"]
mod input;
#[path = "webflow-import/ledger.rs"]
mod ledger;
#[path = "webflow-import/report.rs"]
mod report;
#[path = "webflow-import/signals.rs"]
mod signals;
#[path = "webflow-import/summary.rs"]
mod summary;
#[path = "webflow-import/target.rs"]
mod target;
#[path = "webflow-import/ui.rs"]
mod ui;

use input::Input;
use ledger::{Ledger, Snapshot};
use report::Report;
use summary::{Position, Summary, seconds};
use target::{COLLECTION_ENV, Connected, Target};
use ui::Ui;

/// Exit code: a usage or configuration error (nothing was imported).
const EXIT_USAGE: u8 = 2;
/// Exit code: a second stop signal (Ctrl-C or SIGTERM).
const EXIT_INTERRUPTED: i32 = 130;

/// Import NDJSON items into a Webflow CMS collection as live items, or keep the collection
/// in step with them (--update, --prune).
///
/// Each line of the input is one item: {"fieldData": {"name": ..., "slug": ..., ...},
/// "isDraft": ..., "isArchived": ..., "cmsLocaleId": ...}. Blank lines are ignored; a
/// malformed line is reported with its line number and does not stop the import. Every
/// line is checked against the collection's schema first (an Option by its name or id, a
/// Reference by the item's slug or id); an invalid line is reported and never sent. Items
/// go out in requests of up to 100, at the rate limit Webflow reports; an answer lost to a
/// 5xx or a timeout is settled by looking the items up, never by sending them blindly again.
///
/// Without WEBFLOW_API_TOKEN nothing runs (exit 2) unless --mock asks for a rehearsal
/// against a local mock Webflow (nothing leaves the machine).
///
/// The last line on stdout is a JSON summary, the last line on stderr says what came of the
/// run. Ctrl-C, SIGTERM or SIGHUP stops sending, lets the requests in flight finish and
/// reports everything; a second Ctrl-C or SIGTERM exits at once (code 130).
#[derive(Parser, Debug)]
#[command(
    name = "webflow-import",
    version,
    after_help = "\
Environment:
  WEBFLOW_API_TOKEN      site API token or OAuth token with cms:write and cms:read
                         (required, unless --mock)
  WEBFLOW_COLLECTION_ID  the collection, unless --collection is given
  WEBFLOW_API_BASE_URL   another API base URL (a proxy); default https://api.webflow.com/v2

Exit codes:
  0    every item created, skipped, updated, unchanged or not live (a draft or archived
       item a sync leaves alone), no malformed or invalid line, and
       a --prune asked for was done (--dry-run: every line valid, the prune would be done)
  1    some item failed, is unknown or was not attempted, some line is malformed, or the
       run was stopped (a first Ctrl-C, SIGTERM or SIGHUP: run again with --resume)
  2    usage or configuration error (nothing was imported)
  130  a second Ctrl-C or SIGTERM (items in flight reported unknown)"
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

    /// Write one JSON line per input line (line, slug, outcome, id or error) to FILE, each as
    /// soon as it is known (not in input order)
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,

    /// Check every line (JSON, slug format, duplicate slugs, the collection's schema) and
    /// write nothing; with --resume, --update or --prune, print the plan (would_create,
    /// would_update, unchanged, would_prune)
    #[arg(long)]
    dry_run: bool,

    /// Refuse input lines longer than N bytes (suffixes K, M, G): such a line is malformed,
    /// and skipped without being held in memory
    #[arg(long, value_name = "N", default_value = "1M", value_parser = input::parse_byte_size)]
    max_line_bytes: u64,

    #[command(flatten)]
    output: ui::OutputOptions,
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
            not_started_summary(first.trim_start_matches("error: "), started);
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            return ExitCode::from(not_started(
                &format!("cannot start the runtime: {e}"),
                started,
            ));
        }
    };
    let code = runtime.block_on(run(args, started));
    // Exit without waiting for the runtime: a read of an interactive stdin cannot be
    // cancelled and would hold the shutdown until Enter is pressed.
    std::process::exit(code.into());
}

/// Prints a summary of nothing, for exit code 2.
fn not_started_summary(error: &str, started: Instant) {
    Summary {
        end: "not_started",
        elapsed_seconds: seconds(started),
        error: Some(error.to_owned()),
        ..Summary::default()
    }
    .print();
}

/// Prints the error (the closing line) and a summary of nothing; returns exit code 2.
fn not_started(error: &str, started: Instant) -> u8 {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "error: {error}");
    not_started_summary(error, started);
    EXIT_USAGE
}

/// What the closing line and the summary need to know of the run, whatever ends it.
struct Context {
    started: Instant,
    mock: bool,
    dry_run: bool,
    /// A sync (`--update`, `--prune`).
    sync: bool,
    ledger: Arc<Ledger>,
    ui: Arc<Ui>,
    /// The input's lines, once counted (a file).
    total_lines: OnceLock<u64>,
    /// The first stop signal.
    signal: Mutex<Option<&'static str>>,
}

impl Context {
    /// A summary with the run's flags and the ledger's counts.
    fn summary(&self, snapshot: &Snapshot) -> Summary {
        let requests = snapshot.requests;
        Summary {
            mock: self.mock,
            dry_run: self.dry_run,
            sync: self.sync,
            signal: *lock(&self.signal),
            requests: requests.requests,
            list_requests: requests.list_requests,
            create_requests: requests.requests.saturating_sub(requests.list_requests),
            throttled: requests.throttled,
            total: snapshot.handed,
            input_error: snapshot.input_error.clone(),
            ..Summary::default()
        }
        .with_counts(&snapshot.counts, self.dry_run)
    }

    /// Ends the run: the summary on stdout, then the closing line on stderr (so on a
    /// terminal the last thing on screen is for people; `| tail -n 1` still gets the JSON).
    fn close(&self, mut summary: Summary, snapshot: &Snapshot) {
        summary.elapsed_seconds = seconds(self.started);
        let report = self.ledger.report().map(Report::path);
        let line = summary::closing_line(
            &summary,
            &Position {
                snapshot,
                total_lines: self.total_lines.get().copied(),
                report,
            },
        );
        self.ui.finish();
        summary.print();
        self.ui.close(&line);
    }

    /// A second stop signal: the items in flight are reported unknown, the closing line
    /// and the summary written, and the process exits with 130.
    fn interrupted(&self, signal: &'static str) -> ! {
        self.ui.finish();
        let snapshot = self.ledger.abandon_in_flight();
        let mut summary = self.summary(&snapshot);
        summary.end = "interrupted";
        summary.signal.get_or_insert(signal);
        self.close(summary, &snapshot);
        std::process::exit(EXIT_INTERRUPTED);
    }
}

async fn run(args: Args, started: Instant) -> u8 {
    // Before anything is read or written.
    if let Some(report) = &args.report
        && let Err(error) = report::refuse_if_input(report, &args.input)
    {
        return not_started(&error, started);
    }
    let target = match Target::choose(&args.mock, args.collection.as_deref()) {
        Ok(target) => target,
        Err(error) => return not_started(&error, started),
    };
    let mock = target.is_mock();
    let connected = match target::connect(target, args.import.rate).await {
        Ok(connected) => connected,
        Err(error) => return not_started(&error, started),
    };
    let mut input = match Input::open(&args.input, args.max_line_bytes).await {
        Ok(input) => input,
        Err(error) => return not_started(&error, started),
    };
    let report = match args.report.as_deref().map(Report::create).transpose() {
        Ok(report) => report,
        Err(error) => return not_started(&error, started),
    };

    ui::init_log(args.output.verbose);
    let ui = Arc::new(Ui::new(&args.output));
    if args.dry_run {
        ui.set_verb("checking");
    }
    let sync = args.import.update || args.import.prune.is_some();
    if args.import.update {
        ui.set_index_use("sync", true);
    } else if args.import.prune.is_some() && !args.import.resume {
        ui.set_index_use("--prune", false);
    }
    let ledger = Arc::new(Ledger::new(report, ui.clone()));
    let context = Arc::new(Context {
        started,
        mock,
        dry_run: args.dry_run,
        sync,
        ledger: ledger.clone(),
        ui: ui.clone(),
        total_lines: OnceLock::new(),
        signal: Mutex::new(None),
    });

    let cancel = CancellationToken::new();
    let on_first = {
        let context = context.clone();
        move |signal: &'static str| {
            *lock(&context.signal) = Some(signal);
            let in_flight = context.ledger.snapshot().in_flight;
            let message = if context.dry_run {
                format!(
                    "{}: stopping; the rest of the input is not checked (again: exit at once)",
                    signals::spoken(signal)
                )
            } else {
                format!(
                    "{}: stopping: no new request is sent; of the {in_flight} items under way, \
                     those not sent yet are reported not attempted, the others when their \
                     requests end (again: exit at once, reporting all of them unknown)",
                    signals::spoken(signal)
                )
            };
            context.ui.warn(message);
        }
    };
    let on_second = {
        let context = context.clone();
        move |signal: &'static str| context.interrupted(signal)
    };
    if let Err(e) = signals::watch(cancel.clone(), on_first, on_second) {
        ui.warn(format_args!(
            "warning: cannot catch Ctrl-C, SIGTERM or SIGHUP ({e}); they end the import at once"
        ));
    }

    // The items to expect: the file's non-blank lines, counted first (flat memory; a stop
    // signal ends the count, and then the run, at once).
    let counted = match input.take_counter() {
        Some(file) => {
            let cancel = cancel.clone();
            tokio::task::spawn_blocking(move || input::count_lines(&file, &cancel))
                .await
                .ok()
                .and_then(Result::ok)
                .flatten()
        }
        None => None,
    };
    if let Some(counted) = counted {
        ui.set_total(counted.items);
        let _ = context.total_lines.set(counted.lines);
    }
    announce(&args, &ui, &connected, &input, counted);
    let refresher = {
        let (ui, ledger) = (ui.clone(), ledger.clone());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(ui::REFRESH_EVERY);
            loop {
                every.tick().await;
                ui.refresh(&ledger.snapshot());
            }
        })
    };

    let ran = import::run(
        &connected,
        input,
        &args.import,
        args.dry_run,
        &ledger,
        &ui,
        &cancel,
    )
    .await;
    let s = match ran {
        Ok(s) => s,
        Err(e) => {
            refresher.abort();
            return refused(&context, context.summary(&ledger.snapshot()), &e);
        }
    };
    let snapshot = ledger.snapshot();
    let mut summary = context.summary(&snapshot);
    take_library_totals(&mut summary, &s);
    if summary.error.is_none() {
        summary.error.clone_from(&snapshot.stop_error);
    }
    if let Some(error) = s.prune_refused.as_ref() {
        ui.warn(format_args!("--prune: nothing was pruned: {error}"));
    }
    let counts = &snapshot.counts;
    let exit_ok = s.all_done()
        && counts.malformed == 0
        && counts.invalid == 0
        && summary.input_error.is_none();
    refresher.abort();
    if let Some(report) = ledger.report()
        && let Err(e) = report.finish()
    {
        ui.warn(format_args!("error: {e}"));
        summary.report_error = Some(e);
    }
    let report_ok = summary.report_error.is_none();
    let snapshot = ledger.snapshot();
    ui.refresh(&snapshot);
    context.close(summary, &snapshot);
    if exit_ok && report_ok { 0 } else { 1 }
}

/// The library's totals are the reference; the ledger adds the lines it never saw
/// (malformed, and in a dry run those whose slug's format is refused).
fn take_library_totals(summary: &mut Summary, s: &BulkSummary) {
    summary.created = s.created;
    summary.settled = s.settled;
    summary.skipped = s.skipped;
    summary.updated = s.updated;
    summary.unchanged = s.unchanged;
    summary.not_live = s.not_live;
    summary.failed = s.failed;
    summary.duplicates = s.duplicates;
    summary.invalid = summary.invalid.max(s.invalid);
    summary.unknown = s.unknown;
    summary.not_attempted = s.not_attempted;
    summary.renamed = s.renamed;
    summary.pruned = s.pruned;
    summary.prune_failed = s.prune_failed;
    summary.prune_refused.clone_from(&s.prune_refused);
    summary.unmatched = s.unmatched;
    summary.requests = s.requests;
    summary.create_requests = s.create_requests;
    summary.update_requests = s.update_requests;
    summary.prune_requests = s.prune_requests;
    summary.list_requests = s.list_requests;
    summary.throttled = s.throttled;
    summary.total = s.total;
    if summary.dry_run {
        summary.would_create = Some(s.would_create);
        summary.would_update = Some(s.would_update);
        summary.would_prune = Some(s.would_prune);
    }
    summary.end = ui::end_name(s.end);
}

/// A configuration error found once the run was set up (a bad collection id): exit code 2,
/// with the run's flags in the summary.
fn refused(context: &Context, mut summary: Summary, error: &Error) -> u8 {
    context.ui.finish();
    context.ui.warn(format_args!("error: {error}"));
    summary.requests = 0;
    summary.list_requests = 0;
    summary.create_requests = 0;
    summary.end = "not_started";
    summary.elapsed_seconds = seconds(context.started);
    summary.error = Some(error.to_string());
    summary.print();
    EXIT_USAGE
}

/// The lines that open the run: where items go, what is read, and how many items to expect.
fn announce(
    args: &Args,
    ui: &Ui,
    connected: &Connected,
    input: &Input,
    counted: Option<input::LineCount>,
) {
    let source = if input.is_stdin() {
        "standard input".to_owned()
    } else {
        args.input.display().to_string()
    };
    let source = match counted {
        Some(counted) => format!("{source} ({})", summary::counted(counted.items, "item")),
        None => source,
    };
    if input.is_stdin() && std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        let end = if cfg!(windows) {
            "Ctrl-Z, Enter"
        } else {
            "Ctrl-D"
        };
        ui.warn(format_args!(
            "reading NDJSON from the terminal (one item per line); end with {end}"
        ));
    }
    if let Some(mock) = &connected.mock {
        let kept = match &args.mock.mock_state {
            Some(state) => format!(
                "; its collections are kept in {} between runs",
                state.display()
            ),
            None => "; it starts empty and forgets everything when the run ends (--mock-state \
                     FILE keeps it)"
                .to_owned(),
        };
        ui.say(format_args!(
            "--mock: using a local mock Webflow at {}; nothing reaches Webflow{kept}",
            mock.base_url()
        ));
        for ignored in [TOKEN_ENV, COLLECTION_ENV, BASE_URL_ENV] {
            if std::env::var_os(ignored).is_some() {
                ui.say(format_args!("{ignored} is ignored with --mock"));
            }
        }
    }
    let verb = match (
        args.dry_run,
        args.import.update || args.import.prune.is_some(),
    ) {
        (true, _) => "dry run: checking",
        (false, true) => "syncing",
        (false, false) => "importing",
    };
    ui.say(format_args!(
        "{verb} {source} into collection {} at {}{}",
        connected.collection,
        connected.client.base_url(),
        if args.dry_run {
            "; nothing is written"
        } else {
            ""
        }
    ));
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
