//! Capture file writing: pcap and pcapng read back by our reader (and by tshark when it is
//! installed), and the rotating writer's cuts, caps, adoption and recovery.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use wirewatch_capture::FileSource;
use wirewatch_capture::write::{
    PacketWriter, PcapFormat, RotateConfig, RotatingWriter, WriteError, list_files,
};
use wirewatch_core::{LinkType, Timestamp};

/// 2023-11-14T22:13:20Z plus a fraction, in nanoseconds.
const T0: u64 = 1_700_000_000_123_456_789;
const SEC: u64 = 1_000_000_000;

/// A packet as written and as expected back.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pkt {
    ts: u64,
    linktype: LinkType,
    data: Vec<u8>,
    wire_len: u32,
}

fn pkt(ts: u64, linktype: LinkType, len: usize, fill: u8, wire_len: u32) -> Pkt {
    let data = (0..len).map(|i| fill.wrapping_add(i as u8)).collect();
    Pkt {
        ts,
        linktype,
        data,
        wire_len,
    }
}

fn read_all(path: &Path) -> Vec<Pkt> {
    let mut src = FileSource::open(path).unwrap();
    let mut out = Vec::new();
    while let Some(f) = src.next_frame().unwrap() {
        out.push(Pkt {
            ts: f.ts.nanos(),
            linktype: f.linktype,
            data: f.data.to_vec(),
            wire_len: f.wire_len,
        });
    }
    assert!(
        src.take_warnings().is_empty(),
        "{path:?} read with warnings"
    );
    out
}

fn write_file(path: &Path, format: PcapFormat, snaplen: u32, pkts: &[Pkt]) -> u64 {
    let file = fs::File::create(path).unwrap();
    let mut w = PacketWriter::new(file, format, snaplen).unwrap();
    for p in pkts {
        w.write(Timestamp(p.ts), p.linktype, &p.data, p.wire_len)
            .unwrap();
    }
    assert_eq!(w.packets(), pkts.len() as u64);
    let bytes = w.bytes();
    w.finish().unwrap();
    bytes
}

fn tshark_available() -> bool {
    Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// (timestamp in ns, frame.len) of every packet, as tshark reads the file; `None` without
/// tshark.
fn tshark_times_and_lengths(path: &Path) -> Option<Vec<(u64, u32)>> {
    if !tshark_available() {
        wirewatch_testkit::skip(format_args!(
            "tshark not on PATH (for the tshark cross-check)"
        ));
        return None;
    }
    let out = Command::new("tshark")
        .arg("-r")
        .arg(path)
        .args(["-T", "fields", "-e", "frame.time_epoch", "-e", "frame.len"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let rows = text
        .lines()
        .map(|line| {
            let (epoch, len) = line.split_once('\t').unwrap();
            let (secs, frac) = epoch.split_once('.').unwrap_or((epoch, ""));
            let frac = format!("{frac:0<9}");
            let ns = secs.parse::<u64>().unwrap() * SEC + frac[..9].parse::<u64>().unwrap();
            (ns, len.parse().unwrap())
        })
        .collect();
    Some(rows)
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).unwrap().len()
}

/// Packets of mixed sizes: one cut by the snaplen, one shorter than on the wire, an empty one.
fn ethernet_packets() -> Vec<Pkt> {
    vec![
        pkt(T0, LinkType::ETHERNET, 60, 0x10, 60),
        pkt(T0 + 1, LinkType::ETHERNET, 1514, 0x20, 1514),
        pkt(T0 + 250_000_000, LinkType::ETHERNET, 33, 0x30, 9000),
        pkt(T0 + 2 * SEC + 999_999_999, LinkType::ETHERNET, 0, 0, 64),
        pkt(T0 + 3600 * SEC, LinkType::ETHERNET, 7, 0x40, 7),
    ]
}

/// What the reader gives back for `p` under `snaplen`.
fn as_captured(p: &Pkt, snaplen: usize) -> Pkt {
    let data = p.data[..p.data.len().min(snaplen)].to_vec();
    Pkt {
        wire_len: p.wire_len.max(data.len() as u32),
        data,
        ..p.clone()
    }
}

#[test]
fn pcap_round_trips_through_the_reader_and_tshark() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.pcap");
    let pkts = ethernet_packets();
    let bytes = write_file(&path, PcapFormat::Pcap, 1000, &pkts);
    assert_eq!(bytes, file_len(&path));
    // 24 + records of 60, 1000 (cut), 33, 0 and 7 bytes.
    assert_eq!(bytes, 24 + 5 * 16 + 60 + 1000 + 33 + 7);

    let back = read_all(&path);
    let expected: Vec<Pkt> = pkts.iter().map(|p| as_captured(p, 1000)).collect();
    assert_eq!(back, expected);
    assert_eq!(back[1].data.len(), 1000);
    assert_eq!(back[1].wire_len, 1514);

    let src = FileSource::open(&path).unwrap();
    assert_eq!(src.snaplen(), 1000);
    assert_eq!(
        src.format(),
        wirewatch_capture::FileFormat::Pcap {
            nanosecond: true,
            big_endian: false
        }
    );

    if let Some(rows) = tshark_times_and_lengths(&path) {
        let want: Vec<(u64, u32)> = pkts.iter().map(|p| (p.ts, p.wire_len)).collect();
        assert_eq!(rows, want);
    }
}

#[test]
fn pcapng_with_two_link_types_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.pcapng");
    let pkts = vec![
        pkt(T0, LinkType::ETHERNET, 60, 0x10, 60),
        pkt(T0 + 1, LinkType::RAW, 41, 0x45, 41),
        pkt(T0 + 2, LinkType::ETHERNET, 1514, 0x20, 1514),
        pkt(T0 + 7 * SEC + 5, LinkType::RAW, 20, 0x46, 1500),
        pkt(T0 + 8 * SEC, LinkType::LINUX_SLL, 3, 0x50, 3),
        pkt(T0 + 9 * SEC, LinkType::ETHERNET, 0, 0, 60),
    ];
    let bytes = write_file(&path, PcapFormat::PcapNg, 1024, &pkts);
    assert_eq!(bytes, file_len(&path));

    let back = read_all(&path);
    let expected: Vec<Pkt> = pkts.iter().map(|p| as_captured(p, 1024)).collect();
    assert_eq!(back, expected);
    assert_eq!(back[2].data.len(), 1024);
    assert_eq!(
        FileSource::open(&path).unwrap().format(),
        wirewatch_capture::FileFormat::Pcapng
    );

    if let Some(rows) = tshark_times_and_lengths(&path) {
        let want: Vec<(u64, u32)> = pkts.iter().map(|p| (p.ts, p.wire_len)).collect();
        assert_eq!(rows, want);
    }
}

