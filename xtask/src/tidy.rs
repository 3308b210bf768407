//! `cargo xtask tidy`: checks on the library's hand-written source (`webflow-api/src/`
//! without `generated.rs`) that rustc and clippy do not make, kept as `#[test]`s here so
//! `cargo test -p xtask` (and so CI) runs them, as rust-analyzer's tidy tests do. `cargo
//! xtask tidy` prints every finding as `file:line: check: message` and exits 1 if any:
//!
//! - `task-local`: no `task_local!` anywhere (state travels in arguments and the client,
//!   never in a task's hidden context);
//! - `import-cycle`: no cycle among the library's modules as their `use` declarations link
//!   them (the rule is on [`import_graph`]);
//! - `status-number`: no HTTP status number in `bulk/` code: the import decides from
//!   `Error`'s classification, never from statuses (the rule is on [`status_numbers`]);
//! - `module-doc`: every module file's first line is a `//!` comment saying what it owns.
//!
//! The source is read with a small lexer (comments, doc comments, strings and character
//! literals never match anything), not a parser: no dependency beyond std.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The library's source directory, relative to the repository root.
pub const LIBRARY_SRC: &str = "webflow-api/src";
/// Output, never source: not checked.
const GENERATED: &str = "generated.rs";

/// Import cycles tolerated until fixed (none today): a cycle whose modules all belong to one
/// entry passes, any other fails. `cargo xtask tidy` says when an entry is no longer needed.
const KNOWN_CYCLES: &[&[&str]] = &[];

/// What one check found, at a file and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub check: &'static str,
    /// Relative to the repository root.
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file, self.line, self.check, self.message
        )
    }
}

/// Everything the checks found, plus notes that fail nothing (a known cycle that is gone).
#[derive(Debug, Default)]
pub struct Report {
    pub files: usize,
    pub findings: Vec<Finding>,
    pub notes: Vec<String>,
}

/// `cargo xtask tidy`.
pub fn command(args: &[String]) -> Result<ExitCode, String> {
    let mut graph = false;
    for arg in args {
        match arg.as_str() {
            "--graph" => graph = true,
            other => return Err(format!("unknown tidy option `{other}`")),
        }
    }
    let root = crate::codegen::project_root();
    let report = match run(&root) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::from(2));
        }
    };
    if graph {
        let files = read_sources(&root.join(LIBRARY_SRC))?;
        for (from, edges) in import_graph(&files) {
            for (to, edge) in edges {
                println!(
                    "{} -> {} ({}:{})",
                    module_name(&from),
                    module_name(&to),
                    edge.file,
                    edge.line
                );
            }
        }
    }
    for finding in &report.findings {
        println!("{finding}");
    }
    for note in &report.notes {
        println!("note: {note}");
    }
    if report.findings.is_empty() {
        eprintln!(
            "tidy: {} files of {LIBRARY_SRC}, no finding (task-local, import-cycle, \
             status-number, module-doc)",
            report.files
        );
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("tidy: {} finding(s)", report.findings.len());
        Ok(ExitCode::from(1))
    }
}

/// Runs every check on the library under `root`.
pub fn run(root: &Path) -> Result<Report, String> {
    let files = read_sources(&root.join(LIBRARY_SRC))?;
    let mut report = Report {
        files: files.len(),
        ..Report::default()
    };
    report.findings.extend(task_locals(&files));
    let (cycles, notes) = import_cycles(&files, KNOWN_CYCLES);
    report.findings.extend(cycles);
    report.notes.extend(notes);
    report.findings.extend(status_numbers(&files));
    report.findings.extend(module_docs(&files));
    Ok(report)
}

// ---------------------------------------------------------------------------------------
// Source files

/// One `.rs` file of the library.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Relative to `webflow-api/src`, with `/`: `bulk/driver.rs`.
    pub rel: String,
    pub text: String,
}

impl SourceFile {
    fn display(&self) -> String {
        format!("{LIBRARY_SRC}/{}", self.rel)
    }
}

