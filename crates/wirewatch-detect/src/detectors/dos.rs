//! DoS and DDoS: one destination receiving an abnormal packet or byte rate.
//!
//! # What it detects
//!
//! Volumetric attacks on one host: from one or a few sources (`dos`), or from many (`ddos`,
//! botnets and spoofed floods). It covers what the specialised detectors do not: TCP ACK/RST/data
//! floods, GRE/ESP floods, mixed floods. A destination whose traffic is mostly bare SYNs is left
//! to `syn_flood`, mostly UDP or ICMP to `flood` (each only while that detector runs), so one
//! attack makes one incident.
//!
//! # Signal
//!
//! From every packet, per destination and interval: packets, bytes, bare SYNs, UDP and ICMP
//! packets, distinct sources (exact up to 8, then a HyperLogLog), the heaviest sources and
//! destination ports, and the packets the destination sent back (RSTs excluded). Per
//! destination, a baseline of its packet and bit rates (EWMA over the intervals it received at
//! least `baseline_min_pps`, not learning while over the thresholds). To keep the per-packet
//! cost low, a destination is tracked in full only once a hashed per-interval counter (4,096
//! slots) passes a gate of a quarter of `min_pps / baseline_factor` packets (or the byte
//! equivalent): below it, its rate can neither alert nor matter to a baseline. Its counts then
//! start from the slot's (an upper bound by at most the gate); shares are taken over the
//! packets tracked in full.
//!
//! # Thresholds
//!
//! A destination alerts when it receives ≥ `min_pps` (20,000) packets/s or ≥ `min_bps`
//! (500 Mbit/s), and — once its baseline has `warmup_intervals` (5) intervals — at least
//! `baseline_factor` (5) times that baseline. It is a `ddos` from `ddos_min_sources` (50)
//! distinct sources. Traffic from few sources that is mostly TCP and that the destination
//! keeps answering (≥ `min_reply_ratio`, 0.01, packets back per packet received: a receiver
//! with large windows and receive offload acknowledges only every 20th to 50th segment) is a
//! transfer, not an attack. Severity follows [`crate::policy`] (volumetric).
//! Bounded: `max_destinations` (10,000) per interval and `max_baselines` (4,096) baselines,
//! least recently updated evicted; both counted ([`Detector::evictions`]).
//!
//! # False positives
//!
//! Backups and bulk copies to a host with no baseline yet (if it does not answer, e.g. UDP-based
//! replication), traffic bursts to a busy server right after start-up, multicast streams. The
//! baseline absorbs regular heavy receivers once they have been seen for a few intervals.
//!
//! # Recommended action
//!
//! DoS: block or rate-limit the named sources upstream of the target. DDoS: the sources are too
//! many to block one by one — rate-limit at the edge and ask the upstream provider or DDoS
//! protection service to scrub traffic to the target.

use super::{MIN_EVIDENCE_SECS, active_secs, check, interval_secs};
use crate::policy::{self, Family, Impact};
use crate::present::{bits, count, pct, rate};
use crate::sketch::{Map, SourceCounter, TopK, named_sources, new_map};
use crate::{AlertDraft, DetectError, Detector, kind};
use foldhash::fast::FixedState;
use hashlink::LinkedHashMap;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::hash_map::Entry;
use std::net::IpAddr;
use wirewatch_core::proto::tcp_flags::{ACK, RST, SYN};
use wirewatch_core::{IntervalMetrics, Timestamp};
use wirewatch_decode::{Packet, Transport};

/// DoS / DDoS detector settings.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Run this detector.
    pub enabled: bool,
    /// Packets/s to one destination from which it may alert.
    pub min_pps: f64,
    /// Bits/s to one destination from which it may alert.
    pub min_bps: f64,
    /// How many times its own baseline the rate must be (once the baseline is warm).
    pub baseline_factor: f64,
    /// EWMA weight of the newest interval in a destination's baseline (0 < α ≤ 1).
    pub ewma_alpha: f64,
    /// Intervals a baseline needs before it is used.
    pub warmup_intervals: u32,
    /// Destinations receiving less than this (packets/s) get no baseline: keeps the map for
    /// the hosts that matter.
    pub baseline_min_pps: f64,
    /// Distinct sources from which a flood is a DDoS.
    pub ddos_min_sources: u64,
    /// Share of a destination's packets (bare SYNs, or UDP, or ICMP) from which it is left
    /// to the specialised detector (0–1).
    pub defer_share: f64,
    /// Packets the destination sends back per packet received from which a TCP exchange
    /// with few sources counts as a conversation (a transfer), not an attack.
    pub min_reply_ratio: f64,
    /// Destinations counted per interval (about 400 bytes each: 10,000 ≈ 4 MB).
    pub max_destinations: usize,
    /// Destination baselines kept (least recently updated evicted).
    pub max_baselines: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            min_pps: 20_000.0,
            min_bps: 500e6,
            baseline_factor: 5.0,
            ewma_alpha: 0.05,
            warmup_intervals: 5,
            baseline_min_pps: 100.0,
            ddos_min_sources: 50,
            defer_share: 0.8,
            min_reply_ratio: 0.01,
            max_destinations: 10_000,
            max_baselines: 4096,
        }
    }
}