#[test]
fn empty_files_are_valid_captures() {
    let dir = tempfile::tempdir().unwrap();
    for format in [PcapFormat::Pcap, PcapFormat::PcapNg] {
        let path = dir.path().join(format!("empty.{}", format.extension()));
        let bytes = write_file(&path, format, 65535, &[]);
        match format {
            // The classic header waits for a packet's link type; `finish` writes it.
            PcapFormat::Pcap => {
                assert_eq!(bytes, 0);
                assert_eq!(file_len(&path), 24);
            }
            // The section header is written at creation: 28 bytes + shb_userappl option.
            PcapFormat::PcapNg => {
                assert_eq!(bytes, file_len(&path));
                assert_eq!(bytes, 28 + 4 + 12 + 4);
            }
        }
        assert!(read_all(&path).is_empty());
        if format == PcapFormat::Pcap {
            let src = FileSource::open(&path).unwrap();
            assert_eq!(src.linktype(), Some(LinkType::ETHERNET));
            assert_eq!(src.snaplen(), 65535);
        }
        if let Some(rows) = tshark_times_and_lengths(&path) {
            assert!(rows.is_empty());
        }
    }
}

#[test]
fn pcap_refuses_a_second_link_type_and_stays_valid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.pcap");
    let mut w =
        PacketWriter::new(fs::File::create(&path).unwrap(), PcapFormat::Pcap, 65535).unwrap();
    let a = pkt(T0, LinkType::RAW, 20, 0x45, 20);
    let b = pkt(T0 + 1, LinkType::ETHERNET, 60, 1, 60);
    let c = pkt(T0 + 2, LinkType::RAW, 28, 0x45, 28);
    w.write(Timestamp(a.ts), a.linktype, &a.data, a.wire_len)
        .unwrap();
    let err = w
        .write(Timestamp(b.ts), b.linktype, &b.data, b.wire_len)
        .unwrap_err();
    match err {
        WriteError::LinkTypeMismatch { file, packet } => {
            assert_eq!(file, LinkType::RAW);
            assert_eq!(packet, LinkType::ETHERNET);
        }
        other => panic!("expected LinkTypeMismatch, got {other:?}"),
    }
    w.write(Timestamp(c.ts), c.linktype, &c.data, c.wire_len)
        .unwrap();
    assert_eq!(w.packets(), 2);
    let bytes = w.bytes();
    w.finish().unwrap();
    assert_eq!(bytes, file_len(&path));
    assert_eq!(read_all(&path), vec![a, c]);
}

