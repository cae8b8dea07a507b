//! An MCP server secured with OAuth 2.1, with Scalekit as the authorization server.
//!
//! Your tools are in [`tools`]; their scopes in [`scopes`]; the baked-in
//! settings in [`config`]. The rest is the resource-server machinery.

pub mod app;
pub mod auth;
pub mod config;
pub mod error;
pub mod gate;
pub mod jwks;
pub mod mcp;
pub mod metadata;
pub mod scopes;
pub mod tools;
