//! The trained flow classifier: a random forest of smartcore decision trees, its versioned
//! model file, and prediction with a vote share as probability.
//!
//! # The forest
//!
//! Each tree is a smartcore `RandomForestClassifier` fitted with one tree (bootstrap sample per
//! class, √p candidate features per split, its own seed). A forest of such one-tree forests is
//! exactly smartcore's random forest, with two things smartcore's own type does not give: the
//! votes of the individual trees (so a prediction has a probability: the share of trees that
//! voted for the class) and a progress report per tree while training.
//!
//! # The model file
//!
//! One file, two parts:
//!
//! 1. a JSON header on the first line ([`ModelHeader`]): format name and version, the program
//!    that wrote it, the feature list, the classes (index → name), the label map, the
//!    training configuration, the dataset statistics and the test metrics, and the size of
//!    part 2. `head -1 model.wwflow | jq .metrics` shows how good a model is;
//! 2. the trees, serialized with postcard (compact binary serde; floats stored as their exact
//!    bits, so the reloaded model predicts identically).
//!
//! [`FlowModel::load`] reads the header first and refuses another format version or another
//! feature list with a message that says to retrain, before decoding any tree. Saving writes
//! a temporary file in the same directory, syncs it and renames it over the target, so a
//! reader never sees half a model.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use smartcore::ensemble::random_forest_classifier::RandomForestClassifier;
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::classes::FlowClass;
use super::dataset::ReadStats;
use super::error::{FlowClassError, Result};
use super::features::{FeatureVector, model_feature_indices, model_feature_names};
use super::metrics::Metrics;
use super::train::TrainConfig;

/// Version of the model file layout; bump on any change to the header or the trees' encoding.
pub const FORMAT_VERSION: u32 = 1;

/// The `format` field of every model file.
pub const FORMAT_NAME: &str = "wirewatch-flowclass";

/// Suggested vote share above which a non-benign verdict raises an `ml_threat` alert: four
/// trees in five agree, which keeps borderline flows (split votes) out of the alert stream.
pub const ALERT_MIN_PROBABILITY: f64 = 0.8;

/// Largest JSON header accepted when loading (a real one is a few KiB; this bounds what a
/// damaged file can make us allocate before the checks).
const MAX_HEADER_BYTES: usize = 4 << 20;

/// One tree of the forest (a one-tree smartcore forest, see the module doc).
pub(crate) type Tree = RandomForestClassifier<f64, u32, DenseMatrix<f64>, Vec<u32>>;

/// The trees (part 2 of the file).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Forest {
    pub(crate) trees: Vec<Tree>,
}

/// One label of the label map: a label seen in the training data and its class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelEntry {
    /// The label as found (decoded for display).
    pub label: String,
    /// The class it maps to.
    pub class: String,
    /// Rows with it after deduplication.
    pub rows: u64,
}

/// Everything about a model but its trees (part 1 of the file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelHeader {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// [`FORMAT_VERSION`] of the program that wrote it.
    pub format_version: u32,
    /// The program and version that wrote it.
    pub created_by: String,
    /// Canonical names of the features the trees read, in order.
    pub features: Vec<String>,
    /// Class names; a tree's output `i` means `classes[i]`.
    pub classes: Vec<String>,
    /// Labels of the training data and their classes.
    pub label_map: Vec<LabelEntry>,
    /// How the model was trained.
    pub config: TrainConfig,
    /// What reading the dataset found.
    pub dataset: ReadStats,
    /// Scores on the held-out split.
    pub metrics: Metrics,
    /// Number of trees.
    pub trees: usize,
    /// Size of the encoded trees that follow the header.
    pub body_bytes: u64,
}

/// A verdict on one flow.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    /// The class most trees voted for (ties go to the class listed first).
    pub class: FlowClass,
    /// Share of trees that voted for it, in (0, 1].
    pub probability: f64,
}

impl Prediction {
    /// Whether this verdict should raise an alert: not benign, and at least `min_probability`
    /// of the trees agree.
    pub fn is_threat(&self, min_probability: f64) -> bool {
        !self.class.is_benign() && self.probability >= min_probability
    }
}

