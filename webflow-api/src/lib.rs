#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The client generated from `spec/webflow-cms-items.yaml` by `cargo xtask codegen`.
// Never edit it by hand: change the spec or `xtask/src/codegen.rs` and regenerate.
#[allow(
    missing_docs,
    clippy::all,
    dead_code,
    unused_imports,
    unreachable_pub,
    rustdoc::all
)]
#[rustfmt::skip]
mod generated;

// The generated client and types. Its `Error` is not re-exported: this crate's own
// `Error` is the one users see (the generated one is `GeneratedError`).
pub use generated::{Client, ClientInfo, ResponseValue, builder, types};

mod auth;
pub mod bulk;
mod config;
mod create;
mod error;
mod hooks;
mod item;
pub mod list;
#[cfg(feature = "mock")]
#[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
pub mod mock;
pub mod pacing;
mod rate_limit;
mod request;
pub mod retry;
pub mod time;

pub use auth::{ApiToken, TOKEN_ENV};
pub use bulk::{
    BulkEvent, BulkImport, BulkProgress, BulkReport, BulkSummary, ImportEnd, ItemOutcome,
    ItemResult, Settle,
};
pub use config::{
    BASE_URL_ENV, ClientBuilder, DEFAULT_BASE_URL, Timeouts, USER_AGENT_VALUE, reqwest_builder,
};
pub use create::{CreateLiveItem, CreateLiveItems, MAX_ITEMS_PER_REQUEST};
pub use error::{
    ApiError, BODY_EXCERPT_LIMIT, Error, ErrorCode, RateLimitedError, RedirectError, TimeoutError,
    TimeoutKind, TransportError, UndecodableResponse,
};
pub use hooks::ClientState;
pub use list::{FindItemBySlug, ListItems};
pub use pacing::{Pacing, RateLimiter};
pub use rate_limit::RateLimit;
pub use retry::{Disposition, RetryPolicy, WaitReason};
/// Cancels a bulk import (or a call): no request is started after `cancel()`, waits end at
/// once, requests already sent complete. tokio-util's token, re-exported.
pub use tokio_util::sync::CancellationToken;
pub use types::{
    BulkCollectionItems, BulkNewItems, CollectionItem, CollectionItemFieldData, CollectionItemList,
    CreateLiveItemsBody, CreatedLiveItems, NewItem, NewItemFieldData, Pagination, WebflowError,
};

/// The HTTP client crate whose types appear in this crate's API (`reqwest::Client` for
/// [`ClientBuilder::http_client`], `StatusCode`, `reqwest::Error` inside errors).
pub use reqwest;
/// The JSON crate whose `Value` carries custom item fields and error details.
pub use serde_json;

/// The raw generated error type, for callers of the generated builder
/// (`client.create_item_live()...send()`).
pub type GeneratedError = progenitor_client::Error<WebflowError>;

/// Compile-time guarantees: the client can be shared across threads and tasks, and every
/// future and stream it returns can be spawned on a multi-threaded runtime.
#[allow(dead_code)]
fn _assert_thread_safety(client: &Client) {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: T) {}
    use std::future::IntoFuture;
    send_sync(client);
    send_sync(&Error::InvalidInput(String::new()));
    send(
        client
            .create_live_item("", NewItem::new("", ""))
            .into_future(),
    );
    send(client.create_live_items("", []).into_future());
    send(client.find_item_by_slug("", "").into_future());
    send(client.list_items("").pages());
    send(client.list_items("").page(0));
    send(
        client
            .bulk_create_live("")
            .run(std::iter::empty::<NewItem>()),
    );
    send(
        client
            .bulk_create_live("")
            .run_stream(futures_util::stream::empty::<NewItem>()),
    );
}

/// The repository README's examples, compiled as doctests (not part of the API; the README
/// is outside the published package, and `cfg(doctest)` keeps it out of every other build).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct RepositoryReadmeDoctests;
