//! Wirewatch storage: the [`Store`] trait and its default backend, [`SqliteStore`].
//!
//! Owns everything that persists pipeline output (closed intervals and their top talkers,
//! finished flows, alerts, application transactions), the threat-intelligence cache table, and the queries the web layer
//! and the CLI run over it. Retention follows the clock the caller picks ([`RetentionClock`]:
//! the wall clock for live capture, the packet time of what this store wrote for files).
//!
//! Must not: block or panic in [`Store::submit`] (the engine thread calls it, through the
//! binary's store output); know of the engine or the outputs; depend on any Wirewatch crate
//! but `wirewatch-core`.
//!
//! Shape of the SQLite backend (see `sqlite/`):
//!
//! ```text
//!  engine ──submit(Vec<Record>)──► bounded sync_channel ──► writer thread ──► SQLite file (WAL)
//!         (try_send: full → batch dropped, counted)          (one connection, batches
//!                                                             coalesced into one transaction,
//!                                                             roll-ups, retention)
//!  web / CLI ──intervals/talkers/flows/alerts/transactions(Query)──► read-only connections
//!                                                                     (small pool)
//! ```
//!
//! Every backend must pass `contract::contract_suite`, test support behind the `contract`
//! feature (which only tests enable, through their dev-dependencies).

#[cfg(feature = "contract")]
#[doc(hidden)]
pub mod contract;
mod error;
mod ip;
pub mod params;
mod query;
mod sqlite;
mod transactions;

pub use error::StoreError;
pub use ip::{blob_to_ip, ip_to_blob};
pub use query::{
    AppColumns, DEFAULT_LIMIT, FlowRow, IntervalRow, MAX_LIMIT, Page, Query, Resolution, TalkerRow,
    ThreatColumns, for_each_page, parse_ip_filter, sort_columns,
};
pub use sqlite::{CachedIntel, IntelCache};
pub use sqlite::{
    SqliteStore, bulk_insert_flows, create_at_version, live_bytes, migration_count,
    page_cache_bytes,
};
pub use transactions::{TRANSACTION_KINDS, TransactionRow};

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;
use wirewatch_core::{Alert, FlowRecord, IntervalMetrics, Transaction};

/// Default depth of the queue to the writer thread, in batches. The engine submits about one
/// batch per closed interval (one second), so 256 batches ride out minutes of a stalled disk
/// while bounding memory to a few hundred intervals' worth of records.
pub const DEFAULT_QUEUE_CAPACITY: usize = 256;

/// Default cap on the memory the writer queue may hold, in bytes (estimated per record, see
/// [`Record::approx_bytes`]): 64 MiB rides out a disk stalled for tens of seconds at a busy
/// link's flow rate, and is what a stalled disk can cost at most.
pub const DEFAULT_QUEUE_BYTES: u64 = 64 << 20;

/// Where and how to store.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreConfig {
    /// The database file (created when missing; its directory must exist).
    pub path: PathBuf,
    /// What to keep, and for how long.
    pub retention: RetentionConfig,
    /// Depth of the writer queue in batches (see [`DEFAULT_QUEUE_CAPACITY`]).
    pub queue_capacity: usize,
    /// Most bytes the writer queue may hold (see [`DEFAULT_QUEUE_BYTES`]); a batch that would
    /// pass it is dropped and counted, like one arriving at a full queue.
    pub queue_bytes: u64,
    /// What "now" is for retention.
    pub retention_clock: RetentionClock,
}

/// What retention measures its windows back from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetentionClock {
    /// The latest packet time this store has written since it was opened, but never later
    /// than the wall clock: analysing an old capture keeps its rows (they are measured
    /// against the capture's own time), and neither a packet stamped in the future nor rows
    /// an earlier run stored can make retention delete anything newer than the data just
    /// written minus its window. For files (`analyze --db`, replays).
    #[default]
    WrittenPacketTime,
    /// The wall clock: for live capture, whose packet time is the wall clock anyway and
    /// whose database must not keep data past its window because the link went quiet.
    WallClock,
}

impl StoreConfig {
    /// A config for `path` with default retention and queue depth.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        StoreConfig {
            path: path.into(),
            retention: RetentionConfig::default(),
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            queue_bytes: DEFAULT_QUEUE_BYTES,
            retention_clock: RetentionClock::default(),
        }
    }
}

