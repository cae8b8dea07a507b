//! The command line, run as users and CI run it.

use std::fs;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common;
use crate::common::{cmd, fixture, tree};
use predicates::prelude::*;
use predicates::str::contains;
use tempfile::TempDir;

const SCALEKIT: &str =
    "scalekit:\n  environment_url: https://acme.scalekit.com\n  resource_id: res_1\n";

/// A valid answers file plus `extra`; `server_url` is added unless `extra`
/// sets it.
fn answers_with(extra: &str) -> String {
    let server = if extra.contains("server_url:") {
        ""
    } else {
        "server_url: https://mcp.example.com\n"
    };
    format!("{server}{SCALEKIT}{extra}")
}

/// Runs the generator on answers from standard input, in dry-run mode.
fn dry_run(answers: &str) -> assert_cmd::assert::Assert {
    let dir = TempDir::new().unwrap();
    cmd()
        .arg(dir.path().join("srv"))
        .args(["--answers", "-", "--dry-run"])
        .write_stdin(answers)
        .assert()
}

#[test]
fn help_shows_both_ways_of_running_and_the_exit_codes() {
    cmd()
        .arg("--help")
        .assert()
        .success()
        .stdout(contains("mcp-oauth-new my-server\n"))
        .stdout(contains("mcp-oauth-new my-server --answers answers.yaml"))
        .stdout(contains("3  I/O failure while writing"))
        .stdout(contains("--example-answers"))
        .stdout(contains("--vcs <VCS>"));
}

