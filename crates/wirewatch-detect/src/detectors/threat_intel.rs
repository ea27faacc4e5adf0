//! Threat intelligence: local hosts talking to addresses the world already knows as bad.
//!
//! # What it detects
//!
//! Traffic between a local host and an address listed on an offline blocklist (Spamhaus DROP,
//! FireHOL, Feodo, Emerging Threats, your own lists) or scored as abusive by AbuseIPDB: malware
//! calling home, a compromised host talking to a botnet controller, a scanner or brute-forcer
//! with a record reaching your servers.
//!
//! # Signal
//!
//! [`ThreatHit`]s that the engine raises when a new flow has an endpoint with a reputation (the
//! blocklists are checked on the packet path; AbuseIPDB answers arrive asynchronously and are
//! applied to the flows that involved the address). One incident per remote address; the local
//! hosts, remote ports and direction seen are collected into it.
//!
//! # Thresholds
//!
//! Every blocklist hit counts. An AbuseIPDB verdict counts when its score is above
//! `min_score` (50). Severity: a blocklist entry or a score of at least 90 is high (critical
//! when the local host opened the connection: something inside reaches out to it); otherwise
//! medium. Bounded: at most `MAX_PENDING` hits wait for the interval's end (more are counted
//! in [`Detector::evictions`]), at most `MAX_LOCALS` local hosts are listed per incident.
//!
//! # False positives
//!
//! Shared hosting and CDN addresses that once hosted something bad; Tor exit nodes; security
//! scanners you hired. Blocklists of ranges can be coarse. Suppress `threat_intel` for those
//! destinations, or raise `min_score`.
//!
//! # Recommended action
//!
//! Block the remote address at the firewall; check the local host for compromise (what process
//! opened the connection, what was sent), and look at its other connections in the history.

use crate::policy::{self, Family, Impact};
use crate::present::{count, plural};
use crate::{AlertDraft, DetectError, Detector, kind};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::net::IpAddr;
use wirewatch_core::{IntervalMetrics, ThreatHit, ThreatSource};

/// Hits kept until the interval closes. A host talking to one bad address makes one hit per
/// new flow; 4,096 is far more distinct (remote, local) pairs than an interval shows unless
/// something floods, and the incident needs only a sample.
const MAX_PENDING: usize = 4096;
/// Local hosts named per incident (the count says how many there were).
const MAX_LOCALS: usize = 16;
/// Ports listed per incident.
const MAX_PORTS: usize = 16;

/// Settings (`[detect.threat_intel]`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Run this detector.
    pub enabled: bool,
    /// AbuseIPDB scores above this raise an alert (0–100).
    pub min_score: u8,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            min_score: 50,
        }
    }
}

/// Hits of one remote address within an interval.
#[derive(Default)]
struct Pending {
    first: Option<ThreatHit>,
    locals: Vec<IpAddr>,
    locals_total: u64,
    ports: Vec<u16>,
    outbound: bool,
    flows: u64,
}

/// The detector.
pub struct ThreatIntel {
    min_score: u8,
    pending: BTreeMap<IpAddr, Pending>,
    held: usize,
    evicted: u64,
}

impl ThreatIntel {
    /// A detector with `config`.
    pub fn new(config: &Config) -> Result<ThreatIntel, DetectError> {
        super::check(
            "threat_intel",
            "min_score",
            f64::from(config.min_score),
            config.min_score <= 100,
            "must be 0-100",
        )?;
        Ok(ThreatIntel {
            min_score: config.min_score,
            pending: BTreeMap::new(),
            held: 0,
            evicted: 0,
        })
    }

    fn counts(&self, hit: &ThreatHit) -> bool {
        match hit.reputation.source {
            ThreatSource::Blocklist { .. } => true,
            ThreatSource::Abuseipdb { .. } => hit.reputation.score > self.min_score,
        }
    }
}

