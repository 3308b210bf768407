//! Reading the input: NDJSON lines from a file or standard input, read once, one line at a
//! time (memory holds one line), and turning each line into a `NewItem`.

use std::io;
use std::path::Path;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader, Split};
use webflow_api::NewItem;

/// The longest slug the format check accepts (see `docs/webflow-import.md`).
pub const MAX_SLUG_LEN: usize = 256;

/// One non-blank input line.
pub struct RawLine {
    /// 1-based, counting every line (blank ones too), as an editor shows it.
    pub number: u64,
    /// The line, without its `\n`, `\r\n` or leading byte-order mark.
    pub bytes: Vec<u8>,
    /// The bytes it took in the input (newline included), for the progress bar.
    pub consumed: u64,
}

/// The input, read line by line.
pub struct Input {
    lines: Split<BufReader<Box<dyn AsyncRead + Send + Unpin>>>,
    line: u64,
    /// The input's size in bytes, when it is a regular file.
    pub size: Option<u64>,
}

impl Input {
    /// Opens `path`, or standard input for `-`. `/dev/stdin` works as a path too.
    pub async fn open(path: &Path) -> Result<Input, String> {
        let (reader, size): (Box<dyn AsyncRead + Send + Unpin>, _) = if path == Path::new("-") {
            (Box::new(tokio::io::stdin()), None)
        } else {
            let file = tokio::fs::File::open(path)
                .await
                .map_err(|e| format!("cannot open the input {}: {e}", path.display()))?;
            let meta = file
                .metadata()
                .await
                .map_err(|e| format!("cannot read the input {}: {e}", path.display()))?;
            if meta.is_dir() {
                return Err(format!(
                    "the input {} is a directory, not an NDJSON file",
                    path.display()
                ));
            }
            let size = meta.is_file().then_some(meta.len());
            (Box::new(file), size)
        };
        Ok(Input {
            lines: BufReader::with_capacity(64 * 1024, reader).split(b'\n'),
            line: 0,
            size,
        })
    }

    /// The next non-blank line; `None` at the end of the input. Blank lines (empty or only
    /// whitespace) are skipped, but counted in the line numbers.
    pub async fn next(&mut self) -> io::Result<Option<RawLine>> {
        let mut skipped: u64 = 0;
        loop {
            let Some(mut bytes) = self.lines.next_segment().await? else {
                return Ok(None);
            };
            self.line = self.line.saturating_add(1);
            let consumed = (bytes.len() as u64).saturating_add(1);
            skipped = skipped.saturating_add(consumed);
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
            if self.line == 1 && bytes.starts_with(b"\xEF\xBB\xBF") {
                bytes.drain(..3);
            }
            if bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Ok(Some(RawLine {
                number: self.line,
                bytes,
                consumed: skipped,
            }));
        }
    }

    /// The number of the last line read (0 before the first).
    pub fn lines_read(&self) -> u64 {
        self.line
    }
}

/// A line that is not a `NewItem`: the JSON error, and the slug if the line has one.
#[derive(Debug)]
pub struct Malformed {
    pub slug: Option<String>,
    pub error: String,
}

/// Parses one line as a `NewItem` (`{"fieldData": {"name", "slug", ...}, "isDraft"?,
/// "isArchived"?, "cmsLocaleId"?}`).
pub fn parse(bytes: &[u8]) -> Result<NewItem, Malformed> {
    serde_json::from_slice::<NewItem>(bytes).map_err(|error| Malformed {
        // Only on the error path: a second parse, to name the line's slug if it has one.
        slug: serde_json::from_slice::<Value>(bytes)
            .ok()
            .and_then(|value| {
                value
                    .pointer("/fieldData/slug")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            }),
        error: describe(&error),
    })
}

/// serde's message with the column, without its `line 1` (a line is one JSON document).
fn describe(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let message = text
        .rfind(" at line ")
        .map_or(text.as_str(), |at| &text[..at]);
    if error.column() > 0 {
        format!("{message} at column {}", error.column())
    } else {
        message.to_owned()
    }
}

/// What is wrong with a slug's format, if anything: lowercase ASCII letters and digits in
/// groups joined by single hyphens (`^[a-z0-9]+(-[a-z0-9]+)*$`), at most
/// [`MAX_SLUG_LEN`] bytes.
pub fn slug_problem(slug: &str) -> Option<String> {
    if slug.len() > MAX_SLUG_LEN {
        return Some(format!(
            "slug is {} characters long; at most {MAX_SLUG_LEN}",
            slug.len()
        ));
    }
    let well_formed = slug.split('-').all(|part| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    (!well_formed).then(|| {
        format!(
            "slug {slug:?} is not lowercase letters and digits joined by single hyphens \
             (^[a-z0-9]+(-[a-z0-9]+)*$)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_format() {
        for good in ["a", "blue-mug", "product-10", "2024", "a-b-c-1"] {
            assert_eq!(slug_problem(good), None, "{good}");
        }
        for bad in [
            "", "-a", "a-", "a--b", "Blue", "blue mug", "blue_mug", "é", "a.b", "a/b",
        ] {
            assert!(slug_problem(bad).is_some(), "{bad}");
        }
        assert_eq!(slug_problem(&"a".repeat(MAX_SLUG_LEN)), None);
        assert!(slug_problem(&"a".repeat(MAX_SLUG_LEN + 1)).is_some());
    }

    #[test]
    fn malformed_lines_keep_their_slug() {
        let error = parse(br#"{"fieldData": {"slug": "x"}}"#).unwrap_err();
        assert_eq!(error.slug.as_deref(), Some("x"));
        assert!(error.error.contains("name"), "{}", error.error);
        let error = parse(b"{not json").unwrap_err();
        assert!(error.slug.is_none());
        assert_eq!(error.error, "key must be a string at column 2");
        let item =
            parse(br#"{"fieldData": {"name": "A", "slug": "a", "price": 3}, "isDraft": true}"#)
                .unwrap();
        assert!(item.is_draft);
        assert_eq!(item.field_data.extra["price"], 3);
    }
}
