//! Parsing of query parameters as users type them (times, protocols, severities) and the
//! flattening of JSON rows into CSV columns, shared by `wirewatch export` and the web API.

use serde_json::{Map, Value};
use wirewatch_core::Severity;

/// Top-level fields whose objects have no fixed shape (an alert's `evidence` differs by
/// detector): kept as one JSON text column, so every CSV row has the same columns.
pub const FREE_FORM_FIELDS: [&str; 1] = ["evidence"];

/// Flattens a JSON row for CSV: nested objects into `a.b` columns; arrays and the
/// [`FREE_FORM_FIELDS`] become JSON text, null an empty cell; text cells pass [`csv_safe`].
pub fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => flatten_map(prefix, map, out),
        Value::Null => out.push((prefix.to_string(), String::new())),
        Value::String(s) => out.push((prefix.to_string(), csv_safe(s))),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

fn flatten_map(prefix: &str, map: &Map<String, Value>, out: &mut Vec<(String, String)>) {
    for (k, v) in map {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Object(_) if prefix.is_empty() && FREE_FORM_FIELDS.contains(&k.as_str()) => {
                out.push((key, v.to_string()));
            }
            Value::Object(_) => flatten(&key, v, out),
            Value::Array(_) => out.push((key, v.to_string())),
            _ => flatten(&key, v, out),
        }
    }
}

/// First characters with which a spreadsheet treats a cell as a formula (OWASP "CSV
/// injection"): `=`, `+`, `-`, `@`, and tab or carriage return before one of them.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text cell as a spreadsheet will show it and never run it: text from the network (a server
/// name, a user agent) that starts like a formula gets a leading `'`, which spreadsheets
/// display as nothing and which makes the cell plain text.
pub fn csv_safe(s: &str) -> String {
    if s.starts_with(FORMULA_STARTS) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

pub use wirewatch_core::time::parse_time;

/// Parses an IP protocol: a name (`tcp`, `udp`, `icmp`, `icmpv6`) or a number.
pub fn parse_proto(s: &str) -> Result<u8, String> {
    match s.to_ascii_lowercase().as_str() {
        "tcp" => Ok(6),
        "udp" => Ok(17),
        "icmp" => Ok(1),
        "icmpv6" => Ok(58),
        n => n
            .parse()
            .map_err(|_| format!("`{s}` is not a protocol: use tcp, udp, icmp, icmpv6 or 0-255")),
    }
}

/// Parses a severity name (`low`, `medium`, `high`, `critical`).
pub fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s)
        .ok_or_else(|| format!("`{s}` is not a severity: low, medium, high or critical"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirewatch_core::Timestamp;

    #[test]
    fn text_that_starts_like_a_formula_is_never_a_formula_in_csv() {
        let row = serde_json::json!({
            "server_name": "=HYPERLINK(\"http://x\",\"y\")",
            "http_user_agent": "+cmd|' /C calc'!A0",
            "ssh_client": "-2+3",
            "name": "@SUM(1+1)",
            "tab": "\t=1",
            "cr": "\r=1",
            "ok": "example.com",
            "bytes": -5,
            "evidence": {"note": "=1+1"},
        });
        let mut flat = Vec::new();
        flatten("", &row, &mut flat);
        for (k, v) in &flat {
            assert!(
                !v.starts_with(['=', '+', '-', '@', '\t', '\r']) || k == "bytes",
                "{k} = {v:?}"
            );
        }
        let cell = |k: &str| flat.iter().find(|(c, _)| c == k).map(|(_, v)| v.clone());
        assert_eq!(
            cell("server_name").unwrap(),
            "'=HYPERLINK(\"http://x\",\"y\")"
        );
        assert_eq!(cell("ok").unwrap(), "example.com");
        assert_eq!(cell("bytes").unwrap(), "-5", "numbers stay numbers");
        assert_eq!(
            cell("evidence").unwrap(),
            r#"{"note":"=1+1"}"#,
            "JSON text starts with {{"
        );
    }

    #[test]
    fn times_parse_in_both_forms() {
        assert_eq!(parse_time("0"), Ok(Timestamp(0)));
        // Exact to the nanosecond, where an f64 would be off by hundreds.
        assert_eq!(
            parse_time("1795248589.985520001"),
            Ok(Timestamp(1_795_248_589_985_520_001))
        );
        assert_eq!(parse_time("17.5"), Ok(Timestamp(17_500_000_000)));
        assert!(parse_time("1.0000000001").is_ok()); // more digits: through f64
        assert_eq!(
            parse_time("1700000000.5"),
            Ok(Timestamp(1_700_000_000_500_000_000))
        );
        assert_eq!(
            parse_time("2024-01-01T00:00:00Z"),
            Ok(Timestamp(1_704_067_200_000_000_000))
        );
        assert_eq!(
            parse_time("2024-01-01"),
            Ok(Timestamp(1_704_067_200_000_000_000))
        );
        assert_eq!(
            parse_time("2024-01-01T02:00:00.25+02:00"),
            Ok(Timestamp(1_704_067_200_250_000_000))
        );
        assert_eq!(
            parse_time("2000-02-29T12:00:00Z"),
            Ok(Timestamp(951_825_600_000_000_000))
        );
        for bad in [
            "yesterday",
            "2024-13-01",
            "2024-01-01T25:00:00Z",
            "2024-01-01T00:00:00",
            "-5",
            // Before 1970, past 2^63 ns (2262-04-11), past what jiff reads (year 9999).
            "1969-12-31T23:59:59Z",
            "2262-04-12",
            "2554-07-21T23:34:33Z",
            "9999-12-31T23:59:59Z",
            "10000-01-01T00:00:00Z",
            "99999999999-01-01",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_time("2262-04-11T23:47:16.854775807Z"),
            Ok(Timestamp(i64::MAX as u64))
        );
        assert_eq!(
            parse_time("2024-01-01t00:00:00z"),
            parse_time("2024-01-01 00:00:00Z")
        );
    }

    #[test]
    fn csv_flattening_names_nested_fields() {
        let v = serde_json::json!({"start_ts": 1.5, "protocols": {"tcp": 3, "udp": 0}, "name": null, "ports": [1, 2]});
        let mut out = Vec::new();
        flatten("", &v, &mut out);
        let keys: Vec<&str> = out.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "start_ts",
                "protocols.tcp",
                "protocols.udp",
                "name",
                "ports"
            ]
        );
        assert_eq!(out[4].1, "[1,2]");
        assert_eq!(out[3].1, "");
    }

    #[test]
    fn protocols_and_severities() {
        assert_eq!(parse_proto("TCP"), Ok(6));
        assert_eq!(parse_proto("47"), Ok(47));
        assert!(parse_proto("tcpp").is_err());
        assert_eq!(parse_severity("High"), Ok(Severity::High));
    }

    #[test]
    fn free_form_evidence_stays_one_column() {
        let mut a = Vec::new();
        flatten(
            "",
            &serde_json::json!({"id": 1, "evidence": {"syns": 5}}),
            &mut a,
        );
        let mut b = Vec::new();
        flatten(
            "",
            &serde_json::json!({"id": 2, "evidence": {"ports": [1], "x": {"y": 1}}}),
            &mut b,
        );
        let keys = |v: &Vec<(String, String)>| v.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        assert_eq!(keys(&a), keys(&b));
        assert_eq!(a[1].1, r#"{"syns":5}"#);
    }
}
