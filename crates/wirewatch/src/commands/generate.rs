//! `wirewatch generate`: a deterministic synthetic capture.

use crate::cli::GenerateArgs;
use anyhow::Context;
use std::io::BufWriter;
use std::path::Path;
use wirewatch_capture::synth::{GenerateSummary, GeneratorConfig, write_pcap};

/// Writes the capture.
pub fn run(args: &GenerateArgs) -> anyhow::Result<i32> {
    let config = wirewatch_capture::synth::GeneratorConfig {
        seed: args.seed,
        packets: args.packets,
        flows: args.flows,
        packets_per_second: args.pps,
        ..Default::default()
    };
    let summary = generate_file(&args.output, &config)?;
    eprintln!(
        "wrote {}: {} packets, {} bytes, {} flows",
        args.output.display(),
        summary.packets,
        summary.bytes,
        summary.flows
    );
    Ok(0)
}

/// Writes a generated capture to `path`.
pub fn generate_file(path: &Path, config: &GeneratorConfig) -> anyhow::Result<GenerateSummary> {
    let f =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let summary = write_pcap(config, BufWriter::with_capacity(1 << 20, f))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(summary)
}
