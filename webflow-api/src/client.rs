//! The [`Client`] and the state it shares with its clones: base URL, HTTP client,
//! credentials, timeouts, retry policy, clock, the one rate limiter, and what the latest
//! answers said. Built by [`ClientBuilder`](crate::ClientBuilder) (`config.rs`).

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::HeaderValue;

use crate::pacing::ClientLimiter;
use crate::rate_limit::RateLimit;
use crate::retry::RetryPolicy;
use crate::time::Clock;

/// A client of Webflow's Data API v2. Cheap to clone: clones share one connection pool, one
/// rate limiter and one configuration.
///
/// Build one with [`Client::from_env`], [`Client::from_token`] or [`Client::builder`]. Its
/// calls (`create_live_item`, `list_items`, `bulk_create_live`, ...) all take the one request
/// path: paced, retried as the [`RetryPolicy`] allows, within the [`Timeouts`].
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<ClientInner>,
}

/// What a client and its clones share.
pub(crate) struct ClientInner {
    /// E.g. `https://api.webflow.com/v2`, without a trailing `/`.
    pub(crate) base_url: String,
    pub(crate) http: reqwest::Client,
    /// Whether `http` is the one the builder makes (credentials as default headers,
    /// redirects never followed, the client's connect timeout), or one given by the user.
    pub(crate) http_kind: HttpClientKind,
    /// `Authorization: Bearer …`, marked sensitive.
    pub(crate) authorization: HeaderValue,
    pub(crate) retry: RetryPolicy,
    pub(crate) timeouts: Timeouts,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) limiter: ClientLimiter,
    pub(crate) last_answer: Mutex<LastAnswer>,
}

/// Where the HTTP client comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HttpClientKind {
    /// Built by the crate.
    Ours,
    /// Given by the user ([`ClientBuilder::http_client`](crate::ClientBuilder::http_client)).
    Given,
}

/// What the latest answers said, for [`Client::rate_limit`] and server-time estimates.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LastAnswer {
    pub(crate) rate_limit: Option<RateLimit>,
    /// The latest `Date` header, and when (on the client's clock) its answer arrived.
    pub(crate) server_date: Option<ServerDate>,
}

/// A server's `Date` header and the client-clock instant its answer arrived: the two
/// together convert a client instant into the server's time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ServerDate {
    pub(crate) date: SystemTime,
    pub(crate) received: Instant,
}

impl ServerDate {
    /// The server's time at client instant `at`, estimated from this reading. `Date` has
    /// whole seconds (rounded down), so the estimate is at most a second early.
    pub(crate) fn server_time_at(&self, at: Instant) -> SystemTime {
        if at >= self.received {
            self.date + (at - self.received)
        } else {
            self.date
                .checked_sub(self.received - at)
                .unwrap_or(SystemTime::UNIX_EPOCH)
        }
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

impl Client {
    /// The base URL requests go to, e.g. `https://api.webflow.com/v2`.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The rate-limit headers of the latest answer any clone of this client received.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.inner.last_answer().rate_limit
    }

    /// The retry policy calls use unless told otherwise.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The client's timeouts.
    pub fn timeouts(&self) -> Timeouts {
        self.inner.timeouts
    }

    /// The client's rate limiter.
    pub(crate) fn limiter(&self) -> &ClientLimiter {
        &self.inner.limiter
    }
}

impl ClientInner {
    /// The API token, to remove from anything an answer echoes.
    pub(crate) fn token(&self) -> &str {
        self.authorization
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or_default()
    }

    pub(crate) fn last_answer(&self) -> LastAnswer {
        *self.last_answer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Notes what an answer said about the rate limit and the server's time.
    pub(crate) fn note_answer(
        &self,
        rate_limit: Option<RateLimit>,
        server_date: Option<ServerDate>,
    ) {
        if rate_limit.is_none() && server_date.is_none() {
            return;
        }
        let mut last = self.last_answer.lock().unwrap_or_else(|e| e.into_inner());
        if rate_limit.is_some() {
            last.rate_limit = rate_limit;
        }
        if server_date.is_some() {
            last.server_date = server_date;
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("Client")
            .field("base_url", &inner.base_url)
            .field("token", &"<redacted>")
            .field("http_client", &inner.http_kind)
            .field("retry", &inner.retry)
            .field("timeouts", &inner.timeouts)
            .field("clock", &inner.clock)
            .field("rate_limiter", &inner.limiter)
            .field("rate_limit", &inner.last_answer().rate_limit)
            .finish()
    }
}

impl fmt::Debug for ClientInner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientInner")
            .field("base_url", &self.base_url)
            .field("token", &"<redacted>")
            .finish_non_exhaustive()
    }
}
