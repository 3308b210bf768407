//! Finding items: `Client::find_item_by_slug` and paged listings of a collection
//! (`Client::list_items`), as the idempotent `list-collection-items` — paced with every other
//! request of the client, and retried after a transient failure — and the one paging loop
//! (`Pager`) every listing of the crate uses.

use std::collections::HashSet;

use futures_util::stream::{self, Stream, StreamExt};

use crate::generated::builder::ListCollectionItems;
use crate::operation::validate_collection_id;
use crate::operation::{Operation, call_future};
use crate::request::{CallOptions, CallOutcome};
use crate::transport::Transport;
use crate::types::{CollectionItem, CollectionItemList};
use crate::{Client, Error};

/// The most items one page holds (Webflow's maximum `limit`).
pub const MAX_PAGE_SIZE: u32 = 100;

pub use crate::generated::types::{
    ListCollectionItemsSortBy as SortBy, ListCollectionItemsSortOrder as SortOrder,
};

impl Client {
    /// Finds the item of a collection whose slug is exactly `slug`, in the locale set with
    /// [`FindItemBySlug::locale`]: `Ok(None)` when there is none. Without a locale, an item
    /// of any locale counts, and a slug held by items of several locales is an error that
    /// names them (a slug is unique per locale only). One request (retried on a 429, 5xx or
    /// timeout: a lookup changes nothing).
    ///
    /// An item found is the collection's item with that slug, not necessarily one you made:
    /// its `cmsLocaleId`, `createdOn` and fields say whether it is. (Bulk imports settle lost
    /// creates with that check built in: see [`Settle`](crate::Settle).)
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
        let query = ListQuery {
            slug: Some(slug.into()),
            ..ListQuery::default()
        };
        FindItemBySlug {
            client: self,
            page: ListPage::new(collection_id.into(), query, 0),
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
    page: ListPage,
}

impl FindItemBySlug<'_> {
    /// Looks in this locale (`cmsLocaleId`): a slug is unique per locale.
    pub fn locale(mut self, cms_locale_id: impl Into<String>) -> Self {
        self.page.query.locale = Some(cms_locale_id.into());
        self
    }
}

call_future!(FindItemBySlug => Option<CollectionItem>);

impl Operation for FindItemBySlug<'_> {
    type Response = CollectionItemList;
    type Builder<'c> = ListCollectionItems<'c>;
    type Output = Option<CollectionItem>;

    fn check(&self) -> Result<(), Error> {
        self.page.check()
    }

    fn builder<'c>(&self, transport: &'c Transport) -> ListCollectionItems<'c> {
        self.page.builder(transport)
    }

    fn output(&self, page: CollectionItemList) -> Result<Option<CollectionItem>, Error> {
        let query = &self.page.query;
        let slug = query.slug.as_deref().unwrap_or_default();
        let mut found: Vec<CollectionItem> = page
            .items
            .into_iter()
            .filter(|item| item.slug() == slug && query.holds_locale(item))
            .collect();
        let mut locales: Vec<String> = found
            .iter()
            .map(|item| item.locale_id().unwrap_or("(none)").to_owned())
            .collect();
        locales.sort();
        locales.dedup();
        if locales.len() > 1 {
            return Err(Error::InvalidInput(format!(
                "the slug {slug:?} is held by items of {} locales ({}); a slug is unique per \
                 locale only: pass the locale to look in (FindItemBySlug::locale)",
                locales.len(),
                locales.join(", ")
            )));
        }
        Ok((!found.is_empty()).then(|| found.remove(0)))
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

impl ListQuery {
    /// Whether `item` is of the locale asked for (any, when none was asked).
    fn holds_locale(&self, item: &CollectionItem) -> bool {
        self.locale
            .as_deref()
            .is_none_or(|locale| item.locale_id() == Some(locale))
    }

    fn page_size(&self) -> u32 {
        self.page_size.unwrap_or(MAX_PAGE_SIZE)
    }
}

/// One page of a listing: the operation behind every listing.
#[derive(Clone, Debug)]
pub(crate) struct ListPage {
    collection_id: String,
    pub(crate) query: ListQuery,
    offset: u64,
}

impl ListPage {
    pub(crate) fn new(collection_id: String, query: ListQuery, offset: u64) -> ListPage {
        ListPage {
            collection_id,
            query,
            offset,
        }
    }

    fn check(&self) -> Result<(), Error> {
        validate_collection_id(&self.collection_id)?;
        let page_size = self.query.page_size();
        if page_size == 0 || page_size > MAX_PAGE_SIZE {
            return Err(Error::InvalidInput(format!(
                "a page holds 1 to {MAX_PAGE_SIZE} items, got {page_size}"
            )));
        }
        if i64::try_from(self.offset).is_err() {
            return Err(Error::InvalidInput(format!(
                "the offset {} is too large",
                self.offset
            )));
        }
        Ok(())
    }

    fn builder<'c>(&self, transport: &'c Transport) -> ListCollectionItems<'c> {
        let query = &self.query;
        let mut builder = transport
            .list_collection_items()
            .collection_id(self.collection_id.as_str())
            .offset(i64::try_from(self.offset).unwrap_or(i64::MAX))
            .limit(i64::from(query.page_size()));
        if let Some(slug) = &query.slug {
            builder = builder.slug(slug.as_str());
        }
        if let Some(name) = &query.name {
            builder = builder.name(name.as_str());
        }
        if let Some(locale) = &query.locale {
            builder = builder.cms_locale_id(locale.as_str());
        }
        if let Some((by, order)) = query.sort {
            builder = builder.sort_by(by).sort_order(order);
        }
        builder
    }
}

