//! Reflection and amplification: a victim flooded with answers to requests it never sent.
//!
//! # What it detects
//!
//! Attacks that bounce off third parties. *TCP reflection*: the attacker sends SYNs with the
//! victim's address to thousands of servers, whose SYN-ACKs (or RSTs) all land on the victim.
//! *UDP amplification*: small requests with the victim's address to open DNS, NTP, SSDP,
//! memcached, CLDAP, SNMP, chargen... servers, whose answers are many times larger (DNS `ANY`
//! and DNSSEC answers, NTP `monlist`, memcached `stats`). Reported as `dns_amplification` when
//! the answers come from port 53, otherwise as `ddos` (many reflectors) or `dos` (few).
//!
//! # Signal
//!
//! From every packet, per victim and interval. TCP: SYN-ACKs and RSTs the flow table sees
//! *start* a flow, i.e. answers to a SYN or segment nobody on the wire sent; their sources and
//! span. UDP: bytes and datagrams arriving from an amplification service port, and the bytes
//! the victim itself sent to such ports (its real requests; per hashed address, so ordinary
//! clients cost no map entry, and a host enters the victim map only once its hashed counter
//! passed a quarter of the answer bytes an alert needs). Large answers arrive as IP
//! fragments and only the first carries the UDP header: later fragments are attributed to
//! their datagram by (source, destination, IP id), remembered from the first fragment for two
//! intervals. Rates are taken over the attack's own span in the interval (at least 0.1 s), so a
//! burst of a fraction of a second is judged at its real rate.
//!
//! # Thresholds
//!
//! TCP reflection: ≥ `tcp_min_rate` (500/s) unsolicited SYN-ACKs/RSTs to one victim from ≥
//! `tcp_min_sources` (20) sources. Amplification: ≥ `amp_min_bytes_per_sec` (250 kB/s) of answers
//! averaging ≥ `amp_min_answer_bytes` (300 bytes per datagram, fragments included) that are ≥
//! `amp_min_ratio` (10) times the bytes the victim sent to such ports. `ddos` from
//! `ddos_min_sources` (50) reflectors. Severity follows [`crate::policy`] (volumetric).
//! Bounded: `max_victims` (10,000) per interval and `max_fragments` (65,536) datagrams
//! remembered; what they turn away is counted ([`Detector::evictions`]).
//!
//! # False positives
//!
//! Captures that see only one direction (the victim's SYNs or queries are never seen, so every
//! answer looks unsolicited): monitor both directions, or suppress the kinds for that link. A
//! capture that starts while many connections are being opened sees a few SYN-ACKs without their
//! SYN, far below the thresholds.
//!
//! # Recommended action
//!
//! The reflectors are victims too and the real source is spoofed: filter the reflected traffic
//! upstream (by source port: 53, 123, 1900, 11211, 389... or unsolicited SYN-ACKs), ask the
//! provider to scrub if the link is full, and make sure your own servers do not answer spoofed
//! requests (no open resolvers, `noquery` on NTP, memcached without UDP).

use super::{burst_rate, check, interval_secs};
use crate::policy::{self, Family, Impact};
use crate::present::{bits, count, rate};
use crate::sketch::{Map, SourceCounter, TopK, named_sources, new_map};
use crate::{AlertDraft, DetectError, Detector, Ingested, kind};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::net::IpAddr;
use wirewatch_core::proto::tcp_flags::{ACK, RST, SYN};
use wirewatch_core::{IntervalMetrics, Timestamp};
use wirewatch_decode::{Packet, Transport};

/// The detector's name (the engine lets its findings explain a UDP flood of the same victim).
pub const NAME: &str = "reflection";

/// UDP services whose answers are much larger than their requests, with the name used in
/// messages (the amplification vectors CISA and the DDoS-protection literature list).
const AMPLIFIERS: [(u16, &str); 16] = [
    (17, "QOTD"),
    (19, "chargen"),
    (53, "DNS"),
    (69, "TFTP"),
    (111, "portmap"),
    (123, "NTP"),
    (137, "NetBIOS"),
    (161, "SNMP"),
    (389, "CLDAP"),
    (520, "RIP"),
    (1900, "SSDP"),
    (3283, "ARMS"),
    (3702, "WS-Discovery"),
    (5683, "CoAP"),
    (11211, "memcached"),
    (27015, "Steam"),
];

