//! Prometheus metrics, served on `MCP_METRICS_ADDR` only, never on the
//! public listener. Every label is bounded: routes and reasons are fixed
//! words, tools only declared names, statuses HTTP codes; never a token, a
//! `sub` or anything else a client chooses. Without a recorder installed
//! (no `MCP_METRICS_ADDR`), recording costs next to nothing. The recorder
//! and the text format are in [`prometheus`].

mod prometheus;

use std::{sync::OnceLock, time::Duration};

use axum::{Router, http::header::CONTENT_TYPE, routing::get};
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use tokio::net::TcpListener;

pub use prometheus::Registry;

const HTTP_REQUESTS: &str = "mcp_http_requests_total";
const AUTH_REFUSALS: &str = "mcp_auth_refusals_total";
const TOOL_CALLS: &str = "mcp_tool_calls_total";
const TOOL_CALL_DURATION: &str = "mcp_tool_call_duration_seconds";
const JWKS_FETCHES: &str = "mcp_jwks_fetches_total";
const JWKS_KEYS: &str = "mcp_jwks_keys";
const SESSIONS_ACTIVE: &str = "mcp_sessions_active";

/// Installs the process-wide recorder once; later calls get the same
/// registry. Metrics you add with the `metrics` macros anywhere in this
/// crate appear beside these.
pub fn install() -> Result<Registry, String> {
    static REGISTRY: OnceLock<Result<Registry, String>> = OnceLock::new();
    REGISTRY
        .get_or_init(|| {
            let registry = Registry::default();
            metrics::set_global_recorder(registry.clone())
                .map_err(|error| format!("cannot set up the metrics: {error}"))?;
            describe_counter!(
                HTTP_REQUESTS,
                "HTTP requests answered, by route and status."
            );
            describe_counter!(
                AUTH_REFUSALS,
                "Requests refused before the MCP handler, by reason."
            );
            describe_counter!(TOOL_CALLS, "Tool calls, by tool and outcome.");
            describe_histogram!(
                TOOL_CALL_DURATION,
                "Tool call durations in seconds, by tool."
            );
            describe_counter!(JWKS_FETCHES, "Fetches of the signing keys, by outcome.");
            describe_gauge!(JWKS_KEYS, "Signing keys in the last key set fetched.");
            describe_gauge!(SESSIONS_ACTIVE, "MCP sessions open now.");
            Ok(registry)
        })
        .clone()
}

/// The metrics listener's router: `GET /metrics` in Prometheus' text format.
pub fn routes(registry: Registry) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let text = registry.render();
            async move {
                (
                    [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
                    text,
                )
            }
        }),
    )
}

/// Serves the metrics on `listener` (the `MCP_METRICS_ADDR` one).
pub async fn serve(listener: TcpListener, registry: Registry) -> std::io::Result<()> {
    axum::serve(listener, routes(registry)).await
}

/// A request answered: `route` is one of a fixed few words.
pub fn http_request(route: &'static str, status: u16) {
    counter!(HTTP_REQUESTS, "route" => route, "status" => status.to_string()).increment(1);
}

/// A request refused before the MCP handler: `missing_token`,
/// `invalid_token`, `insufficient_scope`, `rate_limited`, `origin` or `host`.
pub fn auth_refusal(reason: &'static str) {
    counter!(AUTH_REFUSALS, "reason" => reason).increment(1);
}

/// A tool call: `tool` is a declared name, `outcome` `ok`, `tool_error` or `error`.
pub fn tool_call(tool: &'static str, outcome: &'static str, duration: Duration) {
    counter!(TOOL_CALLS, "tool" => tool, "outcome" => outcome).increment(1);
    histogram!(TOOL_CALL_DURATION, "tool" => tool).record(duration.as_secs_f64());
}

/// A fetch of the signing keys, and how many it gave when it worked.
pub fn jwks_fetch(keys: Option<usize>) {
    let outcome = if keys.is_some() { "ok" } else { "error" };
    counter!(JWKS_FETCHES, "outcome" => outcome).increment(1);
    if let Some(keys) = keys {
        gauge!(JWKS_KEYS).set(keys as f64);
    }
}

/// The MCP sessions open now.
pub fn sessions_active(count: usize) {
    gauge!(SESSIONS_ACTIVE).set(count as f64);
}
