//! Builds the dashboard's [`Snapshot`] on the engine thread, once per closed interval.
//!
//! Owns what the snapshot needs beyond the engine's own state: the recent interval points, the
//! alerts in their latest state, a ring of the last packets, the TCP panel's recent
//! connections and hosts ([`crate::tcp`]). Everything is bounded by the caps of
//! `wirewatch_web::snapshot` and of [`crate::tcp`]. Publishing replaces the previous snapshot (a `watch` channel),
//! so the engine never waits for the web layer.

use crate::tcp::TcpBoard;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use wirewatch_core::proto::tcp_flags;
use wirewatch_core::{
    Alert, AppSource, DropCounts, FlowRecord, Frame, IncidentStatus, IntervalMetrics, ProtoClass,
    Severity, Timestamp,
};
use wirewatch_decode::{Network, Packet, Transport};
use wirewatch_detect::threat_level::OpenIncident;
use wirewatch_engine::pipeline::{Engine, Sink};
use wirewatch_web::metrics::{AlertCount, Counters, DetectorTime, EvidenceCounters, TcpCounters};
use wirewatch_web::snapshot::{
    AlertStatus, AlertView, CaptureStatus, Connection, IntervalPoint, MAX_ALERTS, MAX_CONNECTIONS,
    MAX_PACKETS, MAX_RECENT_INTERVALS, MAX_TALKERS, PacketProto, PacketSummary, Snapshot,
    SnapshotPublisher, Stats, TalkerView, TcpPanel, Threat, ThreatLevel,
};

/// The capture status as the control side last set it; read when a snapshot is built.
pub type SharedStatus = Arc<Mutex<CaptureStatus>>;

/// The snapshot channel, shared by the engine thread (a snapshot per interval) and the control
/// side (the same snapshot with a new capture status); the lock keeps their publications in
/// order.
pub type SharedPublisher = Arc<Mutex<SnapshotPublisher>>;

/// A packet kept for the recent-packets table (converted to text only when a snapshot is made).
#[derive(Clone, Copy)]
struct RecentPacket {
    ts: Timestamp,
    wire_len: u32,
    pkt: Packet,
}

/// Accumulates what snapshots show and publishes one per interval.
pub struct SnapshotBuilder {
    publisher: SharedPublisher,
    status: SharedStatus,
    seq: u64,
    recent: VecDeque<IntervalPoint>,
    /// Alerts, most recently changed last.
    alerts: VecDeque<AlertView>,
    packets: VecDeque<RecentPacket>,
    opened_in_interval: u64,
    last: Option<IntervalMetrics>,
    pps_sum: f64,
    intervals: u64,
    /// Incidents opened, by kind and severity (for `/metrics`).
    opened: std::collections::BTreeMap<(String, &'static str), u64>,
    /// Incidents open now: id → kind, current severity, confidence. The threat level and the
    /// `wirewatch_alerts_open` gauge are both taken from it (bounded by the engine's cap on
    /// open incidents).
    open: std::collections::BTreeMap<u64, (String, Severity, f64)>,
    /// TCP health for `/metrics`: counters over the run, the latest interval's RTT percentiles.
    tcp: TcpCounters,
    /// The TCP panel's finished connections and hosts of the last minutes.
    tcp_board: TcpBoard,
    /// The history database, for its counters.
    store: Option<Arc<dyn wirewatch_store::Store>>,
    /// The notifier's counters, for `/metrics`.
    notify: Option<wirewatch_notify::NotifyStatsHandle>,
    /// When the last snapshot was published (wall clock: only pacing the browser's view).
    published_at: Option<std::time::Instant>,
    /// An interval closed whose snapshot was not published yet (too soon after the last).
    pending: bool,
}

/// Snapshots are published at most this often: a replay at full speed closes thousands of
/// intervals a second, and a browser shows at most a few of them; the skipped ones still
/// count (sequence numbers, chart points) and the latest state is published as soon as this
/// much time has passed, at the end of the source, or on the next batch or clock tick.
pub const MIN_PUBLISH_GAP: std::time::Duration = std::time::Duration::from_millis(50);

impl SnapshotBuilder {
    /// A builder publishing through `publisher`, reading the capture status from `status`.
    pub fn new(publisher: SharedPublisher, status: SharedStatus) -> Self {
        SnapshotBuilder {
            publisher,
            status,
            seq: 0,
            recent: VecDeque::new(),
            alerts: VecDeque::new(),
            packets: VecDeque::with_capacity(MAX_PACKETS),
            opened_in_interval: 0,
            last: None,
            pps_sum: 0.0,
            intervals: 0,
            opened: std::collections::BTreeMap::new(),
            open: std::collections::BTreeMap::new(),
            tcp: TcpCounters::default(),
            tcp_board: TcpBoard::default(),
            store: None,
            notify: None,
            published_at: None,
            pending: false,
        }
    }

