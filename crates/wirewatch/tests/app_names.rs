//! Application names and protocols against two tools nobody here wrote, on the public corpus in
//! `../shared/pcaps/` (skips cleanly when it is absent):
//!
//! - every name tshark found (`truth/<capture>.json`: DNS query names, HTTP hosts, TLS SNI, QUIC
//!   and gQUIC SNI) must be among the names our flows carry, in the same category;
//! - for every flow nDPI and Wirewatch both classify from the payload
//!   (`ndpi/result/<capture>.out`), the application protocols and server names must agree.
//!
//! Names are compared exactly, not lower-cased: both tools print a name as the bytes on the wire
//! (DNS is case-preserving, and resolvers that randomise the case of a query make it worth
//! keeping), tshark and Wirewatch escape odd DNS bytes alike (`\DDD`, like `dig`), and HTTP hosts
//! and SNI are kept verbatim by both, so any difference in case or escaping is a real one. Only
//! the nDPI comparison ignores case, as nDPI lower-cases the names it reports.
//!
//! Legitimate differences are listed with the reason; an entry that no longer differs fails the
//! test too, so the lists stay honest. `PENDING_QUIC` holds the QUIC expectations that fail only
//! because QUIC payloads are not classified yet: empty it once they are.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

mod corpus;

use corpus::{capture_for, corpus};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use wirewatch::analyze::{AnalyzeOptions, NoProgress, analyze_files};
use wirewatch_core::{AppProto, AppSource, FlowRecord, NameSource};

/// QUIC expectations that fail only because QUIC payloads are not classified yet: (capture,
/// name). The name is a server name tshark decoded from a QUIC Initial or gQUIC CHLO (first
/// test), which nDPI also reports for its QUIC flow (second test); a QUIC flow nDPI names nothing
/// is keyed by nDPI's flow text instead (`UDP 10.0.0.4:40134 -> 10.0.0.3:6121`). Empty now: every
/// QUIC expectation of the corpus passes since QUIC classification landed (IETF v1/v2 Initials
/// and gQUIC CHLOs). An entry that passes fails the tests as stale, so the list cannot hide a fix.
const PENDING_QUIC: &[(&str, &str)] = &[];

/// Why two IMAPS connections inside the 6in4 tunnel stay a port guess.
const IMAPS_MIDSTREAM: &str = "the tunnel carries only the middle of these IMAPS connections: TLS \
    records without a ClientHello or ServerHello; nDPI recognises TLS from record headers, \
    Wirewatch confirms TLS only from a hello, so the flow stays a port guess";

/// (capture, name tshark found or `*` for all of them, reason): names tshark lists that our flows
/// legitimately do not carry.
const KNOWN_DIFFERENCES: &[(&str, &str, &str)] = &[
    (
        "sv_vxlan-decoder-01.pcap",
        "localhost",
        "the only DNS message is a query in frame 3, plain UDP 185.27.115.6:12345 -> \
         109.105.110.193:32021 (outside the VXLAN tunnel): tshark recognises it with its \
         heuristic UDP DNS dissector, Wirewatch decodes DNS only on ports 53, 5353 and 5355",
    ),
    (
        "dns-tunnel-iodine.pcap",
        "*",
        "iodine sends all 222 distinct query names on one UDP flow (10.0.2.30:44639 -> \
         10.0.2.20:53) and Wirewatch keeps the first MAX_DNS_QUERIES_PER_FLOW (4) distinct names \
         of a flow, so the union over flows is those 4; besides, 41 of tshark's names hold raw \
         8-bit bytes that truth.py stored as U+FFFD where Wirewatch writes `\\DDD` (the 4th name \
         we keep, `...J\\228germeister-.pirate.sea`, is one of them)",
    ),
];

