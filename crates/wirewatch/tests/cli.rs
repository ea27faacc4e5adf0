//! The `wirewatch` command line: help, reports, JSON layout and every user-facing error.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use wirewatch_capture::synth::{GeneratorConfig, PcapWriter, write_pcap};
use wirewatch_core::{LinkType, Timestamp};

fn wirewatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args(args)
        .output()
        .expect("run wirewatch")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn generated(
    dir: &Path,
    packets: u64,
    flows: u64,
) -> (PathBuf, wirewatch_capture::synth::GenerateSummary) {
    let path = dir.join(format!("gen-{packets}.pcap"));
    let cfg = GeneratorConfig {
        seed: 7,
        packets,
        flows,
        ..GeneratorConfig::default()
    };
    let summary = write_pcap(&cfg, std::fs::File::create(&path).unwrap()).unwrap();
    (path, summary)
}

fn analyze_json(path: &Path) -> Value {
    let out = wirewatch(&["analyze", "--json", path.to_str().unwrap()]);
    assert!(out.status.success(), "analyze failed: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

#[test]
fn help_lists_the_commands() {
    let out = wirewatch(&["--help"]);
    assert!(out.status.success());
    let text = stdout(&out);
    for cmd in ["analyze", "generate", "bench"] {
        assert!(text.contains(cmd), "--help lacks {cmd}: {text}");
    }
    let out = wirewatch(&["analyze", "--help"]);
    assert!(stdout(&out).contains("--json"));
    assert!(stdout(&out).contains("--interval"));
}

#[test]
fn analyze_matches_the_generators_ground_truth() {
    let dir = tempfile::tempdir().unwrap();
    let (path, s) = generated(dir.path(), 30_000, 800);
    let j = analyze_json(&path);
    assert_eq!(j["packets"], s.packets);
    assert_eq!(j["bytes"], s.bytes);
    assert_eq!(j["captured_bytes"], s.bytes);
    let p = &j["protocols"];
    assert_eq!(
        [
            &p["tcp"],
            &p["udp"],
            &p["icmp"],
            &p["icmpv6"],
            &p["other_ip"],
            &p["non_ip"]
        ],
        [s.tcp, s.udp, s.icmp, s.icmpv6, s.other_ip, s.non_ip]
            .map(Value::from)
            .each_ref()
    );
    let f = &j["tcp_flags"];
    assert_eq!(
        [&f["syn"], &f["syn_ack"], &f["rst"], &f["fin"]],
        [s.tcp_syn, s.tcp_syn_ack, s.tcp_rst, s.tcp_fin]
            .map(Value::from)
            .each_ref()
    );
    assert_eq!(j["distinct_src_ips"], s.distinct_src_ips);
    assert_eq!(j["distinct_dst_ips"], s.distinct_dst_ips);
    // Every packet lands in exactly one flow, except non-IP frames.
    let flows = j["flows"].as_array().unwrap();
    let in_flows: u64 = flows
        .iter()
        .map(|f| f["packets_fwd"].as_u64().unwrap() + f["packets_rev"].as_u64().unwrap())
        .sum();
    assert_eq!(in_flows, s.packets - s.non_ip);
    assert_eq!(
        flows.len() as u64,
        s.flows,
        "one flow per generated 5-tuple"
    );
    // Intervals add up to the totals.
    let intervals = j["intervals"].as_array().unwrap();
    let sum: u64 = intervals
        .iter()
        .map(|i| i["packets"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, s.packets);
    assert!(j["decode_errors"].as_object().unwrap().is_empty());
}

#[test]
fn json_has_the_documented_fields() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = generated(dir.path(), 3_000, 100);
    let j = analyze_json(&path);
    for k in [
        "packets",
        "bytes",
        "captured_bytes",
        "first_ts",
        "last_ts",
        "protocols",
        "tcp_flags",
        "distinct_src_ips",
        "distinct_dst_ips",
        "top_sources",
        "top_destinations",
        "flows",
        "intervals",
        "decode_errors",
    ] {
        assert!(j.get(k).is_some(), "missing top-level field {k}");
    }
    for k in ["tcp", "udp", "icmp", "icmpv6", "other_ip", "non_ip"] {
        assert!(j["protocols"][k].is_u64(), "protocols.{k}");
    }
    for k in ["syn", "syn_ack", "rst", "fin"] {
        assert!(j["tcp_flags"][k].is_u64(), "tcp_flags.{k}");
    }
    for k in ["ip", "packets", "bytes"] {
        assert!(j["top_sources"][0].get(k).is_some(), "top_sources[].{k}");
        assert!(
            j["top_destinations"][0].get(k).is_some(),
            "top_destinations[].{k}"
        );
    }
    for k in [
        "proto",
        "src_ip",
        "src_port",
        "dst_ip",
        "dst_port",
        "packets_fwd",
        "bytes_fwd",
        "packets_rev",
        "bytes_rev",
        "first_ts",
        "last_ts",
        "state",
    ] {
        assert!(j["flows"][0].get(k).is_some(), "flows[].{k}");
    }
    for k in [
        "start_ts",
        "packets",
        "bytes",
        "bps",
        "pps",
        "protocols",
        "tcp_flags",
    ] {
        assert!(j["intervals"][0].get(k).is_some(), "intervals[].{k}");
    }
    assert!(
        j["first_ts"].as_f64().unwrap() > 1.7e9,
        "seconds since the epoch"
    );
}

#[test]
fn text_report_shows_totals_talkers_and_flows() {
    let dir = tempfile::tempdir().unwrap();
    let (path, s) = generated(dir.path(), 5_000, 200);
    let out = wirewatch(&["analyze", "--interval", "50ms", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(&format!("Packets   {}", s.packets)), "{text}");
    assert!(text.contains("Top sources (by bytes)"), "{text}");
    assert!(text.contains("Top flows (by bytes)"), "{text}");
    assert!(text.contains("intervals of 0.05 s"), "{text}");
}

#[test]
fn missing_file_directory_empty_and_non_capture_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.pcap");
    let out = wirewatch(&["analyze", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("error: {}: ", missing.display())),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("No such file"), "{}", stderr(&out));
    // `run` says it once too (a library error printing its cause is not repeated).
    let out = wirewatch(&["run", "--read", missing.to_str().unwrap(), "--no-db"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).matches("No such file").count(),
        1,
        "{}",
        stderr(&out)
    );

    let out = wirewatch(&["analyze", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is a directory"), "{}", stderr(&out));

    let empty = dir.path().join("empty.pcap");
    std::fs::write(&empty, b"").unwrap();
    let out = wirewatch(&["analyze", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("empty file"), "{}", stderr(&out));

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, b"hello, this is not a capture\n").unwrap();
    let out = wirewatch(&["analyze", text.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not a pcap or pcapng file"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).is_empty(),
        "no report when nothing could be read"
    );
}

#[test]
fn truncated_file_reports_what_was_read() {
    let dir = tempfile::tempdir().unwrap();
    let (path, s) = generated(dir.path(), 1_000, 50);
    let len = std::fs::metadata(&path).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(len - 10).unwrap();
    let out = wirewatch(&["analyze", "--json", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("truncated at byte offset"), "{err}");
    assert!(err.contains(&format!("packet {}", s.packets)), "{err}");
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["packets"], s.packets - 1);
    assert_eq!(j["errors"].as_array().unwrap().len(), 1);
}

#[test]
fn unsupported_link_type_is_a_warning_not_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("user0.pcap");
    let mut w = PcapWriter::new(
        std::fs::File::create(&path).unwrap(),
        LinkType(147),
        65535,
        false,
    )
    .unwrap();
    for i in 0..3 {
        w.write_frame(Timestamp(1_700_000_000_000_000_000 + i), &[0u8; 40], 40)
            .unwrap();
    }
    w.finish().unwrap().flush().unwrap();
    let out = wirewatch(&["analyze", "--json", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("link type 147 is not decoded (first at packet 1); 3 frames"),
        "{}",
        stderr(&out)
    );
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["protocols"]["non_ip"], 3);
    assert_eq!(j["decode_errors"]["unsupported_link_type"], 3);
}

/// A classic little-endian microsecond pcap header with the given snaplen and link type.
fn pcap_header(snaplen: u32, linktype: u32) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    h.extend_from_slice(&2u16.to_le_bytes());
    h.extend_from_slice(&4u16.to_le_bytes());
    h.extend_from_slice(&[0; 8]);
    h.extend_from_slice(&snaplen.to_le_bytes());
    h.extend_from_slice(&linktype.to_le_bytes());
    h
}

fn record(caplen: u32, wire_len: u32) -> Vec<u8> {
    let mut r = Vec::new();
    r.extend_from_slice(&1_700_000_000u32.to_le_bytes());
    r.extend_from_slice(&0u32.to_le_bytes());
    r.extend_from_slice(&caplen.to_le_bytes());
    r.extend_from_slice(&wire_len.to_le_bytes());
    r
}

#[test]
fn oversized_and_over_snaplen_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.pcap");
    let mut bytes = pcap_header(65535, 1);
    bytes.extend(record(60, 60));
    bytes.extend([0u8; 60]);
    bytes.extend(record(300_000, 300_000));
    bytes.extend([0u8; 100]);
    std::fs::write(&path, &bytes).unwrap();
    let out = wirewatch(&["analyze", "--json", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("packet 2 at byte offset 100"), "{err}");
    assert!(err.contains("262144"), "{err}");
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["packets"], 1);

    let path = dir.path().join("snap.pcap");
    let mut bytes = pcap_header(64, 1);
    bytes.extend(record(100, 100));
    bytes.extend([0u8; 100]);
    std::fs::write(&path, &bytes).unwrap();
    let out = wirewatch(&["analyze", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("exceeds the snapshot length 64"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_flags_and_config_are_explained() {
    let out = wirewatch(&["analyze", "--interval", "fast", "x.pcap"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not a duration"),
        "{}",
        stderr(&out)
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("ww.toml");
    std::fs::write(&cfg, "[flows]\nmax_flow = 3\n").unwrap();
    let out = wirewatch(&["analyze", "--config", cfg.to_str().unwrap(), "x.pcap"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("invalid config file") && err.contains("unknown field `max_flow`"),
        "{err}"
    );
}

#[test]
fn generate_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.pcap");
    let b = dir.path().join("b.pcap");
    for p in [&a, &b] {
        let out = wirewatch(&[
            "generate",
            "-o",
            p.to_str().unwrap(),
            "--packets",
            "2000",
            "--seed",
            "9",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stderr(&out).contains("2000 packets"));
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[test]
fn alerts_go_to_the_report_and_the_alert_log() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenarios/nmap_syn_scan.pcap");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("alerts.jsonl");
    let out = wirewatch(&[
        "analyze",
        "--json",
        "--alert-log",
        log.to_str().unwrap(),
        fixture.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    let alerts = j["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["kind"], "port_scan");
    let lines: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["opened", "ended"]);
    assert!(
        lines
            .iter()
            .all(|l| l["kind"] == "port_scan" && l["id"] == alerts[0]["id"])
    );
    assert_eq!(
        lines[1]["updates"], alerts[0]["updates"],
        "the ended line has the final state"
    );
    // The text report lists it with its recommendation.
    let out = wirewatch(&["analyze", fixture.to_str().unwrap()]);
    let text = stdout(&out);
    assert!(
        text.contains("Alerts (1)") && text.contains("port_scan") && text.contains("action:"),
        "{text}"
    );
    // A log that cannot be opened is refused before any work.
    let out = wirewatch(&[
        "analyze",
        "--alert-log",
        "/nonexistent-dir/a.jsonl",
        fixture.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot open the alert log /nonexistent-dir/a.jsonl"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bench_measures_what_detection_and_application_decoding_cost() {
    let dir = tempfile::tempdir().unwrap();
    let (file, summary) = generated(dir.path(), 20_000, 500);
    let out = wirewatch(&[
        "bench",
        "--file",
        file.to_str().unwrap(),
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--runs",
        "1",
        "--json",
    ]);
    assert!(out.status.success(), "bench failed: {}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    // Three runs of the same capture: the full engine, without application decoding, and
    // without detection (the reference the detection cost is measured against).
    for run in ["with_app", "without_app", "without_detection"] {
        assert_eq!(v[run]["packets"], summary.packets, "{run}: {v}");
        assert!(v[run]["packets_per_second"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(
        v["without_detection"]["alerts"], 0,
        "no detection, no alerts"
    );
    assert!(v["detection_cost_percent"].is_f64(), "{v}");
    assert!(v["app_decoding_cost_percent"].is_f64(), "{v}");
}

#[test]
fn timestamps_far_in_the_future_neither_hang_nor_move_packet_time() {
    use wirewatch_capture::write::{PacketWriter, PcapFormat};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.pcapng");
    // Ethernet, IPv4, UDP 10.0.0.1:1234 -> 10.0.0.2:53, no payload.
    let mut frame = vec![0u8; 12];
    frame.extend_from_slice(&[0x08, 0x00]);
    frame.extend_from_slice(&[
        0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ]);
    frame.extend_from_slice(&[0x04, 0xd2, 0, 53, 0, 8, 0, 0]);
    let len = frame.len() as u32;
    let sec = 1_000_000_000u64;
    let mut w = PacketWriter::new(
        std::fs::File::create(&path).unwrap(),
        PcapFormat::PcapNg,
        65_535,
    )
    .unwrap();
    for ts in [
        1_700_000_000 * sec,
        u64::MAX,     // the end of 64-bit nanoseconds: interval arithmetic saturates there
        u64::MAX - 1, // a second one does not make it believable
        (1_700_000_000 + 50 * 365 * 86_400) * sec, // 50 years ahead, alone
        1_700_000_001 * sec,
    ] {
        w.write(Timestamp(ts), LinkType::ETHERNET, &frame, len)
            .unwrap();
    }
    w.finish().unwrap();
    let out = run_within(
        &["analyze", "--json", "--no-progress", path.to_str().unwrap()],
        60,
        "analyze of far-future timestamps",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["packets"], 5);
    assert_eq!(v["timestamps_far_ahead"], 3);
    assert_eq!(v["last_ts"].as_f64().unwrap(), 1_700_000_001.0);
    assert_eq!(v["intervals"].as_array().unwrap().len(), 2);
    assert!(
        stderr(&out).contains("3 packets stamped more than a day ahead"),
        "{}",
        stderr(&out)
    );
}

/// Runs wirewatch with `args`, failing the test if it has not ended after `secs` (its output
/// is read meanwhile, so a long report cannot block it on a full pipe).
fn run_within(args: &[&str], secs: u64, what: &str) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(secs)) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid]).status();
            panic!("{what}: still running after {secs} s");
        }
    }
}

#[test]
fn a_paced_replay_waits_at_most_a_second_for_any_gap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gaps.pcap");
    let mut w = wirewatch_capture::write::PacketWriter::new(
        std::fs::File::create(&path).unwrap(),
        wirewatch_capture::write::PcapFormat::Pcap,
        65_535,
    )
    .unwrap();
    let mut frame = vec![0u8; 12];
    frame.extend_from_slice(&[0x08, 0x00]);
    frame.extend_from_slice(&[
        0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ]);
    frame.extend_from_slice(&[0x04, 0xd2, 0, 53, 0, 8, 0, 0]);
    let sec = 1_000_000_000u64;
    // An hour of silence, then a timestamp fifty years ahead, then the capture goes on.
    for s in [
        1_700_000_000,
        1_700_003_600,
        1_700_003_600 + 50 * 365 * 86_400,
        1_700_003_601,
    ] {
        w.write(
            Timestamp(s * sec),
            LinkType::ETHERNET,
            &frame,
            frame.len() as u32,
        )
        .unwrap();
    }
    w.finish().unwrap();
    // At the recorded pace this would take an hour (and fifty years); each gap costs a second.
    let out = run_within(
        &[
            "run",
            "--read",
            path.to_str().unwrap(),
            "--speed",
            "1",
            "--no-web",
            "--no-db",
            "--json",
        ],
        60,
        "a paced replay with gaps",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["packets"], 4, "{v}");
}

/// Log lines: `RUST_LOG=debug` shows debug lines, `-v` info, by default only warnings and
/// errors, `--log-json` one JSON object a line.
#[test]
fn log_levels_follow_rust_log_and_the_flags() {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scenarios/clean_background.pcap");
    let file = file.to_str().unwrap();
    let run = |env: Option<&str>, flags: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_wirewatch"));
        c.env_remove("RUST_LOG");
        if let Some(v) = env {
            c.env("RUST_LOG", v);
        }
        // Log flags go after the command (before it they would be `run`'s).
        let out = c
            .arg("analyze")
            .args(flags)
            .args(["--json", file])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let debug = run(Some("debug"), &[]);
    assert!(
        debug.contains("DEBUG") && debug.contains("analysing"),
        "{debug}"
    );
    assert!(!run(None, &[]).contains("DEBUG"));
    assert!(run(None, &["-vv"]).contains("DEBUG"));
    let json = run(Some("debug"), &["--log-json"]);
    let line = json
        .lines()
        .find(|l| l.contains("analysing"))
        .expect("a JSON debug line");
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(v["level"], "DEBUG", "{line}");
}
