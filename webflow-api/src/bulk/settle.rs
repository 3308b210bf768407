//! Looking items up for an import: settling requests whose outcome is unknown (found,
//! confirmed absent, or still unknown), and indexing the slugs already in a collection
//! for `skip_existing`. Every lookup is a `list-collection-items` call through the one
//! request path.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::BulkImport;
use super::driver::{Chunk, Entry, options};
use crate::Error;
use crate::list::{ListQuery, MAX_PAGE_SIZE, SortBy, SortOrder};
use crate::request::CallEvent;
use crate::types::{CollectionItem, CollectionItemList};

/// The offset of the page after `page` (read at `offset`), if there is one.
fn next_offset(page: &CollectionItemList, offset: u64) -> Option<u64> {
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

/// At most this many items are looked up one slug at a time; more are found by a scan.
pub(super) const SLUG_LOOKUPS_MAX: usize = 5;

/// A settle scan reads at most this many pages (of 100) before giving up on the rest.
pub(super) const MAX_SCAN_PAGES: u32 = 10;

/// A create request whose outcome is unknown.
pub(super) struct Lost {
    pub(super) chunk: Chunk,
    pub(super) error: Arc<Error>,
}

/// An item of a lost request that exists.
pub(super) struct Found {
    pub(super) entry: Entry,
    pub(super) id: String,
    pub(super) stored_slug: Option<String>,
    pub(super) created_on: String,
}

/// An item of a lost request that does not exist.
pub(super) struct Absent {
    pub(super) entry: Entry,
    pub(super) error: Arc<Error>,
    /// It was already sent a second time.
    pub(super) resent: bool,
    /// The newest `createdOn` seen before it was first sent.
    pub(super) mark: Option<String>,
}

/// What a settle found.
#[derive(Default)]
pub(super) struct SettleResult {
    pub(super) found: Vec<Found>,
    pub(super) absent: Vec<Absent>,
    pub(super) unknown: Vec<(Entry, Arc<Error>)>,
    pub(super) list_requests: u64,
    pub(super) throttled: u64,
}

/// One item to settle.
struct Pending {
    entry: Entry,
    error: Arc<Error>,
    resent: bool,
    /// The newest `createdOn` seen before its request was sent.
    mark: Option<String>,
}

/// Waits the settle delay, then looks up every item of the lost requests. See
/// [`Settle`](super::Settle) for the method and its assumption.
pub(super) async fn settle(
    import: &BulkImport<'_>,
    events: &(dyn Fn(CallEvent) + Send + Sync),
    lost: Vec<Lost>,
) -> SettleResult {
    let mut result = SettleResult::default();
    let mut groups: BTreeMap<Option<String>, Vec<Pending>> = BTreeMap::new();
    for Lost { chunk, error } in lost {
        for entry in chunk.entries {
            groups
                .entry(entry.locale().map(str::to_owned))
                .or_default()
                .push(Pending {
                    entry,
                    error: error.clone(),
                    resent: chunk.resent,
                    mark: chunk.mark.clone(),
                });
        }
    }
    let client = import.client;
    if !client
        .pause(
            import.settle.delay,
            crate::retry::WaitReason::Settle,
            &options(import, events),
        )
        .await
    {
        for pending in groups.into_values().flatten() {
            result.unknown.push((pending.entry, pending.error));
        }
        return result;
    }
    let mut lookup = Lookup {
        import,
        events,
        result,
    };
    for (locale, pending) in groups {
        lookup.settle_group(locale.as_deref(), pending).await;
    }
    lookup.result
}

struct Lookup<'i, 'a> {
    import: &'i BulkImport<'a>,
    events: &'i (dyn Fn(CallEvent) + Send + Sync),
    result: SettleResult,
}

impl Lookup<'_, '_> {
    /// One page of a listing; `None` (with the error) when it failed.
    async fn page(&mut self, query: &ListQuery, offset: u64) -> Result<CollectionItemList, Error> {
        let outcome = self
            .import
            .client
            .list_page(
                &self.import.collection_id,
                query,
                offset,
                options(self.import, self.events),
            )
            .await;
        self.result.list_requests += u64::from(outcome.requests);
        self.result.throttled += u64::from(outcome.throttled);
        outcome.result.map_err(Error::from)
    }

    async fn settle_group(&mut self, locale: Option<&str>, pending: Vec<Pending>) {
        let pending = if pending.len() > SLUG_LOOKUPS_MAX {
            self.scan(locale, pending).await
        } else {
            pending
        };
        for item in pending {
            self.look_up_slug(locale, item).await;
        }
    }

    /// Finds the items of `pending` by reading the collection newest first. Returns the
    /// items it could neither find nor prove absent when there are few enough to look up
    /// one by one; the others are settled as unknown.
    async fn scan(&mut self, locale: Option<&str>, pending: Vec<Pending>) -> Vec<Pending> {
        // Items older than every lost request's mark were created before any of them.
        let floor = pending
            .iter()
            .map(|p| p.mark.clone())
            .collect::<Option<Vec<String>>>()
            .and_then(|marks| marks.into_iter().min_by(|a, b| compare(a, b)));
        let mut open: Vec<Option<Pending>> = pending.into_iter().map(Some).collect();
        let mut by_slug: HashMap<String, Vec<usize>> = HashMap::new();
        for (position, item) in open.iter().enumerate() {
            if let Some(item) = item {
                by_slug
                    .entry(item.entry.slug().to_owned())
                    .or_default()
                    .push(position);
            }
        }
        let query = ListQuery {
            locale: locale.map(str::to_owned),
            sort: Some((SortBy::CreatedOn, SortOrder::Desc)),
            page_size: Some(MAX_PAGE_SIZE),
            ..ListQuery::default()
        };
        let mut offset = 0;
        let mut proven = false;
        let mut failed = None;
        'pages: for _ in 0..MAX_SCAN_PAGES {
            let page = match self.page(&query, offset).await {
                Ok(page) => page,
                Err(error) => {
                    failed = Some(Arc::new(error));
                    break;
                }
            };
            for item in &page.items {
                if floor
                    .as_deref()
                    .is_some_and(|floor| is_older(&item.created_on, floor))
                {
                    proven = true;
                    break 'pages;
                }
                if let Some(position) = claim(&open, &by_slug, item) {
                    let pending = open[position].take().expect("claimed once");
                    self.found(pending, item);
                }
            }
            if open.iter().all(Option::is_none) {
                return Vec::new();
            }
            match next_offset(&page, offset) {
                Some(next) => offset = next,
                None => {
                    proven = true;
                    break;
                }
            }
        }
        let left: Vec<Pending> = open.into_iter().flatten().collect();
        if proven {
            for pending in left {
                self.absent(pending);
            }
            return Vec::new();
        }
        if failed.is_none() && left.len() <= SLUG_LOOKUPS_MAX {
            return left;
        }
        for pending in left {
            self.result.unknown.push((pending.entry, pending.error));
        }
        Vec::new()
    }

    /// Settles one item with an exact-slug lookup.
    async fn look_up_slug(&mut self, locale: Option<&str>, pending: Pending) {
        let query = ListQuery {
            slug: Some(pending.entry.slug().to_owned()),
            locale: locale.map(str::to_owned),
            ..ListQuery::default()
        };
        let page = match self.page(&query, 0).await {
            Ok(page) => page,
            Err(_) => {
                self.result.unknown.push((pending.entry, pending.error));
                return;
            }
        };
        let found = page
            .items
            .iter()
            .find(|item| item.field_data.slug == pending.entry.slug());
        match found {
            None => self.absent(pending),
            // Created after the request was sent (or no way to tell): ours.
            Some(item)
                if pending
                    .mark
                    .as_deref()
                    .is_none_or(|mark| !is_older(&item.created_on, mark)) =>
            {
                let item = item.clone();
                self.found(pending, &item);
            }
            // The slug was taken before the request was sent: whether (and under which
            // slug) the request created a copy cannot be told by slug.
            Some(_) => self.result.unknown.push((pending.entry, pending.error)),
        }
    }

    fn found(&mut self, pending: Pending, item: &CollectionItem) {
        let stored_slug =
            (item.field_data.slug != pending.entry.slug()).then(|| item.field_data.slug.clone());
        self.result.found.push(Found {
            entry: pending.entry,
            id: item.id.clone(),
            stored_slug,
            created_on: item.created_on.clone(),
        });
    }

    fn absent(&mut self, pending: Pending) {
        self.result.absent.push(Absent {
            entry: pending.entry,
            error: pending.error,
            resent: pending.resent,
            mark: pending.mark,
        });
    }
}

