//! The whole offline path under hostile input: structurally plausible pcap and pcapng files
//! with lying lengths, odd link types and wild timestamps, and arbitrary bytes, all through
//! `wirewatch::fuzz_path::analyze_capture_bytes` — the function the cargo-fuzz target `capture`
//! calls. Also replays the fuzzer's regression inputs in `fuzz/regressions/capture/`.

// Test code: helpers outside `#[test]` functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use std::path::PathBuf;
use wirewatch::fuzz_path::analyze_capture_bytes;

const ETHERNET: u32 = 1;
const RAW_IP: u32 = 101;
const LINUX_SLL: u32 = 113;

// ---------------------------------------------------------------------------------------------
// Packet bytes.

/// The bytes of one frame, before the link header.
#[derive(Debug, Clone)]
enum Body {
    /// IPv4 + TCP or UDP with plausible fields.
    Ip {
        src: [u8; 4],
        dst: [u8; 4],
        tcp: bool,
        sport: u16,
        dport: u16,
        flags: u8,
        /// The IPv4 total length, when it should lie.
        total_len: Option<u16>,
        payload: Vec<u8>,
    },
    /// Anything.
    Raw(Vec<u8>),
}

fn body() -> impl Strategy<Value = Body> {
    // A few addresses and ports so that packets meet in flows.
    let addr = prop_oneof![
        Just([10, 0, 0, 1]),
        Just([10, 0, 0, 2]),
        Just([192, 168, 1, 53]),
        any::<[u8; 4]>(),
    ];
    let port = prop_oneof![Just(53u16), Just(80), Just(443), Just(22), any::<u16>()];
    let ip = (
        addr.clone(),
        addr,
        any::<bool>(),
        port.clone(),
        port,
        any::<u8>(),
        proptest::option::weighted(0.2, any::<u16>()),
        proptest::collection::vec(any::<u8>(), 0..120),
    )
        .prop_map(
            |(src, dst, tcp, sport, dport, flags, total_len, payload)| Body::Ip {
                src,
                dst,
                tcp,
                sport,
                dport,
                flags,
                total_len,
                payload,
            },
        );
    prop_oneof![
        3 => ip,
        1 => proptest::collection::vec(any::<u8>(), 0..200).prop_map(Body::Raw),
    ]
}

/// The IP packet (or raw bytes) of a body.
fn l3(body: &Body) -> Vec<u8> {
    match body {
        Body::Raw(b) => b.clone(),
        Body::Ip {
            src,
            dst,
            tcp,
            sport,
            dport,
            flags,
            total_len,
            payload,
        } => {
            let mut l4 = Vec::new();
            l4.extend_from_slice(&sport.to_be_bytes());
            l4.extend_from_slice(&dport.to_be_bytes());
            if *tcp {
                l4.extend_from_slice(&1u32.to_be_bytes());
                l4.extend_from_slice(&0u32.to_be_bytes());
                l4.extend_from_slice(&[5 << 4, *flags, 0xff, 0xff, 0, 0, 0, 0]);
            } else {
                l4.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
                l4.extend_from_slice(&[0, 0]);
            }
            l4.extend_from_slice(payload);
            let len = total_len.unwrap_or((20 + l4.len()) as u16);
            let mut p = vec![0x45, 0];
            p.extend_from_slice(&len.to_be_bytes());
            p.extend_from_slice(&[0, 1, 0x40, 0, 64, if *tcp { 6 } else { 17 }, 0, 0]);
            p.extend_from_slice(src);
            p.extend_from_slice(dst);
            p.extend_from_slice(&l4);
            p
        }
    }
}

/// A frame for `linktype`: the body behind an Ethernet or Linux cooked header, bare for raw
/// IP, and bare (so whatever it is) for any other link type.
fn frame(linktype: u32, body: &Body) -> Vec<u8> {
    let ip = l3(body);
    let mut f = Vec::new();
    match linktype {
        ETHERNET => {
            f.extend_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
        }
        LINUX_SLL => {
            f.extend_from_slice(&[0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00]);
        }
        _ => {}
    }
    f.extend_from_slice(&ip);
    f
}

