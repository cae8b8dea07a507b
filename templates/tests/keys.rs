//! A key endpoint that misbehaves: slow while a client hangs up, redirecting,
//! oversized. The keys come from the harness's endpoint; a front the test
//! controls stands between it and the server.

mod common;

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{
    Router,
    http::{StatusCode, header::LOCATION},
    response::{IntoResponse, Response},
    routing::get,
};
use common::{Jwks, KEYS, TestServer, claims, token};
use mcp_server::jwks::MAX_BYTES;
use tokio::{
    io::AsyncWriteExt as _,
    net::{TcpListener, TcpStream},
    sync::{Notify, watch},
    time::timeout,
};

/// What the front answers.
#[derive(Clone, Copy)]
enum Answer {
    /// The keys, as the harness's endpoint serves them.
    Keys,
    /// 503.
    Down,
    /// The keys, once the test calls [`Front::release`].
    Held,
    /// 302 to the harness's endpoint.
    Redirect,
    /// The keys, padded with trailing spaces (still valid JSON) to this many bytes.
    Padded(usize),
}

struct Front {
    url: String,
    state: Arc<FrontState>,
}

struct FrontState {
    keys_url: String,
    answer: Mutex<Answer>,
    requests: AtomicUsize,
    held: Notify,
    released: watch::Sender<bool>,
    /// A held request whose client went away before its answer.
    abandoned: AtomicBool,
    gone: Notify,
}

/// Sets `abandoned` unless disarmed: dropped with the handler's future when
/// its client hangs up.
struct Abandoned<'a>(Option<&'a FrontState>);

impl Drop for Abandoned<'_> {
    fn drop(&mut self) {
        if let Some(state) = self.0 {
            state.abandoned.store(true, Ordering::SeqCst);
            state.gone.notify_one();
        }
    }
}

