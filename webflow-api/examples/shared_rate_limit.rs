//! One rate limit shared by several processes that use the same API token: a
//! [`RateLimiter`] backed by a store they all reach — Redis in production, an in-memory
//! stand-in here, with the Lua each command would run in comments.
//!
//! ```text
//! cargo run -p webflow-api --example shared_rate_limit
//! ```
//!
//! Two clients, built separately as two processes would build them, each with its own
//! limiter pointing at the same store, import 500 items each at once into the embedded mock,
//! which enforces 4 requests a minute. One minute lasts one second here (a [`ScaledClock`]
//! shared by the mock, the clients and the store), so the waits show in a few seconds; in
//! production leave the client's clock alone.
//!
//! What the store keeps, for every process (Redis keys in brackets):
//! - the bucket `{tokens, updated, per_minute, calibrated, granted, hold_until, version}`
//!   (a hash, `webflow:rl:<token id>`): the budget Webflow reports, refilled at its limit,
//!   2 % slower so that network jitter never runs ahead of Webflow's own bucket;
//! - the slots granted and not yet answered (a sorted set by grant time,
//!   `webflow:rl:<token id>:inflight`, trimmed of slots older than an attempt can last, so
//!   that a process that dies holding slots does not hold them for ever): an answer's
//!   `X-RateLimit-Remaining` does not count the requests still on their way, of any process;
//! - a version, bumped when there is more to grant (a larger limit, a slot given back), and
//!   published (`PUBLISH webflow:rl:<token id>:changed <version>`) so that waiting processes
//!   ask again at once instead of sleeping out their wait.
//!
//! The client does the waiting: the limiter only answers "granted", "wait this long", or
//! "further than you may wait".

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use tokio::sync::{Mutex, watch};
use webflow_api::mock::MockWebflow;
use webflow_api::pacing::{Acquire, LimiterFuture, Observation, Slot};
use webflow_api::time::{Clock, ScaledClock};
use webflow_api::{ApiToken, Client, NewItem, RateLimiter};

/// The refill is spread this much thinner than the limit.
const SAFETY_MARGIN: f64 = 1.02;
/// Until an answer reports the limit: the lowest plan's.
const GUESS_PER_MINUTE: u32 = 60;
/// A slot not answered after this long is no longer counted in flight (a process died).
const IN_FLIGHT_TTL: Duration = Duration::from_secs(300);

/// What Redis would hold under the keys above.
#[derive(Debug)]
struct Bucket {
    per_minute: u32,
    tokens: f64,
    updated: Option<SystemTime>,
    calibrated: bool,
    granted: u64,
    hold_until: Option<SystemTime>,
    version: u64,
    /// Slot → when it was granted.
    in_flight: BTreeMap<u64, SystemTime>,
}

/// The stand-in for Redis. Each method is one round trip (`EVALSHA`), atomic for every
/// process; the time is the store's (`redis.call('TIME')`), not the caller's, so that
/// processes whose clocks disagree still share one bucket.
#[derive(Debug)]
struct Store {
    clock: ScaledClock,
    bucket: Mutex<Bucket>,
    /// The pub/sub channel: every process's limiter subscribes to it.
    changed: watch::Sender<u64>,
}

impl Store {
    fn new(clock: ScaledClock) -> Store {
        Store {
            clock,
            bucket: Mutex::new(Bucket {
                per_minute: GUESS_PER_MINUTE,
                tokens: f64::from(GUESS_PER_MINUTE),
                updated: None,
                calibrated: false,
                granted: 0,
                hold_until: None,
                version: 0,
                in_flight: BTreeMap::new(),
            }),
            changed: watch::channel(0).0,
        }
    }

    /// Refills by the time elapsed, and forgets slots older than the TTL. Each script starts
    /// with it (`KEYS[1]` the hash, `KEYS[2]` the sorted set, `KEYS[3]` the channel; an
    /// absent hash is a full bucket of the guess):
    ///
    /// ```lua
    /// local t = redis.call('TIME'); local now = t[1] * 1000 + math.floor(t[2] / 1000)
    /// local b = redis.call('HMGET', KEYS[1], 'tokens', 'updated', 'per_minute', ...)
    /// local rate = per_minute / 60000 / 1.02                     -- tokens per ms
    /// if now > updated then
    ///   tokens = math.min(per_minute, tokens + (now - updated) * rate); updated = now
    ///   redis.call('HSET', KEYS[1], 'tokens', tokens, 'updated', updated)
    /// end
    /// redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ARGV.ttl_ms)
    /// ```
    fn refill(bucket: &mut Bucket, now: SystemTime) {
        let per_second = f64::from(bucket.per_minute) / 60.0 / SAFETY_MARGIN;
        if let Some(elapsed) = bucket.updated.and_then(|at| now.duration_since(at).ok()) {
            let tokens = bucket.tokens + elapsed.as_secs_f64() * per_second;
            bucket.tokens = tokens.min(f64::from(bucket.per_minute));
        }
        if bucket.updated.is_none_or(|at| at < now) {
            bucket.updated = Some(now);
        }
        let expired = now
            .checked_sub(IN_FLIGHT_TTL)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        bucket.in_flight.retain(|_, granted| *granted > expired);
    }

