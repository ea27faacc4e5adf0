//! Opening a database file safely and bringing its schema up to date.
//!
//! Nothing is written to a file before it is known to be a Wirewatch database this build
//! understands: a missing directory, a directory given as the file, a non-database file, a
//! database of another program and a newer schema are all refused with the file unchanged.

use crate::error::StoreError;
use crate::ip::{blob_to_ip, ip_to_blob};
use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Read};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Numbered migrations; migration `i` (1-based) brings the schema to `user_version = i`.
pub(crate) const MIGRATIONS: [&str; 12] = [
    include_str!("../../migrations/0001_initial.sql"),
    include_str!("../../migrations/0002_rollups.sql"),
    include_str!("../../migrations/0003_intel_cache_and_views.sql"),
    include_str!("../../migrations/0004_app_layer.sql"),
    include_str!("../../migrations/0005_reputation.sql"),
    include_str!("../../migrations/0006_interval_features.sql"),
    include_str!("../../migrations/0007_flow_features.sql"),
    include_str!("../../migrations/0008_tcp_health.sql"),
    include_str!("../../migrations/0009_flow_vlan.sql"),
    include_str!("../../migrations/0010_flow_tunnel.sql"),
    include_str!("../../migrations/0011_interval_tcp_health.sql"),
    include_str!("../../migrations/0012_transactions.sql"),
];

/// The schema version this build writes.
pub fn migration_count() -> i64 {
    MIGRATIONS.len() as i64
}

/// How long a connection waits for a lock held by another one (a reader during a checkpoint,
/// another process) before its statement fails with "database is locked".
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Page cache of the writer connection. Flow indexes take random inserts (addresses, ports);
/// 64 MiB keeps their hot pages of a multi-GB database in memory.
pub(crate) const WRITER_CACHE_KIB: i64 = 64 * 1024;
/// Page cache of each read connection.
pub(crate) const READER_CACHE_KIB: i64 = 32 * 1024;
/// Readers map up to this much of the file instead of copying pages into their cache: scans
/// of big flow ranges then read straight from the OS page cache (shared by all readers).
const READER_MMAP_BYTES: i64 = 1 << 30;

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Maps an SQLite error to the store's error, naming the file.
pub(crate) fn sqlite_error(path: &Path, e: &rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            path: path.to_path_buf(),
            message: e.to_string(),
        },
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly {
            path: path.to_path_buf(),
        },
        Some(ErrorCode::CannotOpen) => StoreError::Open {
            path: path.to_path_buf(),
            message: format!("{e}; check that the file and its directory are accessible"),
        },
        _ => StoreError::Sqlite {
            path: path.to_path_buf(),
            message: e.to_string(),
        },
    }
}

fn open_error(path: &Path, message: String) -> StoreError {
    StoreError::Open {
        path: path.to_path_buf(),
        message,
    }
}

fn is_read_only(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem
    )
}

/// Checks the path before SQLite sees it; creates an empty file when there is none (an empty
/// file is a new database to SQLite), so that permission problems get precise messages.
fn prepare_path(path: &Path) -> Result<(), StoreError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if path.is_dir() {
        return Err(open_error(
            path,
            format!(
                "it is a directory; give the path of a database file, e.g. {}",
                path.join("wirewatch.db").display()
            ),
        ));
    }
    match fs::metadata(&dir) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(open_error(
                path,
                format!(
                    "the directory {} does not exist; create it (mkdir -p {}) or choose \
                     another database path",
                    dir.display(),
                    dir.display()
                ),
            ));
        }
        Err(e) => {
            return Err(open_error(
                path,
                format!("cannot access the directory {}: {e}", dir.display()),
            ));
        }
        Ok(m) if !m.is_dir() => {
            return Err(open_error(
                path,
                format!("{} is not a directory", dir.display()),
            ));
        }
        Ok(_) => {}
    }
    match fs::metadata(path) {
        Ok(m) if !m.is_file() => Err(open_error(
            path,
            "it is not a regular file; choose another database path".to_string(),
        )),
        Ok(m) => {
            if m.len() > 0 {
                check_header(path)?;
            }
            match OpenOptions::new().read(true).write(true).open(path) {
                Ok(_) => Ok(()),
                Err(e) if is_read_only(e.kind()) => Err(StoreError::ReadOnly {
                    path: path.to_path_buf(),
                }),
                Err(e) => Err(open_error(path, e.to_string())),
            }
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            match OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(_) => Ok(()),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
                Err(e) if is_read_only(e.kind()) => Err(StoreError::ReadOnly {
                    path: path.to_path_buf(),
                }),
                Err(e) => Err(open_error(path, format!("cannot create the file: {e}"))),
            }
        }
        Err(e) => Err(open_error(path, e.to_string())),
    }
}

