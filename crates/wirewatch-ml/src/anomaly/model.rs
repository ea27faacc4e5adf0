//! The anomaly model as the engine uses and stores it: the forest, the baseline statistics
//! that explain its verdicts, the feature list it was trained on and what it was trained on.
//!
//! A model file is JSON with a format version. [`AnomalyModel::save`] writes a temporary file
//! beside the target, flushes it to disk and renames it over the target, so a reader (or a
//! crash) sees the old model or the new one, never half of one. [`AnomalyModel::load`] refuses
//! a file of another format version or trained on other features than [`FEATURES`], naming the
//! file and telling the user to retrain.
//!
//! A model is immutable once built; the engine swaps whole models (e.g. behind an `Arc`).

use super::error::AnomalyError;
use super::explain::{Baseline, Contribution, describe};
use super::features::{FEATURE_COUNT, FEATURES, FeatureVector, feature_names, interval_features};
use super::iforest::{IForestConfig, IsolationForest};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use wirewatch_core::{IntervalMetrics, Timestamp};

/// Version of the model file format; bump it when the JSON changes incompatibly.
pub const MODEL_FORMAT_VERSION: u32 = 1;
/// Features named in a verdict's explanation: enough to say why, few enough for one line.
pub const EXPLAIN_TOP_K: usize = 3;

/// What a model was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingInfo {
    /// Training vectors (intervals).
    pub intervals: usize,
    /// Start of the first training interval.
    pub from_ts: Timestamp,
    /// End (exclusive) of the last training interval.
    pub to_ts: Timestamp,
    /// The forest settings used.
    pub config: IForestConfig,
}

/// A trained anomaly model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnomalyModel {
    /// File format version ([`MODEL_FORMAT_VERSION`]).
    pub version: u32,
    /// Feature names, in vector order, as when trained.
    pub features: Vec<String>,
    /// What it was trained on.
    pub trained_on: TrainingInfo,
    /// Baseline statistics for explanations.
    pub baseline: Baseline,
    /// The forest.
    pub forest: IsolationForest,
}

/// The model's opinion of one interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Anomaly score in (0, 1]; about 0.5 or less is ordinary.
    pub score: f64,
    /// The model's threshold: scores above it are anomalous.
    pub threshold: f64,
    /// Whether `score` is above `threshold`.
    pub anomalous: bool,
    /// The [`EXPLAIN_TOP_K`] features furthest from the baseline, most unusual first.
    pub contributions: Vec<Contribution>,
}

impl Verdict {
    /// The explanation as one sentence ("SYN share 0.92 vs baseline 0.05 ± 0.02; …").
    pub fn explanation(&self) -> String {
        describe(&self.contributions)
    }

    /// How far the score is above the threshold, as a share of the way from the threshold to
    /// the highest possible score 1: 0 at or below the threshold, 1 for a score of 1. A
    /// threshold-independent strength for combining with other signals (threat level,
    /// confidence).
    pub fn margin(&self) -> f64 {
        let room = 1.0 - self.threshold;
        if !self.anomalous || room <= 0.0 {
            return 0.0;
        }
        ((self.score - self.threshold) / room).clamp(0.0, 1.0)
    }
}

/// `path` with `suffix` appended to its file name (a sibling file).
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

impl AnomalyModel {
    /// Builds a model from its parts, recording the current feature list and format version.
    pub fn new(forest: IsolationForest, baseline: Baseline, trained_on: TrainingInfo) -> Self {
        AnomalyModel {
            version: MODEL_FORMAT_VERSION,
            features: feature_names(),
            trained_on,
            baseline,
            forest,
        }
    }

    /// Scores one closed interval.
    pub fn score(&self, m: &IntervalMetrics) -> Verdict {
        self.score_vector(&interval_features(m))
    }

    /// Scores one feature vector.
    pub fn score_vector(&self, x: &FeatureVector) -> Verdict {
        let score = self.forest.score(x);
        let threshold = self.forest.threshold();
        Verdict {
            score,
            threshold,
            anomalous: score > threshold,
            contributions: self.baseline.explain(x, EXPLAIN_TOP_K),
        }
    }

