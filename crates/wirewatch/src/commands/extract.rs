//! `wirewatch extract`: packets by host, port, flow and time range from capture files (the
//! rotating `--write-pcap` files, evidence captures, any pcap or pcapng), as pcap or pcapng.

use crate::cli::ExtractArgs;
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};
use wirewatch_capture::live::BpfFilter;
use wirewatch_capture::write::PcapFormat;
use wirewatch_evidence::export::export_files;
use wirewatch_evidence::filter::parse_filter;

/// Capture files in `inputs`: files as given, directories' capture files by name.
fn expand(inputs: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .with_context(|| format!("cannot read the directory {}", input.display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file() && is_capture_name(p))
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

/// `--format`, else pcapng when the output's name ends in `.pcapng`, else pcap.
fn output_format(args: &ExtractArgs) -> PcapFormat {
    args.format
        .unwrap_or_else(|| PcapFormat::for_path(&args.output))
}

/// Splits the positional arguments as tcpdump users write them (`extract cap.pcap -o out.pcap
/// 'host 10.0.1.1'`): the leading ones that exist (files, directories) or are `-` (standard
/// input) are the inputs; the rest, joined by spaces, is a BPF expression. A first word that is
/// named like a capture file but does not exist is a missing file, not an expression.
fn split_inputs(args: &[PathBuf]) -> anyhow::Result<(Vec<PathBuf>, Option<String>)> {
    let n = args
        .iter()
        .take_while(|p| p.as_os_str() == "-" || p.exists())
        .count();
    let (inputs, rest) = args.split_at(n);
    if let Some(first) = rest
        .first()
        .filter(|f| inputs.is_empty() || is_capture_name(f))
    {
        anyhow::bail!("cannot read {}: no such file", first.display());
    }
    let words: Vec<_> = rest.iter().map(|w| w.to_string_lossy()).collect();
    Ok((
        inputs.to_vec(),
        (!words.is_empty()).then(|| words.join(" ")),
    ))
}

/// The output file, or standard output for `-`.
fn open_output(path: &Path) -> anyhow::Result<Box<dyn Write>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(std::io::stdout().lock()));
    }
    Ok(Box::new(std::fs::File::create(path).with_context(
        || format!("cannot create {}", path.display()),
    )?))
}

fn output_name(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "standard output".to_string()
    } else {
        path.display().to_string()
    }
}

/// Fetches the packets from a running Wirewatch's ring (`GET /api/packets`).
fn from_live(args: &ExtractArgs, url: &str) -> anyhow::Result<i32> {
    let format = output_format(args);
    let mut query = vec![
        ("source", "ring".to_string()),
        ("format", format.name().to_string()),
    ];
    if !args.hosts.is_empty() {
        query.push(("host", args.hosts.join(",")));
    }
    for (name, value) in [
        ("port", &args.port),
        ("flow", &args.flow),
        ("from", &args.from),
        ("until", &args.until),
    ] {
        if let Some(v) = value {
            query.push((name, v.clone()));
        }
    }
    let token = match &args.token_file {
        Some(f) => Some(
            std::fs::read_to_string(f)
                .with_context(|| format!("cannot read the token file {}", f.display()))?
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_string(),
        ),
        None => std::env::var("WIREWATCH_TOKEN").ok(),
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let endpoint = format!("{}/api/packets", url.trim_end_matches('/'));
    let mut request = agent.get(&endpoint).query_pairs(query);
    if let Some(t) = token.filter(|t| !t.is_empty()) {
        request = request.header("Authorization", format!("Bearer {t}"));
    }
    let mut response = request
        .call()
        .with_context(|| format!("cannot reach Wirewatch at {url}"))?;
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("0")
            .to_string()
    };
    let (packets, left_out) = (header("x-packet-count"), header("x-packets-left-out"));
    let body = response
        .body_mut()
        .with_config()
        .limit(crate::dashboard::packets::MAX_EXPORT_BYTES * 2)
        .read_to_vec()
        .with_context(|| format!("cannot read the answer of {url}"))?;
    if status != 200 {
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"].as_str().map(String::from))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
        anyhow::bail!("Wirewatch at {url} answered {status}: {message}");
    }
    let mut out = open_output(&args.output)?;
    out.write_all(&body)
        .and_then(|()| out.flush())
        .context("cannot write the output")?;
    eprintln!(
        "wirewatch: {packets} packets from the ring of {url} written to {}{}",
        output_name(&args.output),
        if left_out == "0" {
            String::new()
        } else {
            format!(" ({left_out} left out: narrow the filter)")
        }
    );
    Ok(0)
}

fn is_capture_name(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "pcap" | "pcapng" | "cap"))
}

/// Runs `wirewatch extract`.
pub fn run(args: &ExtractArgs) -> anyhow::Result<i32> {
    if let Some(url) = &args.live {
        return from_live(args, url);
    }
    let mut filter = parse_filter(
        &args.hosts,
        args.port.as_deref(),
        args.flow.as_deref(),
        args.from.as_deref(),
        args.until.as_deref(),
    )
    .map_err(anyhow::Error::msg)?;
    let (inputs, expression) = split_inputs(&args.inputs)?;
    if let Some(Err(e)) = expression.as_deref().map(BpfFilter::new) {
        eprintln!("error: {e}");
        return Ok(2); // a usage error, as clap's and tcpdump's
    }
    filter.bpf = expression;
    let files = expand(&inputs)?;
    let format = output_format(args);
    let out = open_output(&args.output)?;
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
        output_name(&args.output)
    );
    Ok(
        if summary.warnings.len() == files.len() && !files.is_empty() {
            1
        } else {
            0
        },
    )
}
