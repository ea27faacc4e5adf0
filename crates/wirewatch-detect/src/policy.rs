//! The one severity and confidence policy every detector scores its findings with.
//!
//! Severity says how much harm the finding means for the network — an operator reading only
//! `high` and `critical` must see only what needs a person now — and it comes from *impact*,
//! never from a ratio alone: "28,000× a baseline of nearly nothing" is a big number about a
//! small event. Confidence says how sure the evidence is, 0–1.
//!
//! | family | low | medium | high | critical |
//! |---|---|---|---|---|
//! | volumetric (floods, DoS, reflection) | just over the threshold | ≥ 2× the threshold | ≥ 4× and ≥ 2,000 pkt/s or ≥ 100 Mbit/s, or the victim serves < 10 % of its connections | ≥ 10× and ≥ 20,000 pkt/s or ≥ 1 Gbit/s |
//! | reconnaissance (scans, sweeps) | slow scans | fast scans, or a slow one from inside | fast and ≥ 1,000 targets, or fast from a source inside the network | never |
//! | credential (brute force) | — | at the threshold | ≥ 4× the threshold, or a source inside the network | never |
//! | notice (traffic spike) | always, unless | ≥ 4× and ≥ 100 Mbit/s or 20,000 pkt/s, not explained | never | never |
//! | notice (anomaly model) | always | never | never | never |
//! | exfiltration (DNS tunnel) | — | at the threshold | ≥ 5× the threshold | never |
//! | reputation (threat intelligence) | — | contacted by a scored address | a listed or 90+ address, or a local host calling a scored one | a local host calling a listed or 90+ address |
//! | classifier (flow model) | — | attack classes | DoS, DDoS, botnet, infiltration | never |
//!
//! A notice that one ordinary transfer explains (one host's TCP transfer) stays `low` whatever
//! its size; the anomaly model's verdicts are scored by [`anomaly_severity`]. The dashboard's
//! threat level is the worst current severity of the open incidents (or the anomaly model's,
//! if worse), level for level; Prometheus counts incidents by the severity they opened with
//! (`wirewatch_alerts_total`) and gauges the open ones by their current severity
//! (`wirewatch_alerts_open`, the same set the threat level is taken from): all from the values
//! set here.

use wirewatch_core::Severity;

/// Severity of an anomaly-model verdict `margin` over its threshold (0 = just at it): the
/// `ml_anomaly` alerts and the dashboard's threat level both use this. An interval unlike the
/// learned ones is a notice — a download, a backup or a new service is unusual too — so it is
/// `low` at any margin: what the unusual traffic *is* (a flood, a scan) is for the rule
/// detectors to say, at their severity. The margin stays in the alert's confidence and evidence.
pub fn anomaly_severity(_margin: f64) -> Severity {
    Severity::Low
}

/// What kind of harm a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// Traffic that costs the victim capacity: floods, DoS/DDoS, reflection, amplification.
    Volumetric,
    /// Mapping the network: port scans and host sweeps.
    Reconnaissance,
    /// Guessing passwords.
    Credential,
    /// Something unusual that is not an attack by itself: spikes, anomalies.
    Notice,
    /// Data hidden in another protocol (DNS tunnels).
    Exfiltration,
    /// Talking with an address that threat intelligence lists or scores as malicious.
    Reputation,
    /// A flow a trained classifier calls an attack.
    Classifier,
}

/// What a finding's severity is decided from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Impact {
    /// The kind of harm.
    pub family: Family,
    /// The signal over the detector's threshold (1 = just at it).
    pub over: f64,
    /// Packets per second of the offending traffic (volumetric and notices).
    pub pps: f64,
    /// Bits per second of the offending traffic (volumetric and notices).
    pub bps: f64,
    /// Hosts affected (targets of a scan).
    pub targets: u64,
    /// Share of the victim's connection attempts that still complete (SYN floods), if known.
    pub served: Option<f64>,
    /// The source is inside the network (a compromised host rather than internet noise).
    pub internal_source: bool,
    /// One ordinary transfer explains the finding (one host pair, a completed connection).
    pub ordinary: bool,
    /// The evidence is strong of its kind (a blocklist entry or a score of 90+; a class that
    /// means compromise or volume: DoS, DDoS, botnet, infiltration).
    pub strong: bool,
    /// A local host reached out (rather than being contacted).
    pub outbound: bool,
}

impl Impact {
    /// An impact of `family` at `over` times the threshold, nothing else known.
    pub(crate) fn new(family: Family, over: f64) -> Self {
        Impact {
            family,
            over,
            pps: 0.0,
            bps: 0.0,
            targets: 0,
            served: None,
            internal_source: false,
            ordinary: false,
            strong: false,
            outbound: false,
        }
    }
}

/// Packet rate from which a flood counts as heavy (high), and as severe (critical).
const HEAVY_PPS: f64 = 2_000.0;
const SEVERE_PPS: f64 = 20_000.0;
/// Bit rate from which a flood counts as heavy, and as severe.
const HEAVY_BPS: f64 = 100e6;
const SEVERE_BPS: f64 = 1e9;
/// A victim completing fewer of its connections than this is visibly overwhelmed.
const OVERWHELMED_SERVED: f64 = 0.1;
/// Targets from which a scan maps a whole network rather than a host.
const WIDE_SCAN_TARGETS: u64 = 1_000;

