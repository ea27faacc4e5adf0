//! The EVE writer: one JSON line per finished flow and per alert, over any `Write`.
//!
//! Output is buffered ([`BUFFER_CAPACITY`]) and flushed when [`FLUSH_EVERY_LINES`] lines are
//! waiting, when packet time has moved [`FLUSH_EVERY_NANOS`] (one second) past the last flush
//! and a line is waiting (the clock advances with every record and every [`EveWriter::tick`]),
//! on [`EveWriter::flush`], and at the end ([`EveWriter::into_inner`]). Each line is serialized
//! whole before it is written, so a line is never half-written by this writer.
//!
//! I/O errors never reach the caller: they are counted ([`EveStats`]), the line is lost, and
//! the first error of a failing streak is kept for [`EveWriter::take_error`] so the caller can
//! tell the user once. Writing resumes as soon as the output accepts data again.
//!
//! Alerts: Suricata writes one alert event per alert, and so does this writer: an incident is
//! written when it opens; its updates and its end are not repeated. An incident whose opening
//! was not seen (the writer started late) is written at the first update or end that is.
//! The writer remembers up to [`MAX_TRACKED_ALERTS`] incidents; beyond that the oldest is
//! forgotten, and a later update of it is written again.

use super::record::EveRecord;
use std::collections::{BTreeMap, HashMap};
use std::io::{BufWriter, Write};
use std::net::IpAddr;
use wirewatch_core::IncidentStatus;
use wirewatch_core::time::NANOS_PER_SEC;
use wirewatch_core::{Alert, FlowRecord, Severity, Timestamp, Transaction};

/// Bytes buffered before they are written out.
pub const BUFFER_CAPACITY: usize = 64 * 1024;
/// Lines waiting that force a flush.
pub const FLUSH_EVERY_LINES: usize = 256;
/// Packet time (ns) after which a waiting line is flushed.
pub const FLUSH_EVERY_NANOS: u64 = NANOS_PER_SEC;
/// Incidents remembered (to write each once and to mark the flows they concern).
pub const MAX_TRACKED_ALERTS: usize = 4_096;
/// How long (ns of packet time) after its end an incident still marks flows as `alerted`
/// (flows of an attack often end, by idle timeout, after the incident did).
pub const ALERTED_LINGER_NANOS: u64 = 300 * NANOS_PER_SEC;

/// What a writer has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EveStats {
    /// Flow events written (buffered or out).
    pub flows: u64,
    /// Alert events written.
    pub alerts: u64,
    /// Transaction lines written (`dns`, `http`, `tls`, `quic`).
    pub transactions: u64,
    /// Lines lost to errors.
    pub lines_lost: u64,
    /// I/O (and serialization) errors.
    pub errors: u64,
}

/// An incident as far as marking flows goes.
#[derive(Debug)]
struct Tracked {
    sources: Vec<IpAddr>,
    targets: Vec<IpAddr>,
    /// Packet time it ended, if it did.
    ended_at: Option<Timestamp>,
    /// The severity of its latest line.
    written: Option<Severity>,
}

impl Tracked {
    /// The addresses it is indexed by: its sources, or its targets when it has no source.
    fn keys(&self) -> &[IpAddr] {
        if self.sources.is_empty() {
            &self.targets
        } else {
            &self.sources
        }
    }

    /// Whether a flow between `a` and `b` is one it is about.
    fn concerns(&self, a: IpAddr, b: IpAddr) -> bool {
        if self.sources.is_empty() {
            return self.targets.contains(&a) || self.targets.contains(&b);
        }
        let aimed = |s: IpAddr, t: IpAddr| {
            self.sources.contains(&s) && (self.targets.is_empty() || self.targets.contains(&t))
        };
        aimed(a, b) || aimed(b, a)
    }
}

/// Incidents seen, indexed by address.
#[derive(Debug, Default)]
struct AlertTracker {
    alerts: BTreeMap<u64, Tracked>,
    by_addr: HashMap<IpAddr, Vec<u64>>,
}

impl AlertTracker {
    /// The severity of the incident's latest line, if one was written.
    fn written(&self, id: u64) -> Option<Severity> {
        self.alerts.get(&id).and_then(|t| t.written)
    }

    fn unindex(by_addr: &mut HashMap<IpAddr, Vec<u64>>, id: u64, t: &Tracked) {
        for ip in t.keys() {
            if let Some(ids) = by_addr.get_mut(ip) {
                ids.retain(|x| *x != id);
                if ids.is_empty() {
                    by_addr.remove(ip);
                }
            }
        }
    }

