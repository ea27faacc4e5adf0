//! The errors of anomaly detection: bad settings, unusable training data, model files that
//! cannot be read, written or trusted. Every variant carries what the user needs to act.

use std::path::PathBuf;
use thiserror::Error;

/// What went wrong while configuring, training, saving or loading an anomaly model.
#[derive(Debug, Error)]
pub enum AnomalyError {
    /// A setting is out of its range.
    #[error("anomaly setting `{field}` = {value} is invalid: {reason}")]
    InvalidConfig {
        /// The setting's name as in the configuration file.
        field: &'static str,
        /// The value given, as text.
        value: String,
        /// The accepted range or rule.
        reason: String,
    },
    /// Too few training vectors to build a model.
    #[error(
        "cannot train an anomaly model on {got} intervals: at least {needed} are needed \
         (let the baseline run longer or choose a longer time range)"
    )]
    NotEnoughData {
        /// Vectors offered.
        got: usize,
        /// Vectors required.
        needed: usize,
    },
    /// Training vectors of different lengths.
    #[error("training vector {index} has {got} features, the first one has {expected}")]
    DimensionMismatch {
        /// Position of the offending vector.
        index: usize,
        /// Its length.
        got: usize,
        /// The length of the first vector.
        expected: usize,
    },
    /// A training value that is NaN or infinite.
    #[error("training vector {index} has a non-finite value ({value}) in feature {feature}")]
    NonFinite {
        /// Position of the offending vector.
        index: usize,
        /// Position of the feature.
        feature: usize,
        /// The value.
        value: f64,
    },
    /// A model file could not be read, written or moved into place.
    #[error("cannot {action} anomaly model file {}: {source}", path.display())]
    Io {
        /// What was being done: "read", "write", "create the directory of", "replace".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The system's reason.
        #[source]
        source: std::io::Error,
    },
    /// A model file is not a valid model.
    #[error(
        "anomaly model file {} is not a valid model ({source}); delete it and retrain",
        path.display()
    )]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's reason.
        #[source]
        source: serde_json::Error,
    },
    /// A model could not be turned into JSON (cannot happen with finite values).
    #[error("cannot encode the anomaly model: {0}")]
    Encode(#[source] serde_json::Error),
    /// A model file written by another format version.
    #[error(
        "anomaly model file {} has format version {found}, this build reads version \
         {expected}: retrain the model",
        path.display()
    )]
    Version {
        /// The file.
        path: PathBuf,
        /// Version in the file.
        found: u32,
        /// Version this build reads.
        expected: u32,
    },
    /// A model trained on other features than this build computes.
    #[error(
        "anomaly model file {} was trained on the features [{found}] but this build computes \
         [{expected}]: retrain the model",
        path.display()
    )]
    FeatureMismatch {
        /// The file.
        path: PathBuf,
        /// Feature names in the file, comma-separated.
        found: String,
        /// Feature names of this build, comma-separated.
        expected: String,
    },
}
