//! `wirewatch analyze`: offline analysis of capture files.
//!
//! Reads each file through the engine and builds an [`AnalyzeReport`], printed as text or JSON.

use crate::pipeline::{Engine, EngineConfig, Sink, is_unsupported_link};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wirewatch_capture::{CaptureError, FileFormat, FileSource};
use wirewatch_core::{Alert, LinkType};
pub use wirewatch_report::{
    AnalyzeReport, DEFAULT_MAX_REPORT_FLOWS, FileSummary, MAX_NOTICES_PER_FILE, Notice,
    ReportCollector, names, report, text,
};
use wirewatch_store::Store;

/// Settings of one analysis.
#[derive(Clone)]
pub struct AnalyzeOptions {
    /// Engine settings.
    pub engine: EngineConfig,
    /// Where to store what was analysed, if anywhere.
    pub store: Option<Arc<dyn Store>>,
    /// Where to log alert events (JSON lines), if anywhere.
    pub alert_log: Option<PathBuf>,
    /// Where to append EVE JSON lines (alerts and flows), if anywhere.
    pub eve: Option<PathBuf>,
    /// At most this many flows are kept for the report; later ones are counted, not listed.
    pub max_report_flows: usize,
    /// How many top talkers the report lists.
    pub top_n: usize,
    /// Blocklists to check flows against (offline analysis does no AbuseIPDB look-ups).
    pub blocklists: Option<crate::intel::SharedSet>,
    /// Evidence settings and the directory evidence captures go to (none: no captures).
    pub evidence: Option<(wirewatch_evidence::EvidenceSettings, PathBuf)>,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            engine: EngineConfig::default(),
            store: None,
            alert_log: None,
            eve: None,
            max_report_flows: DEFAULT_MAX_REPORT_FLOWS,
            top_n: 10,
            blocklists: None,
            evidence: None,
        }
    }
}

/// Progress callback: bytes read so far and the file size, per file.
pub trait Progress {
    /// Called now and then while a file is read.
    fn update(&mut self, path: &Path, bytes_read: u64, file_size: Option<u64>);
    /// Called when a file is done.
    fn finish_file(&mut self, path: &Path);
}

/// A progress callback that does nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn update(&mut self, _: &Path, _: u64, _: Option<u64>) {}
    fn finish_file(&mut self, _: &Path) {}
}

/// How many frames between progress callbacks.
const PROGRESS_EVERY: u64 = 1 << 16;
/// At most this many distinct undecodable link types are reported per file.
const MAX_LINKTYPE_NOTICES: usize = 16;
/// Analyses the files in order as one continuous run. Problems with a file (missing, not a
/// capture, truncated, ...) become `errors` in the report; frames read before a problem
/// count. Returns the report (also when every file failed).
pub fn analyze_files(
    paths: &[PathBuf],
    options: &AnalyzeOptions,
    progress: &mut dyn Progress,
) -> AnalyzeReport {
    let mut engine = Engine::new(&options.engine);
    if let Some(set) = &options.blocklists {
        engine.set_intel(crate::intel::EngineIntel::new(set.clone(), None));
    }
    let collector = ReportCollector::new(options.max_report_flows);
    let mut errors = Vec::new();
    if let Err(e) = crate::model::load_flow_model(&engine, &options.engine.detect) {
        errors.push(Notice {
            path: options
                .engine
                .detect
                .ml_threat
                .model
                .clone()
                .unwrap_or_default(),
            message: format!("{e:#}"),
        });
    }
    if let Some((settings, dir)) = &options.evidence {
        // Analysis waits for the writer: every alert's evidence is written whole.
        match wirewatch_evidence::start_recorder(
            settings,
            Some(dir.clone()),
            Default::default(),
            true,
        ) {
            Ok(recorder) => engine.set_evidence(recorder),
            Err(e) => errors.push(Notice {
                path: dir.clone(),
                message: format!("{e:#}"),
            }),
        }
    }
    let (mut sink, failures) = crate::outputs::build(crate::outputs::OutputPlan {
        // Offline analysis waits for the disk: everything analysed is stored.
        store: options
            .store
            .clone()
            .map(|store| crate::outputs::StorePlan {
                store,
                blocking: true,
                impatient_when: None,
            }),
        eve: options.eve.clone(),
        alert_log: options.alert_log.clone(),
        ..crate::outputs::OutputPlan::new(collector)
    });
    errors.extend(failures.into_iter().map(|f| Notice {
        path: f.path,
        message: format!("{:#}", f.error),
    }));
    let mut files = Vec::new();
    let mut warnings = Vec::new();
    for path in paths {
        tracing::debug!(file = %path.display(), "analysing");
        let far_before = engine.timestamps_far_ahead();
        let summary = analyze_one(
            path,
            &mut engine,
            &mut sink,
            progress,
            &mut errors,
            &mut warnings,
        );
        let far = engine.timestamps_far_ahead() - far_before;
        if far > 0 {
            warnings.push(Notice {
                path: path.to_path_buf(),
                message: format!(
                    "{far} packet{} stamped more than a day ahead of the packets around {} (or past the year 2262): analysed at the time of the packet before",
                    if far == 1 { "" } else { "s" },
                    if far == 1 { "it" } else { "them" }
                ),
            });
        }
        progress.finish_file(path);
        files.push(summary);
    }
    engine.finish(&mut sink);
    sink.finish();
    let store = options.store.clone();
    let mut collector = sink.summary;
    let transactions = std::mem::take(&mut collector.transactions);
    let alerts: Vec<Alert> = collector.alerts.into_values().collect();
    // What the engine said along the way (failed evidence captures, ...).
    warnings.extend(collector.warnings.drain(..).map(|message| Notice {
        path: PathBuf::new(),
        message,
    }));
    let mut report = report::build(
        &engine,
        collector.intervals.into(),
        collector.flows.into(),
        collector.flows_omitted,
        files,
        errors,
        warnings,
        options.top_n,
        &collector.app_totals,
        &collector.tcp_hosts,
    );
    report.alerts = alerts;
    report.alerts_omitted = collector.alerts_omitted;
    transactions.fill(&mut report);
    if let Some(store) = store {
        if let Err(e) = store.flush(STORE_FLUSH_WAIT) {
            report.errors.push(report::NoticeJson {
                file: PathBuf::new(),
                message: format!("the database did not finish writing: {e}"),
            });
        }
        report.store = Some(store.stats());
        if let Some(e) = store.last_error() {
            report.errors.push(report::NoticeJson {
                file: PathBuf::new(),
                message: format!("database write failed: {e}"),
            });
        }
    }
    report
}

