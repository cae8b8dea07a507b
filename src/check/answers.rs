//! The `answers-*` rows: the live server and its authorization server
//! compared with what the owner answered (`--answers FILE`, or
//! `mcp-oauth.yaml` inside a generated project). They catch the mistakes met
//! when moving to Scalekit, and each failing or warning row names the
//! dashboard setting or the answer to change, in the generated README's words
//! ("Register the MCP server", "Enable Dynamic Client Registration (DCR) and
//! Client ID Metadata Documents (CIMD)", "Define the scopes").

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use url::Url;

use super::{CheckId, Doc, NO_TOKEN, Probe, Status};
use crate::Project;

/// What the owner answered, as the rows compare it.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    pub resource: String,
    /// Without a trailing slash.
    pub environment_url: String,
    pub resource_id: String,
    pub scopes: Vec<String>,
    pub audience: Vec<String>,
}

impl Expected {
    pub fn from_project(project: &Project) -> Expected {
        Expected {
            resource: project.resource.clone(),
            environment_url: project.environment_url.trim_end_matches('/').to_owned(),
            resource_id: project.resource_id.clone(),
            scopes: project.scopes.iter().map(|s| s.name.clone()).collect(),
            audience: project.audience.clone(),
        }
    }

    /// `<environment_url>/resources/<resource_id>`: Scalekit's issuer for
    /// the MCP server.
    fn issuer(&self) -> String {
        format!("{}/resources/{}", self.environment_url, self.resource_id)
    }
}

