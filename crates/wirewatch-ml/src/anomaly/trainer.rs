//! Training: collecting a baseline of closed intervals, and building a model from feature
//! vectors (a run's first minutes or a stored time range).
//!
//! [`BaselineCollector`] takes closed intervals as they come, skips the first few (the flow
//! table starts empty, so every flow already live when capture began looks new) and those with
//! too few packets (an idle or stopped capture is not what "normal" traffic looks like), keeps
//! the feature vectors of the rest up to [`TrainerConfig::baseline_intervals`], and then
//! trains. Its memory is bounded by [`MAX_BASELINE_INTERVALS`] vectors (about 10 MB).
//!
//! Everything here is pure: no threads, no clock, no I/O. Training 300 intervals with the
//! default 100 trees takes a few milliseconds, but the caller decides where it runs.

use super::error::AnomalyError;
use super::explain::Baseline;
use super::features::{FeatureVector, interval_features};
use super::iforest::{IForestConfig, IsolationForest, MIN_SAMPLE_SIZE};
use super::model::{AnomalyModel, TrainingInfo};
use serde::{Deserialize, Serialize};
use wirewatch_core::{IntervalMetrics, Timestamp};

/// Most intervals a baseline may hold: a day of 1-second intervals (15 features × 8 bytes ×
/// 86,400 ≈ 10 MB). A longer baseline adds little to a model of "normal" and costs memory.
pub const MAX_BASELINE_INTERVALS: usize = 86_400;
/// Fewest intervals a model is trained on: below this the contamination quantile rests on a
/// handful of scores and the threshold is noise.
pub const MIN_BASELINE_INTERVALS: usize = 32;
/// Most intervals skipped at the start of a baseline (an hour of 1-second intervals).
pub const MAX_WARMUP_INTERVALS: usize = 3600;

/// How a baseline is collected and a model trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainerConfig {
    /// Intervals in a baseline: 300 = the first 5 minutes of 1-second intervals
    /// ([`MIN_BASELINE_INTERVALS`] to [`MAX_BASELINE_INTERVALS`]).
    pub baseline_intervals: usize,
    /// Intervals skipped when a baseline starts, while the flow table fills (5; at most
    /// [`MAX_WARMUP_INTERVALS`]).
    pub warmup_intervals: usize,
    /// Intervals with fewer packets are not part of the baseline (1: only empty ones skipped).
    pub min_packets: u64,
    /// The Isolation Forest settings.
    pub forest: IForestConfig,
}

impl Default for TrainerConfig {
    fn default() -> Self {
        TrainerConfig {
            baseline_intervals: 300,
            warmup_intervals: 5,
            min_packets: 1,
            forest: IForestConfig::default(),
        }
    }
}

impl TrainerConfig {
    /// Checks every setting against its range.
    pub fn validate(&self) -> Result<(), AnomalyError> {
        if !(MIN_BASELINE_INTERVALS..=MAX_BASELINE_INTERVALS).contains(&self.baseline_intervals) {
            return Err(AnomalyError::InvalidConfig {
                field: "baseline_intervals",
                value: self.baseline_intervals.to_string(),
                reason: format!(
                    "between {MIN_BASELINE_INTERVALS} and {MAX_BASELINE_INTERVALS} intervals"
                ),
            });
        }
        if self.warmup_intervals > MAX_WARMUP_INTERVALS {
            return Err(AnomalyError::InvalidConfig {
                field: "warmup_intervals",
                value: self.warmup_intervals.to_string(),
                reason: format!("at most {MAX_WARMUP_INTERVALS} intervals"),
            });
        }
        self.forest.validate()
    }
}

/// What [`BaselineCollector::push`] did with an interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collected {
    /// Skipped: one of the first `warmup_intervals`.
    Warmup,
    /// Skipped: fewer than `min_packets` packets.
    TooQuiet,
    /// Added; `collected` of `needed` so far.
    Added {
        /// Intervals in the baseline now.
        collected: usize,
        /// Intervals the baseline needs.
        needed: usize,
    },
    /// The baseline was already complete; the interval was not used.
    Full,
}

