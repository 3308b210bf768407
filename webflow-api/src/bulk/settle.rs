//! Settling creates whose outcome is unknown (a 5xx, a timeout, a connection lost after
//! sending, an answer that does not account for every item): each item is looked up and
//! found to be **ours** (created by that request), **absent**, **taken** by another item,
//! or left unknown. One rule decides what is ours ([`Identity`]):
//!
//! an item found by a lookup was created by this import's request only if it is in the
//! line's locale, its slug is the one sent — or Webflow's suffix of it (`slug-1a2b3`) when
//! the slug sent was already taken and the suffixed form is not itself a slug of the input —
//! it was created no earlier than the request was sent (by the server's clock, less a
//! tolerance for a server clock that steps back), its fields hold what was sent, and no
//! other line claimed it. An item with the slug that fails the rule means the slug was
//! taken: the line fails, and is never sent again (a resend would make a suffixed copy).
//!
//! Absence is proven, never inferred from timestamps: by an exact slug lookup (a few
//! items), by a listing read to its end, or by the index of the collection read before the
//! import created anything (`skip_existing`).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::BulkImport;
use super::compare::holds;
use super::entry::{Chunk, Entry, Mark};
use super::index::{CollectionIndex, InIndex};
use super::locale::Locales;
use super::seen::SeenSlugs;
use crate::Error;
use crate::client::ServerDate;
use crate::item::suffixed_base;
use crate::list::{ListQuery, MAX_PAGE_SIZE, PageRead, Pager, SortBy, SortOrder, variant_key};
use crate::request::CallEvent;
use crate::retry::WaitReason;
use crate::types::CollectionItem;

/// At most this many items are looked up one slug at a time; more are found by a scan.
pub(super) const SLUG_LOOKUPS_MAX: usize = 5;

/// A create request whose outcome is unknown.
#[derive(Debug)]
pub(super) struct Lost {
    pub(super) chunk: Chunk,
    pub(super) error: Arc<Error>,
}

/// What the import knows that settling reads and adds to; lent to a settle and given back.
#[derive(Debug)]
pub(super) struct Knowledge {
    /// The collection's items as indexed (possibly nothing yet).
    pub(super) index: CollectionIndex,
    pub(super) locales: Locales,
    pub(super) seen: SeenSlugs,
    /// The first `Date` reading of the import.
    pub(super) first_reading: Option<ServerDate>,
}

/// What a settle found for one item.
#[derive(Debug)]
pub(super) enum Settled {
    /// Ours: created by the lost request (under a suffixed slug when `renamed`).
    Found {
        entry: Entry,
        item: Box<CollectionItem>,
    },
    /// Not there: never created.
    Absent {
        entry: Entry,
        error: Arc<Error>,
        mark: Option<Mark>,
    },
    /// Its slug was taken, by an item that is not ours.
    Taken { entry: Entry, by: String },
    /// Could not be told.
    Unknown { entry: Entry, error: Arc<Error> },
}

/// What a settle came to.
#[derive(Debug)]
pub(super) struct SettleResult {
    pub(super) settled: Vec<Settled>,
    pub(super) list_requests: u64,
    pub(super) throttled: u64,
    pub(super) knowledge: Knowledge,
}

/// One item to settle.
#[derive(Debug)]
struct Pending {
    entry: Entry,
    error: Arc<Error>,
    mark: Option<Mark>,
    /// The earliest `createdOn` an item it made can carry; `None` without server time.
    floor: Option<SystemTime>,
}

