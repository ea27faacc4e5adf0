//! Build → bytes → decode round trips: frames made by the synthetic builders decode back to the
//! fields they were built from, and every truncation of them decodes without panicking.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use wirewatch_capture::synth::{
    Body, Echo, FrameSpec, IpPacket, Ipv6Ext, Payload, TcpOptions, TcpSegment, Transport,
    UdpDatagram, VlanTag,
};
use wirewatch_core::{LinkType, ProtoClass};
use wirewatch_decode::{Network, Transport as Decoded, decode};

/// What a generated frame was built from.
#[derive(Debug, Clone)]
struct Spec {
    v6: bool,
    src: [u8; 16],
    dst: [u8; 16],
    vlans: Vec<u16>,
    kind: u8,
    sport: u16,
    dport: u16,
    flags: u8,
    payload: usize,
    ext: bool,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        any::<bool>(),
        any::<[u8; 16]>(),
        any::<[u8; 16]>(),
        proptest::collection::vec(1u16..4095, 0..3),
        0u8..3,
        any::<u16>(),
        any::<u16>(),
        any::<u8>(),
        0usize..1400,
        any::<bool>(),
    )
        .prop_map(
            |(v6, src, dst, vlans, kind, sport, dport, flags, payload, ext)| Spec {
                v6,
                src,
                dst,
                vlans,
                kind,
                sport,
                dport,
                flags,
                payload,
                ext,
            },
        )
}

fn addr(v6: bool, b: [u8; 16]) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(b))
    } else {
        IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
    }
}

fn build(s: &Spec) -> Vec<u8> {
    let payload = Payload::Filled {
        head: b"",
        fill: s.payload,
        tail: b"",
        seed: 3,
    };
    let transport = match s.kind {
        0 => Transport::Tcp(TcpSegment {
            src_port: s.sport,
            dst_port: s.dport,
            seq: 1,
            ack: 2,
            flags: s.flags,
            window: 512,
            urgent: 0,
            options: TcpOptions::syn(1460, 7, 0),
            payload,
        }),
        1 => Transport::Udp(UdpDatagram {
            src_port: s.sport,
            dst_port: s.dport,
            payload,
        }),
        _ => Transport::Echo(Echo {
            reply: false,
            ident: s.sport,
            seq: s.dport,
            payload,
        }),
    };
    let exts = [Ipv6Ext::HopByHop, Ipv6Ext::DestinationOptions];
    let ip = IpPacket {
        ipv6_ext: if s.ext { &exts } else { &[] },
        ..IpPacket::new(addr(s.v6, s.src), addr(s.v6, s.dst), transport)
    };
    let tags: Vec<VlanTag> = s.vlans.iter().map(|v| VlanTag::dot1q(*v)).collect();
    let mut frame = FrameSpec::new([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2], Body::Ip(ip));
    frame.vlans = &tags;
    frame.to_vec()
}

proptest! {
    #[test]
    fn built_frames_decode_to_their_fields(s in spec()) {
        let bytes = build(&s);
        let p = decode(LinkType::ETHERNET, &bytes);
        prop_assert_eq!(p.error, None);
        prop_assert_eq!(p.network, if s.v6 { Network::Ipv6 } else { Network::Ipv4 });
        prop_assert_eq!(p.src, addr(s.v6, s.src));
        prop_assert_eq!(p.dst, addr(s.v6, s.dst));
        prop_assert_eq!(usize::from(p.vlan_count), s.vlans.len());
        prop_assert_eq!(&p.vlans[..s.vlans.len()], &s.vlans[..]);
        prop_assert_eq!(p.payload_len as usize, s.payload);
        prop_assert_eq!(p.payload(&bytes).len(), s.payload);
        match (s.kind, p.transport) {
            (0, Decoded::Tcp(t)) => {
                prop_assert_eq!(p.class, ProtoClass::Tcp);
                prop_assert_eq!((t.src_port, t.dst_port, t.flags), (s.sport, s.dport, s.flags));
                prop_assert_eq!(t.options.mss, Some(1460));
                prop_assert_eq!(t.options.timestamp, Some((7, 0)));
            }
            (1, Decoded::Udp(u)) => {
                prop_assert_eq!(p.class, ProtoClass::Udp);
                prop_assert_eq!((u.src_port, u.dst_port), (s.sport, s.dport));
            }
            (2, Decoded::Icmp(i)) if !s.v6 => {
                prop_assert_eq!((i.icmp_type, i.echo), (8, Some((s.sport, s.dport))));
            }
            (2, Decoded::Icmpv6(i)) if s.v6 => {
                prop_assert_eq!((i.icmp_type, i.echo), (128, Some((s.sport, s.dport))));
            }
            (k, t) => prop_assert!(false, "kind {} decoded as {:?}", k, t),
        }
    }

    #[test]
    fn every_truncation_of_a_built_frame_decodes_without_panic(s in spec()) {
        let bytes = build(&s);
        for cut in 0..bytes.len() {
            let p = decode(LinkType::ETHERNET, &bytes[..cut]);
            // A frame cut inside its headers says so; one cut in its payload does not.
            if cut < 14 {
                prop_assert!(p.error.is_some());
            }
        }
    }
}
