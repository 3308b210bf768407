//! Bulk import: creating any number of live items in requests of up to 100, paced by the
//! rate limit, with every input item accounted for exactly once and none created twice.
//!
//! ```no_run
//! # async fn run(client: webflow_api::Client) -> Result<(), webflow_api::Error> {
//! use webflow_api::NewItem;
//! let items = (0..2500).map(|n| NewItem::new(format!("Product {n}"), format!("product-{n}")));
//! let report = client
//!     .bulk_create_live("580e63fc8c9a982ac9b8b745")
//!     .on_progress(|event| eprintln!("{event:?}"))
//!     .run(items)
//!     .await?;
//! println!("{} created, {} failed, {} unknown", report.summary.created, report.summary.failed, report.summary.unknown);
//! for outcome in report.outcomes.iter().filter(|o| !o.is_created()) {
//!     println!("item {}: {:?}", outcome.index, outcome.result);
//! }
//! # Ok(()) }
//! ```
//!
//! How it behaves:
//! - Items are packed into requests of at most `max_items_per_request` (default and
//!   maximum 100) and pulled from the input only when a request slot is free, so memory
//!   holds the in-flight requests, not the input.
//! - Requests are paced at the rate Webflow reports in `X-RateLimit-Limit` (starting at 60
//!   per minute, the lowest plan's), with up to `concurrency` requests in flight.
//! - A **429** means nothing was created: the importer waits as told (holding every other
//!   request too) and sends the same items again.
//! - A **4xx** (e.g. a validation error) fails the request's items with Webflow's error;
//!   with [`bisect_invalid`](BulkImport::bisect_invalid) the items are split in halves and
//!   resent until the bad ones are isolated, so the good ones are still created.
//! - A **5xx, a timeout or a broken connection** after sending leaves it unknown whether
//!   the items were created: they are **never resent** and are reported as
//!   [`ItemResult::Unknown`].
//! - Cancelling stops sending; items not yet sent are reported as
//!   [`ItemResult::NotAttempted`].

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesUnordered, Stream, StreamExt};

use crate::create::{CreateRequest, MAX_ITEMS_PER_REQUEST};
use crate::hooks::{ClientState, Shared};
use crate::rate_limit::{Pacer, Pacing};
use crate::retry::{self, AttemptOutcome, Decision, RetryInput, RetryPolicy};
use crate::types::{BulkNewItems, CollectionItem, CreateLiveItemsBody, NewItem};
use crate::{Client, Error};

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
            pacing: Pacing::adaptive(),
            bisect_invalid: false,
            skip_invalid_files: None,
            max_attempts: 20,
            max_wait: Duration::from_secs(120),
            total: None,
            cancel: CancelToken::new(),
            on_progress: None,
        }
    }
}

type ProgressCallback<'a> = Box<dyn Fn(&BulkEvent) + Send + Sync + 'a>;

/// A configured bulk import. Created by [`Client::bulk_create_live`].
#[must_use = "a bulk import does nothing until run"]
pub struct BulkImport<'a> {
    client: &'a Client,
    collection_id: String,
    max_items_per_request: usize,
    concurrency: usize,
    pacing: Pacing,
    bisect_invalid: bool,
    skip_invalid_files: Option<bool>,
    max_attempts: u32,
    max_wait: Duration,
    total: Option<u64>,
    cancel: CancelToken,
    on_progress: Option<ProgressCallback<'a>>,
}

impl fmt::Debug for BulkImport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkImport")
            .field("collection_id", &self.collection_id)
            .field("max_items_per_request", &self.max_items_per_request)
            .field("concurrency", &self.concurrency)
            .field("pacing", &self.pacing)
            .field("bisect_invalid", &self.bisect_invalid)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

impl<'a> BulkImport<'a> {
    /// Items per request, 1 to 100 (default 100, Webflow's documented maximum for its bulk
    /// CMS endpoints).
    pub fn max_items_per_request(mut self, max: usize) -> Self {
        self.max_items_per_request = max;
        self
    }

    /// Requests in flight at once (default 4). Pacing still bounds the rate; concurrency
    /// only hides each request's latency.
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// The pacing (default: adaptive from 60 requests per minute). [`Pacing::Off`] sends as
    /// fast as `concurrency` allows and relies on 429 handling alone.
    pub fn pacing(mut self, pacing: Pacing) -> Self {
        self.pacing = pacing;
        self
    }

