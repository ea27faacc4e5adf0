//! The decoded summary of one frame: everything later stages need, in a flat, copyable struct.
//!
//! Decoding never allocates: addresses are copied out, the payload is located by offset into the
//! frame's bytes.

use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr};
use wirewatch_core::ProtoClass;

/// The network layer found in a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Network {
    /// Nothing decodable (unsupported link type, or a link header cut short).
    #[default]
    None,
    /// IPv4; `Packet::src`/`dst` hold the addresses.
    Ipv4,
    /// IPv6; `Packet::src`/`dst` hold the addresses.
    Ipv6,
    /// ARP (request/reply opcode and the IPv4 sender/target when the hardware is Ethernet).
    Arp(ArpInfo),
    /// Another EtherType (LLDP, STP via 802.3 length field = 0, ...).
    Other {
        /// The EtherType (or 0 for 802.3/LLC frames).
        ethertype: u16,
    },
}

/// The interesting fields of an ARP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpInfo {
    /// Operation: 1 request, 2 reply.
    pub op: u16,
    /// Sender protocol address (IPv4 over Ethernet only, else unspecified).
    pub sender_ip: Ipv4Addr,
    /// Target protocol address (IPv4 over Ethernet only, else unspecified).
    pub target_ip: Ipv4Addr,
}

/// IP fragmentation fields (IPv4 header or IPv6 fragment header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment {
    /// Identification (IPv4: 16 bits; IPv6: 32 bits).
    pub id: u32,
    /// Fragment offset in bytes.
    pub offset: u32,
    /// More-fragments flag.
    pub more: bool,
}

impl Fragment {
    /// Whether this is the first fragment (offset 0), the one that carries the transport header.
    pub fn is_first(&self) -> bool {
        self.offset == 0
    }
}

/// Parsed TCP options (only the common ones; others are skipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpOptions {
    /// Maximum segment size.
    pub mss: Option<u16>,
    /// Window scale shift.
    pub window_scale: Option<u8>,
    /// SACK permitted.
    pub sack_permitted: bool,
    /// Timestamp value and echo reply.
    pub timestamp: Option<(u32, u32)>,
}

/// The fields of a TCP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpInfo {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// Flag bits (FIN 0x01 ... CWR 0x80); see `wirewatch_core::proto::tcp_flags`.
    pub flags: u8,
    /// Receive window (unscaled).
    pub window: u16,
    /// Header length in bytes (data offset × 4).
    pub header_len: u8,
    /// Parsed options.
    pub options: TcpOptions,
}

/// The fields of a UDP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpInfo {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// The length field (header + payload).
    pub length: u16,
}

/// The fields of an ICMP or ICMPv6 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpInfo {
    /// Message type.
    pub icmp_type: u8,
    /// Message code.
    pub code: u8,
    /// Identifier and sequence of echo request/reply messages.
    pub echo: Option<(u16, u16)>,
}

impl IcmpInfo {
    /// Whether this is an ICMP (v4) echo request or reply.
    pub fn is_echo_v4(&self) -> bool {
        matches!(self.icmp_type, 0 | 8)
    }
}

/// The transport layer found after the network layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    /// None found (non-IP, non-first fragment, unknown protocol, or header cut short).
    #[default]
    None,
    /// TCP.
    Tcp(TcpInfo),
    /// UDP.
    Udp(UdpInfo),
    /// ICMP.
    Icmp(IcmpInfo),
    /// ICMPv6.
    Icmpv6(IcmpInfo),
}

/// Why decoding stopped early. One per frame: the first problem met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecodeErrorKind {
    /// The link type is not one Wirewatch decodes; the frame is counted as non-IP.
    UnsupportedLinkType,
    /// The link-layer header (Ethernet, SLL, SLL2, NULL, PPP, ...) is cut short.
    TruncatedLink,
    /// A VLAN tag (or more than the supported number of stacked tags) is cut short.
    TruncatedVlan,
    /// An ARP packet is cut short.
    TruncatedArp,
    /// The IPv4 header is cut short.
    TruncatedIpv4,
    /// The IPv4 header is invalid (IHL < 5, or the version nibble is not 4).
    BadIpv4Header,
    /// The IPv6 header is cut short.
    TruncatedIpv6,
    /// The IPv6 extension header chain is cut short or longer than the walk bound.
    BadIpv6ExtensionHeader,
    /// The IP version nibble is neither 4 nor 6 on a raw-IP link.
    UnknownIpVersion,
    /// The TCP header is cut short.
    TruncatedTcp,
    /// The TCP data offset is below 5 (a bogus header).
    BadTcpHeader,
    /// The UDP header is cut short.
    TruncatedUdp,
    /// The ICMP header is cut short.
    TruncatedIcmp,
    /// The ICMPv6 header is cut short.
    TruncatedIcmpv6,
}

impl DecodeErrorKind {
    /// Every kind, in a stable order.
    pub const ALL: [DecodeErrorKind; 14] = [
        DecodeErrorKind::UnsupportedLinkType,
        DecodeErrorKind::TruncatedLink,
        DecodeErrorKind::TruncatedVlan,
        DecodeErrorKind::TruncatedArp,
        DecodeErrorKind::TruncatedIpv4,
        DecodeErrorKind::BadIpv4Header,
        DecodeErrorKind::TruncatedIpv6,
        DecodeErrorKind::BadIpv6ExtensionHeader,
        DecodeErrorKind::UnknownIpVersion,
        DecodeErrorKind::TruncatedTcp,
        DecodeErrorKind::BadTcpHeader,
        DecodeErrorKind::TruncatedUdp,
        DecodeErrorKind::TruncatedIcmp,
        DecodeErrorKind::TruncatedIcmpv6,
    ];

