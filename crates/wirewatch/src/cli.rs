//! The command line: clap's types and nothing else. What the flags mean together with the
//! configuration file is decided once, in [`crate::settings`]; each command lives in
//! [`crate::commands`].

use crate::config::parse_duration_ms;
use crate::live::Speed;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use wirewatch_capture::write::PcapFormat;
use wirewatch_core::Severity;
use wirewatch_core::time::{TimeSpec, parse_time_spec};
use wirewatch_store::params::{parse_proto, parse_severity};

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
    pub run: RunArgs,
    /// How much to log on stderr (and how).
    #[command(flatten)]
    pub log: LogArgs,
}

/// Logging: levels from `-v`/`-q` (or `RUST_LOG`, which wins), optionally as JSON lines.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct LogArgs {
    /// More log lines: -v info, -vv debug, -vvv trace (default: warnings and errors).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Fewer log lines: errors only.
    #[arg(short = 'q', long = "quiet", global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Log as JSON lines (for journald or a log shipper) instead of text.
    #[arg(long, global = true)]
    pub log_json: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Monitor live traffic (the default command): an interface, a replayed file or the demo.
    Run(Box<RunArgs>),
    /// List the network interfaces Wirewatch can capture on.
    Interfaces(InterfacesArgs),
    /// Analyse capture files (pcap or pcapng) and print a report.
    Analyze(AnalyzeArgs),
    /// Write a deterministic synthetic capture (for tests, benchmarks and demos).
    Generate(GenerateArgs),
    /// Measure end-to-end analysis throughput on a generated capture.
    Bench(BenchArgs),
    /// Export stored history as CSV, JSON or JSON lines.
    Export(ExportArgs),
    /// Extract packets by host, port, flow and time range from capture files (pcap/pcapng).
    Extract(ExtractArgs),
    /// Print a new random access token for the dashboard (for `[web] token` or --token-file).
    Token,
    /// Threat intelligence: what blocklists and AbuseIPDB say about an address.
    Intel(IntelArgs),
    /// The learned anomaly model: retrain it on stored history.
    Model(ModelArgs),
    /// Train the flow classifier on CICIDS2017-style CSVs and save the model.
    Train(TrainArgs),
    /// Print a shell completion script (e.g. `wirewatch completions bash >
    /// /etc/bash_completion.d/wirewatch`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `wirewatch man > /usr/local/share/man/man1/wirewatch.1`.
    Man,
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

/// `wirewatch analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Capture files, analysed in order as one run (`-`: standard input, pcap or pcapng).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// How many top talkers to list.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
    /// At most this many flows are listed in the report (all are counted).
    #[arg(long, default_value_t = wirewatch_report::DEFAULT_MAX_REPORT_FLOWS, value_name = "N")]
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

