//! Finding the fragment in the bytes of an IP datagram: the header to keep, the fragment's
//! place in its datagram and its data. Bounded like the decoder: at most
//! [`MAX_EXTENSION_HEADERS`] IPv6 extension headers are walked.

use super::stats::FragmentDrop;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use wirewatch_decode::{Fragment, MAX_EXTENSION_HEADERS};

/// Length of the fixed IPv4 header.
const IPV4_HEADER: usize = 20;
/// Length of the fixed IPv6 header.
pub(super) const IPV6_HEADER: usize = 40;
/// Length of the IPv6 fragment extension header.
const IPV6_FRAGMENT_HEADER: usize = 8;
/// IPv6 Next Header value of the fragment header.
const IPV6_FRAGMENT: u8 = 44;
/// IPv4 more-fragments flag.
const IPV4_MF: u16 = 0x2000;
/// IPv4 fragment offset bits (8-byte units).
const IPV4_OFFSET: u16 = 0x1fff;

/// The IP version of a fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpVersion {
    /// IPv4: the fragment fields are in the header.
    V4,
    /// IPv6: the fragment fields are in the fragment extension header.
    V6,
}

/// One fragment, borrowed from the captured bytes of its IP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragmentRef<'a> {
    /// IPv4 or IPv6.
    pub version: IpVersion,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IPv4: the protocol field (part of the datagram's identity). IPv6: the fragment header's
    /// Next Header, the first header of the fragmentable part (only the first fragment's
    /// counts, RFC 8200 §4.5).
    pub proto: u8,
    /// Identification, offset in bytes and the more-fragments flag.
    pub frag: Fragment,
    /// The header that stays in front of the reassembled datagram. IPv4: the whole header,
    /// options included. IPv6: the fixed header and the extension headers before the fragment
    /// header (the unfragmentable part).
    pub header: &'a [u8],
    /// IPv6: where in `header` the Next Header field that names the fragment header is (6 in
    /// the fixed header, or the first byte of the last extension header). Unused for IPv4.
    pub next_header_at: usize,
    /// The fragment's data: what follows the IPv4 header or the IPv6 fragment header, as long
    /// as the header announces.
    pub data: &'a [u8],
}

/// What [`FragmentRef::parse`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// Not a fragment (or not IP, or too short to tell): process the packet as it is.
    NotFragment,
    /// A fragment (an IPv6 atomic fragment included).
    Fragment(FragmentRef<'a>),
    /// A fragment that cannot be reassembled.
    Invalid(FragmentDrop),
}

impl<'a> FragmentRef<'a> {
    /// Finds the fragment in `ip`, the captured bytes of an IP datagram from its first header
    /// byte on. Bytes past the announced length (link padding) are ignored.
    pub fn parse(ip: &'a [u8]) -> Parsed<'a> {
        match ip.first().map(|b| b >> 4) {
            Some(4) => parse_v4(ip),
            Some(6) => parse_v6(ip),
            _ => Parsed::NotFragment,
        }
    }

    /// The fragment's end in its datagram (offset + length), without overflow.
    pub fn end(&self) -> u64 {
        u64::from(self.frag.offset) + self.data.len() as u64
    }
}

fn be16(a: u8, b: u8) -> u16 {
    u16::from_be_bytes([a, b])
}

fn parse_v4(ip: &[u8]) -> Parsed<'_> {
    let Some(h) = ip.first_chunk::<IPV4_HEADER>() else {
        // A header cut short still says whether it is a fragment once the flags are captured.
        return match ip.get(6..8) {
            Some(&[a, b]) if be16(a, b) & (IPV4_MF | IPV4_OFFSET) != 0 => {
                Parsed::Invalid(FragmentDrop::Truncated)
            }
            _ => Parsed::NotFragment,
        };
    };
    let flags = be16(h[6], h[7]);
    let more = flags & IPV4_MF != 0;
    let offset = u32::from(flags & IPV4_OFFSET) * 8;
    if !more && offset == 0 {
        return Parsed::NotFragment;
    }
    let ihl = usize::from(h[0] & 0x0f) * 4;
    let total = usize::from(be16(h[2], h[3]));
    if ihl < IPV4_HEADER || total < ihl {
        return Parsed::Invalid(FragmentDrop::Malformed);
    }
    let (Some(header), Some(data)) = (ip.get(..ihl), ip.get(ihl..total)) else {
        return Parsed::Invalid(FragmentDrop::Truncated);
    };
    Parsed::Fragment(FragmentRef {
        version: IpVersion::V4,
        src: IpAddr::V4(Ipv4Addr::new(h[12], h[13], h[14], h[15])),
        dst: IpAddr::V4(Ipv4Addr::new(h[16], h[17], h[18], h[19])),
        proto: h[9],
        frag: Fragment {
            id: u32::from(be16(h[4], h[5])),
            offset,
            more,
        },
        header,
        next_header_at: 0,
        data,
    })
}

