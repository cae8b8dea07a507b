//! The answers: the raw model read from YAML or collected by prompts, the rules
//! every value must follow, and the validated [`Project`] made from them once.
//!
//! The same field checks serve the answers file, the prompts and the defaults,
//! so a value is judged the same way wherever it came from.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

/// The answers schema version this generator reads and writes.
pub const SCHEMA_VERSION: u32 = 1;
/// Default MCP endpoint path.
pub const DEFAULT_MCP_PATH: &str = "/mcp";
/// Default listen port.
pub const DEFAULT_PORT: u16 = 3000;

/// Answers as written in an answers file: every field optional, unknown keys
/// refused. Turned into a [`Project`] by [`Answers::validate`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
pub struct ScalekitAnswers {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeAnswer {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub includes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
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

/// One problem with the answers: where, and what is wrong and allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

/// Every problem found in a set of answers, in field order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }

    /// True when a required answer was missing, so the hint about how to
    /// supply answers applies.
    fn has_missing(&self) -> bool {
        self.0.iter().any(|p| p.message.starts_with(MISSING))
    }
}

const MISSING: &str = "missing";

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        writeln!(
            f,
            "the answers have {count} problem{}:",
            if count == 1 { "" } else { "s" }
        )?;
        for problem in &self.0 {
            writeln!(f, "  {}: {}", problem.path, problem.message)?;
        }
        if self.has_missing() {
            write!(
                f,
                "supply the missing answers in a file with --answers FILE (or --answers - for \
                 standard input; `mcp-oauth-new --example-answers` prints a complete one), \
                 or run in a terminal to be asked for them"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

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

impl Answers {
    /// Parses an answers file. `source` names it in error messages. Unknown
    /// keys are all reported together; a syntax or type error is reported
    /// with its line and column.
    pub fn from_yaml(text: &str, source: &str) -> Result<Answers, crate::Error> {
        if text.trim().is_empty() {
            return Ok(Answers::default());
        }
        let syntax = |error: serde_yaml::Error, path: String| {
            let location = error
                .location()
                .map(|l| format!(" (line {}, column {})", l.line(), l.column()))
                .unwrap_or_default();
            let message = strip_location(&error.to_string());
            crate::Error::Failed(
                if path == "." || path.is_empty() || message.starts_with(&format!("{path}: ")) {
                    anyhow::anyhow!("{source}{location}: {message}")
                } else {
                    anyhow::anyhow!("{source}{location}: {path}: {message}")
                },
            )
        };
        let value: serde_yaml::Value =
            serde_yaml::from_str(text).map_err(|e| syntax(e, String::new()))?;
        let mut problems = Problems::default();
        unknown_keys(&value, &SCHEMA, "", &mut problems);
        if !problems.0.is_empty() {
            return Err(crate::Error::Invalid(problems));
        }
        let deserializer = serde_yaml::Deserializer::from_str(text);
        serde_path_to_error::deserialize(deserializer).map_err(|error| {
            let path = error.path().to_string();
            syntax(error.into_inner(), path)
        })
    }

    /// The scalekit section, created when absent so prompts can fill it in.
    pub fn scalekit_mut(&mut self) -> &mut ScalekitAnswers {
        self.scalekit.get_or_insert_with(ScalekitAnswers::default)
    }

    /// Checks every rule, fills in the defaults and returns the project, or
    /// every problem found. `dir_name` is the last component of PATH, the
    /// default package name.
    pub fn validate(&self, dir_name: Option<&str>) -> Result<Project, Problems> {
        let mut problems = Problems::default();

        if let Some(version) = self.version
            && version != SCHEMA_VERSION
        {
            problems.push(
                "version",
                format!(
                    "found {version}; this mcp-oauth-new reads schema version {SCHEMA_VERSION} \
                     only (upgrade mcp-oauth-new for newer answers files)"
                ),
            );
        }

        let name = match (&self.name, dir_name) {
            (Some(name), _) => check_into(&mut problems, "name", check_package_name(name)),
            (None, Some(dir)) => check_into(
                &mut problems,
                "name",
                check_package_name(dir).map_err(|e| {
                    format!("the default from PATH is not usable: {e}; answer `name` explicitly")
                }),
            ),
            (None, None) => {
                problems.push(
                    "name",
                    format!("{MISSING}: give PATH on the command line or `name` in the answers"),
                );
                None
            }
        };

        if let Some(description) = &self.description {
            check_into(&mut problems, "description", check_free_text(description));
        }

        let server_url = required(&mut problems, "server_url", self.server_url.as_deref())
            .and_then(|v| check_into(&mut problems, "server_url", check_server_url(v)));

        let mcp_path = self.mcp_path.as_deref().unwrap_or(DEFAULT_MCP_PATH);
        let mcp_path_ok = check_into(&mut problems, "mcp_path", check_mcp_path(mcp_path));

        let scalekit = self.scalekit.clone().unwrap_or_default();
        let environment_url = required(
            &mut problems,
            "scalekit.environment_url",
            scalekit.environment_url.as_deref(),
        )
        .and_then(|v| {
            check_into(
                &mut problems,
                "scalekit.environment_url",
                check_environment_url(v),
            )
        });
        let resource_id = required(
            &mut problems,
            "scalekit.resource_id",
            scalekit.resource_id.as_deref(),
        )
        .and_then(|v| check_into(&mut problems, "scalekit.resource_id", check_resource_id(v)));

        let resource = match (&self.resource, &server_url, &mcp_path_ok) {
            (Some(resource), _, _) => Some(resource.clone()),
            (None, Some(server_url), Some(path)) => Some(default_resource(server_url, path)),
            _ => None,
        };
        let resource = resource.and_then(|resource| {
            let checked = match (&server_url, &mcp_path_ok) {
                (Some(server_url), Some(path)) => check_resource_for(&resource, server_url, path),
                _ => check_url(&resource).map(|_| resource.clone()),
            };
            check_into(&mut problems, "resource", checked)
        });

        let audience = match (&self.audience, &resource_id, &resource) {
            (Some(audience), _, _) => {
                if audience.is_empty() {
                    problems.push(
                        "audience",
                        "is empty; list at least one accepted `aud` value (default: \
                         [<scalekit.resource_id>, <resource>])",
                    );
                }
                let mut seen = BTreeSet::new();
                for (i, value) in audience.iter().enumerate() {
                    let path = format!("audience[{i}]");
                    if let Some(value) = check_into(&mut problems, &path, check_audience(value))
                        && !seen.insert(value.clone())
                    {
                        problems.push(path, format!("`{value}` is listed twice"));
                    }
                }
                Some(audience.clone())
            }
            (None, Some(id), Some(resource)) => {
                let mut audience = vec![id.clone()];
                if resource != id {
                    audience.push(resource.clone());
                }
                Some(audience)
            }
            _ => None,
        };

        let resource_documentation = self.resource_documentation.as_ref().and_then(|url| {
            check_into(
                &mut problems,
                "resource_documentation",
                check_url(url).map(|_| url.clone()),
            )
        });

        let port = match self.port {
            Some(port) => check_into(&mut problems, "port", check_port(port)),
            None => Some(DEFAULT_PORT),
        };

        let scopes = validate_scopes(self.scopes.as_deref().unwrap_or_default(), &mut problems);
        let declared: BTreeSet<&str> = scopes.iter().map(|s| s.name.as_str()).collect();
        let tools = validate_tools(
            self.tools.as_deref().unwrap_or_default(),
            &declared,
            &mut problems,
        );

        match (
            name,
            server_url,
            mcp_path_ok,
            resource,
            environment_url,
            resource_id,
            audience,
            port,
        ) {
            (
                Some(name),
                Some(server_url),
                Some(mcp_path),
                Some(resource),
                Some(environment_url),
                Some(resource_id),
                Some(audience),
                Some(port),
            ) if problems.0.is_empty() => Ok(Project {
                name,
                description: self.description.clone(),
                server_url,
                mcp_path,
                resource,
                environment_url,
                resource_id,
                audience,
                resource_documentation,
                port,
                scopes,
                tools,
            }),
            _ => Err(problems),
        }
    }
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

/// `<server_url><mcp_path>`, without a doubled slash.
pub fn default_resource(server_url: &str, mcp_path: &str) -> String {
    format!("{}{mcp_path}", server_url.trim_end_matches('/'))
}

fn required<'a>(problems: &mut Problems, path: &str, value: Option<&'a str>) -> Option<&'a str> {
    if value.is_none() {
        let what = REQUIRED
            .iter()
            .find(|(field, _)| *field == path)
            .map_or("a value", |(_, what)| what);
        problems.push(path, format!("{MISSING}: required, {what}"));
    }
    value
}

fn check_into<T>(problems: &mut Problems, path: &str, result: Result<T, String>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(message) => {
            problems.push(path, message);
            None
        }
    }
}

fn validate_scopes(raw: &[ScopeAnswer], problems: &mut Problems) -> Vec<Scope> {
    let mut seen = BTreeSet::new();
    for (i, scope) in raw.iter().enumerate() {
        let path = format!("scopes[{i}].name");
        if check_into(problems, &path, check_scope_name(&scope.name)).is_some()
            && !seen.insert(scope.name.as_str())
        {
            problems.push(path, format!("`{}` is declared twice", scope.name));
        }
        if let Some(description) = &scope.description {
            check_into(
                problems,
                &format!("scopes[{i}].description"),
                check_free_text(description),
            );
        }
    }
    let declared: BTreeSet<&str> = raw.iter().map(|s| s.name.as_str()).collect();
    for (i, scope) in raw.iter().enumerate() {
        let mut included = BTreeSet::new();
        for (j, include) in scope.includes.iter().enumerate() {
            let path = format!("scopes[{i}].includes[{j}]");
            if include == &scope.name {
                problems.push(path, format!("`{include}` includes itself"));
            } else if !declared.contains(include.as_str()) {
                problems.push(path, not_declared(include, &declared));
            } else if !included.insert(include.as_str()) {
                problems.push(path, format!("`{include}` is listed twice"));
            }
        }
    }
    if let Some(cycle) = find_cycle(raw) {
        let index = raw.iter().position(|s| s.name == cycle[0]).unwrap_or(0);
        problems.push(
            format!("scopes[{index}].includes"),
            format!(
                "the includes form a cycle ({}); a scope hierarchy must have a top",
                cycle.join(" -> ")
            ),
        );
    }
    raw.iter()
        .map(|s| Scope {
            name: s.name.clone(),
            description: s.description.clone(),
            includes: s.includes.clone(),
        })
        .collect()
}

/// The first cycle in the `includes` graph, as a path that returns to its
/// start, if there is one. Self-inclusion is reported separately.
fn find_cycle(scopes: &[ScopeAnswer]) -> Option<Vec<String>> {
    let edges: BTreeMap<&str, Vec<&str>> = scopes
        .iter()
        .map(|s| {
            let targets = s
                .includes
                .iter()
                .map(String::as_str)
                .filter(|t| *t != s.name)
                .collect();
            (s.name.as_str(), targets)
        })
        .collect();
    fn visit<'a>(
        node: &'a str,
        edges: &BTreeMap<&'a str, Vec<&'a str>>,
        stack: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(start) = stack.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = stack[start..].iter().map(|s| s.to_string()).collect();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if !done.insert(node) {
            return None;
        }
        stack.push(node);
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    for scope in scopes {
        if let Some(cycle) = visit(&scope.name, &edges, &mut Vec::new(), &mut done) {
            return Some(cycle);
        }
    }
    None
}

fn validate_tools(
    raw: &[ToolAnswer],
    declared: &BTreeSet<&str>,
    problems: &mut Problems,
) -> Vec<Tool> {
    let mut valid_names = Vec::new();
    for (i, tool) in raw.iter().enumerate() {
        let path = format!("tools[{i}].name");
        if check_into(problems, &path, check_tool_name(&tool.name)).is_some() {
            valid_names.push((i, tool.name.as_str()));
        }
        if let Some(description) = &tool.description {
            check_into(
                problems,
                &format!("tools[{i}].description"),
                check_free_text(description),
            );
        }
        match &tool.scopes {
            None => problems.push(
                format!("tools[{i}].scopes"),
                format!(
                    "{MISSING}: list the scopes this tool needs (all are required), \
                     or [] to allow any valid token"
                ),
            ),
            Some(scopes) => {
                let mut seen = BTreeSet::new();
                for (j, scope) in scopes.iter().enumerate() {
                    let path = format!("tools[{i}].scopes[{j}]");
                    if !declared.contains(scope.as_str()) {
                        problems.push(path, not_declared(scope, declared));
                    } else if !seen.insert(scope.as_str()) {
                        problems.push(path, format!("`{scope}` is listed twice"));
                    }
                }
            }
        }
    }
    for (i, message) in name_clashes(&valid_names, tool_ident, "method", true) {
        problems.push(format!("tools[{i}].name"), message);
    }
    raw.iter()
        .enumerate()
        .map(|(i, tool)| {
            let ident = tool_ident(&tool.name);
            Tool {
                name: tool.name.clone(),
                args_type: args_type(&ident),
                ident,
                description: tool.description.clone(),
                scopes: tool.scopes.clone().unwrap_or_default(),
                arguments: validate_arguments(i, &tool.arguments, problems),
            }
        })
        .collect()
}

fn validate_arguments(
    tool: usize,
    raw: &[ArgumentAnswer],
    problems: &mut Problems,
) -> Vec<Argument> {
    let mut valid_names = Vec::new();
    for (i, argument) in raw.iter().enumerate() {
        let path = format!("tools[{tool}].arguments[{i}].name");
        if check_into(problems, &path, check_argument_name(&argument.name)).is_some() {
            valid_names.push((i, argument.name.as_str()));
        }
        if let Some(description) = &argument.description {
            check_into(
                problems,
                &format!("tools[{tool}].arguments[{i}].description"),
                check_free_text(description),
            );
        }
    }
    for (i, message) in name_clashes(&valid_names, argument_ident, "field", false) {
        problems.push(format!("tools[{tool}].arguments[{i}].name"), message);
    }
    raw.iter()
        .map(|argument| Argument {
            name: argument.name.clone(),
            ident: argument_ident(&argument.name),
            ty: argument.ty,
            description: argument.description.clone(),
            required: argument.required,
        })
        .collect()
}

/// Names declared twice, or that map to the same Rust identifier (or, for
/// tools, the same arguments type), as (index, message).
fn name_clashes(
    names: &[(usize, &str)],
    ident: fn(&str) -> String,
    kind: &str,
    with_type: bool,
) -> Vec<(usize, String)> {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut idents: BTreeMap<String, &str> = BTreeMap::new();
    let mut types: BTreeMap<String, &str> = BTreeMap::new();
    let mut clashes = Vec::new();
    for &(i, name) in names {
        let rust = ident(name);
        if !seen.insert(name) {
            clashes.push((i, format!("`{name}` is declared twice")));
        } else if let Some(other) = idents.insert(rust.clone(), name) {
            clashes.push((
                i,
                format!("`{name}` and `{other}` both become the Rust {kind} `{rust}`; rename one"),
            ));
        } else if with_type && let Some(other) = types.insert(args_type(&rust), name) {
            clashes.push((
                i,
                format!(
                    "`{name}` and `{other}` both become the Rust type `{}`; rename one",
                    args_type(&rust)
                ),
            ));
        }
    }
    clashes
}

/// For prompts: whether the tool names clash (the last one is the new one).
pub fn check_tool_names(tools: &[ToolAnswer]) -> Result<(), String> {
    let names: Vec<(usize, &str)> = tools.iter().map(|t| t.name.as_str()).enumerate().collect();
    match name_clashes(&names, tool_ident, "method", true)
        .into_iter()
        .next()
    {
        Some((_, message)) => Err(message),
        None => Ok(()),
    }
}

/// For prompts: whether a tool's argument names clash.
pub fn check_argument_names(arguments: &[ArgumentAnswer]) -> Result<(), String> {
    let names: Vec<(usize, &str)> = arguments
        .iter()
        .map(|a| a.name.as_str())
        .enumerate()
        .collect();
    match name_clashes(&names, argument_ident, "field", false)
        .into_iter()
        .next()
    {
        Some((_, message)) => Err(message),
        None => Ok(()),
    }
}

fn args_type(ident: &str) -> String {
    format!("{}Args", camel_case(ident))
}

fn not_declared(scope: &str, declared: &BTreeSet<&str>) -> String {
    if declared.is_empty() {
        format!("`{scope}` is not declared: no scopes are declared under `scopes`")
    } else {
        let list: Vec<&str> = declared.iter().copied().collect();
        format!(
            "`{scope}` is not declared under `scopes`; declared: {}",
            list.join(", ")
        )
    }
}

// Field rules. Each returns the reason a value is refused, phrased so that it
// can follow the field path in a list of problems or stand under a prompt.

/// Cargo's package name rules, plus the names Cargo refuses for new packages.
pub fn check_package_name(name: &str) -> Result<String, String> {
    const ALLOWED: &str = "a package name is 1 to 64 ASCII letters, digits, `-` and `_`, \
                           starting with a letter";
    let mut chars = name.chars();
    let valid_start = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if !valid_start
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!("`{name}` is not allowed: {ALLOWED}"));
    }
    let crate_name = name.replace('-', "_");
    if is_keyword(&crate_name)
        || [
            "test",
            "core",
            "std",
            "alloc",
            "proc_macro",
            "build",
            "deps",
            "examples",
        ]
        .contains(&crate_name.as_str())
    {
        return Err(format!(
            "`{name}` is reserved by Rust or Cargo; choose another package name"
        ));
    }
    if ["con", "prn", "aux", "nul", "com1", "lpt1"].contains(&name.to_ascii_lowercase().as_str()) {
        return Err(format!(
            "`{name}` is a reserved file name on Windows; choose another package name"
        ));
    }
    Ok(name.to_string())
}

