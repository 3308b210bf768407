//! The import: input lines streamed into `bulk_create_live(..).run_stream_with(..)`, each
//! outcome written to the report as it arrives.

use std::collections::HashMap;
use std::sync::Mutex;

use futures_util::stream;
use webflow_api::{BulkSummary, CancellationToken, Client, Error, ItemOutcome, ItemResult, Settle};

use crate::input::{self, Input};
use crate::lock;
use crate::report::{self, Report};
use crate::ui::Ui;

/// How the import runs: `webflow-import`'s options, parsed by clap and used as they are.
#[derive(clap::Args, Debug)]
pub struct ImportOptions {
    /// Skip items whose slug already exists in the collection (lists it first), so an
    /// interrupted import can be run again from the start
    #[arg(long)]
    pub resume: bool,

    /// Do not look up items whose create answer was lost: report them as unknown
    #[arg(long)]
    pub no_settle: bool,

    /// Split a request refused for invalid items in halves until only the bad items fail
    #[arg(long)]
    pub bisect: bool,
}

/// Item failures printed on stderr before the rest go only to the report.
const PRINTED_FAILURES: u64 = 10;

/// What a run ended with.
pub struct Ran {
    pub summary: BulkSummary,
    pub malformed: u64,
    pub input_error: Option<String>,
    /// The last input line read (cancelled or stopped runs leave the rest unread).
    pub lines_read: u64,
}

/// What the input side and the outcome side share. Both run on the import's task; the
/// mutex is never held across an `.await`.
struct Tracker<'a> {
    /// The input line of each item handed to the importer whose outcome has not arrived
    /// yet: outcomes arrive out of order, and this holds only the items in flight.
    lines: HashMap<u64, u64>,
    next_index: u64,
    malformed: u64,
    input_error: Option<String>,
    lines_read: u64,
    printed: u64,
    report: Option<&'a Report>,
}

impl Tracker<'_> {
    fn pulled(&mut self, line: u64) {
        self.lines.insert(self.next_index, line);
        self.next_index = self.next_index.saturating_add(1);
    }

    fn malformed(&mut self, line: u64, malformed: &input::Malformed, ui: &Ui) {
        self.malformed = self.malformed.saturating_add(1);
        report::malformed(self.report, ui, line, malformed);
    }

    fn outcome(&mut self, outcome: ItemOutcome, ui: &Ui) {
        let line = self.lines.remove(&outcome.index);
        let error_text;
        let (kind, id, stored_slug, error) = match &outcome.result {
            ItemResult::Created {
                id,
                settled,
                stored_slug,
                ..
            } => (
                if *settled { "settled" } else { "created" },
                Some(id.as_str()),
                stored_slug.as_deref(),
                None,
            ),
            ItemResult::Skipped { id, .. } => ("skipped", Some(id.as_str()), None, None),
            ItemResult::Failed { error, .. } => {
                error_text = error.to_string();
                ("failed", None, None, Some(error_text.as_str()))
            }
            ItemResult::Unknown { error, .. } => {
                error_text = error.to_string();
                ("unknown", None, None, Some(error_text.as_str()))
            }
            ItemResult::NotAttempted => ("not_attempted", None, None, None),
            _ => (
                "unknown",
                None,
                None,
                Some("an outcome this command does not know"),
            ),
        };
        let line_text = line.map_or_else(|| "?".to_owned(), |n| n.to_string());
        let notice = match (kind, error, stored_slug) {
            ("failed" | "unknown", Some(error), _) => Some(format!(
                "line {line_text} ({}): {kind}: {error}",
                outcome.slug
            )),
            (_, _, Some(stored)) => Some(format!(
                "line {line_text} ({}): created under the slug {stored} (an item with the slug existed)",
                outcome.slug
            )),
            _ => None,
        };
        if let Some(notice) = notice {
            self.printed = self.printed.saturating_add(1);
            if self.printed <= PRINTED_FAILURES {
                ui.say(notice);
            } else if self.printed == PRINTED_FAILURES.saturating_add(1) {
                ui.say("further failures are not printed: --report FILE lists every line");
            }
        }
        report::write(
            self.report,
            &report::Entry {
                line,
                slug: Some(&outcome.slug),
                outcome: kind,
                id,
                stored_slug,
                error,
            },
        );
    }
}

/// Imports every line of `input` into `collection`.
pub async fn run(
    client: &Client,
    collection: &str,
    mut input: Input,
    options: &ImportOptions,
    report: Option<&Report>,
    ui: &Ui,
    cancel: &CancellationToken,
) -> Result<Ran, Error> {
    let tracker = Mutex::new(Tracker {
        lines: HashMap::new(),
        next_index: 0,
        malformed: 0,
        input_error: None,
        lines_read: 0,
        printed: 0,
        report,
    });
    let shared = &tracker;
    let items = stream::unfold(&mut input, move |input| async move {
        loop {
            let next = input.next().await;
            let mut tracker = lock(shared);
            tracker.lines_read = input.lines_read();
            match next {
                Ok(Some(raw)) => match input::parse(&raw, &input.path) {
                    Ok(item) => {
                        tracker.pulled(raw.number);
                        return Some((item, input));
                    }
                    Err(malformed) => tracker.malformed(raw.number, &malformed, ui),
                },
                Ok(None) => return None,
                Err(e) => {
                    let line = input.lines_read().saturating_add(1);
                    let message = format!("reading the input failed at line {line}: {e}");
                    ui.say(format_args!("error: {message}; the rest is not read"));
                    tracker.input_error = Some(message);
                    return None;
                }
            }
        }
    });
    let summary = client
        .bulk_create_live(collection)
        .skip_existing(options.resume)
        .settle(if options.no_settle {
            Settle::off()
        } else {
            Settle::default()
        })
        .bisect_invalid(options.bisect)
        .cancel_token(cancel.clone())
        .on_progress(|event| ui.event(event))
        .run_stream_with(items, |outcome| lock(shared).outcome(outcome, ui))
        .await?;
    let tracker = tracker.into_inner().unwrap_or_else(|e| e.into_inner());
    Ok(Ran {
        summary,
        malformed: tracker.malformed,
        input_error: tracker.input_error,
        lines_read: tracker.lines_read,
    })
}
