//! `wirewatch run` with its dashboard, end to end over real sockets: what it refuses to do on a
//! public address without a token, the token it then requires, a busy address, and the API
//! answering with the replay's numbers (the TCP panel's slowest and lossiest connections
//! included) and its stored transactions.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

mod support;

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;
use support::dashboard::{start, stop};
use support::tcp_capture;
use wirewatch_testkit::poll_until;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scenarios")
        .join(name)
}

/// `wirewatch analyze --json` of `file`: the reference the served numbers must equal.
fn analyze_json(file: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args(["analyze", "--json", file])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `wirewatch run` replaying `file` at full speed and staying up, its dashboard on a free
/// loopback port, storing into `db` (none: no database).
fn replay(file: &str, db: Option<&str>) -> (std::process::Child, String) {
    let mut args = vec!["run", "--read", file, "--speed", "max", "--stay"];
    match db {
        Some(db) => args.extend(["--db", db]),
        None => args.push("--no-db"),
    }
    args.extend(["--listen", "127.0.0.1:0"]);
    start(&args)
}

/// A plain HTTP/1.1 GET: (status, body).
fn get(url: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let host = url.trim_start_matches("http://");
    let mut s = TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw[9..12].parse().unwrap();
    let body = raw.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    // Small JSON answers may be chunked: take the JSON between the first `{` and last `}`.
    let body = match (body.find(['{', '[']), body.rfind(['}', ']'])) {
        (Some(a), Some(b)) => body[a..=b].to_string(),
        _ => body.to_string(),
    };
    (status, body)
}

/// A GET that returns the body unaltered (de-chunked when the server chunked it).
fn get_raw(url: &str, path: &str) -> (u16, String) {
    let host = url.trim_start_matches("http://");
    let mut s = TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw[9..12].parse().unwrap();
    let (head, mut body) = raw.split_once("\r\n\r\n").unwrap();
    if !head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return (status, body.to_string());
    }
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap();
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        body = &rest[n + 2..];
    }
    (status, out)
}

