//! Bulk import speed and memory, against the embedded mock enforcing a rate limit on a
//! scaled clock (a bench binary: it prints its figures).
//!
//! `cargo bench -p webflow-api-benches --bench bulk_import`
//!
//! 1. Speed: import N = 10,000 items at R requests per mock minute and compare the elapsed
//!    mock time with the floor ⌈N/100⌉ / R; the same for a naive one-item-per-request loop.
//! 2. Memory: peak heap of the client while importing 10,000 and 1,000,000 items from an
//!    iterator, with outcomes streamed (`run_with`), against the mock in a child process.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use webflow_api::mock::MockWebflow;
use webflow_api::time::ScaledClock;
use webflow_api::{ApiToken, Client, NewItem, Pacing, RetryPolicy};

/// Counts live heap bytes and their peak.
struct CountingAllocator;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(pointer, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

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

/// The floor: ⌈n/100⌉ requests at `per_minute`, in seconds.
fn floor_seconds(n: u64, per_minute: u32) -> f64 {
    n.div_ceil(100) as f64 / f64::from(per_minute) * 60.0
}

async fn bulk_speed(n: u64, per_minute: u32, scale: f64) {
    let mock = MockWebflow::builder()
        .rate_limit(per_minute)
        .time_scale(scale)
        .without_recording()
        .start()
        .await;
    let client = client(&mock, scale, Pacing::adaptive());
    let real = Instant::now();
    let summary = client
        .bulk_create_live(MockWebflow::COLLECTION_ID)
        .run_with(items(n), |_| {})
        .await
        .unwrap();
    assert!(summary.all_done(), "{summary:?}");
    let floor = floor_seconds(n, per_minute);
    let elapsed = summary.elapsed.as_secs_f64();
    println!(
        "bulk_create_live  N={n:>7} R={per_minute:>3}/min  requests={:>5} 429s={:>3}  elapsed={elapsed:>8.1}s (mock)  floor={floor:>7.1}s  speed vs floor={:.3}  (real {:.2}s)",
        summary.requests,
        summary.throttled,
        floor / elapsed,
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
    let clock_start = Instant::now();
    for item in items(n) {
        client
            .create_live_item(MockWebflow::COLLECTION_ID, item)
            .await
            .unwrap();
    }
    let elapsed = clock_start.elapsed().as_secs_f64() * scale;
    let floor = floor_seconds(n, per_minute);
    println!(
        "naive loop        N={n:>7} R={per_minute:>3}/min  requests={:>5} 429s={:>3}  elapsed={elapsed:>8.1}s (mock)  floor={floor:>7.1}s  speed vs floor={:.3}",
        mock.request_count(),
        mock.throttled(),
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
    let real = Instant::now();
    let summary = client
        .bulk_create_live(MockWebflow::COLLECTION_ID)
        .run_with(items(n), |_| {})
        .await
        .unwrap();
    assert!(summary.all_done());
    let peak = PEAK.load(Ordering::Relaxed) - before;
    drop(mock_process.stdin.take());
    mock_process.wait().unwrap();
    println!(
        "peak heap         N={n:>7}  requests={:>5}  peak above baseline={:>8.1} KiB  (real {:.1}s)",
        summary.requests,
        peak as f64 / 1024.0,
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
        bulk_speed(10_000, 60, 20.0).await;
        bulk_speed(10_000, 120, 20.0).await;
        naive_speed(1_000, 60, 100.0).await;
        let small = peak_memory(10_000).await;
        let large = peak_memory(1_000_000).await;
        println!(
            "peak heap ratio 1,000,000 / 10,000 items = {:.3}",
            large as f64 / small as f64
        );
    });
}
