//! The history database as an output: opening it (as its only writer), and queueing what
//! the engine produces for it.
//!
//! Records (intervals, flows, alerts and application transactions) are gathered per interval
//! and handed to the store in one batch when the interval closes; a flood of flows or
//! transactions (a DNS tunnel makes thousands a second) is sent in batches of
//! [`MAX_PENDING`] before that. Live monitoring never waits for the disk (a full queue drops the batch, counted by
//! the store); offline analysis waits, so everything analysed is stored.

use crate::pipeline::Sink;
use anyhow::Context;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use wirewatch_core::{Alert, FlowRecord, IncidentStatus, IntervalMetrics, Transaction};
use wirewatch_store::{Record, RetentionClock, SqliteStore, Store, StoreConfig};

/// Writer locks taken by this process, held until it exits (one database per run).
static WRITER_LOCKS: std::sync::Mutex<Vec<std::fs::File>> = std::sync::Mutex::new(Vec::new());

/// The lock file that marks a database's writer: `<database>.lock`.
pub fn writer_lock_path(db: &Path) -> std::path::PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    std::path::PathBuf::from(name)
}

/// Takes the database's writer lock (an advisory lock on `<database>.lock`, released when the
/// process ends, also on a crash), so that two monitors never write one file; readers
/// (`wirewatch export`, another process's dashboard) take no lock.
fn lock_writer(db: &Path) -> anyhow::Result<()> {
    let lock_path = writer_lock_path(db);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot create the lock file {}", lock_path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another wirewatch is writing to the database {} (it holds {}): stop it first, or \
             give this run its own --db; reading the database (`wirewatch export`) works meanwhile",
            db.display(),
            lock_path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("cannot lock {}", lock_path.display()));
        }
    }
    if let Ok(mut held) = WRITER_LOCKS.lock() {
        held.push(file);
    }
    Ok(())
}

/// Opens (creating if needed) the SQLite history database, as its only writer. Retention
/// measures back from `clock`: the wall clock for live capture, the packet time of what is
/// written for files.
pub fn open_store(
    path: &Path,
    config: &crate::config::Config,
    clock: RetentionClock,
) -> anyhow::Result<Arc<dyn Store>> {
    lock_writer(path)?;
    let store = SqliteStore::open(&StoreConfig {
        retention: config.retention.clone(),
        retention_clock: clock,
        ..StoreConfig::new(path)
    })
    .with_context(|| format!("cannot open the database {}", path.display()))?;
    Ok(Arc::new(store))
}

/// A batch waits at most this long for room in the queue in blocking mode before it is
/// dropped (and counted), so a broken disk cannot hang an analysis forever.
const BLOCKING_WAIT: Duration = Duration::from_secs(60);

/// In blocking mode, batches allowed to wait in the store's queue (well under its capacity).
const BLOCKING_QUEUE: u64 = 16;

/// In blocking mode, bytes allowed to wait in the store's queue (well under its byte cap).
const BLOCKING_QUEUE_BYTES: u64 = wirewatch_store::DEFAULT_QUEUE_BYTES / 4;

/// Records buffered before a batch is sent even though no interval closed (a long interval
/// with a flood of short flows or of DNS transactions must not grow the buffer without
/// limit); the store's queue bounds the bytes of what is sent.
const MAX_PENDING: usize = 10_000;

/// Queues the engine's records for `store`, a batch per closed interval.
pub struct StoreOutput {
    store: Option<Arc<dyn Store>>,
    pending: Vec<Record>,
    blocking: bool,
    /// Set when the run is stopping and can no longer wait for the disk (blocking ends).
    impatient: Option<Arc<std::sync::atomic::AtomicBool>>,
}

impl StoreOutput {
    /// An output into `store` (none: nothing is kept). `blocking` waits for room in the
    /// queue.
    pub fn new(store: Option<Arc<dyn Store>>, blocking: bool) -> Self {
        StoreOutput {
            store,
            pending: Vec::new(),
            blocking,
            impatient: None,
        }
    }

    /// Stops waiting for room in the queue once `flag` is set (a run told to stop): the
    /// batches that do not fit are then dropped and counted, so a shutdown never waits on a
    /// slow disk.
    pub fn impatient_when(mut self, flag: Arc<std::sync::atomic::AtomicBool>) -> Self {
        self.impatient = Some(flag);
        self
    }

    fn waits(&self) -> bool {
        self.blocking
            && self
                .impatient
                .as_ref()
                .is_none_or(|f| !f.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// The store, if any.
    pub fn store(&self) -> Option<&Arc<dyn Store>> {
        self.store.as_ref()
    }

    /// Sends what is pending.
    pub fn submit(&mut self) {
        let Some(store) = &self.store else {
            self.pending.clear();
            return;
        };
        if self.pending.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.pending);
        if self.waits() {
            // Wait for room: this output is the store's only producer, so once fewer than
            // `BLOCKING_QUEUE` batches (and bytes) are waiting the submit below cannot find
            // it full.
            let start = std::time::Instant::now();
            loop {
                let s = store.stats();
                let full = s.queued >= BLOCKING_QUEUE || s.queued_bytes >= BLOCKING_QUEUE_BYTES;
                if !full || start.elapsed() >= BLOCKING_WAIT || !self.waits() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        store.submit(batch);
    }

    fn push(&mut self, record: Record) {
        if self.store.is_some() {
            self.pending.push(record);
            if self.pending.len() >= MAX_PENDING {
                self.submit();
            }
        }
    }
}

impl Sink for StoreOutput {
    fn interval(&mut self, metrics: &IntervalMetrics) {
        self.push(Record::Interval(metrics.clone()));
        self.submit();
    }

    fn flow(&mut self, record: &FlowRecord) {
        self.push(Record::Flow(record.clone()));
    }

    fn alert(&mut self, alert: &Alert, _status: IncidentStatus) {
        self.push(Record::Alert(alert.clone()));
    }

    fn transaction(&mut self, transaction: &Transaction) {
        self.push(Record::Transaction(transaction.clone()));
    }

    fn persist(&mut self) {
        // No interval may close before exit (`run --stay`): store what is pending now.
        self.submit();
    }

    fn finish(&mut self) {
        self.submit();
    }
}
