//! The HTTP server around the router: connection timeouts (hyper's header-read timeout closes
//! slow or idle connections), a whole-request timeout, a bound on requests in flight and on the
//! expensive ones (beyond it: 503 with `Retry-After`, at once, instead of queueing), graceful
//! shutdown on Ctrl-C, and one access-log line per request.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;

use super::error::ApiError;

/// The server's limits. README states the defaults.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A connection must send a request's whole header within this (and an idle keep-alive
    /// connection is closed after it).
    pub header_read: Duration,
    /// A request must be answered within this (503 beyond).
    pub request: Duration,
    /// Requests in flight at most; more are answered 503 at once.
    pub in_flight: usize,
    /// Expensive requests (H3 layers, plans, what-if, exports, audit) in flight at most.
    pub expensive: usize,
    /// Expensive requests one client address may make at once …
    pub client_burst: u32,
    /// … and per second after that (429 beyond).
    pub client_per_second: f64,
}

impl Default for Limits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            header_read: Duration::from_secs(10),
            // A 16 MiB upload over a 1 Mbit/s office line takes about 135 s.
            request: Duration::from_secs(300),
            in_flight: 512,
            expensive: (2 * cores).max(2),
            client_burst: 30,
            client_per_second: 5.0,
        }
    }
}

/// The answer when a limit is reached: 503, JSON, `Retry-After: 1`.
pub(super) fn busy(what: &str) -> Response {
    let mut res = ApiError::Unavailable(format!(
        "the server is busy ({what}); try again in a second"
    ))
    .into_response();
    res.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        HeaderValue::from_static("1"),
    );
    res
}

/// Serves `app` on `listener` until Ctrl-C; in-flight requests get 10 s to finish.
///
/// # Errors
/// When the listener cannot be used.
pub(super) async fn run(
    app: axum::Router,
    listener: tokio::net::TcpListener,
    limits: Limits,
) -> std::io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(limits.header_read))
        .keep_alive_timeout(limits.header_read);
    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(%e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        // Every request of the connection carries its client's address (for the rate limits).
        let ip = super::rate::Peer(peer.ip());
        let service = TowerToHyperService::new(tower::util::MapRequest::new(
            app.clone(),
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ip);
                req
            },
        ));
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, %e, "connection closed");
            }
        });
    }
    tracing::info!("shutting down");
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(10)) => {}
    }
    Ok(())
}

static REQUESTS: AtomicU64 = AtomicU64::new(0);

/// One line per request at info level, target `phuso::access`: request id (also sent back as
/// `X-Request-Id`), method, path (cut at 200 characters; never the query, which may carry a
/// bbox but never a token), status, milliseconds, bytes when known.
pub(super) async fn access_log(req: Request, next: Next) -> Response {
    let id = REQUESTS.fetch_add(1, Ordering::Relaxed) + 1;
    let started = Instant::now();
    let method = req.method().clone();
    let path = super::guard::short(req.uri().path());
    let mut res = next.run(req).await;
    let bytes = res
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| "-".into());
    let status = res.status();
    tracing::info!(
        target: "phuso::access",
        id,
        %method,
        path,
        status = status.as_u16(),
        ms = started.elapsed().as_secs_f64() * 1e3,
        bytes,
    );
    if let Ok(v) = HeaderValue::from_str(&id.to_string()) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

/// Shared bound on expensive requests: a permit, or 503 at once.
#[derive(Clone)]
pub(super) struct Expensive(pub Arc<tokio::sync::Semaphore>);

/// The middleware for expensive routes.
pub(super) async fn expensive(
    axum::extract::State(limit): axum::extract::State<Expensive>,
    req: Request,
    next: Next,
) -> Response {
    match limit.0.try_acquire() {
        Ok(_permit) => next.run(req).await,
        Err(_) => busy("too many H3 layers, plans, what-ifs or exports at once"),
    }
}

/// The bound on requests in flight (`/api/health` is never refused, so a monitor sees the server
/// alive while it sheds load).
pub(super) async fn in_flight(
    axum::extract::State(limit): axum::extract::State<Arc<tokio::sync::Semaphore>>,
    req: Request,
    next: Next,
) -> Response {
    if req.uri().path() == "/api/health" {
        return next.run(req).await;
    }
    match limit.try_acquire() {
        Ok(_permit) => next.run(req).await,
        Err(_) => busy("too many requests in flight"),
    }
}
