//! Unit tests of the port scan detector (kept apart: the detector file stays readable).

use super::*;
use crate::testutil::{at, interval, ip, tcp, udp};
use std::net::Ipv4Addr;
use wirewatch_core::Severity;

const SCANNER: &str = "203.0.113.66";
const TARGET: &str = "10.1.0.10";

/// A SYN scan of `ports` on TARGET at 100 ports/s starting at second `start`; 22, 80 and
/// 443 answer SYN-ACK (and the scanner resets them), the others RST.
fn syn_scan(d: &mut PortScan, ports: std::ops::RangeInclusive<u16>, start: f64) {
    for (i, port) in ports.enumerate() {
        let t = at(start + i as f64 * 0.01);
        d.on_packet(&tcp(SCANNER, 40_000, TARGET, port, SYN), 60, t);
        if [22, 80, 443].contains(&port) {
            d.on_packet(&tcp(TARGET, port, SCANNER, 40_000, SYN | ACK), 60, t);
            d.on_packet(&tcp(SCANNER, 40_000, TARGET, port, RST), 60, t);
        } else {
            d.on_packet(&tcp(TARGET, port, SCANNER, 40_000, RST | ACK), 60, t);
        }
    }
}

fn close(d: &mut PortScan, second: u64) -> Vec<AlertDraft> {
    let mut out = Vec::new();
    d.on_interval(&interval(second, 0, 0), &mut out);
    out
}

#[test]
fn vertical_syn_scan() {
    let mut d = PortScan::new(&Config::default()).unwrap();
    syn_scan(&mut d, 1..=99, 0.0);
    let out = close(&mut d, 0);
    assert_eq!(out.len(), 1);
    let a = &out[0];
    assert_eq!(a.kind, "port_scan");
    assert_eq!(a.sources, vec![ip(SCANNER)]);
    assert_eq!(a.targets, vec![ip(TARGET)]);
    assert_eq!(a.ports, vec![22, 80]);
    assert_eq!(a.incident_key, "port_scan|203.0.113.66");
    assert_eq!(a.evidence["style"], "syn");
    assert_eq!(a.evidence["shape"], "vertical");
    assert_eq!(a.magnitude, 99.0);
    assert_eq!(a.severity, Severity::Medium);
    assert_eq!(
        a.message,
        "203.0.113.66 probed 99 ports on 10.1.0.10 in 1 s (SYN scan); 2 answered open: 22, 80"
    );
    assert!(a.recommendation.starts_with(
        "block 203.0.113.66 at the edge firewall; check that the open ports 22, 80 on 10.1.0.10"
    ));
    // Nothing new next second: no draft (the engine ends the incident later).
    assert!(close(&mut d, 1).is_empty());
}

#[test]
fn silent_below_the_threshold() {
    let mut d = PortScan::new(&Config::default()).unwrap();
    syn_scan(&mut d, 1..=24, 0.0);
    assert!(close(&mut d, 0).is_empty());
}

#[test]
fn connect_fin_null_xmas_and_udp_styles() {
    // connect: SYN, SYN-ACK, ACK, then RST|ACK from the scanner.
    let mut d = PortScan::new(&Config::default()).unwrap();
    for port in 1..=40u16 {
        let t = at(0.1);
        d.on_packet(&tcp(SCANNER, 40_000 + port, TARGET, port, SYN), 60, t);
        if port % 10 == 0 {
            d.on_packet(&tcp(TARGET, port, SCANNER, 40_000 + port, SYN | ACK), 60, t);
            d.on_packet(&tcp(SCANNER, 40_000 + port, TARGET, port, ACK), 60, t);
            d.on_packet(&tcp(SCANNER, 40_000 + port, TARGET, port, RST | ACK), 60, t);
        }
    }
    let out = close(&mut d, 0);
    assert_eq!(out[0].evidence["style"], "connect");
    assert!(
        out[0]
            .message
            .contains("(connect scan); 4 answered open: 10, 20, 30, 40"),
        "{}",
        out[0].message
    );

    for (flags, style) in [(FIN, "fin"), (0, "null"), (FIN | PSH | URG, "xmas")] {
        let mut d = PortScan::new(&Config::default()).unwrap();
        for port in 1..=30u16 {
            d.on_packet(&tcp(SCANNER, 40_000, TARGET, port, flags), 60, at(0.2));
        }
        let out = close(&mut d, 0);
        assert_eq!(out.len(), 1, "{style}");
        assert_eq!(out[0].evidence["style"], style);
    }

    let mut d = PortScan::new(&Config::default()).unwrap();
    for port in 1..=30u16 {
        d.on_packet(&udp(SCANNER, 50_000, TARGET, port), 60, at(0.2));
    }
    d.on_packet(&udp(TARGET, 7, SCANNER, 50_000), 60, at(0.3));
    let out = close(&mut d, 0);
    assert_eq!(out[0].evidence["style"], "udp");
    assert!(
        out[0].message.contains("(UDP scan); 1 answered open: 7"),
        "{}",
        out[0].message
    );
}

