//! Bulk import: creating any number of live items in requests of up to 100, with every item
//! created exactly once or reported with the truth — including when an answer is lost.
//!
//! ```no_run
//! # async fn run(client: webflow_api::Client) -> Result<(), webflow_api::Error> {
//! use webflow_api::{ItemResult, NewItem};
//! let items = (0..2500).map(|n| NewItem::new(format!("Product {n}"), format!("product-{n}")));
//! let report = client
//!     .bulk_create_live("580e63fc8c9a982ac9b8b745")
//!     .skip_existing(true) // re-running a finished import sends no create
//!     .run(items)
//!     .await?;
//! let s = &report.summary;
//! println!("{} created ({} settled by lookup), {} skipped, {} failed, {} unknown",
//!     s.created, s.settled, s.skipped, s.failed, s.unknown);
//! for outcome in &report.outcomes {
//!     if let ItemResult::Failed { error, .. } = &outcome.result {
//!         println!("item {} ({}): {error}", outcome.index, outcome.slug);
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! How it behaves:
//! - Items are packed into requests of at most `max_items_per_request` (default and
//!   maximum 100), pulled from the input only when a request slot is free, so memory holds
//!   the requests in flight, not the input. Requests in flight keep being read while the
//!   input is pulled: a slow input never delays an answer.
//! - Every request goes through the client's one request path: the client's rate limiter
//!   (shared with its other calls and imports; one request in flight until the first
//!   answer reports the rate limit, then up to `concurrency`), the client's timeouts, and
//!   the client's [`RetryPolicy`] unless [`BulkImport::retry_policy`] overrides it.
//! - A **429** means nothing was created: the same items are sent again after the wait.
//! - A **400/422** (a validation error) fails the request's items with Webflow's error;
//!   with [`bisect_invalid`](BulkImport::bisect_invalid) they are split in halves and sent
//!   again until only the bad items fail. Any other 4xx is never bisected; a **401, 403 or
//!   404** (a bad token, scope or collection — every later request would fail the same
//!   way) stops the import: what was pulled and not sent is
//!   [`NotAttempted`](ItemResult::NotAttempted), the rest of the input is not read.
//! - A **5xx, a timeout or a broken connection** after sending, or a success whose answer
//!   does not account for every item, leaves it unknown whether the items were created.
//!   They are never resent blindly. With [`Settle`] on (the default) the import pauses new
//!   creates, waits the settle delay, and looks the items up ([how](Settle)): found *and
//!   proven ours* → [`Created`](ItemResult::Created) with `settled: true`; proven absent →
//!   sent again once; the slug held by an item that is not ours →
//!   [`Failed`](ItemResult::Failed) with [`Error::SlugTaken`]; lookup failed →
//!   [`Unknown`](ItemResult::Unknown).
//! - **What is ours.** An item found by a lookup is reported created by this import only
//!   if it is in the line's locale, carries the slug sent (or Webflow's suffix of it,
//!   `slug-1a2b3`, when the slug sent was taken and the suffixed form is not itself a slug
//!   of the input), was created no earlier than the request was sent (by the server's
//!   `Date`, less [`Settle::clock_tolerance`]), holds the fields sent (compared by meaning:
//!   `12.5` holds `12.50`), and was not claimed by another line. An item with the slug that
//!   fails this rule is someone else's: the line fails, and is never sent again.
//! - With [`skip_existing`](BulkImport::skip_existing) the collection's slugs are indexed
//!   first (one paged listing) and items whose slug exists are
//!   [`Skipped`](ItemResult::Skipped) with the existing id: a crashed import can be run
//!   again from the start without duplicates.
//! - Each item's outcome is reported once, as soon as it is known (items refused before
//!   sending — an empty name or slug — and skipped items at once), with its input
//!   position; [`run`](BulkImport::run) returns them sorted by position.
//! - Cancelling ([`CancellationToken`]) stops sending and reading the input: waits end at once,
//!   requests in flight complete, items pulled and not sent are
//!   [`NotAttempted`](ItemResult::NotAttempted), items never pulled are not reported
//!   ([`BulkSummary::end`] says why the import ended; `total` counts the items pulled).
//!
//! # Sync
//!
//! With [`update`](BulkImport::update) an import keeps a collection in step with a source
//! that is run again and again: it reads the collection's schema and every item first, then
//! for each line creates the item the collection lacks, updates the one whose fields differ
//! (`update-items-live`, only the fields that differ, in requests of 100), and leaves the
//! equal one alone ([`Unchanged`](ItemResult::Unchanged)). Values compare by meaning, so a
//! second sync of an unchanged source writes nothing: numbers as numbers, timestamps as
//! instants, `null` as an absent field or an empty string or list, references in any
//! order, and a file sent by URL as the copy Webflow made of it on its CDN. An item that
//! exists but is not published (a draft, archived) is [`NotLive`](ItemResult::NotLive) and
//! left alone: `update-items-live` changes published items only.
//!
//! With [`prune`](BulkImport::prune) the items the source no longer names are unpublished
//! or deleted once every line is done — only after a clean run (every line read, none
//! malformed, invalid, failed or unknown) and never more than
//! [`max_prune`](BulkImport::max_prune) (by default half of the items in the source's
//! locales); otherwise nothing is pruned and [`BulkSummary::prune_refused`] says why.
//! [`dry_run`](BulkImport::dry_run) does all the reading and checking and reports what
//! would be created, updated and pruned, naming the fields, without writing anything.
//!
//! ```no_run
//! # async fn run(client: webflow_api::Client, items: Vec<webflow_api::NewItem>) -> Result<(), webflow_api::Error> {
//! use webflow_api::Prune;
//! let report = client
//!     .bulk_create_live("580e63fc8c9a982ac9b8b745")
//!     .update(true)                 // create what is missing, update what changed
//!     .prune(Prune::Unpublish)      // unpublish what the source no longer has...
//!     .max_prune(20)                // ...but never more than 20 items
//!     .run(items)
//!     .await?;
//! let s = &report.summary;
//! println!("{} created, {} updated, {} unchanged, {} pruned", s.created, s.updated, s.unchanged, s.pruned);
//! if let Some(reason) = &s.prune_refused {
//!     println!("nothing pruned: {reason}");
//! }
//! # Ok(()) }
//! ```

