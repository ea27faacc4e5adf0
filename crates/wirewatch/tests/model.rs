//! The anomaly model end to end: trained at the start of a run and saved next to the
//! database, loaded by the next run, and retrained on a stored time range from the CLI.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn wirewatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(o: &Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}");
    err
}

/// 60 s of synthetic traffic at 2,000 packets/s.
fn capture(dir: &Path) -> String {
    let path = dir.join("normal.pcap");
    let p = path.to_str().unwrap().to_string();
    ok(&wirewatch(&[
        "generate",
        "-o",
        &p,
        "--packets",
        "120000",
        "--flows",
        "3000",
        "--pps",
        "2000",
    ]));
    p
}

#[test]
fn a_run_trains_saves_and_the_next_run_loads_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = capture(dir.path());
    let db = dir.path().join("h.db");
    let cfg = dir.path().join("w.toml");
    std::fs::write(
        &cfg,
        "[detect.ml_anomaly.trainer]\nbaseline_intervals = 40\nwarmup_intervals = 2\n",
    )
    .unwrap();
    let run = || {
        wirewatch(&[
            "run",
            "--read",
            &pcap,
            "--speed",
            "max",
            "--no-web",
            "--json",
            "--db",
            db.to_str().unwrap(),
            "--config",
            cfg.to_str().unwrap(),
        ])
    };
    let err = ok(&run());
    let model = dir.path().join("h.anomaly.json");
    assert!(
        err.contains("anomaly model trained on 40 intervals, saved to"),
        "{err}"
    );
    assert!(model.is_file());
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    assert_eq!(saved["trained_on"]["intervals"], 40);
    // The next run starts with it instead of learning again.
    let o = run();
    let err = ok(&o);
    assert!(err.contains("(trained on 40 intervals)"), "{err}");
    assert!(!err.contains("saved to"), "nothing new to save: {err}");
    // The loaded model scores every interval: its alerts, if any, explain themselves.
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    for a in r["alerts"].as_array().unwrap() {
        if a["kind"] == "ml_anomaly" {
            assert!(
                a["message"].as_str().unwrap().contains("vs baseline"),
                "{a}"
            );
            assert!(
                !a["evidence"]["contributions"]
                    .as_array()
                    .unwrap()
                    .is_empty()
            );
        }
    }
    // A model for another feature list is refused with the reason, not silently used.
    std::fs::write(&model, r#"{"version": 99}"#).unwrap();
    let o = run();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("anomaly model"));
}

