//! Client ID Metadata Documents: a `client_id` that is a URL names a
//! document, fetched and checked, served here by a small loopback server.

use serde_json::json;

use crate::loopback::{Answer, Loopback};

use super::{CALLBACK, Config, Env, Pkce, auth_pairs, config, param, text, verify};

/// The document at `path`: good, or wrong in one way.
fn answer(base: &str, path: &str) -> Answer {
    let document = |client_id: String| {
        json!({
            "client_id": client_id,
            "client_name": "Claude Code (test)",
            "client_uri": "https://claude.ai",
            "redirect_uris": [CALLBACK],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        })
    };
    let (status, body): (u16, Vec<u8>) = match path {
        "/client.json" => (200, document(format!("{base}{path}")).to_string().into()),
        "/another-id.json" => (
            200,
            document(format!("{base}/client.json")).to_string().into(),
        ),
        "/not-json" => (200, b"<html>a client</html>".to_vec()),
        "/large.json" => {
            let mut large = document(format!("{base}{path}"));
            large["padding"] = json!("x".repeat(100 * 1024));
            (200, large.to_string().into())
        }
        "/confidential.json" => {
            let mut confidential = document(format!("{base}{path}"));
            confidential["token_endpoint_auth_method"] = json!("client_secret_basic");
            (200, confidential.to_string().into())
        }
        _ => (404, b"{}".to_vec()),
    };
    Answer::json(status, body)
}

#[test]
fn a_client_id_that_is_a_document_url_signs_in_as_that_client() {
    let documents = Loopback::start(answer);
    let env = Env::start(config());
    let client_id = documents.url("/client.json");
    let pkce = Pkce::new();
    let code = env.code(&client_id, &pkce, &[]);
    let reply = env.exchange(&client_id, &code, &pkce);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let (_, claims) = verify(reply.json()["access_token"].as_str().unwrap(), &env.keys());
    assert_eq!(claims["client_id"], client_id);
}

#[test]
fn the_consent_page_names_the_documents_client() {
    let documents = Loopback::start(answer);
    let env = Env::start(Config {
        approve: false,
        ..config()
    });
    let client_id = documents.url("/client.json");
    let pkce = Pkce::new();
    let reply = env.authorize(&auth_pairs(&client_id, &pkce));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let page = text(&reply.body);
    assert!(page.contains("Claude Code (test)"), "{page}");
    assert!(page.contains(CALLBACK), "{page}");
    assert!(page.contains(&client_id), "{page}");
}

#[test]
fn a_document_that_is_wrong_gets_an_error_page() {
    let documents = Loopback::start(answer);
    let env = Env::start(config());
    let pkce = Pkce::new();
    for path in [
        "/another-id.json",
        "/not-json",
        "/large.json",
        "/missing.json",
        "/confidential.json",
    ] {
        let client_id = documents.url(path);
        let reply = env.authorize(&auth_pairs(&client_id, &pkce));
        reply.assert_error_page(400);
        assert!(
            reply.body.contains("metadata document"),
            "{path}: {}",
            reply.body
        );
    }
    // A redirect URI the document does not list is refused on the page too.
    let client_id = documents.url("/client.json");
    let mut pairs = auth_pairs(&client_id, &pkce);
    pairs.retain(|(name, _)| *name != "redirect_uri");
    pairs.push(("redirect_uri", "http://127.0.0.1:6276/elsewhere"));
    env.authorize(&pairs).assert_error_page(400);
}

#[test]
fn no_cimd_refuses_a_document_url_that_would_otherwise_work() {
    let documents = Loopback::start(answer);
    let env = Env::start(Config {
        cimd: false,
        ..config()
    });
    let client_id = documents.url("/client.json");
    let pkce = Pkce::new();
    env.authorize(&auth_pairs(&client_id, &pkce))
        .assert_error_page(400);
    let reply = env.token(&[
        ("grant_type", "authorization_code"),
        ("client_id", &client_id),
        ("code", "x"),
        ("code_verifier", &pkce.verifier),
    ]);
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert_eq!(reply.error(), "invalid_client");

    // The same document, with CIMD on.
    let on = Env::start(config());
    let location = on.authorize(&auth_pairs(&client_id, &pkce)).location();
    assert!(param(&location, "code").is_some(), "{location}");
}