mod compare;
mod driver;
mod entry;
mod index;
mod locale;
mod prepare;
mod seen;
mod settle;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::Stream;

use crate::operation::MAX_ITEMS_PER_REQUEST;
use crate::retry::{RetryPolicy, WaitReason};
use crate::types::NewItem;
use crate::{Client, Error};
use tokio_util::sync::CancellationToken;

impl Client {
    /// Starts a bulk import into a collection: configure it, then
    /// [`run`](BulkImport::run) it on any iterator of items (or
    /// [`run_stream`](BulkImport::run_stream) on a stream). See the [module
    /// documentation](crate::bulk) for what it guarantees.
    pub fn bulk_create_live(&self, collection_id: impl Into<String>) -> BulkImport<'_> {
        BulkImport {
            client: self,
            collection_id: collection_id.into(),
            max_items_per_request: MAX_ITEMS_PER_REQUEST,
            concurrency: 4,
            bisect_invalid: true,
            skip_invalid_files: None,
            retry: None,
            settle: Settle::default(),
            skip_existing: false,
            primary_locale: None,
            update: false,
            prune: None,
            max_prune: None,
            prune_only_if: None,
            check_schema: false,
            dry_run: false,
            pruned_sink: None,
            total: None,
            cancel: CancellationToken::new(),
            on_progress: None,
        }
    }
}

type ProgressCallback<'a> = Box<dyn Fn(&BulkEvent) + Send + Sync + 'a>;
type PruneCheck<'a> = Box<dyn Fn() -> Result<(), String> + Send + Sync + 'a>;

/// What a sync does with the collection's items that the source lacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Prune {
    /// Unpublish them (`delete-items-live`): they stay in the collection, as drafts.
    Unpublish,
    /// Delete them (`delete-items`).
    Delete,
}

/// A configured bulk import. Created by [`Client::bulk_create_live`].
#[must_use = "a bulk import does nothing until run"]
pub struct BulkImport<'a> {
    client: &'a Client,
    collection_id: String,
    max_items_per_request: usize,
    concurrency: usize,
    bisect_invalid: bool,
    skip_invalid_files: Option<bool>,
    retry: Option<RetryPolicy>,
    settle: Settle,
    skip_existing: bool,
    primary_locale: Option<String>,
    update: bool,
    prune: Option<Prune>,
    max_prune: Option<u64>,
    prune_only_if: Option<PruneCheck<'a>>,
    check_schema: bool,
    dry_run: bool,
    pruned_sink: Option<Arc<std::sync::Mutex<Vec<PrunedItem>>>>,
    total: Option<u64>,
    cancel: CancellationToken,
    on_progress: Option<ProgressCallback<'a>>,
}

