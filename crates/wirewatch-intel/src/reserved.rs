//! Which addresses belong to the public Internet, and which are private, local or reserved.
//!
//! Owns the special-purpose address tables (IANA's IPv4 and IPv6 Special-Purpose Address
//! Registries, RFC 6890 and its updates) and one question: is this address a public one that
//! it makes sense to look up in a reputation service or to flag from a blocklist? It must not
//! do I/O or keep state; it is a pure function called on the packet path.
//!
//! Decisions for the addresses that carry an IPv4 address inside an IPv6 one: IPv4-mapped
//! (`::ffff:0:0/96`), IPv4-compatible (`::/96`, deprecated), the well-known NAT64 prefix
//! (`64:ff9b::/96`) and 6to4 (`2002::/16`) are judged by the IPv4 address they embed, since
//! that is where the traffic really goes. Teredo (`2001::/32`) is judged by its client's
//! public IPv4 address (the last 32 bits, inverted): a Teredo address is reachable through any
//! relay, so it is public exactly when the client's NAT address is. Everything outside
//! `2000::/3`, IANA's only global-unicast allocation, is not public.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What a special range means for reputation look-ups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Not public; the text names the range.
    Reserved(&'static str),
    /// Globally reachable despite lying inside a larger reserved block.
    Global,
    /// IPv6 carrying an IPv4 address: judge that one (see the module doc).
    Embedded(Embedding),
}

/// Where the embedded IPv4 address sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Embedding {
    /// The last 32 bits (mapped, compatible, NAT64).
    Last32,
    /// Bits 16..48 (6to4).
    SixToFour,
    /// The last 32 bits inverted (Teredo's obfuscated client address).
    TeredoClient,
}

/// IPv4 special ranges: (network, prefix length, verdict). The most specific match wins, so
/// the carve-outs of `192.0.0.0/24` come before it.
const V4_TABLE: [(u32, u8, Verdict); 18] = [
    (
        0x0000_0000,
        8,
        Verdict::Reserved("\"this network\" (RFC 791)"),
    ),
    (0x0a00_0000, 8, Verdict::Reserved("private (RFC 1918)")),
    (
        0x6440_0000,
        10,
        Verdict::Reserved("shared address space / carrier-grade NAT (RFC 6598)"),
    ),
    (0x7f00_0000, 8, Verdict::Reserved("loopback")),
    (0xa9fe_0000, 16, Verdict::Reserved("link-local")),
    (0xac10_0000, 12, Verdict::Reserved("private (RFC 1918)")),
    // PCP and TURN anycast are globally reachable (RFC 7723, RFC 8155).
    (0xc000_0009, 32, Verdict::Global),
    (0xc000_000a, 32, Verdict::Global),
    (
        0xc000_0000,
        24,
        Verdict::Reserved("IETF protocol assignments (RFC 6890)"),
    ),
    (
        0xc000_0200,
        24,
        Verdict::Reserved("documentation (TEST-NET-1)"),
    ),
    (
        0xc058_6300,
        24,
        Verdict::Reserved("6to4 relay anycast (deprecated, RFC 7526)"),
    ),
    (0xc0a8_0000, 16, Verdict::Reserved("private (RFC 1918)")),
    (
        0xc612_0000,
        15,
        Verdict::Reserved("benchmarking (RFC 2544)"),
    ),
    (
        0xc633_6400,
        24,
        Verdict::Reserved("documentation (TEST-NET-2)"),
    ),
    (
        0xcb00_7100,
        24,
        Verdict::Reserved("documentation (TEST-NET-3)"),
    ),
    (0xe000_0000, 4, Verdict::Reserved("multicast")),
    (0xffff_ffff, 32, Verdict::Reserved("limited broadcast")),
    (
        0xf000_0000,
        4,
        Verdict::Reserved("reserved for future use (240/4)"),
    ),
];

