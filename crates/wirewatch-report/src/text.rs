//! The human-readable analysis report.

use crate::AnalyzeReport;
use std::fmt::Write;
use wirewatch_core::proto::ALL_CLASSES;
use wirewatch_core::{FlowRecord, ProtocolCounts};

/// Flows listed in the text report.
const TOP_FLOWS: usize = 10;
/// Width of the interval sparkline.
const SPARK_WIDTH: usize = 64;

/// Renders the report as text for a terminal.
pub fn render(r: &AnalyzeReport) -> String {
    let mut o = String::new();
    let _ = render_into(r, &mut o);
    o
}

fn render_into(r: &AnalyzeReport, o: &mut String) -> std::fmt::Result {
    for f in &r.files {
        let fmt = f.format.as_deref().unwrap_or("unreadable");
        writeln!(
            o,
            "File      {} ({fmt}, {} packets)",
            f.path.display(),
            f.packets
        )?;
    }
    let avg_bps = if r.duration_s > 0.0 {
        r.bytes as f64 * 8.0 / r.duration_s
    } else {
        0.0
    };
    writeln!(
        o,
        "Packets   {}    Bytes {} ({} captured)    Duration {:.3} s    Average {}",
        r.packets,
        human_bytes(r.bytes),
        human_bytes(r.captured_bytes),
        r.duration_s,
        human_rate(avg_bps)
    )?;
    writeln!(o, "Protocols {}", protocol_mix(&r.protocols, r.packets))?;
    let t = &r.tcp_flags;
    writeln!(
        o,
        "TCP       SYN {}  SYN-ACK {}  RST {}  FIN {}",
        t.syn, t.syn_ack, t.rst, t.fin
    )?;
    writeln!(
        o,
        "Addresses {} sources, {} destinations{}    Flows {} ({} evicted)",
        r.distinct_src_ips,
        r.distinct_dst_ips,
        if r.talkers_approximate {
            " (estimated)"
        } else {
            ""
        },
        r.flow_table.created,
        r.flow_table.evicted
    )?;
    let frag = &r.flow_table.reassembly;
    if frag.fragments > 0 {
        writeln!(
            o,
            "Fragments {} ({} datagrams reassembled, {} dropped, {} datagrams abandoned, {} \
             overlap conflicts, {} tiny first fragments)",
            frag.fragments,
            frag.reassembled,
            frag.dropped.values().sum::<u64>(),
            frag.abandoned.values().sum::<u64>(),
            frag.overlap_conflicts,
            frag.tiny_first
        )?;
    }
    if !r.decode_errors.is_empty() {
        let list: Vec<String> = r
            .decode_errors
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        writeln!(o, "Decode    {}", list.join(", "))?;
    }
    alerts(o, &r.alerts)?;
    talkers(o, "Top sources", &r.top_sources)?;
    talkers(o, "Top destinations", &r.top_destinations)?;
    applications(o, &r.applications)?;
    tcp_hosts(o, &r.tcp_hosts)?;
    top_flows(o, &r.flows)?;
    intervals(o, r)?;
    Ok(())
}

fn alerts(o: &mut String, alerts: &[wirewatch_core::Alert]) -> std::fmt::Result {
    if alerts.is_empty() {
        writeln!(o, "Alerts    none")?;
        return Ok(());
    }
    writeln!(o, "\nAlerts ({})", alerts.len())?;
    for a in alerts {
        writeln!(
            o,
            "  [{}] {} (confidence {:.0}%, {:.1} s, {} updates): {}",
            a.severity.name(),
            a.kind,
            a.confidence * 100.0,
            a.last_ts.since(a.start_ts) as f64 / 1e9,
            a.updates,
            a.message
        )?;
        writeln!(o, "      action: {}", a.recommendation)?;
        if let Some(path) = wirewatch_evidence::evidence_path(a) {
            writeln!(o, "      evidence: {path}")?;
        }
    }
    Ok(())
}

