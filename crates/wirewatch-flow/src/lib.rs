//! The flow table.
//!
//! Owns grouping packets into bidirectional flows: the key (protocol, endpoint pair; ICMP by
//! identifier or type/code), the initiator, per-direction counters, TCP connection state,
//! idle and active timeouts on packet time, a hard cap on live flows with the oldest activity
//! evicted first, the mapping of IP fragments to their flow ([`frag`]) and the reassembly of
//! IPv4 and IPv6 fragments into whole datagrams within hard caps ([`reassembly`]). It also
//! owns what a flow learns from its payloads: the application label and details ([`app`],
//! through the parsers of `wirewatch_decode::app`), the host names learned from DNS answers
//! ([`hostnames`]), when asked to, CICFlowMeter-style features ([`features`]), which the flow
//! classifier in `wirewatch-ml` reads, the transactions its payloads carry ([`transactions`]:
//! DNS, HTTP, TLS and QUIC), drained by the engine with [`FlowTable::drain_transactions`], and
//! the health of TCP connections ([`tcp_health`]: handshake RTT, retransmissions, out-of-order
//! and lost segments, zero windows, as Wireshark's TCP analysis).
//!
//! Must not: read the clock (every call takes the packet's timestamp; its `clippy.toml` refuses
//! the clocks); do I/O; depend on any Wirewatch crate but `wirewatch-core` and
//! `wirewatch-decode` (in particular not on `wirewatch-ml`: the features live here so that flow
//! tracking never pulls in the machine-learning stack).

pub mod app;
pub mod config;
pub mod features;
pub mod frag;
pub mod hostnames;
pub mod key;
pub mod reassembly;
pub mod table;
pub mod tcp_health;
pub mod transactions;

pub use app::MAX_INSPECTED_PAYLOADS;
pub use config::FlowConfig;
pub use hostnames::HostNames;
pub use key::{FlowKey, KeySide};
pub use table::{FlowTable, FlowTableStats, Ingested, LiveTcp, ReassembledPacket};
pub use tcp_health::{SegmentFields, TcpSegment, TcpTracker};
