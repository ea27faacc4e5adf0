//! Capture file reader: pcap (micro/nanosecond, both byte orders) and pcapng.
//!
//! Owns turning the bytes of a capture file into [`Frame`]s that borrow from one large read
//! buffer (no copy, no allocation per packet), and reporting exactly where a damaged file goes
//! wrong (byte offset and packet number). It must not decode anything past the record framing.
//!
//! Layout:
//! - `buffer`: the refillable read buffer that knows the file offset of every byte it holds;
//! - `pcap`: classic pcap records (framed by hand, parsed by `pcap-parser`);
//! - `pcapng`: pcapng blocks (sections, interfaces, EPB/SPB/obsolete PB; everything else is
//!   skipped by its length);
//! - `context`: the per-file bookkeeping shared by both (path, packet count, warning queue).
//!
//! Why not `pcap-parser`'s readers: they do not say at which byte offset a record starts, and
//! its pcapng packet parsers collect options into a `Vec` (an allocation per packet whenever a
//! writer adds `epb_flags`). So `pcap-parser` parses the file header, classic records, Section
//! Header Blocks and Interface Description Blocks, while the fixed 28-byte header of the pcapng
//! packet blocks is read here directly.

mod buffer;
mod context;
mod pcap;
mod pcapng;

use crate::error::{CaptureError, CaptureWarning};
use buffer::ReadBuffer;
use context::Context;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use wirewatch_core::{Frame, LinkType, Timestamp};

/// The largest captured length accepted for one record (libpcap's maximum snapshot length).
pub const MAX_CAPLEN: u32 = 256 * 1024;

/// Size of the read buffer. 1 MiB amortises the `read` system call over hundreds of packets and
/// still fits a typical L2 cache; any record up to [`MAX_CAPLEN`] fits with room to spare.
pub const READ_BUFFER_SIZE: usize = 1024 * 1024;

/// The largest pcapng block (other than the ones skipped unread) the reader will load whole.
/// Packet blocks are at most [`MAX_CAPLEN`] plus options; section and interface headers are
/// small. The buffer grows up to this size only for such an odd block, so memory stays bounded
/// whatever a corrupt file claims. Blocks of other types are skipped in a streaming fashion and
/// may be of any length.
pub const MAX_BLOCK_LEN: u32 = 16 * 1024 * 1024;

/// The most interfaces one pcapng section may describe. Real captures have a handful; the cap
/// only stops a corrupt file from growing the interface table without bound (about 24 bytes
/// each, so at most 1.5 MiB).
pub const MAX_INTERFACES: usize = 65_536;

/// How many warnings are kept until [`FileSource::take_warnings`] collects them. A file where
/// every record is odd would otherwise grow the queue by one entry per packet; the ones beyond
/// the cap are counted in [`FileSource::warnings_dropped`].
pub const MAX_PENDING_WARNINGS: usize = 1024;

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

/// The format-specific record reader.
enum Reader {
    Pcap(pcap::PcapReader),
    Pcapng(pcapng::PcapngReader),
}

/// Reads frames from a capture file, one at a time, without copying them.
///
/// Frames borrow from an internal buffer, so each one must be dropped before the next call to
/// [`FileSource::next_frame`]. After the first error (or the end of the file) every further call
/// returns `Ok(None)`.
pub struct FileSource {
    ctx: Context,
    input: ReadBuffer,
    reader: Reader,
    format: FileFormat,
    file_size: Option<u64>,
    finished: bool,
}

