//! Command-line arguments.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::{Map, Value};
use url::Url;

use crate::answers::{ArgType, ArgumentAnswer, check_argument_name};
use crate::check::{CheckId, Expected, Options, Secret};

const AFTER_HELP: &str = "\
Examples:
  Interactive, asks for every answer:
    mcp-oauth-new my-server

  In CI, no prompts (answers from a file, or '-' for standard input):
    mcp-oauth-new my-server --answers answers.yaml
    mcp-oauth-new --example-answers > answers.yaml

  Grow a generated project, keeping your code (see 'mcp-oauth-new update --help'):
    mcp-oauth-new add scope notes:write --path my-server
    mcp-oauth-new add tool create_note --scopes notes:write --arg title:string:required --path my-server
    mcp-oauth-new update my-server    # after editing my-server/mcp-oauth.yaml, or a new mcp-oauth-new

  Sign in locally with a real MCP client, before any Scalekit account
  (see 'mcp-oauth-new dev --help'):
    cd my-server && mcp-oauth-new dev

  Probe a deployed MCP server (see 'mcp-oauth-new check --help'):
    mcp-oauth-new check https://mcp.example.com/mcp

Exit codes:
  0  done
  1  invalid answers or a refused operation (nothing written)
  2  command-line usage error
  3  I/O failure while writing (staging removed, PATH untouched)
  4  update wrote conflict markers (everything else was updated)";

/// Generate a Rust MCP server protected with OAuth 2.1, with Scalekit as the
/// authorization server.
///
/// Asks for the public base URL, the Scalekit environment, the scopes and
/// which tool needs which scope, then writes a complete axum + rmcp project
/// that builds and passes its own tests.
#[derive(Debug, Parser)]
#[command(
    name = "mcp-oauth-new",
    version,
    after_help = AFTER_HELP,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// A command other than generating (none: generate a project).
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Directory to create; the package name is its last component unless the
    /// answers give `name`. Prompted for when missing and interactive.
    pub path: Option<PathBuf>,

    /// Answers in YAML (see --example-answers); '-' reads standard input.
    /// Answered fields are never prompted for.
    #[arg(short, long, value_name = "FILE")]
    pub answers: Option<PathBuf>,

    /// Take the default of every unanswered field and never prompt.
    #[arg(short = 'y', long)]
    pub defaults: bool,

    /// Allow an existing, non-empty PATH: overwrite the files the template
    /// generates, delete nothing else.
    #[arg(long)]
    pub force: bool,

    /// Validate and render, list what would be written, write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Version control for the new project (skipped inside an existing git
    /// work tree).
    #[arg(long, value_enum, default_value_t = Vcs::Git)]
    pub vcs: Vcs,

    /// Print a complete, commented answers file and exit.
    #[arg(long, exclusive = true)]
    pub example_answers: bool,

    /// Print only errors.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Which version control to initialise in a new project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Vcs {
    /// `git init`, unless PATH is already inside a git work tree.
    Git,
    /// No version control.
    None,
}

/// Commands besides generating a project.
#[derive(Debug, Subcommand)]
pub enum Command {
    Update(UpdateArgs),
    #[command(subcommand)]
    Add(AddCommand),
    Check(CheckArgs),
    Dev(crate::dev::DevArgs),
}

const UPDATE_AFTER_HELP: &str = "\
Each generated file is merged three ways: the base (the bytes the generator last
wrote, kept in .mcp-oauth/base.tar.gz), your file, and the new render:
  unchanged      already what the generator writes now
  update         you never changed it: replaced by the new render
  keep           the generator's version did not change: yours stays
  merge          both changed it, in different places: both changes kept
  conflict       both changed the same lines: conflict markers, exit 4
  add            a newly generated file
  delete         no longer generated and never changed by you
  kept           no longer generated, but changed by you: kept
  stays-deleted  generated, but you deleted it
Files the generator never wrote are never touched. mcp-oauth.yaml is rewritten
from the answers, as a fresh generation writes it.

Exit codes:
  0  done (or nothing to do)
  1  invalid answers, uncommitted changes, or a refused operation (nothing written)
  2  command-line usage error
  3  I/O failure while writing (the project is as it was)
  4  conflict markers written (everything else was updated)";

/// Bring a generated project up to date with its answers (mcp-oauth.yaml,
/// which you may have edited) and this generator's templates, keeping your
/// changes.
#[derive(Debug, Args)]
#[command(after_help = UPDATE_AFTER_HELP)]
pub struct UpdateArgs {
    /// The project's directory.
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// Answers to update to, instead of PATH/mcp-oauth.yaml ('-' reads
    /// standard input).
    #[arg(short, long, value_name = "FILE")]
    pub answers: Option<PathBuf>,

    #[command(flatten)]
    pub flags: UpdateFlags,
}

