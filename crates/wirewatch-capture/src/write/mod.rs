//! Owns turning frames back into capture files: [`PacketWriter`](crate::write::PacketWriter)
//! writes one classic pcap (nanosecond) or pcapng file to any `Write`, and
//! [`RotatingWriter`](crate::write::RotatingWriter) keeps a ring of pcap files in a directory,
//! cut by size, packet time and link type, within count and total size caps. Nothing here reads
//! the wall clock or looks inside a frame.
//!
//! Why classic pcap is not written through [`crate::synth::PcapWriter`]: that writer hides its
//! own 1 MiB buffer and has no `flush`, so a write error (a full disk) would only surface at
//! `finish`, and the rotating writer could not make the current file readable while capturing.
//! The record layout here is the same (a unit test compares the bytes with `PcapWriter`'s).

pub mod pcapng;
pub mod rotate;

pub use pcapng::PcapNgWriter;
pub use rotate::{RotateConfig, RotateStats, RotatingWriter, list_files};

use crate::file::MAX_CAPLEN;
use crate::synth::pcap_writer::pcap_record_header;
use std::fmt;
use std::io::{self, BufWriter, Write};
use std::str::FromStr;
use wirewatch_core::{LinkType, Timestamp};

/// Size of a writer's output buffer: a write system call moves dozens of packets.
pub const WRITE_BUFFER_BYTES: usize = 64 * 1024;

/// Size of the classic pcap file header.
pub const PCAP_HEADER_LEN: u64 = 24;

/// Size of a classic pcap record header.
pub const PCAP_RECORD_HEADER_LEN: u64 = 16;

/// The on-disk format a [`PacketWriter`] produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PcapFormat {
    /// Classic pcap, little-endian, nanosecond timestamps; one link type per file.
    Pcap,
    /// pcapng, little-endian; one interface per link type.
    PcapNg,
}

impl PcapFormat {
    /// The lower-case name accepted by [`FromStr`]: "pcap" or "pcapng".
    pub fn name(self) -> &'static str {
        match self {
            PcapFormat::Pcap => "pcap",
            PcapFormat::PcapNg => "pcapng",
        }
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        self.name()
    }

    /// The format a file of this name gets by default: pcapng when it ends in `.pcapng`, else
    /// pcap (as tcpdump and tshark choose).
    pub fn for_path(path: &std::path::Path) -> Self {
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("pcapng"))
        {
            PcapFormat::PcapNg
        } else {
            PcapFormat::Pcap
        }
    }
}

impl fmt::Display for PcapFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error of parsing a [`PcapFormat`] from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown capture file format {0:?}: expected \"pcap\" or \"pcapng\"")]
pub struct ParseFormatError(pub String);

impl FromStr for PcapFormat {
    type Err = ParseFormatError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pcap" => Ok(PcapFormat::Pcap),
            "pcapng" => Ok(PcapFormat::PcapNg),
            _ => Err(ParseFormatError(s.to_string())),
        }
    }
}

/// Why a packet could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The underlying writer failed; the file may end in a partial record.
    #[error("write failed: {0}")]
    Io(#[from] io::Error),
    /// A classic pcap file holds one link type, and this packet has another. Nothing was written.
    #[error(
        "link type {} does not match the pcap file's link type {}",
        .packet.0,
        .file.0
    )]
    LinkTypeMismatch {
        /// The file's link type (from its first packet).
        file: LinkType,
        /// The rejected packet's link type.
        packet: LinkType,
    },
    /// pcapng stores link types in 16 bits; this one does not fit. Nothing was written.
    #[error("link type {} does not fit in a pcapng interface description (16 bits)", .0.0)]
    LinkTypeOutOfRange(LinkType),
    /// pcap-parser could not serialize a pcapng block. Nothing was written.
    #[error("pcapng serialization failed: {0}")]
    Serialize(String),
    /// A rotating writer's configuration is unusable.
    #[error("invalid rotation configuration: {0}")]
    InvalidConfig(String),
}

/// The snapshot length actually used: 0 means "the largest", as for libpcap.
pub(crate) fn effective_snaplen(snaplen: u32) -> u32 {
    if snaplen == 0 { MAX_CAPLEN } else { snaplen }
}

