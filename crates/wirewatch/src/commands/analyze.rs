//! `wirewatch analyze`: capture files through the engine, a report on stdout.

use crate::analyze::{self, AnalyzeOptions, Progress};
use crate::cli::AnalyzeArgs;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Analyses the files and prints the report.
pub fn run(args: &AnalyzeArgs) -> anyhow::Result<i32> {
    let config = crate::settings::engine_config(&args.engine)?;
    let store = match &args.db {
        Some(path) => Some(crate::outputs::store::open_store(
            path,
            &config,
            wirewatch_store::RetentionClock::WrittenPacketTime,
        )?),
        None => None,
    };
    if let Some(path) = &args.alert_log {
        wirewatch_eve::AlertLog::open(path)?; // refuse a bad path before any work
    }
    if let Some(path) = &args.eve {
        wirewatch_eve::open(path)?; // refuse a bad path before any work
    }
    let blocklists = crate::intel::load_blocklists(&config.intel)?;
    let options = AnalyzeOptions {
        blocklists,
        engine: config.engine(),
        store,
        alert_log: args.alert_log.clone(),
        eve: args.eve.clone(),
        max_report_flows: args.max_report_flows,
        top_n: args.top,
        evidence: config
            .evidence
            .dir_for(args.db.as_deref())
            .map(|dir| (config.evidence.clone(), dir)),
    };
    let mut progress = BarProgress::new(!args.no_progress && std::io::stderr().is_terminal());
    let report = analyze::analyze_files(&args.files, &options, &mut progress);
    progress.clear();
    for w in &report.warnings {
        eprintln!("warning: {}: {}", w.file.display(), w.message);
    }
    for e in &report.errors {
        eprintln!("error: {}", e.message);
    }
    let all_failed = report.files.iter().all(|f| f.format.is_none());
    if all_failed {
        return Ok(1);
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report).context("cannot write the report")?;
        writeln!(out).context("cannot write the report")?;
    } else {
        out.write_all(analyze::text::render(&report).as_bytes())
            .context("cannot write the report")?;
    }
    Ok(if report.errors.is_empty() { 0 } else { 1 })
}

/// A byte-based progress bar on stderr, shown only when asked for.
struct BarProgress {
    bar: Option<ProgressBar>,
    current: Option<PathBuf>,
}

impl BarProgress {
    fn new(enabled: bool) -> Self {
        BarProgress {
            bar: enabled.then(ProgressBar::hidden),
            current: None,
        }
    }

    fn clear(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for BarProgress {
    fn update(&mut self, path: &Path, bytes_read: u64, file_size: Option<u64>) {
        let Some(bar) = &self.bar else { return };
        if self.current.as_deref() != Some(path) {
            self.current = Some(path.to_path_buf());
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.set_length(file_size.unwrap_or(0));
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_message(path.display().to_string());
        }
        bar.set_position(bytes_read);
    }

    fn finish_file(&mut self, _path: &Path) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        self.current = None;
    }
}
