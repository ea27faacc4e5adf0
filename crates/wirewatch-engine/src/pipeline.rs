//! The engine: decode → flows → interval metrics, driven by packet time.
//!
//! One `Engine` owns all pipeline state and runs on one thread, so the hot path takes no locks.
//! It hands closed intervals and finished flows to a [`Sink`].

use crate::intel::EngineIntel;
use serde::{Deserialize, Serialize};
use wirewatch_core::IncidentStatus;
use wirewatch_core::{
    Alert, DropCounts, FlowRecord, Frame, HostName, IntervalMetrics, LinkType, Timestamp,
    Transaction, TunnelParent,
};
use wirewatch_decode::{DecodeErrorKind, Packet, decode, tunnel};
use wirewatch_detect::{DetectConfig, DetectionEngine};
use wirewatch_evidence::EvidenceRecorder;
use wirewatch_flow::{
    FlowConfig, FlowKey, FlowTable, FlowTableStats, Ingested, LiveTcp, ReassembledPacket,
};
use wirewatch_metrics::{IntervalAggregator, MetricsConfig, RunTotals};

/// Engine settings: each stage's own part.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// Flow table settings.
    pub flows: FlowConfig,
    /// Interval metrics settings.
    pub metrics: MetricsConfig,
    /// Detection settings (validated by `Config::validate` before an engine is built).
    pub detect: DetectConfig,
}

/// Where the engine delivers its results: every output (the database, EVE, the alert log,
/// notifications, the dashboard, the terminal, the report summary) implements it, and
/// the binary's `Outputs` hands each event to all of them in one loop. Results are lent,
/// not given: an output copies what it keeps.
pub trait Sink {
    /// An interval closed.
    fn interval(&mut self, _metrics: &IntervalMetrics) {}
    /// A flow finished (or was flushed at the end of the capture).
    fn flow(&mut self, _record: &FlowRecord) {}
    /// An alert was opened, updated or ended (then in its final state).
    fn alert(&mut self, _alert: &Alert, _status: IncidentStatus) {}
    /// A transaction completed (a DNS query and its answer, an HTTP request and its response,
    /// a TLS or QUIC handshake), or its flow ended with it half done.
    fn transaction(&mut self, _transaction: &Transaction) {}
    /// A source met a problem that did not stop it.
    fn warning(&mut self, _message: &str) {}
    /// A source stopped on an error.
    fn error(&mut self, _message: &str) {}
    /// A frame was processed, with its decoded summary. Only the live monitor calls this (for
    /// the dashboard's recent packets); keep it cheap.
    fn packet(&mut self, _frame: &Frame<'_>, _pkt: &Packet) {}
    /// An interval was delivered (after its alerts); `engine` is the state right after it, for
    /// snapshots of live flows and totals.
    fn after_interval(&mut self, _engine: &Engine) {}
    /// A live source ended (a replay reached its end, or a capture failed); `engine` holds
    /// everything so far, the open interval included in its totals.
    fn source_ended(&mut self, _engine: &Engine) {}
    /// The live monitor handled a batch of frames or a clock tick; `engine` is its state.
    /// For work deferred from `after_interval` (a dashboard snapshot skipped because the
    /// previous one was too recent). Keep it cheap.
    fn idle(&mut self, _engine: &Engine) {}
    /// Hand whatever waits for the next interval to storage now (a source ended, and no
    /// interval may close for a long time).
    fn persist(&mut self) {}
    /// The run is over: write out whatever is buffered.
    fn finish(&mut self) {}
    /// A problem of this output's own (a failed write), taken once, for the other outputs to
    /// show as a warning.
    fn take_problem(&mut self) -> Option<String> {
        None
    }
}

/// The engine state for one run.
pub struct Engine {
    flows: FlowTable,
    intervals: IntervalAggregator,
    detect: Option<DetectionEngine>,
    /// Whether the detectors want every packet (cached: it is asked once per packet).
    detect_packets: bool,
    /// Whether the detectors want DNS messages.
    detect_dns: bool,
    /// Whether the flow table decodes payloads (and so hands out the DNS messages it found).
    app_decoding: bool,
    /// Packets lost before the engine, cumulative over the run, as the sources report them.
    drops: DropCounts,
    /// `drops` when the previous interval closed.
    drops_at_close: DropCounts,
    /// Which capture timestamps may move packet time (see [`crate::packet_clock`]).
    clock: crate::packet_clock::PacketClock,
    /// Threat intelligence (blocklists, AbuseIPDB), when configured.
    intel: Option<EngineIntel>,
    /// The packet ring, evidence captures and capture files, when recorded.
    evidence: Option<EvidenceRecorder>,
    /// Whether tunnels are opened (inner packets tracked as flows of their own).
    open_tunnels: bool,
    /// Inner packets of tunnels opened so far.
    tunnelled_packets: u64,
}

/// Tunnels in a tunnel opened at most (a VXLAN frame carrying GRE carrying IP-in-IP is three).
pub const MAX_TUNNEL_DEPTH: usize = 3;

impl Engine {
    /// A new engine.
    pub fn new(config: &EngineConfig) -> Self {
        // A configuration that fails here was refused by `Config::validate` already; the
        // default one never fails.
        let detect = if config.detect.enabled {
            DetectionEngine::new(&config.detect).ok()
        } else {
            None
        };
        Engine {
            flows: FlowTable::new(&config.flows),
            intervals: IntervalAggregator::new(&config.metrics),
            detect_packets: detect.as_ref().is_some_and(DetectionEngine::wants_packets),
            detect_dns: detect.as_ref().is_some_and(DetectionEngine::wants_dns),
            detect,
            app_decoding: config.flows.app_decoding,
            drops: DropCounts::default(),
            drops_at_close: DropCounts::default(),
            clock: crate::packet_clock::PacketClock::default(),
            intel: None,
            evidence: None,
            open_tunnels: config.flows.open_tunnels,
            tunnelled_packets: 0,
        }
    }

