//! DNS tunnels and DNS amplification.
//!
//! # What it detects
//!
//! `dns_tunnel`: a host carrying data in DNS query names (iodine, dnscat2, dns2tcp, malware
//! exfiltration): many queries under one domain whose leftmost labels are long and random
//! (high entropy, or raw binary bytes). `dns_amplification`: a host receiving large DNS
//! responses it did not ask for, at a high byte rate (reflection attacks with `ANY` or DNSSEC
//! answers from open resolvers).
//!
//! # Signal
//!
//! Every DNS message on port 53 (UDP, or the first message of a TCP segment), decoded by
//! `wirewatch_decode::app::dns`. Per (source, base domain = the last two labels) over a sliding
//! window: queries, mean length of the part left of the base domain, mean Shannon entropy of
//! it, and the share of names with non-printable bytes. Per destination and interval: response
//! bytes and count, and the queries it sent itself.
//!
//! # Thresholds
//!
//! Tunnel: at least `tunnel_min_queries` (20) queries under one base domain within
//! `tunnel_window_secs` (60) whose left part averages at least `tunnel_min_subdomain_len` (24)
//! bytes and either `tunnel_min_entropy` (3.5 bits/byte) or `tunnel_min_binary_share` (10 %)
//! of names with raw binary bytes. Amplification: at least `amp_min_bytes_per_sec` (2 MB/s) of
//! responses averaging at least `amp_min_response_size` (700) bytes to one destination, which
//! sent fewer than `amp_max_query_ratio` (10 %) as many queries as it received responses.
//! Bounded: `max_keys` (4,096) tunnel keys and `max_destinations` (4,096) per interval; what
//! they turn away is counted.
//!
//! # False positives
//!
//! CDNs and anti-virus or reputation services that encode hashes in query names
//! (`<sha>.avqs.mcafee.com`), DNS-based service discovery with long instance names, and DKIM
//! lookups. A large resolver's legitimate answers to a NAT gateway can look unsolicited when
//! only one direction is captured.
//!
//! # Recommended action
//!
//! Tunnel: look at the source host (malware, or a user bypassing the firewall), block the
//! domain at the resolver, and allow outbound DNS only from the local resolvers. Amplification:
//! the target is being flooded through open resolvers — rate-limit or filter UDP from port 53
//! towards it upstream, and check that your own resolvers are not open to the Internet.

use super::check;
use crate::policy::{self, Family, Impact};
use crate::sketch::{Map, new_map};
use crate::{AlertDraft, DetectError, Detector, kind};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::VecDeque;
use std::net::IpAddr;
use wirewatch_core::time::NANOS_PER_SEC;
use wirewatch_core::{IntervalMetrics, Timestamp};
use wirewatch_decode::Packet;
use wirewatch_decode::app::dns::{DnsMessage, DnsName, name_entropy};

/// DNS detector settings.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Run this detector.
    pub enabled: bool,
    /// Queries under one base domain within the window from which a tunnel may be reported.
    pub tunnel_min_queries: u32,
    /// The sliding window, seconds.
    pub tunnel_window_secs: u64,
    /// Mean length (bytes) of the part left of the base domain.
    pub tunnel_min_subdomain_len: f64,
    /// Mean Shannon entropy (bits per byte) of that part.
    pub tunnel_min_entropy: f64,
    /// Share of names carrying raw binary bytes that is enough instead of the entropy (0–1).
    pub tunnel_min_binary_share: f64,
    /// Response bytes per second to one destination from which amplification may be reported.
    pub amp_min_bytes_per_sec: f64,
    /// Mean response size (bytes).
    pub amp_min_response_size: f64,
    /// Queries the destination sent per response it received, below which they are unsolicited.
    pub amp_max_query_ratio: f64,
    /// (source, base domain) pairs tracked.
    pub max_keys: usize,
    /// Destinations tracked per interval for amplification.
    pub max_destinations: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            tunnel_min_queries: 20,
            tunnel_window_secs: 60,
            tunnel_min_subdomain_len: 24.0,
            tunnel_min_entropy: 3.5,
            tunnel_min_binary_share: 0.1,
            amp_min_bytes_per_sec: 2e6,
            amp_min_response_size: 700.0,
            amp_max_query_ratio: 0.1,
            max_keys: 4096,
            max_destinations: 4096,
        }
    }
}