impl Operation for ListPage {
    type Response = CollectionItemList;
    type Builder<'c> = ListCollectionItems<'c>;
    type Output = CollectionItemList;

    fn check(&self) -> Result<(), Error> {
        ListPage::check(self)
    }

    fn builder<'c>(&self, transport: &'c Transport) -> ListCollectionItems<'c> {
        ListPage::builder(self, transport)
    }

    fn output(&self, page: CollectionItemList) -> Result<CollectionItemList, Error> {
        Ok(page)
    }
}

/// A listing of a collection's items: set filters and order, then read it page by page
/// ([`pages`](Self::pages)), item by item ([`items`](Self::items)), or one page
/// ([`page`](Self::page)). Every page is one request through the client's pacing.
///
/// Items created or deleted while a listing runs shift the pages Webflow reads by offset;
/// [`pages`](Self::pages) and [`items`](Self::items) detect the shift (each page overlaps
/// the previous one by an item) and read again what a shift could have hidden, so no item
/// that stayed in the collection is missed and none is yielded twice. A full page is never
/// taken as the end, whatever `pagination.total` says.
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

    /// Items per page, 1 to 100 (default 100). [`pages`](Self::pages) and
    /// [`items`](Self::items) ask for at least 2: their pages overlap by one item.
    pub fn page_size(mut self, size: u32) -> Self {
        self.query.page_size = Some(size);
        self
    }

    /// Starts at this offset instead of 0.
    pub fn offset(mut self, offset: u64) -> Self {
        self.first_offset = offset;
        self
    }

    /// The page at `offset`, as Webflow answers it.
    pub async fn page(self, offset: u64) -> Result<CollectionItemList, Error> {
        let page = ListPage::new(self.collection_id, self.query, offset);
        self.client
            .call(&page, CallOptions::default())
            .await
            .result
            .map_err(Error::from)
    }

    /// The items of every page, in order, each once (see the type's documentation); a
    /// page's items are those not yielded before. Ends after the first error.
    pub fn pages(self) -> impl Stream<Item = Result<Vec<CollectionItem>, Error>> + Send + 'a {
        let pager = Pager::new(self.collection_id, self.query, self.first_offset);
        stream::unfold((self.client, Some(pager)), |(client, pager)| async move {
            let mut pager = pager?;
            match pager.next_page(client, CallOptions::default()).await {
                PageRead::Items(items) => Some((Ok(items), (client, Some(pager)))),
                PageRead::End => None,
                PageRead::Failed(error) => Some((Err(error), (client, None))),
            }
        })
    }

    /// Every item of every page, in order, each once. Ends after the first error.
    pub fn items(self) -> impl Stream<Item = Result<CollectionItem, Error>> + Send + 'a {
        self.pages().flat_map(|page| {
            let items: Vec<Result<CollectionItem, Error>> = match page {
                Ok(items) => items.into_iter().map(Ok).collect(),
                Err(error) => vec![Err(error)],
            };
            stream::iter(items)
        })
    }
}

