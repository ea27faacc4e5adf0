//! Packet sources: capture files, live capture and the synthetic traffic generator; and
//! capture-file writing.
//!
//! Owns getting frames ([`wirewatch_core::Frame`]) into the engine: reading pcap and pcapng
//! files ([`FileSource`]), capturing on network interfaces through libpcap ([`live`], with its
//! read-timeout watchdog thread) and synthesising traffic ([`synth`], the demo scenario among
//! it); and writing frames to pcap and pcapng files ([`write`](mod@write): one file, or
//! rotating files under size, time, count and total caps).
//!
//! Must not: decode beyond what framing needs (that is `wirewatch-decode`'s job); know of the
//! engine, its queue or any output; depend on any Wirewatch crate but `wirewatch-core`.

pub mod error;
pub mod file;
pub mod live;
pub mod synth;
/// Writing capture files: pcap and pcapng writers and the rotating ring-buffer writer.
pub mod write;

pub use error::{CaptureError, CaptureWarning};
pub use file::{FileFormat, FileSource};
pub use live::{LiveCapture, LiveConfig, LiveStats};
