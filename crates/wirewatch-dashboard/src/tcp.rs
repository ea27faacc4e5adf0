//! The dashboard's TCP panel ([`TcpPanel`]): the recent connections with the slowest
//! handshakes and with the most loss, and the hosts with the most retransmissions.
//!
//! Recent means a connection whose last packet fell in the current minute of packet time or
//! one of the [`BUCKETS`]` - 1` before it. Finished connections are kept by the minute of
//! their last packet in a ring of [`BUCKETS`] buckets, each holding only its best
//! [`MAX_TCP_ROWS`] by handshake RTT and by loss: the best over the window are among the
//! union of the buckets', so the tables are exact while nothing outlives the window. Live
//! connections are read from the flow table when a snapshot is built (one pass, records made
//! for the winners only), so a long slow connection shows before it ends. Hosts are counted
//! per bucket in a map of at most [`MAX_TCP_HOSTS`] addresses; a new address finding it full
//! drops the weaker half (fewest retransmissions, lost segments, connections in the window)
//! in one pass, counted, as the talker tables do.
//!
//! Must not: read the wall clock (time is the packets'), keep anything that grows with uptime.

use foldhash::fast::FixedState;
use std::collections::HashMap;
use std::net::IpAddr;
use wirewatch_core::{FlowRecord, TcpHealth, Timestamp};
use wirewatch_engine::pipeline::Engine;
use wirewatch_flow::{FlowKey, LiveTcp};
use wirewatch_web::snapshot::{MAX_TCP_ROWS, TcpConnection, TcpHost, TcpPanel};

/// Packet time one bucket covers: connections age out a minute at a time.
const BUCKET_NS: u64 = 60_000_000_000;
/// Buckets in the window: the current minute and the four before it, so a connection stays
/// 4 to 5 minutes after its last packet — long enough to be read, short enough to mean now.
pub const BUCKETS: usize = 5;
/// Addresses counted at most: every host of a busy site fits; each costs a few hundred bytes
/// (a counter set per bucket), about a megabyte in all.
pub const MAX_TCP_HOSTS: usize = 4096;

/// What the panel reads of the live flows: the engine's flow table (a stand-in in tests).
pub trait LiveFlows {
    /// The live TCP connections whose last packet is at or after `since`.
    fn live_tcp(&self, since: Timestamp) -> impl Iterator<Item = LiveTcp>;
    /// The record of a live flow, if it is still live.
    fn live_record(&self, key: &FlowKey) -> Option<FlowRecord>;
    /// The name learned from DNS answers for an address.
    fn host_name(&self, ip: IpAddr) -> Option<&str>;
}

impl LiveFlows for Engine {
    fn live_tcp(&self, since: Timestamp) -> impl Iterator<Item = LiveTcp> {
        Engine::live_tcp(self, since)
    }
    fn live_record(&self, key: &FlowKey) -> Option<FlowRecord> {
        Engine::live_record(self, key)
    }
    fn host_name(&self, ip: IpAddr) -> Option<&str> {
        Engine::host_name(self, ip)
    }
}

/// What a table ranks connections by.
#[derive(Clone, Copy)]
enum Rank {
    /// Handshake RTT in milliseconds (connections without one are left out).
    Slowest,
    /// Retransmitted plus lost segments (connections with neither are left out).
    Lossiest,
}

impl Rank {
    fn score(self, h: &TcpHealth) -> Option<f64> {
        match self {
            Rank::Slowest => h.handshake_rtt_ms(),
            Rank::Lossiest => {
                let n = h.retransmissions + h.lost_segments;
                (n > 0).then_some(n as f64)
            }
        }
    }
}

/// A connection in a top list: its row, or for a live one where to get it.
#[derive(Clone, Debug)]
enum Conn {
    Row(Box<TcpConnection>),
    Live(FlowKey),
}

/// The best [`MAX_TCP_ROWS`] connections by one rank: highest score first, then the most
/// recent; on a tie in both the one offered first stays ahead.
#[derive(Clone, Debug, Default)]
struct Top(Vec<(f64, Timestamp, Conn)>);

impl Top {
    /// Offers a connection; `conn` is made only if it gets in.
    fn offer(&mut self, score: f64, last_ts: Timestamp, conn: impl FnOnce() -> Conn) {
        let pos = self
            .0
            .partition_point(|(s, t, _)| *s > score || (*s == score && *t >= last_ts));
        if pos < MAX_TCP_ROWS {
            self.0.insert(pos, (score, last_ts, conn()));
            self.0.truncate(MAX_TCP_ROWS);
        }
    }

