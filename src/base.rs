//! The base record: the exact bytes the generator last wrote, kept in the
//! project (`.mcp-oauth/base.tar.gz`) so that `update` can merge three ways
//! without the older generator, the network or git.
//!
//! It is a tar of every generated file plus one entry naming the generator
//! version, gzip-compressed (two members from 0.4.1 on, one before), written
//! deterministically (fixed order, times, modes and owners), so the same
//! files always give the same bytes.

use std::fs;
use std::io::{self, Read as _, Write as _};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

use crate::render::Files;

/// Where the record lives, relative to the project root.
pub const PATH: &str = ".mcp-oauth/base.tar.gz";

/// The entry holding the generator version. It lies under `.mcp-oauth/`,
/// where no template writes, so it can never be taken for a generated file.
const VERSION_ENTRY: &str = ".mcp-oauth/generator-version";

/// What the generator last wrote into a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    /// The generator version that wrote it.
    pub version: String,
    /// The generated files, by path relative to the project root.
    pub files: Files,
}

/// The record of `files`, written by generator `version`.
///
/// One tar stream, compressed as two gzip members on two threads (gzip
/// readers join members, as `gunzip` does): the compression was most of a
/// generation. The lock file and the tests go into the first member, the
/// rest into the second: for the README example that split compresses
/// smaller than one member (bench/README.md, "Generation and update").
pub fn pack(version: &str, files: &Files) -> Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    let (first, second): (Vec<_>, Vec<_>) = files
        .iter()
        .partition(|(path, _)| *path == Path::new("Cargo.lock") || path.starts_with("tests"));
    for (path, contents) in first {
        append(&mut tar, path, contents)?;
    }
    // The version opens the second member: generators up to 0.4.0 read only
    // the first, so there they find no version and refuse the record
    // instead of merging against a part of it.
    let split = tar.get_ref().len();
    append(
        &mut tar,
        Path::new(VERSION_ENTRY),
        format!("{version}\n").as_bytes(),
    )?;
    for (path, contents) in second {
        append(&mut tar, path, contents)?;
    }
    let tar = tar.into_inner().context("finishing the base archive")?;
    let (head, tail) = tar.split_at(split);
    let (tail, head) = crate::join(|| gzip(tail), || gzip(head));
    let mut record = head.context("compressing the base archive")?;
    record.extend(tail.context("compressing the base archive")?);
    Ok(record)
}

/// A plain file entry with fixed times, mode and owners.
fn append(tar: &mut tar::Builder<Vec<u8>>, path: &Path, contents: &[u8]) -> Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(contents.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    tar.append_data(&mut header, path, contents)
        .with_context(|| format!("recording {} in the base", path.display()))
}

/// One gzip member. zlib-rs at level 5: as small as miniz_oxide's best in a
/// sixth of its time.
fn gzip(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::new(5));
    encoder.write_all(bytes)?;
    encoder.finish()
}

/// Reads a record written by [`pack`]. Entries must be plain files at
/// relative paths without `..`: a tampered record cannot name a file outside
/// the project.
pub fn unpack(bytes: &[u8]) -> Result<Base> {
    // Inflated at once, then read as slices: entry by entry through the
    // decoder, buffers were copied and zeroed several times over.
    let mut tar = Vec::with_capacity(bytes.len().saturating_mul(4));
    MultiGzDecoder::new(bytes)
        .read_to_end(&mut tar)
        .context("decompressing the base archive")?;
    let mut archive = tar::Archive::new(io::Cursor::new(tar.as_slice()));
    let mut version = None;
    let mut files = Files::new();
    // Seeking past the padding instead of reading it into a zeroed buffer.
    let entries = archive
        .entries_with_seek()
        .context("reading the base archive")?;
    for entry in entries {
        let mut entry = entry.context("reading the base archive")?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            bail!("the base archive holds something other than a file");
        }
        let path = entry
            .path()
            .context("reading a path in the base")?
            .into_owned();
        if path.as_os_str().is_empty()
            || !path.components().all(|c| matches!(c, Component::Normal(_)))
        {
            bail!(
                "the base archive names a path outside the project: {}",
                path.display()
            );
        }
        // The header's size bounded by the archive's: a tampered one cannot
        // make this allocate more than the record holds.
        let size = usize::try_from(entry.size()).map_or(tar.len(), |size| size.min(tar.len()));
        let mut contents = Vec::with_capacity(size);
        entry
            .read_to_end(&mut contents)
            .with_context(|| format!("reading {} from the base", path.display()))?;
        if path == Path::new(VERSION_ENTRY) {
            let text = String::from_utf8(contents).context("the base's version is not UTF-8")?;
            version = Some(text.trim().to_string());
        } else {
            files.insert(path, contents);
        }
    }
    let version = version.context("the base archive does not name its generator version")?;
    Ok(Base { version, files })
}

