//! The drift report: one model (the document as a whole, then a section per operation of
//! the fragment), serialised as JSON (for tools) and written as text (for people) or
//! Markdown (for a pull request or a GitHub job summary).

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use serde::Serialize;
use serde_json::Value;

use super::compare::{Class, Difference};
use super::deviations::{DeviationStatus, Mismatch, UpstreamSource, cut};
use super::downgrade::Rule;
use super::resolve::Scope;
use super::{CheckedOperation, Outcome};

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

/// The machine-readable report.
pub fn json(outcome: &Outcome) -> String {
    let mut text = serde_json::to_string_pretty(&Report::of(outcome)).unwrap_or_default();
    text.push('\n');
    text
}

/// The plain-text report.
pub fn text(outcome: &Outcome) -> String {
    Text(&Report::of(outcome)).to_string()
}

/// The Markdown report (a pull-request body or `$GITHUB_STEP_SUMMARY`).
pub fn markdown(outcome: &Outcome) -> String {
    Markdown(&Report::of(outcome)).to_string()
}

/// The report, as the JSON writes it.
#[derive(Serialize)]
struct Report<'a> {
    upstream: Upstream<'a>,
    ours: &'a str,
    deviations_file: &'a str,
    /// The published document the deviations' upstream values were recorded from.
    recorded_from: &'a UpstreamSource,
    /// Differences about the whole document, and the deviations of `scope: document`.
    document: Section<'a>,
    operations: Vec<Section<'a>>,
    stale_deviations: Vec<&'a str>,
    summary: Counts,
    /// Whether cosmetic differences are listed (`--verbose`); they are always counted.
    cosmetic_listed: bool,
    exit_code: u8,
}

#[derive(Serialize)]
struct Upstream<'a> {
    source: &'a str,
    openapi: &'a str,
    /// What the pre-pass rewrote, per rule; where, with `--verbose`.
    rewritten: Vec<Rewritten<'a>>,
}

#[derive(Serialize)]
struct Rewritten<'a> {
    rule: Rule,
    description: &'static str,
    count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pointers: Option<Vec<&'a str>>,
}

/// One part of the report: an operation of the fragment, or the document as a whole (the
/// OpenAPI version, and the deviations of `scope: document`).
#[derive(Serialize)]
struct Section<'a> {
    #[serde(flatten)]
    operation: Option<&'a CheckedOperation>,
    summary: Counts,
    /// The differences listed: cosmetic ones only with `--verbose`.
    differences: Vec<&'a Difference>,
    deviations: Vec<&'a DeviationStatus>,
    /// The listed differences a deviation explains, grouped by deviation (in the order of
    /// the deviations file).
    #[serde(skip)]
    explained: Vec<(&'a str, Vec<&'a Difference>)>,
    #[serde(skip)]
    verbose: bool,
}

/// Counts of differences by class and by whether a deviation explains them.
#[derive(Debug, Serialize)]
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
    fn of(differences: &[&Difference], deviations: &[&DeviationStatus]) -> Self {
        let n = |class, explained: bool| {
            let of = |d: &&&Difference| d.class == class && d.explained_by.is_some() == explained;
            differences.iter().filter(of).count()
        };
        Counts {
            explained_breaking: n(Class::Breaking, true),
            explained_additive: n(Class::Additive, true),
            explained_cosmetic: n(Class::Cosmetic, true),
            unexplained_breaking: n(Class::Breaking, false),
            unexplained_additive: n(Class::Additive, false),
            unexplained_cosmetic: n(Class::Cosmetic, false),
            stale_deviations: deviations.iter().filter(|d| d.stale).count(),
        }
    }

    fn drift(&self) -> bool {
        self.unexplained_breaking + self.unexplained_additive + self.stale_deviations > 0
    }

    /// The verdict in a few words, for a heading.
    fn verdict(&self) -> String {
        if !self.drift() {
            return "no unexplained drift".into();
        }
        let (breaking, additive) = (self.unexplained_breaking, self.unexplained_additive);
        let mut parts = Vec::new();
        for (n, class) in [(breaking, Class::Breaking), (additive, Class::Additive)] {
            if n > 0 {
                parts.push(format!("{n} {}", class.name()));
            }
        }
        let stale = self.stale_deviations;
        if stale > 0 {
            let plural = if stale == 1 { "" } else { "s" };
            parts.push(format!("{stale} stale deviation{plural}"));
        }
        parts.join(", ")
    }
}

