//! The anomaly model on disk: where it lives next to the database, loading it at start,
//! saving the ones the detector trains, and `wirewatch model retrain` on a stored time range.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use wirewatch_core::IntervalMetrics;
use wirewatch_detect::detectors::ml_anomaly::AnomalySlot;
use wirewatch_ml::anomaly::{AnomalyModel, TrainerConfig, train_from_intervals};
use wirewatch_store::{Query, Resolution, Store};

/// Intervals read per page when training on stored history.
const PAGE: usize = 10_000;

/// Where the anomaly model of the database at `db` is kept: `wirewatch.db` →
/// `wirewatch.anomaly.json`.
pub fn model_path_for(db: &Path) -> PathBuf {
    db.with_extension("anomaly.json")
}

/// Loads the model at `path` into `slot` when the file exists; says what it did.
pub fn load_into(slot: &AnomalySlot, path: &Path) -> anyhow::Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let model = AnomalyModel::load(path)
        .with_context(|| format!("cannot use the anomaly model {}", path.display()))?;
    eprintln!(
        "wirewatch: anomaly model {} (trained on {} intervals)",
        path.display(),
        model.trained_on.intervals
    );
    slot.replace(model);
    Ok(())
}

/// Saves a model the detector trained, if there is a new one.
pub fn save_trained(slot: &AnomalySlot, path: Option<&Path>) {
    let Some(model) = slot.take_trained() else {
        return;
    };
    match path {
        Some(path) => match model.save(path) {
            Ok(()) => eprintln!(
                "wirewatch: anomaly model trained on {} intervals, saved to {}",
                model.trained_on.intervals,
                path.display()
            ),
            Err(e) => eprintln!("warning: the anomaly model was not saved: {e}"),
        },
        None => eprintln!(
            "wirewatch: anomaly model trained on {} intervals (not saved: no database)",
            model.trained_on.intervals
        ),
    }
}

/// Loads the flow classifier named in `[detect.ml_threat] model` into the engine's detector.
pub fn load_flow_model(
    engine: &crate::pipeline::Engine,
    detect: &wirewatch_detect::DetectConfig,
) -> anyhow::Result<()> {
    let (Some(path), Some(slot)) = (&detect.ml_threat.model, engine.flow_model_slot()) else {
        return Ok(());
    };
    let model = wirewatch_ml::flowclass::FlowModel::load(path)
        .with_context(|| format!("cannot use the flow model {}", path.display()))?;
    slot.replace(model);
    Ok(())
}

/// Stored raw intervals between `from` and `to` (inclusive, packet time), oldest first.
pub fn stored_intervals(
    store: &dyn Store,
    from: Option<wirewatch_core::Timestamp>,
    to: Option<wirewatch_core::Timestamp>,
) -> anyhow::Result<Vec<IntervalMetrics>> {
    let q = Query {
        from,
        to,
        resolution: Resolution::Raw,
        sort: Some("start_ts".into()),
        ..Query::default()
    };
    let mut out = Vec::new();
    wirewatch_store::for_each_page(
        q,
        PAGE,
        |q| store.intervals(q),
        |rows| {
            out.extend(rows.iter().map(wirewatch_store::IntervalRow::to_metrics));
            Ok::<(), anyhow::Error>(())
        },
    )?;
    Ok(out)
}

/// Trains a model on stored intervals.
pub fn retrain(
    store: &dyn Store,
    from: Option<wirewatch_core::Timestamp>,
    to: Option<wirewatch_core::Timestamp>,
    config: &TrainerConfig,
) -> anyhow::Result<AnomalyModel> {
    let intervals = stored_intervals(store, from, to)?;
    if intervals.is_empty() {
        bail!("no stored intervals in that range: pick a range that holds recorded traffic");
    }
    train_from_intervals(&intervals, config).map_err(|e| anyhow::anyhow!("{e}"))
}