impl Probe<'_> {
    /// Every `answers-*` row, after the other checks.
    pub(super) fn answers(&mut self, expected: &Expected, metadata: Option<&Doc>) {
        self.answers_resource(expected, metadata);
        self.answers_authorization_server(expected, metadata);
        let issuer = self.answers_resource_known(expected);
        self.answers_scopes_defined(expected, issuer.as_ref());
        self.answers_scopes_advertised(expected, metadata);
        self.answers_public_clients(issuer.as_ref());
        self.answers_keys(expected);
        self.answers_audience(expected);
    }

    fn answers_resource(&mut self, expected: &Expected, metadata: Option<&Doc>) {
        let id = CheckId::AnswersResource;
        let Some(found) = metadata.map(|doc| doc.str("resource")) else {
            return self.add(id, Status::Fail, no_metadata());
        };
        match found {
            Some(found) if found == expected.resource => self.add(
                id,
                Status::Pass,
                format!("resource is {found}, as answered"),
            ),
            found => {
                let found = found.unwrap_or("missing");
                let slash =
                    if found.trim_end_matches('/') == expected.resource.trim_end_matches('/') {
                        " (they differ by a trailing slash)"
                    } else {
                        ""
                    };
                self.add(
                    id,
                    Status::Fail,
                    format!(
                        "the metadata's resource is {found}, the answers' {}{slash}: every \
                         token's aud then misses. The Server URL you Register the MCP server \
                         with (Scalekit dashboard, MCP Servers), `resource` in mcp-oauth.yaml \
                         and MCP_RESOURCE must be the same string",
                        expected.resource
                    ),
                )
            }
        }
    }

    fn answers_authorization_server(&mut self, expected: &Expected, metadata: Option<&Doc>) {
        let id = CheckId::AnswersAuthorizationServer;
        let Some(doc) = metadata else {
            return self.add(id, Status::Fail, no_metadata());
        };
        let issuer = expected.issuer();
        let named = strings(doc.value.get("authorization_servers"));
        if named.iter().any(|server| *server == issuer) {
            self.add(
                id,
                Status::Pass,
                format!("authorization_servers holds {issuer}"),
            );
        } else {
            self.add(
                id,
                Status::Fail,
                format!(
                    "authorization_servers is [{}], without {issuer}: set \
                     scalekit.environment_url and scalekit.resource_id in mcp-oauth.yaml (or \
                     SCALEKIT_ENVIRONMENT_URL and SCALEKIT_RESOURCE_ID) to your environment and \
                     the MCP server's id",
                    named.join(", ")
                ),
            );
        }
    }

    /// The issuer's RFC 8414 metadata, which a wrong resource id lacks.
    fn answers_resource_known(&mut self, expected: &Expected) -> Option<Doc> {
        let id = CheckId::AnswersResourceKnown;
        let issuer = expected.issuer();
        let url = match Url::parse(&format!(
            "{}/.well-known/oauth-authorization-server/resources/{}",
            expected.environment_url, expected.resource_id
        )) {
            Ok(url) => url,
            Err(error) => {
                self.add(id, Status::Fail, format!("no metadata URL: {error}"));
                return None;
            }
        };
        match self.fetch_doc(&url) {
            Ok(doc) if doc.str("issuer") == Some(issuer.as_str()) => {
                self.add(id, Status::Pass, format!("{issuer}: metadata at {url}"));
                Some(doc)
            }
            Ok(doc) => {
                let found = doc.str("issuer").unwrap_or("missing").to_owned();
                self.add(
                    id,
                    Status::Fail,
                    format!("the metadata at {url} names issuer {found}, not {issuer}"),
                );
                Some(doc)
            }
            Err(reason) if reason.contains(" answered ") => {
                self.add(
                    id,
                    Status::Fail,
                    format!(
                        "{reason}: {} knows no MCP server {}. Its id (res_...) is shown under \
                         MCP Servers in the Scalekit dashboard; set it as scalekit.resource_id \
                         in mcp-oauth.yaml",
                        expected.environment_url, expected.resource_id
                    ),
                );
                None
            }
            Err(reason) => {
                self.add(
                    id,
                    Status::Fail,
                    format!("{reason}: is scalekit.environment_url your environment?"),
                );
                None
            }
        }
    }

    fn answers_scopes_defined(&mut self, expected: &Expected, issuer: Option<&Doc>) {
        let id = CheckId::AnswersScopesDefined;
        let Some(doc) = issuer else {
            return self.add(id, Status::Skip, no_issuer());
        };
        let supported = strings(doc.value.get("scopes_supported"));
        let missing: Vec<&str> = expected
            .scopes
            .iter()
            .map(String::as_str)
            .filter(|scope| !supported.contains(scope))
            .collect();
        if missing.is_empty() {
            let reason = if expected.scopes.is_empty() {
                "no scopes answered".to_owned()
            } else {
                format!("{} defined", expected.scopes.join(" "))
            };
            self.add(id, Status::Pass, reason);
        } else {
            self.add(
                id,
                Status::Fail,
                format!(
                    "not in the authorization server's scopes_supported: {}; the consent \
                     screen never offers them. Define the scopes in the Scalekit dashboard \
                     (MCP Servers, your server)",
                    missing.join(" ")
                ),
            );
        }
    }

    fn answers_scopes_advertised(&mut self, expected: &Expected, metadata: Option<&Doc>) {
        let id = CheckId::AnswersScopesAdvertised;
        let Some(doc) = metadata else {
            return self.add(id, Status::Skip, no_metadata());
        };
        let mut advertised = strings(doc.value.get("scopes_supported"));
        let mut answered: Vec<&str> = expected.scopes.iter().map(String::as_str).collect();
        advertised.sort_unstable();
        answered.sort_unstable();
        if advertised == answered {
            self.add(
                id,
                Status::Pass,
                "scopes_supported is the answers' scopes".into(),
            );
        } else {
            self.add(
                id,
                Status::Warn,
                format!(
                    "the server advertises [{}], the answers declare [{}]: is it built from \
                     other answers? Run mcp-oauth-new update, then rebuild and redeploy",
                    advertised.join(" "),
                    answered.join(" ")
                ),
            );
        }
    }

    fn answers_public_clients(&mut self, issuer: Option<&Doc>) {
        let id = CheckId::AnswersPublicClients;
        let Some(doc) = issuer else {
            return self.add(id, Status::Skip, no_issuer());
        };
        let mut off = Vec::new();
        if doc.str("registration_endpoint").is_none() {
            off.push("Dynamic Client Registration (DCR) is off: no registration_endpoint");
        }
        if doc.value.get("client_id_metadata_document_supported") != Some(&Value::Bool(true)) {
            off.push(
                "Client ID Metadata Documents (CIMD) are off: client_id_metadata_document_supported is not true",
            );
        }
        if !strings(doc.value.get("token_endpoint_auth_methods_supported")).contains(&"none") {
            off.push(
                "public clients cannot use the token endpoint: no `none` among its auth methods",
            );
        }
        if off.is_empty() {
            self.add(
                id,
                Status::Pass,
                "DCR and CIMD on, public clients accepted".into(),
            );
        } else {
            self.add(
                id,
                Status::Warn,
                format!(
                    "{}. Claude, VS Code and the MCP Inspector need them: Enable Dynamic Client \
                     Registration (DCR) and Client ID Metadata Documents (CIMD) in the Scalekit \
                     dashboard, then restart the server",
                    off.join("; ")
                ),
            );
        }
    }

    fn answers_keys(&mut self, expected: &Expected) {
        let id = CheckId::AnswersKeys;
        let url = match Url::parse(&format!("{}/keys", expected.environment_url)) {
            Ok(url) => url,
            Err(error) => return self.add(id, Status::Fail, format!("no key URL: {error}")),
        };
        let keys = match self.fetch_doc(&url) {
            Ok(doc) => doc.value.get("keys").and_then(Value::as_array).cloned(),
            Err(reason) => {
                return self.add(
                    id,
                    Status::Fail,
                    format!("{reason}: is scalekit.environment_url your environment?"),
                );
            }
        };
        let Some(keys) = keys else {
            return self.add(id, Status::Fail, format!("{url} holds no `keys` array"));
        };
        let rs256 = keys.iter().filter(|key| rs256_signing_key(key)).count();
        if rs256 > 0 {
            self.add(
                id,
                Status::Pass,
                format!("{rs256} RS256 signing key(s) at {url}"),
            );
        } else {
            self.add(
                id,
                Status::Fail,
                format!(
                    "none of the {} key(s) at {url} is an RS256 signing key (kty RSA, alg RS256): \
                     Scalekit's tokens could not be checked",
                    keys.len()
                ),
            );
        }
    }

    fn answers_audience(&mut self, expected: &Expected) {
        let id = CheckId::AnswersAudience;
        let Some(token) = &self.options.token else {
            return self.add(id, Status::Skip, NO_TOKEN.into());
        };
        let Some(claims) = claims(&token.0) else {
            return self.add(
                id,
                Status::Fail,
                "the --token is not a JWT, which Scalekit's access tokens are".into(),
            );
        };
        let aud = match claims.get("aud") {
            Some(Value::String(one)) => vec![one.as_str()],
            other => strings(other),
        };
        let issuers = [expected.environment_url.clone(), expected.issuer()];
        let iss = claims.get("iss").and_then(Value::as_str);
        let mut wrong = Vec::new();
        if !aud
            .iter()
            .any(|value| expected.audience.iter().any(|a| a == value))
        {
            wrong.push(format!(
                "its aud [{}] holds none of the answers' audience [{}]: `audience` in \
                 mcp-oauth.yaml (or MCP_AUDIENCE) must hold what Scalekit puts in aud, the \
                 resource id and the Server URL you registered",
                aud.join(", "),
                expected.audience.join(", ")
            ));
        }
        if !iss.is_some_and(|iss| issuers.iter().any(|accepted| accepted == iss)) {
            wrong.push(format!(
                "its iss {} is neither {} nor {}: is scalekit.environment_url your \
                 environment (a custom domain is the issuer then)?",
                iss.unwrap_or("(missing)"),
                issuers[0],
                issuers[1]
            ));
        }
        if wrong.is_empty() {
            self.add(
                id,
                Status::Pass,
                format!(
                    "the token's aud and iss ({}) are accepted",
                    iss.unwrap_or_default()
                ),
            );
        } else {
            self.add(id, Status::Fail, format!("the token: {}", wrong.join("; ")));
        }
    }
}

