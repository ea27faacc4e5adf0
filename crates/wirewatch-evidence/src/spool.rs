//! The writer thread: evidence captures and rotating capture files are written here, so the
//! engine never waits for the disk while monitoring.
//!
//! The engine sends jobs over a bounded queue. Live monitoring never blocks: a full queue drops
//! the job and counts it. Offline analysis waits for room, so everything analysed is written.

use super::batch::PacketBatch;
use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use wirewatch_capture::write::{
    PacketWriter, PcapFormat, RotateConfig, RotateStats, RotatingWriter, WriteError,
};

/// Jobs the queue holds; with batches of at most 1 MiB this bounds its memory to 64 MiB.
pub const SPOOL_QUEUE: usize = 64;

/// Snapshot length written in evidence file headers (the largest a capture keeps).
const SNAPLEN: u32 = 262_144;

/// Where a batch goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The evidence capture of this alert.
    Evidence(u64),
    /// The capture files of every packet: the rotating ones and the single file.
    Rotating,
}

/// Files that get every recorded packet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaptureFiles {
    /// Rotating capture files in a directory (`run --write-pcap DIR`).
    pub rotating: Option<RotateConfig>,
    /// One file, pcap or pcapng (`run -w FILE`), never cut or rotated.
    pub single: Option<(PathBuf, PcapFormat)>,
}

impl CaptureFiles {
    /// Whether any file gets the packets.
    pub fn any(&self) -> bool {
        self.rotating.is_some() || self.single.is_some()
    }
}

/// The single capture file: its path (for messages) and its writer, gone after a write error.
type SingleFile = (PathBuf, Option<PacketWriter<File>>);

/// What the writer thread does.
#[derive(Debug)]
pub enum Job {
    /// Start the evidence capture of an alert in `file` (created by the engine thread, so a
    /// file that cannot be created is known when the alert is).
    Open {
        /// The alert.
        id: u64,
        /// The file's path (for messages).
        path: PathBuf,
        /// The file, just created.
        file: File,
    },
    /// Write packets.
    Write(Target, PacketBatch),
    /// Finish an alert's evidence capture.
    Close(u64),
    /// Push everything written so far to the files, so they can be read while still open.
    Flush,
}

/// Counters of the writer thread.
#[derive(Debug, Default)]
pub struct SpoolCounters {
    /// Evidence files created.
    pub evidence_files: AtomicU64,
    /// Packets written to evidence files.
    pub evidence_packets: AtomicU64,
    /// Old evidence files deleted to stay under the total cap.
    pub evidence_deleted: AtomicU64,
    /// Packets written to the rotating files.
    pub rotating_packets: AtomicU64,
    /// Rotating files created.
    pub rotating_files: AtomicU64,
    /// Rotating files deleted (count or total cap).
    pub rotating_deleted: AtomicU64,
    /// Write errors (disk full, permissions, ...).
    pub write_errors: AtomicU64,
    /// Jobs dropped because the queue was full (live monitoring only).
    pub queue_drops: AtomicU64,
    /// The last write error.
    pub last_error: Mutex<Option<String>>,
    /// Evidence captures that failed (alert id, why) and the recorder has not taken yet.
    pub failures: Mutex<Vec<(u64, String)>>,
}

/// At most this many failed captures wait for the recorder (it takes them every interval).
const MAX_PENDING_FAILURES: usize = 1024;

impl SpoolCounters {
    fn error(&self, message: String) {
        self.write_errors.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut e) = self.last_error.lock() {
            *e = Some(message);
        }
    }

    /// An alert's evidence capture failed: counted, and handed to the recorder, which marks
    /// the alert's capture incomplete and says so.
    pub fn fail(&self, id: u64, message: String) {
        self.error(message.clone());
        if let Ok(mut f) = self.failures.lock()
            && f.len() < MAX_PENDING_FAILURES
        {
            f.push((id, message));
        }
    }
}

/// Where evidence files go and how much of them is kept.
#[derive(Debug, Clone)]
pub struct EvidenceDir {
    /// The directory.
    pub dir: PathBuf,
    /// The most bytes all evidence files together may take; the oldest go first.
    pub max_total_bytes: u64,
    /// The most one evidence file may take (room reserved before a new one starts).
    pub max_file_bytes: u64,
}

/// The writer thread and its queue.
pub struct Spool {
    tx: Option<SyncSender<Job>>,
    handle: Option<JoinHandle<()>>,
    blocking: bool,
    counters: Arc<SpoolCounters>,
}

