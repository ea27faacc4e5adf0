//! What `run` starts, one function per part: the history database, the outputs, the engine,
//! the dashboard, and the hand-over of privileges.

use super::{RUN_REPORT_ALERTS, RUN_REPORT_FLOWS, RUN_REPORT_INTERVALS};
use crate::cli::RunArgs;
use crate::dashboard::control::Retrainer;
use crate::dashboard::packets::{PacketAccess, RingAccess};
use crate::dashboard::{MonitorControl, SharedPublisher, SharedStatus, SnapshotBuilder};
use crate::intel::IntelRuntime;
use crate::live::{Monitor, SourceSpec};
use crate::outputs::store::{open_store, writer_lock_path};
use crate::outputs::terminal::TerminalOutput;
use crate::outputs::{OutputPlan, Outputs, StorePlan};
use crate::pipeline::Engine;
use crate::settings::RunSettings;
use anyhow::Context;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use wirewatch_capture::live::LiveConfig;
use wirewatch_detect::detectors::ml_anomaly::AnomalySlot;
use wirewatch_report::ReportCollector;
use wirewatch_store::{RetentionClock, Store};
use wirewatch_web::snapshot::SnapshotReceiver;
use wirewatch_web::{ServerHandle, WebState};

/// Opens the history database (none with `--no-db`). A live interface's history ages by the
/// wall clock; a replay's and the demo's by the packet time they write.
pub(super) fn open_history(
    args: &RunArgs,
    config: &crate::config::Config,
    spec: &SourceSpec,
) -> anyhow::Result<Option<Arc<dyn Store>>> {
    if args.no_db {
        return Ok(None);
    }
    let clock = if matches!(spec, SourceSpec::Live(_)) {
        RetentionClock::WallClock
    } else {
        RetentionClock::WrittenPacketTime
    };
    Ok(Some(open_store(&args.db, config, clock)?))
}

/// The run's outputs; an output that cannot start stops the run before anything is captured.
pub(super) fn outputs(
    args: &RunArgs,
    settings: &RunSettings,
    store: Option<&Arc<dyn Store>>,
    stop: &Arc<AtomicBool>,
    publisher: &SharedPublisher,
    status: &SharedStatus,
) -> anyhow::Result<Outputs> {
    let (outputs, failures) = crate::outputs::build(OutputPlan {
        // A monitor's report keeps only the latest flows and intervals: memory stays flat
        // however long it runs (totals come from the engine's running counters).
        summary: ReportCollector::rolling(
            RUN_REPORT_FLOWS,
            RUN_REPORT_INTERVALS,
            RUN_REPORT_ALERTS,
        ),
        // Live monitoring never waits for the disk: a full queue drops (and counts) a batch.
        // A replay waits, as `analyze` does, so the database gets the whole file, until it is
        // told to stop.
        store: store.cloned().map(|store| StorePlan {
            store,
            blocking: args.read.is_some(),
            impatient_when: Some(stop.clone()),
        }),
        terminal: Some(TerminalOutput::new(
            !args.json && (args.lines || std::io::stdout().is_terminal()),
            store.cloned(),
        )),
        notify: Some(settings.config.notify.clone()),
        dashboard: settings.web.as_ref().map(|_| {
            SnapshotBuilder::new(publisher.clone(), status.clone()).with_store(store.cloned())
        }),
        eve: args.eve.clone(),
        alert_log: args.alert_log.clone(),
        // A replay writes its files whole; live capture and the demo never wait for the disk.
        files_wait: args.read.is_some(),
    });
    match failures.into_iter().next() {
        Some(f) => Err(f.error),
        None => Ok(outputs),
    }
}

/// The engine with threat intelligence, the packet recorder and the flow model; and the
/// intelligence threads to stop at the end.
pub(super) fn engine(
    args: &RunArgs,
    settings: &RunSettings,
) -> anyhow::Result<(Engine, IntelRuntime)> {
    let config = &settings.config;
    let mut intel = IntelRuntime::start(&config.intel, (!args.no_db).then_some(args.db.as_path()))?;
    let mut engine = Engine::new(&config.engine());
    if let Some(i) = intel.engine.take() {
        engine.set_intel(i);
    }
    if let Some(dir) = &settings.evidence_dir {
        eprintln!("wirewatch: alert evidence captures go to {}", dir.display());
    }
    if let Some(r) = &settings.capture_files {
        eprintln!("wirewatch: writing capture files to {}", r.dir.display());
    }
    if let Some((path, format)) = &settings.write_file {
        eprintln!(
            "wirewatch: writing every packet to {} ({format})",
            path.display()
        );
    }
    // A replay must reproduce its file, evidence included: its writes wait. Live capture and
    // the demo never wait for the disk.
    if settings.recording {
        engine.set_evidence(wirewatch_evidence::start_recorder(
            &config.evidence,
            settings.evidence_dir.clone(),
            wirewatch_evidence::CaptureFiles {
                rotating: settings.capture_files.clone(),
                single: settings.write_file.clone(),
            },
            args.read.is_some(),
        )?);
    }
    crate::model::load_flow_model(&engine, &config.detect)?;
    Ok((engine, intel))
}

