//! Port scan: one source probing many ports on a host, or one port on many hosts.
//!
//! # What it detects
//!
//! Reconnaissance: *vertical* scans (one source → many ports of one host, `nmap host`),
//! *horizontal* scans (one source → one port on many hosts, `masscan -p22 10.0.0.0/16`, worms),
//! *host sweeps* (one source asking many addresses whether they exist: ICMP echo or timestamp
//! requests, ARP who-has, TCP ACK or SYN pings — `nmap -sn`, `arp-scan`), and *slow* scans that
//! stay under the fast thresholds by spreading probes over minutes. The style is named from the
//! probes: SYN (half-open: the scanner resets the SYN-ACK), connect (the handshake completes,
//! then the scanner aborts), FIN / NULL / Xmas (flag probes that firewalls often let through),
//! ACK (`nmap -sA`, mapping firewall rules: every probe answered by a RST), UDP, ICMP, ARP.
//!
//! # Signal
//!
//! From every packet: per source, the distinct targets (host, port, protocol) it probed, when,
//! and how each answered. A probe is a TCP SYN without ACK, a TCP segment with neither SYN,
//! ACK nor RST (FIN, NULL, Xmas), a bare ACK that starts no connection the flow table knows
//! (an ACK probe; a connection picked up mid-stream looks the same, but its peer talks back),
//! the first UDP datagram of a flow (without the flow table: one towards a port no higher than
//! its source port), an ICMP echo/timestamp request, or an ARP request for another
//! address (gratuitous ARP and address probes without a sender are not). An answer is a
//! SYN-ACK, UDP datagram, echo reply, ARP reply or any first packet back (open / alive), or a
//! RST back (closed); no answer means filtered. A probe that is mostly answered is ordinary
//! use, not reconnaissance: a client opening its 30th HTTPS connection of the minute gets
//! SYN-ACKs, a scanner mostly RSTs and silence. Host probes ask only whether a host is there:
//! they count towards sweeps, not as ports of a host, and a dense sweep (4× the horizontal
//! threshold within the window) counts even when the hosts answer.
//!
//! # Thresholds
//!
//! Evaluated at each interval for every source that probed during it:
//! - fast: within the last `window_secs` (10 s), ≥ `vertical_ports` (25) distinct ports on one
//!   host, or ≥ `horizontal_hosts` (25) distinct hosts on one port, with at most
//!   `max_answered_share` (0.5) of those probes answered open;
//! - slow: within `slow_window_secs` (300 s), ≥ `slow_min_targets` (30) distinct targets with at
//!   most `max_answered_share` answered.
//!
//! Severity grows with the ratio over the threshold, one step more for a source inside the
//! network (a compromised host scanning its neighbours). State is bounded: at most
//! `max_sources` (16,384) sources, least recently active evicted first — preferring, among the
//! oldest few, one that probed a single target, so that a spoofed flood does not push a slow
//! scanner out; at most
//! `max_targets_per_source` (4,096) and `max_targets_total` (262,144, about 12 MB) targets.
//! Evictions and targets turned away are counted ([`Detector::evictions`]).
//!
//! # False positives
//!
//! Vulnerability scanners and monitoring (expected: suppress their source), peer-to-peer
//! clients contacting many peers that are gone, NAT gateways (many users behind one address),
//! and one-directional capture (answers never seen, so everything looks unanswered). A spoofed
//! flood churns the one-probe sources of the table, but a scanner that has probed only one
//! target so far looks like one of them, and a very busy network with more than `max_sources`
//! active hosts can still push a slow scanner's history out (counted).
//!
//! # Recommended action
//!
//! From outside: block the source at the edge and check that the ports found open should be
//! reachable. From inside: find the host's owner — an unexpected internal scan often means a
//! compromised machine; isolate and examine it.

