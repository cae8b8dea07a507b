//! The HTTP application: metadata, health check and the protected MCP endpoint.

use std::{fmt, sync::Arc};

use axum::{
    Json, Router,
    extract::{Request, State},
    http::{
        HeaderName, HeaderValue, Method, StatusCode,
        header::{AUTHORIZATION, CONTENT_TYPE, HOST, ORIGIN, WWW_AUTHENTICATE},
        uri::Authority,
    },
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use reqwest::Url;
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::{
    auth::{self, Auth, Challenge},
    config::Config,
    error::json_error,
    gate::{self, Gate, MAX_BODY_BYTES},
    jwks::KeySet,
    mcp::McpServer,
    metadata, metrics,
    request::{self, RequestContext},
    scopes,
    tools::Tools,
};

const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The router, the token that ends open MCP sessions and streams at
/// shutdown, and the connection limits [`crate::server::run`] applies.
pub struct App {
    pub router: Router,
    pub shutdown: CancellationToken,
    pub limits: Limits,
}

/// What one connection and all of them together may take.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: std::time::Duration,
    pub write_timeout: std::time::Duration,
}

/// Why the server cannot be built; start-up stops with it.
#[derive(Debug)]
pub enum BuildError {
    /// A tool without an entry in `scopes::TOOL_SCOPES`, or an entry without a tool.
    ScopeTable(scopes::TableMismatch),
    /// The HTTP client for the signing keys could not be set up.
    HttpClient(reqwest::Error),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::ScopeTable(mismatch) => mismatch.fmt(f),
            BuildError::HttpClient(error) => {
                write!(
                    f,
                    "cannot set up the HTTP client for the signing keys: {error}"
                )
            }
        }
    }
}

impl std::error::Error for BuildError {}

/// Builds the server. Fails closed: a tool served without an entry in the
/// scope table stops start-up, naming it.
pub fn build(config: &Config) -> Result<App, BuildError> {
    let served = Tools::tool_router().list_all();
    scopes::check_table(served.iter().map(|tool| tool.name.as_ref()))
        .map_err(BuildError::ScopeTable)?;
    let shutdown = CancellationToken::new();
    let challenge = Arc::new(Challenge::new(config));
    let auth = Arc::new(Auth::new(config, challenge.clone()).map_err(BuildError::HttpClient)?);
    let gate = Arc::new(Gate::new(challenge, config));
    let trusted = Arc::new(Trusted::new(config));
    let context = Arc::new(RequestContext::new(config));
    // Fetched at start-up, in the background: `/readyz` says when they are there.
    let keys = auth.keys().clone();
    keys.refresh_in_background();

    let server = McpServer::new(Tools::default());
    let mcp_service = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default()
            // rmcp checks Host too; it must agree with `check_host_and_origin`.
            .with_allowed_hosts(trusted.hosts())
            .with_legacy_session_mode(!config.stateless)
            .with_json_response(config.stateless)
            .with_max_request_body_bytes(MAX_BODY_BYTES)
            .with_cancellation_token(shutdown.child_token()),
    );

    // Layers run bottom-up: Host and Origin first, then CORS, the token, the message.
    let mcp = Router::new()
        .route_service(&config.mcp_path, mcp_service)
        .layer(middleware::from_fn_with_state(gate, gate::check_message))
        .layer(middleware::from_fn_with_state(auth, auth::require_bearer))
        .layer(mcp_cors(&trusted.origins))
        .layer(middleware::from_fn_with_state(
            trusted,
            check_host_and_origin,
        ));

    let router = Router::new()
        .merge(metadata::routes(config))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(move || ready(keys.clone())))
        .merge(mcp)
        .fallback(|| async { json_error(StatusCode::NOT_FOUND, "not_found", "Not found") })
        .layer(middleware::from_fn_with_state(context, request::context));
    Ok(App {
        router,
        shutdown,
        limits: Limits {
            max_connections: config.max_connections,
            header_timeout: config.header_timeout,
            write_timeout: config.write_timeout,
        },
    })
}

/// Readiness: 200 once the signing keys are fetched and younger than their
/// maximum age, else 503 with the reason. A probe while not ready starts a
/// fetch (at most one per refresh interval), so a server whose key endpoint
/// was down at start-up becomes ready without traffic.
async fn ready(keys: KeySet) -> Response {
    if keys.is_ready() {
        return Json(json!({ "status": "ready" })).into_response();
    }
    keys.refresh_in_background();
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({
            "status": "not_ready",
            "reason": "the signing keys are not fetched yet, or are older than their maximum age",
        })),
    )
        .into_response()
}

/// Hosts and browser origins the MCP endpoint trusts (DNS rebinding protection).
struct Trusted {
    host: String,
    origins: Vec<String>,
}

impl Trusted {
    fn new(config: &Config) -> Self {
        Self {
            host: normalize_host(config.server_url.host_str().unwrap_or_default()),
            origins: config.origins(),
        }
    }

    fn hosts(&self) -> Vec<String> {
        let mut hosts = vec![self.host.clone()];
        hosts.extend(LOOPBACK_HOSTS.map(str::to_owned));
        hosts
    }

    fn allows_host(&self, host: &str) -> bool {
        let host = normalize_host(host);
        host == self.host || LOOPBACK_HOSTS.contains(&host.as_str())
    }

    fn allows_origin(&self, origin: &str) -> bool {
        Url::parse(origin).is_ok_and(|url| {
            let origin = url.origin().ascii_serialization();
            self.origins.contains(&origin)
        })
    }
}

fn normalize_host(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

/// Middleware: 403 for a `Host` that is not ours or loopback, or an `Origin` not allowed.
async fn check_host_and_origin(
    State(trusted): State<Arc<Trusted>>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let host = headers
        .get(HOST)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<Authority>().ok())
        .or_else(|| request.uri().authority().cloned());
    if !host.is_some_and(|host| trusted.allows_host(host.host())) {
        metrics::auth_refusal("host");
        tracing::warn!(status = 403, reason = "host not allowed", host = ?headers.get(HOST), "request refused");
        return json_error(StatusCode::FORBIDDEN, "forbidden", "Host not allowed");
    }
    if let Some(origin) = headers.get(ORIGIN)
        && !origin
            .to_str()
            .is_ok_and(|origin| trusted.allows_origin(origin))
    {
        metrics::auth_refusal("origin");
        tracing::warn!(
            status = 403,
            reason = "origin not allowed",
            ?origin,
            "request refused"
        );
        return json_error(StatusCode::FORBIDDEN, "forbidden", "Origin not allowed");
    }
    next.run(request).await
}

/// CORS for browser clients on allowed origins; `WWW-Authenticate` is exposed so
/// they can read the challenge.
fn mcp_cors(origins: &[String]) -> CorsLayer {
    let origins = origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok());
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([
            AUTHORIZATION,
            CONTENT_TYPE,
            HeaderName::from_static("mcp-session-id"),
            HeaderName::from_static("mcp-protocol-version"),
            HeaderName::from_static("last-event-id"),
        ])
        .expose_headers([WWW_AUTHENTICATE, HeaderName::from_static("mcp-session-id")])
}
