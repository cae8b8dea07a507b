//! The authorization endpoint's checks: which errors go on a page and which
//! back to the client (with `state` and `iss`), loopback ports, and scopes.

use super::{CALLBACK, Env, Pkce, RESOURCE, SCOPES, auth_pairs, config, param};

/// `pairs` with `name` replaced by `value`, or removed when `None`.
fn with<'a>(
    pairs: &[(&'a str, &'a str)],
    name: &'a str,
    value: Option<&'a str>,
) -> Vec<(&'a str, &'a str)> {
    let mut out: Vec<_> = pairs.iter().filter(|(n, _)| *n != name).copied().collect();
    out.extend(value.map(|value| (name, value)));
    out
}

#[test]
fn an_unknown_client_gets_an_error_page_never_a_redirect() {
    let env = Env::start(config());
    let pkce = Pkce::new();
    for client_id in ["dev_unknown", "", "https://127.0.0.1:1/not-a-document"] {
        let pairs = with(&auth_pairs("x", &pkce), "client_id", Some(client_id));
        env.authorize(&pairs).assert_error_page(400);
    }
    let pairs = with(&auth_pairs("x", &pkce), "client_id", None);
    env.authorize(&pairs).assert_error_page(400);
}

#[test]
fn an_unregistered_redirect_uri_gets_an_error_page_never_a_redirect() {
    let env = Env::start(config());
    let client_id = env.public_client(CALLBACK);
    let pkce = Pkce::new();
    for redirect_uri in [
        "https://attacker.example/callback",
        "http://localhost:6276/oauth/callback",
        "http://127.0.0.1:6276/oauth/callback/",
        "http://127.0.0.1:6276/oauth/callback?next=x",
        "http://127.0.0.1:6276/oauth/other",
        "https://127.0.0.1:6276/oauth/callback",
    ] {
        let pairs = with(
            &auth_pairs(&client_id, &pkce),
            "redirect_uri",
            Some(redirect_uri),
        );
        let reply = env.authorize(&pairs);
        reply.assert_error_page(400);
        assert!(!reply.body.contains("code="), "{}", reply.body);
    }
    // Even with every other parameter wrong, the redirect URI decides.
    let reply = env.authorize(&[
        ("client_id", &client_id),
        ("redirect_uri", "https://attacker.example/callback"),
        ("response_type", "token"),
    ]);
    reply.assert_error_page(400);
}

