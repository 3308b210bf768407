//! One create through the client versus the same request hand-built with reqwest, against
//! the same local HTTP server on 127.0.0.1, in the same run.
//!
//! `cargo bench -p webflow-api-benches --bench create`
//!
//! Both send the same bytes (method, path, headers, JSON body) with the same timeout, and
//! decode the same response type. After criterion's two measurements, interleaved runs
//! (client and hand-built calls alternating, in rounds) print the overhead ratio, which
//! machine-load drift between criterion's two measurements cannot skew: once against a
//! server in this process, once against a server in a separate process (this binary with
//! `--serve`), the realistic case.
//!
//! `-- --interleaved-only` skips criterion's part. For instruction counts, run the bench
//! binary with `--calls client 2000` (or `hand-built`) under
//! `valgrind --tool=callgrind`, and again with 4000: the difference is 2,000 calls, without
//! the start-up (the README's Performance section has the commands).

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use webflow_api::{ApiToken, Client, CreatedLiveItems, NewItem, Pacing, RetryPolicy};

const COLLECTION_ID: &str = "6520d7b1a3c4e5f60718293a";

const ANSWER: &str = r##"{"id":"580e64008c9a982ac9b8b754","cmsLocaleId":"653ad57de882f528b32e810e","lastPublished":"2023-03-17T18:47:35.560Z","lastUpdated":"2023-03-17T18:47:35.560Z","createdOn":"2023-03-17T18:47:35.560Z","isArchived":false,"isDraft":false,"fieldData":{"name":"Blue Mug","slug":"blue-mug","price":12.5,"color":"#1e3a8a","tags":["62b720ef280c7a7a3be8cab1","62b720ef280c7a7a3be8cab2"]}}"##;

