//! The dashboard side of `wirewatch run`: snapshots built on the engine thread
//! ([`builder`], its TCP panel in [`tcp`]), capture controls over the monitor ([`control`]),
//! and starting the web server (`wirewatch_web`) with the settings from the flags and the
//! `[web]` config section.

pub mod builder;
pub mod control;
pub mod packets;
pub mod tcp;

pub use builder::{SharedPublisher, SharedStatus, SnapshotBuilder};
pub use control::MonitorControl;
pub mod serve;
