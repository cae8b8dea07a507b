//! The kinds of file whose entries [`super::resolve`] reads, and how each
//! names an entry's key, what sits above an entry, and which other keys share
//! its scope.

use std::path::Path;

/// A kind of file with keyed, one-line entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// `key = value` lines of a TOML table.
    Toml,
    /// `mod name;` declarations, kept in rustfmt's sorted order.
    Rust,
    /// `NAME=value` lines of a `.env` file.
    Env,
    /// `key: scalar` lines of one YAML block mapping.
    Yaml,
}

impl Syntax {
    /// The syntax of the file at `path`, if it is one this reads.
    pub fn of(path: &Path) -> Option<Syntax> {
        let name = path.file_name()?.to_str()?;
        if name == ".env" || name.starts_with(".env.") {
            return Some(Syntax::Env);
        }
        match path.extension()?.to_str()? {
            "toml" => Some(Syntax::Toml),
            "rs" => Some(Syntax::Rust),
            "yaml" | "yml" => Some(Syntax::Yaml),
            _ => None,
        }
    }

    /// The key of an entry's own line, or `None` when `line` is not one. A
    /// YAML key carries its indentation, so only one mapping's keys match.
    pub fn key_of(self, line: &str) -> Option<String> {
        match self {
            Syntax::Toml => toml_key(line),
            Syntax::Rust => rust_module(line),
            Syntax::Env => env_key(line),
            Syntax::Yaml => yaml_key(line),
        }
    }

    /// A line that belongs to the entry below it: blank, a comment, or in
    /// Rust an outer attribute on one line.
    pub fn is_trivia(self, line: &str) -> bool {
        let line = line.trim();
        match self {
            Syntax::Toml | Syntax::Env | Syntax::Yaml => line.is_empty() || line.starts_with('#'),
            Syntax::Rust => {
                line.is_empty()
                    || line.starts_with("//")
                    || (line.starts_with("#[") && line.ends_with(']'))
            }
        }
    }

    /// Whether merged entries are put in key order (rustfmt sorts `mod`s).
    pub fn sorted(self) -> bool {
        self == Syntax::Rust
    }

    /// The keys that share a scope with entries `keys` placed at
    /// `lines[start..end]`, outside that range: the TOML table, the YAML
    /// mapping, the whole Rust or `.env` file. `None` when the place is not
    /// one where such entries can stand.
    pub fn keys_around(
        self,
        lines: &[&str],
        start: usize,
        end: usize,
        keys: &[String],
    ) -> Option<Vec<String>> {
        let (first, last) = match self {
            Syntax::Toml => (
                (0..start)
                    .rev()
                    .find(|&i| is_header(lines[i]))
                    .map_or(0, |i| i + 1),
                (end..lines.len())
                    .find(|&i| is_header(lines[i]))
                    .unwrap_or(lines.len()),
            ),
            Syntax::Rust | Syntax::Env => (0, lines.len()),
            Syntax::Yaml => yaml_mapping(lines, start, end, keys)?,
        };
        Some(
            lines[first..start]
                .iter()
                .chain(&lines[end..last])
                .filter_map(|line| self.key_of(line))
                .collect(),
        )
    }
}

/// A `[table]` or `[[array]]` header line.
fn is_header(line: &str) -> bool {
    let line = line.split('#').next().unwrap_or_default().trim();
    line.starts_with('[') && line.ends_with(']')
}

/// The key of a one-line TOML entry (bare keys, dotted or not, spaces around
/// the dots removed), or `None` when the line is not one.
fn toml_key(line: &str) -> Option<String> {
    let (key, value) = line.split_once('=')?;
    let parts: Vec<&str> = key.split('.').map(str::trim).collect();
    let bare = |part: &&str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    (parts.iter().all(bare) && one_line_value(value)).then(|| parts.join("."))
}