impl fmt::Debug for BulkImport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkImport")
            .field("collection_id", &self.collection_id)
            .field("max_items_per_request", &self.max_items_per_request)
            .field("concurrency", &self.concurrency)
            .field("bisect_invalid", &self.bisect_invalid)
            .field("retry", &self.retry_policy_in_use())
            .field("settle", &self.settle)
            .field("skip_existing", &self.skip_existing)
            .field("update", &self.update)
            .field("prune", &self.prune)
            .field("max_prune", &self.max_prune)
            .field("check_schema", &self.check_schema)
            .field("dry_run", &self.dry_run)
            .finish_non_exhaustive()
    }
}

/// How an import settles requests whose outcome is unknown (a 5xx, a timeout, a dropped
/// connection after sending): by looking their items up.
///
/// After such a request the import stops starting new creates, lets the requests in flight
/// finish, waits [`delay`](Self::delay) (so that an item created just before the failure is
/// visible to listings), then looks the items up with `list-collection-items`:
/// - a whole lost request is found by one scan of the collection, newest first
///   (`sortBy=createdOn&sortOrder=desc`), page by page, until every item is found ours or
///   the scan reaches items created before the request was sent, and on to the end of the
///   listing when an item is still undecided (absence is proven by a complete read, never
///   guessed from timestamps) — so settling a lost request of 100 costs a few list
///   requests, not 100 lookups; a handful of items (at most 5) are looked up by slug
///   instead;
/// - found and ours (see the [module documentation](crate::bulk) for the rule) →
///   [`ItemResult::Created`] with `settled: true`; the slug held by an item that is not
///   ours → [`ItemResult::Failed`] with [`Error::SlugTaken`];
/// - confirmed absent → sent again once, in a new request (unless
///   [`lookup_only`](Self::lookup_only)); a resent request whose outcome is again unknown
///   is settled by lookup only;
/// - the lookup failed → [`ItemResult::Unknown`].
///
/// **Assumption:** an item Webflow created becomes visible to listings within the delay.
/// If it takes longer, an item can look absent and be sent again. Webflow then refuses the
/// second create (its slug is taken) and the item is looked up again — found and ours, it
/// is `Created`; or Webflow stores the second create under a suffixed slug: a duplicate,
/// reported `Created` with that `stored_slug` and counted in [`BulkSummary::renamed`]. With
/// `lookup_only` nothing is ever sent twice: such items stay [`Unknown`](ItemResult::Unknown).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settle {
    /// Whether unknown outcomes are looked up at all. Default `true`.
    pub enabled: bool,
    /// How long to wait before looking up. Default 10 s.
    pub delay: Duration,
    /// Whether items confirmed absent are sent again (once). Default `true`.
    pub resend_absent: bool,
    /// How far back of a request's send time (by the server's clock) a lookup accepts an
    /// item's `createdOn` as possibly made by that request: room for a server clock that
    /// steps back, and for the `Date` header's whole seconds. Default 60 s. An item with
    /// the same slug and fields made by someone else within this window before the
    /// request cannot be told from ours.
    pub clock_tolerance: Duration,
}

impl Default for Settle {
    fn default() -> Self {
        Settle {
            enabled: true,
            delay: Duration::from_secs(10),
            resend_absent: true,
            clock_tolerance: settle::DEFAULT_CLOCK_TOLERANCE,
        }
    }
}

impl Settle {
    /// No settling: unknown outcomes are reported [`ItemResult::Unknown`].
    pub fn off() -> Settle {
        Settle {
            enabled: false,
            ..Settle::default()
        }
    }

    /// Settles after `delay`.
    pub fn after(delay: Duration) -> Settle {
        Settle {
            delay,
            ..Settle::default()
        }
    }

    /// Looks up only: items confirmed absent are reported [`ItemResult::Unknown`] instead of
    /// being sent again, so nothing can ever be created twice.
    pub fn lookup_only(mut self) -> Settle {
        self.resend_absent = false;
        self
    }

    /// Sets [`clock_tolerance`](Self::clock_tolerance).
    pub fn clock_tolerance(mut self, tolerance: Duration) -> Settle {
        self.clock_tolerance = tolerance;
        self
    }
}

