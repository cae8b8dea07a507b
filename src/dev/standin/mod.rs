//! The stand-in for a Scalekit environment: its URL layout, metadata, keys,
//! client registration (RFC 7591) and Client ID Metadata Documents, a consent
//! page, and tokens with Scalekit's claims. Loopback only, for development.
//!
//! Each endpoint is a function from a [`Req`] to a [`Reply`]; [`Standin`]
//! serves them over HTTP (tiny_http: a small, synchronous server with few
//! dependencies, enough for one developer's clients).

mod authorize;
mod cimd;
pub mod http;
mod metadata;
mod register;
mod token;

use std::collections::HashMap;
use std::io::Read as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};

use anyhow::Context as _;
use serde_json::json;

pub use self::http::{Params, Reply, Req};
pub use self::token::{Audience, access_token};
use super::keys::SigningKey;
use super::state::{Run, Saved, Store};

/// What the stand-in serves: the project's resource and scopes, and the
/// dashboard settings `dev` exposes as flags.
#[derive(Debug, Clone)]
pub struct Config {
    /// Scalekit's id of the MCP server (`res_...`).
    pub resource_id: String,
    /// The resource of the server in front of it (RFC 8707 `resource`).
    pub resource: String,
    /// The declared scopes, in the answers' order.
    pub scopes: Vec<String>,
    /// Dynamic client registration on (`--no-dcr` turns it off).
    pub dcr: bool,
    /// Client ID Metadata Documents on (`--no-cimd` turns them off).
    pub cimd: bool,
    /// Grant every requested scope without showing the consent page.
    pub approve: bool,
    /// Access token lifetime in seconds.
    pub token_ttl: u64,
}

/// Where each request's log line goes.
pub type Log = Arc<dyn Fn(&str) + Send + Sync>;

/// Requests served at once; more wait in the kernel's queue or get 503.
const MAX_IN_FLIGHT: usize = 64;

/// The state every request shares.
pub struct Shared {
    config: Config,
    /// `http://127.0.0.1:<port>`: the environment URL.
    base: String,
    key: SigningKey,
    store: Store,
    live: Mutex<Live>,
}

/// What changes while it runs: the saved state, and codes and consent forms,
/// which live only in memory.
#[derive(Default)]
struct Live {
    saved: Saved,
    codes: HashMap<String, authorize::Code>,
    pending: HashMap<String, authorize::Pending>,
}