    /// Records (or refreshes) an incident.
    fn upsert(&mut self, alert: &Alert, ended_at: Option<Timestamp>, written: Option<Severity>) {
        let mut kept = None;
        if let Some(old) = self.alerts.remove(&alert.id) {
            Self::unindex(&mut self.by_addr, alert.id, &old);
            kept = old.written;
        }
        let t = Tracked {
            sources: alert.sources.clone(),
            targets: alert.targets.clone(),
            ended_at,
            written: written.or(kept),
        };
        for ip in t.keys() {
            let ids = self.by_addr.entry(*ip).or_default();
            if !ids.contains(&alert.id) {
                ids.push(alert.id);
            }
        }
        self.alerts.insert(alert.id, t);
        while self.alerts.len() > MAX_TRACKED_ALERTS {
            if let Some((id, old)) = self.alerts.pop_first() {
                Self::unindex(&mut self.by_addr, id, &old);
            }
        }
    }

    /// Forgets incidents that ended more than [`ALERTED_LINGER_NANOS`] before `now`.
    fn prune(&mut self, now: Timestamp) {
        let stale: Vec<u64> = self
            .alerts
            .iter()
            .filter(|(_, t)| {
                t.ended_at
                    .is_some_and(|end| now.since(end) > ALERTED_LINGER_NANOS)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            if let Some(old) = self.alerts.remove(&id) {
                Self::unindex(&mut self.by_addr, id, &old);
            }
        }
    }

    /// Whether some remembered incident concerns a flow between `a` and `b`.
    fn concerns(&self, a: IpAddr, b: IpAddr) -> bool {
        [a, b].iter().any(|ip| {
            self.by_addr.get(ip).is_some_and(|ids| {
                ids.iter()
                    .filter_map(|id| self.alerts.get(id))
                    .any(|t| t.concerns(a, b))
            })
        })
    }
}

/// Writes EVE JSON lines to `W` (see the module docs for buffering, errors and alerts).
pub struct EveWriter<W: Write> {
    out: BufWriter<W>,
    /// The line being built (reused).
    line: Vec<u8>,
    seed: u16,
    /// Lines written since the last flush.
    pending: usize,
    /// Packet time of the last flush (or of the first record).
    flushed_at: Option<Timestamp>,
    /// Newest packet time seen.
    now: Timestamp,
    /// Packet time ended incidents were last pruned at.
    pruned_at: Timestamp,
    tracker: AlertTracker,
    stats: EveStats,
    /// Whether the last write or flush failed.
    failing: bool,
    /// The first error of the current failing streak, not yet taken.
    error: Option<String>,
}

impl<W: Write> EveWriter<W> {
    /// A writer with Community ID seed 0.
    pub fn new(out: W) -> Self {
        EveWriter {
            out: BufWriter::with_capacity(BUFFER_CAPACITY, out),
            line: Vec::new(),
            seed: 0,
            pending: 0,
            flushed_at: None,
            now: Timestamp::default(),
            pruned_at: Timestamp::default(),
            tracker: AlertTracker::default(),
            stats: EveStats::default(),
            failing: false,
            error: None,
        }
    }

    /// Uses `seed` for Community IDs (and so flow ids); it must match the other tools' seed
    /// for their IDs to agree.
    pub fn with_community_id_seed(mut self, seed: u16) -> Self {
        self.seed = seed;
        self
    }

    /// The Community ID seed.
    pub fn community_id_seed(&self) -> u16 {
        self.seed
    }

    /// Counters so far.
    pub fn stats(&self) -> EveStats {
        self.stats
    }

    /// The first error of the current failing streak, once (`None` until another streak).
    pub fn take_error(&mut self) -> Option<String> {
        self.error.take()
    }

    /// The underlying writer (what was flushed so far).
    pub fn get_ref(&self) -> &W {
        self.out.get_ref()
    }

    /// Writes the `flow` event of a finished flow.
    pub fn flow(&mut self, record: &FlowRecord) {
        self.advance(record.last_ts);
        let alerted = self.tracker.concerns(record.src_ip, record.dst_ip);
        let line = EveRecord::from_flow(record, self.seed, alerted);
        if self.write(&line) {
            self.stats.flows += 1;
        }
        self.maybe_flush();
    }

