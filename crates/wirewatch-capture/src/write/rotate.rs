//! A ring of classic pcap files in one directory, like `tcpdump -C/-G/-W` plus a total cap.
//!
//! Files are named `{prefix}-{seq:06}-{YYYYmmddTHHMMSS}Z.pcap` (the UTC time of the file's first
//! packet), so names sort by sequence. A new file starts when the next packet would take the
//! current one over the size limit, comes the time limit (packet time) after its first packet,
//! or has another link type. The oldest files are deleted (never the current one) while there
//! are too many or they take too much space. Files already in the directory under this naming
//! pattern are adopted at [`RotatingWriter::open`], so a restart keeps honouring the caps.
//!
//! An I/O error (a full disk) is returned and counted, and ends the current file: it is cut back
//! to its last complete record, so every file stays readable, and the next packet opens a new
//! file.

use super::{PacketWriter, PcapFormat, WriteError, effective_snaplen, pcap_record_len};
use crate::file::MAX_CAPLEN;
use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use wirewatch_core::time::NANOS_PER_SEC;
use wirewatch_core::{LinkType, Timestamp};

/// The file name prefix of [`RotateConfig::new`].
pub const DEFAULT_PREFIX: &str = "wirewatch";

/// Where and when a [`RotatingWriter`] cuts files. `None` means no limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotateConfig {
    /// Directory of the files (created if missing).
    pub dir: PathBuf,
    /// File name prefix: no path separators.
    pub prefix: String,
    /// Largest size of one file in bytes (a file always gets at least one packet).
    pub max_file_bytes: Option<u64>,
    /// Longest span of one file in seconds of packet time.
    pub max_file_secs: Option<u64>,
    /// Most files kept, the current one included.
    pub max_files: Option<usize>,
    /// Most bytes kept in all files, the current one included.
    pub max_total_bytes: Option<u64>,
    /// Snapshot length: data beyond it is cut off (0 means the largest, 262144).
    pub snaplen: u32,
}

impl RotateConfig {
    /// Files in `dir` named `wirewatch-…`, no limits, the largest snapshot length.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        RotateConfig {
            dir: dir.into(),
            prefix: DEFAULT_PREFIX.to_string(),
            max_file_bytes: None,
            max_file_secs: None,
            max_files: None,
            max_total_bytes: None,
            snaplen: MAX_CAPLEN,
        }
    }

    /// Rejects a prefix that is empty or holds a path separator, and limits of zero.
    fn validate(&self) -> Result<(), WriteError> {
        let bad = |msg: String| Err(WriteError::InvalidConfig(msg));
        if self.prefix.is_empty() || self.prefix.contains(['/', '\\', '\0']) {
            return bad(format!(
                "file prefix {:?} must be non-empty without path separators",
                self.prefix
            ));
        }
        let zero = [
            ("max_file_bytes", self.max_file_bytes == Some(0)),
            ("max_file_secs", self.max_file_secs == Some(0)),
            ("max_files", self.max_files == Some(0)),
            ("max_total_bytes", self.max_total_bytes == Some(0)),
        ];
        if let Some((name, _)) = zero.iter().find(|(_, z)| *z) {
            return bad(format!(
                "{name} must be at least 1 (leave it unset for no limit)"
            ));
        }
        Ok(())
    }
}

/// What a [`RotatingWriter`] has done since it was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RotateStats {
    /// Files created.
    pub files_created: u64,
    /// Files deleted to honour `max_files` / `max_total_bytes` (adopted ones included).
    pub files_deleted: u64,
    /// Packets written (and kept: packets lost to a write error are not counted).
    pub packets: u64,
    /// Bytes written, file headers included (less what a write error cut off).
    pub bytes: u64,
    /// Errors returned by `write`, `flush` or `finish`.
    pub write_errors: u64,
    /// Old files that could not be deleted (they are no longer counted against the caps).
    pub delete_errors: u64,
}

/// A `File` that counts the bytes the operating system accepted, so a failed file can be cut
/// back to its last complete record.
#[derive(Debug)]
struct CountingFile {
    file: File,
    written: u64,
    /// Test hook: the file is "full" at this size.
    #[cfg(test)]
    capacity: Option<u64>,
}

impl Write for CountingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        #[cfg(test)]
        let buf = match self.capacity {
            Some(cap) if self.written + buf.len() as u64 > cap => {
                let room = cap.saturating_sub(self.written) as usize;
                if room == 0 {
                    return Err(io::Error::new(io::ErrorKind::StorageFull, "test disk full"));
                }
                &buf[..room]
            }
            _ => buf,
        };
        let n = self.file.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// A finished file that is kept (until the caps want it deleted).
