//! The checks that need tokens: an authenticated session (`initialize`,
//! `notifications/initialized`, `tools/list`) and the refusal of a token
//! issued for another audience; and the session the scope and version checks
//! open the same way.

use serde_json::{Value, json};
use url::Url;

use super::challenge;
use super::http::{Reply, RpcReply, status_line};
use super::{CheckId, INITIALIZE_VERSIONS, NO_TOKEN, Probe, Status, initialize};

/// A session opened with `initialize`: what its later requests send.
pub(super) struct Session {
    /// The `Mcp-Session-Id` the server gave, if any (stateless servers give
    /// none).
    pub id: Option<String>,
    /// The version the server answered with; `None` when its result names
    /// none (then the offered one is sent, but never reported as its own).
    pub version: Option<String>,
    pub result: Value,
    offered: &'static str,
    authorization: String,
}

impl Session {
    /// The headers of every request after `initialize`.
    pub fn headers(&self) -> Vec<(&str, &str)> {
        let mut headers = vec![
            ("Authorization", self.authorization.as_str()),
            (
                "MCP-Protocol-Version",
                self.version.as_deref().unwrap_or(self.offered),
            ),
        ];
        if let Some(id) = &self.id {
            headers.push(("Mcp-Session-Id", id));
        }
        headers
    }
}

/// A JSON-RPC exchange without a result: the answer, when there was one, and
/// why it is not a result.
pub(super) struct RpcFailure {
    pub reply: Option<Box<Reply>>,
    pub reason: String,
}

impl Probe<'_> {
    /// `initialize` offering `offered`, with `authorization`.
    pub(super) fn open_session(
        &self,
        url: &Url,
        authorization: String,
        offered: &'static str,
    ) -> Result<Session, RpcFailure> {
        let outcome = self.http.post_rpc(
            url,
            &[("Authorization", &authorization)],
            &initialize(offered),
            Some(1),
        );
        let (reply, result) = rpc_result(outcome, "initialize")?;
        Ok(Session {
            id: reply.header("mcp-session-id").map(str::to_string),
            version: result
                .get("protocolVersion")
                .and_then(Value::as_str)
                .map(str::to_string),
            result,
            offered,
            authorization,
        })
    }

    /// `notifications/initialized`, which completes the handshake; `Err`
    /// says what went wrong.
    pub(super) fn initialized(&self, url: &Url, session: &Session) -> Result<(), String> {
        let notification = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        match self
            .http
            .post_rpc(url, &session.headers(), &notification, None)
        {
            Ok(rpc) if (200..300).contains(&rpc.reply.status) => Ok(()),
            Ok(rpc) => Err(format!(
                "notifications/initialized got {}, expected 202 Accepted",
                rpc.reply.status_text()
            )),
            Err(error) => Err(format!("notifications/initialized failed: {error}")),
        }
    }

    /// Ends a session the probe opened, so it is not left on the server.
    /// Servers may refuse clients ending sessions (405), so the answer is
    /// not judged.
    pub(super) fn close(&self, url: &Url, session: &Session) {
        if session.id.is_some() {
            let _ = self.http.delete(url, &session.headers());
        }
    }

    /// With `--token`: `initialize`, `notifications/initialized`, `tools/list`.
    pub(super) fn authenticated(&mut self, url: &Url) {
        let Some(token) = self.options.token.clone() else {
            let reason = NO_TOKEN.to_string();
            self.add(
                CheckId::AuthenticatedInitialize,
                Status::Skip,
                reason.clone(),
            );
            self.add(CheckId::AuthenticatedToolsList, Status::Skip, reason);
            return;
        };
        let offered = INITIALIZE_VERSIONS[0];
        let session = match self.open_session(url, token.bearer(), offered) {
            Ok(session) => session,
            Err(failure) => {
                self.add(
                    CheckId::AuthenticatedInitialize,
                    Status::Fail,
                    failure.reason,
                );
                self.add(
                    CheckId::AuthenticatedToolsList,
                    Status::Skip,
                    "initialize failed".to_string(),
                );
                return;
            }
        };
        let server = session
            .result
            .pointer("/serverInfo/name")
            .and_then(Value::as_str)
            .unwrap_or("unnamed");
        let mut status = Status::Pass;
        let version = match &session.version {
            Some(version) => format!("protocol {version}"),
            None => {
                status = Status::Warn;
                format!("no protocolVersion in its result (offered {offered})")
            }
        };
        let mut reason = format!(
            "server {server}, {version}, {}",
            if session.id.is_some() {
                "session id given"
            } else {
                "no session (stateless)"
            }
        );
        if let Err(problem) = self.initialized(url, &session) {
            reason.push_str(&format!("; {problem}"));
            status = Status::Warn;
        }
        self.add(CheckId::AuthenticatedInitialize, status, reason);

        let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}});
        let outcome = rpc_result(
            self.http.post_rpc(url, &session.headers(), &list, Some(2)),
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
            Err(failure) => (Status::Fail, failure.reason),
        };
        self.add(CheckId::AuthenticatedToolsList, status, reason);
        self.close(url, &session);
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
            &initialize(INITIALIZE_VERSIONS[0]),
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
                            rpc.reply.status_text()
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
pub(super) fn rpc_result(
    outcome: Result<RpcReply, String>,
    method: &str,
) -> Result<(Reply, Value), RpcFailure> {
    let rpc = outcome.map_err(|reason| RpcFailure {
        reply: None,
        reason,
    })?;
    let status = rpc.reply.status;
    let failure = |reply: Reply, reason: String| RpcFailure {
        reply: Some(Box::new(reply)),
        reason,
    };
    if !(200..300).contains(&status) {
        let description = challenge::bearer(&rpc.reply.headers_all("www-authenticate"))
            .and_then(|c| {
                c.param("error_description")
                    .or(c.param("error"))
                    .map(|d| format!(" ({d})"))
            })
            .unwrap_or_default();
        let reason = format!("{method} got {}{description}", rpc.reply.status_text());
        return Err(failure(rpc.reply, reason));
    }
    let Some(message) = rpc.message else {
        let reason = format!(
            "{method} got {} but no JSON-RPC response (JSON or text/event-stream)",
            status_line(status)
        );
        return Err(failure(rpc.reply, reason));
    };
    if let Some(error) = message.get("error") {
        let reason = format!(
            "{method} got JSON-RPC error {}: {}",
            error.get("code").unwrap_or(&Value::Null),
            error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("no message")
        );
        return Err(failure(rpc.reply, reason));
    }
    match message.get("result") {
        Some(result) => Ok((rpc.reply, result.clone())),
        None => Err(failure(
            rpc.reply,
            format!("{method} response has neither result nor error"),
        )),
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
