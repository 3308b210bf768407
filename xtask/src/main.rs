//! Project automation: `cargo xtask codegen [--check]` regenerates (or checks) the client
//! generated from `spec/`, `cargo xtask drift` compares the fragment with Webflow's
//! published spec, `cargo xtask build-cost` measures what depending on the crate costs
//! an application's clean build, and `cargo xtask tidy` runs the source checks of `tidy.rs`.
//!
//! Arguments are parsed by hand (no clap), as in rust-analyzer's xtask, to keep the
//! tool quick to build.

mod build_cost;
mod codegen;
mod drift;
mod panics;
mod spec_file;
mod tidy;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  codegen [--check]   regenerate webflow-api/src/generated.rs from spec/webflow-cms-items.yaml;
                      with --check, write nothing and fail with a diff when the file is stale
    [--spec PATH] [--out PATH]   (for testing) use another spec or output file
  drift --upstream PATH|URL [--format text|json|markdown] [--verbose]
                      compare every operation of the fragment with Webflow's published spec
                      (a file, or an https URL); exit 0 when spec/deviations.yaml explains
                      every difference, 1 on unexplained drift or stale deviations, 2 when it
                      cannot run (including an operation missing from either document)
    [--spec PATH] [--deviations PATH]   (for testing) use another fragment or deviations file
  build-cost [--runs N] [--tls]
                      clean debug builds of a one-line program using webflow-api vs the same on
                      bare reqwest + rustls (ring) + serde_json + tokio, alternating, N runs each
                      (default 3); prints wall times and the median ratio. With --tls, compares
                      the TLS choices in a bare and in a typical application instead
  tidy [--graph]      checks on webflow-api/src that rustc and clippy do not make: no
                      task_local!, no import cycle among the modules, no HTTP status number
                      in bulk/ code, a `//!` first line in every module; prints each finding
                      as file:line and exits 1 if any (the same checks are xtask's tests).
                      With --graph, also prints the module graph the cycle check reads
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("codegen") => run_codegen(&args[1..]),
        Some("drift") => drift::command(&args[1..]).unwrap_or_else(|message| usage_error(&message)),
        Some("build-cost") => {
            build_cost::command(&args[1..]).unwrap_or_else(|message| usage_error(&message))
        }
        Some("tidy") => tidy::command(&args[1..]).unwrap_or_else(|message| usage_error(&message)),
        Some("help" | "--help" | "-h") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => usage_error(&format!("unknown command `{other}`")),
        None => usage_error("no command given"),
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}\n\n{USAGE}");
    ExitCode::from(2)
}

fn run_codegen(args: &[String]) -> ExitCode {
    let root = codegen::project_root();
    let mut mode = codegen::Mode::Write;
    let mut spec = root.join(codegen::SPEC_PATH);
    let mut out = root.join(codegen::GENERATED_PATH);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => mode = codegen::Mode::Check,
            "--spec" | "--out" => {
                let Some(value) = args.next() else {
                    return usage_error(&format!("{arg} needs a path"));
                };
                let target = if arg == "--spec" { &mut spec } else { &mut out };
                *target = PathBuf::from(value);
            }
            other => return usage_error(&format!("unknown codegen option `{other}`")),
        }
    }
    match codegen::run(&spec, &out, mode) {
        Ok(codegen::Outcome::UpToDate) => {
            eprintln!("{} is up to date", out.display());
            ExitCode::SUCCESS
        }
        Ok(codegen::Outcome::Written) => {
            eprintln!("wrote {}", out.display());
            ExitCode::SUCCESS
        }
        Ok(codegen::Outcome::Stale { diff }) => {
            eprintln!("{diff}");
            eprintln!(
                "error: {} is out of date with {}.\nRun `cargo xtask codegen`, review the diff and \
                 the snapshot changes (`cargo insta review`), and commit both.",
                out.display(),
                spec.display()
            );
            ExitCode::from(1)
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}
