//! Validation: every rule of the answers schema, applied once, turning
//! [`Answers`] into a [`Project`] or the full list of [`Problems`].

use std::collections::{BTreeMap, BTreeSet};

use super::ident::{args_type, argument_ident, tool_ident};
use super::rules::*;
use super::{
    Answers, Argument, ArgumentAnswer, DEFAULT_MCP_PATH, DEFAULT_PORT, Problems, Project, REQUIRED,
    SCHEMA_VERSION, Scope, ScopeAnswer, Tool, ToolAnswer, default_resource,
};

impl Answers {
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
                problems.push_missing(
                    "name",
                    "give PATH on the command line or `name` in the answers",
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

fn required<'a>(problems: &mut Problems, path: &str, value: Option<&'a str>) -> Option<&'a str> {
    if value.is_none() {
        let what = REQUIRED
            .iter()
            .find(|(field, _)| *field == path)
            .map_or("a value", |(_, what)| what);
        problems.push_missing(path, format!("required, {what}"));
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
            None => problems.push_missing(
                format!("tools[{i}].scopes"),
                "list the scopes this tool needs (all are required), or [] to allow any \
                 valid token",
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

#[cfg(test)]
mod tests {
    use super::*;

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
