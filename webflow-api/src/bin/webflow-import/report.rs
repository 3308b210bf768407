//! `--report FILE`: one JSON object per non-blank input line, written as outcomes arrive.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
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
    /// `created`, `settled`, `skipped`, `failed`, `unknown`, `not_attempted`, `malformed`;
    /// with `--dry-run`: `would_create`, `would_skip`, `invalid`, `malformed`.
    pub outcome: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored_slug: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
}

/// The report file, shared with the Ctrl-C handler (which flushes it before exiting).
#[derive(Clone)]
pub struct Report {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    out: BufWriter<File>,
    path: String,
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
                out: BufWriter::new(file),
                path: path.display().to_string(),
                error: None,
            })),
        })
    }

    /// Appends one line. A write error is kept (see [`finish`](Self::finish)) and stops
    /// further writes; it never stops the import.
    pub fn write(&self, entry: &Entry<'_>) {
        let mut inner = lock(&self.inner);
        if inner.error.is_some() {
            return;
        }
        let result = serde_json::to_writer(&mut inner.out, entry)
            .map_err(std::io::Error::from)
            .and_then(|()| inner.out.write_all(b"\n"));
        if let Err(e) = result {
            inner.error = Some(format!("cannot write the report {}: {e}", inner.path));
        }
    }

    /// Flushes what was written (best effort).
    pub fn flush(&self) {
        let _ = lock(&self.inner).out.flush();
    }

    /// Flushes and returns the first write error, if any.
    pub fn finish(&self) -> Result<(), String> {
        let mut inner = lock(&self.inner);
        if let Some(error) = &inner.error {
            return Err(error.clone());
        }
        inner
            .out
            .flush()
            .map_err(|e| format!("cannot write the report {}: {e}", inner.path))
    }
}

/// Writes to the report when there is one.
pub fn write(report: Option<&Report>, entry: &Entry<'_>) {
    if let Some(report) = report {
        report.write(entry);
    }
}

/// A malformed input line, told on stderr and in the report (shared by a run and a dry run).
pub fn malformed(
    report: Option<&Report>,
    ui: &crate::ui::Ui,
    line: u64,
    malformed: &crate::input::Malformed,
) {
    ui.say(format_args!("line {line}: malformed: {}", malformed.error));
    write(
        report,
        &Entry {
            line: Some(line),
            slug: malformed.slug.as_deref(),
            outcome: "malformed",
            id: None,
            stored_slug: None,
            error: Some(&malformed.error),
        },
    );
}
