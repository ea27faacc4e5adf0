//! Stored transactions through the router: the history route answers what the store holds,
//! filters by kind, name, address and text (bad parameters: `api.rs`), and the export writes
//! every kind in one CSV table whose cells never start a formula.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::Value;
use wirewatch_store::{Query, Store, parse_ip_filter};

async fn page(f: &Fixture, uri: &str) -> Value {
    let r = get(&f.state, uri).await;
    assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.text());
    r.json()
}

fn names(page: &Value) -> Vec<String> {
    page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn history_transactions_are_the_stored_ones_filtered() {
    let f = fixture();
    let api = page(&f, "/api/history/transactions").await;
    let own = f.store.transactions(&Query::default()).unwrap();
    assert_eq!(api, serde_json::to_value(&own).unwrap());
    assert_eq!(api["total"], TRANSACTIONS.len());
    let expected: Vec<&str> = TRANSACTIONS.iter().map(|(_, n)| *n).collect();
    assert_eq!(names(&api), expected);

    let api = page(&f, "/api/history/transactions?name=EXAMPLE.com").await;
    assert_eq!(names(&api), ["www.example.com", "www.example.com"]);
    assert_eq!(api["rows"][0]["kind"], "dns");
    assert_eq!(api["rows"][0]["dns_rcode"], "NOERROR");
    assert_eq!(api["rows"][1]["kind"], "http");
    assert_eq!(api["rows"][1]["http_status"], 200);

    let api = page(&f, "/api/history/transactions?kind=tls&sort=ts&desc=true").await;
    assert_eq!(api["total"], 2);
    assert_eq!(api["rows"][0]["quic"], true);
    assert_eq!(api["rows"][1]["tls_version"], "TLSv1.3");

    let api = page(&f, "/api/history/transactions?ip=2001:db8::/32&kind=dns").await;
    assert_eq!(names(&api), ["db_backup.internal"]);
    assert_eq!(api["rows"][0]["dns_rcode"], "NXDOMAIN");
    let own = f
        .store
        .transactions(&Query {
            ip: Some(parse_ip_filter("2001:db8::/32").unwrap()),
            kind: Some("dns".into()),
            ..Query::default()
        })
        .unwrap();
    assert_eq!(api, serde_json::to_value(&own).unwrap());

    let api = page(&f, "/api/history/transactions?q=curl&port=80").await;
    assert_eq!(names(&api), ["www.example.com", HOSTILE]);
    // Hostile names come back as JSON data, unchanged.
    let api = page(&f, "/api/history/transactions?name=script").await;
    assert_eq!(names(&api), [HOSTILE]);
}

#[tokio::test]
async fn every_kind_exports_as_one_csv_table_without_formulas() {
    let f = fixture();
    let r = get(&f.state, "/api/export/transactions").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"wirewatch-transactions.csv\"")
    );
    assert_eq!(r.header("x-total-count"), Some("6"));
    let mut reader = csv::Reader::from_reader(&r.body[..]);
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), TRANSACTIONS.len());
    assert!(records.iter().all(|r| r.len() == header.len()));
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let kinds: Vec<&str> = records.iter().map(|r| &r[col("kind")]).collect();
    assert_eq!(kinds, ["dns", "dns", "http", "http", "tls", "tls"]);
    assert_eq!(&records[0][col("dns_qtype")], "A");
    assert_eq!(&records[2][col("http_method")], "GET");
    assert_eq!(&records[4][col("tls_alpn")], r#"["h2","http/1.1"]"#);
    let answers: Value = serde_json::from_str(&records[0][col("dns_answers")]).unwrap();
    assert_eq!(answers[0]["name"], "www.example.com");
    // The formula-like server name is plain text in CSV, unchanged in JSON.
    assert_eq!(&records[5][col("name")], format!("'{}", TRANSACTIONS[5].1));
    for rec in &records {
        for (h, cell) in header.iter().zip(rec.iter()) {
            assert!(
                !cell.starts_with(['=', '+', '@', '\t', '\r']),
                "{h} = {cell:?}"
            );
        }
    }
    let r = get(&f.state, "/api/export/transactions?format=json&kind=tls").await;
    let rows = r.json();
    assert_eq!(rows.as_array().unwrap().len(), 2);
    assert_eq!(rows[1]["name"], TRANSACTIONS[5].1);
}
