//! What every handler can reach: [`WebState`], cheap to clone (reference counts only).
//!
//! It holds the receiving end of the snapshot channel, the store (optional: without `--db`
//! there is no history), the capture control, the access rule and what `/api/status` reports.
//! Nothing in it is an engine lock: handlers read published snapshots and the store only.

use crate::auth::Auth;
use crate::control::Control;
use crate::limits::Caps;
use crate::server::ServerLimits;
use crate::snapshot::Snapshot;
use std::fmt;
use std::sync::Arc;
use tokio::sync::watch;
use wirewatch_store::Store;

/// Shared state of the web layer.
#[derive(Clone)]
pub struct WebState {
    pub(crate) snapshots: watch::Receiver<Arc<Snapshot>>,
    pub(crate) store: Option<Arc<dyn Store>>,
    pub(crate) control: Arc<dyn Control>,
    pub(crate) auth: Auth,
    pub(crate) listen: Arc<str>,
    pub(crate) version: Arc<str>,
    /// Set to `true` when the server shuts down: WebSocket tasks close their connections.
    pub(crate) shutdown: Arc<watch::Sender<bool>>,
    /// The connection and WebSocket caps (those of [`ServerLimits::default`] until
    /// [`crate::spawn_with`] sets the server's own).
    pub(crate) caps: Arc<Caps>,
}

impl WebState {
    /// State reading snapshots from `snapshots` and controlling the capture through
    /// `control`; no store, no login, this crate's version, an empty listen address (set by
    /// [`crate::spawn`] or [`WebState::with_listen`]).
    pub fn new(snapshots: watch::Receiver<Arc<Snapshot>>, control: Arc<dyn Control>) -> Self {
        WebState {
            snapshots,
            store: None,
            control,
            auth: Auth::None,
            listen: Arc::from(""),
            version: Arc::from(env!("CARGO_PKG_VERSION")),
            shutdown: Arc::new(watch::channel(false).0),
            caps: Arc::new(Caps::new(
                ServerLimits::default().max_connections,
                ServerLimits::default().max_websockets,
            )),
        }
    }

    /// With a store for the history and export routes.
    pub fn with_store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// With an access rule (see [`crate::check_listen`]).
    pub fn with_auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// With the address `/api/status` reports as `listen`.
    pub fn with_listen(mut self, listen: impl Into<String>) -> Self {
        self.listen = Arc::from(listen.into());
        self
    }

    /// With the version `/api/status` reports.
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = Arc::from(version.into());
        self
    }

    /// The current snapshot (the borrow of the channel is released at once).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshots.borrow().clone()
    }

    /// The access rule.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The store, if any.
    pub fn store(&self) -> Option<&Arc<dyn Store>> {
        self.store.as_ref()
    }
}

impl fmt::Debug for WebState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebState")
            .field("seq", &self.snapshots.borrow().seq)
            .field("store", &self.store.is_some())
            .field("auth", &self.auth)
            .field("listen", &self.listen)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}
