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
    /// Lines whose slug an earlier line has (counted in `failed` too).
    pub duplicates: u64,
    /// A sync (`--update`).
    pub updated: u64,
    pub unchanged: u64,
    pub not_live: u64,
    /// Items of the collection a prune took off the site, or failed to.
    pub pruned: u64,
    pub prune_failed: u64,
    /// `--dry-run`.
    pub would_create: u64,
    pub would_update: u64,
    pub would_prune: u64,
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
            self.updated,
            self.unchanged,
            self.not_live,
            self.would_create,
            self.would_update,
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
    /// Why the import stopped, when it did.
    pub stop_error: Option<String>,
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
    /// The input line of every item handed, as runs of consecutive lines (a new run starts
    /// after a blank or malformed line): a line named later (the first of two lines with one
    /// slug) is found without keeping one entry per line.
    lines: Vec<(u64, u64)>,
    next_index: u64,
    counts: Counts,
    requests: Requests,
    lines_read: u64,
    input_exhausted: bool,
    input_error: Option<String>,
    stop_error: Option<String>,
    /// Lines the command itself found invalid and never handed to the library (a dry run's
    /// slug check): the library's prune guard cannot see them.
    withheld: u64,
    printed: u64,
    /// The run is over (a second signal): nothing more is written.
    closed: bool,
}

impl Ledger {
    pub fn new(report: Option<Report>, ui: Arc<Ui>) -> Ledger {
        Ledger {
            state: Mutex::new(State {
                in_flight: HashMap::new(),
                withheld: 0,
                lines: Vec::new(),
                next_index: 0,
                counts: Counts::default(),
                requests: Requests::default(),
                lines_read: 0,
                input_exhausted: false,
                input_error: None,
                stop_error: None,
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
        let continues = state
            .lines
            .last()
            .is_some_and(|(first_index, first_line)| line - first_line == index - first_index);
        if !continues {
            state.lines.push((index, line));
        }
        state.next_index = index.saturating_add(1);
    }

    /// Whether a prune may run: no line was malformed (the library knows the rest).
    pub fn may_prune(&self) -> Result<(), String> {
        let state = lock(&self.state);
        if state.input_error.is_some() {
            return Err("the input could not be read to its end".to_owned());
        }
        match (state.counts.malformed, state.withheld) {
            (0, 0) => Ok(()),
            (1, _) => Err(
                "1 input line is malformed: an item the source still holds may be on it".to_owned(),
            ),
            (0, 1) => Err(
                "1 input line is invalid: an item the source still holds may be on it".to_owned(),
            ),
            (0, n) => Err(format!(
                "{n} input lines are invalid: an item the source still holds may be among them"
            )),
            (n, _) => Err(format!(
                "{n} input lines are malformed: an item the source still holds may be among them"
            )),
        }
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
            changed: None,
        });
    }

    /// Line `line` is not an item to send (a dry run's own check of its slug's format).
    pub fn invalid(&self, line: u64, slug: &str, problem: &str) {
        let mut state = lock(&self.state);
        if state.closed {
            return;
        }
        state.counts.invalid = state.counts.invalid.saturating_add(1);
        state.withheld = state.withheld.saturating_add(1);
        self.problem(&mut state, format_args!("line {line}: invalid: {problem}"));
        self.write(&Entry {
            line: Some(line),
            slug: Some(slug),
            outcome: "invalid",
            id: None,
            stored_slug: None,
            error: Some(problem),
            changed: None,
        });
    }

    /// An item's outcome arrived from the library.
    pub fn outcome(&self, outcome: &ItemOutcome) {
        let mut state = lock(&self.state);
        if state.closed {
            return;
        }
        let line = state.in_flight.remove(&outcome.index).map(|(line, _)| line);
        let first_line = match &outcome.result {
            ItemResult::Duplicate { first_index, .. } => line_of(&state.lines, *first_index),
            _ => None,
        };
        let described = Described::of(&outcome.result, first_line);
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
            ItemResult::Duplicate { .. } => {
                counts.failed = counts.failed.saturating_add(1);
                counts.duplicates = counts.duplicates.saturating_add(1);
            }
            ItemResult::Invalid { .. } => counts.invalid = counts.invalid.saturating_add(1),
            ItemResult::Updated { .. } => counts.updated = counts.updated.saturating_add(1),
            ItemResult::Unchanged { .. } => counts.unchanged = counts.unchanged.saturating_add(1),
            ItemResult::NotLive { .. } => counts.not_live = counts.not_live.saturating_add(1),
            ItemResult::WouldCreate => {
                counts.would_create = counts.would_create.saturating_add(1);
            }
            ItemResult::WouldUpdate { .. } => {
                counts.would_update = counts.would_update.saturating_add(1);
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
            changed: described.changed,
        });
    }

