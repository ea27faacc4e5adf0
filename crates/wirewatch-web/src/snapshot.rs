//! The live state the engine publishes once per closed interval, and the channel it travels on.
//!
//! Owns the [`Snapshot`] type and its parts exactly as `docs/web.md` lays them out (field names
//! are the JSON names). The engine thread builds a snapshot and hands it to
//! [`SnapshotPublisher::publish`], which never blocks; web handlers and WebSocket tasks read
//! the newest one from a `tokio::sync::watch` channel. Nothing here reads the clock.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::sync::Arc;
use tokio::sync::watch;
use wirewatch_core::{
    Alert, AppCount, AppProto, AppSource, DropCounts, IntervalMetrics, ProtocolCounts, Talker,
    TcpState,
};

/// Intervals kept in [`Snapshot::recent`]: five minutes of one-second intervals, the span of
/// the dashboard's live charts. A WebSocket client further behind than this gets a full
/// snapshot again, since the intervals it missed are no longer in the snapshot.
pub const MAX_RECENT_INTERVALS: usize = 300;
/// Live connections in [`Snapshot::connections`]: a table a person can scroll; the busiest
/// flows (most bytes) are the ones worth seeing live, the rest are in the history.
pub const MAX_CONNECTIONS: usize = 200;
/// Recent packets in [`Snapshot::packets`]: a glimpse of the wire, not a packet log.
pub const MAX_PACKETS: usize = 50;
/// Alerts in [`Snapshot::alerts`]: the most recently updated; older ones are in the history.
pub const MAX_ALERTS: usize = 100;
/// Talkers per direction in [`Snapshot::top_sources`] and [`Snapshot::top_destinations`].
pub const MAX_TALKERS: usize = 10;
/// Rows in each table of [`Snapshot::tcp`]: the few worst, which is what a small panel shows.
pub const MAX_TCP_ROWS: usize = 10;

/// Everything the dashboard shows live, as of the newest closed interval.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// Increases by one per closed interval (0 before the first).
    pub seq: u64,
    /// End of the newest interval, packet time in seconds since the epoch.
    pub ts: f64,
    /// Interval length in seconds.
    pub interval_s: f64,
    /// Capture status.
    pub status: CaptureStatus,
    /// Headline numbers.
    pub stats: Stats,
    /// The last ≤ [`MAX_RECENT_INTERVALS`] intervals, oldest first.
    pub recent: Vec<IntervalPoint>,
    /// Frames per protocol class over the run.
    pub protocols: ProtocolCounts,
    /// Packets and bytes per application protocol over the run, most bytes first.
    pub apps: Vec<AppCount>,
    /// Top sources of the newest interval by bytes (≤ [`MAX_TALKERS`]).
    pub top_sources: Vec<TalkerView>,
    /// Top destinations of the newest interval by bytes (≤ [`MAX_TALKERS`]).
    pub top_destinations: Vec<TalkerView>,
    /// Live flows, most bytes first (≤ [`MAX_CONNECTIONS`]).
    pub connections: Vec<Connection>,
    /// The most recent packets, newest first (≤ [`MAX_PACKETS`]).
    pub packets: Vec<PacketSummary>,
    /// The most recently updated alerts, newest update first (≤ [`MAX_ALERTS`]).
    pub alerts: Vec<AlertView>,
    /// TCP health of the connections seen lately: slowest, lossiest, hosts.
    #[serde(default)]
    pub tcp: TcpPanel,
    /// Cumulative counters for `/metrics`.
    #[serde(default)]
    pub counters: crate::metrics::Counters,
}

/// Capture status: what is being captured and how (also `GET /api/status` → `capture`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct CaptureStatus {
    /// Whether a source is running.
    pub running: bool,
    /// Human description of the source, e.g. `capturing on eth0 (filter: none)`.
    pub source: String,
    /// The live interface, when capturing live.
    pub interface: Option<String>,
    /// The capture filter in force (BPF syntax), if any.
    pub filter: Option<String>,
    /// The last capture error (escaped text), if the capture failed.
    pub last_error: Option<String>,
}

