//! Wirewatch against tshark: every capture in `../shared/pcaps/` whose reference result is in
//! `../shared/pcaps/truth/` must give the same totals, protocol counts, TCP flag counts,
//! distinct addresses and per-5-tuple packet and byte counts. Legitimate differences are listed
//! in `KNOWN_DIFFERENCES` with the reason; an entry that no longer differs fails the test too,
//! so the list stays honest. Skips cleanly when `../shared` is absent.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

mod corpus;

use corpus::{capture_for, corpus};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use wirewatch::analyze::{AnalyzeOptions, AnalyzeReport, NoProgress, analyze_files};

/// Why fragment files differ: tshark counts reassembled datagrams, Wirewatch fragments.
const FRAGMENTS: &str = "IP fragments: tshark reassembles and counts a datagram once, in the frame \
    that completes it (with that frame's length), and reads ports and TCP flags only there; \
    Wirewatch counts every fragment as a packet with its own bytes in the flow of its first \
    fragment (a port-less flow when the first fragment is missing or too short for the \
    transport header: then the frame completing the datagram is its packet in the 5-tuple \
    flow, with its TCP flags, as tshark counts it) and reassembles for the application layer";

/// (file, check, reason): where our view of a capture legitimately differs from tshark's.
const KNOWN_DIFFERENCES: &[(&str, &str, &str)] = &[
    ("dns_fragmented.pcap", "conversations", FRAGMENTS),
    ("fuzz-2020-02-16-11740.pcap", "conversations", FRAGMENTS),
    ("ip_fragmented_garbage.pcap", "conversations", FRAGMENTS),
    ("ipv4_fragmented-1.pcap", "conversations", FRAGMENTS),
    ("ipv4_fragmented-syn.pcap", "conversations", FRAGMENTS),
    ("ipv6-fragmented-dns.pcap", "conversations", FRAGMENTS),
    (
        "sv_defrag_bug-6887-defrag-eth-vlan-ipv4-tcp-syn.pcap",
        "conversations",
        FRAGMENTS,
    ),
    (
        "fuzz-2021-10-13.pcap",
        "first_ts",
        "the record's nanosecond field is 1,882,137,472 (invalid, >= 10^9); tshark prints it \
         unnormalised as .1882137472, Wirewatch carries the whole second into the seconds",
    ),
    (
        "trunc_ipv4-internally-truncated-header.pcap",
        "addresses",
        "the IPv4 header claims 60 bytes but only the 20 fixed bytes were captured; tshark \
         stops after the source address, Wirewatch keeps the destination it has",
    ),
];

/// Captures whose traffic is tunnelled (IP-in-IP, GRE, VXLAN, GTP): Wirewatch counts each frame
/// once, by its outer protocol, and opens the tunnel for flows (so conversations, inner ones
/// included, equal tshark's); a frame's TCP flags are its first TCP header's, an inner one's
/// when the outer headers have none, as tshark's.
const TUNNELLED: &[&str] = &[
    "4in4tunnel.pcap",
    "4in6tunnel.pcap",
    "6in4tunnel.pcap",
    "6in6tunnel.pcap",
    "ipv6_in_gtp.pcap",
    "sv_vxlan-decoder-01.pcap",
    "tunnels_gre-sample.pcap",
];

type ConvKey = (String, (String, u16), (String, u16));
/// Per direction (lower endpoint → higher, higher → lower): frames and bytes.
type ConvCounts = [(u64, u64); 2];

fn conv_key(proto: &str, a: (String, u16), b: (String, u16)) -> (ConvKey, bool) {
    if a <= b {
        ((proto.to_string(), a, b), false)
    } else {
        ((proto.to_string(), b, a), true)
    }
}

fn truth_conversations(truth: &Value) -> BTreeMap<ConvKey, ConvCounts> {
    let mut out: BTreeMap<ConvKey, ConvCounts> = BTreeMap::new();
    for proto in ["tcp", "udp"] {
        for c in truth["conversations"][proto]
            .as_array()
            .into_iter()
            .flatten()
        {
            let a = (
                c["a"].as_str().unwrap_or("").to_string(),
                c["a_port"].as_u64().unwrap_or(0) as u16,
            );
            let b = (
                c["b"].as_str().unwrap_or("").to_string(),
                c["b_port"].as_u64().unwrap_or(0) as u16,
            );
            let (key, swapped) = conv_key(proto, a, b);
            let e = out.entry(key).or_default();
            let ab = (
                c["frames_a_to_b"].as_u64().unwrap_or(0),
                c["bytes_a_to_b"].as_u64().unwrap_or(0),
            );
            let ba = (
                c["frames_b_to_a"].as_u64().unwrap_or(0),
                c["bytes_b_to_a"].as_u64().unwrap_or(0),
            );
            let (lo_hi, hi_lo) = if swapped { (ba, ab) } else { (ab, ba) };
            e[0].0 += lo_hi.0;
            e[0].1 += lo_hi.1;
            e[1].0 += hi_lo.0;
            e[1].1 += hi_lo.1;
        }
    }
    out
}

fn our_conversations(report: &AnalyzeReport) -> BTreeMap<ConvKey, ConvCounts> {
    let mut out: BTreeMap<ConvKey, ConvCounts> = BTreeMap::new();
    for f in &report.flows {
        let proto = match f.ip_proto {
            6 => "tcp",
            17 => "udp",
            _ => continue,
        };
        let a = (f.src_ip.to_string(), f.src_port);
        let b = (f.dst_ip.to_string(), f.dst_port);
        let (key, swapped) = conv_key(proto, a, b);
        let e = out.entry(key).or_default();
        let (lo_hi, hi_lo) = if swapped {
            (f.rev, f.fwd)
        } else {
            (f.fwd, f.rev)
        };
        e[0].0 += lo_hi.packets;
        e[0].1 += lo_hi.bytes;
        e[1].0 += hi_lo.packets;
        e[1].1 += hi_lo.bytes;
    }
    out
}

