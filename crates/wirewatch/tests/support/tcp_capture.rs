//! A capture of TCP connections whose health is known by construction: each a handshake with a
//! chosen round-trip time, 100 bytes of data sent again as often as asked before it is
//! acknowledged, and a FIN close (as `tests/tcp_health.rs` builds its cases; the browser tests'
//! `web/test/browser/pcap.mjs` writes the same connections).

use std::net::IpAddr;
use std::path::Path;
use wirewatch_capture::synth::{
    Body, FrameSpec, IpPacket, Payload, PcapWriter, TcpOptions, TcpSegment, Transport,
};
use wirewatch_core::proto::tcp_flags::{ACK, FIN, PSH, SYN};
use wirewatch_core::{LinkType, Timestamp};

/// One connection: client and server address, client port, start and handshake RTT in
/// milliseconds, and how many times its data segment is retransmitted.
pub struct Conn {
    pub client: &'static str,
    pub server: &'static str,
    pub port: u16,
    pub start_ms: u64,
    pub rtt_ms: u64,
    pub retransmissions: u32,
}

/// The panel tests' connections: the slowest handshake is 192.0.2.30's (310 ms), the only
/// loss is 192.0.2.40's (two retransmissions).
pub const CONNS: [Conn; 4] = [
    Conn {
        client: "10.88.0.1",
        server: "192.0.2.10",
        port: 40001,
        start_ms: 0,
        rtt_ms: 12,
        retransmissions: 0,
    },
    Conn {
        client: "10.88.0.2",
        server: "192.0.2.20",
        port: 40002,
        start_ms: 1000,
        rtt_ms: 48,
        retransmissions: 0,
    },
    Conn {
        client: "10.88.0.3",
        server: "192.0.2.30",
        port: 40003,
        start_ms: 2000,
        rtt_ms: 310,
        retransmissions: 0,
    },
    Conn {
        client: "10.88.0.4",
        server: "192.0.2.40",
        port: 40004,
        start_ms: 3000,
        rtt_ms: 25,
        retransmissions: 2,
    },
];

/// Packet time of the capture's start: 2023-11-14 22:13:20 UTC.
pub const START_S: u64 = 1_700_000_000;

/// Writes `conns` (server port 443, client ISN 1000, server ISN 5000) to `path`, in time
/// order; returns the number of frames.
pub fn write(path: &Path, conns: &[Conn]) -> u64 {
    let mut frames: Vec<(Timestamp, Vec<u8>)> = Vec::new();
    for c in conns {
        let client: IpAddr = c.client.parse().unwrap();
        let server: IpAddr = c.server.parse().unwrap();
        let mut seg = |from_client: bool, ms: u64, seq: u32, ack: u32, flags: u8, len: usize| {
            let (src, dst, sport, dport) = if from_client {
                (client, server, c.port, 443)
            } else {
                (server, client, 443, c.port)
            };
            let tcp = TcpSegment {
                src_port: sport,
                dst_port: dport,
                seq,
                ack,
                flags,
                options: if flags & SYN != 0 {
                    TcpOptions::syn(1460, 0, 0)
                } else {
                    TcpOptions::default()
                },
                payload: Payload::Filled {
                    head: b"",
                    fill: len,
                    tail: b"",
                    seed: seq,
                },
                ..TcpSegment::default()
            };
            let (smac, dmac) = if from_client {
                ([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            } else {
                ([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1])
            };
            let ip = IpPacket::new(src, dst, Transport::Tcp(tcp));
            let ns = (START_S * 1000 + c.start_ms + ms) * 1_000_000;
            frames.push((
                Timestamp(ns),
                FrameSpec::new(smac, dmac, Body::Ip(ip)).to_vec(),
            ));
        };
        let rtt = c.rtt_ms;
        seg(true, 0, 1000, 0, SYN, 0);
        seg(false, rtt / 2, 5000, 1001, SYN | ACK, 0);
        seg(true, rtt, 1001, 5001, ACK, 0);
        seg(true, rtt + 1, 1001, 5001, ACK | PSH, 100);
        let mut t = rtt + 1;
        for _ in 0..c.retransmissions {
            t += 300;
            seg(true, t, 1001, 5001, ACK | PSH, 100);
        }
        seg(false, t + rtt, 5001, 1101, ACK, 0);
        seg(true, t + rtt + 1, 1101, 5001, FIN | ACK, 0);
        seg(false, t + 2 * rtt, 5001, 1102, FIN | ACK, 0);
        seg(true, t + 2 * rtt + 1, 1102, 5002, ACK, 0);
    }
    frames.sort_by_key(|(ts, _)| *ts);
    let file = std::fs::File::create(path).unwrap();
    let mut w = PcapWriter::new(file, LinkType::ETHERNET, 65535, true).unwrap();
    for (ts, f) in &frames {
        w.write_frame(*ts, f, f.len() as u32).unwrap();
    }
    w.finish().unwrap();
    frames.len() as u64
}
