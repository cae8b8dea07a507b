//! `update`: bring a project its owner has changed up to date with its
//! answers and this generator's templates.
//!
//! Each generated path is merged three ways: *base* is what the generator
//! last wrote there (kept in the project, see [`crate::base`]), *ours* the
//! file now, *theirs* the new render. The plan is made in memory first; then
//! it is printed (`--dry-run`) or applied all at once.

mod keyed;
mod lockfile;
mod merge;
mod report;

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use merge::{Labels, Merged, merge_file};

use crate::answers::Answers;
use crate::base::{self, Base};
use crate::error::Error;
use crate::git;
use crate::render::{Files, Templates};
use crate::write::{self, Change, Changes};

/// The answers record. It is the input of an update, so it is never merged:
/// after an update it is what a fresh generation with the same answers
/// writes.
pub const RECORD: &str = "mcp-oauth.yaml";

/// What an update does to one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// The file is already what the generator writes now.
    Unchanged,
    /// The owner never changed it: the new render replaces it.
    Update,
    /// The generator's version did not change: the owner's stays.
    Keep,
    /// Both changed it, in different places: both changes are kept.
    Merge,
    /// Both changed the same lines: the file gets conflict markers.
    Conflict,
    /// A newly generated file.
    Add,
    /// No longer generated, and the owner never changed it.
    Delete,
    /// No longer generated, but the owner changed it: kept and reported.
    Kept,
    /// Generated, but the owner deleted it: it stays deleted.
    StaysDeleted,
}

impl Action {
    /// The name `--dry-run` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Unchanged => "unchanged",
            Action::Update => "update",
            Action::Keep => "keep",
            Action::Merge => "merge",
            Action::Conflict => "conflict",
            Action::Add => "add",
            Action::Delete => "delete",
            Action::Kept => "kept",
            Action::StaysDeleted => "stays-deleted",
        }
    }
}

/// One path of the plan: what happens, and the file before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub path: PathBuf,
    pub action: Action,
    /// The file now (`None`: absent).
    pub before: Option<Vec<u8>>,
    /// The file after the update (`None`: absent).
    pub after: Option<Vec<u8>>,
}

impl Step {
    /// Whether the update changes the file on disk.
    pub fn changes(&self) -> bool {
        self.before != self.after
    }
}

/// Everything an update would do, decided before anything is written.
#[derive(Debug)]
pub struct Plan {
    /// The generator version that wrote the base, and this one.
    pub from: String,
    pub to: String,
    /// Every path generated before or now, in path order.
    pub steps: Vec<Step>,
    /// The new base record, and the one in the project now.
    record: Vec<u8>,
    record_before: Option<Vec<u8>>,
}

impl Plan {
    /// The paths that get conflict markers.
    pub fn conflicts(&self) -> Vec<&Path> {
        self.steps
            .iter()
            .filter(|step| step.action == Action::Conflict)
            .map(|step| step.path.as_path())
            .collect()
    }

    /// Whether the base record changes (a new generator version or new
    /// answers, even when every file of the owner's stays as it is).
    pub fn record_changes(&self) -> bool {
        self.record_before.as_deref() != Some(self.record.as_slice())
    }

    /// The writes and deletions that carry the plan out.
    pub fn changes(&self) -> Changes {
        let mut changes: Changes = self
            .steps
            .iter()
            .filter(|step| step.changes())
            .map(|step| {
                let change = match &step.after {
                    Some(bytes) => Change::Write(bytes.clone()),
                    None => Change::Delete,
                };
                (step.path.clone(), change)
            })
            .collect();
        if self.record_changes() {
            changes.insert(
                PathBuf::from(base::PATH),
                Change::Write(self.record.clone()),
            );
        }
        changes
    }
}

