//! Query strings of the history and export routes → [`wirewatch_store::Query`].
//!
//! Owns which parameters each table accepts and the messages for bad ones (each names the
//! parameter and says why). Values are parsed with the store's shared parsers, so the CLI's
//! `wirewatch export` and the web API read the same syntax. Relative times (`-5m`) are
//! resolved against the newest packet time, which the caller supplies.

use crate::error::ApiError;
use std::fmt::Write as _;
use wirewatch_core::Timestamp;
use wirewatch_core::time::{TimeSpec, parse_time_spec};
use wirewatch_store::params::{parse_proto, parse_severity};
use wirewatch_store::{
    MAX_LIMIT, Query, Resolution, TRANSACTION_KINDS, parse_ip_filter, sort_columns,
};

/// Longest `name` or `q` value accepted (the store's own limit on text filters).
pub const MAX_TEXT_PARAM: usize = 512;

/// A table of the history and export routes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Table {
    /// Closed intervals (or their roll-ups).
    Intervals,
    /// Top talkers of raw intervals.
    Talkers,
    /// Finished flows.
    Flows,
    /// Alerts.
    Alerts,
    /// Application transactions (DNS, HTTP, TLS/QUIC).
    Transactions,
}

/// Parameters every table accepts.
const COMMON: &[&str] = &["from", "to", "sort", "desc", "limit", "offset"];

impl Table {
    /// Every table.
    pub const ALL: [Table; 5] = [
        Table::Intervals,
        Table::Talkers,
        Table::Flows,
        Table::Alerts,
        Table::Transactions,
    ];

    /// Its name in URLs and in the store.
    pub fn name(self) -> &'static str {
        match self {
            Table::Intervals => "intervals",
            Table::Talkers => "talkers",
            Table::Flows => "flows",
            Table::Alerts => "alerts",
            Table::Transactions => "transactions",
        }
    }

    /// The table called `name`.
    pub fn parse(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Parameters this table accepts beyond [`COMMON`].
    fn own_params(self) -> &'static [&'static str] {
        match self {
            Table::Intervals => &["resolution"],
            Table::Talkers => &["ip", "kind", "name"],
            Table::Flows => &["ip", "port", "proto", "name", "q"],
            Table::Alerts => &["ip", "port", "kind", "severity", "q"],
            Table::Transactions => &["ip", "port", "proto", "kind", "name", "q"],
        }
    }

    /// Every parameter this table's history route accepts.
    pub fn params(self) -> Vec<&'static str> {
        COMMON.iter().chain(self.own_params()).copied().collect()
    }
}

