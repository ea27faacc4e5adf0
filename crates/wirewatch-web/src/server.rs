//! The server: [`app`] builds the router (no socket: tests call it with `oneshot`), [`spawn`]
//! binds the address at once and serves on a thread of its own with a small tokio runtime, so
//! the engine thread never shares a runtime or a lock with the web layer.

use crate::api;
use crate::assets;
use crate::auth::check_listen;
use crate::error::{ApiError, WebError};
use crate::limits::{Capped, CappedAddr, CappedListener, Caps, WebStats};
use crate::security;
use crate::state::WebState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum_server::tls_rustls::RustlsConfig;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Largest request body accepted: control bodies are a few hundred bytes at most.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Worker threads of the server's runtime: the API is light (store queries run on the
/// blocking pool), and two workers keep one free while the other serializes a big snapshot.
pub const WORKER_THREADS: usize = 2;
/// Most threads running blocking calls (store queries, exports, capture control) at once.
pub const MAX_BLOCKING_THREADS: usize = 32;
/// How long shutdown waits for WebSockets to close and requests to finish, each.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// PEM files for HTTPS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate chain (PEM), leaf first.
    pub cert: PathBuf,
    /// Private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Where and how to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebConfig {
    /// Address to listen on (port 0: any free port).
    pub listen: SocketAddr,
    /// Access token (`[web] token` or `--token-file`); required off loopback.
    pub token: Option<String>,
    /// Serve HTTPS with these files.
    pub tls: Option<TlsFiles>,
}

/// The router: every route of [`api::routes`], the embedded assets, the guards and the
/// security headers.
pub fn app(state: WebState) -> Router {
    let mut router = Router::new();
    for (info, handler) in api::table() {
        router = router.route(info.path, handler);
    }
    router
        .fallback(assets::fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(from_fn_with_state(state.clone(), security::guard))
        .layer(from_fn(security::security_headers))
        .with_state(state)
}

/// 405 as JSON, like every other API error.
async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    ApiError::MethodNotAllowed(format!("{method} is not allowed on {}", uri.path())).into_response()
}

/// A running server. Dropping it shuts the server down like [`ServerHandle::shutdown`]
/// (blocking for up to a couple of seconds).
#[derive(Debug)]
pub struct ServerHandle {
    local_addr: SocketAddr,
    tls: bool,
    handle: axum_server::Handle<CappedAddr>,
    shutdown: Arc<watch::Sender<bool>>,
    caps: Arc<Caps>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl ServerHandle {
    /// The address it listens on (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The dashboard's URL, e.g. `http://127.0.0.1:8080/`.
    pub fn url(&self) -> String {
        format!(
            "{}://{}/",
            if self.tls { "https" } else { "http" },
            self.local_addr
        )
    }

    /// Connections and WebSockets open now, the caps, and how often they were reached.
    pub fn stats(&self) -> WebStats {
        self.caps.stats()
    }

    /// Stops accepting, closes every WebSocket (code 1001), lets running requests finish for
    /// up to [`SHUTDOWN_GRACE`] and joins the server thread.
    pub fn shutdown(mut self) -> Result<(), WebError> {
        self.stop()
    }

    fn stop(&mut self) -> Result<(), WebError> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        self.shutdown.send_replace(true);
        // Each WebSocket task holds a receiver until it has sent its close frame.
        let deadline = Instant::now() + SHUTDOWN_GRACE;
        while self.shutdown.receiver_count() > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        self.handle.graceful_shutdown(Some(SHUTDOWN_GRACE));
        match thread.join() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(WebError::Server(e.to_string())),
            Err(_) => Err(WebError::Server("the server thread panicked".to_string())),
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// Binds `config.listen` now (a bad or busy address is an error at once, naming it), then
/// serves `state` on a new thread. Sets the state's access rule from [`check_listen`] and its
/// listen address from the bound socket.
pub fn spawn(config: &WebConfig, state: WebState) -> Result<ServerHandle, WebError> {
    spawn_with(config, state, &ServerLimits::default())
}

/// What a client may cost the server before it is cut off or kept waiting. Build it with
/// `..ServerLimits::default()` so that new limits get their defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerLimits {
    /// Time a client has to send a request's headers, and the longest a kept-alive connection
    /// may sit idle before its next request: half-sent requests and idle sockets cannot pile
    /// up and exhaust file descriptors (Slowloris).
    pub header_read_timeout: Duration,
    /// Most TCP connections open at once (WebSockets included; at least 1). At the cap the
    /// server stops accepting: new clients wait in the kernel's listen backlog and are served,
    /// oldest first, as connections close. Counted in [`WebStats::connection_waits`].
    pub max_connections: usize,
    /// Most WebSockets (live feeds) open at once; 0 refuses them all. An upgrade beyond the
    /// cap gets 503 with a JSON error. Counted in [`WebStats::websockets_refused`].
    pub max_websockets: usize,
}

/// Default of [`ServerLimits::max_connections`].
///
/// 512: a browser opens at most 6 connections to a host (plus its WebSocket), so this serves
/// some 70 dashboards at once, far more than the handful of people who watch one monitor,
/// while the server's file descriptors stay well under 1024, the usual soft `ulimit -n`,
/// which it shares with the capture, the database and the pcap files.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// Default of [`ServerLimits::max_websockets`].
///
/// 64: one per open dashboard tab. Each feed serializes the snapshot for its own client at
/// every interval on the server's two workers, so a page reloading in a loop or a leaking
/// script must not open them by the thousand; 64 tabs are more than any team keeps open.
pub const DEFAULT_MAX_WEBSOCKETS: usize = 64;

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            // Ten seconds: far more than any browser or API client needs on a LAN, short
            // enough that a thousand idle sockets are gone before they matter.
            header_read_timeout: Duration::from_secs(10),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_websockets: DEFAULT_MAX_WEBSOCKETS,
        }
    }
}

