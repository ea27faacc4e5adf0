//! Hand-built segment sequences for each case of the TCP analysis.

use super::marks::*;
use super::*;
use proptest::prelude::*;

const MS: u64 = 1_000_000;
/// The client's side (key side index) and the server's.
const C: usize = 0;
const S: usize = 1;

fn seg(seq: u32, ack: u32, flags: u8, len: u32) -> SegmentFields {
    SegmentFields {
        seq,
        ack,
        flags,
        window: 1000,
        len,
    }
}

fn at(ms: u64) -> Timestamp {
    Timestamp(1_700_000_000_000_000_000 + ms * MS)
}

/// A tracker that has seen SYN at 0 ms, SYN-ACK at 10 ms and the ACK at 12 ms; the client's
/// next sequence number is 1001 and the server's 5001.
fn established() -> TcpTracker {
    let mut t = TcpTracker::new();
    t.on_segment(C, &seg(1000, 0, SYN, 0), at(0));
    t.on_segment(S, &seg(5000, 1001, SYN | ACK, 0), at(10));
    t.on_segment(C, &seg(1001, 5001, ACK, 0), at(12));
    t
}

#[test]
fn clean_handshake_gives_the_rtt_and_nothing_else() {
    let mut t = TcpTracker::new();
    assert_eq!(t.on_segment(C, &seg(1000, 0, SYN, 0), at(0)).marks, 0);
    let synack = t.on_segment(S, &seg(5000, 1001, SYN | ACK, 0), at(10));
    assert_eq!(synack, TcpSegment::default());
    let ack = t.on_segment(C, &seg(1001, 5001, ACK, 0), at(12));
    assert_eq!(ack.handshake_rtt_ns, Some(12 * MS));
    assert_eq!(ack.marks, 0);
    // Data both ways, each acknowledged.
    t.on_segment(C, &seg(1001, 5001, ACK, 100), at(13));
    t.on_segment(S, &seg(5001, 1101, ACK, 200), at(20));
    t.on_segment(C, &seg(1101, 5201, ACK, 0), at(21));
    let h = t.health();
    assert_eq!(h.handshake_rtt_ns, Some(12 * MS));
    assert_eq!(h.handshake_rtt_ms(), Some(12.0));
    assert_eq!(
        (
            h.retransmissions,
            h.out_of_order,
            h.lost_segments,
            h.zero_windows
        ),
        (0, 0, 0, 0)
    );
    assert_eq!(h.duplicate_acks, 0);
    // ACK RTTs: SYN → SYN-ACK 10 ms, SYN-ACK → ACK 2 ms, data → ACK 7 ms, 1 ms.
    assert_eq!(h.ack_rtt.samples, 4);
    assert_eq!(h.ack_rtt.min_ns, MS);
    assert_eq!(h.ack_rtt.max_ns, 10 * MS);
    assert_eq!(h.ack_rtt.mean_ns(), Some(5 * MS));
    // Later ACKs do not measure the handshake again.
    let later = t.on_segment(C, &seg(1101, 5201, ACK, 0), at(40));
    assert_eq!(later.handshake_rtt_ns, None);
}

#[test]
fn handshake_rtt_is_absent_without_a_syn_and_counts_from_the_last_syn() {
    let mut t = TcpTracker::new();
    t.on_segment(C, &seg(1001, 5001, ACK, 100), at(0));
    t.on_segment(S, &seg(5001, 1101, ACK, 0), at(5));
    assert_eq!(t.health().handshake_rtt_ns, None);

    // SYN sent three times: the RTT counts from the last one, and the resent SYNs are
    // retransmissions (as tshark marks them).
    let mut t = TcpTracker::new();
    t.on_segment(C, &seg(1000, 0, SYN, 0), at(0));
    let again = t.on_segment(C, &seg(1000, 0, SYN, 0), at(1000));
    assert!(again.has(RETRANSMISSION));
    t.on_segment(C, &seg(1000, 0, SYN, 0), at(3000));
    t.on_segment(S, &seg(5000, 1001, SYN | ACK, 0), at(3040));
    let ack = t.on_segment(C, &seg(1001, 5001, ACK, 0), at(3041));
    assert_eq!(ack.handshake_rtt_ns, Some(41 * MS));
    assert_eq!(t.health().retransmissions, 2);
}

