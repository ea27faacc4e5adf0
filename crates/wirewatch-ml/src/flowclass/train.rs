//! Training: class selection, stratified split, a random forest fitted tree by tree on all
//! cores, and evaluation on the held-out rows.
//!
//! Steps of [`train`]:
//!
//! 1. Classes with fewer than `min_class_rows` rows are left out (and listed in the metrics);
//!    at least two classes must remain.
//! 2. Each remaining class is split: `test_share` of its rows held out, at most
//!    `rows_per_class` of the rest used for training (random, seeded). The cap keeps training
//!    time bounded and balances the classes (CICIDS2017 is 80 % benign); the test split is
//!    not capped, so the metrics reflect the real class mix.
//! 3. The trees are fitted in parallel (`threads` workers), each with seed `seed + index`, so
//!    the result does not depend on the number of threads or on scheduling.
//! 4. The test rows are predicted in chunks and scored ([`Metrics`]).
//!
//! Time: smartcore scans all training rows at every node, so a tree costs about rows × nodes.
//! On this 2-core machine (release build), a deliberately noisy 7-class benchmark with 77
//! features takes about 1.2 s per tree on 50,000 rows and 7 s on 200,000 (CICIDS2017's
//! classes separate far more easily, so its trees are smaller). `quick` (32 trees, at most
//! 5,000 rows per class, about 30,000 rows on CICIDS2017) therefore trains in well under a
//! minute; reading the 2.8 million published rows takes about 10 s more (1 million rows in
//! 2.9 s measured). `full` (100 trees, at most 50,000 rows per class, about 260,000 rows)
//! takes minutes and reports progress per tree.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use serde::{Deserialize, Serialize};
use smartcore::ensemble::random_forest_classifier::{
    RandomForestClassifier, RandomForestClassifierParameters,
};

use super::classes::{ALL_CLASSES, FlowClass};
use super::dataset::{Dataset, Split};
use super::error::{FlowClassError, Result};
use super::features::{FeatureVector, model_feature_indices, model_feature_names};
use super::metrics::{ExcludedClass, Metrics};
use super::model::{FORMAT_NAME, FORMAT_VERSION, FlowModel, LabelEntry, ModelHeader, Tree};

/// Trees of a quick model: enough for stable vote shares (steps of about 3 %).
pub const QUICK_TREES: u16 = 32;
/// Training rows per class for a quick model: about 30,000 rows in all on CICIDS2017, which
/// trains in well under two minutes on two cores.
pub const QUICK_ROWS_PER_CLASS: usize = 5_000;
/// Depth limit of a quick model's trees (CICIDS2017 classes separate in far fewer levels).
pub const QUICK_MAX_DEPTH: u16 = 24;
/// Trees of a full model: the usual random-forest size, past which accuracy stops improving.
pub const FULL_TREES: u16 = 100;
/// Training rows per class for a full model: every row of the smaller classes, a sample of
/// the large ones (smartcore's trees cost rows × nodes, so all 2.5 million rows would take
/// hours).
pub const FULL_ROWS_PER_CLASS: usize = 50_000;
/// Depth limit of a full model's trees.
pub const FULL_MAX_DEPTH: u16 = 32;
/// Default share of each class held out for testing.
pub const DEFAULT_TEST_SHARE: f64 = 0.2;
/// Default seed (any fixed value: the same seed and data give the same model).
pub const DEFAULT_SEED: u64 = 2017;
/// Test rows predicted per matrix (bounds memory: 8,192 × 77 numbers ≈ 5 MB).
const EVAL_CHUNK_ROWS: usize = 8_192;

/// How to train.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Number of trees.
    pub trees: u16,
    /// Depth limit of each tree (`None`: grow until pure).
    pub max_depth: Option<u16>,
    /// Seed of the split, the subsample and the trees.
    pub seed: u64,
    /// Share of each class held out for testing, in (0, 1).
    pub test_share: f64,
    /// Whether this is the quick preset (informational: the numbers above decide).
    pub quick: bool,
    /// Training rows per class at most.
    pub rows_per_class: usize,
    /// Classes with fewer rows are left out.
    pub min_class_rows: usize,
    /// Worker threads fitting trees (0: one per core).
    pub threads: usize,
}

