//! Capture file reading speed: Wirewatch's `FileSource` against libpcap (through the `pcap`
//! crate), on generated pcap and pcapng files read from the page cache.
//!
//! Both loops touch every packet (first byte plus wire length) so nothing is optimised away.
//! Run: `cargo bench -p wirewatch-capture --bench file_read`.

// Benchmark code: a broken setup should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Duration;
use wirewatch_capture::FileSource;

/// Packets per generated file.
const PACKETS: u64 = 1_000_000;

/// Writes a little-endian capture of `PACKETS` records whose lengths are drawn uniformly
/// (fixed-seed LCG) from `min_len..=max_len`: classic microsecond pcap, or pcapng with one
/// Ethernet interface and Enhanced Packet Blocks.
fn write_capture(path: &Path, pcapng: bool, min_len: u32, max_len: u32) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let words = |w: &mut BufWriter<std::fs::File>, v: &[u32]| {
        for x in v {
            w.write_all(&x.to_le_bytes()).unwrap();
        }
    };
    if pcapng {
        // SHB (version 1.0, unknown section length), IDB (Ethernet, snaplen 262144).
        words(
            &mut w,
            &[0x0A0D_0D0A, 28, 0x1A2B_3C4D, 1, u32::MAX, u32::MAX, 28],
        );
        words(&mut w, &[1, 20, 1, 262_144, 20]);
    } else {
        words(&mut w, &[0xa1b2_c3d4, 2 | (4 << 16), 0, 0, 262_144, 1]);
    }
    let payload: Vec<u8> = (0..max_len).map(|i| (i * 7) as u8).collect();
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for i in 0..PACKETS {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let span = u64::from(max_len - min_len + 1);
        let len = min_len + ((seed >> 33) % span) as u32;
        let sec = 1_700_000_000 + (i / 100_000) as u32;
        let usec = (i % 100_000) as u32 * 10;
        if pcapng {
            let ts = u64::from(sec) * 1_000_000 + u64::from(usec);
            let padded = len.div_ceil(4) * 4;
            let block_len = 32 + padded;
            let (hi, lo) = ((ts >> 32) as u32, ts as u32);
            words(&mut w, &[6, block_len, 0, hi, lo, len, len]);
            w.write_all(&payload[..len as usize]).unwrap();
            w.write_all(&[0u8; 3][..(padded - len) as usize]).unwrap();
            words(&mut w, &[block_len]);
        } else {
            words(&mut w, &[sec, usec, len, len]);
            w.write_all(&payload[..len as usize]).unwrap();
        }
    }
    w.flush().unwrap();
}

fn read_filesource(path: &Path) -> u64 {
    let mut src = FileSource::open(path).unwrap();
    let mut sum = 0u64;
    while let Some(f) = src.next_frame().unwrap() {
        sum += u64::from(f.data.first().copied().unwrap_or(0)) + u64::from(f.wire_len);
    }
    sum
}

fn read_libpcap(path: &Path) -> u64 {
    let mut cap = pcap::Capture::from_file(path).unwrap();
    let mut sum = 0u64;
    loop {
        match cap.next_packet() {
            Ok(p) => {
                sum += u64::from(p.data.first().copied().unwrap_or(0)) + u64::from(p.header.len)
            }
            Err(pcap::Error::NoMorePackets) => break,
            Err(e) => panic!("libpcap: {e}"),
        }
    }
    sum
}

fn file_read(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("pcap_60B", false, 60, 60),
        ("pcap_60-1500B", false, 60, 1500),
        ("pcapng_60B", true, 60, 60),
    ];
    for (name, pcapng, min_len, max_len) in cases {
        let path = dir.path().join(format!("{name}.cap"));
        write_capture(&path, pcapng, min_len, max_len);
        // Same answer from both readers, and the file is now in the page cache.
        assert_eq!(read_filesource(&path), read_libpcap(&path));

        let mut group = c.benchmark_group(format!("file_read/{name}"));
        group.throughput(Throughput::Elements(PACKETS));
        group.sample_size(10);
        group.warm_up_time(Duration::from_secs(2));
        group.measurement_time(Duration::from_secs(8));
        group.bench_function("wirewatch_filesource", |b| {
            b.iter(|| black_box(read_filesource(black_box(&path))))
        });
        group.bench_function("libpcap", |b| {
            b.iter(|| black_box(read_libpcap(black_box(&path))))
        });
        group.finish();
        std::fs::remove_file(&path).unwrap();
    }
}

criterion_group!(benches, file_read);
criterion_main!(benches);
