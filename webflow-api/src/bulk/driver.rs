//! The import's loop: pulls items (checked against the schema by `prepare.rs` when asked),
//! refuses a slug the input already holds, decides what each item needs (create, update,
//! nothing — from the index for `skip_existing` and a sync), packs creates and updates into
//! requests, keeps up to `concurrency` requests in flight (polled while the input is
//! pulled), pairs each answer with the items sent, hands creates whose outcome is unknown to
//! settling (`settle.rs`), and prunes last, when nothing forbids it. What a failed request
//! means comes from the error ([`Error`]'s classification methods), never from status
//! numbers here.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use futures_util::FutureExt;
use futures_util::stream::{FuturesUnordered, Stream, StreamExt};

use super::entry::{Chunk, Entry, Mark};
use super::index::{CollectionIndex, InIndex};
use super::locale::Locales;
use super::prepare::{self, Prepared, Preparer};
use super::seen::SeenSlugs;
use super::settle::{self, Knowledge, Lost, SettleResult, Settled};
use super::{
    BulkEvent, BulkImport, BulkProgress, BulkSummary, FieldProblem, ImportEnd, ItemOutcome,
    ItemResult, Prune, PrunedItem,
};
use crate::create::{CreateChunk, answer_mismatch, validate_item};
use crate::error::SlugTakenError;
use crate::item::match_created;
use crate::request::{CallError, CallEvent, CallOutcome};
use crate::types::{CollectionItem, NewItem, UpdateItem};
use crate::{Error, Timeouts};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

struct ChunkDone {
    chunk: Chunk,
    outcome: CallOutcome<Vec<CollectionItem>>,
}

/// One item a sync updates.
struct UpdateEntry {
    index: u64,
    slug: String,
    update: UpdateItem,
    fields: Vec<String>,
    /// Sent again after a refusal that named other items.
    again: bool,
}

impl UpdateEntry {
    fn outcome(self, result: ItemResult) -> ItemOutcome {
        ItemOutcome {
            index: self.index,
            slug: self.slug,
            result,
        }
    }
}

/// A request of a sync that is not a create.
enum Work {
    Update(Vec<UpdateEntry>),
    Prune(Vec<PrunedItem>),
}

/// A request that answered.
enum Done {
    Create(ChunkDone),
    Update(Vec<UpdateEntry>, CallOutcome<Vec<CollectionItem>>),
    Prune(Vec<PrunedItem>, CallOutcome<()>),
}

/// An input item, once prepared.
enum Pulled {
    Ready(NewItem),
    Invalid(NewItem, Vec<FieldProblem>),
    /// Preparing it failed (a reference lookup): the import stops.
    Failed(Arc<Error>),
}

/// Where a prune stands.
#[derive(PartialEq)]
enum PruneStage {
    /// Not asked for, or decided.
    Settled,
    /// Asked for, to decide once everything else is done.
    Pending,
}

/// Work beside the creates, one at a time, holding the import's knowledge while it runs:
/// settling lost requests, or reading the listing a parked item needs (`skip_existing`).
enum SideDone {
    Settled(SettleResult),
    Indexed {
        knowledge: Knowledge,
        outcome: Result<(), Arc<Error>>,
        list_requests: u64,
        throttled: u64,
    },
}

/// What woke the loop.
enum Step {
    Cancelled,
    /// A pause for the rate limiter ended.
    Resume,
    Item(Option<(Pulled, u64, u64)>),
    Done(Done),
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
    let mut state = State::new(import, on_outcome);
    let preparer = if import.needs_schema() {
        let outcome = import
            .client
            .call(
                &import.client.collection(import.collection_id.clone()),
                import.call_options(events),
            )
            .await;
        state.summary.list_requests += u64::from(outcome.requests);
        state.summary.throttled += u64::from(outcome.throttled);
        match outcome.result {
            Ok(collection) => Some(Preparer::new(collection)),
            Err(error) => {
                state.stop(Arc::new(Error::from(error)));
                None
            }
        }
    } else {
        None
    };
    let items = prepared(import, events, items, preparer);
    let mut items = std::pin::pin!(items);
    let mut cancelled = std::pin::pin!(import.cancel.cancelled());
    let mut in_flight: FuturesUnordered<BoxFuture<'_, Done>> = FuturesUnordered::new();
    let mut side: Option<BoxFuture<'_, SideDone>> = None;
    let mut pause: Option<crate::time::Sleep> = None;