/// `wirewatch run`.
#[derive(Debug, Clone, Default, Args)]
pub struct RunArgs {
    /// Interface to capture on (`any` for all); default: the first that is up, not loopback
    /// and has an address.
    #[arg(short = 'i', long = "interface", value_name = "IFACE")]
    pub interface: Option<String>,
    /// BPF capture filter, e.g. 'tcp port 443 or udp port 53'.
    #[arg(short = 'f', long = "filter", value_name = "EXPR")]
    pub filter: Option<String>,
    /// Bytes kept of each packet.
    #[arg(long, value_name = "BYTES", default_value_t = 262_144)]
    pub snaplen: i32,
    /// Do not put the interface into promiscuous mode.
    #[arg(long)]
    pub no_promisc: bool,
    /// Kernel capture buffer, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 16)]
    pub buffer_size: i32,
    /// Deliver each packet at once (lower latency; on Linux the kernel ring then holds far
    /// fewer packets, so bursts drop sooner).
    #[arg(long)]
    pub immediate: bool,
    /// Replay a capture file through the live pipeline instead of capturing.
    #[arg(long = "read", short = 'r', value_name = "FILE", conflicts_with_all = ["interface", "demo"])]
    pub read: Option<PathBuf>,
    /// Replay pace: 1 (as recorded), 10 (ten times faster), any factor, or max. Default: 1;
    /// max with -w or -c (as tcpdump -r: the file is converted, not watched).
    #[arg(long, value_name = "SPEED", value_parser = parse_speed, requires = "read")]
    pub speed: Option<Speed>,
    /// Stop after this many packets (capture or replay); the run then ends as at the end of a
    /// file: outputs flushed, database written.
    #[arg(short = 'c', long, value_name = "N")]
    pub count: Option<u64>,
    /// Write every packet to this one file: pcap, or pcapng when the name ends in .pcapng
    /// (unlike --write-pcap, never cut or rotated).
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// Generate demo traffic (normal traffic, a port scan, a SYN flood, a spike, looping).
    #[arg(long, conflicts_with = "interface")]
    pub demo: bool,
    /// Demo scenario seed.
    #[arg(long, default_value_t = 1, requires = "demo")]
    pub seed: u64,
    /// Stop after this long (30s, 5m, 1h30m, 7d; no upper limit).
    #[arg(long, value_name = "DURATION", value_parser = crate::config::parse_run_duration_ms)]
    pub duration: Option<u64>,
    /// At exit, print the whole report as JSON on stdout (the layout of `analyze --json`).
    #[arg(long)]
    pub json: bool,
    /// Print the per-interval line even when stdout is not a terminal.
    #[arg(long)]
    pub lines: bool,
    /// Append every alert (opened and ended) as a JSON line to this file.
    #[arg(long, value_name = "PATH")]
    pub alert_log: Option<PathBuf>,
    /// SQLite database that keeps the history.
    #[arg(long, value_name = "PATH", default_value = "wirewatch.db")]
    pub db: PathBuf,
    /// Keep no history (no database).
    #[arg(long)]
    pub no_db: bool,
    /// After opening the capture, drop root privileges to this user.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// When a replay (--read) ends, keep serving the dashboard until Ctrl-C.
    #[arg(long, requires = "read")]
    pub stay: bool,
    /// Append alerts and finished flows to this file as JSON lines in Suricata's EVE layout
    /// (with Community IDs), for SIEM pipelines.
    #[arg(long, value_name = "FILE")]
    pub eve: Option<PathBuf>,
    /// Rotating capture files.
    #[command(flatten)]
    pub pcap_files: CaptureFileArgs,
    /// Dashboard settings.
    #[command(flatten)]
    pub web: WebArgs,
    /// Engine settings.
    #[command(flatten)]
    pub engine: EngineArgs,
}

fn parse_speed(s: &str) -> Result<Speed, String> {
    if s.eq_ignore_ascii_case("max") {
        return Ok(Speed::Max);
    }
    match s.trim_end_matches(['x', 'X']).parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() => Ok(Speed::Times(v)),
        _ => Err(format!("`{s}` is not a speed: use 1, 10, 0.5 or max")),
    }
}

/// Dashboard flags of `wirewatch run` (they override `[web]` in the config file).
#[derive(Debug, Clone, Default, Args)]
pub struct WebArgs {
    /// Serve the dashboard and API here (default 127.0.0.1:8080): PORT (on 127.0.0.1),
    /// ADDR:PORT, [IPV6]:PORT or HOST:PORT (localhost:8080). Any address other than loopback
    /// needs an access token (`[web] token` or --token-file).
    #[arg(long, value_name = "ADDR", value_parser = wirewatch_web::parse_listen)]
    pub listen: Option<SocketAddr>,
    /// Do not serve the dashboard.
    #[arg(long, conflicts_with = "listen")]
    pub no_web: bool,
    /// File whose first line is the dashboard's access token; when it does not exist, a new
    /// random token is written to it (readable by its owner only) and printed once.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// PEM certificate chain: serve the dashboard over HTTPS (with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// Rotating capture files.
#[derive(Debug, Clone, Default, Args)]
pub struct CaptureFileArgs {
    /// Also write every packet to rotating pcap files in this directory.
    #[arg(long = "write-pcap", value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Start a new file when the current one would pass this many MiB (like tcpdump -C).
    #[arg(
        long = "pcap-file-mb",
        value_name = "MIB",
        default_value_t = 100,
        requires = "dir"
    )]
    pub file_mb: u64,
    /// Start a new file every this many seconds of packet time (like tcpdump -G).
    #[arg(long = "pcap-file-secs", value_name = "SECS", requires = "dir")]
    pub file_secs: Option<u64>,
    /// Keep at most this many files, deleting the oldest (like tcpdump -W).
    #[arg(long = "pcap-files", value_name = "N", requires = "dir")]
    pub files: Option<usize>,
    /// Keep at most this many MiB of files in all, deleting the oldest.
    #[arg(
        long = "pcap-total-mb",
        value_name = "MIB",
        default_value_t = 10_240,
        requires = "dir"
    )]
    pub total_mb: u64,
}

