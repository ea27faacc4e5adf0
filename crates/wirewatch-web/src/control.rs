//! The capture control interface the web layer drives, implemented by the binary.
//!
//! Owns the [`Control`] trait and the types it speaks. The web layer knows nothing of capture
//! sources: the `wirewatch` binary implements [`Control`] over its capture monitor. Calls block
//! (a filter change may wait up to 3 s for the capture thread), so handlers run them on the
//! blocking pool, never on the async workers.

use crate::snapshot::CaptureStatus;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Starts, stops and re-filters the capture. Every method may block for a few seconds.
pub trait Control: Send + Sync + 'static {
    /// The current capture status.
    fn status(&self) -> CaptureStatus;
    /// The interfaces a live capture can open.
    fn interfaces(&self) -> Result<Vec<InterfaceView>, ControlFailure>;
    /// Starts capturing on `interface` (`None`: the default interface) with `filter`, replacing
    /// the running source only once the new one is open.
    fn start(
        &self,
        interface: Option<String>,
        filter: Option<String>,
    ) -> Result<CaptureStatus, ControlFailure>;
    /// Stops capturing.
    fn stop(&self) -> CaptureStatus;
    /// Replaces the capture filter of the running live capture (`None` clears it).
    fn set_filter(&self, filter: Option<String>) -> Result<CaptureStatus, ControlFailure>;
    /// Retrains the anomaly model on the stored intervals between `from` and `to` (seconds
    /// since the epoch, or RFC 3339; `None`: all), swaps it in and saves it. May take seconds.
    fn retrain(
        &self,
        _from: Option<String>,
        _to: Option<String>,
    ) -> Result<RetrainOutcome, ControlFailure> {
        Err(ControlFailure::unavailable(
            "retraining is not available here (no anomaly detector or no database)",
        ))
    }
    /// The evidence capture of alert `id`: its path on disk.
    fn evidence_capture(&self, id: u64) -> Result<std::path::PathBuf, ControlFailure> {
        Err(ControlFailure::not_found(format!(
            "alert {id} has no evidence capture (none are kept here)"
        )))
    }
    /// The packets `query` selects, as a capture file. May take seconds (capture files).
    fn export_packets(&self, _query: PacketQuery) -> Result<PacketExport, ControlFailure> {
        Err(ControlFailure::unavailable(
            "packet export is not available here (no packet ring and no capture files)",
        ))
    }
}

/// What `GET /api/packets` asks for: raw parameter values, checked by the control side.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct PacketQuery {
    /// `ring` (recent packets in memory, the default) or `files` (the rotating capture files).
    pub source: Option<String>,
    /// Addresses, comma-separated: a packet from or to any of them.
    pub host: Option<String>,
    /// A port, source or destination.
    pub port: Option<String>,
    /// A flow: `PROTO ADDR:PORT ADDR:PORT`, either direction.
    pub flow: Option<String>,
    /// Not before (Unix seconds or RFC 3339).
    pub from: Option<String>,
    /// Not after (Unix seconds or RFC 3339).
    pub until: Option<String>,
    /// `pcap` (the default) or `pcapng`.
    pub format: Option<String>,
}

/// A capture file made by an export.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PacketExport {
    /// The file's bytes.
    pub data: Vec<u8>,
    /// A file name for the download.
    pub filename: String,
    /// Packets in it.
    pub packets: u64,
    /// Packets that matched but were left out (size cap, other link type in a pcap).
    pub left_out: u64,
}

/// What a retrain did.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct RetrainOutcome {
    /// Intervals the model was trained on.
    pub intervals: usize,
    /// The new model's anomaly threshold.
    pub threshold: f64,
    /// Where it was saved, when it was.
    pub saved_to: Option<String>,
}

/// A network interface as `GET /api/interfaces` lists it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct InterfaceView {
    /// Name to capture on, e.g. `eth0`.
    pub name: String,
    /// Description from the system, if any.
    pub description: Option<String>,
    /// Addresses assigned to it.
    pub addresses: Vec<IpAddr>,
    /// Administratively up.
    pub up: bool,
    /// Operationally running.
    pub running: bool,
    /// A loopback interface.
    pub loopback: bool,
    /// A wireless interface.
    pub wireless: bool,
    /// The interface a capture opens when none is named.
    pub default: bool,
}

/// Why a control request failed, which decides the HTTP status.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ControlFailureKind {
    /// The request was understood and refused: bad interface or filter (422).
    Refused,
    /// The request does not fit the current state, e.g. no live capture to filter (409).
    Conflict,
    /// Control is not possible in this mode, e.g. replaying a file (503).
    Unavailable,
    /// The request's parameters are malformed (400).
    Invalid,
    /// What the request names does not exist (404).
    NotFound,
}

/// A failed control request, with a message for the user (libpcap's text where it has one).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ControlFailure {
    /// Which kind of failure.
    pub kind: ControlFailureKind,
    /// What went wrong and what to do.
    pub message: String,
}

impl ControlFailure {
    /// A refused request (bad interface or filter).
    pub fn refused(message: impl Into<String>) -> ControlFailure {
        ControlFailure {
            kind: ControlFailureKind::Refused,
            message: message.into(),
        }
    }

    /// A request that conflicts with the current state.
    pub fn conflict(message: impl Into<String>) -> ControlFailure {
        ControlFailure {
            kind: ControlFailureKind::Conflict,
            message: message.into(),
        }
    }

    /// Malformed parameters.
    pub fn invalid(message: impl Into<String>) -> ControlFailure {
        ControlFailure {
            kind: ControlFailureKind::Invalid,
            message: message.into(),
        }
    }

    /// Nothing by that name.
    pub fn not_found(message: impl Into<String>) -> ControlFailure {
        ControlFailure {
            kind: ControlFailureKind::NotFound,
            message: message.into(),
        }
    }

    /// Control is unavailable.
    pub fn unavailable(message: impl Into<String>) -> ControlFailure {
        ControlFailure {
            kind: ControlFailureKind::Unavailable,
            message: message.into(),
        }
    }
}
