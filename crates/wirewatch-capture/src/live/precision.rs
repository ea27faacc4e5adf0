//! Finding out which timestamp precision a live handle really delivers.
//!
//! libpcap silently keeps microseconds when the platform refuses nanoseconds
//! (`pcap_set_tstamp_precision` fails, and the `pcap` crate ignores its status), and the crate has
//! no `pcap_get_tstamp_precision`. A pcap file header that libpcap writes for the handle carries
//! the precision in its magic number, so the handle "saves" an empty capture into a pipe and the
//! first four bytes are read back. No file is created; it costs a pipe and a few system calls
//! once per open.

/// Magic number of a nanosecond pcap file, as libpcap writes it (host byte order).
const MAGIC_NANO: u32 = 0xa1b2_3c4d;
/// Magic number of a microsecond pcap file.
const MAGIC_MICRO: u32 = 0xa1b2_c3d4;

/// `Some(true)` for nanosecond timestamps, `Some(false)` for microseconds, `None` when the
/// handle cannot be asked (no `/dev/fd` on this system).
#[cfg(unix)]
pub(crate) fn uses_nanoseconds(cap: &pcap::Capture<pcap::Active>) -> Option<bool> {
    use std::io::Read;
    use std::os::fd::AsRawFd;
    let (mut reader, writer) = std::io::pipe().ok()?;
    let path = format!("/dev/fd/{}", writer.as_raw_fd());
    // Dropping the savefile closes it, which flushes the 24-byte header into the pipe (far below
    // the pipe's capacity, so nothing blocks); dropping our end then lets the read see EOF.
    drop(cap.savefile(&path).ok()?);
    drop(writer);
    let mut magic = [0u8; 4];
    reader.read_exact(&mut magic).ok()?;
    match u32::from_ne_bytes(magic) {
        MAGIC_NANO => Some(true),
        MAGIC_MICRO => Some(false),
        _ => None,
    }
}

/// Without `/dev/fd` the handle cannot be asked.
#[cfg(not(unix))]
pub(crate) fn uses_nanoseconds(_cap: &pcap::Capture<pcap::Active>) -> Option<bool> {
    None
}