#[test]
fn handshake_rtt_needs_no_syn_ack_and_ends_on_a_reset_ack() {
    // One direction captured: SYN, then the client's ACK.
    let mut t = TcpTracker::new();
    t.on_segment(C, &seg(1000, 0, SYN, 0), at(0));
    let ack = t.on_segment(C, &seg(1001, 5001, ACK, 0), at(30));
    assert_eq!(ack.handshake_rtt_ns, Some(30 * MS));
    // A refused connection: tshark measures SYN → RST-ACK.
    let mut t = TcpTracker::new();
    t.on_segment(C, &seg(1000, 0, SYN, 0), at(0));
    let rst = t.on_segment(S, &seg(0, 1001, RST | ACK, 0), at(2));
    assert_eq!(rst.handshake_rtt_ns, Some(2 * MS));
    assert_eq!(rst.marks, 0);
}

#[test]
fn a_resent_segment_after_the_rtt_is_a_retransmission() {
    let mut t = established();
    assert_eq!(t.on_segment(C, &seg(1001, 5001, ACK, 100), at(20)).marks, 0);
    let again = t.on_segment(C, &seg(1001, 5001, ACK, 100), at(300));
    assert_eq!(again.marks, RETRANSMISSION);
    let h = t.health();
    assert_eq!(h.retransmissions, 1);
    assert_eq!((h.fast_retransmissions, h.spurious_retransmissions), (0, 0));
    assert_eq!(h.out_of_order, 0);
    // A partly new segment that starts below the next expected is one too.
    let overlap = t.on_segment(C, &seg(1051, 5001, ACK, 100), at(600));
    assert!(overlap.has(RETRANSMISSION));
}

#[test]
fn fast_retransmission_after_duplicate_acks() {
    let mut t = established();
    t.on_segment(C, &seg(1001, 5001, ACK, 100), at(20));
    t.on_segment(S, &seg(5001, 1101, ACK, 0), at(30));
    // 1101..1201 is lost on the way; what follows starts after a gap.
    let gap = t.on_segment(C, &seg(1201, 5001, ACK, 100), at(31));
    assert_eq!(gap.marks, LOST_SEGMENT);
    assert_eq!(
        t.on_segment(S, &seg(5001, 1101, ACK, 0), at(40)).marks,
        DUPLICATE_ACK
    );
    t.on_segment(C, &seg(1301, 5001, ACK, 100), at(41));
    assert_eq!(
        t.on_segment(S, &seg(5001, 1101, ACK, 0), at(50)).marks,
        DUPLICATE_ACK
    );
    let fast = t.on_segment(C, &seg(1101, 5001, ACK, 100), at(51));
    assert_eq!(fast.marks, RETRANSMISSION | FAST_RETRANSMISSION);
    let h = t.health();
    assert_eq!(h.retransmissions, 1);
    assert_eq!(h.fast_retransmissions, 1);
    assert_eq!(h.duplicate_acks, 2);
    assert_eq!(h.lost_segments, 1);
    // The ACK that moves on resets the duplicate count: the next resend is not "fast".
    t.on_segment(S, &seg(5001, 1401, ACK, 0), at(60));
    t.on_segment(C, &seg(1401, 5001, ACK, 100), at(61));
    let slow = t.on_segment(C, &seg(1401, 5001, ACK, 100), at(400));
    assert_eq!(slow.marks, RETRANSMISSION);
}

#[test]
fn one_duplicate_ack_is_not_enough_for_a_fast_retransmission() {
    let mut t = established();
    t.on_segment(C, &seg(1001, 5001, ACK, 100), at(20));
    t.on_segment(S, &seg(5001, 1101, ACK, 0), at(30));
    t.on_segment(C, &seg(1201, 5001, ACK, 100), at(31));
    t.on_segment(S, &seg(5001, 1101, ACK, 0), at(40));
    // 14 ms after the highest segment (beyond the 12 ms RTT), 5 ms after the duplicate ACK.
    let resent = t.on_segment(C, &seg(1101, 5001, ACK, 100), at(45));
    assert_eq!(resent.marks, RETRANSMISSION);
}

