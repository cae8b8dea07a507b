//! End to end with real clients, against the product: `tests/e2e` runs the
//! README's example server under `mcp-oauth-new dev` and signs in to it with
//! the official MCP TypeScript SDK's own OAuth client, the MCP Inspector's CLI
//! and headless Chromium on dev's consent page, then points `mcp-oauth-new
//! check` at it. This test generates the project (dev builds it, in the shared
//! `target/generated`), installs the pinned packages (`npm ci`, only when
//! `node_modules` is missing or stale; they include Node.js 22 for the
//! Inspector) and runs the suite with `node --test`, one process per file.
//! Node.js 20.10 or later and npm are required, and Debian's `chromium`
//! (`.ci/run` installs it): without them the test fails, it does not skip.

mod common;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// A cold run compiles the generated server's dependencies; later runs take about a minute.
const SUITE_TIMEOUT: Duration = Duration::from_secs(40 * 60);
/// Test files run at once: most of the suite's time is two waits of about 30 s
/// (a token's expiry, the server's key refresh interval), spent side by side.
const CONCURRENCY: &str = "6";
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
            "the end-to-end suite needs Node.js 20.10+ and npm on PATH ({program} {why}); \
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
fn install_packages(dir: &Path) {
    let lock = fs::read(dir.join("package-lock.json")).expect("tests/e2e/package-lock.json");
    let stamp = dir.join("node_modules").join(STAMP);
    if fs::read(&stamp).is_ok_and(|installed| installed == lock) {
        return;
    }
    let mut npm = Command::new("npm");
    // No package needs its install scripts (the Inspector's only installs its
    // own clients in a source checkout); running none is also what npm heads for.
    npm.args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"])
        .current_dir(dir);
    run(npm, "`npm ci` in tests/e2e", NPM_CI_TIMEOUT);
    fs::write(&stamp, &lock).expect("writing the npm ci stamp");
}

/// The README's example, generated once for every test file; each runs its
/// own `dev` on it.
fn generate(dir: &Path) -> PathBuf {
    let project = dir.join("todo-mcp");
    let mut generate = Command::new(common::BIN);
    generate
        .arg(&project)
        .arg("--answers")
        .arg(common::fixture("readme"))
        .args(["--vcs", "none", "--quiet"]);
    run(
        generate,
        "generating the README example",
        Duration::from_secs(60),
    );
    project
}

/// The `*.test.js` files, in order.
fn test_files(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = fs::read_dir(dir)
        .expect("reading tests/e2e")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".test.js"))
        .collect();
    files.sort();
    files
}

#[test]
fn real_clients_sign_in_to_a_generated_server_under_dev() {
    let node = require("node");
    let version: Vec<u32> = node
        .trim_start_matches('v')
        .split('.')
        .map(|part| part.parse().unwrap_or(0))
        .collect();
    assert!(
        version.as_slice() >= [20, 10].as_slice(),
        "the end-to-end suite needs Node.js 20.10 or later (node --test --test-concurrency), \
         found {node}"
    );
    require("npm");

    let dir = e2e_dir();
    install_packages(&dir);
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let project = generate(scratch.path());
    let output_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e");

    let mut suite = Command::new("node");
    suite
        .args([
            "--test",
            "--test-reporter=spec",
            &format!("--test-concurrency={CONCURRENCY}"),
        ])
        .args(test_files(&dir))
        .current_dir(&dir)
        .env("MCP_OAUTH_NEW_BIN", common::BIN)
        .env("CARGO", env!("CARGO"))
        .env("MCP_OAUTH_NEW_GENERATED_TARGET", common::shared_target())
        .env("MCP_OAUTH_NEW_E2E_PROJECT", &project)
        .env("MCP_OAUTH_NEW_E2E_OUTPUT", &output_dir)
        .env("NO_COLOR", "1")
        .env_remove("FORCE_COLOR");
    let output = run(suite, "`node --test` in tests/e2e", SUITE_TIMEOUT);
    // Shown with --nocapture: what was proven, and one sign-in request by request.
    println!("{}", String::from_utf8_lossy(&output.stdout));
    let transcript = output_dir.join("sign-in-transcript.txt");
    println!(
        "{}:\n{}",
        transcript.display(),
        fs::read_to_string(&transcript).expect("the suite writes the sign-in transcript")
    );
}
