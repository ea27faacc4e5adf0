//! Wirewatch web layer: the JSON API, the WebSocket live feed and the embedded dashboard.
//!
//! Owns everything between published snapshots (and the store) and the browser: the
//! [`Snapshot`] type the engine publishes, the [`Control`] trait the binary implements for
//! capture control, the axum router ([`app`]) and the server thread ([`spawn`]), access
//! control ([`check_listen`], tokens, cross-site refusal) and the security headers. The
//! contract with the engine and the front end is `docs/web.md`.
//!
//! It never blocks the engine: the engine only calls [`SnapshotPublisher::publish`], which
//! replaces the value in a `watch` channel without waiting; handlers read published snapshots
//! and the store (on the blocking pool), never engine state or locks. Capture control goes
//! through [`Control`], whose calls also run on the blocking pool. The server runs its own
//! small runtime on its own thread.
//!
//! Must not: depend on the engine or the binary (it sees them only through published snapshots
//! and [`Control`]), or on any Wirewatch crate but `wirewatch-core` and `wirewatch-store`.

#![recursion_limit = "256"]

pub mod api;
pub mod assets;
pub mod auth;
pub mod control;
pub mod error;
mod limits;
pub mod metrics;
pub mod query;
mod security;
pub mod server;
pub mod snapshot;
pub mod state;
pub mod ws;

pub use auth::{Auth, check_listen, generate_token, parse_listen};
pub use control::{
    Control, ControlFailure, ControlFailureKind, InterfaceView, PacketExport, PacketQuery,
    RetrainOutcome,
};
pub use error::{ApiError, WebError};
pub use limits::WebStats;
pub use security::{CONTENT_SECURITY_POLICY, CSRF_HEADER};
pub use server::{ServerHandle, ServerLimits, TlsFiles, WebConfig, app, spawn, spawn_with};
pub use snapshot::{
    AlertStatus, AlertView, CaptureStatus, Connection, IntervalPoint, MAX_ALERTS, MAX_CONNECTIONS,
    MAX_PACKETS, MAX_RECENT_INTERVALS, MAX_TALKERS, PacketProto, PacketSummary, Snapshot,
    SnapshotPublisher, Stats, TalkerView, Threat, ThreatLevel, snapshot_channel,
};
pub use state::WebState;
