//! An Isolation Forest (Liu, Ting and Zhou, "Isolation Forest", ICDM 2008), written out here.
//!
//! # Why not a crate
//!
//! The Rust crates found (`isolation_forest` 1.1, `extended-isolation-forest` 0.2) draw from
//! `rand::thread_rng` with no seed, so training is not reproducible, and pin `rand` 0.8. The
//! algorithm is small; this file follows the paper:
//!
//! - each of `trees` trees is grown on a random sub-sample of ψ = min(`sample_size`, n)
//!   training vectors drawn without replacement;
//! - a node picks a random feature (among those varying within the node) and a split value
//!   uniform between that feature's minimum and maximum in the node; values below it go left;
//! - growth stops at one vector, at identical vectors, or at the height limit ⌈log2 ψ⌉;
//! - the path length of `x` in a tree is the depth of its leaf plus c(size of the leaf), the
//!   average depth the unbuilt subtree would have added; c(n) = 2H(n−1) − 2(n−1)/n with
//!   H(i) ≈ ln i + γ, c(2) = 1 and c(1) = 0;
//! - the score is s = 2^(−E[h(x)] / c(ψ)), in (0, 1]: near 1 is isolated quickly (anomalous),
//!   about 0.5 or less is ordinary.
//!
//! The anomaly threshold is the (1 − `contamination`) quantile of the training vectors' own
//! scores (as scikit-learn's `contamination`), so about that share of the baseline would be
//! flagged and clean traffic like it is flagged at about that rate.
//!
//! `max_features` (a share, 1.0 by default) lets each tree split on a random subset of the
//! features, as scikit-learn's option of that name.
//!
//! Training is deterministic: every random draw comes from a [`SplitMix64`] seeded from
//! `seed`, one stream per tree, so tree *i* is the same whatever the number of trees.
//!
//! # Persistence
//!
//! The forest serialises with serde. Its floats are written as decimal strings
//! ([`exact_f64`]), so a reloaded model gives bit-identical scores. Loading validates the
//! structure (child indices point forward and inside the tree, features exist), so a corrupt
//! file is refused rather than walked into a loop or a panic.
//!
//! Nothing here does I/O, reads the clock, or knows what the features mean.

use super::error::AnomalyError;
use super::exact_f64;
use serde::{Deserialize, Serialize};
use wirewatch_core::rng::SplitMix64;

/// Euler–Mascheroni constant, for the harmonic-number approximation H(i) ≈ ln i + γ.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;
/// Most trees accepted: ten times the paper's 100 (path lengths converge well before), which
/// keeps scoring an interval under a few tens of microseconds.
pub const MAX_TREES: usize = 1000;
/// Largest sub-sample accepted: the paper finds 256 enough and larger samples only slower and
/// prone to swamping; 65,536 bounds a model file to some tens of megabytes.
pub const MAX_SAMPLE_SIZE: usize = 65_536;
/// Smallest sub-sample (and training set) that can be isolated at all: c(1) = 0.
pub const MIN_SAMPLE_SIZE: usize = 2;
/// Largest contamination accepted: beyond half, the "anomalies" are the norm.
pub const MAX_CONTAMINATION: f64 = 0.5;
/// Most features a vector may have (feature indices are stored as 16 bits).
pub const MAX_DIMS: usize = u16::MAX as usize;
/// The default seed ("wirewatch" in spirit; any value works).
const DEFAULT_SEED: u64 = 0x7769_7265_7761_7463;

/// Isolation Forest settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IForestConfig {
    /// Trees in the forest (100, as in the paper; 1 to [`MAX_TREES`]).
    pub trees: usize,
    /// Training vectors per tree, ψ (256, as in the paper; [`MIN_SAMPLE_SIZE`] to
    /// [`MAX_SAMPLE_SIZE`]); fewer when the training set is smaller.
    pub sample_size: usize,
    /// Expected share of anomalies in the training data, which sets the threshold
    /// (0.1; 0 to [`MAX_CONTAMINATION`]; 0 puts the threshold at the highest training score).
    pub contamination: f64,
    /// Seed of every random draw: the same data and settings give the same model.
    pub seed: u64,
    /// Share of the features each tree may split on, drawn per tree (1.0 = all; above 0).
    pub max_features: f64,
}

