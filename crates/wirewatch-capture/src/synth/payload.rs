//! Application payloads for synthetic packets: raw bytes, cheap filler, and DNS messages.
//!
//! Owns the bytes above the transport header. Filler comes from one precomputed pattern so a
//! full-size segment costs a `memcpy`, not a random number per byte.

use super::checksum::sum_be;
use std::net::IpAddr;

/// DNS record type A (IPv4 address).
pub const DNS_TYPE_A: u16 = 1;
/// DNS record type AAAA (IPv6 address).
pub const DNS_TYPE_AAAA: u16 = 28;
/// DNS class IN.
pub const DNS_CLASS_IN: u16 = 1;
/// DNS response code NXDOMAIN (the name does not exist).
pub const DNS_RCODE_NXDOMAIN: u8 = 3;

/// Length of the filler pattern; fills longer than this repeat it.
const PATTERN_LEN: usize = 4096;

/// Printable pseudo-random filler (letters and digits), made at compile time.
static PATTERN: [u8; PATTERN_LEN] = make_pattern();

const fn make_pattern() -> [u8; PATTERN_LEN] {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = [0u8; PATTERN_LEN];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut i = 0;
    while i < PATTERN_LEN {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out[i] = ALPHABET[(state >> 58) as usize];
        i += 1;
    }
    out
}

/// Running byte sums of the pattern at even and odd positions: `EVEN[k]` is the sum of
/// `PATTERN[i]` for even `i < k`, `ODD[k]` the same for odd `i`. They give the checksum of any
/// filler slice in constant time (see [`fill_sum`]).
static SUMS: ([u32; PATTERN_LEN + 1], [u32; PATTERN_LEN + 1]) = make_sums();

const fn make_sums() -> ([u32; PATTERN_LEN + 1], [u32; PATTERN_LEN + 1]) {
    let mut even = [0u32; PATTERN_LEN + 1];
    let mut odd = [0u32; PATTERN_LEN + 1];
    let mut i = 0;
    while i < PATTERN_LEN {
        let b = PATTERN[i] as u32;
        even[i + 1] = even[i] + if i % 2 == 0 { b } else { 0 };
        odd[i + 1] = odd[i] + if i % 2 == 1 { b } else { 0 };
        i += 1;
    }
    (even, odd)
}

/// The partial checksum of `data` placed at an even (`odd == false`) or odd offset of the
/// checksummed region.
fn sum_at(data: &[u8], odd: bool) -> u64 {
    let s = sum_be(data, 0);
    if odd {
        // Shifting data by one byte swaps the bytes of every word: swap the folded sum once.
        let mut f = s;
        while f >> 16 != 0 {
            f = (f & 0xffff) + (f >> 16);
        }
        u64::from((f as u16).swap_bytes())
    } else {
        s
    }
}

/// The partial checksum of `len` filler bytes from pattern position `seed`, placed at an even or
/// odd offset of the checksummed region, without touching the bytes.
fn fill_sum(mut len: usize, seed: u32, mut odd: bool) -> u64 {
    let (even_sums, odd_sums) = &SUMS;
    let mut pos = seed as usize % PATTERN_LEN;
    let mut acc = 0u64;
    while len > 0 {
        let n = len.min(PATTERN_LEN - pos);
        let e = u64::from(even_sums[pos + n] - even_sums[pos]);
        let o = u64::from(odd_sums[pos + n] - odd_sums[pos]);
        // A byte is the high half of its word when its offset in the region is even.
        let high_is_even_pos = pos.is_multiple_of(2) != odd;
        acc += if high_is_even_pos {
            (e << 8) + o
        } else {
            (o << 8) + e
        };
        odd ^= n % 2 == 1;
        len -= n;
        pos = 0;
    }
    acc
}

/// What follows the transport header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload<'a> {
    /// These bytes, verbatim.
    Bytes(&'a [u8]),
    /// `head`, then `fill` bytes of printable filler, then `tail`.
    ///
    /// The filler starts at position `seed` of a fixed pattern, so equal arguments give equal
    /// bytes and different seeds give different-looking payloads.
    Filled {
        /// Bytes written first (e.g. an HTTP request line or a TLS record header).
        head: &'a [u8],
        /// Number of filler bytes after `head`.
        fill: usize,
        /// Bytes written last (e.g. the blank line ending HTTP headers).
        tail: &'a [u8],
        /// Where in the filler pattern to start.
        seed: u32,
    },
    /// A DNS message in wire format.
    Dns(DnsMessage<'a>),
}

impl<'a> From<&'a [u8]> for Payload<'a> {
    fn from(bytes: &'a [u8]) -> Self {
        Payload::Bytes(bytes)
    }
}