/// `true` for a validation error that names a slug already taken, as Webflow words it
/// (`{"param": "slug", "description": "Unique value is already in database: 'x'"}`, seen
/// in NangoHQ/nango#5210).
pub(super) fn refused_for_taken_slugs(error: &Error) -> bool {
    let Some(api) = error.api_error() else {
        return false;
    };
    matches!(api.status.as_u16(), 400 | 422)
        && api.details.iter().any(|detail| {
            let text = |key: &str| detail.get(key).and_then(|v| v.as_str()).unwrap_or("");
            text("param").ends_with("slug")
                && text("description")
                    .to_ascii_lowercase()
                    .contains("already in database")
        })
}

/// The open item `item` is: same slug, or the slug with a suffix Webflow adds when a slug
/// is taken (`slug-1a2b3`), created no earlier than the item's request was sent.
fn claim(
    open: &[Option<Pending>],
    by_slug: &HashMap<String, Vec<usize>>,
    item: &CollectionItem,
) -> Option<usize> {
    let slug = &item.field_data.slug;
    let first_open = |positions: &Vec<usize>, needs_mark: bool| {
        positions.iter().copied().find(|&position| {
            open[position]
                .as_ref()
                .is_some_and(|pending| match &pending.mark {
                    Some(mark) => !is_older(&item.created_on, mark),
                    None => !needs_mark,
                })
        })
    };
    if let Some(position) = by_slug.get(slug).and_then(|p| first_open(p, false)) {
        return Some(position);
    }
    let base = suffixed_base(slug)?;
    by_slug.get(base).and_then(|p| first_open(p, true))
}

