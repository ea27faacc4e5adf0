//! Link-layer headers other than Ethernet: loopback, raw IP, Linux cooked captures, PPP,
//! Cisco HDLC and NFLOG.
//!
//! Owns finding where the network layer starts for each of these link types and which decoder
//! gets it. It must not decode the network layer itself; Ethernet-style EtherType dispatch is
//! delegated to [`crate::ethernet`].

use crate::packet::{DecodeErrorKind, Network, Packet};
use crate::read::{be16, be16_of, chunk, cut, fail, u8_at};
use crate::{ethernet, ipv4, ipv6};

/// Length of the BSD loopback header (the address family).
const NULL_LEN: usize = 4;
/// `AF_INET` on every BSD.
const AF_INET: u32 = 2;
/// `AF_INET6` on NetBSD/OpenBSD (24), FreeBSD/DragonFly (28) and Darwin (30).
const AF_INET6: [u32; 3] = [24, 28, 30];

/// Length of the Linux cooked v1 header.
const SLL_LEN: usize = 16;
/// Length of the Linux cooked v2 header.
const SLL2_LEN: usize = 20;
/// `ARPHRD_NETLINK`: the protocol field holds a netlink family, not an EtherType.
const ARPHRD_NETLINK: u16 = 824;

/// PPP protocol numbers.
const PPP_IPV4: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;
const PPP_MPLS: u16 = 0x0281;
const PPP_MPLS_MULTICAST: u16 = 0x0283;

/// Length of the Cisco HDLC header (address, control, EtherType).
const C_HDLC_LEN: usize = 4;

/// Length of the NFLOG header (family, version, resource id).
const NFLOG_LEN: usize = 4;
/// Length of an NFLOG TLV header (length and type).
const NFLOG_TLV_LEN: usize = 4;
/// `NFULA_PAYLOAD`: the TLV that carries the packet.
const NFULA_PAYLOAD: u16 = 9;
/// Netlink attribute type bits (the top two are the nested / byte-order flags).
const NLA_TYPE_MASK: u16 = 0x3fff;
/// TLVs walked looking for the payload: NFLOG emits about a dozen attributes, so 64 is ample
/// while bounding the walk.
pub const MAX_NFLOG_TLVS: usize = 64;

/// Decodes a BSD loopback (`NULL`, host byte order) or OpenBSD loopback (`LOOP`, network byte
/// order) frame. The family is read in whichever byte order gives a small number, so captures
/// from hosts of either endianness work with both link types.
#[inline]
pub(crate) fn null(p: &mut Packet, data: &[u8]) {
    let Some(f) = chunk::<NULL_LEN>(data, 0) else {
        fail(p, DecodeErrorKind::TruncatedLink);
        return;
    };
    let little = u32::from_le_bytes(*f);
    let family = if little <= 0xffff {
        little
    } else {
        u32::from_be_bytes(*f)
    };
    if family == AF_INET {
        ipv4::decode(p, data, NULL_LEN);
    } else if AF_INET6.contains(&family) {
        ipv6::decode(p, data, NULL_LEN);
    } else {
        p.network = Network::Other { ethertype: 0 };
    }
}

/// Decodes raw IP at `off`, choosing the version by the first nibble.
#[inline]
pub(crate) fn raw(p: &mut Packet, data: &[u8], off: usize) {
    match u8_at(data, off).map(|b| b >> 4) {
        Some(4) => ipv4::decode(p, data, off),
        Some(6) => ipv6::decode(p, data, off),
        _ => fail(p, DecodeErrorKind::UnknownIpVersion),
    }
}

/// Decodes a Linux cooked capture v1 frame (protocol in bytes 14..16).
#[inline]
pub(crate) fn sll(p: &mut Packet, data: &[u8]) {
    let Some(h) = chunk::<SLL_LEN>(data, 0) else {
        fail(p, DecodeErrorKind::TruncatedLink);
        return;
    };
    cooked(p, data, SLL_LEN, be16_of(h[2], h[3]), be16_of(h[14], h[15]));
}

