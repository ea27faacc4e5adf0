//! The engine's packet clock: which capture timestamps may move packet time forward.
//!
//! Capture timestamps lie: one flipped byte in a file, or a crafted one, puts a packet in the
//! year 2554, where interval arithmetic saturates; one packet fifty years ahead would close
//! half a million intervals and age out every stored row. A timestamp is therefore checked once,
//! here, before anything uses it: a packet more than [`MAX_JUMP_NS`] ahead of the packet before
//! it moves the clock only when the packet after it confirms the jump (two captures a week
//! apart, analysed as one run, are a real jump; a lone packet in 2074 is not); until then it is
//! processed at the current packet time and counted. Timestamps past [`MAX_SANE_NS`] never move
//! the clock. Packets earlier than the clock keep their own time (the interval that is open
//! counts them), as before.

use wirewatch_core::Timestamp;
use wirewatch_core::time::NANOS_PER_SEC;

/// How far ahead of the previous packet a timestamp may be without a second packet confirming
/// it: a day, far beyond any real capture gap between two consecutive packets of a live link,
/// far short of what a corrupt timestamp usually claims.
pub const MAX_JUMP_NS: u64 = 24 * 3600 * NANOS_PER_SEC;

/// The latest packet time accepted at all: 2^63 ns after 1970 (the year 2262), leaving interval
/// arithmetic a wide margin below the saturation of 64-bit nanoseconds (the year 2554).
pub const MAX_SANE_NS: u64 = 1 << 63;

/// Packet time as the engine will use it.
#[derive(Debug, Default, Clone)]
pub struct PacketClock {
    /// The latest accepted packet time.
    now: Option<Timestamp>,
    /// A far-ahead timestamp waiting for the next packet to confirm it.
    pending: Option<Timestamp>,
    /// Packets whose timestamp was not believed (processed at the clock's time instead).
    far_ahead: u64,
}

impl PacketClock {
    /// The time to process a packet stamped `ts` at (and the clock moved as it allows).
    pub fn admit(&mut self, ts: Timestamp) -> Timestamp {
        self.admit_with(ts, wall_clock)
    }

    /// [`PacketClock::admit`] with the wall clock given (read only for a run's first packet).
    ///
    /// A packet is judged against the packet before it; the first one has no neighbour but
    /// the wall clock. Stamped more than [`MAX_JUMP_NS`] after that reference, it moves the
    /// clock only once the next packet confirms it (a capture made with a clock set years
    /// ahead still works); until then it is processed at the clock's time (time 0 before the
    /// first believed packet, long before anything retention keeps) and counted.
    fn admit_with(&mut self, ts: Timestamp, wall: impl FnOnce() -> Timestamp) -> Timestamp {
        let (reference, instead) = match self.now {
            Some(now) => (now, now),
            None => (wall(), Timestamp(0)),
        };
        if ts.nanos() > MAX_SANE_NS {
            self.far_ahead += 1;
            return instead;
        }
        let ahead = ts.nanos() > reference.nanos().saturating_add(MAX_JUMP_NS);
        let confirmed = self
            .pending
            .is_some_and(|p| p.nanos().abs_diff(ts.nanos()) <= MAX_JUMP_NS);
        if ahead && !confirmed {
            self.pending = Some(ts);
            self.far_ahead += 1;
            return instead;
        }
        self.pending = None;
        if self.now.is_none_or(|now| ts > now) {
            self.now = Some(ts);
        }
        ts
    }

    /// Packets whose timestamp was too far ahead to believe so far.
    pub fn far_ahead(&self) -> u64 {
        self.far_ahead
    }
}

/// The wall clock, only to judge a run's first timestamp (never to process packets).
fn wall_clock() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: u64) -> Timestamp {
        Timestamp(secs * NANOS_PER_SEC)
    }

    #[test]
    fn a_lone_packet_decades_ahead_does_not_move_the_clock() {
        let mut c = PacketClock::default();
        assert_eq!(c.admit(t(1_700_000_000)), t(1_700_000_000));
        assert_eq!(
            c.admit(t(3_300_000_000)),
            t(1_700_000_000),
            "2074: not believed"
        );
        assert_eq!(c.admit(t(1_700_000_001)), t(1_700_000_001));
        assert_eq!(c.far_ahead(), 1);
    }

    #[test]
    fn a_first_packet_decades_ahead_of_the_wall_clock_needs_confirming() {
        let wall = t(1_800_000_000);
        let mut c = PacketClock::default();
        assert_eq!(c.admit_with(t(3_300_000_000), || wall), Timestamp(0));
        // The next packet is of the capture's real time: it starts the clock.
        assert_eq!(c.admit(t(1_700_000_000)), t(1_700_000_000));
        assert_eq!(c.admit(t(1_700_000_001)), t(1_700_000_001));
        assert_eq!(c.far_ahead(), 1);
        // A capture whose clock was set years ahead: its second packet confirms the first.
        let mut c = PacketClock::default();
        assert_eq!(c.admit_with(t(3_300_000_000), || wall), Timestamp(0));
        assert_eq!(c.admit_with(t(3_300_000_001), || wall), t(3_300_000_001));
        assert_eq!(c.admit(t(3_300_000_002)), t(3_300_000_002));
        // An ordinary first packet is taken as it is.
        let mut c = PacketClock::default();
        assert_eq!(c.admit_with(t(1_700_000_000), || wall), t(1_700_000_000));
        assert_eq!(c.far_ahead(), 0);
    }

    #[test]
    fn a_confirmed_jump_is_a_new_capture_and_moves_the_clock() {
        let mut c = PacketClock::default();
        c.admit(t(1_700_000_000));
        let week = 7 * 24 * 3600;
        assert_eq!(c.admit(t(1_700_000_000 + week)), t(1_700_000_000));
        assert_eq!(
            c.admit(t(1_700_000_001 + week)),
            t(1_700_000_001 + week),
            "the second packet confirms the first"
        );
        assert_eq!(c.admit(t(1_700_000_002 + week)), t(1_700_000_002 + week));
        assert_eq!(c.far_ahead(), 1);
    }

    #[test]
    fn saturating_timestamps_never_move_it_even_in_pairs() {
        let mut c = PacketClock::default();
        assert_eq!(
            c.admit(Timestamp(u64::MAX)),
            Timestamp(0),
            "nothing to go by yet"
        );
        c.admit(t(1_700_000_000));
        assert_eq!(c.admit(Timestamp(u64::MAX)), t(1_700_000_000));
        assert_eq!(c.admit(Timestamp(u64::MAX - 1)), t(1_700_000_000));
        assert_eq!(c.far_ahead(), 3);
        // Backwards stays as it was: the packet keeps its time, the clock does not go back.
        assert_eq!(c.admit(t(1_600_000_000)), t(1_600_000_000));
        assert_eq!(c.admit(t(1_700_000_000)), t(1_700_000_000));
    }
}