/// Headline numbers of the run and of the newest interval.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// Bits per second in the newest interval.
    pub bps: f64,
    /// Packets per second in the newest interval.
    pub pps: f64,
    /// Mean packets per second over the run's intervals.
    pub pps_avg: f64,
    /// Frames seen in the run.
    pub packets_total: u64,
    /// Wire bytes seen in the run.
    pub bytes_total: u64,
    /// Packet time covered by the run, seconds.
    pub duration_s: f64,
    /// Live flows in the flow table.
    pub active_connections: u64,
    /// Distinct addresses seen in the newest interval (src ∪ dst; upper bound src + dst).
    pub distinct_hosts: u64,
    /// Drops over the run.
    pub drops: DropCounts,
    /// Drops in the newest interval.
    pub drops_interval: DropCounts,
    /// The overall threat assessment.
    pub threat: Threat,
}

/// The overall threat assessment shown on the dashboard.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Threat {
    /// How worried to be.
    pub level: ThreatLevel,
    /// How sure the assessment is, 0–1.
    pub confidence: f64,
    /// Why, one short sentence each.
    pub reasons: Vec<String>,
}

/// Threat level (JSON: `low`, `medium`, `high`, `critical`): the worst severity open, level
/// for level (decided by `wirewatch_detect::threat_level`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum ThreatLevel {
    /// Nothing open, or only low-severity incidents.
    #[default]
    Low,
    /// Medium-severity incidents open.
    Medium,
    /// High-severity incidents open.
    High,
    /// Critical incidents open.
    Critical,
}

impl From<wirewatch_core::Severity> for ThreatLevel {
    fn from(s: wirewatch_core::Severity) -> Self {
        match s {
            wirewatch_core::Severity::Low => ThreatLevel::Low,
            wirewatch_core::Severity::Medium => ThreatLevel::Medium,
            wirewatch_core::Severity::High => ThreatLevel::High,
            wirewatch_core::Severity::Critical => ThreatLevel::Critical,
        }
    }
}

/// One interval on the live charts.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct IntervalPoint {
    /// The snapshot seq that closed this interval.
    pub seq: u64,
    /// Interval start, seconds since the epoch.
    pub ts: f64,
    /// Interval length, seconds.
    pub duration_s: f64,
    /// Frames.
    pub packets: u64,
    /// Wire bytes.
    pub bytes: u64,
    /// Bits per second.
    pub bps: f64,
    /// Packets per second.
    pub pps: f64,
    /// Frames per protocol class.
    pub protocols: ProtocolCounts,
    /// Packets and bytes per application protocol, largest first.
    pub apps: Vec<AppCount>,
    /// TCP SYN segments (without ACK).
    pub syn: u64,
    /// Drops during the interval.
    pub drops: DropCounts,
    /// Alerts opened in this interval (chart markers).
    pub alerts: u64,
    /// TCP segments retransmitted (every kind) in this interval.
    #[serde(default)]
    pub tcp_retransmissions: u64,
    /// TCP segments out of order in this interval.
    #[serde(default)]
    pub tcp_out_of_order: u64,
    /// TCP handshakes whose round-trip time was measured in this interval.
    #[serde(default)]
    pub tcp_handshakes_timed: u64,
    /// Median handshake RTT of those, milliseconds (`null` when none was measured).
    #[serde(default)]
    pub tcp_rtt_p50_ms: Option<f64>,
    /// 95th percentile handshake RTT of those, milliseconds (`null` when none was measured).
    #[serde(default)]
    pub tcp_rtt_p95_ms: Option<f64>,
    /// Retransmitted segments per TCP frame of the interval (`null` without TCP frames).
    #[serde(default)]
    pub tcp_retransmission_rate: Option<f64>,
}

