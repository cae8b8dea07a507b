//! `mcp-oauth-new dev`: the project run against a local stand-in for its
//! Scalekit environment, so a real MCP client signs in before any Scalekit
//! account exists (CONTRACT section 6).
//!
//! The stand-in ([`standin`]) keeps its key and clients in [`state`]; the
//! project's own server is built and supervised by [`process`]; [`guide`]
//! says what to paste into each client.

mod args;
mod guide;
pub mod keys;
mod process;
pub mod standin;
pub mod state;

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use console::style;

pub use self::args::{DevArgs, DevCommand, TokenArgs};
use self::standin::{Config, Log, Standin, StartError};
use self::state::{Grant, Run, Store};
use crate::{Error, Project};

/// Seconds since the Unix epoch, for token claims.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// Where the project runs under `dev`: its URLs moved to loopback.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub project: Project,
    pub port: u16,
    pub auth_port: u16,
    /// `MCP_SERVER_URL`: `http://127.0.0.1:<port>` and the answers' path.
    pub server_url: String,
    /// `MCP_RESOURCE`: `http://127.0.0.1:<port>` and the resource's path.
    pub resource: String,
}

impl Plan {
    pub fn new(project: Project, port: Option<u16>, auth_port: Option<u16>) -> Result<Plan, Error> {
        let port = port.unwrap_or(project.port);
        let auth_port = match auth_port {
            Some(auth_port) => auth_port,
            None => port.checked_add(1).ok_or_else(|| {
                Error::Refused(format!(
                    "no port follows {port} for the stand-in: give one with --auth-port"
                ))
            })?,
        };
        if auth_port == port {
            return Err(Error::Refused(format!(
                "--port and --auth-port are both {port}: the server and the stand-in need a \
                 port each"
            )));
        }
        let origin = format!("http://127.0.0.1:{port}");
        Ok(Plan {
            server_url: format!("{origin}{}", after_authority(&project.server_url)),
            resource: format!("{origin}{}", after_authority(&project.resource)),
            project,
            port,
            auth_port,
        })
    }

    /// The MCP endpoint clients connect to.
    pub fn mcp_url(&self) -> String {
        local_mcp_url(&self.project, self.port)
    }

    fn config(&self, args: &DevArgs) -> Config {
        Config {
            resource_id: self.project.resource_id.clone(),
            resource: self.resource.clone(),
            scopes: self.project.scopes.iter().map(|s| s.name.clone()).collect(),
            dcr: !args.no_dcr,
            cimd: !args.no_cimd,
            approve: args.approve,
            token_ttl: args.token_ttl,
        }
    }
}

/// The project's MCP endpoint under `dev` on `port`: what clients are given.
pub fn local_mcp_url(project: &Project, port: u16) -> String {
    let server_url = format!(
        "http://127.0.0.1:{port}{}",
        after_authority(&project.server_url)
    );
    format!("{}{}", server_url.trim_end_matches('/'), project.mcp_path)
}

/// What follows `scheme://authority` in a URL, exactly as written: the
/// resource keeps its path (and its trailing slash, or none) on loopback.
fn after_authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.find(['/', '?', '#']).map_or("", |at| &rest[at..])
}

/// The project in `path` and its validated answers.
fn load(path: &Path) -> Result<(PathBuf, Project), Error> {
    let root = crate::project_root(path)?;
    let answers = crate::load_answers(&root.join(crate::update::RECORD))?;
    let project = answers.validate(None)?;
    Ok((root, project))
}