/// Descriptions may hold any text; control characters other than newline and
/// tab are refused because they could hide content in a terminal or editor.
pub fn check_free_text(text: &str) -> Result<String, String> {
    match text
        .chars()
        .find(|c| c.is_control() && *c != '\n' && *c != '\t')
    {
        Some(c) => Err(format!(
            "contains the control character U+{:04X}; text may hold any characters but \
             control characters other than newline and tab",
            u32::from(c)
        )),
        None => Ok(text.to_string()),
    }
}

/// An absolute URL: `https`, or `http` only for loopback hosts; no fragment,
/// no user name or password.
pub fn check_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| {
        format!("`{value}` is not an absolute URL ({e}); expected e.g. https://mcp.example.com")
    })?;
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = matches!(
                url.host_str(),
                Some("localhost") | Some("127.0.0.1") | Some("[::1]")
            );
            if !loopback {
                return Err(format!(
                    "`{value}` uses http; use https (http is allowed only for localhost, \
                     127.0.0.1 and [::1])"
                ));
            }
        }
        other => {
            return Err(format!(
                "`{value}` has the scheme `{other}`; use https (or http for localhost)"
            ));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{value}` has no host"));
    }
    if url.fragment().is_some() {
        return Err(format!("`{value}` has a fragment (`#...`); remove it"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "`{value}` contains a user name or password; remove them"
        ));
    }
    if let Some(c) = value.chars().find(|c| !is_uri_char(*c)) {
        return Err(format!(
            "`{value}` contains the character {c:?}, which a URL may not hold (RFC 3986); \
             percent-encode it"
        ));
    }
    Ok(url)
}

