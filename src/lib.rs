//! `mcp-oauth-new`: generates a Rust MCP server protected with OAuth 2.1, with
//! Scalekit as the authorization server.
//!
//! Data flows one way: [`Cli`] arguments -> [`Answers`] (file, prompts,
//! defaults) -> a validated [`Project`] -> rendered [`Files`] in memory ->
//! disk, all at once. [`check`] probes a deployed server instead.

pub mod add;
pub mod answers;
pub mod base;
pub mod check;
pub mod cli;
pub mod error;
pub mod git;
pub mod prompt;
pub mod render;
pub mod update;
pub mod write;

use std::fs;
use std::io::{self, IsTerminal, Read};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use console::style;

pub use answers::{Answers, Project};
pub use cli::{AddCommand, CheckArgs, Cli, Command, UpdateArgs, UpdateFlags, Vcs};
pub use error::Error;
pub use render::{Files, Templates, render};

/// A complete, commented answers file: the one `--example-answers` prints.
pub const EXAMPLE_ANSWERS: &str = include_str!("../examples/answers.yaml");

/// Runs the generator, or the command given, for parsed arguments.
pub fn run(cli: &Cli) -> Result<(), Error> {
    match &cli.command {
        Some(Command::Check(args)) => return run_check(args),
        Some(Command::Update(args)) => return run_update(args),
        Some(Command::Add(command)) => return run_add(command),
        None => {}
    }
    if cli.example_answers {
        print!("{EXAMPLE_ANSWERS}");
        return Ok(());
    }
    let mut answers = match &cli.answers {
        Some(source) => load_answers(source)?,
        None => Answers::default(),
    };
    let interactive = !cli.defaults && io::stdin().is_terminal() && io::stderr().is_terminal();
    let mut path = cli.path.clone();
    if let Some(path) = &path {
        write::check_target(&absolute(path)?, cli.force)?;
    }
    if interactive {
        prompt::fill(&mut answers, &mut path).map_err(Error::Input)?;
    }
    let target = path.as_deref().map(absolute).transpose()?;
    let dir_name = target
        .as_deref()
        .and_then(Path::file_name)
        .and_then(|name| name.to_str());
    let project = answers.validate(dir_name)?;
    let path = path.unwrap_or_else(|| PathBuf::from(&project.name));
    let target = match target {
        Some(target) => target,
        None => absolute(&path)?,
    };
    let files = render(&project)
        .and_then(|files| base::with_record(render::GENERATOR_VERSION, files))
        .map_err(Error::Internal)?;
    let existing = write::check_target(&target, cli.force)?;

    if interactive && !cli.dry_run && !prompt::confirm(&project, &path).map_err(Error::Input)? {
        return Err(Error::Refused("cancelled; nothing was written".to_string()));
    }
    if cli.dry_run {
        print_dry_run(&path, &target, &files);
        return Ok(());
    }
    let written = write::write(&target, &files, existing)?;
    let vcs = match cli.vcs {
        Vcs::Git => Some(git::init(&target)),
        Vcs::None => None,
    };
    if !cli.quiet {
        for file in &written.overwritten {
            eprintln!(
                "{:>12} {}",
                style("Overwrote").yellow().bold(),
                file.display()
            );
        }
        if let Some(git::Init::Failed(reason)) = &vcs {
            eprintln!(
                "{} git init skipped: {reason}",
                style("warning:").yellow().bold()
            );
        }
        eprintln!(
            "{:>12} `{}` MCP server in {} ({} files)",
            style("Created").green().bold(),
            project.name,
            path.display(),
            files.len()
        );
        eprintln!("\n{}", next_steps(&project, &path));
    }
    Ok(())
}

/// The absolute form of PATH, so that `.` names the current directory (and
/// gives the package its name) and the staging directory lands beside it.
fn absolute(path: &Path) -> Result<PathBuf, Error> {
    let resolved = if path.exists() {
        fs::canonicalize(path)
    } else {
        std::path::absolute(path)
    };
    resolved.map_err(|error| Error::Refused(format!("cannot resolve {}: {error}", path.display())))
}

/// `update`: the answers from PATH/mcp-oauth.yaml or `--answers`.
fn run_update(args: &UpdateArgs) -> Result<(), Error> {
    let root = project_root(&args.path)?;
    let answers = match &args.answers {
        Some(source) => load_answers(source)?,
        None => load_answers(&root.join(update::RECORD))?,
    };
    update::run(&root, &answers, &Templates::embedded(), args.flags.into())
}

