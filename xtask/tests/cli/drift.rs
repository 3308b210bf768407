//! `cargo xtask drift` end to end: the built binary against the fixtures in
//! `tests/fixtures/drift/` and the project's real fragment and `spec/deviations.yaml`.
//!
//! `upstream.yml` is a small document in the style of Webflow's spec, holding every
//! operation of our fragment, that our deviations fully explain; each file in `variants/`
//! changes it with a JSON Patch and lists exactly what must be reported, per operation;
//! `malformed/` holds inputs the check must refuse with exit 2.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/drift")
}

fn fixture(name: &str) -> String {
    fixtures().join(name).display().to_string()
}

/// Runs `xtask drift ARGS` with backtraces on, as in the environment CI and developers use.
fn drift(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("drift")
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("the xtask binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The JSON report of a run that completed (exit 0 or 1).
fn json_report(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not a JSON report ({e}); stderr: {}",
            stderr(output)
        )
    })
}

fn read_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The operation `id` of a JSON report.
fn operation<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["operation_id"] == id)
        .unwrap_or_else(|| panic!("no operation {id} in the report"))
}

/// Every deviation status of a JSON report, with the operation it is about (`None`: the
/// document).
fn deviations(report: &Value) -> Vec<(Option<String>, Value)> {
    let document = report["document"]["deviations"].as_array().unwrap();
    let mut out: Vec<(Option<String>, Value)> =
        document.iter().map(|d| (None, d.clone())).collect();
    for operation in report["operations"].as_array().unwrap() {
        let id = operation["operation_id"].as_str().unwrap().to_string();
        for d in operation["deviations"].as_array().unwrap() {
            out.push((Some(id.clone()), d.clone()));
        }
    }
    out
}

/// Applies one RFC 6902 operation (`add`, `replace`, `remove`, `move`).
fn apply(document: &mut Value, operation: &Value) {
    let op = operation["op"].as_str().expect("op");
    let path = operation["path"].as_str().expect("path");
    let (parent_path, last) = path.rsplit_once('/').expect("a pointer below the root");
    let last = last.replace("~1", "/").replace("~0", "~");
    if op == "move" {
        let from = operation["from"].as_str().expect("from");
        let value = document
            .pointer(from)
            .unwrap_or_else(|| panic!("move {from}: nothing there"))
            .clone();
        apply(document, &serde_json::json!({"op": "remove", "path": from}));
        apply(
            document,
            &serde_json::json!({"op": "add", "path": path, "value": value}),
        );
        return;
    }
    let parent = document
        .pointer_mut(parent_path)
        .unwrap_or_else(|| panic!("{op} {path}: no parent"));
    match (op, parent) {
        ("add", Value::Array(items)) if last == "-" => items.push(operation["value"].clone()),
        ("add", Value::Array(items)) => {
            items.insert(last.parse().unwrap(), operation["value"].clone())
        }
        ("add" | "replace", Value::Object(map)) => {
            map.insert(last, operation["value"].clone());
        }
        ("replace", Value::Array(items)) => {
            items[last.parse::<usize>().unwrap()] = operation["value"].clone()
        }
        ("remove", Value::Object(map)) => {
            map.remove(&last)
                .unwrap_or_else(|| panic!("remove {path}: nothing there"));
        }
        ("remove", Value::Array(items)) => {
            items.remove(last.parse().unwrap());
        }
        (op, _) => panic!("unsupported patch operation {op} at {path}"),
    }
}

/// `base` (a fixture) with `patch` applied, written as JSON under the test target
/// directory as `name.json`; returns its path.
fn patched(base: &str, patch: &Value, name: &str) -> String {
    let mut document = read_yaml(&fixtures().join(base));
    for operation in patch.as_array().expect("patch") {
        apply(&mut document, operation);
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("drift-variants");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&document).unwrap()).unwrap();
    path.display().to_string()
}

mod base {
    use super::*;

