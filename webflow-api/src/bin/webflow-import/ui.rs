//! What the command tells a person on stderr, at the verbosity asked for: the progress in
//! items (a bar on a terminal, never wider than it; periodic lines otherwise), notices,
//! waits and what they wait for, the library's log with `-v`; only errors and the closing
//! line with `-q`. Stdout is only for the summary. Writing to stderr never panics (a
//! terminal gone after SIGHUP).

use std::fmt::Display;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressStyle};
use webflow_api::{BulkEvent, ImportEnd};

use crate::ledger::Snapshot;
use crate::lock;
use crate::summary::human_duration;

/// Without a terminal, a progress line at most this often (plus one at the start and the
/// closing line at the end).
const PLAIN_EVERY: Duration = Duration::from_secs(10);
/// How often the progress is refreshed from the ledger.
pub const REFRESH_EVERY: Duration = Duration::from_millis(250);
/// Waits at least this long are announced on a line of their own.
const LONG_WAIT: Duration = Duration::from_secs(5);

/// The bar with a known total: two lines, each never wider than the terminal — the bar
/// takes what the first line leaves, and the second line (the message) is cut to fit.
pub const TEMPLATE_TOTAL: &str =
    "{spinner} {elapsed_precise} [{wide_bar}] {percent:>3}%\n{wide_msg}";
/// Without a total (standard input): one line, the message cut to fit.
pub const TEMPLATE_NO_TOTAL: &str = "{spinner} {elapsed_precise} {wide_msg}";

/// How much the command says on stderr.
#[derive(clap::Args, Debug, Default)]
pub struct OutputOptions {
    /// Show the library's log on stderr (-v: each HTTP request with its status and
    /// duration; -vv: also rate-limit waits and retry decisions); progress goes on lines
    #[arg(short, long, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Print only errors and the closing line on stderr
    #[arg(short, long)]
    pub quiet: bool,
}

pub struct Ui {
    quiet: bool,
    /// The bar on a terminal; a hidden one otherwise (it still measures the rate).
    meter: ProgressBar,
    on_terminal: bool,
    state: Mutex<State>,
}

