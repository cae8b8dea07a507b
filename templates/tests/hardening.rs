//! Hostile clients: slow headers and bodies, connection and session floods,
//! forged tokens from a shared address, and token tricks. Log forging is in
//! `tests/logs.rs`.

mod common;

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    time::Duration,
};

use common::{KEYS, TestServer, USER, claims, initialize_request, token};
use mcp_server::{auth::TokenValidator, config::Config};
use reqwest::StatusCode;
use serde_json::json;

/// Opens a raw connection to the server, with a read timeout.
fn connect(addr: SocketAddr, read_timeout: Duration) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(read_timeout)).unwrap();
    stream
}

/// Reads until the server closes the connection or the read times out.
fn read_all(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off_while_others_are_served() {
    let server =
        TestServer::start_with(|config| config.header_timeout = Duration::from_secs(1)).await;
    let addr = server.config.listen_addr;
    let slow = tokio::task::spawn_blocking(move || {
        let mut stream = connect(addr, Duration::from_secs(20));
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            .unwrap();
        let started = std::time::Instant::now();
        let answer = read_all(&mut stream);
        (started.elapsed(), answer)
    });
    let response = server
        .http
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (held, answer) = slow.await.unwrap();
    // Closed by the server (after hyper's 408), long before the client gave up.
    assert!(held < Duration::from_secs(15), "held for {held:?}");
    assert!(!answer.contains("200 OK"), "{answer}");
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_gets_408() {
    let server =
        TestServer::start_with(|config| config.body_timeout = Duration::from_secs(1)).await;
    let addr = server.config.listen_addr;
    let path = server.config.mcp_path.clone();
    let token = token("");
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = connect(addr, Duration::from_secs(20));
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"jsonrpc\""
        );
        stream.write_all(head.as_bytes()).unwrap();
        read_all(&mut stream)
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test]
async fn past_the_connection_cap_new_connections_wait_and_open_ones_keep_working() {
    let server = TestServer::start_with(|config| config.max_connections = 3).await;
    let addr = server.config.listen_addr;
    // One connection in use by a client, kept alive by its pool.
    let first = server
        .http
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    // Two silent connections fill the cap.
    let silent: Vec<TcpStream> = (0..2)
        .map(|_| connect(addr, Duration::from_secs(1)))
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;

    // The open connection is still served.
    let again = server
        .http
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);

    // A new one waits, unanswered, while the cap is reached...
    let waiting = tokio::task::spawn_blocking(move || {
        let mut stream = connect(addr, Duration::from_millis(500));
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .unwrap();
        let early = read_all(&mut stream);
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        (early, stream)
    });
    let (early, mut stream) = waiting.await.unwrap();
    assert_eq!(early, "", "answered past the cap");
    // ...and is served once a connection closes.
    drop(silent);
    let answer = tokio::task::spawn_blocking(move || read_all(&mut stream))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn a_limited_address_still_gets_in_with_a_valid_token() {
    let server = TestServer::start_with(|config| config.auth_failures_per_minute = 2).await;
    for expected in [
        StatusCode::UNAUTHORIZED,
        StatusCode::UNAUTHORIZED,
        StatusCode::TOO_MANY_REQUESTS,
    ] {
        let response = server
            .post(Some("forged"), None)
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected);
    }
    // The address is limited, yet a valid token is served.
    let session = server.initialize(&token("")).await;
    let reply = server.list_tools(&token(""), session.as_deref()).await;
    assert_eq!(reply.status, StatusCode::OK);
    // Its invalid tokens still get 429.
    let forged = server
        .post(Some("forged"), None)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::TOO_MANY_REQUESTS);
}

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
async fn tokens_with_crit_an_array_iss_or_odd_scope_separators_are_read_strictly() {
    let server = TestServer::start().await;
    let refused = |token: String| {
        let request = server.post(Some(&token), None).body("{}");
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            let challenge = response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(
                challenge.contains(r#"error="invalid_token""#),
                "{challenge}"
            );
        }
    };
    refused(KEYS[0].sign_with(
        |header| header.crit = Some(vec!["exp".to_owned()]),
        &claims(""),
    ))
    .await;
    let mut array_iss = claims("");
    array_iss["iss"] = json!([Config::defaults().environment_url]);
    refused(KEYS[0].sign(&array_iss)).await;

    // Only the space character separates scopes (RFC 6749 section 3.3).
    let validator = TokenValidator::new(&server.config).unwrap();
    let granted = validator
        .validate(&token("one\ttwo three\u{a0}four"))
        .await
        .unwrap();
    assert_eq!(granted.sub, USER);
    assert!(granted.scopes.contains("one\ttwo"), "{:?}", granted.scopes);
    assert!(
        granted.scopes.contains("three\u{a0}four"),
        "{:?}",
        granted.scopes
    );
    assert!(!granted.scopes.contains("two"), "{:?}", granted.scopes);
}