    fn assert_fully_explained(upstream: &str) {
        let output = drift(&["--upstream", &fixture(upstream), "--format", "json"]);
        let report = json_report(&output);
        assert_eq!(output.status.code(), Some(0), "{upstream}: {report:#}");
        let summary = &report["summary"];
        assert_eq!(summary["unexplained_breaking"], 0, "{upstream}");
        assert_eq!(summary["unexplained_additive"], 0, "{upstream}");
        assert_eq!(summary["stale_deviations"], 0, "{upstream}");
        assert_eq!(summary["explained_breaking"], 15, "{upstream}");
        assert_eq!(summary["explained_additive"], 205, "{upstream}");
        // create-item-live: 200, 403 and 409 that ours adds; every other deviation's
        // differences are additive.
        let create = &operation(&report, "create-item-live")["summary"];
        assert_eq!(create["explained_breaking"], 3, "{upstream}");
        assert_eq!(create["explained_additive"], 35, "{upstream}");
        // list-collection-items: 403 that ours adds.
        let list = &operation(&report, "list-collection-items")["summary"];
        assert_eq!(list["explained_breaking"], 1, "{upstream}");
        assert_eq!(list["explained_additive"], 33, "{upstream}");
        // update-items-live: 403 that ours adds, `items` that ours requires in the answer,
        // and the 409 whose malformed schema ours replaces with the error body.
        let update = &operation(&report, "update-items-live")["summary"];
        assert_eq!(update["explained_breaking"], 8, "{upstream}");
        assert_eq!(update["explained_additive"], 43, "{upstream}");
        // collection-details, delete-items-live, delete-items: 403 that ours adds.
        for (id, additive) in [
            ("collection-details", 31),
            ("delete-items-live", 29),
            ("delete-items", 34),
        ] {
            let summary = &operation(&report, id)["summary"];
            assert_eq!(summary["explained_breaking"], 1, "{upstream}: {id}");
            assert_eq!(summary["explained_additive"], additive, "{upstream}: {id}");
        }
        assert_eq!(report["exit_code"], 0);
        assert_eq!(report["upstream"]["openapi"], "3.1.0");
        for id in [
            "create-item-live",
            "list-collection-items",
            "collection-details",
            "update-items-live",
            "delete-items-live",
            "delete-items",
        ] {
            let found = &operation(&report, id)["upstream"];
            assert_eq!(found["found_by"], "operationId", "{upstream}: {id}");
        }
        for (id, deviation) in deviations(&report) {
            assert_eq!(deviation["stale"], false, "{upstream}: {id:?} {deviation}");
        }
    }

    #[test]
    fn webflow_style_yaml_is_fully_explained() {
        assert_fully_explained("upstream.yml");
    }

    #[test]
    fn the_same_document_as_json_is_fully_explained() {
        assert_fully_explained("upstream.json");
    }

    #[test]
    fn the_same_document_with_refs_is_fully_explained() {
        assert_fully_explained("upstream-with-refs.yml");
    }

