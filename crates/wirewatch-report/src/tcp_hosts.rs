//! TCP health per host over a run ([`TcpHosts`]): for every address, the TCP connections it
//! took part in (as client or server) and what their health added up to — handshakes timed and
//! their mean round-trip time, retransmissions, out-of-order and lost segments, zero windows.
//! The report lists the hosts with the most trouble (`tcp_hosts` in `analyze --json`).
//!
//! Bounded: at most [`MAX_TCP_HOSTS`] addresses are counted; a new address finding the map
//! full drops the weaker half (least retransmissions and lost segments, then fewest
//! connections) in one pass, counted in `tcp_hosts_evicted`, so a scan of millions of
//! addresses costs a few megabytes, not gigabytes.

use serde::Serialize;
use std::collections::HashMap;
use std::net::IpAddr;
use wirewatch_core::{FlowRecord, TcpHealth};
use wirewatch_engine::Engine;

/// Addresses counted at most (about 80 bytes each: 5 MB).
pub const MAX_TCP_HOSTS: usize = 65_536;
/// Hosts a report lists.
pub const REPORT_TCP_HOSTS: usize = 100;

/// What one host's TCP connections add up to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct HostTcp {
    connections: u64,
    handshakes_timed: u64,
    rtt_sum_ns: u64,
    retransmissions: u64,
    out_of_order: u64,
    lost_segments: u64,
    zero_windows: u64,
}

impl HostTcp {
    fn add(&mut self, h: &TcpHealth) {
        self.connections += 1;
        if let Some(rtt) = h.handshake_rtt_ns {
            self.handshakes_timed += 1;
            self.rtt_sum_ns = self.rtt_sum_ns.saturating_add(rtt);
        }
        self.retransmissions += h.retransmissions;
        self.out_of_order += h.out_of_order;
        self.lost_segments += h.lost_segments;
        self.zero_windows += h.zero_windows;
    }

    /// Larger is worse: trouble first, then how much the host was seen.
    fn rank(&self) -> (u64, u64) {
        (
            self.retransmissions.saturating_add(self.lost_segments),
            self.connections,
        )
    }
}

/// One host of the report's `tcp_hosts`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TcpHostJson {
    /// The address.
    pub ip: IpAddr,
    /// Its name, learned from DNS answers on the wire (escaped text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// TCP connections it took part in, as client or server.
    pub connections: u64,
    /// Of those, the ones whose handshake round-trip time was measured.
    pub handshakes_timed: u64,
    /// Their mean handshake round-trip time, milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtt_mean_ms: Option<f64>,
    /// Segments retransmitted (every kind).
    pub retransmissions: u64,
    /// Segments out of order.
    pub out_of_order: u64,
    /// Segments seen after a gap (lost before the capture point).
    pub lost_segments: u64,
    /// Zero-window announcements.
    pub zero_windows: u64,
}

/// TCP health per host, bounded (see the module documentation).
#[derive(Debug, Default)]
pub struct TcpHosts {
    hosts: HashMap<IpAddr, HostTcp>,
    evicted: u64,
}

impl TcpHosts {
    /// Counts a finished TCP flow's health for both its ends (other flows are ignored).
    pub fn add(&mut self, f: &FlowRecord) {
        let Some(h) = &f.tcp_health else {
            return;
        };
        for ip in [f.src_ip, f.dst_ip] {
            if self.hosts.len() >= MAX_TCP_HOSTS && !self.hosts.contains_key(&ip) {
                self.evict_weaker_half();
            }
            self.hosts.entry(ip).or_default().add(h);
        }
    }