/// [`spawn`] with explicit [`ServerLimits`].
pub fn spawn_with(
    config: &WebConfig,
    state: WebState,
    limits: &ServerLimits,
) -> Result<ServerHandle, WebError> {
    let auth = check_listen(&config.listen, config.token.as_deref())?;
    let tls = config.tls.as_ref().map(load_tls).transpose()?;
    let listener =
        std::net::TcpListener::bind(config.listen).map_err(|e| listen_error(config.listen, &e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| listen_error(config.listen, &e))?;
    let local_addr = listener
        .local_addr()
        .map_err(|e| listen_error(config.listen, &e))?;

    let shutdown = Arc::new(watch::channel(false).0);
    let caps = Arc::new(Caps::new(limits.max_connections, limits.max_websockets));
    let state = WebState {
        auth,
        listen: Arc::from(local_addr.to_string()),
        shutdown: shutdown.clone(),
        caps: caps.clone(),
        ..state
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .thread_name("wirewatch-web")
        .enable_all()
        .build()
        .map_err(|e| WebError::Server(format!("cannot start the runtime: {e}")))?;
    let handle = axum_server::Handle::new();
    let server_handle = handle.clone();
    let header_timeout = limits.header_read_timeout;
    let is_tls = tls.is_some();
    let listener_caps = caps.clone();
    let thread = std::thread::Builder::new()
        .name("wirewatch-web".to_string())
        .spawn(move || {
            let result = runtime.block_on(async move {
                let service = app(state).into_make_service();
                // Registered with this runtime's reactor, hence inside it.
                let listener = CappedListener::new(
                    tokio::net::TcpListener::from_std(listener)?,
                    listener_caps,
                );
                let server = axum_server::Server::<CappedAddr>::from_listener(listener);
                match tls {
                    None => {
                        let mut server = server.acceptor(FirstByteTimeout(header_timeout));
                        http1_limits(server.http_builder(), header_timeout);
                        server.handle(server_handle).serve(service).await
                    }
                    Some(config) => {
                        // A client that never completes the TLS handshake is cut off after
                        // the same time.
                        let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(
                            RustlsConfig::from_config(config),
                        )
                        .handshake_timeout(header_timeout);
                        let mut server = server.acceptor(acceptor);
                        http1_limits(server.http_builder(), header_timeout);
                        server.handle(server_handle).serve(service).await
                    }
                }
            });
            runtime.shutdown_timeout(SHUTDOWN_GRACE);
            result
        })
        .map_err(|e| WebError::Server(format!("cannot start the server thread: {e}")))?;
    Ok(ServerHandle {
        local_addr,
        tls: is_tls,
        handle,
        shutdown,
        caps,
        thread: Some(thread),
    })
}

/// An acceptor that drops a connection on which nothing arrives within its time: the HTTP
/// version sniffing that comes first has no timeout of its own, so a silent client would
/// otherwise hold its socket forever.
#[derive(Debug, Clone, Copy)]
struct FirstByteTimeout(Duration);

impl<S: Send + 'static> axum_server::accept::Accept<Capped, S> for FirstByteTimeout {
    type Stream = Capped;
    type Service = S;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = std::io::Result<(Self::Stream, S)>> + Send>,
    >;

    fn accept(&self, stream: Capped, service: S) -> Self::Future {
        let limit = self.0;
        Box::pin(async move {
            // `peek` waits for a byte (readiness alone can be reported before any data).
            let mut first = [0u8; 1];
            match tokio::time::timeout(limit, stream.peek(&mut first)).await {
                Ok(Ok(_)) => Ok((stream, service)),
                Ok(Err(e)) => Err(e),
                Err(_) => Err(std::io::Error::new(
                    ErrorKind::TimedOut,
                    "the client sent nothing in time",
                )),
            }
        })
    }
}

/// A header-read timeout on HTTP/1 connections, which also ends idle kept-alive connections.
fn http1_limits(
    builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    header_timeout: Duration,
) {
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header_timeout);
}