    #[test]
    fn every_deviation_explains_what_it_covers_in_its_operation() {
        let report = json_report(&drift(&[
            "--upstream",
            &fixture("upstream.yml"),
            "--format",
            "json",
        ]));
        let explains: Vec<(Option<String>, String, u64)> = deviations(&report)
            .into_iter()
            .map(|(operation, d)| {
                let id = d["id"].as_str().unwrap().to_string();
                (operation, id, d["explains"].as_u64().unwrap())
            })
            .collect();
        // Counts include the cosmetic differences below each entry's pointers.
        let create = Some("create-item-live");
        let list = Some("list-collection-items");
        let details = Some("collection-details");
        let update = Some("update-items-live");
        let unpublish = Some("delete-items-live");
        let delete = Some("delete-items");
        let expected = [
            (None, "openapi-version", 1),
            (create, "request-body-required", 1),
            (create, "request-item-read-only-fields", 8),
            (create, "field-data-custom-fields", 3),
            (create, "bulk-request-bounds", 3),
            (create, "success-200", 1),
            (create, "success-bulk-response", 1),
            (create, "response-nullable-fields", 13),
            (create, "error-body-external-reference-nullable", 10),
            (create, "error-body-details-any", 5),
            (create, "error-body-open-code", 5),
            (create, "status-403", 1),
            (create, "status-409", 1),
            (create, "retry-after-header", 1),
            (create, "rate-limit-headers-on-every-response", 10),
            (list, "list-date-filters-deep-object", 3),
            (list, "list-item-nullable-fields", 13),
            (list, "list-field-data-custom-fields", 1),
            (list, "list-error-body-external-reference-nullable", 10),
            (list, "list-error-body-details-any", 5),
            (list, "list-error-body-open-code", 5),
            (list, "list-status-403", 1),
            (list, "list-retry-after-header", 1),
            (list, "list-rate-limit-headers-on-every-response", 10),
            (details, "collection-timestamps-as-strings", 2),
            (details, "collection-field-type-open", 1),
            (details, "collection-field-help-text-nullable", 2),
            (details, "collection-field-validations-any-object", 1),
            (
                details,
                "collection-details-error-body-external-reference-nullable",
                10,
            ),
            (details, "collection-details-error-body-details-any", 5),
            (details, "collection-details-error-body-open-code", 5),
            (details, "collection-details-status-403", 1),
            (details, "collection-details-retry-after-header", 1),
            (
                details,
                "collection-details-rate-limit-headers-on-every-response",
                10,
            ),
            (update, "update-request-body-required", 1),
            (update, "update-request-bounds", 3),
            (update, "update-request-item-read-only-fields", 3),
            (update, "update-field-data-custom-fields", 2),
            (update, "update-response-shape", 8),
            (update, "update-response-nullable-fields", 13),
            (update, "update-409-schema-nested-response", 8),
            (update, "update-error-body-external-reference-nullable", 10),
            (update, "update-error-body-details-any", 5),
            (update, "update-error-body-open-code", 5),
            (update, "update-status-403", 1),
            (update, "update-retry-after-header", 1),
            (update, "update-rate-limit-headers-on-every-response", 12),
            (unpublish, "unpublish-request-body-required", 1),
            (unpublish, "unpublish-request-bounds", 2),
            (
                unpublish,
                "unpublish-error-body-external-reference-nullable",
                10,
            ),
            (unpublish, "unpublish-error-body-details-any", 5),
            (unpublish, "unpublish-error-body-open-code", 5),
            (unpublish, "unpublish-status-403", 1),
            (unpublish, "unpublish-retry-after-header", 1),
            (
                unpublish,
                "unpublish-rate-limit-headers-on-every-response",
                10,
            ),
            (delete, "delete-request-body-required", 1),
            (delete, "delete-request-bounds", 2),
            (delete, "delete-error-body-external-reference-nullable", 12),
            (delete, "delete-error-body-details-any", 6),
            (delete, "delete-error-body-open-code", 6),
            (delete, "delete-status-403", 1),
            (delete, "delete-retry-after-header", 1),
            (delete, "delete-rate-limit-headers-on-every-response", 12),
        ];
        let expected: Vec<(Option<String>, String, u64)> = expected
            .iter()
            .map(|(operation, id, n)| (operation.map(str::to_string), id.to_string(), *n))
            .collect();
        assert_eq!(explains, expected);
    }

