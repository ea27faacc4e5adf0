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
//!   bounded queue, and the control to steer them at run time.
//!
//! Packet time comes from capture timestamps; the wall clock is read only to pace replays,
//! tick a quiet live source and judge a first timestamp. This crate knows nothing of the
//! outputs (database, web, files): they implement [`Sink`] in the binary.

pub mod intel;
pub mod live;
pub mod packet_clock;
pub mod pipeline;

pub use pipeline::{Engine, EngineConfig, Sink, is_unsupported_link};