    /// Reports the database's counters in `/metrics` too.
    pub fn with_store(mut self, store: Option<Arc<dyn wirewatch_store::Store>>) -> Self {
        self.store = store;
        self
    }

    /// Reports the alert notifier's counters in `/metrics` too.
    pub fn with_notify(mut self, notify: Option<wirewatch_notify::NotifyStatsHandle>) -> Self {
        self.notify = notify;
        self
    }

    /// The cumulative counters `/metrics` serves.
    fn counters(&self, engine: &Engine, status: &CaptureStatus) -> Counters {
        let totals = engine.totals();
        let flows = engine.flow_stats();
        let store = self.store.as_ref().map(|s| s.stats());
        let intel = engine
            .intel()
            .and_then(|i| i.service())
            .map(wirewatch_intel::IntelService::stats);
        Counters {
            interface: status
                .interface
                .clone()
                .unwrap_or_else(|| status.source.clone()),
            packets: totals.counters.protocols,
            bytes: totals.counters.bytes,
            drops: engine.drops(),
            flows_live: flows.live,
            flows_created: flows.created,
            flows_evicted: flows.evicted,
            alerts: self
                .opened
                .iter()
                .map(|((kind, severity), count)| AlertCount {
                    kind: kind.clone(),
                    severity: (*severity).to_string(),
                    count: *count,
                })
                .collect(),
            alerts_open: self.open_counts(),
            tcp: self.tcp.clone(),
            notify: self.notify.as_ref().map(|h| notify_counters(&h.stats())),
            store_queued: store.map_or(0, |s| s.queued),
            store_records_dropped: store.map_or(0, |s| s.records_dropped),
            store_write_errors: store.map_or(0, |s| s.write_errors),
            detector_seconds: engine
                .detector_seconds()
                .into_iter()
                .map(|(name, seconds)| DetectorTime {
                    detector: name.to_string(),
                    seconds,
                })
                .collect(),
            evidence: engine.evidence().map(|e| {
                let s = e.stats();
                EvidenceCounters {
                    ring_capacity_bytes: s.ring.capacity_bytes,
                    ring_bytes: s.ring.used_bytes,
                    ring_packets: s.ring.packets,
                    ring_evicted: s.ring.evicted,
                    captures_started: s.captures_started,
                    captures_skipped: s.captures_skipped,
                    evidence_packets: s.packets_written,
                    evidence_files_deleted: s.files_deleted,
                    capture_file_packets: s.rotating_packets,
                    capture_files_deleted: s.rotating_deleted,
                    write_errors: s.write_errors,
                    queue_drops: s.queue_drops,
                }
            }),
            intel_cache_hits: intel.as_ref().map_or(0, |s| s.cache_hits),
            intel_lookups: intel.as_ref().map_or(0, |s| s.looked_up),
            intel_quota_remaining: intel
                .as_ref()
                .and_then(|s| s.quota_remaining)
                .map(u64::from),
        }
    }

    /// Publishes the snapshot of the latest interval now, or marks it pending when the last
    /// one went out less than [`MIN_PUBLISH_GAP`] ago.
    fn publish_paced(&mut self, engine: &Engine) {
        self.seq += 1;
        if self.publish_due() {
            self.send(engine);
        } else {
            self.pending = true;
        }
    }

    /// Whether [`MIN_PUBLISH_GAP`] has passed since the last snapshot went out.
    fn publish_due(&self) -> bool {
        self.published_at
            .is_none_or(|t| t.elapsed() >= MIN_PUBLISH_GAP)
    }

    fn publish(&mut self, engine: &Engine) {
        self.seq += 1;
        self.send(engine);
    }

    fn send(&mut self, engine: &Engine) {
        self.pending = false;
        self.published_at = Some(std::time::Instant::now());
        // The capture status is read under the publisher's lock, which the control side also
        // holds while it changes the status: a snapshot can never carry an older status than
        // one already published.
        if let Ok(p) = self.publisher.lock() {
            p.publish(self.build(engine));
        }
    }

