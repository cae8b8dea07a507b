//! Logs, in their own test binary: a test captures them with a subscriber of
//! its thread, so no other test may run beside it (tracing caches which
//! events are enabled across threads).

mod common;

use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::Duration,
};

use common::{KEYS, TestServer, claims, now, token};
use mcp_server::{
    logs::{self, LogFormat},
    scopes,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
    time::timeout,
};
use tracing_subscriber::EnvFilter;

/// One capturing test at a time.
static CAPTURE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Log lines written while `body` runs, in `format`.
async fn captured_logs(format: LogFormat, body: impl AsyncFnOnce()) -> String {
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let _one_at_a_time = CAPTURE.lock().await;
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = logs::subscriber(
        format,
        EnvFilter::new("info"),
        move || writer.clone(),
        false,
        None,
    );
    // The test runtime runs every task on this thread, the server's included.
    let _guard = tracing::subscriber::set_default(subscriber);
    body().await;
    String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap()
}

#[test]
fn the_log_format_is_json_unless_on_a_terminal_or_asked() {
    assert_eq!(LogFormat::from_env(None, false), Ok(LogFormat::Json));
    assert_eq!(LogFormat::from_env(None, true), Ok(LogFormat::Text));
    assert_eq!(
        LogFormat::from_env(Some("text"), false),
        Ok(LogFormat::Text)
    );
    assert_eq!(LogFormat::from_env(Some("json"), true), Ok(LogFormat::Json));
    assert!(
        LogFormat::from_env(Some("xml"), false)
            .unwrap_err()
            .starts_with("MCP_LOG_FORMAT")
    );
}

#[tokio::test]
async fn json_log_lines_carry_the_request_id_and_never_the_token() {
    let valid = token("");
    let mut expired = claims("");
    expired["exp"] = json!(now() - 3600);
    let expired = KEYS[0].sign(&expired);
    let logs = captured_logs(LogFormat::Json, async || {
        let server = TestServer::start().await;
        server.initialize(&valid).await;
        let refused = server
            .post(Some(&expired), None)
            .header("x-request-id", "req-42")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(refused.headers()["x-request-id"], "req-42");
    })
    .await;
    let lines: Vec<Value> = logs
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let refusal = lines
        .iter()
        .find(|line| line["message"] == "request refused")
        .unwrap_or_else(|| panic!("no refusal logged:\n{logs}"));
    assert_eq!(refusal["span"]["request_id"], "req-42", "{refusal}");
    assert_eq!(refusal["status"], 401, "{refusal}");
    assert_eq!(refusal["level"], "WARN", "{refusal}");
    assert!(refusal["reason"].is_string(), "{refusal}");
    assert!(refusal["timestamp"].is_string(), "{refusal}");
    assert!(
        !logs.contains(&valid) && !logs.contains(&expired),
        "a token was logged"
    );
}

/// A client value with a line break, a carriage return, an escape sequence,
/// NUL, C1's next line and Unicode's line separator; the rest would pass for
/// a line of its own.
const FORGED: &str =
    "x\r\n2026-01-01T00:00:00Z  INFO forged: admin logged in\u{1b}[2J\0\u{85}\u{2028}";

