//! The writer thread: the only connection that writes.
//!
//! It takes a batch from the queue, coalesces whatever else is already waiting, and writes it
//! all in one transaction with cached prepared statements; roll-ups are UPSERTed in the same
//! transaction, so they always agree with the raw intervals. A failed transaction (disk full,
//! file made read-only, lock timeout) is rolled back, counted and remembered, its batches are
//! dropped, and the thread carries on with the next batch. Retention runs here too, on packet
//! time. Nothing in this file may panic: the engine keeps submitting whatever happens here.

use super::codec::{end_reason_name, i64_of, severity_level};
use super::{Batch, Shared};
use crate::ip::ip_to_blob;
use crate::{Record, RetentionClock, RetentionConfig};
use rusqlite::types::Value;
use rusqlite::{Connection, Statement, Transaction, TransactionBehavior, params, params_from_iter};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;
use wirewatch_core::{Alert, FlowRecord, IntervalMetrics, Talker};

/// Most batches coalesced into one transaction: bounds the work lost to one failed
/// transaction and the time the engine's batches wait behind it.
pub(crate) const MAX_COALESCED_BATCHES: usize = 64;
/// Retention runs when its "now" (see `RetentionClock`) has advanced this much since its last
/// run (60 s): the deletes then touch about a minute of data each and stay short.
const RETENTION_EVERY_NS: i64 = 60 * NS;
/// The size cap is also checked after this many write transactions (a flood of flows can
/// grow the file faster than packet time advances).
const SIZE_CHECK_EVERY_WRITES: u32 = 64;
/// Share of the raw rows deleted per round over the size cap, on top of the share by which
/// the database is over it: deleting rows frees fewer pages than their share (index pages
/// are left sparse, not freed), so a round overshoots a little rather than crawl.
const SIZE_CAP_EXTRA_SHARE: f64 = 0.02;
/// Rounds of chunked deletes per retention pass (the rest waits for the next pass).
const SIZE_CAP_MAX_ROUNDS: u32 = 50;

const NS: i64 = 1_000_000_000;
const MINUTE_NS: i64 = 60 * NS;
const HOUR_NS: i64 = 3600 * NS;
const DAY_NS: i64 = 86_400 * NS;

/// Roll-up columns after `start_ts, intervals, duration_ns`, with how they combine.
#[derive(Clone, Copy, PartialEq)]
enum Agg {
    Sum,
    Max,
}

const ROLLUP_COLUMNS: [(&str, Agg); 28] = [
    ("packets", Agg::Sum),
    ("bytes", Agg::Sum),
    ("tcp", Agg::Sum),
    ("udp", Agg::Sum),
    ("icmp", Agg::Sum),
    ("icmpv6", Agg::Sum),
    ("other_ip", Agg::Sum),
    ("non_ip", Agg::Sum),
    ("syn", Agg::Sum),
    ("syn_ack", Agg::Sum),
    ("rst", Agg::Sum),
    ("fin", Agg::Sum),
    ("distinct_src_ips", Agg::Max),
    ("distinct_dst_ips", Agg::Max),
    ("flows_new", Agg::Sum),
    ("flows_active", Agg::Max),
    ("flows_closed", Agg::Sum),
    ("flows_live", Agg::Max),
    ("flows_evicted", Agg::Sum),
    ("decode_errors", Agg::Sum),
    ("drops_kernel", Agg::Sum),
    ("drops_interface", Agg::Sum),
    ("drops_queue", Agg::Sum),
    ("tcp_retransmissions", Agg::Sum),
    ("tcp_out_of_order", Agg::Sum),
    ("tcp_handshakes_timed", Agg::Sum),
    ("tcp_rtt_p50_wsum_us", Agg::Sum),
    ("tcp_rtt_p95_max_us", Agg::Max),
];

