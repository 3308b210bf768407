//! What runs around every request the generated client sends: the client's shared state
//! (`ClientState`) and its `progenitor_client::ClientHooks` implementation.

use std::fmt;
use std::sync::{Arc, Mutex};

use progenitor_client::{ClientHooks, OperationInfo};

use crate::Client;
use crate::call;
use crate::rate_limit::RateLimit;

/// State shared by a [`Client`] and all its clones. Built by [`ClientBuilder`](crate::ClientBuilder);
/// it has no public constructor.
#[derive(Clone)]
pub struct ClientState {
    pub(crate) shared: Arc<Shared>,
}

#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) last_rate_limit: Mutex<Option<RateLimit>>,
}

impl fmt::Debug for ClientState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientState")
            .field(
                "last_rate_limit",
                &self.shared.last_rate_limit.lock().ok().and_then(|g| *g),
            )
            .finish_non_exhaustive()
    }
}

impl Client {
    /// The rate-limit headers of the latest response any clone of this client received.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        *self
            .inner
            .shared
            .last_rate_limit
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

impl ClientHooks<ClientState> for Client {
    async fn exec(
        &self,
        request: reqwest::Request,
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        call::update(|record| record.attempts += 1);
        let response = self.client.execute(request).await?;
        if let Some(rate_limit) = RateLimit::from_headers(response.headers()) {
            *self
                .inner
                .shared
                .last_rate_limit
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some(rate_limit);
        }
        call::update(|record| {
            record.status = Some(response.status());
            record.headers = Some(response.headers().clone());
            record.received_at = Some(std::time::SystemTime::now());
        });
        Ok(response)
    }
}