    /// On a 4xx for a request of several items, split them in halves and resend each half,
    /// down to single items, so only the bad items fail. Default off: the whole request's
    /// items fail with Webflow's error. A 4xx means nothing was created, so this never
    /// creates an item twice; it costs about log2(n) extra requests per bad item.
    pub fn bisect_invalid(mut self, bisect: bool) -> Self {
        self.bisect_invalid = bisect;
        self
    }

    /// `skipInvalidFiles` for every request (Webflow's default is `true`).
    pub fn skip_invalid_files(mut self, skip: bool) -> Self {
        self.skip_invalid_files = Some(skip);
        self
    }

    /// How many times one request may be sent when each answer says nothing was created
    /// (429, or a connection that never opened). Default 20.
    pub fn max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    /// The longest `Retry-After` the importer accepts (default 120 s); a longer one fails
    /// that request's items with the 429 (nothing was created).
    pub fn max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// The number of items, for progress events (taken from the iterator's size hint when
    /// it is exact).
    pub fn expected_total(mut self, total: u64) -> Self {
        self.total = Some(total);
        self
    }

    /// Uses `token` to cancel the import from elsewhere (see [`CancelToken`]).
    pub fn cancel_token(mut self, token: CancelToken) -> Self {
        self.cancel = token;
        self
    }

    /// Calls `callback` with each [`BulkEvent`] (progress, rate-limit waits, failed
    /// requests), for a progress bar or logs. It runs inline: keep it quick.
    pub fn on_progress(mut self, callback: impl Fn(&BulkEvent) + Send + Sync + 'a) -> Self {
        self.on_progress = Some(Box::new(callback));
        self
    }

    /// Imports every item of `items` and returns the summary with one outcome per item, in
    /// input order. Fails only when the options are invalid, before any request.
    ///
    /// Memory: the outcomes grow with the number of items (an id or an error each); for
    /// millions of items use [`run_with`](Self::run_with).
    pub async fn run<I>(self, items: I) -> Result<BulkReport, Error>
    where
        I: IntoIterator<Item = NewItem>,
        I::IntoIter: Send,
    {
        let mut outcomes = Vec::new();
        let summary = self
            .run_with(items, |outcome| outcomes.push(outcome))
            .await?;
        Ok(BulkReport { summary, outcomes })
    }

    /// Like [`run`](Self::run), but hands each outcome to `on_outcome` (in input order, each
    /// item exactly once) instead of keeping them: memory stays bounded by the requests in
    /// flight, whatever the number of items.
    pub async fn run_with<I>(
        self,
        items: I,
        on_outcome: impl FnMut(ItemOutcome) + Send,
    ) -> Result<BulkSummary, Error>
    where
        I: IntoIterator<Item = NewItem>,
        I::IntoIter: Send,
    {
        let items = items.into_iter();
        let total = self.total.or_else(|| match items.size_hint() {
            (low, Some(high)) if low == high => Some(low as u64),
            _ => None,
        });
        self.expected_total_or(total)
            .run_stream_with(futures_util::stream::iter(items), on_outcome)
            .await
    }

    /// [`run`](Self::run) for a stream of items.
    pub async fn run_stream<S>(self, items: S) -> Result<BulkReport, Error>
    where
        S: Stream<Item = NewItem> + Send,
    {
        let mut outcomes = Vec::new();
        let summary = self
            .run_stream_with(items, |outcome| outcomes.push(outcome))
            .await?;
        Ok(BulkReport { summary, outcomes })
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
        let importer = Importer::new(self);
        importer.run(items, on_outcome).await
    }

    fn expected_total_or(mut self, total: Option<u64>) -> Self {
        self.total = total;
        self
    }

    fn check(&self) -> Result<(), Error> {
        crate::create::validate_collection_id(&self.collection_id)?;
        if self.max_items_per_request == 0 || self.max_items_per_request > MAX_ITEMS_PER_REQUEST {
            return Err(Error::InvalidInput(format!(
                "max_items_per_request is {}; it must be 1 to {MAX_ITEMS_PER_REQUEST} (Webflow takes at most \
                 {MAX_ITEMS_PER_REQUEST} items per request)",
                self.max_items_per_request
            )));
        }
        if self.concurrency == 0 {
            return Err(Error::InvalidInput("concurrency is 0; at least one request must be in flight (use 1 to send one at a time)".into()));
        }
        if self.max_attempts == 0 {
            return Err(Error::InvalidInput(
                "max_attempts is 0; it counts the first attempt, so use at least 1".into(),
            ));
        }
        if let Some(problem) = self.pacing.problem() {
            return Err(Error::InvalidInput(problem.into()));
        }
        Ok(())
    }
}

