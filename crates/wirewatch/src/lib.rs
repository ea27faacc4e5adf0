//! Wirewatch: the binary's library half. It wires; the stage crates do the work.
//!
//! - [`cli`]: the command line (clap types only); [`settings`]: flags and the configuration
//!   file ([`config`]) merged once into typed settings;
//! - [`commands`]: one module per subcommand;
//! - [`outputs`]: everything the engine feeds (database, EVE, alert log, notifications,
//!   terminal, dashboard snapshots, report summary), built once for `run` and `analyze`;
//! - [`analyze`]: capture files through the engine into the outputs;
//! - [`dashboard`]: snapshots for the web layer and the control it calls back into;
//! - [`intel`], [`model`], [`memory`], [`privileges`]: what a run starts with.
//!
//! The engine itself is `wirewatch-engine` (re-exported here as [`pipeline`] and [`live`]).

pub mod analyze;
pub mod cli;
pub mod commands;
pub mod config;
pub mod dashboard;
pub mod fuzz_path;
pub mod intel;
pub mod line;
pub mod memory;
pub mod model;
pub mod outputs;
pub mod privileges;
pub mod settings;

pub use wirewatch_engine::{live, packet_clock, pipeline};
