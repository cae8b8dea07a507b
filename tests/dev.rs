//! `mcp-oauth-new dev` as a process (CONTRACT section 6): what it gives the
//! server, what it prints, and that it leaves no process or port behind
//! whatever ends it, with a clear error for each failure. The server is a
//! std-only fake (tests/dev/fake_server.rs) in a generated project, so each
//! test builds in a second; the real server under `dev` is tests/e2e's.

mod common;
#[path = "dev/harness.rs"]
mod harness;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt as _;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use harness::{Dev, Ended, Fake, free_port_pair};
use serde_json::Value;

const RESOURCE_ID: &str = "res_1234567890";

/// `dev` on the fake, until its banner names the MCP URL.
fn running(fake: &Fake, args: &[&str], mode: &str) -> Dev {
    let mut dev = Dev::start(fake.dev(args, mode));
    let url = fake.mcp_url();
    dev.wait_for("the banner", |stdout| stdout.contains(&url));
    dev
}

fn assert_exit(ended: &Ended, code: i32) {
    assert_eq!(ended.status.code(), Some(code), "{ended}");
}

#[test]
fn ctrl_c_stops_the_server_and_the_stand_in() {
    let fake = Fake::new();
    let dev = running(&fake, &[], "");
    assert!(fake.pid("server").is_some() && fake.pid("helper").is_some());
    dev.interrupt();
    let ended = dev.ended();
    assert_exit(&ended, 0);
    fake.assert_nothing_left(&[fake.port, fake.auth_port()]);
}

#[test]
fn sigterm_stops_the_server_and_the_stand_in() {
    let fake = Fake::new();
    let dev = running(&fake, &[], "");
    dev.terminate();
    let ended = dev.ended();
    assert_exit(&ended, 0);
    fake.assert_nothing_left(&[fake.port, fake.auth_port()]);
}

#[test]
fn a_server_exiting_on_its_own_stops_the_stand_in_and_dev_says_so() {
    let fake = Fake::new();
    let ended = Dev::run(fake.dev(&[], "crash"));
    assert!(fake.recorded("ready"), "{ended}");
    assert_exit(&ended, 1);
    assert!(ended.stderr.contains("server exited"), "{ended}");
    assert!(ended.stderr.contains("exit status: 3"), "{ended}");
    fake.assert_nothing_left(&[fake.port, fake.auth_port()]);
}

#[test]
fn a_signal_before_the_server_is_ready_stops_it() {
    let fake = Fake::new();
    let mut dev = Dev::start(fake.dev(&[], "never-ready"));
    dev.wait_for("the server", |_| fake.pid("server").is_some());
    dev.interrupt();
    let ended = dev.ended();
    assert_exit(&ended, 0);
    assert!(ended.stderr.contains("stopped"), "{ended}");
    fake.assert_nothing_left(&[fake.port, fake.auth_port()]);
}

#[test]
fn a_project_that_does_not_build_is_an_error_naming_the_build() {
    let fake = Fake::new();
    fs::write(fake.root.join("src/main.rs"), "fn main() { let = ; }\n").unwrap();
    let ended = Dev::run(fake.dev(&[], ""));
    assert_exit(&ended, 1);
    assert!(ended.stderr.contains("did not build"), "{ended}");
    // cargo's own diagnostics are shown, not swallowed.
    assert!(ended.stderr.contains("src/main.rs"), "{ended}");
    assert!(fake.pid("server").is_none());
    fake.assert_nothing_left(&[fake.port, fake.auth_port()]);
}

#[test]
fn a_signal_while_cargo_builds_stops_cargo_and_what_it_runs() {
    let fake = Fake::new();
    fs::write(fake.root.join("build.rs"), harness::SLOW_BUILD).unwrap();
    let mut dev = Dev::start(fake.dev(&[], ""));
    dev.wait_for("the build script", |_| fake.pid("build").is_some());
    dev.terminate();
    let ended = dev.ended();
    assert_exit(&ended, 0);
    assert!(ended.stderr.contains("stopped"), "{ended}");
    fake.assert_nothing_left(&[fake.port, fake.auth_port()]);
}

#[test]
fn the_servers_port_in_use_is_an_error_naming_port() {
    let fake = Fake::new();
    let taken = TcpListener::bind(("127.0.0.1", fake.port)).unwrap();
    let ended = Dev::run(fake.dev(&[], ""));
    assert_exit(&ended, 1);
    assert!(ended.stderr.contains(&fake.port.to_string()), "{ended}");
    assert!(ended.stderr.contains("--port"), "{ended}");
    assert!(!fake.target_dir().exists(), "it built anyway");
    drop(taken);
    fake.assert_nothing_left(&[fake.port, fake.auth_port()]);
}

