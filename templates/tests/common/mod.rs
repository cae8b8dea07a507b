//! Test harness: the real router on loopback, signing keys served by the test,
//! and tokens minted by the test. No private key is ever committed: they are
//! generated once per test binary.

// Each test binary uses a different part of the harness.
#![allow(dead_code)]

use std::{
    sync::{
        Arc, LazyLock, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{SystemTime, UNIX_EPOCH},
};

use axum::{Json, Router, http::StatusCode, response::IntoResponse, routing::get};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, Header};
use mcp_server::{app, config::Config, crypto, server};
use reqwest::header::HeaderMap;
use ring::{
    rand::SystemRandom,
    signature::{RSA_PKCS1_SHA256, RsaKeyPair},
};
use rsa::{pkcs8::EncodePrivateKey as _, traits::PublicKeyParts as _};
use serde_json::{Value, json};
use tokio::net::TcpListener;

pub const USER: &str = "user-1";
pub const CLIENT: &str = "client-1";
const PROTOCOL_VERSION: &str = "2025-06-18";

/// An RSA key pair known by its `kid`.
pub struct TestKey {
    pub kid: &'static str,
    pair: RsaKeyPair,
    jwk: Value,
}

impl TestKey {
    fn generate(kid: &'static str) -> Self {
        let key =
            rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key generation");
        let jwk = json!({
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": kid,
            "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
        });
        let pkcs8 = key.to_pkcs8_der().expect("PKCS#8 encoding");
        let pair = RsaKeyPair::from_pkcs8(pkcs8.as_bytes()).expect("ring reads the key");
        Self { kid, pair, jwk }
    }

    /// A token with `claims`, signed by this key and naming `kid` in its header.
    pub fn sign_as(&self, kid: &str, claims: &Value) -> String {
        self.sign_with(|header| header.kid = Some(kid.to_owned()), claims)
    }

    pub fn sign(&self, claims: &Value) -> String {
        self.sign_as(self.kid, claims)
    }

    /// A token signed by this key with the header `adjust` leaves.
    pub fn sign_with(&self, adjust: impl FnOnce(&mut Header), claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.to_owned());
        adjust(&mut header);
        jws(&header, claims, |input| {
            let mut signature = vec![0; self.pair.public().modulus_len()];
            self.pair
                .sign(
                    &RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    input,
                    &mut signature,
                )
                .expect("token signs");
            signature
        })
    }
}

/// A compact JWS of `claims` under `header`, with the signature `sign`
/// makes of the signing input.
pub fn jws(header: &Header, claims: &Value, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let header = serde_json::to_vec(header).expect("header serializes");
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// Two keys: the first is served by default, the second stands for a rotation.
pub static KEYS: LazyLock<[TestKey; 2]> =
    LazyLock::new(|| [TestKey::generate("key-1"), TestKey::generate("key-2")]);

/// An HTTP client; the TLS provider is installed first, as the server does.
pub fn http() -> reqwest::Client {
    crypto::install();
    reqwest::Client::new()
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// Claims of a valid token for the baked-in configuration, with `scope`.
pub fn claims(scope: &str) -> Value {
    let config = Config::defaults();
    json!({
        "iss": config.environment_url,
        "aud": [config.audience[0]],
        "sub": USER,
        "client_id": CLIENT,
        "scope": scope,
        "iat": now(),
        "exp": now() + 600,
    })
}

/// An `initialize` request, as a client sends it.
pub fn initialize_request() -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": { "name": "test", "version": "1.0" }
        }
    })
}

/// A valid token with `scope`, signed by the default key.
pub fn token(scope: &str) -> String {
    KEYS[0].sign(&claims(scope))
}

/// A JWKS endpoint on loopback whose keys and availability the test controls.
pub struct Jwks {
    pub url: String,
    state: Arc<JwksState>,
}

struct JwksState {
    keys: Mutex<Vec<Value>>,
    up: AtomicBool,
    fetches: AtomicUsize,
}

