//! Writing the project safely: what is refused, `--force`, `--dry-run`, a
//! failed write, deterministic output and regeneration.

use super::*;

#[test]
fn a_non_empty_directory_is_refused_and_left_untouched() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("srv");
    fs::create_dir(&target).unwrap();
    fs::write(target.join("notes.txt"), "mine").unwrap();
    fs::write(target.join("Cargo.toml"), "[package]\nname = \"mine\"\n").unwrap();
    let before = tree(&target);
    cmd()
        .arg(&target)
        .arg("--answers")
        .arg(fixture("readme"))
        .assert()
        .code(1)
        .stderr(contains("already exists and is not empty"))
        .stderr(contains("--force"));
    assert_eq!(tree(&target), before);
    let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no staging directory is left behind");
}

#[test]
fn a_file_in_place_of_the_directory_is_refused() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("srv");
    fs::write(&target, "a file").unwrap();
    cmd()
        .arg(&target)
        .arg("--answers")
        .arg(fixture("readme"))
        .assert()
        .code(1)
        .stderr(contains("is not a directory"));
    assert_eq!(fs::read_to_string(&target).unwrap(), "a file");
}

#[test]
fn an_empty_directory_is_used() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("srv");
    fs::create_dir(&target).unwrap();
    cmd()
        .arg(&target)
        .args(["--vcs", "none", "--answers"])
        .arg(fixture("readme"))
        .assert()
        .success();
    assert!(target.join("src/main.rs").is_file());
}

#[test]
fn force_overwrites_generated_files_and_keeps_the_rest() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("srv");
    fs::create_dir_all(target.join("src")).unwrap();
    fs::write(target.join("notes.txt"), "mine").unwrap();
    fs::write(target.join("src/extra.rs"), "// mine").unwrap();
    fs::write(target.join("Cargo.toml"), "old").unwrap();
    cmd()
        .arg(&target)
        .args(["--force", "--vcs", "none", "--answers"])
        .arg(fixture("readme"))
        .assert()
        .success()
        .stderr(contains("Overwrote Cargo.toml"));
    assert_eq!(
        fs::read_to_string(target.join("notes.txt")).unwrap(),
        "mine"
    );
    assert_eq!(
        fs::read_to_string(target.join("src/extra.rs")).unwrap(),
        "// mine"
    );
    assert!(
        fs::read_to_string(target.join("Cargo.toml"))
            .unwrap()
            .contains("name = \"todo-mcp\"")
    );
}

#[test]
fn a_failed_write_leaves_the_directory_exactly_as_it_was_and_exits_3() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("srv");
    // A directory where the template writes a file: the move fails after some
    // generated files are already in place, which must all be rolled back.
    fs::create_dir_all(target.join("src/main.rs")).unwrap();
    fs::write(target.join(".gitignore"), "mine\n").unwrap();
    fs::write(target.join("notes.txt"), "mine").unwrap();
    let before = tree(&target);
    cmd()
        .arg(&target)
        .args(["--force", "--vcs", "none", "--answers"])
        .arg(fixture("readme"))
        .assert()
        .code(3)
        .stderr(contains("is a directory where the template writes a file"));
    assert_eq!(tree(&target), before);
    assert!(!target.join("Cargo.toml").exists());
    assert!(
        !target.join("tests").exists(),
        "created directories are removed"
    );
    let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "the staging directory is removed");
}

#[test]
fn dry_run_lists_the_files_and_writes_nothing() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("srv");
    cmd()
        .arg(&target)
        .args(["--dry-run", "--answers"])
        .arg(fixture("readme"))
        .assert()
        .success()
        .stdout(contains("Would write"))
        .stdout(contains("Cargo.toml"))
        .stdout(contains("src/main.rs"))
        .stdout(contains("mcp-oauth.yaml"));
    assert!(!target.exists());
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn output_is_deterministic() {
    let dir = TempDir::new().unwrap();
    for name in ["a", "b"] {
        cmd()
            .arg(dir.path().join(name))
            .args(["--vcs", "none", "--answers"])
            .arg(fixture("hostile"))
            .assert()
            .success();
    }
    let a = tree(&dir.path().join("a"));
    assert!(a.len() > 5);
    assert_eq!(a, tree(&dir.path().join("b")));
}

#[test]
fn a_project_regenerates_from_its_recorded_answers() {
    let dir = TempDir::new().unwrap();
    let first = dir.path().join("first");
    cmd()
        .arg(&first)
        .args(["--vcs", "none", "--answers"])
        .arg(fixture("hostile"))
        .assert()
        .success();
    let generated = tree(&first);
    let recorded = first.join("mcp-oauth.yaml");
    assert!(
        fs::read_to_string(&recorded)
            .unwrap()
            .contains(concat!("mcp-oauth-new ", env!("CARGO_PKG_VERSION"))),
        "the generator version is recorded"
    );

    // In place, as the contract documents it.
    cmd()
        .arg(&first)
        .args(["--force", "--vcs", "none", "--answers"])
        .arg(&recorded)
        .assert()
        .success();
    assert_eq!(tree(&first), generated);

    // Elsewhere: the name comes from the recorded answers, not the new PATH.
    let second = dir.path().join("second");
    cmd()
        .arg(&second)
        .args(["--vcs", "none", "--answers"])
        .arg(&recorded)
        .assert()
        .success();
    assert_eq!(tree(&second), generated);
}

#[test]
fn the_current_directory_can_be_the_target_and_names_the_package() {
    let dir = TempDir::new().unwrap();
    let here = dir.path().join("here-srv");
    fs::create_dir(&here).unwrap();
    cmd()
        .current_dir(&here)
        .args([".", "--vcs", "none", "--answers", "-"])
        .write_stdin(answers_with(""))
        .assert()
        .success();
    let recorded = fs::read_to_string(here.join("mcp-oauth.yaml")).unwrap();
    assert!(recorded.contains("name: here-srv"), "{recorded}");
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no staging directory is left beside it"
    );
}

#[test]
fn dry_run_with_force_marks_the_files_it_would_overwrite() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("srv");
    fs::create_dir(&target).unwrap();
    fs::write(target.join("Cargo.toml"), "old").unwrap();
    let before = tree(&target);
    cmd()
        .arg(&target)
        .args(["--dry-run", "--force", "--answers"])
        .arg(fixture("readme"))
        .assert()
        .success()
        .stdout(contains("Cargo.toml  (overwrite)"))
        .stdout(contains("src/main.rs\n"));
    assert_eq!(tree(&target), before);
}