impl<'a> BulkImport<'a> {
    /// Items per request, 1 to 100 (default 100, Webflow's documented maximum for its bulk
    /// CMS endpoints).
    pub fn max_items_per_request(mut self, max: usize) -> Self {
        self.max_items_per_request = max;
        self
    }

    /// Requests in flight at once (default 4). The client's rate limiter still bounds the
    /// rate; concurrency only hides each request's latency.
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// When Webflow refuses a request of several items for what it holds (400 or 422) and
    /// its details name no item, split them in halves and send each half again, down to
    /// single items, so only the bad items fail. Default on (when the details name items —
    /// `items[48].fieldData.price` — only those fail and the others are sent again, whatever
    /// this says). A refused request created nothing, so this never creates an item twice;
    /// it costs about log2(n) extra requests per bad item.
    pub fn bisect_invalid(mut self, bisect: bool) -> Self {
        self.bisect_invalid = bisect;
        self
    }

    /// `skipInvalidFiles` for every request (Webflow's default is `true`).
    pub fn skip_invalid_files(mut self, skip: bool) -> Self {
        self.skip_invalid_files = Some(skip);
        self
    }

    /// The retry policy for the import's requests. Default: the client's
    /// ([`Client::retry_policy`]); its `max_wait` also bounds the waits for the rate limit.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// How unknown outcomes are settled (default [`Settle::default`]: on, 10 s, resending
    /// items confirmed absent once).
    pub fn settle(mut self, settle: Settle) -> Self {
        self.settle = settle;
        self
    }

    /// First index the slugs already in the collection (one paged listing per locale met,
    /// 100 items per request), and report items whose slug exists as
    /// [`ItemResult::Skipped`] instead of creating them. Re-running a finished import then
    /// sends no create. Memory grows with the collection (a slug and an id per item).
    pub fn skip_existing(mut self, skip: bool) -> Self {
        self.skip_existing = skip;
        self
    }

    /// Sync: create the items the collection lacks (with every guarantee of a create), update
    /// the ones whose fields differ from the source (only the fields the source gives; `null`
    /// clears one) with `update-items-live`, and leave the equal ones alone. The collection
    /// is indexed first (every item, kept whole, for the comparison), and each line is checked
    /// against the collection's schema ([`check_schema`](Self::check_schema) is implied).
    /// Outcomes: [`Created`](ItemResult::Created), [`Updated`](ItemResult::Updated),
    /// [`Unchanged`](ItemResult::Unchanged), [`NotLive`](ItemResult::NotLive), ...
    ///
    /// Values compare by meaning (see the [module documentation](crate::bulk#sync)): a
    /// second sync of an unchanged source writes nothing.
    pub fn update(mut self, update: bool) -> Self {
        self.update = update;
        self
    }

    /// Also take off the site the collection's items whose slug the source lacks (in the
    /// locales the source holds), once every line is done — but only when nothing could
    /// make that a mistake: every line read (not cancelled or stopped), none malformed (see
    /// [`prune_only_if`](Self::prune_only_if)), invalid, failed or unknown, and no more items
    /// than [`max_prune`](Self::max_prune). Otherwise nothing is pruned and
    /// [`BulkSummary::prune_refused`] says why. Implies indexing the collection.
    pub fn prune(mut self, prune: Prune) -> Self {
        self.prune = Some(prune);
        self
    }

    /// The most items a prune may take off the site (like rsync's `--max-delete`). Default:
    /// half of the collection's items in the source's locales.
    pub fn max_prune(mut self, max: u64) -> Self {
        self.max_prune = Some(max);
        self
    }

    /// A last check before pruning, for what only the caller knows (for example, that some
    /// input lines could not be read as items): an `Err` with a reason refuses the prune.
    pub fn prune_only_if(
        mut self,
        check: impl Fn() -> Result<(), String> + Send + Sync + 'a,
    ) -> Self {
        self.prune_only_if = Some(Box::new(check));
        self
    }

    /// Fetch the collection's schema first (one request) and check every item against it
    /// before sending: an unknown field (with the closest field slug suggested), a required
    /// field missing, a value of the wrong type or out of bounds, an unknown option, a
    /// reference to no item. Such an item is [`Invalid`](ItemResult::Invalid), naming each
    /// field, and never sent. Values are written as Webflow takes them: an Option field by
    /// its option's name or id, a Reference or MultiReference by the referenced item's slug
    /// or id (the referenced collection's first page read, then each value not on it looked
    /// up once — or the rest of the collection read, when that costs fewer requests), a
    /// file by URL or `{"url", "alt"}`.
    pub fn check_schema(mut self, check: bool) -> Self {
        self.check_schema = check;
        self
    }

