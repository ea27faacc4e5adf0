//! An output that writes files on its own thread, behind a queue bounded in events and in
//! bytes, so a slow disk never holds up the engine: live capture drops (and counts) what does
//! not fit, a replay or an analysis waits (it must reproduce its file whole).

use crate::pipeline::{Engine, Sink};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use wirewatch_core::{Alert, FlowRecord, IncidentStatus, IntervalMetrics, Transaction};
use wirewatch_store::Record;

/// Events waiting for the writer thread, at most.
pub const QUEUE_EVENTS: usize = 4_096;
/// Bytes of events (estimated) waiting for the writer thread, at most.
pub const QUEUE_BYTES: u64 = 16 << 20;
/// Problems the writer thread keeps for the engine to show (the rest are counted).
const MAX_PROBLEMS: usize = 16;

/// What travels to the writer thread.
enum Event {
    /// An interval, a flow, an alert (with its status; ignored for the others) or a
    /// transaction.
    Record(Box<Record>, IncidentStatus),
    /// Write out what is buffered.
    Flush,
}

/// State shared with the writer thread.
#[derive(Default)]
struct Shared {
    /// Estimated bytes of the events in the queue.
    queued_bytes: AtomicU64,
    /// Problems the inner output reported, to be taken by the engine thread.
    problems: Mutex<Vec<String>>,
    /// Problems not kept because `problems` was full.
    problems_dropped: AtomicU64,
}

/// Runs `inner` on its own thread; the engine thread only queues.
pub struct Queued {
    /// What the output is called in messages.
    name: String,
    /// Each event with its estimated bytes (what it adds to `queued_bytes`).
    tx: Option<SyncSender<(Event, u64)>>,
    handle: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
    /// Wait for room instead of dropping.
    blocking: bool,
    /// Events dropped because the queue was full (live capture only).
    dropped: u64,
    /// `dropped` when a problem last said so.
    dropped_said: u64,
}

impl Queued {
    /// Starts the writer thread for `inner`, named `name` in messages. `blocking`: wait for
    /// room (replays, analysis) instead of dropping (live capture).
    pub fn start(
        name: impl Into<String>,
        inner: Box<dyn Sink + Send>,
        blocking: bool,
    ) -> std::io::Result<Self> {
        let name = name.into();
        let (tx, rx) = sync_channel(QUEUE_EVENTS);
        let shared = Arc::new(Shared::default());
        let s = shared.clone();
        let handle = std::thread::Builder::new()
            .name("output-writer".into())
            .spawn(move || write_loop(&rx, inner, &s))?;
        Ok(Queued {
            name,
            tx: Some(tx),
            handle: Some(handle),
            shared,
            blocking,
            dropped: 0,
            dropped_said: 0,
        })
    }

    /// Events dropped so far because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    fn send(&mut self, event: Event) {
        let Some(tx) = &self.tx else {
            return;
        };
        let bytes = event_bytes(&event);
        if self.blocking {
            // Room in bytes first (the channel bounds the count and blocks by itself).
            while self.shared.queued_bytes.load(Ordering::Relaxed) + bytes > QUEUE_BYTES
                && self.shared.queued_bytes.load(Ordering::Relaxed) > 0
            {
                std::thread::sleep(Duration::from_millis(1));
            }
            self.shared.queued_bytes.fetch_add(bytes, Ordering::Relaxed);
            if tx.send((event, bytes)).is_err() {
                self.shared.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
            }
            return;
        }
        if self.shared.queued_bytes.load(Ordering::Relaxed) + bytes > QUEUE_BYTES {
            self.dropped += 1;
            return;
        }
        self.shared.queued_bytes.fetch_add(bytes, Ordering::Relaxed);
        match tx.try_send((event, bytes)) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.shared.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
                self.dropped += 1;
            }
        }
    }

    fn record(&mut self, record: Record, status: IncidentStatus) {
        self.send(Event::Record(Box::new(record), status));
    }

    /// Closes the queue and waits for the writer to write everything out.
    fn close(&mut self) {
        self.tx = None;
        if let Some(h) = self.handle.take()
            && h.join().is_err()
        {
            push_problem(
                &self.shared,
                format!("{}: the writer thread failed", self.name),
            );
        }
    }
}

impl Sink for Queued {
    fn interval(&mut self, metrics: &IntervalMetrics) {
        self.record(Record::Interval(metrics.clone()), IncidentStatus::Updated);
    }

    fn flow(&mut self, record: &FlowRecord) {
        self.record(Record::Flow(record.clone()), IncidentStatus::Updated);
    }

    fn alert(&mut self, alert: &Alert, status: IncidentStatus) {
        self.record(Record::Alert(alert.clone()), status);
    }

    fn transaction(&mut self, transaction: &Transaction) {
        self.record(
            Record::Transaction(transaction.clone()),
            IncidentStatus::Updated,
        );
    }

