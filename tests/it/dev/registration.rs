//! Dynamic client registration (RFC 7591): public and confidential clients,
//! the fields clients send, and the redirect URI rules.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::{CALLBACK, Env, Pkce, config};

#[test]
fn a_public_client_registers_with_the_fields_the_inspector_sends() {
    let env = Env::start(config());
    let reply = env.register(&json!({
        "client_name": "MCP Inspector",
        "redirect_uris": [CALLBACK],
        "application_type": "native",
        "client_uri": "https://github.com/modelcontextprotocol/inspector",
        "scope": "todo:read todo:write",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "software_id": "mcp-inspector",
        "token_endpoint_auth_method": "none",
        "x_unknown_field": { "nested": [1, 2] },
    }));
    assert_eq!(reply.status, 201, "{}", reply.body);
    let client = reply.json();
    let client_id = client["client_id"].as_str().unwrap();
    assert!(!client_id.is_empty());
    assert!(client.get("client_secret").is_none(), "{client}");
    assert_eq!(client["token_endpoint_auth_method"], "none");
    assert_eq!(client["redirect_uris"], json!([CALLBACK]));
    assert_eq!(client["client_name"], "MCP Inspector");
    assert_eq!(client["application_type"], "native");
    assert_eq!(client["software_id"], "mcp-inspector");
    assert_eq!(client["x_unknown_field"], json!({ "nested": [1, 2] }));
    assert!(client["client_id_issued_at"].is_u64());

    // Registered means usable, without a secret.
    let pkce = Pkce::new();
    let code = env.code(client_id, &pkce, &[]);
    let token = env.exchange(client_id, &code, &pkce);
    assert_eq!(token.status, 200, "{}", token.body);
}

/// A confidential client, a code for it, and the token request's pairs
/// without authentication.
fn confidential(env: &Env, method: Option<&str>) -> (String, String, Pkce, String) {
    let mut metadata = json!({ "redirect_uris": [CALLBACK], "client_name": "Backend" });
    if let Some(method) = method {
        metadata["token_endpoint_auth_method"] = json!(method);
    }
    let reply = env.register(&metadata);
    assert_eq!(reply.status, 201, "{}", reply.body);
    let client = reply.json();
    let id = client["client_id"].as_str().unwrap().to_owned();
    let secret = client["client_secret"]
        .as_str()
        .expect("a confidential client gets a secret")
        .to_owned();
    assert!(!secret.is_empty());
    assert_eq!(
        client["token_endpoint_auth_method"],
        method.unwrap_or("client_secret_basic")
    );
    let pkce = Pkce::new();
    let code = env.code(&id, &pkce, &[]);
    (id, secret, pkce, code)
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

fn code_pairs<'a>(code: &'a str, pkce: &'a Pkce) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CALLBACK),
        ("code_verifier", &pkce.verifier),
    ]
}

#[test]
fn a_confidential_client_authenticates_with_basic_credentials() {
    let env = Env::start(config());
    let (id, secret, pkce, code) = confidential(&env, None);
    let reply = env.post_form(
        "/oauth/token",
        &[("Authorization", &basic(&id, &secret))],
        &code_pairs(&code, &pkce),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.json()["access_token"].is_string());
}

