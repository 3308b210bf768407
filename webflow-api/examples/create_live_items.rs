//! Create live CMS items.
//!
//! With `WEBFLOW_API_TOKEN` and `WEBFLOW_COLLECTION_ID` set, creates exactly one item (one
//! request) in that collection on the real API — or at `WEBFLOW_API_BASE_URL` when set —
//! and prints it. Without them, starts the embedded mock on 127.0.0.1, creates one item
//! and a bulk of three against it, and prints what was sent and what came back.
//!
//! ```text
//! cargo run --example create_live_items
//! WEBFLOW_API_TOKEN=... WEBFLOW_COLLECTION_ID=... cargo run --example create_live_items -- "Item name"
//! ```

use std::process::ExitCode;

use webflow_api::mock::MockWebflow;
use webflow_api::{ApiToken, Client, NewItem};

#[tokio::main]
async fn main() -> ExitCode {
    let token = std::env::var("WEBFLOW_API_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty());
    let collection_id = std::env::var("WEBFLOW_COLLECTION_ID")
        .ok()
        .filter(|c| !c.trim().is_empty());
    let result = match (token, collection_id) {
        (Some(_), Some(collection_id)) => create_one(&collection_id).await,
        (None, None) => run_on_mock().await,
        (Some(_), None) => Err(
            "WEBFLOW_API_TOKEN is set but WEBFLOW_COLLECTION_ID is not: set both to \
             create an item in your collection, or neither to run against the local mock"
                .to_owned(),
        ),
        (None, Some(_)) => Err(
            "WEBFLOW_COLLECTION_ID is set but WEBFLOW_API_TOKEN is not: set both to \
             create an item in your collection, or neither to run against the local mock"
                .to_owned(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// One request to the real API (or `WEBFLOW_API_BASE_URL`).
async fn create_one(collection_id: &str) -> Result<(), String> {
    let client = Client::from_env().map_err(|e| e.to_string())?;
    let name = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "Created by webflow-api-rs".to_owned());
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    let slug = format!("webflow-api-rs-{stamp}");
    let item = client
        .create_live_item(collection_id, NewItem::new(name, slug))
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "{}",
        serde_json::to_string_pretty(&item).map_err(|e| e.to_string())?
    );
    Ok(())
}

/// The embedded default: a local mock, one single create and one bulk create of three.
async fn run_on_mock() -> Result<(), String> {
    let mock = MockWebflow::start().await;
    eprintln!(
        "WEBFLOW_API_TOKEN and WEBFLOW_COLLECTION_ID are not set: using a local mock at {}",
        mock.base_url()
    );
    let client = Client::builder()
        .token(ApiToken::new("mock-token").map_err(|e| e.to_string())?)
        .base_url(mock.base_url())
        .build()
        .map_err(|e| e.to_string())?;
    let collection = MockWebflow::COLLECTION_ID;

    let single = client
        .create_live_item(
            collection,
            NewItem::new("Blue Mug", "blue-mug")
                .field("price", 12.5)
                .field("color", "#1e3a8a"),
        )
        .skip_invalid_files(false)
        .await
        .map_err(|e| e.to_string())?;
    let bulk = client
        .create_live_items(
            collection,
            (1..=3).map(|n| {
                NewItem::new(format!("Plate {n}"), format!("plate-{n}")).field("price", 8 * n)
            }),
        )
        .await
        .map_err(|e| e.to_string())?;

    for request in mock.requests() {
        let query = request.query.map(|q| format!("?{q}")).unwrap_or_default();
        println!("sent:     {} {}{query}", request.method, request.path);
        println!("          {}", request.body);
        println!("answered: {}", request.status);
    }
    println!("created (single): {} {}", single.id, single.field_data.slug);
    for item in &bulk {
        println!("created (bulk):   {} {}", item.id, item.field_data.slug);
    }
    println!("rate limit: {:?}", client.rate_limit());
    Ok(())
}