/// Waits the settle delay, then settles every item of the lost requests.
pub(super) async fn settle(
    import: &BulkImport<'_>,
    events: &(dyn Fn(CallEvent) + Send + Sync),
    lost: Vec<Lost>,
    knowledge: Knowledge,
) -> SettleResult {
    let later = knowledge
        .first_reading
        .or(import.client.inner.last_answer().server_date);
    let tolerance = import.settle.clock_tolerance;
    let mut groups: BTreeMap<Option<String>, Vec<Pending>> = BTreeMap::new();
    for Lost { chunk, error } in lost {
        let mark = chunk.mark;
        for entry in chunk.entries {
            groups
                .entry(entry.locale().map(str::to_owned))
                .or_default()
                .push(Pending {
                    entry,
                    error: error.clone(),
                    mark,
                    floor: mark.and_then(|mark| mark.floor(later, tolerance)),
                });
        }
    }
    let mut settler = Settler {
        import,
        events,
        result: SettleResult {
            settled: Vec::new(),
            list_requests: 0,
            throttled: 0,
            knowledge,
        },
        claimed: HashSet::new(),
    };
    let waited = import
        .client
        .pause(
            import.settle.delay,
            WaitReason::Settle,
            &import.call_options(events),
        )
        .await;
    for (locale, pending) in groups {
        if waited {
            settler.settle_group(locale.as_deref(), pending).await;
        } else {
            settler.unknown(pending, None);
        }
    }
    settler.result
}

struct Settler<'i, 'a> {
    import: &'i BulkImport<'a>,
    events: &'i (dyn Fn(CallEvent) + Send + Sync),
    result: SettleResult,
    /// Ids taken as ours by a line of this settle.
    claimed: HashSet<String>,
}

/// What the lookups so far say of one item.
enum Verdict {
    Ours(CollectionItem),
    Taken(String),
    Absent,
    /// A stored item with its slug may be ours but cannot be proven (no server time, or its
    /// locale cannot be told).
    Unprovable,
    Undecided,
}

impl Settler<'_, '_> {
    async fn settle_group(&mut self, locale: Option<&str>, mut pending: Vec<Pending>) {
        let mut seen_items: Vec<CollectionItem> = Vec::new();
        if pending.len() <= SLUG_LOOKUPS_MAX {
            // A few items: one exact lookup each (all items with the slug, any age).
            let mut taken = false;
            for item in &pending {
                match self.look_up(locale, item.entry.slug()).await {
                    Ok(found) => {
                        taken |= !found.is_empty();
                        seen_items.extend(found);
                    }
                    Err(error) => return self.unknown(pending, Some(error)),
                }
            }
            let verdicts: Vec<Verdict> = pending
                .iter()
                .map(|item| self.judge(item, &seen_items, true))
                .collect();
            // A taken slug may hide a copy Webflow stored under a suffix: only a scan of
            // recent items finds it.
            if taken && verdicts.iter().any(|v| matches!(v, Verdict::Taken(_))) {
                let floor = pending.iter().filter_map(|p| p.floor).min();
                if let Err(error) = self
                    .scan(locale, &mut pending, &mut seen_items, floor)
                    .await
                {
                    return self.unknown(pending, Some(error));
                }
            }
            return self.conclude(pending, &seen_items, true);
        }
        // Many items: read the collection newest first, down to the earliest time any of
        // them can have been created, and on to its end if that leaves any undecided.
        let floor = pending.iter().filter_map(|p| p.floor).min();
        let complete = match self
            .scan(locale, &mut pending, &mut seen_items, floor)
            .await
        {
            Ok(complete) => complete,
            Err(error) => return self.unknown(pending, Some(error)),
        };
        let undecided = pending
            .iter()
            .any(|item| matches!(self.judge(item, &seen_items, complete), Verdict::Undecided));
        if complete || !undecided {
            return self.conclude(pending, &seen_items, complete);
        }
        match self.scan(locale, &mut pending, &mut seen_items, None).await {
            Ok(complete) => self.conclude(pending, &seen_items, complete),
            Err(error) => self.unknown(pending, Some(error)),
        }
    }

