//! The `transactions` table: writing a transaction as a row and reading rows back.
//!
//! The columns people filter and sort on are columns of their own; the rest of a
//! transaction's details is compact JSON in `details` (see `migrations/0012_transactions.sql`).
//! Writing splits a [`Transaction`] that way and reading joins it again, so a stored
//! transaction reads back as [`TransactionRow::from_transaction`] of what was written.

use super::codec::{i64_of, u64_of};
use super::read::{Filter, bad_value, direction, like_pattern, page, ts};
use super::schema::sqlite_error;
use crate::error::StoreError;
use crate::ip::{blob_to_ip, ip_to_blob};
use crate::query::{Page, Query};
use crate::transactions::{TRANSACTION_KINDS, TransactionRow};
use rusqlite::types::Value;
use rusqlite::{Row, Transaction as SqlTransaction, params};
use std::net::IpAddr;
use std::path::Path;
use wirewatch_core::{
    DnsTransaction, HttpTransaction, Timestamp, TlsTransaction, Transaction, TransactionDetails,
};

const INSERT: &str = "INSERT INTO transactions (ts, kind, proto, src_ip, src_port, dst_ip, \
    dst_port, name, qtype, rcode, latency_ms, method, uri, status, user_agent, version, alpn, \
    ja4, quic, details) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, \
    ?15, ?16, ?17, ?18, ?19, ?20)";

const COLUMNS: &str = "ts, kind, proto, src_ip, src_port, dst_ip, dst_port, name, qtype, rcode, \
    latency_ms, method, uri, status, user_agent, version, alpn, ja4, quic, details";

/// Text columns the free-text filter searches (besides the DNS answers in `details`).
const TEXT_COLUMNS: [&str; 9] = [
    "name",
    "uri",
    "user_agent",
    "qtype",
    "rcode",
    "method",
    "version",
    "alpn",
    "ja4",
];

/// The SQL expression of a sort column (a row field name, see `SORT_COLUMNS`).
fn sort_expr(column: &'static str) -> &'static str {
    match column {
        "dns_qtype" => "qtype",
        "dns_rcode" => "rcode",
        "dns_latency_ms" => "latency_ms",
        "http_method" => "method",
        "http_uri" => "uri",
        "http_status" => "status",
        "tls_version" => "version",
        other => other,
    }
}

/// The kind-specific columns of a transaction.
#[derive(Default)]
struct KindColumns<'a> {
    qtype: Option<&'a str>,
    rcode: Option<&'a str>,
    latency_ms: Option<f64>,
    method: Option<&'a str>,
    uri: Option<&'a str>,
    status: Option<u16>,
    user_agent: Option<&'a str>,
    version: Option<&'a str>,
    alpn: Option<String>,
    ja4: Option<&'a str>,
    quic: Option<bool>,
}

/// A transaction's kind-specific columns, and the rest of its details (without those values
/// and without the name).
fn split(details: &TransactionDetails) -> (KindColumns<'_>, TransactionDetails) {
    match details {
        TransactionDetails::Dns(d) => (
            KindColumns {
                qtype: d.qtype.as_deref(),
                rcode: d.rcode.as_deref(),
                latency_ms: d.latency_ms,
                ..KindColumns::default()
            },
            TransactionDetails::Dns(DnsTransaction {
                id: d.id,
                query_seen: d.query_seen,
                answers: d.answers.clone(),
                answers_omitted: d.answers_omitted,
                ..DnsTransaction::default()
            }),
        ),
        TransactionDetails::Http(h) => (
            KindColumns {
                method: h.method.as_deref(),
                uri: h.uri.as_deref(),
                status: h.status,
                user_agent: h.user_agent.as_deref(),
                ..KindColumns::default()
            },
            TransactionDetails::Http(HttpTransaction {
                request_bytes: h.request_bytes,
                response_bytes: h.response_bytes,
                ..HttpTransaction::default()
            }),
        ),
        TransactionDetails::Tls(t) => (
            KindColumns {
                version: t.version.as_deref(),
                // ALPN lists serialize infallibly (strings).
                alpn: (!t.alpn.is_empty())
                    .then(|| serde_json::to_string(&t.alpn).ok())
                    .flatten(),
                ja4: t.ja4.as_deref(),
                quic: Some(t.quic),
                ..KindColumns::default()
            },
            TransactionDetails::Tls(TlsTransaction {
                ja4_a: t.ja4_a.clone(),
                cipher: t.cipher,
                server_hello_seen: t.server_hello_seen,
                ..TlsTransaction::default()
            }),
        ),
    }
}

/// Inserts one transaction; returns its packet time in nanoseconds.
pub(crate) fn insert(tx: &SqlTransaction<'_>, t: &Transaction) -> rusqlite::Result<i64> {
    let (c, rest) = split(&t.details);
    // Details serialize infallibly (strings, numbers, lists of them).
    let details = serde_json::to_string(&rest).unwrap_or_else(|_| "{}".to_string());
    let at = i64_of(t.ts.0);
    tx.prepare_cached(INSERT)?.execute(params![
        at,
        t.kind(),
        t.ip_proto,
        &ip_to_blob(t.src_ip)[..],
        t.src_port,
        &ip_to_blob(t.dst_ip)[..],
        t.dst_port,
        t.name(),
        c.qtype,
        c.rcode,
        c.latency_ms,
        c.method,
        c.uri,
        c.status,
        c.user_agent,
        c.version,
        c.alpn,
        c.ja4,
        c.quic,
        details,
    ])?;
    Ok(at)
}

