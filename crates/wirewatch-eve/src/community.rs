//! Community ID flow hashing, version 1 (the Corelight specification that Zeek, Suricata,
//! Wireshark and Elastic implement).
//!
//! The hash input is, in network byte order: the 2-byte seed, the source address, the
//! destination address (4 or 16 bytes each), the IP protocol (1 byte), one zero byte of padding
//! and, for TCP, UDP, SCTP, ICMP and ICMPv6 only, the source and destination ports (2 bytes
//! each). The endpoints are ordered first so both directions of a conversation give the same
//! hash: the smaller address (compared as bytes) comes first, the ports deciding between equal
//! addresses. ICMP and ICMPv6 have no ports: the type stands in for the source port and, for a
//! message that has a counterpart (echo request and reply, router solicitation and
//! advertisement, ...), the counterpart's type for the destination port; any other message
//! uses its code and is *one-way*: its endpoints are never swapped. The SHA-1 digest is
//! rendered in standard base64 behind the version prefix `1:`.

use base64::Engine as _;
use sha1::{Digest, Sha1};
use std::net::IpAddr;
use wirewatch_core::FlowRecord;

/// IP protocol number of ICMP.
pub const PROTO_ICMP: u8 = 1;
/// IP protocol number of TCP.
pub const PROTO_TCP: u8 = 6;
/// IP protocol number of UDP.
pub const PROTO_UDP: u8 = 17;
/// IP protocol number of ICMPv6.
pub const PROTO_ICMPV6: u8 = 58;
/// IP protocol number of SCTP.
pub const PROTO_SCTP: u8 = 132;

/// The version prefix of a version 1 Community ID.
const VERSION_PREFIX: &str = "1:";
/// Length of a SHA-1 digest.
pub const DIGEST_LEN: usize = 20;
/// Longest hash input: seed, two IPv6 addresses, protocol, padding, two ports.
const MAX_INPUT_LEN: usize = 2 + 16 + 16 + 1 + 1 + 2 + 2;

/// ICMP (v4) types that have a counterpart, with it: echo, timestamp, information, router
/// solicitation/advertisement and address mask requests and replies.
const ICMP4_COUNTERPARTS: [(u8, u8); 10] = [
    (8, 0),
    (0, 8),
    (13, 14),
    (14, 13),
    (15, 16),
    (16, 15),
    (10, 9),
    (9, 10),
    (17, 18),
    (18, 17),
];

/// ICMPv6 types that have a counterpart, with it: echo, multicast listener query/report,
/// router and neighbor solicitation/advertisement, node information ("who are you") and home
/// agent address discovery requests and replies.
const ICMP6_COUNTERPARTS: [(u8, u8); 12] = [
    (128, 129),
    (129, 128),
    (130, 131),
    (131, 130),
    (133, 134),
    (134, 133),
    (135, 136),
    (136, 135),
    (139, 140),
    (140, 139),
    (144, 145),
    (145, 144),
];

/// ICMP echo request type.
const ICMP4_ECHO_REQUEST: u16 = 8;
/// ICMPv6 echo request type.
const ICMP6_ECHO_REQUEST: u16 = 128;
/// ICMP destination unreachable, whose "port unreachable" code equals the type: a flow record
/// keyed `(3, 3)` is that message, or an echo flow with identifier 3.
const ICMP4_UNREACHABLE: u16 = 3;
/// ICMPv6 destination unreachable, whose "administratively prohibited" code equals the type.
const ICMP6_UNREACHABLE: u16 = 1;

/// Whether the protocol's hash input includes ports.
fn has_ports(proto: u8) -> bool {
    matches!(
        proto,
        PROTO_TCP | PROTO_UDP | PROTO_SCTP | PROTO_ICMP | PROTO_ICMPV6
    )
}

/// Maps an ICMP/ICMPv6 type and code to port equivalents: `(type, counterpart type, false)`
/// for a message with a counterpart, `(type, code, true)` (one-way) for any other.
fn icmp_ports(proto: u8, icmp_type: u16, code: u16) -> (u16, u16, bool) {
    let table: &[(u8, u8)] = if proto == PROTO_ICMP {
        &ICMP4_COUNTERPARTS
    } else {
        &ICMP6_COUNTERPARTS
    };
    table
        .iter()
        .find(|(t, _)| u16::from(*t) == icmp_type)
        .map_or((icmp_type, code, true), |(_, other)| {
            (icmp_type, u16::from(*other), false)
        })
}

