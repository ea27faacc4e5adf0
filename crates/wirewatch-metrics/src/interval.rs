//! Closes intervals of packet time and produces their metrics.

use crate::apps::AppCounters;
use crate::counters::PacketCounters;
use crate::ports::{PortProto, PortSet};
use crate::tcp::TcpIntervalHealth;
use crate::totals::RunTotals;
use serde::{Deserialize, Serialize};
use wirewatch_core::proto::tcp_flags::ACK;
use wirewatch_core::time::NANOS_PER_SEC;
use wirewatch_core::{IntervalMetrics, Timestamp};
use wirewatch_decode::{Packet, Transport};
use wirewatch_flow::{FlowTableStats, Ingested};

/// Interval metrics settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Interval length in milliseconds (1 s by default; longer windows are roll-ups).
    pub interval_ms: u64,
    /// How many top sources/destinations each interval reports.
    pub top_n: usize,
    /// Addresses counted exactly per interval before the heavy-hitter sketch takes over. 65,536
    /// entries cost about 3 MB and cover any normal network second; a spoofed flood beyond it
    /// is summarised, not stored.
    pub talker_cap: usize,
    /// A silent gap of up to this many intervals is reported as empty intervals; a longer gap
    /// (a capture spanning days, or concatenated traces) is skipped, so a file with a 10-year
    /// gap does not produce 300 million empty records. Over a whole run, gaps longer than
    /// [`SHORT_GAP_INTERVALS`] are filled for at most [`MAX_LONG_GAP_FILL`] intervals in all;
    /// later ones are skipped too, so a small file of packets an hour apart cannot make
    /// millions of intervals either.
    pub max_empty_intervals: u64,
}

/// A gap of at most this many intervals is always filled (a quiet minute on a link).
pub const SHORT_GAP_INTERVALS: u64 = 60;
/// Empty intervals filled in longer gaps over a run (a day of one-second intervals).
pub const MAX_LONG_GAP_FILL: u64 = 86_400;

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            interval_ms: 1000,
            top_n: 10,
            talker_cap: 65_536,
            max_empty_intervals: 3600,
        }
    }
}

impl MetricsConfig {
    /// Interval length in nanoseconds (at least 1 ms).
    pub fn interval_ns(&self) -> u64 {
        self.interval_ms.max(1).saturating_mul(NANOS_PER_SEC / 1000)
    }
}

fn ns_to_ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// Flow counts of the open interval.
#[derive(Debug, Clone, Copy, Default)]
struct FlowCounts {
    new: u64,
    active: u64,
}

/// Accumulates packets into the open interval and closes intervals on packet time.
pub struct IntervalAggregator {
    interval_ns: u64,
    top_n: usize,
    max_empty: u64,
    /// Empty intervals long gaps may still fill this run (see [`MAX_LONG_GAP_FILL`]).
    long_gap_fill_left: u64,
    start: Option<Timestamp>,
    counters: PacketCounters,
    flows: FlowCounts,
    /// Packets per application protocol in the open interval.
    apps: AppCounters,
    /// Destination ports of the initiators' packets in the open interval.
    ports: PortSet,
    /// Retransmissions, out-of-order segments and handshake RTTs of the open interval.
    tcp: TcpIntervalHealth,
    /// Flow-table counters when the previous interval closed, to report per-interval deltas.
    last_flow_stats: FlowTableStats,
    /// Totals over the whole run.
    totals: RunTotals,
}

impl IntervalAggregator {
    /// A new aggregator; the first packet opens the first interval.
    pub fn new(config: &MetricsConfig) -> Self {
        IntervalAggregator {
            interval_ns: config.interval_ns(),
            top_n: config.top_n,
            max_empty: config.max_empty_intervals,
            long_gap_fill_left: MAX_LONG_GAP_FILL,
            start: None,
            counters: PacketCounters::new(config.talker_cap),
            flows: FlowCounts::default(),
            apps: AppCounters::default(),
            ports: PortSet::default(),
            tcp: TcpIntervalHealth::default(),
            last_flow_stats: FlowTableStats::default(),
            totals: RunTotals::default(),
        }
    }

