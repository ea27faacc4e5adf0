//! Learned anomalies: intervals unlike the traffic the model was trained on.
//!
//! # What it detects
//!
//! Whatever makes an interval's traffic shape unusual for this network — the attacks the rule
//! detectors know (they show here too) and the ones they do not: a new bulk transfer, a
//! beaconing burst, a misbehaving service, scanning below the rules' thresholds.
//!
//! # Signal
//!
//! The interval's feature vector (`wirewatch_ml::anomaly::FEATURES`: rates, protocol shares,
//! SYN behaviour, address and port counts, address entropy) scored by an Isolation Forest.
//! Without a model, the first `baseline_intervals` intervals (after `warmup_intervals`) are
//! collected and a model is trained from them on the engine thread (milliseconds); a model can
//! also be loaded at start or swapped in at any time through the [`AnomalySlot`] (retraining on
//! a stored range). Nothing here reads files: the caller saves the models this detector trains
//! (see [`AnomalySlot::take_trained`]).
//!
//! # Thresholds
//!
//! An interval is anomalous when its score exceeds the model's threshold, the score quantile
//! that `contamination` (0.1) of the baseline lies above. An alert needs `min_consecutive` (2)
//! anomalous intervals in a row, so that the expected share of false positives on normal
//! traffic rarely becomes an alert. Severity follows the margin over the threshold.
//!
//! # False positives
//!
//! A baseline that missed normal activity (nightly backups, a weekly job, a new service):
//! retrain on a range that includes it. Intervals with no traffic are not scored.
//!
//! # Recommended action
//!
//! Look at what the explanation names (the features furthest from the baseline), then at the
//! interval's top talkers and flows in the history; retrain if the change is legitimate.

use crate::{AlertDraft, DetectError, Detector, kind};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use wirewatch_core::IntervalMetrics;
use wirewatch_ml::anomaly::{AnomalyModel, BaselineCollector, TrainerConfig, Verdict};

/// Settings (`[detect.ml_anomaly]`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Run this detector.
    pub enabled: bool,
    /// Train a model from the first intervals of the run when none was loaded.
    pub train_at_start: bool,
    /// Anomalous intervals in a row before an alert.
    pub min_consecutive: u32,
    /// Baseline collection and the Isolation Forest settings.
    pub trainer: TrainerConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            train_at_start: true,
            min_consecutive: 2,
            trainer: TrainerConfig::default(),
        }
    }
}

/// The latest scored interval, for the dashboard's threat level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastScore {
    /// The anomaly score, 0–1.
    pub score: f64,
    /// The model's threshold.
    pub threshold: f64,
    /// How far over the threshold, 0–1 (0 when not anomalous).
    pub margin: f64,
    /// Whether the interval was anomalous.
    pub anomalous: bool,
    /// The explanation (features furthest from the baseline).
    pub explanation: String,
}

/// The model in force, shared between the detector (engine thread) and whoever loads, saves
/// or retrains models. Swapping is atomic: the detector reads the model once per interval.
#[derive(Default)]
pub struct AnomalySlot {
    model: RwLock<Option<Arc<AnomalyModel>>>,
    trained: Mutex<Option<Arc<AnomalyModel>>>,
    fresh: AtomicBool,
    last: Mutex<Option<LastScore>>,
    progress: Mutex<(usize, usize)>,
}

impl AnomalySlot {
    /// The model in force.
    pub fn model(&self) -> Option<Arc<AnomalyModel>> {
        self.model.read().ok().and_then(|m| m.clone())
    }

    /// Puts `model` in force from the next interval on (a retrain, or a model loaded at start).
    pub fn replace(&self, model: AnomalyModel) {
        if let Ok(mut m) = self.model.write() {
            *m = Some(Arc::new(model));
        }
    }

    /// A model the detector trained itself since the last call, for the caller to save.
    pub fn take_trained(&self) -> Option<Arc<AnomalyModel>> {
        if !self.fresh.swap(false, Ordering::AcqRel) {
            return None;
        }
        self.trained.lock().ok().and_then(|mut t| t.take())
    }

    /// The latest interval's score, once a model exists.
    pub fn last(&self) -> Option<LastScore> {
        self.last.lock().ok().and_then(|l| l.clone())
    }

