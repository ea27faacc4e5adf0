//! Protocol classes and the counters every report shares.

use serde::{Deserialize, Serialize};

/// IP protocol number of TCP.
pub const IPPROTO_TCP: u8 = 6;
/// IP protocol number of UDP.
pub const IPPROTO_UDP: u8 = 17;
/// IP protocol number of ICMP.
pub const IPPROTO_ICMP: u8 = 1;
/// IP protocol number of ICMPv6.
pub const IPPROTO_ICMPV6: u8 = 58;

/// The class a frame is counted under in the protocol mix.
///
/// IP frames are classed by the protocol of the outermost IP header after walking IPv6
/// extension headers, so every fragment (first or not) counts under its IP protocol, and
/// tunnels count as their outer protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProtoClass {
    /// TCP (6).
    Tcp,
    /// UDP (17).
    Udp,
    /// ICMP (1).
    Icmp,
    /// ICMPv6 (58).
    Icmpv6,
    /// Any other IP protocol (GRE, ESP, IP-in-IP, ...).
    OtherIp,
    /// Not IP at all (ARP, LLDP, STP, undecodable link types, ...).
    NonIp,
}

impl ProtoClass {
    /// The class of an IP protocol number.
    pub fn from_ip_proto(proto: u8) -> Self {
        match proto {
            IPPROTO_TCP => ProtoClass::Tcp,
            IPPROTO_UDP => ProtoClass::Udp,
            IPPROTO_ICMP => ProtoClass::Icmp,
            IPPROTO_ICMPV6 => ProtoClass::Icmpv6,
            _ => ProtoClass::OtherIp,
        }
    }

    /// Lower-case name used in reports and JSON.
    pub fn name(self) -> &'static str {
        match self {
            ProtoClass::Tcp => "tcp",
            ProtoClass::Udp => "udp",
            ProtoClass::Icmp => "icmp",
            ProtoClass::Icmpv6 => "icmpv6",
            ProtoClass::OtherIp => "other_ip",
            ProtoClass::NonIp => "non_ip",
        }
    }
}

/// Frame counts per protocol class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProtocolCounts {
    /// TCP frames.
    pub tcp: u64,
    /// UDP frames.
    pub udp: u64,
    /// ICMP frames.
    pub icmp: u64,
    /// ICMPv6 frames.
    pub icmpv6: u64,
    /// Other IP protocols.
    pub other_ip: u64,
    /// Non-IP frames.
    pub non_ip: u64,
}

impl ProtocolCounts {
    /// Counts one frame of `class`.
    pub fn add(&mut self, class: ProtoClass) {
        *self.slot(class) += 1;
    }

    /// The count of one class.
    pub fn get(&self, class: ProtoClass) -> u64 {
        match class {
            ProtoClass::Tcp => self.tcp,
            ProtoClass::Udp => self.udp,
            ProtoClass::Icmp => self.icmp,
            ProtoClass::Icmpv6 => self.icmpv6,
            ProtoClass::OtherIp => self.other_ip,
            ProtoClass::NonIp => self.non_ip,
        }
    }

    /// Adds every count of `other` to this one.
    pub fn merge(&mut self, other: &ProtocolCounts) {
        for class in ALL_CLASSES {
            *self.slot(class) += other.get(class);
        }
    }

    /// Sum of all classes.
    pub fn total(&self) -> u64 {
        ALL_CLASSES.iter().map(|c| self.get(*c)).sum()
    }

    fn slot(&mut self, class: ProtoClass) -> &mut u64 {
        match class {
            ProtoClass::Tcp => &mut self.tcp,
            ProtoClass::Udp => &mut self.udp,
            ProtoClass::Icmp => &mut self.icmp,
            ProtoClass::Icmpv6 => &mut self.icmpv6,
            ProtoClass::OtherIp => &mut self.other_ip,
            ProtoClass::NonIp => &mut self.non_ip,
        }
    }
}

/// Every protocol class, in report order.
pub const ALL_CLASSES: [ProtoClass; 6] = [
    ProtoClass::Tcp,
    ProtoClass::Udp,
    ProtoClass::Icmp,
    ProtoClass::Icmpv6,
    ProtoClass::OtherIp,
    ProtoClass::NonIp,
];

/// TCP flag bits as they stand in the header's flags byte.
pub mod tcp_flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
    /// URG.
    pub const URG: u8 = 0x20;
    /// ECE.
    pub const ECE: u8 = 0x40;
    /// CWR.
    pub const CWR: u8 = 0x80;

    /// Renders flag bits tcpdump-style in a fixed order, e.g. `SA` or `FPA`.
    pub fn render(flags: u8) -> String {
        const NAMES: [(u8, char); 8] = [
            (FIN, 'F'),
            (SYN, 'S'),
            (RST, 'R'),
            (PSH, 'P'),
            (ACK, 'A'),
            (URG, 'U'),
            (ECE, 'E'),
            (CWR, 'C'),
        ];
        NAMES
            .iter()
            .filter(|(bit, _)| flags & bit != 0)
            .map(|(_, c)| *c)
            .collect()
    }
}

/// Counts of the TCP control segments that matter for connection accounting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TcpFlagCounts {
    /// Segments with SYN set and ACK clear (connection attempts).
    pub syn: u64,
    /// Segments with SYN and ACK set.
    pub syn_ack: u64,
    /// Segments with RST set.
    pub rst: u64,
    /// Segments with FIN set.
    pub fin: u64,
}

impl TcpFlagCounts {
    /// Counts one TCP segment with the given flag bits.
    pub fn add(&mut self, flags: u8) {
        use tcp_flags::*;
        if flags & SYN != 0 {
            if flags & ACK != 0 {
                self.syn_ack += 1;
            } else {
                self.syn += 1;
            }
        }
        if flags & RST != 0 {
            self.rst += 1;
        }
        if flags & FIN != 0 {
            self.fin += 1;
        }
    }

    /// Adds every count of `other` to this one.
    pub fn merge(&mut self, other: &TcpFlagCounts) {
        self.syn += other.syn;
        self.syn_ack += other.syn_ack;
        self.rst += other.rst;
        self.fin += other.fin;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_counts_follow_tshark_definitions() {
        let mut c = TcpFlagCounts::default();
        c.add(tcp_flags::SYN);
        c.add(tcp_flags::SYN | tcp_flags::ECE | tcp_flags::CWR);
        c.add(tcp_flags::SYN | tcp_flags::ACK);
        c.add(tcp_flags::RST | tcp_flags::ACK);
        c.add(tcp_flags::FIN | tcp_flags::ACK | tcp_flags::PSH);
        c.add(tcp_flags::ACK);
        assert_eq!(
            c,
            TcpFlagCounts {
                syn: 2,
                syn_ack: 1,
                rst: 1,
                fin: 1
            }
        );
    }

    #[test]
    fn protocol_counts_add_merge_total() {
        let mut a = ProtocolCounts::default();
        a.add(ProtoClass::from_ip_proto(6));
        a.add(ProtoClass::from_ip_proto(47));
        a.add(ProtoClass::NonIp);
        let mut b = a;
        b.merge(&a);
        assert_eq!(b.tcp, 2);
        assert_eq!(b.other_ip, 2);
        assert_eq!(b.total(), 6);
        assert_eq!(tcp_flags::render(0x12), "SA");
    }
}
