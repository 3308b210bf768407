//! Listings read while someone else adds and deletes items, and listings that never end:
//! for each reader of pages — the resume index (`skip_existing`), the settle scan, a user's
//! `list_items` stream and a sync's index — every item present for the whole listing is
//! read exactly once, so nothing that existed is created again; and a listing that cannot
//! end stops with an error that says why; an item's variants in several locales, which
//! share its id, are each read. Changes are scheduled before a request number
//! (`change_before_request`); client and mock share one manual clock.

use std::collections::HashSet;

use futures_util::TryStreamExt;
use serde_json::{Value, json};
use webflow_api::list::{SortBy, SortOrder};
use webflow_api::mock::{DuplicateSlugs, Fault, ItemChange, MockResponse, MockWebflow};
use webflow_api::{BulkEvent, Error, ImportEnd, ItemResult, NewItem};

use crate::truth::{
    COLLECTION, assert_true_report, create_holding, internal_error, numbered, setup,
};

/// `n` items `{prefix}-0..` as someone made them before the test.
fn existing(prefix: &str, n: u64) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"fieldData": {"name": format!("Item {prefix}-{i}"), "slug": format!("{prefix}-{i}")}}))
        .collect()
}

/// An item someone else adds, dated `created_on`.
fn added(slug: &str, created_on: &str) -> Value {
    json!({"fieldData": {"name": format!("Item {slug}"), "slug": slug}, "createdOn": created_on})
}

/// Observation 5b. Before: the resume index paged by offset; an item on a page already
/// read deleted by someone else shifted the next page back by one, so the item at its
/// start was never indexed, taken as absent and sent again — on a suffixing server a
/// duplicate. Pages now overlap and step back when the overlap is gone. Then the pages read
/// again after a step back, which hold nothing new, counted as a server ignoring `offset`:
/// two deletions on the first page, before the second and the fourth page, stopped the
/// import with "three full pages in a row … the server does not page by offset".
#[tokio::test]
async fn the_resume_index_misses_nothing_when_items_it_read_are_deleted() {
    let (mock, client, _clock) = setup(|b| b.duplicate_slugs(DuplicateSlugs::Suffix)).await;
    mock.insert_items(COLLECTION, existing("p", 250));
    mock.change_before_request(2, ItemChange::delete(COLLECTION, ["p-5"]));
    mock.change_before_request(4, ItemChange::delete(COLLECTION, ["p-6"]));
    let stopped = std::sync::Mutex::new(Vec::new());
    let report = client
        .bulk_create_live(COLLECTION)
        .skip_existing(true)
        .on_progress(|event| {
            if let BulkEvent::Stopped { error } = event {
                stopped.lock().unwrap().push(error.to_string());
            }
        })
        .run(numbered("p", 300))
        .await
        .unwrap();
    assert_true_report(&report, &mock);
    let s = &report.summary;
    assert_eq!(
        s.end,
        ImportEnd::InputExhausted,
        "{:?}",
        stopped.lock().unwrap()
    );
    // p-5 and p-6 existed when their page was read.
    assert_eq!(
        (s.skipped, s.created, s.failed, s.unknown),
        (250, 50, 0, 0),
        "{s:?}"
    );
    // Pages at 0, 99 (shifted: back to 0), 0, 99 (shifted again: back to 0), 0, 99, 198.
    assert_eq!((s.list_requests, s.create_requests), (7, 1), "{s:?}");
    assert_eq!(mock.items(COLLECTION).len(), 298);
}

