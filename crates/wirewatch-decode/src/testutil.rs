//! Frame builders shared by the unit tests (test builds only).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Source address of every IPv4 datagram built here.
pub const V4_SRC: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
/// Destination address of every IPv4 datagram built here.
pub const V4_DST: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
/// Source address of every IPv6 datagram built here.
pub const V6_SRC: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
/// Destination address of every IPv6 datagram built here.
pub const V6_DST: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2));

/// An Ethernet II frame.
pub fn eth(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
    ];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// A VLAN tag (TCI with priority 5, then the inner EtherType) followed by `payload`.
pub fn vlan_tag(vid: u16, inner: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = (0xa000 | vid).to_be_bytes().to_vec();
    v.extend_from_slice(&inner.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// Builder of IPv4 datagrams.
pub struct Ipv4 {
    proto: u8,
    payload: Vec<u8>,
    options: Vec<u8>,
    id: u16,
    flags_frag: u16,
    ttl: u8,
    total_len: Option<u16>,
}

impl Ipv4 {
    pub fn new(proto: u8, payload: &[u8]) -> Self {
        Ipv4 {
            proto,
            payload: payload.to_vec(),
            options: Vec::new(),
            id: 0x1234,
            flags_frag: 0x4000, // DF
            ttl: 64,
            total_len: None,
        }
    }

    /// Options (a multiple of 4 bytes).
    pub fn options(mut self, options: &[u8]) -> Self {
        assert_eq!(options.len() % 4, 0);
        self.options = options.to_vec();
        self
    }

    pub fn id(mut self, id: u16) -> Self {
        self.id = id;
        self
    }

    /// Fragment offset in 8-byte units and the MF flag.
    pub fn frag(mut self, offset_units: u16, more: bool) -> Self {
        self.flags_frag = offset_units | if more { 0x2000 } else { 0 };
        self
    }

    pub fn ttl(mut self, ttl: u8) -> Self {
        self.ttl = ttl;
        self
    }

    /// Overrides the total-length field.
    pub fn total_len(mut self, total_len: u16) -> Self {
        self.total_len = Some(total_len);
        self
    }

    pub fn build(self) -> Vec<u8> {
        let hlen = 20 + self.options.len();
        let total = self
            .total_len
            .unwrap_or(u16::try_from(hlen + self.payload.len()).unwrap());
        let mut d = vec![0x40 | u8::try_from(hlen / 4).unwrap(), 0];
        d.extend_from_slice(&total.to_be_bytes());
        d.extend_from_slice(&self.id.to_be_bytes());
        d.extend_from_slice(&self.flags_frag.to_be_bytes());
        d.extend_from_slice(&[self.ttl, self.proto, 0, 0]);
        d.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        d.extend_from_slice(&self.options);
        d.extend_from_slice(&self.payload);
        d
    }
}

/// A plain IPv4 datagram (DF set, TTL 64, 10.0.0.1 → 10.0.0.2).
pub fn ipv4(proto: u8, payload: &[u8]) -> Vec<u8> {
    Ipv4::new(proto, payload).build()
}

/// An IPv6 datagram (hop limit 64, 2001:db8::1 → 2001:db8::2); `payload` includes any
/// extension headers.
pub fn ipv6(next: u8, payload: &[u8]) -> Vec<u8> {
    let mut d = vec![0x60, 0, 0, 0];
    d.extend_from_slice(&u16::try_from(payload.len()).unwrap().to_be_bytes());
    d.extend_from_slice(&[next, 64]);
    d.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    d.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    d.extend_from_slice(payload);
    d
}

/// A TCP segment (seq 0x10000001, ack 0x20000002, window 64240); `options` is a multiple of 4.
pub fn tcp(sport: u16, dport: u16, flags: u8, options: &[u8], payload: &[u8]) -> Vec<u8> {
    assert_eq!(options.len() % 4, 0);
    let doff = u8::try_from((20 + options.len()) / 4).unwrap();
    let mut s = Vec::new();
    s.extend_from_slice(&sport.to_be_bytes());
    s.extend_from_slice(&dport.to_be_bytes());
    s.extend_from_slice(&0x1000_0001u32.to_be_bytes());
    s.extend_from_slice(&0x2000_0002u32.to_be_bytes());
    s.extend_from_slice(&[doff << 4, flags]);
    s.extend_from_slice(&64240u16.to_be_bytes());
    s.extend_from_slice(&[0, 0, 0, 0]);
    s.extend_from_slice(options);
    s.extend_from_slice(payload);
    s
}

/// A UDP datagram with a correct length field.
pub fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut s = Vec::new();
    s.extend_from_slice(&sport.to_be_bytes());
    s.extend_from_slice(&dport.to_be_bytes());
    s.extend_from_slice(&u16::try_from(8 + payload.len()).unwrap().to_be_bytes());
    s.extend_from_slice(&[0, 0]);
    s.extend_from_slice(payload);
    s
}
