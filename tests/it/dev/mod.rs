//! `mcp-oauth-new dev`'s stand-in, rule by rule (CONTRACT section 6), over
//! real sockets: a [`Standin`] on a free loopback port with its state in a
//! temporary directory, and a client that follows no redirect.

mod authorize;
mod cimd;
mod consent;
mod dev_token;
mod logging;
mod metadata;
mod persistence;
mod properties;
mod registration;
mod token;

use std::fs;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mcp_oauth_new::dev::keys::SigningKey;
use mcp_oauth_new::dev::standin::{Config, Log, Standin};
use mcp_oauth_new::dev::state::Store;
use serde_json::{Value, json};
use url::Url;

pub const RES: &str = "res_test123";
pub const RESOURCE: &str = "http://127.0.0.1:3000/mcp";
pub const SCOPES: [&str; 2] = ["todo:read", "todo:write"];
/// Not the default lifetime, so a token's `exp` shows the setting was used.
pub const TTL: u64 = 1234;
/// A loopback redirect URI as the MCP Inspector's CLI registers it.
pub const CALLBACK: &str = "http://127.0.0.1:6276/oauth/callback";

/// The stand-in as `dev --approve` configures it for the README example.
pub fn config() -> Config {
    Config {
        resource_id: RES.into(),
        resource: RESOURCE.into(),
        scopes: SCOPES.iter().map(|s| s.to_string()).collect(),
        dcr: true,
        cimd: true,
        approve: true,
        token_ttl: TTL,
    }
}

/// One RSA key for the whole binary: generating one takes seconds in a debug
/// build. Tests about the key itself (persistence, reset) make their own.
fn shared_key() -> &'static [u8] {
    static KEY: OnceLock<Vec<u8>> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate().unwrap().pkcs8().to_vec())
}

/// A store in `root` already holding the shared key.
pub fn store_with_shared_key(root: &Path) -> Store {
    let store = Store::open(root, false).unwrap();
    fs::write(store.dir().join("signing-key.p8"), shared_key()).unwrap();
    store
}

/// Log lines, collected.
pub type Lines = Arc<Mutex<Vec<String>>>;

pub fn collecting_log() -> (Log, Lines) {
    let lines: Lines = Arc::default();
    let sink = lines.clone();
    let log: Log = Arc::new(move |line: &str| sink.lock().unwrap().push(line.to_owned()));
    (log, lines)
}

/// A running stand-in, its state directory and its log.
pub struct Env {
    pub standin: Standin,
    pub lines: Lines,
    agent: ureq::Agent,
    pub root: tempfile::TempDir,
}

/// An answer, body read.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: ureq::http::HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }

    /// The RFC 6749 `error` of a JSON error body.
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or("").to_owned()
    }

    /// The redirect's target; panics when the answer is not one.
    pub fn location(&self) -> Url {
        assert_eq!(self.status, 302, "not a redirect: {}", self.body);
        Url::parse(self.header("location").expect("a Location")).unwrap()
    }

    /// An HTML page shown to the person, never sent back to the client.
    pub fn assert_error_page(&self, status: u16) {
        assert_eq!(self.status, status, "{}", self.body);
        assert!(self.header("location").is_none(), "a redirect: {self:?}");
        assert!(
            self.header("content-type")
                .is_some_and(|v| v.starts_with("text/html")),
            "{self:?}"
        );
        assert!(self.body.contains("Sign-in refused"), "{}", self.body);
    }
}