    /// Takes an alert in its current state and writes an `alert` event when it opens (or, when
    /// its opening was not seen, at the first update or end that is), when its severity rises,
    /// and when it ends (`wirewatch.status` says which). Returns whether a line was written.
    pub fn alert(&mut self, alert: &Alert, status: IncidentStatus) -> bool {
        self.advance(alert.last_ts);
        let last = self.tracker.written(alert.id);
        let due = match (last, status) {
            (None, _) | (Some(_), IncidentStatus::Ended) => true,
            (Some(severity), _) => alert.severity > severity,
        };
        let written = due && {
            let line = EveRecord::from_alert(alert, status, self.seed);
            self.write(&line)
        };
        let ended_at = (status == IncidentStatus::Ended).then(|| alert.last_ts.max(self.now));
        self.tracker
            .upsert(alert, ended_at, written.then_some(alert.severity));
        if written {
            self.stats.alerts += 1;
        }
        self.maybe_flush();
        written
    }

    /// Writes the events of a transaction (`dns`, `http`, `tls`, `quic`).
    pub fn transaction(&mut self, t: &Transaction) {
        self.advance(t.ts);
        for line in crate::transaction::from_transaction(t, self.seed) {
            if self.write(&line) {
                self.stats.transactions += 1;
            }
        }
        self.maybe_flush();
    }

    /// Moves packet time to `ts` (when later), flushing a waiting line once a second of it has
    /// passed since the last flush.
    pub fn tick(&mut self, ts: Timestamp) {
        self.advance(ts);
    }

    /// Writes out everything buffered.
    pub fn flush(&mut self) {
        match self.out.flush() {
            Ok(()) => self.failing = false,
            Err(e) => self.failed(&e.to_string()),
        }
        self.pending = 0;
        self.flushed_at = Some(self.now);
    }

    /// Flushes and returns the underlying writer; what cannot be written then is dropped
    /// (counted as an error).
    pub fn into_inner(mut self) -> W {
        self.flush();
        self.out.into_parts().0
    }

    /// Serializes and buffers one line; `false` when it was lost.
    fn write(&mut self, record: &EveRecord) -> bool {
        self.line.clear();
        if let Err(e) = serde_json::to_writer(&mut self.line, record) {
            self.stats.lines_lost += 1;
            self.failed(&e.to_string());
            return false;
        }
        self.line.push(b'\n');
        match self.out.write_all(&self.line) {
            Ok(()) => {
                self.pending += 1;
                true
            }
            Err(e) => {
                self.stats.lines_lost += 1;
                self.failed(&e.to_string());
                false
            }
        }
    }

    /// Counts an error; keeps the first of a streak for [`EveWriter::take_error`].
    fn failed(&mut self, message: &str) {
        self.stats.errors += 1;
        if !self.failing {
            self.failing = true;
            self.error = Some(message.to_string());
        }
    }

    /// Advances packet time, forgets incidents that ended long ago and flushes when due.
    fn advance(&mut self, ts: Timestamp) {
        self.now = self.now.max(ts);
        if self.now.since(self.pruned_at) >= FLUSH_EVERY_NANOS {
            self.tracker.prune(self.now);
            self.pruned_at = self.now;
        }
        self.maybe_flush();
    }

