//! Import items from an NDJSON file: one new item per line, as the API takes it
//! (`{"fieldData": {"name": ..., "slug": ..., ...}, "isDraft": false}`).
//!
//! ```text
//! cargo run --example bulk_import -- items.ndjson
//! WEBFLOW_API_TOKEN=... WEBFLOW_COLLECTION_ID=... cargo run --example bulk_import -- items.ndjson
//! ```
//!
//! With `WEBFLOW_API_TOKEN` and `WEBFLOW_COLLECTION_ID` set it imports into that collection
//! (at `WEBFLOW_API_BASE_URL` when set); without them it runs against the embedded mock on
//! 127.0.0.1, enforcing 120 requests per minute on a clock 60 times faster than real time.
//! Without a file it imports 250 generated items. A progress bar runs on stderr; a
//! malformed line is reported with its line number and counted as failed. The last line on
//! stdout is a JSON summary; the exit code is 0 only when every item was created.
//! Ctrl-C stops sending; what was not sent is reported as not attempted.

use std::io::BufRead;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressStyle};
use webflow_api::mock::MockWebflow;
use webflow_api::time::ScaledClock;
use webflow_api::{ApiToken, BulkEvent, CancelToken, Client, ItemResult, NewItem};

/// The mock's clock (and the client's, against the mock) runs this much faster than real time.
const MOCK_TIME_SCALE: f64 = 60.0;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(all_created) if all_created => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Where the items come from: a file's lines, or generated ones.
enum Source {
    File(std::path::PathBuf),
    Generated(u64),
}

impl Source {
    fn lines(&self) -> Result<Box<dyn Iterator<Item = std::io::Result<String>> + Send>, String> {
        match self {
            Source::File(path) => {
                let file = std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
                Ok(Box::new(std::io::BufReader::new(file).lines()))
            }
            Source::Generated(n) => Ok(Box::new((0..*n).map(|i| {
                Ok(format!(r#"{{"fieldData": {{"name": "Product {i}", "slug": "product-{i}", "price": {}}}}}"#, 5 + i % 40))
            }))),
        }
    }
}

async fn run() -> Result<bool, String> {
    let source = match std::env::args_os().nth(1) {
        Some(path) => Source::File(path.into()),
        None => Source::Generated(250),
    };
    let token = std::env::var("WEBFLOW_API_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty());
    let collection = std::env::var("WEBFLOW_COLLECTION_ID")
        .ok()
        .filter(|c| !c.trim().is_empty());
    let (client, collection_id, _mock) = match (token, collection) {
        (Some(_), Some(collection_id)) => (Client::from_env().map_err(|e| e.to_string())?, collection_id, None),
        (None, None) => {
            let mock = MockWebflow::builder().rate_limit(120).time_scale(MOCK_TIME_SCALE).start().await;
            eprintln!("WEBFLOW_API_TOKEN and WEBFLOW_COLLECTION_ID are not set: importing into a local mock at {}", mock.base_url());
            let client = Client::builder()
                .token(ApiToken::new("mock-token").map_err(|e| e.to_string())?)
                .base_url(mock.base_url())
                .clock(ScaledClock::new(MOCK_TIME_SCALE))
                .build()
                .map_err(|e| e.to_string())?;
            (client, MockWebflow::COLLECTION_ID.to_owned(), Some(mock))
        }
        _ => return Err("set both WEBFLOW_API_TOKEN and WEBFLOW_COLLECTION_ID, or neither to use the local mock".into()),
    };

    // Count the non-blank lines first, for the progress bar's length.
    let total = source
        .lines()?
        .filter(|line| line.as_ref().map_or(true, |l| !l.trim().is_empty()))
        .count() as u64;
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} items  {msg}")
            .map_err(|e| e.to_string())?,
    );

    // Blank and malformed lines are skipped (malformed ones count as failed); remember
    // their numbers to map the importer's item index back to a line number.
    let skipped_lines = Arc::new(Mutex::new(Vec::<u64>::new()));
    let skipped = skipped_lines.clone();
    let progress_bar = bar.clone();
    let items = source
        .lines()?
        .enumerate()
        .filter_map(move |(number, line)| {
            let number = number as u64 + 1;
            let parsed = line.map_err(|e| e.to_string()).and_then(|line| {
                if line.trim().is_empty() {
                    return Ok(None);
                }
                serde_json::from_str::<NewItem>(&line)
                    .map(Some)
                    .map_err(|e| e.to_string())
            });
            match parsed {
                Ok(Some(item)) => Some(item),
                Ok(None) => {
                    skipped.lock().unwrap().push(number);
                    None
                }
                Err(error) => {
                    progress_bar
                        .suspend(|| eprintln!("line {number}: malformed, skipped: {error}"));
                    progress_bar.inc(1);
                    skipped.lock().unwrap().push(number);
                    None
                }
            }
        });

    let cancel = CancelToken::new();
    let on_ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.cancel();
        }
    });

    let events_bar = bar.clone();
    let outcome_bar = bar.clone();
    let summary = client
        .bulk_create_live(&collection_id)
        .cancel_token(cancel)
        .on_progress(move |event| match event {
            BulkEvent::WaitingForRateLimit { wait, .. } if wait.as_secs() >= 2 => {
                events_bar.set_message(format!("waiting {}s for the rate limit", wait.as_secs()));
            }
            BulkEvent::Progress(_) => events_bar.set_message(""),
            _ => {}
        })
        .run_with(items, |outcome| {
            outcome_bar.inc(1);
            let line = line_of(outcome.index, &skipped_lines.lock().unwrap());
            let problem = match &outcome.result {
                ItemResult::Failed { error } => Some(format!("failed: {error}")),
                ItemResult::Unknown { error } => {
                    Some(format!("outcome unknown, may exist, not resent: {error}"))
                }
                ItemResult::NotAttempted => Some("not attempted (cancelled)".to_owned()),
                _ => None,
            };
            if let Some(problem) = problem {
                outcome_bar.suspend(|| eprintln!("line {line} ({}): {problem}", outcome.slug));
            }
        })
        .await
        .map_err(|e| e.to_string())?;
    bar.finish_and_clear();

    // Every non-blank line not handed to the importer was malformed.
    let malformed = total - summary.total;
    let failed = summary.failed + malformed;
    println!(
        "{}",
        serde_json::json!({
            "created": summary.created,
            "failed": failed,
            "unknown": summary.unknown,
            "not_attempted": summary.not_attempted,
            "requests": summary.requests,
            "throttled": summary.throttled,
            "malformed_lines": malformed,
            "elapsed_seconds": summary.elapsed.as_secs_f64(),
        })
    );
    Ok(summary.all_created() && malformed == 0)
}

/// The line number of the importer's `index`-th item, given the (sorted) skipped lines.
fn line_of(index: u64, skipped: &[u64]) -> u64 {
    let mut line = index + 1;
    for &skipped_line in skipped {
        if skipped_line <= line {
            line += 1;
        } else {
            break;
        }
    }
    line
}
