//! 802.11 (Wi-Fi) frames: plain, behind a radiotap header, or behind a PPI header — what a
//! monitor-mode capture holds (PPI may also carry Ethernet).
//!
//! Owns walking to the data frame's LLC/SNAP header and handing its EtherType to the Ethernet
//! dispatch. Management and control frames, and protected (encrypted) data frames, carry
//! nothing to decode: they are other, non-IP frames (`ethertype` 0).

use crate::ethernet;
use crate::packet::{DecodeErrorKind, Network, Packet};
use crate::read::{chunk, fail, u8_at};

/// PPI's data link type of an 802.11 frame.
const PPI_DLT_80211: u32 = 105;
/// PPI's data link type of an Ethernet frame.
const PPI_DLT_ETHERNET: u32 = 1;
/// LLC/SNAP header before an EtherType: DSAP, SSAP, control, OUI 00-00-00.
const SNAP: [u8; 6] = [0xAA, 0xAA, 0x03, 0x00, 0x00, 0x00];

/// Decodes a radiotap header (little-endian length at 2..4), then the 802.11 frame.
pub(crate) fn radiotap(p: &mut Packet, data: &[u8]) {
    let Some(h) = chunk::<4>(data, 0) else {
        fail(p, DecodeErrorKind::TruncatedLink);
        return;
    };
    if h[0] != 0 {
        // Only version 0 exists.
        p.network = Network::Other { ethertype: 0 };
        return;
    }
    let len = usize::from(u16::from_le_bytes([h[2], h[3]]));
    if len < 8 {
        fail(p, DecodeErrorKind::TruncatedLink);
        return;
    }
    ieee80211(p, data, len);
}

/// Decodes a PPI header (little-endian length at 2..4, data link type at 4..8), then the
/// 802.11 or Ethernet frame it carries.
pub(crate) fn ppi(p: &mut Packet, data: &[u8]) {
    let Some(h) = chunk::<8>(data, 0) else {
        fail(p, DecodeErrorKind::TruncatedLink);
        return;
    };
    let len = usize::from(u16::from_le_bytes([h[2], h[3]]));
    let dlt = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
    if len < 8 {
        fail(p, DecodeErrorKind::TruncatedLink);
        return;
    }
    match dlt {
        PPI_DLT_80211 => ieee80211(p, data, len),
        PPI_DLT_ETHERNET => ethernet::decode_at(p, data, len),
        _ => p.network = Network::Other { ethertype: 0 },
    }
}

/// Decodes an 802.11 frame at `off`: data frames only, their header (24 bytes, 30 with a
/// fourth address, 2 more for QoS, 4 more for HT control), then LLC/SNAP and the EtherType.
pub(crate) fn ieee80211(p: &mut Packet, data: &[u8], off: usize) {
    let Some(fc) = chunk::<2>(data, off) else {
        fail(p, DecodeErrorKind::TruncatedLink);
        return;
    };
    let kind = (fc[0] >> 2) & 0x03;
    let subtype = fc[0] >> 4;
    let flags = fc[1];
    let protected = flags & 0x40 != 0;
    // Data frames; subtypes 4..7 and 12..15 carry no data (null functions, CF-only).
    if kind != 2 || subtype & 0x04 != 0 || protected {
        p.network = Network::Other { ethertype: 0 };
        return;
    }
    let mut header = 24;
    if flags & 0x03 == 0x03 {
        header += 6;
    }
    let qos = subtype & 0x08 != 0;
    if qos {
        header += 2;
        if flags & 0x80 != 0 {
            header += 4;
        }
    }
    let snap_at = off.saturating_add(header);
    let Some(snap) = chunk::<8>(data, snap_at) else {
        fail(p, DecodeErrorKind::TruncatedLink);
        return;
    };
    if snap[..6] != SNAP {
        p.network = Network::Other { ethertype: 0 };
        return;
    }
    let ethertype = u16::from_be_bytes([snap[6], snap[7]]);
    if u8_at(data, snap_at + 8).is_none() && ethertype != 0 {
        fail(p, DecodeErrorKind::TruncatedLink);
        return;
    }
    ethernet::ethertype(p, data, snap_at + 8, ethertype);
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use crate::*;
    use wirewatch_core::{LinkType, ProtoClass};

    /// An 802.11 data frame (QoS data when `qos`) carrying `payload` after LLC/SNAP.
    fn data_frame(qos: bool, flags: u8, ethertype: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![if qos { 0x88 } else { 0x08 }, flags, 0, 0];
        f.extend_from_slice(&[0x11; 20]); // three addresses and sequence control
        if flags & 0x03 == 0x03 {
            f.extend_from_slice(&[0x22; 6]);
        }
        if qos {
            f.extend_from_slice(&[0, 0]);
        }
        f.extend_from_slice(&[0xAA, 0xAA, 0x03, 0, 0, 0]);
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    fn syn() -> Vec<u8> {
        ipv4(6, &tcp(1234, 80, 0x02, &[], b""))
    }

    fn radiotap_header() -> Vec<u8> {
        // Version 0, length 12: TSFT not present, flags present (bit 1) and a pad byte.
        vec![0, 0, 12, 0, 0x02, 0, 0, 0, 0x10, 0, 0, 0]
    }

    #[test]
    fn radiotap_qos_data_carries_ip() {
        let mut frame = radiotap_header();
        frame.extend_from_slice(&data_frame(true, 0x01, 0x0800, &syn()));
        let p = decode(LinkType(127), &frame);
        assert_eq!(p.error, None);
        assert_eq!(p.class, ProtoClass::Tcp);
        assert_eq!(p.ports(), Some((1234, 80)));
    }

    #[test]
    fn plain_80211_with_four_addresses_and_ppi() {
        let frame = data_frame(false, 0x03, 0x0800, &syn());
        let p = decode(LinkType(105), &frame);
        assert_eq!(p.class, ProtoClass::Tcp);
        let mut ppi = vec![0, 0, 8, 0, 105, 0, 0, 0];
        ppi.extend_from_slice(&data_frame(
            true,
            0x02,
            0x86DD,
            &ipv6(17, &udp(5353, 53, b"x")),
        ));
        let p = decode(LinkType(192), &ppi);
        assert_eq!(p.class, ProtoClass::Udp);
        assert_eq!(p.network, Network::Ipv6);
        let mut ppi_eth = vec![0, 0, 8, 0, 1, 0, 0, 0];
        ppi_eth.extend_from_slice(&eth(0x0800, &syn()));
        let p = decode(LinkType(192), &ppi_eth);
        assert_eq!(p.ports(), Some((1234, 80)));
        assert_eq!(p.payload(&ppi_eth), b"");
    }

    #[test]
    fn management_protected_and_cut_frames_are_not_ip() {
        let beacon = [
            0x80u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        let p = decode(LinkType(105), &beacon);
        assert_eq!((p.class, p.error), (ProtoClass::NonIp, None));
        let protected = data_frame(false, 0x41, 0x0800, &syn());
        assert_eq!(decode(LinkType(105), &protected).class, ProtoClass::NonIp);
        let cut = &data_frame(false, 0x01, 0x0800, &syn())[..26];
        assert_eq!(
            decode(LinkType(105), cut).error,
            Some(DecodeErrorKind::TruncatedLink)
        );
        assert_eq!(
            decode(LinkType(127), &[0, 0, 4, 0]).error,
            Some(DecodeErrorKind::TruncatedLink)
        );
    }
}
