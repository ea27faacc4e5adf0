//! Alerts: what the detection engine reports and every sink stores, logs or shows.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// How bad an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth a look.
    Low,
    /// Needs attention.
    Medium,
    /// Act soon.
    High,
    /// Act now.
    Critical,
}

impl Severity {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses a lower-case name.
    pub fn parse(s: &str) -> Option<Severity> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// An alert (an incident): one attack or anomaly, however long it lasts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Unique id within a database (assigned by the detection engine).
    pub id: u64,
    /// What was detected, e.g. `syn_flood`, `port_scan`, `threat_intel`.
    pub kind: String,
    /// How bad it is.
    pub severity: Severity,
    /// How sure the detector is, 0–1.
    pub confidence: f64,
    /// Packet time of the first evidence.
    pub start_ts: Timestamp,
    /// Packet time of the latest evidence.
    pub last_ts: Timestamp,
    /// How many times the incident was updated.
    pub updates: u64,
    /// Attacking or offending addresses (bounded list).
    pub sources: Vec<IpAddr>,
    /// Targeted addresses (bounded list).
    pub targets: Vec<IpAddr>,
    /// Ports involved (bounded list).
    pub ports: Vec<u16>,
    /// Human message with the numbers that triggered it.
    pub message: String,
    /// What the administrator should do.
    pub recommendation: String,
    /// Metric values, thresholds and top contributors.
    pub evidence: serde_json::Value,
}

/// What happened to an incident in one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// Opened by a draft of this interval.
    Opened,
    /// Updated by a draft of this interval.
    Updated,
    /// Ended (quiet time, the cap on open incidents, or the end of the capture); final state.
    Ended,
}
