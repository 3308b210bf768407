//! `cargo xtask drift` end to end: the built binary against the fixtures in
//! `tests/fixtures/drift/` and the project's real fragment and `spec/deviations.yaml`.
//!
//! `upstream.yml` is a small document in the style of Webflow's spec that our deviations
//! fully explain; each file in `variants/` changes it with a JSON Patch and lists exactly
//! what must be reported; `malformed/` holds inputs the check must refuse with exit 2.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

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
        // 200, 403 and 409 that ours adds; every other deviation's differences are additive.
        assert_eq!(summary["explained_breaking"], 3, "{upstream}");
        assert_eq!(summary["explained_additive"], 35, "{upstream}");
        assert_eq!(report["exit_code"], 0);
        assert_eq!(report["upstream"]["openapi"], "3.1.0");
        assert_eq!(report["upstream"]["found"]["by"], "operationId");
        for deviation in report["deviations"].as_array().unwrap() {
            assert_eq!(deviation["stale"], false, "{upstream}: {deviation}");
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
    fn every_deviation_explains_what_it_covers() {
        let report = json_report(&drift(&[
            "--upstream",
            &fixture("upstream.yml"),
            "--format",
            "json",
        ]));
        let explains: Vec<(String, u64)> = report["deviations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["id"].as_str().unwrap().to_string(),
                    d["explains"].as_u64().unwrap(),
                )
            })
            .collect();
        // Counts include the cosmetic differences below each entry's pointers.
        let expected = [
            ("openapi-version", 1),
            ("request-body-required", 1),
            ("request-item-read-only-fields", 8),
            ("field-data-custom-fields", 3),
            ("bulk-request-bounds", 3),
            ("success-200", 1),
            ("success-bulk-response", 1),
            ("response-nullable-fields", 13),
            ("error-body-external-reference-nullable", 10),
            ("error-body-details-any", 5),
            ("error-body-open-code", 5),
            ("status-403", 1),
            ("status-409", 1),
            ("retry-after-header", 1),
            ("rate-limit-headers-on-every-response", 10),
        ];
        let expected: Vec<(String, u64)> = expected
            .iter()
            .map(|(id, n)| (id.to_string(), *n))
            .collect();
        assert_eq!(explains, expected);
    }

    #[test]
    fn text_report_gives_the_verdict_and_the_expected_differences() {
        let output = drift(&["--upstream", &fixture("upstream.yml")]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let text = stdout(&output);
        assert!(text.starts_with(
            "Drift check of `create-item-live` (POST /collections/{collection_id}/items/live)\n"
        ));
        // The cosmetic count follows every description edit in the fragment: not pinned.
        let verdict = text
            .lines()
            .find(|l| l.starts_with("Result:"))
            .expect("a verdict line");
        assert!(
            verdict.starts_with(
                "Result: no unexplained drift. All 38 breaking or additive differences are explained by \
                 spec/deviations.yaml; "
            ) && verdict.ends_with(" cosmetic differences (listed with --verbose)."),
            "{verdict}"
        );
        assert!(text.contains(
            "  status-403:\n    breaking  response 403: ours declares status 403; upstream does not\n"
        ));
        assert!(!text.contains("Cosmetic differences"));
        assert!(!text.contains("Unexplained differences"));
    }

    #[test]
    fn verbose_lists_cosmetic_differences() {
        let output = drift(&["--upstream", &fixture("upstream.yml"), "--verbose"]);
        assert_eq!(output.status.code(), Some(0));
        let text = stdout(&output);
        assert!(text.contains("Cosmetic differences ("));
        assert!(text.contains(
            "  operation: `x-fern-sdk-method-name` only upstream (upstream /x-fern-sdk-method-name (operation))\n"
        ));
        assert!(text.contains("    cosmetic  document: upstream is OpenAPI 3.1.0, ours 3.0.3\n"));
    }

    #[test]
    fn markdown_report_is_a_job_summary() {
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
            "<details><summary>Expected differences (38, explained by <code>spec/deviations.yaml</code>)</summary>"
        ));
        assert!(text.contains("| `status-409` | breaking | response 409 | ours declares status 409; upstream does not |"));
        assert!(!text.contains("### Unexplained differences"));
    }
}

