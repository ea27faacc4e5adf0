//! Tests of the prefix set: most-specific match, overlaps, boundaries, reserved space, and a
//! property test against a brute-force matcher.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::blocklist::parse::{Format, parse};
use proptest::prelude::*;

fn entries(text: &str) -> Vec<Entry> {
    let p = parse("t", text, Format::Plain);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    p.entries
}

fn set(lists: &[(&str, &str)]) -> PrefixSet {
    let mut b = PrefixSetBuilder::new();
    for (name, text) in lists {
        b.add_list(name, &entries(text));
    }
    b.build()
}

fn hit(s: &PrefixSet, ip: &str) -> Option<(String, String)> {
    s.lookup(ip.parse().unwrap())
        .map(|m| (m.list.to_string(), m.net.to_string()))
}

fn h(list: &str, net: &str) -> Option<(String, String)> {
    Some((list.to_string(), net.to_string()))
}

#[test]
fn most_specific_match_across_overlapping_lists() {
    let s = set(&[
        ("wide", "45.0.0.0/8\n45.95.0.0/16 # mid\n"),
        ("narrow", "45.95.147.0/24 ; c2 farm\n45.95.147.236\n"),
    ]);
    assert_eq!(hit(&s, "45.1.2.3"), h("wide", "45.0.0.0/8"));
    assert_eq!(hit(&s, "45.95.1.1"), h("wide", "45.95.0.0/16"));
    assert_eq!(hit(&s, "45.95.147.1"), h("narrow", "45.95.147.0/24"));
    assert_eq!(hit(&s, "45.95.147.236"), h("narrow", "45.95.147.236/32"));
    assert_eq!(hit(&s, "45.95.147.237"), h("narrow", "45.95.147.0/24"));
    assert_eq!(hit(&s, "45.95.148.0"), h("wide", "45.95.0.0/16"));
    assert_eq!(hit(&s, "46.0.0.0"), None);
    assert_eq!(hit(&s, "44.255.255.255"), None);
    let m = s.lookup("45.95.147.9".parse().unwrap()).unwrap();
    assert_eq!(m.reference.as_deref(), Some("c2 farm"));
    let m = s.lookup("45.95.9.9".parse().unwrap()).unwrap();
    assert_eq!(m.reference.as_deref(), Some("mid"));
    assert_eq!(s.len(), 4);
    assert_eq!(s.lists().len(), 2);
    assert_eq!(&*s.lists()[1].name, "narrow");
    assert_eq!(s.lists()[1].entries, 2);
}

#[test]
fn identical_networks_name_the_first_list() {
    let s = set(&[("a", "8.8.8.0/24\n"), ("b", "8.8.8.0/24\n8.8.8.0/24\n")]);
    assert_eq!(hit(&s, "8.8.8.8"), h("a", "8.8.8.0/24"));
}

#[test]
fn range_boundaries() {
    let s = set(&[("l", "80.0.0.0/16\n80.0.0.0/24\n80.0.255.255\n81.2.3.4/31\n")]);
    assert_eq!(hit(&s, "79.255.255.255"), None);
    assert_eq!(hit(&s, "80.0.0.0"), h("l", "80.0.0.0/24"));
    assert_eq!(hit(&s, "80.0.0.255"), h("l", "80.0.0.0/24"));
    assert_eq!(hit(&s, "80.0.1.0"), h("l", "80.0.0.0/16"));
    assert_eq!(hit(&s, "80.0.255.254"), h("l", "80.0.0.0/16"));
    assert_eq!(hit(&s, "80.0.255.255"), h("l", "80.0.255.255/32"));
    assert_eq!(hit(&s, "80.1.0.0"), None);
    assert_eq!(hit(&s, "81.2.3.3"), None);
    assert_eq!(hit(&s, "81.2.3.4"), h("l", "81.2.3.4/31"));
    assert_eq!(hit(&s, "81.2.3.5"), h("l", "81.2.3.4/31"));
    assert_eq!(hit(&s, "81.2.3.6"), None);
}

#[test]
fn ipv6_and_mapped_addresses() {
    let s = set(&[(
        "v6",
        "2a06:e480::/29\n2a06:e480:1::/48\n2600::1\n::ffff:5.6.7.0/120\n",
    )]);
    assert_eq!(hit(&s, "2a06:e480::1"), h("v6", "2a06:e480::/29"));
    assert_eq!(hit(&s, "2a06:e480:1:2::3"), h("v6", "2a06:e480:1::/48"));
    assert_eq!(
        hit(&s, "2a06:e487:ffff:ffff:ffff:ffff:ffff:ffff"),
        h("v6", "2a06:e480::/29")
    );
    assert_eq!(hit(&s, "2a06:e488::"), None);
    assert_eq!(hit(&s, "2600::1"), h("v6", "2600::1/128"));
    assert_eq!(hit(&s, "2600::2"), None);
    // A mapped entry matches the IPv4 address, and a mapped address matches IPv4 entries.
    assert_eq!(hit(&s, "5.6.7.8"), h("v6", "5.6.7.0/24"));
    assert_eq!(hit(&s, "::ffff:5.6.7.8"), h("v6", "5.6.7.0/24"));
    // IPv4 and IPv6 tables are separate.
    assert_eq!(hit(&s, "42.6.224.128"), None);
}

