//! The contract every [`Store`] backend must pass, through the trait alone.
//!
//! Call [`contract_suite`] from a backend's tests with a function that opens a fresh store on
//! a database path inside the directory it is given. Each check uses its own directory.
//! This is test support, compiled into the library only with the `contract` feature, which
//! the tests that use it enable through a dev-dependency (so other crates' tests can run it,
//! and the binary never carries it); it panics on failure like any test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod flows;
mod transactions;

pub use flows::{
    flows_match_a_brute_force_filter, flows_pagination_and_sorting, flows_round_trip_and_filters,
};
pub use transactions::{sample_transaction, transactions_round_trip_and_filters};

use crate::query::{IntervalRow, Query, Resolution, parse_ip_filter};
use crate::{Record, Store, StoreError};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use wirewatch_core::flow::DirectionStats;
use wirewatch_core::{
    Alert, DropCounts, EndReason, FlowRecord, IntervalMetrics, ProtocolCounts, Severity, Talker,
    TcpFlagCounts, TcpState, Timestamp,
};

/// Packet time the sample data starts at (2023-11-14 22:13:20 UTC).
pub const T0: u64 = 1_700_000_000;
/// How long the suite waits for a store to write what it was given.
pub const FLUSH: Duration = Duration::from_secs(30);

/// A directory removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A fresh, empty directory under the system temp dir.
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "wirewatch-store-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) fn ts(secs: u64, nanos: u64) -> Timestamp {
    Timestamp::from_secs_nanos(secs, nanos)
}

pub(crate) fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A one-second interval at `T0 + offset_s` with every field set to a distinct value derived
/// from `k`, and top talkers (one address in both lists, one in each only).
pub fn sample_interval(offset_s: u64, k: u64) -> IntervalMetrics {
    let talker = |ip_s: &str, p: u64| Talker {
        ip: ip(ip_s),
        packets: p,
        bytes: p * 100,
    };
    IntervalMetrics {
        start_ts: ts(T0 + offset_s, 0),
        duration_ns: 1_000_000_000,
        packets: 100 + k,
        bytes: 10_000 + 7 * k,
        bps: (10_000 + 7 * k) as f64 * 8.0,
        pps: (100 + k) as f64,
        protocols: ProtocolCounts {
            tcp: 50 + k,
            udp: 30,
            icmp: 5,
            icmpv6: 4,
            other_ip: 3,
            non_ip: 8,
        },
        tcp_flags: TcpFlagCounts {
            syn: 9 + k,
            syn_ack: 8,
            rst: 2 + k % 3,
            fin: 6,
        },
        distinct_src_ips: 10 + k % 7,
        distinct_dst_ips: 20 + k % 5,
        distinct_dst_ports: 0,
        src_entropy: 0.0,
        dst_entropy: 0.0,
        flows_new: 3 + k,
        flows_active: 11 + k % 4,
        flows_closed: 2 + k,
        flows_live: 40 + k % 9,
        flows_evicted: k % 2,
        decode_errors: k % 3,
        drops: DropCounts {
            kernel: k,
            interface: 1,
            queue: 2 * k,
        },
        top_sources_by_bytes: vec![talker("10.0.0.1", 60 + k), talker("10.0.0.2", 10)],
        top_sources_by_packets: vec![talker("10.0.0.1", 60 + k), talker("2001:db8::5", 30)],
        top_destinations_by_bytes: vec![talker("192.0.2.80", 70)],
        top_destinations_by_packets: vec![talker("192.0.2.80", 70)],
        talkers_approximate: false,
        apps: vec![wirewatch_core::AppCount {
            app: wirewatch_core::AppProto::Tls,
            packets: 40 + k,
            bytes: 4_000,
        }],
        host_names: vec![wirewatch_core::HostName {
            ip: ip("192.0.2.80"),
            name: format!("www{k}.example"),
        }],
        reputations: vec![wirewatch_core::AddressReputation {
            ip: ip("192.0.2.80"),
            score: 88,
            source: wirewatch_core::ThreatSource::Abuseipdb {
                country_code: Some("ZZ".into()),
                country_name: None,
                isp: Some("Example ISP".into()),
                usage_type: None,
                domain: None,
                total_reports: 7 + k,
            },
        }],
        // The interval's TCP health is not stored: it reads back as none.
        tcp_retransmissions: 0,
        tcp_out_of_order: 0,
        tcp_handshakes_timed: 0,
        tcp_rtt_p50_ms: None,
        tcp_rtt_p95_ms: None,
    }
}