/// The severity of a finding.
pub(crate) fn severity(i: &Impact) -> Severity {
    let over = if i.over.is_finite() { i.over } else { 0.0 };
    match i.family {
        Family::Volumetric => {
            let heavy = i.pps >= HEAVY_PPS || i.bps >= HEAVY_BPS;
            let severe = i.pps >= SEVERE_PPS || i.bps >= SEVERE_BPS;
            let overwhelmed = i.served.is_some_and(|s| s < OVERWHELMED_SERVED);
            if over >= 10.0 && severe {
                Severity::Critical
            } else if (over >= 4.0 && heavy) || (over >= 2.0 && overwhelmed) {
                Severity::High
            } else if over >= 2.0 {
                Severity::Medium
            } else {
                Severity::Low
            }
        }
        Family::Reconnaissance => {
            // Slow scans are below the fast thresholds by definition: scored at over < 1.
            let fast = over >= 1.0;
            if fast && (i.targets >= WIDE_SCAN_TARGETS || i.internal_source) {
                Severity::High
            } else if fast || i.internal_source {
                Severity::Medium
            } else {
                Severity::Low
            }
        }
        Family::Credential => {
            if over >= 4.0 || i.internal_source {
                Severity::High
            } else {
                Severity::Medium
            }
        }
        Family::Notice => {
            let big = i.bps >= HEAVY_BPS || i.pps >= SEVERE_PPS;
            if !i.ordinary && over >= 4.0 && big {
                Severity::Medium
            } else {
                Severity::Low
            }
        }
        Family::Exfiltration => {
            if over >= 5.0 {
                Severity::High
            } else {
                Severity::Medium
            }
        }
        Family::Reputation => match (i.strong, i.outbound) {
            // A local host calling out to a known-bad address: likely compromised.
            (true, true) => Severity::Critical,
            (true, false) | (false, true) => Severity::High,
            (false, false) => Severity::Medium,
        },
        Family::Classifier => {
            if i.strong {
                Severity::High
            } else {
                Severity::Medium
            }
        }
    }
}

/// Confidence of a signal `over` times its threshold: 0.6 just over it, approaching 0.99 as
/// it grows (0.8 at 2×, 0.9 at 4×); `corroboration` (0–1: how much a second, independent sign
/// agrees, e.g. the share of handshakes left incomplete) adds up to 0.1.
pub(crate) fn confidence(over: f64, corroboration: f64) -> f64 {
    let base = if !over.is_finite() || over <= 1.0 {
        0.6
    } else {
        (1.0 - 0.4 / over).clamp(0.6, 0.99)
    };
    let extra = if corroboration.is_finite() {
        0.1 * corroboration.clamp(0.0, 1.0)
    } else {
        0.0
    };
    (base + extra).min(0.99)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flood(over: f64, pps: f64) -> Impact {
        Impact {
            pps,
            ..Impact::new(Family::Volumetric, over)
        }
    }

    #[test]
    fn floods_need_absolute_size_to_be_critical() {
        assert_eq!(severity(&flood(1.2, 300.0)), Severity::Low);
        assert_eq!(severity(&flood(3.0, 600.0)), Severity::Medium);
        assert_eq!(
            severity(&flood(50.0, 600.0)),
            Severity::Medium,
            "ratio alone"
        );
        assert_eq!(severity(&flood(5.0, 5_000.0)), Severity::High);
        assert_eq!(severity(&flood(20.0, 50_000.0)), Severity::Critical);
        let overwhelmed = Impact {
            served: Some(0.0),
            ..flood(2.5, 500.0)
        };
        assert_eq!(severity(&overwhelmed), Severity::High);
    }

    #[test]
    fn scans_and_guessing_are_never_critical() {
        let wide = Impact {
            targets: 65_536,
            ..Impact::new(Family::Reconnaissance, 1e6)
        };
        assert_eq!(severity(&wide), Severity::High);
        assert_eq!(
            severity(&Impact::new(Family::Reconnaissance, 2.0)),
            Severity::Medium
        );
        assert_eq!(
            severity(&Impact::new(Family::Credential, 1.0)),
            Severity::Medium
        );
        assert_eq!(
            severity(&Impact::new(Family::Credential, 1e9)),
            Severity::High
        );
    }

    #[test]
    fn an_ordinary_transfer_is_a_low_notice_whatever_its_ratio() {
        let download = Impact {
            bps: 900e6,
            ordinary: true,
            ..Impact::new(Family::Notice, 28_452.0)
        };
        assert_eq!(severity(&download), Severity::Low);
        let unexplained = Impact {
            ordinary: false,
            ..download
        };
        assert_eq!(severity(&unexplained), Severity::Medium);
    }

    #[test]
    fn confidence_grows_with_the_ratio_and_corroboration() {
        assert!((confidence(1.0, 0.0) - 0.6).abs() < 1e-9);
        assert!(confidence(2.0, 0.0) < confidence(4.0, 0.0));
        assert!(confidence(2.0, 0.0) < confidence(2.0, 1.0));
        assert!(confidence(1e9, 1.0) <= 0.99);
        assert!((confidence(f64::NAN, f64::NAN) - 0.6).abs() < 1e-9);
    }
}
