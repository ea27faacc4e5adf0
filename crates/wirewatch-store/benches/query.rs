//! Flow query speed over a large database: 10,000,000 synthetic flows spread over 24 hours of
//! packet time (about 116 flows/s), then typical queries of the web UI, each returning a page
//! of 100 rows and the `COUNT(*)` of the filtered set.
//!
//! Run: `cargo bench -p wirewatch-store --bench query`.
//! `WIREWATCH_BENCH_FLOWS` changes the number of flows; `WIREWATCH_BENCH_DIR` where the
//! database goes (default: the system temp dir; about 3 GB for 10M flows). A database built
//! by an earlier run with the same number of flows is reused; delete it to time the build.

// Benchmark code: a broken setup should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use wirewatch_core::flow::DirectionStats;
use wirewatch_core::rng::SplitMix64;
use wirewatch_core::{
    AppDetails, AppLabel, AppProto, EndReason, FlowRecord, NameSource, TcpState, Timestamp,
};
use wirewatch_store::{Query, SqliteStore, Store, StoreConfig, bulk_insert_flows, parse_ip_filter};

const NS: u64 = 1_000_000_000;
/// Packet time the data starts at.
const START_S: u64 = 1_700_000_000;
/// Packet time the data covers.
const SPAN_S: u64 = 86_400;

fn flow_count() -> u64 {
    std::env::var("WIREWATCH_BENCH_FLOWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000)
}

/// SplitMix64 (the shared one): fixed-seed, fast, good enough to spread addresses and ports.
struct Rng(SplitMix64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// `0..n` by remainder, as this data has always been drawn (not the multiply-shift of
    /// [`SplitMix64::below`], which would draw other data).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Destination ports with a plausible mix (per mille).
const PORTS: [(u16, u8, u64); 10] = [
    (443, 6, 400),
    (53, 17, 200),
    (80, 6, 150),
    (22, 6, 20),
    (123, 17, 30),
    (3389, 6, 5),
    (8080, 6, 30),
    (25, 6, 15),
    (993, 6, 30),
    (0, 6, 120), // a random high port
];

/// Flow `i` of `n`, in order of packet time: internal clients in 10.0.0.0/16 (a tenth of
/// them IPv6 in 2001:db8::/48) talking to 20% internal, 80% external servers (a pool of
/// 50,000 addresses); lengths mostly under two minutes, a few up to the 30-minute active
/// timeout; a third carry an application and server name.
fn synthetic_flow(rng: &mut Rng, i: u64, n: u64) -> FlowRecord {
    let first_ns = START_S * NS + i * (SPAN_S * NS / n) + rng.below(NS);
    let duration_ns = if rng.below(100) == 0 {
        rng.below(1800 * NS)
    } else {
        rng.below(120 * NS)
    };
    let host = rng.below(65_536);
    let v6 = rng.below(10) == 0;
    let src_ip = if v6 {
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, host as u16))
    } else {
        IpAddr::V4(Ipv4Addr::new(10, 0, (host >> 8) as u8, host as u8))
    };
    let dst_ip = if v6 {
        IpAddr::V6(Ipv6Addr::new(
            0x2001,
            0xdb8,
            0xff,
            0,
            0,
            0,
            0,
            rng.below(50_000) as u16,
        ))
    } else if rng.below(5) == 0 {
        IpAddr::V4(Ipv4Addr::new(
            10,
            0,
            rng.below(256) as u8,
            rng.below(256) as u8,
        ))
    } else {
        // A fixed pool of servers spread over the address space.
        let server = rng.below(50_000);
        let mixed = server.wrapping_mul(0x9e37_79b9).wrapping_add(0x0101_0101) as u32;
        IpAddr::V4(Ipv4Addr::from(mixed | 0x0100_0000))
    };
    let mut pick = rng.below(1000);
    let (mut dst_port, mut proto) = (443, 6);
    for (port, p, share) in PORTS {
        if pick < share {
            dst_port = if port == 0 {
                1024 + rng.below(64_000) as u16
            } else {
                port
            };
            proto = p;
            break;
        }
        pick -= share;
    }
    let packets = 1 + rng.below(200);
    let (app, details) = if rng.below(3) == 0 {
        let mut d = AppDetails::default();
        d.offer_server_name(
            format!("host{}.example{}.com", rng.below(1000), host % 97),
            NameSource::TlsSni,
        );
        let proto = if dst_port == 53 {
            AppProto::Dns
        } else {
            AppProto::Tls
        };
        (AppLabel::payload(proto), Some(Box::new(d)))
    } else {
        (AppLabel::default(), None)
    };
    FlowRecord {
        ip_proto: proto,
        src_ip,
        src_port: 32_768 + rng.below(28_000) as u16,
        dst_ip,
        dst_port,
        fwd: DirectionStats {
            packets,
            bytes: packets * 120,
            payload_bytes: packets * 60,
            tcp_flags: 0x1b,
            payload_packets: 0,
            repeated_small_payloads: 0,
            last_payload_len: 0,
        },
        rev: DirectionStats {
            packets: packets / 2,
            bytes: packets * 700,
            payload_bytes: packets * 650,
            tcp_flags: 0x1b,
            payload_packets: 0,
            repeated_small_payloads: 0,
            last_payload_len: 0,
        },
        first_ts: Timestamp(first_ns),
        last_ts: Timestamp(first_ns + duration_ns),
        state: if proto == 6 {
            TcpState::Closed
        } else {
            TcpState::None
        },
        end_reason: EndReason::Fin,
        app,
        details,
        reputation: None,
        features: None,
        tcp_health: None,
        vlan: None,
        tunnel: None,
    }
}