#[test]
fn the_stand_ins_port_in_use_is_an_error_naming_auth_port() {
    let fake = Fake::new();
    let taken = TcpListener::bind(("127.0.0.1", fake.auth_port())).unwrap();
    let ended = Dev::run(fake.dev(&[], ""));
    assert_exit(&ended, 1);
    assert!(
        ended.stderr.contains(&fake.auth_port().to_string()),
        "{ended}"
    );
    assert!(ended.stderr.contains("--auth-port"), "{ended}");
    assert!(!ended.stderr.contains("--port"), "{ended}");
    assert!(!fake.target_dir().exists(), "it built anyway");
    drop(taken);
    fake.assert_nothing_left(&[fake.port, fake.auth_port()]);
}

#[test]
fn a_directory_that_is_not_a_generated_project_is_an_error_naming_the_answers() {
    let empty = tempfile::tempdir().unwrap();
    for args in [vec![], vec![empty.path().to_str().unwrap()]] {
        let mut command = std::process::Command::new(common::BIN);
        command
            .arg("dev")
            .args(&args)
            .current_dir(empty.path())
            .env("NO_COLOR", "1");
        let ended = Dev::run(command);
        assert_exit(&ended, 1);
        assert!(ended.stderr.contains("mcp-oauth.yaml"), "{ended}");
        assert!(ended.stderr.contains("dev PATH"), "{ended}");
    }
    assert_eq!(fs::read_dir(empty.path()).unwrap().count(), 0);
}