fn protocol_mix(p: &ProtocolCounts, total: u64) -> String {
    let parts: Vec<String> = ALL_CLASSES
        .iter()
        .filter(|c| p.get(**c) > 0)
        .map(|c| {
            let n = p.get(*c);
            format!("{} {} ({:.1}%)", c.name(), n, percent(n, total))
        })
        .collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join("  ")
    }
}

fn talkers(o: &mut String, title: &str, list: &[super::report::TalkerJson]) -> std::fmt::Result {
    if list.is_empty() {
        return Ok(());
    }
    writeln!(o, "\n{title} (by bytes)")?;
    writeln!(
        o,
        "  {:<40} {:>12} {:>12}  name",
        "address", "packets", "bytes"
    )?;
    for t in list {
        writeln!(
            o,
            "  {:<40} {:>12} {:>12}  {}",
            t.ip.to_string(),
            t.packets,
            human_bytes(t.bytes),
            t.name.as_deref().map(|n| clip(n, 50)).unwrap_or_default()
        )?;
    }
    Ok(())
}

/// The hosts whose TCP connections lost the most (when any did), with their handshake RTT.
fn tcp_hosts(o: &mut String, hosts: &[crate::tcp_hosts::TcpHostJson]) -> std::fmt::Result {
    let troubled: Vec<_> = hosts
        .iter()
        .filter(|h| h.retransmissions + h.lost_segments > 0)
        .take(10)
        .collect();
    if troubled.is_empty() {
        return Ok(());
    }
    writeln!(o, "\nTCP loss by host (retransmitted and lost segments)")?;
    writeln!(
        o,
        "  {:<40} {:>6} {:>8} {:>6} {:>10}  name",
        "address", "conns", "retrans", "lost", "RTT"
    )?;
    for h in troubled {
        writeln!(
            o,
            "  {:<40} {:>6} {:>8} {:>6} {:>10}  {}",
            h.ip.to_string(),
            h.connections,
            h.retransmissions,
            h.lost_segments,
            h.rtt_mean_ms
                .map(|ms| format!("{ms:.1} ms"))
                .unwrap_or_else(|| "-".into()),
            h.name.as_deref().map(|n| clip(n, 50)).unwrap_or_default()
        )?;
    }
    Ok(())
}

/// Application protocols, server names, DNS names and response codes.
fn applications(o: &mut String, a: &super::report::ApplicationsJson) -> std::fmt::Result {
    if a.apps.is_empty() {
        return Ok(());
    }
    writeln!(
        o,
        "\nApplications (by bytes; guesses are flows named by port only)"
    )?;
    writeln!(
        o,
        "  {:<12} {:>8} {:>8} {:>12} {:>12}",
        "app", "flows", "guesses", "packets", "bytes"
    )?;
    for app in &a.apps {
        writeln!(
            o,
            "  {:<12} {:>8} {:>8} {:>12} {:>12}",
            app.app.name(),
            app.flows,
            app.flows.saturating_sub(app.flows_from_payload),
            app.packets,
            human_bytes(app.bytes)
        )?;
    }
    if !a.top_server_names.is_empty() {
        writeln!(o, "\nTop server names (by flows)")?;
        for s in &a.top_server_names {
            writeln!(
                o,
                "  {:<50} {:>8} flows {:>12}",
                clip(&s.name, 50),
                s.flows,
                human_bytes(s.bytes)
            )?;
        }
    }
    if !a.top_dns_queries.is_empty() {
        writeln!(o, "\nTop DNS queries")?;
        for q in &a.top_dns_queries {
            writeln!(o, "  {:<50} {:>8} flows", clip(&q.name, 50), q.flows)?;
        }
    }
    if !a.dns_rcodes.is_empty() {
        let list: Vec<String> = a
            .dns_rcodes
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        writeln!(o, "DNS responses {}", list.join(", "))?;
    }
    Ok(())
}

/// `s` cut to `max` characters, with `~` marking a cut (names are escaped ASCII).
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut c: String = s.chars().take(max.saturating_sub(1)).collect();
        c.push('~');
        c
    }
}