/// The characters RFC 3986 allows in a URI. Refusing the rest also keeps
/// every URL safe to place in generated code, Markdown and configuration.
fn is_uri_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c)
}

/// An origin-only URL (scheme, host, optional port and trailing slash).
fn check_origin_url(value: &str, what: &str) -> Result<String, String> {
    let url = check_url(value)?;
    if url.path() != "/" || url.query().is_some() {
        return Err(format!(
            "`{value}` has a path or query; {what} is an origin only, e.g. {}",
            url.origin().ascii_serialization()
        ));
    }
    Ok(value.to_string())
}

pub fn check_server_url(value: &str) -> Result<String, String> {
    check_origin_url(value, "the server URL")
}

pub fn check_environment_url(value: &str) -> Result<String, String> {
    check_origin_url(value, "the Scalekit environment URL")
}

/// The MCP endpoint path: `/` then segments of unreserved URL characters.
pub fn check_mcp_path(path: &str) -> Result<String, String> {
    const ALLOWED: &str = "a path such as /mcp: `/` followed by segments of letters, digits, \
                           `-`, `_`, `.` and `~`, with no trailing `/`";
    let valid = path.len() > 1
        && path.starts_with('/')
        && path[1..].split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.~".contains(c))
        });
    if !valid {
        return Err(format!("`{path}` is not allowed: {ALLOWED}"));
    }
    if path == "/healthz" || path == "/.well-known" || path.starts_with("/.well-known/") {
        return Err(format!(
            "`{path}` is taken by the server's own routes (/healthz, /.well-known/...); \
             choose another path such as /mcp"
        ));
    }
    Ok(path.to_string())
}