/// The variables every run gives the server, for `port` and `auth_port`.
fn expected_env(port: u16, auth_port: u16) -> BTreeMap<String, String> {
    let resource = format!("http://127.0.0.1:{port}/mcp");
    [
        ("MCP_LISTEN_ADDR", format!("127.0.0.1:{port}")),
        ("MCP_SERVER_URL", format!("http://127.0.0.1:{port}")),
        ("MCP_AUDIENCE", format!("{RESOURCE_ID},{resource}")),
        ("MCP_RESOURCE", resource),
        (
            "SCALEKIT_ENVIRONMENT_URL",
            format!("http://127.0.0.1:{auth_port}"),
        ),
        ("SCALEKIT_RESOURCE_ID", RESOURCE_ID.to_owned()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}

#[test]
fn the_server_gets_the_stand_in_and_loopback_urls() {
    let fake = Fake::new();
    let mut command = fake.dev(&[], "");
    // A JWKS URL set for production must not point the server elsewhere.
    command.env("SCALEKIT_JWKS_URL", "https://acme.scalekit.com/keys");
    let mut dev = Dev::start(command);
    dev.wait_for("the banner", |stdout| stdout.contains(&fake.mcp_url()));
    dev.terminate();
    assert_exit(&dev.ended(), 0);

    let mut env = fake.server_env();
    let origins = env.remove("MCP_ALLOWED_ORIGINS").unwrap_or_default();
    assert_eq!(env, expected_env(fake.port, fake.auth_port()));
    assert_eq!(
        origins.split(',').collect::<BTreeSet<_>>(),
        BTreeSet::from(["http://localhost:6274", "http://127.0.0.1:6274"]),
        "the MCP Inspector's origins"
    );
}

#[test]
fn port_flags_move_everything_and_the_callers_origins_are_kept() {
    let fake = Fake::new();
    let (port, auth_port) = (free_port_pair(), free_port_pair());
    let mut command = fake.dev(
        &[
            "--port",
            &port.to_string(),
            "--auth-port",
            &auth_port.to_string(),
        ],
        "",
    );
    command.env("MCP_ALLOWED_ORIGINS", "https://app.example.com");
    let mut dev = Dev::start(command);
    let url = format!("http://127.0.0.1:{port}/mcp");
    dev.wait_for("the banner", |stdout| stdout.contains(&url));
    dev.terminate();
    assert_exit(&dev.ended(), 0);

    let mut env = fake.server_env();
    assert_eq!(
        env.remove("MCP_ALLOWED_ORIGINS").as_deref(),
        Some("https://app.example.com")
    );
    assert_eq!(env, expected_env(port, auth_port));
    fake.assert_nothing_left(&[port, auth_port]);
}

/// The JSON value that follows `marker` in `text`.
fn json_after(text: &str, marker: &str) -> Value {
    let after = &text[text
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker}:\n{text}"))..];
    let json = &after[after.find('{').expect("a JSON snippet")..];
    serde_json::Deserializer::from_str(json)
        .into_iter::<Value>()
        .next()
        .expect("a JSON snippet")
        .unwrap_or_else(|error| panic!("the snippet after {marker}: {error}"))
}

#[test]
fn the_banner_says_what_to_paste_into_each_client() {
    let fake = Fake::new();
    let dev = running(&fake, &[], "");
    dev.terminate();
    let ended = dev.ended();
    assert_exit(&ended, 0);
    let (out, url) = (&ended.stdout, fake.mcp_url());

    assert!(
        out.contains(&format!("http://127.0.0.1:{}", fake.auth_port())),
        "{ended}"
    );
    for line in [
        format!("npx @modelcontextprotocol/inspector --transport http --server-url {url}"),
        format!("--cli {url} --method tools/list"),
        format!("claude mcp add --transport http todo-mcp {url}"),
        "mcp-oauth-new dev token".to_owned(),
    ] {
        assert!(out.contains(&line), "no `{line}`:\n{ended}");
    }
    let vscode = json_after(out, ".vscode/mcp.json");
    assert_eq!(
        vscode["servers"]["todo-mcp"]["url"],
        url.as_str(),
        "{ended}"
    );
    assert_eq!(vscode["servers"]["todo-mcp"]["type"], "http", "{ended}");
    let cursor = json_after(out, "Cursor");
    assert_eq!(
        cursor["mcpServers"]["todo-mcp"]["url"],
        url.as_str(),
        "{ended}"
    );
    // A client given localhost refuses metadata whose resource says 127.0.0.1.
    assert!(!out.contains("://localhost"), "{ended}");
    // Each request to the stand-in is logged: here the server's fetch of its keys.
    assert!(ended.stderr.contains("GET /keys"), "{ended}");
}

#[test]
fn quiet_prints_no_banner_and_no_request_log() {
    let fake = Fake::new();
    let mut dev = Dev::start(fake.dev(&["-q"], ""));
    dev.wait_for("readiness", |_| fake.recorded("ready"));
    dev.terminate();
    let ended = dev.ended();
    assert_exit(&ended, 0);
    assert_eq!(ended.stdout.trim(), "", "{ended}");
    // The server fetched its keys, which the log would show.
    assert!(!ended.stderr.contains("/keys"), "{ended}");
    fake.assert_nothing_left(&[fake.port, fake.auth_port()]);
}

/// The `kid` the stand-in on `auth_port` serves.
fn served_kid(auth_port: u16) -> String {
    let keys = ureq::get(&format!("http://127.0.0.1:{auth_port}/keys"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let keys: Value = serde_json::from_str(&keys).unwrap();
    keys["keys"][0]["kid"].as_str().unwrap().to_owned()
}

/// `dev --auth-only ARGS` until its stand-in answers, then SIGTERM: its kid.
fn auth_only_kid(fake: &Fake, args: &[&str], auth_port: u16) -> String {
    let mut dev = Dev::start(fake.dev(&[&["--auth-only"], args].concat(), ""));
    let base = format!("http://127.0.0.1:{auth_port}");
    dev.wait_for("the stand-in", |stdout| stdout.contains(&base));
    let kid = served_kid(auth_port);
    dev.terminate();
    assert_exit(&dev.ended(), 0);
    kid
}

fn claims(segment: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}

#[test]
fn auth_only_runs_only_the_stand_in_and_dev_token_mints_for_it() {
    let fake = Fake::new();
    let auth_port = free_port_pair();
    let mut dev = Dev::start(fake.dev(&["--auth-only", "--auth-port", &auth_port.to_string()], ""));
    dev.wait_for("the stand-in", |stdout| {
        stdout.contains(&format!("http://127.0.0.1:{auth_port}"))
    });
    let kid = served_kid(auth_port);
    assert!(TcpStream::connect(("127.0.0.1", fake.port)).is_err());
    dev.terminate();
    assert_exit(&dev.ended(), 0);
    assert!(!fake.target_dir().exists(), "--auth-only built the project");
    assert!(fake.pid("server").is_none(), "--auth-only ran the server");
    fake.assert_nothing_left(&[fake.port, auth_port]);

    let token = common::cmd()
        .args(["dev", "token"])
        .current_dir(&fake.root)
        .output()
        .unwrap();
    assert!(token.status.success(), "{token:?}");
    let token = String::from_utf8(token.stdout).unwrap();
    let parts: Vec<&str> = token.trim_end().split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    assert_eq!(claims(parts[0])["kid"], kid.as_str());
    let payload = claims(parts[1]);
    assert_eq!(
        payload["iss"],
        format!("http://127.0.0.1:{auth_port}/resources/{RESOURCE_ID}").as_str()
    );
    assert_eq!(
        payload["aud"],
        serde_json::json!([RESOURCE_ID, fake.mcp_url()])
    );
}

#[test]
fn the_key_persists_privately_and_reset_replaces_it() {
    let fake = Fake::new();
    let kid = auth_only_kid(&fake, &[], fake.auth_port());
    let dir = fake.root.join(".mcp-oauth/dev");
    let mode = |path: &std::path::Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    let ignore = fs::read_to_string(dir.join(".gitignore")).unwrap();
    assert!(ignore.lines().any(|line| line == "*"), "{ignore}");
    let files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| !path.ends_with(".gitignore"))
        .collect();
    assert!(files.len() >= 2, "no key and state in {files:?}");
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }

    assert_eq!(auth_only_kid(&fake, &[], fake.auth_port()), kid);
    assert_ne!(auth_only_kid(&fake, &["--reset"], fake.auth_port()), kid);
}