impl TrainConfig {
    /// The `--quick` preset: a couple of minutes on two cores, reading time included.
    pub fn quick() -> Self {
        TrainConfig {
            trees: QUICK_TREES,
            max_depth: Some(QUICK_MAX_DEPTH),
            seed: DEFAULT_SEED,
            test_share: DEFAULT_TEST_SHARE,
            quick: true,
            rows_per_class: QUICK_ROWS_PER_CLASS,
            min_class_rows: super::dataset::MIN_CLASS_ROWS,
            threads: 0,
        }
    }

    /// The `--full` preset.
    pub fn full() -> Self {
        TrainConfig {
            trees: FULL_TREES,
            max_depth: Some(FULL_MAX_DEPTH),
            quick: false,
            rows_per_class: FULL_ROWS_PER_CLASS,
            ..Self::quick()
        }
    }

    fn validate(&self) -> Result<()> {
        let bad = |reason: &str| {
            Err(FlowClassError::BadConfig {
                reason: reason.to_string(),
            })
        };
        if self.trees == 0 {
            return bad("trees must be at least 1");
        }
        if !(self.test_share > 0.0 && self.test_share < 1.0) {
            return bad("test_share must be between 0 and 1 (exclusive)");
        }
        if self.rows_per_class == 0 {
            return bad("rows_per_class must be at least 1");
        }
        if self.max_depth == Some(0) {
            return bad("max_depth must be at least 1");
        }
        Ok(())
    }

    fn worker_threads(&self) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let wanted = if self.threads == 0 {
            cores
        } else {
            self.threads
        };
        wanted.clamp(1, usize::from(self.trees))
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self::quick()
    }
}

/// What training is doing, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainProgress {
    /// The split is made.
    Split {
        /// Classes trained.
        classes: usize,
        /// Training rows.
        train_rows: usize,
        /// Held-out rows.
        test_rows: usize,
    },
    /// Another tree is fitted.
    Tree {
        /// Trees fitted so far.
        done: usize,
        /// Trees in all.
        total: usize,
    },
    /// Another chunk of test rows is scored.
    Evaluate {
        /// Test rows scored so far.
        done: usize,
        /// Test rows in all.
        total: usize,
    },
}

