//! `GET /metrics`: the engine's counters in the Prometheus text exposition format (0.0.4),
//! so a Prometheus server can scrape Wirewatch and Grafana can graph it.
//!
//! Owns the names (`wirewatch_*`, base units, `_total` for counters) and the rendering; the
//! numbers come from the snapshot's [`Counters`], which the engine fills at each interval,
//! and from the web server's own connection and WebSocket caps ([`WebStats`]).

use crate::limits::WebStats;
use crate::state::WebState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use wirewatch_core::{DropCounts, ProtocolCounts};

/// Alerts counted by kind and severity (incidents opened).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct AlertCount {
    /// Alert kind.
    pub kind: String,
    /// Severity name.
    pub severity: String,
    /// Incidents opened.
    pub count: u64,
}

/// Time spent in one detector.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct DetectorTime {
    /// Detector name.
    pub detector: String,
    /// Seconds spent in its interval work over the run.
    pub seconds: f64,
}

/// Cumulative counters of the run, for `/metrics`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Counters {
    /// The interface (or source) being monitored, used as a label.
    pub interface: String,
    /// Frames by protocol class.
    pub packets: ProtocolCounts,
    /// Wire bytes of all frames.
    pub bytes: u64,
    /// Packets lost before the engine, by cause.
    pub drops: DropCounts,
    /// Live flows.
    pub flows_live: u64,
    /// Flows created.
    pub flows_created: u64,
    /// Flows evicted from the full table.
    pub flows_evicted: u64,
    /// Incidents opened, by kind and severity.
    pub alerts: Vec<AlertCount>,
    /// Incidents open now, by kind and current severity (what the threat level is taken from).
    #[serde(default)]
    pub alerts_open: Vec<AlertCount>,
    /// Records waiting in the store's queue.
    pub store_queued: u64,
    /// Records the store dropped.
    pub store_records_dropped: u64,
    /// Store write errors.
    pub store_write_errors: u64,
    /// Detector time.
    pub detector_seconds: Vec<DetectorTime>,
    /// AbuseIPDB answers served from the cache.
    pub intel_cache_hits: u64,
    /// AbuseIPDB look-ups made.
    pub intel_lookups: u64,
    /// AbuseIPDB quota left today, when known.
    pub intel_quota_remaining: Option<u64>,
    /// The packet ring and pcap writing, when packets are recorded.
    #[serde(default)]
    pub evidence: Option<EvidenceCounters>,
    /// TCP health over the run and in the latest interval that timed a handshake.
    #[serde(default)]
    pub tcp: TcpCounters,
    /// Alert notifications, when a channel is configured.
    #[serde(default)]
    pub notify: Option<NotifyCounters>,
}

/// Alert notifications as `/metrics` shows them.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct NotifyCounters {
    /// Deliveries that succeeded, per channel (`webhook`, `syslog`, `email`).
    pub sent: Vec<(String, u64)>,
    /// Deliveries given up after the last retry (each is also logged, rate-limited).
    pub failed: u64,
    /// Retry attempts.
    pub retried: u64,
    /// Alerts not sent, by reason (`rate_limit`, `queue`, `shutdown`).
    pub dropped: Vec<(String, u64)>,
}

/// TCP health as `/metrics` shows it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct TcpCounters {
    /// Segments retransmitted (every kind), over the run.
    pub retransmissions: u64,
    /// Segments out of order, over the run.
    pub out_of_order: u64,
    /// Handshakes whose round-trip time was measured, over the run.
    pub handshakes_timed: u64,
    /// Median handshake round-trip time of the latest interval that timed one, milliseconds.
    pub rtt_p50_ms: Option<f64>,
    /// 95th percentile of the same, milliseconds.
    pub rtt_p95_ms: Option<f64>,
}

