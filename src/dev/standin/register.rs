//! Dynamic client registration (RFC 7591), the redirect URI rules shared with
//! Client ID Metadata Documents, and the lookup of a client by its id.

use serde_json::{Map, Value, json};
use url::Url;

use super::{Reply, Req, Shared};
use crate::dev::keys::{random_token, sha256_b64};
use crate::dev::state::Client;

/// Token endpoint authentication methods the stand-in knows.
pub const AUTH_METHODS: [&str; 3] = ["none", "client_secret_basic", "client_secret_post"];
const GRANT_TYPES: [&str; 2] = ["authorization_code", "refresh_token"];

/// `POST .../clients:register`.
pub fn register(shared: &Shared, req: &Req) -> Reply {
    if !req.is("application/json") {
        return invalid_metadata("the body must be a JSON object (Content-Type: application/json)");
    }
    let Ok(Value::Object(metadata)) = serde_json::from_slice::<Value>(&req.body) else {
        return invalid_metadata("the body must be a JSON object");
    };
    let client = match client_from_metadata(metadata, None) {
        Ok(client) => client,
        Err(reply) => return reply,
    };
    let (mut client, secret) = client;
    let mut response = client.metadata.clone();
    if let Some(secret) = &secret {
        response.insert("client_secret".into(), json!(secret));
        response.insert("client_secret_expires_at".into(), json!(0));
    }
    client.secret_sha256 = secret.as_deref().map(sha256_b64);
    let mut live = shared.live();
    live.saved.clients.insert(client.client_id.clone(), client);
    if let Err(error) = shared.persist(&live) {
        return Reply::oauth_error(500, "server_error", &format!("{error:#}"));
    }
    Reply::json(201, &Value::Object(response))
}

/// A client from its metadata: a new registration (`fixed_id` `None`: an id
/// and, for a confidential client, a secret are issued) or a Client ID
/// Metadata Document (`fixed_id` the document's URL; public clients only).
pub fn client_from_metadata(
    mut metadata: Map<String, Value>,
    fixed_id: Option<&str>,
) -> Result<(Client, Option<String>), Reply> {
    let redirect_uris = match metadata.get("redirect_uris") {
        Some(Value::Array(uris)) if !uris.is_empty() => uris
            .iter()
            .map(|uri| match uri.as_str() {
                Some(uri) => check_redirect_uri(uri).map(|()| uri.to_owned()),
                None => Err("every redirect URI must be a string".to_owned()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|why| Reply::oauth_error(400, "invalid_redirect_uri", &why))?,
        _ => {
            return Err(Reply::oauth_error(
                400,
                "invalid_redirect_uri",
                "`redirect_uris` must be a non-empty array of URIs",
            ));
        }
    };
    let default_method = if fixed_id.is_some() {
        "none"
    } else {
        "client_secret_basic"
    };
    let auth_method = match metadata.get("token_endpoint_auth_method") {
        None => default_method.to_owned(),
        Some(Value::String(method)) if AUTH_METHODS.contains(&method.as_str()) => method.clone(),
        Some(other) => {
            return Err(invalid_metadata(&format!(
                "token_endpoint_auth_method {other} is not one of {}",
                AUTH_METHODS.join(", ")
            )));
        }
    };
    if fixed_id.is_some() && auth_method != "none" {
        return Err(invalid_metadata(
            "a client metadata document describes a public client: token_endpoint_auth_method \
             must be none",
        ));
    }
    strings_within("grant_types", metadata.get("grant_types"), &GRANT_TYPES)?;
    strings_within("response_types", metadata.get("response_types"), &["code"])?;
    for field in ["client_name", "client_uri", "scope", "logo_uri"] {
        if metadata.get(field).is_some_and(|value| !value.is_string()) {
            return Err(invalid_metadata(&format!("`{field}` must be a string")));
        }
    }
    let name = metadata
        .get("client_name")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let client_id = fixed_id.map_or_else(|| format!("dev_{}", random_token()), str::to_owned);
    metadata.remove("client_secret");
    metadata.insert("client_id".into(), json!(client_id));
    metadata.insert("token_endpoint_auth_method".into(), json!(auth_method));
    metadata
        .entry("grant_types")
        .or_insert_with(|| json!(GRANT_TYPES));
    metadata
        .entry("response_types")
        .or_insert_with(|| json!(["code"]));
    if fixed_id.is_none() {
        metadata.insert("client_id_issued_at".into(), json!(crate::dev::now()));
    }
    let secret = (auth_method != "none").then(random_token);
    Ok((
        Client {
            client_id,
            metadata,
            redirect_uris,
            name,
            auth_method,
            secret_sha256: None,
        },
        secret,
    ))
}

fn strings_within(field: &str, value: Option<&Value>, allowed: &[&str]) -> Result<(), Reply> {
    let Some(value) = value else { return Ok(()) };
    let ok = value.as_array().is_some_and(|items| {
        items
            .iter()
            .all(|item| item.as_str().is_some_and(|item| allowed.contains(&item)))
    });
    if ok {
        Ok(())
    } else {
        Err(invalid_metadata(&format!(
            "`{field}` must be an array of {}",
            allowed.join(", ")
        )))
    }
}

fn invalid_metadata(why: &str) -> Reply {
    Reply::oauth_error(400, "invalid_client_metadata", why)
}

/// Schemes that run code or read local files where a browser lands.
const FORBIDDEN_SCHEMES: [&str; 7] = [
    "javascript",
    "data",
    "file",
    "blob",
    "vbscript",
    "about",
    "filesystem",
];

/// A redirect URI clients may register: `https`; `http` on a loopback host
/// only (RFC 8252 7.3); a private-use scheme such as `cursor://` (RFC 8252
/// 7.1); never a fragment or a scheme that runs code.
pub fn check_redirect_uri(uri: &str) -> Result<(), String> {
    let url =
        Url::parse(uri).map_err(|error| format!("`{uri}` is not an absolute URI: {error}"))?;
    if uri.contains('#') {
        return Err(format!(
            "`{uri}` has a fragment, which redirect URIs must not"
        ));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&url) => Ok(()),
        "http" => Err(format!(
            "`{uri}`: plain http is allowed only on a loopback host (127.0.0.1, [::1], localhost)"
        )),
        scheme if FORBIDDEN_SCHEMES.contains(&scheme) => Err(format!(
            "`{uri}`: the {scheme}: scheme is never a redirect URI"
        )),
        _ => Ok(()),
    }
}

pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    }
}

