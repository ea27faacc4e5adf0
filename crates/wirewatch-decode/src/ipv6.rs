//! IPv6 header and extension-header chain decoding.
//!
//! Owns the fixed IPv6 header, the bounded walk over extension headers (including the fragment
//! header) and the decision whether a transport header follows. It must not decode tunnelled
//! inner headers: 4in6, 6in6, GRE, ... stay their outer protocol.

use crate::packet::{DecodeErrorKind, Fragment, Network, Packet};
use crate::read::{be16_of, be32_of, chunk, cut, fail, to_u32};
use crate::transport;
use std::net::{IpAddr, Ipv6Addr};
use wirewatch_core::ProtoClass;

/// Length of the fixed IPv6 header.
pub(crate) const HEADER_LEN: usize = 40;

/// Extension headers walked before giving up. Real chains hold a handful; 16 leaves room for
/// odd but legal stacks while bounding the work an attacker can ask for.
pub const MAX_EXTENSION_HEADERS: usize = 16;

const HOP_BY_HOP: u8 = 0;
const ROUTING: u8 = 43;
const FRAGMENT: u8 = 44;
const AUTH_HEADER: u8 = 51;
const DEST_OPTIONS: u8 = 60;
const MOBILITY: u8 = 135;
const HIP: u8 = 139;
const SHIM6: u8 = 140;

/// Length of the fragment extension header.
const FRAGMENT_LEN: usize = 8;

/// Decodes the IPv6 header at `off` and walks its extension headers.
///
/// Whatever is captured, the frame counts as IPv6 (as the reference tool counts a frame handed
/// to its IPv6 dissector), classed by the protocol at the end of the extension-header chain as
/// far as it could be followed (`OtherIp` when the next-header field itself is not captured).
/// A version nibble other than 6 reports [`DecodeErrorKind::UnknownIpVersion`], keeps the
/// fixed fields and counts as `OtherIp` (no transport).
#[inline]
pub(crate) fn decode(p: &mut Packet, data: &[u8], off: usize) {
    let hdr = data.get(off..).unwrap_or(&[]);
    p.net_offset = to_u32(off);
    p.network = Network::Ipv6;
    p.class = ProtoClass::OtherIp;
    let Some(h) = hdr.first_chunk::<HEADER_LEN>() else {
        partial(p, hdr);
        return;
    };
    let first_next = h[6];
    p.ttl = h[7];
    p.src = IpAddr::V6(Ipv6Addr::from(addr(h, 8)));
    p.dst = IpAddr::V6(Ipv6Addr::from(addr(h, 24)));
    p.has_src = true;
    p.has_dst = true;
    p.ip_len = announced_len(be16_of(h[4], h[5]), hdr.len());
    p.ip_proto = first_next;
    if h[0] >> 4 != 6 {
        fail(p, DecodeErrorKind::UnknownIpVersion);
        return;
    }
    let datagram = cut(data, off.saturating_add(p.ip_len as usize));
    let walk = walk_extensions(p, datagram, off.saturating_add(HEADER_LEN), first_next);
    p.ip_proto = walk.next;
    p.class = ProtoClass::from_ip_proto(walk.next);
    let ip_payload = p
        .ip_len
        .saturating_sub(to_u32(walk.end.saturating_sub(off)));
    match walk.stop {
        Stop::Error => {}
        Stop::NonFirstFragment => transport::opaque(p, walk.end, ip_payload),
        Stop::Done => transport::decode(p, datagram, walk.end, ip_payload, walk.next),
    }
}

/// IPv6 announced datagram length: 40 + payload length, or the captured length from the
/// header start when the payload length is 0 (jumbogram or segmentation offload).
#[inline(always)]
fn announced_len(payload_len: u16, captured: usize) -> u32 {
    if payload_len == 0 {
        to_u32(captured)
    } else {
        HEADER_LEN as u32 + u32::from(payload_len)
    }
}

/// The 16-byte address at `at` (8 or 24) of the fixed header.
#[inline(always)]
fn addr(h: &[u8; HEADER_LEN], at: usize) -> [u8; 16] {
    let mut a = [0u8; 16];
    if let Some(src) = h.get(at..at + 16) {
        a.copy_from_slice(src);
    }
    a
}