/// Slots of the per-destination gate (16 bytes each: 64 KiB, cache-resident).
const GATE_SLOTS: usize = 4096;

/// Packets per interval at which a destination starts being tracked in full. A rate only
/// matters when it may reach `min_pps`, or when it is large enough for the baseline test to
/// matter (a baseline below `min_pps / baseline_factor` never stops an alert); a quarter of
/// the smaller of the two, with a floor, leaves a wide margin. Baselines of destinations below
/// the gate are not learned (they could never veto an alert).
fn gate_packets(cfg: &Config) -> u32 {
    let rate = (cfg.min_pps / cfg.baseline_factor.max(1.0)).min(cfg.min_pps) / 4.0;
    rate.clamp(1.0, 1e9) as u32
}

/// Bytes per interval at which a destination starts being tracked in full (same reasoning).
fn gate_bytes(cfg: &Config) -> u64 {
    let rate = cfg.min_bps / 8.0 / cfg.baseline_factor.max(1.0) / 4.0;
    rate.clamp(1.0, 1e15) as u64
}

/// Which traffic the specialised detectors cover (set by the engine from what runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Defer {
    /// `syn_flood` runs: leave bare-SYN traffic to it.
    pub syn: bool,
    /// `flood` runs: leave UDP and ICMP traffic to it.
    pub udp_icmp: bool,
}

#[derive(Debug, Clone)]
struct Dst {
    packets: u64,
    bytes: u64,
    tcp: u64,
    bare_syn: u64,
    udp: u64,
    icmp: u64,
    /// Packets the destination sent (RSTs excluded) while receiving.
    replies: u64,
    sources: SourceCounter,
    top_sources: TopK<IpAddr, 4>,
    /// Packets seen since the destination passed the gate: the denominator of the shares
    /// (protocol mix, top sources), which are only counted from then on.
    sampled: u64,
    ports: TopK<u16, 4>,
    /// First and last packet counted in full: the span its rate is judged over.
    first: Timestamp,
    last: Timestamp,
}

#[derive(Debug, Clone, Copy)]
struct Base {
    pps: f64,
    bps: f64,
    n: u32,
}

/// The DoS / DDoS detector.
#[derive(Debug)]
pub struct Dos {
    cfg: Config,
    defer: Defer,
    /// Per-interval packet and byte counts by a hash of the destination (collisions add up):
    /// a destination gets a full entry in `dsts` only once its slot passes the gate, so the
    /// per-packet cost for ordinary hosts is one array update.
    gate: Box<[(u32, u64); GATE_SLOTS]>,
    gate_hasher: FixedState,
    gate_packets: u32,
    gate_bytes: u64,
    dsts: Map<IpAddr, Dst>,
    baselines: LinkedHashMap<IpAddr, Base, FixedState>,
    evicted: u64,
}

impl Dos {
    /// A detector with validated settings; `defer` says which specialists run.
    pub fn new(cfg: &Config, defer: Defer) -> Result<Self, DetectError> {
        let s = "dos";
        check(s, "min_pps", cfg.min_pps, cfg.min_pps > 0.0, "must be > 0")?;
        check(s, "min_bps", cfg.min_bps, cfg.min_bps > 0.0, "must be > 0")?;
        check(
            s,
            "baseline_factor",
            cfg.baseline_factor,
            cfg.baseline_factor >= 1.0,
            "must be ≥ 1",
        )?;
        check(
            s,
            "ewma_alpha",
            cfg.ewma_alpha,
            cfg.ewma_alpha > 0.0 && cfg.ewma_alpha <= 1.0,
            "must be in (0, 1]",
        )?;
        check(
            s,
            "defer_share",
            cfg.defer_share,
            cfg.defer_share > 0.0 && cfg.defer_share <= 1.0,
            "must be in (0, 1]",
        )?;
        check(
            s,
            "min_reply_ratio",
            cfg.min_reply_ratio,
            cfg.min_reply_ratio >= 0.0,
            "must be ≥ 0",
        )?;
        Ok(Dos {
            cfg: cfg.clone(),
            defer,
            gate: Box::new([(0, 0); GATE_SLOTS]),
            gate_hasher: FixedState::default(),
            gate_packets: gate_packets(cfg),
            gate_bytes: gate_bytes(cfg),
            dsts: new_map(),
            baselines: LinkedHashMap::with_hasher(FixedState::default()),
            evicted: 0,
        })
    }