/// Observation 5b, items added. Items someone else adds while the index is read — three
/// dated before every other (they shift the later pages forward) and one with a slug of
/// the input, dated now (it lands on the last page) — hide nothing: every item that
/// existed is skipped, the one added with an input slug too, and nothing is created twice.
#[tokio::test]
async fn the_resume_index_misses_nothing_when_items_are_added_while_it_reads() {
    let (mock, client, _clock) = setup(|b| b.duplicate_slugs(DuplicateSlugs::Suffix)).await;
    mock.insert_items(COLLECTION, existing("q", 250));
    let early = ["x-0", "x-1", "x-2"].map(|slug| added(slug, "2025-12-31T00:00:00.000Z"));
    mock.change_before_request(2, ItemChange::insert(COLLECTION, early));
    mock.change_before_request(
        3,
        ItemChange::insert(
            COLLECTION,
            [json!({"fieldData": {"name": "Someone's q-260", "slug": "q-260"}})],
        ),
    );
    let report = client
        .bulk_create_live(COLLECTION)
        .skip_existing(true)
        .run(numbered("q", 300))
        .await
        .unwrap();
    assert_true_report(&report, &mock);
    let s = &report.summary;
    assert_eq!(
        (s.skipped, s.created, s.failed, s.unknown),
        (251, 49, 0, 0),
        "{s:?}"
    );
    assert!(matches!(
        report.outcomes[260].result,
        ItemResult::Skipped { .. }
    ));
    // Pages at 0, 99 (shifted forward by 3: still anchored), 198 (short).
    assert_eq!((s.list_requests, s.create_requests), (3, 1), "{s:?}");
    assert_eq!(mock.items(COLLECTION).len(), 303);
}

/// The settle scan reads newest first while someone else deletes items it read and adds
/// newer ones: the lost chunk of 100, behind 300 newer items, is still found whole —
/// settled, never sent again (on a suffixing server a resend would be a duplicate).
#[tokio::test]
async fn the_settle_scan_finds_a_lost_chunk_while_items_come_and_go() {
    let (mock, client, _clock) = setup(|b| b.duplicate_slugs(DuplicateSlugs::Suffix)).await;
    mock.fault_when_request(
        create_holding("s-100"),
        Fault::after_processing(internal_error()),
    );
    // Requests 1 to 5 are the creates; the scan starts at 6.
    mock.change_before_request(7, ItemChange::delete(COLLECTION, ["s-499", "s-498"]));
    mock.change_before_request(
        8,
        ItemChange::insert(
            COLLECTION,
            [
                json!({"fieldData": {"name": "New 0", "slug": "new-0"}}),
                json!({"fieldData": {"name": "New 1", "slug": "new-1"}}),
                json!({"fieldData": {"name": "New 2", "slug": "new-2"}}),
            ],
        ),
    );
    mock.change_before_request(9, ItemChange::delete(COLLECTION, ["s-350"]));
    let report = client
        .bulk_create_live(COLLECTION)
        .run(numbered("s", 500))
        .await
        .unwrap();
    assert_true_report(&report, &mock);
    let s = &report.summary;
    assert_eq!(
        (s.created, s.settled, s.renamed, s.failed, s.unknown),
        (500, 100, 0, 0, 0),
        "{s:?}"
    );
    assert!(
        report.outcomes[100..200]
            .iter()
            .all(|o| matches!(o.result, ItemResult::Created { settled: true, .. }))
    );
    assert_eq!(s.create_requests, 5, "nothing sent again: {s:?}");
    // Pages at 0 (the newest 100), 99 (two of them deleted: back to 0), 0 (three new ones
    // on top), 99, 198, 297, 396, where the last three lost items are found.
    assert_eq!(s.list_requests, 7, "{s:?}");
    assert_eq!(mock.created_items().len(), 500);
}