#[test]
fn version_is_printed() {
    cmd()
        .arg("--version")
        .assert()
        .success()
        .stdout(contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn usage_errors_exit_with_2() {
    cmd().arg("--no-such-flag").assert().code(2);
    cmd()
        .args(["x", "--vcs", "svn"])
        .assert()
        .code(2)
        .stderr(contains("git"));
    cmd()
        .args(["x", "--example-answers"])
        .assert()
        .code(2)
        .stderr(contains("cannot be used with"));
}

#[test]
fn example_answers_generate_without_edits() {
    let example = cmd().arg("--example-answers").assert().success();
    let text = String::from_utf8(example.get_output().stdout.clone()).unwrap();
    assert!(text.contains("# "), "the example is commented");
    assert_eq!(
        text,
        fs::read_to_string(fixture("readme")).unwrap(),
        "the README fixture is the example answers file"
    );
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("todo");
    cmd()
        .arg(&target)
        .args(["--answers", "-", "--vcs", "none"])
        .write_stdin(text)
        .assert()
        .success();
    assert!(target.join("Cargo.toml").is_file());
    assert!(target.join("mcp-oauth.yaml").is_file());
}

#[test]
fn without_a_terminal_missing_answers_are_an_error_that_names_them_and_never_waits() {
    let dir = TempDir::new().unwrap();
    // Standard input stays open and silent: a CLI that waited for it would
    // hang here, so the test bounds the wait.
    let mut child = Command::new(common::BIN)
        .arg(dir.path().join("srv"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("mcp-oauth-new waited for input that cannot come");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    for field in [
        "server_url",
        "scalekit.environment_url",
        "scalekit.resource_id",
    ] {
        assert!(stderr.contains(&format!("{field}: missing")), "{stderr}");
    }
    assert!(stderr.contains("--answers FILE"), "{stderr}");
    assert!(!dir.path().join("srv").exists());
}

#[test]
fn defaults_fill_everything_but_the_required_answers() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("my-server");
    cmd()
        .arg(&target)
        .args(["--defaults", "--vcs", "none", "--answers"])
        .arg(fixture("minimal"))
        .assert()
        .success();
    let recorded = fs::read_to_string(target.join("mcp-oauth.yaml")).unwrap();
    for line in [
        "name: my-server",
        "mcp_path: /mcp",
        "resource: https://mcp.example.com/mcp",
        "- res_1\n- https://mcp.example.com/mcp",
        "port: 3000",
    ] {
        assert!(recorded.contains(line), "missing {line:?} in\n{recorded}");
    }

    cmd()
        .arg(dir.path().join("other"))
        .arg("--defaults")
        .assert()
        .code(1)
        .stderr(contains("server_url: missing"));
}

#[test]
fn answers_are_read_from_standard_input() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("from-stdin");
    cmd()
        .arg(&target)
        .args(["-a", "-", "--vcs", "none"])
        .write_stdin(answers_with("tools: []\n"))
        .assert()
        .success();
    let recorded = fs::read_to_string(target.join("mcp-oauth.yaml")).unwrap();
    assert!(recorded.contains("name: from-stdin"), "{recorded}");
}

#[test]
fn path_defaults_to_the_answered_name() {
    let dir = TempDir::new().unwrap();
    cmd()
        .current_dir(dir.path())
        .args(["-a", "-", "--vcs", "none"])
        .write_stdin(answers_with("name: named-srv\n"))
        .assert()
        .success();
    assert!(dir.path().join("named-srv/Cargo.toml").is_file());
}

#[test]
fn a_missing_answers_file_is_reported() {
    cmd()
        .args(["srv", "--answers", "/nonexistent/answers.yaml"])
        .assert()
        .code(1)
        .stderr(contains(
            "reading the answers file /nonexistent/answers.yaml",
        ));
}

/// Each rule of the answers schema, with the field path and the words the
/// error must carry.
#[test]
fn every_validation_rule_is_enforced_with_its_field_path() {
    let long_tool = "t".repeat(129);
    let cases: Vec<(String, &str)> = vec![
        ("nonsense: 1\n".into(), "nonsense: unknown key `nonsense`"),
        (
            "scalekit_url: x\n".into(),
            "scalekit_url: unknown key `scalekit_url`; allowed here: version, name,",
        ),
        (
            "tools:\n  - name: t\n    scopes: []\n    scope: []\n".into(),
            "tools[0].scope: unknown key `scope`; allowed here: name, description, scopes, arguments",
        ),
        (
            "tools: [{name: t, scopes: [], arguments: [{name: a, type: string, optional: true}]}]\n".into(),
            "tools[0].arguments[0].optional: unknown key `optional`",
        ),
        ("version: 2\n".into(), "version: found 2"),
        ("name: 9lives\n".into(), "name: `9lives` is not allowed"),
        ("name: test\n".into(), "name: `test` is reserved"),
        ("name: \"a b\"\n".into(), "name: `a b` is not allowed"),
        (
            "server_url: mcp.example.com\n".into(),
            "server_url: `mcp.example.com` is not an absolute URL",
        ),
        (
            "server_url: http://mcp.example.com\n".into(),
            "http is allowed only for localhost, 127.0.0.1 and [::1]",
        ),
        (
            "server_url: ftp://mcp.example.com\n".into(),
            "has the scheme `ftp`",
        ),
        (
            "server_url: https://mcp.example.com/base\n".into(),
            "server_url: `https://mcp.example.com/base` has a path or query",
        ),
        (
            "resource: https://mcp.example.com/mcp#frag\n".into(),
            "resource: `https://mcp.example.com/mcp#frag` has a fragment",
        ),
        (
            "resource: https://other.example.com/mcp\n".into(),
            "is not on the server URL's origin",
        ),
        (
            "resource: https://mcp.example.com/elsewhere\n".into(),
            "neither the MCP endpoint's URL nor a prefix of it",
        ),
        (
            "resource_documentation: https://u:p@docs.example.com\n".into(),
            "resource_documentation: `https://u:p@docs.example.com` contains a user name",
        ),
        (
            "resource_documentation: \"https://docs.example.com/a`b\"\n".into(),
            "contains the character '`', which a URL may not hold",
        ),
        (
            "resource_documentation: \"https://docs.example.com/a b\"\n".into(),
            "contains the character ' '",
        ),
        ("mcp_path: mcp\n".into(), "mcp_path: `mcp` is not allowed"),
        ("mcp_path: /mcp/\n".into(), "mcp_path: `/mcp/` is not allowed"),
        (
            "mcp_path: /.well-known/x\n".into(),
            "is taken by the server's own routes",
        ),
        ("port: 70000\n".into(), "port: 70000 is not allowed"),
        ("audience: []\n".into(), "audience: is empty"),
        (
            "audience: [\"a,b\"]\n".into(),
            "audience[0]: `a,b` is not allowed",
        ),
        ("audience: [a, a]\n".into(), "audience[1]: `a` is listed twice"),
        (
            "scopes: [{name: \"a b\"}]\n".into(),
            "scopes[0].name: `a b` is not allowed",
        ),
        (
            "scopes: [{name: \"a\\\"b\"}]\n".into(),
            "scopes[0].name: `a\"b` is not allowed",
        ),
        (
            "scopes: [{name: \"a\\\\b\"}]\n".into(),
            "scopes[0].name: `a\\b` is not allowed",
        ),
        (
            "scopes: [{name: offline_access}]\n".into(),
            "scopes[0].name: `offline_access` is not allowed",
        ),
        (
            "scopes: [{name: a}, {name: a}]\n".into(),
            "scopes[1].name: `a` is declared twice",
        ),
        (
            "scopes: [{name: a, includes: [b]}]\n".into(),
            "scopes[0].includes[0]: `b` is not declared",
        ),
        (
            "scopes: [{name: a, includes: [a]}]\n".into(),
            "scopes[0].includes[0]: `a` includes itself",
        ),
        (
            "scopes: [{name: a, includes: [b]}, {name: b, includes: [a]}]\n".into(),
            "the includes form a cycle (a -> b -> a)",
        ),
        (
            "scopes: [{name: a, description: \"bell\\a\"}]\n".into(),
            "scopes[0].description: contains the control character U+0007",
        ),
        (
            "tools: [{name: \"has space\", scopes: []}]\n".into(),
            "tools[0].name: `has space` is not allowed",
        ),
        (
            format!("tools: [{{name: {long_tool}, scopes: []}}]\n"),
            "a tool name is 1 to 128 of",
        ),
        (
            "tools: [{name: t, scopes: []}, {name: t, scopes: []}]\n".into(),
            "tools[1].name: `t` is declared twice",
        ),
        (
            "tools: [{name: list-todos, scopes: []}, {name: list.todos, scopes: []}]\n".into(),
            "tools[1].name: `list.todos` and `list-todos` both become the Rust method `list_todos`",
        ),
        (
            "tools: [{name: t}]\n".into(),
            "tools[0].scopes: missing: list the scopes this tool needs",
        ),
        (
            "scopes: [{name: a}]\ntools: [{name: t, scopes: [b]}]\n".into(),
            "tools[0].scopes[0]: `b` is not declared under `scopes`; declared: a",
        ),
        (
            "tools: [{name: t, scopes: [], arguments: [{name: x, type: date}]}]\n".into(),
            "unknown variant `date`, expected one of `string`, `integer`, `number`, `boolean`",
        ),
        (
            "tools: [{name: t, scopes: [], arguments: [{name: x, type: string}, {name: x, type: string}]}]\n".into(),
            "tools[0].arguments[1].name: `x` is declared twice",
        ),
        (
            "tools: [{name: t, scopes: [], arguments: [{name: \"a b\", type: string}]}]\n".into(),
            "tools[0].arguments[0].name: `a b` is not allowed",
        ),
        ("tools: [\n  - {name: t\n".into(), "(line 6, column 3)"),
    ];
    for (extra, expected) in cases {
        let answers = answers_with(&extra);
        let output = dry_run(&answers).code(1).get_output().clone();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(
            stderr.contains(expected),
            "answers:\n{answers}\nexpected {expected:?} in:\n{stderr}"
        );
        assert!(output.stdout.is_empty(), "nothing is listed for {answers}");
    }
}

#[test]
fn loopback_http_urls_are_accepted() {
    for server in [
        "http://localhost:3000",
        "http://127.0.0.1",
        "http://[::1]:8080",
    ] {
        dry_run(&answers_with(&format!("server_url: {server}\n"))).success();
    }
}

#[test]
fn all_problems_are_reported_together() {
    let answers = "server_url: http://x.example\nport: 0\nscopes: [{name: offline_access}]\n\
                   tools: [{name: \"a b\", scopes: [nope]}]\n";
    dry_run(answers)
        .code(1)
        .stderr(contains("the answers have 7 problems"))
        .stderr(contains("server_url:"))
        .stderr(contains("scalekit.environment_url: missing"))
        .stderr(contains("scalekit.resource_id: missing"))
        .stderr(contains("port:"))
        .stderr(contains("scopes[0].name:"))
        .stderr(contains("tools[0].name:"))
        .stderr(contains("tools[0].scopes[0]:"));
}

#[test]
fn every_unknown_key_is_reported_at_once() {
    dry_run(&answers_with(
        "colour: red\nscopes: [{name: a, parent: b}]\n",
    ))
    .code(1)
    .stderr(contains("the answers have 2 problems"))
    .stderr(contains("colour: unknown key"))
    .stderr(contains("scopes[0].parent: unknown key"));
}

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
