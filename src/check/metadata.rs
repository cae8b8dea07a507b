//! The checks on the server's own documents: HTTPS, the RFC 9728 protected
//! resource metadata at both locations, its fields, its `resource` and its
//! CORS headers.

use serde_json::Value;
use url::{Host, Url};

use super::{CheckId, Doc, PROBE_ORIGIN, Probe, Status, origin_url, well_known};

impl Probe<'_> {
    pub(super) fn https(&mut self, url: &Url) {
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
        self.add(CheckId::Https, status, reason);
    }

    /// Both RFC 9728 locations, the checks on the document, and the document
    /// the later checks use (the path-inserted one when both exist, as
    /// clients following MCP 2025-11-25 try it first).
    pub(super) fn metadata(&mut self, url: &Url) -> Option<Doc> {
        let root_url = well_known(url, "oauth-protected-resource", false);
        let path_url =
            (url.path() != "/").then(|| well_known(url, "oauth-protected-resource", true));
        let path = path_url.as_ref().map(|u| self.fetch_doc(u));
        let root = self.fetch_doc(&root_url);

        match (&path, &root) {
            (None, _) => self.add(
                CheckId::MetadataPathInserted,
                Status::Skip,
                "the URL has no path: the root location is the only one".to_string(),
            ),
            (Some(Ok(doc)), _) => {
                let (status, reason) = found(doc);
                self.add(CheckId::MetadataPathInserted, status, reason);
            }
            (Some(Err(reason)), Ok(_)) => self.add(
                CheckId::MetadataPathInserted,
                Status::Warn,
                format!(
                    "{reason}; clients following MCP 2025-11-25 try this location first when the 401 names no resource_metadata, then the root"
                ),
            ),
            (Some(Err(reason)), Err(_)) => self.add(
                CheckId::MetadataPathInserted,
                Status::Fail,
                reason.clone(),
            ),
        }

        match (&root, &path) {
            (Ok(doc), Some(Ok(path_doc))) if doc.value.get("resource") != path_doc.value.get("resource") => {
                self.add(
                    CheckId::MetadataRoot,
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
                self.add(CheckId::MetadataRoot, status, reason);
            }
            (Err(reason), Some(Ok(_))) => self.add(
                CheckId::MetadataRoot,
                Status::Warn,
                format!(
                    "{reason}; it serves clients that neither read resource_metadata from the 401 (as MCP 2025-06-18 and later do) nor try the path-inserted location (as 2025-11-25 does when the 401 names none)"
                ),
            ),
            (Err(reason), _) => {
                self.add(CheckId::MetadataRoot, Status::Fail, reason.clone());
            }
        }

        let (doc, derived_for) = match (path, root) {
            (Some(Ok(doc)), _) => (doc, url.clone()),
            (_, Ok(doc)) => (doc, origin_url(url)),
            _ => {
                for id in [
                    CheckId::MetadataFields,
                    CheckId::MetadataResource,
                    CheckId::MetadataCors,
                ] {
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
        self.add(CheckId::MetadataFields, status, reason);
    }

    fn metadata_resource(&mut self, doc: &Doc, url: &Url, derived_for: &Url) {
        let Some(resource) = doc.str("resource") else {
            self.add(
                CheckId::MetadataResource,
                Status::Skip,
                "no resource string in the metadata".to_string(),
            );
            return;
        };
        let (status, reason) = judge_resource(resource, url, derived_for);
        self.add(CheckId::MetadataResource, status, reason);
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
        self.add(CheckId::MetadataCors, status, reason);
    }
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

/// Plain http is expected there, while developing.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A JSON value as quoted in a reason.
fn shown(value: Option<&Value>) -> String {
    value.map_or_else(|| "none".to_string(), Value::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
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
    fn loopback_hosts() {
        assert!(is_loopback(&url("http://localhost:3000/mcp")));
        assert!(is_loopback(&url("http://127.0.0.2/mcp")));
        assert!(is_loopback(&url("http://[::1]:3000/mcp")));
        assert!(!is_loopback(&url("http://mcp.example.com/mcp")));
    }
}
