//! Packets as evidence, as the binary uses them: the recorder and export live in
//! `wirewatch-evidence`; here are the dashboard's access to them and the `extract` command.

pub mod access;
pub mod args;
pub mod extract;

pub use wirewatch_evidence::*;