/// Queries kept per key for the window (older ones leave the averages).
const MAX_KEPT: usize = 512;

#[derive(Debug, Clone, Copy)]
struct Query {
    ts: Timestamp,
    left_len: u16,
    entropy: f32,
    binary: bool,
}

#[derive(Debug, Default)]
struct Key {
    queries: VecDeque<Query>,
    example: Option<DnsName>,
    dirty: bool,
}

#[derive(Debug, Default, Clone, Copy)]
struct Dst {
    response_bytes: u64,
    responses: u64,
    queries_sent: u64,
}

/// The DNS detector.
#[derive(Debug)]
pub struct Dns {
    cfg: Config,
    keys: Map<(IpAddr, Vec<u8>), Key>,
    dsts: Map<IpAddr, Dst>,
    window_ns: u64,
    evicted: u64,
}

impl Dns {
    /// A detector with validated settings.
    pub fn new(cfg: &Config) -> Result<Self, DetectError> {
        let s = "dns";
        check(
            s,
            "tunnel_min_queries",
            f64::from(cfg.tunnel_min_queries),
            cfg.tunnel_min_queries > 0,
            "must be at least 1",
        )?;
        check(
            s,
            "tunnel_window_secs",
            cfg.tunnel_window_secs as f64,
            cfg.tunnel_window_secs > 0,
            "must be at least 1",
        )?;
        check(
            s,
            "tunnel_min_binary_share",
            cfg.tunnel_min_binary_share,
            (0.0..=1.0).contains(&cfg.tunnel_min_binary_share),
            "must be 0–1",
        )?;
        check(
            s,
            "amp_max_query_ratio",
            cfg.amp_max_query_ratio,
            cfg.amp_max_query_ratio >= 0.0,
            "must be ≥ 0",
        )?;
        Ok(Dns {
            cfg: cfg.clone(),
            keys: new_map(),
            dsts: new_map(),
            window_ns: cfg.tunnel_window_secs.saturating_mul(NANOS_PER_SEC),
            evicted: 0,
        })
    }

    fn query(&mut self, pkt: &Packet, name: &DnsName, ts: Timestamp) {
        let bytes = name.as_bytes();
        // The base domain: the last two labels (an approximation of the registered domain).
        let dots: Vec<usize> = bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'.')
            .map(|(i, _)| i)
            .collect();
        if dots.len() < 2 {
            return;
        }
        let split = dots.get(dots.len() - 2).copied().unwrap_or(0);
        let (left, base) = (
            bytes.get(..split).unwrap_or(&[]),
            bytes.get(split + 1..).unwrap_or(&[]),
        );
        let key = (pkt.src, base.to_ascii_lowercase());
        if !self.keys.contains_key(&key) && self.keys.len() >= self.cfg.max_keys {
            self.evicted += 1;
            return;
        }
        let left_name = DnsName::from_labels(left.split(|b| *b == b'.'));
        let q = Query {
            ts,
            left_len: u16::try_from(left.len()).unwrap_or(u16::MAX),
            entropy: name_entropy(&left_name) as f32,
            binary: left.iter().any(|b| !(0x20..0x7f).contains(b)),
        };
        let k = self.keys.entry(key).or_default();
        if k.queries.len() >= MAX_KEPT {
            k.queries.pop_front();
        }
        k.queries.push_back(q);
        k.example.get_or_insert_with(|| name.clone());
        k.dirty = true;
    }

    fn dst(&mut self, ip: IpAddr) -> Option<&mut Dst> {
        if !self.dsts.contains_key(&ip) && self.dsts.len() >= self.cfg.max_destinations {
            self.evicted += 1;
            return None;
        }
        Some(self.dsts.entry(ip).or_default())
    }
}

