//! SYN flood: connection attempts a destination cannot or does not answer, at a high rate.
//!
//! # What it detects
//!
//! A TCP SYN flood against one host (`hping3 -S --flood`, botnets, `--rand-source` spoofed
//! floods from thousands of addresses) that fills its connection backlog, and — as a fallback —
//! a network-wide flood spread over many destinations that each stay below the per-host rate.
//!
//! # Signal
//!
//! From every packet: per destination, SYNs without ACK received, SYN-ACKs it sent back, the
//! distinct sources of the SYNs (exact up to 8, then a 256-byte HyperLogLog) and the heaviest
//! destination ports. Per closed interval: the SYN rate and the answered share (SYN-ACKs / SYNs).
//! Globally, `tcp_flags.syn` of the interval metrics. A single source hitting many ports is a
//! port scan and left to `port_scan`.
//!
//! # Thresholds
//!
//! A destination alerts at ≥ `min_syn_rate` SYNs/s (200) with an answered share ≤
//! `max_answered_share` (0.5). The whole network alerts at ≥ `global_syn_rate` SYNs/s (2,000)
//! with the same share, in intervals where no single destination did. Severity grows with the
//! rate over the threshold; confidence with the rate and with how little is answered. At most
//! `max_destinations` (10,000) destinations are counted per interval; SYNs to further ones are
//! counted as dropped ([`Detector::evictions`]).
//!
//! # False positives
//!
//! A popular server after an outage (clients reconnecting at once), a server that is down or
//! filtered (its SYNs go unanswered: a real problem, not an attack), capture setups that see
//! only one direction of the traffic (SYN-ACKs never appear: raise `max_answered_share` to 1.0
//! or monitor both directions).
//!
//! # Recommended action
//!
//! Enable SYN cookies on the target (`net.ipv4.tcp_syncookies = 1`), rate-limit SYNs to it at the
//! firewall, and when the sources are many (spoofed), ask the upstream provider to filter; block
//! the sources at the edge if few.

use super::{check, interval_secs};
use crate::present::{confidence_for, count, endpoint, pct, raise, rate, severity_for};
use crate::sketch::{Map, SourceCounter, TopK, new_map};
use crate::{AlertDraft, DetectError, Detector, kind};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::net::IpAddr;
use wirewatch_core::proto::tcp_flags::{ACK, SYN};
use wirewatch_core::{IntervalMetrics, Severity, Timestamp};
use wirewatch_decode::{Packet, Transport};

/// Destinations named by a network-wide alert.
const GLOBAL_TARGETS: usize = 5;
/// A "flood" from this few sources hitting many ports is a port scan, not a SYN flood.
const SCAN_MAX_SOURCES: u64 = 2;

/// SYN flood detector settings.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Run this detector.
    pub enabled: bool,
    /// SYNs/s to one destination from which it alerts. A busy web server accepts hundreds of
    /// connections a second, but answers them: the answered share tells them apart.
    pub min_syn_rate: f64,
    /// Highest SYN-ACK / SYN share that still counts as a flood (0–1).
    pub max_answered_share: f64,
    /// SYNs/s over the whole capture from which it alerts (network-wide floods).
    pub global_syn_rate: f64,
    /// Destinations counted per interval. 10,000 × about 200 bytes is 2 MB; a flood spraying
    /// more destinations is still caught by the global rule.
    pub max_destinations: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            min_syn_rate: 200.0,
            max_answered_share: 0.5,
            global_syn_rate: 2000.0,
            max_destinations: 10_000,
        }
    }
}

/// Counters of one destination in the open interval.
#[derive(Debug, Clone)]
struct Target {
    syns: u64,
    syn_acks: u64,
    sources: SourceCounter,
    ports: TopK<u16, 4>,
}

/// The SYN flood detector.
#[derive(Debug)]
pub struct SynFlood {
    cfg: Config,
    targets: Map<IpAddr, Target>,
    /// SYNs not counted because `targets` was full (this interval, and over the run).
    dropped_interval: u64,
    dropped_total: u64,
}