impl IntervalPoint {
    /// The point for closed interval `m`, closed by snapshot `seq`, in which `alerts_opened`
    /// alerts were opened.
    pub fn from_metrics(seq: u64, m: &IntervalMetrics, alerts_opened: u64) -> IntervalPoint {
        IntervalPoint {
            seq,
            ts: m.start_ts.as_secs_f64(),
            duration_s: m.duration_ns as f64 / 1e9,
            packets: m.packets,
            bytes: m.bytes,
            bps: m.bps,
            pps: m.pps,
            protocols: m.protocols,
            apps: m.apps.clone(),
            syn: m.tcp_flags.syn,
            drops: m.drops,
            alerts: alerts_opened,
            tcp_retransmissions: m.tcp_retransmissions,
            tcp_out_of_order: m.tcp_out_of_order,
            tcp_handshakes_timed: m.tcp_handshakes_timed,
            tcp_rtt_p50_ms: m.tcp_rtt_p50_ms,
            tcp_rtt_p95_ms: m.tcp_rtt_p95_ms,
            tcp_retransmission_rate: (m.protocols.tcp > 0)
                .then(|| m.tcp_retransmissions as f64 / m.protocols.tcp as f64),
        }
    }
}

/// One top talker.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TalkerView {
    /// The address.
    pub ip: IpAddr,
    /// Host name learned from DNS answers (escaped text), if any.
    pub name: Option<String>,
    /// Packets sent (source) or received (destination).
    pub packets: u64,
    /// Wire bytes.
    pub bytes: u64,
    /// What threat intelligence says about it (e.g. `blocklist drop (1.2.3.0/24)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threat: Option<String>,
}

impl TalkerView {
    /// The view of `t`, named `name`.
    pub fn new(t: &Talker, name: Option<String>) -> TalkerView {
        TalkerView {
            ip: t.ip,
            name,
            packets: t.packets,
            bytes: t.bytes,
            threat: None,
        }
    }
}

/// One live flow, initiator first.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Connection {
    /// `tcp`, `udp`, `icmp`, `icmpv6` or the IP protocol number.
    pub proto: String,
    /// Initiator address.
    pub src_ip: IpAddr,
    /// Initiator port.
    pub src_port: u16,
    /// Responder address.
    pub dst_ip: IpAddr,
    /// Responder port.
    pub dst_port: u16,
    /// Application protocol, when known.
    pub app: Option<AppProto>,
    /// How it was found (`payload` or `port`), when known.
    pub app_source: Option<AppSource>,
    /// Server name (SNI, HTTP host, DNS name; escaped text), when known.
    pub server_name: Option<String>,
    /// Packets both ways.
    pub packets: u64,
    /// Wire bytes both ways.
    pub bytes: u64,
    /// `bytes * 8 / max(duration, interval)`.
    pub rate_bps: f64,
    /// Seconds from first to last packet.
    pub duration_s: f64,
    /// Connection state (`none` for non-TCP flows).
    pub state: TcpState,
    /// First packet, seconds since the epoch.
    pub first_ts: f64,
    /// Last packet, seconds since the epoch.
    pub last_ts: f64,
    /// What threat intelligence says about its worse endpoint, if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threat: Option<String>,
}

/// TCP health of the connections whose last packet falls in the last [`TcpPanel::window_s`]
/// seconds of packet time, live and finished alike.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct TcpPanel {
    /// The span of packet time the tables cover, seconds: a connection drops out this long
    /// after its last packet.
    pub window_s: f64,
    /// Connections with the longest handshake RTT, longest first (≤ [`MAX_TCP_ROWS`]).
    pub slowest: Vec<TcpConnection>,
    /// Connections with the most retransmitted plus lost segments, most first (none without
    /// either; ≤ [`MAX_TCP_ROWS`]).
    pub lossiest: Vec<TcpConnection>,
    /// Hosts with the most retransmissions (then lost segments, then connections), most first
    /// (≤ [`MAX_TCP_ROWS`]); each connection counts for both its endpoints.
    pub hosts: Vec<TcpHost>,
    /// Hosts dropped from the bounded per-host table (the weakest first) over the run.
    pub hosts_evicted: u64,
}

