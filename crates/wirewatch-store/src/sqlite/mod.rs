//! The SQLite backend: one writer thread fed by a bounded queue, read-only connections for
//! queries, numbered migrations, retention on packet time.

mod codec;
mod flows;
mod intel;
mod read;
mod schema;
mod transactions;
mod writer;

pub use intel::{CachedIntel, IntelCache};
pub use schema::{create_at_version, migration_count};

use crate::error::StoreError;
use crate::query::{FlowRow, IntervalRow, Page, Query, TalkerRow};
use crate::transactions::TransactionRow;
use crate::{Record, Store, StoreConfig, StoreStats};
use rusqlite::{Connection, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use wirewatch_core::{Alert, FlowRecord};

/// The most memory the SQLite page caches of one store take: the writer's and those of the
/// idle readers kept for reuse (more readers exist only while queries run in parallel).
pub fn page_cache_bytes() -> u64 {
    let kib = schema::WRITER_CACHE_KIB + schema::READER_CACHE_KIB * MAX_IDLE_READERS as i64;
    u64::try_from(kib).unwrap_or(0) * 1024
}

/// Idle read connections kept for reuse; more are opened when queries run in parallel, and
/// closed after use beyond this number.
const MAX_IDLE_READERS: usize = 4;

/// One submission, numbered so that `flush` knows when it has been written.
pub(crate) struct Batch {
    pub(crate) seq: u64,
    pub(crate) records: Vec<Record>,
    /// Estimated memory of `records` (counted in the queue's byte total while queued).
    pub(crate) bytes: u64,
}

/// Sequence numbers of accepted and finished batches.
#[derive(Default)]
struct Progress {
    /// Sequence number of the last batch accepted into the queue.
    submitted: u64,
    /// Sequence number of the last batch the writer finished (written or dropped).
    done: u64,
}

/// State shared by the store handle and its writer thread.
pub(crate) struct Shared {
    pub(crate) path: PathBuf,
    batches_written: AtomicU64,
    records_written: AtomicU64,
    batches_dropped: AtomicU64,
    records_dropped: AtomicU64,
    write_errors: AtomicU64,
    last_error: Mutex<Option<String>>,
    progress: Mutex<Progress>,
    done: Condvar,
    /// Estimated bytes of the batches queued or being written.
    pub(crate) queued_bytes: AtomicU64,
    /// Set by [`Store::abandon`]: the writer drops what is left instead of writing it.
    pub(crate) abandoned: std::sync::atomic::AtomicBool,
}

/// Locks a mutex whatever a panicking holder left behind (our critical sections only assign
/// plain values, so the data stays consistent).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn new(path: PathBuf) -> Self {
        Shared {
            path,
            batches_written: AtomicU64::new(0),
            records_written: AtomicU64::new(0),
            batches_dropped: AtomicU64::new(0),
            records_dropped: AtomicU64::new(0),
            write_errors: AtomicU64::new(0),
            last_error: Mutex::new(None),
            progress: Mutex::new(Progress::default()),
            done: Condvar::new(),
            queued_bytes: AtomicU64::new(0),
            abandoned: std::sync::atomic::AtomicBool::new(false),
        }
    }

    pub(crate) fn written(&self, batches: u64, records: u64) {
        self.batches_written.fetch_add(batches, Ordering::Relaxed);
        self.records_written.fetch_add(records, Ordering::Relaxed);
        *lock(&self.last_error) = None;
    }

    pub(crate) fn failed(&self, batches: u64, records: u64, message: String) {
        self.dropped(batches, records);
        self.write_errors.fetch_add(1, Ordering::Relaxed);
        *lock(&self.last_error) = Some(message);
    }

    pub(crate) fn retention_failed(&self, message: String) {
        self.write_errors.fetch_add(1, Ordering::Relaxed);
        *lock(&self.last_error) = Some(message);
    }

    pub(crate) fn dropped(&self, batches: u64, records: u64) {
        self.batches_dropped.fetch_add(batches, Ordering::Relaxed);
        self.records_dropped.fetch_add(records, Ordering::Relaxed);
    }

    pub(crate) fn mark_done(&self, seq: u64) {
        let mut p = lock(&self.progress);
        p.done = p.done.max(seq);
        drop(p);
        self.done.notify_all();
    }
}

