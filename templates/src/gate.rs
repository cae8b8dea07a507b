//! Checks on MCP messages before rmcp sees them: per-tool scopes, session
//! ownership and caps, and what a message may cost to read.

mod sessions;
mod values;

use std::{borrow::Cow, fmt, sync::Arc, time::Duration};

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
use serde::{
    Deserialize, Deserializer,
    de::{self, IgnoredAny, MapAccess, Visitor},
};
use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::Instrument as _;

use crate::{auth::Challenge, claims::Claims, config::Config, error::json_error, metrics, scopes};
use sessions::{Full, Sessions};

/// Largest request body accepted on the MCP endpoint.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// A message with more JSON values is refused before rmcp parses it into a tree.
pub const MAX_JSON_VALUES: usize = 10_000;
/// JSON values in the messages rmcp holds at once, at about 200 bytes each
/// in its trees (measured: one message of 524,000 values took 99 MiB): five
/// messages at the value limit, or hundreds of ordinary ones. A message
/// takes its count, once counted, and gives it back once rmcp has answered;
/// past it, messages wait.
pub const VALUE_BUDGET: usize = 5 * MAX_JSON_VALUES;
/// Bodies up to this size (most MCP messages) are read at once; each
/// connection holds at most one.
pub const SMALL_BODY_BYTES: usize = 16 * 1024;
/// Larger bodies held at once, with what rmcp makes of them: such a body
/// takes its declared length from this budget before it is read (1 MiB when
/// it declares none) and gives it back once rmcp has answered. Past it,
/// large bodies wait, unread, while small ones go on, so memory stays
/// bounded whatever clients send.
pub const BODY_BUDGET_BYTES: usize = 8 * MAX_BODY_BYTES;
const SESSION_ID: &str = "mcp-session-id";

/// State of the gate middleware.
pub struct Gate {
    challenge: Arc<Challenge>,
    stateless: bool,
    body_timeout: Duration,
    sessions: Arc<Sessions>,
    /// [`BODY_BUDGET_BYTES`], a permit a byte.
    bodies: Arc<Semaphore>,
    /// [`VALUE_BUDGET`], a permit a value.
    values: Arc<Semaphore>,
}

/// What a message holds of the budgets until rmcp has answered it.
struct Held {
    _body: Option<OwnedSemaphorePermit>,
    _values: OwnedSemaphorePermit,
}

impl Gate {
    pub fn new(challenge: Arc<Challenge>, config: &Config) -> Self {
        Self {
            challenge,
            stateless: config.stateless,
            body_timeout: config.body_timeout,
            sessions: Arc::new(Sessions::new(
                config.max_sessions_per_principal,
                config.max_sessions,
            )),
            bodies: Arc::new(Semaphore::new(BODY_BUDGET_BYTES)),
            values: Arc::new(Semaphore::new(VALUE_BUDGET)),
        }
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
/// token's scopes do not allow, requests on another principal's session,
/// sessions past their caps, and messages too costly to read.
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
        && !gate.sessions.owned_by(session, &claims)
    {
        tracing::warn!(sub = claims.sub.as_str(), client_id = ?claims.client_id, status = 404, reason = "session of another principal or unknown", "request refused");
        return session_not_found();
    }

    let method = request.method().clone();
    // The message's share of the budgets is held until rmcp has answered:
    // what it parsed of the body is gone by then.
    let (request, _held) = if method == Method::POST {
        match check_post(&gate, &claims, request).await {
            Ok((request, inspected, held))
                if inspected.initialize && session.is_none() && !gate.stateless =>
            {
                return open_session(&gate, &claims, request, next, held).await;
            }
            Ok((request, _, held)) => (request, Some(held)),
            Err(response) => return response,
        }
    } else {
        (request, None)
    };

    let response = next.run(request).await;
    if let Some(session) = &session
        && !gate.stateless
    {
        let closed = method == Method::DELETE && response.status().is_success();
        // rmcp closed it on its own (idle, or shut down).
        let unknown = response.status() == StatusCode::NOT_FOUND;
        if closed || unknown {
            gate.sessions.forget(session);
        }
    }
    response
}

/// Lets an `initialize` through to rmcp if both session caps have room,
/// taking that room first, and records who owns the session rmcp creates.
async fn open_session(
    gate: &Gate,
    claims: &Claims,
    request: Request,
    next: Next,
    held: Held,
) -> Response {
    let reservation = match gate.sessions.reserve(claims) {
        Ok(reservation) => reservation,
        Err(full) => {
            let response = too_many_sessions(full);
            tracing::warn!(sub = claims.sub.as_str(), client_id = ?claims.client_id, status = response.status().as_u16(), reason = "too many sessions", "request refused");
            return response;
        }
    };
    // rmcp creates the session before it answers. On a task of its own,
    // the exchange runs to the end even if the client hangs up, so the
    // session is counted whatever becomes of this request.
    let exchange = async move {
        let response = next.run(request).await;
        drop(held);
        if let Some(created) = response
            .headers()
            .get(SESSION_ID)
            .and_then(|value| value.to_str().ok())
        {
            reservation.created(created);
        }
        response
    };
    tokio::spawn(exchange.in_current_span())
        .await
        .unwrap_or_else(|_| {
            json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "The session could not be opened",
            )
        })
}