#[test]
fn a_confidential_client_authenticates_with_client_secret_post() {
    let env = Env::start(config());
    let (id, secret, pkce, code) = confidential(&env, Some("client_secret_post"));
    let pairs = [
        code_pairs(&code, &pkce),
        vec![
            ("client_id", id.as_str()),
            ("client_secret", secret.as_str()),
        ],
    ]
    .concat();
    let reply = env.token(&pairs);
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[test]
fn a_confidential_client_without_its_secret_or_with_another_is_invalid_client() {
    let env = Env::start(config());
    let (id, secret, pkce, code) = confidential(&env, None);
    let (wrong, empty) = (basic(&id, "not-the-secret"), basic(&id, ""));
    let attempts = [
        (None, vec![("client_id", id.as_str())]),
        (Some(&wrong), vec![]),
        (
            None,
            vec![
                ("client_id", id.as_str()),
                ("client_secret", "not-the-secret"),
            ],
        ),
        (Some(&empty), vec![]),
    ];
    for (authorization, auth) in attempts {
        let headers: Vec<(&str, &str)> = authorization
            .map(|value| ("Authorization", value.as_str()))
            .into_iter()
            .collect();
        let reply = env.post_form(
            "/oauth/token",
            &headers,
            &[code_pairs(&code, &pkce), auth.clone()].concat(),
        );
        assert_eq!(reply.status, 401, "{auth:?}: {}", reply.body);
        assert_eq!(reply.error(), "invalid_client");
    }
    // None of the refused attempts used the code up.
    let reply = env.post_form(
        "/oauth/token",
        &[("Authorization", &basic(&id, &secret))],
        &code_pairs(&code, &pkce),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
}

fn redirect_uri_verdict(env: &Env, uri: &str) -> (u16, Value) {
    let reply = env.register(&json!({
        "redirect_uris": [uri],
        "token_endpoint_auth_method": "none",
    }));
    (reply.status, reply.json())
}

#[test]
fn https_loopback_http_and_private_use_redirect_uris_are_accepted() {
    let env = Env::start(config());
    for uri in [
        "https://app.example.com/oauth/callback",
        "http://127.0.0.1:6274/oauth/callback",
        "http://localhost:6274/oauth/callback",
        "http://[::1]:8080/cb",
        "http://127.0.0.1/cb",
        "cursor://anysphere.cursor-retrieval/oauth/user-mcp/callback",
        "com.example.app:/oauth2redirect",
    ] {
        let (status, client) = redirect_uri_verdict(&env, uri);
        assert_eq!(status, 201, "{uri}: {client}");
        assert_eq!(client["redirect_uris"], json!([uri]));
    }
}

#[test]
fn plain_http_elsewhere_and_code_running_schemes_are_invalid_redirect_uris() {
    let env = Env::start(config());
    for uri in [
        "http://example.com/callback",
        "http://127.0.0.1.nip.io/callback",
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "https://app.example.com/callback#fragment",
        "http://127.0.0.1:6274/cb#",
        "/relative/callback",
        "",
    ] {
        let (status, error) = redirect_uri_verdict(&env, uri);
        assert_eq!(status, 400, "{uri}: {error}");
        assert_eq!(error["error"], "invalid_redirect_uri", "{uri}");
    }
    for metadata in [
        json!({ "token_endpoint_auth_method": "none" }),
        json!({ "redirect_uris": [] }),
        json!({ "redirect_uris": "https://app.example.com/cb" }),
        json!({ "redirect_uris": [42] }),
        json!({ "redirect_uris": [CALLBACK, "javascript:alert(1)"] }),
    ] {
        let reply = env.register(&metadata);
        assert_eq!(reply.status, 400, "{metadata}: {}", reply.body);
        assert_eq!(reply.error(), "invalid_redirect_uri", "{metadata}");
    }
}

#[test]
fn a_body_that_is_not_a_json_object_is_invalid_client_metadata() {
    let env = Env::start(config());
    let path = env.register_path();
    let valid = json!({ "redirect_uris": [CALLBACK] }).to_string();
    for (content_type, body) in [
        ("application/json", "{\"redirect_uris\": ["),
        ("application/json", "[]"),
        ("application/json", "\"text\""),
        ("application/json", ""),
        ("text/plain", valid.as_str()),
        ("application/x-www-form-urlencoded", "redirect_uris=x"),
    ] {
        let reply = env.post(&path, &[("Content-Type", content_type)], body);
        assert_eq!(reply.status, 400, "{content_type} {body}: {}", reply.body);
        assert_eq!(reply.error(), "invalid_client_metadata", "{body}");
    }
    for metadata in [
        json!({ "redirect_uris": [CALLBACK], "token_endpoint_auth_method": "private_key_jwt" }),
        json!({ "redirect_uris": [CALLBACK], "grant_types": ["password"] }),
        json!({ "redirect_uris": [CALLBACK], "client_name": 7 }),
    ] {
        let reply = env.register(&metadata);
        assert_eq!(reply.status, 400, "{metadata}: {}", reply.body);
        assert_eq!(reply.error(), "invalid_client_metadata", "{metadata}");
    }
}
