//! `wirewatch train`: trains the flow classifier on CICIDS2017-style CSVs (the published
//! MachineLearningCVE files, or flows exported with `--format cicflowmeter` plus a label) and
//! saves one versioned model file.

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use wirewatch_ml::flowclass::{TrainConfig, TrainProgress, read_dataset, train};

/// `wirewatch train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// A CSV file or a directory of CSV files.
    #[arg(long, value_name = "PATH")]
    pub dataset: PathBuf,
    /// A fast model: fewer trees and at most a few thousand rows per class (a couple of minutes).
    #[arg(long, conflicts_with = "full")]
    pub quick: bool,
    /// The full model: more trees and rows (shows progress; can take long on the whole dataset).
    #[arg(long)]
    pub full: bool,
    /// Where to save the model.
    #[arg(long, value_name = "FILE", default_value = "wirewatch-flows.model")]
    pub out: PathBuf,
    /// Seed of the split and the trees (the same seed gives the same model).
    #[arg(long)]
    pub seed: Option<u64>,
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
