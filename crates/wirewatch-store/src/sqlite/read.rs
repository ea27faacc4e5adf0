//! Queries on a read-only connection. Every value from the caller is a bound parameter; the
//! only text spliced into SQL is a table name or sort expression picked from the constants
//! below by a whitelisted column name.

use super::codec::{severity_level, severity_of_level, u64_of};
use super::schema::sqlite_error;
use crate::RetentionConfig;
use crate::error::StoreError;
use crate::ip::{blob_to_ip, net_range};
use crate::query::{IntervalRow, Page, Query, Resolution, TalkerRow, ThreatColumns};
use ipnet::IpNet;
use rusqlite::types::{Type, Value};
use rusqlite::{Row, Transaction, params_from_iter};
use std::path::Path;
use wirewatch_core::{Alert, DropCounts, ProtocolCounts, TcpFlagCounts, Timestamp};

const NS_F: f64 = 1_000_000_000.0;
const HOUR_NS: i64 = 3_600_000_000_000;
const DAY_NS: i64 = 24 * HOUR_NS;

/// WHERE clauses and their parameters, in order.
#[derive(Default)]
pub(super) struct Filter {
    pub(super) clauses: Vec<String>,
    pub(super) params: Vec<Value>,
}

impl Filter {
    pub(super) fn push(&mut self, clause: &str, params: impl IntoIterator<Item = Value>) {
        self.clauses.push(clause.to_string());
        self.params.extend(params);
    }

    pub(super) fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }

    /// An address filter on `columns` (any of them matching): equality for a single address,
    /// a BLOB range for a network.
    pub(super) fn ip(&mut self, net: &IpNet, columns: &[&str]) {
        let (lo, hi) = net_range(net);
        let single = lo == hi;
        let parts: Vec<String> = columns
            .iter()
            .map(|c| {
                if single {
                    format!("{c} = ?")
                } else {
                    format!("{c} BETWEEN ? AND ?")
                }
            })
            .collect();
        let mut params = Vec::new();
        for _ in columns {
            params.push(Value::Blob(lo.to_vec()));
            if !single {
                params.push(Value::Blob(hi.to_vec()));
            }
        }
        self.push(&format!("({})", parts.join(" OR ")), params);
    }

    /// A case-insensitive substring filter on `columns` (any of them matching).
    pub(super) fn contains(&mut self, needle: &str, columns: &[&str]) {
        let pattern = like_pattern(needle);
        let parts: Vec<String> = columns
            .iter()
            .map(|c| format!("{c} LIKE ? ESCAPE '\\'"))
            .collect();
        self.push(
            &format!("({})", parts.join(" OR ")),
            columns.iter().map(|_| Value::Text(pattern.clone())),
        );
    }
}

/// `%needle%` with LIKE's wildcards in the needle escaped, so `%`, `_` and `\` match
/// themselves.
pub(super) fn like_pattern(needle: &str) -> String {
    let mut p = String::with_capacity(needle.len() + 2);
    p.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

pub(super) fn ts(t: Timestamp) -> Value {
    Value::Integer(i64::try_from(t.0).unwrap_or(i64::MAX))
}

/// A stored timestamp in seconds, computed exactly as [`Timestamp::as_secs_f64`] so stored
/// and live values compare equal.
pub(super) fn secs(ns: i64) -> f64 {
    Timestamp(u64_of(ns)).as_secs_f64()
}

pub(super) fn direction(descending: bool) -> &'static str {
    if descending { "DESC" } else { "ASC" }
}

/// A conversion error for a stored value this build cannot read.
pub(super) fn bad_value(col: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, Type::Text, what.to_string().into())
}

fn count(tx: &Transaction<'_>, table: &str, f: &Filter) -> rusqlite::Result<u64> {
    let sql = format!("SELECT count(*) FROM {table}{}", f.sql());
    let n: i64 = tx
        .prepare_cached(&sql)?
        .query_row(params_from_iter(f.params.iter()), |r| r.get(0))?;
    Ok(u64_of(n))
}

/// Counts the filtered rows, then runs the page query
/// `SELECT {columns} FROM {table} {where} ORDER BY {order} LIMIT .. OFFSET ..`.
pub(super) fn page<T>(
    tx: &Transaction<'_>,
    q: &Query,
    (columns, table): (&str, &str),
    f: &Filter,
    order: &str,
    map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Page<T>> {
    let total = count(tx, table, f)?;
    let sql = format!(
        "SELECT {columns} FROM {table}{} ORDER BY {order} LIMIT ? OFFSET ?",
        f.sql()
    );
    let mut params = f.params.clone();
    params.push(Value::Integer(i64::try_from(q.limit).unwrap_or(i64::MAX)));
    params.push(Value::Integer(i64::try_from(q.offset).unwrap_or(i64::MAX)));
    let mut stmt = tx.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params_from_iter(params.iter()), map)?
        .collect::<rusqlite::Result<Vec<T>>>()?;
    Ok(Page {
        rows,
        total,
        offset: q.offset,
        limit: q.limit,
    })
}

