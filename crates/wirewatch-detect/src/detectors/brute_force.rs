//! Brute force: many short or failed connections from one source to a login service.
//!
//! # What it detects
//!
//! Password guessing against SSH, FTP, Telnet, RDP, SMB, POP3/IMAP (hydra, medusa, ncrack,
//! botnets knocking on port 22), and — with stricter numbers — against web logins over HTTP(S):
//! each guess is a connection, so guessing shows as a stream of short connections from one
//! source to one service.
//!
//! # Signal
//!
//! From finished flows: per (source, target, port), the login attempts within the last
//! `window_secs`. An attempt is a TCP connection whose handshake completed and in which *both*
//! sides sent application data (a banner, a greeting, credentials, an answer): a guess needs a
//! listening service that talks, and a connection that moved more than 32 KB either way is a
//! working session (a copy, a shell), not a guess. Half-open and never-established connections (SYN floods,
//! port scans) and connections closed before any data (connect scans, health checks that
//! only connect) are not login attempts. On an authentication port (`auth_ports`) an attempt
//! also has to be short (≤ `max_attempt_secs`) or reset, so long interactive sessions do not
//! count. An SSH connection carries up to six guesses (`MaxAuthTries`): its client messages
//! after the set-up (banner, key exchange, service request, the `none` method), as far as the
//! server answered each with the same short refusal (a session that logged in gets differing
//! answers), are counted as attempts; other services count one per connection. On a web port (`web_ports`) only connections that are both short (≤ `web_max_secs`)
//! and small (≤ `web_max_packets` packets) count; over plain HTTP, only those whose request was
//! a `POST` or whose answer refused credentials (401, 403, 407) — fetching pages is not
//! guessing. Encrypted ones cannot be told from busy API clients: they count, but the alert
//! stays `low` until a visible login attempt is among them. Attempts are counted exactly per time slot (1/60 of the window), so the count in a
//! message is the number of attempts, never a cap. Flows are reported when they end (a closed
//! connection lingers 10 s in the flow table), so the alert comes about that much after the
//! attempts.
//!
//! # Thresholds
//!
//! ≥ `min_attempts` (10) attempts within `window_secs` (60 s) on an authentication port, ≥
//! `web_min_attempts` (100) on a web port. Severity follows [`crate::policy`] (credential:
//! medium, high from 4× the threshold or from a source inside the network). Bounded: at most
//! `max_keys` (16,384) (source, target, port) triples, least recently active evicted
//! (preferring, among the oldest few, one with a single attempt) and counted
//! ([`Detector::evictions`]); at most 61 time slots per triple.
//!
//! # False positives
//!
//! Automation that opens a new SSH connection per command (Ansible without ControlPersist,
//! monitoring checks, git over SSH in CI), mail clients polling IMAP often, SMB clients
//! reconnecting, load balancer health checks on web ports. Suppress `brute_force` for those
//! sources.
//!
//! # Recommended action
//!
//! Block the source; check the target's authentication logs for a success after the failures;
//! enforce key-based authentication / MFA and a lock-out such as fail2ban.

use super::check;
use crate::policy::{self, Family, Impact};
use crate::present::{count, endpoint, is_internal, plural, service};
use crate::{AlertDraft, DetectError, Detector, kind};
use foldhash::fast::FixedState;
use hashlink::LinkedHashMap;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::VecDeque;
use std::net::IpAddr;
use wirewatch_core::time::NANOS_PER_SEC;
use wirewatch_core::{FlowRecord, IntervalMetrics, TcpState, Timestamp};

/// Time slots a window is cut into: counts stay exact to 1/60 of the window at any attempt
/// rate, with at most 61 slots per triple.
const SLOTS_PER_WINDOW: u64 = 60;
/// Least recently active triples looked at when one must go.
const EVICT_SCAN: usize = 8;

/// Client messages of an SSH connection before its first password can be tried: version
/// banner, KEXINIT, key exchange, NEWKEYS, SERVICE_REQUEST and the `none` USERAUTH_REQUEST
/// (RFC 4253 §4–7, RFC 4252 §5.2).
const SSH_SETUP_MESSAGES: u64 = 6;
/// Payload bytes in either direction from which a connection is a working session rather
/// than a login attempt. A failed SSH connection with six guesses and a post-quantum key
/// exchange moves under 5 KB each way, an RDP/NLA or SMB refusal under 20 KB; a file copy or an
/// interactive shell soon passes 32 KB.
const SESSION_MIN_BYTES: u64 = 32 * 1024;
/// Guesses one SSH connection can carry: OpenSSH's `MaxAuthTries` default.
const SSH_MAX_TRIES: u64 = 6;

