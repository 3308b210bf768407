//! The run's ledger: what every input line came to so far — the counts, the items handed
//! to the library whose outcome has not arrived, how far the input was read — and the
//! report line and stderr notice that say so, written as each outcome arrives.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use webflow_api::{BulkEvent, ItemOutcome, ItemResult};

use crate::input::Malformed;
use crate::lock;
use crate::report::{Entry, Report};
use crate::ui::Ui;

/// Line problems (malformed, invalid, failed, unknown, renamed) printed on stderr; the rest
/// are only in the report.
const PRINTED_PROBLEMS: u64 = 10;

/// How many lines came to what.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub created: u64,
    pub settled: u64,
    pub skipped: u64,
    pub failed: u64,
    pub unknown: u64,
    pub not_attempted: u64,
    pub renamed: u64,
    pub malformed: u64,
    /// `--dry-run`.
    pub would_create: u64,
    pub would_skip: u64,
    pub invalid: u64,
    /// Outcomes of a newer library this command has no name for, by the name the report
    /// gives them.
    pub other: BTreeMap<String, u64>,
}

impl Counts {
    /// Non-blank lines that came to something (each comes to exactly one thing).
    pub fn done(&self) -> u64 {
        [
            self.created,
            self.skipped,
            self.failed,
            self.unknown,
            self.not_attempted,
            self.malformed,
            self.would_create,
            self.would_skip,
            self.invalid,
        ]
        .into_iter()
        .chain(self.other.values().copied())
        .fold(0, u64::saturating_add)
    }
}

/// Requests sent so far, as the import's events told.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Requests {
    pub requests: u64,
    pub list_requests: u64,
    pub throttled: u64,
}

/// What the ledger holds at one moment.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub counts: Counts,
    pub requests: Requests,
    /// Items handed to the library whose outcome has not arrived.
    pub in_flight: u64,
    /// Items handed to the library.
    pub handed: u64,
    /// The last input line read.
    pub lines_read: u64,
    /// The whole input was read.
    pub input_exhausted: bool,
    /// Reading the input failed.
    pub input_error: Option<String>,
}

/// The ledger, shared by the input side, the outcome side, the progress and the signal
/// handler. Its lock is never held across an `.await`.
pub struct Ledger {
    state: Mutex<State>,
    report: Option<Report>,
    ui: Arc<Ui>,
}

struct State {
    /// The input line and slug of each item handed to the library whose outcome has not
    /// arrived yet: outcomes arrive out of order, and this holds only the items in flight.
    in_flight: HashMap<u64, (u64, String)>,
    next_index: u64,
    counts: Counts,
    requests: Requests,
    lines_read: u64,
    input_exhausted: bool,
    input_error: Option<String>,
    printed: u64,
    /// The run is over (a second signal): nothing more is written.
    closed: bool,
}

impl Ledger {
    pub fn new(report: Option<Report>, ui: Arc<Ui>) -> Ledger {
        Ledger {
            state: Mutex::new(State {
                in_flight: HashMap::new(),
                next_index: 0,
                counts: Counts::default(),
                requests: Requests::default(),
                lines_read: 0,
                input_exhausted: false,
                input_error: None,
                printed: 0,
                closed: false,
            }),
            report,
            ui,
        }
    }

    pub fn report(&self) -> Option<&Report> {
        self.report.as_ref()
    }

    /// The input was read up to line `lines_read`; `exhausted`: to its end.
    pub fn read_to(&self, lines_read: u64, exhausted: bool) {
        let mut state = lock(&self.state);
        state.lines_read = lines_read;
        state.input_exhausted = exhausted;
    }

    /// Reading the input failed after line `lines_read`: the rest is not read.
    pub fn input_failed(&self, error: &std::io::Error) {
        let mut state = lock(&self.state);
        let message = format!(
            "reading the input failed at line {}: {error}",
            state.lines_read.saturating_add(1)
        );
        self.ui
            .warn(format_args!("error: {message}; the rest is not read"));
        state.input_error = Some(message);
    }

    /// An item of line `line` was handed to the library (its index is the next one).
    pub fn handed(&self, line: u64, slug: &str) {
        let mut state = lock(&self.state);
        let index = state.next_index;
        state.in_flight.insert(index, (line, slug.to_owned()));
        state.next_index = index.saturating_add(1);
    }

