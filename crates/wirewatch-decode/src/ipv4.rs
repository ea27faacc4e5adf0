//! IPv4 header decoding.
//!
//! Owns the IPv4 header: addresses, protocol, TTL, announced length, fragmentation fields, and
//! the decision whether a transport header follows (unfragmented datagrams and first fragments
//! only). It must not decode tunnelled inner headers: IP-in-IP, GRE, ... stay their outer
//! protocol.

use crate::packet::{DecodeErrorKind, Fragment, Network, Packet};
use crate::read::{be16_of, cut, fail, to_u32};
use crate::transport;
use std::net::{IpAddr, Ipv4Addr};
use wirewatch_core::ProtoClass;

/// Length of the fixed IPv4 header (IHL 5).
pub(crate) const MIN_HEADER: usize = 20;

/// More-fragments flag in the flags/offset field.
const FLAG_MF: u16 = 0x2000;
/// Fragment offset bits (in units of 8 bytes) in the flags/offset field.
const OFFSET_MASK: u16 = 0x1fff;

/// Decodes the IPv4 header at `off`.
///
/// Whatever is captured, the frame counts as IPv4 (that is what the reference tool counts for a
/// frame handed to its IPv4 dissector). Its class comes from the protocol field once that field
/// is captured in a valid header; a header that is invalid (version not 4, IHL below 5, total
/// length inside the header) or cut before the protocol field counts as `OtherIp`. A header
/// cut short keeps the fields that were captured.
#[inline]
pub(crate) fn decode(p: &mut Packet, data: &[u8], off: usize) {
    let hdr = data.get(off..).unwrap_or(&[]);
    p.net_offset = to_u32(off);
    p.network = Network::Ipv4;
    p.class = ProtoClass::OtherIp;
    let Some(h) = hdr.first_chunk::<MIN_HEADER>() else {
        partial(p, hdr);
        return;
    };
    let ihl = usize::from(h[0] & 0x0f) * 4;
    let total_len = be16_of(h[2], h[3]);
    let ip_proto = h[9];
    p.ip_proto = ip_proto;
    p.ttl = h[8];
    p.src = IpAddr::V4(Ipv4Addr::new(h[12], h[13], h[14], h[15]));
    p.dst = IpAddr::V4(Ipv4Addr::new(h[16], h[17], h[18], h[19]));
    p.has_src = true;
    p.has_dst = true;
    p.ip_len = announced_len(total_len, hdr.len());
    if is_bad(h[0], total_len) {
        fail(p, DecodeErrorKind::BadIpv4Header);
        return;
    }
    p.class = ProtoClass::from_ip_proto(ip_proto);
    p.fragment = fragment(be16_of(h[4], h[5]), be16_of(h[6], h[7]));
    if hdr.len() < ihl {
        // Options cut short.
        fail(p, DecodeErrorKind::TruncatedIpv4);
        return;
    }
    let payload_off = off.saturating_add(ihl);
    let ip_payload = p.ip_len.saturating_sub(to_u32(ihl));
    if p.fragment.is_some_and(|f| !f.is_first()) {
        transport::opaque(p, payload_off, ip_payload);
        return;
    }
    let datagram = cut(data, off.saturating_add(p.ip_len as usize));
    transport::decode(p, datagram, payload_off, ip_payload, ip_proto);
}

/// Whether the header is invalid: version not 4, IHL below 5, or a (non-zero) total length
/// that ends inside the header.
#[inline(always)]
fn is_bad(ver_ihl: u8, total_len: u16) -> bool {
    let ihl = u16::from(ver_ihl & 0x0f) * 4;
    ver_ihl >> 4 != 4 || ihl < MIN_HEADER as u16 || (total_len != 0 && total_len < ihl)
}

/// IPv4 total length, or the captured length from the header start when the field is 0 (TCP
/// segmentation offload hands the capture a datagram whose length is filled in later).
#[inline(always)]
fn announced_len(total_len: u16, captured: usize) -> u32 {
    if total_len == 0 {
        to_u32(captured)
    } else {
        u32::from(total_len)
    }
}

/// The fragment fields when the datagram is a fragment (MF set or a non-zero offset).
#[inline(always)]
fn fragment(id: u16, flags_offset: u16) -> Option<Fragment> {
    let more = flags_offset & FLAG_MF != 0;
    let offset = u32::from(flags_offset & OFFSET_MASK) * 8;
    (more || offset != 0).then_some(Fragment {
        id: u32::from(id),
        offset,
        more,
    })
}