/// Whether `value` is a whole TOML value on its own line: strings closed,
/// brackets and braces balanced, no multi-line string.
fn one_line_value(value: &str) -> bool {
    let value = value.trim();
    if value.is_empty() || value.starts_with("\"\"\"") || value.starts_with("'''") {
        return false;
    }
    let mut depth: i32 = 0;
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' if !closes_basic(&mut chars) => return false,
            // A literal string has no escapes: the next quote closes it.
            '\'' if !chars.by_ref().any(|c| c == '\'') => return false,
            '[' | '{' => depth += 1,
            ']' | '}' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            '#' => break,
            _ => {}
        }
    }
    depth == 0
}

/// Reads a double-quoted string after its opening quote, escapes included;
/// whether its closing quote came.
fn closes_basic(chars: &mut std::str::Chars<'_>) -> bool {
    while let Some(c) = chars.next() {
        match c {
            '"' => return true,
            '\\' => {
                chars.next();
            }
            _ => {}
        }
    }
    false
}

/// The name a `mod name;` line declares, with any visibility, or `None` when
/// the line is not one.
fn rust_module(line: &str) -> Option<String> {
    let mut rest = line.trim().strip_suffix(';')?.trim_end();
    if let Some(after) = rest.strip_prefix("pub") {
        rest = match after.strip_prefix('(') {
            Some(scope) => scope.split_once(')')?.1,
            None => after,
        };
        rest = rest.strip_prefix(char::is_whitespace)?.trim_start();
    }
    let name = rest.strip_prefix("mod")?;
    let name = name.strip_prefix(char::is_whitespace)?.trim();
    is_identifier(name).then(|| name.to_string())
}

/// A name of letters, digits and underscores that does not start with a digit.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The variable a `NAME=value` line (or `export NAME=value`) sets, or `None`
/// when the line is not one, or its quoted value goes on past the line.
fn env_key(line: &str) -> Option<String> {
    let line = line.trim_start();
    let line = line.strip_prefix("export ").unwrap_or(line);
    let (name, value) = line.split_once('=')?;
    let mut chars = value.chars();
    let closed = match chars.next() {
        Some('"') => closes_basic(&mut chars),
        Some('\'') => chars.any(|c| c == '\''),
        _ => true,
    };
    (is_identifier(name) && closed).then(|| name.to_string())
}

/// The key of a `key: scalar` line, its indentation in front, or `None` when
/// the line is not one: the value must be a plain or quoted scalar that ends
/// on the line (no block scalar, flow collection, anchor, alias or tag).
fn yaml_key(line: &str) -> Option<String> {
    let (key, value) = yaml_name(line)?;
    let mut chars = value.trim().chars();
    let ends = |rest: &str| {
        let rest = rest.trim_start();
        rest.is_empty() || rest.starts_with('#')
    };
    let whole = match chars.next()? {
        '"' => closes_basic(&mut chars) && ends(chars.as_str()),
        '\'' => closes_single(&mut chars) && ends(chars.as_str()),
        first => !"|>&*!%@`[]{}-?:,#".contains(first),
    };
    whole.then(|| key.to_string())
}

/// Reads a YAML single-quoted string after its opening quote (`''` is a
/// quote inside it); whether its closing quote came.
fn closes_single(chars: &mut std::str::Chars<'_>) -> bool {
    while let Some(c) = chars.next() {
        if c == '\'' {
            if !chars.as_str().starts_with('\'') {
                return true;
            }
            chars.next();
        }
    }
    false
}

/// A mapping key line's key (with its indentation) and the text after `:`.
fn yaml_name(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once(':')?;
    let name = key.trim_start();
    let plain = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    (plain && !name.is_empty() && (value.is_empty() || value.starts_with(' ')))
        .then_some((key, value))
}

