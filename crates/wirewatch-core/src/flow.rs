//! The record of a flow as it leaves the flow table (finished, or still live at a snapshot).

use crate::app::{AppDetails, AppLabel};
use crate::threat::AddressReputation;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Connection state of a flow. Non-TCP flows stay [`TcpState::None`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TcpState {
    /// Not a TCP flow.
    #[default]
    None,
    /// SYN seen (and possibly SYN-ACK), handshake not completed yet.
    Handshake,
    /// Handshake completed, or traffic picked up mid-stream.
    Established,
    /// One side has sent FIN.
    Closing,
    /// Both sides have sent FIN.
    Closed,
    /// A side has sent RST.
    Reset,
}

impl TcpState {
    /// Lower-case name used in reports and JSON.
    pub fn name(self) -> &'static str {
        match self {
            TcpState::None => "none",
            TcpState::Handshake => "handshake",
            TcpState::Established => "established",
            TcpState::Closing => "closing",
            TcpState::Closed => "closed",
            TcpState::Reset => "reset",
        }
    }

    /// Whether the connection is over (both FINs or a reset).
    pub fn is_terminal(self) -> bool {
        matches!(self, TcpState::Closed | TcpState::Reset)
    }
}

/// Why a flow left the flow table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// No packet for longer than the idle timeout of its protocol/state.
    IdleTimeout,
    /// Lasted longer than the active timeout; traffic that follows starts a new flow.
    ActiveTimeout,
    /// Closed by FIN from both sides (after a short linger for the last ACKs).
    Fin,
    /// Closed by RST (after a short linger).
    Rst,
    /// Evicted because the table was full (oldest activity first).
    Evicted,
    /// A new connection (SYN) reused the 5-tuple of a finished one.
    PortReuse,
    /// The capture ended (or a snapshot was taken) while the flow was live.
    EndOfCapture,
}

/// Per-direction counters of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DirectionStats {
    /// Packets sent in this direction.
    pub packets: u64,
    /// Sum of wire lengths of those packets (link layer included).
    pub bytes: u64,
    /// Sum of transport payload lengths (as announced by the IP/transport headers).
    pub payload_bytes: u64,
    /// Union of TCP flag bits seen in this direction.
    pub tcp_flags: u8,
    /// Packets that carried transport payload (application messages, roughly: a login
    /// attempt is one client message).
    #[serde(default)]
    pub payload_packets: u64,
    /// Small payload packets (at most [`SMALL_PAYLOAD`] bytes) of the same length as this
    /// direction's previous payload packet: a service repeating one short answer, such as a
    /// login refusal after each guess.
    #[serde(default)]
    pub repeated_small_payloads: u64,
    /// Length of this direction's previous payload packet (bookkeeping for the count above).
    #[serde(skip)]
    pub last_payload_len: u32,
}

/// Payload length up to which a repeated answer counts as a short protocol message (a refusal,
/// a prompt) rather than a full segment of bulk data.
pub const SMALL_PAYLOAD: u32 = 256;

/// A flow as reported: the initiator is `src`, the responder `dst`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowRecord {
    /// IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, ...).
    pub ip_proto: u8,
    /// Initiator address.
    pub src_ip: IpAddr,
    /// Initiator port (ICMP: the echo identifier, or the message type for other messages).
    pub src_port: u16,
    /// Responder address.
    pub dst_ip: IpAddr,
    /// Responder port (ICMP: the echo identifier, or the message code for other messages).
    pub dst_port: u16,
    /// Initiator → responder counters.
    pub fwd: DirectionStats,
    /// Responder → initiator counters.
    pub rev: DirectionStats,
    /// Time of the first packet.
    pub first_ts: Timestamp,
    /// Time of the last packet.
    pub last_ts: Timestamp,
    /// Connection state when the record was made.
    pub state: TcpState,
    /// Why the flow ended (`EndOfCapture` for flows still live).
    pub end_reason: EndReason,
    /// Application protocol: recognised in the payload, or guessed from a well-known port.
    #[serde(default)]
    pub app: AppLabel,
    /// Names and application details found in the payloads (none for most flows, so boxed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Box<AppDetails>>,
    /// What threat intelligence says about the flow's endpoints (the worse one), if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reputation: Option<Box<AddressReputation>>,
    /// CICFlowMeter-style features (`wirewatch_flow::features::CIC_COLUMNS` order), when the
    /// flow table computes them (for the flow classifier and `export --format cicflowmeter`).
    #[serde(skip)]
    pub features: Option<Box<[f64]>>,
    /// TCP health as seen at the capture point (handshake RTT, retransmissions, ...); `None`
    /// for flows that are not TCP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_health: Option<TcpHealth>,
    /// The outermost VLAN id, when flows are keyed by VLAN (`[flows] vlan_in_key`): two
    /// conversations with the same addresses and ports on different VLANs are two flows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u16>,
    /// For a flow inside a tunnel: the tunnel and the outer packet that carried its first
    /// packet (as Zeek's `tunnel_parents`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<Box<TunnelParent>>,
}