impl Detector for ThreatIntel {
    fn name(&self) -> &'static str {
        kind::THREAT_INTEL
    }

    fn wants_threats(&self) -> bool {
        true
    }

    fn on_threat(&mut self, hit: &ThreatHit) {
        if !self.counts(hit) {
            return;
        }
        if !self.pending.contains_key(&hit.remote) && self.held >= MAX_PENDING {
            self.evicted += 1;
            return;
        }
        let p = self.pending.entry(hit.remote).or_default();
        if p.first.is_none() {
            self.held += 1;
            p.first = Some(hit.clone());
        }
        p.flows += 1;
        p.outbound |= hit.outbound;
        if !p.locals.contains(&hit.local) {
            p.locals_total += 1;
            if p.locals.len() < MAX_LOCALS {
                p.locals.push(hit.local);
            }
        }
        if hit.remote_port != 0 && !p.ports.contains(&hit.remote_port) && p.ports.len() < MAX_PORTS
        {
            p.ports.push(hit.remote_port);
        }
    }

    fn on_interval(&mut self, m: &IntervalMetrics, out: &mut Vec<AlertDraft>) {
        self.held = 0;
        for (remote, p) in std::mem::take(&mut self.pending) {
            let Some(hit) = p.first else { continue };
            let rep = &hit.reputation;
            let (what, evidence, strong) = match &rep.source {
                ThreatSource::Blocklist {
                    list,
                    entry,
                    reference,
                } => (
                    format!(
                        "listed on blocklist {list} (entry {entry}{})",
                        reference
                            .as_deref()
                            .map(|r| format!(", {r}"))
                            .unwrap_or_default()
                    ),
                    json!({"source": "blocklist", "list": list, "entry": entry, "reference": reference}),
                    true,
                ),
                ThreatSource::Abuseipdb {
                    country_code,
                    country_name,
                    isp,
                    usage_type,
                    domain,
                    total_reports,
                } => {
                    let score = &rep.score;
                    let mut about = Vec::new();
                    if let Some(c) = country_name.as_ref().or(country_code.as_ref()) {
                        about.push(c.clone());
                    }
                    if let Some(i) = isp {
                        about.push(format!("ISP {i}"));
                    }
                    if let Some(u) = usage_type {
                        about.push(u.clone());
                    }
                    (
                        format!(
                            "scored {score}/100 by AbuseIPDB from {} reports{}",
                            count(*total_reports),
                            if about.is_empty() {
                                String::new()
                            } else {
                                format!(" ({})", about.join(", "))
                            }
                        ),
                        json!({
                            "source": "abuseipdb", "score": score, "threshold": self.min_score,
                            "country_code": country_code, "country_name": country_name,
                            "isp": isp, "usage_type": usage_type, "domain": domain,
                            "total_reports": total_reports,
                        }),
                        *score >= 90,
                    )
                }
            };
            let severity = policy::severity(&Impact {
                strong,
                outbound: p.outbound,
                ..Impact::new(Family::Reputation, 1.0)
            });
            let locals: Vec<String> = p.locals.iter().map(IpAddr::to_string).collect();
            let direction = if p.outbound {
                "connected to"
            } else {
                "was contacted by"
            };
            let message = format!(
                "{} {direction} {remote}, {what}; {} this interval",
                if p.locals_total > 1 {
                    format!("{} local hosts ({})", p.locals_total, locals.join(", "))
                } else {
                    locals.join(", ")
                },
                plural(p.flows, "flow")
            );
            out.push(AlertDraft {
                kind: kind::THREAT_INTEL,
                severity,
                confidence: (f64::from(rep.score) / 100.0).clamp(0.5, 0.99),
                ts: m.end_ts(),
                sources: p.locals.clone(),
                targets: vec![remote],
                ports: p.ports.clone(),
                message,
                recommendation: format!(
                    "block {remote} at the firewall; check {} for compromise (which process \
                     opened the connection, what it sent) and review its other connections",
                    locals.first().map_or("the local host", String::as_str)
                ),
                evidence: json!({
                    "remote": remote.to_string(),
                    "reputation": evidence,
                    "local_hosts": locals,
                    "local_hosts_total": p.locals_total,
                    "flows": p.flows,
                    "outbound": p.outbound,
                }),
                incident_key: format!("{}:{remote}", kind::THREAT_INTEL),
                magnitude: f64::from(rep.score),
            });
        }
    }

    fn evictions(&self) -> u64 {
        self.evicted
    }

    fn tracked(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use wirewatch_core::Severity;
    use wirewatch_core::{AddressReputation, Timestamp};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn abuse(remote: &str, score: u8) -> AddressReputation {
        AddressReputation {
            ip: ip(remote),
            score,
            source: ThreatSource::Abuseipdb {
                country_code: Some("NL".into()),
                country_name: Some("Netherlands".into()),
                isp: Some("Example Hosting".into()),
                usage_type: Some("Data Center/Web Hosting/Transit".into()),
                domain: Some("example.net".into()),
                total_reports: 1234,
            },
        }
    }

    fn hit(
        local: &str,
        remote: &str,
        port: u16,
        outbound: bool,
        rep: AddressReputation,
    ) -> ThreatHit {
        ThreatHit {
            ts: Timestamp(1),
            local: ip(local),
            remote: ip(remote),
            remote_port: port,
            outbound,
            reputation: rep,
        }
    }

    fn interval() -> IntervalMetrics {
        IntervalMetrics {
            start_ts: Timestamp(0),
            duration_ns: 1_000_000_000,
            ..IntervalMetrics::default()
        }
    }

    #[test]
    fn scores_count_only_above_the_threshold() {
        let mut d = ThreatIntel::new(&Config::default()).unwrap();
        d.on_threat(&hit(
            "10.0.0.5",
            "198.51.100.7",
            443,
            true,
            abuse("198.51.100.7", 50),
        ));
        d.on_threat(&hit(
            "10.0.0.5",
            "198.51.100.8",
            443,
            true,
            abuse("198.51.100.8", 51),
        ));
        let mut out = Vec::new();
        d.on_interval(&interval(), &mut out);
        assert_eq!(out.len(), 1, "50 is not above 50");
        let a = &out[0];
        assert_eq!(a.targets, vec![ip("198.51.100.8")]);
        assert_eq!(a.sources, vec![ip("10.0.0.5")]);
        assert_eq!(a.severity, Severity::High, "outbound to a scored address");
        assert!(
            a.message.contains("10.0.0.5 connected to 198.51.100.8"),
            "{}",
            a.message
        );
        assert!(
            a.message.contains("51/100 by AbuseIPDB from 1,234 reports"),
            "{}",
            a.message
        );
        assert!(
            a.message
                .contains("Netherlands, ISP Example Hosting, Data Center"),
            "{}",
            a.message
        );
        assert_eq!(a.evidence["reputation"]["isp"], "Example Hosting");
        assert!(a.recommendation.starts_with("block 198.51.100.8"));
    }

    #[test]
    fn a_blocklist_hit_groups_its_local_hosts_and_is_critical_when_they_call_out() {
        let mut d = ThreatIntel::new(&Config::default()).unwrap();
        let rep = AddressReputation {
            ip: ip("203.0.113.9"),
            score: 100,
            source: ThreatSource::Blocklist {
                list: "drop".into(),
                entry: "203.0.113.0/24".into(),
                reference: Some("SBL42".into()),
            },
        };
        for local in ["10.0.0.1", "10.0.0.2", "10.0.0.1"] {
            d.on_threat(&hit(local, "203.0.113.9", 8080, true, rep.clone()));
        }
        let mut out = Vec::new();
        d.on_interval(&interval(), &mut out);
        assert_eq!(out.len(), 1);
        let a = &out[0];
        assert_eq!(a.severity, Severity::Critical);
        assert_eq!(a.sources.len(), 2);
        assert_eq!(a.evidence["flows"], 3);
        assert!(
            a.message
                .contains("blocklist drop (entry 203.0.113.0/24, SBL42)"),
            "{}",
            a.message
        );
        // The next interval starts empty.
        let mut out = Vec::new();
        d.on_interval(&interval(), &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn pending_hits_are_bounded_and_counted() {
        let mut d = ThreatIntel::new(&Config::default()).unwrap();
        for i in 0..(MAX_PENDING as u32 + 10) {
            let remote = IpAddr::from(std::net::Ipv4Addr::from(0xc633_0000 + i));
            let mut rep = abuse("198.51.0.1", 99);
            rep.ip = remote;
            d.on_threat(&ThreatHit {
                remote,
                ..hit("10.0.0.1", "198.51.0.1", 1, false, rep)
            });
        }
        assert_eq!(d.tracked(), MAX_PENDING);
        assert_eq!(d.evictions(), 10);
    }
}