    /// Line `line` is not an item.
    pub fn malformed(&self, line: u64, malformed: &Malformed) {
        let mut state = lock(&self.state);
        if state.closed {
            return;
        }
        state.counts.malformed = state.counts.malformed.saturating_add(1);
        self.problem(
            &mut state,
            format_args!("line {line}: malformed: {}", malformed.error),
        );
        self.write(&Entry {
            line: Some(line),
            slug: malformed.slug.as_deref(),
            outcome: "malformed",
            id: None,
            stored_slug: None,
            error: Some(&malformed.error),
        });
    }

    /// A dry run's verdict on line `line`: `would_create`, `would_skip` (with the existing
    /// item's id) or `invalid` (with why).
    pub fn checked(&self, line: u64, slug: &str, verdict: Verdict<'_>) {
        let mut state = lock(&self.state);
        if state.closed {
            return;
        }
        let (outcome, id, error) = match verdict {
            Verdict::WouldCreate => {
                state.counts.would_create = state.counts.would_create.saturating_add(1);
                ("would_create", None, None)
            }
            Verdict::WouldSkip { id } => {
                state.counts.would_skip = state.counts.would_skip.saturating_add(1);
                ("would_skip", Some(id), None)
            }
            Verdict::Invalid { error } => {
                state.counts.invalid = state.counts.invalid.saturating_add(1);
                self.problem(&mut state, format_args!("line {line}: invalid: {error}"));
                ("invalid", None, Some(error))
            }
        };
        self.write(&Entry {
            line: Some(line),
            slug: Some(slug),
            outcome,
            id,
            stored_slug: None,
            error,
        });
    }

    /// An item's outcome arrived from the library.
    pub fn outcome(&self, outcome: &ItemOutcome) {
        let mut state = lock(&self.state);
        if state.closed {
            return;
        }
        let line = state.in_flight.remove(&outcome.index).map(|(line, _)| line);
        let described = Described::of(&outcome.result);
        let counts = &mut state.counts;
        match &outcome.result {
            ItemResult::Created {
                settled,
                stored_slug,
                ..
            } => {
                counts.created = counts.created.saturating_add(1);
                if *settled {
                    counts.settled = counts.settled.saturating_add(1);
                }
                if stored_slug.is_some() {
                    counts.renamed = counts.renamed.saturating_add(1);
                }
            }
            ItemResult::Skipped { .. } => counts.skipped = counts.skipped.saturating_add(1),
            ItemResult::Failed { .. } => counts.failed = counts.failed.saturating_add(1),
            ItemResult::Unknown { .. } => counts.unknown = counts.unknown.saturating_add(1),
            ItemResult::NotAttempted => {
                counts.not_attempted = counts.not_attempted.saturating_add(1);
            }
            _ => {
                let count = counts.other.entry(described.outcome.clone()).or_default();
                *count = count.saturating_add(1);
            }
        }
        let line_text = line.map_or_else(|| "?".to_owned(), |n| n.to_string());
        match (&described.error, &described.stored_slug) {
            (Some(error), _) => self.problem(
                &mut state,
                format_args!(
                    "line {line_text} ({}): {}: {error}",
                    outcome.slug, described.outcome
                ),
            ),
            (None, Some(stored)) => self.problem(
                &mut state,
                format_args!(
                    "line {line_text} ({}): created under the slug {stored} (an item with the \
                     slug existed)",
                    outcome.slug
                ),
            ),
            (None, None) => {}
        }
        self.write(&Entry {
            line,
            slug: Some(&outcome.slug),
            outcome: &described.outcome,
            id: described.id,
            stored_slug: described.stored_slug,
            error: described.error.as_deref(),
        });
    }

    /// Notes the requests an import event tells of.
    pub fn event(&self, event: &BulkEvent) {
        let mut state = lock(&self.state);
        let requests = &mut state.requests;
        match event {
            BulkEvent::Progress(progress) => {
                requests.requests = progress.requests;
                requests.throttled = progress.throttled;
            }
            BulkEvent::Indexed { list_requests, .. } | BulkEvent::Settled { list_requests, .. } => {
                requests.list_requests = requests.list_requests.saturating_add(*list_requests);
            }
            _ => {}
        }
    }

    /// A dry run listed the collection with `requests` requests.
    pub fn listed(&self, requests: u64) {
        let mut state = lock(&self.state);
        state.requests.list_requests = state.requests.list_requests.saturating_add(requests);
        state.requests.requests = state.requests.requests.saturating_add(requests);
    }

