//! Hostile clients: slow headers, bodies and readers, connection floods,
//! oversized headers, bodies and messages, refusals on reused connections,
//! forged tokens from a shared address, and token tricks. Session floods are
//! in `tests/sessions.rs`, log forging in `tests/logs.rs`.

mod common;

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    time::Duration,
};

use common::{KEYS, TestServer, USER, claims, token};
use mcp_server::{
    auth::TokenValidator,
    config::Config,
    gate::{BODY_BUDGET_BYTES, MAX_BODY_BYTES, MAX_JSON_VALUES},
};
use reqwest::StatusCode;
use serde_json::{Value, json};

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

/// Reads one response (head and `Content-Length` body); its head, lower-cased,
/// or what arrived before the connection closed or the read timed out.
fn read_response(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buffer = [0; 4096];
    loop {
        if let Some(end) = received.windows(4).position(|window| window == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&received[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .map_or(0, |length| length.trim().parse().unwrap());
            if received.len() >= end + 4 + length {
                return head;
            }
        }
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return String::from_utf8_lossy(&received).to_ascii_lowercase(),
            Ok(read) => received.extend_from_slice(&buffer[..read]),
        }
    }
}

/// The head of a POST to the MCP endpoint declaring `length` bytes of body.
fn post_head(path: &str, token: Option<&str>, length: usize) -> String {
    let authorization = token
        .map(|token| format!("Authorization: Bearer {token}\r\n"))
        .unwrap_or_default();
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{authorization}\
         Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n\
         Content-Length: {length}\r\n\r\n"
    )
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
async fn a_client_that_does_not_read_loses_its_connection_and_frees_its_slot() {
    let server = TestServer::start_with(|config| {
        config.max_connections = 3;
        config.write_timeout = Duration::from_secs(1);
        // Long, so that only the write deadline can free the slots.
        config.header_timeout = Duration::from_secs(300);
    })
    .await;
    let addr = server.config.listen_addr;
    // Three connections take every slot, each pipelining requests for
    // answers it never reads, until the server stops taking them.
    let mut stalled = Vec::new();
    for _ in 0..3 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let stream = socket.connect(addr).await.unwrap().into_std().unwrap();
        stream.set_nonblocking(false).unwrap();
        stalled.push(tokio::task::spawn_blocking(move || {
            let mut stream = stream;
            stream
                .set_write_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let request =
                "GET /.well-known/oauth-protected-resource HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
            let _ = stream.write_all(request.repeat(20_000).as_bytes());
            stream
        }));
    }
    let mut stalled_streams = Vec::new();
    for flood in stalled {
        stalled_streams.push(flood.await.unwrap());
    }

    // A new connection is served once the server gives up on one of them.
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = connect(addr, Duration::from_secs(30));
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .unwrap();
        read_all(&mut stream)
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    drop(stalled_streams);
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
async fn headers_over_32_kib_get_431_as_soon_as_that_much_has_arrived() {
    // Long, so that only the size limit can end the request.
    let server =
        TestServer::start_with(|config| config.header_timeout = Duration::from_secs(300)).await;
    let addr = server.config.listen_addr;
    let send = move |pads: usize, finish: bool| {
        let mut stream = connect(addr, Duration::from_secs(20));
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            .unwrap();
        let pad = format!("X-Pad: {}\r\n", "a".repeat(4000));
        for _ in 0..pads {
            stream.write_all(pad.as_bytes()).unwrap();
        }
        if finish {
            stream.write_all(b"Connection: close\r\n\r\n").unwrap();
        }
        read_all(&mut stream)
    };
    let answers = tokio::task::spawn_blocking(move || {
        // 28 KB of headers are served...
        let served = send(7, true);
        // ...40 KB are refused before the client has even finished them.
        let refused = send(10, false);
        (served, refused)
    })
    .await
    .unwrap();
    assert!(answers.0.starts_with("HTTP/1.1 200"), "{}", answers.0);
    assert!(answers.1.starts_with("HTTP/1.1 431"), "{}", answers.1);
}

/// Connects with a small send buffer, so a body the server does not read
/// soon stops the writer: what a write managed says whether it was read.
async fn connect_small(addr: SocketAddr, write_timeout: Duration) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_send_buffer_size(8192).unwrap();
    let stream = socket.connect(addr).await.unwrap().into_std().unwrap();
    stream.set_nonblocking(false).unwrap();
    stream.set_write_timeout(Some(write_timeout)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
}

/// Writes `bytes` until done or a write times out; how many went out.
fn write_some(stream: &mut TcpStream, bytes: &[u8]) -> usize {
    let mut written = 0;
    while written < bytes.len() {
        match stream.write(&bytes[written..]) {
            Ok(count) => written += count,
            Err(_) => break,
        }
    }
    written
}

