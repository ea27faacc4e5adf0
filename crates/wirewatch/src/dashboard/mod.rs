//! The dashboard side of `wirewatch run`: snapshots built on the engine thread (the
//! `wirewatch-dashboard` crate, re-exported as [`builder`] and [`tcp`]), capture controls over
//! the monitor ([`control`]), packet downloads ([`packets`]) and starting the web server
//! (`wirewatch_web`) with the settings from the flags and the `[web]` config section
//! ([`serve`]).

pub mod control;
pub mod packets;
pub mod serve;

pub use control::MonitorControl;
pub use wirewatch_dashboard::{SharedPublisher, SharedStatus, SnapshotBuilder, builder, tcp};