/// Login attempts one connection carried. Password guessers reuse an SSH connection for up to
/// `MaxAuthTries` guesses (hydra, medusa, ncrack do): each guess is one client message after
/// the set-up, and each refusal the same short server message, so the server repeating one
/// short answer is what tells guesses from the messages of a session that logged in (whose
/// answers differ). Other services count one per connection.
fn tries_in(flow: &FlowRecord) -> u64 {
    if flow.dst_port == 22 || flow.app.proto == wirewatch_core::AppProto::Ssh {
        let messages = flow.fwd.payload_packets.saturating_sub(SSH_SETUP_MESSAGES);
        let refusals = 1 + flow.rev.repeated_small_payloads;
        messages.min(refusals).clamp(1, SSH_MAX_TRIES)
    } else {
        1
    }
}

/// Brute force detector settings.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Run this detector.
    pub enabled: bool,
    /// The window attempts are counted in, seconds.
    pub window_secs: u64,
    /// Ports of authentication services.
    pub auth_ports: Vec<u16>,
    /// Attempts within the window on an authentication port from which it alerts.
    pub min_attempts: u32,
    /// A connection to an authentication port lasting at most this long (s) is an attempt.
    pub max_attempt_secs: f64,
    /// Web ports (login forms, APIs).
    pub web_ports: Vec<u16>,
    /// Attempts within the window on a web port from which it alerts.
    pub web_min_attempts: u32,
    /// A web connection is an attempt if it lasts at most this long (s)...
    pub web_max_secs: f64,
    /// ... and has at most this many packets.
    pub web_max_packets: u64,
    /// (source, target, port) triples tracked (about 200 bytes each plus attempt times).
    pub max_keys: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            window_secs: 60,
            auth_ports: vec![21, 22, 23, 110, 143, 445, 993, 995, 3389],
            min_attempts: 10,
            max_attempt_secs: 30.0,
            web_ports: vec![80, 443, 8080],
            web_min_attempts: 100,
            web_max_secs: 5.0,
            web_max_packets: 20,
            max_keys: 16_384,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    port: u16,
}

/// Attempts that ended in one time slot.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// Slot number (packet time / slot length).
    n: u64,
    /// Connections that were attempts.
    connections: u64,
    /// Login attempts in them (an SSH connection carries up to six).
    attempts: u64,
    /// Of those, reset by either side.
    failed: u64,
}

#[derive(Debug)]
struct Attempts {
    /// Attempts per time slot, oldest first (at most `SLOTS_PER_WINDOW + 1`).
    slots: VecDeque<Slot>,
    /// End time of the latest attempt.
    last: Timestamp,
    total: u64,
    web: bool,
    /// Web attempts whose content showed a login (a POST, credentials refused); without any,
    /// the guessing cannot be told from ordinary short requests (HTTPS) and stays low.
    confirmed: u64,
    dirty: bool,
}

/// The brute force detector.
#[derive(Debug)]
pub struct BruteForce {
    cfg: Config,
    keys: LinkedHashMap<Key, Attempts, FixedState>,
    /// Keys with attempts since the last interval (each listed once: `Attempts::dirty`), so an
    /// interval visits only those instead of every tracked key.
    dirty: Vec<Key>,
    evicted: u64,
    window_ns: u64,
    /// Length of one time slot, ns.
    slot_ns: u64,
}

impl BruteForce {
    /// A detector with validated settings.
    pub fn new(cfg: &Config) -> Result<Self, DetectError> {
        let s = "brute_force";
        check(
            s,
            "window_secs",
            cfg.window_secs as f64,
            cfg.window_secs > 0,
            "must be ≥ 1",
        )?;
        check(
            s,
            "min_attempts",
            f64::from(cfg.min_attempts),
            cfg.min_attempts >= 2,
            "must be ≥ 2",
        )?;
        check(
            s,
            "web_min_attempts",
            f64::from(cfg.web_min_attempts),
            cfg.web_min_attempts >= 2,
            "must be ≥ 2",
        )?;
        check(
            s,
            "max_attempt_secs",
            cfg.max_attempt_secs,
            cfg.max_attempt_secs >= 0.0,
            "must be ≥ 0",
        )?;
        check(
            s,
            "web_max_secs",
            cfg.web_max_secs,
            cfg.web_max_secs >= 0.0,
            "must be ≥ 0",
        )?;
        check(
            s,
            "max_keys",
            cfg.max_keys as f64,
            cfg.max_keys >= 1,
            "must be ≥ 1",
        )?;
        Ok(BruteForce {
            cfg: cfg.clone(),
            keys: LinkedHashMap::with_hasher(FixedState::default()),
            dirty: Vec::new(),
            evicted: 0,
            window_ns: cfg.window_secs.saturating_mul(NANOS_PER_SEC),
            slot_ns: (cfg.window_secs.saturating_mul(NANOS_PER_SEC) / SLOTS_PER_WINDOW).max(1),
        })
    }

