//! Writing a drift outcome as text (for people), JSON (for tools) or Markdown (for a
//! pull request or a GitHub job summary).

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::Outcome;
use super::compare::{Class, Difference};
use super::deviations::{DeviationStatus, Mismatch};
use super::model::Scope;

const WHEN_IT_FIRES: &str = "Update spec/webflow-cms-items.yaml (or record the difference in \
spec/deviations.yaml if ours should differ on purpose), run `cargo xtask codegen`, review the \
snapshot changes with `cargo insta review`, and commit; README.md, \"Upstream drift\", has the steps.";

const STALE_HELP: &str = "Upstream no longer says what these deviations record: Webflow fixed or \
changed the spot. Drop the deviation if ours can now follow upstream; otherwise update its \
recorded upstream value (`upstream_value`, `upstream_values` or `upstream_absent`).";

/// Longest value shown inline in text and Markdown (JSON has them in full).
const SHOWN_VALUE_CHARS: usize = 160;

impl Outcome {
    /// The differences a report lists: cosmetic ones only with `--verbose`.
    fn listed(&self) -> impl Iterator<Item = &Difference> {
        self.differences
            .iter()
            .filter(|d| self.verbose || d.class != Class::Cosmetic)
    }

    /// The listed differences that a deviation explains.
    fn explained(&self) -> Vec<&Difference> {
        self.listed().filter(|d| d.explained_by.is_some()).collect()
    }

    fn count(&self, class: Class, explained: bool) -> usize {
        self.differences
            .iter()
            .filter(|d| d.class == class && d.explained_by.is_some() == explained)
            .count()
    }

    /// The counts behind the verdict, in a sentence.
    fn details(&self) -> String {
        let wire_explained = self.count(Class::Breaking, true) + self.count(Class::Additive, true);
        let cosmetic = self.count(Class::Cosmetic, false) + self.count(Class::Cosmetic, true);
        let cosmetic_note = if self.verbose {
            "listed below"
        } else {
            "listed with --verbose"
        };
        let explained = if self.exit_code() == 0 {
            format!("All {wire_explained} breaking or additive differences are explained")
        } else {
            format!("{wire_explained} breaking or additive differences are explained")
        };
        format!(
            "{explained} by {}; {cosmetic} cosmetic differences ({cosmetic_note}).",
            self.deviations_file
        )
    }

    /// The verdict in a few words, for a heading.
    fn verdict(&self) -> String {
        if self.exit_code() == 0 {
            return "no unexplained drift".into();
        }
        let stale = self.stale().count();
        let mut parts = Vec::new();
        for class in [Class::Breaking, Class::Additive] {
            let n = self.count(class, false);
            if n > 0 {
                parts.push(format!("{n} {}", class.name()));
            }
        }
        if stale > 0 {
            parts.push(format!(
                "{stale} stale {}",
                plural(stale, "deviation", "deviations")
            ));
        }
        parts.join(", ")
    }