/// Cancels a bulk import: no request is started after `cancel()`, waits for the rate limit
/// end at once, requests already sent complete, and the items not sent are reported as
/// [`ItemResult::NotAttempted`]. Clones cancel the same import.
#[derive(Clone, Debug, Default)]
pub struct CancelToken {
    inner: Arc<CancelInner>,
}

#[derive(Debug, Default)]
struct CancelInner {
    cancelled: AtomicBool,
    notify: tokio::sync::Notify,
}

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        CancelToken::default()
    }

    /// Cancels the import.
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::SeqCst);
        self.inner.notify.notify_waiters();
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::SeqCst)
    }

    async fn cancelled(&self) {
        loop {
            let notified = self.inner.notify.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

/// What happened to one input item.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ItemOutcome {
    /// The item's position in the input, from 0.
    pub index: u64,
    /// The item's slug, as sent.
    pub slug: String,
    /// The outcome.
    pub result: ItemResult,
}

impl ItemOutcome {
    /// `true` when the item was created.
    pub fn is_created(&self) -> bool {
        matches!(self.result, ItemResult::Created { .. })
    }
}

/// The outcome of one item.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ItemResult {
    /// Created; Webflow's id for the item.
    Created {
        /// The new item's id.
        id: String,
    },
    /// Not created: Webflow refused it (or the input was invalid). Shared by every item of
    /// the refused request.
    Failed {
        /// Why.
        error: Arc<Error>,
    },
    /// Sent, but the answer never came or was a 5xx: the item **may exist**. It was not
    /// resent; check the collection (for example by slug) before importing it again.
    Unknown {
        /// What went wrong.
        error: Arc<Error>,
    },
    /// Not sent, because the import was cancelled.
    NotAttempted,
}

/// The totals of a bulk import.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BulkSummary {
    /// Items in the input.
    pub total: u64,
    /// Items created.
    pub created: u64,
    /// Items that failed (not created).
    pub failed: u64,
    /// Items whose outcome is unknown (may exist).
    pub unknown: u64,
    /// Items not sent because the import was cancelled.
    pub not_attempted: u64,
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// 429 answers met.
    pub throttled: u64,
    /// Time from start to end, on the client's clock.
    pub elapsed: Duration,
}

impl BulkSummary {
    /// `true` when every item was created.
    pub fn all_created(&self) -> bool {
        self.created == self.total
    }
}

/// The result of [`BulkImport::run`]: totals, and one outcome per input item in input order.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct BulkReport {
    /// The totals.
    pub summary: BulkSummary,
    /// One outcome per input item, in input order.
    pub outcomes: Vec<ItemOutcome>,
}

/// An event reported while an import runs.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum BulkEvent {
    /// Items finished (any outcome); carries the running totals.
    Progress(BulkProgress),
    /// Waiting until `until` (on the client's clock) before the next request, because of
    /// the rate limit (pacing or a 429's `Retry-After`).
    WaitingForRateLimit {
        /// How long.
        wait: Duration,
        /// Until when.
        until: Instant,
    },
    /// Webflow answered 429 to a request; its items will be sent again.
    Throttled {
        /// The wait Webflow asked for, if it said.
        retry_after: Option<Duration>,
    },
    /// A request's items failed or ended unknown.
    ChunkFailed {
        /// Index of the request's first item.
        first_index: u64,
        /// How many items it held.
        items: usize,
        /// The error.
        error: Arc<Error>,
    },
    /// A refused request of several items is split in two to isolate the bad items.
    Bisecting {
        /// Index of the request's first item.
        first_index: u64,
        /// How many items it held.
        items: usize,
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
    /// Items failed so far.
    pub failed: u64,
    /// Items with an unknown outcome so far.
    pub unknown: u64,
    /// Requests sent so far.
    pub requests: u64,
    /// 429 answers met so far.
    pub throttled: u64,
}

/// Input items sent (or to be sent) in one request, with their input positions.
struct Chunk {
    entries: Vec<(u64, NewItem)>,
}

impl Chunk {
    fn first_index(&self) -> u64 {
        self.entries.first().map_or(0, |(index, _)| *index)
    }

    /// Every item of the chunk with the same result.
    fn outcomes(self, result: impl Fn() -> ItemResult) -> Vec<ItemOutcome> {
        self.entries
            .into_iter()
            .map(|(index, item)| ItemOutcome {
                index,
                slug: item.field_data.slug,
                result: result(),
            })
            .collect()
    }
}

