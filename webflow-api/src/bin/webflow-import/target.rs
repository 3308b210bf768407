//! Where the items go: Webflow, with `WEBFLOW_API_TOKEN` and a collection, or the embedded
//! mock, only with an explicit `--mock`.

use webflow_api::mock::MockWebflow;
use webflow_api::time::ManualClock;
use webflow_api::{ApiToken, Client, TOKEN_ENV};

/// The environment variable naming the collection when `--collection` is not given.
pub const COLLECTION_ENV: &str = "WEBFLOW_COLLECTION_ID";

/// The mock's options. (`--mock-state FILE`, a mock that keeps its items between runs, is
/// to join `--mock` here.)
#[derive(clap::Args, Debug)]
pub struct MockOptions {
    /// Import into a local mock Webflow started in the process instead of Webflow: a
    /// rehearsal, nothing leaves the machine (WEBFLOW_API_TOKEN is not needed, and ignored)
    #[arg(long)]
    pub mock: bool,
}

/// Where items go.
pub enum Target {
    /// Webflow (or `WEBFLOW_API_BASE_URL`), with a token.
    Webflow { token: ApiToken, collection: String },
    /// The embedded mock (`--mock`).
    Mock { collection: String },
    /// Nowhere: a dry run without `--resume` sends nothing, and needs neither.
    Offline,
}

impl Target {
    /// Reads `WEBFLOW_API_TOKEN` and the collection. `sends` is whether the run sends any
    /// request at all (everything but a dry run without `--resume`).
    pub fn choose(
        mock: &MockOptions,
        collection: Option<&str>,
        sends: bool,
    ) -> Result<Target, String> {
        if mock.mock {
            let collection = collection.unwrap_or(MockWebflow::COLLECTION_ID).to_owned();
            return Ok(Target::Mock { collection });
        }
        if std::env::var_os(TOKEN_ENV).is_none() {
            if !sends {
                return Ok(Target::Offline);
            }
            return Err(format!(
                "{TOKEN_ENV} is not set: set it to a site API token with cms:write (and \
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

/// Builds the client for `target` (starting the mock for `--mock`); `None` for a run that
/// sends nothing (`sends` false, or [`Target::Offline`]).
pub async fn connect(target: Target, sends: bool) -> Result<Option<Connected>, String> {
    match target {
        _ if !sends => Ok(None),
        Target::Offline => Ok(None),
        Target::Webflow { token, collection } => {
            let client = Client::builder()
                .token(token)
                .build()
                .map_err(|e| e.to_string())?;
            Ok(Some(Connected {
                client,
                collection,
                mock: None,
            }))
        }
        Target::Mock { collection } => {
            // The client and the mock share a clock that moves only when the client waits:
            // the mock's rate limit and the settle delay take no real time.
            let clock = ManualClock::new();
            let mock = MockWebflow::builder()
                .rate_limit(120)
                .clock(clock.clone())
                .token(MockWebflow::TOKEN)
                .start()
                .await;
            let client = Client::builder()
                .token(ApiToken::new(MockWebflow::TOKEN).map_err(|e| e.to_string())?)
                .base_url(mock.base_url())
                .clock(clock)
                .build()
                .map_err(|e| e.to_string())?;
            Ok(Some(Connected {
                client,
                collection,
                mock: Some(mock),
            }))
        }
    }
}
