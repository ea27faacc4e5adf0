//! Detection evaluation on labelled captures of real attacks.
//!
//! `tests/fixtures/scenarios/` holds captures recorded by `scripts/make-scenarios.sh` (nmap,
//! hping3, sshpass and ftplib against real sshd, vsftpd, HTTP and DNS servers in network
//! namespaces, with clean background traffic around each attack), each with a ground-truth file
//! `<name>.truth.json` naming the attacks: kind, attacker, victim, port and time window. Each
//! capture is analysed by the built binary with the default settings, and:
//!
//! - every expected attack must be found by exactly one incident of its kind whose sources
//!   contain the attacker, whose targets contain the victim, whose ports contain the port (each
//!   when given), and which starts inside the attack window (plus a few seconds: [`slack_secs`]);
//! - no other alert may be raised (the clean capture gives none), except — in captures of
//!   benign heavy traffic whose truth says `"allowed_max_severity": "low"` — notices at or
//!   below that severity;
//! - in attack captures, no alert may name the benign client [`BYSTANDER`], which only makes
//!   background traffic there.
//!
//! Where a detector legitimately misses or double-fires with its defaults, the deviation is
//! listed in [`KNOWN`] with the reason; an entry that no longer happens fails the test too, so
//! the list stays honest. The evaluation table (per detector: detected, missed, false alerts,
//! mean time to detect) is printed and written to `target/detection-report.md`.
//!
//! Also, every capture of the public corpus in `../shared/pcaps/` (skipped when absent) must
//! analyse without alerts, except the ones listed in [`CORPUS_KNOWN`].

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// How an outcome deviates from the ground truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Deviation {
    /// An expected attack raised no matching incident.
    Missed,
    /// An expected attack raised more than one matching incident.
    Duplicate,
    /// An alert of this kind that matches no expected attack (a false alert).
    Extra,
    /// An alert of this kind names the benign client, which took part in no attack.
    NamesBystander,
}

/// The benign client of every scenario (background traffic only): no alert may name it.
const BYSTANDER: &str = "10.210.0.3";

/// Deviations from the ground truth that the detectors have with their default settings today:
/// (capture, alert kind, deviation, why). The detect crate's owner tunes the detectors; remove
/// an entry when it no longer happens (the test says so).
const KNOWN: &[(&str, &str, Deviation, &str)] = &[];

/// Public corpus captures allowed to raise an alert: (file name, alert kind, why).
const CORPUS_KNOWN: &[(&str, &str, &str)] = &[(
    "dns-tunnel-iodine.pcap",
    "dns_tunnel",
    "an iodine DNS tunnel (binary data in *.pirate.sea query names): the detection expected",
)];

/// Largest capture kept in the fixture directory, so that regenerating cannot bloat the repo.
const MAX_FIXTURE_BYTES: u64 = 1024 * 1024;

/// Seconds after an attack's end within which its incident must have started.
fn slack_secs(kind: &str) -> f64 {
    match kind {
        // Brute force works on finished flows: a closed connection lingers 10 s in the flow
        // table (reported at most 12.5 % late), then the interval holding it closes.
        "brute_force" => 13.0,
        // Everything else alerts when the interval (1 s) holding the evidence closes.
        _ => 3.0,
    }
}

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenarios")
}

/// The target directory of this build (the binary is `<target>/<profile>/wirewatch`).
fn target_dir() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_wirewatch"));
    bin.parent()
        .and_then(Path::parent)
        .expect("binary inside a target directory")
        .to_path_buf()
}