impl Spool {
    /// Starts the writer thread. `blocking`: senders wait for room instead of dropping.
    pub fn start(
        evidence: Option<EvidenceDir>,
        files: CaptureFiles,
        blocking: bool,
    ) -> Result<Spool, crate::EvidenceError> {
        use crate::EvidenceError;
        if let Some(e) = &evidence {
            std::fs::create_dir_all(&e.dir).map_err(|source| EvidenceError::CreateDir {
                dir: e.dir.clone(),
                source,
            })?;
        }
        // Created now, so a path that cannot be written stops the run before it captures.
        let single = match files.single {
            Some((path, format)) => {
                let fail = |source| EvidenceError::CaptureFile {
                    path: path.clone(),
                    source,
                };
                let file = File::create(&path).map_err(fail)?;
                Some((
                    path.clone(),
                    Some(PacketWriter::new(file, format, SNAPLEN).map_err(fail)?),
                ))
            }
            None => None,
        };
        let rotating = match files.rotating {
            Some(config) => {
                let dir = config.dir.clone();
                Some(
                    RotatingWriter::open(config)
                        .map_err(|source| EvidenceError::CaptureFiles { dir, source })?,
                )
            }
            None => None,
        };
        let counters = Arc::new(SpoolCounters::default());
        let (tx, rx) = sync_channel(SPOOL_QUEUE);
        let c = counters.clone();
        let handle = std::thread::Builder::new()
            .name("pcap-writer".into())
            .spawn(move || writer_loop(&rx, evidence, rotating, single, &c))
            .map_err(EvidenceError::Thread)?;
        Ok(Spool {
            tx: Some(tx),
            handle: Some(handle),
            blocking,
            counters,
        })
    }

    /// Queues a job; returns false when it was dropped (queue full in live mode).
    pub fn send(&self, job: Job) -> bool {
        let Some(tx) = &self.tx else {
            return false;
        };
        if self.blocking {
            return tx.send(job).is_ok();
        }
        match tx.try_send(job) {
            Ok(()) => true,
            Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => {
                self.counters.queue_drops.fetch_add(1, Ordering::Relaxed);
                let id = match job {
                    Job::Open { id, .. } | Job::Close(id) => Some(id),
                    Job::Write(Target::Evidence(id), _) => Some(id),
                    Job::Write(Target::Rotating, _) | Job::Flush => None,
                };
                if let Some(id) = id {
                    self.counters.fail(
                        id,
                        format!("packets of alert {id} were left out: the disk writer fell behind"),
                    );
                }
                false
            }
        }
    }

    /// The counters (shared with the writer thread).
    pub fn counters(&self) -> &Arc<SpoolCounters> {
        &self.counters
    }

    /// Writes everything queued, closes every file and stops the thread.
    pub fn finish(&mut self) {
        self.tx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        self.finish();
    }
}

type EvidenceWriter = PacketWriter<BufWriter<File>>;

fn writer_loop(
    rx: &Receiver<Job>,
    evidence: Option<EvidenceDir>,
    mut rotating: Option<RotatingWriter>,
    mut single: Option<SingleFile>,
    counters: &SpoolCounters,
) {
    let mut open: HashMap<u64, (PathBuf, EvidenceWriter)> = HashMap::new();
    while let Ok(job) = rx.recv() {
        match job {
            Job::Open { id, path, file } => {
                if let Some(e) = &evidence {
                    make_room(e, counters);
                }
                match PacketWriter::new(BufWriter::new(file), PcapFormat::Pcap, SNAPLEN) {
                    Ok(w) => {
                        counters.evidence_files.fetch_add(1, Ordering::Relaxed);
                        open.insert(id, (path, w));
                    }
                    Err(e) => counters.fail(id, format!("cannot write {}: {e}", path.display())),
                }
            }
            Job::Write(Target::Evidence(id), batch) => {
                let Some((path, w)) = open.get_mut(&id) else {
                    continue;
                };
                let mut failed = None;
                for (entry, data) in batch.iter() {
                    match w.write(entry.ts, entry.linktype, data, entry.wire_len) {
                        Ok(()) => {
                            counters.evidence_packets.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            failed = Some(format!("writing {} failed: {e}", path.display()));
                            break;
                        }
                    }
                }
                if let Some(message) = failed {
                    // A cut file (a full disk): no more writes to it; the alert says so.
                    open.remove(&id);
                    counters.fail(id, message);
                }
            }
            Job::Write(Target::Rotating, batch) => {
                if let Some(one) = &mut single {
                    write_single(one, &batch, counters);
                }
                let Some(w) = &mut rotating else {
                    continue;
                };
                for (entry, data) in batch.iter() {
                    if let Err(e) = w.write(entry.ts, entry.linktype, data, entry.wire_len) {
                        counters.error(format!("capture files: {e}"));
                    }
                }
                publish_rotating(w.stats(), counters);
            }
            Job::Flush => {
                // A file that cannot be flushed is cut: closed, and its alert told.
                open.retain(|id, (path, w)| match w.flush() {
                    Ok(()) => true,
                    Err(e) => {
                        counters.fail(*id, format!("writing {} failed: {e}", path.display()));
                        false
                    }
                });
                if let Some(w) = &mut rotating
                    && let Err(e) = w.flush()
                {
                    counters.error(format!("capture files: {e}"));
                }
                if let Some((path, Some(w))) = &mut single
                    && let Err(e) = w.flush()
                {
                    counters.error(format!("writing {} failed: {e}", path.display()));
                }
            }
            Job::Close(id) => {
                if let Some((path, w)) = open.remove(&id)
                    && let Err(e) = w.finish()
                {
                    counters.fail(id, format!("writing {} failed: {e}", path.display()));
                }
            }
        }
    }
    for (id, (path, w)) in open {
        if let Err(e) = w.finish() {
            counters.fail(id, format!("writing {} failed: {e}", path.display()));
        }
    }
    if let Some((path, Some(w))) = single
        && let Err(e) = w.finish()
    {
        counters.error(format!("writing {} failed: {e}", path.display()));
    }
    if let Some(w) = rotating {
        // The counts before closing, then the final ones (closing may write or delete).
        publish_rotating(w.stats(), counters);
        match w.finish() {
            Ok(s) => publish_rotating(s, counters),
            Err(e) => counters.error(format!("capture files: {e}")),
        }
    }
}