#[test]
fn horizontal_scan_of_one_port() {
    let mut d = PortScan::new(&Config::default()).unwrap();
    for h in 1..=60u32 {
        let dst = IpAddr::V4(Ipv4Addr::from(0x0a01_0000 + h));
        let mut p = tcp("10.9.9.9", 40_000, "0.0.0.0", 22, SYN);
        p.dst = dst;
        d.on_packet(&p, 60, at(0.5 + f64::from(h) * 0.1));
    }
    let out = close(&mut d, 6);
    assert_eq!(out.len(), 1);
    let a = &out[0];
    assert_eq!(a.ports, vec![22]);
    assert_eq!(a.targets.len(), 32, "listed hosts are capped");
    assert_eq!(a.evidence["shape"], "horizontal");
    assert_eq!(a.evidence["hosts_on_top_port"], 60);
    // 2.4× the threshold is Medium; an internal source is one step more severe.
    assert_eq!(a.severity, Severity::High);
    assert!(
        a.recommendation
            .starts_with("10.9.9.9 is inside the network")
    );
    assert!(
        a.message.contains("probed port 22/tcp on 60 hosts in"),
        "{}",
        a.message
    );
}

#[test]
fn answered_connections_are_not_a_scan() {
    // A client opening connections to 40 servers on 443, all accepted.
    let mut d = PortScan::new(&Config::default()).unwrap();
    for h in 1..=40u32 {
        let srv = IpAddr::V4(Ipv4Addr::from(0xc612_0000 + h));
        let mut p = tcp("10.0.1.5", 50_000 + h as u16, "0.0.0.0", 443, SYN);
        p.dst = srv;
        d.on_packet(&p, 60, at(0.1));
        let mut a = tcp("0.0.0.0", 443, "10.0.1.5", 50_000 + h as u16, SYN | ACK);
        a.src = srv;
        d.on_packet(&a, 60, at(0.12));
    }
    assert!(close(&mut d, 0).is_empty());
    // DNS answers to many client ports are answers, not probes.
    for port in 1024..1100u16 {
        d.on_packet(&udp("10.0.1.5", port, "10.0.0.53", 53), 80, at(1.2));
        d.on_packet(&udp("10.0.0.53", 53, "10.0.1.5", port), 120, at(1.3));
    }
    assert!(close(&mut d, 1).is_empty());
}

#[test]
fn slow_scan_over_minutes() {
    let mut d = PortScan::new(&Config::default()).unwrap();
    let mut drafts = Vec::new();
    // One port every 8 s: 3 per 24 s... never 25 in 10 s.
    for i in 0..40u64 {
        let t = i * 8;
        d.on_packet(
            &tcp(SCANNER, 40_000, TARGET, 1000 + i as u16, SYN),
            60,
            at(t as f64 + 0.5),
        );
        drafts.extend(close(&mut d, t));
    }
    assert!(!drafts.is_empty());
    let a = &drafts[0];
    assert_eq!(a.evidence["shape"], "slow");
    assert_eq!(a.evidence["targets"], 30);
    assert_eq!(a.severity, Severity::Low);
    assert!(a.message.starts_with("203.0.113.66 probed 30 host:port targets (1 host, 30 ports) over the last 300 s (slow SYN scan); 0% answered"), "{}", a.message);
}

#[test]
fn bounded_under_a_spoofed_flood() {
    let cfg = Config {
        max_sources: 1000,
        ..Config::default()
    };
    let mut d = PortScan::new(&cfg).unwrap();
    for i in 0..100_000u32 {
        let mut p = tcp("0.0.0.0", 1024, "10.1.0.20", 80, SYN);
        p.src = IpAddr::V4(Ipv4Addr::from(0x6440_0000 + i));
        d.on_packet(&p, 60, at(0.5));
    }
    assert_eq!(d.tracked_sources(), 1000);
    assert_eq!(d.tracked_targets(), 1000);
    assert_eq!(d.evictions(), 99_000);
    assert!(close(&mut d, 0).is_empty());
}