impl SynFlood {
    /// A detector with validated settings.
    pub fn new(cfg: &Config) -> Result<Self, DetectError> {
        check(
            "syn_flood",
            "min_syn_rate",
            cfg.min_syn_rate,
            cfg.min_syn_rate > 0.0,
            "must be > 0",
        )?;
        check(
            "syn_flood",
            "max_answered_share",
            cfg.max_answered_share,
            (0.0..=1.0).contains(&cfg.max_answered_share),
            "must be in [0, 1]",
        )?;
        check(
            "syn_flood",
            "global_syn_rate",
            cfg.global_syn_rate,
            cfg.global_syn_rate > 0.0,
            "must be > 0",
        )?;
        Ok(SynFlood {
            cfg: cfg.clone(),
            targets: new_map(),
            dropped_interval: 0,
            dropped_total: 0,
        })
    }

    /// Destinations tracked in the open interval.
    pub fn tracked_destinations(&self) -> usize {
        self.targets.len()
    }

    fn draft_for(&self, dst: IpAddr, t: &Target, secs: f64, ts: Timestamp) -> Option<AlertDraft> {
        let syn_rate = t.syns as f64 / secs;
        if syn_rate < self.cfg.min_syn_rate {
            return None;
        }
        let answered = t.syn_acks as f64 / t.syns as f64;
        if answered > self.cfg.max_answered_share {
            return None;
        }
        let sources = t.sources.estimate();
        let ports = t.ports.top();
        let (top_port, top_count) = ports.first().copied().unwrap_or((0, 0));
        if sources <= SCAN_MAX_SOURCES && (top_count as f64) < 0.5 * t.syns as f64 {
            return None; // one host, many ports: port_scan's
        }
        // Ports carrying at least a tenth of the SYNs.
        let main_ports: Vec<u16> = ports
            .iter()
            .filter(|(_, c)| *c as f64 >= 0.1 * t.syns as f64)
            .map(|(p, _)| *p)
            .collect();
        let over = syn_rate / self.cfg.min_syn_rate;
        let mut severity = severity_for(over);
        if answered < 0.1 && severity < Severity::Critical && over >= 2.0 {
            severity = raise(severity); // the target is visibly overwhelmed
        }
        let confidence = (confidence_for(over) + 0.1 * (1.0 - answered)).min(0.99);
        let approx = if t.sources.is_estimate() {
            "about "
        } else {
            ""
        };
        let port = (top_count as f64 >= 0.5 * t.syns as f64).then_some(top_port);
        let target = endpoint(dst, port);
        let message = format!(
            "{target} received {} SYNs/s from {approx}{} source{}, {} answered with SYN-ACK",
            rate(syn_rate),
            count(sources),
            if sources == 1 { "" } else { "s" },
            pct(answered),
        );
        let recommendation = if sources > 100 {
            format!(
                "rate-limit SYNs to {dst} or enable SYN cookies (net.ipv4.tcp_syncookies=1); the {} sources are likely spoofed: ask the upstream provider to filter if it persists",
                count(sources)
            )
        } else {
            let list: Vec<String> = t.sources.sample().iter().map(IpAddr::to_string).collect();
            format!(
                "rate-limit SYNs to {dst} or enable SYN cookies (net.ipv4.tcp_syncookies=1); block the sources ({}) at the edge if it persists",
                list.join(", ")
            )
        };
        Some(AlertDraft {
            kind: kind::SYN_FLOOD,
            severity,
            confidence,
            ts,
            sources: t.sources.sample().to_vec(),
            targets: vec![dst],
            ports: main_ports,
            message,
            recommendation,
            evidence: json!({
                "target": dst,
                "syns": t.syns,
                "syn_rate": syn_rate,
                "syn_acks": t.syn_acks,
                "answered_share": answered,
                "distinct_sources": sources,
                "sources_estimated": t.sources.is_estimate(),
                "source_sample": t.sources.sample(),
                "top_ports": ports.iter().map(|(p, c)| json!({"port": p, "syns": c})).collect::<Vec<_>>(),
                "min_syn_rate": self.cfg.min_syn_rate,
                "max_answered_share": self.cfg.max_answered_share,
                "destinations_dropped": self.dropped_interval,
            }),
            incident_key: format!("{}|{dst}", kind::SYN_FLOOD),
            magnitude: syn_rate,
        })
    }