    /// Reads the listing (in `locale`, else unfiltered) newest first into `seen_items`,
    /// until items are older than `floor` (`None`: to the end) or every pending item is
    /// proven ours. `Ok(true)` when it read to the end.
    async fn scan(
        &mut self,
        locale: Option<&str>,
        pending: &mut [Pending],
        seen_items: &mut Vec<CollectionItem>,
        floor: Option<SystemTime>,
    ) -> Result<bool, Arc<Error>> {
        let query = ListQuery {
            locale: locale.map(str::to_owned),
            sort: Some((SortBy::CreatedOn, SortOrder::Desc)),
            page_size: Some(MAX_PAGE_SIZE),
            ..ListQuery::default()
        };
        let mut pager = Pager::new(self.import.collection_id.clone(), query, 0);
        let mut known: HashSet<_> = seen_items.iter().map(variant_key).collect();
        loop {
            let (read, counts) = pager
                .next_page_counted(self.import.client, self.import.call_options(self.events))
                .await;
            self.result.list_requests += u64::from(counts.requests);
            self.result.throttled += u64::from(counts.throttled);
            let items = match read {
                PageRead::Items(items) => items,
                PageRead::End => {
                    self.learn_locales(locale, seen_items);
                    return Ok(true);
                }
                PageRead::Failed(error) => return Err(Arc::new(error)),
            };
            let mut passed_floor = false;
            for item in items {
                if floor.is_some_and(|floor| item.created_at().is_some_and(|c| c < floor)) {
                    passed_floor = true;
                }
                if known.insert(variant_key(&item)) {
                    seen_items.push(item);
                }
            }
            if pager.is_done() {
                self.learn_locales(locale, seen_items);
                return Ok(true);
            }
            let all_ours = pending
                .iter()
                .all(|item| matches!(self.judge(item, seen_items, false), Verdict::Ours(_)));
            if passed_floor || all_ours {
                return Ok(false);
            }
        }
    }

    /// A complete unfiltered listing tells which locale lines without one land in.
    fn learn_locales(&mut self, locale: Option<&str>, items: &[CollectionItem]) {
        if locale.is_none() {
            let locales = items
                .iter()
                .map(|item| item.locale_id().map(str::to_owned))
                .collect();
            let _ = self.result.knowledge.locales.listed(&locales);
        }
    }

    /// All items with exactly `slug` (in `locale`, else any).
    async fn look_up(
        &mut self,
        locale: Option<&str>,
        slug: &str,
    ) -> Result<Vec<CollectionItem>, Arc<Error>> {
        let query = ListQuery {
            slug: Some(slug.to_owned()),
            locale: locale.map(str::to_owned),
            page_size: Some(MAX_PAGE_SIZE),
            ..ListQuery::default()
        };
        let mut pager = Pager::new(self.import.collection_id.clone(), query, 0);
        let mut found = Vec::new();
        loop {
            let (read, counts) = pager
                .next_page_counted(self.import.client, self.import.call_options(self.events))
                .await;
            self.result.list_requests += u64::from(counts.requests);
            self.result.throttled += u64::from(counts.throttled);
            match read {
                PageRead::Items(items) => {
                    found.extend(items.into_iter().filter(|item| item.slug() == slug));
                }
                PageRead::End => return Ok(found),
                PageRead::Failed(error) => return Err(Arc::new(error)),
            }
        }
    }

    /// What `items` (and the index) say of one pending item. `complete`: `items` holds
    /// every stored item with its slug.
    fn judge(&self, pending: &Pending, items: &[CollectionItem], complete: bool) -> Verdict {
        let knowledge = &self.result.knowledge;
        let identity = Identity {
            locales: &knowledge.locales,
            seen: &knowledge.seen,
            claimed: &self.claimed,
        };
        identity.judge(pending, items, complete, &knowledge.index)
    }

