//! The attack side of the demo scenario: one window (phase) at a time of port scan, SYN flood or
//! spike, as frames in time order.
//!
//! Owns the attack scripts and their timing. Each window has a "primary" stream (the scanner's
//! probes, the flood's SYNs, the download's script), a small fixed-capacity queue of answers due
//! later (a closed port's RST-ACK, the scanner's reset, the victim's SYN-ACK, the downloader's
//! ACKs) and, during Spike, an overlaid background generator; the earliest of the three goes
//! next. Nothing here allocates per frame.

use super::download::{After, Download};
use super::stream::{GenStream, StreamPlan};
use super::wire::{Ip4, LONGEST_ANSWER_NS, MSS, jitter, lan_delay, nmap_ttl, tcp_frame, wan_rtt};
use super::{
    FLOOD_PORT, FLOOD_SOURCE_NET, FLOOD_SOURCE_PREFIX, FLOOD_SYN_ACK_PER_MILLE, FLOOD_TARGET,
    Phase, SCAN_OPEN_PORTS, SCAN_PORTS, SCAN_TARGET, SCANNER, SPIKE_TRANSFER_SHARE, ScenarioConfig,
    TIMELINE, derive_seed,
};
use crate::synth::build::{
    TcpOptions, TcpSegment,
    tcp_flags::{ACK, RST, SYN},
};
use crate::synth::generator::GeneratedFrame;
use crate::synth::rng::Rng;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::Ipv4Addr;
use wirewatch_core::{LinkType, Timestamp};

/// Answers waiting at once, at most. The scan rate is capped at 10,000 ports/s, so at most
/// about 3 closed-port answers (0.3 ms each) plus the 3 open ports' resets (one round trip) are
/// pending; a 1,000,000 SYN/s flood has about 15 SYN-ACKs in flight. When full (never, within
/// the caps), a new answer is dropped rather than the queue grown.
const QUEUE_CAP: usize = 256;
/// The flood's answers come within a LAN delay; it may run this close to the phase end.
const FLOOD_TAIL_NS: u64 = 1_000_000;
/// Seed tags of the attack windows and of the Spike's extra background.
const WINDOW_TAG: u64 = 0xa7;
const OVERLAY_TAG: u64 = 0xc8;

/// A frame due later, ordered by time, then by the order it was scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Event {
    ts: u64,
    order: u64,
    what: What,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum What {
    /// The scan target answers a probe: SYN-ACK if the port is open, else RST-ACK.
    ScanAnswer { port: u16, probe_seq: u32 },
    /// The scanner resets the half-open connection an open port offered.
    ScanReset { port: u16, probe_seq: u32 },
    /// The flood victim answers one spoofed SYN.
    FloodSynAck { src: u32, sport: u16, syn_seq: u32 },
    /// The downloader acknowledges data up to `ack`.
    DownloadAck { ack: u32 },
}

/// Where the next attack frame comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Primary,
    Queue,
    Overlay,
}

/// The attack windows, one after the other.
#[derive(Debug)]
pub(super) struct Attacks {
    cfg: ScenarioConfig,
    phase_ns: u64,
    /// Frames per background segment (the overlay uses the same, hence the same hosts).
    segment_packets: u64,
    /// Index of the current window's phase, counted from the start of the timeline.
    window: u64,
    kind: Phase,
    /// End of the current window, nanoseconds.
    end: u64,
    rng: Rng,
    queue: BinaryHeap<Reverse<Event>>,
    scheduled: u64,
    /// Time of the next primary frame, if the window's script has one left.
    primary: Option<u64>,
    /// The scan order and how far the scan got.
    ports: [u16; 1024],
    next_port: usize,
    scan_sport: u16,
    download: Download,
    /// The Spike's extra background, paused between Spike windows; `overlay_end` is the end
    /// of the Spike window it last ran in.
    overlay: Option<GenStream>,
    overlay_end: u64,
}

