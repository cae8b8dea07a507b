//! The official MCP Python SDK (`mcp` from PyPI, pinned with everything it
//! installs in `tests/python/requirements.txt`) signs in to the README's
//! example under `mcp-oauth-new dev --approve` with its own OAuth client, as
//! `tests/python/client.py` says. The test makes the virtualenv itself (in
//! cargo's `CARGO_TARGET_TMPDIR`, again only when the pins change). Python
//! 3.11 or later with its `venv` module is required: without it the test
//! fails, it does not skip.

mod common;

use std::fs;
use std::io::{BufRead as _, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// A cold shared target builds the generated server's dependencies first.
const BANNER_TIMEOUT: Duration = Duration::from_secs(40 * 60);
const PIP_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// The refresh scenario waits about 33 s for the server's leeway to pass.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(3 * 60);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// Written into the virtualenv once pip installed: the requirements it had.
const STAMP: &str = ".mcp-oauth-new-requirements.txt";
/// dev's log line for an authorization request answered with a redirect.
const AUTHORIZE: &str = "dev auth: 127.0.0.1 \"GET /oauth/authorize\" 302";

fn python_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python")
}

/// The virtualenv's interpreter, with the pinned SDK installed.
fn python_with_sdk() -> PathBuf {
    let check = Command::new("python3")
        .args([
            "-c",
            "import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 11))",
        ])
        .output();
    assert!(
        check.as_ref().is_ok_and(|output| output.status.success()),
        "tests/python_client.rs needs python3 (3.11 or later, with its venv module: Debian's \
         python3-venv) on PATH, for the MCP Python SDK; `.ci/run` installs it. python3: {check:?}"
    );
    let requirements = python_dir().join("requirements.txt");
    let pins = fs::read(&requirements).expect("tests/python/requirements.txt");
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("python-client");
    let python = venv.join("bin/python");
    if fs::read(venv.join(STAMP)).is_ok_and(|installed| installed == pins) {
        return python;
    }
    let mut make = Command::new("python3");
    make.args(["-m", "venv", "--clear"]).arg(&venv);
    run(make, "`python3 -m venv`", PIP_TIMEOUT);
    let mut pip = Command::new(&python);
    pip.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-input",
        "-r",
    ])
    .arg(&requirements);
    run(
        pip,
        "`pip install -r tests/python/requirements.txt`",
        PIP_TIMEOUT,
    );
    fs::write(venv.join(STAMP), &pins).expect("writing the pip stamp");
    python
}

/// Runs `command` to completion within `timeout`; its output, or a failure
/// that shows it.
fn run(mut command: Command, what: &str, timeout: Duration) -> Output {
    let mut child = spawn(&mut command, what);
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let status = wait(&mut child, timeout);
    let output = Output {
        status: status.unwrap_or_default(),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    };
    assert!(
        status.is_some_and(|status| status.success()),
        "{what} failed ({}):\n--- stdout ---\n{}\n--- stderr ---\n{}",
        status.map_or_else(
            || format!("killed after {} s", timeout.as_secs()),
            |s| s.to_string()
        ),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Starts `command` piped, in a process group of its own, so that a timeout
/// ends it and everything it started, and nothing else.
fn spawn(command: &mut Command, what: &str) -> Child {
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(command, 0);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("{what}: cannot start: {error}"))
}

fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buffer = Vec::new();
        let _ = pipe.read_to_end(&mut buffer);
        buffer
    })
}

/// The child's status, or `None` once `timeout` passed and its group was
/// killed.
fn wait(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("waiting for a child") {
            return Some(status);
        }
        thread::sleep(Duration::from_millis(100));
    }
    signal(child, "-KILL", true);
    let _ = child.wait();
    None
}

/// `kill SIGNAL` to the child, or to its whole process group.
fn signal(child: &Child, signal: &str, group: bool) {
    let target = if group {
        format!("-{}", child.id())
    } else {
        child.id().to_string()
    };
    let _ = Command::new("kill").args([signal, "--", &target]).status();
}

/// Two free ports on 127.0.0.1, held at once so that they differ.
fn free_ports() -> (u16, u16) {
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let b = TcpListener::bind("127.0.0.1:0").unwrap();
    (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    )
}

/// The README example, with `port`, generated without git.
fn generate(dir: &Path, port: u16) -> PathBuf {
    let answers = fs::read_to_string(common::fixture("readme")).unwrap();
    assert!(answers.contains("\nport: 3000\n"), "the fixture's port");
    let answers_path = dir.join("answers.yaml");
    fs::write(
        &answers_path,
        answers.replace("\nport: 3000\n", &format!("\nport: {port}\n")),
    )
    .unwrap();
    let project = dir.join("todo-mcp");
    common::cmd()
        .arg(&project)
        .args(["--vcs", "none", "--quiet", "--answers"])
        .arg(&answers_path)
        .assert()
        .success();
    project
}

/// `mcp-oauth-new dev --approve` on the project; its group is killed if the
/// test fails before [`Dev::stop`].
struct Dev {
    child: Child,
    stdout: Receiver<String>,
    stderr: Option<JoinHandle<Vec<u8>>>,
    mcp_url: String,
    ports: (u16, u16),
}