    fn status(&self) -> CaptureStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn build(&self, engine: &Engine) -> Snapshot {
        let totals = engine.totals();
        let c = &totals.counters;
        let duration_s = match (totals.first_ts, totals.last_ts) {
            (Some(a), Some(b)) => b.since(a) as f64 / 1e9,
            _ => 0.0,
        };
        let m = self.last.as_ref();
        let talkers = |list: Vec<wirewatch_core::Talker>| -> Vec<TalkerView> {
            list.iter()
                .map(|t| TalkerView {
                    threat: engine
                        .intel()
                        .and_then(|i| i.reputation(t.ip))
                        .map(|r| r.summary()),
                    ..TalkerView::new(t, engine.host_name(t.ip).map(str::to_string))
                })
                .collect()
        };
        let interval_s = engine.interval_ns() as f64 / 1e9;
        let status = self.status();
        Snapshot {
            counters: self.counters(engine, &status),
            seq: self.seq,
            ts: m.map_or(0.0, |m| m.end_ts().as_secs_f64()),
            interval_s,
            status,
            stats: Stats {
                bps: m.map_or(0.0, |m| m.bps),
                pps: m.map_or(0.0, |m| m.pps),
                pps_avg: if self.intervals > 0 {
                    self.pps_sum / self.intervals as f64
                } else {
                    0.0
                },
                packets_total: c.packets,
                bytes_total: c.bytes,
                duration_s,
                active_connections: engine.flow_stats().live,
                distinct_hosts: m.map_or(0, |m| m.distinct_src_ips.max(m.distinct_dst_ips)),
                drops: engine.drops(),
                drops_interval: m.map_or(DropCounts::default(), |m| m.drops),
                threat: self.threat(engine),
            },
            recent: self.recent.iter().cloned().collect(),
            protocols: c.protocols,
            apps: totals.apps.to_vec(),
            // Over the run (closed intervals), so the bars stay steady between intervals.
            top_sources: talkers(c.sources.top_by_bytes(MAX_TALKERS)),
            top_destinations: talkers(c.destinations.top_by_bytes(MAX_TALKERS)),
            connections: engine
                .top_live_flows(MAX_CONNECTIONS)
                .iter()
                .map(|f| Connection {
                    threat: engine.intel().and_then(|i| {
                        i.reputation(f.dst_ip)
                            .or_else(|| i.reputation(f.src_ip))
                            .map(|r| r.summary())
                    }),
                    ..connection(f, interval_s)
                })
                .collect(),
            packets: self.packets.iter().rev().map(packet_summary).collect(),
            alerts: self.alerts.iter().rev().cloned().collect(),
            tcp: match totals.last_ts.or(m.map(IntervalMetrics::end_ts)) {
                Some(now) => self.tcp_board.view(now, engine),
                None => TcpPanel::default(),
            },
        }
    }

    /// Threat level: the detection policy's, from the open incidents and the anomaly model.
    fn threat(&self, engine: &Engine) -> Threat {
        let open: Vec<OpenIncident> = self
            .open
            .values()
            .map(|(kind, severity, confidence)| OpenIncident {
                kind: kind.clone(),
                severity: *severity,
                confidence: *confidence,
            })
            .collect();
        let slot = engine.anomaly_slot();
        let t = wirewatch_detect::threat_level::assess(&open, slot.as_deref());
        Threat {
            level: ThreatLevel::from(t.level),
            confidence: t.confidence,
            reasons: t.reasons,
        }
    }

    /// Open incidents by kind and current severity (for `/metrics`).
    fn open_counts(&self) -> Vec<AlertCount> {
        let mut counts: std::collections::BTreeMap<(&str, &'static str), u64> =
            std::collections::BTreeMap::new();
        for (kind, severity, _) in self.open.values() {
            *counts.entry((kind.as_str(), severity.name())).or_insert(0) += 1;
        }
        counts
            .into_iter()
            .map(|((kind, severity), count)| AlertCount {
                kind: kind.to_string(),
                severity: severity.to_string(),
                count,
            })
            .collect()
    }
}

impl Sink for SnapshotBuilder {
    fn interval(&mut self, m: &IntervalMetrics) {
        self.recent.push_back(IntervalPoint::from_metrics(
            self.seq + 1,
            m,
            self.opened_in_interval,
        ));
        while self.recent.len() > MAX_RECENT_INTERVALS {
            self.recent.pop_front();
        }
        self.opened_in_interval = 0;
        self.pps_sum += m.pps;
        self.intervals += 1;
        self.tcp.retransmissions += m.tcp_retransmissions;
        self.tcp.out_of_order += m.tcp_out_of_order;
        self.tcp.handshakes_timed += m.tcp_handshakes_timed;
        if m.tcp_handshakes_timed > 0 {
            self.tcp.rtt_p50_ms = m.tcp_rtt_p50_ms;
            self.tcp.rtt_p95_ms = m.tcp_rtt_p95_ms;
        }
        self.tcp_board.advance(m.end_ts());
        self.last = Some(m.clone());
    }

