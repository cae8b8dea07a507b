//! Serving connections: HTTP/1.1 with the limits that keep slow and idle
//! clients from holding the server, and a graceful shutdown.

use std::{future::Future, sync::Arc, time::Duration};

use axum::{body::Body, extract::ConnectInfo, http::Request};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
};
use tokio::{net::TcpListener, sync::Semaphore};
use tower::ServiceExt as _;

use crate::app::App;

/// Serves `app` on `listener` until `signal` completes, then closes MCP
/// streams and lets the open connections finish.
///
/// - Past `max_connections`, new connections wait in the listen backlog
///   while the open ones keep being served.
/// - A request's headers must arrive within `header_timeout`, which hyper
///   also applies to a keep-alive connection waiting for its next request.
/// - Bodies have their own deadline, in [`crate::gate`].
pub async fn run(
    listener: TcpListener,
    app: App,
    signal: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let App {
        router,
        shutdown,
        limits,
    } = app;
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut signal = std::pin::pin!(signal);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => {
                permit.expect("the connection semaphore is never closed")
            }
            () = &mut signal => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait rather than spin.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut signal => break,
        };
        // Small JSON-RPC messages and SSE events should leave at once, not wait for Nagle.
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request.map(Body::new))
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
            drop(permit);
        });
    }
    shutdown.cancel();
    graceful.shutdown().await;
    Ok(())
}