/// One TCP connection in [`TcpPanel`], initiator first.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TcpConnection {
    /// Always `tcp` (the 5-tuple's protocol, as in [`Connection::proto`]).
    pub proto: String,
    /// Initiator address.
    pub src_ip: IpAddr,
    /// Initiator port.
    pub src_port: u16,
    /// Responder address.
    pub dst_ip: IpAddr,
    /// Responder port.
    pub dst_port: u16,
    /// Server name (SNI, HTTP host, DNS name; escaped text), when known.
    pub server_name: Option<String>,
    /// Handshake round-trip time, milliseconds (`null` when no handshake was timed).
    pub rtt_ms: Option<f64>,
    /// Retransmitted segments (every kind).
    pub retransmissions: u64,
    /// Segments out of order.
    pub out_of_order: u64,
    /// Segments after a gap (not captured).
    pub lost_segments: u64,
    /// Segments announcing a zero window.
    pub zero_windows: u64,
    /// Packets both ways.
    pub packets: u64,
    /// Wire bytes both ways.
    pub bytes: u64,
    /// First packet, seconds since the epoch.
    pub first_ts: f64,
    /// Last packet, seconds since the epoch.
    pub last_ts: f64,
    /// Whether the connection is still in the flow table (its counts may still grow).
    pub live: bool,
}

/// One host in [`TcpPanel::hosts`]: the TCP health of its connections in the window.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TcpHost {
    /// The address.
    pub ip: IpAddr,
    /// Host name learned from DNS answers (escaped text), if any.
    pub name: Option<String>,
    /// TCP connections it took part in.
    pub connections: u64,
    /// Retransmitted segments of those connections.
    pub retransmissions: u64,
    /// Lost segments of those connections.
    pub lost_segments: u64,
    /// Out-of-order segments of those connections.
    pub out_of_order: u64,
    /// Connections whose handshake was timed.
    pub handshakes_timed: u64,
    /// Mean handshake RTT of those, milliseconds (`null` when none).
    pub rtt_mean_ms: Option<f64>,
}

/// What kind of packet a [`PacketSummary`] describes.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PacketProto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP.
    Icmp,
    /// ICMPv6.
    Icmpv6,
    /// ARP.
    Arp,
    /// Anything else.
    #[default]
    Other,
}

/// One recent packet.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PacketSummary {
    /// Capture time, seconds since the epoch.
    pub ts: f64,
    /// Protocol.
    pub proto: PacketProto,
    /// Source (address, or what identifies the sender of a non-IP frame).
    pub src: String,
    /// Destination.
    pub dst: String,
    /// Source port, when the protocol has ports.
    pub src_port: Option<u16>,
    /// Destination port, when the protocol has ports.
    pub dst_port: Option<u16>,
    /// Wire length in bytes.
    pub len: u64,
    /// TCP flags such as `SA`, for TCP.
    pub flags: Option<String>,
    /// A short description (escaped text; may be empty).
    pub info: String,
}

/// What happened to an alert in the snapshot that last changed it.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    /// New in that snapshot.
    Opened,
    /// Grew in that snapshot.
    Updated,
    /// Ended in that snapshot.
    Ended,
}

/// An alert as the dashboard shows it: the core alert plus its status and the seq of its
/// last change.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct AlertView {
    /// The alert (its fields appear at the top level of the JSON object).
    #[serde(flatten)]
    pub alert: Alert,
    /// Opened, updated or ended.
    pub status: AlertStatus,
    /// The snapshot seq of its last change.
    pub seq: u64,
}

/// The engine's end of the snapshot channel.
#[derive(Debug)]
pub struct SnapshotPublisher {
    tx: watch::Sender<Arc<Snapshot>>,
}

impl SnapshotPublisher {
    /// Replaces the current snapshot. Never blocks and needs no async runtime, so the engine
    /// thread calls it directly; readers that were slower than one interval skip to this one.
    pub fn publish(&self, snapshot: Snapshot) {
        self.tx.send_replace(Arc::new(snapshot));
    }

    /// A new reader of the channel (sees the current snapshot first).
    pub fn subscribe(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.tx.subscribe()
    }

    /// The current snapshot.
    pub fn current(&self) -> Arc<Snapshot> {
        self.tx.borrow().clone()
    }
}

/// The receiving end of the snapshot channel (one per reader: the server, each WebSocket).
pub type SnapshotReceiver = watch::Receiver<Arc<Snapshot>>;

