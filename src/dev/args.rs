//! `dev`'s command line (CONTRACT section 6).

use std::path::PathBuf;

use clap::{Args, Subcommand};

const DEV_AFTER_HELP: &str = "\
dev builds and runs the project in PATH against a local stand-in for its
Scalekit environment: metadata, keys, client registration (DCR) and Client ID
Metadata Documents, a consent page, and RS256 tokens with Scalekit's claims.
Nothing in the project changes: the server gets the stand-in through its
documented variables (MCP_SERVER_URL, MCP_RESOURCE, MCP_AUDIENCE,
SCALEKIT_ENVIRONMENT_URL, ...). Both listen on 127.0.0.1 only.

The signing key, registered clients and refresh tokens are kept in
PATH/.mcp-oauth/dev/ (git ignores it) and survive a restart; --reset forgets
them. Ctrl-C stops both.

Examples:
  mcp-oauth-new dev                      run ./ and print what to paste into clients
  mcp-oauth-new dev --approve            grant every requested scope, no consent page
  mcp-oauth-new dev --auth-only --port 8080   only the stand-in, for a server run another way
  curl -H \"Authorization: Bearer $(mcp-oauth-new dev token)\" ...

Exit codes:
  0  stopped by Ctrl-C or SIGTERM
  1  not a generated project, a port in use, a build failure, or the server exited
  2  command-line usage error";

/// Run the project against a local stand-in for Scalekit, so a real MCP
/// client signs in through the whole OAuth flow before any Scalekit account
/// exists. For development only.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, after_help = DEV_AFTER_HELP)]
pub struct DevArgs {
    #[command(subcommand)]
    pub command: Option<DevCommand>,

    /// The generated project's directory.
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// The server's port on 127.0.0.1 [default: the answers' port]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,

    /// The stand-in's port on 127.0.0.1 [default: --port + 1]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub auth_port: Option<u16>,

    /// Grant every requested scope at once, without the consent page (for
    /// scripts and tests).
    #[arg(long)]
    pub approve: bool,

    /// Run only the stand-in, for a server run another way or not generated
    /// by this tool; PATH gives the resource id and scopes.
    #[arg(long)]
    pub auth_only: bool,

    /// Turn dynamic client registration off, as the Scalekit dashboard can.
    #[arg(long)]
    pub no_dcr: bool,

    /// Turn Client ID Metadata Documents off, as the Scalekit dashboard can.
    #[arg(long)]
    pub no_cimd: bool,

    /// Access token lifetime in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 3600,
          value_parser = clap::value_parser!(u64).range(1..=86_400 * 30))]
    pub token_ttl: u64,

    /// Forget the signing key, registered clients and refresh tokens first.
    #[arg(long)]
    pub reset: bool,

    /// Print only errors and the server's own log.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum DevCommand {
    Token(TokenArgs),
}

/// Print an access token signed by the stand-in's key, for curl and `check`:
/// curl -H "Authorization: Bearer $(mcp-oauth-new dev token)" ...
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The generated project's directory.
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// The stand-in's port [default: the one `dev` last ran on, else the
    /// answers' port + 1]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub auth_port: Option<u16>,

    /// Scopes to grant, comma-separated [default: every declared scope; an
    /// empty value grants none]
    #[arg(long, value_name = "A,B")]
    pub scopes: Option<String>,

    /// The token's subject.
    #[arg(long, value_name = "ID", default_value = "dev-user")]
    pub sub: String,

    /// The token's client_id.
    #[arg(long, value_name = "ID", default_value = "dev-token")]
    pub client_id: String,

    /// Lifetime in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 3600,
          value_parser = clap::value_parser!(u64).range(1..=86_400 * 30))]
    pub expires_in: u64,
}