/// The SQLite store. Dropping it writes everything still queued, then stops the writer.
pub struct SqliteStore {
    shared: Arc<Shared>,
    tx: Option<SyncSender<Batch>>,
    writer: Option<JoinHandle<()>>,
    readers: Mutex<Vec<Connection>>,
    retention: crate::RetentionConfig,
    /// Cap on `Shared::queued_bytes`.
    queue_bytes: u64,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `config.path`, migrates it to the current
    /// schema and starts the writer thread.
    pub fn open(config: &StoreConfig) -> Result<SqliteStore, StoreError> {
        let path = config.path.clone();
        let conn = schema::open_writer(&path, migration_count())?;
        // Open one reader now, so that a database readers cannot open fails here.
        let reader = schema::open_reader(&path)?;
        let shared = Arc::new(Shared::new(path.clone()));
        let (tx, rx) = sync_channel(config.queue_capacity.max(1));
        let writer = writer::Writer::new(
            conn,
            Arc::clone(&shared),
            config.retention.clone(),
            config.retention_clock,
        );
        let handle = std::thread::Builder::new()
            .name("wirewatch-store".to_string())
            .spawn(move || writer.run(rx))
            .map_err(|e| StoreError::Open {
                path: path.clone(),
                message: format!("cannot start the writer thread: {e}"),
            })?;
        Ok(SqliteStore {
            shared,
            tx: Some(tx),
            writer: Some(handle),
            readers: Mutex::new(vec![reader]),
            retention: config.retention.clone(),
            queue_bytes: config.queue_bytes.max(1),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// Runs `f` in a read transaction on a pooled read-only connection (one consistent
    /// snapshot for the count and the page).
    fn read<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = lock(&self.readers).pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => schema::open_reader(&self.shared.path)?,
        };
        let result = match conn.transaction_with_behavior(TransactionBehavior::Deferred) {
            Ok(tx) => {
                let r = f(&tx);
                // A read transaction has nothing to commit; ending it releases the snapshot.
                let _ = tx.rollback();
                r
            }
            Err(e) => Err(schema::sqlite_error(&self.shared.path, &e)),
        };
        let mut idle = lock(&self.readers);
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
        result
    }
}

impl Store for SqliteStore {
    fn submit(&self, records: Vec<Record>) -> bool {
        if records.is_empty() {
            return true;
        }
        let n = records.len() as u64;
        let Some(tx) = &self.tx else {
            self.shared.dropped(1, n);
            return false;
        };
        let bytes: u64 = records.iter().map(Record::approx_bytes).sum();
        // The lock makes sequence numbers follow queue order (try_send never blocks).
        let mut progress = lock(&self.shared.progress);
        let queued_bytes = self.shared.queued_bytes.load(Ordering::Relaxed);
        // An empty queue takes any batch (one batch is bounded by its producer); otherwise
        // the batch must fit under the byte cap.
        let fits = progress.submitted == progress.done
            || queued_bytes.saturating_add(bytes) <= self.queue_bytes;
        if !fits || self.shared.abandoned.load(Ordering::Relaxed) {
            drop(progress);
            self.shared.dropped(1, n);
            return false;
        }
        let seq = progress.submitted + 1;
        self.shared.queued_bytes.fetch_add(bytes, Ordering::Relaxed);
        match tx.try_send(Batch {
            seq,
            records,
            bytes,
        }) {
            Ok(()) => {
                progress.submitted = seq;
                true
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                drop(progress);
                self.shared.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
                self.shared.dropped(1, n);
                false
            }
        }
    }

    fn flush(&self, timeout: Duration) -> Result<(), StoreError> {
        let start = Instant::now();
        let progress = lock(&self.shared.progress);
        let target = progress.submitted;
        let (progress, _) = self
            .shared
            .done
            .wait_timeout_while(progress, timeout, |p| p.done < target)
            .unwrap_or_else(PoisonError::into_inner);
        if progress.done >= target {
            Ok(())
        } else {
            Err(StoreError::Timeout {
                waited: start.elapsed(),
                pending: progress.submitted - progress.done,
            })
        }
    }

    fn stats(&self) -> StoreStats {
        let queued = {
            let p = lock(&self.shared.progress);
            p.submitted - p.done
        };
        let s = &self.shared;
        StoreStats {
            batches_written: s.batches_written.load(Ordering::Relaxed),
            records_written: s.records_written.load(Ordering::Relaxed),
            batches_dropped: s.batches_dropped.load(Ordering::Relaxed),
            records_dropped: s.records_dropped.load(Ordering::Relaxed),
            write_errors: s.write_errors.load(Ordering::Relaxed),
            queued,
            queued_bytes: s.queued_bytes.load(Ordering::Relaxed),
        }
    }

    fn abandon(&self) {
        self.shared.abandoned.store(true, Ordering::Relaxed);
    }

    fn last_error(&self) -> Option<String> {
        lock(&self.shared.last_error).clone()
    }