    /// Notes the requests an import event tells of, and writes the items of the collection
    /// a prune took off the site (or would, in a dry run), or failed to.
    pub fn event(&self, event: &BulkEvent, dry_run: bool) {
        let mut state = lock(&self.state);
        match event {
            BulkEvent::Pruned { items } if !state.closed => {
                let (outcome, count) = if dry_run {
                    ("would_prune", &mut state.counts.would_prune)
                } else {
                    ("pruned", &mut state.counts.pruned)
                };
                *count = count.saturating_add(items.len() as u64);
                for item in items {
                    self.write(&Entry {
                        line: None,
                        slug: Some(&item.slug),
                        outcome,
                        id: Some(&item.id),
                        stored_slug: None,
                        error: None,
                        changed: None,
                    });
                }
            }
            BulkEvent::Stopped { error } => {
                state.stop_error.get_or_insert_with(|| error.to_string());
            }
            BulkEvent::PruneFailed { items, error } if !state.closed => {
                state.counts.prune_failed =
                    state.counts.prune_failed.saturating_add(items.len() as u64);
                let error = error.to_string();
                for item in items {
                    self.write(&Entry {
                        line: None,
                        slug: Some(&item.slug),
                        outcome: "prune_failed",
                        id: Some(&item.id),
                        stored_slug: None,
                        error: Some(&error),
                        changed: None,
                    });
                }
            }
            _ => {}
        }
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
                    changed: None,
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

/// The input line of the item at `index`, from the runs of consecutive lines.
fn line_of(lines: &[(u64, u64)], index: u64) -> Option<u64> {
    let at = lines.partition_point(|(first_index, _)| *first_index <= index);
    let (first_index, first_line) = lines.get(at.checked_sub(1)?)?;
    Some(first_line + (index - first_index))
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
        stop_error: state.stop_error.clone(),
    }
}

/// An outcome as the report writes it.
struct Described<'a> {
    outcome: String,
    id: Option<&'a str>,
    stored_slug: Option<&'a str>,
    error: Option<String>,
    /// The fields that changed (an update), or would (a dry run's).
    changed: Option<&'a [String]>,
}

impl<'a> Described<'a> {
    fn of(result: &'a ItemResult, first_line: Option<u64>) -> Described<'a> {
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
            ItemResult::Duplicate { .. } => {
                let first = first_line.map_or_else(
                    || "an earlier line".to_owned(),
                    |line| format!("line {line}"),
                );
                let error = format!(
                    "duplicate slug: {first} has it already (a slug is unique in a collection); \
                     not sent"
                );
                ("failed", None, None, Some(error))
            }
            ItemResult::Invalid { problems, .. } => {
                let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
                ("invalid", None, None, Some(problems.join("; ")))
            }
            ItemResult::Updated { id, fields, .. } => {
                return Described {
                    outcome: "updated".to_owned(),
                    id: Some(id.as_str()),
                    stored_slug: None,
                    error: None,
                    changed: Some(fields),
                };
            }
            ItemResult::Unchanged { id, .. } => ("unchanged", Some(id.as_str()), None, None),
            ItemResult::NotLive { id, .. } => (
                "not_live",
                Some(id.as_str()),
                None,
                Some(
                    "exists but is not published (a draft or archived): left alone; \
                     update-items-live changes published items only"
                        .to_owned(),
                ),
            ),
            ItemResult::WouldCreate => ("would_create", None, None, None),
            ItemResult::WouldUpdate { id, fields, .. } => {
                return Described {
                    outcome: "would_update".to_owned(),
                    id: Some(id.as_str()),
                    stored_slug: None,
                    error: None,
                    changed: Some(fields),
                };
            }
            other => {
                // A newer library's outcome (the enum is non-exhaustive): named after its
                // variant, `Updated { .. }` → `updated`.
                return Described {
                    outcome: variant_name(other),
                    id: None,
                    stored_slug: None,
                    error: None,
                    changed: None,
                };
            }
        };
        Described {
            outcome: outcome.to_owned(),
            id,
            stored_slug,
            error,
            changed: None,
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
    fn lines_are_found_from_runs_of_consecutive_lines() {
        // Items 0..3 on lines 1..3, then a blank line; items 3..5 on lines 5..6.
        let lines = [(0, 1), (3, 5)];
        assert_eq!(line_of(&lines, 0), Some(1));
        assert_eq!(line_of(&lines, 2), Some(3));
        assert_eq!(line_of(&lines, 3), Some(5));
        assert_eq!(line_of(&lines, 4), Some(6));
        assert_eq!(line_of(&[], 0), None);
    }

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
