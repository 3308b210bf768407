//! Decoding never panics: arbitrary bytes as any response body, directly and through the
//! client with any status, give a value or an error.

use std::future::IntoFuture;

use proptest::prelude::*;
use webflow_api::mock::{Fault, MockResponse, MockWebflow};
use webflow_api::{
    CollectionItem, CreateLiveItemsBody, CreatedLiveItems, Error, NewItem, RetryPolicy,
    WebflowError,
};

use crate::support::client_with_manual_clock;

/// Bytes that are sometimes JSON-like, sometimes not.
fn bodies() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..600),
        "[\\[\\]{}\":,0-9a-zé\\\\ntrue]{0,80}".prop_map(String::into_bytes),
        Just(br#"{"items": [{"id": 1}]}"#.to_vec()),
        Just(br#"{"code": 7, "message": null, "details": "x"}"#.to_vec()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn decoding_arbitrary_bytes_never_panics(body in bodies()) {
        let _ = serde_json::from_slice::<CreatedLiveItems>(&body);
        let _ = serde_json::from_slice::<CollectionItem>(&body);
        let _ = serde_json::from_slice::<WebflowError>(&body);
        let _ = serde_json::from_slice::<CreateLiveItemsBody>(&body);
    }
}

#[test]
fn any_status_and_body_through_the_client_never_panics() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mock = runtime.block_on(MockWebflow::start());
    let (client, _clock) = client_with_manual_clock(&mock.base_url(), RetryPolicy::none());
    let statuses = prop_oneof![
        Just(200u16),
        Just(202),
        Just(400),
        Just(404),
        Just(429),
        Just(500),
        Just(502),
        200u16..600
    ];
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 96,
        ..ProptestConfig::default()
    });
    runner
        .run(&(statuses, bodies()), |(status, body)| {
            mock.push_fault(Fault::instead(
                MockResponse::status(status).body(body.clone()),
            ));
            let create =
                client.create_live_item(MockWebflow::COLLECTION_ID, NewItem::new("A", "a"));
            let outcome = runtime.block_on(create.into_future());
            if let Err(Error::UndecodableResponse(bad)) = &outcome {
                prop_assert!(bad.excerpt.chars().count() <= webflow_api::BODY_EXCERPT_LIMIT + 1);
                // 204, 205 and 304 answers carry no body on the wire, whatever the mock was given.
                if ![204, 205, 304].contains(&status) {
                    prop_assert_eq!(bad.body_len, body.len());
                }
            }
            if (200..300).contains(&status) && outcome.is_ok() {
                prop_assert!(serde_json::from_slice::<CreatedLiveItems>(&body).is_ok());
            }
            Ok(())
        })
        .unwrap();
}
