//! TCP health of one connection, as seen at the capture point.
//!
//! [`TcpTracker`] follows Wireshark's TCP sequence analysis (`tcp_analyze_sequence_number` in
//! its TCP dissector, the "TCP Analysis" chapter of its user's guide) segment by segment with
//! a few fixed-size fields per direction, so that its counts match what tshark flags:
//!
//! - *retransmission*: a segment with data, SYN or FIN whose sequence number is below the next
//!   expected one of its direction, and that is not a keep-alive; it is *spurious* when the
//!   receiver had already acknowledged all of its data, *fast* when it answers two or more
//!   duplicate ACKs (starts at their ACK number, within 20 ms of the last one), and
//!   *out-of-order* (not a retransmission) when it came within the handshake RTT (3 ms when
//!   unknown) of the segment that set the next expected sequence number and does not end
//!   exactly there;
//! - *lost segment*: a segment starting above the next expected sequence number (not RST);
//! - *zero window*: a segment announcing a zero window (not SYN, FIN or RST);
//! - *keep-alive*: 0 or 1 byte one below the next expected sequence number (not SYN, FIN or
//!   RST); *duplicate ACK*: no data, same window, sequence and ACK number as the direction's
//!   previous segment, the window not zero;
//! - *handshake RTT* (`tcp.analysis.initial_rtt`): from the most recent SYN without ACK to the
//!   first segment with ACK and without SYN, in either direction;
//! - *ACK RTT* samples: one data segment timed per direction at a time, until an ACK covers its
//!   end; a retransmission in that direction cancels the timing (Karn's algorithm).
//!
//! Times between segments are compared at microsecond resolution (the thresholds are
//! milliseconds); the handshake RTT keeps the capture's nanoseconds.
//!
//! Sequence numbers are compared as serial numbers (RFC 1982: `a` is before `b` when
//! `b - a`, wrapped, is below 2^31), so a connection crossing 2^32 is analysed like any other.
//! Unlike Wireshark, "not seen yet" is a flag, not the value 0, so a sequence number that
//! lands exactly on 0 after wrapping is still checked. Nothing here grows with the packets.

use wirewatch_core::proto::tcp_flags::{ACK, FIN, RST, SYN};
use wirewatch_core::{RttSummary, TcpHealth, Timestamp};

/// A segment's analysis marks (bit set).
pub mod marks {
    /// A retransmission of any kind (retransmission, fast or spurious).
    pub const RETRANSMISSION: u16 = 0x0001;
    /// A fast retransmission (also has [`RETRANSMISSION`]).
    pub const FAST_RETRANSMISSION: u16 = 0x0002;
    /// A spurious retransmission (also has [`RETRANSMISSION`]).
    pub const SPURIOUS_RETRANSMISSION: u16 = 0x0004;
    /// An out-of-order segment.
    pub const OUT_OF_ORDER: u16 = 0x0008;
    /// A segment after a gap (previous segment not captured).
    pub const LOST_SEGMENT: u16 = 0x0010;
    /// A zero window announced.
    pub const ZERO_WINDOW: u16 = 0x0020;
    /// A duplicate ACK.
    pub const DUPLICATE_ACK: u16 = 0x0040;
    /// A keep-alive probe.
    pub const KEEP_ALIVE: u16 = 0x0080;
    /// A zero-window probe.
    pub const ZERO_WINDOW_PROBE: u16 = 0x0100;
    /// An ACK of a keep-alive.
    pub const KEEP_ALIVE_ACK: u16 = 0x0200;
    /// An ACK of a zero-window probe.
    pub const ZERO_WINDOW_PROBE_ACK: u16 = 0x0400;
}

/// What the analysis said about one segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpSegment {
    /// The segment's marks ([`marks`]).
    pub marks: u16,
    /// The handshake round-trip time, nanoseconds, when this segment completed it.
    pub handshake_rtt_ns: Option<u64>,
}

impl TcpSegment {
    /// Whether the segment carries all of `mark`'s bits.
    pub fn has(&self, mark: u16) -> bool {
        self.marks & mark == mark
    }
}

