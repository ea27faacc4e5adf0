//! Fragment reassembly: orders, overlaps, bad fragments, IPv6, caps and timeouts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod build;
mod caps;
mod ipv6;
mod overlap;
mod table;

use build::*;
use proptest::prelude::*;
use wirewatch_core::LinkType;
use wirewatch_core::proto::tcp_flags;
use wirewatch_decode::{Transport, decode};
use wirewatch_flow::reassembly::{
    DatagramDrop, FragmentDrop, Outcome, Reassembler, ReassemblyConfig,
};

fn reassembler() -> Reassembler {
    Reassembler::new(&ReassemblyConfig::default())
}

/// A 3,000-byte UDP datagram to port 53 carrying a DNS answer.
fn dns_datagram_payload() -> Vec<u8> {
    udp(
        53,
        40_000,
        &dns_answer("www.example.com", [203, 0, 113, 9], 2_900),
    )
}

#[test]
fn in_order_gives_back_the_whole_datagram() {
    let payload = dns_datagram_payload();
    let whole = v4_datagram(17, 0x1234, &[], &payload);
    let frags = v4_fragments(17, 0x1234, &[], &payload, 1480);
    assert_eq!(frags.len(), 3);
    let mut r = reassembler();
    let done = completed(feed(&mut r, &frags, at(0)));
    assert_eq!(done.bytes, whole, "identical to the unfragmented datagram");
    assert_eq!(done.fragments, 3);
    assert!(!done.overlap_conflict && !done.tiny_first);
    assert_eq!(done.first_ts, at(0));
    let s = r.stats();
    assert_eq!(
        (s.fragments, s.reassembled, s.fragments_reassembled),
        (3, 1, 3)
    );
    assert_eq!(s.dropped_total() + s.abandoned_total(), 0);
    assert_eq!((r.in_flight(), r.buffered_bytes()), (0, 0));
    assert_accounted(&r);
    // The decoder reads it like any datagram: ports, and the DNS answer in the payload.
    let p = decode(LinkType::RAW, &done.bytes);
    assert_eq!(p.error, None);
    assert_eq!(p.fragment, None);
    assert_eq!(p.ports(), Some((53, 40_000)));
    let msg = wirewatch_decode::app::dns::parse_udp(p.payload(&done.bytes)).unwrap();
    assert!(msg.response);
    assert_eq!(msg.questions[0].name.to_string_lossy(), "www.example.com");
    // The A record is in the last fragment.
    assert_eq!(
        msg.answers[1].data,
        wirewatch_decode::app::dns::RData::A([203, 0, 113, 9].into())
    );
}

#[test]
fn reverse_order() {
    let payload = dns_datagram_payload();
    let whole = v4_datagram(17, 7, &[], &payload);
    let mut frags = v4_fragments(17, 7, &[], &payload, 512);
    frags.reverse();
    let mut r = reassembler();
    // The last fragment arrives first: the end is known before anything else.
    let done = completed(feed(&mut r, &frags, at(0)));
    assert_eq!(done.bytes, whole);
    assert_eq!(done.fragments, frags.len() as u32);
    assert_accounted(&r);
}

#[test]
fn out_of_order_and_last_fragment_first() {
    let payload = dns_datagram_payload();
    let whole = v4_datagram(17, 8, &[], &payload);
    let f = v4_fragments(17, 8, &[], &payload, 1000);
    assert_eq!(f.len(), 3);
    let mut r = reassembler();
    assert_eq!(r.add(&f[2], at(0)), Outcome::Held); // the last one
    assert_eq!(r.add(&f[0], at(1)), Outcome::Held);
    assert_eq!(r.held_fragments(), 2);
    assert!(r.buffered_bytes() > 0);
    let Outcome::Complete(done) = r.add(&f[1], at(2)) else {
        panic!("not complete")
    };
    assert_eq!(done.bytes, whole);
    assert_eq!(done.first_ts, at(0));
    assert_accounted(&r);
}

#[test]
fn first_fragment_header_with_options_is_kept() {
    // Options are copied into the first fragment only (the NOPs here are not copied).
    let opts = [1, 1, 1, 0];
    let payload = udp(5000, 53, &[7u8; 600]);
    let whole = v4_datagram(17, 9, &opts, &payload);
    let frags = v4_fragments(17, 9, &opts, &payload, 256);
    assert_eq!(frags[0][0], 0x46);
    assert_eq!(frags[1][0], 0x45);
    let mut r = reassembler();
    let mut order = frags.clone();
    order.rotate_left(1); // the first fragment last
    let done = completed(feed(&mut r, &order, at(0)));
    assert_eq!(done.bytes, whole);
    let p = decode(LinkType::RAW, &done.bytes);
    assert_eq!(p.ports(), Some((5000, 53)));
    assert_eq!(p.payload_len, 600);
}