/// The amplification service on `port`, if any (checked on every UDP packet: a `match` on
/// the port before the table is searched).
#[inline]
fn amplifier(port: u16) -> Option<&'static str> {
    match port {
        17 | 19 | 53 | 69 | 111 | 123 | 137 | 161 | 389 | 520 | 1900 | 3283 | 3702 | 5683
        | 11211 | 27015 => AMPLIFIERS
            .iter()
            .find(|(p, _)| *p == port)
            .map(|(_, name)| *name),
        _ => None,
    }
}

/// Slots of the hashed per-interval counters (16 bytes each: 64 KiB, cache-resident) that keep
/// ordinary DNS/NTP traffic out of the victim map: a host gets an entry only once its slot has
/// received a quarter of the answer bytes an alert needs in [`super::MIN_EVIDENCE_SECS`], and
/// the bytes a host sent to amplification ports (its own requests) are counted per slot only.
const GATE_SLOTS: usize = 4096;

/// Reflection / amplification detector settings.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Run this detector.
    pub enabled: bool,
    /// Unsolicited SYN-ACKs/RSTs per second to one victim from which it alerts. A capture that
    /// misses a SYN now and then sees a few; hundreds a second are someone's reflected SYNs.
    pub tcp_min_rate: f64,
    /// Distinct senders those answers need (a single server answering is backscatter of one
    /// flood, or a capture missing one direction).
    pub tcp_min_sources: u64,
    /// Answer bytes per second from amplification ports to one victim from which it alerts
    /// (2 Mbit/s: a small reflection, but already a hundred 2-KB answers a second).
    pub amp_min_bytes_per_sec: f64,
    /// Mean size of an answer datagram (fragments included) from which it is amplification.
    pub amp_min_answer_bytes: f64,
    /// How many times the bytes the victim sent to such ports the answers must be.
    pub amp_min_ratio: f64,
    /// Reflectors from which it is a `ddos` rather than a `dos` (non-DNS vectors).
    pub ddos_min_sources: u64,
    /// Victims counted per interval (about 700 bytes each: 7 MB at most).
    pub max_victims: usize,
    /// Fragmented datagrams remembered to attribute their later fragments (about 48 bytes each).
    pub max_fragments: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            tcp_min_rate: 500.0,
            tcp_min_sources: 20,
            amp_min_bytes_per_sec: 250_000.0,
            amp_min_answer_bytes: 300.0,
            amp_min_ratio: 10.0,
            ddos_min_sources: 50,
            max_victims: 10_000,
            max_fragments: 65_536,
        }
    }
}

/// What one victim received (and sent) in the open interval.
#[derive(Debug, Clone)]
struct Victim {
    /// Unsolicited SYN-ACKs and RSTs.
    tcp: u64,
    tcp_first: Timestamp,
    tcp_last: Timestamp,
    tcp_sources: Option<SourceCounter>,
    tcp_top: TopK<IpAddr, 4>,
    tcp_ports: TopK<u16, 4>,
    /// Answer bytes (whole datagrams: every fragment) from amplification ports.
    amp_bytes: u64,
    /// Answer datagrams (first fragments and whole datagrams).
    amp_datagrams: u64,
    amp_first: Timestamp,
    amp_last: Timestamp,
    amp_sources: Option<SourceCounter>,
    amp_top: TopK<IpAddr, 4>,
    amp_ports: TopK<u16, 4>,
}

impl Victim {
    fn new(ts: Timestamp) -> Self {
        Victim {
            tcp: 0,
            tcp_first: ts,
            tcp_last: ts,
            tcp_sources: None,
            tcp_top: TopK::new(IpAddr::from([0u8; 4])),
            tcp_ports: TopK::new(0),
            amp_bytes: 0,
            amp_datagrams: 0,
            amp_first: ts,
            amp_last: ts,
            amp_sources: None,
            amp_top: TopK::new(IpAddr::from([0u8; 4])),
            amp_ports: TopK::new(0),
        }
    }
}