/// The fields of a TCP segment the analysis reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentFields {
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number (read only when the ACK flag is set).
    pub ack: u32,
    /// Flag bits.
    pub flags: u8,
    /// The window field as sent (unscaled, as Wireshark's analysis compares it).
    pub window: u16,
    /// TCP payload length as announced by the headers.
    pub len: u32,
}

/// Fast retransmissions come within this many microseconds of the last duplicate ACK (20 ms).
const FAST_RETRANSMISSION_WINDOW_US: u32 = 20_000;
/// Out-of-order threshold while the handshake RTT is unknown (3 ms).
const DEFAULT_OOO_THRESHOLD_US: u32 = 3_000;

/// Bits of [`Direction::state`].
mod dir_state {
    /// `nextseq` holds a value.
    pub const NEXTSEQ: u8 = 0x01;
    /// `max_to_ack` holds a value.
    pub const MAX_TO_ACK: u8 = 0x02;
    /// The last segment carried an ACK, `lastack` holds its number.
    pub const LASTACK: u8 = 0x04;
    /// `window` holds the last segment's window.
    pub const WINDOW: u8 = 0x08;
    /// A segment is being timed (`timed_end`, `timed_us`).
    pub const TIMING: u8 = 0x10;
    /// The last segment was a keep-alive.
    pub const LAST_KEEP_ALIVE: u8 = 0x20;
    /// The last segment was a zero-window probe.
    pub const LAST_ZERO_WINDOW_PROBE: u8 = 0x40;
}

/// One direction of a connection: what its sender has sent and acknowledged so far, in 32
/// bytes (both directions share a cache line when aligned). Times are microseconds of packet
/// time truncated to 32 bits and compared with wrapping arithmetic: a difference reads right
/// up to 35 minutes, and time going backwards reads as long ago.
#[derive(Debug, Clone, Copy, Default)]
struct Direction {
    /// The sequence number after the highest segment sent (SYN and FIN count one).
    nextseq: u32,
    /// The ACK number of the direction's last segment.
    lastack: u32,
    /// The highest sequence number up to which the segments were contiguous.
    max_to_ack: u32,
    /// The end of the segment being timed for an ACK RTT.
    timed_end: u32,
    /// When `nextseq` was last raised.
    nextseq_us: u32,
    /// When the last segment was sent.
    lastack_us: u32,
    /// When the segment being timed was sent.
    timed_us: u32,
    /// The window of the last segment, as sent.
    window: u16,
    /// Duplicate ACKs in a row (-1: an ACK of unseen data was just neutralised).
    dupacks: i8,
    /// Which fields hold values, what the last segment was ([`dir_state`]).
    state: u8,
}

impl Direction {
    #[inline]
    fn has(&self, bit: u8) -> bool {
        self.state & bit != 0
    }

    #[inline]
    fn set(&mut self, bit: u8, on: bool) {
        if on {
            self.state |= bit;
        } else {
            self.state &= !bit;
        }
    }
}

/// `a` is after `b` in sequence space.
#[inline]
fn seq_gt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// `a` is before `b` in sequence space.
#[inline]
fn seq_lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// `a` is at or before `b` in sequence space.
#[inline]
fn seq_le(a: u32, b: u32) -> bool {
    !seq_gt(a, b)
}

/// Packet time in microseconds, truncated to 32 bits (see [`Direction`]).
#[inline]
fn micros(ts_ns: u64) -> u32 {
    (ts_ns / 1000) as u32
}

/// Microseconds from `earlier` to `now`; `u32::MAX` when time went backwards (as Wireshark's
/// unsigned difference: such a gap is never "recent") or more than 35 minutes passed.
#[inline]
fn elapsed_us(now: u32, earlier: u32) -> u32 {
    let d = now.wrapping_sub(earlier);
    if d > i32::MAX as u32 { u32::MAX } else { d }
}