/// `add tool` and `add scope`: the new entry from flags, or prompts on a
/// terminal, joins the recorded answers; then the project is updated.
fn run_add(command: &AddCommand) -> Result<(), Error> {
    let interactive = io::stdin().is_terminal() && io::stderr().is_terminal();
    let (path, flags) = match command {
        AddCommand::Tool(args) => (&args.path, args.flags),
        AddCommand::Scope(args) => (&args.path, args.flags),
    };
    let root = project_root(path)?;
    let mut answers = load_answers(&root.join(update::RECORD))?;
    let declared: Vec<String> = answers
        .scopes
        .iter()
        .flatten()
        .map(|scope| scope.name.clone())
        .collect();
    match command {
        AddCommand::Tool(args) => {
            let scopes = match &args.scopes {
                Some(list) => add::split_list(list),
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
            add::tool(
                &mut answers,
                answers::ToolAnswer {
                    name: args.name.clone(),
                    description,
                    scopes: Some(scopes),
                    arguments,
                },
            )?;
        }
        AddCommand::Scope(args) => {
            let includes = match &args.includes {
                Some(list) => add::split_list(list),
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
            add::scope(
                &mut answers,
                answers::ScopeAnswer {
                    name: args.name.clone(),
                    description,
                    includes,
                },
            )?;
        }
    }
    update::run(&root, &answers, &Templates::embedded(), flags.into())
}

/// The directory of an existing generated project.
fn project_root(path: &Path) -> Result<PathBuf, Error> {
    let root = absolute(path)?;
    if !root.join(update::RECORD).is_file() {
        return Err(Error::Refused(format!(
            "{} holds no {}: is it a project generated by mcp-oauth-new? Give its directory \
             (update PATH, or add ... --path PATH)",
            root.display(),
            update::RECORD
        )));
    }
    Ok(root)
}

/// Probes the server and prints the report; failed checks make the error.
fn run_check(args: &CheckArgs) -> Result<(), Error> {
    let report = check::run(&args.options());
    if args.json {
        println!("{}", check::output::json(&report));
    } else {
        print!("{}", check::output::table(&report));
    }
    match report.count(check::Status::Fail) {
        0 => Ok(()),
        failed => Err(Error::ChecksFailed(failed)),
    }
}

/// Prints an error the way `main` reports it.
pub fn report_error(error: &Error) {
    eprintln!("{} {error}", style("error:").red().bold());
}

fn load_answers(source: &Path) -> Result<Answers, Error> {
    let (text, name) = if source == Path::new("-") {
        let mut text = String::new();
        io::stdin()
            .read_to_string(&mut text)
            .context("reading answers from standard input")
            .map_err(Error::Input)?;
        (text, "<stdin>".to_string())
    } else {
        let text = fs::read_to_string(source)
            .with_context(|| format!("reading the answers file {}", source.display()))
            .map_err(Error::Input)?;
        (text, source.display().to_string())
    };
    Answers::from_yaml(&text, &name)
}

fn print_dry_run(path: &Path, target: &Path, files: &Files) {
    println!("Would write {} files in {}:", files.len(), path.display());
    for (relative, contents) in files {
        let exists = target.join(relative).exists();
        println!(
            "  {:>7}  {}{}",
            contents.len(),
            relative.display(),
            if exists { "  (overwrite)" } else { "" }
        );
    }
}

/// What to do after generating: run it, look at it, register it in Scalekit.
pub fn next_steps(project: &Project, path: &Path) -> String {
    let endpoint = answers::default_resource(&project.server_url, &project.mcp_path);
    let local_metadata = format!(
        "http://127.0.0.1:{}/.well-known/oauth-protected-resource{}",
        project.port, project.mcp_path
    );
    let scopes = if project.scopes.is_empty() {
        "(none declared)".to_string()
    } else {
        project
            .scopes
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "Next steps:\n\
         \x20 cd {dir} && cargo run\n\
         \x20 curl -i {local_metadata}\n\
         \x20 (public metadata URL once deployed: {public_metadata})\n\
         \n\
         In the Scalekit dashboard ({env}):\n\
         \x20 1. Register an MCP server with the Server URL exactly {resource}\n\
         \x20    (a trailing slash matters); its id is {resource_id}\n\
         \x20 2. Enable Dynamic Client Registration (DCR) and Client ID Metadata\n\
         \x20    Documents (CIMD) so public clients (Claude, Cursor, VS Code) can sign in\n\
         \x20 3. Define the scopes: {scopes}\n\
         \n\
         The MCP endpoint will be {endpoint}; PRODUCTION.md lists what to check before going live.\n\
         \n\
         To grow the project later, from its directory (your code is kept, see its README):\n\
         \x20 mcp-oauth-new add scope NAME / mcp-oauth-new add tool NAME --scopes A,B\n\
         \x20 mcp-oauth-new update    (after editing mcp-oauth.yaml or upgrading mcp-oauth-new)",
        dir = shell_path(path),
        public_metadata = render::metadata_url(&project.resource).unwrap_or_default(),
        env = project.environment_url,
        resource = project.resource,
        resource_id = project.resource_id,
    )
}

/// A path as it can be pasted into a POSIX shell.
fn shell_path(path: &Path) -> String {
    let text = path.display().to_string();
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-~".contains(c))
    {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}
