//! What one logical call saw across its attempts (attempt count, 429s met, the final
//! status and headers), collected by the request hooks for the code that started the call.
//!
//! The generated client drops the status when a body fails to decode, and hides retries
//! inside the hook; this record, scoped to the calling task, carries both back.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;

use crate::error::TimeoutKind;
use crate::rate_limit::RateLimit;

tokio::task_local! {
    static CURRENT: Arc<Mutex<CallRecord>>;
}

/// What the hooks observed during one call.
#[derive(Clone, Debug, Default)]
pub(crate) struct CallRecord {
    /// Requests sent (1 unless retried).
    pub(crate) attempts: u32,
    /// 429 answers met.
    pub(crate) throttled: u32,
    /// Status of the last answer.
    pub(crate) status: Option<StatusCode>,
    /// The rate-limit headers of the last answer.
    pub(crate) rate_limit: Option<RateLimit>,
    /// When the last answer arrived, by the client's clock.
    pub(crate) received_at: Option<SystemTime>,
    /// The timeout applied to the last attempt, and which limit it came from.
    pub(crate) timeout: Option<(TimeoutKind, Duration)>,
}

impl CallRecord {
    /// The time to read an HTTP-date `Retry-After` against.
    pub(crate) fn now(&self) -> SystemTime {
        self.received_at.unwrap_or_else(SystemTime::now)
    }
}

/// Runs `call` with a fresh record in scope and returns its output with the record.
pub(crate) async fn recorded<F: Future>(call: F) -> (F::Output, CallRecord) {
    let record = Arc::new(Mutex::new(CallRecord::default()));
    let output = CURRENT.scope(record.clone(), call).await;
    let record = std::mem::take(&mut *record.lock().unwrap_or_else(|e| e.into_inner()));
    (output, record)
}

/// Updates the record of the call in scope, if there is one (calls made through the raw
/// generated builder have none).
pub(crate) fn update(change: impl FnOnce(&mut CallRecord)) {
    let _ =
        CURRENT.try_with(|record| change(&mut record.lock().unwrap_or_else(|e| e.into_inner())));
}
