//! Building a [`Client`]: token, base URL, User-Agent and TLS, from code or from the
//! environment.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, USER_AGENT};

use crate::auth::ApiToken;
use crate::hooks::{ClientState, Shared};
use crate::rate_limit::{Pacer, Pacing};
use crate::retry::RetryPolicy;
use crate::time::{Clock, SystemClock};
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

/// The client's time limits. Connect and per-attempt timeouts run in real time; the
/// overall deadline is measured on the client's [`Clock`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// Opening a connection (TCP and TLS). Default 10 s. Running out means nothing was
    /// sent, so it is retried.
    pub connect: Duration,
    /// One attempt: sending the request and reading the whole answer. Default 60 s (as
    /// Webflow's own SDKs). Running out leaves the outcome unknown: not retried by default.
    pub attempt: Duration,
    /// Everything one call may take, all attempts and waits included. Default 5 minutes,
    /// room for a 60 s `Retry-After` and a few retries.
    pub overall: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            attempt: Duration::from_secs(60),
            overall: Duration::from_secs(300),
        }
    }
}

impl Timeouts {
    /// Sets the connect timeout.
    pub fn with_connect(mut self, connect: Duration) -> Self {
        self.connect = connect;
        self
    }

    /// Sets the per-attempt timeout.
    pub fn with_attempt(mut self, attempt: Duration) -> Self {
        self.attempt = attempt;
        self
    }

    /// Sets the overall deadline.
    pub fn with_overall(mut self, overall: Duration) -> Self {
        self.overall = overall;
        self
    }
}

/// Configures and builds a [`Client`].
///
/// ```no_run
/// # fn main() -> Result<(), webflow_api::Error> {
/// use std::time::Duration;
/// use webflow_api::{ApiToken, Client, Pacing, RetryPolicy, Timeouts};
/// let client = Client::builder()
///     .token(ApiToken::from_env()?)
///     .base_url("http://127.0.0.1:8080/v2")
///     .timeouts(Timeouts::default().with_attempt(Duration::from_secs(20)))
///     .retry_policy(RetryPolicy::default().with_max_attempts(6))
///     .pacing(Pacing::adaptive())
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
#[must_use]
pub struct ClientBuilder {
    token: Option<ApiToken>,
    base_url: Option<String>,
    timeouts: Timeouts,
    retry: RetryPolicy,
    pacing: Option<Pacing>,
    clock: Option<Arc<dyn Clock>>,
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

    /// Timeouts (see [`Timeouts`] for the defaults).
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The retry policy (see [`RetryPolicy`] for what is retried by default);
    /// [`RetryPolicy::none`] makes every call exactly one request.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Client-side pacing, shared by every clone of the client. Default [`Pacing::Off`].
    pub fn pacing(mut self, pacing: Pacing) -> Self {
        self.pacing = Some(pacing);
        self
    }

    /// The clock for retry waits, pacing and the overall deadline. Default: real time.
    /// Tests inject [`ManualClock`](crate::time::ManualClock) or
    /// [`ScaledClock`](crate::time::ScaledClock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Builds the client. Fails with [`Error::Config`] when no token was given, the base URL
    /// is not an `http(s)` URL, a timeout is zero, `max_attempts` is zero, the pacing rate
    /// is zero, or the HTTP client cannot be set up.
    pub fn build(self) -> Result<Client, Error> {
        let token = self.token.ok_or_else(|| {
            Error::Config(
                "no API token: call ClientBuilder::token, or use Client::from_env with \
                 WEBFLOW_API_TOKEN set"
                    .into(),
            )
        })?;
        let base_url = resolve_base_url(self.base_url)?;
        check_limits(&self.timeouts, &self.retry, self.pacing)?;

        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, token.authorization_header());
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));

        install_crypto_provider();
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(self.timeouts.connect)
            .build()
            .map_err(|e| Error::Config(format!("cannot set up the HTTP client: {e}")))?;

        let state = ClientState {
            shared: Arc::new(Shared {
                retry: self.retry,
                timeouts: self.timeouts,
                clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
                pacer: self.pacing.and_then(Pacer::new),
                last_rate_limit: Mutex::new(None),
            }),
        };
        Ok(Client::new_with_client(&base_url, http, state))
    }
}

fn check_limits(
    timeouts: &Timeouts,
    retry: &RetryPolicy,
    pacing: Option<Pacing>,
) -> Result<(), Error> {
    for (name, value) in [
        ("connect", timeouts.connect),
        ("attempt", timeouts.attempt),
        ("overall", timeouts.overall),
    ] {
        if value.is_zero() {
            return Err(Error::Config(format!(
                "the {name} timeout is zero: every request would time out; use a positive duration"
            )));
        }
    }
    if retry.max_attempts == 0 {
        return Err(Error::Config(
            "RetryPolicy::max_attempts is 0: it counts the first attempt too, so use 1 for no retries (RetryPolicy::none())".into(),
        ));
    }
    if let Some(problem) = pacing.and_then(Pacing::problem) {
        return Err(Error::Config(problem.into()));
    }
    Ok(())
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