/// A user's listing (`list_items(..).items()`, oldest first) while someone deletes an item
/// on a page already read, adds one dated before all others and one dated now, then
/// deletes an item on a page already read again: every item present for the whole listing
/// is yielded once, none twice.
#[tokio::test]
async fn a_listing_yields_every_item_that_stayed_once_while_items_come_and_go() {
    let (mock, client, _clock) = setup(|b| b).await;
    mock.insert_items(COLLECTION, existing("l", 250));
    mock.change_before_request(2, ItemChange::delete(COLLECTION, ["l-5"]));
    mock.change_before_request(
        3,
        ItemChange::insert(
            COLLECTION,
            [
                added("x-0", "2025-12-31T00:00:00.000Z"),
                added("y-0", "2026-01-01T00:00:00.000Z"),
            ],
        ),
    );
    mock.change_before_request(4, ItemChange::delete(COLLECTION, ["l-150"]));
    let items: Vec<_> = client
        .list_items(COLLECTION)
        .sort(SortBy::CreatedOn, SortOrder::Asc)
        .items()
        .try_collect()
        .await
        .unwrap();
    let mut ids = HashSet::new();
    for item in &items {
        assert!(ids.insert(item.id.clone()), "{} yielded twice", item.slug());
    }
    let slugs: HashSet<&str> = items.iter().map(|item| item.slug()).collect();
    for i in (0..250).filter(|i| ![5, 150].contains(i)) {
        assert!(slugs.contains(format!("l-{i}").as_str()), "l-{i} missed");
    }
    // l-5 and l-150 were read before they went; x-0 was read when the first page was read
    // again, y-0 on the last page.
    assert_eq!(items.len(), 252);
    assert!(slugs.contains("x-0") && slugs.contains("y-0"));
    // Pages at 0, 99 (shifted back: back to 0), 0, 99, 198 (short).
    assert_eq!(mock.request_count(), 5);
}

/// A sync's index while someone deletes items (not in the source) on its first page,
/// before its second and its fourth page: no item missed, so none is created twice, and
/// each update goes to the item of its slug.
#[tokio::test]
async fn a_sync_index_read_while_items_are_deleted_updates_the_right_items_only() {
    let (mock, client, _clock) = setup(|b| b.duplicate_slugs(DuplicateSlugs::Suffix)).await;
    mock.insert_items(COLLECTION, existing("x", 10));
    let ids = mock.insert_items(COLLECTION, existing("u", 250));
    // Request 1 reads the schema, 2 the index's first page.
    mock.change_before_request(3, ItemChange::delete(COLLECTION, ["x-3"]));
    mock.change_before_request(5, ItemChange::delete(COLLECTION, ["x-4"]));
    let renamed = |i: u64| (200..220).contains(&i);
    let source = (0..260).map(|i| {
        let name = if renamed(i) {
            format!("Renamed u-{i}")
        } else {
            format!("Item u-{i}")
        };
        NewItem::new(name, format!("u-{i}"))
    });
    let report = client
        .bulk_create_live(COLLECTION)
        .update(true)
        .run(source)
        .await
        .unwrap();
    assert_true_report(&report, &mock);
    let s = &report.summary;
    assert_eq!(
        (s.created, s.updated, s.unchanged, s.failed, s.unknown),
        (10, 20, 230, 0, 0),
        "{s:?}"
    );
    // The schema, 7 pages of the index (two steps back), one create, one update.
    assert_eq!(
        (s.list_requests, s.create_requests, s.update_requests),
        (8, 1, 1),
        "{s:?}"
    );
    let patch = mock
        .requests()
        .into_iter()
        .find(|r| r.method == "PATCH")
        .unwrap();
    let patched: Vec<&str> = patch.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = (200..220).map(|i| ids[i].as_str()).collect();
    assert_eq!(patched, expected);
    let held = mock.items(COLLECTION);
    assert_eq!(held.len(), 268);
    for (i, id) in ids.iter().enumerate() {
        let stored = held.iter().find(|item| item["id"] == id.as_str()).unwrap();
        let name = if renamed(i as u64) { "Renamed" } else { "Item" };
        assert_eq!(stored["fieldData"]["name"], format!("{name} u-{i}"));
    }
}

/// A page of 100 items no page held before, with `total`.
fn fresh_page(page: u64, total: u64) -> MockResponse {
    let items: Vec<Value> = (0..100)
        .map(|i| {
            json!({
                "id": format!("{:024x}", page * 1000 + i), "cmsLocaleId": null, "lastPublished": null,
                "lastUpdated": "2026-01-01T00:00:00.000Z", "createdOn": "2026-01-01T00:00:00.000Z",
                "isArchived": false, "isDraft": false,
                "fieldData": {"name": "x", "slug": format!("fresh-{page}-{i}")},
            })
        })
        .collect();
    MockResponse::status(200).json(&json!({
        "items": items,
        "pagination": {"limit": 100, "offset": 0, "total": total},
    }))
}

