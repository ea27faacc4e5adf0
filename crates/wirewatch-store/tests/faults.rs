//! Faults: a full queue, a full disk, a writer killed or dropped mid-stream.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rusqlite::Connection;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use wirewatch_store::contract::{FLUSH, TempDir, sample_flow, sample_interval};
use wirewatch_store::{Query, Record, SqliteStore, Store, StoreConfig};

fn flows(batch: u64, n: u64) -> Vec<Record> {
    (0..n)
        .map(|i| {
            Record::Flow(sample_flow(
                batch * n + i,
                "10.0.0.1",
                "192.0.2.1",
                443,
                batch,
            ))
        })
        .collect()
}

fn count_flows(path: &Path) -> i64 {
    let conn = Connection::open(path).unwrap();
    conn.query_row("SELECT count(*) FROM flows", [], |r| r.get(0))
        .unwrap()
}

fn integrity(path: &Path) -> String {
    let conn = Connection::open(path).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_full_queue_drops_and_counts_batches_without_blocking() {
    let dir = TempDir::new("queue");
    let path = dir.path().join("wirewatch.db");
    let store = SqliteStore::open(&StoreConfig {
        queue_capacity: 1,
        ..StoreConfig::new(&path)
    })
    .unwrap();
    // Another connection holds the write lock: the writer waits on it (busy timeout) while
    // the engine keeps submitting.
    let blocker = Connection::open(&path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut accepted = 0u64;
    for b in 0..100 {
        if store.submit(flows(b, 3)) {
            accepted += 1;
        }
    }
    let stats = store.stats();
    assert!(stats.batches_dropped > 0, "{stats:?}");
    assert_eq!(stats.batches_dropped, 100 - accepted);
    assert_eq!(stats.records_dropped, 3 * (100 - accepted));
    assert!(stats.queued >= 1);
    blocker.execute_batch("ROLLBACK").unwrap();
    store.flush(FLUSH).unwrap();
    let stats = store.stats();
    assert_eq!(stats.batches_written, accepted, "{stats:?}");
    assert_eq!(stats.records_written, 3 * accepted);
    assert_eq!(stats.write_errors, 0);
    assert_eq!(stats.queued, 0);
    assert_eq!(store.last_error(), None);
    assert_eq!(store.flows(&Query::default()).unwrap().total, 3 * accepted);
}

#[test]
fn a_full_disk_is_counted_and_writes_resume_when_space_returns() {
    let dir = TempDir::new("enospc");
    let mnt = dir.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let mounted = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            "size=2m",
            "tmpfs",
            mnt.to_str().unwrap(),
        ])
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        wirewatch_testkit::skip(format_args!("cannot mount a 2 MiB tmpfs here (needs root)"));
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _guard = Unmount(&mnt);

    let path = mnt.join("wirewatch.db");
    let store = SqliteStore::open(&StoreConfig::new(&path)).unwrap();
    assert!(store.submit(flows(0, 10)));
    store.flush(FLUSH).unwrap();
    // Fill what is left of the file system.
    let filler = mnt.join("filler");
    {
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        while f.write_all(&chunk).is_ok() {}
        let _ = f.flush();
    }
    // Keep writing until SQLite runs out of space (bounded).
    let mut batch = 1;
    while store.stats().write_errors == 0 && batch < 500 {
        store.submit(flows(batch, 200));
        store.flush(FLUSH).unwrap();
        batch += 1;
    }
    let stats = store.stats();
    assert!(stats.write_errors > 0, "disk never filled: {stats:?}");
    assert!(
        stats.batches_dropped > 0 && stats.records_dropped >= 200,
        "{stats:?}"
    );
    let error = store.last_error().expect("last_error is set");
    eprintln!("full disk after {batch} batches: {stats:?}: {error}");
    assert!(error.contains("database or disk is full"), "{error}");
    assert!(error.contains(path.to_str().unwrap()), "{error}");
    // Submitting still never blocks and never panics.
    assert!(store.submit(flows(batch, 1)));
    store.flush(FLUSH).unwrap();
    // Reads still work.
    let before = store.flows(&Query::default()).unwrap().total;
    assert!(before >= 10);

    std::fs::remove_file(&filler).unwrap();
    let written = store.stats().records_written;
    assert!(store.submit(flows(1000, 5)));
    store.flush(FLUSH).unwrap();
    assert_eq!(store.last_error(), None);
    assert_eq!(store.stats().records_written, written + 5);
    assert_eq!(store.flows(&Query::default()).unwrap().total, before + 5);
    drop(store);
    assert_eq!(integrity(&path), "ok");
}

