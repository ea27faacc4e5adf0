//! UDP header decoding.
//!
//! Owns the 8-byte UDP header and its payload accounting. It must not guess at what the payload
//! carries (VXLAN, Teredo, GTP, ... are not decoded: the packet stays UDP).

use crate::packet::{DecodeErrorKind, Packet, Transport, UdpInfo};
use crate::read::{be16_of, chunk, fail, to_u32};

/// Length of the UDP header.
pub(crate) const HEADER_LEN: usize = 8;

/// Decodes the UDP header at `off` (see [`crate::transport::decode`] for the arguments).
#[inline]
pub(crate) fn decode(p: &mut Packet, data: &[u8], off: usize, ip_payload: u32) {
    let Some(h) = chunk::<HEADER_LEN>(data, off) else {
        fail(p, DecodeErrorKind::TruncatedUdp);
        return;
    };
    let length = be16_of(h[4], h[5]);
    p.transport = Transport::Udp(UdpInfo {
        src_port: be16_of(h[0], h[1]),
        dst_port: be16_of(h[2], h[3]),
        length,
    });
    p.payload_offset = to_u32(off.saturating_add(HEADER_LEN));
    // The smaller of the two announced lengths: a UDP length beyond the IP datagram is a lie,
    // and one below it leaves trailing bytes that are not payload.
    p.payload_len = u32::from(length)
        .min(ip_payload)
        .saturating_sub(HEADER_LEN as u32);
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use crate::*;
    use wirewatch_core::{LinkType, ProtoClass};

    #[test]
    fn udp_over_ipv4() {
        let frame = eth(0x0800, &ipv4(17, &udp(5353, 53, b"hello")));
        let p = decode(LinkType::ETHERNET, &frame);
        assert_eq!(p.error, None);
        assert_eq!(p.class, ProtoClass::Udp);
        assert_eq!(
            p.transport,
            Transport::Udp(UdpInfo {
                src_port: 5353,
                dst_port: 53,
                length: 13
            })
        );
        assert_eq!(p.ports(), Some((5353, 53)));
        assert_eq!(p.payload_offset, 14 + 20 + 8);
        assert_eq!(p.payload_len, 5);
        assert_eq!(p.payload(&frame), b"hello");
    }

    #[test]
    fn udp_length_is_capped_by_the_ip_payload() {
        let mut seg = udp(1, 2, b"abcd");
        seg[4..6].copy_from_slice(&500u16.to_be_bytes());
        let p = decode(LinkType::IPV4, &ipv4(17, &seg));
        assert_eq!(p.payload_len, 4);
        // A length field below the header size yields no payload, not an underflow.
        seg[4..6].copy_from_slice(&3u16.to_be_bytes());
        let p = decode(LinkType::IPV4, &ipv4(17, &seg));
        assert_eq!(p.payload_len, 0);
        assert_eq!(p.error, None);
    }

    #[test]
    fn truncated_udp_keeps_the_ip_layer() {
        let dgram = ipv4(17, &udp(1, 2, b""));
        let p = decode(LinkType::IPV4, &dgram[..20 + 7]);
        assert_eq!(p.error, Some(DecodeErrorKind::TruncatedUdp));
        assert_eq!(p.class, ProtoClass::Udp);
        assert_eq!(p.network, Network::Ipv4);
        assert_eq!(p.transport, Transport::None);
        assert_eq!(p.src, V4_SRC);
    }
}
