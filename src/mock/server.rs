//! The listening server: accept loop, per-connection HTTP/1.1 serving,
//! routing, and graceful shutdown.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::faults::{self, Broken};
use super::http::not_found;
use super::providers::Provider;
use super::state::Shared;
use super::token::{check_fault, Reply};
use super::{admin, token, Fault, MockOptions, RecordedRequest, ScriptedResponse};

/// How long [`MockServer::shutdown`] waits for in-flight requests.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// A running mock token provider. Dropping it stops the server too, without
/// waiting; [`MockServer::shutdown`] waits for in-flight requests.
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<()>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl MockServer {
    /// Binds `opts.addr`, spawns the server on the current tokio runtime and
    /// returns once it accepts connections.
    ///
    /// Fails on bind errors, and with `InvalidInput` for a fault status
    /// outside 200..=599. Must be called within a tokio runtime.
    pub async fn start(opts: MockOptions) -> io::Result<MockServer> {
        if let Some(fault) = &opts.fault {
            check_fault(fault).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        }
        let listener = bind(opts.addr)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(&opts));
        let (stop, stopped) = watch::channel(());
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared), stopped));
        Ok(MockServer {
            addr,
            shared,
            stop,
            task,
        })
    }

    /// The bound address (with the real port when `0` was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Number of token requests received on all token routes, rejected ones included.
    pub fn request_count(&self) -> usize {
        self.shared.lock().requests.len()
    }

    /// The path of every metadata request (either well-known form) received
    /// since start or the last [`reset`](Self::reset), in order.
    pub fn metadata_requests(&self) -> Vec<String> {
        self.shared.lock().metadata.clone()
    }

    /// Every token request received since start or the last [`reset`](Self::reset), in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// Appends responses to the FIFO queue; each valid token request takes the
    /// next one instead of the default success. An unsendable response (bad
    /// status or header) is answered as a 500 saying why.
    pub fn script(&self, responses: Vec<ScriptedResponse>) {
        self.shared.lock().script.extend(responses);
    }

    /// Clears recorded requests, the script and the fault.
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Sets or clears the fault for subsequent token requests. A status fault
    /// outside 200..=599 is answered as a 500 saying so.
    pub fn set_fault(&self, fault: Option<Fault>) {
        self.shared.lock().config.fault = fault;
    }

    /// Sets the delay before every token response.
    pub fn set_latency_ms(&self, latency_ms: u64) {
        self.shared.lock().config.latency_ms = latency_ms;
    }

    /// Overrides (or, with `None`, restores) every provider's default token lifetime.
    pub fn set_lifetime_secs(&self, lifetime_secs: Option<u64>) {
        self.shared.lock().config.lifetime_secs = lifetime_secs;
    }

    /// Enforces (or stops enforcing) Toast's rule of 2 token requests per
    /// client and hour: a 429 past them, as Toast's limit answers.
    pub fn set_toast_rate_limit(&self, on: bool) {
        self.shared.lock().config.toast_rate_limit = on;
    }

    /// Forgets when the platforms' recent token requests came (as if an hour
    /// had passed), keeping the tokens they issued.
    pub fn forget_request_times(&self) {
        self.shared.lock().platforms.forget_request_times();
    }

    /// Gives the accepted client (`MockOptions::credentials`) a new secret;
    /// the old one is refused from now on (`invalid_client`). `false` when the
    /// mock accepts any pair.
    pub fn rotate_secret(&self, secret: &str) -> bool {
        self.shared.rotate_secret(secret)
    }

    /// The DoorDash API route's counters (`calls`, `accepted`, `reject_next`);
    /// with `reject_next`, the next that many calls answer 401.
    pub fn doordash(&self, reject_next: Option<u64>) -> serde_json::Value {
        let body = reject_next.map(|n| serde_json::json!({ "reject_next": n }).to_string());
        super::doordash::admin(&self.shared, body.as_deref().map(str::as_bytes)).unwrap_or_default()
    }

    /// Stops accepting connections, lets in-flight requests finish (for up to
    /// 10 seconds) and closes idle connections.
    pub async fn shutdown(self) {
        // A send error means the loop is already gone; nothing left to stop.
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// A listener with a backlog large enough for bursts of a thousand connections.
fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<()>) {
    let mut builder = http1::Builder::new();
    // The mock sets `Date` itself so scripted responses can omit it. No read
    // timeout: it needs a timer, which a paused test clock would fire early.
    builder.auto_date_header(false).header_read_timeout(None);
    // Each connection holds a sender; `recv` yields `None` once all are gone.
    let (open_tx, mut open_rx) = mpsc::channel::<()>(1);
    let mut accepted_count = 0;
    loop {
        tokio::select! {
            // Fires on `shutdown` and when the handle is dropped.
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    accepted_count += 1;
                    tokio::spawn(serve(
                        stream,
                        ConnectionId(accepted_count),
                        builder.clone(),
                        Arc::clone(&shared),
                        stop.clone(),
                        open_tx.clone(),
                    ));
                }
                // Out of file descriptors and the like: back off rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
    }
    drop(listener);
    drop(open_tx);
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, open_rx.recv()).await;
}

/// Which connection a request arrived on: 1 for the first the server
/// accepted, and so on (recorded, so tests can see keep-alive reuse).
#[derive(Clone, Copy)]
pub(crate) struct ConnectionId(pub u64);

async fn serve(
    stream: TcpStream,
    id: ConnectionId,
    builder: http1::Builder,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<()>,
    _open: mpsc::Sender<()>,
) {
    let _ = stream.set_nodelay(true);
    // A broken response goes to this task, which takes the socket back from hyper.
    let (broken_tx, mut broken_rx) = mpsc::unbounded_channel::<Broken>();
    let service = service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(id);
        let shared = Arc::clone(&shared);
        let broken_tx = broken_tx.clone();
        async move {
            match route(&shared, req).await {
                Reply::Http(resp) => Ok::<_, Infallible>(resp),
                Reply::Broken(broken) => {
                    let _ = broken_tx.send(broken);
                    // Never answered: the connection task drops this future.
                    std::future::pending().await
                }
            }
        }
    });
    let mut conn = builder.serve_connection(TokioIo::new(stream), service);
    // Connection errors (client hung up, garbage bytes) only end this connection.
    let broken = tokio::select! {
        _ = &mut conn => return,
        Some(broken) = broken_rx.recv() => broken,
        _ = stop.changed() => {
            std::pin::Pin::new(&mut conn).graceful_shutdown();
            let _ = conn.await;
            return;
        }
    };
    let stream = conn.into_parts().io.into_inner();
    tokio::select! {
        _ = faults::send(stream, broken) => {}
        _ = stop.changed() => {}
    }
}

async fn route(shared: &Shared, req: Request<Incoming>) -> Reply {
    let path = req.uri().path();
    if path == "/__admin" || path.starts_with("/__admin/") {
        admin::handle(shared, req).await.into()
    } else if path.starts_with(super::doordash::PREFIX) {
        super::doordash::handle(shared, req).await.into()
    } else if super::metadata::is_metadata_path(path) {
        super::metadata::handle(shared, req).await.into()
    } else if let Some(platform) = ["/uber/ping", "/stuart/ping"]
        .iter()
        .find(|p| **p == path)
        .map(|p| &p[1..p.len() - 5])
    {
        super::platforms::ping(shared, platform, req.headers()).into()
    } else if let Some(provider) = Provider::from_path(path) {
        token::handle(shared, provider, req).await
    } else {
        not_found(path).into()
    }
}