    #[test]
    fn text_report_gives_the_verdict_and_the_expected_differences_per_operation() {
        let output = drift(&["--upstream", &fixture("upstream.yml")]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let text = stdout(&output);
        assert!(
            text.starts_with(
                "Drift check of `create-item-live` (POST /collections/{collection_id}/items/live), \
                 `list-collection-items` (GET /collections/{collection_id}/items), \
                 `collection-details` (GET /collections/{collection_id}), `update-items-live` (PATCH \
                 /collections/{collection_id}/items/live), `delete-items-live` (DELETE \
                 /collections/{collection_id}/items/live) and `delete-items` (DELETE \
                 /collections/{collection_id}/items)\n"
            ),
            "{text}"
        );
        assert!(text.contains(
            "  deviations: spec/deviations.yaml (upstream values recorded from \
             https://github.com/webflow/openapi-spec openapi/v2.yml at e91cb4e6)\n"
        ));
        // The cosmetic count follows every description edit in the fragment: not pinned.
        let verdict = text
            .lines()
            .find(|l| l.starts_with("Result:"))
            .expect("a verdict line");
        assert!(
            verdict.starts_with(
                "Result: no unexplained drift. All 220 breaking or additive differences are explained by \
                 spec/deviations.yaml; "
            ) && verdict.ends_with(" cosmetic differences (listed with --verbose)."),
            "{verdict}"
        );
        assert!(text.contains(
            "\nOperation `create-item-live` (POST /collections/{collection_id}/items/live): no unexplained drift\n\
             \x20 upstream: POST /collections/{collection_id}/items/live (found by operationId)\n\
             \x20 Expected differences (38, explained by deviations):\n"
        ));
        assert!(text.contains(
            "    status-403:\n      breaking  response 403: ours declares status 403; upstream does not\n"
        ));
        assert!(text.contains(
            "\nOperation `list-collection-items` (GET /collections/{collection_id}/items): no unexplained drift\n\
             \x20 upstream: GET /collections/{collection_id}/items (found by operationId)\n\
             \x20 Expected differences (34, explained by deviations):\n"
        ));
        assert!(text.contains(
            "    list-date-filters-deep-object:\n      additive  parameter `createdOn` (query): upstream has \
             a new optional query parameter `createdOn`\n"
        ));
        // The document's only difference (the OpenAPI version) is cosmetic.
        assert!(!text.contains("The document as a whole"));
        assert!(!text.contains("Cosmetic differences"));
        assert!(!text.contains("Unexplained differences"));
    }

    #[test]
    fn verbose_lists_cosmetic_differences() {
        let output = drift(&["--upstream", &fixture("upstream.yml"), "--verbose"]);
        assert_eq!(output.status.code(), Some(0));
        let text = stdout(&output);
        assert!(text.contains("  Cosmetic differences ("));
        assert!(text.contains(
            "    operation: `x-fern-sdk-method-name` only upstream (upstream /x-fern-sdk-method-name (operation))\n"
        ));
        assert!(text.contains(
            "\nThe document as a whole: no unexplained drift\n  Expected differences (1, explained by deviations):\n\
             \x20   openapi-version:\n      cosmetic  document: upstream is OpenAPI 3.1.0, ours 3.0.3\n"
        ));
    }

    #[test]
    fn markdown_report_is_a_job_summary_with_a_section_per_operation() {
        let output = drift(&[
            "--upstream",
            &fixture("upstream.yml"),
            "--format",
            "markdown",
        ]);
        assert_eq!(output.status.code(), Some(0));
        let text = stdout(&output);
        assert!(text.starts_with("## ✅ Upstream drift: no unexplained drift\n\n"));
        assert!(text.contains(
            "### ✅ Operation `create-item-live` (POST /collections/{collection_id}/items/live): no unexplained drift\n"
        ));
        assert!(text.contains(
            "### ✅ Operation `list-collection-items` (GET /collections/{collection_id}/items): no unexplained drift\n"
        ));
        assert!(text.contains(
            "<details><summary>Expected differences (38, explained by <code>spec/deviations.yaml</code>)</summary>"
        ));
        assert!(text.contains(
            "<details><summary>Expected differences (34, explained by <code>spec/deviations.yaml</code>)</summary>"
        ));
        assert!(text.contains("| `status-409` | breaking | response 409 | ours declares status 409; upstream does not |"));
        assert!(text.contains("| `list-status-403` | breaking | response 403 | ours declares status 403; upstream does not |"));
        assert!(!text.contains("### Unexplained differences"));
    }
}

mod variants {
    use super::*;

