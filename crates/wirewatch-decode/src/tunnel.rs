//! Tunnels: where the inner packet of an encapsulated frame starts, and what it is.
//!
//! [`decode`](crate::decode) classes a tunnelled frame by its outer protocol (as tshark counts
//! it: GRE, IP-in-IP are `other`, VXLAN, Geneve, Teredo and GTP-U are UDP). [`inner`] looks at
//! an outer [`Packet`] and says where its inner frame begins; [`decode_inner`] decodes it like
//! any frame, so the caller can open a tunnel in a tunnel up to a depth it chooses. Pure
//! functions over the frame's bytes, bounded, no allocation.
//!
//! Recognised: IP-in-IP (IPv4 or IPv6 inside IPv4 or IPv6: protocols 4 and 41), GRE version 0
//! carrying IPv4, IPv6 or Ethernet (transparent bridging), ERSPAN types II and III (in GRE),
//! VXLAN (UDP 4789), Geneve (UDP 6081), Teredo (UDP 3544, with its authentication and origin
//! indication headers) and GTP-U (UDP 2152, G-PDU messages with their extension headers).
//! Only whole datagrams are opened (not fragments), and only when the inner frame starts with
//! what it claims to be (an IP version nibble, an Ethernet header's room).

use crate::packet::{Packet, Transport};
use crate::read::{be16, u8_at};
use wirewatch_core::LinkType;

/// The encapsulations Wirewatch opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TunnelKind {
    /// IPv4 or IPv6 directly inside IPv4 or IPv6 (4in4, 6in4, 4in6, 6in6).
    IpInIp,
    /// Generic Routing Encapsulation (RFC 2784/2890).
    Gre,
    /// Cisco ERSPAN type II or III (a mirrored Ethernet frame in GRE).
    Erspan,
    /// VXLAN (RFC 7348).
    Vxlan,
    /// Geneve (RFC 8926).
    Geneve,
    /// Teredo (RFC 4380): IPv6 in UDP.
    Teredo,
    /// GTP-U (3GPP TS 29.281): user data in mobile networks.
    GtpU,
}

impl TunnelKind {
    /// Lower-case name for reports and JSON.
    pub fn name(self) -> &'static str {
        match self {
            TunnelKind::IpInIp => "ip_in_ip",
            TunnelKind::Gre => "gre",
            TunnelKind::Erspan => "erspan",
            TunnelKind::Vxlan => "vxlan",
            TunnelKind::Geneve => "geneve",
            TunnelKind::Teredo => "teredo",
            TunnelKind::GtpU => "gtp_u",
        }
    }
}

/// What the inner frame is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InnerLink {
    /// An Ethernet frame.
    Ethernet,
    /// An IP packet (v4 or v6 by its version nibble).
    Ip,
}

/// The inner frame of a tunnelled packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inner {
    /// The encapsulation.
    pub kind: TunnelKind,
    /// What the inner frame is.
    pub link: InnerLink,
    /// Where it starts in the outer frame's bytes.
    pub offset: usize,
}

/// UDP port of VXLAN.
pub const VXLAN_PORT: u16 = 4789;
/// UDP port of Geneve.
pub const GENEVE_PORT: u16 = 6081;
/// UDP port of Teredo.
pub const TEREDO_PORT: u16 = 3544;
/// UDP port of GTP-U.
pub const GTP_U_PORT: u16 = 2152;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86DD;
const ETHERTYPE_TEB: u16 = 0x6558;
const ETHERTYPE_ERSPAN_II: u16 = 0x88BE;
const ETHERTYPE_ERSPAN_III: u16 = 0x22EB;

/// Shortest Ethernet header an inner frame must have room for.
const ETHERNET_HEADER: usize = 14;
/// GTP-U extension headers followed at most.
const MAX_GTP_EXTENSIONS: usize = 8;

