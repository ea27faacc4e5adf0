//! Machine learning for Wirewatch, trained and run in Rust (no Python at run time).
//!
//! Owns two learned models and what feeds them: [`anomaly`] (an Isolation Forest over a
//! feature vector per closed interval, with explanations of what made an interval anomalous)
//! and [`flowclass`] (CICIDS2017-style flow classification: the dataset reader, label mapping,
//! training, evaluation and the versioned model file). It does no packet I/O and never reads
//! the clock; models are plain data that the engine swaps atomically.

pub mod anomaly;
pub mod flowclass;