    /// Totals over the whole run. Address tables include closed intervals only.
    pub fn totals(&self) -> &RunTotals {
        &self.totals
    }

    /// Interval length in nanoseconds.
    pub fn interval_ns(&self) -> u64 {
        self.interval_ns
    }

    /// End (exclusive) of the open interval, `None` before the first packet.
    pub fn current_end(&self) -> Option<Timestamp> {
        self.start.map(|s| s.plus(self.interval_ns))
    }

    /// Whether a packet at `ts` falls after the open interval (so it must close first).
    #[inline]
    pub fn must_close_before(&self, ts: Timestamp) -> bool {
        self.current_end().is_some_and(|end| ts >= end)
    }

    /// Opens the interval containing `ts` if none is open.
    #[inline]
    pub fn ensure_open(&mut self, ts: Timestamp) {
        if self.start.is_none() {
            self.start = Some(ts.floor_to(self.interval_ns));
        }
    }

    /// Counts one packet in the open interval (opening it if needed). Packets older than the
    /// open interval (timestamps going backwards) are counted in it too.
    #[inline]
    pub fn record_packet(
        &mut self,
        pkt: &Packet,
        wire_len: u32,
        captured_len: u32,
        ts: Timestamp,
        flow: Option<Ingested>,
    ) {
        self.ensure_open(ts);
        self.counters.record(pkt, wire_len, captured_len);
        self.totals.record(pkt, wire_len, captured_len, ts);
        if let Some(f) = flow {
            self.flows.new += u64::from(f.new_flow);
            self.flows.active += u64::from(f.first_in_epoch);
            self.apps.record(f.app, wire_len);
            self.tcp.record(&f.tcp);
            // Ports that connection attempts target: the initiator's TCP segments without ACK
            // (SYNs, and the FIN/NULL/Xmas probes of stealth scans) and UDP datagrams. Segments
            // with ACK are left out, so a flow picked up mid-stream from its server side (its
            // "initiator" then talks to an ephemeral client port) does not count.
            if f.forward {
                match pkt.transport {
                    Transport::Tcp(t) if t.flags & ACK == 0 => {
                        self.ports.insert(PortProto::Tcp, t.dst_port);
                    }
                    Transport::Udp(u) => {
                        self.ports.insert(PortProto::Udp, u.dst_port);
                    }
                    _ => {}
                }
            }
        }
    }

    /// Counts the TCP flags of a packet found inside a tunnel whose frame showed no TCP header
    /// of its own (the frame is already counted): a frame's flags are those of its first TCP
    /// header, as tshark's `tcp.flags` of the frame.
    pub fn record_tunnelled_tcp_flags(&mut self, flags: u8, ts: Timestamp) {
        self.ensure_open(ts);
        self.counters.tcp_flags.add(flags);
        self.totals.counters.tcp_flags.add(flags);
    }

