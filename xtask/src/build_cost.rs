//! `cargo xtask build-cost`: what depending on webflow-api costs an application at build
//! time. It writes small programs under `target/build-cost/`, builds each from clean
//! (debug, this machine's cores), alternating them so that load drift hits both sides, and
//! prints the wall times and the median ratio, and the CPU time of each build (user +
//! system of cargo, rustc and the build scripts; on Linux), which other work on a shared
//! machine skews far less than the wall time. Each program is also run once, so a set-up
//! that panics at start-up (a TLS provider missing, say) fails the command.
//!
//! The headline comparison is a one-line program using webflow-api (default features) vs
//! the same program built on bare reqwest 0.13 + rustls (ring) + serde_json + tokio. With
//! `--tls` it also compares the TLS choices in a bare application and in a typical one that
//! already uses reqwest's default features (rustls with aws-lc-rs).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use crate::codegen::project_root;

/// One program to build: a name, its `[dependencies]` and its `main.rs`.
struct Program {
    name: &'static str,
    dependencies: String,
    main: &'static str,
}

const TOKIO: &str = r#"tokio = { version = "1", features = ["macros", "rt-multi-thread"] }"#;

const WEBFLOW_MAIN: &str = r#"#[tokio::main]
async fn main() {
    let client = webflow_api::Client::from_token("build-cost").unwrap();
    println!("{}", client.base_url());
}
"#;

const WEBFLOW_WITH_APP_CLIENT_MAIN: &str = r#"#[tokio::main]
async fn main() {
    let client = webflow_api::Client::from_token("build-cost").unwrap();
    // The application's own client, with reqwest's default features: no panic.
    let own = reqwest::Client::new();
    println!("{} {:?}", client.base_url(), own);
}
"#;

const BARE_MAIN: &str = r#"use std::sync::Arc;

#[tokio::main]
async fn main() {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .unwrap();
    let body = serde_json::json!({"fieldData": {"name": "A", "slug": "a"}});
    println!("{:?} {body}", client);
}
"#;

const APP_MAIN: &str = r#"#[tokio::main]
async fn main() {
    let own = reqwest::Client::new();
    let body = serde_json::json!({"fieldData": {"name": "A", "slug": "a"}});
    println!("{:?} {body}", own);
}
"#;

fn webflow_dependency(features: &str) -> String {
    let path = project_root().join("webflow-api");
    format!(
        "webflow-api = {{ path = {:?}{features} }}\n",
        path.to_string_lossy()
    )
}

fn headline() -> (Program, Program) {
    (
        Program {
            name: "webflow-api",
            dependencies: format!("{}{TOKIO}\n", webflow_dependency("")),
            main: WEBFLOW_MAIN,
        },
        Program {
            name: "bare-reqwest-rustls-ring",
            dependencies: format!(
                "reqwest = {{ version = \"0.13.5\", default-features = false, features = [\"json\", \"rustls-no-provider\"] }}\n\
                 rustls = {{ version = \"0.23\", default-features = false, features = [\"ring\", \"std\", \"tls12\"] }}\n\
                 serde_json = \"1\"\n{TOKIO}\n"
            ),
            main: BARE_MAIN,
        },
    )
}

