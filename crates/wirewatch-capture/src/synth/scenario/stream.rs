//! An endless, pausable stream of background traffic: the finite [`Generator`] run segment
//! after segment, read one frame ahead so it can be merged with other streams by time.
//!
//! Owns segment restarts and the shift between generator time and scenario time. The
//! background stream never pauses (no shift); the Spike phase's extra traffic pauses between
//! Spike phases, so its flows resume where they stopped instead of being cut off and started
//! again with the same client ports every time.

use super::{PACKETS_PER_FLOW, derive_seed};
use crate::synth::generator::{GeneratedFrame, Generator, GeneratorConfig};
use wirewatch_core::Timestamp;
use wirewatch_core::time::NANOS_PER_SEC;

/// How a stream seeds and sizes its generator segments.
#[derive(Debug, Clone, Copy)]
pub(super) struct StreamPlan {
    /// Seed of the first segment, used as given.
    pub first_seed: u64,
    /// Seed and tag the later segments' seeds are derived from.
    pub seed: u64,
    pub tag: u64,
    /// Frames per second.
    pub pps: f64,
    /// Frames per segment. Streams with equal segments have equal address pools, so the
    /// Spike's extra traffic comes from the same hosts as the background.
    pub segment_packets: u64,
}

/// A segmented generator and its read-ahead frame.
#[derive(Debug)]
pub(super) struct GenStream {
    plan: StreamPlan,
    generator: Generator,
    /// Segments started so far.
    pub segments: u64,
    /// The frame read ahead, in generator time; its bytes are in `buf`.
    pending: Option<GeneratedFrame>,
    buf: Vec<u8>,
    /// Generator time of the last frame read (the next segment continues from it).
    last: Timestamp,
    /// Scenario time minus generator time.
    shift: u64,
}

impl GenStream {
    /// A stream whose first frame is at `start`.
    pub fn new(plan: StreamPlan, start: Timestamp) -> Self {
        GenStream {
            generator: Generator::new(segment(&plan, plan.first_seed, start)),
            plan,
            segments: 1,
            pending: None,
            buf: Vec::with_capacity(2048),
            last: start,
            shift: 0,
        }
    }

    /// Scenario time of the next frame.
    pub fn peek(&mut self) -> Timestamp {
        self.read_ahead().ts.plus(self.shift)
    }

    /// Moves the next frame into `buf` (cleared first) and describes it, in scenario time.
    pub fn take(&mut self, buf: &mut Vec<u8>) -> GeneratedFrame {
        let frame = self.read_ahead();
        self.pending = None;
        buf.clear();
        buf.extend_from_slice(&self.buf);
        GeneratedFrame {
            ts: frame.ts.plus(self.shift),
            ..frame
        }
    }

    /// The next frame in generator time, read into `buf` if not already there.
    fn read_ahead(&mut self) -> GeneratedFrame {
        loop {
            if let Some(frame) = self.pending {
                return frame;
            }
            match self.generator.next_frame(&mut self.buf) {
                Some(frame) => {
                    self.last = frame.ts;
                    self.pending = Some(frame);
                }
                None => {
                    // The segment is used up: the next one starts one mean gap later. It
                    // always has frames, so this loop runs at most twice.
                    let gap = (NANOS_PER_SEC as f64 / self.plan.pps) as u64;
                    let seed = derive_seed(self.plan.seed, self.plan.tag, self.segments);
                    let next = segment(&self.plan, seed, self.last.plus(gap));
                    self.generator = Generator::new(next);
                    self.segments += 1;
                }
            }
        }
    }

    /// Removes the time from `from` to `to` (scenario time) from this stream: what would have
    /// come at `from` comes at `to`, and everything after moves with it.
    pub fn skip(&mut self, from: u64, to: u64) {
        self.shift = self.shift.saturating_add(to.saturating_sub(from));
    }
}

/// The generator configuration of one segment.
fn segment(plan: &StreamPlan, seed: u64, start: Timestamp) -> GeneratorConfig {
    GeneratorConfig {
        seed,
        packets: plan.segment_packets.max(1),
        flows: (plan.segment_packets / PACKETS_PER_FLOW).max(1),
        start,
        packets_per_second: plan.pps,
    }
}
