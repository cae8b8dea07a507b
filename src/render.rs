//! Rendering: the embedded templates plus a validated [`Project`] give the
//! generated files, in memory.
//!
//! Templates receive plain values decided here, and every piece of free text
//! goes through a filter made for the place it lands in, so nothing a user
//! types can break or inject into generated code.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use include_dir::{Dir, DirEntry, include_dir};
use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;
use url::Url;

use std::collections::BTreeSet;

use unicode_width::UnicodeWidthStr;

use crate::answers::{ArgType, Argument, Project, Tool};

static TEMPLATES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// The suffix that marks a template; it is removed from the generated path.
const TEMPLATE_SUFFIX: &str = ".jinja";

/// This generator's version, recorded in generated projects.
pub const GENERATOR_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The generated files, by path relative to the project root, in a stable
/// order.
pub type Files = BTreeMap<PathBuf, Vec<u8>>;

/// Renders every template of this generator for `project`.
pub fn render(project: &Project) -> Result<Files> {
    Templates::embedded().render(project)
}

/// A template set: the files under `templates/` and the generator version
/// they belong to. This generator's own set is embedded in the binary; tests
/// load others (an older set, say) from a directory.
pub struct Templates {
    version: String,
    files: Vec<(String, Cow<'static, [u8]>)>,
}

impl Templates {
    /// The templates built into this generator.
    pub fn embedded() -> Self {
        fn walk(dir: &'static Dir<'static>, out: &mut Vec<(String, Cow<'static, [u8]>)>) {
            for entry in dir.entries() {
                match entry {
                    DirEntry::Dir(dir) => walk(dir, out),
                    DirEntry::File(file) => {
                        if let Some(name) = file.path().to_str() {
                            out.push((name.to_string(), Cow::Borrowed(file.contents())));
                        }
                    }
                }
            }
        }
        let mut files = Vec::new();
        walk(&TEMPLATES, &mut files);
        files.sort();
        Templates {
            version: GENERATOR_VERSION.to_string(),
            files,
        }
    }

    /// The templates in `dir`, laid out as `templates/` is, labelled `version`.
    pub fn from_dir(dir: &Path, version: &str) -> Result<Self> {
        fn walk(
            root: &Path,
            dir: &Path,
            out: &mut Vec<(String, Cow<'static, [u8]>)>,
        ) -> Result<()> {
            for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
                let path = entry?.path();
                if path.is_dir() {
                    walk(root, &path, out)?;
                } else {
                    let name = path
                        .strip_prefix(root)?
                        .to_str()
                        .context("template paths must be UTF-8")?
                        .replace('\\', "/");
                    out.push((name, Cow::Owned(fs::read(&path)?)));
                }
            }
            Ok(())
        }
        let mut files = Vec::new();
        walk(dir, dir, &mut files)?;
        files.sort();
        Ok(Templates {
            version: version.to_string(),
            files,
        })
    }

    /// The generator version these templates belong to.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Renders every template for `project`. Files ending in `.jinja` are
    /// rendered (and lose the suffix); the others are the same in every
    /// project and are copied as they are.
    pub fn render(&self, project: &Project) -> Result<Files> {
        let env = self.environment()?;
        let context = Context::new(project, &self.version)?;
        let mut files = Files::new();
        for (name, contents) in &self.files {
            match name.strip_suffix(TEMPLATE_SUFFIX) {
                Some(path) => {
                    let text = env
                        .get_template(name)?
                        .render(Serde(&context))
                        .with_context(|| format!("rendering template {name}"))?;
                    // A template that renders to nothing does not apply to this
                    // project (e.g. the tool tests of a server without tools).
                    if !text.trim().is_empty() {
                        files.insert(PathBuf::from(path), text.into_bytes());
                    }
                }
                None => {
                    files.insert(PathBuf::from(name), contents.to_vec());
                }
            }
        }
        if let Some(lock) = files.get_mut(&PathBuf::from("Cargo.lock")) {
            let text = std::str::from_utf8(lock).context("Cargo.lock is not UTF-8")?;
            *lock = lockfile(text, &project.name)?.into_bytes();
        }
        Ok(files)
    }

    fn environment(&self) -> Result<Environment<'_>> {
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
        for (name, contents) in &self.files {
            if name.ends_with(TEMPLATE_SUFFIX) {
                let text = std::str::from_utf8(contents)
                    .with_context(|| format!("template {name} is not UTF-8"))?;
                env.add_template(name, text)
                    .with_context(|| format!("parsing template {name}"))?;
            }
        }
        Ok(env)
    }
}

/// The root package's name in `templates/Cargo.lock`.
const TEMPLATE_PACKAGE: &str = "todo-mcp";

/// The template's lockfile (the dependency versions every generated project
/// is tested with) with its root package renamed after the project and moved
/// to where Cargo sorts it, so that `cargo build --locked` accepts it.
fn lockfile(template: &str, name: &str) -> Result<String> {
    const SEPARATOR: &str = "\n[[package]]\n";
    let mut blocks: Vec<&str> = template.split(SEPARATOR).collect();
    let header = blocks.remove(0);
    let root_line = format!("name = \"{TEMPLATE_PACKAGE}\"\n");
    let root = blocks
        .iter()
        .position(|block| block.starts_with(&root_line) && !block.contains("\nsource = "))
        .context("templates/Cargo.lock has no root package")?;
    let renamed = blocks
        .remove(root)
        .replacen(&root_line, &format!("name = \"{name}\"\n"), 1);
    let package_name = |block: &str| {
        block
            .lines()
            .next()
            .and_then(|line| line.strip_prefix("name = \""))
            .and_then(|rest| rest.strip_suffix('"'))
            .unwrap_or_default()
            .to_string()
    };
    let at = blocks
        .iter()
        .position(|block| package_name(block).as_str() > name)
        .unwrap_or(blocks.len());
    blocks.insert(at, &renamed);
    Ok(std::iter::once(header)
        .chain(blocks)
        .collect::<Vec<_>>()
        .join(SEPARATOR))
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

/// What the templates see. Everything is decided here; templates only place
/// values.
#[derive(Debug, Serialize)]
struct Context<'a> {
    generator_version: &'a str,
    name: &'a str,
    description: Option<&'a str>,
    server_url: &'a str,
    mcp_path: &'a str,
    resource: &'a str,
    environment_url: &'a str,
    resource_id: &'a str,
    audience_joined: String,
    resource_documentation: Option<&'a str>,
    port: u16,
    /// `<environment_url>/resources/<resource_id>`.
    authorization_server: String,
    /// The public URL of the MCP endpoint.
    endpoint_url: String,
    scopes: Vec<ScopeContext<'a>>,
    tools: Vec<ToolContext<'a>>,
    /// Whether any tool needs a scope, and the index of the first that does.
    has_scoped_tools: bool,
    first_scoped_tool: usize,
    /// Whether some scope grants a tool's scopes through `includes`.
    has_hierarchy: bool,
    /// The 401 challenge without credentials, as the server sends it.
    challenge: String,
    /// The protected resource metadata, as the server sends it.
    metadata_json: String,
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
    scopes_joined: String,
    /// A declared scope that grants every scope of the tool through
    /// `includes`, if there is one.
    granted_by: Option<String>,
    /// Valid arguments for the tool, as JSON, for its tests.
    sample_arguments: String,
    /// The `#[tool(...)]` attribute, laid out as rustfmt would.
    attribute: String,
    arguments: Vec<ArgumentContext<'a>>,
}

#[derive(Debug, Serialize)]
struct ArgumentContext<'a> {
    ident: &'a str,
    /// The Rust type of the field, `Option<..>` when not required.
    rust_type: String,
    /// The field's `#[serde]` and `#[schemars]` attributes, laid out as
    /// rustfmt would.
    attributes: Vec<String>,
}

