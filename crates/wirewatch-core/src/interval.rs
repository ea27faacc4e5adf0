//! The metrics of one closed interval of packet time.

use crate::app::AppCount;
use crate::proto::{ProtocolCounts, TcpFlagCounts};
use crate::threat::AddressReputation;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// One address among the top talkers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Talker {
    /// The address.
    pub ip: IpAddr,
    /// Packets it sent (as a source) or received (as a destination).
    pub packets: u64,
    /// Wire bytes it sent or received.
    pub bytes: u64,
}

/// Packets lost before the engine saw them, by where they were lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DropCounts {
    /// Dropped by the kernel because the capture buffer was full (libpcap `ps_drop`).
    pub kernel: u64,
    /// Dropped by the interface or its driver (libpcap `ps_ifdrop`).
    pub interface: u64,
    /// Dropped by Wirewatch because the queue to the engine was full.
    pub queue: u64,
}

impl DropCounts {
    /// All drops.
    pub fn total(&self) -> u64 {
        self.kernel + self.interface + self.queue
    }

    /// Adds `other` to these counts.
    pub fn merge(&mut self, other: &DropCounts) {
        self.kernel += other.kernel;
        self.interface += other.interface;
        self.queue += other.queue;
    }
}

/// Everything measured over one interval `[start_ts, start_ts + duration)` of packet time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct IntervalMetrics {
    /// Start of the interval (a multiple of the interval length).
    pub start_ts: Timestamp,
    /// Interval length in nanoseconds.
    pub duration_ns: u64,
    /// Frames seen.
    pub packets: u64,
    /// Sum of wire lengths.
    pub bytes: u64,
    /// Bits per second over the interval.
    pub bps: f64,
    /// Packets per second over the interval.
    pub pps: f64,
    /// Frames per protocol class.
    pub protocols: ProtocolCounts,
    /// TCP control segments.
    pub tcp_flags: TcpFlagCounts,
    /// Distinct source IP addresses (exact up to a cap, then estimated).
    pub distinct_src_ips: u64,
    /// Distinct destination IP addresses (exact up to a cap, then estimated).
    pub distinct_dst_ips: u64,
    /// Distinct destination ports of connection attempts: TCP segments without ACK (SYNs and
    /// stealth-scan probes) and UDP datagrams, sent by the flow's initiator. Answers to
    /// ephemeral client ports are not counted; TCP and UDP ports count apart. Always exact.
    #[serde(default)]
    pub distinct_dst_ports: u64,
    /// Shannon entropy in bits of the packets over source addresses (0 for one source, log2 n
    /// for n sources sending alike); an estimate when `talkers_approximate`.
    #[serde(default)]
    pub src_entropy: f64,
    /// Shannon entropy in bits of the packets over destination addresses; an estimate when
    /// `talkers_approximate`.
    #[serde(default)]
    pub dst_entropy: f64,
    /// Flows that started in this interval.
    pub flows_new: u64,
    /// Flows that saw at least one packet in this interval.
    pub flows_active: u64,
    /// Flows that ended in this interval (FIN/RST, timeouts, evictions).
    pub flows_closed: u64,
    /// Flows live in the table when the interval closed.
    pub flows_live: u64,
    /// Flows evicted from the full table in this interval.
    pub flows_evicted: u64,
    /// Frames that could not be fully decoded.
    pub decode_errors: u64,
    /// Packets lost before decoding during this interval (zero when reading files).
    pub drops: DropCounts,
    /// Top sources ordered by bytes.
    pub top_sources_by_bytes: Vec<Talker>,
    /// Top sources ordered by packets.
    pub top_sources_by_packets: Vec<Talker>,
    /// Top destinations ordered by bytes.
    pub top_destinations_by_bytes: Vec<Talker>,
    /// Top destinations ordered by packets.
    pub top_destinations_by_packets: Vec<Talker>,
    /// Whether the top-N lists are estimates (more addresses than the exact cap).
    pub talkers_approximate: bool,
    /// Packets and bytes per application protocol (the flow's label at the time of each
    /// packet), largest first; protocols without packets are left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<AppCount>,
    /// Names of the top talkers, learned passively from DNS answers on the wire.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_names: Vec<HostName>,
    /// What threat intelligence says about top talkers that have a reputation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reputations: Vec<AddressReputation>,
    /// TCP segments retransmitted in this interval, every kind (as tshark's
    /// `tcp.analysis.retransmission`, which includes fast and spurious retransmissions).
    #[serde(default)]
    pub tcp_retransmissions: u64,
    /// TCP segments that arrived out of order in this interval.
    #[serde(default)]
    pub tcp_out_of_order: u64,
    /// TCP handshakes whose round-trip time was measured in this interval.
    #[serde(default)]
    pub tcp_handshakes_timed: u64,
    /// Median handshake round-trip time of those handshakes, milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_rtt_p50_ms: Option<f64>,
    /// 95th percentile handshake round-trip time of those handshakes, milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_rtt_p95_ms: Option<f64>,
}

/// A host name learned for an address from a DNS answer seen on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostName {
    /// The address.
    pub ip: IpAddr,
    /// The name that was asked for when the answer carried this address (escaped text).
    pub name: String,
}

impl IntervalMetrics {
    /// End of the interval (exclusive).
    pub fn end_ts(&self) -> Timestamp {
        self.start_ts.plus(self.duration_ns)
    }

    /// The addresses of the top talkers (sources, then destinations, by bytes then packets),
    /// each once.
    pub fn talker_ips(&self) -> Vec<IpAddr> {
        let mut ips: Vec<IpAddr> = Vec::new();
        for t in [
            &self.top_sources_by_bytes,
            &self.top_sources_by_packets,
            &self.top_destinations_by_bytes,
            &self.top_destinations_by_packets,
        ]
        .into_iter()
        .flatten()
        {
            if !ips.contains(&t.ip) {
                ips.push(t.ip);
            }
        }
        ips
    }

    /// The reputation of `ip`, if it is one of this interval's talkers with one.
    pub fn reputation(&self, ip: IpAddr) -> Option<&AddressReputation> {
        self.reputations.iter().find(|r| r.ip == ip)
    }

    /// The learned name of `ip`, if it is one of this interval's named talkers.
    pub fn host_name(&self, ip: IpAddr) -> Option<&str> {
        self.host_names
            .iter()
            .find(|h| h.ip == ip)
            .map(|h| h.name.as_str())
    }
}
