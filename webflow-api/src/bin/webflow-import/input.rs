//! Reading the input: NDJSON lines from a file or standard input, read once, one line at a
//! time up to a length limit (memory holds at most one line of at most that many bytes),
//! each line parsed once into a `NewItem`; and the line count of a file, for the progress.

use std::io;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use webflow_api::{CancellationToken, NewItem};

/// The longest slug the format check accepts (see `docs/webflow-import.md`).
pub const MAX_SLUG_LEN: usize = 256;

/// The read buffer: what a line over the limit costs while it is skipped.
const READ_BUFFER: usize = 64 * 1024;

const BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";

/// One non-blank input line.
pub struct RawLine {
    /// 1-based, counting every line (blank ones too), as an editor shows it.
    pub number: u64,
    pub content: Content,
}

/// What a line holds.
pub enum Content {
    /// The line, without its `\n`, `\r\n` or leading byte-order mark.
    Bytes(Vec<u8>),
    /// A line longer than the limit: skipped as it was read, never held whole.
    TooLong {
        /// Its length in bytes (without the `\n`).
        length: u64,
        /// Its first non-blank byte.
        first: u8,
        /// The limit it went over (`--max-line-bytes`).
        limit: u64,
    },
}

/// The input, read line by line.
pub struct Input {
    reader: BufReader<Box<dyn AsyncRead + Send + Unpin>>,
    /// The last line number read.
    line: u64,
    max_line_bytes: u64,
    /// The end of the input was reached.
    exhausted: bool,
    /// The input as named on the command line (`-` for standard input).
    pub path: PathBuf,
    /// A second handle on the input file, to count its lines (regular files only).
    counter: Option<std::fs::File>,
}

impl Input {
    /// Opens `path`, or standard input for `-`. `/dev/stdin` works as a path too.
    pub async fn open(path: &Path, max_line_bytes: u64) -> Result<Input, String> {
        let (reader, counter): (Box<dyn AsyncRead + Send + Unpin>, _) = if path == Path::new("-") {
            (Box::new(tokio::io::stdin()), None)
        } else {
            let file = std::fs::File::open(path)
                .map_err(|e| format!("cannot open the input {}: {e}", path.display()))?;
            let meta = file
                .metadata()
                .map_err(|e| format!("cannot read the input {}: {e}", path.display()))?;
            if meta.is_dir() {
                return Err(format!(
                    "the input {} is a directory, not an NDJSON file",
                    path.display()
                ));
            }
            let counter = if meta.is_file() {
                counting_handle(&file, path)
            } else {
                None
            };
            (Box::new(tokio::fs::File::from_std(file)), counter)
        };
        Ok(Input {
            reader: BufReader::with_capacity(READ_BUFFER, reader),
            line: 0,
            max_line_bytes,
            exhausted: false,
            path: path.to_owned(),
            counter,
        })
    }

    /// Whether the input is standard input.
    pub fn is_stdin(&self) -> bool {
        self.path == Path::new("-")
    }

    /// A handle to count the lines of the input with [`count_lines`], when it is a regular
    /// file (once; `None` for standard input or a pipe).
    pub fn take_counter(&mut self) -> Option<std::fs::File> {
        self.counter.take()
    }

    /// The next non-blank line; `None` at the end of the input. Blank lines (empty or only
    /// whitespace) are skipped, but counted in the line numbers. A line longer than the limit
    /// is read through in buffer-sized pieces and comes back as [`Content::TooLong`].
    pub async fn next(&mut self) -> io::Result<Option<RawLine>> {
        loop {
            if self.exhausted {
                return Ok(None);
            }
            let mut bytes = Vec::new();
            let mut length: u64 = 0;
            let mut too_long = false;
            // The first non-blank byte, once the line is too long (it is not kept).
            let mut first = None;
            let mut ended = false;
            while !ended {
                let available = self.reader.fill_buf().await?;
                if available.is_empty() {
                    self.exhausted = true;
                    break;
                }
                let (segment, consumed) = match memchr::memchr(b'\n', available) {
                    Some(at) => {
                        ended = true;
                        (&available[..at], at + 1)
                    }
                    None => (available, available.len()),
                };
                let segment_length = segment.len() as u64;
                if !too_long && length.saturating_add(segment_length) > self.max_line_bytes {
                    too_long = true;
                    bytes.extend_from_slice(segment);
                    first = first_non_blank(strip_bom(&bytes, self.line == 0));
                    bytes = Vec::new();
                } else if too_long {
                    if first.is_none() {
                        first = first_non_blank(segment);
                    }
                } else {
                    bytes.extend_from_slice(segment);
                }
                length = length.saturating_add(segment_length);
                self.reader.consume(consumed);
            }
            if !ended && length == 0 {
                return Ok(None);
            }
            self.line = self.line.saturating_add(1);
            if too_long {
                match first {
                    Some(first) => {
                        return Ok(Some(RawLine {
                            number: self.line,
                            content: Content::TooLong {
                                length,
                                first,
                                limit: self.max_line_bytes,
                            },
                        }));
                    }
                    None => continue,
                }
            }
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
            if self.line == 1 && bytes.starts_with(BYTE_ORDER_MARK) {
                bytes.drain(..BYTE_ORDER_MARK.len());
            }
            if first_non_blank(&bytes).is_none() {
                continue;
            }
            return Ok(Some(RawLine {
                number: self.line,
                content: Content::Bytes(bytes),
            }));
        }
    }

