//! The gate alone, in front of a stand-in for rmcp that answers only when the
//! test releases it: what a message holds, and what it leaves counted, while
//! rmcp works on it.

mod common;

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use axum::{
    Extension, Router,
    body::Body,
    http::{Request, StatusCode},
    middleware,
    response::Response,
    routing::post,
};
use common::initialize_request;
use mcp_server::{
    auth::Challenge,
    claims::Claims,
    config::Config,
    gate::{self, Gate, MAX_JSON_VALUES, VALUE_BUDGET},
};
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

/// The gate in front of a stand-in for rmcp, for one caller.
struct Stand {
    app: Router,
    /// A permit each time rmcp takes a message.
    entered: Arc<Semaphore>,
    /// rmcp answers a message for each permit added.
    released: Arc<Semaphore>,
}

impl Stand {
    /// rmcp as far as the gate can tell: it takes a message at once (an
    /// `initialize` opens `session-1`) and answers when released.
    fn new(config: &Config) -> Self {
        let gate = Arc::new(Gate::new(Arc::new(Challenge::new(config)), config));
        let caller = Arc::new(Claims {
            sub: "user-1".to_owned(),
            client_id: Some("client-1".to_owned()),
            organization_id: None,
            scopes: BTreeSet::new(),
        });
        let entered = Arc::new(Semaphore::new(0));
        let released = Arc::new(Semaphore::new(0));
        let rmcp = {
            let (entered, released) = (entered.clone(), released.clone());
            post(move || async move {
                entered.add_permits(1);
                released.acquire().await.unwrap().forget();
                ([("mcp-session-id", "session-1")], "")
            })
        };
        let app = Router::new()
            .route("/mcp", rmcp)
            .layer(middleware::from_fn_with_state(gate, gate::check_message))
            .layer(Extension(caller));
        Self {
            app,
            entered,
            released,
        }
    }

    /// Sends `message` on a task of its own, as a connection would.
    fn send(&self, message: &Value) -> tokio::task::JoinHandle<Response> {
        let request = Request::post("/mcp")
            .header("content-type", "application/json")
            .body(Body::from(message.to_string()))
            .unwrap();
        let app = self.app.clone();
        tokio::spawn(async move { app.oneshot(request).await.unwrap() })
    }

    /// Waits until rmcp holds `count` more messages.
    async fn entered(&self, count: u32) {
        self.entered.acquire_many(count).await.unwrap().forget();
    }
}

#[tokio::test]
async fn a_session_counts_from_its_creation_even_if_its_client_hangs_up() {
    let mut config = Config::defaults();
    config.max_sessions_per_principal = 1;
    let stand = Stand::new(&config);

    // The client hangs up once rmcp has the session, before the answer: its
    // request is dropped where it stands.
    let first = stand.send(&initialize_request());
    stand.entered(1).await;
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());
    stand.released.add_permits(100);

    // The session it opened still counts.
    let second = stand.send(&initialize_request()).await.unwrap();
    assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn messages_past_the_value_budget_wait_and_get_503_if_it_stays_spent() {
    let mut config = Config::defaults();
    config.body_timeout = Duration::from_secs(1);
    let stand = Stand::new(&config);
    // The message, its `jsonrpc`, `id`, `method`, `params`, `pad` and the zeros.
    let message = json!({
        "jsonrpc": "2.0", "id": 1, "method": "tools/list",
        "params": {"pad": vec![0; MAX_JSON_VALUES - 6]},
    });
    // rmcp holds enough of these to spend the whole budget.
    let holders = VALUE_BUDGET / MAX_JSON_VALUES;
    let held: Vec<_> = (0..holders).map(|_| stand.send(&message)).collect();
    stand.entered(holders as u32).await;

    // The smallest message waits for its share, and gets 503 at the body
    // timeout without rmcp ever seeing it.
    let small = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    let waited = tokio::time::timeout(Duration::from_secs(60), stand.send(&small))
        .await
        .expect("no answer within a minute")
        .unwrap();
    assert_eq!(waited.status(), StatusCode::SERVICE_UNAVAILABLE);

    // Once rmcp has answered them, messages go through again.
    stand.released.add_permits(holders);
    for answer in held {
        assert_eq!(answer.await.unwrap().status(), StatusCode::OK);
    }
    let next = stand.send(&small);
    stand.entered(1).await;
    stand.released.add_permits(1);
    assert_eq!(next.await.unwrap().status(), StatusCode::OK);
}