    fn flow(&mut self, record: &FlowRecord) {
        self.tcp_board.flow(record);
    }

    fn alert(&mut self, alert: &Alert, status: IncidentStatus) {
        if status == IncidentStatus::Opened {
            self.opened_in_interval += 1;
            *self
                .opened
                .entry((alert.kind.clone(), alert.severity.name()))
                .or_insert(0) += 1;
        }
        if status == IncidentStatus::Ended {
            self.open.remove(&alert.id);
        } else {
            self.open.insert(
                alert.id,
                (alert.kind.clone(), alert.severity, alert.confidence),
            );
        }
        let status = match status {
            IncidentStatus::Opened => AlertStatus::Opened,
            IncidentStatus::Updated => AlertStatus::Updated,
            IncidentStatus::Ended => AlertStatus::Ended,
        };
        self.alerts.retain(|a| a.alert.id != alert.id);
        self.alerts.push_back(AlertView {
            alert: alert.clone(),
            status,
            seq: self.seq + 1,
        });
        while self.alerts.len() > MAX_ALERTS {
            self.alerts.pop_front();
        }
    }

    fn packet(&mut self, frame: &Frame<'_>, pkt: &Packet) {
        if self.packets.len() >= MAX_PACKETS {
            self.packets.pop_front();
        }
        self.packets.push_back(RecentPacket {
            ts: frame.ts,
            wire_len: frame.wire_len,
            pkt: *pkt,
        });
    }

    fn after_interval(&mut self, engine: &Engine) {
        self.refresh_evidence(engine);
        self.publish_paced(engine);
    }

    fn idle(&mut self, engine: &Engine) {
        if self.pending && self.publish_due() {
            self.send(engine);
        }
    }