/// The values of [`ROLLUP_COLUMNS`] for one interval, in order.
fn rollup_values(m: &IntervalMetrics) -> [i64; 28] {
    // Round-trip times in whole microseconds (see migration 0011).
    let us = |ms: Option<f64>| ms.map_or(0, |ms| (ms * 1000.0).round().max(0.0) as u64);
    [
        m.packets,
        m.bytes,
        m.protocols.tcp,
        m.protocols.udp,
        m.protocols.icmp,
        m.protocols.icmpv6,
        m.protocols.other_ip,
        m.protocols.non_ip,
        m.tcp_flags.syn,
        m.tcp_flags.syn_ack,
        m.tcp_flags.rst,
        m.tcp_flags.fin,
        m.distinct_src_ips,
        m.distinct_dst_ips,
        m.flows_new,
        m.flows_active,
        m.flows_closed,
        m.flows_live,
        m.flows_evicted,
        m.decode_errors,
        m.drops.kernel,
        m.drops.interface,
        m.drops.queue,
        m.tcp_retransmissions,
        m.tcp_out_of_order,
        m.tcp_handshakes_timed,
        us(m.tcp_rtt_p50_ms).saturating_mul(m.tcp_handshakes_timed),
        us(m.tcp_rtt_p95_ms),
    ]
    .map(i64_of)
}

/// The UPSERT that folds one interval into a roll-up table.
fn rollup_sql(table: &str) -> String {
    let names: Vec<&str> = ROLLUP_COLUMNS.iter().map(|(n, _)| *n).collect();
    let placeholders: Vec<String> = (0..names.len()).map(|i| format!("?{}", i + 3)).collect();
    let updates: Vec<String> = ROLLUP_COLUMNS
        .iter()
        .map(|(n, agg)| match agg {
            Agg::Sum => format!("{n} = {n} + excluded.{n}"),
            Agg::Max => format!("{n} = max({n}, excluded.{n})"),
        })
        .collect();
    let pps = names.len() + 3;
    format!(
        "INSERT INTO {table} (start_ts, intervals, duration_ns, {cols}, max_pps, max_bps) \
         VALUES (?1, 1, ?2, {vals}, ?{pps}, ?{bps}) \
         ON CONFLICT(start_ts) DO UPDATE SET intervals = intervals + 1, \
         duration_ns = duration_ns + excluded.duration_ns, {updates}, \
         max_pps = max(max_pps, excluded.max_pps), max_bps = max(max_bps, excluded.max_bps)",
        cols = names.join(", "),
        vals = placeholders.join(", "),
        bps = pps + 1,
        updates = updates.join(", "),
    )
}

const INSERT_INTERVAL: &str = "INSERT INTO intervals (start_ts, duration_ns, packets, bytes, \
    bps, pps, tcp, udp, icmp, icmpv6, other_ip, non_ip, syn, syn_ack, rst, fin, \
    distinct_src_ips, distinct_dst_ips, flows_new, flows_active, flows_closed, flows_live, \
    flows_evicted, decode_errors, drops_kernel, drops_interface, drops_queue, \
    talkers_approximate, apps, distinct_dst_ports, src_entropy, dst_entropy, tcp_retransmissions, \
    tcp_out_of_order, tcp_handshakes_timed, tcp_rtt_p50_ms, tcp_rtt_p95_ms) VALUES (?1, ?2, ?3, \
    ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, \
    ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37) \
    ON CONFLICT(start_ts) DO NOTHING";

const INSERT_TALKER: &str = "INSERT INTO talkers (start_ts, direction, ip, ip_text, packets, \
    bytes, name, reputation) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO UPDATE SET \
    packets = max(packets, excluded.packets), bytes = max(bytes, excluded.bytes), \
    name = coalesce(excluded.name, name), reputation = coalesce(excluded.reputation, reputation)";

