//! Ethernet and everything chosen by an EtherType.
//!
//! Owns the Ethernet II / 802.3 header, stacked VLAN tags (802.1Q, 802.1ad, 0x9100), MPLS label
//! stacks, PPPoE sessions, and the EtherType dispatch that the cooked-capture and HDLC link
//! types reuse. It must not decode anything above the network layer itself.

use crate::packet::{DecodeErrorKind, Network, Packet};
use crate::read::{be16_of, chunk, fail, u8_at};
use crate::{arp, ipv4, ipv6, link};

/// Length of the Ethernet II header (destination, source, EtherType).
pub(crate) const HEADER_LEN: usize = 14;

/// EtherType of IPv4.
pub(crate) const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of IPv6.
pub(crate) const ETHERTYPE_IPV6: u16 = 0x86dd;
/// 802.1Q VLAN tag.
const ETHERTYPE_VLAN: u16 = 0x8100;
/// 802.1ad service tag (QinQ).
const ETHERTYPE_QINQ: u16 = 0x88a8;
/// Pre-standard QinQ service tag.
const ETHERTYPE_VLAN_9100: u16 = 0x9100;
/// MPLS unicast.
pub(crate) const ETHERTYPE_MPLS: u16 = 0x8847;
/// MPLS multicast.
pub(crate) const ETHERTYPE_MPLS_MULTICAST: u16 = 0x8848;
/// PPPoE session stage.
const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;
/// Values below this are 802.3 length fields (an LLC header follows), not EtherTypes.
const MIN_ETHERTYPE: u16 = 0x0600;

/// Stacked VLAN tags walked before giving up (QinQ is 2; 8 leaves room for odd lab setups).
pub const MAX_VLAN_WALK: usize = 8;
/// MPLS labels walked looking for the bottom of the stack (real stacks hold 1 to 4).
pub const MAX_MPLS_LABELS: usize = 8;

/// Length of a VLAN tag (TCI and the encapsulated EtherType) and of an MPLS label entry.
const TAG_LEN: usize = 4;
/// PPPoE header (version/type, code, session id, length) plus the 2-byte PPP protocol.
const PPPOE_LEN: usize = 8;

/// Decodes an Ethernet frame.
#[inline]
pub(crate) fn decode(p: &mut Packet, data: &[u8]) {
    decode_at(p, data, 0);
}

/// Decodes an Ethernet frame that starts at `off` (behind another header).
#[inline]
pub(crate) fn decode_at(p: &mut Packet, data: &[u8], off: usize) {
    let Some(h) = chunk::<HEADER_LEN>(data, off) else {
        fail(p, DecodeErrorKind::TruncatedLink);
        return;
    };
    ethertype(
        p,
        data,
        off.saturating_add(HEADER_LEN),
        be16_of(h[12], h[13]),
    );
}

/// Whether `ethertype` announces a VLAN tag.
#[inline(always)]
fn is_vlan(ethertype: u16) -> bool {
    matches!(
        ethertype,
        ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_VLAN_9100
    )
}

/// Decodes what `ethertype` announces at `off`, walking VLAN tags first.
#[inline]
pub(crate) fn ethertype(p: &mut Packet, data: &[u8], mut off: usize, mut ethertype: u16) {
    for _ in 0..MAX_VLAN_WALK {
        if !is_vlan(ethertype) {
            break;
        }
        let Some(tag) = chunk::<TAG_LEN>(data, off) else {
            fail(p, DecodeErrorKind::TruncatedVlan);
            return;
        };
        if let Some(slot) = p.vlans.get_mut(usize::from(p.vlan_count)) {
            *slot = be16_of(tag[0], tag[1]) & 0x0fff;
        }
        p.vlan_count = p.vlan_count.saturating_add(1);
        ethertype = be16_of(tag[2], tag[3]);
        off = off.saturating_add(TAG_LEN);
    }
    if is_vlan(ethertype) {
        // More stacked tags than the walk allows.
        fail(p, DecodeErrorKind::TruncatedVlan);
        return;
    }
    match ethertype {
        ETHERTYPE_IPV4 => ipv4::decode(p, data, off),
        ETHERTYPE_IPV6 => ipv6::decode(p, data, off),
        arp::ETHERTYPE => arp::decode(p, data, off),
        ETHERTYPE_MPLS | ETHERTYPE_MPLS_MULTICAST => mpls(p, data, off, ethertype),
        ETHERTYPE_PPPOE_SESSION => pppoe_session(p, data, off),
        t if t < MIN_ETHERTYPE => p.network = Network::Other { ethertype: 0 },
        t => p.network = Network::Other { ethertype: t },
    }
}

