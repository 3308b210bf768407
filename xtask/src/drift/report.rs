//! Writing a drift outcome as text (for people), JSON (for tools, with serde) or Markdown
//! (for a pull request or a GitHub job summary), grouped per operation of the fragment.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use super::compare::{Class, Difference};
use super::deviations::{DeviationStatus, Mismatch, UpstreamSource};
use super::downgrade::Rule;
use super::resolve::Scope;
use super::{CheckedOperation, FoundBy, Outcome};

const WHEN_IT_FIRES: &str = "Update spec/webflow-cms-items.yaml (or record the difference in \
spec/deviations.yaml if ours should differ on purpose), run `cargo xtask codegen`, review the \
snapshot changes with `cargo insta review`, and commit; CONTRIBUTING.md, \"Upstream drift\", has the steps.";

const STALE_HELP: &str = "Upstream no longer says what these deviations record: Webflow fixed or \
changed the spot. Drop the deviation if ours can now follow upstream; otherwise update its \
recorded upstream value (`upstream_value`, `upstream_values` or `upstream_absent`).";

/// What the pre-pass does, for a heading.
const REWRITTEN: &str = "OpenAPI 3.1 constructs openapiv3 cannot read, rewritten before comparing";

/// Longest value shown inline in text and Markdown (JSON has them in full).
const SHOWN_VALUE_CHARS: usize = 160;

/// Counts of differences by class and by whether a deviation explains them.
#[derive(Debug, Default, Serialize)]
struct Counts {
    explained_breaking: usize,
    explained_additive: usize,
    explained_cosmetic: usize,
    unexplained_breaking: usize,
    unexplained_additive: usize,
    unexplained_cosmetic: usize,
    stale_deviations: usize,
}

impl Counts {
    fn of<'a>(
        differences: impl Iterator<Item = &'a Difference>,
        deviations: impl Iterator<Item = &'a DeviationStatus>,
    ) -> Self {
        let mut counts = Counts {
            stale_deviations: deviations.filter(|d| d.is_stale()).count(),
            ..Counts::default()
        };
        for d in differences {
            let slot = match (d.class, d.explained_by.is_some()) {
                (Class::Breaking, true) => &mut counts.explained_breaking,
                (Class::Additive, true) => &mut counts.explained_additive,
                (Class::Cosmetic, true) => &mut counts.explained_cosmetic,
                (Class::Breaking, false) => &mut counts.unexplained_breaking,
                (Class::Additive, false) => &mut counts.unexplained_additive,
                (Class::Cosmetic, false) => &mut counts.unexplained_cosmetic,
            };
            *slot += 1;
        }
        counts
    }

    fn drift(&self) -> bool {
        self.unexplained_breaking + self.unexplained_additive + self.stale_deviations > 0
    }

    fn wire_explained(&self) -> usize {
        self.explained_breaking + self.explained_additive
    }

    fn cosmetic(&self) -> usize {
        self.explained_cosmetic + self.unexplained_cosmetic
    }

    /// The verdict in a few words, for a heading.
    fn verdict(&self) -> String {
        if !self.drift() {
            return "no unexplained drift".into();
        }
        let mut parts = Vec::new();
        for (n, class) in [
            (self.unexplained_breaking, Class::Breaking),
            (self.unexplained_additive, Class::Additive),
        ] {
            if n > 0 {
                parts.push(format!("{n} {}", class.name()));
            }
        }
        let stale = self.stale_deviations;
        if stale > 0 {
            parts.push(format!(
                "{stale} stale {}",
                plural(stale, "deviation", "deviations")
            ));
        }
        parts.join(", ")
    }
}

/// One part of a report: an operation of the fragment, or the document as a whole (the
/// OpenAPI version, and the deviations of `scope: document`).
struct Section<'a> {
    outcome: &'a Outcome,
    operation: Option<&'a CheckedOperation>,
}