impl Default for Payload<'_> {
    fn default() -> Self {
        Payload::Bytes(&[])
    }
}

impl Payload<'_> {
    /// Appends the payload bytes to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Payload::Bytes(b) => out.extend_from_slice(b),
            Payload::Filled {
                head,
                fill,
                tail,
                seed,
            } => {
                out.extend_from_slice(head);
                write_fill(out, *fill, *seed);
                out.extend_from_slice(tail);
            }
            Payload::Dns(msg) => msg.write(out),
        }
    }
}

impl Payload<'_> {
    /// Appends the payload bytes to `out` and returns their partial Internet checksum, as if
    /// they sat at an even (`odd == false`) or odd offset of the checksummed region. Filler is
    /// summed from a table, not byte by byte, which is what makes large synthetic segments cheap.
    pub fn write_summed(&self, out: &mut Vec<u8>, odd: bool) -> u64 {
        match self {
            Payload::Bytes(b) => {
                out.extend_from_slice(b);
                sum_at(b, odd)
            }
            Payload::Filled {
                head,
                fill,
                tail,
                seed,
            } => {
                out.extend_from_slice(head);
                write_fill(out, *fill, *seed);
                out.extend_from_slice(tail);
                let fill_odd = odd ^ (head.len() % 2 == 1);
                let tail_odd = fill_odd ^ (fill % 2 == 1);
                sum_at(head, odd) + fill_sum(*fill, *seed, fill_odd) + sum_at(tail, tail_odd)
            }
            Payload::Dns(msg) => {
                let start = out.len();
                msg.write(out);
                sum_at(&out[start..], odd)
            }
        }
    }
}

/// Appends `len` filler bytes starting at pattern position `seed`.
fn write_fill(out: &mut Vec<u8>, mut len: usize, seed: u32) {
    let mut pos = seed as usize % PATTERN_LEN;
    while len > 0 {
        let n = len.min(PATTERN_LEN - pos);
        out.extend_from_slice(&PATTERN[pos..pos + n]);
        len -= n;
        pos = 0;
    }
}

/// A DNS message with one question and, in responses, address answers.
///
/// Answers repeat the question name as a compression pointer to offset 12 (`0xc00c`) and are
/// typed by the address family (A for IPv4, AAAA for IPv6) regardless of `qtype`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsMessage<'a> {
    /// Transaction id.
    pub id: u16,
    /// Whether this is a response (QR bit); responses also set RA.
    pub response: bool,
    /// Recursion desired (RD bit).
    pub recursion_desired: bool,
    /// Response code (0 no error, 3 NXDOMAIN, ...); only the low 4 bits are used.
    pub rcode: u8,
    /// Question name in dotted form (`www.example.com`; a trailing dot is allowed). Labels longer
    /// than 63 bytes are cut to 63 and labels past 253 bytes of name are dropped, so the result
    /// is always a valid name.
    pub name: &'a str,
    /// Question type ([`DNS_TYPE_A`], [`DNS_TYPE_AAAA`], ...).
    pub qtype: u16,
    /// Answer addresses (responses only; ignored in queries).
    pub answers: &'a [IpAddr],
    /// TTL of the answers in seconds.
    pub ttl: u32,
}

impl Default for DnsMessage<'_> {
    fn default() -> Self {
        DnsMessage {
            id: 0,
            response: false,
            recursion_desired: true,
            rcode: 0,
            name: "",
            qtype: DNS_TYPE_A,
            answers: &[],
            ttl: 300,
        }
    }
}

