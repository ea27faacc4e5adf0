//! Shared vocabulary of the Wirewatch pipeline.
//!
//! Owns the plain data types that cross crate boundaries: packet time ([`Timestamp`], with
//! [`time::parse_time`] and the [`jiff`] conversions for calendar work), captured frames and
//! link types, protocol classes and counters, flow records, interval metrics and drop counts,
//! alerts with their [`Severity`] and [`IncidentStatus`], the alert kinds ([`kind`]),
//! application labels and threat-intelligence reputations; plus the seeded generator whose
//! sequences models and generated captures depend on ([`rng::SplitMix64`]).
//!
//! Must not: depend on any other Wirewatch crate (every crate depends on it, never the other
//! way round); hold pipeline logic; do I/O; read the clock (its `clippy.toml` refuses
//! `SystemTime::now`, `Instant::now` and jiff's `now`): a time is always a value handed in.

pub mod alert;
pub mod app;
pub mod flow;
pub mod frame;
pub mod interval;
pub mod kind;
pub mod proto;
pub mod rng;
pub mod threat;
pub mod time;
pub mod transaction;

pub use alert::{Alert, IncidentStatus, Severity};
pub use app::{AppCount, AppDetails, AppLabel, AppProto, AppSource, NameSource};
pub use flow::{EndReason, FlowRecord, RttSummary, TcpHealth, TcpState, TunnelParent};
pub use frame::{Frame, LinkType};
pub use interval::{DropCounts, HostName, IntervalMetrics, Talker};
pub use proto::{ProtoClass, ProtocolCounts, TcpFlagCounts};
pub use threat::{AddressReputation, ThreatHit, ThreatSource};
pub use time::Timestamp;
pub use transaction::{
    DnsAnswerRecord, DnsTransaction, HttpTransaction, TlsTransaction, Transaction,
    TransactionDetails,
};
