//! Client ID Metadata Documents: a `client_id` that is an `https` URL (or
//! `http` on loopback) names a JSON document describing the client, fetched
//! when the client first shows up, as Claude Code and VS Code expect.

use std::io::Read as _;
use std::time::Duration;

use serde_json::Value;
use url::Url;

use super::register::{client_from_metadata, is_loopback};
use crate::dev::state::Client;

const TIMEOUT: Duration = Duration::from_secs(5);
/// A metadata document is a few hundred bytes; this is generous.
const SIZE_LIMIT: u64 = 64 * 1024;

/// Whether a `client_id` is a metadata document's URL.
pub fn is_document_url(client_id: &str) -> bool {
    match Url::parse(client_id) {
        Ok(url) => {
            url.fragment().is_none()
                && (url.scheme() == "https" || (url.scheme() == "http" && is_loopback(&url)))
                && url.path() != "/"
        }
        Err(_) => false,
    }
}

/// Fetches and checks the document: a JSON object whose `client_id` is the
/// URL it was fetched from, describing a public client.
pub fn fetch(url: &str) -> Result<Client, String> {
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut response = agent
        .get(url)
        .header("Accept", "application/json")
        .call()
        .map_err(|error| {
            format!("the client metadata document at {url} could not be fetched: {error}")
        })?;
    if response.status() != 200 {
        return Err(format!(
            "the client metadata document at {url} answered {} (200 expected)",
            response.status()
        ));
    }
    let mut body = Vec::new();
    response
        .body_mut()
        .as_reader()
        .take(SIZE_LIMIT + 1)
        .read_to_end(&mut body)
        .map_err(|error| format!("reading the client metadata document at {url}: {error}"))?;
    if body.len() as u64 > SIZE_LIMIT {
        return Err(format!(
            "the client metadata document at {url} is larger than {SIZE_LIMIT} bytes"
        ));
    }
    let Ok(Value::Object(metadata)) = serde_json::from_slice(&body) else {
        return Err(format!(
            "the client metadata document at {url} is not a JSON object"
        ));
    };
    if metadata.get("client_id").and_then(Value::as_str) != Some(url) {
        return Err(format!(
            "the client metadata document at {url} must have `client_id` equal to its URL"
        ));
    }
    client_from_metadata(metadata, Some(url))
        .map(|(client, _)| client)
        .map_err(|reply| {
            let body: Value = serde_json::from_slice(&reply.body).unwrap_or_default();
            format!(
                "the client metadata document at {url} is refused: {}",
                body["error_description"].as_str().unwrap_or("invalid")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_urls_are_https_or_loopback_http_with_a_path() {
        assert!(is_document_url(
            "https://claude.ai/oauth/claude-code-client-metadata"
        ));
        assert!(is_document_url("http://127.0.0.1:8080/client.json"));
        assert!(!is_document_url("http://example.com/client.json"));
        assert!(!is_document_url("https://example.com/"));
        assert!(!is_document_url("https://example.com/c#x"));
        assert!(!is_document_url("dev_abc"));
    }
}
