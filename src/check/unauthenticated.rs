//! The checks on a request without a token: it must get 401 with a Bearer
//! challenge that leads clients to the metadata and names the scopes.

use url::Url;

use super::challenge::{self, Challenge};
use super::http::{Reply, status_line};
use super::{CheckId, Probe, Status, initialize};

impl Probe<'_> {
    /// An `initialize` without a token must get 401 and a usable challenge.
    /// Returns that 401's `WWW-Authenticate` headers, when there was one.
    pub(super) fn challenge(&mut self, url: &Url) -> Option<Vec<String>> {
        let skip_both = |probe: &mut Self, reason: &str| {
            probe.add(
                CheckId::ChallengeResourceMetadata,
                Status::Skip,
                reason.to_string(),
            );
            probe.add(CheckId::ChallengeScope, Status::Skip, reason.to_string());
        };
        let reply = match self.http.post_rpc(url, &[], &initialize(), Some(1)) {
            Ok(rpc) => rpc.reply,
            Err(reason) => {
                self.add(CheckId::Unauthenticated401, Status::Fail, reason);
                skip_both(self, "no answer to inspect");
                return None;
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
            self.add(CheckId::Unauthenticated401, Status::Fail, reason);
            skip_both(self, "no 401 to inspect");
            return None;
        }
        self.add(
            CheckId::Unauthenticated401,
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
            self.add(CheckId::ChallengeResourceMetadata, Status::Fail, reason);
            self.add(
                CheckId::ChallengeScope,
                Status::Skip,
                "no Bearer challenge".to_string(),
            );
            return Some(headers);
        };
        let (status, reason) = self.judge_resource_metadata(&bearer);
        self.add(CheckId::ChallengeResourceMetadata, status, reason);
        let (status, reason) = match bearer.param("scope") {
            Some(scope) => (Status::Pass, format!("scope=\"{scope}\"")),
            None => (
                Status::Warn,
                "no scope in the Bearer challenge: clients cannot tell which scopes to ask for (MCP 2025-11-25 SHOULD)"
                    .to_string(),
            ),
        };
        self.add(CheckId::ChallengeScope, status, reason);
        Some(headers)
    }

    /// Whether the challenge's `resource_metadata` serves the metadata.
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

    /// RFC 6750 section 3.1: a request without credentials, or with another
    /// scheme's, gets a challenge with no error code; an `error` there tells
    /// clients their (absent) token was bad.
    pub(super) fn no_error_without_credentials(
        &mut self,
        url: &Url,
        without_credentials: Option<&[String]>,
    ) {
        const BASIC: &str = "Basic bWNwLW9hdXRoLW5ldzpjaGVjaw==";
        let Some(without_credentials) = without_credentials else {
            self.add(
                CheckId::NoErrorWithoutCredentials,
                Status::Skip,
                "no 401 to a request without credentials (see unauthenticated-401)".to_string(),
            );
            return;
        };
        let error_in = |challenges: &[String]| {
            challenge::bearer(challenges)
                .and_then(|bearer| bearer.param("error").map(str::to_owned))
        };
        let mut errors = Vec::new();
        if let Some(error) = error_in(without_credentials) {
            errors.push(format!("the 401 without credentials has error=\"{error}\""));
        }
        let basic = self
            .http
            .post_rpc(url, &[("Authorization", BASIC)], &initialize(), Some(1));
        match basic {
            Ok(rpc) if rpc.reply.status == 401 => {
                if let Some(error) = error_in(&rpc.reply.headers_all("www-authenticate")) {
                    errors.push(format!(
                        "the 401 with Authorization: Basic has error=\"{error}\""
                    ));
                }
            }
            Ok(rpc) => {
                let reason = format!(
                    "an initialize with Authorization: Basic got {}, not 401",
                    status_line(rpc.reply.status)
                );
                self.add(CheckId::NoErrorWithoutCredentials, Status::Skip, reason);
                return;
            }
            Err(reason) => {
                self.add(CheckId::NoErrorWithoutCredentials, Status::Skip, reason);
                return;
            }
        }
        let (status, reason) = if errors.is_empty() {
            (
                Status::Pass,
                "the 401s without credentials and with Basic credentials carry no error code"
                    .to_string(),
            )
        } else {
            (
                Status::Warn,
                format!(
                    "{}: RFC 6750 section 3.1 says no error code when the request has no credentials",
                    errors.join("; ")
                ),
            )
        };
        self.add(CheckId::NoErrorWithoutCredentials, status, reason);
    }

    /// With `--origin`: a browser client on that origin gets its preflight
    /// answered without a token, and can read the 401's challenge.
    pub(super) fn mcp_cors(&mut self, url: &Url) {
        let Some(origin) = self.options.origin.clone() else {
            self.add(
                CheckId::McpCors,
                Status::Skip,
                "no --origin given (a browser client's origin)".to_string(),
            );
            return;
        };
        let allows = |reply: &Reply| {
            reply
                .header("access-control-allow-origin")
                .is_some_and(|allowed| allowed == "*" || allowed == origin)
        };
        let preflight = self.http.options(
            url,
            &[
                ("Origin", &origin),
                ("Access-Control-Request-Method", "POST"),
                (
                    "Access-Control-Request-Headers",
                    "authorization, content-type, mcp-protocol-version",
                ),
            ],
        );
        let mut problems = Vec::new();
        match &preflight {
            Ok(reply) if (200..300).contains(&reply.status) && allows(reply) => {}
            Ok(reply) => problems.push(format!(
                "the preflight from {origin} got {}{}",
                status_line(reply.status),
                if allows(reply) {
                    ""
                } else {
                    " without Access-Control-Allow-Origin for it"
                }
            )),
            Err(reason) => {
                self.add(CheckId::McpCors, Status::Skip, reason.clone());
                return;
            }
        }
        match self
            .http
            .post_rpc(url, &[("Origin", &origin)], &initialize(), Some(1))
        {
            Ok(rpc) if rpc.reply.status == 401 => {
                let exposed = rpc
                    .reply
                    .header("access-control-expose-headers")
                    .unwrap_or_default()
                    .split(',')
                    .any(|name| {
                        let name = name.trim();
                        name == "*" || name.eq_ignore_ascii_case("www-authenticate")
                    });
                if !allows(&rpc.reply) || !exposed {
                    problems.push(format!(
                        "the 401 to {origin} does not let a browser read WWW-Authenticate \
                         (Access-Control-Allow-Origin for it and Access-Control-Expose-Headers: \
                         WWW-Authenticate are needed)"
                    ));
                }
            }
            Ok(rpc) => problems.push(format!(
                "an initialize from {origin} without a token got {}, not 401",
                status_line(rpc.reply.status)
            )),
            Err(reason) => problems.push(reason),
        }
        let (status, reason) = if problems.is_empty() {
            (
                Status::Pass,
                format!(
                    "a preflight from {origin} is answered without a token, and its 401 exposes WWW-Authenticate"
                ),
            )
        } else {
            (Status::Warn, problems.join("; "))
        };
        self.add(CheckId::McpCors, status, reason);
    }
}
