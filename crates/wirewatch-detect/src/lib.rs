//! Wirewatch detection: the detectors and the engine that turns their findings into incidents.
//!
//! Owns the [`Detector`] trait, one detector per file under [`detectors`], the
//! [`DetectionEngine`], which runs them and does — once, for all of them — suppression,
//! deduplication into incidents, incident ids, quiet-time ending and rate limits, the one
//! severity and confidence [`policy`] and the network's [`threat_level`].
//!
//! Detectors are pure state machines over packet time: they consume closed intervals
//! ([`IntervalMetrics`]) and, where they need finer signals, decoded packets, finished flows,
//! DNS messages and threat-intelligence hits, and push [`AlertDraft`]s into a buffer. Every map
//! is bounded by a named cap and every entry a cap turns away is counted
//! ([`DetectStats::state_evictions`]).
//!
//! Must not: do I/O or log; let the clock decide anything (its `clippy.toml` refuses the
//! clocks; the `Instant::now` allowed in the detection engine only times detectors for
//! `/metrics`); know about storage, the web, the capture or the outputs; depend on
//! `wirewatch-engine`, the binary, or any Wirewatch crate but `wirewatch-core`, `-decode`,
//! `-flow`, `-metrics` and `-ml`.
//!
//! # Detectors
//!
//! | file | kinds | input |
//! |---|---|---|
//! | [`detectors::spike`] | `spike` | intervals |
//! | [`detectors::syn_flood`] | `syn_flood` | packets (SYN / SYN-ACK per destination) + intervals |
//! | [`detectors::port_scan`] | `port_scan` | packets (probes and answers per source) |
//! | [`detectors::dos`] | `dos`, `ddos` | packets (per destination) |
//! | [`detectors::reflection`] | `ddos`, `dos`, `dns_amplification` | packets (unsolicited answers per victim) |
//! | [`detectors::brute_force`] | `brute_force` | flows |
//! | [`detectors::flood`] | `icmp_flood`, `udp_flood` | packets (per destination) |
//! | [`detectors::dns`] | `dns_tunnel`, `dns_amplification` | DNS messages |
//! | [`detectors::threat_intel`] | `threat_intel` | threat-intelligence hits |
//! | [`detectors::ml_anomaly`] | `ml_anomaly` | intervals (Isolation Forest model) |
//! | [`detectors::ml_threat`] | `ml_threat` | flows (flow-classifier model) |
//!
//! Overlaps are resolved so that one attack is one incident: in the detectors (`dos`/`ddos`
//! leave a destination whose traffic is mostly bare SYNs to `syn_flood` and mostly UDP or ICMP
//! to `flood`; `syn_flood` leaves a single source probing many ports to `port_scan`; `spike`
//! leaves bare SYNs out of the rate it watches) and once, in the engine, for findings of the
//! same interval: a specific flood explains a DoS of the same target, DNS amplification its UDP
//! flood, a scan the network-wide SYN flood its SYNs make, and a flood or fast scan its spike.
//! Every finding is scored by [`policy`], and names only the sources that carried a notable
//! share of it.
//!
pub mod detectors;
mod engine;
pub use wirewatch_core::kind;
pub mod policy;
mod present;
mod sketch;
mod suppress;
#[cfg(test)]
mod testutil;
pub mod threat_level;

pub use engine::{
    AlertUpdate, DetectStats, DetectionEngine, DetectorState, IncidentStatus, MAX_LISTED,
};
pub use suppress::SuppressRule;

use detectors::{
    brute_force, dns, dos, flood, ml_anomaly, ml_threat, port_scan, reflection, spike, syn_flood,
    threat_intel,
};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use wirewatch_core::{FlowRecord, IntervalMetrics, Severity, ThreatHit, Timestamp};
use wirewatch_decode::Packet;
use wirewatch_decode::app::dns::DnsMessage;
pub use wirewatch_flow::Ingested;

/// A detector's finding before incident grouping.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertDraft {
    /// What was detected (one of the names in [`kind`]).
    pub kind: &'static str,
    /// How bad this finding is on its own.
    pub severity: Severity,
    /// How sure the detector is, 0–1.
    pub confidence: f64,
    /// Packet time of the evidence (the end of the interval it was found in).
    pub ts: Timestamp,
    /// Offending addresses (a sample when there are many).
    pub sources: Vec<IpAddr>,
    /// Targeted addresses.
    pub targets: Vec<IpAddr>,
    /// Ports involved.
    pub ports: Vec<u16>,
    /// Human message with the numbers that triggered it.
    pub message: String,
    /// What the administrator should do.
    pub recommendation: String,
    /// Metric values, thresholds and top contributors.
    pub evidence: serde_json::Value,
    /// What makes two drafts the same incident (e.g. kind + target, or kind + source).
    pub incident_key: String,
    /// A number the incident tracks the peak of (e.g. SYNs/s).
    pub magnitude: f64,
}

