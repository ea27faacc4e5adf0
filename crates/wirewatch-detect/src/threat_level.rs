//! The network's threat level, next to the severity policy it follows (see
//! [`crate::policy`]): the worst current severity of the open incidents, level for level, or
//! the anomaly model's verdict when that is worse. The dashboard shows it; nothing else
//! decides it.

use crate::detectors::ml_anomaly::AnomalySlot;
use crate::policy::anomaly_severity;
use wirewatch_core::Severity;

/// An open incident as the threat level sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenIncident {
    /// Its kind (`wirewatch_core::kind`).
    pub kind: String,
    /// Its current severity.
    pub severity: Severity,
    /// Its detector's confidence, 0–1.
    pub confidence: f64,
}

/// How worried to be, how sure, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreatAssessment {
    /// The level (a severity: `Low` also when nothing is open).
    pub level: Severity,
    /// How sure the assessment is, 0–1.
    pub confidence: f64,
    /// Why, one short sentence each (at most three incidents are named).
    pub reasons: Vec<String>,
}

/// Incidents named among the reasons.
const NAMED_INCIDENTS: usize = 3;

/// The threat level from the open incidents: the worst current severity, level for level,
/// with its incident's confidence; no open incident is a low level, held with full confidence.
/// Also says whether any incident is open.
fn from_incidents(open: &[OpenIncident]) -> (ThreatAssessment, bool) {
    let mut open: Vec<&OpenIncident> = open.iter().collect();
    open.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.confidence.total_cmp(&a.confidence))
    });
    let Some(worst) = open.first() else {
        let quiet = ThreatAssessment {
            level: Severity::Low,
            confidence: 1.0,
            reasons: vec!["no open incidents".into()],
        };
        return (quiet, false);
    };
    let assessment = ThreatAssessment {
        level: worst.severity,
        confidence: worst.confidence,
        reasons: open
            .iter()
            .take(NAMED_INCIDENTS)
            .map(|i| format!("{} ({})", i.kind, i.severity.name()))
            .collect(),
    };
    (assessment, true)
}

/// The threat level from the open incidents and, when the anomaly detector runs, its model's
/// latest verdict: whichever is higher; at equal levels the incidents speak when there are any.
pub fn assess(open: &[OpenIncident], anomaly: Option<&AnomalySlot>) -> ThreatAssessment {
    let (rules, any_open) = from_incidents(open);
    let Some(slot) = anomaly else {
        return rules;
    };
    let Some(last) = slot.last() else {
        let (have, need) = slot.progress();
        let mut t = rules;
        if need > 0 {
            t.reasons.push(format!(
                "anomaly model learning the baseline: {have}/{need} intervals"
            ));
        }
        return t;
    };
    let learned = ThreatAssessment {
        level: if last.anomalous {
            anomaly_severity(last.margin)
        } else {
            Severity::Low
        },
        confidence: if last.anomalous {
            (0.6 + 0.4 * last.margin).clamp(0.6, 0.99)
        } else {
            (1.0 - last.score).clamp(0.5, 0.99)
        },
        reasons: vec![if last.anomalous {
            format!(
                "anomaly score {:.2} over {:.2}: {}",
                last.score, last.threshold, last.explanation
            )
        } else {
            format!(
                "traffic like the baseline (anomaly score {:.2})",
                last.score
            )
        }],
    };
    if learned.level > rules.level {
        learned
    } else if rules.level > learned.level || any_open {
        rules
    } else {
        learned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident(kind: &str, severity: Severity, confidence: f64) -> OpenIncident {
        OpenIncident {
            kind: kind.into(),
            severity,
            confidence,
        }
    }

    #[test]
    fn nothing_open_is_low_with_full_confidence() {
        let t = assess(&[], None);
        assert_eq!(t.level, Severity::Low);
        assert_eq!(t.confidence, 1.0);
        assert_eq!(t.reasons, ["no open incidents"]);
    }

    #[test]
    fn the_worst_open_severity_is_the_level_with_its_confidence() {
        let open = [
            incident("port_scan", Severity::Medium, 0.9),
            incident("syn_flood", Severity::High, 0.7),
            incident("dos", Severity::High, 0.8),
            incident("spike", Severity::Low, 0.5),
        ];
        let t = assess(&open, None);
        assert_eq!(t.level, Severity::High);
        assert_eq!(t.confidence, 0.8);
        assert_eq!(
            t.reasons,
            ["dos (high)", "syn_flood (high)", "port_scan (medium)"]
        );
    }
}
