//! Hand-made packets, intervals and flows for the detectors' unit tests.

use std::net::IpAddr;
use wirewatch_core::flow::DirectionStats;
use wirewatch_core::time::NANOS_PER_SEC;
use wirewatch_core::{EndReason, FlowRecord, IntervalMetrics, ProtoClass, TcpState, Timestamp};
use wirewatch_decode::{IcmpInfo, Network, Packet, TcpInfo, Transport, UdpInfo};

/// 2024-01-01T00:00:00Z.
pub const T0: u64 = 1_704_067_200;

/// Packet time `secs` seconds after [`T0`].
pub fn at(secs: f64) -> Timestamp {
    Timestamp(T0 * NANOS_PER_SEC + (secs * NANOS_PER_SEC as f64) as u64)
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The 1-second interval number `i` after [`T0`] with `packets` frames of `bytes` in total.
pub fn interval(i: u64, packets: u64, bytes: u64) -> IntervalMetrics {
    IntervalMetrics {
        start_ts: Timestamp((T0 + i) * NANOS_PER_SEC),
        duration_ns: NANOS_PER_SEC,
        packets,
        bytes,
        pps: packets as f64,
        bps: bytes as f64 * 8.0,
        ..IntervalMetrics::default()
    }
}

fn base(src: &str, dst: &str, proto: u8, transport: Transport) -> Packet {
    let (src, dst) = (ip(src), ip(dst));
    Packet {
        class: ProtoClass::from_ip_proto(proto),
        network: if src.is_ipv4() {
            Network::Ipv4
        } else {
            Network::Ipv6
        },
        src,
        dst,
        has_src: true,
        has_dst: true,
        ip_proto: proto,
        ttl: 64,
        ip_len: 40,
        transport,
        ..Packet::default()
    }
}

pub fn tcp(src: &str, sport: u16, dst: &str, dport: u16, flags: u8) -> Packet {
    base(
        src,
        dst,
        6,
        Transport::Tcp(TcpInfo {
            src_port: sport,
            dst_port: dport,
            seq: 0,
            ack: 0,
            flags,
            window: 1024,
            header_len: 20,
            options: Default::default(),
        }),
    )
}

pub fn udp(src: &str, sport: u16, dst: &str, dport: u16) -> Packet {
    base(
        src,
        dst,
        17,
        Transport::Udp(UdpInfo {
            src_port: sport,
            dst_port: dport,
            length: 8,
        }),
    )
}

pub fn icmp_echo(src: &str, dst: &str, reply: bool) -> Packet {
    base(
        src,
        dst,
        1,
        Transport::Icmp(IcmpInfo {
            icmp_type: if reply { 0 } else { 8 },
            code: 0,
            echo: Some((1, 1)),
        }),
    )
}

/// A TCP flow record from `src` to `dst:dport` with `(client, server)` packets, lasting `secs`
/// and ending at `end`.
pub fn tcp_flow(
    src: &str,
    dst: &str,
    dport: u16,
    state: TcpState,
    (fwd_packets, rev_packets): (u64, u64),
    end: Timestamp,
    secs: f64,
) -> FlowRecord {
    let dur = (secs * NANOS_PER_SEC as f64) as u64;
    FlowRecord {
        ip_proto: 6,
        src_ip: ip(src),
        src_port: 40_000,
        dst_ip: ip(dst),
        dst_port: dport,
        fwd: DirectionStats {
            packets: fwd_packets,
            bytes: fwd_packets * 80,
            payload_bytes: 0,
            tcp_flags: 0,
            payload_packets: 0,
            repeated_small_payloads: 0,
            last_payload_len: 0,
        },
        rev: DirectionStats {
            packets: rev_packets,
            bytes: rev_packets * 80,
            payload_bytes: 0,
            tcp_flags: 0,
            payload_packets: 0,
            repeated_small_payloads: 0,
            last_payload_len: 0,
        },
        first_ts: Timestamp(end.nanos().saturating_sub(dur)),
        last_ts: end,
        state,
        end_reason: EndReason::Rst,
        app: Default::default(),
        details: None,
        reputation: None,
        features: None,
        tcp_health: None,
        vlan: None,
        tunnel: None,
    }
}

/// What the flow table says of a packet: whether it starts a flow, is the responder's first
/// packet, completes a TCP handshake.
pub fn in_flow(new_flow: bool, first_reply: bool, handshake_completed: bool) -> crate::Ingested {
    crate::Ingested {
        new_flow,
        first_in_epoch: new_flow,
        forward: !first_reply,
        app: wirewatch_core::AppProto::Unknown,
        first_reply,
        handshake_completed,
        tcp: Default::default(),
    }
}
