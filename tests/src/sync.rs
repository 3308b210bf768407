//! Keeping a collection in step with a source (issue 15): sync (create what is missing,
//! update what changed, leave what is equal), prune and its guards, values as people write
//! them (option names, reference slugs, image URLs), the schema-checked dry run — each with
//! exact request counts against the mock and a check that nothing exists twice.

use std::collections::HashMap;

use serde_json::{Value, json};
use webflow_api::mock::{Fault, ItemChange, MockResponse, MockWebflow, MockWebflowBuilder};
use webflow_api::time::ManualClock;
use webflow_api::{BulkReport, Client, ItemResult, NewItem, Prune};

use crate::support::builder_for;

const PRODUCTS: &str = MockWebflow::COLLECTION_ID;
const MAKERS: &str = "6520d7b1a3c4e5f6071829aa";

/// A products collection with a field of every kind a sync maps, and a makers collection
/// its Reference fields point at.
fn schemas(builder: MockWebflowBuilder) -> MockWebflowBuilder {
    builder
        .collection(
            PRODUCTS,
            json!({"fields": [
                {"slug": "price", "type": "Number", "isRequired": true, "validations": {"minValue": 0}},
                {"slug": "color", "type": "Option", "validations": {"options": [
                    {"name": "Blue", "id": "opt-blue"}, {"name": "Red", "id": "opt-red"}]}},
                {"slug": "maker", "type": "Reference", "validations": {"collectionId": MAKERS}},
                {"slug": "tags", "type": "MultiReference", "validations": {"collectionId": MAKERS}},
                {"slug": "photo", "type": "Image"},
                {"slug": "released", "type": "DateTime"},
                {"slug": "featured", "type": "Switch"},
            ]}),
        )
        .collection(MAKERS, json!({"fields": []}))
}

async fn setup() -> (MockWebflow, Client, ManualClock) {
    let clock = ManualClock::new();
    let mock = schemas(MockWebflow::builder().clock(clock.clone()))
        .start()
        .await;
    mock.insert_items(
        MAKERS,
        [
            json!({"fieldData": {"name": "Acme", "slug": "acme"}}),
            json!({"fieldData": {"name": "Globex", "slug": "globex"}}),
        ],
    );
    let client = builder_for(&mock.base_url())
        .clock(clock.clone())
        .build()
        .unwrap();
    (mock, client, clock)
}

/// A product line as a person writes it: option by name, references by slug, image by URL.
fn product(n: u64, price: f64) -> NewItem {
    NewItem::new(format!("Product {n}"), format!("product-{n}"))
        .field("price", price)
        .field("color", if n.is_multiple_of(2) { "Blue" } else { "Red" })
        .field("maker", "acme")
        .field("tags", vec!["globex", "acme"])
        .field("photo", format!("https://example.com/img/product-{n}.png"))
        .field("released", "2024-05-01T00:00:00Z")
        .field("featured", n.is_multiple_of(3))
}

fn products(n: u64) -> Vec<NewItem> {
    (0..n).map(|i| product(i, 10.0 + i as f64)).collect()
}

/// (requests by method) the mock received since `from`.
fn requests_by_method(mock: &MockWebflow, from: usize) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for request in &mock.requests()[from..] {
        *counts.entry(request.method.clone()).or_default() += 1;
    }
    counts
}

fn writes(mock: &MockWebflow, from: usize) -> usize {
    let counts = requests_by_method(mock, from);
    counts
        .iter()
        .filter(|(m, _)| *m != "GET")
        .map(|(_, n)| *n)
        .sum()
}

/// No slug twice in the collection, and every item the report names is on the server.
fn assert_collection_true(report: &BulkReport, mock: &MockWebflow) {
    assert!(mock.duplicates().is_empty(), "{:?}", mock.duplicates());
    let items = mock.items(PRODUCTS);
    let mut slugs = std::collections::HashSet::new();
    for item in &items {
        let key = (
            item["cmsLocaleId"].clone(),
            item["fieldData"]["slug"].clone(),
        );
        assert!(slugs.insert(key), "twice: {item}");
    }
    for outcome in &report.outcomes {
        let id = match &outcome.result {
            ItemResult::Created { id, .. }
            | ItemResult::Updated { id, .. }
            | ItemResult::Unchanged { id, .. } => id,
            _ => continue,
        };
        assert!(
            items.iter().any(|item| item["id"] == id.as_str()),
            "{} reported as {id}, not on the server",
            outcome.slug
        );
    }
}