/// Observation 5, endless pages. A server that answers every page with 100 items never seen
/// before while saying the collection holds 150: past the second page the end it reports
/// comes no closer, and ten pages later the listing stops with an error that says so —
/// before the page cap (14 pages for 150 items), never an endless loop.
#[tokio::test]
async fn a_listing_of_endless_fresh_pages_stops_with_an_error() {
    let (mock, client, _clock) = setup(|b| b).await;
    for page in 0..40 {
        mock.push_fault(Fault::instead(fresh_page(page, 150)));
    }
    let error = client
        .list_items(COLLECTION)
        .pages()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    let Error::ListingUnreliable(why) = &error else {
        panic!("{error:?}")
    };
    assert!(
        why.contains("stopped after 12 pages") && why.contains("no closer"),
        "{why}"
    );
    assert_eq!(mock.request_count(), 12);
}

/// Observation 5, the page cap, a total that grows. A server that answers every page with
/// 100 items never seen before and a `total` 100 larger each time (a collection that grows
/// as fast as it is read, or a lie). The page cap, derived from the largest total, grew
/// with it: the listing read every page it was given (here 60, then the mock's own empty
/// answer ended it and the import created its 5 items) — endless against a server that
/// keeps on. Now ten pages in a row that bring the reported end no closer stop it with an
/// error that says why; the import stops and creates nothing.
#[tokio::test]
async fn a_listing_whose_total_grows_as_fast_as_it_is_read_stops_with_an_error() {
    let (mock, client, _clock) = setup(|b| b).await;
    for page in 0..60 {
        mock.push_fault(Fault::instead(fresh_page(page, 150 + 100 * page)));
    }
    let stopped = std::sync::Mutex::new(Vec::new());
    let report = client
        .bulk_create_live(COLLECTION)
        .skip_existing(true)
        .on_progress(|event| {
            if let BulkEvent::Stopped { error } = event {
                stopped.lock().unwrap().push(error.to_string());
            }
        })
        .run(numbered("g", 5))
        .await
        .unwrap();
    let s = &report.summary;
    assert_eq!(s.end, ImportEnd::Stopped, "{s:?}");
    let stopped = stopped.lock().unwrap();
    assert_eq!(stopped.len(), 1, "{stopped:?}");
    assert!(
        stopped[0].contains("stopped after 11 pages") && stopped[0].contains("no closer"),
        "{}",
        stopped[0]
    );
    assert_eq!(
        (s.created, s.not_attempted, s.list_requests),
        (0, 1, 11),
        "{s:?}"
    );
    assert_eq!(mock.created_count(), 0);
}

/// Observation 5, the page cap. Someone deletes an item of the first page before every
/// page of a listing of 250: each deletion moves the anchor out of the next page, and the
/// pager steps a page back (an item that stayed is never skipped) — it never gets past the
/// second page. It stops at the cap the reported total sets (twice the 3 pages 250 items
/// take, plus 10 re-reads: 16) with an error that says why, never an endless loop.
#[tokio::test]
async fn a_listing_that_loses_an_early_item_before_every_page_stops_at_the_page_cap() {
    let (mock, client, _clock) = setup(|b| b).await;
    mock.insert_items(COLLECTION, existing("c", 250));
    for request in 2..40 {
        let slug = format!("c-{}", request - 2);
        mock.change_before_request(request, ItemChange::delete(COLLECTION, [slug]));
    }
    let error = client
        .list_items(COLLECTION)
        .sort(SortBy::CreatedOn, SortOrder::Asc)
        .items()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    let Error::ListingUnreliable(why) = &error else {
        panic!("{error:?}")
    };
    assert!(
        why.contains("stopped after 16 pages") && why.contains("removed faster"),
        "{why}"
    );
    assert_eq!(mock.request_count(), 16);
}

