//! Why an interval looks anomalous: baseline statistics per feature and the features that
//! stray furthest from them.
//!
//! An Isolation Forest says *how* unusual a vector is, not *why*. The explanation measures each
//! feature against the baseline the model was trained on with a robust z-score,
//! `z = (x − median) / scale`, where `scale` is the median absolute deviation × 1.4826 (the
//! standard deviation for normal data, but not inflated by the baseline's own outliers), the
//! standard deviation when the MAD is 0, and never less than the feature's
//! [`min_scale`](super::features::FeatureInfo::min_scale). z is taken in model space (after
//! the log transform), so "ten times the usual rate" weighs the same at any rate. The features
//! with the largest |z| are reported with their raw values against the baseline's raw mean and
//! standard deviation, which read naturally ("SYN share 0.92 vs baseline 0.05 ± 0.02").
//!
//! Pure computation: no I/O, no clock.

use super::error::AnomalyError;
use super::exact_f64;
use super::features::{FEATURE_COUNT, FEATURES, FeatureVector, to_raw};
use super::iforest::quantile;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Below this, numbers are printed with two significant digits rather than two decimals.
const SMALL_NUMBER: f64 = 0.1;
/// Most decimals printed for a tiny number (smaller ones read as 0).
const MAX_DECIMALS: i32 = 9;
/// MAD × this estimates the standard deviation of normally distributed data.
const MAD_TO_STD: f64 = 1.4826;

/// Baseline statistics of one feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureStats {
    /// Median in model space.
    #[serde(with = "exact_f64")]
    pub median: f64,
    /// Median absolute deviation from the median, model space.
    #[serde(with = "exact_f64")]
    pub mad: f64,
    /// Mean in model space.
    #[serde(with = "exact_f64")]
    pub mean: f64,
    /// Standard deviation in model space.
    #[serde(with = "exact_f64")]
    pub std: f64,
    /// Mean of the raw values (for explanations).
    #[serde(with = "exact_f64")]
    pub raw_mean: f64,
    /// Standard deviation of the raw values (for explanations).
    #[serde(with = "exact_f64")]
    pub raw_std: f64,
}

/// Per-feature statistics of the training vectors, in [`FEATURES`] order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// One entry per feature.
    pub features: Vec<FeatureStats>,
}

/// How far one feature of an interval is from the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// The feature's stable name.
    pub feature: String,
    /// Its words for people ("SYN share").
    pub label: String,
    /// Unit of `value` and the baseline figures.
    pub unit: String,
    /// The interval's raw value.
    pub value: f64,
    /// The baseline's mean raw value.
    pub baseline_mean: f64,
    /// The baseline's standard deviation of raw values.
    pub baseline_std: f64,
    /// Robust z-score (model space): signed distance from the baseline median in spreads.
    pub z: f64,
}

