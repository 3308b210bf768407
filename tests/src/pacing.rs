//! The rate-limiter seam (issue "one short pattern per operation", item 6): a
//! [`RateLimiter`] that awaits a remote store, installed in two separately built clients —
//! as two processes using one API token would be — importing at once against one mock that
//! enforces the budget; and, through the client, `release` (a call cancelled while its slot
//! was being granted gives the slot back) and `changed` (a waiter re-asks as soon as another
//! process learns a larger budget).
//!
//! The [`Store`] stands in for Redis: every command is served by a task of its own, so the
//! limiter's future really waits for an answer from elsewhere; it spends a store latency on
//! the shared clock, then runs atomically under the store's lock, as a Lua script would, on
//! the store's own time (as a script reads Redis `TIME`). The bucket is the built-in
//! [`Pacer`](webflow_api::pacing::Pacer)'s, kept in the store for every process — the
//! remaining budget Webflow reports, refilled at its limit (2 % slower), emptied by a 429 —
//! with the pacer's rule: once the limit is known, an answer only lowers the budget, to what
//! it says is left less every slot still in flight, of any process. (With the pacer's
//! earlier rule — up or down, less the slots granted after the one answered — two processes
//! met 429s: an answer overtakes requests granted before it. The two tests at the end show
//! the built-in pacer keeping the rule within one client, both ways; both failed before.)
//!
//! Time is a `ManualClock` shared by the mock, both clients and the store — no real sleep,
//! nothing depends on the machine's speed — except in the `changed` test, whose
//! [`StoppedClock`] never moves and never ends a sleep, so that a call can be looked at
//! while it waits, and only the limiter can end the wait.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{Mutex, OwnedMutexGuard, oneshot, watch};
use webflow_api::mock::MockWebflow;
use webflow_api::pacing::{Acquire, LimiterFuture, Observation, Slot};
use webflow_api::time::{Clock, ManualClock, Sleep};
use webflow_api::{
    BulkEvent, CancellationToken, Client, ImportEnd, ItemResult, NewItem, RateLimiter, WaitReason,
};

use crate::bulk::items;
use crate::support::builder_for;

const COLLECTION: &str = MockWebflow::COLLECTION_ID;
/// A round trip to the store, on the shared clock.
const STORE_LATENCY: Duration = Duration::from_millis(5);
/// The bucket refills this much slower than the limit, as the built-in pacer's does.
const SAFETY_MARGIN: f64 = 1.02;

// ---------------------------------------------------------------------------------------
// The shared store and the limiter that talks to it
// ---------------------------------------------------------------------------------------

/// The commands a limiter sends the store (with Redis, one `EVALSHA` each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Command {
    Acquire = 0,
    Observe = 1,
    Release = 2,
}

/// The one bucket every process shares: what a Redis hash `{tokens, updated, per_minute,
/// hold_until, calibrated, granted, version}` would hold.
#[derive(Debug)]
struct Bucket {
    /// The limit it is sized and refilled for (a guess until an answer reports it).
    per_minute: u32,
    tokens: f64,
    /// When `tokens` was last brought up to date.
    updated: Option<SystemTime>,
    /// No slot before this (a 429's `Retry-After`).
    hold_until: Option<SystemTime>,
    /// Whether an answer has reported the limit.
    calibrated: bool,
    /// Slots granted so far, by every process: the latest slot's number (Redis: `INCR`).
    granted: u64,
    /// Slots granted whose answer has not been observed, nor the slot given back (Redis: a
    /// sorted set by grant time, trimmed of slots older than an attempt can last, so that a
    /// process that dies holding slots does not hold them for ever).
    in_flight: BTreeSet<u64>,
    /// Bumped whenever there is more to grant (a larger limit or budget, a slot given back):
    /// waiters re-ask early (Redis: `PUBLISH` to a channel every process subscribes to).
    version: u64,
    /// The slots given back, in order.
    released: Vec<Slot>,
}

impl Bucket {
    /// A bucket as the first process finds it: `tokens` of a guessed `per_minute`.
    fn new(per_minute: u32, tokens: f64) -> Bucket {
        Bucket {
            per_minute,
            tokens,
            updated: None,
            hold_until: None,
            calibrated: false,
            granted: 0,
            in_flight: BTreeSet::new(),
            version: 0,
            released: Vec::new(),
        }
    }

    fn per_second(&self) -> f64 {
        f64::from(self.per_minute) / 60.0 / SAFETY_MARGIN
    }

