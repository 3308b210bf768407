//! Pacing against the budget Webflow reports, in real time (a bench binary: it prints its
//! figures).
//!
//! `cargo bench -p webflow-api-benches --bench pacing`
//!
//! Every figure is taken against the same small HTTP server on 127.0.0.1, defined here, that
//! behaves as Webflow's rate limit is reported to: a token bucket of `limit` requests,
//! full at start, refilled `limit` a minute continuously; every answer says
//! `X-RateLimit-Limit: <limit>` and `X-RateLimit-Remaining: <whole tokens left>` (so the
//! first answer of a fresh bucket of 120 says 119); a request over the limit gets a 429 with
//! `Retry-After` (whole seconds until a token is back, at least 1) and creates nothing.
//!
//! 1. **20 sequential creates** from a fresh client, limit 120: the time they take, and
//!    the server's 429s.
//! 2. **140 concurrent creates**, all started before the first answer, from a fresh client,
//!    limit 120: the time until the last one ends, against the 70 s a metronome at 120 a
//!    minute needs and the 10 s the budget allows (120 at once, then 2 a second); how many
//!    failed; the server's 429s. Once with the default retry policy (`max_wait` 60 s: a
//!    call whose slot is further away fails at once, unsent), once with `max_wait` 5 min.
//! 3. **A sustained import**: `bulk_create_live` of N items at 60 a minute, on a clock 20
//!    times faster than real time (the server's and the client's): the elapsed time on that
//!    clock against the floor ⌈N/100⌉/R of a metronome, and against the budget's floor
//!    (the first R requests at once, the others one per 1/R minute); the server's 429s.
//!
//! `-- --rounds N` repeats them N times. The program uses only what every version of the
//! client has had since the pacer was a metronome, so the same file measures the "before"
//! in a checkout of that version.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use webflow_api::time::ScaledClock;
use webflow_api::{ApiToken, Client, NewItem, RetryPolicy};

const COLLECTION_ID: &str = "6520d7b1a3c4e5f60718293a";

/// What the server counted.
#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    throttled: AtomicU64,
    created: AtomicU64,
}

/// The server's token bucket, on its own clock (real time times `scale`).
struct Bucket {
    limit: u32,
    scale: f64,
    started: Instant,
    tokens: f64,
    /// When `tokens` was last brought up to date, in server seconds.
    updated: f64,
}

impl Bucket {
    fn now(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * self.scale
    }

    /// Takes a token and says how many whole ones are left, or says how many whole seconds
    /// until one is back.
    fn admit(&mut self) -> Result<u32, u64> {
        let now = self.now();
        let per_second = f64::from(self.limit) / 60.0;
        self.tokens = (self.tokens + (now - self.updated) * per_second).min(f64::from(self.limit));
        self.updated = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(self.tokens.floor() as u32)
        } else {
            Err((((1.0 - self.tokens) / per_second).ceil() as u64).max(1))
        }
    }
}

struct Server {
    base_url: String,
    counts: Arc<Counts>,
}

/// Starts a server on 127.0.0.1 enforcing `limit` a minute on a clock `scale` times faster
/// than real time.
async fn serve(limit: u32, scale: f64) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}/v2", listener.local_addr().unwrap());
    let counts = Arc::new(Counts::default());
    let bucket = Arc::new(Mutex::new(Bucket {
        limit,
        scale,
        started: Instant::now(),
        tokens: f64::from(limit),
        updated: 0.0,
    }));
    let shared = counts.clone();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            tokio::spawn(connection(socket, bucket.clone(), shared.clone()));
        }
    });
    Server { base_url, counts }
}

