//! Unsupervised anomaly detection on interval features (Isolation Forest).
//!
//! Owns the feature vector of a closed interval ([`features`], the one documented list), the
//! Isolation Forest ([`iforest`]), the baseline statistics that explain a verdict
//! ([`explain`]), the persisted model ([`model`]), baseline collection and training
//! ([`trainer`]) and evaluation on labelled intervals ([`evaluate`](mod@evaluate)).
//!
//! Flow of data: each closed [`IntervalMetrics`](wirewatch_core::IntervalMetrics) becomes a
//! [`FeatureVector`]; a [`BaselineCollector`] gathers the vectors of the first minutes of a
//! run (or [`train_from_intervals`] takes a stored range) and trains an [`AnomalyModel`]; the
//! model scores each later interval into a [`Verdict`]: score, threshold, anomalous or not, and
//! the features furthest from the baseline.
//!
//! It must not do: threads, the clock, packet I/O, alert policy. Deciding when to retrain,
//! swapping models and raising `ml_anomaly` alerts belong to the detector that uses this.

pub mod error;
pub mod evaluate;
pub mod exact_f64;
pub mod explain;
pub mod features;
pub mod iforest;
pub mod model;
pub mod trainer;

#[cfg(test)]
mod scenario_tests;

pub use error::AnomalyError;
pub use evaluate::{Evaluation, evaluate};
pub use explain::{Baseline, Contribution, FeatureStats, describe};
pub use features::{
    FEATURE_COUNT, FEATURES, FeatureInfo, FeatureVector, Transform, feature_names,
    interval_features, raw_features,
};
pub use iforest::{IForestConfig, IsolationForest, average_path_length, fit};
pub use model::{AnomalyModel, EXPLAIN_TOP_K, MODEL_FORMAT_VERSION, TrainingInfo, Verdict};
pub use trainer::{
    BaselineCollector, Collected, MAX_BASELINE_INTERVALS, TrainerConfig, train_from,
    train_from_intervals,
};
