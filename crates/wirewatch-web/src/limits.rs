//! The caps on what clients may hold open at once: TCP connections and live feeds.
//!
//! Each cap is a [`Slots`]: a semaphore with one permit per allowed connection (or WebSocket),
//! a gauge of the slots taken, and a counter of the times a client found every slot taken.
//!
//! Connections wait: the listener ([`CappedListener`]) takes a free slot *before* it calls
//! `accept()`, so when every slot is taken it simply stops accepting and new clients queue in
//! the kernel's listen backlog (bounded, costing the server no file descriptor and no memory)
//! until a connection closes; then the oldest is served. This is what nginx, HAProxy and Go's
//! `LimitListener` do. The slot moves into the accepted stream ([`Capped`]) and is given back
//! when the stream is dropped: when the connection ends, or when the WebSocket that took over
//! the socket closes. Idle and half-sent connections are closed by the header-read timeout, so
//! slots cannot be held forever by clients that send nothing.
//!
//! WebSockets are refused instead: a live feed lasts as long as the page is open, so waiting
//! for a free one could take hours; an upgrade beyond the cap gets a 503 at once (the
//! dashboard retries with its backoff).

use axum_server::{AddrListener, Address};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The shortest time between two warnings of the same full cap on standard error: a client
/// hammering a full server must not flood the log.
pub(crate) const WARN_EVERY: Duration = Duration::from_secs(60);

/// What the caps have seen, from [`crate::ServerHandle::stats`] (and `/metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WebStats {
    /// TCP connections open now (a WebSocket's connection included).
    pub connections_open: usize,
    /// The connection cap ([`crate::ServerLimits::max_connections`]).
    pub max_connections: usize,
    /// Times a new connection found every slot taken and waited in the listen backlog.
    pub connection_waits: u64,
    /// WebSockets (live feeds) open now.
    pub websockets_open: usize,
    /// The WebSocket cap ([`crate::ServerLimits::max_websockets`]).
    pub max_websockets: usize,
    /// WebSocket upgrades refused with 503 because the cap was reached.
    pub websockets_refused: u64,
}

/// A fixed number of slots, a gauge of those taken and a counter of clients that found none.
#[derive(Debug)]
pub(crate) struct Slots {
    /// What a slot is for, in the warning ("connection", "WebSocket").
    what: &'static str,
    /// What happens to the client that finds none, in the warning.
    then: &'static str,
    max: usize,
    free: Arc<Semaphore>,
    open: Arc<AtomicUsize>,
    full: AtomicU64,
    last_warning: Mutex<Option<Instant>>,
}

impl Slots {
    /// `max` slots (at most what a semaphore can count).
    pub(crate) fn new(max: usize, what: &'static str, then: &'static str) -> Slots {
        let max = max.min(Semaphore::MAX_PERMITS);
        Slots {
            what,
            then,
            max,
            free: Arc::new(Semaphore::new(max)),
            open: Arc::new(AtomicUsize::new(0)),
            full: AtomicU64::new(0),
            last_warning: Mutex::new(None),
        }
    }

    /// A free slot now, or `None` (counted, and warned about now and then).
    pub(crate) fn try_take(&self) -> Option<Slot> {
        match self.free.clone().try_acquire_owned() {
            Ok(permit) => Some(self.slot(permit)),
            Err(_) => {
                self.note_full();
                None
            }
        }
    }

    /// A permit for a slot, waiting for one when all are taken (counted, and warned about now
    /// and then). Only the permit: the slot counts as open once [`Slots::slot`] makes it one.
    async fn wait_permit(&self) -> io::Result<OwnedSemaphorePermit> {
        if let Ok(permit) = self.free.clone().try_acquire_owned() {
            return Ok(permit);
        }
        self.note_full();
        self.free
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| io::Error::other("the connection slots are closed"))
    }

    fn slot(&self, permit: OwnedSemaphorePermit) -> Slot {
        self.open.fetch_add(1, Ordering::Relaxed);
        Slot {
            _permit: permit,
            open: self.open.clone(),
        }
    }

    fn note_full(&self) {
        let times = self.full.fetch_add(1, Ordering::Relaxed) + 1;
        let now = Instant::now();
        let mut last = self
            .last_warning
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if last.is_none_or(|t| now.duration_since(t) >= WARN_EVERY) {
            *last = Some(now);
            drop(last);
            eprintln!(
                "warning: web server: all {} {} slots are taken; {} ({times} so far)",
                self.max, self.what, self.then
            );
        }
    }

    pub(crate) fn max(&self) -> usize {
        self.max
    }

    pub(crate) fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    pub(crate) fn full_count(&self) -> u64 {
        self.full.load(Ordering::Relaxed)
    }
}

