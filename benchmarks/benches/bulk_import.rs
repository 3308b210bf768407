//! Bulk import speed and memory, against the embedded mock enforcing a rate limit on a
//! scaled clock (a bench binary: it prints its figures).
//!
//! `cargo bench -p webflow-api-benches --bench bulk_import`
//!
//! 1. Speed: import N = 10,000 items at R requests per mock minute (the mock's token bucket
//!    of R, full at start) and compare the elapsed mock time with the floor for its
//!    n = ⌈N/100⌉ requests: n/R when the client's and the server's buckets are **drained**
//!    first (R other requests of the same client: the steady rate), (n − R)/R from a
//!    **cold** start (a new client, a full server bucket: the first R requests need not wait
//!    for the rate); the same for a naive one-item-per-request loop.
//! 2. Memory: peak heap of the client while importing 10,000 and 1,000,000 items from an
//!    iterator, with outcomes streamed (`run_with`), against the mock in a child process;
//!    and what it still holds when the last outcome is reported (the duplicate-slug guard:
//!    a 128-bit hash and a position per distinct slug).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use webflow_api::mock::MockWebflow;
use webflow_api::time::ScaledClock;
use webflow_api::{ApiToken, BulkEvent, Client, NewItem, Pacing, RetryPolicy};

use webflow_api_benches::{CountingAllocator, LIVE, PEAK};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn items(n: u64) -> impl Iterator<Item = NewItem> + Send {
    (0..n).map(|i| {
        NewItem::new(format!("Product {i}"), format!("product-{i}"))
            .field("price", i % 97)
            .field("sku", format!("SKU-{i:08}"))
    })
}

fn client(mock: &MockWebflow, scale: f64, pacing: Pacing) -> Client {
    Client::builder()
        .token(ApiToken::new("bench-token").unwrap())
        .base_url(mock.base_url())
        .clock(ScaledClock::new(scale))
        .pacing(pacing)
        .retry_policy(RetryPolicy::default().with_max_attempts(10))
        .build()
        .unwrap()
}

/// How a timed run starts.
#[derive(Clone, Copy, PartialEq)]
enum Start {
    /// A new client, a full server bucket.
    Cold,
    /// Both buckets emptied first by R requests of the same client.
    Drained,
}

/// The floor for `requests` at `per_minute`, in seconds: from a drained start every request
/// waits for the rate; from a cold start the first `per_minute` need not.
fn floor_seconds(requests: u64, per_minute: u32, start: Start) -> f64 {
    let waiting = match start {
        Start::Drained => requests,
        Start::Cold => requests.saturating_sub(u64::from(per_minute)),
    };
    waiting as f64 / f64::from(per_minute) * 60.0
}

fn start_name(start: Start) -> &'static str {
    match start {
        Start::Cold => "cold",
        Start::Drained => "drained",
    }
}

/// Empties the client's and the server's buckets: `per_minute` requests that create nothing.
async fn drain(client: &Client, per_minute: u32) {
    for _ in 0..per_minute {
        client.collection(MockWebflow::COLLECTION_ID).await.unwrap();
    }
}

async fn bulk_speed(n: u64, per_minute: u32, scale: f64, start: Start) {
    let mock = MockWebflow::builder()
        .rate_limit(per_minute)
        .time_scale(scale)
        .without_recording()
        .start()
        .await;
    let client = client(&mock, scale, Pacing::adaptive());
    if start == Start::Drained {
        drain(&client, per_minute).await;
    }
    let real = Instant::now();
    let summary = client
        .bulk_create_live(MockWebflow::COLLECTION_ID)
        .run_with(items(n), |_| {})
        .await
        .unwrap();
    assert!(summary.all_done(), "{summary:?}");
    let floor = floor_seconds(summary.requests, per_minute, start);
    let elapsed = summary.elapsed.as_secs_f64();
    println!(
        "bulk_create_live  N={n:>7} R={per_minute:>3}/min {:<7}  requests={:>5} 429s={:>3}  elapsed={elapsed:>8.1}s (mock)  floor={floor:>7.1}s  speed vs floor={}  (real {:.2}s)",
        start_name(start),
        summary.requests,
        summary.throttled,
        speed_vs_floor(floor, elapsed),
        real.elapsed().as_secs_f64()
    );
}

