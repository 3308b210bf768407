//! Updating live items: `Client::update_live_items` (`update-items-live`, up to 100 items by
//! id, published at once). An update is idempotent, so the request path sends it again
//! after a 5xx or a timeout.

use crate::generated::builder::UpdateItemsLive;
use crate::operation::{Operation, call_future};
use crate::operation::{check_batch_size, validate_collection_id};
use crate::transport::Transport;
use serde_json::Value;

use crate::types::{
    BulkCollectionItems, CollectionItem, UpdateItem, UpdateItemFieldData, UpdateItemsBody,
};
use crate::{Client, Error};

impl Client {
    /// Updates 1 to 100 published items by id; fields left out of an item keep their value,
    /// `null` clears one. Returns the updated items in the order sent. An item that is not
    /// published is refused (409): publish it, or create it live.
    ///
    /// ```no_run
    /// # async fn run(client: webflow_api::Client) -> Result<(), webflow_api::Error> {
    /// use webflow_api::types::UpdateItem;
    /// let updated = client
    ///     .update_live_items(
    ///         "580e63fc8c9a982ac9b8b745",
    ///         [UpdateItem::new("62b720ef280c7a7a3be8cabe").field("price", 14)],
    ///     )
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn update_live_items(
        &self,
        collection_id: impl Into<String>,
        items: impl IntoIterator<Item = UpdateItem>,
    ) -> UpdateLiveItems<'_> {
        UpdateLiveItems {
            client: self,
            collection_id: collection_id.into(),
            body: UpdateItemsBody {
                items: items.into_iter().collect(),
            },
            skip_invalid_files: None,
        }
    }
}

/// A pending [`Client::update_live_items`]: `.await` it.
#[must_use = "an update does nothing until awaited"]
#[derive(Debug)]
pub struct UpdateLiveItems<'a> {
    client: &'a Client,
    collection_id: String,
    body: UpdateItemsBody,
    skip_invalid_files: Option<bool>,
}

impl UpdateLiveItems<'_> {
    /// `skipInvalidFiles`: when `false`, the whole request fails if any file is invalid;
    /// Webflow's default is `true` (invalid files are skipped).
    pub fn skip_invalid_files(mut self, skip: bool) -> Self {
        self.skip_invalid_files = Some(skip);
        self
    }
}

call_future!(UpdateLiveItems => Vec<CollectionItem>);

impl Operation for UpdateLiveItems<'_> {
    type Response = BulkCollectionItems;
    type Builder<'c> = UpdateItemsLive<'c>;
    type Output = Vec<CollectionItem>;

    fn check(&self) -> Result<(), Error> {
        validate_collection_id(&self.collection_id)?;
        check_batch_size(self.body.items.len(), "an update", "items")?;
        match self
            .body
            .items
            .iter()
            .position(|item| item.id.trim().is_empty())
        {
            Some(position) => Err(Error::InvalidInput(format!(
                "item {position} of the update has an empty id"
            ))),
            None => Ok(()),
        }
    }

    fn builder<'c>(&self, transport: &'c Transport) -> UpdateItemsLive<'c> {
        let builder = transport
            .update_items_live()
            .collection_id(self.collection_id.as_str())
            .body(self.body.clone());
        match self.skip_invalid_files {
            Some(skip) => builder.skip_invalid_files(skip),
            None => builder,
        }
    }

    /// The updated items in the order sent (by id); an answer that does not list every item
    /// sent is an error: it does not say which were updated (sending it again is safe).
    fn output(&self, answer: BulkCollectionItems) -> Result<Vec<CollectionItem>, Error> {
        let sent = &self.body.items;
        let mut answered = answer.items;
        let mut in_order = Vec::with_capacity(sent.len());
        for item in sent {
            match answered.iter().position(|a| a.id == item.id) {
                Some(at) => in_order.push(answered.swap_remove(at)),
                None => return Err(crate::create::answer_mismatch(sent.len(), in_order.len())),
            }
        }
        Ok(in_order)
    }
}

impl UpdateItem {
    /// An update of the item with this id that changes nothing yet: add the fields to change
    /// with [`field`](Self::field).
    pub fn new(id: impl Into<String>) -> Self {
        UpdateItem {
            id: id.into(),
            cms_locale_id: None,
            field_data: None,
            is_archived: None,
            is_draft: None,
        }
    }

    /// Sets a field (by its slug; `name` and `slug` included) to `value`; `null` clears it.
    pub fn field(mut self, slug: impl Into<String>, value: impl Into<Value>) -> Self {
        let data = self.field_data.get_or_insert_with(|| UpdateItemFieldData {
            name: None,
            slug: None,
            extra: serde_json::Map::new(),
        });
        let slug = slug.into();
        let value = value.into();
        match (slug.as_str(), value) {
            ("name", Value::String(name)) => data.name = Some(name),
            ("slug", Value::String(new)) => data.slug = Some(new),
            (_, value) => {
                data.extra.insert(slug, value);
            }
        }
        self
    }

    /// Updates the item in this locale (`cmsLocaleId`).
    pub fn locale(mut self, cms_locale_id: impl Into<String>) -> Self {
        self.cms_locale_id = Some(cms_locale_id.into());
        self
    }

    /// Sets `isDraft`.
    pub fn draft(mut self, is_draft: bool) -> Self {
        self.is_draft = Some(is_draft);
        self
    }

    /// Sets `isArchived`.
    pub fn archived(mut self, is_archived: bool) -> Self {
        self.is_archived = Some(is_archived);
        self
    }
}