    fn global_draft(&self, m: &IntervalMetrics, secs: f64) -> Option<AlertDraft> {
        let syns = m.tcp_flags.syn;
        let syn_rate = syns as f64 / secs;
        if syns == 0 || syn_rate < self.cfg.global_syn_rate {
            return None;
        }
        let answered = m.tcp_flags.syn_ack as f64 / syns as f64;
        if answered > self.cfg.max_answered_share {
            return None;
        }
        let over = syn_rate / self.cfg.global_syn_rate;
        let targets: Vec<IpAddr> = m
            .top_destinations_by_packets
            .iter()
            .take(GLOBAL_TARGETS)
            .map(|t| t.ip)
            .collect();
        Some(AlertDraft {
            kind: kind::SYN_FLOOD,
            severity: severity_for(over),
            confidence: confidence_for(over),
            ts: m.end_ts(),
            sources: m
                .top_sources_by_packets
                .iter()
                .take(GLOBAL_TARGETS)
                .map(|t| t.ip)
                .collect(),
            targets,
            ports: Vec::new(),
            message: format!(
                "{} SYNs/s across the network to {} destinations, {} answered with SYN-ACK; no single destination stands out",
                rate(syn_rate),
                count(m.distinct_dst_ips),
                pct(answered)
            ),
            recommendation: "enable SYN cookies on exposed servers and rate-limit inbound SYNs at the edge; look at the top destinations for the ones that suffer".into(),
            evidence: json!({
                "syns": syns,
                "syn_rate": syn_rate,
                "syn_acks": m.tcp_flags.syn_ack,
                "answered_share": answered,
                "distinct_destinations": m.distinct_dst_ips,
                "distinct_sources": m.distinct_src_ips,
                "global_syn_rate": self.cfg.global_syn_rate,
            }),
            incident_key: format!("{}|*", kind::SYN_FLOOD),
            magnitude: syn_rate,
        })
    }
}