    /// Triples tracked now.
    pub fn tracked_keys(&self) -> usize {
        self.keys.len()
    }

    /// Whether `flow` is a login attempt, and whether it was reset; `None` if not counted.
    fn classify(&self, flow: &FlowRecord) -> Option<(bool, bool)> {
        if flow.ip_proto != 6 || flow.state == TcpState::Handshake {
            return None;
        }
        // A guess is a conversation: the client sent something (credentials, a request) and
        // the service said something (a banner, a prompt, a refusal). Floods and scans never
        // get that far.
        if flow.fwd.payload_bytes == 0 || flow.rev.payload_bytes == 0 {
            return None;
        }
        // A connection that moved real data (a file copy, a shell, a git fetch) logged in and
        // worked: a session, not a guess.
        if flow.fwd.payload_bytes.max(flow.rev.payload_bytes) > SESSION_MIN_BYTES {
            return None;
        }
        let secs = flow.last_ts.since(flow.first_ts) as f64 / NANOS_PER_SEC as f64;
        let failed = flow.state == TcpState::Reset;
        if self.cfg.auth_ports.contains(&flow.dst_port) {
            (failed || secs <= self.cfg.max_attempt_secs).then_some((false, failed))
        } else if self.cfg.web_ports.contains(&flow.dst_port) {
            if secs > self.cfg.web_max_secs || flow.packets() > self.cfg.web_max_packets {
                return None;
            }
            match flow.details.as_ref().and_then(|d| d.http.as_ref()) {
                // Plain HTTP shows what the request was: a login is a form posted or
                // credentials refused; a page fetched is not.
                Some(h) => {
                    let posted = h.method.as_deref() == Some("POST");
                    let refused = h.status.is_some_and(|s| matches!(s, 401 | 403 | 407));
                    (posted || refused).then_some((true, failed || refused))
                }
                // Encrypted: a short, small connection may be a login or any API call.
                None => Some((true, failed)),
            }
        } else {
            None
        }
    }

    /// Attempts, reset attempts and connections of `a` inside the window ending at `now`.
    fn in_window(&self, a: &Attempts, now: Timestamp) -> (u64, u64, u64) {
        let first = now.nanos().saturating_sub(self.window_ns) / self.slot_ns;
        a.slots
            .iter()
            .filter(|s| s.n >= first)
            .fold((0, 0, 0), |(n, f, c), s| {
                (n + s.attempts, f + s.failed, c + s.connections)
            })
    }

    fn draft(&self, key: &Key, a: &Attempts, now: Timestamp) -> Option<AlertDraft> {
        let (n, failed, connections) = self.in_window(a, now);
        let threshold = if a.web {
            self.cfg.web_min_attempts
        } else {
            self.cfg.min_attempts
        };
        if n < u64::from(threshold) {
            return None;
        }
        let over = n as f64 / f64::from(threshold);
        let severity = if a.web && a.confirmed == 0 {
            // Encrypted short requests: maybe guessing, maybe an eager client. A notice.
            wirewatch_core::Severity::Low
        } else {
            policy::severity(&Impact {
                internal_source: is_internal(key.src),
                ..Impact::new(Family::Credential, over)
            })
        };
        let svc = service(key.port).map_or_else(String::new, |s| format!(" ({s})"));
        let target = endpoint(key.dst, Some(key.port));
        let message = format!(
            "{} made {} login attempts ({}, short, exchanging data) with {target}{svc} in the last {} s ({} reset)",
            key.src,
            count(n),
            plural(connections, "connection"),
            self.cfg.window_secs,
            count(failed),
        );
        let recommendation = if a.web {
            format!(
                "check {}'s web server logs for repeated login failures from {}; block it or put a rate limit / CAPTCHA on the login",
                key.dst, key.src
            )
        } else {
            format!(
                "block {} and check {}'s authentication logs for a successful login after the failures; enforce key-based auth or MFA and a lock-out such as fail2ban",
                key.src, key.dst
            )
        };
        Some(AlertDraft {
            kind: kind::BRUTE_FORCE,
            severity,
            confidence: policy::confidence(over, failed as f64 / n.max(1) as f64),
            ts: now,
            sources: vec![key.src],
            targets: vec![key.dst],
            ports: vec![key.port],
            message,
            recommendation,
            evidence: json!({
                "attempts_in_window": n,
                "connections_in_window": connections,
                "reset_in_window": failed,
                "attempts_total": a.total,
                "window_secs": self.cfg.window_secs,
                "threshold": threshold,
                "web_port": a.web,
                "web_logins_seen": a.confirmed,
            }),
            incident_key: format!("{}|{}|{}", kind::BRUTE_FORCE, key.src, target),
            magnitude: n as f64,
        })
    }
}

