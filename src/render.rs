//! Rendering: the embedded templates plus a validated [`Project`] give the
//! generated files, in memory.
//!
//! Templates receive plain values decided here, and every piece of free text
//! goes through a filter made for the place it lands in, so nothing a user
//! types can break or inject into generated code.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use include_dir::{Dir, DirEntry, include_dir};
use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;
use url::Url;

use crate::answers::Project;

static TEMPLATES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// The suffix that marks a template; it is removed from the generated path.
const TEMPLATE_SUFFIX: &str = ".jinja";

/// This generator's version, recorded in generated projects.
pub const GENERATOR_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The generated files, by path relative to the project root, in a stable
/// order.
pub type Files = BTreeMap<PathBuf, Vec<u8>>;

/// Renders every template for `project`.
pub fn render(project: &Project) -> Result<Files> {
    let env = environment()?;
    let context = Context::new(project)?;
    let mut files = Files::new();
    for (name, _) in templates() {
        let template = env.get_template(name)?;
        let text = template
            .render(Serde(&context))
            .with_context(|| format!("rendering template {name}"))?;
        let path = name.strip_suffix(TEMPLATE_SUFFIX).unwrap_or(name);
        files.insert(PathBuf::from(path), text.into_bytes());
    }
    Ok(files)
}

fn templates() -> Vec<(&'static str, &'static str)> {
    fn walk(dir: &'static Dir<'static>, out: &mut Vec<(&'static str, &'static str)>) {
        for entry in dir.entries() {
            match entry {
                DirEntry::Dir(dir) => walk(dir, out),
                DirEntry::File(file) => {
                    if let (Some(name), Some(text)) = (file.path().to_str(), file.contents_utf8())
                        && name.ends_with(TEMPLATE_SUFFIX)
                    {
                        out.push((name, text));
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(&TEMPLATES, &mut out);
    out.sort();
    out
}

fn environment() -> Result<Environment<'static>> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(
        SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .context("configuring the template syntax")?,
    );
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.add_filter("rust_str", |s: &str| rust_str(s));
    env.add_filter("doc", |s: &str, prefix: &str| doc(s, prefix));
    env.add_filter("toml_str", |s: &str| toml_str(s));
    env.add_filter("md", |s: &str| markdown(s));
    env.add_filter("json_str", |s: &str| json_str(s));
    for (name, text) in templates() {
        env.add_template(name, text)
            .with_context(|| format!("parsing template {name}"))?;
    }
    Ok(env)
}

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
            let escaped = markdown_line(line.trim_start());
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
        .map(|line| markdown_line(line.trim_start()))
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

/// What the templates see. Everything is decided here; templates only place
/// values.
#[derive(Debug, Serialize)]
struct Context<'a> {
    generator_version: &'static str,
    name: &'a str,
    crate_name: String,
    description: Option<&'a str>,
    /// The description, or a sentence made from the name when there is none.
    summary: String,
    server_url: &'a str,
    mcp_path: &'a str,
    resource: &'a str,
    environment_url: &'a str,
    resource_id: &'a str,
    audience: &'a [String],
    audience_joined: String,
    resource_documentation: Option<&'a str>,
    port: u16,
    /// `<environment_url>/resources/<resource_id>`.
    authorization_server: String,
    /// The RFC 9728 metadata URL for `resource`.
    metadata_url: String,
    /// The public URL of the MCP endpoint.
    endpoint_url: String,
    scopes: Vec<ScopeContext<'a>>,
    scopes_joined: String,
    tools: Vec<ToolContext<'a>>,
    /// The recorded answers, as YAML.
    answers_yaml: String,
}

#[derive(Debug, Serialize)]
struct ScopeContext<'a> {
    name: &'a str,
    description: Option<&'a str>,
    includes: &'a [String],
}

#[derive(Debug, Serialize)]
struct ToolContext<'a> {
    name: &'a str,
    ident: &'a str,
    args_type: &'a str,
    description: Option<&'a str>,
    scopes: &'a [String],
    scopes_joined: String,
    arguments: Vec<ArgumentContext<'a>>,
}

