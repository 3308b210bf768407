//! The typed entry points for creating live items — `Client::create_live_item` and
//! `Client::create_live_items` — with input checks before sending and the mapping of every
//! outcome to [`Error`].

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::call::{self, CallRecord};
use crate::error::{ApiError, TimeoutError, TimeoutKind, TransportError, UndecodableResponse};
use crate::rate_limit::RateLimit;
use crate::retry::parse_retry_after;
use crate::types::{
    BulkNewItems, CollectionItem, CreateLiveItemsBody, CreatedLiveItems, NewItem, WebflowError,
};
use crate::{Client, Error};

/// The most items one request may carry (documented by Webflow for its bulk CMS endpoints).
pub const MAX_ITEMS_PER_REQUEST: usize = 100;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl Client {
    /// Creates one item, published live at once. Await it directly, or set options first:
    ///
    /// ```no_run
    /// # async fn run(client: webflow_api::Client) -> Result<(), webflow_api::Error> {
    /// use webflow_api::NewItem;
    /// let item = client
    ///     .create_live_item("580e63fc8c9a982ac9b8b745", NewItem::new("Blue Mug", "blue-mug").field("price", 12))
    ///     .skip_invalid_files(false)
    ///     .await?;
    /// println!("created {}", item.id);
    /// # Ok(()) }
    /// ```
    pub fn create_live_item(
        &self,
        collection_id: impl Into<String>,
        item: NewItem,
    ) -> CreateLiveItem<'_> {
        CreateLiveItem {
            request: CreateRequest::new(
                self,
                collection_id.into(),
                CreateLiveItemsBody::NewItem(item),
            ),
        }
    }

    /// Creates 1 to 100 items in one request (Webflow's bulk form, `{"items": [...]}`). The
    /// created items come back in the order sent. For more than 100 items use
    /// [`Client::bulk_create_live`](crate::Client), which also paces and accounts for every item.
    pub fn create_live_items(
        &self,
        collection_id: impl Into<String>,
        items: impl IntoIterator<Item = NewItem>,
    ) -> CreateLiveItems<'_> {
        let items: Vec<NewItem> = items.into_iter().collect();
        CreateLiveItems {
            request: CreateRequest::new(
                self,
                collection_id.into(),
                CreateLiveItemsBody::BulkNewItems(BulkNewItems { items }),
            ),
        }
    }
}

/// A pending [`Client::create_live_item`]: `.await` it.
#[must_use = "a create does nothing until awaited"]
#[derive(Debug)]
pub struct CreateLiveItem<'a> {
    request: CreateRequest<'a>,
}

/// A pending [`Client::create_live_items`]: `.await` it.
#[must_use = "a create does nothing until awaited"]
#[derive(Debug)]
pub struct CreateLiveItems<'a> {
    request: CreateRequest<'a>,
}

impl CreateLiveItem<'_> {
    /// `skipInvalidFiles`: when `false`, the whole request fails if any file is invalid;
    /// Webflow's default is `true` (invalid files are skipped).
    pub fn skip_invalid_files(mut self, skip: bool) -> Self {
        self.request.skip_invalid_files = Some(skip);
        self
    }
}

impl CreateLiveItems<'_> {
    /// `skipInvalidFiles`: when `false`, the whole request fails if any file is invalid;
    /// Webflow's default is `true` (invalid files are skipped).
    pub fn skip_invalid_files(mut self, skip: bool) -> Self {
        self.request.skip_invalid_files = Some(skip);
        self
    }
}

impl<'a> IntoFuture for CreateLiveItem<'a> {
    type Output = Result<CollectionItem, Error>;
    type IntoFuture = BoxFuture<'a, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            match self.request.send().await?.value {
                CreatedLiveItems::CollectionItem(item) => Ok(item),
                CreatedLiveItems::BulkCollectionItems(mut list) if list.items.len() == 1 => {
                    Ok(list.items.remove(0))
                }
                CreatedLiveItems::BulkCollectionItems(list) => Err(Error::UndecodableResponse(
                    Box::new(UndecodableResponse::new(
                        None,
                        b"",
                        format!(
                            "one item was sent but the answer holds {}",
                            list.items.len()
                        ),
                        None,
                    )),
                )),
            }
        })
    }
}

impl<'a> IntoFuture for CreateLiveItems<'a> {
    type Output = Result<Vec<CollectionItem>, Error>;
    type IntoFuture = BoxFuture<'a, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { Ok(self.request.send().await?.value.into_items()) })
    }
}

/// One create request, shared by the single and bulk forms (and the bulk importer).
#[derive(Debug)]
pub(crate) struct CreateRequest<'a> {
    client: &'a Client,
    collection_id: String,
    body: CreateLiveItemsBody,
    pub(crate) skip_invalid_files: Option<bool>,
}

/// A successful create and what the call saw on the way.
#[derive(Debug)]
pub(crate) struct Created {
    pub(crate) value: CreatedLiveItems,
    pub(crate) record: CallRecord,
}

impl<'a> CreateRequest<'a> {
    pub(crate) fn new(
        client: &'a Client,
        collection_id: String,
        body: CreateLiveItemsBody,
    ) -> Self {
        CreateRequest {
            client,
            collection_id,
            body,
            skip_invalid_files: None,
        }
    }

    /// Checks the input, sends the request through the generated client (and so through the
    /// retry, pacing and tracing hooks), and maps the outcome.
    pub(crate) async fn send(self) -> Result<Created, Error> {
        self.send_recorded().await.map_err(|(error, _)| error)
    }