#[test]
fn retrain_on_a_stored_range() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = capture(dir.path());
    let db = dir.path().join("h.db");
    let db = db.to_str().unwrap();
    ok(&wirewatch(&["analyze", "--db", db, &pcap]));
    let out = wirewatch(&["model", "retrain", "--db", db]);
    ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("trained on 6"),
        "60 one-second intervals: {text}"
    );
    assert!(dir.path().join("h.anomaly.json").is_file());
    // A range with no data is explained.
    let o = wirewatch(&[
        "model",
        "retrain",
        "--db",
        db,
        "--from",
        "2001-01-01",
        "--to",
        "2001-01-02",
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no stored intervals in that range"));
    // Too short a range to learn from is explained too.
    let o = wirewatch(&["model", "retrain", "--db", "/nonexistent/x.db"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("no such database"));
}

#[test]
fn train_reads_the_published_csv_format_and_saves_a_model() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../wirewatch-ml/tests/fixtures/cicids2017-sample.csv");
    let out = dir.path().join("flows.model");
    let o = wirewatch(&[
        "train",
        "--dataset",
        fixture.to_str().unwrap(),
        "--quick",
        "--out",
        out.to_str().unwrap(),
    ]);
    ok(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "macro-F1",
        "confusion matrix",
        "PortScan",
        "not trained, fewer than 50 rows: Infiltration",
        "model saved to",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    assert!(out.is_file());
    let o = wirewatch(&["train", "--dataset", "/nonexistent/dir"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read the dataset"));
}

/// The loop a user follows: record flows with features, export them labelled, train, and
/// classify another capture.
#[test]
fn flows_exported_labelled_train_a_model_that_flags_another_scan() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenarios");
    let features = dir.path().join("features.toml");
    std::fs::write(&features, "[flows]\nflow_features = true\n").unwrap();
    let data = dir.path().join("dataset");
    std::fs::create_dir_all(&data).unwrap();
    for (capture, label, ip) in [
        ("nmap_syn_scan.pcap", "PortScan", Some("10.210.0.1")),
        ("clean_background.pcap", "BENIGN", None),
        ("ssh_brute_force.pcap", "BENIGN", Some("10.210.0.3")),
    ] {
        let db = dir.path().join(format!("{capture}.db"));
        let db = db.to_str().unwrap();
        ok(&wirewatch(&[
            "analyze",
            "--config",
            features.to_str().unwrap(),
            "--db",
            db,
            fixtures.join(capture).to_str().unwrap(),
        ]));
        let out = data.join(format!("{capture}.csv"));
        let mut args = vec![
            "export",
            "--db",
            db,
            "--what",
            "flows",
            "--format",
            "cicflowmeter",
            "--label",
            label,
            "-o",
            out.to_str().unwrap(),
        ];
        if let Some(ip) = ip {
            args.extend(["--ip", ip]);
        }
        ok(&wirewatch(&args));
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(
            text.starts_with(" Destination Port, Flow Duration,"),
            "{}",
            &text[..80]
        );
        assert!(
            text.lines().count() > 50,
            "{capture}: {} rows",
            text.lines().count()
        );
    }
    let model = dir.path().join("flows.model");
    let o = wirewatch(&[
        "train",
        "--dataset",
        data.to_str().unwrap(),
        "--quick",
        "--out",
        model.to_str().unwrap(),
    ]);
    ok(&o);
    let cfg = dir.path().join("classify.toml");
    std::fs::write(
        &cfg,
        format!("[detect.ml_threat]\nmodel = \"{}\"\n", model.display()),
    )
    .unwrap();
    let o = wirewatch(&[
        "analyze",
        "--json",
        "--config",
        cfg.to_str().unwrap(),
        fixtures.join("nmap_connect_scan.pcap").to_str().unwrap(),
    ]);
    ok(&o);
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let verdicts: Vec<&Value> = r["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "ml_threat")
        .collect();
    assert!(
        verdicts
            .iter()
            .any(|a| a["sources"][0] == "10.210.0.1" && a["evidence"]["class"] == "PortScan"),
        "{verdicts:?}"
    );
    assert!(
        verdicts.iter().all(|a| a["sources"][0] == "10.210.0.1"),
        "only the scanner is called an attacker: {verdicts:?}"
    );
    // Without features recorded, the export explains what to do.
    let db = dir.path().join("plain.db");
    ok(&wirewatch(&[
        "analyze",
        "--db",
        db.to_str().unwrap(),
        fixtures.join("icmp_flood.pcap").to_str().unwrap(),
    ]));
    let o = wirewatch(&[
        "export",
        "--db",
        db.to_str().unwrap(),
        "--what",
        "flows",
        "--format",
        "cicflowmeter",
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("flow_features = true"));
}

/// Flow features through the whole path (decode, flow table, database, export) on a capture
/// with known timings: a TCP connection whose every gap is chosen.
#[test]
fn exported_features_match_a_capture_with_known_timings() {
    use wirewatch_capture::synth::{Body, FrameSpec, IpPacket, PcapWriter, TcpSegment, Transport};
    use wirewatch_core::proto::tcp_flags::{ACK, FIN, PSH, SYN};
    use wirewatch_core::{LinkType, Timestamp};
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("timed.pcap");
    let mut w = PcapWriter::new(
        std::fs::File::create(&pcap).unwrap(),
        LinkType::ETHERNET,
        65535,
        true,
    )
    .unwrap();
    let (c, s) = ("10.9.0.1", "10.9.0.2");
    let payload_c = [b'a'; 100];
    let payload_s = [b'b'; 300];
    // (µs, from client, flags, payload)
    let plan: [(u64, bool, u8, &[u8]); 8] = [
        (0, true, SYN, &[]),
        (1_000, false, SYN | ACK, &[]),
        (2_000, true, ACK, &[]),
        (5_000, true, PSH | ACK, &payload_c),
        (9_000, false, PSH | ACK, &payload_s),
        (10_000, true, FIN | ACK, &[]),
        (11_000, false, FIN | ACK, &[]),
        (12_000, true, ACK, &[]),
    ];
    let t0 = 1_700_000_000_000_000_000u64;
    for (us, from_client, flags, payload) in plan {
        let (src, dst, sp, dp) = if from_client {
            (c, s, 40_000, 8080)
        } else {
            (s, c, 8080, 40_000)
        };
        let seg = TcpSegment {
            src_port: sp,
            dst_port: dp,
            flags,
            payload: wirewatch_capture::synth::Payload::Bytes(payload),
            ..TcpSegment::default()
        };
        let spec = FrameSpec::new(
            [2, 0, 0, 0, 0, 1],
            [2, 0, 0, 0, 0, 2],
            Body::Ip(IpPacket::new(
                src.parse().unwrap(),
                dst.parse().unwrap(),
                Transport::Tcp(seg),
            )),
        );
        let bytes = spec.to_vec();
        w.write_frame(Timestamp(t0 + us * 1_000), &bytes, bytes.len() as u32)
            .unwrap();
    }
    w.finish().unwrap();
    let cfg = dir.path().join("f.toml");
    std::fs::write(&cfg, "[flows]\nflow_features = true\n").unwrap();
    let db = dir.path().join("t.db");
    let db = db.to_str().unwrap();
    ok(&wirewatch(&[
        "analyze",
        "--config",
        cfg.to_str().unwrap(),
        "--db",
        db,
        pcap.to_str().unwrap(),
    ]));
    let out = wirewatch(&[
        "export",
        "--db",
        db,
        "--what",
        "flows",
        "--format",
        "cicflowmeter",
    ]);
    ok(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    let mut rows = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header: Vec<String> = rows
        .headers()
        .unwrap()
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let row = rows.records().next().unwrap().unwrap();
    let get = |name: &str| -> f64 {
        let i = header.iter().position(|h| h == name).unwrap();
        row[i].parse().unwrap()
    };
    let close = |name: &str, want: f64| {
        let got = get(name);
        assert!(
            (got - want).abs() <= want.abs() * 1e-4 + 1e-3,
            "{name}: {got} != {want}"
        );
    };
    close("Destination Port", 8080.0);
    close("Flow Duration", 12_000.0);
    close("Total Fwd Packets", 5.0);
    close("Total Backward Packets", 3.0);
    close("Total Length of Fwd Packets", 100.0);
    close("Total Length of Bwd Packets", 300.0);
    close("Fwd Packet Length Max", 100.0);
    close("Fwd Packet Length Mean", 20.0);
    close("Flow IAT Mean", 12_000.0 / 7.0);
    close("Flow IAT Max", 4_000.0);
    close("Flow IAT Min", 1_000.0);
    close("Fwd IAT Total", 12_000.0);
    close("SYN Flag Count", 2.0);
    close("FIN Flag Count", 2.0);
    assert_eq!(row.get(row.len() - 1), Some("BENIGN"));
}
