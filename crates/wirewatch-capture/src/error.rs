//! Errors and warnings of the packet sources.

use std::path::PathBuf;

/// A fatal problem with a packet source. Frames read before it remain valid.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The file could not be opened or read.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error (in the message, not a `source`: a chain printed with `{:#}`
        /// would say it twice).
        error: std::io::Error,
    },
    /// The path is a directory.
    #[error("{path}: is a directory, not a capture file")]
    IsDirectory {
        /// The path.
        path: PathBuf,
    },
    /// The file is empty.
    #[error("{path}: empty file (0 bytes), not a capture file")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The file does not start with a pcap or pcapng magic number.
    #[error(
        "{path}: not a pcap or pcapng file (magic number {magic:#010x} at byte 0); \
         convert it with `editcap -F pcap` or check the path"
    )]
    NotACapture {
        /// The file.
        path: PathBuf,
        /// The first four bytes, big-endian.
        magic: u32,
    },
    /// The file ends in the middle of a header or record.
    #[error(
        "{path}: truncated at byte offset {offset} (packet {packet}): \
         the file ends inside a record; everything before it was read"
    )]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Byte offset of the incomplete record.
        offset: u64,
        /// 1-based number of the packet that is incomplete.
        packet: u64,
    },
    /// A record announces a captured length beyond the 256 KiB limit: the file is corrupt.
    #[error(
        "{path}: packet {packet} at byte offset {offset} claims a captured length of {caplen} \
         bytes, over the {limit}-byte limit; the file is corrupt from here on"
    )]
    OversizedPacket {
        /// The file.
        path: PathBuf,
        /// Byte offset of the record.
        offset: u64,
        /// 1-based packet number.
        packet: u64,
        /// The announced captured length.
        caplen: u64,
        /// The limit.
        limit: u64,
    },
    /// Any other structural problem (bad block, bad section header, ...).
    #[error("{path}: corrupt capture at byte offset {offset} (packet {packet}): {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Byte offset of the problem.
        offset: u64,
        /// 1-based number of the packet being read.
        packet: u64,
        /// What is wrong.
        reason: String,
    },
    /// Live capture: the operating system refused to open the interface for capture.
    #[error(
        "cannot capture on {interface}: permission denied ({message}). Run as root, or let the \
         binary capture: sudo setcap cap_net_raw,cap_net_admin=eip {exe}",
        exe = crate::live::setcap_target()
    )]
    PermissionDenied {
        /// The interface.
        interface: String,
        /// libpcap's message.
        message: String,
    },
    /// Live capture: there is no interface of that name.
    #[error(
        "cannot capture on {interface}: no such interface ({message}); list the interfaces with \
         `wirewatch interfaces`"
    )]
    NoSuchInterface {
        /// The interface asked for.
        interface: String,
        /// libpcap's message.
        message: String,
    },
    /// Live capture: the interface exists but is administratively down.
    #[error(
        "cannot capture on {interface}: the interface is down ({message}); bring it up \
         (sudo ip link set {interface} up) or pick another with `wirewatch interfaces`"
    )]
    InterfaceDown {
        /// The interface.
        interface: String,
        /// libpcap's message.
        message: String,
    },
    /// Live capture: no interface was named and none qualifies as the default.
    #[error(
        "no network interface to capture on: none is up, not loopback and with an address; \
         name one (list them with `wirewatch interfaces`)"
    )]
    NoDefaultInterface,
    /// Live capture: libpcap rejected a capture filter (BPF expression).
    #[error("invalid capture filter `{filter}`: {message}")]
    BadFilter {
        /// The expression.
        filter: String,
        /// libpcap's message.
        message: String,
    },
    /// Live capture: the interfaces could not be listed.
    #[error("cannot list the network interfaces: {message}")]
    ListInterfaces {
        /// libpcap's message.
        message: String,
    },
    /// Live capture: any other libpcap failure while opening or reading an interface.
    #[error("cannot capture on {interface}: {message}")]
    Live {
        /// The interface.
        interface: String,
        /// libpcap's (or the system's) message.
        message: String,
    },
}

/// A non-fatal oddity met while reading; the frame concerned is still delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureWarning {
    /// A record's captured length exceeds the file's snapshot length.
    CaplenExceedsSnaplen {
        /// 1-based packet number.
        packet: u64,
        /// Byte offset of the record.
        offset: u64,
        /// Captured length of the record.
        caplen: u32,
        /// The file's (or interface's) snapshot length.
        snaplen: u32,
    },
    /// A record's captured length exceeds its wire length (the wire length is raised to match).
    CaplenExceedsWireLen {
        /// 1-based packet number.
        packet: u64,
        /// Byte offset of the record.
        offset: u64,
        /// Captured length.
        caplen: u32,
        /// Wire length as recorded.
        wire_len: u32,
    },
    /// A record claims a wire length no link carries (the captured length is used instead).
    WireLenImplausible {
        /// 1-based packet number.
        packet: u64,
        /// Byte offset of the record.
        offset: u64,
        /// Wire length as recorded.
        wire_len: u32,
        /// The captured length used instead.
        caplen: u32,
    },
    /// A pcap record's sub-second field is a second or more (added as is, as libpcap does).
    FractionOverflow {
        /// 1-based packet number.
        packet: u64,
        /// Byte offset of the record.
        offset: u64,
        /// The field's value.
        fraction: u32,
        /// The largest valid value (999,999 for microseconds, 999,999,999 for nanoseconds).
        max: u32,
    },
}

impl std::fmt::Display for CaptureWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaptureWarning::CaplenExceedsSnaplen {
                packet,
                offset,
                caplen,
                snaplen,
            } => write!(
                f,
                "packet {packet} at byte offset {offset}: captured length {caplen} exceeds the \
                 snapshot length {snaplen}"
            ),
            CaptureWarning::CaplenExceedsWireLen {
                packet,
                offset,
                caplen,
                wire_len,
            } => write!(
                f,
                "packet {packet} at byte offset {offset}: captured length {caplen} exceeds the \
                 wire length {wire_len}; using {caplen} as the wire length"
            ),
            CaptureWarning::WireLenImplausible {
                packet,
                offset,
                wire_len,
                caplen,
            } => write!(
                f,
                "packet {packet} at byte offset {offset}: a wire length of {wire_len} bytes is \
                 more than any link carries; using the captured length {caplen}"
            ),
            CaptureWarning::FractionOverflow {
                packet,
                offset,
                fraction,
                max,
            } => write!(
                f,
                "packet {packet} at byte offset {offset}: the timestamp's fraction {fraction} is \
                 more than {max}; added as is (as libpcap and tshark do)"
            ),
        }
    }
}
