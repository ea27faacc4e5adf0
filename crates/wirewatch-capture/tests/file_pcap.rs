//! Classic pcap reading: the four variants, every error and warning, buffer refills.

// Test code: helpers outside `#[test]` functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod file_support;

use file_support::*;
use std::io::{Cursor, Read};
use std::path::PathBuf;
use wirewatch_capture::file::{MAX_CAPLEN, MAX_PENDING_WARNINGS};
use wirewatch_capture::{CaptureError, CaptureWarning, FileFormat, FileSource};
use wirewatch_core::{LinkType, Timestamp};

fn check_variant(be: bool, ns: bool) {
    let mut p = Pcap::new(be, ns, 65535, 1);
    let frac1 = if ns { 123_456_789 } else { 123_456 };
    let frac2 = if ns { 999_999_999 } else { 999_999 };
    p.record(1_700_000_000, frac1, 1514, &payload(60, 1));
    p.record(1_700_000_001, frac2, 42, &payload(42, 2));
    p.record(0, 0, 0, &[]);
    let (_dir, path) = write_temp("v.cap", &p.bytes);
    let mut src = FileSource::open(&path).unwrap();
    assert_eq!(
        src.format(),
        FileFormat::Pcap {
            nanosecond: ns,
            big_endian: be
        }
    );
    assert_eq!(src.snaplen(), 65535);
    assert_eq!(src.linktype(), Some(LinkType::ETHERNET));
    assert_eq!(src.file_size(), Some(p.bytes.len() as u64));
    assert_eq!(src.bytes_read(), 24);
    assert_eq!(src.path(), path.as_path());

    let f = src.next_frame().unwrap().unwrap();
    let expect1 = if ns {
        1_700_000_000_123_456_789
    } else {
        1_700_000_000_123_456_000
    };
    assert_eq!(f.ts, Timestamp(expect1));
    assert_eq!(f.linktype, LinkType::ETHERNET);
    assert_eq!(f.wire_len, 1514);
    assert_eq!(f.data, payload(60, 1).as_slice());
    assert_eq!(f.interface, 0);
    assert_eq!(src.bytes_read(), 24 + 16 + 60);

    let f = src.next_frame().unwrap().unwrap();
    let expect2 = if ns {
        1_700_000_001_999_999_999
    } else {
        1_700_000_001_999_999_000
    };
    assert_eq!(f.ts.nanos(), expect2);
    assert_eq!(f.wire_len, 42);
    assert_eq!(f.data.len(), 42);
    assert_eq!(f.data[41], payload(42, 2)[41]);

    let f = src.next_frame().unwrap().unwrap();
    assert_eq!(f.ts, Timestamp(0));
    assert!(f.data.is_empty());
    assert_eq!(f.wire_len, 0);

    assert!(src.next_frame().unwrap().is_none());
    assert!(src.next_frame().unwrap().is_none());
    assert_eq!(src.packets_read(), 3);
    assert_eq!(src.bytes_read(), p.bytes.len() as u64);
    assert!(src.take_warnings().is_empty());
}

#[test]
fn microsecond_little_endian() {
    check_variant(false, false);
}

#[test]
fn microsecond_big_endian() {
    check_variant(true, false);
}

#[test]
fn nanosecond_little_endian() {
    check_variant(false, true);
}

#[test]
fn nanosecond_big_endian() {
    check_variant(true, true);
}

#[test]
fn magic_bytes_on_disk() {
    assert_eq!(
        Pcap::new(false, false, 0, 1).bytes[..4],
        [0xd4, 0xc3, 0xb2, 0xa1]
    );
    assert_eq!(
        Pcap::new(true, true, 0, 1).bytes[..4],
        [0xa1, 0xb2, 0x3c, 0x4d]
    );
}

#[test]
fn linktype_flag_bits_are_masked() {
    // FCS-present flag and a 4-byte FCS length in the upper bits (LT_LINKTYPE_EXT).
    let mut p = Pcap::new(false, false, 0, 0x4400_0000 | 113);
    p.record(1, 0, 10, &payload(10, 0));
    let (frames, err) = read_bytes(&p.bytes);
    assert!(err.is_none());
    assert_eq!(frames[0].linktype, 113);
}

