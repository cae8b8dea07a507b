//! The HTTP side of `check`: one agent with a hard deadline per request, no
//! automatic redirects, and errors turned into one-line reasons.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read};
use std::time::Duration;

use serde_json::Value;
use ureq::http::{HeaderMap, StatusCode};
use url::Url;

/// Bodies larger than this are not metadata or a JSON-RPC answer we need.
const BODY_LIMIT: u64 = 1024 * 1024;

/// An answer with its body read.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    /// The first value of a header, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The status, and for a redirect where it leads: `307 Temporary
    /// Redirect to https://...`. Redirects are never followed with a token.
    pub fn status_text(&self) -> String {
        let line = status_line(self.status);
        if !(300..400).contains(&self.status) {
            return line;
        }
        match self.header("location") {
            Some(location) => format!("{line} to {location}"),
            None => format!("{line} without a Location"),
        }
    }

    /// Every value of a header, as text (lossy, so a stray byte hides nothing).
    pub fn headers_all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    }
}

/// A JSON-RPC exchange: the HTTP answer and the JSON-RPC message found in it
/// (a JSON body, or the matching event of an SSE stream).
#[derive(Debug)]
pub(crate) struct RpcReply {
    pub reply: Reply,
    pub message: Option<Value>,
}

pub(crate) struct Http {
    agent: ureq::Agent,
    timeout: Duration,
    /// Origins that could not be reached, with the reason. Asking again would
    /// only wait out the same timeout once more per request.
    unreachable: RefCell<HashMap<String, String>>,
}

impl Http {
    pub fn new(timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            // Statuses are what we inspect, not errors.
            .http_status_as_error(false)
            // Redirects are reported by the caller, never followed silently.
            .max_redirects(0)
            .user_agent(concat!("mcp-oauth-new-check/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Http {
            agent,
            timeout,
            unreachable: RefCell::default(),
        }
    }

    /// A GET, body read in full.
    pub fn get(&self, url: &Url, headers: &[(&str, &str)]) -> Result<Reply, String> {
        self.reachable(url)?;
        let mut request = self.agent.get(url.as_str());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.call().map_err(|e| self.describe(&e, url, true))?;
        self.read(url, response, None).map(|rpc| rpc.reply)
    }

    /// An OPTIONS request, e.g. a CORS preflight.
    pub fn options(&self, url: &Url, headers: &[(&str, &str)]) -> Result<Reply, String> {
        self.reachable(url)?;
        let mut request = self.agent.options(url.as_str());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.call().map_err(|e| self.describe(&e, url, true))?;
        self.read(url, response, None).map(|rpc| rpc.reply)
    }

    /// A DELETE, e.g. to end an MCP session.
    pub fn delete(&self, url: &Url, headers: &[(&str, &str)]) -> Result<Reply, String> {
        self.reachable(url)?;
        let mut request = self.agent.delete(url.as_str());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.call().map_err(|e| self.describe(&e, url, true))?;
        self.read(url, response, None).map(|rpc| rpc.reply)
    }

    /// A JSON-RPC POST. When the answer is an event stream, reading stops at
    /// the event that answers `id`, since a server may keep the stream open.
    pub fn post_rpc(
        &self,
        url: &Url,
        headers: &[(&str, &str)],
        body: &Value,
        id: Option<i64>,
    ) -> Result<RpcReply, String> {
        self.reachable(url)?;
        let mut request = self
            .agent
            .post(url.as_str())
            .header("Accept", "application/json, text/event-stream")
            .header("Content-Type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request
            .send(body.to_string())
            .map_err(|e| self.describe(&e, url, true))?;
        self.read(url, response, id)
    }

    fn reachable(&self, url: &Url) -> Result<(), String> {
        match self.unreachable.borrow().get(&origin(url)) {
            Some(reason) => Err(format!("{reason} (on an earlier request; not retried)")),
            None => Ok(()),
        }
    }

    fn read(
        &self,
        url: &Url,
        response: ureq::http::Response<ureq::Body>,
        id: Option<i64>,
    ) -> Result<RpcReply, String> {
        let (parts, body) = response.into_parts();
        let status = parts.status.as_u16();
        let is_sse = parts
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("text/event-stream"));
        let reader = body.into_reader().take(BODY_LIMIT);
        // The host answered, so a slow body says nothing about other requests.
        let read_error = |e: io::Error| self.describe(&ureq::Error::from(e), url, false);
        let (body, message) = if is_sse {
            let message = read_sse(BufReader::new(reader), id).map_err(read_error)?;
            let body = message.as_ref().map(Value::to_string).unwrap_or_default();
            (body, message)
        } else {
            let mut body = String::new();
            BufReader::new(reader)
                .read_to_string(&mut body)
                .map_err(read_error)?;
            let message = serde_json::from_str(&body).ok();
            (body, message)
        };
        Ok(RpcReply {
            reply: Reply {
                status,
                headers: parts.headers,
                body,
            },
            message,
        })
    }

    /// One line saying what went wrong, naming the host but never a header
    /// value (the Authorization header holds a token). With `before_answer`,
    /// a host that cannot be reached is remembered as such.
    fn describe(&self, error: &ureq::Error, url: &Url, before_answer: bool) -> String {
        let host = url.host_str().unwrap_or("?");
        let address = match url.port_or_known_default() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        let timed_out = format!("timed out after {} s", self.timeout.as_secs());
        let (reason, host_down) = match error {
            ureq::Error::Timeout(_) => (timed_out, true),
            ureq::Error::Io(e) => match e.kind() {
                io::ErrorKind::ConnectionRefused => {
                    (format!("connection refused to {address}"), true)
                }
                io::ErrorKind::TimedOut => (timed_out, true),
                _ => (format!("network error with {address}: {e}"), false),
            },
            ureq::Error::HostNotFound => (format!("host not found: {host}"), true),
            ureq::Error::ConnectionFailed => (format!("cannot connect to {address}"), true),
            ureq::Error::Http(_) => (
                "the request could not be built (is a token or header value valid HTTP?)"
                    .to_string(),
                false,
            ),
            ureq::Error::BodyExceedsLimit(_) => {
                (format!("the answer from {address} is over 1 MiB"), false)
            }
            other => (format!("request to {address} failed: {other}"), false),
        };
        if host_down && before_answer {
            self.unreachable
                .borrow_mut()
                .insert(origin(url), reason.clone());
        }
        reason
    }
}

fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// `404 Not Found`, or the bare number for a status without a name.
pub(crate) fn status_line(status: u16) -> String {
    match StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
    }
}

