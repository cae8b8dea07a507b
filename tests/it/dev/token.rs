//! The token endpoint: codes bound to their client, redirect URI and
//! verifier, rotating refresh tokens, RFC 6749 5.2 errors, and the access
//! token's signature and claims.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::{CALLBACK, Env, Pkce, RES, RESOURCE, SCOPES, TTL, config, decode_and_check, verify};

fn assert_error(reply: &super::Resp, status: u16, error: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.error(), error, "{}", reply.body);
    assert!(reply.json()["error_description"].is_string());
}

#[test]
fn a_code_works_once() {
    let env = Env::start(config());
    let client_id = env.public_client(CALLBACK);
    let pkce = Pkce::new();
    let code = env.code(&client_id, &pkce, &[]);
    let first = env.exchange(&client_id, &code, &pkce);
    assert_eq!(first.status, 200, "{}", first.body);
    assert_error(
        &env.exchange(&client_id, &code, &pkce),
        400,
        "invalid_grant",
    );
    assert_error(
        &env.exchange(&client_id, "never-issued", &pkce),
        400,
        "invalid_grant",
    );
}

#[test]
fn a_code_works_only_for_its_client_redirect_uri_and_verifier() {
    let env = Env::start(config());
    let client_id = env.public_client(CALLBACK);
    let other_client = env.public_client(CALLBACK);
    let pkce = Pkce::new();

    let code = env.code(&client_id, &pkce, &[]);
    assert_error(
        &env.exchange(&other_client, &code, &pkce),
        400,
        "invalid_grant",
    );

    let code = env.code(&client_id, &pkce, &[]);
    let reply = env.token(&[
        ("grant_type", "authorization_code"),
        ("client_id", &client_id),
        ("code", &code),
        ("redirect_uri", "http://127.0.0.1:6276/oauth/other"),
        ("code_verifier", &pkce.verifier),
    ]);
    assert_error(&reply, 400, "invalid_grant");

    let code = env.code(&client_id, &pkce, &[]);
    assert_error(
        &env.exchange(&client_id, &code, &Pkce::new()),
        400,
        "invalid_grant",
    );

    // The challenge itself is no verifier.
    let code = env.code(&client_id, &pkce, &[]);
    let wrong = Pkce {
        verifier: pkce.challenge.clone(),
        challenge: String::new(),
    };
    assert_error(
        &env.exchange(&client_id, &code, &wrong),
        400,
        "invalid_grant",
    );

    // The right client, redirect URI and verifier.
    let code = env.code(&client_id, &pkce, &[]);
    assert_eq!(env.exchange(&client_id, &code, &pkce).status, 200);
}

#[test]
fn another_grant_type_is_unsupported_grant_type() {
    let env = Env::start(config());
    let client_id = env.public_client(CALLBACK);
    for grant_type in [
        "password",
        "client_credentials",
        "implicit",
        "urn:ietf:params:oauth:grant-type:device_code",
    ] {
        let reply = env.token(&[("grant_type", grant_type), ("client_id", &client_id)]);
        assert_error(&reply, 400, "unsupported_grant_type");
    }
}

#[test]
fn a_missing_parameter_is_invalid_request() {
    let env = Env::start(config());
    let client_id = env.public_client(CALLBACK);
    let pkce = Pkce::new();
    let code = env.code(&client_id, &pkce, &[]);
    let full = [
        ("grant_type", "authorization_code"),
        ("client_id", client_id.as_str()),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", pkce.verifier.as_str()),
    ];
    for missing in ["grant_type", "client_id", "code", "code_verifier"] {
        let pairs: Vec<_> = full
            .iter()
            .filter(|(n, _)| *n != missing)
            .copied()
            .collect();
        assert_error(&env.token(&pairs), 400, "invalid_request");
    }
    let refresh = env.token(&[("grant_type", "refresh_token"), ("client_id", &client_id)]);
    assert_error(&refresh, 400, "invalid_request");
    let twice = [full.as_slice(), &[("grant_type", "refresh_token")]].concat();
    assert_error(&env.token(&twice), 400, "invalid_request");
}

#[test]
fn a_body_that_is_not_a_form_is_invalid_request() {
    let env = Env::start(config());
    let client_id = env.public_client(CALLBACK);
    let json_body = json!({ "grant_type": "authorization_code", "client_id": client_id });
    let reply = env.post_json("/oauth/token", &json_body);
    assert_error(&reply, 400, "invalid_request");
    let reply = env.post(
        "/oauth/token",
        &[],
        &super::form(&[("grant_type", "refresh_token")]),
    );
    assert_error(&reply, 400, "invalid_request");
}

#[test]
fn a_token_request_for_another_resource_is_invalid_target() {
    let env = Env::start(config());
    let client_id = env.public_client(CALLBACK);
    let pkce = Pkce::new();
    let code = env.code(&client_id, &pkce, &[]);
    let pairs = [
        ("grant_type", "authorization_code"),
        ("client_id", client_id.as_str()),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", pkce.verifier.as_str()),
    ];
    let other = [
        pairs.as_slice(),
        &[("resource", "https://other.example/mcp")],
    ]
    .concat();
    assert_error(&env.token(&other), 400, "invalid_target");
    let same = [pairs.as_slice(), &[("resource", RESOURCE)]].concat();
    assert_eq!(env.token(&same).status, 200);
}

