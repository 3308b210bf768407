//! A sync at scale (`bulk_create_live(..).update(true)`: create what is missing, update what
//! changed, leave what is equal), against the embedded mock (a bench binary: it prints its
//! figures).
//!
//! `cargo bench -p webflow-api-benches --bench sync`
//!
//! The collection holds M = 10,000 products (a price, a SKU, an Option field, a Reference
//! to one of 5 makers, all live); the source has 10,300 lines: the M products, of which
//! U = 1,000 (every tenth) have a new price, and C = 300 new ones. Lines are written as
//! people write them (the option by name, the maker by slug), so the sync fetches the schema
//! and reads the makers' collection (5 items: one page holds it whole, so no maker is looked
//! up one by one).
//!
//! 1. Speed: the sync against the mock enforcing R requests per mock minute (a token bucket
//!    of R, full at start) on a scaled clock, then the same source again (nothing to write).
//!    Each request is counted by kind and checked against the cost model
//!    `⌈M/99⌉ list pages (pages overlap by one item) + 1 schema + 1 page of the makers +
//!    ⌈C/100⌉ creates + ⌈U/100⌉ updates`, and the time compared with two floors for its n
//!    requests: n/R (the sustained rate: the **drained** runs, whose client and server
//!    buckets are emptied first by R other requests of the same client, so the sync runs
//!    at the steady rate) and (n − R)/R (a **cold** start: a new client and a full server
//!    bucket, so the first R requests need not wait for the rate).
//! 2. Memory: peak heap of the client (counting allocator; the mock in a child process) for
//!    a sync of M = 10,000 and M = 100,000 items (the same shape: a tenth changed, 3 % new),
//!    unpaced, outcomes streamed (`run_with`), split into the collection index (live when
//!    the listing ends), what is held beyond it when the last outcome is reported (the
//!    duplicate-slug guard, which grows with the source's lines) and the transient rest;
//!    with the CPU time of the client and of the mock, for the listing and for the lines.
//!
//! `-- --only-speed` or `-- --only-memory` runs one part; `-- --scale S` sets the speed
//! part's time scale (default 20: a mock minute lasts 3 s; the client's and the mock's CPU
//! time count S times on the scaled clock).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use webflow_api::mock::{MockWebflow, MockWebflowBuilder};
use webflow_api::time::ScaledClock;
use webflow_api::{ApiToken, BulkEvent, BulkSummary, Client, ItemResult, NewItem, Pacing};

use webflow_api_benches::{CountingAllocator, LIVE, PEAK};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const PRODUCTS: &str = MockWebflow::COLLECTION_ID;
const MAKERS: &str = "6520d7b1a3c4e5f6071829aa";
/// Makers a product can reference (one page of them is read per sync).
const MAKER_COUNT: u64 = 5;
/// Items per list page, bulk create and bulk update (Webflow's maximum).
const PAGE: u64 = 100;

/// The shape of a run: `existing` items in the collection, every `changed_every`-th of
/// them changed in the source, and `new` lines that the collection lacks.
#[derive(Clone, Copy)]
struct Plan {
    existing: u64,
    changed_every: u64,
    new: u64,
}

impl Plan {
    fn lines(self) -> u64 {
        self.existing + self.new
    }

    fn changed(self) -> u64 {
        self.existing.div_ceil(self.changed_every)
    }

    fn is_changed(self, i: u64) -> bool {
        i < self.existing && i.is_multiple_of(self.changed_every)
    }
}

/// The requests the cost model predicts, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Requests {
    list: u64,
    schema: u64,
    lookups: u64,
    creates: u64,
    updates: u64,
    other: u64,
}

impl Requests {
    fn total(self) -> u64 {
        self.list + self.schema + self.lookups + self.creates + self.updates + self.other
    }

