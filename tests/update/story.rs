//! The owner's story against the current templates: their logic, notes and
//! files kept; a conflicting edit marked; a removed tool's method.

use super::*;

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
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        readme.contains(&format!(
            "<<<<<<< project\nTodo list tools, by the owner\n||||||| generated {version}\n\
             Todo list tools\n=======\nTodos for teams\n>>>>>>> generated {version}\n"
        )),
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
