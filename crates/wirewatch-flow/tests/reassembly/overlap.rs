//! The overlap policy: the bytes held first win; differing overlaps are counted.

use super::*;

/// 48 bytes of UDP payload data in three 16-byte fragments of distinct fill.
fn parts() -> [Vec<u8>; 3] {
    [vec![b'A'; 16], vec![b'B'; 16], vec![b'C'; 16]]
}

#[test]
fn exact_overlap_with_the_same_bytes_is_a_duplicate() {
    let [a, b, c] = parts();
    let mut r = reassembler();
    r.add(&v4_raw(17, 1, 0, true, &a), at(0));
    assert_eq!(
        r.add(&v4_raw(17, 1, 0, true, &a), at(0)),
        Outcome::Dropped(FragmentDrop::Duplicate)
    );
    r.add(&v4_raw(17, 1, 16, true, &b), at(0));
    let Outcome::Complete(done) = r.add(&v4_raw(17, 1, 32, false, &c), at(0)) else {
        panic!()
    };
    assert!(!done.overlap_conflict);
    assert_eq!(r.stats().overlap_conflicts, 0);
}

#[test]
fn exact_overlap_with_different_bytes_keeps_the_first() {
    let [a, b, c] = parts();
    let mut r = reassembler();
    r.add(&v4_raw(17, 1, 16, true, &b), at(0));
    // Same place, other bytes: dropped, counted as a conflict.
    assert_eq!(
        r.add(&v4_raw(17, 1, 16, true, &[b'X'; 16]), at(0)),
        Outcome::Dropped(FragmentDrop::Overlap)
    );
    r.add(&v4_raw(17, 1, 0, true, &a), at(0));
    let Outcome::Complete(done) = r.add(&v4_raw(17, 1, 32, false, &c), at(0)) else {
        panic!()
    };
    assert_eq!(&done.bytes[20..], [a, b, c].concat().as_slice());
    assert!(done.overlap_conflict);
    let s = r.stats();
    assert_eq!(s.overlap_conflicts, 1);
    assert_eq!(s.dropped(FragmentDrop::Overlap), 1);
    assert_accounted(&r);
}

#[test]
fn partial_overlap_with_the_same_bytes_adds_the_new_part() {
    let data: Vec<u8> = (0..48).collect();
    let mut r = reassembler();
    r.add(&v4_raw(17, 2, 0, true, &data[..24]), at(0));
    // 16..40 overlaps 16..24 with equal bytes and brings 24..40.
    assert_eq!(
        r.add(&v4_raw(17, 2, 16, true, &data[16..40]), at(0)),
        Outcome::Held
    );
    let Outcome::Complete(done) = r.add(&v4_raw(17, 2, 40, false, &data[40..]), at(0)) else {
        panic!()
    };
    assert_eq!(&done.bytes[20..], data.as_slice());
    assert!(!done.overlap_conflict);
    let s = r.stats();
    assert_eq!((s.overlaps, s.overlap_conflicts), (1, 0));
    assert_eq!(done.fragments, 3);
    assert_accounted(&r);
}

#[test]
fn partial_overlap_with_different_bytes_keeps_the_first_bytes() {
    let [a, b, c] = parts();
    let mut r = reassembler();
    r.add(&v4_raw(17, 3, 0, true, &a), at(0));
    // 8..32: its first 8 bytes overlap A with other values; 16..32 is new.
    assert_eq!(
        r.add(&v4_raw(17, 3, 8, true, &[b'X'; 24]), at(0)),
        Outcome::Held
    );
    // The original B arrives too late for 16..32: a conflict again, nothing new: dropped.
    assert_eq!(
        r.add(&v4_raw(17, 3, 16, true, &b), at(0)),
        Outcome::Dropped(FragmentDrop::Overlap)
    );
    let Outcome::Complete(done) = r.add(&v4_raw(17, 3, 32, false, &c), at(0)) else {
        panic!()
    };
    let expected = [a, vec![b'X'; 16], c].concat();
    assert_eq!(&done.bytes[20..], expected.as_slice());
    assert!(done.overlap_conflict);
    assert_eq!(r.stats().overlap_conflicts, 2);
    assert_accounted(&r);
}

#[test]
fn a_later_fragment_around_held_data_only_fills_the_holes() {
    // Held: 16..24. A fragment 0..40 starting before it (where BSD would let the new one win)
    // fills 0..16 and 24..40 and leaves 16..24 as first seen.
    let mut r = reassembler();
    r.add(&v4_raw(17, 4, 16, true, &[b'h'; 8]), at(0));
    assert_eq!(
        r.add(&v4_raw(17, 4, 0, true, &[b'n'; 40]), at(0)),
        Outcome::Held
    );
    let Outcome::Complete(done) = r.add(&v4_raw(17, 4, 40, false, &[b'z'; 8]), at(0)) else {
        panic!()
    };
    let expected = [vec![b'n'; 16], vec![b'h'; 8], vec![b'n'; 16], vec![b'z'; 8]].concat();
    assert_eq!(&done.bytes[20..], expected.as_slice());
    assert!(done.overlap_conflict);
    assert_eq!(done.fragments, 3);
    assert_accounted(&r);
}

#[test]
fn an_overlap_cannot_rewrite_the_tcp_flags_of_the_first_fragment() {
    // RFC 1858 §3.2: the first fragment carries an innocent ACK; a later fragment at offset 8
    // rewrites the flags into a SYN for whoever takes the last bytes. First wins: still an ACK,
    // and the conflict is counted.
    let ack = tcp(40_000, 22, tcp_flags::ACK, &[0; 8]);
    let syn = tcp(40_000, 22, tcp_flags::SYN, &[0; 8]);
    let mut r = reassembler();
    assert_eq!(
        r.add(&v4_raw(6, 1, 0, true, &ack[..24]), at(0)),
        Outcome::Held
    );
    let Outcome::Complete(done) = r.add(&v4_raw(6, 1, 8, false, &syn[8..]), at(0)) else {
        panic!()
    };
    assert!(done.overlap_conflict);
    assert_eq!(
        decode(LinkType::RAW, &done.bytes).tcp_flags(),
        Some(tcp_flags::ACK)
    );
    assert_eq!(r.stats().overlap_conflicts, 1);
}

#[test]
fn a_last_fragment_with_nothing_new_still_ends_the_datagram() {
    // A router cut the datagram 0..48 (more to come) and, on another path, 40..48 (last).
    let data: Vec<u8> = (0..48).collect();
    let mut r = reassembler();
    assert_eq!(r.add(&v4_raw(17, 5, 0, true, &data), at(0)), Outcome::Held);
    let Outcome::Complete(done) = r.add(&v4_raw(17, 5, 40, false, &data[40..]), at(0)) else {
        panic!()
    };
    assert_eq!(&done.bytes[20..], data.as_slice());
    assert_eq!(done.fragments, 1);
    assert_eq!(r.stats().dropped(FragmentDrop::Duplicate), 1);
    assert_accounted(&r);
}
