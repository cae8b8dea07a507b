//! A generated project whose server is replaced by a std-only fake
//! (`fake_server.rs`), and `dev` run on it as a user runs it: in its own
//! process group, its output collected, stopped by signals.

use std::collections::BTreeMap;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::common;

/// Long enough for cargo to build the fake on a busy two-core machine.
pub const STARTUP: Duration = Duration::from_secs(180);
/// How long `dev` may take to stop once told, or to refuse.
pub const EXIT: Duration = Duration::from_secs(30);

const FAKE_MANIFEST: &str = "[package]
name = \"todo-mcp\"
version = \"0.1.0\"
edition = \"2021\"

[workspace]
";

/// A build script that never finishes, to stop `dev` while cargo builds.
pub const SLOW_BUILD: &str = "fn main() {
    let dir = std::env::var(\"FAKE_DIR\").unwrap();
    std::fs::write(format!(\"{dir}/build.pid\"), std::process::id().to_string()).unwrap();
    std::thread::sleep(std::time::Duration::from_secs(600));
}
";

/// The README example generated with a free port (the next one free too, for
/// the stand-in), its server replaced by the fake.
pub struct Fake {
    dir: tempfile::TempDir,
    pub root: PathBuf,
    pub port: u16,
}

impl Fake {
    pub fn new() -> Fake {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port_pair();
        let answers = fs::read_to_string(common::fixture("readme"))
            .unwrap()
            .replace("\nport: 3000\n", &format!("\nport: {port}\n"));
        assert!(
            answers.contains(&format!("port: {port}")),
            "the fixture's port moved"
        );
        let answers_path = dir.path().join("answers.yaml");
        fs::write(&answers_path, answers).unwrap();
        let root = dir.path().join("todo-mcp");
        common::cmd()
            .arg(&root)
            .args(["--vcs", "none", "--quiet", "--answers"])
            .arg(&answers_path)
            .assert()
            .success();
        fs::write(root.join("Cargo.toml"), FAKE_MANIFEST).unwrap();
        fs::remove_file(root.join("Cargo.lock")).unwrap();
        fs::remove_dir_all(root.join("src")).unwrap();
        fs::create_dir(root.join("src")).unwrap();
        fs::write(root.join("src/main.rs"), include_str!("fake_server.rs")).unwrap();
        fs::create_dir(dir.path().join("run")).unwrap();
        // A canonical path: it is compared with the processes' working directories.
        let root = root.canonicalize().unwrap();
        Fake { dir, root, port }
    }

    pub fn auth_port(&self) -> u16 {
        self.port + 1
    }

    pub fn mcp_url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.port)
    }

    /// Where the fake records what it saw.
    pub fn run_dir(&self) -> PathBuf {
        self.dir.path().join("run")
    }

    /// The fake's build output: its own target directory, not the shared one,
    /// whose `debug/todo-mcp` is the real README example other tests run.
    pub fn target_dir(&self) -> PathBuf {
        self.dir.path().join("target")
    }

    /// `mcp-oauth-new dev ARGS` run in the project, the fake told to `mode`.
    pub fn dev(&self, args: &[&str], mode: &str) -> Command {
        let mut command = Command::new(common::BIN);
        command
            .arg("dev")
            .args(args)
            .current_dir(&self.root)
            .env("NO_COLOR", "1")
            .env_remove("CLICOLOR_FORCE")
            .env("CARGO", env!("CARGO"))
            .env("CARGO_TARGET_DIR", self.target_dir())
            .env("CARGO_INCREMENTAL", "0")
            .env("CARGO_TERM_COLOR", "never")
            .env_remove("RUSTFLAGS")
            .env_remove("MCP_ALLOWED_ORIGINS")
            .env("FAKE_DIR", self.run_dir())
            .env("FAKE_MODE", mode);
        command
    }

    /// A PID the fake recorded (`server`, `helper`, `build`).
    pub fn pid(&self, which: &str) -> Option<i32> {
        let text = fs::read_to_string(self.run_dir().join(format!("{which}.pid"))).ok()?;
        Some(text.trim().parse().unwrap())
    }

    pub fn recorded(&self, name: &str) -> bool {
        self.run_dir().join(name).exists()
    }

    /// The variables the fake server was started with.
    pub fn server_env(&self) -> BTreeMap<String, String> {
        fs::read_to_string(self.run_dir().join("env"))
            .expect("the fake server ran")
            .lines()
            .map(|line| {
                let (name, value) = line.split_once('=').unwrap();
                (name.to_owned(), value.to_owned())
            })
            .collect()
    }

    /// Asserts that nothing `dev` started is left: no process works in the
    /// project (cargo, rustc, a build script, the server, its helper), each
    /// recorded PID is gone, and both ports can be bound.
    pub fn assert_nothing_left(&self, ports: &[u16]) {
        for which in ["server", "helper", "build"] {
            if let Some(pid) = self.pid(which) {
                assert!(gone(pid), "the {which} process {pid} is still running");
            }
        }
        let left = processes_in(self.dir.path());
        assert!(left.is_empty(), "processes left behind: {left:?}");
        for &port in ports {
            assert!(
                TcpListener::bind(("127.0.0.1", port)).is_ok(),
                "port {port} is still taken"
            );
        }
    }
}