#[test]
fn fraction_of_a_second_or_more_is_added_as_is() {
    // As in a fuzzed nDPI sample: tshark reports sec + frac without normalising.
    let mut p = Pcap::new(false, true, 0, 0);
    p.record(980_658_802, 1_882_137_472, 524_501, &payload(20, 3));
    let (frames, err) = read_bytes(&p.bytes);
    assert!(err.is_none());
    assert_eq!(
        frames[0].ts.nanos(),
        980_658_802_000_000_000 + 1_882_137_472
    );
    assert_eq!(frames[0].wire_len, 524_501);
}

#[test]
fn missing_file_is_io() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.pcap");
    let err = FileSource::open(&path).unwrap_err();
    assert!(
        matches!(&err, CaptureError::Io { error, .. } if error.kind() == std::io::ErrorKind::NotFound)
    );
    assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");
}

#[test]
fn unreadable_file_is_io() {
    use std::os::unix::fs::PermissionsExt;
    let p = Pcap::new(false, false, 0, 1);
    let (_dir, path) = write_temp("secret.pcap", &p.bytes);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&path).is_ok() {
        // Running as root: permissions do not apply.
        return;
    }
    let err = FileSource::open(&path).unwrap_err();
    assert!(
        matches!(&err, CaptureError::Io { error, .. } if error.kind() == std::io::ErrorKind::PermissionDenied)
    );
    assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");
}

#[test]
fn directory_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let err = FileSource::open(dir.path()).unwrap_err();
    assert!(matches!(err, CaptureError::IsDirectory { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&*dir.path().to_string_lossy()), "{msg}");
    assert!(msg.contains("is a directory"), "{msg}");
}

#[test]
fn empty_file_is_rejected() {
    let (_dir, path) = write_temp("empty.pcap", &[]);
    let err = FileSource::open(&path).unwrap_err();
    assert!(matches!(err, CaptureError::Empty { .. }), "{err:?}");
    assert!(err.to_string().contains(&*path.to_string_lossy()));
    // The same from a stream, whose size is unknown beforehand.
    let err =
        FileSource::from_reader("stdin".into(), Box::new(Cursor::new(Vec::new()))).unwrap_err();
    assert!(matches!(err, CaptureError::Empty { .. }), "{err:?}");
}

