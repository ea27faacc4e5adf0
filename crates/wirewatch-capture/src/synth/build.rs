//! Packet builders: Ethernet II (with stacked VLAN tags), ARP, IPv4, IPv6, TCP, UDP, ICMP and
//! ICMPv6, written straight into a caller's buffer with correct lengths and checksums.
//!
//! Owns header layout only. The builders append to a `Vec<u8>` and allocate nothing else, so the
//! generator can reuse one buffer for millions of frames; other crates use the same specs to make
//! hand-built packets for their tests. Everything here is plain data: describe a frame with the
//! spec structs (most have a `Default`, so `..Default::default()` fills the rest) and call
//! [`FrameSpec::build`] or, for a raw IP packet without a link header, [`IpPacket::build`].
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr};
//! use wirewatch_capture::synth::{FrameSpec, Body, IpPacket, Transport, TcpSegment, tcp_flags};
//!
//! let syn = FrameSpec::new([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2], Body::Ip(IpPacket {
//!     src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
//!     dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
//!     transport: Transport::Tcp(TcpSegment {
//!         src_port: 40000,
//!         dst_port: 80,
//!         flags: tcp_flags::SYN,
//!         ..Default::default()
//!     }),
//!     ..Default::default()
//! }));
//! let mut buf = Vec::new();
//! assert_eq!(syn.build(&mut buf), 60); // 54 bytes of headers, padded to the Ethernet minimum
//! ```

use super::checksum::{finish, pseudo_header_sum, sum_be, to_v6};
use super::payload::Payload;
use std::net::{IpAddr, Ipv4Addr};

pub use wirewatch_core::proto::tcp_flags;

/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// EtherType of ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// Tag protocol identifier of an 802.1Q (customer) VLAN tag.
pub const TPID_8021Q: u16 = 0x8100;
/// Tag protocol identifier of an 802.1ad (service, QinQ outer) VLAN tag.
pub const TPID_8021AD: u16 = 0x88a8;
/// Smallest Ethernet frame without the FCS; shorter frames are padded with zeros to this.
pub const ETH_MIN_FRAME: usize = 60;
/// The broadcast MAC address.
pub const BROADCAST_MAC: MacAddr = [0xff; 6];

/// IP protocol number "No Next Header" (IPv6), the default of [`Transport::Raw`].
pub const IPPROTO_NONE: u8 = 59;
const IPPROTO_HOPOPTS: u8 = 0;
const IPPROTO_FRAGMENT: u8 = 44;
const IPPROTO_DSTOPTS: u8 = 60;

/// A MAC address.
pub type MacAddr = [u8; 6];

/// One VLAN tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VlanTag {
    /// Tag protocol identifier ([`TPID_8021Q`] or [`TPID_8021AD`]).
    pub tpid: u16,
    /// Priority code point (3 bits).
    pub pcp: u8,
    /// Drop eligible indicator.
    pub dei: bool,
    /// VLAN id (12 bits).
    pub vid: u16,
}

impl VlanTag {
    /// An 802.1Q tag with priority 0.
    pub const fn dot1q(vid: u16) -> Self {
        VlanTag {
            tpid: TPID_8021Q,
            pcp: 0,
            dei: false,
            vid,
        }
    }

    /// An 802.1ad service tag (the outer tag of QinQ) with priority 0.
    pub const fn dot1ad(vid: u16) -> Self {
        VlanTag {
            tpid: TPID_8021AD,
            pcp: 0,
            dei: false,
            vid,
        }
    }

    fn tci(&self) -> u16 {
        u16::from(self.pcp & 7) << 13 | u16::from(self.dei) << 12 | (self.vid & 0x0fff)
    }
}

/// An Ethernet II frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameSpec<'a> {
    /// Destination MAC.
    pub dst_mac: MacAddr,
    /// Source MAC.
    pub src_mac: MacAddr,
    /// VLAN tags, outermost first (e.g. `[dot1ad(100), dot1q(20)]` for QinQ).
    pub vlans: &'a [VlanTag],
    /// Pad frames shorter than [`ETH_MIN_FRAME`] with zeros, as a NIC does on the wire.
    pub pad: bool,
    /// What the frame carries.
    pub body: Body<'a>,
}

impl<'a> FrameSpec<'a> {
    /// An untagged, padded frame.
    pub fn new(src_mac: MacAddr, dst_mac: MacAddr, body: Body<'a>) -> Self {
        FrameSpec {
            dst_mac,
            src_mac,
            vlans: &[],
            pad: true,
            body,
        }
    }