use super::check;
use crate::policy::{self, Family, Impact};
use crate::present::{count, is_internal, pct, plural, port_list};
use crate::sketch::{Map, new_map};
use crate::{AlertDraft, DetectError, Detector, Ingested, kind};
use foldhash::fast::FixedState;
use hashlink::LinkedHashMap;
use hashlink::linked_hash_map::RawEntryMut;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::net::IpAddr;
use wirewatch_core::proto::tcp_flags::{ACK, FIN, PSH, RST, SYN, URG};
use wirewatch_core::time::NANOS_PER_SEC;
use wirewatch_core::{IntervalMetrics, Timestamp};
use wirewatch_decode::{ArpInfo, Network, Packet, Transport};

/// Hosts or ports listed in an alert.
const LISTED: usize = 32;
/// Least recently active sources looked at when one must go (a few pointer hops).
const EVICT_SCAN: usize = 8;
/// Times `horizontal_hosts` from which an ICMP or ARP sweep counts even when most hosts
/// answer (100 hosts in 10 s by default): nothing but a sweep asks that many hosts whether
/// they exist so fast.
const DENSE_SWEEP_FACTOR: f64 = 4.0;

/// Port scan detector settings.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Run this detector.
    pub enabled: bool,
    /// Window of the fast (vertical / horizontal) rules, seconds.
    pub window_secs: u64,
    /// Distinct ports on one host within the window from which it alerts.
    pub vertical_ports: u32,
    /// Distinct hosts on one port within the window from which it alerts.
    pub horizontal_hosts: u32,
    /// Highest share of probes answered open that still counts as a scan (0–1).
    pub max_answered_share: f64,
    /// Window of the slow-scan rule, seconds; a source idle this long is forgotten.
    pub slow_window_secs: u64,
    /// Distinct targets within the slow window from which it alerts.
    pub slow_min_targets: u32,
    /// Sources tracked at once (least recently active evicted first). Each costs about 150
    /// bytes plus its targets (2.5 MB in all); 16,384 covers every host active within the
    /// slow window on a large campus link.
    pub max_sources: usize,
    /// Targets remembered per source: four full 1,024-port scans of one host.
    pub max_targets_per_source: usize,
    /// Targets remembered over all sources (about 48 bytes each: 262,144 ≈ 12 MB).
    pub max_targets_total: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            window_secs: 10,
            vertical_ports: 25,
            horizontal_hosts: 25,
            max_answered_share: 0.5,
            slow_window_secs: 300,
            slow_min_targets: 30,
            max_sources: 16_384,
            max_targets_per_source: 4096,
            max_targets_total: 262_144,
        }
    }
}

/// What a probe was carried in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Proto {
    Tcp,
    Udp,
    /// ICMP or ICMPv6 echo / timestamp requests (port 0): a host sweep.
    Icmp,
    /// ARP requests (port 0): a host sweep of the local subnet.
    Arp,
}

impl Proto {
    fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
            Proto::Arp => "arp",
        }
    }

    /// Probes that only ask whether a host is there.
    fn is_host_probe(self) -> bool {
        matches!(self, Proto::Icmp | Proto::Arp)
    }
}

/// One probed service (or host, for ICMP and ARP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Target {
    ip: IpAddr,
    port: u16,
    proto: Proto,
}

/// What a probe got back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// Nothing yet (filtered, or still in flight).
    Pending,
    /// SYN-ACK or a UDP reply: the port is open.
    Open,
    /// The scanner reset the half-open connection (SYN scan).
    HalfOpen,
    /// The scanner completed and aborted the connection (connect scan).
    Completed,
    /// RST from the target: the port is closed.
    Closed,
}

impl Answer {
    fn is_open(self) -> bool {
        matches!(self, Answer::Open | Answer::HalfOpen | Answer::Completed)
    }
}