    fn merge(&mut self, other: &Top) {
        for (score, ts, conn) in &other.0 {
            self.offer(*score, *ts, || conn.clone());
        }
    }

    /// The rows, a live connection's made from its record now (gone ones left out).
    fn rows(self, live: &impl LiveFlows) -> Vec<TcpConnection> {
        self.0
            .into_iter()
            .filter_map(|(_, _, conn)| match conn {
                Conn::Row(row) => Some(*row),
                Conn::Live(key) => live
                    .live_record(&key)
                    .and_then(|f| f.tcp_health.map(|h| row(&f, &h, true))),
            })
            .collect()
    }
}

/// The finished connections of one minute: its best by each rank.
#[derive(Clone, Debug, Default)]
struct Bucket {
    minute: u64,
    slowest: Top,
    lossiest: Top,
}

/// A host's TCP counts (over one bucket, or summed over the window).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct HostCounts {
    connections: u64,
    retransmissions: u64,
    lost_segments: u64,
    out_of_order: u64,
    handshakes_timed: u64,
    rtt_sum_ns: u64,
}

impl HostCounts {
    fn of(h: &TcpHealth) -> HostCounts {
        HostCounts {
            connections: 1,
            retransmissions: h.retransmissions,
            lost_segments: h.lost_segments,
            out_of_order: h.out_of_order,
            handshakes_timed: u64::from(h.handshake_rtt_ns.is_some()),
            rtt_sum_ns: h.handshake_rtt_ns.unwrap_or(0),
        }
    }

    fn add(&mut self, o: &HostCounts) {
        self.connections += o.connections;
        self.retransmissions += o.retransmissions;
        self.lost_segments += o.lost_segments;
        self.out_of_order += o.out_of_order;
        self.handshakes_timed += o.handshakes_timed;
        self.rtt_sum_ns = self.rtt_sum_ns.saturating_add(o.rtt_sum_ns);
    }

    /// What hosts are shown and kept by: retransmissions, then lost segments, then
    /// connections.
    fn strength(&self) -> (u64, u64, u64) {
        (self.retransmissions, self.lost_segments, self.connections)
    }
}

/// A host's counts per bucket, each with the minute it counts.
type HostSlots = [(u64, HostCounts); BUCKETS];

/// Sums the slots that are in the window ending with minute `newest`.
fn in_window(slots: &HostSlots, newest: u64) -> HostCounts {
    let mut sum = HostCounts::default();
    for (minute, counts) in slots {
        if *minute <= newest && minute + BUCKETS as u64 > newest {
            sum.add(counts);
        }
    }
    sum
}

/// Makes room for `ip` in a host map at its cap by dropping the weaker half (every entry no
/// stronger than the median); returns how many went.
fn make_room<V>(
    map: &mut HashMap<IpAddr, V, FixedState>,
    ip: IpAddr,
    strength: impl Fn(&V) -> (u64, u64, u64),
) -> u64 {
    if map.len() < MAX_TCP_HOSTS || map.contains_key(&ip) {
        return 0;
    }
    let mut all: Vec<_> = map.values().map(&strength).collect();
    let mid = all.len() / 2;
    let median = *all.select_nth_unstable(mid).1;
    let before = map.len();
    map.retain(|_, v| strength(v) > median);
    (before - map.len()) as u64
}

/// The endpoints a connection counts for (once for a connection to itself).
fn endpoints(src: IpAddr, dst: IpAddr) -> impl Iterator<Item = IpAddr> {
    std::iter::once(src).chain((dst != src).then_some(dst))
}

fn minute(ts: Timestamp) -> u64 {
    ts.0 / BUCKET_NS
}

/// The TCP panel's bounded state: finished connections by minute, hosts by minute.
#[derive(Debug)]
pub struct TcpBoard {
    buckets: [Bucket; BUCKETS],
    hosts: HashMap<IpAddr, HostSlots, FixedState>,
    hosts_evicted: u64,
    /// The newest minute of packet time seen: buckets and counts before the window are stale.
    newest: u64,
}

impl Default for TcpBoard {
    fn default() -> Self {
        TcpBoard {
            buckets: Default::default(),
            hosts: HashMap::with_hasher(FixedState::default()),
            hosts_evicted: 0,
            newest: 0,
        }
    }
}

impl TcpBoard {
    /// Packet time has reached `now` (an interval closed).
    pub fn advance(&mut self, now: Timestamp) {
        self.newest = self.newest.max(minute(now));
    }