/// Analyses one capture with the default settings. A damaged capture still gives a report
/// (exit status 1), so the status is not checked; the JSON must be there.
fn analyze(path: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args(["analyze", "--json", "--no-progress"])
        .arg(path)
        .output()
        .expect("run wirewatch");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: no JSON report ({e}), exit {:?}: {}",
            path.display(),
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn ts_secs(v: &Value) -> f64 {
    v.as_u64().expect("timestamp in nanoseconds") as f64 / 1e9
}

fn ips(v: &Value) -> Vec<IpAddr> {
    v.as_array()
        .expect("address list")
        .iter()
        .map(|a| a.as_str().unwrap().parse().unwrap())
        .collect()
}

/// One attack of a ground-truth file.
#[derive(Debug)]
struct Expected {
    kind: String,
    source: Option<IpAddr>,
    target: Option<IpAddr>,
    port: Option<u16>,
    window: (f64, f64),
}

/// The highest severity a benign capture's notices may have (`None`: no alert at all).
fn allowed_max_severity(path: &Path) -> Option<usize> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["allowed_max_severity"].as_str().map(severity_rank)
}

fn read_truth(path: &Path) -> Vec<Expected> {
    let text = std::fs::read_to_string(path).unwrap();
    let v: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: bad JSON: {e}", path.display()));
    let addr = |x: &Value| x.as_str().map(|s| s.parse::<IpAddr>().unwrap());
    v["expected"]
        .as_array()
        .unwrap_or_else(|| panic!("{}: no `expected` list", path.display()))
        .iter()
        .map(|e| Expected {
            kind: e["kind"].as_str().unwrap().to_string(),
            source: addr(&e["source"]),
            target: addr(&e["target"]),
            port: e["port"].as_u64().map(|p| u16::try_from(p).unwrap()),
            window: (
                e["window"][0].as_f64().unwrap(),
                e["window"][1].as_f64().unwrap(),
            ),
        })
        .collect()
}

/// One alert of a report, as far as matching needs it.
#[derive(Debug)]
struct Incident {
    id: u64,
    kind: String,
    start: f64,
    sources: Vec<IpAddr>,
    targets: Vec<IpAddr>,
    ports: Vec<u16>,
    severity: String,
    message: String,
}

/// Severity names, least severe first.
const SEVERITIES: [&str; 4] = ["low", "medium", "high", "critical"];

fn severity_rank(s: &str) -> usize {
    SEVERITIES
        .iter()
        .position(|x| *x == s)
        .unwrap_or_else(|| panic!("unknown severity {s:?}"))
}

fn incidents(report: &Value) -> Vec<Incident> {
    report["alerts"]
        .as_array()
        .expect("`alerts` in the report")
        .iter()
        .map(|a| Incident {
            id: a["id"].as_u64().unwrap(),
            kind: a["kind"].as_str().unwrap().to_string(),
            start: ts_secs(&a["start_ts"]),
            sources: ips(&a["sources"]),
            targets: ips(&a["targets"]),
            ports: a["ports"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| u16::try_from(p.as_u64().unwrap()).unwrap())
                .collect(),
            severity: a["severity"].as_str().unwrap().to_string(),
            message: a["message"].as_str().unwrap_or_default().to_string(),
        })
        .collect()
}

fn matches(e: &Expected, a: &Incident) -> bool {
    a.kind == e.kind
        && e.source.is_none_or(|s| a.sources.contains(&s))
        && e.target.is_none_or(|t| a.targets.contains(&t))
        && e.port.is_none_or(|p| a.ports.contains(&p))
        && a.start >= e.window.0
        && a.start <= e.window.1 + slack_secs(&e.kind)
}

/// What one capture gave.
struct Outcome {
    capture: String,
    packets: u64,
    /// Per expected attack: its kind and the matching incidents' time to detect.
    attacks: Vec<(String, Vec<f64>)>,
    /// Alerts matching no expected attack (above the capture's allowed severity).
    false_alerts: Vec<Incident>,
    /// Alerts matching no expected attack but allowed by the capture's truth (low notices
    /// on benign heavy traffic).
    notices: Vec<Incident>,
    /// Per expected attack that was missed: whether an alert of another kind named its
    /// attacker or victim (the attack was seen but named wrong).
    wrong_kind: Vec<String>,
    /// Every alert, by kind, for failure messages.
    alerts_by_kind: BTreeMap<String, Vec<String>>,
    deviations: BTreeSet<(String, Deviation)>,
}

