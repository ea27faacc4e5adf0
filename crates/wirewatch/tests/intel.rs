//! Threat intelligence end to end: blocklists in `analyze` and `run`, AbuseIPDB through a
//! faithful local server of its `check` protocol (the one the intel crate's tests use), the
//! cache across runs, and `wirewatch intel check`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

#[path = "../../wirewatch-intel/tests/support/abuseipdb.rs"]
mod abuseipdb;

use abuseipdb::{FakeAbuseIpdb, FakeConfig, Record};
use serde_json::Value;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use wirewatch_capture::synth::{Body, FrameSpec, IpPacket, PcapWriter, TcpSegment, Transport};
use wirewatch_core::proto::tcp_flags::{ACK, SYN};
use wirewatch_core::{LinkType, Timestamp};

const LOCAL: &str = "10.0.0.5";
/// On the blocklist below.
const LISTED: &str = "45.155.205.233";
/// Scored 87 by the fake AbuseIPDB.
const BAD: &str = "185.220.101.4";
/// Scored 50 (not above the default threshold).
const BORDERLINE: &str = "91.198.174.192";
/// Scored 0.
const GOOD: &str = "140.82.112.3";

fn wirewatch(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wirewatch"));
    cmd.args(args)
        .env_remove("ABUSEIPDB_API_KEY")
        .env_remove("ABUSEIPDB_BASE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A capture in which LOCAL opens TCP connections to every remote, one per second, then
/// keeps talking for a few more seconds (so the intervals holding them close), plus one
/// connection from 172.16.0.9 (a private address) to LOCAL.
fn capture(dir: &Path) -> PathBuf {
    let path = dir.join("remotes.pcap");
    let mut w = PcapWriter::new(
        std::fs::File::create(&path).unwrap(),
        LinkType::ETHERNET,
        65535,
        false,
    )
    .unwrap();
    let t0 = 1_700_000_000_000_000_000u64;
    let mut frame = |ts: u64, src: &str, dst: &str, sport: u16, dport: u16, flags: u8| {
        let seg = TcpSegment {
            src_port: sport,
            dst_port: dport,
            flags,
            ..TcpSegment::default()
        };
        let spec = FrameSpec::new(
            [2, 0, 0, 0, 0, 1],
            [2, 0, 0, 0, 0, 2],
            Body::Ip(IpPacket::new(ip(src), ip(dst), Transport::Tcp(seg))),
        );
        let bytes = spec.to_vec();
        w.write_frame(Timestamp(ts), &bytes, bytes.len() as u32)
            .unwrap();
    };
    let remotes = [LISTED, BAD, BORDERLINE, GOOD];
    for round in 0..6u64 {
        for (i, r) in remotes.iter().enumerate() {
            let ts = t0 + round * 1_000_000_000 + i as u64 * 1_000_000;
            let port = 40_000 + (round * 10 + i as u64) as u16;
            frame(ts, LOCAL, r, port, 443, SYN);
            frame(ts + 500, r, LOCAL, 443, port, SYN | ACK);
        }
        frame(
            t0 + round * 1_000_000_000 + 900,
            "172.16.0.9",
            LOCAL,
            50_000,
            22,
            SYN,
        );
    }
    w.finish().unwrap();
    path
}

fn config(dir: &Path, extra: &str) -> PathBuf {
    let list = dir.join("drop.txt");
    std::fs::write(
        &list,
        "; a Spamhaus-style list\n45.155.205.0/24 ; SBL123456\n10.0.0.0/8 ; a bogus entry covering local space\nnot an address\n",
    )
    .unwrap();
    let cfg = dir.join("wirewatch.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[intel.blocklists]]\nname = \"drop\"\npath = \"{}\"\n{extra}",
            list.display()
        ),
    )
    .unwrap();
    cfg
}

fn alerts_by_target(report: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = report["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "threat_intel")
        .map(|a| {
            (
                a["targets"][0].as_str().unwrap().to_string(),
                a["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn analyze_flags_blocklisted_remotes_and_never_local_space() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = capture(dir.path());
    let cfg = config(dir.path(), "");
    let o = wirewatch(
        &[
            "analyze",
            "--json",
            "--config",
            cfg.to_str().unwrap(),
            pcap.to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("blocklist drop"), "{err}");
    assert!(
        err.contains("drop.txt:4"),
        "the malformed line is named: {err}"
    );
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    // One incident for the listed remote; the bogus 10/8 entry flags nothing local.
    assert_eq!(
        alerts_by_target(&r),
        vec![(LISTED.to_string(), "critical".to_string())]
    );
    let alert = r["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "threat_intel")
        .unwrap();
    assert_eq!(alert["sources"][0], LOCAL);
    assert!(alert["message"].as_str().unwrap().contains("SBL123456"));
    assert_eq!(alert["evidence"]["reputation"]["list"], "drop");
    // Flows to the listed address carry the reputation; others none.
    for f in r["flows"].as_array().unwrap() {
        let listed = f["dst_ip"] == LISTED;
        assert_eq!(
            f["threat_source"].as_str(),
            listed.then_some("blocklist"),
            "{f}"
        );
        if listed {
            assert_eq!(f["threat_score"], 100);
            assert_eq!(f["threat_ip"], LISTED);
        }
    }
}

#[test]
fn run_looks_remotes_up_once_and_alerts_above_the_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = capture(dir.path());
    let fake = FakeAbuseIpdb::start(FakeConfig::default());
    fake.set(BAD, Record::scored(87));
    fake.set(BORDERLINE, Record::scored(50));
    fake.set(GOOD, Record::scored(0));
    let cfg = config(dir.path(), "");
    let db = dir.path().join("history.db");
    let env = [
        ("ABUSEIPDB_API_KEY", fake.key()),
        ("ABUSEIPDB_BASE_URL", &fake.base_url()),
    ];
    let run = |_: u32| {
        wirewatch(
            &[
                "run",
                "--read",
                pcap.to_str().unwrap(),
                "--speed",
                "1",
                "--json",
                "--no-web",
                "--db",
                db.to_str().unwrap(),
                "--config",
                cfg.to_str().unwrap(),
            ],
            &env,
        )
    };
    let o = run(1);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    // The blocklisted remote is never sent (the list already answers); private ones never.
    assert_eq!(fake.requests_for(LISTED), 0);
    assert_eq!(fake.requests_for(LOCAL), 0);
    assert_eq!(fake.requests_for("172.16.0.9"), 0);
    for remote in [BAD, BORDERLINE, GOOD] {
        assert_eq!(fake.requests_for(remote), 1, "{remote} looked up once");
    }
    assert_eq!(
        alerts_by_target(&r),
        vec![
            (BAD.to_string(), "high".to_string()),
            (LISTED.to_string(), "critical".to_string()),
        ],
        "87 is above 50, 50 is not"
    );
    let bad = r["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["targets"][0] == BAD)
        .unwrap();
    let msg = bad["message"].as_str().unwrap();
    assert!(
        msg.contains("87/100 by AbuseIPDB from 261 reports"),
        "{msg}"
    );
    assert!(
        msg.contains("Netherlands") && msg.contains("Example Hosting B.V."),
        "{msg}"
    );
    assert_eq!(
        bad["evidence"]["reputation"]["usage_type"],
        "Data Center/Web Hosting/Transit"
    );

    // A second run over the same database spends no quota: the answers are cached.
    let o = run(2);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for remote in [BAD, BORDERLINE, GOOD] {
        assert_eq!(fake.requests_for(remote), 1, "{remote} not looked up again");
    }
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(alerts_by_target(&r).iter().any(|(t, _)| t == BAD));

    // `intel check` reads the same cache.
    let o = wirewatch(
        &[
            "intel",
            "check",
            BAD,
            "--json",
            "--db",
            db.to_str().unwrap(),
            "--config",
            cfg.to_str().unwrap(),
        ],
        &env,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let c: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(c["abuseipdb_status"], "cache");
    assert_eq!(c["abuseipdb"]["score"], 87);
    assert_eq!(fake.requests_for(BAD), 1);
}

#[test]
fn intel_check_looks_up_once_and_explains_what_it_will_not_do() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let fake = FakeAbuseIpdb::start(FakeConfig::default());
    fake.set(BAD, Record::scored(87));
    // No database yet: the first answer creates it to keep the cache (any Wirewatch
    // database will do as well).
    let db = dir.path().join("cache.db");
    let env = [
        ("ABUSEIPDB_API_KEY", fake.key()),
        ("ABUSEIPDB_BASE_URL", &fake.base_url()),
    ];
    let check = |addr: &str, env: &[(&str, &str)]| {
        let o = wirewatch(
            &[
                "intel",
                "check",
                addr,
                "--json",
                "--db",
                db.to_str().unwrap(),
                "--config",
                cfg.to_str().unwrap(),
            ],
            env,
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<Value>(&o.stdout).unwrap()
    };
    let first = check(BAD, &env);
    assert!(db.is_file(), "the answer is cached in a new database");
    assert_eq!(first["abuseipdb_status"], "lookup");
    assert_eq!(first["abuseipdb"]["score"], 87);
    assert_eq!(first["blocklist"], Value::Null);
    let again = check(BAD, &env);
    assert_eq!(again["abuseipdb_status"], "cache");
    assert_eq!(fake.requests_for(BAD), 1);
    let listed = check("45.155.205.1", &[]);
    assert_eq!(listed["blocklist"]["list"], "drop");
    assert_eq!(listed["blocklist"]["reference"], "SBL123456");
    assert!(
        listed["abuseipdb_status"]
            .as_str()
            .unwrap()
            .contains("no AbuseIPDB key")
    );
    let private = check("10.1.2.3", &env);
    assert_eq!(private["public"], false);
    assert_eq!(
        private["blocklist"],
        Value::Null,
        "a list entry covering 10/8 flags nothing local"
    );
    assert_eq!(fake.requests_for("10.1.2.3"), 0);
    // A bad key is explained, not fatal.
    let wrong = [
        ("ABUSEIPDB_API_KEY", "wrong-key-0123456789"),
        ("ABUSEIPDB_BASE_URL", &fake.base_url()),
    ];
    let o = check(GOOD, &wrong);
    assert!(
        o["abuseipdb_status"].as_str().unwrap().contains("failed"),
        "{o}"
    );
}

#[test]
fn sighup_reloads_the_blocklists_without_a_restart() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "[intel]\nreload_secs = 0\n");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args([
            "run",
            "--demo",
            "--no-db",
            "--no-web",
            "--config",
            cfg.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut wait_for = |needle: &str| {
        for line in lines.by_ref() {
            let line = line.unwrap();
            if line.contains(needle) {
                return line;
            }
        }
        panic!("no line with {needle:?}");
    };
    let first = wait_for("blocklist drop");
    assert!(first.contains("2 entries"), "{first}");
    wait_for("Ctrl-C to stop");
    std::fs::write(
        dir.path().join("drop.txt"),
        "45.155.205.0/24\n185.220.101.0/24\n5.188.10.0/23\n",
    )
    .unwrap();
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).unwrap();
    let reloaded = wait_for("blocklists reloaded");
    assert!(reloaded.contains("3 entries in 1 lists"), "{reloaded}");
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    std::thread::spawn(move || for _ in lines {});
    assert!(child.wait().unwrap().success(), "SIGHUP did not stop it");
}