/// (capture, check, nDPI's flow text as printed in the `.out` file or `*`, reason): where nDPI
/// and Wirewatch legitimately differ. Checks: `protocol` (both classify the payload, differently),
/// `name` (different server names), `unclassified` (nDPI recognises one of our payload
/// protocols, Wirewatch only guesses from the port or not at all), `unmatched` (no Wirewatch
/// TCP/UDP flow between nDPI's endpoints).
const NDPI_KNOWN_DIFFERENCES: &[(&str, &str, &str, &str)] = &[
    (
        "6in4tunnel.pcap",
        "unclassified",
        "TCP [2604:a880:1:20::224:b001]:993 <-> [2001:470:1f17:13f:6d69:c72:7313:616f]:35610",
        IMAPS_MIDSTREAM,
    ),
    (
        "6in4tunnel.pcap",
        "unclassified",
        "TCP [2604:a880:1:20::224:b001]:993 <-> [2001:470:1f17:13f:6d69:c72:7313:616f]:56381",
        IMAPS_MIDSTREAM,
    ),
    (
        "dns-invalid-chars.pcap",
        "name",
        "UDP 127.0.0.1:35980 <-> 127.0.0.1:53",
        "the crafted query and response carry different question names: nDPI reports the \
         response's (`www.allyourbasesare???ongto.cn`, odd bytes as `?`), Wirewatch the query's \
         (`www.allyourba\\004\\005\\006arebelongto.cn`, as tshark prints it)",
    ),
    (
        "http_ipv6.pcap",
        "unclassified",
        "TCP [2a00:d40:1:3:7aac:c0ff:fea7:d4c]:41776 <-> [2a00:1450:4001:803::1017]:443",
        "the capture holds only the middle of this connection: TLS application-data records \
         (type 23), no ClientHello or ServerHello; nDPI recognises TLS from record headers, \
         Wirewatch confirms TLS only from a hello, so the flow stays a port guess",
    ),
];

/// The flows of one capture, run through the engine once and shared by both tests.
fn flows_of(capture: &Path) -> Arc<Vec<FlowRecord>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<Vec<FlowRecord>>>>> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap();
    cache
        .entry(capture.to_path_buf())
        .or_insert_with(|| {
            let report = analyze_files(
                &[capture.to_path_buf()],
                &AnalyzeOptions::default(),
                &mut NoProgress,
            );
            Arc::new(report.flows)
        })
        .clone()
}