/// What the gate read in a message.
#[derive(Default)]
struct Inspected {
    /// An `initialize`: it opens a session.
    initialize: bool,
    /// A `tools/call`: its request id and the tool's name.
    tool_call: Option<(Value, String)>,
}

/// Reads the body (size-limited, within the budgets and the body timeout),
/// counts its values and checks a `tools/call` against the tool's scopes.
/// Returns what the message holds of the budgets.
async fn check_post(
    gate: &Gate,
    claims: &Claims,
    request: Request,
) -> Result<(Request, Inspected, Held), Response> {
    let declared_length = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared_length.is_some_and(|length| length > MAX_BODY_BYTES) {
        return Err(body_too_large());
    }
    // A client that sends its body slowly is cut off, so it cannot hold a
    // connection, a task and its share of the budget; the wait for that
    // share counts in the same time.
    let deadline = tokio::time::Instant::now() + gate.body_timeout;
    let budget = match declared_length {
        Some(length) if length <= SMALL_BODY_BYTES => None,
        large => {
            let share = large.unwrap_or(MAX_BODY_BYTES) as u32;
            let wait = gate.bodies.clone().acquire_many_owned(share);
            let permit = tokio::time::timeout_at(deadline, wait)
                .await
                .map_err(|_| busy())?
                .expect("the body budget is never closed");
            Some(permit)
        }
    };
    let (parts, body) = request.into_parts();
    let bytes = tokio::time::timeout_at(deadline, axum::body::to_bytes(body, MAX_BODY_BYTES))
        .await
        .map_err(|_| body_timeout())?
        .map_err(|_| body_too_large())?;

    let counted = values::count(&bytes, MAX_JSON_VALUES).map_err(|uncounted| match uncounted {
        values::Uncounted::TooMany => {
            jsonrpc_error(-32600, "The message holds more than 10000 JSON values")
        }
        values::Uncounted::Invalid => jsonrpc_error(-32700, "Parse error"),
    })?;
    let wait = gate.values.clone().acquire_many_owned(counted as u32);
    let held = Held {
        _body: budget,
        _values: tokio::time::timeout_at(deadline, wait)
            .await
            .map_err(|_| busy())?
            .expect("the value budget is never closed"),
    };

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
    Ok((
        Request::from_parts(parts, Body::from(bytes)),
        inspected,
        held,
    ))
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

fn busy() -> Response {
    json_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "busy",
        "The server holds as many messages as it can; try again",
    )
}

fn too_many_sessions(full: Full) -> Response {
    match full {
        Full::Principal(limit) => json_error(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_sessions",
            &format!(
                "This client already holds {limit} open MCP sessions; reuse one or close one \
                 (DELETE) before opening another"
            ),
        ),
        Full::Server(limit) => json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_sessions",
            &format!("The server holds its maximum of {limit} open MCP sessions; try again later"),
        ),
    }
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