fn evaluate(capture: &Path, truth: &Path) -> Outcome {
    let expected = read_truth(truth);
    let report = analyze(capture);
    let (first, last) = (
        ts_secs_f(&report["first_ts"]),
        ts_secs_f(&report["last_ts"]),
    );
    let name = capture.file_name().unwrap().to_string_lossy().into_owned();
    for e in &expected {
        assert!(
            e.window.0 <= e.window.1 && e.window.0 >= first && e.window.1 <= last,
            "{name}: window {:?} of {} is not inside the capture ({first}..{last})",
            e.window,
            e.kind
        );
    }
    let alerts = incidents(&report);
    let mut alerts_by_kind: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for a in &alerts {
        alerts_by_kind
            .entry(a.kind.clone())
            .or_default()
            .push(format!("{a:?}"));
    }
    let mut used = BTreeSet::new();
    let mut attacks = Vec::new();
    let mut deviations = BTreeSet::new();
    for e in &expected {
        let found: Vec<&Incident> = alerts.iter().filter(|a| matches(e, a)).collect();
        used.extend(found.iter().map(|a| a.id));
        match found.len() {
            0 => deviations.insert((e.kind.clone(), Deviation::Missed)),
            1 => false,
            _ => deviations.insert((e.kind.clone(), Deviation::Duplicate)),
        };
        let ttd = found.iter().map(|a| a.start - e.window.0).collect();
        attacks.push((e.kind.clone(), ttd));
    }
    // In attack captures the benign client only makes background traffic; in benign ones it
    // is the heavy user, which its allowed notices may name.
    let bystander: IpAddr = BYSTANDER.parse().unwrap();
    for a in alerts.iter().filter(|_| !expected.is_empty()) {
        // A sweep of the subnet does probe the client's address: as a scan's target it took
        // part; as anything else it did not.
        let swept = a.kind == "port_scan" && a.targets.contains(&bystander);
        if a.sources.contains(&bystander) || (a.targets.contains(&bystander) && !swept) {
            deviations.insert((a.kind.clone(), Deviation::NamesBystander));
        }
    }
    let mut wrong_kind = Vec::new();
    for e in &expected {
        if alerts.iter().any(|a| matches(e, a)) {
            continue;
        }
        if let Some(a) = alerts.iter().find(|a| {
            !used.contains(&a.id)
                && (e.source.is_some_and(|s| a.sources.contains(&s))
                    || e.target.is_some_and(|t| a.targets.contains(&t)))
        }) {
            wrong_kind.push(format!("{} reported as {}", e.kind, a.kind));
        }
    }
    let allowed = allowed_max_severity(truth);
    let (notices, false_alerts): (Vec<Incident>, Vec<Incident>) = alerts
        .into_iter()
        .filter(|a| !used.contains(&a.id))
        .partition(|a| allowed.is_some_and(|max| severity_rank(&a.severity) <= max));
    for a in &false_alerts {
        deviations.insert((a.kind.clone(), Deviation::Extra));
    }
    Outcome {
        capture: name,
        packets: report["packets"].as_u64().unwrap(),
        attacks,
        false_alerts,
        notices,
        wrong_kind,
        alerts_by_kind,
        deviations,
    }
}

/// `first_ts`/`last_ts` of a report are seconds as a float.
fn ts_secs_f(v: &Value) -> f64 {
    v.as_f64().expect("report time in seconds")
}

/// Per detector (alert kind): scenarios, detected, missed, duplicate incidents, false alerts,
/// and the times to detect.
#[derive(Default)]
struct Tally {
    attacks: usize,
    detected: usize,
    missed: usize,
    wrong_kind: usize,
    duplicates: usize,
    false_alerts: usize,
    ttd: Vec<f64>,
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn secs(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), |s| format!("{s:.2} s"))
}