/// `slug` without a Webflow duplicate suffix (`-` and 5 lowercase hex digits), if it has one.
pub(crate) fn suffixed_base(slug: &str) -> Option<&str> {
    let (base, suffix) = slug.rsplit_once('-')?;
    (suffix.len() == 5
        && suffix
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && !base.is_empty())
    .then_some(base)
}

/// Webflow's timestamps (`2023-03-17T18:47:35.560Z`) as a sortable key; `None` when a value
/// is not in that form.
fn timestamp_key(text: &str) -> Option<(u64, u32)> {
    let text = text.strip_suffix('Z')?;
    let (seconds, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits: String = seconds.chars().filter(char::is_ascii_digit).collect();
    if digits.len() != 14 || seconds.len() != 19 {
        return None;
    }
    let mut millis = fraction.chars().take(3).collect::<String>();
    if !millis.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    while millis.len() < 3 {
        millis.push('0');
    }
    Some((digits.parse().ok()?, millis.parse().ok()?))
}

fn compare(a: &str, b: &str) -> std::cmp::Ordering {
    timestamp_key(a).cmp(&timestamp_key(b))
}

/// `true` when `a` is a strictly earlier time than `b` (both readable).
pub(super) fn is_older(a: &str, b: &str) -> bool {
    matches!((timestamp_key(a), timestamp_key(b)), (Some(a), Some(b)) if a < b)
}

/// `true` when `a` is readable and later than `b` (or there is no `b`).
pub(super) fn is_newer(a: &str, b: Option<&str>) -> bool {
    match (timestamp_key(a), b.map(timestamp_key)) {
        (Some(_), None) => true,
        (Some(a), Some(Some(b))) => a > b,
        (Some(_), Some(None)) => true,
        _ => false,
    }
}

/// The slugs of a collection (one locale) and their ids.
pub(super) struct Existing {
    ids: HashMap<String, String>,
    newest: Option<String>,
}

impl Existing {
    pub(super) fn id_of(&self, slug: &str) -> Option<&str> {
        self.ids.get(slug).map(String::as_str)
    }

    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }

    pub(super) fn newest_created_on(&self) -> Option<&str> {
        self.newest.as_deref()
    }
}

/// Reads every item of the collection (in `locale`, or Webflow's default) into a slug
/// index, oldest first so that items created meanwhile do not shift the pages read.
pub(super) async fn index_existing(
    import: &BulkImport<'_>,
    events: &(dyn Fn(CallEvent) + Send + Sync),
    locale: Option<&str>,
) -> (Result<Existing, Arc<Error>>, u64, u64) {
    let mut lookup = Lookup {
        import,
        events,
        result: SettleResult::default(),
    };
    let query = ListQuery {
        locale: locale.map(str::to_owned),
        sort: Some((SortBy::CreatedOn, SortOrder::Asc)),
        page_size: Some(MAX_PAGE_SIZE),
        ..ListQuery::default()
    };
    let mut existing = Existing {
        ids: HashMap::new(),
        newest: None,
    };
    let mut offset = Some(0);
    let outcome = loop {
        let Some(at) = offset else {
            break Ok(existing);
        };
        match lookup.page(&query, at).await {
            Ok(page) => {
                for item in &page.items {
                    if is_newer(&item.created_on, existing.newest.as_deref()) {
                        existing.newest = Some(item.created_on.clone());
                    }
                    existing
                        .ids
                        .entry(item.field_data.slug.clone())
                        .or_insert_with(|| item.id.clone());
                }
                offset = next_offset(&page, at);
            }
            Err(error) => break Err(Arc::new(error)),
        }
    };
    (
        outcome,
        lookup.result.list_requests,
        lookup.result.throttled,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webflow_suffixes_are_recognised() {
        assert_eq!(suffixed_base("example-1-e9f6b"), Some("example-1"));
        assert_eq!(suffixed_base("mug-00a1f"), Some("mug"));
        assert_eq!(suffixed_base("mug-00A1F"), None);
        assert_eq!(suffixed_base("mug-1234"), None);
        assert_eq!(suffixed_base("blue-mug"), None);
        assert_eq!(suffixed_base("-abcde"), None);
    }

    #[test]
    fn timestamps_compare_by_time() {
        assert!(is_older(
            "2023-03-17T18:47:35.560Z",
            "2023-03-17T18:47:35.561Z"
        ));
        assert!(!is_older(
            "2023-03-17T18:47:35.560Z",
            "2023-03-17T18:47:35.560Z"
        ));
        assert!(is_older("2023-03-17T18:47:35Z", "2023-03-17T18:47:35.001Z"));
        assert!(is_older(
            "2022-12-31T23:59:59.999Z",
            "2023-01-01T00:00:00.000Z"
        ));
        assert!(!is_older("garbage", "2023-01-01T00:00:00.000Z"));
        assert!(is_newer("2023-01-01T00:00:00.000Z", None));
        assert!(is_newer(
            "2023-01-01T00:00:00.001Z",
            Some("2023-01-01T00:00:00.000Z")
        ));
        assert!(!is_newer("bad", None));
    }
}