fn stored<'a>(items: &'a [Value], slug: &str) -> &'a Value {
    items
        .iter()
        .find(|item| item["fieldData"]["slug"] == slug)
        .unwrap_or_else(|| panic!("{slug} not stored"))
}

#[tokio::test]
async fn a_first_sync_creates_updates_and_leaves_equal_items_and_a_second_writes_nothing() {
    let (mock, client, _clock) = setup().await;
    // The collection already holds 250 of the 300 products: 200 as the source has them,
    // 50 with an older price.
    let report = client
        .bulk_create_live(PRODUCTS)
        .check_schema(true)
        .run(products(250))
        .await
        .unwrap();
    assert_eq!(report.summary.created, 250, "{:?}", report.summary);
    let mut source = products(300);
    for item in &mut source[..50] {
        item.field_data.extra.insert("price".into(), json!(99.5));
    }

    let before = mock.requests().len();
    let report = client
        .bulk_create_live(PRODUCTS)
        .update(true)
        .run(source.clone())
        .await
        .unwrap();
    assert_collection_true(&report, &mock);
    let s = &report.summary;
    assert_eq!(
        (s.created, s.updated, s.unchanged, s.failed, s.invalid),
        (50, 50, 200, 0, 0),
        "{s:?}"
    );
    assert!(s.all_done(), "{s:?}");
    // 1 schema + 1 page of the makers (2 items: the whole collection, so no lookup of acme
    // or globex) + 3 pages of the index (250 items, overlapping by one) + 1 create + 1
    // update.
    let counts = requests_by_method(&mock, before);
    assert_eq!(counts.get("GET"), Some(&5), "{counts:?}");
    assert_eq!(counts.get("POST"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("PATCH"), Some(&1), "{counts:?}");
    assert_eq!(s.requests, 7);
    match &report.outcomes[0].result {
        ItemResult::Updated { fields, .. } => assert_eq!(fields, &["price"]),
        other => panic!("{other:?}"),
    }
    let items = mock.items(PRODUCTS);
    assert_eq!(stored(&items, "product-0")["fieldData"]["price"], 99.5);

    // The same source again: nothing to write, images (re-hosted on the CDN) included.
    let before = mock.requests().len();
    let report = client
        .bulk_create_live(PRODUCTS)
        .update(true)
        .run(source)
        .await
        .unwrap();
    let s = &report.summary;
    assert_eq!((s.created, s.updated, s.unchanged), (0, 0, 300), "{s:?}");
    assert_eq!(writes(&mock, before), 0, "a second sync writes nothing");
}

#[tokio::test]
async fn option_names_reference_slugs_and_image_urls_are_sent_as_webflow_takes_them() {
    let (mock, client, _clock) = setup().await;
    let report = client
        .bulk_create_live(PRODUCTS)
        .check_schema(true)
        .run([product(0, 12.0)])
        .await
        .unwrap();
    assert_eq!(report.summary.created, 1, "{:?}", report.summary);
    let makers = mock.items(MAKERS);
    let id = |slug: &str| stored(&makers, slug)["id"].clone();
    let sent = mock
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    let fields = &sent.body["items"][0]["fieldData"];
    assert_eq!(fields["color"], "opt-blue");
    assert_eq!(fields["maker"], id("acme"));
    assert_eq!(fields["tags"], json!([id("globex"), id("acme")]));
    assert_eq!(fields["photo"], "https://example.com/img/product-0.png");
    let items = mock.items(PRODUCTS);
    let photo = &stored(&items, "product-0")["fieldData"]["photo"]["url"];
    assert!(
        photo
            .as_str()
            .unwrap()
            .starts_with("https://cdn.prod.website-files.com/"),
        "{photo}"
    );
}

#[tokio::test]
async fn the_dry_run_names_every_invalid_field_and_writes_nothing() {
    let (mock, client, _clock) = setup().await;
    mock.insert_items(
        PRODUCTS,
        [json!({"fieldData": {"name": "Product 1", "slug": "product-1", "price": 1}})],
    );
    let bad = vec![
        product(0, 5.0).field("pirce", 3),
        product(1, 7.0),
        NewItem::new("No price", "no-price"),
        product(3, -1.0),
        product(4, 1.0).field("color", "Green"),
        product(5, 1.0).field("maker", "nobody"),
        product(6, 1.0).field("featured", "yes"),
        product(7, 1.0),
    ];
    let before = mock.requests().len();
    let report = client
        .bulk_create_live(PRODUCTS)
        .update(true)
        .dry_run(true)
        .run(bad)
        .await
        .unwrap();
    let problems = |i: usize| match &report.outcomes[i].result {
        ItemResult::Invalid { problems, .. } => problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "),
        other => panic!("{i}: {other:?}"),
    };
    assert!(
        problems(0).contains("pirce: Field not described in schema"),
        "{}",
        problems(0)
    );
    assert!(
        problems(0).contains("did you mean `price`?"),
        "{}",
        problems(0)
    );
    assert!(matches!(
        report.outcomes[1].result,
        ItemResult::WouldUpdate { .. }
    ));
    assert!(
        problems(2).contains("price: Field is required"),
        "{}",
        problems(2)
    );
    assert!(
        problems(3).contains("price: Must be at least 0"),
        "{}",
        problems(3)
    );
    assert!(
        problems(4).contains("color: no option named"),
        "{}",
        problems(4)
    );
    assert!(
        problems(5).contains("maker: no item with the slug or id 'nobody'"),
        "{}",
        problems(5)
    );
    assert!(problems(6).contains("featured:"), "{}", problems(6));
    assert!(matches!(report.outcomes[7].result, ItemResult::WouldCreate));
    let s = &report.summary;
    assert_eq!(
        (s.invalid, s.would_create, s.would_update),
        (6, 1, 1),
        "{s:?}"
    );
    assert_eq!(writes(&mock, before), 0);
}

#[tokio::test]
async fn a_real_run_reports_invalid_lines_without_sending_them() {
    let (mock, client, _clock) = setup().await;
    let report = client
        .bulk_create_live(PRODUCTS)
        .check_schema(true)
        .run([product(0, 5.0), product(1, -3.0), product(2, 5.0)])
        .await
        .unwrap();
    let s = &report.summary;
    assert_eq!((s.created, s.invalid), (2, 1), "{s:?}");
    let sent: usize = mock
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.body["items"].as_array().map_or(1, Vec::len))
        .sum();
    assert_eq!(sent, 2, "the invalid line was never sent");
}