/// What became of a chunk.
enum ChunkResult {
    /// Final outcomes for the chunk's items.
    Done(Vec<ItemOutcome>),
    /// Refused as a whole; resend as these smaller chunks.
    Split(Vec<Chunk>),
}

struct Importer<'a> {
    options: BulkImport<'a>,
    /// The client for the import's requests: one attempt per call (the importer retries
    /// itself, so it can count 429s, hold every request, and be cancelled while waiting).
    client: Client,
    pacer: Option<Pacer>,
    policy: RetryPolicy,
    counters: Mutex<BulkProgress>,
}

impl<'a> Importer<'a> {
    fn new(options: BulkImport<'a>) -> Self {
        let base = &options.client.inner.shared;
        let client = Client {
            baseurl: options.client.baseurl.clone(),
            client: options.client.client.clone(),
            inner: ClientState {
                shared: Arc::new(Shared {
                    retry: RetryPolicy::none(),
                    timeouts: base.timeouts,
                    clock: base.clock.clone(),
                    pacer: None,
                    last_rate_limit: Mutex::new(None),
                }),
            },
        };
        let policy = RetryPolicy::default()
            .with_max_attempts(options.max_attempts)
            .with_max_wait(options.max_wait)
            .with_retry_outcome_unknown(false);
        let counters = Mutex::new(BulkProgress {
            total: options.total,
            ..BulkProgress::default()
        });
        Importer {
            pacer: Pacer::new(options.pacing),
            client,
            policy,
            counters,
            options,
        }
    }

    fn emit(&self, event: BulkEvent) {
        if let Some(callback) = &self.options.on_progress {
            callback(&event);
        }
    }

    fn counters(&self) -> std::sync::MutexGuard<'_, BulkProgress> {
        self.counters.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn run<S>(
        self,
        items: S,
        mut on_outcome: impl FnMut(ItemOutcome) + Send,
    ) -> Result<BulkSummary, Error>
    where
        S: Stream<Item = NewItem> + Send,
    {
        let clock = self.client.inner.shared.clock.clone();
        let started = clock.now();
        let mut items = std::pin::pin!(items);
        let mut next_index = 0u64;
        let mut input_done = false;
        let mut retry_queue: VecDeque<Chunk> = VecDeque::new();
        let mut in_flight = FuturesUnordered::new();
        // Finished outcomes waiting for earlier items, keyed by input position.
        let mut finished: BTreeMap<u64, ItemOutcome> = BTreeMap::new();
        let mut next_to_report = 0u64;
        let mut summary = BulkSummary::default();

        loop {
            // Fill the free request slots: split halves first, then fresh input. Until the
            // first answer tells the rate limit, only one request goes out.
            let slots = match &self.pacer {
                Some(pacer) if !pacer.has_learned_rate() => 1,
                _ => self.options.concurrency,
            };
            while in_flight.len() < slots && !self.options.cancel.is_cancelled() {
                let chunk = match retry_queue.pop_front() {
                    Some(chunk) => chunk,
                    None if input_done => break,
                    None => {
                        let (chunk, invalid, exhausted) =
                            self.pull_chunk(&mut items, &mut next_index).await;
                        input_done = exhausted;
                        finished
                            .extend(invalid.into_iter().map(|outcome| (outcome.index, outcome)));
                        match chunk {
                            Some(chunk) => chunk,
                            None => continue,
                        }
                    }
                };
                in_flight.push(self.send_chunk(chunk));
            }
            self.report_in_order(
                &mut finished,
                &mut next_to_report,
                &mut summary,
                &mut on_outcome,
            );
            let Some(result) = in_flight.next().await else {
                break;
            };
            match result {
                ChunkResult::Done(outcomes) => {
                    finished.extend(outcomes.into_iter().map(|outcome| (outcome.index, outcome)));
                }
                ChunkResult::Split(halves) => {
                    for half in halves.into_iter().rev() {
                        retry_queue.push_front(half);
                    }
                }
            }
        }

        // Cancelled: whatever was never sent is not attempted, the rest of the input included.
        for chunk in retry_queue {
            finished.extend(
                chunk
                    .outcomes(|| ItemResult::NotAttempted)
                    .into_iter()
                    .map(|o| (o.index, o)),
            );
        }
        if !input_done {
            while let Some(item) = items.next().await {
                let outcome = ItemOutcome {
                    index: next_index,
                    slug: item.field_data.slug,
                    result: ItemResult::NotAttempted,
                };
                finished.insert(next_index, outcome);
                next_index += 1;
                self.report_in_order(
                    &mut finished,
                    &mut next_to_report,
                    &mut summary,
                    &mut on_outcome,
                );
            }
        }
        self.report_in_order(
            &mut finished,
            &mut next_to_report,
            &mut summary,
            &mut on_outcome,
        );
        debug_assert!(finished.is_empty(), "every outcome is reported");
        debug_assert_eq!(
            next_to_report, next_index,
            "every input item has one outcome"
        );

        let counters = *self.counters();
        summary.total = next_index;
        summary.requests = counters.requests;
        summary.throttled = counters.throttled;
        summary.elapsed = clock.now().saturating_duration_since(started);
        Ok(summary)
    }

