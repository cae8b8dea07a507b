//! The resource server's HTTP behaviour: metadata, challenges, token validation,
//! signing keys, sessions and request hygiene.

mod common;

use std::time::{Duration, Instant};

use common::{KEYS, TestServer, claims, jws, now, token};
use mcp_server::scopes;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

#[tokio::test]
async fn metadata_is_public_at_every_well_known_path() {
    let server = TestServer::start().await;
    let paths = server.config.metadata_paths();
    assert!(paths.contains(&"/.well-known/oauth-protected-resource".to_owned()));
    assert!(paths.contains(&format!(
        "/.well-known/oauth-protected-resource{}",
        server.config.mcp_path
    )));
    for path in paths {
        let response = server.http.get(server.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&response, "content-type"), "application/json");
        assert_eq!(header(&response, "access-control-allow-origin"), "*");
        let metadata: Value = response.json().await.unwrap();
        assert_eq!(metadata["resource"], json!(server.config.resource));
        assert_eq!(
            metadata["authorization_servers"],
            json!([format!(
                "{}/resources/{}",
                server.config.environment_url, server.config.resource_id
            )])
        );
        assert_eq!(metadata["bearer_methods_supported"], json!(["header"]));
        assert_eq!(
            metadata["scopes_supported"],
            json!(scopes::supported().collect::<Vec<_>>())
        );
        assert_eq!(
            metadata["resource_name"],
            json!(server.config.resource_name)
        );
        match &server.config.resource_documentation {
            Some(docs) => assert_eq!(metadata["resource_documentation"], json!(docs)),
            None => assert!(metadata.get("resource_documentation").is_none()),
        }
    }
}