    fn intervals(&self, q: &Query) -> Result<Page<IntervalRow>, StoreError> {
        let path = &self.shared.path;
        self.read(|tx| read::intervals(tx, path, q, &self.retention))
    }

    fn talkers(&self, q: &Query) -> Result<Page<TalkerRow>, StoreError> {
        let path = &self.shared.path;
        self.read(|tx| read::talkers(tx, path, q))
    }

    fn flows(&self, q: &Query) -> Result<Page<FlowRow>, StoreError> {
        let path = &self.shared.path;
        self.read(|tx| flows::flows(tx, path, q))
    }

    fn alerts(&self, q: &Query) -> Result<Page<Alert>, StoreError> {
        let path = &self.shared.path;
        self.read(|tx| read::alerts(tx, path, q))
    }

    fn transactions(&self, q: &Query) -> Result<Page<TransactionRow>, StoreError> {
        let path = &self.shared.path;
        self.read(|tx| transactions::transactions(tx, path, q))
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // Readers first: the writer, closing last, then checkpoints the WAL into the main
        // file and removes it, so the file alone holds everything.
        lock(&self.readers).clear();
        // Closing the queue lets the writer drain what is left and return.
        drop(self.tx.take());
        if let Some(handle) = self.writer.take() {
            let _ = handle.join();
        }
    }
}

/// Rows per transaction of [`bulk_insert_flows`].
const BULK_CHUNK: usize = 100_000;

/// Inserts flows straight into the database at `path` (created and migrated if needed),
/// bypassing the queue, in large transactions: for benchmarks and tests that need millions
/// of rows. Returns the number inserted. Do not run it while a store on the same file writes
/// heavily (both need the write lock).
#[doc(hidden)]
pub fn bulk_insert_flows(
    path: &Path,
    flows: impl IntoIterator<Item = FlowRecord>,
) -> Result<u64, StoreError> {
    let mut conn = schema::open_writer(path, migration_count())?;
    let err = |e: rusqlite::Error| schema::sqlite_error(path, &e);
    // Bulk loading: a crash loses the load anyway, so skip the syncs; a large page cache for
    // index inserts (into a non-empty table) and index builds.
    conn.execute_batch("PRAGMA synchronous = OFF; PRAGMA cache_size = -2000000;")
        .map_err(err)?;
    // Into an empty table, build the indexes after the load: one sort per index instead of
    // millions of random B-tree inserts (several times faster).
    let empty: bool = conn
        .query_row("SELECT NOT EXISTS (SELECT 1 FROM flows)", [], |r| r.get(0))
        .map_err(err)?;
    let mut indexes: Vec<(String, String)> = Vec::new();
    if empty {
        let mut stmt = conn
            .prepare(
                "SELECT name, sql FROM sqlite_schema
                 WHERE type = 'index' AND tbl_name = 'flows' AND sql IS NOT NULL",
            )
            .map_err(err)?;
        indexes = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect())
            .map_err(err)?;
        drop(stmt);
        for (name, _) in &indexes {
            conn.execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))
                .map_err(err)?;
        }
    }
    let loaded = load_flows(&mut conn, flows);
    // Rebuild the indexes even when the load failed, so the file stays usable.
    for (_, sql) in &indexes {
        conn.execute_batch(sql).map_err(err)?;
    }
    let inserted = loaded.map_err(err)?;
    conn.execute_batch("PRAGMA analysis_limit = 1000; PRAGMA optimize;")
        .map_err(err)?;
    Ok(inserted)
}

fn load_flows(
    conn: &mut Connection,
    flows: impl IntoIterator<Item = FlowRecord>,
) -> rusqlite::Result<u64> {
    let mut iter = flows.into_iter().peekable();
    let mut inserted = 0u64;
    let mut max_duration = 0i64;
    while iter.peek().is_some() {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut stmt = tx.prepare_cached(writer::INSERT_FLOW)?;
            for flow in iter.by_ref().take(BULK_CHUNK) {
                writer::insert_flow(&mut stmt, &flow)?;
                max_duration = max_duration.max(codec::i64_of(flow.last_ts.since(flow.first_ts)));
                inserted += 1;
            }
        }
        tx.prepare_cached(writer::UPDATE_MAX_FLOW_DURATION)?
            .execute([max_duration])?;
        tx.commit()?;
    }
    Ok(inserted)
}

/// Bytes of database pages in use (the file may be larger by its free pages and WAL).
#[doc(hidden)]
pub fn live_bytes(path: &Path) -> Result<i64, StoreError> {
    let conn = schema::open_reader(path)?;
    writer::live_bytes(&conn).map_err(|e| schema::sqlite_error(path, &e))
}
