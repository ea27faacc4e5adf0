//! Tests of the blocklist parser: every format, malformed lines, caps.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn nets(p: &Parsed) -> Vec<String> {
    p.entries.iter().map(|e| e.net.to_string()).collect()
}

/// A Feodo-Tracker-style list (written for this test, not copied).
const FEODO_LIKE: &str = "\
################################################################
# abuse.example Botnet C2 IP Blocklist                          #
# Last updated: 2024-01-01 00:00:00 UTC                        #
#                                                              #
# For questions please contact someone                         #
################################################################
#
# DstIP
185.220.101.4
45.95.147.236

91.92.250.12
# END 3 entries
";

#[test]
fn plain_feodo_like() {
    let p = parse("feodo.txt", FEODO_LIKE, Format::Auto);
    assert_eq!(p.format, Format::Plain);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(
        nets(&p),
        ["185.220.101.4/32", "45.95.147.236/32", "91.92.250.12/32"]
    );
    assert_eq!(p.entries[0].line, 9);
    assert_eq!(p.entries[2].line, 12);
    assert_eq!(p.entries[0].reference, None);
}

#[test]
fn plain_emerging_threats_like_with_crlf_bom_and_inline_comments() {
    let text = "\u{feff}5.188.10.0\r\n  23.94.12.7  \r\n\r\n2001:4860:4860::8888\r\n\
                103.21.244.0/22 # scanner farm\r\n198.51.100.0 - 198.51.100.9 ; ranges too\r\n";
    let p = parse("compromised-ips.txt", text, Format::Plain);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(
        nets(&p),
        [
            "5.188.10.0/32",
            "23.94.12.7/32",
            "2001:4860:4860::8888/128",
            "103.21.244.0/22",
            "198.51.100.0/29",
            "198.51.100.8/31",
        ]
    );
    assert_eq!(p.entries[3].reference.as_deref(), Some("scanner farm"));
    assert_eq!(p.entries[4].reference.as_deref(), Some("ranges too"));
    assert_eq!(p.entries[4].line, 6);
    assert_eq!(p.entries[5].line, 6);
}

#[test]
fn range_without_spaces_and_ipv6_range() {
    let p = parse(
        "r.txt",
        "10.0.0.0-10.0.0.255\n2001:db8::-2001:db8::ff\n",
        Format::Plain,
    );
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(nets(&p), ["10.0.0.0/24", "2001:db8::/120"]);
}

#[test]
fn firehol_netset() {
    let text = "\
#
# example_level1
#
# ipv4 hash:net ipset
#
# A firehol ipset made from sources it trusts
#
# Maintainer      : FireHOL
# List source URL : https://example.invalid/
#
0.0.0.0/8
1.10.16.0/20
1.19.0.0/16
5.134.128.0/19
223.254.0.0/16
";
    let p = parse("example_level1.netset", text, Format::Auto);
    assert_eq!(p.format, Format::Firehol);
    // Detected from the header too, without the extension.
    assert_eq!(parse("level1", text, Format::Auto).format, Format::Firehol);
    assert!(p.warnings.is_empty());
    assert_eq!(p.entries.len(), 5);
    assert_eq!(p.entries[0].net, net("0.0.0.0/8"));
    assert_eq!(p.entries[0].line, 11);
}

#[test]
fn spamhaus_drop_text() {
    let text = "\
; Spamhaus-like DROP List 2024/01/01 - (c) nobody
; Last-Modified: Mon, 01 Jan 2024 00:00:00 GMT
; Expires: Mon, 01 Jan 2024 01:00:00 GMT
1.10.16.0/20 ; SBL256894
1.19.0.0/16 ; SBL434604
2.56.192.0/22 ;SBL459831
5.134.128.0/19
";
    let p = parse("drop.txt", text, Format::Auto);
    assert_eq!(p.format, Format::Spamhaus);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let refs: Vec<Option<&str>> = p.entries.iter().map(|e| e.reference.as_deref()).collect();
    assert_eq!(
        refs,
        [
            Some("SBL256894"),
            Some("SBL434604"),
            Some("SBL459831"),
            None
        ]
    );
    assert_eq!(p.entries[0].net, net("1.10.16.0/20"));
    assert_eq!(p.entries[0].line, 4);
}

