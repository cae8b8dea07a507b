//! The answers: the raw model read from YAML or collected by prompts, the
//! rules every value must follow, and the validated [`Project`] made from
//! them once.
//!
//! The same field rules serve the answers file, the prompts, `add` and the
//! defaults, so a value is judged the same way wherever it came from.

mod ident;
mod model;
mod parse;
mod problems;
mod project;
mod rules;
mod validate;

pub use model::{Answers, ArgType, ArgumentAnswer, ScalekitAnswers, ScopeAnswer, ToolAnswer};
pub use problems::{Problem, Problems};
pub use project::{Argument, Project, Scope, Tool};
pub use rules::*;
pub use validate::{check_argument_names, check_tool_names};

/// The answers schema version this generator reads and writes.
pub const SCHEMA_VERSION: u32 = 1;
/// Default MCP endpoint path.
pub const DEFAULT_MCP_PATH: &str = "/mcp";
/// Default listen port.
pub const DEFAULT_PORT: u16 = 3000;

/// The required fields that have no default, as (field path, what it is).
pub const REQUIRED: [(&str, &str); 3] = [
    ("server_url", "the public base URL of the server"),
    (
        "scalekit.environment_url",
        "the Scalekit environment URL, e.g. https://acme.scalekit.com",
    ),
    (
        "scalekit.resource_id",
        "the Scalekit MCP server id, e.g. res_1234567890",
    ),
];
/// `<server_url><mcp_path>`, without a doubled slash.
pub fn default_resource(server_url: &str, mcp_path: &str) -> String {
    format!("{}{mcp_path}", server_url.trim_end_matches('/'))
}
