//! Building a client changes no process-wide state: no rustls crypto provider is installed,
//! so an application that installs its own afterwards (as applications using aws-lc-rs do,
//! `aws_lc_rs::default_provider().install_default().unwrap()`) does not panic.
//!
//! Its own test binary (a process of its own): the default provider is process-wide. The
//! application's provider here is `ring`, which this crate already compiles; `install_default`
//! fails (and the application's `unwrap` panics) for any provider once one is installed.

#[test]
fn an_application_installs_its_provider_after_building_our_client() {
    // The default base URL is https, so building the client sets TLS up.
    let ours = webflow_api::Client::from_token("wf-tls-test-token").unwrap();
    assert!(ours.base_url().starts_with("https://"));
    assert!(
        rustls::crypto::CryptoProvider::get_default().is_none(),
        "building the client installed a process-wide provider"
    );
    rustls::crypto::ring::default_provider()
        .install_default()
        .expect("the application's provider is the first one");
    let again = webflow_api::Client::from_token("wf-tls-test-token").unwrap();
    assert!(again.base_url().starts_with("https://"));
}