    /// A flow finished: a TCP one is counted for its minute, unless that is out of the window.
    pub fn flow(&mut self, f: &FlowRecord) {
        let Some(h) = &f.tcp_health else {
            return;
        };
        let m = minute(f.last_ts);
        if m + (BUCKETS as u64) <= self.newest {
            return;
        }
        self.newest = self.newest.max(m);
        let bucket = &mut self.buckets[m as usize % BUCKETS];
        if bucket.minute != m {
            // The slot's minute is older than the window (a newer one would be in the future).
            *bucket = Bucket {
                minute: m,
                ..Bucket::default()
            };
        }
        for (top, rank) in [
            (&mut bucket.slowest, Rank::Slowest),
            (&mut bucket.lossiest, Rank::Lossiest),
        ] {
            if let Some(score) = rank.score(h) {
                top.offer(score, f.last_ts, || Conn::Row(Box::new(row(f, h, false))));
            }
        }
        let counts = HostCounts::of(h);
        let newest = self.newest;
        for ip in endpoints(f.src_ip, f.dst_ip) {
            self.hosts_evicted +=
                make_room(&mut self.hosts, ip, |s| in_window(s, newest).strength());
            let slot = &mut self.hosts.entry(ip).or_default()[m as usize % BUCKETS];
            if slot.0 != m {
                *slot = (m, HostCounts::default());
            }
            slot.1.add(&counts);
        }
    }

    /// The panel at packet time `now`: the finished connections of the window merged with the
    /// live ones `live` has.
    pub fn view(&self, now: Timestamp, live: &impl LiveFlows) -> TcpPanel {
        let newest = self.newest.max(minute(now));
        let since = Timestamp((newest + 1).saturating_sub(BUCKETS as u64) * BUCKET_NS);
        let (mut slowest, mut lossiest) = (Top::default(), Top::default());
        for b in &self.buckets {
            if b.minute <= newest && b.minute + BUCKETS as u64 > newest {
                slowest.merge(&b.slowest);
                lossiest.merge(&b.lossiest);
            }
        }
        let mut hosts: HashMap<IpAddr, HostCounts, FixedState> = self
            .hosts
            .iter()
            .map(|(ip, slots)| (*ip, in_window(slots, newest)))
            .filter(|(_, c)| c.connections > 0)
            .collect();
        let mut evicted = 0;
        for c in live.live_tcp(since) {
            for (top, rank) in [
                (&mut slowest, Rank::Slowest),
                (&mut lossiest, Rank::Lossiest),
            ] {
                if let Some(score) = rank.score(&c.health) {
                    top.offer(score, c.last_ts, || Conn::Live(c.key));
                }
            }
            let counts = HostCounts::of(&c.health);
            for ip in endpoints(c.src, c.dst) {
                evicted += make_room(&mut hosts, ip, HostCounts::strength);
                hosts.entry(ip).or_default().add(&counts);
            }
        }
        let mut hosts: Vec<(IpAddr, HostCounts)> = hosts.into_iter().collect();
        hosts.sort_unstable_by(|a, b| b.1.strength().cmp(&a.1.strength()).then(a.0.cmp(&b.0)));
        hosts.truncate(MAX_TCP_ROWS);
        TcpPanel {
            window_s: (BUCKETS as u64 * BUCKET_NS) as f64 / 1e9,
            slowest: slowest.rows(live),
            lossiest: lossiest.rows(live),
            hosts: hosts
                .into_iter()
                .map(|(ip, c)| TcpHost {
                    ip,
                    name: live.host_name(ip).map(str::to_string),
                    connections: c.connections,
                    retransmissions: c.retransmissions,
                    lost_segments: c.lost_segments,
                    out_of_order: c.out_of_order,
                    handshakes_timed: c.handshakes_timed,
                    rtt_mean_ms: (c.handshakes_timed > 0)
                        .then(|| c.rtt_sum_ns as f64 / c.handshakes_timed as f64 / 1e6),
                })
                .collect(),
            hosts_evicted: self.hosts_evicted + evicted,
        }
    }
}