fn read_sources(dir: &Path) -> Result<Vec<SourceFile>, String> {
    let mut paths = Vec::new();
    collect_rs(dir, &mut paths)?;
    let mut files = Vec::new();
    for path in paths {
        let rel = path
            .strip_prefix(dir)
            .expect("collected under dir")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        if rel == GENERATED {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        files.push(SourceFile { rel, text });
    }
    files.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(files)
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
            .path();
        if path.is_dir() {
            collect_rs(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Lexer: code tokens only (comments, strings and character literals dropped)

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ident,
    Number,
    Punct,
    Lifetime,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    text: String,
    line: usize,
}

impl Token {
    fn is(&self, text: &str) -> bool {
        self.kind != Kind::Lifetime && self.text == text
    }
}

const MULTI_PUNCT: &[&str] = &[
    "..=", "...", "::", "=>", "->", "..", "==", "!=", "<=", ">=", "&&", "||",
];

fn tokenize(src: &str) -> Vec<Token> {
    let chars: Vec<char> = src.chars().collect();
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
            }
        } else if let Some(end) = raw_string_end(&chars, i) {
            line += chars[i..end].iter().filter(|&&c| c == '\n').count();
            i = end;
        } else if c == '"' || ((c == 'b' || c == 'c') && at(i + 1) == '"') {
            let start = i;
            i += if c == '"' { 1 } else { 2 };
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            line += chars[start..i.min(chars.len())]
                .iter()
                .filter(|&&c| c == '\n')
                .count();
        } else if c == '\'' || (c == 'b' && at(i + 1) == '\'') {
            let q = if c == 'b' { i + 1 } else { i };
            if at(q + 1) == '\\' {
                // An escaped character literal: '\n', '\'', '\u{1F600}'.
                i = q + 3;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(q + 2) == '\'' {
                i = q + 3;
            } else {
                // A lifetime or a label.
                let start = i;
                i += 1;
                while is_ident_char(at(i)) {
                    i += 1;
                }
                tokens.push(Token {
                    kind: Kind::Lifetime,
                    text: chars[start..i].iter().collect(),
                    line,
                });
            }
        } else if is_ident_start(c) {
            let start = i;
            if c == 'r' && at(i + 1) == '#' && is_ident_start(at(i + 2)) {
                i += 2;
            }
            while is_ident_char(at(i)) {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            let text = text.strip_prefix("r#").map(str::to_owned).unwrap_or(text);
            tokens.push(Token {
                kind: Kind::Ident,
                text,
                line,
            });
        } else if c.is_ascii_digit() {
            let start = i;
            while is_ident_char(at(i)) || (at(i) == '.' && at(i + 1).is_ascii_digit()) {
                i += 1;
            }
            tokens.push(Token {
                kind: Kind::Number,
                text: chars[start..i].iter().collect(),
                line,
            });
        } else {
            let rest: String = chars[i..(i + 3).min(chars.len())].iter().collect();
            let text = MULTI_PUNCT
                .iter()
                .find(|p| rest.starts_with(**p))
                .map_or_else(|| c.to_string(), |p| (*p).to_owned());
            i += text.chars().count();
            tokens.push(Token {
                kind: Kind::Punct,
                text,
                line,
            });
        }
    }
    tokens
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// The end (exclusive) of a raw string literal starting at `i` (`r"…"`, `r#"…"#`, `br#…`,
/// `cr#…`), or `None` when none starts there.
fn raw_string_end(chars: &[char], i: usize) -> Option<usize> {
    let mut j = i;
    if matches!(chars.get(j), Some('b' | 'c')) {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let hashes = chars[j..].iter().take_while(|&&c| c == '#').count();
    j += hashes;
    if chars.get(j) != Some(&'"') {
        return None;
    }
    j += 1;
    while j < chars.len() {
        if chars[j] == '"'
            && chars[j + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == '#')
                .count()
                == hashes
        {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(chars.len())
}

/// The index of the token closing the bracket opened at `open` (or the last token).
fn matching(tokens: &[Token], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        match token.text.as_str() {
            "(" | "[" | "{" if token.kind == Kind::Punct => depth += 1,
            ")" | "]" | "}" if token.kind == Kind::Punct => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    tokens.len().saturating_sub(1)
}

/// Which tokens belong to an item marked `#[cfg(test)]` (a test module, function, `use`),
/// and the names of file modules declared `#[cfg(test)] mod name;`.
fn test_mask(tokens: &[Token]) -> (Vec<bool>, Vec<String>) {
    let mut mask = vec![false; tokens.len()];
    let mut test_files = Vec::new();
    let is_cfg_test = |i: usize| {
        let texts: Vec<&str> = tokens[i..]
            .iter()
            .take(7)
            .map(|t| t.text.as_str())
            .collect();
        texts == ["#", "[", "cfg", "(", "test", ")", "]"]
    };
    let mut i = 0;
    while i < tokens.len() {
        if !is_cfg_test(i) {
            i += 1;
            continue;
        }
        let start = i;
        let mut j = i + 7;
        // Further attributes, then a visibility.
        while j < tokens.len() && tokens[j].is("#") && tokens.get(j + 1).is_some_and(|t| t.is("["))
        {
            j = matching(tokens, j + 1) + 1;
        }
        if tokens.get(j).is_some_and(|t| t.is("pub")) {
            j += 1;
            if tokens.get(j).is_some_and(|t| t.is("(")) {
                j = matching(tokens, j) + 1;
            }
        }
        let end = if tokens.get(j).is_some_and(|t| t.is("use")) {
            (j..tokens.len())
                .find(|&k| tokens[k].is(";"))
                .unwrap_or(tokens.len() - 1)
        } else if tokens.get(j).is_some_and(|t| t.is("mod"))
            && tokens.get(j + 2).is_some_and(|t| t.is(";"))
        {
            test_files.push(tokens[j + 1].text.clone());
            j + 2
        } else {
            let mut k = j;
            let mut depth = 0i32;
            loop {
                let Some(token) = tokens.get(k) else {
                    break tokens.len() - 1;
                };
                match token.text.as_str() {
                    "(" | "[" => depth += 1,
                    ")" | "]" => depth -= 1,
                    ";" if depth == 0 => break k,
                    "{" if depth == 0 => break matching(tokens, k),
                    _ => {}
                }
                k += 1;
            }
        };
        for flag in &mut mask[start..=end.min(tokens.len() - 1)] {
            *flag = true;
        }
        i = end + 1;
    }
    (mask, test_files)
}

// ---------------------------------------------------------------------------------------
// task-local

/// `task-local`: no `task_local!` in any file (tests included).
pub fn task_locals(files: &[SourceFile]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for file in files {
        let tokens = tokenize(&file.text);
        for pair in tokens.windows(2) {
            if pair[0].kind == Kind::Ident && pair[0].text == "task_local" && pair[1].is("!") {
                findings.push(Finding {
                    check: "task-local",
                    file: file.display(),
                    line: pair[0].line,
                    message: "`task_local!`: pass the value in arguments or keep it in the \
                              client's state, where a spawned task and a reader can see it"
                        .into(),
                });
            }
        }
    }
    findings
}

// ---------------------------------------------------------------------------------------
// import-cycle

/// A module path: `[]` is the crate root, `["bulk", "driver"]` is `bulk::driver`.
type ModPath = Vec<String>;

fn module_name(path: &[String]) -> String {
    if path.is_empty() {
        "crate".to_owned()
    } else {
        path.join("::")
    }
}

/// The module a library file is (`lib.rs` → the root, `a/mod.rs` → `a`, `a/b.rs` →
/// `a::b`), or `None` for a file outside the library (`bin/`).
fn module_of(rel: &str) -> Option<ModPath> {
    if rel.starts_with("bin/") {
        return None;
    }
    let stem = rel.strip_suffix(".rs")?;
    let mut parts: Vec<String> = stem.split('/').map(str::to_owned).collect();
    if parts.last().is_some_and(|p| p == "mod") || rel == "lib.rs" {
        parts.pop();
    }
    Some(parts)
}

/// One path of a `use` declaration: `use crate::a::{b, c as d}` has two.
#[derive(Debug, Clone)]
struct UsePath {
    segments: Vec<String>,
    alias: Option<String>,
    line: usize,
}

/// A `use` declaration outside `#[cfg(test)]` items.
#[derive(Debug, Clone)]
struct UseDecl {
    public: bool,
    /// The inline modules (`mod types { … }`) the declaration is in, outermost first.
    inline: Vec<String>,
    paths: Vec<UsePath>,
}

/// What the graph needs of one file: its `use` declarations and inline modules.
#[derive(Debug, Clone)]
struct ModuleSource {
    module: ModPath,
    display: String,
    uses: Vec<UseDecl>,
    inline_modules: Vec<ModPath>,
}

fn parse_module(file: &SourceFile, module: ModPath) -> ModuleSource {
    let tokens = tokenize(&file.text);
    let (mask, _) = test_mask(&tokens);
    let mut uses = Vec::new();
    let mut inline_modules = Vec::new();
    // (name, brace depth inside its block)
    let mut stack: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        if mask[i] {
            i += 1;
            continue;
        }
        if token.is("{") {
            depth += 1;
        } else if token.is("}") {
            depth = depth.saturating_sub(1);
            while stack.last().is_some_and(|(_, d)| *d > depth) {
                stack.pop();
            }
        } else if token.is("mod")
            && tokens.get(i + 1).is_some_and(|t| t.kind == Kind::Ident)
            && tokens.get(i + 2).is_some_and(|t| t.is("{"))
        {
            let name = tokens[i + 1].text.clone();
            let mut path = module.clone();
            path.extend(stack.iter().map(|(n, _)| n.clone()));
            path.push(name.clone());
            inline_modules.push(path);
            depth += 1;
            stack.push((name, depth));
            i += 3;
            continue;
        } else if token.is("use") {
            let public = is_public(&tokens, i);
            let mut pos = i + 1;
            let mut paths = Vec::new();
            parse_use_tree(&tokens, &mut pos, Vec::new(), &mut paths);
            uses.push(UseDecl {
                public,
                inline: stack.iter().map(|(n, _)| n.clone()).collect(),
                paths,
            });
            i = pos;
            continue;
        }
        i += 1;
    }
    ModuleSource {
        module,
        display: file.display(),
        uses,
        inline_modules,
    }
}

/// Whether the `use` at `i` is `pub` or `pub(…)`.
fn is_public(tokens: &[Token], i: usize) -> bool {
    match i.checked_sub(1).map(|k| &tokens[k]) {
        Some(t) if t.is("pub") => true,
        Some(t) if t.is(")") => {
            let mut depth = 0;
            for k in (0..i).rev() {
                if tokens[k].is(")") {
                    depth += 1;
                } else if tokens[k].is("(") {
                    depth -= 1;
                    if depth == 0 {
                        return k > 0 && tokens[k - 1].is("pub");
                    }
                }
            }
            false
        }
        _ => false,
    }
}

/// Parses one use tree at `pos` (paths, `{…}` groups, `*`, `as` renames) into `out`.
fn parse_use_tree(tokens: &[Token], pos: &mut usize, prefix: Vec<String>, out: &mut Vec<UsePath>) {
    let mut path = prefix;
    if tokens.get(*pos).is_some_and(|t| t.is("::")) {
        *pos += 1;
    }
    while let Some(token) = tokens.get(*pos) {
        if token.is("{") {
            *pos += 1;
            while let Some(token) = tokens.get(*pos) {
                if token.is("}") {
                    *pos += 1;
                    break;
                }
                if token.is(",") {
                    *pos += 1;
                    continue;
                }
                let before = *pos;
                parse_use_tree(tokens, pos, path.clone(), out);
                if *pos == before {
                    *pos += 1;
                }
            }
            return;
        } else if token.is("*") {
            path.push("*".into());
            out.push(UsePath {
                segments: path,
                alias: None,
                line: token.line,
            });
            *pos += 1;
            return;
        } else if token.kind == Kind::Ident {
            path.push(token.text.clone());
            let line = token.line;
            *pos += 1;
            if tokens.get(*pos).is_some_and(|t| t.is("::")) {
                *pos += 1;
                continue;
            }
            let mut alias = None;
            if tokens.get(*pos).is_some_and(|t| t.is("as")) {
                alias = tokens.get(*pos + 1).map(|t| t.text.clone());
                *pos += 2;
            }
            out.push(UsePath {
                segments: path,
                alias,
                line,
            });
            return;
        } else {
            return;
        }
    }
}

/// One edge of the graph: `from` uses `to`, first at `line` of `file`.
#[derive(Debug, Clone)]
struct Edge {
    file: String,
    line: usize,
}

/// The library's module graph.
///
/// **The rule.** Nodes are the library's module files (`lib.rs` is `crate`, `a.rs` and
/// `a/mod.rs` are `a`, `a/b.rs` is `a::b`; `generated.rs` is a node that is not read, and
/// `bin/` is not the library). Each `use` declaration outside `#[cfg(test)]` items whose path
/// starts with `crate::`, `super::`, `self::` or a child module's name is an edge from its
/// file to the module that *defines* the named item: the path's longest prefix that is a
/// module file, followed through that module's `pub`/`pub(…)` re-exports (and those of its
/// inline modules, as `crate::types`). A re-export is an edge from the module that makes it,
/// except at the crate root: `lib.rs` is the facade, and a module that uses `crate::Client`
/// depends on `client`, not on every module the root re-exports. Paths written inline in
/// code (`super::driver::run(…)`), without a `use`, are not edges.
fn import_graph(files: &[SourceFile]) -> BTreeMap<ModPath, BTreeMap<ModPath, Edge>> {
    let sources: Vec<ModuleSource> = files
        .iter()
        .filter_map(|file| module_of(&file.rel).map(|module| parse_module(file, module)))
        .collect();
    let mut modules: BTreeSet<ModPath> = sources.iter().map(|s| s.module.clone()).collect();
    modules.insert(vec!["generated".to_owned()]);
    let known: BTreeSet<ModPath> = modules
        .iter()
        .cloned()
        .chain(
            sources
                .iter()
                .flat_map(|s| s.inline_modules.iter().cloned()),
        )
        .collect();

    // Every module's re-exports: "Name" or "inline::Name" → the absolute path re-exported.
    let mut reexports: BTreeMap<ModPath, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for source in &sources {
        for decl in source.uses.iter().filter(|d| d.public) {
            for path in &decl.paths {
                let Some(absolute) = absolutize(&source.module, &decl.inline, path, &known) else {
                    continue;
                };
                let Some(name) = path.alias.clone().or_else(|| leaf_name(&path.segments)) else {
                    continue;
                };
                let key = decl
                    .inline
                    .iter()
                    .cloned()
                    .chain([name])
                    .collect::<Vec<_>>()
                    .join("::");
                reexports
                    .entry(source.module.clone())
                    .or_default()
                    .insert(key, absolute);
            }
        }
    }

    let mut graph: BTreeMap<ModPath, BTreeMap<ModPath, Edge>> = BTreeMap::new();
    for source in &sources {
        let node = graph.entry(source.module.clone()).or_default();
        for decl in source.uses.iter() {
            if decl.public && source.module.is_empty() {
                continue;
            }
            for path in &decl.paths {
                let Some(absolute) = absolutize(&source.module, &decl.inline, path, &known) else {
                    continue;
                };
                let target = defining_module(absolute, &modules, &reexports, 0);
                if target != source.module {
                    node.entry(target).or_insert(Edge {
                        file: source.display.clone(),
                        line: path.line,
                    });
                }
            }
        }
    }
    graph
}

/// The name a `use` path brings into scope (`a::b` → `b`, `a::b::self` → `b`; none for `*`).
fn leaf_name(segments: &[String]) -> Option<String> {
    match segments {
        [.., parent, last] if last == "self" => Some(parent.clone()),
        [.., last] if last != "*" => Some(last.clone()),
        _ => None,
    }
}

/// A `use` path made absolute (from the crate root), or `None` when it leaves the crate
/// (`std::…`, `reqwest::…`).
fn absolutize(
    module: &[String],
    inline: &[String],
    path: &UsePath,
    known: &BTreeSet<ModPath>,
) -> Option<Vec<String>> {
    let mut base: Vec<String> = module.iter().chain(inline).cloned().collect();
    let segments = &path.segments;
    let first = segments.first()?;
    let mut rest = match first.as_str() {
        "crate" => segments[1..].to_vec(),
        "self" => {
            base.extend(segments[1..].iter().cloned());
            base
        }
        "super" => {
            let supers = segments.iter().take_while(|s| *s == "super").count();
            for _ in 0..supers {
                base.pop()?;
            }
            base.extend(segments[supers..].iter().cloned());
            base
        }
        name => {
            let mut child = base.clone();
            child.push(name.to_owned());
            if !known.contains(&child) {
                return None;
            }
            base.extend(segments.iter().cloned());
            base
        }
    };
    if rest.last().is_some_and(|s| s == "self" || s == "*") {
        rest.pop();
    }
    Some(rest)
}

/// The module file that defines what `absolute` names, following re-exports.
fn defining_module(
    absolute: Vec<String>,
    modules: &BTreeSet<ModPath>,
    reexports: &BTreeMap<ModPath, BTreeMap<String, Vec<String>>>,
    hops: usize,
) -> ModPath {
    let k = (0..=absolute.len())
        .rev()
        .find(|&k| modules.contains(&absolute[..k]))
        .unwrap_or(0);
    let module = absolute[..k].to_vec();
    let rest = &absolute[k..];
    if hops < 8
        && let Some(map) = reexports.get(&module)
    {
        for j in (1..=rest.len()).rev() {
            if let Some(target) = map.get(&rest[..j].join("::")) {
                let mut next = target.clone();
                next.extend(rest[j..].iter().cloned());
                if next != absolute {
                    return defining_module(next, modules, reexports, hops + 1);
                }
            }
        }
    }
    module
}

/// `import-cycle`: every strongly connected component of the graph with more than one
/// module is a cycle; it fails unless all its modules are within one entry of `known`.
/// Also returns notes on `known` entries no component needs any more.
fn import_cycles(files: &[SourceFile], known: &[&[&str]]) -> (Vec<Finding>, Vec<String>) {
    let graph = import_graph(files);
    let components = strongly_connected(&graph);
    let mut findings = Vec::new();
    let mut notes = Vec::new();
    let mut used = vec![false; known.len()];
    for component in components.iter().filter(|c| c.len() > 1) {
        let names: BTreeSet<String> = component.iter().map(|m| module_name(m)).collect();
        let cycle = shortest_cycle(&graph, component);
        let first = &graph[&cycle[0]][&cycle[1]];
        let mut message = format!(
            "import cycle {}",
            cycle
                .iter()
                .map(|m| module_name(m))
                .collect::<Vec<_>>()
                .join(" → ")
        );
        for pair in cycle.windows(2) {
            let edge = &graph[&pair[0]][&pair[1]];
            message.push_str(&format!(
                "\n    {} uses {} at {}:{}",
                module_name(&pair[0]),
                module_name(&pair[1]),
                edge.file,
                edge.line
            ));
        }
        if component.len() + 1 > cycle.len() {
            message.push_str(&format!(
                "\n    (every module on a cycle with these: {})",
                names.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        let finding = Finding {
            check: "import-cycle",
            file: first.file.clone(),
            line: first.line,
            message,
        };
        match known
            .iter()
            .position(|entry| names.iter().all(|n| entry.contains(&n.as_str())))
        {
            Some(entry) => {
                used[entry] = true;
                notes.push(format!(
                    "known (KNOWN_CYCLES in xtask/src/tidy.rs): {finding}"
                ));
            }
            None => findings.push(finding),
        }
    }
    for (entry, _) in known.iter().zip(used).filter(|(_, used)| !used) {
        notes.push(format!(
            "the known import cycle among {} is gone: delete it from KNOWN_CYCLES in \
             xtask/src/tidy.rs",
            entry.join(", ")
        ));
    }
    (findings, notes)
}

/// Tarjan's strongly connected components, each sorted.
fn strongly_connected(graph: &BTreeMap<ModPath, BTreeMap<ModPath, Edge>>) -> Vec<Vec<ModPath>> {
    struct State<'g> {
        graph: &'g BTreeMap<ModPath, BTreeMap<ModPath, Edge>>,
        index: BTreeMap<&'g ModPath, usize>,
        low: BTreeMap<&'g ModPath, usize>,
        stack: Vec<&'g ModPath>,
        on_stack: BTreeSet<&'g ModPath>,
        components: Vec<Vec<ModPath>>,
    }
    fn visit<'g>(state: &mut State<'g>, node: &'g ModPath) {
        let n = state.index.len();
        state.index.insert(node, n);
        state.low.insert(node, n);
        state.stack.push(node);
        state.on_stack.insert(node);
        if let Some(edges) = state.graph.get(node) {
            for next in edges.keys() {
                if !state.index.contains_key(next) {
                    visit(state, next);
                    let low = state.low[next].min(state.low[node]);
                    state.low.insert(node, low);
                } else if state.on_stack.contains(next) {
                    let low = state.index[next].min(state.low[node]);
                    state.low.insert(node, low);
                }
            }
        }
        if state.low[node] == state.index[node] {
            let mut component = Vec::new();
            while let Some(top) = state.stack.pop() {
                state.on_stack.remove(top);
                component.push(top.clone());
                if top == node {
                    break;
                }
            }
            component.sort();
            state.components.push(component);
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for node in graph.keys() {
        if !state.index.contains_key(node) {
            visit(&mut state, node);
        }
    }
    state.components
}

/// The shortest cycle through the component's first module, as a path that ends where it
/// starts.
fn shortest_cycle(
    graph: &BTreeMap<ModPath, BTreeMap<ModPath, Edge>>,
    component: &[ModPath],
) -> Vec<ModPath> {
    let start = &component[0];
    let inside: BTreeSet<&ModPath> = component.iter().collect();
    let mut previous: BTreeMap<&ModPath, &ModPath> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for next in graph.get(node).into_iter().flat_map(|edges| edges.keys()) {
            if !inside.contains(next) {
                continue;
            }
            if next == start {
                let mut path = vec![start.clone()];
                let mut at = node;
                while at != start {
                    path.push(at.clone());
                    at = previous[at];
                }
                path.push(start.clone());
                path.reverse();
                return path;
            }
            if !previous.contains_key(next) {
                previous.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    unreachable!("a strongly connected component of several modules has a cycle through each")
}

// ---------------------------------------------------------------------------------------
// status-number

/// `status-number`: no HTTP status number in `bulk/` code; the import decides from
/// `Error::disposition()` and `Error`'s classification methods (error.rs, retry.rs).
///
/// **The rule.** In the code of `bulk/` outside `#[cfg(test)]` items (comments, doc
/// comments and strings never count), a decimal integer literal from 100 to 599 is a status
/// number when:
/// - it is in a pattern: a `match` arm's pattern or guard, or the pattern of `matches!`; or
/// - its statement (the tokens between the nearest `;`, `{` or `}` on each side) names a
///   status: an identifier containing `status` (any case: `status`, `StatusCode`,
///   `http_status`) or `as_u16` / `from_u16`.
///
/// Other numbers are quantities, not statuses, and pass: `take(100)` items, a 500 ms delay.
/// (Today bulk/ has no three-digit literal in code at all; a quantity belongs in a named
/// constant anyway.)
pub fn status_numbers(files: &[SourceFile]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for file in files.iter().filter(|f| f.rel.starts_with("bulk/")) {
        let tokens = tokenize(&file.text);
        let (mask, _) = test_mask(&tokens);
        let in_pattern = pattern_tokens(&tokens);
        for (i, token) in tokens.iter().enumerate() {
            if mask[i] || !is_status_like_number(token) {
                continue;
            }
            let why = if in_pattern[i] {
                "in a pattern"
            } else if statement_names_a_status(&tokens, i) {
                "next to a status"
            } else {
                continue;
            };
            findings.push(Finding {
                check: "status-number",
                file: file.display(),
                line: token.line,
                message: format!(
                    "HTTP status `{}` {why} in bulk code: decide from `Error::disposition()` \
                     or an `Error` method (error.rs, retry.rs own the statuses)",
                    token.text
                ),
            });
        }
    }
    findings
}

/// A decimal integer literal (underscores and a type suffix allowed) from 100 to 599.
fn is_status_like_number(token: &Token) -> bool {
    if token.kind != Kind::Number || token.text.starts_with("0x") || token.text.contains('.') {
        return false;
    }
    let digits: String = token
        .text
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '_')
        .collect();
    let suffix = &token.text[digits.len()..];
    if !(suffix.is_empty() || suffix.starts_with('u') || suffix.starts_with('i')) {
        return false;
    }
    digits
        .replace('_', "")
        .parse::<u32>()
        .is_ok_and(|n| (100..=599).contains(&n))
}

fn statement_names_a_status(tokens: &[Token], i: usize) -> bool {
    let boundary = |t: &Token| t.is(";") || t.is("{") || t.is("}");
    let start = tokens[..i].iter().rposition(boundary).map_or(0, |k| k + 1);
    let end = tokens[i..]
        .iter()
        .position(boundary)
        .map_or(tokens.len(), |k| i + k);
    tokens[start..end].iter().any(|t| {
        t.kind == Kind::Ident && {
            let lower = t.text.to_ascii_lowercase();
            lower.contains("status") || lower == "as_u16" || lower == "from_u16"
        }
    })
}

/// Which tokens are in a pattern: a `match` arm's pattern and guard (up to its `=>`), or the
/// pattern of `matches!(expr, pattern)`.
fn pattern_tokens(tokens: &[Token]) -> Vec<bool> {
    let mut in_pattern = vec![false; tokens.len()];
    for (m, token) in tokens.iter().enumerate() {
        if token.kind != Kind::Ident {
            continue;
        }
        if token.text == "matches" && tokens.get(m + 1).is_some_and(|t| t.is("!")) {
            let open = m + 2;
            if !tokens.get(open).is_some_and(|t| t.is("(")) {
                continue;
            }
            let close = matching(tokens, open);
            let mut depth = 0i32;
            let mut comma = None;
            for (k, t) in tokens.iter().enumerate().take(close).skip(open + 1) {
                match t.text.as_str() {
                    "(" | "[" | "{" => depth += 1,
                    ")" | "]" | "}" => depth -= 1,
                    "," if depth == 0 => {
                        comma = Some(k);
                        break;
                    }
                    _ => {}
                }
            }
            if let Some(comma) = comma {
                for flag in &mut in_pattern[comma + 1..close] {
                    *flag = true;
                }
            }
        } else if token.text == "match" {
            // The arms' block: the first `{` outside brackets after the scrutinee.
            let mut depth = 0i32;
            let mut open = None;
            for (k, t) in tokens.iter().enumerate().skip(m + 1) {
                match t.text.as_str() {
                    "(" | "[" => depth += 1,
                    ")" | "]" => depth -= 1,
                    "{" if depth == 0 => {
                        open = Some(k);
                        break;
                    }
                    ";" | "}" if depth == 0 => break,
                    _ => {}
                }
            }
            let Some(open) = open else { continue };
            let close = matching(tokens, open);
            let mut k = open + 1;
            while k < close {
                // The pattern (and guard): up to `=>` outside brackets.
                let arm = k;
                let mut depth = 0i32;
                while k < close && !(depth == 0 && tokens[k].is("=>")) {
                    match tokens[k].text.as_str() {
                        "(" | "[" | "{" => depth += 1,
                        ")" | "]" | "}" => depth -= 1,
                        _ => {}
                    }
                    k += 1;
                }
                for flag in &mut in_pattern[arm..k] {
                    *flag = true;
                }
                // The body: a block, or an expression up to `,` outside brackets.
                k += 1;
                if k < close && tokens[k].is("{") {
                    k = matching(tokens, k) + 1;
                    if k < close && tokens[k].is(",") {
                        k += 1;
                    }
                } else {
                    let mut depth = 0i32;
                    while k < close && !(depth == 0 && tokens[k].is(",")) {
                        match tokens[k].text.as_str() {
                            "(" | "[" | "{" => depth += 1,
                            ")" | "]" | "}" => depth -= 1,
                            _ => {}
                        }
                        k += 1;
                    }
                    k += 1;
                }
            }
        }
    }
    in_pattern
}

// ---------------------------------------------------------------------------------------
// module-doc

/// `module-doc`: each file's first line is a `//!` comment with text (the crate root may
/// instead start with `#![doc = …]`, its README).
pub fn module_docs(files: &[SourceFile]) -> Vec<Finding> {
    files
        .iter()
        .filter_map(|file| {
            let first = file.text.lines().next().unwrap_or("").trim();
            let documented = first
                .strip_prefix("//!")
                .is_some_and(|text| !text.trim().is_empty())
                || (file.rel == "lib.rs" && first.starts_with("#![doc"));
            (!documented).then(|| Finding {
                check: "module-doc",
                file: file.display(),
                line: 1,
                message: "the first line is not a `//!` comment: start the file with one \
                          saying what the module owns"
                    .into(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library() -> Vec<SourceFile> {
        read_sources(&crate::codegen::project_root().join(LIBRARY_SRC)).unwrap()
    }

    fn fail_on(findings: &[Finding]) {
        let text: Vec<String> = findings.iter().map(ToString::to_string).collect();
        assert!(findings.is_empty(), "\n{}\n", text.join("\n"));
    }

    fn file(rel: &str, text: &str) -> SourceFile {
        SourceFile {
            rel: rel.into(),
            text: text.into(),
        }
    }

    // The checks on the library, as `cargo xtask tidy` runs them.

    #[test]
    fn no_task_local() {
        fail_on(&task_locals(&library()));
    }

    #[test]
    fn no_import_cycle() {
        fail_on(&import_cycles(&library(), KNOWN_CYCLES).0);
    }

    #[test]
    fn no_http_status_number_in_bulk() {
        fail_on(&status_numbers(&library()));
    }

    #[test]
    fn every_module_starts_with_a_doc_comment() {
        fail_on(&module_docs(&library()));
    }

    #[test]
    fn the_library_is_read_and_its_graph_is_plausible() {
        let files = library();
        assert!(files.iter().any(|f| f.rel == "bulk/driver.rs"));
        assert!(files.iter().all(|f| f.rel != GENERATED));
        let graph = import_graph(&files);
        let edges = |from: &str| -> Vec<String> {
            let from: ModPath = from.split("::").map(str::to_owned).collect();
            graph[&from].keys().map(|m| module_name(m)).collect()
        };
        // `use crate::{Client, Error}` reaches the defining modules through lib.rs's
        // re-exports, and `crate::types::…` reaches the generated code.
        let create = edges("create");
        assert!(create.contains(&"client".to_owned()), "{create:?}");
        assert!(create.contains(&"error".to_owned()), "{create:?}");
        assert!(create.contains(&"generated".to_owned()), "{create:?}");
        assert!(!create.contains(&"crate".to_owned()), "{create:?}");
        assert!(edges("bulk::driver").contains(&"bulk".to_owned()));
    }

    // The checks themselves.

    #[test]
    fn comments_strings_and_char_literals_are_not_code() {
        let src = r####"
            // task_local! { static A: u8; }
            /* task_local! /* nested */ task_local! */
            /// task_local!
            let s = "task_local!(\" 429";
            let r = r#"task_local! "429" "#;
            let b = br##"task_local!"##;
            let c = '"'; let d = '\''; let e = b'\\';
            fn f<'a>(x: &'a str) -> &'a str { x }
            let after = 1;
        "####;
        let tokens = tokenize(src);
        assert!(
            tokens
                .iter()
                .all(|t| t.text != "task_local" && t.text != "429"),
            "{tokens:?}"
        );
        let after = tokens.iter().find(|t| t.text == "after").unwrap();
        assert_eq!(after.line, 10);
        assert!(
            tokens
                .iter()
                .any(|t| t.kind == Kind::Lifetime && t.text == "'a")
        );
    }

    #[test]
    fn task_local_is_found_with_its_line() {
        let files = [file(
            "a.rs",
            "//! A.\n\ntokio::task_local! {\n    static ID: u64;\n}\n",
        )];
        let findings = task_locals(&files);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].file, "webflow-api/src/a.rs");
        assert_eq!(findings[0].line, 3);
        assert!(
            findings[0]
                .to_string()
                .starts_with("webflow-api/src/a.rs:3: task-local: ")
        );
    }

    #[test]
    fn a_cycle_is_reported_with_its_path_and_lines() {
        let files = [
            file(
                "lib.rs",
                "//! Root.\nmod a;\nmod b;\nmod c;\npub use a::A;\n",
            ),
            file("a.rs", "//! A.\nuse crate::b::B;\npub struct A;\n"),
            file(
                "b.rs",
                "//! B.\n\nuse crate::c::{self, C};\npub struct B;\n",
            ),
            file("c.rs", "//! C.\nuse crate::A;\npub struct C;\n"),
        ];
        let (findings, notes) = import_cycles(&files, &[]);
        assert_eq!(findings.len(), 1, "{findings:?}");
        let finding = &findings[0];
        assert_eq!(
            (finding.file.as_str(), finding.line),
            ("webflow-api/src/a.rs", 2)
        );
        assert!(
            finding.message.starts_with("import cycle a → b → c → a"),
            "{}",
            finding.message
        );
        assert!(
            finding
                .message
                .contains("b uses c at webflow-api/src/b.rs:3"),
            "{}",
            finding.message
        );
        // `crate::A` is resolved through the root's re-export to `a`.
        assert!(
            finding
                .message
                .contains("c uses a at webflow-api/src/c.rs:2"),
            "{}",
            finding.message
        );
        assert!(notes.is_empty());

        // A known cycle passes (as a note), and an entry no cycle needs is a note.
        let (findings, notes) = import_cycles(&files, &[&["a", "b", "c"], &["x", "y"]]);
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].contains("import cycle a → b → c → a"), "{notes:?}");
        assert!(notes[1].contains("among x, y is gone"), "{notes:?}");
    }

    #[test]
    fn parents_children_tests_and_the_root_facade() {
        let files = [
            // The root re-exports from everything: no edges from it.
            file(
                "lib.rs",
                "//! Root.\nmod p;\nmod q;\npub use p::{P, child::C};\npub use q::Q;\n",
            ),
            // A parent re-exporting its child, the child using the parent: a cycle.
            file(
                "p/mod.rs",
                "//! P.\nmod child;\npub use child::C;\npub struct P;\n",
            ),
            file("p/child.rs", "//! Child.\nuse super::P;\npub struct C;\n"),
            // A test module's imports are not edges; `std` is not a module of ours.
            file(
                "q.rs",
                "//! Q.\nuse std::fmt;\npub struct Q;\n#[cfg(test)]\nmod tests {\n    use crate::P;\n}\n",
            ),
        ];
        let graph = import_graph(&files);
        assert!(graph[&Vec::<String>::new()].is_empty(), "{graph:?}");
        assert!(graph[&vec!["q".to_owned()]].is_empty(), "{graph:?}");
        let (findings, _) = import_cycles(&files, &[]);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert!(
            findings[0]
                .message
                .starts_with("import cycle p → p::child → p"),
            "{findings:?}"
        );
        // Binaries are not library modules.
        assert_eq!(module_of("bin/webflow-import/ui.rs"), None);
        assert_eq!(module_of("bulk/mod.rs"), Some(vec!["bulk".to_owned()]));
    }

    #[test]
    fn status_numbers_in_patterns_and_status_statements_are_found() {
        let src = "//! Bulk.
fn a(e: &Error) -> bool {
    matches!(e.kind(), Kind::Api(429 | 408))
}
fn b(code: u16) -> u8 {
    match code {
        500..=599 => 1,
        n if n == 404 => 2,
        _ => 3,
    }
}
fn c(r: &Response) -> bool { r.status().as_u16() >= 500 }
fn d(e: &Error) -> bool { if let Error::Api { status: 409, .. } = e { true } else { false } }
";
        let findings = status_numbers(&[file("bulk/x.rs", src)]);
        let found: Vec<(usize, &str)> = findings
            .iter()
            .map(|f| (f.line, f.message.split('`').nth(1).unwrap()))
            .collect();
        assert_eq!(
            found,
            [
                (3, "429"),
                (3, "408"),
                (7, "500"),
                (7, "599"),
                (8, "404"),
                (12, "500"),
                (13, "409")
            ]
        );
        assert!(
            findings[0]
                .to_string()
                .starts_with("webflow-api/src/bulk/x.rs:3: status-number: ")
        );
    }

    #[test]
    fn quantities_comments_tests_and_other_modules_pass() {
        let src = "//! Bulk: a 429 or a 500 in a comment is fine.
/// Sends 100 items per request; a 503 answer is `OutcomeUnknown`.
const PER_REQUEST: usize = 100;
fn a(items: Vec<u8>) -> usize {
    let delay = Duration::from_millis(500);
    let label = \"status 500\";
    match items.len() {
        0 => 0,
        n => n.min(250),
    }
}
#[cfg(test)]
mod tests {
    fn fake() -> u16 { let status = 500; status }
}
";
        assert_eq!(status_numbers(&[file("bulk/y.rs", src)]), []);
        // Outside bulk/ the check does not apply.
        let elsewhere = "//! Retry.\nfn f(s: u16) -> bool { matches!(s, 429 | 408) }\n";
        assert_eq!(status_numbers(&[file("retry.rs", elsewhere)]), []);
    }

    #[test]
    fn module_doc_is_required_on_the_first_line() {
        let files = [
            file("ok.rs", "//! Owns the thing.\nfn f() {}\n"),
            file("lib.rs", "#![doc = include_str!(\"../README.md\")]\n"),
            file("empty_doc.rs", "//!\n//! Text on the second line.\n"),
            file("late.rs", "use std::fmt;\n//! Too late.\n"),
            file("outer.rs", "/// An outer doc comment.\nfn f() {}\n"),
            file("bin/tool.rs", "fn main() {}\n"),
        ];
        let failing: Vec<String> = module_docs(&files).into_iter().map(|f| f.file).collect();
        assert_eq!(
            failing,
            [
                "webflow-api/src/empty_doc.rs",
                "webflow-api/src/late.rs",
                "webflow-api/src/outer.rs",
                "webflow-api/src/bin/tool.rs"
            ]
        );
    }
}
