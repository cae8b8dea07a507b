//! The stand-in's log: one line per request, holding nothing a client sent
//! that would let a reader of the log act as it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::{CALLBACK, Config, Env, Pkce, Resp, auth_pairs, config, param};

/// Runs one request; asserts it logged exactly one line naming its method,
/// path (without a query) and status.
fn logged(env: &Env, method: &str, path: &str, request: impl FnOnce() -> Resp) -> Resp {
    let before = env.lines().len();
    let reply = request();
    let lines = env.lines();
    assert_eq!(lines.len(), before + 1, "{:?}", &lines[before..]);
    let line = &lines[before];
    assert!(
        line.contains(&format!("\"{method} {path}\" {}", reply.status)),
        "{line}"
    );
    reply
}

#[test]
fn each_request_logs_one_line_without_a_code_token_secret_or_state() {
    let env = Env::start(Config {
        approve: false,
        ..config()
    });
    let register = env.register_path();
    let registered = logged(&env, "POST", &register, || {
        env.register(&json!({ "redirect_uris": [CALLBACK], "client_name": "Logged" }))
    });
    let registered = registered.json();
    let client_id = registered["client_id"].as_str().unwrap().to_owned();
    let secret = registered["client_secret"].as_str().unwrap().to_owned();
    let basic = format!("Basic {}", STANDARD.encode(format!("{client_id}:{secret}")));

    let pkce = Pkce::new();
    let state = "state-that-must-not-be-logged-7d1e";
    let mut pairs = auth_pairs(&client_id, &pkce);
    pairs.retain(|(name, _)| *name != "state");
    pairs.push(("state", state));
    let page = logged(&env, "GET", "/oauth/authorize", || env.authorize(&pairs));
    let form_token = page
        .body
        .split("name=\"form_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let origin = env.standin.url().to_owned();
    let decided = logged(&env, "POST", "/oauth/authorize", || {
        env.post_form(
            "/oauth/authorize",
            &[("Origin", &origin)],
            &[
                ("form_token", &form_token),
                ("user_id", "dev-user"),
                ("scope", "todo:read"),
                ("decision", "approve"),
            ],
        )
    });
    let code = param(&decided.location(), "code").unwrap();

    let granted = logged(&env, "POST", "/oauth/token", || {
        env.post_form(
            "/oauth/token",
            &[("Authorization", &basic)],
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CALLBACK),
                ("code_verifier", &pkce.verifier),
            ],
        )
    });
    let granted = granted.json();
    let refresh_token = granted["refresh_token"].as_str().unwrap().to_owned();
    let refreshed = logged(&env, "POST", "/oauth/token", || {
        env.post_form(
            "/oauth/token",
            &[("Authorization", &basic)],
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh_token),
            ],
        )
    });
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    // Refused requests are logged too, and hold what they were sent no more.
    let refused = logged(&env, "POST", "/oauth/token", || {
        env.post_form(
            "/oauth/token",
            &[],
            &[
                ("grant_type", "refresh_token"),
                ("client_id", &client_id),
                ("client_secret", &secret),
                ("refresh_token", &refresh_token),
            ],
        )
    });
    assert_eq!(refused.status, 400);
    logged(&env, "GET", "/keys", || env.get("/keys?code=abc"));

    let lines = env.lines();
    assert_eq!(lines.len(), 7, "{lines:#?}");
    let access_token = granted["access_token"].as_str().unwrap();
    let new_refresh = refreshed.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let secrets = [
        code.as_str(),
        access_token,
        refresh_token.as_str(),
        &new_refresh,
        &secret,
        state,
        &form_token,
        &pkce.verifier,
        &pkce.challenge,
        &basic[6..],
    ];
    for line in &lines {
        assert!(!line.contains('?'), "a query in the log: {line}");
        assert!(!line.contains('\n'), "{line}");
        for secret in secrets {
            assert!(!line.contains(secret), "{secret} in the log: {line}");
        }
    }
}
