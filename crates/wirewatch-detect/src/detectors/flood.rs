//! ICMP and UDP floods against one destination (and ICMP floods over the whole network).
//!
//! # What it detects
//!
//! `icmp_flood`: ping floods (`ping -f`, `hping3 --icmp --flood`) and ICMP storms against one
//! host, or network-wide. `udp_flood`: UDP floods against one host — direct (`hping3 --udp`,
//! game-server and VoIP floods) or reflected and amplified (answers of DNS, NTP, SSDP, memcached
//! servers the attacker tricked into answering the victim).
//!
//! # Signal
//!
//! From every packet, per destination and protocol (ICMP/ICMPv6 or UDP) and interval: packets
//! and bytes in each direction of the exchange, echo requests, distinct sources (exact up to 8,
//! then a HyperLogLog), the heaviest sources, destination ports and UDP source ports (a single
//! well-known source port such as 53 or 123 means reflection). What counts against the
//! thresholds is the *unsolicited* traffic: packets towards the destination's services (UDP to a
//! port no higher than the source port, ICMP requests) plus the replies it received beyond the
//! requests it sent — so a host that pings or queries others is not flooded by their answers,
//! and a reflection victim is. ICMP errors, IPv6 neighbour discovery and multicast listener
//! messages are not counted. Globally, the ICMP and ICMPv6 counts of the interval metrics.
//!
//! # Thresholds
//!
//! `icmp_flood`: ≥ `icmp_pps` (1,000) ICMP packets/s to one destination, or ≥ `icmp_total_pps`
//! (5,000) over the network in intervals where no destination alerted. `udp_flood`: ≥ `udp_pps`
//! (10,000) UDP packets/s to one destination from any sources, or ≥ `udp_distributed_pps`
//! (2,000) from at least `udp_min_sources` (50) distinct sources. Severity grows with the rate
//! over the threshold. At most `max_destinations` (10,000) destination/protocol pairs are counted
//! per interval; further packets are counted as dropped ([`Detector::evictions`]).
//!
//! # False positives
//!
//! `icmp_flood`: monitoring systems that ping aggressively, traceroute storms, ICMP errors in
//! answer to another flood. `udp_flood`: large single-source UDP streams (QUIC downloads, VPN
//! tunnels, video, backup over UDP) above 10,000 packets/s; busy DNS resolvers or game servers
//! with thousands of clients above 2,000 packets/s. Raise the thresholds for such hosts, or
//! suppress `udp_flood` for their address.
//!
//! # Recommended action
//!
//! Rate-limit ICMP (or the flooded UDP port) to the target at the edge, block the sources if
//! they are few; for reflected floods, block the reflecting source port and ask the upstream
//! provider to filter.

use super::{active_secs, burst_rate, check, interval_secs};
use crate::policy::{self, Family, Impact};
use crate::present::{bits, count, endpoint, pct, rate};
use crate::sketch::{Map, SourceCounter, TopK, named_sources, new_map};
use crate::{AlertDraft, DetectError, Detector, kind};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::hash_map::Entry;
use std::net::IpAddr;
use wirewatch_core::{IntervalMetrics, Timestamp};
use wirewatch_decode::{Packet, Transport};

/// UDP source ports of services abused for reflection and amplification.
const REFLECTION_PORTS: [u16; 10] = [17, 19, 53, 123, 161, 389, 1900, 3702, 11211, 5353];

/// ICMP / UDP flood detector settings.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Run this detector.
    pub enabled: bool,
    /// ICMP packets/s to one destination from which it alerts (a normal ping is 1/s).
    pub icmp_pps: f64,
    /// ICMP packets/s over the whole network from which it alerts.
    pub icmp_total_pps: f64,
    /// UDP packets/s to one destination from which it alerts, whatever the sources.
    pub udp_pps: f64,
    /// UDP packets/s to one destination from which it alerts when they come from many sources.
    pub udp_distributed_pps: f64,
    /// Distinct sources that make a UDP flood "distributed".
    pub udp_min_sources: u64,
    /// Destination/protocol pairs counted per interval (about 300 bytes each: 10,000 ≈ 3 MB).
    pub max_destinations: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            icmp_pps: 1000.0,
            icmp_total_pps: 5000.0,
            udp_pps: 10_000.0,
            udp_distributed_pps: 2000.0,
            udp_min_sources: 50,
            max_destinations: 10_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Proto {
    Icmp,
    Udp,
}