impl Default for IForestConfig {
    fn default() -> Self {
        IForestConfig {
            trees: 100,
            sample_size: 256,
            contamination: 0.1,
            seed: DEFAULT_SEED,
            max_features: 1.0,
        }
    }
}

impl IForestConfig {
    /// Checks every setting against its range.
    pub fn validate(&self) -> Result<(), AnomalyError> {
        let bad = |field, value: String, reason: String| {
            Err(AnomalyError::InvalidConfig {
                field,
                value,
                reason,
            })
        };
        if !(1..=MAX_TREES).contains(&self.trees) {
            return bad(
                "trees",
                self.trees.to_string(),
                format!("between 1 and {MAX_TREES}"),
            );
        }
        if !(MIN_SAMPLE_SIZE..=MAX_SAMPLE_SIZE).contains(&self.sample_size) {
            return bad(
                "sample_size",
                self.sample_size.to_string(),
                format!("between {MIN_SAMPLE_SIZE} and {MAX_SAMPLE_SIZE}"),
            );
        }
        if !(0.0..=MAX_CONTAMINATION).contains(&self.contamination) {
            return bad(
                "contamination",
                self.contamination.to_string(),
                format!("a share between 0 and {MAX_CONTAMINATION}"),
            );
        }
        if !(self.max_features > 0.0 && self.max_features <= 1.0) {
            return bad(
                "max_features",
                self.max_features.to_string(),
                "a share above 0 and at most 1".into(),
            );
        }
        Ok(())
    }
}

/// c(n): the average path length of an unsuccessful search in a binary search tree of `n`
/// keys, which normalises path lengths (0 for n ≤ 1, 1 for n = 2).
pub fn average_path_length(n: usize) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        _ => {
            let n = n as f64;
            2.0 * ((n - 1.0).ln() + EULER_GAMMA) - 2.0 * (n - 1.0) / n
        }
    }
}

/// One node of a tree, in pre-order: a split's left child is the next node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Node {
    /// Values of feature `f` below `v` go to the next node, the others to node `r`.
    Split {
        /// Feature index.
        f: u16,
        /// Split value.
        #[serde(with = "exact_f64")]
        v: f64,
        /// Index of the right child.
        r: u32,
    },
    /// An external node that `n` training vectors reached.
    Leaf {
        /// Training vectors in the leaf.
        n: u32,
    },
}

/// One isolation tree: its nodes in pre-order, the root first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    /// h(x): edges from the root to `x`'s leaf plus c(leaf size).
    fn path_length(&self, x: &[f64]) -> f64 {
        let mut i = 0usize;
        let mut depth = 0u32;
        // Validated trees only point forward, so this ends within `nodes.len()` steps.
        while let Some(node) = self.nodes.get(i) {
            match node {
                Node::Split { f, v, r } => {
                    // A missing or NaN value compares false and goes right.
                    let value = x.get(usize::from(*f)).copied().unwrap_or(f64::NAN);
                    i = if value < *v { i + 1 } else { *r as usize };
                    depth += 1;
                }
                Node::Leaf { n } => {
                    return f64::from(depth) + average_path_length(*n as usize);
                }
            }
        }
        f64::from(depth)
    }

    /// Checks that the tree can be walked: children point forward and inside, features exist.
    fn validate(&self, dims: usize) -> Result<(), String> {
        let len = self.nodes.len();
        if len == 0 {
            return Err("a tree has no nodes".into());
        }
        for (i, node) in self.nodes.iter().enumerate() {
            match node {
                Node::Split { f, v, r } => {
                    let r = *r as usize;
                    if usize::from(*f) >= dims {
                        return Err(format!("node {i} splits on feature {f} of {dims}"));
                    }
                    if v.is_nan() {
                        return Err(format!("node {i} splits at NaN"));
                    }
                    if i + 1 >= len || r <= i + 1 || r >= len {
                        return Err(format!("node {i} has children outside the tree"));
                    }
                }
                Node::Leaf { n } => {
                    if *n == 0 {
                        return Err(format!("leaf {i} is empty"));
                    }
                }
            }
        }
        Ok(())
    }
}

