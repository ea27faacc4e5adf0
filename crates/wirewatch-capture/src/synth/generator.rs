//! The seeded traffic generator: a realistic, deterministic mix of interleaved flows, with a
//! running ground-truth summary of what it produced.
//!
//! Owns scheduling (which flow speaks next, when flows start and end), packet time, and the
//! summary. Memory is bounded by [`MAX_ACTIVE_FLOWS`] live flows and fixed address pools, never
//! by the number of packets or flows asked for; frames go into the caller's buffer.
//!
//! The capture starts mid-stream, like a real one: the first flows have already sent a random
//! part of their script when it begins, and flows still live at the end are cut off.
//!
//! Same configuration, same bytes: every choice comes from one seeded [`Rng`].

use super::build::{ArpPacket, BROADCAST_MAC, Body, FrameSpec};
use super::flow::{Ctx, Flow, Kind};
use super::pcap_writer::PcapWriter;
use super::pools::{GATEWAY_MAC, GATEWAY_V4, Pools, Role};
use super::rng::Rng;
use std::io::{self, Write};
use wirewatch_core::proto::tcp_flags::{ACK, FIN, RST, SYN};
use wirewatch_core::{LinkType, Timestamp};

/// Most flows live at once. Enough interleaving to look like a busy link; small enough (about
/// 80 KB of state) to stay in cache whatever the run length.
pub const MAX_ACTIVE_FLOWS: usize = 1024;
/// One frame in this many is ARP (about 0.2%, a quiet LAN).
const ARP_ONE_IN: u64 = 500;
/// Snapshot length written by [`write_pcap`]; every generated frame fits.
const SNAPLEN: u32 = 65_535;
/// 2024-01-01T00:00:00Z, the default start of packet time.
const DEFAULT_START_SECS: u64 = 1_704_067_200;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeneratorConfig {
    /// Seed of every random choice; the same configuration always gives the same bytes.
    pub seed: u64,
    /// Frames to produce (exactly).
    pub packets: u64,
    /// Flows (bidirectional 5-tuples) to aim for; the result is close to this, not exact.
    pub flows: u64,
    /// Time of the first frame.
    pub start: Timestamp,
    /// Average frame rate; gaps are jittered uniformly between 0 and twice the mean. Values that
    /// are not finite and positive mean the default.
    pub packets_per_second: f64,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        GeneratorConfig {
            seed: 1,
            packets: 100_000,
            flows: 2_000,
            start: Timestamp::from_secs_nanos(DEFAULT_START_SECS, 0),
            packets_per_second: 20_000.0,
        }
    }
}

/// One generated frame; its bytes are in the buffer passed to [`Generator::next_frame`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneratedFrame {
    /// Packet time.
    pub ts: Timestamp,
    /// Length on the wire (the whole frame is in the buffer).
    pub wire_len: u32,
    /// Link type of the frame (always Ethernet).
    pub linktype: LinkType,
}

/// Ground truth of everything generated so far, counted as tshark would count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GenerateSummary {
    /// Frames.
    pub packets: u64,
    /// Sum of wire lengths.
    pub bytes: u64,
    /// Frames whose outermost IP protocol is TCP.
    pub tcp: u64,
    /// ... UDP.
    pub udp: u64,
    /// ... ICMP.
    pub icmp: u64,
    /// ... ICMPv6.
    pub icmpv6: u64,
    /// ... another IP protocol (the generator makes none).
    pub other_ip: u64,
    /// Frames that are not IP (ARP).
    pub non_ip: u64,
    /// TCP segments with SYN set and ACK clear.
    pub tcp_syn: u64,
    /// TCP segments with SYN and ACK set.
    pub tcp_syn_ack: u64,
    /// TCP segments with RST set.
    pub tcp_rst: u64,
    /// TCP segments with FIN set.
    pub tcp_fin: u64,
    /// Distinct bidirectional 5-tuples that sent at least one frame (TCP, UDP and ICMP echo;
    /// echo flows are keyed by their identifier).
    pub flows: u64,
    /// Of `flows`, TCP connections.
    pub tcp_flows: u64,
    /// Of `flows`, UDP (DNS) exchanges.
    pub udp_flows: u64,
    /// Of `flows`, ICMP and ICMPv6 echo flows.
    pub icmp_flows: u64,
    /// Frames with at least one VLAN tag.
    pub vlan_frames: u64,
    /// Frames whose outermost IP header is IPv6.
    pub ipv6_frames: u64,
    /// Distinct source addresses of the outermost IP headers.
    pub distinct_src_ips: u64,
    /// Distinct destination addresses of the outermost IP headers.
    pub distinct_dst_ips: u64,
}