#[derive(Debug, Clone, Copy)]
struct Probe {
    first: Timestamp,
    last: Timestamp,
    answer: Answer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Syn,
    Fin,
    Null,
    Xmas,
    Udp,
    /// A bare ACK that starts no known connection (ACK scan, TCP ACK ping).
    Ack,
    /// ICMP echo or timestamp request.
    Icmp,
    /// ARP who-has.
    Arp,
}

/// Probes sent by a source, by kind, and what it did with open ports.
#[derive(Debug, Clone, Copy, Default)]
struct Styles {
    syn: u64,
    fin: u64,
    null: u64,
    xmas: u64,
    udp: u64,
    ack: u64,
    icmp: u64,
    arp: u64,
    half_open: u64,
    completed: u64,
}

impl Styles {
    fn count(&mut self, s: Style) {
        match s {
            Style::Syn => self.syn += 1,
            Style::Fin => self.fin += 1,
            Style::Null => self.null += 1,
            Style::Xmas => self.xmas += 1,
            Style::Udp => self.udp += 1,
            Style::Ack => self.ack += 1,
            Style::Icmp => self.icmp += 1,
            Style::Arp => self.arp += 1,
        }
    }

    /// The scan style, as written in messages.
    fn name(&self) -> &'static str {
        let counts = [
            (self.syn, "syn"),
            (self.fin, "fin"),
            (self.null, "null"),
            (self.xmas, "xmas"),
            (self.udp, "udp"),
            (self.ack, "ack"),
            (self.icmp, "icmp"),
            (self.arp, "arp"),
        ];
        let top = counts
            .iter()
            .max_by_key(|(c, _)| *c)
            .map_or("syn", |(_, n)| *n);
        match top {
            "syn" if self.completed > self.half_open => "connect",
            other => other,
        }
    }
}

fn style_label(style: &str) -> &'static str {
    match style {
        "connect" => "connect scan",
        "fin" => "FIN scan",
        "null" => "NULL scan",
        "xmas" => "Xmas scan",
        "udp" => "UDP scan",
        "ack" => "ACK scan",
        "icmp" => "ICMP sweep",
        "arp" => "ARP sweep",
        _ => "SYN scan",
    }
}

/// Everything known about one source.
#[derive(Debug)]
struct Source {
    targets: Map<Target, Probe>,
    last: Timestamp,
    /// Probed since the last evaluation.
    dirty: bool,
    styles: Styles,
    /// New targets not remembered because a cap was reached.
    overflow: u64,
    /// Targets whose answer says open (kept in step with `targets`), so a source that cannot
    /// be a scanner (nearly everything it probed answered) is skipped in O(1).
    open: usize,
    /// Targets that are host probes (ICMP, ARP), kept in step with `targets`: a dense sweep
    /// counts even when answered, so such a source is never skipped.
    host_probes: usize,
}

/// The port scan detector.
#[derive(Debug)]
pub struct PortScan {
    cfg: Config,
    /// Least recently active first.
    sources: LinkedHashMap<IpAddr, Source, FixedState>,
    total_targets: usize,
    /// Sources probed since the last interval (each listed once: `Source::dirty`).
    dirty: Vec<IpAddr>,
    /// Unanswered targets below which neither rule can fire.
    min_unanswered: usize,
    /// Sources evicted to make room, and targets turned away.
    evicted: u64,
    window_ns: u64,
    slow_ns: u64,
}

