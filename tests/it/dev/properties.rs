//! Property tests: whatever a client sends, the stand-in answers with an
//! OAuth error or a page, never a panic or a 5xx; and whatever bytes reach
//! its socket, it keeps serving. Cases are bounded for CI (`PROPTEST_CASES`
//! raises them).

use mcp_oauth_new::dev::standin::{Req, Shared};
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};
use serde_json::json;

use super::{CALLBACK, Config, Env, Pkce, RES, RESOURCE, config, form, store_with_shared_key};

const BASE: &str = "http://127.0.0.1:3001";

/// Cases for one property: `PROPTEST_CASES` when set, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(default)
}

/// Values that reach deep into the endpoints, and any text.
fn value(client_id: String) -> impl Strategy<Value = String> {
    let pkce = Pkce::new();
    prop_oneof![
        Just(client_id),
        Just(CALLBACK.to_owned()),
        Just("http://127.0.0.1:9/oauth/callback".to_owned()),
        Just(RESOURCE.to_owned()),
        Just("S256".to_owned()),
        Just("plain".to_owned()),
        Just("code".to_owned()),
        Just(pkce.challenge),
        Just(pkce.verifier),
        Just("todo:read todo:write".to_owned()),
        Just("authorization_code".to_owned()),
        Just("refresh_token".to_owned()),
        Just("approve".to_owned()),
        Just("deny".to_owned()),
        "[ -~]{0,60}",
        any::<String>(),
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "response_type",
            "client_id",
            "redirect_uri",
            "code_challenge",
            "code_challenge_method",
            "state",
            "resource",
            "scope",
            "grant_type",
            "code",
            "code_verifier",
            "refresh_token",
            "client_secret",
            "form_token",
            "user_id",
            "decision",
        ])
        .prop_map(str::to_owned),
        any::<String>(),
    ]
}

/// `name=value&...`, or any text.
fn encoded(client_id: String) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::collection::vec((name(), value(client_id)), 0..10).prop_map(|pairs| {
            let pairs: Vec<(&str, &str)> =
                pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            form(&pairs)
        }),
        1 => any::<String>(),
    ]
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "/oauth/authorize".to_owned(),
            "/oauth/token".to_owned(),
            "/keys".to_owned(),
            "/.well-known/openid-configuration".to_owned(),
            format!("/.well-known/oauth-authorization-server/resources/{RES}"),
            format!("/resources/{RES}/.well-known/openid-configuration"),
            format!("/api/v1/resources/{RES}/clients:register"),
        ]),
        1 => "/[ -~]{0,40}",
        1 => any::<String>(),
    ]
}

fn body(client_id: String) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        encoded(client_id.clone()).prop_map(String::into_bytes),
        prop::collection::vec((name(), value(client_id)), 0..6).prop_map(|pairs| {
            let mut metadata = json!({ "redirect_uris": [CALLBACK] });
            for (name, value) in pairs {
                metadata[name] = json!(value);
            }
            metadata.to_string().into_bytes()
        }),
        prop::collection::vec(any::<u8>(), 0..256),
    ]
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    let host = prop_oneof![
        4 => Just("127.0.0.1:3001".to_owned()),
        1 => any::<String>(),
    ];
    let content_type = prop_oneof![
        Just("application/x-www-form-urlencoded".to_owned()),
        Just("application/json".to_owned()),
        Just("application/json; charset=utf-8".to_owned()),
        any::<String>(),
    ];
    let other = prop::collection::vec(
        (
            prop_oneof![
                prop::sample::select(vec!["Authorization", "Origin", "Sec-Fetch-Site", "Host"])
                    .prop_map(str::to_owned),
                any::<String>(),
            ],
            prop_oneof![
                Just(BASE.to_owned()),
                Just("Basic ZGV2X3g6eQ==".to_owned()),
                "Basic [A-Za-z0-9+/=]{0,40}",
                any::<String>(),
            ],
        ),
        0..4,
    );
    (host, content_type, other).prop_map(|(host, content_type, other)| {
        let mut headers = vec![
            ("Host".to_owned(), host),
            ("Content-Type".to_owned(), content_type),
        ];
        headers.extend(other);
        headers
    })
}

fn request(client_id: String) -> impl Strategy<Value = Req> {
    let method = prop_oneof![
        4 => prop::sample::select(vec!["GET", "POST", "OPTIONS"]).prop_map(str::to_owned),
        1 => prop::sample::select(vec!["HEAD", "PUT", "DELETE", "PATCH"]).prop_map(str::to_owned),
        1 => any::<String>(),
    ];
    (
        method,
        path(),
        encoded(client_id.clone()),
        headers(),
        body(client_id),
    )
        .prop_map(|(method, path, query, headers, body)| Req {
            method,
            path,
            query,
            headers,
            body,
        })
}

/// The stand-in's state without a socket, with a client registered. CIMD
/// is off: an arbitrary `client_id` must not send it fetching elsewhere.
fn in_process(root: &std::path::Path, approve: bool) -> (Shared, String) {
    let config = Config {
        approve,
        cimd: false,
        ..config()
    };
    let shared = Shared::new(config, BASE.into(), store_with_shared_key(root)).unwrap();
    let registration = Req::new(
        "POST",
        &format!("/api/v1/resources/{RES}/clients:register"),
        vec![
            ("Host".into(), "127.0.0.1:3001".into()),
            ("Content-Type".into(), "application/json".into()),
        ],
        json!({ "redirect_uris": [CALLBACK], "token_endpoint_auth_method": "none" })
            .to_string()
            .into_bytes(),
    );
    let reply = shared.handle(&registration);
    assert_eq!(reply.status, 201);
    let client: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    (shared, client["client_id"].as_str().unwrap().to_owned())
}

#[test]
fn any_request_is_answered_without_a_panic_or_a_5xx() {
    for approve in [true, false] {
        let root = tempfile::tempdir().unwrap();
        let (shared, client_id) = in_process(root.path(), approve);
        let mut runner = TestRunner::new(RunnerConfig::with_cases(cases(256)));
        runner
            .run(&request(client_id), |req| {
                let reply = shared.handle(&req);
                prop_assert!(
                    (200..500).contains(&reply.status),
                    "{} for {req:?}",
                    reply.status
                );
                Ok(())
            })
            .unwrap();
    }
}

/// Bytes a client could write: anything, or something shaped like a request.
fn wire() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2048),
        (
            "[A-Z]{0,8}",
            "[ -~]{0,60}",
            prop::sample::select(vec!["HTTP/1.1", "HTTP/1.0", "HTTP/2", "", "HTTP/9.9"]),
            prop::collection::vec(("[!-9;-~]{0,20}", "[ -~]{0,40}"), 0..6),
            prop::collection::vec(any::<u8>(), 0..512),
        )
            .prop_map(|(method, target, version, headers, body)| {
                let mut bytes = format!("{method} {target} {version}\r\n").into_bytes();
                for (name, value) in headers {
                    bytes.extend(format!("{name}: {value}\r\n").into_bytes());
                }
                bytes.extend(b"\r\n");
                bytes.extend(body);
                bytes
            }),
    ]
}

#[test]
fn any_bytes_on_the_socket_leave_the_standin_serving() {
    let env = Env::start(config());
    let mut runner = TestRunner::new(RunnerConfig::with_cases(cases(48)));
    runner
        .run(&wire(), |bytes| {
            env.raw(&bytes);
            let keys = env.get("/keys");
            prop_assert_eq!(keys.status, 200);
            Ok(())
        })
        .unwrap();
}