/// The TLS choices: (label, program with webflow-api, program without).
fn tls_comparisons() -> Vec<(&'static str, Program, Program)> {
    let bare = || headline().1;
    let typical_app = || Program {
        name: "typical-app",
        dependencies: format!("reqwest = \"0.13.5\"\nserde_json = \"1\"\n{TOKIO}\n"),
        main: APP_MAIN,
    };
    vec![
        (
            "bare application: rustls + ring, preconfigured (the default)",
            headline().0,
            bare(),
        ),
        (
            "bare application: reqwest's `rustls` feature (aws-lc-rs)",
            Program {
                name: "webflow-api-aws-lc",
                dependencies: format!(
                    "{}reqwest = {{ version = \"0.13.5\", default-features = false, features = [\"rustls\"] }}\n{TOKIO}\n",
                    webflow_dependency(", default-features = false")
                ),
                main: WEBFLOW_MAIN,
            },
            bare(),
        ),
        (
            "bare application: with HTTP/2 compiled in",
            Program {
                name: "webflow-api-http2",
                dependencies: format!(
                    "{}reqwest = {{ version = \"0.13.5\", default-features = false, features = [\"http2\"] }}\n{TOKIO}\n",
                    webflow_dependency("")
                ),
                main: WEBFLOW_MAIN,
            },
            bare(),
        ),
        (
            "typical application (reqwest defaults: rustls + aws-lc-rs), adding webflow-api",
            Program {
                name: "typical-app-with-webflow-api",
                dependencies: format!(
                    "{}reqwest = \"0.13.5\"\nserde_json = \"1\"\n{TOKIO}\n",
                    webflow_dependency("")
                ),
                main: WEBFLOW_WITH_APP_CLIENT_MAIN,
            },
            typical_app(),
        ),
    ]
}

/// Runs `cargo xtask build-cost [--runs N] [--tls]`.
pub fn command(args: &[String]) -> Result<ExitCode, String> {
    let mut runs = 3usize;
    let mut tls = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => {
                runs = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| *n > 0)
                    .ok_or("--runs needs a positive number")?;
            }
            "--tls" => tls = true,
            other => return Err(format!("unknown build-cost option `{other}`")),
        }
    }
    let work = project_root().join("target").join("build-cost");
    println!(
        "machine: {} logical CPUs, {}; {runs} clean debug builds of each program, alternating\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        rustc_version()
    );
    let comparisons = if tls {
        tls_comparisons()
    } else {
        let (ours, bare) = headline();
        vec![(
            "webflow-api (default features) vs bare reqwest + rustls (ring) + serde_json + tokio",
            ours,
            bare,
        )]
    };
    let mut failed = false;
    for (label, with, without) in comparisons {
        match compare(&work, &with, &without, runs) {
            Ok(result) => println!("{label}\n{result}\n"),
            Err(error) => {
                failed = true;
                eprintln!("{label}: {error}\n");
            }
        }
    }
    Ok(ExitCode::from(u8::from(failed) * 2))
}