    /// Drops the weaker half of the hosts (ties broken by address, so the result does not
    /// depend on the map's order).
    fn evict_weaker_half(&mut self) {
        let mut ranked: Vec<((u64, u64), IpAddr)> =
            self.hosts.iter().map(|(ip, h)| (h.rank(), *ip)).collect();
        ranked.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, ip) in ranked.iter().skip(ranked.len() / 2) {
            self.hosts.remove(ip);
            self.evicted += 1;
        }
    }

    /// Addresses dropped to stay within [`MAX_TCP_HOSTS`].
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// The [`REPORT_TCP_HOSTS`] hosts with the most trouble (retransmissions and lost
    /// segments), then the most connections; names from the engine's DNS observations.
    pub fn top(&self, engine: &Engine) -> Vec<TcpHostJson> {
        let mut ranked: Vec<(&IpAddr, &HostTcp)> = self.hosts.iter().collect();
        ranked.sort_unstable_by(|a, b| b.1.rank().cmp(&a.1.rank()).then(a.0.cmp(b.0)));
        ranked
            .into_iter()
            .take(REPORT_TCP_HOSTS)
            .map(|(ip, h)| TcpHostJson {
                ip: *ip,
                name: engine.host_name(*ip).map(str::to_string),
                connections: h.connections,
                handshakes_timed: h.handshakes_timed,
                rtt_mean_ms: (h.handshakes_timed > 0)
                    .then(|| h.rtt_sum_ns as f64 / h.handshakes_timed as f64 / 1e6),
                retransmissions: h.retransmissions,
                out_of_order: h.out_of_order,
                lost_segments: h.lost_segments,
                zero_windows: h.zero_windows,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirewatch_engine::EngineConfig;

    fn flow(src: IpAddr, dst: IpAddr, rtt_ms: Option<u64>, retransmissions: u64) -> FlowRecord {
        let mut f: FlowRecord = serde_json::from_value(serde_json::json!({
            "ip_proto": 6, "src_ip": src, "src_port": 40000, "dst_ip": dst, "dst_port": 443,
            "fwd": {"packets": 3, "bytes": 180, "payload_bytes": 0, "tcp_flags": 2},
            "rev": {"packets": 1, "bytes": 60, "payload_bytes": 0, "tcp_flags": 18},
            "first_ts": 0, "last_ts": 0, "state": "established", "end_reason": "idle_timeout"
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        f.tcp_health = Some(TcpHealth {
            handshake_rtt_ns: rtt_ms.map(|ms| ms * 1_000_000),
            retransmissions,
            ..TcpHealth::default()
        });
        f
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn hosts_add_up_their_connections_worst_first() {
        let engine = Engine::new(&EngineConfig::default());
        let server = ip("192.0.2.1");
        let mut hosts = TcpHosts::default();
        hosts.add(&flow(ip("10.0.0.1"), server, Some(10), 0));
        hosts.add(&flow(ip("10.0.0.2"), server, Some(30), 4));
        hosts.add(&flow(ip("10.0.0.3"), server, None, 1));
        // Not TCP health: ignored.
        let mut udp = flow(ip("10.0.0.9"), server, None, 0);
        udp.tcp_health = None;
        hosts.add(&udp);
        let top = hosts.top(&engine);
        assert_eq!(top.len(), 4);
        assert_eq!(top[0].ip, server);
        assert_eq!(
            (
                top[0].connections,
                top[0].handshakes_timed,
                top[0].retransmissions
            ),
            (3, 2, 5)
        );
        assert_eq!(top[0].rtt_mean_ms, Some(20.0));
        assert_eq!(top[1].ip, ip("10.0.0.2"));
        assert_eq!(top[2].ip, ip("10.0.0.3"));
        assert_eq!(
            (top[3].ip, top[3].rtt_mean_ms),
            (ip("10.0.0.1"), Some(10.0))
        );
    }

    /// A scan of 400,000 addresses keeps at most `MAX_TCP_HOSTS`, and the troubled hosts.
    #[test]
    fn the_map_stays_bounded_and_keeps_the_worst() {
        let engine = Engine::new(&EngineConfig::default());
        let victim = ip("192.0.2.7");
        let mut hosts = TcpHosts::default();
        hosts.add(&flow(ip("10.9.9.9"), victim, Some(5), 50));
        for i in 0..200_000u32 {
            let src = IpAddr::from((0x0a00_0000u32 + i).to_be_bytes());
            let dst = IpAddr::from((0xc633_0000u32 + i).to_be_bytes());
            hosts.add(&flow(src, dst, Some(1), 0));
            if i % 1000 == 0 {
                assert!(hosts.hosts.len() <= MAX_TCP_HOSTS);
            }
        }
        let top = hosts.top(&engine);
        assert_eq!(top.len(), REPORT_TCP_HOSTS);
        assert_eq!(top[0].ip, ip("10.9.9.9"));
        assert_eq!(top[1].ip, victim);
        assert!(hosts.evicted() >= 400_000 - MAX_TCP_HOSTS as u64);
    }
}
