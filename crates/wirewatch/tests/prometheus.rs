//! A real Prometheus server (Debian's package) scrapes `wirewatch run`'s `/metrics` and its
//! query API answers with the replay's totals. Skipped when `prometheus` is not installed
//! (`scripts/setup.sh --test` installs it).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

mod support;

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::dashboard::start;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scenarios")
        .join(name)
}

/// Kills the child when dropped, so a failing test leaves no server behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get_json(url: &str) -> Option<Value> {
    let mut resp = ureq::get(url).call().ok()?;
    let body = resp.body_mut().read_to_string().ok()?;
    serde_json::from_str(&body).ok()
}

/// The value of a Prometheus instant query with one result.
fn query(base: &str, q: &str) -> Option<f64> {
    let v = get_json(&format!(
        "{base}/api/v1/query?query={}",
        q.replace(' ', "%20")
            .replace('{', "%7B")
            .replace('}', "%7D")
            .replace('"', "%22")
    ))?;
    let r = v["data"]["result"].as_array()?.first()?.clone();
    r["value"][1].as_str()?.parse().ok()
}

#[test]
fn a_prometheus_server_scrapes_the_replays_totals() {
    if Command::new("prometheus")
        .arg("--version")
        .output()
        .is_err()
    {
        wirewatch_testkit::skip(format_args!(
            "prometheus is not installed (scripts/setup.sh --test installs it)"
        ));
        return;
    }
    let flood = fixture("udp_flood.pcap");
    let analyzed = Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args(["analyze", "--json", "--no-progress"])
        .arg(&flood)
        .output()
        .unwrap();
    assert!(analyzed.status.success());
    let report: Value = serde_json::from_slice(&analyzed.stdout).unwrap();
    let (packets, bytes) = (
        report["packets"].as_f64().unwrap(),
        report["bytes"].as_f64().unwrap(),
    );

    let (child, url) = start(&[
        "run",
        "--speed",
        "max",
        "--stay",
        "--no-db",
        "--listen",
        "127.0.0.1:0",
        "--read",
        flood.to_str().unwrap(),
    ]);
    let _wirewatch = Running(child);
    let target = url.trim_start_matches("http://").to_string();

    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  \
             - job_name: wirewatch\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    let _prometheus = Running(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut got_packets, mut got_bytes, mut up) = (None, None, None);
    while Instant::now() < deadline {
        up = query(&base, "up{job=\"wirewatch\"}");
        got_packets = query(&base, "sum(wirewatch_packets_total)");
        got_bytes = query(&base, "sum(wirewatch_bytes_total)");
        if up == Some(1.0) && got_packets == Some(packets) && got_bytes == Some(bytes) {
            break;
        }
        // The poll interval of this condition loop: Prometheus scrapes once a second.
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(up, Some(1.0), "Prometheus did not scrape {target}");
    assert_eq!(got_packets, Some(packets));
    assert_eq!(got_bytes, Some(bytes));
    // Labels survive the trip: the UDP flood is counted as UDP.
    let udp = query(&base, "sum(wirewatch_packets_total{proto=\"udp\"})").unwrap();
    assert_eq!(udp, report["protocols"]["udp"].as_f64().unwrap());
}
