//! Building a [`Client`]: token, base URL, User-Agent and TLS, from code or from the
//! environment.

use std::sync::Arc;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, USER_AGENT};

use crate::auth::ApiToken;
use crate::hooks::{ClientState, Shared};
use crate::{Client, Error};

/// Webflow's Data API v2.
pub const DEFAULT_BASE_URL: &str = "https://api.webflow.com/v2";
/// The environment variable that overrides the base URL (for proxies and mock servers)
/// when the code does not set one.
pub const BASE_URL_ENV: &str = "WEBFLOW_API_BASE_URL";
/// The `User-Agent` every request carries: `webflow-api-rs/<crate version>`.
pub const USER_AGENT_VALUE: &str = concat!("webflow-api-rs/", env!("CARGO_PKG_VERSION"));

impl Client {
    /// A client for `https://api.webflow.com/v2` (or `WEBFLOW_API_BASE_URL`) authenticated
    /// with `token`, with the default timeouts and retry policy.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), webflow_api::Error> {
    /// let client = webflow_api::Client::from_token("your-site-api-token")?;
    /// # Ok(()) }
    /// ```
    pub fn from_token(token: impl Into<String>) -> Result<Client, Error> {
        Client::builder().token(ApiToken::new(token)?).build()
    }

    /// A client authenticated with the `WEBFLOW_API_TOKEN` environment variable, for
    /// `WEBFLOW_API_BASE_URL` if set, else `https://api.webflow.com/v2`.
    pub fn from_env() -> Result<Client, Error> {
        Client::builder().token(ApiToken::from_env()?).build()
    }

    /// The base URL requests go to, e.g. `https://api.webflow.com/v2`.
    pub fn base_url(&self) -> &str {
        &self.baseurl
    }

    /// A [`ClientBuilder`] to set timeouts, retries, pacing or the base URL.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }
}

/// Configures and builds a [`Client`].
///
/// ```no_run
/// # fn main() -> Result<(), webflow_api::Error> {
/// use webflow_api::{ApiToken, Client};
/// let client = Client::builder()
///     .token(ApiToken::from_env()?)
///     .base_url("http://127.0.0.1:8080/v2")
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
#[must_use]
pub struct ClientBuilder {
    token: Option<ApiToken>,
    base_url: Option<String>,
}

impl ClientBuilder {
    /// The API token (required).
    pub fn token(mut self, token: ApiToken) -> Self {
        self.token = Some(token);
        self
    }

    /// The base URL, e.g. `https://api.webflow.com/v2` (the default) or a mock server's URL.
    /// Takes precedence over `WEBFLOW_API_BASE_URL`.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// Builds the client. Fails with [`Error::Config`] when no token was given, the base URL
    /// is not an `http(s)` URL, or the HTTP client cannot be set up.
    pub fn build(self) -> Result<Client, Error> {
        let token = self.token.ok_or_else(|| {
            Error::Config(
                "no API token: call ClientBuilder::token, or use Client::from_env with \
                 WEBFLOW_API_TOKEN set"
                    .into(),
            )
        })?;
        let base_url = resolve_base_url(self.base_url)?;

        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, token.authorization_header());
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));

        install_crypto_provider();
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .map_err(|e| Error::Config(format!("cannot set up the HTTP client: {e}")))?;

        let state = ClientState {
            shared: Arc::new(Shared::default()),
        };
        Ok(Client::new_with_client(&base_url, http, state))
    }
}

/// The base URL to use: the one set in code, else `WEBFLOW_API_BASE_URL`, else the default;
/// checked to be an absolute `http(s)` URL and stripped of a trailing `/`.
fn resolve_base_url(in_code: Option<String>) -> Result<String, Error> {
    let (url, origin) = match in_code {
        Some(url) => (url, "the base URL"),
        None => match std::env::var(BASE_URL_ENV) {
            Ok(url) if !url.trim().is_empty() => (url, BASE_URL_ENV),
            _ => (DEFAULT_BASE_URL.to_owned(), "the default base URL"),
        },
    };
    let url = url.trim().trim_end_matches('/').to_owned();
    match reqwest::Url::parse(&url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => {
            if parsed.query().is_some() || parsed.fragment().is_some() {
                return Err(Error::Config(format!(
                    "{origin} {url:?} has a query or fragment; give only scheme, host, port and path"
                )));
            }
            Ok(url)
        }
        Ok(_) => Err(Error::Config(format!(
            "{origin} {url:?} is not an http or https URL (expected e.g. {DEFAULT_BASE_URL})"
        ))),
        Err(e) => Err(Error::Config(format!(
            "{origin} {url:?} is not a valid URL ({e}); expected e.g. {DEFAULT_BASE_URL}"
        ))),
    }
}

/// reqwest is built with `rustls-no-provider`: give rustls the `ring` provider unless the
/// application already installed one.
fn install_crypto_provider() {
    #[cfg(feature = "rustls")]
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another thread installing a provider is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
