//! The syslog channel against local UDP and TCP listeners: the received lines are parsed as
//! RFC 5424 (PRI, version, header fields, structured data with its escaping, message) and,
//! on TCP, as octet-counted frames (RFC 6587).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{alert, wait_for};
use std::io::Read;
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::time::Duration;
use wirewatch_core::{Alert, Severity};
use wirewatch_notify::{Facility, Notifier, NotifyConfig, SyslogConfig, SyslogTransport};

/// A parsed RFC 5424 message.
#[derive(Debug)]
struct Parsed {
    pri: u16,
    version: String,
    timestamp: String,
    hostname: String,
    app_name: String,
    procid: String,
    msgid: String,
    sd_id: String,
    /// Param values with escapes undone.
    params: Vec<(String, String)>,
    msg: String,
}

fn parse(line: &str) -> Parsed {
    let rest = line.strip_prefix('<').expect("starts with <PRI>");
    let (pri, rest) = rest.split_once('>').unwrap();
    let mut fields = rest.splitn(7, ' ');
    let mut next = || fields.next().unwrap().to_string();
    let (version, timestamp, hostname, app_name, procid, msgid) =
        (next(), next(), next(), next(), next(), next());
    let rest = next();
    let rest = rest.strip_prefix('[').expect("structured data");
    let (sd_id, mut rest) = rest.split_once(' ').unwrap();
    let mut params = Vec::new();
    loop {
        rest = rest.trim_start_matches(' ');
        if let Some(after) = rest.strip_prefix(']') {
            rest = after;
            break;
        }
        let (name, after) = rest.split_once("=\"").unwrap();
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            let (i, c) = chars.next().expect("unterminated value");
            match c {
                '\\' => {
                    let (_, escaped) = chars.next().unwrap();
                    assert!(
                        matches!(escaped, '"' | '\\' | ']'),
                        "bad escape \\{escaped}"
                    );
                    value.push(escaped);
                }
                '"' => break i,
                ']' => panic!("unescaped ] inside a value in {line}"),
                c => value.push(c),
            }
        };
        params.push((name.to_string(), value));
        rest = &after[end + 1..];
    }
    let msg = rest.strip_prefix(' ').unwrap_or(rest).to_string();
    Parsed {
        pri: pri.parse().unwrap(),
        version,
        timestamp,
        hostname,
        app_name,
        procid,
        msgid,
        sd_id: sd_id.to_string(),
        params,
        msg,
    }
}

fn param<'a>(p: &'a Parsed, name: &str) -> &'a str {
    &p.params.iter().find(|(n, _)| n == name).unwrap().1
}

fn config(address: String, transport: SyslogTransport) -> NotifyConfig {
    NotifyConfig {
        retries: 2,
        retry_backoff_ms: 20,
        retry_backoff_max_ms: 50,
        syslog: Some(SyslogConfig {
            address,
            transport,
            facility: Facility::from_name("local3").unwrap(),
            app_name: "ww-test".into(),
            hostname: Some("sensor-1".into()),
            timeout_ms: 2_000,
        }),
        ..NotifyConfig::default()
    }
}

fn awkward_alert() -> Alert {
    let mut a = alert(
        17,
        Severity::High,
        "scan from \"outside\"\nsecond line\u{7}bell",
    );
    a.kind = "we\"ird]\\kind".into();
    a
}

#[test]
fn udp_messages_are_rfc5424() {
    let listener = UdpSocket::bind("127.0.0.1:0").unwrap();
    listener
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let notifier = Notifier::start(config(address, SyslogTransport::Udp)).unwrap();

    notifier.notify(&awkward_alert(), true);
    let mut buf = [0u8; 4096];
    let n = listener.recv(&mut buf).unwrap();
    let line = std::str::from_utf8(&buf[..n]).unwrap();
    let p = parse(line);
    assert_eq!(p.pri, 19 * 8 + 3, "local3, err: {line}");
    assert_eq!(p.version, "1");
    assert!(
        p.timestamp.len() == 24 && p.timestamp.ends_with('Z') && p.timestamp.contains('T'),
        "{}",
        p.timestamp
    );
    assert_eq!(p.hostname, "sensor-1");
    assert_eq!(p.app_name, "ww-test");
    assert_eq!(p.procid, std::process::id().to_string());
    assert_eq!(p.msgid, "we\"ird]\\kind");
    assert_eq!(p.sd_id, "wirewatch@32473");
    assert_eq!(param(&p, "kind"), "we\"ird]\\kind", "escapes undone");
    assert_eq!(param(&p, "severity"), "high");
    assert_eq!(param(&p, "id"), "17");
    assert_eq!(param(&p, "src"), "192.0.2.1, 192.0.2.2");
    assert_eq!(param(&p, "dst"), "10.0.0.5");
    assert_eq!(param(&p, "start"), "2017-01-17T17:10:25.976Z");
    assert_eq!(p.msg, "scan from \"outside\" second line bell");
    assert!(
        line.contains("kind=\"we\\\"ird\\]\\\\kind\""),
        "raw escaping: {line}"
    );
    wait_for("the count", || notifier.stats().sent.syslog == 1);

    // A critical alert maps to syslog severity 2.
    notifier.notify(&alert(18, Severity::Critical, "x"), true);
    let n = listener.recv(&mut buf).unwrap();
    assert_eq!(
        parse(std::str::from_utf8(&buf[..n]).unwrap()).pri,
        19 * 8 + 2
    );
}

