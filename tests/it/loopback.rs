//! A small HTTP server on 127.0.0.1 whose answers a test decides: documents a
//! client fetches (client metadata for `dev`, resource and key sets for
//! `check`).

use std::sync::Arc;
use std::thread::{self, JoinHandle};

use tiny_http::{Header, Request, Response, Server};

/// One answer: a status, its headers and a body.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    /// A JSON body with this status.
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Answer {
        Answer {
            status,
            headers: vec![("Content-Type", "application/json".into())],
            body: body.into(),
        }
    }
}

/// Serves until dropped.
pub struct Loopback {
    server: Arc<Server>,
    thread: Option<JoinHandle<()>>,
    pub base: String,
}

impl Loopback {
    /// `answer` gets the server's base URL and each request's target.
    pub fn start(answer: impl Fn(&str, &str) -> Answer + Send + 'static) -> Loopback {
        Loopback::serve(move |request, base| {
            let answer = answer(base, request.url());
            let mut response = Response::from_data(answer.body).with_status_code(answer.status);
            for (name, value) in answer.headers {
                response.add_header(Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap());
            }
            let _ = request.respond(response);
        })
    }

    /// `handle` gets each whole request, answers it itself, and the
    /// server's base URL.
    pub fn serve(handle: impl Fn(Request, &str) + Send + 'static) -> Loopback {
        let server = Arc::new(Server::http("127.0.0.1:0").unwrap());
        let base = format!(
            "http://127.0.0.1:{}",
            server.server_addr().to_ip().unwrap().port()
        );
        let thread = {
            let (server, base) = (server.clone(), base.clone());
            thread::spawn(move || {
                for request in server.incoming_requests() {
                    handle(request, &base);
                }
            })
        };
        Loopback {
            server,
            thread: Some(thread),
            base,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
