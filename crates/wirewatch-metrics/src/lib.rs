//! Interval metrics.
//!
//! Owns what is measured per interval of packet time and over a whole run: packet and byte
//! counts, rates, the protocol mix, TCP control segments, distinct addresses and destination
//! ports, address entropy, flow churn, application counts, TCP health (retransmissions,
//! out-of-order segments, handshake RTT percentiles from bounded [`tcp::Percentiles`]) and
//! bounded top talkers (exact, then a heavy-hitter sketch with [`HyperLogLog`] distinct
//! counts, which the detectors reuse).
//!
//! Must not: read the clock (intervals close on packet time only; its `clippy.toml` refuses the
//! clocks); do I/O; depend on any Wirewatch crate but `wirewatch-core`, `wirewatch-decode` and
//! `wirewatch-flow`.

pub mod apps;
pub mod counters;
pub mod hll;
pub mod interval;
pub mod ports;
pub mod talkers;
pub mod tcp;
pub mod totals;

pub use apps::AppCounters;
pub use counters::PacketCounters;
pub use hll::HyperLogLog;
pub use interval::{IntervalAggregator, MetricsConfig};
pub use ports::{PortProto, PortSet};
pub use talkers::TalkerTable;
pub use tcp::{Percentiles, TcpIntervalHealth};
pub use totals::RunTotals;