/// `dev` and `dev token`.
pub fn run(args: &DevArgs) -> Result<(), Error> {
    if let Some(DevCommand::Token(token_args)) = &args.command {
        return token(token_args);
    }
    let (root, project) = load(&args.path)?;
    let plan = Plan::new(project, args.port, args.auth_port)?;
    let store = Store::open(&root, args.reset).map_err(Error::Input)?;
    let stop = process::Stop::on_signals()?;
    if !args.auth_only {
        process::ensure_free(plan.port, "--port")?;
    }
    let log: Log = if args.quiet {
        Arc::new(|_: &str| {})
    } else {
        let styled = std::io::stderr().is_terminal();
        Arc::new(move |line: &str| {
            let tag = if styled {
                style("dev auth").cyan().to_string()
            } else {
                "dev auth".to_string()
            };
            eprintln!("{tag}: {line}");
        })
    };
    let standin = Standin::start(plan.auth_port, plan.config(args), store, log).map_err(
        |error| match error {
            StartError::Bind(error) => process::port_in_use(plan.auth_port, "--auth-port", &error),
            StartError::Other(error) => Error::Input(error),
        },
    )?;
    standin
        .shared()
        .record_run(Run {
            auth_port: plan.auth_port,
            port: plan.port,
            resource: plan.resource.clone(),
        })
        .map_err(Error::Write)?;
    let shown_path = (args.path != Path::new(".")).then_some(args.path.as_path());
    if args.auth_only {
        if !args.quiet {
            println!("{}", guide::auth_only(&plan, &standin, shown_path));
        }
        stop.wait();
        standin.stop();
        return Ok(());
    }
    let executable = process::build(&root, &plan.project.name, &stop)?;
    let mut server = process::Server::start(
        &executable,
        &root,
        &server_env(&plan, standin.url()),
        &["SCALEKIT_JWKS_URL"],
    )?;
    server.wait_ready(&format!("http://127.0.0.1:{}/readyz", plan.port), &stop)?;
    if !args.quiet {
        println!(
            "{}",
            guide::running(&plan, &standin, args.approve, shown_path)
        );
    }
    let outcome = server.supervise(&stop);
    standin.stop();
    outcome
}

/// The documented variables that point the server at the stand-in.
fn server_env(plan: &Plan, standin_url: &str) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("MCP_LISTEN_ADDR", format!("127.0.0.1:{}", plan.port)),
        ("MCP_SERVER_URL", plan.server_url.clone()),
        ("MCP_RESOURCE", plan.resource.clone()),
        (
            "MCP_AUDIENCE",
            format!("{},{}", plan.project.resource_id, plan.resource),
        ),
        ("SCALEKIT_ENVIRONMENT_URL", standin_url.to_owned()),
        ("SCALEKIT_RESOURCE_ID", plan.project.resource_id.clone()),
    ];
    if std::env::var_os("MCP_ALLOWED_ORIGINS").is_none() {
        env.push((
            "MCP_ALLOWED_ORIGINS",
            "http://localhost:6274,http://127.0.0.1:6274".to_owned(),
        ));
    }
    env
}

/// `dev token`: one access token on standard output.
pub fn token(args: &TokenArgs) -> Result<(), Error> {
    let (root, project) = load(&args.path)?;
    let store = Store::open(&root, false).map_err(Error::Input)?;
    let last = store.load().map_err(Error::Input)?.last_run;
    let (auth_port, resource) = match (&last, args.auth_port) {
        (Some(last), None) => (last.auth_port, last.resource.clone()),
        (Some(last), Some(port)) if port == last.auth_port => (port, last.resource.clone()),
        (_, auth_port) => {
            let plan = Plan::new(project.clone(), None, auth_port)?;
            (plan.auth_port, plan.resource)
        }
    };
    let declared: Vec<&str> = project.scopes.iter().map(|s| s.name.as_str()).collect();
    let scopes = match &args.scopes {
        None => declared.iter().map(|s| s.to_string()).collect(),
        Some(list) => {
            let scopes: Vec<String> = list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if let Some(unknown) = scopes.iter().find(|s| !declared.contains(&s.as_str())) {
                return Err(Error::Refused(format!(
                    "--scopes: `{unknown}` is not declared in mcp-oauth.yaml; declared: {}",
                    if declared.is_empty() {
                        "none".to_string()
                    } else {
                        declared.join(", ")
                    }
                )));
            }
            scopes
        }
    };
    let key = store.key().map_err(Error::Input)?;
    let issuer = format!(
        "http://127.0.0.1:{auth_port}/resources/{}",
        project.resource_id
    );
    let audience = standin::Audience {
        issuer: &issuer,
        resource_id: &project.resource_id,
        resource: &resource,
    };
    let grant = Grant {
        client_id: args.client_id.clone(),
        sub: args.sub.clone(),
        scopes,
    };
    let token =
        standin::access_token(&key, &audience, &grant, args.expires_in).map_err(Error::Internal)?;
    println!("{token}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_move_to_loopback_keeping_their_paths_exactly() {
        assert_eq!(after_authority("https://mcp.example.com/mcp"), "/mcp");
        assert_eq!(after_authority("https://mcp.example.com"), "");
        assert_eq!(after_authority("https://mcp.example.com/"), "/");
        assert_eq!(after_authority("https://a.example:8443/x/y?z"), "/x/y?z");
    }
}
