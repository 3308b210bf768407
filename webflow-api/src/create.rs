//! Creating live items: `Client::create_live_item` and `Client::create_live_items`
//! (`create-item-live`, not idempotent), with input checks before sending.
//!
//! A create is not idempotent: when its outcome is unknown ([`Error::outcome_unknown`]),
//! the item may exist. Look it up ([`Client::find_item_by_slug`], in the item's locale)
//! and check that what is found is yours — an item with the slug may be someone else's —
//! before sending it again; or create it with a bulk import of that one item
//! (`client.bulk_create_live(..).run([item])`), which settles a lost answer itself with the
//! identity rule of [`Settle`](crate::Settle).

use crate::error::UndecodableResponse;
use crate::generated::builder::CreateItemLive;
use crate::item::SentKey;
use crate::operation::{Operation, call_future, check_batch_size, validate_collection_id};
use crate::transport::Transport;
use crate::types::{BulkNewItems, CollectionItem, CreateLiveItemsBody, CreatedLiveItems, NewItem};
use crate::{Client, Error};
use bytes::Bytes;
use std::sync::Mutex;

pub use crate::operation::MAX_ITEMS_PER_REQUEST;

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
            client: self,
            request: CreateRequest::new(collection_id.into(), CreateLiveItemsBody::NewItem(item)),
        }
    }

    /// Creates 1 to 100 items in one request (Webflow's bulk form, `{"items": [...]}`). The
    /// created items come back in the order sent (matched by slug); an answer that does not
    /// list every item sent is an error whose outcome is unknown ([`Error::outcome_unknown`]).
    /// For more than 100 items use [`Client::bulk_create_live`], which also accounts for every
    /// item and settles lost answers.
    pub fn create_live_items(
        &self,
        collection_id: impl Into<String>,
        items: impl IntoIterator<Item = NewItem>,
    ) -> CreateLiveItems<'_> {
        let items = items.into_iter().collect();
        CreateLiveItems {
            client: self,
            request: CreateRequest::new(
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
    client: &'a Client,
    request: CreateRequest,
}

/// A pending [`Client::create_live_items`]: `.await` it.
#[must_use = "a create does nothing until awaited"]
#[derive(Debug)]
pub struct CreateLiveItems<'a> {
    client: &'a Client,
    pub(crate) request: CreateRequest,
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

call_future!(CreateLiveItem => CollectionItem);
call_future!(CreateLiveItems => Vec<CollectionItem>);

/// One create request, single or bulk.
#[derive(Debug)]
pub(crate) struct CreateRequest {
    collection_id: String,
    body: Mutex<Body>,
    /// Each item's locale and slug, in the order sent: what pairing the answer needs.
    sent: Vec<SentKey>,
    pub(crate) skip_invalid_files: Option<bool>,
}

/// A create's body. The first attempt takes it as it is (no copy); a retry — only after an
/// answer that proves nothing was processed — decodes again the bytes that attempt sent.
#[derive(Debug)]
enum Body {
    Typed(CreateLiveItemsBody),
    Sent(Bytes),
    Taken,
}

/// The body handed to the generated builder (`None`: there was none to hand, which the
/// builder reports as a conversion failure).
struct Outgoing(Option<CreateLiveItemsBody>);

impl TryFrom<Outgoing> for CreateLiveItemsBody {
    type Error = ();

    fn try_from(outgoing: Outgoing) -> Result<Self, ()> {
        outgoing.0.ok_or(())
    }
}

impl CreateRequest {
    pub(crate) fn new(collection_id: String, body: CreateLiveItemsBody) -> Self {
        let sent = body_items(&body)
            .iter()
            .map(|item| SentKey {
                locale: item.locale_id().map(str::to_owned),
                slug: item.slug().to_owned(),
            })
            .collect();
        CreateRequest {
            collection_id,
            body: Mutex::new(Body::Typed(body)),
            sent,
            skip_invalid_files: None,
        }
    }

    fn body(&self) -> std::sync::MutexGuard<'_, Body> {
        self.body.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn check(&self) -> Result<(), Error> {
        validate_collection_id(&self.collection_id)?;
        let body = self.body();
        let Body::Typed(typed) = &*body else {
            return Ok(());
        };
        let items = body_items(typed);
        if matches!(typed, CreateLiveItemsBody::BulkNewItems(_)) {
            check_batch_size(items.len(), "a bulk create", "items")?;
        }
        for (position, item) in items.iter().enumerate() {
            validate_item(item).map_err(|e| match e {
                Error::InvalidInput(message) if items.len() > 1 => {
                    Error::InvalidInput(format!("item {position}: {message}"))
                }
                other => other,
            })?;
        }
        Ok(())
    }

    fn builder<'c>(&self, transport: &'c Transport) -> CreateItemLive<'c> {
        let body = match std::mem::replace(&mut *self.body(), Body::Taken) {
            Body::Typed(body) => Some(body),
            Body::Sent(bytes) => serde_json::from_slice(&bytes).ok(),
            Body::Taken => None,
        };
        let builder = transport
            .create_item_live()
            .collection_id(self.collection_id.as_str())
            .body(Outgoing(body));
        match self.skip_invalid_files {
            Some(skip) => builder.skip_invalid_files(skip),
            None => builder,
        }
    }

    /// Keeps the bytes an attempt sent, for the next attempt.
    fn sent(&self, body: Bytes) {
        *self.body() = Body::Sent(body);
    }

    /// The created items in the order sent, matched by slug: an answer that does not
    /// account for every item sent does not say which were created.
    fn in_order_sent(&self, answer: CreatedLiveItems) -> Result<Vec<CollectionItem>, Error> {
        let sent = &self.sent;
        let created = answer.into_items();
        let listed = created.len();
        let mut matched = crate::item::match_created(sent, created);
        if matched.iter().all(Option::is_some) && listed == sent.len() {
            return Ok(matched.iter_mut().filter_map(Option::take).collect());
        }
        Err(answer_mismatch(sent.len(), listed))
    }
}

