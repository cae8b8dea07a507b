//! Checks on MCP messages before rmcp sees them: per-tool scopes and session ownership.

use std::{
    borrow::Cow,
    collections::HashMap,
    fmt,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{
        Method, StatusCode,
        header::{CONTENT_LENGTH, CONTENT_TYPE},
    },
    middleware::Next,
    response::{IntoResponse, Response},
};
use rmcp::transport::streamable_http_server::session::local::SessionConfig;
use serde::{
    Deserialize, Deserializer,
    de::{self, IgnoredAny, MapAccess, Visitor},
};
use serde_json::Value;

use crate::{auth::Challenge, claims::Claims, config::Config, error::json_error, metrics, scopes};

/// Largest request body accepted on the MCP endpoint.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
const SESSION_ID: &str = "mcp-session-id";
/// rmcp closes idle sessions after its keep-alive; owners idle for twice that are forgotten.
const OWNER_IDLE_LIMIT: Duration =
    Duration::from_secs(2 * SessionConfig::DEFAULT_KEEP_ALIVE.as_secs());

/// State of the gate middleware.
pub struct Gate {
    challenge: Arc<Challenge>,
    stateless: bool,
    max_sessions_per_principal: usize,
    body_timeout: Duration,
    owners: Mutex<Owners>,
}

#[derive(Default)]
struct Owners {
    by_session: HashMap<String, Owner>,
    last_pruned: Option<Instant>,
}

struct Owner {
    sub: String,
    client_id: Option<String>,
    last_seen: Instant,
}

impl Owner {
    fn is(&self, claims: &Claims) -> bool {
        self.sub == claims.sub && self.client_id == claims.client_id
    }
}

impl Gate {
    pub fn new(challenge: Arc<Challenge>, config: &Config) -> Self {
        Self {
            challenge,
            stateless: config.stateless,
            max_sessions_per_principal: config.max_sessions_per_principal,
            body_timeout: config.body_timeout,
            owners: Mutex::default(),
        }
    }

    /// The open sessions of `claims`' principal (idle ones past the limit
    /// no longer count).
    fn sessions_of(&self, claims: &Claims) -> usize {
        let owners = self.owners.lock().unwrap_or_else(|e| e.into_inner());
        owners
            .by_session
            .values()
            .filter(|owner| owner.is(claims) && owner.last_seen.elapsed() < OWNER_IDLE_LIMIT)
            .count()
    }

    /// Whether `session` was created by the caller; refreshes its idle time.
    fn owned_by(&self, session: &str, claims: &Claims) -> bool {
        let mut owners = self.owners.lock().unwrap_or_else(|e| e.into_inner());
        match owners.by_session.get_mut(session) {
            Some(owner) if owner.is(claims) => {
                owner.last_seen = Instant::now();
                true
            }
            _ => false,
        }
    }

    fn record_owner(&self, session: &str, claims: &Claims) {
        let mut owners = self.owners.lock().unwrap_or_else(|e| e.into_inner());
        if owners
            .last_pruned
            .is_none_or(|at| at.elapsed() > OWNER_IDLE_LIMIT / 10)
        {
            owners
                .by_session
                .retain(|_, owner| owner.last_seen.elapsed() < OWNER_IDLE_LIMIT);
            owners.last_pruned = Some(Instant::now());
        }
        owners.by_session.insert(
            session.to_owned(),
            Owner {
                sub: claims.sub.clone(),
                client_id: claims.client_id.clone(),
                last_seen: Instant::now(),
            },
        );
        metrics::sessions_active(owners.by_session.len());
    }

    fn forget(&self, session: &str) {
        let mut owners = self.owners.lock().unwrap_or_else(|e| e.into_inner());
        owners.by_session.remove(session);
        metrics::sessions_active(owners.by_session.len());
    }
}

/// Only the fields the gate needs; everything else is left to rmcp.
#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    method: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ToolCall {
    #[serde(default)]
    id: Value,
    params: ToolCallParams,
}

/// `params.name` of a `tools/call`. Only an object is read: a derived
/// `Deserialize` would also take an array by position, where the gate and
/// rmcp could disagree on which tool is called.
struct ToolCallParams {
    name: String,
}

