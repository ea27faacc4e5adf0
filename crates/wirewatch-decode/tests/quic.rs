//! QUIC and gQUIC server names from real captures, checked against the tshark truth files of
//! the shared capture corpus. Skips (with a message) when the corpus is not present.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use wirewatch_capture::FileSource;
use wirewatch_decode::app::quic::{self, ClientInitials};
use wirewatch_decode::{Transport, decode};

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pcaps");
    if dir.is_dir() {
        Some(dir)
    } else {
        wirewatch_testkit::skip(format_args!("no capture corpus at {}", dir.display()));
        None
    }
}

/// What the QUIC decoders find in one capture.
#[derive(Debug, Default)]
struct Found {
    quic_sni: BTreeSet<String>,
    gquic_sni: BTreeSet<String>,
    versions: BTreeSet<u32>,
}

/// A UDP flow in both directions: the lower endpoint first.
type FlowKey = ((IpAddr, u16), (IpAddr, u16));

/// Feeds every UDP payload to a per-flow [`ClientInitials`] and to the gQUIC parser.
fn scan(path: &Path) -> Found {
    let mut src = FileSource::open(path).unwrap();
    let mut flows: HashMap<FlowKey, ClientInitials> = HashMap::new();
    let mut found = Found::default();
    while let Ok(Some(frame)) = src.next_frame() {
        let p = decode(frame.linktype, frame.data);
        let Transport::Udp(udp) = p.transport else {
            continue;
        };
        let payload = p.payload(frame.data);
        let a = (p.src, udp.src_port);
        let b = (p.dst, udp.dst_port);
        let key = if a <= b { (a, b) } else { (b, a) };
        let initials = flows.entry(key).or_default();
        if initials.wants_more() {
            initials.feed(payload);
        }
        if let Some(hello) = quic::gquic_client_hello(payload)
            && let Some(sni) = hello.sni
        {
            found.gquic_sni.insert(sni.to_string());
        }
    }
    for initials in flows.values() {
        if let Some(hello) = initials.client_hello() {
            found.versions.extend(initials.version());
            if let Some(sni) = hello.sni {
                found.quic_sni.insert(sni.to_string());
            }
        }
    }
    found
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn quic_v2_capture() {
    let Some(dir) = corpus() else { return };
    let f = scan(&dir.join("ndpi/quic-v2.pcapng"));
    assert_eq!(f.quic_sni, set(&["test"]));
    assert_eq!(f.versions, BTreeSet::from([quic::VERSION_2]));
}

#[test]
fn quic_over_ppp_capture() {
    let Some(dir) = corpus() else { return };
    let f = scan(&dir.join("ndpi/dlt_ppp.pcap"));
    assert_eq!(f.quic_sni, set(&["server4"]));
    assert_eq!(f.versions, BTreeSet::from([quic::VERSION_DRAFT_29]));
    assert!(f.gquic_sni.is_empty());
}

#[test]
fn gquic_captures() {
    let Some(dir) = corpus() else { return };
    let f = scan(&dir.join("ndpi/quic.pcap"));
    assert_eq!(
        f.gquic_sni,
        set(&[
            "fonts.gstatic.com",
            "i.ytimg.com",
            "mail.google.com",
            "s.ytimg.com",
            "www.google.com",
            "www.youtube.com",
            "yt3.ggpht.com",
        ])
    );
    assert!(f.quic_sni.is_empty());
    let f = scan(&dir.join("ndpi/http_ipv6.pcap"));
    assert_eq!(f.gquic_sni, set(&["www.google.it"]));
}

/// Names listed under `tls.<key>` in a truth file (`None` when the file has no such list).
fn truth_names(truth: &serde_json::Value, key: &str) -> Option<BTreeSet<String>> {
    let list = truth.get("tls")?.get(key)?.as_array()?;
    Some(
        list.iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
    )
}

/// Every capture of the corpus: the QUIC and gQUIC server names match tshark's.
#[test]
fn whole_corpus_matches_truth() {
    let Some(dir) = corpus() else { return };
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
    let mut checked = 0;
    for line in manifest.lines().filter(|l| !l.starts_with('#')) {
        let Some(rel) = line.split('\t').next().filter(|r| !r.is_empty()) else {
            continue;
        };
        let capture = dir.join(rel);
        let name = capture.file_name().unwrap().to_string_lossy().into_owned();
        let Ok(text) = std::fs::read_to_string(dir.join("truth").join(format!("{name}.json")))
        else {
            continue;
        };
        let truth: serde_json::Value = serde_json::from_str(&text).unwrap();
        if FileSource::open(&capture).is_err() {
            continue;
        }
        let found = scan(&capture);
        if let Some(want) = truth_names(&truth, "quic_sni") {
            assert_eq!(found.quic_sni, want, "QUIC SNI of {rel}");
        }
        if let Some(want) = truth_names(&truth, "gquic_sni") {
            assert_eq!(found.gquic_sni, want, "gQUIC SNI of {rel}");
        }
        checked += 1;
    }
    eprintln!("checked {checked} captures");
    assert!(checked > 0, "no capture checked");
}
