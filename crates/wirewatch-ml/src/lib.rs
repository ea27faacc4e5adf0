//! Machine learning for Wirewatch, trained and run in Rust (no Python at run time).
//!
//! Owns two learned models and what feeds them: [`anomaly`] (an Isolation Forest over a
//! feature vector per closed interval, with explanations of what made an interval anomalous)
//! and [`flowclass`] (CICIDS2017-style flow classification: the dataset reader, label mapping,
//! training, evaluation and the versioned model file; the flow features themselves are
//! `wirewatch-flow`'s, re-exported here). Training is seeded (`wirewatch_core::rng`): the same
//! seed and data give the same model. Models are plain data that the detectors swap atomically.
//!
//! Must not: read the clock (its `clippy.toml` refuses the clocks); do packet I/O (it reads and
//! writes only the dataset and model files it is handed); decide alert policy (the
//! `ml_anomaly` and `ml_threat` detectors of `wirewatch-detect` do); depend on any Wirewatch
//! crate but `wirewatch-core` and `wirewatch-flow`.

pub mod anomaly;
pub mod flowclass;