    /// Appends the frame to `out` and returns its length.
    pub fn build(&self, out: &mut Vec<u8>) -> usize {
        let start = out.len();
        out.extend_from_slice(&self.dst_mac);
        out.extend_from_slice(&self.src_mac);
        for tag in self.vlans {
            out.extend_from_slice(&tag.tpid.to_be_bytes());
            out.extend_from_slice(&tag.tci().to_be_bytes());
        }
        match &self.body {
            Body::Ip(ip) => {
                out.extend_from_slice(&ip.ethertype().to_be_bytes());
                ip.build(out);
            }
            Body::Arp(arp) => {
                out.extend_from_slice(&ETHERTYPE_ARP.to_be_bytes());
                arp.write(out);
            }
            Body::Raw { ethertype, payload } => {
                out.extend_from_slice(&ethertype.to_be_bytes());
                out.extend_from_slice(payload);
            }
        }
        if self.pad && out.len() - start < ETH_MIN_FRAME {
            out.resize(start + ETH_MIN_FRAME, 0);
        }
        out.len() - start
    }

    /// The frame as a new vector (convenient in tests).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        self.build(&mut out);
        out
    }
}

/// The payload of an Ethernet frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body<'a> {
    /// An IPv4 or IPv6 packet (the EtherType follows the address family).
    Ip(IpPacket<'a>),
    /// An ARP request or reply.
    Arp(ArpPacket),
    /// Any other EtherType with these bytes.
    Raw {
        /// The EtherType.
        ethertype: u16,
        /// The bytes after it.
        payload: &'a [u8],
    },
}

/// An ARP packet for IPv4 over Ethernet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpPacket {
    /// Operation: 1 request, 2 reply.
    pub op: u16,
    /// Sender hardware address.
    pub sender_mac: MacAddr,
    /// Sender protocol address.
    pub sender_ip: Ipv4Addr,
    /// Target hardware address (zero in requests).
    pub target_mac: MacAddr,
    /// Target protocol address.
    pub target_ip: Ipv4Addr,
}

impl ArpPacket {
    /// "Who has `target_ip`? Tell `sender_ip`."
    pub fn request(sender_mac: MacAddr, sender_ip: Ipv4Addr, target_ip: Ipv4Addr) -> Self {
        ArpPacket {
            op: 1,
            sender_mac,
            sender_ip,
            target_mac: [0; 6],
            target_ip,
        }
    }

    /// "`sender_ip` is at `sender_mac`", sent to the asker.
    pub fn reply(
        sender_mac: MacAddr,
        sender_ip: Ipv4Addr,
        target_mac: MacAddr,
        target_ip: Ipv4Addr,
    ) -> Self {
        ArpPacket {
            op: 2,
            sender_mac,
            sender_ip,
            target_mac,
            target_ip,
        }
    }

    /// Appends the 28-byte ARP packet to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[0, 1, 0x08, 0x00, 6, 4]);
        out.extend_from_slice(&self.op.to_be_bytes());
        out.extend_from_slice(&self.sender_mac);
        out.extend_from_slice(&self.sender_ip.octets());
        out.extend_from_slice(&self.target_mac);
        out.extend_from_slice(&self.target_ip.octets());
    }
}

/// Fragmentation fields of an IP packet.
///
/// The builder writes them as given and does not split anything: put the fragment's bytes in a
/// [`Transport::Raw`] (for example slices of a datagram built without `fragment`), since a
/// transport checksum covers the whole reassembled datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fragment {
    /// Offset of this fragment in 8-byte units (13 bits).
    pub offset: u16,
    /// More fragments follow (MF).
    pub more: bool,
}

/// An IPv6 extension header inserted before the transport (8 bytes, padded with PadN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipv6Ext {
    /// Hop-by-Hop Options (must come first).
    HopByHop,
    /// Destination Options.
    DestinationOptions,
}

/// An IPv4 or IPv6 packet. The version follows the addresses; a mix of families is sent as IPv6
/// with the IPv4 address mapped (`::ffff:a.b.c.d`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpPacket<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// TTL (IPv4) or hop limit (IPv6).
    pub ttl: u8,
    /// Type of service (IPv4) or traffic class (IPv6).
    pub tos: u8,
    /// Identification: the IPv4 id (low 16 bits) or the IPv6 fragment header's id.
    pub id: u32,
    /// Set DF (IPv4 only; never set on a fragment).
    pub dont_fragment: bool,
    /// Fragmentation fields: IPv4 MF/offset, or an IPv6 Fragment header after `ipv6_ext`.
    pub fragment: Option<Fragment>,
    /// Flow label (IPv6 only, 20 bits).
    pub flow_label: u32,
    /// IPv6 extension headers, in order (ignored for IPv4).
    pub ipv6_ext: &'a [Ipv6Ext],
    /// What the packet carries.
    pub transport: Transport<'a>,
}

