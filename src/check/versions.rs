//! `protocol-versions`: which MCP revisions the server speaks. The stateless
//! 2026-07-28 revision starts with `server/discover`; the earlier ones with
//! `initialize`, where a server that does not speak the offered version
//! answers with one it does.

use serde_json::{Value, json};
use url::Url;

use super::session::{RpcFailure, rpc_result};
use super::{
    CheckId, INITIALIZE_VERSIONS, NO_TOKEN, Probe, STATELESS_VERSION, Status, client_info,
};

impl Probe<'_> {
    /// With `--token`: `server/discover`, then `initialize` offering each
    /// earlier revision; every session opened is closed.
    pub(super) fn protocol_versions(&mut self, url: &Url) {
        let Some(token) = self.options.token.clone() else {
            self.add(
                CheckId::ProtocolVersions,
                Status::Skip,
                NO_TOKEN.to_string(),
            );
            return;
        };
        let authorization = token.bearer();
        let mut outcomes = vec![(STATELESS_VERSION, self.discover(url, &authorization))];
        for offered in INITIALIZE_VERSIONS {
            let outcome = self
                .open_session(url, authorization.clone(), offered)
                .and_then(|session| {
                    self.close(url, &session);
                    match session.version.as_deref() {
                        Some(version) if version == offered => Ok(String::new()),
                        Some(other) => Err(RpcFailure {
                            reply: None,
                            reason: format!("initialize answered {other}"),
                        }),
                        None => Err(RpcFailure {
                            reply: None,
                            reason: "initialize named no protocolVersion".to_string(),
                        }),
                    }
                });
            outcomes.push((offered, outcome));
        }
        let attempts = outcomes.len();
        let mut spoken = Vec::new();
        let mut not_spoken = Vec::new();
        let mut refused = 0;
        let mut speaks_stateless = false;
        for (version, outcome) in outcomes {
            match outcome {
                Ok(how) => {
                    speaks_stateless |= version == STATELESS_VERSION;
                    spoken.push(format!("{version}{how}"));
                }
                Err(failure) => {
                    if failure.reply.as_ref().is_some_and(|r| r.status == 401) {
                        refused += 1;
                    }
                    not_spoken.push(format!("{version} ({})", failure.reason));
                }
            }
        }
        let speaks_initialize = spoken.len() > usize::from(speaks_stateless);
        let mut reason = if spoken.is_empty() {
            "speaks none of them".to_string()
        } else {
            format!("speaks {}", spoken.join(", "))
        };
        if !not_spoken.is_empty() {
            reason.push_str(&format!("; not {}", not_spoken.join(", ")));
        }
        let status = if spoken.is_empty() {
            if refused == attempts {
                reason.push_str(": every attempt got 401, so --token was refused");
            }
            Status::Fail
        } else if !speaks_stateless {
            reason.push_str(&format!(
                ": clients that negotiate {STATELESS_VERSION} (the Python SDK 2.x by default) \
                 must fall back to initialize"
            ));
            Status::Warn
        } else if !speaks_initialize {
            reason.push_str(
                ": clients of 2025-11-25 and earlier, most clients today, begin with initialize \
                 and cannot connect",
            );
            Status::Warn
        } else {
            Status::Pass
        };
        self.add(CheckId::ProtocolVersions, status, reason);
    }

    /// `server/discover` in the 2026-07-28 way: the version and the client's
    /// capabilities in `_meta`, the version and method in headers.
    fn discover(&self, url: &Url, authorization: &str) -> Result<String, RpcFailure> {
        let request = json!({
            "jsonrpc": "2.0",
            "id": 4,
            "method": "server/discover",
            "params": {"_meta": {
                "io.modelcontextprotocol/protocolVersion": STATELESS_VERSION,
                "io.modelcontextprotocol/clientInfo": client_info(),
                "io.modelcontextprotocol/clientCapabilities": {},
            }},
        });
        let headers = [
            ("Authorization", authorization),
            ("MCP-Protocol-Version", STATELESS_VERSION),
            ("Mcp-Method", "server/discover"),
        ];
        let (_, result) = rpc_result(
            self.http.post_rpc(url, &headers, &request, Some(4)),
            "server/discover",
        )?;
        let listed: Option<Vec<&str>> = result
            .get("supportedVersions")
            .and_then(Value::as_array)
            .map(|versions| versions.iter().filter_map(Value::as_str).collect());
        match listed {
            Some(versions) if versions.contains(&STATELESS_VERSION) => {
                Ok(" (server/discover)".to_string())
            }
            Some(versions) => Err(RpcFailure {
                reply: None,
                reason: format!(
                    "server/discover lists only {}",
                    if versions.is_empty() {
                        "no version".to_string()
                    } else {
                        versions.join(", ")
                    }
                ),
            }),
            None => Err(RpcFailure {
                reply: None,
                reason: "server/discover result has no supportedVersions".to_string(),
            }),
        }
    }
}
