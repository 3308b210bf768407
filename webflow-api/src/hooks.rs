//! The client's shared state ([`ClientState`]) and the thin
//! [`ClientHooks`](progenitor_client::ClientHooks) the generated client calls around every
//! request: they add the credentials, apply the timeout the attempt loop chose
//! (`request.rs`), and note what the answer's head said. Retrying, pacing and tracing
//! spans live in the attempt loop, not here.

use std::fmt;
use std::sync::{Arc, Mutex};

use progenitor_client::{ClientHooks, OperationInfo};
use reqwest::header::{AUTHORIZATION, HeaderValue, USER_AGENT};

use crate::Client;
use crate::auth::ApiToken;
use crate::config::{Timeouts, USER_AGENT_VALUE};
use crate::pacing::RateLimiter;
use crate::rate_limit::RateLimit;
use crate::request::Attempt;
use crate::retry::RetryPolicy;
use crate::time::Clock;

/// State shared by a [`Client`] and all its clones: credentials, timeouts, retry policy,
/// clock and the one rate limiter. Built by [`ClientBuilder`](crate::ClientBuilder)
/// ([`ClientBuilder::build_state`](crate::ClientBuilder::build_state) for the generated
/// constructors).
#[derive(Clone)]
pub struct ClientState {
    pub(crate) shared: Arc<Shared>,
}

pub(crate) struct Shared {
    /// `Authorization: Bearer …`, marked sensitive.
    pub(crate) authorization: HeaderValue,
    /// Whether the HTTP client is the one [`ClientBuilder::build`](crate::ClientBuilder::build)
    /// makes (credentials as default headers, redirects never followed, the client's connect
    /// timeout), or one given by the user (nothing of that is known).
    pub(crate) http: HttpClient,
    pub(crate) retry: RetryPolicy,
    pub(crate) timeouts: Timeouts,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) limiter: Arc<dyn RateLimiter>,
    pub(crate) last_rate_limit: Mutex<Option<RateLimit>>,
}

/// Where the HTTP client comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HttpClient {
    /// Built by the crate.
    Ours,
    /// Given by the user.
    Given,
}

impl Shared {
    pub(crate) fn new(
        http: HttpClient,
        token: &ApiToken,
        retry: RetryPolicy,
        timeouts: Timeouts,
        clock: Arc<dyn Clock>,
        limiter: Arc<dyn RateLimiter>,
    ) -> Shared {
        Shared {
            authorization: token.authorization_header(),
            http,
            retry,
            timeouts,
            clock,
            limiter,
            last_rate_limit: Mutex::new(None),
        }
    }
}

impl fmt::Debug for ClientState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = &self.shared;
        f.debug_struct("ClientState")
            .field("token", &"<redacted>")
            .field("retry", &shared.retry)
            .field("timeouts", &shared.timeouts)
            .field("clock", &shared.clock)
            .field("rate_limiter", &shared.limiter)
            .field(
                "last_rate_limit",
                &*shared
                    .last_rate_limit
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()),
            )
            .finish()
    }
}

impl Client {
    /// The rate-limit headers of the latest answer any clone of this client received.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        *self
            .inner
            .shared
            .last_rate_limit
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// The retry policy calls use unless told otherwise.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.shared.retry
    }

    /// The client's timeouts.
    pub fn timeouts(&self) -> Timeouts {
        self.inner.shared.timeouts
    }
}

impl ClientHooks<ClientState> for Client {
    /// Sends one request: with the credentials and `User-Agent`, and the timeout the
    /// attempt loop chose (the client's attempt timeout for a request sent through the
    /// generated builder directly, which gets one attempt and no pacing).
    async fn exec(
        &self,
        mut request: reqwest::Request,
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let shared = &*self.inner.shared;
        let given = shared.http == HttpClient::Given;
        if given {
            // The crate's own client carries these as default headers.
            let headers = request.headers_mut();
            headers.insert(AUTHORIZATION, shared.authorization.clone());
            headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        }
        let attempt = Attempt::current();
        *request.timeout_mut() = Some(
            attempt
                .as_ref()
                .map_or(shared.timeouts.attempt, |a| a.timeout()),
        );
        let span = tracing::Span::current();
        span.record(
            "http.request.method",
            tracing::field::display(request.method()),
        );
        span.record("url.path", tracing::field::display(request.url().path()));
        let Some(attempt) = attempt else {
            return self.client.execute(request).await;
        };
        // Whether a timeout struck before the request left matters only when the attempt's
        // limit is shorter than the connect timeout (a stalled connect is otherwise a
        // connect error) — or when the client's connect timeout is not known.
        attempt.keep_body(&request);
        if given || attempt.timeout() < shared.timeouts.connect {
            attempt.watch_body(&mut request);
        }
        // The crate's own client never follows redirects; a given one may.
        let sent_to = given.then(|| request.url().clone());
        let result = self.client.execute(request).await;
        if let Ok(response) = &result {
            attempt.note_answer(response, sent_to.as_ref(), &*shared.clock);
        }
        result
    }
}
