//! TCP health against tshark's TCP analysis.
//!
//! 1. Hand-built captures of every case (handshake, RTO, fast and spurious retransmissions,
//!    out-of-order, gaps, zero windows and probes, keep-alives, sequence wrap-around, SYN
//!    retries, refused and mid-stream connections) must get, frame by frame, the marks tshark
//!    gives (`tcp.analysis.*`), and each connection tshark's `initial_rtt`.
//! 2. TCP-rich captures of the public corpus (`../shared/pcaps/`), through `analyze` and its
//!    JSON flows: the handshake RTT must equal tshark's `tcp.analysis.initial_rtt` within 1 %
//!    or 50 µs on at least 95 % of the connections that have one, and each file's
//!    retransmissions (every kind, as `tcp.analysis.retransmission` counts them) must be
//!    within 5 % of tshark's. Connections are matched by 5-tuple.
//!
//! Skips cleanly (fails under CI) when tshark or the corpus is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

mod corpus;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use wirewatch::analyze::{AnalyzeOptions, NoProgress, analyze_files};
use wirewatch_capture::synth::{
    Body, FrameSpec, IpPacket, Payload, PcapWriter, TcpOptions, TcpSegment, Transport,
};
use wirewatch_core::proto::tcp_flags::{ACK, FIN, PSH, RST, SYN};
use wirewatch_core::{LinkType, Timestamp};
use wirewatch_flow::tcp_health::marks;
use wirewatch_flow::{FlowConfig, FlowTable};