/// IPv6 special ranges: (network, prefix length, verdict); most specific match wins.
const V6_TABLE: [(u128, u8, Verdict); 26] = [
    (0, 128, Verdict::Reserved("unspecified")),
    (1, 128, Verdict::Reserved("loopback")),
    (0xffff_0000_0000, 96, Verdict::Embedded(Embedding::Last32)),
    (0, 96, Verdict::Embedded(Embedding::Last32)),
    (
        0x0064_ff9b_0000_0000_0000_0000_0000_0000,
        96,
        Verdict::Embedded(Embedding::Last32),
    ),
    (
        0x0064_ff9b_0001_0000_0000_0000_0000_0000,
        48,
        Verdict::Reserved("local-use NAT64 (RFC 8215)"),
    ),
    (
        0x0100_0000_0000_0000_0000_0000_0000_0000,
        64,
        Verdict::Reserved("discard-only (RFC 6666)"),
    ),
    // Inside 2001::/23 (IETF protocol assignments): the globally reachable carve-outs.
    (
        0x2001_0001_0000_0000_0000_0000_0000_0001,
        128,
        Verdict::Global,
    ),
    (
        0x2001_0001_0000_0000_0000_0000_0000_0002,
        128,
        Verdict::Global,
    ),
    (
        0x2001_0001_0000_0000_0000_0000_0000_0003,
        128,
        Verdict::Global,
    ),
    (
        0x2001_0003_0000_0000_0000_0000_0000_0000,
        32,
        Verdict::Global,
    ),
    (
        0x2001_0004_0112_0000_0000_0000_0000_0000,
        48,
        Verdict::Global,
    ),
    (
        0x2001_0020_0000_0000_0000_0000_0000_0000,
        28,
        Verdict::Global,
    ),
    (
        0x2001_0030_0000_0000_0000_0000_0000_0000,
        28,
        Verdict::Global,
    ),
    (
        0x2001_0000_0000_0000_0000_0000_0000_0000,
        32,
        Verdict::Embedded(Embedding::TeredoClient),
    ),
    (
        0x2001_0002_0000_0000_0000_0000_0000_0000,
        48,
        Verdict::Reserved("benchmarking (RFC 5180)"),
    ),
    (
        0x2001_0010_0000_0000_0000_0000_0000_0000,
        28,
        Verdict::Reserved("ORCHID (deprecated)"),
    ),
    (
        0x2001_0000_0000_0000_0000_0000_0000_0000,
        23,
        Verdict::Reserved("IETF protocol assignments (RFC 2928)"),
    ),
    (
        0x2001_0db8_0000_0000_0000_0000_0000_0000,
        32,
        Verdict::Reserved("documentation (RFC 3849)"),
    ),
    (
        0x2002_0000_0000_0000_0000_0000_0000_0000,
        16,
        Verdict::Embedded(Embedding::SixToFour),
    ),
    (
        0x3fff_0000_0000_0000_0000_0000_0000_0000,
        20,
        Verdict::Reserved("documentation (RFC 9637)"),
    ),
    (
        0x5f00_0000_0000_0000_0000_0000_0000_0000,
        16,
        Verdict::Reserved("segment routing SIDs (RFC 9602)"),
    ),
    (
        0xfc00_0000_0000_0000_0000_0000_0000_0000,
        7,
        Verdict::Reserved("unique local (RFC 4193)"),
    ),
    (
        0xfe80_0000_0000_0000_0000_0000_0000_0000,
        10,
        Verdict::Reserved("link-local"),
    ),
    (
        0xfec0_0000_0000_0000_0000_0000_0000_0000,
        10,
        Verdict::Reserved("site-local (deprecated)"),
    ),
    (
        0xff00_0000_0000_0000_0000_0000_0000_0000,
        8,
        Verdict::Reserved("multicast"),
    ),
];

/// IANA's global-unicast block `2000::/3`: the only IPv6 space allocated to the Internet.
const V6_GLOBAL_UNICAST: (u128, u8) = (0x2000_0000_0000_0000_0000_0000_0000_0000, 3);

fn in_v4(ip: u32, net: u32, len: u8) -> bool {
    len == 0 || (ip ^ net) >> (32 - u32::from(len)) == 0
}