// ---------------------------------------------------------------------------------------
// Intervals

const RAW_INTERVAL_COLUMNS: &str = "start_ts, duration_ns, 1, packets, bytes, bps, pps, tcp, \
    udp, icmp, icmpv6, other_ip, non_ip, syn, syn_ack, rst, fin, distinct_src_ips, \
    distinct_dst_ips, flows_new, flows_active, flows_closed, flows_live, flows_evicted, \
    decode_errors, drops_kernel, drops_interface, drops_queue, pps, bps, apps, \
    distinct_dst_ports, src_entropy, dst_entropy, tcp_retransmissions, tcp_out_of_order, \
    tcp_handshakes_timed, tcp_rtt_p50_ms, tcp_rtt_p95_ms";

const ROLLUP_INTERVAL_COLUMNS: &str = "start_ts, duration_ns, intervals, packets, bytes, NULL, \
    NULL, tcp, udp, icmp, icmpv6, other_ip, non_ip, syn, syn_ack, rst, fin, distinct_src_ips, \
    distinct_dst_ips, flows_new, flows_active, flows_closed, flows_live, flows_evicted, \
    decode_errors, drops_kernel, drops_interface, drops_queue, max_pps, max_bps, NULL, 0, 0, 0, \
    tcp_retransmissions, tcp_out_of_order, tcp_handshakes_timed, \
    CASE WHEN tcp_handshakes_timed > 0 THEN tcp_rtt_p50_wsum_us / 1000.0 / tcp_handshakes_timed END, \
    CASE WHEN tcp_handshakes_timed > 0 THEN tcp_rtt_p95_max_us / 1000.0 END";