impl Operation for CreateLiveItem<'_> {
    type Response = CreatedLiveItems;
    type Builder<'c> = CreateItemLive<'c>;
    type Output = CollectionItem;

    fn check(&self) -> Result<(), Error> {
        self.request.check()
    }

    fn builder<'c>(&self, transport: &'c Transport) -> CreateItemLive<'c> {
        self.request.builder(transport)
    }

    const KEEPS_SENT_BODY: bool = true;

    fn sent(&self, body: Bytes) {
        self.request.sent(body);
    }

    fn output(&self, answer: CreatedLiveItems) -> Result<CollectionItem, Error> {
        let mut items = self.request.in_order_sent(answer)?;
        Ok(items.remove(0))
    }
}

impl Operation for CreateLiveItems<'_> {
    type Response = CreatedLiveItems;
    type Builder<'c> = CreateItemLive<'c>;
    type Output = Vec<CollectionItem>;

    fn check(&self) -> Result<(), Error> {
        self.request.check()
    }

    fn builder<'c>(&self, transport: &'c Transport) -> CreateItemLive<'c> {
        self.request.builder(transport)
    }

    const KEEPS_SENT_BODY: bool = true;

    fn sent(&self, body: Bytes) {
        self.request.sent(body);
    }

    fn output(&self, answer: CreatedLiveItems) -> Result<Vec<CollectionItem>, Error> {
        self.request.in_order_sent(answer)
    }
}

/// A bulk import's create request: its answer as Webflow sent it (the import pairs the
/// created items with its lines itself).
#[derive(Debug)]
pub(crate) struct CreateChunk(pub(crate) CreateRequest);

impl CreateChunk {
    pub(crate) fn new(
        collection_id: String,
        items: Vec<NewItem>,
        skip_invalid_files: Option<bool>,
    ) -> Self {
        let mut request = CreateRequest::new(
            collection_id,
            CreateLiveItemsBody::BulkNewItems(BulkNewItems { items }),
        );
        request.skip_invalid_files = skip_invalid_files;
        CreateChunk(request)
    }
}

impl Operation for CreateChunk {
    type Response = CreatedLiveItems;
    type Builder<'c> = CreateItemLive<'c>;
    type Output = Vec<CollectionItem>;

    fn check(&self) -> Result<(), Error> {
        self.0.check()
    }

    fn builder<'c>(&self, transport: &'c Transport) -> CreateItemLive<'c> {
        self.0.builder(transport)
    }

    const KEEPS_SENT_BODY: bool = true;

    fn sent(&self, body: Bytes) {
        self.0.sent(body);
    }

    fn output(&self, answer: CreatedLiveItems) -> Result<Vec<CollectionItem>, Error> {
        Ok(answer.into_items())
    }
}

/// The error for a create whose answer does not account for every item sent: it does not
/// say which were created, so the outcome is unknown.
pub(crate) fn answer_mismatch(sent: usize, listed: usize) -> Error {
    let what = if sent == 1 {
        "one item was sent".to_owned()
    } else {
        format!("{sent} items were sent")
    };
    Error::UndecodableResponse(Box::new(UndecodableResponse::new(
        None,
        b"",
        format!("{what} but the answer lists {listed} that do not match them one to one"),
        None,
    )))
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

/// The items of a create body, single or bulk.
fn body_items(body: &CreateLiveItemsBody) -> &[NewItem] {
    match body {
        CreateLiveItemsBody::NewItem(item) => std::slice::from_ref(item),
        CreateLiveItemsBody::BulkNewItems(list) => &list.items,
    }
}