/// The resource must be a URL this server answers for: the same origin as the
/// server URL, and the MCP endpoint's URL or a prefix of it, as clients check.
pub fn check_resource_for(
    resource: &str,
    server_url: &str,
    mcp_path: &str,
) -> Result<String, String> {
    let url = check_url(resource)?;
    if url.query().is_some() {
        return Err(format!(
            "`{resource}` has a query; a resource identifier has none (RFC 8707)"
        ));
    }
    let server = Url::parse(server_url).map_err(|e| e.to_string())?;
    if url.origin() != server.origin() {
        return Err(format!(
            "`{resource}` is not on the server URL's origin ({}); clients fetch its metadata \
             from this server, so use e.g. {}",
            server.origin().ascii_serialization(),
            default_resource(server_url, mcp_path)
        ));
    }
    let path = url.path().trim_end_matches('/');
    let endpoint_prefix =
        path.is_empty() || mcp_path == path || mcp_path.starts_with(&format!("{path}/"));
    if !endpoint_prefix {
        return Err(format!(
            "`{resource}` is neither the MCP endpoint's URL nor a prefix of it; clients refuse \
             such a resource, so use {}",
            default_resource(server_url, mcp_path)
        ));
    }
    Ok(resource.to_string())
}

/// The Scalekit MCP server id, used in URLs: letters, digits, `_` and `-`.
pub fn check_resource_id(id: &str) -> Result<String, String> {
    if id.is_empty()
        || id.len() > 128
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(format!(
            "`{id}` is not allowed: a Scalekit resource id is 1 to 128 ASCII letters, digits, \
             `_` and `-`, e.g. res_1234567890"
        ));
    }
    Ok(id.to_string())
}

