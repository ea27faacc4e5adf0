//! Retention on packet time and exact roll-ups.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use wirewatch_core::{IntervalMetrics, Severity, Timestamp};
use wirewatch_store::contract::{
    FLUSH, T0, TempDir, sample_alert, sample_flow, sample_interval, sample_transaction,
};
use wirewatch_store::{
    IntervalRow, Query, Record, Resolution, RetentionConfig, SqliteStore, Store, StoreConfig,
    live_bytes,
};

const NS: u64 = 1_000_000_000;
const STEP_S: u64 = 10;
const DAYS: u64 = 3;

/// 3 days of 10-second intervals with varied values.
fn three_days() -> Vec<IntervalMetrics> {
    (0..DAYS * 86_400 / STEP_S)
        .map(|i| {
            let k = (i * 7919) % 1000;
            let mut m = sample_interval(i * STEP_S, k);
            m.duration_ns = STEP_S * NS;
            m.pps = m.packets as f64 / STEP_S as f64;
            m.bps = m.bytes as f64 * 8.0 / STEP_S as f64;
            // TCP health: handshakes timed in two intervals of three, round-trip times in
            // whole microseconds (as roll-ups keep them).
            m.tcp_retransmissions = k % 13;
            m.tcp_out_of_order = k % 5;
            if k % 3 != 0 {
                m.tcp_handshakes_timed = k % 7 + 1;
                m.tcp_rtt_p50_ms = Some((k * 125) as f64 / 1000.0);
                m.tcp_rtt_p95_ms = Some((k * 250 + 1) as f64 / 1000.0);
            }
            m
        })
        .collect()
}

/// What a roll-up row over `ms` must hold.
fn expected_rollup(start_ns: u64, ms: &[&IntervalMetrics], res: Resolution) -> IntervalRow {
    let sum = |f: fn(&IntervalMetrics) -> u64| ms.iter().map(|m| f(m)).sum::<u64>();
    let max = |f: fn(&IntervalMetrics) -> u64| ms.iter().map(|m| f(m)).max().unwrap();
    let fmax = |f: fn(&IntervalMetrics) -> f64| ms.iter().map(|m| f(m)).fold(0.0, f64::max);
    let duration_s = sum(|m| m.duration_ns) as f64 / 1e9;
    let mut row = IntervalRow::from_metrics(ms[0]);
    row.start_ts = Timestamp(start_ns).as_secs_f64();
    row.duration_s = duration_s;
    row.packets = sum(|m| m.packets);
    row.bytes = sum(|m| m.bytes);
    row.bps = row.bytes as f64 / duration_s * 8.0;
    row.pps = row.packets as f64 / duration_s;
    row.protocols.tcp = sum(|m| m.protocols.tcp);
    row.protocols.udp = sum(|m| m.protocols.udp);
    row.protocols.icmp = sum(|m| m.protocols.icmp);
    row.protocols.icmpv6 = sum(|m| m.protocols.icmpv6);
    row.protocols.other_ip = sum(|m| m.protocols.other_ip);
    row.protocols.non_ip = sum(|m| m.protocols.non_ip);
    row.tcp_flags.syn = sum(|m| m.tcp_flags.syn);
    row.tcp_flags.syn_ack = sum(|m| m.tcp_flags.syn_ack);
    row.tcp_flags.rst = sum(|m| m.tcp_flags.rst);
    row.tcp_flags.fin = sum(|m| m.tcp_flags.fin);
    row.distinct_src_ips = max(|m| m.distinct_src_ips);
    row.distinct_dst_ips = max(|m| m.distinct_dst_ips);
    row.flows_new = sum(|m| m.flows_new);
    row.flows_active = max(|m| m.flows_active);
    row.flows_closed = sum(|m| m.flows_closed);
    row.flows_live = max(|m| m.flows_live);
    row.flows_evicted = sum(|m| m.flows_evicted);
    row.decode_errors = sum(|m| m.decode_errors);
    row.drops.kernel = sum(|m| m.drops.kernel);
    row.drops.interface = sum(|m| m.drops.interface);
    row.drops.queue = sum(|m| m.drops.queue);
    row.intervals = ms.len() as u64;
    row.max_pps = fmax(|m| m.pps);
    row.max_bps = fmax(|m| m.bps);
    row.tcp_retransmissions = sum(|m| m.tcp_retransmissions);
    row.tcp_out_of_order = sum(|m| m.tcp_out_of_order);
    row.tcp_handshakes_timed = sum(|m| m.tcp_handshakes_timed);
    let us = |ms: Option<f64>| ms.map_or(0, |ms| (ms * 1000.0).round() as u64);
    let wsum: u64 = ms
        .iter()
        .map(|m| us(m.tcp_rtt_p50_ms) * m.tcp_handshakes_timed)
        .sum();
    let p95_us = ms.iter().map(|m| us(m.tcp_rtt_p95_ms)).max().unwrap();
    let timed = row.tcp_handshakes_timed;
    row.tcp_rtt_p50_ms = (timed > 0).then(|| wsum as f64 / 1000.0 / timed as f64);
    row.tcp_rtt_p95_ms = (timed > 0).then(|| p95_us as f64 / 1000.0);
    row.resolution = res;
    // Roll-ups keep no per-application counts.
    row.apps = Vec::new();
    row
}