    /// Adds the tokens earned since the last update (none while the clock is behind it).
    fn refill(&mut self, now: SystemTime) {
        if let Some(elapsed) = self.updated.and_then(|at| now.duration_since(at).ok()) {
            let tokens = self.tokens + elapsed.as_secs_f64() * self.per_second();
            self.tokens = tokens.min(f64::from(self.per_minute));
        }
        if self.updated.is_none_or(|at| at < now) {
            self.updated = Some(now);
        }
    }

    /// Takes a token, or says how long until there is one.
    fn acquire(&mut self, now: SystemTime, max_wait: Duration) -> Acquire {
        self.refill(now);
        let mut wait = self
            .hold_until
            .and_then(|hold| hold.duration_since(now).ok())
            .unwrap_or_default();
        if self.tokens < 1.0 - 1e-6 {
            let refill = (1.0 - self.tokens) / self.per_second();
            wait = wait.max(Duration::from_secs_f64(refill.min(1e9)));
        }
        if wait > max_wait {
            return Acquire::Refused(wait);
        }
        if !wait.is_zero() {
            return Acquire::Wait(wait);
        }
        self.tokens -= 1.0;
        self.granted += 1;
        self.in_flight.insert(self.granted);
        Acquire::Granted(Slot(self.granted))
    }

    /// What an answer said: the limit; the remaining budget, less every slot still in flight
    /// (of any process), which only lowers the bucket once calibrated — answers come back in
    /// any order, and an early slot's request may reach Webflow after a later one's answer;
    /// a 429's hold.
    fn observe(&mut self, now: SystemTime, observation: &Observation) {
        self.refill(now);
        let (per_minute, tokens) = (self.per_minute, self.tokens);
        self.in_flight.remove(&observation.slot.0);
        let reported = observation.rate_limit.unwrap_or_default();
        let calibrating = !self.calibrated && reported.limit.is_some_and(|limit| limit > 0);
        if let Some(limit) = reported.limit.filter(|limit| *limit > 0) {
            self.per_minute = limit;
            self.calibrated = true;
        }
        let capacity = f64::from(self.per_minute);
        if let Some(remaining) = reported.remaining {
            let left = f64::from(remaining) - self.in_flight.len() as f64;
            // The first answer replaces the guess, up or down; later ones only lower it.
            if calibrating || left < self.tokens {
                self.tokens = left.max(-capacity);
            }
        }
        self.tokens = self.tokens.min(capacity);
        if observation.throttled {
            self.tokens = self.tokens.min(0.0);
        }
        if let Some(wait) = observation.retry_after.filter(|_| observation.throttled)
            && let Some(until) = now.checked_add(wait)
        {
            self.hold_until = Some(self.hold_until.map_or(until, |hold| hold.max(until)));
        }
        if self.per_minute > per_minute || self.tokens > tokens {
            self.version += 1;
        }
    }

    fn release(&mut self, slot: Slot) {
        self.in_flight.remove(&slot.0);
        self.tokens = (self.tokens + 1.0).min(f64::from(self.per_minute));
        self.released.push(slot);
        self.version += 1;
    }
}

/// An in-memory stand-in for a remote key-value store holding one [`Bucket`].
#[derive(Clone, Debug)]
struct Store {
    inner: Arc<StoreInner>,
}

#[derive(Debug)]
struct StoreInner {
    clock: Arc<dyn Clock>,
    latency: Duration,
    bucket: Mutex<Bucket>,
    /// The bucket's `version`, for subscribers.
    version: watch::Sender<u64>,
    /// Commands received so far, per [`Command`] (whether or not they have run).
    received: watch::Sender<[u64; 3]>,
    /// Per [`Command`]: a test holding one keeps those commands from running.
    gates: [Arc<Mutex<()>>; 3],
}

impl Store {
    fn new(clock: impl Clock, latency: Duration, bucket: Bucket) -> Store {
        Store {
            inner: Arc::new(StoreInner {
                clock: Arc::new(clock),
                latency,
                bucket: Mutex::new(bucket),
                version: watch::channel(0).0,
                received: watch::channel([0; 3]).0,
                gates: Default::default(),
            }),
        }
    }

