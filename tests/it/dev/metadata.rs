//! The metadata documents at each path MCP clients try, the dashboard
//! switches (`--no-dcr`), CORS on every JSON endpoint, and the `Host` check.

use serde_json::{Value, json};

use super::{Env, RES, SCOPES, config, form};

/// The fields every document has, whatever its issuer.
fn assert_common_fields(env: &Env, document: &Value, issuer: &str) {
    assert_eq!(document["issuer"], issuer, "{document}");
    assert_eq!(
        document["authorization_endpoint"],
        env.url("/oauth/authorize")
    );
    assert_eq!(document["token_endpoint"], env.url("/oauth/token"));
    assert_eq!(document["jwks_uri"], env.url("/keys"));
    assert_eq!(document["scopes_supported"], json!(SCOPES));
    assert_eq!(document["response_types_supported"], json!(["code"]));
    assert_eq!(
        document["grant_types_supported"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(
        document["code_challenge_methods_supported"],
        json!(["S256"])
    );
    let methods = document["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap();
    assert!(methods.contains(&json!("none")), "{document}");
    assert_eq!(
        document["authorization_response_iss_parameter_supported"],
        true
    );
}

fn assert_openid_fields(document: &Value) {
    assert!(
        !document["subject_types_supported"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(
        document["id_token_signing_alg_values_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("RS256"))
    );
}

fn document(env: &Env, path: &str) -> Value {
    let reply = env.get(path);
    assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    assert!(
        reply
            .header("content-type")
            .is_some_and(|v| v.starts_with("application/json"))
    );
    reply.json()
}

#[test]
fn rfc_8414_metadata_is_served_at_both_resource_scoped_paths() {
    let env = Env::start(config());
    for path in [
        format!("/.well-known/oauth-authorization-server/resources/{RES}"),
        format!("/resources/{RES}/.well-known/oauth-authorization-server"),
    ] {
        let document = document(&env, &path);
        assert_common_fields(&env, &document, &env.issuer());
        assert_eq!(
            document["registration_endpoint"],
            env.url(&env.register_path())
        );
        assert_eq!(document["client_id_metadata_document_supported"], true);
    }
    let other = env.get("/.well-known/oauth-authorization-server/resources/res_other");
    assert_eq!(other.status, 404);
}

#[test]
fn openid_metadata_is_served_environment_wide_and_at_both_resource_scoped_paths() {
    let env = Env::start(config());
    let environment = document(&env, "/.well-known/openid-configuration");
    assert_common_fields(&env, &environment, env.standin.url());
    assert_openid_fields(&environment);
    assert!(
        environment.get("registration_endpoint").is_none(),
        "{environment}"
    );

    for path in [
        format!("/.well-known/openid-configuration/resources/{RES}"),
        format!("/resources/{RES}/.well-known/openid-configuration"),
    ] {
        let document = document(&env, &path);
        assert_common_fields(&env, &document, &env.issuer());
        assert_openid_fields(&document);
        assert_eq!(
            document["registration_endpoint"],
            env.url(&env.register_path())
        );
        assert_eq!(document["client_id_metadata_document_supported"], true);
    }
}

#[test]
fn keys_are_a_jwks_of_rs256_signing_keys() {
    let env = Env::start(config());
    let keys = env.keys();
    let keys = keys["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    for member in ["kid", "n", "e"] {
        assert!(keys[0][member].as_str().is_some_and(|v| !v.is_empty()));
    }
    assert_eq!(keys[0]["kty"], "RSA");
    assert_eq!(keys[0]["alg"], "RS256");
    assert_eq!(keys[0]["use"], "sig");
}

#[test]
fn no_dcr_drops_the_registration_endpoint_and_its_path() {
    let env = Env::start(super::Config {
        dcr: false,
        ..config()
    });
    for path in [
        format!("/.well-known/oauth-authorization-server/resources/{RES}"),
        format!("/resources/{RES}/.well-known/oauth-authorization-server"),
        format!("/.well-known/openid-configuration/resources/{RES}"),
        format!("/resources/{RES}/.well-known/openid-configuration"),
    ] {
        let document = document(&env, &path);
        assert!(document.get("registration_endpoint").is_none(), "{path}");
    }
    let reply = env.register(&json!({ "redirect_uris": [super::CALLBACK] }));
    assert_eq!(reply.status, 404, "{}", reply.body);
}

#[test]
fn no_cimd_says_so_in_the_metadata() {
    let env = Env::start(super::Config {
        cimd: false,
        ..config()
    });
    for path in [
        format!("/.well-known/oauth-authorization-server/resources/{RES}"),
        format!("/resources/{RES}/.well-known/openid-configuration"),
    ] {
        assert_eq!(
            document(&env, &path)["client_id_metadata_document_supported"],
            false
        );
    }
}

#[test]
fn every_json_endpoint_answers_a_cors_preflight() {
    let env = Env::start(config());
    let preflight = [
        ("Origin", "http://localhost:6274"),
        ("Access-Control-Request-Method", "POST"),
        ("Access-Control-Request-Headers", "content-type"),
    ];
    let register = env.register_path();
    for (path, method) in [
        (
            format!("/.well-known/oauth-authorization-server/resources/{RES}"),
            "GET",
        ),
        ("/.well-known/openid-configuration".to_owned(), "GET"),
        ("/keys".to_owned(), "GET"),
        (register, "POST"),
        ("/oauth/token".to_owned(), "POST"),
    ] {
        let reply = env.options(&path, &preflight);
        assert!((200..300).contains(&reply.status), "{path}: {reply:?}");
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some("*"),
            "{path}"
        );
        let methods = reply.header("access-control-allow-methods").unwrap();
        assert!(methods.contains(method), "{path}: {methods}");
        let headers = reply
            .header("access-control-allow-headers")
            .unwrap()
            .to_ascii_lowercase();
        assert!(headers.contains("content-type"), "{path}: {headers}");
        assert!(headers.contains("authorization"), "{path}: {headers}");
    }
}

#[test]
fn json_answers_carry_access_control_allow_origin() {
    let env = Env::start(config());
    let origin = [("Origin", "http://localhost:6274")];
    let metadata = env.get_with(
        &format!("/resources/{RES}/.well-known/oauth-authorization-server"),
        &origin,
    );
    let keys = env.get_with("/keys", &origin);
    let registration = env.post(
        &env.register_path(),
        &[("Content-Type", "application/json"), origin[0]],
        &json!({ "redirect_uris": [super::CALLBACK], "token_endpoint_auth_method": "none" })
            .to_string(),
    );
    let token = env.post(
        "/oauth/token",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            origin[0],
        ],
        &form(&[("grant_type", "authorization_code")]),
    );
    assert_eq!(
        [
            metadata.status,
            keys.status,
            registration.status,
            token.status
        ],
        [200, 200, 201, 400]
    );
    for reply in [metadata, keys, registration, token] {
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some("*"),
            "{reply:?}"
        );
    }
}

#[test]
fn a_request_to_a_host_that_is_not_loopback_is_refused() {
    let env = Env::start(config());
    for host in [
        "example.com",
        "evil.localhost",
        "127.0.0.1.nip.io",
        "192.168.1.10:3001",
    ] {
        let answer = env.raw(
            format!("GET /keys HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        assert!(answer.starts_with("HTTP/1.1 403"), "{host}: {answer}");
        assert!(!answer.contains("\"keys\""), "{host}: {answer}");
    }
    let port = env.standin.port();
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        "localhost".to_owned(),
    ] {
        let answer = env.raw(
            format!("GET /keys HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        assert!(answer.starts_with("HTTP/1.1 200"), "{host}: {answer}");
        assert!(answer.contains("\"keys\""), "{host}: {answer}");
    }
}
