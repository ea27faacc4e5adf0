//! Learned flow verdicts: finished flows a trained classifier calls an attack.
//!
//! # What it detects
//!
//! Flows whose CICFlowMeter-style features a random forest trained on CICIDS2017-style data
//! (`wirewatch train`) classifies as DoS, DDoS, PortScan, BruteForce, WebAttack, Botnet or
//! Infiltration.
//!
//! # Signal
//!
//! Every finished flow with features (the flow table computes them when a model is configured)
//! is classified; a non-benign class with at least `min_probability` of the trees' votes
//! counts. One incident per (class, source); within an interval the flows are counted and the
//! targets and ports sampled. Without a model (see [`FlowModelSlot`]) nothing happens.
//!
//! # Thresholds
//!
//! `min_probability` (0.8). Severity: DoS, DDoS, Botnet and Infiltration high; the others
//! medium. Bounded: at most `MAX_PENDING` (class, source) pairs per interval (more are counted
//! in [`Detector::evictions`]); targets and ports sampled up to 16.
//!
//! # False positives
//!
//! A model trained on another network's traffic (CICIDS2017 is a lab network) misreads
//! unusual but legitimate flows; retrain on your own labelled flows
//! (`wirewatch export --format cicflowmeter --label …`). Suppress `ml_threat` for known sources.
//!
//! # Recommended action
//!
//! Look at the flows in the history (source, target, ports, timing); confirm with the rule
//! detectors and the target's logs; block the source if the verdict holds.

use crate::policy::{self, Family, Impact};
use crate::{AlertDraft, DetectError, Detector, kind};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use wirewatch_core::{FlowRecord, IntervalMetrics, Severity};
use wirewatch_ml::flowclass::{FEATURE_COUNT, FlowClass, FlowModel};

/// (class, source) pairs counted per interval. A scan or a flood from one source is one
/// pair however many flows it makes; 4,096 leaves room for thousands of distinct offenders.
const MAX_PENDING: usize = 4096;
/// Targets and ports sampled per pair.
const MAX_SAMPLE: usize = 16;

/// Settings (`[detect.ml_threat]`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Run this detector (it does nothing until a model is loaded).
    pub enabled: bool,
    /// The model file `wirewatch train` wrote; loaded at start by `wirewatch run`/`analyze`,
    /// which then compute flow features.
    pub model: Option<std::path::PathBuf>,
    /// Share of the trees that must agree on a non-benign class.
    pub min_probability: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            model: None,
            min_probability: 0.8,
        }
    }
}

/// The flow model in force, shared between the detector and whoever loads it.
#[derive(Default)]
pub struct FlowModelSlot {
    model: RwLock<Option<Arc<FlowModel>>>,
}

impl FlowModelSlot {
    /// Puts `model` in force.
    pub fn replace(&self, model: FlowModel) {
        if let Ok(mut m) = self.model.write() {
            *m = Some(Arc::new(model));
        }
    }

    fn get(&self) -> Option<Arc<FlowModel>> {
        self.model.read().ok().and_then(|m| m.clone())
    }
}

#[derive(Default)]
struct Pending {
    flows: u64,
    best: f64,
    targets: Vec<IpAddr>,
    ports: Vec<u16>,
}

/// The detector.
pub struct MlThreat {
    slot: Arc<FlowModelSlot>,
    min_probability: f64,
    pending: BTreeMap<(FlowClass, IpAddr), Pending>,
    evicted: u64,
    classified: u64,
}

impl MlThreat {
    /// A detector with `config`.
    pub fn new(config: &Config) -> Result<MlThreat, DetectError> {
        super::check(
            "ml_threat",
            "min_probability",
            config.min_probability,
            (0.0..=1.0).contains(&config.min_probability),
            "must be between 0 and 1",
        )?;
        Ok(MlThreat {
            slot: Arc::default(),
            min_probability: config.min_probability,
            pending: BTreeMap::new(),
            evicted: 0,
            classified: 0,
        })
    }

    /// The slot the model is loaded into.
    pub fn slot(&self) -> Arc<FlowModelSlot> {
        self.slot.clone()
    }
}

fn severity(class: FlowClass) -> Severity {
    let strong = matches!(
        class,
        FlowClass::DoS | FlowClass::DDoS | FlowClass::Botnet | FlowClass::Infiltration
    );
    policy::severity(&Impact {
        strong,
        ..Impact::new(Family::Classifier, 1.0)
    })
}

impl Detector for MlThreat {
    fn name(&self) -> &'static str {
        kind::ML_THREAT
    }

    fn wants_flows(&self) -> bool {
        true
    }

    fn on_flow(&mut self, flow: &FlowRecord) {
        let Some(features) = flow.features.as_deref() else {
            return;
        };
        let Some(model) = self.slot.get() else { return };
        let mut v = [0.0; FEATURE_COUNT];
        if features.len() != FEATURE_COUNT {
            return;
        }
        v.copy_from_slice(features);
        let Ok(p) = model.predict(&v) else { return };
        self.classified += 1;
        if p.class.is_benign() || p.probability < self.min_probability {
            return;
        }
        let key = (p.class, flow.src_ip);
        if !self.pending.contains_key(&key) && self.pending.len() >= MAX_PENDING {
            self.evicted += 1;
            return;
        }
        let e = self.pending.entry(key).or_default();
        e.flows += 1;
        e.best = e.best.max(p.probability);
        if !e.targets.contains(&flow.dst_ip) && e.targets.len() < MAX_SAMPLE {
            e.targets.push(flow.dst_ip);
        }
        if !e.ports.contains(&flow.dst_port) && e.ports.len() < MAX_SAMPLE {
            e.ports.push(flow.dst_port);
        }
    }

    fn on_interval(&mut self, m: &IntervalMetrics, out: &mut Vec<AlertDraft>) {
        for ((class, source), p) in std::mem::take(&mut self.pending) {
            let targets: Vec<String> = p.targets.iter().map(IpAddr::to_string).collect();
            out.push(AlertDraft {
                kind: kind::ML_THREAT,
                severity: severity(class),
                confidence: p.best.clamp(0.5, 0.99),
                ts: m.end_ts(),
                sources: vec![source],
                targets: p.targets.clone(),
                ports: p.ports.clone(),
                message: format!(
                    "{} flows from {source} classified as {} by the flow model (up to {:.0} % \
                     of the trees agreeing), to {}",
                    p.flows,
                    class.name(),
                    p.best * 100.0,
                    targets.join(", ")
                ),
                recommendation: format!(
                    "look at the flows of {source} in the history; confirm with the rule \
                     detectors and the targets' logs; block {source} if the verdict holds"
                ),
                evidence: json!({
                    "class": class.name(),
                    "probability": p.best,
                    "threshold": self.min_probability,
                    "flows": p.flows,
                }),
                incident_key: format!("{}:{}:{source}", kind::ML_THREAT, class.name()),
                magnitude: p.flows as f64,
            });
        }
    }

    fn evictions(&self) -> u64 {
        self.evicted
    }

    fn tracked(&self) -> usize {
        self.pending.len()
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}
