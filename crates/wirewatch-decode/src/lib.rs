//! Pure decoders: link, network and transport layers, and application payloads.
//!
//! Owns turning a captured frame's bytes into a [`Packet`] summary ([`decode`]) and the
//! application-layer parsers the flow table runs on payloads ([`app`]: DNS, HTTP/1.x, TLS
//! hellos, QUIC Initials, gQUIC, SSH banners). [`decode`] is a pure function over a byte slice:
//! no allocation, no panics on any input. A frame that is cut short or malformed still yields
//! everything that parsed, plus the [`DecodeErrorKind`] that says why decoding stopped. Loops
//! over packet data have fixed bounds; the application parsers allocate only what they return
//! (names, a QUIC client's decrypted Initials), within named caps.
//!
//! One private module per layer: `link` (link types other than Ethernet), `ethernet` (with its
//! VLAN/MPLS/PPPoE encapsulations), `wifi` (802.11, radiotap, PPI), `arp`, `ipv4`, `ipv6` (with its extension headers),
//! `transport` (dispatch), `tcp`, `udp` and `icmp` (ICMP and ICMPv6). [`decode`] classes a
//! tunnelled packet by its outer protocol; [`tunnel`] says where its inner frame starts (IP-in-IP,
//! GRE, ERSPAN, VXLAN, Geneve, Teredo, GTP-U) and decodes it, for the caller to open.
//!
//! Must not: do I/O, log or read the clock (its `clippy.toml` refuses the clocks); keep hidden
//! state (what spans packets, such as a QUIC client's Initials, is a value the caller owns);
//! read capture files (that is `wirewatch-capture`'s job); depend on any Wirewatch crate but
//! `wirewatch-core`.

pub mod app;
pub mod packet;
pub mod tunnel;

mod arp;
mod ethernet;
mod icmp;
mod ipv4;
mod ipv6;
mod link;
mod read;
mod tcp;
mod transport;
mod udp;
mod wifi;

#[cfg(test)]
mod props;
#[cfg(test)]
mod testutil;

pub use ethernet::{MAX_MPLS_LABELS, MAX_VLAN_WALK};
pub use ipv6::MAX_EXTENSION_HEADERS;
pub use link::MAX_NFLOG_TLVS;
pub use packet::{
    ArpInfo, DecodeErrorKind, Fragment, IcmpInfo, MAX_VLAN_TAGS, Network, Packet, TcpInfo,
    TcpOptions, Transport, UdpInfo,
};

use wirewatch_core::LinkType;

/// Every link type [`decode`] understands; any other yields
/// [`DecodeErrorKind::UnsupportedLinkType`].
pub const SUPPORTED_LINK_TYPES: [LinkType; 16] = [
    LinkType::NULL,
    LinkType::ETHERNET,
    LinkType::PPP,
    LinkType::RAW_OPENBSD,
    LinkType::RAW_BSD,
    LinkType::RAW,
    LinkType::C_HDLC,
    LinkType::LOOP,
    LinkType::LINUX_SLL,
    LinkType::IPV4,
    LinkType::IPV6,
    LinkType::NFLOG,
    LinkType::LINUX_SLL2,
    LinkType::IEEE802_11,
    LinkType::IEEE802_11_RADIOTAP,
    LinkType::PPI,
];

/// Whether [`decode`] understands `linktype`.
pub fn is_supported(linktype: LinkType) -> bool {
    SUPPORTED_LINK_TYPES.contains(&linktype)
}

/// Decodes one frame of the given link type.
///
/// Never panics and never allocates. Everything that parsed is kept; `error` holds the first
/// problem met. IP frames are classed by the protocol of the outermost IP header (after the
/// IPv6 extension headers) as soon as its fixed part is captured; a transport header is decoded
/// for unfragmented datagrams and first fragments only.
pub fn decode(linktype: LinkType, data: &[u8]) -> Packet {
    let mut p = Packet::default();
    match linktype {
        LinkType::ETHERNET => ethernet::decode(&mut p, data),
        LinkType::LINUX_SLL => link::sll(&mut p, data),
        LinkType::LINUX_SLL2 => link::sll2(&mut p, data),
        LinkType::RAW | LinkType::RAW_OPENBSD | LinkType::RAW_BSD => link::raw(&mut p, data, 0),
        LinkType::IPV4 => ipv4::decode(&mut p, data, 0),
        LinkType::IPV6 => ipv6::decode(&mut p, data, 0),
        LinkType::NULL | LinkType::LOOP => link::null(&mut p, data),
        LinkType::PPP => link::ppp(&mut p, data),
        LinkType::C_HDLC => link::c_hdlc(&mut p, data),
        LinkType::NFLOG => link::nflog(&mut p, data),
        LinkType::IEEE802_11 => wifi::ieee80211(&mut p, data, 0),
        LinkType::IEEE802_11_RADIOTAP => wifi::radiotap(&mut p, data),
        LinkType::PPI => wifi::ppi(&mut p, data),
        _ => p.error = Some(DecodeErrorKind::UnsupportedLinkType),
    }
    p
}

