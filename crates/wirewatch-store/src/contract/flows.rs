//! Contract checks on flows: round trip, every filter, pagination, sorting, and random
//! queries against a brute-force filter.

use super::{FLUSH, T0, TempDir, ip, named, q, sample_flow, ts, write};
use crate::query::{FlowRow, Query, parse_ip_filter};
use crate::{Record, Store};
use std::path::Path;
use wirewatch_core::rng::SplitMix64;
use wirewatch_core::{FlowRecord, Timestamp};

/// The flows the filter checks use, some with application names.
fn filter_flows() -> Vec<FlowRecord> {
    let f = |i, src, dst, port, start, app, server| {
        named(sample_flow(i, src, dst, port, start), app, server)
    };
    vec![
        f(
            0,
            "10.1.0.5",
            "93.184.216.34",
            443,
            0,
            Some("tls"),
            Some("example.com"),
        ),
        f(
            1,
            "10.1.200.7",
            "10.2.0.53",
            53,
            10,
            Some("dns"),
            Some("db_backup.internal"),
        ),
        f(2, "10.2.0.9", "10.1.0.5", 22, 20, None, None),
        f(
            3,
            "2001:db8::1",
            "2001:db8:1::80",
            80,
            30,
            Some("http"),
            Some("%' OR 1=1 --.evil"),
        ),
        f(
            4,
            "2001:db9::1",
            "192.0.2.1",
            443,
            40,
            Some("tls"),
            Some("dbxbackup.internal"),
        ),
    ]
}

/// Flows come back exactly; every filter selects exactly the flows it should.
pub fn flows_round_trip_and_filters(make: &dyn Fn(&Path) -> Box<dyn Store>) {
    let dir = TempDir::new("contract-flows");
    let store = make(dir.path());
    let flows = filter_flows();
    write(
        &*store,
        flows.iter().map(|f| Record::Flow(f.clone())).collect(),
    );
    let all = store
        .flows(&Query {
            sort: Some("first_ts".into()),
            ..q()
        })
        .unwrap();
    let expected: Vec<FlowRow> = flows.iter().map(FlowRow::from_record).collect();
    assert_eq!(all.total, 5);
    assert_eq!(all.rows, expected);

    // Which sample flows (by index) a query returns, in first_ts order.
    let pick = |query: Query| -> Vec<usize> {
        let page = store
            .flows(&Query {
                sort: Some("first_ts".into()),
                ..query
            })
            .unwrap();
        assert_eq!(page.total as usize, page.rows.len());
        page.rows
            .iter()
            .map(|r| expected.iter().position(|e| e == r).unwrap())
            .collect()
    };
    let net = |s: &str| Some(parse_ip_filter(s).unwrap());
    assert_eq!(
        pick(Query {
            ip: net("10.1.0.0/16"),
            ..q()
        }),
        vec![0, 1, 2]
    );
    assert_eq!(
        pick(Query {
            ip: net("10.1.0.5"),
            ..q()
        }),
        vec![0, 2]
    );
    assert_eq!(
        pick(Query {
            ip: net("10.0.0.0/8"),
            ..q()
        }),
        vec![0, 1, 2]
    );
    assert_eq!(
        pick(Query {
            ip: net("2001:db8::/32"),
            ..q()
        }),
        vec![3]
    );
    assert_eq!(
        pick(Query {
            ip: net("2001:db8::/16"),
            ..q()
        }),
        vec![3, 4]
    );
    assert_eq!(
        pick(Query {
            ip: net("192.0.2.0/24"),
            ..q()
        }),
        vec![4]
    );
    assert_eq!(
        pick(Query {
            ip: net("0.0.0.0/0"),
            ..q()
        }),
        vec![0, 1, 2, 4]
    );
    assert_eq!(
        pick(Query {
            ip: net("172.16.0.0/12"),
            ..q()
        }),
        Vec::<usize>::new()
    );
    assert_eq!(
        pick(Query {
            port: Some(443),
            ..q()
        }),
        vec![0, 4]
    );
    // Source ports count too: flow 2's source port is 40002.
    assert_eq!(
        pick(Query {
            port: Some(40_002),
            ..q()
        }),
        vec![2]
    );
    assert_eq!(
        pick(Query {
            proto: Some(17),
            ..q()
        }),
        vec![1]
    );
    let name = |s: &str| Query {
        name: Some(s.to_string()),
        ..q()
    };
    assert_eq!(pick(name("EXAMPLE")), vec![0]);
    assert_eq!(pick(name("tls")), vec![0, 4]);
    // Hostile names: bound, and LIKE wildcards escaped.
    assert_eq!(pick(name("%' OR 1=1 --")), vec![3]);
    assert_eq!(pick(name("' OR '1'='1")), Vec::<usize>::new());
    assert_eq!(pick(name("_")), vec![1]);
    assert_eq!(pick(name("db_backup")), vec![1]);
    assert_eq!(pick(name("%")), vec![3]);
    assert_eq!(pick(name("\\")), Vec::<usize>::new());
    assert_eq!(
        pick(Query {
            text: Some("backup".into()),
            ..q()
        }),
        vec![1, 4]
    );
    // Time ranges select flows overlapping them (each flow lasts 5.53 s).
    let range = |from: u64, to: u64| Query {
        from: Some(ts(T0 + from, 0)),
        to: Some(ts(T0 + to, 0)),
        ..q()
    };
    assert_eq!(pick(range(3, 11)), vec![0, 1]);
    assert_eq!(pick(range(3, 10)), vec![0]);
    assert_eq!(pick(range(6, 9)), Vec::<usize>::new());
    assert_eq!(pick(range(25, 1_000)), vec![2, 3, 4]);
    assert_eq!(
        pick(Query {
            from: Some(ts(T0 + 5, 654_321_000)),
            to: Some(ts(T0 + 5, 654_321_000)),
            ..q()
        }),
        vec![0]
    );
    assert_eq!(
        pick(Query {
            to: Some(ts(T0 + 10, 123_456_000)),
            ..q()
        }),
        vec![0, 1]
    );
    // Filters combine.
    assert_eq!(
        pick(Query {
            ip: net("10.0.0.0/8"),
            port: Some(53),
            ..range(0, 15)
        }),
        vec![1]
    );
}

