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
//! Sequence numbers are compared as serial numbers (RFC 1982: `a` is before `b` when
//! `b - a`, wrapped, is below 2^31), so a connection crossing 2^32 is analysed like any other.
//! Unlike Wireshark, "not seen yet" is a flag, not the value 0, so a sequence number that
//! lands exactly on 0 after wrapping is still checked. Nothing here grows with the packets.

use wirewatch_core::proto::tcp_flags::{ACK, FIN, RST, SYN};
use wirewatch_core::{TcpHealth, Timestamp};

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

/// Fast retransmissions come within this many nanoseconds of the last duplicate ACK (20 ms).
const FAST_RETRANSMISSION_WINDOW_NS: u64 = 20_000_000;
/// Out-of-order threshold while the handshake RTT is unknown (3 ms).
const DEFAULT_OOO_THRESHOLD_NS: u64 = 3_000_000;

/// One direction of a connection: what its sender has sent and acknowledged so far.
#[derive(Debug, Clone, Copy)]
struct Direction {
    /// The sequence number after the highest segment sent (SYN and FIN count one).
    nextseq: u32,
    nextseq_set: bool,
    /// When `nextseq` was last raised.
    nextseq_ts: Timestamp,
    /// The highest sequence number up to which the segments were contiguous.
    max_to_ack: u32,
    max_to_ack_set: bool,
    /// The ACK number of the direction's last segment (`lastack_set` false when it had no ACK).
    lastack: u32,
    lastack_set: bool,
    /// When the last segment was sent.
    lastack_ts: Timestamp,
    /// The window of the last segment (`u32::MAX` before the first).
    window: u32,
    /// Duplicate ACKs in a row (-1: an ACK of unseen data was just neutralised).
    dupacks: i32,
    /// The marks of the direction's last segment.
    last_marks: u16,
    /// The segment being timed for an ACK RTT: its end and when it was sent.
    timed: Option<(u32, Timestamp)>,
}

