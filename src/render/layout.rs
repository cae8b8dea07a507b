//! Rust laid out the way rustfmt lays it out. rustfmt's choice between one
//! line and several depends on widths, so generated code whose text varies
//! (descriptions, names, URLs) is laid out here by the same rules, and passes
//! `cargo fmt --check` at any length (`tests/layout.rs` holds these to
//! rustfmt itself).

use unicode_width::UnicodeWidthStr;

/// rustfmt's `max_width`.
const MAX_WIDTH: usize = 100;

/// An attribute such as `#[tool(name = "x", description = "y")]` at `indent`,
/// laid out the way rustfmt lays it out (one line when it fits its width
/// rules, one item per line otherwise), so generated code passes
/// `cargo fmt --check` whatever the length of the text in it.
pub fn attribute(indent: usize, path: &str, items: &[String]) -> String {
    // rustfmt's `attr_fn_like_width` default.
    const ARGS_WIDTH: usize = 70;
    let pad = " ".repeat(indent);
    let args = items.join(", ");
    let line = format!("{pad}#[{path}({args})]");
    let fits = line.width() < MAX_WIDTH && (items.len() < 2 || args.width() <= ARGS_WIDTH);
    if fits {
        line
    } else {
        format!(
            "{pad}#[{path}(\n{pad}    {}\n{pad})]",
            items.join(&format!(",\n{pad}    "))
        )
    }
}

/// rustfmt's `array_width`: the most an array's items may take on one line.
const ARRAY_WIDTH: usize = 60;
/// rustfmt's `short_array_element_width_threshold`: arrays of items no wider
/// than this are packed several to a line when they break.
const SHORT_ITEM: usize = 10;

/// A struct field holding a slice of string literals, `field: &["a", "b"],`
/// at `indent`. rustfmt keeps an array on one line when the line fits and
/// its items fit `array_width` (a single item always does); otherwise it
/// packs items several to a line when every one is short, else puts one per
/// line.
pub fn slice_field(indent: usize, field: &str, items: &[&str]) -> String {
    let pad = " ".repeat(indent);
    let literals: Vec<String> = items.iter().map(|item| super::rust_str(item)).collect();
    let inner = literals.join(", ");
    let line = format!("{pad}{field}: &[{inner}],");
    if (literals.len() < 2 || inner.width() <= ARRAY_WIDTH) && line.width() <= MAX_WIDTH {
        return line;
    }
    let item_pad = " ".repeat(indent + 4);
    let lines = if literals.iter().all(|l| l.width() <= SHORT_ITEM) {
        let mut lines: Vec<String> = Vec::new();
        let mut current = String::new();
        for (i, literal) in literals.iter().enumerate() {
            let candidate = if current.is_empty() {
                format!("{item_pad}{literal},")
            } else {
                format!("{current} {literal},")
            };
            // rustfmt counts the separator after an item (", "), and only a
            // comma after the last one.
            let limit = if i + 1 == literals.len() {
                MAX_WIDTH
            } else {
                MAX_WIDTH - 1
            };
            if current.is_empty() || candidate.width() <= limit {
                current = candidate;
            } else {
                lines.push(std::mem::take(&mut current));
                current = format!("{item_pad}{literal},");
            }
        }
        lines.push(current);
        lines
    } else {
        literals
            .iter()
            .map(|literal| format!("{item_pad}{literal},"))
            .collect()
    };
    format!("{pad}{field}: &[\n{}\n{pad}],", lines.join("\n"))
}

/// A struct field holding an optional string literal, `field: Some("x"),` or
/// `field: None,` at `indent`; rustfmt moves the literal to a line of its own
/// when the line is too wide.
pub fn option_field(indent: usize, field: &str, value: Option<&str>) -> String {
    let pad = " ".repeat(indent);
    let Some(value) = value else {
        return format!("{pad}{field}: None,");
    };
    let literal = super::rust_str(value);
    let line = format!("{pad}{field}: Some({literal}),");
    if line.width() <= MAX_WIDTH {
        line
    } else {
        format!("{pad}{field}: Some(\n{pad}    {literal},\n{pad}),")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slice_that_fits_stays_on_one_line() {
        assert_eq!(slice_field(8, "scopes", &[]), "        scopes: &[],");
        assert_eq!(
            slice_field(8, "scopes", &["a", "b"]),
            r#"        scopes: &["a", "b"],"#
        );
    }

    #[test]
    fn a_long_slice_breaks_one_per_line_or_packed_when_short() {
        let long = ["x".repeat(30), "y".repeat(30)];
        let long: Vec<&str> = long.iter().map(String::as_str).collect();
        assert_eq!(
            slice_field(4, "audience", &long),
            format!(
                "    audience: &[\n        \"{}\",\n        \"{}\",\n    ],",
                long[0], long[1]
            )
        );
        let short = vec!["aaaaaaaa"; 8];
        let packed = slice_field(8, "scopes", &short);
        let lines: Vec<&str> = packed.lines().collect();
        assert_eq!(lines.len(), 4, "{packed}");
        assert_eq!(lines[1].matches("aaaaaaaa").count(), 7, "{packed}");
    }

    #[test]
    fn an_option_breaks_only_when_too_wide() {
        assert_eq!(option_field(4, "doc", None), "    doc: None,");
        assert_eq!(option_field(4, "doc", Some("u")), r#"    doc: Some("u"),"#);
        let url = "u".repeat(100);
        assert_eq!(
            option_field(4, "doc", Some(&url)),
            format!("    doc: Some(\n        \"{url}\",\n    ),")
        );
    }
}