/// Reads server-sent events until one carries the JSON-RPC response to `id`
/// (or, without an id, the first JSON message), or the stream ends.
fn read_sse(reader: impl BufRead, id: Option<i64>) -> io::Result<Option<Value>> {
    let mut data = String::new();
    let mut last = None;
    for line in reader.lines() {
        let line = line?;
        if line.is_empty() {
            if let Ok(message) = serde_json::from_str::<Value>(&data) {
                let answers = match id {
                    Some(id) => message.get("id").and_then(Value::as_i64) == Some(id),
                    None => true,
                };
                if answers {
                    return Ok(Some(message));
                }
                last = Some(message);
            }
            data.clear();
        } else if let Some(value) = line.strip_prefix("data:") {
            if !data.is_empty() {
                data.push('\n');
            }
            data.push_str(value.strip_prefix(' ').unwrap_or(value));
        }
    }
    // A stream may end without the blank line after its last event.
    Ok(serde_json::from_str(&data).ok().or(last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_stops_at_the_matching_response() {
        let stream = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n\
                      id: 7\ndata: {\"jsonrpc\":\"2.0\",\n\
                      data: \"id\":3,\"result\":{}}\n\n\
                      data: not reached\n";
        let message = read_sse(stream.as_bytes(), Some(3)).unwrap().unwrap();
        assert_eq!(message["id"], 3);
    }

    #[test]
    fn sse_without_a_final_blank_line_still_yields_its_event() {
        let message = read_sse("data: {\"id\":1}".as_bytes(), Some(1))
            .unwrap()
            .unwrap();
        assert_eq!(message["id"], 1);
    }

    #[test]
    fn status_lines_name_the_status() {
        assert_eq!(status_line(404), "404 Not Found");
        assert_eq!(status_line(599), "599");
    }
}
