//! The flow table with reassembly: fragments count as packets, the datagram is inspected whole.

use super::*;
use wirewatch_flow::{FlowConfig, FlowTable};

/// Feeds frames (raw IP) the way the engine does: each fragment counted with no payload
/// inspected, then handed to the reassembler.
fn ingest(
    table: &mut FlowTable,
    frames: &[Vec<u8>],
    ts: wirewatch_core::Timestamp,
) -> Option<wirewatch_flow::ReassembledPacket> {
    let mut done = None;
    for f in frames {
        let pkt = decode(LinkType::RAW, f);
        let held = table.reassembles() && pkt.fragment.is_some_and(|f| f.more || f.offset != 0);
        let payload = if held { &[][..] } else { pkt.payload(f) };
        table.ingest_with_payload(&pkt, payload, f.len() as u32, ts);
        if held && let Some(d) = table.reassemble(pkt.ip_bytes(f), &pkt, ts) {
            assert!(done.is_none());
            done = Some(d);
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
