//! Packet builders shared by the flow-table tests.

#![allow(clippy::unwrap_used, dead_code)] // test helpers; each test file uses some

use std::net::IpAddr;
use wirewatch_decode::{Network, Packet, TcpInfo, Transport, UdpInfo};

/// An address from its text.
pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A TCP packet over IPv4 with `len` payload bytes.
pub fn tcp(src: &str, sp: u16, dst: &str, dp: u16, flags: u8, len: usize) -> Packet {
    Packet {
        class: wirewatch_core::ProtoClass::Tcp,
        network: Network::Ipv4,
        has_src: true,
        has_dst: true,
        src: ip(src),
        dst: ip(dst),
        ip_proto: 6,
        transport: Transport::Tcp(TcpInfo {
            src_port: sp,
            dst_port: dp,
            seq: 0,
            ack: 0,
            flags,
            window: 1024,
            header_len: 20,
            options: Default::default(),
        }),
        payload_len: len as u32,
        ..Packet::default()
    }
}

/// A UDP packet over IPv4 with `len` payload bytes.
pub fn udp(src: &str, sp: u16, dst: &str, dp: u16, len: usize) -> Packet {
    Packet {
        class: wirewatch_core::ProtoClass::Udp,
        network: Network::Ipv4,
        has_src: true,
        has_dst: true,
        src: ip(src),
        dst: ip(dst),
        ip_proto: 17,
        transport: Transport::Udp(UdpInfo {
            src_port: sp,
            dst_port: dp,
            length: (len + 8) as u16,
        }),
        payload_len: len as u32,
        ..Packet::default()
    }
}