#[derive(Debug, Serialize)]
struct ArgumentContext<'a> {
    name: &'a str,
    ident: &'a str,
    /// The Rust type of the field, `Option<..>` when not required.
    rust_type: String,
    json_type: &'static str,
    description: Option<&'a str>,
    required: bool,
    /// Whether the field needs `#[serde(rename)]`.
    renamed: bool,
    /// A sample JSON value for tests and docs.
    sample: &'static str,
}

impl<'a> Context<'a> {
    fn new(project: &'a Project) -> Result<Self> {
        let endpoint_url = crate::answers::default_resource(&project.server_url, &project.mcp_path);
        let answers_yaml =
            serde_yaml::to_string(&project.to_answers()).context("serialising the answers")?;
        Ok(Context {
            generator_version: GENERATOR_VERSION,
            name: &project.name,
            crate_name: project.name.replace('-', "_"),
            description: project.description.as_deref(),
            summary: project
                .description
                .clone()
                .unwrap_or_else(|| format!("The {} MCP server.", project.name)),
            server_url: &project.server_url,
            mcp_path: &project.mcp_path,
            resource: &project.resource,
            environment_url: &project.environment_url,
            resource_id: &project.resource_id,
            audience: &project.audience,
            audience_joined: project.audience.join(","),
            resource_documentation: project.resource_documentation.as_deref(),
            port: project.port,
            authorization_server: format!(
                "{}/resources/{}",
                project.environment_url.trim_end_matches('/'),
                project.resource_id
            ),
            metadata_url: metadata_url(&project.resource)?,
            endpoint_url,
            scopes: project
                .scopes
                .iter()
                .map(|s| ScopeContext {
                    name: &s.name,
                    description: s.description.as_deref(),
                    includes: &s.includes,
                })
                .collect(),
            scopes_joined: project
                .scopes
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            tools: project
                .tools
                .iter()
                .map(|t| ToolContext {
                    name: &t.name,
                    ident: &t.ident,
                    args_type: &t.args_type,
                    description: t.description.as_deref(),
                    scopes: &t.scopes,
                    scopes_joined: t.scopes.join(" "),
                    arguments: t
                        .arguments
                        .iter()
                        .map(|a| {
                            let ty = a.ty.rust_type();
                            ArgumentContext {
                                name: &a.name,
                                ident: &a.ident,
                                rust_type: if a.required {
                                    ty.to_string()
                                } else {
                                    format!("Option<{ty}>")
                                },
                                json_type: a.ty.as_str(),
                                description: a.description.as_deref(),
                                required: a.required,
                                renamed: a.ident != a.name,
                                sample: match a.ty {
                                    crate::answers::ArgType::String => "\"example\"",
                                    crate::answers::ArgType::Integer => "1",
                                    crate::answers::ArgType::Number => "1.5",
                                    crate::answers::ArgType::Boolean => "true",
                                },
                            }
                        })
                        .collect(),
                })
                .collect(),
            answers_yaml,
        })
    }
}

/// RFC 9728 section 3.1: the well-known segment goes between the origin and
/// the resource's path.
pub fn metadata_url(resource: &str) -> Result<String> {
    let url = Url::parse(resource).context("parsing the resource URL")?;
    let path = url.path().trim_end_matches('/');
    Ok(format!(
        "{}/.well-known/oauth-protected-resource{path}",
        url.origin().ascii_serialization()
    ))
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
    }

    #[test]
    fn toml_and_json_strings_escape_quotes_and_controls() {
        assert_eq!(toml_str("a\"\\\n"), r#""a\"\\\n""#);
        assert_eq!(json_str("a\"\\\n"), r#""a\"\\\n""#);
    }

    #[test]
    fn metadata_url_inserts_the_well_known_segment() {
        assert_eq!(
            metadata_url("https://mcp.example.com/mcp").unwrap(),
            "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            metadata_url("https://mcp.example.com").unwrap(),
            "https://mcp.example.com/.well-known/oauth-protected-resource"
        );
    }
}
