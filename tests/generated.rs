//! Generated projects are real: each answer fixture is generated, then built,
//! tested, linted and format-checked with the stable toolchain, exactly as a
//! user would. The projects share one target directory so that only the first
//! pays for compiling the dependencies.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use tempfile::TempDir;

/// One cargo at a time: they share a target directory, and the machine's
/// cores are better spent on one build than split across three.
static CARGO: Mutex<()> = Mutex::new(());

fn shared_target() -> PathBuf {
    std::env::var_os("MCP_OAUTH_NEW_GENERATED_TARGET")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/generated"))
}

fn cargo(project: &Path, args: &[&str]) {
    let output = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(project)
        .env("CARGO_TARGET_DIR", shared_target())
        .env("CARGO_INCREMENTAL", "0")
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("RUSTFLAGS")
        .output()
        .expect("running cargo");
    assert!(
        output.status.success(),
        "`cargo {}` failed in {}:\n{}\n{}",
        args.join(" "),
        project.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn generate_build_test_lint(fixture: &str) {
    let dir = TempDir::new().unwrap();
    let project = dir.path().join(fixture);
    common::cmd()
        .arg(&project)
        .args(["--vcs", "none", "--quiet", "--answers"])
        .arg(common::fixture(fixture))
        .assert()
        .success();
    let _one_at_a_time = CARGO
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    cargo(&project, &["fmt", "--check"]);
    cargo(&project, &["build", "--locked"]);
    cargo(&project, &["test", "--locked"]);
    cargo(
        &project,
        &[
            "clippy",
            "--locked",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    );
}

#[test]
fn minimal_project_builds_tests_and_lints_clean() {
    generate_build_test_lint("minimal");
}

#[test]
fn readme_project_builds_tests_and_lints_clean() {
    generate_build_test_lint("readme");
}

#[test]
fn hostile_project_builds_tests_and_lints_clean() {
    generate_build_test_lint("hostile");
}