#[test]
fn a_spoofed_flood_does_not_evict_a_slow_scanner() {
    let cfg = Config {
        max_sources: 100,
        ..Config::default()
    };
    let mut d = PortScan::new(&cfg).unwrap();
    let mut drafts = Vec::new();
    // The scanner must have shown two targets to be told from a spoofed source.
    d.on_packet(&tcp(SCANNER, 40_000, TARGET, 1999, SYN), 60, at(0.0));
    for sec in 0..40u32 {
        // One probe every second from the slow scanner...
        let p = tcp(SCANNER, 40_000, TARGET, 2000 + sec as u16, SYN);
        d.on_packet(&p, 60, at(f64::from(sec)));
        // ... drowned in 1,000 spoofed one-packet sources a second.
        for n in 0..1000u32 {
            let mut f = tcp("0.0.0.0", 1024, "10.1.0.20", 80, SYN);
            f.src = IpAddr::V4(Ipv4Addr::from(0x6440_0000 + sec * 1000 + n));
            d.on_packet(&f, 60, at(f64::from(sec) + 0.5));
        }
        drafts.extend(close(&mut d, u64::from(sec)));
    }
    assert_eq!(d.tracked_sources(), 100);
    assert!(d.evictions() >= 39_000);
    assert_eq!(drafts.len(), 12, "slow rule from the 30th target on");
    assert_eq!(drafts[0].evidence["shape"], "slow");
    assert_eq!(drafts[11].evidence["targets"], 41);
}

#[test]
fn target_caps_hold() {
    let cfg = Config {
        max_targets_per_source: 100,
        max_targets_total: 150,
        ..Config::default()
    };
    let mut d = PortScan::new(&cfg).unwrap();
    syn_scan(&mut d, 1..=300, 0.0);
    assert_eq!(d.tracked_targets(), 100);
    assert_eq!(d.evictions(), 200);
    let mut p = tcp("198.51.100.1", 40_000, TARGET, 1, SYN);
    for port in 1..=100u16 {
        p.transport = tcp("198.51.100.1", 40_000, TARGET, port, SYN).transport;
        d.on_packet(&p, 60, at(4.0));
    }
    // The second scanner's targets pushed the first (least recently active) out.
    assert_eq!(d.tracked_sources(), 1);
    assert_eq!(d.tracked_targets(), 100);
    assert_eq!(d.evictions(), 201);
}

#[test]
fn forgets_quiet_sources() {
    let mut d = PortScan::new(&Config::default()).unwrap();
    syn_scan(&mut d, 1..=10, 0.0);
    assert_eq!(d.tracked_sources(), 1);
    close(&mut d, 400);
    assert_eq!(d.tracked_sources(), 0);
    assert_eq!(d.tracked_targets(), 0);
    assert_eq!(d.evictions(), 0);
}

fn arp(op: u16, sender: &str, target: &str) -> Packet {
    let (IpAddr::V4(s), IpAddr::V4(t)) = (ip(sender), ip(target)) else {
        panic!("IPv4 only");
    };
    Packet {
        network: Network::Arp(ArpInfo {
            op,
            sender_ip: s,
            target_ip: t,
        }),
        ..Packet::default()
    }
}

#[test]
fn an_unanswered_icmp_echo_sweep_of_a_subnet_is_a_host_sweep() {
    let mut d = PortScan::new(&Config::default()).unwrap();
    for h in 1..=254u8 {
        let dst = format!("10.9.0.{h}");
        d.on_packet(
            &crate::testutil::icmp_echo(SCANNER, &dst, false),
            60,
            at(f64::from(h) * 0.003),
        );
    }
    let out = close(&mut d, 0);
    assert_eq!(out.len(), 1, "{out:?}");
    let a = &out[0];
    assert_eq!(a.evidence["shape"], "sweep");
    assert_eq!(a.evidence["style"], "icmp");
    assert_eq!(a.sources, vec![ip(SCANNER)]);
    assert_eq!(a.targets.len(), 32, "a sample of the hosts");
    assert!(a.ports.is_empty());
    assert_eq!(
        a.message,
        "203.0.113.66 swept 254 hosts with ICMP requests in 1 s (ICMP sweep); 0% answered"
    );
}

