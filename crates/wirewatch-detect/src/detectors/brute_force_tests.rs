//! Tests of `brute_force`.

use super::*;
use crate::testutil::{at, interval, ip};
use wirewatch_core::Severity;

/// A TCP flow as `testutil::tcp_flow` makes it, in which both sides sent data when the
/// client sent at least 3 packets (SYN, ACK, data) and the server 2 (SYN-ACK, data).
fn tcp_flow(
    src: &str,
    dst: &str,
    dport: u16,
    state: TcpState,
    packets: (u64, u64),
    end: Timestamp,
    secs: f64,
) -> FlowRecord {
    let mut f = crate::testutil::tcp_flow(src, dst, dport, state, packets, end, secs);
    if packets.0 >= 3 && packets.1 >= 2 {
        f.fwd.payload_bytes = 40 * (packets.0 - 2);
        f.rev.payload_bytes = 60 * (packets.1 - 1);
    }
    f
}

fn close(d: &mut BruteForce, i: u64) -> Vec<AlertDraft> {
    let mut out = Vec::new();
    d.on_interval(&interval(i, 0, 0), &mut out);
    out
}

#[test]
fn ssh_guessing_fires() {
    let mut d = BruteForce::new(&Config::default()).unwrap();
    for i in 0..12 {
        // hydra: full SSH connections of ~25 packets, closed after 3 s.
        let f = tcp_flow(
            "203.0.113.5",
            "10.1.0.22",
            22,
            TcpState::Closed,
            (14, 12),
            at(f64::from(i) * 2.0),
            3.0,
        );
        d.on_flow(&f);
    }
    let out = close(&mut d, 24);
    assert_eq!(out.len(), 1);
    let a = &out[0];
    assert_eq!(a.kind, "brute_force");
    assert_eq!(a.sources, vec![ip("203.0.113.5")]);
    assert_eq!(a.targets, vec![ip("10.1.0.22")]);
    assert_eq!(a.ports, vec![22]);
    assert_eq!(a.incident_key, "brute_force|203.0.113.5|10.1.0.22:22");
    assert_eq!(a.severity, Severity::Medium);
    assert_eq!(
        a.message,
        "203.0.113.5 made 12 login attempts (12 connections, short, exchanging data) with 10.1.0.22:22 (ssh) in the last 60 s (0 reset)"
    );
    // No new attempts: no new draft.
    assert!(close(&mut d, 25).is_empty());
}

#[test]
fn many_rdp_attempts_are_more_severe() {
    let mut d = BruteForce::new(&Config::default()).unwrap();
    for i in 0..25 {
        let f = tcp_flow(
            "203.0.113.5",
            "10.1.0.23",
            3389,
            TcpState::Reset,
            (3, 2),
            at(f64::from(i)),
            0.2,
        );
        d.on_flow(&f);
    }
    let out = close(&mut d, 30);
    assert_eq!(out[0].severity, Severity::Medium, "2.5× the threshold");
    assert!(
        out[0].message.contains("(rdp)") && out[0].message.contains("(25 reset)"),
        "{}",
        out[0].message
    );
    // 4× the threshold: high.
    for i in 0..20 {
        let f = tcp_flow(
            "203.0.113.5",
            "10.1.0.23",
            3389,
            TcpState::Reset,
            (3, 2),
            at(31.0 + f64::from(i) * 0.1),
            0.2,
        );
        d.on_flow(&f);
    }
    let out = close(&mut d, 34);
    assert_eq!(out[0].severity, Severity::High, "{}", out[0].message);
}

