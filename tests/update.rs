//! `update` and `add` on projects their owners have changed: three-way merges
//! that keep the owner's lines, against the exact base the project records.

mod common;

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

#[test]
fn the_owners_story_keeps_every_line_and_the_project_builds() {
    let dir = TempDir::new().unwrap();
    let project = generate(dir.path(), "readme", true);
    write_owner_code(&project);
    commit(&project, "real logic");

    cmd()
        .args([
            "add",
            "scope",
            "todo:admin",
            "--description",
            "Administer todos",
        ])
        .args(["--includes", "todo:write", "--path"])
        .arg(&project)
        .assert()
        .success()
        .stderr(contains("update src/scopes.rs"));
    commit(&project, "add scope");
    cmd()
        .args(["add", "tool", "purge_todos", "--scopes", "todo:admin"])
        .args(["--arg", "older_than_days:integer:required"])
        .args(["--description", "Delete old todos", "--path"])
        .arg(&project)
        .assert()
        .success()
        .stderr(contains("merge src/tools.rs"));
    assert_owner_code_intact(&project);
    assert!(read(&project, "src/tools.rs").contains("async fn purge_todos("));
    assert!(read(&project, "src/scopes.rs").contains("tool: \"purge_todos\""));
    assert!(read(&project, "tests/tools.rs").contains("tool: \"purge_todos\""));
    assert!(read(&project, "tests/client.rs").contains("tool: \"purge_todos\""));
    commit(&project, "add tool");

    // Separately: the owner edits the answers by hand, then updates.
    let mut answers = read(&project, "mcp-oauth.yaml");
    answers.push_str("- name: archive_todo\n  scopes: [todo:write]\n");
    fs::write(project.join("mcp-oauth.yaml"), answers).unwrap();
    update(&project)
        .assert()
        .success()
        .stderr(contains("merge src/tools.rs"));
    assert_owner_code_intact(&project);
    assert!(read(&project, "src/tools.rs").contains("async fn archive_todo("));
    assert!(read(&project, "src/scopes.rs").contains("tool: \"archive_todo\""));

    // The record is what a fresh generation with these answers writes, and
    // a second update changes nothing.
    let fresh = fresh_generation(&project);
    let now = tree(&project);
    for path in [
        "mcp-oauth.yaml",
        base::PATH,
        "src/scopes.rs",
        "tests/tools.rs",
    ] {
        assert_eq!(now[Path::new(path)], fresh[Path::new(path)], "{path}");
    }
    update(&project)
        .arg("--allow-dirty")
        .assert()
        .success()
        .stderr(contains("is up to date"));
    assert_eq!(tree(&project), now);

    common::build_test_lint(&project);
}

#[test]
fn a_conflicting_edit_is_marked_in_that_file_only_and_exits_4() {
    let dir = TempDir::new().unwrap();
    let project = generate(dir.path(), "readme", true);
    edit(
        &project,
        "README.md",
        "Todo list tools\n",
        "Todo list tools, by the owner\n",
    );
    commit(&project, "owner's description");
    edit(
        &project,
        "mcp-oauth.yaml",
        "description: Todo list tools\n",
        "description: Todos for teams\n",
    );
    update(&project)
        .assert()
        .code(4)
        .stderr(contains("conflict README.md"))
        .stderr(contains("conflict markers written into README.md"));
    let readme = read(&project, "README.md");
    assert!(
        readme.contains(
            "<<<<<<< project\nTodo list tools, by the owner\n||||||| generated 0.2.0\n\
             Todo list tools\n=======\nTodos for teams\n>>>>>>> generated 0.2.0\n"
        ),
        "{readme}"
    );
    // Everything else is updated, without markers.
    assert!(read(&project, "Cargo.toml").contains("description = \"Todos for teams\""));
    for (path, contents) in tree(&project) {
        if path != Path::new("README.md") {
            assert!(
                !contents.windows(7).any(|w| w == b"<<<<<<<"),
                "{}",
                path.display()
            );
        }
    }
}

