//! `mcp-oauth-new check` against fake MCP servers on 127.0.0.1: one that
//! conforms, and others with one fault each. This file is the fake server;
//! the tests are grouped by what they probe.

mod answers;
mod faults;
mod network;
mod report;
mod step_up;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use crate::common::cmd;
use crate::loopback::Loopback;
use mcp_oauth_new::check::{self, CheckId, Options, Report, Secret, Status};
use serde_json::{Map, Value, json};
use tiny_http::{Header, Method, Request, Response};
use url::Url;

const GOOD: &str = "good-token-7f3a9c51";
/// Valid, but without `todo:write`, which `create_todo` needs.
const LIMITED: &str = "limited-token-4c9d20ea";
/// The browser origin the fake server's CORS answers.
const APP: &str = "https://app.example";
const WRONG_AUDIENCE: &str = "wrong-aud-token-2b8e1d64";
/// The revisions the conforming fake speaks, as `server/discover` lists them.
const SPOKEN: [&str; 3] = ["2026-07-28", "2025-11-25", "2025-06-18"];

/// Every check id, in report order.
const IDS: [&str; 19] = [
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
    "protocol-versions",
    "insufficient-scope",
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
    /// Answers a call lacking a scope with 401 `invalid_token`.
    scope_401: bool,
    /// Answers a call lacking a scope with 403 but no `scope`.
    scope_403_without_scope: bool,
    /// Runs a tool whatever the token's scopes.
    scopes_not_enforced: bool,
    /// Knows no `server/discover`: only the `initialize` revisions.
    legacy_only: bool,
    /// Refuses `initialize`: only the stateless revision.
    modern_only: bool,
    /// Serves the endpoint at `/mcp/` and redirects `/mcp` there.
    slash_redirect: bool,
    /// Redirects the endpoint to another origin.
    foreign_redirect: bool,
}

/// What the fake server saw: sessions opened (with their version) and closed.
#[derive(Default)]
struct Seen {
    sessions: HashMap<String, String>,
    opened: Vec<String>,
    closed: Vec<String>,
}

/// A fake MCP server with Scalekit-like metadata, on an ephemeral port.
struct Fake {
    server: Loopback,
    seen: Arc<Mutex<Seen>>,
}

impl Fake {
    fn start(faults: Faults) -> Fake {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let server = {
            let seen = Arc::clone(&seen);
            Loopback::serve(move |request, base| handle(request, base, &faults, &seen))
        };
        Fake { server, seen }
    }

    fn url(&self) -> String {
        self.server.url("/mcp")
    }
}

type Answer = Response<std::io::Cursor<Vec<u8>>>;

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap()
}

fn json_response(status: u16, value: &Value) -> Answer {
    Response::from_string(value.to_string())
        .with_status_code(status)
        .with_header(header("Content-Type", "application/json"))
}

fn request_header(request: &Request, name: &str) -> Option<String> {
    request
        .headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str().to_string())
}

