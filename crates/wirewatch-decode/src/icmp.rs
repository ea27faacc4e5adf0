//! ICMP and ICMPv6 header decoding.
//!
//! Owns the type/code of both protocols and the identifier/sequence of echo messages. It must
//! not decode the IP header quoted inside ICMP error messages: those frames stay ICMP.

use crate::packet::{DecodeErrorKind, IcmpInfo, Packet, Transport};
use crate::read::{be16_of, chunk, fail, to_u32};

/// Length of the ICMP header counted before the payload (type, code, checksum, rest-of-header).
pub(crate) const HEADER_LEN: usize = 8;

/// Decodes an ICMP (v4) header at `off` (see [`crate::transport::decode`] for the arguments).
#[inline]
pub(crate) fn decode_v4(p: &mut Packet, data: &[u8], off: usize, ip_payload: u32) {
    if let Some(info) = read(
        p,
        data,
        off,
        ip_payload,
        [0, 8],
        DecodeErrorKind::TruncatedIcmp,
    ) {
        p.transport = Transport::Icmp(info);
    }
}

/// Decodes an ICMPv6 header at `off` (see [`crate::transport::decode`] for the arguments).
#[inline]
pub(crate) fn decode_v6(p: &mut Packet, data: &[u8], off: usize, ip_payload: u32) {
    if let Some(info) = read(
        p,
        data,
        off,
        ip_payload,
        [128, 129],
        DecodeErrorKind::TruncatedIcmpv6,
    ) {
        p.transport = Transport::Icmpv6(info);
    }
}

/// The common part: type and code need 4 bytes; echo messages also carry id/seq in 4..8 (cut
/// short there: the header is kept without them and the frame reports `truncated`).
#[inline]
fn read(
    p: &mut Packet,
    data: &[u8],
    off: usize,
    ip_payload: u32,
    echo_types: [u8; 2],
    truncated: DecodeErrorKind,
) -> Option<IcmpInfo> {
    let Some(h) = chunk::<4>(data, off) else {
        fail(p, truncated);
        return None;
    };
    let (icmp_type, code) = (h[0], h[1]);
    let echo = if echo_types.contains(&icmp_type) {
        match chunk::<4>(data, off.saturating_add(4)) {
            Some(e) => Some((be16_of(e[0], e[1]), be16_of(e[2], e[3]))),
            None => {
                fail(p, truncated);
                None
            }
        }
    } else {
        None
    };
    p.payload_offset = to_u32(off.saturating_add(HEADER_LEN));
    p.payload_len = ip_payload.saturating_sub(HEADER_LEN as u32);
    Some(IcmpInfo {
        icmp_type,
        code,
        echo,
    })
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use crate::*;
    use wirewatch_core::{LinkType, ProtoClass};

    fn icmp_msg(t: u8, code: u8, rest: [u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut m = vec![t, code, 0, 0];
        m.extend_from_slice(&rest);
        m.extend_from_slice(payload);
        m
    }

    #[test]
    fn icmp_echo_request_and_reply() {
        for t in [8u8, 0] {
            let frame = eth(
                0x0800,
                &ipv4(1, &icmp_msg(t, 0, [0x12, 0x34, 0, 7], b"ping!!")),
            );
            let p = decode(LinkType::ETHERNET, &frame);
            assert_eq!(p.error, None);
            assert_eq!(p.class, ProtoClass::Icmp);
            let Transport::Icmp(info) = p.transport else {
                panic!("{p:?}")
            };
            assert_eq!(
                info,
                IcmpInfo {
                    icmp_type: t,
                    code: 0,
                    echo: Some((0x1234, 7))
                }
            );
            assert!(info.is_echo_v4());
            assert_eq!(p.payload_offset, 14 + 20 + 8);
            assert_eq!(p.payload_len, 6);
            assert_eq!(p.ports(), None);
        }
    }

    #[test]
    fn icmp_error_keeps_the_outer_header_only() {
        // Destination unreachable / port unreachable quoting an IPv4+UDP header.
        let quoted = ipv4(17, &udp(1000, 53, b""));
        let msg = icmp_msg(3, 3, [0; 4], &quoted);
        let p = decode(LinkType::IPV4, &ipv4(1, &msg));
        assert_eq!(p.error, None);
        assert_eq!(p.class, ProtoClass::Icmp);
        assert_eq!(
            p.transport,
            Transport::Icmp(IcmpInfo {
                icmp_type: 3,
                code: 3,
                echo: None
            })
        );
        assert_eq!(p.payload_len, 28);
        assert_eq!(p.payload_offset, 28);
    }

    #[test]
    fn icmp_cut_short() {
        let dgram = ipv4(1, &icmp_msg(8, 0, [0, 1, 0, 2], b""));
        let p = decode(LinkType::IPV4, &dgram[..23]);
        assert_eq!(p.error, Some(DecodeErrorKind::TruncatedIcmp));
        assert_eq!(p.transport, Transport::None);
        assert_eq!(p.class, ProtoClass::Icmp);
        // Type and code present, echo id/seq cut: header kept, error reported.
        let p = decode(LinkType::IPV4, &dgram[..26]);
        assert_eq!(p.error, Some(DecodeErrorKind::TruncatedIcmp));
        assert_eq!(
            p.transport,
            Transport::Icmp(IcmpInfo {
                icmp_type: 8,
                code: 0,
                echo: None
            })
        );
        // A non-echo message needs only its first 4 bytes.
        let dgram = ipv4(1, &icmp_msg(11, 0, [0; 4], b""));
        let p = decode(LinkType::IPV4, &dgram[..24]);
        assert_eq!(p.error, None);
        assert!(matches!(p.transport, Transport::Icmp(i) if i.icmp_type == 11));
    }

    #[test]
    fn icmpv6_echo() {
        for t in [128u8, 129] {
            let frame = eth(
                0x86dd,
                &ipv6(58, &icmp_msg(t, 0, [0xab, 0xcd, 0, 9], b"xyz")),
            );
            let p = decode(LinkType::ETHERNET, &frame);
            assert_eq!(p.error, None);
            assert_eq!(p.class, ProtoClass::Icmpv6);
            assert_eq!(
                p.transport,
                Transport::Icmpv6(IcmpInfo {
                    icmp_type: t,
                    code: 0,
                    echo: Some((0xabcd, 9))
                })
            );
            assert_eq!(p.payload_offset, 14 + 40 + 8);
            assert_eq!(p.payload_len, 3);
        }
    }

    #[test]
    fn icmpv6_other_and_truncated() {
        // Neighbour solicitation (135): no echo fields.
        let p = decode(
            LinkType::IPV6,
            &ipv6(58, &icmp_msg(135, 0, [0; 4], &[0; 16])),
        );
        assert_eq!(
            p.transport,
            Transport::Icmpv6(IcmpInfo {
                icmp_type: 135,
                code: 0,
                echo: None
            })
        );
        assert_eq!(p.payload_len, 16);
        let dgram = ipv6(58, &icmp_msg(128, 0, [0; 4], b""));
        let p = decode(LinkType::IPV6, &dgram[..43]);
        assert_eq!(p.error, Some(DecodeErrorKind::TruncatedIcmpv6));
        assert_eq!(p.transport, Transport::None);
        assert_eq!(p.class, ProtoClass::Icmpv6);
        let p = decode(LinkType::IPV6, &dgram[..46]);
        assert_eq!(p.error, Some(DecodeErrorKind::TruncatedIcmpv6));
        assert!(matches!(p.transport, Transport::Icmpv6(i) if i.echo.is_none()));
    }
}