fn compare(work: &Path, with: &Program, without: &Program, runs: usize) -> Result<String, String> {
    let with_dir = write_program(work, with)?;
    let without_dir = write_program(work, without)?;
    // Fetch first, so that downloads are not timed.
    for dir in [&with_dir, &without_dir] {
        cargo(dir, &["fetch", "--quiet"])?;
    }
    let mut with_times = Vec::new();
    let mut without_times = Vec::new();
    let mut cpu: (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    let mut crates = (0, 0);
    for _ in 0..runs {
        let build = clean_build(&with_dir)?;
        with_times.push(build.wall);
        cpu.0.extend(build.cpu);
        crates.0 = build.crates;
        let build = clean_build(&without_dir)?;
        without_times.push(build.wall);
        cpu.1.extend(build.cpu);
        crates.1 = build.crates;
    }
    for (dir, program) in [(&with_dir, with), (&without_dir, without)] {
        run_once(dir, program.name)?;
    }
    let ratios: Vec<f64> = with_times
        .iter()
        .zip(&without_times)
        .map(|(a, b)| a.as_secs_f64() / b.as_secs_f64())
        .collect();
    let seconds = |times: &[Duration]| {
        times
            .iter()
            .map(|t| format!("{:.1}", t.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut report = format!(
        "  {:<34} {:>3} crates compiled, wall {} s (median {:.1} s)\n  {:<34} {:>3} crates compiled, wall {} s (median {:.1} s)\n  ratio {:.2}x (median of {runs} alternating pairs; range {:.2} to {:.2})",
        with.name,
        crates.0,
        seconds(&with_times),
        median(with_times.iter().map(Duration::as_secs_f64).collect()),
        without.name,
        crates.1,
        seconds(&without_times),
        median(without_times.iter().map(Duration::as_secs_f64).collect()),
        median(ratios.clone()),
        ratios.iter().copied().fold(f64::INFINITY, f64::min),
        ratios.iter().copied().fold(0.0, f64::max),
    );
    if cpu.0.len() == runs && cpu.1.len() == runs {
        let cpu_ratios: Vec<f64> = cpu.0.iter().zip(&cpu.1).map(|(a, b)| a / b).collect();
        let list = |values: &[f64]| {
            values
                .iter()
                .map(|v| format!("{v:.1}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        report.push_str(&format!(
            "\n  CPU time (user + system): {} {} s (median {:.1} s), {} {} s (median {:.1} s)\n  CPU ratio {:.2}x (median; range {:.2} to {:.2})",
            with.name,
            list(&cpu.0),
            median(cpu.0.clone()),
            without.name,
            list(&cpu.1),
            median(cpu.1.clone()),
            median(cpu_ratios.clone()),
            cpu_ratios.iter().copied().fold(f64::INFINITY, f64::min),
            cpu_ratios.iter().copied().fold(0.0, f64::max),
        ));
    }
    Ok(report)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn write_program(work: &Path, program: &Program) -> Result<PathBuf, String> {
    let dir = work.join(program.name);
    let io = |e: std::io::Error| format!("cannot write {}: {e}", dir.display());
    std::fs::create_dir_all(dir.join("src")).map_err(io)?;
    let manifest = format!(
        "[package]\nname = {:?}\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         # Not part of the webflow-api workspace.\n[workspace]\n\n[dependencies]\n{}",
        program.name, program.dependencies
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).map_err(io)?;
    std::fs::write(dir.join("src/main.rs"), program.main).map_err(io)?;
    // The versions the workspace ships with (cargo adds what the program needs beyond).
    let lock = project_root().join("Cargo.lock");
    if !dir.join("Cargo.lock").exists() {
        std::fs::copy(lock, dir.join("Cargo.lock")).map_err(io)?;
    }
    Ok(dir)
}

/// What one clean build took.
struct Build {
    wall: Duration,
    /// CPU seconds (user + system) of cargo and everything it ran; `None` off Linux.
    cpu: Option<f64>,
    /// Crates compiled.
    crates: usize,
}

/// CPU seconds (user + system) of this process's children that were waited for, and of
/// their own waited-for children (`cutime` + `cstime` in `/proc/self/stat`; Linux only).
fn children_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name (which may hold spaces and parentheses): the
    // state is field 3 of proc(5), so cutime (16) and cstime (17) are the 14th and 15th.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    // Clock ticks of 1/100 s: USER_HZ, 100 on every Linux architecture cargo builds on.
    Some((ticks(13)? + ticks(14)?) / 100.0)
}

/// A clean debug build: its wall time, CPU time and how many crates it compiled.
fn clean_build(dir: &Path) -> Result<Build, String> {
    let target = dir.join("target");
    let _ = std::fs::remove_dir_all(&target);
    let cpu_before = children_cpu_seconds();
    let started = Instant::now();
    let output = Command::new(cargo_bin())
        .args(["build", "--color", "never"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", &target)
        .stdout(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let elapsed = started.elapsed();
    let cpu = children_cpu_seconds()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    let log = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("the build of {} failed:\n{log}", dir.display()));
    }
    let compiled = log
        .lines()
        .filter(|line| line.trim_start().starts_with("Compiling "))
        .count();
    Ok(Build {
        wall: elapsed,
        cpu,
        crates: compiled,
    })
}

fn run_once(dir: &Path, name: &str) -> Result<(), String> {
    let binary = dir.join("target/debug").join(name);
    let output = Command::new(&binary)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{name} failed at start-up: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

fn cargo(dir: &Path, args: &[&str]) -> Result<(), String> {
    let status = Command::new(cargo_bin())
        .args(args)
        .current_dir(dir)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("`cargo {}` failed in {}", args.join(" "), dir.display()))
}

fn cargo_bin() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn rustc_version() -> String {
    Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "rustc (unknown version)".into())
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(Vec::new()).is_nan());
    }
}
