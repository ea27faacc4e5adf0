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
#[path = "brute_force_tests.rs"]
mod tests;
