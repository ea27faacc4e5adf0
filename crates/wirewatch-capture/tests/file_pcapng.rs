//! pcapng reading: sections in both byte orders, interfaces with their own link type, snaplen
//! and timestamp resolution, the three packet block kinds, skipped blocks, and every error.

// Test code: helpers outside `#[test]` functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod file_support;

use file_support::*;
use wirewatch_capture::{CaptureError, CaptureWarning, FileFormat, FileSource};
use wirewatch_core::{LinkType, Timestamp};

const T0: u64 = 1_700_000_000; // seconds

/// Three interfaces (µs Ethernet, ns raw IP, 2^-10 s SLL with a 1000 s offset), packets of
/// every kind with skipped blocks in between, then a big-endian section.
fn rich_file(first_be: bool) -> Pcapng {
    let mut ng = Pcapng::new(first_be);
    ng.idb(1, 0, &[opt(2, b"eth0"), opt(9, &[6])]);
    ng.nrb();
    ng.idb(101, 65535, &[opt(9, &[9])]);
    let off = ng.tsoffset(1000);
    ng.idb(113, 262_144, &[opt(9, &[0x80 | 10]), off]);
    ng.epb(0, T0 * 1_000_000 + 123_456, 1514, &payload(61, 1));
    ng.custom(b"vendor data");
    ng.epb(1, T0 * 1_000_000_000 + 987_654_321, 40, &payload(40, 2));
    ng.isb(0);
    // 1.5 s + one tick (976562.5 ns) after T0, in 1/1024 s units, then shifted by 1000 s.
    ng.epb(2, T0 * 1024 + 1536 + 1, 99, &payload(33, 3));
    ng.block(0x0000_000A, &[0u8; 20]); // decryption secrets
    ng.block(0x1234_5678, b"unknown type"); // unknown
    ng.spb(70, &payload(70, 4));
    ng.pb(1, T0 * 1_000_000_000 + 5, 3, &payload(3, 5));
    // Second section in the other byte order: interface ids start again.
    ng.shb(!first_be);
    ng.idb(228, 0, &[opt(9, &[9])]);
    ng.epb(0, T0 * 1_000_000_000 + 42, 20, &payload(20, 6));
    ng
}

fn check_rich(first_be: bool) {
    let ng = rich_file(first_be);
    let (_d, path) = write_temp("rich.pcap", &ng.bytes);
    let mut src = FileSource::open(&path).unwrap();
    assert_eq!(src.format(), FileFormat::Pcapng);
    let (frames, err) = read_all(&mut src);
    assert!(err.is_none(), "{err:?}");
    assert!(src.take_warnings().is_empty());
    assert_eq!(src.bytes_read(), ng.bytes.len() as u64);
    let got: Vec<_> = frames
        .iter()
        .map(|f| {
            (
                f.interface,
                f.linktype,
                f.ts.nanos(),
                f.wire_len,
                f.data.len(),
            )
        })
        .collect();
    let sec = T0 * 1_000_000_000;
    assert_eq!(
        got,
        vec![
            (0, 1, sec + 123_456_000, 1514, 61),
            (1, 101, sec + 987_654_321, 40, 40),
            (2, 113, sec + 1000 * 1_000_000_000 + 1_500_976_562, 99, 33),
            // SPB: interface 0, the previous packet's timestamp.
            (0, 1, sec + 1000 * 1_000_000_000 + 1_500_976_562, 70, 70),
            // Obsolete packet block.
            (1, 101, sec + 5, 3, 3),
            (0, 228, sec + 42, 20, 20),
        ]
    );
    for (f, seed) in frames.iter().zip(1u8..) {
        assert_eq!(f.data, payload(f.data.len(), seed));
    }
    assert_eq!(src.packets_read(), 6);
    assert_eq!(src.linktype(), Some(LinkType::IPV4));
}

#[test]
fn two_sections_little_then_big_endian() {
    check_rich(false);
}

