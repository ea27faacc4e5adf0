//! SYN flood: connection attempts to one destination that never complete, at a high rate.
//!
//! # What it detects
//!
//! A TCP SYN flood against one host (`hping3 -S --flood`, botnets, `--rand-source` spoofed
//! floods from thousands of addresses, one source with varying source ports), whether the
//! target is down, filtered, or — Linux's default — answers every SYN with a SYN cookie; and,
//! as a fallback, a flood spread over many destinations that each stay below the per-host rate.
//!
//! # Signal
//!
//! Handshakes that never complete. From every packet: per destination, the SYNs without ACK it
//! received (their first and last time), the SYN-ACKs it sent back, the handshakes the flow
//! table saw complete (the initiator's ACK after the SYN-ACK), the distinct sources (exact up to
//! 8, then a 256-byte HyperLogLog) and the heaviest destination ports. A target with SYN
//! cookies answers every SYN, so answers say nothing; a flooder never sends the final ACK, so
//! the completed share does. Without a flow table (unit tests, packet-only callers) the
//! answered share stands in. The rate is taken over the SYNs' own span in the interval (at least
//! 0.1 s), so a 0.15-s burst is judged at its real rate. A single source hitting many ports is a
//! port scan and left to `port_scan`.
//!
//! # Thresholds
//!
//! A destination alerts at ≥ `min_syn_rate` SYNs/s (200, with at least 0.5 s worth of SYNs)
//! of which at most `max_answered_share` (0.5) completed the handshake. The whole network
//! alerts at ≥ `global_syn_rate` SYNs/s (2,000) with the same share, from at least
//! `global_min_sources` (50) sources, in intervals where no destination did and no scan explains
//! the SYNs (the engine drops it then). Severity follows [`crate::policy`] (volumetric: rate and
//! how little the target still serves); confidence grows with the rate and the incomplete
//! share. At most `max_destinations` (10,000) destinations are counted per interval; SYNs to
//! further ones are counted as dropped ([`Detector::evictions`]).
//!
//! # False positives
//!
//! A popular server after an outage (clients reconnecting at once), a server that is down or
//! filtered (its SYNs go unanswered: a real problem, not an attack), capture setups that see
//! only one direction of the traffic (the final ACKs never appear: raise `max_answered_share`
//! to 1.0 or monitor both directions).
//!
//! # Recommended action
//!
//! Enable SYN cookies on the target (`net.ipv4.tcp_syncookies = 1`), rate-limit SYNs to it at the
//! firewall, and when the sources are many (spoofed), ask the upstream provider to filter; block
//! the sources at the edge if few.

use super::{burst_rate, check, interval_secs};
use crate::policy::{self, Family, Impact};
use crate::present::{count, endpoint, pct, rate};
use crate::sketch::{Map, SourceCounter, TopK, named_sources, new_map};
use crate::{AlertDraft, DetectError, Detector, Ingested, kind};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::net::IpAddr;
use wirewatch_core::proto::tcp_flags::{ACK, RST, SYN};
use wirewatch_core::{IntervalMetrics, Timestamp};
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
    /// connections a second, but they complete: the completed share tells them apart.
    pub min_syn_rate: f64,
    /// Highest share of SYNs whose handshake completed (or, without a flow table, that were
    /// answered with a SYN-ACK) that still counts as a flood (0–1).
    pub max_answered_share: f64,
    /// SYNs/s over the whole capture from which it alerts (network-wide floods).
    pub global_syn_rate: f64,
    /// Distinct SYN sources a network-wide flood needs: fewer sources hitting many hosts are
    /// scanners (and `port_scan` names them).
    pub global_min_sources: u64,
    /// Destinations counted per interval. 10,000 × about 250 bytes is 2.5 MB; a flood spraying
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
            global_min_sources: 50,
            max_destinations: 10_000,
        }
    }
}

/// Counters of one destination in the open interval.
#[derive(Debug, Clone)]
struct Target {
    syns: u64,
    syn_acks: u64,
    /// Handshakes to it the flow table saw complete.
    completed: u64,
    /// Whether any of its packets came with flow-table information (then `completed` is the
    /// signal, else `syn_acks`).
    flow_known: bool,
    first: Timestamp,
    last: Timestamp,
    sources: SourceCounter,
    /// The heaviest SYN senders (the ones an alert may name).
    top_sources: TopK<IpAddr, 4>,
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

    /// Completed (or, without flow information, answered) share of `t`'s SYNs.
    fn completed_share(t: &Target) -> f64 {
        let done = if t.flow_known {
            t.completed
        } else {
            t.syn_acks
        };
        (done as f64 / t.syns.max(1) as f64).min(1.0)
    }

