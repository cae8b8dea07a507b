//! `mcp-oauth-new check URL`: probes a deployed MCP server, ours or anyone's,
//! for what OAuth-aware MCP clients need: RFC 9728 metadata, the
//! authorization servers' metadata (RFC 8414 / OpenID discovery), the 401
//! challenge, CORS, HTTPS and, given tokens, an authenticated session and the
//! refusal of a token meant for another audience.
//!
//! [`run`] returns a [`Report`]; printing it is [`output`]'s business.

mod challenge;
mod http;
pub mod output;

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value, json};
use url::{Host, Url};

use challenge::Challenge;
use http::{Http, Reply, RpcReply, status_line};

/// The `Origin` sent with metadata requests, to see whether browsers may read
/// the answer. Any origin other than the server's own would do.
const PROBE_ORIGIN: &str = "https://mcp-check.example";
/// Metadata redirects followed (and reported) before giving up.
const MAX_REDIRECTS: usize = 5;
/// The protocol version offered in `initialize`; the server may answer with
/// another one, which is then used for the following requests.
const PROTOCOL_VERSION: &str = "2025-06-18";

/// Every check's id and title, in report order.
pub const CHECKS: [(&str, &str); 15] = [
    ("https", "HTTPS"),
    (
        "metadata-path-inserted",
        "Protected resource metadata (path-inserted location)",
    ),
    (
        "metadata-root",
        "Protected resource metadata (root location)",
    ),
    (
        "metadata-fields",
        "Metadata has resource and authorization_servers",
    ),
    ("metadata-resource", "Metadata resource matches the URL"),
    (
        "metadata-cors",
        "Metadata readable by browser clients (CORS)",
    ),
    (
        "authorization-server-metadata",
        "Authorization server metadata reachable",
    ),
    ("pkce-s256", "Authorization server supports PKCE S256"),
    (
        "public-client-registration",
        "Public clients can register (DCR or CIMD)",
    ),
    ("unauthenticated-401", "Unauthenticated request gets 401"),
    (
        "challenge-resource-metadata",
        "Challenge points to the metadata (resource_metadata)",
    ),
    ("challenge-scope", "Challenge names the scopes (scope)"),
    (
        "authenticated-initialize",
        "Authenticated initialize succeeds",
    ),
    (
        "authenticated-tools-list",
        "Authenticated tools/list succeeds",
    ),
    (
        "wrong-audience-refused",
        "Token for another audience refused",
    ),
];

/// What to probe and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// The MCP endpoint, e.g. `https://mcp.example.com/mcp`.
    pub url: Url,
    /// A token valid for this server: enables the authenticated checks.
    pub token: Option<Secret>,
    /// A valid token issued for another audience, which must be refused.
    pub wrong_audience_token: Option<Secret>,
    /// The most any one request may take, from connecting to the last byte.
    pub timeout: Duration,
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

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Stable, kebab-case: tests and users refer to checks by it.
    pub id: &'static str,
    pub title: &'static str,
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
    pub fn get(&self, id: &str) -> Option<&Check> {
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
    let secrets: Vec<&Secret> = [&options.token, &options.wrong_audience_token]
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
    fn str(&self, field: &str) -> Option<&str> {
        self.value.get(field).and_then(Value::as_str)
    }
}

/// The authorization server metadata found for one issuer.
struct Issuer {
    issuer: String,
    doc: Doc,
}

struct Probe<'a> {
    options: &'a Options,
    http: Http,
    checks: Vec<Check>,
}