impl<'a> Report<'a> {
    fn of(outcome: &'a Outcome) -> Self {
        let mut rewrites: BTreeMap<Rule, Vec<&str>> = BTreeMap::new();
        for rewrite in &outcome.rewrites {
            let pointers = rewrites.entry(rewrite.rule).or_default();
            pointers.push(&rewrite.pointer);
        }
        let rewritten = rewrites.into_iter().map(|(rule, pointers)| Rewritten {
            rule,
            description: rule.describe(),
            count: pointers.len(),
            pointers: outcome.verbose.then_some(pointers),
        });
        let upstream = Upstream {
            source: &outcome.upstream_source,
            openapi: &outcome.upstream_version,
            rewritten: rewritten.collect(),
        };
        let all: Vec<&Difference> = outcome.differences.iter().collect();
        let statuses: Vec<&DeviationStatus> = outcome.deviations.iter().collect();
        let stale = statuses.iter().filter(|s| s.stale).map(|s| s.id.as_str());
        let operations = outcome.operations.iter();
        let operations = operations.map(|o| Section::of(outcome, Some(o))).collect();
        Report {
            upstream,
            ours: &outcome.spec,
            deviations_file: &outcome.deviations_file,
            recorded_from: &outcome.recorded_from,
            document: Section::of(outcome, None),
            operations,
            stale_deviations: stale.collect(),
            summary: Counts::of(&all, &statuses),
            cosmetic_listed: outcome.verbose,
            exit_code: outcome.exit_code(),
        }
    }

    /// The document section (when there is anything to show), then one per operation.
    fn sections(&self) -> impl Iterator<Item = &Section<'a>> {
        let document = &self.document;
        let shown = !document.differences.is_empty() || document.summary.stale_deviations > 0;
        let document = shown.then_some(document);
        document.into_iter().chain(&self.operations)
    }

    /// The counts behind the verdict, in a sentence.
    fn details(&self) -> String {
        let counts = &self.summary;
        let wire_explained = counts.explained_breaking + counts.explained_additive;
        let cosmetic = counts.explained_cosmetic + counts.unexplained_cosmetic;
        let listed = match self.cosmetic_listed {
            true => "listed below",
            false => "listed with --verbose",
        };
        let all = if self.exit_code == 0 { "All " } else { "" };
        format!(
            "{all}{wire_explained} breaking or additive differences are explained by {}; {cosmetic} \
             cosmetic differences ({listed}).",
            self.deviations_file
        )
    }

    /// `create-item-live` (POST /…) and `list-collection-items` (GET /…), for a sentence.
    fn operation_names(&self, code: fn(&str) -> String) -> String {
        let names = self.operations.iter().filter_map(|s| s.operation);
        let name = |o: &CheckedOperation| {
            let (id, method, path) = (&o.operation_id, o.method.to_uppercase(), code(&o.path));
            format!("`{id}` ({method} {path})")
        };
        let names: Vec<String> = names.map(name).collect();
        match names.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => "no operation".into(),
        }
    }
}

impl<'a> Section<'a> {
    fn of(outcome: &'a Outcome, operation: Option<&'a CheckedOperation>) -> Self {
        let id = operation.map(|o| &o.operation_id);
        let all = outcome
            .differences
            .iter()
            .filter(|d| d.operation.as_ref() == id);
        let all: Vec<&Difference> = all.collect();
        let deviations = outcome
            .deviations
            .iter()
            .filter(|d| d.operation.as_ref() == id);
        let deviations: Vec<&DeviationStatus> = deviations.collect();
        let (summary, verbose) = (Counts::of(&all, &deviations), outcome.verbose);
        let listed = all
            .into_iter()
            .filter(|d| verbose || d.class != Class::Cosmetic);
        let differences: Vec<&Difference> = listed.collect();
        let explained = outcome.deviations.iter().map(|status| {
            let id = Some(&status.id);
            let mine = differences.iter().filter(|d| d.explained_by.as_ref() == id);
            (status.id.as_str(), mine.copied().collect::<Vec<_>>())
        });
        let explained = explained.filter(|(_, mine)| !mine.is_empty()).collect();
        Section {
            operation,
            summary,
            differences,
            deviations,
            explained,
            verbose,
        }
    }