#[derive(Debug)]
struct Kept {
    path: PathBuf,
    bytes: u64,
}

/// The file being written.
#[derive(Debug)]
struct Current {
    path: PathBuf,
    first_ts: Timestamp,
    writer: PacketWriter<CountingFile>,
    /// (end offset, packets) after each record not yet known to be on disk.
    pending: VecDeque<(u64, u64)>,
    /// (end offset, packets) of the last record known to be wholly on disk.
    durable: (u64, u64),
}

impl Current {
    /// Moves the records the operating system has fully accepted to `durable`.
    fn settle(&mut self) {
        let on_disk = self.writer.get_ref().written;
        while let Some(&front) = self.pending.front() {
            if front.0 > on_disk {
                break;
            }
            self.durable = front;
            self.pending.pop_front();
        }
    }
}

/// Writes packets to a ring of pcap files (classic, nanosecond timestamps).
#[derive(Debug)]
pub struct RotatingWriter {
    config: RotateConfig,
    snaplen: u32,
    /// Finished and adopted files, oldest first.
    kept: VecDeque<Kept>,
    kept_bytes: u64,
    next_seq: u64,
    current: Option<Current>,
    stats: RotateStats,
    /// Test hook: the size at which new files report a full disk.
    #[cfg(test)]
    file_capacity: Option<u64>,
}

impl RotatingWriter {
    /// Creates the directory if needed and adopts the files in it that follow this writer's
    /// naming pattern: they count against the caps, and sequence numbers continue after the
    /// highest. No file is created before the first packet.
    pub fn open(config: RotateConfig) -> Result<Self, WriteError> {
        config.validate()?;
        fs::create_dir_all(&config.dir)?;
        let mut kept = VecDeque::new();
        let mut kept_bytes = 0;
        let mut next_seq = 1;
        for (seq, path) in list_with_seq(&config.dir, &config.prefix)? {
            let bytes = match fs::metadata(&path) {
                Ok(m) => m.len(),
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            };
            kept_bytes += bytes;
            next_seq = next_seq.max(seq.saturating_add(1));
            kept.push_back(Kept { path, bytes });
        }
        Ok(RotatingWriter {
            snaplen: effective_snaplen(config.snaplen),
            config,
            kept,
            kept_bytes,
            next_seq,
            current: None,
            stats: RotateStats::default(),
            #[cfg(test)]
            file_capacity: None,
        })
    }

    /// Writes one packet, first finishing the current file and starting a new one if a limit
    /// or a link type change says so, then deletes the oldest files beyond the caps. An error
    /// is counted; after an I/O error the packet is not written and the next write starts a
    /// new file.
    pub fn write(
        &mut self,
        ts: Timestamp,
        linktype: LinkType,
        data: &[u8],
        wire_len: u32,
    ) -> Result<(), WriteError> {
        let result = self.write_inner(ts, linktype, data, wire_len);
        if result.is_err() {
            self.stats.write_errors += 1;
        }
        result
    }

    fn write_inner(
        &mut self,
        ts: Timestamp,
        linktype: LinkType,
        data: &[u8],
        wire_len: u32,
    ) -> Result<(), WriteError> {
        if self
            .current
            .as_ref()
            .is_some_and(|cur| self.must_rotate(cur, ts, linktype, data.len()))
        {
            self.close_current()?;
        }
        let cur = match self.current.take() {
            Some(cur) => cur,
            None => self.create_file(ts)?,
        };
        let cur = self.current.insert(cur);
        let before = cur.writer.bytes();
        match cur.writer.write(ts, linktype, data, wire_len) {
            Ok(()) => {
                self.stats.packets += 1;
                self.stats.bytes += cur.writer.bytes() - before;
                cur.pending
                    .push_back((cur.writer.bytes(), cur.writer.packets()));
                cur.settle();
            }
            Err(e) => {
                if matches!(e, WriteError::Io(_)) {
                    self.fail_current();
                }
                return Err(e);
            }
        }
        self.enforce_caps();
        Ok(())
    }

    /// Whether the next packet must go to a new file.
    fn must_rotate(&self, cur: &Current, ts: Timestamp, linktype: LinkType, len: usize) -> bool {
        if cur.writer.packets() == 0 {
            return false;
        }
        let too_big = self
            .config
            .max_file_bytes
            .is_some_and(|max| cur.writer.bytes() + pcap_record_len(len, self.snaplen) > max);
        let too_old = self
            .config
            .max_file_secs
            .is_some_and(|secs| ts.since(cur.first_ts) >= secs.saturating_mul(NANOS_PER_SEC));
        too_big || too_old || cur.writer.pcap_linktype() != Some(linktype)
    }