#[test]
fn silent_below_threshold_for_long_sessions_and_outside_the_window() {
    let mut d = BruteForce::new(&Config::default()).unwrap();
    for i in 0..9 {
        d.on_flow(&tcp_flow(
            "203.0.113.5",
            "10.1.0.22",
            22,
            TcpState::Reset,
            (2, 1),
            at(f64::from(i)),
            0.1,
        ));
    }
    assert!(close(&mut d, 10).is_empty(), "9 < 10");
    // 20 long interactive sessions.
    for i in 0..20 {
        d.on_flow(&tcp_flow(
            "10.0.1.7",
            "10.1.0.22",
            22,
            TcpState::Closed,
            (900, 800),
            at(f64::from(i)),
            600.0,
        ));
    }
    assert!(close(&mut d, 20).is_empty());
    // 12 attempts spread over 10 minutes.
    let mut d = BruteForce::new(&Config::default()).unwrap();
    let mut n = 0;
    for i in 0..12u32 {
        d.on_flow(&tcp_flow(
            "203.0.113.5",
            "10.1.0.22",
            22,
            TcpState::Reset,
            (2, 1),
            at(f64::from(i) * 50.0),
            0.1,
        ));
        n += close(&mut d, u64::from(i) * 50).len();
    }
    assert_eq!(n, 0);
    // Unanswered SYNs (a filtered port, spoofed sources) are not login attempts.
    for i in 0..50 {
        d.on_flow(&tcp_flow(
            "203.0.113.5",
            "10.1.0.22",
            22,
            TcpState::Handshake,
            (1, 0),
            at(600.0 + f64::from(i) * 0.1),
            0.0,
        ));
    }
    assert!(close(&mut d, 606).is_empty());
    // Not an auth port, not a web port.
    for i in 0..50 {
        d.on_flow(&tcp_flow(
            "203.0.113.5",
            "10.1.0.22",
            5201,
            TcpState::Reset,
            (2, 1),
            at(600.0 + f64::from(i) * 0.1),
            0.1,
        ));
    }
    assert!(close(&mut d, 606).is_empty());
}

#[test]
fn web_logins_need_many_short_small_connections() {
    let mut d = BruteForce::new(&Config::default()).unwrap();
    for i in 0..80 {
        d.on_flow(&tcp_flow(
            "203.0.113.5",
            "10.1.0.80",
            443,
            TcpState::Closed,
            (8, 7),
            at(f64::from(i) * 0.5),
            0.3,
        ));
    }
    assert!(close(&mut d, 40).is_empty(), "80 < 100");
    for i in 80..150 {
        d.on_flow(&tcp_flow(
            "203.0.113.5",
            "10.1.0.80",
            443,
            TcpState::Closed,
            (8, 7),
            at(f64::from(i) * 0.3),
            0.3,
        ));
    }
    let out = close(&mut d, 45);
    assert_eq!(out.len(), 1);
    assert!(out[0].message.contains("10.1.0.80:443 (https)"));
    assert!(out[0].recommendation.contains("web server logs"));
    // Big downloads are not login attempts.
    let mut d = BruteForce::new(&Config::default()).unwrap();
    for i in 0..300 {
        d.on_flow(&tcp_flow(
            "10.0.1.5",
            "198.18.0.1",
            443,
            TcpState::Closed,
            (200, 400),
            at(f64::from(i) * 0.1),
            2.0,
        ));
    }
    assert!(close(&mut d, 30).is_empty());
}

#[test]
fn ssh_guesses_are_counted_inside_their_connections() {
    // hydra -t 4 with 30 passwords: 9 connections of up to 6 guesses each (the set-up's
    // 6 client messages, then one per guess).
    let mut d = BruteForce::new(&Config::default()).unwrap();
    for (i, guesses) in [1u64, 6, 6, 6, 6, 4, 3, 2, 1].iter().enumerate() {
        let mut f = tcp_flow(
            "203.0.113.5",
            "10.1.0.22",
            22,
            TcpState::Closed,
            (20, 15),
            at(i as f64 * 3.0),
            0.3,
        );
        f.fwd.payload_packets = 6 + guesses;
        f.rev.repeated_small_payloads = guesses - 1;
        d.on_flow(&f);
    }
    let out = close(&mut d, 30);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].evidence["attempts_in_window"], 35);
    assert_eq!(out[0].evidence["connections_in_window"], 9);
    assert!(
        out[0]
            .message
            .contains("made 35 login attempts (9 connections, short, exchanging data)"),
        "{}",
        out[0].message
    );
    // A guesser cannot claim more than MaxAuthTries per connection.
    let mut f = tcp_flow(
        "203.0.113.6",
        "10.1.0.22",
        22,
        TcpState::Closed,
        (90, 60),
        at(40.0),
        2.0,
    );
    f.fwd.payload_packets = 80;
    f.rev.repeated_small_payloads = 70;
    assert_eq!(tries_in(&f), SSH_MAX_TRIES);
    // A login that worked: as many client messages, but the server's answers differ.
    f.fwd.payload_packets = 13;
    f.rev.repeated_small_payloads = 0;
    assert_eq!(tries_in(&f), 1);
    f.dst_port = 21;
    assert_eq!(tries_in(&f), 1, "one per connection elsewhere");
}

