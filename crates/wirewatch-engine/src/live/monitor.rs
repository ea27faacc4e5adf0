//! The monitor: an engine thread fed by one source at a time, and the run-time control API
//! (start, stop, switch interface, change filter) that the CLI and the web layer call.
//!
//! Switching or stopping a source never touches the engine's state: flows, intervals and totals
//! carry on. A new source is opened before the old one is stopped, so a bad interface or
//! filter is refused with libpcap's message and capture continues as before.

use super::batch::BatchPool;
use super::source::{
    Backpressure, LiveCommand, Outlet, PacketBudget, SourceEvent, SourceId, SourceThread, Speed,
    spawn_demo, spawn_live, spawn_replay,
};
use crate::pipeline::{Engine, EngineConfig, Sink};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;
use wirewatch_capture::live::{LiveCapture, LiveConfig, check_filter};
use wirewatch_capture::synth::{Scenario, ScenarioConfig};
use wirewatch_capture::{CaptureError, FileSource};
use wirewatch_core::{DropCounts, LinkType};

/// Batches the queue to the engine holds. At up to 256 frames per batch this absorbs about
/// 16,000 packets of engine hiccup before a live capture starts dropping (and counting).
pub const QUEUE_BATCHES: usize = 64;

/// How long `set_filter` waits for the capture thread (which checks for commands at least
/// once per read timeout).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(3);

/// What to monitor.
#[derive(Debug, Clone)]
pub enum SourceSpec {
    /// A network interface, through libpcap.
    Live(LiveConfig),
    /// A capture file pushed through the live pipeline at its recorded pace (or faster).
    Replay {
        /// The file.
        path: PathBuf,
        /// The pace.
        speed: Speed,
    },
    /// The looping demo scenario, in real time.
    Demo {
        /// Scenario seed.
        seed: u64,
    },
}

/// A refused control request.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The capture layer refused (bad interface, bad filter, no permission, unreadable file).
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// The request needs a live capture and none is running.
    #[error("no live capture is running (start one on an interface first)")]
    NotLive,
    /// The capture thread did not answer.
    #[error("the capture thread did not answer; the filter is unchanged")]
    NoAnswer,
    /// A thread could not be started.
    #[error("cannot start a thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// What the monitor is doing, for status displays.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct MonitorStatus {
    /// Whether a source is running.
    pub running: bool,
    /// A description of the current (or last) source.
    pub source: Option<String>,
    /// The interface, for live capture.
    pub interface: Option<String>,
    /// The BPF filter in force, for live capture.
    pub filter: Option<String>,
    /// Frames the engine has processed.
    pub packets: u64,
    /// Why the last source ended on its own, if it did.
    pub last_error: Option<String>,
}

/// The live capture in force (kept to switch interface or filter).
#[derive(Debug, Clone)]
struct LiveState {
    config: LiveConfig,
    linktype: LinkType,
}

#[derive(Default)]
struct Control {
    current: Option<SourceThread>,
    description: Option<String>,
    live: Option<LiveState>,
}

/// Shared between the engine thread and the control side.
#[derive(Debug, Default)]
struct Shared {
    packets: AtomicU64,
    current_source: AtomicU64,
    /// The last source that ended on its own, and why.
    ended: Mutex<Option<(SourceId, Option<String>)>>,
}

/// The monitor: an engine thread plus the source feeding it.
pub struct Monitor<S: Sink + Send + 'static> {
    tx: Option<SyncSender<SourceEvent>>,
    pool: BatchPool,
    control: Mutex<Control>,
    next_id: AtomicU64,
    shared: Arc<Shared>,
    engine: Option<JoinHandle<(Engine, S)>>,
    /// The run's packet count (`run -c`), shared by every source started.
    budget: Option<PacketBudget>,
}