/// An accepted `aud` value. Commas are refused because `MCP_AUDIENCE` is a
/// comma-separated list.
pub fn check_audience(value: &str) -> Result<String, String> {
    if value.is_empty() || value.chars().any(|c| c == ',' || !is_uri_char(c)) {
        return Err(format!(
            "`{value}` is not allowed: an audience value is an id or URL made of the \
             characters URLs allow, without a comma, e.g. res_1234567890 or \
             https://mcp.example.com/mcp"
        ));
    }
    Ok(value.to_string())
}

pub fn check_port(port: i64) -> Result<u16, String> {
    u16::try_from(port)
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| format!("{port} is not allowed: a port is a number from 1 to 65535"))
}

/// An RFC 6749 scope token; `offline_access` is refused because MCP servers
/// should not advertise it (MCP 2026-07-28).
pub fn check_scope_name(name: &str) -> Result<String, String> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\');
    if !valid {
        return Err(format!(
            "`{name}` is not allowed: a scope is 1 or more printable ASCII characters \
             without space, `\"` or `\\` (RFC 6749), e.g. todo:read"
        ));
    }
    if name == "offline_access" {
        return Err(
            "`offline_access` is not allowed: it is for refresh tokens, which the \
             authorization server grants; a resource server should not advertise it"
                .to_string(),
        );
    }
    Ok(name.to_string())
}