fn in_v6(ip: u128, net: u128, len: u8) -> bool {
    len == 0 || (ip ^ net) >> (128 - u32::from(len)) == 0
}

/// The most specific table entry containing `ip`.
fn v4_verdict(ip: u32) -> Option<Verdict> {
    V4_TABLE
        .iter()
        .filter(|(net, len, _)| in_v4(ip, *net, *len))
        .max_by_key(|(_, len, _)| *len)
        .map(|(_, _, v)| *v)
}

fn v6_verdict(ip: u128) -> Option<Verdict> {
    V6_TABLE
        .iter()
        .filter(|(net, len, _)| in_v6(ip, *net, *len))
        .max_by_key(|(_, len, _)| *len)
        .map(|(_, _, v)| *v)
}

/// Why `ip` is not public (the name of its special range), or `None` when it is public.
pub fn reserved_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    match v4_verdict(u32::from(ip)) {
        Some(Verdict::Reserved(why)) => Some(why),
        Some(Verdict::Global | Verdict::Embedded(_)) | None => None,
    }
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    let bits = u128::from(ip);
    match v6_verdict(bits) {
        Some(Verdict::Reserved(why)) => Some(why),
        Some(Verdict::Global) => None,
        Some(Verdict::Embedded(how)) => {
            // Truncations keep exactly the 32 bits wanted.
            let v4 = match how {
                Embedding::Last32 => bits as u32,
                Embedding::SixToFour => (bits >> 80) as u32,
                Embedding::TeredoClient => !(bits as u32),
            };
            v4_reason(Ipv4Addr::from(v4))
        }
        None if in_v6(bits, V6_GLOBAL_UNICAST.0, V6_GLOBAL_UNICAST.1) => None,
        None => Some("outside global unicast (2000::/3)"),
    }
}

/// Whether `ip` is a public Internet address: false for private, loopback, link-local,
/// unspecified, multicast, broadcast, documentation, shared (CGNAT), benchmarking and
/// reserved ranges (see the module doc for the IPv6 forms that embed an IPv4 address).
pub fn is_public(ip: IpAddr) -> bool {
    reserved_reason(ip).is_none()
}