/// A source of 100 products against a collection of 110: the 10 the source lacks are pruned.
async fn collection_with_ten_extra(mock: &MockWebflow, client: &Client) {
    let report = client
        .bulk_create_live(PRODUCTS)
        .check_schema(true)
        .run(products(110))
        .await
        .unwrap();
    assert_eq!(report.summary.created, 110);
    assert_eq!(mock.items(PRODUCTS).len(), 110);
}

#[tokio::test]
async fn prune_unpublishes_or_deletes_what_the_source_lacks() {
    for mode in [Prune::Unpublish, Prune::Delete] {
        let (mock, client, _clock) = setup().await;
        collection_with_ten_extra(&mock, &client).await;
        let before = mock.requests().len();
        let report = client
            .bulk_create_live(PRODUCTS)
            .update(true)
            .prune(mode)
            .run(products(100))
            .await
            .unwrap();
        let s = &report.summary;
        assert_eq!(
            (s.unchanged, s.pruned, s.prune_failed),
            (100, 10, 0),
            "{s:?}"
        );
        assert!(s.prune_refused.is_none() && s.all_done(), "{s:?}");
        assert_eq!(report.pruned.len(), 10);
        assert!(
            report
                .pruned
                .iter()
                .all(|p| p.slug.starts_with("product-10"))
        );
        let counts = requests_by_method(&mock, before);
        assert_eq!(counts.get("DELETE"), Some(&1), "{mode:?}: {counts:?}");
        let items = mock.items(PRODUCTS);
        match mode {
            Prune::Unpublish => {
                assert_eq!(items.len(), 110);
                assert_eq!(stored(&items, "product-105")["isDraft"], true);
                assert_eq!(stored(&items, "product-5")["isDraft"], false);
            }
            _ => assert_eq!(items.len(), 100),
        }
        // Run again: the unpublished are drafts now, the deleted gone: nothing to prune.
        let before = mock.requests().len();
        let report = client
            .bulk_create_live(PRODUCTS)
            .update(true)
            .prune(mode)
            .run(products(100))
            .await
            .unwrap();
        assert_eq!(report.summary.pruned, 0, "{mode:?}");
        assert_eq!(writes(&mock, before), 0, "{mode:?}");
    }
}

