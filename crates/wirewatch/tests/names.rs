//! The names users look for (DNS query names, HTTP hosts, TLS and QUIC server names) against
//! tshark on the public corpus: `analyze --json` lists them in its `dns`, `http` and `tls`
//! transactions (and flows' server names). What is still missed is named in `KNOWN_MISSES`
//! with the reason, and a miss that is found again fails the test, so the list stays honest.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod corpus;

use corpus::{capture_for, corpus};
use serde_json::Value;
use std::collections::BTreeSet;
use wirewatch::analyze::{AnalyzeOptions, NoProgress, analyze_files};
use wirewatch_core::TransactionDetails;

/// (file, name, why): names tshark finds that Wirewatch does not, yet.
const KNOWN_MISSES: &[(&str, &str, &str)] = &[
    (
        "sv_vxlan-decoder-01.pcap",
        "localhost",
        "the only DNS message is a query to UDP port 32021 outside the tunnel, which tshark's \
         heuristics read as DNS; Wirewatch decodes DNS on the DNS ports",
    ),
    (
        "icmp_icmp-destunreach-udp.pcap",
        "secure.ed4.net",
        "the query is quoted inside an ICMP error; an ICMP error is not a DNS transaction",
    ),
];

/// The printable names tshark found in a capture.
fn truth_names(truth: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut add = |v: &Value| {
        for n in v.as_array().into_iter().flatten().filter_map(Value::as_str) {
            // Only printable names compare: tshark's placeholders (`<Name too long>`), its
            // escapes of unprintable bytes (`\001`) and the replacement characters it prints
            // for other bytes are not names a user types.
            let printable = n.bytes().all(|b| (0x20..0x7f).contains(&b));
            if printable && !n.is_empty() && !n.starts_with('<') && !n.contains('\\') {
                names.insert(n.to_string());
            }
        }
    };
    add(&truth["dns"]["query_names"]);
    add(&truth["dns"]["response_question_names"]);
    add(&truth["http"]["hosts"]);
    for k in ["sni", "quic_sni", "gquic_sni"] {
        add(&truth["tls"][k]);
    }
    names
}

#[test]
fn the_names_tshark_finds_are_in_the_transactions() {
    let Some(dir) = corpus() else {
        wirewatch_testkit::skip(format_args!("../shared/pcaps not found"));
        return;
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir.join("truth"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    let (mut wanted, mut found) = (0usize, 0usize);
    let mut misses = BTreeSet::new();
    for truth_path in entries {
        let name = truth_path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".json")
            .to_string();
        let Some(capture) = capture_for(&dir, &name) else {
            continue;
        };
        let truth: Value =
            serde_json::from_str(&std::fs::read_to_string(&truth_path).unwrap()).unwrap();
        let want = truth_names(&truth);
        if want.is_empty() {
            continue;
        }
        let report = analyze_files(&[capture], &AnalyzeOptions::default(), &mut NoProgress);
        let mut have = BTreeSet::new();
        for t in report.dns.iter().chain(&report.http).chain(&report.tls) {
            if let Some(n) = t.name() {
                have.insert(n.to_string());
                // An HTTP Host may carry a port; tshark's hosts do too, or not.
                if let Some((host, _)) = n.rsplit_once(':') {
                    have.insert(host.to_string());
                }
            }
            assert_eq!(
                matches!(t.details, TransactionDetails::Dns(_)),
                t.kind() == "dns"
            );
        }
        for f in &report.flows {
            if let Some(n) = f.server_name() {
                have.insert(n.to_string());
            }
        }
        wanted += want.len();
        for n in &want {
            if have.contains(n) {
                found += 1;
            } else {
                misses.insert((name.clone(), n.clone()));
            }
        }
    }
    let known: BTreeSet<(String, String)> = KNOWN_MISSES
        .iter()
        .map(|(f, n, _)| (f.to_string(), n.to_string()))
        .collect();
    let new: Vec<_> = misses.difference(&known).collect();
    let fixed: Vec<_> = known.difference(&misses).collect();
    println!("names: {found} of {wanted} found");
    assert!(
        new.is_empty(),
        "names tshark finds and Wirewatch misses: {new:?}"
    );
    assert!(
        fixed.is_empty(),
        "found now, take them off KNOWN_MISSES: {fixed:?}"
    );
    assert!(wanted > 250, "the corpus has {wanted} names");
}