    /// Plan only: read what the import would read (the schema, the collection's index) and
    /// check every line, but send no create, update or prune. Outcomes are
    /// [`WouldCreate`](ItemResult::WouldCreate), [`WouldUpdate`](ItemResult::WouldUpdate),
    /// [`Unchanged`](ItemResult::Unchanged), ..., and prunes are reported as planned
    /// ([`BulkSummary::would_prune`]). Implies [`check_schema`](Self::check_schema).
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// The `cmsLocaleId` of the site's primary locale, where Webflow creates an item sent
    /// without one. Needed to recognise existing items (`skip_existing`, settling) for lines
    /// without a locale when the collection holds items of several locales; otherwise it is
    /// read from the first item created, or from the listing. See the Get Site endpoint
    /// (`locales.primary.cmsLocaleId`).
    pub fn primary_locale(mut self, cms_locale_id: impl Into<String>) -> Self {
        self.primary_locale = Some(cms_locale_id.into());
        self
    }

    /// The number of items, for progress events (taken from the iterator's size hint when
    /// it is exact).
    pub fn expected_total(mut self, total: u64) -> Self {
        self.total = Some(total);
        self
    }

    /// Uses `token` to cancel the import from elsewhere (see [`CancellationToken`]).
    pub fn cancel_token(mut self, token: CancellationToken) -> Self {
        self.cancel = token;
        self
    }

    /// Calls `callback` with each [`BulkEvent`] (progress, rate-limit waits, failed
    /// requests, settling), for a progress bar or logs. It runs inline: keep it quick.
    pub fn on_progress(mut self, callback: impl Fn(&BulkEvent) + Send + Sync + 'a) -> Self {
        self.on_progress = Some(Box::new(callback));
        self
    }

    /// Imports every item of `items` and returns the totals with one outcome per item,
    /// sorted by input position. Fails only when the options are invalid, before any
    /// request.
    ///
    /// Memory: the outcomes grow with the number of items (an id or an error each); for
    /// millions of items use [`run_with`](Self::run_with).
    pub async fn run<I>(mut self, items: I) -> Result<BulkReport, Error>
    where
        I: IntoIterator<Item = NewItem>,
        I::IntoIter: Send,
    {
        let pruned = Arc::new(std::sync::Mutex::new(Vec::new()));
        self.pruned_sink = Some(pruned.clone());
        let mut outcomes = Vec::new();
        let summary = self
            .run_with(items, |outcome| outcomes.push(outcome))
            .await?;
        outcomes.sort_by_key(|outcome| outcome.index);
        let pruned = std::mem::take(&mut *pruned.lock().unwrap_or_else(|e| e.into_inner()));
        Ok(BulkReport {
            summary,
            outcomes,
            pruned,
        })
    }

    /// Like [`run`](Self::run), but hands each outcome to `on_outcome` as soon as it is known
    /// (each item exactly once, not in input order) instead of keeping them: memory holds
    /// the requests in flight and a 24-byte entry per distinct slug read (to refuse a slug
    /// twice), not the items or their outcomes.
    pub async fn run_with<I>(
        mut self,
        items: I,
        on_outcome: impl FnMut(ItemOutcome) + Send,
    ) -> Result<BulkSummary, Error>
    where
        I: IntoIterator<Item = NewItem>,
        I::IntoIter: Send,
    {
        let items = items.into_iter();
        if self.total.is_none()
            && let (low, Some(high)) = items.size_hint()
            && low == high
        {
            self.total = Some(low as u64);
        }
        self.run_stream_with(futures_util::stream::iter(items), on_outcome)
            .await
    }

    /// [`run`](Self::run) for a stream of items.
    pub async fn run_stream<S>(mut self, items: S) -> Result<BulkReport, Error>
    where
        S: Stream<Item = NewItem> + Send,
    {
        let pruned = Arc::new(std::sync::Mutex::new(Vec::new()));
        self.pruned_sink = Some(pruned.clone());
        let mut outcomes = Vec::new();
        let summary = self
            .run_stream_with(items, |outcome| outcomes.push(outcome))
            .await?;
        outcomes.sort_by_key(|outcome| outcome.index);
        let pruned = std::mem::take(&mut *pruned.lock().unwrap_or_else(|e| e.into_inner()));
        Ok(BulkReport {
            summary,
            outcomes,
            pruned,
        })
    }