fn report_markdown(outcomes: &[Outcome]) -> String {
    let mut tally: BTreeMap<String, Tally> = BTreeMap::new();
    for o in outcomes {
        for (kind, ttd) in &o.attacks {
            let t = tally.entry(kind.clone()).or_default();
            t.attacks += 1;
            if ttd.is_empty() {
                t.missed += 1;
            } else {
                t.detected += 1;
                t.duplicates += ttd.len() - 1;
                t.ttd
                    .push(ttd.iter().copied().fold(f64::INFINITY, f64::min));
            }
        }
        for a in &o.false_alerts {
            tally.entry(a.kind.clone()).or_default().false_alerts += 1;
        }
        for w in &o.wrong_kind {
            let kind = w.split(' ').next().unwrap_or_default().to_string();
            tally.entry(kind).or_default().wrong_kind += 1;
        }
    }
    let mut md = String::new();
    writeln!(
        md,
        "# Detection evaluation\n\n{} labelled captures in `crates/wirewatch/tests/fixtures/\
         scenarios/` (made by `scripts/make-scenarios.sh`), analysed with the default settings.\n\
         Time to detect: the incident's `start_ts` minus the start of the attack.\n",
        outcomes.len()
    )
    .unwrap();
    md.push_str(
        "| detector (kind) | attacks | detected | wrong kind | missed | extra incidents | \
         false alerts above the allowed severity | mean time to detect |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for (kind, t) in &tally {
        writeln!(
            md,
            "| `{kind}` | {} | {} | {} | {} | {} | {} | {} |",
            t.attacks,
            t.detected,
            t.wrong_kind,
            t.missed - t.wrong_kind.min(t.missed),
            t.duplicates,
            t.false_alerts,
            secs(mean(&t.ttd))
        )
        .unwrap();
    }
    md.push_str(
        "\n| capture | packets | expected | result | time to detect | false alerts | \
         allowed notices |\n|---|---|---|---|---|---|---|\n",
    );
    for o in outcomes {
        let expected: Vec<&str> = o.attacks.iter().map(|(k, _)| k.as_str()).collect();
        let result: Vec<String> = o
            .attacks
            .iter()
            .map(|(k, ttd)| match ttd.len() {
                0 => format!("{k} missed"),
                1 => format!("{k} detected"),
                n => format!("{k} detected {n}×"),
            })
            .collect();
        let ttd: Vec<String> = o
            .attacks
            .iter()
            .filter_map(|(_, t)| t.iter().copied().reduce(f64::min))
            .map(|s| format!("{s:.2} s"))
            .collect();
        let false_alerts: Vec<String> = o
            .false_alerts
            .iter()
            .map(|a| {
                let known = KNOWN
                    .iter()
                    .any(|k| k.0 == o.capture && k.1 == a.kind && k.2 == Deviation::Extra);
                let mark = if known { " (known)" } else { "" };
                format!("`{}`{mark}: {}", a.kind, a.message.replace('|', "/"))
            })
            .collect();
        let notices: Vec<String> = o
            .notices
            .iter()
            .map(|a| {
                format!(
                    "`{}` {}: {}",
                    a.kind,
                    a.severity,
                    a.message.replace('|', "/")
                )
            })
            .collect();
        let mut result = result;
        result.extend(o.wrong_kind.iter().cloned());
        writeln!(
            md,
            "| `{}` | {} | {} | {} | {} | {} | {} |",
            o.capture,
            o.packets,
            if expected.is_empty() {
                "nothing".to_string()
            } else {
                expected.join(", ")
            },
            if result.is_empty() {
                "no alert".to_string()
            } else {
                result.join(", ")
            },
            if ttd.is_empty() {
                "–".to_string()
            } else {
                ttd.join(", ")
            },
            if false_alerts.is_empty() {
                "none".to_string()
            } else {
                false_alerts.join("; ")
            },
            if notices.is_empty() {
                "–".to_string()
            } else {
                notices.join("; ")
            },
        )
        .unwrap();
    }
    let known: Vec<_> = KNOWN.iter().collect();
    if !known.is_empty() {
        md.push_str("\nKnown deviations (listed in `KNOWN` in `tests/detect_scenarios.rs`):\n\n");
        for (capture, kind, dev, why) in known {
            writeln!(md, "- `{capture}`, `{kind}` {dev:?}: {why}").unwrap();
        }
    }
    md
}