    loop {
        if let Some(wait) = state.pause_for.take() {
            pause = Some(clock.sleep(wait));
            state.paused = true;
        }
        if in_flight.is_empty() && side.is_none() {
            state.decide_prune();
        }
        // Start what can be started.
        if state.may_send() {
            let slots = if import.client.limiter().is_calibrated() {
                import.concurrency
            } else {
                1
            };
            while in_flight.len() < slots {
                if let Some(work) = state.next_work() {
                    in_flight.push(send_work(import, events, work));
                    continue;
                }
                let Some(mut chunk) = state.next_chunk() else {
                    break;
                };
                if chunk.mark.is_none() {
                    chunk.mark = Some(Mark {
                        sent_at: clock.now(),
                        reading: import.client.inner.last_answer().server_date,
                    });
                }
                in_flight.push(send_chunk(import, events, chunk));
            }
        }
        if side.is_none() {
            if let Some(filter) = state.listing_wanted() {
                let knowledge = state.lend_knowledge();
                side = Some(read_listing(import, events, knowledge, filter));
            } else if !state.lost.is_empty() && in_flight.is_empty() {
                // Every other create has answered: settle the lost ones.
                let lost = std::mem::take(&mut state.lost);
                if state.stopping() {
                    state.report_lost_unknown(lost);
                } else {
                    let count = lost.iter().map(|l| l.chunk.entries.len()).sum();
                    import.emit(BulkEvent::Settling { items: count });
                    state.settling = true;
                    let knowledge = state.lend_knowledge();
                    side = Some(Box::pin(
                        settle::settle(import, events, lost, knowledge).map(SideDone::Settled),
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

        let want_input = side.is_none() && state.wants_input(in_flight.len());
        if in_flight.is_empty() && side.is_none() && pause.is_none() && !want_input {
            // Nothing left that could wake the loop, yet work remains: a bug. Never hang on
            // it: stop, reporting what was not sent.
            debug_assert!(false, "the import loop would wait for nothing");
            state.stop(Arc::new(Error::InvalidInput(
                "the import stopped: it had work left but nothing to wait for (a bug in \
                 webflow-api: please report it)"
                    .into(),
            )));
            continue;
        }
        let step = std::future::poll_fn(|cx| {
            if !state.cancelled && cancelled.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Step::Cancelled);
            }
            if let Poll::Ready(Some(done)) = in_flight.poll_next_unpin(cx) {
                return Poll::Ready(Step::Done(done));
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
            Step::Item(Some((pulled, list_requests, throttled))) => {
                state.summary.list_requests += list_requests;
                state.summary.throttled += throttled;
                state.pulled(pulled);
            }
            Step::Item(None) => state.input_done = true,
            Step::Done(Done::Create(done)) => state.chunk_done(done),
            Step::Done(Done::Update(entries, outcome)) => state.update_done(entries, outcome),
            Step::Done(Done::Prune(items, outcome)) => state.prune_done(items, outcome),
            Step::Side(done) => {
                side = None;
                state.side_done(done);
            }
        }
    }

    let mut summary = state.summary;
    summary.requests = summary.create_requests
        + summary.list_requests
        + summary.update_requests
        + summary.prune_requests;
    summary.elapsed = clock.now().saturating_duration_since(started);
    Ok(summary)
}

/// Sends one chunk through the one request path, with the import's retry policy and
/// cancellation.
fn send_chunk<'a>(
    import: &'a BulkImport<'a>,
    events: &'a (dyn Fn(CallEvent) + Send + Sync),
    chunk: Chunk,
) -> BoxFuture<'a, Done> {
    Box::pin(async move {
        let items = chunk.entries.iter().map(|e| e.item.clone()).collect();
        let request = CreateChunk::new(
            import.collection_id.clone(),
            items,
            import.skip_invalid_files,
        );
        let outcome = import
            .client
            .call(&request, import.call_options(events))
            .await;
        Done::Create(ChunkDone { chunk, outcome })
    })
}

/// Sends one update or prune request through the one request path.
fn send_work<'a>(
    import: &'a BulkImport<'a>,
    events: &'a (dyn Fn(CallEvent) + Send + Sync),
    work: Work,
) -> BoxFuture<'a, Done> {
    let client = import.client;
    let collection = import.collection_id.clone();
    Box::pin(async move {
        match work {
            Work::Update(entries) => {
                let updates = entries.iter().map(|e| e.update.clone());
                let mut request = client.update_live_items(collection, updates);
                if let Some(skip) = import.skip_invalid_files {
                    request = request.skip_invalid_files(skip);
                }
                let outcome = client.call(&request, import.call_options(events)).await;
                Done::Update(entries, outcome)
            }
            Work::Prune(items) => {
                let ids = items.iter().map(|item| item.id.clone());
                let locales: Vec<String> = items[0].locale.iter().cloned().collect();
                let outcome = match import.prune {
                    Some(Prune::Delete) => {
                        let request = client.delete_items(collection, ids).locales(locales);
                        client.call(&request, import.call_options(events)).await
                    }
                    _ => {
                        let request = client
                            .unpublish_live_items(collection, ids)
                            .locales(locales);
                        client.call(&request, import.call_options(events)).await
                    }
                };
                Done::Prune(items, outcome)
            }
        }
    })
}

/// The input, each item checked and written as Webflow takes it when there is a schema;
/// each with the read requests and 429s its preparation took.
fn prepared<'a, S>(
    import: &'a BulkImport<'a>,
    events: &'a (dyn Fn(CallEvent) + Send + Sync),
    items: S,
    preparer: Option<Preparer>,
) -> impl Stream<Item = (Pulled, u64, u64)> + Send + 'a
where
    S: Stream<Item = NewItem> + Send + 'a,
{
    futures_util::stream::unfold(
        (Box::pin(items), preparer),
        move |(mut items, mut preparer)| async move {
            let item = items.next().await?;
            let Some(preparing) = preparer.as_mut() else {
                return Some(((Pulled::Ready(item), 0, 0), (items, preparer)));
            };
            let before = (preparing.list_requests, preparing.throttled);
            let pulled = match preparing.prepare(import, events, item).await {
                Ok(Prepared::Ready(item)) => Pulled::Ready(item),
                Ok(Prepared::Invalid(item, problems)) => Pulled::Invalid(item, problems),
                Err(error) => Pulled::Failed(error),
            };
            let requests = preparing.list_requests - before.0;
            let throttled = preparing.throttled - before.1;
            Some(((pulled, requests, throttled), (items, preparer)))
        },
    )
}