fn count_source(c: &mut Option<SourceCounter>, ip: IpAddr) {
    match c {
        Some(c) => c.insert(ip),
        None => *c = Some(SourceCounter::new(ip)),
    }
}

/// A fragmented datagram: (source, destination, IP id).
type FragKey = (IpAddr, IpAddr, u32);

/// The reflection / amplification detector.
#[derive(Debug)]
pub struct Reflection {
    cfg: Config,
    victims: Map<IpAddr, Victim>,
    /// Fragmented answers from amplification ports, by datagram → service port: this
    /// interval's and the previous one's (a datagram may straddle the boundary).
    frags: Map<FragKey, u16>,
    frags_prev: Map<FragKey, u16>,
    /// Per hashed destination: answer bytes and datagrams from amplification ports this
    /// interval (the gate in front of `victims`).
    gate: Box<[(u64, u64); GATE_SLOTS]>,
    /// Per hashed source: bytes sent to amplification ports this interval (collisions only
    /// add requests, which can only make an alert less likely).
    requests: Box<[u64; GATE_SLOTS]>,
    hasher: foldhash::fast::FixedState,
    gate_bytes: u64,
    evicted: u64,
}

impl Reflection {
    /// A detector with validated settings.
    pub fn new(cfg: &Config) -> Result<Self, DetectError> {
        let s = "reflection";
        check(
            s,
            "tcp_min_rate",
            cfg.tcp_min_rate,
            cfg.tcp_min_rate > 0.0,
            "must be > 0",
        )?;
        check(
            s,
            "amp_min_bytes_per_sec",
            cfg.amp_min_bytes_per_sec,
            cfg.amp_min_bytes_per_sec > 0.0,
            "must be > 0",
        )?;
        check(
            s,
            "amp_min_ratio",
            cfg.amp_min_ratio,
            cfg.amp_min_ratio >= 1.0,
            "must be ≥ 1",
        )?;
        check(
            s,
            "amp_min_answer_bytes",
            cfg.amp_min_answer_bytes,
            cfg.amp_min_answer_bytes >= 0.0,
            "must be ≥ 0",
        )?;
        Ok(Reflection {
            cfg: cfg.clone(),
            victims: new_map(),
            frags: new_map(),
            frags_prev: new_map(),
            gate: Box::new([(0, 0); GATE_SLOTS]),
            requests: Box::new([0; GATE_SLOTS]),
            hasher: foldhash::fast::FixedState::with_seed(0x7265_666c),
            gate_bytes: (cfg.amp_min_bytes_per_sec * super::MIN_EVIDENCE_SECS / 4.0) as u64,
            evicted: 0,
        })
    }

    fn slot(&self, ip: IpAddr) -> usize {
        (std::hash::BuildHasher::hash_one(&self.hasher, ip) as usize) % GATE_SLOTS
    }

    /// The victim entry of `ip`, if there is room.
    fn victim(&mut self, ip: IpAddr, ts: Timestamp) -> Option<&mut Victim> {
        let full = self.victims.len() >= self.cfg.max_victims;
        match self.victims.entry(ip) {
            std::collections::hash_map::Entry::Occupied(o) => Some(o.into_mut()),
            std::collections::hash_map::Entry::Vacant(v) if !full => {
                Some(v.insert(Victim::new(ts)))
            }
            std::collections::hash_map::Entry::Vacant(_) => {
                self.evicted += 1;
                None
            }
        }
    }