pub(crate) const INSERT_FLOW: &str = "INSERT INTO flows (first_ts, last_ts, proto, src_ip, \
    src_port, dst_ip, dst_port, packets_fwd, bytes_fwd, packets_rev, bytes_rev, \
    payload_bytes_fwd, payload_bytes_rev, tcp_flags_fwd, tcp_flags_rev, state, end_reason, app, \
    server_name, app_source, details, reputation, features, tcp_rtt_ms, tcp_retransmissions, \
    tcp_out_of_order, tcp_lost_segments, tcp_zero_windows, vlan, tunnel) VALUES (?1, ?2, ?3, ?4, \
    ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, \
    ?25, ?26, ?27, ?28, ?29, ?30)";

pub(crate) const UPDATE_MAX_FLOW_DURATION: &str = "INSERT INTO meta (key, value) \
    VALUES ('max_flow_duration_ns', ?1) \
    ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)";

const UPSERT_ALERT: &str = "INSERT INTO alerts (id, kind, severity, severity_level, confidence, \
    start_ts, last_ts, updates, sources, targets, ports, message, recommendation, evidence) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
    ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, severity = excluded.severity, \
    severity_level = excluded.severity_level, confidence = excluded.confidence, \
    start_ts = excluded.start_ts, last_ts = excluded.last_ts, updates = excluded.updates, \
    sources = excluded.sources, targets = excluded.targets, ports = excluded.ports, \
    message = excluded.message, recommendation = excluded.recommendation, \
    evidence = excluded.evidence";

/// Binds and runs the flow insert (shared with the bulk loader).
pub(crate) fn insert_flow(stmt: &mut Statement<'_>, f: &FlowRecord) -> rusqlite::Result<()> {
    let known = f.app.source != wirewatch_core::AppSource::None;
    let tcp = f.tcp_health.as_ref();
    // Details serialize infallibly (strings, numbers and maps with string keys).
    let details = f
        .details
        .as_ref()
        .and_then(|d| serde_json::to_string(d).ok());
    stmt.execute(params![
        i64_of(f.first_ts.0),
        i64_of(f.last_ts.0),
        f.ip_proto,
        &ip_to_blob(f.src_ip)[..],
        f.src_port,
        &ip_to_blob(f.dst_ip)[..],
        f.dst_port,
        i64_of(f.fwd.packets),
        i64_of(f.fwd.bytes),
        i64_of(f.rev.packets),
        i64_of(f.rev.bytes),
        i64_of(f.fwd.payload_bytes),
        i64_of(f.rev.payload_bytes),
        f.fwd.tcp_flags,
        f.rev.tcp_flags,
        f.state.name(),
        end_reason_name(f.end_reason),
        known.then(|| f.app.proto.name()),
        f.server_name(),
        known.then(|| f.app.source.name()),
        details,
        f.reputation
            .as_ref()
            .and_then(|r| serde_json::to_string(r).ok()),
        f.features.as_deref().map(features_blob),
        tcp.and_then(|h| h.handshake_rtt_ms()),
        tcp.map(|h| i64_of(h.retransmissions)),
        tcp.map(|h| i64_of(h.out_of_order)),
        tcp.map(|h| i64_of(h.lost_segments)),
        tcp.map(|h| i64_of(h.zero_windows)),
        f.vlan,
        f.tunnel.as_ref().map(|t| t.summary()),
    ])?;
    Ok(())
}

/// Flow features as little-endian f32 values (half the size of f64; CICFlowMeter's CSVs carry
/// fewer significant digits anyway).
fn features_blob(values: &[f64]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|v| (*v as f32).to_le_bytes())
        .collect()
}

/// What one transaction changed, applied to the writer's state only once it committed.
#[derive(Default)]
struct Written {
    latest_ts: i64,
    max_flow_duration: i64,
}

/// The writer thread's state.
pub(crate) struct Writer {
    conn: Connection,
    shared: Arc<Shared>,
    retention: RetentionConfig,
    clock: RetentionClock,
    rollup_sql: [String; 2],
    /// Latest packet time written since the store was opened (interval ends, flow and alert
    /// last times, transaction times); `None` before the first write. Rows stored by earlier runs do not count:
    /// a bogus future time an older version stored cannot make this run delete anything.
    latest_ts: Option<i64>,
    /// Packet time of the last retention pass (`None`: not run yet).
    retained_at: Option<i64>,
    writes_since_size_check: u32,
    max_flow_duration: i64,
}

