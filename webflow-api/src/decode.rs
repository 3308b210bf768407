//! The one error mapping: what the generated client returned for one attempt, with what
//! the answer's head said, becomes the operation's decoded answer or an [`Error`] —
//! generic over the operation.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION};
use serde::de::DeserializeOwned;

use crate::Error;
use crate::error::{
    ApiError, RateLimitedError, RedirectError, TimeoutError, TimeoutKind, TransportError,
    UndecodableResponse,
};
use crate::operation::Generated;
use crate::rate_limit::RateLimit;
use crate::transport::AnswerFacts;
use crate::types::WebflowError;

/// What the loop knows of an attempt besides its result: the limit it ran under, and
/// whether its body was pulled by the connection.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AttemptLimits {
    pub(crate) kind: TimeoutKind,
    pub(crate) limit: Duration,
    pub(crate) connect_timeout: Duration,
    /// `Some(false)` when a watched body was never pulled: the request was not sent.
    pub(crate) body_pulled: Option<bool>,
}

/// Maps what the generated client returned for one attempt to the operation's value or an
/// [`Error`]. The one mapping every operation uses.
pub(crate) async fn decode<T: DeserializeOwned>(
    generated: Generated<T>,
    answer: &AnswerFacts,
    limits: AttemptLimits,
) -> Result<T, Error> {
    use progenitor_client::Error as G;
    if let Some(location) = answer.followed_to.clone() {
        return Err(Error::Redirect(Box::new(RedirectError {
            status: answer.status.unwrap_or(StatusCode::OK),
            location: Some(location),
            followed: true,
            rate_limit: answer.rate_limit,
        })));
    }
    match generated {
        Ok(value) => Ok(value.into_inner()),
        Err(G::ErrorResponse(response)) => {
            let status = response.status();
            let headers = response.headers().clone();
            Err(api_error(
                status,
                response.into_inner(),
                &headers,
                answer.retry_after,
            ))
        }
        Err(G::InvalidResponsePayload(_, _))
            if answer.status == Some(StatusCode::TOO_MANY_REQUESTS) =>
        {
            Err(throttled(
                answer.rate_limit,
                answer.request_id.clone(),
                answer.retry_after,
            ))
        }
        Err(G::InvalidResponsePayload(body, error)) => Err(Error::UndecodableResponse(Box::new(
            UndecodableResponse::new(answer.status, &body, &error, answer.rate_limit)
                .with_source(error),
        ))),
        Err(G::UnexpectedResponse(response)) => {
            let status = response.status();
            let headers = response.headers().clone();
            match response.bytes().await {
                Ok(body) => decode_undeclared(status, &headers, &body, answer.retry_after),
                Err(error) => Err(from_reqwest(error, limits)),
            }
        }
        Err(
            G::CommunicationError(error) | G::ResponseBodyError(error) | G::InvalidUpgrade(error),
        ) => Err(from_reqwest(error, limits)),
        Err(G::InvalidRequest(message) | G::Custom(message)) => Err(Error::InvalidInput(message)),
    }
}

/// A status the spec does not declare for the operation: a 2xx decodes as a success, a
/// 3xx is a redirect, anything else an error body if it is one.
fn decode_undeclared<T: DeserializeOwned>(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    retry_after: Option<Duration>,
) -> Result<T, Error> {
    let rate_limit = RateLimit::from_headers(headers);
    let undecodable = |reason: &dyn std::fmt::Display| {
        UndecodableResponse::new(Some(status), body, reason, rate_limit)
    };
    if status.is_success() {
        return serde_json::from_slice(body)
            .map_err(|e| Error::UndecodableResponse(Box::new(undecodable(&e).with_source(e))));
    }
    if status.is_redirection() {
        return Err(Error::Redirect(Box::new(RedirectError {
            status,
            location: headers
                .get(LOCATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
            followed: false,
            rate_limit,
        })));
    }
    match serde_json::from_slice::<WebflowError>(body) {
        Ok(parsed) if parsed.code.is_some() || parsed.message.is_some() => {
            Err(api_error(status, parsed, headers, retry_after))
        }
        _ if status == StatusCode::TOO_MANY_REQUESTS => Err(throttled(
            rate_limit,
            crate::error::request_id(headers),
            retry_after,
        )),
        Ok(_) => Err(Error::UndecodableResponse(Box::new(undecodable(
            &"not a Webflow error body",
        )))),
        Err(e) => Err(Error::UndecodableResponse(Box::new(
            undecodable(&e).with_source(e),
        ))),
    }
}

/// A decoded error body: a 429 is [`Error::RateLimited`], anything else [`Error::Api`].
fn api_error(
    status: StatusCode,
    body: WebflowError,
    headers: &HeaderMap,
    retry_after: Option<Duration>,
) -> Error {
    let error = ApiError::new(status, body, headers, retry_after);
    if status == StatusCode::TOO_MANY_REQUESTS {
        Error::RateLimited(Box::new(RateLimitedError {
            retry_after,
            allowed_wait: None,
            response: Some(error),
        }))
    } else {
        Error::Api(Box::new(error))
    }
}

/// A 429 whose body is not Webflow's error (a proxy's HTML page, an empty body) is still a
/// 429: nothing took effect, and its `Retry-After` is the wait, for the retry decision as
/// for the rate limiter.
fn throttled(
    rate_limit: Option<RateLimit>,
    request_id: Option<String>,
    retry_after: Option<Duration>,
) -> Error {
    Error::RateLimited(Box::new(RateLimitedError {
        retry_after,
        allowed_wait: None,
        response: Some(ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: None,
            message: None,
            external_reference: None,
            details: Vec::new(),
            retry_after,
            rate_limit,
            request_id,
            item_level: false,
        }),
    }))
}

/// A failure of the HTTP exchange. Whether the request was sent is read from the attempt:
/// a request whose body the connection never pulled was not sent, whatever timed out.
fn from_reqwest(error: reqwest::Error, limits: AttemptLimits) -> Error {
    let request_sent =
        !error.is_connect() && !error.is_builder() && limits.body_pulled.unwrap_or(true);
    if error.is_timeout() {
        let (kind, limit) = if error.is_connect() {
            (TimeoutKind::Connect, limits.connect_timeout)
        } else {
            (limits.kind, limits.limit)
        };
        return Error::Timeout(TimeoutError {
            kind,
            limit,
            request_sent,
            source: Some(Arc::new(error)),
        });
    }
    Error::Transport(TransportError {
        request_sent,
        source: error,
    })
}