#[test]
fn spurious_retransmission_of_acknowledged_data() {
    let mut t = established();
    t.on_segment(C, &seg(1001, 5001, ACK, 100), at(20));
    t.on_segment(S, &seg(5001, 1101, ACK, 0), at(30));
    let again = t.on_segment(C, &seg(1001, 5001, ACK, 100), at(300));
    assert_eq!(again.marks, RETRANSMISSION | SPURIOUS_RETRANSMISSION);
    let h = t.health();
    assert_eq!((h.retransmissions, h.spurious_retransmissions), (1, 1));
}

#[test]
fn out_of_order_within_the_rtt_is_not_a_retransmission() {
    let mut t = established();
    // The later segment overtakes the earlier one (1 ms apart, RTT 12 ms).
    let first = t.on_segment(C, &seg(1101, 5001, ACK, 100), at(20));
    assert_eq!(first.marks, LOST_SEGMENT);
    let late = t.on_segment(C, &seg(1001, 5001, ACK, 100), at(21));
    assert_eq!(late.marks, OUT_OF_ORDER);
    let h = t.health();
    assert_eq!(
        (h.out_of_order, h.retransmissions, h.lost_segments),
        (1, 0, 1)
    );
    // The same, 50 ms later (beyond the RTT): a retransmission.
    let mut t = established();
    t.on_segment(C, &seg(1101, 5001, ACK, 100), at(20));
    let late = t.on_segment(C, &seg(1001, 5001, ACK, 100), at(70));
    assert_eq!(late.marks, RETRANSMISSION);
}

#[test]
fn out_of_order_threshold_is_3_ms_without_a_handshake() {
    let mut t = TcpTracker::new();
    t.on_segment(C, &seg(1101, 5001, ACK, 100), at(0));
    assert_eq!(
        t.on_segment(C, &seg(1001, 5001, ACK, 100), at(2)).marks,
        OUT_OF_ORDER
    );
    let mut t = TcpTracker::new();
    t.on_segment(C, &seg(1101, 5001, ACK, 100), at(0));
    assert_eq!(
        t.on_segment(C, &seg(1001, 5001, ACK, 100), at(4)).marks,
        RETRANSMISSION
    );
}

#[test]
fn gaps_are_lost_segments_and_resets_beyond_are_not() {
    let mut t = established();
    assert_eq!(
        t.on_segment(C, &seg(9001, 5001, ACK, 10), at(20)).marks,
        LOST_SEGMENT
    );
    assert_eq!(
        t.on_segment(C, &seg(20001, 5001, ACK, 10), at(21)).marks,
        LOST_SEGMENT
    );
    assert_eq!(t.on_segment(C, &seg(30001, 0, RST, 0), at(22)).marks, 0);
    assert_eq!(t.health().lost_segments, 2);
}

#[test]
fn zero_windows_are_counted_but_not_on_syn_fin_rst() {
    let mut t = established();
    let mut zero = seg(5001, 1001, ACK, 0);
    zero.window = 0;
    assert!(t.on_segment(S, &zero, at(20)).has(ZERO_WINDOW));
    // A one-byte probe at the next sequence number while the window is zero.
    let probe = t.on_segment(C, &seg(1001, 5001, ACK, 1), at(220));
    assert_eq!(probe.marks, ZERO_WINDOW_PROBE);
    // The receiver answers, still with a zero window: a probe ACK, and a zero window again
    // (as tshark flags both).
    assert_eq!(
        t.on_segment(S, &zero, at(230)).marks,
        ZERO_WINDOW | ZERO_WINDOW_PROBE_ACK
    );
    // The probe's byte is sent again with the data once the window opens: not a
    // retransmission, the probe did not move the sequence.
    t.on_segment(S, &seg(5001, 1001, ACK, 0), at(300));
    assert_eq!(
        t.on_segment(C, &seg(1001, 5001, ACK, 100), at(301)).marks,
        0
    );
    let mut rst = seg(5001, 0, RST, 0);
    rst.window = 0;
    assert!(!t.on_segment(S, &rst, at(400)).has(ZERO_WINDOW));
    assert_eq!(t.health().zero_windows, 2);
}

