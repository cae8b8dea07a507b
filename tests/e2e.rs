//! End to end with real clients: `tests/e2e` generates the README's example
//! server, builds it (in the shared `target/generated`), runs it on loopback
//! against a Scalekit stand-in and drives it with the official MCP TypeScript
//! SDK, then points `mcp-oauth-new check` at it. This test installs the pinned
//! SDK (`npm ci`, only when `node_modules` is missing or stale) and runs that
//! suite with `node --test`. Node.js 20 or later and npm are required: without
//! them the test fails, it does not skip.

mod common;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// A cold run compiles the generated server's dependencies; later runs take seconds.
const SUITE_TIMEOUT: Duration = Duration::from_secs(40 * 60);
const NPM_CI_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// Written into `node_modules` after `npm ci`: the lockfile it installed.
const STAMP: &str = ".mcp-oauth-new-package-lock.json";

fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e")
}

/// The program's `--version`, or a failure saying what to install.
fn require(program: &str) -> String {
    let missing = |why: String| -> ! {
        panic!(
            "the end-to-end suite needs Node.js 20+ and npm on PATH ({program} {why}); \
             install them (https://nodejs.org) and run `cargo test --test e2e` again"
        )
    };
    match Command::new(program).arg("--version").output() {
        Ok(output) if output.status.success() => {
            String::from_utf8_lossy(&output.stdout).trim().to_owned()
        }
        Ok(output) => missing(format!("--version exited with {}", output.status)),
        Err(error) => missing(format!("could not be run: {error}")),
    }
}

/// Runs `command` to completion, killing it after `timeout`; its output on failure.
fn run(mut command: Command, what: &str, timeout: Duration) -> Output {
    own_group(&mut command);
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("{what}: cannot start: {error}"));
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let status = wait(&mut child, timeout, what);
    let output = Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    };
    assert!(
        output.status.success(),
        "{what} failed ({}):\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buffer = Vec::new();
        let _ = pipe.read_to_end(&mut buffer);
        buffer
    })
}

/// Waits for `child`; past `timeout`, stops its process group (which holds
/// everything it started: cargo, the server) with SIGTERM, then SIGKILL.
fn wait(child: &mut Child, timeout: Duration, what: &str) -> std::process::ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("waiting for a child") {
            return status;
        }
        if Instant::now() >= deadline {
            signal_group(child, "-TERM");
            let grace = Instant::now() + Duration::from_secs(10);
            while Instant::now() < grace && child.try_wait().ok().flatten().is_none() {
                thread::sleep(Duration::from_millis(100));
            }
            signal_group(child, "-KILL");
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {} s", timeout.as_secs());
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// Sends `signal` to the process group `child` leads (see `own_group`).
fn signal_group(child: &Child, signal: &str) {
    if cfg!(unix) {
        let _ = Command::new("kill")
            .args([signal, "--", &format!("-{}", child.id())])
            .status();
    }
}

/// Starts `command` in a new process group led by itself, so a timeout can end
/// it and every process it started, and nothing else.
fn own_group(command: &mut Command) {
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(command, 0);
    #[cfg(not(unix))]
    let _ = command;
}

/// `npm ci` unless `node_modules` holds exactly what `package-lock.json` pins.
fn install_sdk(dir: &Path) {
    let lock = fs::read(dir.join("package-lock.json")).expect("tests/e2e/package-lock.json");
    let stamp = dir.join("node_modules").join(STAMP);
    if fs::read(&stamp).is_ok_and(|installed| installed == lock) {
        return;
    }
    let mut npm = Command::new("npm");
    npm.args(["ci", "--no-audit", "--no-fund"]).current_dir(dir);
    run(npm, "`npm ci` in tests/e2e", NPM_CI_TIMEOUT);
    fs::write(&stamp, &lock).expect("writing the npm ci stamp");
}

#[test]
fn the_official_typescript_sdk_drives_a_generated_server() {
    let node = require("node");
    let major: u32 = node
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|major| major.parse().ok())
        .unwrap_or(0);
    assert!(
        major >= 20,
        "the end-to-end suite needs Node.js 20 or later, found {node}"
    );
    require("npm");

    let dir = e2e_dir();
    install_sdk(&dir);

    let mut suite = Command::new("node");
    suite
        .args(["--test", "--test-reporter=spec", "e2e.test.js"])
        .current_dir(&dir)
        .env("MCP_OAUTH_NEW_BIN", env!("CARGO_BIN_EXE_mcp-oauth-new"))
        .env("CARGO", env!("CARGO"))
        .env("MCP_OAUTH_NEW_GENERATED_TARGET", common::shared_target())
        .env("NO_COLOR", "1")
        .env_remove("FORCE_COLOR");
    let output = run(suite, "`node --test` in tests/e2e", SUITE_TIMEOUT);
    // Shown with --nocapture: what was proven.
    println!("{}", String::from_utf8_lossy(&output.stdout));
}