#[test]
fn spamhaus_drop_json_lines() {
    let text = r#"{"cidr":"1.10.16.0/20","sblid":"SBL256894","rir":"apnic"}
{"cidr":"2a06:e480::/29","sblid":"SBL301771","rir":"ripencc"}
{"cidr":"1.19.0.0/16","rir":"apnic"}
{"asn":64496,"rir":"arin"}
{not json
{"type":"metadata","timestamp":1704067200,"size":1234,"records":3,"copyright":"(c) nobody"}
"#;
    let p = parse("drop_v4.json", text, Format::Auto);
    assert_eq!(p.format, Format::Spamhaus);
    assert_eq!(nets(&p), ["1.10.16.0/20", "2a06:e480::/29", "1.19.0.0/16"]);
    assert_eq!(p.entries[1].reference.as_deref(), Some("SBL301771"));
    assert_eq!(p.entries[2].reference, None);
    let lines: Vec<usize> = p.warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines, [4, 5], "{:?}", p.warnings);
    assert!(p.warnings[0].message.contains("without a \"cidr\""));
    assert!(p.warnings[1].message.contains("not valid JSON"));
    // Detected from content too.
    assert_eq!(parse("drop", text, Format::Auto).format, Format::Spamhaus);
}

#[test]
fn csv_simple_with_and_without_header() {
    let text =
        "ip,comment\n198.51.100.7,ssh brute force\n203.0.113.0/24,\"spam, lots\"\n2001:db8::1\n";
    let p = parse("mine.csv", text, Format::Auto);
    assert_eq!(p.format, Format::Csv);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(
        nets(&p),
        ["198.51.100.7/32", "203.0.113.0/24", "2001:db8::1/128"]
    );
    assert_eq!(p.entries[0].reference.as_deref(), Some("ssh brute force"));
    assert_eq!(p.entries[1].reference.as_deref(), Some("spam, lots"));
    assert_eq!(p.entries[2].reference, None);
    assert_eq!(p.entries[0].line, 2);

    let no_header = "198.51.100.7,first\n198.51.100.8,second\n";
    let p = parse("list", no_header, Format::Auto);
    assert_eq!(p.format, Format::Csv);
    assert_eq!(p.entries.len(), 2);
    assert_eq!(p.entries[1].reference.as_deref(), Some("second"));
}

#[test]
fn csv_header_picks_columns_and_commented_header() {
    // Feodo-Tracker-like CSV: the header row is a comment; the address is the 2nd column.
    let text = "\
################################################################
# abuse.example Botnet C2 IP Blocklist (CSV)                   #
################################################################
# \"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\"
\"2023-05-01 10:00:00\",\"185.220.101.4\",\"443\",\"online\",\"2024-01-01\",\"QakBot\"
\"2023-05-02 11:00:00\",\"45.95.147.236\",\"8080\",\"offline\",\"2023-12-30\",\"Pikabot\"
# end
";
    let p = parse("feodo.csv", text, Format::Csv);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(nets(&p), ["185.220.101.4/32", "45.95.147.236/32"]);
    assert_eq!(p.entries[0].reference.as_deref(), Some("QakBot"));
    assert_eq!(p.entries[1].reference.as_deref(), Some("Pikabot"));

    let text = "reason,network\nscanner,192.0.2.0/24\n";
    let p = parse("x.csv", text, Format::Csv);
    assert_eq!(nets(&p), ["192.0.2.0/24"]);
    assert_eq!(p.entries[0].reference.as_deref(), Some("scanner"));
}

#[test]
fn malformed_lines_are_reported_with_file_and_line_then_skipped() {
    let text = "\
# header
192.0.2.1
999.1.1.1
10.0.0.0/33
2001:db8::/129
10.0.0.0/abc
hello world
<html><body>Not Found</body></html>
fe80::1%eth0
198.51.100.5
1.2.3.9-1.2.3.1
";
    let p = parse("bad.txt", text, Format::Plain);
    assert_eq!(nets(&p), ["192.0.2.1/32", "198.51.100.5/32"]);
    let got: Vec<(usize, &str)> = p
        .warnings
        .iter()
        .map(|w| (w.line, w.message.as_str()))
        .collect();
    let lines: Vec<usize> = got.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, [3, 4, 5, 6, 7, 8, 9, 11], "{got:#?}");
    assert!(
        got[0].1.contains("not an IP address: \"999.1.1.1\""),
        "{}",
        got[0].1
    );
    assert!(
        got[1].1.contains("/33 is too long for an IPv4 address"),
        "{}",
        got[1].1
    );
    assert!(
        got[2].1.contains("/129 is too long for an IPv6 address"),
        "{}",
        got[2].1
    );
    assert!(
        got[3].1.contains("bad prefix length \"abc\""),
        "{}",
        got[3].1
    );
    assert!(
        got[4].1.contains("not an IP address: \"hello\""),
        "{}",
        got[4].1
    );
    assert!(got[7].1.contains("bad range"), "{}", got[7].1);
    for w in &p.warnings {
        assert!(w.message.contains("line skipped"), "{w}");
        assert!(w.to_string().starts_with(&format!("bad.txt:{}: ", w.line)));
    }
}