/// Turns `params` (name, value pairs in the order given) into a store query for `table`.
///
/// A parameter with an empty value counts as not given. `extra` names parameters the caller
/// handles itself (skipped here). `newest` gives the newest packet time, needed only for a
/// relative time (`-5m`, `-1h`, `-24h`, `-30s`, `-7d`). `limit` above the store's
/// [`MAX_LIMIT`] is lowered to it.
pub fn parse_query(
    table: Table,
    params: &[(String, String)],
    extra: &[&str],
    newest: &dyn Fn() -> Option<Timestamp>,
) -> Result<Query, ApiError> {
    let accepted = table.params();
    let mut unknown = Vec::new();
    for (i, (name, _)) in params.iter().enumerate() {
        if extra.contains(&name.as_str()) {
            continue;
        }
        if !accepted.contains(&name.as_str()) {
            if !unknown.contains(&name.as_str()) {
                unknown.push(name.as_str());
            }
        } else if params[..i].iter().any(|(n, _)| n == name) {
            return Err(bad(name, "given more than once"));
        }
    }
    if !unknown.is_empty() {
        let mut all = accepted.clone();
        all.extend_from_slice(extra);
        return Err(ApiError::BadRequest(format!(
            "unknown parameter{} {} for {}; accepted: {}",
            if unknown.len() > 1 { "s" } else { "" },
            unknown
                .iter()
                .map(|u| format!("`{}`", printable(u)))
                .collect::<Vec<_>>()
                .join(", "),
            table.name(),
            all.join(", ")
        )));
    }

    let mut q = Query::default();
    for (name, value) in params {
        let value = value.trim();
        if value.is_empty() || extra.contains(&name.as_str()) {
            continue;
        }
        match name.as_str() {
            "from" => q.from = Some(time(name, value, newest)?),
            "to" => q.to = Some(time(name, value, newest)?),
            "sort" => {
                let columns = sort_columns(table.name()).unwrap_or(&[]);
                if !columns.contains(&value) {
                    return Err(bad(
                        name,
                        &format!(
                            "{} cannot be sorted by `{}`; use one of: {}",
                            table.name(),
                            printable(value),
                            columns.join(", ")
                        ),
                    ));
                }
                q.sort = Some(value.to_string());
            }
            "desc" => q.descending = boolean(name, value)?,
            "limit" => {
                let n = number(name, value)?;
                if n == 0 {
                    return Err(bad(name, "must be at least 1"));
                }
                q.limit = n.min(MAX_LIMIT);
            }
            "offset" => q.offset = number(name, value)?,
            "resolution" => {
                q.resolution = Resolution::parse(value).map_err(|_| {
                    bad(
                        name,
                        &format!("`{}` is not raw, minute, hour or auto", printable(value)),
                    )
                })?;
            }
            "ip" => {
                q.ip = Some(parse_ip_filter(value).map_err(|e| bad(name, &store_message(e)))?);
            }
            "port" => {
                q.port = Some(value.parse::<u16>().map_err(|_| {
                    bad(
                        name,
                        &format!("`{}` is not a port number (0-65535)", printable(value)),
                    )
                })?);
            }
            "proto" => q.proto = Some(parse_proto(value).map_err(|e| bad(name, &e))?),
            "severity" => q.min_severity = Some(parse_severity(value).map_err(|e| bad(name, &e))?),
            "kind" => {
                if table == Table::Talkers && value != "src" && value != "dst" {
                    return Err(bad(
                        name,
                        &format!(
                            "`{}` is not a talker kind: use src (sources) or dst (destinations)",
                            printable(value)
                        ),
                    ));
                }
                if table == Table::Transactions && !TRANSACTION_KINDS.contains(&value) {
                    return Err(bad(
                        name,
                        &format!(
                            "`{}` is not a transaction kind: use dns, http or tls",
                            printable(value)
                        ),
                    ));
                }
                q.kind = Some(text(name, value)?);
            }
            "name" => q.name = Some(text(name, value)?),
            "q" => q.text = Some(text(name, value)?),
            _ => {}
        }
    }
    q.validate().map_err(ApiError::from)?;
    Ok(q)
}

/// A `400` naming the parameter.
fn bad(name: &str, why: &str) -> ApiError {
    ApiError::BadRequest(format!("invalid `{}`: {why}", printable(name)))
}

/// The message of a store error without its "bad query: " prefix.
fn store_message(e: wirewatch_store::StoreError) -> String {
    match e {
        wirewatch_store::StoreError::BadQuery(m) => m,
        other => other.to_string(),
    }
}

/// `s` cut to 64 characters with control characters escaped, to quote it in a message.
fn printable(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == 64 {
            out.push('…');
            break;
        }
        if c.is_control() {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

fn number(name: &str, value: &str) -> Result<usize, ApiError> {
    value.parse::<usize>().map_err(|_| {
        bad(
            name,
            &format!("`{}` is not a whole number", printable(value)),
        )
    })
}

fn boolean(name: &str, value: &str) -> Result<bool, ApiError> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(bad(
            name,
            &format!("`{}` is not true or false", printable(value)),
        )),
    }
}