/// What one step of a [`Pager`] read.
#[derive(Debug)]
pub(crate) enum PageRead {
    /// Items not read before (possibly none, after a re-read).
    Items(Vec<CollectionItem>),
    /// The listing is read to its end.
    End,
    /// A page failed, or the listing cannot be trusted (it says why).
    Failed(Error),
}

/// What tells one listed item from another: its id and its locale. The variants of an item
/// in several locales share its id.
pub(crate) fn variant_key(item: &CollectionItem) -> (String, Option<String>) {
    (item.id.clone(), item.locale_id().map(str::to_owned))
}

/// Pages allowed beyond what the largest reported `total` needs, for re-reads after shifts;
/// also how many full pages in a row may bring the end the listing reports no closer.
const EXTRA_PAGES: u64 = 10;
/// A listing that reports no `total` may read at most this many pages, and no listing more.
const PAGES_WITHOUT_TOTAL: u64 = 100_000;

/// Anchors kept from the previous page.
const ANCHORS: usize = 3;

/// The one paging loop: reads a listing by offset, each page overlapping the previous one
/// by its last item. The previous page's last items are the anchors: when none of them is
/// in the next page (items before them were removed, shifting later items back), the pager
/// steps back a page at a time until it finds one, so an item that stayed in the collection
/// is never skipped; items already returned are not returned again (remembered by id and
/// locale: an item's variants in several locales share its id). It ends only on a page
/// shorter than asked for — a full page is never the end, whatever `total` says — and stops with [`Error::ListingUnreliable`] when pages stop bringing new
/// items (a server that ignores `offset`), when the listing needs more pages than twice the
/// largest `total` reported (plus a few re-reads), or when ten full pages in a row bring the
/// end that `total` puts no closer (a collection that grows as fast as it is read, or a
/// `total` that grows with every page: the cap alone would grow with it).
#[derive(Debug)]
pub(crate) struct Pager {
    collection_id: String,
    query: ListQuery,
    /// Where the next page starts.
    offset: u64,
    /// The last items (id and locale) of the previous full page (latest last).
    anchors: Vec<(String, Option<String>)>,
    /// Every item (id and locale: an item's variants share its id) returned so far.
    seen: HashSet<(String, Option<String>)>,
    /// The largest `pagination.total` reported, for the cap.
    largest_total: Option<u64>,
    pages_read: u64,
    /// The furthest offset a page was read at.
    furthest: Option<u64>,
    /// The fewest items a full page left beyond it, by the `total` reported with it.
    closest_end: Option<u64>,
    /// Full pages in a row since `closest_end` last came closer.
    no_closer: u64,
    /// Full pages in a row, each read at an offset further than any before, that brought
    /// nothing new. A page read again after stepping back is expected to bring nothing
    /// new: it does not count.
    stalled: u32,
    done: bool,
}

impl Pager {
    pub(crate) fn new(collection_id: String, mut query: ListQuery, offset: u64) -> Pager {
        if query.page_size() == 1 {
            // Pages overlap by one item: a page of one would never move on.
            query.page_size = Some(2);
        }
        Pager {
            collection_id,
            query,
            offset,
            anchors: Vec::new(),
            seen: HashSet::new(),
            largest_total: None,
            pages_read: 0,
            furthest: None,
            closest_end: None,
            no_closer: 0,
            stalled: 0,
            done: false,
        }
    }

    /// Whether the listing was read to its end (or stopped).
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// The largest `pagination.total` reported so far.
    pub(crate) fn reported_total(&self) -> Option<u64> {
        self.largest_total
    }

    /// The most pages the listing may take, from the largest `total` reported.
    fn page_cap(&self) -> u64 {
        let step = u64::from(self.query.page_size().max(2) - 1);
        match self.largest_total {
            Some(total) => total
                .div_ceil(step)
                .saturating_mul(2)
                .saturating_add(EXTRA_PAGES)
                .min(PAGES_WITHOUT_TOTAL),
            None => PAGES_WITHOUT_TOTAL,
        }
    }

    /// Notes a full page read up to `read_to` with `total` reported: an error once
    /// [`EXTRA_PAGES`] full pages in a row left no fewer items beyond them than the closest
    /// page before. Every page either comes strictly closer (a count that cannot fall
    /// forever) or counts, so a growing `total` cannot keep the listing going.
    fn approach(&mut self, total: u64, read_to: u64) -> Option<Error> {
        let beyond = total.saturating_sub(read_to);
        if self.closest_end.is_none_or(|closest| beyond < closest) {
            self.closest_end = Some(beyond);
            self.no_closer = 0;
            return None;
        }
        self.no_closer += 1;
        (self.no_closer >= EXTRA_PAGES).then(|| {
            Error::ListingUnreliable(format!(
                "stopped after {} pages: the last {EXTRA_PAGES} brought its end no closer (it \
                 reports {total} items, {beyond} beyond the page just read); items are added \
                 as fast as they can be read, or its `total` is wrong",
                self.pages_read
            ))
        })
    }