/// A trained Isolation Forest: score vectors, flag anomalies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ForestData")]
pub struct IsolationForest {
    /// Values per vector.
    dims: usize,
    /// ψ actually used (the sub-sample size, at most the training set size).
    sample_size: usize,
    /// The contamination the threshold was set for.
    #[serde(with = "exact_f64")]
    contamination: f64,
    /// Scores above this are anomalous.
    #[serde(with = "exact_f64")]
    threshold: f64,
    /// The trees.
    trees: Vec<Tree>,
}

/// The serialised form, validated into an [`IsolationForest`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ForestData {
    dims: usize,
    sample_size: usize,
    #[serde(with = "exact_f64")]
    contamination: f64,
    #[serde(with = "exact_f64")]
    threshold: f64,
    trees: Vec<Tree>,
}

impl TryFrom<ForestData> for IsolationForest {
    type Error = String;

    fn try_from(d: ForestData) -> Result<Self, String> {
        if d.dims == 0 || d.dims > MAX_DIMS {
            return Err(format!("the forest has {} features", d.dims));
        }
        if !(MIN_SAMPLE_SIZE..=MAX_SAMPLE_SIZE).contains(&d.sample_size) {
            return Err(format!("the forest has sub-sample size {}", d.sample_size));
        }
        if d.trees.is_empty() || d.trees.len() > MAX_TREES {
            return Err(format!("the forest has {} trees", d.trees.len()));
        }
        if d.threshold.is_nan() {
            return Err("the threshold is NaN".into());
        }
        for (i, t) in d.trees.iter().enumerate() {
            t.validate(d.dims).map_err(|e| format!("tree {i}: {e}"))?;
        }
        Ok(IsolationForest {
            dims: d.dims,
            sample_size: d.sample_size,
            contamination: d.contamination,
            threshold: d.threshold,
            trees: d.trees,
        })
    }
}

/// Trains a forest on `data` (see [`IsolationForest::fit`]).
pub fn fit<V: AsRef<[f64]>>(
    config: &IForestConfig,
    data: &[V],
) -> Result<IsolationForest, AnomalyError> {
    IsolationForest::fit(config, data)
}