/// A flow number `i` between `src` and `dst`, starting at `T0 + start_s`.
pub fn sample_flow(i: u64, src: &str, dst: &str, dst_port: u16, start_s: u64) -> FlowRecord {
    let ip_proto = if dst_port == 53 { 17 } else { 6 };
    // TCP flows carry their health; every third one without a captured handshake.
    let tcp_health = (ip_proto == 6).then(|| wirewatch_core::TcpHealth {
        handshake_rtt_ns: (!i.is_multiple_of(3)).then_some(1_234_567 + 1_000 * i),
        retransmissions: i % 5,
        fast_retransmissions: i % 2,
        out_of_order: i % 4,
        lost_segments: i % 7,
        zero_windows: i % 3,
        ..Default::default()
    });
    FlowRecord {
        ip_proto,
        src_ip: ip(src),
        src_port: 40_000 + (i % 20_000) as u16,
        dst_ip: ip(dst),
        dst_port,
        fwd: DirectionStats {
            packets: 10 + i,
            bytes: 1_000 + 10 * i,
            payload_bytes: 500 + i,
            tcp_flags: 0x1b,
            payload_packets: 0,
            repeated_small_payloads: 0,
            last_payload_len: 0,
        },
        rev: DirectionStats {
            packets: 8 + i,
            bytes: 5_000 + i,
            payload_bytes: 4_000 + i,
            tcp_flags: 0x13,
            payload_packets: 0,
            repeated_small_payloads: 0,
            last_payload_len: 0,
        },
        first_ts: ts(T0 + start_s, 123_456_000),
        last_ts: ts(T0 + start_s + 5, 654_321_000),
        state: TcpState::Closed,
        end_reason: EndReason::Fin,
        app: Default::default(),
        details: None,
        reputation: None,
        features: None,
        tcp_health,
        vlan: None,
        tunnel: None,
    }
}

/// `f` labelled with application `app` (recognised in the payload; a name that is no known
/// protocol leaves it unknown) and carrying server name `server`, plus a few details.
pub fn named(mut f: FlowRecord, app: Option<&str>, server: Option<&str>) -> FlowRecord {
    if let Some(proto) = app.and_then(wirewatch_core::AppProto::parse) {
        f.app = wirewatch_core::AppLabel::payload(proto);
    }
    if let Some(server) = server {
        let mut d = wirewatch_core::AppDetails::default();
        d.offer_server_name(server.to_string(), wirewatch_core::NameSource::TlsSni);
        d.add_dns_query(server);
        d.add_dns_rcode("NOERROR");
        d.tls = Some(wirewatch_core::app::TlsSummary {
            version: Some("TLSv1.3".into()),
            alpn: vec!["h2".into()],
            cipher: Some(0x1301),
            ja4_a: Some("t13d1516h2".into()),
            ja4: Some("t13d1516h2_8daaf6152771_e5627efa2ab1".into()),
        });
        f.details = Some(Box::new(d));
        if server.contains("evil") {
            f.reputation = Some(Box::new(wirewatch_core::AddressReputation {
                ip: f.dst_ip,
                score: 100,
                source: wirewatch_core::ThreatSource::Blocklist {
                    list: "drop".into(),
                    entry: format!("{}/32", f.dst_ip),
                    reference: Some("SBL1".into()),
                },
            }));
        }
    }
    f
}

/// An alert.
pub fn sample_alert(id: u64, kind: &str, severity: Severity, start_s: u64) -> Alert {
    Alert {
        id,
        kind: kind.to_string(),
        severity,
        confidence: 0.75,
        start_ts: ts(T0 + start_s, 0),
        last_ts: ts(T0 + start_s + 30, 0),
        updates: 1,
        sources: vec![ip("203.0.113.9")],
        targets: vec![ip("10.0.0.1"), ip("2001:db8::5")],
        ports: vec![22, 443],
        message: format!("{kind}: 1234 SYN/s from 203.0.113.9 (100% over baseline)"),
        recommendation: "block 203.0.113.9 at the firewall".to_string(),
        evidence: serde_json::json!({"rate": 1234.5, "threshold": 500, "top": ["203.0.113.9"]}),
    }
}

