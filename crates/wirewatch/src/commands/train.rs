//! `wirewatch train`: trains the flow classifier on CICIDS2017-style CSVs (the published
//! MachineLearningCVE files, or flows exported with `--format cicflowmeter` plus a label) and
//! saves one versioned model file.

use crate::cli::TrainArgs;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use wirewatch_ml::flowclass::{TrainConfig, TrainProgress, read_dataset, train};

/// Classifies every row of `dataset` with the model at `path` and prints the scores.
fn evaluate(
    path: &std::path::Path,
    dataset: &wirewatch_ml::flowclass::Dataset,
) -> anyhow::Result<i32> {
    let model = wirewatch_ml::flowclass::FlowModel::load(path)
        .with_context(|| format!("cannot use the flow model {}", path.display()))?;
    let classes = model.classes().to_vec();
    let mut confusion = vec![vec![0u64; classes.len()]; classes.len()];
    let predictions = model
        .predict_many(dataset.rows())
        .context("cannot classify the dataset")?;
    let mut unknown = 0u64;
    for (i, p) in predictions.iter().enumerate() {
        let truth = dataset.class(i);
        let (Some(t), Some(c)) = (
            classes.iter().position(|k| *k == truth),
            classes.iter().position(|k| *k == p.class),
        ) else {
            unknown += 1;
            continue;
        };
        if let Some(cell) = confusion.get_mut(t).and_then(|row| row.get_mut(c)) {
            *cell += 1;
        }
    }
    let names = classes.iter().map(|c| c.name().to_string()).collect();
    let metrics = wirewatch_ml::flowclass::Metrics::from_confusion(names, confusion);
    println!("{}", metrics.report());
    if unknown > 0 {
        println!("{unknown} rows of classes the model does not know were left out");
    }
    Ok(0)
}

/// Runs `wirewatch train`.
pub fn run(args: &TrainArgs) -> anyhow::Result<i32> {
    let show = std::io::stderr().is_terminal();
    let mut config = if args.full {
        TrainConfig::full()
    } else {
        TrainConfig::quick()
    };
    if let Some(seed) = args.seed {
        config.seed = seed;
    }
    if let Some(n) = args.min_class_rows {
        config.min_class_rows = n;
    }
    eprintln!("reading {}...", args.dataset.display());
    let mut last_file = 0;
    let dataset = read_dataset(&args.dataset, &mut |p| {
        if p.file_number != last_file {
            last_file = p.file_number;
            eprintln!("  [{}/{}] {}", p.file_number, p.files, p.file.display());
        }
    })
    .with_context(|| format!("cannot read the dataset {}", args.dataset.display()))?;
    eprintln!("{}", dataset.stats.summary());
    if let Some(path) = &args.evaluate {
        return evaluate(path, &dataset);
    }
    let bar = if show {
        let b = ProgressBar::new(0);
        b.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let model = train(&dataset, &config, &mut |p| match p {
        TrainProgress::Split {
            classes,
            train_rows,
            test_rows,
        } => eprintln!(
            "training {} trees on {train_rows} rows of {classes} classes, {test_rows} held out",
            config.trees
        ),
        TrainProgress::Tree { done, total } => {
            if let Some(b) = &bar {
                b.set_message("trees");
                b.set_length(total as u64);
                b.set_position(done as u64);
            } else if args.full {
                eprintln!("  tree {done}/{total}");
            }
        }
        TrainProgress::Evaluate { done, total } => {
            if let Some(b) = &bar {
                b.set_message("evaluating");
                b.set_length(total as u64);
                b.set_position(done as u64);
            }
        }
    })
    .context("training failed")?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    println!("{}", model.metrics().report());
    model
        .save(&args.out)
        .with_context(|| format!("cannot save the model to {}", args.out.display()))?;
    println!("model saved to {}", args.out.display());
    Ok(0)
}