    /// [`run_with`](Self::run_with) for a stream of items.
    pub async fn run_stream_with<S>(
        self,
        items: S,
        on_outcome: impl FnMut(ItemOutcome) + Send,
    ) -> Result<BulkSummary, Error>
    where
        S: Stream<Item = NewItem> + Send,
    {
        self.check()?;
        driver::run(self, items, on_outcome).await
    }

    /// The call options of every request of the import: its retry policy, its cancellation,
    /// and `events` for its waits.
    fn call_options<'s>(
        &'s self,
        events: &'s (dyn Fn(crate::request::CallEvent) + Send + Sync),
    ) -> crate::request::CallOptions<'s> {
        crate::request::CallOptions {
            retry: Some(self.retry_policy_in_use()),
            cancel: Some(&self.cancel),
            events: Some(events),
        }
    }

    /// Whether the collection's schema is fetched and every line checked against it.
    fn needs_schema(&self) -> bool {
        self.check_schema || self.update || self.dry_run
    }

    /// Whether the collection is indexed before anything is sent.
    fn needs_index(&self) -> bool {
        self.skip_existing || self.update || self.prune.is_some()
    }

    fn retry_policy_in_use(&self) -> &RetryPolicy {
        self.retry
            .as_ref()
            .unwrap_or_else(|| self.client.retry_policy())
    }

    fn emit(&self, event: BulkEvent) {
        if let Some(callback) = &self.on_progress {
            callback(&event);
        }
    }

    fn check(&self) -> Result<(), Error> {
        crate::operation::validate_collection_id(&self.collection_id)?;
        if self.max_items_per_request == 0 || self.max_items_per_request > MAX_ITEMS_PER_REQUEST {
            return Err(Error::InvalidInput(format!(
                "max_items_per_request is {}; it must be 1 to {MAX_ITEMS_PER_REQUEST} (Webflow takes at most \
                 {MAX_ITEMS_PER_REQUEST} items per request)",
                self.max_items_per_request
            )));
        }
        if self.concurrency == 0 {
            return Err(Error::InvalidInput(
                "concurrency is 0; at least one request must be in flight (use 1 to send one at a time)"
                    .into(),
            ));
        }
        if let Some(problem) = self.retry.as_ref().and_then(RetryPolicy::problem) {
            return Err(Error::InvalidInput(problem.into()));
        }
        Ok(())
    }
}

/// What happened to one input item.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ItemOutcome {
    /// The item's position in the input, from 0.
    pub index: u64,
    /// The item's slug, as given.
    pub slug: String,
    /// The outcome.
    pub result: ItemResult,
}

impl ItemOutcome {
    /// `true` when the item was created (by this import).
    pub fn is_created(&self) -> bool {
        matches!(self.result, ItemResult::Created { .. })
    }
}