/// Accumulates the feature vectors of closed intervals into a baseline.
#[derive(Debug, Clone)]
pub struct BaselineCollector {
    config: TrainerConfig,
    vectors: Vec<FeatureVector>,
    seen: usize,
    skipped_quiet: usize,
    from_ts: Option<Timestamp>,
    to_ts: Timestamp,
}

impl BaselineCollector {
    /// An empty collector (the settings are validated).
    pub fn new(config: TrainerConfig) -> Result<Self, AnomalyError> {
        config.validate()?;
        Ok(BaselineCollector {
            vectors: Vec::with_capacity(config.baseline_intervals.min(MAX_BASELINE_INTERVALS)),
            config,
            seen: 0,
            skipped_quiet: 0,
            from_ts: None,
            to_ts: Timestamp(0),
        })
    }

    /// Offers one closed interval to the baseline.
    pub fn push(&mut self, m: &IntervalMetrics) -> Collected {
        self.seen += 1;
        if self.seen <= self.config.warmup_intervals {
            return Collected::Warmup;
        }
        if self.is_ready() {
            return Collected::Full;
        }
        if m.packets < self.config.min_packets {
            self.skipped_quiet += 1;
            return Collected::TooQuiet;
        }
        self.vectors.push(interval_features(m));
        self.from_ts.get_or_insert(m.start_ts);
        self.to_ts = self.to_ts.max(m.end_ts());
        Collected::Added {
            collected: self.vectors.len(),
            needed: self.config.baseline_intervals,
        }
    }

    /// Whether the baseline is complete.
    pub fn is_ready(&self) -> bool {
        self.vectors.len() >= self.config.baseline_intervals
    }

    /// Intervals collected so far and intervals needed.
    pub fn progress(&self) -> (usize, usize) {
        (self.vectors.len(), self.config.baseline_intervals)
    }

    /// Intervals skipped for having too few packets.
    pub fn skipped_quiet(&self) -> usize {
        self.skipped_quiet
    }

    /// The settings.
    pub fn config(&self) -> &TrainerConfig {
        &self.config
    }

    /// The feature vectors collected so far.
    pub fn vectors(&self) -> &[FeatureVector] {
        &self.vectors
    }

    /// Trains a model on what has been collected, complete or not (at least
    /// [`MIN_BASELINE_INTERVALS`] intervals).
    pub fn train(&self) -> Result<AnomalyModel, AnomalyError> {
        if self.vectors.len() < MIN_BASELINE_INTERVALS {
            return Err(AnomalyError::NotEnoughData {
                got: self.vectors.len(),
                needed: MIN_BASELINE_INTERVALS,
            });
        }
        train_from(
            &self.vectors,
            &self.config.forest,
            self.from_ts.unwrap_or_default(),
            self.to_ts,
        )
    }

    /// Forgets everything collected, to start a new baseline.
    pub fn reset(&mut self) {
        self.vectors.clear();
        self.seen = 0;
        self.skipped_quiet = 0;
        self.from_ts = None;
        self.to_ts = Timestamp(0);
    }
}

/// Trains a model on `vectors` (model space), recording that they cover `[from_ts, to_ts)`.
pub fn train_from(
    vectors: &[FeatureVector],
    config: &IForestConfig,
    from_ts: Timestamp,
    to_ts: Timestamp,
) -> Result<AnomalyModel, AnomalyError> {
    if vectors.len() < MIN_SAMPLE_SIZE {
        return Err(AnomalyError::NotEnoughData {
            got: vectors.len(),
            needed: MIN_SAMPLE_SIZE,
        });
    }
    let forest = IsolationForest::fit(config, vectors)?;
    let baseline = Baseline::from_vectors(vectors)?;
    Ok(AnomalyModel::new(
        forest,
        baseline,
        TrainingInfo {
            intervals: vectors.len(),
            from_ts,
            to_ts,
            config: config.clone(),
        },
    ))
}

