//! Property tests over the whole decoder (test builds only): random and truncated input never
//! panics, results stay self-consistent, and built frames decode back to what was built.

use crate::testutil::*;
use crate::*;
use proptest::prelude::*;
use wirewatch_core::{LinkType, ProtoClass};

/// Checks the invariants every decoded packet keeps, whatever the input.
fn check_invariants(p: &Packet, data: &[u8]) {
    assert_eq!(p.class == ProtoClass::NonIp, !p.is_ip(), "{p:?}");
    if p.is_ip() && p.class != ProtoClass::from_ip_proto(p.ip_proto) {
        // Only when the protocol field is untrusted or not captured.
        assert_eq!(p.class, ProtoClass::OtherIp, "{p:?}");
        assert!(
            matches!(
                p.error,
                Some(
                    DecodeErrorKind::BadIpv4Header
                        | DecodeErrorKind::TruncatedIpv4
                        | DecodeErrorKind::UnknownIpVersion
                        | DecodeErrorKind::TruncatedIpv6
                )
            ),
            "{p:?}"
        );
    }
    if p.transport != Transport::None {
        assert!(p.is_ip(), "{p:?}");
    }
    if let Transport::Tcp(t) = p.transport
        && p.error != Some(DecodeErrorKind::BadTcpHeader)
    {
        assert!(t.header_len >= 20, "{p:?}");
    }
    let kept = usize::from(p.vlan_count).min(MAX_VLAN_TAGS);
    assert!(p.vlans.iter().skip(kept).all(|v| *v == 0), "{p:?}");
    assert!(p.vlans.iter().all(|v| *v <= 0x0fff), "{p:?}");
    if p.error == Some(DecodeErrorKind::UnsupportedLinkType) {
        assert_eq!(p.network, Network::None);
    }
    let payload = p.payload(data);
    assert!(payload.len() <= p.payload_len as usize);
}

/// Link types to throw random bytes at: all supported ones and one that is not.
fn any_linktype() -> impl Strategy<Value = LinkType> {
    let mut all = SUPPORTED_LINK_TYPES.to_vec();
    all.push(LinkType(147));
    proptest::sample::select(all)
}

/// Headers that get random bytes past the link layer into the deeper decoders.
fn plausible_prefix() -> impl Strategy<Value = (LinkType, Vec<u8>)> {
    prop_oneof![
        Just((LinkType::ETHERNET, eth(0x0800, &[0x45]))),
        Just((LinkType::ETHERNET, eth(0x0800, &[0x4f]))),
        Just((LinkType::ETHERNET, eth(0x86dd, &[0x60]))),
        Just((LinkType::ETHERNET, eth(0x8100, &[]))),
        Just((LinkType::ETHERNET, eth(0x8847, &[]))),
        Just((LinkType::ETHERNET, eth(0x8864, &[]))),
        Just((LinkType::ETHERNET, eth(0x0806, &[0, 1, 8, 0, 6, 4]))),
        Just((
            LinkType::LINUX_SLL,
            vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x81, 0]
        )),
        Just((LinkType::NFLOG, vec![2, 0, 0, 0])),
        Just((LinkType::PPP, vec![0xff, 0x03, 0x00, 0x21, 0x45])),
        Just((LinkType::IPV4, Ipv4::new(6, &[]).build())),
        Just((LinkType::IPV4, Ipv4::new(17, &[]).build())),
        Just((LinkType::IPV4, Ipv4::new(1, &[]).build())),
        Just((LinkType::IPV6, ipv6(0, &[]))),
        Just((LinkType::IPV6, ipv6(44, &[]))),
        Just((LinkType::IPV6, ipv6(6, &[]))),
        Just((LinkType::IPV6, ipv6(58, &[]))),
    ]
}