/// The MCP tool name rule: 1 to 128 of `A-Z a-z 0-9 _ - .`.
pub fn check_tool_name(name: &str) -> Result<String, String> {
    if name.is_empty()
        || name.len() > 128
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
    {
        return Err(format!(
            "`{name}` is not allowed: a tool name is 1 to 128 of A-Z, a-z, 0-9, `_`, `-` and \
             `.` (MCP), e.g. list_todos"
        ));
    }
    Ok(name.to_string())
}

/// Argument names follow the tool name rule but are shorter.
pub fn check_argument_name(name: &str) -> Result<String, String> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
    {
        return Err(format!(
            "`{name}` is not allowed: an argument name is 1 to 64 of A-Z, a-z, 0-9, `_`, `-` \
             and `.`, e.g. limit"
        ));
    }
    Ok(name.to_string())
}

/// The longest Rust identifier generated for a tool.
const MAX_IDENT: usize = 48;

/// Method names the generated server struct already has.
const RESERVED_METHODS: [&str; 6] = [
    "new",
    "tool_router",
    "get_info",
    "call_tool",
    "list_tools",
    "get_tool",
];

/// rmcp derives `<method>_tool_attr` from a tool's method name, so a keyword
/// or a taken name gets a `_tool` suffix rather than a trailing `_`, which
/// would make that name break the snake_case lint.
fn tool_ident(name: &str) -> String {
    let mut ident = snake_case(name, "tool");
    // Long identifiers would make rustfmt break the generated signatures
    // differently per name; 48 characters keep every line within its width.
    if ident.len() > MAX_IDENT {
        ident.truncate(MAX_IDENT);
        ident.truncate(ident.trim_end_matches('_').len());
    }
    match ident.strip_suffix('_') {
        Some(keyword) => format!("{keyword}_tool"),
        None if RESERVED_METHODS.contains(&ident.as_str()) => format!("{ident}_tool"),
        None => ident,
    }
}