    /// One round trip: `run` executes on the store (in a task of its own, after the latency,
    /// atomically, on the store's time); the caller waits for its answer.
    async fn call<T: Send + 'static>(
        &self,
        command: Command,
        run: impl FnOnce(&mut Bucket, SystemTime) -> T + Send + 'static,
    ) -> T {
        let inner = self.inner.clone();
        let (answer, answered) = oneshot::channel();
        tokio::spawn(async move {
            inner.received.send_modify(|n| n[command as usize] += 1);
            drop(inner.gates[command as usize].lock().await);
            inner.clock.sleep(inner.latency).await;
            let mut bucket = inner.bucket.lock().await;
            let value = run(&mut bucket, inner.clock.system_time());
            let version = bucket.version;
            drop(bucket);
            inner
                .version
                .send_if_modified(|v| std::mem::replace(v, version) != version);
            let _ = answer.send(value);
        });
        answered.await.expect("the store answers every command")
    }

    /// Keeps `command`s from running until the guard is dropped.
    async fn hold(&self, command: Command) -> OwnedMutexGuard<()> {
        self.inner.gates[command as usize]
            .clone()
            .lock_owned()
            .await
    }

    /// Returns once `count` `command`s have reached the store.
    async fn received(&self, command: Command, count: u64) {
        let mut received = self.inner.received.subscribe();
        let _ = received
            .wait_for(|n| n[command as usize] >= count)
            .await
            .expect("the store lives");
    }

    fn received_now(&self, command: Command) -> u64 {
        self.inner.received.borrow()[command as usize]
    }

    /// Reads the bucket (not a command: the test looks inside the store).
    async fn read<T>(&self, look: impl FnOnce(&Bucket) -> T) -> T {
        look(&*self.inner.bucket.lock().await)
    }
}

/// A [`RateLimiter`] backed by the [`Store`]: one per client (per process), all pointing at
/// the same store. Everything it knows between calls is a cache of what the store said.
#[derive(Debug)]
struct StoreLimiter {
    store: Store,
    /// Whether the store's bucket was calibrated at the latest answer (`is_calibrated` is
    /// synchronous: it cannot ask the store).
    calibrated: AtomicBool,
    /// The store's version the latest `acquire` answer carried: `changed` completes when the
    /// store's moves past it.
    seen: AtomicU64,
}

impl StoreLimiter {
    fn new(store: &Store) -> Arc<StoreLimiter> {
        Arc::new(StoreLimiter {
            store: store.clone(),
            calibrated: AtomicBool::new(false),
            seen: AtomicU64::new(0),
        })
    }
}

impl RateLimiter for StoreLimiter {
    fn acquire(&self, _now: SystemTime, max_wait: Duration) -> LimiterFuture<'_, Acquire> {
        Box::pin(async move {
            let (acquire, calibrated, version) = self
                .store
                .call(Command::Acquire, move |bucket, now| {
                    let acquire = bucket.acquire(now, max_wait);
                    (acquire, bucket.calibrated, bucket.version)
                })
                .await;
            self.calibrated.fetch_or(calibrated, Ordering::SeqCst);
            self.seen.fetch_max(version, Ordering::SeqCst);
            acquire
        })
    }

    fn observe(&self, _now: SystemTime, observation: Observation) -> LimiterFuture<'_, ()> {
        Box::pin(async move {
            let calibrated = self
                .store
                .call(Command::Observe, move |bucket, now| {
                    bucket.observe(now, &observation);
                    bucket.calibrated
                })
                .await;
            self.calibrated.fetch_or(calibrated, Ordering::SeqCst);
        })
    }

    fn release(&self, slot: Slot) -> LimiterFuture<'_, ()> {
        Box::pin(async move {
            self.store
                .call(Command::Release, move |bucket, _| bucket.release(slot))
                .await;
        })
    }

    fn changed(&self) -> LimiterFuture<'_, ()> {
        // Subscribed now, compared with the version the latest answer carried: a change
        // made between that answer and this call is not missed.
        let seen = self.seen.load(Ordering::SeqCst);
        let mut version = self.store.inner.version.subscribe();
        Box::pin(async move {
            let _ = version.wait_for(|version| *version > seen).await.is_ok();
        })
    }

    fn is_calibrated(&self) -> bool {
        self.calibrated.load(Ordering::SeqCst)
    }
}

/// A client of `mock` on `clock`, with its own limiter on `store`: built separately, as
/// another process would build it.
fn client_on(mock: &MockWebflow, clock: impl Clock, store: &Store) -> Client {
    builder_for(&mock.base_url())
        .clock(clock)
        .rate_limiter(StoreLimiter::new(store))
        .build()
        .unwrap()
}

fn prefixed_items(prefix: &'static str, n: u64) -> impl Iterator<Item = NewItem> + Send {
    (0..n).map(move |i| NewItem::new(format!("{prefix} {i}"), format!("{prefix}-{i}")))
}

// ---------------------------------------------------------------------------------------
// Two clients, one budget
// ---------------------------------------------------------------------------------------

/// The mock's limit: a bucket of 10 requests, refilled 10 a mock minute.
const PER_MINUTE: u32 = 10;

