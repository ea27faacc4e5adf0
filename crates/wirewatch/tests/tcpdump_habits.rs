//! The habits of tcpdump and tshark users work: `run -r F -c N -w OUT`, `analyze -` from a
//! pipe, `analyze F | head -1` without an error, `extract F -o OUT 'EXPRESSION'` with a BPF
//! expression, `--host` with a CIDR block, and `--listen PORT` or `--listen HOST:PORT`. Counts
//! are checked with our own reader, and with tcpdump too where it is installed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

mod support;

use serde_json::Value;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::cmd::{stderr, wirewatch};
use wirewatch_capture::synth::{GeneratorConfig, write_pcap};
use wirewatch_capture::{FileFormat, FileSource};
use wirewatch_decode::decode;

/// A generated capture of `packets` packets in `dir`.
fn capture(dir: &Path, packets: u64) -> PathBuf {
    let path = dir.join(format!("gen-{packets}.pcap"));
    let cfg = GeneratorConfig {
        seed: 11,
        packets,
        flows: 300,
        ..GeneratorConfig::default()
    };
    write_pcap(&cfg, std::fs::File::create(&path).unwrap()).unwrap();
    path
}

/// Every packet of a capture: timestamp, captured bytes, and source and destination address.
type Packet = (u64, Vec<u8>, Option<IpAddr>, Option<IpAddr>);

fn packets(path: &Path) -> (FileFormat, Vec<Packet>) {
    let mut src = FileSource::open(path).unwrap();
    let mut out = Vec::new();
    while let Some(f) = src.next_frame().unwrap() {
        let p = decode(f.linktype, f.data);
        let (s, d) = (p.has_src.then_some(p.src), p.has_dst.then_some(p.dst));
        out.push((f.ts.nanos(), f.data.to_vec(), s, d));
    }
    (src.format(), out)
}