fn tshark_available() -> bool {
    Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// tshark's flags, in the order of the `-e` fields after the fixed ones, with our mark.
const FLAGS: &[(&str, u16)] = &[
    ("tcp.analysis.retransmission", marks::RETRANSMISSION),
    (
        "tcp.analysis.fast_retransmission",
        marks::FAST_RETRANSMISSION,
    ),
    (
        "tcp.analysis.spurious_retransmission",
        marks::SPURIOUS_RETRANSMISSION,
    ),
    ("tcp.analysis.out_of_order", marks::OUT_OF_ORDER),
    ("tcp.analysis.lost_segment", marks::LOST_SEGMENT),
    ("tcp.analysis.zero_window", marks::ZERO_WINDOW),
    ("tcp.analysis.duplicate_ack", marks::DUPLICATE_ACK),
    ("tcp.analysis.keep_alive", marks::KEEP_ALIVE),
    ("tcp.analysis.zero_window_probe", marks::ZERO_WINDOW_PROBE),
    ("tcp.analysis.keep_alive_ack", marks::KEEP_ALIVE_ACK),
    (
        "tcp.analysis.zero_window_probe_ack",
        marks::ZERO_WINDOW_PROBE_ACK,
    ),
];

/// One TCP frame as tshark analysed it.
struct TsharkFrame {
    number: u64,
    /// (address, port) of the sender and of the receiver.
    src: (IpAddr, u16),
    dst: (IpAddr, u16),
    stream: u64,
    /// `tcp.analysis.initial_rtt` in seconds (shown once the stream has one; two passes).
    initial_rtt: Option<f64>,
    /// tshark's flags as our marks.
    marks: u16,
}

/// Runs tshark (two passes, so every frame of a stream shows its initial RTT) on `path`.
fn tshark_frames(path: &Path) -> Vec<TsharkFrame> {
    let mut cmd = Command::new("tshark");
    cmd.args(["-n", "-2", "-r"]).arg(path);
    // TCP frames that are not quoted in an ICMP error; first occurrence of each field.
    cmd.args(["-Y", "tcp && !icmp && !icmpv6", "-T", "fields"]);
    cmd.args(["-E", "separator=|", "-E", "occurrence=f"]);
    for f in [
        "frame.number",
        "ip.src",
        "ipv6.src",
        "tcp.srcport",
        "ip.dst",
        "ipv6.dst",
        "tcp.dstport",
        "tcp.stream",
        "tcp.analysis.initial_rtt",
    ] {
        cmd.args(["-e", f]);
    }
    for (f, _) in FLAGS {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut frames = Vec::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split('|').collect();
        assert_eq!(cols.len(), 9 + FLAGS.len(), "{line}");
        let addr = |v4: &str, v6: &str| -> Option<IpAddr> {
            if v4.is_empty() { v6 } else { v4 }.parse().ok()
        };
        let (Some(src), Some(dst)) = (addr(cols[1], cols[2]), addr(cols[4], cols[5])) else {
            continue;
        };
        let mut m = 0;
        for (i, (_, bit)) in FLAGS.iter().enumerate() {
            if !cols[9 + i].is_empty() {
                m |= bit;
            }
        }
        frames.push(TsharkFrame {
            number: cols[0].parse().unwrap(),
            src: (src, cols[3].parse().unwrap()),
            dst: (dst, cols[6].parse().unwrap()),
            stream: cols[7].parse().unwrap(),
            initial_rtt: cols[8].parse().ok(),
            marks: m,
        });
    }
    frames
}

// ---------------------------------------------------------------------------------------------
// 1. Hand-built captures, frame by frame.

const CLIENT_MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
const SERVER_MAC: [u8; 6] = [2, 0, 0, 0, 0, 2];

/// Builds the frames of hand-made connections.
struct Script {
    frames: Vec<(Timestamp, Vec<u8>)>,
    client: IpAddr,
    server: IpAddr,
    port: u16,
    t0_ms: u64,
}

impl Script {
    /// Starts connection number `n` (its own client port), `t0_ms` into the capture.
    fn conn(&mut self, n: u16, t0_ms: u64) {
        self.port = 40000 + n;
        self.t0_ms = t0_ms;
    }

    /// A segment at `ms` (microsecond precision through `us`) after the connection's start.
    fn seg_us(&mut self, from_client: bool, us: u64, seq: u32, ack: u32, flags: u8, len: usize) {
        self.seg_win(from_client, us, seq, ack, flags, len, 64000);
    }

    #[allow(clippy::too_many_arguments)]
    fn seg_win(
        &mut self,
        from_client: bool,
        us: u64,
        seq: u32,
        ack: u32,
        flags: u8,
        len: usize,
        window: u16,
    ) {
        let (src, dst, sport, dport, smac, dmac) = if from_client {
            (
                self.client,
                self.server,
                self.port,
                80,
                CLIENT_MAC,
                SERVER_MAC,
            )
        } else {
            (
                self.server,
                self.client,
                80,
                self.port,
                SERVER_MAC,
                CLIENT_MAC,
            )
        };
        let options = if flags & SYN != 0 {
            TcpOptions::syn(1460, 0, 0)
        } else {
            TcpOptions::default()
        };
        let seg = TcpSegment {
            src_port: sport,
            dst_port: dport,
            seq,
            ack,
            flags,
            window,
            urgent: 0,
            options,
            payload: Payload::Filled {
                head: b"",
                fill: len,
                tail: b"",
                seed: seq,
            },
        };
        let ip = IpPacket::new(src, dst, Transport::Tcp(seg));
        let frame = FrameSpec::new(smac, dmac, Body::Ip(ip)).to_vec();
        let ts = Timestamp(1_700_000_000_000_000_000 + self.t0_ms * 1_000_000 + us * 1000);
        self.frames.push((ts, frame));
    }

    fn seg(&mut self, from_client: bool, ms: u64, seq: u32, ack: u32, flags: u8, len: usize) {
        self.seg_us(from_client, ms * 1000, seq, ack, flags, len);
    }

    /// SYN at 0, SYN-ACK at `rtt/2`, ACK at `rtt` (ms); client ISN `c`, server ISN `s`.
    fn handshake(&mut self, c: u32, s: u32, rtt_ms: u64) {
        self.seg(true, 0, c, 0, SYN, 0);
        self.seg(false, rtt_ms / 2, s, c.wrapping_add(1), SYN | ACK, 0);
        self.seg(true, rtt_ms, c.wrapping_add(1), s.wrapping_add(1), ACK, 0);
    }
}

/// Every case of the analysis, one connection each, one after the other.
fn script() -> Script {
    let mut s = Script {
        frames: Vec::new(),
        client: "10.0.0.1".parse().unwrap(),
        server: "192.0.2.80".parse().unwrap(),
        port: 0,
        t0_ms: 0,
    };
    let (c, v) = (true, false);
    // 0: clean: handshake, data both ways, FIN close.
    s.conn(0, 0);
    s.handshake(1000, 5000, 12);
    s.seg(c, 13, 1001, 5001, ACK | PSH, 100);
    s.seg(v, 20, 5001, 1101, ACK | PSH, 300);
    s.seg(c, 21, 1101, 5301, ACK, 0);
    s.seg(c, 22, 1101, 5301, FIN | ACK, 0);
    s.seg(v, 30, 5301, 1102, FIN | ACK, 0);
    s.seg(c, 31, 1102, 5302, ACK, 0);
    // 1: retransmission after a timeout, then a partly new overlapping segment.
    s.conn(1, 1000);
    s.handshake(1000, 5000, 12);
    s.seg(c, 20, 1001, 5001, ACK | PSH, 100);
    s.seg(c, 300, 1001, 5001, ACK | PSH, 100);
    s.seg(c, 600, 1051, 5001, ACK | PSH, 100);
    s.seg(v, 620, 5001, 1151, ACK, 0);
    // 2: fast retransmission after two duplicate ACKs; the gap before it.
    s.conn(2, 2000);
    s.handshake(1000, 5000, 12);
    s.seg(c, 20, 1001, 5001, ACK, 100);
    s.seg(v, 30, 5001, 1101, ACK, 0);
    s.seg(c, 31, 1201, 5001, ACK, 100);
    s.seg(v, 40, 5001, 1101, ACK, 0);
    s.seg(c, 41, 1301, 5001, ACK, 100);
    s.seg(v, 50, 5001, 1101, ACK, 0);
    s.seg(c, 51, 1101, 5001, ACK, 100);
    s.seg(v, 60, 5001, 1401, ACK, 0);
    // 3: spurious retransmission of acknowledged data.
    s.conn(3, 3000);
    s.handshake(1000, 5000, 12);
    s.seg(c, 20, 1001, 5001, ACK | PSH, 100);
    s.seg(v, 30, 5001, 1101, ACK, 0);
    s.seg(c, 300, 1001, 5001, ACK | PSH, 100);
    // 4: out of order within the RTT; the same segment late is a retransmission.
    s.conn(4, 4000);
    s.handshake(1000, 5000, 12);
    s.seg(c, 20, 1101, 5001, ACK, 100);
    s.seg(c, 21, 1001, 5001, ACK, 100);
    s.seg(c, 22, 1301, 5001, ACK, 100);
    s.seg(c, 80, 1201, 5001, ACK, 100);
    // 5: zero window, probe, probe ACK, window update, data again; a reset with window 0.
    s.conn(5, 5000);
    s.handshake(1000, 5000, 12);
    s.seg(c, 20, 1001, 5001, ACK, 100);
    s.seg_win(v, 30_000, 5001, 1101, ACK, 0, 0);
    s.seg(c, 230, 1101, 5001, ACK, 1);
    s.seg_win(v, 240_000, 5001, 1101, ACK, 0, 0);
    s.seg(v, 300, 5001, 1101, ACK, 0);
    s.seg(c, 301, 1101, 5001, ACK, 100);
    s.seg_win(v, 400_000, 5001, 0, RST, 0, 0);
    // 6: keep-alives (0 and 1 byte) and their ACKs.
    s.conn(6, 6000);
    s.handshake(1000, 5000, 12);
    s.seg(c, 20, 1001, 5001, ACK | PSH, 100);
    s.seg(v, 30, 5001, 1101, ACK, 0);
    s.seg(c, 45_000, 1100, 5001, ACK, 0);
    s.seg(v, 45_010, 5001, 1101, ACK, 0);
    s.seg(c, 90_000, 1100, 5001, ACK, 1);
    s.seg(v, 90_010, 5001, 1101, ACK, 0);
    // 7: sequence numbers crossing 2^32 (both sides), a spurious and a plain retransmission.
    s.conn(7, 100_000);
    let isn = u32::MAX - 150;
    let sisn = u32::MAX - 20;
    s.handshake(isn, sisn, 12);
    let mut seq = isn.wrapping_add(1);
    let sack = sisn.wrapping_add(1);
    for i in 0..3 {
        s.seg(c, 20 + i, seq, sack, ACK, 100);
        seq = seq.wrapping_add(100);
    }
    s.seg(v, 30, sack, seq, ACK | PSH, 50);
    s.seg(c, 31, seq, sack.wrapping_add(50), ACK, 0);
    s.seg(c, 400, isn.wrapping_add(1), sack.wrapping_add(50), ACK, 100);
    s.seg(c, 500, seq.wrapping_add(50), sack.wrapping_add(50), ACK, 10);
    s.seg(c, 900, seq, sack.wrapping_add(50), ACK, 50);
    // 8: SYN retries, then refused (RST-ACK).
    s.conn(8, 102_000);
    s.seg(c, 0, 7000, 0, SYN, 0);
    s.seg(c, 1000, 7000, 0, SYN, 0);
    s.seg(c, 3000, 7000, 0, SYN, 0);
    s.seg(v, 3002, 0, 7001, RST | ACK, 0);
    // 9: picked up mid-stream: no handshake RTT; a gap and an out-of-order segment.
    s.conn(9, 106_000);
    s.seg(c, 0, 20_001, 9001, ACK | PSH, 200);
    s.seg(v, 5, 9001, 20_201, ACK, 0);
    s.seg(c, 6, 20_401, 9001, ACK, 200);
    s.seg(c, 7, 20_201, 9001, ACK, 200);
    // 10: a handshake whose frames share one timestamp: tshark takes the next ACK's time.
    s.conn(10, 107_000);
    s.handshake(1000, 5000, 0);
    s.seg(c, 0, 1001, 5001, ACK | PSH, 100);
    s.seg(v, 40, 5001, 1101, ACK, 0);
    // 11: handshake RTT in microseconds; FIN retransmitted.
    s.conn(11, 108_000);
    s.seg_us(c, 0, 1000, 0, SYN, 0);
    s.seg_us(v, 150, 5000, 1001, SYN | ACK, 0);
    s.seg_us(c, 333, 1001, 5001, ACK, 0);
    s.seg(c, 1, 1001, 5001, FIN | ACK, 0);
    s.seg(c, 300, 1001, 5001, FIN | ACK, 0);
    s.seg(v, 301, 5001, 1002, FIN | ACK, 0);
    s.seg(c, 302, 1002, 5002, ACK, 0);
    s
}

#[test]
fn hand_built_cases_are_marked_as_tshark_marks_them() {
    if !tshark_available() {
        wirewatch_testkit::skip(format_args!("tshark not installed"));
        return;
    }
    let s = script();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tcp_health.pcap");
    let mut w = PcapWriter::new(
        std::fs::File::create(&path).unwrap(),
        LinkType::ETHERNET,
        65535,
        true,
    )
    .unwrap();
    for (ts, f) in &s.frames {
        w.write_frame(*ts, f, f.len() as u32).unwrap();
    }
    w.finish().unwrap();

    // Ours, frame by frame, straight through the flow table.
    let mut table = FlowTable::new(&FlowConfig::default());
    let mut ours = Vec::new();
    for (ts, f) in &s.frames {
        let pkt = wirewatch_decode::decode(LinkType::ETHERNET, f);
        let ing = table.ingest(&pkt, f.len() as u32, *ts).expect("a TCP flow");
        ours.push(ing.tcp);
    }
    let theirs = tshark_frames(&path);
    assert_eq!(theirs.len(), ours.len(), "every frame is TCP");
    let name = |m: u16| -> Vec<&str> {
        FLAGS
            .iter()
            .filter(|(_, b)| m & b != 0)
            .map(|(n, _)| n.trim_start_matches("tcp.analysis."))
            .collect()
    };
    let mut diffs = Vec::new();
    let mut marked = 0;
    for (t, o) in theirs.iter().zip(&ours) {
        marked += usize::from(t.marks != 0);
        if t.marks != o.marks {
            diffs.push(format!(
                "frame {} (port {}): tshark {:?}, ours {:?}",
                t.number,
                if t.src.1 == 80 { t.dst.1 } else { t.src.1 },
                name(t.marks),
                name(o.marks)
            ));
        }
    }
    assert!(marked >= 20, "the script exercises the analysis ({marked})");
    assert!(diffs.is_empty(), "marks differ:\n{}", diffs.join("\n"));

    // Handshake RTTs: tshark's per stream (connections in script order), ours per flow.
    let mut tshark_rtt: BTreeMap<u64, Option<f64>> = BTreeMap::new();
    for t in &theirs {
        let e = tshark_rtt.entry(t.stream).or_default();
        if e.is_none() {
            *e = t.initial_rtt;
        }
    }
    table.finish_all();
    let mut by_port: BTreeMap<u16, Option<u64>> = BTreeMap::new();
    for r in table.drain_finished() {
        by_port.insert(r.src_port, r.tcp_health.unwrap().handshake_rtt_ns);
    }
    let ours_rtt: Vec<Option<u64>> = by_port.values().copied().collect();
    let theirs_rtt: Vec<Option<u64>> = tshark_rtt
        .values()
        .map(|r| r.map(|s| (s * 1e9).round() as u64))
        .collect();
    assert_eq!(ours_rtt, theirs_rtt);
    assert_eq!(ours_rtt[0], Some(12_000_000));
    assert_eq!(ours_rtt[9], None, "picked up mid-stream");
    assert_eq!(ours_rtt[11], Some(333_000));
}

// ---------------------------------------------------------------------------------------------
// 2. The public corpus, through `analyze` and its JSON flows.

/// TCP-rich captures without tunnels (whose inner connections tshark analyses and we do not),
/// with handshakes, retransmitted SYNs, keep-alives and duplicate ACKs among them.
const CORPUS_FILES: &[&str] = &[
    "443-curl.pcap",
    "WebattackSQLinj.pcap",
    "bot.pcap",
    "dns2tcp_tunnel.pcap",
    "http_ipv6.pcap",
    "log4j-webapp-exploit.pcap",
    "ssh.pcap",
    "tls_esni_sni_both.pcap",
    "sv_community-id-ipv6.pcap",
    "mixed-vlan-mpls.pcap",
    "nflog-http.pcap",
    "wikipedia.pcap",
];

/// Why a SYN stamped far ahead loses its handshake RTT.
const TIME_JUMP: &str = "the SYN is stamped years after the packet before it (traces \
    concatenated): the engine analyses a packet more than a day ahead at the time of the packet \
    before (packet_clock), so the SYN-ACK that confirms the jump comes after the active timeout \
    and starts a new flow without the SYN; tshark reads the raw timestamps";

/// (file, a port of the connection, reason): handshake RTTs that legitimately differ. An entry
/// that no longer differs fails the test, so the list stays honest.
const KNOWN_RTT_DIFFERENCES: &[(&str, u16, &str)] = &[
    ("ssh.pcap", 58496, TIME_JUMP),
    ("mixed-vlan-mpls.pcap", 50343, TIME_JUMP),
    ("mixed-vlan-mpls.pcap", 56730, TIME_JUMP),
];

type Endpoint = (IpAddr, u16);
type Key = (Endpoint, Endpoint);

fn key(a: Endpoint, b: Endpoint) -> Key {
    if a <= b { (a, b) } else { (b, a) }
}

/// Per 5-tuple: the handshake RTTs (seconds, one per connection that has one) and the counts
/// of retransmissions, out-of-order and lost segments and zero windows.
#[derive(Default, Debug)]
struct Conn {
    rtts: Vec<f64>,
    connections: usize,
    counts: [u64; 4],
}

fn tshark_conns(path: &Path) -> BTreeMap<Key, Conn> {
    let mut streams: BTreeMap<u64, (Key, Option<f64>)> = BTreeMap::new();
    let mut out: BTreeMap<Key, Conn> = BTreeMap::new();
    for f in tshark_frames(path) {
        let k = key(f.src, f.dst);
        let s = streams.entry(f.stream).or_insert((k, None));
        if s.1.is_none() {
            s.1 = f.initial_rtt;
        }
        let c = out.entry(k).or_default();
        for (i, bit) in [
            marks::RETRANSMISSION,
            marks::OUT_OF_ORDER,
            marks::LOST_SEGMENT,
            marks::ZERO_WINDOW,
        ]
        .into_iter()
        .enumerate()
        {
            c.counts[i] += u64::from(f.marks & bit != 0);
        }
    }
    for (k, rtt) in streams.into_values() {
        let c = out.entry(k).or_default();
        c.connections += 1;
        c.rtts.extend(rtt);
    }
    out
}

fn our_conns(path: &Path) -> BTreeMap<Key, Conn> {
    let report = analyze_files(
        &[path.to_path_buf()],
        &AnalyzeOptions::default(),
        &mut NoProgress,
    );
    let json = serde_json::to_value(&report).unwrap();
    let mut out: BTreeMap<Key, Conn> = BTreeMap::new();
    for f in json["flows"].as_array().unwrap() {
        if f["proto"] != "tcp" {
            assert!(f["tcp_retransmissions"].is_null(), "{f}");
            continue;
        }
        let ep = |ip: &str, port: &str| -> Endpoint {
            (
                f[ip].as_str().unwrap().parse().unwrap(),
                f[port].as_u64().unwrap() as u16,
            )
        };
        let k = key(ep("src_ip", "src_port"), ep("dst_ip", "dst_port"));
        let c = out.entry(k).or_default();
        c.connections += 1;
        c.rtts.extend(f["tcp_rtt_ms"].as_f64().map(|ms| ms / 1e3));
        for (i, field) in [
            "tcp_retransmissions",
            "tcp_out_of_order",
            "tcp_lost_segments",
            "tcp_zero_windows",
        ]
        .into_iter()
        .enumerate()
        {
            c.counts[i] += f[field].as_u64().expect(field);
        }
    }
    hosts_add_up(&json);
    out
}

/// The report's per-host TCP health is the sum of its hosts' connections (both ends).
fn hosts_add_up(json: &serde_json::Value) {
    const FIELDS: [(&str, &str); 4] = [
        ("tcp_retransmissions", "retransmissions"),
        ("tcp_out_of_order", "out_of_order"),
        ("tcp_lost_segments", "lost_segments"),
        ("tcp_zero_windows", "zero_windows"),
    ];
    let mut sums: BTreeMap<String, [u64; 5]> = BTreeMap::new();
    for f in json["flows"].as_array().unwrap() {
        if f["tcp_retransmissions"].is_null() {
            continue;
        }
        for end in ["src_ip", "dst_ip"] {
            let s = sums
                .entry(f[end].as_str().unwrap().to_string())
                .or_default();
            s[0] += 1;
            for (i, (field, _)) in FIELDS.iter().enumerate() {
                s[i + 1] += f[*field].as_u64().unwrap();
            }
        }
    }
    let hosts = json["tcp_hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), sums.len().min(100));
    for h in hosts {
        let s = sums[h["ip"].as_str().unwrap()];
        assert_eq!(h["connections"], s[0], "{h}");
        for (i, (_, field)) in FIELDS.iter().enumerate() {
            assert_eq!(h[*field], s[i + 1], "{field}: {h}");
        }
    }
}

/// An RTT agrees within 1 % or 50 µs.
fn rtt_agrees(ours: f64, theirs: f64) -> bool {
    (ours - theirs).abs() <= (theirs * 0.01).max(50e-6)
}

#[test]
fn corpus_handshake_rtts_and_retransmissions_match_tshark() {
    let Some(dir) = corpus::corpus() else {
        wirewatch_testkit::skip(format_args!("the capture corpus ../shared/pcaps is absent"));
        return;
    };
    if !tshark_available() {
        wirewatch_testkit::skip(format_args!("tshark not installed"));
        return;
    }
    let mut lines = Vec::new();
    let mut failures = Vec::new();
    let (mut rtt_total, mut rtt_agree) = (0usize, 0usize);
    for name in CORPUS_FILES {
        let Some(path): Option<PathBuf> = corpus::capture_for(&dir, name) else {
            failures.push(format!("{name}: not in the corpus"));
            continue;
        };
        let theirs = tshark_conns(&path);
        let ours = our_conns(&path);
        let (mut total, mut agree) = (0usize, 0usize);
        let sum = |conns: &BTreeMap<Key, Conn>| {
            let mut total = [0u64; 4];
            for c in conns.values() {
                for (s, n) in total.iter_mut().zip(c.counts) {
                    *s += n;
                }
            }
            total
        };
        let sums = [sum(&theirs), sum(&ours)];
        for (k, t) in &theirs {
            let o = ours.get(k);
            if t.rtts.is_empty() {
                continue;
            }
            let known = KNOWN_RTT_DIFFERENCES
                .iter()
                .find(|(f, port, _)| f == name && (k.0.1 == *port || k.1.1 == *port));
            let mut ours_rtts = o.map(|o| o.rtts.clone()).unwrap_or_default();
            let mut theirs_rtts = t.rtts.clone();
            ours_rtts.sort_by(f64::total_cmp);
            theirs_rtts.sort_by(f64::total_cmp);
            let ok = if ours_rtts.len() == theirs_rtts.len() {
                ours_rtts
                    .iter()
                    .zip(&theirs_rtts)
                    .filter(|(a, b)| rtt_agrees(**a, **b))
                    .count()
            } else {
                0
            };
            let detail = format!("{name} {k:?}: ours {ours_rtts:?}, tshark {theirs_rtts:?}");
            match known {
                Some((_, _, why)) => {
                    if ok == theirs_rtts.len() {
                        failures.push(format!("{detail}: listed as differing, but agrees"));
                    }
                    lines.push(format!("  known difference: {detail} ({why})"));
                    continue;
                }
                None if ok < theirs_rtts.len() => lines.push(format!("  differs: {detail}")),
                None => {}
            }
            total += theirs_rtts.len();
            agree += ok;
        }
        rtt_total += total;
        rtt_agree += agree;
        let [t, o] = sums;
        lines.push(format!(
            "{name}: handshake RTT {agree}/{total} agree; retransmissions ours {} tshark {}; \
             out-of-order {} / {}; lost {} / {}; zero windows {} / {}",
            o[0], t[0], o[1], t[1], o[2], t[2], o[3], t[3]
        ));
        if (o[0] as f64 - t[0] as f64).abs() > t[0] as f64 * 0.05 {
            failures.push(format!("{name}: {} retransmissions, tshark {}", o[0], t[0]));
        }
    }
    println!("{}", lines.join("\n"));
    assert!(
        rtt_total >= 20,
        "enough handshakes to compare ({rtt_total})"
    );
    let share = rtt_agree as f64 / rtt_total as f64;
    println!(
        "handshake RTT agreement: {rtt_agree}/{rtt_total} = {:.1} %",
        share * 100.0
    );
    if share < 0.95 {
        failures.push(format!(
            "handshake RTT agrees on {rtt_agree} of {rtt_total} connections"
        ));
    }
    assert!(
        failures.is_empty(),
        "{}\n{}",
        failures.join("\n"),
        lines.join("\n")
    );
}
