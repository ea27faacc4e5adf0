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

    /// Control is unavailable.
    pub fn unavailable(message: impl Into<String>) -> ControlFailure {
        ControlFailure {
            kind: ControlFailureKind::Unavailable,
            message: message.into(),
        }
    }
}
