//! The import's loop: pulls items, packs them into requests, keeps up to `concurrency`
//! requests in flight (polled while the input is pulled), turns each request's outcome
//! into item outcomes, and hands requests with an unknown outcome to settling.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use futures_util::FutureExt;
use futures_util::stream::{FuturesUnordered, Stream, StreamExt};

use super::settle::{self, Existing, Lost, SettleResult};
use super::{BulkEvent, BulkImport, BulkProgress, BulkSummary, ImportEnd, ItemOutcome, ItemResult};
use crate::Error;
use crate::create::{CreateChunk, answer_mismatch, validate_item};
use crate::request::{CallError, CallEvent, CallOptions, CallOutcome};
use crate::retry::Disposition;
use crate::types::{CollectionItem, NewItem};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One input item and its position.
pub(super) struct Entry {
    pub(super) index: u64,
    pub(super) item: NewItem,
}

impl Entry {
    pub(super) fn locale(&self) -> Option<&str> {
        self.item.cms_locale_id.as_deref()
    }

    pub(super) fn slug(&self) -> &str {
        &self.item.field_data.slug
    }

    fn outcome(self, result: ItemResult) -> ItemOutcome {
        ItemOutcome {
            index: self.index,
            slug: self.item.field_data.slug,
            result,
        }
    }
}

/// The items of one create request.
pub(super) struct Chunk {
    pub(super) entries: Vec<Entry>,
    /// Sent again after settling found its items absent: never sent a third time.
    pub(super) resent: bool,
    /// The newest `createdOn` the import had seen when these items were first sent: an item
    /// created by this request (or by the first one, for a resend) is not older.
    pub(super) mark: Option<String>,
}

impl Chunk {
    fn first_index(&self) -> u64 {
        self.entries.first().map_or(0, |entry| entry.index)
    }
}

struct ChunkDone {
    chunk: Chunk,
    outcome: CallOutcome<Vec<CollectionItem>>,
}

/// Work beside the creates, one at a time: settling lost requests, or indexing a locale's
/// slugs for `skip_existing`.
enum SideDone {
    Settled(SettleResult),
    Indexed {
        locale: Option<String>,
        outcome: Result<Existing, Arc<Error>>,
        list_requests: u64,
        throttled: u64,
    },
}

/// What woke the loop.
enum Step {
    Cancelled,
    /// A pause for the rate limiter ended.
    Resume,
    Item(Option<NewItem>),
    ChunkDone(ChunkDone),
    Side(SideDone),
}