    /// Destinations counted in the open interval, and baselines kept.
    pub fn tracked_maps(&self) -> (usize, usize) {
        (self.dsts.len(), self.baselines.len())
    }

    fn learn(&mut self, dst: IpAddr, pps: f64, bps: f64) {
        let a = self.cfg.ewma_alpha;
        if let Some(b) = self.baselines.get_mut(&dst) {
            b.pps += a * (pps - b.pps);
            b.bps += a * (bps - b.bps);
            b.n = b.n.saturating_add(1);
            self.baselines.to_back(&dst);
            return;
        }
        while self.baselines.len() >= self.cfg.max_baselines.max(1) {
            if self.baselines.pop_front().is_none() {
                break;
            }
            self.evicted += 1;
        }
        self.baselines.insert(dst, Base { pps, bps, n: 1 });
    }

    /// Why a destination over the thresholds is not this detector's business, if it is not.
    fn excuse(&self, e: &Dst) -> Option<&'static str> {
        let share = |n: u64| n as f64 / e.sampled.max(1) as f64;
        let d = self.cfg.defer_share;
        if self.defer.syn && share(e.bare_syn) >= d {
            return Some("syn_flood");
        }
        if self.defer.udp_icmp && (share(e.udp) >= d || share(e.icmp) >= d) {
            return Some("flood");
        }
        if e.sources.estimate() < self.cfg.ddos_min_sources
            && share(e.tcp) >= 0.5
            && share(e.replies) >= self.cfg.min_reply_ratio
        {
            return Some("conversation");
        }
        None
    }

    fn draft(
        &self,
        dst: IpAddr,
        e: &Dst,
        pps: f64,
        bps: f64,
        base: Option<Base>,
        ts: Timestamp,
    ) -> AlertDraft {
        let sources = e.sources.estimate();
        let ddos = sources >= self.cfg.ddos_min_sources;
        let over = (pps / self.cfg.min_pps).max(bps / self.cfg.min_bps);
        let severity = policy::severity(&Impact {
            pps,
            bps,
            ..Impact::new(Family::Volumetric, over)
        });
        let tops = e.top_sources.top();
        let ports: Vec<u16> = e
            .ports
            .top()
            .iter()
            .filter(|(_, c)| *c as f64 >= 0.1 * e.sampled as f64)
            .map(|(p, _)| *p)
            .collect();
        let vs_base = match base {
            Some(b) => format!(
                ", {:.1}× its usual {}/s",
                pps / b.pps.max(1e-9),
                rate(b.pps)
            ),
            None => ", no baseline for it yet".into(),
        };
        let approx = if e.sources.is_estimate() {
            "about "
        } else {
            ""
        };
        let (top_ip, top_n) = tops.first().copied().unwrap_or((dst, 0));
        let top_share = top_n as f64 / e.sampled.max(1) as f64;
        let message = format!(
            "{dst} received {} packets/s ({}) from {approx}{} source{}{vs_base}; top source {top_ip} sent {}",
            rate(pps),
            bits(bps),
            count(sources),
            if sources == 1 { "" } else { "s" },
            pct(top_share),
        );
        let recommendation = if ddos {
            format!(
                "the {} sources are too many to block one by one: rate-limit traffic to {dst} at the edge and ask the upstream provider or DDoS protection to scrub it",
                count(sources)
            )
        } else {
            let list: Vec<String> = named_sources(&tops, e.sampled)
                .iter()
                .map(IpAddr::to_string)
                .collect();
            format!(
                "block or rate-limit {} upstream of {dst}; if {dst} must stay reachable, put a rate limit in front of it",
                list.join(", ")
            )
        };
        AlertDraft {
            kind: if ddos { kind::DDOS } else { kind::DOS },
            severity,
            confidence: policy::confidence(over, if ddos { 0.5 } else { 0.0 }),
            ts,
            sources: named_sources(&tops, e.sampled),
            targets: vec![dst],
            ports,
            message,
            recommendation,
            evidence: json!({
                "target": dst,
                "pps": pps,
                "bps": bps,
                "packets": e.packets,
                "bytes": e.bytes,
                "distinct_sources": sources,
                "sources_estimated": e.sources.is_estimate(),
                "top_sources": tops.iter().map(|(ip, n)| json!({"ip": ip, "packets": n})).collect::<Vec<_>>(),
                "baseline_pps": base.map(|b| b.pps),
                "baseline_bps": base.map(|b| b.bps),
                "tcp_share": e.tcp as f64 / e.sampled.max(1) as f64,
                "reply_ratio": e.replies as f64 / e.sampled.max(1) as f64,
                "min_pps": self.cfg.min_pps,
                "min_bps": self.cfg.min_bps,
                "baseline_factor": self.cfg.baseline_factor,
            }),
            incident_key: format!("{}|{dst}", kind::DOS),
            magnitude: pps,
        }
    }
}

