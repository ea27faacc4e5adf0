//! Packet sources: capture files and the synthetic traffic generator.
//!
//! Owns getting frames (`wirewatch_core::Frame`) into the engine: reading pcap and pcapng files
//! and synthesising traffic. It must not decode beyond what framing needs, and it depends on
//! `wirewatch-core` only.

pub mod error;
pub mod file;
pub mod synth;

pub use error::{CaptureError, CaptureWarning};
pub use file::{FileFormat, FileSource};
