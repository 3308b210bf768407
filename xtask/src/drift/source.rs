//! Getting the upstream document: from a file, or over HTTPS, as a JSON value; every
//! failure is one paragraph that names the file or URL and the cause.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::spec_file;

/// Webflow's spec is ~3.4 MB; anything past this is not it.
const MAX_DOWNLOAD: u64 = 64 * 1024 * 1024;

/// Reads `source`: an `https://` URL is fetched, anything else is a path.
pub fn load(source: &str) -> Result<Value, String> {
    if source.starts_with("https://") {
        let text = fetch(source)?;
        spec_file::parse_document(&text)
            .map_err(|cause| format!("the upstream document at {source} is {cause}"))
    } else if source.starts_with("http://") {
        Err(format!(
            "refusing to fetch {source}: only https URLs are fetched, so that the document cannot be \
             altered on the way. Use the https URL, or download the file and pass its path."
        ))
    } else {
        let (_, value) = spec_file::read_document(Path::new(source)).map_err(|e| {
            format!(
                "cannot use the upstream document {}: {}",
                e.path.display(),
                e.cause
            )
        })?;
        Ok(value)
    }
}

fn fetch(url: &str) -> Result<String, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into();
    let failed = |cause: String| {
        format!(
            "cannot fetch the upstream document from {url}: {cause}. Check the URL and the network, \
             or download the file and pass its path to --upstream."
        )
    };
    let mut response = agent.get(url).call().map_err(|e| {
        failed(match e {
            ureq::Error::StatusCode(status) => format!("the server answered HTTP {status}"),
            other => other.to_string(),
        })
    })?;
    response
        .body_mut()
        .with_config()
        .limit(MAX_DOWNLOAD)
        .read_to_string()
        .map_err(|e| failed(format!("reading the body failed ({e})")))
}