impl Detector for Dos {
    fn name(&self) -> &'static str {
        "dos"
    }

    fn wants_packets(&self) -> bool {
        true
    }

    #[inline]
    fn on_packet(&mut self, pkt: &Packet, wire_len: u32, ts: Timestamp) {
        if !pkt.is_ip() || !pkt.has_src || !pkt.has_dst {
            return;
        }
        let (tcp, bare_syn, rst, port) = match pkt.transport {
            Transport::Tcp(t) => (
                true,
                t.flags & (SYN | ACK) == SYN,
                t.flags & RST != 0,
                Some(t.dst_port),
            ),
            Transport::Udp(u) => (false, false, false, Some(u.dst_port)),
            _ => (false, false, false, None),
        };
        let udp = pkt.ip_proto == 17;
        let icmp = matches!(pkt.ip_proto, 1 | 58);
        if !rst
            && !self.dsts.is_empty()
            && let Some(back) = self.dsts.get_mut(&pkt.src)
        {
            back.replies += 1;
        }
        let slot =
            (std::hash::BuildHasher::hash_one(&self.gate_hasher, pkt.dst) as usize) % GATE_SLOTS;
        let (gate_p, gate_b) = match self.gate.get_mut(slot) {
            Some(g) => {
                g.0 = g.0.saturating_add(1);
                g.1 += u64::from(wire_len);
                *g
            }
            None => (u32::MAX, u64::MAX),
        };
        let tracked = !self.dsts.is_empty() && self.dsts.contains_key(&pkt.dst);
        if !tracked && gate_p < self.gate_packets && gate_b < self.gate_bytes {
            return;
        }
        let full = self.dsts.len() >= self.cfg.max_destinations;
        // A destination entering the map starts from its slot's counts (an upper bound: other
        // destinations of the slot may have added to them, by at most the gate).
        let (start_p, start_b) = (u64::from(gate_p) - 1, gate_b - u64::from(wire_len));
        let e = match self.dsts.entry(pkt.dst) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) if !full => v.insert(Dst {
                packets: start_p,
                bytes: start_b,
                tcp: 0,
                bare_syn: 0,
                udp: 0,
                icmp: 0,
                replies: 0,
                sources: SourceCounter::new(pkt.src),
                top_sources: TopK::new(pkt.src),
                sampled: 0,
                ports: TopK::new(0),
                first: ts,
                last: ts,
            }),
            Entry::Vacant(_) => {
                self.evicted += 1;
                return;
            }
        };
        e.packets += 1;
        e.sampled += 1;
        e.last = e.last.max(ts);
        e.bytes += u64::from(wire_len);
        e.tcp += u64::from(tcp);
        e.bare_syn += u64::from(bare_syn);
        e.udp += u64::from(udp);
        e.icmp += u64::from(icmp);
        e.sources.insert(pkt.src);
        e.top_sources.add(pkt.src, 1);
        if let Some(p) = port {
            e.ports.add(p, 1);
        }
    }

    fn on_interval(&mut self, m: &IntervalMetrics, out: &mut Vec<AlertDraft>) {
        let secs = interval_secs(m);
        let ts = m.end_ts();
        let dsts = std::mem::replace(&mut self.dsts, new_map());
        self.gate.fill((0, 0));
        let mut found = Vec::new();
        for (dst, e) in &dsts {
            // Baselines learn the interval's average; an alert judges a burst at its own rate
            // (8,000 packets in 0.15 s are 53,000/s).
            let (avg_pps, avg_bps) = (e.packets as f64 / secs, e.bytes as f64 * 8.0 / secs);
            let judged = e.packets as f64 >= self.cfg.min_pps * MIN_EVIDENCE_SECS
                || avg_bps * secs >= self.cfg.min_bps * MIN_EVIDENCE_SECS;
            let burst = if judged {
                secs / active_secs(e.first, e.last, secs)
            } else {
                1.0 // too few packets to judge a burst: the interval's average
            };
            let (pps, bps) = (avg_pps * burst, avg_bps * burst);
            let base = self
                .baselines
                .get(dst)
                .copied()
                .filter(|b| b.n >= self.cfg.warmup_intervals);
            let f = self.cfg.baseline_factor;
            let pps_hit = pps >= self.cfg.min_pps && base.is_none_or(|b| pps >= f * b.pps);
            let bps_hit = bps >= self.cfg.min_bps && base.is_none_or(|b| bps >= f * b.bps);
            if pps_hit || bps_hit {
                if self.excuse(e).is_none() {
                    found.push(self.draft(*dst, e, pps, bps, base, ts));
                }
            } else if avg_pps >= self.cfg.baseline_min_pps {
                self.learn(*dst, avg_pps, avg_bps);
            }
        }
        super::worst_first(&mut found);
        out.extend(found);
        // Reuse the allocation for the next interval.
        self.dsts = dsts;
        self.dsts.clear();
    }

    fn evictions(&self) -> u64 {
        self.evicted
    }

    fn tracked(&self) -> usize {
        self.dsts.len() + self.baselines.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{at, icmp_echo, interval, ip, tcp, udp};
    use std::net::Ipv4Addr;
    use wirewatch_core::Severity;

    fn defer_all() -> Defer {
        Defer {
            syn: true,
            udp_icmp: true,
        }
    }

    fn ack_flood(d: &mut Dos, packets: u32, sources: u32, dst: &str) {
        for i in 0..packets {
            let mut p = tcp("0.0.0.0", 1024, dst, 443, ACK);
            p.src = IpAddr::V4(Ipv4Addr::from(0xcb00_7100 + i % sources));
            d.on_packet(&p, 60, at(f64::from(i) / f64::from(packets)));
        }
    }

    fn close(d: &mut Dos, i: u64) -> Vec<AlertDraft> {
        let mut out = Vec::new();
        d.on_interval(&interval(i, 0, 0), &mut out);
        out
    }

    #[test]
    fn single_source_ack_flood_is_a_dos() {
        let mut d = Dos::new(&Config::default(), defer_all()).unwrap();
        ack_flood(&mut d, 30_000, 1, "10.1.0.20");
        let out = close(&mut d, 0);
        assert_eq!(out.len(), 1);
        let a = &out[0];
        assert_eq!(a.kind, "dos");
        assert_eq!(a.sources, vec![ip("203.0.113.0")]);
        assert_eq!(a.targets, vec![ip("10.1.0.20")]);
        assert_eq!(a.ports, vec![443]);
        assert_eq!(a.incident_key, "dos|10.1.0.20");
        assert_eq!(a.severity, Severity::Low);
        assert_eq!(
            a.message,
            // 30,000 packets over one second, the span counted from the packet that passed
            // the gate (a thousand in): a little over 30,000/s.
            "10.1.0.20 received 31,034 packets/s (14.9 Mbit/s) from 1 source, no baseline for it yet; top source 203.0.113.0 sent 100%"
        );
        assert!(
            a.recommendation
                .starts_with("block or rate-limit 203.0.113.0 upstream of 10.1.0.20")
        );
    }

    #[test]
    fn many_sources_make_a_ddos() {
        let mut d = Dos::new(&Config::default(), defer_all()).unwrap();
        ack_flood(&mut d, 60_000, 200, "10.1.0.20");
        let out = close(&mut d, 0);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].kind, "ddos");
        assert_eq!(
            out[0].severity,
            Severity::Medium,
            "3× min_pps (60,000 packets/s): medium; high from 4×, critical from 10×"
        );
        assert!(
            out[0].sources.is_empty(),
            "200 sources of 0.5% each: none stands out"
        );
        let n = out[0].evidence["distinct_sources"].as_u64().unwrap();
        assert!((170..230).contains(&n), "{n}");
    }

    #[test]
    fn silent_below_threshold_and_within_the_baseline() {
        let mut d = Dos::new(&Config::default(), defer_all()).unwrap();
        ack_flood(&mut d, 15_000, 1, "10.1.0.20");
        assert!(close(&mut d, 0).is_empty());
        // A server that always receives 25,000 packets/s: its baseline says that is normal.
        let cfg = Config {
            min_pps: 10_000.0,
            ..Config::default()
        };
        let mut d = Dos::new(&cfg, defer_all()).unwrap();
        let mut alerts = 0;
        for i in 0..10 {
            ack_flood(&mut d, 8_000, 3, "10.1.0.21");
            alerts += close(&mut d, i).len();
        }
        assert_eq!(alerts, 0);
        ack_flood(&mut d, 25_000, 3, "10.1.0.21");
        assert!(close(&mut d, 10).is_empty(), "25,000 < 5 × 8,000");
        // ... and learnt from it: 8,000 + 0.05 × 17,000 = 8,850.
        ack_flood(&mut d, 60_000, 3, "10.1.0.21");
        let out = close(&mut d, 11);
        assert_eq!(out.len(), 1);
        assert!(
            out[0].message.contains("6.8× its usual 8,850/s"),
            "{}",
            out[0].message
        );
    }

    #[test]
    fn defers_to_the_specialists_and_ignores_transfers() {
        let mut d = Dos::new(&Config::default(), defer_all()).unwrap();
        for i in 0..30_000u32 {
            let mut p = tcp("0.0.0.0", 1024, "10.1.0.20", 80, SYN);
            p.src = IpAddr::V4(Ipv4Addr::from(0x6440_0000 + i));
            d.on_packet(&p, 60, at(f64::from(i) / 30_000.0));
            d.on_packet(
                &udp("198.51.100.7", 123, "10.1.0.21", 5000),
                500,
                at(f64::from(i) / 30_000.0),
            );
            d.on_packet(
                &icmp_echo("198.51.100.8", "10.1.0.22", false),
                98,
                at(f64::from(i) / 30_000.0),
            );
            // A bulk download: 30,000 segments, the client ACKs every second one.
            d.on_packet(
                &tcp("198.51.100.80", 443, "10.1.0.30", 50_000, ACK),
                1514,
                at(f64::from(i) / 30_000.0),
            );
            if i % 2 == 0 {
                d.on_packet(
                    &tcp("10.1.0.30", 50_000, "198.51.100.80", 443, ACK),
                    66,
                    at(f64::from(i) / 30_000.0),
                );
            }
        }
        assert!(close(&mut d, 0).is_empty());
        // Without the specialists, the same floods are DoS / DDoS.
        let mut d = Dos::new(&Config::default(), Defer::default()).unwrap();
        for i in 0..30_000u32 {
            let mut p = tcp("0.0.0.0", 1024, "10.1.0.20", 80, SYN);
            p.src = IpAddr::V4(Ipv4Addr::from(0x6440_0000 + i));
            d.on_packet(&p, 60, at(f64::from(i) / 30_000.0));
            d.on_packet(
                &udp("198.51.100.7", 123, "10.1.0.21", 5000),
                500,
                at(f64::from(i) / 30_000.0),
            );
        }
        let mut kinds: Vec<&str> = close(&mut d, 0).iter().map(|a| a.kind).collect();
        kinds.sort_unstable();
        assert_eq!(kinds, vec!["ddos", "dos"]);
    }

    #[test]
    fn bounded_maps() {
        let cfg = Config {
            max_destinations: 50,
            max_baselines: 10,
            baseline_min_pps: 1.0,
            // A gate of one packet, so every destination is tracked in full.
            min_pps: 4.0,
            ..Config::default()
        };
        let mut d = Dos::new(&cfg, defer_all()).unwrap();
        for i in 0..100u32 {
            let mut p = tcp("192.0.2.1", 1024, "0.0.0.0", 80, ACK);
            p.dst = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i));
            d.on_packet(&p, 60, at(f64::from(i) / 100.0));
        }
        assert_eq!(d.tracked_maps().0, 50);
        assert_eq!(d.evictions(), 50);
        close(&mut d, 0);
        assert_eq!(d.tracked_maps(), (0, 10));
        assert_eq!(d.evictions(), 90);
    }
}