/// The health of one TCP connection as seen at the capture point, following Wireshark's TCP
/// analysis (`tcp.analysis.*`): each count is of segments that carried the flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TcpHealth {
    /// Handshake round-trip time in nanoseconds, as tshark's `tcp.analysis.initial_rtt`: from
    /// the most recent SYN (without ACK) to the first segment with ACK and without SYN, in
    /// either direction. `None` when no SYN was seen (a connection picked up mid-stream).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handshake_rtt_ns: Option<u64>,
    /// Retransmitted segments of every kind (`tcp.analysis.retransmission`, which tshark also
    /// sets on fast and spurious retransmissions).
    pub retransmissions: u64,
    /// Of those, fast retransmissions (after two or more duplicate ACKs).
    pub fast_retransmissions: u64,
    /// Of those, spurious retransmissions (data the receiver had already acknowledged).
    pub spurious_retransmissions: u64,
    /// Segments below the next expected sequence number that came soon after the highest one
    /// (`tcp.analysis.out_of_order`); not counted as retransmissions.
    pub out_of_order: u64,
    /// Segments that started above the next expected sequence number: a gap, segments the
    /// capture did not see (`tcp.analysis.lost_segment`).
    pub lost_segments: u64,
    /// Segments that announced a zero receive window (`tcp.analysis.zero_window`).
    pub zero_windows: u64,
    /// Duplicate ACKs (`tcp.analysis.duplicate_ack`).
    pub duplicate_acks: u64,
    /// Keep-alive probes (`tcp.analysis.keep_alive`), never counted as retransmissions.
    pub keep_alives: u64,
    /// Round-trip times from a segment to the ACK that covered it (one segment timed at a time
    /// per direction, retransmitted ones left out, as Karn's algorithm does).
    pub ack_rtt: RttSummary,
}

impl TcpHealth {
    /// The handshake round-trip time in milliseconds.
    pub fn handshake_rtt_ms(&self) -> Option<f64> {
        self.handshake_rtt_ns.map(|ns| ns as f64 / 1e6)
    }
}

/// A bounded summary of round-trip-time samples: count, minimum, maximum and sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RttSummary {
    /// Samples taken.
    pub samples: u64,
    /// Smallest sample, nanoseconds (0 without samples).
    pub min_ns: u64,
    /// Largest sample, nanoseconds.
    pub max_ns: u64,
    /// Sum of the samples, nanoseconds (saturating).
    pub sum_ns: u64,
}

impl RttSummary {
    /// Adds one sample.
    pub fn add(&mut self, ns: u64) {
        self.min_ns = if self.samples == 0 {
            ns
        } else {
            self.min_ns.min(ns)
        };
        self.max_ns = self.max_ns.max(ns);
        self.sum_ns = self.sum_ns.saturating_add(ns);
        self.samples += 1;
    }

    /// The mean sample in nanoseconds, `None` without samples.
    pub fn mean_ns(&self) -> Option<u64> {
        self.sum_ns.checked_div(self.samples)
    }
}

impl FlowRecord {
    /// Packets in both directions.
    pub fn packets(&self) -> u64 {
        self.fwd.packets + self.rev.packets
    }

    /// Wire bytes in both directions.
    pub fn bytes(&self) -> u64 {
        self.fwd.bytes + self.rev.bytes
    }

    /// The server name found for this flow, if any.
    pub fn server_name(&self) -> Option<&str> {
        self.details.as_ref()?.server_name.as_deref()
    }

