//! What `update` refuses, and where it works without git.

use super::*;

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
