//! Servers that cannot be reached, never answer, or hold their streams open.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

use super::*;

#[test]
fn an_unreachable_server_fails_fast_with_a_clear_reason() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let start = Instant::now();
    let assert = cmd()
        .args(["check", &format!("http://127.0.0.1:{port}/mcp")])
        .timeout(Duration::from_secs(30))
        .assert()
        .code(1);
    assert!(start.elapsed() < Duration::from_secs(10));
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains(&format!("connection refused to 127.0.0.1:{port}")),
        "{stdout}"
    );
    assert!(stdout.contains("FAIL  unauthenticated-401"), "{stdout}");
}

#[test]
fn a_server_that_never_answers_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accepts connections and holds them open without a word.
    thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(16) {
            held.push(stream);
        }
    });
    let start = Instant::now();
    let (report, code) = cli_json(&[
        &format!("http://127.0.0.1:{port}/mcp"),
        "--timeout",
        "1",
        "--token",
        GOOD,
    ]);
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(code, Some(1));
    let reason = report["checks"][1]["reason"].as_str().unwrap();
    assert!(reason.contains("timed out after 1 s"), "{reason}");
    assert_eq!(json_status(&report, "unauthenticated-401"), "fail");
}

/// Answers every POST with an event stream that carries the JSON-RPC answer
/// and then stays open for `hold`, as servers may; GETs get a 404.
fn held_stream_server(hold: Duration) -> String {
    fn serve(stream: TcpStream, hold: Duration) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = Vec::new();
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 2 {
            head.push(std::mem::take(&mut line));
        }
        let length = head
            .iter()
            .find_map(|h| {
                h.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse::<usize>().unwrap())
            })
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let mut stream = stream;
        if !head[0].starts_with("POST") {
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
            return;
        }
        let request: Value = serde_json::from_slice(&body).unwrap();
        if request.get("id").is_none() {
            let _ = stream.write_all(
                b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
            return;
        }
        let answer = json!({"jsonrpc": "2.0", "id": request["id"], "result": {
            "protocolVersion": "2025-06-18", "serverInfo": {"name": "held"}, "tools": [],
        }});
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\ndata: {answer}\n\n"
        );
        let _ = stream.flush();
        thread::sleep(hold);
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for stream in listener.incoming().take(32).flatten() {
            thread::spawn(move || serve(stream, hold));
        }
    });
    format!("http://127.0.0.1:{port}/mcp")
}

#[test]
fn an_event_stream_left_open_is_read_only_up_to_the_answer() {
    let url = held_stream_server(Duration::from_secs(20));
    let mut options = options(&url);
    options.timeout = Duration::from_secs(3);
    options.wrong_audience_token = None;
    let start = Instant::now();
    let report = check::run(&options);
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(
        status(&report, CheckId::AuthenticatedInitialize),
        Status::Pass,
        "{report:#?}"
    );
    assert_eq!(
        status(&report, CheckId::AuthenticatedToolsList),
        Status::Pass,
        "{report:#?}"
    );
    // The server answers without a token: the probe says so.
    assert_eq!(status(&report, CheckId::Unauthenticated401), Status::Fail);
}