    /// Records packets from now on: the ring, evidence captures, capture files.
    pub fn set_evidence(&mut self, recorder: EvidenceRecorder) {
        self.evidence = Some(recorder);
    }

    /// The packet recorder, when packets are recorded.
    pub fn evidence(&self) -> Option<&EvidenceRecorder> {
        self.evidence.as_ref()
    }

    /// Checks new flows against threat intelligence from now on.
    pub fn set_intel(&mut self, intel: EngineIntel) {
        self.intel = Some(intel);
    }

    /// The anomaly detector's model slot, when that detector runs.
    pub fn anomaly_slot(
        &self,
    ) -> Option<std::sync::Arc<wirewatch_detect::detectors::ml_anomaly::AnomalySlot>> {
        self.detect.as_ref()?.anomaly_slot()
    }

    /// The flow classifier detector's model slot, when that detector runs.
    pub fn flow_model_slot(
        &self,
    ) -> Option<std::sync::Arc<wirewatch_detect::detectors::ml_threat::FlowModelSlot>> {
        self.detect.as_ref()?.flow_model_slot()
    }

    /// The threat-intelligence state, when configured.
    pub fn intel(&self) -> Option<&EngineIntel> {
        self.intel.as_ref()
    }

    /// Processes one frame and returns its decoded summary.
    #[inline]
    pub fn process(&mut self, frame: &Frame<'_>, sink: &mut impl Sink) -> Packet {
        let ts = self.clock.admit(frame.ts);
        let admitted;
        let frame = if ts == frame.ts {
            frame
        } else {
            admitted = Frame { ts, ..*frame };
            &admitted
        };
        let pkt = decode(frame.linktype, frame.data);
        if self.intervals.must_close_before(ts) {
            self.close_intervals_until(ts, sink);
        }
        let captured = u32::try_from(frame.data.len()).unwrap_or(u32::MAX);
        // A fragment's own payload is a part of its datagram's: when fragments are reassembled,
        // the datagram is inspected whole once it is complete, the part never.
        let fragment = self.flows.reassembles() && pkt.fragment.is_some();
        // A fragment cut by the capture (a short snaplen) can never complete its datagram:
        // its own part is inspected as it is, as without reassembly.
        let held = fragment
            && pkt.fragment.is_some_and(|f| f.more || f.offset != 0)
            && u64::try_from(pkt.ip_bytes(frame.data).len()).unwrap_or(u64::MAX)
                >= u64::from(pkt.ip_len);
        // IPv6 atomic fragments too: the reassembler counts them (and holds nothing).
        let mut done = if fragment {
            self.flows.reassemble(pkt.ip_bytes(frame.data), ts)
        } else {
            None
        };
        // A datagram whose first fragment showed no transport header (a tiny first fragment)
        // is counted whole on the frame that completes it: that frame is the datagram's packet
        // in its 5-tuple flow, with its TCP flags (a fragmented SYN is a SYN), as tshark counts
        // the reassembling frame. Otherwise the frame counts as the fragment it is and the
        // datagram is inspected in the flow its first fragment joined.
        let whole = match &mut done {
            Some(d) if d.packet.ports().is_some() && self.flows.keyless_fragment(&pkt, ts) => {
                d.packet.vlans = pkt.vlans;
                d.packet.vlan_count = pkt.vlan_count;
                Some(&*d)
            }
            _ => None,
        };
        let (counted, payload) = match whole {
            Some(d) => (&d.packet, d.payload()),
            None if held => (&pkt, &[][..]),
            None => (&pkt, pkt.payload(frame.data)),
        };
        let flow = self
            .flows
            .ingest_with_payload(counted, payload, frame.wire_len, ts);
        // The frame counts once, by its outer headers (as tshark counts it).
        self.intervals
            .record_packet(counted, frame.wire_len, captured, ts, flow);
        self.inspect_in_flow(counted, payload, frame.wire_len, ts, flow);
        if whole.is_none()
            && let Some(done) = &done
        {
            self.flows.inspect_reassembled(done, &pkt, ts);
            self.on_reassembled(done, ts);
        }
        if self.open_tunnels {
            // A tunnel packet fragmented on its way (a common MTU casualty) is opened once,
            // whole, on the frame completing it; a fragment held for reassembly is not.
            if let Some(d) = &done {
                let datagram = Frame {
                    linktype: LinkType::RAW,
                    data: &d.datagram.bytes,
                    ..*frame
                };
                self.open_tunnels(&d.packet, &datagram, ts);
            } else if !held {
                self.open_tunnels(&pkt, frame, ts);
            }
        }
        self.deliver_flows(sink);
        if let Some(ev) = &mut self.evidence {
            ev.packet(frame, &pkt);
        }
        pkt
    }