mod variants {
    use super::*;

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

    /// The unexplained breaking and additive differences of a report, in the shape the
    /// variant files write them.
    fn unexplained(report: &Value, with_document_pointer: bool) -> Vec<Value> {
        report["differences"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["explained_by"].is_null() && d["class"] != "cosmetic")
            .map(|d| {
                let mut out = serde_json::json!({
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
        let base_name = variant["base"].as_str().unwrap_or("upstream.yml");
        let mut document = read_yaml(&fixtures().join(base_name));
        for operation in variant["patch"].as_array().expect("patch") {
            apply(&mut document, operation);
        }
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("drift-variants");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&document).unwrap()).unwrap();

        let output = drift(&[
            "--upstream",
            &path.display().to_string(),
            "--format",
            "json",
        ]);
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
        if let Some(found_by) = expect.get("found_by")
            && report["upstream"]["found"]["by"] != *found_by
        {
            problems.push(format!(
                "found by {}, expected {found_by}",
                report["upstream"]["found"]["by"]
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!("variant {name}: {}", problems.join("\n")))
        }
    }

    const VARIANTS: [&str; 20] = [
        "external-reference-nullable",
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

    #[test]
    fn a_stale_deviation_shows_what_changed_in_every_format() {
        let variant = read_yaml(&fixtures().join("variants/new-error-code.yaml"));
        let mut document = read_yaml(&fixtures().join("upstream.yml"));
        for operation in variant["patch"].as_array().unwrap() {
            apply(&mut document, operation);
        }
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("drift-stale-formats.json");
        std::fs::write(&path, document.to_string()).unwrap();
        let path = path.display().to_string();

        let text = drift(&["--upstream", &path]);
        assert_eq!(text.status.code(), Some(1));
        let text = stdout(&text);
        assert!(
            text.contains("Result: 5 additive, 1 stale deviation."),
            "{text}"
        );
        assert!(text.contains(
            "    /responses/400/content/application~1json/schema/properties/code/enum (operation): \
             upstream adds `\"payload_too_large\"`\n"
        ));
        assert!(text.contains(
            "            stale:    `error-body-open-code` covers this spot, but upstream adds `\"payload_too_large\"`\n"
        ));
        assert!(text.contains("cargo xtask codegen"));

        let markdown = stdout(&drift(&["--upstream", &path, "--format", "markdown"]));
        assert!(markdown.starts_with("## ❌ Upstream drift: 5 additive, 1 stale deviation\n"));
        assert!(markdown.contains("### Unexplained differences\n"));
        assert!(markdown.contains("### Stale deviations\n"));
        assert!(markdown.contains("| `error-body-open-code` | `/responses/500/content/application~1json/schema/properties/code/enum (operation)` | upstream adds `\"payload_too_large\"` |"));
        assert!(markdown.contains("**What to do:**"));

        let json = json_report(&drift(&["--upstream", &path, "--format", "json"]));
        let stale = json["deviations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == "error-body-open-code")
            .unwrap();
        assert_eq!(stale["stale"], true);
        assert_eq!(stale["mismatches"].as_array().unwrap().len(), 5);
        assert_eq!(
            stale["mismatches"][0]["upstream_now"]
                .as_array()
                .unwrap()
                .len(),
            31
        );
        assert_eq!(json["exit_code"], 1);
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
    fn operation_not_found() {
        let path = fixture("malformed/operation-missing.yml");
        let message = refused(&["--upstream", &path]);
        assert_eq!(
            message,
            format!(
                "error: the upstream document {path} has no operation `create-item-live`: no operation has that \
                 operationId, and there is no POST /collections/{{collection_id}}/items/live among its 2 paths. \
                 Webflow may have renamed or moved it: find it in the document and update `upstream:` in \
                 spec/deviations.yaml.\n"
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
