//! The engine: decode → flows → interval metrics, driven by packet time.
//!
//! One `Engine` owns all pipeline state and runs on one thread, so the hot path takes no locks.
//! It hands closed intervals and finished flows to a [`Sink`].

use serde::{Deserialize, Serialize};
use wirewatch_core::{FlowRecord, Frame, IntervalMetrics, Timestamp};
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
}

/// The engine state for one run.
pub struct Engine {
    flows: FlowTable,
    intervals: IntervalAggregator,
}

impl Engine {
    /// A new engine.
    pub fn new(config: &EngineConfig) -> Self {
        Engine {
            flows: FlowTable::new(&config.flows),
            intervals: IntervalAggregator::new(&config.metrics),
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

    /// Ends the run: flushes every live flow and closes the open interval.
    pub fn finish(&mut self, sink: &mut impl Sink) {
        self.flows.finish_all();
        for record in self.flows.drain_finished() {
            sink.flow(record);
        }
        if let Some(m) = self.intervals.close(self.flows.stats(), None) {
            sink.interval(m);
        }
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
                sink.interval(m);
            }
            self.flows.next_epoch();
        }
    }
}

/// Whether a decoded frame's link type is one the engine does not decode.
pub fn is_unsupported_link(pkt: &Packet) -> bool {
    pkt.error == Some(DecodeErrorKind::UnsupportedLinkType)
}