fn all(store: &SqliteStore, res: Resolution) -> Vec<IntervalRow> {
    let page = store
        .intervals(&Query {
            resolution: res,
            limit: 10_000,
            ..Query::default()
        })
        .unwrap();
    assert_eq!(page.total as usize, page.rows.len());
    page.rows
}

#[test]
fn three_days_with_24_hours_of_raw_and_exact_rollups() {
    let dir = TempDir::new("retention");
    let path = dir.path().join("wirewatch.db");
    let retention = RetentionConfig {
        intervals_hours: 24,
        minute_rollup_days: 2,
        hour_rollup_days: 365,
        ..RetentionConfig::default()
    };
    let store = SqliteStore::open(&StoreConfig {
        retention: retention.clone(),
        ..StoreConfig::new(&path)
    })
    .unwrap();
    let metrics = three_days();
    // One batch per hour of packet time, as the engine would over a long replay.
    for hour in metrics.chunks(360) {
        let batch: Vec<Record> = hour.iter().cloned().map(Record::Interval).collect();
        while !store.submit(batch.clone()) {
            store.flush(FLUSH).unwrap();
        }
    }
    store.flush(FLUSH).unwrap();
    assert_eq!(store.stats().records_written, metrics.len() as u64);
    assert_eq!(store.last_error(), None);

    let latest = metrics.last().unwrap().end_ts().0;
    // Raw: exactly the last 24 h of packet time (not of the wall clock: this is 2023 data).
    let raw = all(&store, Resolution::Raw);
    let raw_cutoff = latest - 24 * 3600 * NS;
    let kept: Vec<IntervalRow> = metrics
        .iter()
        .filter(|m| m.start_ts.0 >= raw_cutoff)
        .map(IntervalRow::from_metrics)
        .collect();
    assert_eq!(kept.len(), 8640);
    assert_eq!(raw, kept);
    // Talkers follow the raw intervals.
    let talkers = store
        .talkers(&Query {
            sort: Some("start_ts".into()),
            limit: 1,
            ..Query::default()
        })
        .unwrap();
    assert_eq!(talkers.total, 8640 * 4);
    assert_eq!(
        talkers.rows[0].start_ts,
        Timestamp(raw_cutoff).as_secs_f64()
    );

    // Roll-ups: exact sums and maxima of every interval they cover, raw ones deleted or not.
    for (res, bucket, keep_ns) in [
        (Resolution::Minute, 60 * NS, 2 * 86_400 * NS),
        (Resolution::Hour, 3600 * NS, 365 * 86_400 * NS),
    ] {
        let mut groups: BTreeMap<u64, Vec<&IntervalMetrics>> = BTreeMap::new();
        for m in &metrics {
            groups
                .entry(m.start_ts.0 - m.start_ts.0 % bucket)
                .or_default()
                .push(m);
        }
        let cutoff = latest.saturating_sub(keep_ns);
        let expected: Vec<IntervalRow> = groups
            .iter()
            .filter(|(start, _)| **start >= cutoff)
            .map(|(start, ms)| expected_rollup(*start, ms, res))
            .collect();
        let got = all(&store, res);
        assert_eq!(got.len(), expected.len(), "{res:?}");
        assert_eq!(got, expected, "{res:?}");
    }
    let minutes = all(&store, Resolution::Minute);
    assert_eq!(minutes.len(), 2 * 1440);
    // The hour roll-ups still cover all three days and every packet.
    let hours = all(&store, Resolution::Hour);
    assert_eq!(
        hours.iter().map(|r| r.intervals).sum::<u64>(),
        metrics.len() as u64
    );
    assert_eq!(
        hours.iter().map(|r| r.packets).sum::<u64>(),
        metrics.iter().map(|m| m.packets).sum::<u64>()
    );

    // Auto picks by range and by what is kept.
    let auto = |from_ago_s: u64, to_ago_s: u64| {
        let page = store
            .intervals(&Query {
                from: Some(Timestamp(latest - from_ago_s * NS)),
                to: Some(Timestamp(latest - to_ago_s * NS)),
                limit: 1,
                ..Query::default()
            })
            .unwrap();
        page.rows[0].resolution
    };
    assert_eq!(auto(3600, 0), Resolution::Raw);
    assert_eq!(auto(30 * 3600, 29 * 3600), Resolution::Minute);
    assert_eq!(auto(20 * 3600, 0), Resolution::Minute);
    assert_eq!(auto(60 * 3600, 59 * 3600), Resolution::Hour);
    let everything = store.intervals(&Query::default()).unwrap();
    assert_eq!(everything.rows[0].resolution, Resolution::Hour);
    assert_eq!(everything.total, 72 + 1);
}