/// The transaction a row stores (details that do not parse read as none beyond the columns).
fn transaction(r: &Row<'_>) -> rusqlite::Result<Transaction> {
    let ip = |i: usize| -> rusqlite::Result<IpAddr> {
        let blob: Vec<u8> = r.get(i)?;
        blob_to_ip(&blob).ok_or_else(|| bad_value(i, "address is not 16 bytes"))
    };
    let kind: String = r.get(1)?;
    let name: Option<String> = r.get(7)?;
    let details: String = r.get(19)?;
    let parsed = serde_json::from_str::<TransactionDetails>(&details).ok();
    let details = match kind.as_str() {
        "dns" => {
            let mut d = match parsed {
                Some(TransactionDetails::Dns(d)) => d,
                _ => DnsTransaction::default(),
            };
            d.query = name;
            d.qtype = r.get(8)?;
            d.rcode = r.get(9)?;
            d.latency_ms = r.get(10)?;
            TransactionDetails::Dns(d)
        }
        "http" => {
            let mut h = match parsed {
                Some(TransactionDetails::Http(h)) => h,
                _ => HttpTransaction::default(),
            };
            h.host = name;
            h.method = r.get(11)?;
            h.uri = r.get(12)?;
            h.status = r.get(13)?;
            h.user_agent = r.get(14)?;
            TransactionDetails::Http(h)
        }
        "tls" => {
            let mut t = match parsed {
                Some(TransactionDetails::Tls(t)) => t,
                _ => TlsTransaction::default(),
            };
            t.sni = name;
            t.version = r.get(15)?;
            t.alpn = r
                .get::<_, Option<String>>(16)?
                .and_then(|a| serde_json::from_str(&a).ok())
                .unwrap_or_default();
            t.ja4 = r.get(17)?;
            t.quic = r.get::<_, Option<bool>>(18)?.unwrap_or(false);
            TransactionDetails::Tls(t)
        }
        _ => return Err(bad_value(1, "unknown transaction kind")),
    };
    Ok(Transaction {
        ts: Timestamp(u64_of(r.get(0)?)),
        ip_proto: r.get(2)?,
        src_ip: ip(3)?,
        src_port: r.get(4)?,
        dst_ip: ip(5)?,
        dst_port: r.get(6)?,
        details,
    })
}

/// A free-text filter: any text column, or a DNS answer's name or data, contains `needle`.
fn text_filter(f: &mut Filter, needle: &str) {
    let pattern = like_pattern(needle);
    let mut parts: Vec<String> = TEXT_COLUMNS
        .iter()
        .map(|c| format!("{c} LIKE ? ESCAPE '\\'"))
        .collect();
    // A row whose details do not parse has no answers to search (rather than failing).
    parts.push(
        "EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(transactions.details) \
         THEN transactions.details ELSE '{}' END, '$.answers') \
         WHERE json_extract(value, '$.name') LIKE ? ESCAPE '\\' \
         OR json_extract(value, '$.data') LIKE ? ESCAPE '\\')"
            .to_string(),
    );
    let n = TEXT_COLUMNS.len() + 2;
    f.push(
        &format!("({})", parts.join(" OR ")),
        std::iter::repeat_n(Value::Text(pattern), n),
    );
}

pub(crate) fn transactions(
    tx: &SqlTransaction<'_>,
    path: &Path,
    q: &Query,
) -> Result<Page<TransactionRow>, StoreError> {
    let sort = q.sort_for("transactions")?;
    let mut f = Filter::default();
    if let Some(from) = q.from {
        f.push("ts >= ?", [ts(from)]);
    }
    if let Some(to) = q.to {
        f.push("ts <= ?", [ts(to)]);
    }
    if let Some(kind) = &q.kind {
        if !TRANSACTION_KINDS.contains(&kind.as_str()) {
            return Err(StoreError::BadQuery(format!(
                "transactions have no kind {kind:?}: use dns, http or tls"
            )));
        }
        f.push("kind = ?", [Value::Text(kind.clone())]);
    }
    if let Some(net) = &q.ip {
        f.ip(net, &["src_ip", "dst_ip"]);
    }
    if let Some(port) = q.port {
        let p = Value::Integer(port.into());
        f.push("(src_port = ? OR dst_port = ?)", [p.clone(), p]);
    }
    if let Some(proto) = q.proto {
        f.push("proto = ?", [Value::Integer(proto.into())]);
    }
    if let Some(name) = &q.name {
        f.contains(name, &["name"]);
    }
    if let Some(text) = &q.text {
        text_filter(&mut f, text);
    }
    let dir = direction(q.descending);
    let order = format!("{} {dir}, id {dir}", sort_expr(sort));
    page(tx, q, (COLUMNS, "transactions"), &f, &order, |r| {
        transaction(r).map(|t| TransactionRow::from_transaction(&t))
    })
    .map_err(|e| sqlite_error(path, &e))
}