impl PortScan {
    /// A detector with validated settings.
    pub fn new(cfg: &Config) -> Result<Self, DetectError> {
        let s = "port_scan";
        check(
            s,
            "window_secs",
            cfg.window_secs as f64,
            cfg.window_secs > 0,
            "must be ≥ 1",
        )?;
        check(
            s,
            "slow_window_secs",
            cfg.slow_window_secs as f64,
            cfg.slow_window_secs >= cfg.window_secs,
            "must be ≥ window_secs",
        )?;
        check(
            s,
            "vertical_ports",
            f64::from(cfg.vertical_ports),
            cfg.vertical_ports >= 2,
            "must be ≥ 2",
        )?;
        check(
            s,
            "horizontal_hosts",
            f64::from(cfg.horizontal_hosts),
            cfg.horizontal_hosts >= 2,
            "must be ≥ 2",
        )?;
        check(
            s,
            "slow_min_targets",
            f64::from(cfg.slow_min_targets),
            cfg.slow_min_targets >= 2,
            "must be ≥ 2",
        )?;
        check(
            s,
            "max_answered_share",
            cfg.max_answered_share,
            (0.0..=1.0).contains(&cfg.max_answered_share),
            "must be in [0, 1]",
        )?;
        check(
            s,
            "max_sources",
            cfg.max_sources as f64,
            cfg.max_sources >= 1,
            "must be ≥ 1",
        )?;
        Ok(PortScan {
            cfg: cfg.clone(),
            sources: LinkedHashMap::with_hasher(FixedState::default()),
            total_targets: 0,
            dirty: Vec::new(),
            min_unanswered: min_unanswered(cfg),
            evicted: 0,
            window_ns: cfg.window_secs.saturating_mul(NANOS_PER_SEC),
            slow_ns: cfg.slow_window_secs.saturating_mul(NANOS_PER_SEC),
        })
    }

    /// Sources tracked now.
    pub fn tracked_sources(&self) -> usize {
        self.sources.len()
    }

    /// Targets remembered now, over all sources.
    pub fn tracked_targets(&self) -> usize {
        self.total_targets
    }

    /// Drops one source to make room: among the [`EVICT_SCAN`] least recently active, the
    /// first that probed a single target, else the least recently active. A spoofed flood
    /// (a new source per packet) thus churns through its own one-probe sources and leaves a
    /// slow scanner's history alone.
    fn evict_oldest(&mut self) -> bool {
        let victim = self
            .sources
            .iter()
            .take(EVICT_SCAN)
            .find(|(_, s)| s.targets.len() <= 1)
            .map(|(k, _)| *k)
            .or_else(|| self.sources.front().map(|(k, _)| *k));
        match victim.and_then(|k| self.sources.remove(&k)) {
            Some(s) => {
                self.total_targets -= s.targets.len();
                self.evicted += 1;
                true
            }
            None => false,
        }
    }

    fn probe(&mut self, src: IpAddr, target: Target, style: Style, ts: Timestamp) {
        // The common case — a known source while the global budget has room — takes one
        // lookup: relink the source and record the probe through the same entry.
        if self.total_targets < self.cfg.max_targets_total
            && let RawEntryMut::Occupied(mut o) = self.sources.raw_entry_mut().from_key(&src)
        {
            o.to_back();
            let mut book = Book {
                dirty: &mut self.dirty,
                total_targets: &mut self.total_targets,
                evicted: &mut self.evicted,
                max_per_source: self.cfg.max_targets_per_source,
                room: true,
            };
            book.record(o.into_mut(), src, target, style, ts);
            return;
        }
        let known = match self.sources.raw_entry_mut().from_key(&src) {
            RawEntryMut::Occupied(mut o) => {
                o.to_back();
                true
            }
            RawEntryMut::Vacant(_) => false,
        };
        if !known {
            while self.sources.len() >= self.cfg.max_sources && self.evict_oldest() {}
            self.sources.insert(
                src,
                Source {
                    targets: new_map(),
                    last: ts,
                    dirty: false,
                    styles: Styles::default(),
                    overflow: 0,
                    open: 0,
                    host_probes: 0,
                },
            );
        }
        if self.total_targets >= self.cfg.max_targets_total
            && self.sources.len() > 1
            && self
                .sources
                .get(&src)
                .is_some_and(|s| !s.targets.contains_key(&target))
        {
            // The global budget is spent: a less recently active source makes room (`src`
            // itself was just moved to the back, out of reach).
            self.evict_oldest();
        }
        let room = self.total_targets < self.cfg.max_targets_total;
        let Some(s) = self.sources.get_mut(&src) else {
            return;
        };
        let mut book = Book {
            dirty: &mut self.dirty,
            total_targets: &mut self.total_targets,
            evicted: &mut self.evicted,
            max_per_source: self.cfg.max_targets_per_source,
            room,
        };
        book.record(s, src, target, style, ts);
    }

