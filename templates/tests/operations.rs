//! What operators rely on: request ids, readiness, and the client address
//! behind trusted proxies. The logs themselves are in `tests/logs.rs`.

mod common;

use std::time::Duration;

use common::{Jwks, KEYS, TestServer};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn a_request_id_is_generated_unless_a_well_formed_one_comes() {
    let server = TestServer::start().await;
    let id = |response: &reqwest::Response| {
        response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned()
    };
    let generated = server
        .http
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(id(&generated).len(), 36, "a UUID");
    let kept = server
        .http
        .get(server.url("/healthz"))
        .header("x-request-id", "trace-1")
        .send()
        .await
        .unwrap();
    assert_eq!(id(&kept), "trace-1");
    let replaced = server
        .http
        .get(server.url("/healthz"))
        .header("x-request-id", "has spaces")
        .send()
        .await
        .unwrap();
    assert_ne!(id(&replaced), "has spaces");
}

#[tokio::test]
async fn readyz_waits_for_the_signing_keys() {
    let jwks = Jwks::start(&[&KEYS[0]]).await;
    jwks.set_up(false);
    let server = TestServer::start_with_jwks(jwks, |config| {
        config.jwks_refresh_interval = Duration::from_millis(100);
    })
    .await;
    let ready = || server.http.get(server.url("/readyz")).send();
    let not_ready = ready().await.unwrap();
    assert_eq!(not_ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = not_ready.json().await.unwrap();
    assert_eq!(body["status"], "not_ready");
    assert!(body["reason"].is_string());

    server.jwks.set_up(true);
    let mut status = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..100 {
        status = ready().await.unwrap().status();
        if status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, StatusCode::OK);
}

/// Statuses of invalid tokens sent with `X-Forwarded-For: <forwarded>`.
async fn forged_from(server: &TestServer, forwarded: &str, count: usize) -> Vec<StatusCode> {
    let mut statuses = Vec::new();
    for _ in 0..count {
        let response = server
            .post(Some("forged"), None)
            .header("x-forwarded-for", forwarded)
            .body("{}")
            .send()
            .await
            .unwrap();
        statuses.push(response.status());
    }
    statuses
}

#[tokio::test]
async fn an_untrusted_peers_forwarded_for_changes_nothing() {
    let server = TestServer::start_with(|config| config.auth_failures_per_minute = 2).await;
    forged_from(&server, "203.0.113.1", 2).await;
    // Every request counted for the peer, whatever it claimed.
    assert_eq!(
        forged_from(&server, "203.0.113.2", 1).await,
        [StatusCode::TOO_MANY_REQUESTS]
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_limiter_counts_each_client() {
    let server = TestServer::start_with(|config| {
        config.auth_failures_per_minute = 2;
        config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    assert_eq!(
        forged_from(&server, "203.0.113.1", 3).await,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    // Another client behind the same proxy is not limited.
    assert_eq!(
        forged_from(&server, "203.0.113.2", 1).await,
        [StatusCode::UNAUTHORIZED]
    );
}