#[test]
fn removing_a_tool_removes_its_untouched_method_and_keeps_a_changed_one() {
    let dir = TempDir::new().unwrap();
    let project = generate(dir.path(), "readme", true);
    write_owner_code(&project);
    commit(&project, "real logic in list_todos");

    // create_todo was never touched: it goes, everywhere.
    let answers = read(&project, "mcp-oauth.yaml");
    let cut = answers.find("- name: create_todo").unwrap();
    fs::write(project.join("mcp-oauth.yaml"), &answers[..cut]).unwrap();
    update(&project).assert().success();
    for path in ["src/tools.rs", "src/scopes.rs", "tests/tools.rs"] {
        assert!(!read(&project, path).contains("create_todo"), "{path}");
    }
    assert_owner_code_intact(&project);
    commit(&project, "remove create_todo");

    // list_todos holds the owner's logic: removing it keeps that logic, in
    // conflict markers, and says so.
    let answers = read(&project, "mcp-oauth.yaml");
    let cut = answers.find("tools:").unwrap();
    fs::write(
        project.join("mcp-oauth.yaml"),
        format!("{}tools: []\n", &answers[..cut]),
    )
    .unwrap();
    update(&project)
        .assert()
        .code(4)
        .stderr(contains("conflict src/tools.rs"));
    let tools = read(&project, "src/tools.rs");
    assert!(tools.contains(LIST_TODOS_BODY), "{tools}");
    assert!(tools.contains("<<<<<<< project"), "{tools}");
    assert!(!read(&project, "src/scopes.rs").contains("list_todos"));
}

/// A copy of this generator's templates, changed by `change`: a stand-in for
/// the templates of an older version.
fn older_templates(change: impl FnOnce(&Path)) -> (TempDir, Templates) {
    let dir = TempDir::new().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"),
        dir.path(),
    );
    change(dir.path());
    let templates = Templates::from_dir(dir.path(), "0.1.9").unwrap();
    (dir, templates)
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            fs::create_dir_all(&target).unwrap();
            copy_dir(&path, &target);
        } else {
            fs::copy(&path, &target).unwrap();
        }
    }
}

/// Generates `fixture` with `templates`, through the library, as an older
/// generator would have.
fn generate_with(templates: &Templates, dir: &Path, fixture_name: &str) -> PathBuf {
    let text = fs::read_to_string(fixture(fixture_name)).unwrap();
    let project = Answers::from_yaml(&text, fixture_name)
        .unwrap()
        .validate(None)
        .unwrap();
    let files =
        base::with_record(templates.version(), templates.render(&project).unwrap()).unwrap();
    let target = dir.join("todo-mcp");
    write::write(&target, &files, Existing::Absent).unwrap();
    git(&target, &["init", "-q"]);
    commit(&target, "generated by 0.1.9");
    target
}

/// The older set differs from the current one in a line of `src/main.rs`,
/// a README paragraph it lacks, a file it wrote that is no longer generated
/// (`OLD.md`, and `LEGACY.md` which the owner changes), and
/// `.dockerignore`, which it did not write.
fn older_set() -> (TempDir, Templates) {
    older_templates(|dir| {
        let main = dir.join("src/main.rs");
        let text = fs::read_to_string(&main).unwrap();
        let first = text.lines().next().unwrap().to_string();
        fs::write(&main, text.replacen(&first, "//! An older first line.", 1)).unwrap();
        let readme = dir.join("README.md.jinja");
        let text = fs::read_to_string(&readme).unwrap();
        fs::write(
            &readme,
            text.replacen("## Changing this project\n", "## Old heading\n", 1),
        )
        .unwrap();
        fs::write(dir.join("OLD.md"), "old\n").unwrap();
        fs::write(dir.join("LEGACY.md"), "legacy\n").unwrap();
        fs::remove_file(dir.join(".dockerignore")).unwrap();
    })
}