impl Shared {
    /// The stand-in's state for `base`, with the key and clients of `store`.
    pub fn new(config: Config, base: String, store: Store) -> anyhow::Result<Shared> {
        let key = store.key()?;
        let saved = store.load()?;
        Ok(Shared {
            config,
            base,
            key,
            store,
            live: Mutex::new(Live {
                saved,
                ..Live::default()
            }),
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// `<base>/resources/<resource_id>`: the issuer, as Scalekit names it.
    pub fn issuer(&self) -> String {
        format!("{}/resources/{}", self.base, self.config.resource_id)
    }

    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A poisoned lock only means a request panicked; its state is whole.
    fn live(&self) -> MutexGuard<'_, Live> {
        self.live
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Saves the clients and refresh tokens; a failure is logged by the
    /// caller's answer, never hidden.
    fn persist(&self, live: &Live) -> anyhow::Result<()> {
        self.store.save(&live.saved)
    }

    /// Records where `dev` runs, for `dev token`.
    pub fn record_run(&self, run: Run) -> anyhow::Result<()> {
        let mut live = self.live();
        live.saved.last_run = Some(run);
        self.persist(&live)
    }

    /// Answers one request.
    pub fn handle(&self, req: &Req) -> Reply {
        if !loopback_host(req.header("host")) {
            return Reply::oauth_error(
                403,
                "invalid_request",
                "this development stand-in answers only requests to a loopback host \
                 (127.0.0.1, localhost or [::1])",
            );
        }
        let res = &self.config.resource_id;
        let path = req.path.as_str();
        let is = |template: String| path == template;
        let json_route = match path {
            "/keys" => Some(Route::Keys),
            "/.well-known/openid-configuration" => Some(Route::EnvironmentOpenId),
            "/oauth/token" => Some(Route::Token),
            _ if is(format!(
                "/.well-known/oauth-authorization-server/resources/{res}"
            )) || is(format!(
                "/resources/{res}/.well-known/oauth-authorization-server"
            )) =>
            {
                Some(Route::Metadata { openid: false })
            }
            _ if is(format!("/.well-known/openid-configuration/resources/{res}"))
                || is(format!("/resources/{res}/.well-known/openid-configuration")) =>
            {
                Some(Route::Metadata { openid: true })
            }
            _ if self.config.dcr && is(format!("/api/v1/resources/{res}/clients:register")) => {
                Some(Route::Register)
            }
            _ => None,
        };
        if let Some(route) = json_route {
            return cors(self.json_route(route, req));
        }
        if path == "/oauth/authorize" {
            return match req.method.as_str() {
                "GET" => authorize::request(self, &req.query_params()),
                "POST" => authorize::decide(self, req),
                _ => method_not_allowed("GET, POST"),
            };
        }
        Reply::oauth_error(404, "not_found", "no such endpoint on this stand-in")
    }

    fn json_route(&self, route: Route, req: &Req) -> Reply {
        let post = matches!(route, Route::Token | Route::Register);
        match req.method.as_str() {
            "OPTIONS" => Reply::empty(204)
                .with(
                    "Access-Control-Allow-Methods",
                    if post {
                        "POST, OPTIONS"
                    } else {
                        "GET, OPTIONS"
                    },
                )
                .with(
                    "Access-Control-Allow-Headers",
                    "Authorization, Content-Type, MCP-Protocol-Version",
                )
                .with("Access-Control-Max-Age", "600"),
            "POST" if post => match route {
                Route::Token => token::exchange(self, req),
                _ => register::register(self, req),
            },
            "GET" | "HEAD" if !post => match route {
                Route::Keys => Reply::json(200, &json!({ "keys": [self.key.jwk()] })),
                Route::EnvironmentOpenId => metadata::environment_openid(self),
                Route::Metadata { openid } => metadata::authorization_server(self, openid),
                Route::Token | Route::Register => unreachable!("POST routes answered above"),
            },
            _ => method_not_allowed(if post {
                "POST, OPTIONS"
            } else {
                "GET, OPTIONS"
            }),
        }
    }
}

#[derive(Clone, Copy)]
enum Route {
    Keys,
    EnvironmentOpenId,
    Metadata { openid: bool },
    Register,
    Token,
}

fn method_not_allowed(allow: &str) -> Reply {
    Reply::oauth_error(405, "invalid_request", "method not allowed").with("Allow", allow)
}

/// Browser clients read every JSON endpoint.
fn cors(reply: Reply) -> Reply {
    reply
        .with("Access-Control-Allow-Origin", "*")
        .with("Access-Control-Expose-Headers", "WWW-Authenticate")
}

/// A `Host` that names this machine: `127.0.0.1`, `localhost` or `[::1]`,
/// with any port.
fn loopback_host(host: Option<&str>) -> bool {
    let Some(host) = host else { return false };
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !name.ends_with(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    };
    matches!(name, "127.0.0.1" | "localhost" | "[::1]")
}

/// A running stand-in on `127.0.0.1`.
pub struct Standin {
    shared: Arc<Shared>,
    server: Arc<tiny_http::Server>,
    addr: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl Standin {
    /// Listens on `127.0.0.1:port` (0: any free port) and serves in the
    /// background until [`Standin::stop`].
    pub fn start(port: u16, config: Config, store: Store, log: Log) -> Result<Standin, StartError> {
        let server = tiny_http::Server::http(("127.0.0.1", port))
            .map_err(|error| StartError::Bind(std::io::Error::other(error.to_string())))?;
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| StartError::Other(anyhow::anyhow!("no TCP address")))?;
        let base = format!("http://127.0.0.1:{}", addr.port());
        let shared = Arc::new(Shared::new(config, base, store).map_err(StartError::Other)?);
        let server = Arc::new(server);
        let thread = {
            let (server, shared) = (server.clone(), shared.clone());
            let in_flight = Arc::new(AtomicUsize::new(0));
            thread::Builder::new()
                .name("dev-standin".into())
                .spawn(move || {
                    for request in server.incoming_requests() {
                        if in_flight.fetch_add(1, Ordering::SeqCst) >= MAX_IN_FLIGHT {
                            in_flight.fetch_sub(1, Ordering::SeqCst);
                            let _ = request.respond(tiny_http::Response::empty(503));
                            continue;
                        }
                        let in_flight_total = &in_flight;
                        let (shared, log, in_flight) =
                            (shared.clone(), log.clone(), in_flight.clone());
                        let spawned = thread::Builder::new().spawn(move || {
                            serve(&shared, request, &log);
                            in_flight.fetch_sub(1, Ordering::SeqCst);
                        });
                        if spawned.is_err() {
                            // Out of threads: the request went with the closure.
                            in_flight_total.fetch_sub(1, Ordering::SeqCst);
                        }
                    }
                })
                .context("starting the stand-in's thread")
                .map_err(StartError::Other)?
        };
        Ok(Standin {
            shared,
            server,
            addr,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:<port>`: the stand-in's environment URL.
    pub fn url(&self) -> &str {
        self.shared.base()
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Stops listening and frees the port.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Standin {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Why the stand-in did not start.
#[derive(Debug)]
pub enum StartError {
    /// The port could not be bound (in use, most likely).
    Bind(std::io::Error),
    Other(anyhow::Error),
}

/// Reads one request, answers it and logs one line without its query (codes
/// and states travel there), a token or a secret.
fn serve(shared: &Shared, mut request: tiny_http::Request, log: &Log) {
    let peer = request
        .remote_addr()
        .map_or_else(|| "-".to_string(), |addr| addr.ip().to_string());
    let headers = request
        .headers()
        .iter()
        .map(|h| (h.field.as_str().to_string(), h.value.as_str().to_string()))
        .collect();
    let method = request.method().as_str().to_owned();
    let mut body = Vec::new();
    let read = request
        .as_reader()
        .take(http::BODY_LIMIT as u64 + 1)
        .read_to_end(&mut body);
    let req = Req::new(&method, request.url(), headers, body);
    let reply = match read {
        Err(_) => Reply::oauth_error(400, "invalid_request", "the body could not be read"),
        Ok(n) if n > http::BODY_LIMIT => Reply::oauth_error(
            413,
            "invalid_request",
            "the body is larger than this stand-in accepts (64 KiB)",
        ),
        Ok(_) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| shared.handle(&req)))
            .unwrap_or_else(|_| Reply::oauth_error(500, "server_error", "the stand-in failed")),
    };
    log(&format!(
        "{peer} \"{} {}\" {}",
        http::escape(&req.method),
        http::escape(&req.path),
        reply.status
    ));
    let mut response = tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
    for (name, value) in reply.headers {
        if let Ok(header) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(header);
        }
    }
    let _ = request.respond(response);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts_are_answered() {
        for host in [
            "127.0.0.1",
            "127.0.0.1:3001",
            "localhost:1",
            "[::1]:80",
            "localhost",
        ] {
            assert!(loopback_host(Some(host)), "{host}");
        }
        for host in [
            "example.com",
            "127.0.0.1.nip.io",
            "localhost.",
            "evil.localhost",
            "::1",
            "127.0.0.2",
            "",
        ] {
            assert!(!loopback_host(Some(host)), "{host}");
        }
        assert!(!loopback_host(None));
    }
}
