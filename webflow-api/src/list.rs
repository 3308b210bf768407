//! Finding items: `Client::find_item_by_slug` and paged listings of a collection
//! (`Client::list_items`), through the one request path as the idempotent
//! `list-collection-items` — so they are paced with every other request of the client, and
//! a transient failure (a 5xx, a timeout) is retried.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use futures_util::stream::{self, Stream, StreamExt};

use crate::create::validate_collection_id;
use crate::request::{CallOptions, CallOutcome, LIST_COLLECTION_ITEMS};
use crate::types::{CollectionItem, CollectionItemList};
use crate::{Client, Error};

/// The most items one page holds (Webflow's maximum `limit`).
pub const MAX_PAGE_SIZE: u32 = 100;

pub use crate::types::{
    ListCollectionItemsSortBy as SortBy, ListCollectionItemsSortOrder as SortOrder,
};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl Client {
    /// Finds the item of a collection whose slug is exactly `slug` (in the locale set with
    /// [`FindItemBySlug::locale`], else Webflow's default): `Ok(None)` when there is none.
    /// One request (retried on a 429, 5xx or timeout: a lookup changes nothing).
    ///
    /// ```no_run
    /// # async fn run(client: webflow_api::Client) -> Result<(), webflow_api::Error> {
    /// match client.find_item_by_slug("580e63fc8c9a982ac9b8b745", "blue-mug").await? {
    ///     Some(item) => println!("exists: {}", item.id),
    ///     None => println!("not there"),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn find_item_by_slug(
        &self,
        collection_id: impl Into<String>,
        slug: impl Into<String>,
    ) -> FindItemBySlug<'_> {
        FindItemBySlug {
            client: self,
            collection_id: collection_id.into(),
            slug: slug.into(),
            locale: None,
        }
    }

    /// Lists a collection's items (staged and live, drafts included), filtered and sorted as
    /// set on the returned [`ListItems`], one page of up to 100 at a time.
    ///
    /// ```no_run
    /// # async fn run(client: webflow_api::Client) -> Result<(), webflow_api::Error> {
    /// use futures_util::TryStreamExt;
    /// use webflow_api::list::{SortBy, SortOrder};
    /// let newest: Vec<_> = client
    ///     .list_items("580e63fc8c9a982ac9b8b745")
    ///     .sort(SortBy::CreatedOn, SortOrder::Desc)
    ///     .items()
    ///     .try_collect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn list_items(&self, collection_id: impl Into<String>) -> ListItems<'_> {
        ListItems {
            client: self,
            collection_id: collection_id.into(),
            query: ListQuery::default(),
            first_offset: 0,
        }
    }
}

/// A pending [`Client::find_item_by_slug`]: `.await` it.
#[must_use = "a lookup does nothing until awaited"]
#[derive(Debug)]
pub struct FindItemBySlug<'a> {
    client: &'a Client,
    collection_id: String,
    slug: String,
    locale: Option<String>,
}

impl FindItemBySlug<'_> {
    /// Looks in this locale (`cmsLocaleId`): a slug is unique per locale.
    pub fn locale(mut self, cms_locale_id: impl Into<String>) -> Self {
        self.locale = Some(cms_locale_id.into());
        self
    }
}

impl<'a> IntoFuture for FindItemBySlug<'a> {
    type Output = Result<Option<CollectionItem>, Error>;
    type IntoFuture = BoxFuture<'a, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let query = ListQuery {
                slug: Some(self.slug.clone()),
                locale: self.locale,
                ..ListQuery::default()
            };
            let page = self
                .client
                .list_page(&self.collection_id, &query, 0, CallOptions::default())
                .await
                .result?;
            Ok(page
                .items
                .into_iter()
                .find(|item| item.field_data.slug == self.slug))
        })
    }
}

/// The filters, order and page size of a listing.
#[derive(Clone, Debug, Default)]
pub(crate) struct ListQuery {
    pub(crate) slug: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) locale: Option<String>,
    pub(crate) sort: Option<(SortBy, SortOrder)>,
    pub(crate) page_size: Option<u32>,
}

/// A listing of a collection's items: set filters and order, then read it page by page
/// ([`pages`](Self::pages)), item by item ([`items`](Self::items)), or one page
/// ([`page`](Self::page)). Every page is one request through the client's pacing.
///
/// Pages are read by `offset`, as Webflow pages them: items created or deleted while the
/// listing runs can shift an item into the next page (seen twice) or the previous one
/// (missed). Sort by `createdOn` to keep older items in place while new ones arrive.
#[must_use = "a listing does nothing until read"]
#[derive(Clone, Debug)]
pub struct ListItems<'a> {
    client: &'a Client,
    collection_id: String,
    query: ListQuery,
    first_offset: u64,
}