#[test]
fn text_file_is_not_a_capture() {
    let (_dir, path) = write_temp("notes.pcap", b"GET / HTTP/1.1\r\n\r\n");
    let err = FileSource::open(&path).unwrap_err();
    assert!(
        matches!(
            err,
            CaptureError::NotACapture {
                magic: 0x4745_5420,
                ..
            }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains(&*path.to_string_lossy()), "{msg}");
    assert!(msg.contains("0x47455420"), "{msg}");
    assert!(msg.contains("byte 0"), "{msg}");
}

#[test]
fn tiny_files() {
    // Two bytes that start like a pcap magic: a cut-off header.
    let (_d, path) = write_temp("a", &[0xd4, 0xc3]);
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
        "{err:?}"
    );
    // Two bytes that do not.
    let (_d, path) = write_temp("b", b"hi");
    let err = FileSource::open(&path).unwrap_err();
    assert!(
        matches!(
            err,
            CaptureError::NotACapture {
                magic: 0x6869_0000,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn truncated_file_header() {
    let p = Pcap::new(false, false, 0, 1);
    let (_d, path) = write_temp("h.pcap", &p.bytes[..10]);
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
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains(&*path.to_string_lossy()) && msg.contains("byte offset 0"),
        "{msg}"
    );
}

#[test]
fn header_only_file_has_no_frames() {
    let p = Pcap::new(false, false, 2000, 1);
    let (frames, err) = read_bytes(&p.bytes);
    assert!(frames.is_empty());
    assert!(err.is_none());
}

fn three_records() -> Pcap {
    let mut p = Pcap::new(false, false, 0, 1);
    p.record(10, 1, 100, &payload(100, 1));
    p.record(11, 2, 200, &payload(200, 2));
    p.record(12, 3, 300, &payload(300, 3));
    p
}

#[test]
fn truncated_last_record_data() {
    let p = three_records();
    let cut = p.bytes.len() - 50;
    let (_d, path) = write_temp("cut.pcap", &p.bytes[..cut]);
    let mut src = FileSource::open(&path).unwrap();
    assert_eq!(
        src.next_frame().unwrap().unwrap().data,
        payload(100, 1).as_slice()
    );
    assert_eq!(
        src.next_frame().unwrap().unwrap().data,
        payload(200, 2).as_slice()
    );
    let err = src.next_frame().unwrap_err();
    let offset = (24 + 116 + 216) as u64;
    assert!(
        matches!(err, CaptureError::Truncated { offset: o, packet: 3, .. } if o == offset),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains(&*path.to_string_lossy()), "{msg}");
    assert!(msg.contains(&format!("byte offset {offset}")), "{msg}");
    assert!(msg.contains("packet 3"), "{msg}");
    assert!(src.next_frame().unwrap().is_none());
    assert!(src.next_frame().unwrap().is_none());
    assert_eq!(src.packets_read(), 2);
}

#[test]
fn truncated_last_record_header() {
    let p = three_records();
    let end_of_second = 24 + 116 + 216;
    let (frames, err) = read_bytes(&p.bytes[..end_of_second + 5]);
    assert_eq!(frames.len(), 2);
    assert!(
        matches!(err, Some(CaptureError::Truncated { offset, packet: 3, .. }) if offset == end_of_second as u64),
        "{err:?}"
    );
    // Cut exactly between records: a clean end.
    let (frames, err) = read_bytes(&p.bytes[..end_of_second]);
    assert_eq!(frames.len(), 2);
    assert!(err.is_none());
}

#[test]
fn caplen_beyond_snaplen_is_delivered_with_a_warning() {
    let mut p = Pcap::new(false, false, 64, 1);
    p.record(1, 0, 100, &payload(100, 0));
    p.record(2, 0, 64, &payload(64, 0));
    let (_d, path) = write_temp("snap.pcap", &p.bytes);
    let mut src = FileSource::open(&path).unwrap();
    assert_eq!(src.next_frame().unwrap().unwrap().data.len(), 100);
    assert_eq!(src.next_frame().unwrap().unwrap().data.len(), 64);
    assert!(src.next_frame().unwrap().is_none());
    let w = src.take_warnings();
    assert_eq!(
        w,
        vec![CaptureWarning::CaplenExceedsSnaplen {
            packet: 1,
            offset: 24,
            caplen: 100,
            snaplen: 64
        }]
    );
    assert!(w[0].to_string().contains("packet 1 at byte offset 24"));
    assert!(src.take_warnings().is_empty());
}

#[test]
fn snaplen_zero_means_unlimited() {
    let mut p = Pcap::new(false, false, 0, 1);
    p.record(1, 0, 5000, &payload(5000, 0));
    let (_d, path) = write_temp("s0.pcap", &p.bytes);
    let mut src = FileSource::open(&path).unwrap();
    assert_eq!(src.next_frame().unwrap().unwrap().data.len(), 5000);
    assert!(src.take_warnings().is_empty());
}

#[test]
fn caplen_beyond_wire_len_raises_wire_len() {
    let mut p = Pcap::new(true, false, 0, 1);
    p.record(1, 0, 10, &payload(10, 0));
    p.record(1, 0, 60, &payload(80, 0));
    let (_d, path) = write_temp("w.pcap", &p.bytes);
    let mut src = FileSource::open(&path).unwrap();
    assert_eq!(src.next_frame().unwrap().unwrap().wire_len, 10);
    let f = src.next_frame().unwrap().unwrap();
    assert_eq!((f.data.len(), f.wire_len), (80, 80));
    assert_eq!(
        src.take_warnings(),
        vec![CaptureWarning::CaplenExceedsWireLen {
            packet: 2,
            offset: 24 + 26,
            caplen: 80,
            wire_len: 60
        }]
    );
}

#[test]
fn oversized_caplen_stops_reading() {
    let mut p = Pcap::new(false, false, 0, 1);
    p.record(1, 0, 10, &payload(10, 0));
    p.raw_record(2, 0, 300_000, 300_000, &payload(1000, 0));
    p.record(3, 0, 10, &payload(10, 0));
    let (_d, path) = write_temp("big.pcap", &p.bytes);
    let mut src = FileSource::open(&path).unwrap();
    assert!(src.next_frame().unwrap().is_some());
    let err = src.next_frame().unwrap_err();
    assert!(
        matches!(
            err,
            CaptureError::OversizedPacket {
                offset: 50,
                packet: 2,
                caplen: 300_000,
                limit: 262_144,
                ..
            }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains(&*path.to_string_lossy()), "{msg}");
    assert!(msg.contains("packet 2 at byte offset 50"), "{msg}");
    assert!(msg.contains("300000"), "{msg}");
    assert!(src.next_frame().unwrap().is_none());
}

#[test]
fn largest_allowed_caplen() {
    let mut p = Pcap::new(false, false, MAX_CAPLEN, 1);
    p.record(1, 0, MAX_CAPLEN, &payload(MAX_CAPLEN as usize, 9));
    p.record(2, 0, 1, &[7]);
    let (frames, err) = read_bytes(&p.bytes);
    assert!(err.is_none());
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0].data, payload(MAX_CAPLEN as usize, 9));
}

#[test]
fn warnings_are_bounded() {
    let mut p = Pcap::new(false, false, 1, 1);
    for i in 0..2000 {
        p.record(i, 0, 4, &[1, 2, 3, 4]);
    }
    let (_d, path) = write_temp("many.pcap", &p.bytes);
    let mut src = FileSource::open(&path).unwrap();
    while src.next_frame().unwrap().is_some() {}
    assert_eq!(src.take_warnings().len(), MAX_PENDING_WARNINGS);
    assert_eq!(src.warnings_dropped(), 2000 - MAX_PENDING_WARNINGS as u64);
}

/// Hands out at most `chunk` bytes per read, like a pipe.
struct Trickle {
    data: Cursor<Vec<u8>>,
    chunk: usize,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.chunk);
        self.data.read(&mut buf[..n])
    }
}

