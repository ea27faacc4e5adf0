//! Endurance: `wirewatch run` stays bounded however much packet time it sees, and stops in
//! time when told to.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wirewatch_capture::write::{PacketWriter, PcapFormat};
use wirewatch_core::{LinkType, Timestamp};
use wirewatch_testkit::poll_until;

const SEC: u64 = 1_000_000_000;
const T0: u64 = 1_700_000_000;

/// Ethernet, IPv4, UDP 10.0.0.1:5000 -> 10.0.0.2:6000 with `payload` bytes.
fn udp_frame(payload: usize) -> Vec<u8> {
    let mut f = vec![0u8; 12];
    f.extend_from_slice(&[0x08, 0x00]);
    let ip_len = (20 + 8 + payload) as u16;
    f.extend_from_slice(&[
        0x45,
        0,
        (ip_len >> 8) as u8,
        ip_len as u8,
        0,
        1,
        0,
        0,
        64,
        17,
        0,
        0,
    ]);
    f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
    let udp_len = (8 + payload) as u16;
    f.extend_from_slice(&[
        0x13,
        0x88,
        0x17,
        0x70,
        (udp_len >> 8) as u8,
        udp_len as u8,
        0,
        0,
    ]);
    f.resize(f.len() + payload, 0x61);
    f
}

/// One packet a second on one flow for `days` days of packet time.
fn one_flow(path: &Path, days: u64) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut w = PacketWriter::new(file, PcapFormat::Pcap, 65_535).unwrap();
    let frame = udp_frame(32);
    for s in 0..days * 86_400 {
        w.write(
            Timestamp((T0 + s) * SEC),
            LinkType::ETHERNET,
            &frame,
            frame.len() as u32,
        )
        .unwrap();
    }
    w.finish().unwrap();
}

/// Peak resident memory (KiB, from `VmHWM`) of a process, read until it exits.
fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Runs wirewatch with `args`; returns its output and its peak resident memory in KiB.
fn run_measured(args: &[&str], limit: Duration) -> (Output, u64) {
    let child = Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut peak = 0;
    // VmHWM only grows: the last reading before the exit is the peak (to within 10 ms).
    let (out, _) = wait_watching(child, limit, |pid| peak = peak.max(peak_rss_kib(pid)));
    (out, peak)
}

/// Waits for the child to exit (killing it and failing after `limit`), calling `tick` with
/// its pid every 10 ms meanwhile; returns its output and how long that took.
fn wait_watching(
    child: std::process::Child,
    limit: Duration,
    mut tick: impl FnMut(u32),
) -> (Output, Duration) {
    let pid = child.id();
    let started = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    loop {
        tick(pid);
        match rx.recv_timeout(Duration::from_millis(10)) {
            Ok(out) => return (out.unwrap(), started.elapsed()),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) if started.elapsed() < limit => {}
            Err(_) => {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
                panic!("wirewatch still running after {limit:?}");
            }
        }
    }
}

#[test]
fn run_memory_for_eight_days_stays_within_a_quarter_of_one_day() {
    let dir = tempfile::tempdir().unwrap();
    let mut peaks = Vec::new();
    for days in [1, 8] {
        let pcap = dir.path().join(format!("{days}d.pcap"));
        one_flow(&pcap, days);
        let db = dir.path().join(format!("{days}d.db"));
        // The database and the dashboard on, as a monitor runs; ten-second intervals keep
        // the test short (the report used to keep every one of them).
        let (out, peak) = run_measured(
            &[
                "run",
                "--read",
                pcap.to_str().unwrap(),
                "--speed",
                "max",
                "--db",
                db.to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
                "--interval",
                "10s",
                "--json",
            ],
            Duration::from_secs(600),
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{err}");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["packets"], days * 86_400);
        let intervals = days * 8_640;
        let listed = v["intervals"].as_array().unwrap().len() as u64;
        assert_eq!(
            listed,
            intervals.min(1_000),
            "the latest intervals are listed"
        );
        assert_eq!(
            v["intervals_omitted"].as_u64().unwrap() + listed,
            intervals,
            "and the rest counted"
        );
        assert_eq!(
            v["store"]["records_dropped"], 0,
            "a replay waits for the disk: {err}"
        );
        peaks.push(peak);
    }
    let (one, eight) = (peaks[0] as f64, peaks[1] as f64);
    eprintln!("peak RSS: 1 day {one} KiB, 8 days {eight} KiB");
    assert!(
        eight <= one * 1.25,
        "8 days of packet time took {eight} KiB at peak, 1 day {one} KiB"
    );
}

/// A child's stderr, collected line by line as it comes, so a test can wait for a line.
struct StderrLines {
    text: Arc<Mutex<String>>,
    reader: std::thread::JoinHandle<()>,
}

impl StderrLines {
    fn take(child: &mut std::process::Child) -> StderrLines {
        let stderr = child.stderr.take().unwrap();
        let text = Arc::new(Mutex::new(String::new()));
        let reader = {
            let text = text.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    let mut t = text.lock().unwrap();
                    t.push_str(&line);
                    t.push('\n');
                }
            })
        };
        StderrLines { text, reader }
    }

    /// What the child has said so far.
    fn text(&self) -> String {
        self.text.lock().unwrap().clone()
    }

    /// Everything the child said, once it has exited.
    fn into_text(self) -> String {
        self.reader.join().unwrap();
        self.text.lock().unwrap().clone()
    }
}