/// `limit`/`offset` page through the filtered set; `total` counts all of it; sorting works
/// on every whitelisted column type.
pub fn flows_pagination_and_sorting(make: &dyn Fn(&Path) -> Box<dyn Store>) {
    let dir = TempDir::new("contract-pages");
    let store = make(dir.path());
    let flows: Vec<Record> = (0..25)
        .map(|i| {
            Record::Flow(sample_flow(
                i,
                &format!("10.9.0.{}", 100 - i),
                "192.0.2.1",
                if i % 2 == 0 { 80 } else { 443 },
                i * 2,
            ))
        })
        .collect();
    // In several batches, to exercise the writer's coalescing.
    for chunk in flows.chunks(4) {
        assert!(store.submit(chunk.to_vec()));
    }
    store.flush(FLUSH).unwrap();
    assert_eq!(store.stats().records_written, 25);
    assert_eq!(store.stats().batches_written, 7);

    let mut seen = Vec::new();
    for offset in [0, 10, 20] {
        let page = store
            .flows(&Query {
                limit: 10,
                offset,
                sort: Some("first_ts".into()),
                ..q()
            })
            .unwrap();
        assert_eq!(page.total, 25);
        seen.extend(page.rows.into_iter().map(|r| r.first_ts));
    }
    assert_eq!(seen.len(), 25);
    assert!(seen.windows(2).all(|w| w[0] < w[1]));

    let by_bytes = store
        .flows(&Query {
            sort: Some("bytes".into()),
            descending: true,
            port: Some(443),
            limit: 3,
            ..q()
        })
        .unwrap();
    assert_eq!(by_bytes.total, 12);
    let bytes: Vec<u64> = by_bytes
        .rows
        .iter()
        .map(|r| r.bytes_fwd + r.bytes_rev)
        .collect();
    assert_eq!(bytes, vec![6253, 6231, 6209]);

    let by_src = store
        .flows(&Query {
            sort: Some("src_ip".into()),
            limit: 2,
            ..q()
        })
        .unwrap();
    assert_eq!(by_src.rows[0].src_ip, ip("10.9.0.76"));
    assert_eq!(by_src.rows[1].src_ip, ip("10.9.0.77"));

    let beyond = store.flows(&Query { offset: 100, ..q() }).unwrap();
    assert_eq!((beyond.rows.len(), beyond.total), (0, 25));
}