/// Writes `pkts` through a rotating writer and finishes it.
fn rotate(config: RotateConfig, pkts: &[Pkt]) -> wirewatch_capture::write::RotateStats {
    let mut w = RotatingWriter::open(config).unwrap();
    for p in pkts {
        w.write(Timestamp(p.ts), p.linktype, &p.data, p.wire_len)
            .unwrap();
    }
    w.finish().unwrap()
}

fn files(dir: &Path) -> Vec<PathBuf> {
    list_files(dir, "wirewatch").unwrap()
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_str().unwrap().to_string()
}

fn sizes(dir: &Path) -> Vec<u64> {
    files(dir).iter().map(|p| file_len(p)).collect()
}

#[test]
fn rotation_by_size_keeps_files_under_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = RotateConfig::new(dir.path());
    // Header + three 100-byte packets.
    let max = 24 + 3 * 116;
    cfg.max_file_bytes = Some(max);
    let mut pkts: Vec<Pkt> = (0..7)
        .map(|i| pkt(T0 + i * SEC, LinkType::ETHERNET, 100, i as u8, 100))
        .collect();
    // Alone larger than the limit: it gets a file of its own.
    pkts.push(pkt(T0 + 7 * SEC, LinkType::ETHERNET, 600, 7, 600));
    pkts.push(pkt(T0 + 8 * SEC, LinkType::ETHERNET, 100, 8, 100));
    let stats = rotate(cfg, &pkts);

    let paths = files(dir.path());
    let counts: Vec<usize> = paths.iter().map(|p| read_all(p).len()).collect();
    assert_eq!(counts, [3, 3, 1, 1, 1]);
    for (path, count) in paths.iter().zip(&counts) {
        if *count > 1 {
            assert!(file_len(path) <= max, "{path:?}");
        }
    }
    assert_eq!(sizes(dir.path()), [max, max, 24 + 116, 24 + 616, 24 + 116]);
    assert_eq!(stats.files_created, 5);
    assert_eq!(stats.files_deleted, 0);
    assert_eq!(stats.packets, 9);
    assert_eq!(stats.bytes, sizes(dir.path()).iter().sum::<u64>());
    assert_eq!(stats.write_errors, 0);
    let back: Vec<Pkt> = paths.iter().flat_map(|p| read_all(p)).collect();
    assert_eq!(back, pkts);
    assert_eq!(
        name(&paths[0]),
        "wirewatch-000001-20231114T221320Z.pcap",
        "named after the first packet's UTC time"
    );
    assert_eq!(name(&paths[1]), "wirewatch-000002-20231114T221323Z.pcap");
}

#[test]
fn rotation_by_packet_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = RotateConfig::new(dir.path());
    cfg.max_file_secs = Some(10);
    let offsets = [
        0,
        5 * SEC,
        10 * SEC - 1,
        10 * SEC,
        19 * SEC,
        20 * SEC + 1,
        95 * SEC,
    ];
    let pkts: Vec<Pkt> = offsets
        .iter()
        .map(|&o| pkt(T0 + o, LinkType::ETHERNET, 40, 1, 40))
        .collect();
    let stats = rotate(cfg, &pkts);
    let paths = files(dir.path());
    let per_file: Vec<Vec<u64>> = paths
        .iter()
        .map(|p| read_all(p).iter().map(|k| k.ts - T0).collect())
        .collect();
    assert_eq!(
        per_file,
        [
            vec![0, 5 * SEC, 10 * SEC - 1],
            vec![10 * SEC, 19 * SEC],
            vec![20 * SEC + 1],
            vec![95 * SEC],
        ]
    );
    assert_eq!(stats.files_created, 4);
    let names: Vec<String> = paths.iter().map(|p| name(p)).collect();
    assert_eq!(
        names,
        [
            "wirewatch-000001-20231114T221320Z.pcap",
            "wirewatch-000002-20231114T221330Z.pcap",
            "wirewatch-000003-20231114T221340Z.pcap",
            "wirewatch-000004-20231114T221455Z.pcap",
        ]
    );
}

/// One 50-byte packet per file (24 + 66 = 90 bytes each).
fn one_per_file(dir: &Path) -> RotateConfig {
    let mut cfg = RotateConfig::new(dir);
    cfg.max_file_bytes = Some(100);
    cfg
}

fn numbered(n: u64) -> Vec<Pkt> {
    (0..n)
        .map(|i| pkt(T0 + i * SEC, LinkType::ETHERNET, 50, i as u8, 50))
        .collect()
}

