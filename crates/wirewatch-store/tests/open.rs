//! Opening files: new, older schema (migrated), newer schema, and every bad input refused
//! with a clear message and the file left unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rusqlite::Connection;
use std::path::Path;
use std::process::Command;
use wirewatch_store::contract::{FLUSH, T0, TempDir, sample_interval, sample_transaction};
use wirewatch_store::{
    Query, Record, Resolution, SqliteStore, Store, StoreConfig, StoreError, create_at_version,
    migration_count,
};

fn open(path: &Path) -> Result<SqliteStore, StoreError> {
    SqliteStore::open(&StoreConfig::new(path))
}

fn open_err(path: &Path) -> StoreError {
    match open(path) {
        Ok(_) => panic!("{} opened", path.display()),
        Err(e) => e,
    }
}

/// Runs `mount`; false when this machine does not let us (not root, no tmpfs, sandbox).
fn mount(args: &[&str]) -> bool {
    Command::new("mount")
        .args(args)
        .status()
        .is_ok_and(|s| s.success())
}

/// Unmounts a tmpfs mounted by a test, even when the test fails.
struct Mounted<'a>(&'a Path);

impl Drop for Mounted<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0).status();
    }
}

#[test]
fn new_database_is_created_and_reopened_with_its_data() {
    let dir = TempDir::new("new");
    let path = dir.path().join("wirewatch.db");
    {
        let store = open(&path).unwrap();
        assert!(store.submit(vec![Record::Interval(sample_interval(0, 1))]));
        store.flush(FLUSH).unwrap();
    }
    let store = open(&path).unwrap();
    let page = store.intervals(&Query::default()).unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.rows[0].packets, 101);
    // An empty file is a new database too.
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let store = open(&empty).unwrap();
    assert_eq!(store.intervals(&Query::default()).unwrap().total, 0);
}

#[test]
fn missing_directory_is_refused() {
    let dir = TempDir::new("missing");
    let path = dir.path().join("no/such/dir/wirewatch.db");
    let e = open_err(&path);
    assert!(matches!(e, StoreError::Open { .. }), "{e:?}");
    let parent = dir.path().join("no/such/dir");
    assert_eq!(
        e.to_string(),
        format!(
            "cannot open the database {}: the directory {} does not exist; create it (mkdir -p \
             {}) or choose another database path",
            path.display(),
            parent.display(),
            parent.display()
        )
    );
    assert!(!parent.exists());
}

