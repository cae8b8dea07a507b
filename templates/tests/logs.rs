//! Logs, in their own test binary: a test captures them with a subscriber of
//! its thread, so no other test may run beside it (tracing caches which
//! events are enabled across threads).

mod common;

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use common::{KEYS, TestServer, claims, now, token};
use mcp_server::logs::{self, LogFormat};
use reqwest::StatusCode;
use serde_json::{Value, json};
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

#[tokio::test]
async fn client_values_cannot_forge_or_corrupt_a_log_line() {
    let forged =
        "x\n2026-01-01T00:00:00Z INFO tool call tool=admin sub=admin outcome=ok\u{1b}[2J\0";
    let logs = captured_logs(LogFormat::Text, async || {
        let server = TestServer::start().await;
        let mut claims = claims("");
        claims["sub"] = json!(forged);
        let token = KEYS[0].sign(&claims);
        let session = server.initialize(&token).await;
        server
            .call_tool(&token, session.as_deref(), forged, json!({}))
            .await;
    })
    .await;
    for line in logs.lines() {
        assert!(!line.starts_with("2026-01-01"), "forged line:\n{logs}");
        assert!(
            !line.contains(['\u{1b}', '\0']),
            "raw control byte:\n{logs}"
        );
    }
    // One line for the refusal: the tool named only as unknown, the forged
    // `sub` kept whole inside its quotes, its line break escaped.
    let refused: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("request refused"))
        .collect();
    assert_eq!(refused.len(), 1, "{logs}");
    assert!(refused[0].contains(r#"tool="unknown""#), "{logs}");
    assert!(refused[0].contains(r#"sub="x\n2026-01-01"#), "{logs}");
}