impl Drop for Fake {
    /// After a failed test, nothing it started outlives it.
    fn drop(&mut self) {
        for (pid, _) in processes_in(self.dir.path()) {
            signal(pid, libc::SIGKILL);
        }
    }
}

/// A port free on 127.0.0.1 whose next port is free too.
pub fn free_port_pair() -> u16 {
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

pub fn signal(pid: i32, signal: libc::c_int) {
    // SAFETY: kill(2) touches no memory.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// Whether `pid` has exited: no such process, or a zombie (exited, its exit
/// status not yet collected by a parent that may not be ours).
pub fn gone(pid: i32) -> bool {
    // SAFETY: kill(2) with signal 0 only checks that the process exists.
    if unsafe { libc::kill(pid, 0) } != 0 {
        return std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
    }
    zombie(pid)
}

fn zombie(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    })
}

/// Live processes whose working directory is in `dir`, with their command lines.
pub fn processes_in(dir: &Path) -> Vec<(i32, String)> {
    let dir = dir.canonicalize().unwrap();
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let in_dir = fs::read_link(entry.path().join("cwd")).is_ok_and(|cwd| cwd.starts_with(&dir));
        if in_dir && !zombie(pid) {
            let cmdline = fs::read(entry.path().join("cmdline")).unwrap_or_default();
            found.push((pid, String::from_utf8_lossy(&cmdline).replace('\0', " ")));
        }
    }
    found
}

/// Bytes a pipe delivered so far, and word when it closed.
struct Collected {
    text: Arc<Mutex<String>>,
    closed: Receiver<()>,
}

impl Collected {
    fn start(mut pipe: impl std::io::Read + Send + 'static) -> Collected {
        let text = Arc::new(Mutex::new(String::new()));
        let (done, closed) = mpsc::channel();
        let sink = text.clone();
        thread::spawn(move || {
            let mut buffer = [0; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut buffer) {
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
            let _ = done.send(());
        });
        Collected { text, closed }
    }

    fn now(&self) -> String {
        self.text.lock().unwrap().clone()
    }
}

/// A running `dev`, in a process group of its own as a shell would start it.
pub struct Dev {
    child: Child,
    stdout: Collected,
    stderr: Collected,
}

/// How a `dev` run ended.
pub struct Ended {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

impl Dev {
    pub fn start(mut command: Command) -> Dev {
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = Collected::start(child.stdout.take().unwrap());
        let stderr = Collected::start(child.stderr.take().unwrap());
        Dev {
            child,
            stdout,
            stderr,
        }
    }

    /// Runs `command` to its end, a build included.
    pub fn run(command: Command) -> Ended {
        Dev::start(command).ended_within(STARTUP)
    }

    pub fn pid(&self) -> i32 {
        self.child.id().try_into().unwrap()
    }

    /// Ctrl-C in a terminal: SIGINT to the foreground process group.
    pub fn interrupt(&self) {
        signal(-self.pid(), libc::SIGINT);
    }

    /// `kill PID`.
    pub fn terminate(&self) {
        signal(self.pid(), libc::SIGTERM);
    }

    /// Waits until `ready` holds, failing with `dev`'s output if it exits
    /// first or takes longer than [`STARTUP`].
    pub fn wait_for(&mut self, what: &str, mut ready: impl FnMut(&str) -> bool) {
        let deadline = Instant::now() + STARTUP;
        while !ready(&self.stdout.now()) {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("dev exited ({status}) before {what}:\n{}", self.output());
            }
            assert!(
                Instant::now() < deadline,
                "no {what} within {} s:\n{}",
                STARTUP.as_secs(),
                self.output()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits (at most [`EXIT`]) for `dev` to exit, and for its output.
    pub fn ended(self) -> Ended {
        self.ended_within(EXIT)
    }

    fn ended_within(mut self, timeout: Duration) -> Ended {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "dev did not exit within {} s:\n{}",
                timeout.as_secs(),
                self.output()
            );
            thread::sleep(Duration::from_millis(50));
        };
        // A process left behind holding the pipes must not hang the test;
        // it fails in `assert_nothing_left`.
        for pipe in [&self.stdout, &self.stderr] {
            let _ = pipe.closed.recv_timeout(Duration::from_secs(5));
        }
        Ended {
            status,
            stdout: self.stdout.now(),
            stderr: self.stderr.now(),
        }
    }

    fn output(&self) -> String {
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout.now(),
            self.stderr.now()
        )
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            signal(-self.pid(), libc::SIGKILL);
            let _ = self.child.wait();
        }
    }
}