/// Trains a flow classifier on `dataset` and scores it on a held-out split.
pub fn train(
    dataset: &Dataset,
    config: &TrainConfig,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<FlowModel> {
    config.validate()?;
    let counts = dataset.class_counts();
    let included: Vec<FlowClass> = ALL_CLASSES
        .into_iter()
        .filter(|c| counts[c.index()] >= config.min_class_rows.max(2))
        .collect();
    let excluded: Vec<ExcludedClass> = dataset
        .small_classes(config.min_class_rows.max(2))
        .into_iter()
        .map(|(c, rows)| ExcludedClass {
            class: c.name().to_string(),
            rows: rows as u64,
        })
        .collect();
    if included.len() < 2 {
        return Err(FlowClassError::NotEnoughData {
            reason: format!(
                "{} class(es) with at least {} rows; a classifier needs two",
                included.len(),
                config.min_class_rows
            ),
        });
    }
    let split = dataset.stratified_split(
        &included,
        config.test_share,
        config.seed,
        config.rows_per_class,
    );
    progress(TrainProgress::Split {
        classes: included.len(),
        train_rows: split.train.len(),
        test_rows: split.test.len(),
    });

    let trees = fit_trees(dataset, &split, &included, config, progress)?;
    let class_names: Vec<String> = included.iter().map(|c| c.name().to_string()).collect();
    let header = ModelHeader {
        format: FORMAT_NAME.to_string(),
        format_version: FORMAT_VERSION,
        created_by: format!("wirewatch-ml {}", env!("CARGO_PKG_VERSION")),
        features: model_feature_names(),
        classes: class_names.clone(),
        label_map: dataset
            .stats
            .labels
            .iter()
            .map(|(label, count)| LabelEntry {
                label: label.clone(),
                class: count.class.name().to_string(),
                rows: count.rows,
            })
            .collect(),
        config: config.clone(),
        dataset: dataset.stats.clone(),
        metrics: Metrics::from_confusion(class_names.clone(), Vec::new()),
        trees: 0,
        body_bytes: 0,
    };
    let mut model = FlowModel::new(header, trees)?;

    let confusion = evaluate(&model, dataset, &split.test, &included, progress)?;
    let mut metrics = Metrics::from_confusion(class_names, confusion);
    metrics.train_rows = split.train.len() as u64;
    metrics.train_rows_left_out = split.train_left_out as u64;
    metrics.excluded_classes = excluded;
    metrics.min_class_rows = config.min_class_rows as u64;
    model.set_metrics(metrics);
    Ok(model)
}

/// Fits `config.trees` one-tree forests on the training rows, in parallel.
fn fit_trees(
    dataset: &Dataset,
    split: &Split,
    included: &[FlowClass],
    config: &TrainConfig,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<Vec<Tree>> {
    let rows = split.train.iter().map(|&i| dataset.row(i));
    let x = super::model::feature_matrix(rows, split.train.len(), &model_feature_indices())?;
    let y: Vec<u32> = split
        .train
        .iter()
        .map(|&i| class_position(included, dataset.class(i)))
        .collect();
    let total = usize::from(config.trees);
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<(usize, Result<Tree>)>();
    let mut slots: Vec<Option<Tree>> = (0..total).map(|_| None).collect();
    let mut first_error = None;
    std::thread::scope(|scope| {
        for _ in 0..config.worker_threads() {
            let tx = tx.clone();
            let (x, y, next, stop) = (&x, &y, &next, &stop);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total || stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let tree = fit_one(x, y, config, i);
                    if tx.send((i, tree)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut done = 0;
        for (i, tree) in rx {
            match tree {
                Ok(tree) => {
                    slots[i] = Some(tree);
                    done += 1;
                    progress(TrainProgress::Tree { done, total });
                }
                Err(e) => {
                    stop.store(true, Ordering::Relaxed);
                    first_error.get_or_insert(e);
                }
            }
        }
    });
    if let Some(e) = first_error {
        return Err(e);
    }
    slots
        .into_iter()
        .map(|t| {
            t.ok_or_else(|| FlowClassError::Model {
                stage: "training",
                reason: "a worker stopped before fitting its tree".to_string(),
            })
        })
        .collect()
}

/// Fits tree `index` (seed `config.seed + index`).
fn fit_one(
    x: &smartcore::linalg::basic::matrix::DenseMatrix<f64>,
    y: &Vec<u32>,
    config: &TrainConfig,
    index: usize,
) -> Result<Tree> {
    let mut params = RandomForestClassifierParameters::default()
        .with_n_trees(1)
        .with_seed(config.seed.wrapping_add(index as u64));
    if let Some(depth) = config.max_depth {
        params = params.with_max_depth(depth);
    }
    RandomForestClassifier::fit(x, y, params).map_err(|e| FlowClassError::Model {
        stage: "training",
        reason: e.to_string(),
    })
}

/// Predicts the test rows in chunks and counts `confusion[true][predicted]`.
fn evaluate(
    model: &FlowModel,
    dataset: &Dataset,
    test: &[usize],
    included: &[FlowClass],
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<Vec<Vec<u64>>> {
    let k = included.len();
    let mut confusion = vec![vec![0u64; k]; k];
    let mut chunk: Vec<FeatureVector> = Vec::with_capacity(EVAL_CHUNK_ROWS.min(test.len()));
    let mut done = 0;
    for rows in test.chunks(EVAL_CHUNK_ROWS) {
        chunk.clear();
        chunk.extend(rows.iter().map(|&i| *dataset.row(i)));
        let predictions = model.predict_many(&chunk)?;
        for (&i, p) in rows.iter().zip(&predictions) {
            let truth = class_position(included, dataset.class(i)) as usize;
            let predicted = class_position(included, p.class) as usize;
            confusion[truth][predicted] += 1;
        }
        done += rows.len();
        progress(TrainProgress::Evaluate {
            done,
            total: test.len(),
        });
    }
    Ok(confusion)
}

/// Index of `class` among the trained classes (the split only holds those).
fn class_position(included: &[FlowClass], class: FlowClass) -> u32 {
    included.iter().position(|&c| c == class).unwrap_or(0) as u32
}