/// A `total` as large as the wire allows, with pages of two items: the page cap saturates
/// (it overflowed: a panic in a debug build, a tiny cap in a release one) and the listing
/// reads on to its end.
#[tokio::test]
async fn an_enormous_total_does_not_overflow_the_page_cap() {
    let (mock, client, _clock) = setup(|b| b).await;
    mock.insert_items(COLLECTION, existing("e", 2));
    mock.push_fault(Fault::instead(MockResponse::status(200).json(&json!({
        "items": mock.items(COLLECTION),
        "pagination": {"limit": 2, "offset": 0, "total": i64::MAX},
    }))));
    let items: Vec<_> = client
        .list_items(COLLECTION)
        .page_size(2)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 2);
    // The page at 0, then the page at 1 (overlapping by one item): short, the end.
    assert_eq!(mock.request_count(), 2);
}

/// `list_items(..).page_size(1)`: pages overlap by one item, so a page of one never moved
/// on — the same page at offset 0 again and again, until the listing stopped as unreliable
/// ("the server does not page by offset" after 3 pages; since re-read pages stopped counting
/// as stalls, "no closer" after 11). The pager asks for two: each page brings one new item.
#[tokio::test]
async fn a_listing_in_pages_of_one_reads_every_item() {
    let (mock, client, _clock) = setup(|b| b).await;
    mock.insert_items(COLLECTION, existing("o", 3));
    let items: Vec<_> = client
        .list_items(COLLECTION)
        .page_size(1)
        .items()
        .try_collect()
        .await
        .unwrap();
    let slugs: Vec<&str> = items.iter().map(|item| item.slug()).collect();
    assert_eq!(slugs, ["o-0", "o-1", "o-2"]);
    // Pages of two at 0, 1 and 2 (short: the end).
    assert_eq!(mock.request_count(), 3);
    assert!(
        mock.requests()
            .iter()
            .all(|r| r.query.as_deref().unwrap_or_default().contains("limit=2"))
    );
}

/// A localized collection as Webflow lists it unfiltered: an item's variants share its id
/// (`v-0` in `fr` and in `en`, id X), beside an item only in `fr` (`v-1`). Returns the page
/// and X. The mock gives each variant its own id, so the page is scripted; the mock's store
/// holds the same three variants (under their own ids) for creates to meet.
fn localized_page(mock: &MockWebflow) -> (MockResponse, String) {
    let ids = mock.insert_items(
        COLLECTION,
        [
            json!({"fieldData": {"name": "Item v-0", "slug": "v-0"}, "cmsLocaleId": "en"}),
            json!({"fieldData": {"name": "Item v-0", "slug": "v-0"}, "cmsLocaleId": "fr"}),
            json!({"fieldData": {"name": "Item v-1", "slug": "v-1"}, "cmsLocaleId": "fr"}),
        ],
    );
    let stored = mock.items(COLLECTION);
    let mut fr = stored[1].clone();
    fr["id"] = json!(ids[0]);
    let page = json!({
        "items": [fr, stored[0], stored[2]],
        "pagination": {"limit": 100, "offset": 0, "total": 3},
    });
    (MockResponse::status(200).json(&page), ids[0].clone())
}

/// An item's variants in several locales share its id. The pager remembered the items it
/// returned by id alone: unfiltered, the `en` variant listed after the `fr` one was
/// dropped as already returned.
#[tokio::test]
async fn an_unfiltered_listing_yields_every_locale_of_an_item() {
    let (mock, client, _clock) = setup(|b| b.primary_locale("en")).await;
    let (page, shared) = localized_page(&mock);
    mock.push_fault(Fault::instead(page));
    let items: Vec<_> = client
        .list_items(COLLECTION)
        .items()
        .try_collect()
        .await
        .unwrap();
    let listed: Vec<(&str, &str, Option<&str>)> = items
        .iter()
        .map(|item| (item.id.as_str(), item.slug(), item.locale_id()))
        .collect();
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert_eq!(listed[0], (shared.as_str(), "v-0", Some("fr")));
    assert_eq!(listed[1], (shared.as_str(), "v-0", Some("en")));
    assert_eq!(mock.request_count(), 1);
}

