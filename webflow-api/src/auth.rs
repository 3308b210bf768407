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