/// An address as hashed: its bytes in network order.
fn addr_bytes(ip: IpAddr) -> ([u8; 16], usize) {
    let mut out = [0u8; 16];
    match ip {
        IpAddr::V4(a) => {
            out[..4].copy_from_slice(&a.octets());
            (out, 4)
        }
        IpAddr::V6(a) => {
            out.copy_from_slice(&a.octets());
            (out, 16)
        }
    }
}

/// The SHA-1 digest of a Community ID. For ICMP (1) and ICMPv6 (58), `sport` is the message
/// type and `dport` its code; for protocols other than TCP, UDP, SCTP and the ICMPs the ports
/// are ignored.
pub fn community_id_hash(
    proto: u8,
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    seed: u16,
) -> [u8; DIGEST_LEN] {
    let (sport, dport, one_way) = if proto == PROTO_ICMP || proto == PROTO_ICMPV6 {
        icmp_ports(proto, sport, dport)
    } else {
        (sport, dport, false)
    };
    let (sbuf, slen) = addr_bytes(src);
    let (dbuf, dlen) = addr_bytes(dst);
    let (s, d) = (&sbuf[..slen], &dbuf[..dlen]);
    let ordered = one_way || s < d || (s == d && sport < dport);
    let (a, b, pa, pb) = if ordered {
        (s, d, sport, dport)
    } else {
        (d, s, dport, sport)
    };
    let mut input = [0u8; MAX_INPUT_LEN];
    let mut n = 0;
    for part in [&seed.to_be_bytes()[..], a, b, &[proto, 0]] {
        input[n..n + part.len()].copy_from_slice(part);
        n += part.len();
    }
    if has_ports(proto) {
        for port in [pa, pb] {
            input[n..n + 2].copy_from_slice(&port.to_be_bytes());
            n += 2;
        }
    }
    Sha1::digest(&input[..n]).into()
}

/// The Community ID (`1:` + base64 of the SHA-1 digest) of a flow tuple. For ICMP (1) and
/// ICMPv6 (58), `sport` is the message type and `dport` its code.
pub fn community_id(
    proto: u8,
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    seed: u16,
) -> String {
    render(&community_id_hash(proto, src, dst, sport, dport, seed))
}

/// Renders a digest as a Community ID string.
pub fn render(digest: &[u8; DIGEST_LEN]) -> String {
    let mut out = String::from(VERSION_PREFIX);
    base64::engine::general_purpose::STANDARD.encode_string(digest, &mut out);
    out
}

/// The EVE `flow_id` of a digest: its first 8 bytes as a big-endian number with the top bit
/// cleared, so it also fits the signed 64-bit integers SIEMs store it in.
pub fn flow_id_of(digest: &[u8; DIGEST_LEN]) -> u64 {
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) & (u64::MAX >> 1)
}

/// The tuple of a flow record as the Community ID hashes it: `(proto, src, dst, sport, dport)`,
/// where for ICMP the ports are the type and code the initiator sent.
///
/// Flow records do not keep ICMP types: an echo flow is keyed by its identifier on both sides,
/// any other message by its type and code. A record whose two "ports" are equal is taken for
/// an echo flow opened by a request (so a capture that starts with the reply gives a
/// different ID than a packet-based tool), except when they equal destination unreachable's
/// type (3 for ICMP, 1 for ICMPv6, whose port unreachable / administratively prohibited codes
/// equal it) and nothing came back: that is an error message.
pub fn record_tuple(record: &FlowRecord) -> (u8, IpAddr, IpAddr, u16, u16) {
    let proto = record.ip_proto;
    let (mut sport, mut dport) = (record.src_port, record.dst_port);
    if (proto == PROTO_ICMP || proto == PROTO_ICMPV6) && sport == dport {
        let (request, unreachable) = if proto == PROTO_ICMP {
            (ICMP4_ECHO_REQUEST, ICMP4_UNREACHABLE)
        } else {
            (ICMP6_ECHO_REQUEST, ICMP6_UNREACHABLE)
        };
        if !(sport == unreachable && record.rev.packets == 0) {
            (sport, dport) = (request, 0);
        }
    }
    (proto, record.src_ip, record.dst_ip, sport, dport)
}