/// The error for an address that cannot be listened on, with what to do.
fn listen_error(addr: SocketAddr, e: &std::io::Error) -> WebError {
    let reason = match e.kind() {
        ErrorKind::AddrInUse => "address in use (pick another with --listen)".to_string(),
        ErrorKind::AddrNotAvailable => "no such address on this machine (pick one of its \
             addresses with --listen, or 0.0.0.0 for all)"
            .to_string(),
        ErrorKind::PermissionDenied => "permission denied (ports below 1024 need root or \
             CAP_NET_BIND_SERVICE; pick a port above 1023 with --listen)"
            .to_string(),
        _ => e.to_string(),
    };
    WebError::Listen { addr, reason }
}

fn tls_error(path: &Path, message: impl Into<String>) -> WebError {
    WebError::Tls {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Loads the PEM certificate chain and key into a rustls server config (ring provider,
/// HTTP/1.1: WebSockets upgrade over it).
fn load_tls(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>, WebError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| tls_error(path, format!("cannot read it: {e}")))
    };
    let cert_pem = read(&files.cert)?;
    let certs = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls_error(&files.cert, format!("not a PEM certificate file: {e}")))?;
    if certs.is_empty() {
        return Err(tls_error(
            &files.cert,
            "no certificate in it (expected a PEM block -----BEGIN CERTIFICATE-----)",
        ));
    }
    let key_pem = read(&files.key)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        tls_error(
            &files.key,
            format!("no usable private key in it (expected PEM PKCS#8, PKCS#1 or SEC1): {e}"),
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(&files.cert, e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            tls_error(
                &files.key,
                format!(
                    "does not go with the certificate {}: {e}",
                    files.cert.display()
                ),
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn tls_errors_name_the_file() {
        let dir = std::env::temp_dir().join(format!("wirewatch-web-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        let files = TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        };
        let e = load_tls(&files).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("TLS: {}: cannot read it", cert.display())),
            "{e}"
        );
        std::fs::write(&cert, "hello").unwrap();
        let e = load_tls(&files).unwrap_err().to_string();
        assert!(e.contains("no certificate in it"), "{e}");
        std::fs::write(
            &cert,
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        std::fs::write(&key, "not a key").unwrap();
        let e = load_tls(&files).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("TLS: {}: no usable private key", key.display())),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
