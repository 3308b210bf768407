//! `webflow-mock`: the embedded mock of Webflow's CMS endpoints (`webflow_api::mock`) as a
//! standalone server on 127.0.0.1, for any language's tests, and for rehearsing an import
//! without an account (with `--state`, the collection outlives each run).
//!
//! ```text
//! cargo run -p webflow-api --features cli --bin webflow-mock -- [OPTIONS]
//! ```
//!
//! Stdout carries one line, `WEBFLOW_API_BASE_URL=http://127.0.0.1:<port>/v2`, as soon as
//! the server listens; everything else goes to stderr. It runs until Ctrl-C or SIGTERM.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use serde_json::Value;
use webflow_api::BASE_URL_ENV;
use webflow_api::mock::{DuplicateSlugs, MockWebflow};

/// Exit code: a usage or configuration error (the server did not start).
const EXIT_USAGE: u8 = 2;

/// Serve a mock of Webflow's CMS item endpoints (Data API v2) on 127.0.0.1.
///
/// It answers create-item-live, list-collection-items, collection-details,
/// update-items-live, delete-items-live and delete-items as described in the webflow-api
/// crate's `mock` module: schemas checked, files re-hosted, slugs unique, rate limit as a
/// token bucket. Point a client at the base URL it prints, with any bearer token (or the
/// one given to --token).
#[derive(Parser, Debug)]
#[command(
    name = "webflow-mock",
    version,
    after_help = "\
Output:
  stdout  one line, WEBFLOW_API_BASE_URL=http://127.0.0.1:<port>/v2, once it listens
  stderr  everything else

Exit codes:
  0  stopped by Ctrl-C or SIGTERM
  2  usage or configuration error (a schema or state file that cannot be read, a port in
     use)"
)]
struct Args {
    /// Port on 127.0.0.1 (0: any free port)
    #[arg(long, default_value_t = 0)]
    port: u16,

    /// Keep the collections (schemas, items, counters) in FILE: loaded at start if it
    /// exists, saved after every change
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,

    /// Accept only this bearer token [default: any non-empty one]
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,

    /// Enforce N requests per minute (a token bucket of N, refilled N per minute)
    /// [default: none enforced, 120 advertised]
    #[arg(long, value_name = "N")]
    rate_limit: Option<u32>,

    /// What a create or update does with a slug already taken
    #[arg(long, value_enum, default_value_t = Slugs::Refuse)]
    duplicate_slugs: Slugs,

    /// Define a collection's schema from a JSON file in the shape GET /collections/{id}
    /// answers ({"fields": [{"slug", "type", "isRequired", "validations"}, ...]});
    /// repeatable
    #[arg(long = "collection", value_name = "ID=SCHEMA.json")]
    collections: Vec<String>,

    /// Give items created without a cmsLocaleId this locale
    #[arg(long, value_name = "CMS_LOCALE_ID")]
    primary_locale: Option<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Slugs {
    /// Refuse the request (400 validation_error)
    Refuse,
    /// Store the item under `<slug>-<5 hex digits>`
    Suffix,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// Starts the mock, prints its base URL, and serves until a signal; `Err` is why it could
/// not start.
async fn serve(args: Args) -> Result<(), String> {
    let mut builder =
        MockWebflow::builder()
            .port(args.port)
            .duplicate_slugs(match args.duplicate_slugs {
                Slugs::Refuse => DuplicateSlugs::Refuse,
                Slugs::Suffix => DuplicateSlugs::Suffix,
            });
    for collection in &args.collections {
        let (id, schema) = read_collection(collection)?;
        builder = builder.collection(&id, schema);
    }
    if let Some(path) = &args.state {
        builder = builder.state_file(path);
    }
    if let Some(token) = &args.token {
        builder = builder.token(token);
    }
    if let Some(limit) = args.rate_limit {
        builder = builder.rate_limit(limit);
    }
    if let Some(locale) = &args.primary_locale {
        builder = builder.primary_locale(locale);
    }
    let stop = stop_signal().map_err(|e| format!("cannot listen for signals: {e}"))?;
    let mock = builder
        .try_start()
        .await
        .map_err(|e| format!("cannot start on 127.0.0.1:{}: {e}", args.port))?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{BASE_URL_ENV}={}", mock.base_url())
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))?;
    drop(stdout);
    eprintln!(
        "webflow-mock: serving {}{}; Ctrl-C or SIGTERM stops it",
        mock.base_url(),
        args.state
            .as_ref()
            .map(|path| format!(", state in {}", path.display()))
            .unwrap_or_default()
    );
    stop.await;
    eprintln!(
        "webflow-mock: stopped after {} requests",
        mock.request_count()
    );
    Ok(())
}

/// `ID=SCHEMA.json`: the collection id and its schema, checked.
fn read_collection(argument: &str) -> Result<(String, Value), String> {
    let (id, path) = argument
        .split_once('=')
        .filter(|(id, path)| !id.is_empty() && !path.is_empty())
        .ok_or_else(|| format!("--collection {argument}: expected ID=SCHEMA.json"))?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("--collection {argument}: cannot read {path}: {e}"))?;
    let schema: Value = serde_json::from_str(&text)
        .map_err(|e| format!("--collection {argument}: {path} is not JSON: {e}"))?;
    MockWebflow::check_collection_schema(&schema)
        .map_err(|e| format!("--collection {argument}: {e}"))?;
    Ok((id.to_owned(), schema))
}

/// Resolves on the first Ctrl-C or SIGTERM; the handlers are installed before it returns.
fn stop_signal() -> std::io::Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