/// The lines `first..last` of the block mapping that holds entries `keys`
/// at `lines[start..end]`: up and down to where a line is less indented.
/// `None` unless the entries share one indentation and the line that opens
/// the mapping is a `key:` or a `- ` item (not a block scalar's `|`), and
/// nothing below the range is indented deeper (a plain scalar going on).
fn yaml_mapping(
    lines: &[&str],
    start: usize,
    end: usize,
    keys: &[String],
) -> Option<(usize, usize)> {
    let indent = |line: &str| line.len() - line.trim_start().len();
    let level = indent(keys.first()?);
    if keys.iter().any(|key| indent(key) != level) {
        return None;
    }
    let content = |i: &usize| {
        let line = lines[*i].trim();
        !line.is_empty() && !line.starts_with('#') && !super::is_marker(lines[*i])
    };
    let parent = (0..start)
        .rev()
        .filter(content)
        .find(|&i| indent(lines[i]) < level);
    if let Some(parent) = parent {
        let opener = lines[parent].split(" #").next().unwrap_or_default().trim();
        if !(opener.ends_with(':') || opener.starts_with("- ")) {
            return None;
        }
    }
    if (end..lines.len())
        .find(content)
        .is_some_and(|next| indent(lines[next]) > level)
    {
        return None;
    }
    let last = (end..lines.len())
        .filter(content)
        .find(|&i| indent(lines[i]) < level)
        .unwrap_or(lines.len());
    Some((parent.map_or(0, |i| i + 1), last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_read_by_name() {
        for (path, syntax) in [
            ("Cargo.toml", Some(Syntax::Toml)),
            ("src/lib.rs", Some(Syntax::Rust)),
            (".env.example", Some(Syntax::Env)),
            ("deploy/kubernetes/configmap.yaml", Some(Syntax::Yaml)),
            (".github/workflows/ci.yml", Some(Syntax::Yaml)),
            ("README.md", None),
            ("Dockerfile", None),
            ("environment", None),
        ] {
            assert_eq!(Syntax::of(Path::new(path)), syntax, "{path}");
        }
    }

    #[test]
    fn toml_values_are_read_to_their_end() {
        assert!(one_line_value(
            " { version = \"1\", features = [\"a\", \"b]\"] } # [x"
        ));
        assert!(one_line_value(" 'C:\\path' "));
        assert!(one_line_value(" \"say \\\"hi\\\"\""));
        assert!(!one_line_value(" [\"a\","));
        assert!(!one_line_value(" \"open"));
        assert!(!one_line_value(" '''"));
        assert!(!one_line_value(" ] ["));
        assert_eq!(toml_key("a . b-c = 1").as_deref(), Some("a.b-c"));
        assert_eq!(toml_key("a b = 1"), None);
    }

    #[test]
    fn module_lines_are_read_with_any_visibility() {
        for (line, name) in [
            ("mod a;", Some("a")),
            ("  pub mod b_2 ;", Some("b_2")),
            ("pub(crate) mod c;", Some("c")),
            ("pub(in crate::x) mod d;", Some("d")),
            ("pubmod e;", None),
            ("module f;", None),
            ("mod g {", None),
            ("mod 9h;", None),
            ("use a::b;", None),
        ] {
            assert_eq!(rust_module(line).as_deref(), name, "{line}");
        }
    }

    #[test]
    fn env_lines_are_read_when_their_value_ends_on_the_line() {
        for (line, name) in [
            ("DATABASE_URL=postgres://db/todos", Some("DATABASE_URL")),
            ("export MCP_STATELESS=true", Some("MCP_STATELESS")),
            ("EMPTY=", Some("EMPTY")),
            ("QUOTED=\"a \\\" b\"", Some("QUOTED")),
            ("OPEN=\"goes on", None),
            ("SINGLE='goes on", None),
            ("9LIVES=1", None),
            ("NOT A=1", None),
            ("# NAME=1", None),
        ] {
            assert_eq!(env_key(line).as_deref(), name, "{line}");
        }
    }

    #[test]
    fn yaml_lines_are_read_when_their_scalar_ends_on_the_line() {
        for (line, key) in [
            ("  MCP_STATELESS: \"true\"", Some("  MCP_STATELESS")),
            ("replicas: 2 # at least", Some("replicas")),
            ("    memory: 64Mi", Some("    memory")),
            ("  name: 'it''s'", Some("  name")),
            ("  script: |", None),
            ("  list: [a, b]", None),
            ("  anchor: &a 1", None),
            ("  nested:", None),
            ("  - name: x", None),
            ("  url: http://x", Some("  url")),
            ("  open: \"goes on", None),
            ("  a b: 1", None),
        ] {
            assert_eq!(yaml_key(line).as_deref(), key, "{line}");
        }
    }
}
