//! `wirewatch model retrain`: the anomaly model trained again on stored history.

use crate::cli::{ModelArgs, ModelCommand, RetrainArgs};
use crate::model::{model_path_for, retrain};
use anyhow::{Context, bail};
use wirewatch_store::{SqliteStore, StoreConfig};

/// Runs `wirewatch model`.
pub fn run(args: &ModelArgs) -> anyhow::Result<i32> {
    match &args.command {
        ModelCommand::Retrain(a) => retrain_command(a),
    }
}

fn retrain_command(args: &RetrainArgs) -> anyhow::Result<i32> {
    if !args.db.is_file() {
        bail!(
            "{}: no such database (record one with `wirewatch run --db` or `wirewatch analyze --db`)",
            args.db.display()
        );
    }
    let config = crate::settings::load_config(args.config.as_deref())?;
    let store = SqliteStore::open(&StoreConfig::new(args.db.clone()))?;
    let newest = wirewatch_store::newest_packet_time(&store);
    let time = |spec: Option<wirewatch_core::time::TimeSpec>, name: &str| {
        spec.map(|s| {
            s.resolve(newest).with_context(|| {
                format!("--{name}: the database has no intervals to count back from")
            })
        })
        .transpose()
    };
    let (from, to) = (time(args.from, "from")?, time(args.to, "to")?);
    let model = retrain(&store, from, to, &config.detect.ml_anomaly.trainer)?;
    let path = args
        .model
        .clone()
        .unwrap_or_else(|| model_path_for(&args.db));
    model
        .save(&path)
        .with_context(|| format!("cannot save the model to {}", path.display()))?;
    println!(
        "anomaly model trained on {} intervals ({} trees, sample size {}, contamination {}), \
         threshold {:.3}, saved to {}",
        model.trained_on.intervals,
        model.trained_on.config.trees,
        model.trained_on.config.sample_size,
        model.trained_on.config.contamination,
        model.threshold(),
        path.display()
    );
    Ok(0)
}