/// The packet ring, evidence captures and capture files.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct EvidenceCounters {
    /// The ring's size.
    pub ring_capacity_bytes: u64,
    /// Bytes the ring holds.
    pub ring_bytes: u64,
    /// Packets the ring holds.
    pub ring_packets: u64,
    /// Packets overwritten in the ring.
    pub ring_evicted: u64,
    /// Evidence captures started (one per alert).
    pub captures_started: u64,
    /// Alerts without an evidence capture (too many open at once).
    pub captures_skipped: u64,
    /// Packets written to evidence captures.
    pub evidence_packets: u64,
    /// Evidence files deleted to stay under the total size.
    pub evidence_files_deleted: u64,
    /// Packets written to rotating capture files.
    pub capture_file_packets: u64,
    /// Rotating capture files deleted (count or size cap).
    pub capture_files_deleted: u64,
    /// pcap write errors.
    pub write_errors: u64,
    /// pcap writes dropped because the writer fell behind.
    pub queue_drops: u64,
}

/// Escapes a label value (backslash, double quote, newline).
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Renders `c` in the text exposition format.
pub fn render(c: &Counters) -> String {
    let mut o = String::new();
    let iface = label(&c.interface);
    let family = |o: &mut String, name: &str, kind: &str, help: &str| {
        let _ = writeln!(o, "# HELP {name} {help}");
        let _ = writeln!(o, "# TYPE {name} {kind}");
    };
    family(
        &mut o,
        "wirewatch_packets_total",
        "counter",
        "Frames seen, by protocol class of the outermost IP header.",
    );
    let p = &c.packets;
    for (proto, n) in [
        ("tcp", p.tcp),
        ("udp", p.udp),
        ("icmp", p.icmp),
        ("icmpv6", p.icmpv6),
        ("other_ip", p.other_ip),
        ("non_ip", p.non_ip),
    ] {
        let _ = writeln!(
            o,
            "wirewatch_packets_total{{interface=\"{iface}\",proto=\"{proto}\"}} {n}"
        );
    }
    family(
        &mut o,
        "wirewatch_bytes_total",
        "counter",
        "Wire bytes of all frames.",
    );
    let _ = writeln!(
        o,
        "wirewatch_bytes_total{{interface=\"{iface}\"}} {}",
        c.bytes
    );
    family(
        &mut o,
        "wirewatch_dropped_packets_total",
        "counter",
        "Packets lost before analysis, by cause (kernel buffer, interface, Wirewatch's queue).",
    );
    for (cause, n) in [
        ("kernel", c.drops.kernel),
        ("interface", c.drops.interface),
        ("queue", c.drops.queue),
    ] {
        let _ = writeln!(
            o,
            "wirewatch_dropped_packets_total{{interface=\"{iface}\",cause=\"{cause}\"}} {n}"
        );
    }
    family(
        &mut o,
        "wirewatch_flows",
        "gauge",
        "Flows live in the flow table.",
    );
    let _ = writeln!(o, "wirewatch_flows {}", c.flows_live);
    family(
        &mut o,
        "wirewatch_flows_created_total",
        "counter",
        "Flows created.",
    );
    let _ = writeln!(o, "wirewatch_flows_created_total {}", c.flows_created);
    family(
        &mut o,
        "wirewatch_flows_evicted_total",
        "counter",
        "Flows evicted because the flow table was full.",
    );
    let _ = writeln!(o, "wirewatch_flows_evicted_total {}", c.flows_evicted);
    family(
        &mut o,
        "wirewatch_alerts_total",
        "counter",
        "Incidents opened, by kind and severity.",
    );
    for a in &c.alerts {
        let _ = writeln!(
            o,
            "wirewatch_alerts_total{{kind=\"{}\",severity=\"{}\"}} {}",
            label(&a.kind),
            label(&a.severity),
            a.count
        );
    }
    family(
        &mut o,
        "wirewatch_alerts_open",
        "gauge",
        "Incidents open now, by kind and current severity (the dashboard's threat level is the worst).",
    );
    for a in &c.alerts_open {
        let _ = writeln!(
            o,
            "wirewatch_alerts_open{{kind=\"{}\",severity=\"{}\"}} {}",
            label(&a.kind),
            label(&a.severity),
            a.count
        );
    }
    family(
        &mut o,
        "wirewatch_store_queued_records",
        "gauge",
        "Records waiting to be written.",
    );
    let _ = writeln!(o, "wirewatch_store_queued_records {}", c.store_queued);
    family(
        &mut o,
        "wirewatch_store_dropped_records_total",
        "counter",
        "Records the database writer dropped (queue full or failed transaction).",
    );
    let _ = writeln!(
        o,
        "wirewatch_store_dropped_records_total {}",
        c.store_records_dropped
    );
    family(
        &mut o,
        "wirewatch_store_write_errors_total",
        "counter",
        "Database write errors.",
    );
    let _ = writeln!(
        o,
        "wirewatch_store_write_errors_total {}",
        c.store_write_errors
    );
    family(
        &mut o,
        "wirewatch_detector_seconds_total",
        "counter",
        "Time spent in each detector: interval work measured, packet and flow work estimated \
         from one call in 64.",
    );
    for d in &c.detector_seconds {
        let _ = writeln!(
            o,
            "wirewatch_detector_seconds_total{{detector=\"{}\"}} {}",
            label(&d.detector),
            d.seconds
        );
    }
    family(
        &mut o,
        "wirewatch_intel_lookups_total",
        "counter",
        "AbuseIPDB look-ups, by how they were answered.",
    );
    let _ = writeln!(
        o,
        "wirewatch_intel_lookups_total{{answer=\"api\"}} {}",
        c.intel_lookups
    );
    let _ = writeln!(
        o,
        "wirewatch_intel_lookups_total{{answer=\"cache\"}} {}",
        c.intel_cache_hits
    );
    if let Some(q) = c.intel_quota_remaining {
        family(
            &mut o,
            "wirewatch_intel_quota_remaining",
            "gauge",
            "AbuseIPDB look-ups left in the current quota window.",
        );
        let _ = writeln!(o, "wirewatch_intel_quota_remaining {q}");
    }
    if let Some(e) = &c.evidence {
        render_evidence(&mut o, e);
    }
    render_tcp(&mut o, &c.tcp);
    if let Some(n) = &c.notify {
        render_notify(&mut o, n);
    }
    render_process(&mut o);
    o
}