#[test]
fn dropping_the_store_mid_stream_writes_everything_accepted() {
    let dir = TempDir::new("drop");
    let path = dir.path().join("wirewatch.db");
    let store = SqliteStore::open(&StoreConfig {
        queue_capacity: 8,
        ..StoreConfig::new(&path)
    })
    .unwrap();
    let mut accepted = 0;
    for b in 0..200 {
        let mut batch = flows(b, 50);
        batch.push(Record::Interval(sample_interval(b, b)));
        if store.submit(batch) {
            accepted += 1;
        }
    }
    drop(store);
    assert_eq!(count_flows(&path), accepted * 50);
    assert_eq!(integrity(&path), "ok");
    // The WAL was checkpointed into the file and removed.
    assert!(!dir.path().join("wirewatch.db-wal").exists());
}

/// Reads while the writer writes (WAL): every read sees a consistent snapshot.
#[test]
fn reads_run_while_writing() {
    let dir = TempDir::new("concurrent");
    let path = dir.path().join("wirewatch.db");
    let store = SqliteStore::open(&StoreConfig::new(&path)).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            for b in 0..100 {
                while !store.submit(flows(b, 100)) {
                    std::thread::yield_now();
                }
            }
        });
        for _ in 0..50 {
            let page = store.flows(&Query::default()).unwrap();
            assert_eq!(page.total % 100, 0, "a read saw half a batch");
        }
    });
    store.flush(FLUSH).unwrap();
    assert_eq!(store.flows(&Query::default()).unwrap().total, 10_000);
}

/// Child side of the crash test: writes until killed.
#[test]
fn crash_child() {
    let Ok(path) = std::env::var("WIREWATCH_STORE_CRASH_DB") else {
        return;
    };
    let store = SqliteStore::open(&StoreConfig::new(&path)).unwrap();
    let mut out = std::io::stdout();
    for b in 0..1_000_000 {
        let mut batch = flows(b, 100);
        batch.push(Record::Interval(sample_interval(b, b)));
        while !store.submit(batch.clone()) {
            std::thread::yield_now();
        }
        if b % 10 == 9 {
            store.flush(FLUSH).unwrap();
            writeln!(out, "flushed {}", b + 1).unwrap();
            out.flush().unwrap();
        }
    }
}

#[test]
fn a_writer_killed_mid_stream_leaves_a_sound_database() {
    let dir = TempDir::new("crash");
    let path = dir.path().join("wirewatch.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env("WIREWATCH_STORE_CRASH_DB", &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut flushed = 0;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("flushed ") {
            flushed = n.parse::<i64>().unwrap();
            if flushed >= 30 {
                break;
            }
        }
    }
    assert!(flushed >= 30, "the child stopped early");
    // SIGKILL while it keeps writing.
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(integrity(&path), "ok");
    assert!(count_flows(&path) >= flushed * 100);
    // And the store opens it again and goes on.
    let store = SqliteStore::open(&StoreConfig::new(&path)).unwrap();
    assert!(store.submit(flows(9_999_999, 1)));
    store.flush(Duration::from_secs(30)).unwrap();
    assert_eq!(store.last_error(), None);
}

#[test]
fn the_queue_is_bounded_in_bytes_and_abandon_ends_a_stalled_writer() {
    let dir = TempDir::new("queue-bytes");
    let path = dir.path().join("wirewatch.db");
    let one_batch: u64 = flows(0, 100).iter().map(Record::approx_bytes).sum();
    let store = SqliteStore::open(&StoreConfig {
        queue_bytes: one_batch * 3,
        ..StoreConfig::new(&path)
    })
    .unwrap();
    // Another connection holds the write lock: the writer stalls on the first batch.
    let blocker = Connection::open(&path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let accepted = (0..10).filter(|b| store.submit(flows(*b, 100))).count();
    assert_eq!(
        accepted, 3,
        "three batches' bytes fit, whatever the batch count allows"
    );
    let s = store.stats();
    assert_eq!(s.batches_dropped, 7);
    assert_eq!(s.records_dropped, 700);
    assert_eq!(s.queued_bytes, one_batch * 3);
    // A shutdown that cannot wait: what is queued is dropped, not written.
    store.abandon();
    drop(blocker);
    store.flush(FLUSH).unwrap();
    let s = store.stats();
    assert_eq!(s.queued_bytes, 0);
    // The batch(es) the writer had begun are written once the lock goes; the rest dropped.
    assert_eq!(s.records_dropped + s.records_written, 1000, "{s:?}");
    assert!(s.records_written <= 300, "{s:?}");
    assert!(
        !store.submit(flows(20, 10)),
        "nothing is taken after abandon"
    );
}