    fn source_ended(&mut self, _engine: &Engine) {
        self.send(Event::Flush);
    }

    fn persist(&mut self) {
        self.send(Event::Flush);
    }

    fn finish(&mut self) {
        self.close();
    }

    fn take_problem(&mut self) -> Option<String> {
        if self.dropped > self.dropped_said {
            let new = self.dropped - self.dropped_said;
            self.dropped_said = self.dropped;
            return Some(format!(
                "{}: the disk did not keep up, {new} events dropped ({} in all)",
                self.name, self.dropped
            ));
        }
        let mut problems = self.shared.problems.lock().ok()?;
        if problems.is_empty() {
            let lost = self.shared.problems_dropped.swap(0, Ordering::Relaxed);
            return (lost > 0).then(|| format!("{}: {lost} more problems", self.name));
        }
        Some(problems.remove(0))
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        self.close();
    }
}

/// Estimated bytes an event holds in the queue.
fn event_bytes(event: &Event) -> u64 {
    match event {
        Event::Record(r, _) => r.approx_bytes(),
        Event::Flush => 0,
    }
}

/// Keeps a problem for the engine thread (counts it when too many wait).
fn push_problem(shared: &Shared, problem: String) {
    match shared.problems.lock() {
        Ok(mut p) if p.len() < MAX_PROBLEMS => p.push(problem),
        _ => {
            shared.problems_dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The writer thread: hands each event to `inner` until the queue closes, then finishes it.
fn write_loop(rx: &Receiver<(Event, u64)>, mut inner: Box<dyn Sink + Send>, shared: &Shared) {
    for (event, bytes) in rx {
        match event {
            Event::Record(record, status) => match &*record {
                Record::Interval(m) => inner.interval(m),
                Record::Flow(f) => inner.flow(f),
                Record::Alert(a) => inner.alert(a, status),
                Record::Transaction(t) => inner.transaction(t),
            },
            Event::Flush => inner.persist(),
        }
        shared.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
        while let Some(p) = inner.take_problem() {
            push_problem(shared, p);
        }
    }
    inner.finish();
    while let Some(p) = inner.take_problem() {
        push_problem(shared, p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::Sender;

    /// Counts what arrives; blocks each event until the test lets it through.
    struct Gate {
        seen: Arc<AtomicU64>,
        gate: Arc<Mutex<Receiver<()>>>,
    }

    impl Sink for Gate {
        fn interval(&mut self, _: &IntervalMetrics) {
            if let Ok(g) = self.gate.lock() {
                let _ = g.recv();
            }
            self.seen.fetch_add(1, Ordering::Relaxed);
        }
        fn finish(&mut self) {
            self.seen.fetch_add(1_000_000, Ordering::Relaxed);
        }
    }

    fn gated() -> (Box<dyn Sink + Send>, Arc<AtomicU64>, Sender<()>) {
        let (open, gate) = std::sync::mpsc::channel();
        let seen = Arc::new(AtomicU64::new(0));
        let sink = Gate {
            seen: seen.clone(),
            gate: Arc::new(Mutex::new(gate)),
        };
        (Box::new(sink), seen, open)
    }

    #[test]
    fn live_drops_and_counts_what_does_not_fit_and_says_so() {
        let (sink, seen, open) = gated();
        let mut q = Queued::start("test output", sink, false).unwrap();
        let m = IntervalMetrics::default();
        let sent = QUEUE_EVENTS as u64 + 100;
        for _ in 0..sent {
            q.interval(&m);
        }
        // The writer holds one event, the queue the next QUEUE_EVENTS; the rest are dropped.
        assert!(q.dropped() >= 99, "dropped {}", q.dropped());
        let problem = q.take_problem().unwrap();
        assert!(
            problem.starts_with("test output: the disk did not keep up"),
            "{problem}"
        );
        assert_eq!(q.take_problem(), None);
        for _ in 0..sent {
            let _ = open.send(());
        }
        q.finish();
        assert_eq!(
            seen.load(Ordering::Relaxed),
            1_000_000 + sent - q.dropped(),
            "everything queued was written, then the output finished"
        );
    }

    #[test]
    fn a_replay_waits_and_loses_nothing() {
        let (sink, seen, open) = gated();
        let sent = QUEUE_EVENTS as u64 * 2;
        let opener = std::thread::spawn(move || {
            for _ in 0..sent {
                let _ = open.send(());
            }
        });
        let mut q = Queued::start("test output", sink, true).unwrap();
        for _ in 0..sent {
            q.interval(&IntervalMetrics::default());
        }
        q.finish();
        opener.join().unwrap();
        assert_eq!(q.dropped(), 0);
        assert_eq!(seen.load(Ordering::Relaxed), 1_000_000 + sent);
    }
}