#[test]
fn a_project_from_older_templates_updates_with_the_owners_edits_intact() {
    let (_templates_dir, older) = older_set();
    let dir = TempDir::new().unwrap();
    let project = generate_with(&older, dir.path(), "readme");
    assert!(read(&project, "src/main.rs").starts_with("//! An older first line."));
    write_owner_code(&project);
    fs::write(project.join("LEGACY.md"), "legacy, with the owner's note\n").unwrap();
    fs::remove_file(project.join("Dockerfile")).unwrap();
    commit(&project, "owner's changes");

    update(&project)
        .assert()
        .success()
        .stderr(contains("update src/main.rs"))
        .stderr(contains("merge README.md"))
        .stderr(contains("merge src/tools.rs").not())
        .stderr(contains("delete OLD.md"))
        .stderr(contains("kept LEGACY.md"))
        .stderr(contains("add .dockerignore"))
        .stderr(contains("stays-deleted Dockerfile"))
        .stderr(contains("from generator 0.1.9 to 0.2.0"));

    assert_owner_code_intact(&project);
    let fresh = fresh_generation(&project);
    for path in ["src/main.rs", ".dockerignore", "mcp-oauth.yaml", base::PATH] {
        assert_eq!(
            fs::read(project.join(path)).unwrap(),
            fresh[Path::new(path)],
            "{path}"
        );
    }
    assert!(read(&project, "README.md").contains("## Changing this project\n"));
    assert!(!project.join("OLD.md").exists());
    assert_eq!(
        read(&project, "LEGACY.md"),
        "legacy, with the owner's note\n"
    );
    assert!(!project.join("Dockerfile").exists());

    // Once updated, the project is current: a second update does nothing,
    // and the kept file is the owner's now, never touched again.
    commit(&project, "updated");
    let before = tree(&project);
    update(&project)
        .assert()
        .success()
        .stderr(contains("is up to date"));
    assert_eq!(tree(&project), before);
    assert!(git(&project, &["status", "--porcelain"]).is_empty());
}

#[test]
fn dry_run_prints_each_action_and_a_diff_and_writes_nothing() {
    let (_templates_dir, older) = older_set();
    let dir = TempDir::new().unwrap();
    let project = generate_with(&older, dir.path(), "readme");
    write_owner_code(&project);
    commit(&project, "owner's changes");
    let before = tree(&project);
    update(&project)
        .arg("--dry-run")
        .assert()
        .success()
        .stdout(contains(
            "Would update `todo-mcp` (generated by 0.1.9 -> 0.2.0):",
        ))
        .stdout(contains("  update         src/main.rs\n"))
        .stdout(contains("  merge          README.md\n"))
        .stdout(contains("  keep           src/tools.rs\n"))
        .stdout(contains("  unchanged      src/auth.rs\n"))
        .stdout(contains("  delete         OLD.md\n"))
        .stdout(contains("--- a/src/main.rs\n+++ b/src/main.rs\n"))
        .stdout(contains("-//! An older first line."))
        .stdout(contains("--- a/OLD.md\n+++ /dev/null\n"))
        .stdout(contains("nothing was written"));
    assert_eq!(tree(&project), before);
}

#[test]
fn a_failed_write_leaves_the_project_byte_identical_and_exits_3() {
    // The older set did not write tests/common/mod.rs; the owner has a file
    // at tests/common, so the new one cannot be written.
    let (_templates_dir, older) =
        older_templates(|dir| fs::remove_dir_all(dir.join("tests/common")).unwrap());
    let dir = TempDir::new().unwrap();
    let project = generate_with(&older, dir.path(), "readme");
    fs::write(project.join("tests/common"), "the owner's file\n").unwrap();
    commit(&project, "owner's file");
    let before = tree(&project);
    update(&project).assert().code(3);
    assert_eq!(tree(&project), before);
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|name| name != "todo-mcp")
        .collect();
    assert!(leftovers.is_empty(), "staging left behind: {leftovers:?}");
}