impl Writer {
    pub(crate) fn new(
        conn: Connection,
        shared: Arc<Shared>,
        retention: RetentionConfig,
        clock: RetentionClock,
    ) -> Self {
        let max_flow_duration = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'max_flow_duration_ns'",
                [],
                |r| r.get(0),
            )
            .unwrap_or(0);
        Writer {
            conn,
            shared,
            retention,
            clock,
            rollup_sql: [rollup_sql("intervals_1m"), rollup_sql("intervals_1h")],
            latest_ts: None,
            retained_at: None,
            writes_since_size_check: 0,
            max_flow_duration,
        }
    }

    /// Runs until every sender is gone and the queue is drained.
    pub(crate) fn run(mut self, rx: Receiver<Batch>) {
        let mut batches = Vec::with_capacity(MAX_COALESCED_BATCHES);
        while let Ok(first) = rx.recv() {
            batches.push(first);
            while batches.len() < MAX_COALESCED_BATCHES {
                match rx.try_recv() {
                    Ok(b) => batches.push(b),
                    Err(_) => break,
                }
            }
            let bytes: u64 = batches.iter().map(|b| b.bytes).sum();
            if self.shared.abandoned.load(Ordering::Relaxed) {
                // A shutdown that could not wait: what is left is counted as lost.
                let records = batches.iter().map(|b| b.records.len() as u64).sum();
                self.shared.dropped(batches.len() as u64, records);
            } else {
                // Belt and braces: nothing here should panic, but if a bug does, the work is
                // counted as failed and the thread lives on (the engine keeps submitting).
                let internal = "internal error in the store writer (a bug: please report it)";
                if catch_unwind(AssertUnwindSafe(|| self.write(&batches))).is_err() {
                    let records = batches.iter().map(|b| b.records.len() as u64).sum();
                    self.shared
                        .failed(batches.len() as u64, records, internal.to_string());
                }
                if catch_unwind(AssertUnwindSafe(|| self.maybe_retain())).is_err() {
                    self.shared.retention_failed(internal.to_string());
                }
            }
            let last_seq = batches.last().map_or(0, |b| b.seq);
            batches.clear();
            self.shared.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
            self.shared.mark_done(last_seq);
        }
        // Planner statistics for the next run's readers; cheap with analysis_limit.
        let _ = self
            .conn
            .execute_batch("PRAGMA analysis_limit = 1000; PRAGMA optimize;");
    }

    fn write(&mut self, batches: &[Batch]) {
        let records: u64 = batches.iter().map(|b| b.records.len() as u64).sum();
        let result = write_transaction(
            &mut self.conn,
            &self.rollup_sql,
            batches,
            self.max_flow_duration,
        );
        match result {
            Ok(w) => {
                if w.latest_ts > 0 {
                    self.latest_ts =
                        Some(self.latest_ts.map_or(w.latest_ts, |t| t.max(w.latest_ts)));
                }
                self.max_flow_duration = self.max_flow_duration.max(w.max_flow_duration);
                self.shared.written(batches.len() as u64, records);
            }
            Err(e) => {
                let message = format!(
                    "writing {records} records to {} failed: {e}",
                    self.shared.path.display()
                );
                self.shared.failed(batches.len() as u64, records, message);
            }
        }
        self.writes_since_size_check = self.writes_since_size_check.saturating_add(1);
    }

    /// "Now" for retention (see [`RetentionClock`]); `None`: nothing to measure from yet.
    fn now(&self) -> Option<i64> {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        match self.clock {
            RetentionClock::WallClock => Some(wall),
            RetentionClock::WrittenPacketTime => self.latest_ts.map(|t| t.min(wall)),
        }
    }

    /// Deletes what retention no longer keeps, measured back from [`Writer::now`]; enforces
    /// the size cap.
    fn maybe_retain(&mut self) {
        let now = self.now();
        let due_by_time = match (now, self.retained_at) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(now), Some(at)) => now >= at.saturating_add(RETENTION_EVERY_NS),
        };
        let due_by_size = self.retention.max_db_mb.is_some()
            && self.writes_since_size_check >= SIZE_CHECK_EVERY_WRITES;
        if !due_by_time && !due_by_size {
            return;
        }
        let mut result = Ok(());
        if let Some(now) = now.filter(|_| due_by_time) {
            self.retained_at = Some(now);
            result = retain(&mut self.conn, &self.retention, now);
        }
        if result.is_ok()
            && let Some(mb) = self.retention.max_db_mb
        {
            self.writes_since_size_check = 0;
            result = enforce_size_cap(&mut self.conn, mb);
        }
        if let Err(e) = result {
            self.shared.retention_failed(format!(
                "retention on {} failed: {e}",
                self.shared.path.display()
            ));
        }
    }
}