pub(crate) fn write(store: &dyn Store, records: Vec<Record>) {
    assert!(store.submit(records), "submit refused");
    store.flush(FLUSH).unwrap();
    assert_eq!(store.last_error(), None);
}

pub(crate) fn q() -> Query {
    Query::default()
}

fn bad_query(r: Result<impl std::fmt::Debug, StoreError>, expected: &str) {
    match r {
        Err(StoreError::BadQuery(m)) => assert!(
            m.contains(expected),
            "bad-query message {m:?} does not contain {expected:?}"
        ),
        other => panic!("expected BadQuery containing {expected:?}, got {other:?}"),
    }
}

/// Runs every contract check against stores made by `make` (given an empty directory, it
/// opens a new store on a database inside it).
pub fn contract_suite(make: &dyn Fn(&Path) -> Box<dyn Store>) {
    intervals_round_trip(make);
    talkers_round_trip(make);
    flows_round_trip_and_filters(make);
    flows_pagination_and_sorting(make);
    flows_match_a_brute_force_filter(make);
    alerts_filters_and_update_in_place(make);
    transactions_round_trip_and_filters(make);
    bad_queries(make);
}

/// Intervals come back exactly, in order, with totals; roll-ups sum them.
pub fn intervals_round_trip(make: &dyn Fn(&Path) -> Box<dyn Store>) {
    let dir = TempDir::new("contract-intervals");
    let store = make(dir.path());
    let metrics: Vec<IntervalMetrics> = (0..90).map(|i| sample_interval(i, i)).collect();
    write(
        &*store,
        metrics.iter().cloned().map(Record::Interval).collect(),
    );
    let stats = store.stats();
    assert_eq!(stats.records_written, 90);
    assert_eq!(stats.batches_written, 1);
    assert_eq!(stats.queued, 0);

    let raw = store
        .intervals(&Query {
            resolution: Resolution::Raw,
            limit: 1000,
            ..q()
        })
        .unwrap();
    assert_eq!(raw.total, 90);
    let expected: Vec<IntervalRow> = metrics.iter().map(IntervalRow::from_metrics).collect();
    assert_eq!(raw.rows, expected);

    // Auto over a short range is raw; a time range selects by start.
    let page = store
        .intervals(&Query {
            from: Some(ts(T0 + 10, 0)),
            to: Some(ts(T0 + 19, 0)),
            ..q()
        })
        .unwrap();
    assert_eq!(page.total, 10);
    assert_eq!(page.rows, expected[10..20].to_vec());

    // Sorted by packets, descending, second page.
    let page = store
        .intervals(&Query {
            sort: Some("packets".into()),
            descending: true,
            limit: 5,
            offset: 5,
            resolution: Resolution::Raw,
            ..q()
        })
        .unwrap();
    let packets: Vec<u64> = page.rows.iter().map(|r| r.packets).collect();
    assert_eq!(packets, vec![184, 183, 182, 181, 180]);
    assert_eq!((page.total, page.offset, page.limit), (90, 5, 5));

    // Minute roll-ups: T0 is 20 s into a minute, so 40 + 50 intervals.
    let minutes = store
        .intervals(&Query {
            resolution: Resolution::Minute,
            ..q()
        })
        .unwrap();
    assert_eq!(minutes.total, 2);
    let first = &minutes.rows[0];
    let covered = &metrics[..40];
    assert_eq!(first.intervals, 40);
    assert_eq!(first.start_ts, ts(T0 - 20, 0).as_secs_f64());
    assert_eq!(
        first.packets,
        covered.iter().map(|m| m.packets).sum::<u64>()
    );
    assert_eq!(first.bytes, covered.iter().map(|m| m.bytes).sum::<u64>());
    assert_eq!(
        first.drops.queue,
        covered.iter().map(|m| m.drops.queue).sum::<u64>()
    );
    assert_eq!(
        first.max_pps,
        covered.iter().map(|m| m.pps).fold(0.0, f64::max)
    );
    assert_eq!(
        first.distinct_src_ips,
        covered.iter().map(|m| m.distinct_src_ips).max().unwrap()
    );
    assert_eq!(first.duration_s, 40.0);
    assert_eq!(first.resolution, Resolution::Minute);
    let hours = store
        .intervals(&Query {
            resolution: Resolution::Hour,
            ..q()
        })
        .unwrap();
    assert_eq!(hours.total, 1);
    assert_eq!(hours.rows[0].intervals, 90);
    assert_eq!(
        hours.rows[0].packets,
        metrics.iter().map(|m| m.packets).sum::<u64>()
    );
}

