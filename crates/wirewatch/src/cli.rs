//! Command-line interface: argument definitions and command dispatch.

use crate::analyze::{self, AnalyzeOptions, Progress};
use crate::config::{Config, parse_duration_ms};
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Real-time network traffic monitor and intrusion/anomaly detector.
///
/// Without a command, Wirewatch monitors live traffic (`wirewatch -i eth0` is `wirewatch run
/// -i eth0`).
#[derive(Debug, Parser)]
#[command(
    name = "wirewatch",
    version,
    about,
    propagate_version = true,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of the default command, `run`.
    #[command(flatten)]
    pub run: crate::run::RunArgs,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Monitor live traffic (the default command): an interface, a replayed file or the demo.
    Run(Box<crate::run::RunArgs>),
    /// List the network interfaces Wirewatch can capture on.
    Interfaces(InterfacesArgs),
    /// Analyse capture files (pcap or pcapng) and print a report.
    Analyze(AnalyzeArgs),
    /// Write a deterministic synthetic capture (for tests, benchmarks and demos).
    Generate(GenerateArgs),
    /// Measure end-to-end analysis throughput on a generated capture.
    Bench(crate::bench::BenchArgs),
    /// Export stored history as CSV, JSON or JSON lines.
    Export(crate::export::ExportArgs),
    /// Extract packets by host, port, flow and time range from capture files (pcap/pcapng).
    Extract(crate::evidence::extract::ExtractArgs),
    /// Print a new random access token for the dashboard (for `[web] token` or --token-file).
    Token,
    /// Threat intelligence: what blocklists and AbuseIPDB say about an address.
    Intel(crate::intel::check::IntelArgs),
    /// The learned anomaly model: retrain it on stored history.
    Model(crate::model::ModelArgs),
    /// Train the flow classifier on CICIDS2017-style CSVs and save the model.
    Train(crate::train::TrainArgs),
}

/// Options shared by commands that run the engine.
#[derive(Debug, Clone, Default, Args)]
pub struct EngineArgs {
    /// Interval length: 1s, 500ms, 5m, or seconds.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ms)]
    pub interval: Option<u64>,
    /// Hard cap on live flows (oldest activity evicted first).
    #[arg(long, value_name = "N")]
    pub max_flows: Option<usize>,
    /// TOML configuration file ([flows], [metrics], [retention], [detect]).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Run no detectors (measure or record traffic only).
    #[arg(long)]
    pub no_detect: bool,
    /// Do not look into payloads: flows get only a well-known-port guess, no names.
    #[arg(long)]
    pub no_app: bool,
    /// Save each alert's evidence capture in this directory (default: `<db name>.evidence`
    /// next to the database).
    #[arg(long, value_name = "DIR")]
    pub evidence_dir: Option<PathBuf>,
    /// Save no evidence captures.
    #[arg(long, conflicts_with = "evidence_dir")]
    pub no_evidence: bool,
}

impl EngineArgs {
    /// The configuration: defaults, then the file, then these flags.
    pub fn load(&self) -> anyhow::Result<Config> {
        let mut config = match &self.config {
            Some(path) => Config::load(path)?,
            None => Config::default(),
        };
        if let Some(ms) = self.interval {
            config.metrics.interval_ms = ms;
        }
        if let Some(n) = self.max_flows {
            config.flows.max_flows = n;
        }
        if self.no_detect {
            config.detect.enabled = false;
        }
        if self.no_app {
            config.flows.app_decoding = false;
        }
        if let Some(dir) = &self.evidence_dir {
            config.evidence.enabled = true;
            config.evidence.dir = Some(dir.clone());
        }
        if self.no_evidence {
            config.evidence.enabled = false;
        }
        config.validate()?;
        Ok(config)
    }
}

