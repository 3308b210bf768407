//! The one answer to "does this stored item hold what we sent?", asked by settling (is the
//! item found by a lookup the one a lost request made?) and by a sync (does the stored item
//! need an update?). Only what the sent item gives is compared: a field it leaves out is
//! never a difference. Values compare by meaning, not by spelling:
//!
//! - numbers as numbers (`12.5` holds `12.50`), timestamps as instants
//!   (`2024-01-01T00:00:00Z` holds `2024-01-01T00:00:00.000Z`);
//! - `null` is held by `null`, an absent field, an empty string or an empty list;
//! - lists of strings (references) in any order; other lists in order;
//! - a file or image sent as a URL (or `{"url", "alt"}`) is held by the copy Webflow made
//!   on its CDN: a stored URL on `*.website-files.com` (or `uploads-ssl.webflow.com`)
//!   whose file name is `<asset id>_<the sent URL's file name>`, or the sent URL itself;
//!   `alt`, when sent, must match.

use serde_json::{Map, Value};

use crate::types::{CollectionItem, NewItem};

/// Whether `stored` holds everything `sent` gives: name, slug (unless `any_slug`: a slug
/// Webflow suffixed), `isDraft`, `isArchived` and every field of `fieldData`.
pub(crate) fn holds(stored: &CollectionItem, sent: &NewItem, any_slug: bool) -> bool {
    stored.field_data.name == sent.field_data.name
        && (any_slug || stored.field_data.slug == sent.field_data.slug)
        && stored.is_draft.unwrap_or(false) == sent.is_draft
        && stored.is_archived.unwrap_or(false) == sent.is_archived
        && fields_hold(&stored.field_data.extra, &sent.field_data.extra)
}

/// Whether every field of `sent` is held by `stored`.
pub(crate) fn fields_hold(stored: &Map<String, Value>, sent: &Map<String, Value>) -> bool {
    sent.iter()
        .all(|(name, value)| value_holds(stored.get(name), value))
}