/// Plans the update of the project at `root` from `base` to `theirs`, the
/// new render by generator `version`.
pub fn plan(root: &Path, base: &Base, theirs: &Files, version: &str) -> Result<Plan, Error> {
    let labels = Labels {
        base: &base.version,
        theirs: version,
    };
    let paths: BTreeSet<&PathBuf> = base.files.keys().chain(theirs.keys()).collect();
    let mut steps = Vec::with_capacity(paths.len());
    for path in paths {
        let ours = read_ours(root, path)?;
        let theirs = theirs.get(path).map(Vec::as_slice);
        let base = base.files.get(path).map(Vec::as_slice);
        let (action, after) = if path == Path::new(RECORD) {
            record_step(ours.as_deref(), theirs)
        } else {
            decide(path, base, ours.as_deref(), theirs, labels)
        };
        if let Some(action) = action {
            steps.push(Step {
                path: path.clone(),
                action,
                before: ours,
                after,
            });
        }
    }
    let record_before = read_ours(root, Path::new(base::PATH))?;
    // The same version and files pack to the same record: spare the
    // compression, most of a no-op update's work.
    let record = match &record_before {
        Some(before) if base.version == version && base.files == *theirs => before.clone(),
        _ => base::pack(version, theirs).map_err(Error::Internal)?,
    };
    Ok(Plan {
        from: base.version.clone(),
        to: version.to_string(),
        steps,
        record,
        record_before,
    })
}

/// The three-way decision for one path: the action, and the file after it
/// (`None`: absent). No action for a path that is neither generated now nor
/// present.
pub fn decide(
    path: &Path,
    base: Option<&[u8]>,
    ours: Option<&[u8]>,
    theirs: Option<&[u8]>,
    labels: Labels<'_>,
) -> (Option<Action>, Option<Vec<u8>>) {
    let owned = |bytes: Option<&[u8]>| bytes.map(<[u8]>::to_vec);
    let (action, after) = match (base, ours, theirs) {
        (_, None, None) => return (None, None),
        (Some(_), None, Some(_)) => (Action::StaysDeleted, None),
        (None, None, Some(theirs)) => (Action::Add, Some(theirs)),
        (_, Some(ours), Some(theirs)) if ours == theirs => (Action::Unchanged, Some(ours)),
        (Some(base), Some(ours), Some(theirs)) if ours == base => (Action::Update, Some(theirs)),
        (Some(base), Some(ours), Some(theirs)) if theirs == base => (Action::Keep, Some(ours)),
        (base, Some(ours), Some(theirs)) => {
            // A file the generator never wrote where it now writes one is
            // merged from an empty base: every difference is a conflict.
            return match merge_file(path, base.unwrap_or_default(), ours, theirs, labels) {
                Merged::Clean(merged) => (Some(Action::Merge), Some(merged)),
                Merged::Conflict(marked) => (Some(Action::Conflict), Some(marked)),
            };
        }
        (Some(base), Some(ours), None) if ours == base => (Action::Delete, None),
        (Some(_), Some(ours), None) => (Action::Kept, Some(ours)),
        (None, Some(_), None) => return (None, None),
    };
    (Some(action), owned(after))
}

/// The answers record is written as a fresh generation writes it.
fn record_step(ours: Option<&[u8]>, theirs: Option<&[u8]>) -> (Option<Action>, Option<Vec<u8>>) {
    match theirs {
        Some(theirs) if ours == Some(theirs) => (Some(Action::Unchanged), Some(theirs.to_vec())),
        Some(theirs) => (Some(Action::Update), Some(theirs.to_vec())),
        None => (None, ours.map(<[u8]>::to_vec)),
    }
}

/// The owner's file at `path`, or `None` when there is none.
fn read_ours(root: &Path, path: &Path) -> Result<Option<Vec<u8>>, Error> {
    let full = root.join(path);
    match fs::read(&full) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error)
            if matches!(
                error.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(None)
        }
        Err(error) if error.kind() == io::ErrorKind::IsADirectory => Err(Error::Refused(format!(
            "{} is a directory where the generator writes a file; move it away and run \
             update again (nothing was written)",
            full.display()
        ))),
        Err(error) => Err(Error::Input(
            anyhow::Error::new(error).context(format!("reading {}", full.display())),
        )),
    }
}