    /// The unexplained breaking and additive differences of a report, in the shape the
    /// variant files write them (document-wide ones with `operation: null`).
    fn unexplained(report: &Value, with_document_pointer: bool) -> Vec<Value> {
        let document = std::iter::once((Value::Null, &report["document"]));
        let operations = report["operations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| (o["operation_id"].clone(), o));
        document
            .chain(operations)
            .flat_map(|(operation, section)| {
                section["differences"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(move |d| (operation.clone(), d))
            })
            .filter(|(_, d)| d["explained_by"].is_null() && d["class"] != "cosmetic")
            .map(|(operation, d)| {
                let mut out = serde_json::json!({
                    "operation": operation,
                    "class": d["class"],
                    "subject": d["subject"],
                    "description": d["description"],
                    "upstream": d["upstream_relative_pointer"],
                    "ours": d["ours_pointer"],
                });
                if with_document_pointer {
                    out["upstream_document_pointer"] = d["upstream_pointer"].clone();
                }
                out
            })
            .collect()
    }

    /// Runs one variant; `Err` says what differs from its `expect`.
    fn check(name: &str) -> Result<(), String> {
        let variant = read_yaml(&fixtures().join("variants").join(format!("{name}.yaml")));
        let base = variant["base"].as_str().unwrap_or("upstream.yml");
        let path = patched(base, &variant["patch"], name);

        let output = drift(&["--upstream", &path, "--format", "json"]);
        let report = json_report(&output);
        let expect = &variant["expect"];
        let mut problems = Vec::new();
        let exit = output.status.code().map(i64::from);
        if exit != expect["exit"].as_i64() {
            problems.push(format!("exit code {exit:?}, expected {}", expect["exit"]));
        }
        let with_document_pointer = expect["differences"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d.get("upstream_document_pointer").is_some());
        let differences = Value::Array(unexplained(&report, with_document_pointer));
        if differences != expect["differences"] {
            problems.push(format!(
                "unexplained differences:\n{differences:#}\nexpected:\n{:#}",
                expect["differences"]
            ));
        }
        if report["stale_deviations"] != expect["stale"] {
            problems.push(format!(
                "stale deviations {}, expected {}",
                report["stale_deviations"], expect["stale"]
            ));
        }
        for (id, found_by) in expect["found_by"].as_object().into_iter().flatten() {
            let actual = &operation(&report, id)["upstream"]["found_by"];
            if actual != found_by {
                problems.push(format!("{id} found by {actual}, expected {found_by}"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!("variant {name}: {}", problems.join("\n")))
        }
    }

    const VARIANTS: [&str; 27] = [
        "external-reference-nullable",
        "list-moved-operation",
        "list-new-required-query-parameter",
        "list-removed-slug-parameter",
        "list-renamed-operation",
        "list-response-property-newly-required",
        "list-response-property-no-longer-required",
        "list-response-required-undeclared-property",
        "moved-operation",
        "new-error-code",
        "new-optional-query-parameter",
        "new-optional-request-property",
        "new-required-request-property",
        "new-response-property",
        "new-status",
        "parameter-became-required",
        "refs-shared-component-property",
        "removed-parameter",
        "removed-response-property",
        "removed-status",
        "renamed-operation",
        "request-property-became-required",
        "request-property-no-longer-required",
        "request-required-list-changed",
        "response-property-nullable",
        "retyped-response-property",
        "security-scope",
    ];

    #[test]
    fn every_variant_file_is_checked() {
        let mut names: Vec<String> = std::fs::read_dir(fixtures().join("variants"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
            .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, VARIANTS);
    }

    #[test]
    fn each_change_is_classified_exactly() {
        let failures: Vec<String> = VARIANTS
            .iter()
            .filter_map(|name| check(name).err())
            .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    }

    /// The two mutations the issue names, each alone: exit 1 with one exact difference.
    #[test]
    fn a_removed_slug_and_a_changed_request_required_list_each_exit_1() {
        for name in [
            "list-removed-slug-parameter",
            "request-required-list-changed",
        ] {
            let variant = read_yaml(&fixtures().join("variants").join(format!("{name}.yaml")));
            let path = patched("upstream.yml", &variant["patch"], name);
            let output = drift(&["--upstream", &path]);
            assert_eq!(output.status.code(), Some(1), "{name}: {}", stdout(&output));
            let text = stdout(&output);
            assert!(
                text.contains(
                    "\nResult: 1 breaking. 220 breaking or additive differences are explained"
                ),
                "{name}: {text}"
            );
        }
    }

    #[test]
    fn a_stale_deviation_shows_what_changed_in_every_format() {
        let variant = read_yaml(&fixtures().join("variants/new-error-code.yaml"));
        let path = patched("upstream.yml", &variant["patch"], "stale-formats");

        let text = drift(&["--upstream", &path]);
        assert_eq!(text.status.code(), Some(1));
        let text = stdout(&text);
        assert!(
            text.contains("Result: 5 additive, 1 stale deviation."),
            "{text}"
        );
        assert!(text.contains(
            "Operation `create-item-live` (POST /collections/{collection_id}/items/live): 5 additive, 1 stale deviation\n"
        ));
        assert!(text.contains(
            "Operation `list-collection-items` (GET /collections/{collection_id}/items): no unexplained drift\n"
        ));
        assert!(text.contains(
            "      /responses/400/content/application~1json/schema/properties/code/enum (operation): \
             upstream adds `\"payload_too_large\"`\n"
        ));
        assert!(text.contains(
            "              stale:    `error-body-open-code` covers this spot, but upstream adds `\"payload_too_large\"`\n"
        ));
        assert!(text.contains("cargo xtask codegen"));

        let markdown = stdout(&drift(&["--upstream", &path, "--format", "markdown"]));
        assert!(markdown.starts_with("## ❌ Upstream drift: 5 additive, 1 stale deviation\n"));
        assert!(markdown.contains(
            "### ❌ Operation `create-item-live` (POST /collections/{collection_id}/items/live): 5 additive, 1 stale deviation\n"
        ));
        assert!(markdown.contains("#### Unexplained differences\n"));
        assert!(markdown.contains("#### Stale deviations\n"));
        assert!(markdown.contains("| `error-body-open-code` | `/responses/500/content/application~1json/schema/properties/code/enum (operation)` | upstream adds `\"payload_too_large\"` |"));
        assert!(markdown.contains("**What to do:**"));

        let json = json_report(&drift(&["--upstream", &path, "--format", "json"]));
        let (operation, stale) = deviations(&json)
            .into_iter()
            .find(|(_, d)| d["id"] == "error-body-open-code")
            .unwrap();
        assert_eq!(operation.as_deref(), Some("create-item-live"));
        assert_eq!(stale["stale"], true);
        assert_eq!(stale["mismatches"].as_array().unwrap().len(), 5);
        assert_eq!(
            stale["mismatches"][0]["upstream_now"]
                .as_array()
                .unwrap()
                .len(),
            31
        );
        assert_eq!(
            json["stale_deviations"],
            serde_json::json!(["error-body-open-code"])
        );
        assert_eq!(json["exit_code"], 1);
    }
}

/// Operations our fragment does not have yet (a GET using every 3.1 spelling the check
/// rewrites, a PATCH and a DELETE with request bodies, a 204 without a body), with their
/// own fragment and deviations file: the check has no per-operation code.
mod more_operations {
    use super::*;

    fn run(upstream: &str, format: &str) -> Output {
        let (spec, deviations) = (
            fixture("more-operations/fragment.yaml"),
            fixture("more-operations/deviations.yaml"),
        );
        let args = [
            "--upstream",
            upstream,
            "--spec",
            &spec,
            "--deviations",
            &deviations,
        ];
        drift(&[&args[..], &["--format", format, "--verbose"]].concat())
    }

    #[test]
    fn spellings_of_3_1_equal_those_of_3_0_and_each_rewrite_is_reported() {
        let output = run(&fixture("more-operations/upstream.yml"), "json");
        let report = json_report(&output);
        assert_eq!(output.status.code(), Some(0), "{report:#}");
        assert_eq!(report["summary"]["unexplained_breaking"], 0);
        assert_eq!(report["summary"]["unexplained_additive"], 0);
        assert_eq!(report["summary"]["explained_additive"], 1, "the tuple");
        let schema = "/paths/~1collections~1{collection_id}/get/responses/200/content/\
                      application~1json/schema/properties";
        let rewritten: Vec<(String, Vec<String>)> = report["upstream"]["rewritten"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let pointers = r["pointers"].as_array().unwrap().iter();
                let pointers = pointers.map(|p| p.as_str().unwrap().replace(schema, "…"));
                (r["rule"].as_str().unwrap().to_string(), pointers.collect())
            })
            .collect();
        let expected = [
            ("openapi-version", "/openapi"),
            (
                "boolean-schema",
                "…/validations/properties/additionalProperties",
            ),
            ("type-list", "…/displayName/type"),
            ("null-branch", "…/lastUpdated/oneOf"),
            ("exclusive-bound", "…/fieldCount/exclusiveMinimum"),
            ("const", "…/kind/const"),
            ("tuple-items", "…/tags/items"),
            ("set-aside", "…/tags/examples"),
        ];
        let expected: Vec<(String, Vec<String>)> = expected
            .iter()
            .map(|(rule, pointer)| (rule.to_string(), vec![pointer.to_string()]))
            .collect();
        assert_eq!(rewritten, expected);
    }

    #[test]
    fn request_bodies_of_patch_and_delete_and_a_204_are_compared() {
        let live = "/paths/~1collections~1{collection_id}~1items~1live";
        let cases = [
            (
                json!([{"op": "add", "path": format!("{live}/delete/responses/204/content"),
                    "value": {"application/json": {"schema": {"type": "object"}}}}]),
                ("delete-items-live", "additive", "response 204 body"),
                "upstream also uses media type `application/json`; ours does not",
            ),
            (
                json!([{"op": "add", "path": format!("{live}/delete/requestBody/required"),
                    "value": true}]),
                ("delete-items-live", "breaking", "request body"),
                "upstream requires a body; ours may send none",
            ),
            (
                json!([{"op": "add", "path": format!("{live}/patch/requestBody/content/\
                    application~1json/schema/properties/items/items/required/-"),
                    "value": "cmsLocaleId"}]),
                (
                    "update-items-live",
                    "breaking",
                    "request body › items › [] › cmsLocaleId",
                ),
                "upstream requires `cmsLocaleId` (without declaring it under `properties`); \
                 ours makes it optional",
            ),
        ];
        for (index, (patch, (operation, class, subject), description)) in cases.iter().enumerate() {
            let name = format!("more-operations-{index}");
            let path = patched("more-operations/upstream.yml", patch, &name);
            let output = run(&path, "json");
            let report = json_report(&output);
            assert_eq!(output.status.code(), Some(1), "{name}: {report:#}");
            let unexplained: Vec<&Value> = super::operation(&report, operation)["differences"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["explained_by"].is_null() && d["class"] != "cosmetic")
                .collect();
            assert_eq!(unexplained.len(), 1, "{name}: {unexplained:#?}");
            let found = (&unexplained[0]["class"], &unexplained[0]["subject"]);
            assert_eq!(found, (&json!(class), &json!(subject)), "{name}");
            assert_eq!(unexplained[0]["description"], *description, "{name}");
        }
    }
}

mod cannot_run {
    use super::*;

    /// Exit 2, nothing on stdout, and one paragraph on stderr with no panic or backtrace.
    fn refused(args: &[&str]) -> String {
        let output = drift(args);
        let message = stderr(&output);
        assert_eq!(
            output.status.code(),
            Some(2),
            "stdout: {}\nstderr: {message}",
            stdout(&output)
        );
        assert!(output.stdout.is_empty(), "stdout: {}", stdout(&output));
        assert!(message.starts_with("error: "), "{message}");
        assert!(
            !message.trim_end().contains('\n'),
            "not one paragraph: {message}"
        );
        assert!(
            !message.contains("panicked") && !message.contains("backtrace"),
            "{message}"
        );
        message
    }

    #[test]
    fn missing_file() {
        let message = refused(&["--upstream", "does/not/exist.yml"]);
        assert!(message.starts_with(
            "error: cannot use the upstream document does/not/exist.yml: cannot read the file: No such file or directory"
        ), "{message}");
    }

    #[test]
    fn invalid_yaml() {
        let path = fixture("malformed/invalid-yaml.yml");
        let message = refused(&["--upstream", &path]);
        assert!(
            message.starts_with(&format!(
                "error: cannot use the upstream document {path}: not valid YAML or JSON: "
            )),
            "{message}"
        );
        assert!(message.contains("line 6"), "{message}");
    }

    #[test]
    fn not_openapi() {
        let path = fixture("malformed/not-openapi.yml");
        let message = refused(&["--upstream", &path]);
        assert_eq!(
            message,
            format!(
                "error: the upstream document {path} is not an OpenAPI document: it has no `openapi` field (its \
                 top-level keys are `jobs`, `name`, `on`). Pass Webflow's OpenAPI document (openapi/v2.yml of \
                 github.com/webflow/openapi-spec).\n"
            )
        );
    }

    #[test]
    fn swagger_2() {
        let path = fixture("malformed/swagger.yml");
        let message = refused(&["--upstream", &path]);
        assert_eq!(
            message,
            format!(
                "error: the upstream document {path} is a Swagger 2.0 document; the drift check reads OpenAPI 3.0 \
                 and 3.1.\n"
            )
        );
    }

    #[test]
    fn operations_not_found() {
        let path = fixture("malformed/operation-missing.yml");
        let message = refused(&["--upstream", &path]);
        assert_eq!(
            message,
            format!(
                "error: the upstream document {path} has no operation `create-item-live`: no operation has that \
                 operationId, and there is no POST /collections/{{collection_id}}/items/live among its 2 paths; and \
                 no operation `list-collection-items`: no operation has that operationId, and there is no GET \
                 /collections/{{collection_id}}/items among its 2 paths; and no operation `collection-details`: no \
                 operation has that operationId, and there is no GET /collections/{{collection_id}} among its 2 \
                 paths; and no operation `update-items-live`: no operation has that operationId, and there is no \
                 PATCH /collections/{{collection_id}}/items/live among its 2 paths; and no operation \
                 `delete-items-live`: no operation has that operationId, and there is no DELETE \
                 /collections/{{collection_id}}/items/live among its 2 paths; and no operation `delete-items`: no \
                 operation has that operationId, and there is no DELETE /collections/{{collection_id}}/items among \
                 its 2 paths. Webflow may have renamed or moved them: find them in the document and update \
                 `operations:` in spec/deviations.yaml.\n"
            )
        );
    }

    /// One operation of the fragment missing upstream stops the whole check (exit 2), as a
    /// missing operation always has: the deviations file's record of upstream is out of date.
    #[test]
    fn one_operation_not_found() {
        let patch = serde_json::json!([
            {"op": "remove", "path": "/paths/~1collections~1{collection_id}~1items/get"}
        ]);
        let path = patched("upstream.yml", &patch, "list-operation-missing");
        let message = refused(&["--upstream", &path]);
        assert_eq!(
            message,
            format!(
                "error: the upstream document {path} has no operation `list-collection-items`: no operation has \
                 that operationId, and there is no GET /collections/{{collection_id}}/items among its 3 paths. \
                 Webflow may have renamed or moved it: find it in the document and update `operations:` in \
                 spec/deviations.yaml.\n"
            )
        );
    }

    #[test]
    fn fragment_operation_not_listed_in_the_deviations_file() {
        let deviations = fixture("malformed/deviations-unlisted-operation.yaml");
        let message = refused(&[
            "--upstream",
            &fixture("upstream.yml"),
            "--deviations",
            &deviations,
        ]);
        assert!(
            message.contains(
                "spec/webflow-cms-items.yaml: its operation `list-collection-items`, GET \
                 /collections/{collection_id}/items is not listed under `operations:` in "
            ),
            "{message}"
        );
    }

    #[test]
    fn deviation_about_an_unlisted_operation() {
        let deviations = fixture("malformed/deviations-unknown-operation.yaml");
        let message = refused(&[
            "--upstream",
            &fixture("upstream.yml"),
            "--deviations",
            &deviations,
        ]);
        assert_eq!(
            message,
            format!(
                "error: {deviations}: deviation 1 (`status-403`): its operation `list-items-live` is not listed \
                 under `operations:`\n"
            )
        );
    }

    #[test]
    fn unresolvable_ref() {
        let path = fixture("malformed/unresolvable-ref.yml");
        let message = refused(&["--upstream", &path]);
        assert_eq!(
            message,
            format!(
                "error: the upstream document {path} cannot be read: `$ref: #/components/schemas/CollectionItem` at \
                 /paths/~1collections~1{{collection_id}}~1items~1live/post/responses/202/content/application~1json/schema \
                 does not resolve: there is nothing at that path in the document\n"
            )
        );
    }

    /// What the pre-pass does not rewrite and openapiv3 cannot read is named by its place.
    #[test]
    fn a_document_openapiv3_cannot_read() {
        let patch = json!([{"op": "add", "value": {"name": "x", "in": "querystring"},
            "path": "/paths/~1collections~1{collection_id}~1items/get/parameters/-"}]);
        let path = patched("upstream.yml", &patch, "unreadable-parameter");
        let message = refused(&["--upstream", &path]);
        assert_eq!(
            message,
            format!(
                "error: the upstream document {path} cannot be read as OpenAPI 3.0 (after rewriting its \
                 3.1 constructs) at /paths/~1collections~1{{collection_id}}~1items/get: unknown variant \
                 `querystring`, expected one of `query`, `header`, `path`, `cookie`\n"
            )
        );
    }

    #[test]
    fn plain_http_is_refused() {
        let message = refused(&[
            "--upstream",
            "http://raw.githubusercontent.com/webflow/openapi-spec/main/openapi/v2.yml",
        ]);
        assert!(message.starts_with(
            "error: refusing to fetch http://raw.githubusercontent.com/webflow/openapi-spec/main/openapi/v2.yml: \
             only https URLs are fetched"
        ), "{message}");
    }

    #[test]
    fn unreachable_url() {
        let message = refused(&["--upstream", "https://127.0.0.1:1/openapi/v2.yml"]);
        assert!(
            message.starts_with("error: cannot fetch the upstream document from https://127.0.0.1:1/openapi/v2.yml: "),
            "{message}"
        );
        assert!(
            message.contains("Check the URL and the network"),
            "{message}"
        );
    }

    #[test]
    fn deviations_file_without_recorded_value() {
        let deviations = fixture("malformed/deviations-without-value.yaml");
        let message = refused(&[
            "--upstream",
            &fixture("upstream.yml"),
            "--deviations",
            &deviations,
        ]);
        assert_eq!(
            message,
            format!(
                "error: {deviations}: deviation 1 (`openapi-version`): it needs exactly one of `upstream_absent: \
                 true`, `upstream_value` or `upstream_values` (a mapping from each pointer to its value)\n"
            )
        );
    }

    #[test]
    fn usage_errors() {
        let output = drift(&["--upstream", &fixture("upstream.yml"), "--format", "html"]);
        assert_eq!(output.status.code(), Some(2));
        assert!(
            stderr(&output).starts_with("error: unknown format `html` (text, json or markdown)\n")
        );
        let output = drift(&[]);
        assert_eq!(output.status.code(), Some(2));
        assert!(stderr(&output).starts_with("error: drift needs --upstream <path or https URL>\n"));
    }
}