#[test]
fn floods_and_scans_of_a_login_port_are_not_guessing() {
    let mut d = BruteForce::new(&Config::default()).unwrap();
    // A SYN flood against sshd with SYN cookies: SYN, SYN-ACK, the flooder's RST.
    for i in 0..5000 {
        d.on_flow(&tcp_flow(
            "10.210.0.1",
            "10.1.0.22",
            22,
            TcpState::Reset,
            (2, 1),
            at(f64::from(i) * 0.0002),
            0.0001,
        ));
    }
    // A connect scan / a connection flood: the handshake completes, nothing is said.
    for i in 0..500 {
        d.on_flow(&tcp_flow(
            "10.210.0.1",
            "10.1.0.22",
            22,
            TcpState::Reset,
            (3, 1),
            at(1.0 + f64::from(i) * 0.001),
            0.001,
        ));
    }
    assert!(close(&mut d, 2).is_empty());
    assert_eq!(d.tracked_keys(), 0);
}

#[test]
fn counts_are_exact_at_any_rate() {
    let mut d = BruteForce::new(&Config::default()).unwrap();
    for i in 0..3000 {
        d.on_flow(&tcp_flow(
            "203.0.113.5",
            "10.1.0.22",
            22,
            TcpState::Reset,
            (4, 3),
            at(f64::from(i) * 0.01),
            0.05,
        ));
    }
    let out = close(&mut d, 30);
    assert_eq!(out.len(), 1);
    assert!(
        out[0]
            .message
            .contains("made 3,000 login attempts (3,000 connections"),
        "{}",
        out[0].message
    );
    assert_eq!(out[0].evidence["attempts_in_window"], 3000);
    // The interval ending at 76 s looks back to 16 s: the attempts of 16–30 s (1,400)
    // and the new one.
    let out = {
        d.on_flow(&tcp_flow(
            "203.0.113.5",
            "10.1.0.22",
            22,
            TcpState::Reset,
            (4, 3),
            at(75.0),
            0.05,
        ));
        close(&mut d, 75)
    };
    assert_eq!(out[0].evidence["attempts_in_window"], 1401);
}

fn http(method: &str, status: u16, i: u32) -> FlowRecord {
    let mut f = tcp_flow(
        "10.0.1.5",
        "10.1.0.80",
        80,
        TcpState::Closed,
        (6, 5),
        at(f64::from(i) * 0.05),
        0.02,
    );
    f.details = Some(Box::new(wirewatch_core::AppDetails {
        http: Some(wirewatch_core::app::HttpSummary {
            method: Some(method.into()),
            status: Some(status),
            ..Default::default()
        }),
        ..Default::default()
    }));
    f
}

#[test]
fn plain_http_counts_posted_or_refused_logins_not_page_fetches() {
    let mut d = BruteForce::new(&Config::default()).unwrap();
    for i in 0..400 {
        d.on_flow(&http("GET", 200, i));
    }
    assert!(close(&mut d, 20).is_empty(), "400 parallel page fetches");
    for i in 0..150 {
        d.on_flow(&http(if i % 2 == 0 { "POST" } else { "GET" }, 401, 400 + i));
    }
    let out = close(&mut d, 28);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].evidence["attempts_in_window"], 150);
    assert_eq!(out[0].evidence["web_logins_seen"], 150);
    assert_eq!(out[0].severity, Severity::High, "internal source");
    // The same volume over TLS (nothing visible): a low notice.
    let mut d = BruteForce::new(&Config::default()).unwrap();
    for i in 0..150 {
        let mut f = http("POST", 401, i);
        f.details = None;
        f.dst_port = 443;
        d.on_flow(&f);
    }
    let out = close(&mut d, 10);
    assert_eq!(out[0].severity, Severity::Low);
}

#[test]
fn keys_are_bounded() {
    let cfg = Config {
        max_keys: 100,
        ..Config::default()
    };
    let mut d = BruteForce::new(&cfg).unwrap();
    for i in 0..1000u32 {
        let mut f = tcp_flow(
            "0.0.0.0",
            "10.1.0.22",
            22,
            TcpState::Reset,
            (3, 2),
            at(1.0),
            0.0,
        );
        f.src_ip = IpAddr::V4(std::net::Ipv4Addr::from(0x6440_0000 + i));
        d.on_flow(&f);
    }
    assert_eq!(d.tracked_keys(), 100);
    assert_eq!(d.evictions(), 900);
    assert!(close(&mut d, 1).is_empty());
}