/// `ip` with an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) turned into its IPv4 address, so
/// that both spellings of one host are looked up and cached as one.
pub fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// (address, public?) — every row of both tables has at least one case, plus edges.
    const CASES: &[(&str, bool)] = &[
        // IPv4 public
        ("8.8.8.8", true),
        ("1.1.1.1", true),
        ("1.0.0.0", true),
        ("9.255.255.255", true),
        ("11.0.0.0", true),
        ("100.63.255.255", true),
        ("100.128.0.0", true),
        ("126.255.255.255", true),
        ("128.0.0.0", true),
        ("169.253.255.255", true),
        ("169.255.0.0", true),
        ("172.15.255.255", true),
        ("172.32.0.0", true),
        ("192.0.0.9", true),
        ("192.0.0.10", true),
        ("192.0.1.0", true),
        ("192.167.255.255", true),
        ("192.169.0.0", true),
        ("198.17.255.255", true),
        ("198.20.0.0", true),
        ("223.255.255.255", true),
        ("185.220.101.4", true),
        // IPv4 not public
        ("0.0.0.0", false),
        ("0.255.255.255", false),
        ("10.0.0.0", false),
        ("10.255.255.255", false),
        ("100.64.0.0", false),
        ("100.127.255.255", false),
        ("127.0.0.1", false),
        ("169.254.1.1", false),
        ("172.16.0.0", false),
        ("172.31.255.255", false),
        ("192.0.0.8", false),
        ("192.0.0.11", false),
        ("192.0.2.1", false),
        ("192.88.99.1", false),
        ("192.168.1.1", false),
        ("198.18.0.0", false),
        ("198.19.255.255", false),
        ("198.51.100.7", false),
        ("203.0.113.200", false),
        ("224.0.0.1", false),
        ("239.255.255.250", false),
        ("240.0.0.1", false),
        ("255.255.255.254", false),
        ("255.255.255.255", false),
        // IPv6 public
        ("2606:4700:4700::1111", true),
        ("2a00:1450:4001:80b::200e", true),
        ("2001:4860:4860::8888", true),
        ("2001:1::1", true),
        ("2001:1::3", true),
        ("2001:3::1", true),
        ("2001:4:112::1", true),
        ("2001:20::1", true),
        ("2001:30::1", true),
        ("2001:200::1", true),
        ("3ffe:ffff::1", true),
        ("3fff:1000::1", true),
        // IPv6 not public
        ("::", false),
        ("::1", false),
        ("100::1", false),
        ("100::ffff:ffff:ffff:ffff", false),
        ("64:ff9b:1::1", false),
        ("2001:1::4", false),
        ("2001:2::1", false),
        ("2001:10::1", false),
        ("2001:100::1", false),
        ("2001:1ff::1", false),
        ("2001:db8::1", false),
        ("3fff::1", false),
        ("3fff:fff::1", false),
        ("5f00::1", false),
        ("fc00::1", false),
        ("fd12:3456::1", false),
        ("fe80::1", false),
        ("febf::1", false),
        ("fec0::1", false),
        ("ff02::1", false),
        ("4000::1", false),
        ("1fff::1", false),
        ("e000::1", false),
        // Embedded IPv4: judged by the IPv4 address.
        ("::ffff:8.8.8.8", true),
        ("::ffff:10.1.2.3", false),
        ("::ffff:127.0.0.1", false),
        ("::8.8.8.8", true),
        ("::10.0.0.1", false),
        ("64:ff9b::8.8.8.8", true),
        ("64:ff9b::192.168.0.1", false),
        ("2002:0808:0808::1", true),
        ("2002:0a00:0001::1", false),
        ("2002:c0a8:0101::1", false),
        // Teredo: client 8.8.8.8 is !0x08080808 = 0xf7f7f7f7; client 10.0.0.1 is f5ff:fffe.
        ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", true),
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", false),
    ];

    #[test]
    fn table() {
        let mut wrong = Vec::new();
        for (text, public) in CASES {
            let ip: IpAddr = text.parse().unwrap();
            if is_public(ip) != *public {
                wrong.push(format!(
                    "{text}: expected public={public}, reason {:?}",
                    reserved_reason(ip)
                ));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn reasons_name_the_range() {
        let r = |s: &str| reserved_reason(s.parse().unwrap());
        assert_eq!(r("10.1.2.3"), Some("private (RFC 1918)"));
        assert_eq!(r("255.255.255.255"), Some("limited broadcast"));
        assert_eq!(r("240.1.1.1"), Some("reserved for future use (240/4)"));
        assert_eq!(r("::ffff:192.168.1.1"), Some("private (RFC 1918)"));
        assert_eq!(r("2001:db8::1"), Some("documentation (RFC 3849)"));
        assert_eq!(r("8.8.8.8"), None);
    }

    #[test]
    fn agrees_with_std_where_std_is_stable() {
        for a in 0..=255u8 {
            for b in [0u8, 1, 16, 31, 64, 127, 168, 254, 255] {
                let ip = Ipv4Addr::new(a, b, 3, 4);
                let std_local = ip.is_private()
                    || ip.is_loopback()
                    || ip.is_link_local()
                    || ip.is_multicast()
                    || ip.is_documentation()
                    || ip.is_unspecified()
                    || ip.is_broadcast();
                if std_local {
                    assert!(!is_public(IpAddr::V4(ip)), "{ip}");
                }
            }
        }
    }

    #[test]
    fn canonical_unmaps() {
        let m: IpAddr = "::ffff:1.2.3.4".parse().unwrap();
        assert_eq!(canonical(m), "1.2.3.4".parse::<IpAddr>().unwrap());
        let v6: IpAddr = "2001:4860::1".parse().unwrap();
        assert_eq!(canonical(v6), v6);
    }
}