// ---------------------------------------------------------------------------------------------
// Timestamps.

/// Seconds: ordinary, zero, the end of 32 bits, or anything.
fn seconds() -> impl Strategy<Value = u32> {
    prop_oneof![
        4 => 1_700_000_000u32..1_700_000_100,
        1 => Just(0u32),
        1 => Just(u32::MAX),
        1 => 4_000_000_000u32..=u32::MAX,
        1 => any::<u32>(),
    ]
}

/// Sub-second fields: in range, at or beyond a whole second (which no writer should produce),
/// or the end of 32 bits.
fn fraction() -> impl Strategy<Value = u32> {
    prop_oneof![
        4 => 0u32..1_000_000,
        1 => 999_999_000u32..1_000_000_000,
        1 => 1_000_000_000u32..=u32::MAX,
        1 => Just(u32::MAX),
    ]
}

/// pcapng 64-bit timestamps in units of the interface's resolution.
fn ticks() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => 1_700_000_000_000_000u64..1_700_000_100_000_000,
        1 => Just(0u64),
        1 => Just(u64::MAX),
        1 => u64::MAX - 1_000_000..=u64::MAX,
        1 => any::<u64>(),
    ]
}

// ---------------------------------------------------------------------------------------------
// pcap.

fn link_type() -> impl Strategy<Value = u32> {
    prop_oneof![
        3 => Just(ETHERNET),
        2 => Just(RAW_IP),
        2 => Just(LINUX_SLL),
        1 => Just(0u32),
        1 => Just(228u32),
        1 => any::<u32>(),
    ]
}

/// One pcap record: timestamp, the lengths to claim (or the real ones) and the frame.
#[derive(Debug, Clone)]
struct PcapRecord {
    sec: u32,
    frac: u32,
    incl_len: Option<u32>,
    orig_len: Option<u32>,
    body: Body,
}

fn pcap_record() -> impl Strategy<Value = PcapRecord> {
    let lie = prop_oneof![
        Just(0u32),
        0u32..300,
        Just(256 * 1024),
        Just(256 * 1024 + 1),
        Just(u32::MAX),
    ];
    (
        seconds(),
        fraction(),
        proptest::option::weighted(0.03, lie.clone()),
        proptest::option::weighted(0.1, lie),
        body(),
    )
        .prop_map(|(sec, frac, incl_len, orig_len, body)| PcapRecord {
            sec,
            frac,
            incl_len,
            orig_len,
            body,
        })
}

/// A whole pcap file. `big_endian` and `nanosecond` choose the magic; `tail` is appended
/// (garbage, or half a record).
fn pcap_file(
    big_endian: bool,
    nanosecond: bool,
    snaplen: u32,
    linktype: u32,
    records: &[PcapRecord],
    tail: &[u8],
) -> Vec<u8> {
    let u32b = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let u16b = |v: u16| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut b = Vec::new();
    b.extend_from_slice(&u32b(if nanosecond { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }));
    b.extend_from_slice(&u16b(2));
    b.extend_from_slice(&u16b(4));
    b.extend_from_slice(&u32b(0));
    b.extend_from_slice(&u32b(0));
    b.extend_from_slice(&u32b(snaplen));
    b.extend_from_slice(&u32b(linktype));
    for r in records {
        let data = frame(linktype, &r.body);
        b.extend_from_slice(&u32b(r.sec));
        b.extend_from_slice(&u32b(r.frac));
        b.extend_from_slice(&u32b(r.incl_len.unwrap_or(data.len() as u32)));
        b.extend_from_slice(&u32b(r.orig_len.unwrap_or(data.len() as u32)));
        b.extend_from_slice(&data);
    }
    b.extend_from_slice(tail);
    b
}

// ---------------------------------------------------------------------------------------------
// pcapng (little- or big-endian, several sections and interfaces).

