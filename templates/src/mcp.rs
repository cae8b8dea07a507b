//! The MCP server handler: serves the tools of `tools.rs`, gives them their
//! [`Caller`] and logs every call.

use std::{ops::Deref, sync::Arc, time::Instant};

use axum::http::request::Parts;
use rmcp::{
    ErrorData, RoleServer, ServerHandler,
    handler::server::{
        common::FromContextPart,
        tool::{ToolCallContext, ToolRouter},
    },
    model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
        ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    },
    service::RequestContext,
};
use serde::Serialize;

use tracing::{Instrument as _, Span};

use crate::{
    auth::Claims,
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

fn claims(context: &RequestContext<RoleServer>) -> Option<Arc<Claims>> {
    context
        .extensions
        .get::<Parts>()
        .and_then(|parts| parts.extensions.get::<Arc<Claims>>())
        .cloned()
}

/// The authenticated caller of a tool. Taking it as a tool argument checks the
/// tool's scopes again, from the validated claims.
#[derive(Clone, Debug)]
pub struct Caller {
    claims: Arc<Claims>,
    tool: String,
}

impl Caller {
    /// The tool being called.
    pub fn tool(&self) -> &str {
        &self.tool
    }

    /// The answer of a tool whose logic is not written yet: says so, with who
    /// called it and how.
    pub fn not_implemented(&self, arguments: &impl Serialize) -> CallToolResult {
        let arguments = serde_json::to_string(arguments).unwrap_or_default();
        CallToolResult::success(vec![ContentBlock::text(format!(
            "{} is not implemented yet. It was called by {} with the arguments {arguments}.",
            self.tool, self.claims.sub
        ))])
    }
}

impl Deref for Caller {
    type Target = Claims;

    fn deref(&self) -> &Claims {
        &self.claims
    }
}

impl<S> FromContextPart<ToolCallContext<'_, S>> for Caller {
    fn from_context_part(context: &mut ToolCallContext<'_, S>) -> Result<Self, ErrorData> {
        let claims = claims(&context.request_context)
            .ok_or_else(|| ErrorData::internal_error("the request was not authenticated", None))?;
        let tool = context.name();
        let required = scopes::required_for(tool).ok_or_else(|| {
            ErrorData::internal_error(format!("no scopes are declared for the tool {tool}"), None)
        })?;
        if !claims.has_all(required) {
            return Err(ErrorData::invalid_request(
                format!("The tool {tool} needs the scopes: {}", required.join(" ")),
                None,
            ));
        }
        Ok(Caller {
            claims,
            tool: tool.to_owned(),
        })
    }
}
