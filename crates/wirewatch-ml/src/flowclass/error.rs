//! The one error type of flow classification: reading datasets, training, model files.
//!
//! Every variant carries what the user needs to find the problem (file, line, column, the
//! offending value) and the message says what to do about it.

use std::path::PathBuf;

/// Errors of the flow classifier (dataset reader, training, model file, prediction).
#[derive(Debug, thiserror::Error)]
pub enum FlowClassError {
    /// A file or directory could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The CSV layer failed (bad quoting, I/O while reading).
    #[error("{path}: line {line}: CSV error: {source}")]
    Csv {
        /// The CSV file.
        path: PathBuf,
        /// 1-based line where the reader stopped (0 when unknown).
        line: u64,
        /// The csv crate's error.
        source: csv::Error,
    },
    /// The header lacks a column the classifier needs.
    #[error(
        "{path}: the header has no `{column}` column; expected the CICIDS2017 \
         MachineLearningCVE layout or a CSV written by `wirewatch export --format cicflowmeter` \
         with a `Label` column"
    )]
    MissingColumn {
        /// The CSV file.
        path: PathBuf,
        /// Canonical (trimmed) name of the missing column.
        column: &'static str,
    },
    /// A cell holds something that is neither a number nor a missing-value marker.
    #[error(
        "{path}: line {line}, column {column} (`{name}`): `{value}` is not a number \
         (numbers, `Infinity`, `NaN` and empty cells are accepted)"
    )]
    BadNumber {
        /// The CSV file.
        path: PathBuf,
        /// 1-based line of the record.
        line: u64,
        /// 1-based column of the cell.
        column: usize,
        /// Canonical name of the column.
        name: &'static str,
        /// The cell as text (lossy, shortened).
        value: String,
    },
    /// A record has fewer fields than the columns the classifier reads.
    #[error("{path}: line {line}: the record has {found} fields, column {needed} is needed")]
    ShortRecord {
        /// The CSV file.
        path: PathBuf,
        /// 1-based line of the record.
        line: u64,
        /// Fields in the record.
        found: usize,
        /// 1-based position of the column that is missing.
        needed: usize,
    },
    /// A dataset directory holds no `.csv` file.
    #[error("{dir}: no .csv files found; point --dataset at the MachineLearningCVE folder")]
    NoCsvFiles {
        /// The directory.
        dir: PathBuf,
    },
    /// The data cannot train a model (too few classes or rows).
    #[error("not enough data to train: {reason}")]
    NotEnoughData {
        /// What is missing.
        reason: String,
    },
    /// The training configuration is invalid.
    #[error("invalid training configuration: {reason}")]
    BadConfig {
        /// What is wrong.
        reason: String,
    },
    /// The ML library refused to fit or predict.
    #[error("{stage} failed: {reason}")]
    Model {
        /// `training` or `prediction`.
        stage: &'static str,
        /// The library's message.
        reason: String,
    },
    /// A model file is not one of ours, or is damaged.
    #[error("{path}: not a usable Wirewatch flow model: {reason}")]
    BadModelFile {
        /// The model file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A model file of another format version.
    #[error(
        "{path}: model format version {found}, this build reads version {expected}; \
         retrain it with `wirewatch train`"
    )]
    FormatVersion {
        /// The model file.
        path: PathBuf,
        /// Version in the file.
        found: u32,
        /// Version this build reads.
        expected: u32,
    },
    /// A model trained on another feature list than this build extracts.
    #[error(
        "{path}: the model was trained on another feature list ({detail}); \
         retrain it with `wirewatch train`"
    )]
    FeatureMismatch {
        /// The model file.
        path: PathBuf,
        /// The first difference.
        detail: String,
    },
}

/// Result alias of this module.
pub type Result<T> = std::result::Result<T, FlowClassError>;
