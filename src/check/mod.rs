//! `mcp-oauth-new check URL`: probes a deployed MCP server, ours or anyone's,
//! for what OAuth-aware MCP clients need: RFC 9728 metadata, the
//! authorization servers' metadata (RFC 8414 / OpenID discovery), the 401
//! challenge, CORS, HTTPS and, given tokens, an authenticated session and the
//! refusal of a token meant for another audience.
//!
//! [`run`] returns a [`Report`]; printing it is [`output`]'s business. This
//! file holds the report's types, the `Probe` that runs the checks in
//! order, and the helpers several families of checks share. Each family has
//! its own file: `metadata` (HTTPS and the resource metadata),
//! `authorization` (the authorization servers), `unauthenticated` (the 401
//! challenge) and `session` (what the tokens get). [`CheckId`] lists them all.

mod answers;
mod authorization;
mod challenge;
mod http;
mod id;
mod metadata;
pub mod output;
mod scope;
mod session;
mod unauthenticated;
mod versions;

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value, json};
use url::Url;

use http::{Http, Reply, status_line};

pub use answers::Expected;
pub use id::CheckId;

/// The `Origin` sent with metadata requests, to see whether browsers may read
/// the answer. Any origin other than the server's own would do.
const PROBE_ORIGIN: &str = "https://mcp-check.example";
/// Metadata redirects followed (and reported) before giving up.
const MAX_REDIRECTS: usize = 5;
/// The revisions that begin with `initialize`, newest first. The probe offers
/// the newest; `protocol-versions` tries each.
const INITIALIZE_VERSIONS: [&str; 3] = ["2025-11-25", "2025-06-18", "2025-03-26"];
/// The stateless revision: no `initialize`, `server/discover` instead.
const STATELESS_VERSION: &str = "2026-07-28";
/// Why the checks that need `--token` were skipped.
const NO_TOKEN: &str = "no --token given (or MCP_CHECK_TOKEN)";

/// What to probe and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// The MCP endpoint, e.g. `https://mcp.example.com/mcp`.
    pub url: Url,
    /// A token valid for this server: enables the authenticated checks.
    pub token: Option<Secret>,
    /// A valid token issued for another audience, which must be refused.
    pub wrong_audience_token: Option<Secret>,
    /// A browser origin (`https://app.example`) to probe the MCP endpoint's
    /// CORS with; without one, `mcp-cors` is skipped.
    pub origin: Option<String>,
    /// A valid token lacking a scope that `tool` needs: the call must get
    /// 403 `insufficient_scope`.
    pub limited_token: Option<Secret>,
    /// The tool to call with `limited_token`.
    pub tool: Option<String>,
    /// The arguments of that call.
    pub tool_arguments: Map<String, Value>,
    /// The most any one request may take, from connecting to the last byte.
    pub timeout: Duration,
    /// What the owner answered: adds the `answers-*` rows.
    pub answers: Option<Expected>,
}

/// A bearer token. It is sent in `Authorization` headers and nowhere else:
/// `Debug` hides it and [`run`] removes it from every reason it reports.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl FromStr for Secret {
    type Err = Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret::new(s))
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    /// Not run: no token was given, or what it inspects was not found.
    Skip,
}

/// One line of the report. Its JSON form adds the id's title (see
/// [`output`]).
#[derive(Debug, Clone)]
pub struct Check {
    pub id: CheckId,
    pub status: Status,
    /// One line: what was seen, and for a warning or failure, why it matters.
    pub reason: String,
}

/// Every check, in the order they ran.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub url: String,
    pub checks: Vec<Check>,
}

impl Report {
    /// The check with this id, if it ran.
    pub fn get(&self, id: CheckId) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// How many checks have this status.
    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    /// Replaces every occurrence of each secret, in case a server echoed one
    /// back in something quoted in a reason.
    fn redact(&mut self, secrets: &[&Secret]) {
        let texts =
            std::iter::once(&mut self.url).chain(self.checks.iter_mut().map(|c| &mut c.reason));
        for text in texts {
            for secret in secrets {
                if !secret.0.is_empty() && text.contains(&secret.0) {
                    *text = text.replace(&secret.0, "[redacted]");
                }
            }
        }
    }
}

/// Probes the server and reports every check. Never panics on what a server
/// answers; network failures become failed checks with the reason.
pub fn run(options: &Options) -> Report {
    let mut probe = Probe {
        options,
        http: Http::new(options.timeout),
        checks: Vec::new(),
    };
    probe.run();
    let mut report = Report {
        url: options.url.to_string(),
        checks: probe.checks,
    };
    let secrets: Vec<&Secret> = [
        &options.token,
        &options.wrong_audience_token,
        &options.limited_token,
    ]
    .into_iter()
    .flatten()
    .collect();
    report.redact(&secrets);
    report
}

/// A metadata document as fetched.
struct Doc {
    url: Url,
    value: Map<String, Value>,
    /// `301 to https://...` for each redirect followed.
    redirects: Vec<String>,
    content_type: String,
    allow_origin: Option<String>,
}

impl Doc {
    /// A string field; `None` when missing or of another type.
    fn str(&self, field: &str) -> Option<&str> {
        self.value.get(field).and_then(Value::as_str)
    }
}

/// The state of one run: the checks so far. Each family of checks adds its
/// own methods, in its own file.
struct Probe<'a> {
    options: &'a Options,
    http: Http,
    checks: Vec<Check>,
}