/// Two clients, built separately, each with its own limiter on one store, import 1,000
/// items each at once against a mock enforcing 10 requests a minute. The store starts from
/// a guess (60 a minute, as the built-in pacer does) and learns the limit from the first
/// answers. Every request goes out once: 20 requests, no 429, every item created once;
/// the requests' arrival times (each item's `createdOn`, to the millisecond) never run
/// ahead of the budget — at most 10 at once, then 10 a minute.
#[tokio::test]
async fn two_clients_share_one_budget_through_an_async_store() {
    let clock = ManualClock::new();
    let mock = MockWebflow::builder()
        .rate_limit(PER_MINUTE)
        .clock(clock.clone())
        .start()
        .await;
    let store = Store::new(clock.clone(), STORE_LATENCY, Bucket::new(60, 60.0));
    let first = client_on(&mock, clock.clone(), &store);
    let second = client_on(&mock, clock.clone(), &store);
    let waits = Arc::new(AtomicU64::new(0));
    let counting = |waits: Arc<AtomicU64>| {
        move |event: &BulkEvent| {
            if let BulkEvent::Waiting {
                reason: WaitReason::RateLimit,
                ..
            } = event
            {
                waits.fetch_add(1, Ordering::Relaxed);
            }
        }
    };
    let started = clock.now();
    let (a, b) = futures_util::future::join(
        first
            .bulk_create_live(COLLECTION)
            .on_progress(counting(waits.clone()))
            .run(items(1000)),
        second
            .bulk_create_live(COLLECTION)
            .on_progress(counting(waits.clone()))
            .run(prefixed_items("b", 1000)),
    )
    .await;
    let elapsed = clock.now().saturating_duration_since(started);
    let (a, b) = (a.unwrap(), b.unwrap());

    for report in [&a, &b] {
        let s = &report.summary;
        assert!(s.all_done(), "{s:?}");
        assert_eq!((s.created, s.requests, s.throttled), (1000, 10, 0), "{s:?}");
    }
    assert_eq!(mock.request_count(), 20);
    assert_eq!(mock.throttled(), 0, "one budget for both clients");
    assert_eq!(mock.created_count(), 2000);
    assert!(mock.duplicates().is_empty());
    // Every request took one slot from the store and told it the answer; none was given
    // back; the store learned the limit.
    let (granted, released, per_minute, calibrated) = store
        .read(|b| (b.granted, b.released.clone(), b.per_minute, b.calibrated))
        .await;
    assert_eq!(granted, 20);
    assert_eq!(store.received_now(Command::Observe), 20);
    assert!(store.received_now(Command::Acquire) > 20, "some waited");
    assert_eq!(store.received_now(Command::Release), 0);
    assert!(released.is_empty());
    assert_eq!((per_minute, calibrated), (PER_MINUTE, true));
    assert!(
        waits.load(Ordering::Relaxed) > 0,
        "the budget made them wait"
    );
    for client in [&first, &second] {
        assert_eq!(client.rate_limit().and_then(|r| r.limit), Some(PER_MINUTE));
    }

    // The combined rate: 10 at once, then one per 6 s, by the mock's own timestamps.
    let mut arrivals: Vec<(u64, SystemTime)> = mock
        .created_items()
        .iter()
        .map(|item| {
            let created = item.item["createdOn"].as_str().unwrap();
            let at = webflow_api::time::parse_timestamp(created).unwrap();
            (item.request_number, at)
        })
        .collect();
    arrivals.dedup_by_key(|(request, _)| *request);
    assert_eq!(arrivals.len(), 20);
    for (i, (_, early)) in arrivals.iter().enumerate() {
        for (j, (_, late)) in arrivals.iter().enumerate().skip(i) {
            let span = late.duration_since(*early).unwrap().as_secs_f64() + 0.001;
            let allowed = f64::from(PER_MINUTE) + span * f64::from(PER_MINUTE) / 60.0;
            assert!(
                (j - i + 1) as f64 <= allowed,
                "requests {} to {} ({} of them) within {span} s",
                i + 1,
                j + 1,
                j - i + 1
            );
        }
    }
    assert!(elapsed >= Duration::from_secs(60), "{elapsed:?}");
}

// ---------------------------------------------------------------------------------------
// release
// ---------------------------------------------------------------------------------------