#[test]
fn max_files_deletes_the_oldest() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = one_per_file(dir.path());
    cfg.max_files = Some(3);
    let pkts = numbered(6);
    let stats = rotate(cfg, &pkts);
    assert_eq!(stats.files_created, 6);
    assert_eq!(stats.files_deleted, 3);
    assert_eq!(stats.packets, 6);
    let paths = files(dir.path());
    let seqs: Vec<String> = paths.iter().map(|p| name(p)[10..16].to_string()).collect();
    assert_eq!(seqs, ["000004", "000005", "000006"]);
    let back: Vec<Pkt> = paths.iter().flat_map(|p| read_all(p)).collect();
    assert_eq!(back, pkts[3..]);
}

#[test]
fn total_cap_deletes_the_oldest_but_never_the_current_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = one_per_file(dir.path());
    cfg.max_total_bytes = Some(250); // room for two 90-byte files, not three
    let mut w = RotatingWriter::open(cfg).unwrap();
    for p in numbered(5) {
        w.write(Timestamp(p.ts), p.linktype, &p.data, p.wire_len)
            .unwrap();
        w.flush().unwrap();
        let on_disk: u64 = sizes(dir.path()).iter().sum();
        assert!(on_disk <= 250, "{on_disk} bytes kept");
        assert_eq!(on_disk, w.total_bytes());
    }
    assert_eq!(w.file_count(), 2);
    assert_eq!(w.stats().files_deleted, 3);
    // A file larger than the cap on its own is kept (it is the current one); the rest go.
    let big = pkt(T0 + 10 * SEC, LinkType::ETHERNET, 400, 9, 400);
    w.write(Timestamp(big.ts), big.linktype, &big.data, big.wire_len)
        .unwrap();
    let current = w.current_file().unwrap().to_path_buf();
    let stats = w.finish().unwrap();
    assert_eq!(stats.files_deleted, 5);
    assert_eq!(files(dir.path()), vec![current.clone()]);
    assert_eq!(read_all(&current), vec![big]);
}

#[test]
fn link_type_change_starts_a_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let kinds = [
        LinkType::ETHERNET,
        LinkType::ETHERNET,
        LinkType::RAW,
        LinkType::RAW,
        LinkType::ETHERNET,
    ];
    let pkts: Vec<Pkt> = kinds
        .iter()
        .enumerate()
        .map(|(i, &lt)| pkt(T0 + i as u64, lt, 30, i as u8, 30))
        .collect();
    let stats = rotate(RotateConfig::new(dir.path()), &pkts);
    assert_eq!(stats.files_created, 3);
    let paths = files(dir.path());
    let per_file: Vec<Vec<LinkType>> = paths
        .iter()
        .map(|p| read_all(p).iter().map(|k| k.linktype).collect())
        .collect();
    assert_eq!(
        per_file,
        [
            vec![LinkType::ETHERNET, LinkType::ETHERNET],
            vec![LinkType::RAW, LinkType::RAW],
            vec![LinkType::ETHERNET],
        ]
    );
    for (path, lt) in paths
        .iter()
        .zip([LinkType::ETHERNET, LinkType::RAW, LinkType::ETHERNET])
    {
        assert_eq!(FileSource::open(path).unwrap().linktype(), Some(lt));
    }
}

#[test]
fn reopening_adopts_existing_files() {
    let dir = tempfile::tempdir().unwrap();
    // Files of another prefix and stray names are left alone.
    let foreign = [
        "other-000001-20231114T221320Z.pcap",
        "wirewatch-notes.txt",
        "wirewatch-000009-20231114T221320Z.pcapng",
    ];
    for f in foreign {
        fs::write(dir.path().join(f), b"not mine").unwrap();
    }
    let pkts = numbered(6);
    let first = rotate(one_per_file(dir.path()), &pkts[..3]);
    assert_eq!(first.files_created, 3);

    let mut cfg = one_per_file(dir.path());
    cfg.max_files = Some(4);
    let mut w = RotatingWriter::open(cfg).unwrap();
    assert_eq!(w.file_count(), 3);
    assert_eq!(w.total_bytes(), 3 * 90);
    assert_eq!(w.current_file(), None);
    for p in &pkts[3..] {
        w.write(Timestamp(p.ts), p.linktype, &p.data, p.wire_len)
            .unwrap();
    }
    assert_eq!(w.file_count(), 4);
    let stats = w.finish().unwrap();
    assert_eq!(stats.files_created, 3);
    // Sequence numbers went on at 4; the two oldest adopted files made room.
    assert_eq!(stats.files_deleted, 2);
    let names: Vec<String> = files(dir.path()).iter().map(|p| name(p)).collect();
    assert_eq!(
        names,
        [
            "wirewatch-000003-20231114T221322Z.pcap",
            "wirewatch-000004-20231114T221323Z.pcap",
            "wirewatch-000005-20231114T221324Z.pcap",
            "wirewatch-000006-20231114T221325Z.pcap",
        ]
    );
    let back: Vec<Pkt> = files(dir.path()).iter().flat_map(|p| read_all(p)).collect();
    assert_eq!(back, pkts[2..]);
    for f in foreign {
        assert_eq!(fs::read(dir.path().join(f)).unwrap(), b"not mine");
    }

    // The total cap counts adopted files too: one more packet leaves room for only two.
    let mut cfg = one_per_file(dir.path());
    cfg.max_total_bytes = Some(200);
    let stats = rotate(cfg, &numbered(7)[6..]);
    assert_eq!(stats.files_deleted, 3);
    let names: Vec<String> = files(dir.path()).iter().map(|p| name(p)).collect();
    assert_eq!(
        names,
        [
            "wirewatch-000006-20231114T221325Z.pcap",
            "wirewatch-000007-20231114T221326Z.pcap",
        ]
    );
}