#[test]
fn bad_answers_exit_1_with_field_paths_and_write_nothing() {
    let dir = TempDir::new().unwrap();
    let project = generate(dir.path(), "readme", true);
    edit(
        &project,
        "mcp-oauth.yaml",
        "scopes:\n  - todo:write",
        "scopes:\n  - todo:nope",
    );
    edit(&project, "mcp-oauth.yaml", "port: 3000", "port: 0");
    let before = tree(&project);
    update(&project)
        .assert()
        .code(1)
        .stderr(contains("the answers have 2 problems"))
        .stderr(contains("port:"))
        .stderr(contains("tools[1].scopes[0]: `todo:nope` is not declared"));
    assert_eq!(tree(&project), before);
}

#[test]
fn uncommitted_changes_to_generated_files_are_refused_unless_allowed() {
    let dir = TempDir::new().unwrap();
    let project = generate(dir.path(), "readme", true);
    edit(&project, "src/tools.rs", PLACEHOLDER, LIST_TODOS_BODY);
    // Files the generator never wrote do not count.
    fs::write(project.join("scratch.txt"), "mine\n").unwrap();
    edit(&project, "mcp-oauth.yaml", "port: 3000", "port: 3001");
    let before = tree(&project);
    update(&project)
        .assert()
        .code(1)
        .stderr(contains(
            "uncommitted changes to generated files: src/tools.rs.",
        ))
        .stderr(contains("--allow-dirty"));
    assert_eq!(tree(&project), before);

    update(&project).arg("--allow-dirty").assert().success();
    assert!(read(&project, "src/config.rs").contains("3001"));
    assert!(read(&project, "src/tools.rs").contains(LIST_TODOS_BODY));
}

#[test]
fn update_works_without_git_and_in_a_fresh_clone() {
    let dir = TempDir::new().unwrap();
    let plain = generate(dir.path(), "readme", false);
    assert!(!plain.join(".git").exists());
    edit(&plain, "src/tools.rs", PLACEHOLDER, LIST_TODOS_BODY);
    edit(&plain, "mcp-oauth.yaml", "port: 3000", "port: 3001");
    update(&plain).assert().success();
    assert!(read(&plain, "src/config.rs").contains("3001"));
    assert!(read(&plain, "src/tools.rs").contains(LIST_TODOS_BODY));

    let origin = TempDir::new().unwrap();
    let project = generate(origin.path(), "readme", true);
    edit(&project, "src/tools.rs", PLACEHOLDER, LIST_TODOS_BODY);
    commit(&project, "real logic");
    let clone_dir = TempDir::new().unwrap();
    git(
        clone_dir.path(),
        &["clone", "-q", project.to_str().unwrap(), "clone"],
    );
    let clone = clone_dir.path().join("clone");
    edit(&clone, "mcp-oauth.yaml", "port: 3000", "port: 3001");
    update(&clone).assert().success();
    assert!(read(&clone, "src/config.rs").contains("3001"));
    assert!(read(&clone, "src/tools.rs").contains(LIST_TODOS_BODY));
}

#[test]
fn a_project_without_a_base_record_is_refused_with_advice() {
    let dir = TempDir::new().unwrap();
    let project = generate(dir.path(), "readme", false);
    fs::remove_dir_all(project.join(".mcp-oauth")).unwrap();
    let before = tree(&project);
    update(&project)
        .assert()
        .code(1)
        .stderr(contains("has no base record (.mcp-oauth/base.tar.gz)"))
        .stderr(contains("--answers"));
    assert_eq!(tree(&project), before);
}

#[test]
fn a_directory_that_is_no_project_is_refused() {
    let dir = TempDir::new().unwrap();
    update(dir.path())
        .assert()
        .code(1)
        .stderr(contains("holds no mcp-oauth.yaml"));
}

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

