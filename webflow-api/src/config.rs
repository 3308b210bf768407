//! Building a [`Client`]: token, base URL, timeouts, retry policy, pacing and the HTTP
//! client (TLS without process-wide side effects), from code or from the environment.

use std::fmt;
use std::sync::Arc;

use std::sync::Mutex;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, USER_AGENT};

use crate::auth::ApiToken;
use crate::client::{ClientInner, HttpClientKind, LastAnswer, Timeouts};
use crate::pacing::{ClientLimiter, Pacer, Pacing, RateLimiter};
use crate::retry::RetryPolicy;
use crate::time::{Clock, SystemClock};
use crate::transport::USER_AGENT_VALUE;
use crate::{Client, Error};

/// Webflow's Data API v2.
pub const DEFAULT_BASE_URL: &str = "https://api.webflow.com/v2";
/// The environment variable that overrides the base URL (for proxies and mock servers)
/// when the code does not set one.
pub const BASE_URL_ENV: &str = "WEBFLOW_API_BASE_URL";

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

    /// A [`ClientBuilder`] to set timeouts, retries, pacing, the base URL or the HTTP client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }
}

/// Configures and builds a [`Client`].
///
/// ```no_run
/// # fn main() -> Result<(), webflow_api::Error> {
/// use std::time::Duration;
/// use webflow_api::{ApiToken, Client, Pacing, RetryPolicy, Timeouts};
///
/// // Leave half of a 120-a-minute budget to the site's other integrations.
/// let client = Client::builder()
///     .token(ApiToken::from_env()?)
///     .base_url("http://127.0.0.1:8080/v2")
///     .timeouts(Timeouts::default().with_attempt(Duration::from_secs(20)))
///     .retry_policy(RetryPolicy::default().with_max_attempts(6))
///     .pacing(Pacing::adaptive())
///     .max_requests_per_minute(60)
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Default)]
#[must_use]
pub struct ClientBuilder {
    token: Option<ApiToken>,
    base_url: Option<String>,
    timeouts: Timeouts,
    retry: RetryPolicy,
    pacing: Pacing,
    max_per_minute: Option<u32>,
    rate_limiter: Option<Arc<dyn RateLimiter>>,
    clock: Option<Arc<dyn Clock>>,
    http_client: Option<reqwest::Client>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("token", &self.token)
            .field("base_url", &self.base_url)
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .field("pacing", &self.pacing)
            .field("max_requests_per_minute", &self.max_per_minute)
            .field("rate_limiter", &self.rate_limiter)
            .field("clock", &self.clock)
            .field("http_client", &self.http_client.as_ref().map(|_| "<given>"))
            .finish()
    }
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

    /// The retry policy every call uses unless told otherwise (see [`RetryPolicy`] for what
    /// is retried by default); [`RetryPolicy::none`] makes every call exactly one request.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// How the built-in rate limiter paces requests. Default [`Pacing::adaptive`]: the rate
    /// Webflow reports, shared by every clone of the client, its single calls and its bulk
    /// imports.
    pub fn pacing(mut self, pacing: Pacing) -> Self {
        self.pacing = pacing;
        self
    }

    /// Leaves part of the token's budget to the site's other integrations: the built-in rate
    /// limiter sends at most `per_minute` requests a minute, whatever Webflow reports.
    pub fn max_requests_per_minute(mut self, per_minute: u32) -> Self {
        self.max_per_minute = Some(per_minute);
        self
    }

    /// Replaces the built-in rate limiter (and with it [`pacing`](Self::pacing)), for
    /// example with one shared by several processes using the same token.
    pub fn rate_limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.rate_limiter = Some(limiter);
        self
    }

    /// The clock for waits, pacing and the overall deadline. Default: real time.
    /// Tests inject [`ManualClock`](crate::time::ManualClock) or
    /// [`ScaledClock`](crate::time::ScaledClock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Sends requests with this HTTP client instead of one the builder makes: your proxies,
    /// root certificates, connection pool and TLS set-up.
    ///
    /// What still applies: the credentials and `User-Agent` (added to every request), the
    /// attempt timeout and overall deadline (set on every request), the retry policy and
    /// pacing. What is yours: the connect timeout, TLS, proxies, and the redirect and
    /// retry policies — build it with `.redirect(reqwest::redirect::Policy::none())` and
    /// `.retry(reqwest::retry::never())`, as the client's own is built. A redirect your
    /// client follows anyway is detected and ends the call with [`Error::Redirect`].
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use webflow_api::{ApiToken, Client, reqwest};
    /// let http = reqwest::Client::builder()
    ///     .redirect(reqwest::redirect::Policy::none())
    ///     .retry(reqwest::retry::never())
    ///     .build()?;
    /// let client = Client::builder().token(ApiToken::from_env()?).http_client(http).build()?;
    /// # Ok(()) }
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Builds the client. Fails with [`Error::Config`] when no token was given, the base URL
    /// is not an `http(s)` URL, a timeout is zero, `max_attempts` is zero, the pacing rate
    /// is zero, or the HTTP client cannot be set up.
    pub fn build(mut self) -> Result<Client, Error> {
        let base_url = resolve_base_url(self.base_url.take())?;
        let token = self.token.take().ok_or_else(no_token)?;
        check_limits(&self.timeouts, &self.retry, self.pacing)?;
        if self.max_per_minute == Some(0) {
            return Err(Error::Config(
                "max_requests_per_minute is 0: no request could ever be sent; use a positive rate"
                    .into(),
            ));
        }
        let (http, http_kind) = match self.http_client.take() {
            Some(client) => (client, HttpClientKind::Given),
            None => (http_client(&self.timeouts, &token)?, HttpClientKind::Ours),
        };
        let limiter = match self.rate_limiter {
            Some(limiter) => ClientLimiter::Custom(limiter),
            None => ClientLimiter::Builtin(Arc::new(Pacer::new(self.pacing, self.max_per_minute))),
        };
        Ok(Client {
            inner: Arc::new(ClientInner {
                base_url,
                http,
                http_kind,
                authorization: token.authorization_header(),
                retry: self.retry,
                timeouts: self.timeouts,
                clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
                limiter,
                last_answer: Mutex::new(LastAnswer::default()),
            }),
        })
    }
}