fn parse_v6(ip: &[u8]) -> Parsed<'_> {
    let Some(h) = ip.first_chunk::<IPV6_HEADER>() else {
        return Parsed::NotFragment;
    };
    let payload_len = usize::from(be16(h[4], h[5]));
    let end = IPV6_HEADER + payload_len;
    let mut next = h[6];
    let mut next_at = 6;
    let mut pos = IPV6_HEADER;
    for _ in 0..MAX_EXTENSION_HEADERS {
        let len = match next {
            IPV6_FRAGMENT => return v6_fragment(ip, h, pos, next_at, end, payload_len),
            // Authentication header: length in 4-byte units, less 2.
            51 => match ip.get(pos + 1) {
                Some(&n) => (usize::from(n) + 2) * 4,
                None => return Parsed::NotFragment,
            },
            // Hop-by-hop, routing, destination options, mobility, HIP, shim6: 8-byte units,
            // less 1.
            0 | 43 | 60 | 135 | 139 | 140 => match ip.get(pos + 1) {
                Some(&n) => (usize::from(n) + 1) * 8,
                None => return Parsed::NotFragment,
            },
            _ => return Parsed::NotFragment,
        };
        let Some(&nh) = ip.get(pos) else {
            return Parsed::NotFragment;
        };
        next = nh;
        next_at = pos;
        pos += len;
    }
    Parsed::NotFragment
}

/// Reads the fragment header at `pos`; `next_at` is the field that named it.
fn v6_fragment<'a>(
    ip: &'a [u8],
    h: &[u8; IPV6_HEADER],
    pos: usize,
    next_at: usize,
    end: usize,
    payload_len: usize,
) -> Parsed<'a> {
    let data_at = pos + IPV6_FRAGMENT_HEADER;
    if payload_len == 0 || data_at > end {
        // A jumbogram is never fragmented (RFC 2675); the header must fit the payload length.
        return Parsed::Invalid(FragmentDrop::Malformed);
    }
    let (Some(header), Some(f), Some(data)) =
        (ip.get(..pos), ip.get(pos..data_at), ip.get(data_at..end))
    else {
        return Parsed::Invalid(FragmentDrop::Truncated);
    };
    let off_flags = be16(f[2], f[3]);
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    src.copy_from_slice(&h[8..24]);
    dst.copy_from_slice(&h[24..40]);
    Parsed::Fragment(FragmentRef {
        version: IpVersion::V6,
        src: IpAddr::V6(Ipv6Addr::from(src)),
        dst: IpAddr::V6(Ipv6Addr::from(dst)),
        proto: f[0],
        frag: Fragment {
            id: u32::from_be_bytes([f[4], f[5], f[6], f[7]]),
            offset: u32::from(off_flags & 0xfff8),
            more: off_flags & 1 != 0,
        },
        header,
        next_header_at: next_at,
        data,
    })
}