impl Probe<'_> {
    fn add(&mut self, id: &'static str, status: Status, reason: String) {
        let title = CHECKS
            .iter()
            .find(|(known, _)| *known == id)
            .map_or(id, |(_, title)| title);
        self.checks.push(Check {
            id,
            title,
            status,
            reason,
        });
    }

    fn run(&mut self) {
        let url = self.options.url.clone();
        self.https(&url);
        let metadata = self.metadata(&url);
        let issuers = self.authorization_servers(metadata.as_ref());
        self.authorization_server_features(&issuers);
        self.challenge(&url);
        self.authenticated(&url);
        self.wrong_audience(&url);
    }

    fn https(&mut self, url: &Url) {
        let (status, reason) = match url.scheme() {
            "https" => (Status::Pass, "served over https".to_string()),
            _ if is_loopback(url) => (
                Status::Warn,
                "plain http on a loopback host: fine for local testing, but clients require https once deployed"
                    .to_string(),
            ),
            scheme => (
                Status::Fail,
                format!("served over {scheme}: OAuth 2.1 and MCP clients require https for a remote server"),
            ),
        };
        self.add("https", status, reason);
    }

    /// Both RFC 9728 locations, the checks on the document, and the document
    /// the later checks use (the path-inserted one when both exist, as
    /// clients following MCP 2025-11-25 try it first).
    fn metadata(&mut self, url: &Url) -> Option<Doc> {
        let root_url = well_known(url, "oauth-protected-resource", false);
        let path_url =
            (url.path() != "/").then(|| well_known(url, "oauth-protected-resource", true));
        let path = path_url.as_ref().map(|u| self.fetch_doc(u));
        let root = self.fetch_doc(&root_url);

        match (&path, &root) {
            (None, _) => self.add(
                "metadata-path-inserted",
                Status::Skip,
                "the URL has no path: the root location is the only one".to_string(),
            ),
            (Some(Ok(doc)), _) => {
                let (status, reason) = found(doc);
                self.add("metadata-path-inserted", status, reason);
            }
            (Some(Err(reason)), Ok(_)) => self.add(
                "metadata-path-inserted",
                Status::Warn,
                format!(
                    "{reason}; clients following MCP 2025-11-25 look here first, then fall back to the root"
                ),
            ),
            (Some(Err(reason)), Err(_)) => self.add(
                "metadata-path-inserted",
                Status::Fail,
                reason.clone(),
            ),
        }

        match (&root, &path) {
            (Ok(doc), Some(Ok(path_doc))) if doc.value.get("resource") != path_doc.value.get("resource") => {
                self.add(
                    "metadata-root",
                    Status::Warn,
                    format!(
                        "{} names resource {}, the path-inserted document {}: clients may see either",
                        doc.url,
                        shown(doc.value.get("resource")),
                        shown(path_doc.value.get("resource")),
                    ),
                );
            }
            (Ok(doc), _) => {
                let (status, reason) = found(doc);
                self.add("metadata-root", status, reason);
            }
            (Err(reason), Some(Ok(_))) => self.add(
                "metadata-root",
                Status::Warn,
                format!(
                    "{reason}; clients that ignore resource_metadata (MCP 2025-06-18 and older) look only here"
                ),
            ),
            (Err(reason), _) => {
                self.add("metadata-root", Status::Fail, reason.clone());
            }
        }

        let (doc, derived_for) = match (path, root) {
            (Some(Ok(doc)), _) => (doc, url.clone()),
            (_, Ok(doc)) => (doc, origin_url(url)),
            _ => {
                for id in ["metadata-fields", "metadata-resource", "metadata-cors"] {
                    self.add(id, Status::Skip, "no metadata document found".to_string());
                }
                return None;
            }
        };
        self.metadata_fields(&doc);
        self.metadata_resource(&doc, url, &derived_for);
        self.metadata_cors(&doc);
        Some(doc)
    }

    fn metadata_fields(&mut self, doc: &Doc) {
        let mut problems = Vec::new();
        match doc.value.get("resource") {
            Some(Value::String(_)) => {}
            Some(other) => problems.push(format!("resource is not a string ({other})")),
            None => problems.push("resource is missing".to_string()),
        }
        let servers = match doc.value.get("authorization_servers") {
            Some(Value::Array(items)) if items.is_empty() => {
                problems.push("authorization_servers is empty".to_string());
                0
            }
            Some(Value::Array(items)) => {
                if !items.iter().all(Value::is_string) {
                    problems.push(
                        "authorization_servers has an entry that is not a string".to_string(),
                    );
                }
                items.len()
            }
            Some(other) => {
                problems.push(format!("authorization_servers is not an array ({other})"));
                0
            }
            None => {
                problems.push("authorization_servers is missing".to_string());
                0
            }
        };
        let (status, reason) = if problems.is_empty() {
            (
                Status::Pass,
                format!(
                    "resource and {servers} authorization server(s) in {}",
                    doc.url
                ),
            )
        } else {
            (
                Status::Fail,
                format!("{} (required by RFC 9728 and MCP)", problems.join("; ")),
            )
        };
        self.add("metadata-fields", status, reason);
    }

    fn metadata_resource(&mut self, doc: &Doc, url: &Url, derived_for: &Url) {
        let Some(resource) = doc.str("resource") else {
            self.add(
                "metadata-resource",
                Status::Skip,
                "no resource string in the metadata".to_string(),
            );
            return;
        };
        let (status, reason) = judge_resource(resource, url, derived_for);
        self.add("metadata-resource", status, reason);
    }

    fn metadata_cors(&mut self, doc: &Doc) {
        let (status, reason) = match doc.allow_origin.as_deref() {
            Some(value) if value == "*" || value == PROBE_ORIGIN => (
                Status::Pass,
                format!("Access-Control-Allow-Origin: {value} for Origin: {PROBE_ORIGIN}"),
            ),
            Some(value) => (
                Status::Warn,
                format!(
                    "Access-Control-Allow-Origin: {value} does not admit Origin: {PROBE_ORIGIN}; browser-based clients cannot read the metadata"
                ),
            ),
            None => (
                Status::Warn,
                format!(
                    "no Access-Control-Allow-Origin for a request with Origin: {PROBE_ORIGIN}; browser-based clients (MCP Inspector) cannot read the metadata"
                ),
            ),
        };
        self.add("metadata-cors", status, reason);
    }

    /// Fetches the metadata of each authorization server the document names.
    fn authorization_servers(&mut self, metadata: Option<&Doc>) -> Vec<Issuer> {
        let issuers: Vec<String> = metadata
            .and_then(|doc| doc.value.get("authorization_servers"))
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if issuers.is_empty() {
            self.add(
                "authorization-server-metadata",
                Status::Skip,
                "no authorization server named in the metadata".to_string(),
            );
            return Vec::new();
        }
        let mut found = Vec::new();
        let mut notes = Vec::new();
        let mut failures = Vec::new();
        let mut doubtful = false;
        for issuer in &issuers {
            let Ok(issuer_url) = Url::parse(issuer) else {
                failures.push(format!("{issuer} is not an absolute URL"));
                continue;
            };
            let mut misses = Vec::new();
            let mut hit = None;
            for candidate in authorization_server_metadata_urls(&issuer_url) {
                match self.fetch_doc(&candidate) {
                    Ok(doc) => {
                        hit = Some(doc);
                        break;
                    }
                    Err(reason) => misses.push(reason),
                }
            }
            let Some(doc) = hit else {
                failures.push(misses.join("; "));
                continue;
            };
            let mut note = format!("{issuer}: found at {}", doc.url);
            if !doc.redirects.is_empty() {
                doubtful = true;
                note.push_str(&format!(" after redirect {}", doc.redirects.join(", ")));
            }
            let named = doc.str("issuer");
            if named != Some(issuer.as_str()) {
                doubtful = true;
                note.push_str(&format!(
                    ", but its issuer is {}: RFC 8414 3.3 requires the one named",
                    named.unwrap_or("missing")
                ));
            }
            notes.push(note);
            found.push(Issuer {
                issuer: issuer.clone(),
                doc,
            });
        }
        let status = if found.is_empty() {
            Status::Fail
        } else if doubtful || !failures.is_empty() {
            Status::Warn
        } else {
            Status::Pass
        };
        let reason = if found.is_empty() {
            format!("no metadata found: {}", failures.join("; "))
        } else {
            notes
                .into_iter()
                .chain(failures.into_iter().map(|f| format!("not found: {f}")))
                .collect::<Vec<_>>()
                .join("; ")
        };
        self.add("authorization-server-metadata", status, reason);
        found
    }

    fn authorization_server_features(&mut self, issuers: &[Issuer]) {
        if issuers.is_empty() {
            let reason = "no authorization server metadata found".to_string();
            self.add("pkce-s256", Status::Skip, reason.clone());
            self.add("public-client-registration", Status::Skip, reason);
            return;
        }

        let lacking: Vec<&str> = issuers
            .iter()
            .filter(|i| {
                !i.doc
                    .value
                    .get("code_challenge_methods_supported")
                    .and_then(Value::as_array)
                    .is_some_and(|methods| methods.iter().any(|m| m == "S256"))
            })
            .map(|i| i.issuer.as_str())
            .collect();
        let (status, reason) = if lacking.is_empty() {
            (
                Status::Pass,
                "S256 in code_challenge_methods_supported".to_string(),
            )
        } else {
            (
                Status::Fail,
                format!(
                    "no S256 in code_challenge_methods_supported of {}: MCP clients refuse to proceed without it",
                    lacking.join(", ")
                ),
            )
        };
        self.add("pkce-s256", status, reason);

        let mut ways = Vec::new();
        let mut lacking = Vec::new();
        for issuer in issuers {
            let mut here = Vec::new();
            if let Some(endpoint) = issuer.doc.str("registration_endpoint") {
                here.push(format!("dynamic client registration at {endpoint}"));
            }
            if issuer
                .doc
                .value
                .get("client_id_metadata_document_supported")
                == Some(&Value::Bool(true))
            {
                here.push("client ID metadata documents".to_string());
            }
            if here.is_empty() {
                lacking.push(issuer.issuer.as_str());
            }
            ways.extend(here);
        }
        let (status, reason) = if lacking.is_empty() {
            (Status::Pass, ways.join(", "))
        } else {
            (
                Status::Warn,
                format!(
                    "no registration_endpoint and no client_id_metadata_document_supported: true at {}; public clients (Claude, Cursor, VS Code) need a pre-registered client id",
                    lacking.join(", ")
                ),
            )
        };
        self.add("public-client-registration", status, reason);
    }

    /// An `initialize` without a token must get 401 and a usable challenge.
    fn challenge(&mut self, url: &Url) {
        let skip_both = |probe: &mut Self, reason: &str| {
            probe.add(
                "challenge-resource-metadata",
                Status::Skip,
                reason.to_string(),
            );
            probe.add("challenge-scope", Status::Skip, reason.to_string());
        };
        let reply = match self.http.post_rpc(url, &[], &initialize(), Some(1)) {
            Ok(rpc) => rpc.reply,
            Err(reason) => {
                self.add("unauthenticated-401", Status::Fail, reason);
                skip_both(self, "no answer to inspect");
                return;
            }
        };
        if reply.status != 401 {
            let reason = if (200..300).contains(&reply.status) {
                format!(
                    "an initialize without a token got {}: the endpoint is not protected",
                    status_line(reply.status)
                )
            } else {
                format!(
                    "an initialize without a token got {}, expected 401 Unauthorized",
                    status_line(reply.status)
                )
            };
            self.add("unauthenticated-401", Status::Fail, reason);
            skip_both(self, "no 401 to inspect");
            return;
        }
        self.add(
            "unauthenticated-401",
            Status::Pass,
            "an initialize without a token got 401 Unauthorized".to_string(),
        );

        let headers = reply.headers_all("www-authenticate");
        let Some(bearer) = challenge::bearer(&headers) else {
            let reason = if headers.is_empty() {
                "the 401 has no WWW-Authenticate header: clients cannot discover the authorization server".to_string()
            } else {
                format!(
                    "WWW-Authenticate has no Bearer challenge: {}",
                    headers.join(", ")
                )
            };
            self.add("challenge-resource-metadata", Status::Fail, reason);
            self.add(
                "challenge-scope",
                Status::Skip,
                "no Bearer challenge".to_string(),
            );
            return;
        };
        let (status, reason) = self.judge_resource_metadata(&bearer);
        self.add("challenge-resource-metadata", status, reason);
        let (status, reason) = match bearer.param("scope") {
            Some(scope) => (Status::Pass, format!("scope=\"{scope}\"")),
            None => (
                Status::Warn,
                "no scope in the Bearer challenge: clients cannot tell which scopes to ask for (MCP 2025-11-25 SHOULD)"
                    .to_string(),
            ),
        };
        self.add("challenge-scope", status, reason);
    }

    fn judge_resource_metadata(&mut self, bearer: &Challenge) -> (Status, String) {
        let Some(location) = bearer.param("resource_metadata") else {
            return (
                Status::Fail,
                "the Bearer challenge has no resource_metadata: clients following MCP 2025-06-18 and later need it to find the metadata"
                    .to_string(),
            );
        };
        let Ok(location_url) = Url::parse(location) else {
            return (
                Status::Fail,
                format!("resource_metadata=\"{location}\" is not an absolute URL"),
            );
        };
        match self.fetch_doc(&location_url) {
            Ok(doc) if doc.redirects.is_empty() => (
                Status::Pass,
                format!("resource_metadata=\"{location}\", which serves the metadata"),
            ),
            Ok(doc) => (
                Status::Warn,
                format!(
                    "resource_metadata=\"{location}\" serves the metadata only after redirect {}",
                    doc.redirects.join(", ")
                ),
            ),
            Err(reason) => (
                Status::Fail,
                format!("resource_metadata=\"{location}\" but {reason}"),
            ),
        }
    }

    /// With `--token`: `initialize`, `notifications/initialized`, `tools/list`.
    fn authenticated(&mut self, url: &Url) {
        let Some(token) = self.options.token.clone() else {
            let reason = "no --token given (or MCP_CHECK_TOKEN)".to_string();
            self.add("authenticated-initialize", Status::Skip, reason.clone());
            self.add("authenticated-tools-list", Status::Skip, reason);
            return;
        };
        let authorization = token.bearer();
        let init = self.http.post_rpc(
            url,
            &[("Authorization", &authorization)],
            &initialize(),
            Some(1),
        );
        let (session, version) = match rpc_result(init, "initialize") {
            Ok((reply, result)) => {
                let session = reply.header("mcp-session-id").map(str::to_string);
                let version = result
                    .get("protocolVersion")
                    .and_then(Value::as_str)
                    .unwrap_or(PROTOCOL_VERSION)
                    .to_string();
                let server = result
                    .pointer("/serverInfo/name")
                    .and_then(Value::as_str)
                    .unwrap_or("unnamed");
                let mut reason = format!(
                    "server {server}, protocol {version}, {}",
                    if session.is_some() {
                        "session id given"
                    } else {
                        "no session (stateless)"
                    }
                );
                let mut headers = vec![
                    ("Authorization", authorization.as_str()),
                    ("MCP-Protocol-Version", version.as_str()),
                ];
                if let Some(session) = &session {
                    headers.push(("Mcp-Session-Id", session));
                }
                let notification = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
                let status = match self.http.post_rpc(url, &headers, &notification, None) {
                    Ok(rpc) if (200..300).contains(&rpc.reply.status) => Status::Pass,
                    Ok(rpc) => {
                        reason.push_str(&format!(
                            "; notifications/initialized got {}, expected 202 Accepted",
                            status_line(rpc.reply.status)
                        ));
                        Status::Warn
                    }
                    Err(error) => {
                        reason.push_str(&format!("; notifications/initialized failed: {error}"));
                        Status::Warn
                    }
                };
                self.add("authenticated-initialize", status, reason);
                (session, version)
            }
            Err(reason) => {
                self.add("authenticated-initialize", Status::Fail, reason);
                self.add(
                    "authenticated-tools-list",
                    Status::Skip,
                    "initialize failed".to_string(),
                );
                return;
            }
        };

        let mut headers = vec![
            ("Authorization", authorization.as_str()),
            ("MCP-Protocol-Version", version.as_str()),
        ];
        if let Some(session) = &session {
            headers.push(("Mcp-Session-Id", session));
        }
        let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}});
        let outcome = rpc_result(
            self.http.post_rpc(url, &headers, &list, Some(2)),
            "tools/list",
        );
        let (status, reason) = match outcome {
            Ok((_, result)) => match result.get("tools").and_then(Value::as_array) {
                Some(tools) => {
                    let names: Vec<&str> = tools
                        .iter()
                        .filter_map(|t| t.get("name").and_then(Value::as_str))
                        .collect();
                    (
                        Status::Pass,
                        format!("{} tool(s): {}", tools.len(), summarize(&names)),
                    )
                }
                None => (
                    Status::Fail,
                    "tools/list result has no tools array".to_string(),
                ),
            },
            Err(reason) => (Status::Fail, reason),
        };
        self.add("authenticated-tools-list", status, reason);
    }

    /// With `--wrong-audience-token`: such a token must get 401.
    fn wrong_audience(&mut self, url: &Url) {
        let Some(token) = self.options.wrong_audience_token.clone() else {
            self.add(
                "wrong-audience-refused",
                Status::Skip,
                "no --wrong-audience-token given (or MCP_CHECK_WRONG_AUDIENCE_TOKEN)".to_string(),
            );
            return;
        };
        let authorization = token.bearer();
        let outcome = self.http.post_rpc(
            url,
            &[("Authorization", &authorization)],
            &initialize(),
            Some(1),
        );
        let (status, reason) = match outcome {
            Err(reason) => (Status::Fail, reason),
            Ok(rpc) => {
                let error = challenge::bearer(&rpc.reply.headers_all("www-authenticate"))
                    .and_then(|c| c.param("error").map(|e| format!(" (error=\"{e}\")")))
                    .unwrap_or_default();
                match rpc.reply.status {
                    401 => (
                        Status::Pass,
                        format!("refused with 401 Unauthorized{error}"),
                    ),
                    403 => (
                        Status::Warn,
                        format!(
                            "refused, but with 403 Forbidden{error}; a token for another audience is invalid and should get 401 (RFC 6750 3.1)"
                        ),
                    ),
                    200..=299 => (
                        Status::Fail,
                        format!(
                            "accepted ({}): the server does not check the token's audience, so tokens issued for other services work here (RFC 8707)",
                            status_line(rpc.reply.status)
                        ),
                    ),
                    other => (
                        Status::Fail,
                        format!("got {}, expected 401 Unauthorized", status_line(other)),
                    ),
                }
            }
        };
        self.add("wrong-audience-refused", status, reason);
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

/// The status and reason for a metadata location that served a document.
fn found(doc: &Doc) -> (Status, String) {
    if !doc.redirects.is_empty() {
        return (
            Status::Warn,
            format!(
                "answered with redirect {}; serve the metadata directly, as some clients do not follow redirects",
                doc.redirects.join(", ")
            ),
        );
    }
    if !doc.content_type.starts_with("application/json") {
        return (
            Status::Warn,
            format!(
                "found at {}, but served as {} rather than application/json",
                doc.url, doc.content_type
            ),
        );
    }
    (Status::Pass, format!("200 OK, JSON at {}", doc.url))
}

/// RFC 9728 3.3 and the clients' rule: `resource` must be of the URL's origin
/// and a prefix of its path; it should be the very URL the metadata location
/// was derived from.
fn judge_resource(resource: &str, url: &Url, derived_for: &Url) -> (Status, String) {
    let Ok(parsed) = Url::parse(resource) else {
        return (
            Status::Fail,
            format!("resource \"{resource}\" is not an absolute URL"),
        );
    };
    if parsed.fragment().is_some() {
        return (
            Status::Fail,
            format!("resource {resource} has a fragment, which RFC 8707 forbids"),
        );
    }
    if parsed.origin() != url.origin() {
        return (
            Status::Fail,
            format!(
                "resource {resource} is not of the URL's origin ({}): clients refuse this metadata",
                url.origin().ascii_serialization()
            ),
        );
    }
    let with_slash = |path: &str| {
        if path.ends_with('/') {
            path.to_string()
        } else {
            format!("{path}/")
        }
    };
    if !with_slash(url.path()).starts_with(&with_slash(parsed.path())) {
        return (
            Status::Fail,
            format!(
                "resource {resource} does not cover the URL's path {}: clients refuse this metadata",
                url.path()
            ),
        );
    }
    if parsed == *derived_for {
        (
            Status::Pass,
            format!("resource is {resource}, the URL itself"),
        )
    } else {
        (
            Status::Warn,
            format!(
                "resource {resource} covers the URL but is not identical to {derived_for}, the URL this metadata location belongs to (RFC 9728 3.3); strict clients reject it, and tokens' audience must match it exactly"
            ),
        )
    }
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

/// Where clients look for an issuer's metadata, in MCP 2025-11-25's order.
fn authorization_server_metadata_urls(issuer: &Url) -> Vec<Url> {
    if issuer.path().trim_end_matches('/').is_empty() {
        return vec![
            well_known(issuer, "oauth-authorization-server", false),
            well_known(issuer, "openid-configuration", false),
        ];
    }
    let mut appended = issuer.clone();
    appended.set_path(&format!(
        "{}/.well-known/openid-configuration",
        issuer.path().trim_end_matches('/')
    ));
    vec![
        well_known(issuer, "oauth-authorization-server", true),
        well_known(issuer, "openid-configuration", true),
        appended,
    ]
}

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

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn initialize() -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "mcp-oauth-new-check", "version": env!("CARGO_PKG_VERSION")},
        },
    })
}

