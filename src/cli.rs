//! Command-line arguments.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use url::Url;

use crate::check::{Options, Secret};

const AFTER_HELP: &str = "\
Examples:
  Interactive, asks for every answer:
    mcp-oauth-new my-server

  In CI, no prompts (answers from a file, or '-' for standard input):
    mcp-oauth-new my-server --answers answers.yaml
    mcp-oauth-new --example-answers > answers.yaml

  Regenerate a project from the answers it recorded:
    mcp-oauth-new my-server --answers my-server/mcp-oauth.yaml --force

  Probe a deployed MCP server (see 'mcp-oauth-new check --help'):
    mcp-oauth-new check https://mcp.example.com/mcp

Exit codes:
  0  done
  1  invalid answers or a refused operation (nothing written)
  2  command-line usage error
  3  I/O failure while writing (staging removed, PATH untouched)";

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
    Check(CheckArgs),
}

const CHECK_AFTER_HELP: &str = "\
Checks (by id): https, metadata-path-inserted, metadata-root, metadata-fields,
metadata-resource, metadata-cors, authorization-server-metadata, pkce-s256,
public-client-registration, unauthenticated-401, challenge-resource-metadata,
challenge-scope, authenticated-initialize, authenticated-tools-list,
wrong-audience-refused.

Tokens are sent only in Authorization headers and never printed. Prefer the
environment variables to the flags, so tokens stay out of shell history and
process lists:
  MCP_CHECK_TOKEN=... MCP_CHECK_WRONG_AUDIENCE_TOKEN=... \\
    mcp-oauth-new check https://mcp.example.com/mcp

Exit codes:
  0  no check failed (warnings allowed)
  1  at least one check failed
  2  command-line usage error";

/// Probe a deployed MCP server (ours or any other) and report its OAuth and
/// discovery conformance.
///
/// Fetches the RFC 9728 metadata at both locations, each authorization
/// server's metadata (PKCE S256, client registration), checks the 401
/// challenge, CORS and HTTPS and, given tokens, an authenticated session and
/// the refusal of a token issued for another audience. Prints one row per
/// check: pass, warn, FAIL or skip, with the reason.
#[derive(Debug, Args)]
#[command(after_help = CHECK_AFTER_HELP)]
pub struct CheckArgs {
    /// The MCP endpoint's URL, e.g. https://mcp.example.com/mcp
    #[arg(value_name = "URL", value_parser = parse_server_url)]
    pub url: Url,

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
    pub fn options(&self) -> Options {
        Options {
            url: self.url.clone(),
            token: self.token.clone(),
            wrong_audience_token: self.wrong_audience_token.clone(),
            timeout: Duration::from_secs(self.timeout),
        }
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