impl<'a> ListItems<'a> {
    /// Only the item with exactly this slug.
    pub fn slug(mut self, slug: impl Into<String>) -> Self {
        self.query.slug = Some(slug.into());
        self
    }

    /// Only items with exactly this name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.query.name = Some(name.into());
        self
    }

    /// Only items of these locales (`cmsLocaleId`, comma-separated for several).
    pub fn locale(mut self, cms_locale_id: impl Into<String>) -> Self {
        self.query.locale = Some(cms_locale_id.into());
        self
    }

    /// The order (Webflow's default otherwise).
    pub fn sort(mut self, by: SortBy, order: SortOrder) -> Self {
        self.query.sort = Some((by, order));
        self
    }

    /// Items per page, 1 to 100 (default 100).
    pub fn page_size(mut self, size: u32) -> Self {
        self.query.page_size = Some(size);
        self
    }

    /// Starts at this offset instead of 0.
    pub fn offset(mut self, offset: u64) -> Self {
        self.first_offset = offset;
        self
    }

    /// The page at `offset`.
    pub async fn page(self, offset: u64) -> Result<CollectionItemList, Error> {
        Ok(self
            .client
            .list_page(
                &self.collection_id,
                &self.query,
                offset,
                CallOptions::default(),
            )
            .await
            .result?)
    }

    /// Every page, in order, until the listing's `total` is reached or a page comes back
    /// empty. Ends after the first error.
    pub fn pages(self) -> impl Stream<Item = Result<CollectionItemList, Error>> + Send + 'a {
        let start = Some(self.first_offset);
        stream::unfold((self, start), |(listing, offset)| async move {
            let offset = offset?;
            let outcome = listing
                .client
                .list_page(
                    &listing.collection_id,
                    &listing.query,
                    offset,
                    CallOptions::default(),
                )
                .await;
            match outcome.result {
                Ok(page) => {
                    let next = next_offset(&page, offset);
                    Some((Ok(page), (listing, next)))
                }
                Err(error) => Some((Err(error.into()), (listing, None))),
            }
        })
    }

    /// Every item of every page, in order. Ends after the first error.
    pub fn items(self) -> impl Stream<Item = Result<CollectionItem, Error>> + Send + 'a {
        self.pages().flat_map(|page| {
            let items: Vec<Result<CollectionItem, Error>> = match page {
                Ok(page) => page.items.into_iter().map(Ok).collect(),
                Err(error) => vec![Err(error)],
            };
            stream::iter(items)
        })
    }
}

/// The offset of the page after `page` (read at `offset`), if there is one: none after an
/// empty page or once `total` is reached.
pub(crate) fn next_offset(page: &CollectionItemList, offset: u64) -> Option<u64> {
    let read = page.items.len() as u64;
    if read == 0 {
        return None;
    }
    let next = offset.checked_add(read)?;
    match page.pagination.total {
        Some(total) if next >= u64::try_from(total).unwrap_or(0) => None,
        _ => Some(next),
    }
}

impl Client {
    /// One page of a listing through the one request path.
    pub(crate) async fn list_page(
        &self,
        collection_id: &str,
        query: &ListQuery,
        offset: u64,
        options: CallOptions<'_>,
    ) -> CallOutcome<CollectionItemList> {
        if let Err(error) = validate_collection_id(collection_id) {
            return CallOutcome::refused(error);
        }
        let page_size = query.page_size.unwrap_or(MAX_PAGE_SIZE);
        if page_size == 0 || page_size > MAX_PAGE_SIZE {
            return CallOutcome::refused(Error::InvalidInput(format!(
                "a page holds 1 to {MAX_PAGE_SIZE} items, got {page_size}"
            )));
        }
        let Ok(offset) = i64::try_from(offset) else {
            return CallOutcome::refused(Error::InvalidInput(format!(
                "the offset {offset} is too large"
            )));
        };
        let mut builder = self
            .list_collection_items()
            .collection_id(collection_id)
            .offset(offset)
            .limit(i64::from(page_size));
        if let Some(slug) = &query.slug {
            builder = builder.slug(slug.clone());
        }
        if let Some(name) = &query.name {
            builder = builder.name(name.clone());
        }
        if let Some(locale) = &query.locale {
            builder = builder.cms_locale_id(locale.clone());
        }
        if let Some((by, order)) = query.sort {
            builder = builder.sort_by(by).sort_order(order);
        }
        self.call(LIST_COLLECTION_ITEMS, options, |_| builder.clone().send())
            .await
    }
}