/// How the extension-header walk ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// A non-extension protocol was reached: decode its header at `end`.
    Done,
    /// A fragment header with a non-zero offset: what follows is fragment data.
    NonFirstFragment,
    /// The chain is cut short or too long (already recorded on the packet).
    Error,
}

/// Result of the walk: the last next-header value known, where the walk stopped, and why.
struct Walk {
    next: u8,
    end: usize,
    stop: Stop,
}

/// Whether `next` names an extension header the walk steps over.
#[inline(always)]
fn is_extension(next: u8) -> bool {
    matches!(
        next,
        HOP_BY_HOP | ROUTING | FRAGMENT | AUTH_HEADER | DEST_OPTIONS | MOBILITY | HIP | SHIM6
    )
}

/// Steps over extension headers starting at `pos` (bounded by [`MAX_EXTENSION_HEADERS`]).
/// ESP (50), No Next Header (59) and every upper-layer protocol end the walk.
#[inline]
fn walk_extensions(p: &mut Packet, data: &[u8], mut pos: usize, mut next: u8) -> Walk {
    for _ in 0..MAX_EXTENSION_HEADERS {
        if !is_extension(next) {
            return Walk {
                next,
                end: pos,
                stop: Stop::Done,
            };
        }
        let Some(&[nh, len_field]) = chunk::<2>(data, pos) else {
            return cut_short(p, next, pos);
        };
        let len = match next {
            FRAGMENT => {
                let Some(f) = chunk::<FRAGMENT_LEN>(data, pos) else {
                    return cut_short(p, next, pos);
                };
                let off_flags = be16_of(f[2], f[3]);
                let frag = Fragment {
                    id: be32_of(f[4], f[5], f[6], f[7]),
                    offset: u32::from(off_flags >> 3) * 8,
                    more: off_flags & 1 != 0,
                };
                p.fragment = Some(frag);
                if !frag.is_first() {
                    return Walk {
                        next: nh,
                        end: pos.saturating_add(FRAGMENT_LEN),
                        stop: Stop::NonFirstFragment,
                    };
                }
                FRAGMENT_LEN
            }
            AUTH_HEADER => (usize::from(len_field) + 2) * 4,
            _ => (usize::from(len_field) + 1) * 8,
        };
        pos = pos.saturating_add(len);
        next = nh;
        if pos > data.len() {
            // The header's next-header byte was read, but the header itself is cut short.
            return cut_short(p, next, pos);
        }
    }
    if is_extension(next) {
        return cut_short(p, next, pos);
    }
    Walk {
        next,
        end: pos,
        stop: Stop::Done,
    }
}

/// Ends the walk on a chain cut short or too long; `next` is the last next-header known.
#[cold]
fn cut_short(p: &mut Packet, next: u8, pos: usize) -> Walk {
    fail(p, DecodeErrorKind::BadIpv6ExtensionHeader);
    Walk {
        next,
        end: pos,
        stop: Stop::Error,
    }
}

/// Handles a header shorter than 40 bytes: fills the fields that were captured and reports
/// the first problem met (a wrong version before the cut, else the cut).
#[cold]
fn partial(p: &mut Packet, hdr: &[u8]) {
    let mut h = [0u8; HEADER_LEN];
    for (dst, src) in h.iter_mut().zip(hdr) {
        *dst = *src;
    }
    let n = hdr.len();
    let bad_version = n >= 1 && h[0] >> 4 != 6;
    if n >= 6 {
        p.ip_len = announced_len(be16_of(h[4], h[5]), n);
    }
    if n >= 7 {
        p.ip_proto = h[6];
    }
    if n >= 8 {
        p.ttl = h[7];
    }
    if n >= 24 {
        p.src = IpAddr::V6(Ipv6Addr::from(addr(&h, 8)));
        p.has_src = true;
    }
    if bad_version {
        fail(p, DecodeErrorKind::UnknownIpVersion);
        return;
    }
    fail(p, DecodeErrorKind::TruncatedIpv6);
    if n >= 7 {
        // An extension header here cannot be followed: from_ip_proto makes it OtherIp.
        p.class = ProtoClass::from_ip_proto(h[6]);
    }
}

