//! Creating live items — `Client::create_live_item` and `Client::create_live_items` — with
//! input checks before sending; the request goes through the one request path
//! (`request.rs`) as the non-idempotent `create-item-live`.
//!
//! A create is not idempotent: when its outcome is unknown ([`Error::outcome_unknown`]),
//! the item may exist. Look it up ([`Client::find_item_by_slug`]) before sending it again.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use crate::error::UndecodableResponse;
use crate::request::{CREATE_ITEM_LIVE, CallOptions, CallOutcome};
use crate::types::{BulkNewItems, CollectionItem, CreateLiveItemsBody, CreatedLiveItems, NewItem};
use crate::{Client, Error};

/// The most items one request may carry (documented by Webflow for its bulk CMS endpoints).
pub const MAX_ITEMS_PER_REQUEST: usize = 100;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl Client {
    /// Creates one item, published live at once. Await it directly, or set options first.
    /// Sent once unless the answer proves nothing was created (a 429, a connection that
    /// never opened); when its outcome is unknown the error says so
    /// ([`Error::outcome_unknown`]): the item may exist.
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
    /// created items come back in the order sent; an answer that does not list every item
    /// sent is an error whose outcome is unknown ([`Error::outcome_unknown`]). For more than
    /// 100 items use [`Client::bulk_create_live`], which also accounts for every item and
    /// settles lost answers.
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
            let mut items = self.request.send().await?;
            Ok(items.remove(0))
        })
    }
}

impl<'a> IntoFuture for CreateLiveItems<'a> {
    type Output = Result<Vec<CollectionItem>, Error>;
    type IntoFuture = BoxFuture<'a, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.request.send().await })
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

    /// Checks the input, then sends it with the client's retry policy. The answer must list
    /// exactly the items sent: otherwise it does not say which were created, and the
    /// outcome is unknown.
    pub(crate) async fn send(self) -> Result<Vec<CollectionItem>, Error> {
        let sent = match &self.body {
            CreateLiveItemsBody::NewItem(_) => 1,
            CreateLiveItemsBody::BulkNewItems(list) => list.items.len(),
        };
        let items = self
            .send_with(CallOptions::default())
            .await
            .result?
            .into_items();
        if items.len() == sent {
            return Ok(items);
        }
        Err(answer_count_mismatch(sent, items.len()))
    }

    /// Checks the input, then sends it through the one request path with `options`.
    pub(crate) async fn send_with(self, options: CallOptions<'_>) -> CallOutcome<CreatedLiveItems> {
        if let Err(error) =
            validate_collection_id(&self.collection_id).and_then(|()| validate_body(&self.body))
        {
            return CallOutcome::refused(error);
        }
        let client = self.client;
        let (collection_id, skip) = (self.collection_id, self.skip_invalid_files);
        let builder = |body: Result<CreateLiveItemsBody, serde_json::Error>| {
            let mut builder = client
                .create_item_live()
                .collection_id(collection_id.clone());
            // A body that cannot be rebuilt leaves the builder without one: it refuses to send.
            if let Ok(body) = body {
                builder = builder.body(body);
            }
            if let Some(skip) = skip {
                builder = builder.skip_invalid_files(skip);
            }
            builder
        };
        // The first attempt sends the body itself; a retry rebuilds it from the bytes sent.
        let mut first = Some(builder(Ok(self.body)));
        let send = |sent_before: Option<&[u8]>| {
            first
                .take()
                .unwrap_or_else(|| builder(serde_json::from_slice(sent_before.unwrap_or_default())))
                .send()
        };
        client.call(CREATE_ITEM_LIVE, options, send).await
    }
}

/// The error for a create answered with another number of items than were sent: the
/// answer does not say which item is which, so the outcome is unknown.
pub(crate) fn answer_count_mismatch(sent: usize, listed: usize) -> Error {
    let what = if sent == 1 {
        "one item was sent".to_owned()
    } else {
        format!("{sent} items were sent")
    };
    Error::UndecodableResponse(Box::new(UndecodableResponse::new(
        None,
        b"",
        format!("{what} but the answer holds {listed}"),
        None,
    )))
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