impl Detector for Dns {
    fn name(&self) -> &'static str {
        "dns"
    }

    fn wants_dns(&self) -> bool {
        true
    }

    fn on_dns(&mut self, pkt: &Packet, msg: &DnsMessage, wire_len: u32, ts: Timestamp) {
        if msg.response {
            if let Some(d) = self.dst(pkt.dst) {
                d.responses += 1;
                d.response_bytes += u64::from(wire_len);
            }
        } else {
            if let Some(d) = self.dst(pkt.src) {
                d.queries_sent += 1;
            }
            if let Some(q) = msg.questions.first() {
                let name = q.name.clone();
                self.query(pkt, &name, ts);
            }
        }
    }

    fn on_interval(&mut self, m: &IntervalMetrics, out: &mut Vec<AlertDraft>) {
        let now = m.end_ts();
        let start = Timestamp(now.nanos().saturating_sub(self.window_ns));
        let c = &self.cfg;
        let mut empty = Vec::new();
        for ((src, base), k) in self.keys.iter_mut() {
            while k.queries.front().is_some_and(|q| q.ts < start) {
                k.queries.pop_front();
            }
            if k.queries.is_empty() {
                empty.push((*src, base.clone()));
                continue;
            }
            if !std::mem::take(&mut k.dirty) {
                continue;
            }
            let n = k.queries.len();
            if n < c.tunnel_min_queries as usize {
                continue;
            }
            let nf = n as f64;
            let mean_len = k.queries.iter().map(|q| f64::from(q.left_len)).sum::<f64>() / nf;
            let mean_entropy = k.queries.iter().map(|q| f64::from(q.entropy)).sum::<f64>() / nf;
            let binary_share = k.queries.iter().filter(|q| q.binary).count() as f64 / nf;
            if mean_len < c.tunnel_min_subdomain_len
                || (mean_entropy < c.tunnel_min_entropy && binary_share < c.tunnel_min_binary_share)
            {
                continue;
            }
            let base_text = DnsName::from_labels(base.split(|b| *b == b'.'))
                .to_string_lossy()
                .into_owned();
            let example = k
                .example
                .as_ref()
                .map(|e| e.to_string_lossy().into_owned())
                .unwrap_or_default();
            let over = nf / f64::from(c.tunnel_min_queries);
            out.push(AlertDraft {
                kind: kind::DNS_TUNNEL,
                severity: policy::severity(&Impact::new(
                    Family::Exfiltration,
                    over,
                )),
                confidence: (0.6 + 0.1 * over.min(3.5)).min(0.95),
                ts: now,
                sources: vec![*src],
                targets: Vec::new(),
                ports: vec![53],
                message: format!(
                    "{src} sent {n} DNS queries under {base_text} in {} s with {mean_len:.0}-byte random-looking names ({mean_entropy:.1} bits/byte, {:.0}% binary), e.g. {example}",
                    c.tunnel_window_secs,
                    binary_share * 100.0
                ),
                recommendation: format!(
                    "inspect {src} for tunnelling software or malware; block {base_text} at the resolver and allow outbound DNS only from your resolvers"
                ),
                evidence: json!({
                    "base_domain": base_text, "queries_in_window": n, "mean_subdomain_len": mean_len,
                    "mean_entropy": mean_entropy, "binary_share": binary_share, "example": example,
                    "min_queries": c.tunnel_min_queries, "min_subdomain_len": c.tunnel_min_subdomain_len,
                    "min_entropy": c.tunnel_min_entropy,
                }),
                incident_key: format!("{}|{src}|{base_text}", kind::DNS_TUNNEL),
                magnitude: nf,
            });
        }
        for k in empty {
            self.keys.remove(&k);
        }
        let secs = super::interval_secs(m);
        for (dst, d) in self.dsts.drain() {
            let rate = d.response_bytes as f64 / secs;
            let mean = d.response_bytes as f64 / d.responses.max(1) as f64;
            if rate >= c.amp_min_bytes_per_sec
                && mean >= c.amp_min_response_size
                && (d.queries_sent as f64) < c.amp_max_query_ratio * d.responses as f64
            {
                let over = rate / c.amp_min_bytes_per_sec;
                out.push(AlertDraft {
                    kind: kind::DNS_AMPLIFICATION,
                    severity: policy::severity(&Impact {
                        bps: rate * 8.0,
                        pps: d.responses as f64 / secs,
                        ..Impact::new(Family::Volumetric, over)
                    }),
                    confidence: policy::confidence(over, 0.5),
                    ts: now,
                    sources: Vec::new(),
                    targets: vec![dst],
                    ports: vec![53],
                    message: format!(
                        "{dst} received {:.1} MB/s of DNS responses ({} responses, {mean:.0} bytes each) after sending {} queries",
                        rate / 1e6, d.responses, d.queries_sent
                    ),
                    recommendation: format!(
                        "filter or rate-limit UDP from port 53 towards {dst} upstream; make sure your own resolvers only answer your clients"
                    ),
                    evidence: json!({"response_bytes_per_sec": rate, "responses": d.responses, "mean_response_size": mean, "queries_sent": d.queries_sent, "min_bytes_per_sec": c.amp_min_bytes_per_sec}),
                    incident_key: format!("{}|{dst}", kind::DNS_AMPLIFICATION),
                    magnitude: rate,
                });
            }
        }
    }

    fn evictions(&self) -> u64 {
        self.evicted
    }

    fn tracked(&self) -> usize {
        self.keys.len() + self.dsts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{at, interval, ip, udp};
    use wirewatch_decode::app::dns::DnsQuestion;

    fn query(name: &str) -> DnsMessage {
        DnsMessage {
            id: 1,
            response: false,
            opcode: 0,
            rcode: 0,
            truncated: false,
            question_count: 1,
            answer_count: 0,
            questions: vec![DnsQuestion {
                name: DnsName::from_labels(name.split('.').map(str::as_bytes)),
                qtype: 16,
                qclass: 1,
            }],
            answers: Vec::new(),
            error: None,
        }
    }

    fn close(d: &mut Dns, i: u64) -> Vec<AlertDraft> {
        let mut out = Vec::new();
        d.on_interval(&interval(i, 0, 0), &mut out);
        out
    }

    #[test]
    fn random_subdomains_under_one_domain_are_a_tunnel() {
        let mut d = Dns::new(&Config::default()).unwrap();
        let p = udp("10.0.0.5", 40000, "10.0.0.53", 53);
        for i in 0..30u32 {
            let label = format!(
                "{:08x}{:08x}{:08x}q7zk",
                i.wrapping_mul(2_654_435_761),
                i ^ 0x5bd1_e995,
                i.rotate_left(13)
            );
            d.on_dns(
                &p,
                &query(&format!("{label}.t.exfil.example")),
                120,
                at(0.5),
            );
        }
        let out = close(&mut d, 0);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].kind, "dns_tunnel");
        assert_eq!(out[0].sources, vec![ip("10.0.0.5")]);
        assert!(
            out[0]
                .message
                .contains("30 DNS queries under exfil.example"),
            "{}",
            out[0].message
        );
    }

    #[test]
    fn ordinary_lookups_are_not() {
        let mut d = Dns::new(&Config::default()).unwrap();
        let p = udp("10.0.0.5", 40000, "10.0.0.53", 53);
        for i in 0..200 {
            let name = ["www.example.com", "mail.example.com", "api.example.com"][i % 3];
            d.on_dns(&p, &query(name), 80, at(0.5));
        }
        assert!(close(&mut d, 0).is_empty());
    }

    #[test]
    fn large_unsolicited_responses_are_amplification() {
        let mut d = Dns::new(&Config::default()).unwrap();
        let mut resp = query("isc.org");
        resp.response = true;
        let p = udp("198.51.100.1", 53, "10.0.0.9", 40000);
        for _ in 0..1000 {
            d.on_dns(&p, &resp, 3000, at(0.5));
        }
        let out = close(&mut d, 0);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].kind, "dns_amplification");
        assert_eq!(out[0].targets, vec![ip("10.0.0.9")]);
        // The same volume that the host asked for is a download, not an attack.
        let q = udp("10.0.0.9", 40000, "198.51.100.1", 53);
        for _ in 0..1000 {
            d.on_dns(&q, &query("isc.org"), 80, at(1.5));
            d.on_dns(&p, &resp, 3000, at(1.5));
        }
        assert!(close(&mut d, 1).is_empty());
    }
}
