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