/// How long each kind of data is kept, measured back from "now" as the store's
/// [`RetentionClock`] says (for files the packet time of what was just written, so an old
/// capture analysed today is not deleted at once). A value of 0 keeps that kind forever.
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
    /// Application transactions (DNS, HTTP, TLS), in days (7, as flows: they are about as
    /// many as the flows that carry them, more on a DNS-heavy link).
    pub transactions_days: u64,
    /// Size cap of the database in MiB: when the live data grows past it, the oldest raw
    /// intervals, talkers, flows and transactions are deleted in chunks until it fits.
    /// `None`: no cap.
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
            transactions_days: 7,
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
    /// An application transaction (a DNS query and its answer, an HTTP request and its
    /// response, a TLS or QUIC handshake).
    Transaction(Transaction),
}

impl Record {
    /// About how many bytes of memory the record holds (its own size plus the strings and
    /// lists it owns): what the writer queue's byte cap counts.
    pub fn approx_bytes(&self) -> u64 {
        let s = |o: &Option<String>| o.as_ref().map_or(0, String::len);
        let heap = match self {
            Record::Interval(m) => {
                let talkers = m.top_sources_by_bytes.len()
                    + m.top_sources_by_packets.len()
                    + m.top_destinations_by_bytes.len()
                    + m.top_destinations_by_packets.len();
                talkers * std::mem::size_of::<wirewatch_core::Talker>()
                    + m.apps.len() * std::mem::size_of::<wirewatch_core::AppCount>()
                    + m.host_names
                        .iter()
                        .map(|h| 48 + h.name.len())
                        .sum::<usize>()
                    + m.reputations.len() * 128
            }
            Record::Flow(f) => f.details.as_ref().map_or(0, |d| {
                std::mem::size_of::<wirewatch_core::AppDetails>()
                    + s(&d.server_name)
                    + d.dns_queries.iter().map(|q| 24 + q.len()).sum::<usize>()
                    + d.dns_rcodes.keys().map(|k| 64 + k.len()).sum::<usize>()
                    + d.http.as_ref().map_or(0, |h| {
                        128 + s(&h.method) + s(&h.host) + s(&h.path) + s(&h.user_agent)
                    })
                    + d.tls.as_ref().map_or(0, |t| {
                        128 + s(&t.version)
                            + s(&t.ja4_a)
                            + s(&t.ja4)
                            + t.alpn.iter().map(|a| 24 + a.len()).sum::<usize>()
                    })
                    + d.ssh
                        .as_ref()
                        .map_or(0, |h| 64 + s(&h.client) + s(&h.server))
            }),
            Record::Alert(a) => {
                a.kind.len()
                    + a.message.len()
                    + a.recommendation.len()
                    + (a.sources.len() + a.targets.len()) * 32
                    + a.ports.len() * 8
                    // The evidence is a small JSON object; its text is a fair measure.
                    + a.evidence.to_string().len() * 2
            }
            Record::Transaction(t) => transactions::heap_bytes(t),
        };
        (std::mem::size_of::<Record>() + heap) as u64
    }
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
    /// Estimated bytes of the records in those batches.
    pub queued_bytes: u64,
}

/// The newest packet time a store holds: the end of its newest raw interval (one indexed
/// row), or `None` when it has none. What relative times (`-1h`) count back from.
pub fn newest_packet_time(store: &dyn Store) -> Option<wirewatch_core::Timestamp> {
    let q = Query {
        resolution: Resolution::Raw,
        sort: Some("start_ts".to_string()),
        descending: true,
        limit: 1,
        ..Query::default()
    };
    let row = store.intervals(&q).ok()?.rows.into_iter().next()?;
    Some(wirewatch_core::Timestamp(
        ((row.start_ts + row.duration_s) * 1e9).round().max(0.0) as u64,
    ))
}

/// A storage backend. Writes go through a queue and never block the caller; reads are
/// synchronous and may run while writes are in progress.
pub trait Store: Send + Sync {
    /// Queues records for the writer thread. Never blocks: when the queue is full the batch is
    /// dropped and counted. Returns whether it was queued.
    fn submit(&self, records: Vec<Record>) -> bool;
    /// Waits (up to `timeout`) until everything queued so far is written.
    fn flush(&self, timeout: Duration) -> Result<(), StoreError>;
    /// Gives up on whatever is still queued: the writer drops it (counted as dropped) instead
    /// of writing it, so a shutdown that cannot wait ends at once. Later submissions are
    /// dropped too.
    fn abandon(&self);
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
    /// Transactions in the time range (filters used: ip, port, proto, name, `kind` = `dns`,
    /// `http` or `tls`, text over the name, HTTP URI and user agent, DNS answers and the
    /// other text columns).
    fn transactions(&self, q: &Query) -> Result<Page<TransactionRow>, StoreError>;
}