fn interval_sort_expr(column: &'static str, res: Resolution) -> &'static str {
    let raw = res == Resolution::Raw;
    match column {
        "bps" if !raw => "(bytes * 1.0 / max(duration_ns, 1))",
        "pps" if !raw => "(packets * 1.0 / max(duration_ns, 1))",
        "max_pps" if raw => "pps",
        "max_bps" if raw => "bps",
        // Every raw row covers one interval.
        "intervals" if raw => "start_ts",
        other => other,
    }
}

fn interval_row(r: &Row<'_>, res: Resolution) -> rusqlite::Result<IntervalRow> {
    let c = |i: usize| -> rusqlite::Result<u64> { Ok(u64_of(r.get::<_, i64>(i)?)) };
    let duration_ns: i64 = r.get(1)?;
    let packets = c(3)?;
    let bytes = c(4)?;
    let duration_s = duration_ns.max(0) as f64 / NS_F;
    let rate = |n: u64| {
        if duration_s > 0.0 {
            n as f64 / duration_s
        } else {
            0.0
        }
    };
    let bps = r
        .get::<_, Option<f64>>(5)?
        .unwrap_or_else(|| rate(bytes) * 8.0);
    let pps = r.get::<_, Option<f64>>(6)?.unwrap_or_else(|| rate(packets));
    Ok(IntervalRow {
        start_ts: secs(r.get(0)?),
        duration_s,
        packets,
        bytes,
        bps,
        pps,
        protocols: ProtocolCounts {
            tcp: c(7)?,
            udp: c(8)?,
            icmp: c(9)?,
            icmpv6: c(10)?,
            other_ip: c(11)?,
            non_ip: c(12)?,
        },
        tcp_flags: TcpFlagCounts {
            syn: c(13)?,
            syn_ack: c(14)?,
            rst: c(15)?,
            fin: c(16)?,
        },
        distinct_src_ips: c(17)?,
        distinct_dst_ips: c(18)?,
        flows_new: c(19)?,
        flows_active: c(20)?,
        flows_closed: c(21)?,
        flows_live: c(22)?,
        flows_evicted: c(23)?,
        decode_errors: c(24)?,
        drops: DropCounts {
            kernel: c(25)?,
            interface: c(26)?,
            queue: c(27)?,
        },
        intervals: c(2)?,
        max_pps: r.get(28)?,
        max_bps: r.get(29)?,
        resolution: res,
        apps: r
            .get::<_, Option<String>>(30)?
            .and_then(|a| serde_json::from_str(&a).ok())
            .unwrap_or_default(),
        distinct_dst_ports: c(31)?,
        src_entropy: r.get(32)?,
        dst_entropy: r.get(33)?,
        tcp_retransmissions: c(34)?,
        tcp_out_of_order: c(35)?,
        tcp_handshakes_timed: c(36)?,
        tcp_rtt_p50_ms: r.get(37)?,
        tcp_rtt_p95_ms: r.get(38)?,
    })
}

/// Picks the table for `Resolution::Auto`: the finest one whose retention still holds the
/// start of the range and whose row count for the range stays chart-sized.
fn resolve(
    tx: &Transaction<'_>,
    q: &Query,
    retention: &RetentionConfig,
) -> rusqlite::Result<Resolution> {
    if q.resolution != Resolution::Auto {
        return Ok(q.resolution);
    }
    let (latest, earliest): (Option<i64>, Option<i64>) = tx
        .prepare_cached(
            "SELECT max((SELECT max(start_ts) FROM intervals),
                        (SELECT max(start_ts) FROM intervals_1m),
                        (SELECT max(start_ts) FROM intervals_1h)),
                    min((SELECT min(start_ts) FROM intervals),
                        (SELECT min(start_ts) FROM intervals_1m),
                        (SELECT min(start_ts) FROM intervals_1h))",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let (Some(latest), Some(earliest)) = (latest, earliest) else {
        return Ok(Resolution::Raw);
    };
    let as_i64 = |t: Timestamp| i64::try_from(t.0).unwrap_or(i64::MAX);
    let from = q.from.map_or(earliest, as_i64).max(earliest);
    let to = q.to.map_or(latest, as_i64).min(latest);
    let span = u64::try_from(to.saturating_sub(from)).unwrap_or(0);
    let keeps = |keep: u64, unit: i64| {
        keep == 0
            || from
                >= latest
                    .saturating_sub(i64::try_from(keep).unwrap_or(i64::MAX).saturating_mul(unit))
    };
    if keeps(retention.intervals_hours, HOUR_NS) && span <= Resolution::AUTO_RAW_MAX_SPAN_NS {
        Ok(Resolution::Raw)
    } else if keeps(retention.minute_rollup_days, DAY_NS)
        && span <= Resolution::AUTO_MINUTE_MAX_SPAN_NS
    {
        Ok(Resolution::Minute)
    } else {
        Ok(Resolution::Hour)
    }
}

pub(crate) fn intervals(
    tx: &Transaction<'_>,
    path: &Path,
    q: &Query,
    retention: &RetentionConfig,
) -> Result<Page<IntervalRow>, StoreError> {
    let sort = q.sort_for("intervals")?;
    let err = |e: rusqlite::Error| sqlite_error(path, &e);
    let res = resolve(tx, q, retention).map_err(err)?;
    let (table, columns) = match res {
        Resolution::Minute => ("intervals_1m", ROLLUP_INTERVAL_COLUMNS),
        Resolution::Hour => ("intervals_1h", ROLLUP_INTERVAL_COLUMNS),
        Resolution::Raw | Resolution::Auto => ("intervals", RAW_INTERVAL_COLUMNS),
    };
    let mut f = Filter::default();
    if let Some(from) = q.from {
        // A roll-up row whose bucket contains `from` overlaps the range.
        f.push("start_ts >= ?", [ts(from.floor_to(res.bucket_ns()))]);
    }
    if let Some(to) = q.to {
        f.push("start_ts <= ?", [ts(to)]);
    }
    let dir = direction(q.descending);
    let order = format!("{} {dir}, start_ts {dir}", interval_sort_expr(sort, res));
    page(tx, q, (columns, table), &f, &order, |r| {
        interval_row(r, res)
    })
    .map_err(err)
}

// ---------------------------------------------------------------------------------------
// Talkers