/// How long the end of an analysis waits for the database to catch up.
pub const STORE_FLUSH_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

fn analyze_one(
    path: &Path,
    engine: &mut Engine,
    sink: &mut impl Sink,
    progress: &mut dyn Progress,
    errors: &mut Vec<Notice>,
    warnings: &mut Vec<Notice>,
) -> FileSummary {
    let mut summary = FileSummary {
        path: path.to_path_buf(),
        format: None,
        packets: 0,
        error: None,
    };
    let mut source = match FileSource::open_or_stdin(path) {
        Ok(s) => s,
        Err(e) => {
            errors.push(notice(path, &e));
            summary.error = Some(e.to_string());
            return summary;
        }
    };
    summary.format = Some(format_name(source.format()));
    let mut unsupported: Vec<(LinkType, u64, u64)> = Vec::new();
    let mut file_warnings = 0usize;
    let mut packets = 0u64;
    loop {
        let frame = match source.next_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(e) => {
                errors.push(notice(path, &e));
                summary.error = Some(e.to_string());
                break;
            }
        };
        packets += 1;
        let linktype = frame.linktype;
        let pkt = engine.process(&frame, sink);
        if is_unsupported_link(&pkt) {
            if let Some(entry) = unsupported.iter_mut().find(|(lt, _, _)| *lt == linktype) {
                entry.2 += 1;
            } else if unsupported.len() < MAX_LINKTYPE_NOTICES {
                unsupported.push((linktype, packets, 1));
            }
        }
        if packets.is_multiple_of(PROGRESS_EVERY) {
            progress.update(path, source.bytes_read(), source.file_size());
            collect_warnings(&mut source, path, warnings, &mut file_warnings);
        }
    }
    collect_warnings(&mut source, path, warnings, &mut file_warnings);
    let dropped =
        source.warnings_dropped() + file_warnings.saturating_sub(MAX_NOTICES_PER_FILE) as u64;
    if dropped > 0 {
        warnings.push(Notice {
            path: path.to_path_buf(),
            message: format!("{dropped} more warnings not shown"),
        });
    }
    for (lt, first, count) in unsupported {
        warnings.push(Notice {
            path: path.to_path_buf(),
            message: format!(
                "link type {} is not decoded (first at packet {first}); {count} frames counted \
                 as undecodable non-IP",
                lt.0
            ),
        });
    }
    summary.packets = packets;
    summary
}

fn collect_warnings(
    source: &mut FileSource,
    path: &Path,
    warnings: &mut Vec<Notice>,
    seen: &mut usize,
) {
    for w in source.take_warnings() {
        if *seen < MAX_NOTICES_PER_FILE {
            warnings.push(Notice {
                path: path.to_path_buf(),
                message: w.to_string(),
            });
        }
        *seen += 1;
    }
}

fn notice(path: &Path, e: &CaptureError) -> Notice {
    // The error's message already names the file; keep the path for grouping.
    Notice {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn format_name(f: FileFormat) -> String {
    match f {
        FileFormat::Pcap {
            nanosecond,
            big_endian,
        } => format!(
            "pcap ({}, {})",
            if nanosecond { "ns" } else { "µs" },
            if big_endian {
                "big-endian"
            } else {
                "little-endian"
            }
        ),
        FileFormat::Pcapng => "pcapng".to_string(),
    }
}