/// One detector. It does no I/O and never reads the clock: time comes with the events.
pub trait Detector: Send {
    /// A stable name (used for rate limits and statistics).
    fn name(&self) -> &'static str;
    /// Whether `on_packet` should be called (most detectors work on intervals only).
    fn wants_packets(&self) -> bool {
        false
    }
    /// Whether `on_packet` / `on_flow_packet` should also be called for *routine* segments:
    /// TCP with ACK and without SYN or RST, in a flow the table already knew, that neither
    /// answers the initiator first nor completes the handshake — most packets of any capture.
    /// Detectors that look at connections' beginnings and ends (handshakes, probes, unsolicited
    /// answers) return `false` and are spared them; the rate detectors keep the default.
    /// Without flow information every packet is delivered.
    fn wants_routine(&self) -> bool {
        true
    }
    /// Whether `on_flow` should be called.
    fn wants_flows(&self) -> bool {
        false
    }
    /// One decoded packet of `wire_len` bytes seen at `ts`. Called after the intervals that
    /// end at or before `ts` were closed, so the packet belongs to the open interval.
    fn on_packet(&mut self, _pkt: &Packet, _wire_len: u32, _ts: Timestamp) {}
    /// Like [`on_packet`](Self::on_packet), with what the flow table made of the packet (`None`
    /// for packets outside any flow, such as ARP, or when no flow table runs). Detectors whose
    /// signal depends on the connection (a handshake completed, an answer nobody asked for)
    /// override this one; the default forwards to `on_packet`.
    fn on_flow_packet(
        &mut self,
        pkt: &Packet,
        wire_len: u32,
        ts: Timestamp,
        _flow: Option<&Ingested>,
    ) {
        self.on_packet(pkt, wire_len, ts);
    }
    /// One finished flow.
    fn on_flow(&mut self, _flow: &FlowRecord) {}
    /// Whether `on_dns` should be called.
    fn wants_dns(&self) -> bool {
        false
    }
    /// A DNS message (port 53), decoded once by the engine for every detector that wants it.
    fn on_dns(&mut self, _pkt: &Packet, _msg: &DnsMessage, _wire_len: u32, _ts: Timestamp) {}
    /// Whether `on_threat` should be called.
    fn wants_threats(&self) -> bool {
        false
    }
    /// A flow endpoint with a reputation (blocklist entry or AbuseIPDB score).
    fn on_threat(&mut self, _hit: &ThreatHit) {}
    /// Called when an interval closes; push findings into `out`.
    fn on_interval(&mut self, metrics: &IntervalMetrics, out: &mut Vec<AlertDraft>);
    /// Entries its bounded maps had to turn away or drop so far (a cumulative count).
    fn evictions(&self) -> u64 {
        0
    }
    /// The detector as `Any`, for callers that need its concrete type (e.g. the anomaly
    /// detector's model slot).
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
    /// Entries its bounded maps hold now (sources, destinations, baselines...).
    fn tracked(&self) -> usize {
        0
    }
}

/// Settings of the detection engine and of every detector.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DetectConfig {
    /// Run detection at all.
    pub enabled: bool,
    /// Incident grouping, ending and rate limits.
    pub incident: IncidentConfig,
    /// Drafts matching any of these rules are dropped (and counted).
    pub suppress: Vec<SuppressRule>,
    /// Traffic spikes over the adaptive baseline.
    pub spike: spike::Config,
    /// SYN floods.
    pub syn_flood: syn_flood::Config,
    /// Port scans.
    pub port_scan: port_scan::Config,
    /// DoS / DDoS against one destination.
    pub dos: dos::Config,
    /// Reflection and amplification (unsolicited SYN-ACKs, large UDP answers).
    pub reflection: reflection::Config,
    /// Brute force against authentication services.
    pub brute_force: brute_force::Config,
    /// ICMP and UDP floods.
    pub flood: flood::Config,
    /// DNS tunnels and amplification.
    pub dns: dns::Config,
    /// Hosts talking to addresses on blocklists or scored by AbuseIPDB.
    pub threat_intel: threat_intel::Config,
    /// Intervals unlike the learned baseline (Isolation Forest).
    pub ml_anomaly: ml_anomaly::Config,
    /// Flows a trained classifier calls an attack.
    pub ml_threat: ml_threat::Config,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            enabled: true,
            incident: IncidentConfig::default(),
            suppress: Vec::new(),
            spike: spike::Config::default(),
            syn_flood: syn_flood::Config::default(),
            port_scan: port_scan::Config::default(),
            dos: dos::Config::default(),
            reflection: reflection::Config::default(),
            brute_force: brute_force::Config::default(),
            flood: flood::Config::default(),
            dns: dns::Config::default(),
            threat_intel: threat_intel::Config::default(),
            ml_anomaly: ml_anomaly::Config::default(),
            ml_threat: ml_threat::Config::default(),
        }
    }
}

/// How drafts become incidents and how many new incidents may open.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct IncidentConfig {
    /// End an incident after this much packet time without a draft. A minute bridges the
    /// short pauses of a pulsing attack without keeping a finished one open for long.
    pub quiet_secs: u64,
    /// Cap on open incidents; when a new one would exceed it, the least recently updated one
    /// is ended (and counted). 1,000 is far more than an operator can read at once.
    pub max_open: usize,
    /// New incidents one detector may open per minute of packet time; more are dropped and
    /// counted. Updates of open incidents are never limited.
    pub max_new_per_minute_per_detector: u32,
    /// New incidents naming one single source that may open per minute of packet time.
    pub max_new_per_minute_per_source: u32,
}

impl Default for IncidentConfig {
    fn default() -> Self {
        IncidentConfig {
            quiet_secs: 60,
            max_open: 1000,
            max_new_per_minute_per_detector: 30,
            max_new_per_minute_per_source: 10,
        }
    }
}

/// A configuration the engine refuses.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DetectError {
    /// A suppression rule is malformed.
    #[error("detect.suppress rule #{index}: {reason}")]
    Suppress {
        /// Position of the rule in `suppress` (from 1).
        index: usize,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// A detector setting is invalid (the reason comes from the component that checked it).
    #[error("detect.{path}: {reason}")]
    Setting {
        /// The setting's path below `detect`.
        path: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A detector or incident setting is out of range.
    #[error("detect.{section}.{field} = {value}: {reason}")]
    Invalid {
        /// The config section (`spike`, `incident`, ...).
        section: &'static str,
        /// The field.
        field: &'static str,
        /// The value given.
        value: String,
        /// What is accepted.
        reason: &'static str,
    },
}