    /// Records `answer` from `target` to the prober `to`; false if no such probe is pending.
    fn answer(&mut self, to: IpAddr, target: Target, answer: Answer) -> bool {
        let Some(s) = self.sources.get_mut(&to) else {
            return false;
        };
        match s.targets.get_mut(&target) {
            Some(p) if p.answer == Answer::Pending => {
                p.answer = answer;
                if answer.is_open() {
                    s.open += 1;
                }
                true
            }
            _ => false,
        }
    }

    /// The prober `src` aborted a connection that `target` had accepted.
    fn prober_reset(&mut self, src: IpAddr, target: Target, flags: u8) {
        let Some(s) = self.sources.get_mut(&src) else {
            return;
        };
        if let Some(p) = s.targets.get_mut(&target)
            && p.answer == Answer::Open
        {
            if flags & ACK == 0 {
                p.answer = Answer::HalfOpen;
                s.styles.half_open += 1;
            } else {
                p.answer = Answer::Completed;
                s.styles.completed += 1;
            }
        }
    }

    /// Records what `pkt` probes or answers; `flow` is the flow table's view of it.
    #[inline]
    fn observe(&mut self, pkt: &Packet, ts: Timestamp, flow: Option<&Ingested>) {
        if let Network::Arp(a) = pkt.network {
            self.arp(a, ts);
            return;
        }
        if !pkt.has_src || !pkt.has_dst {
            return;
        }
        match pkt.transport {
            Transport::Tcp(t) => {
                let f = t.flags;
                let to_dst = Target {
                    ip: pkt.dst,
                    port: t.dst_port,
                    proto: Proto::Tcp,
                };
                let from_src = Target {
                    ip: pkt.src,
                    port: t.src_port,
                    proto: Proto::Tcp,
                };
                if f & SYN != 0 {
                    if f & ACK == 0 {
                        self.probe(pkt.src, to_dst, Style::Syn, ts);
                    } else {
                        self.answer(pkt.dst, from_src, Answer::Open);
                    }
                } else if f & RST != 0 {
                    if !self.answer(pkt.dst, from_src, Answer::Closed) {
                        self.prober_reset(pkt.src, to_dst, f);
                    }
                } else if f & ACK == 0 {
                    let style = if f == 0 {
                        Style::Null
                    } else if f & (FIN | PSH | URG) == FIN | PSH | URG {
                        Style::Xmas
                    } else if f == FIN {
                        Style::Fin
                    } else {
                        return;
                    };
                    self.probe(pkt.src, to_dst, style, ts);
                } else if let Some(flow) = flow {
                    if flow.new_flow && f & (FIN | PSH | URG) == 0 && pkt.payload_len == 0 {
                        // A bare ACK that belongs to no connection seen: an ACK probe (or a
                        // connection picked up mid-stream, which its peer will answer).
                        self.probe(pkt.src, to_dst, Style::Ack, ts);
                    } else if flow.first_reply {
                        // The peer of an ACK probe (or a mid-stream pickup) talks back.
                        self.answer(pkt.dst, from_src, Answer::Open);
                    }
                }
            }
            Transport::Udp(u) => {
                // With the flow table's view, the first datagram of a flow is a request and
                // the responder's first one an answer, whatever the ports (nmap's UDP ping
                // goes to port 40125 from any port); without it, the lower port is the
                // service.
                // A flow that starts from a well-known port towards an ephemeral one is an
                // answer whose request the capture missed (a DNS server's reply), not a probe.
                let from_service = u.src_port < 1024 && u.dst_port >= 1024;
                let (request, reply) = match flow {
                    Some(f) => (f.new_flow && f.forward && !from_service, f.first_reply),
                    None => (u.dst_port <= u.src_port, u.dst_port > u.src_port),
                };
                if request {
                    let to_dst = Target {
                        ip: pkt.dst,
                        port: u.dst_port,
                        proto: Proto::Udp,
                    };
                    self.probe(pkt.src, to_dst, Style::Udp, ts);
                } else if reply {
                    let from_src = Target {
                        ip: pkt.src,
                        port: u.src_port,
                        proto: Proto::Udp,
                    };
                    self.answer(pkt.dst, from_src, Answer::Open);
                }
            }
            Transport::Icmp(i) => {
                let (mut request, mut reply) = if pkt.ip_proto == 58 {
                    (i.icmp_type == 128, i.icmp_type == 129)
                } else {
                    (matches!(i.icmp_type, 8 | 13), matches!(i.icmp_type, 0 | 14))
                };
                // A ping session is one flow: only its first request probes, only its first
                // reply answers (a long `ping` costs one lookup, not one per second).
                if let Some(f) = flow {
                    request &= f.new_flow;
                    reply &= f.first_reply;
                }
                if request {
                    let to_dst = Target {
                        ip: pkt.dst,
                        port: 0,
                        proto: Proto::Icmp,
                    };
                    self.probe(pkt.src, to_dst, Style::Icmp, ts);
                } else if reply {
                    let from_src = Target {
                        ip: pkt.src,
                        port: 0,
                        proto: Proto::Icmp,
                    };
                    self.answer(pkt.dst, from_src, Answer::Open);
                }
            }
            _ => {}
        }
    }