/// Segments counted per kind (saturating), turned into a [`TcpHealth`] when asked.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    retransmissions: u32,
    fast_retransmissions: u32,
    spurious_retransmissions: u32,
    out_of_order: u32,
    lost_segments: u32,
    zero_windows: u32,
    duplicate_acks: u32,
    keep_alives: u32,
    rtt_samples: u32,
    rtt_min_ns: u64,
    rtt_max_ns: u64,
    rtt_sum_ns: u64,
}

/// The TCP analysis state of one connection: two directions, the handshake and the counts
/// (144 bytes, kept inline in the flow's entry; nothing grows). The directions come first, so
/// the fields every segment touches share a cache line or two.
#[derive(Debug, Clone, Default)]
#[repr(C)]
pub struct TcpTracker {
    dirs: [Direction; 2],
    /// When the most recent SYN without ACK was seen (ns), if one was (`syn_seen`).
    mru_syn: u64,
    /// The handshake RTT (ns); 0 while unknown (a zero difference is not kept, as in
    /// Wireshark).
    handshake_rtt: u64,
    syn_seen: bool,
    counts: Counts,
}

impl TcpTracker {
    /// A connection with nothing seen yet.
    pub fn new() -> Self {
        TcpTracker::default()
    }

    /// The health so far.
    pub fn health(&self) -> TcpHealth {
        let c = &self.counts;
        TcpHealth {
            handshake_rtt_ns: (self.handshake_rtt > 0).then_some(self.handshake_rtt),
            retransmissions: c.retransmissions.into(),
            fast_retransmissions: c.fast_retransmissions.into(),
            spurious_retransmissions: c.spurious_retransmissions.into(),
            out_of_order: c.out_of_order.into(),
            lost_segments: c.lost_segments.into(),
            zero_windows: c.zero_windows.into(),
            duplicate_acks: c.duplicate_acks.into(),
            keep_alives: c.keep_alives.into(),
            ack_rtt: RttSummary {
                samples: c.rtt_samples.into(),
                min_ns: c.rtt_min_ns,
                max_ns: c.rtt_max_ns,
                sum_ns: c.rtt_sum_ns,
            },
        }
    }

    /// Analyses one segment sent by direction `dir` (0 or 1, the flow table's key side) at
    /// `ts`, counts what it shows and returns its marks.
    #[inline]
    pub fn on_segment(&mut self, dir: usize, s: &SegmentFields, ts: Timestamp) -> TcpSegment {
        let fwd_i = dir & 1;
        let ts = ts.0;
        let mut out = TcpSegment::default();
        // Handshake RTT, before the sequence analysis (its out-of-order threshold uses it).
        if s.flags & (SYN | ACK) == SYN {
            self.mru_syn = ts;
            self.syn_seen = true;
        } else if s.flags & (SYN | ACK) == ACK
            && self.handshake_rtt == 0
            && self.syn_seen
            && ts > self.mru_syn
        {
            // A zero difference stays unset, as in Wireshark (the next ACK measures again).
            self.handshake_rtt = ts - self.mru_syn;
            out.handshake_rtt_ns = Some(self.handshake_rtt);
        }
        let m = self.analyse(fwd_i, s, ts);
        self.ack_rtt(fwd_i, s, ts, m);
        out.marks = m;
        if m != 0 {
            self.count(m);
        }
        out
    }

    /// Counts a segment's marks.
    fn count(&mut self, m: u16) {
        let c = &mut self.counts;
        for (bit, n) in [
            (marks::RETRANSMISSION, &mut c.retransmissions),
            (marks::FAST_RETRANSMISSION, &mut c.fast_retransmissions),
            (
                marks::SPURIOUS_RETRANSMISSION,
                &mut c.spurious_retransmissions,
            ),
            (marks::OUT_OF_ORDER, &mut c.out_of_order),
            (marks::LOST_SEGMENT, &mut c.lost_segments),
            (marks::ZERO_WINDOW, &mut c.zero_windows),
            (marks::DUPLICATE_ACK, &mut c.duplicate_acks),
            (marks::KEEP_ALIVE, &mut c.keep_alives),
        ] {
            if m & bit != 0 {
                *n = n.saturating_add(1);
            }
        }
    }