#[cfg(test)]
mod tests {
    use super::{AUTH_HEADER, DEST_OPTIONS, FRAGMENT, HIP, HOP_BY_HOP, MOBILITY, ROUTING, SHIM6};
    use crate::read::to_u32;
    use crate::testutil::*;
    use crate::*;
    use wirewatch_core::proto::tcp_flags;
    use wirewatch_core::{LinkType, ProtoClass};

    /// A generic extension header (hop-by-hop, routing, destination options, ...) of
    /// `8 * (units + 1)` bytes.
    fn ext(next: u8, units: u8) -> Vec<u8> {
        let mut h = vec![next, units];
        h.resize(8 * (usize::from(units) + 1), 0);
        h
    }

    fn frag_hdr(next: u8, offset_bytes: u16, more: bool, id: u32) -> Vec<u8> {
        let mut h = vec![next, 0];
        h.extend_from_slice(&(offset_bytes | u16::from(more)).to_be_bytes());
        h.extend_from_slice(&id.to_be_bytes());
        h
    }

    fn chain(headers: &[Vec<u8>], payload: &[u8]) -> Vec<u8> {
        let mut v: Vec<u8> = headers.concat();
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn fixed_header_fields() {
        let frame = eth(0x86dd, &ipv6(17, &udp(546, 547, b"dhcp6")));
        let p = decode(LinkType::ETHERNET, &frame);
        assert_eq!(p.error, None);
        assert_eq!(p.network, Network::Ipv6);
        assert_eq!(p.class, ProtoClass::Udp);
        assert_eq!(p.src, V6_SRC);
        assert_eq!(p.dst, V6_DST);
        assert_eq!(p.ttl, 64);
        assert_eq!(p.ip_len, 40 + 13);
        assert_eq!(p.fragment, None);
        assert_eq!(p.payload_offset, 14 + 48);
        assert_eq!(p.payload_len, 5);
    }

    #[test]
    fn full_extension_chain_then_first_fragment() {
        let seg = tcp(443, 50000, tcp_flags::ACK, &[], b"0123456789");
        let payload = chain(
            &[
                ext(ROUTING, 0),
                ext(FRAGMENT, 1),
                frag_hdr(DEST_OPTIONS, 0, true, 0xdead_beef),
                ext(6, 0),
            ],
            &seg,
        );
        let dgram = ipv6(HOP_BY_HOP, &payload);
        let p = decode(LinkType::IPV6, &dgram);
        assert_eq!(p.error, None);
        assert_eq!(p.ip_proto, 6);
        assert_eq!(p.class, ProtoClass::Tcp);
        assert_eq!(
            p.fragment,
            Some(Fragment {
                id: 0xdead_beef,
                offset: 0,
                more: true
            })
        );
        assert_eq!(p.ports(), Some((443, 50000)));
        let ext_len = 8 + 16 + 8 + 8;
        assert_eq!(p.payload_offset, 40 + ext_len + 20);
        assert_eq!(p.payload_len, 10);
        assert_eq!(p.ip_len, to_u32(dgram.len()));
    }

    #[test]
    fn non_first_fragment() {
        let payload = chain(&[frag_hdr(17, 1448, false, 42)], &[0x55; 100]);
        let p = decode(LinkType::IPV6, &ipv6(FRAGMENT, &payload));
        assert_eq!(p.error, None);
        assert_eq!(
            p.fragment,
            Some(Fragment {
                id: 42,
                offset: 1448,
                more: false
            })
        );
        assert_eq!(p.ip_proto, 17);
        assert_eq!(p.class, ProtoClass::Udp);
        assert_eq!(p.transport, Transport::None);
        assert_eq!(p.payload_offset, 48);
        assert_eq!(p.payload_len, 100);
    }

    #[test]
    fn authentication_header_length_is_in_4_byte_units() {
        // AH with payload len 4 → (4 + 2) * 4 = 24 bytes.
        let mut ah = vec![17, 4];
        ah.resize(24, 0);
        let payload = chain(&[ah], &udp(500, 500, b"ike"));
        let p = decode(LinkType::IPV6, &ipv6(AUTH_HEADER, &payload));
        assert_eq!(p.error, None);
        assert_eq!(p.ip_proto, 17);
        assert_eq!(p.ports(), Some((500, 500)));
        assert_eq!(p.payload_offset, 40 + 24 + 8);
        assert_eq!(p.payload_len, 3);
    }

    #[test]
    fn esp_and_no_next_header_end_the_walk() {
        for nh in [50u8, 59] {
            let payload = chain(&[ext(nh, 0)], &[0; 16]);
            let p = decode(LinkType::IPV6, &ipv6(DEST_OPTIONS, &payload));
            assert_eq!(p.error, None);
            assert_eq!(p.ip_proto, nh);
            assert_eq!(p.class, ProtoClass::OtherIp);
            assert_eq!(p.transport, Transport::None);
            assert_eq!(p.payload_offset, 48);
            assert_eq!(p.payload_len, 16);
        }
    }

    #[test]
    fn other_extension_kinds_are_walked() {
        for kind in [MOBILITY, HIP, SHIM6] {
            let payload = chain(&[ext(58, 1)], &[128, 0, 0, 0, 0, 1, 0, 1]);
            let p = decode(LinkType::IPV6, &ipv6(kind, &payload));
            assert_eq!(p.error, None, "kind {kind}");
            assert_eq!(p.ip_proto, 58);
            assert!(matches!(p.transport, Transport::Icmpv6(i) if i.echo == Some((1, 1))));
        }
    }

    #[test]
    fn chain_cut_short() {
        let payload = chain(&[ext(ROUTING, 0), ext(6, 1)], &tcp(1, 2, 0, &[], b""));
        let dgram = ipv6(HOP_BY_HOP, &payload);
        // Nothing of the hop-by-hop header captured: the last next-header known is 0.
        let p = decode(LinkType::IPV6, &dgram[..41]);
        assert_eq!(p.error, Some(DecodeErrorKind::BadIpv6ExtensionHeader));
        assert_eq!(p.ip_proto, HOP_BY_HOP);
        assert_eq!(p.class, ProtoClass::OtherIp);
        assert_eq!(p.network, Network::Ipv6);
        assert_eq!(p.src, V6_SRC);
        // Hop-by-hop's next header read, header itself cut: routing (43).
        let p = decode(LinkType::IPV6, &dgram[..44]);
        assert_eq!(p.error, Some(DecodeErrorKind::BadIpv6ExtensionHeader));
        assert_eq!(p.ip_proto, ROUTING);
        // Routing's next header (TCP) read, its body cut.
        let p = decode(LinkType::IPV6, &dgram[..60]);
        assert_eq!(p.error, Some(DecodeErrorKind::BadIpv6ExtensionHeader));
        assert_eq!(p.ip_proto, 6);
        assert_eq!(p.class, ProtoClass::Tcp);
        assert_eq!(p.transport, Transport::None);
        // Chain complete, TCP cut.
        let p = decode(LinkType::IPV6, &dgram[..72]);
        assert_eq!(p.error, Some(DecodeErrorKind::TruncatedTcp));
        assert_eq!(p.ip_proto, 6);
        // Fragment header cut short.
        let payload = chain(&[frag_hdr(17, 0, true, 1)], &udp(1, 2, b""));
        let dgram = ipv6(FRAGMENT, &payload);
        let p = decode(LinkType::IPV6, &dgram[..45]);
        assert_eq!(p.error, Some(DecodeErrorKind::BadIpv6ExtensionHeader));
        assert_eq!(p.ip_proto, FRAGMENT);
        assert_eq!(p.fragment, None);
    }

    #[test]
    fn chain_ending_inside_payload_length_is_cut_short() {
        // The payload length ends the datagram inside the routing header.
        let payload = chain(&[ext(ROUTING, 0), ext(6, 1)], &tcp(1, 2, 0, &[], b""));
        let mut dgram = ipv6(HOP_BY_HOP, &payload);
        dgram[4..6].copy_from_slice(&12u16.to_be_bytes());
        let p = decode(LinkType::IPV6, &dgram);
        assert_eq!(p.error, Some(DecodeErrorKind::BadIpv6ExtensionHeader));
        assert_eq!(p.ip_proto, 6);
        assert_eq!(p.ip_len, 52);
    }

    #[test]
    fn chain_too_long() {
        let headers: Vec<Vec<u8>> = (0..MAX_EXTENSION_HEADERS)
            .map(|_| ext(DEST_OPTIONS, 0))
            .collect();
        let dgram = ipv6(DEST_OPTIONS, &chain(&headers, &udp(1, 2, b"")));
        let p = decode(LinkType::IPV6, &dgram);
        assert_eq!(p.error, Some(DecodeErrorKind::BadIpv6ExtensionHeader));
        assert_eq!(p.ip_proto, DEST_OPTIONS);
        assert_eq!(p.transport, Transport::None);
        // One fewer fits the bound.
        let mut headers = headers;
        headers.pop();
        if let Some(last) = headers.last_mut() {
            last[0] = 17;
        }
        let dgram = ipv6(DEST_OPTIONS, &chain(&headers, &udp(1, 2, b"")));
        let p = decode(LinkType::IPV6, &dgram);
        assert_eq!(p.error, None);
        assert_eq!(p.ports(), Some((1, 2)));
    }

    #[test]
    fn jumbo_or_tso_payload_length_zero() {
        let mut dgram = ipv6(6, &tcp(1, 2, tcp_flags::ACK, &[], &[1; 2000]));
        dgram[4..6].copy_from_slice(&[0, 0]);
        let p = decode(LinkType::IPV6, &dgram);
        assert_eq!(p.error, None);
        assert_eq!(p.ip_len, 2060);
        assert_eq!(p.payload_len, 2000);
    }

    #[test]
    fn short_fixed_header_counts_as_ipv6() {
        let dgram = ipv6(17, &udp(1, 2, b""));
        for cut in 0..40 {
            let p = decode(LinkType::IPV6, &dgram[..cut]);
            assert_eq!(p.error, Some(DecodeErrorKind::TruncatedIpv6), "cut {cut}");
            assert_eq!(p.network, Network::Ipv6);
            assert_eq!(p.transport, Transport::None);
            if cut >= 7 {
                assert_eq!(p.ip_proto, 17);
                assert_eq!(p.class, ProtoClass::Udp);
            } else {
                assert_eq!(p.class, ProtoClass::OtherIp);
            }
            if cut >= 24 {
                assert_eq!(p.src, V6_SRC);
            }
            assert!(p.dst.is_unspecified());
        }
        // Next header is an extension header that is not captured: other.
        let p = decode(LinkType::IPV6, &ipv6(0, &[0; 8])[..30]);
        assert_eq!(p.class, ProtoClass::OtherIp);
        assert_eq!(p.ip_proto, 0);
        // Wrong version before the cut.
        let mut dgram = dgram;
        dgram[0] = 0x70;
        let p = decode(LinkType::IPV6, &dgram[..10]);
        assert_eq!(p.error, Some(DecodeErrorKind::UnknownIpVersion));
        assert_eq!(p.class, ProtoClass::OtherIp);
    }

    #[test]
    fn wrong_version_keeps_the_fixed_fields() {
        let mut dgram = ipv6(17, &udp(1, 2, b""));
        dgram[0] = 0x40;
        let p = decode(LinkType::IPV6, &dgram);
        assert_eq!(p.error, Some(DecodeErrorKind::UnknownIpVersion));
        assert_eq!(p.network, Network::Ipv6);
        assert_eq!(p.class, ProtoClass::OtherIp);
        assert_eq!(p.ip_proto, 17);
        assert_eq!(p.src, V6_SRC);
        assert_eq!(p.transport, Transport::None);
    }

    #[test]
    fn tunnels_are_their_outer_protocol() {
        let inner = ipv6(17, &udp(1, 2, b""));
        for proto in [4u8, 41, 47] {
            let p = decode(LinkType::IPV6, &ipv6(proto, &inner));
            assert_eq!(p.error, None);
            assert_eq!(p.class, ProtoClass::OtherIp);
            assert_eq!(p.ip_proto, proto);
        }
    }
}
