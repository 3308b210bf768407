//! The mock's sync operations over HTTP: `update-items-live` (partial, validated, unique
//! slugs, all or nothing), `delete-items-live` (unpublish) and `delete-items`, what
//! `MockWebflow::items` and `duplicates` record of them, and the generated client's
//! builders decoding every answer.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use webflow_api::mock::{DuplicateSlugs, MockWebflow};
use webflow_api::time::ManualClock;

use crate::mock_server::{
    Api, COLLECTION, detail_params, in_locale, is_suffixed, item, slugs, total,
};

fn live() -> String {
    format!("/collections/{COLLECTION}/items/live")
}

fn staged() -> String {
    format!("/collections/{COLLECTION}/items")
}

async fn update(api: &Api, items: Value) -> crate::mock_server::Answer {
    api.call(Method::PATCH, &live(), Some(&json!({ "items": items })))
        .await
}

async fn unpublish(api: &Api, items: Value) -> crate::mock_server::Answer {
    api.call(Method::DELETE, &live(), Some(&json!({ "items": items })))
        .await
}

async fn delete(api: &Api, items: Value) -> crate::mock_server::Answer {
    api.call(Method::DELETE, &staged(), Some(&json!({ "items": items })))
        .await
}

/// Creates `slugs` (name = slug) and returns their ids.
async fn create_all(api: &Api, slugs: &[&str]) -> Vec<String> {
    let items: Vec<Value> = slugs.iter().map(|slug| item(slug, slug)).collect();
    let answer = api.create(&json!({ "items": items })).await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    answer.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

fn field_data(mock: &MockWebflow) -> Vec<Value> {
    mock.items(COLLECTION)
        .into_iter()
        .map(|item| item["fieldData"].clone())
        .collect()
}

#[tokio::test]
async fn an_update_changes_only_what_it_sends_null_clears_and_twice_is_once() {
    let clock = ManualClock::new();
    let mock = MockWebflow::builder().clock(clock.clone()).start().await;
    let api = Api::new(&mock);
    let created = api
        .create(&json!({"fieldData": {"name": "Mug", "slug": "mug", "price": 10, "colour": "red"}}))
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    clock.advance(Duration::from_secs(90));

    let change =
        json!([{"id": id, "isArchived": false, "fieldData": {"price": 12, "colour": null}}]);
    let answer = update(&api, change.clone()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let updated = &answer.body["items"][0];
    assert_eq!(
        updated["fieldData"],
        json!({"name": "Mug", "slug": "mug", "price": 12})
    );
    assert_eq!(updated["createdOn"], "2026-01-01T00:00:00.000Z");
    assert_eq!(updated["lastUpdated"], "2026-01-01T00:01:30.000Z");
    assert_eq!(updated["lastPublished"], "2026-01-01T00:01:30.000Z");
    assert_eq!(mock.items(COLLECTION), std::slice::from_ref(updated));

    clock.advance(Duration::from_secs(1));
    let again = update(&api, change).await;
    assert_eq!(again.status, 200);
    assert_eq!(
        field_data(&mock),
        [json!({"name": "Mug", "slug": "mug", "price": 12})]
    );
    assert_eq!(
        mock.items(COLLECTION)[0]["lastUpdated"],
        "2026-01-01T00:01:31.000Z"
    );
    // The record of the create is what was created then.
    assert_eq!(mock.created_items()[0].item["fieldData"]["colour"], "red");
    assert_eq!(mock.request_count(), 3);
}

#[tokio::test]
async fn an_unknown_id_is_a_404_and_an_unpublished_item_a_409_and_nothing_changes() {
    let mock = MockWebflow::start().await;
    let api = Api::new(&mock);
    let ids = create_all(&api, &["a", "b"]).await;
    let before = mock.items(COLLECTION);

    let answer = update(
        &api,
        json!([{"id": ids[0], "fieldData": {"name": "A2"}}, {"id": "66a0000000000000000000ff", "fieldData": {"name": "X"}}]),
    )
    .await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.body["code"], "resource_not_found");
    assert_eq!(answer.body["message"], "Requested resource not found");
    assert_eq!(mock.items(COLLECTION), before, "nothing changed");

    assert_eq!(unpublish(&api, json!([{"id": ids[1]}])).await.status, 204);
    let answer = update(
        &api,
        json!([{"id": ids[0], "fieldData": {"name": "A2"}}, {"id": ids[1], "fieldData": {"name": "B2"}}]),
    )
    .await;
    assert_eq!(answer.status, 409);
    assert_eq!(answer.body["code"], "conflict");
    assert_eq!(
        answer.body["message"],
        "Conflict: Conflict with server data: Live PATCH updates can't be applied to items that have never been published"
    );
    assert_eq!(mock.items(COLLECTION)[0]["fieldData"]["name"], "a");

    let archived = mock.insert_items(
        COLLECTION,
        [json!({"isArchived": true, "fieldData": {"name": "C", "slug": "c"}})],
    );
    let answer = update(
        &api,
        json!([{"id": archived[0], "fieldData": {"name": "C2"}}]),
    )
    .await;
    assert_eq!(answer.status, 409);
}

#[tokio::test]
async fn an_update_is_checked_against_the_schema() {
    let mock = MockWebflow::builder()
        .collection(
            COLLECTION,
            json!({"fields": [{"slug": "price", "type": "Number", "isRequired": true}, {"slug": "note", "type": "PlainText"}]}),
        )
        .start()
        .await;
    let api = Api::new(&mock);
    let created = api
        .create(&json!({"fieldData": {"name": "Mug", "slug": "mug", "price": 10, "note": "hot"}}))
        .await;
    let id = created.body["id"].as_str().unwrap();
    let answer = update(
        &api,
        json!([
            {"id": id, "fieldData": {"price": "12"}},
            {"id": id, "fieldData": {"price": null, "name": "", "colour": "red"}},
        ]),
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.body["details"],
        json!([
            {"param": "items[0].fieldData.price", "description": "Value (price)'s type should be number"},
            {"param": "items[1].fieldData.colour", "description": "Field not described in schema: undefined"},
            {"param": "items[1].fieldData.name", "description": "Field is required"},
            {"param": "items[1].fieldData.price", "description": "Field is required"},
        ])
    );
    let answer = update(&api, json!([{"id": id, "fieldData": "price=12"}])).await;
    assert_eq!(detail_params(&answer.body), ["items[0].fieldData"]);
    // A partial update of an optional field, and clearing it, are fine.
    assert_eq!(
        update(&api, json!([{"id": id, "fieldData": {"note": null}}]))
            .await
            .status,
        200
    );
    assert_eq!(
        field_data(&mock),
        [json!({"name": "Mug", "slug": "mug", "price": 10})]
    );
}

#[tokio::test]
async fn an_update_keeps_slugs_unique_or_suffixes_them_and_says_so() {
    let mock = MockWebflow::start().await;
    let api = Api::new(&mock);
    let ids = create_all(&api, &["a", "b"]).await;
    let answer = update(&api, json!([{"id": ids[0], "fieldData": {"slug": "b"}}])).await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.body["details"],
        json!([{"param": "items[0].fieldData.slug", "description": "Unique value is already in database: 'b'"}])
    );
    let answer = update(
        &api,
        json!([{"id": ids[0], "fieldData": {"slug": "c"}}, {"id": ids[1], "fieldData": {"slug": "c"}}]),
    )
    .await;
    assert_eq!(detail_params(&answer.body), ["items[1].fieldData.slug"]);
    // Keeping one's own slug is no conflict; a renamed item frees its old slug.
    assert_eq!(
        update(&api, json!([{"id": ids[0], "fieldData": {"slug": "a"}}]))
            .await
            .status,
        200
    );
    assert_eq!(
        update(&api, json!([{"id": ids[0], "fieldData": {"slug": "a2"}}]))
            .await
            .status,
        200
    );
    assert_eq!(api.create(&item("A", "a")).await.status, 202);
    assert!(mock.duplicates().is_empty());

    let mock = MockWebflow::builder()
        .duplicate_slugs(DuplicateSlugs::Suffix)
        .start()
        .await;
    let api = Api::new(&mock);
    let ids = create_all(&api, &["a", "b"]).await;
    let answer = update(&api, json!([{"id": ids[0], "fieldData": {"slug": "b"}}])).await;
    assert_eq!(answer.status, 200);
    let stored = answer.body["items"][0]["fieldData"]["slug"]
        .as_str()
        .unwrap();
    assert!(is_suffixed(stored, "b"), "{stored}");
    let duplicates = mock.duplicates();
    assert_eq!(duplicates.len(), 1);
    assert_eq!(
        (
            duplicates[0].requested_slug.as_str(),
            duplicates[0].slug(),
            duplicates[0].request_number
        ),
        ("b", stored, 2)
    );
    assert_eq!(duplicates[0].item["id"], ids[0].as_str());
}

