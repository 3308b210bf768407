//! Taking items off the site: `Client::unpublish_live_items` (`delete-items-live`: the
//! items stay in the collection as drafts) and `Client::delete_items` (`delete-items`), up
//! to 100 items by id. Both are idempotent.

use crate::generated::builder::{DeleteItems as DeleteBuilder, DeleteItemsLive};
use crate::operation::{Operation, call_future};
use crate::operation::{check_batch_size, validate_collection_id};
use crate::transport::Transport;
use crate::types::{ItemById, ItemsById};
use crate::{Client, Error};

impl Client {
    /// Unpublishes 1 to 100 items (by id) from the live site; they stay in the collection,
    /// as drafts.
    pub fn unpublish_live_items<I: Into<String>>(
        &self,
        collection_id: impl Into<String>,
        ids: impl IntoIterator<Item = I>,
    ) -> UnpublishLiveItems<'_> {
        UnpublishLiveItems {
            client: self,
            request: ById::new(collection_id.into(), ids),
        }
    }

    /// Deletes 1 to 100 items (by id) from the collection.
    pub fn delete_items<I: Into<String>>(
        &self,
        collection_id: impl Into<String>,
        ids: impl IntoIterator<Item = I>,
    ) -> DeleteItems<'_> {
        DeleteItems {
            client: self,
            request: ById::new(collection_id.into(), ids),
        }
    }
}

/// A pending [`Client::unpublish_live_items`]: `.await` it.
#[must_use = "an unpublish does nothing until awaited"]
#[derive(Debug)]
pub struct UnpublishLiveItems<'a> {
    client: &'a Client,
    request: ById,
}

/// A pending [`Client::delete_items`]: `.await` it.
#[must_use = "a delete does nothing until awaited"]
#[derive(Debug)]
pub struct DeleteItems<'a> {
    client: &'a Client,
    request: ById,
}

impl UnpublishLiveItems<'_> {
    /// In these locales (`cmsLocaleIds`) instead of the primary one.
    pub fn locales<L: Into<String>>(mut self, cms_locale_ids: impl IntoIterator<Item = L>) -> Self {
        self.request.locales(cms_locale_ids);
        self
    }
}

impl DeleteItems<'_> {
    /// In these locales (`cmsLocaleIds`) instead of the primary one.
    pub fn locales<L: Into<String>>(mut self, cms_locale_ids: impl IntoIterator<Item = L>) -> Self {
        self.request.locales(cms_locale_ids);
        self
    }
}

call_future!(UnpublishLiveItems => ());
call_future!(DeleteItems => ());

/// The request both operations send: items by id.
#[derive(Debug)]
struct ById {
    collection_id: String,
    body: ItemsById,
}

impl ById {
    fn new<I: Into<String>>(collection_id: String, ids: impl IntoIterator<Item = I>) -> ById {
        let items = ids.into_iter().map(|id| ItemById::new(id)).collect();
        ById {
            collection_id,
            body: ItemsById { items },
        }
    }

    fn locales<L: Into<String>>(&mut self, locales: impl IntoIterator<Item = L>) {
        let locales: Vec<String> = locales.into_iter().map(Into::into).collect();
        for item in &mut self.body.items {
            item.cms_locale_ids.clone_from(&locales);
        }
    }

    fn check(&self) -> Result<(), Error> {
        validate_collection_id(&self.collection_id)?;
        check_batch_size(self.body.items.len(), "an unpublish or delete", "item ids")
    }
}

impl Operation for UnpublishLiveItems<'_> {
    type Response = ();
    type Builder<'c> = DeleteItemsLive<'c>;
    type Output = ();

    fn check(&self) -> Result<(), Error> {
        self.request.check()
    }

    fn builder<'c>(&self, transport: &'c Transport) -> DeleteItemsLive<'c> {
        let request = &self.request;
        transport
            .delete_items_live()
            .collection_id(request.collection_id.as_str())
            .body(request.body.clone())
    }

    fn output(&self, (): ()) -> Result<(), Error> {
        Ok(())
    }
}

impl Operation for DeleteItems<'_> {
    type Response = ();
    type Builder<'c> = DeleteBuilder<'c>;
    type Output = ();

    fn check(&self) -> Result<(), Error> {
        self.request.check()
    }

    fn builder<'c>(&self, transport: &'c Transport) -> DeleteBuilder<'c> {
        let request = &self.request;
        transport
            .delete_items()
            .collection_id(request.collection_id.as_str())
            .body(request.body.clone())
    }

    fn output(&self, (): ()) -> Result<(), Error> {
        Ok(())
    }
}

impl ItemById {
    /// The item with this id (in the primary locale).
    pub fn new(id: impl Into<String>) -> Self {
        ItemById {
            id: id.into(),
            cms_locale_ids: Vec::new(),
        }
    }
}
