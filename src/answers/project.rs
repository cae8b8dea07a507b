//! The validated project: what the renderer accepts, made only by
//! [`Answers::validate`].

use super::{
    Answers, ArgType, ArgumentAnswer, SCHEMA_VERSION, ScalekitAnswers, ScopeAnswer, ToolAnswer,
};

/// A validated project: every rule of the answers schema holds and every
/// default is filled in. Only [`Answers::validate`] makes one.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Project {
    pub name: String,
    pub description: Option<String>,
    pub server_url: String,
    pub mcp_path: String,
    pub resource: String,
    pub environment_url: String,
    pub resource_id: String,
    pub audience: Vec<String>,
    pub resource_documentation: Option<String>,
    pub port: u16,
    pub scopes: Vec<Scope>,
    pub tools: Vec<Tool>,
}

#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Scope {
    pub name: String,
    pub description: Option<String>,
    pub includes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Tool {
    /// The MCP tool name, as clients see it.
    pub name: String,
    /// The Rust method name generated for it.
    pub ident: String,
    /// The Rust type name of its arguments struct.
    pub args_type: String,
    pub description: Option<String>,
    pub scopes: Vec<String>,
    pub arguments: Vec<Argument>,
}

#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Argument {
    /// The JSON property name.
    pub name: String,
    /// The Rust field name generated for it.
    pub ident: String,
    pub ty: ArgType,
    pub description: Option<String>,
    pub required: bool,
}

impl Project {
    /// The complete answers, defaults filled in, as recorded in `mcp-oauth.yaml`.
    pub fn to_answers(&self) -> Answers {
        Answers {
            version: Some(SCHEMA_VERSION),
            name: Some(self.name.clone()),
            description: self.description.clone(),
            server_url: Some(self.server_url.clone()),
            mcp_path: Some(self.mcp_path.clone()),
            resource: Some(self.resource.clone()),
            scalekit: Some(ScalekitAnswers {
                environment_url: Some(self.environment_url.clone()),
                resource_id: Some(self.resource_id.clone()),
            }),
            audience: Some(self.audience.clone()),
            resource_documentation: self.resource_documentation.clone(),
            port: Some(i64::from(self.port)),
            scopes: Some(
                self.scopes
                    .iter()
                    .map(|s| ScopeAnswer {
                        name: s.name.clone(),
                        description: s.description.clone(),
                        includes: s.includes.clone(),
                    })
                    .collect(),
            ),
            tools: Some(
                self.tools
                    .iter()
                    .map(|t| ToolAnswer {
                        name: t.name.clone(),
                        description: t.description.clone(),
                        scopes: Some(t.scopes.clone()),
                        arguments: t
                            .arguments
                            .iter()
                            .map(|a| ArgumentAnswer {
                                name: a.name.clone(),
                                ty: a.ty,
                                description: a.description.clone(),
                                required: a.required,
                            })
                            .collect(),
                    })
                    .collect(),
            ),
        }
    }
}