    /// Like `send`, but a failure also returns what the call saw (attempts, 429s).
    pub(crate) async fn send_recorded(self) -> Result<Created, (Error, CallRecord)> {
        if let Err(error) =
            validate_collection_id(&self.collection_id).and_then(|()| validate_body(&self.body))
        {
            return Err((error, CallRecord::default()));
        }
        let mut builder = self
            .client
            .create_item_live()
            .collection_id(self.collection_id)
            .body(self.body);
        if let Some(skip) = self.skip_invalid_files {
            builder = builder.skip_invalid_files(skip);
        }
        // Boxed so that the (large) request future is not moved by value into the scope.
        let (result, record) = call::recorded(Box::pin(builder.send())).await;
        match result {
            Ok(response) => Ok(Created {
                value: response.into_inner(),
                record,
            }),
            Err(error) => match map_generated_error(error, &record).await {
                Ok(value) => Ok(Created { value, record }),
                Err(error) => Err((error, record)),
            },
        }
    }
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

fn validate_body(body: &CreateLiveItemsBody) -> Result<(), Error> {
    match body {
        CreateLiveItemsBody::NewItem(item) => validate_item(item),
        CreateLiveItemsBody::BulkNewItems(list) => {
            let n = list.items.len();
            if n == 0 || n > MAX_ITEMS_PER_REQUEST {
                return Err(Error::InvalidInput(format!(
                    "a bulk create takes 1 to {MAX_ITEMS_PER_REQUEST} items, got {n}; to create any \
                     number of items use Client::bulk_create_live, which splits them into requests of \
                     at most {MAX_ITEMS_PER_REQUEST}"
                )));
            }
            for (position, item) in list.items.iter().enumerate() {
                validate_item(item).map_err(|e| match e {
                    Error::InvalidInput(message) => {
                        Error::InvalidInput(format!("item {position}: {message}"))
                    }
                    other => other,
                })?;
            }
            Ok(())
        }
    }
}

/// Webflow requires a name and a slug on every item.
pub(crate) fn validate_item(item: &NewItem) -> Result<(), Error> {
    for (field, value) in [
        ("name", &item.field_data.name),
        ("slug", &item.field_data.slug),
    ] {
        if value.trim().is_empty() {
            return Err(Error::InvalidInput(format!(
                "the item's {field} is empty (slug {:?}); every item needs a non-empty fieldData.name and \
                 fieldData.slug",
                item.field_data.slug
            )));
        }
    }
    Ok(())
}

/// Maps the generated client's error to ours. An undeclared 2xx with a decodable body is
/// a success (`Ok`).
pub(crate) async fn map_generated_error(
    error: progenitor_client::Error<WebflowError>,
    record: &CallRecord,
) -> Result<CreatedLiveItems, Error> {
    use progenitor_client::Error as G;
    Err(match error {
        G::InvalidRequest(message) => Error::InvalidInput(message),
        G::CommunicationError(e) | G::ResponseBodyError(e) | G::InvalidUpgrade(e) => {
            from_reqwest(e, record)
        }
        G::ErrorResponse(response) => {
            let status = response.status();
            let headers = response.headers().clone();
            api_error(status, response.into_inner(), &headers, record)
        }
        G::InvalidResponsePayload(body, e) => {
            undecodable(record.status, &body, e, record.rate_limit)
        }
        G::UnexpectedResponse(response) => {
            let status = response.status();
            let headers = response.headers().clone();
            let body = match response.bytes().await {
                Ok(body) => body,
                Err(e) => return Err(from_reqwest(e, record)),
            };
            return decode_unexpected(status, &headers, body, record);
        }
        G::Custom(message) => Error::InvalidInput(message),
    })
}

/// A status the spec does not declare: a 2xx is decoded as a success, anything else as an
/// error body if it is one.
fn decode_unexpected(
    status: StatusCode,
    headers: &HeaderMap,
    body: Bytes,
    record: &CallRecord,
) -> Result<CreatedLiveItems, Error> {
    if status.is_success() {
        return serde_json::from_slice(&body)
            .map_err(|e| undecodable(Some(status), &body, e, RateLimit::from_headers(headers)));
    }
    match serde_json::from_slice::<WebflowError>(&body) {
        Ok(parsed) if parsed.code.is_some() || parsed.message.is_some() => {
            Err(api_error(status, parsed, headers, record))
        }
        Ok(_) => Err(undecodable(
            Some(status),
            &body,
            "not a Webflow error body",
            RateLimit::from_headers(headers),
        )),
        Err(e) => Err(undecodable(
            Some(status),
            &body,
            e,
            RateLimit::from_headers(headers),
        )),
    }
}

fn api_error(
    status: StatusCode,
    body: WebflowError,
    headers: &HeaderMap,
    record: &CallRecord,
) -> Error {
    let retry_after = parse_retry_after(headers, record.now());
    let error = Box::new(ApiError::new(status, body, headers, retry_after));
    if status == StatusCode::TOO_MANY_REQUESTS {
        Error::RateLimited(error)
    } else {
        Error::Api(error)
    }
}

fn undecodable(
    status: Option<StatusCode>,
    body: &[u8],
    reason: impl std::fmt::Display,
    rate_limit: Option<RateLimit>,
) -> Error {
    Error::UndecodableResponse(Box::new(UndecodableResponse::new(
        status, body, reason, rate_limit,
    )))
}

fn from_reqwest(error: reqwest::Error, record: &CallRecord) -> Error {
    if error.is_timeout() {
        let (kind, limit) = record
            .timeout
            .unwrap_or((TimeoutKind::Attempt, std::time::Duration::ZERO));
        let kind = if error.is_connect() {
            TimeoutKind::Connect
        } else {
            kind
        };
        return Error::Timeout(TimeoutError {
            kind,
            limit,
            request_sent: !error.is_connect(),
        });
    }
    Error::Transport(TransportError {
        request_sent: !error.is_connect() && !error.is_builder(),
        source: error,
    })
}
