//! The two things this tool asks of git: to start a repository in a new
//! project, and which generated files have changes that are not committed.
//! A machine without git, or a project outside a work tree, is not an error.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};

/// What `git init` did for a new project.
#[derive(Debug, PartialEq, Eq)]
pub enum Init {
    Initialized,
    /// The target is inside an existing work tree, as `cargo new` checks.
    InsideWorkTree,
    /// `git` is missing or failed; a warning, not an error.
    Failed(String),
}

/// Runs `git init` in `target` unless it is already inside a git work tree.
pub fn init(target: &Path) -> Init {
    match inside_work_tree(target) {
        Err(error) => return Init::Failed(format!("could not run git: {error}")),
        Ok(true) => return Init::InsideWorkTree,
        Ok(false) => {}
    }
    match Command::new("git")
        .args(["init", "--quiet"])
        .current_dir(target)
        .output()
    {
        Ok(output) if output.status.success() => Init::Initialized,
        Ok(output) => Init::Failed(String::from_utf8_lossy(&output.stderr).trim().to_string()),
        Err(error) => Init::Failed(format!("could not run git: {error}")),
    }
}

/// Whether `dir` is inside a git work tree; an error when git cannot run.
fn inside_work_tree(dir: &Path) -> std::io::Result<bool> {
    if !may_be_in_repository(dir) {
        return Ok(false);
    }
    let output = Command::new("git")
        .args(["rev-parse", "--is-inside-work-tree"])
        .current_dir(dir)
        .output()?;
    Ok(output.status.success() && output.stdout.starts_with(b"true"))
}

/// Whether git could find a repository for `dir`: a `.git` in it or above it,
/// or one named by the environment. Where none can, asking git would only
/// cost a process (most of a no-op `update`'s time).
fn may_be_in_repository(dir: &Path) -> bool {
    ["GIT_DIR", "GIT_WORK_TREE"]
        .iter()
        .any(|name| std::env::var_os(name).is_some())
        || dir.ancestors().any(|dir| dir.join(".git").exists())
}

/// The paths among `paths` (relative to `root`) that differ from the index
/// or HEAD, or are untracked; `None` when `root` is not in a git work tree.
pub fn uncommitted(root: &Path, paths: &[PathBuf]) -> Result<Option<Vec<String>>> {
    if !inside_work_tree(root).unwrap_or(false) {
        // Not a work tree, or no git at all.
        return Ok(None);
    }
    let mut command = Command::new("git");
    command
        .args([
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--",
        ])
        .current_dir(root);
    for path in paths {
        // Literal pathspecs: a generated name is never read as a glob.
        command.arg(format!(":(literal){}", path.display()));
    }
    let output = command.output().context("running git status")?;
    if !output.status.success() {
        bail!(
            "git status failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(Some(parse_porcelain(&output.stdout)))
}

/// The paths of `git status --porcelain=v1 -z`: `XY path`, NUL-terminated;
/// a rename or copy is followed by its source path, which is skipped.
fn parse_porcelain(output: &[u8]) -> Vec<String> {
    let mut paths = Vec::new();
    let mut entries = output.split(|&b| b == 0).filter(|e| !e.is_empty());
    while let Some(entry) = entries.next() {
        if entry.len() < 4 {
            continue;
        }
        paths.push(String::from_utf8_lossy(&entry[3..]).into_owned());
        if matches!(entry[0], b'R' | b'C') {
            entries.next();
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porcelain_paths_are_read_and_rename_sources_skipped() {
        let output = b" M src/tools.rs\0?? new file.rs\0R  b.rs\0a.rs\0";
        assert_eq!(
            parse_porcelain(output),
            ["src/tools.rs", "new file.rs", "b.rs"]
        );
    }
}