/// How an update runs; `add` takes the same flags.
#[derive(Debug, Clone, Copy, Args)]
pub struct UpdateFlags {
    /// Print each file's action and a unified diff of what would change;
    /// write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Update even when generated files have uncommitted changes in git.
    #[arg(long)]
    pub allow_dirty: bool,

    /// Print only errors.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Add a tool or a scope to a generated project's answers, then update it.
#[derive(Debug, Subcommand)]
pub enum AddCommand {
    Tool(AddToolArgs),
    Scope(AddScopeArgs),
}

/// Add a tool: a method in src/tools.rs, its scopes in src/scopes.rs, its
/// tests. Missing values are asked for on a terminal.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  mcp-oauth-new add tool create_note --scopes notes:write \\\n    \
                        --arg title:string:required --arg tags:string --description 'Create a note'"
)]
pub struct AddToolArgs {
    /// The tool's name (1 to 128 of A-Z a-z 0-9 _ - .).
    pub name: String,

    /// What the tool does, as clients show it.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,

    /// The scopes the tool needs, comma-separated, all required; '' for any
    /// valid token. Each must be declared (see 'add scope').
    #[arg(long, value_name = "A,B")]
    pub scopes: Option<String>,

    /// An argument: NAME:TYPE, or NAME:TYPE:required, with TYPE one of
    /// string, integer, number, boolean. Repeat for more.
    #[arg(long = "arg", value_name = "NAME:TYPE[:required]", value_parser = parse_argument)]
    pub arguments: Vec<ArgumentAnswer>,

    /// The project's directory.
    #[arg(long, default_value = ".")]
    pub path: PathBuf,

    #[command(flatten)]
    pub flags: UpdateFlags,
}

/// Add a scope: advertised in scopes_supported, usable by tools.
#[derive(Debug, Args)]
pub struct AddScopeArgs {
    /// The scope's name, e.g. notes:write (no space, '"' or '\\').
    pub name: String,

    /// What the scope allows, as shown to users.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,

    /// Declared scopes that this one also grants, comma-separated.
    #[arg(long, value_name = "A,B")]
    pub includes: Option<String>,

    /// The project's directory.
    #[arg(long, default_value = ".")]
    pub path: PathBuf,

    #[command(flatten)]
    pub flags: UpdateFlags,
}

/// `NAME:TYPE` or `NAME:TYPE:required`.
fn parse_argument(text: &str) -> Result<ArgumentAnswer, String> {
    let mut parts = text.split(':');
    let (name, ty) = match (parts.next(), parts.next()) {
        (Some(name), Some(ty)) => (name, ty),
        _ => return Err("expected NAME:TYPE or NAME:TYPE:required".to_string()),
    };
    let required = match parts.next() {
        None => false,
        Some("required") => true,
        Some(other) => {
            return Err(format!(
                "the third part may only be `required`, not `{other}`"
            ));
        }
    };
    if parts.next().is_some() {
        return Err("expected NAME:TYPE or NAME:TYPE:required".to_string());
    }
    let name = check_argument_name(name)?;
    let ty = ArgType::ALL
        .into_iter()
        .find(|t| t.as_str() == ty)
        .ok_or_else(|| format!("unknown type `{ty}`; allowed: string, integer, number, boolean"))?;
    Ok(ArgumentAnswer {
        name,
        ty,
        description: None,
        required,
    })
}

/// `check --help`'s epilogue: the checks' ids, from [`CheckId::ALL`] so the
/// list cannot fall behind, then [`CHECK_TOKENS_AND_EXIT_CODES`].
fn check_after_help() -> String {
    format!("{}\n\n{CHECK_TOKENS_AND_EXIT_CODES}", checks_paragraph())
}

/// "Checks (by id): https, ...", wrapped at 80 columns like the rest of the
/// help (clap rewraps it only on a narrower terminal).
fn checks_paragraph() -> String {
    const WIDTH: usize = 80;
    let ids: Vec<&str> = CheckId::ALL.iter().map(|id| id.as_str()).collect();
    let text = format!("Checks (by id): {}.", ids.join(", "));
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(line) if line.len() + 1 + word.len() <= WIDTH => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines.join("\n")
}

const CHECK_TOKENS_AND_EXIT_CODES: &str = "\
Tokens are sent only in Authorization headers and never printed. Prefer the
environment variables to the flags, so tokens stay out of shell history and
process lists:
  MCP_CHECK_TOKEN=... MCP_CHECK_WRONG_AUDIENCE_TOKEN=... \\
  MCP_CHECK_LIMITED_TOKEN=... \\
    mcp-oauth-new check https://mcp.example.com/mcp --tool create_todo

Exit codes:
  0  no check failed (warnings allowed)
  1  at least one check failed
  2  command-line usage error";