#[test]
fn fragmented_syn_is_a_syn() {
    let seg = tcp(40_000, 443, tcp_flags::SYN, &[0x16; 64]);
    let mut r = reassembler();
    let frags = v4_fragments(6, 77, &[], &seg, 40);
    // Before reassembly the first fragment's transport header is there, the others have none.
    assert!(decode(LinkType::RAW, &frags[1]).tcp_flags().is_none());
    let done = completed(feed(&mut r, &frags, at(0)));
    let p = decode(LinkType::RAW, &done.bytes);
    assert_eq!(p.tcp_flags(), Some(tcp_flags::SYN));
    assert_eq!(p.payload_len, 64);
}

#[test]
fn duplicate_fragments_are_dropped_and_counted() {
    let payload = dns_datagram_payload();
    let whole = v4_datagram(17, 10, &[], &payload);
    let f = v4_fragments(17, 10, &[], &payload, 1480);
    let mut r = reassembler();
    assert_eq!(r.add(&f[0], at(0)), Outcome::Held);
    assert_eq!(
        r.add(&f[0], at(0)),
        Outcome::Dropped(FragmentDrop::Duplicate)
    );
    assert_eq!(r.add(&f[2], at(0)), Outcome::Held);
    assert_eq!(
        r.add(&f[2], at(0)),
        Outcome::Dropped(FragmentDrop::Duplicate)
    );
    let Outcome::Complete(done) = r.add(&f[1], at(0)) else {
        panic!()
    };
    assert_eq!(done.bytes, whole);
    assert_eq!(done.fragments, 3);
    let s = r.stats();
    assert_eq!(s.dropped(FragmentDrop::Duplicate), 2);
    assert_eq!((s.overlaps, s.overlap_conflicts), (0, 0));
    assert!(!done.overlap_conflict);
    assert_accounted(&r);
    // A duplicate after completion starts a new datagram (it is a new one as far as we know).
    assert_eq!(r.add(&f[1], at(1)), Outcome::Held);
    assert_eq!(r.in_flight(), 1);
}

#[test]
fn not_fragments_pass_through_uncounted() {
    let mut r = reassembler();
    let whole = v4_datagram(17, 1, &[], &udp(1, 2, b"hello"));
    assert_eq!(r.add(&whole, at(0)), Outcome::NotFragment);
    assert_eq!(r.add(&[], at(0)), Outcome::NotFragment);
    assert_eq!(r.add(&[0x45, 0, 0], at(0)), Outcome::NotFragment);
    assert_eq!(
        r.add(b"not an ip packet at all", at(0)),
        Outcome::NotFragment
    );
    assert_eq!(r.stats().fragments, 0);
}

#[test]
fn tiny_first_fragment_is_reassembled_and_counted() {
    // The classic tiny-fragment attack: the first fragment holds 8 bytes of TCP (ports and
    // sequence), the flags come in the second.
    let seg = tcp(40_000, 22, tcp_flags::SYN, b"");
    let mut r = reassembler();
    let first = v4_fragment(6, 5, &[], &seg, 0, 8);
    assert!(decode(LinkType::RAW, &first).tcp_flags().is_none());
    let rest = v4_fragment(6, 5, &[], &seg, 8, 64);
    let done = completed(feed(&mut r, &[first, rest], at(0)));
    assert!(done.tiny_first);
    assert_eq!(r.stats().tiny_first, 1);
    assert_eq!(
        decode(LinkType::RAW, &done.bytes).tcp_flags(),
        Some(tcp_flags::SYN)
    );
    // UDP needs 8 bytes: 16 are enough, not tiny.
    let dgram = udp(1, 53, &[0; 40]);
    let done = completed(feed(&mut r, &v4_fragments(17, 6, &[], &dgram, 16), at(0)));
    assert!(!done.tiny_first);
    assert_eq!(r.stats().tiny_first, 1);
    assert_accounted(&r);
}

