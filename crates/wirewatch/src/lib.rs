//! Wirewatch: the binary's library half. It wires; the stage crates do the work.
//!
//! - [`cli`]: the command line (clap types only); [`settings`]: flags and the configuration
//!   file ([`config`]) merged once into typed settings;
//! - [`commands`]: one module per subcommand;
//! - [`outputs`]: everything the engine feeds (database, EVE, alert log, notifications,
//!   terminal, dashboard snapshots, report summary), each a `Sink`, built by
//!   [`outputs::build`] for `run` and `analyze` alike and fed by one loop ([`outputs::Outputs`]);
//! - [`analyze`]: capture files through the engine into the outputs;
//! - [`dashboard`]: snapshots for the web layer (an output), the control it calls back into and
//!   its access to recorded packets;
//! - [`intel`], [`model`], [`memory`], [`privileges`]: what a run starts with;
//! - [`line`](mod@line): the terminal's interval line; [`fuzz_path`]: the offline path as
//!   one function, for the fuzzer.
//!
//! The engine itself is `wirewatch-engine` (re-exported here as [`pipeline`], [`live`] and
//! [`packet_clock`]).
//!
//! Must not: decode, track flows, measure or detect here (that is the stage crates' and the
//! engine's work); let an output make the engine wait for a full queue unless the command asks
//! for it (an analysis or a replay waits for the database); grow past wiring (`tests/layout.rs`
//! keeps this crate under 7,000 lines, with no cycles between its top-level modules). No other
//! crate depends on it.

pub mod analyze;
pub mod cli;
pub mod commands;
pub mod config;
pub mod dashboard;
pub mod fuzz_path;
pub mod intel;
pub mod line;
pub mod logging;
pub mod memory;
pub mod model;
pub mod outputs;
pub mod privileges;
pub mod settings;

pub use wirewatch_engine::{live, packet_clock, pipeline};