/// `wirewatch analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Capture files, analysed in order as one run.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// How many top talkers to list.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
    /// At most this many flows are listed in the report (all are counted).
    #[arg(long, default_value_t = analyze::DEFAULT_MAX_REPORT_FLOWS, value_name = "N")]
    pub max_report_flows: usize,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Also store what was analysed in this SQLite database (browse it like live history).
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Append every alert (opened and ended) as a JSON line to this file.
    #[arg(long, value_name = "PATH")]
    pub alert_log: Option<PathBuf>,
    /// Append alerts and finished flows to this file as JSON lines in Suricata's EVE layout
    /// (with Community IDs), for SIEM pipelines.
    #[arg(long, value_name = "FILE")]
    pub eve: Option<PathBuf>,
    /// Engine settings.
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// `wirewatch interfaces`.
#[derive(Debug, Args)]
pub struct InterfacesArgs {
    /// Print only the default interface's name (exit status 1 when there is none).
    #[arg(long)]
    pub default: bool,
    /// Print the list as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `wirewatch generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Output file (pcap).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Number of packets.
    #[arg(long, default_value_t = 100_000)]
    pub packets: u64,
    /// Approximate number of distinct flows.
    #[arg(long, default_value_t = 2_000)]
    pub flows: u64,
    /// Random seed: the same seed gives the same file.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Average packet rate of the synthetic timeline.
    #[arg(long, default_value_t = 20_000.0)]
    pub pps: f64,
}

/// Runs the parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Some(Command::Analyze(args)) => run_analyze(&args),
        Some(Command::Generate(args)) => run_generate(&args),
        Some(Command::Bench(args)) => crate::bench::run(&args),
        Some(Command::Run(args)) => crate::run::run(&args),
        Some(Command::Export(args)) => crate::export::run(&args),
        Some(Command::Extract(args)) => crate::evidence::extract::run(&args),
        Some(Command::Intel(args)) => crate::intel::check::run(&args),
        Some(Command::Model(args)) => crate::model::run(&args),
        Some(Command::Train(args)) => crate::train::run(&args),
        Some(Command::Token) => {
            println!("{}", wirewatch_web::generate_token()?);
            Ok(0)
        }
        Some(Command::Interfaces(args)) => run_interfaces(&args),
        None => crate::run::run(&cli.run),
    }
}

fn run_interfaces(args: &InterfacesArgs) -> anyhow::Result<i32> {
    let list = wirewatch_capture::live::list_interfaces().context("cannot list interfaces")?;
    let default = wirewatch_capture::live::default_interface(&list).map(|i| i.name.clone());
    if args.default {
        return Ok(match default {
            Some(name) => {
                println!("{name}");
                0
            }
            None => {
                eprintln!("no usable interface (up, not loopback, with an address)");
                1
            }
        });
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &list).context("cannot write the list")?;
        writeln!(out).context("cannot write the list")?;
        return Ok(0);
    }
    for i in &list {
        let mut flags = Vec::new();
        for (set, name) in [
            (i.up, "up"),
            (i.running, "running"),
            (i.loopback, "loopback"),
            (i.wireless, "wireless"),
        ] {
            if set {
                flags.push(name);
            }
        }
        let addrs: Vec<String> = i.addresses.iter().map(ToString::to_string).collect();
        let mark = if default.as_deref() == Some(i.name.as_str()) {
            "  (default)"
        } else {
            ""
        };
        writeln!(out, "{}{mark}", i.name).context("cannot write the list")?;
        if let Some(d) = &i.description {
            writeln!(out, "    description: {d}").context("cannot write the list")?;
        }
        writeln!(
            out,
            "    flags: {}",
            if flags.is_empty() {
                "-".to_string()
            } else {
                flags.join(", ")
            }
        )
        .context("cannot write the list")?;
        writeln!(
            out,
            "    addresses: {}",
            if addrs.is_empty() {
                "-".to_string()
            } else {
                addrs.join(", ")
            }
        )
        .context("cannot write the list")?;
    }
    Ok(0)
}

fn run_analyze(args: &AnalyzeArgs) -> anyhow::Result<i32> {
    let config = args.engine.load()?;
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

fn run_generate(args: &GenerateArgs) -> anyhow::Result<i32> {
    let config = wirewatch_capture::synth::GeneratorConfig {
        seed: args.seed,
        packets: args.packets,
        flows: args.flows,
        packets_per_second: args.pps,
        ..Default::default()
    };
    let summary = crate::bench::generate_file(&args.output, &config)?;
    eprintln!(
        "wrote {}: {} packets, {} bytes, {} flows",
        args.output.display(),
        summary.packets,
        summary.bytes,
        summary.flows
    );
    Ok(0)
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