/// Trains a model on stored intervals (e.g. a time range read back from the database): those
/// with fewer than `min_packets` packets are skipped, the rest used up to
/// `baseline_intervals`' cap [`MAX_BASELINE_INTERVALS`] (the most recent ones are kept).
/// There is no warm-up skip: choose a range that starts after capture did.
pub fn train_from_intervals(
    intervals: &[IntervalMetrics],
    config: &TrainerConfig,
) -> Result<AnomalyModel, AnomalyError> {
    config.validate()?;
    let used: Vec<&IntervalMetrics> = intervals
        .iter()
        .filter(|m| m.packets >= config.min_packets)
        .collect();
    let used = used
        .get(used.len().saturating_sub(MAX_BASELINE_INTERVALS)..)
        .unwrap_or(&[]);
    if used.len() < MIN_BASELINE_INTERVALS {
        return Err(AnomalyError::NotEnoughData {
            got: used.len(),
            needed: MIN_BASELINE_INTERVALS,
        });
    }
    let vectors: Vec<FeatureVector> = used.iter().map(|m| interval_features(m)).collect();
    let from = used.iter().map(|m| m.start_ts).min().unwrap_or_default();
    let to = used.iter().map(|m| m.end_ts()).max().unwrap_or_default();
    train_from(&vectors, &config.forest, from, to)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

    use super::*;

    fn interval(k: u64, packets: u64) -> IntervalMetrics {
        IntervalMetrics {
            start_ts: Timestamp(k * 1_000_000_000),
            duration_ns: 1_000_000_000,
            packets,
            bytes: packets * (500 + k % 17),
            distinct_src_ips: 10 + k % 5,
            ..IntervalMetrics::default()
        }
    }

    fn small() -> TrainerConfig {
        TrainerConfig {
            baseline_intervals: 40,
            warmup_intervals: 3,
            ..TrainerConfig::default()
        }
    }

    #[test]
    fn collects_skipping_warmup_and_empty_intervals() {
        let mut c = BaselineCollector::new(small()).unwrap();
        let mut states = Vec::new();
        for k in 0..60 {
            let packets = if k % 10 == 5 { 0 } else { 100 + k };
            states.push(c.push(&interval(k, packets)));
        }
        assert_eq!(&states[..3], &[Collected::Warmup; 3]);
        assert_eq!(states[5], Collected::TooQuiet);
        assert_eq!(
            states[3],
            Collected::Added {
                collected: 1,
                needed: 40
            }
        );
        assert!(c.is_ready());
        assert_eq!(*states.last().unwrap(), Collected::Full);
        assert_eq!(c.progress(), (40, 40));
        assert_eq!(c.skipped_quiet(), 5);
        let m = c.train().unwrap();
        assert_eq!(m.trained_on.intervals, 40);
        assert_eq!(m.trained_on.from_ts, Timestamp(3_000_000_000));
        // 3 warm-up, then 40 used and 5 quiet: interval 47 is the last one used.
        assert_eq!(m.trained_on.to_ts, Timestamp(48_000_000_000));
        assert_eq!(m.forest.sample_size(), 40);
        c.reset();
        assert_eq!(c.progress(), (0, 40));
        assert!(matches!(
            c.train().unwrap_err(),
            AnomalyError::NotEnoughData { got: 0, .. }
        ));
    }

    #[test]
    fn training_is_reproducible() {
        let intervals: Vec<_> = (0..100).map(|k| interval(k, 1000 + k % 9)).collect();
        let a = train_from_intervals(&intervals, &small()).unwrap();
        let b = train_from_intervals(&intervals, &small()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.trained_on.intervals, 100);
        assert_eq!(a.trained_on.to_ts, Timestamp(100_000_000_000));
    }

    #[test]
    fn settings_are_validated() {
        for bad in [
            TrainerConfig {
                baseline_intervals: 10,
                ..TrainerConfig::default()
            },
            TrainerConfig {
                baseline_intervals: MAX_BASELINE_INTERVALS + 1,
                ..TrainerConfig::default()
            },
            TrainerConfig {
                warmup_intervals: MAX_WARMUP_INTERVALS + 1,
                ..TrainerConfig::default()
            },
        ] {
            assert!(BaselineCollector::new(bad).is_err());
        }
        let quiet: Vec<_> = (0..100).map(|k| interval(k, 0)).collect();
        assert!(train_from_intervals(&quiet, &TrainerConfig::default()).is_err());
        let parsed: TrainerConfig =
            serde_json::from_str(r#"{"baseline_intervals": 600, "forest": {"trees": 50}}"#)
                .unwrap();
        assert_eq!(parsed.baseline_intervals, 600);
        assert_eq!(parsed.forest.trees, 50);
        assert_eq!(parsed.forest.sample_size, 256);
    }
}
