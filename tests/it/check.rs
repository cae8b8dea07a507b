//! `mcp-oauth-new check` against fake MCP servers on 127.0.0.1: one that
//! conforms, and others with one fault each.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::common::cmd;
use mcp_oauth_new::check::{self, CheckId, Options, Report, Secret, Status};
use predicates::str::contains;
use serde_json::{Value, json};
use tiny_http::{Header, Method, Request, Response, Server};
use url::Url;

const GOOD: &str = "good-token-7f3a9c51";
/// The browser origin the fake server's CORS answers.
const APP: &str = "https://app.example";
const WRONG_AUDIENCE: &str = "wrong-aud-token-2b8e1d64";
const SESSION: &str = "session-1";

/// Every check id, in report order.
const IDS: [&str; 17] = [
    "https",
    "metadata-path-inserted",
    "metadata-root",
    "metadata-fields",
    "metadata-resource",
    "metadata-cors",
    "authorization-server-metadata",
    "pkce-s256",
    "public-client-registration",
    "unauthenticated-401",
    "challenge-resource-metadata",
    "challenge-scope",
    "no-error-without-credentials",
    "mcp-cors",
    "authenticated-initialize",
    "authenticated-tools-list",
    "wrong-audience-refused",
];

/// What the fake server gets wrong; the default gets nothing wrong.
#[derive(Clone, Default)]
struct Faults {
    no_metadata: bool,
    foreign_resource: bool,
    no_challenge: bool,
    no_scope: bool,
    no_cors: bool,
    no_pkce: bool,
    no_registration: bool,
    redirect_root_metadata: bool,
    accept_wrong_audience: bool,
    /// Plain JSON answers and no session, like a stateless server.
    json_answers: bool,
    /// Answers an `initialize` without a token.
    unprotected: bool,
    /// Puts `error="invalid_token"` in the 401 to a request without a token,
    /// as several MCP server stacks do.
    error_without_credentials: bool,
    /// Answers a CORS preflight on the MCP endpoint with 405.
    preflight_refused: bool,
    /// Does not expose `WWW-Authenticate` to browsers.
    no_cors_exposure: bool,
}

/// A fake MCP server with Scalekit-like metadata, on an ephemeral port.
struct Fake {
    server: Arc<Server>,
    thread: Option<JoinHandle<()>>,
    base: String,
    /// The session ids clients ended with DELETE.
    closed: Arc<Mutex<Vec<String>>>,
}

impl Fake {
    fn start(faults: Faults) -> Fake {
        let server = Arc::new(Server::http("127.0.0.1:0").unwrap());
        let port = server.server_addr().to_ip().unwrap().port();
        let base = format!("http://127.0.0.1:{port}");
        let closed = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let server = Arc::clone(&server);
            let base = base.clone();
            let closed = Arc::clone(&closed);
            thread::spawn(move || {
                while let Ok(request) = server.recv() {
                    handle(request, &base, &faults, &closed);
                }
            })
        };
        Fake {
            server,
            thread: Some(thread),
            base,
            closed,
        }
    }

    fn url(&self) -> String {
        format!("{}/mcp", self.base)
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap()
}

fn json_response(status: u16, value: &Value) -> Response<std::io::Cursor<Vec<u8>>> {
    Response::from_string(value.to_string())
        .with_status_code(status)
        .with_header(header("Content-Type", "application/json"))
}