/// Walks an MPLS label stack at `off` to its bottom, then guesses the payload from the first
/// nibble (4 IPv4, 6 IPv6; anything else, e.g. a pseudowire, is `Other`).
#[inline]
pub(crate) fn mpls(p: &mut Packet, data: &[u8], mut off: usize, ethertype: u16) {
    for _ in 0..MAX_MPLS_LABELS {
        let Some(label) = chunk::<TAG_LEN>(data, off) else {
            fail(p, DecodeErrorKind::TruncatedLink);
            return;
        };
        off = off.saturating_add(TAG_LEN);
        if label[2] & 0x01 != 0 {
            match u8_at(data, off).map(|b| b >> 4) {
                Some(4) => ipv4::decode(p, data, off),
                Some(6) => ipv6::decode(p, data, off),
                Some(_) => p.network = Network::Other { ethertype },
                None => fail(p, DecodeErrorKind::TruncatedLink),
            }
            return;
        }
    }
    // A deeper stack than the walk allows: not decoded, not an error.
    p.network = Network::Other { ethertype };
}

/// Decodes a PPPoE session packet at `off`.
#[inline]
fn pppoe_session(p: &mut Packet, data: &[u8], off: usize) {
    let Some(h) = chunk::<PPPOE_LEN>(data, off) else {
        fail(p, DecodeErrorKind::TruncatedLink);
        return;
    };
    link::ppp_protocol(
        p,
        data,
        off.saturating_add(PPPOE_LEN),
        be16_of(h[6], h[7]),
        ETHERTYPE_PPPOE_SESSION,
    );
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use crate::*;
    use wirewatch_core::proto::tcp_flags;
    use wirewatch_core::{LinkType, ProtoClass};

    fn tcp_v4() -> Vec<u8> {
        ipv4(6, &tcp(1234, 80, tcp_flags::SYN, &[], b""))
    }

    #[test]
    fn plain_ethernet_ipv4() {
        let p = decode(LinkType::ETHERNET, &eth(0x0800, &tcp_v4()));
        assert_eq!(p.error, None);
        assert_eq!(p.network, Network::Ipv4);
        assert_eq!(p.class, ProtoClass::Tcp);
        assert_eq!(p.vlan_count, 0);
        assert_eq!(p.vlans, [0; MAX_VLAN_TAGS]);
        assert_eq!(p.payload_offset, 54);
    }

    #[test]
    fn single_qinq_and_triple_tags() {
        let p = decode(
            LinkType::ETHERNET,
            &eth(0x8100, &vlan_tag(100, 0x0800, &tcp_v4())),
        );
        assert_eq!(p.error, None);
        assert_eq!((p.vlan_count, p.vlans), (1, [100, 0, 0]));
        assert_eq!(p.class, ProtoClass::Tcp);
        assert_eq!(p.payload_offset, 58);

        let inner = vlan_tag(200, 0x86dd, &ipv6(17, &udp(1, 2, b"")));
        let p = decode(
            LinkType::ETHERNET,
            &eth(0x88a8, &vlan_tag(10, 0x8100, &inner)),
        );
        assert_eq!(p.error, None);
        assert_eq!((p.vlan_count, p.vlans), (2, [10, 200, 0]));
        assert_eq!(p.class, ProtoClass::Udp);
        assert_eq!(p.payload_offset, 14 + 8 + 40 + 8);

        let inner = vlan_tag(3, 0x0800, &tcp_v4());
        let inner = vlan_tag(4095, 0x8100, &inner);
        let p = decode(
            LinkType::ETHERNET,
            &eth(0x9100, &vlan_tag(1, 0x88a8, &inner)),
        );
        assert_eq!(p.error, None);
        assert_eq!((p.vlan_count, p.vlans), (3, [1, 4095, 3]));
        assert_eq!(p.ports(), Some((1234, 80)));
    }

    #[test]
    fn deep_stacks_count_all_keep_the_first() {
        let mut payload = tcp_v4();
        let mut inner_type = 0x0800;
        for vid in (1..=MAX_VLAN_WALK as u16).rev() {
            payload = vlan_tag(vid, inner_type, &payload);
            inner_type = 0x8100;
        }
        let p = decode(LinkType::ETHERNET, &eth(0x8100, &payload));
        assert_eq!(p.error, None);
        assert_eq!(usize::from(p.vlan_count), MAX_VLAN_WALK);
        assert_eq!(p.vlans, [1, 2, 3]);
        assert_eq!(p.class, ProtoClass::Tcp);
        // One more tag than the walk allows.
        let p = decode(
            LinkType::ETHERNET,
            &eth(0x8100, &vlan_tag(9, 0x8100, &payload)),
        );
        assert_eq!(p.error, Some(DecodeErrorKind::TruncatedVlan));
        assert_eq!(p.class, ProtoClass::NonIp);
        assert_eq!(p.network, Network::None);
    }

    #[test]
    fn truncated_vlan_tag() {
        let frame = eth(
            0x8100,
            &vlan_tag(100, 0x8100, &vlan_tag(7, 0x0800, &tcp_v4())),
        );
        for cut in 14..18 {
            let p = decode(LinkType::ETHERNET, &frame[..cut]);
            assert_eq!(p.error, Some(DecodeErrorKind::TruncatedVlan));
            assert_eq!(p.vlan_count, 0);
        }
        let p = decode(LinkType::ETHERNET, &frame[..20]);
        assert_eq!(p.error, Some(DecodeErrorKind::TruncatedVlan));
        assert_eq!((p.vlan_count, p.vlans), (1, [100, 0, 0]));
        let p = decode(LinkType::ETHERNET, &frame[..22]);
        assert_eq!(p.error, Some(DecodeErrorKind::TruncatedIpv4));
        assert_eq!(p.vlan_count, 2);
    }

    #[test]
    fn truncated_ethernet_header() {
        let frame = eth(0x0800, &tcp_v4());
        for cut in 0..14 {
            let p = decode(LinkType::ETHERNET, &frame[..cut]);
            assert_eq!(p.error, Some(DecodeErrorKind::TruncatedLink));
            assert_eq!(p.network, Network::None);
            assert_eq!(p.class, ProtoClass::NonIp);
        }
        let p = decode(LinkType::ETHERNET, &frame[..14]);
        assert_eq!(p.error, Some(DecodeErrorKind::TruncatedIpv4));
    }

    #[test]
    fn llc_and_unknown_ethertypes_are_non_ip() {
        // 802.3 frame with an STP BPDU (LLC 42 42 03).
        let mut bpdu = vec![0x42, 0x42, 0x03];
        bpdu.resize(38, 0);
        let p = decode(LinkType::ETHERNET, &eth(38, &bpdu));
        assert_eq!(p.error, None);
        assert_eq!(p.network, Network::Other { ethertype: 0 });
        assert_eq!(p.class, ProtoClass::NonIp);
        // LLDP.
        let p = decode(LinkType::ETHERNET, &eth(0x88cc, &[0; 20]));
        assert_eq!(p.error, None);
        assert_eq!(p.network, Network::Other { ethertype: 0x88cc });
        assert_eq!(p.class, ProtoClass::NonIp);
        // Behind a VLAN tag.
        let p = decode(LinkType::ETHERNET, &eth(0x8100, &vlan_tag(5, 0x88cc, &[])));
        assert_eq!(p.network, Network::Other { ethertype: 0x88cc });
        assert_eq!(p.vlan_count, 1);
    }

    fn label(value: u32, bottom: bool) -> [u8; 4] {
        ((value << 12) | (u32::from(bottom) << 8) | 64).to_be_bytes()
    }

    #[test]
    fn mpls_stacks() {
        let mut payload = label(16, false).to_vec();
        payload.extend_from_slice(&label(17, true));
        payload.extend_from_slice(&tcp_v4());
        let p = decode(LinkType::ETHERNET, &eth(0x8847, &payload));
        assert_eq!(p.error, None);
        assert_eq!(p.class, ProtoClass::Tcp);
        assert_eq!(p.payload_offset, 14 + 8 + 40);

        let mut payload = label(100, true).to_vec();
        payload.extend_from_slice(&ipv6(58, &[128, 0, 0, 0, 0, 1, 0, 1]));
        let p = decode(LinkType::ETHERNET, &eth(0x8848, &payload));
        assert_eq!(p.error, None);
        assert_eq!(p.class, ProtoClass::Icmpv6);

        // Ethernet pseudowire with a control word: not guessed.
        let mut payload = label(100, true).to_vec();
        payload.extend_from_slice(&[0; 4]);
        payload.extend_from_slice(&eth(0x0800, &tcp_v4()));
        let p = decode(LinkType::ETHERNET, &eth(0x8847, &payload));
        assert_eq!(p.error, None);
        assert_eq!(p.network, Network::Other { ethertype: 0x8847 });
        assert_eq!(p.class, ProtoClass::NonIp);

        // Deeper than the walk: not decoded, not an error.
        let payload: Vec<u8> = (0..=MAX_MPLS_LABELS as u32)
            .flat_map(|i| label(i, false))
            .collect();
        let p = decode(LinkType::ETHERNET, &eth(0x8847, &payload));
        assert_eq!(p.error, None);
        assert_eq!(p.network, Network::Other { ethertype: 0x8847 });

        // Cut inside the stack or right after the bottom label.
        let mut payload = label(16, false).to_vec();
        payload.extend_from_slice(&label(17, true));
        for cut in 14..14 + 9 {
            let p = decode(LinkType::ETHERNET, &eth(0x8847, &payload)[..cut]);
            assert_eq!(p.error, Some(DecodeErrorKind::TruncatedLink), "cut {cut}");
            assert_eq!(p.network, Network::None);
        }
    }

    fn pppoe(ppp_proto: u16, payload: &[u8]) -> Vec<u8> {
        let mut s = vec![0x11, 0x00, 0x12, 0x34];
        s.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
        s.extend_from_slice(&ppp_proto.to_be_bytes());
        s.extend_from_slice(payload);
        s
    }

    #[test]
    fn pppoe_session() {
        let p = decode(LinkType::ETHERNET, &eth(0x8864, &pppoe(0x0021, &tcp_v4())));
        assert_eq!(p.error, None);
        assert_eq!(p.class, ProtoClass::Tcp);
        assert_eq!(p.payload_offset, 14 + 8 + 40);
        let p = decode(
            LinkType::ETHERNET,
            &eth(0x8864, &pppoe(0x0057, &ipv6(17, &udp(1, 2, b"")))),
        );
        assert_eq!(p.error, None);
        assert_eq!(p.class, ProtoClass::Udp);
        // LCP echo: not IP.
        let p = decode(
            LinkType::ETHERNET,
            &eth(0x8864, &pppoe(0xc021, &[9, 1, 0, 8])),
        );
        assert_eq!(p.error, None);
        assert_eq!(p.network, Network::Other { ethertype: 0x8864 });
        // Cut inside the PPPoE header or the PPP protocol.
        let frame = eth(0x8864, &pppoe(0x0021, &tcp_v4()));
        for cut in 14..22 {
            let p = decode(LinkType::ETHERNET, &frame[..cut]);
            assert_eq!(p.error, Some(DecodeErrorKind::TruncatedLink));
        }
        // PPPoE discovery is just another EtherType.
        let p = decode(LinkType::ETHERNET, &eth(0x8863, &[0x11, 0x09, 0, 0, 0, 0]));
        assert_eq!(p.network, Network::Other { ethertype: 0x8863 });
    }
}
