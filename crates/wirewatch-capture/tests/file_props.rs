//! Property tests: random bytes, every truncation of generated valid files, and random
//! corruption never panic, always terminate, and report what they should.

// Test code: helpers outside `#[test]` functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod file_support;

use file_support::*;
use proptest::prelude::*;
use std::io::Cursor;
use wirewatch_capture::{CaptureError, FileSource};

/// Opens in-memory bytes; `Err` from opening is returned as the end.
fn read_mem(bytes: &[u8]) -> (Vec<Owned>, Option<CaptureError>) {
    match FileSource::from_reader("mem.pcap".into(), Box::new(Cursor::new(bytes.to_vec()))) {
        Ok(mut src) => read_all(&mut src),
        Err(e) => (Vec::new(), Some(e)),
    }
}

/// A generated capture: its bytes, the frames it holds, the offsets where blocks/records
/// start (after the file header) and the file header's length.
struct Generated {
    bytes: Vec<u8>,
    frames: Vec<Owned>,
    /// (start offset, end offset, is a packet) of everything after the header.
    units: Vec<(usize, usize, bool)>,
    header_len: usize,
}

fn gen_pcap(be: bool, ns: bool, records: &[(u32, u32, usize, u8)]) -> Generated {
    let mut p = Pcap::new(be, ns, 0, 1);
    let mut frames = Vec::new();
    let mut units = Vec::new();
    for &(sec, frac, len, seed) in records {
        let start = p.bytes.len();
        let data = payload(len, seed);
        p.record(sec, frac, len as u32 + 4, &data);
        units.push((start, p.bytes.len(), true));
        let frac_ns = if ns {
            u64::from(frac)
        } else {
            u64::from(frac) * 1000
        };
        frames.push(Owned {
            ts: wirewatch_core::Timestamp(u64::from(sec) * 1_000_000_000 + frac_ns),
            linktype: 1,
            data,
            wire_len: len as u32 + 4,
            interface: 0,
        });
    }
    Generated {
        bytes: p.bytes,
        frames,
        units,
        header_len: 24,
    }
}

#[derive(Debug, Clone)]
enum Item {
    Epb { iface: usize, ts: u64, len: usize },
    Spb { len: usize },
    Nrb,
    Isb,
    Custom { len: usize },
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        4 => (0usize..3, 0u64..(1 << 40), 0usize..200)
            .prop_map(|(iface, ts, len)| Item::Epb { iface, ts, len }),
        1 => (0usize..200).prop_map(|len| Item::Spb { len }),
        1 => Just(Item::Nrb),
        1 => Just(Item::Isb),
        1 => (0usize..64).prop_map(|len| Item::Custom { len }),
    ]
}

/// One section with three interfaces (µs, ns, 2^-10 s resolution) then the items.
fn gen_pcapng(be: bool, items: &[Item]) -> Generated {
    let mut ng = Pcapng::new(be);
    let header_len = ng.bytes.len();
    let mut units = Vec::new();
    let linktypes = [1u32, 101, 113];
    let resolutions = [6u8, 9, 0x8a];
    for (lt, res) in linktypes.iter().zip(resolutions) {
        let start = ng.bytes.len();
        ng.idb(*lt as u16, 0, &[opt(9, &[res])]);
        units.push((start, ng.bytes.len(), false));
    }
    let to_nanos = |iface: usize, ts: u64| -> u64 {
        match iface {
            0 => ts * 1000,
            1 => ts,
            _ => (ts >> 10) * 1_000_000_000 + (ts & 1023) * 1_000_000_000 / 1024,
        }
    };
    let mut frames = Vec::new();
    let mut last_ts = 0;
    for (n, it) in items.iter().enumerate() {
        let start = ng.bytes.len();
        let seed = n as u8;
        let packet = match *it {
            Item::Epb { iface, ts, len } => {
                ng.epb(iface as u32, ts, len as u32, &payload(len, seed));
                last_ts = to_nanos(iface, ts);
                frames.push(Owned {
                    ts: wirewatch_core::Timestamp(last_ts),
                    linktype: linktypes[iface],
                    data: payload(len, seed),
                    wire_len: len as u32,
                    interface: iface as u32,
                });
                true
            }
            Item::Spb { len } => {
                ng.spb(len as u32, &payload(len, seed));
                frames.push(Owned {
                    ts: wirewatch_core::Timestamp(last_ts),
                    linktype: 1,
                    data: payload(len, seed),
                    wire_len: len as u32,
                    interface: 0,
                });
                true
            }
            Item::Nrb => {
                ng.nrb();
                false
            }
            Item::Isb => {
                ng.isb(0);
                false
            }
            Item::Custom { len } => {
                ng.custom(&vec![seed; len]);
                false
            }
        };
        units.push((start, ng.bytes.len(), packet));
    }
    Generated {
        bytes: ng.bytes,
        frames,
        units,
        header_len,
    }
}