fn refresh(env: &Env, client_id: &str, token: &str, scope: Option<&str>) -> super::Resp {
    let mut pairs = vec![
        ("grant_type", "refresh_token"),
        ("client_id", client_id),
        ("refresh_token", token),
    ];
    pairs.extend(scope.map(|scope| ("scope", scope)));
    env.token(&pairs)
}

fn refresh_token(response: &Value) -> String {
    response["refresh_token"].as_str().unwrap().to_owned()
}

#[test]
fn refresh_tokens_rotate_and_each_works_once() {
    let env = Env::start(config());
    let (client_id, signed_in) = env.sign_in(&[]);
    let first = refresh_token(&signed_in);

    let reply = refresh(&env, &client_id, &first, None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let second = refresh_token(&reply.json());
    assert_ne!(second, first);
    assert_eq!(reply.json()["scope"], SCOPES.join(" "));

    assert_error(
        &refresh(&env, &client_id, &first, None),
        400,
        "invalid_grant",
    );
    let reply = refresh(&env, &client_id, &second, None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_error(
        &refresh(&env, &client_id, &second, None),
        400,
        "invalid_grant",
    );
}

#[test]
fn a_refresh_token_works_only_for_its_client() {
    let env = Env::start(config());
    let (_, signed_in) = env.sign_in(&[]);
    let other_client = env.public_client(CALLBACK);
    let reply = refresh(&env, &other_client, &refresh_token(&signed_in), None);
    assert_error(&reply, 400, "invalid_grant");
}

#[test]
fn a_refresh_may_narrow_the_scope_but_never_widen_it() {
    let env = Env::start(config());
    let (client_id, signed_in) = env.sign_in(&[]);

    let narrowed = refresh(
        &env,
        &client_id,
        &refresh_token(&signed_in),
        Some("todo:read"),
    );
    assert_eq!(narrowed.status, 200, "{}", narrowed.body);
    let narrowed = narrowed.json();
    assert_eq!(narrowed["scope"], "todo:read");
    let (_, claims) = verify(narrowed["access_token"].as_str().unwrap(), &env.keys());
    assert_eq!(claims["scope"], "todo:read");

    // The grant itself is not narrowed: no scope asks for all of it again.
    let again = refresh(&env, &client_id, &refresh_token(&narrowed), None);
    assert_eq!(again.json()["scope"], SCOPES.join(" "));

    let (client_id, reader) = env.sign_in(&[("scope", "todo:read")]);
    let token = refresh_token(&reader);
    for wider in ["todo:write", "todo:read todo:write", "admin"] {
        assert_error(
            &refresh(&env, &client_id, &token, Some(wider)),
            400,
            "invalid_scope",
        );
    }
    // A refused widening leaves the refresh token as it was.
    let reply = refresh(&env, &client_id, &token, None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["scope"], "todo:read");
}

#[test]
fn the_access_token_is_an_rs256_jwt_with_scalekits_claims() {
    let env = Env::start(config());
    let (client_id, response) = env.sign_in(&[]);
    assert_eq!(response["token_type"], "Bearer");
    assert_eq!(response["expires_in"], TTL);
    let token = response["access_token"].as_str().unwrap();

    let keys = env.keys();
    let (header, claims) = verify(token, &keys);
    assert_eq!(header["kid"], keys["keys"][0]["kid"]);
    assert_eq!(claims["iss"], env.issuer());
    assert_eq!(claims["sub"], "dev-user");
    assert_eq!(claims["aud"], json!([RES, RESOURCE]));
    assert_eq!(claims["client_id"], client_id);
    assert_eq!(claims["scope"], SCOPES.join(" "));
    let iat = claims["iat"].as_u64().unwrap();
    assert_eq!(claims["nbf"].as_u64(), Some(iat));
    assert_eq!(claims["exp"].as_u64(), Some(iat + TTL));
    let jti = claims["jti"].as_str().unwrap();
    assert!(!jti.is_empty());

    // Each token its own jti, and a refreshed one is signed the same way.
    let refreshed = refresh(&env, &client_id, &refresh_token(&response), None).json();
    let (_, again) = verify(refreshed["access_token"].as_str().unwrap(), &keys);
    assert_ne!(again["jti"], jti);
    assert_eq!(again["iss"], env.issuer());
    assert_eq!(refreshed["expires_in"], TTL);

    // A token whose claims are altered after signing does not verify.
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut altered = claims.clone();
    altered["sub"] = json!("someone-else");
    parts[1] = URL_SAFE_NO_PAD.encode(altered.to_string());
    let (_, read_back, signature_ok) = decode_and_check(&parts.join("."), &keys);
    assert_eq!(read_back["sub"], "someone-else");
    assert!(!signature_ok, "an altered token verified");
}