#[tokio::test]
async fn every_guard_refuses_a_prune_that_could_be_a_mistake() {
    struct Case {
        name: &'static str,
        source: Vec<NewItem>,
        max: Option<u64>,
        caller_refuses: bool,
        cancel: bool,
        fault: Option<Fault>,
        expect: &'static str,
    }
    let mut invalid = products(100);
    invalid[3] = product(3, -1.0);
    let mut duplicated = products(100);
    duplicated.push(product(7, 17.0));
    let cases = vec![
        Case {
            name: "an invalid line",
            source: invalid,
            max: None,
            caller_refuses: false,
            cancel: false,
            fault: None,
            expect: "unknown or not sent",
        },
        Case {
            name: "a line twice",
            source: duplicated,
            max: None,
            caller_refuses: false,
            cancel: false,
            fault: None,
            expect: "unknown or not sent",
        },
        Case {
            name: "malformed lines (the caller's check)",
            source: products(100),
            max: None,
            caller_refuses: true,
            cancel: false,
            fault: None,
            expect: "malformed",
        },
        Case {
            name: "more than max_prune",
            source: products(100),
            max: Some(9),
            caller_refuses: false,
            cancel: false,
            fault: None,
            expect: "more than the 9 allowed",
        },
        Case {
            name: "a truncated source (most of the collection gone)",
            source: products(40),
            max: None,
            caller_refuses: false,
            cancel: false,
            fault: None,
            expect: "more than the 55 allowed",
        },
        Case {
            name: "cancelled",
            source: products(100),
            max: None,
            caller_refuses: false,
            cancel: true,
            fault: None,
            expect: "not read to its end",
        },
        Case {
            name: "an update whose outcome is unknown",
            source: {
                let mut changed = products(100);
                changed[0] = product(0, 1234.0);
                changed
            },
            max: None,
            caller_refuses: false,
            cancel: false,
            fault: Some(Fault::instead(MockResponse::webflow_error(
                500,
                "internal_error",
                "Oops",
                json!([]),
            ))),
            expect: "unknown or not sent",
        },
    ];
    for case in cases {
        let (mock, client, _clock) = setup().await;
        collection_with_ten_extra(&mock, &client).await;
        if let Some(fault) = case.fault {
            for _ in 0..4 {
                mock.fault_when_request(|r| r.method == "PATCH", fault.clone());
            }
        }
        let token = webflow_api::CancellationToken::new();
        if case.cancel {
            token.cancel();
        }
        let mut import = client
            .bulk_create_live(PRODUCTS)
            .update(true)
            .prune(Prune::Delete)
            .cancel_token(token);
        if let Some(max) = case.max {
            import = import.max_prune(max);
        }
        if case.caller_refuses {
            import = import.prune_only_if(|| Err("2 input lines are malformed".into()));
        }
        let report = import.run(case.source).await.unwrap();
        let refused = report.summary.prune_refused.clone().unwrap_or_default();
        assert!(refused.contains(case.expect), "{}: {refused:?}", case.name);
        assert_eq!(report.summary.pruned, 0, "{}", case.name);
        assert!(
            !mock.requests().iter().any(|r| r.method == "DELETE"),
            "{}",
            case.name
        );
        assert!(!report.summary.all_done(), "{}", case.name);
    }
}

#[tokio::test]
async fn an_update_answered_500_after_it_was_applied_is_sent_again_without_harm() {
    let (mock, client, _clock) = setup().await;
    collection_with_ten_extra(&mock, &client).await;
    let mut source = products(110);
    source[4] = product(4, 444.0);
    mock.fault_when_request(
        |r| r.method == "PATCH",
        Fault::after_processing(MockResponse::webflow_error(
            500,
            "internal_error",
            "Oops",
            json!([]),
        )),
    );
    let before = mock.requests().len();
    let report = client
        .bulk_create_live(PRODUCTS)
        .update(true)
        .run(source)
        .await
        .unwrap();
    let s = &report.summary;
    assert_eq!((s.updated, s.unchanged, s.unknown), (1, 109, 0), "{s:?}");
    let counts = requests_by_method(&mock, before);
    assert_eq!(
        counts.get("PATCH"),
        Some(&2),
        "the update was sent again: {counts:?}"
    );
    let items = mock.items(PRODUCTS);
    assert_eq!(stored(&items, "product-4")["fieldData"]["price"], 444.0);
    assert_collection_true(&report, &mock);
}