async fn naive_speed(n: u64, per_minute: u32, scale: f64) {
    let mock = MockWebflow::builder()
        .rate_limit(per_minute)
        .time_scale(scale)
        .without_recording()
        .start()
        .await;
    // A well-behaved naive loop: one item per request, paced by the client, 429s retried.
    let client = client(&mock, scale, Pacing::adaptive());
    drain(&client, per_minute).await;
    let before = (mock.request_count(), mock.throttled());
    let clock_start = Instant::now();
    for item in items(n) {
        client
            .create_live_item(MockWebflow::COLLECTION_ID, item)
            .await
            .unwrap();
    }
    let elapsed = clock_start.elapsed().as_secs_f64() * scale;
    // The floor of the bulk import of the same items.
    let floor = floor_seconds(n.div_ceil(100), per_minute, Start::Drained);
    println!(
        "naive loop        N={n:>7} R={per_minute:>3}/min drained  requests={:>5} 429s={:>3}  elapsed={elapsed:>8.1}s (mock)  bulk floor={floor:>7.1}s  speed vs floor={:.3}",
        mock.request_count() - before.0,
        mock.throttled() - before.1,
        floor / elapsed
    );
}

/// Runs the mock in a child process (this binary with `--serve-mock`), so that the heap
/// counted here is the client's alone, as in production.
fn spawn_mock_process() -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--serve-mock")
        .stdout(std::process::Stdio::piped())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line.trim().to_owned())
}

async fn serve_mock_until_stdin_closes() {
    let mock = MockWebflow::builder().without_recording().start().await;
    println!("{}", mock.base_url());
    tokio::task::spawn_blocking(|| {
        let mut sink = String::new();
        while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {}
    })
    .await
    .unwrap();
}

async fn peak_memory(n: u64) -> usize {
    let (mut mock_process, base_url) = spawn_mock_process();
    let client = Client::builder()
        .token(ApiToken::new("bench-token").unwrap())
        .base_url(base_url)
        .pacing(Pacing::Off)
        .build()
        .unwrap();
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    // Live when the last outcome is reported: what the import holds for the whole input.
    let end = AtomicUsize::new(before);
    let real = Instant::now();
    let summary = client
        .bulk_create_live(MockWebflow::COLLECTION_ID)
        .on_progress(|event| {
            if let BulkEvent::Progress(progress) = event
                && Some(progress.done) == progress.total
            {
                end.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
            }
        })
        .run_with(items(n), |_| {})
        .await
        .unwrap();
    assert!(summary.all_done());
    let peak = PEAK.load(Ordering::Relaxed) - before;
    let end = end.load(Ordering::Relaxed) - before;
    drop(mock_process.stdin.take());
    mock_process.wait().unwrap();
    println!(
        "peak heap         N={n:>7}  requests={:>5}  peak above baseline={:>8.1} KiB ({:.1} B/item)  held at the last outcome={:>8.1} KiB ({:.1} B/item)  (real {:.1}s)",
        summary.requests,
        peak as f64 / 1024.0,
        peak as f64 / n as f64,
        end as f64 / 1024.0,
        end as f64 / n as f64,
        real.elapsed().as_secs_f64()
    );
    peak
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if std::env::args().any(|a| a == "--serve-mock") {
        runtime.block_on(serve_mock_until_stdin_closes());
        return;
    }
    // `cargo test --benches` runs bench binaries without `--bench`: do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    runtime.block_on(async {
        println!(
            "machine: {} logical CPUs; times are on the mock's scaled clock",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        // Scale 20: a mock minute lasts 3 s, so a request's real latency (a few ms) weighs
        // what it would against the real API instead of being magnified.
        for per_minute in [60, 120] {
            for start in [Start::Drained, Start::Cold] {
                bulk_speed(10_000, per_minute, 20.0, start).await;
            }
        }
        naive_speed(1_000, 60, 100.0).await;
        let small = peak_memory(10_000).await;
        let large = peak_memory(1_000_000).await;
        println!(
            "peak heap ratio 1,000,000 / 10,000 items = {:.3}",
            large as f64 / small as f64
        );
    });
}

/// `floor / elapsed`, or why there is none: a run that fits in the server's initial bucket
/// is bound by latency, not by the rate.
fn speed_vs_floor(floor: f64, elapsed: f64) -> String {
    if floor > 0.0 {
        format!("{:.3}", floor / elapsed)
    } else {
        "n/a (fits in the server's initial bucket: latency-bound)".into()
    }
}
