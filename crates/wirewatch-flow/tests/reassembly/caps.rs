//! The hard caps: fragments per datagram, datagrams in flight, bytes held, under floods.

use super::*;

#[test]
fn too_many_fragments_abandons_the_datagram() {
    let mut r = Reassembler::new(&ReassemblyConfig {
        max_fragments: 4,
        ..ReassemblyConfig::default()
    });
    let payload = [5u8; 48];
    let frags = v4_fragments(17, 1, &[], &payload, 8);
    for f in &frags[..4] {
        assert_eq!(r.add(f, at(0)), Outcome::Held);
    }
    assert_eq!(
        r.add(&frags[4], at(0)),
        Outcome::Dropped(FragmentDrop::TooManyFragments)
    );
    let s = r.stats();
    assert_eq!(s.abandoned(DatagramDrop::TooManyFragments), 1);
    assert_eq!(s.fragments_abandoned, 4);
    assert_eq!((r.in_flight(), r.buffered_bytes()), (0, 0));
    // Duplicates do not count against the cap.
    let mut r = Reassembler::new(&ReassemblyConfig {
        max_fragments: 2,
        ..ReassemblyConfig::default()
    });
    let frags = v4_fragments(17, 2, &[], &payload, 24);
    assert_eq!(r.add(&frags[0], at(0)), Outcome::Held);
    for _ in 0..10 {
        assert_eq!(
            r.add(&frags[0], at(0)),
            Outcome::Dropped(FragmentDrop::Duplicate)
        );
    }
    assert!(matches!(r.add(&frags[1], at(0)), Outcome::Complete(_)));
    assert_accounted(&r);
}

#[test]
fn datagrams_in_flight_are_capped_oldest_evicted() {
    let mut r = Reassembler::new(&ReassemblyConfig {
        max_datagrams: 2,
        ..ReassemblyConfig::default()
    });
    for id in 1..=3 {
        assert_eq!(
            r.add(&v4_raw(17, id, 0, true, &[0; 8]), at(0)),
            Outcome::Held
        );
    }
    assert_eq!(r.in_flight(), 2);
    assert_eq!(r.stats().abandoned(DatagramDrop::Capacity), 1);
    // The oldest (id 1) went: its last fragment now starts a new datagram.
    assert_eq!(
        r.add(&v4_raw(17, 1, 8, false, &[0; 8]), at(0)),
        Outcome::Held
    );
    // id 3 is still there.
    assert!(matches!(
        r.add(&v4_raw(17, 3, 8, false, &[0; 8]), at(0)),
        Outcome::Complete(_)
    ));
    assert_accounted(&r);
}

#[test]
fn memory_cap_evicts_the_oldest_datagrams() {
    let mut r = Reassembler::new(&ReassemblyConfig {
        max_bytes: 64 * 1024,
        ..ReassemblyConfig::default()
    });
    // Each first fragment holds 16,000 bytes: the fifth does not fit next to four.
    for id in 1..=5 {
        let out = r.add(&v4_raw(17, id, 0, true, &vec![1; 16_000]), at(0));
        assert_eq!(out, Outcome::Held);
        assert!(r.buffered_bytes() <= 64 * 1024);
    }
    let s = r.stats();
    assert!(s.abandoned(DatagramDrop::Memory) >= 1);
    assert!(r.in_flight() < 5);
    // A fragment that cannot fit even alone is dropped.
    let mut r = Reassembler::new(&ReassemblyConfig {
        max_bytes: 4 * 1024,
        ..ReassemblyConfig::default()
    });
    assert_eq!(
        r.add(&v4_raw(17, 1, 0, true, &vec![1; 8_000]), at(0)),
        Outcome::Dropped(FragmentDrop::Memory)
    );
    assert_eq!((r.in_flight(), r.buffered_bytes()), (0, 0));
    assert_eq!(r.stats().abandoned_total(), 0, "nothing was held");
    assert_accounted(&r);
}

/// A fragment of datagram `n` that never completes: distinct (source, id) pairs, IPv4 and IPv6
/// alternately, 8 data bytes at offset 8 with more to come.
fn never_completing(n: u32, frame: &mut Vec<u8>, data: &[u8]) {
    frame.clear();
    if n.is_multiple_of(2) {
        frame.extend_from_slice(&v4_raw(17, (n >> 1) as u16, 8, true, data));
        frame[12..16].copy_from_slice(&(n >> 17).to_be_bytes());
    } else {
        frame.extend_from_slice(&v6_raw(&[], 17, n, 8, true, data));
    }
}

