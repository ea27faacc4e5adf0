//! Flow queries, with the access path chosen by probing the indexes.
//!
//! The flows table is the big one (millions of rows), and which index answers a filtered
//! query fastest depends on the data: a /24 over a day may hold 30 flows or 3 million, an
//! hour may hold 400,000 flows or none. SQLite's planner guesses ranges badly without a full
//! `ANALYZE` (seconds on a big table, and stale as soon as new traffic arrives), so the reader
//! measures instead: it counts, up to [`PROBE_CAP`] index entries each, what the time range,
//! the address range and the port would have to scan, and forces the cheapest with
//! `INDEXED BY`. An OR over source and destination becomes two index scans whose results are
//! disjoint (the second excludes what the first matched) and are concatenated with
//! `UNION ALL`.

use super::codec::{parse_end_reason, parse_state, u64_of};
use super::read::{bad_value, direction, like_pattern, secs, ts};
use crate::error::StoreError;
use crate::ip::{blob_to_ip, net_range};
use crate::query::{AppColumns, FlowRow, Page, Query, ThreatColumns};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Row, Transaction, params_from_iter};
use std::net::IpAddr;
use std::path::Path;
use wirewatch_core::AppDetails;
use wirewatch_core::proto::tcp_flags;

use super::schema::sqlite_error;

/// Most index entries one probe counts. A probe is an index-only scan, so a capped probe
/// costs about as much as reading 50,000 entries (a few ms); a path whose probe hits the cap
/// is "large", and a large time range is still preferred (it streams in time order).
const PROBE_CAP: i64 = 50_000;

const COLUMNS: &str = "proto, src_ip, src_port, dst_ip, dst_port, packets_fwd, bytes_fwd, \
    packets_rev, bytes_rev, payload_bytes_fwd, payload_bytes_rev, first_ts, last_ts, state, \
    end_reason, tcp_flags_fwd, tcp_flags_rev, app, server_name, app_source, details, reputation, \
    features, tcp_rtt_ms, tcp_retransmissions, tcp_out_of_order, tcp_lost_segments, \
    tcp_zero_windows, vlan, tunnel";