    fn title(&self) -> String {
        match self.operation {
            Some(o) => {
                let (id, method, path) = (&o.operation_id, o.method.to_uppercase(), &o.path);
                format!("Operation `{id}` ({method} {path})")
            }
            None => "The document as a whole".into(),
        }
    }

    /// Where upstream's operation was found, in words.
    fn found(&self) -> Option<String> {
        let found = &self.operation?.upstream;
        let method = found.method.to_uppercase();
        Some(format!("{method} {} ({})", found.path, found.how()))
    }

    /// The unexplained differences listed: breaking and additive ones, then cosmetic ones.
    fn unexplained(&self) -> (Vec<&'a Difference>, Vec<&'a Difference>) {
        let unexplained = self.differences.iter().filter(|d| d.explained_by.is_none());
        unexplained.partition(|d| d.class != Class::Cosmetic)
    }

    fn explained_count(&self) -> usize {
        self.explained.iter().map(|(_, mine)| mine.len()).sum()
    }

    fn stale(&self) -> impl Iterator<Item = &&'a DeviationStatus> {
        self.deviations.iter().filter(|d| d.stale)
    }

    /// How the deviation pointers of this section are relative.
    fn scope(&self) -> &'static str {
        match self.operation {
            Some(_) => Scope::Operation.name(),
            None => Scope::Document.name(),
        }
    }

    /// Where a difference is upstream, as a deviation would write it, plus the document
    /// pointer when a `$ref` put it elsewhere.
    fn place(&self, difference: &Difference) -> String {
        let loc = &difference.upstream;
        let inline = match (loc.scope, self.operation) {
            (Scope::Operation, Some(o)) => format!("{}{}", o.upstream.pointer, loc.relative),
            _ => loc.relative.clone(),
        };
        let mut place = format!("{} ({})", display_pointer(&loc.relative), loc.scope.name());
        if loc.pointer != inline {
            let _ = write!(place, ", defined at #{}", loc.pointer);
        }
        place
    }
}

fn display_pointer(pointer: &str) -> &str {
    if pointer.is_empty() { "/" } else { pointer }
}

/// A value cut to `SHOWN_VALUE_CHARS`, or `absent`.
fn shown_value(value: &Option<Value>) -> String {
    let shown = value.as_ref().map(|value| cut(value, SHOWN_VALUE_CHARS));
    shown.unwrap_or_else(|| "absent".into())
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

/// The report as plain text.
struct Text<'a>(&'a Report<'a>);

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        let (
            Upstream {
                source,
                openapi,
                rewritten,
            },
            ours,
        ) = (&r.upstream, r.ours);
        let (file, recorded) = (r.deviations_file, r.recorded_from.describe());
        writeln!(f, "Drift check of {}", r.operation_names(str::to_string))?;
        writeln!(f, "  upstream:   {source} (OpenAPI {openapi})")?;
        writeln!(f, "  ours:       {ours}")?;
        writeln!(
            f,
            "  deviations: {file} (upstream values recorded from {recorded})"
        )?;
        if !rewritten.is_empty() {
            writeln!(
                f,
                "  rewritten:  {REWRITTEN} (where: --format json --verbose)"
            )?;
        }
        for Rewritten {
            count, description, ..
        } in rewritten
        {
            writeln!(f, "    {count:>5} × {description}")?;
        }
        writeln!(f, "\nResult: {}. {}", r.summary.verdict(), r.details())?;
        for section in r.sections() {
            Text::section(f, section)?;
        }
        if r.exit_code != 0 {
            writeln!(f, "\n{WHEN_IT_FIRES}")?;
        }
        Ok(())
    }
}