impl Attacks {
    /// The attacks of `cfg` (already normalized), positioned at the first attack window.
    pub(super) fn new(cfg: &ScenarioConfig, phase_ns: u64, segment_packets: u64) -> Self {
        let mut ports = [0u16; 1024];
        for (slot, port) in ports.iter_mut().zip(SCAN_PORTS) {
            *slot = port;
        }
        let mut rng = Rng::new(derive_seed(cfg.seed, WINDOW_TAG, 0));
        let download = Download::new(&mut rng);
        let mut a = Attacks {
            cfg: *cfg,
            phase_ns,
            segment_packets,
            window: 0,
            kind: Phase::Normal,
            end: 0,
            rng,
            queue: BinaryHeap::with_capacity(QUEUE_CAP),
            scheduled: 0,
            primary: None,
            ports,
            next_port: 0,
            scan_sport: 0,
            download,
            overlay: None,
            overlay_end: 0,
        };
        let first = TIMELINE.iter().position(|p| *p != Phase::Normal);
        a.open(first.unwrap_or(1) as u64);
        a
    }

    /// Makes phase number `window` (an attack phase) the current window.
    fn open(&mut self, window: u64) {
        self.window = window;
        self.kind = TIMELINE[(window % TIMELINE.len() as u64) as usize];
        let start = self
            .cfg
            .start
            .nanos()
            .saturating_add(window.saturating_mul(self.phase_ns));
        self.end = start.saturating_add(self.phase_ns);
        self.rng = Rng::new(derive_seed(self.cfg.seed, WINDOW_TAG, window));
        self.queue.clear();
        let rng = &mut self.rng;
        self.primary = None;
        match self.kind {
            Phase::Normal => {}
            Phase::PortScan => {
                // Fisher–Yates: nmap probes the ports in a random order.
                for i in (1..self.ports.len()).rev() {
                    let j = rng.below(i as u64 + 1) as usize;
                    self.ports.swap(i, j);
                }
                self.next_port = 0;
                self.scan_sport = rng.range(33_000, 65_000) as u16;
                let first = start + jitter(rng, self.cfg.scan_ports_per_sec, 0.0, 1.0);
                self.continue_until(first, LONGEST_ANSWER_NS);
            }
            Phase::SynFlood => {
                let first = start + jitter(rng, self.cfg.flood_pps, 0.0, 1.0);
                self.continue_until(first, FLOOD_TAIL_NS);
            }
            Phase::Spike => {
                // Phases last at least a second: the whole handshake fits.
                self.download = Download::new(rng);
                self.primary = Some(start + rng.range(1_000_000, 5_000_000));
                self.open_overlay(start);
            }
        }
    }

    /// Starts or resumes the Spike's extra background at `start`.
    fn open_overlay(&mut self, start: u64) {
        let extra = self.cfg.background_pps * (self.cfg.spike_factor - 1.0);
        if extra <= 0.0 {
            return;
        }
        match &mut self.overlay {
            Some(overlay) => overlay.skip(self.overlay_end, start),
            None => {
                let plan = StreamPlan {
                    first_seed: derive_seed(self.cfg.seed, OVERLAY_TAG, 0),
                    seed: self.cfg.seed,
                    tag: OVERLAY_TAG,
                    pps: extra,
                    segment_packets: self.segment_packets,
                };
                self.overlay = Some(GenStream::new(plan, Timestamp(start)));
            }
        }
        self.overlay_end = self.end;
    }

    /// Time of the next attack frame (moving on to the next attack window when this one is
    /// done).
    pub(super) fn peek(&mut self) -> Timestamp {
        Timestamp(self.next().0)
    }

    /// The next attack frame's time and source; opens later windows as needed. Every Spike
    /// window has a download, so this opens three windows at most.
    fn next(&mut self) -> (u64, Source) {
        loop {
            if let Some(next) = self.next_in_window() {
                return next;
            }
            self.open(self.window + 2);
        }
    }

