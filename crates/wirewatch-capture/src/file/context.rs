//! Per-file bookkeeping shared by the format readers: the path for messages, the packet count
//! and the bounded warning queue, plus constructors for the errors that need them.

use super::MAX_PENDING_WARNINGS;
use super::buffer::ReadBuffer;
use crate::error::{CaptureError, CaptureWarning};
use std::path::PathBuf;

/// Largest wire length believed: segments coalesced by offload (GRO, BIG TCP) reach a few
/// hundred KiB; a record claiming more (up to 4 GiB) is damage or a lie, and would add that
/// much to every byte count.
pub(super) const MAX_WIRE_LEN: u32 = 1 << 20;

pub(super) struct Context {
    pub(super) path: PathBuf,
    /// Frames delivered so far.
    pub(super) packets: u64,
    pub(super) warnings: Vec<CaptureWarning>,
    pub(super) warnings_dropped: u64,
}

impl Context {
    pub(super) fn new(path: PathBuf) -> Self {
        Context {
            path,
            packets: 0,
            warnings: Vec::new(),
            warnings_dropped: 0,
        }
    }

    /// 1-based number of the packet being read.
    #[inline(always)]
    pub(super) fn packet(&self) -> u64 {
        self.packets + 1
    }

    /// `ReadBuffer::fill` with the I/O error attributed to this file.
    #[inline(always)]
    pub(super) fn fill(&self, input: &mut ReadBuffer, need: usize) -> Result<bool, CaptureError> {
        input.fill(need).map_err(|source| CaptureError::Io {
            path: self.path.clone(),
            error: source,
        })
    }

    /// `ReadBuffer::discard` with the I/O error attributed to this file.
    pub(super) fn discard(&self, input: &mut ReadBuffer, n: u64) -> Result<bool, CaptureError> {
        input.discard(n).map_err(|source| CaptureError::Io {
            path: self.path.clone(),
            error: source,
        })
    }

    #[cold]
    pub(super) fn warn(&mut self, warning: CaptureWarning) {
        if self.warnings.len() < MAX_PENDING_WARNINGS {
            self.warnings.push(warning);
        } else {
            self.warnings_dropped += 1;
        }
    }

    #[cold]
    pub(super) fn truncated(&self, offset: u64) -> CaptureError {
        CaptureError::Truncated {
            path: self.path.clone(),
            offset,
            packet: self.packet(),
        }
    }

    #[cold]
    pub(super) fn corrupt(&self, offset: u64, reason: impl Into<String>) -> CaptureError {
        CaptureError::Corrupt {
            path: self.path.clone(),
            offset,
            packet: self.packet(),
            reason: reason.into(),
        }
    }

    #[cold]
    pub(super) fn oversized(&self, offset: u64, caplen: u64) -> CaptureError {
        CaptureError::OversizedPacket {
            path: self.path.clone(),
            offset,
            packet: self.packet(),
            caplen,
            limit: u64::from(super::MAX_CAPLEN),
        }
    }

    /// Queues the warnings a record may deserve and returns the wire length to report (raised
    /// to the captured length when the file claims less).
    #[inline(always)]
    pub(super) fn check_lengths(
        &mut self,
        offset: u64,
        caplen: u32,
        wire_len: u32,
        snaplen: u32,
    ) -> u32 {
        if snaplen != 0 && caplen > snaplen {
            self.warn(CaptureWarning::CaplenExceedsSnaplen {
                packet: self.packet(),
                offset,
                caplen,
                snaplen,
            });
        }
        if wire_len > MAX_WIRE_LEN {
            self.warn(CaptureWarning::WireLenImplausible {
                packet: self.packet(),
                offset,
                wire_len,
                caplen,
            });
            return caplen;
        }
        if caplen > wire_len {
            self.warn(CaptureWarning::CaplenExceedsWireLen {
                packet: self.packet(),
                offset,
                caplen,
                wire_len,
            });
            return caplen;
        }
        wire_len
    }
}