/// An import cancelled while the store was granting its first slot: the slot comes back to
/// the store (the request was never sent), and the next call, of another client, finds it
/// there — it goes out without waiting, where it would otherwise wait a whole refill.
#[tokio::test]
async fn a_call_cancelled_while_its_slot_is_granted_gives_the_slot_back() {
    let clock = ManualClock::new();
    let mock = MockWebflow::builder().clock(clock.clone()).start().await;
    // One token left of 60 a minute, the limit known.
    let mut bucket = Bucket::new(60, 1.0);
    bucket.calibrated = true;
    let store = Store::new(clock.clone(), STORE_LATENCY, bucket);
    let importer = client_on(&mock, clock.clone(), &store);
    let cancel = CancellationToken::new();

    let acquires = store.hold(Command::Acquire).await;
    let import = tokio::spawn({
        let cancel = cancel.clone();
        async move {
            importer
                .bulk_create_live(COLLECTION)
                .cancel_token(cancel)
                .run(items(100))
                .await
        }
    });
    // The import's first acquire is at the store: cancel, then let the store grant it.
    store.received(Command::Acquire, 1).await;
    cancel.cancel();
    drop(acquires);
    let report = tokio::time::timeout(Duration::from_secs(10), import)
        .await
        .expect("the import ends")
        .unwrap()
        .unwrap();

    let s = &report.summary;
    assert_eq!(s.end, ImportEnd::Cancelled, "{s:?}");
    assert_eq!((s.not_attempted, s.requests), (100, 0), "{s:?}");
    assert!(
        report
            .outcomes
            .iter()
            .all(|o| matches!(o.result, ItemResult::NotAttempted))
    );
    assert_eq!(mock.request_count(), 0, "nothing was sent");
    let (granted, released) = store.read(|b| (b.granted, b.released.clone())).await;
    assert_eq!(
        (granted, released),
        (1, vec![Slot(1)]),
        "granted, then given back"
    );

    // The token is there for the next call: no rate-limit wait, only store round trips.
    let other = client_on(&mock, clock.clone(), &store);
    let before = clock.sleeps().len();
    other
        .create_live_item(COLLECTION, NewItem::new("Next", "next"))
        .await
        .unwrap();
    assert_eq!(store.read(|b| b.granted).await, 2);
    let sleeps = clock.sleeps();
    assert!(
        sleeps.iter().all(|sleep| *sleep == STORE_LATENCY),
        "{sleeps:?}"
    );
    assert_eq!(sleeps.len() - before, 2, "one acquire, one observe");
    assert_eq!((mock.request_count(), mock.throttled()), (1, 0));
}

// ---------------------------------------------------------------------------------------
// changed
// ---------------------------------------------------------------------------------------

/// A clock that stands still, and whose sleeps never end: a test can see a call waiting, and
/// only something else than the time (the limiter's `changed`) can end the wait.
#[derive(Clone, Debug)]
struct StoppedClock {
    inner: Arc<StoppedInner>,
}

#[derive(Debug)]
struct StoppedInner {
    now: Instant,
    wall: SystemTime,
    /// Every sleep asked for, never ended.
    sleeps: watch::Sender<Vec<Duration>>,
}

impl StoppedClock {
    fn new() -> StoppedClock {
        StoppedClock {
            inner: Arc::new(StoppedInner {
                now: Instant::now(),
                wall: SystemTime::now(),
                sleeps: watch::channel(Vec::new()).0,
            }),
        }
    }

    fn sleeps(&self) -> Vec<Duration> {
        self.inner.sleeps.borrow().clone()
    }

    /// Returns once `count` sleeps have started.
    async fn sleeping(&self, count: usize) {
        let mut sleeps = self.inner.sleeps.subscribe();
        let _ = sleeps.wait_for(|s| s.len() >= count).await.unwrap();
    }
}

impl Clock for StoppedClock {
    fn now(&self) -> Instant {
        self.inner.now
    }

    fn system_time(&self) -> SystemTime {
        self.inner.wall
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        if duration.is_zero() {
            return Box::pin(std::future::ready(()));
        }
        self.inner
            .sleeps
            .send_modify(|sleeps| sleeps.push(duration));
        Box::pin(std::future::pending())
    }
}

