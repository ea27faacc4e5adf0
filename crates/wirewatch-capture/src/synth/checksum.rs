//! The Internet checksum (RFC 1071) used by IPv4, TCP, UDP, ICMP and ICMPv6.
//!
//! Owns the one's-complement arithmetic and the pseudo-headers; it knows nothing about frame
//! layout. The sum is taken over 32-bit words in a 64-bit accumulator, which folds to the same
//! 16-bit result as the textbook 16-bit loop (2^16 ≡ 1 mod 2^16 − 1) at a fraction of the cost on
//! full-size segments.

use std::net::IpAddr;

/// Adds the big-endian 16-bit words of `data` to `acc` (an odd last byte is padded with zero).
///
/// The result is an unfolded partial sum: add several with `+` and finish with [`finish`].
/// `data` must start at an even offset of the checksummed region for the words to line up.
pub fn sum_be(data: &[u8], acc: u64) -> u64 {
    // The one's-complement sum does not care about byte order (RFC 1071, 2.B): add the words
    // in native little-endian order, which vectorises, and swap the folded result once.
    let mut chunks = data.chunks_exact(4);
    let mut le: u64 = 0;
    for c in &mut chunks {
        le += u64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
    }
    let folded = fold(le);
    let mut acc = acc + u64::from(folded.swap_bytes());
    let rest = chunks.remainder();
    if rest.len() >= 2 {
        acc += u64::from(u16::from_be_bytes([rest[0], rest[1]]));
    }
    if rest.len() % 2 == 1 {
        acc += u64::from(rest[rest.len() - 1]) << 8;
    }
    acc
}

/// Folds a partial sum to 16 bits with end-around carries.
fn fold(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// Folds a partial sum to 16 bits and complements it: the value to store in the header.
pub fn finish(acc: u64) -> u16 {
    !fold(acc)
}

/// The Internet checksum of `data` (as stored in a header whose checksum field is zero).
pub fn internet_checksum(data: &[u8]) -> u16 {
    finish(sum_be(data, 0))
}

/// The partial sum of the TCP/UDP/ICMPv6 pseudo-header for an upper-layer packet of
/// `upper_len` bytes with protocol `proto` between `src` and `dst`.
///
/// Mixed address families are summed as IPv6 with the IPv4 address mapped (`::ffff:a.b.c.d`),
/// matching what [`crate::synth::IpPacket`] puts on the wire for them.
pub fn pseudo_header_sum(src: IpAddr, dst: IpAddr, proto: u8, upper_len: usize) -> u64 {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let acc = sum_be(&s.octets(), 0) + sum_be(&d.octets(), 0);
            acc + u64::from(proto) + (upper_len as u64 & 0xffff)
        }
        _ => {
            let s = to_v6(src).octets();
            let d = to_v6(dst).octets();
            let len = upper_len as u64;
            sum_be(&s, 0) + sum_be(&d, 0) + (len >> 16) + (len & 0xffff) + u64::from(proto)
        }
    }
}

/// An address as IPv6 (IPv4 addresses become IPv4-mapped).
pub(crate) fn to_v6(ip: IpAddr) -> std::net::Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(data: &[u8]) -> u16 {
        let mut sum: u32 = 0;
        for pair in data.chunks(2) {
            let word = u32::from(pair[0]) << 8 | u32::from(*pair.get(1).unwrap_or(&0));
            sum += word;
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    #[test]
    fn matches_the_16_bit_loop_for_every_length() {
        let data: Vec<u8> = (0..300u32)
            .map(|i| (i.wrapping_mul(151) ^ 0xa5) as u8)
            .collect();
        for n in 0..data.len() {
            assert_eq!(internet_checksum(&data[..n]), naive(&data[..n]), "len {n}");
        }
        assert_eq!(internet_checksum(&[0xff; 1500]), naive(&[0xff; 1500]));
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (before complement).
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(internet_checksum(&data), !0xddf2);
    }
}