fn handle(mut request: Request, base: &str, faults: &Faults, closed: &Mutex<Vec<String>>) {
    let get = |request: &Request, name: &str| {
        request
            .headers()
            .iter()
            .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str().to_string())
    };
    let issuer = format!("{base}/resources/res_1");
    let path = request.url().to_string();
    let response = match (request.method(), path.as_str()) {
        (Method::Get, "/.well-known/oauth-protected-resource") if faults.redirect_root_metadata => {
            Response::from_string("")
                .with_status_code(301)
                .with_header(header(
                    "Location",
                    "/.well-known/oauth-protected-resource/mcp",
                ))
        }
        (Method::Get, "/.well-known/oauth-protected-resource")
        | (Method::Get, "/.well-known/oauth-protected-resource/mcp")
            if !faults.no_metadata =>
        {
            let resource = if faults.foreign_resource {
                "https://elsewhere.example/mcp".to_string()
            } else {
                format!("{base}/mcp")
            };
            let mut response = json_response(
                200,
                &json!({
                    "resource": resource,
                    "authorization_servers": [issuer],
                    "bearer_methods_supported": ["header"],
                    "scopes_supported": ["todo:read", "todo:write"],
                }),
            );
            if !faults.no_cors {
                response = response.with_header(header("Access-Control-Allow-Origin", "*"));
            }
            response
        }
        (Method::Get, "/.well-known/oauth-authorization-server/resources/res_1") => {
            let mut metadata = json!({
                "issuer": issuer,
                "authorization_endpoint": format!("{base}/oauth/authorize"),
                "token_endpoint": format!("{base}/oauth/token"),
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
                "registration_endpoint": format!("{base}/resources/res_1/register"),
            });
            if faults.no_pkce {
                metadata["code_challenge_methods_supported"] = json!(["plain"]);
            }
            if faults.no_registration {
                metadata
                    .as_object_mut()
                    .unwrap()
                    .remove("registration_endpoint");
            }
            json_response(200, &metadata)
        }
        (Method::Post, "/mcp") => {
            let mut body = String::new();
            request.as_reader().read_to_string(&mut body).unwrap();
            let authorization = get(&request, "Authorization");
            let token = authorization
                .as_deref()
                .and_then(|a| a.strip_prefix("Bearer "));
            let accepted = match token {
                None => faults.unprotected,
                Some(GOOD) => true,
                Some(WRONG_AUDIENCE) => faults.accept_wrong_audience,
                Some(_) => false,
            };
            if accepted {
                mcp(&request, &body, faults)
            } else {
                let challenge = match token {
                    // Echoes the token, so the tests see that `check` redacts it.
                    Some(token) => format!(
                        r#"Bearer error="invalid_token", error_description="audience mismatch for {token}", resource_metadata="{base}/.well-known/oauth-protected-resource/mcp""#
                    ),
                    None if faults.error_without_credentials => format!(
                        r#"Bearer error="invalid_token", resource_metadata="{base}/.well-known/oauth-protected-resource/mcp", scope="todo:read todo:write""#
                    ),
                    None if faults.no_scope => format!(
                        r#"Bearer resource_metadata="{base}/.well-known/oauth-protected-resource/mcp""#
                    ),
                    None => format!(
                        r#"Bearer resource_metadata="{base}/.well-known/oauth-protected-resource/mcp", scope="todo:read todo:write""#
                    ),
                };
                let mut response = Response::from_string("").with_status_code(401);
                if !faults.no_challenge {
                    response = response.with_header(header("WWW-Authenticate", &challenge));
                }
                if get(&request, "Origin").as_deref() == Some(APP) {
                    response = response.with_header(header("Access-Control-Allow-Origin", APP));
                    if !faults.no_cors_exposure {
                        response = response.with_header(header(
                            "Access-Control-Expose-Headers",
                            "WWW-Authenticate, Mcp-Session-Id",
                        ));
                    }
                }
                response
            }
        }
        (Method::Options, "/mcp") if faults.preflight_refused => {
            Response::from_string("").with_status_code(405)
        }
        (Method::Options, "/mcp") => Response::from_string("")
            .with_status_code(204)
            .with_header(header("Access-Control-Allow-Origin", APP))
            .with_header(header("Access-Control-Allow-Methods", "GET, POST, DELETE"))
            .with_header(header(
                "Access-Control-Allow-Headers",
                "authorization, content-type, mcp-protocol-version, mcp-session-id",
            )),
        (Method::Delete, "/mcp")
            if get(&request, "Authorization").as_deref() == Some(&format!("Bearer {GOOD}")) =>
        {
            closed
                .lock()
                .unwrap()
                .extend(get(&request, "Mcp-Session-Id"));
            Response::from_string("").with_status_code(200)
        }
        _ => Response::from_string("not found").with_status_code(404),
    };
    let _ = request.respond(response);
}

