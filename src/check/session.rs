//! The checks that need tokens: an authenticated session (`initialize`,
//! `notifications/initialized`, `tools/list`) and the refusal of a token
//! issued for another audience.

use serde_json::{Value, json};
use url::Url;

use super::challenge;
use super::http::{Reply, RpcReply, status_line};
use super::{CheckId, PROTOCOL_VERSION, Probe, Status, initialize};

impl Probe<'_> {
    /// With `--token`: `initialize`, `notifications/initialized`, `tools/list`.
    pub(super) fn authenticated(&mut self, url: &Url) {
        let Some(token) = self.options.token.clone() else {
            let reason = "no --token given (or MCP_CHECK_TOKEN)".to_string();
            self.add(
                CheckId::AuthenticatedInitialize,
                Status::Skip,
                reason.clone(),
            );
            self.add(CheckId::AuthenticatedToolsList, Status::Skip, reason);
            return;
        };
        let authorization = token.bearer();
        let init = self.http.post_rpc(
            url,
            &[("Authorization", &authorization)],
            &initialize(),
            Some(1),
        );
        let (session, version) = match rpc_result(init, "initialize") {
            Ok((reply, result)) => {
                let session = reply.header("mcp-session-id").map(str::to_string);
                let version = result
                    .get("protocolVersion")
                    .and_then(Value::as_str)
                    .unwrap_or(PROTOCOL_VERSION)
                    .to_string();
                let server = result
                    .pointer("/serverInfo/name")
                    .and_then(Value::as_str)
                    .unwrap_or("unnamed");
                let mut reason = format!(
                    "server {server}, protocol {version}, {}",
                    if session.is_some() {
                        "session id given"
                    } else {
                        "no session (stateless)"
                    }
                );
                let mut headers = vec![
                    ("Authorization", authorization.as_str()),
                    ("MCP-Protocol-Version", version.as_str()),
                ];
                if let Some(session) = &session {
                    headers.push(("Mcp-Session-Id", session));
                }
                let notification = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
                let status = match self.http.post_rpc(url, &headers, &notification, None) {
                    Ok(rpc) if (200..300).contains(&rpc.reply.status) => Status::Pass,
                    Ok(rpc) => {
                        reason.push_str(&format!(
                            "; notifications/initialized got {}, expected 202 Accepted",
                            status_line(rpc.reply.status)
                        ));
                        Status::Warn
                    }
                    Err(error) => {
                        reason.push_str(&format!("; notifications/initialized failed: {error}"));
                        Status::Warn
                    }
                };
                self.add(CheckId::AuthenticatedInitialize, status, reason);
                (session, version)
            }
            Err(reason) => {
                self.add(CheckId::AuthenticatedInitialize, Status::Fail, reason);
                self.add(
                    CheckId::AuthenticatedToolsList,
                    Status::Skip,
                    "initialize failed".to_string(),
                );
                return;
            }
        };

        let mut headers = vec![
            ("Authorization", authorization.as_str()),
            ("MCP-Protocol-Version", version.as_str()),
        ];
        if let Some(session) = &session {
            headers.push(("Mcp-Session-Id", session));
        }
        let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}});
        let outcome = rpc_result(
            self.http.post_rpc(url, &headers, &list, Some(2)),
            "tools/list",
        );
        let (status, reason) = match outcome {
            Ok((_, result)) => match result.get("tools").and_then(Value::as_array) {
                Some(tools) => {
                    let names: Vec<&str> = tools
                        .iter()
                        .filter_map(|t| t.get("name").and_then(Value::as_str))
                        .collect();
                    (
                        Status::Pass,
                        format!("{} tool(s): {}", tools.len(), summarize(&names)),
                    )
                }
                None => (
                    Status::Fail,
                    "tools/list result has no tools array".to_string(),
                ),
            },
            Err(reason) => (Status::Fail, reason),
        };
        self.add(CheckId::AuthenticatedToolsList, status, reason);
        // The probe's session is not left open on the server. Servers may
        // refuse clients ending sessions (405), so the answer is not judged.
        if session.is_some() {
            let _ = self.http.delete(url, &headers);
        }
    }

    /// With `--wrong-audience-token`: such a token must get 401.
    pub(super) fn wrong_audience(&mut self, url: &Url) {
        let Some(token) = self.options.wrong_audience_token.clone() else {
            self.add(
                CheckId::WrongAudienceRefused,
                Status::Skip,
                "no --wrong-audience-token given (or MCP_CHECK_WRONG_AUDIENCE_TOKEN)".to_string(),
            );
            return;
        };
        let authorization = token.bearer();
        let outcome = self.http.post_rpc(
            url,
            &[("Authorization", &authorization)],
            &initialize(),
            Some(1),
        );
        let (status, reason) = match outcome {
            Err(reason) => (Status::Fail, reason),
            Ok(rpc) => {
                let error = challenge::bearer(&rpc.reply.headers_all("www-authenticate"))
                    .and_then(|c| c.param("error").map(|e| format!(" (error=\"{e}\")")))
                    .unwrap_or_default();
                match rpc.reply.status {
                    401 => (
                        Status::Pass,
                        format!("refused with 401 Unauthorized{error}"),
                    ),
                    403 => (
                        Status::Warn,
                        format!(
                            "refused, but with 403 Forbidden{error}; a token for another audience is invalid and should get 401 (RFC 6750 3.1)"
                        ),
                    ),
                    200..=299 => (
                        Status::Fail,
                        format!(
                            "accepted ({}): the server does not check the token's audience, so tokens issued for other services work here (RFC 8707)",
                            status_line(rpc.reply.status)
                        ),
                    ),
                    other => (
                        Status::Fail,
                        format!("got {}, expected 401 Unauthorized", status_line(other)),
                    ),
                }
            }
        };
        self.add(CheckId::WrongAudienceRefused, status, reason);
    }
}

/// The `result` of a JSON-RPC exchange, or why there is none.
fn rpc_result(outcome: Result<RpcReply, String>, method: &str) -> Result<(Reply, Value), String> {
    let rpc = outcome?;
    let status = rpc.reply.status;
    if !(200..300).contains(&status) {
        let description = challenge::bearer(&rpc.reply.headers_all("www-authenticate"))
            .and_then(|c| {
                c.param("error_description")
                    .or(c.param("error"))
                    .map(|d| format!(" ({d})"))
            })
            .unwrap_or_default();
        return Err(format!("{method} got {}{description}", status_line(status)));
    }
    let Some(message) = rpc.message else {
        return Err(format!(
            "{method} got {} but no JSON-RPC response (JSON or text/event-stream)",
            status_line(status)
        ));
    };
    if let Some(error) = message.get("error") {
        return Err(format!(
            "{method} got JSON-RPC error {}: {}",
            error.get("code").unwrap_or(&Value::Null),
            error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("no message")
        ));
    }
    match message.get("result") {
        Some(result) => {
            let result = result.clone();
            Ok((rpc.reply, result))
        }
        None => Err(format!("{method} response has neither result nor error")),
    }
}

/// The first few names, and how many more.
fn summarize(names: &[&str]) -> String {
    const SHOWN: usize = 8;
    if names.is_empty() {
        return "none".to_string();
    }
    let mut text = names
        .iter()
        .take(SHOWN)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
}