#[test]
fn an_arp_sweep_is_a_host_sweep_even_when_the_hosts_answer() {
    let mut d = PortScan::new(&Config::default()).unwrap();
    for h in 1..=254u8 {
        let dst = format!("10.9.0.{h}");
        d.on_packet(&arp(1, "10.9.0.66", &dst), 42, at(f64::from(h) * 0.003));
        // A populated subnet: everyone answers (and the sweeper does not ask for itself).
        d.on_packet(&arp(2, &dst, "10.9.0.66"), 42, at(f64::from(h) * 0.003));
    }
    let out = close(&mut d, 0);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].sources, vec![ip("10.9.0.66")]);
    assert_eq!(out[0].evidence["style"], "arp");
    assert!(
        out[0].message.contains("swept 253 hosts with ARP requests"),
        "{}",
        out[0].message
    );
    // A host resolving its gateway and a few peers, and gratuitous ARP, are not sweeps.
    let mut d = PortScan::new(&Config::default()).unwrap();
    for h in 1..=10u8 {
        let dst = format!("10.9.0.{h}");
        d.on_packet(&arp(1, "10.9.0.5", &dst), 42, at(0.1));
        d.on_packet(&arp(1, "10.9.0.7", "10.9.0.7"), 42, at(0.1));
        d.on_packet(&arp(1, "0.0.0.0", &dst), 42, at(0.1));
    }
    assert!(close(&mut d, 0).is_empty());
}

#[test]
fn bare_acks_outside_any_connection_are_probes_answers_are_not() {
    use crate::testutil::in_flow;
    // nmap -sA: one ACK per port, every one answered by RST.
    let mut d = PortScan::new(&Config::default()).unwrap();
    for port in 1..=1000u16 {
        let t = at(f64::from(port) * 0.0009);
        let probe = tcp(SCANNER, 40_000, TARGET, port, ACK);
        d.on_flow_packet(&probe, 60, t, Some(&in_flow(true, false, false)));
        let rst = tcp(TARGET, port, SCANNER, 40_000, RST);
        d.on_flow_packet(&rst, 60, t, Some(&in_flow(false, true, false)));
    }
    let out = close(&mut d, 0);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].evidence["style"], "ack");
    assert_eq!(out[0].evidence["shape"], "vertical");
    assert!(
        out[0].message.contains("probed 1,000 ports on 10.1.0.10")
            && out[0].message.contains("(ACK scan); none answered open"),
        "{}",
        out[0].message
    );
    // A capture starting mid-stream: the first packet of 40 live connections is a bare ACK
    // to each server, and each server talks back. Not a scan.
    let mut d = PortScan::new(&Config::default()).unwrap();
    for h in 1..=40u8 {
        let server = format!("198.51.100.{h}");
        let ack = tcp("10.1.0.5", 50_000 + u16::from(h), &server, 443, ACK);
        d.on_flow_packet(&ack, 60, at(0.1), Some(&in_flow(true, false, false)));
        let mut data = tcp(&server, 443, "10.1.0.5", 50_000 + u16::from(h), ACK | PSH);
        data.payload_len = 1400;
        d.on_flow_packet(&data, 1454, at(0.1), Some(&in_flow(false, true, false)));
    }
    assert!(close(&mut d, 0).is_empty());
    // Without flow information, bare ACKs are not judged (every data segment is one).
    let mut d = PortScan::new(&Config::default()).unwrap();
    for port in 1..=100u16 {
        d.on_packet(&tcp(SCANNER, 40_000, TARGET, port, ACK), 60, at(0.1));
    }
    assert!(close(&mut d, 0).is_empty());
}

#[test]
fn a_udp_ping_sweep_to_a_high_port_is_seen_through_the_flow_table() {
    use crate::testutil::in_flow;
    // nmap -sn -PU: one datagram to port 40125 of every address, from a lower source port.
    let mut d = PortScan::new(&Config::default()).unwrap();
    for h in 1..=100u8 {
        let p = udp(SCANNER, 33_000, &format!("10.9.0.{h}"), 40_125);
        d.on_flow_packet(
            &p,
            60,
            at(f64::from(h) * 0.005),
            Some(&in_flow(true, false, false)),
        );
    }
    let out = close(&mut d, 0);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].ports, vec![40_125]);
    assert_eq!(out[0].evidence["shape"], "horizontal");
    assert_eq!(out[0].evidence["style"], "udp");
    // A resolver asking 100 servers gets its answers: not a sweep.
    let mut d = PortScan::new(&Config::default()).unwrap();
    for h in 1..=100u8 {
        let server = format!("192.0.2.{h}");
        let q = udp("10.1.0.53", 33_000, &server, 53);
        d.on_flow_packet(&q, 80, at(0.1), Some(&in_flow(true, false, false)));
        let a = udp(&server, 53, "10.1.0.53", 33_000);
        d.on_flow_packet(&a, 200, at(0.1), Some(&in_flow(false, true, false)));
    }
    assert!(close(&mut d, 0).is_empty());
}