#[test]
fn keep_alives_are_not_retransmissions() {
    let mut t = established();
    t.on_segment(C, &seg(1001, 5001, ACK, 100), at(20));
    t.on_segment(S, &seg(5001, 1101, ACK, 0), at(30));
    // One byte below the next expected, with and without a garbage byte.
    let ka = t.on_segment(C, &seg(1100, 5001, ACK, 0), at(60_000));
    assert_eq!(ka.marks, KEEP_ALIVE);
    let ack = t.on_segment(S, &seg(5001, 1101, ACK, 0), at(60_010));
    assert_eq!(ack.marks, KEEP_ALIVE_ACK);
    let ka1 = t.on_segment(C, &seg(1100, 5001, ACK, 1), at(120_000));
    assert_eq!(ka1.marks, KEEP_ALIVE);
    let h = t.health();
    assert_eq!(h.keep_alives, 2);
    assert_eq!(h.retransmissions, 0);
    assert_eq!(h.duplicate_acks, 0);
}

#[test]
fn sequence_numbers_wrap_around() {
    let isn = u32::MAX - 150;
    let mut t = TcpTracker::new();
    t.on_segment(C, &seg(isn, 0, SYN, 0), at(0));
    t.on_segment(S, &seg(7, isn.wrapping_add(1), SYN | ACK, 0), at(10));
    t.on_segment(C, &seg(isn.wrapping_add(1), 8, ACK, 0), at(12));
    // 100 bytes before the wrap, 100 across it, 100 after: in order, no gaps.
    let mut seq = isn.wrapping_add(1);
    for i in 0..3 {
        let s = t.on_segment(C, &seg(seq, 8, ACK, 100), at(20 + i));
        assert_eq!(s.marks, 0, "segment {i}");
        seq = seq.wrapping_add(100);
    }
    assert!(seq < 1000, "crossed zero");
    // The server acknowledges past zero; resending the segment before the wrap is spurious,
    // the one across it too.
    t.on_segment(S, &seg(8, seq, ACK, 0), at(30));
    let old = t.on_segment(C, &seg(isn.wrapping_add(1), 8, ACK, 100), at(400));
    assert_eq!(old.marks, RETRANSMISSION | SPURIOUS_RETRANSMISSION);
    // A gap after the wrap is a gap; the unacknowledged data resent much later is a
    // retransmission.
    let gap = t.on_segment(C, &seg(seq.wrapping_add(50), 8, ACK, 10), at(500));
    assert_eq!(gap.marks, LOST_SEGMENT);
    let resent = t.on_segment(C, &seg(seq, 8, ACK, 50), at(900));
    assert_eq!(resent.marks, RETRANSMISSION);
    let h = t.health();
    assert_eq!(
        (h.retransmissions, h.lost_segments, h.out_of_order),
        (2, 1, 0)
    );
}

#[test]
fn fin_takes_a_sequence_number_and_a_resent_fin_is_a_retransmission() {
    let mut t = established();
    t.on_segment(C, &seg(1001, 5001, ACK, 100), at(20));
    assert_eq!(
        t.on_segment(C, &seg(1101, 5001, FIN | ACK, 0), at(21))
            .marks,
        0
    );
    // The server's ACK of the FIN, and its own FIN.
    t.on_segment(S, &seg(5001, 1102, ACK, 0), at(31));
    t.on_segment(S, &seg(5001, 1102, FIN | ACK, 0), at(32));
    // The client's last ACK: after the FIN, not a keep-alive nor a gap.
    assert_eq!(t.on_segment(C, &seg(1102, 5002, ACK, 0), at(33)).marks, 0);
    // The server's FIN sent again after the client's ACK: without data it cannot be spurious,
    // it is a plain retransmission.
    let fin = t.on_segment(S, &seg(5001, 1102, FIN | ACK, 0), at(300));
    assert_eq!(fin.marks, RETRANSMISSION);
    // A reset with an old sequence number is not a retransmission (no data, no SYN/FIN).
    assert_eq!(t.on_segment(C, &seg(1050, 0, RST, 0), at(400)).marks, 0);
    let h = t.health();
    assert_eq!((h.retransmissions, h.lost_segments), (1, 0));
}

