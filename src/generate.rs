//! Generating a project: arguments and answers (file, prompts, defaults) ->
//! a validated [`Project`] -> rendered [`Files`] in memory -> disk, all at
//! once, then the next steps.

use std::io::{self, IsTerminal as _};
use std::path::{Path, PathBuf};

use console::style;

use crate::{
    Answers, Cli, Error, Files, Project, Templates, Vcs, absolute, answers, base, git,
    load_answers, prompt, render, shell_path, write,
};

/// Generates the project the arguments and answers describe.
pub fn run(cli: &Cli) -> Result<(), Error> {
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
    let templates = Templates::embedded();
    let files = templates
        .render(&project)
        .and_then(|files| base::with_record(templates.version(), files))
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
         \x20 cd {dir} && mcp-oauth-new dev    (sign in with a real MCP client, locally)\n\
         \x20 cd {dir} && cargo run            (the server alone)\n\
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
