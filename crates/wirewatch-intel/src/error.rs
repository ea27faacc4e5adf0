//! The error type of the crate's setup paths (loading lists, starting the look-up service).
//! Messages name the file or setting and say what to do. Errors of single AbuseIPDB
//! requests are [`ClientError`](crate::abuseipdb::ClientError): the service counts them and
//! goes on.

use std::path::PathBuf;

/// What went wrong loading threat intelligence or starting its service.
#[derive(Debug, thiserror::Error)]
pub enum IntelError {
    /// A blocklist file could not be read.
    #[error(
        "cannot read the blocklist {} ({message}); check the path in the configuration and the \
         file's permissions",
        path.display()
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's message.
        message: String,
    },
    /// A blocklist file is larger than any real list.
    #[error(
        "the blocklist {} is {size} bytes, more than the {max} a list may have; is it the right \
         file?",
        path.display()
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
        /// [`MAX_FILE_BYTES`](crate::blocklist::MAX_FILE_BYTES).
        max: u64,
    },
    /// Two configured lists have the same name.
    #[error(
        "two blocklists are named {name:?} ({} and {}); give one of them another `name`",
        first.display(),
        second.display()
    )]
    DuplicateName {
        /// The name.
        name: String,
        /// The first file with it.
        first: PathBuf,
        /// The second file with it.
        second: PathBuf,
    },
    /// A setting is invalid.
    #[error("invalid threat-intelligence setting `{setting}`: {message}")]
    Config {
        /// The setting, e.g. `abuseipdb.base_url`.
        setting: &'static str,
        /// What is wrong and what to do.
        message: String,
    },
    /// The background look-up thread could not be started.
    #[error("cannot start the threat-intelligence look-up thread: {0}")]
    Thread(String),
}