/// The record in the project at `root`, or `None` when there is none.
pub fn read(root: &Path) -> Result<Option<Base>> {
    let path = root.join(PATH);
    match fs::read(&path) {
        Ok(bytes) => unpack(&bytes)
            .map(Some)
            .with_context(|| format!("{} is damaged", path.display())),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
    }
}

/// `files` with their record added: what a generation writes.
pub fn with_record(version: &str, mut files: Files) -> Result<Files> {
    let record = pack(version, &files)?;
    files.insert(PathBuf::from(PATH), record);
    Ok(files)
}

#[cfg(test)]
mod tests {
    use flate2::read::GzDecoder;

    use super::*;

    fn sample() -> Files {
        Files::from([
            (PathBuf::from("src/main.rs"), b"fn main() {}\n".to_vec()),
            (PathBuf::from("README.md"), "é\n".as_bytes().to_vec()),
            (PathBuf::from("empty"), Vec::new()),
            (PathBuf::from("Cargo.lock"), b"version = 4\n".to_vec()),
            (
                PathBuf::from("tests/auth.rs"),
                b"#[test]\nfn t() {}\n".to_vec(),
            ),
        ])
    }

    /// The entries of the record's first gzip member alone, as generators
    /// up to 0.4.0 read it.
    fn first_member(record: &[u8]) -> Vec<String> {
        let mut archive = tar::Archive::new(GzDecoder::new(record));
        let entries = archive.entries().unwrap();
        entries
            .map(|entry| entry.unwrap().path().unwrap().display().to_string())
            .collect()
    }

    #[test]
    fn a_record_reads_back_exactly() {
        let base = unpack(&pack("1.2.3", &sample()).unwrap()).unwrap();
        assert_eq!(base.version, "1.2.3");
        assert_eq!(base.files, sample());
    }

    #[test]
    fn the_same_files_give_the_same_bytes() {
        assert_eq!(pack("1", &sample()).unwrap(), pack("1", &sample()).unwrap());
        assert_ne!(pack("1", &sample()).unwrap(), pack("2", &sample()).unwrap());
    }

    #[test]
    fn a_path_outside_the_project_is_refused() {
        let mut tar = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(1);
        header.set_entry_type(tar::EntryType::Regular);
        // `append_data` refuses `..` itself, so write the name directly.
        header.as_gnu_mut().unwrap().name[..9].copy_from_slice(b"../escape");
        header.set_cksum();
        tar.append(&header, &b"x"[..]).unwrap();
        let bytes = gzip(&tar.into_inner().unwrap()).unwrap();
        let error = unpack(&bytes).unwrap_err();
        assert!(
            error.to_string().contains("outside the project"),
            "{error:#}"
        );
    }

    #[test]
    fn an_older_reader_sees_only_the_first_member_which_names_no_version() {
        // Up to 0.4.0, `unpack` read one member and refused a record
        // without the version entry.
        let record = pack("1", &sample()).unwrap();
        assert_eq!(first_member(&record), ["Cargo.lock", "tests/auth.rs"]);
        assert_eq!(unpack(&record).unwrap().files, sample());
    }

    #[test]
    fn a_record_of_one_member_as_before_0_4_1_reads_back() {
        let mut tar = tar::Builder::new(Vec::new());
        append(&mut tar, Path::new(VERSION_ENTRY), b"0.3.0\n").unwrap();
        for (path, contents) in sample() {
            append(&mut tar, &path, &contents).unwrap();
        }
        let record = gzip(&tar.into_inner().unwrap()).unwrap();
        let base = unpack(&record).unwrap();
        assert_eq!(base.version, "0.3.0");
        assert_eq!(base.files, sample());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(unpack(b"not a gzip stream").is_err());
    }
}