    /// An ARP request is a probe of its target address (gratuitous ARP and address probes
    /// with no sender are not); a reply answers it.
    fn arp(&mut self, a: ArpInfo, ts: Timestamp) {
        let (sender, target) = (IpAddr::V4(a.sender_ip), IpAddr::V4(a.target_ip));
        if a.sender_ip.is_unspecified() || a.target_ip.is_unspecified() || sender == target {
            return;
        }
        match a.op {
            1 => {
                let to = Target {
                    ip: target,
                    port: 0,
                    proto: Proto::Arp,
                };
                self.probe(sender, to, Style::Arp, ts);
            }
            2 => {
                let from = Target {
                    ip: sender,
                    port: 0,
                    proto: Proto::Arp,
                };
                self.answer(target, from, Answer::Open);
            }
            _ => {}
        }
    }
}

#[path = "port_scan_rules.rs"]
mod rules;

impl Detector for PortScan {
    fn name(&self) -> &'static str {
        "port_scan"
    }

    fn wants_packets(&self) -> bool {
        true
    }

    fn wants_routine(&self) -> bool {
        false // handshakes, probes and answers nobody asked for: never a routine segment
    }

    #[inline]
    fn on_packet(&mut self, pkt: &Packet, _wire_len: u32, ts: Timestamp) {
        self.observe(pkt, ts, None);
    }

    #[inline]
    fn on_flow_packet(
        &mut self,
        pkt: &Packet,
        _wire_len: u32,
        ts: Timestamp,
        flow: Option<&Ingested>,
    ) {
        self.observe(pkt, ts, flow);
    }

    fn on_interval(&mut self, m: &IntervalMetrics, out: &mut Vec<AlertDraft>) {
        let now = m.end_ts();
        let forget_before = Timestamp(now.nanos().saturating_sub(self.slow_ns));
        // Sources quiet for the whole slow window are forgotten (not an eviction).
        while let Some((_, s)) = self.sources.front() {
            if s.last >= forget_before {
                break;
            }
            if let Some((_, s)) = self.sources.pop_front() {
                self.total_targets -= s.targets.len();
            }
        }
        let mut removed = 0;
        let mut found = Vec::new();
        let dirty = std::mem::take(&mut self.dirty);
        for src in &dirty {
            let Some(s) = self.sources.get_mut(src) else {
                continue; // evicted since
            };
            if !s.dirty {
                continue;
            }
            s.dirty = false;
            // Most sources are clients whose connections were answered: they cannot reach a
            // threshold, so skip them without walking their targets (their old targets go
            // when the source falls quiet, or at the next evaluation).
            if s.targets.len().saturating_sub(s.open) < self.min_unanswered
                && (s.host_probes as f64)
                    < DENSE_SWEEP_FACTOR * f64::from(self.cfg.horizontal_hosts)
            {
                continue;
            }
            let before = s.targets.len();
            let mut open_dropped = 0;
            let mut host_probes_dropped = 0;
            s.targets.retain(|t, p| {
                let keep = p.last >= forget_before;
                if !keep && p.answer.is_open() {
                    open_dropped += 1;
                }
                if !keep && t.proto.is_host_probe() {
                    host_probes_dropped += 1;
                }
                keep
            });
            s.open = s.open.saturating_sub(open_dropped);
            s.host_probes = s.host_probes.saturating_sub(host_probes_dropped);
            removed += before - s.targets.len();
            found.push(*src);
        }
        self.dirty = dirty;
        self.dirty.clear();
        self.total_targets -= removed;
        for src in found {
            if let Some(s) = self.sources.get(&src)
                && let Some(d) = self.evaluate(src, s, now)
            {
                out.push(d);
            }
        }
    }

    fn evictions(&self) -> u64 {
        self.evicted
    }

    fn tracked(&self) -> usize {
        self.sources.len() + self.total_targets
    }
}

