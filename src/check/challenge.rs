//! A lenient parser for `WWW-Authenticate` (RFC 9110 11.6.1): challenges
//! with auth-params, quoted strings with escapes, several challenges per
//! header. It never fails: what it cannot read it skips.

/// One challenge: its scheme and its parameters (names in lower case).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Challenge {
    pub scheme: String,
    pub params: Vec<(String, String)>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The `Bearer` challenge among every `WWW-Authenticate` value, if any.
pub(crate) fn bearer(headers: &[String]) -> Option<Challenge> {
    headers
        .iter()
        .flat_map(|h| parse(h))
        .find(|c| c.scheme.eq_ignore_ascii_case("bearer"))
}

pub(crate) fn parse(header: &str) -> Vec<Challenge> {
    let mut cursor = Cursor {
        s: header.as_bytes(),
        i: 0,
    };
    let mut challenges = Vec::new();
    loop {
        cursor.skip(|b| b == b' ' || b == b'\t' || b == b',');
        if cursor.i >= cursor.s.len() {
            return challenges;
        }
        let scheme = cursor.token();
        if scheme.is_empty() {
            cursor.i += 1; // a stray character; step over it
            continue;
        }
        let mut challenge = Challenge {
            scheme,
            params: Vec::new(),
        };
        loop {
            cursor.skip_ws();
            let start = cursor.i;
            let name = cursor.token();
            if name.is_empty() {
                if cursor.peek() == Some(b',') {
                    cursor.i += 1;
                    continue;
                }
                break;
            }
            cursor.skip_ws();
            if cursor.peek() != Some(b'=') {
                // A token without '=' starts the next challenge.
                cursor.i = start;
                break;
            }
            cursor.i += 1;
            cursor.skip_ws();
            let value = if cursor.peek() == Some(b'"') {
                cursor.i += 1;
                cursor.quoted()
            } else {
                // Lenient: an unquoted URL is not a token, but servers send them.
                cursor.bare()
            };
            challenge.params.push((name.to_ascii_lowercase(), value));
        }
        challenges.push(challenge);
    }
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip(&mut self, what: impl Fn(u8) -> bool) {
        while self.peek().is_some_and(&what) {
            self.i += 1;
        }
    }

    fn skip_ws(&mut self) {
        self.skip(|b| b == b' ' || b == b'\t');
    }

    fn token(&mut self) -> String {
        let start = self.i;
        self.skip(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    /// An unquoted value: everything up to a comma or white space.
    fn bare(&mut self) -> String {
        let start = self.i;
        self.skip(|b| !matches!(b, b',' | b' ' | b'\t'));
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    /// The rest of a quoted string whose opening quote was consumed.
    fn quoted(&mut self) -> String {
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(escaped) = self.peek() {
                        out.push(escaped);
                        self.i += 1;
                    }
                }
                _ => out.push(b),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn reads_a_bearer_challenge_with_quoted_params() {
        let header = r#"Bearer resource_metadata="https://x/.well-known/oauth-protected-resource/mcp", scope="a b""#;
        let challenge = bearer(&[header.to_string()]).unwrap();
        assert_eq!(
            challenge.param("resource_metadata"),
            Some("https://x/.well-known/oauth-protected-resource/mcp")
        );
        assert_eq!(challenge.param("scope"), Some("a b"));
    }

    #[test]
    fn finds_bearer_among_several_challenges_and_unescapes() {
        let header =
            r#"Basic realm="a, b", bearer error=invalid_token, error_description="say \"no\"""#;
        let challenges = parse(header);
        assert_eq!(challenges.len(), 2);
        assert_eq!(challenges[0].param("realm"), Some("a, b"));
        let challenge = bearer(&[header.to_string()]).unwrap();
        assert_eq!(challenge.param("error"), Some("invalid_token"));
        let unquoted = bearer(&["Bearer resource_metadata=https://x/m, scope=a".to_string()]);
        assert_eq!(
            unquoted.unwrap().param("resource_metadata"),
            Some("https://x/m")
        );
        assert_eq!(challenge.param("error_description"), Some(r#"say "no""#));
    }

    #[test]
    fn survives_junk() {
        for header in [
            "",
            "=",
            "Bearer abc==",
            "Bearer \"unterminated",
            ",,, ,",
            "Bearer x=\"\\",
        ] {
            let _ = parse(header);
        }
        assert_eq!(
            parse("Bearer"),
            vec![Challenge {
                scheme: "Bearer".into(),
                params: vec![]
            }]
        );
    }

    /// A `token` of RFC 9110: what scheme and parameter names are made of.
    fn token() -> impl Strategy<Value = String> {
        "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}"
    }

    /// Challenges as a server writes them: quoted values with any printable
    /// text, quotes and backslashes escaped.
    fn challenges() -> impl Strategy<Value = Vec<Challenge>> {
        let param = (token(), "[ -~]{0,40}");
        let challenge =
            (token(), prop::collection::vec(param, 0..5)).prop_map(|(scheme, params)| Challenge {
                scheme,
                params: params
                    .into_iter()
                    .map(|(name, value)| (name.to_ascii_lowercase(), value))
                    .collect(),
            });
        prop::collection::vec(challenge, 1..4)
    }

    fn write(challenges: &[Challenge]) -> String {
        challenges
            .iter()
            .map(|challenge| {
                let params: Vec<String> = challenge
                    .params
                    .iter()
                    .map(|(name, value)| {
                        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
                        format!("{name}=\"{escaped}\"")
                    })
                    .collect();
                if params.is_empty() {
                    challenge.scheme.clone()
                } else {
                    format!("{} {}", challenge.scheme, params.join(", "))
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    proptest! {
        /// Whatever a server sends, the parser returns: no panic, no loop.
        #[test]
        fn any_header_is_parsed_without_panic(header in any::<String>()) {
            let challenges = parse(&header);
            prop_assert!(challenges.len() <= header.len());
        }

        /// What a server writes by the grammar is read back exactly.
        #[test]
        fn well_formed_challenges_are_read_back(challenges in challenges()) {
            prop_assert_eq!(parse(&write(&challenges)), challenges);
        }
    }
}