#[tokio::test]
async fn a_create_answer_lost_in_a_sync_is_still_settled() {
    let (mock, client, _clock) = setup().await;
    mock.fault_when_request(
        |r| r.method == "POST",
        Fault::after_processing(MockResponse::webflow_error(
            500,
            "internal_error",
            "Oops",
            json!([]),
        )),
    );
    let report = client
        .bulk_create_live(PRODUCTS)
        .update(true)
        .run(products(20))
        .await
        .unwrap();
    let s = &report.summary;
    assert_eq!((s.created, s.settled, s.unknown), (20, 20, 0), "{s:?}");
    assert_collection_true(&report, &mock);
    assert_eq!(mock.items(PRODUCTS).len(), 20);
}

#[tokio::test]
/// A draft, an archived item, and a staged item that was never published (`isDraft: false`
/// but `lastPublished: null`: `update-items-live` answers it 409 "Item not published").
/// Before: the staged one was taken for live, sent an update, and failed with the 409.
async fn items_that_are_not_published_are_left_alone() {
    let (mock, client, _clock) = setup().await;
    mock.insert_items(
        PRODUCTS,
        [
            json!({
                "fieldData": {"name": "Product 0", "slug": "product-0", "price": 1},
                "isDraft": true, "lastPublished": null,
            }),
            json!({
                "fieldData": {"name": "Product 1", "slug": "product-1", "price": 1},
                "isArchived": true,
            }),
            json!({
                "fieldData": {"name": "Product 2", "slug": "product-2", "price": 1},
                "isDraft": false, "lastPublished": null,
            }),
        ],
    );
    let before = mock.requests().len();
    let report = client
        .bulk_create_live(PRODUCTS)
        .update(true)
        .run([product(0, 5.0), product(1, 5.0), product(2, 5.0)])
        .await
        .unwrap();
    for outcome in &report.outcomes {
        assert!(
            matches!(outcome.result, ItemResult::NotLive { .. }),
            "{}: {:?}",
            outcome.slug,
            outcome.result
        );
    }
    assert_eq!(report.summary.not_live, 3);
    assert!(report.summary.all_done(), "{:?}", report.summary);
    assert_eq!(writes(&mock, before), 0);
}

/// Decided and documented: a sync sends only the fields that differ, so a field the source
/// leaves out — or one edited in the Designer between the listing and the update — is left
/// as it is; a field the source changes takes the source's value (the source is the truth).
#[tokio::test]
async fn an_update_carries_only_the_fields_that_differ() {
    let (mock, client, _clock) = setup().await;
    collection_with_ten_extra(&mock, &client).await;
    let mut source = products(110);
    source[2] = product(2, 222.0);
    source[2].field_data.extra.remove("featured");
    let before = mock.requests().len();
    let report = client
        .bulk_create_live(PRODUCTS)
        .update(true)
        .run(source)
        .await
        .unwrap();
    assert_eq!(report.summary.updated, 1, "{:?}", report.summary);
    let patch = mock.requests()[before..]
        .iter()
        .find(|r| r.method == "PATCH")
        .cloned()
        .unwrap();
    let item = &patch.body["items"][0];
    assert_eq!(item["fieldData"], json!({"price": 222.0}), "{item}");
}

/// An item deleted between the listing and the update: its update is refused (404, which
/// does not say which item); the request is split until the item is alone, and only it
/// fails. Nothing else changes.
#[tokio::test]
async fn an_item_deleted_since_the_listing_fails_alone() {
    let (mock, client, _clock) = setup().await;
    collection_with_ten_extra(&mock, &client).await;
    let items = mock.items(PRODUCTS);
    let gone = stored(&items, "product-2")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut source = products(110);
    for (i, item) in source.iter_mut().enumerate().take(8) {
        item.field_data
            .extra
            .insert("price".into(), json!(1000 + i));
    }
    // Deleted after the index is read: the sync's requests are the schema, the referenced
    // makers' one page and two pages of the index; the update is the fifth.
    let update = mock.request_count() + 5;
    mock.change_before_request(update, ItemChange::delete(PRODUCTS, [gone.as_str()]));
    let report = client
        .bulk_create_live(PRODUCTS)
        .update(true)
        .run(source)
        .await
        .unwrap();
    let s = &report.summary;
    assert_eq!((s.updated, s.failed), (7, 1), "{s:?}");
    assert!(matches!(
        report.outcomes[2].result,
        ItemResult::Failed { .. }
    ));
}