    fn observe(&mut self, pkt: &Packet, wire_len: u32, ts: Timestamp, flow: Option<&Ingested>) {
        if !pkt.has_src || !pkt.has_dst {
            return;
        }
        match pkt.transport {
            Transport::Tcp(t) => {
                let answer = t.flags & (SYN | ACK) == SYN | ACK || t.flags & RST != 0;
                if answer && flow.is_some_and(|f| f.new_flow) {
                    let Some(v) = self.victim(pkt.dst, ts) else {
                        return;
                    };
                    if v.tcp == 0 {
                        v.tcp_first = ts;
                    }
                    v.tcp += 1;
                    v.tcp_last = ts;
                    count_source(&mut v.tcp_sources, pkt.src);
                    v.tcp_top.add(pkt.src, 1);
                    v.tcp_ports.add(t.src_port, 1);
                }
            }
            Transport::Udp(u) => {
                let (from_amp, to_amp) = (
                    amplifier(u.src_port).is_some(),
                    amplifier(u.dst_port).is_some(),
                );
                if from_amp && !to_amp {
                    if let Some(f) = pkt.fragment
                        && f.more
                        && self.frags.len() < self.cfg.max_fragments
                    {
                        self.frags.insert((pkt.src, pkt.dst, f.id), u.src_port);
                    } else if pkt.fragment.is_some_and(|f| f.more) {
                        self.evicted += 1;
                    }
                    self.answer(pkt, u.src_port, wire_len, ts, true);
                } else if to_amp && !from_amp {
                    // The host's own requests: answers to them are not unsolicited.
                    let slot = self.slot(pkt.src);
                    if let Some(r) = self.requests.get_mut(slot) {
                        *r += u64::from(wire_len);
                    }
                }
            }
            Transport::None if pkt.ip_proto == 17 => {
                let Some(f) = pkt.fragment else {
                    return;
                };
                if f.is_first() {
                    return;
                }
                let key = (pkt.src, pkt.dst, f.id);
                if let Some(port) = self
                    .frags
                    .get(&key)
                    .or_else(|| self.frags_prev.get(&key))
                    .copied()
                {
                    self.answer(pkt, port, wire_len, ts, false);
                }
            }
            _ => {}
        }
    }

    /// Counts `wire_len` answer bytes from `port` to `pkt.dst` (`first`: the datagram's first
    /// or only packet).
    fn answer(&mut self, pkt: &Packet, port: u16, wire_len: u32, ts: Timestamp, first: bool) {
        let slot = self.slot(pkt.dst);
        let Some(g) = self.gate.get_mut(slot) else {
            return;
        };
        g.0 += u64::from(wire_len);
        g.1 += u64::from(first);
        let (gate_bytes, gate_datagrams) = *g;
        if gate_bytes < self.gate_bytes && !self.victims.contains_key(&pkt.dst) {
            return; // too little to ever alert (or to matter)
        }
        let Some(v) = self.victim(pkt.dst, ts) else {
            return;
        };
        if v.amp_bytes == 0 {
            // Entering past the gate: start from the slot's counts (an upper bound by at most
            // the gate: other hosts of the slot may have added to them).
            v.amp_first = ts;
            v.amp_bytes = gate_bytes - u64::from(wire_len);
            v.amp_datagrams = gate_datagrams - u64::from(first);
        }
        v.amp_bytes += u64::from(wire_len);
        v.amp_datagrams += u64::from(first);
        v.amp_last = ts;
        if first {
            count_source(&mut v.amp_sources, pkt.src);
            v.amp_top.add(pkt.src, u64::from(wire_len));
            v.amp_ports.add(port, u64::from(wire_len));
        }
    }

