//! A stand-in for a generated server, std only, that `tests/dev.rs` puts in
//! a generated project's place so `dev` builds it in a second. Like the real
//! one it listens on MCP_LISTEN_ADDR and answers `/readyz` with 200 once it
//! has fetched the keys of SCALEKIT_ENVIRONMENT_URL. It records what the
//! tests check in FAKE_DIR: the variables it got (`env`), its PID
//! (`server.pid`), the PID of a helper process it starts (`helper.pid`: what
//! a server starts must stop with it) and `ready` once it answered 200.
//! FAKE_MODE `crash` exits with 3 after that answer; `never-ready` never
//! gives it.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{self, Command, Stdio};
use std::time::Duration;
use std::{env, fs, thread};

const RECORDED: [&str; 8] = [
    "MCP_LISTEN_ADDR",
    "MCP_SERVER_URL",
    "MCP_RESOURCE",
    "MCP_AUDIENCE",
    "SCALEKIT_ENVIRONMENT_URL",
    "SCALEKIT_RESOURCE_ID",
    "SCALEKIT_JWKS_URL",
    "MCP_ALLOWED_ORIGINS",
];

fn main() {
    let mode = env::var("FAKE_MODE").unwrap_or_default();
    if mode == "helper" {
        thread::sleep(Duration::from_secs(600));
        return;
    }
    let dir = env::var("FAKE_DIR").expect("FAKE_DIR");
    let dir = Path::new(&dir);
    let recorded: String = RECORDED
        .iter()
        .filter_map(|name| Some(format!("{name}={}\n", env::var(name).ok()?)))
        .collect();
    record(dir, "env", &recorded);
    // Never waited for: it outlives the server unless `dev` stops its group.
    #[allow(clippy::zombie_processes)]
    let helper = Command::new(env::current_exe().expect("its own path"))
        .env("FAKE_MODE", "helper")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting the helper");
    record(dir, "helper.pid", &helper.id().to_string());
    record(dir, "server.pid", &process::id().to_string());

    let listener = TcpListener::bind(env::var("MCP_LISTEN_ADDR").expect("MCP_LISTEN_ADDR"))
        .expect("binding MCP_LISTEN_ADDR");
    let ready = mode != "never-ready" && {
        let environment = env::var("SCALEKIT_ENVIRONMENT_URL").expect("SCALEKIT_ENVIRONMENT_URL");
        let keys = get(&environment, "/keys");
        if !(keys.starts_with("HTTP/1.1 200") && keys.contains("\"keys\"")) {
            eprintln!("fake server: {environment}/keys answered:\n{keys}");
            process::exit(2);
        }
        true
    };
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let head = read_head(&mut stream);
        let answered = ready && head.starts_with("GET /readyz ");
        let status = if answered {
            "200 OK"
        } else {
            "503 Service Unavailable"
        };
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        let _ = stream.flush();
        drop(stream);
        if answered {
            record(dir, "ready", "");
            if mode == "crash" {
                process::exit(3);
            }
        }
    }
}

/// Writes a file whole (a rename), so a test never reads half of it.
fn record(dir: &Path, name: &str, text: &str) {
    let partial = dir.join(format!(".{name}.partial"));
    fs::write(&partial, text).expect("writing a record");
    fs::rename(&partial, dir.join(name)).expect("writing a record");
}

/// One HTTP/1.1 GET of `path` from `origin` (`http://host:port`): the answer.
fn get(origin: &str, path: &str) -> String {
    let authority = origin.strip_prefix("http://").expect("an http origin");
    let mut stream = TcpStream::connect(authority).expect("connecting to the stand-in");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .expect("sending a request");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

/// A request's line and headers.
fn read_head(stream: &mut TcpStream) -> String {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut byte = [0; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}
