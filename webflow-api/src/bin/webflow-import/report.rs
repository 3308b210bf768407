//! `--report FILE`: one JSON object per non-blank input line, each written whole, in one
//! write, as soon as its outcome is known — so however the process ends (even killed), the
//! file holds only complete lines.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::lock;

/// One report line.
#[derive(Serialize)]
pub struct Entry<'a> {
    /// The input line number (1-based, blank lines counted).
    pub line: Option<u64>,
    /// The item's slug as given; `null` when a malformed line has none.
    pub slug: Option<&'a str>,
    /// `created`, `settled`, `skipped`, `updated`, `unchanged`, `not_live`, `failed`,
    /// `invalid`, `unknown`, `not_attempted`, `malformed`, `pruned`, `prune_failed`; with
    /// `--dry-run`: `would_create`, `would_update`, `would_prune` (and the same `skipped`,
    /// `unchanged`, `invalid`, ...).
    pub outcome: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored_slug: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
    /// For an update: the slugs of the fields that changed (or would, in a dry run), as a
    /// JSON array: `["price"]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed: Option<&'a [String]>,
}

/// The report file, shared by the import and the signal handler.
#[derive(Clone)]
pub struct Report {
    inner: Arc<Mutex<Inner>>,
    path: Arc<str>,
}

struct Inner {
    /// Unbuffered: each line goes to the file in one write as soon as it is known.
    out: File,
    /// The line being written (kept to reuse its allocation).
    line: Vec<u8>,
    /// The first write error; nothing more is written after it.
    error: Option<String>,
}

impl Report {
    /// Creates (or truncates) the report file.
    pub fn create(path: &Path) -> Result<Report, String> {
        let file = File::create(path)
            .map_err(|e| format!("cannot create the report {}: {e}", path.display()))?;
        Ok(Report {
            inner: Arc::new(Mutex::new(Inner {
                out: file,
                line: Vec::with_capacity(256),
                error: None,
            })),
            path: path.display().to_string().into(),
        })
    }

    /// The report's path, as given.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Appends one line, whole, in one write. A write error is kept (see
    /// [`finish`](Self::finish)) and stops further writes; it never stops the import.
    pub fn write(&self, entry: &Entry<'_>) {
        let mut inner = lock(&self.inner);
        let Inner { out, line, error } = &mut *inner;
        if error.is_some() {
            return;
        }
        line.clear();
        if let Err(e) = serde_json::to_writer(&mut *line, entry) {
            *error = Some(format!("cannot write the report {}: {e}", self.path));
            return;
        }
        line.push(b'\n');
        if let Err(e) = out.write_all(line) {
            *error = Some(format!("cannot write the report {}: {e}", self.path));
        }
    }

    /// The first write error, if any (every line was written as it came: nothing to flush).
    pub fn finish(&self) -> Result<(), String> {
        match &lock(&self.inner).error {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }
}

/// Refuses a report path that resolves to the input file: creating the report would
/// truncate the input before it is read. The same file through symlinks or hard links
/// counts (same device and inode when the report exists; same canonical directory and
/// name when it does not). Standard input (`-`) is compared through its descriptor, so
/// `--report items.ndjson - < items.ndjson` is refused too.
pub fn refuse_if_input(report: &Path, input: &Path) -> Result<(), String> {
    if is_same_file(report, input) {
        return Err(format!(
            "the report {} is the input {}: writing it would destroy the input before it is \
             read; name another file for --report",
            report.display(),
            input.display()
        ));
    }
    Ok(())
}

fn is_same_file(report: &Path, input: &Path) -> bool {
    let input_meta = if input == Path::new("-") {
        stdin_metadata()
    } else {
        std::fs::metadata(input).ok()
    };
    let Some(input_meta) = input_meta else {
        // An input that cannot be read is refused when it is opened.
        return false;
    };
    match std::fs::metadata(report) {
        Ok(report_meta) => same_identity(&report_meta, &input_meta, report, input),
        // The report does not exist (or its link dangles): compare where it would be
        // created with where the input is.
        Err(_) => match (would_create_at(report), std::fs::canonicalize(input)) {
            (Some(report), Ok(input)) => report == input,
            _ => false,
        },
    }
}

/// The canonical path a new file at `path` would get: its directory canonicalized, plus
/// its name.
fn would_create_at(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?;
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(parent).ok()?.join(name))
}

#[cfg(unix)]
fn same_identity(
    a: &std::fs::Metadata,
    b: &std::fs::Metadata,
    _a_path: &Path,
    _b_path: &Path,
) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_identity(
    _a: &std::fs::Metadata,
    _b: &std::fs::Metadata,
    a_path: &Path,
    b_path: &Path,
) -> bool {
    match (std::fs::canonicalize(a_path), std::fs::canonicalize(b_path)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// What standard input is, when it is a file (`- < items.ndjson`).
#[cfg(unix)]
fn stdin_metadata() -> Option<std::fs::Metadata> {
    use std::os::fd::AsFd;
    let descriptor = std::io::stdin().as_fd().try_clone_to_owned().ok()?;
    File::from(descriptor).metadata().ok()
}

#[cfg(not(unix))]
fn stdin_metadata() -> Option<std::fs::Metadata> {
    None
}
