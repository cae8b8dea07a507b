//! How the command is run: help, version, usage errors, and where the
//! answers come from (a file, standard input, defaults, none).

use super::*;

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