/// Whether a flow record of ICMP/ICMPv6 is taken for an echo flow (see [`record_tuple`]).
pub fn record_is_echo(record: &FlowRecord) -> bool {
    let (proto, _, _, sport, _) = record_tuple(record);
    (proto == PROTO_ICMP && sport == ICMP4_ECHO_REQUEST)
        || (proto == PROTO_ICMPV6 && sport == ICMP6_ECHO_REQUEST)
}

/// The Community ID digest of a flow record (see [`record_tuple`] for ICMP).
pub fn record_hash(record: &FlowRecord, seed: u16) -> [u8; DIGEST_LEN] {
    let (proto, src, dst, sport, dport) = record_tuple(record);
    community_id_hash(proto, src, dst, sport, dport, seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn tcp_vector_and_its_reverse() {
        let a = ip("128.232.110.120");
        let b = ip("66.35.250.204");
        assert_eq!(
            community_id(6, a, b, 34855, 80, 0),
            "1:LQU9qZlK+B5F3KDmev6m5PMibrg="
        );
        assert_eq!(
            community_id(6, b, a, 80, 34855, 0),
            "1:LQU9qZlK+B5F3KDmev6m5PMibrg="
        );
    }

    #[test]
    fn one_way_icmp_is_never_swapped() {
        // Time exceeded (11) from the larger address: swapping would change the hash.
        let hi = ip("10.0.0.2");
        let lo = ip("10.0.0.1");
        let fwd = community_id(1, hi, lo, 11, 0, 0);
        let rev = community_id(1, lo, hi, 11, 0, 0);
        assert_ne!(fwd, rev);
        // An echo request and its reply pair up whichever side is larger.
        assert_eq!(
            community_id(1, hi, lo, 8, 0, 0),
            community_id(1, lo, hi, 0, 0, 0)
        );
    }

    #[test]
    fn ports_are_ignored_for_portless_protocols() {
        let a = ip("10.1.12.1");
        let b = ip("10.1.12.2");
        assert_eq!(
            community_id(46, a, b, 0, 0, 0),
            community_id(46, b, a, 1234, 80, 0)
        );
        assert_eq!(
            community_id(46, a, b, 0, 0, 0),
            "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="
        );
    }

    #[test]
    fn flow_ids_fit_a_signed_integer() {
        let d = [0xffu8; DIGEST_LEN];
        assert_eq!(flow_id_of(&d), i64::MAX as u64);
        let mut d = [0u8; DIGEST_LEN];
        d[7] = 5;
        assert_eq!(flow_id_of(&d), 5);
    }

    fn icmp_record(proto: u8, sport: u16, dport: u16, replies: u64) -> FlowRecord {
        FlowRecord {
            ip_proto: proto,
            src_ip: ip("192.168.0.89"),
            src_port: sport,
            dst_ip: ip("192.168.0.1"),
            dst_port: dport,
            fwd: wirewatch_core::flow::DirectionStats {
                packets: 1,
                ..Default::default()
            },
            rev: wirewatch_core::flow::DirectionStats {
                packets: replies,
                ..Default::default()
            },
            first_ts: wirewatch_core::Timestamp(0),
            last_ts: wirewatch_core::Timestamp(0),
            state: wirewatch_core::TcpState::None,
            end_reason: wirewatch_core::EndReason::EndOfCapture,
            app: Default::default(),
            details: None,
            reputation: None,
            features: None,
            tcp_health: None,
            vlan: None,
            tunnel: None,
        }
    }

    #[test]
    fn icmp_records_map_back_to_types() {
        // An echo flow (identifier 0x1234 on both sides) hashes as echo request → reply.
        let echo = icmp_record(1, 0x1234, 0x1234, 1);
        assert!(record_is_echo(&echo));
        assert_eq!(
            render(&record_hash(&echo, 0)),
            "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="
        );
        // Port unreachable (3/3) without an answer is the error, with one an echo flow.
        assert_eq!(record_tuple(&icmp_record(1, 3, 3, 0)).3, 3);
        assert_eq!(record_tuple(&icmp_record(1, 3, 3, 2)).3, 8);
        // Other messages keep type and code.
        let te = icmp_record(1, 11, 0, 0);
        assert!(!record_is_echo(&te));
        assert_eq!(record_tuple(&te), (1, te.src_ip, te.dst_ip, 11, 0));
        // ICMPv6 echo.
        assert_eq!(record_tuple(&icmp_record(58, 7, 7, 0)).3, 128);
        assert_eq!(record_tuple(&icmp_record(58, 1, 1, 0)).3, 1);
    }
}