/// The classic pcap file header: version 2.4, nanosecond magic, little-endian.
pub(crate) fn pcap_file_header(linktype: LinkType, snaplen: u32) -> [u8; 24] {
    crate::synth::pcap_writer::pcap_file_header(linktype, snaplen, true)
}

/// The size of a classic pcap record for `data_len` captured bytes under `snaplen`.
pub(crate) fn pcap_record_len(data_len: usize, snaplen: u32) -> u64 {
    PCAP_RECORD_HEADER_LEN + data_len.min(snaplen as usize) as u64
}

/// The state of a classic pcap file: the header waits for the first packet's link type.
#[derive(Debug)]
struct ClassicPcap<W: Write> {
    out: BufWriter<W>,
    snaplen: u32,
    linktype: Option<LinkType>,
    scratch: Vec<u8>,
}

impl<W: Write> ClassicPcap<W> {
    /// Writes one record (and the file header before the first); returns the bytes written.
    fn write(
        &mut self,
        ts: Timestamp,
        linktype: LinkType,
        data: &[u8],
        wire_len: u32,
    ) -> Result<u64, WriteError> {
        if let Some(file) = self.linktype
            && file != linktype
        {
            return Err(WriteError::LinkTypeMismatch {
                file,
                packet: linktype,
            });
        }
        let data = &data[..data.len().min(self.snaplen as usize)];
        let caplen = data.len() as u32;
        self.scratch.clear();
        if self.linktype.is_none() {
            self.scratch
                .extend_from_slice(&pcap_file_header(linktype, self.snaplen));
        }
        self.scratch
            .extend_from_slice(&pcap_record_header(ts, caplen, wire_len, true));
        self.scratch.extend_from_slice(data);
        self.out.write_all(&self.scratch)?;
        self.linktype = Some(linktype);
        Ok(self.scratch.len() as u64)
    }

    /// Writes the header if no packet did (Ethernet then), flushes, returns the bytes added.
    fn write_header_if_empty(&mut self) -> io::Result<u64> {
        if self.linktype.is_some() {
            return Ok(0);
        }
        self.out
            .write_all(&pcap_file_header(LinkType::ETHERNET, self.snaplen))?;
        self.linktype = Some(LinkType::ETHERNET);
        Ok(PCAP_HEADER_LEN)
    }
}

/// The format-specific writer.
#[derive(Debug)]
enum Inner<W: Write> {
    Pcap(ClassicPcap<W>),
    PcapNg(PcapNgWriter<W>),
}

/// Writes frames to one capture file in either format, counting packets and bytes exactly.
#[derive(Debug)]
pub struct PacketWriter<W: Write> {
    inner: Inner<W>,
    packets: u64,
    bytes: u64,
}

impl<W: Write> PacketWriter<W> {
    /// A writer of `format` to `w` (buffered internally). Data beyond `snaplen` bytes is cut
    /// off; a `snaplen` of 0 means the largest (262144). A pcapng section header is written at
    /// once; a classic pcap header waits for the first packet, whose link type it carries.
    pub fn new(w: W, format: PcapFormat, snaplen: u32) -> io::Result<Self> {
        let snaplen = effective_snaplen(snaplen);
        let (inner, bytes) = match format {
            PcapFormat::Pcap => (
                Inner::Pcap(ClassicPcap {
                    out: BufWriter::with_capacity(WRITE_BUFFER_BYTES, w),
                    snaplen,
                    linktype: None,
                    scratch: Vec::new(),
                }),
                0,
            ),
            PcapFormat::PcapNg => {
                let ng = PcapNgWriter::new(w, snaplen)?;
                let bytes = ng.bytes();
                (Inner::PcapNg(ng), bytes)
            }
        };
        Ok(PacketWriter {
            inner,
            packets: 0,
            bytes,
        })
    }

    /// The format being written.
    pub fn format(&self) -> PcapFormat {
        match self.inner {
            Inner::Pcap(_) => PcapFormat::Pcap,
            Inner::PcapNg(_) => PcapFormat::PcapNg,
        }
    }