/// The detector's bookkeeping a probe updates besides its source (borrowed field by field, so a
/// source reached through a map entry can be updated without a second lookup).
struct Book<'a> {
    dirty: &'a mut Vec<IpAddr>,
    total_targets: &'a mut usize,
    evicted: &'a mut u64,
    max_per_source: usize,
    /// Whether the global target budget has room for a new target.
    room: bool,
}

impl Book<'_> {
    /// Records that `src` probed `target`.
    fn record(&mut self, s: &mut Source, src: IpAddr, target: Target, style: Style, ts: Timestamp) {
        s.last = ts;
        if !s.dirty {
            s.dirty = true;
            self.dirty.push(src);
        }
        s.styles.count(style);
        if let Some(p) = s.targets.get_mut(&target) {
            p.last = ts;
            // A new TCP attempt waits for its own answer; a UDP port that answered stays open.
            if target.proto != Proto::Udp {
                if p.answer.is_open() {
                    s.open = s.open.saturating_sub(1);
                }
                p.answer = Answer::Pending;
            }
        } else if self.room && s.targets.len() < self.max_per_source {
            s.targets.insert(
                target,
                Probe {
                    first: ts,
                    last: ts,
                    answer: Answer::Pending,
                },
            );
            *self.total_targets += 1;
            s.host_probes += usize::from(target.proto.is_host_probe());
        } else {
            s.overflow += 1;
            *self.evicted += 1;
        }
    }
}

/// The fewest unanswered targets a source must have for either rule to fire: the fast rule
/// needs at least min(vertical, horizontal) recent targets with at most `max_answered_share`
/// answered, the slow rule `slow_min_targets` with the same share.
fn min_unanswered(cfg: &Config) -> usize {
    let unanswered = (1.0 - cfg.max_answered_share).clamp(0.0, 1.0);
    let need = |targets: u32| (f64::from(targets) * unanswered - 1e-9).ceil().max(0.0) as usize;
    need(cfg.vertical_ports.min(cfg.horizontal_hosts)).min(need(cfg.slow_min_targets))
}

#[cfg(test)]
#[path = "port_scan_tests.rs"]
mod tests;