#[test]
fn two_sections_big_then_little_endian() {
    check_rich(true);
}

#[test]
fn reports_interface_zero_after_open() {
    let mut ng = Pcapng::new(false);
    ng.idb(1, 1234, &[]);
    let (_d, path) = write_temp("a.pcapng", &ng.bytes);
    let mut src = FileSource::open(&path).unwrap();
    // Only the section header has been read so far.
    assert_eq!(src.linktype(), None);
    assert_eq!(src.snaplen(), 0);
    assert!(src.next_frame().unwrap().is_none());
    assert_eq!(src.linktype(), Some(LinkType::ETHERNET));
    assert_eq!(src.snaplen(), 1234);
}

#[test]
fn default_resolution_is_microseconds_and_options_are_ignored() {
    let mut ng = Pcapng::new(true);
    ng.idb(1, 0, &[]);
    ng.epb_with(
        0,
        2_500_000,
        10,
        10,
        &payload(10, 0),
        &[opt(2, &[0, 0, 0, 1]), opt(1, b"a comment")],
    );
    let (frames, err) = read_bytes(&ng.bytes);
    assert!(err.is_none());
    assert_eq!(frames[0].ts, Timestamp(2_500_000_000));
    assert_eq!(frames[0].data, payload(10, 0));
}

#[test]
fn spb_is_cut_to_the_snaplen() {
    let mut ng = Pcapng::new(false);
    ng.idb(1, 16, &[]);
    ng.epb(0, 7, 20, &payload(16, 0));
    // Wire length 100 but a 16-byte snaplen: 16 bytes captured (plus padding on disk).
    ng.spb(100, &payload(17, 1));
    let (frames, err) = read_bytes(&ng.bytes);
    assert!(err.is_none());
    assert_eq!(frames[1].data, payload(16, 1));
    assert_eq!(frames[1].wire_len, 100);
    assert_eq!(frames[1].ts, Timestamp(7000));
}

#[test]
fn caplen_beyond_interface_snaplen_warns() {
    let mut ng = Pcapng::new(false);
    ng.idb(1, 64, &[]);
    ng.idb(1, 0, &[]);
    let first = ng.bytes.len() as u64;
    ng.epb(0, 1, 100, &payload(100, 0));
    ng.epb(1, 1, 100, &payload(100, 0)); // snaplen 0: unlimited
    let third = ng.bytes.len() as u64;
    ng.epb(0, 1, 50, &payload(60, 0));
    let (_d, path) = write_temp("w.pcapng", &ng.bytes);
    let mut src = FileSource::open(&path).unwrap();
    let (frames, err) = read_all(&mut src);
    assert!(err.is_none());
    assert_eq!(frames.len(), 3);
    assert_eq!(frames[2].wire_len, 60);
    let w = src.take_warnings();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(matches!(
        w[0],
        CaptureWarning::CaplenExceedsSnaplen {
            packet: 1,
            offset,
            caplen: 100,
            snaplen: 64,
        } if offset == first
    ));
    assert!(matches!(
        w[1],
        CaptureWarning::CaplenExceedsWireLen {
            packet: 3,
            offset,
            caplen: 60,
            wire_len: 50,
        } if offset == third
    ));
}

#[test]
fn huge_skipped_block_is_streamed() {
    let mut ng = Pcapng::new(false);
    ng.idb(1, 0, &[]);
    ng.epb(0, 1, 10, &payload(10, 1));
    ng.custom(&vec![0xab; 3 * 1024 * 1024 + 5]);
    ng.epb(0, 2, 10, &payload(10, 2));
    let (frames, err) = read_bytes(&ng.bytes);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[1].data, payload(10, 2));

    // Cut inside the big block: truncated, the first packet still delivered.
    let cut = ng.bytes.len() - 1_000_000;
    let (frames, err) = read_bytes(&ng.bytes[..cut]);
    assert_eq!(frames.len(), 1);
    assert!(
        matches!(err, Some(CaptureError::Truncated { packet: 2, .. })),
        "{err:?}"
    );
}