/// A Streamable HTTP endpoint: SSE answers and a session, unless
/// `json_answers`. Refuses with 400 what a well-behaved client would not send.
fn mcp(request: &Request, body: &str, faults: &Faults) -> Response<std::io::Cursor<Vec<u8>>> {
    let get = |name: &str| {
        request
            .headers()
            .iter()
            .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str().to_string())
    };
    let bad = |why: &str| Response::from_string(why.to_string()).with_status_code(400);
    let accept = get("Accept").unwrap_or_default();
    if !(accept.contains("application/json") && accept.contains("text/event-stream")) {
        return bad("Accept must list application/json and text/event-stream");
    }
    let Ok(message) = serde_json::from_str::<Value>(body) else {
        return bad("not JSON");
    };
    let method = message["method"].as_str().unwrap_or_default();
    if method != "initialize" {
        if get("MCP-Protocol-Version").as_deref() != Some("2025-06-18") {
            return bad("MCP-Protocol-Version missing");
        }
        if !faults.json_answers && get("Mcp-Session-Id").as_deref() != Some(SESSION) {
            return bad("Mcp-Session-Id missing");
        }
    }
    let result = match method {
        "initialize" => json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "fake-todo", "version": "1.0.0"},
        }),
        "notifications/initialized" => return Response::from_string("").with_status_code(202),
        "tools/list" => json!({"tools": [
            {"name": "list_todos", "inputSchema": {"type": "object"}},
            {"name": "create_todo", "inputSchema": {"type": "object"}},
        ]}),
        _ => return bad("unknown method"),
    };
    let answer = json!({"jsonrpc": "2.0", "id": message["id"], "result": result});
    if faults.json_answers {
        return json_response(200, &answer);
    }
    // A progress notification first, so the client must find its answer.
    let stream = format!(
        "event: message\ndata: {}\n\nevent: message\ndata: {answer}\n\n",
        json!({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": "hi"}})
    );
    Response::from_string(stream)
        .with_status_code(200)
        .with_header(header("Content-Type", "text/event-stream"))
        .with_header(header("Mcp-Session-Id", SESSION))
}

fn options(url: &str) -> Options {
    Options {
        url: Url::parse(url).unwrap(),
        token: Some(Secret::new(GOOD)),
        wrong_audience_token: Some(Secret::new(WRONG_AUDIENCE)),
        origin: Some(APP.to_string()),
        timeout: Duration::from_secs(5),
    }
}

/// Runs the probe in-process against a fake server with these faults.
fn probe(faults: Faults) -> Report {
    let fake = Fake::start(faults);
    check::run(&options(&fake.url()))
}

fn status(report: &Report, id: CheckId) -> Status {
    report
        .get(id)
        .unwrap_or_else(|| panic!("no check {id} in {report:#?}"))
        .status
}

/// The JSON report of the CLI, with its exit code.
fn cli_json(args: &[&str]) -> (Value, Option<i32>) {
    let output = cmd()
        .arg("check")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (value, output.status.code())
}

fn json_status<'a>(report: &'a Value, id: &str) -> &'a str {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {report:#}"))["status"]
        .as_str()
        .unwrap()
}

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
    ]);
    for id in IDS {
        let expected = if id == "https" { "warn" } else { "pass" };
        assert_eq!(json_status(&report, id), expected, "{id}: {report:#}");
    }
    assert_eq!(code, Some(0));
    assert_eq!(report["ok"], true);
    assert_eq!(report["counts"]["pass"], 16);
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
        .args(["check", &fake.url(), "--origin", APP])
        .env("MCP_CHECK_TOKEN", GOOD)
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
        stdout.contains("ok: 16 pass, 1 warn, 0 fail, 0 skip"),
        "{stdout}"
    );
    assert!(!stdout.contains('\x1b'), "no colour into a pipe");
}