/// Top talkers: by-bytes and by-packets lists merged without duplicates.
pub fn talkers_round_trip(make: &dyn Fn(&Path) -> Box<dyn Store>) {
    let dir = TempDir::new("contract-talkers");
    let store = make(dir.path());
    write(
        &*store,
        vec![
            Record::Interval(sample_interval(0, 1)),
            Record::Interval(sample_interval(1, 2)),
        ],
    );
    let all = store
        .talkers(&Query {
            sort: Some("bytes".into()),
            descending: true,
            ..q()
        })
        .unwrap();
    // Per interval: 3 distinct sources, 1 destination.
    assert_eq!(all.total, 8);
    let first = &all.rows[0];
    assert_eq!(
        (
            first.direction.as_str(),
            first.ip,
            first.packets,
            first.bytes
        ),
        ("dst", ip("192.0.2.80"), 70, 7000)
    );
    // Names learned from DNS answers come back, and the name filter finds them.
    assert_eq!(first.name.as_deref(), Some("www2.example"));
    assert_eq!(first.threat.threat_score, Some(88));
    assert_eq!(first.threat.threat_source.as_deref(), Some("abuseipdb"));
    assert_eq!(first.threat.threat_ip, Some(ip("192.0.2.80")));
    assert_eq!(all.rows.iter().filter(|r| r.name.is_some()).count(), 2);
    let named = store
        .talkers(&Query {
            name: Some("WWW1.EXAMPLE".into()),
            ..q()
        })
        .unwrap();
    assert_eq!(named.total, 1);
    assert_eq!(named.rows[0].start_ts, ts(T0, 0).as_secs_f64());
    let srcs = store
        .talkers(&Query {
            kind: Some("src".into()),
            from: Some(ts(T0 + 1, 0)),
            sort: Some("packets".into()),
            descending: true,
            ..q()
        })
        .unwrap();
    let got: Vec<(IpAddr, u64)> = srcs.rows.iter().map(|r| (r.ip, r.packets)).collect();
    assert_eq!(
        got,
        vec![
            (ip("10.0.0.1"), 62),
            (ip("2001:db8::5"), 30),
            (ip("10.0.0.2"), 10)
        ]
    );
    assert_eq!(srcs.rows[0].start_ts, ts(T0 + 1, 0).as_secs_f64());
    let v6 = store
        .talkers(&Query {
            ip: Some(parse_ip_filter("2001:db8::/32").unwrap()),
            ..q()
        })
        .unwrap();
    assert_eq!(v6.total, 2);
    assert!(v6.rows.iter().all(|r| r.ip == ip("2001:db8::5")));
    bad_query(
        store.talkers(&Query {
            kind: Some("both".into()),
            ..q()
        }),
        "use src (sources) or dst (destinations)",
    );
}