/// What `update` needs besides the project's directory.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub dry_run: bool,
    pub allow_dirty: bool,
    pub quiet: bool,
}

impl From<crate::cli::UpdateFlags> for Options {
    fn from(flags: crate::cli::UpdateFlags) -> Self {
        Options {
            dry_run: flags.dry_run,
            allow_dirty: flags.allow_dirty,
            quiet: flags.quiet,
        }
    }
}

/// An older generator would merge its templates over the newer ones the
/// project has, taking their fixes back out: refused, as is a version this
/// does not read.
fn refuse_a_newer_base(base: &str, this: &str) -> Result<(), Error> {
    let parts = |version: &str| -> Option<Vec<u64>> {
        let release = version.split(['-', '+']).next()?;
        release.split('.').map(|part| part.parse().ok()).collect()
    };
    let newer = match (parts(base), parts(this)) {
        (Some(base_parts), Some(these)) => base_parts > these,
        _ => true,
    };
    if newer {
        return Err(Error::Refused(format!(
            "the project was last generated by mcp-oauth-new {base}, and this is {this}: \
             updating with an older generator would take the newer templates' fixes back \
             out. Install mcp-oauth-new {base} or later and run update again. Nothing was \
             written"
        )));
    }
    Ok(())
}

/// Updates the project at `root` to `answers` and `templates`: plans, checks
/// the work tree, then prints the plan (`dry_run`) or applies it. Conflicts
/// are written into their files and reported as [`Error::Conflicts`].
pub fn run(
    root: &Path,
    answers: &Answers,
    templates: &Templates,
    options: Options,
) -> Result<(), Error> {
    let dir_name = root.file_name().and_then(|name| name.to_str());
    let project = answers.validate(dir_name)?;
    // Rendering and reading the record do not depend on each other, and
    // each is about half of an update with nothing to change.
    let (base, theirs) = crate::join(|| base::read(root), || templates.render(&project));
    let theirs = theirs.map_err(Error::Internal)?;
    let base = base.map_err(Error::Input)?.ok_or_else(|| {
        Error::Refused(format!(
            "{} has no base record ({}), the exact files the generator last wrote, so \
             update cannot tell your changes from the generator's. Projects generated \
             before mcp-oauth-new 0.2.0 have none: generate a new project from this one's \
             answers (mcp-oauth-new NEW-DIR --answers {}) and move your code into it; \
             from then on, update keeps it current. Nothing was written",
            root.display(),
            base::PATH,
            root.join(RECORD).display(),
        ))
    })?;
    refuse_a_newer_base(&base.version, templates.version())?;
    let plan = plan(root, &base, &theirs, templates.version())?;

    if !options.allow_dirty {
        let guarded: Vec<PathBuf> = plan
            .steps
            .iter()
            .map(|step| step.path.clone())
            .filter(|path| path != Path::new(RECORD))
            .chain([PathBuf::from(base::PATH)])
            .collect();
        let dirty = git::uncommitted(root, &guarded).map_err(Error::Input)?;
        if let Some(dirty) = dirty.filter(|dirty| !dirty.is_empty()) {
            return Err(Error::Refused(format!(
                "uncommitted changes to generated files: {}. Commit or stash them first, so \
                 that the update can be reviewed and undone with git, or pass --allow-dirty. \
                 Nothing was written",
                dirty.join(", ")
            )));
        }
    }

    if options.dry_run {
        print!("{}", report::dry_run(&project.name, &plan));
        return Ok(());
    }
    let changes = plan.changes();
    if !changes.is_empty() {
        write::apply(root, &changes)?;
    }
    if !options.quiet {
        eprint!("{}", report::done(&project.name, &plan));
    }
    match plan.conflicts() {
        conflicts if conflicts.is_empty() => Ok(()),
        conflicts => Err(Error::Conflicts(
            conflicts.iter().map(|p| p.display().to_string()).collect(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_base_from_the_same_or_an_older_generator_is_updated() {
        for (base, this) in [("0.4.1", "0.4.1"), ("0.3.0", "0.4.1"), ("0.9.9", "0.10.0")] {
            assert!(refuse_a_newer_base(base, this).is_ok(), "{base} -> {this}");
        }
        for (base, this) in [("0.4.2", "0.4.1"), ("0.10.0", "0.9.9"), ("x.y", "0.4.1")] {
            assert!(refuse_a_newer_base(base, this).is_err(), "{base} -> {this}");
        }
    }

    const LABELS: Labels<'static> = Labels {
        base: "1",
        theirs: "2",
    };

    fn decide_text(
        base: Option<&str>,
        ours: Option<&str>,
        theirs: Option<&str>,
    ) -> (Option<Action>, Option<String>) {
        let (action, after) = decide(
            Path::new("README.md"),
            base.map(str::as_bytes),
            ours.map(str::as_bytes),
            theirs.map(str::as_bytes),
            LABELS,
        );
        (action, after.map(|a| String::from_utf8(a).unwrap()))
    }

    #[test]
    fn each_combination_gets_the_contracts_action() {
        let cases = [
            // (base, ours, theirs) -> (action, after)
            (
                (Some("a\n"), Some("a\n"), Some("a\n")),
                (Some(Action::Unchanged), Some("a\n")),
            ),
            (
                (Some("a\n"), Some("a\n"), Some("b\n")),
                (Some(Action::Update), Some("b\n")),
            ),
            (
                (Some("a\n"), Some("o\n"), Some("a\n")),
                (Some(Action::Keep), Some("o\n")),
            ),
            (
                (Some("a\n"), Some("b\n"), Some("b\n")),
                (Some(Action::Unchanged), Some("b\n")),
            ),
            ((None, None, Some("t\n")), (Some(Action::Add), Some("t\n"))),
            (
                (None, Some("t\n"), Some("t\n")),
                (Some(Action::Unchanged), Some("t\n")),
            ),
            (
                (Some("a\n"), None, Some("b\n")),
                (Some(Action::StaysDeleted), None),
            ),
            (
                (Some("a\n"), Some("a\n"), None),
                (Some(Action::Delete), None),
            ),
            (
                (Some("a\n"), Some("o\n"), None),
                (Some(Action::Kept), Some("o\n")),
            ),
            ((Some("a\n"), None, None), (None, None)),
            ((None, Some("mine\n"), None), (None, None)),
        ];
        for ((base, ours, theirs), (action, after)) in cases {
            assert_eq!(
                decide_text(base, ours, theirs),
                (action, after.map(str::to_string)),
                "base {base:?}, ours {ours:?}, theirs {theirs:?}"
            );
        }
    }

    #[test]
    fn changes_on_both_sides_merge_or_conflict() {
        let base = "1\n2\n3\n4\n5\n";
        let (action, after) =
            decide_text(Some(base), Some("1\nX\n3\n4\n5\n"), Some("1\n2\n3\n4\nY\n"));
        assert_eq!(action, Some(Action::Merge));
        assert_eq!(after.as_deref(), Some("1\nX\n3\n4\nY\n"));
        let (action, after) =
            decide_text(Some(base), Some("1\nX\n3\n4\n5\n"), Some("1\nY\n3\n4\n5\n"));
        assert_eq!(action, Some(Action::Conflict));
        assert!(after.unwrap().contains("<<<<<<< project\nX\n"));
    }

    #[test]
    fn a_file_of_the_owners_where_one_is_now_generated_is_a_conflict() {
        let (action, after) = decide_text(None, Some("mine\n"), Some("generated\n"));
        assert_eq!(action, Some(Action::Conflict));
        let after = after.unwrap();
        assert!(
            after.contains("mine\n") && after.contains("generated\n"),
            "{after}"
        );
    }

    #[test]
    fn the_record_is_always_the_fresh_render() {
        assert_eq!(
            record_step(Some(b"edited by hand"), Some(b"rendered")),
            (Some(Action::Update), Some(b"rendered".to_vec()))
        );
        assert_eq!(
            record_step(Some(b"same"), Some(b"same")),
            (Some(Action::Unchanged), Some(b"same".to_vec()))
        );
    }
}