    /// Creates the next file, named after `first_ts`.
    fn create_file(&mut self, first_ts: Timestamp) -> Result<Current, WriteError> {
        let seq = self.next_seq;
        // A failed attempt uses up its number too, so a stray file cannot block the ring.
        self.next_seq += 1;
        let path = self
            .config
            .dir
            .join(file_name(&self.config.prefix, seq, first_ts));
        let file = File::options().write(true).create_new(true).open(&path)?;
        let counting = CountingFile {
            file,
            written: 0,
            #[cfg(test)]
            capacity: self.file_capacity,
        };
        let writer = PacketWriter::new(counting, PcapFormat::Pcap, self.snaplen)?;
        self.stats.files_created += 1;
        Ok(Current {
            path,
            first_ts,
            writer,
            pending: VecDeque::new(),
            durable: (0, 0),
        })
    }

    /// Finishes the current file and keeps it; on an error it is cut back as by a failed write.
    fn close_current(&mut self) -> Result<(), WriteError> {
        let Some(cur) = self.current.as_mut() else {
            return Ok(());
        };
        if let Err(e) = cur.writer.flush() {
            self.fail_current();
            return Err(e.into());
        }
        let Some(cur) = self.current.take() else {
            return Ok(());
        };
        let bytes = cur.writer.bytes();
        // Everything is flushed: a failure past this point loses nothing.
        let result = cur.writer.finish();
        self.keep(cur.path, bytes);
        result.map(drop).map_err(WriteError::from)
    }

    /// Ends the current file after an I/O error: drops what is still buffered, cuts the file
    /// back to its last complete record (or deletes it if none is complete), and takes what
    /// was lost off the statistics.
    fn fail_current(&mut self) {
        let Some(mut cur) = self.current.take() else {
            return;
        };
        cur.settle();
        let (good_bytes, good_packets) = cur.durable;
        self.stats.packets -= cur.writer.packets() - good_packets;
        self.stats.bytes -= cur.writer.bytes() - good_bytes;
        let counting = cur.writer.abandon();
        if good_packets == 0 {
            drop(counting);
            if fs::remove_file(&cur.path).is_err() {
                self.stats.delete_errors += 1;
            }
            return;
        }
        let bytes = match counting.file.set_len(good_bytes) {
            Ok(()) => good_bytes,
            // The cut failed too: count what the operating system took.
            Err(_) => counting.written,
        };
        self.keep(cur.path, bytes);
    }

    fn keep(&mut self, path: PathBuf, bytes: u64) {
        self.kept_bytes += bytes;
        self.kept.push_back(Kept { path, bytes });
    }

    /// Deletes the oldest kept files while the count or the total size is over its cap.
    fn enforce_caps(&mut self) {
        let current_bytes = self.current.as_ref().map_or(0, |c| c.writer.bytes());
        let current_count = usize::from(self.current.is_some());
        loop {
            let count = self.kept.len() + current_count;
            let total = self.kept_bytes + current_bytes;
            let over = self.config.max_files.is_some_and(|max| count > max)
                || self.config.max_total_bytes.is_some_and(|max| total > max);
            if !over {
                return;
            }
            let Some(oldest) = self.kept.pop_front() else {
                return;
            };
            self.kept_bytes -= oldest.bytes;
            match fs::remove_file(&oldest.path) {
                Ok(()) => self.stats.files_deleted += 1,
                // Someone else removed it: it no longer takes space.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(_) => self.stats.delete_errors += 1,
            }
        }
    }

    /// Pushes buffered packets of the current file to disk, so readers see them. An error is
    /// counted and ends the current file (as in [`RotatingWriter::write`]).
    pub fn flush(&mut self) -> Result<(), WriteError> {
        let Some(cur) = self.current.as_mut() else {
            return Ok(());
        };
        match cur.writer.flush() {
            Ok(()) => {
                cur.settle();
                Ok(())
            }
            Err(e) => {
                self.stats.write_errors += 1;
                self.fail_current();
                Err(e.into())
            }
        }
    }

    /// Finishes the current file and returns the statistics.
    pub fn finish(mut self) -> Result<RotateStats, WriteError> {
        if let Err(e) = self.close_current() {
            self.stats.write_errors += 1;
            return Err(e);
        }
        Ok(self.stats)
    }

    /// What the writer has done so far.
    pub fn stats(&self) -> RotateStats {
        self.stats
    }