fn text(name: &str, value: &str) -> Result<String, ApiError> {
    if value.len() > MAX_TEXT_PARAM {
        return Err(bad(
            name,
            &format!(
                "{} bytes long; at most {MAX_TEXT_PARAM} are accepted",
                value.len()
            ),
        ));
    }
    Ok(value.to_string())
}

/// An absolute time (Unix seconds, RFC 3339) or one relative to the newest packet time
/// (`-1h`, `now-30m`: [`parse_time_spec`], as the CLI reads them).
fn time(
    name: &str,
    value: &str,
    newest: &dyn Fn() -> Option<Timestamp>,
) -> Result<Timestamp, ApiError> {
    let spec = parse_time_spec(value).map_err(|_| {
        bad(
            name,
            &format!(
                "`{}` is not a time: use Unix seconds, RFC 3339 such as \
                 2024-01-01T00:00:00Z, or a relative time such as -30s, -1h30m, now-7d",
                printable(value)
            ),
        )
    })?;
    let at = match spec {
        TimeSpec::At(t) => Some(t),
        TimeSpec::BeforeNewest(_) => spec.resolve(newest()),
    };
    at.ok_or_else(|| {
        bad(
            name,
            &format!(
                "`{}` is relative to the newest packet time, and nothing has been captured or \
                 stored yet; give an absolute time instead",
                printable(value)
            ),
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use wirewatch_core::Severity;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn newest() -> Option<Timestamp> {
        Some(Timestamp::from_secs_nanos(1_700_000_100, 0))
    }

    fn err(table: Table, pairs: &[(&str, &str)]) -> String {
        match parse_query(table, &p(pairs), &[], &newest) {
            Err(ApiError::BadRequest(m)) => m,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn every_filter_is_parsed() {
        let q = parse_query(
            Table::Flows,
            &p(&[
                ("from", "-5m"),
                ("to", "1700000100"),
                ("ip", "10.0.0.0/8"),
                ("port", "443"),
                ("proto", "tcp"),
                ("name", "example"),
                ("q", "www"),
                ("sort", "bytes"),
                ("desc", "true"),
                ("limit", "50000"),
                ("offset", "20"),
            ]),
            &[],
            &newest,
        )
        .unwrap();
        assert_eq!(
            q.from,
            Some(Timestamp::from_secs_nanos(1_700_000_100 - 300, 0))
        );
        assert_eq!(q.to, Some(Timestamp::from_secs_nanos(1_700_000_100, 0)));
        assert_eq!(q.ip.unwrap().to_string(), "10.0.0.0/8");
        assert_eq!((q.port, q.proto), (Some(443), Some(6)));
        assert_eq!(q.name.as_deref(), Some("example"));
        assert_eq!(q.text.as_deref(), Some("www"));
        assert_eq!(q.sort.as_deref(), Some("bytes"));
        assert!(q.descending);
        assert_eq!((q.limit, q.offset), (MAX_LIMIT, 20));

        let q = parse_query(
            Table::Alerts,
            &p(&[("severity", "high"), ("kind", "port_scan"), ("from", "")]),
            &[],
            &newest,
        )
        .unwrap();
        assert_eq!(q.min_severity, Some(Severity::High));
        assert_eq!(q.kind.as_deref(), Some("port_scan"));
        assert_eq!(q.from, None);

        let q = parse_query(
            Table::Intervals,
            &p(&[("resolution", "minute"), ("from", "2024-01-01T00:00:00Z")]),
            &[],
            &newest,
        )
        .unwrap();
        assert_eq!(q.resolution, Resolution::Minute);
        assert_eq!(q.from, Some(Timestamp(1_704_067_200_000_000_000)));

        let q = parse_query(
            Table::Transactions,
            &p(&[
                ("kind", "dns"),
                ("name", "example"),
                ("ip", "10.0.0.0/8"),
                ("port", "53"),
                ("proto", "udp"),
                ("q", "NXDOMAIN"),
                ("sort", "dns_latency_ms"),
            ]),
            &[],
            &newest,
        )
        .unwrap();
        assert_eq!(q.kind.as_deref(), Some("dns"));
        assert_eq!(q.name.as_deref(), Some("example"));
        assert_eq!((q.port, q.proto), (Some(53), Some(17)));
        assert_eq!(q.text.as_deref(), Some("NXDOMAIN"));
        assert_eq!(q.sort.as_deref(), Some("dns_latency_ms"));
    }

    #[test]
    fn relative_times() {
        for (s, secs) in [
            ("-30s", 30),
            ("-5m", 300),
            ("-1h", 3600),
            ("-24h", 86_400),
            ("-7d", 604_800),
        ] {
            let q = parse_query(Table::Intervals, &p(&[("from", s)]), &[], &newest).unwrap();
            assert_eq!(
                q.from.unwrap(),
                Timestamp::from_secs_nanos(1_700_000_100 - secs, 0)
            );
        }
        let e = match parse_query(Table::Intervals, &p(&[("from", "-5m")]), &[], &|| None) {
            Err(ApiError::BadRequest(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(e.starts_with("invalid `from`: `-5m` is relative"), "{e}");
        assert!(
            err(Table::Intervals, &[("to", "-5x")])
                .starts_with("invalid `to`: `-5x` is not a time")
        );
    }

    #[test]
    fn bad_parameters_are_named() {
        assert_eq!(
            err(Table::Intervals, &[("ip", "10.0.0.1"), ("bogus", "1")]),
            "unknown parameters `ip`, `bogus` for intervals; accepted: from, to, sort, desc, \
             limit, offset, resolution"
        );
        assert!(err(Table::Flows, &[("port", "70000")]).starts_with("invalid `port`: `70000`"));
        assert!(err(Table::Flows, &[("proto", "tcpp")]).starts_with("invalid `proto`:"));
        assert!(
            err(Table::Flows, &[("ip", "10.0.0")]).starts_with("invalid `ip`: invalid address")
        );
        assert!(err(Table::Alerts, &[("severity", "dire")]).starts_with("invalid `severity`:"));
        assert!(err(Table::Talkers, &[("kind", "both")]).starts_with("invalid `kind`:"));
        assert_eq!(
            err(Table::Transactions, &[("kind", "ssh")]),
            "invalid `kind`: `ssh` is not a transaction kind: use dns, http or tls"
        );
        assert!(
            err(Table::Transactions, &[("severity", "high")])
                .starts_with("unknown parameter `severity` for transactions; accepted: ")
        );
        assert!(
            err(Table::Transactions, &[("sort", "bytes")])
                .starts_with("invalid `sort`: transactions cannot be sorted by `bytes`")
        );
        assert_eq!(
            err(Table::Flows, &[("limit", "0")]),
            "invalid `limit`: must be at least 1"
        );
        assert!(
            err(Table::Flows, &[("limit", "x")])
                .starts_with("invalid `limit`: `x` is not a whole number")
        );
        assert!(err(Table::Flows, &[("desc", "maybe")]).starts_with("invalid `desc`"));
        assert!(
            err(Table::Flows, &[("sort", "password")])
                .starts_with("invalid `sort`: flows cannot be sorted by `password`")
        );
        assert!(
            err(Table::Intervals, &[("resolution", "daily")]).starts_with("invalid `resolution`")
        );
        assert_eq!(
            err(Table::Flows, &[("port", "1"), ("port", "2")]),
            "invalid `port`: given more than once"
        );
        assert!(
            err(Table::Flows, &[("q", &"x".repeat(600))]).starts_with("invalid `q`: 600 bytes")
        );
        assert!(
            err(
                Table::Flows,
                &[("from", "1700000200"), ("to", "1700000100")]
            )
            .contains("inverted time range")
        );
        // Parameters the caller handles are skipped.
        parse_query(Table::Flows, &p(&[("format", "csv")]), &["format"], &newest).unwrap();
    }
}
