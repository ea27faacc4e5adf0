//! Wirewatch: the binary's library half, wiring the pipeline stages together.
//!
//! Owns the command line, the configuration file, the engine loop that joins decode, flows and
//! metrics, and the commands built on it (`analyze`, `generate`, `bench`). Only this crate (and
//! the web crate) may read the wall clock.

pub mod analyze;
pub mod bench;
pub mod cli;
pub mod config;
pub mod dashboard;
pub mod evidence;
pub mod export;
pub mod fuzz_path;
pub mod intel;
pub mod line;
pub mod memory;
pub mod model;
pub mod outputs;
pub mod privileges;
pub mod run;
pub mod train;

pub use wirewatch_engine::{live, packet_clock, pipeline};