    /// Reads the next page through `client` (with `options`); see the type's documentation.
    pub(crate) async fn next_page(
        &mut self,
        client: &Client,
        options: CallOptions<'_>,
    ) -> PageRead {
        self.next_page_counted(client, options).await.0
    }

    /// [`next_page`](Self::next_page), with the requests and 429s it took.
    pub(crate) async fn next_page_counted(
        &mut self,
        client: &Client,
        options: CallOptions<'_>,
    ) -> (PageRead, CallOutcome<()>) {
        let mut counts = CallOutcome {
            result: Ok(()),
            requests: 0,
            throttled: 0,
        };
        if self.done {
            return (PageRead::End, counts);
        }
        if self.pages_read >= self.page_cap() {
            self.done = true;
            let error = Error::ListingUnreliable(format!(
                "stopped after {} pages: the listing reported at most {} items, which take \
                 fewer; items are added or removed faster than they can be read, or its \
                 `total` is wrong",
                self.pages_read,
                self.largest_total.unwrap_or_default()
            ));
            return (PageRead::Failed(error), counts);
        }
        let page = ListPage::new(self.collection_id.clone(), self.query.clone(), self.offset);
        let outcome = client.call(&page, options).await;
        counts.requests = outcome.requests;
        counts.throttled = outcome.throttled;
        self.pages_read += 1;
        let page = match outcome.result {
            Ok(page) => page,
            Err(error) => {
                self.done = true;
                return (PageRead::Failed(error.into()), counts);
            }
        };
        if let Some(total) = page.pagination.total.and_then(|t| u64::try_from(t).ok()) {
            self.largest_total = Some(self.largest_total.map_or(total, |t| t.max(total)));
            let read = page.items.len() as u64;
            if read >= u64::from(self.query.page_size())
                && let Some(error) = self.approach(total, self.offset.saturating_add(read))
            {
                self.done = true;
                return (PageRead::Failed(error), counts);
            }
        }
        (self.take(page.items), counts)
    }

    /// Takes the page read at `self.offset`.
    fn take(&mut self, items: Vec<CollectionItem>) -> PageRead {
        let asked = u64::from(self.query.page_size());
        let read_at = self.offset;
        let further = self.furthest.is_none_or(|furthest| read_at > furthest);
        self.furthest = Some(self.furthest.map_or(read_at, |f| f.max(read_at)));
        let anchored = self.anchors.is_empty()
            || items
                .iter()
                .any(|item| self.anchors.contains(&variant_key(item)));
        if !anchored && read_at > 0 {
            // Items before the anchors were removed (or the anchors were): what shifted back
            // is in an earlier page. Step back and read again.
            self.offset = read_at.saturating_sub(asked.saturating_sub(1).max(1));
            return PageRead::Items(self.fresh(items));
        }
        let full = items.len() as u64 >= asked;
        let last = items.len().saturating_sub(ANCHORS);
        let anchors: Vec<_> = items[last..].iter().map(variant_key).collect();
        let read = items.len() as u64;
        let fresh = self.fresh(items);
        if !full {
            self.done = true;
            return PageRead::Items(fresh);
        }
        if !fresh.is_empty() {
            self.stalled = 0;
        } else if further {
            // A page read again after a step back holds nothing new, as it should: only a
            // page further than any before counts.
            self.stalled += 1;
            if self.stalled >= 3 {
                self.done = true;
                return PageRead::Failed(Error::ListingUnreliable(format!(
                    "three full pages in a row, up to offset {read_at}, held only items already \
                     read: the server does not page by offset"
                )));
            }
        }
        self.anchors = anchors;
        self.offset = read_at + read - 1;
        PageRead::Items(fresh)
    }

    /// The items of `items` not returned before (and marks them returned).
    fn fresh(&mut self, items: Vec<CollectionItem>) -> Vec<CollectionItem> {
        items
            .into_iter()
            .filter(|item| self.seen.insert(variant_key(item)))
            .collect()
    }
}
