//! The web layer's capture controls, implemented over the capture [`Monitor`].
//!
//! Every change of source or filter also refreshes the capture status that snapshots show and
//! republishes the current snapshot with it, so a stopped capture (which closes no more
//! intervals) still shows as stopped.

use super::builder::{SharedPublisher, SharedStatus};
use crate::dashboard::packets::PacketAccess;
use crate::live::monitor::{ControlError, Monitor, MonitorStatus, SourceSpec};
use crate::pipeline::Sink;
use std::sync::Arc;
use wirewatch_capture::live::{LiveConfig, default_interface, list_interfaces};
use wirewatch_detect::detectors::ml_anomaly::AnomalySlot;
use wirewatch_ml::anomaly::TrainerConfig;
use wirewatch_store::params::parse_time;
use wirewatch_web::{
    CaptureStatus, Control, ControlFailure, InterfaceView, PacketExport, PacketQuery,
    RetrainOutcome,
};

/// What retraining the anomaly model from the dashboard needs.
pub struct Retrainer {
    /// The history to train on.
    pub store: Arc<dyn wirewatch_store::Store>,
    /// The detector's model slot (the new model goes in force through it).
    pub slot: Arc<AnomalySlot>,
    /// Forest and baseline settings.
    pub trainer: TrainerConfig,
    /// Where the model is saved.
    pub path: std::path::PathBuf,
}

/// [`Control`] over a running monitor.
pub struct MonitorControl<S: Sink + Send + 'static> {
    monitor: Arc<Monitor<S>>,
    status: SharedStatus,
    publisher: SharedPublisher,
    /// Capture settings for sources started from the dashboard (snaplen, buffer, ...).
    live_defaults: LiveConfig,
    /// Retraining, when there is a database and an anomaly detector.
    retrainer: Option<Retrainer>,
    /// Recorded packets: evidence files, the ring, capture files.
    packets: PacketAccess,
}

impl<S: Sink + Send + 'static> MonitorControl<S> {
    /// Controls for `monitor`; live captures it starts use `live_defaults` for everything but
    /// the interface and the filter.
    pub fn new(
        monitor: Arc<Monitor<S>>,
        status: SharedStatus,
        publisher: SharedPublisher,
        live_defaults: LiveConfig,
    ) -> Self {
        let c = MonitorControl {
            monitor,
            status,
            publisher,
            live_defaults,
            retrainer: None,
            packets: PacketAccess::default(),
        };
        c.refresh();
        c
    }

    /// Enables retraining the anomaly model from the dashboard.
    pub fn with_retrainer(mut self, retrainer: Option<Retrainer>) -> Self {
        self.retrainer = retrainer;
        self
    }

    /// Gives the dashboard the recorded packets (evidence downloads and exports).
    pub fn with_packets(mut self, packets: PacketAccess) -> Self {
        self.packets = packets;
        self
    }

    /// Reads the monitor's status into the shared one and republishes the snapshot with it.
    pub fn refresh(&self) -> CaptureStatus {
        // Read and published under the publisher's lock (see `SnapshotBuilder::publish`), so
        // two refreshes racing (the run loop's and a control request's) cannot publish an
        // older status after a newer one.
        let publisher = self.publisher.lock();
        let status = capture_status(&self.monitor.status());
        if let Ok(mut s) = self.status.lock() {
            *s = status.clone();
        }
        if let Ok(p) = publisher {
            let current = p.current();
            if current.status != status {
                let mut snap = (*current).clone();
                snap.status = status.clone();
                p.publish(snap);
            }
        }
        status
    }
}

/// The dashboard's view of a monitor status.
pub fn capture_status(m: &MonitorStatus) -> CaptureStatus {
    CaptureStatus {
        running: m.running,
        source: m.source.clone().unwrap_or_default(),
        interface: m.interface.clone(),
        filter: m.filter.clone(),
        last_error: m.last_error.clone(),
    }
}

fn failure(e: ControlError) -> ControlFailure {
    match e {
        ControlError::Capture(e) => ControlFailure::refused(e.to_string()),
        ControlError::NotLive => ControlFailure::conflict(e.to_string()),
        ControlError::NoAnswer | ControlError::Thread(_) => {
            ControlFailure::unavailable(e.to_string())
        }
    }
}

impl<S: Sink + Send + 'static> Control for MonitorControl<S> {
    fn status(&self) -> CaptureStatus {
        capture_status(&self.monitor.status())
    }

    fn interfaces(&self) -> Result<Vec<InterfaceView>, ControlFailure> {
        let list = list_interfaces().map_err(|e| ControlFailure::unavailable(e.to_string()))?;
        let default = default_interface(&list).map(|i| i.name.clone());
        Ok(list
            .into_iter()
            .map(|i| InterfaceView {
                default: default.as_deref() == Some(i.name.as_str()),
                name: i.name,
                description: i.description,
                addresses: i.addresses,
                up: i.up,
                running: i.running,
                loopback: i.loopback,
                wireless: i.wireless,
            })
            .collect())
    }

    fn start(
        &self,
        interface: Option<String>,
        filter: Option<String>,
    ) -> Result<CaptureStatus, ControlFailure> {
        let interface = match interface.filter(|i| !i.trim().is_empty()) {
            Some(i) => i,
            None => {
                let list =
                    list_interfaces().map_err(|e| ControlFailure::unavailable(e.to_string()))?;
                default_interface(&list)
                    .map(|i| i.name.clone())
                    .ok_or_else(|| {
                        ControlFailure::refused(
                            "no usable network interface (none is up, not loopback and with an \
                             address): pick one from the list",
                        )
                    })?
            }
        };
        let config = LiveConfig {
            interface,
            filter: filter.filter(|f| !f.trim().is_empty()),
            ..self.live_defaults.clone()
        };
        let result = self.monitor.start(SourceSpec::Live(config));
        let status = self.refresh();
        result.map(|()| status).map_err(failure)
    }

    fn stop(&self) -> CaptureStatus {
        self.monitor.stop();
        self.refresh()
    }

    fn set_filter(&self, filter: Option<String>) -> Result<CaptureStatus, ControlFailure> {
        let result = self.monitor.set_filter(filter.as_deref());
        let status = self.refresh();
        result.map(|()| status).map_err(failure)
    }

    fn retrain(
        &self,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<RetrainOutcome, ControlFailure> {
        let Some(r) = &self.retrainer else {
            return Err(ControlFailure::unavailable(
                "retraining needs a database and the anomaly detector (it is off, or --no-db)",
            ));
        };
        let time = |s: Option<String>, name: &str| {
            s.as_deref()
                .map(parse_time)
                .transpose()
                .map_err(|e| ControlFailure::refused(format!("{name}: {e}")))
        };
        let (from, to) = (time(from, "from")?, time(to, "to")?);
        let model = crate::model::retrain(r.store.as_ref(), from, to, &r.trainer)
            .map_err(|e| ControlFailure::refused(format!("{e:#}")))?;
        let saved = model.save(&r.path);
        let outcome = RetrainOutcome {
            intervals: model.trained_on.intervals,
            threshold: model.threshold(),
            saved_to: saved.is_ok().then(|| r.path.display().to_string()),
        };
        r.slot.replace(model);
        if let Err(e) = saved {
            eprintln!("warning: the retrained anomaly model is in force but was not saved: {e}");
        }
        Ok(outcome)
    }

    fn evidence_capture(&self, id: u64) -> Result<std::path::PathBuf, ControlFailure> {
        self.packets.evidence_capture(id)
    }

    fn export_packets(&self, query: PacketQuery) -> Result<PacketExport, ControlFailure> {
        self.packets.export(&query)
    }
}