    /// What a packet in its flow means beyond the counters: threat intelligence for a new flow,
    /// the detectors that want packets, DNS messages for the DNS detectors.
    fn inspect_in_flow(
        &mut self,
        pkt: &Packet,
        payload: &[u8],
        wire_len: u32,
        ts: Timestamp,
        flow: Option<Ingested>,
    ) {
        if let Some(intel) = &mut self.intel
            && flow.is_some_and(|f| f.new_flow)
        {
            intel.on_new_flow(pkt, ts);
            pass_hits(intel, self.detect.as_mut());
        }
        if self.detect_packets
            && let Some(d) = &mut self.detect
        {
            d.on_packet_in_flow(pkt, wire_len, ts, flow.as_ref());
        }
        self.dns_to_detectors(pkt, payload, wire_len, ts);
    }

    /// Hands the DNS message of a packet (or of a reassembled datagram) to the detectors that
    /// want DNS: the one the flow table decoded, or the payload itself when the flow table does
    /// not decode payloads.
    fn dns_to_detectors(&mut self, pkt: &Packet, payload: &[u8], wire_len: u32, ts: Timestamp) {
        if self.detect_dns
            && !payload.is_empty()
            && let Some(d) = &mut self.detect
        {
            if !self.app_decoding {
                d.on_payload(pkt, payload, wire_len, ts);
            } else if let Some(msg) = self.flows.take_dns()
                && pkt.ports().is_some_and(|(s, d)| s == 53 || d == 53)
            {
                d.on_dns_message(pkt, &msg, wire_len, ts);
            }
        }
    }

    /// A datagram reassembled from fragments (each already counted as a packet): the flow
    /// table inspected its payload; its DNS message goes to the detectors as an unfragmented
    /// packet's would, with the datagram's length.
    fn on_reassembled(&mut self, done: &ReassembledPacket, ts: Timestamp) {
        let len = u32::try_from(done.datagram.bytes.len()).unwrap_or(u32::MAX);
        self.dns_to_detectors(&done.packet, done.payload(), len, ts);
    }

