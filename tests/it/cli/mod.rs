//! The command line, run as users and CI run it.

mod invocation;
mod messages;
mod validation;
mod writing;

use std::fs;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common;
use crate::common::{cmd, fixture, tree};
use predicates::prelude::*;
use predicates::str::contains;
use tempfile::TempDir;

const SCALEKIT: &str =
    "scalekit:\n  environment_url: https://acme.scalekit.com\n  resource_id: res_1\n";

/// A valid answers file plus `extra`; `server_url` is added unless `extra`
/// sets it.
fn answers_with(extra: &str) -> String {
    let server = if extra.contains("server_url:") {
        ""
    } else {
        "server_url: https://mcp.example.com\n"
    };
    format!("{server}{SCALEKIT}{extra}")
}

/// Runs the generator on answers from standard input, in dry-run mode.
fn dry_run(answers: &str) -> assert_cmd::assert::Assert {
    let dir = TempDir::new().unwrap();
    cmd()
        .arg(dir.path().join("srv"))
        .args(["--answers", "-", "--dry-run"])
        .write_stdin(answers)
        .assert()
}