    fn next_in_window(&mut self) -> Option<(u64, Source)> {
        let mut best = self.primary.map(|ts| (ts, Source::Primary));
        if let Some(Reverse(e)) = self.queue.peek()
            && best.is_none_or(|(ts, _)| e.ts < ts)
        {
            best = Some((e.ts, Source::Queue));
        }
        if self.kind == Phase::Spike
            && let Some(overlay) = &mut self.overlay
        {
            // A frame at or after the window's end waits for the next Spike.
            let ts = overlay.peek().nanos();
            if ts < self.end && best.is_none_or(|(b, _)| ts < b) {
                best = Some((ts, Source::Overlay));
            }
        }
        best
    }

    /// Writes the next attack frame (the one [`Attacks::peek`] announced) into `buf`.
    pub(super) fn emit(&mut self, buf: &mut Vec<u8>) -> GeneratedFrame {
        buf.clear();
        let (ts, source) = self.next();
        match source {
            Source::Primary => match self.kind {
                Phase::PortScan => self.scan_probe(ts, buf),
                Phase::SynFlood => self.flood_syn(ts, buf),
                Phase::Spike => self.download_step(ts, buf),
                Phase::Normal => self.primary = None,
            },
            Source::Queue => {
                if let Some(Reverse(e)) = self.queue.pop() {
                    self.answer(e, buf);
                }
            }
            Source::Overlay => {
                if let Some(overlay) = &mut self.overlay {
                    return overlay.take(buf);
                }
            }
        }
        GeneratedFrame {
            ts: Timestamp(ts),
            wire_len: buf.len() as u32,
            linktype: LinkType::ETHERNET,
        }
    }

    /// Queues a frame due at `ts` (dropped if the queue is full, which the rate caps prevent).
    fn schedule(&mut self, ts: u64, what: What) {
        if self.queue.len() < QUEUE_CAP {
            self.scheduled += 1;
            self.queue.push(Reverse(Event {
                ts,
                order: self.scheduled,
                what,
            }));
        }
    }

    /// Sets the next primary time to `next`, or ends the primary stream if that is within
    /// `tail` of the window's end.
    fn continue_until(&mut self, next: u64, tail: u64) {
        self.primary = (next < self.end.saturating_sub(tail)).then_some(next);
    }

    fn scan_probe(&mut self, ts: u64, buf: &mut Vec<u8>) {
        let port = self.ports[self.next_port.min(self.ports.len() - 1)];
        self.next_port += 1;
        let rng = &mut self.rng;
        let seq = rng.next_u32();
        let ip = Ip4 {
            src: SCANNER,
            dst: SCAN_TARGET,
            ttl: nmap_ttl(rng),
            id: rng.next_u32() as u16,
            df: false,
        };
        let syn = TcpSegment {
            src_port: self.scan_sport,
            dst_port: port,
            seq,
            flags: SYN,
            window: 1024,
            options: TcpOptions {
                mss: Some(MSS),
                ..TcpOptions::default()
            },
            ..TcpSegment::default()
        };
        tcp_frame(buf, ip, syn);
        let answer = ts + lan_delay(rng);
        let next = ts + jitter(rng, self.cfg.scan_ports_per_sec, 0.5, 1.5);
        let probe_seq = seq;
        self.schedule(answer, What::ScanAnswer { port, probe_seq });
        if self.next_port < self.ports.len() {
            self.continue_until(next, LONGEST_ANSWER_NS);
        } else {
            self.primary = None;
        }
    }