/// Sends [`FORGED`] everywhere a client can: as its `sub`, a JSON-RPC id
/// (which rmcp logs as it is, on an error), a tool name, and in the Host,
/// Origin, path and request id of raw requests.
async fn send_forged_values(server: &TestServer) {
    let mut claims = claims(&scopes::supported().collect::<Vec<_>>().join(" "));
    claims["sub"] = json!(FORGED);
    let token = KEYS[0].sign(&claims);
    let session = server.initialize(&token).await;
    // A method this server does not serve: rmcp answers with an error and logs it.
    let reply = server
        .rpc(
            &token,
            session.as_deref(),
            json!({"jsonrpc": "2.0", "id": FORGED, "method": "prompts/get", "params": {"name": "x"}}),
        )
        .await;
    assert_eq!(reply.message.unwrap()["id"], json!(FORGED));
    server
        .call_tool(&token, session.as_deref(), FORGED, json!({}))
        .await;
    // What HTTP lets through: obs-text bytes (here C1's next line, U+0085) in
    // Host and Origin; the others, in a request line or a header, get 400
    // from hyper before anything is logged.
    let path = &server.config.mcp_path;
    let raw = [
        "POST /mcp HTTP/1.1\r\nHost: a\u{85}b\r\nConnection: close\r\n\r\n",
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://a\u{85}b\r\nConnection: close\r\n\r\n",
        "GET /healthz%0A2026-01-01%1B%00 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        "GET /healthz\u{1b}[2J HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: a\u{1b}[2J\r\nConnection: close\r\n\r\n",
    ];
    for request in raw {
        send_raw(server, &request.replace("/mcp", path)).await;
    }
}

/// Writes `request` on a connection of its own and reads the answer.
async fn send_raw(server: &TestServer, request: &str) {
    let mut stream = TcpStream::connect(server.config.listen_addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
}

/// Whether `line` holds a character that breaks or corrupts a line.
fn has_raw_control(line: &str) -> bool {
    line.contains(|c: char| c.is_control() || c == '\u{2028}')
}

#[tokio::test]
async fn client_values_cannot_forge_or_corrupt_a_text_line() {
    let logs = captured_logs(LogFormat::Text, async || {
        send_forged_values(&TestServer::start().await).await;
    })
    .await;
    for line in logs.lines() {
        assert!(!line.starts_with("2026-01-01"), "forged line:\n{logs}");
        assert!(!has_raw_control(line), "raw control character:\n{logs:?}");
    }
    let escaped = r"x\r\n2026-01-01T00:00:00Z  INFO forged: admin logged in\u{1b}[2J";
    let lines_with = |text: &str| logs.lines().filter(|line| line.contains(text)).count();
    // The `sub` of the refused tool call, quoted by tracing; rmcp's line with
    // the id, which it writes unquoted.
    assert!(lines_with(&format!("sub=\"{escaped}")) >= 1, "{logs}");
    assert_eq!(lines_with(&format!("id={escaped}")), 1, "{logs}");
    assert_eq!(lines_with("host not allowed"), 1, "{logs}");
    assert_eq!(lines_with("origin not allowed"), 1, "{logs}");
}

#[tokio::test]
async fn client_values_cannot_forge_or_corrupt_a_json_line() {
    let logs = captured_logs(LogFormat::Json, async || {
        send_forged_values(&TestServer::start().await).await;
    })
    .await;
    let mut lines = Vec::new();
    for line in logs.lines() {
        assert!(!has_raw_control(line), "raw control character:\n{logs:?}");
        let line: Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}\n{logs}"));
        lines.push(line);
    }
    // Each value whole, in its own field.
    assert!(lines.iter().any(|line| line["sub"] == FORGED), "{logs}");
    assert!(lines.iter().any(|line| line["id"] == FORGED), "{logs}");
}

#[tokio::test]
async fn client_values_are_escaped_in_their_own_field() {
    let logs = captured_logs(LogFormat::Text, async || {
        let server = TestServer::start().await;
        let mut claims = claims("");
        claims["sub"] = json!(FORGED);
        let token = KEYS[0].sign(&claims);
        let session = server.initialize(&token).await;
        server
            .call_tool(&token, session.as_deref(), FORGED, json!({}))
            .await;
    })
    .await;
    // One line for the refusal: the tool named only as unknown, the forged
    // `sub` kept whole inside its quotes, its line break escaped.
    let refused: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("request refused"))
        .collect();
    assert_eq!(refused.len(), 1, "{logs}");
    assert!(refused[0].contains(r#"tool="unknown""#), "{logs}");
    assert!(refused[0].contains(r#"sub="x\r\n2026-01-01"#), "{logs}");
}
