//! Hands the IP payload to the right transport decoder.
//!
//! Owns the choice of transport decoder by IP protocol number and the payload accounting for
//! protocols without a decoded header (tunnels, ESP, non-first fragments). It must not look
//! inside tunnels: a tunnelled packet is its outer protocol.

use crate::packet::Packet;
use crate::read::to_u32;
use crate::{icmp, tcp, udp};
use wirewatch_core::proto::{IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP};

/// Decodes the transport header of protocol `proto` at `off`.
///
/// `data` ends where the IP datagram ends (Ethernet padding already cut off); `ip_payload` is
/// the IP payload length announced by the IP header(s), which may exceed the captured bytes.
#[inline]
pub(crate) fn decode(p: &mut Packet, data: &[u8], off: usize, ip_payload: u32, proto: u8) {
    match proto {
        IPPROTO_TCP => tcp::decode(p, data, off, ip_payload),
        IPPROTO_UDP => udp::decode(p, data, off, ip_payload),
        IPPROTO_ICMP => icmp::decode_v4(p, data, off, ip_payload),
        IPPROTO_ICMPV6 => icmp::decode_v6(p, data, off, ip_payload),
        _ => opaque(p, off, ip_payload),
    }
}

/// Records the whole IP payload as the payload: for protocols whose header is not decoded and
/// for non-first fragments (whose bytes are all transport payload).
#[inline]
pub(crate) fn opaque(p: &mut Packet, off: usize, ip_payload: u32) {
    p.payload_offset = to_u32(off);
    p.payload_len = ip_payload;
}