    /// Lower-case protocol name: `tcp`, `udp`, `icmp`, `icmpv6`, or the protocol number.
    pub fn proto_name(&self) -> String {
        ip_proto_name(self.ip_proto)
    }
}

/// Lower-case name of an IP protocol number: `tcp`, `udp`, `icmp`, `icmpv6`, or the number.
pub fn ip_proto_name(p: u8) -> String {
    match p {
        6 => "tcp".into(),
        17 => "udp".into(),
        1 => "icmp".into(),
        58 => "icmpv6".into(),
        p => p.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests may fail loudly

    use super::*;
    use crate::IntervalMetrics;

    #[test]
    fn records_and_intervals_written_before_tcp_health_still_read() {
        let flow: FlowRecord = serde_json::from_value(serde_json::json!({
            "ip_proto": 6, "src_ip": "10.0.0.1", "src_port": 1, "dst_ip": "10.0.0.2",
            "dst_port": 2,
            "fwd": {"packets": 1, "bytes": 60, "payload_bytes": 0, "tcp_flags": 2},
            "rev": {"packets": 0, "bytes": 0, "payload_bytes": 0, "tcp_flags": 0},
            "first_ts": 0, "last_ts": 0, "state": "handshake", "end_reason": "idle_timeout"
        }))
        .unwrap();
        assert_eq!(flow.tcp_health, None);
        let interval: IntervalMetrics =
            serde_json::from_value(serde_json::to_value(IntervalMetrics::default()).unwrap())
                .unwrap();
        assert_eq!(interval.tcp_rtt_p50_ms, None);
        let mut old = serde_json::to_value(IntervalMetrics::default()).unwrap();
        for k in [
            "tcp_retransmissions",
            "tcp_out_of_order",
            "tcp_handshakes_timed",
        ] {
            assert!(old.as_object_mut().unwrap().remove(k).is_some(), "{k}");
        }
        let old: IntervalMetrics = serde_json::from_value(old).unwrap();
        assert_eq!(old.tcp_retransmissions, 0);
    }

    #[test]
    fn tcp_health_serializes_its_rtt_only_when_known() {
        let mut h = TcpHealth {
            retransmissions: 3,
            ..TcpHealth::default()
        };
        let v = serde_json::to_value(h).unwrap();
        assert!(v.get("handshake_rtt_ns").is_none());
        assert_eq!(v["retransmissions"], 3);
        h.handshake_rtt_ns = Some(1_500_000);
        assert_eq!(h.handshake_rtt_ms(), Some(1.5));
        let back: TcpHealth = serde_json::from_value(serde_json::to_value(h).unwrap()).unwrap();
        assert_eq!(back, h);
    }

    #[test]
    fn rtt_summary_keeps_min_mean_max() {
        let mut s = RttSummary::default();
        assert_eq!(s.mean_ns(), None);
        for v in [30, 10, 20] {
            s.add(v);
        }
        assert_eq!(
            (s.samples, s.min_ns, s.max_ns, s.mean_ns()),
            (3, 10, 30, Some(20))
        );
        s.add(u64::MAX);
        assert_eq!(s.sum_ns, u64::MAX);
    }
}

/// The tunnel a flow travels in: its kind and the outer 5-tuple.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TunnelParent {
    /// `ip_in_ip`, `gre`, `erspan`, `vxlan`, `geneve`, `teredo` or `gtp_u`.
    pub kind: String,
    /// IP protocol of the outer packet.
    pub ip_proto: u8,
    /// Outer source address.
    pub src_ip: IpAddr,
    /// Outer source port (0 for IP-in-IP and GRE).
    pub src_port: u16,
    /// Outer destination address.
    pub dst_ip: IpAddr,
    /// Outer destination port (0 for IP-in-IP and GRE).
    pub dst_port: u16,
}

impl TunnelParent {
    /// `vxlan udp 192.0.2.1:40000 -> 192.0.2.2:4789`, for text columns.
    pub fn summary(&self) -> String {
        format!(
            "{} {} {} -> {}",
            self.kind,
            ip_proto_name(self.ip_proto),
            std::net::SocketAddr::new(self.src_ip, self.src_port),
            std::net::SocketAddr::new(self.dst_ip, self.dst_port)
        )
    }
}