#[tokio::test]
async fn large_bodies_past_the_budget_wait_unread_while_small_ones_go_on() {
    let server = TestServer::start().await;
    let addr = server.config.listen_addr;
    let path = server.config.mcp_path.clone();
    let token = token("");
    let body = format!(r#"{{"pad":"{}"}}"#, " ".repeat(MAX_BODY_BYTES - 10));
    let request = format!("{}{body}", post_head(&path, Some(&token), body.len())).into_bytes();
    // Each of these takes 1 MiB of the budget, together all of it, and is
    // read but for its last byte, so none is done.
    let mut held = Vec::new();
    for _ in 0..BODY_BUDGET_BYTES / MAX_BODY_BYTES {
        let mut stream = connect_small(addr, Duration::from_secs(20)).await;
        let request = request.clone();
        held.push(
            tokio::task::spawn_blocking(move || {
                let written = write_some(&mut stream, &request[..request.len() - 1]);
                assert_eq!(
                    written,
                    request.len() - 1,
                    "a body within the budget was not read"
                );
                stream
            })
            .await
            .unwrap(),
        );
    }

    // One more large body waits, unread: its writer is stopped...
    let mut waiting = connect_small(addr, Duration::from_secs(1)).await;
    let (mut waiting, sent) = tokio::task::spawn_blocking({
        let request = request.clone();
        move || {
            let sent = write_some(&mut waiting, &request);
            (waiting, sent)
        }
    })
    .await
    .unwrap();
    assert!(sent < request.len(), "a body past the budget was read");
    // ...while a small message is served at once.
    assert!(server.initialize(&token).await.is_some());

    // Once a held body is done, the waiting one is read and answered.
    held[0].write_all(b"}").unwrap();
    let answer = tokio::task::spawn_blocking(move || {
        waiting
            .set_write_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        waiting.write_all(&request[sent..]).unwrap();
        read_response(&mut waiting)
    })
    .await
    .unwrap();
    assert!(answer.starts_with("http/1.1 "), "{answer:?}");
}

#[tokio::test]
async fn a_message_of_more_than_10000_json_values_is_refused_before_it_is_parsed() {
    let server = TestServer::start_with(|config| config.stateless = true).await;
    let token = token("");
    // The message, its `jsonrpc`, `id`, `method`, `params`, `pad` and the zeros.
    let ping = |zeros: usize| json!({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": vec![0; zeros]}});
    let at_the_limit = server.rpc(&token, None, ping(MAX_JSON_VALUES - 6)).await;
    assert_eq!(at_the_limit.status, StatusCode::OK);
    let over = server.rpc(&token, None, ping(MAX_JSON_VALUES - 5)).await;
    assert_eq!(over.status, StatusCode::BAD_REQUEST);
    let error = &over.message.expect("a JSON-RPC error")["error"];
    assert_eq!(error["code"], -32600, "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("10000 JSON values"),
        "{error}"
    );

    // A megabyte of tiny values, as an attacker would send it.
    let mut flood = r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":[0"#.to_owned();
    flood.push_str(&",0".repeat(500_000));
    flood.push_str("]}}");
    let refused = server
        .post(Some(&token), None)
        .body(flood)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32600, "{body}");
}

#[tokio::test]
async fn a_refusal_before_the_body_is_read_keeps_the_connection_or_says_close() {
    let server = TestServer::start().await;
    let addr = server.config.listen_addr;
    let path = server.config.mcp_path.clone();
    let (first, second, large) = tokio::task::spawn_blocking(move || {
        // A small body, sent a moment after its head: the 401 is ready before
        // the body is there.
        let mut stream = connect(addr, Duration::from_secs(20));
        let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
        stream
            .write_all(post_head(&path, None, body.len()).as_bytes())
            .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        // Write errors show as a missing answer below.
        let _ = stream.write_all(body.as_bytes());
        let first = read_response(&mut stream);
        // The same connection carries the next request.
        let _ = stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        let second = read_response(&mut stream);

        // A large body is not read: the 401 says the connection closes, and it does.
        let mut stream = connect(addr, Duration::from_secs(20));
        stream
            .write_all(post_head(&path, None, MAX_BODY_BYTES).as_bytes())
            .unwrap();
        let large = read_response(&mut stream);
        let closed = matches!(stream.read(&mut [0; 1]), Ok(0) | Err(_));
        (first, second, (large, closed))
    })
    .await
    .unwrap();
    assert!(first.starts_with("http/1.1 401"), "{first}");
    assert!(!first.contains("connection: close"), "{first}");
    assert!(second.starts_with("http/1.1 200"), "{second}");
    let (large, closed) = large;
    assert!(large.starts_with("http/1.1 401"), "{large}");
    assert!(large.contains("connection: close"), "{large}");
    assert!(closed);
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