/// Two processes share a store whose bucket holds one request of a guessed 2 a minute. The
/// first client takes it; the second is told to wait 30.6 s and sleeps. When the first
/// one's answer reaches the store (Webflow's limit is 120 and 119 are left), the store has
/// more to give: the sleeping client re-asks at once and its request goes out, although
/// its 30.6 s sleep never ends (the clock stands still).
#[tokio::test]
async fn a_waiting_call_re_asks_when_another_process_learns_the_limit() {
    let clock = StoppedClock::new();
    let mock = MockWebflow::builder()
        .rate_limit(120)
        .clock(clock.clone())
        .start()
        .await;
    let store = Store::new(clock.clone(), Duration::ZERO, Bucket::new(2, 1.0));
    let first = client_on(&mock, clock.clone(), &store);
    let second = client_on(&mock, clock.clone(), &store);

    // The first process's answer is on its way to the store, held there.
    let observes = store.hold(Command::Observe).await;
    let one = tokio::spawn(async move {
        first
            .create_live_item(COLLECTION, NewItem::new("First", "first"))
            .await
    });
    store.received(Command::Observe, 1).await;
    assert_eq!(mock.request_count(), 1);

    // The second process finds the bucket empty and waits a refill at 2 a minute.
    let two = tokio::spawn(async move {
        second
            .create_live_item(COLLECTION, NewItem::new("Second", "second"))
            .await
    });
    clock.sleeping(1).await;
    let refill = Duration::from_secs_f64(1.0 / (2.0 / 60.0 / SAFETY_MARGIN));
    assert_eq!(clock.sleeps(), [refill]);
    assert_eq!(mock.request_count(), 1, "the second request waits");

    // The answer reaches the store: 120 a minute, 119 left.
    drop(observes);
    let guard = Duration::from_secs(10);
    let (one, two) = tokio::time::timeout(guard, futures_util::future::join(one, two))
        .await
        .expect("both calls end without the clock moving");
    one.unwrap().unwrap();
    two.unwrap().unwrap();
    assert_eq!(
        clock.sleeps(),
        [refill],
        "the refill was not slept out, nor another"
    );
    assert_eq!((mock.request_count(), mock.throttled()), (2, 0));
    let (granted, per_minute) = store.read(|b| (b.granted, b.per_minute)).await;
    assert_eq!((granted, per_minute), (2, 120));
    assert_eq!(
        store.received_now(Command::Acquire),
        3,
        "asked, waited, re-asked"
    );
}

// ---------------------------------------------------------------------------------------
// Finding: the built-in pacer and answers that come back out of order
// ---------------------------------------------------------------------------------------

/// A TCP proxy on 127.0.0.1 in front of the mock that forwards whole requests, except the
/// first one whose bytes contain a marker: that one waits until [`release`](Self::release),
/// so it reaches the server after requests sent later (as one on a slower connection does).
struct HoldingProxy {
    base_url: String,
    holding: watch::Receiver<bool>,
    release: Arc<tokio::sync::Notify>,
}

impl HoldingProxy {
    async fn start(mock: &MockWebflow, marker: &'static str) -> HoldingProxy {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let upstream: std::net::SocketAddr = mock
            .base_url()
            .trim_start_matches("http://")
            .trim_end_matches("/v2")
            .parse()
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}/v2", listener.local_addr().unwrap());
        let (holding_tx, holding) = watch::channel(false);
        let holding_tx = Arc::new(holding_tx);
        let release = Arc::new(tokio::sync::Notify::new());
        let released = release.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (holding, released) = (holding_tx.clone(), released.clone());
                tokio::spawn(async move {
                    let server = tokio::net::TcpStream::connect(upstream).await.unwrap();
                    let (mut from_client, mut to_client) = client.into_split();
                    let (mut from_server, mut to_server) = server.into_split();
                    tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
                    });
                    let mut pending = Vec::new();
                    let mut buffer = [0u8; 8192];
                    loop {
                        if let Some(length) = request_length(&pending) {
                            let request: Vec<u8> = pending.drain(..length).collect();
                            let marked = request
                                .windows(marker.len())
                                .any(|w| w == marker.as_bytes());
                            if marked && !*holding.borrow() {
                                let release = released.notified();
                                holding.send_replace(true);
                                release.await;
                            }
                            if to_server.write_all(&request).await.is_err() {
                                return;
                            }
                            continue;
                        }
                        match from_client.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => pending.extend_from_slice(&buffer[..n]),
                        }
                    }
                });
            }
        });
        HoldingProxy {
            base_url,
            holding,
            release,
        }
    }

    /// Returns once the marked request is held.
    async fn holding(&mut self) {
        let _ = self.holding.wait_for(|holding| *holding).await.unwrap();
    }

    fn release(&self) {
        self.release.notify_waiters();
    }
}

/// The length of the first whole HTTP/1.1 request in `bytes` (head and `content-length`
/// bytes of body), if it is all there.
fn request_length(bytes: &[u8]) -> Option<usize> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&bytes[..end]).to_ascii_lowercase();
    let body: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(0, |value| value.trim().parse().unwrap());
    (bytes.len() >= end + body).then_some(end + body)
}