pub(super) async fn run<S>(
    import: BulkImport<'_>,
    items: S,
    on_outcome: impl FnMut(ItemOutcome) + Send,
) -> Result<BulkSummary, Error>
where
    S: Stream<Item = NewItem> + Send,
{
    let import = &import;
    let clock = import.client.inner.clock.clone();
    let started = clock.now();
    let events = |event: CallEvent| match event {
        CallEvent::Waiting {
            wait,
            until,
            reason,
        } => import.emit(BulkEvent::Waiting {
            wait,
            until,
            reason,
        }),
        CallEvent::Throttled { retry_after } => import.emit(BulkEvent::Throttled { retry_after }),
    };
    let events: &(dyn Fn(CallEvent) + Send + Sync) = &events;
    let mut items = std::pin::pin!(items);
    let mut cancelled = std::pin::pin!(import.cancel.cancelled());
    let mut in_flight: FuturesUnordered<BoxFuture<'_, ChunkDone>> = FuturesUnordered::new();
    let mut side: Option<BoxFuture<'_, SideDone>> = None;
    let mut pause: Option<crate::time::Sleep> = None;
    let mut state = State::new(import, on_outcome);

    loop {
        if let Some(wait) = state.pause_for.take() {
            pause = Some(clock.sleep(wait));
            state.paused = true;
        }
        // Start what can be started.
        if state.may_send() {
            let slots = if import.client.limiter().is_calibrated() {
                import.concurrency
            } else {
                1
            };
            while in_flight.len() < slots {
                let Some(chunk) = state.next_chunk() else {
                    break;
                };
                in_flight.push(send_chunk(import, events, chunk));
            }
        }
        if side.is_none() {
            if let Some(locale) = state.index_wanted() {
                side = Some(index_locale(import, events, locale));
            } else if !state.lost.is_empty() && in_flight.is_empty() {
                // Every other create has answered: settle the lost ones.
                let lost = std::mem::take(&mut state.lost);
                if state.stopping() {
                    state.report_lost_unknown(lost);
                } else {
                    let count = lost.iter().map(|l| l.chunk.entries.len()).sum();
                    import.emit(BulkEvent::Settling { items: count });
                    state.settling = true;
                    side = Some(Box::pin(
                        settle::settle(import, events, lost).map(SideDone::Settled),
                    ));
                }
            }
        }
        if state.stopping() {
            state.give_up_unsent();
        }
        state.report_progress();
        if in_flight.is_empty() && side.is_none() && state.finished() {
            break;
        }

        let want_input = state.wants_input(in_flight.len());
        let step = std::future::poll_fn(|cx| {
            if !state.cancelled && cancelled.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Step::Cancelled);
            }
            if let Poll::Ready(Some(done)) = in_flight.poll_next_unpin(cx) {
                return Poll::Ready(Step::ChunkDone(done));
            }
            if let Some(sleep) = pause.as_mut()
                && sleep.as_mut().poll(cx).is_ready()
            {
                return Poll::Ready(Step::Resume);
            }
            if let Some(future) = side.as_mut()
                && let Poll::Ready(done) = future.as_mut().poll(cx)
            {
                return Poll::Ready(Step::Side(done));
            }
            if want_input && let Poll::Ready(item) = items.as_mut().poll_next(cx) {
                return Poll::Ready(Step::Item(item));
            }
            Poll::Pending
        })
        .await;
        match step {
            Step::Cancelled => {
                state.cancelled = true;
                state.summary.end = ImportEnd::Cancelled;
            }
            Step::Resume => {
                pause = None;
                state.paused = false;
            }
            Step::Item(Some(item)) => state.pulled(item),
            Step::Item(None) => state.input_done = true,
            Step::ChunkDone(done) => state.chunk_done(done),
            Step::Side(done) => {
                side = None;
                state.side_done(done);
            }
        }
    }

    let mut summary = state.summary;
    summary.requests = summary.create_requests + summary.list_requests;
    summary.elapsed = clock.now().saturating_duration_since(started);
    Ok(summary)
}

/// Sends one chunk through the one request path, with the import's retry policy and
/// cancellation.
fn send_chunk<'a>(
    import: &'a BulkImport<'a>,
    events: &'a (dyn Fn(CallEvent) + Send + Sync),
    chunk: Chunk,
) -> BoxFuture<'a, ChunkDone> {
    Box::pin(async move {
        let items = chunk.entries.iter().map(|e| e.item.clone()).collect();
        let request = CreateChunk::new(
            import.collection_id.clone(),
            items,
            import.skip_invalid_files,
        );
        let outcome = import.client.call(&request, options(import, events)).await;
        ChunkDone { chunk, outcome }
    })
}

/// The call options of every request of the import.
pub(super) fn options<'a>(
    import: &'a BulkImport<'a>,
    events: &'a (dyn Fn(CallEvent) + Send + Sync),
) -> CallOptions<'a> {
    CallOptions {
        retry: Some(import.retry_policy_in_use()),
        cancel: Some(&import.cancel),
        events: Some(events),
    }
}

fn index_locale<'a>(
    import: &'a BulkImport<'a>,
    events: &'a (dyn Fn(CallEvent) + Send + Sync),
    locale: Option<String>,
) -> BoxFuture<'a, SideDone> {
    Box::pin(async move {
        let (outcome, list_requests, throttled) =
            settle::index_existing(import, events, locale.as_deref()).await;
        SideDone::Indexed {
            locale,
            outcome,
            list_requests,
            throttled,
        }
    })
}

/// Everything the loop keeps between steps.
struct State<'a, F> {
    import: &'a BulkImport<'a>,
    on_outcome: F,
    summary: BulkSummary,
    progress_reported: u64,
    next_index: u64,
    input_done: bool,
    cancelled: bool,
    /// The error that stopped the import (401, 403, 404, or a failed index).
    stopped: Option<Arc<Error>>,
    /// Items pulled, waiting to fill a request.
    filling: Vec<Entry>,
    /// Requests to send before fresh input: bisected halves, resent absent items.
    queue: VecDeque<Chunk>,
    /// Requests whose outcome is unknown, waiting to be settled.
    lost: Vec<Lost>,
    /// Slugs already in the collection, per locale (`skip_existing`).
    existing: HashMap<Option<String>, Existing>,
    /// An item waiting for its locale's index.
    parked: Option<Entry>,
    /// The newest `createdOn` seen in any answer.
    mark: Option<String>,
    /// A settle is running: no create starts until it ends.
    settling: bool,
    /// Waiting for the rate limiter to have slots within reach again.
    paused: bool,
    /// A pause to start.
    pause_for: Option<std::time::Duration>,
}

