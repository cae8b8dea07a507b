//! `Cargo.lock`'s three-way merge, package by package. A line merge of two
//! lock files that both added crates conflicts in the root package's
//! `dependencies` list, a file nobody should edit by hand; merged by package,
//! the owner's crates and the new templates' crates both stay, as `cargo`
//! itself would have resolved them.

use std::collections::{BTreeMap, BTreeSet};

/// One `[[package]]` table: its lines, and its `dependencies` entries apart.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Package {
    /// Every line but the `dependencies` array.
    fields: Vec<String>,
    dependencies: BTreeSet<String>,
}

/// A lock file: the lines before the first package, and the packages by
/// `(name, version, source)`.
struct Lock {
    header: String,
    packages: BTreeMap<(String, Version, String), Package>,
}

/// A version that sorts as cargo sorts them: numerically by part.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Version(Vec<(u64, String)>);

impl Version {
    fn parse(text: &str) -> Version {
        Version(
            text.split(['.', '-', '+'])
                .map(|part| (part.parse().unwrap_or(u64::MAX), part.to_string()))
                .collect(),
        )
    }
}

/// Merges the owner's lock (`ours`) and the new render's (`theirs`) given the
/// base, package by package; `None` when any of them is not a lock file this
/// reads, so the caller falls back to the line merge.
///
/// A package changed on one side only takes that side. Changed on both, it
/// takes the new render's lines with the union of the dependencies the
/// render has and the owner added, less those the owner removed.
pub fn merge(base: &[u8], ours: &[u8], theirs: &[u8]) -> Option<Vec<u8>> {
    let [base, ours, theirs] = [base, ours, theirs].map(parse);
    let (base, ours, theirs) = (base?, ours?, theirs?);
    let keys: BTreeSet<_> = base
        .packages
        .keys()
        .chain(ours.packages.keys())
        .chain(theirs.packages.keys())
        .cloned()
        .collect();
    let mut out = theirs.header.clone();
    for key in keys {
        let (b, o, t) = (
            base.packages.get(&key),
            ours.packages.get(&key),
            theirs.packages.get(&key),
        );
        let merged = match (o, t) {
            _ if o == b => t.cloned(),
            _ if t == b || o == t => o.cloned(),
            (Some(o), Some(t)) => {
                let empty = BTreeSet::new();
                let before = b.map_or(&empty, |b| &b.dependencies);
                let mut dependencies = t.dependencies.clone();
                dependencies.extend(o.dependencies.difference(before).cloned());
                dependencies.retain(|d| o.dependencies.contains(d) || !before.contains(d));
                Some(Package {
                    fields: t.fields.clone(),
                    dependencies,
                })
            }
            // Removed on one side, changed on the other: kept as changed.
            (one, other) => one.or(other).cloned(),
        };
        if let Some(package) = merged {
            out.push_str(&render(&package));
        }
    }
    Some(out.into_bytes())
}

fn parse(bytes: &[u8]) -> Option<Lock> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut chunks = text.split("\n[[package]]\n");
    let header = format!("{}\n", chunks.next()?.trim_end());
    // Comments and the format's `version`: anything else is not a lock file.
    if !header
        .lines()
        .all(|line| line.is_empty() || line.starts_with('#') || line.starts_with("version = "))
    {
        return None;
    }
    let mut packages = BTreeMap::new();
    for chunk in chunks {
        let mut fields = Vec::new();
        let mut dependencies = BTreeSet::new();
        let mut lines = chunk.lines().filter(|line| !line.is_empty());
        while let Some(line) = lines.next() {
            if line == "dependencies = [" {
                for entry in lines.by_ref() {
                    if entry == "]" {
                        break;
                    }
                    dependencies.insert(entry.trim().trim_end_matches(',').to_string());
                }
            } else if line.starts_with('[') || !line.contains(" = ") {
                // Another table (`[metadata]`, `[[patch.unused]]`), or not
                // TOML as cargo writes it: not read here.
                return None;
            } else {
                fields.push(line.to_string());
            }
        }
        let value = |name: &str| {
            fields
                .iter()
                .find_map(|f| f.strip_prefix(&format!("{name} = ")))
                .map(|v| v.trim_matches('"').to_string())
        };
        let key = (
            value("name")?,
            Version::parse(&value("version")?),
            value("source").unwrap_or_default(),
        );
        packages.insert(
            key,
            Package {
                fields,
                dependencies,
            },
        );
    }
    Some(Lock { header, packages })
}

