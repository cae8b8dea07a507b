//! What the templates see: plain values decided here from the validated
//! [`Project`], so templates only place them.

use std::collections::BTreeSet;

use anyhow::{Context as _, Result};
use serde::Serialize;

use super::filters::{json_str, rust_str};
use super::layout::{attribute, option_field, slice_field};
use super::metadata_url;
use crate::answers::{ArgType, Argument, Project, Tool};

/// What the templates see. Everything is decided here; templates only place
/// values.
#[derive(Debug, Serialize)]
pub(super) struct Context<'a> {
    generator_version: &'a str,
    name: &'a str,
    /// The name as a Kubernetes object name (an RFC 1123 label).
    kube_name: String,
    description: Option<&'a str>,
    server_url: &'a str,
    mcp_path: &'a str,
    resource: &'a str,
    environment_url: &'a str,
    resource_id: &'a str,
    audience_joined: String,
    /// `audience: &[...],` and `resource_documentation: ...,` in `config.rs`.
    audience_field: String,
    resource_documentation_field: String,
    resource_documentation: Option<&'a str>,
    port: u16,
    /// `<environment_url>/resources/<resource_id>`.
    authorization_server: String,
    /// The public URL of the MCP endpoint.
    endpoint_url: String,
    /// The MCP endpoint under `mcp-oauth-new dev`.
    dev_url: String,
    scopes: Vec<ScopeContext<'a>>,
    tools: Vec<ToolContext<'a>>,
    /// Whether any tool needs a scope, and the index of the first that does.
    has_scoped_tools: bool,
    first_scoped_tool: usize,
    /// Whether some scope grants a tool's scopes through `includes`.
    has_hierarchy: bool,
    /// The 401 challenge without credentials, as the server sends it.
    challenge: String,
    /// The protected resource metadata, as the server sends it.
    metadata_json: String,
    /// The recorded answers, as YAML.
    answers_yaml: String,
}

#[derive(Debug, Serialize)]
struct ScopeContext<'a> {
    name: &'a str,
    description: Option<&'a str>,
    /// The included scopes, space-separated, for the README.
    includes_joined: String,
    /// `includes: &[...],` in the scope table.
    includes_field: String,
}

#[derive(Debug, Serialize)]
struct ToolContext<'a> {
    name: &'a str,
    ident: &'a str,
    args_type: &'a str,
    /// `scopes: &[...],` in the scope table and the tests' cases.
    scopes_field: String,
    /// `granted_by: ...,` in the tests' cases: a declared scope that grants
    /// every scope of the tool through `includes`, if there is one.
    granted_by_field: String,
    /// Valid arguments for the tool, as JSON, for its tests.
    sample_arguments: String,
    /// The `#[tool(...)]` attribute, laid out as rustfmt would.
    attribute: String,
    arguments: Vec<ArgumentContext<'a>>,
}

#[derive(Debug, Serialize)]
struct ArgumentContext<'a> {
    ident: &'a str,
    /// The Rust type of the field, `Option<..>` when not required.
    rust_type: String,
    /// The field's `#[serde]` and `#[schemars]` attributes, laid out as
    /// rustfmt would.
    attributes: Vec<String>,
}

impl<'a> Context<'a> {
    pub(super) fn new(project: &'a Project, generator_version: &'a str) -> Result<Self> {
        let endpoint_url = crate::answers::default_resource(&project.server_url, &project.mcp_path);
        let answers_yaml =
            serde_yaml::to_string(&project.to_answers()).context("serialising the answers")?;
        let first_scoped_tool = project.tools.iter().position(|t| !t.scopes.is_empty());
        Ok(Context {
            generator_version,
            name: &project.name,
            kube_name: kube_name(&project.name),
            description: project.description.as_deref(),
            server_url: &project.server_url,
            mcp_path: &project.mcp_path,
            resource: &project.resource,
            environment_url: project.environment_url.trim_end_matches('/'),
            resource_id: &project.resource_id,
            audience_joined: project.audience.join(","),
            audience_field: slice_field(4, "audience", &strs(&project.audience)),
            resource_documentation_field: option_field(
                4,
                "resource_documentation",
                project.resource_documentation.as_deref(),
            ),
            resource_documentation: project.resource_documentation.as_deref(),
            port: project.port,
            authorization_server: authorization_server(project),
            endpoint_url,
            dev_url: crate::dev::local_mcp_url(project, project.port),
            scopes: project
                .scopes
                .iter()
                .map(|s| ScopeContext {
                    name: &s.name,
                    description: s.description.as_deref(),
                    includes_joined: s.includes.join(" "),
                    includes_field: slice_field(8, "includes", &strs(&s.includes)),
                })
                .collect(),
            tools: project
                .tools
                .iter()
                .map(|t| tool_context(project, t))
                .collect(),
            has_scoped_tools: first_scoped_tool.is_some(),
            first_scoped_tool: first_scoped_tool.unwrap_or_default(),
            has_hierarchy: project
                .tools
                .iter()
                .any(|t| granted_by(project, t).is_some()),
            challenge: challenge(project)?,
            metadata_json: metadata_json(project),
            answers_yaml,
        })
    }
}