/// `wirewatch bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Packets in the generated capture.
    #[arg(long, default_value_t = 5_000_000)]
    pub packets: u64,
    /// Distinct flows in the generated capture.
    #[arg(long, default_value_t = 100_000)]
    pub flows: u64,
    /// Generator seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where generated captures are cached.
    #[arg(long, default_value = "bench-data", value_name = "DIR")]
    pub data_dir: PathBuf,
    /// Measure this capture instead of a generated one.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Measured runs (the best is reported).
    #[arg(long, default_value_t = 3)]
    pub runs: u32,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Measure without the detectors (decode, flows and metrics only).
    #[arg(long)]
    pub no_detect: bool,
    /// Measure only without application decoding (by default both with and without are
    /// measured, so the cost of application decoding shows).
    #[arg(long)]
    pub no_app: bool,
    /// Record packets as `run` does (the packet ring, and an evidence capture per alert in
    /// `<data dir>/evidence`), to measure what recording costs.
    #[arg(long)]
    pub evidence: bool,
    /// Internal: measure one run in this process and print its result as JSON.
    #[arg(long, hide = true)]
    pub worker: bool,
    /// Internal (with `--worker`): measure without tunnel decapsulation, IP reassembly, TCP
    /// health and transaction logs.
    #[arg(long, hide = true)]
    pub without_visibility: bool,
}

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum What {
    /// Interval metrics (or their roll-ups).
    Intervals,
    /// Top talkers per interval.
    Talkers,
    /// Finished flows.
    Flows,
    /// Alerts.
    Alerts,
    /// Application transactions: DNS queries and answers, HTTP requests and responses,
    /// TLS/QUIC handshakes (filter with --kind dns|http|tls).
    Transactions,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Comma-separated values with a header row (nested fields as `protocols.tcp`).
    Csv,
    /// One JSON array.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// Flows as a CICIDS2017 `MachineLearningCVE` CSV (CICFlowMeter feature columns and a
    /// `Label`), for `wirewatch train` (flows only; needs flows recorded with features).
    Cicflowmeter,
}

/// Roll-up level of interval rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ResolutionArg {
    /// Chosen from the range and what retention keeps.
    Auto,
    /// Every interval.
    Raw,
    /// One-minute roll-ups.
    Minute,
    /// One-hour roll-ups.
    Hour,
}

/// Filters shared by history commands.
#[derive(Debug, Clone, Default, Args)]
pub struct FilterArgs {
    /// Start of the time range: Unix seconds, RFC 3339 (2024-01-01T00:00:00Z), or a time
    /// before the newest stored packet time (-1h, -1h30m, now-7d).
    #[arg(long, value_name = "TIME", value_parser = parse_time_spec, allow_hyphen_values = true)]
    pub from: Option<TimeSpec>,
    /// End of the time range (same forms).
    #[arg(long, value_name = "TIME", value_parser = parse_time_spec, allow_hyphen_values = true)]
    pub to: Option<TimeSpec>,
    /// An address or CIDR block (source or destination).
    #[arg(long, value_name = "IP/CIDR")]
    pub ip: Option<String>,
    /// A port (source or destination).
    #[arg(long)]
    pub port: Option<u16>,
    /// Protocol: tcp, udp, icmp, icmpv6 or a number.
    #[arg(long, value_name = "PROTO", value_parser = parse_proto)]
    pub proto: Option<u8>,
    /// Substring of the application or server name (transactions: the DNS query, HTTP host or
    /// TLS/QUIC server name).
    #[arg(long)]
    pub name: Option<String>,
    /// Alert kind; talkers: src or dst; transactions: dns, http or tls.
    #[arg(long)]
    pub kind: Option<String>,
    /// Lowest alert severity: low, medium, high, critical.
    #[arg(long, value_parser = parse_severity)]
    pub severity: Option<Severity>,
    /// Free text over names and alert messages (transactions: also HTTP URIs and user agents,
    /// DNS answers and response codes).
    #[arg(long)]
    pub text: Option<String>,
}

/// `wirewatch export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The database.
    #[arg(long, value_name = "PATH", default_value = "wirewatch.db")]
    pub db: PathBuf,
    /// What to export.
    #[arg(long, value_enum)]
    pub what: What,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
    /// Roll-up level for intervals.
    #[arg(long, value_enum, default_value = "auto")]
    pub resolution: ResolutionArg,
    /// Write here instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The `Label` column of a cicflowmeter export (e.g. `BENIGN`, `PortScan`, `DoS Hulk`).
    #[arg(long, value_name = "TEXT", default_value = "BENIGN")]
    pub label: String,
    /// Filters.
    #[command(flatten)]
    pub filters: FilterArgs,
}

