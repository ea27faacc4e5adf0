//! Fuzz entry point of the reassembler: a plain function over arbitrary bytes, so that the
//! cargo-fuzz target `fuzz/fuzz_targets/reassembly.rs` and the stable property tests run the
//! same code.
//!
//! The input is read as a program of operations: raw datagrams through the parser, fragments
//! built from a few bytes (IPv4 or IPv6, a handful of identifications so that fragments meet,
//! offsets small enough to overlap or near the 65,535-byte limit, fill patterns that agree or
//! conflict), and steps of packet time. After every operation the caps and the accounting of
//! every fragment are checked; every reassembled datagram is decoded again.

use super::{Outcome, Reassembler, ReassemblyConfig, ReassemblyStats};
use wirewatch_core::{LinkType, Timestamp};

/// Small caps, so that a short input reaches every one of them.
fn fuzz_config() -> ReassemblyConfig {
    ReassemblyConfig {
        max_bytes: 4 * 1024,
        max_datagrams: 4,
        max_fragments: 4,
        ipv4_timeout_secs: 2,
        ipv6_timeout_secs: 4,
    }
}

/// Runs the program in `data` through a reassembler with small caps, checking its invariants
/// after every step (a violation panics, which is what the fuzzer looks for). Returns the
/// reassembler's counters, so tests can see what a corpus reaches.
pub fn fuzz_reassembly(data: &[u8]) -> ReassemblyStats {
    let mut r = Reassembler::new(&fuzz_config());
    let mut input = Input { data, pos: 0 };
    let mut ts = Timestamp::from_secs_nanos(1_000, 0);
    let mut frame = Vec::new();
    while let Some(op) = input.byte() {
        let outcome = match op % 8 {
            0 => {
                let len = usize::from(input.byte().unwrap_or(0));
                r.add(input.take(len), ts)
            }
            1 => {
                ts = ts.plus(u64::from(input.byte().unwrap_or(0)) * 50_000_000);
                r.expire(ts);
                Outcome::NotFragment
            }
            _ => {
                build(&mut input, op, &mut frame);
                r.add(&frame, ts)
            }
        };
        if let Outcome::Complete(done) = &outcome {
            check_datagram(&done.bytes);
        }
        check_invariants(&r);
    }
    r.flush();
    check_invariants(&r);
    assert_eq!(r.in_flight(), 0);
    assert_eq!(r.buffered_bytes(), 0);
    assert_eq!(r.held_fragments(), 0);
    r.stats()
}

/// The caps hold and every fragment handed in is accounted for exactly once.
fn check_invariants(r: &Reassembler) {
    let c = r.config();
    assert!(r.buffered_bytes() <= c.max_bytes, "memory cap");
    assert!(r.in_flight() <= c.max_datagrams, "datagram cap");
    let s = r.stats();
    assert_eq!(
        s.fragments,
        s.atomic
            + s.dropped_total()
            + s.fragments_abandoned
            + s.fragments_reassembled
            + r.held_fragments(),
        "every fragment accounted for: {s:?}"
    );
    assert!(r.held_fragments() <= r.in_flight() as u64 * u64::from(c.max_fragments));
    if r.in_flight() == 0 {
        assert_eq!(r.buffered_bytes(), 0);
    }
}

/// A reassembled datagram is a whole, unfragmented IP datagram of the length it announces.
fn check_datagram(bytes: &[u8]) {
    let p = wirewatch_decode::decode(LinkType::RAW, bytes);
    assert!(p.is_ip());
    assert_eq!(p.ip_len as usize, bytes.len());
    if bytes.first().is_some_and(|b| b >> 4 == 4) {
        assert!(p.fragment.is_none());
        assert!(bytes.len() <= 65_535);
    } else {
        assert!(bytes.len() <= 65_535 + 40);
    }
}

/// The fuzz input, read a byte or a run at a time (missing bytes read as 0 / empty).
struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    fn byte(&mut self) -> Option<u8> {
        let b = self.data.get(self.pos).copied();
        self.pos += 1;
        b
    }

    fn take(&mut self, len: usize) -> &'a [u8] {
        let start = self.pos.min(self.data.len());
        let end = start.saturating_add(len).min(self.data.len());
        self.pos = end;
        self.data.get(start..end).unwrap_or(&[])
    }
}