fn write_transaction(
    conn: &mut Connection,
    rollup_sql: &[String; 2],
    batches: &[Batch],
    known_max_flow_duration: i64,
) -> rusqlite::Result<Written> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut w = Written {
        latest_ts: 0,
        max_flow_duration: known_max_flow_duration,
    };
    for record in batches.iter().flat_map(|b| b.records.iter()) {
        match record {
            Record::Interval(m) => {
                write_interval(&tx, rollup_sql, m)?;
                w.latest_ts = w.latest_ts.max(i64_of(m.end_ts().0));
            }
            Record::Flow(f) => write_flow(&tx, f, &mut w)?,
            Record::Alert(a) => {
                write_alert(&tx, a)?;
                w.latest_ts = w.latest_ts.max(i64_of(a.last_ts.0));
            }
            Record::Transaction(t) => {
                let at = super::transactions::insert(&tx, t)?;
                w.latest_ts = w.latest_ts.max(at);
            }
        }
    }
    if w.max_flow_duration > known_max_flow_duration {
        tx.prepare_cached(UPDATE_MAX_FLOW_DURATION)?
            .execute([w.max_flow_duration])?;
    }
    tx.commit()?;
    Ok(w)
}

fn write_flow(tx: &Transaction<'_>, f: &FlowRecord, w: &mut Written) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(INSERT_FLOW)?;
    insert_flow(&mut stmt, f)?;
    w.latest_ts = w.latest_ts.max(i64_of(f.last_ts.0));
    w.max_flow_duration = w.max_flow_duration.max(i64_of(f.last_ts.since(f.first_ts)));
    Ok(())
}