/// Which interface a packet block names.
#[derive(Debug, Clone, Copy)]
enum Iface {
    /// One of the section's interfaces (this index modulo their number; 0 when none).
    Existing(u8),
    /// This one, whether it exists or not.
    Any(u32),
}

#[derive(Debug, Clone)]
enum Block {
    /// A new section, with an Ethernet interface unless `bare`.
    Shb { bare: bool },
    /// An interface: link type, snapshot length, `if_tsresol` byte and `if_tsoffset` seconds
    /// if any.
    Idb {
        linktype: u16,
        snaplen: u32,
        tsresol: Option<u8>,
        tsoffset: Option<i64>,
    },
    /// An enhanced packet block on an interface (maybe one that does not exist), with the
    /// captured length to claim when it should lie.
    Epb {
        iface: Iface,
        ts: u64,
        caplen: Option<u32>,
        orig_len: Option<u32>,
        body: Body,
    },
    /// A simple packet block (interface 0), original length maybe lying.
    Spb { orig_len: Option<u32>, body: Body },
    /// A block of another type with arbitrary contents, or a total length that lies.
    Other {
        kind: u32,
        body: Vec<u8>,
        total_len: Option<u32>,
    },
}

/// An Interface Description Block: mostly the link types the engine decodes and the common
/// resolutions, sometimes anything.
fn idb() -> impl Strategy<Value = Block> {
    let tsresol = prop_oneof![
        3 => Just(6u8),
        3 => Just(9),
        2 => Just(0x8a),
        1 => Just(0),
        1 => Just(19),
        1 => Just(0x80 | 63),
        1 => any::<u8>(),
    ];
    (
        prop_oneof![3 => Just(1u16), 2 => Just(101), 2 => Just(113), 1 => any::<u16>()],
        prop_oneof![Just(0u32), Just(65_535), any::<u32>()],
        proptest::option::weighted(0.7, tsresol),
        proptest::option::weighted(
            0.2,
            prop_oneof![
                -100i64..100,
                Just(i64::MIN),
                Just(i64::MAX),
                Just(-1_700_000_000),
                any::<i64>()
            ],
        ),
    )
        .prop_map(|(linktype, snaplen, tsresol, tsoffset)| Block::Idb {
            linktype,
            snaplen,
            tsresol,
            tsoffset,
        })
}

fn pcapng_block() -> impl Strategy<Value = Block> {
    let lie = prop_oneof![
        0u32..300,
        Just(256 * 1024 + 1),
        Just(16 * 1024 * 1024 + 1),
        Just(u32::MAX),
        Just(u32::MAX - 3),
    ];
    prop_oneof![
        1 => prop_oneof![4 => Just(false), 1 => Just(true)].prop_map(|bare| Block::Shb { bare }),
        1 => idb(),
        8 => (
            prop_oneof![
                30 => any::<u8>().prop_map(Iface::Existing),
                1 => any::<u32>().prop_map(Iface::Any),
            ],
            ticks(),
            proptest::option::weighted(0.03, lie.clone()),
            proptest::option::weighted(0.1, lie.clone()),
            body(),
        )
            .prop_map(|(iface, ts, caplen, orig_len, body)| Block::Epb {
                iface,
                ts,
                caplen,
                orig_len,
                body
            }),
        1 => (proptest::option::weighted(0.1, lie.clone()), body())
            .prop_map(|(orig_len, body)| Block::Spb { orig_len, body }),
        1 => (
            prop_oneof![Just(4u32), Just(5), Just(0x8000_0001), any::<u32>()],
            proptest::collection::vec(any::<u8>(), 0..64),
            proptest::option::weighted(0.1, lie),
        )
            .prop_map(|(kind, body, total_len)| Block::Other {
                kind,
                body,
                total_len
            }),
    ]
}

struct Ng {
    be: bool,
    bytes: Vec<u8>,
    /// Link types of the current section's interfaces.
    ifaces: Vec<u32>,
}