/// Compares one capture; returns the names of the checks that differ, with details.
fn compare(truth: &Value, r: &AnalyzeReport) -> BTreeMap<&'static str, String> {
    let mut diffs = BTreeMap::new();
    fn check(
        diffs: &mut BTreeMap<&'static str, String>,
        name: &'static str,
        ours: Vec<u64>,
        theirs: Vec<u64>,
    ) {
        if ours != theirs {
            diffs.insert(name, format!("wirewatch {ours:?} vs tshark {theirs:?}"));
        }
    }
    let n = |v: &Value| v.as_u64().unwrap_or(u64::MAX);
    let t = &truth["totals"];
    check(
        &mut diffs,
        "totals",
        vec![r.packets, r.bytes, r.captured_bytes],
        vec![n(&t["packets"]), n(&t["bytes"]), n(&t["captured_bytes"])],
    );
    let p = &truth["ip_proto_outer"];
    let pr = &r.protocols;
    check(
        &mut diffs,
        "protocols",
        vec![pr.tcp, pr.udp, pr.icmp, pr.icmpv6, pr.other_ip, pr.non_ip],
        vec![
            n(&p["TCP"]),
            n(&p["UDP"]),
            n(&p["ICMP"]),
            n(&p["ICMPv6"]),
            n(&p["other"]),
            n(&truth["ip"]["non_ip_packets"]),
        ],
    );
    let f = &truth["tcp_flags"];
    let fr = &r.tcp_flags;
    let ours = vec![fr.syn, fr.syn_ack, fr.rst, fr.fin];
    let theirs = vec![
        n(&f["syn_without_ack"]),
        n(&f["syn_ack"]),
        n(&f["rst"]),
        n(&f["fin"]),
    ];
    check(&mut diffs, "tcp_flags", ours, theirs);
    let a = &truth["addresses"];
    check(
        &mut diffs,
        "addresses",
        vec![r.distinct_src_ips, r.distinct_dst_ips],
        vec![n(&a["distinct_src_ips"]), n(&a["distinct_dst_ips"])],
    );
    // Timestamps: within a microsecond.
    if let (Some(first), Some(ours)) = (
        t["first_ts"].as_str().and_then(|s| s.parse::<f64>().ok()),
        r.first_ts,
    ) && (first - ours).abs() > 1e-6
    {
        diffs.insert("first_ts", format!("wirewatch {ours} vs tshark {first}"));
    }
    // Tunnelled captures included: their inner conversations are flows of their own.
    let theirs = truth_conversations(truth);
    let ours = our_conversations(r);
    if theirs != ours {
        let keys: BTreeSet<&ConvKey> = theirs.keys().chain(ours.keys()).collect();
        let detail: Vec<String> = keys
            .into_iter()
            .filter(|k| theirs.get(*k) != ours.get(*k))
            .take(4)
            .map(|k| {
                format!(
                    "{k:?}: wirewatch {:?} vs tshark {:?}",
                    ours.get(k),
                    theirs.get(k)
                )
            })
            .collect();
        diffs.insert("conversations", detail.join("; "));
    }
    diffs
}

#[test]
fn counts_match_tshark_on_the_public_corpus() {
    let Some(corpus) = corpus() else {
        wirewatch_testkit::skip(format_args!("../shared/pcaps not found"));
        return;
    };
    let mut truth_files: Vec<PathBuf> = std::fs::read_dir(corpus.join("truth"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    truth_files.sort();
    let mut failures = Vec::new();
    let mut used_exceptions = BTreeSet::new();
    let mut compared = 0;
    for tf in &truth_files {
        let truth: Value = serde_json::from_str(&std::fs::read_to_string(tf).unwrap()).unwrap();
        let name = truth["file"]["name"].as_str().unwrap().to_string();
        let Some(capture) = capture_for(&corpus, &name) else {
            continue;
        };
        let report = analyze_files(&[capture], &AnalyzeOptions::default(), &mut NoProgress);
        compared += 1;
        let tunnelled = TUNNELLED.contains(&name.as_str());
        if tunnelled {
            // Inner flows name the tunnel they travel in.
            let inner = report.flows.iter().filter(|f| f.tunnel.is_some()).count();
            assert!(inner > 0, "{name}: no flow names its tunnel");
            assert_eq!(
                report.tunnelled_packets > 0,
                inner > 0,
                "{name}: tunnelled packets without tunnelled flows"
            );
        } else {
            assert!(
                report.flows.iter().all(|f| f.tunnel.is_none()) || report.tunnelled_packets > 0,
                "{name}: a tunnel parent without a tunnel"
            );
        }
        let diffs = compare(&truth, &report);
        for (check, detail) in &diffs {
            match KNOWN_DIFFERENCES
                .iter()
                .find(|(f, c, _)| *f == name && c == check)
            {
                Some(_) => {
                    used_exceptions.insert((name.clone(), check.to_string()));
                }
                None => failures.push(format!("{name}: {check}: {detail}")),
            }
        }
    }
    for (file, check, reason) in KNOWN_DIFFERENCES {
        if !used_exceptions.contains(&(file.to_string(), check.to_string())) {
            failures.push(format!("{file}: {check}: listed as a known difference ({reason}) but it matches now: remove it from the list"));
        }
    }
    assert!(compared > 50, "only {compared} captures compared");
    assert!(
        failures.is_empty(),
        "{} differences from tshark:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