impl<'de> Deserialize<'de> for ToolCallParams {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ByName;
        impl<'de> Visitor<'de> for ByName {
            type Value = ToolCallParams;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("params as an object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut name = None;
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    if key != "name" {
                        map.next_value::<IgnoredAny>()?;
                    } else if name.is_some() {
                        return Err(de::Error::duplicate_field("name"));
                    } else {
                        name = Some(map.next_value::<String>()?);
                    }
                }
                let name = name.ok_or_else(|| de::Error::missing_field("name"))?;
                Ok(ToolCallParams { name })
            }
        }
        deserializer.deserialize_map(ByName)
    }
}

/// Middleware, after [`crate::auth::require_bearer`]: refuses tool calls the
/// token's scopes do not allow and requests on another principal's session.
pub async fn check_message(
    State(gate): State<Arc<Gate>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(claims) = request.extensions().get::<Arc<Claims>>().cloned() else {
        // Unreachable when mounted behind the bearer middleware; fail closed anyway.
        return json_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "Not authenticated",
        );
    };
    let session = request
        .headers()
        .get(SESSION_ID)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    if let Some(session) = &session
        && !gate.stateless
        && !gate.owned_by(session, &claims)
    {
        tracing::warn!(sub = claims.sub.as_str(), client_id = ?claims.client_id, status = 404, reason = "session of another principal or unknown", "request refused");
        return session_not_found();
    }

    let is_delete = request.method() == Method::DELETE;
    let request = if request.method() == Method::POST {
        match check_post(&gate, &claims, request).await {
            Ok((
                request,
                Inspected {
                    initialize: true, ..
                },
            )) if session.is_none()
                && !gate.stateless
                && gate.sessions_of(&claims) >= gate.max_sessions_per_principal =>
            {
                drop(request);
                tracing::warn!(sub = claims.sub.as_str(), client_id = ?claims.client_id, status = 429, reason = "too many sessions", "request refused");
                return too_many_sessions(gate.max_sessions_per_principal);
            }
            Ok((request, _)) => request,
            Err(response) => return response,
        }
    } else {
        request
    };

    let response = next.run(request).await;
    match (&session, response.headers().get(SESSION_ID)) {
        (None, Some(created)) => {
            if let Ok(created) = created.to_str() {
                gate.record_owner(created, &claims);
            }
        }
        (Some(session), _) if is_delete && response.status().is_success() => gate.forget(session),
        _ => {}
    }
    response
}

/// What the gate read in a message.
#[derive(Default)]
struct Inspected {
    /// An `initialize`: it opens a session.
    initialize: bool,
    /// A `tools/call`: its request id and the tool's name.
    tool_call: Option<(Value, String)>,
}

/// Reads the body (size-limited, and within the body timeout) and checks a
/// `tools/call` against the tool's scopes.
async fn check_post(
    gate: &Gate,
    claims: &Claims,
    request: Request,
) -> Result<(Request, Inspected), Response> {
    let declared_length = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared_length.is_some_and(|length| length > MAX_BODY_BYTES) {
        return Err(body_too_large());
    }
    let (parts, body) = request.into_parts();
    // A client that sends its body slowly is cut off, so it cannot hold a
    // connection and a task open.
    let bytes = tokio::time::timeout(
        gate.body_timeout,
        axum::body::to_bytes(body, MAX_BODY_BYTES),
    )
    .await
    .map_err(|_| body_timeout())?
    .map_err(|_| body_too_large())?;

    let inspected = inspect(&bytes).map_err(|(code, message)| jsonrpc_error(code, message))?;
    if let Some((id, tool)) = &inspected.tool_call {
        // Fail closed: a tool the scope table does not hold never runs,
        // whatever the router serves.
        let Some(required) = scopes::required_for(tool) else {
            tracing::warn!(tool = "unknown", sub = claims.sub.as_str(), client_id = ?claims.client_id, reason = "tool not in the scope table", "request refused");
            return Err(unknown_tool(id.clone()));
        };
        if !claims.has_all(required) {
            let tool = scopes::declared_name(tool);
            tracing::warn!(tool, sub = claims.sub.as_str(), client_id = ?claims.client_id, status = 403, reason = "insufficient scope", "request refused");
            metrics::auth_refusal("insufficient_scope");
            let description = format!("The tool {tool} needs the scopes: {}", required.join(" "));
            return Err(gate.challenge.insufficient_scope(required, &description));
        }
    }
    Ok((Request::from_parts(parts, Body::from(bytes)), inspected))
}

