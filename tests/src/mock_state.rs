//! The mock's state file: two mocks started one after the other on the same file see the
//! same collections (schemas, items, counters, the wall clock); a file that is not one is
//! refused; the file is always whole.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use webflow_api::mock::MockWebflow;
use webflow_api::time::ManualClock;

use crate::mock_server::{Api, COLLECTION, item, slugs};

/// A directory of its own under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("webflow-mock-{}-{n}-{name}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn a_second_mock_on_the_same_file_sees_the_same_collection() {
    let dir = TempDir::new("rerun");
    let path = dir.file("state.json");
    let clock = ManualClock::new();
    let schema = json!({"fields": [{"slug": "price", "type": "Number"}]});
    let first = MockWebflow::builder()
        .clock(clock.clone())
        .state_file(&path)
        .collection(COLLECTION, schema)
        .start()
        .await;
    assert!(
        path.exists(),
        "written as soon as there is something to keep"
    );
    let api = Api::new(&first);
    let created = api
        .create(&json!({"items": [item("A", "a"), item("B", "b"), item("C", "c")]}))
        .await;
    let ids: Vec<&str> = created.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    clock.advance(Duration::from_secs(600));
    let live = format!("/collections/{COLLECTION}/items/live");
    let update = json!({"items": [{"id": ids[0], "fieldData": {"price": 3}}]});
    assert_eq!(
        api.call(Method::PATCH, &live, Some(&update)).await.status,
        200
    );
    let delete = json!({"items": [{"id": ids[1]}]});
    assert_eq!(
        api.call(
            Method::DELETE,
            &format!("/collections/{COLLECTION}/items"),
            Some(&delete)
        )
        .await
        .status,
        204
    );
    first.insert_items("other", [item("X", "x")]);
    let kept = first.items(COLLECTION);
    drop(first);

    // A new run: a new clock, no schema given; the file has it all.
    let second = MockWebflow::builder()
        .clock(ManualClock::new())
        .state_file(&path)
        .start()
        .await;
    assert_eq!(second.items(COLLECTION), kept);
    assert_eq!(second.items("other").len(), 1);
    assert_eq!(second.request_count(), 0, "requests are not kept");
    let api = Api::new(&second);
    assert_eq!(slugs(&api.list("").await.body), ["a", "c"]);
    let details = api
        .call(Method::GET, &format!("/collections/{COLLECTION}"), None)
        .await;
    assert_eq!(details.body["fields"][2]["slug"], "price");
    assert_eq!(
        api.create(&item("A", "a")).await.status,
        400,
        "its slugs are taken"
    );
    let refused = api
        .create(&json!({"fieldData": {"name": "D", "slug": "d", "price": "3"}}))
        .await;
    assert_eq!(refused.status, 400, "its schema applies");
    let d = api.create(&item("D", "d")).await;
    assert_eq!(d.status, 202);
    assert!(
        !ids.contains(&d.body["id"].as_str().unwrap()),
        "ids keep counting"
    );
    assert_eq!(
        d.body["createdOn"], "2026-01-01T00:10:00.000Z",
        "the wall clock carries on from the first run"
    );
    drop(second);
    assert_eq!(
        dir.entries(),
        ["state.json"],
        "no temporary file left behind"
    );
}

#[tokio::test]
async fn a_file_that_is_not_a_state_file_is_refused_and_a_missing_one_is_created() {
    let dir = TempDir::new("refused");
    let path = dir.file("state.json");
    std::fs::write(&path, "{\"items\": ").unwrap();
    let error = MockWebflow::builder()
        .state_file(&path)
        .try_start()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
    assert!(
        error.to_string().contains(&path.display().to_string()),
        "{error}"
    );
    assert!(
        error.to_string().contains("is not a mock state file"),
        "{error}"
    );
    std::fs::write(
        &path,
        "{\"format\": 99, \"sequence\": 0, \"suffixes\": 0, \"wall_ms\": 0, \"collections\": {}}",
    )
    .unwrap();
    let error = MockWebflow::builder()
        .state_file(&path)
        .try_start()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("format 99"), "{error}");

    let fresh = dir.file("fresh.json");
    let mock = MockWebflow::builder().state_file(&fresh).start().await;
    assert!(!fresh.exists(), "nothing to keep yet");
    Api::new(&mock).create(&item("A", "a")).await;
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&fresh).unwrap()).unwrap();
    assert_eq!(
        saved["collections"][COLLECTION]["items"][0]["item"]["fieldData"]["slug"],
        "a"
    );
    assert_eq!(saved["sequence"], 1);
}