impl Default for IpPacket<'_> {
    fn default() -> Self {
        IpPacket {
            src: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            dst: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            ttl: 64,
            tos: 0,
            id: 0,
            dont_fragment: true,
            fragment: None,
            flow_label: 0,
            ipv6_ext: &[],
            transport: Transport::default(),
        }
    }
}

impl<'a> IpPacket<'a> {
    /// A packet with the default TTL (64), DF set, no options, carrying `transport`.
    pub fn new(src: IpAddr, dst: IpAddr, transport: Transport<'a>) -> Self {
        IpPacket {
            src,
            dst,
            transport,
            ..IpPacket::default()
        }
    }

    /// Whether this is sent as IPv6.
    pub fn is_v6(&self) -> bool {
        !matches!((self.src, self.dst), (IpAddr::V4(_), IpAddr::V4(_)))
    }

    /// The EtherType that announces this packet.
    pub fn ethertype(&self) -> u16 {
        if self.is_v6() {
            ETHERTYPE_IPV6
        } else {
            ETHERTYPE_IPV4
        }
    }

    /// Appends the IP packet (no link header) to `out` and returns its length.
    pub fn build(&self, out: &mut Vec<u8>) -> usize {
        let start = out.len();
        let proto = self.transport.ip_proto(self.is_v6());
        match (self.src, self.dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                let df = self.dont_fragment && self.fragment.is_none();
                let mut frag = if df { 0x4000u16 } else { 0 };
                if let Some(f) = self.fragment {
                    frag |= (f.offset & 0x1fff) | if f.more { 0x2000 } else { 0 };
                }
                let id = (self.id as u16).to_be_bytes();
                let frag = frag.to_be_bytes();
                #[rustfmt::skip]
                out.extend_from_slice(&[
                    0x45, self.tos, 0, 0, id[0], id[1], frag[0], frag[1], self.ttl, proto, 0, 0,
                ]);
                out.extend_from_slice(&s.octets());
                out.extend_from_slice(&d.octets());
                self.transport.write(out, self.src, self.dst, false);
                let total = clamp16(out.len() - start);
                out[start + 2..start + 4].copy_from_slice(&total.to_be_bytes());
                let csum = finish(sum_be(&out[start..start + 20], 0));
                out[start + 10..start + 12].copy_from_slice(&csum.to_be_bytes());
            }
            _ => {
                let vtf = 6u32 << 28 | u32::from(self.tos) << 20 | (self.flow_label & 0xf_ffff);
                let mut h = [0u8; 40];
                h[0..4].copy_from_slice(&vtf.to_be_bytes());
                h[7] = self.ttl; // payload length and next header are set below
                h[8..24].copy_from_slice(&to_v6(self.src).octets());
                h[24..40].copy_from_slice(&to_v6(self.dst).octets());
                out.extend_from_slice(&h);
                let mut next_at = start + 6;
                for ext in self.ipv6_ext {
                    out[next_at] = match ext {
                        Ipv6Ext::HopByHop => IPPROTO_HOPOPTS,
                        Ipv6Ext::DestinationOptions => IPPROTO_DSTOPTS,
                    };
                    next_at = out.len();
                    out.extend_from_slice(&[0, 0, 1, 4, 0, 0, 0, 0]); // PadN over 6 bytes
                }
                if let Some(f) = self.fragment {
                    out[next_at] = IPPROTO_FRAGMENT;
                    next_at = out.len();
                    let off = (f.offset << 3 | u16::from(f.more)).to_be_bytes();
                    out.extend_from_slice(&[0, 0, off[0], off[1]]);
                    out.extend_from_slice(&self.id.to_be_bytes());
                }
                out[next_at] = proto;
                self.transport.write(out, self.src, self.dst, true);
                let payload_len = clamp16(out.len() - start - 40);
                out[start + 4..start + 6].copy_from_slice(&payload_len.to_be_bytes());
            }
        }
        out.len() - start
    }
}

fn clamp16(n: usize) -> u16 {
    n.min(usize::from(u16::MAX)) as u16
}