    /// Writes one packet; the recorded original length is `wire_len`, or the data length if
    /// that is larger. On an error nothing is counted; after an I/O error the output may end in
    /// a partial record.
    pub fn write(
        &mut self,
        ts: Timestamp,
        linktype: LinkType,
        data: &[u8],
        wire_len: u32,
    ) -> Result<(), WriteError> {
        let written = match &mut self.inner {
            Inner::Pcap(p) => p.write(ts, linktype, data, wire_len)?,
            Inner::PcapNg(ng) => {
                let before = ng.bytes();
                ng.write(ts, linktype, data, wire_len)?;
                ng.bytes() - before
            }
        };
        self.packets += 1;
        self.bytes += written;
        Ok(())
    }

    /// Packets written so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Bytes written to the output so far, headers included (some may still sit in the buffer
    /// until [`PacketWriter::flush`] or [`PacketWriter::finish`]).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The link type of a classic pcap file (`None` before its first packet and for pcapng).
    pub fn pcap_linktype(&self) -> Option<LinkType> {
        match &self.inner {
            Inner::Pcap(p) => p.linktype,
            Inner::PcapNg(_) => None,
        }
    }

    /// Pushes buffered bytes to the underlying writer and flushes it. A classic pcap file that
    /// has no packet yet stays empty (its header waits for the first packet's link type).
    pub fn flush(&mut self) -> io::Result<()> {
        match &mut self.inner {
            Inner::Pcap(p) => p.out.flush(),
            Inner::PcapNg(ng) => ng.flush(),
        }
    }

    /// Flushes and returns the underlying writer. A classic pcap file that got no packet gets
    /// an Ethernet header, so it is still a valid (empty) capture.
    pub fn finish(self) -> io::Result<W> {
        match self.inner {
            Inner::Pcap(mut p) => {
                p.write_header_if_empty()?;
                let mut w = p.out.into_inner().map_err(|e| e.into_error())?;
                w.flush()?;
                Ok(w)
            }
            Inner::PcapNg(ng) => ng.finish(),
        }
    }

    /// The underlying writer (bytes still buffered have not reached it).
    pub(crate) fn get_ref(&self) -> &W {
        match &self.inner {
            Inner::Pcap(p) => p.out.get_ref(),
            Inner::PcapNg(ng) => ng.get_ref(),
        }
    }

