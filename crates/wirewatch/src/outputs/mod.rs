//! Everything the engine feeds, as peers: each output implements [`Sink`], [`build`] makes
//! them from the validated settings (for `run` and `analyze` alike), and [`Outputs`] hands
//! every event to each of them in one loop. No output wraps another.
//!
//! - [`store`]: the history database (a batch per interval behind the store's bounded queue);
//! - [`logs`]: EVE JSON lines and the alert log (files written on their own threads behind
//!   bounded queues, [`queued`]), alert notifications (a bounded queue on their own thread);
//! - [`terminal`]: the per-interval line and alerts of `run`;
//! - the dashboard's [`crate::dashboard::SnapshotBuilder`];
//! - the [`ReportCollector`] summary the exit report is made from (bounded either way).
//!
//! Outputs that do I/O never block the engine unless the command asks it to (an analysis
//! waits for the database); what they drop is counted where they keep their counters.

pub mod logs;
pub mod queued;
pub mod store;
pub mod terminal;

use crate::pipeline::{Engine, Sink};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use wirewatch_core::{Alert, FlowRecord, Frame, IncidentStatus, IntervalMetrics, Transaction};
use wirewatch_decode::Packet;
use wirewatch_report::ReportCollector;
use wirewatch_store::Store;

/// An output the engine thread owns.
pub type BoxedSink = Box<dyn Sink + Send>;

/// The engine's outputs: the report summary and its peers, each handed every event.
pub struct Outputs {
    /// The summary the exit report is built from.
    pub summary: ReportCollector,
    /// Every other output, in the order they get each event.
    peers: Vec<BoxedSink>,
}

impl Outputs {
    /// Only a summary (tests, benchmarks, the fuzz path).
    pub fn summary_only(summary: ReportCollector) -> Self {
        Outputs {
            summary,
            peers: Vec::new(),
        }
    }

    /// Adds an output after the others.
    pub fn push(&mut self, output: BoxedSink) {
        self.peers.push(output);
    }

    /// How many outputs there are besides the summary.
    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }

    /// Calls `f` on every output: the peers in order, then the summary.
    fn each(&mut self, mut f: impl FnMut(&mut dyn Sink)) {
        for peer in &mut self.peers {
            f(peer.as_mut());
        }
        f(&mut self.summary);
    }

    /// Tells every output about the problems the outputs had (a failed write).
    fn relay_problems(&mut self) {
        let mut problems = Vec::new();
        for peer in &mut self.peers {
            while let Some(p) = peer.take_problem() {
                problems.push(p);
            }
        }
        for p in problems {
            self.each(|o| o.warning(&p));
        }
    }
}

impl Sink for Outputs {
    fn interval(&mut self, metrics: &IntervalMetrics) {
        self.each(|o| o.interval(metrics));
        self.relay_problems();
    }

    fn flow(&mut self, record: &FlowRecord) {
        self.each(|o| o.flow(record));
    }

    fn alert(&mut self, alert: &Alert, status: IncidentStatus) {
        self.each(|o| o.alert(alert, status));
    }

    fn transaction(&mut self, transaction: &Transaction) {
        self.each(|o| o.transaction(transaction));
    }

    fn warning(&mut self, message: &str) {
        self.each(|o| o.warning(message));
    }

    fn error(&mut self, message: &str) {
        self.each(|o| o.error(message));
    }

    fn packet(&mut self, frame: &Frame<'_>, pkt: &Packet) {
        self.each(|o| o.packet(frame, pkt));
    }

    fn after_interval(&mut self, engine: &Engine) {
        self.each(|o| o.after_interval(engine));
    }

    fn source_ended(&mut self, engine: &Engine) {
        self.each(|o| o.source_ended(engine));
        self.relay_problems();
    }

    fn idle(&mut self, engine: &Engine) {
        self.each(|o| o.idle(engine));
    }

    fn persist(&mut self) {
        self.each(|o| o.persist());
        self.relay_problems();
    }

    fn finish(&mut self) {
        self.each(|o| o.finish());
        self.relay_problems();
    }
}