impl<'a> Section<'a> {
    fn id(&self) -> Option<&'a str> {
        self.operation.map(|o| o.operation_id.as_str())
    }

    fn title(&self) -> String {
        match self.operation {
            Some(o) => format!(
                "Operation `{}` ({} {})",
                o.operation_id,
                o.method.to_uppercase(),
                o.path
            ),
            None => "The document as a whole".into(),
        }
    }

    fn differences(&self) -> impl Iterator<Item = &'a Difference> + use<'a> {
        let id = self.id();
        self.outcome
            .differences
            .iter()
            .filter(move |d| d.operation.as_deref() == id)
    }

    /// The differences a report lists: cosmetic ones only with `--verbose`.
    fn listed(&self) -> impl Iterator<Item = &'a Difference> + use<'a> {
        let verbose = self.outcome.verbose;
        self.differences()
            .filter(move |d| verbose || d.class != Class::Cosmetic)
    }

    /// The deviations about this operation (or, for the document, of `scope: document`).
    fn deviations(&self) -> impl Iterator<Item = &'a DeviationStatus> + use<'a> {
        let id = self.id();
        self.outcome
            .deviations
            .iter()
            .filter(move |d| d.target.operation() == id)
    }

    fn counts(&self) -> Counts {
        Counts::of(self.differences(), self.deviations())
    }

    /// Whether there is anything to show (always, for an operation).
    fn worth_showing(&self) -> bool {
        self.operation.is_some()
            || self.listed().next().is_some()
            || self.deviations().any(|d| d.is_stale())
    }

    /// The unexplained differences listed: breaking and additive ones, then cosmetic ones.
    fn unexplained(&self) -> (Vec<&'a Difference>, Vec<&'a Difference>) {
        self.listed()
            .filter(|d| d.explained_by.is_none())
            .partition(|d| d.class != Class::Cosmetic)
    }

    /// The listed differences a deviation explains, grouped by deviation (in the order of
    /// the deviations file).
    fn explained(&self) -> Vec<(&'a str, Vec<&'a Difference>)> {
        let explained: Vec<&Difference> =
            self.listed().filter(|d| d.explained_by.is_some()).collect();
        self.outcome
            .deviations
            .iter()
            .map(|status| {
                let mine: Vec<&Difference> = explained
                    .iter()
                    .copied()
                    .filter(|d| d.explained_by.as_deref() == Some(status.id.as_str()))
                    .collect();
                (status.id.as_str(), mine)
            })
            .filter(|(_, mine)| !mine.is_empty())
            .collect()
    }

    /// Where a difference is upstream, as a deviation would write it, plus the document
    /// pointer when a `$ref` put it elsewhere.
    fn upstream_place(&self, difference: &Difference) -> String {
        let loc = &difference.upstream;
        let inline = match (loc.scope, self.operation) {
            (Scope::Operation, Some(o)) => format!("{}{}", o.upstream_pointer, loc.relative),
            _ => loc.relative.clone(),
        };
        let mut place = format!("{} ({})", display_pointer(&loc.relative), loc.scope.name());
        if loc.pointer != inline {
            let _ = write!(place, ", defined at #{}", loc.pointer);
        }
        place
    }

    /// Where upstream's operation was found, in words.
    fn found(&self) -> Option<String> {
        let o = self.operation?;
        let how = match &o.found_by {
            FoundBy::OperationId => "found by operationId".to_string(),
            FoundBy::MethodAndPath { operation_id } => format!(
                "found by method and path; its operationId is {}",
                operation_id
                    .as_deref()
                    .map_or_else(|| "missing".to_string(), |id| format!("`{id}`"))
            ),
        };
        Some(format!(
            "{} {} ({how})",
            o.upstream_method.to_uppercase(),
            o.upstream_path
        ))
    }
}

impl Outcome {
    /// The document section, then one per operation.
    fn sections(&self) -> Vec<Section<'_>> {
        let document = Section {
            outcome: self,
            operation: None,
        };
        let operations = self.operations.iter().map(|o| Section {
            outcome: self,
            operation: Some(o),
        });
        std::iter::once(document).chain(operations).collect()
    }

    fn counts(&self) -> Counts {
        Counts::of(self.differences.iter(), self.deviations.iter())
    }

    /// The pointers of the pre-pass's rewrites, per rule.
    fn rewrite_counts(&self) -> BTreeMap<Rule, Vec<&str>> {
        let mut counts: BTreeMap<Rule, Vec<&str>> = BTreeMap::new();
        for rewrite in &self.rewrites {
            counts
                .entry(rewrite.rule)
                .or_default()
                .push(&rewrite.pointer);
        }
        counts
    }

    /// The counts behind the verdict, in a sentence.
    fn details(&self) -> String {
        let counts = self.counts();
        let wire_explained = counts.wire_explained();
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
            "{explained} by {}; {} cosmetic differences ({cosmetic_note}).",
            self.deviations_file,
            counts.cosmetic()
        )
    }

    /// `create-item-live` (POST /…) and `list-collection-items` (GET /…), for a sentence.
    fn operation_names(&self, code: fn(&str) -> String) -> String {
        let names: Vec<String> = self
            .operations
            .iter()
            .map(|o| {
                format!(
                    "`{}` ({} {})",
                    o.operation_id,
                    o.method.to_uppercase(),
                    code(&o.path)
                )
            })
            .collect();
        match names.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => "no operation".into(),
        }
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
    format!("{}\n        upstream now: {now}", mismatch.change)
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

