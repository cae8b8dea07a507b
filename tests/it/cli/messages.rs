//! git, and what the command prints: quiet, next steps, plain text.

use super::*;

#[test]
fn git_is_initialised_unless_disabled_or_inside_a_work_tree() {
    let dir = TempDir::new().unwrap();
    let with_git = dir.path().join("with-git");
    cmd()
        .arg(&with_git)
        .arg("--answers")
        .arg(fixture("readme"))
        .assert()
        .success();
    assert!(with_git.join(".git").is_dir());

    let without = dir.path().join("without");
    cmd()
        .arg(&without)
        .args(["--vcs", "none", "--answers"])
        .arg(fixture("readme"))
        .assert()
        .success();
    assert!(!without.join(".git").exists());

    let nested = with_git.join("nested");
    cmd()
        .arg(&nested)
        .arg("--answers")
        .arg(fixture("readme"))
        .assert()
        .success();
    assert!(nested.join("Cargo.toml").is_file());
    assert!(
        !nested.join(".git").exists(),
        "no repository inside a work tree"
    );
}

#[test]
fn a_missing_git_is_a_warning() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("srv");
    cmd()
        .arg(&target)
        .env("PATH", dir.path())
        .arg("--answers")
        .arg(fixture("readme"))
        .assert()
        .success()
        .stderr(contains("warning: git init skipped"));
    assert!(target.join("Cargo.toml").is_file());
}

#[test]
fn quiet_prints_nothing_on_success_and_errors_still() {
    let dir = TempDir::new().unwrap();
    cmd()
        .arg(dir.path().join("srv"))
        .args(["-q", "--vcs", "none", "--answers"])
        .arg(fixture("readme"))
        .assert()
        .success()
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::is_empty());
    cmd()
        .arg(dir.path().join("srv"))
        .args(["-q", "--answers"])
        .arg(fixture("readme"))
        .assert()
        .code(1)
        .stderr(contains("error:"));
}

#[test]
fn success_prints_the_next_steps() {
    let dir = TempDir::new().unwrap();
    cmd()
        .current_dir(dir.path())
        .args(["todo", "--vcs", "none", "--answers"])
        .arg(fixture("readme"))
        .assert()
        .success()
        .stderr(contains("cd todo && cargo run"))
        .stderr(contains(
            "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
        ))
        .stderr(contains("Server URL exactly https://mcp.example.com/mcp"))
        .stderr(contains("Dynamic Client Registration (DCR)"))
        .stderr(contains("Client ID Metadata"))
        .stderr(contains("Define the scopes: todo:read, todo:write"));
}

#[test]
fn output_is_plain_without_a_terminal() {
    let dir = TempDir::new().unwrap();
    let assert = cmd()
        .env_remove("NO_COLOR")
        .arg(dir.path().join("srv"))
        .arg("--defaults")
        .assert()
        .code(1);
    let stderr = &assert.get_output().stderr;
    assert!(!stderr.contains(&0x1b), "no ANSI escapes when piped");
}
