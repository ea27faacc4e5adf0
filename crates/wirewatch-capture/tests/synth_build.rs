//! The packet builders against hand-computed bytes and an independent checksum.

// Test code: helpers outside `#[test]` functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use wirewatch_capture::synth::{
    ArpPacket, BROADCAST_MAC, Body, DNS_TYPE_A, DnsMessage, Echo, Fragment, FrameSpec, IcmpMessage,
    IpPacket, Ipv6Ext, Payload, PcapWriter, TcpOptions, TcpSegment, Transport, UdpDatagram,
    VlanTag, tcp_flags,
};
use wirewatch_core::{LinkType, Timestamp};

const A: [u8; 6] = [2, 0, 0, 0, 0, 1];
const B: [u8; 6] = [2, 0, 0, 0, 0, 2];

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

fn v6(last: u16) -> IpAddr {
    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last))
}

/// The textbook 16-bit one's-complement checksum, independent of the library's.
fn csum(parts: &[&[u8]]) -> u16 {
    let bytes: Vec<u8> = parts.concat();
    let mut sum: u32 = 0;
    for pair in bytes.chunks(2) {
        sum += u32::from(pair[0]) << 8 | u32::from(*pair.get(1).unwrap_or(&0));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn pseudo6(ip: &[u8], upper_len: usize, proto: u8) -> Vec<u8> {
    let mut p = ip[8..40].to_vec();
    p.extend_from_slice(&(upper_len as u32).to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, proto]);
    p
}

#[test]
fn tcp_syn_over_ipv4_exact_bytes() {
    let frame = FrameSpec::new(
        A,
        B,
        Body::Ip(IpPacket {
            id: 0x1234,
            ..IpPacket::new(
                v4(10, 0, 0, 1),
                v4(10, 0, 0, 2),
                Transport::Tcp(TcpSegment {
                    src_port: 40000,
                    dst_port: 80,
                    seq: 1,
                    flags: tcp_flags::SYN,
                    ..Default::default()
                }),
            )
        }),
    )
    .to_vec();
    #[rustfmt::skip]
    let expected: [u8; 60] = [
        2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00,
        // IPv4: length 40, id 0x1234, DF, TTL 64, TCP, checksum 0x149a (worked by hand)
        0x45, 0, 0, 40, 0x12, 0x34, 0x40, 0, 64, 6, 0x14, 0x9a, 10, 0, 0, 1, 10, 0, 0, 2,
        // TCP: 40000 -> 80, seq 1, ack 0, offset 5, SYN, window 64240, checksum 0x045e
        0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xfa, 0xf0, 0x04, 0x5e, 0, 0,
        // padding to the 60-byte Ethernet minimum
        0, 0, 0, 0, 0, 0,
    ];
    assert_eq!(frame, expected);
}

#[test]
fn udp_over_ipv6_in_a_vlan_exact_bytes() {
    let tag = VlanTag {
        pcp: 3,
        ..VlanTag::dot1q(100)
    };
    let frame = FrameSpec {
        vlans: &[tag],
        ..FrameSpec::new(
            A,
            B,
            Body::Ip(IpPacket::new(
                v6(1),
                v6(2),
                Transport::Udp(UdpDatagram {
                    src_port: 12345,
                    dst_port: 53,
                    payload: Payload::Bytes(b"abcd"),
                }),
            )),
        )
    }
    .to_vec();
    #[rustfmt::skip]
    let expected: Vec<u8> = [
        &[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1][..],
        &[0x81, 0x00, 0x60, 0x64, 0x86, 0xdd], // PCP 3, VID 100, then IPv6
        &[0x60, 0, 0, 0, 0, 12, 17, 64],
        &[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        &[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
        // UDP 12345 -> 53, length 12, checksum 0xaf2c (worked by hand)
        &[0x30, 0x39, 0, 53, 0, 12, 0xaf, 0x2c, b'a', b'b', b'c', b'd'],
    ]
    .concat();
    assert_eq!(frame, expected);
}

#[test]
fn icmp_echo_over_ipv4_exact_bytes() {
    let frame = FrameSpec::new(
        A,
        B,
        Body::Ip(IpPacket::new(
            v4(192, 168, 1, 1),
            v4(8, 8, 8, 8),
            Transport::Echo(Echo {
                reply: false,
                ident: 1,
                seq: 2,
                payload: Payload::Bytes(b"hi"),
            }),
        )),
    )
    .to_vec();
    assert_eq!(frame.len(), 60);
    #[rustfmt::skip]
    assert_eq!(&frame[14..44], &[
        0x45, 0, 0, 30, 0, 0, 0x40, 0, 64, 1, 0x69, 0x26, 192, 168, 1, 1, 8, 8, 8, 8,
        8, 0, 0x8f, 0x93, 0, 1, 0, 2, b'h', b'i',
    ]);
    assert!(frame[44..].iter().all(|b| *b == 0));
}

#[test]
fn arp_request_and_reply_exact_bytes() {
    let req = ArpPacket::request(A, Ipv4Addr::new(10, 0, 0, 5), Ipv4Addr::new(10, 0, 0, 1));
    let frame = FrameSpec::new(A, BROADCAST_MAC, Body::Arp(req)).to_vec();
    #[rustfmt::skip]
    let expected: Vec<u8> = [
        &[0xff; 6][..], &A, &[0x08, 0x06],
        &[0, 1, 0x08, 0x00, 6, 4, 0, 1], &A, &[10, 0, 0, 5], &[0; 6], &[10, 0, 0, 1],
        &[0; 18],
    ]
    .concat();
    assert_eq!(frame, expected);
    let rep = ArpPacket::reply(B, Ipv4Addr::new(10, 0, 0, 1), A, Ipv4Addr::new(10, 0, 0, 5));
    let frame = FrameSpec::new(B, A, Body::Arp(rep)).to_vec();
    assert_eq!(&frame[20..22], &[0, 2]);
    assert_eq!(&frame[22..28], &B);
    assert_eq!(&frame[32..38], &A);
}

#[test]
fn syn_options_are_laid_out_like_linux() {
    let seg = TcpSegment {
        src_port: 1,
        dst_port: 2,
        flags: tcp_flags::SYN | tcp_flags::ACK,
        options: TcpOptions::syn(1460, 0x01020304, 0x05060708),
        payload: Payload::Bytes(b"xyz"),
        ..Default::default()
    };
    let ip = IpPacket::new(v4(1, 1, 1, 1), v4(2, 2, 2, 2), Transport::Tcp(seg));
    let mut pkt = Vec::new();
    assert_eq!(ip.build(&mut pkt), 20 + 40 + 3);
    let tcp = &pkt[20..];
    assert_eq!(tcp[12], 0xa0, "data offset 10 words");
    assert_eq!(tcp[13], 0x12);
    #[rustfmt::skip]
    assert_eq!(&tcp[20..40], &[
        2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 3, 3, 7,
    ]);
    let mut pseudo = pkt[12..20].to_vec();
    pseudo.extend_from_slice(&[0, 6, 0, 43]);
    assert_eq!(csum(&[&pseudo, tcp]), 0);
    assert_eq!(csum(&[&pkt[..20]]), 0);
    // Timestamps only (the common case after the handshake): NOP NOP TS, 12 bytes.
    let o = TcpOptions::timestamps(1, 2);
    assert_eq!(o.len(), 12);
    assert!(!o.is_empty() && TcpOptions::default().is_empty());
}

#[test]
fn icmpv6_echo_checksum_covers_the_pseudo_header() {
    let ip = IpPacket::new(
        v6(0xa),
        v6(0xb),
        Transport::Echo(Echo {
            reply: true,
            ident: 0x4242,
            seq: 7,
            payload: Payload::Filled {
                head: b"",
                fill: 57,
                tail: b"",
                seed: 3,
            },
        }),
    );
    let mut pkt = Vec::new();
    ip.build(&mut pkt);
    assert_eq!(pkt[6], 58);
    assert_eq!(usize::from(u16::from_be_bytes([pkt[4], pkt[5]])), 8 + 57);
    let icmp = &pkt[40..];
    assert_eq!(icmp[0], 129);
    assert_eq!(csum(&[&pseudo6(&pkt, icmp.len(), 58), icmp]), 0);
}

#[test]
fn ipv6_extension_headers_and_fragment_chain() {
    let ip = IpPacket {
        ipv6_ext: &[Ipv6Ext::HopByHop, Ipv6Ext::DestinationOptions],
        fragment: Some(Fragment {
            offset: 0,
            more: true,
        }),
        id: 0xdead_beef,
        ..IpPacket::new(
            v6(1),
            v6(2),
            Transport::Udp(UdpDatagram {
                src_port: 5,
                dst_port: 6,
                payload: Payload::Bytes(&[1, 2, 3]),
            }),
        )
    };
    let mut pkt = Vec::new();
    let n = ip.build(&mut pkt);
    assert_eq!(n, 40 + 8 + 8 + 8 + 11);
    assert_eq!(u16::from_be_bytes([pkt[4], pkt[5]]), 35);
    assert_eq!(pkt[6], 0, "hop-by-hop first");
    assert_eq!(&pkt[40..48], &[60, 0, 1, 4, 0, 0, 0, 0]);
    assert_eq!(&pkt[48..56], &[44, 0, 1, 4, 0, 0, 0, 0]);
    assert_eq!(&pkt[56..64], &[17, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef]);
    let udp = &pkt[64..];
    assert_eq!(csum(&[&pseudo6(&pkt, udp.len(), 17), udp]), 0);
}

#[test]
fn ipv4_fragment_fields_clear_df() {
    let ip = IpPacket {
        id: 0x0102,
        fragment: Some(Fragment {
            offset: 185,
            more: true,
        }),
        ..IpPacket::new(
            v4(1, 2, 3, 4),
            v4(5, 6, 7, 8),
            Transport::Raw {
                proto: 17,
                payload: Payload::Bytes(&[0xaa; 16]),
            },
        )
    };
    let mut pkt = Vec::new();
    ip.build(&mut pkt);
    assert_eq!(&pkt[4..8], &[0x01, 0x02, 0x20, 185]);
    assert_eq!(pkt[9], 17);
    assert_eq!(csum(&[&pkt[..20]]), 0);
    assert_eq!(&pkt[20..], &[0xaa; 16]);
}

#[test]
fn qinq_dns_response_with_compression_pointer() {
    let answers = [v4(192, 0, 2, 1), v6(9)];
    let dns = DnsMessage {
        id: 0xbeef,
        response: true,
        name: "www.example.com",
        qtype: DNS_TYPE_A,
        answers: &answers,
        ttl: 30,
        ..DnsMessage::default()
    };
    let frame = FrameSpec {
        vlans: &[VlanTag::dot1ad(200), VlanTag::dot1q(42)],
        ..FrameSpec::new(
            A,
            B,
            Body::Ip(IpPacket::new(
                v4(10, 0, 0, 53),
                v4(10, 0, 0, 9),
                Transport::Udp(UdpDatagram {
                    src_port: 53,
                    dst_port: 33333,
                    payload: Payload::Dns(dns),
                }),
            )),
        )
    }
    .to_vec();
    assert_eq!(
        &frame[12..22],
        &[0x88, 0xa8, 0x00, 200, 0x81, 0x00, 0x00, 42, 0x08, 0x00]
    );
    let ip = &frame[22..];
    assert_eq!(csum(&[&ip[..20]]), 0);
    let udp = &ip[20..];
    let msg = &udp[8..];
    assert_eq!(
        &msg[..12],
        &[0xbe, 0xef, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0]
    );
    assert_eq!(&msg[12..29], b"\x03www\x07example\x03com\x00");
    assert_eq!(&msg[29..33], &[0, 1, 0, 1]);
    assert_eq!(
        &msg[33..35],
        &[0xc0, 0x0c],
        "answer name is a pointer to the question"
    );
    assert_eq!(&msg[35..45], &[0, 1, 0, 1, 0, 0, 0, 30, 0, 4]);
    assert_eq!(&msg[45..49], &[192, 0, 2, 1]);
    assert_eq!(&msg[49..61], &[0xc0, 0x0c, 0, 28, 0, 1, 0, 0, 0, 30, 0, 16]);
    assert_eq!(msg.len(), 61 + 16);
    let mut pseudo = ip[12..20].to_vec();
    pseudo.extend_from_slice(&[0, 17]);
    pseudo.extend_from_slice(&(udp.len() as u16).to_be_bytes());
    assert_eq!(csum(&[&pseudo, udp]), 0);
}

#[test]
fn icmp_error_quoting_a_header_and_raw_bodies() {
    let mut quoted = Vec::new();
    IpPacket::new(
        v4(10, 0, 0, 9),
        v4(198, 18, 0, 1),
        Transport::Udp(UdpDatagram {
            src_port: 4000,
            dst_port: 4001,
            payload: Payload::Bytes(&[]),
        }),
    )
    .build(&mut quoted);
    let err = IpPacket::new(
        v4(198, 18, 0, 1),
        v4(10, 0, 0, 9),
        Transport::Icmp(IcmpMessage {
            ty: 3,
            code: 3,
            rest: [0; 4],
            payload: Payload::Bytes(&quoted),
        }),
    );
    let frame = FrameSpec::new(A, B, Body::Ip(err)).to_vec();
    let icmp = &frame[34..];
    assert_eq!(&icmp[..2], &[3, 3]);
    assert_eq!(csum(&[icmp]), 0);
    assert_eq!(&icmp[8..], &quoted[..]);

    let lldp = FrameSpec {
        pad: false,
        ..FrameSpec::new(
            A,
            B,
            Body::Raw {
                ethertype: 0x88cc,
                payload: &[1, 2],
            },
        )
    }
    .to_vec();
    assert_eq!(lldp.len(), 16);
    assert_eq!(&lldp[12..], &[0x88, 0xcc, 1, 2]);
}

#[test]
fn build_appends_and_mixed_families_become_mapped_ipv6() {
    let mut buf = vec![0xee];
    let ip = IpPacket::new(v4(192, 0, 2, 1), v6(1), Transport::default());
    let n = FrameSpec::new(A, B, Body::Ip(ip)).build(&mut buf);
    assert_eq!(n, 60);
    assert_eq!(buf.len(), 61);
    assert_eq!(buf[0], 0xee);
    assert_eq!(&buf[13..15], &[0x86, 0xdd]);
    assert_eq!(
        &buf[15 + 8..15 + 24],
        &Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped().octets()
    );
    assert_eq!(buf[15 + 6], 59, "no next header");
}

#[test]
fn hand_built_frames_make_a_readable_pcap() {
    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65535, false).unwrap();
    let frame = FrameSpec::new(
        A,
        B,
        Body::Ip(IpPacket::new(
            v4(1, 1, 1, 1),
            v4(2, 2, 2, 2),
            Transport::default(),
        )),
    )
    .to_vec();
    w.write_frame(Timestamp::from_secs_nanos(1, 500_000), &frame, 60)
        .unwrap();
    let bytes = w.finish().unwrap();
    assert_eq!(bytes.len(), 24 + 16 + 60);
    assert_eq!(&bytes[28..32], &500u32.to_le_bytes());
}

/// A variety of hand-built frames, for tshark to judge.
fn assorted_frames() -> Vec<Vec<u8>> {
    let answers = [v4(192, 0, 2, 1), v6(9)];
    let dns = |response| DnsMessage {
        id: 7,
        response,
        name: "host.example.org",
        answers: &answers,
        ..DnsMessage::default()
    };
    let udp = |payload| {
        Transport::Udp(UdpDatagram {
            src_port: 40001,
            dst_port: 53,
            payload,
        })
    };
    let tcp = |flags, options, payload| {
        Transport::Tcp(TcpSegment {
            src_port: 40002,
            dst_port: 9,
            seq: 100,
            ack: if flags & tcp_flags::ACK != 0 { 5 } else { 0 },
            flags,
            options,
            payload,
            ..Default::default()
        })
    };
    let ips = [
        IpPacket::new(
            v4(10, 0, 0, 2),
            v4(10, 0, 0, 53),
            udp(Payload::Dns(dns(false))),
        ),
        IpPacket::new(v6(2), v6(53), udp(Payload::Dns(dns(true)))),
        IpPacket::new(
            v4(10, 0, 0, 2),
            v4(10, 0, 0, 3),
            tcp(
                tcp_flags::SYN,
                TcpOptions::syn(1460, 1, 0),
                Payload::default(),
            ),
        ),
        IpPacket {
            ipv6_ext: &[Ipv6Ext::HopByHop, Ipv6Ext::DestinationOptions],
            ..IpPacket::new(
                v6(2),
                v6(3),
                tcp(
                    tcp_flags::PSH | tcp_flags::ACK,
                    TcpOptions::timestamps(5, 6),
                    Payload::Filled {
                        head: b"",
                        fill: 1000,
                        tail: b"",
                        seed: 1,
                    },
                ),
            )
        },
        IpPacket::new(
            v6(2),
            v6(3),
            Transport::Echo(Echo {
                reply: false,
                ident: 1,
                seq: 1,
                payload: Payload::Bytes(&[0; 56]),
            }),
        ),
    ];
    let mut frames: Vec<Vec<u8>> = ips
        .iter()
        .map(|ip| FrameSpec::new(A, B, Body::Ip(*ip)).to_vec())
        .collect();
    for ip in &ips[..3] {
        let frame = FrameSpec {
            vlans: &[VlanTag::dot1ad(100), VlanTag::dot1q(10)],
            ..FrameSpec::new(A, B, Body::Ip(*ip))
        };
        frames.push(frame.to_vec());
    }
    let req = ArpPacket::request(A, Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 1));
    frames.push(FrameSpec::new(A, BROADCAST_MAC, Body::Arp(req)).to_vec());
    frames
}

#[test]
fn tshark_finds_nothing_malformed_in_hand_built_frames() {
    if !std::process::Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        wirewatch_testkit::skip(format_args!("tshark not installed"));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("built.pcap");
    let file = std::fs::File::create(&path).unwrap();
    let mut w = PcapWriter::new(file, LinkType::ETHERNET, 65535, true).unwrap();
    let frames = assorted_frames();
    for (i, f) in frames.iter().enumerate() {
        w.write_frame(Timestamp(i as u64 * 1000), f, f.len() as u32)
            .unwrap();
    }
    w.finish().unwrap();
    let out = std::process::Command::new("tshark")
        .args([
            "-n",
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "udp.check_checksum:TRUE",
        ])
        .args([
            "-o",
            "ip.check_checksum:TRUE",
            "-T",
            "fields",
            "-E",
            "separator=|",
        ])
        .args([
            "-e",
            "frame.protocols",
            "-e",
            "_ws.malformed",
            "-e",
            "_ws.expert.severity",
        ])
        .args(["-e", "tcp.checksum.status", "-e", "udp.checksum.status"])
        .args([
            "-e",
            "ip.checksum.status",
            "-e",
            "icmpv6.checksum.status",
            "-r",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), frames.len());
    for line in lines {
        let cols: Vec<&str> = line.split('|').collect();
        assert_eq!(cols[1], "", "malformed: {line}");
        // Expert severities print in decimal; 0x00800000 is "error" (0x600000 warning: the
        // tagged copy of the DNS query is reported as a retransmission, which is right).
        for sev in cols[2].split(',').filter(|s| !s.is_empty()) {
            let v: u32 = sev.parse().unwrap();
            assert!(v < 0x0080_0000, "expert error: {line}");
        }
        // Checksum status 1 is "good"; empty means that layer is absent.
        for status in &cols[3..] {
            assert!(status.is_empty() || *status == "1", "bad checksum: {line}");
        }
    }
    assert!(text.contains("dns"), "{text}");
}
