//! Requests and answers as plain values, so every endpoint is a function the
//! tests can call without a socket, and the answers an OAuth client expects.

use serde_json::{Value, json};

/// Bodies larger than this are no registration, form or token request.
pub const BODY_LIMIT: usize = 64 * 1024;

/// One HTTP request, its body read.
#[derive(Debug, Clone, Default)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    /// Splits a request target into path and query.
    pub fn new(method: &str, target: &str, headers: Vec<(String, String)>, body: Vec<u8>) -> Req {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        Req {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers,
            body,
        }
    }

    /// The value of a header sent once; `None` when absent or repeated.
    pub fn header(&self, name: &str) -> Option<&str> {
        let mut values = self
            .headers
            .iter()
            .filter(|(field, _)| field.eq_ignore_ascii_case(name));
        match (values.next(), values.next()) {
            (Some((_, value)), None) => Some(value.as_str()),
            _ => None,
        }
    }

    /// The query's parameters.
    pub fn query_params(&self) -> Params {
        Params::parse(self.query.as_bytes())
    }

    /// Whether the body is of this media type (`Content-Type`, parameters
    /// such as `charset` aside).
    pub fn is(&self, media_type: &str) -> bool {
        self.header("content-type").is_some_and(|value| {
            value
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case(media_type)
        })
    }

    /// The body as `application/x-www-form-urlencoded` parameters.
    pub fn form(&self) -> Result<Params, Reply> {
        if !self.is("application/x-www-form-urlencoded") {
            return Err(Reply::oauth_error(
                400,
                "invalid_request",
                "the body must be application/x-www-form-urlencoded",
            ));
        }
        Ok(Params::parse(&self.body))
    }
}

/// Decoded `name=value` pairs, in order.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(bytes: &[u8]) -> Params {
        Params(
            url::form_urlencoded::parse(bytes)
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect(),
        )
    }

    /// A parameter that may appear at most once (RFC 6749 3.1); a repeated
    /// one is an error naming it.
    pub fn one(&self, name: &str) -> Result<Option<&str>, String> {
        let mut values = self
            .0
            .iter()
            .filter(|(field, _)| field == name)
            .map(|(_, value)| value.as_str());
        match (values.next(), values.next()) {
            (value, None) => Ok(value),
            _ => Err(format!("`{name}` is given more than once")),
        }
    }

    /// A parameter that must be there, once.
    pub fn required(&self, name: &str) -> Result<&str, String> {
        match self.one(name)? {
            Some(value) if !value.is_empty() => Ok(value),
            _ => Err(format!("`{name}` is missing")),
        }
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, body: &Value) -> Reply {
        Reply {
            status,
            headers: vec![
                ("Content-Type", "application/json".into()),
                ("Cache-Control", "no-store".into()),
            ],
            body: body.to_string().into_bytes(),
        }
    }

    /// An RFC 6749 5.2 (or RFC 7591 3.2.2) error body.
    pub fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
        Reply::json(
            status,
            &json!({ "error": error, "error_description": description }),
        )
    }

    pub fn html(status: u16, body: String) -> Reply {
        Reply {
            status,
            headers: vec![
                ("Content-Type", "text/html; charset=utf-8".into()),
                ("Cache-Control", "no-store".into()),
            ],
            body: body.into_bytes(),
        }
    }

    pub fn redirect(location: String) -> Reply {
        Reply {
            status: 302,
            headers: vec![("Location", location), ("Cache-Control", "no-store".into())],
            body: Vec::new(),
        }
    }

    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Text as one log-safe line: control characters, quotes and backslashes
/// escaped, so nothing a client sends can forge or break a line.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_parameter_is_refused_by_name() {
        let params = Params::parse(b"a=1&b=2&b=3&c=");
        assert_eq!(params.one("a"), Ok(Some("1")));
        assert!(params.one("b").unwrap_err().contains("`b`"));
        assert_eq!(params.required("c"), Err("`c` is missing".into()));
        assert_eq!(params.one("d"), Ok(None));
    }

    #[test]
    fn log_text_cannot_hold_a_line_break() {
        assert_eq!(
            escape("/a\r\nINFO x\u{1b}[1m\"\\"),
            "/a\\u{d}\\u{a}INFO x\\u{1b}[1m\\\"\\\\"
        );
    }
}