/// Alerts round-trip, filter, and an alert with a known id is updated in place.
pub fn alerts_filters_and_update_in_place(make: &dyn Fn(&Path) -> Box<dyn Store>) {
    let dir = TempDir::new("contract-alerts");
    let store = make(dir.path());
    let mut a1 = sample_alert(1, "syn_flood", Severity::High, 0);
    let a2 = sample_alert(2, "port_scan", Severity::Low, 100);
    let mut a3 = sample_alert(3, "threat_intel", Severity::Critical, 200);
    a3.sources = vec![ip("198.51.100.7")];
    a3.targets = vec![];
    a3.ports = vec![];
    a3.message = "198.51.100.7 is on a blocklist (score 90)".into();
    let big_id = sample_alert(u64::MAX - 1, "spike", Severity::Medium, 300);
    write(
        &*store,
        vec![
            Record::Alert(a1.clone()),
            Record::Alert(a2.clone()),
            Record::Alert(a3.clone()),
            Record::Alert(big_id.clone()),
        ],
    );
    let all = store
        .alerts(&Query {
            sort: Some("start_ts".into()),
            ..q()
        })
        .unwrap();
    assert_eq!(
        all.rows,
        vec![a1.clone(), a2.clone(), a3.clone(), big_id.clone()]
    );

    let ids = |query: Query| -> Vec<u64> {
        let page = store
            .alerts(&Query {
                sort: Some("start_ts".into()),
                ..query
            })
            .unwrap();
        assert_eq!(page.total as usize, page.rows.len());
        page.rows.iter().map(|a| a.id).collect()
    };
    assert_eq!(
        ids(Query {
            min_severity: Some(Severity::High),
            ..q()
        }),
        vec![1, 3]
    );
    assert_eq!(
        ids(Query {
            kind: Some("port_scan".into()),
            ..q()
        }),
        vec![2]
    );
    assert_eq!(
        ids(Query {
            text: Some("BLOCKLIST".into()),
            ..q()
        }),
        vec![3]
    );
    assert_eq!(
        ids(Query {
            text: Some("100%".into()),
            ..q()
        }),
        vec![1, 2, u64::MAX - 1]
    );
    assert_eq!(
        ids(Query {
            ip: Some(parse_ip_filter("198.51.100.0/24").unwrap()),
            ..q()
        }),
        vec![3]
    );
    assert_eq!(
        ids(Query {
            ip: Some(parse_ip_filter("2001:db8::5").unwrap()),
            ..q()
        }),
        vec![1, 2, u64::MAX - 1]
    );
    assert_eq!(
        ids(Query {
            port: Some(22),
            ..q()
        }),
        vec![1, 2, u64::MAX - 1]
    );
    assert_eq!(
        ids(Query {
            from: Some(ts(T0 + 120, 0)),
            to: Some(ts(T0 + 250, 0)),
            ..q()
        }),
        vec![2, 3]
    );
    let by_severity = store
        .alerts(&Query {
            sort: Some("severity".into()),
            descending: true,
            ..q()
        })
        .unwrap();
    let sev: Vec<Severity> = by_severity.rows.iter().map(|a| a.severity).collect();
    assert_eq!(
        sev,
        vec![
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low
        ]
    );

    // The incident grows: same id, new values.
    a1.last_ts = ts(T0 + 500, 0);
    a1.updates = 7;
    a1.severity = Severity::Critical;
    a1.sources.push(ip("203.0.113.10"));
    a1.message = "syn_flood: 9999 SYN/s".into();
    a1.evidence = serde_json::json!({"rate": 9999});
    write(&*store, vec![Record::Alert(a1.clone())]);
    let page = store
        .alerts(&Query {
            sort: Some("start_ts".into()),
            ..q()
        })
        .unwrap();
    assert_eq!(page.total, 4);
    assert_eq!(page.rows[0], a1);
}

/// Malformed queries are refused with a precise message.
pub fn bad_queries(make: &dyn Fn(&Path) -> Box<dyn Store>) {
    let dir = TempDir::new("contract-bad");
    let store = make(dir.path());
    bad_query(
        store.flows(&Query {
            from: Some(ts(T0 + 10, 0)),
            to: Some(ts(T0, 0)),
            ..q()
        }),
        "inverted time range",
    );
    bad_query(
        store.alerts(&Query { limit: 0, ..q() }),
        "limit must be at least 1",
    );
    bad_query(
        store.intervals(&Query {
            limit: 1_000_000,
            ..q()
        }),
        "limit 1000000 is above the maximum of 10000",
    );
    bad_query(
        store.flows(&Query {
            sort: Some("bytes; DROP TABLE flows".into()),
            ..q()
        }),
        "unknown sort column \"bytes; DROP TABLE flows\"",
    );
    bad_query(
        store.intervals(&Query {
            sort: Some("dst_port".into()),
            ..q()
        }),
        "intervals cannot be sorted by \"dst_port\"; use one of: start_ts, packets",
    );
    // An empty store answers with empty pages.
    let empty = store.intervals(&q()).unwrap();
    assert_eq!((empty.rows.len(), empty.total), (0, 0));
    assert_eq!(store.flows(&q()).unwrap().total, 0);
    assert_eq!(store.alerts(&q()).unwrap().total, 0);
    assert_eq!(store.talkers(&q()).unwrap().total, 0);
    assert_eq!(store.transactions(&q()).unwrap().total, 0);
}