/// The plain-text report.
pub fn text(outcome: &Outcome) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Drift check of {}",
        outcome.operation_names(str::to_string)
    );
    let _ = writeln!(
        out,
        "  upstream:   {} (OpenAPI {})",
        outcome.upstream_source, outcome.upstream_version
    );
    let _ = writeln!(out, "  ours:       {}", outcome.spec);
    let _ = writeln!(
        out,
        "  deviations: {} (upstream values recorded from {})",
        outcome.deviations_file,
        outcome.recorded_from.describe()
    );
    let rewrites = outcome.rewrite_counts();
    if !rewrites.is_empty() {
        let _ = writeln!(
            out,
            "  rewritten:  {REWRITTEN} (where: --format json --verbose)"
        );
        for (rule, pointers) in rewrites {
            let _ = writeln!(out, "    {:>5} × {}", pointers.len(), rule.describe());
        }
    }
    let _ = writeln!(
        out,
        "\nResult: {}. {}",
        outcome.counts().verdict(),
        outcome.details()
    );
    for section in outcome.sections() {
        if section.worth_showing() {
            section_text(&mut out, &section);
        }
    }
    if outcome.exit_code() != 0 {
        let _ = writeln!(out, "\n{WHEN_IT_FIRES}");
    }
    out
}

fn section_text(out: &mut String, section: &Section<'_>) {
    let counts = section.counts();
    let _ = writeln!(out, "\n{}: {}", section.title(), counts.verdict());
    if let Some(found) = section.found() {
        let _ = writeln!(out, "  upstream: {found}");
    }
    let (serious, cosmetic) = section.unexplained();
    if !serious.is_empty() {
        let _ = writeln!(out, "  Unexplained differences ({}):", serious.len());
        for difference in serious {
            let _ = writeln!(
                out,
                "    {:<9} {}",
                difference.class.name().to_uppercase(),
                difference.subject
            );
            let _ = writeln!(out, "              {}", difference.description);
            let _ = writeln!(
                out,
                "              upstream: {}",
                section.upstream_place(difference)
            );
            let _ = writeln!(
                out,
                "              ours:     {}",
                display_pointer(&difference.ours)
            );
            if let Some((id, change)) = &difference.under_stale {
                let _ = writeln!(
                    out,
                    "              stale:    `{id}` covers this spot, but {change}"
                );
            }
            let _ = writeln!(out, "              to do:    {}", action(difference));
        }
    }
    let stale: Vec<&DeviationStatus> = section.deviations().filter(|d| d.is_stale()).collect();
    if !stale.is_empty() {
        let _ = writeln!(out, "  Stale deviations ({}):", stale.len());
        for status in &stale {
            let _ = writeln!(out, "    {}", status.id);
            for mismatch in &status.mismatches {
                let _ = writeln!(
                    out,
                    "      {} ({}): {}",
                    mismatch.pointer,
                    status.scope().name(),
                    mismatch_text(mismatch)
                );
            }
        }
        let _ = writeln!(out, "    {STALE_HELP}");
    }
    let explained = section.explained();
    if !explained.is_empty() {
        let total: usize = explained.iter().map(|(_, mine)| mine.len()).sum();
        let _ = writeln!(
            out,
            "  Expected differences ({total}, explained by deviations):"
        );
        for (id, mine) in explained {
            let _ = writeln!(out, "    {id}:");
            for difference in mine {
                let _ = writeln!(
                    out,
                    "      {:<9} {}: {}",
                    difference.class.name(),
                    difference.subject,
                    difference.description
                );
            }
        }
    }
    if !cosmetic.is_empty() {
        let _ = writeln!(out, "  Cosmetic differences ({}):", cosmetic.len());
        for difference in cosmetic {
            let _ = writeln!(
                out,
                "    {}: {} (upstream {})",
                difference.subject,
                difference.description,
                section.upstream_place(difference)
            );
        }
    }
    let idle: Vec<&str> = section
        .deviations()
        .filter(|s| !s.is_stale() && s.explains == 0)
        .map(|s| s.id.as_str())
        .collect();
    if !idle.is_empty() && section.outcome.verbose {
        let _ = writeln!(
            out,
            "  Deviations that match upstream but explain no difference after normalisation: {}",
            idle.join(", ")
        );
    }
}