/// The row of TCP connection `f`, whose health is `h`.
fn row(f: &FlowRecord, h: &TcpHealth, live: bool) -> TcpConnection {
    TcpConnection {
        proto: f.proto_name(),
        src_ip: f.src_ip,
        src_port: f.src_port,
        dst_ip: f.dst_ip,
        dst_port: f.dst_port,
        server_name: f.server_name().map(str::to_string),
        rtt_ms: h.handshake_rtt_ms(),
        retransmissions: h.retransmissions,
        out_of_order: h.out_of_order,
        lost_segments: h.lost_segments,
        zero_windows: h.zero_windows,
        packets: f.packets(),
        bytes: f.bytes(),
        first_ts: f.first_ts.as_secs_f64(),
        last_ts: f.last_ts.as_secs_f64(),
        live,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use wirewatch_core::flow::DirectionStats;
    use wirewatch_core::{AppLabel, EndReason, TcpState};
    use wirewatch_flow::key::{Endpoint, PackedAddr};

    /// 2023-11-14 22:13:20, on a minute boundary.
    const T0: u64 = 1_700_000_000 - 1_700_000_000 % 60;

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n))
    }

    fn at(secs: u64) -> Timestamp {
        Timestamp((T0 + secs) * 1_000_000_000)
    }

    /// A TCP connection `src` → `dst` ending at `end` s, with handshake RTT `rtt_ms` and
    /// `retx` retransmissions.
    fn conn(src: u32, dst: u32, end: u64, rtt_ms: Option<u64>, retx: u64) -> FlowRecord {
        let side = DirectionStats {
            packets: 5,
            bytes: 500,
            ..DirectionStats::default()
        };
        FlowRecord {
            ip_proto: 6,
            src_ip: ip(src),
            src_port: 40_000,
            dst_ip: ip(dst),
            dst_port: 443,
            fwd: side,
            rev: side,
            first_ts: at(end.saturating_sub(1)),
            last_ts: at(end),
            state: TcpState::Established,
            end_reason: EndReason::EndOfCapture,
            app: AppLabel::default(),
            details: None,
            reputation: None,
            features: None,
            tcp_health: Some(TcpHealth {
                handshake_rtt_ns: rtt_ms.map(|ms| ms * 1_000_000),
                retransmissions: retx,
                lost_segments: retx / 2,
                ..TcpHealth::default()
            }),
            vlan: None,
            tunnel: None,
        }
    }

    /// Live flows standing in for the engine's flow table.
    #[derive(Default)]
    struct Live(Vec<FlowRecord>);

    fn key(f: &FlowRecord) -> FlowKey {
        let end = |ip, port| Endpoint {
            addr: PackedAddr::new(ip),
            port,
        };
        FlowKey {
            proto: 6,
            lo: end(f.src_ip, f.src_port),
            hi: end(f.dst_ip, f.dst_port),
            vlan: 0,
        }
    }

    impl LiveFlows for Live {
        fn live_tcp(&self, since: Timestamp) -> impl Iterator<Item = LiveTcp> {
            self.0
                .iter()
                .filter(move |f| f.last_ts >= since)
                .map(|f| LiveTcp {
                    key: key(f),
                    src: f.src_ip,
                    dst: f.dst_ip,
                    last_ts: f.last_ts,
                    health: f.tcp_health.unwrap(),
                })
        }
        fn live_record(&self, k: &FlowKey) -> Option<FlowRecord> {
            self.0.iter().find(|f| key(f) == *k).cloned()
        }
        fn host_name(&self, ip: IpAddr) -> Option<&str> {
            (ip == super::tests::ip(1)).then_some("server.test")
        }
    }

    fn rtts(rows: &[TcpConnection]) -> Vec<Option<f64>> {
        rows.iter().map(|r| r.rtt_ms).collect()
    }

    #[test]
    fn caps_hold_under_a_flood_of_distinct_hosts_and_connections() {
        let mut board = TcpBoard::default();
        // 40,000 connections between distinct pairs over four minutes, one every 6 ms; every
        // 97th to host 1 with retransmissions; one very slow and one very lossy among them.
        for i in 0..40_000u32 {
            let end = u64::from(i) * 6 / 1000;
            let (dst, retx) = if i % 97 == 0 {
                (1, 3)
            } else {
                (100_000 + i, 0)
            };
            let rtt = if i == 12_345 {
                900
            } else {
                u64::from(i % 50) + 1
            };
            let retx = if i == 23_456 { 500 } else { retx };
            board.flow(&conn(200_000 + i, dst, end, Some(rtt), retx));
        }
        assert!(board.hosts.len() <= MAX_TCP_HOSTS);
        assert!(board.hosts_evicted > 70_000, "{}", board.hosts_evicted);
        for b in &board.buckets {
            assert!(b.slowest.0.len() <= MAX_TCP_ROWS && b.lossiest.0.len() <= MAX_TCP_ROWS);
        }
        let panel = board.view(at(240), &Live::default());
        assert_eq!(panel.window_s, 300.0);
        assert_eq!(panel.slowest.len(), MAX_TCP_ROWS);
        assert_eq!(panel.slowest[0].src_ip, ip(200_000 + 12_345));
        assert_eq!(panel.slowest[0].rtt_ms, Some(900.0));
        assert!(rtts(&panel.slowest)[1..].iter().all(|r| *r == Some(50.0)));
        assert_eq!(panel.lossiest[0].retransmissions, 500);
        assert_eq!(panel.lossiest[0].lost_segments, 250);
        // The lossy server survived every eviction with all its connections (413 of them).
        let top = &panel.hosts[0];
        assert_eq!((top.ip, top.name.as_deref()), (ip(1), Some("server.test")));
        assert_eq!((top.connections, top.retransmissions), (413, 3 * 413));
        assert_eq!(panel.hosts.len(), MAX_TCP_ROWS);
        assert_eq!(panel.hosts_evicted, board.hosts_evicted);
    }

    #[test]
    fn rows_rank_worst_first_and_live_connections_count_before_they_end() {
        let mut board = TcpBoard::default();
        board.flow(&conn(10, 1, 5, Some(40), 2));
        board.flow(&conn(11, 1, 6, Some(80), 0));
        board.flow(&conn(12, 2, 7, None, 9));
        board.flow(&conn(13, 2, 8, Some(20), 0));
        // A live connection slower than all of them, with some loss.
        let live = Live(vec![conn(14, 1, 9, Some(250), 4)]);
        let panel = board.view(at(9), &live);
        assert_eq!(
            rtts(&panel.slowest),
            [Some(250.0), Some(80.0), Some(40.0), Some(20.0)]
        );
        assert!(panel.slowest[0].live && !panel.slowest[1].live);
        assert_eq!(
            (panel.slowest[0].packets, panel.slowest[0].bytes),
            (10, 1000)
        );
        let loss: Vec<_> = panel
            .lossiest
            .iter()
            .map(|r| (r.src_ip, r.retransmissions + r.lost_segments))
            .collect();
        assert_eq!(loss, [(ip(12), 13), (ip(14), 6), (ip(10), 3)]);
        // Hosts by retransmissions: 2 (9), then 1 (2 + 4), then the clients by theirs.
        let hosts: Vec<_> = panel
            .hosts
            .iter()
            .map(|h| (h.ip, h.connections, h.retransmissions))
            .collect();
        assert_eq!(hosts[..3], [(ip(2), 2, 9), (ip(12), 1, 9), (ip(1), 3, 6)]);
        let server = &panel.hosts[2];
        assert_eq!(server.handshakes_timed, 3);
        assert_eq!(server.rtt_mean_ms, Some((40.0 + 80.0 + 250.0) / 3.0));
        assert_eq!(panel.hosts[0].rtt_mean_ms, Some(20.0));
    }

    #[test]
    fn connections_age_out_on_packet_time() {
        let mut board = TcpBoard::default();
        board.flow(&conn(10, 1, 30, Some(500), 5));
        board.flow(&conn(11, 2, 200, Some(10), 1));
        let live = Live(vec![conn(12, 3, 40, Some(700), 0)]);
        // Within the window: all three.
        let panel = board.view(at(239), &live);
        assert_eq!(rtts(&panel.slowest), [Some(700.0), Some(500.0), Some(10.0)]);
        assert_eq!(panel.hosts.len(), 6);
        // Minute 5 begins: minute 0's connections (the live one included) are gone.
        let panel = board.view(at(300), &live);
        assert_eq!(rtts(&panel.slowest), [Some(10.0)]);
        assert_eq!(panel.lossiest.len(), 1);
        let hosts: Vec<_> = panel.hosts.iter().map(|h| h.ip).collect();
        assert_eq!(hosts, [ip(2), ip(11)]);
        // A record that ends in a minute already out of the window is not kept.
        board.advance(at(300));
        board.flow(&conn(13, 4, 10, Some(999), 0));
        assert!(board.view(at(300), &live).slowest[0].rtt_ms == Some(10.0));
        // Nothing at all once the last one ages out.
        let panel = board.view(at(600), &Live::default());
        assert!(panel.slowest.is_empty() && panel.lossiest.is_empty() && panel.hosts.is_empty());
    }
}