impl Default for Direction {
    fn default() -> Self {
        Direction {
            nextseq: 0,
            nextseq_set: false,
            nextseq_ts: Timestamp(0),
            max_to_ack: 0,
            max_to_ack_set: false,
            lastack: 0,
            lastack_set: false,
            lastack_ts: Timestamp(0),
            window: u32::MAX,
            dupacks: 0,
            last_marks: 0,
            timed: None,
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

/// Nanoseconds from `earlier` to `now`; `u64::MAX` when time went backwards (as Wireshark's
/// unsigned difference: such a gap is never "recent").
#[inline]
fn elapsed(now: Timestamp, earlier: Timestamp) -> u64 {
    now.0.checked_sub(earlier.0).unwrap_or(u64::MAX)
}

/// The TCP analysis state of one connection: two directions and the health so far (under
/// 300 bytes; nothing grows).
#[derive(Debug, Clone, Default)]
pub struct TcpTracker {
    dirs: [Direction; 2],
    /// When the most recent SYN without ACK was seen.
    mru_syn: Option<Timestamp>,
    health: TcpHealth,
}

impl TcpTracker {
    /// A connection with nothing seen yet.
    pub fn new() -> Self {
        TcpTracker::default()
    }

    /// The health so far.
    pub fn health(&self) -> TcpHealth {
        self.health
    }

    /// Analyses one segment sent by direction `dir` (0 or 1, the flow table's key side) at
    /// `ts`, counts what it shows and returns its marks.
    pub fn on_segment(&mut self, dir: usize, s: &SegmentFields, ts: Timestamp) -> TcpSegment {
        let (fwd_i, rev_i) = if dir == 0 { (0, 1) } else { (1, 0) };
        let mut out = TcpSegment::default();
        // Handshake RTT, before the sequence analysis (its out-of-order threshold uses it).
        if s.flags & (SYN | ACK) == SYN {
            self.mru_syn = Some(ts);
        } else if s.flags & (SYN | ACK) == ACK
            && self.health.handshake_rtt_ns.is_none()
            && let Some(syn) = self.mru_syn
        {
            // A zero difference stays unset, as in Wireshark (the next ACK measures again).
            let rtt = ts.0.wrapping_sub(syn.0);
            if ts.0 > syn.0 {
                self.health.handshake_rtt_ns = Some(rtt);
                out.handshake_rtt_ns = Some(rtt);
            }
        }
        let m = self.analyse(fwd_i, s, ts);
        self.ack_rtt(fwd_i, rev_i, s, ts, m);
        out.marks = m;
        let h = &mut self.health;
        let count = |bit: u16| u64::from(m & bit != 0);
        h.retransmissions += count(marks::RETRANSMISSION);
        h.fast_retransmissions += count(marks::FAST_RETRANSMISSION);
        h.spurious_retransmissions += count(marks::SPURIOUS_RETRANSMISSION);
        h.out_of_order += count(marks::OUT_OF_ORDER);
        h.lost_segments += count(marks::LOST_SEGMENT);
        h.zero_windows += count(marks::ZERO_WINDOW);
        h.duplicate_acks += count(marks::DUPLICATE_ACK);
        h.keep_alives += count(marks::KEEP_ALIVE);
        out
    }

    /// Wireshark's sequence analysis of one segment; updates both directions' state.
    fn analyse(&mut self, fwd_i: usize, s: &SegmentFields, ts: Timestamp) -> u16 {
        use marks::*;
        let ooo_threshold = self
            .health
            .handshake_rtt_ns
            .unwrap_or(DEFAULT_OOO_THRESHOLD_NS);
        let [d0, d1] = &mut self.dirs;
        let (fwd, rev) = if fwd_i == 0 { (d0, d1) } else { (d1, d0) };
        let window = u32::from(s.window);
        let ack = if s.flags & ACK != 0 {
            Some(s.ack)
        } else {
            None
        };
        let seglen = s.len;
        let syn_fin_rst = s.flags & (SYN | FIN | RST) != 0;
        let mut m: u16 = 0;
        let same_as_last = |fwd: &Direction| {
            fwd.nextseq_set
                && s.seq == fwd.nextseq
                && fwd.lastack_set == ack.is_some()
                && ack.is_none_or(|a| a == fwd.lastack)
        };

        'fwd: {
            // Zero-window probe: one byte at the next expected sequence number while the
            // other side's window is zero.
            if seglen == 1 && fwd.nextseq_set && s.seq == fwd.nextseq && rev.window == 0 {
                m |= ZERO_WINDOW_PROBE;
                break 'fwd;
            }
            if window == 0 && !syn_fin_rst {
                m |= ZERO_WINDOW;
            }
            // Previous segment not captured: this one starts beyond the next expected.
            if fwd.nextseq_set && seq_gt(s.seq, fwd.nextseq) && s.flags & RST == 0 {
                m |= LOST_SEGMENT;
            }
            if seglen <= 1
                && fwd.nextseq_set
                && s.seq == fwd.nextseq.wrapping_sub(1)
                && !syn_fin_rst
            {
                m |= KEEP_ALIVE;
            }
            if seglen == 0
                && window != 0
                && window == fwd.window
                && same_as_last(fwd)
                && rev.last_marks & KEEP_ALIVE != 0
                && !syn_fin_rst
            {
                m |= KEEP_ALIVE_ACK;
                break 'fwd;
            }
            if seglen == 0
                && window == 0
                && window == fwd.window
                && same_as_last(fwd)
                && rev.last_marks & ZERO_WINDOW_PROBE != 0
                && !syn_fin_rst
            {
                m |= ZERO_WINDOW_PROBE_ACK;
                break 'fwd;
            }
            if seglen == 0
                && window != 0
                && window == fwd.window
                && same_as_last(fwd)
                && !syn_fin_rst
            {
                fwd.dupacks = if fwd.dupacks == -1 {
                    1
                } else {
                    fwd.dupacks.saturating_add(1)
                };
                m |= DUPLICATE_ACK;
            }
        }

        // A new ACK number restarts the duplicate count.
        if fwd.lastack_set != ack.is_some() || ack.is_some_and(|a| a != fwd.lastack) {
            fwd.dupacks = 0;
        }

        // An ACK beyond what the other side was seen to send: its segments were missed.
        if let Some(a) = ack
            && rev.max_to_ack_set
            && seq_gt(a, rev.max_to_ack)
        {
            if seq_gt(rev.max_to_ack, rev.nextseq) {
                rev.max_to_ack = rev.nextseq;
            } else {
                rev.dupacks = -1;
            }
        }

        // Retransmission, fast retransmission, spurious retransmission or out-of-order.
        if (seglen > 0 || s.flags & (SYN | FIN) != 0) && m & KEEP_ALIVE == 0 {
            let mut not_advanced = fwd.nextseq_set && seq_lt(s.seq, fwd.nextseq);
            // More than one byte starting one below the next expected: new data after a
            // zero-window probe, not a retransmission.
            if seglen > 1 && fwd.nextseq_set && fwd.nextseq.wrapping_sub(1) == s.seq {
                not_advanced = false;
            }
            let end = s
                .seq
                .wrapping_add(seglen)
                .wrapping_add(u32::from(s.flags & (SYN | FIN) != 0));
            if seglen > 0 && rev.lastack_set && seq_le(s.seq.wrapping_add(seglen), rev.lastack) {
                m |= RETRANSMISSION | SPURIOUS_RETRANSMISSION;
            } else if not_advanced
                && rev.dupacks >= 2
                && rev.lastack_set
                && rev.lastack == s.seq
                && elapsed(ts, rev.lastack_ts) < FAST_RETRANSMISSION_WINDOW_NS
            {
                m |= RETRANSMISSION | FAST_RETRANSMISSION;
            } else if not_advanced
                && elapsed(ts, fwd.nextseq_ts) < ooo_threshold
                && fwd.nextseq != end
            {
                m |= OUT_OF_ORDER;
            } else if not_advanced {
                m |= RETRANSMISSION;
            }
        }

        // The next expected sequence number only moves forward; zero-window probes do not
        // move it.
        let next = s
            .seq
            .wrapping_add(seglen)
            .wrapping_add(u32::from(s.flags & (SYN | FIN) != 0));
        if m & ZERO_WINDOW_PROBE == 0 {
            if !fwd.nextseq_set || seq_gt(next, fwd.nextseq) {
                fwd.nextseq = next;
                fwd.nextseq_set = true;
                fwd.nextseq_ts = ts;
            }
            if !fwd.max_to_ack_set || s.seq == fwd.max_to_ack {
                fwd.max_to_ack = fwd.nextseq;
                fwd.max_to_ack_set = true;
            }
        }
        fwd.window = window;
        fwd.lastack = ack.unwrap_or(0);
        fwd.lastack_set = ack.is_some();
        fwd.lastack_ts = ts;
        fwd.last_marks = m;
        m
    }

    /// Times one segment per direction until an ACK covers it.
    fn ack_rtt(&mut self, fwd_i: usize, rev_i: usize, s: &SegmentFields, ts: Timestamp, m: u16) {
        // The ACK this segment carries may end the other direction's timing.
        if s.flags & ACK != 0
            && let Some((end, sent)) = self.dirs[rev_i].timed
            && seq_le(end, s.ack)
        {
            self.dirs[rev_i].timed = None;
            if ts >= sent {
                self.health.ack_rtt.add(ts.since(sent));
            }
        }
        let fwd = &mut self.dirs[fwd_i];
        let resent = marks::RETRANSMISSION | marks::OUT_OF_ORDER;
        if m & resent != 0 {
            // Karn: a sample that might measure the retransmission is ambiguous.
            fwd.timed = None;
        } else if fwd.timed.is_none()
            && (s.len > 0 || s.flags & (SYN | FIN) != 0)
            && s.flags & RST == 0
            && m & (marks::KEEP_ALIVE | marks::ZERO_WINDOW_PROBE) == 0
        {
            let end = s
                .seq
                .wrapping_add(s.len)
                .wrapping_add(u32::from(s.flags & (SYN | FIN) != 0));
            fwd.timed = Some((end, ts));
        }
    }
}

#[cfg(test)]
#[path = "tcp_health_tests.rs"]
mod tests;