/// A snapshot channel holding an empty snapshot (seq 0): the publisher for the engine and a
/// receiver for [`crate::WebState`].
pub fn snapshot_channel() -> (SnapshotPublisher, SnapshotReceiver) {
    let (tx, rx) = watch::channel(Arc::new(Snapshot::default()));
    (SnapshotPublisher { tx }, rx)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use wirewatch_core::{Severity, Timestamp};

    #[test]
    fn json_names_follow_the_contract() {
        let snap = Snapshot {
            seq: 3,
            ts: 1_700_000_003.0,
            interval_s: 1.0,
            stats: Stats {
                threat: Threat {
                    level: ThreatLevel::Medium,
                    confidence: 0.5,
                    reasons: vec!["one incident".into()],
                },
                ..Stats::default()
            },
            packets: vec![PacketSummary {
                ts: 1.5,
                proto: PacketProto::Icmpv6,
                src: "::1".into(),
                dst: "::2".into(),
                src_port: None,
                dst_port: None,
                len: 90,
                flags: None,
                info: String::new(),
            }],
            alerts: vec![AlertView {
                alert: Alert {
                    id: 7,
                    kind: "port_scan".into(),
                    severity: Severity::High,
                    confidence: 0.9,
                    start_ts: Timestamp(1),
                    last_ts: Timestamp(2),
                    updates: 1,
                    sources: vec![],
                    targets: vec![],
                    ports: vec![],
                    message: "m".into(),
                    recommendation: "r".into(),
                    evidence: serde_json::json!({}),
                },
                status: AlertStatus::Opened,
                seq: 3,
            }],
            ..Snapshot::default()
        };
        let v = serde_json::to_value(&snap).unwrap();
        assert_eq!(v["stats"]["threat"]["level"], "medium");
        assert_eq!(v["packets"][0]["proto"], "icmpv6");
        assert_eq!(v["alerts"][0]["id"], 7);
        assert_eq!(v["alerts"][0]["kind"], "port_scan");
        assert_eq!(v["alerts"][0]["status"], "opened");
        assert_eq!(v["alerts"][0]["seq"], 3);
        assert_eq!(v["status"]["filter"], serde_json::Value::Null);
        for key in [
            "seq",
            "ts",
            "interval_s",
            "status",
            "stats",
            "recent",
            "protocols",
            "apps",
            "top_sources",
            "top_destinations",
            "connections",
            "packets",
            "alerts",
            "tcp",
        ] {
            assert!(v.get(key).is_some(), "{key}");
        }
        let back: Snapshot = serde_json::from_value(v).unwrap();
        assert_eq!(back, snap);
    }

    #[test]
    fn publish_needs_no_runtime_and_readers_see_the_newest() {
        let (publisher, mut rx) = snapshot_channel();
        assert_eq!(rx.borrow_and_update().seq, 0);
        for seq in 1..=5 {
            publisher.publish(Snapshot {
                seq,
                ..Snapshot::default()
            });
        }
        assert!(rx.has_changed().unwrap());
        assert_eq!(rx.borrow_and_update().seq, 5);
        assert_eq!(publisher.current().seq, 5);
        assert_eq!(publisher.subscribe().borrow().seq, 5);
    }

    #[test]
    fn interval_points_come_from_metrics() {
        let mut m = IntervalMetrics {
            start_ts: Timestamp::from_secs_nanos(10, 500_000_000),
            duration_ns: 1_000_000_000,
            packets: 4,
            tcp_retransmissions: 1,
            tcp_rtt_p95_ms: Some(12.5),
            ..IntervalMetrics::default()
        };
        m.protocols.tcp = 4;
        let p = IntervalPoint::from_metrics(9, &m, 2);
        assert_eq!(
            (p.seq, p.ts, p.duration_s, p.packets, p.alerts),
            (9, 10.5, 1.0, 4, 2)
        );
        assert_eq!(p.tcp_retransmissions, 1);
        assert_eq!(p.tcp_rtt_p95_ms, Some(12.5));
        assert_eq!(p.tcp_retransmission_rate, Some(0.25));
        m.protocols.tcp = 0;
        let p = IntervalPoint::from_metrics(9, &m, 2);
        assert_eq!(p.tcp_retransmission_rate, None, "no TCP frames: no rate");
    }
}
