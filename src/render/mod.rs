//! Rendering: the embedded templates plus a validated [`Project`] give the
//! generated files, in memory.
//!
//! Templates receive plain values decided here (`context`), every piece of
//! free text goes through a filter made for the place it lands in
//! ([`filters`]), and Rust whose layout depends on the text's width is laid
//! out as rustfmt would ([`layout`]), so nothing a user types can break or
//! inject into generated code.

mod context;
pub mod filters;
pub mod layout;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use include_dir::{Dir, DirEntry, include_dir};
use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior};
use url::Url;

use crate::answers::Project;
use context::Context;
pub use filters::{doc, json_str, markdown, rust_str, toml_str};
pub use layout::attribute;

static TEMPLATES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// The suffix that marks a template; it is removed from the generated path.
const TEMPLATE_SUFFIX: &str = ".jinja";

/// The templates that do not apply to every project: one that renders to
/// nothing is not generated (the tool tests of a server without tools). Any
/// other template that renders empty is a bug, reported rather than skipped.
const OMITTED_WHEN_EMPTY: [&str; 1] = ["tests/tools.rs.jinja"];

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
                    if !text.trim().is_empty() {
                        files.insert(PathBuf::from(path), text.into_bytes());
                    } else if !OMITTED_WHEN_EMPTY.contains(&name.as_str()) {
                        anyhow::bail!(
                            "template {name} rendered to nothing, and only {} may",
                            OMITTED_WHEN_EMPTY.join(", ")
                        );
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

/// The root package's name in `templates/Cargo.lock`: the README example's,
/// which `scripts/refresh-template-lock.sh` generates to refresh the file.
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

    #[test]
    fn only_the_listed_templates_may_render_empty() {
        let dir = tempfile::TempDir::new().unwrap();
        fs::create_dir_all(dir.path().join("tests")).unwrap();
        fs::write(
            dir.path().join("tests/tools.rs.jinja"),
            "{% if false %}x{% endif %}",
        )
        .unwrap();
        fs::write(dir.path().join("kept.md.jinja"), "{{ name }}\n").unwrap();
        let answers = crate::Answers::from_yaml(
            "server_url: https://a.example\nscalekit: {environment_url: https://b.example, \
             resource_id: r}\n",
            "test",
        )
        .unwrap();
        let project = answers.validate(Some("p")).unwrap();
        let files = Templates::from_dir(dir.path(), "1")
            .unwrap()
            .render(&project)
            .unwrap();
        assert_eq!(files.keys().collect::<Vec<_>>(), [Path::new("kept.md")]);

        fs::write(
            dir.path().join("empty.md.jinja"),
            "{% if false %}x{% endif %}",
        )
        .unwrap();
        let error = Templates::from_dir(dir.path(), "1")
            .unwrap()
            .render(&project)
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("empty.md.jinja rendered to nothing"),
            "{error}"
        );
    }
}
