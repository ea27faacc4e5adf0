//! Packet sources: capture files, live capture and the synthetic traffic generator.
//!
//! Owns getting frames (`wirewatch_core::Frame`) into the engine: reading pcap and pcapng files,
//! capturing on network interfaces (libpcap) and synthesising traffic. It must not decode beyond
//! what framing needs, and among the workspace crates it depends on `wirewatch-core` only.

pub mod error;
pub mod file;
pub mod live;
pub mod synth;
/// Writing capture files: pcap and pcapng writers and the rotating ring-buffer writer.
pub mod write;

pub use error::{CaptureError, CaptureWarning};
pub use file::{FileFormat, FileSource};
pub use live::{LiveCapture, LiveConfig, LiveStats};
