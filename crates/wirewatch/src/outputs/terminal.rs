//! `run`'s terminal: a line per interval (when stdout is a terminal or `--lines`), each alert
//! as it opens, and every warning and error on stderr.

use crate::line::interval_line;
use crate::pipeline::Sink;
use std::io::Write;
use std::sync::Arc;
use wirewatch_core::{Alert, IncidentStatus, IntervalMetrics};

/// Prints the run's progress.
pub struct TerminalOutput {
    /// Print intervals and alerts on stdout (warnings and errors always go to stderr).
    lines: bool,
    /// Alerts opened so far.
    alerts: u64,
    /// The history database, to show its drops and errors on the line.
    store: Option<Arc<dyn wirewatch_store::Store>>,
}

impl TerminalOutput {
    /// Prints intervals and alerts when `lines`; shows the trouble of `store` on each line.
    pub fn new(lines: bool, store: Option<Arc<dyn wirewatch_store::Store>>) -> Self {
        TerminalOutput {
            lines,
            alerts: 0,
            store,
        }
    }

    /// The database's trouble so far, for the interval line (empty when there is none).
    fn store_note(&self) -> String {
        let Some(store) = &self.store else {
            return String::new();
        };
        let s = store.stats();
        if s.batches_dropped == 0 && s.write_errors == 0 {
            return String::new();
        }
        format!(
            "  db: {} batches dropped, {} write errors",
            s.batches_dropped, s.write_errors
        )
    }
}

impl Sink for TerminalOutput {
    fn interval(&mut self, metrics: &IntervalMetrics) {
        if self.lines {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(
                out,
                "{}  alerts {}{}",
                interval_line(metrics),
                self.alerts,
                self.store_note()
            );
            let _ = out.flush();
        }
    }

    fn alert(&mut self, alert: &Alert, status: IncidentStatus) {
        if status != IncidentStatus::Opened {
            return;
        }
        self.alerts += 1;
        if self.lines {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(
                out,
                "ALERT [{}] {}: {}\n      action: {}",
                alert.severity.name(),
                alert.kind,
                alert.message,
                alert.recommendation
            );
            if let Some(path) = wirewatch_evidence::evidence_path(alert) {
                let _ = writeln!(out, "      evidence: {path}");
            }
            let _ = out.flush();
        }
    }

    fn warning(&mut self, message: &str) {
        eprintln!("warning: {message}");
    }

    fn error(&mut self, message: &str) {
        eprintln!("error: {message}");
    }
}