/// Mean and (population) standard deviation.
fn mean_std(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

impl FeatureStats {
    fn of(model: &[f64], raw: &[f64]) -> FeatureStats {
        let median = quantile(model.to_vec(), 0.5);
        let mad = quantile(model.iter().map(|v| (v - median).abs()).collect(), 0.5);
        let (mean, std) = mean_std(model);
        let (raw_mean, raw_std) = mean_std(raw);
        FeatureStats {
            median,
            mad,
            mean,
            std,
            raw_mean,
            raw_std,
        }
    }

    /// The spread that one unit of z stands for (see the module documentation).
    pub fn scale(&self, min_scale: f64) -> f64 {
        let spread = if self.mad > 0.0 {
            self.mad * MAD_TO_STD
        } else {
            self.std
        };
        if spread.is_finite() {
            spread.max(min_scale)
        } else {
            min_scale
        }
    }
}

impl Baseline {
    /// Statistics of `vectors` (model space; at least one).
    pub fn from_vectors(vectors: &[FeatureVector]) -> Result<Baseline, AnomalyError> {
        if vectors.is_empty() {
            return Err(AnomalyError::NotEnoughData { got: 0, needed: 1 });
        }
        let raws: Vec<FeatureVector> = vectors.iter().map(to_raw).collect();
        let features = (0..FEATURE_COUNT)
            .map(|i| {
                let model: Vec<f64> = vectors.iter().filter_map(|v| v.get(i).copied()).collect();
                let raw: Vec<f64> = raws.iter().filter_map(|v| v.get(i).copied()).collect();
                FeatureStats::of(&model, &raw)
            })
            .collect();
        Ok(Baseline { features })
    }

    /// Robust z-score of every feature of `x`.
    pub fn z_scores(&self, x: &FeatureVector) -> FeatureVector {
        let mut z = [0.0; FEATURE_COUNT];
        for (i, out) in z.iter_mut().enumerate() {
            if let (Some(s), Some(info), Some(v)) =
                (self.features.get(i), FEATURES.get(i), x.get(i))
            {
                let d = (v - s.median) / s.scale(info.min_scale);
                *out = if d.is_finite() { d } else { 0.0 };
            }
        }
        z
    }

    /// The `k` features of `x` furthest from the baseline (largest |z| first; ties in
    /// feature order).
    pub fn explain(&self, x: &FeatureVector, k: usize) -> Vec<Contribution> {
        let z = self.z_scores(x);
        let raw = to_raw(x);
        let mut order: Vec<usize> = (0..FEATURE_COUNT).collect();
        order.sort_by(|a, b| {
            let za = z.get(*a).map_or(0.0, |v| v.abs());
            let zb = z.get(*b).map_or(0.0, |v| v.abs());
            zb.total_cmp(&za).then(a.cmp(b))
        });
        order
            .into_iter()
            .take(k)
            .filter_map(|i| {
                let info = FEATURES.get(i)?;
                let s = self.features.get(i)?;
                Some(Contribution {
                    feature: info.name.to_string(),
                    label: info.label.to_string(),
                    unit: info.unit.to_string(),
                    value: *raw.get(i)?,
                    baseline_mean: s.raw_mean,
                    baseline_std: s.raw_std,
                    z: *z.get(i)?,
                })
            })
            .collect()
    }
}

/// A number for people: thousands separators from 100 up, then fewer decimals as it grows
/// ("0.92", "12.5", "1,012").
pub fn format_number(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let a = v.abs();
    if a >= 100.0 {
        let n = v.round() as i64;
        let digits = n.unsigned_abs().to_string();
        let mut out = String::new();
        if n < 0 {
            out.push('-');
        }
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a == 0.0 || a >= SMALL_NUMBER {
        format!("{v:.2}")
    } else {
        // Two significant digits, so 0.0012 does not read as "0.00".
        let decimals = (1 - a.log10().floor() as i32).clamp(2, MAX_DECIMALS);
        format!("{v:.*}", decimals as usize)
    }
}

impl Contribution {
    /// "SYN share 0.92 vs baseline 0.05 ± 0.02".
    pub fn sentence(&self) -> String {
        let suffix = FEATURES
            .iter()
            .find(|f| f.name == self.feature)
            .map_or("", |f| f.suffix);
        format!(
            "{} {}{suffix} vs baseline {} ± {}{suffix}",
            self.label,
            format_number(self.value),
            format_number(self.baseline_mean),
            format_number(self.baseline_std),
        )
    }
}

/// The contributions as one sentence, most unusual first, separated by "; ".
pub fn describe(contributions: &[Contribution]) -> String {
    let mut out = String::new();
    for (i, c) in contributions.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        let _ = write!(out, "{}", c.sentence());
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

    use super::*;
    use crate::anomaly::features::{feature_index, to_model_space};

    /// Baseline vectors: every raw feature near `base[i]`, with a small deterministic wobble.
    fn baseline_vectors() -> Vec<FeatureVector> {
        (0..200)
            .map(|k| {
                let w = f64::from(k % 5) - 2.0; // -2..2
                let mut raw = [0.0; FEATURE_COUNT];
                raw[0] = 1500.0 + 20.0 * w; // packets/s
                raw[1] = 900_000.0 + 10_000.0 * w;
                raw[2] = 600.0 + 5.0 * w;
                raw[3] = 0.8;
                raw[4] = 0.15;
                raw[5] = 0.01;
                raw[6] = 0.05 + 0.01 * w;
                raw[7] = 0.1;
                raw[8] = 0.01;
                raw[9] = 40.0 + w;
                raw[10] = 60.0 + w;
                raw[11] = 4.0 + w;
                raw[12] = 30.0 + w;
                raw[13] = 5.0;
                raw[14] = 5.5;
                to_model_space(&raw)
            })
            .collect()
    }

    #[test]
    fn stats_are_robust() {
        let mut v = baseline_vectors();
        // One crazy outlier barely moves the median and MAD.
        let mut crazy = [0.0; FEATURE_COUNT];
        crazy[0] = 1e9f64.ln_1p();
        v.push(crazy);
        let b = Baseline::from_vectors(&v).unwrap();
        let s = &b.features[0];
        assert!((s.median - 1500f64.ln_1p()).abs() < 0.01, "{s:?}");
        assert!(s.mad < 0.03, "{s:?}");
        assert!(s.std > 0.5, "std is not robust: {s:?}");
        assert!(Baseline::from_vectors(&[]).is_err());
    }

    #[test]
    fn top_contributions_name_the_features_that_moved() {
        let b = Baseline::from_vectors(&baseline_vectors()).unwrap();
        // A SYN scan: SYN share 0.92, 1,012 destination ports.
        let mut raw = to_raw(&baseline_vectors()[2]);
        raw[6] = 0.92;
        raw[11] = 1012.0;
        let x = to_model_space(&raw);
        let top = b.explain(&x, 2);
        let names: Vec<_> = top.iter().map(|c| c.feature.as_str()).collect();
        assert_eq!(names.len(), 2);
        assert!(names.contains(&"syn_share") && names.contains(&"dst_ports_per_sec"));
        assert!(top.iter().all(|c| c.z > 3.0));
        let syn = top.iter().find(|c| c.feature == "syn_share").unwrap();
        assert!((syn.value - 0.92).abs() < 1e-12);
        assert!((syn.baseline_mean - 0.05).abs() < 1e-9);
        let text = describe(&top);
        assert!(
            text.contains("SYN share 0.92 vs baseline 0.050 ± 0.014"),
            "{text}"
        );
        assert!(
            text.contains("distinct destination ports 1,012/s vs baseline 4.00 ± 1.41/s"),
            "{text}"
        );
        // An ordinary vector has small z everywhere.
        let z = b.z_scores(&baseline_vectors()[0]);
        assert!(z.iter().all(|v| v.abs() < 3.0), "{z:?}");
    }

    #[test]
    fn constant_baseline_features_use_the_floor() {
        let b = Baseline::from_vectors(&baseline_vectors()).unwrap();
        let i = feature_index("icmp_share").unwrap();
        assert!(b.features[i].std < 1e-12);
        let mut x = baseline_vectors()[0];
        x[i] = 0.03; // two percentage points more ICMP
        let z = b.z_scores(&x)[i];
        assert!((z - 2.0).abs() < 1e-9, "{z}");
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(format_number(0.923), "0.92");
        assert_eq!(format_number(12.34), "12.3");
        assert_eq!(format_number(1012.4), "1,012");
        assert_eq!(format_number(-1_234_567.0), "-1,234,567");
        assert_eq!(format_number(100.0), "100");
        assert_eq!(format_number(0.0), "0.00");
        assert_eq!(format_number(0.05), "0.050");
        assert_eq!(format_number(0.0012), "0.0012");
        assert_eq!(format_number(1e-15), "0.000000000");
        assert_eq!(format_number(999_999.6), "1,000,000");
    }
}