/// The `result` of a JSON-RPC exchange, or why there is none.
fn rpc_result(outcome: Result<RpcReply, String>, method: &str) -> Result<(Reply, Value), String> {
    let rpc = outcome?;
    let status = rpc.reply.status;
    if !(200..300).contains(&status) {
        let description = challenge::bearer(&rpc.reply.headers_all("www-authenticate"))
            .and_then(|c| {
                c.param("error_description")
                    .or(c.param("error"))
                    .map(|d| format!(" ({d})"))
            })
            .unwrap_or_default();
        return Err(format!("{method} got {}{description}", status_line(status)));
    }
    let Some(message) = rpc.message else {
        return Err(format!(
            "{method} got {} but no JSON-RPC response (JSON or text/event-stream)",
            status_line(status)
        ));
    };
    if let Some(error) = message.get("error") {
        return Err(format!(
            "{method} got JSON-RPC error {}: {}",
            error.get("code").unwrap_or(&Value::Null),
            error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("no message")
        ));
    }
    match message.get("result") {
        Some(result) => {
            let result = result.clone();
            Ok((rpc.reply, result))
        }
        None => Err(format!("{method} response has neither result nor error")),
    }
}

fn shown(value: Option<&Value>) -> String {
    value.map_or_else(|| "none".to_string(), Value::to_string)
}