#[test]
fn truncated_last_block() {
    let mut ng = Pcapng::new(false);
    ng.idb(1, 0, &[]);
    ng.epb(0, 1, 100, &payload(100, 1));
    let second = ng.bytes.len();
    ng.epb(0, 2, 100, &payload(100, 2));
    for cut in [second + 3, second + 20, ng.bytes.len() - 1] {
        let (_d, path) = write_temp("t.pcapng", &ng.bytes[..cut]);
        let mut src = FileSource::open(&path).unwrap();
        let (frames, err) = read_all(&mut src);
        assert_eq!(frames.len(), 1);
        let err = err.unwrap();
        assert!(
            matches!(err, CaptureError::Truncated { offset, packet: 2, .. } if offset == second as u64),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains(&*path.to_string_lossy()), "{msg}");
        assert!(msg.contains(&format!("byte offset {second}")), "{msg}");
    }
}

#[test]
fn truncated_section_header() {
    let ng = Pcapng::new(false);
    for cut in [2, 8, 11, 20, ng.bytes.len() - 1] {
        let (_d, path) = write_temp("t.pcapng", &ng.bytes[..cut]);
        let err = FileSource::open(&path).unwrap_err();
        assert!(
            matches!(
                err,
                CaptureError::Truncated {
                    offset: 0,
                    packet: 1,
                    ..
                }
            ),
            "cut {cut}: {err:?}"
        );
    }
}