/// Writes a batch to the single capture file. A packet of another link type than a pcap file's
/// is left out (counted as an error); an I/O error (a full disk) ends the file where it is.
fn write_single(one: &mut SingleFile, batch: &PacketBatch, counters: &SpoolCounters) {
    let (path, writer) = one;
    let Some(w) = writer else {
        return;
    };
    for (entry, data) in batch.iter() {
        match w.write(entry.ts, entry.linktype, data, entry.wire_len) {
            Ok(()) => {}
            Err(e @ WriteError::Io(_)) => {
                counters.error(format!("writing {} failed: {e}", path.display()));
                *writer = None;
                return;
            }
            Err(e) => counters.error(format!("{}: {e}", path.display())),
        }
    }
}

fn publish_rotating(s: RotateStats, counters: &SpoolCounters) {
    counters
        .rotating_packets
        .store(s.packets, Ordering::Relaxed);
    counters
        .rotating_files
        .store(s.files_created, Ordering::Relaxed);
    counters
        .rotating_deleted
        .store(s.files_deleted, Ordering::Relaxed);
}

/// Deletes the oldest evidence files (lowest alert id) until a new file of the largest size
/// fits under the total cap.
fn make_room(e: &EvidenceDir, counters: &SpoolCounters) {
    let mut files = evidence_files(&e.dir);
    let mut total: u64 = files.iter().map(|(_, _, size)| size).sum();
    let budget = e.max_total_bytes.saturating_sub(e.max_file_bytes);
    files.sort_by_key(|(id, _, _)| *id);
    for (_, path, size) in files {
        if total <= budget {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total = total.saturating_sub(size);
            counters.evidence_deleted.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The evidence files in `dir`: alert id, path, size.
pub fn evidence_files(dir: &Path) -> Vec<(u64, PathBuf, u64)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name();
            let id = alert_id_of(name.to_str()?)?;
            let size = entry.metadata().ok()?.len();
            Some((id, entry.path(), size))
        })
        .collect()
}

/// The file name of an alert's evidence capture.
pub fn evidence_file_name(id: u64) -> String {
    format!("alert-{id}.pcap")
}

fn alert_id_of(name: &str) -> Option<u64> {
    name.strip_prefix("alert-")?
        .strip_suffix(".pcap")?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(alert_id_of(&evidence_file_name(42)), Some(42));
        assert_eq!(alert_id_of("alert-x.pcap"), None);
        assert_eq!(alert_id_of("wirewatch-000001.pcap"), None);
    }

    #[test]
    fn oldest_evidence_goes_first_to_stay_under_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        for id in [3u64, 1, 2] {
            std::fs::write(dir.path().join(evidence_file_name(id)), vec![0u8; 1000]).unwrap();
        }
        std::fs::write(dir.path().join("notes.txt"), vec![0u8; 5000]).unwrap();
        let counters = SpoolCounters::default();
        make_room(
            &EvidenceDir {
                dir: dir.path().to_path_buf(),
                max_total_bytes: 2500,
                max_file_bytes: 500,
            },
            &counters,
        );
        let mut left: Vec<u64> = evidence_files(dir.path()).iter().map(|f| f.0).collect();
        left.sort_unstable();
        assert_eq!(left, vec![2, 3]);
        assert_eq!(counters.evidence_deleted.load(Ordering::Relaxed), 1);
        assert!(dir.path().join("notes.txt").exists());
    }
}