fn top_flows(o: &mut String, flows: &[FlowRecord]) -> std::fmt::Result {
    if flows.is_empty() {
        return Ok(());
    }
    let mut idx: Vec<usize> = (0..flows.len()).collect();
    let key = |i: &usize| {
        flows
            .get(*i)
            .map(|f| (f.bytes(), f.packets()))
            .unwrap_or_default()
    };
    idx.sort_by_key(|i| std::cmp::Reverse(key(i)));
    writeln!(o, "\nTop flows (by bytes)")?;
    writeln!(
        o,
        "  {:<6} {:<47} {:>9} {:>10} {:>9}  {:<11} {:<8} server",
        "proto", "initiator -> responder", "packets", "bytes", "seconds", "state", "app"
    )?;
    for f in idx.iter().take(TOP_FLOWS).filter_map(|i| flows.get(*i)) {
        let ends = format!(
            "{} -> {}",
            endpoint(f.src_ip, f.src_port),
            endpoint(f.dst_ip, f.dst_port)
        );
        let app = match f.app.source {
            wirewatch_core::AppSource::None => String::new(),
            wirewatch_core::AppSource::Port => format!("{}?", f.app.proto.name()),
            wirewatch_core::AppSource::Payload => f.app.proto.name().to_string(),
        };
        writeln!(
            o,
            "  {:<6} {:<47} {:>9} {:>10} {:>9.3}  {:<11} {:<8} {}",
            f.proto_name(),
            ends,
            f.packets(),
            human_bytes(f.bytes()),
            f.last_ts.since(f.first_ts) as f64 / 1e9,
            f.state.name(),
            app,
            f.server_name().map(|n| clip(n, 40)).unwrap_or_default()
        )?;
    }
    Ok(())
}

fn intervals(o: &mut String, r: &AnalyzeReport) -> std::fmt::Result {
    if r.intervals.len() < 2 {
        return Ok(());
    }
    let values: Vec<u64> = r.intervals.iter().map(|m| m.packets).collect();
    let peak = r
        .intervals
        .iter()
        .max_by(|a, b| a.pps.total_cmp(&b.pps))
        .map(|m| (m.pps, m.bps))
        .unwrap_or_default();
    writeln!(
        o,
        "\nPackets per interval ({} intervals of {} s; peak {:.0} pps, {})",
        r.intervals.len(),
        r.interval_s,
        peak.0,
        human_rate(peak.1)
    )?;
    writeln!(o, "  {}", sparkline(&values, SPARK_WIDTH))?;
    Ok(())
}

/// Draws values as a line of block characters, each column the maximum of its bucket.
pub fn sparkline(values: &[u64], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    if values.is_empty() || width == 0 {
        return String::new();
    }
    let per = values.len().div_ceil(width);
    let cols: Vec<u64> = values
        .chunks(per)
        .map(|c| c.iter().copied().max().unwrap_or(0))
        .collect();
    let max = cols.iter().copied().max().unwrap_or(0).max(1);
    cols.iter()
        .map(|v| {
            let level = (*v as f64 / max as f64 * 7.0).round() as usize;
            if *v == 0 { ' ' } else { BARS[level.min(7)] }
        })
        .collect()
}

fn endpoint(ip: std::net::IpAddr, port: u16) -> String {
    match ip {
        std::net::IpAddr::V4(a) => format!("{a}:{port}"),
        std::net::IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

fn percent(n: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        n as f64 * 100.0 / total as f64
    }
}

/// Bytes with a binary unit.
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Bits per second with a decimal unit.
pub fn human_rate(bps: f64) -> String {
    const UNITS: [&str; 5] = ["bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"];
    let mut v = bps;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_scales_and_buckets() {
        assert_eq!(sparkline(&[0, 1, 7], 10), " ▂█");
        assert_eq!(sparkline(&[1, 1, 1, 8], 2), "▂█");
        assert_eq!(sparkline(&[], 5), "");
    }

    #[test]
    fn human_units() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_rate(2_500_000.0), "2.5 Mbit/s");
    }
}