#[test]
fn hostile_sequence_numbers_only_count() {
    let mut t = established();
    // Jumps of half the sequence space either way, zero lengths, huge lengths.
    let weird = [
        seg(1001u32.wrapping_add(1 << 31), 0, ACK, 10),
        seg(1001u32.wrapping_sub(1 << 31), 7, ACK, u32::MAX),
        seg(0, u32::MAX, SYN | FIN | RST | ACK, 1),
        seg(u32::MAX, 0, FIN, 0),
    ];
    for (i, s) in weird.iter().enumerate() {
        t.on_segment(C, s, at(20 + i as u64));
        t.on_segment(S, s, at(20 + i as u64));
    }
    // Time going backwards does not make anything recent.
    t.on_segment(C, &seg(5, 5, ACK, 5), at(0));
    let h = t.health();
    assert!(h.retransmissions + h.out_of_order + h.lost_segments <= 9);
}

proptest! {
    /// Any sequence of segments: no panic, and every count is at most the segments seen.
    #[test]
    fn random_segments_never_panic(
        segs in proptest::collection::vec(
            (0usize..2, any::<u32>(), any::<u32>(), any::<u8>(), any::<u16>(), 0u32..3000, 0u64..5000),
            0..200,
        )
    ) {
        let mut t = TcpTracker::new();
        let n = segs.len() as u64;
        for (dir, seq, ack, flags, window, len, ms) in segs {
            let s = SegmentFields { seq, ack, flags, window, len };
            t.on_segment(dir, &s, at(ms));
        }
        let h = t.health();
        prop_assert!(h.retransmissions <= n);
        prop_assert!(h.fast_retransmissions + h.spurious_retransmissions <= h.retransmissions);
        prop_assert!(h.out_of_order + h.retransmissions <= n);
        prop_assert!(h.lost_segments <= n && h.zero_windows <= n && h.keep_alives <= n);
        prop_assert!(h.ack_rtt.samples <= n);
    }
}

#[test]
fn the_state_stays_small() {
    // Kept inline in every flow entry: two directions of 32 bytes, the handshake, the counts.
    assert_eq!(std::mem::size_of::<Direction>(), 32);
    assert!(
        std::mem::size_of::<TcpTracker>() <= 152,
        "{}",
        std::mem::size_of::<TcpTracker>()
    );
}

#[test]
fn times_compare_across_the_32_bit_microsecond_wrap() {
    // 2^32 µs after the epoch is about 71.6 minutes: a connection crossing a multiple of it
    // still sees 1 ms as 1 ms.
    let wrap_ms = (1u64 << 32) / 1000;
    let mut t = TcpTracker::new();
    let base = |ms: u64| Timestamp((wrap_ms - 11 + ms) * MS); // wraps between 11 and 12 ms
    t.on_segment(C, &seg(1000, 0, SYN, 0), base(0));
    t.on_segment(S, &seg(5000, 1001, SYN | ACK, 0), base(5));
    t.on_segment(C, &seg(1001, 5001, ACK, 0), base(10));
    t.on_segment(C, &seg(1101, 5001, ACK, 100), base(11));
    // 1 ms later, across the wrap: out of order (within the 10 ms RTT), not a retransmission.
    let late = t.on_segment(C, &seg(1001, 5001, ACK, 100), base(12));
    assert_eq!(late.marks, OUT_OF_ORDER);
    // Time going backwards is never recent.
    let mut t = established();
    t.on_segment(C, &seg(1101, 5001, ACK, 100), at(20));
    let back = t.on_segment(C, &seg(1001, 5001, ACK, 100), at(19));
    assert_eq!(back.marks, RETRANSMISSION);
}