/// Probe a deployed MCP server (ours or any other) and report its OAuth and
/// discovery conformance.
///
/// Fetches the RFC 9728 metadata at both locations, each authorization
/// server's metadata (PKCE S256, client registration), checks the 401
/// challenge, CORS and HTTPS and, given tokens, an authenticated session, the
/// MCP revisions spoken, the 403 for a missing scope and the refusal of a
/// token issued for another audience. Prints one row per check: pass, warn,
/// FAIL or skip, with the reason. With the answers (--answers, or inside a
/// generated project), also compares the server and Scalekit with them.
#[derive(Debug, Args)]
#[command(after_help = check_after_help())]
pub struct CheckArgs {
    /// The MCP endpoint's URL, e.g. https://mcp.example.com/mcp [default:
    /// the one the answers describe, server_url + mcp_path]
    #[arg(value_name = "URL", value_parser = parse_server_url)]
    pub url: Option<Url>,

    /// The project's answers (mcp-oauth.yaml): adds the answers-* rows, which
    /// compare the server and its authorization server with them. Inside a
    /// generated project, `check` without a URL uses its mcp-oauth.yaml.
    #[arg(short, long, value_name = "FILE")]
    pub answers: Option<PathBuf>,

    /// An access token for this server: also checks that an authenticated
    /// initialize and tools/list succeed.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "MCP_CHECK_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<Secret>,

    /// A valid token issued for another audience: checks that it is refused
    /// with 401.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "MCP_CHECK_WRONG_AUDIENCE_TOKEN",
        hide_env_values = true
    )]
    pub wrong_audience_token: Option<Secret>,

    /// A browser client's origin, e.g. https://app.example: also checks that
    /// the MCP endpoint answers its CORS preflight and exposes the challenge.
    #[arg(long, value_name = "ORIGIN", value_parser = parse_origin)]
    pub origin: Option<String>,

    /// A valid token for this server lacking a scope that --tool needs:
    /// checks that calling the tool gets 403 with error="insufficient_scope".
    #[arg(
        long,
        value_name = "TOKEN",
        env = "MCP_CHECK_LIMITED_TOKEN",
        hide_env_values = true
    )]
    pub limited_token: Option<Secret>,

    /// The tool to call with --limited-token.
    #[arg(long, value_name = "NAME", requires = "limited_token")]
    pub tool: Option<String>,

    /// The arguments of that call, as a JSON object.
    #[arg(
        long,
        value_name = "JSON",
        requires = "tool",
        value_parser = parse_json_object
    )]
    pub tool_arguments: Option<Map<String, Value>>,

    /// Print the report as JSON (url, ok, counts, checks).
    #[arg(long)]
    pub json: bool,

    /// The most one request may take, in seconds.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=600)
    )]
    pub timeout: u64,
}

impl CheckArgs {
    /// The probe's options.
    /// The options for probing `url`, with the answers' rows when given.
    pub fn options(&self, url: Url, answers: Option<Expected>) -> Options {
        Options {
            url,
            answers,
            token: self.token.clone(),
            wrong_audience_token: self.wrong_audience_token.clone(),
            origin: self.origin.clone(),
            limited_token: self.limited_token.clone(),
            tool: self.tool.clone(),
            tool_arguments: self.tool_arguments.clone().unwrap_or_default(),
            timeout: Duration::from_secs(self.timeout),
        }
    }
}

/// `scheme://host[:port]`, as a browser sends it in `Origin`.
fn parse_origin(text: &str) -> Result<String, String> {
    let url =
        Url::parse(text).map_err(|e| format!("not an origin like https://app.example: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err("an origin is http(s)://host[:port]".to_string());
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err("an origin has no path, query or fragment".to_string());
    }
    Ok(url.origin().ascii_serialization())
}

fn parse_json_object(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(r#"a JSON object is needed, e.g. '{"title":"x"}'"#.to_string()),
        Err(e) => Err(format!("not JSON: {e}")),
    }
}

fn parse_server_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("not an absolute URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the scheme must be https or http, not {}",
            url.scheme()
        ));
    }
    if url.host().is_none() {
        return Err("the URL has no host".to_string());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("credentials in the URL are not supported; use --token".to_string());
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_help_names_every_check_within_80_columns() {
        let paragraph = checks_paragraph();
        let words: Vec<&str> = paragraph
            .split_whitespace()
            .map(|w| w.trim_end_matches([',', '.']))
            .collect();
        for id in CheckId::ALL {
            assert!(words.contains(&id.as_str()), "{id} not in:\n{paragraph}");
        }
        assert!(paragraph.lines().all(|l| l.len() <= 80), "{paragraph}");
        assert!(check_after_help().starts_with(&format!("{paragraph}\n\nTokens are sent")));
    }
}
