//! Filters that put free text where it lands in a generated file: a Rust
//! string, a doc comment, TOML, JSON or Markdown, each escaped for its place.

/// A Rust string literal, quotes included. `{:?}` on `str` escapes exactly
/// what Rust's lexer needs (quotes, backslashes, control characters).
pub fn rust_str(text: &str) -> String {
    format!("{text:?}")
}

/// Doc-comment lines (`///` or `//!`) holding `text` as plain Markdown text:
/// Markdown syntax is escaped so the text reads as written in rustdoc and
/// clippy's doc lints find no list, code block or link to judge.
pub fn doc(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|line| {
            // clippy refuses tabs in doc comments; the entity renders as one.
            let escaped = markdown_line(line).replace('\t', "&#9;");
            if escaped.is_empty() {
                prefix.to_string()
            } else {
                format!("{prefix} {escaped}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A TOML basic string, quotes included.
pub fn toml_str(text: &str) -> String {
    quoted(text, |c| format!("\\u{c:04X}"))
}

/// A JSON string, quotes included.
pub fn json_str(text: &str) -> String {
    quoted(text, |c| format!("\\u{c:04x}"))
}

/// A double-quoted string with the escapes TOML and JSON share; other control
/// characters are written with `escape_control`.
fn quoted(text: &str, escape_control: fn(u32) -> String) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&escape_control(u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Markdown text that renders as written: syntax characters are escaped and
/// line breaks become `<br>`, so the text can stand in a paragraph, a list
/// item or a table cell without changing the document's structure.
pub fn markdown(text: &str) -> String {
    text.lines()
        .map(markdown_line)
        .collect::<Vec<_>>()
        .join("<br>")
}

fn markdown_line(line: &str) -> String {
    let line = line.trim();
    let mut out = String::with_capacity(line.len() + 8);
    // At the start of a line these begin a heading, list, rule or setext
    // underline; an ordered list is digits then `.` or `)`.
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    for (i, c) in line.chars().enumerate() {
        let block_start =
            (i == 0 && "#-+=".contains(c)) || (i == digits && digits > 0 && (c == '.' || c == ')'));
        if block_start || "\\`*_[]<>|~&".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_str_escapes_what_the_lexer_needs() {
        assert_eq!(rust_str(r#"a "b" \c"#), r#""a \"b\" \\c""#);
        assert_eq!(rust_str("x\ny"), r#""x\ny""#);
        assert_eq!(rust_str("{{ */ é"), r#""{{ */ é""#);
    }

    #[test]
    fn markdown_escapes_structure() {
        assert_eq!(markdown("- a *b*\n# c"), r"\- a \*b\*<br>\# c");
        assert_eq!(doc("1. x\n\n    code", "///"), "/// 1\\. x\n///\n/// code");
        assert_eq!(doc("a\tb", "//!"), "//! a&#9;b");
    }

    #[test]
    fn toml_and_json_strings_escape_quotes_and_controls() {
        assert_eq!(toml_str("a\"\\\n"), r#""a\"\\\n""#);
        assert_eq!(json_str("a\"\\\n"), r#""a\"\\\n""#);
    }
}