impl<'a> Context<'a> {
    fn new(project: &'a Project, generator_version: &'a str) -> Result<Self> {
        let endpoint_url = crate::answers::default_resource(&project.server_url, &project.mcp_path);
        let answers_yaml =
            serde_yaml::to_string(&project.to_answers()).context("serialising the answers")?;
        let first_scoped_tool = project.tools.iter().position(|t| !t.scopes.is_empty());
        Ok(Context {
            generator_version,
            name: &project.name,
            description: project.description.as_deref(),
            server_url: &project.server_url,
            mcp_path: &project.mcp_path,
            resource: &project.resource,
            environment_url: project.environment_url.trim_end_matches('/'),
            resource_id: &project.resource_id,
            audience_joined: project.audience.join(","),
            resource_documentation: project.resource_documentation.as_deref(),
            port: project.port,
            authorization_server: authorization_server(project),
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
            tools: project
                .tools
                .iter()
                .map(|t| tool_context(project, t))
                .collect(),
            has_scoped_tools: first_scoped_tool.is_some(),
            first_scoped_tool: first_scoped_tool.unwrap_or_default(),
            has_hierarchy: project
                .tools
                .iter()
                .any(|t| granted_by(project, t).is_some()),
            challenge: challenge(project)?,
            metadata_json: metadata_json(project),
            answers_yaml,
        })
    }
}