impl std::fmt::Debug for FileSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSource")
            .field("path", &self.ctx.path)
            .field("format", &self.format)
            .field("packets_read", &self.ctx.packets)
            .field("bytes_read", &self.input.offset())
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl FileSource {
    /// Opens a capture file and reads its header.
    ///
    /// Errors: [`CaptureError::Io`] (missing, unreadable), [`CaptureError::IsDirectory`],
    /// [`CaptureError::Empty`], [`CaptureError::NotACapture`], [`CaptureError::Truncated`]
    /// (the file ends inside its header), [`CaptureError::Corrupt`] (bad pcapng section header).
    pub fn open(path: &Path) -> Result<FileSource, CaptureError> {
        let io_err = |error| CaptureError::Io {
            path: path.to_path_buf(),
            error,
        };
        let meta = std::fs::metadata(path).map_err(io_err)?;
        if meta.is_dir() {
            return Err(CaptureError::IsDirectory {
                path: path.to_path_buf(),
            });
        }
        let file = File::open(path).map_err(io_err)?;
        // Only a regular file has a meaningful size (a FIFO reports 0).
        let file_size = meta.is_file().then_some(meta.len());
        if file_size == Some(0) {
            return Err(CaptureError::Empty {
                path: path.to_path_buf(),
            });
        }
        Self::start(path.to_path_buf(), Box::new(file), file_size)
    }

    /// Opens `path`, or reads standard input when it is `-` (as `tcpdump -r -` does), as a
    /// stream: nothing is spooled, whatever its size.
    pub fn open_or_stdin(path: &Path) -> Result<FileSource, CaptureError> {
        if path.as_os_str() == "-" {
            return Self::from_reader(path.to_path_buf(), Box::new(std::io::stdin()));
        }
        Self::open(path)
    }

    /// Reads a capture from any byte stream; `name` stands for the file in messages.
    ///
    /// Useful for standard input and for tests that build captures in memory.
    pub fn from_reader(
        name: PathBuf,
        reader: Box<dyn Read + Send>,
    ) -> Result<FileSource, CaptureError> {
        Self::start(name, reader, None)
    }

    fn start(
        path: PathBuf,
        reader: Box<dyn Read + Send>,
        file_size: Option<u64>,
    ) -> Result<FileSource, CaptureError> {
        let mut ctx = Context::new(path);
        let mut input = ReadBuffer::new(reader, READ_BUFFER_SIZE);
        let (reader, format) = match sniff(&mut input, &ctx)? {
            Magic::Pcap {
                big_endian,
                nanosecond,
            } => {
                let r = pcap::PcapReader::open(&mut input, &ctx, big_endian, nanosecond)?;
                (
                    Reader::Pcap(r),
                    FileFormat::Pcap {
                        nanosecond,
                        big_endian,
                    },
                )
            }
            Magic::Pcapng => {
                let r = pcapng::PcapngReader::open(&mut input, &mut ctx)?;
                (Reader::Pcapng(r), FileFormat::Pcapng)
            }
        };
        Ok(FileSource {
            ctx,
            input,
            reader,
            format,
            file_size,
            finished: false,
        })
    }

    /// The next frame, `None` at the clean end of the file, or the error that stops reading.
    ///
    /// Every complete frame before a problem is delivered first; the error comes once, then
    /// `Ok(None)` forever.
    #[inline]
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        if self.finished {
            return Ok(None);
        }
        let next = match &mut self.reader {
            Reader::Pcap(r) => r.next(&mut self.input, &mut self.ctx),
            Reader::Pcapng(r) => r.next(&mut self.input, &mut self.ctx),
        };
        match next {
            Ok(Some(rec)) => Ok(Some(Frame {
                ts: rec.ts,
                linktype: rec.linktype,
                data: self.input.slice(rec.start, rec.len),
                wire_len: rec.wire_len,
                interface: rec.interface,
            })),
            Ok(None) => {
                self.finished = true;
                Ok(None)
            }
            Err(e) => {
                self.finished = true;
                Err(e)
            }
        }
    }

    /// Warnings collected since the last call.
    pub fn take_warnings(&mut self) -> Vec<CaptureWarning> {
        std::mem::take(&mut self.ctx.warnings)
    }

    /// Warnings not queued because [`MAX_PENDING_WARNINGS`] were already waiting.
    pub fn warnings_dropped(&self) -> u64 {
        self.ctx.warnings_dropped
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.ctx.path
    }

    /// The file's format, as told by its magic number (not its name).
    pub fn format(&self) -> FileFormat {
        self.format
    }

    /// The byte offset reached: everything before it has been consumed (for a progress bar,
    /// against [`FileSource::file_size`]).
    pub fn bytes_read(&self) -> u64 {
        self.input.offset()
    }

    /// The file size when known (a regular file opened with [`FileSource::open`]).
    pub fn file_size(&self) -> Option<u64> {
        self.file_size
    }

    /// Frames delivered so far.
    pub fn packets_read(&self) -> u64 {
        self.ctx.packets
    }

    /// The snapshot length: the pcap header's, or for pcapng that of interface 0 of the current
    /// section (0 when unknown). 0 means unlimited.
    pub fn snaplen(&self) -> u32 {
        match &self.reader {
            Reader::Pcap(r) => r.snaplen(),
            Reader::Pcapng(r) => r.snaplen(),
        }
    }

    /// The link type: the pcap header's, or for pcapng that of interface 0 of the current
    /// section (`None` until its Interface Description Block has been read). Each frame carries
    /// its own link type, which is what decoding must use.
    pub fn linktype(&self) -> Option<LinkType> {
        match &self.reader {
            Reader::Pcap(r) => Some(r.linktype()),
            Reader::Pcapng(r) => r.linktype(),
        }
    }
}

