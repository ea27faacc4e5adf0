//! Closes intervals of packet time and produces their metrics.

use crate::apps::AppCounters;
use crate::counters::PacketCounters;
use crate::totals::RunTotals;
use serde::{Deserialize, Serialize};
use wirewatch_core::time::NANOS_PER_SEC;
use wirewatch_core::{IntervalMetrics, Timestamp};
use wirewatch_decode::Packet;
use wirewatch_flow::{FlowTableStats, Ingested};

/// Interval metrics settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Interval length in milliseconds (1 s by default; longer windows are roll-ups).
    pub interval_ms: u64,
    /// How many top sources/destinations each interval reports.
    pub top_n: usize,
    /// Addresses counted exactly per interval before the heavy-hitter sketch takes over. 65,536
    /// entries cost about 3 MB and cover any normal network second; a spoofed flood beyond it
    /// is summarised, not stored.
    pub talker_cap: usize,
    /// A silent gap of up to this many intervals is reported as empty intervals; a longer gap
    /// (a capture spanning days, or concatenated traces) is skipped, so a file with a 10-year
    /// gap does not produce 300 million empty records.
    pub max_empty_intervals: u64,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            interval_ms: 1000,
            top_n: 10,
            talker_cap: 65_536,
            max_empty_intervals: 3600,
        }
    }
}

impl MetricsConfig {
    /// Interval length in nanoseconds (at least 1 ms).
    pub fn interval_ns(&self) -> u64 {
        self.interval_ms.max(1).saturating_mul(NANOS_PER_SEC / 1000)
    }
}

/// Flow counts of the open interval.
#[derive(Debug, Clone, Copy, Default)]
struct FlowCounts {
    new: u64,
    active: u64,
}

/// Accumulates packets into the open interval and closes intervals on packet time.
pub struct IntervalAggregator {
    interval_ns: u64,
    top_n: usize,
    max_empty: u64,
    start: Option<Timestamp>,
    counters: PacketCounters,
    flows: FlowCounts,
    /// Packets per application protocol in the open interval.
    apps: AppCounters,
    /// Flow-table counters when the previous interval closed, to report per-interval deltas.
    last_flow_stats: FlowTableStats,
    /// Totals over the whole run.
    totals: RunTotals,
}

impl IntervalAggregator {
    /// A new aggregator; the first packet opens the first interval.
    pub fn new(config: &MetricsConfig) -> Self {
        IntervalAggregator {
            interval_ns: config.interval_ns(),
            top_n: config.top_n,
            max_empty: config.max_empty_intervals,
            start: None,
            counters: PacketCounters::new(config.talker_cap),
            flows: FlowCounts::default(),
            apps: AppCounters::default(),
            last_flow_stats: FlowTableStats::default(),
            totals: RunTotals::default(),
        }
    }

    /// Totals over the whole run. Address tables include closed intervals only.
    pub fn totals(&self) -> &RunTotals {
        &self.totals
    }

    /// Interval length in nanoseconds.
    pub fn interval_ns(&self) -> u64 {
        self.interval_ns
    }

    /// End (exclusive) of the open interval, `None` before the first packet.
    pub fn current_end(&self) -> Option<Timestamp> {
        self.start.map(|s| s.plus(self.interval_ns))
    }

    /// Whether a packet at `ts` falls after the open interval (so it must close first).
    #[inline]
    pub fn must_close_before(&self, ts: Timestamp) -> bool {
        self.current_end().is_some_and(|end| ts >= end)
    }

    /// Opens the interval containing `ts` if none is open.
    #[inline]
    pub fn ensure_open(&mut self, ts: Timestamp) {
        if self.start.is_none() {
            self.start = Some(ts.floor_to(self.interval_ns));
        }
    }

    /// Counts one packet in the open interval (opening it if needed). Packets older than the
    /// open interval (timestamps going backwards) are counted in it too.
    #[inline]
    pub fn record_packet(
        &mut self,
        pkt: &Packet,
        wire_len: u32,
        captured_len: u32,
        ts: Timestamp,
        flow: Option<Ingested>,
    ) {
        self.ensure_open(ts);
        self.counters.record(pkt, wire_len, captured_len);
        self.totals.record(pkt, wire_len, captured_len, ts);
        if let Some(f) = flow {
            self.flows.new += u64::from(f.new_flow);
            self.flows.active += u64::from(f.first_in_epoch);
            self.apps.record(f.app, wire_len);
        }
    }

    /// Closes the open interval and returns its metrics; `flows` are the flow table's counters
    /// at the close. The next interval opens right after it, or — when `next_ts` lies more than
    /// `max_empty_intervals` ahead — at the interval containing `next_ts`.
    pub fn close(
        &mut self,
        flows: FlowTableStats,
        next_ts: Option<Timestamp>,
    ) -> Option<IntervalMetrics> {
        let start = self.start?;
        let c = &self.counters;
        let secs = self.interval_ns as f64 / NANOS_PER_SEC as f64;
        let approximate = c.sources.is_approximate() || c.destinations.is_approximate();
        let metrics = IntervalMetrics {
            start_ts: start,
            duration_ns: self.interval_ns,
            packets: c.packets,
            bytes: c.bytes,
            bps: c.bytes as f64 * 8.0 / secs,
            pps: c.packets as f64 / secs,
            protocols: c.protocols,
            tcp_flags: c.tcp_flags,
            distinct_src_ips: c.sources.distinct(),
            distinct_dst_ips: c.destinations.distinct(),
            flows_new: self.flows.new,
            flows_active: self.flows.active,
            flows_closed: flows.finished.saturating_sub(self.last_flow_stats.finished),
            flows_live: flows.live,
            flows_evicted: flows.evicted.saturating_sub(self.last_flow_stats.evicted),
            decode_errors: c.decode_error_total(),
            drops: Default::default(),
            top_sources_by_bytes: c.sources.top_by_bytes(self.top_n),
            top_sources_by_packets: c.sources.top_by_packets(self.top_n),
            top_destinations_by_bytes: c.destinations.top_by_bytes(self.top_n),
            top_destinations_by_packets: c.destinations.top_by_packets(self.top_n),
            talkers_approximate: approximate,
            apps: self.apps.to_vec(),
            host_names: Vec::new(),
            reputations: Vec::new(),
        };
        self.totals.apps.merge(&self.apps);
        self.apps.clear();
        self.totals.absorb_interval(&self.counters);
        self.counters.clear();
        self.flows = FlowCounts::default();
        self.last_flow_stats = flows;
        let next = start.plus(self.interval_ns);
        self.start = Some(match next_ts {
            Some(ts) if ts.since(next) / self.interval_ns > self.max_empty => {
                ts.floor_to(self.interval_ns)
            }
            _ => next,
        });
        Some(metrics)
    }
}