    fn tcp_draft(&self, dst: IpAddr, v: &Victim, secs: f64, ts: Timestamp) -> Option<AlertDraft> {
        let r = burst_rate(v.tcp, v.tcp_first, v.tcp_last, secs, self.cfg.tcp_min_rate)?;
        let sources = v.tcp_sources.as_ref()?;
        let n = sources.estimate();
        if r < self.cfg.tcp_min_rate || n < self.cfg.tcp_min_sources {
            return None;
        }
        let over = r / self.cfg.tcp_min_rate;
        let ddos = n >= self.cfg.ddos_min_sources;
        let ports: Vec<u16> = v.tcp_ports.top().iter().map(|(p, _)| *p).collect();
        let approx = if sources.is_estimate() { "about " } else { "" };
        Some(AlertDraft {
            kind: if ddos { kind::DDOS } else { kind::DOS },
            severity: policy::severity(&Impact {
                pps: r,
                ..Impact::new(Family::Volumetric, over)
            }),
            confidence: policy::confidence(over, (n as f64 / 1000.0).min(1.0)),
            ts,
            sources: named_sources(&v.tcp_top.top(), v.tcp),
            targets: vec![dst],
            ports: ports.clone(),
            message: format!(
                "{dst} received {} unsolicited SYN-ACK/RST packets/s from {approx}{} hosts it never contacted (TCP reflection: its address was spoofed in SYNs to them)",
                rate(r),
                count(n)
            ),
            recommendation: format!(
                "filter SYN-ACKs and RSTs that belong to no connection of {dst} at the edge (stateful firewall) and ask the upstream provider to scrub if the link is full; the reflectors are not the attackers"
            ),
            evidence: json!({
                "vector": "tcp_reflection",
                "target": dst,
                "unsolicited": v.tcp,
                "rate": r,
                "burst_secs": v.tcp_last.since(v.tcp_first) as f64 / 1e9,
                "distinct_sources": n,
                "sources_estimated": sources.is_estimate(),
                "source_ports": ports,
                "tcp_min_rate": self.cfg.tcp_min_rate,
            }),
            incident_key: format!("{}|{dst}", kind::DOS),
            magnitude: r,
        })
    }

    fn amp_draft(&self, dst: IpAddr, v: &Victim, secs: f64, ts: Timestamp) -> Option<AlertDraft> {
        let min = self.cfg.amp_min_bytes_per_sec;
        let bps_bytes = burst_rate(v.amp_bytes, v.amp_first, v.amp_last, secs, min)?;
        if bps_bytes < min || v.amp_datagrams == 0 {
            return None;
        }
        let requests = self.requests.get(self.slot(dst)).copied().unwrap_or(0);
        let mean = v.amp_bytes as f64 / v.amp_datagrams as f64;
        let ratio = v.amp_bytes as f64 / requests.max(1) as f64;
        if mean < self.cfg.amp_min_answer_bytes || ratio < self.cfg.amp_min_ratio {
            return None;
        }
        let sources = v.amp_sources.as_ref()?;
        let n = sources.estimate();
        let ports = v.amp_ports.top();
        let (port, _) = ports.first().copied()?;
        let service = amplifier(port).unwrap_or("UDP");
        let dns = port == 53;
        let kind = if dns {
            kind::DNS_AMPLIFICATION
        } else if n >= self.cfg.ddos_min_sources {
            kind::DDOS
        } else {
            kind::DOS
        };
        let over = bps_bytes / min;
        let bps = bps_bytes * 8.0;
        let approx = if sources.is_estimate() { "about " } else { "" };
        let pps = v.amp_datagrams as f64 * (bps_bytes / v.amp_bytes.max(1) as f64);
        Some(AlertDraft {
            kind,
            severity: policy::severity(&Impact {
                pps,
                bps,
                ..Impact::new(Family::Volumetric, over)
            }),
            confidence: policy::confidence(over, (ratio / 100.0).min(1.0)),
            ts,
            sources: named_sources(&v.amp_top.top(), v.amp_bytes),
            targets: vec![dst],
            ports: vec![port],
            message: format!(
                "{dst} received {} of {service} answers (port {port}, {} datagrams averaging {} bytes) from {approx}{} reflectors, {}× what it sent to such ports: {service} amplification",
                bits(bps),
                count(v.amp_datagrams),
                count(mean.round() as u64),
                count(n),
                if requests == 0 {
                    "∞".to_string()
                } else {
                    count(ratio.round() as u64)
                }
            ),
            recommendation: format!(
                "filter UDP from source port {port} towards {dst} upstream and ask the provider to scrub if the link is full; the reflectors are open {service} servers abused with {dst}'s spoofed address"
            ),
            evidence: json!({
                "vector": format!("{}_amplification", service.to_lowercase()),
                "target": dst,
                "answer_bytes": v.amp_bytes,
                "answer_datagrams": v.amp_datagrams,
                "mean_answer_bytes": mean,
                "bytes_per_sec": bps_bytes,
                "request_bytes": requests,
                "amplification_ratio": ratio,
                "distinct_sources": n,
                "sources_estimated": sources.is_estimate(),
                "service_ports": ports.iter().map(|(p, b)| json!({"port": p, "bytes": b})).collect::<Vec<_>>(),
                "amp_min_bytes_per_sec": min,
            }),
            incident_key: if dns {
                format!("{}|{dst}", kind::DNS_AMPLIFICATION)
            } else {
                format!("{}|{dst}", kind::DOS)
            },
            magnitude: bps,
        })
    }
}

