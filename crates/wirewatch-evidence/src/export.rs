//! Packet export: the packets a [`PacketFilter`] takes, from the ring or from capture files,
//! written as pcap or pcapng.

use super::batch::PacketBatch;
use super::filter::PacketFilter;
use super::ring::{PacketMeta, PacketRing};
use crate::EvidenceError;
use std::io::Write;
use std::path::PathBuf;
use wirewatch_capture::FileSource;
use wirewatch_capture::live::BpfFilter;
use wirewatch_capture::write::{PacketWriter, PcapFormat, WriteError};
use wirewatch_core::{LinkType, Timestamp};
use wirewatch_decode::decode;

/// Snapshot length written in export headers.
const SNAPLEN: u32 = 262_144;

/// What an export did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ExportSummary {
    /// Packets looked at.
    pub scanned: u64,
    /// Packets written.
    pub packets: u64,
    /// Captured bytes written (without file and record headers).
    pub bytes: u64,
    /// Packets left out because a pcap file holds one link type (use pcapng to keep them).
    pub other_linktype: u64,
    /// Packets left out because the export reached its size cap.
    pub over_cap: u64,
    /// Problems with input files that did not stop the export.
    pub warnings: Vec<String>,
}

/// Writes packets and counts them.
struct Exporter<W: Write> {
    writer: PacketWriter<W>,
    summary: ExportSummary,
    max_bytes: u64,
}

impl<W: Write> Exporter<W> {
    fn new(out: W, format: PcapFormat, max_bytes: u64) -> Result<Self, EvidenceError> {
        Ok(Exporter {
            writer: PacketWriter::new(out, format, SNAPLEN)
                .map_err(|e| EvidenceError::Export(e.into()))?,
            summary: ExportSummary::default(),
            max_bytes,
        })
    }

    fn write(
        &mut self,
        ts: Timestamp,
        linktype: LinkType,
        wire_len: u32,
        data: &[u8],
    ) -> Result<(), EvidenceError> {
        if self.summary.bytes + data.len() as u64 > self.max_bytes {
            self.summary.over_cap += 1;
            return Ok(());
        }
        match self.writer.write(ts, linktype, data, wire_len) {
            Ok(()) => {
                self.summary.packets += 1;
                self.summary.bytes += data.len() as u64;
                Ok(())
            }
            Err(WriteError::LinkTypeMismatch { .. }) => {
                self.summary.other_linktype += 1;
                Ok(())
            }
            Err(e) => Err(EvidenceError::Export(e)),
        }
    }

    fn finish(self) -> Result<(W, ExportSummary), EvidenceError> {
        let w = self
            .writer
            .finish()
            .map_err(|e| EvidenceError::Export(e.into()))?;
        Ok((w, self.summary))
    }
}

/// Packets copied out of the ring for an export.
#[derive(Debug, Default)]
pub struct RingCopy {
    /// The packets that matched (within the size cap).
    pub batch: PacketBatch,
    /// Packets looked at.
    pub scanned: u64,
    /// Packets that matched beyond the size cap.
    pub over_cap: u64,
}

/// Copies the ring's packets that `filter` takes (at most `max_bytes` of packet data). Runs
/// where the ring lives (the engine thread); writing the file happens elsewhere.
pub fn copy_from_ring(ring: &PacketRing, filter: &PacketFilter, max_bytes: u64) -> RingCopy {
    let mut copy = RingCopy::default();
    for (meta, data) in ring.iter() {
        copy.scanned += 1;
        if filter.matches(&meta) {
            if (copy.batch.bytes() + data.len()) as u64 > max_bytes {
                copy.over_cap += 1;
            } else {
                copy.batch.push(&meta, data);
            }
        }
    }
    copy
}

/// Writes packets copied out of the ring as a capture file.
pub fn write_ring_copy<W: Write>(
    copy: &RingCopy,
    format: PcapFormat,
    out: W,
) -> Result<(W, ExportSummary), EvidenceError> {
    let mut ex = Exporter::new(out, format, u64::MAX)?;
    for (e, data) in copy.batch.iter() {
        ex.write(e.ts, e.linktype, e.wire_len, data)?;
    }
    ex.summary.scanned = copy.scanned;
    ex.summary.over_cap += copy.over_cap;
    ex.finish()
}

/// Exports the packets of capture files (in order; `-` is standard input) that `filter` takes,
/// its BPF expression included. A file that cannot be read, or stops early, becomes a warning;
/// the export goes on with the next. An expression libpcap refuses is an error before any.
pub fn export_files<W: Write>(
    files: &[PathBuf],
    filter: &PacketFilter,
    format: PcapFormat,
    out: W,
    max_bytes: u64,
) -> Result<(W, ExportSummary), EvidenceError> {
    let mut bpf = match &filter.bpf {
        Some(expr) => Some(BpfFilter::new(expr).map_err(EvidenceError::Filter)?),
        None => None,
    };
    let mut ex = Exporter::new(out, format, max_bytes)?;
    for path in files {
        let mut source = match FileSource::open_or_stdin(path) {
            Ok(s) => s,
            Err(e) => {
                ex.summary.warnings.push(e.to_string());
                continue;
            }
        };
        loop {
            match source.next_frame() {
                Ok(Some(frame)) => {
                    ex.summary.scanned += 1;
                    // Time first: a time range skips most packets without decoding them.
                    if filter.from.is_some_and(|f| frame.ts < f)
                        || filter.until.is_some_and(|u| frame.ts > u)
                    {
                        continue;
                    }
                    let pkt = decode(frame.linktype, frame.data);
                    let meta = PacketMeta::of(&frame, &pkt);
                    if filter.matches(&meta)
                        && bpf
                            .as_mut()
                            .is_none_or(|b| b.matches(frame.linktype, frame.data))
                    {
                        ex.write(frame.ts, frame.linktype, frame.wire_len, frame.data)?;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    ex.summary.warnings.push(e.to_string());
                    break;
                }
            }
        }
    }
    ex.finish()
}