    pub fn snapshot(&self) -> Snapshot {
        let state = lock(&self.state);
        snapshot_of(&state)
    }

    /// A second signal: every item handed to the library whose outcome has not arrived is
    /// reported `unknown` (its request may have created it), and nothing is written after.
    /// Returns the final snapshot.
    pub fn abandon_in_flight(&self) -> Snapshot {
        let mut state = lock(&self.state);
        if !state.closed {
            state.closed = true;
            let mut in_flight: Vec<(u64, String)> =
                state.in_flight.drain().map(|(_, v)| v).collect();
            in_flight.sort_unstable_by_key(|(line, _)| *line);
            let error = "the command exited on a second signal before this item's outcome \
                         was known: it may have been created (run again with --resume)";
            for (line, slug) in &in_flight {
                self.write(&Entry {
                    line: Some(*line),
                    slug: Some(slug),
                    outcome: "unknown",
                    id: None,
                    stored_slug: None,
                    error: Some(error),
                });
            }
            state.counts.unknown = state.counts.unknown.saturating_add(in_flight.len() as u64);
        }
        snapshot_of(&state)
    }

    fn write(&self, entry: &Entry<'_>) {
        if let Some(report) = &self.report {
            report.write(entry);
        }
    }

    /// A line's problem on stderr, the first [`PRINTED_PROBLEMS`] of them.
    fn problem(&self, state: &mut State, notice: std::fmt::Arguments<'_>) {
        state.printed = state.printed.saturating_add(1);
        if state.printed <= PRINTED_PROBLEMS {
            self.ui.warn(notice);
        } else if state.printed == PRINTED_PROBLEMS.saturating_add(1) {
            match &self.report {
                Some(report) => self.ui.warn(format_args!(
                    "further problems are not printed: the report {} lists every line",
                    report.path()
                )),
                None => self
                    .ui
                    .warn("further problems are not printed: --report FILE lists every line"),
            }
        }
    }
}

fn snapshot_of(state: &State) -> Snapshot {
    Snapshot {
        counts: state.counts.clone(),
        requests: state.requests,
        in_flight: state.in_flight.len() as u64,
        handed: state.next_index,
        lines_read: state.lines_read,
        input_exhausted: state.input_exhausted,
        input_error: state.input_error.clone(),
    }
}

/// A dry run's verdict on a line.
pub enum Verdict<'a> {
    WouldCreate,
    WouldSkip { id: &'a str },
    Invalid { error: &'a str },
}

/// An outcome as the report writes it.
struct Described<'a> {
    outcome: String,
    id: Option<&'a str>,
    stored_slug: Option<&'a str>,
    error: Option<String>,
}

impl<'a> Described<'a> {
    fn of(result: &'a ItemResult) -> Described<'a> {
        let (outcome, id, stored_slug, error) = match result {
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
            ItemResult::Failed { error, .. } => ("failed", None, None, Some(error.to_string())),
            ItemResult::Unknown { error, .. } => ("unknown", None, None, Some(error.to_string())),
            ItemResult::NotAttempted => ("not_attempted", None, None, None),
            other => {
                // A newer library's outcome (the enum is non-exhaustive): named after its
                // variant, `Updated { .. }` → `updated`.
                return Described {
                    outcome: variant_name(other),
                    id: None,
                    stored_slug: None,
                    error: None,
                };
            }
        };
        Described {
            outcome: outcome.to_owned(),
            id,
            stored_slug,
            error,
        }
    }
}

/// The snake_case name of an enum value's variant, from its `Debug` form.
fn variant_name(value: &impl std::fmt::Debug) -> String {
    let debug = format!("{value:?}");
    let name: String = debug
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    let mut snake = String::with_capacity(name.len() + 4);
    for (at, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if at > 0 {
                snake.push('_');
            }
            snake.push(c.to_ascii_lowercase());
        } else {
            snake.push(c);
        }
    }
    if snake.is_empty() {
        "other".to_owned()
    } else {
        snake
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_names_for_outcomes_this_command_does_not_know() {
        #[derive(Debug)]
        #[allow(dead_code)]
        enum Newer {
            Updated { id: String },
            Unchanged,
            NotAttempted,
        }
        assert_eq!(variant_name(&Newer::Updated { id: "x".into() }), "updated");
        assert_eq!(variant_name(&Newer::Unchanged), "unchanged");
        assert_eq!(variant_name(&Newer::NotAttempted), "not_attempted");
    }
}