/// Stores an interval, its talkers and its share of both roll-ups. An interval already stored
/// (same start) is left as it was and not counted again, so roll-ups stay exact sums.
fn write_interval(
    tx: &Transaction<'_>,
    rollup_sql: &[String; 2],
    m: &IntervalMetrics,
) -> rusqlite::Result<()> {
    let start = i64_of(m.start_ts.0);
    let inserted = tx.prepare_cached(INSERT_INTERVAL)?.execute(params![
        start,
        i64_of(m.duration_ns),
        i64_of(m.packets),
        i64_of(m.bytes),
        m.bps,
        m.pps,
        i64_of(m.protocols.tcp),
        i64_of(m.protocols.udp),
        i64_of(m.protocols.icmp),
        i64_of(m.protocols.icmpv6),
        i64_of(m.protocols.other_ip),
        i64_of(m.protocols.non_ip),
        i64_of(m.tcp_flags.syn),
        i64_of(m.tcp_flags.syn_ack),
        i64_of(m.tcp_flags.rst),
        i64_of(m.tcp_flags.fin),
        i64_of(m.distinct_src_ips),
        i64_of(m.distinct_dst_ips),
        i64_of(m.flows_new),
        i64_of(m.flows_active),
        i64_of(m.flows_closed),
        i64_of(m.flows_live),
        i64_of(m.flows_evicted),
        i64_of(m.decode_errors),
        i64_of(m.drops.kernel),
        i64_of(m.drops.interface),
        i64_of(m.drops.queue),
        m.talkers_approximate,
        serde_json::to_string(&m.apps).ok(),
        i64_of(m.distinct_dst_ports),
        m.src_entropy,
        m.dst_entropy,
        i64_of(m.tcp_retransmissions),
        i64_of(m.tcp_out_of_order),
        i64_of(m.tcp_handshakes_timed),
        m.tcp_rtt_p50_ms,
        m.tcp_rtt_p95_ms,
    ])?;
    if inserted == 0 {
        return Ok(());
    }
    let values = rollup_values(m);
    for (sql, bucket) in rollup_sql.iter().zip([MINUTE_NS, HOUR_NS]) {
        let mut args: Vec<Value> = Vec::with_capacity(values.len() + 4);
        args.push(Value::Integer(start - start.rem_euclid(bucket)));
        args.push(Value::Integer(i64_of(m.duration_ns)));
        args.extend(values.iter().map(|v| Value::Integer(*v)));
        args.push(Value::Real(m.pps));
        args.push(Value::Real(m.bps));
        tx.prepare_cached(sql)?.execute(params_from_iter(args))?;
    }
    let mut stmt = tx.prepare_cached(INSERT_TALKER)?;
    for (direction, lists) in [
        ("src", [&m.top_sources_by_bytes, &m.top_sources_by_packets]),
        (
            "dst",
            [&m.top_destinations_by_bytes, &m.top_destinations_by_packets],
        ),
    ] {
        for (ip, t) in merge_talkers(lists) {
            stmt.execute(params![
                start,
                direction,
                &ip_to_blob(ip)[..],
                ip.to_string(),
                i64_of(t.packets),
                i64_of(t.bytes),
                m.host_name(ip),
                m.reputation(ip).and_then(|r| serde_json::to_string(r).ok()),
            ])?;
        }
    }
    Ok(())
}

/// The union of the by-bytes and by-packets lists, one entry per address.
fn merge_talkers(lists: [&Vec<Talker>; 2]) -> BTreeMap<IpAddr, Talker> {
    let mut merged: BTreeMap<IpAddr, Talker> = BTreeMap::new();
    for t in lists.into_iter().flatten() {
        merged
            .entry(t.ip)
            .and_modify(|e| {
                e.packets = e.packets.max(t.packets);
                e.bytes = e.bytes.max(t.bytes);
            })
            .or_insert(*t);
    }
    merged
}

fn write_alert(tx: &Transaction<'_>, a: &Alert) -> rusqlite::Result<()> {
    let json = |v: Result<String, serde_json::Error>| {
        v.map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
    };
    tx.prepare_cached(UPSERT_ALERT)?.execute(params![
        // Ids round-trip through i64 bit for bit (ids above i64::MAX read back unchanged).
        a.id as i64,
        a.kind,
        a.severity.name(),
        severity_level(a.severity),
        a.confidence,
        i64_of(a.start_ts.0),
        i64_of(a.last_ts.0),
        i64_of(a.updates),
        json(serde_json::to_string(&a.sources))?,
        json(serde_json::to_string(&a.targets))?,
        json(serde_json::to_string(&a.ports))?,
        a.message,
        a.recommendation,
        json(serde_json::to_string(&a.evidence))?,
    ])?;
    Ok(())
}