    /// Reports every pending item by what the lookups say; the undecided stay unknown.
    fn conclude(&mut self, pending: Vec<Pending>, items: &[CollectionItem], complete: bool) {
        for item in pending {
            let verdict = self.judge(&item, items, complete);
            let settled = match verdict {
                Verdict::Ours(found) => {
                    self.claimed.insert(found.id.clone());
                    Settled::Found {
                        entry: item.entry,
                        item: Box::new(found),
                    }
                }
                Verdict::Taken(by) => Settled::Taken {
                    entry: item.entry,
                    by,
                },
                Verdict::Absent => Settled::Absent {
                    entry: item.entry,
                    error: item.error,
                    mark: item.mark,
                },
                Verdict::Unprovable | Verdict::Undecided => Settled::Unknown {
                    entry: item.entry,
                    error: item.error,
                },
            };
            self.result.settled.push(settled);
        }
    }

    /// Leaves every item unknown (with the lookup's error when it failed).
    fn unknown(&mut self, pending: Vec<Pending>, error: Option<Arc<Error>>) {
        for item in pending {
            self.result.settled.push(Settled::Unknown {
                entry: item.entry,
                error: error.clone().unwrap_or(item.error),
            });
        }
    }
}

/// The identity rule (see the module documentation), applied to what lookups returned.
struct Identity<'k> {
    locales: &'k Locales,
    seen: &'k SeenSlugs,
    claimed: &'k HashSet<String>,
}

impl Identity<'_> {
    fn judge(
        &self,
        pending: &Pending,
        items: &[CollectionItem],
        complete: bool,
        index: &CollectionIndex,
    ) -> Verdict {
        let entry = &pending.entry;
        let slug = entry.slug();
        let mut exact = Vec::new();
        let mut undecidable = false;
        for item in items.iter().filter(|item| item.slug() == slug) {
            match self.locales.same(entry.locale(), item.locale_id()) {
                Some(true) => exact.push(item),
                Some(false) => {}
                None => undecidable = true,
            }
        }
        if let Some(ours) = exact.iter().find(|item| self.is_ours(pending, item, false)) {
            return Verdict::Ours((*ours).clone());
        }
        let in_index = index.find(self.locales, entry.locale(), slug);
        let taken_by = exact
            .first()
            .map(|item| item.id.clone())
            .or(match &in_index {
                InIndex::Found(found) => found.first().map(|f| f.id.clone()),
                _ => None,
            });
        if taken_by.is_some() {
            // Webflow may have stored our copy under a suffix of the taken slug.
            let copy = items.iter().find(|item| {
                suffixed_base(item.slug()) == Some(slug)
                    && !self.seen.contains_any([entry.locale(), None], item.slug())
                    && self.locales.same(entry.locale(), item.locale_id()) == Some(true)
                    && self.is_ours(pending, item, true)
            });
            if let Some(copy) = copy {
                return Verdict::Ours(copy.clone());
            }
        }
        if undecidable {
            return Verdict::Unprovable;
        }
        if let Some(first) = exact.first() {
            // A stored item with the slug that is not provably ours: taken, unless it could
            // be ours but there is no server time to tell.
            if pending.floor.is_none() && holds(first, &entry.item, false) {
                return Verdict::Unprovable;
            }
            return Verdict::Taken(first.id.clone());
        }
        match in_index {
            InIndex::Found(found) => Verdict::Taken(found[0].id.clone()),
            _ if complete => Verdict::Absent,
            InIndex::Absent => Verdict::Absent,
            InIndex::Undecided => Verdict::Undecided,
        }
    }

    /// Whether `item` is the one `pending`'s request created: not claimed by another line,
    /// created no earlier than the request's floor, holding what was sent.
    fn is_ours(&self, pending: &Pending, item: &CollectionItem, suffixed: bool) -> bool {
        let Some(floor) = pending.floor else {
            return false;
        };
        !self.claimed.contains(&item.id)
            && item.created_at().is_some_and(|created| created >= floor)
            && holds(item, &pending.entry.item, suffixed)
    }
}

/// Settling's default tolerance for a server clock that steps back (see
/// [`Settle::clock_tolerance`](super::Settle::clock_tolerance)).
pub(super) const DEFAULT_CLOCK_TOLERANCE: Duration = Duration::from_secs(60);
