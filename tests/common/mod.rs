//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};

pub const BIN: &str = env!("CARGO_BIN_EXE_mcp-oauth-new");

/// The directory holding the answer fixtures.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{name}.yaml"))
}

/// The command under test, with colours and prompts ruled out.
pub fn cmd() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(BIN);
    cmd.env("NO_COLOR", "1").env_remove("CLICOLOR_FORCE");
    cmd
}

/// Every file below `root` (except `.git`) with its contents.
pub fn tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let contents = fs::read(&path).unwrap();
                out.insert(path.strip_prefix(root).unwrap().to_path_buf(), contents);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// One cargo at a time: generated projects share a target directory, and the
/// machine's cores are better spent on one build than split across several.
static CARGO: Mutex<()> = Mutex::new(());

/// The target directory every generated project is built in, so only the
/// first build compiles their dependencies.
pub fn shared_target() -> PathBuf {
    std::env::var_os("MCP_OAUTH_NEW_GENERATED_TARGET")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/generated"))
}

/// Runs cargo in a generated project, in the shared target directory.
pub fn cargo(project: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO"))
        .args(args)
        .current_dir(project)
        .env("CARGO_TARGET_DIR", shared_target())
        .env("CARGO_INCREMENTAL", "0")
        // Debug info would make each test binary about 160 MB, and every
        // generated project has its own: a full run filled a CI machine's disk.
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("RUSTFLAGS")
        .output()
        .expect("running cargo")
}

fn cargo_ok(project: &Path, args: &[&str]) {
    let output = cargo(project, args);
    assert!(
        output.status.success(),
        "`cargo {}` failed in {}:\n{}\n{}",
        args.join(" "),
        project.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Holds the shared target directory for one cargo at a time.
pub fn one_cargo_at_a_time() -> MutexGuard<'static, ()> {
    CARGO
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What a user runs on a generated project, in the shared target directory:
/// `cargo fmt --check`, `build`, `test` and `clippy -D warnings`.
pub fn build_test_lint(project: &Path) {
    build_test_lint_with(project, &[]);
}

/// [`build_test_lint`] with extra cargo arguments, e.g. `--features otel`.
/// The project's own build outputs are removed afterwards (its dependencies'
/// stay for the next project): each generated project has its own, about
/// 400 MB, and together they would fill a small CI disk.
pub fn build_test_lint_with(project: &Path, extra: &[&str]) {
    let _one_at_a_time = one_cargo_at_a_time();
    let before = deps_listing();
    cargo_ok(project, &["fmt", "--check"]);
    cargo_ok(project, &[&["build", "--locked"], extra].concat());
    cargo_ok(project, &[&["test", "--locked"], extra].concat());
    cargo_ok(
        project,
        &[
            &["clippy", "--locked", "--all-targets"],
            extra,
            &["--", "-D", "warnings"],
        ]
        .concat(),
    );
    remove_own_outputs(project, &before);
}

/// The files in the shared target's `deps` directory.
pub fn deps_listing() -> BTreeSet<PathBuf> {
    fs::read_dir(shared_target().join("debug/deps"))
        .map(|entries| entries.map(|entry| entry.unwrap().path()).collect())
        .unwrap_or_default()
}

/// Removes what the last builds of `project` added to `deps` for its own
/// crates: its library (`mcp_server`), and the executables of its binary and
/// test targets with their `.d` files. A test target can share a name with a
/// dependency (`metrics`), whose library files stay.
pub fn remove_own_outputs(project: &Path, before: &BTreeSet<PathBuf>) {
    let manifest = fs::read_to_string(project.join("Cargo.toml")).unwrap();
    let package = manifest
        .lines()
        .find_map(|line| line.strip_prefix("name = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("the package name");
    let mut targets: BTreeSet<String> =
        ["mcp_server".to_string(), package.replace('-', "_")].into();
    for entry in fs::read_dir(project.join("tests")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|extension| extension == "rs") {
            targets.insert(path.file_stem().unwrap().to_string_lossy().into_owned());
        }
    }
    let added: Vec<PathBuf> = deps_listing().difference(before).cloned().collect();
    let executable = |stem: &str| added.iter().any(|path| path.file_name().unwrap() == stem);
    for path in &added {
        let name = path.file_name().unwrap().to_string_lossy();
        let (stem, extension) = name.split_once('.').unwrap_or((&name, ""));
        let Some((krate, _hash)) = stem.rsplit_once('-') else {
            continue;
        };
        let own = krate.strip_prefix("lib") == Some("mcp_server")
            || krate == "mcp_server"
            || (targets.contains(krate) && (extension.is_empty() || executable(stem)));
        if own {
            fs::remove_file(path).unwrap();
        }
    }
}

/// Generates `fixture` into a new temporary directory, without git; the
/// directory lives as long as the returned guard.
pub fn generate(fixture_name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::TempDir::new().unwrap();
    let project = dir.path().join(fixture_name);
    cmd()
        .arg(&project)
        .args(["--vcs", "none", "--quiet", "--answers"])
        .arg(fixture(fixture_name))
        .assert()
        .success();
    (dir, project)
}

/// Builds a generated project (in the shared target directory) and returns
/// its server binary.
pub fn build_server(project: &Path, binary: &str) -> PathBuf {
    let build = cargo(project, &["build", "--locked", "--quiet"]);
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    shared_target().join("debug").join(binary)
}

/// Runs git in `dir` with a fixed identity; returns its standard output.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("running git");
    assert!(
        output.status.success(),
        "git {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}
