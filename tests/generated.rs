//! Generated projects are real: each answer fixture is generated, then built,
//! tested, linted and format-checked with the stable toolchain, exactly as a
//! user would. The projects share one target directory so that only the first
//! pays for compiling the dependencies.

mod common;

use tempfile::TempDir;

fn generate_build_test_lint(fixture: &str) {
    let dir = TempDir::new().unwrap();
    let project = dir.path().join(fixture);
    common::cmd()
        .arg(&project)
        .args(["--vcs", "none", "--quiet", "--answers"])
        .arg(common::fixture(fixture))
        .assert()
        .success();
    common::build_test_lint(&project);
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