impl IsolationForest {
    /// Trains a forest on `data` (at least [`MIN_SAMPLE_SIZE`] vectors of one length, every
    /// value finite) and sets the threshold from the training scores.
    pub fn fit<V: AsRef<[f64]>>(
        config: &IForestConfig,
        data: &[V],
    ) -> Result<IsolationForest, AnomalyError> {
        config.validate()?;
        if data.len() < MIN_SAMPLE_SIZE {
            return Err(AnomalyError::NotEnoughData {
                got: data.len(),
                needed: MIN_SAMPLE_SIZE,
            });
        }
        let rows: Vec<&[f64]> = data.iter().map(AsRef::as_ref).collect();
        let dims = rows.first().map_or(0, |r| r.len());
        if dims == 0 || dims > MAX_DIMS {
            return Err(AnomalyError::InvalidConfig {
                field: "features",
                value: dims.to_string(),
                reason: format!("vectors need between 1 and {MAX_DIMS} values"),
            });
        }
        for (index, row) in rows.iter().enumerate() {
            if row.len() != dims {
                return Err(AnomalyError::DimensionMismatch {
                    index,
                    got: row.len(),
                    expected: dims,
                });
            }
            if let Some((feature, value)) = row.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(AnomalyError::NonFinite {
                    index,
                    feature,
                    value: *value,
                });
            }
        }
        let psi = config.sample_size.min(rows.len());
        let height_limit = (psi as f64).log2().ceil() as u32;
        let per_tree = ((config.max_features * dims as f64).ceil() as usize).clamp(1, dims);
        let mut seeder = SplitMix64::new(config.seed);
        let mut index: Vec<usize> = (0..rows.len()).collect();
        let mut features: Vec<usize> = (0..dims).collect();
        let mut trees = Vec::with_capacity(config.trees);
        for _ in 0..config.trees {
            let mut rng = SplitMix64::new(seeder.next_u64());
            // Partial Fisher–Yates: the first ψ positions become a sample without replacement.
            partial_shuffle(&mut index, psi, &mut rng);
            partial_shuffle(&mut features, per_tree, &mut rng);
            let mut sample: Vec<usize> = index.iter().take(psi).copied().collect();
            let mut builder = Builder {
                rows: &rows,
                features: features.get(..per_tree).unwrap_or(&features),
                height_limit,
                rng,
                nodes: Vec::with_capacity(2 * psi),
                candidates: Vec::with_capacity(per_tree),
            };
            builder.grow(&mut sample, 0);
            trees.push(Tree {
                nodes: builder.nodes,
            });
        }
        let mut forest = IsolationForest {
            dims,
            sample_size: psi,
            contamination: config.contamination,
            threshold: 1.0,
            trees,
        };
        let scores: Vec<f64> = rows.iter().map(|r| forest.score(r)).collect();
        forest.threshold = quantile(scores, 1.0 - config.contamination);
        Ok(forest)
    }

    /// The anomaly score of `x`, in (0, 1]: near 1 isolated at once, about 0.5 and below
    /// ordinary. `x` should have [`Self::dims`] values; missing or NaN values take the right
    /// branch of every split on them.
    pub fn score(&self, x: &[f64]) -> f64 {
        if self.trees.is_empty() {
            return 0.5;
        }
        let total: f64 = self.trees.iter().map(|t| t.path_length(x)).sum();
        let mean = total / self.trees.len() as f64;
        let c = average_path_length(self.sample_size);
        if c <= 0.0 {
            return 0.5;
        }
        2f64.powf(-mean / c)
    }

    /// Whether `x` scores above the threshold.
    pub fn is_anomaly(&self, x: &[f64]) -> bool {
        self.score(x) > self.threshold
    }

    /// Scores at or below this are normal; it is the (1 − contamination) quantile of the
    /// training scores.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The contamination the threshold was set for.
    pub fn contamination(&self) -> f64 {
        self.contamination
    }

    /// Values per vector.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Sub-sample size ψ used for each tree.
    pub fn sample_size(&self) -> usize {
        self.sample_size
    }

    /// Number of trees.
    pub fn tree_count(&self) -> usize {
        self.trees.len()
    }
}

/// Grows one tree over row indices.
struct Builder<'a> {
    rows: &'a [&'a [f64]],
    features: &'a [usize],
    height_limit: u32,
    rng: SplitMix64,
    nodes: Vec<Node>,
    candidates: Vec<usize>,
}

