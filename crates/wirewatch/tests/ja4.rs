//! JA4 fingerprints against an independent computation from tshark's decode of the corpus.
//!
//! tshark 4.0 does not print JA4, but it decodes every field JA4 is built from (cipher suites,
//! extension types, the signature_algorithms list, ALPN, supported_versions, and the TLS hello
//! inside QUIC's Initial packets). This test builds JA4 from those fields as FoxIO's
//! specification says and requires `analyze --json`'s TLS transactions to carry the same
//! fingerprint for every client hello tshark finds (matched by ports within a capture).
//!
//! Skips cleanly (fails under CI) when tshark or the corpus is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod corpus;

use corpus::{capture_for, corpus};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use wirewatch::analyze::{AnalyzeOptions, NoProgress, analyze_files};
use wirewatch_core::TransactionDetails;

fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// tshark writes a field once as a string and repeated as an array.
fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().flat_map(|x| strings(Some(x))).collect(),
        _ => Vec::new(),
    }
}

fn number(s: &str) -> u16 {
    match s.strip_prefix("0x") {
        Some(hex) => u16::from_str_radix(hex, 16).unwrap(),
        None => s.parse().unwrap(),
    }
}

fn hash12(list: &str) -> String {
    if list.is_empty() {
        return "000000000000".into();
    }
    let digest = Sha256::digest(list.as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

fn hex_list(values: &[u16]) -> String {
    values
        .iter()
        .map(|v| format!("{v:04x}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// JA4 of one decoded client hello (`hs`: tshark's `tls.handshake` object).
fn ja4(hs: &serde_json::Map<String, Value>, quic: bool) -> String {
    let mut ciphers: Vec<u16> = hs
        .get("tls.handshake.ciphersuites")
        .map(|c| strings(c.get("tls.handshake.ciphersuite")))
        .unwrap_or_default()
        .iter()
        .map(|s| number(s))
        .filter(|&v| !is_grease(v))
        .collect();
    let (mut types, mut sigs, mut alpn, mut versions) = (Vec::new(), Vec::new(), None, Vec::new());
    let extensions = hs
        .iter()
        .filter(|(k, _)| k.starts_with("Extension: "))
        .flat_map(|(_, v)| match v {
            Value::Array(a) => a.clone(),
            other => vec![other.clone()],
        });
    for ext in extensions {
        let ty = number(&strings(ext.get("tls.handshake.extension.type"))[0]);
        if is_grease(ty) {
            continue;
        }
        types.push(ty);
        match ty {
            13 => {
                let algs = ext.get("tls.handshake.sig_hash_algs");
                sigs = strings(algs.and_then(|a| a.get("tls.handshake.sig_hash_alg")))
                    .iter()
                    .map(|s| number(s))
                    .filter(|&v| !is_grease(v))
                    .collect();
            }
            16 => {
                let list = ext.get("tls.handshake.extensions_alpn_list");
                alpn = strings(list.and_then(|l| l.get("tls.handshake.extensions_alpn_str")))
                    .into_iter()
                    .next();
            }
            43 => {
                versions = strings(ext.get("tls.handshake.extensions.supported_version"))
                    .iter()
                    .map(|s| number(s))
                    .filter(|&v| !is_grease(v))
                    .collect();
            }
            _ => {}
        }
    }
    let version = versions
        .iter()
        .copied()
        .max()
        .unwrap_or_else(|| number(&strings(hs.get("tls.handshake.version"))[0]));
    let version = match version {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        _ => "00",
    };
    let alpn = match alpn.as_deref().map(str::as_bytes) {
        None | Some([]) => "00".to_string(),
        Some(b) => {
            let (first, last) = (b[0], b[b.len() - 1]);
            if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() {
                format!("{}{}", first as char, last as char)
            } else {
                format!("{:x}{:x}", first >> 4, last & 0xf)
            }
        }
    };
    let a = format!(
        "{}{version}{}{:02}{:02}{alpn}",
        if quic { 'q' } else { 't' },
        if types.contains(&0) { 'd' } else { 'i' },
        ciphers.len().min(99),
        types.len().min(99),
    );
    ciphers.sort_unstable();
    let mut hashed: Vec<u16> = types.into_iter().filter(|t| *t != 0 && *t != 16).collect();
    hashed.sort_unstable();
    let mut c = hex_list(&hashed);
    if !hashed.is_empty() && !sigs.is_empty() {
        c = format!("{c}_{}", hex_list(&sigs));
    }
    format!("{a}_{}_{}", hash12(&hex_list(&ciphers)), hash12(&c))
}

/// Every client hello tshark decodes in `path`: (client port, server port, JA4).
fn tshark_hellos(path: &Path) -> BTreeSet<(u16, u16, String)> {
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(path)
        .args(["-Y", "tls.handshake.type == 1", "-T", "json"])
        .arg("--no-duplicate-keys")
        .output()
        .expect("run tshark");
    assert!(out.status.success(), "tshark failed on {}", path.display());
    let frames: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Array(Vec::new()));
    let mut hellos = BTreeSet::new();
    for frame in frames.as_array().into_iter().flatten() {
        let layers = &frame["_source"]["layers"];
        let port = |field: &str| {
            ["tcp", "udp"].iter().find_map(|l| {
                strings(layers.get(*l).and_then(|t| t.get(format!("{l}.{field}"))))
                    .last()
                    .map(|p| number(p))
            })
        };
        let (Some(src), Some(dst)) = (port("srcport"), port("dstport")) else {
            continue;
        };
        let mut found = Vec::new();
        collect_hellos(layers, false, &mut found);
        for (hs, quic) in found {
            hellos.insert((src, dst, ja4(&hs, quic)));
        }
    }
    hellos
}

/// Finds every `tls.handshake` object of type 1 under `v` (inside QUIC when under `quic`).
fn collect_hellos(v: &Value, quic: bool, out: &mut Vec<(serde_json::Map<String, Value>, bool)>) {
    match v {
        Value::Object(map) => {
            if strings(map.get("tls.handshake.type"))
                .first()
                .map(String::as_str)
                == Some("1")
            {
                out.push((map.clone(), quic));
                return;
            }
            for (k, x) in map {
                collect_hellos(x, quic || k == "quic", out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_hellos(x, quic, out)),
        _ => {}
    }
}

#[test]
fn ja4_equals_the_fingerprint_of_tsharks_decode() {
    let Some(dir) = corpus() else {
        wirewatch_testkit::skip(format_args!("../shared/pcaps not found"));
        return;
    };
    if Command::new("tshark").arg("--version").output().is_err() {
        wirewatch_testkit::skip(format_args!("tshark not installed"));
        return;
    }
    let mut names: Vec<String> = std::fs::read_dir(dir.join("truth"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter_map(|n| n.strip_suffix(".json").map(str::to_string))
        .collect();
    names.sort();
    let (mut wanted, mut equal) = (0usize, 0usize);
    let mut wrong = Vec::new();
    let mut missing = Vec::new();
    for name in names {
        let Some(capture) = capture_for(&dir, &name) else {
            continue;
        };
        let report = analyze_files(
            std::slice::from_ref(&capture),
            &AnalyzeOptions::default(),
            &mut NoProgress,
        );
        let truth: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("truth").join(format!("{name}.json"))).unwrap(),
        )
        .unwrap();
        let tls_in_truth = ["sni", "quic_sni"]
            .iter()
            .any(|k| truth["tls"][k].as_array().is_some_and(|a| !a.is_empty()));
        if report.tls.is_empty() && !tls_in_truth {
            continue;
        }
        // Ours, by ports: every fingerprint the transactions carry.
        let mut ours: BTreeMap<(u16, u16), BTreeSet<String>> = BTreeMap::new();
        for t in &report.tls {
            if let TransactionDetails::Tls(tls) = &t.details
                && let Some(j) = &tls.ja4
            {
                ours.entry((t.src_port, t.dst_port))
                    .or_default()
                    .insert(j.clone());
            }
        }
        for (src, dst, want) in tshark_hellos(&capture) {
            wanted += 1;
            match ours.get(&(src, dst)) {
                Some(have) if have.contains(&want) => equal += 1,
                Some(have) => wrong.push(format!("{name} {src}->{dst}: {want} vs {have:?}")),
                None => missing.push(format!("{name} {src}->{dst}: {want}")),
            }
        }
    }
    println!("ja4: {equal} of {wanted} client hellos equal; missing: {missing:?}");
    assert!(
        wrong.is_empty(),
        "JA4 differs from tshark's decode: {wrong:#?}"
    );
    assert!(wanted >= 15, "the corpus has {wanted} client hellos");
    assert!(
        missing.is_empty(),
        "hellos tshark decodes without a JA4 here: {missing:#?}"
    );
}