/// The dashboard's server (none when it did not start) and the control it calls (also when
/// the server did not start: the run loop keeps its status).
pub(super) type Served = (Option<ServerHandle>, Option<Arc<MonitorControl<Outputs>>>);

/// What the dashboard is served from.
pub(super) struct Dashboard<'a> {
    /// The running monitor.
    pub monitor: &'a Arc<Monitor<Outputs>>,
    /// The run's settings.
    pub settings: &'a RunSettings,
    /// The history database.
    pub store: Option<&'a Arc<dyn Store>>,
    /// The anomaly model's slot, when that detector runs.
    pub anomaly: Option<&'a Arc<AnomalySlot>>,
    /// Where the learned anomaly model is saved.
    pub model_path: Option<&'a Path>,
}

impl Dashboard<'_> {
    /// Serves the dashboard when it is on; returns the server and the control it calls. The
    /// default address being busy is only a warning; an address asked for is an error.
    pub(super) fn serve(
        &self,
        status: SharedStatus,
        publisher: SharedPublisher,
        snapshots: SnapshotReceiver,
        live_defaults: LiveConfig,
    ) -> anyhow::Result<Served> {
        let Some(plan) = &self.settings.web else {
            return Ok((None, None));
        };
        let retrainer = match (self.store, self.anomaly, self.model_path) {
            (Some(store), Some(slot), Some(path)) => Some(Retrainer {
                store: store.clone(),
                slot: slot.clone(),
                trainer: self.settings.config.detect.ml_anomaly.trainer.clone(),
                path: path.to_path_buf(),
            }),
            _ => None,
        };
        let rotating = self.settings.capture_files.as_ref();
        let control = Arc::new(
            MonitorControl::new(self.monitor.clone(), status, publisher, live_defaults)
                .with_retrainer(retrainer)
                .with_packets(PacketAccess {
                    ring: self
                        .settings
                        .recording
                        .then(|| self.monitor.clone() as Arc<dyn RingAccess>),
                    evidence_dir: self.settings.evidence_dir.clone(),
                    capture_files: rotating.map(|r| (r.dir.clone(), r.prefix.clone())),
                }),
        );
        let mut state =
            WebState::new(snapshots, control.clone()).with_version(env!("CARGO_PKG_VERSION"));
        if let Some(s) = self.store {
            state = state.with_store(s.clone());
        }
        match wirewatch_web::spawn(&plan.config, state) {
            Ok(handle) => {
                eprintln!("wirewatch: dashboard at {}", handle.url());
                Ok((Some(handle), Some(control)))
            }
            Err(e) if !plan.explicit => {
                eprintln!("warning: dashboard not started: {e}");
                Ok((None, Some(control)))
            }
            Err(e) => Err(e).context("cannot start the dashboard"),
        }
    }
}

/// Drops root privileges to `user`, handing over what the run writes: the evidence and
/// capture-file directories, the database with SQLite's companions and the writer lock, and
/// the learned anomaly model (`model`).
pub(super) fn drop_privileges(
    user: &str,
    args: &RunArgs,
    settings: &RunSettings,
    model: Option<&Path>,
) -> anyhow::Result<()> {
    let mut handover = crate::privileges::Handover::default();
    if let Some(dir) = &settings.evidence_dir {
        handover.own_dirs.push(dir.clone());
        handover.writable.push((dir.clone(), "evidence captures"));
    }
    if let Some(r) = &settings.capture_files {
        handover.own_dirs.push(r.dir.clone());
        handover.writable.push((r.dir.clone(), "capture files"));
    }
    if !args.no_db {
        // The database, SQLite's companions (readers write the shared-memory index) and the
        // writer lock.
        for suffix in ["", "-wal", "-shm"] {
            let mut name = args.db.as_os_str().to_owned();
            name.push(suffix);
            handover.files.push(PathBuf::from(name));
        }
        handover.files.push(writer_lock_path(&args.db));
    }
    if let Some(path) = model {
        handover.files.push(path.to_path_buf());
        handover.writable.push((
            crate::privileges::parent_dir(path),
            "the learned anomaly model and the database",
        ));
    }
    crate::privileges::drop_to(user, &handover)?;
    eprintln!("wirewatch: dropped privileges to user {user}");
    Ok(())
}