impl Builder<'_> {
    fn value(&self, row: usize, feature: usize) -> f64 {
        self.rows
            .get(row)
            .and_then(|r| r.get(feature))
            .copied()
            .unwrap_or(0.0)
    }

    /// Appends the subtree of `sample` (rows reaching this node) in pre-order.
    fn grow(&mut self, sample: &mut [usize], depth: u32) {
        let leaf = Node::Leaf {
            n: u32::try_from(sample.len()).unwrap_or(u32::MAX),
        };
        if depth >= self.height_limit || sample.len() <= 1 {
            self.nodes.push(leaf);
            return;
        }
        let Some((feature, split)) = self.pick_split(sample) else {
            // Every value of every allowed feature is equal here: nothing to isolate.
            self.nodes.push(leaf);
            return;
        };
        // Partition: values below the split first.
        let mut left = 0;
        for i in 0..sample.len() {
            let row = sample.get(i).copied().unwrap_or(0);
            if self.value(row, feature) < split {
                sample.swap(left, i);
                left += 1;
            }
        }
        let at = self.nodes.len();
        self.nodes.push(Node::Split {
            f: u16::try_from(feature).unwrap_or(u16::MAX),
            v: split,
            r: 0,
        });
        let (lo, hi) = sample.split_at_mut(left);
        self.grow(lo, depth + 1);
        let right = u32::try_from(self.nodes.len()).unwrap_or(u32::MAX);
        if let Some(Node::Split { r, .. }) = self.nodes.get_mut(at) {
            *r = right;
        }
        self.grow(hi, depth + 1);
    }

    /// A random feature that varies within `sample` (tried in random order) and a split value
    /// uniform between its minimum and maximum, such that both sides get rows.
    fn pick_split(&mut self, sample: &[usize]) -> Option<(usize, f64)> {
        self.candidates.clear();
        self.candidates.extend_from_slice(self.features);
        while !self.candidates.is_empty() {
            let pick = self.rng.below(self.candidates.len());
            let feature = self.candidates.swap_remove(pick);
            let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
            for &row in sample {
                let v = self.value(row, feature);
                min = min.min(v);
                max = max.max(v);
            }
            if max > min {
                let mut split = min + self.rng.next_f64() * (max - min);
                // Rounding can land on the minimum, which would leave the left side empty;
                // the maximum still separates (it has rows on both sides).
                if split <= min || split > max {
                    split = max;
                }
                return Some((feature, split));
            }
        }
        None
    }
}

/// The first `k` positions of `v` become a uniform random selection (partial Fisher–Yates).
fn partial_shuffle<T>(v: &mut [T], k: usize, rng: &mut SplitMix64) {
    let n = v.len();
    for i in 0..k.min(n) {
        let j = i + rng.below(n - i);
        v.swap(i, j);
    }
}

