//! Application transactions end to end: `analyze --db` of a capture with DNS, HTTP and TLS
//! stores every transaction `analyze --json` lists, and `wirewatch export --what transactions`
//! gives them back with the same values, filtered by kind, name and address.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

use serde_json::Value;
use std::net::IpAddr;
use std::path::Path;
use std::process::{Command, Output};
use wirewatch_capture::synth::{
    Body, DnsMessage, FrameSpec, IpPacket, Payload, PcapWriter, TcpSegment, Transport, UdpDatagram,
    tcp_flags,
};
use wirewatch_core::{LinkType, Timestamp};

const BIN: &str = env!("CARGO_BIN_EXE_wirewatch");
const CLIENT: &str = "10.20.0.5";
const RESOLVER: &str = "10.20.0.53";
/// A DNS name that is markup, and an HTTP host that is a spreadsheet formula.
const HOSTILE_NAME: &str = "<img src=x onerror=alert(1)>.evil.test";
const FORMULA_HOST: &str = "=HYPERLINK(\"http://evil.example/\")";

fn wirewatch(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A pcap of hand-built frames, 10 ms of packet time apart.
struct Capture {
    out: PcapWriter<std::fs::File>,
    ns: u64,
}

impl Capture {
    fn frame(&mut self, src: IpAddr, dst: IpAddr, transport: Transport<'_>) {
        let frame = FrameSpec::new(
            [2, 0, 0, 0, 0, 1],
            [2, 0, 0, 0, 0, 2],
            Body::Ip(IpPacket::new(src, dst, transport)),
        )
        .to_vec();
        self.out
            .write_frame(Timestamp(self.ns), &frame, frame.len() as u32)
            .unwrap();
        self.ns += 10_000_000;
    }

    fn dns(&mut self, id: u16, name: &str, qtype: u16, rcode: u8, answers: &[IpAddr]) {
        let msg = |response| DnsMessage {
            id,
            response,
            rcode,
            name,
            qtype,
            answers,
            ttl: 120,
            ..DnsMessage::default()
        };
        let (c, r) = (ip(CLIENT), ip(RESOLVER));
        let port = 30_000 + id;
        for (src, dst, sport, dport, response) in [(c, r, port, 53, false), (r, c, 53, port, true)]
        {
            self.frame(
                src,
                dst,
                Transport::Udp(UdpDatagram {
                    src_port: sport,
                    dst_port: dport,
                    payload: Payload::Dns(msg(response)),
                }),
            );
        }
    }

    /// A whole TCP connection: handshake, one request and its response, FIN both ways.
    fn tcp(&mut self, server: &str, port: u16, sport: u16, request: &[u8], response: &[u8]) {
        use tcp_flags::{ACK, FIN, PSH, SYN};
        let (c, s) = (ip(CLIENT), ip(server));
        let (ci, si) = (1_000u32, 50_000u32);
        let (rq, rs) = (request.len() as u32, response.len() as u32);
        let segments: [(bool, u8, u32, u32, &[u8]); 8] = [
            (true, SYN, ci, 0, &[]),
            (false, SYN | ACK, si, ci + 1, &[]),
            (true, ACK, ci + 1, si + 1, &[]),
            (true, PSH | ACK, ci + 1, si + 1, request),
            (false, PSH | ACK, si + 1, ci + 1 + rq, response),
            (true, FIN | ACK, ci + 1 + rq, si + 1 + rs, &[]),
            (false, FIN | ACK, si + 1 + rs, ci + 2 + rq, &[]),
            (true, ACK, ci + 2 + rq, si + 2 + rs, &[]),
        ];
        for (from_client, flags, seq, ack, payload) in segments {
            let (src, dst, src_port, dst_port) = if from_client {
                (c, s, sport, port)
            } else {
                (s, c, port, sport)
            };
            self.frame(
                src,
                dst,
                Transport::Tcp(TcpSegment {
                    src_port,
                    dst_port,
                    seq,
                    ack,
                    flags,
                    payload: Payload::Bytes(payload),
                    ..TcpSegment::default()
                }),
            );
        }
    }
}

/// A TLS extension: type, length, body.
fn ext(kind: u16, body: &[u8]) -> Vec<u8> {
    let mut e = kind.to_be_bytes().to_vec();
    e.extend_from_slice(&(body.len() as u16).to_be_bytes());
    e.extend_from_slice(body);
    e
}

/// A TLS handshake record holding one handshake message of type `hs`.
fn handshake(hs: u8, body: &[u8]) -> Vec<u8> {
    let mut msg = vec![hs];
    msg.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    msg.extend_from_slice(body);
    let mut r = vec![0x16, 0x03, 0x01];
    r.extend_from_slice(&(msg.len() as u16).to_be_bytes());
    r.extend_from_slice(&msg);
    r
}

/// A TLS 1.3 client hello naming `sni` and offering ALPN `h2`, and the server's hello
/// choosing TLS_AES_128_GCM_SHA256.
fn tls_hellos(sni: &str) -> (Vec<u8>, Vec<u8>) {
    let mut name = vec![0];
    name.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    name.extend_from_slice(sni.as_bytes());
    let mut names = (name.len() as u16).to_be_bytes().to_vec();
    names.extend_from_slice(&name);
    let exts = [
        ext(0, &names),
        ext(16, &[0, 3, 2, b'h', b'2']),
        ext(43, &[2, 0x03, 0x04]),
    ]
    .concat();
    let mut ch = vec![0x03, 0x03];
    ch.extend_from_slice(&[7; 32]);
    ch.extend_from_slice(&[0, 0, 4, 0x13, 0x01, 0x13, 0x02, 1, 0]);
    ch.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    ch.extend_from_slice(&exts);
    let exts = ext(43, &[0x03, 0x04]);
    let mut sh = vec![0x03, 0x03];
    sh.extend_from_slice(&[9; 32]);
    sh.extend_from_slice(&[0, 0x13, 0x01, 0]);
    sh.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    sh.extend_from_slice(&exts);
    (handshake(1, &ch), handshake(2, &sh))
}

fn http(method: &str, uri: &str, host: &str, status: &str) -> (Vec<u8>, Vec<u8>) {
    let request = format!(
        "{method} {uri} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n"
    );
    let response = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
    (request.into_bytes(), response.into_bytes())
}

/// Writes a capture with DNS (answered, NXDOMAIN, a hostile name), HTTP (200, 404 with a
/// formula for a host) and TLS (two handshakes) transactions.
fn write_capture(path: &Path) {
    let file = std::fs::File::create(path).unwrap();
    let mut c = Capture {
        out: PcapWriter::new(file, LinkType::ETHERNET, 65_535, true).unwrap(),
        ns: 1_700_000_000 * 1_000_000_000,
    };
    let (a, aaaa) = (wirewatch_capture::synth::DNS_TYPE_A, 28);
    c.dns(1, "www.example.com", a, 0, &[ip("93.184.216.34")]);
    c.dns(2, "nosuch.example.com", a, 3, &[]);
    c.dns(3, HOSTILE_NAME, aaaa, 0, &[ip("2001:db8::7")]);
    let (rq, rs) = http("GET", "/index.html", "www.example.com", "200 OK");
    c.tcp("93.184.216.34", 80, 41_000, &rq, &rs);
    let (rq, rs) = http("POST", "/login?next=/", FORMULA_HOST, "404 Not Found");
    c.tcp("192.0.2.80", 8080, 41_001, &rq, &rs);
    for (i, sni) in ["secure.example.org", "api.example.com"].iter().enumerate() {
        let (ch, sh) = tls_hellos(sni);
        c.tcp("192.0.2.44", 443, 42_000 + i as u16, &ch, &sh);
    }
    c.out.finish().unwrap();
}

fn export(db: &str, args: &[&str]) -> Vec<Value> {
    let mut all = vec![
        "export",
        "--db",
        db,
        "--what",
        "transactions",
        "--format",
        "json",
    ];
    all.extend_from_slice(args);
    let out = wirewatch(&all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn stored_transactions_export_as_analyze_printed_them() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("apps.pcap");
    write_capture(&pcap);
    let pcap = pcap.to_str().unwrap();
    let db = dir.path().join("h.db");
    let db = db.to_str().unwrap();
    let out = wirewatch(&["analyze", "--json", "--db", db, pcap]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let analyze: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(analyze["transactions_omitted"], 0);
    assert_eq!(analyze["store"]["batches_dropped"], 0);

    // Per kind: the same transactions, in the same (time) order, with the same values.
    let mut counts = Vec::new();
    for (kind, name_field) in [("dns", "query"), ("http", "host"), ("tls", "sni")] {
        let printed = analyze[kind].as_array().unwrap();
        let stored = export(db, &["--kind", kind]);
        counts.push(stored.len());
        assert_eq!(stored.len(), printed.len(), "{kind}");
        for (s, p) in stored.iter().zip(printed) {
            assert_eq!(s["kind"], kind);
            assert_eq!(s["ts"], p["ts"], "{kind}");
            assert_eq!(s["name"], p[name_field], "{kind}");
            for k in ["src_ip", "src_port", "dst_ip", "dst_port"] {
                assert_eq!(s[k], p[k], "{kind} {k}");
            }
            // `analyze --json` leaves out empty lists; a stored row has them empty.
            let same = |stored_field: &str, printed_field: &str| {
                let printed = match &p[printed_field] {
                    Value::Null if s[stored_field].is_array() => serde_json::json!([]),
                    v => v.clone(),
                };
                assert_eq!(
                    s[stored_field], printed,
                    "{kind}: {stored_field} vs {printed_field}"
                );
            };
            match kind {
                "dns" => {
                    same("dns_qtype", "qtype");
                    same("dns_rcode", "rcode");
                    same("dns_answers", "answers");
                    same("dns_latency_ms", "latency_ms");
                    same("dns_id", "id");
                }
                "http" => {
                    same("http_method", "method");
                    same("http_uri", "uri");
                    same("http_status", "status");
                    same("http_user_agent", "user_agent");
                }
                _ => {
                    same("tls_version", "version");
                    same("tls_alpn", "alpn");
                    same("tls_cipher", "cipher");
                    same("ja4_a", "ja4_a");
                    same("ja4", "ja4");
                    same("quic", "quic");
                }
            }
        }
    }
    // What the capture holds, not only what the two commands agree on.
    assert_eq!(counts, [3, 2, 2]);
    let dns = export(db, &["--kind", "dns"]);
    let rcodes: Vec<&str> = dns
        .iter()
        .map(|r| r["dns_rcode"].as_str().unwrap())
        .collect();
    assert_eq!(rcodes, ["NOERROR", "NXDOMAIN", "NOERROR"]);
    assert_eq!(dns[0]["dns_answers"][0]["data"], "93.184.216.34");
    // Stored as the decoder escaped it (spaces as `\032`, as in a zone file), markup kept.
    let hostile = dns[2]["name"].as_str().unwrap();
    assert!(
        hostile.starts_with("<img") && hostile.ends_with(">.evil.test"),
        "{hostile}"
    );
    assert_eq!(dns[2]["dns_qtype"], "AAAA");
    let http = export(db, &["--kind", "http"]);
    let statuses: Vec<u64> = http
        .iter()
        .map(|r| r["http_status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 404]);
    assert_eq!(http[1]["name"], FORMULA_HOST);
    let tls = export(db, &["--kind", "tls"]);
    assert_eq!(tls[0]["name"], "secure.example.org");
    assert_eq!(tls[0]["tls_version"], "TLSv1.3");
    assert_eq!(tls[0]["tls_alpn"], serde_json::json!(["h2"]));

    // Filters: a name across kinds, an address, free text.
    let names = |rows: &[Value]| -> Vec<(String, String)> {
        rows.iter()
            .map(|r| {
                (
                    r["kind"].as_str().unwrap().to_string(),
                    r["name"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(
        names(&export(db, &["--name", "www.example.com"])),
        [
            ("dns".to_string(), "www.example.com".to_string()),
            ("http".to_string(), "www.example.com".to_string())
        ]
    );
    assert_eq!(export(db, &["--ip", "192.0.2.0/24"]).len(), 3);
    assert_eq!(export(db, &["--text", "93.184.216.34"]).len(), 1);
    assert_eq!(export(db, &["--kind", "tls", "--port", "42001"]).len(), 1);

    // CSV: one table for every kind; the formula host is text.
    let out = wirewatch(&["export", "--db", db, "--what", "transactions"]);
    assert!(out.status.success());
    let csv = String::from_utf8(out.stdout).unwrap();
    assert_eq!(csv.lines().count(), 1 + 7);
    assert!(csv.contains("'=HYPERLINK("), "{csv}");

    let out = wirewatch(&[
        "export",
        "--db",
        db,
        "--what",
        "transactions",
        "--kind",
        "smtp",
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("transactions have no kind \"smtp\": use dns, http or tls"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
