//! The accept loop: what a connection may cost before any handler runs. A cap on open
//! connections, in all and per client address (past it, a canned 503 and close, instead of a
//! stall at the file-descriptor limit); a deadline for each request's head, which is also
//! the idle keep-alive timeout (hyper's header-read timer runs while a connection waits for
//! its next request); a bounded read buffer; and a deadline for each request's whole body
//! (slower bodies get 408).

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// What connections may cost; [`Limits::default`] is what `serve` uses.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Open connections at most, in all.
    pub max_connections: usize,
    /// Open connections at most from one client address.
    pub max_per_address: usize,
    /// Time for a request's head to arrive, counted from when the connection is ready for
    /// it: a new connection, or a kept-alive one after its last answer.
    pub header_timeout: Duration,
    /// Time for a request's whole body to arrive.
    pub body_deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 8192,
            max_per_address: 512,
            header_timeout: Duration::from_secs(20),
            body_deadline: Duration::from_secs(60),
        }
    }
}

/// What a refused connection is told, before it is closed.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n\
Content-Type: text/plain\r\nContent-Length: 30\r\n\r\ntoo many connections; retry.\r\n";

/// Open connections, in all and per address.
#[derive(Default)]
struct Open {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// One open connection's place, given back when it closes.
struct Slot {
    open: Arc<Mutex<Open>>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.open.lock() {
            open.total = open.total.saturating_sub(1);
            if let Some(n) = open.by_address.get_mut(&self.ip) {
                *n -= 1;
                if *n == 0 {
                    open.by_address.remove(&self.ip);
                }
            }
        }
    }
}

fn take_slot(open: &Arc<Mutex<Open>>, ip: IpAddr, limits: &Limits) -> Option<Slot> {
    let mut o = open.lock().ok()?;
    let mine = o.by_address.get(&ip).copied().unwrap_or(0);
    if o.total >= limits.max_connections || mine >= limits.max_per_address {
        return None;
    }
    o.total += 1;
    *o.by_address.entry(ip).or_insert(0) += 1;
    Some(Slot { open: open.clone(), ip })
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let open = Arc::new(Mutex::new(Open::default()));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (mut tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment instead of spinning.
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Some(slot) = take_slot(&open, peer.ip(), &limits) else {
            tokio::spawn(async move {
                let _ = tokio::time::timeout(Duration::from_secs(1), tcp.write_all(BUSY)).await;
            });
            continue;
        };
        // A page is written in several small pieces (streamed SSR); with Nagle's algorithm
        // the last one waits for the client's delayed ACK, 40 ms on every keep-alive request.
        let _ = tcp.set_nodelay(true);
        let app = app.clone();
        let limits = limits.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let service = hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                let (mut parts, body) = req.into_parts();
                parts.extensions.insert(ConnectInfo(peer));
                let body = Body::new(Deadline::new(body, limits.body_deadline));
                app.clone().oneshot(http::Request::from_parts(parts, body))
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).max_buf_size(64 << 10);
            let conn = builder.serve_connection(TokioIo::new(tcp), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                done = conn.as_mut() => { if let Err(e) = done { tracing::debug!("connection from {peer}: {e}"); } }
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    let _ = stop_tx.send(true);
    // Give requests in flight a moment to finish.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while open.lock().map(|o| o.total).unwrap_or(0) > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// A request body that fails once its deadline has passed (axum's body readers then answer
/// the handler's error: ingestion turns it into 408, see `ingest::read_body`).
struct Deadline<B> {
    body: B,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl<B> Deadline<B> {
    fn new(body: B, deadline: Duration) -> Self {
        Deadline { body, sleep: Box::pin(tokio::time::sleep(deadline)) }
    }
}

/// The error of a body past its deadline.
#[derive(Debug)]
pub struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTimedOut {}

impl<B> http_body::Body for Deadline<B>
where
    B: http_body::Body<Data = bytes::Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = bytes::Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if self.body.is_end_stream() {
            return Pin::new(&mut self.body).poll_frame(cx).map_err(Into::into);
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Box::new(BodyTimedOut))));
        }
        Pin::new(&mut self.body).poll_frame(cx).map_err(Into::into)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// Whether an error reading a body is [`BodyTimedOut`] (anywhere in its chain).
pub fn is_body_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.is::<BodyTimedOut>() {
            return true;
        }
        cur = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_in_all_and_per_address() {
        let open = Arc::new(Mutex::new(Open::default()));
        let limits = Limits { max_connections: 3, max_per_address: 2, ..Limits::default() };
        let a: IpAddr = "198.51.100.1".parse().unwrap();
        let b: IpAddr = "198.51.100.2".parse().unwrap();
        let a1 = take_slot(&open, a, &limits).unwrap();
        let _a2 = take_slot(&open, a, &limits).unwrap();
        assert!(take_slot(&open, a, &limits).is_none(), "per address");
        let _b1 = take_slot(&open, b, &limits).unwrap();
        assert!(take_slot(&open, b, &limits).is_none(), "in all");
        drop(a1);
        let _b2 = take_slot(&open, b, &limits).expect("a place was given back");
        assert_eq!(open.lock().unwrap().total, 3);
    }
}