impl Detector for SynFlood {
    fn name(&self) -> &'static str {
        "syn_flood"
    }

    fn wants_packets(&self) -> bool {
        true
    }

    #[inline]
    fn on_packet(&mut self, pkt: &Packet, _wire_len: u32, _ts: Timestamp) {
        let Transport::Tcp(t) = pkt.transport else {
            return;
        };
        if t.flags & SYN == 0 || !pkt.has_src || !pkt.has_dst {
            return;
        }
        if t.flags & ACK != 0 {
            // The destination's answers: only interesting for destinations receiving SYNs.
            if let Some(e) = self.targets.get_mut(&pkt.src) {
                e.syn_acks += 1;
            }
            return;
        }
        if let Some(e) = self.targets.get_mut(&pkt.dst) {
            e.syns += 1;
            e.sources.insert(pkt.src);
            e.ports.add(t.dst_port, 1);
        } else if self.targets.len() < self.cfg.max_destinations {
            let mut ports = TopK::new(t.dst_port);
            ports.add(t.dst_port, 1);
            self.targets.insert(
                pkt.dst,
                Target {
                    syns: 1,
                    syn_acks: 0,
                    sources: SourceCounter::new(pkt.src),
                    ports,
                },
            );
        } else {
            self.dropped_interval += 1;
            self.dropped_total += 1;
        }
    }

    fn on_interval(&mut self, m: &IntervalMetrics, out: &mut Vec<AlertDraft>) {
        let secs = interval_secs(m);
        let ts = m.end_ts();
        let before = out.len();
        let mut found: Vec<AlertDraft> = self
            .targets
            .iter()
            .filter_map(|(dst, t)| self.draft_for(*dst, t, secs, ts))
            .collect();
        super::worst_first(&mut found);
        out.extend(found);
        if out.len() == before
            && let Some(d) = self.global_draft(m, secs)
        {
            out.push(d);
        }
        self.targets.clear();
        self.dropped_interval = 0;
    }

    fn evictions(&self) -> u64 {
        self.dropped_total
    }

    fn tracked(&self) -> usize {
        self.targets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{at, interval, ip, tcp};
    use std::net::Ipv4Addr;

    fn flood(d: &mut SynFlood, syns: u32, answered_per_mille: u32, sources: u32) {
        for i in 0..syns {
            let src = IpAddr::V4(Ipv4Addr::from(0x6440_0000 + i % sources));
            let mut p = tcp("0.0.0.0", 1024 + (i % 60_000) as u16, "10.1.0.20", 80, SYN);
            p.src = src;
            d.on_packet(&p, 60, at(0.5));
            if i % 1000 < answered_per_mille {
                let mut a = tcp("10.1.0.20", 80, "0.0.0.0", 1024, SYN | ACK);
                a.dst = src;
                d.on_packet(&a, 60, at(0.5));
            }
        }
    }

    #[test]
    fn spoofed_flood_on_one_target() {
        let mut d = SynFlood::new(&Config::default()).unwrap();
        flood(&mut d, 4000, 50, 4000);
        let mut m = interval(0, 4200, 4200 * 60);
        m.tcp_flags.syn = 4000;
        m.tcp_flags.syn_ack = 200;
        let mut out = Vec::new();
        d.on_interval(&m, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        let a = &out[0];
        assert_eq!(a.kind, "syn_flood");
        assert_eq!(a.targets, vec![ip("10.1.0.20")]);
        assert_eq!(a.ports, vec![80]);
        assert_eq!(a.incident_key, "syn_flood|10.1.0.20");
        assert_eq!(a.magnitude, 4000.0);
        assert_eq!(a.severity, Severity::Critical);
        assert_eq!(a.sources.len(), 8, "a sample of the sources");
        let sources = a.evidence["distinct_sources"].as_u64().unwrap();
        assert!((3400..4600).contains(&sources), "{sources}");
        assert!(
            a.message
                .starts_with("10.1.0.20:80 received 4,000 SYNs/s from about "),
            "{}",
            a.message
        );
        assert!(
            a.message.ends_with("sources, 5% answered with SYN-ACK"),
            "{}",
            a.message
        );
        assert!(a.recommendation.contains("SYN cookies"));
        assert_eq!(d.tracked_destinations(), 0, "per-interval state is cleared");
    }

    #[test]
    fn single_source_flood_names_the_source() {
        let mut d = SynFlood::new(&Config::default()).unwrap();
        flood(&mut d, 500, 0, 1);
        let mut out = Vec::new();
        d.on_interval(&interval(0, 500, 30_000), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].sources, vec![ip("100.64.0.0")]);
        assert!(
            out[0].message.contains("from 1 source, 0% answered"),
            "{}",
            out[0].message
        );
        assert!(out[0].recommendation.contains("100.64.0.0"));
    }

    #[test]
    fn silent_below_the_rate_or_when_answered() {
        let mut d = SynFlood::new(&Config::default()).unwrap();
        flood(&mut d, 150, 0, 150);
        let mut out = Vec::new();
        d.on_interval(&interval(0, 150, 9000), &mut out);
        assert!(out.is_empty(), "150 SYNs/s < 200");
        // A busy server answering 95% of 1,000 connections a second.
        flood(&mut d, 1000, 950, 300);
        d.on_interval(&interval(1, 2000, 120_000), &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn a_fast_port_scan_is_left_to_port_scan() {
        let mut d = SynFlood::new(&Config::default()).unwrap();
        for port in 1..=1000u16 {
            d.on_packet(
                &tcp("203.0.113.66", 40_000, "10.1.0.10", port, SYN),
                60,
                at(0.1),
            );
        }
        let mut out = Vec::new();
        d.on_interval(&interval(0, 1000, 60_000), &mut out);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn network_wide_flood_uses_the_interval_counts() {
        let mut d = SynFlood::new(&Config::default()).unwrap();
        let mut m = interval(0, 6000, 360_000);
        m.tcp_flags.syn = 5000;
        m.tcp_flags.syn_ack = 100;
        m.distinct_dst_ips = 5000;
        let mut out = Vec::new();
        d.on_interval(&m, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].incident_key, "syn_flood|*");
        assert!(
            out[0]
                .message
                .starts_with("5,000 SYNs/s across the network to 5,000 destinations, 2% answered"),
            "{}",
            out[0].message
        );
        m.tcp_flags.syn = 1500;
        out.clear();
        d.on_interval(&m, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn destinations_are_capped_and_drops_counted() {
        let cfg = Config {
            max_destinations: 100,
            ..Config::default()
        };
        let mut d = SynFlood::new(&cfg).unwrap();
        for i in 0..1000u32 {
            let mut p = tcp("192.0.2.1", 40_000, "0.0.0.0", 80, SYN);
            p.dst = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i));
            d.on_packet(&p, 60, at(0.1));
        }
        assert_eq!(d.tracked_destinations(), 100);
        assert_eq!(d.evictions(), 900);
    }
}
