//! Which packets to export: by host or network, port, flow, time range and a BPF expression,
//! all of which must hold.

use super::ring::PacketMeta;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use wirewatch_core::Timestamp;

/// A flow's two ends and protocol, matched in either direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowSpec {
    /// IP protocol number (6 TCP, 17 UDP, ...).
    pub proto: u8,
    /// One end.
    pub a: SocketAddr,
    /// The other end.
    pub b: SocketAddr,
}

impl std::str::FromStr for FlowSpec {
    type Err = String;

    /// Parses `PROTO ADDR:PORT ADDR:PORT`, e.g. `tcp 10.0.0.1:51000 10.0.0.2:80` or
    /// `udp [2001:db8::1]:5353 [ff02::fb]:5353`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let usage = || {
            format!(
                "`{s}` is not a flow: use PROTO ADDR:PORT ADDR:PORT, e.g. \
                 `tcp 10.0.0.1:51000 10.0.0.2:80` (IPv6 in brackets)"
            )
        };
        let parts: Vec<&str> = s.split_whitespace().collect();
        let [proto, a, b] = parts.as_slice() else {
            return Err(usage());
        };
        let proto = match proto.to_ascii_lowercase().as_str() {
            "tcp" => 6,
            "udp" => 17,
            "sctp" => 132,
            other => other.parse::<u8>().map_err(|_| usage())?,
        };
        Ok(FlowSpec {
            proto,
            a: a.parse().map_err(|_| usage())?,
            b: b.parse().map_err(|_| usage())?,
        })
    }
}

/// A filter from its text parts (command-line flags or API parameters): addresses or CIDR
/// blocks (`10.0.0.0/8`, `2001:db8::/32`), a port, a flow (`PROTO ADDR:PORT ADDR:PORT`) and times
/// (Unix seconds or RFC 3339).
pub fn parse_filter(
    hosts: &[String],
    port: Option<&str>,
    flow: Option<&str>,
    from: Option<&str>,
    until: Option<&str>,
) -> Result<PacketFilter, String> {
    let mut filter = PacketFilter::default();
    for h in hosts.iter().flat_map(|h| h.split(',')) {
        let h = h.trim();
        if h.is_empty() {
            continue;
        }
        let net = match h.parse::<IpAddr>() {
            Ok(ip) => IpNet::from(ip),
            Err(_) => h.parse::<IpNet>().map_err(|_| {
                format!(
                    "`{}` is not an IP address or CIDR block (e.g. 10.0.0.1, 10.0.0.0/8, \
                     2001:db8::/32)",
                    h.escape_debug()
                )
            })?,
        };
        filter.hosts.push(net);
    }
    if let Some(p) = port {
        filter.port = Some(
            p.trim()
                .parse()
                .map_err(|_| format!("`{}` is not a port (0-65535)", p.escape_debug()))?,
        );
    }
    if let Some(f) = flow {
        filter.flow = Some(f.parse()?);
    }
    let time = |t: &str| wirewatch_core::time::parse_time(t);
    filter.from = from.map(time).transpose()?;
    filter.until = until.map(time).transpose()?;
    if let (Some(f), Some(u)) = (filter.from, filter.until)
        && f > u
    {
        return Err("`from` is after `until`".into());
    }
    Ok(filter)
}

/// The conditions a packet must meet; an empty filter takes everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PacketFilter {
    /// The packet's source or destination is in one of these (an address is a /32 or /128;
    /// empty: any).
    pub hosts: Vec<IpNet>,
    /// The packet's source or destination port.
    pub port: Option<u16>,
    /// The packet belongs to this flow (either direction).
    pub flow: Option<FlowSpec>,
    /// Not before this time (inclusive).
    pub from: Option<Timestamp>,
    /// Not after this time (inclusive).
    pub until: Option<Timestamp>,
    /// A BPF expression (tcpdump's syntax) the packet's bytes must match; applied where the
    /// bytes are at hand ([`crate::export::export_files`]), not by [`PacketFilter::matches`].
    pub bpf: Option<String>,
}

impl PacketFilter {
    /// Whether the packet meets every condition.
    pub fn matches(&self, m: &PacketMeta) -> bool {
        if self.from.is_some_and(|f| m.ts < f) || self.until.is_some_and(|u| m.ts > u) {
            return false;
        }
        if !self.hosts.is_empty() && !self.matches_host(m) {
            return false;
        }
        if let Some(p) = self.port
            && !m.ports.is_some_and(|(s, d)| s == p || d == p)
        {
            return false;
        }
        if let Some(f) = &self.flow {
            let Some((sp, dp)) = m.ports else {
                return false;
            };
            let (Some(src), Some(dst)) = (m.src, m.dst) else {
                return false;
            };
            if m.ip_proto != f.proto {
                return false;
            }
            let (s, d) = (SocketAddr::new(src, sp), SocketAddr::new(dst, dp));
            if !((s == f.a && d == f.b) || (s == f.b && d == f.a)) {
                return false;
            }
        }
        true
    }