/// Link types a fuzz input's first byte selects from: every supported one, plus one that is
/// not (`LINKTYPE_USER0`) so the unsupported path is exercised too.
const FUZZ_LINK_TYPES: [LinkType; SUPPORTED_LINK_TYPES.len() + 1] = {
    let mut all = [LinkType(147); SUPPORTED_LINK_TYPES.len() + 1];
    let mut i = 0;
    while i < SUPPORTED_LINK_TYPES.len() {
        all[i] = SUPPORTED_LINK_TYPES[i];
        i += 1;
    }
    all
};

/// Splits a fuzz input into a link type (chosen by the first byte) and the frame bytes (the
/// rest). An empty input selects Ethernet with an empty frame.
pub fn fuzz_input(data: &[u8]) -> (LinkType, &[u8]) {
    match data.split_first() {
        Some((&selector, frame)) => {
            let index = usize::from(selector) % FUZZ_LINK_TYPES.len();
            let linktype = FUZZ_LINK_TYPES
                .get(index)
                .copied()
                .unwrap_or(LinkType::ETHERNET);
            (linktype, frame)
        }
        None => (LinkType::ETHERNET, data),
    }
}

/// Fuzz entry point: decodes `data` as split by [`fuzz_input`], then opens the tunnels it
/// carries (three deep, as the engine does). A plain function so that a cargo-fuzz target and
/// the stable property tests run the same code.
pub fn fuzz_decode(data: &[u8]) {
    let (linktype, frame) = fuzz_input(data);
    std::hint::black_box(open_tunnels_checked(decode(linktype, frame), frame));
}

/// Fuzz entry point for the tunnel decoders: `data[0]` picks an outer encapsulation (IP-in-IP,
/// 6in4, GRE, VXLAN, Geneve, Teredo, GTP-U over IPv4, or IP-in-IP/GRE over IPv6) and the rest is
/// its body, wrapped in valid outer IP (and UDP) headers, so that every input reaches a tunnel
/// parser instead of stopping at the outer headers; then the tunnels are opened three deep as
/// the engine does. Returns how many tunnels were opened.
pub fn fuzz_tunnel(data: &[u8]) -> usize {
    let Some((&selector, body)) = data.split_first() else {
        return 0;
    };
    let body = &body[..body.len().min(60_000)];
    let (v6, proto, udp_port) = match selector % 10 {
        0 => (false, 4, None),
        1 => (false, 41, None),
        2 => (false, 47, None),
        3 => (false, 17, Some(4789u16)),
        4 => (false, 17, Some(6081)),
        5 => (false, 17, Some(3544)),
        6 => (false, 17, Some(2152)),
        7 => (true, 4, None),
        8 => (true, 41, None),
        _ => (true, 47, None),
    };
    let mut l4 = Vec::with_capacity(body.len() + 8);
    if let Some(port) = udp_port {
        let len = u16::try_from(body.len() + 8).unwrap_or(u16::MAX);
        l4.extend_from_slice(&40_000u16.to_be_bytes());
        l4.extend_from_slice(&port.to_be_bytes());
        l4.extend_from_slice(&len.to_be_bytes());
        l4.extend_from_slice(&[0, 0]);
    }
    l4.extend_from_slice(body);
    let len = u16::try_from(l4.len()).unwrap_or(u16::MAX);
    let mut frame = if v6 {
        let mut h = vec![0x60, 0, 0, 0];
        h.extend_from_slice(&len.to_be_bytes());
        h.extend_from_slice(&[proto, 64]);
        h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        h
    } else {
        let mut h = vec![0x45, 0];
        h.extend_from_slice(&len.saturating_add(20).to_be_bytes());
        h.extend_from_slice(&[0, 1, 0, 0, 64, proto, 0, 0, 192, 0, 2, 1, 198, 51, 100, 2]);
        h
    };
    frame.extend_from_slice(&l4);
    open_tunnels_checked(decode(LinkType::RAW, &frame), &frame)
}