    /// Pulls up to `max_items_per_request` valid items from the input. Items that cannot
    /// be sent (empty name or slug) fail at once, without a request. Returns the chunk (if
    /// any valid item came), the failed items, and whether the input is exhausted.
    async fn pull_chunk<S>(
        &self,
        items: &mut std::pin::Pin<&mut S>,
        next_index: &mut u64,
    ) -> (Option<Chunk>, Vec<ItemOutcome>, bool)
    where
        S: Stream<Item = NewItem> + Send,
    {
        let mut entries = Vec::with_capacity(self.options.max_items_per_request);
        let mut invalid = Vec::new();
        let mut exhausted = false;
        while entries.len() < self.options.max_items_per_request {
            let Some(item) = items.next().await else {
                exhausted = true;
                break;
            };
            let index = *next_index;
            *next_index += 1;
            match crate::create::validate_item(&item) {
                Ok(()) => entries.push((index, item)),
                Err(error) => invalid.push(ItemOutcome {
                    index,
                    slug: item.field_data.slug,
                    result: ItemResult::Failed {
                        error: Arc::new(error),
                    },
                }),
            }
        }
        let chunk = (!entries.is_empty()).then_some(Chunk { entries });
        (chunk, invalid, exhausted)
    }

    /// Sends one chunk until it is created, refused, or its outcome is unknown; resends it
    /// only when the answer proves nothing was created (429, connection never opened).
    async fn send_chunk(&self, chunk: Chunk) -> ChunkResult {
        let clock = &*self.client.inner.shared.clock;
        let started = clock.now();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            if let Some(pacer) = &self.pacer {
                let wait = pacer.reserve(clock.now());
                if !wait.is_zero() && !self.wait(wait).await {
                    return ChunkResult::Done(chunk.outcomes(|| ItemResult::NotAttempted));
                }
            }
            if self.options.cancel.is_cancelled() {
                return ChunkResult::Done(chunk.outcomes(|| ItemResult::NotAttempted));
            }
            let items = chunk.entries.iter().map(|(_, item)| item.clone()).collect();
            let body = CreateLiveItemsBody::BulkNewItems(BulkNewItems { items });
            let mut request =
                CreateRequest::new(&self.client, self.options.collection_id.clone(), body);
            request.skip_invalid_files = self.options.skip_invalid_files;
            self.counters().requests += 1;
            let result = request.send_recorded().await;
            let (outcome, rate_limit) = match &result {
                Ok(created) => (Ok(()), created.record.rate_limit),
                Err((error, record)) => (Err(error), record.rate_limit),
            };
            let retry_after = outcome.as_ref().err().and_then(|e| e.retry_after());
            let throttled = matches!(outcome, Err(Error::RateLimited(_)));
            if let Some(pacer) = &self.pacer {
                pacer.observe(
                    clock.now(),
                    rate_limit,
                    if throttled { retry_after } else { None },
                );
            }
            if throttled {
                self.counters().throttled += 1;
                self.emit(BulkEvent::Throttled { retry_after });
            }

            let error = match result {
                Ok(created) => return self.created(chunk, created.value.into_items()),
                Err((error, _)) => error,
            };
            let attempt_outcome = attempt_outcome(&error, retry_after);
            let input = RetryInput::new(
                attempt_outcome,
                attempt,
                clock.now().saturating_duration_since(started),
            )
            .jitter(fastrand::f64());
            match retry::decide(&self.policy, &input) {
                Decision::RetryAfter(wait) => {
                    // With pacing, a 429's wait is already held by the pacer for every request.
                    let wait = if throttled && self.pacer.is_some() {
                        Duration::ZERO
                    } else {
                        wait
                    };
                    if !wait.is_zero() && !self.wait(wait).await {
                        return ChunkResult::Done(chunk.outcomes(|| ItemResult::NotAttempted));
                    }
                }
                Decision::Stop(_) => return self.failed(chunk, error),
            }
        }
    }

    /// Waits for `wait` on the client's clock, reporting it; `false` if cancelled meanwhile.
    async fn wait(&self, wait: Duration) -> bool {
        let clock = &*self.client.inner.shared.clock;
        self.emit(BulkEvent::WaitingForRateLimit {
            wait,
            until: clock.now() + wait,
        });
        tokio::select! {
            () = clock.sleep(wait) => !self.options.cancel.is_cancelled(),
            () = self.options.cancel.cancelled() => false,
        }
    }

    fn created(&self, chunk: Chunk, created: Vec<CollectionItem>) -> ChunkResult {
        if created.len() != chunk.entries.len() {
            // The answer does not say which item is which: their outcome is unknown.
            let error =
                Error::UndecodableResponse(Box::new(crate::error::UndecodableResponse::new(
                    None,
                    b"",
                    format!(
                        "{} items were sent but the answer lists {}",
                        chunk.entries.len(),
                        created.len()
                    ),
                    None,
                )));
            return self.failed(chunk, error);
        }
        let outcomes = chunk
            .entries
            .into_iter()
            .zip(created)
            .map(|((index, item), created)| ItemOutcome {
                index,
                slug: item.field_data.slug,
                result: ItemResult::Created { id: created.id },
            })
            .collect();
        ChunkResult::Done(outcomes)
    }

    fn failed(&self, chunk: Chunk, error: Error) -> ChunkResult {
        let refused = error.status().is_some_and(|s| s.is_client_error())
            && !matches!(error, Error::RateLimited(_));
        let (first_index, items) = (chunk.first_index(), chunk.entries.len());
        if refused && self.options.bisect_invalid && items > 1 {
            self.emit(BulkEvent::Bisecting { first_index, items });
            let mut first = chunk.entries;
            let second = first.split_off(items / 2);
            return ChunkResult::Split(vec![Chunk { entries: first }, Chunk { entries: second }]);
        }
        let unknown = error.may_have_been_created();
        let error = Arc::new(error);
        self.emit(BulkEvent::ChunkFailed {
            first_index,
            items,
            error: error.clone(),
        });
        ChunkResult::Done(chunk.outcomes(|| {
            if unknown {
                ItemResult::Unknown {
                    error: error.clone(),
                }
            } else {
                ItemResult::Failed {
                    error: error.clone(),
                }
            }
        }))
    }

    /// Hands over every finished outcome whose turn has come, updating the totals.
    fn report_in_order(
        &self,
        finished: &mut BTreeMap<u64, ItemOutcome>,
        next_to_report: &mut u64,
        summary: &mut BulkSummary,
        on_outcome: &mut impl FnMut(ItemOutcome),
    ) {
        let mut reported_any = false;
        while let Some(outcome) = finished.remove(next_to_report) {
            match outcome.result {
                ItemResult::Created { .. } => summary.created += 1,
                ItemResult::Failed { .. } => summary.failed += 1,
                ItemResult::Unknown { .. } => summary.unknown += 1,
                ItemResult::NotAttempted => summary.not_attempted += 1,
            }
            *next_to_report += 1;
            on_outcome(outcome);
            reported_any = true;
        }
        if reported_any {
            let progress = {
                let mut counters = self.counters();
                counters.done = *next_to_report;
                counters.created = summary.created;
                counters.failed = summary.failed;
                counters.unknown = summary.unknown;
                *counters
            };
            self.emit(BulkEvent::Progress(progress));
        }
    }
}

/// The retry view of an error from a single attempt.
fn attempt_outcome(error: &Error, retry_after: Option<Duration>) -> AttemptOutcome {
    match error {
        Error::Timeout(timeout) => AttemptOutcome::TimedOut {
            request_sent: timeout.request_sent,
        },
        Error::Transport(transport) if !transport.request_sent => AttemptOutcome::NotSent,
        Error::Transport(_) => AttemptOutcome::SentNoAnswer,
        other => match other.status() {
            Some(status) => AttemptOutcome::Answered {
                status: status.as_u16(),
                retry_after,
            },
            // Invalid input, configuration: nothing to retry.
            None => AttemptOutcome::Answered {
                status: 400,
                retry_after: None,
            },
        },
    }
}