#[test]
fn missing_metadata_fails_both_locations() {
    let fake = Fake::start(Faults {
        no_metadata: true,
        ..Faults::default()
    });
    let (report, code) = cli_json(&[&fake.url()]);
    assert_eq!(code, Some(1));
    assert_eq!(report["ok"], false);
    assert_eq!(json_status(&report, "metadata-path-inserted"), "fail");
    assert_eq!(json_status(&report, "metadata-root"), "fail");
    assert_eq!(json_status(&report, "metadata-fields"), "skip");
    assert_eq!(
        json_status(&report, "authorization-server-metadata"),
        "skip"
    );
    let reason = report["checks"][1]["reason"].as_str().unwrap();
    assert!(reason.contains("404 Not Found"), "{reason}");
}

#[test]
fn a_resource_of_another_origin_fails() {
    let fake = Fake::start(Faults {
        foreign_resource: true,
        ..Faults::default()
    });
    let assert = cmd().args(["check", &fake.url()]).assert().code(1);
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let row = stdout
        .lines()
        .find(|l| l.contains("metadata-resource"))
        .unwrap();
    assert!(row.contains("FAIL"), "{row}");
    assert!(row.contains("https://elsewhere.example/mcp"), "{row}");
    assert!(String::from_utf8_lossy(&assert.get_output().stderr).contains("check failed"));
}

#[test]
fn a_401_without_a_challenge_fails() {
    let report = probe(Faults {
        no_challenge: true,
        ..Faults::default()
    });
    assert_eq!(status(&report, CheckId::Unauthenticated401), Status::Pass);
    assert_eq!(
        status(&report, CheckId::ChallengeResourceMetadata),
        Status::Fail
    );
    assert!(
        report
            .get(CheckId::ChallengeResourceMetadata)
            .unwrap()
            .reason
            .contains("no WWW-Authenticate"),
        "{report:#?}"
    );
    assert_eq!(status(&report, CheckId::ChallengeScope), Status::Skip);
}

#[test]
fn an_accepted_wrong_audience_token_fails() {
    let fake = Fake::start(Faults {
        accept_wrong_audience: true,
        ..Faults::default()
    });
    let (report, code) = cli_json(&[
        &fake.url(),
        "--token",
        GOOD,
        "--wrong-audience-token",
        WRONG_AUDIENCE,
    ]);
    assert_eq!(code, Some(1));
    assert_eq!(json_status(&report, "wrong-audience-refused"), "fail");
    assert_eq!(json_status(&report, "authenticated-initialize"), "pass");
}

#[test]
fn each_fault_is_named_by_its_check() {
    let cases: [(Faults, CheckId, Status); 11] = [
        (
            Faults {
                no_scope: true,
                ..Faults::default()
            },
            CheckId::ChallengeScope,
            Status::Warn,
        ),
        (
            Faults {
                no_cors: true,
                ..Faults::default()
            },
            CheckId::MetadataCors,
            Status::Warn,
        ),
        (
            Faults {
                no_pkce: true,
                ..Faults::default()
            },
            CheckId::PkceS256,
            Status::Fail,
        ),
        (
            Faults {
                no_registration: true,
                ..Faults::default()
            },
            CheckId::PublicClientRegistration,
            Status::Warn,
        ),
        (
            Faults {
                redirect_root_metadata: true,
                ..Faults::default()
            },
            CheckId::MetadataRoot,
            Status::Warn,
        ),
        (
            Faults {
                unprotected: true,
                ..Faults::default()
            },
            CheckId::Unauthenticated401,
            Status::Fail,
        ),
        (
            Faults {
                json_answers: true,
                ..Faults::default()
            },
            CheckId::AuthenticatedToolsList,
            Status::Pass,
        ),
        (
            Faults {
                foreign_resource: true,
                ..Faults::default()
            },
            CheckId::MetadataResource,
            Status::Fail,
        ),
        (
            Faults {
                error_without_credentials: true,
                ..Faults::default()
            },
            CheckId::NoErrorWithoutCredentials,
            Status::Warn,
        ),
        (
            Faults {
                preflight_refused: true,
                ..Faults::default()
            },
            CheckId::McpCors,
            Status::Warn,
        ),
        (
            Faults {
                no_cors_exposure: true,
                ..Faults::default()
            },
            CheckId::McpCors,
            Status::Warn,
        ),
    ];
    for (faults, id, expected) in cases {
        let report = probe(faults);
        assert_eq!(status(&report, id), expected, "{id}: {report:#?}");
    }
}

