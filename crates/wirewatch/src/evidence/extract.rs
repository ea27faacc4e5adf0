//! `wirewatch extract`: packets by host, port, flow and time range from capture files (the
//! rotating `--write-pcap` files, evidence captures, any pcap or pcapng), as pcap or pcapng.

use super::export::export_files;
use super::filter::parse_filter;
use anyhow::Context;
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};
use wirewatch_capture::write::PcapFormat;

/// `wirewatch extract`.
#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// Capture files, or directories of them (e.g. a --write-pcap directory), read in order.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub inputs: Vec<PathBuf>,
    /// Where to write the packets (`-`: standard output).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Packets from or to this address (repeat, or comma-separate, for several).
    #[arg(long = "host", value_name = "ADDR")]
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

/// Capture files in `inputs`: files as given, directories' capture files by name.
fn expand(inputs: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .with_context(|| format!("cannot read the directory {}", input.display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| is_capture_name(p))
                .collect();
            found.sort();
            anyhow::ensure!(
                !found.is_empty(),
                "{} holds no capture files (.pcap, .pcapng, .cap)",
                input.display()
            );
            files.extend(found);
        } else {
            files.push(input.clone());
        }
    }
    Ok(files)
}

fn is_capture_name(p: &Path) -> bool {
    p.is_file()
        && p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "pcap" | "pcapng" | "cap"))
}

/// Runs `wirewatch extract`.
pub fn run(args: &ExtractArgs) -> anyhow::Result<i32> {
    let filter = parse_filter(
        &args.hosts,
        args.port.as_deref(),
        args.flow.as_deref(),
        args.from.as_deref(),
        args.until.as_deref(),
    )
    .map_err(anyhow::Error::msg)?;
    let files = expand(&args.inputs)?;
    let format = args.format.unwrap_or_else(|| {
        if args.output.extension().is_some_and(|e| e == "pcapng") {
            PcapFormat::PcapNg
        } else {
            PcapFormat::Pcap
        }
    });
    let to_stdout = args.output.as_os_str() == "-";
    let out: Box<dyn Write> = if to_stdout {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(
            std::fs::File::create(&args.output)
                .with_context(|| format!("cannot create {}", args.output.display()))?,
        )
    };
    let (mut out, summary) = export_files(&files, &filter, format, out, u64::MAX)?;
    out.flush().context("cannot write the output")?;
    for w in &summary.warnings {
        eprintln!("warning: {w}");
    }
    if summary.other_linktype > 0 {
        eprintln!(
            "warning: {} packets of another link type left out (a pcap file holds one; use --format pcapng)",
            summary.other_linktype
        );
    }
    eprintln!(
        "wirewatch: {} of {} packets ({} bytes) from {} files written to {}",
        summary.packets,
        summary.scanned,
        summary.bytes,
        files.len(),
        if to_stdout {
            "standard output".to_string()
        } else {
            args.output.display().to_string()
        }
    );
    Ok(
        if summary.warnings.len() == files.len() && !files.is_empty() {
            1
        } else {
            0
        },
    )
}
