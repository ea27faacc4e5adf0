//! What can go wrong when recording or exporting packets.

use std::path::PathBuf;
use wirewatch_capture::write::WriteError;

/// An evidence or export failure, with what was being done.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// A setting out of its range.
    #[error("{0}")]
    Settings(String),
    /// The evidence directory could not be created.
    #[error("cannot create the evidence directory {}", dir.display())]
    CreateDir {
        /// The directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Rotating capture files could not be started.
    #[error("cannot write capture files in {}", dir.display())]
    CaptureFiles {
        /// Their directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: WriteError,
    },
    /// The capture file of every packet (`run -w FILE`) could not be created.
    #[error("cannot create the capture file {}", path.display())]
    CaptureFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The writer thread could not be started.
    #[error("cannot start the pcap writer thread")]
    Thread(#[source] std::io::Error),
    /// An export's BPF expression did not compile.
    #[error(transparent)]
    Filter(wirewatch_capture::CaptureError),
    /// An export could not be written.
    #[error("cannot write the export")]
    Export(#[source] WriteError),
}
