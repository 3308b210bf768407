//! The run's account: the JSON summary (stdout's one line, in every case) and the closing
//! line for people on stderr (the counts, the report, what to do next).

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;

use indicatif::HumanCount;
use serde::Serialize;

use crate::ledger::{Counts, Snapshot};

/// The last stdout line.
#[derive(Serialize, Default, Debug)]
pub struct Summary {
    pub created: u64,
    pub settled: u64,
    pub skipped: u64,
    /// A sync (`--update`): items updated, already equal, left alone (not published).
    pub updated: u64,
    pub unchanged: u64,
    pub not_live: u64,
    pub failed: u64,
    /// Lines whose slug an earlier line has (counted in `failed` too).
    pub duplicates: u64,
    /// Lines that do not fit the collection's schema (not sent).
    pub invalid: u64,
    pub unknown: u64,
    pub not_attempted: u64,
    pub malformed_lines: u64,
    pub renamed: u64,
    /// Items of the collection a prune took off the site, or failed to.
    pub pruned: u64,
    pub prune_failed: u64,
    /// Why a prune asked for was not done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prune_refused: Option<String>,
    /// A create answer listed items that match no line (never given to one).
    pub unmatched: u64,
    pub requests: u64,
    pub create_requests: u64,
    pub update_requests: u64,
    pub prune_requests: u64,
    pub list_requests: u64,
    pub throttled: u64,
    /// `input_exhausted`, `cancelled`, `stopped`, `interrupted` (exit code 130), or
    /// `not_started` (exit code 2).
    pub end: &'static str,
    pub elapsed_seconds: f64,
    /// Items handed to the importer (every line that parsed).
    pub total: u64,
    /// Whether it ran against the embedded mock.
    pub mock: bool,
    pub dry_run: bool,
    /// A sync (`--update`, `--prune`): for the closing line's advice, not in the JSON.
    #[serde(skip)]
    pub sync: bool,
    /// The signal that stopped the run (`SIGINT`, `SIGTERM`, `SIGHUP`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would_create: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would_update: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would_prune: Option<u64>,
    /// Outcomes of a newer library this command has no field for, by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub other_outcomes: BTreeMap<String, u64>,
    /// Reading the input failed: the rest of it was not read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_error: Option<String>,
    /// Writing the report failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_error: Option<String>,
    /// Why nothing was imported (`end: not_started`), or why the run stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Summary {
    /// The outcome counts of `counts` (the ledger's).
    pub fn with_counts(mut self, counts: &Counts, dry_run: bool) -> Summary {
        self.created = counts.created;
        self.settled = counts.settled;
        self.skipped = counts.skipped;
        self.updated = counts.updated;
        self.unchanged = counts.unchanged;
        self.not_live = counts.not_live;
        self.failed = counts.failed;
        self.duplicates = counts.duplicates;
        self.invalid = counts.invalid;
        self.unknown = counts.unknown;
        self.not_attempted = counts.not_attempted;
        self.renamed = counts.renamed;
        self.pruned = counts.pruned;
        self.prune_failed = counts.prune_failed;
        self.malformed_lines = counts.malformed;
        self.other_outcomes = counts.other.clone();
        if dry_run {
            self.would_create = Some(counts.would_create);
            self.would_update = Some(counts.would_update);
            self.would_prune = Some(counts.would_prune);
        }
        self
    }

