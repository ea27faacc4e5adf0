//! Interval metrics.
//!
//! Owns what is measured per interval of packet time and over a whole run: packet and byte
//! counts, rates, the protocol mix, TCP control segments, distinct addresses and destination
//! ports, address entropy, flow churn and bounded top talkers. Intervals close on packet time
//! only; this crate never reads the clock.

pub mod apps;
pub mod counters;
pub mod hll;
pub mod interval;
pub mod ports;
pub mod talkers;
pub mod totals;

pub use apps::AppCounters;
pub use counters::PacketCounters;
pub use hll::HyperLogLog;
pub use interval::{IntervalAggregator, MetricsConfig};
pub use ports::{PortProto, PortSet};
pub use talkers::TalkerTable;
pub use totals::RunTotals;
