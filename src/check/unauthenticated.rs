//! The checks on a request without a token: it must get 401 with a Bearer
//! challenge that leads clients to the metadata and names the scopes.

use url::Url;

use super::challenge::{self, Challenge};
use super::http::Reply;
use super::{CheckId, INITIALIZE_VERSIONS, Probe, Status, initialize};

impl Probe<'_> {
    /// An `initialize` without a token must get 401 and a usable challenge.
    /// Returns the endpoint the later checks use (the URL, or where it
    /// redirects when only its trailing slash differs) and that 401's
    /// `WWW-Authenticate` headers, when there was one.
    pub(super) fn challenge(&mut self, url: &Url) -> (Url, Option<Vec<String>>) {
        let skip_both = |probe: &mut Self, reason: &str| {
            probe.add(
                CheckId::ChallengeResourceMetadata,
                Status::Skip,
                reason.to_string(),
            );
            probe.add(CheckId::ChallengeScope, Status::Skip, reason.to_string());
        };
        let request = initialize(INITIALIZE_VERSIONS[0]);
        let mut endpoint = url.clone();
        let mut outcome = self.http.post_rpc(url, &[], &request, Some(1));
        // Said first in the row, and it makes the row a warning at best.
        let mut redirected = None;
        if let Ok(rpc) = &outcome
            && let Some(target) = slash_redirect(url, &rpc.reply)
        {
            redirected = Some(format!(
                "{url} answers {}, the same URL {} a trailing slash: MCP clients POST to the URL \
                 they are given and many do not follow redirects, so give them {target} \
                 (the checks below use it); ",
                rpc.reply.status_text(),
                if target.path().ends_with('/') {
                    "with"
                } else {
                    "without"
                },
            ));
            outcome = self.http.post_rpc(&target, &[], &request, Some(1));
            endpoint = target;
        }
        let prefix = redirected.clone().unwrap_or_default();
        let reply = match outcome {
            Ok(rpc) => rpc.reply,
            Err(reason) => {
                self.add(
                    CheckId::Unauthenticated401,
                    Status::Fail,
                    format!("{prefix}{reason}"),
                );
                skip_both(self, "no answer to inspect");
                return (endpoint, None);
            }
        };
        if reply.status != 401 {
            let reason = if (200..300).contains(&reply.status) {
                format!(
                    "an initialize without a token got {}: the endpoint is not protected",
                    reply.status_text()
                )
            } else if (300..400).contains(&reply.status) {
                format!(
                    "an initialize without a token got {}, not followed: clients send tokens \
                     only to the URL they are given, so give them the final URL",
                    reply.status_text()
                )
            } else {
                format!(
                    "an initialize without a token got {}, expected 401 Unauthorized",
                    reply.status_text()
                )
            };
            self.add(
                CheckId::Unauthenticated401,
                Status::Fail,
                format!("{prefix}{reason}"),
            );
            skip_both(self, "no 401 to inspect");
            return (endpoint, None);
        }
        self.add(
            CheckId::Unauthenticated401,
            if redirected.is_some() {
                Status::Warn
            } else {
                Status::Pass
            },
            format!("{prefix}an initialize without a token got 401 Unauthorized"),
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
            return (endpoint, Some(headers));
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
        (endpoint, Some(headers))
    }

    /// Whether the challenge's `resource_metadata` serves the metadata.
    fn judge_resource_metadata(&mut self, bearer: &Challenge) -> (Status, String) {
        let Some(location) = bearer.param("resource_metadata") else {
            return (
                Status::Fail,
                "the Bearer challenge has no resource_metadata: MCP 2025-06-18 requires it and its clients find the metadata only through it (2025-11-25 clients fall back to the well-known locations)"
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
        let basic = self.http.post_rpc(
            url,
            &[("Authorization", BASIC)],
            &initialize(INITIALIZE_VERSIONS[0]),
            Some(1),
        );
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
                    rpc.reply.status_text()
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
                reply.status_text(),
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
        match self.http.post_rpc(
            url,
            &[("Origin", &origin)],
            &initialize(INITIALIZE_VERSIONS[0]),
            Some(1),
        ) {
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
                rpc.reply.status_text()
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

/// Where a redirect leads when the target is the same URL with its trailing
/// slash added or removed: a redirect the probe follows, since the token
/// stays with the same origin and path.
fn slash_redirect(url: &Url, reply: &Reply) -> Option<Url> {
    if !(300..400).contains(&reply.status) {
        return None;
    }
    let target = url.join(reply.header("location")?).ok()?;
    let (from, to) = (url.path(), target.path());
    let differs_by_slash = from.trim_end_matches('/') == to.trim_end_matches('/')
        && from.ends_with('/') != to.ends_with('/');
    (target.origin() == url.origin() && target.query() == url.query() && differs_by_slash)
        .then_some(target)
}

#[cfg(test)]
mod tests {
    use ureq::http::HeaderMap;

    use super::*;

    fn redirect(location: &str) -> Reply {
        let mut headers = HeaderMap::new();
        headers.insert("location", location.parse().unwrap());
        Reply {
            status: 308,
            headers,
            body: String::new(),
        }
    }

    #[test]
    fn only_a_trailing_slash_redirect_on_the_same_origin_is_followed() {
        let url = Url::parse("https://mcp.example.com/mcp").unwrap();
        let followed = |location: &str| slash_redirect(&url, &redirect(location));
        assert_eq!(
            followed("/mcp/").map(String::from),
            Some("https://mcp.example.com/mcp/".to_string())
        );
        assert_eq!(
            followed("https://mcp.example.com/mcp/").map(String::from),
            Some("https://mcp.example.com/mcp/".to_string())
        );
        assert_eq!(followed("https://evil.example/mcp/"), None);
        assert_eq!(followed("/other/"), None);
        assert_eq!(followed("/mcp/?x=1"), None);
        let slashed = Url::parse("https://mcp.example.com/mcp/").unwrap();
        assert_eq!(
            slash_redirect(&slashed, &redirect("/mcp")).map(String::from),
            Some("https://mcp.example.com/mcp".to_string())
        );
    }
}