#[tokio::test]
async fn unpublishing_keeps_items_as_drafts_and_deleting_removes_them() {
    let mock = MockWebflow::start().await;
    let api = Api::new(&mock);
    let ids = create_all(&api, &["a", "b", "c", "d"]).await;

    let answer = unpublish(&api, json!([{"id": ids[0]}, {"id": ids[1]}])).await;
    assert_eq!((answer.status, answer.text.as_str()), (204, ""));
    let items = mock.items(COLLECTION);
    assert_eq!(
        (&items[0]["isDraft"], &items[0]["lastPublished"]),
        (&json!(true), &Value::Null)
    );
    assert_eq!(
        items[0]["lastUpdated"], items[0]["createdOn"],
        "content unchanged"
    );
    assert_eq!(
        (&items[2]["isDraft"], items[2]["lastPublished"].is_string()),
        (&json!(false), true)
    );
    assert_eq!(total(&api.list("").await.body), 4, "drafts are listed");
    assert_eq!(
        unpublish(&api, json!([{"id": ids[0]}])).await.status,
        204,
        "again: no change"
    );

    // One unknown id: a 404, nothing deleted.
    let answer = delete(
        &api,
        json!([{"id": ids[2]}, {"id": "66a0000000000000000000ff"}]),
    )
    .await;
    assert_eq!(answer.status, 404);
    assert_eq!(mock.items(COLLECTION).len(), 4);

    let answer = delete(&api, json!([{"id": ids[2]}, {"id": ids[0]}])).await;
    assert_eq!((answer.status, answer.text.as_str()), (204, ""));
    assert_eq!(slugs(&api.list("").await.body), ["b", "d"]);
    assert_eq!(
        delete(&api, json!([{"id": ids[2]}])).await.status,
        404,
        "gone"
    );
    // Its slug is free again.
    assert_eq!(api.create(&item("C", "c")).await.status, 202);
    assert_eq!(mock.created_items().len(), 5, "the records of creates stay");
}

