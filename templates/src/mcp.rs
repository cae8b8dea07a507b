//! The MCP server handler: serves the tools of `tools.rs` and logs every
//! call. Each tool learns who calls it from its [`crate::caller::Caller`].

use std::{sync::Arc, time::Instant};

use axum::http::request::Parts;
use rmcp::{
    ErrorData, RoleServer, ServerHandler,
    handler::server::tool::{ToolCallContext, ToolRouter},
    model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, ListToolsResult,
        PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    },
    service::RequestContext,
};
use tracing::{Instrument as _, Span};

use crate::{
    caller::claims,
    metrics,
    request::{RequestId, RequestSpan},
    scopes,
    tools::Tools,
};

/// One per MCP session (or request, when stateless); the tools and their router are shared.
#[derive(Clone)]
pub struct McpServer {
    tools: Tools,
    router: Arc<ToolRouter<Tools>>,
}

impl McpServer {
    pub fn new(tools: Tools) -> Self {
        Self {
            tools,
            router: Arc::new(Tools::tool_router()),
        }
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        let config = ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                env!("CARGO_PKG_NAME"),
                env!("CARGO_PKG_VERSION"),
            ));
        match env!("CARGO_PKG_DESCRIPTION") {
            "" => config,
            description => config.with_instructions(description.to_owned()),
        }
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        // Every tool is listed, whatever the token's scopes, so clients can step up.
        Ok(ListToolsResult::with_all_items(self.router.list_all()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.router.get(name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let started = Instant::now();
        let claims = claims(&context);
        let tool = request.name.clone();
        // The session's task runs outside the HTTP request's span: the tool
        // call's span is made its child, and the request id is written into
        // the log line itself.
        let parts = context.extensions.get::<Parts>();
        let request_id = parts
            .and_then(|parts| parts.extensions.get::<RequestId>())
            .map(|RequestId(id)| id.clone());
        let parent = parts
            .and_then(|parts| parts.extensions.get::<RequestSpan>())
            .map(|RequestSpan(span)| span.clone())
            .unwrap_or_else(Span::none);
        let span = tracing::info_span!(
            parent: &parent,
            "tool_call",
            tool = scopes::declared_name(&tool),
            client_id = claims.as_ref().and_then(|c| c.client_id.as_deref()),
            outcome = tracing::field::Empty,
        );
        // A trace context the client put in the request's `_meta` wins.
        #[cfg(feature = "otel")]
        crate::telemetry::continue_trace(&span, &crate::telemetry::Meta(&context.meta.0.0));
        let result = self
            .router
            .call(ToolCallContext::new(&self.tools, request, context))
            .instrument(span.clone())
            .await;
        let outcome = match &result {
            Ok(CallToolResponse::Complete(CallToolResult {
                is_error: Some(true),
                ..
            })) => "tool_error",
            Ok(_) => "ok",
            Err(_) => "error",
        };
        span.record("outcome", outcome);
        // Values a client controls are recorded as strings, which the log
        // formats quote and escape; the tool's name only as declared.
        let duration = started.elapsed();
        metrics::tool_call(scopes::declared_name(&tool), outcome, duration);
        span.in_scope(|| {
            tracing::info!(
                request_id = request_id.as_deref(),
                tool = scopes::declared_name(&tool),
                sub = claims.as_ref().map(|c| c.sub.as_str()),
                client_id = claims.as_ref().and_then(|c| c.client_id.as_deref()),
                outcome,
                duration_ms = duration.as_secs_f64() * 1000.0,
                "tool call"
            );
        });
        result
    }
}
