//! What operators rely on: request ids, readiness, and the client address
//! behind trusted proxies. The logs themselves are in `tests/logs.rs`.

mod common;

use std::time::Duration;

use common::{Jwks, KEYS, TestServer, http};
use mcp_server::{app, config::Config, server};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::net::TcpListener;

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

/// Statuses of `count` invalid tokens, each sent with the headers `headers`
/// makes of its number.
async fn forged_with<'a>(
    server: &TestServer,
    count: usize,
    headers: impl Fn(usize) -> Vec<(&'a str, String)>,
) -> Vec<StatusCode> {
    let mut statuses = Vec::new();
    for i in 0..count {
        let mut request = server.post(Some("forged"), None).body("{}");
        for (name, value) in headers(i) {
            request = request.header(name, value);
        }
        statuses.push(request.send().await.unwrap().status());
    }
    statuses
}

/// Statuses of invalid tokens sent with `X-Forwarded-For: <forwarded>`.
async fn forged_from(server: &TestServer, forwarded: &str, count: usize) -> Vec<StatusCode> {
    forged_with(server, count, |_| {
        vec![("x-forwarded-for", forwarded.to_owned())]
    })
    .await
}

const LIMITED: [StatusCode; 3] = [
    StatusCode::UNAUTHORIZED,
    StatusCode::UNAUTHORIZED,
    StatusCode::TOO_MANY_REQUESTS,
];

/// A server trusting the loopback proxy, limiting at 2 invalid tokens.
async fn behind_a_proxy() -> TestServer {
    TestServer::start_with(|config| {
        config.auth_failures_per_minute = 2;
        config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await
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
    let server = behind_a_proxy().await;
    assert_eq!(forged_from(&server, "203.0.113.1", 3).await, LIMITED);
    // Another client behind the same proxy is not limited.
    assert_eq!(
        forged_from(&server, "203.0.113.2", 1).await,
        [StatusCode::UNAUTHORIZED]
    );
}

#[tokio::test]
async fn the_addresses_of_one_ipv6_64_share_one_budget() {
    let server = behind_a_proxy().await;
    let statuses = forged_with(&server, 8, |i| {
        vec![("x-forwarded-for", format!("2001:db8:1:2::{:x}", i + 1))]
    })
    .await;
    assert_eq!(statuses[..3], LIMITED);
    assert!(
        statuses[3..]
            .iter()
            .all(|status| *status == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    // The next /64 is another client.
    assert_eq!(
        forged_from(&server, "2001:db8:1:3::1", 1).await,
        [StatusCode::UNAUTHORIZED]
    );
}

/// The proxy wrote `Forwarded`; a client that adds an `X-Forwarded-For` of
/// its own, new each time, does not get a budget each time.
#[tokio::test]
async fn when_the_forwarded_headers_disagree_the_peer_is_counted() {
    let server = behind_a_proxy().await;
    let statuses = forged_with(&server, 3, |i| {
        vec![
            ("forwarded", "for=203.0.113.1".to_owned()),
            ("x-forwarded-for", format!("198.51.100.{i}")),
        ]
    })
    .await;
    assert_eq!(statuses, LIMITED);
}

/// A nearest `Forwarded` element without `for=` says nothing of the
/// client; what further elements say is not believed.
#[tokio::test]
async fn a_nearest_forwarded_element_without_for_leaves_the_peer() {
    let server = behind_a_proxy().await;
    let statuses = forged_with(&server, 3, |i| {
        vec![("forwarded", format!("for=198.51.100.{i}, proto=https"))]
    })
    .await;
    assert_eq!(statuses, LIMITED);
}

/// A server listening on IPv6 sees IPv4 peers as `::ffff:a.b.c.d`: still
/// the IPv4 proxy it trusts.
#[tokio::test]
async fn an_ipv4_proxy_is_trusted_when_it_comes_ipv4_mapped() {
    let jwks = Jwks::start(&[&KEYS[0]]).await;
    // IPv4 loopback, on an IPv6 socket.
    let listener = TcpListener::bind("[::ffff:127.0.0.1]:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut config = Config::defaults();
    config.listen_addr = listener.local_addr().unwrap();
    config.jwks_url = jwks.url.clone();
    config.auth_failures_per_minute = 2;
    config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    let app = app::build(&config).expect("app builds");
    tokio::spawn(server::run(listener, app, std::future::pending()));
    let server = TestServer {
        base: format!("http://127.0.0.1:{port}"),
        config,
        jwks,
        http: http(),
    };
    assert_eq!(forged_from(&server, "203.0.113.1", 3).await, LIMITED);
    assert_eq!(
        forged_from(&server, "203.0.113.2", 1).await,
        [StatusCode::UNAUTHORIZED]
    );
}