/// Answers the requests of one keep-alive connection, one whole request at a time.
async fn connection(mut socket: TcpStream, bucket: Arc<Mutex<Bucket>>, counts: Arc<Counts>) {
    let mut pending: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") else {
            match socket.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => pending.extend_from_slice(&buffer[..n]),
            }
            continue;
        };
        let head = String::from_utf8_lossy(&pending[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or(0);
        while pending.len() < end + 4 + length {
            match socket.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => pending.extend_from_slice(&buffer[..n]),
            }
        }
        let body: Value =
            serde_json::from_slice(&pending[end + 4..end + 4 + length]).unwrap_or(Value::Null);
        pending.drain(..end + 4 + length);
        let answer = answer(&head, &body, &bucket, &counts);
        if socket.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn answer(head: &str, body: &Value, bucket: &Mutex<Bucket>, counts: &Counts) -> String {
    counts.requests.fetch_add(1, Ordering::Relaxed);
    let (limit, admitted) = {
        let mut bucket = bucket.lock().unwrap();
        (bucket.limit, bucket.admit())
    };
    let remaining = match admitted {
        Ok(remaining) => remaining,
        Err(retry_after) => {
            counts.throttled.fetch_add(1, Ordering::Relaxed);
            let body = r#"{"code":"too_many_requests","message":"Too Many Requests"}"#;
            return format!(
                "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\nretry-after: {retry_after}\r\nx-ratelimit-limit: {limit}\r\nx-ratelimit-remaining: 0\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
        }
    };
    let answered = if head.starts_with("get ") {
        // Not used by these runs (no import settles or resumes); an empty page.
        json!({"items": [], "pagination": {"limit": 100, "offset": 0, "total": 0}})
    } else if let Some(items) = body["items"].as_array() {
        json!({"items": items.iter().map(|item| created(item, counts)).collect::<Vec<_>>()})
    } else {
        created(body, counts)
    };
    let status = if head.starts_with("get ") {
        "200 OK"
    } else {
        "202 Accepted"
    };
    let body = answered.to_string();
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\nx-ratelimit-limit: {limit}\r\nx-ratelimit-remaining: {remaining}\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// The item as Webflow answers a create: the fields sent, with an id and timestamps.
fn created(item: &Value, counts: &Counts) -> Value {
    let n = counts.created.fetch_add(1, Ordering::Relaxed);
    let stamp = "2026-01-01T00:00:00.000Z";
    json!({
        "id": format!("{:024x}", 0x6520_d7b1_0000_0000_u64 + n),
        "cmsLocaleId": "653ad57de882f528b32e810e",
        "lastPublished": stamp,
        "lastUpdated": stamp,
        "createdOn": stamp,
        "isArchived": false,
        "isDraft": false,
        "fieldData": item["fieldData"],
    })
}

/// A fresh client with the default pacing (adaptive, 60 a minute until the first answer).
fn client(base_url: &str, retry: RetryPolicy, scale: Option<f64>) -> Client {
    let builder = Client::builder()
        .token(ApiToken::new("bench-token").unwrap())
        .base_url(base_url)
        .retry_policy(retry);
    match scale {
        Some(scale) => builder.clock(ScaledClock::new(scale)),
        None => builder,
    }
    .build()
    .unwrap()
}

fn item(prefix: &str, n: u64) -> NewItem {
    NewItem::new(format!("{prefix} {n}"), format!("{prefix}-{n}")).field("price", n % 97)
}

async fn sequential(n: u64) {
    let server = serve(120, 1.0).await;
    let client = client(&server.base_url, RetryPolicy::default(), None);
    let started = Instant::now();
    for i in 0..n {
        client
            .create_live_item(COLLECTION_ID, item("seq", i))
            .await
            .unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let counts = &server.counts;
    println!(
        "sequential  {n:>3} creates, fresh client, limit 120/min: {elapsed:>7.3} s  ({:.1} ms each)  requests {}  server 429s {}",
        elapsed * 1000.0 / n as f64,
        counts.requests.load(Ordering::Relaxed),
        counts.throttled.load(Ordering::Relaxed),
    );
}

async fn concurrent(n: u64, label: &str, retry: RetryPolicy) {
    let server = serve(120, 1.0).await;
    let client = client(&server.base_url, retry, None);
    let started = Instant::now();
    let calls = (0..n).map(|i| {
        let client = &client;
        async move {
            let result = client
                .create_live_item(COLLECTION_ID, item("conc", i))
                .await;
            (result, started.elapsed())
        }
    });
    let results = futures_util::future::join_all(calls).await;
    let ended = results.iter().map(|(_, at)| *at).max().unwrap_or_default();
    let failed: Vec<&webflow_api::Error> = results
        .iter()
        .filter_map(|(r, _)| r.as_ref().err())
        .collect();
    let counts = &server.counts;
    let metronome = n as f64 * 60.0 / 120.0;
    let budget = n.saturating_sub(120) as f64 * 60.0 / 120.0;
    println!(
        "concurrent  {n:>3} creates started at once, limit 120/min, {label}: last ended after {:>6.2} s  (metronome floor {metronome:.0} s, budget floor {budget:.0} s)  ok {}  failed {}  requests {}  server 429s {}",
        ended.as_secs_f64(),
        results.len() - failed.len(),
        failed.len(),
        counts.requests.load(Ordering::Relaxed),
        counts.throttled.load(Ordering::Relaxed),
    );
    if let Some(error) = failed.first() {
        println!("            first failure: {error}");
    }
}

async fn sustained(n: u64, per_minute: u32, scale: f64) {
    let server = serve(per_minute, scale).await;
    let client = client(&server.base_url, RetryPolicy::default(), Some(scale));
    let real = Instant::now();
    let summary = client
        .bulk_create_live(COLLECTION_ID)
        .run_with((0..n).map(|i| item("bulk", i)), |_| {})
        .await
        .unwrap();
    assert!(summary.all_done(), "{summary:?}");
    let elapsed = summary.elapsed.as_secs_f64();
    let requests = n.div_ceil(100);
    let floor = requests as f64 * 60.0 / f64::from(per_minute);
    let budget =
        requests.saturating_sub(u64::from(per_minute)) as f64 * 60.0 / f64::from(per_minute);
    println!(
        "sustained   bulk_create_live N={n:>6} R={per_minute}/min (clock x{scale}): {elapsed:>6.1} s  floor ⌈N/100⌉/R {floor:>5.1} s  speed vs floor {:.2}  (budget floor {budget:.1} s)  requests {}  429s {} (server {})  real {:.2} s",
        floor / elapsed,
        summary.requests,
        summary.throttled,
        server.counts.throttled.load(Ordering::Relaxed),
        real.elapsed().as_secs_f64(),
    );
}

fn main() {
    // `cargo test --benches` runs bench binaries without `--bench`: do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // `-- --rounds N` repeats every measurement N times (default 1).
    let args: Vec<String> = std::env::args().collect();
    let rounds: usize = args
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(1);
    runtime.block_on(async {
        println!(
            "pacing: {} logical CPUs; a token-bucket server on 127.0.0.1; real time unless a clock is scaled",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        for _ in 0..rounds {
            sequential(20).await;
            concurrent(140, "default max_wait 60 s", RetryPolicy::default()).await;
            concurrent(
                140,
                "max_wait 5 min",
                RetryPolicy::default().with_max_wait(Duration::from_secs(300)),
            )
            .await;
            sustained(1_000, 60, 20.0).await;
            sustained(10_000, 60, 20.0).await;
        }
    });
}
