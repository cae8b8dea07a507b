//! Command-line arguments.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

const AFTER_HELP: &str = "\
Examples:
  Interactive, asks for every answer:
    mcp-oauth-new my-server

  In CI, no prompts (answers from a file, or '-' for standard input):
    mcp-oauth-new my-server --answers answers.yaml
    mcp-oauth-new --example-answers > answers.yaml

  Regenerate a project from the answers it recorded:
    mcp-oauth-new my-server --answers my-server/mcp-oauth.yaml --force

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
#[command(name = "mcp-oauth-new", version, after_help = AFTER_HELP)]
pub struct Cli {
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
