//! Session floods: the cap per principal under concurrent `initialize`s, and
//! the cap on the whole server. A client that hangs up is in `tests/gate.rs`.

mod common;

use common::{KEYS, TestServer, claims, initialize_request, token};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_principal_holds_at_most_its_session_cap() {
    let server = TestServer::start_with(|config| config.max_sessions_per_principal = 3).await;
    let token = token("");
    let mut sessions = Vec::new();
    for _ in 0..3 {
        sessions.push(server.initialize(&token).await.expect("a session id"));
    }
    let refused = server
        .post(Some(&token), None)
        .json(&initialize_request())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    // The first session still works, and another principal is not affected.
    let reply = server.list_tools(&token, Some(&sessions[0])).await;
    assert_eq!(reply.status, StatusCode::OK);
    let mut other = claims("");
    other["sub"] = json!("user-2");
    assert!(server.initialize(&KEYS[0].sign(&other)).await.is_some());
}

#[tokio::test]
async fn concurrent_initializes_cannot_race_past_the_cap() {
    let server = TestServer::start_with(|config| config.max_sessions_per_principal = 10).await;
    let token = token("");
    let attempts: Vec<_> = (0..50)
        .map(|_| {
            let request = server.post(Some(&token), None).json(&initialize_request());
            tokio::spawn(request.send())
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.unwrap().unwrap().status());
    }
    let opened = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((opened, refused), (10, 40), "{statuses:?}");
}

#[tokio::test]
async fn the_server_holds_at_most_its_session_cap_whoever_asks() {
    let server = TestServer::start_with(|config| config.max_sessions = 2).await;
    let principal = |sub: &str| {
        let mut claims = claims("");
        claims["sub"] = json!(sub);
        KEYS[0].sign(&claims)
    };
    let first = server.initialize(&principal("user-1")).await.unwrap();
    server.initialize(&principal("user-2")).await.unwrap();
    let refused = server
        .post(Some(&principal("user-3")), None)
        .json(&initialize_request())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "too_many_sessions");

    // Open sessions keep working; one closed makes room.
    let reply = server.list_tools(&principal("user-1"), Some(&first)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let closed = server
        .http
        .delete(server.mcp_url())
        .bearer_auth(principal("user-1"))
        .header("mcp-session-id", &first)
        .header("mcp-protocol-version", "2025-06-18")
        .send()
        .await
        .unwrap();
    assert!(closed.status().is_success(), "{}", closed.status());
    assert!(server.initialize(&principal("user-3")).await.is_some());
}
