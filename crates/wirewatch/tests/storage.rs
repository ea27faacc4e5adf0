//! History end to end: what `analyze --db` and `run --db` store, exported back; bad databases
//! refused at start-up; a database killed with SIGKILL mid-write opens cleanly.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

use rusqlite::OpenFlags;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;
use wirewatch_testkit::poll_until;

const BIN: &str = env!("CARGO_BIN_EXE_wirewatch");

fn wirewatch(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Rows of `table` in the database at `db` as another process writes it (0 while the file
/// or the table is not there yet).
fn rows(db: &Path, table: &str) -> i64 {
    let Ok(conn) = rusqlite::Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return 0;
    };
    conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap_or(0)
}

fn generated(dir: &Path, packets: u64, flows: u64, pps: f64) -> String {
    let path = dir.join(format!("gen-{packets}.pcap"));
    let cfg = wirewatch_capture::synth::GeneratorConfig {
        seed: 5,
        packets,
        flows,
        packets_per_second: pps,
        ..Default::default()
    };
    wirewatch_capture::synth::write_pcap(&cfg, std::fs::File::create(&path).unwrap()).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn exported_history_matches_analyze() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = generated(dir.path(), 20_000, 500, 4_000.0);
    let db = dir.path().join("h.db");
    let db = db.to_str().unwrap();
    let out = wirewatch(&["analyze", "--json", "--db", db, &pcap]);
    assert!(out.status.success(), "{}", stderr(&out));
    let analyze: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(analyze["store"]["batches_dropped"], 0);
    assert_eq!(analyze["store"]["write_errors"], 0);

    let out = wirewatch(&[
        "export",
        "--db",
        db,
        "--what",
        "intervals",
        "--format",
        "json",
        "--resolution",
        "raw",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    let expected = analyze["intervals"].as_array().unwrap();
    assert_eq!(rows.len(), expected.len());
    for (row, want) in rows.iter().zip(expected) {
        for k in [
            "start_ts",
            "packets",
            "bytes",
            "bps",
            "pps",
            "protocols",
            "tcp_flags",
            "distinct_src_ips",
            "distinct_dst_ips",
            "flows_new",
            "flows_closed",
            "drops",
            "tcp_retransmissions",
            "tcp_out_of_order",
            "tcp_handshakes_timed",
            "tcp_rtt_p50_ms",
            "tcp_rtt_p95_ms",
        ] {
            assert_eq!(row[k], want[k], "interval field {k}");
        }
    }
    assert!(
        rows.iter()
            .any(|r| r["tcp_handshakes_timed"].as_u64() > Some(0) && r["tcp_rtt_p95_ms"].is_f64()),
        "no interval timed a handshake"
    );

    let out = wirewatch(&["export", "--db", db, "--what", "flows", "--format", "jsonl"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let flows: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(flows.len(), analyze["flows"].as_array().unwrap().len());
    let packets: u64 = flows
        .iter()
        .map(|f| f["packets_fwd"].as_u64().unwrap() + f["packets_rev"].as_u64().unwrap())
        .sum();
    assert_eq!(
        packets,
        analyze["packets"].as_u64().unwrap() - analyze["protocols"]["non_ip"].as_u64().unwrap()
    );

    // CSV: a header row, then one row per interval; nested fields flattened.
    let out = wirewatch(&[
        "export",
        "--db",
        db,
        "--what",
        "intervals",
        "--format",
        "csv",
        "--resolution",
        "raw",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("start_ts,"), "{header}");
    assert!(
        header.contains("protocols.tcp") && header.contains("drops.kernel"),
        "{header}"
    );
    assert_eq!(lines.count(), expected.len());

    // Filters: one port, a CIDR, a time range.
    let out = wirewatch(&[
        "export", "--db", db, "--what", "flows", "--format", "jsonl", "--port", "53",
    ]);
    let dns = String::from_utf8_lossy(&out.stdout).lines().count();
    let want = analyze["flows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["src_port"] == 53 || f["dst_port"] == 53)
        .count();
    assert_eq!(dns, want);
    assert!(dns > 0);

    // Relative times count back from the newest stored packet time, as the API's do: the
    // last two seconds are the last intervals, the same with `-2s` and `now-2s`.
    let last_end = expected
        .iter()
        .map(|i| i["start_ts"].as_f64().unwrap() + i["duration_s"].as_f64().unwrap())
        .fold(0.0, f64::max);
    let recent: Vec<Vec<f64>> = ["-2s", "now-2s"]
        .iter()
        .map(|from| {
            let out = wirewatch(&[
                "export",
                "--db",
                db,
                "--what",
                "intervals",
                "--format",
                "json",
                "--resolution",
                "raw",
                "--from",
                from,
            ]);
            assert!(out.status.success(), "{from}: {}", stderr(&out));
            let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
            rows.as_array()
                .unwrap()
                .iter()
                .map(|r| r["start_ts"].as_f64().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(recent[0], recent[1]);
    assert!(
        !recent[0].is_empty() && recent[0].len() < expected.len(),
        "{recent:?}"
    );
    assert!(
        recent[0].iter().all(|s| *s + 1.0 >= last_end - 2.0),
        "{recent:?}"
    );
    // An impossible date is refused, with the accepted forms.
    let out = wirewatch(&[
        "export",
        "--db",
        db,
        "--what",
        "intervals",
        "--from",
        "2026-02-31T00:00:00Z",
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("relative time"), "{}", stderr(&out));

    // Minute roll-ups are exact sums of the intervals they cover.
    let out = wirewatch(&[
        "export",
        "--db",
        db,
        "--what",
        "intervals",
        "--format",
        "json",
        "--resolution",
        "minute",
    ]);
    let minutes: Value = serde_json::from_slice(&out.stdout).unwrap();
    let sum: u64 = minutes
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["packets"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, analyze["packets"].as_u64().unwrap());
}

#[test]
fn bad_queries_and_databases_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let pcap = generated(dir.path(), 500, 20, 1000.0);
    assert!(
        wirewatch(&["analyze", "--db", db.to_str().unwrap(), &pcap])
            .status
            .success()
    );
    let db = db.to_str().unwrap();

    let out = wirewatch(&[
        "export",
        "--db",
        db,
        "--what",
        "flows",
        "--ip",
        "10.0.0.0/33",
    ]);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("10.0.0.0/33"), "{}", stderr(&out));
    let out = wirewatch(&[
        "export",
        "--db",
        db,
        "--what",
        "flows",
        "--from",
        "2024-01-02",
        "--to",
        "2024-01-01",
    ]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).to_lowercase().contains("range"),
        "{}",
        stderr(&out)
    );
    let out = wirewatch(&[
        "export",
        "--db",
        db,
        "--what",
        "flows",
        "--from",
        "yesterday",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is not a time"), "{}", stderr(&out));

    // A directory that does not exist.
    let out = wirewatch(&["analyze", "--db", "/nonexistent-dir/x.db", &pcap]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("/nonexistent-dir/x.db"),
        "{}",
        stderr(&out)
    );

    // A file that is not a database is refused and left alone.
    let text = dir.path().join("notes.db");
    std::fs::write(&text, "my precious notes\n".repeat(100)).unwrap();
    let before = std::fs::read(&text).unwrap();
    let out = wirewatch(&[
        "run",
        "--db",
        text.to_str().unwrap(),
        "--read",
        &pcap,
        "--speed",
        "max",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("notes.db"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&text).unwrap(), before, "nothing overwritten");

    // A database from a newer Wirewatch is refused and left alone.
    let newer = dir.path().join("newer.db");
    std::fs::copy(db, &newer).unwrap();
    let conn = rusqlite::Connection::open(&newer).unwrap();
    conn.pragma_update(None, "user_version", 9999).unwrap();
    drop(conn);
    let before = std::fs::read(&newer).unwrap();
    let out = wirewatch(&["analyze", "--db", newer.to_str().unwrap(), &pcap]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("newer"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(&newer).unwrap(),
        before,
        "nothing overwritten"
    );
}

#[test]
fn a_database_killed_mid_write_opens_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    // 20 s of packet time, replayed at 5x: about 4 s of heavy writing.
    let pcap = generated(dir.path(), 400_000, 60_000, 20_000.0);
    let db = dir.path().join("k.db");
    let mut child = Command::new(BIN)
        .args([
            "run",
            "--db",
            db.to_str().unwrap(),
            "--read",
            &pcap,
            "--speed",
            "5",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Let it write until what is checked below is in (flows are reported after a 10 s
    // linger: about 2 s into the 5x replay), then kill it hard while it still writes.
    let written = poll_until(Duration::from_secs(60), || {
        rows(&db, "intervals") >= 2 && rows(&db, "flows") > 100
    });
    if !written {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the run did not store two intervals and a hundred flows within 60 s");
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "still running when killed"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let conn = rusqlite::Connection::open(&db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let intervals: i64 = conn
        .query_row("SELECT COUNT(*) FROM intervals", [], |r| r.get(0))
        .unwrap();
    let flows: i64 = conn
        .query_row("SELECT COUNT(*) FROM flows", [], |r| r.get(0))
        .unwrap();
    // What was committed before the kill survives it.
    assert!(intervals >= 2, "only {intervals} intervals survived");
    assert!(flows > 100, "only {flows} flows survived");
    drop(conn);
    // And Wirewatch itself opens it and can export.
    let out = wirewatch(&[
        "export",
        "--db",
        db.to_str().unwrap(),
        "--what",
        "intervals",
        "--format",
        "jsonl",
        "--resolution",
        "raw",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count() as i64,
        intervals
    );
}

#[test]
fn alerts_of_different_kinds_export_as_one_csv_table() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("alerts.db");
    let db = db.to_str().unwrap();
    let scenarios = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenarios");
    let flood = scenarios.join("hping3_syn_flood.pcap");
    let scan = scenarios.join("nmap_syn_scan.pcap");
    let o = wirewatch(&[
        "analyze",
        "--db",
        db,
        flood.to_str().unwrap(),
        scan.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = wirewatch(&["export", "--db", db, "--what", "alerts", "--format", "csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let header = rows.headers().unwrap().clone();
    let evidence = header.iter().position(|h| h == "evidence").unwrap();
    let kinds: Vec<String> = rows
        .records()
        .map(|r| {
            let r = r.unwrap();
            assert_eq!(r.len(), header.len());
            let ev: Value = serde_json::from_str(&r[evidence]).unwrap();
            assert!(ev.is_object());
            r[1].to_string()
        })
        .collect();
    assert!(kinds.contains(&"syn_flood".to_string()), "{kinds:?}");
    assert!(kinds.contains(&"port_scan".to_string()), "{kinds:?}");
}

#[test]
fn a_second_writer_on_one_database_is_refused_readers_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = generated(dir.path(), 2_000, 50, 1_000.0);
    let db = dir.path().join("one.db");
    let db_s = db.to_str().unwrap();
    let out = wirewatch(&["analyze", "--db", db_s, &pcap]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Another process (here: this test) is writing: it holds `<db>.lock`.
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.path().join("one.db.lock"))
        .expect("the writer's lock file");
    lock.try_lock().unwrap();
    let out = wirewatch(&["analyze", "--db", db_s, &pcap]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("another wirewatch is writing to the database"),
        "{}",
        stderr(&out)
    );
    let out = wirewatch(&["run", "--read", &pcap, "--no-web", "--db", db_s]);
    assert!(!out.status.success(), "run is refused too");
    // Reading is fine meanwhile.
    let out = wirewatch(&[
        "export", "--db", db_s, "--what", "flows", "--format", "jsonl",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!out.stdout.is_empty());
    // Once the other writer is gone, writing works again.
    drop(lock);
    let out = wirewatch(&["analyze", "--db", db_s, &pcap]);
    assert!(out.status.success(), "{}", stderr(&out));
}
