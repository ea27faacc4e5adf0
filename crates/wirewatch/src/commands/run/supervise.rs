//! The run's supervisor: it sleeps until something needs it — a stop signal, a source that
//! ended, `--duration` — and keeps the dashboard's capture status and the learned anomaly
//! model up to date meanwhile.

use crate::dashboard::MonitorControl;
use crate::live::Monitor;
use crate::outputs::Outputs;
use crate::pipeline::{Engine, Sink};
use anyhow::Context;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::time::{Duration, Instant};
use wirewatch_detect::detectors::ml_anomaly::AnomalySlot;

/// Exit status when a second stop signal ends the process at once (128 + SIGINT, as shells do).
const EXIT_FORCED: i32 = 130;

/// How often the supervisor looks whether the anomaly detector has learned a model to save
/// (it learns on the engine thread; saving is file I/O, kept off that thread).
const HOUSEKEEPING: Duration = Duration::from_millis(500);

/// How long the supervisor waits for a source thread that said it ended to be gone.
const SOURCE_EXIT_WAIT: Duration = Duration::from_millis(200);

/// What wakes the supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wake {
    /// SIGINT, SIGTERM or SIGHUP arrived.
    Signal,
    /// A capture source ended (a replay reached its end, a capture failed).
    SourceEnded,
}

/// The supervisor's alarm: signals and outputs ring it.
pub(super) struct Alarm {
    tx: SyncSender<Wake>,
    rx: Receiver<Wake>,
}

impl Alarm {
    /// A sender for whoever rings it.
    pub(super) fn sender(&self) -> SyncSender<Wake> {
        self.tx.clone()
    }
}

/// Makes SIGINT and SIGTERM (and SIGHUP when `hangup_stops`) set the returned flag and ring the
/// returned alarm; a second one while stopping ends the process at once.
pub(super) fn install_stop_signals(hangup_stops: bool) -> anyhow::Result<(Arc<AtomicBool>, Alarm)> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut stopping = vec![signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM];
    if hangup_stops {
        stopping.push(signal_hook::consts::SIGHUP);
    }
    for &signal in &stopping {
        // Registered first, so it sees the flag as the previous signal left it.
        signal_hook::flag::register_conditional_shutdown(signal, EXIT_FORCED, stop.clone())
            .context("cannot install the Ctrl-C handler")?;
        signal_hook::flag::register(signal, stop.clone())
            .context("cannot install the Ctrl-C handler")?;
    }
    // A few pending wakes are plenty: one is enough to look at the flags.
    let (tx, rx) = sync_channel(16);
    let mut signals = signal_hook::iterator::Signals::new(&stopping)
        .context("cannot install the Ctrl-C handler")?;
    let ring = tx.clone();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for _ in signals.forever() {
                let _ = ring.try_send(Wake::Signal);
            }
        })
        .context("cannot start the signal thread")?;
    Ok((stop, Alarm { tx, rx }))
}

/// An output that rings the supervisor when a source ends.
pub(super) struct SourceEndNotice(pub SyncSender<Wake>);

impl Sink for SourceEndNotice {
    fn source_ended(&mut self, _engine: &Engine) {
        let _ = self.0.try_send(Wake::SourceEnded);
    }
}

/// What the supervisor watches.
pub(super) struct Supervisor<'a> {
    /// Set by the stop signals.
    pub stop: &'a AtomicBool,
    /// Rung by the signals and by the end of a source.
    pub wake: Alarm,
    /// The running monitor.
    pub monitor: &'a Monitor<Outputs>,
    /// The dashboard's control, whose capture status follows the monitor's.
    pub control: Option<&'a MonitorControl<Outputs>>,
    /// The anomaly model's slot, when that detector runs.
    pub anomaly: Option<&'a AnomalySlot>,
    /// Where a learned anomaly model is saved.
    pub model_path: Option<&'a Path>,
    /// Keep serving the dashboard when a replay ends (`--stay`).
    pub stay: bool,
    /// Stop after this long (`--duration`).
    pub limit: Option<Duration>,
}

impl Supervisor<'_> {
    /// Waits until the run should end: a stop signal (returns true), `--duration`, or the end
    /// of the source (a replay's end, unless `--stay`).
    pub(super) fn run(self) -> bool {
        let deadline = self.limit.map(|l| Instant::now() + l);
        let mut announced = false;
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return true;
            }
            if self.monitor.source_finished() {
                if !self.stay {
                    return false;
                }
                if !announced {
                    eprintln!(
                        "wirewatch: the replay has ended; the dashboard stays up until Ctrl-C"
                    );
                    announced = true;
                }
            }
            if let Some(slot) = self.anomaly {
                crate::model::save_trained(slot, self.model_path);
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return false;
            }
            let nap = deadline.map_or(HOUSEKEEPING, |d| (d - now).min(HOUSEKEEPING));
            match self.wake.rx.recv_timeout(nap) {
                Ok(Wake::SourceEnded) => {
                    // The source thread said its last word; let it be gone before looking.
                    let asked = Instant::now();
                    while !self.monitor.source_finished() && asked.elapsed() < SOURCE_EXIT_WAIT {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    // The capture status is the monitor's: a source that ends on its own
                    // shows at once.
                    if let Some(c) = self.control {
                        c.refresh();
                    }
                }
                Ok(Wake::Signal) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return self.stop.load(Ordering::Relaxed),
            }
        }
    }
}