/// What the gate needs of a message. A body the gate cannot read is refused
/// here, so rmcp never acts on a message the gate did not check.
fn inspect(body: &Bytes) -> Result<Inspected, (i64, &'static str)> {
    if body.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'[') {
        return Err((-32600, "Batch requests are not supported"));
    }
    let message: Message<'_> = serde_json::from_slice(body).map_err(|_| (-32700, "Parse error"))?;
    match message.method.as_deref() {
        Some("initialize") => Ok(Inspected {
            initialize: true,
            tool_call: None,
        }),
        Some("tools/call") => {
            let call: ToolCall = serde_json::from_slice(body)
                .map_err(|_| (-32602, "tools/call needs params.name"))?;
            Ok(Inspected {
                initialize: false,
                tool_call: Some((call.id, call.params.name)),
            })
        }
        _ => Ok(Inspected::default()),
    }
}

fn jsonrpc_error(code: i64, message: &str) -> Response {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": { "code": code, "message": message },
    });
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

/// The JSON-RPC answer to a call of a tool the scope table does not hold,
/// as rmcp answers a call of a tool it does not serve.
fn unknown_tool(id: Value) -> Response {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": { "code": -32602, "message": "Unknown tool" },
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

fn body_timeout() -> Response {
    json_error(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        "The request body did not arrive in time",
    )
}

fn too_many_sessions(limit: usize) -> Response {
    json_error(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_sessions",
        &format!(
            "This client already holds {limit} open MCP sessions; reuse one or close one \
             (DELETE) before opening another"
        ),
    )
}

fn body_too_large() -> Response {
    json_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "The request body is larger than 1 MiB",
    )
}

/// Exactly what rmcp answers for a session it does not know.
fn session_not_found() -> Response {
    let mut response = (StatusCode::NOT_FOUND, "Not Found: Session not found").into_response();
    response.headers_mut().remove(CONTENT_TYPE);
    response
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<String>().prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map("[a-z]{1,8}", inner, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    /// JSON-RPC messages as clients send them, and near misses.
    fn message() -> impl Strategy<Value = Value> {
        let method = prop_oneof![
            Just(json!("tools/call")),
            Just(json!("initialize")),
            Just(json!("tools/list")),
            json_value(),
        ];
        let name = prop_oneof![
            Just(json!("list_todos")),
            Just(json!("create_todo")),
            json_value()
        ];
        let params = prop_oneof![
            (name, json_value())
                .prop_map(|(name, arguments)| json!({"name": name, "arguments": arguments})),
            json_value(),
        ];
        (json_value(), method, params, any::<bool>()).prop_map(
            |(id, method, params, without_method)| {
                let mut message = json!({"jsonrpc": "2.0", "id": id, "params": params});
                if !without_method {
                    message["method"] = method;
                }
                message
            },
        )
    }

    proptest! {
        /// Any body is read or refused with a JSON-RPC error code, never a panic.
        #[test]
        fn any_body_is_read_or_refused(body in prop::collection::vec(any::<u8>(), 0..512)) {
            if let Err((code, _)) = inspect(&Bytes::from(body)) {
                prop_assert!([-32600, -32602, -32700].contains(&code));
            }
        }

        /// What the gate lets through is what a full parse, as rmcp makes,
        /// sees: a `tools/call` is never let through unchecked, nor under
        /// another tool's name.
        #[test]
        fn the_gate_sees_the_tool_a_full_parse_sees(message in message(), escape in any::<bool>()) {
            let mut text = message.to_string();
            if escape {
                // The same message with `/` escaped, as JSON allows.
                text = text.replace('/', "\\/");
            }
            let parsed: Value = serde_json::from_str(&text).unwrap();
            match inspect(&Bytes::from(text)) {
                Ok(Inspected { tool_call: Some((id, name)), .. }) => {
                    prop_assert_eq!(&parsed["method"], "tools/call");
                    prop_assert_eq!(&parsed["params"]["name"], name.as_str());
                    prop_assert_eq!(&parsed["id"], &id);
                }
                Ok(Inspected { tool_call: None, initialize }) => {
                    prop_assert_ne!(&parsed["method"], "tools/call");
                    prop_assert_eq!(initialize, parsed["method"] == "initialize");
                }
                Err(_) => {}
            }
        }
    }

    #[test]
    fn a_duplicated_method_or_tool_name_or_params_by_position_are_refused() {
        for body in [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":["list_todos",{}]}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{"name":"x"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_todos","name":"create_todo"}}"#,
        ] {
            assert!(inspect(&Bytes::from(body)).is_err(), "{body}");
        }
    }
}