/// Full read gives every frame; each truncation gives the frames that fit and then either a
/// clean end (cut on a boundary) or `Truncated` at the start of the cut unit.
fn check_generated(g: &Generated) -> Result<(), TestCaseError> {
    let (frames, err) = read_mem(&g.bytes);
    prop_assert!(err.is_none(), "{:?}", err);
    prop_assert_eq!(&frames, &g.frames);
    for cut in 0..g.bytes.len() {
        let (frames, err) = read_mem(&g.bytes[..cut]);
        if cut == 0 {
            prop_assert!(matches!(err, Some(CaptureError::Empty { .. })), "{:?}", err);
            continue;
        }
        if cut < g.header_len {
            prop_assert!(
                matches!(
                    err,
                    Some(CaptureError::Truncated {
                        offset: 0,
                        packet: 1,
                        ..
                    })
                ),
                "cut {}: {:?}",
                cut,
                err
            );
            continue;
        }
        let complete = g.units.iter().take_while(|u| u.1 <= cut).count();
        let packets = g.units[..complete].iter().filter(|u| u.2).count();
        prop_assert_eq!(&frames[..], &g.frames[..packets], "cut {}", cut);
        let on_boundary = cut == g.header_len || g.units.iter().any(|u| u.1 == cut);
        if on_boundary {
            prop_assert!(err.is_none(), "cut {}: {:?}", cut, err);
        } else {
            let at = g.units[complete].0 as u64;
            let want_packet = packets as u64 + 1;
            prop_assert!(
                matches!(err, Some(CaptureError::Truncated { offset, packet, .. })
                    if offset == at && packet == want_packet),
                "cut {}: {:?}",
                cut,
                err
            );
        }
    }
    Ok(())
}

const MAGICS: [[u8; 4]; 5] = [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
    [0x0a, 0x0d, 0x0d, 0x0a],
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn every_truncation_of_a_pcap(
        be in any::<bool>(),
        ns in any::<bool>(),
        records in prop::collection::vec(
            (any::<u32>(), 0u32..1_000_000, 0usize..300, any::<u8>()), 0..10),
    ) {
        check_generated(&gen_pcap(be, ns, &records))?;
    }

    #[test]
    fn every_truncation_of_a_pcapng(
        be in any::<bool>(),
        items in prop::collection::vec(item(), 0..10),
    ) {
        check_generated(&gen_pcapng(be, &items))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = read_mem(&bytes);
    }

    #[test]
    fn random_bytes_after_a_magic_never_panic(
        magic in 0usize..5,
        mut bytes in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        bytes.splice(0..0, MAGICS[magic]);
        let _ = read_mem(&bytes);
    }

    #[test]
    fn corrupted_valid_files_never_panic(
        ng in any::<bool>(),
        be in any::<bool>(),
        items in prop::collection::vec(item(), 1..8),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let g = if ng {
            gen_pcapng(be, &items)
        } else {
            let records: Vec<_> = items.iter().enumerate()
                .map(|(i, _)| (i as u32, 7, 40 + i * 13, i as u8)).collect();
            gen_pcap(be, false, &records)
        };
        let mut bytes = g.bytes;
        for (at, v) in flips {
            let i = at.index(bytes.len());
            bytes[i] = v;
        }
        let (frames, _err) = read_mem(&bytes);
        // Every delivered frame lies within the file.
        let total: usize = frames.iter().map(|f| f.data.len()).sum();
        prop_assert!(total <= bytes.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Well-framed blocks of random types with random bodies (random options, interface ids,
    /// lengths inside the bodies) after a valid section header and interface.
    #[test]
    fn random_blocks_never_panic(
        be in any::<bool>(),
        blocks in prop::collection::vec(
            (prop_oneof![
                Just(1u32), Just(2), Just(3), Just(4), Just(5), Just(6), Just(0xBAD),
                Just(0x0A0D_0D0A), any::<u32>()
            ],
             prop::collection::vec(any::<u8>(), 0..80),
             prop::option::weighted(0.1, any::<u32>())),
            0..12),
    ) {
        let mut ng = Pcapng::new(be);
        ng.idb(1, 0, &[]);
        for (block_type, body, bad_len) in &blocks {
            let start = ng.bytes.len();
            ng.block(*block_type, body);
            if let Some(len) = bad_len {
                let v = if be { len.to_be_bytes() } else { len.to_le_bytes() };
                ng.bytes[start + 4..start + 8].copy_from_slice(&v);
            }
        }
        let (frames, _err) = read_mem(&ng.bytes);
        prop_assert!(frames.len() <= blocks.len());
    }
}