/// Whether `given` matches a registered URI: exactly, or for `http` on a
/// loopback host with any port (RFC 8252 7.3).
pub fn redirect_matches(registered: &str, given: &str) -> bool {
    if registered == given {
        return true;
    }
    let (Ok(mut registered), Ok(mut given)) = (Url::parse(registered), Url::parse(given)) else {
        return false;
    };
    if registered.scheme() != "http" || !is_loopback(&registered) || given.as_str().contains('#') {
        return false;
    }
    let _ = registered.set_port(None);
    let _ = given.set_port(None);
    registered == given
}

/// The client `client_id` names: registered here, or a metadata document.
pub fn find_client(shared: &Shared, client_id: &str) -> Result<Client, String> {
    if let Some(client) = shared.live().saved.clients.get(client_id) {
        return Ok(client.clone());
    }
    if shared.config().cimd && super::cimd::is_document_url(client_id) {
        return super::cimd::fetch(client_id);
    }
    Err(format!("no client `{client_id}` is registered here"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_follow_rfc_8252() {
        for ok in [
            "https://app.example.com/callback",
            "http://127.0.0.1:6274/oauth/callback",
            "http://localhost:6274/oauth/callback",
            "http://[::1]/cb",
            "cursor://anysphere.cursor-retrieval/oauth/callback",
            "com.example.app:/oauth",
        ] {
            assert_eq!(check_redirect_uri(ok), Ok(()), "{ok}");
        }
        for bad in [
            "http://example.com/callback",
            "https://app.example.com/cb#frag",
            "javascript:alert(1)",
            "data:text/html,hi",
            "file:///etc/passwd",
            "/relative",
            "",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loopback_ports_may_differ_and_nothing_else_may() {
        let registered = "http://127.0.0.1:6276/oauth/callback";
        assert!(redirect_matches(
            registered,
            "http://127.0.0.1:51000/oauth/callback"
        ));
        assert!(redirect_matches(
            registered,
            "http://127.0.0.1/oauth/callback"
        ));
        assert!(!redirect_matches(
            registered,
            "http://localhost:6276/oauth/callback"
        ));
        assert!(!redirect_matches(
            registered,
            "http://127.0.0.1:6276/oauth/callback/"
        ));
        assert!(!redirect_matches(
            registered,
            "http://127.0.0.1:6276/oauth/callback?x=1"
        ));
        assert!(!redirect_matches(
            "https://app.example.com/cb",
            "https://app.example.com:444/cb"
        ));
        assert!(redirect_matches("cursor://a/b", "cursor://a/b"));
    }
}