    /// ```lua
    /// -- refill (above), then:
    /// local wait = math.max(0, hold_until - now)
    /// if tokens < 1 then wait = math.max(wait, math.ceil((1 - tokens) / rate)) end
    /// if wait > tonumber(ARGV.max_wait_ms) then return {'refused', wait, version, calibrated} end
    /// if wait > 0 then return {'wait', wait, version, calibrated} end
    /// local slot = redis.call('HINCRBY', KEYS[1], 'granted', 1)
    /// redis.call('HSET', KEYS[1], 'tokens', tokens - 1, 'updated', now)
    /// redis.call('ZADD', KEYS[2], now, slot)
    /// return {'granted', slot, version, calibrated}
    /// ```
    async fn acquire(&self, max_wait: Duration) -> (Acquire, u64, bool) {
        let now = self.clock.system_time();
        let mut b = self.bucket.lock().await;
        Self::refill(&mut b, now);
        let per_second = f64::from(b.per_minute) / 60.0 / SAFETY_MARGIN;
        let mut wait = b
            .hold_until
            .and_then(|hold| hold.duration_since(now).ok())
            .unwrap_or_default();
        if b.tokens < 1.0 - 1e-6 {
            let refill = ((1.0 - b.tokens) / per_second).min(1e9);
            wait = wait.max(Duration::from_secs_f64(refill));
        }
        let acquire = if wait > max_wait {
            Acquire::Refused(wait)
        } else if !wait.is_zero() {
            Acquire::Wait(wait)
        } else {
            b.tokens -= 1.0;
            b.granted += 1;
            let slot = b.granted;
            b.in_flight.insert(slot, now);
            Acquire::Granted(Slot(slot))
        };
        (acquire, b.version, b.calibrated)
    }

    /// ```lua
    /// -- refill (above), then:
    /// redis.call('ZREM', KEYS[2], ARGV.slot)
    /// local left = ARGV.remaining - redis.call('ZCARD', KEYS[2])    -- less every slot in flight
    /// if ARGV.limit then per_minute = ARGV.limit end
    /// -- the first answer replaces the guess; later ones only lower the budget (answers
    /// -- arrive in any order: one may overtake a request granted before it)
    /// if calibrated == 0 or left < tokens then tokens = left end
    /// if ARGV.throttled == 1 then tokens = math.min(tokens, 0); hold_until = math.max(hold_until, now + ARGV.retry_after_ms) end
    /// redis.call('HSET', KEYS[1], 'tokens', tokens, 'per_minute', per_minute, 'calibrated', 1, ...)
    /// if per_minute > old_per_minute or tokens > old_tokens then
    ///   local v = redis.call('HINCRBY', KEYS[1], 'version', 1)
    ///   redis.call('PUBLISH', KEYS[3], v)
    /// end
    /// ```
    async fn observe(&self, observation: Observation) -> bool {
        let now = self.clock.system_time();
        let mut b = self.bucket.lock().await;
        Self::refill(&mut b, now);
        let (per_minute, tokens) = (b.per_minute, b.tokens);
        b.in_flight.remove(&observation.slot.0);
        let reported = observation.rate_limit.unwrap_or_default();
        let calibrating = !b.calibrated && reported.limit.is_some_and(|limit| limit > 0);
        if let Some(limit) = reported.limit.filter(|limit| *limit > 0) {
            b.per_minute = limit;
            b.calibrated = true;
        }
        if let Some(remaining) = reported.remaining {
            let left = f64::from(remaining) - b.in_flight.len() as f64;
            if calibrating || left < b.tokens {
                b.tokens = left.max(-f64::from(b.per_minute));
            }
        }
        b.tokens = b.tokens.min(f64::from(b.per_minute));
        if observation.throttled {
            b.tokens = b.tokens.min(0.0);
            if let Some(until) = observation.retry_after.and_then(|w| now.checked_add(w)) {
                b.hold_until = Some(b.hold_until.map_or(until, |hold| hold.max(until)));
            }
        }
        if b.per_minute > per_minute || b.tokens > tokens {
            b.version += 1;
            self.changed.send_replace(b.version);
        }
        b.calibrated
    }