    /// The anomaly threshold.
    pub fn threshold(&self) -> f64 {
        self.forest.threshold()
    }

    /// The model as JSON.
    pub fn to_json(&self) -> Result<String, AnomalyError> {
        serde_json::to_string(self).map_err(AnomalyError::Encode)
    }

    /// A model from JSON, checked like [`AnomalyModel::load`]; `origin` names the source in
    /// errors (a path, or e.g. "database").
    pub fn from_json(json: &str, origin: &Path) -> Result<AnomalyModel, AnomalyError> {
        // Read the version first, so an old file gets the version message rather than a
        // parse error about fields that changed.
        #[derive(Deserialize)]
        struct VersionOnly {
            version: u32,
        }
        let parse = |source| AnomalyError::Parse {
            path: origin.to_path_buf(),
            source,
        };
        let v: VersionOnly = serde_json::from_str(json).map_err(parse)?;
        if v.version != MODEL_FORMAT_VERSION {
            return Err(AnomalyError::Version {
                path: origin.to_path_buf(),
                found: v.version,
                expected: MODEL_FORMAT_VERSION,
            });
        }
        let model: AnomalyModel = serde_json::from_str(json).map_err(parse)?;
        model.check(origin)?;
        Ok(model)
    }

    /// Refuses a model whose features differ from this build's.
    fn check(&self, origin: &Path) -> Result<(), AnomalyError> {
        let current = feature_names();
        let consistent =
            self.forest.dims() == FEATURE_COUNT && self.baseline.features.len() == FEATURE_COUNT;
        if self.features != current || !consistent {
            return Err(AnomalyError::FeatureMismatch {
                path: origin.to_path_buf(),
                found: self.features.join(", "),
                expected: FEATURES
                    .iter()
                    .map(|f| f.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        Ok(())
    }

    /// Writes the model to `path` atomically (temporary sibling file, flushed, renamed over
    /// `path`), creating the directory if needed.
    pub fn save(&self, path: &Path) -> Result<(), AnomalyError> {
        let io = |action, source| AnomalyError::Io {
            action,
            path: path.to_path_buf(),
            source,
        };
        // Compact: a forest is tens of thousands of nodes, and indentation would triple it.
        let json = serde_json::to_vec(self).map_err(AnomalyError::Encode)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| io("create the directory of", e))?;
        }
        let tmp = sibling(path, &format!(".tmp-{}", std::process::id()));
        let written = (|| {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(&json)?;
            f.sync_all()
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(io("write", e));
        }
        if let Err(e) = fs::rename(&tmp, path) {
            let _ = fs::remove_file(&tmp);
            return Err(io("replace", e));
        }
        Ok(())
    }

    /// Reads a model saved by [`AnomalyModel::save`].
    pub fn load(path: &Path) -> Result<AnomalyModel, AnomalyError> {
        let json = fs::read_to_string(path).map_err(|source| AnomalyError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        })?;
        AnomalyModel::from_json(&json, path)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

    use super::*;
    use crate::anomaly::features::raw_features;
    use crate::anomaly::trainer::train_from;
    use wirewatch_core::{ProtocolCounts, TcpFlagCounts};

    /// A 1-second interval of ordinary traffic, varied by `k`.
    fn normal(k: u64) -> IntervalMetrics {
        let w = k % 7;
        IntervalMetrics {
            start_ts: Timestamp(k * 1_000_000_000),
            duration_ns: 1_000_000_000,
            packets: 1500 + 10 * w,
            bytes: 900_000 + 3000 * (k % 5),
            protocols: ProtocolCounts {
                tcp: 1200 + 10 * w,
                udp: 250,
                icmp: 10 + k % 3,
                ..Default::default()
            },
            tcp_flags: TcpFlagCounts {
                syn: 30 + k % 4,
                syn_ack: 29 + k % 4,
                rst: 2 + k % 2,
                fin: 25,
            },
            distinct_src_ips: 40 + k % 6,
            distinct_dst_ips: 60 + k % 5,
            distinct_dst_ports: 6 + k % 3,
            flows_new: 30 + k % 4,
            src_entropy: 4.0 + (k % 3) as f64 * 0.1,
            dst_entropy: 5.0 + (k % 4) as f64 * 0.1,
            ..IntervalMetrics::default()
        }
    }

    fn model() -> AnomalyModel {
        let v: Vec<FeatureVector> = (0..300).map(|k| interval_features(&normal(k))).collect();
        train_from(
            &v,
            &IForestConfig::default(),
            Timestamp(0),
            Timestamp(300_000_000_000),
        )
        .unwrap()
    }

    #[test]
    fn a_syn_scan_is_anomalous_and_explained() {
        let m = model();
        let mut scan = normal(3);
        scan.packets += 2000;
        scan.protocols.tcp += 2000;
        scan.tcp_flags.syn += 1000;
        scan.tcp_flags.rst += 990;
        scan.distinct_dst_ports = 1012;
        scan.flows_new += 1000;
        let v = m.score(&scan);
        assert!(v.anomalous && v.score > v.threshold, "{v:?}");
        let names: Vec<_> = v.contributions.iter().map(|c| c.feature.as_str()).collect();
        assert_eq!(names.len(), EXPLAIN_TOP_K);
        assert!(names.contains(&"syn_unanswered_share"), "{names:?}");
        assert!(
            v.explanation()
                .contains("unanswered SYN share 0.97 vs baseline 0.03")
        );
        let more = m.baseline.explain(&interval_features(&scan), 6);
        assert!(
            more.iter().any(|c| c.feature == "dst_ports_per_sec"),
            "{more:?}"
        );
        assert!(v.margin() > 0.0 && v.margin() <= 1.0, "{}", v.margin());
        let ok = m.score(&normal(5));
        assert!(!ok.anomalous || ok.score < v.score);
        if !ok.anomalous {
            assert_eq!(ok.margin(), 0.0);
        }
        let size = m.to_json().unwrap().len();
        println!("model file: {size} bytes");
        assert!(size < 2_000_000, "{size}");
        assert_eq!(raw_features(&scan)[11], 1012.0);
    }

    #[test]
    fn save_and_load_round_trip_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("models/anomaly.json");
        let m = model();
        m.save(&path).unwrap();
        let back = AnomalyModel::load(&path).unwrap();
        assert_eq!(back, m);
        for k in 0..50 {
            let x = interval_features(&normal(k * 13 + 1));
            assert_eq!(
                m.score_vector(&x).score.to_bits(),
                back.score_vector(&x).score.to_bits()
            );
        }
        // Saving again replaces the file and leaves no temporary file behind.
        m.save(&path).unwrap();
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["anomaly.json"]);
    }

    #[test]
    fn bad_files_are_refused_with_their_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.json");
        let err = AnomalyModel::load(&path).unwrap_err();
        assert!(
            err.to_string().contains("cannot read") && err.to_string().contains("m.json"),
            "{err}"
        );

        fs::write(&path, "{not json").unwrap();
        let err = AnomalyModel::load(&path).unwrap_err();
        assert!(matches!(err, AnomalyError::Parse { .. }), "{err}");
        assert!(err.to_string().contains("m.json"));

        let mut v: serde_json::Value = serde_json::from_str(&model().to_json().unwrap()).unwrap();
        v["version"] = 99.into();
        fs::write(&path, v.to_string()).unwrap();
        let err = AnomalyModel::load(&path).unwrap_err();
        assert!(
            matches!(err, AnomalyError::Version { found: 99, .. }),
            "{err}"
        );

        v["version"] = MODEL_FORMAT_VERSION.into();
        v["features"][0] = "packets_per_minute".into();
        fs::write(&path, v.to_string()).unwrap();
        let err = AnomalyModel::load(&path).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, AnomalyError::FeatureMismatch { .. }),
            "{text}"
        );
        assert!(
            text.contains("packets_per_minute") && text.contains("retrain"),
            "{text}"
        );
    }

    #[test]
    fn saving_into_an_unwritable_place_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be: the rename cannot replace it.
        let path = dir.path().join("taken");
        fs::create_dir(path.join("x").parent().unwrap()).unwrap();
        fs::create_dir(path.join("x")).unwrap();
        let err = model().save(&path).unwrap_err();
        assert!(err.to_string().contains("taken"), "{err}");
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "the temporary file is removed");
    }
}
