//! Live capture on the loopback interface with real packets and the real libpcap.
//!
//! Capturing needs root (or `CAP_NET_RAW`): without it each capturing test prints a note and
//! passes. All traffic is UDP from and to 127.0.0.1 on ports the tests bind themselves; the
//! filters keep tests running in parallel out of each other's way. Every wait has a deadline.

// Test code: helpers outside `#[test]` functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::UdpSocket;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use wirewatch_capture::CaptureError;
use wirewatch_capture::live::{
    LiveCapture, LiveConfig, check_filter, default_interface, list_interfaces,
};
use wirewatch_core::{Frame, LinkType};

/// UDP payload size of every test datagram.
const PAYLOAD: usize = 100;
/// Its frame on `lo`: Ethernet (14) + IPv4 (20) + UDP (8) + payload.
const WIRE_LEN: u32 = 14 + 20 + 8 + PAYLOAD as u32;
/// The longest any test waits for packets that should arrive.
const DEADLINE: Duration = Duration::from_secs(5);
/// Datagrams sent before reading them back. In immediate mode libpcap gives `lo` ring slots of
/// 64 KiB, 256 in the default 16 MiB buffer, and each datagram takes two (the kernel shows it
/// outgoing and incoming), so bursts beyond 128 would overflow a reader that waits.
const BATCH: usize = 25;
/// Environment variable that turns this test binary into the unprivileged child of
/// `permission_denied_without_privileges`.
const CHILD_ROLE: &str = "WIREWATCH_LIVE_TEST_UNPRIVILEGED_CHILD";

/// Whether this process runs as root (effective uid 0), which live capture needs.
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

macro_rules! require_root {
    () => {
        if !is_root() {
            wirewatch_testkit::skip(format_args!("live capture needs root or CAP_NET_RAW"));
            return;
        }
    };
}

/// A UDP socket bound to a free loopback port, so that datagrams to it are accepted (no ICMP).
fn receiver() -> (UdpSocket, u16) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    (sock, port)
}

fn send(from: &UdpSocket, port: u16, count: usize) {
    let payload = [0x5au8; PAYLOAD];
    for _ in 0..count {
        from.send_to(&payload, ("127.0.0.1", port)).unwrap();
    }
}

fn lo(filter: Option<String>) -> LiveConfig {
    LiveConfig {
        interface: "lo".into(),
        filter,
        ..LiveConfig::default()
    }
}