/// Opens the tunnels `p` (decoded from `frame`) carries, three deep, checking that each inner
/// payload lies within the bytes it came from; returns how many were opened.
fn open_tunnels_checked(mut p: Packet, frame: &[u8]) -> usize {
    let mut bytes = frame;
    let mut depth = 0;
    for _ in 0..3 {
        let Some(found) = tunnel::inner(&p, bytes) else {
            break;
        };
        let inner = tunnel::decode_inner(&found, bytes);
        let Some(rest) = bytes.get(found.offset..) else {
            break;
        };
        assert!(inner.payload(rest).len() <= rest.len());
        p = inner;
        bytes = rest;
        depth += 1;
    }
    std::hint::black_box(p);
    depth
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirewatch_core::ProtoClass;

    /// The tunnel fuzz entry reaches the tunnel parsers: a valid body behind each selector is
    /// opened (an IPv4 packet inside IP-in-IP, GRE, VXLAN, Geneve, GTP-U; IPv6 inside 6in4 and
    /// Teredo), twice when the inner packet is a tunnel again.
    #[test]
    fn fuzz_tunnel_opens_every_kind() {
        let v4 = |proto: u8, body: &[u8]| {
            let mut h = vec![
                0x45,
                0,
                0,
                20 + body.len() as u8,
                0,
                1,
                0,
                0,
                64,
                proto,
                0,
                0,
            ];
            h.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
            h.extend_from_slice(body);
            h
        };
        let v6 = |next: u8, body: &[u8]| {
            let mut h = vec![0x60, 0, 0, 0, 0, body.len() as u8, next, 64];
            h.extend_from_slice(&[0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]);
            h.extend_from_slice(&[0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8]);
            h.extend_from_slice(body);
            h
        };
        let udp = [0x30, 0x39, 0, 53, 0, 8, 0, 0];
        let inner4 = v4(17, &udp);
        let mut ether = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00];
        ether.extend_from_slice(&inner4);
        let with = |selector: u8, head: &[u8], tail: &[u8]| {
            let mut d = vec![selector];
            d.extend_from_slice(head);
            d.extend_from_slice(tail);
            d
        };
        let gtp_len = (inner4.len() as u16).to_be_bytes();
        let cases = [
            with(0, &[], &inner4),
            with(1, &[], &v6(17, &udp)),
            with(2, &[0, 0, 0x08, 0x00], &inner4),
            with(3, &[0x08, 0, 0, 0, 0, 0, 42, 0], &ether),
            with(4, &[0, 0, 0x65, 0x58, 0, 0, 42, 0], &ether),
            with(5, &[], &v6(17, &udp)),
            with(
                6,
                &[0x30, 0xff, gtp_len[0], gtp_len[1], 0, 0, 0, 1],
                &inner4,
            ),
            with(7, &[], &inner4),
            with(8, &[], &v6(17, &udp)),
            with(9, &[0, 0, 0x08, 0x00], &inner4),
        ];
        for (i, case) in cases.iter().enumerate() {
            assert_eq!(fuzz_tunnel(case), 1, "selector {i}");
        }
        // IP-in-IP inside GRE: two deep.
        assert_eq!(
            fuzz_tunnel(&with(2, &[0, 0, 0x08, 0x00], &v4(4, &inner4))),
            2
        );
    }

    #[test]
    fn unsupported_link_type() {
        for lt in [LinkType(147), LinkType(126), LinkType(u32::MAX)] {
            let p = decode(lt, &[0x45; 64]);
            assert_eq!(p.error, Some(DecodeErrorKind::UnsupportedLinkType));
            assert_eq!(p.class, ProtoClass::NonIp);
            assert_eq!(p.network, Network::None);
            assert!(!is_supported(lt));
        }
        assert!(SUPPORTED_LINK_TYPES.iter().all(|lt| is_supported(*lt)));
    }

    #[test]
    fn empty_frames_are_errors_on_every_link_type() {
        for lt in SUPPORTED_LINK_TYPES {
            let p = decode(lt, &[]);
            assert!(p.error.is_some(), "{lt:?}");
            assert_ne!(p.error, Some(DecodeErrorKind::UnsupportedLinkType));
            assert_eq!(p.transport, Transport::None);
            // Only the IP-only link types know the frame is IP without reading a byte.
            let expected = match lt {
                LinkType::IPV4 | LinkType::IPV6 => ProtoClass::OtherIp,
                _ => ProtoClass::NonIp,
            };
            assert_eq!(p.class, expected, "{lt:?}");
        }
    }

    #[test]
    fn net_offset_points_at_the_ip_header() {
        use crate::testutil::*;
        let dgram = ipv4(17, &udp(1, 2, b"x"));
        let p = decode(LinkType::IPV4, &dgram);
        assert_eq!(p.net_offset, 0);
        assert_eq!(p.ip_bytes(&dgram), dgram.as_slice());
        let frame = eth(0x0800, &dgram);
        let p = decode(LinkType::ETHERNET, &frame);
        assert_eq!(p.net_offset, 14);
        assert_eq!(p.ip_bytes(&frame), dgram.as_slice());
        let dgram6 = ipv6(17, &udp(1, 2, b"x"));
        let frame = eth(0x86dd, &dgram6);
        let p = decode(LinkType::ETHERNET, &frame);
        assert_eq!(p.net_offset, 14);
        assert_eq!(p.ip_bytes(&frame), dgram6.as_slice());
        // Not IP: no bytes.
        let arp = eth(0x0806, &[0; 28]);
        assert!(decode(LinkType::ETHERNET, &arp).ip_bytes(&arp).is_empty());
    }

    #[test]
    fn fuzz_input_covers_every_link_type() {
        let mut seen: Vec<LinkType> = (0..=255u8).map(|b| fuzz_input(&[b, 1, 2]).0).collect();
        seen.sort_by_key(|lt| lt.0);
        seen.dedup();
        assert_eq!(seen.len(), SUPPORTED_LINK_TYPES.len() + 1);
        assert!(seen.contains(&LinkType(147)));
        assert_eq!(fuzz_input(&[1, 9, 8]), (LinkType::ETHERNET, &[9u8, 8][..]));
        assert_eq!(fuzz_input(&[]), (LinkType::ETHERNET, &[][..]));
        fuzz_decode(&[]);
    }
}
