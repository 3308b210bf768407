//! What every operation shares: what the generated client offers for it ([`GeneratedCall`],
//! implemented by `cargo xtask codegen` for every operation of the spec), what an entry
//! point adds ([`Operation`]: input checks, the builder for one attempt, the caller's value),
//! and the one future type every call returns ([`CallFuture`]).
//!
//! Adding an operation is a spec change plus one short file that defines the entry point's
//! pending-call type, implements [`Operation`] for it and names its future with
//! [`call_future!`]; CONTRIBUTING.md has the recipe.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use serde::de::DeserializeOwned;

use crate::transport::Transport;
use crate::types::WebflowError;
use crate::{Client, Error};

/// The most items one request may carry (documented by Webflow for its bulk CMS endpoints).
pub const MAX_ITEMS_PER_REQUEST: usize = 100;

/// Refuses a request of `n` items (or ids) outside 1 to [`MAX_ITEMS_PER_REQUEST`].
pub(crate) fn check_batch_size(n: usize, what: &str, unit: &str) -> Result<(), Error> {
    if n == 0 || n > MAX_ITEMS_PER_REQUEST {
        return Err(Error::InvalidInput(format!(
            "{what} takes 1 to {MAX_ITEMS_PER_REQUEST} {unit}, got {n}; for any number use \
             Client::bulk_create_live, which splits its work into requests of at most \
             {MAX_ITEMS_PER_REQUEST}"
        )));
    }
    Ok(())
}

/// Refuses collection ids that would change the URL path. Any other non-empty id is sent
/// as is: Webflow ids are usually 24 hex characters, but not always.
pub(crate) fn validate_collection_id(id: &str) -> Result<(), Error> {
    if id.is_empty() {
        return Err(Error::InvalidInput(
            "the collection id is empty: pass the id of the collection to create items in \
             (Webflow Designer > CMS > collection settings, or GET /sites/{site_id}/collections)"
                .into(),
        ));
    }
    // The usual shape (hex, or letters, digits, `-` and `_`) needs no closer look.
    if id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Ok(());
    }
    if let Some(bad) = id
        .chars()
        .find(|c| matches!(c, '/' | '?' | '#' | '%' | '\\') || c.is_whitespace() || c.is_control())
    {
        return Err(Error::InvalidInput(format!(
            "the collection id {id:?} contains {bad:?}, which would change the request URL; pass \
             the bare collection id, e.g. 580e63fc8c9a982ac9b8b745"
        )));
    }
    if id == "." || id == ".." {
        return Err(Error::InvalidInput(format!(
            "the collection id {id:?} would change the request URL; pass the bare collection id"
        )));
    }
    Ok(())
}

/// What one attempt of a generated call returns.
pub(crate) type Generated<T> =
    Result<progenitor_client::ResponseValue<T>, progenitor_client::Error<WebflowError>>;

/// One attempt of a generated call, in flight.
pub(crate) type AttemptFuture<'a, T> = Pin<Box<dyn Future<Output = Generated<T>> + Send + 'a>>;

/// A generated request builder, as the attempt loop sees it. Implemented in `generated.rs`
/// for every operation of the spec, with the operationId and idempotency read from the spec.
pub(crate) trait GeneratedCall<'a>: Send + 'a {
    /// The spec's operationId (`create-item-live`), for tracing spans and errors.
    const OPERATION_ID: &'static str;
    /// Whether sending it twice does no more than sending it once: from the HTTP method
    /// (GET, PUT, DELETE), or the spec's `x-idempotent` extension.
    const IDEMPOTENT: bool;
    /// What a success decodes into.
    type Response: DeserializeOwned + Send + 'static;
    /// Sends one attempt.
    fn send_attempt(self) -> AttemptFuture<'a, Self::Response>;
}

/// An entry point's request, as the attempt loop ([`Client::call`]) sends it: checked once,
/// then built from the generated client for each attempt (so a retry sends the same
/// request again), and its answer turned into the caller's value.
pub(crate) trait Operation: Send + Sync {
    /// What a success decodes into.
    type Response: DeserializeOwned + Send + 'static;
    /// The generated request builder.
    type Builder<'c>: GeneratedCall<'c, Response = Self::Response>;
    /// What the caller gets.
    type Output: Send;

    /// Refuses input that must not be sent, before any request.
    fn check(&self) -> Result<(), Error> {
        Ok(())
    }

    /// The generated builder for one attempt, from that attempt's client.
    fn builder<'c>(&self, transport: &'c Transport) -> Self::Builder<'c>;

    /// Whether the loop hands each attempt's request body back ([`sent`](Self::sent)): an
    /// operation that moves its body into an attempt rebuilds the next from it.
    const KEEPS_SENT_BODY: bool = false;

    /// The body bytes the latest attempt sent (only when [`KEEPS_SENT_BODY`](Self::KEEPS_SENT_BODY)).
    fn sent(&self, _body: bytes::Bytes) {}

    /// The caller's value from a decoded answer (or an error when the answer, though
    /// decoded, does not say what the call needs).
    fn output(&self, response: Self::Response) -> Result<Self::Output, Error>;
}

/// The operationId of `Op`.
pub(crate) fn operation_id<Op: Operation>() -> &'static str {
    <Op::Builder<'static> as GeneratedCall<'static>>::OPERATION_ID
}

/// Whether `Op` is idempotent.
pub(crate) fn is_idempotent<Op: Operation>() -> bool {
    <Op::Builder<'static> as GeneratedCall<'static>>::IDEMPOTENT
}

/// A call in progress: what `.await`ing any pending call of this crate gives (through
/// [`IntoFuture`](std::future::IntoFuture)). It sends the request through the client's one
/// request path — paced, retried as its retry policy allows, within its timeouts.
#[must_use = "a call does nothing until awaited"]
pub struct CallFuture<'a, T> {
    inner: Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>,
}

impl<'a, T: Send + 'a> CallFuture<'a, T> {
    /// Sends `op` with the client's settings.
    pub(crate) fn new<Op>(client: &'a Client, op: Op) -> Self
    where
        Op: Operation<Output = T> + 'a,
    {
        CallFuture {
            inner: Box::pin(async move {
                client
                    .call(&op, crate::request::CallOptions::default())
                    .await
                    .result
                    .map_err(Error::from)
            }),
        }
    }
}

impl<T> Future for CallFuture<'_, T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl<T> fmt::Debug for CallFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallFuture")
    }
}

/// `impl IntoFuture` for a pending call type holding `client: &'a Client`:
/// `call_future!(CreateLiveItems => Vec<CollectionItem>);`.
macro_rules! call_future {
    ($pending:ident => $output:ty) => {
        impl<'a> ::std::future::IntoFuture for $pending<'a> {
            type Output = Result<$output, crate::Error>;
            type IntoFuture = crate::operation::CallFuture<'a, $output>;

            fn into_future(self) -> Self::IntoFuture {
                crate::operation::CallFuture::new(self.client, self)
            }
        }
    };
}
pub(crate) use call_future;