fn truth_files(corpus: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus.join("truth"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn read_truth(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The strings of a truth list (`null` or missing: none).
fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// The tshark name lists compared, with whether they come from QUIC.
const TRUTH_LISTS: &[(&str, &str, bool)] = &[
    ("dns", "query_names", false),
    ("http", "hosts", false),
    ("tls", "sni", false),
    ("tls", "quic_sni", true),
    ("tls", "gquic_sni", true),
];

/// The names our flows carry from their payloads, by category (names learned from DNS answers,
/// `PassiveDns`, are left out: they say what an address resolved to, not what the flow carried).
#[derive(Default)]
struct OurNames {
    dns: BTreeSet<String>,
    http: BTreeSet<String>,
    tls: BTreeSet<String>,
    quic: BTreeSet<String>,
}

impl OurNames {
    fn collect(flows: &[FlowRecord]) -> OurNames {
        let mut n = OurNames::default();
        for d in flows.iter().filter_map(|f| f.details.as_deref()) {
            n.dns.extend(d.dns_queries.iter().cloned());
            if let Some(host) = d.http.as_ref().and_then(|h| h.host.clone()) {
                n.http.insert(host);
            }
            if let (Some(name), Some(source)) = (&d.server_name, d.server_name_source) {
                let set = match source {
                    NameSource::DnsQuery => &mut n.dns,
                    NameSource::HttpHost => &mut n.http,
                    NameSource::TlsSni => &mut n.tls,
                    NameSource::QuicSni => &mut n.quic,
                    NameSource::PassiveDns => continue,
                };
                set.insert(name.clone());
            }
        }
        n
    }

    /// Ours in the category of tshark's list `list`.
    fn for_list(&self, list: &str) -> &BTreeSet<String> {
        match list {
            "query_names" => &self.dns,
            "hosts" => &self.http,
            "sni" => &self.tls,
            _ => &self.quic,
        }
    }
}

#[test]
fn names_found_match_tshark_on_the_public_corpus() {
    let Some(corpus) = corpus() else {
        wirewatch_testkit::skip(format_args!("../shared/pcaps not found"));
        return;
    };
    let mut failures = Vec::new();
    let mut used_known = BTreeSet::new();
    let mut used_pending = BTreeSet::new();
    let mut relevant_pending = BTreeSet::new();
    let (mut captures, mut compared) = (0, 0);
    for tf in truth_files(&corpus) {
        let truth = read_truth(&tf);
        let name = truth["file"]["name"].as_str().unwrap().to_string();
        let Some(capture) = capture_for(&corpus, &name) else {
            continue;
        };
        captures += 1;
        let ours = OurNames::collect(&flows_of(&capture));
        let (mut theirs, mut explained) = (0, 0);
        for &(section, list, quic) in TRUTH_LISTS {
            for n in strings(&truth[section][list]) {
                theirs += 1;
                if quic && let Some(i) = PENDING_QUIC.iter().position(|e| *e == (&*name, &*n)) {
                    relevant_pending.insert(i);
                }
                if ours.for_list(list).contains(&n) {
                    continue;
                }
                if quic && let Some(i) = PENDING_QUIC.iter().position(|e| *e == (&*name, &*n)) {
                    used_pending.insert(i);
                } else if let Some(i) = KNOWN_DIFFERENCES
                    .iter()
                    .position(|(f, k, _)| *f == name && (*k == n || *k == "*"))
                {
                    used_known.insert(i);
                } else {
                    let near: Vec<&String> = ours.for_list(list).iter().take(6).collect();
                    failures.push(format!(
                        "{name}: tshark's {section}.{list} name {n:?} is not among ours \
                         (ours in that category, first 6: {near:?})"
                    ));
                    continue;
                }
                explained += 1;
            }
        }
        // A capture exempt as a whole (`*`) does not count towards the minimum compared.
        if !KNOWN_DIFFERENCES
            .iter()
            .any(|(f, k, _)| *f == name && *k == "*")
        {
            compared += theirs;
        }
        if theirs > 0 {
            eprintln!("{name}: {theirs} tshark names, {explained} missing and explained");
        }
    }
    for (i, (file, n, reason)) in KNOWN_DIFFERENCES.iter().enumerate() {
        if !used_known.contains(&i) {
            failures.push(format!(
                "{file}: {n:?}: listed as a known difference ({reason}) but it matches now: \
                 remove it from KNOWN_DIFFERENCES"
            ));
        }
    }
    for i in relevant_pending.difference(&used_pending) {
        let (file, n) = PENDING_QUIC[*i];
        failures.push(format!(
            "{file}: {n:?}: in PENDING_QUIC but our flows carry it now: remove it from the list"
        ));
    }
    eprintln!(
        "{captures} captures, {compared} tshark names compared (whole-file exemptions aside)"
    );
    assert!(captures > 50, "only {captures} captures compared");
    assert!(compared >= 50, "only {compared} tshark names compared");
    assert!(
        failures.is_empty(),
        "{} differences from tshark:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// One flow line of nDPI's output.
struct NdpiFlow {
    /// The flow as nDPI prints it: `UDP 10.0.0.4:40134 -> 10.0.0.3:6121`.
    text: String,
    /// IP protocol number.
    ip_proto: u8,
    /// The endpoints, lower first.
    key: ((IpAddr, u16), (IpAddr, u16)),
    /// Master protocol: `TLS` of `91.26/TLS.ntop`.
    master: String,
    /// Whether nDPI found it in the payload (`Confidence: DPI...`).
    dpi: bool,
    /// `Hostname/SNI`.
    host: Option<String>,
}

fn endpoint(s: &str) -> Option<(IpAddr, u16)> {
    let (ip, port) = match s.strip_prefix('[') {
        Some(rest) => rest.split_once("]:")?,
        None => s.rsplit_once(':')?,
    };
    Some((ip.parse().ok()?, port.parse().ok()?))
}

/// The value of nDPI's `[name: value]` field.
fn field<'a>(rest: &'a str, name: &str) -> Option<&'a str> {
    let start = rest.find(&format!("[{name}: "))? + name.len() + 3;
    let len = rest[start..].find(']')?;
    Some(&rest[start..start + len])
}

/// Parses the TCP and UDP flow lines (`\t<n>\tTCP a <-> b [VLAN: v][proto: ...]...`).
fn parse_ndpi(text: &str) -> Vec<NdpiFlow> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((num, rest)) = line.strip_prefix('\t').and_then(|l| l.split_once('\t')) else {
            continue;
        };
        if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let mut parts = rest.splitn(5, ' ');
        let (Some(proto), Some(a), Some(arrow), Some(b), Some(rest)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            continue;
        };
        let ip_proto = match proto {
            "TCP" => 6,
            "UDP" => 17,
            _ => continue,
        };
        let text = format!("{proto} {a} {arrow} {b}");
        // Fuzzed captures make nDPI print addresses that are no addresses
        // (`[302e::3d00::8001]:0`): no flow of ours can have them.
        let (Some(a), Some(b)) = (endpoint(a), endpoint(b)) else {
            continue;
        };
        let proto_field = field(rest, "proto").expect("nDPI flow line without [proto: ]");
        let master = proto_field
            .split_once('/')
            .map_or(proto_field, |(_, p)| p)
            .split('.')
            .next()
            .unwrap_or_default()
            .to_string();
        out.push(NdpiFlow {
            text,
            ip_proto,
            key: if a <= b { (a, b) } else { (b, a) },
            master,
            dpi: field(rest, "Confidence").is_some_and(|c| c.starts_with("DPI")),
            host: field(rest, "Hostname/SNI").map(str::to_string),
        });
    }
    out
}

/// Our protocols that agree with nDPI's master protocol `master`, for the protocols both tools
/// recognise in payloads. TLS on a port of a protocol carried in TLS keeps that protocol's name
/// in Wirewatch (imaps, pop3s, smtps, ldaps, mqtt on 8883), and nDPI names IMAPS/POP3S/SMTPS.
fn agreeing(master: &str) -> Option<&'static [AppProto]> {
    use AppProto::*;
    const TLS: &[AppProto] = &[Tls, Imaps, Pop3s, Smtps, Ldaps, Mqtt];
    Some(match master {
        "DNS" => &[Dns],
        "MDNS" => &[Mdns],
        "LLMNR" => &[Llmnr],
        "HTTP" => &[Http],
        "TLS" | "IMAPS" | "POP3S" | "SMTPS" => TLS,
        "QUIC" => &[Quic],
        "SSH" => &[Ssh],
        _ => return None,
    })
}