/// The outcome of one item.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ItemResult {
    /// Created by this import.
    #[non_exhaustive]
    Created {
        /// Webflow's id for the item.
        id: String,
        /// `true` when the create's answer was lost and the item was found by a lookup.
        settled: bool,
        /// The slug Webflow stored, when it differs from the one sent (Webflow can store a
        /// create whose slug exists under a suffixed slug, `slug-1a2b3`): an item with the
        /// slug sent existed already — possibly a duplicate of this one.
        stored_slug: Option<String>,
    },
    /// Not created because an item with its slug exists
    /// ([`skip_existing`](BulkImport::skip_existing)).
    #[non_exhaustive]
    Skipped {
        /// The existing item's id.
        id: String,
    },
    /// Not created: Webflow refused it (its own detail, when Webflow named the item), its
    /// slug is taken by an item this import did not create ([`Error::SlugTaken`]), or the
    /// input was invalid.
    #[non_exhaustive]
    Failed {
        /// Why.
        error: Arc<Error>,
    },
    /// Sync: updated with `update-items-live` (its fields differed from the source).
    #[non_exhaustive]
    Updated {
        /// The item's id.
        id: String,
        /// The fields that changed (slugs; `name` included, `isArchived` when it changed).
        fields: Vec<String>,
    },
    /// Sync: the stored item already holds what the source gives; nothing was sent.
    #[non_exhaustive]
    Unchanged {
        /// The item's id.
        id: String,
    },
    /// Sync: an item with its slug exists but is not published (a draft, archived, or staged
    /// and never published), and
    /// `update-items-live` changes published items only: left alone.
    #[non_exhaustive]
    NotLive {
        /// The item's id.
        id: String,
    },
    /// Not sent: the item does not fit the collection's schema
    /// ([`check_schema`](BulkImport::check_schema)).
    #[non_exhaustive]
    Invalid {
        /// Each problem, naming its field.
        problems: Vec<FieldProblem>,
    },
    /// Dry run: would be created.
    WouldCreate,
    /// Dry run: would be updated.
    #[non_exhaustive]
    WouldUpdate {
        /// The item's id.
        id: String,
        /// The fields that would change.
        fields: Vec<String>,
    },
    /// Not sent: an earlier item of the input has the same slug (and locale), and a slug is
    /// unique in a collection.
    #[non_exhaustive]
    Duplicate {
        /// The input position of the first item with this slug.
        first_index: u64,
    },
    /// Sent, and whether it was created is unknown (a 5xx or a lost answer that settling
    /// could not resolve): the item **may exist**. Look it up before importing it again.
    #[non_exhaustive]
    Unknown {
        /// What went wrong.
        error: Arc<Error>,
    },
    /// Pulled from the input but not sent: the import was cancelled or stopped.
    NotAttempted,
}

/// How an import ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImportEnd {
    /// Every item of the input was pulled and has an outcome.
    #[default]
    InputExhausted,
    /// Cancelled: the rest of the input was not read.
    Cancelled,
    /// Stopped after an error that every later request would meet (401, 403, 404): the rest
    /// of the input was not read. The error is in the failed items' outcomes and in
    /// [`BulkEvent::Stopped`].
    Stopped,
}

/// The totals of a bulk import.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BulkSummary {
    /// Items pulled from the input (each has exactly one outcome).
    pub total: u64,
    /// Items created, `settled` included.
    pub created: u64,
    /// Items created whose answer was lost and that were found by a lookup.
    pub settled: u64,
    /// Items not created because their slug exists.
    pub skipped: u64,
    /// Items that failed (not created), duplicates included.
    pub failed: u64,
    /// Items not sent because an earlier item has their slug (counted in `failed` too).
    pub duplicates: u64,
    /// Sync: items updated.
    pub updated: u64,
    /// Sync: items already holding what the source gives.
    pub unchanged: u64,
    /// Sync: items left alone because they exist but are not published.
    pub not_live: u64,
    /// Items that do not fit the collection's schema (not sent).
    pub invalid: u64,
    /// Items a prune took off the site.
    pub pruned: u64,
    /// Items a prune tried and failed to take off the site (or whose outcome is unknown).
    pub prune_failed: u64,
    /// Why a prune that was asked for was not done, if it was not.
    pub prune_refused: Option<String>,
    /// Dry run: items that would be created, updated, pruned.
    pub would_create: u64,
    /// Dry run: items that would be updated.
    pub would_update: u64,
    /// Dry run: items that would be pruned.
    pub would_prune: u64,
    /// Update requests sent (sync).
    pub update_requests: u64,
    /// Unpublish or delete requests sent (prune).
    pub prune_requests: u64,
    /// Items a create answered with that match no item sent (never given to an item; see
    /// [`BulkEvent::Unmatched`]).
    pub unmatched: u64,
    /// Items whose outcome is unknown (may exist).
    pub unknown: u64,
    /// Items pulled but not sent (cancelled or stopped).
    pub not_attempted: u64,
    /// Items created under a slug other than the one sent (see
    /// [`ItemResult::Created::stored_slug`](ItemResult::Created)).
    pub renamed: u64,
    /// HTTP requests sent, retries included: `create_requests + list_requests +
    /// update_requests + prune_requests`.
    pub requests: u64,
    /// Create requests sent.
    pub create_requests: u64,
    /// Read requests sent: listings (index, settling, reference lookups) and the schema.
    pub list_requests: u64,
    /// 429 answers met.
    pub throttled: u64,
    /// How the import ended.
    pub end: ImportEnd,
    /// Time from start to end, on the client's clock.
    pub elapsed: Duration,
}