#[test]
fn flows_and_alerts_expire_on_packet_time() {
    let dir = TempDir::new("expire");
    let path = dir.path().join("wirewatch.db");
    let store = SqliteStore::open(&StoreConfig {
        retention: RetentionConfig {
            flows_days: 1,
            alerts_days: 1,
            ..RetentionConfig::default()
        },
        ..StoreConfig::new(&path)
    })
    .unwrap();
    store.submit(vec![
        Record::Flow(sample_flow(1, "10.0.0.1", "192.0.2.1", 80, 0)),
        Record::Alert(sample_alert(1, "port_scan", Severity::Low, 0)),
    ]);
    store.flush(FLUSH).unwrap();
    // Nothing expires by the wall clock: this 2023 data stays.
    assert_eq!(store.flows(&Query::default()).unwrap().total, 1);
    store.submit(vec![
        Record::Flow(sample_flow(2, "10.0.0.1", "192.0.2.1", 80, 36 * 3600)),
        Record::Alert(sample_alert(2, "port_scan", Severity::Low, 36 * 3600)),
        Record::Interval(sample_interval(48 * 3600, 1)),
    ]);
    store.flush(FLUSH).unwrap();
    let flows = store.flows(&Query::default()).unwrap();
    assert_eq!(flows.total, 1);
    assert_eq!(
        flows.rows[0].first_ts,
        Timestamp((T0 + 36 * 3600) * NS + 123_456_000).as_secs_f64()
    );
    let alerts = store.alerts(&Query::default()).unwrap();
    assert_eq!(
        alerts.rows.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![2]
    );
}