#[test]
fn list_files_sorts_by_sequence_number() {
    let dir = tempfile::tempdir().unwrap();
    for f in [
        "cap-1000000-20240101T000000Z.pcap",
        "cap-000010-20200101T000000Z.pcap",
        "cap-999999-20230101T000000Z.pcap",
        "cap-000002-20250101T000000Z.pcap",
        "cap-000003-20250101T000000Z.pcap.tmp",
        "capx-000001-20250101T000000Z.pcap",
    ] {
        fs::write(dir.path().join(f), b"").unwrap();
    }
    fs::create_dir(dir.path().join("cap-000001-20250101T000000Z.pcap")).unwrap();
    let names: Vec<String> = list_files(dir.path(), "cap")
        .unwrap()
        .iter()
        .map(|p| name(p))
        .collect();
    assert_eq!(
        names,
        [
            "cap-000002-20250101T000000Z.pcap",
            "cap-000010-20200101T000000Z.pcap",
            "cap-999999-20230101T000000Z.pcap",
            "cap-1000000-20240101T000000Z.pcap",
        ]
    );
    assert!(list_files(&dir.path().join("missing"), "cap").is_err());
}

#[test]
fn flush_makes_the_current_file_readable_and_sizes_match() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = RotatingWriter::open(RotateConfig::new(dir.path().join("sub/dir"))).unwrap();
    assert!(dir.path().join("sub/dir").is_dir());
    let pkts = numbered(3);
    for p in &pkts {
        w.write(Timestamp(p.ts), p.linktype, &p.data, p.wire_len)
            .unwrap();
    }
    w.flush().unwrap();
    let current = w.current_file().unwrap().to_path_buf();
    assert_eq!(read_all(&current), pkts);
    assert_eq!(file_len(&current), w.total_bytes());
    assert_eq!(w.stats().bytes, 24 + 3 * 66);
    let stats = w.finish().unwrap();
    assert_eq!(stats.bytes, file_len(&current));
}

#[test]
fn write_errors_are_counted_and_the_writer_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let ring = dir.path().join("ring");
    let mut cfg = RotateConfig::new(&ring);
    cfg.max_file_secs = Some(1);
    let mut w = RotatingWriter::open(cfg).unwrap();
    let pkts = numbered(3);
    w.write(Timestamp(pkts[0].ts), LinkType::ETHERNET, &pkts[0].data, 50)
        .unwrap();
    w.flush().unwrap();
    let first = w.current_file().unwrap().to_path_buf();
    // The directory vanishes: the next file cannot be created.
    fs::remove_dir_all(&ring).unwrap();
    let err = w
        .write(Timestamp(pkts[1].ts), LinkType::ETHERNET, &pkts[1].data, 50)
        .unwrap_err();
    assert!(matches!(err, WriteError::Io(_)), "{err:?}");
    assert_eq!(w.stats().write_errors, 1);
    assert_eq!(w.current_file(), None);
    // Once it is back, the next packet opens a new file.
    fs::create_dir(&ring).unwrap();
    w.write(Timestamp(pkts[2].ts), LinkType::ETHERNET, &pkts[2].data, 50)
        .unwrap();
    let stats = w.finish().unwrap();
    assert_eq!(stats.write_errors, 1);
    assert_eq!(stats.packets, 2);
    assert_eq!(stats.files_created, 2);
    let paths = files(&ring);
    assert_eq!(paths.len(), 1);
    assert!(!first.exists());
    assert_eq!(read_all(&paths[0]), vec![pkts[2].clone()]);
}
