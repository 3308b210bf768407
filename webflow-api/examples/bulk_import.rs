//! Import 250 generated items with `bulk_create_live`, against the embedded mock: requests
//! of 100, paced at the rate limit, a lost answer settled by looking the items up, and a
//! second run that skips what exists. For files and stdin use the `webflow-import` command
//! (`cargo run -p webflow-api --features cli --bin webflow-import -- --help`).
//!
//! ```text
//! cargo run -p webflow-api --example bulk_import
//! ```

use serde_json::json;
use webflow_api::mock::{Fault, MockResponse, MockWebflow};
use webflow_api::time::ManualClock;
use webflow_api::{ApiToken, BulkEvent, Client, NewItem};

#[tokio::main]
async fn main() -> Result<(), webflow_api::Error> {
    // The client and the mock share a clock that moves only when the client waits, so the
    // rate-limit and settle waits take no real time.
    let clock = ManualClock::new();
    let mock = MockWebflow::builder()
        .rate_limit(120)
        .clock(clock.clone())
        .start()
        .await;
    // The second request (items 100..200) is created, but its answer is lost.
    mock.fault_on_request(
        2,
        Fault::after_processing(MockResponse::webflow_error(
            500,
            "internal_error",
            "Oops",
            json!([]),
        )),
    );
    let client = Client::builder()
        .token(ApiToken::new(MockWebflow::TOKEN)?)
        .base_url(mock.base_url())
        .clock(clock.clone())
        .build()?;

    let items = || (0..250).map(|n| NewItem::new(format!("Product {n}"), format!("product-{n}")));
    let report = client
        .bulk_create_live(MockWebflow::COLLECTION_ID)
        .on_progress(|event| {
            if let BulkEvent::Settled { found, absent, list_requests, .. } = event {
                println!("settled a lost answer: {found} found, {absent} absent, {list_requests} list requests");
            }
        })
        .run(items())
        .await?;
    let s = &report.summary;
    println!(
        "first run: {} created ({} settled by lookup), {} unknown, {} requests, {:?} on the clock",
        s.created, s.settled, s.unknown, s.requests, s.elapsed
    );

    let again = client
        .bulk_create_live(MockWebflow::COLLECTION_ID)
        .skip_existing(true)
        .run(items())
        .await?;
    let s = &again.summary;
    println!(
        "second run: {} skipped, {} created, {} create requests, {} list requests",
        s.skipped, s.created, s.create_requests, s.list_requests
    );
    assert_eq!(mock.created_items().len(), 250);
    assert!(mock.duplicates().is_empty());
    Ok(())
}