/// Whether a stored value holds a sent one (see the module documentation).
pub(crate) fn value_holds(stored: Option<&Value>, sent: &Value) -> bool {
    let stored = stored.unwrap_or(&Value::Null);
    match (stored, sent) {
        (_, Value::Null) => is_empty(stored),
        (Value::Null, sent) => is_empty(sent),
        (Value::Number(a), Value::Number(b)) => numbers_equal(a, b),
        (Value::String(a), Value::String(b)) => a == b || same_instant(a, b),
        (Value::Object(file), Value::String(url)) if file.contains_key("url") => {
            file_holds(file, url, None)
        }
        (Value::Object(file), Value::Object(sent)) if sent.contains_key("url") => {
            match sent.get("url").and_then(Value::as_str) {
                Some(url) => file_holds(file, url, sent.get("alt")),
                None => false,
            }
        }
        (Value::Object(stored), Value::Object(sent)) => fields_hold(stored, sent),
        (Value::Array(stored), Value::Array(sent)) => lists_hold(stored, sent),
        (a, b) => a == b,
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

fn numbers_equal(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    if a == b {
        return true;
    }
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y || (x - y).abs() <= f64::EPSILON * x.abs().max(y.abs()),
        _ => false,
    }
}

fn same_instant(a: &str, b: &str) -> bool {
    matches!(
        (crate::time::parse_timestamp(a), crate::time::parse_timestamp(b)),
        (Some(x), Some(y)) if x == y
    )
}

fn lists_hold(stored: &[Value], sent: &[Value]) -> bool {
    if stored.len() != sent.len() {
        return false;
    }
    let all_strings = |items: &[Value]| items.iter().all(Value::is_string);
    if all_strings(stored) && all_strings(sent) {
        let mut a: Vec<&str> = stored.iter().filter_map(Value::as_str).collect();
        let mut b: Vec<&str> = sent.iter().filter_map(Value::as_str).collect();
        a.sort_unstable();
        b.sort_unstable();
        return a == b;
    }
    stored
        .iter()
        .zip(sent)
        .all(|(stored, sent)| value_holds(Some(stored), sent))
}

/// Whether a stored file (`{fileId, url, alt}`) is the one sent as `url` (and `alt`).
fn file_holds(file: &Map<String, Value>, url: &str, alt: Option<&Value>) -> bool {
    let stored_url = file.get("url").and_then(Value::as_str).unwrap_or_default();
    if !same_file(stored_url, url) {
        return false;
    }
    alt.is_none_or(|alt| value_holds(file.get("alt"), alt))
}

/// Whether `stored` is `sent`, or Webflow's CDN copy of it (see the module documentation).
pub(crate) fn same_file(stored: &str, sent: &str) -> bool {
    if stored == sent {
        return true;
    }
    let (Ok(stored), Ok(sent)) = (reqwest::Url::parse(stored), reqwest::Url::parse(sent)) else {
        return false;
    };
    let on_cdn = stored.host_str().is_some_and(|host| {
        host == "website-files.com"
            || host.ends_with(".website-files.com")
            || host == "uploads-ssl.webflow.com"
    });
    let name = |url: &reqwest::Url| {
        url.path_segments()
            .and_then(|mut segments| segments.next_back())
            .map(percent_decode)
    };
    match (on_cdn, name(&stored), name(&sent)) {
        (true, Some(stored), Some(sent)) if !sent.is_empty() => {
            stored.split_once('_').is_some_and(|(_, file)| file == sent)
        }
        _ => false,
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn held(stored: Value, sent: Value) -> bool {
        value_holds(Some(&stored), &sent)
    }

    #[test]
    fn values_compare_by_meaning() {
        assert!(held(json!(12.5), json!(12.50)));
        assert!(held(json!(3), json!(3.0)));
        assert!(!held(json!(3), json!(4)));
        assert!(!held(json!("3"), json!(3)));
        assert!(held(
            json!("2024-01-01T00:00:00.000Z"),
            json!("2024-01-01T00:00:00Z")
        ));
        assert!(!held(json!("a"), json!("b")));
        assert!(held(json!(null), json!(null)));
        assert!(value_holds(None, &json!(null)));
        assert!(held(json!(""), json!(null)));
        assert!(!held(json!("x"), json!(null)));
        assert!(
            held(json!(["b", "a"]), json!(["a", "b"])),
            "references in any order"
        );
        assert!(!held(json!(["a"]), json!(["a", "b"])));
        assert!(
            held(json!({"a": 1, "b": 2}), json!({"a": 1})),
            "only what is sent"
        );
        assert!(held(json!(true), json!(true)) && !held(json!(true), json!(false)));
    }

    #[test]
    fn a_file_rehosted_by_webflow_is_the_file_sent() {
        let stored = json!({
            "fileId": "6621f0c2a3b4c5d6e7f80911",
            "url": "https://cdn.prod.website-files.com/6520d7b1a3c4e5f607182939/6621f0c2a3b4c5d6e7f80911_mug%20blue.png",
            "alt": "A mug"
        });
        assert!(held(
            stored.clone(),
            json!("https://example.com/img/mug%20blue.png")
        ));
        assert!(held(
            stored.clone(),
            json!({"url": "https://example.com/mug blue.png", "alt": "A mug"})
        ));
        assert!(!held(
            stored.clone(),
            json!({"url": "https://example.com/mug blue.png", "alt": "Another"})
        ));
        assert!(!held(
            stored.clone(),
            json!("https://example.com/plate.png")
        ));
        let elsewhere = json!({"url": "https://example.org/6621_mug.png"});
        assert!(
            !held(elsewhere, json!("https://example.com/mug.png")),
            "not Webflow's CDN"
        );
        assert!(same_file("https://x.test/a.png", "https://x.test/a.png"));
    }
}
