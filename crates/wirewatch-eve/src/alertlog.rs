//! The alert log: one JSON line per alert event, for tail -f, log shippers and grep.
//!
//! A line is written when an incident opens and when it ends (with its final numbers), so a
//! five-minute attack is two lines, not three hundred. `event` says which; `kind` tells
//! traffic anomalies from threat-intelligence hits (`threat_intel*`).

use serde::Serialize;
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use wirewatch_core::Alert;

/// Open incidents remembered to tell an update from a new alert; beyond this the oldest ids
/// are forgotten (an update of a forgotten one is logged as opened again, never lost).
const MAX_TRACKED: usize = 100_000;

/// One line of the log.
#[derive(Serialize)]
struct Line<'a> {
    event: &'a str,
    #[serde(flatten)]
    alert: &'a Alert,
}

/// Appends alert events to a file.
pub struct AlertLog {
    out: BufWriter<File>,
    open: BTreeSet<u64>,
    /// Write errors so far (the log never stops the monitor).
    pub errors: u64,
}

impl AlertLog {
    /// Opens (appending) or creates the log.
    pub fn open(path: &Path) -> Result<AlertLog, crate::OpenError> {
        let file = crate::open_append(path, "alert log")?;
        Ok(AlertLog {
            out: BufWriter::new(file),
            open: BTreeSet::new(),
            errors: 0,
        })
    }

    /// Records an alert in its current state: logs it when it is new or when it has ended.
    pub fn record(&mut self, alert: &Alert, ended: bool) {
        let event = if ended {
            self.open.remove(&alert.id);
            "ended"
        } else if self.open.insert(alert.id) {
            if self.open.len() > MAX_TRACKED {
                self.open.pop_first();
            }
            "opened"
        } else {
            return;
        };
        let line = Line { event, alert };
        let ok = serde_json::to_writer(&mut self.out, &line).is_ok()
            && self.out.write_all(b"\n").is_ok()
            && self.out.flush().is_ok();
        if !ok {
            self.errors += 1;
        }
    }
}
