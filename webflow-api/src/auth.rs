//! The API token: kept secret in memory, never printed, sent only as a sensitive
//! `Authorization: Bearer` header.

use std::fmt;

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

use crate::Error;

/// The environment variable [`ApiToken::from_env`] and [`Client::from_env`](crate::Client::from_env) read.
pub const TOKEN_ENV: &str = "WEBFLOW_API_TOKEN";

/// A Webflow API token: a site API token or an OAuth access token (both are sent as
/// `Authorization: Bearer <token>`), with the `cms:write` scope for creating items.
///
/// Its `Debug` output never contains the token, and it is zeroed in memory when dropped.
///
/// ```
/// let token = webflow_api::ApiToken::new("f00d...").unwrap();
/// assert_eq!(format!("{token:?}"), "ApiToken(<redacted>)");
/// ```
#[derive(Clone)]
pub struct ApiToken(SecretString);

impl ApiToken {
    /// Wraps a token. Leading and trailing whitespace (a pasted newline) is trimmed.
    ///
    /// Fails with [`Error::Config`] when the token is empty or cannot be sent in an HTTP
    /// header; the error never repeats the token.
    pub fn new(token: impl Into<String>) -> Result<Self, Error> {
        let token = token.into();
        let trimmed = token.trim();
        if trimmed.is_empty() {
            return Err(Error::Config(
                "the Webflow API token is empty: pass a site API token or OAuth access token \
                 (Webflow dashboard > Site settings > Apps & integrations > API access)"
                    .into(),
            ));
        }
        if HeaderValue::from_str(&format!("Bearer {trimmed}")).is_err() {
            return Err(Error::Config(
                "the Webflow API token contains characters that cannot be sent in an HTTP header \
                 (control characters or non-ASCII): check that it was copied whole"
                    .into(),
            ));
        }
        Ok(ApiToken(SecretString::from(trimmed.to_owned())))
    }

    /// Reads the token from the `WEBFLOW_API_TOKEN` environment variable.
    pub fn from_env() -> Result<Self, Error> {
        match std::env::var(TOKEN_ENV) {
            Ok(token) => ApiToken::new(token).map_err(|_| {
                Error::Config(format!(
                    "{TOKEN_ENV} is set but empty or not a valid token: set it to a Webflow site \
                     API token or OAuth access token"
                ))
            }),
            Err(std::env::VarError::NotPresent) => Err(Error::Config(format!(
                "{TOKEN_ENV} is not set: set it to a Webflow site API token or OAuth access token, \
                 or pass the token to Client::from_token"
            ))),
            Err(std::env::VarError::NotUnicode(_)) => Err(Error::Config(format!(
                "{TOKEN_ENV} is not valid UTF-8: set it to a Webflow site API token"
            ))),
        }
    }

    /// The `Authorization` header value, marked sensitive so that `Debug` of headers (and of
    /// the `reqwest::Client` holding them) prints `Sensitive` instead of the value.
    pub(crate) fn authorization_header(&self) -> HeaderValue {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", self.0.expose_secret()))
            .expect("checked in ApiToken::new");
        value.set_sensitive(true);
        value
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

/// `text` with `token`, any `Bearer …` credential and any `Authorization:` header value
/// replaced by `[REDACTED]`: for every piece of an answer (body excerpt, message, detail,
/// `Location`) that may reach an error, a log or a report — a server that echoes the
/// request would otherwise print the token.
pub(crate) fn redact(text: &str, token: &str) -> String {
    let mut out = if token.is_empty() {
        text.to_owned()
    } else {
        text.replace(token, "[REDACTED]")
    };
    for marker in [
        "bearer ",
        "authorization:",
        "authorization\":",
        "authorization=\"",
    ] {
        out = redact_after(&out, marker);
    }
    out
}

/// Replaces what follows each (ASCII case-insensitive) `marker` — up to the end of the
/// line, a quote or a comma — with `[REDACTED]`.
fn redact_after(text: &str, marker: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    let mut from = 0;
    while let Some(found) = lower[from..].find(marker) {
        let start = from + found + marker.len();
        let value_start = start
            + text[start..]
                .bytes()
                .take_while(|b| *b == b' ' || *b == b'"')
                .count();
        let end = value_start
            + text[value_start..]
                .find(['\n', '\r', '"', ',', '\'', '<'])
                .unwrap_or(text.len() - value_start);
        let value = &text[value_start..end];
        out.push_str(&text[rest..value_start]);
        if value.is_empty()
            || value == "[REDACTED]"
            || value.eq_ignore_ascii_case("bearer [redacted]")
        {
            out.push_str(value);
        } else if marker != "bearer " && value.to_ascii_lowercase().starts_with("bearer ") {
            out.push_str("Bearer [REDACTED]");
        } else {
            out.push_str("[REDACTED]");
        }
        rest = end;
        from = end.max(start);
    }
    out.push_str(&text[rest..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_authorization_values_are_redacted() {
        let token = "wf-secret-1234";
        let echoed = "POST /v2/collections/x/items/live HTTP/1.1\r\nAuthorization: Bearer wf-secret-1234\r\nhost: a\r\n\r\n{\"authorization\": \"Bearer other-secret\", \"token\": \"wf-secret-1234\"}";
        let clean = redact(echoed, token);
        assert!(!clean.contains("wf-secret"), "{clean}");
        assert!(!clean.contains("other-secret"), "{clean}");
        assert!(clean.contains("host: a"), "{clean}");
        assert_eq!(redact("nothing here", token), "nothing here");
        assert_eq!(redact("bearer abc", ""), "bearer [REDACTED]");
        assert_eq!(
            redact("Authorization: Basic dXNlcjpwYXNz", ""),
            "Authorization: [REDACTED]"
        );
    }
}