impl Ng {
    fn u16b(&self, v: u16) -> [u8; 2] {
        if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn u32b(&self, v: u32) -> [u8; 4] {
        if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    /// Appends a block, its body padded to 32 bits; `total_len` overrides the honest length.
    fn block(&mut self, kind: u32, mut body: Vec<u8>, total_len: Option<u32>) {
        body.resize(body.len().next_multiple_of(4), 0);
        let len = total_len.unwrap_or(12 + body.len() as u32);
        let (k, l) = (self.u32b(kind), self.u32b(len));
        self.bytes.extend_from_slice(&k);
        self.bytes.extend_from_slice(&l);
        self.bytes.extend_from_slice(&body);
        self.bytes.extend_from_slice(&l);
    }

    fn shb(&mut self) {
        let mut body = Vec::new();
        body.extend_from_slice(&self.u32b(0x1a2b_3c4d));
        body.extend_from_slice(&self.u16b(1));
        body.extend_from_slice(&self.u16b(0));
        body.extend_from_slice(&[0xff; 8]);
        self.block(0x0a0d_0d0a, body, None);
        self.ifaces.clear();
    }

    fn add(&mut self, block: &Block) {
        match block {
            Block::Shb { bare } => {
                self.shb();
                if !bare {
                    self.add(&Block::Idb {
                        linktype: ETHERNET as u16,
                        snaplen: 0,
                        tsresol: None,
                        tsoffset: None,
                    });
                }
            }
            Block::Idb {
                linktype,
                snaplen,
                tsresol,
                tsoffset,
            } => {
                let mut body = Vec::new();
                body.extend_from_slice(&self.u16b(*linktype));
                body.extend_from_slice(&self.u16b(0));
                body.extend_from_slice(&self.u32b(*snaplen));
                if let Some(r) = tsresol {
                    body.extend_from_slice(&self.u16b(9));
                    body.extend_from_slice(&self.u16b(1));
                    body.extend_from_slice(&[*r, 0, 0, 0]);
                }
                if let Some(secs) = tsoffset {
                    body.extend_from_slice(&self.u16b(14));
                    body.extend_from_slice(&self.u16b(8));
                    body.extend_from_slice(&if self.be {
                        secs.to_be_bytes()
                    } else {
                        secs.to_le_bytes()
                    });
                }
                if tsresol.is_some() || tsoffset.is_some() {
                    body.extend_from_slice(&[0; 4]);
                }
                self.block(1, body, None);
                self.ifaces.push(u32::from(*linktype));
            }
            Block::Epb {
                iface,
                ts,
                caplen,
                orig_len,
                body,
            } => {
                let iface = match *iface {
                    Iface::Existing(i) => u32::from(i) % (self.ifaces.len().max(1) as u32),
                    Iface::Any(i) => i,
                };
                let lt = self.ifaces.get(iface as usize).copied().unwrap_or(ETHERNET);
                let data = frame(lt, body);
                let mut b = Vec::new();
                b.extend_from_slice(&self.u32b(iface));
                b.extend_from_slice(&self.u32b((ts >> 32) as u32));
                b.extend_from_slice(&self.u32b(*ts as u32));
                b.extend_from_slice(&self.u32b(caplen.unwrap_or(data.len() as u32)));
                b.extend_from_slice(&self.u32b(orig_len.unwrap_or(data.len() as u32)));
                b.extend_from_slice(&data);
                self.block(6, b, None);
            }
            Block::Spb { orig_len, body } => {
                let lt = self.ifaces.first().copied().unwrap_or(ETHERNET);
                let data = frame(lt, body);
                let mut b = Vec::new();
                b.extend_from_slice(&self.u32b(orig_len.unwrap_or(data.len() as u32)));
                b.extend_from_slice(&data);
                self.block(3, b, None);
            }
            Block::Other {
                kind,
                body,
                total_len,
            } => self.block(*kind, body.clone(), *total_len),
        }
    }
}

/// A pcapng file: a section header, `ifaces` interfaces, then the blocks and the tail.
fn pcapng_file(be: bool, ifaces: &[Block], blocks: &[Block], tail: &[u8]) -> Vec<u8> {
    let mut ng = Ng {
        be,
        bytes: Vec::new(),
        ifaces: Vec::new(),
    };
    ng.shb();
    for b in ifaces.iter().chain(blocks) {
        ng.add(b);
    }
    ng.bytes.extend_from_slice(tail);
    ng.bytes
}

// ---------------------------------------------------------------------------------------------
// Properties.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    /// Plausible pcap files with lying lengths and wild timestamps: no panic, and the reader
    /// never delivers more frames than there are records.
    #[test]
    fn pcap_files_never_panic(
        big_endian in any::<bool>(),
        nanosecond in any::<bool>(),
        snaplen in prop_oneof![Just(65_535u32), Just(0), Just(64), any::<u32>()],
        linktype in link_type(),
        records in proptest::collection::vec(pcap_record(), 0..24),
        tail in prop_oneof![3 => Just(Vec::new()), 1 => proptest::collection::vec(any::<u8>(), 1..20)],
    ) {
        let bytes = pcap_file(big_endian, nanosecond, snaplen, linktype, &records, &tail);
        let out = analyze_capture_bytes(&bytes);
        prop_assert!(out.opened);
        prop_assert!(out.frames <= records.len() as u64 + 1);
    }

    /// Plausible pcapng files: sections, interfaces with odd resolutions, packets on missing
    /// interfaces, lying block lengths, unknown blocks.
    #[test]
    fn pcapng_files_never_panic(
        big_endian in any::<bool>(),
        ifaces in proptest::collection::vec(idb(), 1..4),
        blocks in proptest::collection::vec(pcapng_block(), 0..24),
        tail in prop_oneof![3 => Just(Vec::new()), 1 => proptest::collection::vec(any::<u8>(), 1..20)],
    ) {
        let bytes = pcapng_file(big_endian, &ifaces, &blocks, &tail);
        let out = analyze_capture_bytes(&bytes);
        prop_assert!(out.opened);
        prop_assert!(out.frames <= blocks.len() as u64);
    }

    /// Arbitrary bytes, also behind a valid pcap or pcapng magic.
    #[test]
    fn arbitrary_bytes_never_panic(
        prefix in prop_oneof![
            Just(Vec::new()),
            Just(vec![0xd4, 0xc3, 0xb2, 0xa1]),
            Just(vec![0xa1, 0xb2, 0x3c, 0x4d]),
            Just(vec![0x0a, 0x0d, 0x0d, 0x0a]),
        ],
        data in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let mut bytes = prefix;
        bytes.extend_from_slice(&data);
        let out = analyze_capture_bytes(&bytes);
        prop_assert!(out.opened || out.frames == 0);
    }
}

// ---------------------------------------------------------------------------------------------
// Explicit cases.

fn syn(sport: u16) -> Body {
    Body::Ip {
        src: [10, 0, 0, 1],
        dst: [10, 0, 0, 2],
        tcp: true,
        sport,
        dport: 80,
        flags: 0x02,
        total_len: None,
        payload: Vec::new(),
    }
}

fn record(sec: u32, frac: u32, body: Body) -> PcapRecord {
    PcapRecord {
        sec,
        frac,
        incl_len: None,
        orig_len: None,
        body,
    }
}

#[test]
fn valid_pcap_with_two_frames() {
    let records = [
        record(1_700_000_000, 0, syn(40_000)),
        record(1_700_000_000, 500_000, syn(40_001)),
    ];
    let bytes = pcap_file(false, false, 65_535, ETHERNET, &records, &[]);
    let out = analyze_capture_bytes(&bytes);
    assert!(out.opened);
    assert!(!out.error, "{out:?}");
    assert_eq!(out.frames, 2);
    assert_eq!(out.unsupported_link, 0);
    assert_eq!(out.timestamps_far_ahead, 0);
    assert_eq!(out.flows, 2, "two SYNs on two ports are two flows");
    assert!(out.intervals >= 1);
}

#[test]
fn valid_pcapng_with_three_frames_on_three_link_types() {
    let ifaces = [ETHERNET, RAW_IP, LINUX_SLL].map(|lt| Block::Idb {
        linktype: lt as u16,
        snaplen: 0,
        tsresol: Some(9),
        tsoffset: None,
    });
    let blocks: Vec<Block> = (0u8..3)
        .map(|i| Block::Epb {
            iface: Iface::Existing(i),
            ts: 1_700_000_000_000_000_000 + u64::from(i),
            caplen: None,
            orig_len: None,
            body: syn(40_000 + u16::from(i)),
        })
        .collect();
    for be in [false, true] {
        let out = analyze_capture_bytes(&pcapng_file(be, &ifaces, &blocks, &[]));
        assert!(!out.error, "{out:?}");
        assert_eq!(out.frames, 3);
        assert_eq!(out.unsupported_link, 0);
        assert_eq!(out.flows, 3);
    }
}

#[test]
fn a_damaged_record_stops_reading_after_the_good_ones() {
    let mut records = vec![
        record(1_700_000_000, 0, syn(1)),
        record(1_700_000_001, 0, syn(2)),
    ];
    records.push(PcapRecord {
        incl_len: Some(u32::MAX),
        ..record(1_700_000_002, 0, syn(3))
    });
    let out = analyze_capture_bytes(&pcap_file(true, true, 65_535, ETHERNET, &records, &[]));
    assert!(out.opened);
    assert!(out.error);
    assert_eq!(out.frames, 2);
}

#[test]
fn not_a_capture_is_an_error_with_no_frames() {
    for bytes in [&b""[..], b"hello, world", &[0xd4, 0xc3, 0xb2]] {
        let out = analyze_capture_bytes(bytes);
        assert!(!out.opened);
        assert!(out.error);
        assert_eq!(out.frames, 0);
    }
}

#[test]
fn timestamps_at_the_edges_are_analysed() {
    // The end of 32-bit seconds, sub-second fields of a second and more, and time going
    // backwards: every frame is read and analysed, none is lost.
    let records = [
        record(1_700_000_000, 0, syn(1)),
        record(u32::MAX, u32::MAX, syn(2)),
        record(1_700_000_000, 1_000_000_000, syn(3)),
        record(0, 0, syn(4)),
        record(u32::MAX, 999_999, syn(5)),
        record(u32::MAX, 999_999, syn(6)),
    ];
    for ns in [false, true] {
        let out = analyze_capture_bytes(&pcap_file(false, ns, 65_535, ETHERNET, &records, &[]));
        assert_eq!(out.frames, records.len() as u64, "{out:?}");
        assert!(out.timestamps_far_ahead >= 1, "{out:?}");
    }
}

/// The fuzzer's regression inputs (`fuzz/regressions/capture/`): each must be analysed to the
/// end without a panic.
#[test]
fn regression_inputs_replay() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/capture");
    let entries = std::fs::read_dir(&dir).expect("fuzz/regressions/capture");
    let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    for path in paths {
        let bytes = std::fs::read(&path).unwrap();
        let out = analyze_capture_bytes(&bytes);
        eprintln!("{}: {out:?}", path.display());
        // However its timestamps spread, a file makes intervals in proportion to its frames
        // (plus one day of long gaps per run).
        use wirewatch_metrics::interval::{MAX_LONG_GAP_FILL, SHORT_GAP_INTERVALS};
        let bound = MAX_LONG_GAP_FILL + (out.frames + 1) * (SHORT_GAP_INTERVALS + 2);
        assert!(
            (out.intervals as u64) <= bound,
            "{}: {} intervals from {} frames",
            path.display(),
            out.intervals,
            out.frames
        );
    }
}