/// The benchmark database, built on first use.
fn database(n: u64) -> PathBuf {
    let dir = std::env::var_os("WIREWATCH_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let path = dir.join(format!("wirewatch-bench-{n}-flows.db"));
    let done = path.with_extension("db.complete");
    if path.exists() && done.exists() {
        eprintln!("reusing {} ({n} flows)", path.display());
        return path;
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    eprintln!("building {} with {n} flows ...", path.display());
    let started = Instant::now();
    let mut rng = Rng(SplitMix64::new(42));
    let flows = (0..n).map(|i| synthetic_flow(&mut rng, i, n));
    let inserted = bulk_insert_flows(&path, flows).unwrap();
    assert_eq!(inserted, n);
    let elapsed = started.elapsed();
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "built in {:.1} s ({:.0} flows/s), {:.0} MB",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        size as f64 / 1e6
    );
    std::fs::write(&done, b"").unwrap();
    path
}

fn queries(c: &mut Criterion) {
    let n = flow_count();
    let path = database(n);
    let store = SqliteStore::open(&StoreConfig::new(&path)).unwrap();
    let end = Timestamp((START_S + SPAN_S) * NS);
    let hour_ago = Timestamp((START_S + SPAN_S - 3600) * NS);
    let midday = Timestamp((START_S + SPAN_S / 2) * NS);
    let last_hour = Query {
        from: Some(hour_ago),
        to: Some(end),
        descending: true,
        ..Query::default()
    };
    let an_hour_at_midday = Query {
        from: Some(midday),
        to: Some(midday.plus(3600 * NS)),
        ..Query::default()
    };
    let cases: Vec<(&str, Query)> = vec![
        ("last hour, newest first", last_hour.clone()),
        (
            "an hour at midday + /24",
            Query {
                ip: Some(parse_ip_filter("10.0.42.0/24").unwrap()),
                ..an_hour_at_midday.clone()
            },
        ),
        (
            "an hour at midday + port 22",
            Query {
                port: Some(22),
                ..an_hour_at_midday.clone()
            },
        ),
        (
            "last hour + /16 + sort by bytes",
            Query {
                ip: Some(parse_ip_filter("10.0.0.0/16").unwrap()),
                sort: Some("bytes".into()),
                ..last_hour.clone()
            },
        ),
        (
            "one host, whole day",
            Query {
                ip: Some(parse_ip_filter("10.0.42.7").unwrap()),
                ..Query::default()
            },
        ),
        (
            "port 3389, whole day",
            Query {
                port: Some(3389),
                ..Query::default()
            },
        ),
        (
            "an hour at midday + server name",
            Query {
                name: Some("example42.com".into()),
                ..an_hour_at_midday.clone()
            },
        ),
    ];
    for (name, q) in &cases {
        let started = Instant::now();
        let page = store.flows(q).unwrap();
        eprintln!(
            "{name}: {} rows of {} matching, first run {:.1} ms",
            page.rows.len(),
            page.total,
            started.elapsed().as_secs_f64() * 1e3
        );
    }
    let mut group = c.benchmark_group("flows_query");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for (name, q) in &cases {
        group.bench_function(*name, |b| b.iter(|| black_box(store.flows(q).unwrap())));
    }
    group.finish();
}

criterion_group!(benches, queries);
criterion_main!(benches);