    fn source_ended(&mut self, engine: &Engine) {
        // The totals already count the open interval: show them now, not at the next close.
        self.refresh_evidence(engine);
        self.publish(engine);
    }
}

impl SnapshotBuilder {
    /// Brings the evidence links of alerts whose capture was still collecting up to date (an
    /// alert gets no new event when its capture window closes).
    fn refresh_evidence(&mut self, engine: &Engine) {
        let Some(recorder) = engine.evidence() else {
            return;
        };
        let seq = self.seq + 1;
        for view in &mut self.alerts {
            let pcap = view.alert.evidence.get("pcap");
            if pcap.is_none_or(|p| p["complete"] == true) {
                continue;
            }
            if let Some(link) = recorder.link(view.alert.id)
                && let Ok(v) = serde_json::to_value(link)
                && let Some(e) = view.alert.evidence.as_object_mut()
            {
                e.insert("pcap".into(), v);
                // Changed: the next delta carries it.
                view.seq = seq;
            }
        }
    }
}

fn connection(f: &FlowRecord, interval_s: f64) -> Connection {
    let duration_s = f.last_ts.since(f.first_ts) as f64 / 1e9;
    let known = f.app.source != AppSource::None;
    Connection {
        proto: f.proto_name(),
        src_ip: f.src_ip,
        src_port: f.src_port,
        dst_ip: f.dst_ip,
        dst_port: f.dst_port,
        app: known.then_some(f.app.proto),
        app_source: known.then_some(f.app.source),
        server_name: f.server_name().map(str::to_string),
        packets: f.packets(),
        bytes: f.bytes(),
        rate_bps: f.bytes() as f64 * 8.0 / duration_s.max(interval_s).max(1e-9),
        duration_s,
        state: f.state,
        first_ts: f.first_ts.as_secs_f64(),
        last_ts: f.last_ts.as_secs_f64(),
        threat: None,
    }
}

fn packet_summary(r: &RecentPacket) -> PacketSummary {
    let p = &r.pkt;
    let proto = match p.class {
        ProtoClass::Tcp => PacketProto::Tcp,
        ProtoClass::Udp => PacketProto::Udp,
        ProtoClass::Icmp => PacketProto::Icmp,
        ProtoClass::Icmpv6 => PacketProto::Icmpv6,
        ProtoClass::NonIp if matches!(p.network, Network::Arp(_)) => PacketProto::Arp,
        ProtoClass::OtherIp | ProtoClass::NonIp => PacketProto::Other,
    };
    let addr = |has: bool, ip: std::net::IpAddr| if has { ip.to_string() } else { String::new() };
    let ports = p.ports();
    let info = match (p.transport, p.network) {
        (Transport::Icmp(i), _) => format!("type {} code {}", i.icmp_type, i.code),
        (_, Network::Other { ethertype }) => format!("ethertype 0x{ethertype:04x}"),
        _ if p.fragment.is_some() => "fragment".to_string(),
        _ => String::new(),
    };
    PacketSummary {
        ts: r.ts.as_secs_f64(),
        proto,
        src: addr(p.has_src, p.src),
        dst: addr(p.has_dst, p.dst),
        src_port: ports.map(|(s, _)| s),
        dst_port: ports.map(|(_, d)| d),
        len: u64::from(r.wire_len),
        flags: p.tcp_flags().map(tcp_flags::render),
        info,
    }
}

/// The notifier's counters as `/metrics` shows them.
fn notify_counters(s: &wirewatch_notify::NotifyStats) -> wirewatch_web::metrics::NotifyCounters {
    let pairs = |v: [(&str, u64); 3]| v.iter().map(|(k, n)| (k.to_string(), *n)).collect();
    wirewatch_web::metrics::NotifyCounters {
        sent: pairs([
            ("webhook", s.sent.webhook),
            ("syslog", s.sent.syslog),
            ("email", s.sent.email),
        ]),
        failed: s.failed,
        retried: s.retried,
        dropped: pairs([
            ("rate_limit", s.dropped_rate_limit),
            ("queue", s.dropped_queue),
            ("shutdown", s.dropped_shutdown),
        ]),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use wirewatch_capture::FileSource;
    use wirewatch_engine::pipeline::EngineConfig;
    use wirewatch_web::snapshot::snapshot_channel;

    /// Replays a fixture through an engine whose sink is a builder; returns the last snapshot
    /// before and after the engine finishes, and how many intervals closed.
    fn replay(name: &str) -> (Arc<Snapshot>, u64) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../wirewatch/tests/fixtures/scenarios")
            .join(name);
        let (publisher, rx) = snapshot_channel();
        let status: SharedStatus = Arc::default();
        let mut builder = SnapshotBuilder::new(Arc::new(Mutex::new(publisher)), status);
        let mut engine = Engine::new(&EngineConfig::default());
        let mut file = FileSource::open(&path).unwrap();
        while let Some(frame) = file.next_frame().unwrap() {
            let pkt = engine.process(&frame, &mut builder);
            builder.packet(&frame, &pkt);
        }
        builder.source_ended(&engine);
        let snap = rx.borrow().clone();
        (snap, builder.intervals)
    }

    #[test]
    fn a_flood_replay_shows_its_totals_tables_and_a_high_threat() {
        let (s, intervals) = replay("hping3_syn_flood.pcap");
        // One snapshot per closed interval plus one when the source ended.
        assert_eq!(s.seq, intervals + 1);
        assert_eq!(s.stats.packets_total, 2561);
        assert_eq!(
            s.recent.len() as u64,
            intervals.min(MAX_RECENT_INTERVALS as u64)
        );
        assert!(
            s.recent
                .windows(2)
                .all(|w| w[0].seq < w[1].seq && w[0].ts < w[1].ts)
        );
        assert!(
            s.recent.iter().any(|p| p.alerts > 0),
            "the alert is marked on the chart"
        );
        assert_eq!(s.connections.len(), MAX_CONNECTIONS);
        assert!(s.connections.windows(2).all(|w| w[0].bytes >= w[1].bytes));
        assert_eq!(s.packets.len(), MAX_PACKETS);
        assert!(
            s.packets.windows(2).all(|w| w[0].ts >= w[1].ts),
            "newest first"
        );
        let flood = s
            .alerts
            .iter()
            .find(|a| a.alert.kind == "syn_flood")
            .unwrap();
        assert_ne!(flood.status, AlertStatus::Ended);
        assert_eq!(s.stats.threat.level, ThreatLevel::High);
        assert!(s.stats.threat.reasons[0].starts_with("syn_flood"));
        assert!(s.top_destinations[0].ip.to_string() == "10.210.0.2");
    }

    #[test]
    fn clean_traffic_is_a_low_threat_with_named_talkers() {
        let (s, _) = replay("clean_background.pcap");
        assert_eq!(s.stats.threat.level, ThreatLevel::Low);
        assert!(s.alerts.is_empty());
        let victim = s
            .top_sources
            .iter()
            .find(|t| t.ip.to_string() == "10.210.0.2")
            .unwrap();
        assert!(victim.name.as_deref().unwrap().ends_with(".scenario.test"));
        let http = wirewatch_core::AppProto::Http;
        assert!(
            s.recent
                .iter()
                .any(|p| p.apps.iter().any(|a| a.app == http))
        );
        assert!(s.apps.iter().any(|a| a.app == http && a.packets > 0));
    }
}