impl DnsMessage<'_> {
    /// Appends the message in wire format to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        let answers = if self.response { self.answers } else { &[] };
        let mut flags: u16 = 0;
        if self.response {
            flags |= 0x8000 | 0x0080; // QR, RA
        }
        if self.recursion_desired {
            flags |= 0x0100;
        }
        flags |= u16::from(self.rcode & 0x0f);
        let ancount = answers.len().min(usize::from(u16::MAX)) as u16;
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&flags.to_be_bytes());
        out.extend_from_slice(&[0, 1]); // QDCOUNT
        out.extend_from_slice(&ancount.to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]); // NSCOUNT, ARCOUNT
        write_name(out, self.name);
        out.extend_from_slice(&self.qtype.to_be_bytes());
        out.extend_from_slice(&DNS_CLASS_IN.to_be_bytes());
        for addr in &answers[..usize::from(ancount)] {
            out.extend_from_slice(&[0xc0, 0x0c]); // pointer to the question name
            let (rtype, rdata): (u16, &[u8]) = match addr {
                IpAddr::V4(a) => (DNS_TYPE_A, &a.octets()),
                IpAddr::V6(a) => (DNS_TYPE_AAAA, &a.octets()),
            };
            out.extend_from_slice(&rtype.to_be_bytes());
            out.extend_from_slice(&DNS_CLASS_IN.to_be_bytes());
            out.extend_from_slice(&self.ttl.to_be_bytes());
            out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            out.extend_from_slice(rdata);
        }
    }
}

/// Writes `name` as DNS labels ending with the root label.
fn write_name(out: &mut Vec<u8>, name: &str) {
    let mut total = 0usize;
    for label in name.split('.').filter(|l| !l.is_empty()) {
        let bytes = &label.as_bytes()[..label.len().min(63)];
        if total + bytes.len() + 1 > 253 {
            break;
        }
        total += bytes.len() + 1;
        out.push(bytes.len() as u8);
        out.extend_from_slice(bytes);
    }
    out.push(0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn dns_response_exact_bytes() {
        let answers = [IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7))];
        let msg = DnsMessage {
            id: 0x1234,
            response: true,
            name: "a.bc.",
            answers: &answers,
            ttl: 60,
            ..DnsMessage::default()
        };
        let mut out = Vec::new();
        Payload::Dns(msg).write(&mut out);
        #[rustfmt::skip]
        let expected = [
            0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
            1, b'a', 2, b'b', b'c', 0, 0, 1, 0, 1,
            0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7,
        ];
        assert_eq!(out, expected);
    }

    #[test]
    fn query_ignores_answers_and_long_labels_are_cut() {
        let long = "x".repeat(100);
        let answers = [IpAddr::V4(Ipv4Addr::LOCALHOST)];
        let msg = DnsMessage {
            name: &long,
            answers: &answers,
            ..DnsMessage::default()
        };
        let mut out = Vec::new();
        msg.write(&mut out);
        assert_eq!(&out[6..8], &[0, 0]);
        assert_eq!(out[12], 63);
        assert_eq!(out.len(), 12 + 1 + 63 + 1 + 4);
    }

    #[test]
    fn table_sums_equal_byte_sums_at_both_parities() {
        use crate::synth::checksum::finish;
        for (head, tail) in [
            (&b""[..], &b""[..]),
            (b"H", b"T"),
            (b"HE", b"TAI"),
            (b"abc", b""),
        ] {
            for fill in [0usize, 1, 2, 3, 100, 1447, 4095, 4096, 4097, 9000] {
                for seed in [0u32, 1, 2, 4095, 4094, 12345] {
                    for odd in [false, true] {
                        let p = Payload::Filled {
                            head,
                            fill,
                            tail,
                            seed,
                        };
                        let mut out = Vec::new();
                        if odd {
                            out.push(0);
                        }
                        let s = p.write_summed(&mut out, odd);
                        let want = finish(sum_be(&out, 0));
                        assert_eq!(finish(s), want, "{head:?} {fill} {tail:?} {seed} {odd}");
                    }
                }
            }
        }
    }

    #[test]
    fn fill_is_long_deterministic_and_printable() {
        let mut a = Vec::new();
        let p = Payload::Filled {
            head: b"H",
            fill: 10_000,
            tail: b"T",
            seed: 4000,
        };
        p.write(&mut a);
        let mut b = Vec::new();
        p.write(&mut b);
        assert_eq!(a, b);
        assert_eq!(a.len(), 10_002);
        assert!(a.iter().all(|c| c.is_ascii_graphic()));
    }
}