/// `wirewatch extract`.
#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// Capture files, directories of them (e.g. a --write-pcap directory) or `-` (standard
    /// input), read in order; then, optionally, a BPF expression as tcpdump takes it (the first
    /// argument that is no existing file starts it): `extract a.pcap -o b.pcap 'host 10.0.1.1'`.
    #[arg(required_unless_present = "live", value_name = "FILE|DIR|EXPRESSION")]
    pub inputs: Vec<PathBuf>,
    /// Instead of files: the packet ring of a running `wirewatch run`, through its dashboard
    /// (default http://127.0.0.1:8080).
    #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = "http://127.0.0.1:8080", conflicts_with = "inputs")]
    pub live: Option<String>,
    /// The dashboard's access token, for --live off loopback (first line of this file; or
    /// the WIREWATCH_TOKEN environment variable).
    #[arg(long, value_name = "FILE", requires = "live")]
    pub token_file: Option<PathBuf>,
    /// Where to write the packets (`-`: standard output).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Packets from or to this address or network (10.0.0.1, 10.0.0.0/8, 2001:db8::/32;
    /// repeat, or comma-separate, for several).
    #[arg(long = "host", value_name = "ADDR|CIDR")]
    pub hosts: Vec<String>,
    /// Packets with this source or destination port.
    #[arg(long, value_name = "PORT")]
    pub port: Option<String>,
    /// Packets of this flow, either direction: 'PROTO ADDR:PORT ADDR:PORT'.
    #[arg(long, value_name = "FLOW")]
    pub flow: Option<String>,
    /// Not before this time (Unix seconds or RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Not after this time (Unix seconds or RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// pcap or pcapng (default: pcapng when the output ends in .pcapng, else pcap).
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<PcapFormat>,
}

/// `wirewatch intel`.
#[derive(Debug, Args)]
pub struct IntelArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: IntelCommand,
}

/// `wirewatch intel` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum IntelCommand {
    /// What the blocklists and AbuseIPDB say about an address.
    Check(CheckArgs),
}

/// `wirewatch intel check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The address.
    pub ip: IpAddr,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// The database whose cache holds earlier AbuseIPDB answers (fresh answers are added).
    #[arg(long, value_name = "PATH", default_value = "wirewatch.db")]
    pub db: PathBuf,
    /// TOML configuration file (`[intel]`: blocklists and the AbuseIPDB key).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `wirewatch model`.
#[derive(Debug, Args)]
pub struct ModelArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ModelCommand,
}

/// `wirewatch model` subcommands.
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Train the anomaly model on a stored time range and save it (a running `wirewatch run`
    /// on the same database picks it up at its next start; the dashboard's retrain does it live).
    Retrain(RetrainArgs),
}

/// `wirewatch model retrain`.
#[derive(Debug, Args)]
pub struct RetrainArgs {
    /// The database holding the history.
    #[arg(long, value_name = "PATH", default_value = "wirewatch.db")]
    pub db: PathBuf,
    /// Start of the range: Unix seconds, RFC 3339, or before the newest stored packet time
    /// (-7d, now-1h).
    #[arg(long, value_name = "TIME", value_parser = parse_time_spec, allow_hyphen_values = true)]
    pub from: Option<TimeSpec>,
    /// End of the range (same forms).
    #[arg(long, value_name = "TIME", value_parser = parse_time_spec, allow_hyphen_values = true)]
    pub to: Option<TimeSpec>,
    /// Where to save the model (default: next to the database).
    #[arg(long, value_name = "PATH")]
    pub model: Option<PathBuf>,
    /// TOML configuration file (`[detect.ml_anomaly.trainer]`: trees, sample size,
    /// contamination, seed).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

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
    /// Classes with fewer rows are reported and left out of training (default 50).
    #[arg(long, value_name = "N")]
    pub min_class_rows: Option<usize>,
    /// Do not train: classify every row of the dataset with this model and report per-class
    /// precision, recall and F1 (an evaluation on captures the model never saw).
    #[arg(long, value_name = "MODEL", conflicts_with_all = ["quick", "full"])]
    pub evaluate: Option<PathBuf>,
}