#[test]
fn mcp_cors_is_skipped_without_an_origin_and_says_why_it_warns() {
    let fake = Fake::start(Faults::default());
    let mut options = options(&fake.url());
    options.origin = None;
    let report = check::run(&options);
    assert_eq!(status(&report, CheckId::McpCors), Status::Skip);

    let refused = probe(Faults {
        preflight_refused: true,
        ..Faults::default()
    });
    let reason = &refused.get(CheckId::McpCors).unwrap().reason;
    assert!(
        reason.contains("the preflight from https://app.example got 405"),
        "{reason}"
    );
    let hidden = probe(Faults {
        no_cors_exposure: true,
        ..Faults::default()
    });
    let reason = &hidden.get(CheckId::McpCors).unwrap().reason;
    assert!(
        reason.contains("does not let a browser read WWW-Authenticate"),
        "{reason}"
    );
}

#[test]
fn the_probe_closes_the_session_it_opened() {
    let fake = Fake::start(Faults::default());
    let mut options = options(&fake.url());
    options.token = Some(Secret::new(GOOD));
    let report = check::run(&options);
    assert_eq!(
        status(&report, CheckId::AuthenticatedToolsList),
        Status::Pass
    );
    assert_eq!(*fake.closed.lock().unwrap(), [SESSION]);
}

#[test]
fn an_error_code_without_credentials_is_named_with_both_requests() {
    let report = probe(Faults {
        error_without_credentials: true,
        ..Faults::default()
    });
    let check = report.get(CheckId::NoErrorWithoutCredentials).unwrap();
    assert_eq!(check.status, Status::Warn);
    assert!(
        check
            .reason
            .contains(r#"the 401 without credentials has error="invalid_token""#),
        "{}",
        check.reason
    );
    assert!(
        check
            .reason
            .contains(r#"the 401 with Authorization: Basic has error="invalid_token""#),
        "{}",
        check.reason
    );
    assert!(check.reason.contains("RFC 6750"), "{}", check.reason);
    // The conforming server passes it.
    let conforming = probe(Faults::default());
    assert_eq!(
        status(&conforming, CheckId::NoErrorWithoutCredentials),
        Status::Pass
    );
}

#[test]
fn a_rejected_token_fails_the_authenticated_checks_with_the_reason() {
    let fake = Fake::start(Faults::default());
    let mut options = options(&fake.url());
    options.token = Some(Secret::new("expired-token-91c2"));
    let report = check::run(&options);
    let init = report.get(CheckId::AuthenticatedInitialize).unwrap();
    assert_eq!(init.status, Status::Fail);
    assert!(init.reason.contains("401 Unauthorized"), "{}", init.reason);
    assert!(init.reason.contains("[redacted]"), "{}", init.reason);
    assert_eq!(
        status(&report, CheckId::AuthenticatedToolsList),
        Status::Skip
    );
}

#[test]
fn without_tokens_the_authenticated_checks_are_skipped() {
    let fake = Fake::start(Faults::default());
    let (report, code) = cli_json(&[&fake.url()]);
    assert_eq!(code, Some(0));
    for id in [
        "authenticated-initialize",
        "authenticated-tools-list",
        "wrong-audience-refused",
    ] {
        assert_eq!(json_status(&report, id), "skip", "{id}");
    }
}

#[test]
fn an_unreachable_server_fails_fast_with_a_clear_reason() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let start = Instant::now();
    let assert = cmd()
        .args(["check", &format!("http://127.0.0.1:{port}/mcp")])
        .timeout(Duration::from_secs(30))
        .assert()
        .code(1);
    assert!(start.elapsed() < Duration::from_secs(10));
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains(&format!("connection refused to 127.0.0.1:{port}")),
        "{stdout}"
    );
    assert!(stdout.contains("FAIL  unauthenticated-401"), "{stdout}");
}

