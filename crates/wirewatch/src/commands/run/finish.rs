//! The end of a run: the database gets what is left (for at most a couple of seconds when told
//! to stop), then the report.

use super::SHUTDOWN_FLUSH_WAIT;
use crate::analyze::{AnalyzeReport, STORE_FLUSH_WAIT};
use anyhow::Context;
use std::io::Write;
use std::sync::Arc;
use wirewatch_store::{Store, StoreStats};

/// Lets the database write what is queued: everything when the run ended on its own (a
/// replay's end, `--duration`), at most [`SHUTDOWN_FLUSH_WAIT`] when it was told to stop (the
/// rest is abandoned, counted and said). Returns its counters.
pub(super) fn close_history(store: &Arc<dyn Store>, signalled: bool) -> StoreStats {
    let wait = if signalled {
        SHUTDOWN_FLUSH_WAIT
    } else {
        STORE_FLUSH_WAIT
    };
    if let Err(e) = store.flush(wait) {
        let left = store.stats();
        // The writer drops what is left instead of writing it; the process does not wait for
        // the batch it may be stuck on (SQLite rolls an unfinished transaction back, the file
        // stays whole).
        store.abandon();
        std::mem::forget(store.clone());
        eprintln!(
            "warning: the database did not catch up ({e}): {} batches (about {} KiB) still \
             queued are not written",
            left.queued,
            left.queued_bytes.div_ceil(1024)
        );
    }
    let stats = store.stats();
    if stats.batches_dropped > 0 || stats.write_errors > 0 {
        eprintln!(
            "warning: database: {} batches ({} records) dropped, {} write errors{}",
            stats.batches_dropped,
            stats.records_dropped,
            stats.write_errors,
            store
                .last_error()
                .map(|e| format!("; last: {e}"))
                .unwrap_or_default()
        );
    }
    stats
}

/// The exit report: the whole of it as JSON on stdout (`--json`), or one line on stderr.
pub(super) fn print_report(report: &AnalyzeReport, json: bool) -> anyhow::Result<()> {
    if json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, report).context("cannot write the report")?;
        writeln!(out).context("cannot write the report")?;
    } else {
        eprintln!(
            "wirewatch: {} packets, {} bytes, {} flows, {} alerts; drops: kernel {}, interface {}, queue {}",
            report.packets,
            report.bytes,
            report.flow_table.created,
            report.alerts.len(),
            report.drops.kernel,
            report.drops.interface,
            report.drops.queue
        );
    }
    Ok(())
}