    /// ```lua
    /// if redis.call('ZREM', KEYS[2], ARGV.slot) == 1 then
    ///   redis.call('HINCRBYFLOAT', KEYS[1], 'tokens', 1)            -- capped at per_minute
    ///   redis.call('PUBLISH', KEYS[3], redis.call('HINCRBY', KEYS[1], 'version', 1))
    /// end
    /// ```
    async fn release(&self, slot: Slot) {
        let mut b = self.bucket.lock().await;
        if b.in_flight.remove(&slot.0).is_some() {
            b.tokens = (b.tokens + 1.0).min(f64::from(b.per_minute));
            b.version += 1;
            self.changed.send_replace(b.version);
        }
    }
}

/// The limiter each process installs. Between calls it knows only what the store said.
#[derive(Debug)]
struct SharedLimiter {
    store: Arc<Store>,
    /// `is_calibrated` cannot ask the store (it is not async): the latest answer's flag.
    calibrated: AtomicBool,
    /// The version the latest `acquire` answer carried.
    seen: AtomicU64,
}

impl RateLimiter for SharedLimiter {
    fn acquire(&self, _now: SystemTime, max_wait: Duration) -> LimiterFuture<'_, Acquire> {
        Box::pin(async move {
            let (acquire, version, calibrated) = self.store.acquire(max_wait).await;
            self.seen.fetch_max(version, Ordering::SeqCst);
            self.calibrated.fetch_or(calibrated, Ordering::SeqCst);
            acquire
        })
    }

    fn observe(&self, _now: SystemTime, observation: Observation) -> LimiterFuture<'_, ()> {
        Box::pin(async move {
            let calibrated = self.store.observe(observation).await;
            self.calibrated.fetch_or(calibrated, Ordering::SeqCst);
        })
    }

    fn release(&self, slot: Slot) -> LimiterFuture<'_, ()> {
        Box::pin(self.store.release(slot))
    }

    /// With Redis: one `SUBSCRIBE` per process, fanned out to its waiters. Compared with
    /// the version the latest answer carried, so a change published between that answer
    /// and this call is not missed.
    fn changed(&self) -> LimiterFuture<'_, ()> {
        let seen = self.seen.load(Ordering::SeqCst);
        let mut changed = self.store.changed.subscribe();
        Box::pin(async move {
            let _ = changed.wait_for(|version| *version > seen).await.is_ok();
        })
    }

    fn is_calibrated(&self) -> bool {
        self.calibrated.load(Ordering::SeqCst)
    }
}

/// What one process does: build its client with a limiter on the shared store, import.
async fn process(
    name: &str,
    base_url: String,
    clock: ScaledClock,
    store: Arc<Store>,
) -> Result<String, webflow_api::Error> {
    let limiter = Arc::new(SharedLimiter {
        store,
        calibrated: AtomicBool::new(false),
        seen: AtomicU64::new(0),
    });
    let client = Client::builder()
        .token(ApiToken::new(MockWebflow::TOKEN)?)
        .base_url(base_url)
        .clock(clock)
        .rate_limiter(limiter)
        .build()?;
    let items = (0..500).map(|n| NewItem::new(format!("{name} {n}"), format!("{name}-{n}")));
    let report = client
        .bulk_create_live(MockWebflow::COLLECTION_ID)
        .run(items)
        .await?;
    let s = &report.summary;
    Ok(format!(
        "{name}: {} created in {} requests, {} answered 429, {:.0} s (mock time)",
        s.created,
        s.requests,
        s.throttled,
        s.elapsed.as_secs_f64()
    ))
}

#[tokio::main]
async fn main() -> ExitCode {
    // One minute of the mock's time lasts one second.
    let clock = ScaledClock::new(60.0);
    let mock = MockWebflow::builder()
        .token(MockWebflow::TOKEN)
        .rate_limit(4)
        .clock(clock.clone())
        .start()
        .await;
    println!(
        "a mock at {} enforcing 4 requests a minute; two processes, one store; 10 requests \
         need at least 90 s (4 at once, then one every 15 s)",
        mock.base_url()
    );
    let store = Arc::new(Store::new(clock.clone()));
    let (a, b) = tokio::join!(
        process("alpha", mock.base_url(), clock.clone(), store.clone()),
        process("beta", mock.base_url(), clock.clone(), store.clone()),
    );
    let mut ok = true;
    for result in [a, b] {
        match result {
            Ok(line) => println!("{line}"),
            Err(error) => {
                eprintln!("error: {error}");
                ok = false;
            }
        }
    }
    println!(
        "the mock: {} requests, {} refused with 429, {} items, none twice: {}",
        mock.request_count(),
        mock.throttled(),
        mock.created_count(),
        mock.duplicates().is_empty()
    );
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
