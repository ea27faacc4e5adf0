//! Outputs that write alerts and flows for other tools: EVE JSON lines, the alert log, and
//! alert notifications. The formats are `wirewatch-eve`'s and `wirewatch-notify`'s; here
//! they are fed.

use crate::pipeline::{Engine, Sink};
use anyhow::Context;
use std::fs::File;
use std::path::Path;
use wirewatch_core::{Alert, FlowRecord, IncidentStatus, IntervalMetrics, Transaction};
use wirewatch_eve::{AlertLog, EveWriter};

/// Finished flows and alerts as EVE lines. The writer buffers and flushes about once per
/// second of packet time, when a source ends and at the end of the run; the first write error
/// of a failing streak is reported (as a problem the other outputs show).
pub struct EveOutput {
    writer: EveWriter<File>,
    /// What the output is called in warnings (its path).
    name: String,
}

impl EveOutput {
    /// Appends to the file at `path`, creating it when missing.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        Ok(EveOutput {
            writer: wirewatch_eve::open(path)?,
            name: path.display().to_string(),
        })
    }

    /// Uses `seed` for Community IDs (default 0; it must match the other tools' seed).
    pub fn with_community_id_seed(mut self, seed: u16) -> Self {
        self.writer = self.writer.with_community_id_seed(seed);
        self
    }
}

impl Sink for EveOutput {
    fn interval(&mut self, metrics: &IntervalMetrics) {
        self.writer.tick(metrics.end_ts());
    }

    fn flow(&mut self, record: &FlowRecord) {
        self.writer.flow(record);
    }

    fn alert(&mut self, alert: &Alert, status: IncidentStatus) {
        self.writer.alert(alert, status);
    }

    fn transaction(&mut self, transaction: &Transaction) {
        self.writer.transaction(transaction);
    }

    fn source_ended(&mut self, _engine: &Engine) {
        self.writer.flush();
    }

    fn persist(&mut self) {
        self.writer.flush();
    }

    fn finish(&mut self) {
        self.writer.flush();
    }

    fn take_problem(&mut self) -> Option<String> {
        let e = self.writer.take_error()?;
        Some(format!("EVE output {}: write failed: {e}", self.name))
    }
}

/// Alert events as JSON lines (opened and ended); failed writes are counted and said.
pub struct AlertLogOutput {
    log: AlertLog,
    /// What the output is called in warnings (its path).
    name: String,
    /// Write errors already said.
    errors_said: u64,
}

impl AlertLogOutput {
    /// Appends to the file at `path`, creating it when missing.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        Ok(AlertLogOutput {
            log: AlertLog::open(path)?,
            name: path.display().to_string(),
            errors_said: 0,
        })
    }
}

impl Sink for AlertLogOutput {
    fn alert(&mut self, alert: &Alert, status: IncidentStatus) {
        self.log.record(alert, status == IncidentStatus::Ended);
    }

    fn take_problem(&mut self) -> Option<String> {
        let new = self.log.errors - self.errors_said;
        if new == 0 {
            return None;
        }
        self.errors_said = self.log.errors;
        Some(format!(
            "alert log {}: {new} lines not written ({} in all)",
            self.name, self.log.errors
        ))
    }
}

/// Alert notifications (webhook, syslog, e-mail): queued for the notifier's thread, never
/// waiting (a full queue or the rate limit drops and counts).
pub struct NotifyOutput(pub wirewatch_notify::Notifier);

impl Sink for NotifyOutput {
    fn alert(&mut self, alert: &Alert, status: IncidentStatus) {
        self.0.notify(alert, status == IncidentStatus::Opened);
    }
}

/// Starts the notifier when a channel is configured.
pub fn start_notifier(
    config: &wirewatch_notify::NotifyConfig,
) -> anyhow::Result<Option<wirewatch_notify::Notifier>> {
    if config.webhook.is_none() && config.syslog.is_none() && config.email.is_none() {
        return Ok(None);
    }
    let n = wirewatch_notify::Notifier::start(config.clone())
        .context("cannot start the notifications")?;
    eprintln!(
        "wirewatch: notifying alerts of severity {} and above",
        config.min_severity.name()
    );
    Ok(Some(n))
}