    /// Wireshark's sequence analysis of one segment; updates both directions' state.
    #[inline]
    fn analyse(&mut self, fwd_i: usize, s: &SegmentFields, ts: u64) -> u16 {
        use dir_state::*;
        use marks::*;
        let ooo_threshold = if self.handshake_rtt > 0 {
            u32::try_from(self.handshake_rtt / 1000).unwrap_or(u32::MAX)
        } else {
            DEFAULT_OOO_THRESHOLD_US
        };
        let now = micros(ts);
        let [d0, d1] = &mut self.dirs;
        let (fwd, rev) = if fwd_i == 0 { (d0, d1) } else { (d1, d0) };
        let window = s.window;
        let has_ack = s.flags & ACK != 0;
        let seglen = s.len;
        let syn_fin_rst = s.flags & (SYN | FIN | RST) != 0;
        let mut m: u16 = 0;
        // Same sequence and ACK number as the direction's last segment.
        let same_as_last = fwd.has(NEXTSEQ)
            && s.seq == fwd.nextseq
            && fwd.has(LASTACK) == has_ack
            && (!has_ack || s.ack == fwd.lastack);
        let same_window = fwd.has(WINDOW) && window == fwd.window;

        'fwd: {
            // Zero-window probe: one byte at the next expected sequence number while the
            // other side's window is zero.
            if seglen == 1
                && fwd.has(NEXTSEQ)
                && s.seq == fwd.nextseq
                && rev.has(WINDOW)
                && rev.window == 0
            {
                m |= ZERO_WINDOW_PROBE;
                break 'fwd;
            }
            if window == 0 && !syn_fin_rst {
                m |= ZERO_WINDOW;
            }
            // Previous segment not captured: this one starts beyond the next expected.
            if fwd.has(NEXTSEQ) && seq_gt(s.seq, fwd.nextseq) && s.flags & RST == 0 {
                m |= LOST_SEGMENT;
            }
            if seglen <= 1
                && fwd.has(NEXTSEQ)
                && s.seq == fwd.nextseq.wrapping_sub(1)
                && !syn_fin_rst
            {
                m |= KEEP_ALIVE;
            }
            if seglen != 0 || syn_fin_rst || !same_window || !same_as_last {
                break 'fwd;
            }
            // No data, same window, sequence and ACK number as the last segment.
            if window != 0 && rev.has(LAST_KEEP_ALIVE) {
                m |= KEEP_ALIVE_ACK;
            } else if window == 0 && rev.has(LAST_ZERO_WINDOW_PROBE) {
                m |= ZERO_WINDOW_PROBE_ACK;
            } else if window != 0 {
                fwd.dupacks = if fwd.dupacks == -1 {
                    1
                } else {
                    fwd.dupacks.saturating_add(1)
                };
                m |= DUPLICATE_ACK;
            }
        }

        // A new ACK number restarts the duplicate count.
        if fwd.has(LASTACK) != has_ack || (has_ack && s.ack != fwd.lastack) {
            fwd.dupacks = 0;
        }

        // An ACK beyond what the other side was seen to send: its segments were missed.
        if has_ack && rev.has(MAX_TO_ACK) && seq_gt(s.ack, rev.max_to_ack) {
            if seq_gt(rev.max_to_ack, rev.nextseq) {
                rev.max_to_ack = rev.nextseq;
            } else {
                rev.dupacks = -1;
            }
        }