/// Which way a packet goes in its exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    /// Towards a service (UDP to a port no higher than the source port; ICMP requests).
    Request,
    /// Back from a service (UDP from the lower port; echo/timestamp/information replies).
    Reply,
}

#[derive(Debug, Clone)]
struct Dst {
    packets: u64,
    bytes: u64,
    echo_requests: u64,
    /// Packets received going towards the destination's services.
    requests_in: u64,
    /// Reply-direction packets received (solicited by the destination's own requests, or a
    /// reflection flood).
    replies_in: u64,
    /// Request-direction packets the destination sent (while it had an entry).
    requests_out: u64,
    /// Reply-direction packets the destination sent (answers to what it received).
    replies_out: u64,
    sources: SourceCounter,
    top_sources: TopK<IpAddr, 4>,
    ports: TopK<u16, 4>,
    src_ports: TopK<u16, 2>,
    /// First and last packet to it in the interval: rates are taken over this span, so a
    /// burst of a fraction of a second is judged at its own rate.
    first: Timestamp,
    last: Timestamp,
}

/// The ICMP / UDP flood detector.
#[derive(Debug)]
pub struct Flood {
    cfg: Config,
    dsts: Map<(IpAddr, Proto), Dst>,
    dropped: u64,
}

/// Whether an ICMPv6 type is neighbour discovery or multicast listener signalling (normal
/// background of every IPv6 link).
fn is_ndp_or_mld(icmp_type: u8) -> bool {
    matches!(icmp_type, 130..=137 | 143)
}

impl Dst {
    /// Packets counted against the flood thresholds: everything sent towards the destination's
    /// services, plus the replies it received beyond the requests it sent itself (a host
    /// pinging or querying others gets its answers back; a reflection victim gets answers it
    /// never asked for).
    fn unsolicited(&self) -> u64 {
        self.requests_in + self.replies_in.saturating_sub(self.requests_out)
    }
}

impl Flood {
    /// A detector with validated settings.
    pub fn new(cfg: &Config) -> Result<Self, DetectError> {
        let s = "flood";
        check(
            s,
            "icmp_pps",
            cfg.icmp_pps,
            cfg.icmp_pps > 0.0,
            "must be > 0",
        )?;
        check(
            s,
            "icmp_total_pps",
            cfg.icmp_total_pps,
            cfg.icmp_total_pps > 0.0,
            "must be > 0",
        )?;
        check(s, "udp_pps", cfg.udp_pps, cfg.udp_pps > 0.0, "must be > 0")?;
        check(
            s,
            "udp_distributed_pps",
            cfg.udp_distributed_pps,
            cfg.udp_distributed_pps > 0.0,
            "must be > 0",
        )?;
        Ok(Flood {
            cfg: cfg.clone(),
            dsts: new_map(),
            dropped: 0,
        })
    }

    /// Destination/protocol pairs counted in the open interval.
    pub fn tracked_destinations(&self) -> usize {
        self.dsts.len()
    }