fn handle(mut request: Request, base: &str, faults: &Faults, seen: &Mutex<Seen>) {
    let get = |request: &Request, name: &str| request_header(request, name);
    let issuer = format!("{base}/resources/res_1");
    let metadata_url = format!("{base}/.well-known/oauth-protected-resource/mcp");
    let mut path = request.url().to_string();
    let is_endpoint = matches!(
        request.method(),
        Method::Post | Method::Options | Method::Delete
    );
    if is_endpoint && path == "/mcp" && faults.slash_redirect {
        let _ = request.respond(
            Response::from_string("")
                .with_status_code(308)
                .with_header(header("Location", "/mcp/")),
        );
        return;
    }
    if is_endpoint && path == "/mcp" && faults.foreign_redirect {
        let _ = request.respond(
            Response::from_string("")
                .with_status_code(307)
                .with_header(header("Location", "https://elsewhere.example/mcp")),
        );
        return;
    }
    if path == "/mcp/" && faults.slash_redirect {
        path = "/mcp".to_string();
    }
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
                Some(GOOD | LIMITED) => true,
                Some(WRONG_AUDIENCE) => faults.accept_wrong_audience,
                Some(_) => false,
            };
            if accepted {
                mcp(
                    &request,
                    &body,
                    faults,
                    token == Some(LIMITED),
                    seen,
                    &metadata_url,
                )
            } else {
                let challenge = match token {
                    // Echoes the token, so the tests see that `check` redacts it.
                    Some(token) => format!(
                        r#"Bearer error="invalid_token", error_description="audience mismatch for {token}", resource_metadata="{metadata_url}""#
                    ),
                    None if faults.error_without_credentials => format!(
                        r#"Bearer error="invalid_token", resource_metadata="{metadata_url}", scope="todo:read todo:write""#
                    ),
                    None if faults.no_scope => {
                        format!(r#"Bearer resource_metadata="{metadata_url}""#)
                    }
                    None => format!(
                        r#"Bearer resource_metadata="{metadata_url}", scope="todo:read todo:write""#
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
            if matches!(
                get(&request, "Authorization").as_deref(),
                Some(a) if a == format!("Bearer {GOOD}") || a == format!("Bearer {LIMITED}")
            ) =>
        {
            seen.lock()
                .unwrap()
                .closed
                .extend(get(&request, "Mcp-Session-Id"));
            Response::from_string("").with_status_code(200)
        }
        _ => Response::from_string("not found").with_status_code(404),
    };
    let _ = request.respond(response);
}

/// A Streamable HTTP endpoint: SSE answers and a session per `initialize`,
/// unless `json_answers`; `server/discover` for the stateless revision.
/// Refuses with 400 what a well-behaved client would not send.
fn mcp(
    request: &Request,
    body: &str,
    faults: &Faults,
    limited: bool,
    seen: &Mutex<Seen>,
    metadata_url: &str,
) -> Answer {
    let get = |name: &str| request_header(request, name);
    let bad = |why: &str| Response::from_string(why.to_string()).with_status_code(400);
    let accept = get("Accept").unwrap_or_default();
    if !(accept.contains("application/json") && accept.contains("text/event-stream")) {
        return bad("Accept must list application/json and text/event-stream");
    }
    let Ok(message) = serde_json::from_str::<Value>(body) else {
        return bad("not JSON");
    };
    let method = message["method"].as_str().unwrap_or_default();
    let version = get("MCP-Protocol-Version");
    let mut session = None;
    match method {
        "initialize" if faults.modern_only => {
            return bad("initialize is not part of 2026-07-28; use server/discover");
        }
        "initialize" => {}
        "server/discover" if faults.legacy_only => {
            return json_response(
                200,
                &json!({"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32601, "message": "Method not found"}}),
            );
        }
        "server/discover" => {
            let meta = &message["params"]["_meta"];
            if version.as_deref() != Some(SPOKEN[0])
                || meta["io.modelcontextprotocol/protocolVersion"] != SPOKEN[0]
                || !meta["io.modelcontextprotocol/clientCapabilities"].is_object()
                || get("Mcp-Method").as_deref() != Some("server/discover")
            {
                return bad("server/discover needs the 2026-07-28 headers and _meta");
            }
        }
        _ if faults.json_answers => {
            if version.as_deref().is_none_or(|v| !SPOKEN.contains(&v)) {
                return bad("MCP-Protocol-Version missing or unknown");
            }
        }
        _ => {
            let id = get("Mcp-Session-Id").unwrap_or_default();
            let negotiated = seen.lock().unwrap().sessions.get(&id).cloned();
            match negotiated {
                Some(negotiated) if version.as_ref() == Some(&negotiated) => {}
                Some(_) => return bad("MCP-Protocol-Version is not the negotiated one"),
                None => return bad("Mcp-Session-Id missing or unknown"),
            }
        }
    }
    let result = match method {
        "initialize" => {
            let offered = message["params"]["protocolVersion"]
                .as_str()
                .unwrap_or_default();
            let answered = if SPOKEN[1..].contains(&offered) {
                offered
            } else {
                SPOKEN[1]
            };
            if !faults.json_answers {
                let mut seen = seen.lock().unwrap();
                let id = format!("session-{}", seen.opened.len() + 1);
                seen.sessions.insert(id.clone(), answered.to_string());
                seen.opened.push(id.clone());
                session = Some(id);
            }
            json!({
                "protocolVersion": answered,
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "fake-todo", "version": "1.0.0"},
            })
        }
        "server/discover" => json!({
            "resultType": "complete",
            "supportedVersions": SPOKEN,
            "capabilities": {"tools": {}},
            "ttlMs": 0,
            "cacheScope": "private",
        }),
        "notifications/initialized" => return Response::from_string("").with_status_code(202),
        "tools/list" => json!({"tools": [
            {"name": "list_todos", "inputSchema": {"type": "object"}},
            {"name": "create_todo", "inputSchema": {"type": "object"}},
        ]}),
        "tools/call" => {
            let tool = message["params"]["name"].as_str().unwrap_or_default();
            if limited && tool == "create_todo" && !faults.scopes_not_enforced {
                return step_up(faults, metadata_url);
            }
            json!({"content": [{"type": "text", "text": format!("{tool} ran")}]})
        }
        _ => return bad("unknown method"),
    };
    let answer = json!({"jsonrpc": "2.0", "id": message["id"], "result": result});
    if faults.json_answers || method == "server/discover" {
        return json_response(200, &answer);
    }
    // A progress notification first, so the client must find its answer.
    let stream = format!(
        "event: message\ndata: {}\n\nevent: message\ndata: {answer}\n\n",
        json!({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": "hi"}})
    );
    let mut response = Response::from_string(stream)
        .with_status_code(200)
        .with_header(header("Content-Type", "text/event-stream"));
    if let Some(session) = session {
        response = response.with_header(header("Mcp-Session-Id", &session));
    }
    response
}

/// The answer to a call the limited token lacks `todo:write` for.
fn step_up(faults: &Faults, metadata_url: &str) -> Answer {
    let (status, challenge) = if faults.scope_401 {
        (
            401,
            format!(r#"Bearer error="invalid_token", resource_metadata="{metadata_url}""#),
        )
    } else if faults.scope_403_without_scope {
        (
            403,
            format!(r#"Bearer error="insufficient_scope", resource_metadata="{metadata_url}""#),
        )
    } else {
        (
            403,
            format!(
                r#"Bearer error="insufficient_scope", scope="todo:read todo:write", resource_metadata="{metadata_url}""#
            ),
        )
    };
    Response::from_string("")
        .with_status_code(status)
        .with_header(header("WWW-Authenticate", &challenge))
}

/// Every token and option, as a user who wants every row would give them.
fn options(url: &str) -> Options {
    Options {
        url: Url::parse(url).unwrap(),
        token: Some(Secret::new(GOOD)),
        wrong_audience_token: Some(Secret::new(WRONG_AUDIENCE)),
        origin: Some(APP.to_string()),
        limited_token: Some(Secret::new(LIMITED)),
        tool: Some("create_todo".to_string()),
        tool_arguments: Map::from_iter([("title".to_string(), json!("x"))]),
        timeout: Duration::from_secs(5),
        answers: None,
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

fn reason(report: &Report, id: CheckId) -> &str {
    &report
        .get(id)
        .unwrap_or_else(|| panic!("no check {id} in {report:#?}"))
        .reason
}

/// The JSON report of the CLI, with its exit code.
fn cli_json(args: &[&str]) -> (Value, Option<i32>) {
    cli_json_env(args, &[])
}

/// [`cli_json`] with environment variables set.
fn cli_json_env(args: &[&str], env: &[(&str, &str)]) -> (Value, Option<i32>) {
    let output = cmd()
        .arg("check")
        .args(args)
        .arg("--json")
        .envs(env.iter().copied())
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