pub(crate) fn talkers(
    tx: &Transaction<'_>,
    path: &Path,
    q: &Query,
) -> Result<Page<TalkerRow>, StoreError> {
    let sort = q.sort_for("talkers")?;
    let mut f = Filter::default();
    if let Some(from) = q.from {
        f.push("start_ts >= ?", [ts(from)]);
    }
    if let Some(to) = q.to {
        f.push("start_ts <= ?", [ts(to)]);
    }
    if let Some(net) = &q.ip {
        f.ip(net, &["ip"]);
    }
    if let Some(kind) = &q.kind {
        if kind != "src" && kind != "dst" {
            return Err(StoreError::BadQuery(format!(
                "talkers have no kind {kind:?}: use src (sources) or dst (destinations)"
            )));
        }
        f.push("direction = ?", [Value::Text(kind.clone())]);
    }
    for needle in [&q.name, &q.text].into_iter().flatten() {
        f.push(
            "name LIKE ? ESCAPE '\\'",
            [Value::Text(like_pattern(needle))],
        );
    }
    let dir = direction(q.descending);
    let order = format!("{sort} {dir}, start_ts {dir}, direction, ip");
    page(
        tx,
        q,
        (
            "start_ts, direction, ip, packets, bytes, name, reputation",
            "talkers",
        ),
        &f,
        &order,
        |r| {
            let blob: Vec<u8> = r.get(2)?;
            Ok(TalkerRow {
                start_ts: secs(r.get(0)?),
                direction: r.get(1)?,
                ip: blob_to_ip(&blob).ok_or_else(|| bad_value(2, "address is not 16 bytes"))?,
                packets: u64_of(r.get(3)?),
                bytes: u64_of(r.get(4)?),
                name: r.get(5)?,
                threat: ThreatColumns::from_json(r.get(6)?),
            })
        },
    )
    .map_err(|e| sqlite_error(path, &e))
}

// ---------------------------------------------------------------------------------------
// Alerts

fn alert_row(r: &Row<'_>) -> rusqlite::Result<Alert> {
    fn json<T: serde::de::DeserializeOwned>(r: &Row<'_>, i: usize) -> rusqlite::Result<T> {
        let text: String = r.get(i)?;
        serde_json::from_str(&text)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, Type::Text, Box::new(e)))
    }
    let id: i64 = r.get(0)?;
    Ok(Alert {
        // Stored bit for bit (see the writer).
        id: id as u64,
        kind: r.get(1)?,
        severity: severity_of_level(r.get(2)?),
        confidence: r.get(3)?,
        start_ts: Timestamp(u64_of(r.get(4)?)),
        last_ts: Timestamp(u64_of(r.get(5)?)),
        updates: u64_of(r.get(6)?),
        sources: json(r, 7)?,
        targets: json(r, 8)?,
        ports: json(r, 9)?,
        message: r.get(10)?,
        recommendation: r.get(11)?,
        evidence: json(r, 12)?,
    })
}

pub(crate) fn alerts(
    tx: &Transaction<'_>,
    path: &Path,
    q: &Query,
) -> Result<Page<Alert>, StoreError> {
    let sort = q.sort_for("alerts")?;
    let mut f = Filter::default();
    if let Some(from) = q.from {
        f.push("last_ts >= ?", [ts(from)]);
    }
    if let Some(to) = q.to {
        f.push("start_ts <= ?", [ts(to)]);
    }
    if let Some(kind) = &q.kind {
        f.push("kind = ?", [Value::Text(kind.clone())]);
    }
    if let Some(min) = q.min_severity {
        f.push("severity_level >= ?", [Value::Integer(severity_level(min))]);
    }
    if let Some(text) = &q.text {
        f.contains(text, &["message", "kind", "recommendation"]);
    }
    if let Some(net) = &q.ip {
        let (lo, hi) = net_range(net);
        f.push(
            "(EXISTS (SELECT 1 FROM json_each(alerts.sources) WHERE ip_blob(value) BETWEEN ? AND ?) \
             OR EXISTS (SELECT 1 FROM json_each(alerts.targets) WHERE ip_blob(value) BETWEEN ? AND ?))",
            [lo, hi, lo, hi].map(|b| Value::Blob(b.to_vec())),
        );
    }
    if let Some(port) = q.port {
        f.push(
            "EXISTS (SELECT 1 FROM json_each(alerts.ports) WHERE value = ?)",
            [Value::Integer(port.into())],
        );
    }
    let sort_expr = if sort == "severity" {
        "severity_level"
    } else {
        sort
    };
    let dir = direction(q.descending);
    let order = format!("{sort_expr} {dir}, id {dir}");
    page(
        tx,
        q,
        (
            "id, kind, severity_level, confidence, start_ts, last_ts, updates, sources, \
             targets, ports, message, recommendation, evidence",
            "alerts",
        ),
        &f,
        &order,
        alert_row,
    )
    .map_err(|e| sqlite_error(path, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("a%b_c\\d"), "%a\\%b\\_c\\\\d%");
        assert_eq!(like_pattern("%' OR 1=1 --"), "%\\%' OR 1=1 --%");
    }
}