    /// Closes the open interval and returns its metrics; `flows` are the flow table's counters
    /// at the close. The next interval opens right after it, or — when `next_ts` lies more than
    /// `max_empty_intervals` ahead — at the interval containing `next_ts`.
    pub fn close(
        &mut self,
        flows: FlowTableStats,
        next_ts: Option<Timestamp>,
    ) -> Option<IntervalMetrics> {
        let start = self.start?;
        let c = &self.counters;
        let secs = self.interval_ns as f64 / NANOS_PER_SEC as f64;
        let approximate = c.sources.is_approximate() || c.destinations.is_approximate();
        let metrics = IntervalMetrics {
            start_ts: start,
            duration_ns: self.interval_ns,
            packets: c.packets,
            bytes: c.bytes,
            bps: c.bytes as f64 * 8.0 / secs,
            pps: c.packets as f64 / secs,
            protocols: c.protocols,
            tcp_flags: c.tcp_flags,
            distinct_src_ips: c.sources.distinct(),
            distinct_dst_ips: c.destinations.distinct(),
            distinct_dst_ports: self.ports.distinct(),
            src_entropy: c.sources.entropy_bits(),
            dst_entropy: c.destinations.entropy_bits(),
            flows_new: self.flows.new,
            flows_active: self.flows.active,
            flows_closed: flows.finished.saturating_sub(self.last_flow_stats.finished),
            flows_live: flows.live,
            flows_evicted: flows.evicted.saturating_sub(self.last_flow_stats.evicted),
            decode_errors: c.decode_error_total(),
            drops: Default::default(),
            top_sources_by_bytes: c.sources.top_by_bytes(self.top_n),
            top_sources_by_packets: c.sources.top_by_packets(self.top_n),
            top_destinations_by_bytes: c.destinations.top_by_bytes(self.top_n),
            top_destinations_by_packets: c.destinations.top_by_packets(self.top_n),
            talkers_approximate: approximate,
            apps: self.apps.to_vec(),
            host_names: Vec::new(),
            reputations: Vec::new(),
            tcp_retransmissions: self.tcp.retransmissions,
            tcp_out_of_order: self.tcp.out_of_order,
            tcp_handshakes_timed: self.tcp.handshake_rtts.count(),
            tcp_rtt_p50_ms: self.tcp.handshake_rtts.quantile(0.5).map(ns_to_ms),
            tcp_rtt_p95_ms: self.tcp.handshake_rtts.quantile(0.95).map(ns_to_ms),
        };
        self.tcp.clear();
        self.totals.apps.merge(&self.apps);
        self.apps.clear();
        self.ports.clear();
        self.totals.absorb_interval(&self.counters);
        self.counters.clear();
        self.flows = FlowCounts::default();
        self.last_flow_stats = flows;
        let next = start.plus(self.interval_ns);
        self.start = Some(match next_ts {
            Some(ts) => {
                let gap = ts.since(next) / self.interval_ns;
                let long = gap > SHORT_GAP_INTERVALS;
                if gap > self.max_empty || (long && self.long_gap_fill_left == 0) {
                    let resume = ts.floor_to(self.interval_ns);
                    self.totals.intervals_skipped += resume.since(next) / self.interval_ns;
                    resume
                } else {
                    // Each interval filled inside a long gap spends the run's allowance.
                    if long {
                        self.long_gap_fill_left -= 1;
                    }
                    next
                }
            }
            None => next,
        });
        Some(metrics)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

    use super::*;
    use std::net::IpAddr;
    use wirewatch_core::ProtoClass;
    use wirewatch_core::proto::tcp_flags::{FIN, PSH, RST, SYN};
    use wirewatch_decode::{Network, TcpInfo, UdpInfo};
    use wirewatch_flow::{FlowConfig, FlowTable};

    const SEC: u64 = 1_000_000_000;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn packet(src: &str, dst: &str, transport: Transport) -> Packet {
        let (class, ip_proto) = match transport {
            Transport::Udp(_) => (ProtoClass::Udp, 17),
            _ => (ProtoClass::Tcp, 6),
        };
        Packet {
            class,
            network: Network::Ipv4,
            has_src: true,
            has_dst: true,
            src: ip(src),
            dst: ip(dst),
            ip_proto,
            transport,
            ..Packet::default()
        }
    }

    fn tcp(src: &str, sport: u16, dst: &str, dport: u16, flags: u8) -> Packet {
        packet(
            src,
            dst,
            Transport::Tcp(TcpInfo {
                src_port: sport,
                dst_port: dport,
                seq: 0,
                ack: 0,
                flags,
                window: 1024,
                header_len: 20,
                options: Default::default(),
            }),
        )
    }

    fn udp(src: &str, sport: u16, dst: &str, dport: u16) -> Packet {
        packet(
            src,
            dst,
            Transport::Udp(UdpInfo {
                src_port: sport,
                dst_port: dport,
                length: 40,
            }),
        )
    }

    /// Runs `packets` (all in the interval starting at 10 s) through a flow table and an
    /// aggregator and returns that interval.
    fn one_interval(packets: &[Packet]) -> IntervalMetrics {
        let mut agg = IntervalAggregator::new(&MetricsConfig::default());
        let mut flows = FlowTable::new(&FlowConfig::default());
        for (i, p) in packets.iter().enumerate() {
            let ts = Timestamp(10 * SEC + i as u64);
            let ing = flows.ingest(p, 60, ts);
            agg.record_packet(p, 60, 60, ts, ing);
        }
        agg.close(flows.stats(), None).unwrap()
    }

    #[test]
    fn distinct_dst_ports_count_services_not_answers() {
        let mut pkts = Vec::new();
        // A SYN scan of 100 ports, each closed port answering RST-ACK to the scanner's port.
        for port in 1..=100 {
            pkts.push(tcp("203.0.113.66", 40000, "10.1.0.10", port, SYN));
            pkts.push(tcp("10.1.0.10", port, "203.0.113.66", 40000, RST | ACK));
        }
        // DNS on UDP 53 from two clients (TCP 53, probed above, counts apart), and TCP 8080.
        pkts.push(udp("10.0.0.1", 5000, "10.0.0.53", 53));
        pkts.push(udp("10.0.0.53", 53, "10.0.0.1", 5000));
        pkts.push(udp("10.0.0.2", 5001, "10.0.0.53", 53));
        pkts.push(tcp("10.0.0.2", 5002, "10.0.0.53", 8080, SYN));
        // A flow picked up mid-stream from the server side: its ACKs to the client's port do
        // not count, nor do the data segments of the connection above.
        pkts.push(tcp("198.18.0.1", 443, "10.0.0.3", 51000, ACK | PSH));
        pkts.push(tcp("10.0.0.2", 5002, "10.0.0.53", 8080, ACK));
        // A stealth (FIN) probe counts.
        pkts.push(tcp("203.0.113.66", 40000, "10.1.0.10", 2000, FIN));
        let m = one_interval(&pkts);
        assert_eq!(m.distinct_dst_ports, 100 + 1 + 1 + 1);
        // The next interval starts from nothing.
        let mut agg = IntervalAggregator::new(&MetricsConfig::default());
        let mut flows = FlowTable::new(&FlowConfig::default());
        let p = &pkts[0];
        let ing = flows.ingest(p, 60, Timestamp(0));
        agg.record_packet(p, 60, 60, Timestamp(0), ing);
        assert_eq!(
            agg.close(flows.stats(), None).unwrap().distinct_dst_ports,
            1
        );
        let empty = agg.close(flows.stats(), None).unwrap();
        assert_eq!(empty.distinct_dst_ports, 0);
    }

    #[test]
    fn packets_without_a_flow_do_not_count_ports() {
        let mut agg = IntervalAggregator::new(&MetricsConfig::default());
        agg.record_packet(
            &udp("10.0.0.1", 1, "10.0.0.2", 2),
            60,
            60,
            Timestamp(0),
            None,
        );
        let m = agg.close(FlowTableStats::default(), None).unwrap();
        assert_eq!(m.distinct_dst_ports, 0);
    }

    #[test]
    fn entropy_of_sources_and_destinations() {
        // Four sources with one packet each to one destination: 2 bits and 0 bits.
        let pkts: Vec<Packet> = (1..=4)
            .map(|i| udp(&format!("10.0.0.{i}"), 5000, "10.0.0.53", 53))
            .collect();
        let m = one_interval(&pkts);
        assert!((m.src_entropy - 2.0).abs() < 1e-12, "{}", m.src_entropy);
        assert_eq!(m.dst_entropy, 0.0);
        assert!(!m.talkers_approximate);
        // An empty interval has no entropy.
        let mut agg = IntervalAggregator::new(&MetricsConfig::default());
        agg.ensure_open(Timestamp(0));
        let m = agg.close(FlowTableStats::default(), None).unwrap();
        assert_eq!((m.src_entropy, m.dst_entropy), (0.0, 0.0));
    }

    #[allow(clippy::too_many_arguments)] // a segment's fields, spelled out
    fn segment(
        src: &str,
        sport: u16,
        dst: &str,
        dport: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        len: u32,
    ) -> Packet {
        let mut p = tcp(src, sport, dst, dport, flags);
        if let Transport::Tcp(t) = &mut p.transport {
            t.seq = seq;
            t.ack = ack;
        }
        p.payload_len = len;
        p
    }

    #[test]
    fn tcp_health_of_the_interval() {
        let mut agg = IntervalAggregator::new(&MetricsConfig::default());
        let mut flows = FlowTable::new(&FlowConfig::default());
        let mut feed = |p: &Packet, ms: u64| {
            let ts = Timestamp(10 * SEC + ms * 1_000_000);
            let ing = flows.ingest(p, 60, ts);
            agg.record_packet(p, 60, 60, ts, ing);
        };
        // Ten connections with handshake RTTs of 1..=10 ms; the first resends its data twice,
        // the second delivers two segments out of order.
        for i in 0..10u16 {
            let c = format!("10.0.0.{}", i + 1);
            let t0 = u64::from(i) * 50;
            let rtt = u64::from(i) + 1;
            feed(&segment(&c, 40000, "10.9.9.9", 80, 100, 0, SYN, 0), t0);
            feed(
                &segment("10.9.9.9", 80, &c, 40000, 900, 101, SYN | ACK, 0),
                t0 + rtt / 2,
            );
            feed(
                &segment(&c, 40000, "10.9.9.9", 80, 101, 901, ACK, 0),
                t0 + rtt,
            );
            match i {
                0 => {
                    feed(
                        &segment(&c, 40000, "10.9.9.9", 80, 101, 901, ACK, 10),
                        t0 + 2,
                    );
                    feed(
                        &segment(&c, 40000, "10.9.9.9", 80, 101, 901, ACK, 10),
                        t0 + 20,
                    );
                    feed(
                        &segment(&c, 40000, "10.9.9.9", 80, 101, 901, ACK, 10),
                        t0 + 40,
                    );
                }
                1 => {
                    feed(
                        &segment(&c, 40000, "10.9.9.9", 80, 111, 901, ACK, 10),
                        t0 + 3,
                    );
                    feed(
                        &segment(&c, 40000, "10.9.9.9", 80, 101, 901, ACK, 10),
                        t0 + 3,
                    );
                }
                _ => {}
            }
        }
        let m = agg.close(flows.stats(), None).unwrap();
        assert_eq!(m.tcp_retransmissions, 2);
        assert_eq!(m.tcp_out_of_order, 1);
        assert_eq!(m.tcp_handshakes_timed, 10);
        assert_eq!(m.tcp_rtt_p50_ms, Some(5.0));
        assert_eq!(m.tcp_rtt_p95_ms, Some(10.0));
        // The next interval starts from nothing.
        let next = agg.close(flows.stats(), None).unwrap();
        assert_eq!(
            (next.tcp_retransmissions, next.tcp_handshakes_timed),
            (0, 0)
        );
        assert_eq!(next.tcp_rtt_p50_ms, None);
    }

    #[test]
    fn entropy_is_estimated_beyond_the_talker_cap() {
        let cfg = MetricsConfig {
            talker_cap: 256,
            ..MetricsConfig::default()
        };
        let mut agg = IntervalAggregator::new(&cfg);
        // 4,096 spoofed sources, one SYN each: log2(4096) = 12 bits.
        for i in 0..4096u32 {
            let src = std::net::Ipv4Addr::from(0x6440_0000 + i).to_string();
            let p = tcp(&src, 1000, "10.1.0.20", 80, SYN);
            agg.record_packet(&p, 60, 60, Timestamp(u64::from(i)), None);
        }
        let m = agg.close(FlowTableStats::default(), None).unwrap();
        assert!(m.talkers_approximate);
        assert!((m.src_entropy - 12.0).abs() < 0.2, "{}", m.src_entropy);
        assert_eq!(m.dst_entropy, 0.0);
    }
}