/// Decodes a Linux cooked capture v2 frame (protocol in bytes 0..2, ARPHRD in 8..10).
#[inline]
pub(crate) fn sll2(p: &mut Packet, data: &[u8]) {
    let Some(h) = chunk::<SLL2_LEN>(data, 0) else {
        fail(p, DecodeErrorKind::TruncatedLink);
        return;
    };
    cooked(p, data, SLL2_LEN, be16_of(h[8], h[9]), be16_of(h[0], h[1]));
}

/// The common part of both cooked captures: the protocol is an EtherType (VLAN tags included)
/// except on netlink captures.
#[inline(always)]
fn cooked(p: &mut Packet, data: &[u8], off: usize, arphrd: u16, protocol: u16) {
    if arphrd == ARPHRD_NETLINK {
        p.network = Network::Other { ethertype: 0 };
    } else {
        ethernet::ethertype(p, data, off, protocol);
    }
}

/// Decodes a PPP frame: optional `FF 03` address/control, then a 2-byte protocol or a
/// compressed 1-byte one (odd first byte).
#[inline]
pub(crate) fn ppp(p: &mut Packet, data: &[u8]) {
    let mut off = if data.starts_with(&[0xff, 0x03]) {
        2
    } else {
        0
    };
    let Some(first) = u8_at(data, off) else {
        fail(p, DecodeErrorKind::TruncatedLink);
        return;
    };
    let protocol = if first & 0x01 != 0 {
        off += 1;
        u16::from(first)
    } else {
        let Some(protocol) = be16(data, off) else {
            fail(p, DecodeErrorKind::TruncatedLink);
            return;
        };
        off += 2;
        protocol
    };
    ppp_protocol(p, data, off, protocol, 0);
}

/// Decodes what PPP `protocol` announces at `off`; anything that is not IP or MPLS is
/// `Network::Other { ethertype: other }`.
#[inline]
pub(crate) fn ppp_protocol(p: &mut Packet, data: &[u8], off: usize, protocol: u16, other: u16) {
    match protocol {
        PPP_IPV4 => ipv4::decode(p, data, off),
        PPP_IPV6 => ipv6::decode(p, data, off),
        PPP_MPLS => ethernet::mpls(p, data, off, ethernet::ETHERTYPE_MPLS),
        PPP_MPLS_MULTICAST => ethernet::mpls(p, data, off, ethernet::ETHERTYPE_MPLS_MULTICAST),
        _ => p.network = Network::Other { ethertype: other },
    }
}

/// Decodes a Cisco HDLC frame (EtherType in bytes 2..4).
#[inline]
pub(crate) fn c_hdlc(p: &mut Packet, data: &[u8]) {
    let Some(h) = chunk::<C_HDLC_LEN>(data, 0) else {
        fail(p, DecodeErrorKind::TruncatedLink);
        return;
    };
    ethernet::ethertype(p, data, C_HDLC_LEN, be16_of(h[2], h[3]));
}