/// The transport layer of an IP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport<'a> {
    /// A TCP segment.
    Tcp(TcpSegment<'a>),
    /// A UDP datagram.
    Udp(UdpDatagram<'a>),
    /// An echo request/reply: ICMP (types 8/0) over IPv4, ICMPv6 (128/129) over IPv6.
    Echo(Echo<'a>),
    /// Any ICMP (IPv4) or ICMPv6 (IPv6) message, e.g. destination unreachable quoting a header.
    Icmp(IcmpMessage<'a>),
    /// Another protocol, or a fragment's bytes, written verbatim.
    Raw {
        /// IP protocol number.
        proto: u8,
        /// The bytes.
        payload: Payload<'a>,
    },
}

impl Default for Transport<'_> {
    fn default() -> Self {
        Transport::Raw {
            proto: IPPROTO_NONE,
            payload: Payload::default(),
        }
    }
}

impl Transport<'_> {
    /// The IP protocol number announced for this transport.
    pub fn ip_proto(&self, v6: bool) -> u8 {
        match self {
            Transport::Tcp(_) => 6,
            Transport::Udp(_) => 17,
            Transport::Echo(_) | Transport::Icmp(_) => {
                if v6 {
                    58
                } else {
                    1
                }
            }
            Transport::Raw { proto, .. } => *proto,
        }
    }

    /// Appends the transport header and payload with its checksum.
    fn write(&self, out: &mut Vec<u8>, src: IpAddr, dst: IpAddr, v6: bool) {
        let start = out.len();
        let proto = self.ip_proto(v6);
        match self {
            Transport::Tcp(t) => {
                // The header is assembled on the stack and appended once.
                let mut h = [0u8; 20 + TcpOptions::MAX_LEN];
                h[0..2].copy_from_slice(&t.src_port.to_be_bytes());
                h[2..4].copy_from_slice(&t.dst_port.to_be_bytes());
                h[4..8].copy_from_slice(&t.seq.to_be_bytes());
                h[8..12].copy_from_slice(&t.ack.to_be_bytes());
                let hdr_len = 20 + t.options.encode(&mut h[20..]);
                h[12] = ((hdr_len / 4) as u8) << 4;
                h[13] = t.flags;
                h[14..16].copy_from_slice(&t.window.to_be_bytes());
                h[18..20].copy_from_slice(&t.urgent.to_be_bytes());
                out.extend_from_slice(&h[..hdr_len]);
                let body = t.payload.write_summed(out, false);
                put_checksum(out, start, hdr_len, body, 16, Some((src, dst, proto)));
            }
            Transport::Udp(u) => {
                out.extend_from_slice(&u.src_port.to_be_bytes());
                out.extend_from_slice(&u.dst_port.to_be_bytes());
                out.extend_from_slice(&[0, 0, 0, 0]);
                let body = u.payload.write_summed(out, false);
                let len = clamp16(out.len() - start);
                out[start + 4..start + 6].copy_from_slice(&len.to_be_bytes());
                put_checksum(out, start, 8, body, 6, Some((src, dst, proto)));
                if out[start + 6..start + 8] == [0, 0] {
                    // Zero means "no checksum" in UDP; a computed zero is sent as all ones.
                    out[start + 6..start + 8].copy_from_slice(&[0xff, 0xff]);
                }
            }
            Transport::Echo(e) => {
                let ty = match (v6, e.reply) {
                    (false, false) => 8,
                    (false, true) => 0,
                    (true, false) => 128,
                    (true, true) => 129,
                };
                out.extend_from_slice(&[ty, 0, 0, 0]);
                out.extend_from_slice(&e.ident.to_be_bytes());
                out.extend_from_slice(&e.seq.to_be_bytes());
                let body = e.payload.write_summed(out, false);
                put_checksum(out, start, 8, body, 2, v6.then_some((src, dst, proto)));
            }
            Transport::Icmp(m) => {
                out.extend_from_slice(&[m.ty, m.code, 0, 0]);
                out.extend_from_slice(&m.rest);
                let body = m.payload.write_summed(out, false);
                put_checksum(out, start, 8, body, 2, v6.then_some((src, dst, proto)));
            }
            Transport::Raw { payload, .. } => payload.write(out),
        }
    }
}

/// Stores the checksum of `out[start..]` at `start + at`: the header (`hdr_len` bytes, an even
/// number) is summed here, the payload's partial sum `body` was computed while writing it, and
/// the pseudo-header is added when given.
fn put_checksum(
    out: &mut [u8],
    start: usize,
    hdr_len: usize,
    body: u64,
    at: usize,
    pseudo: Option<(IpAddr, IpAddr, u8)>,
) {
    let len = out.len() - start;
    let acc = pseudo.map_or(0, |(s, d, p)| pseudo_header_sum(s, d, p, len));
    let csum = finish(sum_be(&out[start..start + hdr_len], acc + body));
    out[start + at..start + at + 2].copy_from_slice(&csum.to_be_bytes());
}

/// A TCP segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// Flag bits ([`tcp_flags`]).
    pub flags: u8,
    /// Receive window.
    pub window: u16,
    /// Urgent pointer.
    pub urgent: u16,
    /// Options (typically MSS/SACK-permitted/timestamps/window scale on SYN and SYN-ACK).
    pub options: TcpOptions,
    /// The data.
    pub payload: Payload<'a>,
}

