//! Where the items go: Webflow, with `WEBFLOW_API_TOKEN` and a collection, or the embedded
//! mock, only with an explicit `--mock`.

use std::path::PathBuf;
use std::time::Duration;

use webflow_api::mock::MockWebflow;
use webflow_api::time::ManualClock;
use webflow_api::{ApiToken, Client, RetryPolicy, TOKEN_ENV};

/// The environment variable naming the collection when `--collection` is not given.
pub const COLLECTION_ENV: &str = "WEBFLOW_COLLECTION_ID";

/// The mock's options.
#[derive(clap::Args, Debug)]
pub struct MockOptions {
    /// Import into a local mock Webflow started in the process instead of Webflow: a
    /// rehearsal, nothing leaves the machine (WEBFLOW_API_TOKEN is not needed, and ignored)
    #[arg(long)]
    pub mock: bool,

    /// With --mock: keep the mock's collections in FILE between runs (created if missing),
    /// so a stopped rehearsal can be resumed, or a sync run twice
    #[arg(long, value_name = "FILE", requires = "mock")]
    pub mock_state: Option<PathBuf>,
}

/// Where items go.
pub enum Target {
    /// Webflow (or `WEBFLOW_API_BASE_URL`), with a token.
    Webflow { token: ApiToken, collection: String },
    /// The embedded mock (`--mock`), keeping its state in a file when given.
    Mock {
        collection: String,
        state: Option<PathBuf>,
    },
}

impl Target {
    /// Reads `WEBFLOW_API_TOKEN` and the collection. Every run needs one or the other: a dry
    /// run reads the collection's schema and items too.
    pub fn choose(mock: &MockOptions, collection: Option<&str>) -> Result<Target, String> {
        if mock.mock {
            let collection = collection.unwrap_or(MockWebflow::COLLECTION_ID).to_owned();
            return Ok(Target::Mock {
                collection,
                state: mock.mock_state.clone(),
            });
        }
        if std::env::var_os(TOKEN_ENV).is_none() {
            return Err(format!(
                "{TOKEN_ENV} is not set: set it to a site API token with cms:read and cms:write (and \
                 {COLLECTION_ENV} or --collection to the collection's id), or pass --mock to \
                 rehearse against a local mock Webflow (nothing leaves the machine)"
            ));
        }
        let token = ApiToken::from_env().map_err(|e| {
            format!("{e} (or pass --mock to rehearse against a local mock Webflow)")
        })?;
        let collection = match collection {
            Some(collection) => collection.to_owned(),
            None => std::env::var(COLLECTION_ENV)
                .ok()
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty())
                .ok_or_else(|| {
                    format!(
                        "no collection: pass --collection ID or set {COLLECTION_ENV} \
                         (the collection id from the Webflow designer's CMS settings)"
                    )
                })?,
        };
        Ok(Target::Webflow { token, collection })
    }

    /// Whether this is the embedded mock.
    pub fn is_mock(&self) -> bool {
        matches!(self, Target::Mock { .. })
    }
}

/// The client (and the mock it talks to, kept alive while the import runs).
pub struct Connected {
    pub client: Client,
    pub collection: String,
    pub mock: Option<MockWebflow>,
}

/// Builds the client for `target` (starting the mock for `--mock`), sending at most `rate`
/// requests a minute when given.
pub async fn connect(target: Target, rate: Option<u32>) -> Result<Connected, String> {
    let capped = |builder: webflow_api::ClientBuilder| match rate {
        Some(rate) => {
            // A call waits at most `max_wait` for a rate-limit slot: let it wait one slot at
            // this rate (60 s / N, and 10 % for the pacer's margin), or below about one a
            // minute every call that has to wait for its slot would end unsent.
            let policy = RetryPolicy::default();
            let slot = Duration::from_secs(66) / rate.max(1);
            let max_wait = policy.max_wait.max(slot);
            builder
                .max_requests_per_minute(rate)
                .retry_policy(policy.with_max_wait(max_wait))
        }
        None => builder,
    };
    match target {
        Target::Webflow { token, collection } => {
            let client = capped(Client::builder().token(token))
                .build()
                .map_err(|e| e.to_string())?;
            Ok(Connected {
                client,
                collection,
                mock: None,
            })
        }
        Target::Mock { collection, state } => {
            // The client and the mock share a clock that moves only when the client waits:
            // the mock's rate limit and the settle delay take no real time.
            let clock = ManualClock::new();
            let mut builder = MockWebflow::builder()
                .rate_limit(120)
                .clock(clock.clone())
                .token(MockWebflow::TOKEN);
            if let Some(state) = &state {
                builder = builder.state_file(state.clone());
            }
            let mock = builder.try_start().await.map_err(|e| match &state {
                Some(state) => format!("cannot start the mock with {}: {e}", state.display()),
                None => format!("cannot start the mock: {e}"),
            })?;
            let client = capped(
                Client::builder()
                    .token(ApiToken::new(MockWebflow::TOKEN).map_err(|e| e.to_string())?)
                    .base_url(mock.base_url())
                    .clock(clock),
            )
            .build()
            .map_err(|e| e.to_string())?;
            Ok(Connected {
                client,
                collection,
                mock: Some(mock),
            })
        }
    }
}
