//! EVE output: Community ID against the published test vectors, and captures replayed through
//! the EVE output (every line is JSON with Suricata's fields; flows and alerts are all there; the
//! Community IDs equal tshark's on the same capture when tshark is installed).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use wirewatch::analyze::{AnalyzeReport, DEFAULT_MAX_REPORT_FLOWS, ReportCollector};
use wirewatch::outputs::Outputs;
use wirewatch::outputs::logs::EveOutput;
use wirewatch::pipeline::Sink;
use wirewatch::pipeline::{Engine, EngineConfig};
use wirewatch_capture::FileSource;
use wirewatch_eve::{EveRecord, community_id};

/// One vector: protocol, source, destination, source port (ICMP: type), destination port
/// (ICMP: code or counterpart type), expected ID.
type Vector = (u8, &'static str, &'static str, u16, u16, &'static str);

/// The Community ID specification's baseline with the default seed (0)
/// (`baseline/baseline_deflt.json` of the specification repository).
#[rustfmt::skip]
const BASELINE_SEED0: &[Vector] = &[
    (58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 136, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="),
    (58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 135, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="),
    (58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 136, "1:zavyT/cezQr1fmImYCwYnMXbgck="),
    (58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 136, 135, "1:zavyT/cezQr1fmImYCwYnMXbgck="),
    (58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0, "1:2ObVBgIn28oZvibYZhZMBgh7WdQ="),
    (58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4, "1:hLZd0XGWojozrvxqE0dWB1iM6R0="),
    (58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 129, "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg="),
    (58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 128, "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg="),
    (58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 134, "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0="),
    (58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 133, "1:pkvHqCL88/tg1k4cPigmZXUtL00="),
    (1, "192.168.0.89", "192.168.0.1", 8, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="),
    (1, "192.168.0.1", "192.168.0.89", 0, 8, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="),
    (1, "10.0.0.1", "10.0.0.2", 11, 0, "1:YHxtAirCG//0OzkcVAukqKQN9xM="),
    (6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="),
    (6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="),
    (132, "192.168.170.8", "192.168.170.56", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="),
    (132, "192.168.170.56", "192.168.170.8", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="),
    (6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="),
    (6, "66.35.250.204", "128.232.110.120", 80, 34855, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="),
    (17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="),
    (17, "8.8.8.8", "192.168.1.52", 53, 54585, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="),
    (46, "10.1.12.1", "10.1.12.2", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="),
    (46, "10.1.12.2", "10.1.12.1", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="),
];

/// The same baseline with seed 1 (`baseline/baseline_seed1.json`).
#[rustfmt::skip]
const BASELINE_SEED1: &[Vector] = &[
    (58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 136, "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY="),
    (58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 135, "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY="),
    (58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 136, "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM="),
    (58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 136, 135, "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM="),
    (58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0, "1:lVEtCZpYu84Xqaa++3lXFyuu2n4="),
    (58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4, "1:W8MHwXpWzpoSTD+cGcaJr4u0ys8="),
    (58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 129, "1:GfZxjAkDk2MkegpBYHV6tadtFXQ="),
    (58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 128, "1:GfZxjAkDk2MkegpBYHV6tadtFXQ="),
    (58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 134, "1:L7Ka0ZMYu+J3bL4ulW2PrqyXNo8="),
    (58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 133, "1:K/ee5UCqAMAQXDorP5nSa2CGLjc="),
    (1, "192.168.0.89", "192.168.0.1", 8, 0, "1:03g6IloqVBdcZlPyX8r0hgoE7kA="),
    (1, "192.168.0.1", "192.168.0.89", 0, 8, "1:03g6IloqVBdcZlPyX8r0hgoE7kA="),
    (1, "10.0.0.1", "10.0.0.2", 11, 0, "1:XjUibYHaafLQ3pxQeiMI8g25q20="),
    (6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, "1:eJYTW6AOzFLlSUoESovMjnu7rMw="),
    (6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943, "1:eJYTW6AOzFLlSUoESovMjnu7rMw="),
    (132, "192.168.170.8", "192.168.170.56", 7, 7, "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg="),
    (132, "192.168.170.56", "192.168.170.8", 7, 7, "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg="),
    (6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:3V71V58M3Ksw/yuFALMcW0LAHvc="),
    (6, "66.35.250.204", "128.232.110.120", 80, 34855, "1:3V71V58M3Ksw/yuFALMcW0LAHvc="),
    (17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="),
    (17, "8.8.8.8", "192.168.1.52", 53, 54585, "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="),
    (46, "10.1.12.1", "10.1.12.2", 0, 0, "1:rYir8gphR31noO9iDRQmF/BteEI="),
    (46, "10.1.12.2", "10.1.12.1", 0, 0, "1:rYir8gphR31noO9iDRQmF/BteEI="),
];

/// Suricata's own IDs with seed 7 (suricata-verify test `community-id-ipv6`).
#[rustfmt::skip]
const SURICATA_SEED7: &[Vector] = &[
    (6, "2600:1f13:f8:d400:3a6:303c:e011:18eb", "2607:f8b0:400a:800::200e", 60202, 443, "1:ptJhMvufAbB5nLDNW77cB800wFM="),
    (6, "2600:1f13:f8:d400:3a6:303c:e011:18eb", "2001:4860:4860::8888", 33892, 443, "1:PGf+a0eBbs1OhuPtJmsF0Sm51v4="),
];

fn check_vectors(vectors: &[Vector], seed: u16) {
    for &(proto, src, dst, sport, dport, want) in vectors {
        let src: IpAddr = src.parse().unwrap();
        let dst: IpAddr = dst.parse().unwrap();
        assert_eq!(
            community_id(proto, src, dst, sport, dport, seed),
            want,
            "proto {proto} {src}:{sport} -> {dst}:{dport} seed {seed}"
        );
    }
}

#[test]
fn community_id_matches_the_published_baseline() {
    check_vectors(BASELINE_SEED0, 0);
    check_vectors(BASELINE_SEED1, 1);
    check_vectors(SURICATA_SEED7, 7);
}

#[test]
fn one_way_icmp_keeps_its_direction() {
    // Time exceeded sent by the larger address: the endpoints are not swapped, so the ID
    // differs from the same message the other way.
    let a: IpAddr = "10.0.0.2".parse().unwrap();
    let b: IpAddr = "10.0.0.1".parse().unwrap();
    assert_ne!(
        community_id(1, a, b, 11, 0, 0),
        community_id(1, b, a, 11, 0, 0)
    );
    // An ICMP router advertisement pairs with a solicitation.
    assert_eq!(
        community_id(1, a, b, 9, 0, 0),
        community_id(1, b, a, 10, 0, 0)
    );
}

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scenarios")
        .join(name)
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pcaps")
}

/// Replays a capture through the engine with the EVE output (writing to a file) beside a
/// report collector; returns the EVE lines and the report.
fn replay(path: &Path, seed: u16) -> (Vec<String>, AnalyzeReport) {
    let dir = tempfile::tempdir().unwrap();
    let eve_path = dir.path().join("eve.json");
    let mut engine = Engine::new(&EngineConfig::default());
    let mut sink = Outputs::summary_only(ReportCollector::new(DEFAULT_MAX_REPORT_FLOWS));
    sink.push(Box::new(
        EveOutput::open(&eve_path)
            .unwrap()
            .with_community_id_seed(seed),
    ));
    let mut source = FileSource::open(path).unwrap();
    // A damaged capture counts up to its damage, as in `analyze`.
    while let Ok(Some(frame)) = source.next_frame() {
        engine.process(&frame, &mut sink);
    }
    engine.finish(&mut sink);
    sink.finish();
    // A write error would reach the summary as a warning.
    assert_eq!(sink.summary.warnings, Vec::<String>::new());
    let report = sink.summary.into_report(&engine, Vec::new(), 10);
    let text = std::fs::read_to_string(&eve_path).unwrap();
    (text.lines().map(str::to_string).collect(), report)
}

/// Parses every line; each must be a JSON object (and read back as an `EveRecord`).
fn parse_lines(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let v: Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("line {} is not JSON ({e}): {l}", i + 1));
            assert!(v.is_object(), "line {} is not an object", i + 1);
            serde_json::from_value::<EveRecord>(v.clone())
                .unwrap_or_else(|e| panic!("line {} is not an EVE record ({e}): {l}", i + 1));
            v
        })
        .collect()
}

/// Whether a timestamp looks like Suricata's: `YYYY-MM-DDTHH:MM:SS.ffffff+0000`.
fn suricata_time(v: &Value) -> bool {
    let Some(s) = v.as_str() else { return false };
    let b = s.as_bytes();
    b.len() == 31
        && s.ends_with("+0000")
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b.iter()
            .enumerate()
            .filter(|(i, _)| ![4, 7, 10, 13, 16, 19, 26].contains(i))
            .all(|(_, c)| c.is_ascii_digit())
}

#[test]
fn nmap_syn_scan_replay_writes_valid_eve() {
    let (lines, report) = replay(&scenario("nmap_syn_scan.pcap"), 0);
    let events = parse_lines(&lines);
    let flows: Vec<&Value> = events
        .iter()
        .filter(|v| v["event_type"] == "flow")
        .collect();
    let alerts: Vec<&Value> = events
        .iter()
        .filter(|v| v["event_type"] == "alert")
        .collect();
    // The rest are the transactions: a DNS query and its answer are an event each.
    let transactions = events.len() - flows.len() - alerts.len();
    let expected: usize = report
        .dns
        .iter()
        .map(|t| match &t.details {
            wirewatch_core::TransactionDetails::Dns(d) => {
                usize::from(d.query_seen) + usize::from(d.rcode.is_some())
            }
            _ => 1,
        })
        .sum::<usize>()
        + report.http.len()
        + report.tls.len();
    assert_eq!(
        transactions, expected,
        "flows, alerts and transactions only"
    );
    for e in &events {
        let t = e["event_type"].as_str().unwrap();
        assert!(
            ["flow", "alert", "dns", "http", "tls", "quic"].contains(&t),
            "{t}"
        );
        if t == "dns" {
            assert!(["query", "answer"].contains(&e["dns"]["type"].as_str().unwrap()));
        }
    }
    assert_eq!(flows.len(), report.flows.len());
    assert!(flows.len() > 300, "a scan of 300 ports: {}", flows.len());

    for f in &flows {
        for key in ["src_ip", "dest_ip", "proto", "community_id", "flow_id"] {
            assert!(f.get(key).is_some(), "flow without {key}: {f}");
        }
        assert!(suricata_time(&f["timestamp"]), "{}", f["timestamp"]);
        assert!(suricata_time(&f["flow"]["start"]), "{}", f["flow"]["start"]);
        assert!(suricata_time(&f["flow"]["end"]), "{}", f["flow"]["end"]);
        for key in [
            "pkts_toserver",
            "pkts_toclient",
            "bytes_toserver",
            "bytes_toclient",
            "age",
        ] {
            assert!(f["flow"][key].is_u64(), "flow.{key}: {f}");
        }
        assert!(["new", "established", "closed"].contains(&f["flow"]["state"].as_str().unwrap()));
        assert!(["timeout", "forced", "shutdown"].contains(&f["flow"]["reason"].as_str().unwrap()));
        assert!(f["flow"]["alerted"].is_boolean());
        match f["proto"].as_str().unwrap() {
            "TCP" => {
                assert!(f["src_port"].is_u64() && f["dest_port"].is_u64());
                let flags = f["tcp"]["tcp_flags"].as_str().unwrap();
                assert!(
                    flags.len() == 2 && u8::from_str_radix(flags, 16).is_ok(),
                    "{flags}"
                );
            }
            "UDP" => assert!(f["src_port"].is_u64() && f.get("tcp").is_none()),
            "ICMP" => assert!(f["icmp_type"].is_u64() && f.get("src_port").is_none()),
            other => panic!("unexpected protocol {other}"),
        }
    }
    // The same community ID always goes with the same flow id.
    let mut ids: BTreeMap<&str, u64> = BTreeMap::new();
    for f in &flows {
        let cid = f["community_id"].as_str().unwrap();
        let fid = f["flow_id"].as_u64().unwrap();
        assert_eq!(*ids.entry(cid).or_insert(fid), fid);
    }
    // The SYN scan's flows: half-open, to 10.210.0.2, from the scanner.
    let scan_flows = flows
        .iter()
        .filter(|f| f["src_ip"] == "10.210.0.1" && f["dest_ip"] == "10.210.0.2")
        .count();
    assert!(scan_flows >= 300, "{scan_flows}");

    // Every incident opens with one alert event and ends with another (its severity may have
    // risen in between), the port scan among them.
    let opened = |a: &Value| a["wirewatch"]["status"] == "opened";
    let ended = |a: &Value| a["wirewatch"]["status"] == "ended";
    assert_eq!(
        alerts.iter().filter(|a| opened(a)).count(),
        report.alerts.len()
    );
    assert_eq!(
        alerts.iter().filter(|a| ended(a)).count(),
        report.alerts.len()
    );
    let scan = alerts
        .iter()
        .find(|a| a["alert"]["category"] == "port_scan" && opened(a))
        .expect("a port-scan alert");
    assert_eq!(scan["src_ip"], "10.210.0.1");
    assert_eq!(scan["dest_ip"], "10.210.0.2");
    assert_eq!(scan["proto"], "TCP");
    assert!(suricata_time(&scan["timestamp"]));
    let a = &scan["alert"];
    assert_eq!(a["action"], "allowed");
    assert_eq!(a["gid"], 1);
    assert_eq!(a["signature_id"], 1_970_003);
    assert_eq!(a["rev"], 1);
    assert!(a["signature"].as_str().is_some_and(|s| !s.is_empty()));
    assert!((1..=3).contains(&a["severity"].as_u64().unwrap()));
    assert_eq!(a["metadata"]["wirewatch_kind"][0], "port_scan");
    assert!(a["metadata"]["confidence"][0].is_string());
    // The scanner's flows that ended while the incident was open are marked.
    assert!(
        flows
            .iter()
            .any(|f| f["src_ip"] == "10.210.0.1" && f["flow"]["alerted"] == true)
    );
    assert!(
        flows
            .iter()
            .filter(|f| f["src_ip"] == "10.210.0.3" && f["dest_ip"] == "10.210.0.2")
            .all(|f| f["flow"]["alerted"] == false),
        "background traffic is not alerted"
    );
}

#[test]
fn an_existing_eve_file_is_appended_to() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("eve.json");
    std::fs::write(&path, "{\"event_type\":\"stats\"}\n").unwrap();
    let mut engine = Engine::new(&EngineConfig::default());
    let mut sink = Outputs::summary_only(ReportCollector::new(10));
    sink.push(Box::new(EveOutput::open(&path).unwrap()));
    let mut source = FileSource::open(&scenario("nmap_syn_scan.pcap")).unwrap();
    while let Ok(Some(frame)) = source.next_frame() {
        engine.process(&frame, &mut sink);
    }
    engine.finish(&mut sink);
    sink.finish();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("{\"event_type\":\"stats\"}\n"));
    assert!(text.lines().count() > 300);
}

/// Whether tshark with its Community ID dissector can be run.
fn tshark_available() -> bool {
    Command::new("tshark")
        .args(["-G", "protocols"])
        .output()
        .is_ok_and(|o| {
            o.status.success() && String::from_utf8_lossy(&o.stdout).contains("\tcommunityid")
        })
}

/// tshark's Community ID of every packet that has one.
fn tshark_ids(path: &Path, seed: u16) -> BTreeSet<String> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(path)
        .args(["--enable-protocol", "communityid", "-o"])
        .arg(format!("communityid.seed:{seed}"))
        .args(["-T", "fields", "-e", "communityid"])
        .output()
        .expect("run tshark");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .flat_map(|l| l.split(','))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn flow_ids(lines: &[String]) -> BTreeSet<String> {
    parse_lines(lines)
        .iter()
        .filter(|v| v["event_type"] == "flow")
        .map(|v| v["community_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn community_ids_equal_tshark_on_the_scan_capture() {
    if !tshark_available() {
        wirewatch_testkit::skip(format_args!(
            "tshark with the communityid dissector is not installed"
        ));
        return;
    }
    let path = scenario("nmap_syn_scan.pcap");
    for seed in [0, 1] {
        let (lines, _) = replay(&path, seed);
        let ours = flow_ids(&lines);
        let theirs = tshark_ids(&path, seed);
        assert_eq!(
            ours,
            theirs,
            "seed {seed}: only ours {:?}, only tshark's {:?}",
            ours.difference(&theirs).collect::<Vec<_>>(),
            theirs.difference(&ours).collect::<Vec<_>>()
        );
    }
}

/// Corpus captures where the flow table and tshark legitimately see different tuples, with
/// the reason (see `shared/pcaps/README.md`). Every other capture must give exactly tshark's
/// set of Community IDs.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    ("4in4tunnel.pcap", "tunnel: tshark hashes the inner header"),
    ("4in6tunnel.pcap", "tunnel: tshark hashes the inner header"),
    ("6in4tunnel.pcap", "tunnel: tshark hashes the inner header"),
    ("6in6tunnel.pcap", "tunnel: tshark hashes the inner header"),
    ("ipv6_in_gtp.pcap", "tunnel: tshark hashes the inner header"),
    (
        "sv_geneve-decoder.pcap",
        "tunnel: tshark hashes the inner header",
    ),
    (
        "sv_vxlan-decoder-01.pcap",
        "tunnel: tshark hashes the inner header",
    ),
    (
        "tunnels_Teredo.pcap",
        "tunnel: tshark hashes the inner header",
    ),
    (
        "tunnels_gre-sample.pcap",
        "tunnel: tshark hashes the inner header",
    ),
    (
        "tunnels_vxlan.pcap",
        "tunnel: tshark hashes the inner header",
    ),
    ("dns_fragmented.pcap", "IP fragments: tshark reassembles"),
    (
        "ip_fragmented_garbage.pcap",
        "IP fragments: tshark reassembles",
    ),
    ("ipv4_fragmented-1.pcap", "IP fragments: tshark reassembles"),
    (
        "ipv4_fragmented-syn.pcap",
        "IP fragments: tshark reassembles",
    ),
    (
        "ipv6-fragmented-dns.pcap",
        "IP fragments: tshark reassembles",
    ),
    (
        "sv_defrag_bug-6887-defrag-eth-vlan-ipv4-tcp-syn.pcap",
        "IP fragments: tshark reassembles",
    ),
    ("fuzz-2020-02-16-11740.pcap", "fuzzed headers"),
    ("kerberos_fuzz.pcapng", "fuzzed headers"),
    (
        "trunc_icmp-header-trunc.pcap",
        "tshark hashes a truncated ICMP header without ports",
    ),
    (
        "icmp-tunnel.pcap",
        "an echo flow restarts with a reply; flow records keep no ICMP type",
    ),
    ("someip_sd_sample.pcap", "PPI link type, not decoded"),
    ("radiotap.pcap", "802.11 radiotap link type, not decoded"),
];

/// pcap (either byte order, micro- or nanoseconds) and pcapng magic numbers.
fn is_capture(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && matches!(
            u32::from_le_bytes(magic),
            0xa1b2_c3d4 | 0xd4c3_b2a1 | 0xa1b2_3c4d | 0x4d3c_b2a1 | 0x0a0d_0d0a
        )
}

fn captures_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            captures_under(&path, out);
        } else if is_capture(&path) {
            out.push(path);
        }
    }
}

#[test]
fn community_ids_equal_tshark_on_the_public_corpus() {
    let corpus = corpus_dir();
    if !corpus.is_dir() {
        wirewatch_testkit::skip(format_args!("{} is absent", corpus.display()));
        return;
    }
    if !tshark_available() {
        wirewatch_testkit::skip(format_args!(
            "tshark with the communityid dissector is not installed"
        ));
        return;
    }
    let mut files = Vec::new();
    captures_under(&corpus, &mut files);
    files.sort();
    let mut failures = Vec::new();
    let mut compared = 0;
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // Every line is JSON with the EVE fields, whatever the capture.
        let (lines, report) = replay(path, 0);
        let flows = parse_lines(&lines)
            .iter()
            .filter(|v| v["event_type"] == "flow")
            .count();
        assert_eq!(flows, report.flows.len(), "{name}");
        if KNOWN_DIFFERENCES.iter().any(|(n, _)| *n == name) {
            continue;
        }
        compared += 1;
        let ours = flow_ids(&lines);
        let theirs = tshark_ids(path, 0);
        if ours != theirs {
            failures.push(format!(
                "{name}: only ours {:?}, only tshark's {:?}",
                ours.difference(&theirs).collect::<Vec<_>>(),
                theirs.difference(&ours).collect::<Vec<_>>()
            ));
        }
    }
    eprintln!(
        "{} captures, {compared} compared with tshark, {} differ",
        files.len(),
        failures.len()
    );
    assert!(
        compared > 0,
        "no capture compared under {}",
        corpus.display()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn suricata_community_ids_with_seed_7() {
    let path = corpus_dir().join("suricata-verify/sv_community-id-ipv6.pcap");
    if !path.is_file() {
        wirewatch_testkit::skip(format_args!("{} is absent", path.display()));
        return;
    }
    // The IDs suricata-verify expects of Suricata on this capture with seed 7.
    let (lines, _) = replay(&path, 7);
    let want: BTreeSet<String> = [
        "1:ptJhMvufAbB5nLDNW77cB800wFM=",
        "1:PGf+a0eBbs1OhuPtJmsF0Sm51v4=",
    ]
    .map(str::to_string)
    .into();
    assert_eq!(flow_ids(&lines), want);
    for v in parse_lines(&lines) {
        if v["event_type"] == "flow" {
            assert_eq!(v["proto"], "TCP");
            assert_eq!(v["dest_port"], 443);
            assert_eq!(v["app_proto"], "tls");
        }
    }
}

#[test]
fn run_writes_eve_lines_for_every_flow_and_alert() {
    let dir = tempfile::tempdir().unwrap();
    let eve = dir.path().join("eve.json");
    let pcap = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scenarios/nmap_syn_scan.pcap");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args([
            "run",
            "--read",
            pcap.to_str().unwrap(),
            "--speed",
            "max",
            "--no-web",
            "--no-db",
            "--json",
            "--eve",
            eve.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let text = std::fs::read_to_string(&eve).unwrap();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let flows = events.iter().filter(|e| e["event_type"] == "flow").count();
    assert_eq!(flows, report["flows"].as_array().unwrap().len());
    let alert = events
        .iter()
        .find(|e| e["event_type"] == "alert")
        .expect("the scan's alert");
    assert_eq!(alert["src_ip"], "10.210.0.1");
    assert_eq!(alert["alert"]["category"], "port_scan");
    assert!(
        events
            .iter()
            .filter(|e| e["event_type"] == "flow")
            .all(|e| e["community_id"].as_str().unwrap().starts_with("1:"))
    );
}

#[test]
fn analyze_writes_the_same_eve_lines_as_the_live_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scenarios/nmap_syn_scan.pcap");
    let eve_of = |args: &[&str], name: &str| {
        let eve = dir.path().join(name);
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_wirewatch"))
            .args(args)
            .arg(&pcap)
            .arg("--eve")
            .arg(&eve)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut lines: Vec<String> = std::fs::read_to_string(&eve)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        lines.sort();
        lines
    };
    let offline = eve_of(&["analyze", "--json", "--no-progress"], "analyze.json");
    let live = eve_of(
        &[
            "run", "--speed", "max", "--no-web", "--no-db", "--json", "--read",
        ],
        "run.json",
    );
    assert!(offline.len() > 100, "{}", offline.len());
    assert!(
        offline
            .iter()
            .any(|l| l.contains("\"event_type\":\"alert\""))
    );
    assert_eq!(offline, live);
}