/// The resume index over the same listing, the primary locale (`en`) given. With the `en`
/// variant of `v-0` dropped, the index held `v-0` only in `fr`: the line `v-0` (no locale,
/// so `en`) was taken as absent and sent — on a suffixing server a second `v-0` in `en`.
/// Now `v-0` is skipped (its `en` variant) and `v-1`, which exists only in `fr`, created.
#[tokio::test]
async fn the_resume_index_sees_every_locale_of_an_item() {
    let (mock, client, _clock) = setup(|b| {
        b.primary_locale("en")
            .duplicate_slugs(DuplicateSlugs::Suffix)
    })
    .await;
    let (page, shared) = localized_page(&mock);
    mock.push_fault(Fault::instead(page));
    let report = client
        .bulk_create_live(COLLECTION)
        .primary_locale("en")
        .skip_existing(true)
        .run(numbered("v", 2))
        .await
        .unwrap();
    assert_true_report(&report, &mock);
    let s = &report.summary;
    assert_eq!((s.skipped, s.created, s.failed), (1, 1, 0), "{s:?}");
    match &report.outcomes[0].result {
        ItemResult::Skipped { id, .. } => assert_eq!(id, &shared),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        report.outcomes[1].result,
        ItemResult::Created { .. }
    ));
    assert_eq!((s.list_requests, s.create_requests), (1, 1), "{s:?}");
}

/// The settle scan over the same kind of listing: someone's `w-0` exists in `fr` and `en`
/// (one id), made 10 minutes ago, and a request of six lines without a locale (`en`) is
/// answered 500 before creating anything. With the `en` variant dropped as already seen,
/// the scan found no `w-0` in `en`: proven absent, sent again — on a suffixing server a
/// second `w-0` in `en`. Now it is taken (`Error::SlugTaken` naming it), the five others
/// are sent again and created.
#[tokio::test]
async fn the_settle_scan_sees_every_locale_of_an_item() {
    let (mock, client, _clock) = setup(|b| {
        b.primary_locale("en")
            .duplicate_slugs(DuplicateSlugs::Suffix)
    })
    .await;
    let ids = mock.insert_items(
        COLLECTION,
        ["en", "fr"].map(|locale| {
            json!({
                "fieldData": {"name": "Someone's w-0", "slug": "w-0"},
                "cmsLocaleId": locale, "createdOn": "2025-12-31T23:50:00.000Z",
            })
        }),
    );
    let stored = mock.items(COLLECTION);
    let mut fr = stored[1].clone();
    fr["id"] = json!(ids[0]);
    mock.fault_when_request(create_holding("w-0"), Fault::instead(internal_error()));
    mock.fault_when_request(
        |r| r.method == "GET",
        Fault::instead(MockResponse::status(200).json(&json!({
            "items": [fr, stored[0]],
            "pagination": {"limit": 100, "offset": 0, "total": 2},
        }))),
    );
    let report = client
        .bulk_create_live(COLLECTION)
        .primary_locale("en")
        .run(numbered("w", 6))
        .await
        .unwrap();
    assert_true_report(&report, &mock);
    let s = &report.summary;
    assert_eq!(
        (s.created, s.settled, s.failed, s.unknown),
        (5, 0, 1, 0),
        "{s:?}"
    );
    match &report.outcomes[0].result {
        ItemResult::Failed { error, .. } => match &**error {
            Error::SlugTaken(taken) => assert_eq!(taken.taken_by, ids[0]),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    // The lost request, one scan page (short: read to the end), the five sent again.
    assert_eq!((s.create_requests, s.list_requests), (2, 1), "{s:?}");
}