impl Text<'_> {
    fn section(f: &mut fmt::Formatter<'_>, section: &Section) -> fmt::Result {
        writeln!(f, "\n{}: {}", section.title(), section.summary.verdict())?;
        if let Some(found) = section.found() {
            writeln!(f, "  upstream: {found}")?;
        }
        let (serious, cosmetic) = section.unexplained();
        if !serious.is_empty() {
            writeln!(f, "  Unexplained differences ({}):", serious.len())?;
        }
        let indent = "              ";
        for d in serious {
            let (class, subject, text) =
                (d.class.name().to_uppercase(), &d.subject, &d.description);
            writeln!(f, "    {class:<9} {subject}\n{indent}{text}")?;
            writeln!(f, "{indent}upstream: {}", section.place(d))?;
            writeln!(f, "{indent}ours:     {}", display_pointer(&d.ours))?;
            if let Some((id, change)) = &d.under_stale {
                writeln!(f, "{indent}stale:    `{id}` covers this spot, but {change}")?;
            }
            writeln!(f, "{indent}to do:    {}", action(d))?;
        }
        let stale: Vec<_> = section.stale().collect();
        if !stale.is_empty() {
            writeln!(f, "  Stale deviations ({}):", stale.len())?;
        }
        for status in &stale {
            writeln!(f, "    {}", status.id)?;
            for Mismatch {
                pointer,
                change,
                now,
                ..
            } in &status.mismatches
            {
                let now = now
                    .as_ref()
                    .map_or_else(|| "absent".to_string(), Value::to_string);
                let scope = section.scope();
                writeln!(
                    f,
                    "      {pointer} ({scope}): {change}\n        upstream now: {now}"
                )?;
            }
        }
        if !stale.is_empty() {
            writeln!(f, "    {STALE_HELP}")?;
        }
        let total = section.explained_count();
        if total > 0 {
            writeln!(
                f,
                "  Expected differences ({total}, explained by deviations):"
            )?;
        }
        for (id, mine) in &section.explained {
            writeln!(f, "    {id}:")?;
            for d in mine {
                let (class, subject, text) = (d.class.name(), &d.subject, &d.description);
                writeln!(f, "      {class:<9} {subject}: {text}")?;
            }
        }
        if !cosmetic.is_empty() {
            writeln!(f, "  Cosmetic differences ({}):", cosmetic.len())?;
        }
        for d in cosmetic {
            let (subject, text, place) = (&d.subject, &d.description, section.place(d));
            writeln!(f, "    {subject}: {text} (upstream {place})")?;
        }
        let idle = section
            .deviations
            .iter()
            .filter(|s| !s.stale && s.explains == 0);
        let idle: Vec<&str> = idle.map(|s| s.id.as_str()).collect();
        if !idle.is_empty() && section.verbose {
            let (idle, what) = (idle.join(", "), "match upstream but explain no difference");
            writeln!(f, "  Deviations that {what} after normalisation: {idle}")?;
        }
        Ok(())
    }
}

/// The report as GitHub Markdown.
struct Markdown<'a>(&'a Report<'a>);

/// Escapes text for one cell of a GitHub Markdown table.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn code_cell(text: &str) -> String {
    format!("`{}`", cell(text))
}

/// A table: its header row (cells separated by ` | `), then `rows`; folded under a
/// `<details>` summary when there is one.
fn table(
    f: &mut fmt::Formatter<'_>,
    summary: Option<String>,
    header: &str,
    rows: Vec<Vec<String>>,
) -> fmt::Result {
    if let Some(summary) = &summary {
        writeln!(f, "<details><summary>{summary}</summary>\n")?;
    }
    let columns = header.split(" | ").count();
    writeln!(f, "| {header} |\n|{}", " --- |".repeat(columns))?;
    for row in rows {
        writeln!(f, "| {} |", row.join(" | "))?;
    }
    match summary {
        Some(_) => writeln!(f, "\n</details>\n"),
        None => writeln!(f),
    }
}

fn mark(ok: bool) -> &'static str {
    if ok { "✅" } else { "❌" }
}