#[test]
fn fragments_past_the_end_are_dropped() {
    let payload = [0xabu8; 48];
    let mut r = reassembler();
    // The last fragment says the datagram is 48 bytes.
    assert_eq!(
        r.add(&v4_raw(17, 3, 40, false, &payload[40..]), at(0)),
        Outcome::Held
    );
    // A fragment beyond it, more or not.
    assert_eq!(
        r.add(&v4_raw(17, 3, 48, true, &[0; 8]), at(0)),
        Outcome::Dropped(FragmentDrop::PastEnd)
    );
    assert_eq!(
        r.add(&v4_raw(17, 3, 32, true, &[0; 24]), at(0)),
        Outcome::Dropped(FragmentDrop::PastEnd)
    );
    // A second last fragment with another end.
    assert_eq!(
        r.add(&v4_raw(17, 3, 48, false, &[0; 8]), at(0)),
        Outcome::Dropped(FragmentDrop::PastEnd)
    );
    // The datagram still completes.
    let Outcome::Complete(done) = r.add(&v4_raw(17, 3, 0, true, &payload[..40]), at(0)) else {
        panic!()
    };
    assert_eq!(&done.bytes[20..], &payload);
    assert_eq!(r.stats().dropped(FragmentDrop::PastEnd), 3);
    // A last fragment that ends before data already held.
    assert_eq!(
        r.add(&v4_raw(17, 4, 64, true, &[0; 16]), at(0)),
        Outcome::Held
    );
    assert_eq!(
        r.add(&v4_raw(17, 4, 8, false, &[0; 8]), at(0)),
        Outcome::Dropped(FragmentDrop::PastEnd)
    );
    assert_accounted(&r);
}

#[test]
fn invalid_lengths_and_offsets() {
    let mut r = reassembler();
    // Not the last, and not a multiple of 8.
    assert_eq!(
        r.add(&v4_raw(17, 1, 0, true, &[0; 13]), at(0)),
        Outcome::Dropped(FragmentDrop::BadLength)
    );
    // No data at all.
    assert_eq!(
        r.add(&v4_raw(17, 1, 8, true, &[]), at(0)),
        Outcome::Dropped(FragmentDrop::BadLength)
    );
    // The last may end anywhere.
    assert_eq!(
        r.add(&v4_raw(17, 1, 8, false, &[0; 13]), at(0)),
        Outcome::Held
    );
    // Ending past 65,535 bytes of total length: the highest offset (65,528) with 8 bytes
    // plus the header is 65,556.
    assert_eq!(
        r.add(&v4_raw(17, 2, 65_528, false, &[0; 8]), at(0)),
        Outcome::Dropped(FragmentDrop::TooLarge)
    );
    // The largest datagram that fits: 20 + 65,515.
    let ok = v4_raw(17, 2, 65_512, false, &[0; 3]);
    assert_eq!(r.add(&ok, at(0)), Outcome::Held);
    // A capture cut short (snap length): the missing bytes cannot be reassembled.
    let frag = v4_raw(17, 5, 0, true, &[0; 64]);
    assert_eq!(
        r.add(&frag[..60], at(0)),
        Outcome::Dropped(FragmentDrop::Truncated)
    );
    assert_eq!(
        r.add(&frag[..10], at(0)),
        Outcome::Dropped(FragmentDrop::Truncated)
    );
    // Link padding after the announced length is ignored.
    let mut padded = v4_raw(17, 5, 0, true, &[0; 8]);
    padded.extend_from_slice(&[0xee; 6]);
    assert_eq!(r.add(&padded, at(0)), Outcome::Held);
    // Total length inside the header.
    let mut bad = v4_raw(17, 6, 8, true, &[0; 8]);
    bad[2..4].copy_from_slice(&12u16.to_be_bytes());
    assert_eq!(
        r.add(&bad, at(0)),
        Outcome::Dropped(FragmentDrop::Malformed)
    );
    let s = r.stats();
    assert_eq!(s.dropped(FragmentDrop::BadLength), 2);
    assert_eq!(s.dropped(FragmentDrop::TooLarge), 1);
    assert_eq!(s.dropped(FragmentDrop::Truncated), 2);
    assert_eq!(s.dropped(FragmentDrop::Malformed), 1);
    assert_accounted(&r);
}

#[test]
fn datagram_identity_is_addresses_id_and_protocol() {
    let mut r = reassembler();
    // Same id, different protocol: two datagrams.
    assert_eq!(
        r.add(&v4_raw(17, 9, 0, true, &[1; 8]), at(0)),
        Outcome::Held
    );
    assert_eq!(
        r.add(&v4_raw(6, 9, 8, false, &[2; 8]), at(0)),
        Outcome::Held
    );
    assert_eq!(r.in_flight(), 2);
    // Different source address: another one.
    let mut other = v4_raw(17, 9, 8, false, &[3; 8]);
    other[12] = 10;
    assert_eq!(r.add(&other, at(0)), Outcome::Held);
    assert_eq!(r.in_flight(), 3);
    let Outcome::Complete(done) = r.add(&v4_raw(17, 9, 8, false, &[1; 8]), at(0)) else {
        panic!()
    };
    assert_eq!(&done.bytes[20..], &[1; 16]);
    assert_eq!(r.in_flight(), 2);
}

