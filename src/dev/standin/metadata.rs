//! The authorization server's metadata documents, laid out as Scalekit's are:
//! RFC 8414 and OpenID documents scoped to the resource, and the
//! environment-wide OpenID document (issuer `<base>`, no registration).

use serde_json::{Map, Value, json};

use super::{Reply, Shared};

/// The resource-scoped RFC 8414 document, or its OpenID twin.
pub fn authorization_server(shared: &Shared, openid: bool) -> Reply {
    let mut document = common(shared, shared.issuer());
    let config = shared.config();
    if config.dcr {
        document.insert(
            "registration_endpoint".into(),
            json!(format!(
                "{}/api/v1/resources/{}/clients:register",
                shared.base(),
                config.resource_id
            )),
        );
    }
    document.insert(
        "client_id_metadata_document_supported".into(),
        json!(config.cimd),
    );
    if openid {
        add_openid(&mut document);
    }
    Reply::json(200, &Value::Object(document))
}

/// `<base>/.well-known/openid-configuration`: the environment's own document.
pub fn environment_openid(shared: &Shared) -> Reply {
    let mut document = common(shared, shared.base().to_owned());
    add_openid(&mut document);
    Reply::json(200, &Value::Object(document))
}

fn common(shared: &Shared, issuer: String) -> Map<String, Value> {
    let base = shared.base();
    let Value::Object(document) = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "jwks_uri": format!("{base}/keys"),
        "scopes_supported": shared.config().scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "authorization_response_iss_parameter_supported": true,
    }) else {
        unreachable!("a JSON object literal")
    };
    document
}

/// What strict OpenID parsers require besides RFC 8414's fields.
fn add_openid(document: &mut Map<String, Value>) {
    document.insert("subject_types_supported".into(), json!(["public"]));
    document.insert(
        "id_token_signing_alg_values_supported".into(),
        json!(["RS256"]),
    );
}
