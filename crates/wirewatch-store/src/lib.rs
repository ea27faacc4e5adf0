//! Wirewatch storage: the [`Store`] trait and its default backend, [`SqliteStore`].
//!
//! Owns everything that persists pipeline output (closed intervals and their top talkers,
//! finished flows, alerts) and the queries the web layer and the CLI run over it. It must not
//! read the wall clock for retention (packet time decides what is old), must never block or
//! panic in [`Store::submit`] (the engine thread calls it), and must not depend on any
//! Wirewatch crate but `wirewatch-core`.
//!
//! Shape of the SQLite backend (see `sqlite/`):
//!
//! ```text
//!  engine ──submit(Vec<Record>)──► bounded sync_channel ──► writer thread ──► SQLite file (WAL)
//!         (try_send: full → batch dropped, counted)          (one connection, batches
//!                                                             coalesced into one transaction,
//!                                                             roll-ups, retention)
//!  web / CLI ──intervals/talkers/flows/alerts(Query)──► read-only connections (small pool)
//! ```
//!
//! Every backend must pass [`contract::contract_suite`].

#[doc(hidden)]
pub mod contract;
mod error;
mod ip;
pub mod params;
mod query;
mod sqlite;

pub use error::StoreError;
pub use ip::{blob_to_ip, ip_to_blob};
pub use query::{
    AppColumns, DEFAULT_LIMIT, FlowRow, IntervalRow, MAX_LIMIT, Page, Query, Resolution, TalkerRow,
    ThreatColumns, for_each_page, parse_ip_filter, sort_columns,
};
pub use sqlite::{CachedIntel, IntelCache};
pub use sqlite::{SqliteStore, bulk_insert_flows, create_at_version, live_bytes, migration_count};

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;
use wirewatch_core::{Alert, FlowRecord, IntervalMetrics};

/// Default depth of the queue to the writer thread, in batches. The engine submits about one
/// batch per closed interval (one second), so 256 batches ride out minutes of a stalled disk
/// while bounding memory to a few hundred intervals' worth of records.
pub const DEFAULT_QUEUE_CAPACITY: usize = 256;

/// Where and how to store.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreConfig {
    /// The database file (created when missing; its directory must exist).
    pub path: PathBuf,
    /// What to keep, and for how long.
    pub retention: RetentionConfig,
    /// Depth of the writer queue in batches (see [`DEFAULT_QUEUE_CAPACITY`]).
    pub queue_capacity: usize,
}

impl StoreConfig {
    /// A config for `path` with default retention and queue depth.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        StoreConfig {
            path: path.into(),
            retention: RetentionConfig::default(),
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
        }
    }
}

/// How long each kind of data is kept, measured back from the latest stored packet time
/// (never the wall clock: an old capture analysed today is not deleted at once).
/// A value of 0 keeps that kind forever.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Raw intervals and their top talkers, in hours (24: a day at one-second resolution is
    /// 86,400 rows, small enough to chart any part of it quickly).
    pub intervals_hours: u64,
    /// Per-minute roll-ups, in days (30: 43,200 rows).
    pub minute_rollup_days: u64,
    /// Per-hour roll-ups, in days (365: 8,760 rows).
    pub hour_rollup_days: u64,
    /// Flow records, in days (7: flows are the bulk of the database).
    pub flows_days: u64,
    /// Alerts, in days (90: incidents are few and worth keeping for a quarter).
    pub alerts_days: u64,
    /// Size cap of the database in MiB: when the live data grows past it, the oldest raw
    /// intervals, talkers and flows are deleted in chunks until it fits. `None`: no cap.
    pub max_db_mb: Option<u64>,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            intervals_hours: 24,
            minute_rollup_days: 30,
            hour_rollup_days: 365,
            flows_days: 7,
            alerts_days: 90,
            max_db_mb: None,
        }
    }
}

/// One thing to store.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A closed interval; its top talkers go to the `talkers` table.
    Interval(IntervalMetrics),
    /// A flow record, with its application label and names.
    Flow(FlowRecord),
    /// An alert: a new id inserts a row, a known id updates it in place (incidents grow).
    Alert(Alert),
}

/// Counters of the writer side.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct StoreStats {
    /// Batches (submissions) committed to the database.
    pub batches_written: u64,
    /// Records committed to the database.
    pub records_written: u64,
    /// Batches lost: the queue was full at submission, or their transaction failed.
    pub batches_dropped: u64,
    /// Records in those batches.
    pub records_dropped: u64,
    /// Failed writer transactions (each loses the batches coalesced into it) and failed
    /// retention passes.
    pub write_errors: u64,
    /// Batches waiting in the queue or being written right now.
    pub queued: u64,
}

/// A storage backend. Writes go through a queue and never block the caller; reads are
/// synchronous and may run while writes are in progress.
pub trait Store: Send + Sync {
    /// Queues records for the writer thread. Never blocks: when the queue is full the batch is
    /// dropped and counted. Returns whether it was queued.
    fn submit(&self, records: Vec<Record>) -> bool;
    /// Waits (up to `timeout`) until everything queued so far is written.
    fn flush(&self, timeout: Duration) -> Result<(), StoreError>;
    /// Writer counters.
    fn stats(&self) -> StoreStats;
    /// The last write error, if the latest write failed (cleared when a write succeeds).
    fn last_error(&self) -> Option<String>;
    /// Interval rows at the resolution `q.resolution` picks (filters used: time range, sort).
    fn intervals(&self, q: &Query) -> Result<Page<IntervalRow>, StoreError>;
    /// Top-talker rows of raw intervals (filters used: time range, ip, `kind` = `src`/`dst`).
    fn talkers(&self, q: &Query) -> Result<Page<TalkerRow>, StoreError>;
    /// Flow rows overlapping the time range (filters used: ip, port, proto, name, text).
    fn flows(&self, q: &Query) -> Result<Page<FlowRow>, StoreError>;
    /// Alerts overlapping the time range (filters used: ip, port, kind, min_severity, text).
    fn alerts(&self, q: &Query) -> Result<Page<Alert>, StoreError>;
}