/// Alert notifications: sent per channel, failed, retried, dropped by reason.
fn render_notify(o: &mut String, n: &NotifyCounters) {
    let head = |o: &mut String, name: &str, help: &str| {
        let _ = writeln!(o, "# HELP {name} {help}");
        let _ = writeln!(o, "# TYPE {name} counter");
    };
    head(
        o,
        "wirewatch_notifications_sent_total",
        "Alert notifications delivered, by channel.",
    );
    for (channel, v) in &n.sent {
        let _ = writeln!(
            o,
            "wirewatch_notifications_sent_total{{channel=\"{}\"}} {v}",
            label(channel)
        );
    }
    head(
        o,
        "wirewatch_notifications_failed_total",
        "Alert notifications given up after their retries (each failure is logged).",
    );
    let _ = writeln!(o, "wirewatch_notifications_failed_total {}", n.failed);
    head(
        o,
        "wirewatch_notifications_retried_total",
        "Retry attempts of alert notifications.",
    );
    let _ = writeln!(o, "wirewatch_notifications_retried_total {}", n.retried);
    head(
        o,
        "wirewatch_notifications_dropped_total",
        "Alert notifications not sent, by reason.",
    );
    for (reason, v) in &n.dropped {
        let _ = writeln!(
            o,
            "wirewatch_notifications_dropped_total{{reason=\"{}\"}} {v}",
            label(reason)
        );
    }
}

/// The build, and the process as the standard `process_*` metrics describe it (Linux: read
/// from `/proc/self`; left out where unreadable).
fn render_process(o: &mut String) {
    let _ = writeln!(
        o,
        "# HELP wirewatch_build_info The running build.\n# TYPE wirewatch_build_info gauge\n\
         wirewatch_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    let gauge = |o: &mut String, name: &str, kind: &str, help: &str, v: f64| {
        let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
    };
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
    };
    if let Some(rss) = kib("VmRSS:") {
        gauge(
            o,
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
            rss * 1024.0,
        );
    }
    if let Some(vsz) = kib("VmSize:") {
        gauge(
            o,
            "process_virtual_memory_bytes",
            "gauge",
            "Virtual memory size in bytes.",
            vsz * 1024.0,
        );
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        gauge(
            o,
            "process_open_fds",
            "gauge",
            "Open file descriptors.",
            fds.count() as f64,
        );
    }
    // utime and stime (fields 14 and 15 of /proc/self/stat, after the parenthesised name)
    // in clock ticks, 100 a second on Linux.
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let tick = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    if let (Some(user), Some(system)) = (tick(11), tick(12)) {
        gauge(
            o,
            "process_cpu_seconds_total",
            "counter",
            "User and system CPU time spent, seconds.",
            (user + system) / 100.0,
        );
    }
}

