//! Capture file reader: pcap (micro/nanosecond, both byte orders) and pcapng.

use crate::error::{CaptureError, CaptureWarning};
use std::path::{Path, PathBuf};
use wirewatch_core::Frame;

/// The largest captured length accepted for one record (libpcap's maximum snapshot length).
pub const MAX_CAPLEN: u32 = 256 * 1024;

/// The on-disk format of a capture file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Classic pcap.
    Pcap {
        /// Timestamps in nanoseconds (magic 0xa1b23c4d) rather than microseconds.
        nanosecond: bool,
        /// Big-endian file.
        big_endian: bool,
    },
    /// pcapng.
    Pcapng,
}

/// Reads frames from a capture file, one at a time, without copying them.
pub struct FileSource {
    path: PathBuf,
}

impl FileSource {
    /// Opens a capture file and reads its header.
    pub fn open(path: &Path) -> Result<FileSource, CaptureError> {
        Ok(FileSource {
            path: path.to_path_buf(),
        })
    }

    /// The next frame, `None` at the clean end of the file, or the error that stops reading.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        Ok(None)
    }

    /// Warnings collected since the last call.
    pub fn take_warnings(&mut self) -> Vec<CaptureWarning> {
        Vec::new()
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