/// Where the inner frame of `pkt` (decoded from `data`) starts, when `pkt` is a tunnel this
/// module opens.
pub fn inner(pkt: &Packet, data: &[u8]) -> Option<Inner> {
    if pkt.fragment.is_some() || pkt.error.is_some() {
        return None;
    }
    let off = usize::try_from(pkt.payload_offset).ok()?;
    let end = off.checked_add(usize::try_from(pkt.payload_len).ok()?)?;
    // The tunnel's payload as announced, within what was captured.
    let payload = data.get(off..end.min(data.len()))?;
    let found = match pkt.transport {
        Transport::None => match pkt.ip_proto {
            4 | 41 => ip_version(payload, 0).map(|_| (TunnelKind::IpInIp, InnerLink::Ip, 0)),
            47 => gre(payload),
            _ => None,
        },
        Transport::Udp(u) => {
            let port = |p: u16| u.dst_port == p || u.src_port == p;
            if port(VXLAN_PORT) {
                vxlan(payload)
            } else if port(GENEVE_PORT) {
                geneve(payload)
            } else if port(GTP_U_PORT) {
                gtp_u(payload)
            } else if port(TEREDO_PORT) {
                teredo(payload)
            } else {
                None
            }
        }
        _ => None,
    }?;
    let (kind, link, at) = found;
    let offset = off.checked_add(at)?;
    if link == InnerLink::Ethernet && data.len().saturating_sub(offset) < ETHERNET_HEADER {
        return None;
    }
    Some(Inner { kind, link, offset })
}

/// Decodes the inner frame of a tunnel.
pub fn decode_inner(inner: &Inner, data: &[u8]) -> Packet {
    let bytes = data.get(inner.offset..).unwrap_or_default();
    let linktype = match inner.link {
        InnerLink::Ethernet => LinkType::ETHERNET,
        InnerLink::Ip => LinkType::RAW,
    };
    crate::decode(linktype, bytes)
}

/// The IP version at `at` when it is 4 or 6 and its fixed header was captured.
fn ip_version(p: &[u8], at: usize) -> Option<u8> {
    let v = u8_at(p, at)? >> 4;
    let header = match v {
        4 => 20,
        6 => 40,
        _ => return None,
    };
    (p.len().saturating_sub(at) >= header).then_some(v)
}

/// What a protocol type (an EtherType) carries, and the inner frame at `at`.
fn by_ethertype(p: &[u8], proto: u16, at: usize) -> Option<(InnerLink, usize)> {
    match proto {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => ip_version(p, at).map(|_| (InnerLink::Ip, at)),
        ETHERTYPE_TEB => Some((InnerLink::Ethernet, at)),
        _ => None,
    }
}

/// GRE version 0: flags and version, protocol type, then the optional checksum (+reserved),
/// key and sequence number words.
fn gre(p: &[u8]) -> Option<(TunnelKind, InnerLink, usize)> {
    let flags = be16(p, 0)?;
    if flags & 0x0007 != 0 {
        // Version 1 is PPTP's enhanced GRE (PPP inside): not opened.
        return None;
    }
    let proto = be16(p, 2)?;
    let mut at = 4;
    for bit in [0x8000u16, 0x2000, 0x1000] {
        if flags & bit != 0 {
            at += 4;
        }
    }
    match proto {
        ETHERTYPE_ERSPAN_II => {
            // An 8-byte ERSPAN header (version 1), then the mirrored frame.
            let version = u8_at(p, at)? >> 4;
            (version == 1).then_some((TunnelKind::Erspan, InnerLink::Ethernet, at + 8))
        }
        ETHERTYPE_ERSPAN_III => {
            // A 12-byte header (version 2), and an 8-byte platform subheader when O is set.
            let version = u8_at(p, at)? >> 4;
            let o = u8_at(p, at + 11)? & 0x01 != 0;
            (version == 2).then_some((
                TunnelKind::Erspan,
                InnerLink::Ethernet,
                at + 12 + if o { 8 } else { 0 },
            ))
        }
        _ => by_ethertype(p, proto, at).map(|(link, at)| (TunnelKind::Gre, link, at)),
    }
}

/// VXLAN: 8 bytes with the I flag (a valid VNI), then Ethernet.
fn vxlan(p: &[u8]) -> Option<(TunnelKind, InnerLink, usize)> {
    let flags = u8_at(p, 0)?;
    (flags & 0x08 != 0 && p.len() >= 8).then_some((TunnelKind::Vxlan, InnerLink::Ethernet, 8))
}

/// Geneve: version 0, options length in 4-byte words, protocol type.
fn geneve(p: &[u8]) -> Option<(TunnelKind, InnerLink, usize)> {
    let first = u8_at(p, 0)?;
    if first >> 6 != 0 {
        return None;
    }
    let at = 8 + usize::from(first & 0x3f) * 4;
    let proto = be16(p, 2)?;
    by_ethertype(p, proto, at).map(|(link, at)| (TunnelKind::Geneve, link, at))
}