    /// `⌈M/99⌉ + 1 + 1 + ⌈C/100⌉ + ⌈U/100⌉`: the makers, fewer than a page, cost one
    /// request.
    fn model(in_collection: u64, creates: u64, updates: u64) -> Requests {
        Requests {
            list: in_collection.div_ceil(PAGE - 1).max(1),
            schema: 1,
            lookups: MAKER_COUNT.div_ceil(PAGE),
            creates: creates.div_ceil(PAGE),
            updates: updates.div_ceil(PAGE),
            other: 0,
        }
    }

    /// The requests the mock received from `from` on, by kind.
    fn received(mock: &MockWebflow, from: usize) -> Requests {
        let mut counts = Requests::default();
        let collection = format!("/v2/collections/{PRODUCTS}");
        let items = format!("{collection}/items");
        let live = format!("{items}/live");
        let makers = format!("/v2/collections/{MAKERS}/items");
        for request in &mock.requests()[from..] {
            let counter = match (request.method.as_str(), request.path.as_str()) {
                ("GET", path) if path == collection => &mut counts.schema,
                ("GET", path) if path == items => &mut counts.list,
                ("GET", path) if path == makers => &mut counts.lookups,
                ("POST", path) if path == live => &mut counts.creates,
                ("PATCH", path) if path == live => &mut counts.updates,
                _ => &mut counts.other,
            };
            *counter += 1;
        }
        counts
    }
}

fn schemas(builder: MockWebflowBuilder) -> MockWebflowBuilder {
    builder
        .collection(
            PRODUCTS,
            json!({"fields": [
                {"slug": "price", "type": "Number", "isRequired": true, "validations": {"minValue": 0}},
                {"slug": "sku", "type": "PlainText"},
                {"slug": "color", "type": "Option", "validations": {"options": [
                    {"name": "Blue", "id": "opt-blue"}, {"name": "Red", "id": "opt-red"}]}},
                {"slug": "maker", "type": "Reference", "validations": {"collectionId": MAKERS}},
            ]}),
        )
        .collection(MAKERS, json!({"fields": []}))
}

fn price(i: u64) -> f64 {
    (i % 97) as f64 + 0.5
}

/// Preloads the makers and the collection's `plan.existing` products, as stored (the option
/// by id, the maker by id).
fn preload(mock: &MockWebflow, plan: Plan) {
    let makers = mock.insert_items(
        MAKERS,
        (0..MAKER_COUNT).map(
            |m| json!({"fieldData": {"name": format!("Maker {m}"), "slug": format!("maker-{m}")}}),
        ),
    );
    // In batches, so the preload's JSON never sits whole in memory.
    let mut start = 0;
    while start < plan.existing {
        let end = (start + 10_000).min(plan.existing);
        mock.insert_items(
            PRODUCTS,
            (start..end).map(|i| {
                json!({"fieldData": {
                    "name": format!("Product {i}"),
                    "slug": format!("product-{i}"),
                    "price": price(i),
                    "sku": format!("SKU-{i:08}"),
                    "color": if i.is_multiple_of(2) { "opt-blue" } else { "opt-red" },
                    "maker": makers[(i % MAKER_COUNT) as usize],
                }})
            }),
        );
        start = end;
    }
}

/// The source: every line as a person writes it (the option by name, the maker by slug).
fn source(plan: Plan) -> impl Iterator<Item = NewItem> + Send {
    (0..plan.lines()).map(move |i| {
        let price = if plan.is_changed(i) {
            price(i) + 1000.0
        } else {
            price(i)
        };
        NewItem::new(format!("Product {i}"), format!("product-{i}"))
            .field("price", price)
            .field("sku", format!("SKU-{i:08}"))
            .field("color", if i.is_multiple_of(2) { "Blue" } else { "Red" })
            .field("maker", format!("maker-{}", i % MAKER_COUNT))
    })
}

fn client(base_url: &str, clock: Option<ScaledClock>, pacing: Pacing) -> Client {
    let mut builder = Client::builder()
        .token(ApiToken::new("bench-token").unwrap())
        .base_url(base_url)
        .pacing(pacing);
    if let Some(clock) = clock {
        builder = builder.clock(clock);
    }
    builder.build().unwrap()
}

