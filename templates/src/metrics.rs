//! Prometheus metrics, served on `MCP_METRICS_ADDR` only, never on the
//! public listener. Every label is bounded: routes and reasons are fixed
//! words, tools only declared names, statuses HTTP codes; never a token, a
//! `sub` or anything else a client chooses. Without a recorder installed
//! (no `MCP_METRICS_ADDR`), recording costs next to nothing.

use std::{sync::OnceLock, time::Duration};

use axum::{Router, http::header::CONTENT_TYPE, routing::get};
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

const HTTP_REQUESTS: &str = "mcp_http_requests_total";
const AUTH_REFUSALS: &str = "mcp_auth_refusals_total";
const TOOL_CALLS: &str = "mcp_tool_calls_total";
const TOOL_CALL_DURATION: &str = "mcp_tool_call_duration_seconds";
const JWKS_FETCHES: &str = "mcp_jwks_fetches_total";
const JWKS_KEYS: &str = "mcp_jwks_keys";
const SESSIONS_ACTIVE: &str = "mcp_sessions_active";

/// Histogram samples wait in the recorder until an upkeep folds them into
/// the buckets. A scrape runs one; so does a timer, or the samples of a
/// server nobody scrapes would grow its memory by about 20 bytes a call.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Tool call durations, in seconds.
const DURATION_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the process-wide Prometheus recorder once; later calls get the
/// same handle.
pub fn install() -> Result<PrometheusHandle, String> {
    static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(TOOL_CALL_DURATION.to_owned()),
                    &DURATION_BUCKETS,
                )
                .and_then(PrometheusBuilder::install_recorder)
                .map_err(|error| format!("cannot set up the metrics: {error}"))
        })
        .clone()
}

/// The metrics listener's router: `GET /metrics` in Prometheus' text format.
pub fn routes(handle: PrometheusHandle) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                handle.run_upkeep();
                (
                    [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
                    handle.render(),
                )
            }
        }),
    )
}

/// Serves the metrics on `listener` (the `MCP_METRICS_ADDR` one), and drains
/// the recorder every [`UPKEEP_INTERVAL`] meanwhile.
pub async fn serve(listener: TcpListener, handle: PrometheusHandle) -> std::io::Result<()> {
    let upkeep = handle.clone();
    let upkeep = tokio::spawn(async move {
        let mut interval = tokio::time::interval(UPKEEP_INTERVAL);
        loop {
            interval.tick().await;
            upkeep.run_upkeep();
        }
    });
    let served = axum::serve(listener, routes(handle)).await;
    upkeep.abort();
    served
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