    fn icmp_draft(&self, dst: IpAddr, e: &Dst, secs: f64, ts: Timestamp) -> Option<AlertDraft> {
        let pps = burst_rate(e.unsolicited(), e.first, e.last, secs, self.cfg.icmp_pps)?;
        let secs = active_secs(e.first, e.last, secs);
        if pps < self.cfg.icmp_pps {
            return None;
        }
        let over = pps / self.cfg.icmp_pps;
        let sources = e.sources.estimate();
        let approx = if e.sources.is_estimate() {
            "about "
        } else {
            ""
        };
        let tops = e.top_sources.top();
        let answered = if e.echo_requests > 0 {
            format!(
                ", {} answered",
                pct(e.replies_out as f64 / e.echo_requests as f64)
            )
        } else {
            String::new()
        };
        let message = format!(
            "{dst} received {} ICMP packets/s ({} echo requests/s) from {approx}{} source{}{answered}",
            rate(pps),
            rate(e.echo_requests as f64 / secs),
            count(sources),
            if sources == 1 { "" } else { "s" },
        );
        let list: Vec<String> = named_sources(&tops, e.packets)
            .iter()
            .map(IpAddr::to_string)
            .collect();
        let recommendation = if sources > 20 || list.is_empty() {
            format!(
                "rate-limit ICMP to {dst} at the edge (a few hundred packets/s is plenty); the {} sources are too many to block one by one",
                count(sources)
            )
        } else {
            format!(
                "rate-limit ICMP to {dst} at the edge and block {}",
                list.join(", ")
            )
        };
        Some(AlertDraft {
            kind: kind::ICMP_FLOOD,
            severity: policy::severity(&Impact {
                pps,
                ..Impact::new(Family::Volumetric, over)
            }),
            confidence: policy::confidence(over, 0.0),
            ts,
            sources: named_sources(&tops, e.packets),
            targets: vec![dst],
            ports: Vec::new(),
            message,
            recommendation,
            evidence: json!({
                "target": dst,
                "pps": pps,
                "bps": e.bytes as f64 * 8.0 / secs,
                "packets": e.packets,
                "echo_requests": e.echo_requests,
                "echo_replies_sent": e.replies_out,
                "replies_received": e.replies_in,
                "requests_sent": e.requests_out,
                "distinct_sources": sources,
                "sources_estimated": e.sources.is_estimate(),
                "top_sources": tops.iter().map(|(ip, n)| json!({"ip": ip, "packets": n})).collect::<Vec<_>>(),
                "icmp_pps": self.cfg.icmp_pps,
            }),
            incident_key: format!("{}|{dst}", kind::ICMP_FLOOD),
            magnitude: pps,
        })
    }

