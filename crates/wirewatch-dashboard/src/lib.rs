//! The live dashboard's snapshots: [`SnapshotBuilder`], an output of the engine (a
//! [`wirewatch_engine::Sink`]) that folds intervals, flows, alerts and packets into the bounded
//! [`wirewatch_web::snapshot::Snapshot`] the web layer publishes, with its TCP latency and loss
//! panel ([`tcp`]: the slowest and lossiest recent connections, hosts by retransmissions).
//!
//! Must not: block the engine thread (publishing replaces the previous snapshot), read the
//! wall clock for anything it shows (time is the packets'), keep anything that grows with
//! uptime; know of the binary's commands, settings or other outputs.

pub mod builder;
pub mod tcp;

pub use builder::{SharedPublisher, SharedStatus, SnapshotBuilder};