#[test]
fn a_directory_as_the_file_is_refused() {
    let dir = TempDir::new("isdir");
    let e = open_err(dir.path());
    assert!(matches!(e, StoreError::Open { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("it is a directory; give the path of a database file, e.g. "),
        "{e}"
    );
}

#[test]
fn a_text_file_is_refused_and_left_unchanged() {
    let dir = TempDir::new("text");
    let path = dir.path().join("notes.txt");
    let text = b"these are my notes, not a database\n".repeat(10);
    std::fs::write(&path, &text).unwrap();
    let e = open_err(&path);
    assert!(matches!(e, StoreError::Corrupt { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "{} is not a usable Wirewatch database (not an SQLite database: the file does not \
             start with the SQLite header); it was left unchanged: move it away or choose \
             another database file",
            path.display()
        )
    );
    assert_eq!(std::fs::read(&path).unwrap(), text);
    // A short file too.
    std::fs::write(&path, b"x").unwrap();
    assert!(matches!(open_err(&path), StoreError::Corrupt { .. }));
    assert_eq!(std::fs::read(&path).unwrap(), b"x");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_corrupt_database_is_refused_and_left_unchanged() {
    let dir = TempDir::new("corrupt");
    let path = dir.path().join("wirewatch.db");
    drop(open(&path).unwrap());
    // Keep the header, scribble over the schema page.
    let mut bytes = std::fs::read(&path).unwrap();
    for b in bytes.iter_mut().skip(100).take(3000) {
        *b = 0xa5;
    }
    std::fs::write(&path, &bytes).unwrap();
    let e = open_err(&path);
    assert!(matches!(e, StoreError::Corrupt { .. }), "{e:?}");
    assert!(e.to_string().contains("it was left unchanged"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn another_programs_database_is_refused_and_left_unchanged() {
    let dir = TempDir::new("foreign");
    let path = dir.path().join("other.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE intervals (x); INSERT INTO intervals VALUES (1);")
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let e = open_err(&path);
    assert!(matches!(e, StoreError::Corrupt { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("it is an SQLite database of another program"),
        "{e}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_newer_schema_is_refused_and_left_unchanged() {
    let dir = TempDir::new("newer");
    let path = dir.path().join("wirewatch.db");
    drop(open(&path).unwrap());
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA user_version = 99; PRAGMA journal_mode = DELETE;")
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let e = open_err(&path);
    match &e {
        StoreError::NewerSchema {
            found, supported, ..
        } => {
            assert_eq!((*found, *supported), (99, migration_count()));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        e.to_string(),
        format!(
            "the database {} has schema version 99, newer than this Wirewatch supports ({}); it \
             was left unchanged: upgrade Wirewatch, or choose another database file",
            path.display(),
            migration_count()
        )
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_version_1_database_is_migrated_with_its_data() {
    let dir = TempDir::new("migrate");
    let path = dir.path().join("wirewatch.db");
    create_at_version(&path, 1).unwrap();
    let m = [
        sample_interval(0, 1),
        sample_interval(1, 2),
        sample_interval(70, 3),
    ];
    {
        let conn = Connection::open(&path).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, 1);
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name IN ('intervals_1m', 'packet_counts')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0);
        for x in &m {
            conn.execute(
                "INSERT INTO intervals VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, \
                 ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, 0)",
                rusqlite::params![
                    x.start_ts.0 as i64,
                    x.duration_ns as i64,
                    x.packets as i64,
                    x.bytes as i64,
                    x.bps,
                    x.pps,
                    x.protocols.tcp as i64,
                    x.protocols.udp as i64,
                    x.protocols.icmp as i64,
                    x.protocols.icmpv6 as i64,
                    x.protocols.other_ip as i64,
                    x.protocols.non_ip as i64,
                    x.tcp_flags.syn as i64,
                    x.tcp_flags.syn_ack as i64,
                    x.tcp_flags.rst as i64,
                    x.tcp_flags.fin as i64,
                    x.distinct_src_ips as i64,
                    x.distinct_dst_ips as i64,
                    x.flows_new as i64,
                    x.flows_active as i64,
                    x.flows_closed as i64,
                    x.flows_live as i64,
                    x.flows_evicted as i64,
                    x.decode_errors as i64,
                    x.drops.kernel as i64,
                    x.drops.interface as i64,
                    x.drops.queue as i64,
                ],
            )
            .unwrap();
        }
    }
    let store = open(&path).unwrap();
    let raw = store
        .intervals(&Query {
            resolution: Resolution::Raw,
            ..Query::default()
        })
        .unwrap();
    // Rows from before version 4 have no application counts.
    assert_eq!(
        raw.rows,
        m.iter()
            .map(|x| wirewatch_store::IntervalRow {
                apps: Vec::new(),
                ..wirewatch_store::IntervalRow::from_metrics(x)
            })
            .collect::<Vec<_>>()
    );
    // The roll-ups were filled from the old rows: T0 is 20 s into its minute, so offsets 0
    // and 1 share a minute and 70 has its own.
    let minutes = store
        .intervals(&Query {
            resolution: Resolution::Minute,
            ..Query::default()
        })
        .unwrap();
    let got: Vec<(u64, u64, f64)> = minutes
        .rows
        .iter()
        .map(|r| (r.intervals, r.packets, r.max_pps))
        .collect();
    assert_eq!(got, vec![(2, 203, 102.0), (1, 103, 103.0)]);
    // New writes keep the roll-ups exact on top of the migrated rows.
    assert!(store.submit(vec![Record::Interval(sample_interval(2, 10))]));
    store.flush(FLUSH).unwrap();
    let hour = store
        .intervals(&Query {
            resolution: Resolution::Hour,
            ..Query::default()
        })
        .unwrap();
    assert_eq!(
        (hour.rows[0].intervals, hour.rows[0].packets),
        (4, 101 + 102 + 103 + 110)
    );
    drop(store);
    let conn = Connection::open(&path).unwrap();
    let (version, views): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT user_version FROM pragma_user_version), \
             (SELECT count(*) FROM sqlite_schema WHERE type = 'view')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((version, views), (migration_count(), 5));
    let total: i64 = conn
        .query_row(
            "SELECT total_packets FROM packet_counts WHERE start_ts = ?1",
            [T0 as i64 * 1_000_000_000],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(total, 101);
}

/// Creates a database at schema `version` holding one flow, written with the columns of
/// version 1 only (as an old Wirewatch would have); returns the connection.
fn old_database_with_a_flow(path: &Path, version: i64) -> Connection {
    create_at_version(path, version).unwrap();
    let conn = Connection::open(path).unwrap();
    let ip = [0u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1];
    conn.execute(
        "INSERT INTO flows (first_ts, last_ts, proto, src_ip, src_port, dst_ip, dst_port, \
         packets_fwd, bytes_fwd, packets_rev, bytes_rev, payload_bytes_fwd, \
         payload_bytes_rev, tcp_flags_fwd, tcp_flags_rev, state, end_reason) \
         VALUES (?1, ?1, 6, ?2, 40000, ?2, 80, 3, 180, 2, 120, 0, 0, 2, 18, 'closed', 'fin')",
        rusqlite::params![T0 as i64 * 1_000_000_000, &ip[..]],
    )
    .unwrap();
    conn
}

fn user_version(path: &Path) -> i64 {
    Connection::open(path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_version_7_database_keeps_its_flows_without_tcp_health() {
    let dir = TempDir::new("migrate7");
    let path = dir.path().join("wirewatch.db");
    drop(old_database_with_a_flow(&path, 7));
    let store = open(&path).unwrap();
    let rows = store.flows(&Query::default()).unwrap().rows;
    assert_eq!(rows.len(), 1);
    let f = &rows[0];
    assert_eq!((f.tcp_rtt_ms, f.tcp_retransmissions), (None, None));
    assert_eq!(
        (f.tcp_out_of_order, f.tcp_lost_segments, f.tcp_zero_windows),
        (None, None, None)
    );
    drop(store);
    assert_eq!(user_version(&path), migration_count());
}

#[test]
fn a_version_10_database_keeps_its_flows_and_gains_transactions() {
    let dir = TempDir::new("migrate10");
    let path = dir.path().join("wirewatch.db");
    // Version 10: flows have their tunnel column, and there is no transactions table yet.
    let conn = old_database_with_a_flow(&path, 10);
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name = 'transactions'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 0);
    drop(conn);
    let store = open(&path).unwrap();
    assert_eq!(store.flows(&Query::default()).unwrap().total, 1);
    assert_eq!(store.transactions(&Query::default()).unwrap().total, 0);
    let t = sample_transaction(
        "dns",
        1,
        ("10.0.0.1", "10.0.0.53"),
        0,
        Some("after.migration.example"),
    );
    assert!(store.submit(vec![Record::Transaction(t.clone())]));
    store.flush(FLUSH).unwrap();
    let rows = store.transactions(&Query::default()).unwrap().rows;
    assert_eq!(
        rows,
        vec![wirewatch_store::TransactionRow::from_transaction(&t)]
    );
    drop(store);
    assert_eq!(user_version(&path), migration_count());
}

#[test]
fn a_read_only_file_system_is_refused() {
    let dir = TempDir::new("rofs");
    let mnt = dir.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    if !mount(&[
        "-t",
        "tmpfs",
        "-o",
        "size=4m",
        "tmpfs",
        mnt.to_str().unwrap(),
    ]) {
        wirewatch_testkit::skip(format_args!("cannot mount a tmpfs here (needs root)"));
        return;
    }
    let _guard = Mounted(&mnt);
    let existing = mnt.join("wirewatch.db");
    drop(open(&existing).unwrap());
    assert!(mount(&["-o", "remount,ro", mnt.to_str().unwrap()]));
    // A new file in a read-only directory.
    let new = mnt.join("new.db");
    let e = open_err(&new);
    assert!(matches!(e, StoreError::ReadOnly { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "the database {} cannot be written (read-only file, directory or file system): \
             check its permissions and mount, or choose a writable location",
            new.display()
        )
    );
    // An existing database on it.
    let e = open_err(&existing);
    assert!(matches!(e, StoreError::ReadOnly { .. }), "{e:?}");
}