/// One client, a limit of 3 a minute, after a first answer (3 a minute, 2 left): request X
/// takes a slot and is slow to reach the mock; request Y takes the last one, reaches it
/// first and is answered "1 left"; then request Z; then X arrives. With the built-in pacer,
/// or a limiter on `store`.
async fn overtaken_by_a_later_answer(clock: &ManualClock, store: Option<&Store>) -> MockWebflow {
    let mock = MockWebflow::builder()
        .rate_limit(3)
        .clock(clock.clone())
        .start()
        .await;
    let mut proxy = HoldingProxy::start(&mock, r#""slug":"held""#).await;
    let builder = builder_for(&proxy.base_url).clock(clock.clone());
    let client = match store {
        Some(store) => builder.rate_limiter(StoreLimiter::new(store)),
        None => builder.pacing(webflow_api::Pacing::Adaptive {
            initial_per_minute: 3,
        }),
    }
    .build()
    .unwrap();
    let create = |name: &str, slug: &str| {
        let client = client.clone();
        let item = NewItem::new(name, slug);
        async move { client.create_live_item(COLLECTION, item).await }
    };

    create("Warm", "warm").await.unwrap();
    assert_eq!(client.rate_limit().and_then(|r| r.remaining), Some(2));
    let x = tokio::spawn(create("Held", "held"));
    proxy.holding().await;
    create("Overtaking", "overtaking").await.unwrap();
    create("Third", "third").await.unwrap();
    proxy.release();
    tokio::time::timeout(Duration::from_secs(10), x)
        .await
        .expect("X ends")
        .unwrap()
        .unwrap();
    assert_eq!(mock.created_count(), 4);
    mock
}

/// The store's rule — the remaining budget less every slot still in flight, only ever
/// lowering the bucket — makes Z wait one refill (20.4 s at 3 a minute) for the token X
/// holds: no 429.
#[tokio::test]
async fn a_limiter_that_counts_every_slot_in_flight_is_not_fooled_by_an_overtaking_answer() {
    let clock = ManualClock::new();
    let store = Store::new(clock.clone(), Duration::ZERO, Bucket::new(3, 3.0));
    let mock = overtaken_by_a_later_answer(&clock, Some(&store)).await;
    assert_eq!((mock.request_count(), mock.throttled()), (4, 0));
    let refill = Duration::from_secs_f64(1.0 / (3.0 / 60.0 / SAFETY_MARGIN));
    let waits: Vec<Duration> = clock
        .sleeps()
        .into_iter()
        .filter(|s| !s.is_zero())
        .collect();
    assert_eq!(waits, [refill], "Z waited for X's token to come back");
}

/// **Finding.** The same with the built-in pacer: after Y's answer ("1 left") it sets its
/// bucket to 1, less the slots granted *after* Y's (none) — it forgets that X, granted
/// before Y, has not reached Webflow yet. So it grants Z at once; Z takes Webflow's last
/// token, and X, arriving, is answered 429 (then waits its `Retry-After`, 20 s, and is sent
/// again: 5 requests for 4 items). An answer that overtakes an earlier request is ordinary
/// with concurrent requests (a bulk import keeps 4 in flight, on separate connections).
#[tokio::test]
async fn an_answer_that_overtakes_an_earlier_request_does_not_raise_the_pacers_budget() {
    let mock = overtaken_by_a_later_answer(&ManualClock::new(), None).await;
    assert_eq!(
        mock.throttled(),
        0,
        "X was refused: Z was granted the token X had already taken"
    );
    assert_eq!(mock.request_count(), 4);
}

/// One client, a limit of 10 a minute, after a first answer (10 a minute, 9 left): request
/// X takes a slot and is slow to reach the mock; four later requests reach it and are
/// answered first (8, 7, 6, 5 left); then X arrives ("4 left"), then request Z. With the
/// built-in pacer, or a limiter on `store`. Returns the mock; the clock's sleeps say whether
/// Z waited.
async fn answered_after_later_requests(clock: &ManualClock, store: Option<&Store>) -> MockWebflow {
    let mock = MockWebflow::builder()
        .rate_limit(10)
        .clock(clock.clone())
        .start()
        .await;
    let mut proxy = HoldingProxy::start(&mock, r#""slug":"held""#).await;
    let builder = builder_for(&proxy.base_url).clock(clock.clone());
    let client = match store {
        Some(store) => builder.rate_limiter(StoreLimiter::new(store)),
        None => builder.pacing(webflow_api::Pacing::Adaptive {
            initial_per_minute: 10,
        }),
    }
    .build()
    .unwrap();
    let create = |name: String, slug: String| {
        let client = client.clone();
        async move {
            client
                .create_live_item(COLLECTION, NewItem::new(name, slug))
                .await
        }
    };

    create("Warm".into(), "warm".into()).await.unwrap();
    let x = tokio::spawn(create("Held".into(), "held".into()));
    proxy.holding().await;
    for i in 0..4 {
        create(format!("Later {i}"), format!("later-{i}"))
            .await
            .unwrap();
    }
    proxy.release();
    tokio::time::timeout(Duration::from_secs(10), x)
        .await
        .expect("X ends")
        .unwrap()
        .unwrap();
    assert_eq!(client.rate_limit().and_then(|r| r.remaining), Some(4));
    create("Z".into(), "z".into()).await.unwrap();
    assert_eq!((mock.request_count(), mock.throttled()), (7, 0));
    mock
}

/// The store's rule: X's late answer ("4 left", nothing else in flight) leaves the bucket
/// at 4, and Z goes out at once.
#[tokio::test]
async fn a_limiter_that_counts_every_slot_in_flight_is_not_emptied_by_a_late_answer() {
    let clock = ManualClock::new();
    let store = Store::new(clock.clone(), Duration::ZERO, Bucket::new(10, 10.0));
    answered_after_later_requests(&clock, Some(&store)).await;
    assert!(
        clock.sleeps().iter().all(Duration::is_zero),
        "{:?}",
        clock.sleeps()
    );
}

/// **Finding**, the other side of the same rule: X's answer ("4 left") arrives after the
/// answers of four requests granted after X. The pacer subtracts those four from it — but
/// they reached Webflow before X and are already counted in its "4 left" — and sets its
/// bucket to 0. Z waits a whole refill (6.12 s at 10 a minute) while Webflow has 4
/// requests left. With 100 requests granted after the answered one (a burst), the bucket
/// goes to -100: the bench saw 140 concurrent creates take 61 s instead of 10 s.
#[tokio::test]
async fn a_late_answer_for_an_earlier_request_does_not_empty_the_pacers_budget() {
    let clock = ManualClock::new();
    answered_after_later_requests(&clock, None).await;
    assert!(
        clock.sleeps().is_empty(),
        "Z waited {:?} with 4 requests left",
        clock.sleeps()
    );
}

/// What a [`RecordingLimiter`] saw: slots granted, how each ended (answered or not), and
/// slots given back.
#[derive(Debug, Default)]
struct Records {
    granted: AtomicU64,
    ended: std::sync::Mutex<Vec<(u64, bool)>>,
    released: std::sync::Mutex<Vec<u64>>,
}

/// A limiter that grants every slot and records how each ended.
#[derive(Clone, Debug, Default)]
struct RecordingLimiter(Arc<Records>);

impl std::ops::Deref for RecordingLimiter {
    type Target = Records;
    fn deref(&self) -> &Records {
        &self.0
    }
}

impl RateLimiter for RecordingLimiter {
    fn acquire(&self, _now: SystemTime, _max_wait: Duration) -> LimiterFuture<'_, Acquire> {
        let slot = self.granted.fetch_add(1, Ordering::SeqCst) + 1;
        Box::pin(std::future::ready(Acquire::Granted(Slot(slot))))
    }

    fn observe(&self, _now: SystemTime, observation: Observation) -> LimiterFuture<'_, ()> {
        let answered = observation.rate_limit.is_some();
        self.ended
            .lock()
            .unwrap()
            .push((observation.slot.0, answered));
        Box::pin(std::future::ready(()))
    }

    fn release(&self, slot: Slot) -> LimiterFuture<'_, ()> {
        self.released.lock().unwrap().push(slot.0);
        Box::pin(std::future::ready(()))
    }
}