    /// Snake-case name used in reports and JSON.
    pub fn name(self) -> &'static str {
        match self {
            DecodeErrorKind::UnsupportedLinkType => "unsupported_link_type",
            DecodeErrorKind::TruncatedLink => "truncated_link",
            DecodeErrorKind::TruncatedVlan => "truncated_vlan",
            DecodeErrorKind::TruncatedArp => "truncated_arp",
            DecodeErrorKind::TruncatedIpv4 => "truncated_ipv4",
            DecodeErrorKind::BadIpv4Header => "bad_ipv4_header",
            DecodeErrorKind::TruncatedIpv6 => "truncated_ipv6",
            DecodeErrorKind::BadIpv6ExtensionHeader => "bad_ipv6_extension_header",
            DecodeErrorKind::UnknownIpVersion => "unknown_ip_version",
            DecodeErrorKind::TruncatedTcp => "truncated_tcp",
            DecodeErrorKind::BadTcpHeader => "bad_tcp_header",
            DecodeErrorKind::TruncatedUdp => "truncated_udp",
            DecodeErrorKind::TruncatedIcmp => "truncated_icmp",
            DecodeErrorKind::TruncatedIcmpv6 => "truncated_icmpv6",
        }
    }
}

/// Maximum number of stacked VLAN tags kept (QinQ and one more); deeper stacks are still walked.
pub const MAX_VLAN_TAGS: usize = 3;

/// The decoded summary of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet {
    /// The class the frame counts under in the protocol mix.
    pub class: ProtoClass,
    /// The network layer.
    pub network: Network,
    /// Source address of the outermost IP header (unspecified when not IP).
    pub src: IpAddr,
    /// Destination address of the outermost IP header (unspecified when not IP).
    pub dst: IpAddr,
    /// Whether `src` was captured (an IP header cut short may lack it).
    pub has_src: bool,
    /// Whether `dst` was captured.
    pub has_dst: bool,
    /// IP protocol after walking IPv6 extension headers (0 when not IP).
    pub ip_proto: u8,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// IP datagram length as announced by the header (IPv4 total length, IPv6 40 + payload
    /// length); falls back to the captured length when the header says 0 (TSO captures).
    pub ip_len: u32,
    /// Fragmentation fields when the datagram is a fragment.
    pub fragment: Option<Fragment>,
    /// The transport layer.
    pub transport: Transport,
    /// Offset of the transport payload in the frame's bytes (valid when `transport` is set).
    /// For a non-first fragment, or an IP protocol whose header is not decoded (GRE, ESP,
    /// IP-in-IP, ...), the offset of the IP payload (after any IPv6 extension headers).
    pub payload_offset: u32,
    /// Transport payload length as announced by the headers (may exceed the captured bytes).
    /// For a non-first fragment or an undecoded IP protocol, the IP payload length; 0 when the
    /// transport header is missing or bogus.
    pub payload_len: u32,
    /// Offset of the outermost IP header in the frame's bytes (valid when [`Packet::is_ip`]):
    /// where fragment reassembly reads the datagram from.
    pub net_offset: u32,
    /// VLAN ids, outermost first; `vlan_count` says how many are valid.
    pub vlans: [u16; MAX_VLAN_TAGS],
    /// Number of VLAN tags seen (may exceed `MAX_VLAN_TAGS`; only the first ones are kept).
    pub vlan_count: u8,
    /// The first problem that stopped decoding, if any.
    pub error: Option<DecodeErrorKind>,
}

impl Default for Packet {
    fn default() -> Self {
        Packet {
            class: ProtoClass::NonIp,
            network: Network::None,
            src: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            dst: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            has_src: false,
            has_dst: false,
            ip_proto: 0,
            ttl: 0,
            ip_len: 0,
            fragment: None,
            transport: Transport::None,
            payload_offset: 0,
            payload_len: 0,
            net_offset: 0,
            vlans: [0; MAX_VLAN_TAGS],
            vlan_count: 0,
            error: None,
        }
    }
}

impl Packet {
    /// Whether the frame carries IPv4 or IPv6.
    pub fn is_ip(&self) -> bool {
        matches!(self.network, Network::Ipv4 | Network::Ipv6)
    }

    /// TCP flag bits when the frame carries a TCP header.
    pub fn tcp_flags(&self) -> Option<u8> {
        match self.transport {
            Transport::Tcp(t) => Some(t.flags),
            _ => None,
        }
    }

    /// Source and destination ports for TCP and UDP.
    pub fn ports(&self) -> Option<(u16, u16)> {
        match self.transport {
            Transport::Tcp(t) => Some((t.src_port, t.dst_port)),
            Transport::Udp(u) => Some((u.src_port, u.dst_port)),
            _ => None,
        }
    }

    /// The captured bytes of the outermost IP datagram, from its header on (empty when the
    /// frame carries no IP).
    pub fn ip_bytes<'a>(&self, frame: &'a [u8]) -> &'a [u8] {
        if !self.is_ip() {
            return &[];
        }
        frame.get(self.net_offset as usize..).unwrap_or(&[])
    }

    /// The captured part of the transport payload.
    pub fn payload<'a>(&self, frame: &'a [u8]) -> &'a [u8] {
        let start = (self.payload_offset as usize).min(frame.len());
        let end = start
            .saturating_add(self.payload_len as usize)
            .min(frame.len());
        frame.get(start..end).unwrap_or(&[])
    }
}