fn sort_expr(column: &'static str) -> &'static str {
    match column {
        "duration" => "(last_ts - first_ts)",
        "packets" => "(packets_fwd + packets_rev)",
        "bytes" => "(bytes_fwd + bytes_rev)",
        other => other,
    }
}

fn flow_row(r: &Row<'_>) -> rusqlite::Result<FlowRow> {
    let c = |i: usize| -> rusqlite::Result<u64> { Ok(u64_of(r.get::<_, i64>(i)?)) };
    let maybe =
        |i: usize| -> rusqlite::Result<Option<u64>> { Ok(r.get::<_, Option<i64>>(i)?.map(u64_of)) };
    let ip = |i: usize| -> rusqlite::Result<IpAddr> {
        let blob: Vec<u8> = r.get(i)?;
        blob_to_ip(&blob).ok_or_else(|| bad_value(i, "address is not 16 bytes"))
    };
    let state: String = r.get(13)?;
    let end_reason: String = r.get(14)?;
    let details: Option<String> = r.get(20)?;
    let details: Option<AppDetails> = details.and_then(|d| serde_json::from_str(&d).ok());
    let row = FlowRow {
        proto: wirewatch_core::flow::ip_proto_name(r.get(0)?),
        src_ip: ip(1)?,
        src_port: r.get(2)?,
        dst_ip: ip(3)?,
        dst_port: r.get(4)?,
        packets_fwd: c(5)?,
        bytes_fwd: c(6)?,
        packets_rev: c(7)?,
        bytes_rev: c(8)?,
        payload_bytes_fwd: c(9)?,
        payload_bytes_rev: c(10)?,
        first_ts: secs(r.get(11)?),
        last_ts: secs(r.get(12)?),
        state: parse_state(&state).ok_or_else(|| bad_value(13, "unknown TCP state"))?,
        end_reason: parse_end_reason(&end_reason)
            .ok_or_else(|| bad_value(14, "unknown end reason"))?,
        tcp_flags_fwd: tcp_flags::render(r.get(15)?),
        tcp_flags_rev: tcp_flags::render(r.get(16)?),
        app: r.get(17)?,
        server_name: r.get(18)?,
        details: AppColumns::from_parts(r.get(19)?, details.as_ref()),
        threat: ThreatColumns::from_json(r.get(21)?),
        tcp_rtt_ms: r.get(23)?,
        tcp_retransmissions: maybe(24)?,
        tcp_out_of_order: maybe(25)?,
        tcp_lost_segments: maybe(26)?,
        tcp_zero_windows: maybe(27)?,
        vlan: r.get(28)?,
        tunnel: r.get(29)?,
        features: r.get::<_, Option<Vec<u8>>>(22)?.map(|b| {
            b.chunks_exact(4)
                .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                .collect()
        }),
    };
    Ok(row)
}

/// One WHERE term with its parameters.
#[derive(Clone)]
struct Term {
    sql: String,
    params: Vec<Value>,
}

impl Term {
    fn new(sql: impl Into<String>, params: impl IntoIterator<Item = Value>) -> Term {
        Term {
            sql: sql.into(),
            params: params.into_iter().collect(),
        }
    }
}

/// A filter on two columns, either of which may match (addresses or ports).
struct Either {
    /// Index on the first column, then last_ts.
    first_index: &'static str,
    /// Index on the second column, then last_ts.
    second_index: &'static str,
    first: Term,
    second: Term,
    /// Whether the index seeks on last_ts after the column (equality), so a time range
    /// narrows the scan.
    equality: bool,
}

impl Either {
    fn or_term(&self) -> Term {
        let mut params = self.first.params.clone();
        params.extend(self.second.params.iter().cloned());
        Term::new(
            format!("({} OR {})", self.first.sql, self.second.sql),
            params,
        )
    }

    /// Both columns match (for counting by inclusion–exclusion: first + second − both).
    fn both(&self) -> Term {
        let mut params = self.first.params.clone();
        params.extend(self.second.params.iter().cloned());
        Term::new(
            format!("{} AND {}", self.first.sql, self.second.sql),
            params,
        )
    }

    /// The two disjoint arms: first column matches; second matches and first does not.
    fn arms(&self) -> [(&'static str, Term); 2] {
        let mut params = self.second.params.clone();
        params.extend(self.first.params.iter().cloned());
        [
            (self.first_index, self.first.clone()),
            (
                self.second_index,
                Term::new(
                    format!("{} AND NOT ({})", self.second.sql, self.first.sql),
                    params,
                ),
            ),
        ]
    }
}

fn address(net: &ipnet::IpNet) -> Either {
    let (lo, hi) = net_range(net);
    let equality = lo == hi;
    let term = |col: &str| {
        if equality {
            Term::new(format!("{col} = ?"), [Value::Blob(lo.to_vec())])
        } else {
            Term::new(
                format!("{col} BETWEEN ? AND ?"),
                [Value::Blob(lo.to_vec()), Value::Blob(hi.to_vec())],
            )
        }
    };
    Either {
        first_index: "flows_src_ip",
        second_index: "flows_dst_ip",
        first: term("src_ip"),
        second: term("dst_ip"),
        equality,
    }
}

fn port(p: u16) -> Either {
    let term = |col: &str| Term::new(format!("{col} = ?"), [Value::Integer(p.into())]);
    Either {
        first_index: "flows_src_port",
        second_index: "flows_dst_port",
        first: term("src_port"),
        second: term("dst_port"),
        equality: true,
    }
}

/// How the rows are found.
enum Access {
    /// Let SQLite choose (no time, address or port filter).
    Any,
    /// The time index.
    Time,
    /// Two arms over the address or port indexes.
    Either(usize),
}

/// Counts index entries a path would scan, up to [`PROBE_CAP`].
fn probe(tx: &Transaction<'_>, index: &str, term: &Term) -> rusqlite::Result<i64> {
    let sql = format!(
        "SELECT count(*) FROM (SELECT 1 FROM flows INDEXED BY {index} WHERE {} LIMIT {PROBE_CAP})",
        term.sql
    );
    tx.prepare_cached(&sql)?
        .query_row(params_from_iter(term.params.iter()), |r| r.get(0))
}

/// `FROM flows [INDEXED BY index] [WHERE terms]` and its parameters.
fn from_where(index: Option<&str>, terms: &[Term]) -> (String, Vec<Value>) {
    let indexed = index
        .map(|i| format!(" INDEXED BY {i}"))
        .unwrap_or_default();
    let clause = if terms.is_empty() {
        String::new()
    } else {
        let sql: Vec<&str> = terms.iter().map(|t| t.sql.as_str()).collect();
        format!(" WHERE {}", sql.join(" AND "))
    };
    let params = terms
        .iter()
        .flat_map(|t| t.params.iter().cloned())
        .collect();
    (format!("FROM flows{indexed}{clause}"), params)
}

pub(crate) fn flows(
    tx: &Transaction<'_>,
    path: &Path,
    q: &Query,
) -> Result<Page<FlowRow>, StoreError> {
    let sort = q.sort_for("flows")?;
    let err = |e: rusqlite::Error| sqlite_error(path, &e);

    // Terms every path applies.
    let mut common: Vec<Term> = Vec::new();
    let mut last_ts_range: Option<Term> = None;
    let mut time_terms: Vec<Term> = Vec::new();
    let mut bounds: Vec<(String, Value)> = Vec::new();
    if let Some(from) = q.from {
        bounds.push(("last_ts >= ?".into(), ts(from)));
    }
    if let Some(to) = q.to {
        // A flow overlapping the range has first_ts <= to, so last_ts <= to + the longest
        // flow stored: that bound keeps every scan on last_ts short.
        let longest: i64 = tx
            .prepare_cached("SELECT value FROM meta WHERE key = 'max_flow_duration_ns'")
            .and_then(|mut s| s.query_row([], |r| r.get(0)).optional())
            .map_err(err)?
            .unwrap_or(0);
        let to_ns = i64::try_from(to.0).unwrap_or(i64::MAX);
        bounds.push((
            "last_ts <= ?".into(),
            Value::Integer(to_ns.saturating_add(longest.max(0))),
        ));
        // Flows that ended by `to` started by then too: only the others need first_ts, which
        // is in the table, not the address and port indexes (SQLite seeks the table row only
        // when it must read it).
        time_terms.push(Term::new(
            "(last_ts <= ? OR first_ts <= ?)",
            [ts(to), ts(to)],
        ));
    }
    if !bounds.is_empty() {
        let sql: Vec<&str> = bounds.iter().map(|(s, _)| s.as_str()).collect();
        let range = Term::new(sql.join(" AND "), bounds.iter().map(|(_, v)| v.clone()));
        time_terms.insert(0, range.clone());
        last_ts_range = Some(range);
    }
    common.extend(time_terms);
    if let Some(proto) = q.proto {
        common.push(Term::new("proto = ?", [Value::Integer(proto.into())]));
    }
    // Names and free text both match the application and server names.
    for needle in [&q.name, &q.text].into_iter().flatten() {
        let pattern = like_pattern(needle);
        common.push(Term::new(
            "(app LIKE ? ESCAPE '\\' OR server_name LIKE ? ESCAPE '\\')",
            [Value::Text(pattern.clone()), Value::Text(pattern)],
        ));
    }
    let eithers: Vec<Either> =
        q.ip.as_ref()
            .map(address)
            .into_iter()
            .chain(q.port.map(port))
            .collect();

    // Probe each path and take the cheapest.
    let mut access = Access::Any;
    let mut best = i64::MAX;
    if let Some(range) = &last_ts_range {
        best = probe(tx, "flows_last_ts", range).map_err(err)?;
        access = Access::Time;
    }
    for (i, e) in eithers.iter().enumerate() {
        let mut cost = 0;
        for (index, term) in [(e.first_index, &e.first), (e.second_index, &e.second)] {
            let mut t = term.clone();
            if e.equality
                && let Some(range) = &last_ts_range
            {
                t.sql = format!("{} AND {}", t.sql, range.sql);
                t.params.extend(range.params.iter().cloned());
            }
            cost += probe(tx, index, &t).map_err(err)?;
        }
        // Ties go to the time index, which streams in time order.
        if cost < best {
            best = cost;
            access = Access::Either(i);
        }
    }

    // The arms: (index, WHERE terms) each, for the page (disjoint) and for the count
    // (with a sign: counting "first + second − both" keeps each count inside one index,
    // where the disjoint second arm would read the table for every row to exclude the first).
    let others = |chosen: usize| -> Vec<Term> {
        let mut terms = common.clone();
        terms.extend(
            eithers
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != chosen)
                .map(|(_, e)| e.or_term()),
        );
        terms
    };
    type Arm = (Option<&'static str>, Vec<Term>);
    let with = |own: Term, rest: &[Term]| -> Vec<Term> {
        let mut terms = vec![own];
        terms.extend(rest.iter().cloned());
        terms
    };
    let (arms, count_arms): (Vec<Arm>, Vec<(i64, Arm)>) = match access {
        Access::Any | Access::Time => {
            let index = matches!(access, Access::Time).then_some("flows_last_ts");
            let terms = others(usize::MAX);
            (vec![(index, terms.clone())], vec![(1, (index, terms))])
        }
        Access::Either(chosen) => {
            let e = &eithers[chosen];
            let rest = others(chosen);
            let arms = e
                .arms()
                .into_iter()
                .map(|(index, own)| (Some(index), with(own, &rest)))
                .collect();
            let counts = vec![
                (1, (Some(e.first_index), with(e.first.clone(), &rest))),
                (1, (Some(e.second_index), with(e.second.clone(), &rest))),
                (-1, (Some(e.first_index), with(e.both(), &rest))),
            ];
            (arms, counts)
        }
    };
    let dir = direction(q.descending);
    let key = sort_expr(sort);
    let mut count_sql = String::from("SELECT 0");
    let mut count_params = Vec::new();
    for (sign, (index, terms)) in &count_arms {
        let (fw, p) = from_where(*index, terms);
        let op = if *sign < 0 { '-' } else { '+' };
        count_sql.push_str(&format!(" {op} (SELECT count(*) {fw})"));
        count_params.extend(p);
    }
    let mut select_parts = Vec::new();
    let mut params = Vec::new();
    for (index, terms) in &arms {
        let (fw, p) = from_where(*index, terms);
        select_parts.push(format!("SELECT {COLUMNS}, id AS id_, {key} AS key_ {fw}"));
        params.extend(p);
    }
    let total: i64 = tx
        .prepare_cached(&count_sql)
        .and_then(|mut s| s.query_row(params_from_iter(count_params.iter()), |r| r.get(0)))
        .map_err(err)?;
    let page_sql = if select_parts.len() == 1 {
        format!(
            "{} ORDER BY {key} {dir}, id {dir} LIMIT ? OFFSET ?",
            select_parts.join("")
        )
    } else {
        format!(
            "{} ORDER BY key_ {dir}, id_ {dir} LIMIT ? OFFSET ?",
            select_parts.join(" UNION ALL ")
        )
    };
    params.push(Value::Integer(i64::try_from(q.limit).unwrap_or(i64::MAX)));
    params.push(Value::Integer(i64::try_from(q.offset).unwrap_or(i64::MAX)));
    let rows = tx
        .prepare_cached(&page_sql)
        .and_then(|mut s| {
            s.query_map(params_from_iter(params.iter()), flow_row)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(err)?;
    Ok(Page {
        rows,
        total: u64_of(total),
        offset: q.offset,
        limit: q.limit,
    })
}
