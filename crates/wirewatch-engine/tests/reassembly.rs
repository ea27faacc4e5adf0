//! The engine with fragment reassembly: every fragment counts as a packet with its own bytes,
//! the reassembled datagram's payload is what the application layer reads.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use wirewatch_core::{FlowRecord, Frame, LinkType, Timestamp};
use wirewatch_engine::{Engine, EngineConfig, Sink};
use wirewatch_flow::FlowConfig;
use wirewatch_flow::reassembly::DatagramDrop;

#[derive(Default)]
struct Flows(Vec<FlowRecord>);

impl Sink for Flows {
    fn flow(&mut self, record: &FlowRecord) {
        self.0.push(record.clone());
    }
}

/// An IPv4 header from 192.0.2.53 to 198.51.100.7 (UDP) for `len` bytes of data.
fn v4_header(id: u16, offset: usize, more: bool, len: usize) -> Vec<u8> {
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&((20 + len) as u16).to_be_bytes());
    h.extend_from_slice(&id.to_be_bytes());
    let flags = (offset / 8) as u16 | if more { 0x2000 } else { 0 };
    h.extend_from_slice(&flags.to_be_bytes());
    h.extend_from_slice(&[64, 17, 0, 0, 192, 0, 2, 53, 198, 51, 100, 7]);
    h
}

