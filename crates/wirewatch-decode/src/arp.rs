//! ARP decoding.
//!
//! Owns the ARP header: the opcode always, the sender/target IPv4 addresses for the common
//! Ethernet/IPv4 form. ARP frames are never IP: they count as non-IP.

use crate::packet::{ArpInfo, DecodeErrorKind, Network, Packet};
use crate::read::{be16_of, chunk, fail};
use std::net::Ipv4Addr;

/// EtherType of ARP.
pub(crate) const ETHERTYPE: u16 = 0x0806;

/// Length of the fixed ARP header (hardware/protocol types and sizes, opcode).
const FIXED_LEN: usize = 8;
/// Length of an Ethernet/IPv4 ARP packet.
const ETHER_IPV4_LEN: usize = 28;

/// Decodes the ARP packet at `off`.
///
/// Without the opcode the frame is `Network::Other` with the ARP EtherType; when the addresses
/// the header announces are cut short the opcode is kept. Both report
/// [`DecodeErrorKind::TruncatedArp`].
#[inline]
pub(crate) fn decode(p: &mut Packet, data: &[u8], off: usize) {
    let Some(h) = chunk::<FIXED_LEN>(data, off) else {
        p.network = Network::Other {
            ethertype: ETHERTYPE,
        };
        fail(p, DecodeErrorKind::TruncatedArp);
        return;
    };
    let mut info = ArpInfo {
        op: be16_of(h[6], h[7]),
        sender_ip: Ipv4Addr::UNSPECIFIED,
        target_ip: Ipv4Addr::UNSPECIFIED,
    };
    let (hlen, plen) = (usize::from(h[4]), usize::from(h[5]));
    let needed = FIXED_LEN + 2 * (hlen + plen);
    if matches!(h, [0, 1, 0x08, 0x00, 6, 4, _, _])
        && let Some(a) = chunk::<ETHER_IPV4_LEN>(data, off)
    {
        info.sender_ip = Ipv4Addr::new(a[14], a[15], a[16], a[17]);
        info.target_ip = Ipv4Addr::new(a[24], a[25], a[26], a[27]);
    }
    p.network = Network::Arp(info);
    if data.len().saturating_sub(off) < needed {
        fail(p, DecodeErrorKind::TruncatedArp);
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use crate::*;
    use std::net::Ipv4Addr;
    use wirewatch_core::{LinkType, ProtoClass};

    fn arp_ether_ipv4(op: u16) -> Vec<u8> {
        let mut a = vec![0, 1, 0x08, 0x00, 6, 4];
        a.extend_from_slice(&op.to_be_bytes());
        a.extend_from_slice(&[2, 0, 0, 0, 0, 1, 192, 168, 1, 10]);
        a.extend_from_slice(&[0, 0, 0, 0, 0, 0, 192, 168, 1, 1]);
        a
    }

    #[test]
    fn arp_request_and_reply() {
        for op in [1u16, 2] {
            let mut frame = eth(0x0806, &arp_ether_ipv4(op));
            frame.resize(60, 0);
            let p = decode(LinkType::ETHERNET, &frame);
            assert_eq!(p.error, None);
            assert_eq!(p.class, ProtoClass::NonIp);
            assert!(!p.is_ip());
            assert_eq!(
                p.network,
                Network::Arp(ArpInfo {
                    op,
                    sender_ip: Ipv4Addr::new(192, 168, 1, 10),
                    target_ip: Ipv4Addr::new(192, 168, 1, 1),
                })
            );
        }
    }

    #[test]
    fn other_hardware_keeps_the_opcode_only() {
        // IEEE 1394 hardware (24), 16-byte hardware addresses.
        let mut a = vec![0, 24, 0x08, 0x00, 16, 4, 0, 1];
        a.resize(8 + 2 * 20, 0xee);
        let p = decode(LinkType::ETHERNET, &eth(0x0806, &a));
        assert_eq!(p.error, None);
        assert_eq!(
            p.network,
            Network::Arp(ArpInfo {
                op: 1,
                sender_ip: Ipv4Addr::UNSPECIFIED,
                target_ip: Ipv4Addr::UNSPECIFIED,
            })
        );
        let p = decode(LinkType::ETHERNET, &eth(0x0806, &a[..40]));
        assert_eq!(p.error, Some(DecodeErrorKind::TruncatedArp));
    }

    #[test]
    fn truncated_arp() {
        let frame = eth(0x0806, &arp_ether_ipv4(1));
        for cut in 14..14 + 8 {
            let p = decode(LinkType::ETHERNET, &frame[..cut]);
            assert_eq!(p.error, Some(DecodeErrorKind::TruncatedArp));
            assert_eq!(p.network, Network::Other { ethertype: 0x0806 });
            assert_eq!(p.class, ProtoClass::NonIp);
        }
        for cut in 14 + 8..frame.len() {
            let p = decode(LinkType::ETHERNET, &frame[..cut]);
            assert_eq!(p.error, Some(DecodeErrorKind::TruncatedArp));
            assert!(matches!(p.network, Network::Arp(a) if a.op == 1));
        }
    }
}
