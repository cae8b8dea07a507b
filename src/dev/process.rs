//! The project's own server, run for `dev`: built by cargo (its progress
//! shown), started with the stand-in's variables, watched until it is ready,
//! and stopped with everything it started, whatever ends the run.

use std::io::{BufRead as _, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::Error;

/// How long a started server may take to answer `/readyz` with 200.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a server may take to shut down gracefully before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(100);

/// Set by SIGINT or SIGTERM.
#[derive(Clone)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    /// Catches SIGINT and SIGTERM from now on: they set the flag instead of
    /// ending the process, so `dev` can stop what it started.
    pub fn on_signals() -> Result<Stop, Error> {
        let flag = Arc::new(AtomicBool::new(false));
        #[cfg(unix)]
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            signal_hook::flag::register(signal, flag.clone())
                .map_err(|error| Error::Internal(anyhow::anyhow!("catching signals: {error}")))?;
        }
        Ok(Stop(flag))
    }

    pub fn requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Sleeps until a signal; for `--auth-only`.
    pub fn wait(&self) {
        while !self.requested() {
            thread::sleep(POLL);
        }
    }
}

/// A child process in a process group of its own, so that stopping it stops
/// what it started (cargo's compilers); stopped when dropped.
struct Group {
    child: Child,
}

impl Group {
    fn spawn(mut command: Command) -> std::io::Result<Group> {
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        Ok(Group {
            child: command.spawn()?,
        })
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGTERM to the group, then SIGKILL after `grace`; waits for the child.
    /// A child that exited on its own may have left what it started running
    /// in its group: that is killed all the same.
    fn stop(&mut self, grace: Duration) -> ExitStatus {
        if let Some(status) = self.exited() {
            self.signal(Kill::Kill);
            return status;
        }
        self.signal(Kill::Term);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Some(status) = self.exited() {
                self.signal(Kill::Kill);
                return status;
            }
            thread::sleep(POLL / 2);
        }
        self.signal(Kill::Kill);
        self.child.wait().unwrap_or_else(|_| ExitStatus::default())
    }

    #[cfg(unix)]
    fn signal(&self, kill: Kill) {
        let signal = match kill {
            Kill::Term => libc::SIGTERM,
            Kill::Kill => libc::SIGKILL,
        };
        let Ok(group) = libc::pid_t::try_from(self.child.id()) else {
            return;
        };
        // SAFETY: kill(2) with a negative pid signals the child's own group,
        // made by `process_group(0)` above; it touches no memory.
        unsafe {
            libc::kill(-group, signal);
        }
    }

    #[cfg(not(unix))]
    fn signal(&mut self, _: Kill) {
        let _ = self.child.kill();
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.stop(STOP_GRACE);
    }
}

#[derive(Clone, Copy)]
enum Kill {
    Term,
    Kill,
}

/// Fails with advice when something already listens on `127.0.0.1:port`.
pub fn ensure_free(port: u16, flag: &str) -> Result<(), Error> {
    TcpListener::bind(("127.0.0.1", port))
        .map(drop)
        .map_err(|error| port_in_use(port, flag, &error))
}

pub fn port_in_use(port: u16, flag: &str, error: &dyn std::fmt::Display) -> Error {
    Error::Refused(format!(
        "port {port} on 127.0.0.1 is not available ({error}): stop what uses it, or choose \
         another port with {flag}"
    ))
}

/// `cargo build` of the project's binary; its path.
pub fn build(root: &Path, binary: &str, stop: &Stop) -> Result<PathBuf, Error> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args([
            "build",
            "--message-format=json-render-diagnostics",
            "--bin",
            binary,
        ])
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    let mut build = Group::spawn(command).map_err(|error| {
        Error::Refused(format!(
            "cannot run cargo ({error}); is Rust installed (https://rustup.rs)?"
        ))
    })?;
    let stdout = build.child.stdout.take().expect("stdout is piped");
    let wanted = binary.to_owned();
    let reader = thread::spawn(move || {
        let mut executable = None;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let Ok(message) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            let is_binary = message["reason"] == "compiler-artifact"
                && message["target"]["kind"]
                    .as_array()
                    .is_some_and(|kinds| kinds.iter().any(|kind| kind == "bin"));
            if is_binary && message["target"]["name"] == wanted.as_str() {
                executable = message["executable"].as_str().map(PathBuf::from);
            }
        }
        executable
    });
    let status = loop {
        if stop.requested() {
            build.stop(STOP_GRACE);
            return Err(Error::Refused("stopped while building".into()));
        }
        if let Some(status) = build.exited() {
            break status;
        }
        thread::sleep(POLL);
    };
    let executable = reader.join().ok().flatten();
    match executable {
        Some(executable) if status.success() => Ok(executable),
        _ if !status.success() => Err(Error::Refused(format!(
            "the project did not build ({status}): fix the errors cargo printed above, then run \
             mcp-oauth-new dev again"
        ))),
        _ => Err(Error::Refused(format!(
            "cargo built no binary named `{}` in {}; dev runs the binary named after the \
             package",
            binary,
            root.display()
        ))),
    }
}

/// The running server.
pub struct Server {
    group: Group,
}

impl Server {
    /// Starts the built server with `env` added to this process's environment.
    pub fn start(
        executable: &Path,
        root: &Path,
        env: &[(&str, String)],
        remove: &[&str],
    ) -> Result<Server, Error> {
        let mut command = Command::new(executable);
        command.current_dir(root).stdin(Stdio::null());
        for name in remove {
            command.env_remove(name);
        }
        for (name, value) in env {
            command.env(name, value);
        }
        let group = Group::spawn(command).map_err(|error| {
            Error::Refused(format!("cannot start {}: {error}", executable.display()))
        })?;
        Ok(Server { group })
    }

    /// Waits until `/readyz` answers 200; fails when the server exits, a
    /// signal comes, or it takes too long.
    pub fn wait_ready(&mut self, ready_url: &str, stop: &Stop) -> Result<(), Error> {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(1)))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .new_agent();
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if stop.requested() {
                return Err(Error::Refused("stopped before the server was ready".into()));
            }
            if let Some(status) = self.group.exited() {
                return Err(exited(status));
            }
            if agent
                .get(ready_url)
                .call()
                .is_ok_and(|response| response.status() == 200)
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::Refused(format!(
                    "the server did not become ready within {} s ({ready_url} never answered \
                     200); its log above says why",
                    READY_TIMEOUT.as_secs()
                )));
            }
            thread::sleep(POLL);
        }
    }

    /// Runs until a signal (Ok) or until the server exits on its own (Err).
    pub fn supervise(mut self, stop: &Stop) -> Result<(), Error> {
        loop {
            if let Some(status) = self.group.exited() {
                return Err(exited(status));
            }
            if stop.requested() {
                self.group.stop(STOP_GRACE);
                return Ok(());
            }
            thread::sleep(POLL);
        }
    }
}

fn exited(status: ExitStatus) -> Error {
    Error::Refused(format!(
        "the server exited on its own ({status}); the stand-in was stopped too. Its log above \
         says why"
    ))
}