    /// Opens the tunnels a frame carries (IP-in-IP, GRE, ERSPAN, VXLAN, Geneve, Teredo,
    /// GTP-U), at most [`MAX_TUNNEL_DEPTH`] deep: each inner packet is a packet of its own flow
    /// (with the frame's length, as tshark's conversations count it) and goes to the detectors,
    /// while the interval counters keep counting the frame once, by its outer headers.
    fn open_tunnels(&mut self, outer: &Packet, frame: &Frame<'_>, ts: Timestamp) {
        let mut pkt = *outer;
        let mut data = frame.data;
        // The frame's TCP flags are its first TCP header's (tshark's `tcp.flags`): an inner
        // one's when the outer headers have none.
        let mut flags_counted = outer.tcp_flags().is_some();
        for _ in 0..MAX_TUNNEL_DEPTH {
            let Some(found) = tunnel::inner(&pkt, data) else {
                return;
            };
            let Some(bytes) = data.get(found.offset..) else {
                return;
            };
            self.tunnelled_packets += 1;
            let inner = tunnel::decode_inner(&found, data);
            let payload = inner.payload(bytes);
            let flow = self
                .flows
                .ingest_with_payload(&inner, payload, frame.wire_len, ts);
            if flow.is_some_and(|f| f.new_flow) {
                let outer = pkt;
                self.flows.set_tunnel_parent(&inner, || TunnelParent {
                    kind: found.kind.name().to_string(),
                    ip_proto: outer.ip_proto,
                    src_ip: outer.src,
                    src_port: outer.ports().map_or(0, |p| p.0),
                    dst_ip: outer.dst,
                    dst_port: outer.ports().map_or(0, |p| p.1),
                });
            }
            self.inspect_in_flow(&inner, payload, frame.wire_len, ts, flow);
            if !flags_counted
                && let Some(flags) = inner.tcp_flags()
                && inner.error != Some(DecodeErrorKind::BadTcpHeader)
            {
                self.intervals.record_tunnelled_tcp_flags(flags, ts);
                flags_counted = true;
            }
            pkt = inner;
            data = bytes;
        }
    }

    /// Inner packets of tunnels opened so far.
    pub fn tunnelled_packets(&self) -> u64 {
        self.tunnelled_packets
    }

    /// Hands transactions, then finished flows (to the detectors too), to the sink: a flow's
    /// last transactions arrive before its record.
    fn deliver_flows(&mut self, sink: &mut impl Sink) {
        for t in self.flows.drain_transactions() {
            sink.transaction(&t);
        }
        for mut record in self.flows.drain_finished() {
            if let Some(intel) = &self.intel {
                intel.annotate(&mut record);
            }
            if let Some(d) = &mut self.detect {
                d.on_flow(&record);
            }
            sink.flow(&record);
        }
    }

    /// Runs detection on a closed interval, then delivers its alerts and the interval.
    fn deliver_interval(&mut self, m: IntervalMetrics, sink: &mut impl Sink) {
        let mut m = self.with_drops(m);
        self.name_talkers(&mut m);
        if let Some(intel) = &mut self.intel {
            intel.on_interval();
            pass_hits(intel, self.detect.as_mut());
            tag_talkers(intel, &mut m);
        }
        if let Some(d) = &mut self.detect {
            for mut u in d.on_interval_events(&m) {
                name_alert_hosts(&mut u.alert, &self.flows);
                if let Some(ev) = &mut self.evidence {
                    ev.alert(&mut u.alert, u.status);
                }
                sink.alert(&u.alert, u.status);
            }
        }
        if let Some(ev) = &mut self.evidence {
            ev.interval_closed(m.end_ts());
            for w in ev.take_warnings() {
                sink.warning(&w);
            }
        }
        sink.interval(&m);
        sink.after_interval(self);
    }

    /// Detection counters, when detection runs.
    pub fn detect_stats(&self) -> Option<wirewatch_detect::DetectStats> {
        self.detect.as_ref().map(DetectionEngine::stats)
    }

    /// Seconds spent in each detector so far (monitoring only; empty without detection).
    pub fn detector_seconds(&self) -> Vec<(&'static str, f64)> {
        self.detect
            .as_ref()
            .map(DetectionEngine::detector_seconds)
            .unwrap_or_default()
    }

    /// Continues alert ids after `last` (ids stored in a database stay unique across runs).
    pub fn continue_alert_ids(&mut self, last: u64) {
        if let Some(d) = &mut self.detect {
            d.set_next_id(last.saturating_add(1));
        }
    }

    /// Moves packet time forward to `ts` without a packet (a live source that is quiet):
    /// closes every interval that ends at or before `ts`, opening one if none is open yet.
    pub fn advance_to(&mut self, ts: Timestamp, sink: &mut impl Sink) {
        if self.intervals.must_close_before(ts) {
            self.close_intervals_until(ts, sink);
        }
        self.intervals.ensure_open(ts);
    }

    /// A source ended: what is recorded so far reaches the files (captures stay open: packet
    /// time may go on with another source).
    pub fn source_ended(&mut self) {
        if let Some(ev) = &mut self.evidence {
            ev.flush();
        }
    }

