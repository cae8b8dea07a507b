//! Safe output: the rendered files reach the target directory all at once or
//! not at all, and no file of the user's is overwritten or deleted without
//! `--force` (and none outside the generated set, ever).

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::error::Error;
use crate::render::Files;

/// What a write did.
#[derive(Debug, Default)]
pub struct Written {
    /// Generated files that replaced existing ones (only with `--force`).
    pub overwritten: Vec<PathBuf>,
}

/// What the target directory holds before writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Nothing there: the staging directory is renamed into place.
    Absent,
    /// A directory, empty or (with `--force`) not: files move into it.
    Directory,
}

/// Checks that `target` may receive the files, without changing anything.
pub fn check_target(target: &Path, force: bool) -> Result<Existing, Error> {
    match fs::symlink_metadata(target) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(Existing::Absent),
        Err(error) => Err(Error::Refused(format!(
            "cannot inspect {}: {error}",
            target.display()
        ))),
        Ok(meta) if !meta.is_dir() => Err(Error::Refused(format!(
            "{} exists and is not a directory; choose another PATH",
            target.display()
        ))),
        Ok(_) => {
            let mut entries = fs::read_dir(target).map_err(|error| {
                Error::Refused(format!("cannot read {}: {error}", target.display()))
            })?;
            if entries.next().is_none() || force {
                Ok(Existing::Directory)
            } else {
                Err(Error::Refused(format!(
                    "{} already exists and is not empty; nothing was written. Choose a new \
                     PATH, or pass --force to overwrite the generated files there (other \
                     files are kept)",
                    target.display()
                )))
            }
        }
    }
}

/// What to do to one path of an existing directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Write these bytes, replacing the file if there is one.
    Write(Vec<u8>),
    /// Delete the file.
    Delete,
}

/// Changes by path relative to the target, in a stable order.
pub type Changes = BTreeMap<PathBuf, Change>;

/// Writes `files` under `target`: into a staging directory beside it first,
/// then moved into place. On failure the target is as it was.
pub fn write(target: &Path, files: &Files, existing: Existing) -> Result<Written, Error> {
    if existing == Existing::Absent {
        let staging = staging_dir(target)?;
        write_tree(staging.path(), files).map_err(Error::Write)?;
        let staged = staging.keep();
        return fs::rename(&staged, target)
            .with_context(|| format!("moving the project into {}", target.display()))
            .map(|()| Written::default())
            .map_err(|error| {
                let _ = fs::remove_dir_all(&staged);
                Error::Write(error)
            });
    }
    // An existing directory keeps its identity (it may be the current
    // directory, or carry permissions): the files move into it one by one.
    let changes = files
        .iter()
        .map(|(path, contents)| (path.clone(), Change::Write(contents.clone())))
        .collect();
    apply(target, &changes)
}

/// Applies `changes` to the existing directory `target`, all or nothing: new
/// contents are written to a staging directory beside it, then each file
/// replaced or deleted is set aside until every change is in place, so a
/// failure half-way puts everything back.
pub fn apply(target: &Path, changes: &Changes) -> Result<Written, Error> {
    let staging = staging_dir(target)?;
    let contents: Files = changes
        .iter()
        .filter_map(|(path, change)| match change {
            Change::Write(bytes) => Some((path.clone(), bytes.clone())),
            Change::Delete => None,
        })
        .collect();
    write_tree(staging.path(), &contents).map_err(Error::Write)?;
    move_into(staging.path(), target, changes).map_err(Error::Write)
}

fn staging_dir(target: &Path) -> Result<tempfile::TempDir, Error> {
    let parent = parent_dir(target);
    fs::create_dir_all(&parent)
        .with_context(|| format!("creating {}", parent.display()))
        .map_err(Error::Write)?;
    tempfile::Builder::new()
        .prefix(".mcp-oauth-new-staging-")
        .tempdir_in(&parent)
        .with_context(|| format!("creating a staging directory in {}", parent.display()))
        .map_err(Error::Write)
}

/// Moves the staged files into `target` and deletes what is to be deleted.
/// Each old file is kept in the staging directory until every change is
/// made, so that a failure half-way can put everything back.
fn move_into(staging: &Path, target: &Path, changes: &Changes) -> Result<Written> {
    let backup = staging.join(".backup");
    fs::create_dir(&backup).context("creating the backup directory")?;
    let mut done: Vec<(PathBuf, bool)> = Vec::new();
    let mut created_dirs: Vec<PathBuf> = Vec::new();
    let result = (|| -> Result<Vec<PathBuf>> {
        let mut overwritten = Vec::new();
        for (relative, change) in changes {
            let destination = target.join(relative);
            if let (Change::Write(_), Some(dir)) = (change, destination.parent()) {
                create_dirs(dir, &mut created_dirs)?;
            }
            let had_old = match fs::symlink_metadata(&destination) {
                Ok(meta) if meta.is_dir() => anyhow::bail!(
                    "{} is a directory where the template writes a file; move it away",
                    destination.display()
                ),
                Ok(_) => {
                    let saved = backup.join(relative);
                    if let Some(dir) = saved.parent() {
                        fs::create_dir_all(dir)?;
                    }
                    fs::rename(&destination, &saved)
                        .with_context(|| format!("setting aside {}", destination.display()))?;
                    true
                }
                Err(error) if error.kind() == io::ErrorKind::NotFound => false,
                Err(error) => return Err(error.into()),
            };
            done.push((relative.clone(), had_old));
            if let Change::Write(_) = change {
                fs::rename(staging.join(relative), &destination)
                    .with_context(|| format!("writing {}", destination.display()))?;
                if had_old {
                    overwritten.push(relative.clone());
                }
            }
        }
        Ok(overwritten)
    })();
    match result {
        Ok(overwritten) => Ok(Written { overwritten }),
        Err(error) => {
            for (relative, had_old) in done.iter().rev() {
                let destination = target.join(relative);
                if destination.is_file() {
                    let _ = fs::remove_file(&destination);
                }
                if *had_old {
                    let _ = fs::rename(backup.join(relative), &destination);
                }
            }
            for dir in created_dirs.iter().rev() {
                let _ = fs::remove_dir(dir);
            }
            Err(error)
        }
    }
}

/// `create_dir_all` that remembers which directories it made, so a rollback
/// can remove exactly those.
fn create_dirs(dir: &Path, created: &mut Vec<PathBuf>) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dirs(parent, created)?;
    }
    fs::create_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
    created.push(dir.to_path_buf());
    Ok(())
}

fn write_tree(root: &Path, files: &Files) -> Result<()> {
    for (relative, contents) in files {
        let path = root.join(relative);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn parent_dir(target: &Path) -> PathBuf {
    match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