/// Cancelled while the schema read waits out a 429: the import ends `Cancelled` (not
/// `Stopped` with the 429), nothing is written, and every item pulled is not attempted.
#[tokio::test]
async fn cancelled_while_the_schema_read_waits_out_a_429_ends_cancelled() {
    let (mock, client, _clock) = setup().await;
    mock.push_fault(Fault::instead(
        MockResponse::webflow_error(429, "too_many_requests", "Slow down", json!([]))
            .header("Retry-After", "30"),
    ));
    let token = webflow_api::CancellationToken::new();
    let cancel = token.clone();
    let report = client
        .bulk_create_live(PRODUCTS)
        .update(true)
        .cancel_token(token)
        .on_progress(move |event| {
            if matches!(event, webflow_api::BulkEvent::Waiting { .. }) {
                cancel.cancel();
            }
        })
        .run(products(3))
        .await
        .unwrap();
    let s = &report.summary;
    assert_eq!(s.end, webflow_api::ImportEnd::Cancelled, "{s:?}");
    assert_eq!((s.created, s.updated, s.failed), (0, 0, 0), "{s:?}");
    assert_eq!(mock.requests().len(), 1, "only the refused schema read");
    assert!(
        report
            .outcomes
            .iter()
            .all(|o| matches!(o.result, ItemResult::NotAttempted)),
        "{:?}",
        report.outcomes
    );
}

/// References cost the cheaper of two ways, decided as they come: against 500 makers, two
/// products naming two makers beyond the first page cost that page and two lookups; sixty
/// naming sixty makers cost the first page, four lookups, then the rest of the listing —
/// never one lookup per maker. Every reference is sent as the right id, ids given as ids
/// included. Before: one lookup per distinct value (60 requests).
#[tokio::test]
async fn references_cost_the_cheaper_of_lookups_and_reading_the_collection() {
    let (mock, client, _clock) = setup().await;
    let makers: Vec<Value> = (0..500)
        .map(|i| json!({"fieldData": {"name": format!("Maker {i}"), "slug": format!("maker-{i}")}}))
        .collect();
    let ids = mock.insert_items(MAKERS, makers);
    let maker_id = |slug: &str| -> String {
        let i: usize = slug.trim_start_matches("maker-").parse().unwrap();
        ids[i].clone()
    };
    let naming = |n: u64, maker: String| {
        NewItem::new(format!("Product {n}"), format!("product-{n}"))
            .field("price", 1.0)
            .field("maker", maker)
    };
    let reference_reads = |from: usize| {
        mock.requests()[from..]
            .iter()
            .filter(|r| r.method == "GET" && r.path.ends_with(&format!("{MAKERS}/items")))
            .count()
    };

    // Two makers beyond the first page (the listing is in creation order).
    let before = mock.requests().len();
    let report = client
        .bulk_create_live(PRODUCTS)
        .check_schema(true)
        .run([naming(0, "maker-300".into()), naming(1, "maker-301".into())])
        .await
        .unwrap();
    assert_eq!(report.summary.created, 2, "{:?}", report.summary);
    assert_eq!(
        reference_reads(before),
        1 + 2,
        "the first page and two lookups"
    );

    // Sixty makers, the last given by id.
    let before = mock.requests().len();
    let mut source: Vec<NewItem> = (0..59)
        .map(|n| naming(10 + n, format!("maker-{}", 200 + n)))
        .collect();
    source.push(naming(69, maker_id("maker-499")));
    let report = client
        .bulk_create_live(PRODUCTS)
        .check_schema(true)
        .run(source)
        .await
        .unwrap();
    assert_eq!(report.summary.created, 60, "{:?}", report.summary);
    // The first page, 4 lookups (the 5 pages left would cost no more than a fifth), then
    // the 5 pages left of the 502 makers (pages of 100 overlapping by one).
    assert_eq!(reference_reads(before), 1 + 4 + 5);
    let items = mock.items(PRODUCTS);
    for n in 0..59 {
        let product = stored(&items, &format!("product-{}", 10 + n));
        assert_eq!(
            product["fieldData"]["maker"],
            maker_id(&format!("maker-{}", 200 + n)).as_str()
        );
    }
    assert_eq!(
        stored(&items, "product-69")["fieldData"]["maker"],
        maker_id("maker-499").as_str()
    );
    assert!(mock.duplicates().is_empty());
}
