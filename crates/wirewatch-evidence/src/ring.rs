//! The packet ring: the most recent packets in a fixed number of bytes.
//!
//! One buffer allocated at the start holds each packet as a fixed header (time, lengths, link
//! type and the addresses and ports the decoder found) followed by its bytes. New packets
//! overwrite the oldest; a packet that would run past the end starts again at the front. The
//! buffer never grows: memory is the buffer plus four bytes of index per packet kept, and every
//! packet kept costs at least its header, so the index is bounded too.

use std::collections::VecDeque;
use std::net::IpAddr;
use wirewatch_core::{Frame, LinkType, Timestamp};
use wirewatch_decode::Packet;

/// Bytes of the fixed header stored before each packet.
pub const HEADER_BYTES: usize = 60;

/// The smallest ring accepted (a packet of up to 256 KiB must fit several times).
pub const MIN_RING_BYTES: usize = 1 << 20;

/// The largest ring accepted (offsets are 32-bit).
pub const MAX_RING_BYTES: usize = u32::MAX as usize;

/// What the ring knows about one packet without decoding it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketMeta {
    /// Capture time.
    pub ts: Timestamp,
    /// Length on the wire.
    pub wire_len: u32,
    /// Link type of the bytes.
    pub linktype: LinkType,
    /// Source address, when the packet is IP.
    pub src: Option<IpAddr>,
    /// Destination address, when the packet is IP.
    pub dst: Option<IpAddr>,
    /// IP protocol number (0 when not IP).
    pub ip_proto: u8,
    /// Transport ports, when TCP or UDP (or SCTP-like headers the decoder reads).
    pub ports: Option<(u16, u16)>,
}

impl PacketMeta {
    /// The summary of a frame and its decoded packet.
    pub fn of(frame: &Frame<'_>, pkt: &Packet) -> Self {
        PacketMeta {
            ts: frame.ts,
            wire_len: frame.wire_len,
            linktype: frame.linktype,
            src: pkt.has_src.then_some(pkt.src),
            dst: pkt.has_dst.then_some(pkt.dst),
            ip_proto: if pkt.is_ip() { pkt.ip_proto } else { 0 },
            ports: pkt.ports(),
        }
    }

    fn encode(&self, caplen: u32, out: &mut [u8]) {
        out[0..8].copy_from_slice(&self.ts.nanos().to_le_bytes());
        out[8..12].copy_from_slice(&self.wire_len.to_le_bytes());
        out[12..16].copy_from_slice(&caplen.to_le_bytes());
        out[16..20].copy_from_slice(&self.linktype.0.to_le_bytes());
        out[20] = family(self.src);
        out[21] = family(self.dst);
        out[22] = self.ip_proto;
        out[23] = u8::from(self.ports.is_some());
        let (sp, dp) = self.ports.unwrap_or((0, 0));
        out[24..26].copy_from_slice(&sp.to_le_bytes());
        out[26..28].copy_from_slice(&dp.to_le_bytes());
        out[28..44].copy_from_slice(&addr_bytes(self.src));
        out[44..60].copy_from_slice(&addr_bytes(self.dst));
    }

    fn decode(h: &[u8]) -> (PacketMeta, u32) {
        let u32_at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let u16_at = |i: usize| u16::from_le_bytes([h[i], h[i + 1]]);
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&h[0..8]);
        let meta = PacketMeta {
            ts: Timestamp(u64::from_le_bytes(ts)),
            wire_len: u32_at(8),
            linktype: LinkType(u32_at(16)),
            src: addr_from(h[20], &h[28..44]),
            dst: addr_from(h[21], &h[44..60]),
            ip_proto: h[22],
            ports: (h[23] == 1).then(|| (u16_at(24), u16_at(26))),
        };
        (meta, u32_at(12))
    }
}

fn family(ip: Option<IpAddr>) -> u8 {
    match ip {
        None => 0,
        Some(IpAddr::V4(_)) => 4,
        Some(IpAddr::V6(_)) => 6,
    }
}

fn addr_bytes(ip: Option<IpAddr>) -> [u8; 16] {
    match ip {
        None => [0; 16],
        Some(IpAddr::V4(a)) => a.to_ipv6_mapped().octets(),
        Some(IpAddr::V6(a)) => a.octets(),
    }
}

fn addr_from(family: u8, b: &[u8]) -> Option<IpAddr> {
    let mut o = [0u8; 16];
    o.copy_from_slice(b);
    let v6 = std::net::Ipv6Addr::from(o);
    match family {
        4 => v6.to_ipv4_mapped().map(IpAddr::V4),
        6 => Some(IpAddr::V6(v6)),
        _ => None,
    }
}

