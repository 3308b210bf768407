#![doc = include_str!("../../README.md")]
#![warn(missing_docs)]

// The client generated from `spec/webflow-cms-items.yaml` by `cargo xtask codegen`.
// Never edit it by hand: change the spec or `xtask/src/codegen.rs` and regenerate.
#[allow(
    missing_docs,
    clippy::all,
    unused_imports,
    unreachable_pub,
    rustdoc::all
)]
#[rustfmt::skip]
mod generated;

// `Client`, `types`, `builder`, `ResponseValue`, ... (the generated `Error` is shadowed
// by this crate's own `Error` below).
pub use generated::*;

mod auth;
pub mod bulk;
mod call;
mod config;
mod create;
mod error;
mod hooks;
mod item;
#[cfg(feature = "mock")]
pub mod mock;
mod rate_limit;
pub mod retry;
pub mod time;

pub use auth::{ApiToken, TOKEN_ENV};
pub use bulk::{
    BulkEvent, BulkImport, BulkProgress, BulkReport, BulkSummary, CancelToken, ItemOutcome,
    ItemResult,
};
pub use config::{BASE_URL_ENV, ClientBuilder, DEFAULT_BASE_URL, Timeouts, USER_AGENT_VALUE};
pub use create::{CreateLiveItem, CreateLiveItems, MAX_ITEMS_PER_REQUEST};
pub use error::{
    ApiError, BODY_EXCERPT_LIMIT, Error, ErrorCode, TimeoutError, TimeoutKind, TransportError,
    UndecodableResponse,
};
pub use hooks::ClientState;
pub use rate_limit::{Pacing, RateLimit};
pub use retry::RetryPolicy;
pub use types::{
    BulkCollectionItems, BulkNewItems, CollectionItem, CollectionItemFieldData,
    CreateLiveItemsBody, CreatedLiveItems, NewItem, NewItemFieldData, WebflowError,
};

/// The raw generated error type, for callers of the generated builder
/// (`client.create_item_live()...send()`).
pub type GeneratedError = progenitor_client::Error<WebflowError>;
