//! Every capture of the shared public corpus (`../shared/pcaps`, skipped when absent) reads
//! with the packet count, byte sums and first/last timestamps that tshark reports in its
//! truth file.

// Test code: helpers outside `#[test]` functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use wirewatch_capture::{CaptureError, FileSource};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pcaps")
}

/// Capture files under `dir` (recursively, `truth/` excluded), recognised by magic number.
fn captures(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "truth") {
                captures(&path, out);
            }
            continue;
        }
        let mut magic = [0u8; 4];
        let Ok(mut f) = std::fs::File::open(&path) else {
            continue;
        };
        if std::io::Read::read_exact(&mut f, &mut magic).is_err() {
            continue;
        }
        let known: [[u8; 4]; 5] = [
            [0xd4, 0xc3, 0xb2, 0xa1],
            [0xa1, 0xb2, 0xc3, 0xd4],
            [0x4d, 0x3c, 0xb2, 0xa1],
            [0xa1, 0xb2, 0x3c, 0x4d],
            [0x0a, 0x0d, 0x0d, 0x0a],
        ];
        if known.contains(&magic) {
            out.push(path);
        }
    }
}

/// tshark prints `secs.nnnnnnnnn`; when a pcap record's fraction is a second or more it
/// prints the raw fraction after the dot (more than 9 digits), which is then nanoseconds.
fn parse_ts(s: &str) -> u64 {
    let (secs, frac) = s.split_once('.').unwrap_or((s, "0"));
    let secs: u64 = secs.parse().unwrap();
    let nanos: u64 = if frac.len() <= 9 {
        format!("{frac:0<9}").parse().unwrap()
    } else {
        frac.parse().unwrap()
    };
    secs * 1_000_000_000 + nanos
}

#[test]
fn timestamp_strings() {
    assert_eq!(parse_ts("1581113120.474299000"), 1_581_113_120_474_299_000);
    assert_eq!(parse_ts("1.5"), 1_500_000_000);
    assert_eq!(parse_ts("980658802.1882137472"), 980_658_803_882_137_472);
}

#[test]
fn corpus_matches_tshark() {
    let dir = corpus_dir();
    if !dir.is_dir() {
        wirewatch_testkit::skip(format_args!("no corpus at {}", dir.display()));
        return;
    }
    let mut files = Vec::new();
    captures(&dir, &mut files);
    assert!(!files.is_empty(), "no captures found in {}", dir.display());
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy();
        let truth_path = dir.join("truth").join(format!("{name}.json"));
        let truth: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&truth_path).unwrap()).unwrap();
        let totals = &truth["totals"];
        let cut_short = truth["file"]["tshark_stderr"]
            .as_str()
            .is_some_and(|s| s.contains("cut short"));

        let mut src = FileSource::open(path).unwrap();
        let (mut packets, mut bytes, mut captured) = (0u64, 0u64, 0u64);
        let (mut first, mut last) = (None, None);
        let end = loop {
            match src.next_frame() {
                Ok(Some(f)) => {
                    packets += 1;
                    bytes += u64::from(f.wire_len);
                    captured += f.data.len() as u64;
                    first.get_or_insert(f.ts.nanos());
                    last = Some(f.ts.nanos());
                }
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
        };
        let mut problems = Vec::new();
        match (&end, cut_short) {
            (None, false) | (Some(CaptureError::Truncated { .. }), true) => {}
            _ => problems.push(format!("ended with {end:?}, tshark cut short: {cut_short}")),
        }
        let want = |k: &str| totals[k].as_u64().unwrap();
        if (packets, bytes, captured) != (want("packets"), want("bytes"), want("captured_bytes")) {
            problems.push(format!(
                "packets/bytes/captured {packets}/{bytes}/{captured}, tshark {}/{}/{}",
                want("packets"),
                want("bytes"),
                want("captured_bytes")
            ));
        }
        for (label, got, key) in [("first", first, "first_ts"), ("last", last, "last_ts")] {
            let expect = totals[key].as_str().map(parse_ts);
            let close = match (got, expect) {
                (Some(g), Some(e)) => g.abs_diff(e) <= 1_000,
                (None, None) => true,
                _ => false,
            };
            if !close {
                problems.push(format!("{label} timestamp {got:?}, tshark {expect:?}"));
            }
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}", path.display(), problems.join("; ")));
        }
    }
    eprintln!("checked {} captures", files.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