    /// The number of the last line read (0 before the first).
    pub fn lines_read(&self) -> u64 {
        self.line
    }

    /// Whether the whole input was read.
    pub fn exhausted(&self) -> bool {
        self.exhausted
    }
}

fn strip_bom(bytes: &[u8], first_line: bool) -> &[u8] {
    if first_line {
        bytes.strip_prefix(BYTE_ORDER_MARK).unwrap_or(bytes)
    } else {
        bytes
    }
}

fn first_non_blank(bytes: &[u8]) -> Option<u8> {
    bytes.iter().copied().find(|b| !b.is_ascii_whitespace())
}

/// A handle on the same file for [`count_lines`]: on Unix a duplicate descriptor read with
/// positioned reads (which leave the import's read position alone), elsewhere the path
/// opened again.
fn counting_handle(file: &std::fs::File, path: &Path) -> Option<std::fs::File> {
    if cfg!(unix) {
        file.try_clone().ok()
    } else {
        std::fs::File::open(path).ok()
    }
}

/// How many lines a file has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LineCount {
    /// Every line, blank ones included (a last line without `\n` counts).
    pub lines: u64,
    /// Non-blank lines: each becomes an item, a malformed line or an invalid one.
    pub items: u64,
}

/// Counts the lines of `file` from its start, in 256 KiB pieces (memory flat, whatever
/// the length of its lines), with the reader's rule for blank lines; `None` once `cancel`
/// is cancelled. Blocking: run it off the runtime's workers.
pub fn count_lines(
    file: &std::fs::File,
    cancel: &CancellationToken,
) -> io::Result<Option<LineCount>> {
    let mut buffer = vec![0u8; 256 * 1024];
    let mut count = LineCount::default();
    let mut offset: u64 = 0;
    // The current line has bytes / a non-blank byte so far.
    let mut pending = false;
    let mut content = false;
    loop {
        if cancel.is_cancelled() {
            return Ok(None);
        }
        let read = read_at(file, &mut buffer, offset)?;
        if read == 0 {
            break;
        }
        let mut chunk = &buffer[..read];
        if offset == 0 {
            chunk = chunk.strip_prefix(BYTE_ORDER_MARK).unwrap_or(chunk);
        }
        offset = offset.saturating_add(read as u64);
        let mut start = 0;
        for newline in memchr::memchr_iter(b'\n', chunk) {
            if content || first_non_blank(&chunk[start..newline]).is_some() {
                count.items += 1;
            }
            count.lines += 1;
            content = false;
            pending = false;
            start = newline + 1;
        }
        if start < chunk.len() {
            pending = true;
            content = content || first_non_blank(&chunk[start..]).is_some();
        }
    }
    if pending {
        count.lines += 1;
        if content {
            count.items += 1;
        }
    }
    Ok(Some(count))
}