fn no_token() -> Error {
    Error::Config(
        "no API token: call ClientBuilder::token, or use Client::from_env with \
         WEBFLOW_API_TOKEN set"
            .into(),
    )
}

/// The HTTP client the builder makes: [`reqwest_builder`] with the connect timeout, and the
/// credentials and `User-Agent` as default headers (the authorization marked sensitive, so
/// the client's `Debug` never shows it).
fn http_client(timeouts: &Timeouts, token: &ApiToken) -> Result<reqwest::Client, Error> {
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, token.authorization_header());
    headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
    reqwest_builder()?
        .default_headers(headers)
        .connect_timeout(timeouts.connect)
        .build()
        .map_err(|e| Error::Config(format!("cannot set up the HTTP client: {e}")))
}

/// The `reqwest::ClientBuilder` this crate builds its HTTP client from: no redirects
/// followed, no resends of reqwest's own (the client's attempt loop decides every request),
/// and (feature `rustls`) TLS through rustls with the `ring` provider and the platform's
/// certificate verifier, handed to reqwest directly — nothing process-wide is installed.
///
/// Start from it to add your proxies or connection settings, then pass the result to
/// [`ClientBuilder::http_client`]. (Root certificates added with reqwest's builder are not
/// used with this preconfigured TLS; for a private CA build your own rustls configuration.)
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use webflow_api::{ApiToken, Client, reqwest};
/// let http = webflow_api::reqwest_builder()?
///     .proxy(reqwest::Proxy::https("http://proxy.internal:3128")?)
///     .build()?;
/// let client = Client::builder().token(ApiToken::from_env()?).http_client(http).build()?;
/// # Ok(()) }
/// ```
pub fn reqwest_builder() -> Result<reqwest::ClientBuilder, Error> {
    let builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .retry(reqwest::retry::never())
        .connect_timeout(Timeouts::default().connect);
    #[cfg(feature = "rustls")]
    let builder = builder.tls_backend_preconfigured(tls_config()?);
    Ok(builder)
}

/// rustls with the `ring` provider and the platform's certificate verifier, as a
/// configuration of its own (never the process-wide default provider).
#[cfg(feature = "rustls")]
fn tls_config() -> Result<rustls::ClientConfig, Error> {
    let tls_error = |e: rustls::Error| Error::Config(format!("cannot set up TLS: {e}"));
    // rustls 0.23.48 deprecates `ring::default_provider()` ("no support for post-quantum
    // algorithms", which only its aws-lc-rs provider has) and has no other constructor of
    // the ring provider in 0.23: rustls's next major version moves it to the `rustls-ring`
    // crate. The ring provider is this crate's choice (no aws-lc, no C toolchain beyond
    // ring's), so the call stays with the lint allowed on this line only; `allow`, not
    // `expect`, because 0.23.47 and older do not deprecate it.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone()).map_err(tls_error)?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

fn check_limits(timeouts: &Timeouts, retry: &RetryPolicy, pacing: Pacing) -> Result<(), Error> {
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
    if let Some(problem) = retry.problem() {
        return Err(Error::Config(problem.into()));
    }
    if let Some(problem) = pacing.problem() {
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