/// Outcomes by kind.
#[derive(Debug, Default, PartialEq, Eq)]
struct Outcomes {
    created: u64,
    updated: u64,
    unchanged: u64,
    other: u64,
}

async fn sync(client: &Client, plan: Plan) -> (BulkSummary, Outcomes) {
    let mut outcomes = Outcomes::default();
    let summary = client
        .bulk_create_live(PRODUCTS)
        .update(true)
        .run_with(source(plan), |outcome| match outcome.result {
            ItemResult::Created { .. } => outcomes.created += 1,
            ItemResult::Updated { .. } => outcomes.updated += 1,
            ItemResult::Unchanged { .. } => outcomes.unchanged += 1,
            _ => outcomes.other += 1,
        })
        .await
        .unwrap();
    assert!(summary.all_done(), "{summary:?}");
    (summary, outcomes)
}

/// How a run starts.
#[derive(Clone, Copy, PartialEq)]
enum Start {
    /// A new client, a full server bucket.
    Cold,
    /// Both buckets emptied first by R requests of the same client.
    Drained,
}

/// One sync, checked against the cost model, timed against its floor; one line of figures.
async fn timed_sync(
    mock: &MockWebflow,
    scale: f64,
    per_minute: u32,
    start: Start,
    label: &str,
    plan: Plan,
    expect: (u64, u64, u64),
) {
    let client = client(
        &mock.base_url(),
        Some(ScaledClock::new(scale)),
        Pacing::adaptive(),
    );
    if start == Start::Drained {
        for _ in 0..per_minute {
            client.collection(MAKERS).await.unwrap();
        }
    }
    let from = mock.requests().len();
    let throttled_before = mock.throttled();
    let real = Instant::now();
    let (summary, outcomes) = sync(&client, plan).await;
    let real = real.elapsed().as_secs_f64();
    let received = Requests::received(mock, from);
    let (created, updated, unchanged) = expect;
    assert_eq!(
        outcomes,
        Outcomes {
            created,
            updated,
            unchanged,
            other: 0
        },
        "{summary:?}"
    );
    // M: the items the collection held when the sync started.
    let in_collection = mock.items(PRODUCTS).len() as u64 - created;
    let model = Requests::model(in_collection, created, updated);
    assert_eq!(received, model, "requests by kind vs the cost model");
    let n = received.total();
    assert_eq!(summary.requests, n, "{summary:?}");
    assert_eq!(summary.create_requests, received.creates);
    assert_eq!(summary.update_requests, received.updates);
    assert_eq!(
        summary.list_requests,
        received.list + received.schema + received.lookups
    );
    let elapsed = summary.elapsed.as_secs_f64();
    let rate = f64::from(per_minute) / 60.0;
    let floor = match start {
        Start::Drained => n as f64 / rate,
        Start::Cold => n.saturating_sub(u64::from(per_minute)) as f64 / rate,
    };
    println!(
        "{label:<28} R={per_minute:>3}/min {start:<7}  requests={n:>4} (list {} + schema {} + lookups {} + creates {} + updates {}) = model  429s={:>2}  elapsed={elapsed:>6.1}s  floor={floor:>6.1}s  speed vs floor={}  (real {real:.2}s)",
        received.list,
        received.schema,
        received.lookups,
        received.creates,
        received.updates,
        mock.throttled() - throttled_before,
        speed_vs_floor(floor, elapsed),
        start = match start {
            Start::Cold => "cold",
            Start::Drained => "drained",
        },
    );
}

/// The sync and the no-change sync after it, on a new mock, at `per_minute`.
async fn speed(plan: Plan, per_minute: u32, scale: f64, start: Start) {
    let mock = schemas(MockWebflow::builder())
        .rate_limit(per_minute)
        .time_scale(scale)
        .start()
        .await;
    preload(&mock, plan);
    let rest = Duration::from_secs_f64(61.0 / scale);
    // The server's bucket is full after a mock minute of rest.
    tokio::time::sleep(rest).await;
    timed_sync(
        &mock,
        scale,
        per_minute,
        start,
        "sync (1,000 changed, 300 new)",
        plan,
        (plan.new, plan.changed(), plan.existing - plan.changed()),
    )
    .await;
    tokio::time::sleep(rest).await;
    timed_sync(
        &mock,
        scale,
        per_minute,
        start,
        "sync again (no change)",
        plan,
        (0, 0, plan.lines()),
    )
    .await;
}

