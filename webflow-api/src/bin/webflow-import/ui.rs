//! What the command tells a person on stderr: a progress bar when stderr is a terminal,
//! plain lines otherwise (logs, CI). Stdout is only for the summary.

use std::fmt::Display;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use webflow_api::{BulkEvent, BulkProgress};

/// Plain mode prints a progress line each time this many more items are done.
const PLAIN_EVERY: u64 = 1000;
/// Waits at least this long are announced.
const LONG_WAIT: Duration = Duration::from_secs(5);

pub struct Ui {
    bar: Option<ProgressBar>,
    /// Bytes of input read, for the bar when the input size is known.
    sized: bool,
    /// Plain mode: `done` at the last progress line.
    last_plain: AtomicU64,
}

impl Ui {
    /// A bar on stderr when stderr is a terminal (sized in bytes when the input is a file of
    /// known size), plain lines otherwise.
    pub fn new(input_size: Option<u64>) -> Ui {
        let bar = std::io::stderr().is_terminal().then(|| {
            let (bar, template) = match input_size {
                Some(size) => (
                    ProgressBar::new(size),
                    "{spinner} {elapsed_precise} [{bar:30}] {bytes}/{total_bytes} read · {msg}",
                ),
                None => (
                    ProgressBar::new_spinner(),
                    "{spinner} {elapsed_precise} {msg}",
                ),
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Ui {
            sized: input_size.is_some(),
            bar,
            last_plain: AtomicU64::new(0),
        }
    }

    /// Prints a line on stderr (above the bar, which is redrawn after it).
    pub fn say(&self, message: impl Display) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{message}")),
            None => eprintln!("{message}"),
        }
    }

    /// `consumed` more bytes of input were read.
    pub fn read(&self, consumed: u64) {
        if let Some(bar) = &self.bar
            && self.sized
        {
            bar.inc(consumed);
        }
    }

    /// Sets the bar's message (no-op in plain mode).
    pub fn status(&self, message: String) {
        if let Some(bar) = &self.bar {
            bar.set_message(message);
        }
    }

    /// Shows an import event.
    pub fn event(&self, event: &BulkEvent) {
        match event {
            BulkEvent::Progress(progress) => self.progress(progress),
            BulkEvent::Waiting { wait, reason, .. } if *wait >= LONG_WAIT => {
                self.say(format!(
                    "waiting {:.0}s ({})",
                    wait.as_secs_f64(),
                    reason.describe()
                ));
            }
            BulkEvent::Settling { items } => self.say(format!(
                "settling: looking up {items} items whose create answer was lost"
            )),
            BulkEvent::Settled {
                found,
                absent,
                unknown,
                list_requests,
                ..
            } => self.say(format!(
                "settled: {found} found (created), {absent} absent (sent again), {unknown} still unknown \
                 (list requests: {list_requests})"
            )),
            BulkEvent::Indexed {
                items,
                list_requests,
                ..
            } => self.say(format!(
                "--resume: the collection holds {items} items (list requests: {list_requests}); \
                 items with their slugs are skipped"
            )),
            BulkEvent::Stopped { error, .. } => self.say(format!(
                "stopped: {error}; the rest of the input is not read"
            )),
            _ => {}
        }
    }

    fn progress(&self, p: &BulkProgress) {
        let text = format!(
            "{} done ({} created, {} skipped, {} failed, {} unknown)",
            p.done, p.created, p.skipped, p.failed, p.unknown
        );
        match &self.bar {
            Some(bar) => bar.set_message(text),
            None => {
                let last = self.last_plain.load(Ordering::Relaxed);
                if p.done / PLAIN_EVERY > last / PLAIN_EVERY {
                    self.last_plain.store(p.done, Ordering::Relaxed);
                    eprintln!("progress: {text}");
                }
            }
        }
    }

    /// Removes the bar (before the summary, or before exiting on a second Ctrl-C).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
