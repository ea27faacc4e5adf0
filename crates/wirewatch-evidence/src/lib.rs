//! Packets as evidence: the in-memory ring of recent packets, an evidence capture per alert
//! (written next to the database and linked from the alert), rotating capture files
//! (`run --write-pcap DIR`) and packet export by host, port, flow and time range.
//!
//! Owns the recorder the engine feeds on its own thread (it never blocks there unless told
//! to: analysis and replays wait, live capture and the demo drop and count), the writer thread
//! behind a bounded queue ([`spool`]), and the export of packets from the ring or from capture
//! files ([`export`]).
//!
//! Must not: know of the engine, the web layer or the command line (the engine owns a recorder,
//! the binary's dashboard calls the export); read the clock (capture windows are packet time);
//! depend on any Wirewatch crate but `wirewatch-core`, `wirewatch-decode` (packet summaries)
//! and `wirewatch-capture` (pcap writers). Packet data and names are hostile input.

pub mod batch;
pub mod error;
pub mod export;
pub mod filter;
pub mod recorder;
pub mod ring;
pub mod spool;

pub use error::EvidenceError;
pub use filter::{FlowSpec, PacketFilter};
pub use recorder::{EvidenceLink, EvidenceRecorder, EvidenceStats};
pub use spool::CaptureFiles;

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Evidence settings (`[evidence]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvidenceSettings {
    /// Save an evidence capture for each alert (when there is a database or a `dir`).
    pub enabled: bool,
    /// Where evidence files go; default: `<database name>.evidence` next to the database.
    pub dir: Option<PathBuf>,
    /// Size of the in-memory ring of recent packets, in MiB (1–4095).
    pub ring_mb: u64,
    /// Seconds of packets before the alert's first evidence.
    pub before_secs: u64,
    /// Seconds of packets after the alert's latest evidence when it opened.
    pub after_secs: u64,
    /// The most captured bytes one evidence file holds, in MiB.
    pub max_file_mb: u64,
    /// The most all evidence files together take, in MiB (the oldest are deleted first).
    pub max_total_mb: u64,
    /// The most evidence captures collecting packets at once.
    pub max_open: usize,
}

impl Default for EvidenceSettings {
    fn default() -> Self {
        EvidenceSettings {
            enabled: true,
            dir: None,
            ring_mb: 64,
            before_secs: 10,
            after_secs: 10,
            max_file_mb: 32,
            max_total_mb: 1024,
            max_open: 16,
        }
    }
}

impl EvidenceSettings {
    /// Checks values that parse but make no sense.
    pub fn validate(&self) -> Result<(), EvidenceError> {
        ensure(
            (1..=4095).contains(&self.ring_mb),
            "evidence.ring_mb must be between 1 and 4095",
        )?;
        ensure(
            self.max_file_mb > 0,
            "evidence.max_file_mb must be positive",
        )?;
        ensure(
            self.max_total_mb >= self.max_file_mb,
            "evidence.max_total_mb must be at least evidence.max_file_mb",
        )?;
        ensure(self.max_open > 0, "evidence.max_open must be positive")?;
        ensure(
            self.before_secs <= 3600 && self.after_secs <= 3600,
            "evidence.before_secs and evidence.after_secs must be at most 3600",
        )?;
        Ok(())
    }

    /// Where evidence files go for a run with database `db` (none: no evidence captures).
    pub fn dir_for(&self, db: Option<&Path>) -> Option<PathBuf> {
        if !self.enabled {
            return None;
        }
        self.dir.clone().or_else(|| db.map(evidence_dir_for))
    }
}

/// Where an alert's evidence capture is written, when it has one (`evidence.pcap.path`).
pub fn evidence_path(alert: &wirewatch_core::Alert) -> Option<&str> {
    alert.evidence.get("pcap")?.get("path")?.as_str()
}

/// The evidence directory next to a database: `wirewatch.db` → `wirewatch.evidence`.
pub fn evidence_dir_for(db: &Path) -> PathBuf {
    let stem = db
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "wirewatch".into());
    db.with_file_name(format!("{stem}.evidence"))
}

const MIB: u64 = 1 << 20;

/// A settings check: `Ok` when `ok`, else the message.
fn ensure(ok: bool, message: &str) -> Result<(), EvidenceError> {
    if ok {
        Ok(())
    } else {
        Err(EvidenceError::Settings(message.to_string()))
    }
}

/// Starts the writer thread and builds the recorder. `dir`: evidence captures (none: ring
/// only); `files`: capture files of every packet; `blocking`: writes wait instead of dropping
/// (analysis, replays).
pub fn start_recorder(
    settings: &EvidenceSettings,
    dir: Option<PathBuf>,
    files: CaptureFiles,
    blocking: bool,
) -> Result<EvidenceRecorder, EvidenceError> {
    let max_file_bytes = settings.max_file_mb.saturating_mul(MIB);
    let has_rotating = files.any();
    let spool = spool::Spool::start(
        dir.clone().map(|dir| spool::EvidenceDir {
            dir,
            max_total_bytes: settings.max_total_mb.saturating_mul(MIB),
            max_file_bytes,
        }),
        files,
        blocking,
    )?;
    let ring_bytes = usize::try_from(settings.ring_mb.saturating_mul(MIB)).unwrap_or(usize::MAX);
    Ok(EvidenceRecorder::new(
        ring_bytes,
        recorder::CaptureRules {
            dir,
            before_ns: settings.before_secs.saturating_mul(1_000_000_000),
            after_ns: settings.after_secs.saturating_mul(1_000_000_000),
            max_file_bytes,
            max_open: settings.max_open,
        },
        spool,
        has_rotating,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_goes_next_to_the_database() {
        assert_eq!(
            evidence_dir_for(Path::new("/var/lib/ww/wirewatch.db")),
            PathBuf::from("/var/lib/ww/wirewatch.evidence")
        );
        assert_eq!(
            evidence_dir_for(Path::new("history")),
            PathBuf::from("history.evidence")
        );
        let s = EvidenceSettings::default();
        assert_eq!(s.dir_for(None), None);
        let off = EvidenceSettings {
            enabled: false,
            ..s.clone()
        };
        assert_eq!(off.dir_for(Some(Path::new("a.db"))), None);
        assert!(s.validate().is_ok());
        let bad = EvidenceSettings { ring_mb: 0, ..s };
        assert!(bad.validate().is_err());
    }
}