/// One retention pass: everything older than each kind's horizon, back from `latest`.
fn retain(conn: &mut Connection, r: &RetentionConfig, latest: i64) -> rusqlite::Result<()> {
    let cutoff = |keep: u64, unit: i64| -> Option<i64> {
        (keep > 0).then(|| latest.saturating_sub(i64_of(keep).saturating_mul(unit)))
    };
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Some(c) = cutoff(r.intervals_hours, HOUR_NS) {
        tx.prepare_cached("DELETE FROM intervals WHERE start_ts < ?1")?
            .execute([c])?;
        tx.prepare_cached("DELETE FROM talkers WHERE start_ts < ?1")?
            .execute([c])?;
    }
    if let Some(c) = cutoff(r.minute_rollup_days, DAY_NS) {
        tx.prepare_cached("DELETE FROM intervals_1m WHERE start_ts < ?1")?
            .execute([c])?;
    }
    if let Some(c) = cutoff(r.hour_rollup_days, DAY_NS) {
        tx.prepare_cached("DELETE FROM intervals_1h WHERE start_ts < ?1")?
            .execute([c])?;
    }
    if let Some(c) = cutoff(r.flows_days, DAY_NS) {
        tx.prepare_cached("DELETE FROM flows WHERE last_ts < ?1")?
            .execute([c])?;
    }
    if let Some(c) = cutoff(r.alerts_days, DAY_NS) {
        tx.prepare_cached("DELETE FROM alerts WHERE last_ts < ?1")?
            .execute([c])?;
    }
    if let Some(c) = cutoff(r.transactions_days, DAY_NS) {
        tx.prepare_cached("DELETE FROM transactions WHERE ts < ?1")?
            .execute([c])?;
    }
    tx.commit()
}

/// Bytes of pages in use (free pages are reused before the file grows).
pub(crate) fn live_bytes(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT (p.page_count - f.freelist_count) * s.page_size
         FROM pragma_page_count() p, pragma_freelist_count() f, pragma_page_size() s",
        [],
        |r| r.get(0),
    )
}

/// Deletes the oldest raw intervals, talkers, flows and transactions in chunks until the
/// pages in use fit in `max_mb`, then gives the freed pages back to the file system.
fn enforce_size_cap(conn: &mut Connection, max_mb: u64) -> rusqlite::Result<()> {
    let cap = i64_of(max_mb.saturating_mul(1024 * 1024));
    let mut deleted_any = false;
    for _ in 0..SIZE_CAP_MAX_ROUNDS {
        let live = live_bytes(conn)?;
        if live <= cap {
            break;
        }
        let share = ((live - cap) as f64 / live as f64 + SIZE_CAP_EXTRA_SHARE).min(0.5);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Flow and transaction ids grow with insertion, so their span estimates the row
        // count without a full count(*) over millions of rows.
        let (flow_span, transaction_span, intervals): (i64, i64, i64) = tx.query_row(
            "SELECT (SELECT coalesce(max(id) - min(id) + 1, 0) FROM flows),
                    (SELECT coalesce(max(id) - min(id) + 1, 0) FROM transactions),
                    (SELECT count(*) FROM intervals)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let chunk = |rows: i64, at_least: i64| ((rows as f64 * share).ceil() as i64).max(at_least);
        let flows = tx
            .prepare_cached(
                "DELETE FROM flows WHERE id IN
                 (SELECT id FROM flows ORDER BY last_ts LIMIT ?1)",
            )?
            .execute([chunk(flow_span, 100)])?;
        let transactions = tx
            .prepare_cached(
                "DELETE FROM transactions WHERE id IN
                 (SELECT id FROM transactions ORDER BY ts LIMIT ?1)",
            )?
            .execute([chunk(transaction_span, 100)])?;
        let boundary: Option<i64> = tx
            .prepare_cached(
                "SELECT max(start_ts) FROM
                 (SELECT start_ts FROM intervals ORDER BY start_ts LIMIT ?1)",
            )?
            .query_row([chunk(intervals, 10)], |r| r.get(0))?;
        let mut raw = 0;
        if let Some(b) = boundary {
            raw += tx
                .prepare_cached("DELETE FROM intervals WHERE start_ts <= ?1")?
                .execute([b])?;
            raw += tx
                .prepare_cached("DELETE FROM talkers WHERE start_ts <= ?1")?
                .execute([b])?;
        }
        tx.commit()?;
        if flows + transactions + raw == 0 {
            break;
        }
        deleted_any = true;
    }
    if deleted_any {
        conn.execute_batch("PRAGMA incremental_vacuum")?;
    }
    Ok(())
}
