//! Rust identifiers for MCP names: the method and field names, and the
//! arguments type names, that the generated code uses.

/// The longest Rust identifier generated for a tool.
const MAX_IDENT: usize = 48;

/// Method names the generated server struct already has.
const RESERVED_METHODS: [&str; 6] = [
    "new",
    "tool_router",
    "get_info",
    "call_tool",
    "list_tools",
    "get_tool",
];

/// rmcp derives `<method>_tool_attr` from a tool's method name, so a keyword
/// or a taken name gets a `_tool` suffix rather than a trailing `_`, which
/// would make that name break the snake_case lint.
pub(super) fn tool_ident(name: &str) -> String {
    let mut ident = snake_case(name, "tool");
    // Long identifiers would make rustfmt break the generated signatures
    // differently per name; 48 characters keep every line within its width.
    if ident.len() > MAX_IDENT {
        ident.truncate(MAX_IDENT);
        ident.truncate(ident.trim_end_matches('_').len());
    }
    match ident.strip_suffix('_') {
        Some(keyword) => format!("{keyword}_tool"),
        None if RESERVED_METHODS.contains(&ident.as_str()) => format!("{ident}_tool"),
        None => ident,
    }
}

pub(super) fn argument_ident(name: &str) -> String {
    snake_case(name, "arg")
}

/// A snake_case Rust identifier for an MCP name: camelCase split, other
/// characters turned into `_`, a letter first, keywords suffixed with `_`.
fn snake_case(name: &str, prefix: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut previous: Option<char> = None;
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if previous.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit()) {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
        previous = Some(c);
    }
    let trimmed = out.trim_end_matches('_');
    let mut ident = if trimmed.starts_with(|c: char| c.is_ascii_alphabetic()) {
        trimmed.to_string()
    } else if trimmed.is_empty() {
        prefix.to_string()
    } else {
        format!("{prefix}_{trimmed}")
    };
    if is_keyword(&ident) {
        ident.push('_');
    }
    ident
}

fn camel_case(ident: &str) -> String {
    ident
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// Rust's strict and reserved keywords (2024 edition) and the ones that
/// cannot be raw identifiers.
pub(super) fn is_keyword(word: &str) -> bool {
    const KEYWORDS: [&str; 53] = [
        "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn",
        "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
        "return", "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe",
        "use", "where", "while", "async", "await", "dyn", "abstract", "become", "box", "do",
        "final", "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
        "gen", "union",
    ];
    KEYWORDS.contains(&word)
}

/// The arguments struct of a tool: its identifier in CamelCase, then `Args`.
pub(super) fn args_type(ident: &str) -> String {
    format!("{}Args", camel_case(ident))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_idents_are_snake_case_and_avoid_keywords() {
        assert_eq!(tool_ident("list_todos"), "list_todos");
        assert_eq!(tool_ident("listTodos"), "list_todos");
        assert_eq!(tool_ident("todo.list-all"), "todo_list_all");
        assert_eq!(tool_ident("type"), "type_tool");
        assert_eq!(tool_ident("self"), "self_tool");
        assert_eq!(tool_ident("new"), "new_tool");
        assert_eq!(tool_ident("42"), "tool_42");
        assert_eq!(tool_ident("-"), "tool");
        assert_eq!(
            tool_ident(&"ab_".repeat(40)),
            "ab_".repeat(16).trim_end_matches('_')
        );
        assert_eq!(camel_case("todo_list_all"), "TodoListAll");
    }
}
