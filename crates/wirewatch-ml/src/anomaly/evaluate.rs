//! How well a model separates clean intervals from attack intervals: false-positive rate on
//! clean ones, detection rate on attack ones, and the ROC AUC of the raw scores (independent of
//! the threshold). Pure computation over feature vectors the caller labelled.

use super::features::FeatureVector;
use super::model::AnomalyModel;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The figures of one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Clean intervals scored.
    pub clean: usize,
    /// Attack intervals scored.
    pub attack: usize,
    /// Clean intervals flagged anomalous.
    pub false_positives: usize,
    /// Attack intervals flagged anomalous.
    pub detected: usize,
    /// `false_positives / clean` (0 without clean intervals).
    pub false_positive_rate: f64,
    /// `detected / attack` (0 without attack intervals).
    pub detection_rate: f64,
    /// `detected / (detected + false_positives)` (0 when nothing was flagged).
    pub precision: f64,
    /// Probability that a random attack interval scores above a random clean one (ties count
    /// half): 1 is perfect separation, 0.5 is chance.
    pub roc_auc: f64,
    /// The model's threshold.
    pub threshold: f64,
    /// The configured contamination, for comparison with `false_positive_rate`.
    pub contamination: f64,
    /// Mean score of the clean intervals.
    pub clean_score_mean: f64,
    /// Mean score of the attack intervals.
    pub attack_score_mean: f64,
    /// Lowest score of an attack interval.
    pub attack_score_min: f64,
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Scores `clean` and `attack` vectors with `model` and sums up how it did.
pub fn evaluate(
    model: &AnomalyModel,
    clean: &[FeatureVector],
    attack: &[FeatureVector],
) -> Evaluation {
    let threshold = model.threshold();
    let clean_scores: Vec<f64> = clean.iter().map(|x| model.forest.score(x)).collect();
    let attack_scores: Vec<f64> = attack.iter().map(|x| model.forest.score(x)).collect();
    let false_positives = clean_scores.iter().filter(|s| **s > threshold).count();
    let detected = attack_scores.iter().filter(|s| **s > threshold).count();
    Evaluation {
        clean: clean.len(),
        attack: attack.len(),
        false_positives,
        detected,
        false_positive_rate: share(false_positives, clean.len()),
        detection_rate: share(detected, attack.len()),
        precision: share(detected, detected + false_positives),
        roc_auc: roc_auc(&clean_scores, &attack_scores),
        threshold,
        contamination: model.forest.contamination(),
        clean_score_mean: mean(&clean_scores),
        attack_score_mean: mean(&attack_scores),
        attack_score_min: attack_scores.iter().copied().fold(f64::NAN, f64::min),
    }
}

/// Mann–Whitney estimate of the ROC AUC: the share of (attack, clean) pairs ordered right.
/// O(n log n) by sorting the clean scores once.
fn roc_auc(clean: &[f64], attack: &[f64]) -> f64 {
    if clean.is_empty() || attack.is_empty() {
        return 0.5;
    }
    let mut sorted = clean.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut wins = 0.0;
    for a in attack {
        let below = sorted.partition_point(|c| c < a);
        let not_above = sorted.partition_point(|c| c <= a);
        wins += below as f64 + 0.5 * (not_above - below) as f64;
    }
    wins / (clean.len() as f64 * attack.len() as f64)
}

impl fmt::Display for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "detection {}/{} = {:.3}, false positives {}/{} = {:.3} (contamination {}), \
             precision {:.3}, ROC AUC {:.3}, threshold {:.4}, mean score clean {:.3} / \
             attack {:.3} (min {:.3})",
            self.detected,
            self.attack,
            self.detection_rate,
            self.false_positives,
            self.clean,
            self.false_positive_rate,
            self.contamination,
            self.precision,
            self.roc_auc,
            self.threshold,
            self.clean_score_mean,
            self.attack_score_mean,
            self.attack_score_min,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_counts_pairs() {
        assert_eq!(roc_auc(&[0.1, 0.2], &[0.3, 0.4]), 1.0);
        assert_eq!(roc_auc(&[0.3, 0.4], &[0.1, 0.2]), 0.0);
        assert_eq!(roc_auc(&[0.5], &[0.5]), 0.5);
        assert_eq!(roc_auc(&[0.1, 0.5], &[0.3]), 0.5);
        assert_eq!(roc_auc(&[], &[0.3]), 0.5);
    }
}