    fn draft_for(&self, dst: IpAddr, t: &Target, secs: f64, ts: Timestamp) -> Option<AlertDraft> {
        let syn_rate = burst_rate(t.syns, t.first, t.last, secs, self.cfg.min_syn_rate)?;
        if syn_rate < self.cfg.min_syn_rate {
            return None;
        }
        let completed = Self::completed_share(t);
        if completed > self.cfg.max_answered_share {
            return None;
        }
        let answered = (t.syn_acks as f64 / t.syns.max(1) as f64).min(1.0);
        // A sketch can overshoot: never more sources than SYNs.
        let sources = t.sources.estimate().min(t.syns);
        let ports = t.ports.top();
        let (top_port, top_count) = ports.first().copied().unwrap_or((0, 0));
        // One host sending most of the SYNs, spread over many ports: a port scan
        // (port_scan's), however many clients also connect meanwhile.
        let top_sender = t.top_sources.first().map_or(0, |(_, n)| n);
        if (sources <= SCAN_MAX_SOURCES || top_sender as f64 >= 0.5 * t.syns as f64)
            && (top_count as f64) < 0.5 * t.syns as f64
        {
            return None;
        }
        // Ports carrying at least a tenth of the SYNs.
        let main_ports: Vec<u16> = ports
            .iter()
            .filter(|(_, c)| *c as f64 >= 0.1 * t.syns as f64)
            .map(|(p, _)| *p)
            .collect();
        let over = syn_rate / self.cfg.min_syn_rate;
        let severity = policy::severity(&Impact {
            pps: syn_rate,
            served: Some(completed),
            ..Impact::new(Family::Volumetric, over)
        });
        let confidence = policy::confidence(over, 1.0 - completed);
        let approx = if t.sources.is_estimate() {
            "about "
        } else {
            ""
        };
        let port = (top_count as f64 >= 0.5 * t.syns as f64).then_some(top_port);
        let target = endpoint(dst, port);
        let how = if t.flow_known {
            format!(
                "{} completed the handshake ({} answered with SYN-ACK)",
                pct(completed),
                pct(answered)
            )
        } else {
            format!("{} answered with SYN-ACK", pct(answered))
        };
        let message = format!(
            "{target} received {} SYNs/s from {approx}{} source{}, {how}",
            rate(syn_rate),
            count(sources),
            if sources == 1 { "" } else { "s" },
        );
        let named = named_sources(&t.top_sources.top(), t.syns);
        let recommendation = if named.is_empty() {
            format!(
                "rate-limit SYNs to {dst} or enable SYN cookies (net.ipv4.tcp_syncookies=1); the {} sources are likely spoofed: ask the upstream provider to filter if it persists",
                count(sources)
            )
        } else {
            let list: Vec<String> = named.iter().map(IpAddr::to_string).collect();
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
            sources: named.clone(),
            targets: vec![dst],
            ports: main_ports,
            message,
            recommendation,
            evidence: json!({
                "target": dst,
                "syns": t.syns,
                "syn_rate": syn_rate,
                "burst_secs": t.last.since(t.first) as f64 / 1e9,
                "syn_acks": t.syn_acks,
                "answered_share": answered,
                "completed_handshakes": t.flow_known.then_some(t.completed),
                "completed_share": completed,
                "distinct_sources": sources,
                "sources_estimated": t.sources.is_estimate(),
                "named_sources": named,
                "top_ports": ports.iter().map(|(p, c)| json!({"port": p, "syns": c})).collect::<Vec<_>>(),
                "min_syn_rate": self.cfg.min_syn_rate,
                "max_answered_share": self.cfg.max_answered_share,
                "destinations_dropped": self.dropped_interval,
            }),
            incident_key: format!("{}|{dst}", kind::SYN_FLOOD),
            magnitude: syn_rate,
        })
    }

    /// A flood spread over many destinations: only the SYN counts of the destinations are
    /// used, never the interval's top talkers (which may be bystanders).
    fn global_draft(&self, m: &IntervalMetrics, secs: f64) -> Option<AlertDraft> {
        let syns: u64 = self.targets.values().map(|t| t.syns).sum::<u64>() + self.dropped_interval;
        let syn_rate = syns as f64 / secs;
        if syns == 0 || syn_rate < self.cfg.global_syn_rate {
            return None;
        }
        // The distinct heaviest senders of the destinations, counted up to the minimum: a
        // scanner sweeping hosts is every destination's top sender; a spoofed or botnet flood
        // has many (the per-SYN cost of a global distinct count is not needed for that).
        let mut senders: std::collections::HashSet<IpAddr> = std::collections::HashSet::new();
        for t in self.targets.values() {
            if let Some((ip, _)) = t.top_sources.first() {
                senders.insert(ip);
                if senders.len() as u64 >= self.cfg.global_min_sources {
                    break;
                }
            }
        }
        let sources = senders.len() as u64;
        if sources < self.cfg.global_min_sources {
            return None;
        }
        let done: u64 = self
            .targets
            .values()
            .map(|t| {
                if t.flow_known {
                    t.completed
                } else {
                    t.syn_acks
                }
            })
            .sum();
        let completed = (done as f64 / syns as f64).min(1.0);
        if completed > self.cfg.max_answered_share {
            return None;
        }
        let over = syn_rate / self.cfg.global_syn_rate;
        let mut by_syns: Vec<(&IpAddr, &Target)> = self.targets.iter().collect();
        by_syns.sort_by(|a, b| b.1.syns.cmp(&a.1.syns).then(a.0.cmp(b.0)));
        let targets: Vec<IpAddr> = by_syns
            .iter()
            .take(GLOBAL_TARGETS)
            .map(|(ip, _)| **ip)
            .collect();
        Some(AlertDraft {
            kind: kind::SYN_FLOOD,
            severity: policy::severity(&Impact {
                pps: syn_rate,
                targets: self.targets.len() as u64,
                ..Impact::new(Family::Volumetric, over)
            }),
            confidence: policy::confidence(over, 1.0 - completed),
            ts: m.end_ts(),
            sources: Vec::new(),
            targets,
            ports: Vec::new(),
            message: format!(
                "{} SYNs/s across the network to {} destinations from {}+ sources, {} completed the handshake; no single destination stands out",
                rate(syn_rate),
                count(self.targets.len() as u64),
                count(sources),
                pct(completed)
            ),
            recommendation: "enable SYN cookies on exposed servers and rate-limit inbound SYNs at the edge; look at the top destinations for the ones that suffer".into(),
            evidence: json!({
                "syns": syns,
                "syn_rate": syn_rate,
                "completed_share": completed,
                "distinct_destinations": self.targets.len(),
                "distinct_top_senders_at_least": sources,
                "global_syn_rate": self.cfg.global_syn_rate,
                "global_min_sources": self.cfg.global_min_sources,
            }),
            incident_key: format!("{}|*", kind::SYN_FLOOD),
            magnitude: syn_rate,
        })
    }

    /// Counts one packet; `flow` is the flow table's view of it, when there is one.
    #[inline]
    fn count(&mut self, pkt: &Packet, ts: Timestamp, flow: Option<&Ingested>) {
        let Transport::Tcp(t) = pkt.transport else {
            return;
        };
        if !pkt.has_src || !pkt.has_dst {
            return;
        }
        if t.flags & SYN == 0 {
            // The initiator's final ACK: the handshake to `dst` completed.
            if t.flags & (ACK | RST) == ACK
                && flow.is_some_and(|f| f.handshake_completed)
                && let Some(e) = self.targets.get_mut(&pkt.dst)
            {
                e.completed += 1;
            }
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
            e.top_sources.add(pkt.src, 1);
            e.ports.add(t.dst_port, 1);
            e.flow_known |= flow.is_some();
            e.first = e.first.min(ts);
            e.last = e.last.max(ts);
        } else if self.targets.len() < self.cfg.max_destinations {
            let mut ports = TopK::new(t.dst_port);
            ports.add(t.dst_port, 1);
            self.targets.insert(
                pkt.dst,
                Target {
                    syns: 1,
                    syn_acks: 0,
                    completed: 0,
                    flow_known: flow.is_some(),
                    first: ts,
                    last: ts,
                    sources: SourceCounter::new(pkt.src),
                    top_sources: {
                        let mut top = TopK::new(pkt.src);
                        top.add(pkt.src, 1);
                        top
                    },
                    ports,
                },
            );
        } else {
            self.dropped_interval += 1;
            self.dropped_total += 1;
        }
    }
}

