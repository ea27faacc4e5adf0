//! Supervised flow classification in the style of CICIDS2017: CICFlowMeter features per
//! finished flow, the published dataset's reader and label map, random-forest training and
//! evaluation, the versioned model file, and prediction.
//!
//! - [`features`]: the 78 published columns (names as published, units, meanings) and which of
//!   them a model reads;
//! - [`extract`]: [`FlowFeatureAcc`], fed packet by packet, yields those features when a flow
//!   ends (deliberate differences from CICFlowMeter are listed there);
//! - [`export`]: the CSV writer for `wirewatch export --format cicflowmeter`;
//! - [`classes`]: the eight classes and the label mapping;
//! - [`dataset`]: the CSV reader (published quirks handled and counted) and stratified splits;
//! - [`mod@train`], [`metrics`]: training and scoring;
//! - [`model`]: [`FlowModel`]: prediction, save and load.
//!
//! The column definitions and the accumulator belong to the flow stage (the flow table runs the
//! accumulator for each flow): they live in [`wirewatch_flow::features`] and are re-exported
//! here under their old paths and names.
//!
//! Nothing here reads the clock or does network I/O; files are read and written only by the
//! dataset reader and the model's `save`/`load`, which the binary calls.

pub mod classes;
pub mod dataset;
pub mod error;
pub mod export;
pub mod features;
pub mod metrics;
pub mod model;
pub mod train;

pub use classes::{ALL_CLASSES, FlowClass, map_label};
pub use dataset::{Dataset, DatasetReader, MIN_CLASS_ROWS, ReadProgress, ReadStats, read_dataset};
pub use error::{FlowClassError, Result};
pub use export::CicCsvWriter;
pub use extract::{FlowFeatureAcc, PacketObs, TcpObs};
pub use features::{CIC_COLUMNS, CicColumn, FEATURE_COUNT, FeatureVector, Unit};
pub use metrics::Metrics;
pub use model::{FlowModel, ModelHeader, Prediction};
pub use train::{TrainConfig, TrainProgress, train};
/// The flow-feature accumulator, defined in the flow stage and kept at its old path here.
pub use wirewatch_flow::features::extract;