#[test]
fn the_ends_of_the_address_space() {
    let s = set(&[(
        "ends",
        "0.0.0.0/0\n223.255.255.0/24\n::/0\nffff::/16\n2000::/3\n",
    )]);
    assert_eq!(hit(&s, "1.0.0.0"), h("ends", "0.0.0.0/0"));
    assert_eq!(hit(&s, "223.255.255.255"), h("ends", "223.255.255.0/24"));
    assert_eq!(hit(&s, "2001:4860::1"), h("ends", "2000::/3"));
    // Not public: never a match, however broad the entry.
    assert_eq!(hit(&s, "255.255.255.255"), None);
    assert_eq!(hit(&s, "ffff::1"), None);
    // An empty set matches nothing.
    assert_eq!(hit(&PrefixSet::empty(), "1.2.3.4"), None);
}

#[test]
fn reserved_entries_never_flag_local_traffic() {
    let s = set(&[
        (
            "bogons",
            "10.0.0.0/8\n192.168.0.0/16\n127.0.0.0/8\nfc00::/7\nfe80::/10\n",
        ),
        ("everything", "0.0.0.0/0\n"),
    ]);
    for local in [
        "10.1.2.3",
        "192.168.1.10",
        "127.0.0.1",
        "100.64.1.1",
        "169.254.0.5",
        "224.0.0.251",
        "fd00::1",
        "fe80::1",
        "::ffff:10.1.2.3",
    ] {
        assert_eq!(hit(&s, local), None, "{local}");
        assert!(!s.contains(local.parse().unwrap()), "{local}");
    }
    // 0.0.0.0/0 does flag a public address.
    assert_eq!(hit(&s, "8.8.8.8"), h("everything", "0.0.0.0/0"));
    assert!(s.contains("8.8.8.8".parse().unwrap()));
}

#[test]
fn ranges_stay_linear_in_the_entries() {
    let mut text = String::new();
    for i in 0..1000u32 {
        text.push_str(&format!("{}.0.0.0/8\n", i % 200 + 1));
        text.push_str(&format!("{}.{}.0.0/16\n", i % 200 + 1, i % 256));
    }
    let s = set(&[("many", &text)]);
    assert_eq!(s.len(), 2000);
    // Each nested network splits its parent in at most two more pieces.
    assert!(s.ranges() <= 3 * 2000, "{}", s.ranges());
}

/// The reference answer: the longest-prefix entry containing `ip` (the first added among
/// equals), or nothing for a non-public address.
fn brute_force(all: &[(usize, IpNet)], ip: IpAddr) -> Option<(usize, IpNet)> {
    if !is_public(ip) {
        return None;
    }
    let mut best: Option<(usize, IpNet)> = None;
    for &(list, net) in all {
        if net.contains(&ip) && best.is_none_or(|(_, b)| net.prefix_len() > b.prefix_len()) {
            best = Some((list, net));
        }
    }
    best
}

/// Networks in a small public region (45.95.0.0/16, 2a06:e480::/32) so that they overlap.
fn arb_net() -> impl Strategy<Value = IpNet> {
    prop_oneof![
        (any::<u16>(), 16u8..=32).prop_map(|(low, len)| {
            let ip = std::net::Ipv4Addr::from(0x2d5f_0000u32 | u32::from(low));
            IpNet::new(IpAddr::V4(ip), len).unwrap().trunc()
        }),
        (any::<u16>(), 32u8..=128).prop_map(|(low, len)| {
            let bits = 0x2a06_e480u128 << 96 | u128::from(low) << 80 | u128::from(low);
            let ip = std::net::Ipv6Addr::from(bits);
            IpNet::new(IpAddr::V6(ip), len).unwrap().trunc()
        }),
    ]
}

fn arb_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u16>().prop_map(|low| IpAddr::V4((0x2d5f_0000u32 | u32::from(low)).into())),
        (any::<u16>(), any::<u16>()).prop_map(|(a, b)| {
            IpAddr::V6((0x2a06_e480u128 << 96 | u128::from(a) << 80 | u128::from(b)).into())
        }),
        any::<u32>().prop_map(|v| IpAddr::V4(v.into())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn agrees_with_brute_force(
        lists in proptest::collection::vec(proptest::collection::vec(arb_net(), 0..40), 1..4),
        probes in proptest::collection::vec(arb_ip(), 1..64),
    ) {
        let mut b = PrefixSetBuilder::new();
        let mut all = Vec::new();
        for (i, nets) in lists.iter().enumerate() {
            let es: Vec<Entry> = nets
                .iter()
                .map(|n| Entry { net: *n, reference: None, line: 1 })
                .collect();
            b.add_list(&format!("l{i}"), &es);
            all.extend(nets.iter().map(|n| (i, *n)));
        }
        let s = b.build();
        // Probe the edges of every network too.
        let mut probes = probes;
        for (_, n) in &all {
            probes.push(n.network());
            probes.push(n.broadcast());
        }
        for ip in probes {
            let want = brute_force(&all, ip).map(|(l, n)| (format!("l{l}"), n));
            let got = s.lookup(ip).map(|m| (m.list.to_string(), m.net));
            prop_assert_eq!(got, want, "ip {}", ip);
        }
    }
}
