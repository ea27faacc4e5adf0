//! The flow table with reassembly: fragments count as packets, the datagram is inspected whole.

use super::*;
use wirewatch_flow::{FlowConfig, FlowTable};

/// Feeds frames (raw IP) the way the engine does: each fragment counted with no payload
/// inspected and handed to the reassembler; the datagram inspected in its flow, or — when its
/// first fragment showed no ports — the completing frame counted as the datagram's packet.
fn ingest(
    table: &mut FlowTable,
    frames: &[Vec<u8>],
    ts: wirewatch_core::Timestamp,
) -> Option<wirewatch_flow::ReassembledPacket> {
    let mut done = None;
    for f in frames {
        let pkt = decode(LinkType::RAW, f);
        let held = table.reassembles() && pkt.fragment.is_some_and(|f| f.more || f.offset != 0);
        let d = if held {
            table.reassemble(pkt.ip_bytes(f), ts)
        } else {
            None
        };
        match &d {
            Some(d) if d.packet.ports().is_some() && table.keyless_fragment(&pkt, ts) => {
                table.ingest_with_payload(&d.packet, d.payload(), f.len() as u32, ts);
            }
            _ => {
                let payload = if held { &[][..] } else { pkt.payload(f) };
                table.ingest_with_payload(&pkt, payload, f.len() as u32, ts);
                if let Some(d) = &d {
                    table.inspect_reassembled(d, &pkt, ts);
                }
            }
        }
        if d.is_some() {
            assert!(done.is_none());
            done = d;
        }
    }
    done
}

#[test]
fn a_fragmented_dns_answer_is_read_whole() {
    // The A record sits in the last fragment, out of reach of the first one's payload.
    let payload = udp(
        53,
        40_000,
        &dns_answer("www.example.com", [203, 0, 113, 9], 2_900),
    );
    let frags = v4_fragments(17, 0x99, &[], &payload, 1480);
    let mut table = FlowTable::new(&FlowConfig::default());
    let done = ingest(&mut table, &frags, at(0)).expect("reassembled");
    assert_eq!(done.packet.ports(), Some((53, 40_000)));
    let msg = table.take_dns().expect("the DNS answer");
    assert_eq!(msg.answers.len(), 2);
    assert_eq!(
        table.host_name("203.0.113.9".parse().unwrap()),
        Some("www.example.com")
    );
    // Every fragment counted in the flow of the first one, with its own bytes.
    table.finish_all();
    let flows: Vec<_> = table.drain_finished().collect();
    assert_eq!(flows.len(), 1);
    let f = &flows[0];
    assert_eq!(f.fwd.packets + f.rev.packets, 3);
    let fragment_bytes: u64 = frags.iter().map(|f| f.len() as u64).sum();
    assert_eq!(f.fwd.bytes + f.rev.bytes, fragment_bytes);
    let s = table.stats().reassembly;
    assert_eq!((s.fragments, s.reassembled), (3, 1));
}

#[test]
fn without_reassembly_the_first_fragment_is_inspected_as_it_is() {
    let payload = udp(
        53,
        40_000,
        &dns_answer("www.example.com", [203, 0, 113, 9], 2_900),
    );
    let frags = v4_fragments(17, 0x99, &[], &payload, 1480);
    let mut table = FlowTable::new(&FlowConfig {
        ip_reassembly: false,
        ..FlowConfig::default()
    });
    assert!(!table.reassembles());
    assert!(ingest(&mut table, &frags, at(0)).is_none());
    assert_eq!(table.stats().reassembly, Default::default());
    // The answer's A record was beyond the first fragment: not learned.
    assert_eq!(table.host_name("203.0.113.9".parse().unwrap()), None);
}

#[test]
fn incomplete_datagrams_are_flushed_with_the_flows() {
    let payload = udp(53, 40_000, &[1; 3000]);
    let frags = v4_fragments(17, 0x42, &[], &payload, 1480);
    let mut table = FlowTable::new(&FlowConfig::default());
    assert!(ingest(&mut table, &frags[..2], at(0)).is_none());
    assert_eq!(table.take_dns(), None);
    table.finish_all();
    let s = table.stats().reassembly;
    assert_eq!(s.abandoned(DatagramDrop::Flushed), 1);
    assert_eq!(s.fragments_abandoned, 2);
}

#[test]
fn expiring_flows_expires_datagrams() {
    let mut table = FlowTable::new(&FlowConfig::default());
    ingest(&mut table, &[v4_raw(17, 1, 0, true, &[0; 16])], at(0));
    table.expire(at(31));
    assert_eq!(table.stats().reassembly.abandoned(DatagramDrop::Timeout), 1);
}

/// A SYN whose first fragment carries 8 bytes (ports and sequence number, no flags): the frame
/// completing the datagram is the SYN of its 5-tuple flow, with its flags, as tshark counts the
/// reassembling frame. The fragments arrive last-first too, so the completing one is the tiny
/// first fragment itself.
#[test]
fn a_syn_behind_a_tiny_first_fragment_is_a_syn() {
    let segment = tcp(40_000, 80, 0x02, &[]);
    for frags in [
        v4_fragments(6, 0x51, &[], &segment, 8),
        v4_fragments(6, 0x52, &[], &segment, 8)
            .into_iter()
            .rev()
            .collect(),
    ] {
        let mut table = FlowTable::new(&FlowConfig::default());
        let done = ingest(&mut table, &frags, at(0)).expect("reassembled");
        assert_eq!(done.packet.ports(), Some((40_000, 80)));
        table.finish_all();
        let flows: Vec<_> = table.drain_finished().collect();
        assert_eq!(flows.len(), 2);
        let syn = flows
            .iter()
            .find(|f| f.src_port == 40_000)
            .expect("5-tuple flow");
        assert_eq!((syn.dst_port, syn.fwd.packets, syn.rev.packets), (80, 1, 0));
        assert_eq!(syn.fwd.tcp_flags, 0x02);
        assert_eq!(syn.fwd.bytes, frags.last().unwrap().len() as u64);
        // The other fragments count as without reassembly: a non-first one in the port-less
        // flow, the tiny first one (a TCP packet without its header) in none.
        let rest = flows
            .iter()
            .find(|f| f.src_port == 0)
            .expect("port-less flow");
        let non_first_before = frags[..frags.len() - 1]
            .iter()
            .filter(|f| {
                decode(LinkType::RAW, f)
                    .fragment
                    .is_some_and(|x| x.offset != 0)
            })
            .count();
        assert_eq!(rest.fwd.packets + rest.rev.packets, non_first_before as u64);
    }
}