/// A minimal keep-alive HTTP/1.1 server that answers every request with a 202 and the same
/// item, so the measurement is the client's work plus loopback I/O.
async fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let response = format!(
        "HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\nx-ratelimit-limit: 120\r\nx-ratelimit-remaining: 119\r\ncontent-length: {}\r\n\r\n{ANSWER}",
        ANSWER.len()
    );
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let response = response.clone();
            tokio::spawn(async move {
                let mut pending: Vec<u8> = Vec::with_capacity(8192);
                let mut buffer = [0u8; 8192];
                loop {
                    // One full request (head plus content-length bytes) per answer.
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
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    while pending.len() < end + 4 + length {
                        match socket.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => pending.extend_from_slice(&buffer[..n]),
                        }
                    }
                    pending.drain(..end + 4 + length);
                    if socket.write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{address}/v2")
}

fn item() -> NewItem {
    NewItem::new("Blue Mug", "blue-mug")
        .field("price", 12.5)
        .field("color", "#1e3a8a")
        .field(
            "tags",
            vec!["62b720ef280c7a7a3be8cab1", "62b720ef280c7a7a3be8cab2"],
        )
}

struct Setup {
    runtime: Runtime,
    client: Client,
    raw: reqwest::Client,
    url: String,
}

/// A client and a hand-built reqwest client for the server at `base_url` (a server in this
/// process when `None`).
fn setup(base_url: Option<&str>) -> Setup {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let base_url = match base_url {
        Some(url) => url.to_owned(),
        None => runtime.block_on(serve()),
    };
    // Unpaced: the benchmark measures the request path, not the rate limit.
    let client = Client::builder()
        .token(ApiToken::new("bench-token").unwrap())
        .base_url(&base_url)
        .retry_policy(RetryPolicy::default())
        .pacing(Pacing::Off)
        .build()
        .unwrap();
    // The hand-built client sends the same headers as the generated one.
    let mut headers = HeaderMap::new();
    let mut authorization = HeaderValue::from_static("Bearer bench-token");
    authorization.set_sensitive(true);
    headers.insert(AUTHORIZATION, authorization);
    headers.insert(
        USER_AGENT,
        HeaderValue::from_static(webflow_api::USER_AGENT_VALUE),
    );
    let raw = webflow_api::reqwest_builder()
        .unwrap()
        .default_headers(headers)
        .build()
        .unwrap();
    let url = format!("{base_url}/collections/{COLLECTION_ID}/items/live");
    Setup {
        runtime,
        client,
        raw,
        url,
    }
}

async fn through_client(client: &Client) {
    let created = client
        .create_live_item(COLLECTION_ID, item())
        .await
        .unwrap();
    assert_eq!(created.field_data.slug, "blue-mug");
}

async fn hand_built(raw: &reqwest::Client, url: &str) {
    let body = serde_json::to_vec(&item()).unwrap();
    let response = raw
        .post(url)
        .header(ACCEPT, "application/json")
        .header(HeaderName::from_static("api-version"), "2.0.0")
        .header(CONTENT_TYPE, "application/json")
        .timeout(Duration::from_secs(60))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let bytes = response.bytes().await.unwrap();
    let created: CreatedLiveItems = serde_json::from_slice(&bytes).unwrap();
    assert!(matches!(created, CreatedLiveItems::CollectionItem(_)));
}

fn create_one(c: &mut Criterion) {
    let Setup {
        runtime,
        client,
        raw,
        url,
    } = setup(None);
    let mut group = c.benchmark_group("create_one_item");
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("webflow_api_client", |b| {
        b.to_async(&runtime).iter(|| through_client(&client))
    });
    group.bench_function("hand_built_reqwest", |b| {
        b.to_async(&runtime).iter(|| hand_built(&raw, &url))
    });
    group.finish();
}

/// Alternating rounds of 200 calls each way (the client, hand-built reqwest); prints the
/// median of the per-round ratios.
fn interleaved_ratio(label: &str, base_url: Option<&str>) {
    let Setup {
        runtime,
        client,
        raw,
        url,
    } = setup(base_url);
    runtime.block_on(async {
        for _ in 0..500 {
            through_client(&client).await;
            hand_built(&raw, &url).await;
        }
        let mut ratios = Vec::new();
        let mut totals = [Duration::ZERO; 2];
        const ROUNDS: usize = 30;
        const CALLS: usize = 200;
        for round in 0..ROUNDS {
            let mut times = [Duration::ZERO; 2];
            // Alternate which side goes first, so neither always runs on a warmer cache.
            for step in 0..2 {
                let side = (round + step) % 2;
                let started = Instant::now();
                for _ in 0..CALLS {
                    match side {
                        0 => through_client(&client).await,
                        _ => hand_built(&raw, &url).await,
                    }
                }
                times[side] = started.elapsed();
            }
            for side in 0..2 {
                totals[side] += times[side];
            }
            ratios.push(times[0].as_secs_f64() / times[1].as_secs_f64());
        }
        let per_call = |total: Duration| total.as_secs_f64() * 1e6 / (ROUNDS * CALLS) as f64;
        ratios.sort_by(f64::total_cmp);
        println!(
            "interleaved, {label}: client {:.1} µs/call, hand-built {:.1} µs/call; ratio, median \
             (min..max of {ROUNDS} rounds): {:.3} ({:.3}..{:.3})",
            per_call(totals[0]),
            per_call(totals[1]),
            ratios[ROUNDS / 2],
            ratios[0],
            ratios[ROUNDS - 1],
        );
    });
}

criterion_group!(benches, create_one);

/// Serves until stdin closes, printing the base URL first (`--serve`).
fn serve_until_stdin_closes() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        println!("{}", serve().await);
        tokio::task::spawn_blocking(|| {
            let mut sink = String::new();
            while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {}
        })
        .await
        .unwrap();
    });
}

/// `--calls <client|hand-built> <n>`: 200 calls to warm up, then `n` calls of one side
/// against a server in this process, and nothing else: for instruction counts (callgrind),
/// whose difference between two values of `n` is the cost of the calls alone.
fn calls_only(side: &str, n: usize) {
    let Setup {
        runtime,
        client,
        raw,
        url,
    } = setup(None);
    runtime.block_on(async {
        for _ in 0..200 + n {
            match side {
                "client" => through_client(&client).await,
                "hand-built" => hand_built(&raw, &url).await,
                other => panic!("--calls takes `client` or `hand-built`, not `{other}`"),
            }
        }
    });
}

fn main() {
    if std::env::args().any(|a| a == "--serve") {
        serve_until_stdin_closes();
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--calls") {
        let n = args
            .get(at + 2)
            .and_then(|n| n.parse().ok())
            .unwrap_or(2000);
        calls_only(args.get(at + 1).map_or("client", String::as_str), n);
        return;
    }
    // `cargo test --benches` runs bench binaries without `--bench`: do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    // `-- --interleaved-only` skips criterion's measurements.
    if !std::env::args().any(|a| a == "--interleaved-only") {
        benches();
        Criterion::default().configure_from_args().final_summary();
    }
    interleaved_ratio("server in this process", None);
    let mut server = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--serve")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    interleaved_ratio("server in a separate process", Some(line.trim()));
    drop(server.stdin.take());
    server.wait().unwrap();
}