#[test]
fn timeout_on_packet_time() {
    let payload = dns_datagram_payload();
    let f = v4_fragments(17, 11, &[], &payload, 1480);
    let mut r = reassembler();
    assert_eq!(r.add(&f[0], at(0)), Outcome::Held);
    assert_eq!(r.add(&f[1], at(29)), Outcome::Held);
    // 30 s after the first fragment: abandoned; the late fragment starts over alone.
    assert_eq!(r.add(&f[2], at(30)), Outcome::Held);
    let s = r.stats();
    assert_eq!(s.abandoned(DatagramDrop::Timeout), 1);
    assert_eq!(s.fragments_abandoned, 2);
    assert_eq!(r.in_flight(), 1);
    // expire frees it without another fragment.
    r.expire(at(59));
    assert_eq!(r.in_flight(), 1);
    r.expire(at(60));
    assert_eq!((r.in_flight(), r.buffered_bytes()), (0, 0));
    assert_eq!(r.stats().abandoned(DatagramDrop::Timeout), 2);
    assert_accounted(&r);
}

#[test]
fn timeout_of_a_datagram_behind_a_younger_one() {
    // Expiry pops from the front of each version's queue; a datagram found expired on lookup
    // is abandoned too, even when the front is young (IPv4 and IPv6 have their own queues).
    let mut r = reassembler();
    assert_eq!(
        r.add(&v4_raw(17, 1, 0, true, &[0; 8]), at(0)),
        Outcome::Held
    );
    assert_eq!(
        r.add(&v4_raw(17, 1, 8, false, &[0; 8]), at(31)),
        Outcome::Held
    );
    assert_eq!(r.stats().abandoned(DatagramDrop::Timeout), 1);
    assert_accounted(&r);
}

#[test]
fn flush_abandons_what_is_left() {
    let mut r = reassembler();
    r.add(&v4_raw(17, 1, 0, true, &[0; 8]), at(0));
    r.add(&v4_raw(17, 2, 0, true, &[0; 8]), at(0));
    r.add(&v6_raw(&[], 17, 3, 0, true, &[0; 8]), at(0));
    r.flush();
    let s = r.stats();
    assert_eq!(s.abandoned(DatagramDrop::Flushed), 3);
    assert_eq!(
        (r.in_flight(), r.buffered_bytes(), r.held_fragments()),
        (0, 0, 0)
    );
    assert_accounted(&r);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any order, with any fragments repeated, gives back the original datagram.
    #[test]
    fn any_order_with_duplicates_gives_the_original(
        len in 9usize..4000,
        size in 1usize..200,
        v6 in any::<bool>(),
        order in proptest::collection::vec(any::<u32>(), 64),
    ) {
        // At most 64 fragments (the default cap).
        let size = (size * 8).max(len.div_ceil(64).next_multiple_of(8));
        let payload: Vec<u8> = (0..len).map(|i| (i * 7 % 256) as u8).collect();
        let (whole, frags) = if v6 {
            (v6_datagram(&[], 17, &payload), v6_fragments(&[], 17, 99, &payload, size))
        } else {
            (v4_datagram(17, 99, &[], &payload), v4_fragments(17, 99, &[], &payload, size))
        };
        prop_assume!(frags.len() >= 2);
        // A shuffled sequence where every fragment appears at least once.
        let mut seq: Vec<usize> = (0..frags.len()).collect();
        for (i, k) in order.iter().enumerate().take(seq.len()) {
            let j = *k as usize % seq.len();
            seq.swap(i, j);
        }
        let extra = order[frags.len() % order.len()] as usize % 5;
        for e in 0..extra {
            seq.insert(order[e] as usize % seq.len(), order[e + 1] as usize % frags.len());
        }
        let mut r = reassembler();
        let mut done = None;
        for i in seq {
            match r.add(&frags[i], at(0)) {
                Outcome::Complete(d) => { prop_assert!(done.is_none()); done = Some(d); }
                Outcome::Held | Outcome::Dropped(FragmentDrop::Duplicate) => {}
                other => prop_assert!(false, "{:?}", other),
            }
            if done.is_some() { break; }
        }
        let done = done.expect("complete");
        prop_assert_eq!(done.bytes, whole);
        prop_assert_eq!(r.stats().overlap_conflicts, 0);
        assert_accounted(&r);
    }
}

#[test]
fn transport_of_a_reassembled_udp_datagram() {
    let mut r = reassembler();
    let payload = udp(123, 123, &[0x1b; 48]);
    let done = completed(feed(&mut r, &v4_fragments(17, 1, &[], &payload, 24), at(0)));
    let p = decode(LinkType::RAW, &done.bytes);
    assert!(matches!(p.transport, Transport::Udp(u) if u.length == 56));
}