impl Probe<'_> {
    fn add(&mut self, id: CheckId, status: Status, reason: String) {
        self.checks.push(Check { id, status, reason });
    }

    /// Every check, in [`CheckId::ALL`]'s order; later ones use what earlier
    /// ones found.
    fn run(&mut self) {
        let url = self.options.url.clone();
        self.https(&url);
        let metadata = self.metadata(&url);
        self.authorization(metadata.as_ref());
        // The endpoint the remaining checks use: the URL, or the URL with its
        // trailing slash changed when that is where the server redirects.
        let (url, without_credentials) = self.challenge(&url);
        // The 401 without credentials is judged by both families.
        self.no_error_without_credentials(&url, without_credentials.as_deref());
        self.mcp_cors(&url);
        self.authenticated(&url);
        self.protocol_versions(&url);
        self.insufficient_scope(&url);
        self.wrong_audience(&url);
        if let Some(expected) = &self.options.answers {
            self.answers(expected, metadata.as_ref());
        }
    }

    /// GETs a metadata document, following and recording redirects.
    fn fetch_doc(&self, start: &Url) -> Result<Doc, String> {
        let mut url = start.clone();
        let mut redirects = Vec::new();
        for _ in 0..=MAX_REDIRECTS {
            let reply = self
                .http
                .get(
                    &url,
                    &[("Accept", "application/json"), ("Origin", PROBE_ORIGIN)],
                )
                .map_err(|reason| format!("{url}: {reason}"))?;
            if (300..400).contains(&reply.status) {
                let Some(location) = reply.header("location") else {
                    return Err(format!(
                        "{url} answered {} without a Location",
                        status_line(reply.status)
                    ));
                };
                let next = url.join(location).map_err(|e| {
                    format!("{url} redirects to an invalid Location {location:?}: {e}")
                })?;
                redirects.push(format!("{} to {next}", reply.status));
                url = next;
                continue;
            }
            return doc_from(url, reply, redirects);
        }
        Err(format!("{start}: more than {MAX_REDIRECTS} redirects"))
    }
}

/// The answer at `url` as a metadata document: a JSON object served with
/// 200, or why it is not one.
fn doc_from(url: Url, reply: Reply, redirects: Vec<String>) -> Result<Doc, String> {
    if reply.status != 200 {
        return Err(format!("{url} answered {}", status_line(reply.status)));
    }
    let value: Value = serde_json::from_str(&reply.body)
        .map_err(|e| format!("{url} answered 200 but not with JSON ({e})"))?;
    let Value::Object(value) = value else {
        return Err(format!("{url} answered 200 but not with a JSON object"));
    };
    Ok(Doc {
        content_type: reply.header("content-type").unwrap_or("none").to_string(),
        allow_origin: reply
            .header("access-control-allow-origin")
            .map(str::to_string),
        url,
        value,
        redirects,
    })
}

/// `<origin>/.well-known/<name>`, with the URL's path (and query) after it
/// when `with_path` (RFC 9728 3.1, RFC 8414 3.1).
fn well_known(url: &Url, name: &str, with_path: bool) -> Url {
    let mut out = origin_url(url);
    if with_path {
        out.set_path(&format!(
            "/.well-known/{name}{}",
            url.path().trim_end_matches('/')
        ));
        out.set_query(url.query());
    } else {
        out.set_path(&format!("/.well-known/{name}"));
    }
    out
}

/// The URL's origin with path `/`.
fn origin_url(url: &Url) -> Url {
    let mut out = url.clone();
    out.set_path("/");
    out.set_query(None);
    out.set_fragment(None);
    // Credentials in a URL would end up in reasons; the probe sends none.
    let _ = out.set_username("");
    let _ = out.set_password(None);
    out
}

/// How the probe names itself to servers.
fn client_info() -> Value {
    json!({"name": "mcp-oauth-new-check", "version": env!("CARGO_PKG_VERSION")})
}

/// The `initialize` request offering `version`, sent with and without tokens.
fn initialize(version: &str) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": version,
            "capabilities": {},
            "clientInfo": client_info(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn metadata_locations_follow_rfc_9728() {
        let u = url("https://mcp.example.com/mcp");
        assert_eq!(
            well_known(&u, "oauth-protected-resource", true).as_str(),
            "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            well_known(&u, "oauth-protected-resource", false).as_str(),
            "https://mcp.example.com/.well-known/oauth-protected-resource"
        );
    }

    #[test]
    fn a_report_lists_every_known_check_in_order() {
        let options = Options {
            url: url("http://127.0.0.1:1/mcp"),
            token: None,
            wrong_audience_token: None,
            origin: None,
            limited_token: None,
            tool: None,
            tool_arguments: Map::new(),
            timeout: Duration::from_secs(1),
            answers: Some(Expected {
                resource: "http://127.0.0.1:1/mcp".into(),
                environment_url: "http://127.0.0.1:1".into(),
                resource_id: "res_1".into(),
                scopes: Vec::new(),
                audience: vec!["res_1".into()],
            }),
        };
        let report = run(&options);
        let ids: Vec<CheckId> = report.checks.iter().map(|c| c.id).collect();
        assert_eq!(ids, CheckId::ALL);
    }

    #[test]
    fn secrets_are_redacted_and_hidden_from_debug() {
        let secret = Secret::new("s3cr3t-token");
        assert!(!format!("{secret:?}").contains("s3cr3t"));
        let mut report = Report {
            url: "https://x/mcp".into(),
            checks: vec![Check {
                id: CheckId::Https,
                status: Status::Fail,
                reason: "server said s3cr3t-token is bad".into(),
            }],
        };
        report.redact(&[&secret]);
        assert_eq!(report.checks[0].reason, "server said [redacted] is bad");
    }
}
