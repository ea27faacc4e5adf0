//! The contract suite against SQLite, and the SQLite-only parts: views and raw columns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rusqlite::Connection;
use std::path::Path;
use wirewatch_core::Severity;
use wirewatch_store::contract::{
    FLUSH, T0, TempDir, contract_suite, sample_alert, sample_flow, sample_interval,
};
use wirewatch_store::{Record, SqliteStore, Store, StoreConfig};

fn open(dir: &Path) -> Box<dyn Store> {
    Box::new(SqliteStore::open(&StoreConfig::new(dir.join("wirewatch.db"))).unwrap())
}

#[test]
fn sqlite_passes_the_contract() {
    contract_suite(&open);
}

#[test]
fn views_read_like_a_small_monitor_expects() {
    let dir = TempDir::new("views");
    let path = dir.path().join("wirewatch.db");
    let store = SqliteStore::open(&StoreConfig::new(&path)).unwrap();
    let mut intel = sample_alert(2, "threat_intel_blocklist", Severity::High, 10);
    intel.confidence = 0.9;
    assert!(store.submit(vec![
        Record::Interval(sample_interval(0, 1)),
        Record::Flow(sample_flow(0, "10.0.0.1", "192.0.2.80", 443, 0)),
        Record::Alert(sample_alert(1, "syn_flood", Severity::High, 0)),
        Record::Alert(intel),
    ]));
    store.flush(FLUSH).unwrap();

    // A plain connection, without Wirewatch's SQL functions, as another program would open.
    let conn = Connection::open(&path).unwrap();
    let counts: (String, i64, i64, i64, i64, i64) = conn
        .query_row(
            "SELECT timestamp, total_packets, tcp_packets, udp_packets, icmp_packets, \
             other_packets FROM packet_counts",
            [],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .unwrap();
    assert_eq!(
        counts,
        ("2023-11-14 22:13:20".to_string(), 101, 51, 30, 9, 11)
    );

    let mut stmt = conn
        .prepare("SELECT timestamp, ip_address, packet_count FROM source_ips ORDER BY ip_address")
        .unwrap();
    let sources: Vec<(String, String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        sources,
        vec![
            (
                "2023-11-14 22:13:20".to_string(),
                "10.0.0.1".to_string(),
                61
            ),
            (
                "2023-11-14 22:13:20".to_string(),
                "10.0.0.2".to_string(),
                10
            ),
            (
                "2023-11-14 22:13:20".to_string(),
                "2001:db8::5".to_string(),
                30
            ),
        ]
    );
    let dest: (String, i64) = conn
        .query_row("SELECT ip_address, packet_count FROM dest_ips", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(dest, ("192.0.2.80".to_string(), 70));

    let traffic: Vec<(String, String, String, String, String)> = conn
        .prepare("SELECT timestamp, alert_type, severity, message, source FROM traffic_alerts")
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        traffic,
        vec![(
            "2023-11-14 22:13:20".to_string(),
            "syn_flood".to_string(),
            "high".to_string(),
            "syn_flood: 1234 SYN/s from 203.0.113.9 (100% over baseline)".to_string(),
            "203.0.113.9".to_string(),
        )]
    );
    let threat: (String, String, String, String, i64, f64) = conn
        .query_row(
            "SELECT timestamp, ip_address, threat_type, severity, score, confidence \
             FROM threat_alerts",
            [],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .unwrap();
    assert_eq!(
        threat,
        (
            "2023-11-14 22:13:30".to_string(),
            "203.0.113.9".to_string(),
            "threat_intel_blocklist".to_string(),
            "high".to_string(),
            90,
            0.9
        )
    );
    // Addresses are 16-byte BLOBs, IPv4 mapped into ::ffff:0:0/96.
    let blob: Vec<u8> = conn
        .query_row("SELECT src_ip FROM flows", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        blob,
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1]
    );
    let (mode, auto_vacuum, version): (String, i64, i64) = conn
        .query_row(
            "SELECT (SELECT journal_mode FROM pragma_journal_mode), \
             (SELECT auto_vacuum FROM pragma_auto_vacuum), \
             (SELECT user_version FROM pragma_user_version)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (mode.as_str(), auto_vacuum, version),
        ("wal", 2, wirewatch_store::migration_count())
    );
    let _ = T0;
}