impl<S: Sink + Send + 'static> Monitor<S> {
    /// Starts the engine thread, delivering results to `sink`. No source runs yet.
    pub fn new(config: &EngineConfig, sink: S) -> Result<Self, ControlError> {
        Self::with_engine(Engine::new(config), sink)
    }

    /// Starts the engine thread on a prepared `engine` (e.g. with threat intelligence set).
    pub fn with_engine(engine: Engine, sink: S) -> Result<Self, ControlError> {
        let (tx, rx) = sync_channel(QUEUE_BATCHES);
        let pool = BatchPool::default();
        let shared = Arc::new(Shared::default());
        let (p, sh) = (pool.clone(), shared.clone());
        let handle = std::thread::Builder::new()
            .name("engine".into())
            .spawn(move || engine_loop(engine, sink, &rx, &p, &sh))?;
        Ok(Monitor {
            tx: Some(tx),
            pool,
            control: Mutex::new(Control::default()),
            next_id: AtomicU64::new(1),
            shared,
            engine: Some(handle),
            budget: None,
        })
    }

    /// Stops after `limit` frames in all (`run -c N`): the source that takes the last one ends
    /// as at the end of a file, and every later source ends at once.
    pub fn with_packet_limit(mut self, limit: Option<u64>) -> Self {
        self.budget = limit.map(PacketBudget::new);
        self
    }

    /// Starts `spec`, replacing the running source. The new source is opened first: if that
    /// fails, the error is returned and the old source keeps running.
    pub fn start(&self, spec: SourceSpec) -> Result<(), ControlError> {
        let Some(tx) = self.tx.clone() else {
            return Err(ControlError::NotLive);
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        match spec {
            SourceSpec::Live(config) => {
                let cap = LiveCapture::open(&config)?;
                let linktype = cap.linktype();
                let description = format!("interface {}", cap.interface());
                let mut control = self.lock();
                self.stop_locked(&mut control);
                let outlet = Outlet::new(tx, self.pool.clone(), id, Backpressure::Drop)
                    .with_budget(self.budget.clone());
                self.shared.current_source.store(id, Ordering::Relaxed);
                control.current = Some(spawn_live(cap, outlet)?);
                control.description = Some(description);
                control.live = Some(LiveState { config, linktype });
            }
            SourceSpec::Replay { path, speed } => {
                let file = FileSource::open(&path)?;
                let mut control = self.lock();
                self.stop_locked(&mut control);
                let outlet = Outlet::new(tx, self.pool.clone(), id, Backpressure::Block)
                    .with_budget(self.budget.clone());
                self.shared.current_source.store(id, Ordering::Relaxed);
                control.current = Some(spawn_replay(file, speed, outlet)?);
                control.description = Some(format!("replay of {}", path.display()));
                control.live = None;
            }
            SourceSpec::Demo { seed } => {
                let scenario = Scenario::new(ScenarioConfig {
                    seed,
                    start: super::source::wall_clock(),
                    ..ScenarioConfig::default()
                });
                let mut control = self.lock();
                self.stop_locked(&mut control);
                let outlet = Outlet::new(tx, self.pool.clone(), id, Backpressure::Block)
                    .with_budget(self.budget.clone());
                self.shared.current_source.store(id, Ordering::Relaxed);
                control.current = Some(spawn_demo(scenario, outlet)?);
                control.description = Some("demo traffic".into());
                control.live = None;
            }
        }
        Ok(())
    }

    /// Stops the running source. The engine keeps its state; `start` resumes.
    pub fn stop(&self) {
        let mut control = self.lock();
        self.stop_locked(&mut control);
    }

    /// Moves live capture to another interface, keeping the other capture settings and the
    /// filter. Refused (capture continuing as before) when the interface cannot be opened.
    pub fn switch_interface(&self, interface: &str) -> Result<(), ControlError> {
        let config = {
            let control = self.lock();
            match &control.live {
                Some(live) => LiveConfig {
                    interface: interface.to_string(),
                    ..live.config.clone()
                },
                None => LiveConfig {
                    interface: interface.to_string(),
                    ..LiveConfig::default()
                },
            }
        };
        self.start(SourceSpec::Live(config))
    }

    /// Replaces the BPF filter of the running live capture (`None` or empty: everything).
    /// A filter libpcap rejects is refused with its message; the old filter stays.
    /// Returns once the capture thread applies it: later packets obey the new filter.
    pub fn set_filter(&self, filter: Option<&str>) -> Result<(), ControlError> {
        let filter = filter.map(str::trim).filter(|f| !f.is_empty());
        let mut control = self.lock();
        let live = control.live.clone().ok_or(ControlError::NotLive)?;
        if let Some(f) = filter {
            check_filter(f, live.linktype, live.config.snaplen)?;
        }
        let thread = control.current.as_ref().ok_or(ControlError::NotLive)?;
        let (reply_tx, reply_rx) = std::sync::mpsc::channel();
        thread
            .command(LiveCommand::SetFilter(filter.map(String::from), reply_tx))
            .ok_or(ControlError::NotLive)?;
        reply_rx
            .recv_timeout(COMMAND_TIMEOUT)
            .map_err(|_| ControlError::NoAnswer)??;
        if let Some(l) = control.live.as_mut() {
            l.config.filter = filter.map(String::from);
        }
        Ok(())
    }

    /// What the monitor is doing.
    pub fn status(&self) -> MonitorStatus {
        let control = self.lock();
        let ended = self.shared.ended.lock().ok().and_then(|e| e.clone());
        let running = control.current.as_ref().is_some_and(|t| !t.is_finished());
        MonitorStatus {
            running,
            source: control.description.clone(),
            interface: control.live.as_ref().map(|l| l.config.interface.clone()),
            filter: control.live.as_ref().and_then(|l| l.config.filter.clone()),
            packets: self.shared.packets.load(Ordering::Relaxed),
            last_error: ended.and_then(|(_, e)| e),
        }
    }

    /// Runs `f` on the engine thread between two batches and returns its result (`None` when
    /// the engine has stopped or did not answer within `timeout`).
    pub fn run_on_engine<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Engine) -> T + Send + 'static,
        timeout: Duration,
    ) -> Option<T> {
        let tx = self.tx.clone()?;
        let (reply_tx, reply_rx) = std::sync::mpsc::channel();
        let call = super::source::EngineCall(Box::new(move |engine| {
            let _ = reply_tx.send(f(engine));
        }));
        tx.send(SourceEvent::Call(call)).ok()?;
        reply_rx.recv_timeout(timeout).ok()
    }

    /// Frames processed so far.
    pub fn packets(&self) -> u64 {
        self.shared.packets.load(Ordering::Relaxed)
    }

    /// Whether the current source has ended on its own (end of a replayed file, or an error).
    pub fn source_finished(&self) -> bool {
        let control = self.lock();
        control
            .current
            .as_ref()
            .is_some_and(SourceThread::is_finished)
    }

    /// Stops the source, lets the engine process everything queued, closes the open interval
    /// and ends the flows; returns the engine and the sink.
    pub fn shutdown(mut self) -> Option<(Engine, S)> {
        self.stop();
        self.tx = None;
        self.engine.take().and_then(|h| h.join().ok())
    }

    fn lock(&self) -> MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stop_locked(&self, control: &mut Control) {
        if let Some(t) = control.current.take() {
            t.stop();
        }
    }
}

