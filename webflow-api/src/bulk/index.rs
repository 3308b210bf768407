//! What the import knows of the collection's items: an index by slug (and locale), read
//! with the one paging loop. Filled by `skip_existing` (and a sync) before any create, and
//! by settling, which needs to know whether a slug was taken before this import.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::SystemTime;

use super::BulkImport;
use super::locale::Locales;
use crate::Error;
use crate::list::{ListQuery, MAX_PAGE_SIZE, PageRead, Pager, SortBy, SortOrder};
use crate::request::CallEvent;
use crate::types::CollectionItem;

/// One stored item, as the index keeps it.
#[derive(Clone, Debug)]
pub(super) struct Indexed {
    pub(super) id: String,
    pub(super) locale: Option<String>,
    pub(super) created: Option<SystemTime>,
    pub(super) slug: String,
    /// Published (not a draft, not archived).
    pub(super) live: bool,
    /// The whole item, when the import compares fields (a sync).
    pub(super) item: Option<Box<CollectionItem>>,
}

/// The collection's items by slug.
#[derive(Debug, Default)]
pub(super) struct CollectionIndex {
    by_slug: HashMap<String, Vec<Indexed>>,
    /// (id, locale) of every item indexed, so a second listing adds nothing twice.
    ids: HashSet<(String, Option<String>)>,
    /// The listing filters read to their end (`None`: unfiltered).
    read: HashSet<Option<String>>,
    /// Every locale met in an unfiltered listing read to its end.
    unfiltered_locales: BTreeSet<Option<String>>,
    /// Keep whole items (a sync compares their fields).
    keep_items: bool,
}

/// What the index says of a line's slug in its locale.
#[derive(Debug)]
pub(super) enum InIndex<'a> {
    /// Stored items of the line's locale with its slug (the oldest first).
    Found(Vec<&'a Indexed>),
    /// None in the line's locale.
    Absent,
    /// The line's listing was not read, or items of other locales hold the slug and the
    /// primary locale is not known.
    Undecided,
}

impl CollectionIndex {
    /// An empty index that keeps whole items when `keep_items`.
    pub(super) fn new(keep_items: bool) -> CollectionIndex {
        CollectionIndex {
            keep_items,
            ..CollectionIndex::default()
        }
    }

    /// Items indexed.
    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the listing a line with `locale` needs was read.
    pub(super) fn covers(&self, locale: Option<&str>) -> bool {
        self.read.contains(&locale.map(str::to_owned)) || self.read.contains(&None)
    }

    /// The locales of the unfiltered listing, when it was read.
    pub(super) fn unfiltered_locales(&self) -> Option<&BTreeSet<Option<String>>> {
        self.read
            .contains(&None)
            .then_some(&self.unfiltered_locales)
    }

    /// Adds one listed item.
    pub(super) fn insert(&mut self, item: CollectionItem, unfiltered: bool) {
        let locale = item.locale_id().map(str::to_owned);
        if unfiltered {
            self.unfiltered_locales.insert(locale.clone());
        }
        if !self.ids.insert((item.id.clone(), locale.clone())) {
            return;
        }
        let slug = item.slug().to_owned();
        // Published: neither a draft nor archived, and published once (a staged item never
        // published has `lastPublished: null`, and `update-items-live` refuses it: 409).
        let live = !item.is_draft.unwrap_or(false)
            && !item.is_archived.unwrap_or(false)
            && item.last_published.is_some();
        let indexed = Indexed {
            id: item.id.clone(),
            locale,
            created: item.created_at(),
            slug: slug.clone(),
            live,
            item: self.keep_items.then(|| Box::new(item)),
        };
        let entries = self.by_slug.entry(slug).or_default();
        entries.push(indexed);
        entries.sort_by_key(|entry| entry.created);
    }

    /// Marks a listing as read to its end.
    pub(super) fn read_to_end(&mut self, filter: Option<&str>) {
        self.read.insert(filter.map(str::to_owned));
    }

    /// Every indexed item.
    pub(super) fn iter(&self) -> impl Iterator<Item = &Indexed> {
        self.by_slug.values().flatten()
    }

    /// The stored items with `slug`, any locale.
    pub(super) fn with_slug(&self, slug: &str) -> &[Indexed] {
        self.by_slug.get(slug).map_or(&[], Vec::as_slice)
    }

    /// What the index says of a line with `locale` and `slug`.
    pub(super) fn find(&self, locales: &Locales, locale: Option<&str>, slug: &str) -> InIndex<'_> {
        if !self.covers(locale) {
            return InIndex::Undecided;
        }
        let mut found = Vec::new();
        for indexed in self.with_slug(slug) {
            match locales.same(locale, indexed.locale.as_deref()) {
                Some(true) => found.push(indexed),
                Some(false) => {}
                None => return InIndex::Undecided,
            }
        }
        if found.is_empty() {
            InIndex::Absent
        } else {
            InIndex::Found(found)
        }
    }
}

/// Lists the collection (with `filter` as `cmsLocaleId`, or unfiltered), oldest first,
/// into `index`. Returns the error that stopped it, and the requests and 429s it took.
pub(super) async fn read_listing(
    import: &BulkImport<'_>,
    events: &(dyn Fn(CallEvent) + Send + Sync),
    index: &mut CollectionIndex,
    filter: Option<&str>,
) -> (Result<(), Arc<Error>>, u64, u64) {
    let query = ListQuery {
        locale: filter.map(str::to_owned),
        sort: Some((SortBy::CreatedOn, SortOrder::Asc)),
        page_size: Some(MAX_PAGE_SIZE),
        ..ListQuery::default()
    };
    let mut pager = Pager::new(import.collection_id.clone(), query, 0);
    let (mut requests, mut throttled) = (0, 0);
    loop {
        let (read, counts) = pager
            .next_page_counted(import.client, import.call_options(events))
            .await;
        requests += u64::from(counts.requests);
        throttled += u64::from(counts.throttled);
        match read {
            PageRead::Items(items) => {
                for item in items {
                    index.insert(item, filter.is_none());
                }
            }
            PageRead::End => {
                index.read_to_end(filter);
                return (Ok(()), requests, throttled);
            }
            PageRead::Failed(error) => return (Err(Arc::new(error)), requests, throttled),
        }
    }
}