    /// Gives the underlying writer back without writing what is still buffered (after an I/O
    /// error, so a failing disk is not retried with a partial record).
    pub(crate) fn abandon(self) -> W {
        match self.inner {
            Inner::Pcap(p) => p.out.into_parts().0,
            Inner::PcapNg(ng) => ng.abandon(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::PcapWriter;

    const TS: u64 = 1_700_000_000_123_456_789;

    #[test]
    fn format_parses_names_case_insensitively() {
        assert_eq!("pcap".parse::<PcapFormat>().unwrap(), PcapFormat::Pcap);
        assert_eq!("PcapNG".parse::<PcapFormat>().unwrap(), PcapFormat::PcapNg);
        assert_eq!(" PCAP ".parse::<PcapFormat>().unwrap(), PcapFormat::Pcap);
        let err = "pcap-ng".parse::<PcapFormat>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown capture file format \"pcap-ng\": expected \"pcap\" or \"pcapng\""
        );
        assert_eq!(PcapFormat::PcapNg.name(), "pcapng");
        assert_eq!(PcapFormat::Pcap.extension(), "pcap");
        assert_eq!(PcapFormat::PcapNg.extension(), "pcapng");
        assert_eq!(PcapFormat::PcapNg.to_string(), "pcapng");
    }

    #[test]
    fn classic_output_matches_pcap_writer() {
        let frames: [(u64, &[u8], u32); 3] = [
            (TS, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 10),
            (TS + 1, &[0xaa; 3], 60),
            (TS + 1_000_000_000, &[0x55; 20], 20),
        ];
        let mut ours = PacketWriter::new(Vec::new(), PcapFormat::Pcap, 8).unwrap();
        let mut theirs = PcapWriter::new(Vec::new(), LinkType::RAW, 8, true).unwrap();
        for (ts, data, wire) in frames {
            ours.write(Timestamp(ts), LinkType::RAW, data, wire)
                .unwrap();
            theirs.write_frame(Timestamp(ts), data, wire).unwrap();
        }
        let bytes = ours.bytes();
        let ours = ours.finish().unwrap();
        let theirs = theirs.finish().unwrap();
        assert_eq!(ours, theirs);
        assert_eq!(bytes, ours.len() as u64);
        // 24 + (16 + 8) + (16 + 3) + (16 + 8)
        assert_eq!(bytes, 91);
    }

    #[test]
    fn header_waits_for_the_first_packet() {
        let mut w = PacketWriter::new(Vec::new(), PcapFormat::Pcap, 65535).unwrap();
        assert_eq!(w.bytes(), 0);
        assert_eq!(w.pcap_linktype(), None);
        w.write(Timestamp(TS), LinkType::LINUX_SLL, &[9; 5], 5)
            .unwrap();
        assert_eq!(w.bytes(), 24 + 16 + 5);
        assert_eq!(w.packets(), 1);
        assert_eq!(w.pcap_linktype(), Some(LinkType::LINUX_SLL));
        let out = w.finish().unwrap();
        assert_eq!(&out[0..4], &[0x4d, 0x3c, 0xb2, 0xa1]);
        assert_eq!(&out[20..24], &113u32.to_le_bytes());
        assert_eq!(&out[24..28], &1_700_000_000u32.to_le_bytes());
        assert_eq!(&out[28..32], &123_456_789u32.to_le_bytes());
    }

    #[test]
    fn empty_classic_file_gets_an_ethernet_header() {
        let w = PacketWriter::new(Vec::new(), PcapFormat::Pcap, 1500).unwrap();
        let out = w.finish().unwrap();
        assert_eq!(out.len(), 24);
        assert_eq!(&out[16..20], &1500u32.to_le_bytes());
        assert_eq!(&out[20..24], &1u32.to_le_bytes());
    }

    #[test]
    fn snaplen_zero_means_the_largest() {
        let w = PacketWriter::new(Vec::new(), PcapFormat::Pcap, 0).unwrap();
        let out = w.finish().unwrap();
        assert_eq!(&out[16..20], &262_144u32.to_le_bytes());
    }

    #[test]
    fn other_link_type_is_rejected_and_writes_nothing() {
        let mut w = PacketWriter::new(Vec::new(), PcapFormat::Pcap, 65535).unwrap();
        w.write(Timestamp(TS), LinkType::ETHERNET, &[1; 14], 14)
            .unwrap();
        let before = w.bytes();
        let err = w
            .write(Timestamp(TS + 1), LinkType::RAW, &[0x45; 20], 20)
            .unwrap_err();
        assert!(matches!(
            err,
            WriteError::LinkTypeMismatch {
                file: LinkType::ETHERNET,
                packet: LinkType::RAW
            }
        ));
        assert_eq!(
            err.to_string(),
            "link type 101 does not match the pcap file's link type 1"
        );
        assert_eq!(w.bytes(), before);
        assert_eq!(w.packets(), 1);
        let out = w.finish().unwrap();
        assert_eq!(out.len() as u64, before);
    }

    /// Accepts `room` bytes, then fails every write.
    struct Full {
        data: Vec<u8>,
        room: usize,
    }

    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = buf.len().min(self.room - self.data.len());
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
            }
            self.data.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn io_errors_are_reported_and_not_counted() {
        let full = Full {
            data: Vec::new(),
            room: 100,
        };
        let mut w = PacketWriter::new(full, PcapFormat::Pcap, 65535).unwrap();
        // Larger than the buffer, so it goes straight to the (full) writer.
        let big = vec![7u8; WRITE_BUFFER_BYTES + 10];
        let err = w
            .write(Timestamp(TS), LinkType::ETHERNET, &big, 0)
            .unwrap_err();
        assert!(matches!(err, WriteError::Io(ref e) if e.kind() == io::ErrorKind::StorageFull));
        assert_eq!(w.packets(), 0);
        assert_eq!(w.bytes(), 0);
        assert_eq!(w.pcap_linktype(), None);
        assert_eq!(w.abandon().data.len(), 100);
    }
}