    /// The file being written, if any.
    pub fn current_file(&self) -> Option<&Path> {
        self.current.as_ref().map(|c| c.path.as_path())
    }

    /// How many files are kept, the current one included.
    pub fn file_count(&self) -> usize {
        self.kept.len() + usize::from(self.current.is_some())
    }

    /// Bytes in all kept files, the current one included (buffered bytes counted).
    pub fn total_bytes(&self) -> u64 {
        self.kept_bytes + self.current.as_ref().map_or(0, |c| c.writer.bytes())
    }
}

/// The files in `dir` that follow the naming pattern of a [`RotatingWriter`] with `prefix`,
/// in sequence order (oldest first).
pub fn list_files(dir: &Path, prefix: &str) -> io::Result<Vec<PathBuf>> {
    Ok(list_with_seq(dir, prefix)?
        .into_iter()
        .map(|(_, p)| p)
        .collect())
}

/// Matching files with their sequence numbers, sorted.
fn list_with_seq(dir: &Path, prefix: &str) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(seq) = name.to_str().and_then(|n| parse_name(prefix, n)) else {
            continue;
        };
        if entry.file_type()?.is_file() {
            files.push((seq, entry.path()));
        }
    }
    files.sort();
    Ok(files)
}

/// `{prefix}-{seq:06}-{YYYYmmddTHHMMSS}Z.pcap` for a file whose first packet is at `ts`.
pub fn file_name(prefix: &str, seq: u64, ts: Timestamp) -> String {
    format!("{prefix}-{seq:06}-{}.pcap", ts.format_utc("%Y%m%dT%H%M%SZ"))
}