/// Runs the mock in a child process (this binary with `--serve-mock <existing>`), holding
/// `existing` products, so that the heap counted here is the client's alone.
fn spawn_mock_process(plan: Plan) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--serve-mock", &plan.existing.to_string()])
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

async fn serve_mock_until_stdin_closes(existing: u64) {
    let mock = schemas(MockWebflow::builder()).start().await;
    preload(
        &mock,
        Plan {
            existing,
            changed_every: 10,
            new: 0,
        },
    );
    println!("{}", mock.base_url());
    tokio::task::spawn_blocking(|| {
        let mut sink = String::new();
        while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {}
    })
    .await
    .unwrap();
}

/// Heap figures of one sync, in bytes above the baseline.
struct Heap {
    /// Live when the listing ended: the collection index (and the first line).
    index: usize,
    /// The peak while the listing ran (the index, the pager's ids, a page).
    listing_peak: usize,
    /// Live when the last line's outcome was reported: the index and what grows with the
    /// source's lines (the duplicate-slug guard).
    end: usize,
    /// The peak of the whole sync.
    peak: usize,
}

static INDEX_LIVE: AtomicUsize = AtomicUsize::new(0);
static LISTING_PEAK: AtomicUsize = AtomicUsize::new(0);
static END_LIVE: AtomicUsize = AtomicUsize::new(0);
/// CPU time (ms) of this process and of the mock's when the listing ended.
static LISTING_CPU: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

/// CPU time (user + system, every thread) of process `pid` so far, in milliseconds, from
/// `/proc/<pid>/stat` (Linux; 0 elsewhere).
fn cpu_ms(pid: &str) -> usize {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // The fields after the command name (which may hold spaces): utime is the 12th of
    // them, stime the 13th, in clock ticks (100 per second on Linux).
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<usize>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) * 10
}