    /// Baseline intervals collected and needed while no model exists.
    pub fn progress(&self) -> (usize, usize) {
        self.progress.lock().map(|p| *p).unwrap_or_default()
    }
}

/// The detector.
pub struct MlAnomaly {
    slot: Arc<AnomalySlot>,
    collector: Option<BaselineCollector>,
    min_consecutive: u32,
    run: u32,
}

impl MlAnomaly {
    /// A detector with `config`.
    pub fn new(config: &Config) -> Result<MlAnomaly, DetectError> {
        let collector = if config.train_at_start {
            Some(BaselineCollector::new(config.trainer.clone()).map_err(|e| {
                DetectError::Setting {
                    path: "ml_anomaly.trainer",
                    reason: e.to_string(),
                }
            })?)
        } else {
            None
        };
        Ok(MlAnomaly {
            slot: Arc::default(),
            collector,
            min_consecutive: config.min_consecutive.max(1),
            run: 0,
        })
    }

    /// The slot through which models are swapped in and trained ones taken out.
    pub fn slot(&self) -> Arc<AnomalySlot> {
        self.slot.clone()
    }

    fn collect(&mut self, m: &IntervalMetrics) {
        let Some(c) = &mut self.collector else { return };
        c.push(m);
        if let Ok(mut p) = self.slot.progress.lock() {
            *p = c.progress();
        }
        if !c.is_ready() {
            return;
        }
        if let Ok(model) = c.train() {
            let model = Arc::new(model);
            if let Ok(mut slot) = self.slot.model.write() {
                *slot = Some(model.clone());
            }
            if let Ok(mut t) = self.slot.trained.lock() {
                *t = Some(model);
            }
            self.slot.fresh.store(true, Ordering::Release);
        }
        self.collector = None;
    }

    fn draft(&self, m: &IntervalMetrics, v: &Verdict) -> AlertDraft {
        let margin = v.margin();
        let severity = crate::policy::anomaly_severity(margin);
        let explanation = v.explanation();
        let contributions: Vec<serde_json::Value> = v
            .contributions
            .iter()
            .map(|c| {
                json!({
                    "feature": c.feature, "value": c.value, "baseline_mean": c.baseline_mean,
                    "baseline_std": c.baseline_std, "z": c.z,
                })
            })
            .collect();
        AlertDraft {
            kind: kind::ML_ANOMALY,
            severity,
            confidence: (0.6 + 0.4 * margin).clamp(0.6, 0.99),
            ts: m.end_ts(),
            sources: super::heavy_talkers(&m.top_sources_by_bytes, m.bytes, 3),
            targets: super::heavy_talkers(&m.top_destinations_by_bytes, m.bytes, 3),
            ports: Vec::new(),
            message: format!(
                "traffic unlike the baseline for {} intervals (anomaly score {:.2} over the \
                 threshold {:.2}): {explanation}",
                self.run, v.score, v.threshold
            ),
            recommendation: "look at what changed (the features named), then at this \
                             interval's top talkers and flows in the history; if the change is \
                             legitimate, retrain the model on a range that includes it"
                .into(),
            evidence: json!({
                "score": v.score,
                "threshold": v.threshold,
                "margin": margin,
                "consecutive": self.run,
                "contributions": contributions,
            }),
            incident_key: kind::ML_ANOMALY.to_string(),
            magnitude: v.score,
        }
    }
}