#[test]
fn many_buffer_refills_and_short_reads_keep_every_byte() {
    // About 7.6 MB: several refills of the 1 MiB buffer, records straddling each boundary.
    let mut p = Pcap::new(false, true, 0, 1);
    let mut expect = Vec::new();
    for i in 0..5000u32 {
        let len = 1 + (i as usize * 7919) % 1514;
        let data = payload(len, i as u8);
        p.record(i, i, len as u32, &data);
        expect.push(data);
    }
    let (_d, path) = write_temp("big.pcap", &p.bytes);
    let mut src = FileSource::open(&path).unwrap();
    let (frames, err) = read_all(&mut src);
    assert!(err.is_none());
    assert_eq!(frames.len(), 5000);
    for (i, (f, e)) in frames.iter().zip(&expect).enumerate() {
        assert_eq!(&f.data, e, "frame {i}");
        assert_eq!(f.ts.nanos(), i as u64 * 1_000_000_001);
    }
    assert_eq!(src.bytes_read(), p.bytes.len() as u64);

    for chunk in [1, 3, 4096] {
        let reader = Trickle {
            data: Cursor::new(p.bytes[..200_000].to_vec()),
            chunk,
        };
        let mut src = FileSource::from_reader(PathBuf::from("pipe"), Box::new(reader)).unwrap();
        assert_eq!(src.file_size(), None);
        let (small, _err) = read_all(&mut src);
        assert!(!small.is_empty());
        assert_eq!(small[..], frames[..small.len()]);
    }
}

