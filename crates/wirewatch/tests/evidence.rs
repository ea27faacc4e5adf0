//! Packets as evidence, end to end: a replayed attack's alert links an evidence capture that
//! holds exactly the packets of the alert's hosts in its window (checked against our reader
//! and against tshark), the same through `analyze` and the live pipeline; the ring stays within
//! its size under a flood; `--write-pcap` rotates and `extract` selects; the dashboard serves
//! both downloads.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::dashboard::{start, stop};
use wirewatch_capture::FileSource;
use wirewatch_decode::decode;
use wirewatch_testkit::wait_until;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scenarios")
        .join(name)
}

fn wirewatch(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "wirewatch {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A packet as a file holds it: time, captured bytes.
type Record = (u64, Vec<u8>);

/// Every frame of a capture file.
fn frames(path: &Path) -> Vec<Record> {
    let mut src = FileSource::open(path).unwrap();
    let mut out = Vec::new();
    while let Some(f) = src.next_frame().unwrap() {
        out.push((f.ts.nanos(), f.data.to_vec()));
    }
    out
}

/// The frames of `path` from or to one of `hosts` with `from <= ts <= until`, by our decoder.
fn expected(path: &Path, hosts: &BTreeSet<IpAddr>, from: u64, until: u64) -> Vec<Record> {
    let mut src = FileSource::open(path).unwrap();
    let mut out = Vec::new();
    while let Some(f) = src.next_frame().unwrap() {
        let p = decode(f.linktype, f.data);
        let ts = f.ts.nanos();
        let involved =
            (p.has_src && hosts.contains(&p.src)) || (p.has_dst && hosts.contains(&p.dst));
        if involved && ts >= from && ts <= until {
            out.push((ts, f.data.to_vec()));
        }
    }
    out
}

fn have_tshark() -> bool {
    Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `time_epoch len` lines of tshark for `path`, with an optional display filter.
fn tshark_lines(path: &Path, filter: Option<&str>) -> Vec<String> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(path);
    if let Some(f) = filter {
        cmd.args(["-Y", f]);
    }
    let out = cmd
        .args(["-T", "fields", "-e", "frame.time_epoch", "-e", "frame.len"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn secs(ns: u64) -> String {
    format!("{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000)
}

/// The `evidence.pcap` link of the report's first alert of `kind`.
fn link(report: &Value, kind: &str) -> (u64, Value) {
    let alert = report["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} alert in {report:#}"));
    (
        alert["id"].as_u64().unwrap(),
        alert["evidence"]["pcap"].clone(),
    )
}

fn hosts_of(link: &Value) -> BTreeSet<IpAddr> {
    link["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().parse().unwrap())
        .collect()
}

/// A config with a short evidence window, so the window cuts the capture.
fn short_window(dir: &Path) -> PathBuf {
    let path = dir.join("wirewatch.toml");
    std::fs::write(&path, "[evidence]\nbefore_secs = 1\nafter_secs = 1\n").unwrap();
    path
}

#[test]
fn an_alerts_evidence_is_exactly_its_hosts_packets_in_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let config = short_window(dir.path());
    let db = dir.path().join("history.db");
    let scan = fixture("nmap_syn_scan.pcap");
    let out = wirewatch(&[
        "analyze",
        "--json",
        "--no-progress",
        "--config",
        config.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        scan.to_str().unwrap(),
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (id, link) = link(&report, "port_scan");
    // Next to the database, named after the alert.
    let file = dir
        .path()
        .join("history.evidence")
        .join(format!("alert-{id}.pcap"));
    assert_eq!(link["path"], file.display().to_string());
    assert_eq!(link["complete"], true);
    assert_eq!(link["missing_before"], false);
    let hosts = hosts_of(&link);
    assert!(
        hosts.contains(&"10.210.0.1".parse::<IpAddr>().unwrap()),
        "{link}"
    );
    let (from, until) = (
        link["from"].as_u64().unwrap(),
        link["until"].as_u64().unwrap(),
    );

    let want = expected(&scan, &hosts, from, until);
    let got = frames(&file);
    assert_eq!(got.len() as u64, link["packets"].as_u64().unwrap());
    assert_eq!(
        got, want,
        "the evidence differs from the hosts' packets in the window"
    );
    // The window matters: the hosts have packets outside it, and the capture other hosts'.
    let all_of_hosts = expected(&scan, &hosts, 0, u64::MAX);
    assert!(all_of_hosts.len() > want.len(), "the window cut nothing");
    assert!(want.len() > 100, "{}", want.len());

    // The same alert's row in the database links the same file.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let evidence: String = conn
        .query_row(
            "SELECT evidence FROM alerts WHERE id = ?1",
            [id as i64],
            |r| r.get(0),
        )
        .unwrap();
    let stored: Value = serde_json::from_str(&evidence).unwrap();
    assert_eq!(stored["pcap"]["path"], link["path"]);

    if !have_tshark() {
        wirewatch_testkit::skip(format_args!(
            "tshark not installed (for the independent check)"
        ));
        return;
    }
    let filter = format!(
        "({}) && frame.time_epoch >= {} && frame.time_epoch <= {}",
        hosts
            .iter()
            .map(|h| format!("ip.addr == {h}"))
            .collect::<Vec<_>>()
            .join(" || "),
        secs(from),
        secs(until)
    );
    let reference = tshark_lines(&scan, Some(&filter));
    let evidence_lines = tshark_lines(&file, None);
    assert_eq!(evidence_lines.len(), want.len());
    assert_eq!(evidence_lines, reference, "tshark sees other packets");
}

#[test]
fn the_live_pipeline_saves_the_same_evidence_as_analyze() {
    let dir = tempfile::tempdir().unwrap();
    let config = short_window(dir.path());
    let scan = fixture("nmap_syn_scan.pcap");
    let analyzed = dir.path().join("a");
    wirewatch(&[
        "analyze",
        "--no-progress",
        "--config",
        config.to_str().unwrap(),
        "--evidence-dir",
        analyzed.to_str().unwrap(),
        scan.to_str().unwrap(),
    ]);
    let db = dir.path().join("live.db");
    let out = wirewatch(&[
        "run",
        "--read",
        scan.to_str().unwrap(),
        "--speed",
        "max",
        "--no-web",
        "--json",
        "--config",
        config.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (id, link) = link(&report, "port_scan");
    let live = frames(Path::new(link["path"].as_str().unwrap()));
    assert!(link["path"].as_str().unwrap().contains("live.evidence"));
    let offline = frames(&analyzed.join(format!("alert-{id}.pcap")));
    assert!(!live.is_empty());
    assert_eq!(live, offline);
}

#[test]
fn the_ring_stays_within_its_size_under_a_flood() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ring.toml");
    std::fs::write(&config, "[evidence]\nring_mb = 1\n").unwrap();
    // A flood of 40,000 packets over three flows: many times the ring.
    let flood = dir.path().join("flood.pcap");
    wirewatch(&[
        "generate",
        "-o",
        flood.to_str().unwrap(),
        "--packets",
        "40000",
        "--flows",
        "3",
        "--pps",
        "100000",
    ]);
    let packets = frames(&flood).len() as u64;
    assert_eq!(packets, 40_000);
    let out = wirewatch(&[
        "run",
        "--read",
        flood.to_str().unwrap(),
        "--speed",
        "max",
        "--no-web",
        "--no-db",
        "--json",
        "--config",
        config.to_str().unwrap(),
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ring = &report["evidence"]["ring"];
    assert_eq!(ring["capacity_bytes"], 1 << 20);
    assert_eq!(ring["pushed"], packets);
    let used = ring["used_bytes"].as_u64().unwrap();
    assert!(used <= 1 << 20, "{ring}");
    // Full (the flood is several times the ring) and the rest overwritten, all counted.
    assert!(used > (1 << 20) - 70_000, "{ring}");
    assert!(ring["evicted"].as_u64().unwrap() > 0, "{ring}");
    assert_eq!(
        ring["packets"].as_u64().unwrap() + ring["evicted"].as_u64().unwrap(),
        packets
    );
}

#[test]
fn write_pcap_rotates_on_packet_time_and_extract_selects_from_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let files_dir = dir.path().join("caps");
    let scan = fixture("nmap_syn_scan.pcap");
    let out = wirewatch(&[
        "run",
        "--read",
        scan.to_str().unwrap(),
        "--speed",
        "max",
        "--no-web",
        "--no-db",
        "--json",
        "--write-pcap",
        files_dir.to_str().unwrap(),
        "--pcap-file-secs",
        "5",
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&files_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let original = frames(&scan);
    // The capture spans ~18 s of packet time: four files of at most 5 s each.
    assert!(names.len() >= 4, "{names:?}");
    let mut rejoined = Vec::new();
    for n in &names {
        let f = frames(n);
        let span = f.last().unwrap().0 - f.first().unwrap().0;
        assert!(span < 5_000_000_000, "{} spans {span} ns", n.display());
        rejoined.extend(f);
    }
    assert_eq!(rejoined, original, "the files together are not the capture");
    assert_eq!(
        report["evidence"]["rotating_packets"],
        original.len() as u64
    );

    // extract: the scanner's packets in a time range, from the directory, as pcapng.
    let hosts: BTreeSet<IpAddr> = ["10.210.0.1".parse().unwrap()].into();
    let scanner = expected(&scan, &hosts, 0, u64::MAX);
    let (from, until) = (scanner[100].0, scanner[400].0);
    let out_file = dir.path().join("scanner.pcapng");
    wirewatch(&[
        "extract",
        files_dir.to_str().unwrap(),
        "--host",
        "10.210.0.1",
        "--from",
        &secs(from),
        "--until",
        &secs(until),
        "-o",
        out_file.to_str().unwrap(),
    ]);
    let head = std::fs::read(&out_file).unwrap();
    assert_eq!(&head[..4], &[0x0a, 0x0d, 0x0d, 0x0a], "not pcapng");
    let want = expected(&scan, &hosts, from, until);
    assert!(
        want.len() >= 301 && want.len() < scanner.len(),
        "{}",
        want.len()
    );
    assert_eq!(frames(&out_file), want);

    // A bad flag value is refused with the reason.
    let bad = Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args([
            "extract",
            files_dir.to_str().unwrap(),
            "--port",
            "99999",
            "-o",
        ])
        .arg(dir.path().join("x.pcap"))
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("99999"));
}

/// GET: status, headers, body.
fn get(url: &str) -> (u16, ureq::http::HeaderMap, Vec<u8>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut resp = agent.get(url).call().unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.body_mut().read_to_vec().unwrap();
    (status, headers, body)
}

#[test]
fn the_dashboard_serves_evidence_and_packet_exports() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("web.db");
    let scan = fixture("nmap_syn_scan.pcap");
    // A short window, so the capture is complete before the replay ends.
    let config = short_window(dir.path());
    let (child, url) = start(&[
        "run",
        "--config",
        config.to_str().unwrap(),
        "--read",
        scan.to_str().unwrap(),
        "--speed",
        "max",
        "--stay",
        "--listen",
        "127.0.0.1:0",
        "--db",
        db.to_str().unwrap(),
    ]);
    // Wait for the replay's port-scan alert to reach the snapshot with its link.
    let mut found = None;
    wait_until(
        Duration::from_secs(30),
        "a port_scan alert with evidence",
        || {
            let (_, _, body) = get(&format!("{url}/api/snapshot"));
            let snap: Value = serde_json::from_slice(&body).unwrap();
            found = snap["alerts"].as_array().and_then(|a| {
                a.iter()
                    .find(|a| a["kind"] == "port_scan" && a["evidence"]["pcap"]["complete"] == true)
                    .and_then(|a| a["id"].as_u64())
            });
            found.is_some()
        },
    );
    let id = found.unwrap();
    let (status, headers, body) = get(&format!("{url}/api/alerts/{id}/evidence"));
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/vnd.tcpdump.pcap");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("alert-{id}.pcap"))
    );
    let on_disk = std::fs::read(dir.path().join(format!("web.evidence/alert-{id}.pcap"))).unwrap();
    assert_eq!(body, on_disk);
    let (status, _, body) = get(&format!("{url}/api/alerts/999999/evidence"));
    assert_eq!(status, 404);
    assert!(String::from_utf8_lossy(&body).contains("999999"));
    let (status, _, _) = get(&format!("{url}/api/alerts/x/evidence"));
    assert_eq!(status, 400);

    // From the ring: the scanner's packets (the whole replay fits in the default ring).
    let (status, headers, body) = get(&format!("{url}/api/packets?host=10.210.0.1&format=pcapng"));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let saved = dir.path().join("ring.pcapng");
    std::fs::write(&saved, &body).unwrap();
    let hosts: BTreeSet<IpAddr> = ["10.210.0.1".parse().unwrap()].into();
    let want = expected(&scan, &hosts, 0, u64::MAX);
    assert_eq!(frames(&saved), want);
    assert_eq!(headers["x-packet-count"], want.len().to_string().as_str());
    // The same from the command line: `extract --live` asks the running instance.
    let live_file = dir.path().join("live.pcap");
    let out = wirewatch(&[
        "extract",
        "--live",
        &url,
        "--host",
        "10.210.0.1",
        "-o",
        live_file.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("{} packets", want.len())));
    assert_eq!(
        &std::fs::read(&live_file).unwrap()[..4],
        &[0x4d, 0x3c, 0xb2, 0xa1]
    );
    assert_eq!(frames(&live_file), want);
    let bad = Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args(["extract", "--live", &url, "--port", "99999", "-o"])
        .arg(dir.path().join("bad.pcap"))
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("answered 400"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    // One flow, both directions.
    let (status, _, body) = get(&format!(
        "{url}/api/packets?flow=tcp%2010.210.0.1:1%2010.210.0.2:2&source=ring"
    ));
    assert_eq!(status, 200);
    std::fs::write(&saved, &body).unwrap();
    assert!(frames(&saved).is_empty());
    // Bad requests name the problem; no capture files in this run.
    let (status, _, body) = get(&format!("{url}/api/packets?port=99999"));
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("99999"));
    let (status, _, body) = get(&format!("{url}/api/packets?bogus=1"));
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("bogus"));
    let (status, _, body) = get(&format!("{url}/api/packets?source=files"));
    assert_eq!(status, 503);
    assert!(String::from_utf8_lossy(&body).contains("--write-pcap"));
    // Prometheus shows the ring.
    let (_, _, body) = get(&format!("{url}/metrics"));
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.contains("wirewatch_ring_capacity_bytes 67108864"),
        "{text}"
    );
    assert!(text.contains("wirewatch_evidence_captures_total"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("wirewatch_detector_seconds_total{detector=\"port_scan\"}")),
        "{text}"
    );
    stop(child);
}