/// Builds into `out` a fragment described by the operation byte `op` (offset range, length
/// unit, fill variation) and the next four input bytes: version, identification, flags and
/// protocol; offset; length; fill pattern.
fn build(input: &mut Input<'_>, op: u8, out: &mut Vec<u8>) {
    let a = input.byte().unwrap_or(0);
    let b = input.byte().unwrap_or(0);
    let l = input.byte().unwrap_or(0);
    let fill = input.byte().unwrap_or(0);
    let v6 = a & 1 != 0;
    let id = u32::from((a >> 1) & 3);
    let more = a & 8 != 0;
    let ext_before = a & 16 != 0;
    let proto = [6u8, 17, if v6 { 58 } else { 1 }, 60, 50, 44][usize::from(a >> 5) % 6];
    // Small offsets make fragments meet (often at 0, where datagrams start); large ones reach
    // the 65,535-byte limit. Lengths are multiples of 8 (up to 504), as fragments must be, or
    // anything up to 4,087 (past the small memory cap).
    let units = if op & 0x88 == 0x88 {
        0x1fff - u16::from(b)
    } else if op & 0x10 != 0 {
        0
    } else {
        u16::from(b) & 0x3f
    };
    let len = if op & 0x40 != 0 {
        usize::from(l) * 16 + usize::from(l & 7)
    } else {
        usize::from(l & 0x3f) * 8
    };
    let varied = op & 0x20 != 0;
    let data: Vec<u8> = (0..len)
        .map(|i| if varied { fill ^ (i as u8) } else { fill })
        .collect();
    out.clear();
    let frag_bits = (units << 3) | u16::from(more);
    if v6 {
        let ext = if ext_before { 8 } else { 0 };
        let payload = u16::try_from(ext + 8 + len).unwrap_or(u16::MAX);
        out.extend_from_slice(&[0x60, 0, 0, 0]);
        out.extend_from_slice(&payload.to_be_bytes());
        out.extend_from_slice(&[if ext_before { 60 } else { 44 }, 64]);
        out.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        out.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        if ext_before {
            out.extend_from_slice(&[44, 0, 1, 4, 0, 0, 0, 0]);
        }
        out.extend_from_slice(&[proto, 0]);
        out.extend_from_slice(&frag_bits.to_be_bytes());
        out.extend_from_slice(&id.to_be_bytes());
    } else {
        let total = u16::try_from(20 + len).unwrap_or(u16::MAX);
        let flags = (units & 0x1fff) | if more { 0x2000 } else { 0 };
        out.extend_from_slice(&[0x45, 0]);
        out.extend_from_slice(&total.to_be_bytes());
        out.extend_from_slice(&(id as u16).to_be_bytes());
        out.extend_from_slice(&flags.to_be_bytes());
        out.extend_from_slice(&[64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    }
    out.extend_from_slice(&data);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reassembly::{DatagramDrop, FragmentDrop};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn arbitrary_programs_keep_the_invariants(
            data in proptest::collection::vec(any::<u8>(), 0..600)
        ) {
            fuzz_reassembly(&data);
        }

        #[test]
        fn fragment_programs_keep_the_invariants(
            ops in proptest::collection::vec(
                (2u8..=255, any::<u8>(), 0u8..12, 1u8..40, 0u8..3), 0..80)
        ) {
            // Structured operations only (no raw datagrams, little time), so that fragments of
            // the same datagrams meet often.
            let mut data = Vec::new();
            for (op, a, b, l, fill) in ops {
                let op = if op % 8 < 2 { op | 2 } else { op };
                data.extend_from_slice(&[op, a, b, l, fill]);
            }
            fuzz_reassembly(&data);
        }
    }

    /// Random programs reach every outcome the reassembler counts, so the fuzzer (which starts
    /// from nothing) can too.
    #[test]
    fn random_programs_reach_every_counter() {
        let mut rng = wirewatch_core::rng::SplitMix64::new(7);
        let mut total = ReassemblyStats::default();
        let seen = |s: &ReassemblyStats, total: &mut ReassemblyStats| {
            total.fragments += s.fragments;
            total.atomic += s.atomic;
            total.reassembled += s.reassembled;
            total.overlaps += s.overlaps;
            total.overlap_conflicts += s.overlap_conflicts;
            total.tiny_first += s.tiny_first;
        };
        let mut dropped = [0u64; FragmentDrop::ALL.len()];
        let mut abandoned = [0u64; DatagramDrop::ALL.len()];
        for _ in 0..3_000 {
            // Mostly fragments with few offsets, lengths and fills, so that they meet.
            let mut data = Vec::new();
            for _ in 0..rng.below(120) {
                let op = rng.next_u64() as u8;
                let op = if op % 8 < 2 && rng.below(10) > 0 {
                    op | 2
                } else {
                    op
                };
                // Mostly one identification and protocol, so that datagrams get many fragments.
                let a = rng.next_u64() as u8;
                let a = if rng.below(4) > 0 { a & 0x19 } else { a };
                let spread = if rng.below(2) == 0 { 12 } else { 64 };
                let b = rng.below(spread) as u8;
                let l = if rng.below(3) == 0 {
                    rng.next_u64() as u8
                } else {
                    1 + rng.below(40) as u8
                };
                let fill = rng.below(3) as u8;
                data.extend_from_slice(&[op, a, b, l, fill]);
            }
            let s = fuzz_reassembly(&data);
            seen(&s, &mut total);
            for (i, r) in FragmentDrop::ALL.iter().enumerate() {
                dropped[i] += s.dropped(*r);
            }
            for (i, r) in DatagramDrop::ALL.iter().enumerate() {
                abandoned[i] += s.abandoned(*r);
            }
        }
        eprintln!("{total:?}\ndropped {dropped:?}\nabandoned {abandoned:?}");
        assert!(total.reassembled > 0 && total.atomic > 0 && total.tiny_first > 0);
        assert!(total.overlaps > 0 && total.overlap_conflicts > 0);
        for (r, n) in FragmentDrop::ALL.iter().zip(dropped) {
            assert!(n > 0, "{r:?} never reached");
        }
        for (r, n) in DatagramDrop::ALL.iter().zip(abandoned) {
            assert!(n > 0 || *r == DatagramDrop::TooLarge, "{r:?} never reached");
        }
    }

    #[test]
    fn empty_and_short_inputs() {
        fuzz_reassembly(&[]);
        fuzz_reassembly(&[0]);
        fuzz_reassembly(&[2]);
        fuzz_reassembly(&[0, 255, 0x45]);
    }
}