fn tool_context<'a>(project: &'a Project, tool: &'a Tool) -> ToolContext<'a> {
    let mut items = vec![format!("name = {}", rust_str(&tool.name))];
    if let Some(description) = &tool.description {
        items.push(format!("description = {}", rust_str(description)));
    }
    ToolContext {
        name: &tool.name,
        ident: &tool.ident,
        args_type: &tool.args_type,
        scopes_joined: tool.scopes.join(" "),
        granted_by: granted_by(project, tool),
        sample_arguments: sample_arguments(tool),
        attribute: attribute(4, "tool", &items),
        arguments: tool.arguments.iter().map(argument_context).collect(),
    }
}

fn argument_context(argument: &Argument) -> ArgumentContext<'_> {
    let ty = argument.ty.rust_type();
    let mut attributes = Vec::new();
    if argument.ident != argument.name {
        attributes.push(attribute(
            4,
            "serde",
            &[format!("rename = {}", rust_str(&argument.name))],
        ));
    }
    if let Some(description) = &argument.description {
        attributes.push(attribute(
            4,
            "schemars",
            &[format!("description = {}", rust_str(description))],
        ));
    }
    ArgumentContext {
        ident: &argument.ident,
        rust_type: if argument.required {
            ty.to_string()
        } else {
            format!("Option<{ty}>")
        },
        attributes,
    }
}

/// A declared scope, other than the tool's own, whose `includes` grant every
/// scope the tool needs.
fn granted_by(project: &Project, tool: &Tool) -> Option<String> {
    if tool.scopes.is_empty() {
        return None;
    }
    project
        .scopes
        .iter()
        .filter(|scope| !tool.scopes.contains(&scope.name))
        .find(|scope| {
            let granted = expand(project, &scope.name);
            tool.scopes
                .iter()
                .all(|needed| granted.contains(needed.as_str()))
        })
        .map(|scope| scope.name.clone())
}

/// A scope and everything it includes, transitively.
fn expand<'a>(project: &'a Project, scope: &'a str) -> BTreeSet<&'a str> {
    let mut granted = BTreeSet::from([scope]);
    let mut pending = vec![scope];
    while let Some(name) = pending.pop() {
        let includes = project.scopes.iter().filter(|s| s.name == name);
        for included in includes.flat_map(|s| &s.includes) {
            if granted.insert(included) {
                pending.push(included);
            }
        }
    }
    granted
}

/// A JSON object with a value of the right type for every argument.
fn sample_arguments(tool: &Tool) -> String {
    let fields: Vec<String> = tool
        .arguments
        .iter()
        .map(|argument| {
            let value = match argument.ty {
                ArgType::String => "\"example\"",
                ArgType::Integer => "1",
                ArgType::Number => "1.5",
                ArgType::Boolean => "true",
            };
            format!("{}:{value}", json_str(&argument.name))
        })
        .collect();
    format!("{{{}}}", fields.join(","))
}

/// An attribute such as `#[tool(name = "x", description = "y")]` at `indent`,
/// laid out the way rustfmt lays it out (one line when it fits its width
/// rules, one item per line otherwise), so generated code passes
/// `cargo fmt --check` whatever the length of the text in it.
pub fn attribute(indent: usize, path: &str, items: &[String]) -> String {
    const MAX_WIDTH: usize = 100;
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

/// `<environment_url>/resources/<resource_id>`: Scalekit's authorization
/// server for this resource.
fn authorization_server(project: &Project) -> String {
    format!(
        "{}/resources/{}",
        project.environment_url.trim_end_matches('/'),
        project.resource_id
    )
}

fn challenge(project: &Project) -> Result<String> {
    let mut challenge = format!(
        "Bearer resource_metadata=\"{}\"",
        metadata_url(&project.resource)?
    );
    if !project.scopes.is_empty() {
        let scopes: Vec<&str> = project.scopes.iter().map(|s| s.name.as_str()).collect();
        challenge.push_str(&format!(", scope=\"{}\"", scopes.join(" ")));
    }
    Ok(challenge)
}

fn metadata_json(project: &Project) -> String {
    let strings =
        |items: &mut dyn Iterator<Item = &str>| items.map(json_str).collect::<Vec<_>>().join(",");
    let authorization_server = authorization_server(project);
    let mut json = format!(
        "{{\"resource\":{},\"authorization_servers\":[{}],\"bearer_methods_supported\":[\"header\"],\
         \"scopes_supported\":[{}],\"resource_name\":{}",
        json_str(&project.resource),
        json_str(&authorization_server),
        strings(&mut project.scopes.iter().map(|s| s.name.as_str())),
        json_str(&project.name),
    );
    if let Some(documentation) = &project.resource_documentation {
        json.push_str(&format!(
            ",\"resource_documentation\":{}",
            json_str(documentation)
        ));
    }
    json.push('}');
    json
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
        assert_eq!(doc("a\tb", "//!"), "//! a&#9;b");
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