async fn peak_memory(plan: Plan) -> Heap {
    let (mut mock_process, base_url) = spawn_mock_process(plan);
    let client = client(&base_url, None, Pacing::Off);
    let mock_pid = mock_process.id().to_string();
    let cpu_before = [cpu_ms("self"), cpu_ms(&mock_pid)];
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let real = Instant::now();
    let mut outcomes = Outcomes::default();
    let summary = client
        .bulk_create_live(PRODUCTS)
        .update(true)
        .on_progress(|event| match event {
            BulkEvent::Indexed { .. } => {
                INDEX_LIVE.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
                LISTING_PEAK.store(PEAK.load(Ordering::Relaxed), Ordering::Relaxed);
                LISTING_CPU[0].store(cpu_ms("self"), Ordering::Relaxed);
                LISTING_CPU[1].store(cpu_ms(&mock_pid), Ordering::Relaxed);
            }
            BulkEvent::Progress(progress) if Some(progress.done) == progress.total => {
                END_LIVE.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
            }
            _ => {}
        })
        .run_with(source(plan), |outcome| match outcome.result {
            ItemResult::Created { .. } => outcomes.created += 1,
            ItemResult::Updated { .. } => outcomes.updated += 1,
            ItemResult::Unchanged { .. } => outcomes.unchanged += 1,
            _ => outcomes.other += 1,
        })
        .await
        .unwrap();
    let peak = PEAK.load(Ordering::Relaxed) - before;
    let cpu_after = [cpu_ms("self"), cpu_ms(&mock_pid)];
    assert!(summary.all_done(), "{summary:?}");
    assert_eq!(
        (outcomes.created, outcomes.updated, outcomes.other),
        (plan.new, plan.changed(), 0)
    );
    drop(mock_process.stdin.take());
    mock_process.wait().unwrap();
    let heap = Heap {
        index: INDEX_LIVE.load(Ordering::Relaxed) - before,
        listing_peak: LISTING_PEAK.load(Ordering::Relaxed) - before,
        end: END_LIVE.load(Ordering::Relaxed) - before,
        peak,
    };
    let kib = |bytes: usize| bytes as f64 / 1024.0;
    println!(
        "peak heap  M={:>6} lines={:>6} requests={:>5}  peak={:>9.1} KiB = index {:>9.1} KiB ({:.0} B/item, live when the listing ended) + held at the end beyond it {:>7.1} KiB ({:.1} B/line) + transient {:>7.1} KiB;  peak while listing {:>9.1} KiB  (real {:.1}s)",
        plan.existing,
        plan.lines(),
        summary.requests,
        kib(heap.peak),
        kib(heap.index),
        heap.index as f64 / plan.existing as f64,
        kib(heap.end.saturating_sub(heap.index)),
        heap.end.saturating_sub(heap.index) as f64 / plan.lines() as f64,
        kib(heap.peak.saturating_sub(heap.end)),
        kib(heap.listing_peak),
        real.elapsed().as_secs_f64()
    );
    let listing = |side: usize| LISTING_CPU[side].load(Ordering::Relaxed) - cpu_before[side];
    let after = |side: usize| cpu_after[side] - LISTING_CPU[side].load(Ordering::Relaxed);
    println!(
        "  CPU time (unpaced): client {} ms listing + {} ms the lines ({:.1} µs per line); mock {} ms + {} ms",
        listing(0),
        after(0),
        after(0) as f64 * 1000.0 / plan.lines() as f64,
        listing(1),
        after(1),
    );
    heap
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--serve-mock") {
        let existing = args[at + 1].parse().unwrap();
        runtime.block_on(serve_mock_until_stdin_closes(existing));
        return;
    }
    // `cargo test --benches` runs bench binaries without `--bench`: do nothing then.
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    let only = |part: &str| {
        !args.iter().any(|a| a.starts_with("--only-")) || args.iter().any(|a| a == part)
    };
    runtime.block_on(async {
        println!(
            "machine: {} logical CPUs; times are on the mock's scaled clock",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        let plan = Plan {
            existing: 10_000,
            changed_every: 10,
            new: 300,
        };
        if only("--only-speed") {
            // Scale 20 (as in bulk_import): a mock minute lasts 3 s, so a request's real
            // latency (a few ms) weighs what it would against the real API instead of being
            // magnified. `--scale S` changes it (the mock's and the client's CPU time count
            // S times on the scaled clock).
            let scale = args
                .iter()
                .position(|a| a == "--scale")
                .and_then(|at| args.get(at + 1)?.parse().ok())
                .unwrap_or(20.0);
            println!("scale {scale}: a mock minute lasts {:.1} s", 60.0 / scale);
            for per_minute in [60, 120] {
                for start in [Start::Drained, Start::Cold] {
                    speed(plan, per_minute, scale, start).await;
                }
            }
        }
        if only("--only-memory") {
            let mut heaps = BTreeMap::new();
            for existing in [10_000, 100_000] {
                let plan = Plan {
                    existing,
                    changed_every: 10,
                    new: existing * 3 / 100,
                };
                heaps.insert(existing, peak_memory(plan).await);
            }
            let (small, large) = (&heaps[&10_000], &heaps[&100_000]);
            let ratio = |part: fn(&Heap) -> usize| part(large) as f64 / part(small) as f64;
            println!(
                "peak heap 100,000 / 10,000 items: whole {:.2}, index {:.2}, held beyond the index {:.2}, transient {:.2}",
                ratio(|h| h.peak),
                ratio(|h| h.index),
                ratio(|h| h.end.saturating_sub(h.index)),
                ratio(|h| h.peak.saturating_sub(h.end)),
            );
        }
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
