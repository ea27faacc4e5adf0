//! Fuzzing the whole offline path: capture file bytes → reader → engine → report.
//!
//! [`analyze_capture_bytes`] is a plain function so that the cargo-fuzz target `capture`
//! (`fuzz/fuzz_targets/capture.rs`) and the stable property tests
//! (`crates/wirewatch/tests/fuzz_path.rs`) run exactly the same code. It mirrors what
//! `wirewatch analyze` does with one file (see [`crate::analyze`]): every frame of the capture,
//! timestamps included, goes through a fresh [`Engine`] with the default configuration
//! (detection on), then the run is finished and its report built and rendered as text and JSON.
//! Nothing here touches the disk, the network or the wall clock.

use crate::analyze::{FileSummary, ReportCollector, text};
use crate::pipeline::{Engine, EngineConfig, is_unsupported_link};
use std::io::Cursor;
use std::path::PathBuf;
use wirewatch_capture::FileSource;

/// How many flows the collector keeps for the report (the rest are counted).
const MAX_FLOWS: usize = 1000;

/// How many frames between collections of the reader's warnings (as the analysis does).
const WARNINGS_EVERY: u64 = 1 << 16;

/// How many top talkers the report lists.
const TOP_N: usize = 10;

/// What one run of [`analyze_capture_bytes`] saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FuzzOutcome {
    /// Whether the bytes had a readable capture header (pcap or pcapng).
    pub opened: bool,
    /// Frames the reader delivered (each went through the engine).
    pub frames: u64,
    /// Whether reading stopped on an error (opening failed, or a record was damaged) rather
    /// than at the clean end of the capture.
    pub error: bool,
    /// Warnings the reader reported (those it dropped beyond its queue included).
    pub warnings: u64,
    /// Frames whose link type the engine does not decode.
    pub unsupported_link: u64,
    /// Frames the engine analysed at an earlier time because their timestamp was too far
    /// ahead to believe.
    pub timestamps_far_ahead: u64,
    /// Intervals the engine closed.
    pub intervals: usize,
    /// Finished flows kept for the report.
    pub flows: usize,
    /// Alerts in the report.
    pub alerts: usize,
}

/// Reads `data` as a capture file (pcap or pcapng) and analyses it as `wirewatch analyze`
/// would: every frame through a fresh engine with default settings (detection on), then the
/// end of the run, the report, and its text and JSON renderings.
///
/// Never panics, whatever the bytes; it is the fuzz target `capture` and the stable property
/// tests' entry point.
pub fn analyze_capture_bytes(data: &[u8]) -> FuzzOutcome {
    let mut outcome = FuzzOutcome::default();
    let path = PathBuf::from("fuzz.pcap");
    let mut engine = Engine::new(&EngineConfig::default());
    let mut sink = ReportCollector::new(MAX_FLOWS);
    let mut summary = FileSummary {
        path: path.clone(),
        format: None,
        packets: 0,
        error: None,
    };
    match FileSource::from_reader(path, Box::new(Cursor::new(data.to_vec()))) {
        Ok(mut source) => {
            outcome.opened = true;
            summary.format = Some(format!("{:?}", source.format()));
            loop {
                let frame = match source.next_frame() {
                    Ok(Some(frame)) => frame,
                    Ok(None) => break,
                    Err(e) => {
                        outcome.error = true;
                        summary.error = Some(e.to_string());
                        sink.errors.push(e.to_string());
                        break;
                    }
                };
                outcome.frames += 1;
                let pkt = engine.process(&frame, &mut sink);
                if is_unsupported_link(&pkt) {
                    outcome.unsupported_link += 1;
                }
                if outcome.frames.is_multiple_of(WARNINGS_EVERY) {
                    outcome.warnings += take_warnings(&mut source, &mut sink);
                }
            }
            outcome.warnings += take_warnings(&mut source, &mut sink);
            outcome.warnings += source.warnings_dropped();
        }
        Err(e) => {
            outcome.error = true;
            summary.error = Some(e.to_string());
            sink.errors.push(e.to_string());
        }
    }
    summary.packets = outcome.frames;
    engine.finish(&mut sink);
    outcome.timestamps_far_ahead = engine.timestamps_far_ahead();
    outcome.intervals = sink.intervals.len();
    outcome.flows = sink.flows.len();
    let report = sink.into_report(&engine, vec![summary], TOP_N);
    outcome.alerts = report.alerts.len();
    std::hint::black_box(text::render(&report));
    // Serialising plain data cannot fail; a failure would only mean nothing to render.
    std::hint::black_box(serde_json::to_vec(&report).ok());
    outcome
}

/// Moves the reader's pending warnings to the sink, as the analysis reports them; returns how
/// many there were.
fn take_warnings(source: &mut FileSource, sink: &mut ReportCollector) -> u64 {
    let mut n = 0u64;
    for w in source.take_warnings() {
        n += 1;
        crate::pipeline::Sink::warning(sink, &w.to_string());
    }
    n
}
