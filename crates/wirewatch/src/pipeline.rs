//! The engine: decode → flows → interval metrics, driven by packet time.
//!
//! One `Engine` owns all pipeline state and runs on one thread, so the hot path takes no locks.
//! It hands closed intervals and finished flows to a [`Sink`].

use serde::{Deserialize, Serialize};
use wirewatch_core::{DropCounts, FlowRecord, Frame, IntervalMetrics, Timestamp};
use wirewatch_decode::{DecodeErrorKind, Packet, decode};
use wirewatch_flow::{FlowConfig, FlowTable, FlowTableStats};
use wirewatch_metrics::{IntervalAggregator, MetricsConfig, RunTotals};

/// Engine settings: each stage's own part.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// Flow table settings.
    pub flows: FlowConfig,
    /// Interval metrics settings.
    pub metrics: MetricsConfig,
}

/// Where the engine delivers its results.
pub trait Sink {
    /// An interval closed.
    fn interval(&mut self, metrics: IntervalMetrics);
    /// A flow finished (or was flushed at the end of the capture).
    fn flow(&mut self, record: FlowRecord);
    /// A source met a problem that did not stop it.
    fn warning(&mut self, _message: String) {}
    /// A source stopped on an error.
    fn error(&mut self, _message: String) {}
}

/// The engine state for one run.
pub struct Engine {
    flows: FlowTable,
    intervals: IntervalAggregator,
    /// Packets lost before the engine, cumulative over the run, as the sources report them.
    drops: DropCounts,
    /// `drops` when the previous interval closed.
    drops_at_close: DropCounts,
}

impl Engine {
    /// A new engine.
    pub fn new(config: &EngineConfig) -> Self {
        Engine {
            flows: FlowTable::new(&config.flows),
            intervals: IntervalAggregator::new(&config.metrics),
            drops: DropCounts::default(),
            drops_at_close: DropCounts::default(),
        }
    }

    /// Processes one frame and returns its decoded summary.
    #[inline]
    pub fn process(&mut self, frame: &Frame<'_>, sink: &mut impl Sink) -> Packet {
        let pkt = decode(frame.linktype, frame.data);
        let ts = frame.ts;
        if self.intervals.must_close_before(ts) {
            self.close_intervals_until(ts, sink);
        }
        let captured = u32::try_from(frame.data.len()).unwrap_or(u32::MAX);
        let flow = self.flows.ingest(&pkt, frame.wire_len, ts);
        self.intervals
            .record_packet(&pkt, frame.wire_len, captured, ts, flow);
        for record in self.flows.drain_finished() {
            sink.flow(record);
        }
        pkt
    }

    /// Moves packet time forward to `ts` without a packet (a live source that is quiet):
    /// closes every interval that ends at or before `ts`, opening one if none is open yet.
    pub fn advance_to(&mut self, ts: Timestamp, sink: &mut impl Sink) {
        if self.intervals.must_close_before(ts) {
            self.close_intervals_until(ts, sink);
        }
        self.intervals.ensure_open(ts);
    }

    /// Records the run's cumulative drop counts as the sources report them; each interval
    /// reports the drops that happened while it was open.
    pub fn set_drops(&mut self, cumulative: DropCounts) {
        self.drops = cumulative;
    }

    /// Drops over the run so far.
    pub fn drops(&self) -> DropCounts {
        self.drops
    }

    /// Ends the run: flushes every live flow and closes the open interval.
    pub fn finish(&mut self, sink: &mut impl Sink) {
        self.flows.finish_all();
        for record in self.flows.drain_finished() {
            sink.flow(record);
        }
        if let Some(m) = self.intervals.close(self.flows.stats(), None) {
            sink.interval(self.with_drops(m));
        }
    }

    fn with_drops(&mut self, mut m: IntervalMetrics) -> IntervalMetrics {
        let now = self.drops;
        let before = self.drops_at_close;
        m.drops = DropCounts {
            kernel: now.kernel.saturating_sub(before.kernel),
            interface: now.interface.saturating_sub(before.interface),
            queue: now.queue.saturating_sub(before.queue),
        };
        self.drops_at_close = now;
        m
    }

    /// Totals over the run so far.
    pub fn totals(&self) -> &RunTotals {
        self.intervals.totals()
    }

    /// Flow table counters.
    pub fn flow_stats(&self) -> FlowTableStats {
        self.flows.stats()
    }

    /// Interval length in nanoseconds.
    pub fn interval_ns(&self) -> u64 {
        self.intervals.interval_ns()
    }

    /// Closes every interval that ends at or before `ts`, expiring idle flows at each boundary.
    fn close_intervals_until(&mut self, ts: Timestamp, sink: &mut impl Sink) {
        while let Some(end) = self.intervals.current_end() {
            if ts < end {
                break;
            }
            self.flows.expire(end);
            for record in self.flows.drain_finished() {
                sink.flow(record);
            }
            if let Some(m) = self.intervals.close(self.flows.stats(), Some(ts)) {
                sink.interval(self.with_drops(m));
            }
            self.flows.next_epoch();
        }
    }
}

/// Whether a decoded frame's link type is one the engine does not decode.
pub fn is_unsupported_link(pkt: &Packet) -> bool {
    pkt.error == Some(DecodeErrorKind::UnsupportedLinkType)
}