#[tokio::test]
async fn locales_pick_the_variant_an_update_or_delete_acts_on() {
    let mock = MockWebflow::builder().primary_locale("en").start().await;
    let api = Api::new(&mock);
    let answer = api
        .create(&json!({"items": [item("Mug", "mug"), in_locale("Tasse", "tasse", "fr")]}))
        .await;
    let en = answer.body["items"][0]["id"].as_str().unwrap();
    let fr = answer.body["items"][1]["id"].as_str().unwrap();
    assert_eq!(answer.body["items"][0]["cmsLocaleId"], "en");
    assert_eq!(
        update(&api, json!([{"id": fr, "cmsLocaleId": "en"}]))
            .await
            .status,
        404
    );
    let answer = update(
        &api,
        json!([{"id": fr, "cmsLocaleId": "fr", "fieldData": {"name": "Bol"}}]),
    )
    .await;
    assert_eq!(answer.body["items"][0]["fieldData"]["name"], "Bol");
    assert_eq!(
        update(&api, json!([{"id": en, "fieldData": {"name": "Cup"}}]))
            .await
            .status,
        200
    );
    assert_eq!(
        delete(&api, json!([{"id": fr, "cmsLocaleIds": ["en"]}]))
            .await
            .status,
        404
    );
    assert_eq!(
        delete(&api, json!([{"id": fr, "cmsLocaleIds": ["fr"]}]))
            .await
            .status,
        204
    );
    assert_eq!(slugs(&api.list("").await.body), ["mug"]);
}

#[tokio::test]
async fn bulk_bodies_are_checked_before_anything_is_looked_up() {
    let mock = MockWebflow::start().await;
    let api = Api::new(&mock);
    let too_many: Vec<Value> = (0..101)
        .map(|n| json!({"id": format!("{n:024x}")}))
        .collect();
    for (method, path, body, param) in [
        (Method::PATCH, live(), json!({"items": too_many}), "items"),
        (Method::PATCH, live(), json!({"items": []}), "items"),
        (Method::DELETE, live(), json!({}), "items"),
        (
            Method::DELETE,
            staged(),
            json!({"items": [{"id": ""}, {"cmsLocaleIds": []}]}),
            "items[0].id",
        ),
    ] {
        let answer = api.call(method.clone(), &path, Some(&body)).await;
        assert_eq!(
            (answer.status, &answer.body["code"]),
            (400, &json!("validation_error")),
            "{method} {body}"
        );
        assert_eq!(detail_params(&answer.body)[0], param, "{method}");
    }
    let answer = api.call(Method::DELETE, &staged(), None).await;
    assert_eq!(
        (answer.status, &answer.body["code"]),
        (400, &json!("bad_request"))
    );
    let without = MockWebflow::builder().without_recording().start().await;
    let answer = Api::new(&without)
        .call(
            Method::PATCH,
            &live(),
            Some(&json!({"items": [{"id": "x"}]})),
        )
        .await;
    assert_eq!(answer.status, 501);
}

/// The entry points of the four new operations, against the mock: every answer decodes
/// with the fragment's types (200 with a body, 204 without).
#[tokio::test]
async fn the_client_decodes_every_answer() {
    use webflow_api::types::UpdateItem;
    let mock = MockWebflow::builder()
        .collection(
            COLLECTION,
            json!({"fields": [{"slug": "price", "type": "Number"}]}),
        )
        .start()
        .await;
    let client = crate::support::client_without_retries(&mock);
    let api = Api::new(&mock);
    let ids = create_all(&api, &["a", "b"]).await;

    let collection = client.collection(COLLECTION).await.unwrap();
    assert_eq!(collection.fields.len(), 3);

    let updated = client
        .update_live_items(COLLECTION, [UpdateItem::new(&ids[0]).field("price", 7)])
        .await
        .unwrap();
    assert_eq!(updated[0].field_data.extra["price"], 7);

    client
        .unpublish_live_items(COLLECTION, [&ids[0]])
        .await
        .unwrap();
    client.delete_items(COLLECTION, [&ids[1]]).await.unwrap();
    let items = mock.items(COLLECTION);
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["isDraft"], true);
}
