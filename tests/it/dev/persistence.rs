//! What survives a restart on the same state directory, and what `--reset`
//! (`Store::open(root, true)`) forgets.

use std::fs;

use mcp_oauth_new::dev::state::Store;

use super::{CALLBACK, Env, Pkce, config, store_with_shared_key, verify};

fn refresh(env: &Env, client_id: &str, token: &str) -> super::Resp {
    env.token(&[
        ("grant_type", "refresh_token"),
        ("client_id", client_id),
        ("refresh_token", token),
    ])
}

/// Stops `env` and starts a stand-in on its state directory again, reset or
/// not.
fn restart(env: Env, reset: bool) -> Env {
    let Env { standin, root, .. } = env;
    standin.stop();
    let store = Store::open(root.path(), reset).unwrap();
    Env::on(root, store, config())
}

#[test]
fn the_key_clients_and_refresh_tokens_survive_a_restart() {
    let root = tempfile::tempdir().unwrap();
    let store = store_with_shared_key(root.path());
    let before = Env::on(root, store, config());
    let (client_id, signed_in) = before.sign_in(&[("scope", "todo:read")]);
    let refresh_token = signed_in["refresh_token"].as_str().unwrap().to_owned();
    let token_before = signed_in["access_token"].as_str().unwrap().to_owned();
    let keys_before = before.keys();

    let after = restart(before, false);
    assert_eq!(after.keys(), keys_before);
    // A token signed before the restart verifies against the keys after it.
    verify(&token_before, &after.keys());

    let reply = refresh(&after, &client_id, &refresh_token);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let refreshed = reply.json();
    assert_eq!(refreshed["scope"], "todo:read");
    let (_, claims) = verify(refreshed["access_token"].as_str().unwrap(), &after.keys());
    assert_eq!(claims["client_id"], client_id);

    // The client is still registered: it signs in again without registering.
    let pkce = Pkce::new();
    let code = after.code(&client_id, &pkce, &[]);
    assert_eq!(after.exchange(&client_id, &code, &pkce).status, 200);

    // The rotated token was saved as used: it fails after another restart,
    // and its successor works.
    let after_again = restart(after, false);
    let reply = refresh(&after_again, &client_id, &refresh_token);
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.error(), "invalid_grant");
    let successor = refreshed["refresh_token"].as_str().unwrap();
    assert_eq!(refresh(&after_again, &client_id, successor).status, 200);
}

#[test]
fn secrets_are_not_kept_in_the_clear() {
    let env = Env::start(config());
    let reply = env.register(&serde_json::json!({ "redirect_uris": [CALLBACK] }));
    let registered = reply.json();
    let secret = registered["client_secret"].as_str().unwrap();
    let (_, signed_in) = env.sign_in(&[]);
    let refresh_token = signed_in["refresh_token"].as_str().unwrap();
    let state_dir = env.root.path().join(".mcp-oauth/dev");
    let state = fs::read_to_string(state_dir.join("state.json")).unwrap();
    assert!(
        state.contains(registered["client_id"].as_str().unwrap()),
        "the client is saved: {state}"
    );
    for entry in fs::read_dir(&state_dir).unwrap() {
        let path = entry.unwrap().path();
        let contents = String::from_utf8_lossy(&fs::read(&path).unwrap()).into_owned();
        assert!(!contents.contains(secret), "{}", path.display());
        assert!(!contents.contains(refresh_token), "{}", path.display());
    }
}

#[test]
fn reset_forgets_the_key_the_clients_and_the_refresh_tokens() {
    let root = tempfile::tempdir().unwrap();
    let store = store_with_shared_key(root.path());
    let before = Env::on(root, store, config());
    let (client_id, signed_in) = before.sign_in(&[]);
    let refresh_token = signed_in["refresh_token"].as_str().unwrap().to_owned();
    let kid_before = before.keys()["keys"][0]["kid"].clone();

    let after = restart(before, true);
    assert_ne!(after.keys()["keys"][0]["kid"], kid_before);
    // The client is forgotten: the refresh is refused, and so is a sign-in.
    let reply = refresh(&after, &client_id, &refresh_token);
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert_eq!(reply.error(), "invalid_client");
    let pkce = Pkce::new();
    after
        .authorize(&super::auth_pairs(&client_id, &pkce))
        .assert_error_page(400);
}
