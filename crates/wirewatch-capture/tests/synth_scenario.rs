//! The looping demo scenario against an independent recount: a small frame parser written here
//! (the real decoder lives in another crate) walks whole cycles and checks each phase for what
//! a detector would look at.

// Test code: helpers outside `#[test]` functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use wirewatch_capture::synth::{
    FLOOD_PORT, FLOOD_SOURCE_NET, FLOOD_SOURCE_PREFIX, FLOOD_TARGET, Phase, SCAN_OPEN_PORTS,
    SCAN_PORTS, SCAN_TARGET, SCANNER, SPIKE_CLIENT, SPIKE_SERVER, SPIKE_SERVER_PORT, Scenario,
    ScenarioConfig, TIMELINE, internet_checksum,
};
use wirewatch_core::Timestamp;

const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;
const FIN: u8 = 0x01;

/// Short phases keep a whole cycle (six phases) quick in debug builds.
fn short(phase_secs: u64) -> ScenarioConfig {
    ScenarioConfig {
        seed: 7,
        phase_secs,
        ..ScenarioConfig::default()
    }
}

// ---- an independent little parser ----

/// What the tests need from a frame.
#[derive(Debug, Clone, Copy)]
struct Parsed {
    src: IpAddr,
    dst: IpAddr,
    /// IP protocol (after IPv6 extension headers).
    proto: u8,
    /// TCP ports, flags, sequence and acknowledgement numbers.
    tcp: Option<(u16, u16, u8, u32, u32)>,
    /// Offset of the IPv4 header in the frame (None for IPv6).
    v4_at: Option<usize>,
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

/// Ethernet, stacked VLAN tags, IPv4 or IPv6 (with Hop-by-Hop / Destination options), TCP.
/// Returns None for ARP.
fn parse(frame: &[u8]) -> Option<Parsed> {
    let mut at = 12;
    let mut ethertype = be16(frame, at);
    while ethertype == 0x8100 || ethertype == 0x88a8 {
        at += 4;
        ethertype = be16(frame, at);
    }
    at += 2;
    let (src, dst, mut proto, mut l4, v4_at) = match ethertype {
        0x0800 => {
            let ip = &frame[at..];
            assert_eq!(ip[0] >> 4, 4);
            let ihl = usize::from(ip[0] & 15) * 4;
            let src = Ipv4Addr::from(be32(ip, 12));
            let dst = Ipv4Addr::from(be32(ip, 16));
            (IpAddr::V4(src), IpAddr::V4(dst), ip[9], at + ihl, Some(at))
        }
        0x86dd => {
            let ip = &frame[at..];
            let src = Ipv6Addr::from(<[u8; 16]>::try_from(&ip[8..24]).unwrap());
            let dst = Ipv6Addr::from(<[u8; 16]>::try_from(&ip[24..40]).unwrap());
            (IpAddr::V6(src), IpAddr::V6(dst), ip[6], at + 40, None)
        }
        0x0806 => return None,
        other => panic!("unexpected EtherType {other:#06x}"),
    };
    while matches!(proto, 0 | 60) {
        proto = frame[l4];
        l4 += (usize::from(frame[l4 + 1]) + 1) * 8;
    }
    let tcp = (proto == 6).then(|| {
        let t = &frame[l4..];
        (be16(t, 0), be16(t, 2), t[13], be32(t, 4), be32(t, 8))
    });
    Some(Parsed {
        src,
        dst,
        proto,
        tcp,
        v4_at,
    })
}

fn in_flood_range(a: IpAddr) -> bool {
    let IpAddr::V4(a) = a else { return false };
    let mask = u32::MAX << (32 - u32::from(FLOOD_SOURCE_PREFIX));
    u32::from(a) & mask == u32::from(FLOOD_SOURCE_NET)
}

fn is_attack_host(a: IpAddr) -> bool {
    [
        SCANNER,
        SCAN_TARGET,
        FLOOD_TARGET,
        SPIKE_SERVER,
        SPIKE_CLIENT,
    ]
    .iter()
    .any(|h| a == IpAddr::V4(*h))
        || in_flood_range(a)
}

/// Verifies the IPv4 header checksum and the TCP checksum (with the pseudo-header).
fn checksums_verify(frame: &[u8], at: usize) {
    let ip = &frame[at..];
    let ihl = usize::from(ip[0] & 15) * 4;
    assert_eq!(internet_checksum(&ip[..ihl]), 0, "IPv4 header checksum");
    let total = usize::from(be16(ip, 2));
    assert!(at + total <= frame.len());
    let seg = &ip[ihl..total];
    let mut pseudo = Vec::with_capacity(12 + seg.len());
    pseudo.extend_from_slice(&ip[12..20]);
    pseudo.extend_from_slice(&[0, ip[9]]);
    pseudo.extend_from_slice(&(seg.len() as u16).to_be_bytes());
    pseudo.extend_from_slice(seg);
    assert_eq!(internet_checksum(&pseudo), 0, "TCP checksum");
}

// ---- tests ----

#[test]
fn same_config_same_bytes_and_time_never_goes_back() {
    let cfg = short(2);
    let mut a = Scenario::new(cfg);
    let mut b = Scenario::new(cfg);
    let mut other = Scenario::new(ScenarioConfig { seed: 8, ..cfg });
    let (mut ba, mut bb, mut bo) = (Vec::new(), Vec::new(), Vec::new());
    let mut prev = Timestamp(0);
    let mut differ = 0;
    let mut phases = HashSet::new();
    for i in 0..50_000 {
        let fa = a.next_frame(&mut ba);
        let fb = b.next_frame(&mut bb);
        let fo = other.next_frame(&mut bo);
        assert_eq!(fa, fb, "frame {i}");
        assert_eq!(ba, bb, "frame {i}");
        differ += usize::from(ba != bo || fa.ts != fo.ts);
        if i == 0 {
            assert!(fa.ts >= cfg.start);
        }
        assert!(fa.ts >= prev, "time went backwards at frame {i}");
        assert_eq!(fa.wire_len as usize, ba.len());
        assert!((60..=1514).contains(&ba.len()), "frame {i}: {}", ba.len());
        prev = fa.ts;
        phases.insert(a.phase_at(fa.ts));
    }
    // 50,000 frames of 2 s phases reach every phase; another seed is another stream.
    assert_eq!(phases.len(), 4);
    assert!(differ > 49_000, "only {differ} frames differ");
}

#[test]
fn phases_follow_the_timeline_and_loop() {
    let cfg = ScenarioConfig::default();
    let s = Scenario::new(cfg);
    let at = |secs: u64, nanos: u64| s.phase_at(cfg.start.plus(secs * 1_000_000_000 + nanos));
    assert_eq!(at(0, 0), Phase::Normal);
    assert_eq!(at(14, 999_999_999), Phase::Normal);
    assert_eq!(at(15, 0), Phase::PortScan);
    assert_eq!(at(30, 0), Phase::Normal);
    assert_eq!(at(45, 0), Phase::SynFlood);
    assert_eq!(at(60, 0), Phase::Normal);
    assert_eq!(at(75, 0), Phase::Spike);
    assert_eq!(at(89, 999_999_999), Phase::Spike);
    // Second cycle, and far later.
    assert_eq!(at(90, 0), Phase::Normal);
    assert_eq!(at(105, 1), Phase::PortScan);
    assert_eq!(at(90 + 50, 0), Phase::SynFlood);
    assert_eq!(at(90 * 1000 + 80, 0), Phase::Spike);
    assert_eq!(s.phase_at(Timestamp(0)), Phase::Normal);
    assert_eq!(TIMELINE.len(), 6);
    let names: Vec<_> = TIMELINE.iter().map(|p| p.name()).collect();
    assert_eq!(
        names,
        [
            "normal",
            "port_scan",
            "normal",
            "syn_flood",
            "normal",
            "spike"
        ]
    );
    // Phase length follows the configuration.
    let s4 = Scenario::new(short(4));
    assert_eq!(s4.phase_at(cfg.start.plus(4_000_000_000)), Phase::PortScan);
    assert_eq!(s4.phase_at(cfg.start.plus(24_000_000_000)), Phase::Normal);
}

/// Everything counted in one phase.
#[derive(Default, Debug)]
struct PhaseStats {
    frames: u64,
    bytes: u64,
    attack_frames: u64,
    scan_syn_ports: HashSet<u16>,
    scan_syns_elsewhere: u64,
    scan_rst_ack: u64,
    scan_syn_ack_ports: HashSet<u16>,
    scanner_resets: HashSet<u16>,
    flood_syns: u64,
    flood_sources: HashSet<Ipv4Addr>,
    flood_syn_acks: u64,
    flood_syn_acks_to_unknown: u64,
    download_data: u64,
    download_data_bytes: u64,
    download_acks: u64,
    download_flags: Vec<u8>,
    foreign_attack_frames: u64,
}

/// Walks the first `phases` phases of `cfg`, counting each, and verifies the checksums of every
/// seventh attack frame.
fn walk(cfg: ScenarioConfig, phases: u64) -> Vec<PhaseStats> {
    let mut s = Scenario::new(cfg);
    let phase_ns = cfg.phase_secs * 1_000_000_000;
    let mut stats: Vec<PhaseStats> = (0..phases).map(|_| PhaseStats::default()).collect();
    let mut buf = Vec::new();
    let mut flood_seen: HashSet<(Ipv4Addr, u16)> = HashSet::new();
    let mut checked = 0u64;
    loop {
        let f = s.next_frame(&mut buf);
        let index = (f.ts.since(cfg.start) / phase_ns) as usize;
        if index >= stats.len() {
            break;
        }
        let phase = s.phase_at(f.ts);
        assert_eq!(phase, TIMELINE[index % 6]);
        let st = &mut stats[index];
        st.frames += 1;
        st.bytes += u64::from(f.wire_len);
        let Some(p) = parse(&buf) else { continue };
        if !(is_attack_host(p.src) || is_attack_host(p.dst)) {
            continue;
        }
        st.attack_frames += 1;
        if st.attack_frames % 7 == 1 {
            checksums_verify(&buf, p.v4_at.expect("attack frames are IPv4"));
            checked += 1;
        }
        assert_eq!(p.proto, 6, "attack frames are TCP");
        let (sport, dport, flags, _seq, _ack) = p.tcp.unwrap();
        let v4 = |a: Ipv4Addr| IpAddr::V4(a);
        let role = match (p.src, p.dst) {
            (s, d) if s == v4(SCANNER) && d == v4(SCAN_TARGET) => {
                if flags == SYN {
                    st.scan_syn_ports.insert(dport);
                    if !SCAN_PORTS.contains(&dport) {
                        st.scan_syns_elsewhere += 1;
                    }
                } else {
                    assert_eq!(flags, RST);
                    st.scanner_resets.insert(dport);
                }
                Phase::PortScan
            }
            (s, d) if s == v4(SCANNER) || d == v4(SCANNER) => {
                assert_eq!(s, v4(SCAN_TARGET));
                if flags == SYN | ACK {
                    st.scan_syn_ack_ports.insert(sport);
                } else {
                    assert_eq!(flags, RST | ACK);
                    st.scan_rst_ack += 1;
                }
                Phase::PortScan
            }
            (s, d) if s == v4(SCAN_TARGET) || d == v4(SCAN_TARGET) => {
                panic!("scan target talks to {s} / {d}")
            }
            (IpAddr::V4(s), d) if in_flood_range(p.src) => {
                assert_eq!((d, dport, flags), (v4(FLOOD_TARGET), FLOOD_PORT, SYN));
                st.flood_syns += 1;
                st.flood_sources.insert(s);
                flood_seen.insert((s, sport));
                Phase::SynFlood
            }
            (s, IpAddr::V4(d)) if s == v4(FLOOD_TARGET) => {
                assert!(in_flood_range(p.dst), "victim answers {d}");
                assert_eq!((sport, flags), (FLOOD_PORT, SYN | ACK));
                st.flood_syn_acks += 1;
                st.flood_syn_acks_to_unknown += u64::from(!flood_seen.contains(&(d, dport)));
                Phase::SynFlood
            }
            (s, d) if s == v4(SPIKE_SERVER) && d == v4(SPIKE_CLIENT) => {
                assert_eq!(sport, SPIKE_SERVER_PORT);
                if buf.len() == 1514 {
                    st.download_data += 1;
                    st.download_data_bytes += 1514;
                } else {
                    st.download_flags.push(flags);
                }
                Phase::Spike
            }
            (s, d) if s == v4(SPIKE_CLIENT) && d == v4(SPIKE_SERVER) => {
                assert_eq!(dport, SPIKE_SERVER_PORT);
                if flags == ACK && buf.len() == 66 {
                    st.download_acks += 1;
                } else {
                    st.download_flags.push(flags);
                }
                Phase::Spike
            }
            (s, d) => panic!("unexpected attack frame {s} -> {d}"),
        };
        if role != phase {
            st.foreign_attack_frames += 1;
        }
    }
    assert!(checked >= stats.iter().map(|s| s.attack_frames / 7).sum::<u64>());
    stats
}

fn within(value: f64, expected: f64, tolerance: f64) -> bool {
    (value - expected).abs() <= expected * tolerance
}

#[test]
fn one_cycle_phase_by_phase() {
    let cfg = short(4);
    let s = Scenario::new(cfg);
    let secs = cfg.phase_secs as f64;
    let stats = walk(cfg, 6);
    let rate = |st: &PhaseStats| st.frames as f64 / secs;
    let byte_rate = |st: &PhaseStats| st.bytes as f64 / secs;

    for (i, st) in stats.iter().enumerate() {
        let phase = TIMELINE[i];
        assert_eq!(
            st.foreign_attack_frames, 0,
            "phase {i} has another phase's attack"
        );
        let expected = s.config().expected_pps(phase);
        assert!(
            within(rate(st), expected, 0.10),
            "phase {i} ({}) runs at {} frames/s, expected {expected}",
            phase.name(),
            rate(st)
        );
        if phase == Phase::Normal {
            assert_eq!(st.attack_frames, 0, "attack hosts in normal phase {i}");
            assert!(within(rate(st), cfg.background_pps, 0.10));
        }
    }

    // PortScan: SYNs to (nearly) every port the rate allows, only in range; every probe answered.
    let scan = &stats[1];
    let wanted = (cfg.scan_ports_per_sec * secs).min(1024.0) * 0.9;
    assert!(
        scan.scan_syn_ports.len() as f64 >= wanted,
        "{} ports scanned",
        scan.scan_syn_ports.len()
    );
    assert_eq!(scan.scan_syns_elsewhere, 0);
    let open_hit: HashSet<u16> = SCAN_OPEN_PORTS
        .iter()
        .copied()
        .filter(|p| scan.scan_syn_ports.contains(p))
        .collect();
    assert_eq!(scan.scan_syn_ack_ports, open_hit);
    assert_eq!(scan.scanner_resets, open_hit);
    assert_eq!(
        scan.scan_rst_ack as usize + open_hit.len(),
        scan.scan_syn_ports.len()
    );

    // SynFlood: about flood_pps × secs SYNs from many sources, few answered, all to real SYNs.
    let attack_frames: u64 = stats.iter().map(|s| s.attack_frames).sum();
    assert!(attack_frames > 20_000, "{attack_frames} attack frames");

    let flood = &stats[3];
    let syns = flood.flood_syns as f64;
    assert!(
        within(syns, cfg.flood_pps * secs, 0.05),
        "{syns} flood SYNs"
    );
    assert!(flood.flood_sources.len() >= 1000);
    assert!(flood.flood_syn_acks as f64 <= 0.10 * syns);
    assert!(flood.flood_syn_acks as f64 >= 0.02 * syns);
    assert_eq!(flood.flood_syn_acks_to_unknown, 0);

    // Spike: packets/s and bytes/s jump; the download runs from handshake to FIN.
    let normal = &stats[4];
    let spike = &stats[5];
    assert!(rate(spike) >= 4.0 * rate(normal));
    assert!(byte_rate(spike) >= 4.0 * byte_rate(normal));
    let segments = cfg.background_pps * secs;
    assert!(
        within(spike.download_data as f64, segments, 0.05),
        "{} download segments",
        spike.download_data
    );
    assert!(within(
        spike.download_acks as f64,
        spike.download_data as f64 / 2.0,
        0.02
    ));
    assert!(spike.download_data_bytes as f64 / secs * 8.0 > 15e6);
    assert_eq!(
        spike.download_flags,
        [SYN, SYN | ACK, ACK | 0x08, FIN | ACK, FIN | ACK, ACK],
        "handshake, request, close (the handshake's last ACK counts with the ACKs)"
    );
}

#[test]
fn default_scan_covers_all_1024_ports_and_second_cycle_repeats_the_story() {
    // Default 15 s phases: the 1,024 ports take 10.24 s at 100/s.
    let stats = walk(ScenarioConfig::default(), 2);
    let scan = &stats[1];
    assert_eq!(scan.scan_syn_ports.len(), 1024);
    assert_eq!(
        scan.scan_syn_ports
            .iter()
            .min()
            .zip(scan.scan_syn_ports.iter().max()),
        Some((&1, &1024))
    );

    // Second cycle of 2 s phases: the attacks come back with fresh randomness.
    let cfg = short(2);
    let stats = walk(cfg, 12);
    for i in 6..12 {
        let (first, second) = (&stats[i - 6], &stats[i]);
        assert_eq!(second.foreign_attack_frames, 0);
        match TIMELINE[i % 6] {
            Phase::Normal => assert_eq!(second.attack_frames, 0),
            Phase::PortScan => {
                assert!(second.scan_syn_ports.len() >= 180);
                assert_ne!(first.scan_syn_ports, second.scan_syn_ports);
            }
            Phase::SynFlood => {
                assert!(within(second.flood_syns as f64, 8000.0, 0.05));
                let common = first
                    .flood_sources
                    .intersection(&second.flood_sources)
                    .count();
                assert!(common < 100, "{common} sources repeat");
            }
            // 2 s minus the handshake and the close: a few percent short.
            Phase::Spike => assert!(within(second.download_data as f64, 3000.0, 0.10)),
        }
    }
}

#[test]
fn rates_follow_the_configuration() {
    let cfg = ScenarioConfig {
        seed: 3,
        phase_secs: 2,
        background_pps: 500.0,
        scan_ports_per_sec: 300.0,
        flood_pps: 2000.0,
        spike_factor: 3.0,
        start: Timestamp::from_secs_nanos(1_000, 0),
    };
    let s = Scenario::new(cfg);
    let stats = walk(cfg, 6);
    for (i, st) in stats.iter().enumerate() {
        let expected = s.config().expected_pps(TIMELINE[i]);
        assert!(
            within(st.frames as f64 / 2.0, expected, 0.10),
            "phase {i}: {} frames, expected {expected}/s",
            st.frames
        );
    }
    assert!(stats[1].scan_syn_ports.len() >= 540);
    assert!(within(stats[3].flood_syns as f64, 4000.0, 0.05));
}

#[test]
fn extreme_rates_are_clamped_and_every_probe_is_still_answered() {
    let cfg = ScenarioConfig {
        seed: 11,
        phase_secs: 1,
        background_pps: 300.0,
        scan_ports_per_sec: 1e9,
        flood_pps: f64::INFINITY,
        ..ScenarioConfig::default()
    };
    let s = Scenario::new(cfg);
    assert_eq!(s.config().scan_ports_per_sec, 10_000.0);
    assert_eq!(s.config().flood_pps, ScenarioConfig::default().flood_pps);
    // The whole range in about 0.1 s, with no answer lost to the bounded queue.
    let stats = walk(cfg, 4);
    let scan = &stats[1];
    assert_eq!(scan.scan_syn_ports.len(), 1024);
    assert_eq!(scan.scan_rst_ack, 1024 - 3);
    assert_eq!(scan.scan_syn_ack_ports.len(), 3);
    assert_eq!(scan.scanner_resets.len(), 3);
    assert!(within(stats[3].flood_syns as f64, 4000.0, 0.05));
}

#[test]
fn slow_attacks_stay_inside_their_phases() {
    // Gaps longer than the phase: the first probe or SYN may not fit, and the download's
    // server must close early enough.
    let cfg = ScenarioConfig {
        seed: 12,
        phase_secs: 1,
        background_pps: 4.0,
        scan_ports_per_sec: 0.7,
        flood_pps: 0.9,
        spike_factor: 1.0,
        ..ScenarioConfig::default()
    };
    let stats = walk(cfg, 60);
    for (i, st) in stats.iter().enumerate() {
        assert_eq!(st.foreign_attack_frames, 0, "phase {i}");
        if TIMELINE[i % 6] == Phase::Normal {
            assert_eq!(st.attack_frames, 0, "phase {i}");
        }
        if TIMELINE[i % 6] == Phase::Spike {
            assert_eq!(st.download_flags.last(), Some(&ACK), "phase {i}");
        }
    }
    let probes: usize = stats.iter().map(|s| s.scan_syn_ports.len()).sum();
    let syns: u64 = stats.iter().map(|s| s.flood_syns).sum();
    assert!(probes > 0 && syns > 0, "{probes} probes, {syns} SYNs");
}