/// A DNS answer from port 53 for www.example.com whose A record (203.0.113.9) comes after
/// 2,900 bytes of another record, as UDP data.
fn dns_answer_udp() -> Vec<u8> {
    let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
    for label in ["www", "example", "com"] {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.extend_from_slice(&[0, 0, 1, 0, 1]);
    m.extend_from_slice(&[0xc0, 12, 0, 16, 0, 1, 0, 0, 1, 44]);
    m.extend_from_slice(&2900u16.to_be_bytes());
    m.extend(std::iter::repeat_n(b'x', 2900));
    m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 203, 0, 113, 9]);
    let mut u = 53u16.to_be_bytes().to_vec();
    u.extend_from_slice(&40_000u16.to_be_bytes());
    u.extend_from_slice(&((8 + m.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(&m);
    u
}

/// The answer in fragments of 1,480 bytes, as raw IP frames.
fn fragments() -> Vec<Vec<u8>> {
    let data = dns_answer_udp();
    (0..data.len())
        .step_by(1480)
        .map(|off| {
            let end = (off + 1480).min(data.len());
            let mut f = v4_header(0x77, off, end < data.len(), end - off);
            f.extend_from_slice(&data[off..end]);
            f
        })
        .collect()
}

fn run(config: &EngineConfig, frames: &[Vec<u8>]) -> (Engine, Vec<FlowRecord>) {
    let mut engine = Engine::new(config);
    let mut sink = Flows::default();
    for (i, data) in frames.iter().enumerate() {
        let frame = Frame {
            ts: Timestamp::from_secs_nanos(1_700_000_000, i as u64 * 1_000),
            linktype: LinkType::RAW,
            data,
            wire_len: data.len() as u32,
            interface: 0,
        };
        engine.process(&frame, &mut sink);
    }
    let learned = engine
        .host_name("203.0.113.9".parse().unwrap())
        .map(str::to_string);
    engine.finish(&mut sink);
    assert_eq!(learned.is_some(), config.flows.ip_reassembly, "{learned:?}");
    (engine, sink.0)
}

#[test]
fn fragments_count_as_packets_and_the_datagram_is_read_whole() {
    let frames = fragments();
    assert_eq!(frames.len(), 3);
    let bytes: u64 = frames.iter().map(|f| f.len() as u64).sum();
    for ip_reassembly in [true, false] {
        let config = EngineConfig {
            flows: FlowConfig {
                ip_reassembly,
                ..FlowConfig::default()
            },
            ..EngineConfig::default()
        };
        let (engine, flows) = run(&config, &frames);
        // The same counts either way: three packets, each with its own bytes, in one flow.
        let c = &engine.totals().counters;
        assert_eq!((c.packets, c.bytes), (3, bytes));
        assert_eq!(flows.len(), 1);
        let f = &flows[0];
        assert_eq!((f.fwd.packets, f.fwd.bytes), (3, bytes));
        assert_eq!((f.src_port, f.dst_port), (53, 40_000));
        let s = engine.flow_stats().reassembly;
        if ip_reassembly {
            assert_eq!((s.fragments, s.reassembled), (3, 1));
        } else {
            assert_eq!(s, Default::default());
        }
    }
}

#[test]
fn an_incomplete_datagram_is_counted_when_the_run_ends() {
    let frames = fragments();
    let config = EngineConfig::default();
    let mut engine = Engine::new(&config);
    let mut sink = Flows::default();
    for data in &frames[..2] {
        let frame = Frame {
            ts: Timestamp::from_secs_nanos(1_700_000_000, 0),
            linktype: LinkType::RAW,
            data,
            wire_len: data.len() as u32,
            interface: 0,
        };
        engine.process(&frame, &mut sink);
    }
    engine.finish(&mut sink);
    let s = engine.flow_stats().reassembly;
    assert_eq!(s.abandoned(DatagramDrop::Flushed), 1);
    assert_eq!(s.fragments_abandoned, 2);
    assert_eq!(engine.totals().counters.packets, 2);
}

#[test]
fn an_ipv6_atomic_fragment_is_a_packet_as_it_is() {
    // RFC 6946: a fragment header with offset 0 and M = 0 around a whole UDP datagram.
    let udp = [0x30, 0x39, 0, 53, 0, 12, 0, 0, 1, 2, 3, 4];
    let mut frame = vec![0x60, 0, 0, 0, 0, (8 + udp.len()) as u8, 44, 64];
    frame.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    frame.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    frame.extend_from_slice(&[17, 0, 0, 0, 0, 0, 0, 9]);
    frame.extend_from_slice(&udp);
    let mut engine = Engine::new(&EngineConfig::default());
    let mut sink = Flows::default();
    engine.process(
        &Frame {
            ts: Timestamp::from_secs_nanos(1_700_000_000, 0),
            linktype: LinkType::RAW,
            data: &frame,
            wire_len: frame.len() as u32,
            interface: 0,
        },
        &mut sink,
    );
    engine.finish(&mut sink);
    let s = engine.flow_stats().reassembly;
    assert_eq!((s.fragments, s.atomic, s.reassembled), (1, 1, 0));
    assert_eq!(sink.0.len(), 1);
    assert_eq!((sink.0[0].src_port, sink.0[0].dst_port), (12345, 53));
}

/// A VXLAN packet (to UDP 4789) around an Ethernet frame with the DNS answer (10.0.0.53 →
/// 10.0.0.7), its outer IPv4 datagram cut in fragments of `size` bytes.
fn fragmented_vxlan(size: usize) -> Vec<Vec<u8>> {
    let mut inner = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00];
    let dns = dns_answer_udp();
    inner.extend_from_slice(&[0x45, 0]);
    inner.extend_from_slice(&((20 + dns.len()) as u16).to_be_bytes());
    inner.extend_from_slice(&[0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 53, 10, 0, 0, 7]);
    inner.extend_from_slice(&dns);
    let mut outer = 50_000u16.to_be_bytes().to_vec();
    outer.extend_from_slice(&4789u16.to_be_bytes());
    outer.extend_from_slice(&((16 + inner.len()) as u16).to_be_bytes());
    outer.extend_from_slice(&[0, 0, 0x08, 0, 0, 0, 0, 0, 42, 0]);
    outer.extend_from_slice(&inner);
    (0..outer.len())
        .step_by(size)
        .map(|off| {
            let end = (off + size).min(outer.len());
            let mut f = v4_header(0x88, off, end < outer.len(), end - off);
            f.extend_from_slice(&outer[off..end]);
            f
        })
        .collect()
}

/// A tunnel packet fragmented on its way is opened once, whole, when its last fragment
/// arrives: one inner packet in the inner flow (naming its tunnel), its DNS answer read, the
/// outer fragments counted in the outer flow.
#[test]
fn a_fragmented_tunnel_packet_is_opened_whole_once() {
    let frames = fragmented_vxlan(1480);
    assert_eq!(frames.len(), 3);
    // `run` checks the DNS answer inside was read (its name learned).
    let (engine, flows) = run(&EngineConfig::default(), &frames);
    assert_eq!(engine.tunnelled_packets(), 1);
    let outer = flows.iter().find(|f| f.dst_port == 4789).expect("outer");
    assert_eq!(outer.fwd.packets, 3);
    let inner = flows.iter().find(|f| f.src_port == 53).expect("inner");
    assert_eq!(inner.fwd.packets, 1);
    assert_eq!(inner.fwd.bytes, frames.last().unwrap().len() as u64);
    let parent = inner.tunnel.as_ref().expect("tunnel parent");
    assert_eq!((parent.kind.as_str(), parent.dst_port), ("vxlan", 4789));
    assert_eq!(flows.len(), 2);
}
