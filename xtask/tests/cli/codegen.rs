//! `cargo xtask codegen` as a user runs it: exit codes, and error output that is one short
//! message, never a panic or a backtrace.

use std::path::PathBuf;
use std::process::{Command, Output};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn codegen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("codegen")
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap()
}

fn real_spec() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../spec/webflow-cms-items.yaml"
    ))
    .unwrap()
}

#[test]
fn bad_spec_exits_2_with_one_message_and_no_backtrace() {
    let dir = scratch("bad");
    let out = dir.join("generated.rs");
    std::fs::write(&out, "// untouched\n").unwrap();
    let cases: [(&str, Option<String>); 4] = [
        ("missing.yaml", None),
        ("syntax.yaml", Some("openapi: 3.0.3\ninfo: [\n".to_owned())),
        (
            "v31.yaml",
            Some(real_spec().replace("openapi: 3.0.3", "openapi: 3.1.0")),
        ),
        (
            "panic.yaml",
            Some(real_spec().replacen(
                "        '200':\n          $ref: '#/components/responses/ItemsCreated'\n",
                "        '200':\n          $ref: '#/components/responses/BadRequest'\n",
                1,
            )),
        ),
    ];
    for (name, text) in cases {
        let spec = dir.join(name);
        if let Some(text) = text {
            std::fs::write(&spec, text.as_bytes()).unwrap();
        }
        let output = codegen(&[
            "--spec",
            spec.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.starts_with(&format!("error: {}", spec.display())),
            "{name}: {stderr}"
        );
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{name}: one paragraph: {stderr}"
        );
        assert!(
            !stderr.contains("panicked") && !stderr.contains("backtrace"),
            "{name}: {stderr}"
        );
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "// untouched\n",
            "{name}: output changed"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn check_on_a_stale_file_exits_1_with_a_diff_and_the_command() {
    let dir = scratch("stale");
    let out = dir.join("generated.rs");
    std::fs::write(&out, "// stale\n").unwrap();
    let spec = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../spec/webflow-cms-items.yaml"
    );
    let output = codegen(&["--check", "--spec", spec, "--out", out.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("-// stale") && stderr.contains("+// @generated"),
        "{stderr}"
    );
    assert!(stderr.contains("Run `cargo xtask codegen`"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "// stale\n",
        "--check writes nothing"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn unknown_arguments_are_usage_errors() {
    let output = codegen(&["--frobnicate"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("unknown codegen option `--frobnicate`")
    );
}
