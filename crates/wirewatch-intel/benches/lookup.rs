//! Blocklist look-up speed: a 100,000-entry set (a mix of /32, /24 and /16 IPv4 networks and
//! some IPv6 ones), looked up with random addresses (mostly misses, as on a real network)
//! and with addresses inside the entries (all hits, building the `Match`).
//!
//! Run: `cargo bench -p wirewatch-intel --bench lookup`; criterion reports lookups/s as
//! elements per second.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ipnet::IpNet;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use wirewatch_intel::blocklist::{Entry, PrefixSetBuilder};

/// Entries in the benchmark set.
const ENTRIES: usize = 100_000;
/// Look-ups per measured iteration.
const LOOKUPS: usize = 100_000;

/// xorshift64*: deterministic, dependency-free pseudo-random numbers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn entries(rng: &mut Rng) -> Vec<Entry> {
    (0..ENTRIES)
        .map(|i| {
            let r = rng.next();
            let v4 = Ipv4Addr::from(r as u32);
            let net = match r >> 32 & 0x3f {
                0..=37 => IpNet::new(IpAddr::V4(v4), 32),
                38..=56 => IpNet::new(IpAddr::V4(v4), 24),
                57..=59 => IpNet::new(IpAddr::V4(v4), 16),
                60 | 61 => {
                    let v6 = Ipv6Addr::from(0x2000u128 << 112 | u128::from(rng.next()) << 64);
                    IpNet::new(IpAddr::V6(v6), 48)
                }
                _ => {
                    let v6 = Ipv6Addr::from(
                        0x2000u128 << 112 | u128::from(rng.next()) << 64 | u128::from(r),
                    );
                    IpNet::new(IpAddr::V6(v6), 128)
                }
            }
            .unwrap()
            .trunc();
            Entry {
                net,
                reference: (i % 10 == 0).then(|| format!("SBL{i}")),
                line: i + 1,
            }
        })
        .collect()
}

fn lookup(c: &mut Criterion) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let list = entries(&mut rng);
    let mut b = PrefixSetBuilder::new();
    b.add_list("bench", &list);
    let set = b.build();

    let random: Vec<IpAddr> = (0..LOOKUPS)
        .map(|i| {
            let r = rng.next();
            if i % 20 == 0 {
                IpAddr::V6(Ipv6Addr::from(
                    0x2000u128 << 112 | u128::from(r) << 64 | u128::from(rng.next()),
                ))
            } else {
                IpAddr::V4(Ipv4Addr::from(r as u32))
            }
        })
        .collect();
    let hits: Vec<IpAddr> = (0..LOOKUPS)
        .map(|_| list[(rng.next() as usize) % list.len()].net.network())
        .filter(|ip| set.contains(*ip))
        .collect();
    let random_hits = random.iter().filter(|ip| set.contains(**ip)).count();
    eprintln!(
        "set: {} entries, {} ranges; random addresses matching: {random_hits} of {LOOKUPS}",
        set.len(),
        set.ranges()
    );

    let mut g = c.benchmark_group("blocklist_lookup");
    g.throughput(Throughput::Elements(random.len() as u64));
    g.bench_function("random_addresses_100k_entries", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for ip in &random {
                n += usize::from(set.lookup(black_box(*ip)).is_some());
            }
            n
        })
    });
    g.throughput(Throughput::Elements(hits.len() as u64));
    g.bench_function("listed_addresses_100k_entries", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for ip in &hits {
                n += set
                    .lookup(black_box(*ip))
                    .map_or(0, |m| m.net.prefix_len() as usize);
            }
            n
        })
    });
    g.throughput(Throughput::Elements(random.len() as u64));
    g.bench_function("contains_random_100k_entries", |b| {
        b.iter(|| {
            random
                .iter()
                .filter(|ip| set.contains(black_box(**ip)))
                .count()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("blocklist_build");
    g.sample_size(10);
    g.throughput(Throughput::Elements(ENTRIES as u64));
    g.bench_function("build_100k_entries", |b| {
        b.iter(|| {
            let mut b = PrefixSetBuilder::new();
            b.add_list("bench", &list);
            b.build().ranges()
        })
    });
    g.finish();
}

criterion_group!(benches, lookup);
criterion_main!(benches);