/// A trained flow classifier, ready to predict, save or inspect. It is `Send + Sync`, so one
/// loaded model can be shared (`Arc`) and swapped whole by the engine.
#[derive(Debug)]
pub struct FlowModel {
    header: ModelHeader,
    forest: Forest,
    /// Positions in a [`FeatureVector`] of the header's features.
    feature_idx: Vec<usize>,
    /// The header's classes.
    classes: Vec<FlowClass>,
}

impl FlowModel {
    /// Assembles a model from freshly trained trees (the header's `trees` and `body_bytes`
    /// are filled when saving).
    pub(crate) fn new(header: ModelHeader, trees: Vec<Tree>) -> Result<FlowModel> {
        let classes = parse_classes(&header.classes, Path::new("(new model)"))?;
        Ok(FlowModel {
            feature_idx: model_feature_indices(),
            classes,
            header: ModelHeader {
                trees: trees.len(),
                ..header
            },
            forest: Forest { trees },
        })
    }

    /// Records the test metrics (training scores the model after building it).
    pub(crate) fn set_metrics(&mut self, metrics: Metrics) {
        self.header.metrics = metrics;
    }

    /// The header: features, classes, label map, configuration and metrics.
    pub fn header(&self) -> &ModelHeader {
        &self.header
    }

    /// Scores on the held-out split.
    pub fn metrics(&self) -> &Metrics {
        &self.header.metrics
    }

    /// The classes the model can predict, in index order.
    pub fn classes(&self) -> &[FlowClass] {
        &self.classes
    }

    /// Classifies one flow.
    pub fn predict(&self, features: &FeatureVector) -> Result<Prediction> {
        let votes = self.votes(std::slice::from_ref(features))?;
        self.verdict(&votes)
    }

    /// Classifies many flows at once (one matrix per call: cheaper than one call per flow).
    pub fn predict_many(&self, rows: &[FeatureVector]) -> Result<Vec<Prediction>> {
        let k = self.classes.len();
        let votes = self.votes(rows)?;
        votes.chunks(k.max(1)).map(|v| self.verdict(v)).collect()
    }

    /// Vote counts, `rows.len() × classes` (row-major).
    fn votes(&self, rows: &[FeatureVector]) -> Result<Vec<u32>> {
        let k = self.classes.len();
        let mut votes = vec![0u32; rows.len() * k];
        if rows.is_empty() {
            return Ok(votes);
        }
        let x = self.matrix(rows)?;
        for tree in &self.forest.trees {
            let out = tree.predict(&x).map_err(|e| FlowClassError::Model {
                stage: "prediction",
                reason: e.to_string(),
            })?;
            for (row, &class) in out.iter().enumerate() {
                if let Some(v) = votes.get_mut(row * k + class as usize) {
                    *v += 1;
                }
            }
        }
        Ok(votes)
    }

    /// The rows' model features as a smartcore matrix.
    pub(crate) fn matrix(&self, rows: &[FeatureVector]) -> Result<DenseMatrix<f64>> {
        feature_matrix(rows.iter(), rows.len(), &self.feature_idx)
    }

    fn verdict(&self, votes: &[u32]) -> Result<Prediction> {
        let mut best = 0;
        for (i, &v) in votes.iter().enumerate() {
            if v > votes[best] {
                best = i;
            }
        }
        let class = *self
            .classes
            .get(best)
            .ok_or_else(|| FlowClassError::Model {
                stage: "prediction",
                reason: "the model has no classes".to_string(),
            })?;
        let trees = self.forest.trees.len().max(1) as f64;
        Ok(Prediction {
            class,
            probability: f64::from(votes[best]) / trees,
        })
    }

