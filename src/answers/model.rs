//! The answers as written in an answers file or collected by prompts: every
//! field optional. Unknown keys are found while deserialising (see
//! [`super::parse`]).

use serde::{Deserialize, Serialize};

/// Answers as written in an answers file: every field optional, unknown keys
/// refused. Turned into a [`super::Project`] by [`Answers::validate`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct Answers {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scalekit: Option<ScalekitAnswers>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_documentation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<ScopeAnswer>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<ToolAnswer>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct ScalekitAnswers {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ScopeAnswer {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub includes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ToolAnswer {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Required on purpose: a forgotten `scopes` must not silently open a tool
    /// to every valid token.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<ArgumentAnswer>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ArgumentAnswer {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ArgType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub required: bool,
}

/// The JSON types a tool argument may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ArgType {
    String,
    Integer,
    Number,
    Boolean,
}

impl ArgType {
    pub const ALL: [ArgType; 4] = [
        ArgType::String,
        ArgType::Integer,
        ArgType::Number,
        ArgType::Boolean,
    ];

    /// The name used in answers files.
    pub fn as_str(self) -> &'static str {
        match self {
            ArgType::String => "string",
            ArgType::Integer => "integer",
            ArgType::Number => "number",
            ArgType::Boolean => "boolean",
        }
    }

    /// The Rust type the generated code uses.
    pub fn rust_type(self) -> &'static str {
        match self {
            ArgType::String => "String",
            ArgType::Integer => "i64",
            ArgType::Number => "f64",
            ArgType::Boolean => "bool",
        }
    }
}

impl Answers {
    /// The scalekit section, created when absent so prompts can fill it in.
    pub fn scalekit_mut(&mut self) -> &mut ScalekitAnswers {
        self.scalekit.get_or_insert_with(ScalekitAnswers::default)
    }
}