/// The `q` quantile of `values` (linear interpolation between order statistics).
pub(crate) fn quantile(mut values: Vec<f64>, q: f64) -> f64 {
    values.retain(|v| !v.is_nan());
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (values.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let a = values.get(lo).copied().unwrap_or(f64::NAN);
    let b = values.get(hi).copied().unwrap_or(a);
    a + (b - a) * (pos - lo as f64)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

    use super::*;
    use proptest::prelude::*;

    /// `n` points of a 2-D standard-ish cloud (sum of uniforms) from a seeded generator.
    fn cloud(n: usize, seed: u64) -> Vec<Vec<f64>> {
        let mut r = SplitMix64::new(seed);
        let mut g = || (0..4).map(|_| r.next_f64()).sum::<f64>() - 2.0;
        (0..n).map(|_| vec![g(), g()]).collect()
    }

    #[test]
    fn c_of_n_matches_the_paper() {
        assert_eq!(average_path_length(0), 0.0);
        assert_eq!(average_path_length(1), 0.0);
        assert_eq!(average_path_length(2), 1.0);
        // 2(ln 2 + γ) − 4/3
        assert!((average_path_length(3) - 1.207_392_357_589_082).abs() < 1e-12);
        // 2(ln 255 + γ) − 510/256 ≈ 10.2448
        assert!((average_path_length(256) - 10.244_770_920_116_851).abs() < 1e-9);
        // Grows like 2 ln n.
        let big = average_path_length(1_000_000);
        assert!((big - (2.0 * (999_999f64.ln() + EULER_GAMMA) - 2.0)).abs() < 1e-5);
    }

    #[test]
    fn same_seed_same_forest_other_seed_other_forest() {
        let data = cloud(500, 1);
        let cfg = IForestConfig::default();
        let a = fit(&cfg, &data).unwrap();
        let b = fit(&cfg, &data).unwrap();
        assert_eq!(a, b);
        let c = fit(
            &IForestConfig {
                seed: 2,
                ..cfg.clone()
            },
            &data,
        )
        .unwrap();
        assert_ne!(a, c);
        // Tree i depends on the seed only: a smaller forest is a prefix.
        let small = fit(
            &IForestConfig {
                trees: 10,
                ..cfg.clone()
            },
            &data,
        )
        .unwrap();
        assert_eq!(small.trees[..], a.trees[..10]);
    }

    #[test]
    fn obvious_outliers_score_high_and_the_centre_low() {
        let data = cloud(1000, 7);
        let f = fit(&IForestConfig::default(), &data).unwrap();
        let centre = f.score(&[0.0, 0.0]);
        let far = f.score(&[6.0, -6.0]);
        let edge = f.score(&[0.0, 3.5]);
        assert!(centre < 0.5, "centre {centre}");
        assert!(far > 0.7, "far {far}");
        assert!(edge > centre && far > edge, "{centre} {edge} {far}");
        assert!(f.is_anomaly(&[6.0, -6.0]));
        assert!(!f.is_anomaly(&[0.0, 0.0]));
        assert_eq!((f.dims(), f.sample_size(), f.tree_count()), (2, 256, 100));
    }

    #[test]
    fn uniform_data_scores_about_one_half() {
        // On a uniform grid no point is easier to isolate than another: s ≈ 0.5 throughout.
        let data: Vec<Vec<f64>> = (0..40)
            .flat_map(|i| (0..40).map(move |j| vec![f64::from(i), f64::from(j)]))
            .collect();
        let f = fit(&IForestConfig::default(), &data).unwrap();
        let mean: f64 = data.iter().map(|x| f.score(x)).sum::<f64>() / data.len() as f64;
        assert!((mean - 0.5).abs() < 0.06, "mean score {mean}");
        let inner = f.score(&[20.0, 20.0]);
        assert!((inner - 0.5).abs() < 0.1, "inner {inner}");
    }

    #[test]
    fn threshold_flags_about_the_contamination_share_of_training_data() {
        let data = cloud(2000, 3);
        for c in [0.01, 0.1, 0.25] {
            let f = fit(
                &IForestConfig {
                    contamination: c,
                    ..IForestConfig::default()
                },
                &data,
            )
            .unwrap();
            let flagged = data.iter().filter(|x| f.is_anomaly(x)).count() as f64;
            let share = flagged / data.len() as f64;
            assert!((share - c).abs() < 0.01, "{c}: {share}");
            // Held-out data from the same distribution is flagged at about the same rate.
            let held = cloud(2000, 4);
            let share = held.iter().filter(|x| f.is_anomaly(x)).count() as f64 / 2000.0;
            assert!((share - c).abs() < 0.03 + c * 0.3, "{c}: held-out {share}");
        }
        let none = fit(
            &IForestConfig {
                contamination: 0.0,
                ..IForestConfig::default()
            },
            &data,
        )
        .unwrap();
        assert!(!data.iter().any(|x| none.is_anomaly(x)));
    }

    #[test]
    fn persistence_round_trip_gives_identical_scores() {
        let data = cloud(300, 11);
        let f = fit(&IForestConfig::default(), &data).unwrap();
        let json = serde_json::to_string(&f).unwrap();
        let g: IsolationForest = serde_json::from_str(&json).unwrap();
        assert_eq!(f, g);
        for x in cloud(200, 12) {
            assert_eq!(f.score(&x).to_bits(), g.score(&x).to_bits());
        }
        assert_eq!(f.threshold().to_bits(), g.threshold().to_bits());
    }

    #[test]
    fn corrupt_forests_are_refused() {
        let data = cloud(50, 1);
        let f = fit(
            &IForestConfig {
                trees: 2,
                ..IForestConfig::default()
            },
            &data,
        )
        .unwrap();
        let json = serde_json::to_string(&f).unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        // A right child pointing backwards would loop.
        let node = v["trees"][0][0].clone();
        assert!(node.get("split").is_some(), "{node}");
        v["trees"][0][0]["split"]["r"] = 0.into();
        let err = serde_json::from_value::<IsolationForest>(v.clone()).unwrap_err();
        assert!(err.to_string().contains("children outside"), "{err}");
        // A feature that does not exist.
        v["trees"][0][0]["split"]["r"] = 2.into();
        v["trees"][0][0]["split"]["f"] = 9.into();
        assert!(serde_json::from_value::<IsolationForest>(v.clone()).is_err());
        // Unknown fields.
        let mut w: serde_json::Value = serde_json::from_str(&json).unwrap();
        w["extra"] = 1.into();
        assert!(serde_json::from_value::<IsolationForest>(w).is_err());
    }

    #[test]
    fn bad_settings_and_data_are_refused() {
        let data = cloud(10, 1);
        let bad = [
            IForestConfig {
                trees: 0,
                ..IForestConfig::default()
            },
            IForestConfig {
                sample_size: 1,
                ..IForestConfig::default()
            },
            IForestConfig {
                contamination: 0.6,
                ..IForestConfig::default()
            },
            IForestConfig {
                contamination: f64::NAN,
                ..IForestConfig::default()
            },
            IForestConfig {
                max_features: 0.0,
                ..IForestConfig::default()
            },
        ];
        for cfg in bad {
            let err = fit(&cfg, &data).unwrap_err();
            assert!(matches!(err, AnomalyError::InvalidConfig { .. }), "{err}");
        }
        let cfg = IForestConfig::default();
        assert!(matches!(
            fit(&cfg, &data[..1]).unwrap_err(),
            AnomalyError::NotEnoughData { got: 1, .. }
        ));
        let ragged = vec![vec![1.0, 2.0], vec![1.0]];
        assert!(matches!(
            fit(&cfg, &ragged).unwrap_err(),
            AnomalyError::DimensionMismatch { index: 1, .. }
        ));
        let nan = vec![vec![1.0, 2.0], vec![f64::NAN, 1.0]];
        let err = fit(&cfg, &nan).unwrap_err();
        assert!(err.to_string().contains("non-finite"), "{err}");
        let toml: Result<IForestConfig, _> = serde_json::from_str(r#"{"tress": 5}"#);
        assert!(toml.is_err(), "unknown fields are refused");
    }

    #[test]
    fn identical_points_and_max_features() {
        let same = vec![vec![1.0, 1.0]; 50];
        let f = fit(&IForestConfig::default(), &same).unwrap();
        let s = f.score(&[1.0, 1.0]);
        assert!(s > 0.0 && s <= 1.0);
        let data = cloud(300, 5);
        let half = fit(
            &IForestConfig {
                max_features: 0.5,
                ..IForestConfig::default()
            },
            &data,
        )
        .unwrap();
        assert!(half.score(&[5.0, 5.0]) > half.score(&[0.0, 0.0]));
        // Missing values do not panic.
        let _ = half.score(&[]);
        let _ = half.score(&[f64::NAN, f64::INFINITY]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn random_data_never_panics_and_scores_stay_in_range(
            rows in prop::collection::vec(prop::collection::vec(-1e6f64..1e6, 3), 2..80),
            probe in prop::collection::vec(prop::num::f64::ANY, 0..5),
            seed in any::<u64>(),
            sample_size in 2usize..300,
            contamination in 0.0f64..=0.5,
        ) {
            let cfg = IForestConfig {
                trees: 10,
                sample_size,
                contamination,
                seed,
                max_features: 1.0,
            };
            let f = fit(&cfg, &rows).unwrap();
            for x in rows.iter().chain(std::iter::once(&probe)) {
                let s = f.score(x);
                prop_assert!(s > 0.0 && s <= 1.0, "score {}", s);
            }
            let back: IsolationForest =
                serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
            prop_assert_eq!(back, f);
        }
    }
}