/// A frame found by a format reader: where its bytes are in the buffer, and its metadata.
#[derive(Debug, Clone, Copy)]
struct Record {
    /// Index of the first captured byte in the read buffer.
    start: usize,
    /// Captured length.
    len: usize,
    ts: Timestamp,
    linktype: LinkType,
    wire_len: u32,
    interface: u32,
}

/// What the first four bytes say.
enum Magic {
    Pcap { big_endian: bool, nanosecond: bool },
    Pcapng,
}

/// Every magic number that starts a file we read, as the bytes appear on disk.
const MAGICS: [([u8; 4], Magic); 5] = [
    (
        [0xd4, 0xc3, 0xb2, 0xa1],
        Magic::Pcap {
            big_endian: false,
            nanosecond: false,
        },
    ),
    (
        [0xa1, 0xb2, 0xc3, 0xd4],
        Magic::Pcap {
            big_endian: true,
            nanosecond: false,
        },
    ),
    (
        [0x4d, 0x3c, 0xb2, 0xa1],
        Magic::Pcap {
            big_endian: false,
            nanosecond: true,
        },
    ),
    (
        [0xa1, 0xb2, 0x3c, 0x4d],
        Magic::Pcap {
            big_endian: true,
            nanosecond: true,
        },
    ),
    ([0x0a, 0x0d, 0x0d, 0x0a], Magic::Pcapng),
];

/// Identifies the format from the first four bytes (without consuming them).
fn sniff(input: &mut ReadBuffer, ctx: &Context) -> Result<Magic, CaptureError> {
    let complete = ctx.fill(input, 4)?;
    let head = input.window();
    let mut first = [0u8; 4];
    let n = head.len().min(4);
    first[..n].copy_from_slice(&head[..n]);
    if !complete {
        if n == 0 {
            return Err(CaptureError::Empty {
                path: ctx.path.clone(),
            });
        }
        // A few bytes that begin like a capture are a cut-off header, not a foreign file.
        if MAGICS.iter().any(|(m, _)| m[..n] == first[..n]) {
            return Err(ctx.truncated(0));
        }
    }
    for (bytes, magic) in MAGICS {
        if bytes == first {
            return Ok(magic);
        }
    }
    Err(CaptureError::NotACapture {
        path: ctx.path.clone(),
        magic: u32::from_be_bytes(first),
    })
}

/// Reads a `u32` at `at` in the given byte order (0 if out of range, which callers exclude by
/// filling the buffer first).
#[inline(always)]
fn u32_at(b: &[u8], at: usize, big_endian: bool) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        a.copy_from_slice(s);
    }
    if big_endian {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    }
}

/// Reads a `u16` at `at` in the given byte order (0 if out of range).
#[inline(always)]
fn u16_at(b: &[u8], at: usize, big_endian: bool) -> u16 {
    let mut a = [0u8; 2];
    if let Some(s) = b.get(at..at + 2) {
        a.copy_from_slice(s);
    }
    if big_endian {
        u16::from_be_bytes(a)
    } else {
        u16::from_le_bytes(a)
    }
}