    fn udp_draft(&self, dst: IpAddr, e: &Dst, secs: f64, ts: Timestamp) -> Option<AlertDraft> {
        let sources = e.sources.estimate();
        let distributed = sources >= self.cfg.udp_min_sources;
        let threshold = if distributed {
            self.cfg.udp_distributed_pps.min(self.cfg.udp_pps)
        } else {
            self.cfg.udp_pps
        };
        let pps = burst_rate(e.unsolicited(), e.first, e.last, secs, threshold)?;
        let secs = active_secs(e.first, e.last, secs);
        if pps < threshold {
            return None;
        }
        let over = pps / threshold;
        let ports = e.ports.top();
        let main_ports: Vec<u16> = ports
            .iter()
            .filter(|(_, c)| *c as f64 >= 0.1 * e.packets as f64)
            .map(|(p, _)| *p)
            .collect();
        let single_port = match main_ports.as_slice() {
            [p] => Some(*p),
            _ => None,
        };
        let reflector = e
            .src_ports
            .first()
            .filter(|(p, c)| REFLECTION_PORTS.contains(p) && *c as f64 >= 0.8 * e.packets as f64)
            .map(|(p, _)| p);
        let approx = if e.sources.is_estimate() {
            "about "
        } else {
            ""
        };
        let via = reflector.map_or_else(String::new, |p| {
            format!(" (answers from source port {p}: reflection/amplification)")
        });
        let message = format!(
            "{} received {} UDP packets/s ({}) from {approx}{} source{}{via}",
            endpoint(dst, single_port),
            rate(pps),
            bits(e.bytes as f64 * 8.0 / secs),
            count(sources),
            if sources == 1 { "" } else { "s" },
        );
        let tops = e.top_sources.top();
        let list: Vec<String> = named_sources(&tops, e.packets)
            .iter()
            .map(IpAddr::to_string)
            .collect();
        let target = endpoint(dst, single_port);
        let recommendation = match reflector {
            Some(p) => format!(
                "block UDP from source port {p} to {dst} at the edge and ask the upstream provider to filter the reflected traffic; make sure your own servers are not open reflectors"
            ),
            None if distributed || list.is_empty() => format!(
                "rate-limit UDP to {target} at the edge and ask the upstream provider to filter; the {} sources are too many to block one by one",
                count(sources)
            ),
            None => format!(
                "block or rate-limit UDP from {} to {target} at the edge",
                list.join(", ")
            ),
        };
        Some(AlertDraft {
            kind: kind::UDP_FLOOD,
            severity: policy::severity(&Impact {
                pps,
                ..Impact::new(Family::Volumetric, over)
            }),
            confidence: policy::confidence(over, 0.0),
            ts,
            sources: named_sources(&tops, e.packets),
            targets: vec![dst],
            ports: main_ports,
            message,
            recommendation,
            evidence: json!({
                "target": dst,
                "pps": pps,
                "bps": e.bytes as f64 * 8.0 / secs,
                "distinct_sources": sources,
                "sources_estimated": e.sources.is_estimate(),
                "top_sources": tops.iter().map(|(ip, n)| json!({"ip": ip, "packets": n})).collect::<Vec<_>>(),
                "top_ports": ports.iter().map(|(p, n)| json!({"port": p, "packets": n})).collect::<Vec<_>>(),
                "reflection_source_port": reflector,
                "packets": e.packets,
                "replies_received": e.replies_in,
                "requests_sent": e.requests_out,
                "replies_sent": e.replies_out,
                "threshold_pps": threshold,
            }),
            incident_key: format!("{}|{dst}", kind::UDP_FLOOD),
            magnitude: pps,
        })
    }

    fn global_icmp(&self, m: &IntervalMetrics, secs: f64) -> Option<AlertDraft> {
        let icmp = m.protocols.icmp + m.protocols.icmpv6;
        let pps = icmp as f64 / secs;
        if pps < self.cfg.icmp_total_pps {
            return None;
        }
        let over = pps / self.cfg.icmp_total_pps;
        Some(AlertDraft {
            kind: kind::ICMP_FLOOD,
            severity: policy::severity(&Impact {
                pps,
                ..Impact::new(Family::Volumetric, over)
            }),
            confidence: policy::confidence(over, 0.0),
            ts: m.end_ts(),
            sources: Vec::new(),
            // Network-wide: the interval's top talkers may be bystanders, so nobody is named.
            targets: Vec::new(),
            ports: Vec::new(),
            message: format!(
                "{} ICMP packets/s across the network ({} of all packets); no single destination stands out",
                rate(pps),
                pct(icmp as f64 / m.packets.max(1) as f64)
            ),
            recommendation: "rate-limit ICMP at the edge; look at the top sources for a host sweeping or flooding the network".into(),
            evidence: json!({
                "icmp_packets": m.protocols.icmp,
                "icmpv6_packets": m.protocols.icmpv6,
                "pps": pps,
                "icmp_total_pps": self.cfg.icmp_total_pps,
            }),
            incident_key: format!("{}|*", kind::ICMP_FLOOD),
            magnitude: pps,
        })
    }
}