impl Detector for BruteForce {
    fn name(&self) -> &'static str {
        "brute_force"
    }

    fn wants_flows(&self) -> bool {
        true
    }

    fn on_flow(&mut self, flow: &FlowRecord) {
        let Some((web, failed)) = self.classify(flow) else {
            return;
        };
        let tries = tries_in(flow);
        let key = Key {
            src: flow.src_ip,
            dst: flow.dst_ip,
            port: flow.dst_port,
        };
        if !self.keys.contains_key(&key) {
            while self.keys.len() >= self.cfg.max_keys {
                // Among the oldest few, drop a triple with a single attempt first: a flood
                // of one-off connections must not push out a patient guesser.
                let victim = self
                    .keys
                    .iter()
                    .take(EVICT_SCAN)
                    .find(|(_, a)| a.total <= 1)
                    .map(|(k, _)| *k)
                    .or_else(|| self.keys.front().map(|(k, _)| *k));
                if victim.and_then(|k| self.keys.remove(&k)).is_none() {
                    break;
                }
                self.evicted += 1;
            }
            self.keys.insert(
                key,
                Attempts {
                    slots: VecDeque::new(),
                    last: flow.last_ts,
                    total: 0,
                    web,
                    confirmed: 0,
                    dirty: false,
                },
            );
        } else {
            self.keys.to_back(&key);
        }
        let slot_ns = self.slot_ns;
        if let Some(a) = self.keys.get_mut(&key) {
            let n = flow.last_ts.nanos() / slot_ns;
            match a.slots.back_mut() {
                // Flows end in time order; a late one joins the newest slot.
                Some(s) if s.n >= n => {
                    s.connections += 1;
                    s.attempts += tries;
                    s.failed += u64::from(failed) * tries;
                }
                _ => {
                    if a.slots.len() > SLOTS_PER_WINDOW as usize {
                        a.slots.pop_front();
                    }
                    a.slots.push_back(Slot {
                        n,
                        connections: 1,
                        attempts: tries,
                        failed: u64::from(failed) * tries,
                    });
                }
            }
            a.last = a.last.max(flow.last_ts);
            a.total += 1;
            a.confirmed +=
                u64::from(web && flow.details.as_ref().is_some_and(|d| d.http.is_some()));
            if !a.dirty {
                a.dirty = true;
                self.dirty.push(key);
            }
        }
    }

    fn on_interval(&mut self, m: &IntervalMetrics, out: &mut Vec<AlertDraft>) {
        let now = m.end_ts();
        let start = Timestamp(now.nanos().saturating_sub(self.window_ns));
        // Triples with no attempt in the window are forgotten (least recently active first).
        while let Some((_, a)) = self.keys.front() {
            if a.last >= start {
                break;
            }
            self.keys.pop_front();
        }
        let mut found = Vec::new();
        let dirty = std::mem::take(&mut self.dirty);
        for key in &dirty {
            let Some(a) = self.keys.get_mut(key) else {
                continue; // forgotten or evicted since
            };
            if !a.dirty {
                continue;
            }
            a.dirty = false;
            let first = start.nanos() / self.slot_ns;
            while a.slots.front().is_some_and(|s| s.n < first) {
                a.slots.pop_front();
            }
            found.push(*key);
        }
        self.dirty = dirty;
        self.dirty.clear();
        let mut drafts: Vec<AlertDraft> = found
            .iter()
            .filter_map(|k| self.keys.get(k).and_then(|a| self.draft(k, a, now)))
            .collect();
        super::worst_first(&mut drafts);
        out.extend(drafts);
    }

    fn evictions(&self) -> u64 {
        self.evicted
    }

    fn tracked(&self) -> usize {
        self.keys.len()
    }
}

#[cfg(test)]
mod tests {
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
}