#[test]
fn transactions_expire_on_packet_time_and_zero_days_keeps_them() {
    let dir = TempDir::new("expire-tx");
    let hosts = ("10.0.0.1", "10.0.0.53");
    let batches = || {
        [
            vec![
                Record::Transaction(sample_transaction("dns", 1, hosts, 0, Some("old.example"))),
                Record::Transaction(sample_transaction("tls", 2, hosts, 10, Some("old.example"))),
            ],
            vec![
                Record::Transaction(sample_transaction("http", 3, hosts, 36 * 3600, Some("new"))),
                Record::Interval(sample_interval(48 * 3600, 1)),
            ],
        ]
    };
    for (days, kept) in [
        (1, vec!["new"]),
        (0, vec!["old.example", "old.example", "new"]),
    ] {
        let store = SqliteStore::open(&StoreConfig {
            retention: RetentionConfig {
                transactions_days: days,
                ..RetentionConfig::default()
            },
            ..StoreConfig::new(dir.path().join(format!("keep-{days}.db")))
        })
        .unwrap();
        for batch in batches() {
            assert!(store.submit(batch));
            store.flush(FLUSH).unwrap();
        }
        let names: Vec<String> = store
            .transactions(&Query::default())
            .unwrap()
            .rows
            .into_iter()
            .filter_map(|r| r.name)
            .collect();
        assert_eq!(names, kept, "transactions_days = {days}");
    }
}

#[test]
fn the_size_cap_deletes_the_oldest_transactions() {
    let dir = TempDir::new("sizecap-tx");
    // A DNS tunnel's worth of names.
    let store = fill_past_a_1_mib_cap(&dir.path().join("wirewatch.db"), |b, i| {
        let name = format!("q{b}-{i}.tunnel.example");
        let src = format!("10.{b}.{}.{}", i / 250, i % 250);
        Record::Transaction(sample_transaction(
            "dns",
            b * 500 + i,
            (&src, "192.0.2.53"),
            b * 120,
            Some(&name),
        ))
    });
    let newest = store
        .transactions(&Query {
            sort: Some("ts".into()),
            descending: true,
            limit: 1,
            ..Query::default()
        })
        .unwrap();
    assert!(
        newest.total > 0 && newest.total < 20_000,
        "{}",
        newest.total
    );
    // The newest batch is kept; the oldest went first.
    assert!(
        newest.rows[0].name.as_deref().unwrap().starts_with("q39-"),
        "{:?}",
        newest.rows[0].name
    );
    let oldest = store
        .transactions(&Query {
            sort: Some("ts".into()),
            limit: 1,
            ..Query::default()
        })
        .unwrap();
    assert!(oldest.rows[0].ts > Timestamp(T0 * NS + NS).as_secs_f64());
}

/// Opens a store capped at 1 MiB at `path` and writes 40 batches of 500 records made by
/// `record(batch, i)`, two minutes of packet time apart (about 8 MB in all); checks the cap
/// held.
fn fill_past_a_1_mib_cap(
    path: &std::path::Path,
    record: impl Fn(u64, u64) -> Record,
) -> SqliteStore {
    let store = SqliteStore::open(&StoreConfig {
        retention: RetentionConfig {
            max_db_mb: Some(1),
            ..RetentionConfig::default()
        },
        ..StoreConfig::new(path)
    })
    .unwrap();
    for b in 0..40u64 {
        let batch: Vec<Record> = (0..500).map(|i| record(b, i)).collect();
        assert!(store.submit(batch));
        store.flush(FLUSH).unwrap();
    }
    assert_eq!(store.last_error(), None);
    let live = live_bytes(path).unwrap();
    assert!(live <= 1024 * 1024, "{live} bytes in use");
    store
}

#[test]
fn the_size_cap_deletes_the_oldest_raw_data() {
    let dir = TempDir::new("sizecap");
    let path = dir.path().join("wirewatch.db");
    let store = fill_past_a_1_mib_cap(&path, |b, i| {
        Record::Flow(sample_flow(
            b * 500 + i,
            &format!("10.{}.{}.{}", b, i / 250, i % 250),
            "192.0.2.1",
            443,
            b * 120,
        ))
    });
    let live = live_bytes(&path).unwrap();
    let flows = store
        .flows(&Query {
            sort: Some("first_ts".into()),
            descending: true,
            limit: 1,
            ..Query::default()
        })
        .unwrap();
    eprintln!(
        "size cap 1 MiB: {} of 20000 flows kept, {live} bytes in use",
        flows.total
    );
    assert!(flows.total > 0 && flows.total < 20_000, "{}", flows.total);
    // The newest flow is kept; the oldest went first.
    assert_eq!(flows.rows[0].src_ip.to_string(), "10.39.1.249");
    let oldest = store
        .flows(&Query {
            sort: Some("first_ts".into()),
            limit: 1,
            ..Query::default()
        })
        .unwrap();
    assert!(oldest.rows[0].first_ts > Timestamp(T0 * NS).as_secs_f64());
    drop(store);
    // Freed pages went back to the file system.
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size <= 2 * 1024 * 1024, "file is {size} bytes");
}

