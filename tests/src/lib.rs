//! Integration and insta snapshot tests of `webflow-api`, run against the embedded mock
//! server on 127.0.0.1: the requests the client really sends, the values it decodes, and
//! the JSON Schemas of its public types.
//!
//! Everything is in this library's unit tests so the suite links one test binary.

#[cfg(test)]
mod support;

#[cfg(test)]
mod bulk;
#[cfg(test)]
mod bulk_faults;
#[cfg(test)]
mod client_config;
#[cfg(test)]
mod decoding;
#[cfg(test)]
mod faults;
#[cfg(test)]
mod listing;
#[cfg(test)]
mod mock_adversarial;
#[cfg(test)]
mod mock_schemas;
#[cfg(test)]
mod mock_server;
#[cfg(test)]
mod mock_state;
#[cfg(test)]
mod mock_sync;
#[cfg(test)]
mod pacing;
#[cfg(test)]
mod paging_churn;
#[cfg(test)]
mod request_path;
#[cfg(test)]
mod responses;
#[cfg(test)]
mod schemas;
#[cfg(test)]
mod secrets;
#[cfg(test)]
mod settle;
#[cfg(test)]
mod sync;
#[cfg(test)]
mod truth;
#[cfg(test)]
mod upstream_examples;
#[cfg(test)]
mod wire;

/// The repository README's examples, compiled and run as this crate's doctests (nothing else
/// builds it). They live here, not in webflow-api, because the README is outside the
/// published package: webflow-api's doctests run from its `.crate` as they do here.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct RepositoryReadme;
