//! SIEM output: finished flows and alerts as JSON lines in Suricata's EVE layout, with
//! Community ID flow hashes, so pipelines that ingest Suricata ingest Wirewatch unchanged.
//!
//! - [`community`]: Community ID v1 ([`community_id`]) and the `flow_id` derived from it.
//! - [`record`]: the EVE records ([`EveRecord`]): `event_type` `flow` (from a
//!   [`wirewatch_core::FlowRecord`]) and `alert` (from a [`wirewatch_core::Alert`]), with the
//!   signature id table ([`record::SIGNATURE_IDS`]) and severity mapping.
//! - [`writer`]: [`EveWriter`], the buffered line writer over any `Write`.
//! - [`EveSink`]: a [`Sink`] that writes flows and alerts to an EVE file and forwards
//!   everything to the sink it wraps.
//!
//! Where Wirewatch differs from Suricata: `flow_id` is derived from the flow's 5-tuple (the
//! first 8 bytes of its Community ID digest, top bit cleared), so a reused 5-tuple keeps its
//! id; one alert event is written per incident, when it opens; an alert's source port is
//! unknown (its `community_id` hashes source port 0); IPv6 addresses are written in their
//! short form (`2001:db8::1`, not Suricata's zero-padded one); `app_proto` is set only when
//! the payload confirmed the protocol (port guesses are under `wirewatch.app`).

pub mod community;
pub mod record;
pub mod writer;

pub use community::{community_id, community_id_hash, flow_id_of};
pub use record::{EveAlert, EveExtras, EveFlow, EveRecord, EveTcp, signature_id};
pub use writer::{EveStats, EveWriter};

use crate::pipeline::{Engine, Sink};
use anyhow::Context;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use wirewatch_core::{Alert, FlowRecord, Frame, IntervalMetrics};
use wirewatch_decode::Packet;
use wirewatch_detect::IncidentStatus;

/// A sink that writes finished flows and alerts as EVE lines and forwards every call to
/// `inner`. The writer is flushed by packet time (see [`writer`]), when a source ends, and by
/// [`EveSink::into_inner`]. The first write error of a failing streak reaches `inner` as a
/// warning.
pub struct EveSink<S: Sink, W: Write = File> {
    inner: S,
    writer: EveWriter<W>,
    /// What the output is called in warnings (its path).
    name: String,
}

impl<S: Sink> EveSink<S, File> {
    /// Writes to the file at `path`, appending when it exists (a SIEM shipper tails it).
    pub fn new(inner: S, path: impl AsRef<Path>) -> anyhow::Result<Self> {
        let path = path.as_ref();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open the EVE output {}", path.display()))?;
        Ok(EveSink::with_writer(
            inner,
            EveWriter::new(file),
            path.display().to_string(),
        ))
    }
}

impl<S: Sink, W: Write> EveSink<S, W> {
    /// Writes through `writer`; `name` names the output in warnings.
    pub fn with_writer(inner: S, writer: EveWriter<W>, name: impl Into<String>) -> Self {
        EveSink {
            inner,
            writer,
            name: name.into(),
        }
    }

    /// Uses `seed` for Community IDs (default 0; it must match the other tools' seed).
    pub fn with_community_id_seed(mut self, seed: u16) -> Self {
        self.writer = self.writer.with_community_id_seed(seed);
        self
    }

    /// The wrapped sink.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The wrapped sink, mutably.
    pub fn inner_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The writer.
    pub fn writer(&self) -> &EveWriter<W> {
        &self.writer
    }

    /// The writer's counters.
    pub fn stats(&self) -> EveStats {
        self.writer.stats()
    }

    /// Writes out everything buffered.
    pub fn flush(&mut self) {
        self.writer.flush();
        self.report_error();
    }

    /// Flushes and returns the wrapped sink (a last write error reaches it as a warning).
    pub fn into_inner(self) -> S {
        self.into_parts().0
    }

    /// Flushes and returns the wrapped sink and the writer.
    pub fn into_parts(mut self) -> (S, EveWriter<W>) {
        self.flush();
        (self.inner, self.writer)
    }