#[tokio::test]
async fn metadata_answers_cors_preflight() {
    let server = TestServer::start().await;
    let response = server
        .http
        .request(
            reqwest::Method::OPTIONS,
            server.url("/.well-known/oauth-protected-resource"),
        )
        .header("origin", "https://inspector.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "access-control-allow-origin"), "*");
}

#[tokio::test]
async fn healthz_is_public_and_other_paths_are_not_found() {
    let server = TestServer::start().await;
    let health = server
        .http
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.text().await.unwrap(), "ok");
    for path in [
        "/",
        "/nope",
        "/.well-known/other",
        &format!("{}/x", server.config.mcp_path),
    ] {
        let response = server.http.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn no_credentials_get_a_401_challenge_without_error() {
    let server = TestServer::start().await;
    // `scope` lists scopes_supported, and is left out when there are none.
    let scope = scopes::supported().collect::<Vec<_>>().join(" ");
    let mut expected = format!(
        r#"Bearer resource_metadata="{}""#,
        server.config.metadata_url()
    );
    if !scope.is_empty() {
        expected.push_str(&format!(r#", scope="{scope}""#));
    }
    assert_eq!(
        server.config.metadata_url(),
        format!(
            "{}/.well-known/oauth-protected-resource{}",
            server.config.server_url.origin().ascii_serialization(),
            reqwest::Url::parse(&server.config.resource)
                .unwrap()
                .path()
                .trim_end_matches('/')
        )
    );
    let missing = server.post(None, None).body("{}").send().await.unwrap();
    let basic = server
        .post(None, None)
        .header("authorization", "Basic dXNlcjpwYXNz")
        .body("{}")
        .send()
        .await
        .unwrap();
    for response in [missing, basic] {
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(header(&response, "www-authenticate"), expected);
        let body: Value = response.json().await.unwrap();
        assert!(body["error"].is_string());
    }
}

#[tokio::test]
async fn invalid_tokens_get_a_401_invalid_token() {
    let server = TestServer::start().await;
    let valid = claims("");
    let with = |key: &str, value: Value| {
        let mut claims = valid.clone();
        claims[key] = value;
        claims
    };
    // `{"alg":"none","typ":"JWT"}`, and the payload of a real token with no signature.
    let payload = token("").split('.').nth(1).unwrap().to_owned();
    let alg_none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
    let hs256 = {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(KEYS[0].kid.to_owned());
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"a shared secret");
        jws(&header, &valid, |input| {
            ring::hmac::sign(&key, input).as_ref().to_vec()
        })
    };
    let cases = [
        ("not a JWT", "not-a-jwt".to_owned()),
        ("bad signature", KEYS[1].sign_as(KEYS[0].kid, &valid)),
        ("alg none", alg_none),
        ("HS256", hs256),
        ("expired", KEYS[0].sign(&with("exp", json!(now() - 120)))),
        (
            "nbf in the future",
            KEYS[0].sign(&with("nbf", json!(now() + 300))),
        ),
        (
            "wrong aud",
            KEYS[0].sign(&with("aud", json!("https://other.example.com/mcp"))),
        ),
        (
            "aud with a trailing slash",
            KEYS[0].sign(&with("aud", json!(format!("{}/", server.config.resource)))),
        ),
        (
            "wrong iss",
            KEYS[0].sign(&with("iss", json!("https://evil.scalekit.com"))),
        ),
        ("no sub", {
            let mut claims = valid.clone();
            claims.as_object_mut().unwrap().remove("sub");
            KEYS[0].sign(&claims)
        }),
        ("unknown kid", KEYS[1].sign(&valid)),
    ];
    let prefix = r#"Bearer error="invalid_token", error_description=""#;
    let suffix = format!(r#"", resource_metadata="{}""#, server.config.metadata_url());
    for (case, token) in cases {
        let response = server
            .post(Some(&token), None)
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{case}");
        let challenge = header(&response, "www-authenticate");
        assert!(challenge.starts_with(prefix), "{case}: {challenge}");
        assert!(challenge.ends_with(&suffix), "{case}: {challenge}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_token", "{case}");
    }
}

#[tokio::test]
async fn a_valid_token_initializes_a_session() {
    let server = TestServer::start().await;
    let session = server.initialize(&token("")).await;
    assert!(session.is_some_and(|id| !id.is_empty()));
}

#[tokio::test]
async fn both_scalekit_issuers_and_every_audience_are_accepted() {
    let server = TestServer::start().await;
    let config = &server.config;
    for issuer in [
        config.environment_url.clone(),
        config.authorization_server(),
    ] {
        for audience in &config.audience {
            let mut claims = claims("");
            claims["iss"] = json!(issuer);
            claims["aud"] = json!(audience);
            server.initialize(&KEYS[0].sign(&claims)).await;
        }
    }
}

#[tokio::test]
async fn tools_list_shows_every_tool_to_any_valid_token() {
    let server = TestServer::start().await;
    let token = token("");
    let session = server.initialize(&token).await;
    let reply = server.list_tools(&token, session.as_deref()).await;
    assert_eq!(reply.status, StatusCode::OK);
    let listed: Vec<String> = reply.message.unwrap()["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| tool["name"].as_str().unwrap().to_owned())
        .collect();
    for entry in scopes::TOOL_SCOPES {
        assert!(
            listed.iter().any(|name| name == entry.tool),
            "{} not listed",
            entry.tool
        );
    }
}

#[tokio::test]
async fn a_call_of_a_tool_the_scope_table_does_not_hold_never_reaches_a_tool() {
    let server = TestServer::start().await;
    let every_scope: Vec<&str> = scopes::supported().collect();
    let token = token(&every_scope.join(" "));
    let session = server.initialize(&token).await;
    let reply = server
        .call_tool(&token, session.as_deref(), "no_such_tool", json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let message = reply.message.expect("a JSON-RPC response");
    assert_eq!(message["id"], json!(2), "{message}");
    assert_eq!(message["error"]["code"], json!(-32602), "{message}");
    assert_eq!(
        message["error"]["message"],
        json!("Unknown tool"),
        "{message}"
    );
}

#[tokio::test]
async fn a_session_belongs_to_the_principal_that_created_it() {
    let server = TestServer::start().await;
    let owner = token("");
    let session = server.initialize(&owner).await.unwrap();

    let mut other_user = claims("");
    other_user["sub"] = json!("user-2");
    let mut other_client = claims("");
    other_client["client_id"] = json!("client-2");
    for intruder in [other_user, other_client] {
        let reply = server
            .list_tools(&KEYS[0].sign(&intruder), Some(&session))
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
    }
    let unknown = server.list_tools(&owner, Some("no-such-session")).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let reply = server.list_tools(&owner, Some(&session)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.message.unwrap()["result"]["tools"].is_array());
}

#[tokio::test]
async fn stateless_mode_serves_without_sessions() {
    let server = TestServer::start_with(|config| config.stateless = true).await;
    let token = token("");
    assert_eq!(server.initialize(&token).await, None);
    let reply = server.list_tools(&token, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.message.unwrap()["result"]["tools"].is_array());
}

#[tokio::test]
async fn a_rotated_signing_key_is_picked_up_without_restart() {
    let server =
        TestServer::start_with(|config| config.jwks_refresh_interval = Duration::ZERO).await;
    server.initialize(&token("")).await;
    server.jwks.serve_keys(&[&KEYS[1]]);
    server.initialize(&KEYS[1].sign(&claims(""))).await;
}

#[tokio::test]
async fn while_the_key_endpoint_is_down_cached_keys_work_and_unknown_kids_fail_fast() {
    let server =
        TestServer::start_with(|config| config.jwks_refresh_interval = Duration::ZERO).await;
    server.initialize(&token("")).await;
    server.jwks.set_up(false);
    server.initialize(&token("")).await;

    let started = Instant::now();
    let response = server
        .post(Some(&KEYS[1].sign(&claims(""))), None)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_removed_signing_key_stops_working_after_the_max_age() {
    let max_age = Duration::from_secs(1);
    // Stateless, so each request stands alone and a plain `tools/list` shows the outcome.
    let server = TestServer::start_with(|config| {
        config.stateless = true;
        config.jwks_max_age = max_age;
        config.jwks_refresh_interval = Duration::from_millis(100);
    })
    .await;
    let removed = token("");
    assert_eq!(
        server.list_tools(&removed, None).await.status,
        StatusCode::OK
    );
    // Now a remembered token too: only the change of keys can stop it.
    assert_eq!(
        server.list_tools(&removed, None).await.status,
        StatusCode::OK
    );
    server.jwks.serve_keys(&[&KEYS[1]]);

    // The first request after the max age is still answered from the cache (it
    // never waits for the fetch); it starts the refresh that drops the key.
    tokio::time::sleep(max_age).await;
    assert_eq!(
        server.list_tools(&removed, None).await.status,
        StatusCode::OK
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    let reply = loop {
        let reply = server.list_tools(&removed, None).await;
        if reply.status != StatusCode::OK || Instant::now() > deadline {
            break reply;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let challenge = reply.headers["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with(r#"Bearer error="invalid_token""#),
        "{challenge}"
    );
    // The refreshed set is in use: the key still served works without another fetch.
    let fetches = server.jwks.fetches();
    let current = KEYS[1].sign(&claims(""));
    assert_eq!(
        server.list_tools(&current, None).await.status,
        StatusCode::OK
    );
    assert_eq!(server.jwks.fetches(), fetches);
}

/// A checked token is remembered (`token_cache.rs`); nothing like it gets in on
/// the strength of that.
#[tokio::test]
async fn a_remembered_token_lets_no_token_like_it_through() {
    let server = TestServer::start_with(|config| config.stateless = true).await;
    let claims = claims("");
    let valid = KEYS[0].sign(&claims);
    for _ in 0..2 {
        assert_eq!(server.list_tools(&valid, None).await.status, StatusCode::OK);
    }
    // The same header and claims, signed by another key.
    let forged = KEYS[1].sign_as(KEYS[0].kid, &claims);
    let (signed, _) = valid.rsplit_once('.').unwrap();
    let (_, signature) = forged.rsplit_once('.').unwrap();
    let mut other_claims = claims.clone();
    other_claims["sub"] = json!("someone-else");
    let other = KEYS[0].sign(&other_claims);
    let (_, other_payload, _) = split(&other);
    let (header, _, valid_signature) = split(&valid);
    for token in [
        forged.clone(),
        format!("{signed}.{signature}"),
        format!("{valid}A"),
        // Another payload under the remembered token's signature.
        format!("{header}.{other_payload}.{valid_signature}"),
    ] {
        // The second refusal comes from the cache, and says the same.
        let first = server.list_tools(&token, None).await;
        assert_eq!(first.status, StatusCode::UNAUTHORIZED, "{token}");
        let again = server.list_tools(&token, None).await;
        assert_eq!(again.status, StatusCode::UNAUTHORIZED, "{token}");
        assert_eq!(
            again.headers["www-authenticate"],
            first.headers["www-authenticate"]
        );
    }
    assert_eq!(server.list_tools(&valid, None).await.status, StatusCode::OK);
}

fn split(token: &str) -> (&str, &str, &str) {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        panic!("not a JWS: {token}");
    };
    (header, payload, signature)
}

#[tokio::test]
async fn while_the_key_endpoint_is_down_stale_keys_keep_working() {
    // Every request finds the cache stale and may start a refresh; each one fails.
    let server = TestServer::start_with(|config| {
        config.stateless = true;
        config.jwks_max_age = Duration::ZERO;
        config.jwks_refresh_interval = Duration::ZERO;
    })
    .await;
    let token = token("");
    assert_eq!(server.list_tools(&token, None).await.status, StatusCode::OK);
    server.jwks.set_up(false);
    let fetches = server.jwks.fetches();
    let deadline = Instant::now() + Duration::from_secs(5);
    // Until at least two refreshes have failed, with requests answered all along.
    while server.jwks.fetches() < fetches + 2 {
        assert!(Instant::now() < deadline, "no background refresh happened");
        let started = Instant::now();
        let reply = server.list_tools(&token, None).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "took {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.list_tools(&token, None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_kid_refetches_the_keys_at_most_once_per_interval() {
    let server = TestServer::start().await;
    server.initialize(&token("")).await;
    assert_eq!(server.jwks.fetches(), 1);
    let unknown = KEYS[1].sign(&claims(""));
    for _ in 0..3 {
        let response = server
            .post(Some(&unknown), None)
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(server.jwks.fetches(), 1, "refetched within the interval");
}

#[tokio::test]
async fn repeated_invalid_tokens_from_one_address_get_429() {
    let server = TestServer::start_with(|config| config.auth_failures_per_minute = 2).await;
    let statuses = [
        StatusCode::UNAUTHORIZED,
        StatusCode::UNAUTHORIZED,
        StatusCode::TOO_MANY_REQUESTS,
    ];
    for expected in statuses {
        let response = server
            .post(Some("junk"), None)
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected);
    }
}

/// Correctly signed tokens that fail on their claims come from the
/// authorization server: their clients must get the 401 that makes them
/// refresh, however many forgeries their address sent.
#[tokio::test]
async fn genuine_but_invalid_tokens_get_401_from_an_address_past_its_limit() {
    let server = TestServer::start_with(|config| config.stateless = true).await;
    let limit = server.config.auth_failures_per_minute as usize;
    let forged = KEYS[1].sign_as(KEYS[0].kid, &claims(""));
    for _ in 0..limit {
        let reply = server.list_tools(&forged, None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let reply = server.list_tools(&forged, None).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);

    let with = |key: &str, value: Value| {
        let mut claims = claims("");
        claims[key] = value;
        KEYS[0].sign(&claims)
    };
    let genuine = [
        ("expired", with("exp", json!(now() - 120))),
        ("not yet valid", with("nbf", json!(now() + 300))),
        (
            "another audience",
            with("aud", json!("https://other.example.com/mcp")),
        ),
        (
            "another issuer",
            with("iss", json!("https://evil.scalekit.com")),
        ),
    ];
    let prefix = r#"Bearer error="invalid_token", error_description=""#;
    // Twice over: they are not counted either.
    for (case, token) in genuine.iter().chain(&genuine) {
        let reply = server.list_tools(token, None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{case}");
        let challenge = reply.headers["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with(prefix), "{case}: {challenge}");
    }
    assert_eq!(
        server.list_tools(&token(""), None).await.status,
        StatusCode::OK
    );
    let reply = server.list_tools(&forged, None).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn foreign_origins_and_hosts_are_refused() {
    let server = TestServer::start_with(|config| {
        config.allowed_origins = vec!["https://app.example.com".to_owned()];
    })
    .await;
    let evil_origin = server
        .post(None, None)
        .header("origin", "https://evil.example")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(evil_origin.status(), StatusCode::FORBIDDEN);

    let evil_host = server
        .post(None, None)
        .header("host", "evil.example")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(evil_host.status(), StatusCode::FORBIDDEN);

    let own_origin = server.config.server_url.origin().ascii_serialization();
    for origin in [own_origin.as_str(), "https://app.example.com"] {
        let response = server
            .post(None, None)
            .header("origin", origin)
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{origin}");
        assert_eq!(header(&response, "access-control-allow-origin"), origin);
        assert!(header(&response, "access-control-expose-headers").contains("www-authenticate"));
    }

    let preflight = server
        .http
        .request(reqwest::Method::OPTIONS, server.mcp_url())
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, mcp-session-id",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::OK);
    assert_eq!(
        header(&preflight, "access-control-allow-origin"),
        "https://app.example.com"
    );
    assert!(header(&preflight, "access-control-allow-headers").contains("authorization"));
}

#[tokio::test]
async fn oversized_bodies_and_headers_are_refused() {
    let server = TestServer::start().await;
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"pad":"{}"}}}}"#,
        "x".repeat(1024 * 1024)
    );
    let response = server
        .post(Some(&token("")), None)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let response = server
        .post(Some(&token("")), None)
        .header("x-padding", "x".repeat(40 * 1024))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
}

#[tokio::test]
async fn batches_and_unreadable_messages_are_refused() {
    let server = TestServer::start().await;
    let token = token("");
    let batch = server
        .post(Some(&token), None)
        .body(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#)
        .send()
        .await
        .unwrap();
    assert_eq!(batch.status(), StatusCode::BAD_REQUEST);
    let garbage = server
        .post(Some(&token), None)
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
}
