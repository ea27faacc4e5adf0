//! What the attack frames have in common: IPv4 + TCP frame writing, link addresses, and the
//! delays and gaps of the scripts.

use crate::synth::build::{Body, FrameSpec, IpPacket, MacAddr, TcpSegment, Transport};
use crate::synth::pools::GATEWAY_MAC;
use crate::synth::rng::Rng;
use std::net::{IpAddr, Ipv4Addr};
use wirewatch_core::time::NANOS_PER_SEC;

/// A host on the LAN answers 60–300 µs after the packet passed the capture point.
const LAN_DELAY_NS: (u64, u64) = (60_000, 300_000);
/// Round trip to an outside host as seen from the LAN edge: 18–32 ms.
const WAN_RTT_NS: (u64, u64) = (18_000_000, 32_000_000);
/// The longest answer chain of any script: a WAN round trip plus a LAN delay, rounded up.
/// Scripts stop starting exchanges this long before their phase ends.
pub(super) const LONGEST_ANSWER_NS: u64 = 50_000_000;
/// MSS announced by every host here (Ethernet, IPv4).
pub(super) const MSS: u16 = 1460;

/// The IPv4 header fields that vary between the attack frames.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ip4 {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
    pub id: u16,
    /// Don't-fragment: set by real stacks, not by nmap's or hping's raw packets.
    pub df: bool,
}

/// Writes an Ethernet + IPv4 + TCP frame into `buf`.
pub(super) fn tcp_frame(buf: &mut Vec<u8>, ip: Ip4, seg: TcpSegment<'_>) {
    let packet = IpPacket {
        src: IpAddr::V4(ip.src),
        dst: IpAddr::V4(ip.dst),
        ttl: ip.ttl,
        id: u32::from(ip.id),
        dont_fragment: ip.df,
        transport: Transport::Tcp(seg),
        ..IpPacket::default()
    };
    FrameSpec::new(mac_of(ip.src), mac_of(ip.dst), Body::Ip(packet)).build(buf);
}

/// The MAC a host is reached at from the capture point: its own for LAN hosts (10.0.0.0/8),
/// the gateway's for outside hosts.
fn mac_of(addr: Ipv4Addr) -> MacAddr {
    let o = addr.octets();
    if o[0] == 10 {
        // Locally administered, and 02:01 rather than the generator's 02:00.
        [0x02, 0x01, o[0], o[1], o[2], o[3]]
    } else {
        GATEWAY_MAC
    }
}

/// nmap's raw probes carry a random TTL of 37–59.
pub(super) fn nmap_ttl(rng: &mut Rng) -> u8 {
    rng.range(37, 59) as u8
}

/// How long a LAN host takes to answer.
pub(super) fn lan_delay(rng: &mut Rng) -> u64 {
    rng.range(LAN_DELAY_NS.0, LAN_DELAY_NS.1)
}

/// How long an outside host takes to answer.
pub(super) fn wan_rtt(rng: &mut Rng) -> u64 {
    rng.range(WAN_RTT_NS.0, WAN_RTT_NS.1)
}

/// A gap between events at `rate` per second: the mean gap times a uniform factor in
/// `lo..hi`, whose midpoint must be 1 for the rate to hold. Basic arithmetic only, so every
/// platform computes the same times.
pub(super) fn jitter(rng: &mut Rng, rate: f64, lo: f64, hi: f64) -> u64 {
    let mean = NANOS_PER_SEC as f64 / rate;
    (mean * (lo + (hi - lo) * rng.unit())) as u64
}