/// Seconds from `T0` to the wall clock now.
fn now_offset_s() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    now - T0
}

fn open(path: &std::path::Path, clock: wirewatch_store::RetentionClock) -> SqliteStore {
    SqliteStore::open(&StoreConfig {
        retention: RetentionConfig {
            flows_days: 7,
            ..RetentionConfig::default()
        },
        retention_clock: clock,
        ..StoreConfig::new(path)
    })
    .unwrap()
}

#[test]
fn a_future_row_stored_by_an_earlier_run_does_not_age_this_runs_data() {
    use wirewatch_store::RetentionClock::WrittenPacketTime;
    let dir = TempDir::new("future-earlier");
    let path = dir.path().join("wirewatch.db");
    let year = 365 * 86_400;
    {
        // A row fifty years ahead, as an older version (or a crafted file) could leave.
        let store = open(&path, WrittenPacketTime);
        store.submit(vec![Record::Flow(sample_flow(
            1,
            "10.0.0.1",
            "192.0.2.1",
            80,
            50 * year,
        ))]);
        store.flush(FLUSH).unwrap();
    }
    let store = open(&path, WrittenPacketTime);
    store.submit(vec![Record::Flow(sample_flow(
        2,
        "10.0.0.2",
        "192.0.2.1",
        80,
        0,
    ))]);
    store.flush(FLUSH).unwrap();
    assert_eq!(
        store.flows(&Query::default()).unwrap().total,
        2,
        "nothing aged out"
    );
}

#[test]
fn written_packet_time_never_runs_ahead_of_the_wall_clock() {
    use wirewatch_store::RetentionClock::WrittenPacketTime;
    let dir = TempDir::new("future-now");
    let path = dir.path().join("wirewatch.db");
    let now = now_offset_s();
    let store = open(&path, WrittenPacketTime);
    // Yesterday's flow, then one stamped fifty years ahead in the same run.
    store.submit(vec![Record::Flow(sample_flow(
        1,
        "10.0.0.1",
        "192.0.2.1",
        80,
        now - 86_400,
    ))]);
    store.flush(FLUSH).unwrap();
    store.submit(vec![Record::Flow(sample_flow(
        2,
        "10.0.0.2",
        "192.0.2.1",
        80,
        now + 50 * 365 * 86_400,
    ))]);
    store.flush(FLUSH).unwrap();
    assert_eq!(
        store.flows(&Query::default()).unwrap().total,
        2,
        "yesterday is inside 7 days of the wall clock, whatever the future row says"
    );
}

#[test]
fn the_wall_clock_ages_a_live_database() {
    use wirewatch_store::RetentionClock::WallClock;
    let dir = TempDir::new("wall");
    let path = dir.path().join("wirewatch.db");
    let now = now_offset_s();
    let store = open(&path, WallClock);
    // Both within a week of each other: packet time alone would keep them.
    store.submit(vec![
        Record::Flow(sample_flow(
            1,
            "10.0.0.1",
            "192.0.2.1",
            80,
            now - 10 * 86_400,
        )),
        Record::Flow(sample_flow(
            2,
            "10.0.0.2",
            "192.0.2.1",
            80,
            now - 9 * 86_400,
        )),
    ]);
    store.flush(FLUSH).unwrap();
    assert_eq!(
        store.flows(&Query::default()).unwrap().total,
        0,
        "a week by the wall clock has passed for both"
    );
    store.submit(vec![Record::Flow(sample_flow(
        3,
        "10.0.0.3",
        "192.0.2.1",
        80,
        now - 86_400,
    ))]);
    store.flush(FLUSH).unwrap();
    assert_eq!(store.flows(&Query::default()).unwrap().total, 1);
}