/// The sequence number of a file named by [`file_name`] with `prefix`.
fn parse_name(prefix: &str, name: &str) -> Option<u64> {
    let rest = name.strip_prefix(prefix)?.strip_prefix('-')?;
    let (seq, stamp) = rest.split_once('-')?;
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let stamp = stamp.strip_suffix("Z.pcap")?;
    let (date, time) = stamp.split_once('T')?;
    let ok = seq.len() >= 6
        && digits(seq)
        && date.len() == 8
        && digits(date)
        && time.len() == 6
        && digits(time);
    if ok { seq.parse().ok() } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FileSource;

    #[test]
    fn names_carry_the_civil_date() {
        let day = |days: u64| Timestamp::from_secs_nanos(days * 86_400, 0);
        for (days, want) in [
            (0, "x-000001-19700101T000000Z.pcap"),
            (59, "x-000001-19700301T000000Z.pcap"),
            (11_016, "x-000001-20000229T000000Z.pcap"),
            (19_675, "x-000001-20231114T000000Z.pcap"),
        ] {
            assert_eq!(file_name("x", 1, day(days)), want);
        }
        // The latest timestamp (in 2554) still gets its date, no panic.
        assert_eq!(
            file_name("x", 1, Timestamp(u64::MAX)),
            "x-000001-25540721T233433Z.pcap"
        );
        // Day after day, the names sort in time order and parse back.
        let mut prev = String::new();
        for days in 0..200_000 {
            let name = file_name("x", 1, day(days));
            assert!(name > prev, "{name} after {prev}");
            assert_eq!(parse_name("x", &name), Some(1));
            prev = name;
        }
    }

    #[test]
    fn names_carry_sequence_and_utc_time() {
        let ts = Timestamp(1_700_000_000_123_456_789); // 2023-11-14 22:13:20 UTC
        assert_eq!(
            file_name("wirewatch", 7, ts),
            "wirewatch-000007-20231114T221320Z.pcap"
        );
        assert_eq!(
            file_name("x", 1_234_567, Timestamp(0)),
            "x-1234567-19700101T000000Z.pcap"
        );
        assert_eq!(
            parse_name("wirewatch", "wirewatch-000007-20231114T221320Z.pcap"),
            Some(7)
        );
        assert_eq!(
            parse_name("x", "x-1234567-19700101T000000Z.pcap"),
            Some(1_234_567)
        );
        for other in [
            "wirewatch-000007-20231114T221320Z.pcapng",
            "wirewatch-00007-20231114T221320Z.pcap",
            "wirewatch-0000a7-20231114T221320Z.pcap",
            "wirewatch-000007-20231114-221320Z.pcap",
            "wirewatch-000007-2023111T221320Z.pcap",
            "other-000007-20231114T221320Z.pcap",
            "wirewatchx-000007-20231114T221320Z.pcap",
        ] {
            assert_eq!(parse_name("wirewatch", other), None, "{other}");
        }
        // A prefix with a dash does not match the shorter one's files, nor the reverse.
        assert_eq!(
            parse_name("wirewatch", "wirewatch-a-000001-19700101T000000Z.pcap"),
            None
        );
        assert_eq!(
            parse_name("wirewatch-a", "wirewatch-000001-19700101T000000Z.pcap"),
            None
        );
    }

    #[test]
    fn bad_configs_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let with = |f: fn(&mut RotateConfig)| {
            let mut c = RotateConfig::new(dir.path());
            f(&mut c);
            RotatingWriter::open(c)
        };
        let msg = |r: Result<RotatingWriter, WriteError>| match r {
            Err(WriteError::InvalidConfig(m)) => m,
            other => panic!("expected InvalidConfig, got {other:?}"),
        };
        assert!(msg(with(|c| c.prefix = String::new())).contains("prefix"));
        assert!(msg(with(|c| c.prefix = "a/b".into())).contains("\"a/b\""));
        assert!(msg(with(|c| c.max_files = Some(0))).starts_with("max_files"));
        assert!(msg(with(|c| c.max_file_secs = Some(0))).starts_with("max_file_secs"));
        assert!(msg(with(|c| c.max_file_bytes = Some(0))).starts_with("max_file_bytes"));
        assert!(msg(with(|c| c.max_total_bytes = Some(0))).starts_with("max_total_bytes"));
        assert!(with(|_| {}).is_ok());
    }

    /// Reads every frame of a file: (ts, data length).
    fn read_all(path: &Path) -> Vec<(u64, usize)> {
        let mut src = FileSource::open(path).unwrap();
        let mut out = Vec::new();
        while let Some(f) = src.next_frame().unwrap() {
            out.push((f.ts.nanos(), f.data.len()));
        }
        out
    }

    const T0: u64 = 1_700_000_000_000_000_000;

    #[test]
    fn full_disk_cuts_the_file_back_to_its_last_record_and_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = RotatingWriter::open(RotateConfig::new(dir.path())).unwrap();
        // Room for the header and 3 records of 16 + 100 bytes, plus half a record.
        w.file_capacity = Some(24 + 3 * 116 + 58);
        let pkt = [0x11u8; 100];
        // 100 packets fit in the 64 KiB buffer, so the failure surfaces at the flush.
        for i in 0..100 {
            w.write(Timestamp(T0 + i), LinkType::ETHERNET, &pkt, 100)
                .unwrap();
        }
        assert_eq!(w.stats().packets, 100);
        let first = w.current_file().unwrap().to_path_buf();
        assert!(w.flush().is_err());
        assert_eq!(w.current_file(), None);
        let s = w.stats();
        assert_eq!(s.write_errors, 1);
        assert_eq!(s.packets, 3);
        assert_eq!(s.bytes, 24 + 3 * 116);
        assert_eq!(fs::metadata(&first).unwrap().len(), 24 + 3 * 116);
        assert_eq!(
            read_all(&first),
            vec![(T0, 100), (T0 + 1, 100), (T0 + 2, 100)]
        );

        // The writer goes on with a new file (this one has room).
        w.file_capacity = None;
        w.write(Timestamp(T0 + 500), LinkType::ETHERNET, &pkt, 100)
            .unwrap();
        let second = w.current_file().unwrap().to_path_buf();
        assert_ne!(first, second);
        let s = w.finish().unwrap();
        assert_eq!(s.files_created, 2);
        assert_eq!(s.packets, 4);
        assert_eq!(s.bytes, (24 + 3 * 116) + (24 + 116));
        assert_eq!(read_all(&second), vec![(T0 + 500, 100)]);
        assert_eq!(
            list_files(dir.path(), DEFAULT_PREFIX).unwrap(),
            vec![first, second]
        );
    }

    #[test]
    fn a_file_without_a_complete_record_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = RotatingWriter::open(RotateConfig::new(dir.path())).unwrap();
        w.file_capacity = Some(30);
        // Larger than the buffer: written straight through and fails at once.
        let big = vec![1u8; 100_000];
        let err = w
            .write(Timestamp(T0), LinkType::ETHERNET, &big, 100_000)
            .unwrap_err();
        assert!(matches!(err, WriteError::Io(ref e) if e.kind() == io::ErrorKind::StorageFull));
        let s = w.stats();
        assert_eq!(
            (s.files_created, s.packets, s.bytes, s.write_errors),
            (1, 0, 0, 1)
        );
        assert!(list_files(dir.path(), DEFAULT_PREFIX).unwrap().is_empty());
        assert_eq!(w.file_count(), 0);
        assert_eq!(w.total_bytes(), 0);
    }
}