impl Default for TcpSegment<'_> {
    fn default() -> Self {
        TcpSegment {
            src_port: 0,
            dst_port: 0,
            seq: 0,
            ack: 0,
            flags: 0,
            window: 64240,
            urgent: 0,
            options: TcpOptions::default(),
            payload: Payload::default(),
        }
    }
}

/// TCP options, laid out the way Linux sends them (each group padded to 4 bytes with NOPs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpOptions {
    /// Maximum segment size.
    pub mss: Option<u16>,
    /// Window scale shift count.
    pub window_scale: Option<u8>,
    /// SACK permitted.
    pub sack_permitted: bool,
    /// Timestamps (TSval, TSecr).
    pub timestamps: Option<(u32, u32)>,
}

impl TcpOptions {
    /// Linux's SYN options: MSS, SACK permitted, timestamps, window scale 7.
    pub fn syn(mss: u16, tsval: u32, tsecr: u32) -> Self {
        TcpOptions {
            mss: Some(mss),
            window_scale: Some(7),
            sack_permitted: true,
            timestamps: Some((tsval, tsecr)),
        }
    }

    /// Only the timestamps option, as on every segment after a handshake that agreed on it.
    pub fn timestamps(tsval: u32, tsecr: u32) -> Self {
        TcpOptions {
            timestamps: Some((tsval, tsecr)),
            ..TcpOptions::default()
        }
    }

    /// Longest encoding: MSS, SACK-permitted + timestamps, window scale.
    pub const MAX_LEN: usize = 24;

    /// Encoded length in bytes (a multiple of 4, at most [`TcpOptions::MAX_LEN`]).
    pub fn len(&self) -> usize {
        let mut n = 0;
        if self.mss.is_some() {
            n += 4;
        }
        if self.timestamps.is_some() {
            n += 12;
        } else if self.sack_permitted {
            n += 4;
        }
        if self.window_scale.is_some() {
            n += 4;
        }
        n
    }

    /// Whether there are no options.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the options at the start of `out` (at least [`TcpOptions::MAX_LEN`] bytes) and
    /// returns their length.
    fn encode(&self, out: &mut [u8]) -> usize {
        let mut n = 0;
        let mut put = |bytes: &[u8]| {
            out[n..n + bytes.len()].copy_from_slice(bytes);
            n += bytes.len();
        };
        if let Some(mss) = self.mss {
            let m = mss.to_be_bytes();
            put(&[2, 4, m[0], m[1]]);
        }
        match (self.timestamps, self.sack_permitted) {
            (Some((val, ecr)), sack) => {
                put(if sack { &[4, 2, 8, 10] } else { &[1, 1, 8, 10] });
                put(&val.to_be_bytes());
                put(&ecr.to_be_bytes());
            }
            (None, true) => put(&[1, 1, 4, 2]),
            (None, false) => {}
        }
        if let Some(ws) = self.window_scale {
            put(&[1, 3, 3, ws]);
        }
        n
    }
}

/// A UDP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UdpDatagram<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// The data.
    pub payload: Payload<'a>,
}

/// An ICMP or ICMPv6 echo request or reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Echo<'a> {
    /// Reply (true) or request (false).
    pub reply: bool,
    /// Identifier.
    pub ident: u16,
    /// Sequence number.
    pub seq: u16,
    /// The data.
    pub payload: Payload<'a>,
}

/// Any ICMP/ICMPv6 message: type, code, the 4 bytes after the checksum, then the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IcmpMessage<'a> {
    /// Message type.
    pub ty: u8,
    /// Message code.
    pub code: u8,
    /// The 4 header bytes after the checksum (unused, MTU, pointer, ...).
    pub rest: [u8; 4],
    /// The rest (for errors: the quoted IP header and the first bytes of its payload).
    pub payload: Payload<'a>,
}