#[test]
fn a_server_that_never_answers_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accepts connections and holds them open without a word.
    thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(16) {
            held.push(stream);
        }
    });
    let start = Instant::now();
    let (report, code) = cli_json(&[
        &format!("http://127.0.0.1:{port}/mcp"),
        "--timeout",
        "1",
        "--token",
        GOOD,
    ]);
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(code, Some(1));
    let reason = report["checks"][1]["reason"].as_str().unwrap();
    assert!(reason.contains("timed out after 1 s"), "{reason}");
    assert_eq!(json_status(&report, "unauthenticated-401"), "fail");
}

/// Answers every POST with an event stream that carries the JSON-RPC answer
/// and then stays open for `hold`, as servers may; GETs get a 404.
fn held_stream_server(hold: Duration) -> String {
    fn serve(stream: TcpStream, hold: Duration) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = Vec::new();
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 2 {
            head.push(std::mem::take(&mut line));
        }
        let length = head
            .iter()
            .find_map(|h| {
                h.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse::<usize>().unwrap())
            })
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let mut stream = stream;
        if !head[0].starts_with("POST") {
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
            return;
        }
        let request: Value = serde_json::from_slice(&body).unwrap();
        if request.get("id").is_none() {
            let _ = stream.write_all(
                b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
            return;
        }
        let answer = json!({"jsonrpc": "2.0", "id": request["id"], "result": {
            "protocolVersion": "2025-06-18", "serverInfo": {"name": "held"}, "tools": [],
        }});
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\ndata: {answer}\n\n"
        );
        let _ = stream.flush();
        thread::sleep(hold);
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for stream in listener.incoming().take(32).flatten() {
            thread::spawn(move || serve(stream, hold));
        }
    });
    format!("http://127.0.0.1:{port}/mcp")
}

#[test]
fn an_event_stream_left_open_is_read_only_up_to_the_answer() {
    let url = held_stream_server(Duration::from_secs(20));
    let mut options = options(&url);
    options.timeout = Duration::from_secs(3);
    options.wrong_audience_token = None;
    let start = Instant::now();
    let report = check::run(&options);
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(
        status(&report, CheckId::AuthenticatedInitialize),
        Status::Pass,
        "{report:#?}"
    );
    assert_eq!(
        status(&report, CheckId::AuthenticatedToolsList),
        Status::Pass,
        "{report:#?}"
    );
    // The server answers without a token: the probe says so.
    assert_eq!(status(&report, CheckId::Unauthenticated401), Status::Fail);
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
            .args(["check", &fake.url(), "--json"])
            .env("MCP_CHECK_TOKEN", GOOD)
            .env("MCP_CHECK_WRONG_AUDIENCE_TOKEN", WRONG_AUDIENCE)
            .assert(),
        cmd()
            .args(["check", "http://127.0.0.1:1/mcp", "--token", GOOD])
            .args(["--wrong-audience-token", WRONG_AUDIENCE])
            .assert(),
        cmd()
            .args(["check", "--help"])
            .env("MCP_CHECK_TOKEN", GOOD)
            .env("MCP_CHECK_WRONG_AUDIENCE_TOKEN", WRONG_AUDIENCE)
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
        for token in [GOOD, WRONG_AUDIENCE, rejected] {
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
        .args([
            "check",
            "https://mcp.example.com/mcp",
            "--answers",
            "x.yaml",
        ])
        .assert()
        .code(2);
}

#[test]
fn the_top_level_help_mentions_check() {
    cmd()
        .arg("--help")
        .assert()
        .success()
        .stdout(contains("mcp-oauth-new check https://mcp.example.com/mcp"));
}