type FlowKey = (u8, (IpAddr, u16), (IpAddr, u16));

/// Our flows by transport and unordered endpoint pair (a reused 5-tuple gives several).
fn by_endpoints(flows: &[FlowRecord]) -> HashMap<FlowKey, Vec<&FlowRecord>> {
    let mut out: HashMap<FlowKey, Vec<&FlowRecord>> = HashMap::new();
    for f in flows.iter().filter(|f| matches!(f.ip_proto, 6 | 17)) {
        let a = (f.src_ip, f.src_port);
        let b = (f.dst_ip, f.dst_port);
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        out.entry((f.ip_proto, lo, hi)).or_default().push(f);
    }
    out
}

#[test]
fn application_protocol_agrees_with_ndpi() {
    let Some(corpus) = corpus() else {
        wirewatch_testkit::skip(format_args!("../shared/pcaps not found"));
        return;
    };
    let mut outs: Vec<PathBuf> = std::fs::read_dir(corpus.join("ndpi/result"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "out"))
        .collect();
    outs.sort();
    let mut failures = Vec::new();
    let mut used_known = BTreeSet::new();
    let mut used_pending = BTreeSet::new();
    let mut relevant_pending = BTreeSet::new();
    let mut total = 0;
    for out in &outs {
        let name = out.file_stem().unwrap().to_str().unwrap().to_string();
        let capture = corpus.join("ndpi").join(&name);
        if !capture.is_file() {
            continue;
        }
        let ndpi = parse_ndpi(&String::from_utf8_lossy(&std::fs::read(out).unwrap()));
        let flows = flows_of(&capture);
        let ours = by_endpoints(&flows);
        let (mut compared, mut unmatched) = (0, 0);
        let mut differ = |check: &str, flow: &NdpiFlow, detail: String| {
            let known = NDPI_KNOWN_DIFFERENCES.iter().position(|(f, c, t, _)| {
                *f == name && *c == check && (*t == flow.text || *t == "*")
            });
            match known {
                Some(i) => {
                    used_known.insert(i);
                }
                None => failures.push(format!("{name}: {check}: {}: {detail}", flow.text)),
            }
        };
        for n in &ndpi {
            let expected = agreeing(&n.master);
            let Some(mine) = ours.get(&(n.ip_proto, n.key.0, n.key.1)) else {
                unmatched += 1;
                if n.dpi && expected.is_some() {
                    differ(
                        "unmatched",
                        n,
                        format!("nDPI found {} but Wirewatch has no such flow", n.master),
                    );
                }
                continue;
            };
            if !n.dpi {
                continue;
            }
            let payload: Vec<&&FlowRecord> = mine
                .iter()
                .filter(|f| f.app.source == AppSource::Payload)
                .collect();
            if payload.is_empty() {
                let Some(_) = expected else { continue };
                let detail = format!(
                    "nDPI found {} in the payload (name {:?}), Wirewatch has {:?}",
                    n.master,
                    n.host,
                    mine.iter().map(|f| f.app).collect::<Vec<_>>()
                );
                if n.master == "QUIC" {
                    let key = n.host.as_deref().unwrap_or(&n.text);
                    if let Some(i) = PENDING_QUIC.iter().position(|e| *e == (&*name, key)) {
                        relevant_pending.insert(i);
                        used_pending.insert(i);
                        continue;
                    }
                }
                differ("unclassified", n, detail);
                continue;
            }
            if n.master == "QUIC" {
                let key = n.host.as_deref().unwrap_or(&n.text);
                if let Some(i) = PENDING_QUIC.iter().position(|e| *e == (&*name, key)) {
                    relevant_pending.insert(i);
                }
            }
            compared += 1;
            let ok = payload
                .iter()
                .all(|f| expected.is_some_and(|e| e.contains(&f.app.proto)));
            if !ok {
                let protos: Vec<&str> = payload.iter().map(|f| f.app.proto.name()).collect();
                differ(
                    "protocol",
                    n,
                    format!("nDPI {} vs Wirewatch {protos:?}", n.master),
                );
            }
            let names: Vec<&str> = payload
                .iter()
                .filter_map(|f| f.details.as_deref())
                .filter(|d| {
                    matches!(
                        d.server_name_source,
                        Some(
                            NameSource::TlsSni
                                | NameSource::QuicSni
                                | NameSource::HttpHost
                                | NameSource::DnsQuery
                        )
                    )
                })
                .filter_map(|d| d.server_name.as_deref())
                .collect();
            if let Some(host) = &n.host
                && !names.is_empty()
                && !names.iter().any(|s| s.eq_ignore_ascii_case(host))
            {
                differ("name", n, format!("nDPI {host:?} vs Wirewatch {names:?}"));
            }
        }
        eprintln!(
            "{name}: {compared} flows compared of {} nDPI TCP/UDP flows ({unmatched} without a \
             Wirewatch flow)",
            ndpi.len()
        );
        total += compared;
    }
    for (i, (file, check, flow, reason)) in NDPI_KNOWN_DIFFERENCES.iter().enumerate() {
        if !used_known.contains(&i) {
            failures.push(format!(
                "{file}: {check}: {flow}: listed as a known difference ({reason}) but it agrees \
                 now: remove it from NDPI_KNOWN_DIFFERENCES"
            ));
        }
    }
    for i in relevant_pending.difference(&used_pending) {
        let (file, key) = PENDING_QUIC[*i];
        failures.push(format!(
            "{file}: {key:?}: in PENDING_QUIC but Wirewatch classifies the QUIC flow now: \
             remove it from the list"
        ));
    }
    // Every PENDING_QUIC entry must name an expectation of one of the two tests.
    let mut tshark_quic = BTreeSet::new();
    for tf in truth_files(&corpus) {
        let truth = read_truth(&tf);
        let file = truth["file"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        for list in ["quic_sni", "gquic_sni"] {
            for n in strings(&truth["tls"][list]) {
                tshark_quic.insert((file.clone(), n));
            }
        }
    }
    for (i, (file, key)) in PENDING_QUIC.iter().enumerate() {
        let known = tshark_quic.contains(&(file.to_string(), key.to_string()));
        if !known && !relevant_pending.contains(&i) {
            failures.push(format!(
                "{file}: {key:?}: in PENDING_QUIC but neither a tshark QUIC name nor an nDPI \
                 QUIC flow of that capture"
            ));
        }
    }
    eprintln!("{total} flows compared with nDPI");
    assert!(total >= 40, "only {total} flows compared with nDPI");
    assert!(
        failures.is_empty(),
        "{} differences from nDPI:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