impl<'a, F: FnMut(ItemOutcome)> State<'a, F> {
    fn new(import: &'a BulkImport<'a>, on_outcome: F) -> Self {
        State {
            import,
            on_outcome,
            summary: BulkSummary::default(),
            progress_reported: 0,
            next_index: 0,
            input_done: false,
            cancelled: false,
            stopped: None,
            filling: Vec::new(),
            queue: VecDeque::new(),
            lost: Vec::new(),
            existing: HashMap::new(),
            parked: None,
            mark: None,
            settling: false,
            paused: false,
            pause_for: None,
        }
    }

    fn stopping(&self) -> bool {
        self.cancelled || self.stopped.is_some()
    }

    /// New creates may start: not stopping, and nothing waits to be settled (a settle scan
    /// is cheap only while no other create adds newer items).
    fn may_send(&self) -> bool {
        !self.stopping() && self.lost.is_empty() && !self.settling && !self.paused
    }

    /// The next request to send: queued ones first, then a full (or the last) batch of
    /// pulled items.
    fn next_chunk(&mut self) -> Option<Chunk> {
        if let Some(mut chunk) = self.queue.pop_front() {
            // A resend keeps the mark of the request that first sent its items: their first
            // create, if it happened, is not older than that.
            if !chunk.resent {
                chunk.mark = self.mark.clone();
            }
            return Some(chunk);
        }
        let full = self.filling.len() >= self.import.max_items_per_request;
        let last = self.input_done && self.parked.is_none() && !self.filling.is_empty();
        (full || last).then(|| Chunk {
            entries: std::mem::take(&mut self.filling),
            resent: false,
            mark: self.mark.clone(),
        })
    }

    /// Whether to pull the next item: only when it could go out soon.
    fn wants_input(&self, in_flight: usize) -> bool {
        !self.input_done
            && self.may_send()
            && self.parked.is_none()
            && self.queue.is_empty()
            && self.filling.len() < self.import.max_items_per_request
            && in_flight < self.import.concurrency
    }

    /// A locale whose slugs must be indexed before the parked item can go on.
    fn index_wanted(&self) -> Option<Option<String>> {
        let parked = self.parked.as_ref()?;
        let locale = parked.locale().map(str::to_owned);
        (!self.existing.contains_key(&locale) && !self.stopping()).then_some(locale)
    }

    fn finished(&self) -> bool {
        (self.input_done || self.stopping())
            && self.filling.is_empty()
            && self.queue.is_empty()
            && self.lost.is_empty()
            && self.parked.is_none()
    }

    fn pulled(&mut self, item: NewItem) {
        let entry = Entry {
            index: self.next_index,
            item,
        };
        self.next_index += 1;
        self.summary.total += 1;
        if let Err(error) = validate_item(&entry.item) {
            self.report(entry.outcome(ItemResult::Failed {
                error: Arc::new(error),
            }));
            return;
        }
        if self.import.skip_existing {
            self.parked = Some(entry);
            self.unpark();
        } else {
            self.filling.push(entry);
        }
    }

    /// Moves the parked item on if its locale is indexed: skipped if its slug exists.
    fn unpark(&mut self) {
        let Some(entry) = self.parked.take() else {
            return;
        };
        let locale = entry.locale().map(str::to_owned);
        let Some(existing) = self.existing.get(&locale) else {
            self.parked = Some(entry);
            return;
        };
        match existing.id_of(entry.slug()) {
            Some(id) => {
                let id = id.to_owned();
                self.report(entry.outcome(ItemResult::Skipped { id }));
            }
            None => self.filling.push(entry),
        }
    }

    fn chunk_done(&mut self, done: ChunkDone) {
        let ChunkDone { chunk, outcome } = done;
        self.summary.create_requests += u64::from(outcome.requests);
        self.summary.throttled += u64::from(outcome.throttled);
        let error = match outcome.result {
            Ok(created) => return self.created(chunk, created),
            Err(CallError::Cancelled(None)) => {
                return self.report_all(chunk, || ItemResult::NotAttempted);
            }
            Err(CallError::Cancelled(Some(error))) if error.disposition().is_retryable() => {
                return self.report_all(chunk, || ItemResult::NotAttempted);
            }
            Err(CallError::Failed(error))
                if outcome.requests == outcome.throttled
                    && !self.stopping()
                    && self.wait_for_slots(&error) =>
            {
                // Nothing took effect (nothing was sent, or only 429s came back) and the rate
                // limiter's slots were further out than a call may wait (other requests
                // queued, or a 429's hold). Send it later.
                self.queue.push_front(chunk);
                return;
            }
            Err(CallError::Cancelled(Some(error)) | CallError::Failed(error)) => error,
        };
        self.failed(chunk, error);
    }

