//! Tests of `engine`.

use super::*;
use crate::testutil::{at, ip};

fn draft(kind: &'static str, key: &str, target: &str) -> (&'static str, AlertDraft) {
    (
        kind,
        AlertDraft {
            kind,
            severity: wirewatch_core::Severity::Medium,
            confidence: 0.8,
            ts: at(1.0),
            sources: Vec::new(),
            targets: if target.is_empty() {
                Vec::new()
            } else {
                vec![ip(target)]
            },
            ports: Vec::new(),
            message: String::new(),
            recommendation: String::new(),
            evidence: serde_json::Value::Null,
            incident_key: key.into(),
            magnitude: 1.0,
        },
    )
}

fn kinds(batch: Vec<(&'static str, AlertDraft)>) -> (Vec<&'static str>, u64) {
    let mut explained = 0;
    let kept = drop_explained(batch, &mut explained);
    (kept.iter().map(|(_, d)| d.kind).collect(), explained)
}

#[test]
fn one_attack_is_one_finding() {
    let (k, n) = kinds(vec![
        draft(kind::SYN_FLOOD, "syn_flood|10.0.0.2", "10.0.0.2"),
        draft(kind::DOS, "dos|10.0.0.2", "10.0.0.2"),
        draft(kind::DDOS, "dos|10.0.0.9", "10.0.0.9"),
    ]);
    assert_eq!((k, n), (vec![kind::SYN_FLOOD, kind::DDOS], 1));
    let (k, n) = kinds(vec![
        draft(kind::PORT_SCAN, "port_scan|10.0.0.1", "10.0.0.2"),
        draft(kind::SYN_FLOOD, "syn_flood|*", ""),
        draft(kind::SYN_FLOOD, "syn_flood|10.0.0.7", "10.0.0.7"),
    ]);
    assert_eq!((k, n), (vec![kind::PORT_SCAN, kind::SYN_FLOOD], 1));
    let (k, n) = kinds(vec![
        draft(kind::UDP_FLOOD, "udp_flood|10.0.0.2", "10.0.0.2"),
        draft(
            kind::DNS_AMPLIFICATION,
            "dns_amplification|10.0.0.2",
            "10.0.0.2",
        ),
    ]);
    assert_eq!((k, n), (vec![kind::DNS_AMPLIFICATION], 1));
    // NTP amplification found by the reflection detector names the attack; the UDP flood
    // it also is gives way, and the generic rate detector's DDoS too.
    let mut ntp = draft(kind::DDOS, "dos|10.0.0.2", "10.0.0.2");
    ntp.0 = detectors::reflection::NAME;
    let (k, n) = kinds(vec![
        draft(kind::UDP_FLOOD, "udp_flood|10.0.0.2", "10.0.0.2"),
        ntp,
        draft(kind::DDOS, "dos|10.0.0.2", "10.0.0.2"),
    ]);
    assert_eq!((k, n), (vec![kind::DDOS], 2));
    // The scanner's own SYNs at one host are the scan's; someone else's flood is not.
    let mut scan = draft(kind::PORT_SCAN, "port_scan|10.0.0.1", "10.0.0.2");
    scan.1.sources = vec![ip("10.0.0.1")];
    let mut by_scanner = draft(kind::SYN_FLOOD, "syn_flood|10.0.0.2", "10.0.0.2");
    by_scanner.1.sources = vec![ip("10.0.0.1")];
    let mut by_other = draft(kind::SYN_FLOOD, "syn_flood|10.0.0.3", "10.0.0.3");
    by_other.1.sources = vec![ip("10.0.0.9")];
    let (k, n) = kinds(vec![scan, by_scanner, by_other]);
    assert_eq!((k, n), (vec![kind::PORT_SCAN, kind::SYN_FLOOD], 1));
    let (k, n) = kinds(vec![
        draft(kind::PORT_SCAN, "port_scan|10.0.0.1", ""),
        draft(kind::ICMP_FLOOD, "icmp_flood|*", ""),
    ]);
    assert_eq!((k, n), (vec![kind::PORT_SCAN], 1));
    // Without a scan, a network-wide SYN flood stands.
    let (k, n) = kinds(vec![draft(kind::SYN_FLOOD, "syn_flood|*", "")]);
    assert_eq!((k, n), (vec![kind::SYN_FLOOD], 0));
}