/// SplitMix64 (the shared one), for reproducible random data.
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

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Random filters, sorts and pages over 3,000 random flows give exactly what a brute-force
/// filter and sort in Rust give. The data is skewed (a few busy hosts and ports, many rare
/// ones) so that the backend meets both selective and unselective filters of every kind.
pub fn flows_match_a_brute_force_filter(make: &dyn Fn(&Path) -> Box<dyn Store>) {
    use crate::ip::ip_to_blob;
    let dir = TempDir::new("contract-brute");
    let store = make(dir.path());
    let mut rng = Rng(SplitMix64::new(7));
    let hosts: Vec<String> = (0..40)
        .map(|i| match i % 4 {
            0 | 1 => format!("10.0.{}.{}", i % 3, i),
            2 => format!("192.0.2.{i}"),
            _ => format!("2001:db8:{}::{i}", i % 2),
        })
        .collect();
    let names = [
        None,
        Some("tls"),
        Some("dns"),
        Some("db_backup.internal"),
        Some("%' OR 1=1 --"),
        Some("Example.COM"),
    ];
    let mut flows: Vec<FlowRecord> = Vec::new();
    for i in 0..3000u64 {
        // Skew: host 0 and port 443 are busy.
        let src = if rng.below(3) == 0 {
            &hosts[0]
        } else {
            rng.pick(&hosts)
        };
        let dst = rng.pick(&hosts);
        let port = if rng.below(2) == 0 {
            443
        } else {
            *rng.pick(&[22u16, 53, 80, 3389, 8080, 9999])
        };
        let mut f = sample_flow(i, src, dst, port, 0);
        let first = T0 * 1_000_000_000 + rng.below(3600 * 1_000_000_000);
        f.first_ts = Timestamp(first);
        f.last_ts = Timestamp(first + rng.below(600 * 1_000_000_000));
        f.fwd.bytes = rng.below(100_000);
        flows.push(named(f, *rng.pick(&names), *rng.pick(&names)));
    }
    for chunk in flows.chunks(500) {
        assert!(store.submit(chunk.iter().map(|f| Record::Flow(f.clone())).collect()));
    }
    store.flush(FLUSH).unwrap();

    let nets = [
        "10.0.0.0/8",
        "10.0.1.0/24",
        "10.0.0.0/32",
        "192.0.2.0/25",
        "0.0.0.0/0",
        "::/0",
        "2001:db8::/32",
        "2001:db8:1::/48",
        "2001:db8:1::3",
        "203.0.113.0/24",
    ];
    let sorts = [
        "last_ts", "first_ts", "bytes", "src_port", "src_ip", "duration",
    ];
    let needles = ["tls", "_", "%", "EXAMPLE", "1=1", "backup", "zzz"];
    for round in 0..150 {
        let t = |s: u64| Timestamp(T0 * 1_000_000_000 + s * 1_000_000_000);
        let from = (rng.below(3) == 0).then(|| t(rng.below(4200)));
        let to = (rng.below(3) == 0).then(|| {
            let base = from.map_or(0, |f| f.0 / 1_000_000_000 - T0);
            t(base + rng.below(1200))
        });
        let query = Query {
            from,
            to,
            ip: (rng.below(2) == 0)
                .then(|| parse_ip_filter(nets[rng.below(nets.len() as u64) as usize]).unwrap()),
            port: (rng.below(3) == 0).then(|| *rng.pick(&[443u16, 22, 53, 40_010, 1])),
            proto: (rng.below(6) == 0).then(|| *rng.pick(&[6u8, 17])),
            name: (rng.below(5) == 0).then(|| rng.pick(&needles).to_string()),
            text: (rng.below(8) == 0).then(|| rng.pick(&needles).to_string()),
            sort: Some(rng.pick(&sorts).to_string()),
            descending: rng.below(2) == 0,
            limit: 1 + rng.below(60) as usize,
            offset: rng.below(100) as usize,
            ..q()
        };
        let matches_name = |f: &FlowRecord, needle: &str| {
            let needle = needle.to_ascii_lowercase();
            let row = FlowRow::from_record(f);
            [&row.app, &row.server_name]
                .into_iter()
                .flatten()
                .any(|s| s.to_ascii_lowercase().contains(&needle))
        };
        let mut expected: Vec<(usize, &FlowRecord)> = flows
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                query.from.is_none_or(|from| f.last_ts >= from)
                    && query.to.is_none_or(|to| f.first_ts <= to)
                    && query.ip.is_none_or(|net| {
                        let lo = ip_to_blob(net.network());
                        let hi = ip_to_blob(net.broadcast());
                        [f.src_ip, f.dst_ip].iter().any(|ip| {
                            let b = ip_to_blob(*ip);
                            lo <= b && b <= hi
                        })
                    })
                    && query
                        .port
                        .is_none_or(|p| f.src_port == p || f.dst_port == p)
                    && query.proto.is_none_or(|p| f.ip_proto == p)
                    && query.name.as_deref().is_none_or(|s| matches_name(f, s))
                    && query.text.as_deref().is_none_or(|s| matches_name(f, s))
            })
            .collect();
        let key = |f: &FlowRecord| -> (u64, [u8; 16]) {
            match query.sort.as_deref().unwrap() {
                "last_ts" => (f.last_ts.0, [0; 16]),
                "first_ts" => (f.first_ts.0, [0; 16]),
                "bytes" => (f.fwd.bytes + f.rev.bytes, [0; 16]),
                "src_port" => (u64::from(f.src_port), [0; 16]),
                "src_ip" => (0, ip_to_blob(f.src_ip)),
                _ => (f.last_ts.0 - f.first_ts.0, [0; 16]),
            }
        };
        expected.sort_by(|a, b| {
            let o = key(a.1).cmp(&key(b.1)).then(a.0.cmp(&b.0));
            if query.descending { o.reverse() } else { o }
        });
        let want: Vec<FlowRow> = expected
            .iter()
            .skip(query.offset)
            .take(query.limit)
            .map(|(_, f)| FlowRow::from_record(f))
            .collect();
        let got = store.flows(&query).unwrap();
        assert_eq!(
            got.total as usize,
            expected.len(),
            "round {round}: total of {query:?}"
        );
        assert_eq!(got.rows, want, "round {round}: rows of {query:?}");
    }
}