    /// For a request refused by the rate limiter (or a 429) with nothing taken effect: pauses
    /// new requests until slots are within reach again, unless the wait needed is longer
    /// than a call's overall deadline (then the refusal stands: the items fail, retryable).
    fn wait_for_slots(&mut self, error: &Error) -> bool {
        let Error::RateLimited(limited) = error else {
            return false;
        };
        let (Some(needed), Some(allowed)) = (limited.retry_after, limited.allowed_wait) else {
            return false;
        };
        if needed > self.import.client.timeouts().overall {
            return false;
        }
        let wait = needed
            .saturating_sub(allowed)
            .max(std::time::Duration::from_millis(10));
        self.pause_for = Some(self.pause_for.map_or(wait, |other| other.max(wait)));
        true
    }

    fn created(&mut self, chunk: Chunk, created: Vec<CollectionItem>) {
        if created.len() != chunk.entries.len() {
            // The answer does not say which item is which: settle them like a lost answer.
            let error = answer_mismatch(chunk.entries.len(), created.len());
            return self.failed(chunk, error);
        }
        for (entry, item) in chunk.entries.into_iter().zip(created) {
            self.note_created_on(&item.created_on);
            let stored_slug = (item.field_data.slug != entry.item.field_data.slug)
                .then_some(item.field_data.slug);
            self.report(entry.outcome(ItemResult::Created {
                id: item.id,
                settled: false,
                stored_slug,
            }));
        }
    }

    fn failed(&mut self, chunk: Chunk, error: Error) {
        if chunk.resent
            && self.import.settle.enabled
            && !self.stopping()
            && settle::refused_for_taken_slugs(&error)
        {
            // Sent again after a lookup found its items absent, now refused because their
            // slugs exist: the first create became visible late. Look them up again (a
            // resent item is never sent a third time).
            let error = Arc::new(error);
            self.import.emit(BulkEvent::ChunkFailed {
                first_index: chunk.first_index(),
                items: chunk.entries.len(),
                error: error.clone(),
            });
            self.lost.push(Lost { chunk, error });
            return;
        }
        let status = error.status().map(|s| s.as_u16());
        let (first_index, items) = (chunk.first_index(), chunk.entries.len());
        let validation = matches!(status, Some(400 | 422));
        if validation && self.import.bisect_invalid && items > 1 && !self.stopping() {
            self.import
                .emit(BulkEvent::Bisecting { first_index, items });
            let mut first = chunk.entries;
            let second = first.split_off(items / 2);
            for half in [second, first] {
                self.queue.push_front(Chunk {
                    entries: half,
                    resent: chunk.resent,
                    mark: None,
                });
            }
            return;
        }
        let disposition = error.disposition();
        let error = Arc::new(error);
        self.import.emit(BulkEvent::ChunkFailed {
            first_index,
            items,
            error: error.clone(),
        });
        if disposition.may_have_taken_effect() {
            if self.import.settle.enabled && !self.stopping() {
                self.lost.push(Lost { chunk, error });
            } else {
                self.report_all(chunk, || ItemResult::Unknown {
                    error: error.clone(),
                });
            }
            return;
        }
        if matches!(status, Some(401 | 403 | 404)) && self.stopped.is_none() {
            self.stopped = Some(error.clone());
            self.summary.end = ImportEnd::Stopped;
            self.import.emit(BulkEvent::Stopped {
                error: error.clone(),
            });
        }
        debug_assert!(disposition != Disposition::Succeeded);
        self.report_all(chunk, || ItemResult::Failed {
            error: error.clone(),
        });
    }