    /// Flushes when enough lines wait, or a line waits and a second has passed.
    fn maybe_flush(&mut self) {
        let since = self.now.since(*self.flushed_at.get_or_insert(self.now));
        if self.pending >= FLUSH_EVERY_LINES || (self.pending > 0 && since >= FLUSH_EVERY_NANOS) {
            self.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;
    use wirewatch_core::flow::DirectionStats;
    use wirewatch_core::{EndReason, Severity, TcpState};

    fn flow(src: &str, dst: &str, secs: u64) -> FlowRecord {
        FlowRecord {
            ip_proto: 6,
            src_ip: src.parse().unwrap(),
            src_port: 40000,
            dst_ip: dst.parse().unwrap(),
            dst_port: 22,
            fwd: DirectionStats {
                packets: 1,
                bytes: 60,
                payload_bytes: 0,
                tcp_flags: 0x02,
                payload_packets: 0,
                repeated_small_payloads: 0,
                last_payload_len: 0,
            },
            rev: DirectionStats::default(),
            first_ts: Timestamp::from_secs_nanos(secs, 0),
            last_ts: Timestamp::from_secs_nanos(secs, 0),
            state: TcpState::Handshake,
            end_reason: EndReason::IdleTimeout,
            app: Default::default(),
            details: None,
            reputation: None,
            features: None,
            tcp_health: None,
            vlan: None,
            tunnel: None,
        }
    }

    fn alert(id: u64, src: &str, dst: &str, secs: u64) -> Alert {
        Alert {
            id,
            kind: "brute_force".into(),
            severity: Severity::High,
            confidence: 0.9,
            start_ts: Timestamp::from_secs_nanos(secs, 0),
            last_ts: Timestamp::from_secs_nanos(secs, 0),
            updates: 0,
            sources: vec![src.parse().unwrap()],
            targets: vec![dst.parse().unwrap()],
            ports: vec![22],
            message: "m".into(),
            recommendation: "r".into(),
            evidence: serde_json::Value::Null,
        }
    }

    fn lines(w: &EveWriter<Vec<u8>>) -> Vec<serde_json::Value> {
        String::from_utf8(w.get_ref().clone())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn flushes_after_a_second_of_packet_time() {
        let mut w = EveWriter::new(Vec::new());
        w.flow(&flow("10.0.0.1", "10.0.0.2", 100));
        assert!(w.get_ref().is_empty(), "buffered");
        w.tick(Timestamp::from_secs_nanos(100, 500_000_000));
        assert!(w.get_ref().is_empty(), "half a second is not enough");
        w.tick(Timestamp::from_secs_nanos(101, 0));
        assert_eq!(lines(&w).len(), 1);
        // Older packet times do not move the clock back.
        w.flow(&flow("10.0.0.1", "10.0.0.3", 50));
        assert_eq!(lines(&w).len(), 1);
        let out = w.into_inner();
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 2);
    }

    #[test]
    fn flushes_after_enough_lines() {
        let mut w = EveWriter::new(Vec::new());
        for _ in 0..FLUSH_EVERY_LINES {
            w.flow(&flow("10.0.0.1", "10.0.0.2", 100));
        }
        assert_eq!(lines(&w).len(), FLUSH_EVERY_LINES);
        assert_eq!(w.stats().flows, FLUSH_EVERY_LINES as u64);
    }

    #[test]
    fn an_alert_is_written_when_it_opens_rises_and_ends_and_marks_its_flows() {
        let mut w = EveWriter::new(Vec::new());
        let mut a = alert(7, "10.0.0.9", "10.0.0.2", 100);
        assert!(w.alert(&a, IncidentStatus::Opened));
        assert!(
            !w.alert(&a, IncidentStatus::Updated),
            "same severity: no line"
        );
        a.severity = Severity::Critical;
        assert!(w.alert(&a, IncidentStatus::Updated), "a rise is written");
        assert!(!w.alert(&a, IncidentStatus::Updated));
        w.flow(&flow("10.0.0.9", "10.0.0.2", 101));
        w.flow(&flow("10.0.0.2", "10.0.0.9", 101));
        w.flow(&flow("10.0.0.9", "10.0.0.3", 101));
        assert!(w.alert(&a, IncidentStatus::Ended), "the end is written");
        // Within the linger after the end a flow is still marked; after it, no longer.
        w.flow(&flow("10.0.0.9", "10.0.0.2", 200));
        w.tick(Timestamp::from_secs_nanos(500, 0));
        w.flow(&flow("10.0.0.9", "10.0.0.2", 501));
        // An incident first seen at its end is written then.
        assert!(w.alert(
            &alert(8, "10.0.0.5", "10.0.0.2", 600),
            IncidentStatus::Ended
        ));
        w.flush();
        let v = lines(&w);
        let alerted: Vec<bool> = v
            .iter()
            .filter(|l| l["event_type"] == "flow")
            .map(|l| l["flow"]["alerted"].as_bool().unwrap())
            .collect();
        assert_eq!(alerted, [true, true, false, true, false]);
        let statuses: Vec<&str> = v
            .iter()
            .filter(|l| l["event_type"] == "alert")
            .map(|l| l["wirewatch"]["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["opened", "updated", "ended", "ended"]);
    }

    /// A writer that fails while `broken` is set.
    struct Flaky {
        broken: std::rc::Rc<std::cell::Cell<bool>>,
        data: Vec<u8>,
    }

    impl Write for Flaky {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.broken.get() {
                return Err(io::Error::other("disk full"));
            }
            self.data.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn io_errors_are_counted_reported_once_and_survived() {
        let broken = std::rc::Rc::new(std::cell::Cell::new(true));
        let mut w = EveWriter::new(Flaky {
            broken: broken.clone(),
            data: Vec::new(),
        });
        w.flow(&flow("10.0.0.1", "10.0.0.2", 100));
        w.flush();
        w.flush();
        assert_eq!(w.stats().errors, 2);
        assert_eq!(w.take_error().as_deref(), Some("disk full"));
        assert_eq!(w.take_error(), None, "one notice per streak");
        broken.set(false);
        w.flow(&flow("10.0.0.1", "10.0.0.3", 100));
        w.flush();
        let out = w.into_inner();
        let text = String::from_utf8(out.data).unwrap();
        // The line buffered before the failure survives and every line is whole.
        assert_eq!(text.lines().count(), 2);
        for l in text.lines() {
            serde_json::from_str::<serde_json::Value>(l).unwrap();
        }
    }
}