    /// Writes the model file atomically (temporary file in the same directory, then rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| FlowClassError::Io { path, source }
        };
        let body = postcard::to_allocvec(&self.forest).map_err(|e| FlowClassError::Model {
            stage: "saving",
            reason: e.to_string(),
        })?;
        let header = ModelHeader {
            trees: self.forest.trees.len(),
            body_bytes: body.len() as u64,
            ..self.header.clone()
        };
        let json = serde_json::to_vec(&header).map_err(|e| FlowClassError::Model {
            stage: "saving",
            reason: e.to_string(),
        })?;
        let tmp = temp_path(path);
        let result = (|| {
            let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
            f.write_all(&json).map_err(io(&tmp))?;
            f.write_all(b"\n").map_err(io(&tmp))?;
            f.write_all(&body).map_err(io(&tmp))?;
            f.sync_all().map_err(io(&tmp))?;
            std::fs::rename(&tmp, path).map_err(io(path))
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    /// Reads a model file, refusing another format version or feature list.
    pub fn load(path: &Path) -> Result<FlowModel> {
        let bytes = std::fs::read(path).map_err(|source| FlowClassError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let bad = |reason: String| FlowClassError::BadModelFile {
            path: path.to_path_buf(),
            reason,
        };
        let end = bytes
            .iter()
            .take(MAX_HEADER_BYTES)
            .position(|&b| b == b'\n')
            .ok_or_else(|| bad("no header line".to_string()))?;
        let (head, body) = (&bytes[..end], &bytes[end + 1..]);

        // The version first, with nothing else assumed of the header's shape.
        #[derive(Deserialize)]
        struct Version {
            format: String,
            format_version: u32,
        }
        let version: Version = serde_json::from_slice(head)
            .map_err(|e| bad(format!("the header is not a model header ({e})")))?;
        if version.format != FORMAT_NAME {
            return Err(bad(format!("format `{}`", version.format)));
        }
        if version.format_version != FORMAT_VERSION {
            return Err(FlowClassError::FormatVersion {
                path: path.to_path_buf(),
                found: version.format_version,
                expected: FORMAT_VERSION,
            });
        }
        let header: ModelHeader =
            serde_json::from_slice(head).map_err(|e| bad(format!("damaged header ({e})")))?;
        check_features(&header.features, path)?;
        let classes = parse_classes(&header.classes, path)?;
        if body.len() as u64 != header.body_bytes {
            return Err(bad(format!(
                "{} bytes of trees, the header announces {} (truncated file?)",
                body.len(),
                header.body_bytes
            )));
        }
        let forest: Forest =
            postcard::from_bytes(body).map_err(|e| bad(format!("damaged trees ({e})")))?;
        if forest.trees.len() != header.trees || forest.trees.is_empty() {
            return Err(bad(format!(
                "{} trees, the header announces {}",
                forest.trees.len(),
                header.trees
            )));
        }
        Ok(FlowModel {
            header,
            forest,
            feature_idx: model_feature_indices(),
            classes,
        })
    }
}

// The engine shares a model across threads: keep it Send + Sync.
const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<FlowModel>();
};

/// Builds a column-major matrix of the selected features of `n` rows.
pub(crate) fn feature_matrix<'a>(
    rows: impl Iterator<Item = &'a FeatureVector> + Clone,
    n: usize,
    feature_idx: &[usize],
) -> Result<DenseMatrix<f64>> {
    let mut values = Vec::with_capacity(n * feature_idx.len());
    for &j in feature_idx {
        values.extend(rows.clone().map(|r| r[j]));
    }
    DenseMatrix::new(n, feature_idx.len(), values, true).map_err(|e| FlowClassError::Model {
        stage: "prediction",
        reason: e.to_string(),
    })
}

/// The feature list must be exactly what this build extracts.
fn check_features(features: &[String], path: &Path) -> Result<()> {
    let expected = model_feature_names();
    let detail = if features.len() != expected.len() {
        Some(format!(
            "{} features, this build extracts {}",
            features.len(),
            expected.len()
        ))
    } else {
        features
            .iter()
            .zip(&expected)
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map(|(i, (a, b))| format!("feature {} is `{a}`, this build has `{b}`", i + 1))
    };
    match detail {
        Some(detail) => Err(FlowClassError::FeatureMismatch {
            path: path.to_path_buf(),
            detail,
        }),
        None => Ok(()),
    }
}

fn parse_classes(names: &[String], path: &Path) -> Result<Vec<FlowClass>> {
    names
        .iter()
        .map(|n| {
            FlowClass::from_name(n).ok_or_else(|| FlowClassError::BadModelFile {
                path: path.to_path_buf(),
                reason: format!("unknown class `{n}`"),
            })
        })
        .collect()
}

/// `dir/.name.tmp-PID`: same directory (rename stays on one file system), hidden, unique
/// per process.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "model".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}