/// GTP-U version 1 G-PDU: 8 bytes, 4 more when any of E, S, PN is set, then the extension
/// headers (each its length in 4-byte words first and the next type last), then IP.
fn gtp_u(p: &[u8]) -> Option<(TunnelKind, InnerLink, usize)> {
    let flags = u8_at(p, 0)?;
    if flags >> 5 != 1 || flags & 0x10 == 0 || u8_at(p, 1)? != 0xFF {
        return None;
    }
    let mut at = 8;
    if flags & 0x07 != 0 {
        let mut next = u8_at(p, 11)?;
        at = 12;
        let mut walked = 0;
        while next != 0 {
            walked += 1;
            if walked > MAX_GTP_EXTENSIONS {
                return None;
            }
            let words = usize::from(u8_at(p, at)?);
            if words == 0 {
                return None;
            }
            at += words * 4;
            next = u8_at(p, at.checked_sub(1)?)?;
        }
    }
    ip_version(p, at).map(|_| (TunnelKind::GtpU, InnerLink::Ip, at))
}

/// Teredo: an optional authentication header (0x0001), an optional origin indication
/// (0x0000, 8 bytes), then IPv6.
fn teredo(p: &[u8]) -> Option<(TunnelKind, InnerLink, usize)> {
    let mut at = 0;
    if be16(p, at)? == 0x0001 {
        let id_len = usize::from(u8_at(p, at + 2)?);
        let auth_len = usize::from(u8_at(p, at + 3)?);
        // Then the client id, the authentication value, an 8-byte nonce, a confirmation byte.
        at += 4 + id_len + auth_len + 8 + 1;
    }
    if be16(p, at)? == 0x0000 {
        at += 8;
    }
    (ip_version(p, at)? == 6).then_some((TunnelKind::Teredo, InnerLink::Ip, at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;
    use crate::{Network, decode};
    use wirewatch_core::ProtoClass;

    /// A TCP SYN from 10.1.1.1:1234 to 10.2.2.2:80 as a raw IPv4 packet.
    fn inner_syn() -> Vec<u8> {
        ipv4(6, &tcp(1234, 80, 0x02, &[], b""))
    }

    fn open(frame: &[u8]) -> (Inner, Packet) {
        let outer = decode(LinkType::ETHERNET, frame);
        let found = inner(&outer, frame).expect("a tunnel");
        (found, decode_inner(&found, frame))
    }

    fn assert_syn(p: &Packet) {
        assert_eq!(p.error, None);
        assert_eq!(p.class, ProtoClass::Tcp);
        assert_eq!(p.ports(), Some((1234, 80)));
    }

    #[test]
    fn ip_in_ip_both_ways() {
        let frame = eth(0x0800, &ipv4(4, &inner_syn()));
        let (i, p) = open(&frame);
        assert_eq!((i.kind, i.link), (TunnelKind::IpInIp, InnerLink::Ip));
        assert_syn(&p);
        let v6_in_v4 = eth(0x0800, &ipv4(41, &ipv6(6, &tcp(1234, 80, 0x02, &[], b""))));
        let (_, p) = open(&v6_in_v4);
        assert_eq!(p.network, Network::Ipv6);
        assert_syn(&p);
        let v4_in_v6 = eth(0x86DD, &ipv6(4, &inner_syn()));
        assert_syn(&open(&v4_in_v6).1);
        // The outer packet stays what it is: IP-in-IP counts as other IP.
        assert_eq!(
            decode(LinkType::ETHERNET, &frame).class,
            ProtoClass::OtherIp
        );
    }

    #[test]
    fn gre_with_key_and_sequence_carrying_ip_and_ethernet() {
        let mut gre_hdr = vec![0x30, 0x00, 0x08, 0x00]; // K and S set, IPv4
        gre_hdr.extend_from_slice(&[0, 0, 0, 7, 0, 0, 0, 1]);
        gre_hdr.extend_from_slice(&inner_syn());
        let (i, p) = open(&eth(0x0800, &ipv4(47, &gre_hdr)));
        assert_eq!(i.kind, TunnelKind::Gre);
        assert_syn(&p);
        let mut teb = vec![0x00, 0x00, 0x65, 0x58];
        teb.extend_from_slice(&eth(0x0800, &inner_syn()));
        let (i, p) = open(&eth(0x0800, &ipv4(47, &teb)));
        assert_eq!((i.kind, i.link), (TunnelKind::Gre, InnerLink::Ethernet));
        assert_syn(&p);
        // PPTP's enhanced GRE (version 1) is not opened.
        let pptp = [0x30, 0x01, 0x88, 0x0b, 0, 0, 0, 0, 0, 0, 0, 0];
        let frame = eth(0x0800, &ipv4(47, &pptp));
        assert_eq!(inner(&decode(LinkType::ETHERNET, &frame), &frame), None);
    }

    #[test]
    fn erspan_types_two_and_three() {
        let mut ii = vec![0x10, 0x00, 0x88, 0xBE, 0, 0, 0, 1]; // S set, ERSPAN II
        ii.extend_from_slice(&[0x10, 0x01, 0, 0, 0, 0, 0, 0]);
        ii.extend_from_slice(&eth(0x0800, &inner_syn()));
        let (i, p) = open(&eth(0x0800, &ipv4(47, &ii)));
        assert_eq!(i.kind, TunnelKind::Erspan);
        assert_syn(&p);
        let mut iii = vec![0x10, 0x00, 0x22, 0xEB, 0, 0, 0, 1];
        iii.extend_from_slice(&[0x20, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01]); // O set
        iii.extend_from_slice(&[0; 8]);
        iii.extend_from_slice(&eth(0x0800, &inner_syn()));
        assert_syn(&open(&eth(0x0800, &ipv4(47, &iii))).1);
    }

    #[test]
    fn vxlan_and_geneve() {
        let mut vx = vec![0x08, 0, 0, 0, 0, 0, 0x2a, 0];
        vx.extend_from_slice(&eth(0x0800, &inner_syn()));
        let frame = eth(0x0800, &ipv4(17, &udp(40000, VXLAN_PORT, &vx)));
        let (i, p) = open(&frame);
        assert_eq!(i.kind, TunnelKind::Vxlan);
        assert_syn(&p);
        // The outer packet is still UDP to 4789.
        assert_eq!(decode(LinkType::ETHERNET, &frame).class, ProtoClass::Udp);
        let mut gn = vec![0x01, 0x00, 0x65, 0x58, 0, 0, 0x2a, 0]; // one word of options
        gn.extend_from_slice(&[0, 0, 0, 0]);
        gn.extend_from_slice(&eth(0x0800, &inner_syn()));
        let (i, p) = open(&eth(0x0800, &ipv4(17, &udp(40000, GENEVE_PORT, &gn))));
        assert_eq!(i.kind, TunnelKind::Geneve);
        assert_syn(&p);
    }

    #[test]
    fn teredo_with_origin_indication_and_gtp_with_an_extension() {
        let mut te = vec![0x00, 0x00, 0, 0, 0, 0, 0, 0];
        te.extend_from_slice(&ipv6(6, &tcp(1234, 80, 0x02, &[], b"")));
        let (i, p) = open(&eth(0x0800, &ipv4(17, &udp(TEREDO_PORT, 50000, &te))));
        assert_eq!(i.kind, TunnelKind::Teredo);
        assert_syn(&p);
        let syn = inner_syn();
        let mut gtp = vec![0x34, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x85];
        gtp.extend_from_slice(&[1, 0x10, 0x05, 0x00]); // PDU session container, then none
        gtp.extend_from_slice(&syn);
        let (i, p) = open(&eth(0x0800, &ipv4(17, &udp(2152, GTP_U_PORT, &gtp))));
        assert_eq!(i.kind, TunnelKind::GtpU);
        assert_syn(&p);
    }

    #[test]
    fn garbage_behind_a_tunnel_port_is_not_a_tunnel() {
        for (port, payload) in [
            (VXLAN_PORT, &[0u8; 4][..]),
            (VXLAN_PORT, &[0x00; 30][..]),
            (GENEVE_PORT, &[0xC0; 30][..]),
            (TEREDO_PORT, &[0x45; 30][..]),
            (GTP_U_PORT, &[0x30, 0xFF, 0, 0, 0, 0, 0, 0, 0x45][..]),
            (
                GTP_U_PORT,
                &[0x34, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x85, 0][..],
            ),
        ] {
            let frame = eth(0x0800, &ipv4(17, &udp(40000, port, payload)));
            let outer = decode(LinkType::ETHERNET, &frame);
            assert_eq!(inner(&outer, &frame), None, "{port} {payload:?}");
        }
    }

    #[test]
    fn fragments_and_cut_frames_are_not_opened() {
        let frag = eth(0x0800, &Ipv4::new(4, &inner_syn()).frag(0, true).build());
        assert_eq!(inner(&decode(LinkType::ETHERNET, &frag), &frag), None);
        let mut vx = vec![0x08, 0, 0, 0, 0, 0, 0x2a, 0];
        vx.extend_from_slice(&[0; 6]);
        let frame = eth(0x0800, &ipv4(17, &udp(40000, VXLAN_PORT, &vx)));
        assert_eq!(inner(&decode(LinkType::ETHERNET, &frame), &frame), None);
    }
}