impl<S: Sink + Send + 'static> Drop for Monitor<S> {
    fn drop(&mut self) {
        self.stop();
        self.tx = None;
        if let Some(h) = self.engine.take() {
            let _ = h.join();
        }
    }
}

/// The engine thread: processes events until every sender is gone, then finishes.
fn engine_loop<S: Sink>(
    mut engine: Engine,
    mut sink: S,
    rx: &Receiver<SourceEvent>,
    pool: &BatchPool,
    shared: &Shared,
) -> (Engine, S) {
    let mut drops = DropLedger::default();
    while let Ok(event) = rx.recv() {
        match event {
            SourceEvent::Frames {
                source,
                batch,
                drops: d,
            } => {
                engine.set_drops(drops.update(source, d));
                for frame in batch.frames() {
                    let pkt = engine.process(&frame, &mut sink);
                    sink.packet(&frame, &pkt);
                }
                shared
                    .packets
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                pool.give(batch);
                sink.idle(&engine);
            }
            SourceEvent::Tick {
                source,
                ts,
                drops: d,
            } => {
                engine.set_drops(drops.update(source, d));
                // Ticks of a source being replaced could move time under the new one.
                if source == shared.current_source.load(Ordering::Relaxed) {
                    engine.advance_to(ts, &mut sink);
                }
                sink.idle(&engine);
            }
            SourceEvent::Ended {
                source,
                error,
                warnings,
                drops: d,
            } => {
                engine.set_drops(drops.update(source, d));
                drops.retire(source);
                for w in warnings {
                    sink.warning(&w);
                }
                if let Some(e) = &error {
                    sink.error(e);
                }
                engine.source_ended();
                // The dashboard's last snapshot shows the source's live flows; then they end
                // and reach the history without waiting for the run's end.
                sink.source_ended(&engine);
                engine.end_flows(&mut sink);
                sink.persist();
                if let Ok(mut ended) = shared.ended.lock() {
                    *ended = Some((source, error));
                }
            }
            SourceEvent::Call(call) => (call.0)(&engine),
        }
    }
    engine.finish(&mut sink);
    (engine, sink)
}

/// Run-wide drop counts from the sources' own cumulative counts.
#[derive(Debug, Default)]
struct DropLedger {
    /// Final counts of sources that have ended.
    retired: DropCounts,
    /// Latest counts of sources still sending.
    active: BTreeMap<SourceId, DropCounts>,
}

impl DropLedger {
    fn update(&mut self, source: SourceId, counts: DropCounts) -> DropCounts {
        self.active.insert(source, counts);
        self.total()
    }

    fn retire(&mut self, source: SourceId) {
        if let Some(c) = self.active.remove(&source) {
            self.retired.merge(&c);
        }
    }

    fn total(&self) -> DropCounts {
        let mut t = self.retired;
        for c in self.active.values() {
            t.merge(c);
        }
        t
    }
}
