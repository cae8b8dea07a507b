//! `insufficient-scope`: a valid token without the scope a tool needs must
//! get 403 with `error="insufficient_scope"` and the scopes to ask for, so a
//! client can step up (RFC 6750 3.1, MCP 2025-11-25 authorization).

use serde_json::{Value, json};
use url::Url;

use super::challenge;
use super::http::Reply;
use super::session::{RpcFailure, rpc_result};
use super::{CheckId, INITIALIZE_VERSIONS, Probe, Status};

impl Probe<'_> {
    /// With `--limited-token` and `--tool`: opens a session with the limited
    /// token and calls the tool. A server that refuses the token already at
    /// `initialize` is judged on that refusal.
    pub(super) fn insufficient_scope(&mut self, url: &Url) {
        let (status, reason) = match (&self.options.limited_token, &self.options.tool) {
            (None, _) => (
                Status::Skip,
                "no --limited-token given (or MCP_CHECK_LIMITED_TOKEN)".to_string(),
            ),
            (Some(_), None) => (
                Status::Skip,
                "no --tool given: name a tool the limited token lacks a scope for".to_string(),
            ),
            (Some(token), Some(tool)) => self.call_with_limited_token(url, token.bearer(), tool),
        };
        self.add(CheckId::InsufficientScope, status, reason);
    }

    fn call_with_limited_token(
        &self,
        url: &Url,
        authorization: String,
        tool: &str,
    ) -> (Status, String) {
        let session = match self.open_session(url, authorization, INITIALIZE_VERSIONS[0]) {
            Ok(session) => session,
            Err(RpcFailure {
                reply: Some(reply),
                reason,
            }) if matches!(reply.status, 401 | 403) => {
                return judge(&reply, "initialize", &reason);
            }
            Err(failure) => {
                return (
                    Status::Fail,
                    format!("with the limited token, {}", failure.reason),
                );
            }
        };
        // Not judged: the call below is what this check is about.
        let _ = self.initialized(url, &session);
        let call = json!({
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": tool, "arguments": self.options.tool_arguments},
        });
        let what = format!("tools/call {tool}");
        let outcome = rpc_result(
            self.http.post_rpc(url, &session.headers(), &call, Some(3)),
            &what,
        );
        self.close(url, &session);
        match outcome {
            Ok((_, result)) => {
                let tool_error = result.get("isError") == Some(&Value::Bool(true));
                (
                    Status::Fail,
                    format!(
                        "{what} with the limited token got a result{}: a call lacking a scope \
                         must get 403 Forbidden with error=\"insufficient_scope\" (is {tool} \
                         protected by a scope the token lacks?)",
                        if tool_error { " (isError)" } else { "" }
                    ),
                )
            }
            Err(RpcFailure {
                reply: Some(reply),
                reason,
            }) => judge(&reply, &what, &reason),
            Err(failure) => (Status::Fail, failure.reason),
        }
    }
}

/// Judges the answer to a request that lacked a scope: `reason` is why it
/// was not a result.
fn judge(reply: &Reply, what: &str, reason: &str) -> (Status, String) {
    let bearer = challenge::bearer(&reply.headers_all("www-authenticate"));
    let param = |name: &str| bearer.as_ref().and_then(|c| c.param(name)).map(str::trim);
    match reply.status {
        403 => {}
        401 => {
            let error = param("error")
                .map(|e| format!(" (error=\"{e}\")"))
                .unwrap_or_default();
            return (
                Status::Fail,
                format!(
                    "{what} with the limited token got 401 Unauthorized{error}: a valid token \
                     lacking a scope must get 403 with error=\"insufficient_scope\"; a 401 says \
                     the token is invalid, so clients sign in again for the same scopes \
                     instead of asking for more"
                ),
            );
        }
        200..=299 => {
            return (
                Status::Fail,
                format!(
                    "{reason}: a call lacking a scope must get an HTTP 403 Forbidden with \
                     error=\"insufficient_scope\", which clients act on; a JSON-RPC error does \
                     not make them ask for more scopes"
                ),
            );
        }
        _ => {
            return (
                Status::Fail,
                format!("{reason}, expected 403 Forbidden with error=\"insufficient_scope\""),
            );
        }
    }
    let mut problems = Vec::new();
    match param("error") {
        Some("insufficient_scope") => {}
        Some(other) => problems.push(format!(
            "error=\"{other}\" instead of \"insufficient_scope\""
        )),
        None => problems.push("no error=\"insufficient_scope\"".to_string()),
    }
    let scope = param("scope").filter(|scope| !scope.is_empty());
    if scope.is_none() {
        problems.push(
            "no scope: clients cannot tell which scopes to ask for (MCP 2025-11-25 SHOULD \
             name all the operation needs)"
                .to_string(),
        );
    }
    let what = format!("{what} with the limited token got 403 Forbidden");
    if !problems.is_empty() {
        let challenge = if bearer.is_some() {
            ""
        } else {
            " (no Bearer challenge)"
        };
        return (
            Status::Fail,
            format!("{what}{challenge}, but {}", problems.join("; ")),
        );
    }
    let scope = scope.unwrap_or_default();
    match param("resource_metadata") {
        Some(_) => (
            Status::Pass,
            format!(
                "{what} with error=\"insufficient_scope\", scope=\"{scope}\" and resource_metadata"
            ),
        ),
        None => (
            Status::Warn,
            format!(
                "{what} with error=\"insufficient_scope\" and scope=\"{scope}\", but no \
                 resource_metadata: clients then rely on the one from the first 401 \
                 (MCP 2025-11-25 SHOULD)"
            ),
        ),
    }
}
