//! The synthetic traffic generator against independent recounts: a small parser written here,
//! and (when installed) tshark through the corpus' `truth.py`.

// Test code: helpers outside `#[test]` functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use wirewatch_capture::synth::{
    GenerateSummary, Generator, GeneratorConfig, write_pcap, write_pcap_snaplen,
};
use wirewatch_core::Timestamp;

fn cfg(seed: u64, packets: u64, flows: u64) -> GeneratorConfig {
    GeneratorConfig {
        seed,
        packets,
        flows,
        ..GeneratorConfig::default()
    }
}

fn pcap_bytes(c: &GeneratorConfig) -> (Vec<u8>, GenerateSummary) {
    let mut out = Vec::new();
    let summary = write_pcap(c, &mut out).unwrap();
    (out, summary)
}

#[test]
fn same_seed_same_bytes_different_seed_different_bytes() {
    let (a, sa) = pcap_bytes(&cfg(42, 5_000, 200));
    let (b, sb) = pcap_bytes(&cfg(42, 5_000, 200));
    let (c, _) = pcap_bytes(&cfg(43, 5_000, 200));
    assert_eq!(a, b);
    assert_eq!(sa, sb);
    assert_ne!(a, c);
}

#[test]
fn snaplen_cuts_records_but_not_the_summary() {
    let c = cfg(5, 2_000, 100);
    let (full, s) = pcap_bytes(&c);
    let mut cut = Vec::new();
    let s_cut = write_pcap_snaplen(&c, &mut cut, 96).unwrap();
    assert_eq!(s, s_cut);
    assert!(cut.len() < full.len());
    // Walk the records: caplen <= 96, original length the full frame's.
    let (mut at, mut n, mut wire) = (24, 0u64, 0u64);
    while at < cut.len() {
        let caplen = u32::from_le_bytes(cut[at + 8..at + 12].try_into().unwrap());
        let orig = u32::from_le_bytes(cut[at + 12..at + 16].try_into().unwrap());
        assert!(caplen <= 96 && caplen <= orig);
        wire += u64::from(orig);
        at += 16 + caplen as usize;
        n += 1;
    }
    assert_eq!((n, wire), (s.packets, s.bytes));
}

#[test]
fn exact_count_rate_and_monotonic_time() {
    let c = GeneratorConfig {
        packets: 30_000,
        flows: 600,
        packets_per_second: 10_000.0,
        start: Timestamp::from_secs_nanos(1_000_000, 0),
        ..GeneratorConfig::default()
    };
    let mut g = Generator::new(c);
    let mut buf = Vec::new();
    let mut n = 0u64;
    let mut prev = Timestamp(0);
    let mut first = None;
    while let Some(f) = g.next_frame(&mut buf) {
        assert!(f.ts >= prev, "time went backwards at frame {n}");
        assert_eq!(f.wire_len as usize, buf.len());
        assert!(
            (60..=1514).contains(&buf.len()),
            "frame {n} is {} bytes",
            buf.len()
        );
        first.get_or_insert(f.ts);
        prev = f.ts;
        n += 1;
    }
    assert_eq!(n, 30_000);
    assert!(g.next_frame(&mut buf).is_none());
    assert_eq!(first, Some(c.start));
    let secs = prev.since(c.start) as f64 / 1e9;
    assert!(
        (secs - 3.0).abs() < 0.15,
        "30k frames at 10k pps took {secs} s"
    );
}

#[test]
fn tiny_and_degenerate_configs_still_produce_exactly_n_frames() {
    for (packets, flows, pps) in [
        (0, 10, 1.0),
        (1, 0, f64::NAN),
        (7, 1, -5.0),
        (500, 100_000, 1e9),
    ] {
        let c = GeneratorConfig {
            packets,
            flows,
            packets_per_second: pps,
            ..GeneratorConfig::default()
        };
        let mut g = Generator::new(c);
        let mut buf = Vec::new();
        let mut n = 0;
        while g.next_frame(&mut buf).is_some() {
            n += 1;
        }
        assert_eq!(n, packets);
        assert_eq!(g.summary().packets, packets);
    }
}

// ---- an independent little parser ----

/// IP protocol and the two (address, port) ends, lower end first.
type FlowKey = (u8, (IpAddr, u16), (IpAddr, u16));