fn no_metadata() -> String {
    "no protected resource metadata to compare (see metadata-path-inserted)".into()
}

fn no_issuer() -> String {
    "no metadata for the answered issuer (see answers-resource-known)".into()
}

/// The strings of a JSON array; nothing for anything else.
fn strings(value: Option<&Value>) -> Vec<&str> {
    value
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// A JWK that can verify RS256 signatures.
fn rs256_signing_key(key: &Value) -> bool {
    let absent_or = |field: &str, wanted: &str| match key.get(field) {
        None | Some(Value::Null) => true,
        Some(value) => value == wanted,
    };
    key["kty"] == "RSA" && absent_or("alg", "RS256") && absent_or("use", "sig")
}

/// The claims of a JWT, decoded without verifying it; it is never printed.
fn claims(token: &str) -> Option<Map<String, Value>> {
    let mut parts = token.split('.');
    let (_, payload, _, None) = (parts.next()?, parts.next()?, parts.next()?, parts.next()) else {
        return None;
    };
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(claims) => Some(claims),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rs256_keys_are_rsa_signing_keys_with_rs256_or_no_alg() {
        assert!(rs256_signing_key(
            &json!({"kty": "RSA", "alg": "RS256", "use": "sig"})
        ));
        assert!(rs256_signing_key(&json!({"kty": "RSA"})));
        assert!(!rs256_signing_key(&json!({"kty": "RSA", "alg": "RS512"})));
        assert!(!rs256_signing_key(&json!({"kty": "RSA", "use": "enc"})));
        assert!(!rs256_signing_key(&json!({"kty": "EC", "alg": "ES256"})));
    }

    #[test]
    fn claims_are_read_from_a_jwt_only() {
        let payload = URL_SAFE_NO_PAD.encode(r#"{"aud":"x"}"#);
        assert_eq!(claims(&format!("h.{payload}.s")).unwrap()["aud"], "x");
        assert!(claims("not-a-jwt").is_none());
        assert!(claims(&format!("h.{payload}.s.extra")).is_none());
        assert!(claims("h.!!!.s").is_none());
    }
}