    /// Tells `inner` about the first error of a failing streak.
    fn report_error(&mut self) {
        if let Some(e) = self.writer.take_error() {
            self.inner
                .warning(format!("EVE output {}: write failed: {e}", self.name));
        }
    }
}

impl<S: Sink, W: Write> Sink for EveSink<S, W> {
    fn interval(&mut self, metrics: IntervalMetrics) {
        self.writer.tick(metrics.start_ts.plus(metrics.duration_ns));
        self.report_error();
        self.inner.interval(metrics);
    }

    fn flow(&mut self, record: FlowRecord) {
        self.writer.flow(&record);
        self.report_error();
        self.inner.flow(record);
    }

    fn alert(&mut self, alert: Alert, status: IncidentStatus) {
        self.writer.alert(&alert, status);
        self.report_error();
        self.inner.alert(alert, status);
    }

    fn warning(&mut self, message: String) {
        self.inner.warning(message);
    }

    fn error(&mut self, message: String) {
        self.inner.error(message);
    }

    fn packet(&mut self, frame: &Frame<'_>, pkt: &Packet) {
        self.writer.tick(frame.ts);
        self.inner.packet(frame, pkt);
    }

    fn after_interval(&mut self, engine: &Engine) {
        self.inner.after_interval(engine);
    }

    fn source_ended(&mut self, engine: &Engine) {
        self.flush();
        self.inner.source_ended(engine);
    }

    fn idle(&mut self, engine: &crate::pipeline::Engine) {
        self.inner.idle(engine);
    }

    fn persist(&mut self) {
        self.flush();
        self.inner.persist();
    }
}

/// Opens (creating, appending to) an EVE output file.
pub fn open(path: &std::path::Path) -> anyhow::Result<EveWriter<std::fs::File>> {
    use anyhow::Context;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open the EVE output {}", path.display()))?;
    Ok(EveWriter::new(file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirewatch_core::Timestamp;

    /// Records which calls arrived.
    #[derive(Default)]
    struct Calls(Vec<&'static str>);

    impl Sink for Calls {
        fn interval(&mut self, _: IntervalMetrics) {
            self.0.push("interval");
        }
        fn flow(&mut self, _: FlowRecord) {
            self.0.push("flow");
        }
        fn alert(&mut self, _: Alert, _: IncidentStatus) {
            self.0.push("alert");
        }
        fn warning(&mut self, _: String) {
            self.0.push("warning");
        }
        fn error(&mut self, _: String) {
            self.0.push("error");
        }
        fn packet(&mut self, _: &Frame<'_>, _: &Packet) {
            self.0.push("packet");
        }
        fn after_interval(&mut self, _: &Engine) {
            self.0.push("after_interval");
        }
        fn source_ended(&mut self, _: &Engine) {
            self.0.push("source_ended");
        }
    }

    #[test]
    fn every_call_is_forwarded() {
        let mut sink = EveSink::with_writer(Calls::default(), EveWriter::new(Vec::new()), "mem");
        let engine = Engine::new(&crate::pipeline::EngineConfig::default());
        let data = [0u8; 14];
        let frame = Frame {
            ts: Timestamp(5),
            linktype: wirewatch_core::LinkType::ETHERNET,
            data: &data,
            wire_len: 14,
            interface: 0,
        };
        let pkt = wirewatch_decode::decode(frame.linktype, frame.data);
        sink.packet(&frame, &pkt);
        sink.warning("w".into());
        sink.error("e".into());
        sink.after_interval(&engine);
        sink.source_ended(&engine);
        let (calls, _) = sink.into_parts();
        assert_eq!(
            calls.0,
            [
                "packet",
                "warning",
                "error",
                "after_interval",
                "source_ended"
            ]
        );
    }

    #[test]
    fn a_missing_directory_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/eve.json");
        let err = EveSink::new(Calls::default(), path).err().unwrap();
        assert!(
            format!("{err:#}").contains("no/such/dir/eve.json"),
            "{err:#}"
        );
    }
}