impl Detector for Flood {
    fn name(&self) -> &'static str {
        "flood"
    }

    fn wants_packets(&self) -> bool {
        true
    }

    #[inline]
    fn on_packet(&mut self, pkt: &Packet, wire_len: u32, ts: Timestamp) {
        if !pkt.has_src || !pkt.has_dst {
            return;
        }
        // ICMP errors answer some other traffic; the detectors of that traffic see it.
        let (proto, dir, echo_request, port, sport) = match pkt.transport {
            Transport::Icmp(i) => match i.icmp_type {
                3 | 4 | 5 | 11 | 12 => return,
                0 | 14 | 16 | 18 => (Proto::Icmp, Dir::Reply, false, None, None),
                t => (Proto::Icmp, Dir::Request, t == 8, None, None),
            },
            Transport::Icmpv6(i) => match i.icmp_type {
                1..=4 => return,
                t if is_ndp_or_mld(t) => return,
                129 => (Proto::Icmp, Dir::Reply, false, None, None),
                t => (Proto::Icmp, Dir::Request, t == 128, None, None),
            },
            Transport::Udp(u) => {
                let dir = if u.dst_port <= u.src_port {
                    Dir::Request
                } else {
                    Dir::Reply
                };
                (Proto::Udp, dir, false, Some(u.dst_port), Some(u.src_port))
            }
            _ => return,
        };
        if let Some(me) = self.dsts.get_mut(&(pkt.src, proto)) {
            match dir {
                Dir::Request => me.requests_out += 1,
                Dir::Reply => me.replies_out += 1,
            }
        }
        let key = (pkt.dst, proto);
        let full = self.dsts.len() >= self.cfg.max_destinations;
        let e = match self.dsts.entry(key) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) if !full => v.insert(Dst {
                packets: 0,
                bytes: 0,
                echo_requests: 0,
                requests_in: 0,
                replies_in: 0,
                requests_out: 0,
                replies_out: 0,
                sources: SourceCounter::new(pkt.src),
                top_sources: TopK::new(pkt.src),
                ports: TopK::new(0),
                src_ports: TopK::new(0),
                first: ts,
                last: ts,
            }),
            Entry::Vacant(_) => {
                self.dropped += 1;
                return;
            }
        };
        e.packets += 1;
        e.bytes += u64::from(wire_len);
        e.echo_requests += u64::from(echo_request);
        e.last = e.last.max(ts);
        match dir {
            Dir::Request => e.requests_in += 1,
            Dir::Reply => e.replies_in += 1,
        }
        e.sources.insert(pkt.src);
        e.top_sources.add(pkt.src, 1);
        if let (Some(p), Some(s)) = (port, sport) {
            e.ports.add(p, 1);
            e.src_ports.add(s, 1);
        }
    }

    fn on_interval(&mut self, m: &IntervalMetrics, out: &mut Vec<AlertDraft>) {
        let secs = interval_secs(m);
        let ts = m.end_ts();
        let mut found: Vec<AlertDraft> = self
            .dsts
            .iter()
            .filter_map(|((dst, proto), e)| match proto {
                Proto::Icmp => self.icmp_draft(*dst, e, secs, ts),
                Proto::Udp => self.udp_draft(*dst, e, secs, ts),
            })
            .collect();
        super::worst_first(&mut found);
        if !found.iter().any(|d| d.kind == kind::ICMP_FLOOD)
            && let Some(d) = self.global_icmp(m, secs)
        {
            found.push(d);
        }
        out.extend(found);
        self.dsts.clear();
    }

    fn evictions(&self) -> u64 {
        self.dropped
    }

    fn tracked(&self) -> usize {
        self.dsts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{at, icmp_echo, interval, ip, udp};
    use std::net::Ipv4Addr;
    use wirewatch_core::Severity;

    fn close(d: &mut Flood, m: &IntervalMetrics) -> Vec<AlertDraft> {
        let mut out = Vec::new();
        d.on_interval(m, &mut out);
        out
    }

    #[test]
    fn ping_flood_from_one_source() {
        let mut d = Flood::new(&Config::default()).unwrap();
        for i in 0..5000u32 {
            d.on_packet(
                &icmp_echo("203.0.113.9", "10.1.0.20", false),
                98,
                at(f64::from(i) / 4999.0),
            );
            if i % 2 == 0 {
                d.on_packet(
                    &icmp_echo("10.1.0.20", "203.0.113.9", true),
                    98,
                    at(f64::from(i) / 4999.0),
                );
            }
        }
        let out = close(&mut d, &interval(0, 7500, 0));
        assert_eq!(out.len(), 1, "{out:?}");
        let a = &out[0];
        assert_eq!(a.kind, "icmp_flood");
        assert_eq!(a.sources, vec![ip("203.0.113.9")]);
        assert_eq!(a.targets, vec![ip("10.1.0.20")]);
        assert_eq!(a.incident_key, "icmp_flood|10.1.0.20");
        assert_eq!(a.severity, Severity::High);
        assert_eq!(
            a.message,
            "10.1.0.20 received 5,000 ICMP packets/s (5,000 echo requests/s) from 1 source, 50% answered"
        );
        assert_eq!(d.tracked_destinations(), 0);
    }

    #[test]
    fn answers_do_not_flood_the_asker() {
        let mut d = Flood::new(&Config::default()).unwrap();
        for _ in 0..5000 {
            // A ping flood the victim answers in full: the victim is flooded, the attacker,
            // receiving the replies it asked for, is not.
            d.on_packet(&icmp_echo("203.0.113.9", "10.1.0.20", false), 98, at(0.5));
            d.on_packet(&icmp_echo("10.1.0.20", "203.0.113.9", true), 98, at(0.5));
            // A DNS query flood answered in full: the same.
            d.on_packet(&udp("203.0.113.7", 40_000, "10.1.0.53", 53), 80, at(0.5));
            d.on_packet(&udp("10.1.0.53", 53, "203.0.113.7", 40_000), 120, at(0.5));
        }
        for _ in 0..7000 {
            d.on_packet(&udp("203.0.113.7", 40_000, "10.1.0.53", 53), 80, at(0.6));
            d.on_packet(&udp("10.1.0.53", 53, "203.0.113.7", 40_000), 120, at(0.6));
        }
        let out = close(&mut d, &interval(0, 34_000, 0));
        let keys: Vec<&str> = out.iter().map(|a| a.incident_key.as_str()).collect();
        assert_eq!(keys, vec!["udp_flood|10.1.0.53", "icmp_flood|10.1.0.20"]);
        assert!(
            out[1].message.ends_with("from 1 source, 100% answered"),
            "{}",
            out[1].message
        );
        assert_eq!(out[0].ports, vec![53]);
    }

    #[test]
    fn silent_on_normal_pings() {
        let mut d = Flood::new(&Config::default()).unwrap();
        for h in 0..200u32 {
            let mut p = icmp_echo("10.0.1.5", "0.0.0.0", false);
            p.dst = IpAddr::V4(Ipv4Addr::from(0xc612_0000 + h));
            for _ in 0..4 {
                d.on_packet(&p, 98, at(0.5));
            }
        }
        let mut m = interval(0, 800, 0);
        m.protocols.icmp = 800;
        assert!(close(&mut d, &m).is_empty());
    }

    #[test]
    fn network_wide_icmp_flood() {
        let mut d = Flood::new(&Config::default()).unwrap();
        let mut m = interval(0, 10_000, 0);
        m.protocols.icmp = 8000;
        let out = close(&mut d, &m);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].incident_key, "icmp_flood|*");
        assert!(
            out[0]
                .message
                .starts_with("8,000 ICMP packets/s across the network (80% of all packets)")
        );
    }

    #[test]
    fn a_burst_of_a_fraction_of_a_second_is_judged_at_its_own_rate() {
        let mut d = Flood::new(&Config::default()).unwrap();
        // 8,000 datagrams in 0.15 s: 53,000/s, though only 8,000 in the 1-s interval.
        for i in 0..8000u32 {
            d.on_packet(
                &udp("203.0.113.9", 40_000, "10.1.0.20", 27015),
                100,
                at(0.4 + 0.15 * f64::from(i) / 7999.0),
            );
        }
        let out = close(&mut d, &interval(0, 8000, 0));
        assert_eq!(out.len(), 1, "{out:?}");
        let pps = out[0].evidence["pps"].as_f64().unwrap();
        assert!((53_000.0..53_600.0).contains(&pps), "{pps}");
        // A handful of back-to-back datagrams is too little to judge.
        for i in 0..100u32 {
            d.on_packet(
                &udp("203.0.113.9", 40_000, "10.1.0.20", 27015),
                100,
                at(1.5 + f64::from(i) * 1e-6),
            );
        }
        assert!(close(&mut d, &interval(1, 100, 0)).is_empty());
    }

    #[test]
    fn udp_floods_direct_distributed_and_reflected() {
        let mut d = Flood::new(&Config::default()).unwrap();
        // Direct, one source, 12,000/s to port 27015.
        for i in 0..12_000u32 {
            d.on_packet(
                &udp("203.0.113.9", 40_000, "10.1.0.20", 27015),
                100,
                at(f64::from(i) / 11_999.0),
            );
        }
        // Distributed: 3,000/s from 1,000 sources to port 5060.
        for i in 0..3000u32 {
            let mut p = udp("0.0.0.0", 40_000, "10.1.0.21", 5060);
            p.src = IpAddr::V4(Ipv4Addr::from(0xc633_6400 + i % 1000));
            d.on_packet(&p, 200, at(f64::from(i) / 2999.0));
        }
        // Reflected DNS answers: 2,500/s from 300 resolvers, source port 53.
        for i in 0..2500u32 {
            let mut p = udp("0.0.0.0", 53, "10.1.0.22", 1024 + (i % 50_000) as u16);
            p.src = IpAddr::V4(Ipv4Addr::from(0x0800_0000 + i % 300));
            d.on_packet(&p, 1400, at(f64::from(i) / 2499.0));
        }
        // Below: 1,500/s from 100 sources.
        for i in 0..1500u32 {
            let mut p = udp("0.0.0.0", 40_000, "10.1.0.23", 53);
            p.src = IpAddr::V4(Ipv4Addr::from(0x0a00_0100 + i % 100));
            d.on_packet(&p, 80, at(f64::from(i) / 1499.0));
        }
        let out = close(&mut d, &interval(0, 19_000, 0));
        let keys: Vec<&str> = out.iter().map(|a| a.incident_key.as_str()).collect();
        assert_eq!(
            keys,
            vec![
                "udp_flood|10.1.0.20",
                "udp_flood|10.1.0.21",
                "udp_flood|10.1.0.22"
            ]
        );
        assert_eq!(out[0].ports, vec![27015]);
        assert_eq!(out[0].sources, vec![ip("203.0.113.9")]);
        assert_eq!(
            out[0].message,
            "10.1.0.20:27015 received 12,000 UDP packets/s (9.6 Mbit/s) from 1 source"
        );
        assert!(
            out[1].message.starts_with(
                "10.1.0.21:5060 received 3,000 UDP packets/s (4.8 Mbit/s) from about "
            ),
            "{}",
            out[1].message
        );
        assert!(out[1].sources.is_empty(), "spoofed: none stands out");
        assert!(
            out[2]
                .message
                .contains("(answers from source port 53: reflection/amplification)"),
            "{}",
            out[2].message
        );
        assert!(
            out[2]
                .recommendation
                .starts_with("block UDP from source port 53 to 10.1.0.22")
        );
        assert!(out[2].ports.is_empty(), "random destination ports");
    }

    #[test]
    fn destinations_are_capped() {
        let cfg = Config {
            max_destinations: 10,
            ..Config::default()
        };
        let mut d = Flood::new(&cfg).unwrap();
        for h in 0..50u32 {
            let mut p = udp("10.0.1.5", 40_000, "0.0.0.0", 53);
            p.dst = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + h));
            d.on_packet(&p, 80, at(0.1));
        }
        assert_eq!(d.tracked_destinations(), 10);
        assert_eq!(d.evictions(), 40);
    }
}