impl BulkSummary {
    /// `true` when every item pulled was created, skipped, updated or unchanged (or, in a dry
    /// run, would be), the input was exhausted, and a prune asked for was done.
    pub fn all_done(&self) -> bool {
        let done = self.created
            + self.skipped
            + self.updated
            + self.unchanged
            + self.not_live
            + self.would_create
            + self.would_update;
        self.end == ImportEnd::InputExhausted
            && done == self.total
            && self.prune_failed == 0
            && self.prune_refused.is_none()
    }
}

/// The result of [`BulkImport::run`]: totals, and one outcome per item pulled, sorted by
/// input position.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct BulkReport {
    /// The totals.
    pub summary: BulkSummary,
    /// One outcome per item pulled, sorted by input position.
    pub outcomes: Vec<ItemOutcome>,
    /// The collection's items a prune took off the site (or would, in a dry run).
    pub pruned: Vec<PrunedItem>,
}

/// An item of the collection that a prune took off the site (or would have, in a dry run,
/// or failed to).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PrunedItem {
    /// Its id.
    pub id: String,
    /// Its slug.
    pub slug: String,
    /// Its `cmsLocaleId`.
    pub locale: Option<String>,
}

/// One problem of an input item with the collection's schema.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldProblem {
    /// The field's slug (the key in `fieldData`).
    pub field: String,
    /// What is wrong, as Webflow words it where it does.
    pub message: String,
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// An event reported while an import runs.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum BulkEvent {
    /// Items finished (any outcome); carries the running totals.
    Progress(BulkProgress),
    /// Waiting until `until` (on the client's clock), and why: for the rate limit, as
    /// Webflow asked, backing off before a retry, or before settling.
    Waiting {
        /// How long.
        wait: Duration,
        /// Until when.
        until: Instant,
        /// What for.
        reason: WaitReason,
    },
    /// Webflow answered 429 to a request; its items will be sent again.
    Throttled {
        /// The wait Webflow asked for, if it said.
        retry_after: Option<Duration>,
    },
    /// A request's items failed, or their outcome is unknown.
    ChunkFailed {
        /// Index of the request's first item.
        first_index: u64,
        /// How many items it held.
        items: usize,
        /// The error.
        error: Arc<Error>,
    },
    /// A request refused for invalid items is split in two to isolate them.
    Bisecting {
        /// Index of the request's first item.
        first_index: u64,
        /// How many items it held.
        items: usize,
    },
    /// Looking up items whose create's outcome is unknown, after the settle delay.
    Settling {
        /// How many items.
        items: usize,
    },
    /// A settle ended.
    Settled {
        /// Items found (created).
        found: usize,
        /// Items whose slug another item holds (failed, not sent again).
        taken: usize,
        /// Items confirmed absent (sent again, or unknown with `lookup_only`).
        absent: usize,
        /// Items still unknown (the lookup failed).
        unknown: usize,
        /// List requests it took.
        list_requests: u64,
    },
    /// The slugs of the collection were indexed (`skip_existing`).
    Indexed {
        /// Items found in the collection.
        items: u64,
        /// List requests it took.
        list_requests: u64,
    },
    /// A create's answer listed items that match no item sent (id and slug of each): they
    /// are not given to any item.
    Unmatched {
        /// `(id, slug)` of each.
        items: Vec<(String, String)>,
    },
    /// Items of the collection a prune took off the site (or would, in a dry run).
    Pruned {
        /// The items.
        items: Vec<PrunedItem>,
    },
    /// A prune request failed, or its outcome is unknown.
    PruneFailed {
        /// The items it held.
        items: Vec<PrunedItem>,
        /// The error.
        error: Arc<Error>,
    },
    /// A prune was asked for and not done: why.
    PruneRefused {
        /// The reason.
        reason: String,
    },
    /// The import stops: every later request would fail with this error.
    Stopped {
        /// The error.
        error: Arc<Error>,
    },
}

/// Running totals, as carried by [`BulkEvent::Progress`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BulkProgress {
    /// Items finished (any outcome).
    pub done: u64,
    /// Items in the input, when known.
    pub total: Option<u64>,
    /// Items created so far.
    pub created: u64,
    /// Items skipped so far.
    pub skipped: u64,
    /// Items failed so far.
    pub failed: u64,
    /// Items with an unknown outcome so far.
    pub unknown: u64,
    /// Requests sent so far.
    pub requests: u64,
    /// 429 answers met so far.
    pub throttled: u64,
}