/// The UDP destination port of an Ethernet/IPv4/UDP frame.
fn udp_dst_port(frame: &Frame<'_>) -> Option<u16> {
    let d = frame.data;
    if d.get(12..14)? != [0x08, 0x00] || *d.get(23)? != 17 {
        return None;
    }
    let at = 14 + usize::from(d.get(14)? & 0x0f) * 4 + 2;
    Some(u16::from_be_bytes([*d.get(at)?, *d.get(at + 1)?]))
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// What a test read: frames per destination port, with every frame checked on the way.
#[derive(Default)]
struct Seen {
    per_port: HashMap<u16, usize>,
    frames: usize,
    last_ts: u64,
    sub_microsecond: bool,
}

impl Seen {
    fn count(&self, port: u16) -> usize {
        self.per_port.get(&port).copied().unwrap_or(0)
    }

    fn record(&mut self, frame: &Frame<'_>, watched: &[u16]) {
        let Some(port) = udp_dst_port(frame).filter(|p| watched.contains(p)) else {
            return; // other loopback traffic (only when a test captures everything)
        };
        assert_eq!(frame.linktype, LinkType::ETHERNET);
        assert_eq!(frame.wire_len, WIRE_LEN);
        assert_eq!(frame.data.len(), WIRE_LEN as usize);
        assert_eq!(frame.interface, 0);
        assert!(
            frame.data[frame.data.len() - PAYLOAD..]
                .iter()
                .all(|&b| b == 0x5a)
        );
        let ts = frame.ts.nanos();
        assert!(
            ts.abs_diff(now_nanos()) < 60_000_000_000,
            "timestamp {ts} is not now"
        );
        assert!(ts >= self.last_ts, "timestamps go backwards");
        self.last_ts = ts;
        self.sub_microsecond |= !ts.is_multiple_of(1000);
        *self.per_port.entry(port).or_default() += 1;
        self.frames += 1;
    }

    /// Reads until `want` frames to `port` have been seen or the deadline passes.
    fn read_until(&mut self, cap: &mut LiveCapture, watched: &[u16], port: u16, want: usize) {
        let deadline = Instant::now() + DEADLINE;
        while self.count(port) < want && Instant::now() < deadline {
            if let Some(frame) = cap.next_frame().unwrap() {
                self.record(&frame, watched);
            }
        }
    }

    /// Reads whatever is still buffered: until the first read timeout (bounded by the deadline).
    fn drain(&mut self, cap: &mut LiveCapture, watched: &[u16]) {
        let deadline = Instant::now() + DEADLINE;
        while Instant::now() < deadline {
            match cap.next_frame().unwrap() {
                Some(frame) => self.record(&frame, watched),
                None => break,
            }
        }
    }
}

#[test]
fn captures_exactly_the_datagrams_the_filter_selects() {
    require_root!();
    const N: usize = 200;
    let (_rx_p, p) = receiver();
    let (_rx_q, q) = receiver();
    let (tx, _) = receiver();
    let mut cap = LiveCapture::open(&lo(Some(format!("udp and port {p}")))).unwrap();
    assert_eq!(cap.interface(), "lo");
    assert_eq!(cap.linktype(), LinkType::ETHERNET);
    assert_eq!(cap.filter(), Some(format!("udp and port {p}").as_str()));
    assert!(
        cap.nanosecond_timestamps(),
        "Linux delivers nanosecond timestamps"
    );

    let mut seen = Seen::default();
    for batch in 1..=N / BATCH {
        send(&tx, p, BATCH);
        send(&tx, q, 5); // excluded by the filter
        seen.read_until(&mut cap, &[p, q], p, batch * BATCH);
    }
    seen.drain(&mut cap, &[p, q]);
    assert_eq!(seen.count(p), N);
    assert_eq!(seen.count(q), 0, "the filter let other ports through");
    // 200 timestamps that are all whole microseconds would be a one in 10^600 coincidence.
    assert!(
        seen.sub_microsecond,
        "timestamps have only microsecond precision"
    );

    let stats = cap.stats().unwrap();
    assert!(stats.received >= N as u64, "{stats:?}");
    // Counters are cumulative: a second read never goes down.
    let again = cap.stats().unwrap();
    assert!(again.received >= stats.received && again.dropped_kernel >= stats.dropped_kernel);
}

#[test]
fn set_filter_switches_ports_and_a_bad_filter_keeps_the_old_one() {
    require_root!();
    let (_rx_a, a) = receiver();
    let (_rx_b, b) = receiver();
    let (tx, _) = receiver();
    let watched = [a, b];
    let mut cap = LiveCapture::open(&lo(Some(format!("udp and port {a}")))).unwrap();

    let mut before = Seen::default();
    send(&tx, a, 10);
    send(&tx, b, 10);
    before.read_until(&mut cap, &watched, a, 10);
    before.drain(&mut cap, &watched);
    assert_eq!((before.count(a), before.count(b)), (10, 0));

    cap.set_filter(Some(&format!("udp and port {b}"))).unwrap();
    assert_eq!(cap.filter(), Some(format!("udp and port {b}").as_str()));
    let mut after = Seen::default();
    send(&tx, a, 10);
    send(&tx, b, 10);
    after.read_until(&mut cap, &watched, b, 10);
    after.drain(&mut cap, &watched);
    assert_eq!((after.count(a), after.count(b)), (0, 10));

    let err = cap.set_filter(Some("udp port banana")).unwrap_err();
    match &err {
        CaptureError::BadFilter { filter, message } => {
            assert_eq!(filter, "udp port banana");
            assert_eq!(message, "unknown port 'banana'");
        }
        other => panic!("expected BadFilter, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "invalid capture filter `udp port banana`: unknown port 'banana'"
    );
    assert_eq!(cap.filter(), Some(format!("udp and port {b}").as_str()));
    let mut kept = Seen::default();
    send(&tx, a, 10);
    send(&tx, b, 10);
    kept.read_until(&mut cap, &watched, b, 10);
    kept.drain(&mut cap, &watched);
    assert_eq!((kept.count(a), kept.count(b)), (0, 10));

    // No filter: everything on lo, both ports included.
    cap.set_filter(None).unwrap();
    assert_eq!(cap.filter(), None);
    let mut all = Seen::default();
    send(&tx, a, 10);
    send(&tx, b, 10);
    all.read_until(&mut cap, &watched, b, 10);
    all.read_until(&mut cap, &watched, a, 10);
    all.drain(&mut cap, &watched);
    assert_eq!((all.count(a), all.count(b)), (10, 10));
}

#[test]
fn a_capture_can_be_read_on_another_thread() {
    require_root!();
    let (_rx, port) = receiver();
    let (tx, _) = receiver();
    let mut cap = LiveCapture::open(&lo(Some(format!("udp and dst port {port}")))).unwrap();
    // The capture is open: whatever is sent from now on is buffered until the thread reads it.
    let reader = std::thread::spawn(move || {
        let mut seen = Seen::default();
        seen.read_until(&mut cap, &[port], port, 50);
        seen.drain(&mut cap, &[port]);
        seen.count(port)
    });
    send(&tx, port, 50);
    assert_eq!(reader.join().unwrap(), 50);
}

#[test]
fn a_quiet_capture_returns_none_after_the_read_timeout() {
    require_root!();
    let (_rx, port) = receiver();
    let mut cap = LiveCapture::open(&LiveConfig {
        read_timeout_ms: 50,
        ..lo(Some(format!("udp and port {port}")))
    })
    .unwrap();
    for attempt in 0..3 {
        let start = Instant::now();
        assert!(cap.next_frame().unwrap().is_none());
        let waited = start.elapsed();
        // One to two read timeouts; generous upper bound for a loaded machine.
        assert!(
            waited < Duration::from_secs(2),
            "read {attempt} took {waited:?}"
        );
    }
    // Buffered mode (TPACKET_V3 on Linux) must time out as well.
    let mut buffered = LiveCapture::open(&LiveConfig {
        immediate: false,
        read_timeout_ms: 50,
        ..lo(Some(format!("udp and port {port}")))
    })
    .unwrap();
    let start = Instant::now();
    assert!(buffered.next_frame().unwrap().is_none());
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn buffered_mode_delivers_every_datagram() {
    require_root!();
    let (_rx, port) = receiver();
    let (tx, _) = receiver();
    let mut cap = LiveCapture::open(&LiveConfig {
        immediate: false,
        ..lo(Some(format!("udp and port {port}")))
    })
    .unwrap();
    // Without immediate mode the ring packs frames tightly: a burst of 500 fits at once.
    send(&tx, port, 500);
    let mut seen = Seen::default();
    seen.read_until(&mut cap, &[port], port, 500);
    seen.drain(&mut cap, &[port]);
    assert_eq!(seen.count(port), 500);
}

#[test]
fn a_missing_interface_is_named_with_a_hint() {
    require_root!();
    let err = LiveCapture::open(&LiveConfig {
        interface: "wwnosuch0".into(),
        ..LiveConfig::default()
    })
    .unwrap_err();
    match &err {
        CaptureError::NoSuchInterface { interface, message } => {
            assert_eq!(interface, "wwnosuch0");
            assert_eq!(message, "No such device exists");
        }
        other => panic!("expected NoSuchInterface, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "cannot capture on wwnosuch0: no such interface (No such device exists); list the \
         interfaces with `wirewatch interfaces`"
    );
}

#[test]
fn a_bad_initial_filter_fails_the_open() {
    require_root!();
    let err = LiveCapture::open(&lo(Some("udp port banana".into()))).unwrap_err();
    assert!(
        matches!(&err, CaptureError::BadFilter { message, .. } if message == "unknown port 'banana'"),
        "{err:?}"
    );
    // An empty filter captures everything.
    let cap = LiveCapture::open(&lo(Some("  ".into()))).unwrap();
    assert_eq!(cap.filter(), None);
}

#[test]
fn an_empty_interface_means_the_default_one() {
    require_root!();
    let list = list_interfaces().unwrap();
    let result = LiveCapture::open(&LiveConfig {
        filter: Some("udp and port 9".into()),
        ..LiveConfig::default()
    });
    match default_interface(&list) {
        Some(default) => assert_eq!(result.unwrap().interface(), default.name),
        None => assert!(matches!(result, Err(CaptureError::NoDefaultInterface))),
    }
}

#[test]
fn check_filter_compiles_without_capturing() {
    check_filter("tcp port 80", LinkType::ETHERNET, 262_144).unwrap();
    check_filter("", LinkType::ETHERNET, 262_144).unwrap();
    check_filter("ip and udp", LinkType::RAW, 65_535).unwrap();
    let err = check_filter("udp port banana", LinkType::ETHERNET, 262_144).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid capture filter `udp port banana`: unknown port 'banana'"
    );
    let err = check_filter("this is not bpf", LinkType::ETHERNET, 262_144).unwrap_err();
    assert!(
        matches!(&err, CaptureError::BadFilter { message, .. }
            if message == "can't parse filter expression: syntax error"),
        "{err:?}"
    );
    // Link-type specific: Ethernet addresses make no sense on raw IP.
    assert!(check_filter("ether host 00:11:22:33:44:55", LinkType::RAW, 65_535).is_err());
    assert!(check_filter("nul\0byte", LinkType::ETHERNET, 65_535).is_err());
}

/// Runs this test binary again as user `nobody` (via `setpriv`), where it tries to open `lo`
/// and prints what it got; the parent checks the error and its hint.
#[test]
fn permission_denied_without_privileges() {
    if std::env::var_os(CHILD_ROLE).is_some() {
        match LiveCapture::open(&lo(None)) {
            Ok(_) => println!("CHILD-RESULT opened"),
            Err(e) => println!("CHILD-RESULT {e:?}\nCHILD-DISPLAY {e}"),
        }
        return;
    }
    require_root!();
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&exe)
        .args([
            "permission_denied_without_privileges",
            "--exact",
            "--nocapture",
        ])
        .env(CHILD_ROLE, "1")
        .output();
    let out = match out {
        Ok(out) if out.status.success() => out,
        other => {
            wirewatch_testkit::skip(format_args!(
                "cannot run the test binary as nobody: {other:?}"
            ));
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let result = stdout
        .lines()
        .find_map(|l| l.strip_prefix("CHILD-RESULT "))
        .unwrap_or_else(|| panic!("no result from the child: {stdout}"));
    assert!(
        result.starts_with("PermissionDenied")
            && result.contains("\"socket: Operation not permitted\""),
        "{result}"
    );
    let display = stdout
        .lines()
        .find_map(|l| l.strip_prefix("CHILD-DISPLAY "))
        .unwrap();
    assert_eq!(
        display,
        format!(
            "cannot capture on lo: permission denied (socket: Operation not permitted). Run as \
             root, or let the binary capture: sudo setcap cap_net_raw,cap_net_admin=eip {}",
            exe.display()
        )
    );
}