#[test]
fn non_canonical_cidr_is_truncated_with_a_warning() {
    let p = parse(
        "l",
        "192.0.2.77/24\n2001:db8::1/32\n10.1.2.3/8 ; SBL1\n",
        Format::Spamhaus,
    );
    assert_eq!(nets(&p), ["192.0.2.0/24", "2001:db8::/32", "10.0.0.0/8"]);
    assert_eq!(p.warnings.len(), 3);
    assert_eq!(p.warnings[0].line, 1);
    assert!(
        p.warnings[0]
            .message
            .contains("192.0.2.77/24 has host bits set; using the network 192.0.2.0/24"),
        "{}",
        p.warnings[0].message
    );
    assert_eq!(p.entries[2].reference.as_deref(), Some("SBL1"));
}

#[test]
fn csv_short_row_and_bad_address() {
    let text = "ip_address,comment,extra\n198.51.100.1,a,b\nnot-an-ip,c,d\n,empty\n";
    let p = parse("c.csv", text, Format::Csv);
    assert_eq!(nets(&p), ["198.51.100.1/32"]);
    let lines: Vec<usize> = p.warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines, [3, 4], "{:?}", p.warnings);

    let cols = "host,ip\nfoo,192.0.2.1\nbar\n";
    let p = parse("d.csv", cols, Format::Csv);
    assert_eq!(nets(&p), ["192.0.2.1/32"]);
    assert_eq!(p.warnings.len(), 1);
    assert!(
        p.warnings[0].message.contains("the row has 1 fields"),
        "{}",
        p.warnings[0]
    );
}

#[test]
fn warnings_are_capped_and_counted() {
    let mut text = String::new();
    for i in 0..(MAX_WARNINGS + 37) {
        text.push_str(&format!("garbage-{i}\n"));
    }
    text.push_str("192.0.2.1\n");
    let p = parse("junk", &text, Format::Plain);
    assert_eq!(p.warnings.len(), MAX_WARNINGS);
    assert_eq!(p.warnings_omitted, 37);
    assert_eq!(nets(&p), ["192.0.2.1/32"]);
    assert_eq!(p.entries[0].line, MAX_WARNINGS + 38);
}

#[test]
fn long_reference_is_bounded_and_control_characters_dropped() {
    let long = "x".repeat(MAX_REFERENCE_CHARS * 3);
    let p = parse("l", &format!("192.0.2.1 # a\u{7}b {long}\n"), Format::Plain);
    let r = p.entries[0].reference.as_deref().unwrap();
    assert!(r.starts_with("ab x"));
    assert_eq!(r.chars().count(), MAX_REFERENCE_CHARS);
}

#[test]
fn sniff_table() {
    assert_eq!(sniff("a.txt", "1.2.3.4\n"), Format::Plain);
    assert_eq!(sniff("a", "1.2.3.4,x\n5.6.7.8,y\n"), Format::Csv);
    assert_eq!(sniff("a", "1.2.3.0/24 ; SBL1\n"), Format::Spamhaus);
    assert_eq!(sniff("a", "{\"cidr\":\"1.2.3.0/24\"}\n"), Format::Spamhaus);
    assert_eq!(sniff("a.CSV", "1.2.3.4\n"), Format::Csv);
    assert_eq!(sniff("a", "# FireHOL netset\n1.2.3.4\n"), Format::Firehol);
    assert_eq!(sniff("a", ""), Format::Plain);
    // A comma inside a trailing comment does not make a CSV.
    assert_eq!(sniff("a", "1.2.3.4 # a, b\n"), Format::Plain);
}

#[test]
fn format_names_round_trip_through_serde() {
    for f in [
        Format::Auto,
        Format::Plain,
        Format::Spamhaus,
        Format::Firehol,
        Format::Csv,
    ] {
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(json, format!("\"{}\"", f.name()));
        assert_eq!(serde_json::from_str::<Format>(&json).unwrap(), f);
    }
}

proptest::proptest! {
    #[test]
    fn any_text_parses_without_panic(text in "\\PC{0,300}") {
        for f in [Format::Auto, Format::Plain, Format::Spamhaus, Format::Csv] {
            let p = parse("fuzz", &text, f);
            proptest::prop_assert!(p.warnings.len() <= MAX_WARNINGS);
            for e in &p.entries {
                proptest::prop_assert_eq!(e.net, e.net.trunc());
            }
        }
    }

    #[test]
    fn printed_networks_parse_back(a in proptest::prelude::any::<u32>(), len in 0u8..=32) {
        let n = IpNet::new(IpAddr::V4(a.into()), len).unwrap().trunc();
        let p = parse("rt", &format!("{n}\n"), Format::Plain);
        proptest::prop_assert_eq!(p.entries.len(), 1);
        proptest::prop_assert_eq!(p.entries[0].net, n);
    }
}