/// A page's text as a browser shows it: the entities minijinja escapes with
/// decoded.
pub fn text(page: &str) -> String {
    page.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A redirect's query parameter.
pub fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

impl Env {
    pub fn start(config: Config) -> Env {
        let root = tempfile::tempdir().unwrap();
        let store = store_with_shared_key(root.path());
        Env::on(root, store, config)
    }

    /// A stand-in on `store`, whose directory `root` it keeps alive.
    pub fn on(root: tempfile::TempDir, store: Store, config: Config) -> Env {
        let (log, lines) = collecting_log();
        let standin = Standin::start(0, config, store, log).unwrap();
        Env {
            standin,
            lines,
            agent: agent(),
            root,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.standin.url())
    }

    pub fn issuer(&self) -> String {
        self.url(&format!("/resources/{RES}"))
    }

    pub fn register_path(&self) -> String {
        format!("/api/v1/resources/{RES}/clients:register")
    }

    pub fn get(&self, path: &str) -> Resp {
        self.get_with(path, &[])
    }

    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        let mut request = self.agent.get(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        read(request.call().unwrap())
    }

    pub fn options(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        let mut request = self.agent.options(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        read(request.call().unwrap())
    }

    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
        let mut request = self.agent.post(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        read(request.send(body).unwrap())
    }

    pub fn post_json(&self, path: &str, body: &Value) -> Resp {
        self.post(
            path,
            &[("Content-Type", "application/json")],
            &body.to_string(),
        )
    }

    pub fn post_form(&self, path: &str, headers: &[(&str, &str)], pairs: &[(&str, &str)]) -> Resp {
        let headers = [
            &[("Content-Type", "application/x-www-form-urlencoded")],
            headers,
        ]
        .concat();
        self.post(path, &headers, &form(pairs))
    }

    pub fn register(&self, metadata: &Value) -> Resp {
        self.post_json(&self.register_path(), metadata)
    }

    /// A public client with one redirect URI; its id.
    pub fn public_client(&self, redirect_uri: &str) -> String {
        let reply = self.register(&json!({
            "client_name": "Test Client",
            "redirect_uris": [redirect_uri],
            "token_endpoint_auth_method": "none",
        }));
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.json()["client_id"].as_str().unwrap().to_owned()
    }

    /// `GET /oauth/authorize` with `pairs`.
    pub fn authorize(&self, pairs: &[(&str, &str)]) -> Resp {
        self.get(&format!("/oauth/authorize?{}", form(pairs)))
    }

    /// A complete, valid authorization request for `client_id`, `extra`
    /// pairs added, under `--approve`: the code from the redirect.
    pub fn code(&self, client_id: &str, pkce: &Pkce, extra: &[(&str, &str)]) -> String {
        let pairs = [auth_pairs(client_id, pkce).as_slice(), extra].concat();
        let reply = self.authorize(&pairs);
        let location = reply.location();
        assert_eq!(param(&location, "error"), None, "{location}");
        param(&location, "code").expect("a code")
    }

    /// `POST /oauth/token` with `pairs`.
    pub fn token(&self, pairs: &[(&str, &str)]) -> Resp {
        self.post_form("/oauth/token", &[], pairs)
    }

    /// Exchanges a code for a public client registered with [`CALLBACK`].
    pub fn exchange(&self, client_id: &str, code: &str, pkce: &Pkce) -> Resp {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", &pkce.verifier),
        ])
    }

    /// A public client signed in with `extra` authorization pairs: the
    /// token response.
    pub fn sign_in(&self, extra: &[(&str, &str)]) -> (String, Value) {
        let client_id = self.public_client(CALLBACK);
        let pkce = Pkce::new();
        let code = self.code(&client_id, &pkce, extra);
        let reply = self.exchange(&client_id, &code, &pkce);
        assert_eq!(reply.status, 200, "{}", reply.body);
        (client_id, reply.json())
    }

    /// The JWKS the stand-in serves.
    pub fn keys(&self) -> Value {
        let reply = self.get("/keys");
        assert_eq!(reply.status, 200);
        reply.json()
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Sends raw bytes and reads the answer until the server closes.
    pub fn raw(&self, bytes: &[u8]) -> String {
        raw(self.standin.port(), bytes)
    }
}

/// A client as `check` has: statuses are answers, redirects are not followed.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .new_agent()
}

fn read(response: ureq::http::Response<ureq::Body>) -> Resp {
    let (parts, mut body) = response.into_parts();
    Resp {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body: body.read_to_string().unwrap(),
    }
}

pub fn raw(port: u16, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    // A bound on the wait, should the server never answer.
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    // The server may answer and close before reading all of it.
    let _ = stream.write_all(bytes);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A PKCE verifier and its S256 challenge.
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    pub fn new() -> Pkce {
        let verifier = mcp_oauth_new::dev::keys::random_token();
        let challenge = mcp_oauth_new::dev::keys::sha256_b64(&verifier);
        Pkce {
            verifier,
            challenge,
        }
    }
}

/// What a client such as the MCP Inspector sends to the authorization
/// endpoint.
pub fn auth_pairs<'a>(client_id: &'a str, pkce: &'a Pkce) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", CALLBACK),
        ("code_challenge", &pkce.challenge),
        ("code_challenge_method", "S256"),
        ("state", "st-42"),
        ("resource", RESOURCE),
    ]
}

/// A JWT's header and claims, after checking its RS256 signature with the
/// key of `jwks` its `kid` names.
pub fn verify(token: &str, jwks: &Value) -> (Value, Value) {
    let (header, claims, signature_ok) = decode_and_check(token, jwks);
    assert!(signature_ok, "the signature does not verify: {token}");
    (header, claims)
}

/// A JWT's header and claims, and whether its signature verifies.
pub fn decode_and_check(token: &str, jwks: &Value) -> (Value, Value, bool) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS: {token}");
    let decode = |part: &str| -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    };
    let (header, claims) = (decode(parts[0]), decode(parts[1]));
    assert_eq!(header["alg"], "RS256");
    let kid = header["kid"].as_str().expect("a kid");
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["kid"] == kid)
        .unwrap_or_else(|| panic!("no key {kid} in {jwks}"));
    assert_eq!(jwk["kty"], "RSA");
    let component = |name: &str| URL_SAFE_NO_PAD.decode(jwk[name].as_str().unwrap()).unwrap();
    let public = ring::signature::RsaPublicKeyComponents {
        n: component("n"),
        e: component("e"),
    };
    let signed = format!("{}.{}", parts[0], parts[1]);
    let signature_ok = public
        .verify(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            signed.as_bytes(),
            &URL_SAFE_NO_PAD.decode(parts[2]).unwrap(),
        )
        .is_ok();
    (header, claims, signature_ok)
}
