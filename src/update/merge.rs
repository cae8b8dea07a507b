//! One file's three-way merge: diffy's line merge, with git's diff3 conflict
//! style and markers that say which side is which; `Cargo.lock` by package.

use std::path::Path;

use diffy::{ConflictStyle, IncompleteHunkStyle, MergeOptions};

use super::keyed::{self, Syntax};
use super::lockfile;

/// The outcome of merging one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merged {
    /// Both sides' changes, combined.
    Clean(Vec<u8>),
    /// The file with conflict markers around the changes that overlap.
    Conflict(Vec<u8>),
}

/// The versions of the generator on each side, for the conflict markers.
#[derive(Debug, Clone, Copy)]
pub struct Labels<'a> {
    /// The version that wrote the base.
    pub base: &'a str,
    /// The version that rendered the new file.
    pub theirs: &'a str,
}

/// Merges the file at `path`: `Cargo.lock` package by package when all three
/// sides read as lock files (cargo's data, which a line merge would make
/// conflict wherever both sides added crates), anything else by line; in a
/// TOML, Rust, `.env` or YAML file, conflicts between side-by-side entries
/// (one-line keyed entries) are then merged by key.
pub fn merge_file(
    path: &Path,
    base: &[u8],
    ours: &[u8],
    theirs: &[u8],
    labels: Labels<'_>,
) -> Merged {
    if path == Path::new("Cargo.lock")
        && let Some(merged) = lockfile::merge(base, ours, theirs)
    {
        return Merged::Clean(merged);
    }
    merge_with(base, ours, theirs, labels, Syntax::of(path))
}

/// Merges the owner's file (`ours`) and the new render (`theirs`), given what
/// the generator last wrote (`base`), by line, then by key where `syntax`
/// reads the file. Conflicts are marked as git's diff3 style does:
/// `<<<<<<< project`, `||||||| generated <base version>`, `=======`,
/// `>>>>>>> generated <new version>`.
fn merge_with(
    base: &[u8],
    ours: &[u8],
    theirs: &[u8],
    labels: Labels<'_>,
    syntax: Option<Syntax>,
) -> Merged {
    let mut options = MergeOptions::new();
    options
        .set_conflict_style(ConflictStyle::Diff3)
        .set_incomplete_hunk_style(IncompleteHunkStyle::Git);
    let marked = match options.merge_bytes(base, ours, theirs) {
        Ok(merged) => return Merged::Clean(merged),
        Err(marked) => marked,
    };
    // When an input already holds a line identical to one of diffy's
    // markers, the markers cannot be told from the owner's own text: the
    // output is left as diffy wrote it.
    if [base, ours, theirs]
        .iter()
        .any(|input| input.split(|&b| b == b'\n').any(is_marker))
    {
        return Merged::Conflict(marked);
    }
    let marked = match syntax {
        Some(syntax) => keyed::resolve(&marked, syntax),
        None => marked,
    };
    if marked.split(|&b| b == b'\n').any(is_marker) {
        Merged::Conflict(relabel(&marked, labels))
    } else {
        Merged::Clean(marked)
    }
}

/// diffy's diff3 marker lines, in the order a conflict holds them.
pub(super) const OURS: &str = "<<<<<<< ours";
pub(super) const BASE: &str = "||||||| original";
pub(super) const THEIRS: &str = "=======";
pub(super) const END: &str = ">>>>>>> theirs";

/// diffy's marker lines that carry a label, and what this tool writes instead.
const MARKERS: [(&[u8], &str); 3] = [
    (OURS.as_bytes(), "<<<<<<< project"),
    (BASE.as_bytes(), "||||||| generated "),
    (END.as_bytes(), ">>>>>>> generated "),
];

/// One of diffy's marker lines that carry a label.
fn is_marker(line: &[u8]) -> bool {
    MARKERS.iter().any(|(marker, _)| line == *marker)
}

/// Replaces diffy's marker labels with ours.
fn relabel(marked: &[u8], labels: Labels<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(marked.len() + 64);
    for (i, line) in marked.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        match MARKERS.iter().position(|(marker, _)| line == *marker) {
            Some(0) => out.extend_from_slice(MARKERS[0].1.as_bytes()),
            Some(1) => {
                out.extend_from_slice(MARKERS[1].1.as_bytes());
                out.extend_from_slice(labels.base.as_bytes());
            }
            Some(_) => {
                out.extend_from_slice(MARKERS[2].1.as_bytes());
                out.extend_from_slice(labels.theirs.as_bytes());
            }
            None => out.extend_from_slice(line),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABELS: Labels<'static> = Labels {
        base: "0.1.0",
        theirs: "0.2.0",
    };

    #[test]
    fn separate_changes_merge_cleanly() {
        let base = b"a\nb\nc\nd\ne\n";
        let ours = b"a\nB\nc\nd\ne\n";
        let theirs = b"a\nb\nc\nd\nE\n";
        assert_eq!(
            merge_file(Path::new("notes.txt"), base, ours, theirs, LABELS),
            Merged::Clean(b"a\nB\nc\nd\nE\n".to_vec())
        );
    }

    #[test]
    fn overlapping_changes_get_labelled_diff3_markers() {
        let Merged::Conflict(marked) = merge_file(
            Path::new("notes.txt"),
            b"a\nb\nc\n",
            b"a\nours\nc\n",
            b"a\nnew\nc\n",
            LABELS,
        ) else {
            panic!("expected a conflict");
        };
        assert_eq!(
            String::from_utf8(marked).unwrap(),
            "a\n<<<<<<< project\nours\n||||||| generated 0.1.0\nb\n=======\nnew\n\
             >>>>>>> generated 0.2.0\nc\n"
        );
    }

    #[test]
    fn a_file_holding_diffys_markers_keeps_diffys_labels() {
        let base = b"<<<<<<< ours\nb\n";
        let Merged::Conflict(marked) = merge_file(
            Path::new("notes.txt"),
            base,
            b"<<<<<<< ours\nx\n",
            b"<<<<<<< ours\ny\n",
            LABELS,
        ) else {
            panic!("expected a conflict");
        };
        let text = String::from_utf8(marked).unwrap();
        assert!(text.contains("||||||| original\n"), "{text}");
        assert!(!text.contains("generated"), "{text}");
    }

    #[test]
    fn a_last_line_without_newline_still_gets_markers_on_their_own_lines() {
        let Merged::Conflict(marked) = merge_file(Path::new("notes.txt"), b"a", b"b", b"c", LABELS)
        else {
            panic!("expected a conflict");
        };
        let text = String::from_utf8(marked).unwrap();
        assert!(
            text.starts_with("<<<<<<< project\nb\n||||||| generated 0.1.0\na\n"),
            "{text}"
        );
    }
}
