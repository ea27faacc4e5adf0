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