fn tool_context<'a>(project: &'a Project, tool: &'a Tool) -> ToolContext<'a> {
    let mut items = vec![format!("name = {}", rust_str(&tool.name))];
    if let Some(description) = &tool.description {
        items.push(format!("description = {}", rust_str(description)));
    }
    ToolContext {
        name: &tool.name,
        ident: &tool.ident,
        args_type: &tool.args_type,
        scopes_field: slice_field(8, "scopes", &strs(&tool.scopes)),
        granted_by_field: option_field(8, "granted_by", granted_by(project, tool).as_deref()),
        sample_arguments: sample_arguments(tool),
        attribute: attribute(4, "tool", &items),
        arguments: tool.arguments.iter().map(argument_context).collect(),
    }
}

/// Lowercase letters, digits and `-`, at most 63, starting and ending with
/// a letter or digit.
fn kube_name(name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '-',
        })
        .take(63)
        .collect();
    match name.trim_matches('-') {
        "" => "mcp-server".to_string(),
        trimmed => trimmed.to_string(),
    }
}

fn strs(items: &[String]) -> Vec<&str> {
    items.iter().map(String::as_str).collect()
}

fn argument_context(argument: &Argument) -> ArgumentContext<'_> {
    let ty = argument.ty.rust_type();
    let mut attributes = Vec::new();
    if argument.ident != argument.name {
        attributes.push(attribute(
            4,
            "serde",
            &[format!("rename = {}", rust_str(&argument.name))],
        ));
    }
    if let Some(description) = &argument.description {
        attributes.push(attribute(
            4,
            "schemars",
            &[format!("description = {}", rust_str(description))],
        ));
    }
    ArgumentContext {
        ident: &argument.ident,
        rust_type: if argument.required {
            ty.to_string()
        } else {
            format!("Option<{ty}>")
        },
        attributes,
    }
}

/// A declared scope, other than the tool's own, whose `includes` grant every
/// scope the tool needs.
fn granted_by(project: &Project, tool: &Tool) -> Option<String> {
    if tool.scopes.is_empty() {
        return None;
    }
    project
        .scopes
        .iter()
        .filter(|scope| !tool.scopes.contains(&scope.name))
        .find(|scope| {
            let granted = expand(project, &scope.name);
            tool.scopes
                .iter()
                .all(|needed| granted.contains(needed.as_str()))
        })
        .map(|scope| scope.name.clone())
}

/// A scope and everything it includes, transitively.
fn expand<'a>(project: &'a Project, scope: &'a str) -> BTreeSet<&'a str> {
    let mut granted = BTreeSet::from([scope]);
    let mut pending = vec![scope];
    while let Some(name) = pending.pop() {
        let includes = project.scopes.iter().filter(|s| s.name == name);
        for included in includes.flat_map(|s| &s.includes) {
            if granted.insert(included) {
                pending.push(included);
            }
        }
    }
    granted
}

/// A JSON object with a value of the right type for every argument.
fn sample_arguments(tool: &Tool) -> String {
    let fields: Vec<String> = tool
        .arguments
        .iter()
        .map(|argument| {
            let value = match argument.ty {
                ArgType::String => "\"example\"",
                ArgType::Integer => "1",
                ArgType::Number => "1.5",
                ArgType::Boolean => "true",
            };
            format!("{}:{value}", json_str(&argument.name))
        })
        .collect();
    format!("{{{}}}", fields.join(","))
}

/// `<environment_url>/resources/<resource_id>`: Scalekit's authorization
/// server for this resource.
fn authorization_server(project: &Project) -> String {
    format!(
        "{}/resources/{}",
        project.environment_url.trim_end_matches('/'),
        project.resource_id
    )
}

fn challenge(project: &Project) -> Result<String> {
    let mut challenge = format!(
        "Bearer resource_metadata=\"{}\"",
        metadata_url(&project.resource)?
    );
    if !project.scopes.is_empty() {
        let scopes: Vec<&str> = project.scopes.iter().map(|s| s.name.as_str()).collect();
        challenge.push_str(&format!(", scope=\"{}\"", scopes.join(" ")));
    }
    Ok(challenge)
}

fn metadata_json(project: &Project) -> String {
    let strings =
        |items: &mut dyn Iterator<Item = &str>| items.map(json_str).collect::<Vec<_>>().join(",");
    let authorization_server = authorization_server(project);
    let mut json = format!(
        "{{\"resource\":{},\"authorization_servers\":[{}],\"bearer_methods_supported\":[\"header\"],\
         \"scopes_supported\":[{}],\"resource_name\":{}",
        json_str(&project.resource),
        json_str(&authorization_server),
        strings(&mut project.scopes.iter().map(|s| s.name.as_str())),
        json_str(&project.name),
    );
    if let Some(documentation) = &project.resource_documentation {
        json.push_str(&format!(
            ",\"resource_documentation\":{}",
            json_str(documentation)
        ));
    }
    json.push('}');
    json
}