fn expect_corrupt(bytes: &[u8], offset: u64, packet: u64, reason_part: &str) -> usize {
    let (_d, path) = write_temp("c.pcapng", bytes);
    let mut src = FileSource::open(&path).unwrap();
    let (frames, err) = read_all(&mut src);
    let err = err.expect("an error");
    match &err {
        CaptureError::Corrupt {
            offset: o,
            packet: p,
            reason,
            ..
        } => {
            assert_eq!((*o, *p), (offset, packet), "{err}");
            assert!(reason.contains(reason_part), "{reason}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains(&*path.to_string_lossy()), "{msg}");
    assert!(msg.contains(&format!("byte offset {offset}")), "{msg}");
    assert!(msg.contains(&format!("packet {packet}")), "{msg}");
    frames.len()
}

#[test]
fn packet_for_an_undescribed_interface() {
    let mut ng = Pcapng::new(false);
    ng.idb(1, 0, &[]);
    ng.epb(0, 1, 10, &payload(10, 1));
    let at = ng.bytes.len() as u64;
    ng.epb(1, 1, 10, &payload(10, 1));
    assert_eq!(expect_corrupt(&ng.bytes, at, 2, "interface 1"), 1);

    // Interfaces do not survive a new section.
    let mut ng = Pcapng::new(false);
    ng.idb(1, 0, &[]);
    ng.shb(false);
    let at = ng.bytes.len() as u64;
    ng.epb(0, 1, 10, &payload(10, 1));
    expect_corrupt(&ng.bytes, at, 1, "interface 0");
}

#[test]
fn simple_packet_without_interface() {
    let mut ng = Pcapng::new(false);
    let at = ng.bytes.len() as u64;
    ng.spb(10, &payload(10, 0));
    expect_corrupt(&ng.bytes, at, 1, "no interface");
}

#[test]
fn invalid_block_lengths() {
    let base = {
        let mut ng = Pcapng::new(false);
        ng.idb(1, 0, &[]);
        ng.epb(0, 1, 10, &payload(10, 1));
        ng
    };
    let at = base.bytes.len();
    // Length not a multiple of 4.
    let mut bytes = base.bytes.clone();
    let mut ng = Pcapng {
        be: false,
        bytes: Vec::new(),
    };
    ng.nrb();
    let mut block = ng.bytes.clone();
    block[4] += 1;
    bytes.extend_from_slice(&block);
    assert_eq!(expect_corrupt(&bytes, at as u64, 2, "invalid length"), 1);
    // Length below the minimum.
    let mut bytes = base.bytes.clone();
    bytes.extend_from_slice(&[4, 0, 0, 0, 8, 0, 0, 0, 8, 0, 0, 0]);
    expect_corrupt(&bytes, at as u64, 2, "invalid length");
    // Trailing length differs.
    let mut bytes = base.bytes.clone();
    let mut block = ng.bytes.clone();
    let n = block.len();
    block[n - 4] = 0;
    bytes.extend_from_slice(&block);
    expect_corrupt(&bytes, at as u64, 2, "trailing");
    // EPB too short for its caplen.
    let mut bytes = base.bytes.clone();
    let mut epb = Pcapng {
        be: false,
        bytes: Vec::new(),
    };
    epb.epb_with(0, 1, 100, 100, &payload(8, 0), &[]);
    bytes.extend_from_slice(&epb.bytes);
    expect_corrupt(&bytes, at as u64, 2, "cannot hold");
}

#[test]
fn oversized_epb() {
    let mut ng = Pcapng::new(false);
    ng.idb(1, 0, &[]);
    ng.epb(0, 1, 10, &payload(10, 1));
    let at = ng.bytes.len() as u64;
    ng.epb_with(0, 1, 300_000, 300_000, &payload(16, 0), &[]);
    let (_d, path) = write_temp("o.pcapng", &ng.bytes);
    let mut src = FileSource::open(&path).unwrap();
    let (frames, err) = read_all(&mut src);
    assert_eq!(frames.len(), 1);
    let err = err.unwrap();
    assert!(
        matches!(err, CaptureError::OversizedPacket { offset, packet: 2, caplen: 300_000, .. } if offset == at),
        "{err:?}"
    );
    assert!(err.to_string().contains(&*path.to_string_lossy()));
}

#[test]
fn bad_section_headers() {
    // Byte-order magic broken.
    let mut ng = Pcapng::new(false);
    ng.bytes[8] = 0;
    let (_d, path) = write_temp("b.pcapng", &ng.bytes);
    let err = FileSource::open(&path).unwrap_err();
    assert!(
        matches!(&err, CaptureError::Corrupt { offset: 0, reason, .. } if reason.contains("byte-order")),
        "{err:?}"
    );
    // Unknown major version.
    let mut ng = Pcapng::new(false);
    ng.bytes[12] = 2;
    let (_d, path) = write_temp("v.pcapng", &ng.bytes);
    let err = FileSource::open(&path).unwrap_err();
    assert!(
        matches!(&err, CaptureError::Corrupt { offset: 0, reason, .. } if reason.contains("version 2.0")),
        "{err:?}"
    );
    // A bad second section header, after packets.
    let mut ng = Pcapng::new(false);
    ng.idb(1, 0, &[]);
    ng.epb(0, 1, 10, &payload(10, 1));
    let at = ng.bytes.len();
    ng.shb(true);
    ng.bytes[at + 8] = 0x55;
    expect_corrupt(&ng.bytes, at as u64, 2, "byte-order");
}

#[test]
fn unsupported_time_resolution() {
    let mut ng = Pcapng::new(false);
    let at = ng.bytes.len() as u64;
    ng.idb(1, 0, &[opt(9, &[30])]);
    expect_corrupt(&ng.bytes, at, 1, "if_tsresol");
}

#[test]
fn negative_offset_saturates_at_the_epoch() {
    let mut ng = Pcapng::new(true);
    let off = ng.tsoffset(-10);
    ng.idb(1, 0, &[off]);
    ng.epb(0, 5_000_000, 1, &[0]);
    ng.epb(0, 15_000_000, 1, &[0]);
    let (frames, err) = read_bytes(&ng.bytes);
    assert!(err.is_none());
    assert_eq!(frames[0].ts, Timestamp(0));
    assert_eq!(frames[1].ts, Timestamp(5_000_000_000));
}