    fn flood_syn(&mut self, ts: u64, buf: &mut Vec<u8>) {
        let rng = &mut self.rng;
        let host = rng.below(1 << (32 - u32::from(FLOOD_SOURCE_PREFIX))) as u32;
        let src = u32::from(FLOOD_SOURCE_NET) | host;
        let sport = rng.range(1024, 65_535) as u16;
        let syn_seq = rng.next_u32();
        let ip = Ip4 {
            src: Ipv4Addr::from(src),
            dst: FLOOD_TARGET,
            ttl: rng.range(44, 60) as u8,
            id: rng.next_u32() as u16,
            df: false,
        };
        let syn = TcpSegment {
            src_port: sport,
            dst_port: FLOOD_PORT,
            seq: syn_seq,
            flags: SYN,
            // hping3's default window, and no options.
            window: 64,
            ..TcpSegment::default()
        };
        tcp_frame(buf, ip, syn);
        let answered = rng.chance(FLOOD_SYN_ACK_PER_MILLE);
        let answer = ts + lan_delay(rng);
        let next = ts + jitter(rng, self.cfg.flood_pps, 0.0, 2.0);
        if answered {
            let what = What::FloodSynAck {
                src,
                sport,
                syn_seq,
            };
            self.schedule(answer, what);
        }
        self.continue_until(next, FLOOD_TAIL_NS);
    }

    fn download_step(&mut self, ts: u64, buf: &mut Vec<u8>) {
        let rate = self.cfg.background_pps * SPIKE_TRANSFER_SHARE;
        let stop = self.end.saturating_sub(LONGEST_ANSWER_NS);
        let After { next, ack } = self.download.step(&mut self.rng, ts, rate, stop, buf);
        if let Some((due, ack)) = ack {
            self.schedule(due, What::DownloadAck { ack });
        }
        self.primary = next;
    }

    /// Writes a queued answer.
    fn answer(&mut self, e: Event, buf: &mut Vec<u8>) {
        let rng = &mut self.rng;
        match e.what {
            What::ScanAnswer { port, probe_seq } => {
                let ip = Ip4 {
                    src: SCAN_TARGET,
                    dst: SCANNER,
                    ttl: 64,
                    id: 0,
                    df: true,
                };
                let mut seg = TcpSegment {
                    src_port: port,
                    dst_port: self.scan_sport,
                    ack: probe_seq.wrapping_add(1),
                    flags: RST | ACK,
                    window: 0,
                    ..TcpSegment::default()
                };
                if SCAN_OPEN_PORTS.contains(&port) {
                    // Linux answers an option-poor SYN with only the MSS option.
                    seg.flags = SYN | ACK;
                    seg.seq = rng.next_u32();
                    seg.window = 64240;
                    seg.options.mss = Some(MSS);
                    let reset = e.ts + wan_rtt(rng);
                    self.schedule(reset, What::ScanReset { port, probe_seq });
                }
                tcp_frame(buf, ip, seg);
            }
            What::ScanReset { port, probe_seq } => {
                let ip = Ip4 {
                    src: SCANNER,
                    dst: SCAN_TARGET,
                    ttl: nmap_ttl(rng),
                    id: rng.next_u32() as u16,
                    df: false,
                };
                let seg = TcpSegment {
                    src_port: self.scan_sport,
                    dst_port: port,
                    seq: probe_seq.wrapping_add(1),
                    flags: RST,
                    window: 0,
                    ..TcpSegment::default()
                };
                tcp_frame(buf, ip, seg);
            }
            What::FloodSynAck {
                src,
                sport,
                syn_seq,
            } => {
                let ip = Ip4 {
                    src: FLOOD_TARGET,
                    dst: Ipv4Addr::from(src),
                    ttl: 64,
                    id: 0,
                    df: true,
                };
                let seg = TcpSegment {
                    src_port: FLOOD_PORT,
                    dst_port: sport,
                    seq: rng.next_u32(),
                    ack: syn_seq.wrapping_add(1),
                    flags: SYN | ACK,
                    window: 64240,
                    options: TcpOptions {
                        mss: Some(MSS),
                        ..TcpOptions::default()
                    },
                    ..TcpSegment::default()
                };
                tcp_frame(buf, ip, seg);
            }
            What::DownloadAck { ack } => self.download.ack(e.ts, ack, buf),
        }
    }
}
