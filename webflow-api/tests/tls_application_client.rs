//! An application's own `reqwest::Client` beside ours, in the configurations the crate
//! documents as supported. (This crate turns on reqwest's `rustls-no-provider` feature, so
//! in the dependency graph a plain `reqwest::Client::new()` needs a crypto provider: one
//! that reqwest's default `rustls` feature brings, one the application installs, or the
//! crate's own TLS set-up via `webflow_api::reqwest_builder()`.)
//!
//! Its own test binary (a process of its own): the default provider is process-wide.

#[test]
fn an_application_client_builds_beside_ours() {
    let _ours = webflow_api::Client::from_token("wf-tls-test-token").unwrap();
    // Started from the crate's builder: its TLS set-up, no process-wide provider needed.
    let _from_our_builder = webflow_api::reqwest_builder()
        .unwrap()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    assert!(rustls::crypto::CryptoProvider::get_default().is_none());
    // An application that installs its provider at start, as `rustls-no-provider` asks.
    rustls::crypto::ring::default_provider()
        .install_default()
        .unwrap();
    let _plain = webflow_api::reqwest::Client::new();
    let _ours_again = webflow_api::Client::from_token("wf-tls-test-token").unwrap();
}
