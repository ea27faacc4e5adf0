//! Totals over a whole run or file.

use crate::apps::AppCounters;
use crate::counters::PacketCounters;
use wirewatch_core::Timestamp;
use wirewatch_decode::Packet;

/// Address-table cap for whole-run totals: 1,048,576 addresses is about 50 MB per direction,
/// exact for any real capture; a spoofed flood beyond it is summarised by the sketch.
pub const RUN_TALKER_CAP: usize = 1 << 20;

/// Counters over a whole run, plus its time span.
#[derive(Debug, Clone)]
pub struct RunTotals {
    /// The counters.
    pub counters: PacketCounters,
    /// Timestamp of the first frame.
    pub first_ts: Option<Timestamp>,
    /// Timestamp of the last frame (in arrival order).
    pub last_ts: Option<Timestamp>,
    /// How many times a frame's timestamp was earlier than the one before it.
    pub ts_backwards: u64,
    /// Packets per application protocol over the closed intervals.
    pub apps: AppCounters,
    /// Silent intervals not reported as empty intervals: gaps longer than
    /// `max_empty_intervals`, or beyond the run's allowance for long gaps.
    pub intervals_skipped: u64,
}

impl Default for RunTotals {
    fn default() -> Self {
        RunTotals::new(RUN_TALKER_CAP)
    }
}

impl RunTotals {
    /// Empty totals with the given address-table cap.
    pub fn new(talker_cap: usize) -> Self {
        RunTotals {
            counters: PacketCounters::new(talker_cap),
            first_ts: None,
            last_ts: None,
            ts_backwards: 0,
            intervals_skipped: 0,
            apps: AppCounters::default(),
        }
    }

    /// Counts one decoded frame, except in the address tables: those are merged from each
    /// closed interval ([`RunTotals::absorb_interval`]), which costs one update per address
    /// per interval instead of two per packet.
    #[inline]
    pub fn record(&mut self, pkt: &Packet, wire_len: u32, captured_len: u32, ts: Timestamp) {
        self.counters.record_scalars(pkt, wire_len, captured_len);
        if self.first_ts.is_none() {
            self.first_ts = Some(ts);
        }
        if self.last_ts.is_some_and(|last| ts < last) {
            self.ts_backwards += 1;
        }
        self.last_ts = Some(ts);
    }

    /// Adds a closed interval's address tables to the run's.
    pub fn absorb_interval(&mut self, interval: &PacketCounters) {
        self.counters.merge_talkers(interval);
    }
}
