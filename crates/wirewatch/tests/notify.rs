//! Alert notifications from a real run: a replayed SYN flood reaches a local webhook receiver
//! through the configured template.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

/// A receiver that answers 200 to every request and keeps the bodies.
fn receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let keep = bodies.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Read the head, then as many body bytes as Content-Length says.
            loop {
                let n = s.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if body.len() >= len {
                        keep.lock().unwrap().push(body[..len].to_string());
                        break;
                    }
                }
            }
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    (url, bodies)
}

#[test]
fn a_flood_alert_reaches_the_webhook_through_its_template() {
    let dir = tempfile::tempdir().unwrap();
    let (url, bodies) = receiver();
    let cfg = dir.path().join("notify.toml");
    std::fs::write(
        &cfg,
        format!(
            "[notify]\nmin_severity = \"high\"\n\n[notify.webhook]\nurl = \"{url}\"\n\
             template = '{{\"text\": \"[{{{{severity}}}}] {{{{kind}}}}: {{{{message}}}}\"}}'\n"
        ),
    )
    .unwrap();
    let pcap = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scenarios/hping3_syn_flood.pcap");
    let o = Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args([
            "run",
            "--read",
            pcap.to_str().unwrap(),
            "--speed",
            "max",
            "--no-web",
            "--no-db",
            "--config",
            cfg.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("notifying alerts of severity high and above"),
        "{err}"
    );
    let bodies = bodies.lock().unwrap().clone();
    assert_eq!(
        bodies.len(),
        1,
        "one incident, one notification: {bodies:?}"
    );
    let v: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    let text = v["text"].as_str().unwrap();
    assert!(text.starts_with("[high] syn_flood: "), "{text}");
    assert!(text.contains("10.210.0.2"), "{text}");
}

/// A webhook that cannot be reached: the failure is logged (once, with the channel and the
/// reason) and counted in `/metrics`, and monitoring goes on.
#[test]
fn a_failed_webhook_is_logged_and_counted_in_metrics() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    // A port nobody listens on: bound, then closed.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let cfg = dir.path().join("notify.toml");
    std::fs::write(
        &cfg,
        format!(
            "[notify]\nmin_severity = \"low\"\nretries = 0\n\n[notify.webhook]\n\
             url = \"http://{closed}/hook\"\n"
        ),
    )
    .unwrap();
    let pcap = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scenarios/hping3_syn_flood.pcap");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args([
            "run",
            "--read",
            pcap.to_str().unwrap(),
            "--speed",
            "max",
            "--stay",
        ])
        .args(["--no-db", "--listen", "127.0.0.1:0", "--config"])
        .arg(&cfg)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let stderr = child.stderr.take().unwrap();
    let kept = Arc::clone(&lines);
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            kept.lock().unwrap().push(line);
        }
    });
    let url = || {
        lines.lock().unwrap().iter().find_map(|l| {
            l.strip_prefix("wirewatch: dashboard at http://")
                .map(|u| u.trim_end_matches('/').to_string())
        })
    };
    let scrape = |host: &str| -> String {
        let mut s = std::net::TcpStream::connect(host).unwrap();
        write!(
            s,
            "GET /metrics HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut body = String::new();
        s.read_to_string(&mut body).unwrap();
        body
    };
    let mut metrics = String::new();
    let found = wirewatch_testkit::poll_until(std::time::Duration::from_secs(30), || {
        let Some(host) = url() else { return false };
        metrics = scrape(&host);
        metrics
            .lines()
            .any(|l| l.starts_with("wirewatch_notifications_failed_total ") && !l.ends_with(" 0"))
    });
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    );
    let status = child.wait().unwrap();
    let log = lines.lock().unwrap().join("\n");
    assert!(
        found,
        "no failed notification in /metrics:\n{metrics}\n{log}"
    );
    assert!(status.success(), "{log}");
    assert!(
        log.contains("notification via webhook failed"),
        "the failure is not logged:\n{log}"
    );
    assert!(metrics.contains("wirewatch_notifications_sent_total{channel=\"webhook\"} 0"));
    assert!(
        metrics.contains("wirewatch_build_info{version="),
        "{metrics}"
    );
    assert!(
        metrics.contains("process_resident_memory_bytes "),
        "{metrics}"
    );
}
