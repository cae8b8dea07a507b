//! `update` and `add` on projects their owners have changed: three-way merges
//! that keep the owner's lines, against the exact base the project records.

#[path = "../common/mod.rs"]
mod common;

mod add;
mod older;
mod refusals;
mod story;
mod upgrade;

use std::fs;
use std::path::{Path, PathBuf};

use common::{cmd, fixture, git, tree};
use mcp_oauth_new::answers::Answers;
use mcp_oauth_new::write::{self, Existing};
use mcp_oauth_new::{Templates, base};
use predicates::prelude::*;
use predicates::str::contains;
use tempfile::TempDir;

/// `list_todos`'s placeholder, and the owner's logic that replaces it.
const PLACEHOLDER: &str = "Parameters<ListTodosArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        // TODO: replace with your logic.
        Ok(caller.not_implemented(&args))
";
const LIST_TODOS_BODY: &str = "Parameters<ListTodosArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let limit = args.limit.unwrap_or(10).clamp(0, 100);
        let todos: Vec<String> = (0..limit)
            .map(|i| format!(\"todo {i} of {}\", caller.sub))
            .collect();
        Ok(CallToolResult::success(vec![
            rmcp::model::ContentBlock::text(todos.join(\"\\n\")),
        ]))
";
const README_NOTES: &str = "\n## Our notes\n\nThis paragraph is the owner's: on-call is @ops.\n";

/// Generates `fixture` into `dir/name`; commits it when `git` is set.
fn generate(dir: &Path, fixture_name: &str, vcs: bool) -> PathBuf {
    let project = dir.join("todo-mcp");
    cmd()
        .arg(&project)
        .args(["--quiet", "--vcs", if vcs { "git" } else { "none" }])
        .arg("--answers")
        .arg(fixture(fixture_name))
        .assert()
        .success();
    if vcs {
        commit(&project, "generated");
    }
    project
}

fn commit(project: &Path, message: &str) {
    git(project, &["add", "-A"]);
    git(project, &["commit", "-q", "-m", message]);
}

fn read(project: &Path, path: &str) -> String {
    fs::read_to_string(project.join(path)).unwrap()
}

/// Replaces `from` (which must be there, once) with `to` in a file.
fn edit(project: &Path, path: &str, from: &str, to: &str) {
    let text = read(project, path);
    assert_eq!(text.matches(from).count(), 1, "{path}: {from:?}");
    fs::write(project.join(path), text.replacen(from, to, 1)).unwrap();
}

/// The owner's changes: real logic in `list_todos`, notes in the README and
/// a file of their own.
fn write_owner_code(project: &Path) {
    edit(project, "src/tools.rs", PLACEHOLDER, LIST_TODOS_BODY);
    let mut readme = read(project, "README.md");
    readme.push_str(README_NOTES);
    fs::write(project.join("README.md"), readme).unwrap();
    fs::write(project.join("src/notes.txt"), "the owner's own file\n").unwrap();
}

fn assert_owner_code_intact(project: &Path) {
    assert!(read(project, "src/tools.rs").contains(LIST_TODOS_BODY));
    assert!(read(project, "README.md").ends_with(README_NOTES));
    assert_eq!(read(project, "src/notes.txt"), "the owner's own file\n");
}

fn update(project: &Path) -> assert_cmd::Command {
    let mut command = cmd();
    command.arg("update").arg(project);
    command
}

/// The project as a fresh generation with its recorded answers writes it.
fn fresh_generation(project: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let dir = TempDir::new().unwrap();
    let fresh = dir.path().join("todo-mcp");
    cmd()
        .arg(&fresh)
        .args(["--quiet", "--vcs", "none", "--answers"])
        .arg(project.join("mcp-oauth.yaml"))
        .assert()
        .success();
    tree(&fresh)
}
