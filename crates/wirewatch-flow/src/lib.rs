//! The flow table.
//!
//! Owns grouping packets into bidirectional flows: the key (protocol, endpoint pair; ICMP by
//! identifier or type/code), the initiator, per-direction counters, TCP connection state,
//! idle and active timeouts on packet time, and a hard cap on live flows with the oldest
//! activity evicted first. It never reads the clock: every call takes the packet's timestamp.
//! When asked to, it also measures each flow's CICFlowMeter-style features ([`features`]),
//! which the flow classifier in `wirewatch-ml` reads.

pub mod app;
pub mod config;
pub mod features;
pub mod frag;
pub mod hostnames;
pub mod key;
pub mod table;

pub use app::MAX_INSPECTED_PAYLOADS;
pub use config::FlowConfig;
pub use hostnames::HostNames;
pub use key::{FlowKey, KeySide};
pub use table::{FlowTable, FlowTableStats, Ingested};
