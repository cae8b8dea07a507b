//! Interactive collection of the answers that are still missing.
//!
//! Each prompt checks its value with the same rule as the answers file and
//! asks again, saying why, until the value is acceptable.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use console::style;
use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Input, MultiSelect, Select};

use crate::answers::{
    self, Answers, ArgType, ArgumentAnswer, Project, ScopeAnswer, ToolAnswer, check_argument_name,
    check_audience, check_environment_url, check_free_text, check_package_name, check_resource_id,
    check_scope_name, check_server_url, check_tool_name,
};

/// Asks for every missing answer, and for PATH when it is missing.
pub fn fill(answers: &mut Answers, path: &mut Option<PathBuf>) -> Result<()> {
    let theme = ColorfulTheme::default();
    if path.is_none() {
        let named = answers.name.is_some();
        let dir: String = Input::with_theme(&theme)
            .with_prompt("Project directory")
            .validate_with(|input: &String| -> Result<(), String> {
                let last = Path::new(input)
                    .file_name()
                    .and_then(|n| n.to_str())
                    .ok_or("give a directory name such as my-server")?;
                if named {
                    Ok(())
                } else {
                    check_package_name(last).map(|_| ())
                }
            })
            .interact_text()?;
        *path = Some(PathBuf::from(dir));
    }
    if answers.server_url.is_none() {
        answers.server_url = Some(ask(
            &theme,
            "Public base URL of the server",
            None,
            check_server_url,
        )?);
    }
    if answers.scalekit_mut().environment_url.is_none() {
        answers.scalekit_mut().environment_url = Some(ask(
            &theme,
            "Scalekit environment URL",
            None,
            check_environment_url,
        )?);
    }
    if answers.scalekit_mut().resource_id.is_none() {
        answers.scalekit_mut().resource_id = Some(ask(
            &theme,
            "Scalekit resource id of the MCP server (res_...)",
            None,
            check_resource_id,
        )?);
    }
    let server_url = answers.server_url.clone().unwrap_or_default();
    let mcp_path = answers
        .mcp_path
        .clone()
        .unwrap_or_else(|| answers::DEFAULT_MCP_PATH.to_string());
    if answers.resource.is_none() {
        let default = answers::default_resource(&server_url, &mcp_path);
        answers.resource = Some(ask(
            &theme,
            "Resource identifier (register exactly this as the Server URL in Scalekit)",
            Some(default),
            |value| answers::check_resource_for(value, &server_url, &mcp_path),
        )?);
    }
    if answers.audience.is_none() {
        let resource_id = answers
            .scalekit
            .as_ref()
            .and_then(|s| s.resource_id.clone())
            .unwrap_or_default();
        let resource = answers.resource.clone().unwrap_or_default();
        let default = if resource == resource_id {
            resource
        } else {
            format!("{resource_id}, {resource}")
        };
        let list = ask(
            &theme,
            "Accepted token audiences (comma-separated, any one suffices)",
            Some(default),
            |value| split_list(value).map(|_| value.to_string()),
        )?;
        answers.audience = Some(split_list(&list).map_err(anyhow::Error::msg)?);
    }
    if answers.scopes.is_none() {
        answers.scopes = Some(ask_scopes(&theme)?);
    }
    if answers.tools.is_none() {
        let declared: Vec<String> = answers
            .scopes
            .iter()
            .flatten()
            .map(|s| s.name.clone())
            .collect();
        answers.tools = Some(ask_tools(&theme, &declared)?);
    }
    Ok(())
}

/// Shows what will be generated and asks for confirmation.
pub fn confirm(project: &Project, path: &Path) -> Result<bool> {
    eprintln!();
    eprintln!("{}", style("Summary").bold());
    eprintln!("  directory      {}", path.display());
    eprintln!("  package        {}", project.name);
    eprintln!(
        "  MCP endpoint   {}",
        answers::default_resource(&project.server_url, &project.mcp_path)
    );
    eprintln!("  resource       {}", project.resource);
    eprintln!(
        "  Scalekit       {} ({})",
        project.environment_url, project.resource_id
    );
    eprintln!("  audience       {}", project.audience.join(", "));
    for scope in &project.scopes {
        eprintln!("  scope          {}", scope.name);
    }
    for tool in &project.tools {
        let scopes = if tool.scopes.is_empty() {
            "any valid token".to_string()
        } else {
            tool.scopes.join(" ")
        };
        eprintln!("  tool           {} ({scopes})", tool.name);
    }
    Confirm::with_theme(&ColorfulTheme::default())
        .with_prompt("Generate the project?")
        .default(true)
        .interact()
        .context("reading the confirmation")
}

/// For `add`: the optional description of a new tool or scope.
pub fn description() -> Result<Option<String>> {
    ask_optional_text(&ColorfulTheme::default(), "Description (optional)")
}

/// For `add`: which of the `declared` scopes `what` needs or grants; none
/// picked is the empty list.
pub fn pick_scopes(what: &str, declared: &[String]) -> Result<Vec<String>> {
    if declared.is_empty() {
        return Ok(Vec::new());
    }
    let picked = MultiSelect::with_theme(&ColorfulTheme::default())
        .with_prompt(format!("{what} (space to pick, enter to go on)"))
        .items(declared)
        .interact()?;
    Ok(picked.into_iter().map(|i| declared[i].clone()).collect())
}

/// For `add tool`: the new tool's arguments.
pub fn arguments() -> Result<Vec<ArgumentAnswer>> {
    ask_arguments(&ColorfulTheme::default())
}