#[derive(Default)]
struct Recount {
    s: GenerateSummary,
    srcs: HashSet<IpAddr>,
    dsts: HashSet<IpAddr>,
    flows: HashSet<FlowKey>,
    tcp_flows: u64,
    udp_flows: u64,
    qinq_frames: u64,
    arp_frames: u64,
    dns_frames: u64,
    tcp_options_on_syn: u64,
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// One's-complement sum, the textbook 16-bit way (deliberately not the library's code).
fn csum16(chunks: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    for data in chunks {
        assert!(data.len() % 2 == 0 || std::ptr::eq(*data, *chunks.last().unwrap()));
        for pair in data.chunks(2) {
            sum += u32::from(pair[0]) << 8 | u32::from(*pair.get(1).unwrap_or(&0));
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

impl Recount {
    fn frame(&mut self, f: &[u8]) {
        self.s.packets += 1;
        self.s.bytes += f.len() as u64;
        let mut et = be16(f, 12);
        let mut off = 14;
        let mut tags = 0;
        while et == 0x8100 || et == 0x88a8 {
            et = be16(f, off + 2);
            off += 4;
            tags += 1;
        }
        if tags > 0 {
            self.s.vlan_frames += 1;
        }
        if tags > 1 {
            self.qinq_frames += 1;
        }
        let (src, dst, mut proto, l4, l4_len, pseudo): (IpAddr, IpAddr, u8, usize, usize, Vec<u8>) =
            match et {
                0x0800 => {
                    let ip = &f[off..];
                    let ihl = usize::from(ip[0] & 0x0f) * 4;
                    let total = usize::from(be16(ip, 2));
                    assert_eq!(csum16(&[&ip[..ihl]]), 0, "IPv4 header checksum");
                    assert!(total <= ip.len());
                    let s = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
                    let d = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
                    let mut ph = Vec::new();
                    ph.extend_from_slice(&ip[12..20]);
                    ph.extend_from_slice(&[0, ip[9]]);
                    ph.extend_from_slice(&((total - ihl) as u16).to_be_bytes());
                    (s.into(), d.into(), ip[9], off + ihl, total - ihl, ph)
                }
                0x86dd => {
                    self.s.ipv6_frames += 1;
                    let ip = &f[off..];
                    let plen = usize::from(be16(ip, 4));
                    let s = Ipv6Addr::from(<[u8; 16]>::try_from(&ip[8..24]).unwrap());
                    let d = Ipv6Addr::from(<[u8; 16]>::try_from(&ip[24..40]).unwrap());
                    let mut nh = ip[6];
                    let mut p = 40;
                    while matches!(nh, 0 | 43 | 60) {
                        nh = ip[p];
                        p += (usize::from(ip[p + 1]) + 1) * 8;
                    }
                    let mut ph = Vec::new();
                    ph.extend_from_slice(&ip[8..40]);
                    ph.extend_from_slice(&((40 + plen - p) as u32).to_be_bytes());
                    ph.extend_from_slice(&[0, 0, 0, nh]);
                    (s.into(), d.into(), nh, off + p, 40 + plen - p, ph)
                }
                0x0806 => {
                    self.s.non_ip += 1;
                    self.arp_frames += 1;
                    return;
                }
                _ => panic!("unexpected EtherType {et:#06x}"),
            };
        self.srcs.insert(src);
        self.dsts.insert(dst);
        let seg = &f[l4..l4 + l4_len];
        let (sport, dport) = match proto {
            6 => {
                self.s.tcp += 1;
                assert_eq!(csum16(&[&pseudo, seg]), 0, "TCP checksum");
                let flags = seg[13];
                if flags & 0x02 != 0 {
                    if flags & 0x10 != 0 {
                        self.s.tcp_syn_ack += 1;
                    } else {
                        self.s.tcp_syn += 1;
                    }
                    if seg[12] >> 4 > 5 {
                        self.tcp_options_on_syn += 1;
                    }
                }
                self.s.tcp_rst += u64::from(flags & 0x04 != 0);
                self.s.tcp_fin += u64::from(flags & 0x01 != 0);
                (be16(seg, 0), be16(seg, 2))
            }
            17 => {
                self.s.udp += 1;
                assert_eq!(usize::from(be16(seg, 4)), seg.len(), "UDP length");
                assert_ne!(be16(seg, 6), 0, "UDP checksum present");
                assert_eq!(csum16(&[&pseudo, seg]), 0, "UDP checksum");
                if be16(seg, 0) == 53 || be16(seg, 2) == 53 {
                    self.dns_frames += 1;
                }
                (be16(seg, 0), be16(seg, 2))
            }
            1 | 58 => {
                if proto == 1 {
                    self.s.icmp += 1;
                    assert_eq!(csum16(&[seg]), 0, "ICMP checksum");
                } else {
                    self.s.icmpv6 += 1;
                    assert_eq!(csum16(&[&pseudo, seg]), 0, "ICMPv6 checksum");
                }
                assert!(matches!(seg[0], 0 | 8 | 128 | 129), "echo type");
                (be16(seg, 4), be16(seg, 4))
            }
            _ => {
                self.s.other_ip += 1;
                proto = 0;
                (0, 0)
            }
        };
        let a = (src, sport);
        let b = (dst, dport);
        let key = if a <= b { (proto, a, b) } else { (proto, b, a) };
        if self.flows.insert(key) {
            match proto {
                6 => self.tcp_flows += 1,
                17 => self.udp_flows += 1,
                _ => {}
            }
        }
    }

    fn finish(mut self) -> Self {
        self.s.flows = self.flows.len() as u64;
        self.s.tcp_flows = self.tcp_flows;
        self.s.udp_flows = self.udp_flows;
        self.s.icmp_flows = self.s.flows - self.tcp_flows - self.udp_flows;
        self.s.distinct_src_ips = self.srcs.len() as u64;
        self.s.distinct_dst_ips = self.dsts.len() as u64;
        self
    }
}

#[test]
fn summary_equals_an_independent_recount_and_every_checksum_verifies() {
    let c = cfg(7, 60_000, 1_500);
    let mut g = Generator::new(c);
    let mut buf = Vec::new();
    let mut r = Recount::default();
    while g.next_frame(&mut buf).is_some() {
        r.frame(&buf);
    }
    let r = r.finish();
    let s = g.summary();
    assert_eq!(s, r.s);

    // The mix looks like the brief: mostly TCP, DNS, some ICMP, IPv6, VLAN, QinQ, ARP.
    let pct = |n: u64, d: u64| n as f64 * 100.0 / d as f64;
    assert!((1_200..=1_800).contains(&s.flows), "flows {}", s.flows);
    let tcp_flow_pct = pct(s.tcp_flows, s.flows);
    assert!(
        (68.0..=84.0).contains(&tcp_flow_pct),
        "tcp flows {tcp_flow_pct}%"
    );
    assert!((10.0..=20.0).contains(&pct(s.udp_flows, s.flows)));
    assert!(s.icmp > 0 && s.icmpv6 > 0);
    assert!((5.0..=30.0).contains(&pct(s.ipv6_frames, s.packets)));
    assert!((4.0..=20.0).contains(&pct(s.vlan_frames, s.packets)));
    assert!(r.qinq_frames > 0);
    assert!(r.arp_frames > 0 && r.arp_frames == s.non_ip);
    assert!(r.dns_frames > 0);
    assert!(s.tcp_syn > s.tcp_syn_ack, "some SYNs go unanswered");
    assert!(s.tcp_rst > 0 && s.tcp_fin > 0);
    assert_eq!(r.tcp_options_on_syn, s.tcp_syn + s.tcp_syn_ack);
    // Interleaving: the first 200 frames already span many flows.
    let mut g = Generator::new(c);
    let mut r = Recount::default();
    for _ in 0..200 {
        g.next_frame(&mut buf).unwrap();
        r.frame(&buf);
    }
    assert!(r.finish().flows.len() > 100);
}

// ---- tshark, through the corpus' truth.py ----

fn truth_script() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pcaps/truth.py");
    p.exists().then_some(p)
}

fn have_tshark() -> bool {
    std::process::Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn tshark_truth_matches_the_summary() {
    let Some(script) = truth_script() else {
        wirewatch_testkit::skip(format_args!("../shared/pcaps/truth.py not found"));
        return;
    };
    if !have_tshark() {
        wirewatch_testkit::skip(format_args!("tshark not installed"));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("synth.pcap");
    let c = cfg(2024, 20_000, 400);
    let s = write_pcap(&c, std::fs::File::create(&path).unwrap()).unwrap();
    let json = dir.path().join("truth.json");
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg(&path)
        .arg("-o")
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Flatten the two-level JSON to "section.key value" lines (no JSON crate needed here).
    let flat = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import json,sys\n\
             d=json.load(open(sys.argv[1]))\n\
             for k,v in d.items():\n\
             \x20 if isinstance(v,dict):\n\
             \x20\x20 for k2,v2 in v.items():\n\
             \x20\x20\x20 if isinstance(v2,(int,float)) and not isinstance(v2,bool): print(k+'.'+k2,v2)",
        )
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        flat.status.success(),
        "{}",
        String::from_utf8_lossy(&flat.stderr)
    );
    let text = String::from_utf8(flat.stdout).unwrap();
    let values: std::collections::HashMap<&str, f64> = text
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k, v.parse().unwrap()))
        .collect();
    let n = |a: &str, b: &str| {
        let key = format!("{a}.{b}");
        *values
            .get(key.as_str())
            .unwrap_or_else(|| panic!("{key} missing")) as u64
    };
    assert_eq!(n("totals", "packets"), s.packets);
    assert_eq!(n("totals", "bytes"), s.bytes);
    assert_eq!(n("ip_proto_outer", "TCP"), s.tcp);
    assert_eq!(n("ip_proto_outer", "UDP"), s.udp);
    assert_eq!(n("ip_proto_outer", "ICMP"), s.icmp);
    assert_eq!(n("ip_proto_outer", "ICMPv6"), s.icmpv6);
    assert_eq!(n("ip_proto_outer", "other"), s.other_ip);
    assert_eq!(n("ip", "non_ip_packets"), s.non_ip);
    assert_eq!(n("ip", "ipv6_packets"), s.ipv6_frames);
    assert_eq!(n("tcp_flags", "syn_without_ack"), s.tcp_syn);
    assert_eq!(n("tcp_flags", "syn_ack"), s.tcp_syn_ack);
    assert_eq!(n("tcp_flags", "rst"), s.tcp_rst);
    assert_eq!(n("tcp_flags", "fin"), s.tcp_fin);
    assert_eq!(n("addresses", "distinct_src_ips"), s.distinct_src_ips);
    assert_eq!(n("addresses", "distinct_dst_ips"), s.distinct_dst_ips);
    assert_eq!(n("conversations", "tcp_count"), s.tcp_flows);
    assert_eq!(n("conversations", "udp_count"), s.udp_flows);
    assert_eq!(n("features", "vlan_frames"), s.vlan_frames);
    assert_eq!(
        n("features", "malformed_frames"),
        0,
        "tshark found malformed frames"
    );
    assert_eq!(
        n("features", "expert_error_frames"),
        0,
        "tshark raised expert errors"
    );
    assert_eq!(n("file", "tshark_exit_code"), 0);
}

/// One-off timing of the benchmark-sized file: run with
/// `cargo test --release -p wirewatch-capture --test synth_generator -- --ignored --nocapture`
/// (set `SYNTH_TIMING_DIR` to write somewhere other than the system temp dir, e.g. /dev/shm).
#[test]
#[ignore]
fn timing_five_million_packets() {
    let c = cfg(1, 5_000_000, 100_000);
    let base = std::env::var_os("SYNTH_TIMING_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let dir = tempfile::tempdir_in(base).unwrap();
    let path = dir.path().join("big.pcap");
    let mpps = |d: std::time::Duration| 5.0 / d.as_secs_f64();

    let t = std::time::Instant::now();
    let mut g = Generator::new(c);
    let mut buf = Vec::with_capacity(2048);
    let mut bytes = 0u64;
    while let Some(f) = g.next_frame(&mut buf) {
        bytes += u64::from(f.wire_len);
    }
    let gen_only = t.elapsed();
    println!(
        "generate only:          {gen_only:.2?} ({:.1} Mpps)",
        mpps(gen_only)
    );

    let t = std::time::Instant::now();
    write_pcap(&c, std::io::sink()).unwrap();
    let to_sink = t.elapsed();
    println!(
        "generate + pcap (sink): {to_sink:.2?} ({:.1} Mpps)",
        mpps(to_sink)
    );

    let t = std::time::Instant::now();
    let s = write_pcap(&c, std::fs::File::create(&path).unwrap()).unwrap();
    let written = t.elapsed();
    let size = std::fs::metadata(&path).unwrap().len();
    assert_eq!(s.bytes, bytes);
    println!(
        "generate + write file:  {written:.2?} ({:.1} Mpps, {:.0} MB/s), {size} bytes in {}",
        mpps(written),
        size as f64 / 1e6 / written.as_secs_f64(),
        path.display(),
    );
    std::fs::remove_file(&path).unwrap();
    let path = dir.path().join("big-snaplen128.pcap");
    let t = std::time::Instant::now();
    let cut = write_pcap_snaplen(&c, std::fs::File::create(&path).unwrap(), 128).unwrap();
    let written = t.elapsed();
    let size = std::fs::metadata(&path).unwrap().len();
    assert_eq!(cut, s);
    println!(
        "same, snaplen 128:      {written:.2?} ({:.1} Mpps, {:.0} MB/s), {size} bytes",
        mpps(written),
        size as f64 / 1e6 / written.as_secs_f64(),
    );
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("VmHWM: ?");
    println!("{hwm}\n{s:#?}");
}