    /// Whether the packet's source or destination is one of `hosts`.
    fn matches_host(&self, m: &PacketMeta) -> bool {
        let inside =
            |a: Option<IpAddr>| a.is_some_and(|a| self.hosts.iter().any(|h| h.contains(&a)));
        inside(m.src) || inside(m.dst)
    }

    /// Whether the filter has no condition at all.
    pub fn is_empty(&self) -> bool {
        *self == PacketFilter::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirewatch_core::LinkType;

    fn pkt(ts: u64, src: &str, sp: u16, dst: &str, dp: u16) -> PacketMeta {
        PacketMeta {
            ts: Timestamp(ts),
            wire_len: 60,
            linktype: LinkType(1),
            src: Some(src.parse().unwrap()),
            dst: Some(dst.parse().unwrap()),
            ip_proto: 6,
            ports: Some((sp, dp)),
        }
    }

    #[test]
    fn each_condition_narrows() {
        let p = pkt(100, "10.0.0.1", 5000, "10.0.0.2", 80);
        assert!(PacketFilter::default().matches(&p));
        let host = |h: &str| PacketFilter {
            hosts: vec![IpNet::from(h.parse::<IpAddr>().unwrap())],
            ..PacketFilter::default()
        };
        assert!(host("10.0.0.1").matches(&p));
        assert!(host("10.0.0.2").matches(&p));
        assert!(!host("10.0.0.3").matches(&p));
        let port = |x| PacketFilter {
            port: Some(x),
            ..PacketFilter::default()
        };
        assert!(port(80).matches(&p) && port(5000).matches(&p) && !port(443).matches(&p));
        let time = |f, u| PacketFilter {
            from: Some(Timestamp(f)),
            until: Some(Timestamp(u)),
            ..PacketFilter::default()
        };
        assert!(time(100, 100).matches(&p));
        assert!(!time(101, 200).matches(&p));
        assert!(!time(0, 99).matches(&p));
    }

    #[test]
    fn flows_match_both_directions_only_their_own() {
        let f = PacketFilter {
            flow: Some("tcp 10.0.0.1:5000 10.0.0.2:80".parse().unwrap()),
            ..PacketFilter::default()
        };
        assert!(f.matches(&pkt(1, "10.0.0.1", 5000, "10.0.0.2", 80)));
        assert!(f.matches(&pkt(1, "10.0.0.2", 80, "10.0.0.1", 5000)));
        assert!(!f.matches(&pkt(1, "10.0.0.1", 5001, "10.0.0.2", 80)));
        let mut udp = pkt(1, "10.0.0.1", 5000, "10.0.0.2", 80);
        udp.ip_proto = 17;
        assert!(!f.matches(&udp));
        let v6: FlowSpec = "udp [2001:db8::1]:5353 [ff02::fb]:5353".parse().unwrap();
        assert_eq!(v6.proto, 17);
        assert!("tcp 10.0.0.1 10.0.0.2:80".parse::<FlowSpec>().is_err());
        assert!("gre 10.0.0.1:1 10.0.0.2:80".parse::<FlowSpec>().is_err());
    }

    #[test]
    fn parses_text_parts_and_names_what_is_wrong() {
        let f = parse_filter(
            &["10.0.0.1, 10.0.0.2".into(), "::1".into()],
            Some("443"),
            None,
            Some("1700000000"),
            Some("2023-11-14T22:13:21Z"),
        )
        .unwrap();
        assert_eq!(f.hosts.len(), 3);
        let nets = parse_filter(&["10.0.0.0/8,2001:db8::/32".into()], None, None, None, None);
        let nets = nets.unwrap();
        assert!(nets.matches(&pkt(1, "10.9.9.9", 1, "192.168.0.1", 2)));
        assert!(nets.matches(&pkt(1, "192.168.0.1", 1, "2001:db8::7", 2)));
        assert!(!nets.matches(&pkt(1, "11.0.0.1", 1, "192.168.0.1", 2)));
        let err = parse_filter(&["10.0.0.0/33".into()], None, None, None, None).unwrap_err();
        assert!(err.contains("CIDR"), "{err}");
        assert_eq!(f.port, Some(443));
        assert_eq!(f.from, Some(Timestamp(1_700_000_000_000_000_000)));
        assert_eq!(f.until, Some(Timestamp(1_700_000_001_000_000_000)));
        let err = parse_filter(&["10.0.0.300".into()], None, None, None, None).unwrap_err();
        assert!(err.contains("10.0.0.300"), "{err}");
        assert!(parse_filter(&[], Some("70000"), None, None, None).is_err());
        assert!(parse_filter(&[], None, None, Some("20"), Some("10")).is_err());
        assert!(parse_filter(&[], None, Some("tcp x y"), None, None).is_err());
    }
}
