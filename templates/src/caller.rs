//! Who calls a tool: the [`Caller`] argument a tool takes, made from the
//! claims the bearer middleware validated.

use std::{ops::Deref, sync::Arc};

use axum::http::request::Parts;
use rmcp::{
    ErrorData, RoleServer,
    handler::server::{common::FromContextPart, tool::ToolCallContext},
    model::{CallToolResult, ContentBlock},
    service::RequestContext,
};
use serde::Serialize;

use crate::{claims::Claims, scopes};

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

/// The claims the bearer middleware put in the HTTP request rmcp hands on.
pub fn claims(context: &RequestContext<RoleServer>) -> Option<Arc<Claims>> {
    context
        .extensions
        .get::<Parts>()
        .and_then(|parts| parts.extensions.get::<Arc<Claims>>())
        .cloned()
}