    /// Ends every live flow (reason `end_of_capture` unless it had closed) and hands the
    /// records to the sink: after a source ended, so that its flows are in the history at
    /// once, not when the run exits (`run --read ... --stay`).
    pub fn end_flows(&mut self, sink: &mut impl Sink) {
        self.flows.finish_all();
        self.deliver_flows(sink);
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
        self.deliver_flows(sink);
        if let Some(m) = self.intervals.close(self.flows.stats(), None) {
            self.deliver_interval(m, sink);
        }
        // Every evidence capture is final before the alerts' last events link it.
        if let Some(ev) = &mut self.evidence {
            ev.finish();
            for w in ev.take_warnings() {
                sink.warning(&w);
            }
        }
        if let Some(d) = &mut self.detect {
            for mut alert in d.finish() {
                name_alert_hosts(&mut alert, &self.flows);
                if let Some(ev) = &mut self.evidence {
                    ev.alert(&mut alert, IncidentStatus::Ended);
                }
                sink.alert(&alert, IncidentStatus::Ended);
            }
        }
    }

    /// Attaches the names learned from DNS answers to the interval's top talkers.
    fn name_talkers(&self, m: &mut IntervalMetrics) {
        m.host_names = m
            .talker_ips()
            .into_iter()
            .filter_map(|ip| {
                self.flows.host_name(ip).map(|name| HostName {
                    ip,
                    name: name.to_string(),
                })
            })
            .collect();
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

    /// The host name learned for `ip` from DNS answers seen on the wire.
    pub fn host_name(&self, ip: std::net::IpAddr) -> Option<&str> {
        self.flows.host_name(ip)
    }

    /// The `n` live flows with the most bytes so far, most first.
    pub fn top_live_flows(&self, n: usize) -> Vec<FlowRecord> {
        self.flows.top_live(n)
    }

    /// The live TCP connections active at or after `since`, most recently active first,
    /// without their records (see [`FlowTable::live_tcp`]).
    pub fn live_tcp(&self, since: Timestamp) -> impl Iterator<Item = LiveTcp> + '_ {
        self.flows.live_tcp(since)
    }

    /// The record of one live flow (from [`Engine::live_tcp`]), if it is still live.
    pub fn live_record(&self, key: &FlowKey) -> Option<FlowRecord> {
        self.flows.live_record(key)
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
            self.deliver_flows(sink);
            if let Some(m) = self.intervals.close(self.flows.stats(), Some(ts)) {
                self.deliver_interval(m, sink);
            }
            self.flows.next_epoch();
            // Time that cannot advance any further (the end of 64-bit nanoseconds) ends the
            // loop instead of closing the same interval forever.
            if self.intervals.current_end().is_none_or(|next| next <= end) {
                break;
            }
        }
    }

    /// Packets whose timestamp was too far ahead of their neighbours to believe; they were
    /// processed at the packet time before them.
    pub fn timestamps_far_ahead(&self) -> u64 {
        self.clock.far_ahead()
    }
}

/// Hands threat-intel hits to the detectors (dropped when detection is off).
fn pass_hits(intel: &mut EngineIntel, detect: Option<&mut DetectionEngine>) {
    match detect {
        Some(d) => {
            for hit in intel.take_hits() {
                d.on_threat(&hit);
            }
        }
        None => {
            intel.take_hits();
        }
    }
}

/// Attaches the reputation of the interval's top talkers that have one.
fn tag_talkers(intel: &EngineIntel, m: &mut IntervalMetrics) {
    m.reputations = m
        .talker_ips()
        .into_iter()
        .filter_map(|ip| intel.reputation(ip))
        .collect();
}

/// Adds `host_names` (address → name learned from DNS answers) to an alert's evidence for
/// the sources and targets that have one.
fn name_alert_hosts(alert: &mut Alert, flows: &FlowTable) {
    let mut names = serde_json::Map::new();
    for ip in alert.sources.iter().chain(alert.targets.iter()) {
        if let Some(name) = flows.host_name(*ip) {
            names.insert(ip.to_string(), serde_json::Value::String(name.to_string()));
        }
    }
    if !names.is_empty()
        && let Some(evidence) = alert.evidence.as_object_mut()
    {
        evidence.insert("host_names".into(), serde_json::Value::Object(names));
    }
}

/// Whether a decoded frame's link type is one the engine does not decode.
pub fn is_unsupported_link(pkt: &Packet) -> bool {
    pkt.error == Some(DecodeErrorKind::UnsupportedLinkType)
}