#[test]
fn detectors_find_the_labelled_attacks_and_nothing_else() {
    let dir = scenarios_dir();
    let mut truths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/make-scenarios.sh)", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".truth.json"))
        .collect();
    truths.sort();
    assert!(
        truths.len() >= 10,
        "only {} ground-truth files in {}",
        truths.len(),
        dir.display()
    );
    let mut outcomes = Vec::new();
    for truth in &truths {
        let name = truth.file_name().unwrap().to_string_lossy().into_owned();
        let capture = dir.join(format!("{}.pcap", name.trim_end_matches(".truth.json")));
        let size = std::fs::metadata(&capture)
            .unwrap_or_else(|e| panic!("{}: {e}", capture.display()))
            .len();
        assert!(
            size <= MAX_FIXTURE_BYTES,
            "{} is {size} bytes: keep scenario captures under {MAX_FIXTURE_BYTES}",
            capture.display()
        );
        outcomes.push(evaluate(&capture, truth));
    }

    let md = report_markdown(&outcomes);
    eprintln!("{md}");
    let out = target_dir().join("detection-report.md");
    std::fs::write(&out, &md).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    eprintln!("(written to {})", out.display());

    let mut failures = Vec::new();
    let mut seen = BTreeSet::new();
    for o in &outcomes {
        for (kind, dev) in &o.deviations {
            seen.insert((o.capture.as_str(), kind.as_str(), *dev));
            let known = KNOWN
                .iter()
                .any(|k| k.0 == o.capture && k.1 == kind && k.2 == *dev);
            if !known {
                let alerts = o.alerts_by_kind.get(kind).cloned().unwrap_or_default();
                failures.push(format!(
                    "{}: {kind} {dev:?}; its alerts of that kind: {alerts:#?}",
                    o.capture
                ));
            }
        }
    }
    for (capture, kind, dev, _) in KNOWN {
        if !seen.contains(&(*capture, *kind, *dev)) {
            failures.push(format!(
                "{capture}: {kind} {dev:?} is listed in KNOWN but no longer happens: remove it"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// pcap (either byte order, micro- or nanoseconds) and pcapng magic numbers.
fn is_capture(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && matches!(
            u32::from_le_bytes(magic),
            0xa1b2_c3d4 | 0xd4c3_b2a1 | 0xa1b2_3c4d | 0x4d3c_b2a1 | 0x0a0d_0d0a
        )
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn public_corpus_raises_no_alerts() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pcaps");
    if !corpus.is_dir() {
        wirewatch_testkit::skip(format_args!("{} is absent", corpus.display()));
        return;
    }
    let mut files = Vec::new();
    files_under(&corpus, &mut files);
    // Extensions lie: every file that starts like a capture is one.
    files.retain(|p| is_capture(p));
    files.sort();
    let mut failures = Vec::new();
    let mut seen = BTreeSet::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for a in incidents(&analyze(path)) {
            let known = CORPUS_KNOWN.iter().find(|k| k.0 == name && k.1 == a.kind);
            match known {
                Some(k) => {
                    seen.insert((k.0, k.1));
                }
                None => failures.push(format!("{name}: {} alert: {}", a.kind, a.message)),
            }
        }
    }
    for (name, kind, _) in CORPUS_KNOWN {
        if !seen.contains(&(*name, *kind)) {
            failures.push(format!(
                "{name}: {kind} is listed in CORPUS_KNOWN but no longer alerts: remove it"
            ));
        }
    }
    eprintln!(
        "{} public captures analysed, {} alert(s) outside CORPUS_KNOWN",
        files.len(),
        failures.len()
    );
    assert!(!files.is_empty(), "no captures under {}", corpus.display());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