/// Polls `condition` until it holds; kills `child` and fails the test after `limit`.
fn wait_or_kill(
    child: &mut std::process::Child,
    limit: Duration,
    what: &str,
    condition: impl FnMut() -> bool,
) {
    if !poll_until(limit, condition) {
        let _ = child.kill();
        let _ = child.wait();
        panic!("timed out after {limit:?} waiting for {what}");
    }
}

/// Starts `run` replaying a generated capture at full speed into a database, and holds the
/// database's write lock once the run has set it up, so the run's writes stall as on a dead
/// disk. Returns the run, the lock and the run's stderr once the run has records queued
/// behind the lock.
fn run_against_a_stalled_database(
    dir: &Path,
) -> (std::process::Child, rusqlite::Connection, StderrLines) {
    let pcap = dir.join("traffic.pcap");
    let config = wirewatch_capture::synth::GeneratorConfig {
        packets: 400_000,
        flows: 40_000,
        ..Default::default()
    };
    wirewatch::commands::generate::generate_file(&pcap, &config).unwrap();
    let db = dir.join("stalled.db");
    // The dashboard only shows this test the store's queue (its /metrics).
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args(["run", "--read", pcap.to_str().unwrap(), "--speed", "max"])
        .args(["--db", db.to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = StderrLines::take(&mut child);
    // Lock the database once the run has set it up (its migrations done), before it writes.
    let migrated = || {
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .and_then(|c| c.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)))
            .is_ok_and(|v| v == wirewatch_store::migration_count())
    };
    wait_or_kill(
        &mut child,
        Duration::from_secs(30),
        "the database set up",
        migrated,
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.busy_timeout(Duration::from_secs(30)).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    // Wait for records queued behind the lock, as the run's /metrics shows them.
    let mut url = None;
    wait_or_kill(&mut child, Duration::from_secs(30), "the dashboard", || {
        url = stderr.text().lines().find_map(|l| {
            l.strip_prefix("wirewatch: dashboard at ")
                .map(|u| u.trim_end_matches('/').to_string())
        });
        url.is_some()
    });
    let metrics = format!("{}/metrics", url.unwrap());
    let queued = || -> u64 {
        let Ok(mut response) = ureq::get(&metrics).call() else {
            return 0;
        };
        let text = response.body_mut().read_to_string().unwrap_or_default();
        text.lines()
            .find_map(|l| l.strip_prefix("wirewatch_store_queued_records "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    wait_or_kill(
        &mut child,
        Duration::from_secs(60),
        "records queued behind the lock",
        || queued() > 0,
    );
    (child, conn, stderr)
}

fn interrupt(child: &std::process::Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits for the child to exit; returns its output and how long that took.
fn wait_exit(child: std::process::Child, limit: Duration) -> (Output, Duration) {
    wait_watching(child, limit, |_| {})
}

#[test]
fn ctrl_c_on_a_stalled_database_saves_for_two_seconds_then_says_what_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (child, lock, stderr) = run_against_a_stalled_database(dir.path());
    interrupt(&child);
    // Two seconds for the database, the rest to end the flows (a debug build on a busy
    // machine); a replay that waited for the disk would take minutes.
    let (out, took) = wait_exit(child, Duration::from_secs(60));
    drop(lock);
    let err = stderr.into_text();
    assert!(
        took < Duration::from_secs(15),
        "stopping took {took:?}: {err}"
    );
    assert!(
        took >= Duration::from_secs(2),
        "it gave the disk its two seconds: {err}"
    );
    assert!(err.contains("stopping (saving for at most 2 s"), "{err}");
    assert!(err.contains("still queued are not written"), "{err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
}

#[test]
fn a_second_ctrl_c_exits_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, lock, stderr) = run_against_a_stalled_database(dir.path());
    interrupt(&child);
    // The second Ctrl-C comes once the first has been taken: the run says it is stopping.
    wait_or_kill(
        &mut child,
        Duration::from_secs(30),
        "the first Ctrl-C taken",
        || stderr.text().contains("wirewatch: stopping"),
    );
    let again = Instant::now();
    interrupt(&child);
    let (out, _) = wait_exit(child, Duration::from_secs(60));
    let took = again.elapsed();
    drop(lock);
    let err = stderr.into_text();
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        took < Duration::from_secs(1),
        "took {took:?} after the second Ctrl-C"
    );
}

#[test]
fn a_future_dated_packet_analysed_into_a_database_leaves_older_rows_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("history.db");
    // Yesterday's capture (packet time 2023), analysed into the database.
    let older = dir.path().join("older.pcap");
    let config = wirewatch_capture::synth::GeneratorConfig {
        packets: 20_000,
        flows: 500,
        start: Timestamp(T0 * SEC),
        ..Default::default()
    };
    wirewatch::commands::generate::generate_file(&older, &config).unwrap();
    let analyze = |file: &Path| {
        let out = Command::new(env!("CARGO_BIN_EXE_wirewatch"))
            .args(["analyze", "--no-progress", "--db", db.to_str().unwrap()])
            .arg(file)
            .output()
            .unwrap();
        assert!(
            out.status.code() == Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    analyze(&older);
    let count = |table: &str| -> i64 {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    let (flows, intervals) = (count("flows"), count("intervals"));
    assert!(
        flows >= 400 && intervals > 0,
        "{flows} flows, {intervals} intervals"
    );
    // A capture of the next day whose first packet and one in the middle claim 2073.
    let newer = dir.path().join("newer.pcap");
    let mut w = PacketWriter::new(
        std::fs::File::create(&newer).unwrap(),
        PcapFormat::Pcap,
        65_535,
    )
    .unwrap();
    let frame = udp_frame(16);
    let future = (T0 + 50 * 365 * 86_400) * SEC;
    let next_day = (T0 + 86_400) * SEC;
    for ts in [future, next_day, next_day + SEC, future, next_day + 2 * SEC] {
        w.write(
            Timestamp(ts),
            LinkType::ETHERNET,
            &frame,
            frame.len() as u32,
        )
        .unwrap();
    }
    w.finish().unwrap();
    analyze(&newer);
    assert!(count("flows") >= flows, "older flows deleted");
    assert!(count("intervals") >= intervals, "older intervals deleted");
    let latest: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT max(last_ts) FROM flows", [], |r| r.get(0))
        .unwrap();
    assert!(
        (latest as u64) < (T0 + 2 * 86_400) * SEC,
        "no row stored at the future time"
    );
}

/// Ethernet, IPv4, TCP `src:sport -> dst:dport` with `flags`.
fn tcp_frame(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, flags: u8) -> Vec<u8> {
    let mut f = vec![0u8; 12];
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend_from_slice(&[0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, if flags & 0x10 != 0 { 2 } else { 0 }]);
    f.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    f
}

/// Quiet UDP for `lead_s` seconds, a SYN scan of 300 ports answered by resets, then quiet
/// UDP for 12 more seconds.
fn scan_capture(path: &Path, lead_s: u64) {
    let mut w = PacketWriter::new(
        std::io::BufWriter::new(std::fs::File::create(path).unwrap()),
        PcapFormat::Pcap,
        65_535,
    )
    .unwrap();
    let quiet = udp_frame(32);
    let mut put = |ts: u64, frame: &[u8]| {
        w.write(Timestamp(ts), LinkType::ETHERNET, frame, frame.len() as u32)
            .unwrap();
    };
    let start = T0 * SEC;
    for s in 0..lead_s * 10 {
        put(start + s * SEC / 10, &quiet);
    }
    let scan_at = start + lead_s * SEC;
    let (attacker, victim) = ([10, 9, 0, 66], [10, 9, 0, 10]);
    for port in 1..=300u16 {
        let t = scan_at + u64::from(port) * 1_000_000;
        put(t, &tcp_frame(attacker, victim, 40_000, port, 0x02));
        put(
            t + 100_000,
            &tcp_frame(victim, attacker, port, 40_000, 0x14),
        );
    }
    for s in 0..120 {
        put(scan_at + SEC + s * SEC / 10, &quiet);
    }
    w.finish().unwrap();
}

#[test]
fn run_as_nobody_still_writes_evidence_captures() {
    let dir = tempfile::tempdir().unwrap();
    // The service's own directory, as /var/lib/wirewatch would be.
    std::os::unix::fs::chown(dir.path(), Some(65_534), Some(65_534)).unwrap();
    let pcap = dir.path().join("scan.pcap");
    scan_capture(&pcap, 4);
    let db = dir.path().join("w.db");
    // Paced, so that the alert (4 s into the capture, 1 s at this speed) comes well after
    // the privileges are dropped.
    let out = Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args(["run", "--read", pcap.to_str().unwrap(), "--speed", "4"])
        .args([
            "--db",
            db.to_str().unwrap(),
            "--no-web",
            "--json",
            "--user",
            "nobody",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("dropped privileges to user nobody"), "{err}");
    assert!(!err.contains("incomplete"), "{err}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let scan = v["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "port_scan")
        .unwrap_or_else(|| panic!("no port scan alert: {}", v["alerts"]));
    let link = &scan["evidence"]["pcap"];
    assert_eq!(link["complete"], true, "{link}");
    assert!(link.get("error").is_none(), "{link}");
    let file = Path::new(link["path"].as_str().unwrap());
    let meta = std::fs::metadata(file).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(meta.uid(), 65_534, "written by nobody");
    // The pcap header and the scan's 600 packets (54 bytes each, 16 of record header).
    assert!(meta.len() >= 24 + 600 * (16 + 54), "{} bytes", meta.len());
}

#[test]
fn run_as_nobody_refuses_to_start_where_nobody_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("scan.pcap");
    scan_capture(&pcap, 1);
    // A root-owned 0755 directory: nobody cannot create the model or evidence files there.
    let root_owned = dir.path().join("root-only");
    std::fs::create_dir(&root_owned).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let db = root_owned.join("w.db");
    let out = Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args(["run", "--read", pcap.to_str().unwrap(), "--speed", "max"])
        .args(["--db", db.to_str().unwrap(), "--no-web", "--user", "nobody"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("which user nobody cannot write"), "{err}");
}

#[test]
fn a_failed_evidence_capture_is_said_and_marked_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("scan.pcap");
    scan_capture(&pcap, 1);
    let evidence = dir.path().join("evidence");
    // Where the first alerts' files would go, directories stand: they cannot be created.
    for id in 1..=20 {
        std::fs::create_dir_all(evidence.join(format!("alert-{id}.pcap"))).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args(["analyze", "--json", "--no-progress", "--evidence-dir"])
        .arg(&evidence)
        .arg(&pcap)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let scan = v["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "port_scan")
        .unwrap_or_else(|| panic!("no port scan alert: {}", v["alerts"]));
    let link = &scan["evidence"]["pcap"];
    assert_eq!(link["complete"], false, "{link}");
    assert!(
        link["error"].as_str().unwrap().contains("cannot create"),
        "{link}"
    );
    let said = format!("{err}{}", v["warnings"]);
    assert!(
        said.contains(&format!(
            "evidence capture of alert {} is incomplete",
            scan["id"]
        )),
        "{said}"
    );
    assert!(
        v["evidence"]["captures_failed"].as_u64().unwrap() >= 1,
        "{}",
        v["evidence"]
    );
}

#[test]
fn a_replay_kept_on_screen_has_its_flows_in_the_history_before_exit() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("traffic.pcap");
    let config = wirewatch_capture::synth::GeneratorConfig {
        packets: 5_000,
        flows: 200,
        ..Default::default()
    };
    wirewatch::commands::generate::generate_file(&pcap, &config).unwrap();
    let db = dir.path().join("stay.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args([
            "run",
            "--read",
            pcap.to_str().unwrap(),
            "--speed",
            "max",
            "--stay",
        ])
        .args(["--db", db.to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let started = Instant::now();
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the replay did not end");
        if line.contains("the replay has ended") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60));
    }
    // The history has every flow of the file while the dashboard is still up: they ended
    // with the replay, as `analyze` ends them at the end of the file.
    let report = Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args(["analyze", "--json", "--no-progress"])
        .arg(&pcap)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&report.stdout).unwrap();
    let finished = v["flows"].as_array().unwrap().len() as i64;
    assert!(finished > 100, "{finished} flows in the file");
    let stored = || -> i64 {
        rusqlite::Connection::open(&db)
            .unwrap()
            .query_row("SELECT count(*) FROM flows", [], |r| r.get(0))
            .unwrap()
    };
    // Checked below, after the child is stopped.
    poll_until(Duration::from_secs(20), || stored() >= finished);
    let n = stored();
    assert!(child.try_wait().unwrap().is_none(), "still running");
    interrupt(&child);
    let _ = wait_exit(child, Duration::from_secs(60));
    assert_eq!(n, finished, "flows stored before exit");
}