/// The JSON report, as serialised.
#[derive(Serialize)]
struct JsonReport<'a> {
    upstream: JsonUpstream<'a>,
    ours: &'a str,
    deviations_file: &'a str,
    /// The published document the deviations' upstream values were recorded from.
    recorded_from: &'a UpstreamSource,
    /// Differences about the whole document, and the deviations of `scope: document`.
    document: JsonSection<'a>,
    operations: Vec<JsonOperation<'a>>,
    stale_deviations: Vec<&'a str>,
    summary: Counts,
    /// Whether cosmetic differences are listed (`--verbose`); they are always counted.
    cosmetic_listed: bool,
    exit_code: u8,
}

#[derive(Serialize)]
struct JsonUpstream<'a> {
    source: &'a str,
    openapi: &'a str,
    /// What the pre-pass rewrote, per rule; where, with `--verbose`.
    rewritten: Vec<JsonRewrite<'a>>,
}

#[derive(Serialize)]
struct JsonRewrite<'a> {
    rule: Rule,
    description: &'static str,
    count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pointers: Option<Vec<&'a str>>,
}

#[derive(Serialize)]
struct JsonOperation<'a> {
    operation_id: &'a str,
    method: &'a str,
    path: &'a str,
    upstream: JsonFound<'a>,
    #[serde(flatten)]
    section: JsonSection<'a>,
}

/// Where upstream's operation was found.
#[derive(Serialize)]
struct JsonFound<'a> {
    /// `operationId`, or `method and path`.
    found_by: &'static str,
    /// Upstream's operationId when it was found by method and path.
    #[serde(skip_serializing_if = "Option::is_none")]
    operation_id: Option<&'a str>,
    method: &'a str,
    path: &'a str,
    pointer: &'a str,
}

#[derive(Serialize)]
struct JsonSection<'a> {
    summary: Counts,
    differences: Vec<JsonDifference<'a>>,
    deviations: Vec<JsonDeviation<'a>>,
}

#[derive(Serialize)]
struct JsonDifference<'a> {
    class: Class,
    subject: &'a str,
    description: &'a str,
    action: &'a str,
    upstream_pointer: &'a str,
    upstream_relative_pointer: &'a str,
    relative_to: Scope,
    ours_pointer: &'a str,
    explained_by: Option<&'a str>,
    stale_deviation: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonDeviation<'a> {
    id: &'a str,
    stale: bool,
    explains: usize,
    mismatches: Vec<JsonMismatch<'a>>,
}

#[derive(Serialize)]
struct JsonMismatch<'a> {
    pointer: &'a str,
    change: &'a str,
    recorded: Option<&'a Value>,
    upstream_now: Option<&'a Value>,
}

impl<'a> Section<'a> {
    fn json(&self) -> JsonSection<'a> {
        let differences = self
            .listed()
            .map(|d| JsonDifference {
                class: d.class,
                subject: &d.subject,
                description: &d.description,
                action: &d.action,
                upstream_pointer: &d.upstream.pointer,
                upstream_relative_pointer: &d.upstream.relative,
                relative_to: d.upstream.scope,
                ours_pointer: &d.ours,
                explained_by: d.explained_by.as_deref(),
                stale_deviation: d.under_stale.as_ref().map(|(id, _)| id.as_str()),
            })
            .collect();
        let deviations = self
            .deviations()
            .map(|s| JsonDeviation {
                id: &s.id,
                stale: s.is_stale(),
                explains: s.explains,
                mismatches: s
                    .mismatches
                    .iter()
                    .map(|m| JsonMismatch {
                        pointer: &m.pointer,
                        change: &m.change,
                        recorded: m.recorded.as_ref(),
                        upstream_now: m.now.as_ref(),
                    })
                    .collect(),
            })
            .collect();
        JsonSection {
            summary: self.counts(),
            differences,
            deviations,
        }
    }
}