#[test]
fn a_loopback_redirect_uri_matches_on_any_port() {
    let env = Env::start(config());
    let client_id = env.public_client(CALLBACK);
    let pkce = Pkce::new();
    let other_port = "http://127.0.0.1:51234/oauth/callback";
    let pairs = with(
        &auth_pairs(&client_id, &pkce),
        "redirect_uri",
        Some(other_port),
    );
    let location = env.authorize(&pairs).location();
    assert_eq!(location.port(), Some(51234));
    assert_eq!(location.path(), "/oauth/callback");
    let code = param(&location, "code").expect("a code");

    // The token request names the port the code was sent to.
    let reply = env.token(&[
        ("grant_type", "authorization_code"),
        ("client_id", &client_id),
        ("code", &code),
        ("redirect_uri", other_port),
        ("code_verifier", &pkce.verifier),
    ]);
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// Sends `pairs`; asserts a redirect to [`CALLBACK`] with `error`, the
/// request's `state` and the issuer as `iss`.
fn assert_redirected_error(env: &Env, pairs: &[(&str, &str)], error: &str) {
    let location = env.authorize(pairs).location();
    let base = location.as_str().split('?').next().unwrap().to_owned();
    assert_eq!(base, CALLBACK, "{location}");
    assert_eq!(
        param(&location, "error").as_deref(),
        Some(error),
        "{pairs:?}"
    );
    assert!(param(&location, "error_description").is_some());
    assert_eq!(param(&location, "state").as_deref(), Some("st-42"));
    assert_eq!(param(&location, "iss"), Some(env.issuer()));
    assert_eq!(param(&location, "code"), None);
}

#[test]
fn missing_or_plain_pkce_is_sent_back_as_invalid_request() {
    let env = Env::start(config());
    let client_id = env.public_client(CALLBACK);
    let pkce = Pkce::new();
    let pairs = auth_pairs(&client_id, &pkce);
    let without_method = with(&pairs, "code_challenge_method", None);
    let without_challenge = with(&pairs, "code_challenge", None);
    let without_both = with(&without_challenge, "code_challenge_method", None);
    let plain = with(&pairs, "code_challenge_method", Some("plain"));
    let short = with(&pairs, "code_challenge", Some("too-short"));
    for pairs in [
        without_method,
        without_challenge,
        without_both,
        plain,
        short,
    ] {
        assert_redirected_error(&env, &pairs, "invalid_request");
    }
}

#[test]
fn a_response_type_other_than_code_is_sent_back() {
    let env = Env::start(config());
    let client_id = env.public_client(CALLBACK);
    let pkce = Pkce::new();
    let pairs = auth_pairs(&client_id, &pkce);
    for response_type in ["token", "code id_token", "id_token"] {
        let pairs = with(&pairs, "response_type", Some(response_type));
        assert_redirected_error(&env, &pairs, "unsupported_response_type");
    }
    assert_redirected_error(
        &env,
        &with(&pairs, "response_type", None),
        "invalid_request",
    );
}

#[test]
fn another_resource_is_invalid_target() {
    let env = Env::start(config());
    let client_id = env.public_client(CALLBACK);
    let pkce = Pkce::new();
    let pairs = auth_pairs(&client_id, &pkce);
    for resource in [
        "http://127.0.0.1:3000/mcp/",
        "http://localhost:3000/mcp",
        "https://mcp.example.com/mcp",
        "",
    ] {
        let pairs = with(&pairs, "resource", Some(resource));
        assert_redirected_error(&env, &pairs, "invalid_target");
    }
    // Named twice, once wrongly.
    let twice = [
        pairs.as_slice(),
        &[("resource", "https://other.example/mcp")],
    ]
    .concat();
    assert_redirected_error(&env, &twice, "invalid_target");
}

#[test]
fn an_undeclared_scope_is_invalid_scope() {
    let env = Env::start(config());
    let client_id = env.public_client(CALLBACK);
    let pkce = Pkce::new();
    let pairs = auth_pairs(&client_id, &pkce);
    for scope in ["admin", "todo:read admin", "todo:READ", "openid"] {
        let pairs = [pairs.as_slice(), &[("scope", scope)]].concat();
        assert_redirected_error(&env, &pairs, "invalid_scope");
    }
}

#[test]
fn approve_redirects_with_a_code_state_and_iss_at_once() {
    let env = Env::start(config());
    let client_id = env.public_client(CALLBACK);
    let pkce = Pkce::new();
    let reply = env.authorize(&auth_pairs(&client_id, &pkce));
    assert!(reply.body.is_empty(), "no page under --approve");
    let location = reply.location();
    assert!(location.as_str().starts_with(CALLBACK), "{location}");
    assert!(param(&location, "code").is_some_and(|c| !c.is_empty()));
    assert_eq!(param(&location, "state").as_deref(), Some("st-42"));
    assert_eq!(param(&location, "iss"), Some(env.issuer()));
    assert_eq!(param(&location, "error"), None);
}

#[test]
fn no_scope_means_every_declared_scope_and_a_scope_means_only_it() {
    let env = Env::start(config());
    let (_, all) = env.sign_in(&[]);
    assert_eq!(all["scope"], SCOPES.join(" "));
    let (_, empty) = env.sign_in(&[("scope", "")]);
    assert_eq!(empty["scope"], SCOPES.join(" "));
    let (_, one) = env.sign_in(&[("scope", "todo:write")]);
    assert_eq!(one["scope"], "todo:write");
}

#[test]
fn the_resource_may_be_left_out() {
    let env = Env::start(config());
    let client_id = env.public_client(CALLBACK);
    let pkce = Pkce::new();
    let pairs = with(&auth_pairs(&client_id, &pkce), "resource", None);
    let location = env.authorize(&pairs).location();
    let code = param(&location, "code").expect("a code");
    let reply = env.exchange(&client_id, &code, &pkce);
    let (_, claims) = super::verify(reply.json()["access_token"].as_str().unwrap(), &env.keys());
    assert_eq!(claims["aud"][1], RESOURCE);
}