/// Reads octet-counted frames from `stream` until `want` have arrived.
fn read_frames(stream: &mut TcpStream, want: usize) -> Vec<String> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut data = Vec::new();
    let mut frames = Vec::new();
    let mut buf = [0u8; 4096];
    while frames.len() < want {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "connection closed after {} frames", frames.len());
        data.extend_from_slice(&buf[..n]);
        // Take every complete frame: LEN SP MSG, LEN counting MSG's octets.
        while let Some(sp) = data.iter().position(|b| *b == b' ') {
            let len: usize = std::str::from_utf8(&data[..sp]).unwrap().parse().unwrap();
            assert!(data[0] != b'0', "no leading zero in the length");
            if data.len() < sp + 1 + len {
                break;
            }
            let frame = String::from_utf8(data[sp + 1..sp + 1 + len].to_vec()).unwrap();
            data.drain(..sp + 1 + len);
            frames.push(frame);
        }
    }
    assert!(data.is_empty(), "no bytes beyond the counted frames");
    frames
}

/// Whether the TCP connection from local port `local` to port `remote` on this host has seen
/// its peer close it: the kernel lists it in CLOSE_WAIT (state `08` in Linux's
/// `/proc/net/tcp` and `/proc/net/tcp6`, whose ports are in hex).
fn close_reached(local: u16, remote: u16) -> bool {
    let port = |addr: &str| {
        addr.rsplit_once(':')
            .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
    };
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|table| {
        std::fs::read_to_string(table)
            .unwrap_or_default()
            .lines()
            .skip(1)
            .any(|line| {
                let f: Vec<&str> = line.split_whitespace().collect();
                f.len() > 3
                    && port(f[1]) == Some(local)
                    && port(f[2]) == Some(remote)
                    && f[3] == "08"
            })
    })
}

#[test]
fn tcp_uses_octet_counting_and_reconnects() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let notifier = Notifier::start(config(address, SyslogTransport::Tcp)).unwrap();

    notifier.notify(&awkward_alert(), true);
    notifier.notify(&alert(2, Severity::Critical, "second, with é"), true);
    let (mut conn, _) = listener.accept().unwrap();
    let frames = read_frames(&mut conn, 2);
    let first = parse(&frames[0]);
    assert_eq!(first.pri, 19 * 8 + 3);
    assert_eq!(param(&first, "kind"), "we\"ird]\\kind");
    assert_eq!(first.msg, "scan from \"outside\" second line bell");
    let second = parse(&frames[1]);
    assert_eq!(second.pri, 19 * 8 + 2);
    assert_eq!(
        second.msg, "second, with é",
        "LEN counts octets, not characters"
    );
    wait_for("two sends", || notifier.stats().sent.syslog == 2);

    // The receiver closes the connection; the next message goes over a new one, once the
    // close has reached the notifier's end (which it checks before writing).
    let notifier_port = conn.peer_addr().unwrap().port();
    drop(conn);
    wait_for(
        "the close to reach the notifier's end of the connection",
        || close_reached(notifier_port, listener.local_addr().unwrap().port()),
    );
    notifier.notify(&alert(3, Severity::High, "after reconnect"), true);
    let (mut conn, _) = listener.accept().unwrap();
    let frames = read_frames(&mut conn, 1);
    assert_eq!(parse(&frames[0]).msg, "after reconnect");
    wait_for("three sends", || notifier.stats().sent.syslog == 3);
    assert_eq!(notifier.stats().failed, 0);
}
