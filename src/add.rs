//! `add tool` and `add scope`: the common change to a project's answers,
//! made without editing YAML by hand. The new entry joins the answers here;
//! the answers are then validated as a whole and the project updated.

use std::io::{self, IsTerminal};

use crate::answers::{Answers, Problem, Problems, ScopeAnswer, ToolAnswer};
use crate::cli::AddCommand;
use crate::error::Error;
use crate::render::Templates;
use crate::{prompt, update};

/// `add tool` and `add scope`: the new entry from flags, or prompts on a
/// terminal, joins the recorded answers; then the project is updated.
pub fn run(command: &AddCommand) -> Result<(), Error> {
    let interactive = io::stdin().is_terminal() && io::stderr().is_terminal();
    let (path, flags) = match command {
        AddCommand::Tool(args) => (&args.path, args.flags),
        AddCommand::Scope(args) => (&args.path, args.flags),
    };
    let root = crate::project_root(path)?;
    let mut answers = crate::load_answers(&root.join(update::RECORD))?;
    let declared: Vec<String> = answers
        .scopes
        .iter()
        .flatten()
        .map(|scope| scope.name.clone())
        .collect();
    match command {
        AddCommand::Tool(args) => {
            let scopes = match &args.scopes {
                Some(list) => split_list(list),
                None if interactive => prompt::pick_scopes(
                    &format!("Scopes `{}` needs (none = any valid token)", args.name),
                    &declared,
                )
                .map_err(Error::Input)?,
                None => {
                    return Err(Error::Refused(format!(
                        "missing --scopes: the scopes `{}` needs, comma-separated (declared: \
                         {}), or --scopes '' for any valid token; nothing was written",
                        args.name,
                        if declared.is_empty() {
                            "none".to_string()
                        } else {
                            declared.join(", ")
                        }
                    )));
                }
            };
            let description = match &args.description {
                None if interactive => prompt::description().map_err(Error::Input)?,
                description => description.clone(),
            };
            let arguments = if args.arguments.is_empty() && interactive {
                prompt::arguments().map_err(Error::Input)?
            } else {
                args.arguments.clone()
            };
            tool(
                &mut answers,
                ToolAnswer {
                    name: args.name.clone(),
                    description,
                    scopes: Some(scopes),
                    arguments,
                },
            )?;
        }
        AddCommand::Scope(args) => {
            let includes = match &args.includes {
                Some(list) => split_list(list),
                None if interactive => prompt::pick_scopes(
                    &format!("Scopes that `{}` also grants", args.name),
                    &declared,
                )
                .map_err(Error::Input)?,
                None => Vec::new(),
            };
            let description = match &args.description {
                None if interactive => prompt::description().map_err(Error::Input)?,
                description => description.clone(),
            };
            scope(
                &mut answers,
                ScopeAnswer {
                    name: args.name.clone(),
                    description,
                    includes,
                },
            )?;
        }
    }
    update::run(&root, &answers, &Templates::embedded(), flags.into())
}

/// Adds `tool` to `answers`. Its scopes must be declared already: an unknown
/// one is an error that says how to declare it.
pub fn tool(answers: &mut Answers, tool: ToolAnswer) -> Result<(), Error> {
    let tools = answers.tools.get_or_insert_with(Vec::new);
    if tools.iter().any(|t| t.name == tool.name) {
        return Err(Error::Refused(format!(
            "the project already has a tool named `{}`; nothing was written",
            tool.name
        )));
    }
    let index = tools.len();
    let declared = answers.scopes.as_deref().unwrap_or_default();
    let problems: Vec<Problem> = tool
        .scopes
        .iter()
        .flatten()
        .enumerate()
        .filter(|(_, scope)| !declared.iter().any(|d| &d.name == *scope))
        .map(|(i, scope)| Problem {
            path: format!("tools[{index}].scopes[{i}]"),
            message: format!(
                "`{scope}` is not a declared scope; declare it first with \
                 `mcp-oauth-new add scope {scope}`"
            ),
            missing: false,
        })
        .collect();
    if !problems.is_empty() {
        return Err(Error::Invalid(Problems(problems)));
    }
    answers.tools.get_or_insert_with(Vec::new).push(tool);
    Ok(())
}

/// Adds `scope` to `answers`.
pub fn scope(answers: &mut Answers, scope: ScopeAnswer) -> Result<(), Error> {
    let scopes = answers.scopes.get_or_insert_with(Vec::new);
    if scopes.iter().any(|s| s.name == scope.name) {
        return Err(Error::Refused(format!(
            "the project already declares the scope `{}`; nothing was written",
            scope.name
        )));
    }
    scopes.push(scope);
    Ok(())
}

/// A comma-separated list from a flag: items trimmed, empty ones dropped,
/// so `--scopes ''` is the empty list.
pub fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers() -> Answers {
        Answers::from_yaml(
            "scopes: [{name: a}]\ntools: [{name: t, scopes: [a]}]\n",
            "test",
        )
        .unwrap()
    }

    fn new_tool(name: &str, scopes: &[&str]) -> ToolAnswer {
        ToolAnswer {
            name: name.to_string(),
            description: None,
            scopes: Some(scopes.iter().map(|s| s.to_string()).collect()),
            arguments: Vec::new(),
        }
    }

    #[test]
    fn a_tool_joins_the_end_of_the_list() {
        let mut answers = answers();
        tool(&mut answers, new_tool("u", &["a"])).unwrap();
        let names: Vec<_> = answers
            .tools
            .unwrap()
            .iter()
            .map(|t| t.name.clone())
            .collect();
        assert_eq!(names, ["t", "u"]);
    }

    #[test]
    fn an_undeclared_scope_names_add_scope() {
        let error = tool(&mut answers(), new_tool("u", &["a", "b"])).unwrap_err();
        let Error::Invalid(problems) = &error else {
            panic!("{error}");
        };
        assert_eq!(problems.0.len(), 1);
        assert_eq!(problems.0[0].path, "tools[1].scopes[1]");
        assert!(problems.0[0].message.contains("mcp-oauth-new add scope b"));
    }

    #[test]
    fn a_name_taken_is_refused() {
        assert!(matches!(
            tool(&mut answers(), new_tool("t", &[])),
            Err(Error::Refused(_))
        ));
        let taken = ScopeAnswer {
            name: "a".to_string(),
            description: None,
            includes: Vec::new(),
        };
        assert!(matches!(
            scope(&mut answers(), taken),
            Err(Error::Refused(_))
        ));
    }

    #[test]
    fn lists_split_on_commas() {
        assert_eq!(split_list(" a, b ,,c"), ["a", "b", "c"]);
        assert!(split_list("").is_empty());
    }
}