impl Front {
    async fn start(jwks: &Jwks, answer: Answer) -> Self {
        let state = Arc::new(FrontState {
            keys_url: jwks.url.clone(),
            answer: Mutex::new(answer),
            requests: AtomicUsize::new(0),
            held: Notify::new(),
            released: watch::Sender::new(false),
            abandoned: AtomicBool::new(false),
            gone: Notify::new(),
        });
        let served = state.clone();
        let router = Router::new().route(
            "/keys",
            get(move || {
                let state = served.clone();
                async move { state.answer().await }
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/keys", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { url, state }
    }

    fn answer(&self, answer: Answer) {
        *self.state.answer.lock().unwrap() = answer;
    }

    fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    /// Lets held requests, and later ones, have the keys.
    fn release(&self) {
        self.state.released.send_replace(true);
    }
}

impl FrontState {
    async fn answer(&self) -> Response {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let answer = *self.answer.lock().unwrap();
        match answer {
            Answer::Keys => self.keys().await.into_response(),
            Answer::Down => StatusCode::SERVICE_UNAVAILABLE.into_response(),
            Answer::Held => {
                let mut abandoned = Abandoned(Some(self));
                self.held.notify_one();
                let mut released = self.released.subscribe();
                released.wait_for(|released| *released).await.unwrap();
                abandoned.0 = None;
                self.keys().await.into_response()
            }
            Answer::Redirect => {
                (StatusCode::FOUND, [(LOCATION, self.keys_url.clone())]).into_response()
            }
            Answer::Padded(size) => {
                let keys = self.keys().await;
                let padding = " ".repeat(size - keys.len());
                (keys + &padding).into_response()
            }
        }
    }

    async fn keys(&self) -> String {
        let response = reqwest::get(&self.keys_url).await.unwrap();
        response.text().await.unwrap()
    }
}

/// Statuses of a `tools/list` (the server is stateless) with each token.
async fn statuses(server: &TestServer, tokens: &[&str]) -> Vec<StatusCode> {
    let mut statuses = Vec::new();
    for token in tokens {
        statuses.push(server.list_tools(token, None).await.status);
    }
    statuses
}

#[tokio::test]
async fn a_key_fetch_runs_to_completion_when_the_client_that_started_it_hangs_up() {
    let interval = Duration::from_secs(1);
    let jwks = Jwks::start(&[&KEYS[0]]).await;
    let front = Front::start(&jwks, Answer::Down).await;
    let server = TestServer::start_with(|config| {
        config.stateless = true;
        config.jwks_url = front.url.clone();
        config.jwks_refresh_interval = interval;
    })
    .await;
    let readyz = async || {
        let response = server.http.get(server.url("/readyz")).send().await;
        response.unwrap().status()
    };
    // The fetch at start-up failed: not ready, and no key known.
    timeout(Duration::from_secs(10), async {
        while front.requests() == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the keys are fetched at start-up");
    assert_eq!(readyz().await, StatusCode::SERVICE_UNAVAILABLE);
    // Past the refresh interval, an unknown `kid` may refetch.
    tokio::time::sleep(interval).await;

    // A client's token makes the server refetch; the key endpoint is slow,
    // and the client hangs up while the fetch runs.
    front.answer(Answer::Held);
    let token = token("");
    let mut client = TcpStream::connect(server.config.listen_addr).await.unwrap();
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n",
        server.config.mcp_path
    );
    client.write_all(request.as_bytes()).await.unwrap();
    timeout(Duration::from_secs(10), front.state.held.notified())
        .await
        .expect("the client's token made the server fetch the keys");
    drop(client);
    // Time for the server to see the hang-up: a fetch run by the request
    // would be dropped with it, and its connection to the front closed.
    let _ = timeout(Duration::from_millis(500), front.state.gone.notified()).await;
    assert!(
        !front.state.abandoned.load(Ordering::SeqCst),
        "the fetch went with the client that hung up"
    );

    // The fetch completes: the key is known, without another fetch, and the
    // server is ready.
    front.release();
    assert_eq!(statuses(&server, &[&token]).await, [StatusCode::OK]);
    assert_eq!(front.requests(), 2);
    assert_eq!(readyz().await, StatusCode::OK);
}

#[tokio::test]
async fn a_redirecting_key_endpoint_is_a_failed_fetch_and_the_cached_keys_stay() {
    let jwks = Jwks::start(&[&KEYS[0]]).await;
    let front = Front::start(&jwks, Answer::Keys).await;
    let server = TestServer::start_with(|config| {
        config.stateless = true;
        config.jwks_url = front.url.clone();
        config.jwks_refresh_interval = Duration::ZERO;
    })
    .await;
    let cached = token("");
    assert_eq!(statuses(&server, &[&cached]).await, [StatusCode::OK]);

    // The redirect leads to a set with a new key: it is not followed.
    jwks.serve_keys(&[&KEYS[0], &KEYS[1]]);
    front.answer(Answer::Redirect);
    let fetched = jwks.fetches();
    let new = KEYS[1].sign(&claims(""));
    assert_eq!(
        statuses(&server, &[&new, &cached]).await,
        [StatusCode::UNAUTHORIZED, StatusCode::OK]
    );
    assert_eq!(jwks.fetches(), fetched, "the redirect was followed");

    front.answer(Answer::Keys);
    assert_eq!(statuses(&server, &[&new]).await, [StatusCode::OK]);
}

#[tokio::test]
async fn a_key_set_over_1_mib_is_a_failed_fetch_and_the_cached_keys_stay() {
    let jwks = Jwks::start(&[&KEYS[0]]).await;
    let front = Front::start(&jwks, Answer::Keys).await;
    let server = TestServer::start_with(|config| {
        config.stateless = true;
        config.jwks_url = front.url.clone();
        config.jwks_refresh_interval = Duration::ZERO;
    })
    .await;
    let cached = token("");
    assert_eq!(statuses(&server, &[&cached]).await, [StatusCode::OK]);

    jwks.serve_keys(&[&KEYS[0], &KEYS[1]]);
    let new = KEYS[1].sign(&claims(""));
    front.answer(Answer::Padded(MAX_BYTES + 1));
    assert_eq!(
        statuses(&server, &[&new, &cached]).await,
        [StatusCode::UNAUTHORIZED, StatusCode::OK]
    );
    // 1 MiB exactly is read.
    front.answer(Answer::Padded(MAX_BYTES));
    assert_eq!(statuses(&server, &[&new]).await, [StatusCode::OK]);
}