/// TCP health: counters over the run, the handshake RTT of the latest interval as a gauge.
fn render_tcp(o: &mut String, t: &TcpCounters) {
    for (name, help, value) in [
        (
            "wirewatch_tcp_retransmissions_total",
            "TCP segments retransmitted (as tshark's retransmission, fast and spurious).",
            t.retransmissions,
        ),
        (
            "wirewatch_tcp_out_of_order_total",
            "TCP segments that arrived out of order.",
            t.out_of_order,
        ),
        (
            "wirewatch_tcp_handshakes_timed_total",
            "TCP handshakes whose round-trip time was measured at the capture point.",
            t.handshakes_timed,
        ),
    ] {
        let _ = writeln!(o, "# HELP {name} {help}");
        let _ = writeln!(o, "# TYPE {name} counter");
        let _ = writeln!(o, "{name} {value}");
    }
    let name = "wirewatch_tcp_handshake_rtt_seconds";
    let _ = writeln!(
        o,
        "# HELP {name} TCP handshake round-trip time at the capture point, in the latest \
         interval that measured one."
    );
    let _ = writeln!(o, "# TYPE {name} gauge");
    for (q, v) in [("0.5", t.rtt_p50_ms), ("0.95", t.rtt_p95_ms)] {
        if let Some(ms) = v {
            let _ = writeln!(o, "{name}{{quantile=\"{q}\"}} {}", ms / 1000.0);
        }
    }
}

/// The packet ring and pcap writing.
fn render_evidence(o: &mut String, e: &EvidenceCounters) {
    let metric = |o: &mut String, name: &str, kind: &str, help: &str, v: u64| {
        let _ = writeln!(o, "# HELP {name} {help}");
        let _ = writeln!(o, "# TYPE {name} {kind}");
        let _ = writeln!(o, "{name} {v}");
    };
    metric(
        o,
        "wirewatch_ring_capacity_bytes",
        "gauge",
        "Size of the in-memory ring of recent packets.",
        e.ring_capacity_bytes,
    );
    metric(
        o,
        "wirewatch_ring_bytes",
        "gauge",
        "Bytes the packet ring holds.",
        e.ring_bytes,
    );
    metric(
        o,
        "wirewatch_ring_packets",
        "gauge",
        "Packets the packet ring holds.",
        e.ring_packets,
    );
    metric(
        o,
        "wirewatch_ring_evicted_packets_total",
        "counter",
        "Packets overwritten in the ring to make room.",
        e.ring_evicted,
    );
    metric(
        o,
        "wirewatch_evidence_captures_total",
        "counter",
        "Evidence captures started (one per alert).",
        e.captures_started,
    );
    metric(
        o,
        "wirewatch_evidence_captures_skipped_total",
        "counter",
        "Alerts that got no evidence capture because too many were open.",
        e.captures_skipped,
    );
    metric(
        o,
        "wirewatch_evidence_packets_total",
        "counter",
        "Packets written to evidence captures.",
        e.evidence_packets,
    );
    metric(
        o,
        "wirewatch_evidence_files_deleted_total",
        "counter",
        "Evidence files deleted to stay under the total size.",
        e.evidence_files_deleted,
    );
    metric(
        o,
        "wirewatch_capture_file_packets_total",
        "counter",
        "Packets written to the rotating capture files.",
        e.capture_file_packets,
    );
    metric(
        o,
        "wirewatch_capture_files_deleted_total",
        "counter",
        "Rotating capture files deleted (file count or total size cap).",
        e.capture_files_deleted,
    );
    metric(
        o,
        "wirewatch_pcap_write_errors_total",
        "counter",
        "Errors writing pcap files.",
        e.write_errors,
    );
    metric(
        o,
        "wirewatch_pcap_queue_drops_total",
        "counter",
        "pcap writes dropped because the writer fell behind.",
        e.queue_drops,
    );
}

