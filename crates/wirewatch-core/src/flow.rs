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