fn argument_ident(name: &str) -> String {
    snake_case(name, "arg")
}

/// A snake_case Rust identifier for an MCP name: camelCase split, other
/// characters turned into `_`, a letter first, keywords suffixed with `_`.
fn snake_case(name: &str, prefix: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut previous: Option<char> = None;
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if previous.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit()) {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
        previous = Some(c);
    }
    let trimmed = out.trim_end_matches('_');
    let mut ident = if trimmed.starts_with(|c: char| c.is_ascii_alphabetic()) {
        trimmed.to_string()
    } else if trimmed.is_empty() {
        prefix.to_string()
    } else {
        format!("{prefix}_{trimmed}")
    };
    if is_keyword(&ident) {
        ident.push('_');
    }
    ident
}

fn camel_case(ident: &str) -> String {
    ident
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// Rust's strict and reserved keywords (2024 edition) and the ones that
/// cannot be raw identifiers.
fn is_keyword(word: &str) -> bool {
    const KEYWORDS: [&str; 53] = [
        "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn",
        "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
        "return", "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe",
        "use", "where", "while", "async", "await", "dyn", "abstract", "become", "box", "do",
        "final", "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
        "gen", "union",
    ];
    KEYWORDS.contains(&word)
}

/// The keys each level of an answers file may have.
struct Keys {
    allowed: &'static [&'static str],
    /// Nested levels: a key whose value is a mapping, or a list of mappings.
    nested: &'static [(&'static str, &'static Keys)],
}