/// The generator. Create it with [`Generator::new`] and call [`Generator::next_frame`] until it
/// returns `None`.
#[derive(Debug)]
pub struct Generator {
    cfg: GeneratorConfig,
    ctx: Ctx,
    active: Vec<Flow>,
    emitted: u64,
    /// Flows created so far (live, finished, or prefilled).
    started: u64,
    /// Sum of the planned packets left in live flows.
    outstanding: u64,
    /// Packets the run is expected to leave unsent in flows cut off at the end.
    tail_allowance: u64,
    clock_ns: f64,
    mean_gap_ns: f64,
    arp_pending: Option<u32>,
    summary: GenerateSummary,
}

impl Generator {
    /// A generator for `cfg`. Starting costs a few milliseconds at most (it fast-forwards the
    /// flows that are already live when the capture starts).
    pub fn new(cfg: GeneratorConfig) -> Self {
        let flows = cfg.flows.max(1);
        let pps = if cfg.packets_per_second.is_finite() && cfg.packets_per_second > 0.0 {
            cfg.packets_per_second
        } else {
            GeneratorConfig::default().packets_per_second
        };
        let live = (flows / 2)
            .min(cfg.packets / 16)
            .clamp(1, MAX_ACTIVE_FLOWS as u64);
        let mean_len = (cfg.packets / flows).max(2);
        let mut g = Generator {
            cfg,
            ctx: Ctx {
                rng: Rng::new(cfg.seed),
                pools: Pools::new(flows),
                ms: 0,
                head: Vec::with_capacity(256),
            },
            active: Vec::with_capacity(live as usize),
            emitted: 0,
            started: 0,
            outstanding: 0,
            tail_allowance: live.saturating_mul(mean_len) / 2,
            clock_ns: 0.0,
            mean_gap_ns: 1e9 / pps,
            arp_pending: None,
            summary: GenerateSummary::default(),
        };
        g.ctx.ms = g.millis(cfg.start);
        let mut scratch = Vec::with_capacity(2048);
        for _ in 0..live {
            let mut flow = g.new_flow();
            // Fast-forward: this flow began before the capture did.
            let skip = g.ctx.rng.below(u64::from(flow.budget));
            for _ in 0..skip {
                if flow.done() {
                    break;
                }
                scratch.clear();
                flow.emit(&mut g.ctx, &mut scratch);
            }
            flow.seen = false;
            if flow.done() {
                continue;
            }
            g.outstanding += u64::from(flow.budget);
            g.active.push(flow);
        }
        g
    }

    /// The configuration.
    pub fn config(&self) -> &GeneratorConfig {
        &self.cfg
    }

    /// Ground truth of the frames produced so far.
    pub fn summary(&self) -> GenerateSummary {
        let mut s = self.summary;
        s.distinct_src_ips = self.ctx.pools.distinct_src;
        s.distinct_dst_ips = self.ctx.pools.distinct_dst;
        s
    }

    fn millis(&self, ts: Timestamp) -> u32 {
        (ts.nanos() / 1_000_000) as u32
    }

    /// Creates a flow (not yet live) with a planned length that steers the run towards the
    /// configured number of flows.
    fn new_flow(&mut self) -> Flow {
        let rng = &mut self.ctx.rng;
        let kind = match rng.below(1000) {
            0..=689 => Kind::TcpFin,
            690..=729 => Kind::TcpRst,
            730..=744 => Kind::TcpRefused,
            745..=759 => Kind::TcpNoAnswer,
            760..=909 => Kind::Dns,
            910..=914 => Kind::DnsNoAnswer,
            _ => Kind::Echo,
        };
        let v6 = rng.chance(150);
        let vlan = if rng.chance(100) {
            if rng.chance(750) {
                1 + rng.below(3) as u8
            } else {
                4 + rng.below(2) as u8
            }
        } else {
            0
        };
        let left = self.cfg.packets - self.emitted.min(self.cfg.packets);
        let want = left
            .saturating_add(self.tail_allowance)
            .saturating_sub(self.outstanding);
        let flows_left = self.cfg.flows.saturating_sub(self.started).max(1);
        let mean = (want / flows_left).max(2) as f64;
        // Skewed lengths: many short flows, a few long ones (0.2x to 5x the mean, average 1x).
        // Only IEEE basic arithmetic, so every platform computes the same lengths.
        let u = rng.unit();
        let factor = 0.2 + 4.8 * (u * u) * (u * u) * u;
        let budget = (mean * factor).clamp(1.0, f64::from(u32::MAX)) as u32;
        self.started += 1;
        Flow::new(&mut self.ctx, kind, v6, vlan, budget)
    }

    /// Writes the next frame into `buf` (cleared first) and describes it, or returns `None`
    /// after `packets` frames.
    pub fn next_frame(&mut self, buf: &mut Vec<u8>) -> Option<GeneratedFrame> {
        if self.emitted >= self.cfg.packets {
            return None;
        }
        buf.clear();
        let ts = self.cfg.start.plus(self.clock_ns as u64);
        self.clock_ns += self.mean_gap_ns * 2.0 * self.ctx.rng.unit();
        self.ctx.ms = self.millis(ts);
        if self.ctx.rng.below(ARP_ONE_IN) == 0 {
            self.arp(buf);
        } else {
            self.flow_frame(buf);
        }
        self.emitted += 1;
        let s = &mut self.summary;
        s.packets += 1;
        s.bytes += buf.len() as u64;
        Some(GeneratedFrame {
            ts,
            wire_len: buf.len() as u32,
            linktype: LinkType::ETHERNET,
        })
    }