/// The machine-readable report.
pub fn json(outcome: &Outcome) -> String {
    let document = Section {
        outcome,
        operation: None,
    };
    let operations = outcome
        .operations
        .iter()
        .map(|o| {
            let (found_by, operation_id) = match &o.found_by {
                FoundBy::OperationId => ("operationId", None),
                FoundBy::MethodAndPath { operation_id } => {
                    ("method and path", operation_id.as_deref())
                }
            };
            let section = Section {
                outcome,
                operation: Some(o),
            };
            JsonOperation {
                operation_id: &o.operation_id,
                method: &o.method,
                path: &o.path,
                upstream: JsonFound {
                    found_by,
                    operation_id,
                    method: &o.upstream_method,
                    path: &o.upstream_path,
                    pointer: &o.upstream_pointer,
                },
                section: section.json(),
            }
        })
        .collect();
    let report = JsonReport {
        upstream: JsonUpstream {
            source: &outcome.upstream_source,
            openapi: &outcome.upstream_version,
            rewritten: (outcome.rewrite_counts().into_iter())
                .map(|(rule, pointers)| JsonRewrite {
                    rule,
                    description: rule.describe(),
                    count: pointers.len(),
                    pointers: outcome.verbose.then_some(pointers),
                })
                .collect(),
        },
        ours: &outcome.spec,
        deviations_file: &outcome.deviations_file,
        recorded_from: &outcome.recorded_from,
        document: document.json(),
        operations,
        stale_deviations: outcome.stale().map(|s| s.id.as_str()).collect(),
        summary: outcome.counts(),
        cosmetic_listed: outcome.verbose,
        exit_code: outcome.exit_code(),
    };
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
    let _ = writeln!(
        out,
        "## {mark} Upstream drift: {}\n",
        outcome.counts().verdict()
    );
    let _ = writeln!(out, "{}\n", outcome.details());
    let _ = writeln!(
        out,
        "Checked {} of `{}` against `{}` (OpenAPI {}).\n",
        outcome.operation_names(|path| format!("`{path}`")),
        outcome.spec,
        outcome.upstream_source,
        outcome.upstream_version
    );
    let rewrites = outcome.rewrite_counts();
    if !rewrites.is_empty() {
        let total: usize = rewrites.values().map(Vec::len).sum();
        let _ = writeln!(
            out,
            "<details><summary>Upstream's {REWRITTEN} ({total})</summary>\n"
        );
        let _ = writeln!(out, "| Count | Rewrite |\n| --- | --- |");
        for (rule, pointers) in rewrites {
            let _ = writeln!(out, "| {} | {} |", pointers.len(), cell(rule.describe()));
        }
        let _ = writeln!(out, "\n</details>\n");
    }
    for section in outcome.sections() {
        if section.worth_showing() {
            section_markdown(&mut out, &section);
        }
    }
    if outcome.exit_code() != 0 {
        let _ = writeln!(out, "**What to do:** {WHEN_IT_FIRES}");
    }
    out
}

fn section_markdown(out: &mut String, section: &Section<'_>) {
    let counts = section.counts();
    let mark = if counts.drift() { "❌" } else { "✅" };
    let _ = writeln!(
        out,
        "### {mark} {}: {}\n",
        section.title(),
        counts.verdict()
    );
    if let Some(found) = section.found() {
        let _ = writeln!(out, "Upstream: `{found}`.\n");
    }
    let (serious, cosmetic) = section.unexplained();
    if !serious.is_empty() {
        let _ = writeln!(out, "#### Unexplained differences\n");
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
                code_cell(&section.upstream_place(d)),
                code_cell(display_pointer(&d.ours)),
                cell(&action(d))
            );
        }
        let _ = writeln!(out);
    }
    let stale: Vec<&DeviationStatus> = section.deviations().filter(|d| d.is_stale()).collect();
    if !stale.is_empty() {
        let _ = writeln!(out, "#### Stale deviations\n\n{STALE_HELP}\n");
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
                    code_cell(&format!("{} ({})", m.pointer, status.scope().name())),
                    cell(&m.change),
                    code_cell(&shown_value(m.recorded.as_ref())),
                    code_cell(&shown_value(m.now.as_ref()))
                );
            }
        }
        let _ = writeln!(out);
    }
    let explained = section.explained();
    if !explained.is_empty() {
        let total: usize = explained.iter().map(|(_, mine)| mine.len()).sum();
        let _ = writeln!(
            out,
            "<details><summary>Expected differences ({total}, explained by <code>{}</code>)</summary>\n",
            section.outcome.deviations_file
        );
        let _ = writeln!(out, "| Deviation | Class | Where | Difference |");
        let _ = writeln!(out, "| --- | --- | --- | --- |");
        for (id, mine) in explained {
            for d in mine {
                let _ = writeln!(
                    out,
                    "| `{id}` | {} | {} | {} |",
                    d.class.name(),
                    cell(&d.subject),
                    cell(&d.description)
                );
            }
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
                code_cell(&section.upstream_place(d)),
                code_cell(display_pointer(&d.ours))
            );
        }
        let _ = writeln!(out, "\n</details>\n");
    }
}
