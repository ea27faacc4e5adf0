//! A minimal, fast writer of classic little-endian pcap files.
//!
//! Owns the file and record headers only; it never looks inside a frame. Output is buffered
//! internally (one large `BufWriter`), so hand it the raw `File`.

use std::io::{self, BufWriter, Write};
use wirewatch_core::{LinkType, Timestamp};

/// Magic number of a pcap file with microsecond timestamps.
pub const PCAP_MAGIC_MICROS: u32 = 0xa1b2_c3d4;
/// Magic number of a pcap file with nanosecond timestamps.
pub const PCAP_MAGIC_NANOS: u32 = 0xa1b2_3c4d;

/// Size of the internal write buffer: large enough that a write syscall moves ~1000 frames.
const BUFFER_BYTES: usize = 1 << 20;

/// The 24-byte classic pcap file header: version 2.4, little-endian, `linktype`, `snaplen`,
/// nanosecond (`nanos`) or microsecond timestamps.
pub fn pcap_file_header(linktype: LinkType, snaplen: u32, nanos: bool) -> [u8; 24] {
    let magic = if nanos {
        PCAP_MAGIC_NANOS
    } else {
        PCAP_MAGIC_MICROS
    };
    let mut hdr = [0u8; 24];
    hdr[0..4].copy_from_slice(&magic.to_le_bytes());
    hdr[4..6].copy_from_slice(&2u16.to_le_bytes());
    hdr[6..8].copy_from_slice(&4u16.to_le_bytes());
    // thiszone and sigfigs stay zero.
    hdr[16..20].copy_from_slice(&snaplen.to_le_bytes());
    hdr[20..24].copy_from_slice(&linktype.0.to_le_bytes());
    hdr
}

/// The 16-byte classic pcap record header for `caplen` captured bytes of a `wire_len` frame
/// (the original length recorded is at least `caplen`).
pub fn pcap_record_header(ts: Timestamp, caplen: u32, wire_len: u32, nanos: bool) -> [u8; 16] {
    let secs = ts.nanos() / 1_000_000_000;
    let mut frac = ts.nanos() % 1_000_000_000;
    if !nanos {
        frac /= 1000;
    }
    let mut rec = [0u8; 16];
    // Classic pcap has 32-bit seconds: dates after 2106 wrap, as in every other writer.
    rec[0..4].copy_from_slice(&(secs as u32).to_le_bytes());
    rec[4..8].copy_from_slice(&(frac as u32).to_le_bytes());
    rec[8..12].copy_from_slice(&caplen.to_le_bytes());
    rec[12..16].copy_from_slice(&wire_len.max(caplen).to_le_bytes());
    rec
}

/// Writes frames to a pcap file.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: BufWriter<W>,
    snaplen: u32,
    nanos: bool,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the 24-byte file header: version 2.4, the link type, the snapshot length, and
    /// nanosecond (`nanos`) or microsecond timestamps.
    pub fn new(w: W, linktype: LinkType, snaplen: u32, nanos: bool) -> io::Result<Self> {
        let mut out = BufWriter::with_capacity(BUFFER_BYTES, w);
        out.write_all(&pcap_file_header(linktype, snaplen, nanos))?;
        Ok(PcapWriter {
            out,
            snaplen,
            nanos,
        })
    }

    /// Writes one record. Data beyond the snapshot length is cut off; the recorded original
    /// length is `wire_len`, or the data length if that is larger.
    pub fn write_frame(&mut self, ts: Timestamp, data: &[u8], wire_len: u32) -> io::Result<()> {
        let data = &data[..data.len().min(self.snaplen as usize)];
        let rec = pcap_record_header(ts, data.len() as u32, wire_len, self.nanos);
        self.out.write_all(&rec)?;
        self.out.write_all(data)
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(self) -> io::Result<W> {
        self.out.into_inner().map_err(|e| e.into_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_record_layout() {
        let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 8, false).unwrap();
        let ts = Timestamp::from_secs_nanos(1_700_000_000, 123_456_789);
        w.write_frame(ts, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 10)
            .unwrap();
        let out = w.finish().unwrap();
        assert_eq!(&out[0..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(&out[16..20], &8u32.to_le_bytes());
        assert_eq!(&out[20..24], &1u32.to_le_bytes());
        assert_eq!(&out[24..28], &1_700_000_000u32.to_le_bytes());
        assert_eq!(&out[28..32], &123_456u32.to_le_bytes());
        assert_eq!(&out[32..36], &8u32.to_le_bytes()); // cut to the snaplen
        assert_eq!(&out[36..40], &10u32.to_le_bytes());
        assert_eq!(&out[40..], &[1, 2, 3, 4, 5, 6, 7, 8]);
    }

    #[test]
    fn nanosecond_magic_keeps_nanoseconds() {
        let mut w = PcapWriter::new(Vec::new(), LinkType::RAW, 65535, true).unwrap();
        w.write_frame(Timestamp(5_000_000_007), &[0x45], 1).unwrap();
        let out = w.finish().unwrap();
        assert_eq!(&out[0..4], &[0x4d, 0x3c, 0xb2, 0xa1]);
        assert_eq!(&out[24..28], &5u32.to_le_bytes());
        assert_eq!(&out[28..32], &7u32.to_le_bytes());
    }
}