#[test]
fn a_flood_of_a_million_fragments_stays_within_the_caps() {
    let mut r = reassembler();
    let c = r.config().clone();
    let mut frame = Vec::new();
    let data = [0x5a; 8];
    let mut peak = (0, 0);
    for n in 0..1_000_000u32 {
        never_completing(n, &mut frame, &data);
        // One packet a microsecond: the whole flood takes a second, no timeout helps.
        let ts = at(0).plus(u64::from(n) * 1_000);
        assert_eq!(r.add(&frame, ts), Outcome::Held);
        assert!(r.buffered_bytes() <= c.max_bytes);
        assert!(r.in_flight() <= c.max_datagrams);
        peak = (peak.0.max(r.buffered_bytes()), peak.1.max(r.in_flight()));
    }
    assert_eq!(peak.1, c.max_datagrams);
    let s = r.stats();
    assert_eq!(s.fragments, 1_000_000);
    assert_eq!(
        s.abandoned(DatagramDrop::Capacity),
        1_000_000 - c.max_datagrams as u64
    );
    assert_eq!(s.reassembled, 0);
    assert_accounted(&r);
    // They all time out on packet time.
    r.expire(at(61));
    assert_eq!((r.in_flight(), r.buffered_bytes()), (0, 0));
    assert_eq!(
        r.stats().abandoned(DatagramDrop::Timeout),
        c.max_datagrams as u64
    );
    eprintln!("flood: peak {} bytes, {} datagrams", peak.0, peak.1);
}

#[test]
fn a_flood_of_large_fragments_hits_the_memory_cap() {
    let mut r = reassembler();
    let c = r.config().clone();
    let mut frame = Vec::new();
    let data = vec![0x77; 8_000];
    for n in 0..20_000u32 {
        never_completing(n, &mut frame, &data);
        assert_eq!(r.add(&frame, at(0)), Outcome::Held);
        assert!(r.buffered_bytes() <= c.max_bytes);
        assert!(r.in_flight() <= c.max_datagrams);
    }
    let s = r.stats();
    assert!(s.abandoned(DatagramDrop::Memory) > 15_000, "{s:?}");
    assert!(r.buffered_bytes() > c.max_bytes - 16 * 1024);
    assert_eq!(s.abandoned_total(), 20_000 - r.in_flight() as u64);
    assert_accounted(&r);
}

#[test]
fn a_flood_does_not_stop_a_datagram_that_completes_in_time() {
    // Legitimate fragments between flood fragments still reassemble while their datagram is
    // among the newest 4,096.
    let mut r = reassembler();
    let mut frame = Vec::new();
    let payload = udp(53, 1024, &[3; 2000]);
    let frags = v4_fragments(17, 0xffff, &[], &payload, 1480);
    let mut done = false;
    for n in 0..10_000u32 {
        never_completing(n, &mut frame, &[0; 8]);
        r.add(&frame, at(0));
        if n == 5_000 {
            assert_eq!(r.add(&frags[0], at(0)), Outcome::Held);
        }
        if n == 8_000 {
            done = matches!(r.add(&frags[1], at(0)), Outcome::Complete(_));
        }
    }
    assert!(done);
}

#[test]
fn a_datagram_whose_first_header_makes_it_too_large_is_abandoned() {
    // Each fragment fits 65,535 bytes with its own 20-byte header, but the first fragment's
    // 60-byte header (40 bytes of options) makes the whole 65,575.
    let options = [1u8; 40];
    let payload = vec![0u8; 65_515];
    let mut frags = v4_fragments(17, 1, &options, &payload, 1_024);
    assert_eq!(frags.len(), 64);
    let last = frags.pop().unwrap();
    let mut r = reassembler();
    for f in &frags {
        assert_eq!(r.add(f, at(0)), Outcome::Held);
    }
    assert_eq!(
        r.add(&last, at(0)),
        Outcome::Abandoned(DatagramDrop::TooLarge)
    );
    let s = r.stats();
    assert_eq!(s.abandoned(DatagramDrop::TooLarge), 1);
    assert_eq!(s.fragments_abandoned, 64);
    assert_eq!((r.in_flight(), r.buffered_bytes()), (0, 0));
    assert_accounted(&r);
    // Without the options it is the largest datagram there is.
    let frags = v4_fragments(17, 2, &[], &payload, 1_024);
    let done = completed(feed(&mut r, &frags, at(0)));
    assert_eq!(done.bytes.len(), 65_535);
}