impl fmt::Display for Markdown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        let (mark, verdict, details) = (mark(r.exit_code == 0), r.summary.verdict(), r.details());
        writeln!(f, "## {mark} Upstream drift: {verdict}\n\n{details}\n")?;
        let names = r.operation_names(|path| format!("`{path}`"));
        let (
            Upstream {
                source,
                openapi,
                rewritten,
            },
            ours,
        ) = (&r.upstream, r.ours);
        writeln!(
            f,
            "Checked {names} of `{ours}` against `{source}` (OpenAPI {openapi}).\n"
        )?;
        if !rewritten.is_empty() {
            let total: usize = rewritten.iter().map(|r| r.count).sum();
            let summary = format!("Upstream's {REWRITTEN} ({total})");
            let row = |r: &Rewritten| vec![r.count.to_string(), cell(r.description)];
            let rows = rewritten.iter().map(row).collect();
            table(f, Some(summary), "Count | Rewrite", rows)?;
        }
        for section in r.sections() {
            self.section(f, section)?;
        }
        if r.exit_code != 0 {
            writeln!(f, "**What to do:** {WHEN_IT_FIRES}")?;
        }
        Ok(())
    }
}

impl Markdown<'_> {
    fn section(&self, f: &mut fmt::Formatter<'_>, section: &Section) -> fmt::Result {
        let (summary, title) = (&section.summary, section.title());
        let (mark, verdict) = (mark(!summary.drift()), summary.verdict());
        writeln!(f, "### {mark} {title}: {verdict}\n")?;
        if let Some(found) = section.found() {
            writeln!(f, "Upstream: `{found}`.\n")?;
        }
        let (serious, cosmetic) = section.unexplained();
        let places = |d: &Difference| {
            [
                code_cell(&section.place(d)),
                code_cell(display_pointer(&d.ours)),
            ]
        };
        if !serious.is_empty() {
            writeln!(f, "#### Unexplained differences\n")?;
            let row = |d: &&Difference| {
                let mut what = cell(&d.description);
                if let Some((id, change)) = &d.under_stale {
                    let _ = write!(what, " (stale deviation `{id}`: {})", cell(change));
                }
                let ([place, ours], class) = (places(d), format!("**{}**", d.class.name()));
                vec![class, cell(&d.subject), what, place, ours, cell(&action(d))]
            };
            let header = "Class | Where | What changed | Upstream | Ours | What to do";
            table(f, None, header, serious.iter().map(row).collect())?;
        }
        let stale: Vec<_> = section.stale().collect();
        if !stale.is_empty() {
            writeln!(f, "#### Stale deviations\n\n{STALE_HELP}\n")?;
            let mut rows = Vec::new();
            for status in stale {
                for m in &status.mismatches {
                    let pointer = code_cell(&format!("{} ({})", m.pointer, section.scope()));
                    let [recorded, now] = [&m.recorded, &m.now].map(|v| code_cell(&shown_value(v)));
                    let id = format!("`{}`", status.id);
                    rows.push(vec![id, pointer, cell(&m.change), recorded, now]);
                }
            }
            let header = "Deviation | Pointer | What changed | Recorded | Upstream now";
            table(f, None, header, rows)?;
        }
        let total = section.explained_count();
        if total > 0 {
            let mut rows = Vec::new();
            for (id, mine) in &section.explained {
                for d in mine {
                    let (class, subject) = (d.class.name().to_string(), cell(&d.subject));
                    rows.push(vec![
                        format!("`{id}`"),
                        class,
                        subject,
                        cell(&d.description),
                    ]);
                }
            }
            let file = self.0.deviations_file;
            let summary =
                format!("Expected differences ({total}, explained by <code>{file}</code>)");
            table(
                f,
                Some(summary),
                "Deviation | Class | Where | Difference",
                rows,
            )?;
        }
        if !cosmetic.is_empty() {
            let row = |d: &&Difference| {
                let [place, ours] = places(d);
                vec![cell(&d.subject), cell(&d.description), place, ours]
            };
            let summary = format!("Cosmetic differences ({})", cosmetic.len());
            let rows = cosmetic.iter().map(row).collect();
            table(
                f,
                Some(summary),
                "Where | Difference | Upstream | Ours",
                rows,
            )?;
        }
        Ok(())
    }
}