const SCHEMA: Keys = Keys {
    allowed: &[
        "version",
        "name",
        "description",
        "server_url",
        "mcp_path",
        "resource",
        "scalekit",
        "audience",
        "resource_documentation",
        "port",
        "scopes",
        "tools",
    ],
    nested: &[
        (
            "scalekit",
            &Keys {
                allowed: &["environment_url", "resource_id"],
                nested: &[],
            },
        ),
        (
            "scopes",
            &Keys {
                allowed: &["name", "description", "includes"],
                nested: &[],
            },
        ),
        (
            "tools",
            &Keys {
                allowed: &["name", "description", "scopes", "arguments"],
                nested: &[(
                    "arguments",
                    &Keys {
                        allowed: &["name", "type", "description", "required"],
                        nested: &[],
                    },
                )],
            },
        ),
    ],
};

/// Collects every unknown key, so a file with several misspelt keys gets
/// them all reported at once (serde stops at the first).
fn unknown_keys(value: &serde_yaml::Value, keys: &Keys, path: &str, problems: &mut Problems) {
    let Some(mapping) = value.as_mapping() else {
        return;
    };
    for (key, child) in mapping {
        let Some(key) = key.as_str() else {
            continue;
        };
        let child_path = if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        };
        if !keys.allowed.contains(&key) {
            problems.push(
                child_path,
                format!(
                    "unknown key `{key}`; allowed here: {}",
                    keys.allowed.join(", ")
                ),
            );
            continue;
        }
        if let Some((_, nested)) = keys.nested.iter().find(|(name, _)| *name == key) {
            match child.as_sequence() {
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        unknown_keys(item, nested, &format!("{child_path}[{i}]"), problems);
                    }
                }
                None => unknown_keys(child, nested, &child_path, problems),
            }
        }
    }
}

/// serde_yaml appends " at line L column C"; the location is reported
/// separately, so it is removed from the message.
fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(index) => message[..index].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_idents_are_snake_case_and_avoid_keywords() {
        assert_eq!(tool_ident("list_todos"), "list_todos");
        assert_eq!(tool_ident("listTodos"), "list_todos");
        assert_eq!(tool_ident("todo.list-all"), "todo_list_all");
        assert_eq!(tool_ident("type"), "type_tool");
        assert_eq!(tool_ident("self"), "self_tool");
        assert_eq!(tool_ident("new"), "new_tool");
        assert_eq!(tool_ident("42"), "tool_42");
        assert_eq!(tool_ident("-"), "tool");
        assert_eq!(
            tool_ident(&"ab_".repeat(40)),
            "ab_".repeat(16).trim_end_matches('_')
        );
        assert_eq!(camel_case("todo_list_all"), "TodoListAll");
    }

    #[test]
    fn cycles_are_found() {
        let scope = |name: &str, includes: &[&str]| ScopeAnswer {
            name: name.into(),
            description: None,
            includes: includes.iter().map(|s| s.to_string()).collect(),
        };
        let scopes = [scope("a", &["b"]), scope("b", &["c"]), scope("c", &["a"])];
        assert_eq!(
            find_cycle(&scopes),
            Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
        );
        let acyclic = [scope("a", &["b", "c"]), scope("b", &["c"]), scope("c", &[])];
        assert_eq!(find_cycle(&acyclic), None);
    }
}