struct State {
    /// The wait under way, until when (real time), and what for.
    wait: Option<(Instant, &'static str)>,
    /// Plain mode: when the last progress line was printed.
    last_line: Instant,
    /// `importing` or `checking`.
    verb: &'static str,
    /// The option the collection is listed for, and whether the lines are compared with
    /// its items (`--update`) or skipped when it holds their slugs (`--resume`, `--prune`
    /// alone).
    index_use: (&'static str, bool),
    finished: bool,
}

impl Ui {
    /// A bar when stderr is a terminal (and neither `-q` nor `-v`), plain lines otherwise.
    pub fn new(options: &OutputOptions) -> Ui {
        let on_terminal = std::io::stderr().is_terminal() && !options.quiet && options.verbose == 0;
        let meter = if on_terminal {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(style(None));
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        } else {
            ProgressBar::hidden()
        };
        Ui {
            quiet: options.quiet,
            meter,
            on_terminal,
            state: Mutex::new(State {
                wait: None,
                last_line: Instant::now(),
                verb: "importing",
                index_use: ("--resume", false),
                finished: false,
            }),
        }
    }

    /// The items to expect (a file's non-blank lines).
    pub fn set_total(&self, items: u64) {
        self.meter.set_length(items);
        if self.on_terminal {
            self.meter.set_style(style(Some(items)));
        }
    }

    /// `checking` for a dry run.
    pub fn set_verb(&self, verb: &'static str) {
        lock(&self.state).verb = verb;
    }

    /// What the listing of the collection is for: `option` names it, `compares` says
    /// whether the lines are compared with its items (else they are skipped).
    pub fn set_index_use(&self, option: &'static str, compares: bool) {
        lock(&self.state).index_use = (option, compares);
    }

    /// A notice (not with `-q`).
    pub fn say(&self, message: impl Display) {
        if !self.quiet {
            self.print(message);
        }
    }

    /// An error or a warning: always shown.
    pub fn warn(&self, message: impl Display) {
        self.print(message);
    }

    fn print(&self, message: impl Display) {
        let write = || {
            let _ = writeln!(std::io::stderr().lock(), "{message}");
        };
        if self.on_terminal {
            self.meter.suspend(write);
        } else {
            write();
        }
    }

    /// Shows an import event (progress itself comes from the ledger, see [`refresh`]).
    ///
    /// [`refresh`]: Self::refresh
    pub fn event(&self, event: &BulkEvent) {
        match event {
            BulkEvent::Waiting { wait, reason, .. } => {
                let what = reason.describe();
                // On the mock's manual clock waits take no real time: the next event
                // clears it.
                lock(&self.state).wait = Some((Instant::now() + *wait, what));
                if *wait >= LONG_WAIT && !self.on_terminal {
                    self.say(format_args!(
                        "waiting {}: {what}",
                        human_duration(wait.as_secs_f64())
                    ));
                }
            }
            BulkEvent::Settling { items } => self.say(format_args!(
                "settling: looking up {items} items whose create answer was lost"
            )),
            BulkEvent::Settled {
                found,
                absent,
                unknown,
                list_requests,
                ..
            } => self.say(format_args!(
                "settled: {found} found (created), {absent} absent (sent again), {unknown} still \
                 unknown (list requests: {list_requests})"
            )),
            BulkEvent::Indexed {
                items,
                list_requests,
                ..
            } => {
                let (option, compares) = lock(&self.state).index_use;
                let use_of = if compares {
                    "each line is compared with the item that has its slug"
                } else {
                    "items with their slugs are skipped"
                };
                self.say(format_args!(
                    "{option}: the collection holds {} items (list requests: {list_requests}); \
                     {use_of}",
                    HumanCount(*items)
                ));
            }
            BulkEvent::Stopped { error, .. } => self.warn(format_args!(
                "stopping: {error}; every later request would fail the same way, so no more are \
                 sent"
            )),
            _ => {}
        }
        if !matches!(event, BulkEvent::Waiting { .. }) {
            lock(&self.state).wait = None;
        }
    }

    /// Brings the progress up to date with the ledger: the bar's position and message, or
    /// without a terminal a progress line every [`PLAIN_EVERY`].
    pub fn refresh(&self, snapshot: &Snapshot) {
        let done = snapshot.counts.done();
        self.meter.set_position(done);
        let mut state = lock(&self.state);
        if state.finished {
            return;
        }
        if let Some((until, _)) = state.wait
            && Instant::now() >= until
        {
            state.wait = None;
        }
        let text = progress_text(
            snapshot,
            self.meter.length(),
            self.meter.per_sec(),
            state
                .wait
                .map(|(until, what)| (until.saturating_duration_since(Instant::now()), what)),
        );
        if self.on_terminal {
            self.meter.set_message(text);
        } else if state.last_line.elapsed() >= PLAIN_EVERY {
            state.last_line = Instant::now();
            let verb = state.verb;
            drop(state);
            self.say(format_args!("progress: {verb} {text}"));
        }
    }

    /// Removes the bar (before the closing line and the summary, or before exiting).
    pub fn finish(&self) {
        lock(&self.state).finished = true;
        if self.on_terminal {
            self.meter.finish_and_clear();
        }
    }

    /// The closing line: always shown, after the bar is gone.
    pub fn close(&self, line: &str) {
        self.finish();
        self.print(line);
    }
}

/// The bar's style for a total (`None`: unknown).
pub fn style(total: Option<u64>) -> ProgressStyle {
    let template = if total.is_some() {
        TEMPLATE_TOTAL
    } else {
        TEMPLATE_NO_TOTAL
    };
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .progress_chars("=> ")
}

/// `1,234/10,000 items (12%), 95.2/s, ETA 1m 32s: 1,200 created, 0 skipped, 34 failed, 0
/// unknown, 1 malformed; waiting 12s: rate limit`.
pub fn progress_text(
    snapshot: &Snapshot,
    total: Option<u64>,
    per_second: f64,
    wait: Option<(Duration, &str)>,
) -> String {
    let counts = &snapshot.counts;
    let done = counts.done();
    let mut text = match total {
        Some(total) if total > 0 => {
            let percent = (done as f64 / total as f64 * 100.0).floor().min(100.0);
            format!(
                "{}/{} items ({percent:.0}%)",
                HumanCount(done),
                HumanCount(total)
            )
        }
        _ => format!("{} items", HumanCount(done)),
    };
    if per_second.is_finite() && per_second > 0.0 && done > 0 {
        text.push_str(&format!(", {per_second:.1}/s"));
        if let Some(total) = total
            && total > done
        {
            let eta = (total - done) as f64 / per_second;
            text.push_str(&format!(", ETA {}", human_duration(eta)));
        }
    }
    let mut parts = Vec::new();
    let mut show = |count: u64, what: &str, always: bool| {
        if always || count > 0 {
            parts.push(format!("{} {what}", HumanCount(count)));
        }
    };
    if counts.would_create + counts.would_update > 0 {
        show(counts.would_create, "would be created", true);
        show(counts.would_update, "would be updated", true);
        show(counts.unchanged, "unchanged", false);
        show(counts.skipped, "would be skipped", false);
    } else {
        show(counts.created, "created", true);
        show(counts.updated, "updated", counts.unchanged > 0);
        show(counts.unchanged, "unchanged", false);
        show(counts.skipped, "skipped", true);
        show(counts.failed, "failed", true);
        show(counts.unknown, "unknown", true);
    }
    show(counts.invalid, "invalid", false);
    if counts.malformed > 0 {
        parts.push(format!("{} malformed", HumanCount(counts.malformed)));
    }
    text.push_str(": ");
    text.push_str(&parts.join(", "));
    if let Some((left, what)) = wait
        && !left.is_zero()
    {
        text.push_str(&format!(
            "; waiting {}: {what}",
            human_duration(left.as_secs_f64())
        ));
    }
    text
}

/// The summary's name for how an import ended.
pub fn end_name(end: ImportEnd) -> &'static str {
    match end {
        ImportEnd::InputExhausted => "input_exhausted",
        ImportEnd::Cancelled => "cancelled",
        _ => "stopped",
    }
}

/// With `-v`, the library's `tracing` output on stderr: each request's span when it closes
/// (operation, attempt, status, duration, remaining rate limit, error) and INFO events;
/// with `-vv`, DEBUG events too. Never the token: the library records none.
pub fn init_log(verbose: u8) {
    use tracing_subscriber::filter::LevelFilter;
    use tracing_subscriber::fmt::format::FmtSpan;
    if verbose == 0 {
        return;
    }
    let level = match verbose {
        1 => LevelFilter::INFO,
        2 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_span_events(FmtSpan::CLOSE)
        .with_writer(std::io::stderr)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Counts;
    use indicatif::TermLike;
    use std::sync::Arc;

    /// A terminal of a given width that keeps what is drawn.
    #[derive(Debug, Clone)]
    struct Terminal {
        width: u16,
        lines: Arc<Mutex<Vec<String>>>,
    }

    impl TermLike for Terminal {
        fn width(&self) -> u16 {
            self.width
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, line: &str) -> std::io::Result<()> {
            lock(&self.lines).push(line.to_owned());
            Ok(())
        }
        fn write_str(&self, text: &str) -> std::io::Result<()> {
            lock(&self.lines).push(text.to_owned());
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn busy_snapshot() -> Snapshot {
        Snapshot {
            counts: Counts {
                created: 1_234_000,
                skipped: 20_000,
                failed: 3_456,
                unknown: 100,
                malformed: 12,
                ..Counts::default()
            },
            ..Snapshot::default()
        }
    }

    /// Draws `style` at `width` columns and returns the lines drawn.
    fn draw(style: ProgressStyle, width: u16, total: Option<u64>, message: String) -> Vec<String> {
        let terminal = Terminal {
            width,
            lines: Arc::default(),
        };
        let bar = ProgressBar::with_draw_target(
            total,
            ProgressDrawTarget::term_like(Box::new(terminal.clone())),
        );
        bar.set_style(style);
        bar.set_position(1_257_568);
        bar.set_message(message);
        bar.force_draw();
        let lines = lock(&terminal.lines).clone();
        lines
            .iter()
            .flat_map(|text| text.split('\n'))
            .map(str::to_owned)
            .filter(|line| !line.is_empty())
            .collect()
    }

    #[test]
    fn the_bar_is_never_wider_than_the_terminal() {
        let snapshot = busy_snapshot();
        for total in [Some(2_000_000), None] {
            let message = progress_text(
                &snapshot,
                total,
                1234.5,
                Some((Duration::from_secs(42), "Webflow asked to wait (429)")),
            );
            for width in [80, 60, 40] {
                let lines = draw(style(total), width, total, message.clone());
                assert!(!lines.is_empty());
                for line in &lines {
                    assert!(
                        line.chars().count() <= usize::from(width),
                        "{} columns at {width}: {line:?}",
                        line.chars().count()
                    );
                }
            }
        }
        // The bar shows items, a rate and an ETA.
        let message = progress_text(&snapshot, Some(2_000_000), 1234.5, None);
        assert!(
            message.starts_with(
                "1,257,568/2,000,000 items (62%), 1234.5/s, ETA 10m 01s: 1,234,000 created"
            ),
            "{message}"
        );
    }

    #[test]
    fn waits_say_what_they_wait_for() {
        let message = progress_text(
            &Snapshot::default(),
            None,
            0.0,
            Some((
                Duration::from_secs(42),
                webflow_api::WaitReason::RateLimit.describe(),
            )),
        );
        assert!(message.ends_with("waiting 42s: rate limit"), "{message}");
    }
}
