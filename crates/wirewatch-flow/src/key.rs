//! The bidirectional flow key: protocol plus an ordered pair of endpoints.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use wirewatch_decode::{Packet, Transport};

/// An address packed into 16 bytes; IPv4 sits in the first four with `v6` false.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackedAddr {
    bytes: [u8; 16],
    v6: bool,
}

impl PackedAddr {
    /// Packs an address.
    #[inline]
    pub fn new(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(a) => {
                let mut bytes = [0u8; 16];
                bytes[..4].copy_from_slice(&a.octets());
                PackedAddr { bytes, v6: false }
            }
            IpAddr::V6(a) => PackedAddr {
                bytes: a.octets(),
                v6: true,
            },
        }
    }

    /// Unpacks the address.
    pub fn ip(&self) -> IpAddr {
        if self.v6 {
            IpAddr::V6(Ipv6Addr::from(self.bytes))
        } else {
            let [a, b, c, d, ..] = self.bytes;
            IpAddr::V4(Ipv4Addr::new(a, b, c, d))
        }
    }
}

/// One side of a flow: address and port (or ICMP identifier / type / code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    /// The address.
    pub addr: PackedAddr,
    /// The port, or the ICMP value standing in for it.
    pub port: u16,
}

/// A bidirectional flow key. Endpoints are stored in a canonical order (`lo` < `hi`) so both
/// directions of a conversation map to the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowKey {
    /// IP protocol number.
    pub proto: u8,
    /// The lower endpoint.
    pub lo: Endpoint,
    /// The higher endpoint.
    pub hi: Endpoint,
    /// The outermost VLAN id when flows are keyed by VLAN, else 0.
    pub vlan: u16,
}

/// Which way a packet travels relative to the canonical key order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySide {
    /// From `lo` to `hi`.
    LoToHi,
    /// From `hi` to `lo`.
    HiToLo,
}

impl KeySide {
    /// Index into per-side arrays: 0 for lo→hi, 1 for hi→lo.
    #[inline]
    pub fn index(self) -> usize {
        match self {
            KeySide::LoToHi => 0,
            KeySide::HiToLo => 1,
        }
    }
}

impl FlowKey {
    /// Builds the key of a packet and the side it travels on; `None` when the packet belongs to
    /// no flow (not IP, or a transport header that should be there but could not be decoded).
    ///
    /// `frag_ports` supplies ports for a non-first fragment when its first fragment was seen.
    #[inline]
    pub fn of_packet(pkt: &Packet, frag_ports: Option<(u16, u16)>) -> Option<(FlowKey, KeySide)> {
        if !pkt.is_ip() || !pkt.has_src || !pkt.has_dst {
            return None;
        }
        let (sport, dport) = match pkt.transport {
            Transport::Tcp(t) => {
                if pkt.error == Some(wirewatch_decode::DecodeErrorKind::BadTcpHeader) {
                    return None;
                }
                (t.src_port, t.dst_port)
            }
            Transport::Udp(u) => (u.src_port, u.dst_port),
            Transport::Icmp(i) | Transport::Icmpv6(i) => match i.echo {
                Some((id, _)) => (id, id),
                None => (u16::from(i.icmp_type), u16::from(i.code)),
            },
            Transport::None => match pkt.fragment {
                Some(f) if !f.is_first() => frag_ports.unwrap_or((0, 0)),
                _ if has_ports_or_ids(pkt.ip_proto) => return None,
                _ => (0, 0),
            },
        };
        let a = Endpoint {
            addr: PackedAddr::new(pkt.src),
            port: sport,
        };
        let b = Endpoint {
            addr: PackedAddr::new(pkt.dst),
            port: dport,
        };
        Some(if a <= b {
            (
                FlowKey {
                    proto: pkt.ip_proto,
                    lo: a,
                    hi: b,
                    vlan: 0,
                },
                KeySide::LoToHi,
            )
        } else {
            (
                FlowKey {
                    proto: pkt.ip_proto,
                    lo: b,
                    hi: a,
                    vlan: 0,
                },
                KeySide::HiToLo,
            )
        })
    }

    /// The key of the same conversation on the packet's outermost VLAN (none: VLAN 0), for
    /// tables keyed by VLAN as nDPI and Suricata key them.
    #[inline]
    pub fn on_vlan_of(mut self, pkt: &Packet) -> FlowKey {
        self.vlan = if pkt.vlan_count > 0 { pkt.vlans[0] } else { 0 };
        self
    }

    /// The endpoint a packet on `side` comes from.
    pub fn source(&self, side: KeySide) -> Endpoint {
        match side {
            KeySide::LoToHi => self.lo,
            KeySide::HiToLo => self.hi,
        }
    }

    /// The endpoint a packet on `side` goes to.
    pub fn destination(&self, side: KeySide) -> Endpoint {
        match side {
            KeySide::LoToHi => self.hi,
            KeySide::HiToLo => self.lo,
        }
    }
}

/// Protocols whose flows are keyed by ports or ICMP identifiers: a packet of these whose
/// transport header is missing cannot be placed in a flow.
fn has_ports_or_ids(proto: u8) -> bool {
    matches!(proto, 6 | 17 | 1 | 58)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_addresses_round_trip() {
        for ip in ["10.1.2.3", "::1", "2001:db8::7", "0.0.0.0"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(PackedAddr::new(ip).ip(), ip);
        }
        // An IPv4 address and the IPv6 address with the same leading bytes differ.
        let v4 = PackedAddr::new("1.2.3.4".parse().unwrap());
        let v6 = PackedAddr::new("102:304::".parse().unwrap());
        assert_ne!(v4, v6);
    }
}