/// Counters of a ring.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RingStats {
    /// The buffer's size in bytes.
    pub capacity_bytes: u64,
    /// Bytes occupied by the packets kept (headers included).
    pub used_bytes: u64,
    /// Packets kept.
    pub packets: u64,
    /// Packets pushed over the run.
    pub pushed: u64,
    /// Packets overwritten to make room.
    pub evicted: u64,
    /// Packets too large to keep at all.
    pub too_large: u64,
}

/// The most recent packets in a fixed number of bytes.
pub struct PacketRing {
    buf: Vec<u8>,
    /// Offset and captured length of the packets kept, oldest first (the length is here, not
    /// only in the buffer, so overwriting the oldest reads no cold memory).
    index: VecDeque<(u32, u32)>,
    /// Where the next packet goes.
    head: usize,
    used: usize,
    pushed: u64,
    evicted: u64,
    too_large: u64,
}

impl PacketRing {
    /// A ring of `bytes` bytes (clamped to `MIN_RING_BYTES..=MAX_RING_BYTES`). The buffer
    /// and the largest index it can need are allocated and touched at once, so the memory the
    /// ring costs shows from the start (in RSS too) and never grows as it fills.
    pub fn new(bytes: usize) -> Self {
        let bytes = bytes.clamp(MIN_RING_BYTES, MAX_RING_BYTES);
        let mut buf = vec![0u8; bytes];
        // Zeroed pages are mapped lazily: write one byte per page to commit them now.
        // (`black_box` keeps the compiler from proving the stores redundant.)
        for page in buf.iter_mut().step_by(4096) {
            *std::hint::black_box(page) = 0;
        }
        // Every packet costs at least a header, so this many entries is the most there can be.
        let mut index = VecDeque::new();
        index.resize(bytes / HEADER_BYTES + 1, (0, 0));
        index.clear();
        PacketRing {
            buf,
            index,
            head: 0,
            used: 0,
            pushed: 0,
            evicted: 0,
            too_large: 0,
        }
    }

    /// Keeps a packet, overwriting the oldest as needed.
    pub fn push(&mut self, meta: &PacketMeta, data: &[u8]) {
        self.pushed += 1;
        let need = HEADER_BYTES + data.len();
        let cap = self.buf.len();
        if need > cap / 4 {
            self.too_large += 1;
            return;
        }
        let start = if self.head + need <= cap {
            self.head
        } else {
            // Wrap: everything from the old head to the end is the oldest; drop it.
            while let Some(&(off, _)) = self.index.front() {
                if (off as usize) < self.head {
                    break;
                }
                self.evict_front();
            }
            0
        };
        // Drop the oldest packets the new one overlaps (the oldest starts at or after `start`).
        while let Some(&(off, _)) = self.index.front() {
            let off = off as usize;
            if off < start || off >= start + need {
                break;
            }
            self.evict_front();
        }
        let caplen = u32::try_from(data.len()).unwrap_or(u32::MAX);
        meta.encode(caplen, &mut self.buf[start..start + HEADER_BYTES]);
        self.buf[start + HEADER_BYTES..start + need].copy_from_slice(data);
        // `start` < cap ≤ u32::MAX.
        self.index.push_back((start as u32, caplen));
        self.used += need;
        self.head = start + need;
    }

    fn evict_front(&mut self) {
        if let Some((_, caplen)) = self.index.pop_front() {
            self.used -= HEADER_BYTES + caplen as usize;
            self.evicted += 1;
        }
    }

    fn meta_at(&self, off: usize) -> (PacketMeta, u32) {
        PacketMeta::decode(&self.buf[off..off + HEADER_BYTES])
    }