/// The first few names, and how many more.
fn summarize(names: &[&str]) -> String {
    const SHOWN: usize = 8;
    if names.is_empty() {
        return "none".to_string();
    }
    let mut text = names
        .iter()
        .take(SHOWN)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
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
    fn issuer_locations_follow_mcp_order() {
        let issuer = url("https://acme.scalekit.com/resources/res_1");
        let urls: Vec<String> = authorization_server_metadata_urls(&issuer)
            .iter()
            .map(Url::to_string)
            .collect();
        assert_eq!(
            urls,
            [
                "https://acme.scalekit.com/.well-known/oauth-authorization-server/resources/res_1",
                "https://acme.scalekit.com/.well-known/openid-configuration/resources/res_1",
                "https://acme.scalekit.com/resources/res_1/.well-known/openid-configuration",
            ]
        );
        let root: Vec<String> = authorization_server_metadata_urls(&url("https://as.example/"))
            .iter()
            .map(Url::to_string)
            .collect();
        assert_eq!(
            root,
            [
                "https://as.example/.well-known/oauth-authorization-server",
                "https://as.example/.well-known/openid-configuration",
            ]
        );
    }

    #[test]
    fn resource_must_share_origin_and_prefix() {
        let u = url("https://mcp.example.com/mcp");
        let status = |resource: &str| judge_resource(resource, &u, &u).0;
        assert_eq!(status("https://mcp.example.com/mcp"), Status::Pass);
        assert_eq!(status("https://mcp.example.com/"), Status::Warn);
        assert_eq!(status("https://mcp.example.com/mcp/"), Status::Warn);
        assert_eq!(status("https://mcp.example.com/other"), Status::Fail);
        assert_eq!(status("https://evil.example.com/mcp"), Status::Fail);
        assert_eq!(status("http://mcp.example.com/mcp"), Status::Fail);
        assert_eq!(status("mcp"), Status::Fail);
        assert_eq!(status("https://mcp.example.com/mcp#x"), Status::Fail);
    }

    #[test]
    fn a_report_lists_every_known_check_in_order() {
        let options = Options {
            url: url("http://127.0.0.1:1/mcp"),
            token: None,
            wrong_audience_token: None,
            timeout: Duration::from_secs(1),
        };
        let report = run(&options);
        let ids: Vec<&str> = report.checks.iter().map(|c| c.id).collect();
        let known: Vec<&str> = CHECKS.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, known);
        for (check, (_, title)) in report.checks.iter().zip(CHECKS) {
            assert_eq!(check.title, title);
        }
    }

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback(&url("http://localhost:3000/mcp")));
        assert!(is_loopback(&url("http://127.0.0.2/mcp")));
        assert!(is_loopback(&url("http://[::1]:3000/mcp")));
        assert!(!is_loopback(&url("http://mcp.example.com/mcp")));
    }

    #[test]
    fn secrets_are_redacted_and_hidden_from_debug() {
        let secret = Secret::new("s3cr3t-token");
        assert!(!format!("{secret:?}").contains("s3cr3t"));
        let mut report = Report {
            url: "https://x/mcp".into(),
            checks: vec![Check {
                id: "x",
                title: "x",
                status: Status::Fail,
                reason: "server said s3cr3t-token is bad".into(),
            }],
        };
        report.redact(&[&secret]);
        assert_eq!(report.checks[0].reason, "server said [redacted] is bad");
    }
}