#[test]
fn old_versions_swap_the_length_fields() {
    // Version 2.2: always `len` first, `caplen` second.
    let mut p = Pcap::new(false, false, 0, 1);
    p.minor_version(2);
    p.raw_record(1, 0, 500, 20, &payload(20, 1));
    p.raw_record(2, 0, 10, 30, &payload(30, 2));
    let (frames, err) = read_bytes(&p.bytes);
    assert!(err.is_none(), "{err:?}");
    assert_eq!((frames[0].data.len(), frames[0].wire_len), (20, 500));
    assert_eq!(frames[0].data, payload(20, 1));
    assert_eq!(frames[0].ts, Timestamp(1_000_000_000));
    // caplen 30 > len 10 after the swap: raised, as for any file.
    assert_eq!((frames[1].data.len(), frames[1].wire_len), (30, 30));

    // Version 2.3: swapped only when the first field is the larger.
    let mut p = Pcap::new(true, true, 0, 1);
    p.minor_version(3);
    p.raw_record(1, 5, 500, 20, &payload(20, 1));
    p.raw_record(2, 6, 20, 500, &payload(20, 2));
    let (frames, err) = read_bytes(&p.bytes);
    assert!(err.is_none(), "{err:?}");
    assert_eq!((frames[0].data.len(), frames[0].wire_len), (20, 500));
    assert_eq!((frames[1].data.len(), frames[1].wire_len), (20, 500));
    assert_eq!(frames[1].ts, Timestamp(2_000_000_006));
}

#[test]
fn a_source_can_move_to_the_capture_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<FileSource>();
    assert_send::<CaptureError>();
}

/// Serves `data`, failing once with `Interrupted` first and with `fail` after `limit` bytes.
struct Flaky {
    data: Cursor<Vec<u8>>,
    interrupted: bool,
    limit: u64,
}

impl Read for Flaky {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !self.interrupted {
            self.interrupted = true;
            return Err(std::io::ErrorKind::Interrupted.into());
        }
        if self.data.position() >= self.limit {
            return Err(std::io::Error::other("disk on fire"));
        }
        let room = (self.limit - self.data.position()) as usize;
        let n = buf.len().min(room);
        self.data.read(&mut buf[..n])
    }
}

#[test]
fn read_errors_are_io_and_final() {
    let p = three_records();
    let reader = Flaky {
        data: Cursor::new(p.bytes.clone()),
        interrupted: false,
        limit: 24 + 116 + 10,
    };
    let mut src = FileSource::from_reader(PathBuf::from("flaky.pcap"), Box::new(reader)).unwrap();
    assert_eq!(src.next_frame().unwrap().unwrap().data.len(), 100);
    let err = src.next_frame().unwrap_err();
    assert!(matches!(err, CaptureError::Io { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with("flaky.pcap: disk on fire"),
        "{err}"
    );
    assert!(src.next_frame().unwrap().is_none());
}

#[test]
fn impossible_fractions_and_wire_lengths_are_said() {
    let mut p = Pcap::new(false, false, 0, 1);
    p.record(1, 2_000_000, 60, &payload(60, 0)); // microseconds: two seconds' worth
    p.record(2, 0, u32::MAX, &payload(60, 1)); // 4 GiB on the wire
    let (_d, path) = write_temp("odd.pcap", &p.bytes);
    let mut src = FileSource::open(&path).unwrap();
    let f = src.next_frame().unwrap().unwrap();
    assert_eq!(f.ts.nanos(), 3_000_000_000, "added as is");
    let f = src.next_frame().unwrap().unwrap();
    assert_eq!(f.wire_len, 60, "the captured length instead of 4 GiB");
    let w = src.take_warnings();
    assert_eq!(
        w,
        vec![
            CaptureWarning::FractionOverflow {
                packet: 1,
                offset: 24,
                fraction: 2_000_000,
                max: 999_999
            },
            CaptureWarning::WireLenImplausible {
                packet: 2,
                offset: 24 + 16 + 60,
                wire_len: u32::MAX,
                caplen: 60
            }
        ]
    );
    assert!(w[1].to_string().contains("more than any link carries"));
}
