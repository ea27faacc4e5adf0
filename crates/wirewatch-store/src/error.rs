//! The one error type of the store. Messages name the file and say what to do.

use std::path::PathBuf;
use std::time::Duration;

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be created or opened.
    #[error("cannot open the database {}: {message}", path.display())]
    Open {
        /// The database file.
        path: PathBuf,
        /// Why, and what to do about it.
        message: String,
    },
    /// The file was written by a newer Wirewatch; it was not touched.
    #[error(
        "the database {} has schema version {found}, newer than this Wirewatch supports \
         ({supported}); it was left unchanged: upgrade Wirewatch, or choose another database \
         file",
        path.display()
    )]
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// `PRAGMA user_version` of the file.
        found: i64,
        /// The newest schema version this build knows.
        supported: i64,
    },
    /// The file exists but is not a (healthy) SQLite database; it was not touched.
    #[error(
        "{} is not a usable Wirewatch database ({message}); it was left unchanged: move it \
         away or choose another database file",
        path.display()
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The file or its directory cannot be written.
    #[error(
        "the database {} cannot be written (read-only file, directory or file system): check \
         its permissions and mount, or choose a writable location",
        path.display()
    )]
    ReadOnly {
        /// The database file.
        path: PathBuf,
    },
    /// A query was malformed (the message says which part and how to fix it).
    #[error("bad query: {0}")]
    BadQuery(String),
    /// `flush` gave up waiting.
    #[error(
        "the store writer did not catch up within {waited:?} ({pending} batches still queued); \
         the disk may be slow or full"
    )]
    Timeout {
        /// How long `flush` waited.
        waited: Duration,
        /// Batches still queued or being written.
        pending: u64,
    },
    /// An SQLite error while reading or writing.
    #[error("database error on {}: {message}", path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// SQLite's message.
        message: String,
    },
}