/// A call whose future is dropped while its request is on its way (a timeout wrapped around
/// it, an aborted task) still ends its slot: the limiter is told it ended without an
/// answer, so a limiter that counts slots in flight does not count it for ever. Before:
/// nothing was said, and the built-in pacer kept subtracting such slots from every answer's
/// remaining budget (100 calls dropped by a 2 s timeout held the client back for minutes).
#[tokio::test]
async fn a_call_dropped_while_its_request_is_on_its_way_ends_its_slot() {
    let mock = MockWebflow::builder().start().await;
    let mut proxy = HoldingProxy::start(&mock, r#""slug":"held""#).await;
    let limiter = RecordingLimiter::default();
    let client = builder_for(&proxy.base_url)
        .rate_limiter(Arc::new(limiter.clone()))
        .build()
        .unwrap();
    client
        .create_live_item(COLLECTION, NewItem::new("First", "first"))
        .await
        .unwrap();
    {
        let held = client.create_live_item(COLLECTION, NewItem::new("Held", "held"));
        let held = std::pin::pin!(held.into_future());
        tokio::select! {
            _ = held => panic!("the held request cannot be answered"),
            () = proxy.holding() => {}
        }
        // The call's future is dropped here, its request still held by the proxy.
    }
    // The guard's observation runs on a task of the runtime.
    for _ in 0..1000 {
        if limiter.ended.lock().unwrap().len() == 2 {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(*limiter.ended.lock().unwrap(), [(1, true), (2, false)]);
    assert!(
        limiter.released.lock().unwrap().is_empty(),
        "it may have been sent: not given back"
    );
    assert_eq!(limiter.granted.load(Ordering::SeqCst), 2);
    proxy.release();
}
