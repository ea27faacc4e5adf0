//! Shared vocabulary of the Wirewatch pipeline.
//!
//! Owns the plain data types that cross stage boundaries (timestamps, captured frames, protocol
//! classes, flow records, interval metrics), plus the two small utilities several crates share:
//! conversion of timestamps to [`jiff`] for calendar work ([`time`]) and the seeded generator
//! whose sequences models and generated captures depend on ([`rng`]). It holds no logic beyond
//! that and must not depend on any other Wirewatch crate: every stage depends on it, never the
//! other way round.

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

pub use alert::{Alert, IncidentStatus, Severity};
pub use app::{AppCount, AppDetails, AppLabel, AppProto, AppSource, NameSource};
pub use flow::{EndReason, FlowRecord, TcpState};
pub use frame::{Frame, LinkType};
pub use interval::{DropCounts, HostName, IntervalMetrics, Talker};
pub use proto::{ProtoClass, ProtocolCounts, TcpFlagCounts};
pub use threat::{AddressReputation, ThreatHit, ThreatSource};
pub use time::Timestamp;
