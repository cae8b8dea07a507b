//! Serving connections: HTTP/1.1 with the limits that keep slow, idle and
//! greedy clients from holding the server, and a graceful shutdown.

use std::{
    convert::Infallible,
    future::{Future, poll_fn},
    io,
    net::SocketAddr,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{HeaderValue, Request, header::CONNECTION},
    response::Response,
};
use hyper::{
    body::{Body as _, Bytes, Frame, Incoming, SizeHint},
    server::conn::http1,
    service::service_fn,
};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpListener,
    sync::Semaphore,
    time::Sleep,
};
use tower::ServiceExt as _;

use crate::app::App;

/// Request line and headers together: past this, 431 and the connection closes.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// hyper's read and write buffers per connection (its default is 400 KiB):
/// room for the largest head and one more read. With the connection cap,
/// this bounds what headers can take.
const MAX_BUFFER_BYTES: usize = MAX_HEADER_BYTES + 8 * 1024;
/// What is left of a body the router did not read is read and dropped up to
/// this size, so the connection can carry the next request; past it, the
/// connection closes after the response.
const MAX_DRAINED_BYTES: u64 = 64 * 1024;
/// How long the rest of such a body may take to arrive.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// Serves `app` on `listener` until `signal` completes, then closes MCP
/// streams and lets the open connections finish.
///
/// - Past `max_connections`, new connections wait in the listen backlog
///   while the open ones keep being served.
/// - A request's head must arrive within `header_timeout`, which hyper
///   also applies to a keep-alive connection waiting for its next request,
///   and may not exceed [`MAX_HEADER_BYTES`]: hyper answers 431 as soon as
///   that much has arrived, so no more is ever buffered.
/// - A response that cannot be written for `write_timeout` (a client that
///   does not read) ends its connection and frees its slot.
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
            respond(router.clone(), request)
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .max_header_size(MAX_HEADER_BYTES)
            .max_buf_size(MAX_BUFFER_BYTES)
            .serve_connection(
                TokioIo::new(WriteDeadline::new(stream, limits.write_timeout)),
                service,
            );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                log_connection_error(&error, peer);
            }
            drop(permit);
        });
    }
    shutdown.cancel();
    graceful.shutdown().await;
    Ok(())
}

/// What ended a connection early. The two refusals that never reach the
/// router, headers too large and a client that does not read, are logged
/// like the router's refusals; the rest (a client that hung up, say) only
/// at debug level.
fn log_connection_error(error: &hyper::Error, peer: SocketAddr) {
    let stalled = std::error::Error::source(error)
        .and_then(|source| source.downcast_ref::<io::Error>())
        .is_some_and(|source| source.kind() == io::ErrorKind::TimedOut);
    if error.is_parse_too_large() {
        tracing::warn!(status = 431, reason = "headers too large", %peer, "request refused");
    } else if stalled {
        tracing::warn!(reason = "the client does not read its response", %peer, "connection closed");
    } else {
        tracing::debug!(%error, %peer, "connection ended with an error");
    }
}

/// Runs `router` on `request`, then deals with what it left of the body.
///
/// A response sent before the body was read (a 401, 403 or 413) leaves the
/// body on the connection; hyper would then close the connection without a
/// word, and a client that reuses connections would lose its next request.
/// So a small rest is read and dropped, which keeps the connection, and
/// otherwise the response says `Connection: close`.
async fn respond(router: Router, request: Request<Incoming>) -> Result<Response, Infallible> {
    let (parts, body) = request.into_parts();
    let body = SharedBody::new(body);
    let mut response = router
        .oneshot(Request::from_parts(parts, Body::new(body.clone())))
        .await?;
    if !body.drain().await {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    Ok(response)
}

/// A request body the router reads through, while [`respond`] keeps a hold
/// on it to read what the router left.
#[derive(Clone)]
struct SharedBody(Arc<Mutex<BodyState>>);

struct BodyState {
    body: Incoming,
    ended: bool,
}

impl SharedBody {
    fn new(body: Incoming) -> Self {
        let ended = body.is_end_stream();
        Self(Arc::new(Mutex::new(BodyState { body, ended })))
    }

    fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let frame = Pin::new(&mut state.body).poll_frame(cx);
        if let Poll::Ready(None) = frame {
            state.ended = true;
        }
        frame
    }

    /// Reads the rest of the body, if small, within [`DRAIN_TIMEOUT`];
    /// whether the connection can carry another request.
    async fn drain(&self) -> bool {
        let remaining = {
            let state = self.0.lock().unwrap_or_else(|e| e.into_inner());
            if state.ended || state.body.is_end_stream() {
                return true;
            }
            state.body.size_hint().upper()
        };
        if remaining.is_some_and(|remaining| remaining > MAX_DRAINED_BYTES) {
            return false;
        }
        let read_all = async {
            let mut read = 0;
            while let Some(frame) = poll_fn(|cx| self.poll_next(cx)).await {
                let Ok(frame) = frame else { return false };
                read += frame.data_ref().map_or(0, |data| data.len() as u64);
                if read > MAX_DRAINED_BYTES {
                    return false;
                }
            }
            true
        };
        tokio::time::timeout(DRAIN_TIMEOUT, read_all)
            .await
            .unwrap_or(false)
    }
}

impl hyper::body::Body for SharedBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        self.poll_next(cx)
    }

    fn is_end_stream(&self) -> bool {
        let state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        state.ended || state.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        state.body.size_hint()
    }
}

/// A connection whose writes must make progress: once a write has waited
/// `limit` for the client to read, it fails, and hyper ends the connection.
/// Only a pending write is timed, so a quiet stream (SSE) stays open.
struct WriteDeadline<T> {
    io: T,
    limit: Duration,
    /// Set while a write waits; reset as soon as one goes through.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<T> WriteDeadline<T> {
    fn new(io: T, limit: Duration) -> Self {
        Self {
            io,
            limit,
            stalled: None,
        }
    }

    fn poll_progress<R>(
        &mut self,
        cx: &mut Context<'_>,
        write: impl FnOnce(Pin<&mut T>, &mut Context<'_>) -> Poll<io::Result<R>>,
    ) -> Poll<io::Result<R>>
    where
        T: Unpin,
    {
        if let Poll::Ready(result) = write(Pin::new(&mut self.io), cx) {
            self.stalled = None;
            return Poll::Ready(result);
        }
        let limit = self.limit;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client read nothing of the response within the write timeout",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WriteDeadline<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .poll_progress(cx, |io, cx| io.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .poll_progress(cx, |io, cx| io.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_progress(cx, AsyncWrite::poll_flush)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_progress(cx, AsyncWrite::poll_shutdown)
    }
}
