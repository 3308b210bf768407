#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The client generated from `spec/webflow-cms-items.yaml` by `cargo xtask codegen`.
// Never edit it by hand: change the spec or `xtask/src/codegen.rs` and regenerate. Nothing
// of it is public but the types re-exported in `types` below: its request builders are
// reached only through the entry points (`create.rs`, `list.rs`, ...), which send them
// through the one request path.
#[allow(
    missing_docs,
    clippy::all,
    dead_code,
    unused_imports,
    unreachable_pub,
    private_interfaces,
    rustdoc::all
)]
#[rustfmt::skip]
mod generated;

mod auth;
pub mod bulk;
mod client;
mod collection;
mod config;
mod create;
mod decode;
mod delete;
mod error;
mod item;
pub mod list;
#[cfg(feature = "mock")]
#[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
pub mod mock;
mod operation;
pub mod pacing;
mod rate_limit;
mod request;
pub mod retry;
mod schema;
pub mod time;
mod transport;
mod update;

/// The API's request and response types, generated from the spec (`#[non_exhaustive]`:
/// build new items with [`NewItem::new`], read answers through their fields).
pub mod types {
    pub use crate::generated::types::{
        BulkCollectionItems, BulkNewItems, Collection, CollectionField, CollectionItem,
        CollectionItemFieldData, CollectionItemList, CreateLiveItemsBody, CreatedLiveItems,
        ItemById, ItemsById, NewItem, NewItemFieldData, Pagination, UpdateItem,
        UpdateItemFieldData, UpdateItemsBody, WebflowError,
    };
}

pub use auth::{ApiToken, TOKEN_ENV};
pub use bulk::{
    BulkEvent, BulkImport, BulkProgress, BulkReport, BulkSummary, FieldProblem, ImportEnd,
    ItemOutcome, ItemResult, Prune, PrunedItem, Settle,
};
pub use client::{Client, Timeouts};
pub use collection::GetCollection;
pub use config::{BASE_URL_ENV, ClientBuilder, DEFAULT_BASE_URL, reqwest_builder};
pub use create::{CreateLiveItem, CreateLiveItems, MAX_ITEMS_PER_REQUEST};
pub use delete::{DeleteItems, UnpublishLiveItems};
pub use error::{
    ApiError, BODY_EXCERPT_LIMIT, Error, ErrorCode, RateLimitedError, RedirectError,
    SlugTakenError, TimeoutError, TimeoutKind, TransportError, UndecodableResponse,
};
pub use list::{FindItemBySlug, ListItems};
pub use operation::CallFuture;
pub use pacing::{Pacing, RateLimiter};
pub use rate_limit::RateLimit;
pub use retry::{Disposition, RetryPolicy, WaitReason};
/// Cancels a bulk import (or a call): no request is started after `cancel()`, waits end at
/// once, requests already sent complete. tokio-util's token, re-exported.
pub use tokio_util::sync::CancellationToken;
pub use transport::USER_AGENT_VALUE;
pub use types::{
    BulkCollectionItems, BulkNewItems, CollectionItem, CollectionItemFieldData, CollectionItemList,
    CreateLiveItemsBody, CreatedLiveItems, NewItem, NewItemFieldData, Pagination, WebflowError,
};
pub use update::UpdateLiveItems;

/// The HTTP client crate whose types appear in this crate's API (`reqwest::Client` for
/// [`ClientBuilder::http_client`], `StatusCode`, `reqwest::Error` inside errors).
pub use reqwest;
/// The JSON crate whose `Value` carries custom item fields and error details.
pub use serde_json;

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
    send(client.collection("").into_future());
    send(client.update_live_items("", []).into_future());
    send(client.unpublish_live_items("", [""]).into_future());
    send(client.delete_items("", [""]).into_future());
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

/// What is not part of the public API, proven by examples that must not compile: the
/// generated client's own calls (one attempt, no pacing, another error type) are not
/// callable on [`Client`], and no type of the generator's runtime is re-exported.
///
/// ```compile_fail
/// # async fn f(client: webflow_api::Client) {
/// let _ = client.create_item_live(); // the generated call: use create_live_item
/// # }
/// ```
/// ```compile_fail
/// # async fn f(client: webflow_api::Client) {
/// let _ = client.list_collection_items(); // the generated call: use list_items
/// # }
/// ```
/// ```compile_fail
/// use webflow_api::ResponseValue;
/// ```
/// ```compile_fail
/// use webflow_api::GeneratedError;
/// ```
/// ```compile_fail
/// use webflow_api::ClientInfo;
/// ```
/// ```compile_fail
/// use webflow_api::builder::CreateItemLive;
/// ```
/// ```compile_fail
/// use webflow_api::types::builder::NewItem;
/// ```
/// ```compile_fail
/// use webflow_api::types::error::ConversionError;
/// ```
/// ```compile_fail
/// let _ = webflow_api::NewItem::builder();
/// ```
/// ```compile_fail
/// let _: webflow_api::list::SortBy = "createdOn".parse().unwrap();
/// ```
/// ```compile_fail
/// let _ = webflow_api::ClientState::default;
/// ```
/// The same items are reachable when spelled right (so the examples above fail for the
/// reason they name):
/// ```
/// # async fn f(client: webflow_api::Client) {
/// let _ = client.create_live_item("c", webflow_api::NewItem::new("A", "a"));
/// let _ = client.list_items("c");
/// let _ = webflow_api::list::SortBy::CreatedOn;
/// # }
/// ```
#[cfg(doctest)]
pub struct PrivateApiDoctests;