fn ask(
    theme: &ColorfulTheme,
    prompt: &str,
    default: Option<String>,
    check: impl Fn(&str) -> Result<String, String>,
) -> Result<String> {
    let mut input = Input::<String>::with_theme(theme).with_prompt(prompt);
    if let Some(default) = default {
        input = input.default(default);
    }
    let value = input
        .validate_with(|value: &String| check(value.trim()).map(|_| ()))
        .interact_text()
        .with_context(|| format!("reading \"{prompt}\""))?;
    Ok(value.trim().to_string())
}

fn ask_optional_text(theme: &ColorfulTheme, prompt: &str) -> Result<Option<String>> {
    let value: String = Input::with_theme(theme)
        .with_prompt(prompt)
        .allow_empty(true)
        .validate_with(|value: &String| check_free_text(value).map(|_| ()))
        .interact_text()?;
    Ok(Some(value.trim().to_string()).filter(|v| !v.is_empty()))
}

fn split_list(value: &str) -> Result<Vec<String>, String> {
    let items: Vec<String> = value
        .split(',')
        .map(|item| item.trim().to_string())
        .filter(|item| !item.is_empty())
        .collect();
    if items.is_empty() {
        return Err("give at least one audience value".to_string());
    }
    let mut seen = BTreeSet::new();
    for item in &items {
        check_audience(item)?;
        if !seen.insert(item) {
            return Err(format!("`{item}` is listed twice"));
        }
    }
    Ok(items)
}

fn ask_scopes(theme: &ColorfulTheme) -> Result<Vec<ScopeAnswer>> {
    eprintln!(
        "{}",
        style(
            "Scopes: the permissions tokens carry, e.g. todo:read (advertised as scopes_supported)"
        )
        .dim()
    );
    let mut scopes: Vec<ScopeAnswer> = Vec::new();
    while Confirm::with_theme(theme)
        .with_prompt(if scopes.is_empty() {
            "Add a scope?"
        } else {
            "Add another scope?"
        })
        .default(scopes.is_empty())
        .interact()?
    {
        let taken: BTreeSet<String> = scopes.iter().map(|s| s.name.clone()).collect();
        let name = ask(theme, "Scope name", None, |value| {
            let name = check_scope_name(value)?;
            if taken.contains(&name) {
                Err(format!("`{name}` is already declared"))
            } else {
                Ok(name)
            }
        })?;
        let description = ask_optional_text(theme, "Description (optional)")?;
        let includes = if scopes.is_empty() {
            Vec::new()
        } else {
            let names: Vec<&str> = scopes.iter().map(|s| s.name.as_str()).collect();
            let picked = MultiSelect::with_theme(theme)
                .with_prompt(format!(
                    "Scopes that `{name}` also grants (space to pick, enter to go on)"
                ))
                .items(&names)
                .interact()?;
            picked.into_iter().map(|i| names[i].to_string()).collect()
        };
        scopes.push(ScopeAnswer {
            name,
            description,
            includes,
        });
    }
    Ok(scopes)
}

fn ask_tools(theme: &ColorfulTheme, declared: &[String]) -> Result<Vec<ToolAnswer>> {
    eprintln!(
        "{}",
        style("Tools: each gets a typed method with a place for your logic").dim()
    );
    let mut tools: Vec<ToolAnswer> = Vec::new();
    while Confirm::with_theme(theme)
        .with_prompt(if tools.is_empty() {
            "Add a tool?"
        } else {
            "Add another tool?"
        })
        .default(tools.is_empty())
        .interact()?
    {
        let name = ask(theme, "Tool name", None, |value| {
            let name = check_tool_name(value)?;
            let mut trial = tools.clone();
            trial.push(ToolAnswer {
                name: name.clone(),
                description: None,
                scopes: Some(Vec::new()),
                arguments: Vec::new(),
            });
            answers::check_tool_names(&trial)?;
            Ok(name)
        })?;
        let description = ask_optional_text(theme, "Description")?;
        let scopes = if declared.is_empty() {
            Vec::new()
        } else {
            let picked = MultiSelect::with_theme(theme)
                .with_prompt(format!(
                    "Scopes `{name}` needs (space to pick; none = any valid token)"
                ))
                .items(declared)
                .interact()?;
            picked.into_iter().map(|i| declared[i].clone()).collect()
        };
        let arguments = ask_arguments(theme)?;
        tools.push(ToolAnswer {
            name,
            description,
            scopes: Some(scopes),
            arguments,
        });
    }
    Ok(tools)
}

fn ask_arguments(theme: &ColorfulTheme) -> Result<Vec<ArgumentAnswer>> {
    let mut arguments: Vec<ArgumentAnswer> = Vec::new();
    while Confirm::with_theme(theme)
        .with_prompt(if arguments.is_empty() {
            "Add an argument?"
        } else {
            "Add another argument?"
        })
        .default(false)
        .interact()?
    {
        let name = ask(theme, "Argument name", None, |value| {
            let name = check_argument_name(value)?;
            let mut trial = arguments.clone();
            trial.push(ArgumentAnswer {
                name: name.clone(),
                ty: ArgType::String,
                description: None,
                required: false,
            });
            answers::check_argument_names(&trial)?;
            Ok(name)
        })?;
        let types: Vec<&str> = ArgType::ALL.iter().map(|t| t.as_str()).collect();
        let ty = ArgType::ALL[Select::with_theme(theme)
            .with_prompt("Type")
            .items(&types)
            .default(0)
            .interact()?];
        let required = Confirm::with_theme(theme)
            .with_prompt("Required?")
            .default(true)
            .interact()?;
        let description = ask_optional_text(theme, "Description (optional)")?;
        arguments.push(ArgumentAnswer {
            name,
            ty,
            description,
            required,
        });
    }
    Ok(arguments)
}