/// A taken slot, given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    _permit: OwnedSemaphorePermit,
    open: Arc<AtomicUsize>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Both caps, shared by the listener, the WebSocket handler and `/metrics`.
#[derive(Debug)]
pub(crate) struct Caps {
    pub(crate) connections: Slots,
    pub(crate) websockets: Slots,
}

impl Caps {
    pub(crate) fn new(max_connections: usize, max_websockets: usize) -> Caps {
        Caps {
            // Without a single slot nothing could ever be served.
            connections: Slots::new(
                max_connections.max(1),
                "connection",
                "new connections wait in the listen backlog until one closes \
                 (idle ones close after the header-read timeout)",
            ),
            websockets: Slots::new(
                max_websockets,
                "WebSocket",
                "more live feeds are refused with 503",
            ),
        }
    }

    pub(crate) fn stats(&self) -> WebStats {
        WebStats {
            connections_open: self.connections.open(),
            max_connections: self.connections.max(),
            connection_waits: self.connections.full_count(),
            websockets_open: self.websockets.open(),
            max_websockets: self.websockets.max(),
            websockets_refused: self.websockets.full_count(),
        }
    }
}

/// The address type of the capped listener (axum-server picks the listener by address type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CappedAddr(pub(crate) SocketAddr);

impl Address for CappedAddr {
    type Stream = Capped;
    type Listener = CappedListener;
}

/// A TCP listener that accepts only while a connection slot is free.
#[derive(Debug)]
pub(crate) struct CappedListener {
    listener: TcpListener,
    caps: Arc<Caps>,
}

impl CappedListener {
    pub(crate) fn new(listener: TcpListener, caps: Arc<Caps>) -> CappedListener {
        CappedListener { listener, caps }
    }
}

impl AddrListener<Capped, CappedAddr> for CappedListener {
    async fn bind_to(addr: CappedAddr) -> io::Result<Self> {
        // The server is always given a bound listener (`Server::from_listener`).
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("a capped listener is not bound by address ({})", addr.0),
        ))
    }

    async fn accept_stream(&self) -> io::Result<(Capped, CappedAddr)> {
        // The slot first: at the cap, nothing is accepted (the kernel's backlog holds new
        // clients). On an accept error the permit goes back and axum-server retries.
        let permit = self.caps.connections.wait_permit().await?;
        let (stream, addr) = self.listener.accept().await?;
        Ok((
            Capped {
                stream,
                _slot: self.caps.connections.slot(permit),
            },
            CappedAddr(addr),
        ))
    }

    fn get_local_addr(&self) -> io::Result<CappedAddr> {
        self.listener.local_addr().map(CappedAddr)
    }
}

/// An accepted TCP stream holding its connection slot.
#[derive(Debug)]
pub(crate) struct Capped {
    stream: TcpStream,
    _slot: Slot,
}

impl Capped {
    /// [`TcpStream::peek`].
    pub(crate) async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.peek(buf).await
    }
}

impl AsyncRead for Capped {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Capped {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn slots_count_what_is_open_and_who_found_none() {
        let caps = Caps::new(0, 1);
        assert_eq!(caps.connections.max(), 1, "at least one connection");
        let ws = caps.websockets.try_take().unwrap();
        assert!(caps.websockets.try_take().is_none());
        assert!(caps.websockets.try_take().is_none());
        let s = caps.stats();
        assert_eq!((s.websockets_open, s.websockets_refused), (1, 2));
        drop(ws);
        assert_eq!(caps.stats().websockets_open, 0);
        assert!(caps.websockets.try_take().is_some());
        let none = Caps::new(1, 0);
        assert!(
            none.websockets.try_take().is_none(),
            "0: no WebSocket at all"
        );
    }
}
