//! The checks on the authorization servers the metadata names: their
//! metadata (RFC 8414 or OpenID discovery), PKCE S256 and a way for public
//! clients to register.

use serde_json::Value;
use url::Url;

use super::{CheckId, Doc, Probe, Status, well_known};

/// The authorization server metadata found for one issuer.
struct Issuer {
    issuer: String,
    doc: Doc,
}

impl Probe<'_> {
    /// The authorization server checks, on the servers `metadata` names.
    pub(super) fn authorization(&mut self, metadata: Option<&Doc>) {
        let issuers = self.authorization_servers(metadata);
        self.authorization_server_features(&issuers);
    }

    /// Fetches the metadata of each authorization server the document names.
    fn authorization_servers(&mut self, metadata: Option<&Doc>) -> Vec<Issuer> {
        let issuers: Vec<String> = metadata
            .and_then(|doc| doc.value.get("authorization_servers"))
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if issuers.is_empty() {
            self.add(
                CheckId::AuthorizationServerMetadata,
                Status::Skip,
                "no authorization server named in the metadata".to_string(),
            );
            return Vec::new();
        }
        let mut found = Vec::new();
        let mut notes = Vec::new();
        let mut failures = Vec::new();
        let mut doubtful = false;
        for issuer in &issuers {
            let Ok(issuer_url) = Url::parse(issuer) else {
                failures.push(format!("{issuer} is not an absolute URL"));
                continue;
            };
            let mut misses = Vec::new();
            let mut hit = None;
            for candidate in authorization_server_metadata_urls(&issuer_url) {
                match self.fetch_doc(&candidate) {
                    Ok(doc) => {
                        hit = Some(doc);
                        break;
                    }
                    Err(reason) => misses.push(reason),
                }
            }
            let Some(doc) = hit else {
                failures.push(misses.join("; "));
                continue;
            };
            let mut note = format!("{issuer}: found at {}", doc.url);
            if !doc.redirects.is_empty() {
                doubtful = true;
                note.push_str(&format!(" after redirect {}", doc.redirects.join(", ")));
            }
            let named = doc.str("issuer");
            if named != Some(issuer.as_str()) {
                doubtful = true;
                note.push_str(&format!(
                    ", but its issuer is {}: RFC 8414 3.3 requires the one named",
                    named.unwrap_or("missing")
                ));
            }
            notes.push(note);
            found.push(Issuer {
                issuer: issuer.clone(),
                doc,
            });
        }
        let status = if found.is_empty() {
            Status::Fail
        } else if doubtful || !failures.is_empty() {
            Status::Warn
        } else {
            Status::Pass
        };
        let reason = if found.is_empty() {
            format!("no metadata found: {}", failures.join("; "))
        } else {
            notes
                .into_iter()
                .chain(failures.into_iter().map(|f| format!("not found: {f}")))
                .collect::<Vec<_>>()
                .join("; ")
        };
        self.add(CheckId::AuthorizationServerMetadata, status, reason);
        found
    }

    fn authorization_server_features(&mut self, issuers: &[Issuer]) {
        if issuers.is_empty() {
            let reason = "no authorization server metadata found".to_string();
            self.add(CheckId::PkceS256, Status::Skip, reason.clone());
            self.add(CheckId::PublicClientRegistration, Status::Skip, reason);
            return;
        }

        let lacking: Vec<&str> = issuers
            .iter()
            .filter(|i| {
                !i.doc
                    .value
                    .get("code_challenge_methods_supported")
                    .and_then(Value::as_array)
                    .is_some_and(|methods| methods.iter().any(|m| m == "S256"))
            })
            .map(|i| i.issuer.as_str())
            .collect();
        let (status, reason) = if lacking.is_empty() {
            (
                Status::Pass,
                "S256 in code_challenge_methods_supported".to_string(),
            )
        } else {
            (
                Status::Fail,
                format!(
                    "no S256 in code_challenge_methods_supported of {}: MCP clients refuse to proceed without it",
                    lacking.join(", ")
                ),
            )
        };
        self.add(CheckId::PkceS256, status, reason);

        let mut ways = Vec::new();
        let mut lacking = Vec::new();
        for issuer in issuers {
            let mut here = Vec::new();
            if let Some(endpoint) = issuer.doc.str("registration_endpoint") {
                here.push(format!("dynamic client registration at {endpoint}"));
            }
            if issuer
                .doc
                .value
                .get("client_id_metadata_document_supported")
                == Some(&Value::Bool(true))
            {
                here.push("client ID metadata documents".to_string());
            }
            if here.is_empty() {
                lacking.push(issuer.issuer.as_str());
            }
            ways.extend(here);
        }
        let (status, reason) = if lacking.is_empty() {
            (Status::Pass, ways.join(", "))
        } else {
            (
                Status::Warn,
                format!(
                    "no registration_endpoint and no client_id_metadata_document_supported: true at {}; public clients (Claude, Cursor, VS Code) need a pre-registered client id",
                    lacking.join(", ")
                ),
            )
        };
        self.add(CheckId::PublicClientRegistration, status, reason);
    }
}

/// Where clients look for an issuer's metadata, in MCP 2025-11-25's order.
fn authorization_server_metadata_urls(issuer: &Url) -> Vec<Url> {
    if issuer.path().trim_end_matches('/').is_empty() {
        return vec![
            well_known(issuer, "oauth-authorization-server", false),
            well_known(issuer, "openid-configuration", false),
        ];
    }
    let mut appended = issuer.clone();
    appended.set_path(&format!(
        "{}/.well-known/openid-configuration",
        issuer.path().trim_end_matches('/')
    ));
    vec![
        well_known(issuer, "oauth-authorization-server", true),
        well_known(issuer, "openid-configuration", true),
        appended,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn issuer_locations_follow_mcp_order() {
        let issuer = url("https://acme.scalekit.com/resources/res_1");
        let urls: Vec<String> = authorization_server_metadata_urls(&issuer)
            .iter()
            .map(Url::to_string)
            .collect();
        assert_eq!(
            urls,
            [
                "https://acme.scalekit.com/.well-known/oauth-authorization-server/resources/res_1",
                "https://acme.scalekit.com/.well-known/openid-configuration/resources/res_1",
                "https://acme.scalekit.com/resources/res_1/.well-known/openid-configuration",
            ]
        );
        let root: Vec<String> = authorization_server_metadata_urls(&url("https://as.example/"))
            .iter()
            .map(Url::to_string)
            .collect();
        assert_eq!(
            root,
            [
                "https://as.example/.well-known/oauth-authorization-server",
                "https://as.example/.well-known/openid-configuration",
            ]
        );
    }
}