fn read_listing<'a>(
    import: &'a BulkImport<'a>,
    events: &'a (dyn Fn(CallEvent) + Send + Sync),
    mut knowledge: Knowledge,
    filter: Option<String>,
) -> BoxFuture<'a, SideDone> {
    Box::pin(async move {
        let (outcome, list_requests, throttled) =
            super::index::read_listing(import, events, &mut knowledge.index, filter.as_deref())
                .await;
        SideDone::Indexed {
            knowledge,
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
    /// Requests to send before fresh input: split or bisected requests, resent items.
    queue: VecDeque<Chunk>,
    /// Requests whose outcome is unknown, waiting to be settled.
    lost: Vec<Lost>,
    /// What the import knows; `None` while a side task holds it.
    knowledge: Option<Knowledge>,
    /// An item waiting for the listing its locale needs (`skip_existing`).
    parked: Option<Entry>,
    /// A settle is running: no create starts until it ends.
    settling: bool,
    /// Waiting for the rate limiter to have slots within reach again.
    paused: bool,
    /// A pause to start.
    pause_for: Option<std::time::Duration>,
    /// Items a sync updates, waiting to fill a request.
    updating: Vec<UpdateEntry>,
    /// Updates and prunes to send.
    work: VecDeque<Work>,
    /// The locales the input holds (a prune stays within them).
    source_locales: std::collections::BTreeSet<Option<String>>,
    prune_stage: PruneStage,
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
            knowledge: Some(Knowledge {
                index: CollectionIndex::new(import.update),
                locales: Locales::new(import.primary_locale.clone()),
                seen: SeenSlugs::with_capacity(import.total.unwrap_or(0)),
                first_reading: None,
            }),
            parked: None,
            settling: false,
            paused: false,
            pause_for: None,
            updating: Vec::new(),
            work: VecDeque::new(),
            source_locales: std::collections::BTreeSet::new(),
            prune_stage: if import.prune.is_some() {
                PruneStage::Pending
            } else {
                PruneStage::Settled
            },
        }
    }

    fn knowledge(&mut self) -> &mut Knowledge {
        self.knowledge
            .as_mut()
            .expect("the knowledge is lent only while no item moves")
    }

    fn lend_knowledge(&mut self) -> Knowledge {
        self.knowledge
            .take()
            .expect("one side task at a time holds the knowledge")
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
        if let Some(chunk) = self.queue.pop_front() {
            return Some(chunk);
        }
        let full = self.filling.len() >= self.import.max_items_per_request;
        let last = self.input_done && self.parked.is_none() && !self.filling.is_empty();
        (full || last).then(|| Chunk::new(std::mem::take(&mut self.filling)))
    }

    /// The next update or prune request: queued ones, then a full (or the last) batch of
    /// updates.
    fn next_work(&mut self) -> Option<Work> {
        if let Some(work) = self.work.pop_front() {
            return Some(work);
        }
        let full = self.updating.len() >= self.import.max_items_per_request;
        let last = self.input_done && self.parked.is_none() && !self.updating.is_empty();
        (full || last).then(|| Work::Update(std::mem::take(&mut self.updating)))
    }

    /// Whether to pull the next item: only when it could go out soon.
    fn wants_input(&self, in_flight: usize) -> bool {
        !self.input_done
            && self.may_send()
            && self.knowledge.is_some()
            && self.parked.is_none()
            && self.queue.is_empty()
            && self.work.is_empty()
            && self.filling.len() < self.import.max_items_per_request
            && self.updating.len() < self.import.max_items_per_request
            && in_flight < self.import.concurrency
    }

    /// The listing the parked item needs, if not read yet.
    fn listing_wanted(&self) -> Option<Option<String>> {
        let parked = self.parked.as_ref()?;
        let knowledge = self.knowledge.as_ref()?;
        (!knowledge.index.covers(parked.locale()) && !self.stopping())
            .then(|| parked.locale().map(str::to_owned))
    }

    fn finished(&self) -> bool {
        (self.input_done || self.stopping())
            && self.filling.is_empty()
            && self.queue.is_empty()
            && self.lost.is_empty()
            && self.parked.is_none()
            && self.updating.is_empty()
            && self.work.is_empty()
            && self.prune_stage == PruneStage::Settled
    }

    fn pulled(&mut self, pulled: Pulled) {
        let (item, problems) = match pulled {
            Pulled::Ready(item) => (item, None),
            Pulled::Invalid(item, problems) => (item, Some(problems)),
            Pulled::Failed(error) => return self.stop(error),
        };
        let entry = Entry::new(self.next_index, item);
        self.next_index += 1;
        self.summary.total += 1;
        if let Err(error) = validate_item(&entry.item) {
            return self.report(entry.outcome(ItemResult::Failed {
                error: Arc::new(error),
            }));
        }
        self.source_locales
            .insert(entry.locale().map(str::to_owned));
        let first = self
            .knowledge()
            .seen
            .insert(entry.locale(), entry.slug(), entry.index);
        if let Some(first_index) = first {
            return self.report(entry.outcome(ItemResult::Duplicate { first_index }));
        }
        if let Some(problems) = problems {
            return self.report(entry.outcome(prepare::invalid(problems)));
        }
        if self.import.needs_index() {
            self.parked = Some(entry);
            self.unpark();
        } else if self.import.dry_run {
            self.report(entry.outcome(ItemResult::WouldCreate));
        } else {
            self.filling.push(entry);
        }
    }

    /// Moves the parked item on once its locale's listing is read: skipped if its slug
    /// exists there.
    fn unpark(&mut self) {
        let Some(entry) = self.parked.take() else {
            return;
        };
        let Some(knowledge) = self.knowledge.as_mut() else {
            self.parked = Some(entry);
            return;
        };
        if !knowledge.index.covers(entry.locale()) {
            self.parked = Some(entry);
            return;
        }
        if entry.locale().is_none()
            && let Some(locales) = knowledge.index.unfiltered_locales().cloned()
            && let Err(several) = knowledge.locales.listed(&locales)
        {
            self.parked = Some(entry);
            return self.stop(Arc::new(Error::InvalidInput(format!(
                "the collection holds items of several locales ({}) and none without one; a \
                 line without cmsLocaleId is created in the site's primary locale, which this \
                 import cannot tell: give its cmsLocaleId (BulkImport::primary_locale, or \
                 webflow-import --primary-locale) so that existing items are recognised",
                several.join(", ")
            ))));
        }
        let decision = match knowledge
            .index
            .find(&knowledge.locales, entry.locale(), entry.slug())
        {
            InIndex::Found(found) => Some(decide(self.import, &entry, &found)),
            InIndex::Absent | InIndex::Undecided => None,
        };
        match decision {
            Some(Decision::Report(result)) => self.report(entry.outcome(result)),
            Some(Decision::Update(update, fields)) => self.updating.push(UpdateEntry {
                index: entry.index,
                slug: entry.item.field_data.slug,
                update,
                fields,
                again: false,
            }),
            None if self.import.dry_run => self.report(entry.outcome(ItemResult::WouldCreate)),
            None => self.filling.push(entry),
        }
    }

    /// A sync's update answered.
    fn update_done(
        &mut self,
        entries: Vec<UpdateEntry>,
        outcome: CallOutcome<Vec<CollectionItem>>,
    ) {
        self.summary.update_requests += u64::from(outcome.requests);
        self.summary.throttled += u64::from(outcome.throttled);
        let error = match outcome.result {
            Ok(_) => {
                for entry in entries {
                    let id = entry.update.id.clone();
                    let fields = entry.fields.clone();
                    self.summary.updated += 1;
                    self.report(entry.outcome(ItemResult::Updated { id, fields }));
                }
                return;
            }
            Err(CallError::Cancelled(None)) => {
                return self.report_updates(entries, || ItemResult::NotAttempted);
            }
            Err(CallError::Cancelled(Some(error)) | CallError::Failed(error)) => error,
        };
        let count = entries.len();
        let named: std::collections::BTreeMap<usize, Vec<serde_json::Value>> =
            error.item_details().into_iter().fold(
                std::collections::BTreeMap::new(),
                |mut named, (position, detail)| {
                    named.entry(position).or_insert_with(Vec::new).push(detail);
                    named
                },
            );
        let error = Arc::new(error);
        self.import.emit(BulkEvent::ChunkFailed {
            first_index: entries.first().map_or(0, |e| e.index),
            items: count,
            error: error.clone(),
        });
        let refused_for_some =
            error.is_invalid_request() || error.is_not_found() || error.is_conflict();
        if refused_for_some && !named.is_empty() && named.keys().all(|p| *p < count) {
            // Only the items named fail; the others are sent again (once).
            let mut again = Vec::new();
            for (position, entry) in entries.into_iter().enumerate() {
                match named.get(&position) {
                    Some(details) => {
                        let own = Arc::new(error.for_item(details.clone()));
                        self.report(entry.outcome(ItemResult::Failed { error: own }));
                    }
                    None if entry.again => {
                        let error = error.clone();
                        self.report(entry.outcome(ItemResult::Failed { error }));
                    }
                    None => again.push(UpdateEntry {
                        again: true,
                        ..entry
                    }),
                }
            }
            if !again.is_empty() {
                self.work.push_front(Work::Update(again));
            }
            return;
        }
        if refused_for_some && count > 1 && !self.stopping() {
            // An update refused for an item it does not name (one deleted or unpublished
            // since the listing): halves, until the item is alone. Nothing was changed.
            let mut first = entries;
            let second = first.split_off(count / 2);
            self.work.push_front(Work::Update(second));
            self.work.push_front(Work::Update(first));
            return;
        }
        if error.affects_every_request() && !error.is_not_found() {
            self.stop(error.clone());
        }
        if error.disposition().may_have_taken_effect() {
            return self.report_updates(entries, || ItemResult::Unknown {
                error: error.clone(),
            });
        }
        self.report_updates(entries, || ItemResult::Failed {
            error: error.clone(),
        });
    }

    fn report_updates(&mut self, entries: Vec<UpdateEntry>, result: impl Fn() -> ItemResult) {
        for entry in entries {
            self.report(entry.outcome(result()));
        }
    }

    /// Once everything else is done: decides whether the prune asked for may run, and
    /// queues its requests (or, in a dry run, reports what it would take off).
    fn decide_prune(&mut self) {
        if self.prune_stage != PruneStage::Pending {
            return;
        }
        let busy = !self.filling.is_empty()
            || !self.queue.is_empty()
            || !self.lost.is_empty()
            || self.settling
            || self.parked.is_some()
            || !self.updating.is_empty()
            || !self.work.is_empty();
        if busy || !(self.input_done || self.stopping()) {
            return;
        }
        self.prune_stage = PruneStage::Settled;
        let Some(knowledge) = self.knowledge.as_ref() else {
            return;
        };
        let (candidates, in_scope) =
            prune_candidates(knowledge, &self.source_locales, self.import.prune);
        let s = &self.summary;
        let troubled = s.failed + s.invalid + s.unknown + s.not_attempted;
        let max = self.import.max_prune.unwrap_or(in_scope / 2);
        let refusal = if self.stopping() || s.end != ImportEnd::InputExhausted {
            Some(
                "the input was not read to its end (the import was cancelled or stopped)"
                    .to_owned(),
            )
        } else if troubled > 0 {
            Some(if troubled == 1 {
                "1 line failed, was invalid, unknown or not sent: a line that did not make it may be \
                 an item the source still holds"
                    .to_owned()
            } else {
                format!(
                    "{troubled} lines failed, were invalid, unknown or not sent: a line that did not \
                     make it may be an item the source still holds"
                )
            })
        } else if let Some(Err(reason)) = self.import.prune_only_if.as_ref().map(|check| check()) {
            Some(reason)
        } else if candidates.len() as u64 > max {
            Some(format!(
                "it would take {} of the collection's {in_scope} items off the site, more than the \
                 {max} allowed (max_prune, --max-prune; by default half): check the source, or \
                 raise the limit",
                candidates.len()
            ))
        } else {
            None
        };
        if let Some(reason) = refusal {
            self.summary.prune_refused = Some(reason.clone());
            self.import.emit(BulkEvent::PruneRefused { reason });
            return;
        }
        if self.import.dry_run {
            self.summary.would_prune += candidates.len() as u64;
            self.record_pruned(candidates);
            return;
        }
        let mut by_locale: std::collections::BTreeMap<Option<String>, Vec<PrunedItem>> =
            std::collections::BTreeMap::new();
        for item in candidates {
            by_locale.entry(item.locale.clone()).or_default().push(item);
        }
        for (_, items) in by_locale {
            for chunk in items.chunks(self.import.max_items_per_request) {
                self.work.push_back(Work::Prune(chunk.to_vec()));
            }
        }
    }

    fn prune_done(&mut self, items: Vec<PrunedItem>, outcome: CallOutcome<()>) {
        self.summary.prune_requests += u64::from(outcome.requests);
        self.summary.throttled += u64::from(outcome.throttled);
        match outcome.result {
            Ok(()) => {
                self.summary.pruned += items.len() as u64;
                self.record_pruned(items);
            }
            Err(error) => {
                let error = Arc::new(Error::from(error));
                self.summary.prune_failed += items.len() as u64;
                if error.affects_every_request() {
                    self.stop(error.clone());
                }
                self.import.emit(BulkEvent::PruneFailed { items, error });
            }
        }
    }

    fn record_pruned(&mut self, items: Vec<PrunedItem>) {
        if let Some(sink) = &self.import.pruned_sink {
            sink.lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(items.iter().cloned());
        }
        self.import.emit(BulkEvent::Pruned { items });
    }

    fn stop(&mut self, error: Arc<Error>) {
        // A call that ends after the cancel was asked for — a wait cut short, a retry not
        // sent — ends the import as cancelled, whichever of the two the loop saw first.
        if !self.cancelled && self.import.cancel.is_cancelled() {
            self.cancelled = true;
            self.summary.end = ImportEnd::Cancelled;
        }
        if self.stopped.is_none() && !self.cancelled {
            self.summary.end = ImportEnd::Stopped;
            self.import.emit(BulkEvent::Stopped {
                error: error.clone(),
            });
        }
        self.stopped.get_or_insert(error);
    }

    fn chunk_done(&mut self, done: ChunkDone) {
        let ChunkDone { chunk, outcome } = done;
        self.summary.create_requests += u64::from(outcome.requests);
        self.summary.throttled += u64::from(outcome.throttled);
        if let Some(knowledge) = self.knowledge.as_mut()
            && knowledge.first_reading.is_none()
        {
            knowledge.first_reading = self.import.client.inner.last_answer().server_date;
        }
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
        let Timeouts { overall, .. } = self.import.client.timeouts();
        if needed > overall {
            return false;
        }
        let wait = needed
            .saturating_sub(allowed)
            .max(std::time::Duration::from_millis(10));
        self.pause_for = Some(self.pause_for.map_or(wait, |other| other.max(wait)));
        true
    }

    /// A create answered: its items are paired with the lines sent by slug (not by
    /// position). An answer that accounts for every line one to one is taken as it is; one
    /// that does not is not trusted for any line: the request is settled like a lost one
    /// (every line looked up), and answered items that pair with no line are reported,
    /// never given to one.
    fn created(&mut self, chunk: Chunk, created: Vec<CollectionItem>) {
        let listed = created.len();
        let created_ids: Vec<(String, String)> = created
            .iter()
            .map(|item| (item.id.clone(), item.slug().to_owned()))
            .collect();
        let matched = match_created(&chunk.entries, created);
        let paired: std::collections::HashSet<String> = matched
            .iter()
            .flatten()
            .map(|item| item.id.clone())
            .collect();
        let strays: Vec<(String, String)> = created_ids
            .into_iter()
            .filter(|(id, _)| !paired.contains(id))
            .collect();
        if !strays.is_empty() {
            self.summary.unmatched += strays.len() as u64;
            self.import.emit(BulkEvent::Unmatched { items: strays });
        }
        if listed == chunk.entries.len() && matched.iter().all(Option::is_some) {
            for (entry, item) in chunk.entries.into_iter().zip(matched) {
                if let Some(item) = item {
                    self.report_created(entry, item, false);
                }
            }
            return;
        }
        let error = Arc::new(answer_mismatch(chunk.entries.len(), listed));
        self.lose(chunk, error);
    }

    fn report_created(&mut self, entry: Entry, item: CollectionItem, settled: bool) {
        if entry.locale().is_none()
            && let Some(knowledge) = self.knowledge.as_mut()
        {
            knowledge.locales.created_without_locale(item.locale_id());
        }
        let stored_slug = (item.slug() != entry.slug()).then(|| item.slug().to_owned());
        if settled {
            self.summary.settled += 1;
        }
        self.report(entry.outcome(ItemResult::Created {
            id: item.id,
            settled,
            stored_slug,
        }));
    }

    /// A request whose outcome is unknown: to settling (or unknown when settling is off or
    /// the import stops).
    fn lose(&mut self, mut chunk: Chunk, error: Arc<Error>) {
        for entry in &mut chunk.entries {
            entry.lost = true;
        }
        self.import.emit(BulkEvent::ChunkFailed {
            first_index: chunk.first_index(),
            items: chunk.entries.len(),
            error: error.clone(),
        });
        if self.import.settle.enabled && !self.stopping() {
            self.lost.push(Lost { chunk, error });
        } else {
            self.report_all(chunk, || ItemResult::Unknown {
                error: error.clone(),
            });
        }
    }

    fn failed(&mut self, chunk: Chunk, error: Error) {
        if error.disposition().may_have_taken_effect() {
            return self.lose(chunk, Arc::new(error));
        }
        if error.is_invalid_request() && !self.stopping() {
            return self.refused(chunk, error);
        }
        let error = Arc::new(error);
        self.import.emit(BulkEvent::ChunkFailed {
            first_index: chunk.first_index(),
            items: chunk.entries.len(),
            error: error.clone(),
        });
        if error.affects_every_request() {
            self.stop(error.clone());
        }
        self.report_all(chunk, || ItemResult::Failed {
            error: error.clone(),
        });
    }

    /// A request Webflow refused for what it holds (nothing was created). Items its details
    /// name fail with their own detail — or, for an item whose earlier create was lost and
    /// whose slug is now taken, are settled (that create may have shown up late) — and the
    /// others are sent again. When the details name no item, the request is split in
    /// halves (`bisect_invalid`) or fails whole.
    fn refused(&mut self, chunk: Chunk, error: Error) {
        let items = chunk.entries.len();
        let first_index = chunk.first_index();
        let mut named: std::collections::BTreeMap<usize, Vec<serde_json::Value>> =
            std::collections::BTreeMap::new();
        for (position, detail) in error.item_details() {
            named.entry(position).or_default().push(detail);
        }
        if items == 1 && named.is_empty() {
            // A request of one item: the error is its own.
            named.insert(
                0,
                error
                    .api_error()
                    .map(|a| a.details.clone())
                    .unwrap_or_default(),
            );
        }
        let taken: std::collections::HashSet<usize> = error
            .taken_slugs()
            .into_iter()
            .filter_map(|(position, _)| position.or((items == 1).then_some(0)))
            .collect();
        if named.keys().all(|position| *position >= items) {
            named.clear();
        }
        if named.is_empty() {
            let error = Arc::new(error);
            if self.import.bisect_invalid && items > 1 {
                self.import
                    .emit(BulkEvent::Bisecting { first_index, items });
                let mut first = chunk.entries;
                let second = first.split_off(items / 2);
                for half in [second, first] {
                    self.queue.push_front(Chunk {
                        entries: half,
                        mark: chunk.mark,
                    });
                }
                return;
            }
            self.import.emit(BulkEvent::ChunkFailed {
                first_index,
                items,
                error: error.clone(),
            });
            return self.report_all(chunk, || ItemResult::Failed {
                error: error.clone(),
            });
        }
        let error = Arc::new(error);
        self.import.emit(BulkEvent::ChunkFailed {
            first_index,
            items,
            error: error.clone(),
        });
        let mut again = Vec::new();
        let mut recheck = Vec::new();
        for (position, entry) in chunk.entries.into_iter().enumerate() {
            match named.remove(&position) {
                Some(_) if taken.contains(&position) && entry.lost => recheck.push(entry),
                Some(details) => {
                    let own = Arc::new(error.for_item(details));
                    self.report(entry.outcome(ItemResult::Failed { error: own }));
                }
                None => again.push(entry),
            }
        }
        if !again.is_empty() {
            self.queue.push_front(Chunk {
                entries: again,
                mark: chunk.mark,
            });
        }
        if !recheck.is_empty() {
            // Sent before and lost, now refused as taken: the first create may have become
            // visible late. Look again (without counting this as another loss).
            self.lost.push(Lost {
                chunk: Chunk {
                    entries: recheck,
                    mark: chunk.mark,
                },
                error,
            });
        }
    }

    fn side_done(&mut self, done: SideDone) {
        match done {
            SideDone::Settled(result) => self.settled(result),
            SideDone::Indexed {
                knowledge,
                outcome,
                list_requests,
                throttled,
            } => {
                self.summary.list_requests += list_requests;
                self.summary.throttled += throttled;
                let items = knowledge.index.len() as u64;
                self.knowledge = Some(knowledge);
                match outcome {
                    Ok(()) => {
                        self.import.emit(BulkEvent::Indexed {
                            items,
                            list_requests,
                        });
                        self.unpark();
                    }
                    Err(error) => self.stop(error),
                }
            }
        }
    }

    fn settled(&mut self, result: SettleResult) {
        self.settling = false;
        self.knowledge = Some(result.knowledge);
        self.summary.list_requests += result.list_requests;
        self.summary.throttled += result.throttled;
        let (mut found, mut absent, mut taken, mut unknown) = (0, 0, 0, 0);
        let resend = self.import.settle.resend_absent && !self.stopping();
        let mut again: Vec<Entry> = Vec::new();
        let mut mark: Option<Mark> = None;
        for settled in result.settled {
            match settled {
                Settled::Found { entry, item } => {
                    found += 1;
                    self.report_created(entry, *item, true);
                }
                Settled::Absent {
                    entry,
                    error,
                    mark: sent,
                } => {
                    absent += 1;
                    if resend && !entry.resent {
                        mark = match (mark, sent) {
                            (Some(a), Some(b)) => Some(a.earlier(b)),
                            (a, b) => a.or(b),
                        };
                        again.push(Entry {
                            resent: true,
                            ..entry
                        });
                    } else {
                        self.report(entry.outcome(ItemResult::Unknown { error }));
                    }
                }
                Settled::Taken { entry, by } => {
                    taken += 1;
                    let error = Error::SlugTaken(Box::new(SlugTakenError {
                        slug: entry.slug().to_owned(),
                        locale: entry.locale().map(str::to_owned),
                        taken_by: by,
                    }));
                    self.report(entry.outcome(ItemResult::Failed {
                        error: Arc::new(error),
                    }));
                }
                Settled::Unknown { entry, error } => {
                    unknown += 1;
                    self.report(entry.outcome(ItemResult::Unknown { error }));
                }
            }
        }
        self.import.emit(BulkEvent::Settled {
            found,
            absent,
            taken,
            unknown,
            list_requests: result.list_requests,
        });
        let mut again = again.into_iter().peekable();
        while again.peek().is_some() {
            let entries: Vec<Entry> = again
                .by_ref()
                .take(self.import.max_items_per_request)
                .collect();
            self.queue.push_back(Chunk { entries, mark });
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
        let mut updates = std::mem::take(&mut self.updating);
        for work in std::mem::take(&mut self.work) {
            if let Work::Update(entries) = work {
                updates.extend(entries);
            }
        }
        self.report_updates(updates, || ItemResult::NotAttempted);
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
            ItemResult::Duplicate { .. } => {
                summary.failed += 1;
                summary.duplicates += 1;
            }
            ItemResult::Unknown { .. } => summary.unknown += 1,
            ItemResult::NotAttempted => summary.not_attempted += 1,
            ItemResult::Updated { .. } => {}
            ItemResult::Unchanged { .. } => summary.unchanged += 1,
            ItemResult::NotLive { .. } => summary.not_live += 1,
            ItemResult::Invalid { .. } => summary.invalid += 1,
            ItemResult::WouldCreate => summary.would_create += 1,
            ItemResult::WouldUpdate { .. } => summary.would_update += 1,
        }
        (self.on_outcome)(outcome);
    }

    fn report_progress(&mut self) {
        let s = &self.summary;
        let done = s.created
            + s.skipped
            + s.failed
            + s.unknown
            + s.not_attempted
            + s.updated
            + s.unchanged
            + s.not_live
            + s.invalid
            + s.would_create
            + s.would_update;
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

/// What an item found in the index needs.
enum Decision {
    Report(ItemResult),
    Update(UpdateItem, Vec<String>),
}

/// For a line whose slug the collection holds: skipped (resume), or for a sync unchanged,
/// left alone (not published), or an update of the fields that differ.
fn decide(import: &BulkImport<'_>, entry: &Entry, found: &[&super::index::Indexed]) -> Decision {
    let first = found[0];
    if !import.update {
        return Decision::Report(ItemResult::Skipped {
            id: first.id.clone(),
        });
    }
    if found.len() > 1 {
        let error = Error::InvalidInput(format!(
            "the collection holds {} items with the slug {:?} in this locale ({}); a sync cannot \
             tell which one to update: remove the extra ones",
            found.len(),
            entry.slug(),
            found
                .iter()
                .map(|f| f.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        return Decision::Report(ItemResult::Failed {
            error: Arc::new(error),
        });
    }
    if !first.live {
        return Decision::Report(ItemResult::NotLive {
            id: first.id.clone(),
        });
    }
    let Some(stored) = first.item.as_deref() else {
        return Decision::Report(ItemResult::Skipped {
            id: first.id.clone(),
        });
    };
    let mut fields = prepare::changed_fields(stored, &entry.item);
    let archive = stored.is_archived.unwrap_or(false) != entry.item.is_archived;
    if archive {
        fields.push("isArchived".to_owned());
    }
    if fields.is_empty() {
        return Decision::Report(ItemResult::Unchanged {
            id: first.id.clone(),
        });
    }
    if import.dry_run {
        return Decision::Report(ItemResult::WouldUpdate {
            id: first.id.clone(),
            fields,
        });
    }
    let mut update = prepare::update_for(stored, &entry.item, &fields);
    if archive {
        update = update.archived(entry.item.is_archived);
    }
    Decision::Update(update, fields)
}

/// The indexed items a prune takes off the site: in a locale the source holds (a line
/// without one stands for the primary locale), with a slug no line of that locale has,
/// and (to unpublish) still published; and how many indexed items are in those locales.
fn prune_candidates(
    knowledge: &Knowledge,
    source_locales: &std::collections::BTreeSet<Option<String>>,
    prune: Option<Prune>,
) -> (Vec<PrunedItem>, u64) {
    let mut candidates = Vec::new();
    let mut in_scope = 0u64;
    for item in knowledge.index.iter() {
        let stored = item.locale.as_deref();
        let lines: Vec<Option<&str>> = source_locales
            .iter()
            .map(Option::as_deref)
            .filter(|line| knowledge.locales.same(*line, stored) == Some(true))
            .collect();
        if lines.is_empty() {
            continue;
        }
        in_scope += 1;
        if knowledge.seen.contains_any(lines, &item.slug) {
            continue;
        }
        if prune == Some(Prune::Unpublish) && !item.live {
            continue;
        }
        candidates.push(PrunedItem {
            id: item.id.clone(),
            slug: item.slug.clone(),
            locale: item.locale.clone(),
        });
    }
    candidates.sort_by(|a, b| (&a.locale, &a.slug).cmp(&(&b.locale, &b.slug)));
    (candidates, in_scope)
}