/// Refuses a non-empty file that does not start with the SQLite header.
fn check_header(path: &Path) -> Result<(), StoreError> {
    let mut header = [0u8; 100];
    let mut file = fs::File::open(path).map_err(|e| open_error(path, e.to_string()))?;
    let mut got = 0;
    while got < header.len() {
        match file.read(&mut header[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(open_error(path, e.to_string())),
        }
    }
    if got < header.len() || &header[..16] != SQLITE_MAGIC {
        return Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            message: "not an SQLite database: the file does not start with the SQLite header"
                .to_string(),
        });
    }
    Ok(())
}

/// Opens (creating if needed) the database at `path` for writing and migrates it to
/// `up_to` (at most [`migration_count`]).
pub(crate) fn open_writer(path: &Path, up_to: i64) -> Result<Connection, StoreError> {
    prepare_path(path)?;
    let err = |e: rusqlite::Error| sqlite_error(path, &e);
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
    if conn.is_readonly("main").map_err(err)? {
        return Err(StoreError::ReadOnly {
            path: path.to_path_buf(),
        });
    }
    // Reads only, until we know the file is ours and not too new.
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(err)?;
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
            [],
            |r| r.get(0),
        )
        .map_err(err)?;
    if version > migration_count() {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found: version,
            supported: migration_count(),
        });
    }
    if version == 0 && tables > 0 {
        return Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            message: "it is an SQLite database of another program (it has tables but no \
                      Wirewatch schema version)"
                .to_string(),
        });
    }
    if version < 0 {
        return Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            message: format!("unexpected schema version {version}"),
        });
    }
    let pages: i64 = conn
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .map_err(err)?;
    if pages == 0 {
        // Must precede the first table: lets retention give freed pages back to the disk.
        conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL")
            .map_err(err)?;
    }
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(open_error(
            path,
            format!(
                "cannot switch to write-ahead logging (journal mode stays {mode:?}); the file \
                 system may not support it: choose a local disk"
            ),
        ));
    }
    conn.execute_batch(&format!(
        "PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY; \
         PRAGMA cache_size = -{WRITER_CACHE_KIB};"
    ))
    .map_err(err)?;
    conn.set_prepared_statement_cache_capacity(64);
    migrate(&mut conn, version, up_to.min(migration_count())).map_err(err)?;
    register_functions(&conn).map_err(err)?;
    Ok(conn)
}

/// Applies migrations `from + 1 ..= to`, each in its own transaction with its version number.
fn migrate(conn: &mut Connection, from: i64, to: i64) -> rusqlite::Result<()> {
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i as i64 + 1;
        if version <= from || version > to {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(())
}

/// Opens a read-only connection to an existing, migrated database.
pub(crate) fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let err = |e: rusqlite::Error| sqlite_error(path, &e);
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
    conn.execute_batch(&format!(
        "PRAGMA cache_size = -{READER_CACHE_KIB}; PRAGMA temp_store = MEMORY; \
         PRAGMA mmap_size = {READER_MMAP_BYTES};"
    ))
    .map_err(err)?;
    conn.set_prepared_statement_cache_capacity(32);
    register_functions(&conn).map_err(err)?;
    Ok(conn)
}

/// SQL helpers on Wirewatch's own connections: `ip_blob(text)` (the 16-byte form of an
/// address, NULL if it is not one; used to match alert addresses, stored as JSON text, against
/// a CIDR range) and `ip_text(blob)` (for ad-hoc queries over flows). The views do not use
/// them, so other SQLite clients can read the views.
fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("ip_blob", 1, flags, |ctx| {
        let text: Option<String> = ctx.get(0).ok();
        Ok(text
            .and_then(|t| t.parse::<IpAddr>().ok())
            .map(|ip| ip_to_blob(ip).to_vec()))
    })?;
    conn.create_scalar_function("ip_text", 1, flags, |ctx| {
        let blob: Option<Vec<u8>> = ctx.get(0).ok();
        Ok(blob.and_then(|b| blob_to_ip(&b)).map(|ip| ip.to_string()))
    })?;
    Ok(())
}

/// Creates (or opens) the database at `path` and migrates it only up to `version`: for
/// testing migrations from an older schema.
#[doc(hidden)]
pub fn create_at_version(path: &Path, version: i64) -> Result<(), StoreError> {
    open_writer(path, version).map(drop)
}