/// Every template change since 0.1.0 reaches a project generated then. The
/// fixture is a base record of the exact files 0.1.0 wrote for the README
/// example; the owner writes logic and notes into them, and `update` brings
/// the project to the current templates with the owner's lines intact. The
/// result builds, passes its own tests and lints clean.
#[test]
fn a_project_generated_by_0_1_0_updates_to_the_current_templates_and_builds() {
    let record = fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/readme-0.1.0.base.tar.gz"),
    )
    .unwrap();
    let old = base::unpack(&record).unwrap();
    assert_eq!(old.version, "0.1.0");
    let mut files = old.files.clone();
    files.insert(PathBuf::from(base::PATH), record);
    let dir = TempDir::new().unwrap();
    let project = dir.path().join("todo-mcp");
    write::write(&project, &files, Existing::Absent).unwrap();
    git(&project, &["init", "-q"]);
    commit(&project, "generated by 0.1.0");

    edit(&project, "src/tools.rs", PLACEHOLDER, LIST_TODOS_BODY);
    let notes = "## Our notes\n\nOn-call is @ops.\n\n";
    edit(
        &project,
        "README.md",
        "## Where things are\n",
        &format!("{notes}## Where things are\n"),
    );
    // A dependency of the owner's, in Cargo.toml right below a line the new
    // templates change (a line merge conflicts there; entries merge by key)
    // and, as cargo resolves it, in Cargo.lock, where the new templates add
    // crates too.
    let tokio = r#"tokio = { version = "1", features = ["macros", "net", "rt-multi-thread", "signal", "sync"] }"#;
    let dependency = "# Ours: fast integer formatting.\nitoa = \"1\"\n";
    edit(
        &project,
        "Cargo.toml",
        &format!("{tokio}\n"),
        &format!("{tokio}\n{dependency}"),
    );
    // A module of the owner's, declared where the new templates declare
    // theirs: merged by name, in rustfmt's order.
    fs::write(
        project.join("src/store.rs"),
        "//! Where the todos are kept.\n\n/// The table.\npub const TABLE: &str = \"todos\";\n",
    )
    .unwrap();
    edit(
        &project,
        "src/lib.rs",
        "pub mod scopes;\n",
        "pub mod scopes;\npub mod store;\n",
    );
    // A variable of the owner's, appended where the new templates append
    // theirs.
    let variable = "# Our database.\nDATABASE_URL=postgres://localhost/todos\n";
    fs::write(
        project.join(".env.example"),
        read(&project, ".env.example") + variable,
    )
    .unwrap();
    let resolved = common::cargo(&project, &["update", "--workspace"]);
    assert!(resolved.status.success(), "{resolved:?}");
    assert!(read(&project, "Cargo.lock").contains(" \"itoa\",\n"));
    commit(&project, "owner's changes");

    update(&project)
        .assert()
        .success()
        .stderr(contains("from generator 0.1.0 to 0.2.0"))
        .stderr(contains("merge README.md"))
        .stderr(contains("merge Cargo.lock"))
        .stderr(contains("merge Cargo.toml"))
        .stderr(contains("merge src/lib.rs"))
        .stderr(contains("merge .env.example"))
        .stderr(contains("add tests/scopes.rs"));
    assert!(read(&project, "src/tools.rs").contains(LIST_TODOS_BODY));
    assert!(read(&project, "README.md").contains(notes));
    assert!(read(&project, "src/lib.rs").contains(
        "pub mod server;\npub mod store;\n#[cfg(feature = \"otel\")]\npub mod telemetry;\n"
    ));
    let manifest = read(&project, "Cargo.toml");
    assert!(
        manifest.contains(&format!("\"signal\", \"sync\", \"time\"] }}\n{dependency}")),
        "{manifest}"
    );
    // Cargo.lock holds the owner's crate and the templates' new ones, as
    // cargo writes it: the `--locked` builds below refuse any other.
    let lock = read(&project, "Cargo.lock");
    assert!(lock.contains(" \"itoa\",\n") && lock.contains(" \"proptest\",\n"));
    let fresh = fresh_generation(&project);
    let env = String::from_utf8(fresh[Path::new(".env.example")].clone()).unwrap();
    assert_eq!(read(&project, ".env.example"), env + variable);
    for path in ["src/scopes.rs", "src/gate.rs", "tests/tools.rs", base::PATH] {
        assert_eq!(
            fs::read(project.join(path)).unwrap(),
            fresh[Path::new(path)],
            "{path}"
        );
    }
    common::build_test_lint(&project);
}