impl Detector for SynFlood {
    fn name(&self) -> &'static str {
        "syn_flood"
    }

    fn wants_packets(&self) -> bool {
        true
    }

    fn wants_routine(&self) -> bool {
        false // handshakes, probes and answers nobody asked for: never a routine segment
    }

    #[inline]
    fn on_packet(&mut self, pkt: &Packet, _wire_len: u32, ts: Timestamp) {
        self.count(pkt, ts, None);
    }

    #[inline]
    fn on_flow_packet(
        &mut self,
        pkt: &Packet,
        _wire_len: u32,
        ts: Timestamp,
        flow: Option<&Ingested>,
    ) {
        self.count(pkt, ts, flow);
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
    use crate::testutil::{at, in_flow, interval, ip, tcp};
    use std::net::Ipv4Addr;
    use wirewatch_core::Severity;

    /// `syns` SYNs to 10.1.0.20:80 spread evenly over `span` seconds from 0.0, from `sources`
    /// addresses; a SYN-ACK for `answered_per_mille` of them; with flow information when
    /// `flows` (then no handshake completes, as in a flood).
    fn flood(d: &mut SynFlood, syns: u32, answered_per_mille: u32, sources: u32, span: f64) {
        for i in 0..syns {
            let ts = at(span * f64::from(i) / f64::from(syns));
            let src = IpAddr::V4(Ipv4Addr::from(0x6440_0000 + i % sources));
            let mut p = tcp("0.0.0.0", 1024 + (i % 60_000) as u16, "10.1.0.20", 80, SYN);
            p.src = src;
            d.on_packet(&p, 60, ts);
            if i % 1000 < answered_per_mille {
                let mut a = tcp("10.1.0.20", 80, "0.0.0.0", 1024, SYN | ACK);
                a.dst = src;
                d.on_packet(&a, 60, ts);
            }
        }
    }

    /// One connection from `src`:`sport` to 10.1.0.20:80 at `ts`, through the flow table's
    /// eyes: SYN, SYN-ACK, and the final ACK when `complete`; else the client's RST.
    fn connection(d: &mut SynFlood, src: &str, sport: u16, ts: Timestamp, complete: bool) {
        let syn = tcp(src, sport, "10.1.0.20", 80, SYN);
        d.on_flow_packet(&syn, 60, ts, Some(&in_flow(true, false, false)));
        let syn_ack = tcp("10.1.0.20", 80, src, sport, SYN | ACK);
        d.on_flow_packet(&syn_ack, 60, ts, Some(&in_flow(false, true, false)));
        if complete {
            let ack = tcp(src, sport, "10.1.0.20", 80, ACK);
            d.on_flow_packet(&ack, 60, ts, Some(&in_flow(false, false, true)));
        } else {
            let rst = tcp(src, sport, "10.1.0.20", 80, RST);
            d.on_flow_packet(&rst, 60, ts, Some(&in_flow(false, false, false)));
        }
    }

    #[test]
    fn spoofed_flood_on_one_target() {
        let mut d = SynFlood::new(&Config::default()).unwrap();
        flood(&mut d, 4000, 50, 4000, 1.0);
        let mut out = Vec::new();
        d.on_interval(&interval(0, 4200, 4200 * 60), &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        let a = &out[0];
        assert_eq!(a.kind, "syn_flood");
        assert_eq!(a.targets, vec![ip("10.1.0.20")]);
        assert_eq!(a.ports, vec![80]);
        assert_eq!(a.incident_key, "syn_flood|10.1.0.20");
        assert!((a.magnitude - 4001.0).abs() < 5.0, "{}", a.magnitude);
        // 4,000 SYNs/s, 20× the threshold, 5% served: high, not critical (2,000+ pps but
        // under 20,000).
        assert_eq!(a.severity, Severity::High);
        assert!(a.sources.is_empty(), "spoofed: no source stands out");
        let sources = a.evidence["distinct_sources"].as_u64().unwrap();
        assert!((3400..4600).contains(&sources), "{sources}");
        assert!(
            a.message
                .starts_with("10.1.0.20:80 received 4,001 SYNs/s from about "),
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
    fn a_target_with_syn_cookies_answering_every_syn_is_still_flooded() {
        // hping3 -S -p 80 -i u100 from one address: every SYN gets a SYN-ACK (cookies), the
        // flooder's kernel resets it; no handshake ever completes.
        let mut d = SynFlood::new(&Config::default()).unwrap();
        for i in 0..1500u16 {
            connection(
                &mut d,
                "10.1.9.9",
                2000 + i,
                at(f64::from(i) * 0.0002),
                false,
            );
        }
        // A few real clients complete theirs meanwhile.
        for i in 0..20u16 {
            connection(&mut d, "10.1.0.3", 40_000 + i, at(0.1), true);
        }
        let mut out = Vec::new();
        d.on_interval(&interval(0, 4600, 4600 * 60), &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        let a = &out[0];
        assert_eq!(a.kind, "syn_flood");
        assert_eq!(a.targets, vec![ip("10.1.0.20")]);
        assert!(a.sources.contains(&ip("10.1.9.9")));
        assert_eq!(a.evidence["completed_handshakes"], 20);
        assert_eq!(a.evidence["syn_acks"], 1520);
        // 1,520 SYNs in 0.3 s: judged at ~5,000/s, not diluted to 1,520/s by the interval.
        let r = a.evidence["syn_rate"].as_f64().unwrap();
        assert!((4_900.0..5_200.0).contains(&r), "{r}");
        assert!(
            a.message
                .contains("1% completed the handshake (100% answered"),
            "{}",
            a.message
        );
        assert_eq!(a.severity, Severity::High, "the target serves 1%");
    }

    #[test]
    fn a_busy_server_completing_its_handshakes_is_not_flooded() {
        let mut d = SynFlood::new(&Config::default()).unwrap();
        for i in 0..2000u16 {
            let src = format!("10.2.{}.{}", i / 250, i % 250 + 1);
            connection(&mut d, &src, 50_000, at(f64::from(i) * 0.0004), i % 20 != 0);
        }
        let mut out = Vec::new();
        d.on_interval(&interval(0, 6000, 6000 * 60), &mut out);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn silent_below_the_rate_or_without_enough_evidence() {
        let mut d = SynFlood::new(&Config::default()).unwrap();
        flood(&mut d, 150, 0, 150, 1.0);
        let mut out = Vec::new();
        d.on_interval(&interval(0, 150, 9000), &mut out);
        assert!(out.is_empty(), "150 SYNs/s < 200");
        // 60 back-to-back SYNs in a millisecond: a high instantaneous rate, too few to judge.
        flood(&mut d, 60, 0, 60, 0.001);
        d.on_interval(&interval(1, 60, 3600), &mut out);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn a_fast_port_scan_is_left_to_port_scan() {
        let mut d = SynFlood::new(&Config::default()).unwrap();
        for port in 1..=1000u16 {
            d.on_packet(
                &tcp("203.0.113.66", 40_000, "10.1.0.10", port, SYN),
                60,
                at(f64::from(port) * 0.0005),
            );
        }
        // Three ordinary clients connect to the same host meanwhile.
        for (i, client) in ["10.1.0.3", "10.1.0.4", "10.1.0.5"].iter().enumerate() {
            d.on_packet(
                &tcp(client, 50_000, "10.1.0.10", 443, SYN),
                60,
                at(0.1 + i as f64),
            );
        }
        let mut out = Vec::new();
        d.on_interval(&interval(0, 1000, 60_000), &mut out);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn network_wide_flood_names_destinations_never_bystanders() {
        let mut d = SynFlood::new(&Config::default()).unwrap();
        // 5,000 SYNs from 5,000 spoofed sources to 5,000 destinations (one each).
        for i in 0..5000u32 {
            let mut p = tcp("0.0.0.0", 1024, "0.0.0.0", 80, SYN);
            p.src = IpAddr::V4(Ipv4Addr::from(0x6440_0000 + i));
            p.dst = IpAddr::V4(Ipv4Addr::from(0x0a63_0000 + i));
            d.on_packet(&p, 60, at(f64::from(i) / 5000.0));
        }
        let mut m = interval(0, 6000, 360_000);
        m.top_sources_by_packets = vec![wirewatch_core::Talker {
            ip: ip("10.0.0.3"),
            packets: 900,
            bytes: 90_000,
        }];
        let mut out = Vec::new();
        d.on_interval(&m, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].incident_key, "syn_flood|*");
        assert!(out[0].sources.is_empty(), "{:?}", out[0].sources);
        assert_eq!(out[0].targets.len(), 5);
        assert!(!out[0].targets.contains(&ip("10.0.0.3")));
        assert!(
            out[0].message.starts_with(
                "5,000 SYNs/s across the network to 5,000 destinations from 50+ sources"
            ),
            "{}",
            out[0].message
        );
        // One scanner sweeping 5,000 hosts is not a network-wide flood (port_scan's).
        for i in 0..5000u32 {
            let mut p = tcp("203.0.113.66", 40_000, "0.0.0.0", 22, SYN);
            p.dst = IpAddr::V4(Ipv4Addr::from(0x0a63_0000 + i));
            d.on_packet(&p, 60, at(1.0 + f64::from(i) / 5000.0));
        }
        out.clear();
        d.on_interval(&interval(1, 5000, 300_000), &mut out);
        assert!(out.is_empty(), "{out:?}");
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