    fn side_done(&mut self, done: SideDone) {
        match done {
            SideDone::Settled(result) => self.settled(result),
            SideDone::Indexed {
                locale,
                outcome,
                list_requests,
                throttled,
            } => {
                self.summary.list_requests += list_requests;
                self.summary.throttled += throttled;
                match outcome {
                    Ok(existing) => {
                        self.import.emit(BulkEvent::Indexed {
                            items: existing.len() as u64,
                            list_requests,
                        });
                        if let Some(newest) = existing.newest_created_on() {
                            self.note_created_on(newest);
                        }
                        self.existing.insert(locale, existing);
                        self.unpark();
                    }
                    Err(error) => {
                        if !self.cancelled {
                            self.summary.end = ImportEnd::Stopped;
                            self.import.emit(BulkEvent::Stopped {
                                error: error.clone(),
                            });
                        }
                        self.stopped.get_or_insert(error);
                    }
                }
            }
        }
    }

    fn settled(&mut self, result: SettleResult) {
        self.settling = false;
        self.summary.list_requests += result.list_requests;
        self.summary.throttled += result.throttled;
        self.import.emit(BulkEvent::Settled {
            found: result.found.len(),
            absent: result.absent.len(),
            unknown: result.unknown.len(),
            list_requests: result.list_requests,
        });
        for found in result.found {
            self.note_created_on(&found.created_on);
            self.summary.settled += 1;
            self.report(found.entry.outcome(ItemResult::Created {
                id: found.id,
                settled: true,
                stored_slug: found.stored_slug,
            }));
        }
        let resend = self.import.settle.resend_absent && !self.stopping();
        let mut again = Vec::new();
        let mut floor: Option<Option<String>> = None;
        for absent in result.absent {
            if resend && !absent.resent {
                // The earliest first-send mark of the items resent together (none if any
                // had none).
                floor = Some(match (floor, absent.mark) {
                    (None, mark) => mark,
                    (Some(Some(a)), Some(b)) => Some(if settle::is_older(&b, &a) { b } else { a }),
                    _ => None,
                });
                again.push(absent.entry);
            } else {
                self.report(absent.entry.outcome(ItemResult::Unknown {
                    error: absent.error,
                }));
            }
        }
        let mut again = again.into_iter().peekable();
        while again.peek().is_some() {
            let entries: Vec<Entry> = again
                .by_ref()
                .take(self.import.max_items_per_request)
                .collect();
            self.queue.push_back(Chunk {
                entries,
                resent: true,
                mark: floor.clone().flatten(),
            });
        }
        for (entry, error) in result.unknown {
            self.report(entry.outcome(ItemResult::Unknown { error }));
        }
    }

    fn note_created_on(&mut self, created_on: &str) {
        if settle::is_newer(created_on, self.mark.as_deref()) {
            self.mark = Some(created_on.to_owned());
        }
    }

    /// Stopping: everything pulled and not sent is not attempted; lost requests are
    /// reported unknown (their lookups would be cancelled or fail the same way).
    fn give_up_unsent(&mut self) {
        let filling = std::mem::take(&mut self.filling);
        let queued: Vec<Entry> = self.queue.drain(..).flat_map(|c| c.entries).collect();
        for entry in filling.into_iter().chain(queued).chain(self.parked.take()) {
            self.report(entry.outcome(ItemResult::NotAttempted));
        }
    }

    fn report_lost_unknown(&mut self, lost: Vec<Lost>) {
        for Lost { chunk, error } in lost {
            self.report_all(chunk, || ItemResult::Unknown {
                error: error.clone(),
            });
        }
    }

    fn report_all(&mut self, chunk: Chunk, result: impl Fn() -> ItemResult) {
        for entry in chunk.entries {
            self.report(entry.outcome(result()));
        }
    }

    fn report(&mut self, outcome: ItemOutcome) {
        let summary = &mut self.summary;
        match &outcome.result {
            ItemResult::Created { stored_slug, .. } => {
                summary.created += 1;
                if stored_slug.is_some() {
                    summary.renamed += 1;
                }
            }
            ItemResult::Skipped { .. } => summary.skipped += 1,
            ItemResult::Failed { .. } => summary.failed += 1,
            ItemResult::Unknown { .. } => summary.unknown += 1,
            ItemResult::NotAttempted => summary.not_attempted += 1,
        }
        (self.on_outcome)(outcome);
    }

    fn report_progress(&mut self) {
        let s = &self.summary;
        let done = s.created + s.skipped + s.failed + s.unknown + s.not_attempted;
        if done == self.progress_reported {
            return;
        }
        self.progress_reported = done;
        self.import.emit(BulkEvent::Progress(BulkProgress {
            done,
            total: self.import.total,
            created: s.created,
            skipped: s.skipped,
            failed: s.failed,
            unknown: s.unknown,
            requests: s.create_requests + s.list_requests,
            throttled: s.throttled,
        }));
    }
}
