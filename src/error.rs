//! The failures `mcp-oauth-new` reports, each tied to its documented exit code.

use std::fmt;

use crate::answers::Problems;

/// Why a run failed. The variant decides the exit code (see `--help`).
#[derive(Debug)]
pub enum Error {
    /// The answers are invalid or incomplete; nothing was written.
    Invalid(Problems),
    /// An input could not be read: the answers file or standard input, a
    /// prompt, a project's base record. The user can fix it; nothing was
    /// written.
    Input(anyhow::Error),
    /// A bug in mcp-oauth-new itself (a template that does not render, say);
    /// nothing was written.
    Internal(anyhow::Error),
    /// The operation was refused (for example a non-empty target without
    /// `--force`); nothing was written.
    Refused(String),
    /// Writing failed; the staging directory was removed and the target is as
    /// it was.
    Write(anyhow::Error),
    /// `check` ran and this many checks failed (the report says which).
    ChecksFailed(usize),
    /// `update` wrote conflict markers into these files; everything else was
    /// updated.
    Conflicts(Vec<String>),
    /// The command line lacks what this context needs (clap's own usage
    /// errors exit 2 the same way).
    Usage(String),
}

impl Error {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Invalid(_)
            | Error::Input(_)
            | Error::Internal(_)
            | Error::Refused(_)
            | Error::ChecksFailed(_) => 1,
            Error::Usage(_) => 2,
            Error::Write(_) => 3,
            Error::Conflicts(_) => 4,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Invalid(problems) => write!(f, "{problems}"),
            Error::Input(error) | Error::Write(error) => write!(f, "{error:#}"),
            Error::Internal(error) => write!(
                f,
                "internal error: {error:#}. This is a bug in mcp-oauth-new {}; please report \
                 it with the command and answers that caused it",
                env!("CARGO_PKG_VERSION")
            ),
            Error::Refused(reason) | Error::Usage(reason) => f.write_str(reason),
            Error::ChecksFailed(1) => f.write_str("1 check failed"),
            Error::ChecksFailed(n) => write!(f, "{n} checks failed"),
            Error::Conflicts(paths) => write!(
                f,
                "conflict markers written into {}: both you and the generator changed the \
                 same lines. Resolve each block between `<<<<<<< project` and `>>>>>>> \
                 generated`, then run cargo build and cargo test",
                paths.join(", ")
            ),
        }
    }
}

impl std::error::Error for Error {}

impl From<Problems> for Error {
    fn from(problems: Problems) -> Self {
        Error::Invalid(problems)
    }
}