    /// Prints the summary: stdout's one line. Errors (a closed stdout) are ignored.
    pub fn print(&self) {
        let line = serde_json::to_string(self).unwrap_or_else(|e| format!(r#"{{"error":"{e}"}}"#));
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{line}");
        let _ = stdout.flush();
    }
}

/// Seconds since `started`, to the millisecond.
pub fn seconds(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0
}

/// Where the input was when the run ended, for the closing line.
pub struct Position<'a> {
    pub snapshot: &'a Snapshot,
    /// Every line of the input, when it is a file that was counted.
    pub total_lines: Option<u64>,
    /// The report's path, if there is one.
    pub report: Option<&'a str>,
}

/// The closing line on stderr: what came of the run, and what to do next.
pub fn closing_line(summary: &Summary, position: &Position<'_>) -> String {
    let n = |count: u64| HumanCount(count).to_string();
    let mut parts: Vec<String> = Vec::new();
    let mut push = |count: u64, what: &str| {
        if count > 0 {
            parts.push(format!("{} {what}", n(count)));
        }
    };
    if summary.dry_run {
        push(summary.would_create.unwrap_or(0), "would be created");
        push(summary.would_update.unwrap_or(0), "would be updated");
        push(summary.unchanged, "unchanged");
        push(summary.skipped, "would be skipped (they exist)");
        push(summary.not_live, "left alone (not published)");
        push(summary.would_prune.unwrap_or(0), "would be pruned");
        push(summary.invalid, "invalid");
        push(summary.failed, "failed");
    } else {
        let settled = format!("created ({} settled by lookup)", n(summary.settled));
        push(
            summary.created,
            if summary.settled > 0 {
                &settled
            } else {
                "created"
            },
        );
        push(summary.updated, "updated");
        push(summary.unchanged, "unchanged");
        push(summary.skipped, "skipped (they existed)");
        push(summary.not_live, "left alone (not published)");
        push(summary.pruned, "pruned");
        push(summary.prune_failed, "failed to prune");
        push(summary.invalid, "invalid");
        push(summary.failed, "failed");
        push(summary.unknown, "unknown (they may exist)");
        push(summary.not_attempted, "not sent");
        for (name, count) in &summary.other_outcomes {
            push(*count, name);
        }
    }
    push(
        summary.malformed_lines,
        if summary.malformed_lines == 1 {
            "malformed line"
        } else {
            "malformed lines"
        },
    );
    if parts.is_empty() {
        parts.push("no item".to_owned());
    }
    let counts = parts.join(", ");
    let took = human_duration(summary.elapsed_seconds);
    let report = position
        .report
        .map(|path| format!("; report: {path}"))
        .unwrap_or_default();
    let read = read_position(position);
    let problems = summary.failed > 0
        || summary.malformed_lines > 0
        || summary.invalid > 0
        || summary.prune_failed > 0
        || summary.prune_refused.is_some()
        || !summary.other_outcomes.is_empty();
    let see = match position.report {
        Some(path) => format!("see {path}"),
        None => "--report FILE lists them".to_owned(),
    };

    match summary.end {
        "interrupted" => format!(
            "interrupted ({}): exited without waiting for the requests in flight: {counts}{report}; \
             {read}. Run the same command again with --resume: items that exist are skipped",
            summary.signal.unwrap_or("second signal"),
        ),
        "cancelled" | "stopped" => {
            let why = match (summary.end, summary.signal, &summary.error) {
                ("cancelled", Some(signal), _) => format!("cancelled by {signal}"),
                ("cancelled", None, _) => "cancelled".to_owned(),
                (_, _, Some(error)) => format!("stopped ({error})"),
                _ => "stopped".to_owned(),
            };
            let next = if summary.dry_run {
                "Run it again to check the whole input".to_owned()
            } else {
                "Run the same command again with --resume to finish".to_owned()
            };
            format!("{why}: {counts} in {took}{report}; {read}. {next}")
        }
        _ if summary.dry_run => {
            if let Some(refused) = &summary.prune_refused {
                format!(
                    "dry run: {counts}; nothing was written{report}. The prune would be refused: \
                     {refused}"
                )
            } else if problems || summary.input_error.is_some() {
                format!(
                    "dry run: {counts}; nothing was written{report}. Fix the invalid and \
                     malformed lines ({see}) and check again"
                )
            } else {
                format!(
                    "dry run: every line is valid: {counts}; nothing was written{report}. \
                     Run it without --dry-run to apply the plan"
                )
            }
        }
        _ => {
            let mut next = Vec::new();
            if summary.failed > 0 || summary.malformed_lines > 0 || summary.invalid > 0 {
                next.push(format!(
                    "fix the failed, invalid and malformed lines ({see})"
                ));
            }
            if summary.unknown > 0
                || summary.failed > 0
                || summary.malformed_lines > 0
                || summary.invalid > 0
            {
                next.push(if summary.sync {
                    "run the same command again (items already in step are left alone)".to_owned()
                } else {
                    "run again with --resume (items that exist are skipped)".to_owned()
                });
            }
            if let Some(error) = &summary.input_error {
                next.insert(
                    0,
                    format!("the input could not be read to its end ({error})"),
                );
            }
            if let Some(error) = &summary.report_error {
                next.push(format!("the report is incomplete ({error})"));
            }
            let refused = summary
                .prune_refused
                .as_ref()
                .map(|refused| format!(". Nothing was pruned: {refused}"))
                .unwrap_or_default();
            if next.is_empty() && !problems && summary.unknown == 0 {
                format!("done: {counts} in {took}{report}")
            } else if next.is_empty() {
                format!("finished with problems: {counts} in {took}{report}{refused}")
            } else {
                format!(
                    "finished with problems: {counts} in {took}{report}{refused}. Next: {}",
                    next.join("; then ")
                )
            }
        }
    }
}

/// How far the input was read, in words that agree with the file.
fn read_position(position: &Position<'_>) -> String {
    let snapshot = position.snapshot;
    let read = snapshot.lines_read;
    if snapshot.input_exhausted || position.total_lines == Some(read) {
        return format!("the whole input was read ({})", counted(read, "line"));
    }
    match position.total_lines {
        Some(total) if read == 0 => format!("none of the {} was read", counted(total, "line")),
        Some(total) if total > read => format!(
            "lines 1 to {} of {} were read, lines {} to {} were not",
            HumanCount(read),
            HumanCount(total),
            HumanCount(read + 1),
            HumanCount(total)
        ),
        _ if read == 0 => "no line was read".to_owned(),
        _ => format!(
            "the input was read up to line {}; the rest was not read",
            HumanCount(read)
        ),
    }
}

/// `1 item`, `10,000 items`.
pub fn counted(count: u64, what: &str) -> String {
    let s = if count == 1 { "" } else { "s" };
    format!("{} {what}{s}", HumanCount(count))
}

/// `850ms`, `12s`, `1m 32s`, `2h 05m`.
pub fn human_duration(seconds: f64) -> String {
    if seconds < 1.0 {
        return format!("{}ms", (seconds * 1000.0).round() as u64);
    }
    let whole = seconds.round() as u64;
    match whole {
        0..60 => format!("{whole}s"),
        60..3600 => format!("{}m {:02}s", whole / 60, whole % 60),
        _ => format!("{}h {:02}m", whole / 3600, (whole % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position(snapshot: &Snapshot, total_lines: Option<u64>) -> Position<'_> {
        Position {
            snapshot,
            total_lines,
            report: Some("report.ndjson"),
        }
    }

    #[test]
    fn a_stop_says_how_far_the_input_was_read_as_the_file_has_it() {
        let summary = Summary {
            created: 400,
            not_attempted: 101,
            end: "cancelled",
            signal: Some("SIGTERM"),
            ..Summary::default()
        };
        let whole = Snapshot {
            lines_read: 501,
            input_exhausted: true,
            ..Snapshot::default()
        };
        let line = closing_line(&summary, &position(&whole, Some(501)));
        assert!(
            line.contains("the whole input was read (501 lines)"),
            "{line}"
        );
        assert!(!line.contains("were not"), "{line}");
        assert!(line.contains("--resume"), "{line}");
        let part = Snapshot {
            lines_read: 300,
            ..Snapshot::default()
        };
        let line = closing_line(&summary, &position(&part, Some(501)));
        assert!(
            line.contains("lines 1 to 300 of 501 were read, lines 301 to 501 were not"),
            "{line}"
        );
        // Stopped before the first line (during the schema read): not "lines 1 to 0".
        let none = Snapshot::default();
        let line = closing_line(&summary, &position(&none, Some(1000)));
        assert!(line.contains("none of the 1,000 lines was read"), "{line}");
    }

    #[test]
    fn durations() {
        assert_eq!(human_duration(0.25), "250ms");
        assert_eq!(human_duration(12.4), "12s");
        assert_eq!(human_duration(92.0), "1m 32s");
        assert_eq!(human_duration(7500.0), "2h 05m");
    }
}