/// Handles a header shorter than 20 bytes: fills the fields that were captured and reports
/// the first problem met (an invalid version/IHL/length before the cut, else the cut).
#[cold]
fn partial(p: &mut Packet, hdr: &[u8]) {
    let mut h = [0u8; MIN_HEADER];
    for (dst, src) in h.iter_mut().zip(hdr) {
        *dst = *src;
    }
    let n = hdr.len();
    let total_len = if n >= 4 { be16_of(h[2], h[3]) } else { 0 };
    let bad = n >= 1 && is_bad(h[0], total_len);
    if n >= 4 {
        p.ip_len = announced_len(total_len, n);
    }
    if n >= 9 {
        p.ttl = h[8];
    }
    if n >= 10 {
        p.ip_proto = h[9];
    }
    if n >= 16 {
        p.src = IpAddr::V4(Ipv4Addr::new(h[12], h[13], h[14], h[15]));
        p.has_src = true;
    }
    if bad {
        fail(p, DecodeErrorKind::BadIpv4Header);
        return;
    }
    fail(p, DecodeErrorKind::TruncatedIpv4);
    if n >= 8 {
        p.fragment = fragment(be16_of(h[4], h[5]), be16_of(h[6], h[7]));
    }
    if n >= 10 {
        p.class = ProtoClass::from_ip_proto(h[9]);
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use crate::*;
    use wirewatch_core::proto::tcp_flags;
    use wirewatch_core::{LinkType, ProtoClass};

    #[test]
    fn plain_header_fields() {
        let dgram = ipv4(6, &tcp(1, 2, tcp_flags::ACK, &[], b"abc"));
        let p = decode(LinkType::IPV4, &dgram);
        assert_eq!(p.error, None);
        assert_eq!(p.network, Network::Ipv4);
        assert!(p.is_ip());
        assert_eq!(p.src, V4_SRC);
        assert_eq!(p.dst, V4_DST);
        assert_eq!(p.ip_proto, 6);
        assert_eq!(p.ttl, 64);
        assert_eq!(p.ip_len, 43);
        assert_eq!(p.fragment, None);
        assert_eq!(p.payload_offset, 40);
        assert_eq!(p.payload_len, 3);
    }

    #[test]
    fn options_are_skipped_by_ihl() {
        // Router alert (4 bytes) + NOP padding to 8 bytes of options: IHL 7.
        let opts = [0x94, 0x04, 0, 0, 1, 1, 1, 0];
        let dgram = Ipv4::new(17, &udp(68, 67, b"dhcp")).options(&opts).build();
        assert_eq!(dgram[0], 0x47);
        let p = decode(LinkType::IPV4, &dgram);
        assert_eq!(p.error, None);
        assert_eq!(p.ports(), Some((68, 67)));
        assert_eq!(p.payload_offset, 28 + 8);
        assert_eq!(p.payload_len, 4);
        assert_eq!(p.ip_len, 28 + 12);
        // Options cut short: IP with its class, no transport.
        let p = decode(LinkType::IPV4, &dgram[..24]);
        assert_eq!(p.error, Some(DecodeErrorKind::TruncatedIpv4));
        assert_eq!(p.network, Network::Ipv4);
        assert_eq!(p.class, ProtoClass::Udp);
        assert_eq!(p.transport, Transport::None);
    }

    #[test]
    fn first_fragment_has_transport() {
        let dgram = Ipv4::new(17, &udp(5000, 53, &[1; 32]))
            .id(0xbeef)
            .frag(0, true)
            .build();
        let p = decode(LinkType::IPV4, &dgram);
        assert_eq!(p.error, None);
        assert_eq!(
            p.fragment,
            Some(Fragment {
                id: 0xbeef,
                offset: 0,
                more: true
            })
        );
        assert!(p.fragment.unwrap().is_first());
        assert_eq!(p.ports(), Some((5000, 53)));
        assert_eq!(p.payload_len, 32);
    }

    #[test]
    fn non_first_fragment_has_no_transport() {
        for more in [true, false] {
            let dgram = Ipv4::new(6, &[0xaa; 24]).id(7).frag(185, more).build();
            let p = decode(LinkType::IPV4, &dgram);
            assert_eq!(p.error, None);
            assert_eq!(
                p.fragment,
                Some(Fragment {
                    id: 7,
                    offset: 1480,
                    more
                })
            );
            assert_eq!(p.class, ProtoClass::Tcp);
            assert_eq!(p.ip_proto, 6);
            assert_eq!(p.transport, Transport::None);
            // The fragment's bytes are all transport payload.
            assert_eq!(p.payload_offset, 20);
            assert_eq!(p.payload_len, 24);
        }
    }

    #[test]
    fn tso_total_length_zero_uses_the_captured_length() {
        let dgram = Ipv4::new(6, &tcp(1, 2, tcp_flags::ACK, &[], &[0; 3000]))
            .total_len(0)
            .build();
        let frame = eth(0x0800, &dgram);
        let p = decode(LinkType::ETHERNET, &frame);
        assert_eq!(p.error, None);
        assert_eq!(p.ip_len, 3040);
        assert_eq!(p.payload_len, 3000);
    }

    #[test]
    fn bad_headers_count_as_ipv4_other() {
        // IHL 4.
        let mut dgram = Ipv4::new(17, &udp(1, 2, b"")).frag(3, true).build();
        dgram[0] = 0x44;
        let p = decode(LinkType::IPV4, &dgram);
        assert_eq!(p.error, Some(DecodeErrorKind::BadIpv4Header));
        assert_eq!(p.network, Network::Ipv4);
        assert_eq!(p.class, ProtoClass::OtherIp);
        assert_eq!(p.ip_proto, 17);
        assert_eq!(p.ttl, 64);
        assert_eq!((p.src, p.dst), (V4_SRC, V4_DST));
        assert_eq!(p.fragment, None);
        assert_eq!(p.transport, Transport::None);
        // Version 5 on an IPv4 link.
        dgram[0] = 0x55;
        let p = decode(LinkType::IPV4, &dgram);
        assert_eq!(p.error, Some(DecodeErrorKind::BadIpv4Header));
        assert_eq!(p.class, ProtoClass::OtherIp);
        // Total length inside the header.
        let mut dgram = ipv4(17, &udp(1, 2, b""));
        dgram[2..4].copy_from_slice(&12u16.to_be_bytes());
        let p = decode(LinkType::IPV4, &dgram);
        assert_eq!(p.error, Some(DecodeErrorKind::BadIpv4Header));
        assert_eq!(p.class, ProtoClass::OtherIp);
        assert_eq!(p.ip_len, 12);
        assert_eq!(p.transport, Transport::None);
        // Bad and cut short: the bad header is the first problem met.
        let p = decode(LinkType::IPV4, &dgram[..12]);
        assert_eq!(p.error, Some(DecodeErrorKind::BadIpv4Header));
        assert_eq!(p.class, ProtoClass::OtherIp);
    }

    #[test]
    fn short_fixed_header_counts_as_ipv4() {
        let dgram = Ipv4::new(6, &[]).id(9).ttl(33).frag(2, false).build();
        for cut in 0..20 {
            let p = decode(LinkType::IPV4, &dgram[..cut]);
            assert_eq!(p.error, Some(DecodeErrorKind::TruncatedIpv4), "cut {cut}");
            assert_eq!(p.network, Network::Ipv4);
            assert!(p.is_ip());
            assert_eq!(p.transport, Transport::None);
            if cut >= 4 {
                assert_eq!(p.ip_len, 20);
            }
            if cut >= 8 {
                assert_eq!(
                    p.fragment,
                    Some(Fragment {
                        id: 9,
                        offset: 16,
                        more: false
                    })
                );
            }
            if cut >= 9 {
                assert_eq!(p.ttl, 33);
            }
            if cut >= 10 {
                assert_eq!(p.ip_proto, 6);
                assert_eq!(p.class, ProtoClass::Tcp);
            } else {
                assert_eq!(p.class, ProtoClass::OtherIp);
            }
            if cut >= 16 {
                assert_eq!(p.src, V4_SRC);
            }
            assert!(p.dst.is_unspecified());
        }
        // Exactly the fixed header of an unfragmented datagram: no transport header captured.
        let dgram = Ipv4::new(6, &[]).build();
        let p = decode(LinkType::IPV4, &dgram);
        assert_eq!(p.class, ProtoClass::Tcp);
        assert_eq!(p.error, Some(DecodeErrorKind::TruncatedTcp));
    }

    #[test]
    fn tunnels_are_their_outer_protocol() {
        let inner = ipv4(6, &tcp(1, 2, tcp_flags::SYN, &[], b""));
        for proto in [4u8, 41, 47, 50] {
            let p = decode(LinkType::IPV4, &ipv4(proto, &inner));
            assert_eq!(p.error, None);
            assert_eq!(p.class, ProtoClass::OtherIp);
            assert_eq!(p.ip_proto, proto);
            assert_eq!(p.transport, Transport::None);
            assert_eq!(p.payload_offset, 20);
            assert_eq!(p.payload_len, 40);
        }
        // VXLAN: stays UDP.
        let vxlan = udp(55555, 4789, &eth(0x0800, &inner));
        let p = decode(LinkType::IPV4, &ipv4(17, &vxlan));
        assert_eq!(p.class, ProtoClass::Udp);
        assert_eq!(p.ports(), Some((55555, 4789)));
    }
}
