//! The report as a whole: every row, the table, the JSON, the exit codes and
//! tokens kept out of all of it.

use predicates::str::contains;

use super::*;

#[test]
fn a_conforming_server_passes_everything_but_https_on_loopback() {
    let fake = Fake::start(Faults::default());
    let (report, code) = cli_json(&[
        &fake.url(),
        "--token",
        GOOD,
        "--wrong-audience-token",
        WRONG_AUDIENCE,
        "--origin",
        APP,
        "--limited-token",
        LIMITED,
        "--tool",
        "create_todo",
        "--tool-arguments",
        r#"{"title":"x"}"#,
    ]);
    for id in IDS {
        let expected = if id == "https" { "warn" } else { "pass" };
        assert_eq!(json_status(&report, id), expected, "{id}: {report:#}");
    }
    assert_eq!(code, Some(0));
    assert_eq!(report["ok"], true);
    assert_eq!(report["counts"]["pass"], 18);
    let tools = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["id"] == "authenticated-tools-list")
        .unwrap()["reason"]
        .as_str()
        .unwrap();
    assert_eq!(tools, "2 tool(s): list_todos, create_todo");
}

#[test]
fn the_table_shows_every_check_with_its_mark_and_reason() {
    let fake = Fake::start(Faults::default());
    let assert = cmd()
        .args([
            "check",
            &fake.url(),
            "--origin",
            APP,
            "--tool",
            "create_todo",
        ])
        .env("MCP_CHECK_TOKEN", GOOD)
        .env("MCP_CHECK_LIMITED_TOKEN", LIMITED)
        .env("MCP_CHECK_WRONG_AUDIENCE_TOKEN", WRONG_AUDIENCE)
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    for id in IDS {
        let row = stdout
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(id))
            .unwrap_or_else(|| panic!("no row for {id}:\n{stdout}"));
        let mark = if id == "https" { "warn" } else { "pass" };
        assert!(row.trim_start().starts_with(mark), "{row}");
        assert!(row.split_whitespace().count() > 2, "a reason: {row}");
    }
    assert!(
        stdout.contains("ok: 18 pass, 1 warn, 0 fail, 0 skip"),
        "{stdout}"
    );
    assert!(!stdout.contains('\x1b'), "no colour into a pipe");
}

#[test]
fn json_lists_every_check_by_id_with_title_status_and_reason() {
    let fake = Fake::start(Faults::default());
    let (report, _) = cli_json(&[&fake.url()]);
    let checks = report["checks"].as_array().unwrap();
    let ids: Vec<&str> = checks.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, IDS);
    for check in checks {
        assert!(check["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(check["reason"].as_str().is_some_and(|r| !r.is_empty()));
        assert!(["pass", "warn", "fail", "skip"].contains(&check["status"].as_str().unwrap()));
    }
    assert_eq!(report["url"], fake.url());
}

#[test]
fn tokens_never_appear_in_any_output() {
    // The fake server echoes any refused token in its challenge, so a token
    // reaches the reasons unless `check` redacts it.
    let fake = Fake::start(Faults::default());
    let rejected = "rejected-token-55d0e7";
    let runs: Vec<assert_cmd::assert::Assert> = vec![
        cmd()
            .args(["check", &fake.url(), "--token", rejected])
            .args(["--wrong-audience-token", WRONG_AUDIENCE])
            .assert(),
        cmd()
            .args(["check", &fake.url(), "--json", "--token", rejected])
            .args(["--wrong-audience-token", WRONG_AUDIENCE])
            .assert(),
        cmd()
            .args(["check", &fake.url(), "--json", "--tool", "create_todo"])
            .env("MCP_CHECK_TOKEN", GOOD)
            .env("MCP_CHECK_WRONG_AUDIENCE_TOKEN", WRONG_AUDIENCE)
            .env("MCP_CHECK_LIMITED_TOKEN", LIMITED)
            .assert(),
        // The limited token refused, so a challenge echoes it.
        cmd()
            .args(["check", &fake.url(), "--tool", "create_todo"])
            .args(["--limited-token", rejected])
            .assert(),
        cmd()
            .args(["check", "http://127.0.0.1:1/mcp", "--token", GOOD])
            .args(["--wrong-audience-token", WRONG_AUDIENCE])
            .assert(),
        cmd()
            .args(["check", "--help"])
            .env("MCP_CHECK_TOKEN", GOOD)
            .env("MCP_CHECK_WRONG_AUDIENCE_TOKEN", WRONG_AUDIENCE)
            .env("MCP_CHECK_LIMITED_TOKEN", LIMITED)
            .assert(),
        cmd().args(["check", "not a url", "--token", GOOD]).assert(),
    ];
    for run in runs {
        let output = run.get_output();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        for token in [GOOD, WRONG_AUDIENCE, LIMITED, rejected] {
            assert!(!all.contains(token), "{token} printed:\n{all}");
        }
    }
}

#[test]
fn usage_errors_exit_with_2() {
    cmd()
        .arg("check")
        .assert()
        .code(2)
        .stderr(contains("<URL>"));
    cmd()
        .args(["check", "mcp.example.com/mcp"])
        .assert()
        .code(2)
        .stderr(contains("not an absolute URL"));
    cmd()
        .args(["check", "ftp://mcp.example.com/mcp"])
        .assert()
        .code(2)
        .stderr(contains("https or http"));
    cmd()
        .args(["check", "https://mcp.example.com/mcp", "--timeout", "0"])
        .assert()
        .code(2);
    cmd()
        .args(["check", "https://mcp.example.com/mcp", "--answers"])
        .assert()
        .code(2);
    cmd()
        .args([
            "check",
            "https://mcp.example.com/mcp",
            "--tool",
            "create_todo",
        ])
        .assert()
        .code(2)
        .stderr(contains("--limited-token"));
    cmd()
        .args([
            "check",
            "https://mcp.example.com/mcp",
            "--tool",
            "create_todo",
        ])
        .args(["--limited-token", "t", "--tool-arguments", "[1]"])
        .assert()
        .code(2)
        .stderr(contains("a JSON object is needed"));
}

#[test]
fn the_top_level_help_mentions_check() {
    cmd()
        .arg("--help")
        .assert()
        .success()
        .stdout(contains("mcp-oauth-new check https://mcp.example.com/mcp"));
}

#[test]
fn without_tokens_the_authenticated_checks_are_skipped() {
    let fake = Fake::start(Faults::default());
    let (report, code) = cli_json(&[&fake.url()]);
    assert_eq!(code, Some(0));
    for id in [
        "authenticated-initialize",
        "authenticated-tools-list",
        "protocol-versions",
        "insufficient-scope",
        "wrong-audience-refused",
    ] {
        assert_eq!(json_status(&report, id), "skip", "{id}");
    }
}