/// The web server's connections and WebSockets, and how often their caps were reached.
pub fn render_web(o: &mut String, w: &WebStats) {
    let metric = |o: &mut String, name: &str, kind: &str, help: &str, v: u64| {
        let _ = writeln!(o, "# HELP {name} {help}");
        let _ = writeln!(o, "# TYPE {name} {kind}");
        let _ = writeln!(o, "{name} {v}");
    };
    let n = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
    metric(
        o,
        "wirewatch_web_connections",
        "gauge",
        "TCP connections open to the web server (WebSockets included).",
        n(w.connections_open),
    );
    metric(
        o,
        "wirewatch_web_connections_max",
        "gauge",
        "Most TCP connections the web server keeps open at once.",
        n(w.max_connections),
    );
    metric(
        o,
        "wirewatch_web_connection_waits_total",
        "counter",
        "Times a new connection found every slot taken and waited in the listen backlog.",
        w.connection_waits,
    );
    metric(
        o,
        "wirewatch_web_websockets",
        "gauge",
        "WebSockets (live feeds) open.",
        n(w.websockets_open),
    );
    metric(
        o,
        "wirewatch_web_websockets_max",
        "gauge",
        "Most WebSockets the web server keeps open at once.",
        n(w.max_websockets),
    );
    metric(
        o,
        "wirewatch_web_websockets_refused_total",
        "counter",
        "WebSocket upgrades refused with 503 because the cap was reached.",
        w.websockets_refused,
    );
}

/// `GET /metrics`.
pub(crate) async fn handler(State(state): State<WebState>) -> Response {
    let snapshot = state.snapshot();
    let mut text = render(&snapshot.counters);
    render_web(&mut text, &state.caps.stats());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_has_its_family_and_labels_are_escaped() {
        let c = Counters {
            interface: "eth\"0".into(),
            bytes: 42,
            alerts: vec![AlertCount {
                kind: "port_scan".into(),
                severity: "high".into(),
                count: 2,
            }],
            alerts_open: vec![AlertCount {
                kind: "syn_flood".into(),
                severity: "critical".into(),
                count: 1,
            }],
            ..Counters::default()
        };
        let mut text = render(&c);
        render_web(
            &mut text,
            &WebStats {
                connections_open: 3,
                websockets_refused: 2,
                ..WebStats::default()
            },
        );
        assert!(text.contains("wirewatch_web_connections 3\n"));
        let with_tcp = render(&Counters {
            tcp: TcpCounters {
                retransmissions: 7,
                handshakes_timed: 2,
                rtt_p50_ms: Some(12.5),
                rtt_p95_ms: Some(40.0),
                ..TcpCounters::default()
            },
            ..Counters::default()
        });
        assert!(with_tcp.contains("wirewatch_tcp_retransmissions_total 7\n"));
        assert!(
            with_tcp.contains("wirewatch_tcp_handshake_rtt_seconds{quantile=\"0.5\"} 0.0125\n")
        );
        assert!(with_tcp.contains("wirewatch_tcp_handshake_rtt_seconds{quantile=\"0.95\"} 0.04\n"));
        text.push_str(&with_tcp);
        assert!(text.contains("wirewatch_web_websockets_refused_total 2\n"));
        assert!(text.contains("wirewatch_bytes_total{interface=\"eth\\\"0\"} 42"));
        assert!(text.contains("wirewatch_alerts_total{kind=\"port_scan\",severity=\"high\"} 2"));
        assert!(text.contains("wirewatch_alerts_open{kind=\"syn_flood\",severity=\"critical\"} 1"));
        let mut declared = std::collections::HashSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                declared.insert(rest.split(' ').next().unwrap_or_default().to_string());
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap_or_default();
                assert!(declared.contains(name), "{name} has no TYPE line");
            }
        }
    }
}