#[test]
fn a_public_address_without_a_token_is_refused_with_the_reason() {
    let o = Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args([
            "run",
            "--demo",
            "--no-db",
            "--listen",
            "0.0.0.0:0",
            "--duration",
            "5s",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cannot start the dashboard"), "{err}");
    assert!(err.contains("token"), "{err}");
}

#[test]
fn a_busy_address_is_an_error_when_asked_for() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let o = Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args([
            "run",
            "--demo",
            "--no-db",
            "--listen",
            &addr,
            "--duration",
            "5s",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("address in use"), "{err}");
}

#[test]
fn with_a_token_every_api_call_needs_it() {
    let dir = std::env::temp_dir().join(format!("ww-web-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let printed = Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .arg("token")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(printed.stdout).unwrap().trim().len(), 64);
    // A token file that does not exist yet gets a new token, readable by its owner only.
    let token_file = dir.join("token");
    let (child, url) = start(&[
        "run",
        "--demo",
        "--no-db",
        "--listen",
        "0.0.0.0:0",
        "--token-file",
        token_file.to_str().unwrap(),
    ]);
    let token = std::fs::read_to_string(&token_file)
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(token.len(), 64);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let port = url.rsplit(':').next().unwrap();
    let local = format!("http://127.0.0.1:{port}");
    assert_eq!(get(&local, "/api/status", &[]).0, 401);
    let bearer = format!("Bearer {token}");
    let (code, body) = get(&local, "/api/status", &[("Authorization", &bearer)]);
    assert_eq!(code, 200, "{body}");
    let status: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status["auth_required"], true);
    assert_eq!(status["capture"]["source"], "demo traffic");
    // The WebSocket too: a handshake without the token is refused.
    let ws = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", "13"),
    ];
    assert_eq!(get(&local, "/ws", &ws).0, 401);
    // The page itself loads (it asks for the token).
    assert_eq!(get(&local, "/", &[]).0, 200);
    stop(child);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_api_reports_the_replay_like_analyze_does() {
    let file = fixture("nmap_syn_scan.pcap");
    let file = file.to_str().unwrap();
    let reference = analyze_json(file);
    let (child, url, snapshot) = replay_until_ended(file, &reference["packets"]);
    assert_eq!(snapshot["stats"]["packets_total"], reference["packets"]);
    assert_eq!(snapshot["stats"]["bytes_total"], reference["bytes"]);
    assert_eq!(snapshot["status"]["running"], false, "the replay has ended");
    let scan = snapshot["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "port_scan");
    assert!(scan.is_some(), "{}", snapshot["alerts"]);
    // The Prometheus endpoint says the same, in a format a real parser reads.
    let (code, text) = get_raw(&url, "/metrics");
    assert_eq!(code, 200);
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).unwrap();
    let value = |name: &str, label: Option<(&str, &str)>| -> f64 {
        scrape
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .filter(|s| label.is_none_or(|(k, v)| s.labels.get(k) == Some(v)))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => 0.0,
            })
            .sum()
    };
    assert_eq!(
        value("wirewatch_packets_total", None) as u64,
        reference["packets"].as_u64().unwrap()
    );
    assert_eq!(
        value("wirewatch_packets_total", Some(("proto", "tcp"))) as u64,
        reference["protocols"]["tcp"].as_u64().unwrap()
    );
    assert_eq!(
        value("wirewatch_bytes_total", None) as u64,
        reference["bytes"].as_u64().unwrap()
    );
    assert_eq!(
        value("wirewatch_flows_created_total", None) as u64,
        reference["flow_table"]["created"].as_u64().unwrap()
    );
    assert_eq!(
        value("wirewatch_alerts_total", Some(("kind", "port_scan"))) as u64,
        1
    );
    assert_eq!(value("wirewatch_dropped_packets_total", None), 0.0);
    // TCP health: the handshakes timed in the closed intervals (the last interval closes
    // only at exit), never more than the analysis of the same file timed.
    let timed = reference["flows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["tcp_rtt_ms"].is_number())
        .count() as f64;
    let served = value("wirewatch_tcp_handshakes_timed_total", None);
    assert!(timed > 0.0 && served <= timed, "{served} of {timed}");
    assert!(text.contains("# TYPE wirewatch_tcp_retransmissions_total counter"));
    // One severity policy: the open incidents Prometheus gauges, by current severity, are the
    // dashboard's, and its threat level is the worst of them.
    let open: Vec<&serde_json::Value> = snapshot["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["status"] != "ended")
        .collect();
    assert_eq!(value("wirewatch_alerts_open", None) as usize, open.len());
    let order = ["low", "medium", "high", "critical"];
    let worst = open
        .iter()
        .filter_map(|a| order.iter().position(|o| a["severity"] == *o))
        .max()
        .map(|i| order[i])
        .unwrap();
    assert_eq!(
        snapshot["stats"]["threat"]["level"], worst,
        "{}",
        snapshot["stats"]["threat"]
    );
    assert_eq!(
        value("wirewatch_alerts_open", Some(("severity", worst))) as usize,
        open.iter().filter(|a| a["severity"] == worst).count()
    );
    let (code, body) = get(&url, "/api/history/flows", &[]);
    assert_eq!(code, 503, "no database: {body}");
    assert!(body.contains("error"));
    let (code, body) = get(&url, "/api/history/flows?colour=red", &[]);
    assert!(code == 400 || code == 503, "{code} {body}");
    stop(child);
}

#[test]
fn stored_transactions_are_searched_by_name_like_analyze_lists_them() {
    let file = fixture("clean_background.pcap");
    let file = file.to_str().unwrap();
    let reference = analyze_json(file);
    // What the name filter must find: the DNS transactions about host1 (real dig queries).
    let expected: Vec<&Value> = reference["dns"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["query"].as_str().unwrap().contains("host1."))
        .collect();
    assert!(!expected.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let (child, url) = replay(file, Some(db.to_str().unwrap()));
    let path = "/api/history/transactions?name=HOST1.&limit=1000";
    let mut page = Value::Null;
    poll_until(Duration::from_secs(20), || {
        let (code, body) = get(&url, path, &[]);
        assert_eq!(code, 200, "{body}");
        page = serde_json::from_str(&body).unwrap();
        page["total"] == expected.len()
    });
    let rows = page["rows"].as_array().unwrap();
    assert_eq!(rows.len(), expected.len(), "{page}");
    for (row, want) in rows.iter().zip(&expected) {
        assert_eq!(row["kind"], "dns");
        assert_eq!(row["name"], want["query"]);
        assert_eq!(row["ts"], want["ts"]);
        assert_eq!(row["dns_rcode"], want["rcode"]);
        assert_eq!(row["dns_qtype"], want["qtype"]);
        assert_eq!(row["dns_answers"], want["answers"]);
    }
    // The HTTP ones by kind (written as the replay goes: wait for the last), and a bad kind
    // is explained.
    let mut http = Value::Null;
    poll_until(Duration::from_secs(20), || {
        let (code, body) = get(&url, "/api/history/transactions?kind=http", &[]);
        assert_eq!(code, 200, "{body}");
        http = serde_json::from_str(&body).unwrap();
        http["total"] == reference["http"].as_array().unwrap().len()
    });
    assert_eq!(http["total"], reference["http"].as_array().unwrap().len());
    assert_eq!(
        http["rows"][0]["http_status"],
        reference["http"][0]["status"]
    );
    let (code, body) = get(&url, "/api/history/transactions?kind=smtp", &[]);
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("use dns, http or tls"), "{body}");
    stop(child);
}

/// Replays `file` with no database until the snapshot counts all `packets` of the file and
/// says the replay has ended (the last packets and the ended status come in separate
/// snapshots): the child, its URL and that snapshot.
fn replay_until_ended(file: &str, packets: &Value) -> (std::process::Child, String, Value) {
    let (child, url) = replay(file, None);
    let mut snapshot = Value::Null;
    poll_until(Duration::from_secs(20), || {
        let (code, body) = get(&url, "/api/snapshot", &[]);
        assert_eq!(code, 200);
        snapshot = serde_json::from_str(&body).unwrap();
        snapshot["stats"]["packets_total"] == *packets && snapshot["status"]["running"] == false
    });
    (child, url, snapshot)
}

#[test]
fn the_snapshot_names_the_slowest_and_the_lossiest_tcp_connections() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tcp_panel.pcap");
    let frames = tcp_capture::write(&path, &tcp_capture::CONNS);
    let file = path.to_str().unwrap();
    let reference = analyze_json(file);
    let flow = |server: &str| -> Value {
        reference["flows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["dst_ip"] == server)
            .unwrap()
            .clone()
    };
    // The analysis of the file sees what was built into it.
    assert_eq!(flow("192.0.2.30")["tcp_rtt_ms"], 310.0);
    assert_eq!(flow("192.0.2.40")["tcp_retransmissions"], 2);
    let (child, _, snapshot) = replay_until_ended(file, &frames.into());
    stop(child);
    let tcp = &snapshot["tcp"];
    let slowest = &tcp["slowest"][0];
    assert_eq!(
        (&slowest["src_ip"], &slowest["dst_ip"], &slowest["dst_port"]),
        (
            &flow("192.0.2.30")["src_ip"],
            &"192.0.2.30".into(),
            &443.into()
        ),
        "{tcp}"
    );
    assert_eq!(slowest["rtt_ms"], flow("192.0.2.30")["tcp_rtt_ms"]);
    let rtts: Vec<f64> = tcp["slowest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rtt_ms"].as_f64().unwrap())
        .collect();
    assert_eq!(rtts, [310.0, 48.0, 25.0, 12.0]);
    let lossiest = tcp["lossiest"].as_array().unwrap();
    assert_eq!(lossiest.len(), 1, "{tcp}");
    assert_eq!(lossiest[0]["dst_ip"], "192.0.2.40");
    assert_eq!(
        lossiest[0]["retransmissions"],
        flow("192.0.2.40")["tcp_retransmissions"]
    );
    // Both ends of the lossy connection lead the hosts, the client first (equal counts).
    let hosts: Vec<(&Value, &Value)> = tcp["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (&h["ip"], &h["retransmissions"]))
        .collect();
    assert_eq!(hosts.len(), 8);
    assert_eq!(
        hosts[..2],
        [
            (&"10.88.0.4".into(), &2.into()),
            (&"192.0.2.40".into(), &2.into())
        ]
    );
    assert_eq!(tcp["window_s"], 300.0);
    // The chart points carry the intervals' TCP health (the last interval closes at exit).
    let recent = snapshot["recent"].as_array().unwrap();
    let timed: u64 = recent
        .iter()
        .map(|p| p["tcp_handshakes_timed"].as_u64().unwrap())
        .sum();
    assert!((1..=4).contains(&timed), "{timed}");
    assert!(recent.iter().any(|p| p["tcp_rtt_p95_ms"].is_number()));
}