/// How many packets tcpdump reads from `path` with `filter` (none when tcpdump is missing).
fn tcpdump_count(path: &Path, filter: &[&str]) -> Option<usize> {
    let out = Command::new("tcpdump")
        .args(["-n", "-r"])
        .arg(path)
        .args(filter)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).lines().count())
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn run_r_c_w_writes_exactly_the_first_n_packets_and_ends_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let input = capture(dir.path(), 2_000);
    let out = dir.path().join("out.pcap");
    let db = dir.path().join("run.db");
    let args = ["run", "-r", s(&input), "-c", "100", "-w", s(&out)];
    let o = wirewatch(&[&args[..], &["--db", s(&db), "--no-web", "--json"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    // At full speed by default: the report is of the 100 packets, and the database was written.
    assert!(stderr(&o).contains("at full speed"), "{}", stderr(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["packets"], 100);
    assert!(report["store"].is_object(), "{report}");
    let (format, written) = packets(&out);
    assert!(matches!(format, FileFormat::Pcap { .. }));
    let (_, all) = packets(&input);
    assert!(written == all[..100], "not the first 100 packets");
    if let Some(n) = tcpdump_count(&out, &[]) {
        assert_eq!(n, 100);
    }
}

#[test]
fn w_with_a_pcapng_name_writes_pcapng_and_count_stops_without_w() {
    let dir = tempfile::tempdir().unwrap();
    let input = capture(dir.path(), 700);
    let out = dir.path().join("all.pcapng");
    let o = wirewatch(&["run", "-r", s(&input), "-w", s(&out), "--no-db", "--no-web"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (format, written) = packets(&out);
    assert_eq!(format, FileFormat::Pcapng);
    assert!(written == packets(&input).1, "not every packet");
    let o = wirewatch(&[
        "run",
        "-r",
        s(&input),
        "-c",
        "5",
        "--no-db",
        "--no-web",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["packets"], 5);
}

#[test]
fn analyze_reads_standard_input_with_the_same_totals() {
    let dir = tempfile::tempdir().unwrap();
    let input = capture(dir.path(), 3_000);
    let from_file = wirewatch(&["analyze", "--json", s(&input)]);
    assert!(from_file.status.success(), "{}", stderr(&from_file));
    let piped = Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args(["analyze", "--json", "-"])
        .stdin(std::fs::File::open(&input).unwrap())
        .output()
        .unwrap();
    assert!(piped.status.success(), "{}", stderr(&piped));
    let (a, b): (Value, Value) = (
        serde_json::from_slice(&from_file.stdout).unwrap(),
        serde_json::from_slice(&piped.stdout).unwrap(),
    );
    for key in [
        "packets",
        "bytes",
        "protocols",
        "tcp_flags",
        "flows",
        "intervals",
    ] {
        assert_eq!(a[key], b[key], "{key}");
    }
    assert_eq!(a["packets"], 3_000);
}

#[test]
fn analyze_into_a_pipe_closed_early_exits_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let input = capture(dir.path(), 20_000);
    // A report far larger than a pipe's buffer, so the write meets the closed pipe.
    for format in [&[][..], &["--json"][..]] {
        let mut ww = Command::new(env!("CARGO_BIN_EXE_wirewatch"))
            .args(["analyze", "--max-report-flows", "100000", s(&input)])
            .args(format)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let head = Command::new("head")
            .arg("-1")
            .stdin(ww.stdout.take().unwrap())
            .output()
            .unwrap();
        let o = ww.wait_with_output().unwrap();
        assert_eq!(String::from_utf8_lossy(&head.stdout).lines().count(), 1);
        assert!(o.status.success(), "{:?}: {}", o.status, stderr(&o));
        assert_eq!(stderr(&o), "");
    }
}

#[test]
fn extract_takes_a_bpf_expression_after_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let input = capture(dir.path(), 3_000);
    let (_, all) = packets(&input);
    let host = all.iter().find_map(|p| p.2).unwrap();
    // As in tcpdump, `host A` looks at the untagged frame: a VLAN-tagged packet needs `vlan and
    // host A` (the generator tags some).
    let untagged = |p: &Packet| p.1.get(12..14) != Some(&[0x81, 0x00][..]);
    let is_host = |p: &&Packet| untagged(p) && (p.2 == Some(host) || p.3 == Some(host));
    let expected: Vec<Packet> = all.iter().filter(is_host).cloned().collect();
    assert!(!expected.is_empty() && expected.len() < all.len());
    let out = dir.path().join("x.pcap");
    let expr = format!("host {host}");
    let o = wirewatch(&["extract", s(&input), "-o", s(&out), &expr]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(packets(&out).1 == expected, "not the packets of {host}");
    if let Some(n) = tcpdump_count(&input, &["host", &host.to_string()]) {
        assert_eq!(n, expected.len());
    }
    // Unquoted words are one expression too, and standard input is a file.
    let o = Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args([
            "extract",
            "-",
            "-o",
            s(&out),
            "host",
            &host.to_string(),
            "and",
            "ip",
        ])
        .stdin(std::fs::File::open(&input).unwrap())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let v4 = expected.iter().filter(|p| p.2.is_some_and(|a| a.is_ipv4()));
    assert_eq!(packets(&out).1.len(), v4.count());
}

#[test]
fn a_bad_expression_or_a_missing_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let input = capture(dir.path(), 100);
    let out = dir.path().join("x.pcap");
    let o = wirewatch(&["extract", s(&input), "-o", s(&out), "host 10.0.1.1 andd"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("invalid capture filter `host 10.0.1.1 andd`"),
        "{e}"
    );
    let missing = dir.path().join("missing.pcap");
    for args in [
        vec![s(&missing), "-o", s(&out), "host 10.0.1.1"],
        vec![s(&input), s(&missing), "-o", s(&out)],
    ] {
        let o = wirewatch(&[&["extract"][..], &args].concat());
        assert_eq!(o.status.code(), Some(1));
        assert!(
            stderr(&o).contains("missing.pcap: no such file"),
            "{}",
            stderr(&o)
        );
    }
}

#[test]
fn extract_host_takes_cidr_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let input = capture(dir.path(), 3_000);
    let out = dir.path().join("net.pcap");
    let o = wirewatch(&["extract", s(&input), "-o", s(&out), "--host", "10.0.0.0/8"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let inside = |a: Option<IpAddr>| matches!(a, Some(IpAddr::V4(v)) if v.octets()[0] == 10);
    let expected: Vec<Packet> = packets(&input)
        .1
        .into_iter()
        .filter(|p| inside(p.2) || inside(p.3))
        .collect();
    assert!(!expected.is_empty());
    assert!(packets(&out).1 == expected, "not the packets of 10.0.0.0/8");
    let o = wirewatch(&["extract", s(&input), "-o", s(&out), "--host", "10.0.0.0/33"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is not an IP address or CIDR block"));
}

#[test]
fn listen_takes_a_port_or_a_host_name() {
    for (listen, prefix) in [("0", "http://127.0.0.1:"), ("localhost:0", "http://")] {
        let (child, url) =
            support::dashboard::start(&["run", "--demo", "--no-db", "--listen", listen]);
        support::dashboard::stop(child);
        assert!(url.starts_with(prefix), "{listen}: {url}");
        assert!(url.contains("127.0.0.1") || url.contains("[::1]"), "{url}");
    }
    let o = wirewatch(&["run", "--demo", "--no-db", "--listen", "nowhere"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("use PORT (8080, on 127.0.0.1), ADDR:PORT"));
}
