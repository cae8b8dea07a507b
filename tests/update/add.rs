//! `add tool` and `add scope`, and the help that describes them.

use super::*;

#[test]
fn add_tool_refuses_an_undeclared_scope_and_names_add_scope() {
    let dir = TempDir::new().unwrap();
    let project = generate(dir.path(), "readme", true);
    let before = tree(&project);
    cmd()
        .args(["add", "tool", "purge", "--scopes", "todo:admin", "--path"])
        .arg(&project)
        .assert()
        .code(1)
        .stderr(contains("tools[2].scopes[0]"))
        .stderr(contains("mcp-oauth-new add scope todo:admin"));
    assert_eq!(tree(&project), before);
}

#[test]
fn add_without_a_terminal_names_the_missing_flag() {
    let dir = TempDir::new().unwrap();
    let project = generate(dir.path(), "readme", true);
    cmd()
        .args(["add", "tool", "purge", "--path"])
        .arg(&project)
        .assert()
        .code(1)
        .stderr(contains("missing --scopes"))
        .stderr(contains("declared: todo:read, todo:write"));
}

#[test]
fn add_checks_the_new_entry_with_the_answers_rules() {
    let dir = TempDir::new().unwrap();
    let project = generate(dir.path(), "readme", true);
    let before = tree(&project);
    cmd()
        .args(["add", "tool", "bad name", "--scopes", "", "--path"])
        .arg(&project)
        .assert()
        .code(1)
        .stderr(contains("tools[2].name"));
    cmd()
        .args(["add", "scope", "todo:read", "--path"])
        .arg(&project)
        .assert()
        .code(1)
        .stderr(contains("already declares the scope `todo:read`"));
    cmd()
        .args([
            "add", "tool", "t", "--scopes", "", "--arg", "x:date", "--path",
        ])
        .arg(&project)
        .assert()
        .code(2)
        .stderr(contains("allowed: string, integer, number, boolean"));
    assert_eq!(tree(&project), before);
}

#[test]
fn add_dry_run_shows_the_new_tool_and_writes_nothing() {
    let dir = TempDir::new().unwrap();
    let project = generate(dir.path(), "readme", true);
    let before = tree(&project);
    cmd()
        .args([
            "add",
            "tool",
            "count_todos",
            "--scopes",
            "",
            "--dry-run",
            "--path",
        ])
        .arg(&project)
        .assert()
        .success()
        .stdout(contains("  update         src/tools.rs\n"))
        .stdout(contains("+    async fn count_todos("));
    assert_eq!(tree(&project), before);
}

#[test]
fn help_and_the_closing_message_describe_update_and_add() {
    cmd()
        .arg("--help")
        .assert()
        .success()
        .stdout(contains("update"))
        .stdout(contains("add tool create_note"))
        .stdout(contains("4  update wrote conflict markers"));
    cmd()
        .args(["update", "--help"])
        .assert()
        .success()
        .stdout(contains("--allow-dirty"))
        .stdout(contains("stays-deleted"));
    cmd()
        .args(["add", "tool", "--help"])
        .assert()
        .success()
        .stdout(contains("NAME:TYPE[:required]"));
    let dir = TempDir::new().unwrap();
    cmd()
        .arg(dir.path().join("p"))
        .args(["--vcs", "none", "--answers"])
        .arg(fixture("readme"))
        .assert()
        .success()
        .stderr(contains("mcp-oauth-new add tool NAME --scopes A,B"))
        .stderr(contains("mcp-oauth-new update"));
}