#[cfg(unix)]
fn read_at(file: &std::fs::File, buffer: &mut [u8], offset: u64) -> io::Result<usize> {
    use std::os::unix::fs::FileExt;
    loop {
        match file.read_at(buffer, offset) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

#[cfg(not(unix))]
fn read_at(mut file: &std::fs::File, buffer: &mut [u8], _offset: u64) -> io::Result<usize> {
    // A handle of its own, opened again by path: its position is the offset.
    use std::io::Read;
    file.read(buffer)
}

/// A line that is not a `NewItem`: the error, and the slug if the line has one.
#[derive(Debug)]
pub struct Malformed {
    pub slug: Option<String>,
    pub error: String,
}

/// Parses one line as a `NewItem` (`{"fieldData": {"name", "slug", ...}, "isDraft"?,
/// "isArchived"?, "cmsLocaleId"?}`): the bytes are parsed once, into a JSON value; the
/// slug is read from it (so a line with a wrong field still names its slug), then the
/// value becomes the item, and a type error names the field (`fieldData.name: invalid
/// type: integer `3`, expected a string`). `input` names the input in the hint for a JSON
/// array.
pub fn parse(line: &RawLine, input: &Path) -> Result<NewItem, Malformed> {
    let bytes = match &line.content {
        Content::Bytes(bytes) => bytes,
        Content::TooLong {
            length,
            first,
            limit,
        } => {
            let mut error = format!(
                "the line is {length} bytes long, over the limit of {limit} bytes \
                 (--max-line-bytes raises it); it was skipped without being read whole"
            );
            if *first == b'[' {
                error.push_str(&array_hint(input));
            }
            return Err(Malformed { slug: None, error });
        }
    };
    let value: Value = serde_json::from_slice(bytes).map_err(|error| {
        let mut text = describe(&error);
        if first_non_blank(bytes) == Some(b'[') {
            text.push_str(&array_hint(input));
        }
        Malformed {
            slug: None,
            error: text,
        }
    })?;
    match &value {
        Value::Object(_) => {}
        Value::Array(_) => {
            return Err(Malformed {
                slug: None,
                error: format!("the line is a JSON array{}", array_hint(input)),
            });
        }
        other => {
            return Err(Malformed {
                slug: None,
                error: format!(
                    "expected a JSON object (NDJSON: one item per line), found {}",
                    kind(other)
                ),
            });
        }
    }
    let slug = value
        .pointer("/fieldData/slug")
        .and_then(Value::as_str)
        .map(str::to_owned);
    serde_path_to_error::deserialize::<_, NewItem>(value).map_err(|error| Malformed {
        slug,
        error: error.to_string(),
    })
}

/// What to do with a JSON array: `jq -c '.[]' items.json > items.ndjson`.
fn array_hint(input: &Path) -> String {
    let (from, to) = if input == Path::new("-") || input == Path::new("/dev/stdin") {
        ("items.json".to_owned(), "items.ndjson".to_owned())
    } else {
        let to = if input.extension().is_some_and(|e| e == "ndjson") {
            input.with_extension("lines.ndjson")
        } else {
            input.with_extension("ndjson")
        };
        (shell_word(input), shell_word(&to))
    };
    format!(
        "; the input must be NDJSON, one JSON object per line, not a JSON array: convert it \
         with jq -c '.[]' {from} > {to}"
    )
}

/// A path as a shell word: quoted when it holds anything but plain characters.
fn shell_word(path: &Path) -> String {
    let text = path.display().to_string();
    let plain = text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+,:@%".contains(&b));
    if plain {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
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

/// Parses `--max-line-bytes`: a number of bytes, or with a `K`, `M` or `G` suffix (KiB,
/// MiB, GiB): `1048576`, `4M`.
pub fn parse_byte_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, ""),
    };
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a number of bytes (like 1048576 or 4M)"))?;
    let scale: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        other => return Err(format!("unknown unit {other:?}: use K, M or G")),
    };
    let bytes = number
        .checked_mul(scale)
        .ok_or_else(|| format!("{text:?} is too large"))?;
    if bytes == 0 {
        return Err("the limit must be at least 1 byte".to_owned());
    }
    Ok(bytes)
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

    fn line(bytes: &[u8]) -> RawLine {
        RawLine {
            number: 1,
            content: Content::Bytes(bytes.to_vec()),
        }
    }

    fn parse_bytes(bytes: &[u8]) -> Result<NewItem, Malformed> {
        parse(&line(bytes), Path::new("items.json"))
    }

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
        let error = parse_bytes(br#"{"fieldData": {"slug": "x"}}"#).unwrap_err();
        assert_eq!(error.slug.as_deref(), Some("x"));
        assert_eq!(error.error, "fieldData: missing field `name`");
        let error = parse_bytes(b"{not json").unwrap_err();
        assert!(error.slug.is_none());
        assert_eq!(error.error, "key must be a string at column 2");
        let item = parse_bytes(
            br#"{"fieldData": {"name": "A", "slug": "a", "price": 3}, "isDraft": true}"#,
        )
        .unwrap();
        assert!(item.is_draft);
        assert_eq!(item.field_data.extra["price"], 3);
    }

    #[test]
    fn a_type_error_names_the_field() {
        let error = parse_bytes(br#"{"fieldData": {"name": 3, "slug": "x"}}"#).unwrap_err();
        assert_eq!(
            error.error,
            "fieldData.name: invalid type: integer `3`, expected a string"
        );
        assert_eq!(error.slug.as_deref(), Some("x"));
        let error = parse_bytes(br#"{"fieldData": {"name": "A", "slug": "a"}, "isDraft": "yes"}"#)
            .unwrap_err();
        assert!(
            error.error.starts_with("isDraft: invalid type"),
            "{}",
            error.error
        );
        let error = parse_bytes(b"42").unwrap_err();
        assert!(
            error.error.contains("expected a JSON object"),
            "{}",
            error.error
        );
    }

    #[test]
    fn a_json_array_gets_the_way_to_convert_it() {
        let hint = "jq -c '.[]' items.json > items.ndjson";
        for bytes in [
            &br#"[{"fieldData": {"name": "A", "slug": "a"}}]"#[..],
            b"[",
            b"  [1,",
        ] {
            let error = parse_bytes(bytes).unwrap_err();
            assert!(error.error.contains("NDJSON"), "{}", error.error);
            assert!(error.error.contains(hint), "{}", error.error);
        }
        let too_long = RawLine {
            number: 1,
            content: Content::TooLong {
                length: 200_000_000,
                first: b'[',
                limit: 1024,
            },
        };
        let error = parse(&too_long, Path::new("my items.json")).unwrap_err();
        assert!(
            error.error.contains("200000000 bytes long"),
            "{}",
            error.error
        );
        assert!(error.error.contains("--max-line-bytes"), "{}", error.error);
        assert!(
            error
                .error
                .contains("jq -c '.[]' 'my items.json' > 'my items.ndjson'"),
            "{}",
            error.error
        );
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(parse_byte_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_byte_size("4M"), Ok(4 << 20));
        assert_eq!(parse_byte_size("512k"), Ok(512 << 10));
        assert_eq!(parse_byte_size("1G"), Ok(1 << 30));
        assert!(parse_byte_size("0").is_err());
        assert!(parse_byte_size("4X").is_err());
        assert!(parse_byte_size("M").is_err());
    }

    async fn read_all(text: &[u8], limit: u64) -> Vec<(u64, Result<Vec<u8>, (u64, u8)>)> {
        let path = std::env::temp_dir().join(format!(
            "webflow-import-input-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::write(&path, text).unwrap();
        let mut input = Input::open(&path, limit).await.unwrap();
        let mut lines = Vec::new();
        while let Some(line) = input.next().await.unwrap() {
            lines.push((
                line.number,
                match line.content {
                    Content::Bytes(bytes) => Ok(bytes),
                    Content::TooLong { length, first, .. } => Err((length, first)),
                },
            ));
        }
        assert!(input.exhausted());
        let counted = count_lines(
            &std::fs::File::open(&path).unwrap(),
            &CancellationToken::new(),
        )
        .unwrap()
        .unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            counted.items,
            lines.len() as u64,
            "the count agrees with the reader"
        );
        lines
    }

    #[tokio::test]
    async fn lines_over_the_limit_are_skipped_and_measured() {
        let long = format!("[{}]", "x".repeat(300_000));
        let text = format!(
            "{{\"a\":1}}\r\n\n{long}\n   \n{}\n{{\"b\":2}}",
            " ".repeat(200_000)
        );
        let lines = read_all(text.as_bytes(), 1000).await;
        assert_eq!(
            lines,
            [
                (1, Ok(b"{\"a\":1}".to_vec())),
                (3, Err((300_002, b'['))),
                (6, Ok(b"{\"b\":2}".to_vec())),
            ]
        );
        let lines = read_all(b"\xEF\xBB\xBF{}\n\n", 5).await;
        assert_eq!(lines, [(1, Ok(b"{}".to_vec()))]);
    }

    #[test]
    fn counting_lines() {
        let path =
            std::env::temp_dir().join(format!("webflow-import-count-{}", std::process::id()));
        for (text, lines, items) in [
            ("", 0, 0),
            ("a", 1, 1),
            ("a\n", 1, 1),
            ("a\n\n  \nb", 4, 2),
            ("\u{feff}\n{}\n", 2, 1),
        ] {
            std::fs::write(&path, text).unwrap();
            let counted = count_lines(
                &std::fs::File::open(&path).unwrap(),
                &CancellationToken::new(),
            )
            .unwrap()
            .unwrap();
            assert_eq!((counted.lines, counted.items), (lines, items), "{text:?}");
        }
        std::fs::remove_file(&path).unwrap();
    }
}