impl Dev {
    fn start(project: &Path, (port, auth_port): (u16, u16), extra: &[&str]) -> Dev {
        let mut command = Command::new(common::BIN);
        command
            .args(["dev", "--approve", "--port", &port.to_string()])
            .args(["--auth-port", &auth_port.to_string()])
            .args(extra)
            .arg(project)
            .env("CARGO", env!("CARGO"))
            .env("CARGO_TARGET_DIR", common::shared_target())
            .env("CARGO_INCREMENTAL", "0")
            .env("CARGO_PROFILE_DEV_DEBUG", "0")
            .env("CARGO_TERM_COLOR", "never")
            .env("NO_COLOR", "1")
            .env_remove("RUSTFLAGS");
        let mut child = spawn(&mut command, "mcp-oauth-new dev");
        let (lines, stdout) = mpsc::channel();
        let pipe = child.stdout.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let stderr = Some(drain(child.stderr.take().unwrap()));
        let mut dev = Dev {
            child,
            stdout,
            stderr,
            mcp_url: format!("http://127.0.0.1:{port}/mcp"),
            ports: (port, auth_port),
        };
        dev.wait_for_banner();
        dev
    }

    /// Until dev prints the MCP URL in its banner, after `/readyz` answered.
    fn wait_for_banner(&mut self) {
        let deadline = Instant::now() + BANNER_TIMEOUT;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left.min(Duration::from_secs(1))) {
                Ok(line) => {
                    let banner = line.trim_start().strip_prefix("MCP server").map(str::trim);
                    if banner == Some(self.mcp_url.as_str()) {
                        return;
                    }
                    seen.push(line);
                }
                Err(RecvTimeoutError::Timeout) if !left.is_zero() => {}
                Err(_) => {
                    self.end();
                    let log = self.log();
                    panic!(
                        "dev printed no banner naming {}:\n--- stdout ---\n{}\n--- stderr ---\n{log}",
                        self.mcp_url,
                        seen.join("\n"),
                    );
                }
            }
        }
    }

    /// SIGTERM to dev alone, which stops the server it runs; its group is
    /// killed if it has not exited within [`STOP_TIMEOUT`].
    fn end(&mut self) -> Option<ExitStatus> {
        if let Some(status) = self.child.try_wait().ok().flatten() {
            return Some(status);
        }
        signal(&self.child, "-TERM", false);
        wait(&mut self.child, STOP_TIMEOUT)
    }

    /// dev's standard error, once everything holding it has exited.
    fn log(&mut self) -> String {
        let Some(stderr) = self.stderr.take() else {
            return String::new();
        };
        let deadline = Instant::now() + STOP_TIMEOUT;
        while !stderr.is_finished() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(100));
        }
        assert!(
            stderr.is_finished(),
            "something dev started still holds its standard error after it exited"
        );
        String::from_utf8_lossy(&stderr.join().unwrap()).into_owned()
    }

    /// Stops dev as a person would: it must exit 0 and free both ports. Its
    /// request log.
    fn stop(mut self) -> String {
        let status = self.end();
        let log = self.log();
        assert!(
            status.is_some_and(|status| status.success()),
            "dev did not exit 0 within {} s of SIGTERM ({status:?}):\n{log}",
            STOP_TIMEOUT.as_secs()
        );
        for port in [self.ports.0, self.ports.1] {
            assert!(
                TcpListener::bind(("127.0.0.1", port)).is_ok(),
                "port {port} is still in use after dev stopped"
            );
        }
        log
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        self.end();
    }
}

/// `client.py SCENARIO URL`; its standard output, shown with --nocapture.
fn client(python: &Path, scenario: &str, dev: &Dev) -> String {
    let mut command = Command::new(python);
    command
        .arg("-u")
        .arg(python_dir().join("client.py"))
        .args([scenario, &dev.mcp_url]);
    let output = run(command, &format!("client.py {scenario}"), CLIENT_TIMEOUT);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    println!("--- client.py {scenario} ---\n{stdout}");
    stdout
}

fn count(log: &str, line: &str) -> usize {
    log.lines().filter(|l| *l == line).count()
}

#[test]
fn the_official_python_sdk_signs_in_steps_up_and_refreshes_through_dev() {
    let python = python_with_sdk();
    let dir = tempfile::tempdir().unwrap();
    let ports = free_ports();
    let project = generate(dir.path(), ports.0);
    let outputs_before = common::deps_listing();

    // Signed in for todo:read only, create_todo is refused with 403
    // insufficient_scope; the SDK authorizes again for both scopes and
    // retries, on its own.
    let dev = Dev::start(&project, ports, &[]);
    let out = client(&python, "step-up", &dev);
    let log = dev.stop();
    for expected in [
        "ok: signed in (registration, PKCE, code, token) for 'todo:read'",
        "ok: list_todos answered: list_todos is not implemented yet. It was called by dev-user",
        "insufficient_scope",
        "ok: step-up: 403 insufficient_scope, the SDK authorized again",
        "ok: create_todo answered: create_todo is not implemented yet",
        "passed: step-up",
    ] {
        assert!(
            out.contains(expected),
            "client.py lacks {expected:?}:\n{out}"
        );
    }
    assert_eq!(count(&log, AUTHORIZE), 2, "a sign-in and a step-up:\n{log}");

    // Tokens live one second: past the server's leeway the old one is
    // refused, and the SDK's next call works through a refresh, without a
    // second authorization.
    let dev = Dev::start(&project, ports, &["--token-ttl", "1"]);
    let out = client(&python, "refresh", &dev);
    let log = dev.stop();
    for expected in [
        "ok: the server refuses the old access token: 401 invalid_token",
        "request: POST /oauth/token grant_type=refresh_token -> 200",
        "no new authorization; list_todos answered",
        "passed: refresh",
    ] {
        assert!(
            out.contains(expected),
            "client.py lacks {expected:?}:\n{out}"
        );
    }
    assert_eq!(count(&log, AUTHORIZE), 1, "one sign-in only:\n{log}");
    assert!(
        count(&log, "dev auth: 127.0.0.1 \"POST /oauth/token\" 200") >= 2,
        "a code and at least one refresh exchanged:\n{log}"
    );
    common::remove_own_outputs(&project, &outputs_before);
}
