//! The accept loop: HTTP/1.1 connections with a deadline on each request's head, and a
//! shutdown that waits for requests, not for connections.
//!
//! `axum::serve` gives hyper no timer, so hyper cannot time out a client that sends its
//! headers a byte at a time; five such clients held a SIGTERM shutdown for its whole grace
//! period. Here every connection has `header_read_timeout`, and on shutdown the server waits
//! only while requests are being answered: a connection that never sent a whole request is
//! simply dropped.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tower::ServiceExt;

/// How the server treats connections.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Longest a client may take to send a request's head.
    pub header_read: Duration,
    /// Longest requests in flight may take to finish after the shutdown signal.
    pub grace: Duration,
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting, lets the
/// requests in flight finish within the grace period, and returns. Whether they all finished
/// is the answer.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> bool {
    let in_flight = InFlight::default();
    let (closing, closed) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let connection = connection(stream, peer, router.clone(), limits, in_flight.clone(), closed.clone());
                    tokio::spawn(connection);
                }
                // Out of file descriptors, or a connection reset before it was accepted: the
                // listener itself is fine, so wait a moment rather than spin.
                Err(err) => {
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    tracing::info!(in_flight = in_flight.count(), "shutting down: no new connections; finishing requests in flight");
    let _ = closing.send(true);
    tokio::time::timeout(limits.grace, in_flight.drained()).await.is_ok()
}

/// One connection: its requests carry the peer's address, as `ConnectInfo`, and count as in
/// flight until answered. On shutdown it finishes the request in hand and closes.
async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    in_flight: InFlight,
    mut closing: watch::Receiver<bool>,
) {
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        let guard = in_flight.enter();
        request.extensions_mut().insert(ConnectInfo(peer));
        let router = router.clone();
        async move {
            // The guard lives as long as the response body, so a request counts until the last
            // byte of its answer is handed to the connection.
            let response = router.oneshot(request.map(Body::new)).await?;
            Ok::<_, std::convert::Infallible>(response.map(|body| {
                Body::new(body.map_frame(move |frame| {
                    let _counted = &guard;
                    frame
                }))
            }))
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(err) = result {
                tracing::debug!(error = %err, "connection ended");
            }
        }
        _ = async { closing.wait_for(|closing| *closing).await.map(|_| ()) } => {
            connection.as_mut().graceful_shutdown();
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "connection ended at shutdown");
            }
        }
    }
}

/// Requests being answered, and a way to wait until there are none.
#[derive(Clone, Debug, Default)]
struct InFlight(Arc<(AtomicUsize, Notify)>);

impl InFlight {
    fn enter(&self) -> InFlightGuard {
        self.0.0.fetch_add(1, Ordering::SeqCst);
        InFlightGuard(self.clone())
    }

    fn count(&self) -> usize {
        self.0.0.load(Ordering::SeqCst)
    }

    async fn drained(&self) {
        loop {
            let notified = self.0.1.notified();
            if self.count() == 0 {
                return;
            }
            notified.await;
        }
    }
}

struct InFlightGuard(InFlight);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        if (self.0).0.0.fetch_sub(1, Ordering::SeqCst) == 1 {
            (self.0).0.1.notify_waiters();
        }
    }
}