        let syn_fin = u32::from(s.flags & (SYN | FIN) != 0);
        let end = s.seq.wrapping_add(seglen).wrapping_add(syn_fin);
        // Retransmission, fast retransmission, spurious retransmission or out-of-order.
        if (seglen > 0 || syn_fin != 0) && m & KEEP_ALIVE == 0 {
            let mut not_advanced = fwd.has(NEXTSEQ) && seq_lt(s.seq, fwd.nextseq);
            // More than one byte starting one below the next expected: new data after a
            // zero-window probe, not a retransmission.
            if seglen > 1 && fwd.has(NEXTSEQ) && fwd.nextseq.wrapping_sub(1) == s.seq {
                not_advanced = false;
            }
            if seglen > 0 && rev.has(LASTACK) && seq_le(s.seq.wrapping_add(seglen), rev.lastack) {
                m |= RETRANSMISSION | SPURIOUS_RETRANSMISSION;
            } else if not_advanced
                && rev.dupacks >= 2
                && rev.has(LASTACK)
                && rev.lastack == s.seq
                && elapsed_us(now, rev.lastack_us) < FAST_RETRANSMISSION_WINDOW_US
            {
                m |= RETRANSMISSION | FAST_RETRANSMISSION;
            } else if not_advanced
                && elapsed_us(now, fwd.nextseq_us) < ooo_threshold
                && fwd.nextseq != end
            {
                m |= OUT_OF_ORDER;
            } else if not_advanced {
                m |= RETRANSMISSION;
            }
        }

        // The next expected sequence number only moves forward; zero-window probes do not
        // move it.
        if m & ZERO_WINDOW_PROBE == 0 {
            if !fwd.has(NEXTSEQ) || seq_gt(end, fwd.nextseq) {
                fwd.nextseq = end;
                fwd.nextseq_us = now;
                fwd.state |= NEXTSEQ;
            }
            if !fwd.has(MAX_TO_ACK) || s.seq == fwd.max_to_ack {
                fwd.max_to_ack = fwd.nextseq;
                fwd.state |= MAX_TO_ACK;
            }
        }
        fwd.window = window;
        fwd.lastack = if has_ack { s.ack } else { 0 };
        fwd.state |= WINDOW;
        fwd.set(LASTACK, has_ack);
        fwd.lastack_us = now;
        fwd.set(LAST_KEEP_ALIVE, m & KEEP_ALIVE != 0);
        fwd.set(LAST_ZERO_WINDOW_PROBE, m & ZERO_WINDOW_PROBE != 0);
        m
    }

    /// Times one segment per direction until an ACK covers it.
    #[inline]
    fn ack_rtt(&mut self, fwd_i: usize, s: &SegmentFields, ts: u64, m: u16) {
        use dir_state::TIMING;
        // The ACK this segment carries may end the other direction's timing.
        let rev = &mut self.dirs[fwd_i ^ 1];
        let now = micros(ts);
        if s.flags & ACK != 0 && rev.has(TIMING) && seq_le(rev.timed_end, s.ack) {
            rev.set(TIMING, false);
            let us = elapsed_us(now, rev.timed_us);
            if us != u32::MAX {
                let rtt = u64::from(us) * 1000;
                let c = &mut self.counts;
                c.rtt_min_ns = if c.rtt_samples == 0 {
                    rtt
                } else {
                    c.rtt_min_ns.min(rtt)
                };
                c.rtt_max_ns = c.rtt_max_ns.max(rtt);
                c.rtt_sum_ns = c.rtt_sum_ns.saturating_add(rtt);
                c.rtt_samples = c.rtt_samples.saturating_add(1);
            }
        }
        let fwd = &mut self.dirs[fwd_i];
        let syn_fin = u32::from(s.flags & (SYN | FIN) != 0);
        if m & (marks::RETRANSMISSION | marks::OUT_OF_ORDER) != 0 {
            // Karn: a sample that might measure the retransmission is ambiguous.
            fwd.set(TIMING, false);
        } else if !fwd.has(TIMING)
            && (s.len > 0 || syn_fin != 0)
            && s.flags & RST == 0
            && m & (marks::KEEP_ALIVE | marks::ZERO_WINDOW_PROBE) == 0
        {
            fwd.timed_end = s.seq.wrapping_add(s.len).wrapping_add(syn_fin);
            fwd.timed_us = now;
            fwd.state |= TIMING;
        }
    }
}

#[cfg(test)]
#[path = "tcp_health_tests.rs"]
mod tests;