/// Decodes an NFLOG frame: walks the TLVs (little-endian length including the TLV header, and
/// type; each padded to 4 bytes) to the `NFULA_PAYLOAD` one, which holds the raw IP packet.
/// No payload TLV within the captured bytes or the walk bound, or a TLV length below 4, is a
/// link header cut short.
#[inline]
pub(crate) fn nflog(p: &mut Packet, data: &[u8]) {
    if data.len() < NFLOG_LEN {
        fail(p, DecodeErrorKind::TruncatedLink);
        return;
    }
    let mut off = NFLOG_LEN;
    for _ in 0..MAX_NFLOG_TLVS {
        let Some(t) = chunk::<NFLOG_TLV_LEN>(data, off) else {
            break;
        };
        let len = usize::from(u16::from_le_bytes([t[0], t[1]]));
        let kind = u16::from_le_bytes([t[2], t[3]]) & NLA_TYPE_MASK;
        if len < NFLOG_TLV_LEN {
            break;
        }
        if kind == NFULA_PAYLOAD {
            let packet = cut(data, off.saturating_add(len));
            raw(p, packet, off + NFLOG_TLV_LEN);
            return;
        }
        off = off.saturating_add(len.next_multiple_of(4));
    }
    fail(p, DecodeErrorKind::TruncatedLink);
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use crate::*;
    use wirewatch_core::proto::tcp_flags;
    use wirewatch_core::{LinkType, ProtoClass};

    fn tcp_v4() -> Vec<u8> {
        ipv4(6, &tcp(1234, 80, tcp_flags::SYN, &[], b"hi"))
    }

    fn udp_v6() -> Vec<u8> {
        ipv6(17, &udp(53, 5353, b"dns"))
    }

    fn with_header(header: &[u8], payload: &[u8]) -> Vec<u8> {
        [header, payload].concat()
    }

    fn assert_tcp_v4(p: &Packet, header_len: u32) {
        assert_eq!(p.error, None, "{p:?}");
        assert_eq!(p.network, Network::Ipv4);
        assert_eq!(p.class, ProtoClass::Tcp);
        assert_eq!(p.src, V4_SRC);
        assert_eq!(p.ports(), Some((1234, 80)));
        assert_eq!(p.payload_offset, header_len + 40);
        assert_eq!(p.payload_len, 2);
    }

    fn assert_udp_v6(p: &Packet, header_len: u32) {
        assert_eq!(p.error, None, "{p:?}");
        assert_eq!(p.network, Network::Ipv6);
        assert_eq!(p.class, ProtoClass::Udp);
        assert_eq!(p.dst, V6_DST);
        assert_eq!(p.ports(), Some((53, 5353)));
        assert_eq!(p.payload_offset, header_len + 48);
        assert_eq!(p.payload_len, 3);
    }

    #[test]
    fn null_and_loop_in_both_byte_orders() {
        for lt in [LinkType::NULL, LinkType::LOOP] {
            for fam in [[2, 0, 0, 0], [0, 0, 0, 2]] {
                assert_tcp_v4(&decode(lt, &with_header(&fam, &tcp_v4())), 4);
            }
            for v6 in [24u32, 28, 30] {
                for fam in [v6.to_le_bytes(), v6.to_be_bytes()] {
                    assert_udp_v6(&decode(lt, &with_header(&fam, &udp_v6())), 4);
                }
            }
            // Unknown family (AF_APPLETALK 16): non-IP, no error.
            let p = decode(lt, &with_header(&[0, 0, 0, 16], &[0; 10]));
            assert_eq!(p.error, None);
            assert_eq!(p.network, Network::Other { ethertype: 0 });
            assert_eq!(p.class, ProtoClass::NonIp);
            let p = decode(lt, &[2, 0, 0]);
            assert_eq!(p.error, Some(DecodeErrorKind::TruncatedLink));
            let p = decode(lt, &[2, 0, 0, 0]);
            assert_eq!(p.error, Some(DecodeErrorKind::TruncatedIpv4));
        }
    }

    #[test]
    fn raw_ip_link_types() {
        for lt in [LinkType::RAW, LinkType::RAW_OPENBSD, LinkType::RAW_BSD] {
            assert_tcp_v4(&decode(lt, &tcp_v4()), 0);
            assert_udp_v6(&decode(lt, &udp_v6()), 0);
            let mut bogus = tcp_v4();
            bogus[0] = 0x55;
            let p = decode(lt, &bogus);
            assert_eq!(p.error, Some(DecodeErrorKind::UnknownIpVersion));
            assert_eq!(p.class, ProtoClass::NonIp);
            assert_eq!(p.network, Network::None);
            let p = decode(lt, &[]);
            assert_eq!(p.error, Some(DecodeErrorKind::UnknownIpVersion));
        }
        assert_tcp_v4(&decode(LinkType::IPV4, &tcp_v4()), 0);
        assert_udp_v6(&decode(LinkType::IPV6, &udp_v6()), 0);
        // The fixed-version link types trust the link type, not the nibble.
        let p = decode(LinkType::IPV4, &udp_v6());
        assert_eq!(p.error, Some(DecodeErrorKind::BadIpv4Header));
        let p = decode(LinkType::IPV6, &tcp_v4());
        assert_eq!(p.error, Some(DecodeErrorKind::UnknownIpVersion));
    }

    fn sll_header(arphrd: u16, protocol: u16) -> Vec<u8> {
        let mut h = vec![0, 0];
        h.extend_from_slice(&arphrd.to_be_bytes());
        h.extend_from_slice(&[0, 6, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0]);
        h.extend_from_slice(&protocol.to_be_bytes());
        h
    }

    #[test]
    fn linux_sll() {
        assert_tcp_v4(
            &decode(
                LinkType::LINUX_SLL,
                &with_header(&sll_header(1, 0x0800), &tcp_v4()),
            ),
            16,
        );
        assert_udp_v6(
            &decode(
                LinkType::LINUX_SLL,
                &with_header(&sll_header(772, 0x86dd), &udp_v6()),
            ),
            16,
        );
        // VLAN tag left in the payload.
        let frame = with_header(&sll_header(1, 0x8100), &vlan_tag(42, 0x0800, &tcp_v4()));
        let p = decode(LinkType::LINUX_SLL, &frame);
        assert_eq!((p.vlan_count, p.vlans), (1, [42, 0, 0]));
        assert_eq!(p.class, ProtoClass::Tcp);
        assert_eq!(p.payload_offset, 16 + 4 + 40);
        // ARP.
        let arp = [
            0, 1, 8, 0, 6, 4, 0, 2, 1, 2, 3, 4, 5, 6, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2,
        ];
        let p = decode(
            LinkType::LINUX_SLL,
            &with_header(&sll_header(1, 0x0806), &arp),
        );
        assert_eq!(p.error, None);
        assert!(matches!(p.network, Network::Arp(a) if a.op == 2));
        // 802.2 LLC (protocol 4) and netlink.
        let p = decode(
            LinkType::LINUX_SLL,
            &with_header(&sll_header(1, 4), &[0x42; 8]),
        );
        assert_eq!(p.network, Network::Other { ethertype: 0 });
        let p = decode(
            LinkType::LINUX_SLL,
            &with_header(&sll_header(824, 0x0800), &tcp_v4()),
        );
        assert_eq!(p.network, Network::Other { ethertype: 0 });
        assert_eq!(p.class, ProtoClass::NonIp);
        let p = decode(LinkType::LINUX_SLL, &sll_header(1, 0x0800)[..15]);
        assert_eq!(p.error, Some(DecodeErrorKind::TruncatedLink));
    }

    fn sll2_header(protocol: u16, arphrd: u16) -> Vec<u8> {
        let mut h = protocol.to_be_bytes().to_vec();
        h.extend_from_slice(&[0, 0, 0, 0, 0, 3]);
        h.extend_from_slice(&arphrd.to_be_bytes());
        h.extend_from_slice(&[4, 6, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0]);
        h
    }

    #[test]
    fn linux_sll2() {
        let frame = with_header(&sll2_header(0x0800, 1), &tcp_v4());
        assert_tcp_v4(&decode(LinkType::LINUX_SLL2, &frame), 20);
        let frame = with_header(&sll2_header(0x86dd, 1), &udp_v6());
        assert_udp_v6(&decode(LinkType::LINUX_SLL2, &frame), 20);
        let p = decode(LinkType::LINUX_SLL2, &frame[..19]);
        assert_eq!(p.error, Some(DecodeErrorKind::TruncatedLink));
        let frame = with_header(&sll2_header(0x88cc, 1), &[0; 8]);
        let p = decode(LinkType::LINUX_SLL2, &frame);
        assert_eq!(p.network, Network::Other { ethertype: 0x88cc });
    }

    #[test]
    fn ppp_variants() {
        assert_tcp_v4(
            &decode(
                LinkType::PPP,
                &with_header(&[0xff, 0x03, 0x00, 0x21], &tcp_v4()),
            ),
            4,
        );
        assert_tcp_v4(
            &decode(LinkType::PPP, &with_header(&[0x00, 0x21], &tcp_v4())),
            2,
        );
        assert_tcp_v4(&decode(LinkType::PPP, &with_header(&[0x21], &tcp_v4())), 1);
        assert_udp_v6(
            &decode(LinkType::PPP, &with_header(&[0xff, 0x03, 0x57], &udp_v6())),
            3,
        );
        assert_udp_v6(
            &decode(LinkType::PPP, &with_header(&[0x00, 0x57], &udp_v6())),
            2,
        );
        // MPLS over PPP.
        let frame = with_header(&[0x02, 0x81, 0x00, 0x01, 0x01, 0x40], &tcp_v4());
        assert_tcp_v4(&decode(LinkType::PPP, &frame), 6);
        // LCP: not IP.
        let p = decode(LinkType::PPP, &[0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4]);
        assert_eq!(p.error, None);
        assert_eq!(p.network, Network::Other { ethertype: 0 });
        for cut in [&[][..], &[0xff, 0x03], &[0xff, 0x03, 0x00], &[0x00]] {
            let p = decode(LinkType::PPP, cut);
            assert_eq!(p.error, Some(DecodeErrorKind::TruncatedLink), "{cut:?}");
        }
    }

    #[test]
    fn cisco_hdlc() {
        assert_tcp_v4(
            &decode(
                LinkType::C_HDLC,
                &with_header(&[0x0f, 0, 0x08, 0x00], &tcp_v4()),
            ),
            4,
        );
        assert_udp_v6(
            &decode(
                LinkType::C_HDLC,
                &with_header(&[0x8f, 0, 0x86, 0xdd], &udp_v6()),
            ),
            4,
        );
        // SLARP.
        let p = decode(LinkType::C_HDLC, &[0x8f, 0, 0x80, 0x35, 0, 0, 0, 0]);
        assert_eq!(p.network, Network::Other { ethertype: 0x8035 });
        let p = decode(LinkType::C_HDLC, &[0x0f, 0, 0x08]);
        assert_eq!(p.error, Some(DecodeErrorKind::TruncatedLink));
    }

    fn tlv(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut t = u16::try_from(4 + value.len())
            .unwrap()
            .to_le_bytes()
            .to_vec();
        t.extend_from_slice(&kind.to_le_bytes());
        t.extend_from_slice(value);
        while t.len() % 4 != 0 {
            t.push(0);
        }
        t
    }

    fn nflog(family: u8, tlvs: &[Vec<u8>]) -> Vec<u8> {
        let mut f = vec![family, 0, 0, 1];
        for t in tlvs {
            f.extend_from_slice(t);
        }
        f
    }

    #[test]
    fn nflog_payload_tlv() {
        // Packet header (1), prefix (10, odd length → padding), then the payload (9).
        let frame = nflog(
            2,
            &[
                tlv(1, &[0x08, 0x00, 3, 0]),
                tlv(10, b"drop\0"),
                tlv(9, &tcp_v4()),
            ],
        );
        assert_tcp_v4(&decode(LinkType::NFLOG, &frame), 4 + 8 + 12 + 4);
        let frame = nflog(10, &[tlv(9, &udp_v6())]);
        assert_udp_v6(&decode(LinkType::NFLOG, &frame), 8);
        // Payload TLV cut by the capture: the IP layer still decodes what is there.
        let p = decode(LinkType::NFLOG, &frame[..8 + 44]);
        assert_eq!(p.error, Some(DecodeErrorKind::TruncatedUdp));
        assert_eq!(p.class, ProtoClass::Udp);
    }

    #[test]
    fn nflog_without_payload() {
        let p = decode(LinkType::NFLOG, &nflog(2, &[tlv(1, &[0; 4])]));
        assert_eq!(p.error, Some(DecodeErrorKind::TruncatedLink));
        assert_eq!(p.network, Network::None);
        assert_eq!(
            decode(LinkType::NFLOG, &[2, 0, 0]).error,
            Some(DecodeErrorKind::TruncatedLink)
        );
        // A TLV length below its own header stops the walk.
        let p = decode(
            LinkType::NFLOG,
            &nflog(2, &[vec![2, 0, 1, 0], tlv(9, &tcp_v4())]),
        );
        assert_eq!(p.error, Some(DecodeErrorKind::TruncatedLink));
        // More TLVs than the walk allows.
        let mut tlvs = vec![tlv(1, &[0; 4]); MAX_NFLOG_TLVS];
        tlvs.push(tlv(9, &tcp_v4()));
        let p = decode(LinkType::NFLOG, &nflog(2, &tlvs));
        assert_eq!(p.error, Some(DecodeErrorKind::TruncatedLink));
        tlvs.remove(0);
        assert_tcp_v4(
            &decode(LinkType::NFLOG, &nflog(2, &tlvs)),
            to_u32(4 + 8 * 63 + 4),
        );
    }

    use super::MAX_NFLOG_TLVS;
    use crate::read::to_u32;
}