impl Jwks {
    pub async fn start(keys: &[&TestKey]) -> Self {
        let state = Arc::new(JwksState {
            keys: Mutex::new(keys.iter().map(|key| key.jwk.clone()).collect()),
            up: AtomicBool::new(true),
            fetches: AtomicUsize::new(0),
        });
        let served = state.clone();
        let router = Router::new().route(
            "/keys",
            get(move || {
                let state = served.clone();
                async move {
                    state.fetches.fetch_add(1, Ordering::SeqCst);
                    if !state.up.load(Ordering::SeqCst) {
                        return StatusCode::SERVICE_UNAVAILABLE.into_response();
                    }
                    let keys = state.keys.lock().unwrap().clone();
                    Json(json!({ "keys": keys })).into_response()
                }
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/keys", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { url, state }
    }

    pub fn serve_keys(&self, keys: &[&TestKey]) {
        *self.state.keys.lock().unwrap() = keys.iter().map(|key| key.jwk.clone()).collect();
    }

    pub fn set_up(&self, up: bool) {
        self.state.up.store(up, Ordering::SeqCst);
    }

    pub fn fetches(&self) -> usize {
        self.state.fetches.load(Ordering::SeqCst)
    }
}

/// The server under test, started on a free loopback port.
pub struct TestServer {
    pub base: String,
    pub config: Config,
    pub jwks: Jwks,
    pub http: reqwest::Client,
}

/// One JSON-RPC exchange over HTTP.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The JSON-RPC response, from a JSON body or the SSE stream.
    pub message: Option<Value>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts with the default key served and `adjust` applied to the configuration.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::start_with_jwks(Jwks::start(&[&KEYS[0]]).await, adjust).await
    }

    /// Starts against `jwks`, which the test may have set up as down.
    pub async fn start_with_jwks(jwks: Jwks, adjust: impl FnOnce(&mut Config)) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut config = Config::defaults();
        config.listen_addr = listener.local_addr().unwrap();
        config.jwks_url = jwks.url.clone();
        adjust(&mut config);
        let app = app::build(&config).expect("app builds");
        tokio::spawn(server::run(listener, app, std::future::pending()));
        Self {
            base: format!("http://{}", config.listen_addr),
            config,
            jwks,
            http: http(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn mcp_url(&self) -> String {
        self.url(&self.config.mcp_path)
    }

    /// A POST to the MCP endpoint with the headers an MCP client sends.
    pub fn post(&self, token: Option<&str>, session: Option<&str>) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .post(self.mcp_url())
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(session) = session {
            request = request
                .header("mcp-session-id", session)
                .header("mcp-protocol-version", PROTOCOL_VERSION);
        }
        request
    }

    pub async fn rpc(&self, token: &str, session: Option<&str>, body: Value) -> Reply {
        let response = self
            .post(Some(token), session)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let message = if text.trim_start().starts_with('{') {
            serde_json::from_str(&text).ok()
        } else {
            // SSE: the response is the `data:` line that carries an `id`.
            text.lines()
                .filter_map(|line| line.strip_prefix("data:"))
                .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
                .find(|message| message.get("id").is_some())
        };
        Reply {
            status,
            headers,
            message,
        }
    }

    /// Runs the MCP handshake; returns the session id (`None` when stateless).
    pub async fn initialize(&self, token: &str) -> Option<String> {
        let reply = self.rpc(token, None, initialize_request()).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "initialize: {:?}",
            reply.message
        );
        let result = &reply.message.expect("initialize answers")["result"];
        assert!(result["serverInfo"]["name"].is_string(), "{result}");
        let session = reply
            .headers
            .get("mcp-session-id")
            .map(|value| value.to_str().unwrap().to_owned());
        let initialized = self
            .post(Some(token), session.as_deref())
            .json(&json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }))
            .send()
            .await
            .unwrap();
        assert_eq!(initialized.status(), StatusCode::ACCEPTED);
        session
    }

    pub async fn call_tool(
        &self,
        token: &str,
        session: Option<&str>,
        tool: &str,
        arguments: Value,
    ) -> Reply {
        self.rpc(
            token,
            session,
            json!({
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": { "name": tool, "arguments": arguments }
            }),
        )
        .await
    }

    pub async fn list_tools(&self, token: &str, session: Option<&str>) -> Reply {
        self.rpc(
            token,
            session,
            json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/list" }),
        )
        .await
    }

    /// The `WWW-Authenticate` of a 403 for a tool needing `scopes`, up to the description.
    pub fn insufficient_scope_prefix(&self, scopes: &[&str]) -> String {
        format!(
            r#"Bearer error="insufficient_scope", scope="{}", resource_metadata="{}", error_description=""#,
            scopes.join(" "),
            self.config.metadata_url()
        )
    }
}