impl Detector for Reflection {
    fn name(&self) -> &'static str {
        NAME
    }

    fn wants_packets(&self) -> bool {
        true
    }

    fn wants_routine(&self) -> bool {
        false // handshakes, probes and answers nobody asked for: never a routine segment
    }

    #[inline]
    fn on_packet(&mut self, pkt: &Packet, wire_len: u32, ts: Timestamp) {
        self.observe(pkt, wire_len, ts, None);
    }

    #[inline]
    fn on_flow_packet(
        &mut self,
        pkt: &Packet,
        wire_len: u32,
        ts: Timestamp,
        flow: Option<&Ingested>,
    ) {
        self.observe(pkt, wire_len, ts, flow);
    }

    fn on_interval(&mut self, m: &IntervalMetrics, out: &mut Vec<AlertDraft>) {
        let secs = interval_secs(m);
        let ts = m.end_ts();
        let mut found: Vec<AlertDraft> = Vec::new();
        for (dst, v) in &self.victims {
            if let Some(d) = self.tcp_draft(*dst, v, secs, ts) {
                found.push(d);
            }
            if let Some(d) = self.amp_draft(*dst, v, secs, ts) {
                found.push(d);
            }
        }
        super::worst_first(&mut found);
        out.extend(found);
        self.victims.clear();
        self.gate.fill((0, 0));
        self.requests.fill(0);
        self.frags_prev = std::mem::replace(&mut self.frags, new_map());
    }

    fn evictions(&self) -> u64 {
        self.evicted
    }

    fn tracked(&self) -> usize {
        self.victims.len() + self.frags.len() + self.frags_prev.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{at, in_flow, interval, ip, tcp, udp};
    use std::net::Ipv4Addr;
    use wirewatch_core::Severity;
    use wirewatch_decode::Fragment;

    fn flow(new_flow: bool) -> Ingested {
        in_flow(new_flow, false, false)
    }

    fn close(d: &mut Reflection, i: u64) -> Vec<AlertDraft> {
        let mut out = Vec::new();
        d.on_interval(&interval(i, 0, 0), &mut out);
        out
    }

    fn reflector(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0xc633_0000 + n))
    }

    #[test]
    fn thousands_of_unsolicited_syn_acks_in_a_fraction_of_a_second_are_a_ddos() {
        let mut d = Reflection::new(&Config::default()).unwrap();
        for n in 0..2500u32 {
            let mut p = tcp(
                "0.0.0.0",
                443,
                "10.1.0.7",
                1024 + (n % 5000) as u16,
                SYN | ACK,
            );
            p.src = reflector(n);
            d.on_flow_packet(&p, 60, at(0.3 + f64::from(n) * 0.00004), Some(&flow(true)));
        }
        let out = close(&mut d, 0);
        assert_eq!(out.len(), 1, "{out:?}");
        let a = &out[0];
        assert_eq!(a.kind, "ddos");
        assert_eq!(a.targets, vec![ip("10.1.0.7")]);
        assert_eq!(a.evidence["vector"], "tcp_reflection");
        // 2,500 in 0.1 s: judged at 25,000/s, not 2,500/s.
        let r = a.evidence["rate"].as_f64().unwrap();
        assert!((24_000.0..26_000.0).contains(&r), "{r}");
        assert_eq!(a.severity, Severity::Critical);
        assert!(a.message.contains("TCP reflection"), "{}", a.message);
    }

    #[test]
    fn syn_acks_of_connections_it_opened_are_not_reflection() {
        let mut d = Reflection::new(&Config::default()).unwrap();
        for n in 0..2500u32 {
            let mut p = tcp(
                "0.0.0.0",
                443,
                "10.1.0.7",
                1024 + (n % 5000) as u16,
                SYN | ACK,
            );
            p.src = reflector(n);
            // The SYN was seen: the SYN-ACK continues a known flow.
            d.on_flow_packet(&p, 60, at(0.3), Some(&flow(false)));
        }
        assert!(close(&mut d, 0).is_empty());
    }

    fn big_answer(d: &mut Reflection, from: IpAddr, id: u32, ts: Timestamp) {
        let mut first = udp("0.0.0.0", 53, "10.1.0.7", 40_000);
        first.src = from;
        first.fragment = Some(Fragment {
            id,
            offset: 0,
            more: true,
        });
        d.on_flow_packet(&first, 1514, ts, Some(&flow(true)));
        for (k, more) in [(1, true), (2, false)] {
            let mut frag = Packet {
                transport: Transport::None,
                fragment: Some(Fragment {
                    id,
                    offset: 1480 * k,
                    more,
                }),
                ..first
            };
            frag.payload_len = 1480;
            d.on_flow_packet(&frag, 1514, ts, None);
        }
    }

    #[test]
    fn fragmented_dns_answers_count_with_their_datagram() {
        let mut d = Reflection::new(&Config::default()).unwrap();
        // 200 answers of 3 fragments (4.5 KB) from 40 resolvers in 0.5 s: 1.8 MB/s.
        for n in 0..200u32 {
            big_answer(
                &mut d,
                reflector(n % 40),
                n,
                at(0.2 + f64::from(n) * 0.0025),
            );
        }
        let out = close(&mut d, 0);
        assert_eq!(out.len(), 1, "{out:?}");
        let a = &out[0];
        assert_eq!(a.kind, "dns_amplification");
        assert_eq!(a.ports, vec![53]);
        assert_eq!(a.incident_key, "dns_amplification|10.1.0.7");
        assert_eq!(a.evidence["answer_bytes"], 200 * 3 * 1514);
        assert_eq!(a.evidence["answer_datagrams"], 200);
    }

    #[test]
    fn answers_to_its_own_queries_are_not_amplification() {
        let mut d = Reflection::new(&Config::default()).unwrap();
        for n in 0..2000u32 {
            let mut q = udp("10.1.0.7", 40_000, "0.0.0.0", 53);
            q.dst = reflector(n % 10);
            d.on_flow_packet(&q, 300, at(0.1), Some(&flow(true)));
            let mut a = udp("0.0.0.0", 53, "10.1.0.7", 40_000);
            a.src = reflector(n % 10);
            d.on_flow_packet(&a, 900, at(0.1), Some(&flow(false)));
        }
        assert!(close(&mut d, 0).is_empty(), "3× answers for queries sent");
    }

    #[test]
    fn other_vectors_are_dos_or_ddos_by_reflector_count() {
        let mut d = Reflection::new(&Config::default()).unwrap();
        for n in 0..1000u32 {
            let mut a = udp("0.0.0.0", 123, "10.1.0.9", 40_000);
            a.src = reflector(n % 3);
            d.on_flow_packet(&a, 482, at(0.5), Some(&flow(false)));
        }
        let out = close(&mut d, 0);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].kind, "dos");
        assert_eq!(out[0].evidence["vector"], "ntp_amplification");
    }

    #[test]
    fn victims_and_fragments_are_bounded() {
        let cfg = Config {
            max_victims: 10,
            max_fragments: 5,
            ..Config::default()
        };
        let mut d = Reflection::new(&cfg).unwrap();
        for n in 0..100u32 {
            let mut p = tcp("198.51.100.1", 443, "0.0.0.0", 4000, SYN | ACK);
            p.dst = reflector(n);
            d.on_flow_packet(&p, 60, at(0.1), Some(&flow(true)));
        }
        assert_eq!(d.tracked(), 10);
        assert_eq!(d.evictions(), 90);
        close(&mut d, 0);
        for n in 0..20 {
            big_answer(&mut d, reflector(1), n, at(1.1));
        }
        assert_eq!(d.frags.len(), 5);
        assert_eq!(d.evictions(), 105);
    }
}
