//! What the dashboard reaches of the recorded packets: evidence files by alert id, and exports
//! from the ring or the rotating capture files.

use crate::live::Monitor;
use crate::pipeline::Sink;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use wirewatch_capture::write::{PcapFormat, list_files};
use wirewatch_evidence::export::{
    ExportSummary, RingCopy, copy_from_ring, export_files, write_ring_copy,
};
use wirewatch_evidence::filter::{PacketFilter, parse_filter};
use wirewatch_evidence::spool::evidence_file_name;
use wirewatch_web::{ControlFailure, PacketExport, PacketQuery};

/// The most packet bytes one download carries (narrow the filter for more).
pub const MAX_EXPORT_BYTES: u64 = 256 << 20;

/// Where the ring is: a copy of its matching packets on request.
pub trait RingAccess: Send + Sync {
    /// Copies the packets `filter` takes (at most `max_bytes` of data); `None` when the ring
    /// is not reachable (no recorder, or the engine has stopped).
    fn copy(&self, filter: PacketFilter, max_bytes: u64) -> Option<RingCopy>;
}

/// How long a download waits for the engine thread to copy the packets.
const RING_WAIT: Duration = Duration::from_secs(10);

impl<S: Sink + Send + 'static> RingAccess for Monitor<S> {
    fn copy(&self, filter: PacketFilter, max_bytes: u64) -> Option<RingCopy> {
        self.run_on_engine(
            move |engine| {
                engine
                    .evidence()
                    .map(|e| copy_from_ring(e.ring(), &filter, max_bytes))
            },
            RING_WAIT,
        )
        .flatten()
    }
}

/// Recorded packets as the web layer sees them.
#[derive(Clone, Default)]
pub struct PacketAccess {
    /// The ring of recent packets, when recorded.
    pub ring: Option<Arc<dyn RingAccess>>,
    /// Where evidence captures are, when kept.
    pub evidence_dir: Option<PathBuf>,
    /// The rotating capture files' directory and name prefix, when written.
    pub capture_files: Option<(PathBuf, String)>,
}

impl PacketAccess {
    /// The evidence capture of alert `id`.
    pub fn evidence_capture(&self, id: u64) -> Result<PathBuf, ControlFailure> {
        let Some(dir) = &self.evidence_dir else {
            return Err(ControlFailure::not_found(
                "no evidence captures are kept by this run (no database or evidence disabled)",
            ));
        };
        let path = dir.join(evidence_file_name(id));
        if !path.is_file() {
            return Err(ControlFailure::not_found(format!(
                "alert {id} has no evidence capture"
            )));
        }
        Ok(path)
    }

    /// The packets `q` selects, as a capture file.
    pub fn export(&self, q: &PacketQuery) -> Result<PacketExport, ControlFailure> {
        let hosts: Vec<String> = q.host.iter().cloned().collect();
        let filter = parse_filter(
            &hosts,
            q.port.as_deref(),
            q.flow.as_deref(),
            q.from.as_deref(),
            q.until.as_deref(),
        )
        .map_err(ControlFailure::invalid)?;
        let format: PcapFormat = match &q.format {
            Some(f) => f
                .parse()
                .map_err(|e| ControlFailure::invalid(format!("{e}")))?,
            None => PcapFormat::Pcap,
        };
        let source = q.source.as_deref().unwrap_or("ring");
        let fail = |e: wirewatch_evidence::EvidenceError| {
            ControlFailure::unavailable(format!("{:#}", anyhow::Error::from(e)))
        };
        let (data, summary): (Vec<u8>, ExportSummary) = match source {
            "ring" => {
                let ring = self.ring.as_ref().ok_or_else(|| {
                    ControlFailure::unavailable("no packet ring in this run (evidence disabled)")
                })?;
                let copy = ring.copy(filter, MAX_EXPORT_BYTES).ok_or_else(|| {
                    ControlFailure::unavailable("the engine did not answer (is it stopping?)")
                })?;
                write_ring_copy(&copy, format, Vec::new()).map_err(fail)?
            }
            "files" => {
                let (dir, prefix) = self.capture_files.as_ref().ok_or_else(|| {
                    ControlFailure::unavailable(
                        "no capture files in this run (start it with --write-pcap DIR)",
                    )
                })?;
                let files = list_files(dir, prefix).map_err(|e| {
                    ControlFailure::unavailable(format!("cannot list {}: {e}", dir.display()))
                })?;
                export_files(&files, &filter, format, Vec::new(), MAX_EXPORT_BYTES).map_err(fail)?
            }
            other => {
                return Err(ControlFailure::invalid(format!(
                    "`{}` is not a packet source: use ring or files",
                    other.escape_debug()
                )));
            }
        };
        Ok(PacketExport {
            data,
            filename: format!("wirewatch-{source}.{}", format.extension()),
            packets: summary.packets,
            left_out: summary.over_cap + summary.other_linktype,
        })
    }
}