    /// Where a difference is upstream, as a deviation would write it, plus the document
    /// pointer when a `$ref` put it elsewhere.
    fn upstream_place(&self, difference: &Difference) -> String {
        let loc = &difference.upstream;
        let inline = match loc.scope {
            Scope::Operation => format!("{}{}", self.upstream_operation_pointer, loc.relative),
            Scope::Document => loc.relative.clone(),
        };
        let mut place = format!("{} ({})", display_pointer(&loc.relative), loc.scope.name());
        if loc.pointer != inline {
            let _ = write!(place, ", defined at #{}", loc.pointer);
        }
        place
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

fn display_pointer(pointer: &str) -> &str {
    if pointer.is_empty() { "/" } else { pointer }
}

fn shown_value(value: Option<&Value>) -> String {
    let Some(value) = value else {
        return "absent".into();
    };
    let text = value.to_string();
    if text.chars().count() > SHOWN_VALUE_CHARS {
        let cut: String = text.chars().take(SHOWN_VALUE_CHARS).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// The change, then upstream's value in full (to paste into the deviations file).
fn mismatch_text(mismatch: &Mismatch) -> String {
    let now = mismatch
        .now
        .as_ref()
        .map_or_else(|| "absent".to_string(), Value::to_string);
    format!("{}\n      upstream now: {now}", mismatch.change)
}

/// What to do about an unexplained difference; under a stale deviation, first revisit it.
fn action(difference: &Difference) -> String {
    match &difference.under_stale {
        Some((id, _)) => format!(
            "Revisit the deviation `{id}`: if its reason still holds, update its recorded upstream value; \
             otherwise: {}",
            difference.action
        ),
        None => difference.action.clone(),
    }
}

/// The unexplained differences listed: breaking and additive ones, then cosmetic ones.
fn unexplained(outcome: &Outcome) -> (Vec<&Difference>, Vec<&Difference>) {
    outcome
        .listed()
        .filter(|d| d.explained_by.is_none())
        .partition(|d| d.class != Class::Cosmetic)
}

/// The plain-text report.
pub fn text(outcome: &Outcome) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Drift check of `{}` ({} {})",
        outcome.operation_id,
        outcome.method.to_uppercase(),
        outcome.path
    );
    let _ = writeln!(
        out,
        "  upstream:   {} (OpenAPI {})",
        outcome.upstream_source, outcome.upstream_version
    );
    let _ = writeln!(out, "  ours:       {}", outcome.spec);
    let _ = writeln!(out, "  deviations: {}", outcome.deviations_file);
    let _ = writeln!(
        out,
        "\nResult: {}. {}",
        outcome.verdict(),
        outcome.details()
    );

    let (serious, cosmetic) = unexplained(outcome);
    if !serious.is_empty() {
        let _ = writeln!(out, "\nUnexplained differences ({}):", serious.len());
        for difference in serious {
            let _ = writeln!(
                out,
                "  {:<9} {}",
                difference.class.name().to_uppercase(),
                difference.subject
            );
            let _ = writeln!(out, "            {}", difference.description);
            let _ = writeln!(
                out,
                "            upstream: {}",
                outcome.upstream_place(difference)
            );
            let _ = writeln!(
                out,
                "            ours:     {}",
                display_pointer(&difference.ours)
            );
            if let Some((id, change)) = &difference.under_stale {
                let _ = writeln!(
                    out,
                    "            stale:    `{id}` covers this spot, but {change}"
                );
            }
            let _ = writeln!(out, "            to do:    {}", action(difference));
        }
    }
    let stale: Vec<&DeviationStatus> = outcome.stale().collect();
    if !stale.is_empty() {
        let _ = writeln!(out, "\nStale deviations ({}):", stale.len());
        for status in &stale {
            let _ = writeln!(out, "  {}", status.id);
            for mismatch in &status.mismatches {
                let _ = writeln!(
                    out,
                    "    {} ({}): {}",
                    mismatch.pointer,
                    status.scope.name(),
                    mismatch_text(mismatch)
                );
            }
        }
        let _ = writeln!(out, "  {STALE_HELP}");
    }
    let explained = outcome.explained();
    if !explained.is_empty() {
        let _ = writeln!(
            out,
            "\nExpected differences ({}, explained by deviations):",
            explained.len()
        );
        for status in &outcome.deviations {
            let mine: Vec<&&Difference> = explained
                .iter()
                .filter(|d| d.explained_by.as_deref() == Some(status.id.as_str()))
                .collect();
            if mine.is_empty() {
                continue;
            }
            let _ = writeln!(out, "  {}:", status.id);
            for difference in mine {
                let _ = writeln!(
                    out,
                    "    {:<9} {}: {}",
                    difference.class.name(),
                    difference.subject,
                    difference.description
                );
            }
        }
    }
    if !cosmetic.is_empty() {
        let _ = writeln!(out, "\nCosmetic differences ({}):", cosmetic.len());
        for difference in cosmetic {
            let _ = writeln!(
                out,
                "  {}: {} (upstream {})",
                difference.subject,
                difference.description,
                outcome.upstream_place(difference)
            );
        }
    }
    let idle: Vec<&str> = outcome
        .deviations
        .iter()
        .filter(|s| !s.is_stale() && s.explains == 0)
        .map(|s| s.id.as_str())
        .collect();
    if !idle.is_empty() && outcome.verbose {
        let _ = writeln!(
            out,
            "\nDeviations that match upstream but explain no difference after normalisation: {}",
            idle.join(", ")
        );
    }
    if outcome.exit_code() != 0 {
        let _ = writeln!(out, "\n{WHEN_IT_FIRES}");
    }
    out
}

/// The machine-readable report.
pub fn json(outcome: &Outcome) -> String {
    let differences: Vec<Value> = outcome
        .listed()
        .map(|d| {
            json!({
                "class": d.class.name(),
                "subject": d.subject,
                "description": d.description,
                "action": d.action,
                "upstream_pointer": d.upstream.pointer,
                "upstream_relative_pointer": d.upstream.relative,
                "relative_to": d.upstream.scope.name(),
                "ours_pointer": d.ours,
                "explained_by": d.explained_by,
                "stale_deviation": d.under_stale.as_ref().map(|(id, _)| id),
            })
        })
        .collect();
    let deviations: Vec<Value> = outcome
        .deviations
        .iter()
        .map(|s| {
            let mismatches: Vec<Value> = s
                .mismatches
                .iter()
                .map(|m| {
                    json!({ "pointer": m.pointer, "change": m.change, "recorded": m.recorded, "upstream_now": m.now })
                })
                .collect();
            json!({
                "id": s.id,
                "stale": s.is_stale(),
                "explains": s.explains,
                "mismatches": mismatches,
            })
        })
        .collect();
    let found_by = match &outcome.found_by {
        super::FoundBy::OperationId => json!({ "by": "operationId" }),
        super::FoundBy::MethodAndPath { operation_id } => {
            json!({ "by": "method and path", "operation_id": operation_id })
        }
    };
    let report = json!({
        "operation": {
            "operation_id": outcome.operation_id,
            "method": outcome.method,
            "path": outcome.path,
        },
        "upstream": {
            "source": outcome.upstream_source,
            "openapi": outcome.upstream_version,
            "found": found_by,
        },
        "ours": outcome.spec,
        "deviations_file": outcome.deviations_file.to_string(),
        "differences": differences,
        "deviations": deviations,
        "stale_deviations": outcome.stale().map(|s| s.id.clone()).collect::<Vec<_>>(),
        "summary": {
            "explained_breaking": outcome.count(Class::Breaking, true),
            "explained_additive": outcome.count(Class::Additive, true),
            "explained_cosmetic": outcome.count(Class::Cosmetic, true),
            "unexplained_breaking": outcome.count(Class::Breaking, false),
            "unexplained_additive": outcome.count(Class::Additive, false),
            "unexplained_cosmetic": outcome.count(Class::Cosmetic, false),
            "stale_deviations": outcome.stale().count(),
            "cosmetic_listed": outcome.verbose,
        },
        "exit_code": outcome.exit_code(),
    });
    let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
    text.push('\n');
    text
}

/// Escapes text for one cell of a GitHub Markdown table.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn code_cell(text: &str) -> String {
    format!("`{}`", cell(text))
}

/// The Markdown report (a pull-request body or `$GITHUB_STEP_SUMMARY`).
pub fn markdown(outcome: &Outcome) -> String {
    let mut out = String::new();
    let mark = if outcome.exit_code() == 0 {
        "✅"
    } else {
        "❌"
    };
    let _ = writeln!(out, "## {mark} Upstream drift: {}\n", outcome.verdict());
    let _ = writeln!(out, "{}\n", outcome.details());
    let _ = writeln!(
        out,
        "Checked `{}` ({} `{}`) in `{}` (OpenAPI {}) against `{}`.\n",
        outcome.operation_id,
        outcome.method.to_uppercase(),
        outcome.path,
        outcome.upstream_source,
        outcome.upstream_version,
        outcome.spec
    );

    let (serious, cosmetic) = unexplained(outcome);
    if !serious.is_empty() {
        let _ = writeln!(out, "### Unexplained differences\n");
        let _ = writeln!(
            out,
            "| Class | Where | What changed | Upstream | Ours | What to do |"
        );
        let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- |");
        for d in &serious {
            let mut what = cell(&d.description);
            if let Some((id, change)) = &d.under_stale {
                let _ = write!(what, " (stale deviation `{id}`: {})", cell(change));
            }
            let _ = writeln!(
                out,
                "| **{}** | {} | {} | {} | {} | {} |",
                d.class.name(),
                cell(&d.subject),
                what,
                code_cell(&outcome.upstream_place(d)),
                code_cell(display_pointer(&d.ours)),
                cell(&action(d))
            );
        }
        let _ = writeln!(out);
    }
    let stale: Vec<&DeviationStatus> = outcome.stale().collect();
    if !stale.is_empty() {
        let _ = writeln!(out, "### Stale deviations\n\n{STALE_HELP}\n");
        let _ = writeln!(
            out,
            "| Deviation | Pointer | What changed | Recorded | Upstream now |"
        );
        let _ = writeln!(out, "| --- | --- | --- | --- | --- |");
        for status in stale {
            for m in &status.mismatches {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} | {} |",
                    status.id,
                    code_cell(&format!("{} ({})", m.pointer, status.scope.name())),
                    cell(&m.change),
                    code_cell(&shown_value(m.recorded.as_ref())),
                    code_cell(&shown_value(m.now.as_ref()))
                );
            }
        }
        let _ = writeln!(out);
    }
    let explained = outcome.explained();
    if !explained.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>Expected differences ({}, explained by <code>{}</code>)</summary>\n",
            explained.len(),
            outcome.deviations_file
        );
        let _ = writeln!(out, "| Deviation | Class | Where | Difference |");
        let _ = writeln!(out, "| --- | --- | --- | --- |");
        for d in explained {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                d.explained_by.as_deref().unwrap_or_default(),
                d.class.name(),
                cell(&d.subject),
                cell(&d.description)
            );
        }
        let _ = writeln!(out, "\n</details>\n");
    }
    if !cosmetic.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>Cosmetic differences ({})</summary>\n",
            cosmetic.len()
        );
        let _ = writeln!(out, "| Where | Difference | Upstream | Ours |");
        let _ = writeln!(out, "| --- | --- | --- | --- |");
        for d in cosmetic {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                cell(&d.subject),
                cell(&d.description),
                code_cell(&outcome.upstream_place(d)),
                code_cell(display_pointer(&d.ours))
            );
        }
        let _ = writeln!(out, "\n</details>\n");
    }
    if outcome.exit_code() != 0 {
        let _ = writeln!(out, "**What to do:** {WHEN_IT_FIRES}");
    }
    out
}
