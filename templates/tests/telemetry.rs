//! With the `otel` feature: spans reach an OTLP receiver, continuing the
//! trace context of the `traceparent` header and of a tool call's
//! `_meta.traceparent`, and never carry the token.
#![cfg(feature = "otel")]

mod common;

use std::sync::{Arc, Mutex};

use axum::{Router, body::Bytes, routing::post};
use common::{TestServer, initialize_request, token};
use mcp_server::{
    logs::{self, LogFormat},
    scopes,
    telemetry::Tracing,
};
use serde_json::json;
use tokio::net::TcpListener;
use tracing_subscriber::{EnvFilter, Layer as _};

const HEADER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const META_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";

fn bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[tokio::test]
async fn spans_continue_the_incoming_trace_and_reach_the_collector() {
    // An OTLP/HTTP receiver on loopback that keeps what it is sent.
    let received: Arc<Mutex<Vec<u8>>> = Arc::default();
    let sink = received.clone();
    let collector = Router::new().route(
        "/v1/traces",
        post(move |body: Bytes| {
            sink.lock().unwrap().extend_from_slice(&body);
            async { "" }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/v1/traces", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, collector).await });

    let traces = Tracing::to_endpoint(&endpoint).unwrap();
    let subscriber = logs::subscriber(
        LogFormat::Text,
        EnvFilter::new("info"),
        std::io::sink,
        false,
        Some(traces.layer().boxed()),
    );
    let guard = tracing::subscriber::set_default(subscriber);

    let server = TestServer::start().await;
    let every_scope: Vec<&str> = scopes::supported().collect();
    let token = token(&every_scope.join(" "));
    let initialize = server
        .post(Some(&token), None)
        .header(
            "traceparent",
            format!("00-{HEADER_TRACE}-00f067aa0ba902b7-01"),
        )
        .json(&initialize_request())
        .send()
        .await
        .unwrap();
    assert!(initialize.status().is_success());
    let tool = scopes::TOOL_SCOPES.first().map(|entry| entry.tool);
    if let Some(tool) = tool {
        let session = server.initialize(&token).await;
        server
            .rpc(
                &token,
                session.as_deref(),
                json!({
                    "jsonrpc": "2.0",
                    "id": 2,
                    "method": "tools/call",
                    "params": {
                        "name": tool,
                        "arguments": {},
                        "_meta": { "traceparent": format!("00-{META_TRACE}-b7ad6b7169203331-01") }
                    }
                }),
            )
            .await;
    }
    drop(guard);
    // The exporter sends from its own thread; this one must stay free to
    // run the receiver meanwhile.
    tokio::task::spawn_blocking(move || traces.shutdown())
        .await
        .unwrap();

    let received = received.lock().unwrap().clone();
    assert!(!received.is_empty(), "no spans reached the collector");
    assert!(
        contains(&received, &bytes(HEADER_TRACE)),
        "the header's trace was not continued"
    );
    if tool.is_some() {
        assert!(
            contains(&received, &bytes(META_TRACE)),
            "_meta.traceparent was not continued"
        );
        assert!(contains(&received, b"tool_call"));
    }
    assert!(
        !contains(&received, token.as_bytes()),
        "a token was exported"
    );
}