    fn flow_frame(&mut self, buf: &mut Vec<u8>) {
        if self.active.is_empty() {
            // Every planned flow has ended early: keep the link busy with extra flows.
            let flow = self.new_flow();
            self.outstanding += u64::from(flow.budget);
            self.active.push(flow);
        }
        let idx = self.ctx.rng.below(self.active.len() as u64) as usize;
        let flow = &mut self.active[idx];
        let before = flow.budget;
        let first = !flow.seen;
        let e = flow.emit(&mut self.ctx, buf);
        self.outstanding -= u64::from(before - flow.budget);
        let s = &mut self.summary;
        if first {
            s.flows += 1;
            match e.proto {
                6 => s.tcp_flows += 1,
                17 => s.udp_flows += 1,
                _ => s.icmp_flows += 1,
            }
        }
        match e.proto {
            6 => {
                s.tcp += 1;
                let f = e.tcp_flags;
                if f & SYN != 0 {
                    if f & ACK != 0 {
                        s.tcp_syn_ack += 1;
                    } else {
                        s.tcp_syn += 1;
                    }
                }
                s.tcp_rst += u64::from(f & RST != 0);
                s.tcp_fin += u64::from(f & FIN != 0);
            }
            17 => s.udp += 1,
            1 => s.icmp += 1,
            _ => s.icmpv6 += 1,
        }
        s.vlan_frames += u64::from(flow.tagged());
        s.ipv6_frames += u64::from(flow.v6);
        self.ctx.pools.see(e.src, e.dst);
        if flow.done() {
            self.outstanding -= u64::from(flow.budget);
            if self.started < self.cfg.flows {
                let next = self.new_flow();
                self.outstanding += u64::from(next.budget);
                self.active[idx] = next;
            } else {
                self.active.swap_remove(idx);
            }
        }
    }

    /// An ARP request from a client for the gateway, or the gateway's reply to the last one.
    fn arp(&mut self, buf: &mut Vec<u8>) {
        let pools = &self.ctx.pools;
        let spec = match self.arp_pending.take() {
            Some(client) => {
                let (mac, ip) = (pools.mac(client), v4(pools, client));
                FrameSpec::new(
                    GATEWAY_MAC,
                    mac,
                    Body::Arp(ArpPacket::reply(GATEWAY_MAC, GATEWAY_V4, mac, ip)),
                )
            }
            None => {
                let n = self
                    .ctx
                    .rng
                    .skewed(u64::from(pools.len(Role::Client, false)));
                let client = pools.id(Role::Client, false, n);
                self.arp_pending = Some(client);
                let (mac, ip) = (pools.mac(client), v4(pools, client));
                FrameSpec::new(
                    mac,
                    BROADCAST_MAC,
                    Body::Arp(ArpPacket::request(mac, ip, GATEWAY_V4)),
                )
            }
        };
        spec.build(buf);
        self.summary.non_ip += 1;
    }
}

/// The IPv4 address of an IPv4 pool member.
fn v4(pools: &Pools, id: u32) -> std::net::Ipv4Addr {
    match pools.addr(id) {
        std::net::IpAddr::V4(a) => a,
        std::net::IpAddr::V6(_) => GATEWAY_V4,
    }
}

/// Generates the whole capture for `cfg` into `w` as a nanosecond pcap with Ethernet link type,
/// and returns its ground truth. `w` is buffered internally.
pub fn write_pcap<W: Write>(cfg: &GeneratorConfig, w: W) -> io::Result<GenerateSummary> {
    write_pcap_snaplen(cfg, w, SNAPLEN)
}

/// Like [`write_pcap`], but stores at most `snaplen` bytes of each frame (the recorded wire
/// length stays whole, as in a real snaplen-limited capture). A small snaplen such as 128 keeps
/// every header and makes a multi-million-packet file several times smaller and faster to
/// write and read. The summary is unaffected: it counts wire lengths.
pub fn write_pcap_snaplen<W: Write>(
    cfg: &GeneratorConfig,
    w: W,
    snaplen: u32,
) -> io::Result<GenerateSummary> {
    let mut generator = Generator::new(*cfg);
    let mut out = PcapWriter::new(w, LinkType::ETHERNET, snaplen, true)?;
    let mut buf = Vec::with_capacity(2048);
    while let Some(frame) = generator.next_frame(&mut buf) {
        out.write_frame(frame.ts, &buf, frame.wire_len)?;
    }
    out.finish()?;
    Ok(generator.summary())
}