impl Detector for MlAnomaly {
    fn name(&self) -> &'static str {
        kind::ML_ANOMALY
    }

    fn on_interval(&mut self, m: &IntervalMetrics, out: &mut Vec<AlertDraft>) {
        let Some(model) = self.slot.model() else {
            self.collect(m);
            return;
        };
        if m.packets == 0 {
            self.run = 0;
            return;
        }
        let v = model.score(m);
        if let Ok(mut last) = self.slot.last.lock() {
            *last = Some(LastScore {
                score: v.score,
                threshold: v.threshold,
                margin: v.margin(),
                anomalous: v.anomalous,
                explanation: v.explanation(),
            });
        }
        if !v.anomalous {
            self.run = 0;
            return;
        }
        self.run = self.run.saturating_add(1);
        if self.run >= self.min_consecutive {
            out.push(self.draft(m, &v));
        }
    }

    fn tracked(&self) -> usize {
        self.collector.as_ref().map_or(0, |c| c.progress().0)
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use wirewatch_core::Timestamp;
    use wirewatch_core::proto::{ProtocolCounts, TcpFlagCounts};

    /// A 1 s interval of ordinary web traffic, with a little variation by `i`.
    fn normal(i: u64) -> IntervalMetrics {
        let jitter = i * 7919 % 97;
        let packets = 1_000 + jitter * 3;
        IntervalMetrics {
            start_ts: Timestamp(i * 1_000_000_000),
            duration_ns: 1_000_000_000,
            packets,
            bytes: packets * 600,
            protocols: ProtocolCounts {
                tcp: packets * 9 / 10,
                udp: packets / 10,
                ..ProtocolCounts::default()
            },
            tcp_flags: TcpFlagCounts {
                syn: 20 + jitter % 5,
                syn_ack: 20 + jitter % 5,
                rst: 1,
                fin: 18,
            },
            distinct_src_ips: 40 + jitter % 7,
            distinct_dst_ips: 45 + jitter % 5,
            distinct_dst_ports: 6 + jitter % 3,
            flows_new: 30 + jitter % 9,
            src_entropy: 4.5 + (jitter % 10) as f64 / 50.0,
            dst_entropy: 4.8 + (jitter % 10) as f64 / 50.0,
            ..IntervalMetrics::default()
        }
    }

    /// A port scan: thousands of SYNs to many ports, unanswered.
    fn scan(i: u64) -> IntervalMetrics {
        IntervalMetrics {
            tcp_flags: TcpFlagCounts {
                syn: 3_000,
                syn_ack: 10,
                rst: 2_900,
                fin: 0,
            },
            distinct_dst_ports: 2_500,
            flows_new: 3_000,
            packets: 7_000,
            bytes: 7_000 * 60,
            protocols: ProtocolCounts {
                tcp: 7_000,
                ..ProtocolCounts::default()
            },
            ..normal(i)
        }
    }

    fn config() -> Config {
        let mut c = Config::default();
        c.trainer.baseline_intervals = 200;
        c.trainer.warmup_intervals = 0;
        c
    }

    #[test]
    fn learns_a_baseline_then_flags_a_scan_with_its_reasons() {
        let mut d = MlAnomaly::new(&config()).unwrap();
        let slot = d.slot();
        let mut out = Vec::new();
        for i in 0..200 {
            d.on_interval(&normal(i), &mut out);
        }
        assert!(out.is_empty());
        let trained = slot
            .take_trained()
            .expect("a model was trained from the baseline");
        assert!(slot.take_trained().is_none(), "handed out once");
        assert_eq!(trained.trained_on.intervals, 200);
        // Normal traffic keeps quiet (no two anomalous intervals in a row here).
        for i in 200..260 {
            d.on_interval(&normal(i), &mut out);
        }
        assert!(out.len() <= 1, "{} alerts on normal traffic", out.len());
        out.clear();
        d.on_interval(&scan(300), &mut out);
        assert!(out.is_empty(), "one anomalous interval is not yet an alert");
        d.on_interval(&scan(301), &mut out);
        assert_eq!(out.len(), 1);
        let a = &out[0];
        assert_eq!(a.kind, kind::ML_ANOMALY);
        assert!(
            a.message.contains("traffic unlike the baseline"),
            "{}",
            a.message
        );
        assert!(
            a.message.contains("destination ports") || a.message.contains("SYN"),
            "the reasons name the scan's features: {}",
            a.message
        );
        let last = slot.last().unwrap();
        assert!(last.anomalous && last.score > last.threshold);
    }

    #[test]
    fn a_model_put_in_the_slot_is_used_at_once() {
        let mut teacher = MlAnomaly::new(&config()).unwrap();
        let mut out = Vec::new();
        for i in 0..200 {
            teacher.on_interval(&normal(i), &mut out);
        }
        let model = teacher.slot().take_trained().unwrap();
        let mut c = config();
        c.train_at_start = false;
        let mut d = MlAnomaly::new(&c).unwrap();
        d.on_interval(&scan(1), &mut out);
        assert!(d.slot().last().is_none(), "no model, no score");
        d.slot().replace((*model).clone());
        d.on_interval(&scan(2), &mut out);
        assert!(d.slot().last().is_some_and(|l| l.anomalous));
    }
}