/// How the database output waits for the disk.
#[derive(Clone)]
pub struct StorePlan {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Wait for room in the queue (a file's analysis or replay) instead of dropping.
    pub blocking: bool,
    /// Once set, stop waiting (a run told to stop).
    pub impatient_when: Option<Arc<AtomicBool>>,
}

/// Which outputs a command wants, from its validated settings.
pub struct OutputPlan {
    /// The summary (its bounds depend on the command).
    pub summary: ReportCollector,
    /// The history database.
    pub store: Option<StorePlan>,
    /// The terminal line of `run` (`Some(true)`: print every interval; `Some(false)`: only
    /// warnings and errors).
    pub terminal: Option<terminal::TerminalOutput>,
    /// Alert notifications.
    pub notify: Option<wirewatch_notify::NotifyConfig>,
    /// The dashboard's snapshots.
    pub dashboard: Option<crate::dashboard::SnapshotBuilder>,
    /// EVE JSON lines (appended to this file).
    pub eve: Option<PathBuf>,
    /// The alert log (appended to this file).
    pub alert_log: Option<PathBuf>,
    /// File outputs (EVE, the alert log) wait for their writer thread instead of dropping
    /// what does not fit its queue (a replay or an analysis reproduces its files whole).
    pub files_wait: bool,
}

impl OutputPlan {
    /// A plan with only `summary`; add outputs with struct update syntax or by field.
    pub fn new(summary: ReportCollector) -> Self {
        OutputPlan {
            summary,
            store: None,
            terminal: None,
            notify: None,
            dashboard: None,
            eve: None,
            alert_log: None,
            files_wait: true,
        }
    }
}

/// An output that could not be started, with the file (or setting) concerned.
#[derive(Debug)]
pub struct OutputFailure {
    /// The file concerned (empty when it is not about a file).
    pub path: PathBuf,
    /// What went wrong.
    pub error: anyhow::Error,
}

/// Builds the outputs of a plan. Every output that can start does; those that cannot are
/// returned beside them (`run` refuses to start, `analyze` reports them and goes on).
pub fn build(plan: OutputPlan) -> (Outputs, Vec<OutputFailure>) {
    let mut outputs = Outputs::summary_only(plan.summary);
    let mut failures = Vec::new();
    if let Some(s) = plan.store {
        let mut out = store::StoreOutput::new(Some(s.store), s.blocking);
        if let Some(flag) = s.impatient_when {
            out = out.impatient_when(flag);
        }
        outputs.push(Box::new(out));
    }
    if let Some(t) = plan.terminal {
        outputs.push(Box::new(t));
    }
    let mut notify_stats = None;
    if let Some(config) = &plan.notify {
        match logs::start_notifier(config) {
            Ok(Some(n)) => {
                notify_stats = Some(n.stats_handle());
                outputs.push(Box::new(logs::NotifyOutput(n)));
            }
            Ok(None) => {}
            Err(error) => failures.push(OutputFailure {
                path: PathBuf::new(),
                error,
            }),
        }
    }
    if let Some(d) = plan.dashboard {
        outputs.push(Box::new(d.with_notify(notify_stats)));
    }
    // Files are written on their own threads behind bounded queues.
    let wait = plan.files_wait;
    let mut open = |path: &Path, opened: anyhow::Result<BoxedSink>| {
        let queued = opened.and_then(|o| {
            queued::Queued::start(path.display().to_string(), o, wait)
                .map_err(|e| anyhow::anyhow!("cannot start the writer of {}: {e}", path.display()))
        });
        match queued {
            Ok(o) => outputs.push(Box::new(o)),
            Err(error) => failures.push(OutputFailure {
                path: path.to_path_buf(),
                error,
            }),
        }
    };
    if let Some(path) = &plan.eve {
        open(
            path,
            logs::EveOutput::open(path).map(|o| Box::new(o) as BoxedSink),
        );
    }
    if let Some(path) = &plan.alert_log {
        open(
            path,
            logs::AlertLogOutput::open(path).map(|o| Box::new(o) as BoxedSink),
        );
    }
    (outputs, failures)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Records which calls arrived, under a name; `b` has one problem to tell.
    struct Calls(&'static str, Arc<Mutex<Vec<String>>>, bool);

    impl Sink for Calls {
        fn interval(&mut self, _: &IntervalMetrics) {
            self.1.lock().unwrap().push(format!("{} interval", self.0));
        }
        fn warning(&mut self, m: &str) {
            self.1
                .lock()
                .unwrap()
                .push(format!("{} warning {m}", self.0));
        }
        fn take_problem(&mut self) -> Option<String> {
            if !self.2 {
                return None;
            }
            self.2 = false;
            Some(format!("{} broke", self.0))
        }
    }

    #[test]
    fn every_output_gets_every_event_in_order_and_hears_of_the_others_problems() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut outputs = Outputs::summary_only(ReportCollector::new(10));
        outputs.push(Box::new(Calls("a", log.clone(), false)));
        outputs.push(Box::new(Calls("b", log.clone(), true)));
        outputs.interval(&IntervalMetrics::default());
        assert_eq!(
            *log.lock().unwrap(),
            [
                "a interval",
                "b interval",
                "a warning b broke",
                "b warning b broke"
            ]
        );
        assert_eq!(outputs.summary.intervals.len(), 1);
        assert_eq!(outputs.summary.warnings, ["b broke"]);
    }

    #[test]
    fn an_output_that_cannot_open_is_named_and_the_others_start() {
        let dir = tempfile::tempdir().unwrap();
        let mut plan = OutputPlan::new(ReportCollector::new(10));
        plan.eve = Some(dir.path().join("no/such/dir/eve.json"));
        plan.alert_log = Some(dir.path().join("alerts.jsonl"));
        let (outputs, failures) = build(plan);
        assert_eq!(outputs.peer_count(), 1);
        assert_eq!(failures.len(), 1);
        assert!(
            format!("{:#}", failures[0].error).contains("no/such/dir/eve.json"),
            "{:#}",
            failures[0].error
        );
    }
}