/// A package as cargo writes it, with the blank line before it.
fn render(package: &Package) -> String {
    let mut out = String::from("\n[[package]]\n");
    let mut dependencies_written = package.dependencies.is_empty();
    for field in &package.fields {
        // Cargo writes `dependencies` after name, version, source and checksum.
        if !dependencies_written && !is_identity(field) {
            out.push_str(&render_dependencies(&package.dependencies));
            dependencies_written = true;
        }
        out.push_str(field);
        out.push('\n');
    }
    if !dependencies_written {
        out.push_str(&render_dependencies(&package.dependencies));
    }
    out
}

fn is_identity(field: &str) -> bool {
    ["name = ", "version = ", "source = ", "checksum = "]
        .iter()
        .any(|prefix| field.starts_with(prefix))
}

fn render_dependencies(dependencies: &BTreeSet<String>) -> String {
    let mut out = String::from("dependencies = [\n");
    for dependency in dependencies {
        out.push_str(&format!(" {dependency},\n"));
    }
    out.push_str("]\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\nversion = 4\n";

    fn lock(packages: &[(&str, &str, &[&str])]) -> String {
        let mut out = HEADER.to_string();
        for (name, version, dependencies) in packages {
            out.push_str(&format!(
                "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\n"
            ));
            if *name != "app" {
                out.push_str(
                    "source = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
                );
                out.push_str(&format!("checksum = \"{name}{version}\"\n"));
            }
            if !dependencies.is_empty() {
                out.push_str("dependencies = [\n");
                for dependency in *dependencies {
                    out.push_str(&format!(" \"{dependency}\",\n"));
                }
                out.push_str("]\n");
            }
        }
        out
    }

    #[test]
    fn a_lock_is_written_back_as_read() {
        let text = lock(&[
            ("app", "0.1.0", &["axum", "serde 1.0.0"]),
            ("axum", "0.8.0", &["serde 1.0.0"]),
            ("serde", "0.9.0", &[]),
            ("serde", "1.0.0", &[]),
        ]);
        let bytes = text.as_bytes();
        assert_eq!(merge(bytes, bytes, bytes).unwrap(), bytes);
    }

    #[test]
    fn crates_added_on_both_sides_all_stay() {
        let base = lock(&[("app", "0.1.0", &["axum"]), ("axum", "0.8.0", &[])]);
        // The owner added itoa; the templates added uuid and moved axum on.
        let ours = lock(&[
            ("app", "0.1.0", &["axum", "itoa"]),
            ("axum", "0.8.0", &[]),
            ("itoa", "1.0.0", &[]),
        ]);
        let theirs = lock(&[
            ("app", "0.1.0", &["axum", "uuid"]),
            ("axum", "0.8.9", &[]),
            ("uuid", "1.0.0", &[]),
        ]);
        let merged = merge(base.as_bytes(), ours.as_bytes(), theirs.as_bytes()).unwrap();
        let expected = lock(&[
            ("app", "0.1.0", &["axum", "itoa", "uuid"]),
            ("axum", "0.8.9", &[]),
            ("itoa", "1.0.0", &[]),
            ("uuid", "1.0.0", &[]),
        ]);
        assert_eq!(String::from_utf8(merged).unwrap(), expected);
    }

    #[test]
    fn a_dependency_the_owner_removed_stays_removed() {
        let base = lock(&[("app", "0.1.0", &["axum", "time"]), ("axum", "0.8.0", &[])]);
        let ours = lock(&[("app", "0.1.0", &["axum"]), ("axum", "0.8.0", &[])]);
        let theirs = lock(&[
            ("app", "0.1.0", &["axum", "time", "uuid"]),
            ("axum", "0.8.0", &[]),
            ("uuid", "1.0.0", &[]),
        ]);
        let merged = merge(base.as_bytes(), ours.as_bytes(), theirs.as_bytes()).unwrap();
        let text = String::from_utf8(merged).unwrap();
        assert!(text.contains(" \"uuid\",\n"), "{text}");
        assert!(!text.contains(" \"time\",\n"), "{text}");
    }

    #[test]
    fn what_is_not_a_plain_lock_is_left_to_the_line_merge() {
        let plain = lock(&[("app", "0.1.0", &[])]);
        let odd = format!("{plain}\n[[patch.unused]]\nname = \"x\"\nversion = \"1.0.0\"\n");
        assert!(merge(plain.as_bytes(), odd.as_bytes(), plain.as_bytes()).is_none());
        assert!(merge(plain.as_bytes(), b"<<<<<<< project\n", plain.as_bytes()).is_none());
    }
}