    /// The packets kept, oldest first, with their bytes.
    pub fn iter(&self) -> impl Iterator<Item = (PacketMeta, &[u8])> + '_ {
        self.index.iter().map(move |&(off, caplen)| {
            let off = off as usize;
            let (meta, _) = self.meta_at(off);
            let data = &self.buf[off + HEADER_BYTES..off + HEADER_BYTES + caplen as usize];
            (meta, data)
        })
    }

    /// Whether packets from `from` on may have been overwritten already: some were, and the
    /// oldest kept is later than `from`.
    pub fn may_miss_since(&self, from: Timestamp) -> bool {
        self.evicted > 0 && self.oldest().is_none_or(|o| o > from)
    }

    /// Capture time of the oldest packet kept.
    pub fn oldest(&self) -> Option<Timestamp> {
        self.index
            .front()
            .map(|&(off, _)| self.meta_at(off as usize).0.ts)
    }

    /// The counters.
    pub fn stats(&self) -> RingStats {
        RingStats {
            capacity_bytes: self.buf.len() as u64,
            used_bytes: self.used as u64,
            packets: self.index.len() as u64,
            pushed: self.pushed,
            evicted: self.evicted,
            too_large: self.too_large,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(ts: u64, src: &str, dst: &str, ports: Option<(u16, u16)>) -> PacketMeta {
        PacketMeta {
            ts: Timestamp(ts),
            wire_len: 100,
            linktype: LinkType(1),
            src: Some(src.parse().unwrap()),
            dst: Some(dst.parse().unwrap()),
            ip_proto: 6,
            ports,
        }
    }

    #[test]
    fn header_round_trips_both_families_and_no_ip() {
        let mut h = [0u8; HEADER_BYTES];
        let m = meta(
            1_700_000_000_123_456_789,
            "10.0.0.1",
            "2001:db8::5",
            Some((1234, 80)),
        );
        m.encode(77, &mut h);
        assert_eq!(PacketMeta::decode(&h), (m, 77));
        let none = PacketMeta {
            src: None,
            dst: None,
            ip_proto: 0,
            ports: None,
            ..m
        };
        none.encode(0, &mut h);
        assert_eq!(PacketMeta::decode(&h), (none, 0));
    }

    #[test]
    fn keeps_everything_until_full_then_the_newest() {
        let mut ring = PacketRing::new(MIN_RING_BYTES);
        let data = vec![0xabu8; 1000];
        let per = HEADER_BYTES + data.len();
        let fits = MIN_RING_BYTES / per;
        for i in 0..fits as u64 {
            ring.push(&meta(i, "10.0.0.1", "10.0.0.2", None), &data);
        }
        assert_eq!(ring.stats().packets, fits as u64);
        assert_eq!(ring.stats().evicted, 0);
        assert!(!ring.may_miss_since(Timestamp(0)));
        // Ten thousand more: the ring holds the newest and never more than its size.
        for i in fits as u64..fits as u64 + 10_000 {
            let mut d = data.clone();
            d[0] = (i % 251) as u8;
            ring.push(&meta(i, "10.0.0.1", "10.0.0.2", None), &d);
            let s = ring.stats();
            assert!(s.used_bytes <= s.capacity_bytes);
        }
        let s = ring.stats();
        assert_eq!(s.pushed, fits as u64 + 10_000);
        assert_eq!(s.packets + s.evicted, s.pushed);
        let kept: Vec<u64> = ring.iter().map(|(m, _)| m.ts.0).collect();
        let newest = fits as u64 + 10_000 - 1;
        assert_eq!(*kept.last().unwrap(), newest);
        // Consecutive and ending at the newest: nothing in the middle lost.
        for w in kept.windows(2) {
            assert_eq!(w[1], w[0] + 1);
        }
        assert_eq!(ring.oldest(), Some(Timestamp(kept[0])));
        assert!(ring.may_miss_since(Timestamp(kept[0] - 1)));
        assert!(!ring.may_miss_since(Timestamp(kept[0])));
        // The bytes are each packet's own.
        for (m, d) in ring.iter() {
            assert_eq!(d.len(), 1000);
            if m.ts.0 >= fits as u64 {
                assert_eq!(d[0], (m.ts.0 % 251) as u8);
            }
        }
    }

    #[test]
    fn mixed_sizes_stay_within_the_buffer() {
        let mut ring = PacketRing::new(MIN_RING_BYTES);
        let mut x: u64 = 7;
        for i in 0..200_000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = (x >> 33) as usize % 9000;
            let data = vec![(i % 256) as u8; len];
            ring.push(&meta(i, "10.0.0.1", "10.0.0.2", None), &data);
            let s = ring.stats();
            assert!(s.used_bytes <= s.capacity_bytes, "{s:?}");
        }
        let mut prev = None;
        for (m, d) in ring.iter() {
            assert!(d.iter().all(|&b| b == (m.ts.0 % 256) as u8));
            if let Some(p) = prev {
                assert_eq!(m.ts.0, p + 1);
            }
            prev = Some(m.ts.0);
        }
        assert_eq!(prev, Some(199_999));
    }

    #[test]
    fn oversized_packets_are_counted_not_kept() {
        let mut ring = PacketRing::new(MIN_RING_BYTES);
        ring.push(
            &meta(1, "10.0.0.1", "10.0.0.2", None),
            &vec![0; MIN_RING_BYTES],
        );
        ring.push(&meta(2, "10.0.0.1", "10.0.0.2", None), &[1, 2, 3]);
        let s = ring.stats();
        assert_eq!((s.too_large, s.packets), (1, 1));
        assert_eq!(ring.iter().next().unwrap().1, &[1, 2, 3]);
    }

    #[test]
    fn zero_length_packets_still_cost_their_header() {
        let mut ring = PacketRing::new(MIN_RING_BYTES);
        for i in 0..1_000_000u64 {
            ring.push(&meta(i, "10.0.0.1", "10.0.0.2", None), &[]);
        }
        assert_eq!(ring.stats().packets, (MIN_RING_BYTES / HEADER_BYTES) as u64);
    }
}
