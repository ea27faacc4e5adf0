//! The engine: decode → flows → interval metrics → detection, driven by packet time, and the
//! threads that feed it.
//!
//! - [`pipeline`]: [`Engine`] owns every stage's state on one thread (no locks on the hot
//!   path) and delivers its results to a [`Sink`]: closed intervals, finished flows, alert
//!   events, warnings;
//! - [`packet_clock`]: which capture timestamps may move packet time;
//! - [`intel`]: threat intelligence on the engine thread (blocklist look-ups, AbuseIPDB
//!   submits that never wait);
//! - [`live`]: source threads (live capture, replay, demo) feeding the engine thread through a
//!   bounded queue, and the [`live::Monitor`] that steers them at run time.
//!
//! The engine also owns the evidence recorder (`wirewatch-evidence`) it hands every frame.
//!
//! Must not: read the wall clock except to pace replays and the demo, tick a quiet live source,
//! start the demo and judge a run's first timestamp (packet time comes from capture
//! timestamps); make a live source wait (a full queue drops and counts); know the outputs
//! (database, EVE, alert log, notifications, terminal, dashboard, report summary): they
//! implement [`Sink`], in the binary and in `wirewatch-report`; depend on the binary, or
//! directly on `wirewatch-store`, `-eve`, `-notify`, `-web` or `-report`.

pub mod intel;
pub mod live;
pub mod packet_clock;
pub mod pipeline;

pub use pipeline::{Engine, EngineConfig, Sink, is_unsupported_link};