proptest! {
    #[test]
    fn random_bytes_never_panic(lt in any_linktype(), data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let p = decode(lt, &data);
        check_invariants(&p, &data);
    }

    #[test]
    fn random_tunnel_payloads_never_panic(
        (proto, port) in prop_oneof![
            Just((4u8, 0u16)), Just((41, 0)), Just((47, 0)),
            Just((17, tunnel::VXLAN_PORT)), Just((17, tunnel::GENEVE_PORT)),
            Just((17, tunnel::TEREDO_PORT)), Just((17, tunnel::GTP_U_PORT)),
        ],
        tail in proptest::collection::vec(any::<u8>(), 0..160),
    ) {
        let payload = if proto == 17 { udp(40000, port, &tail) } else { tail };
        let frame = eth(0x0800, &ipv4(proto, &payload));
        let outer = decode(LinkType::ETHERNET, &frame);
        if let Some(found) = tunnel::inner(&outer, &frame) {
            prop_assert!(found.offset <= frame.len());
            let p = tunnel::decode_inner(&found, &frame);
            check_invariants(&p, &frame[found.offset..]);
        }
    }

    #[test]
    fn random_tails_after_plausible_headers_never_panic(
        (lt, mut data) in plausible_prefix(),
        tail in proptest::collection::vec(any::<u8>(), 0..160),
    ) {
        // Lengths in the built headers are wrong once the tail is appended: all the better.
        data.extend_from_slice(&tail);
        let p = decode(lt, &data);
        check_invariants(&p, &data);
    }

    #[test]
    fn fuzz_tunnel_never_panics(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        prop_assert!(fuzz_tunnel(&data) <= 3);
    }

    #[test]
    fn fuzz_decode_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        fuzz_decode(&data);
        let (lt, frame) = fuzz_input(&data);
        check_invariants(&decode(lt, frame), frame);
    }

    #[test]
    fn tcp_ipv4_ethernet_round_trip_and_every_prefix(
        sport in any::<u16>(),
        dport in any::<u16>(),
        flags in any::<u8>(),
        vlan in proptest::option::of(0u16..4096),
        with_options in any::<bool>(),
        payload in proptest::collection::vec(any::<u8>(), 0..64),
        padding in 0usize..16,
    ) {
        let options: &[u8] = if with_options {
            &[2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]
        } else {
            &[]
        };
        let dgram = ipv4(6, &tcp(sport, dport, flags, options, &payload));
        let mut frame = match vlan {
            Some(vid) => eth(0x8100, &vlan_tag(vid, 0x0800, &dgram)),
            None => eth(0x0800, &dgram),
        };
        frame.resize(frame.len() + padding, 0);
        let link_len = 14 + if vlan.is_some() { 4 } else { 0 };
        let headers_end = link_len + 20 + 20 + options.len();

        let full = decode(LinkType::ETHERNET, &frame);
        prop_assert_eq!(full.error, None);
        prop_assert_eq!(full.class, ProtoClass::Tcp);
        prop_assert_eq!(full.ports(), Some((sport, dport)));
        prop_assert_eq!(full.tcp_flags(), Some(flags));
        prop_assert_eq!(full.vlan_count, u8::from(vlan.is_some()));
        prop_assert_eq!(full.vlans[0], vlan.unwrap_or(0));
        prop_assert_eq!(full.payload_offset as usize, headers_end);
        prop_assert_eq!(full.payload(&frame), &payload[..]);
        if let Transport::Tcp(t) = full.transport {
            prop_assert_eq!(usize::from(t.header_len), 20 + options.len());
            prop_assert_eq!(t.options.mss, with_options.then_some(1460));
            prop_assert_eq!(t.options.timestamp, with_options.then_some((1, 2)));
        }

        for cut in 0..frame.len() {
            let p = decode(LinkType::ETHERNET, &frame[..cut]);
            check_invariants(&p, &frame[..cut]);
            if cut >= headers_end {
                prop_assert_eq!(p, full, "cut {}", cut);
            } else {
                prop_assert!(p.error.is_some(), "cut {} decoded without error: {:?}", cut, p);
            }
        }
    }

    #[test]
    fn udp_ipv6_round_trip_and_every_prefix(
        sport in any::<u16>(),
        dport in any::<u16>(),
        hop_by_hop in any::<bool>(),
        payload in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let seg = udp(sport, dport, &payload);
        let dgram = if hop_by_hop {
            let mut body = vec![17, 0, 1, 4, 0, 0, 0, 0];
            body.extend_from_slice(&seg);
            ipv6(0, &body)
        } else {
            ipv6(17, &seg)
        };
        let headers_end = 40 + if hop_by_hop { 8 } else { 0 } + 8;
        let full = decode(LinkType::IPV6, &dgram);
        prop_assert_eq!(full.error, None);
        prop_assert_eq!(full.ports(), Some((sport, dport)));
        prop_assert_eq!(full.payload(&dgram), &payload[..]);
        for cut in 0..dgram.len() {
            let p = decode(LinkType::IPV6, &dgram[..cut]);
            check_invariants(&p, &dgram[..cut]);
            if cut >= headers_end {
                prop_assert_eq!(p, full, "cut {}", cut);
            } else {
                prop_assert!(p.error.is_some(), "cut {} decoded without error: {:?}", cut, p);
            }
        }
    }
}
