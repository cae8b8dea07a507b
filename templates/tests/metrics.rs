//! Prometheus metrics: served on their own address only, and they move as
//! requests are refused, keys fetched and tools called. One test in its own
//! binary, since the recorder is process-wide.

mod common;

use common::{TestServer, token};
use mcp_server::{metrics, scopes};
use reqwest::StatusCode;
use serde_json::json;
use tokio::net::TcpListener;

/// The sum of the series of `name` whose labels include every one of `labels`.
fn sum(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|line| {
            labels
                .iter()
                .all(|(key, value)| line.contains(&format!("{key}=\"{value}\"")))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn metrics_are_served_only_on_their_address_and_move() {
    let registry = metrics::install().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/metrics", listener.local_addr().unwrap());
    tokio::spawn(metrics::serve(listener, registry));
    let http = common::http();
    let scrape = || async {
        let response = http.get(&url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.unwrap()
    };
    let before = scrape().await;

    let server = TestServer::start().await;
    let public = server
        .http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), StatusCode::NOT_FOUND);
    let refused = server.post(None, None).body("{}").send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let every_scope: Vec<&str> = scopes::supported().collect();
    let token = token(&every_scope.join(" "));
    let session = server.initialize(&token).await;
    let tool = scopes::TOOL_SCOPES.first().map(|entry| entry.tool);
    if let Some(tool) = tool {
        server
            .call_tool(&token, session.as_deref(), tool, json!({}))
            .await;
    }
    let after = scrape().await;

    let moved = |name: &str, labels: &[(&str, &str)]| {
        sum(&after, name, labels) - sum(&before, name, labels)
    };
    assert_eq!(
        moved("mcp_auth_refusals_total", &[("reason", "missing_token")]),
        1.0,
        "{after}"
    );
    assert!(
        moved(
            "mcp_http_requests_total",
            &[("route", "mcp"), ("status", "401")]
        ) >= 1.0,
        "{after}"
    );
    assert!(
        moved("mcp_jwks_fetches_total", &[("outcome", "ok")]) >= 1.0,
        "{after}"
    );
    assert!(sum(&after, "mcp_jwks_keys", &[]) >= 1.0, "{after}");
    assert!(sum(&after, "mcp_sessions_active", &[]) >= 1.0, "{after}");
    if let Some(tool) = tool {
        assert_eq!(
            moved("mcp_tool_calls_total", &[("tool", tool)]),
            1.0,
            "{after}"
        );
        assert_eq!(
            moved("mcp_tool_call_duration_seconds_count", &[("tool", tool)]),
            1.0,
            "{after}"
        );
    }
    // No label holds the caller's identity.
    assert!(!after.contains(common::USER), "{after}");
}
