//! One create through the client versus the same request hand-built with reqwest, against
//! the same local HTTP server on 127.0.0.1, in the same run.
//!
//! `cargo bench -p webflow-api --bench create`

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, USER_AGENT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use webflow_api::{ApiToken, Client, CollectionItem, NewItem, RetryPolicy};

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

fn create_one(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let base_url = runtime.block_on(serve());

    let client = Client::builder()
        .token(ApiToken::new("bench-token").unwrap())
        .base_url(&base_url)
        .retry_policy(RetryPolicy::default())
        .build()
        .unwrap();

    let mut headers = HeaderMap::new();
    let mut authorization = HeaderValue::from_static("Bearer bench-token");
    authorization.set_sensitive(true);
    headers.insert(AUTHORIZATION, authorization);
    headers.insert(USER_AGENT, HeaderValue::from_static("hand-built"));
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    let raw = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();
    let url = format!("{base_url}/collections/{COLLECTION_ID}/items/live");

    let mut group = c.benchmark_group("create_one_item");
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("webflow_api_client", |b| {
        b.to_async(&runtime).iter(|| async {
            let created = client
                .create_live_item(COLLECTION_ID, item())
                .await
                .unwrap();
            assert_eq!(created.field_data.slug, "blue-mug");
        })
    });
    group.bench_function("hand_built_reqwest", |b| {
        b.to_async(&runtime).iter(|| async {
            let body = serde_json::to_vec(&item()).unwrap();
            let response = raw
                .post(&url)
                .header(CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 202);
            let bytes = response.bytes().await.unwrap();
            let created: CollectionItem = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(created.field_data.slug, "blue-mug");
        })
    });
    group.finish();
}

criterion_group!(benches, create_one);
criterion_main!(benches);
