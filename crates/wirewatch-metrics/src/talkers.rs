//! Bounded per-address counters: exact while small, a heavy-hitter sketch beyond a cap.
//!
//! Below `cap` addresses every count and the distinct count are exact. When a new address
//! arrives at a full table, the lower half of the entries (by packets) is dropped in one pass
//! — a batched form of the Misra–Gries / Space-Saving summaries: heavy hitters survive, each
//! count is low by at most the largest count dropped (`max_dropped`), and the cost stays O(1)
//! amortised per packet. From that moment a HyperLogLog sketch takes over the distinct count.
//!
//! The table also knows the Shannon entropy of its packet distribution over addresses
//! ([`TalkerTable::entropy_bits`]): exact while the table is, an estimate once it has dropped
//! entries.

use foldhash::fast::FixedState;
use std::collections::HashMap;
use std::net::IpAddr;
use wirewatch_core::Talker;

/// The distinct-count sketch beyond the cap: 4,096 registers, about 1.6 % standard error.
type HyperLogLog = crate::hll::HyperLogLog<4096>;

/// Packet and byte counts per address, bounded to `cap` entries.
#[derive(Debug, Clone)]
pub struct TalkerTable {
    map: HashMap<IpAddr, (u64, u64), FixedState>,
    cap: usize,
    sketch: Option<Box<HyperLogLog>>,
    max_dropped: u64,
    dropped_entries: u64,
    /// Every packet added, the dropped entries' included (for the entropy estimate).
    total_packets: u64,
}

impl TalkerTable {
    /// An empty table holding at most `cap` addresses exactly (a cap below 2 is raised to 2).
    pub fn new(cap: usize) -> Self {
        TalkerTable {
            map: HashMap::with_hasher(FixedState::default()),
            cap: cap.max(2),
            sketch: None,
            max_dropped: 0,
            dropped_entries: 0,
            total_packets: 0,
        }
    }

    /// Adds one packet of `bytes` to `ip`.
    #[inline]
    pub fn add(&mut self, ip: IpAddr, bytes: u64) {
        self.add_counts(ip, 1, bytes);
    }

    /// Adds `packets` and `bytes` to `ip`.
    #[inline]
    pub fn add_counts(&mut self, ip: IpAddr, packets: u64, bytes: u64) {
        self.total_packets += packets;
        self.insert_counts(ip, packets, bytes);
    }

    /// Adds counts to `ip`'s entry (making room when full) without touching the packet total.
    #[inline]
    fn insert_counts(&mut self, ip: IpAddr, packets: u64, bytes: u64) {
        if let Some(e) = self.map.get_mut(&ip) {
            e.0 += packets;
            e.1 += bytes;
        } else {
            if self.map.len() >= self.cap {
                self.shrink();
            }
            self.map.insert(ip, (packets, bytes));
        }
        if let Some(s) = &mut self.sketch {
            s.insert(&ip);
        }
    }

    /// Adds every count of `other` (e.g. a closed interval's) to this table. Distinct counts
    /// stay exact while both tables are exact and this one is under its cap.
    pub fn merge(&mut self, other: &TalkerTable) {
        for (ip, (packets, bytes)) in &other.map {
            self.insert_counts(*ip, *packets, *bytes);
        }
        // The other table's total includes what it dropped.
        self.total_packets += other.total_packets;
        if let Some(theirs) = &other.sketch {
            let mine = self.sketch.get_or_insert_with(|| {
                let mut s = Box::new(HyperLogLog::new());
                for ip in self.map.keys() {
                    s.insert(ip);
                }
                s
            });
            mine.union(theirs);
        }
        self.max_dropped = self.max_dropped.max(other.max_dropped);
        self.dropped_entries += other.dropped_entries;
    }

    /// Number of distinct addresses: exact until the cap was first reached, then estimated.
    pub fn distinct(&self) -> u64 {
        match &self.sketch {
            Some(s) => s.estimate().max(self.map.len() as u64),
            None => self.map.len() as u64,
        }
    }

    /// Packets added in all, including those of entries dropped to stay within the cap.
    pub fn total_packets(&self) -> u64 {
        self.total_packets
    }

    /// Shannon entropy, in bits, of the packet distribution over addresses:
    /// `H = -Σ p·log2 p` with `p` an address's share of the packets. 0 for one address (or
    /// none), `log2 n` for `n` addresses sending alike.
    ///
    /// Exact while the table is exact. Once entries were dropped ([`Self::is_approximate`]) it
    /// is computed from what the table holds (the heavy hitters, exact shares of the total)
    /// plus the packets it no longer holds spread evenly over the addresses it no longer holds
    /// (the distinct estimate minus the entries kept): an estimate, close for the usual cases —
    /// a few heavy talkers over a long flat tail, e.g. a spoofed flood. O(entries) per call.
    pub fn entropy_bits(&self) -> f64 {
        let total = self.total_packets as f64;
        if self.total_packets == 0 {
            return 0.0;
        }
        let mut held = 0u64;
        let mut sum = 0.0;
        for (packets, _) in self.map.values() {
            if *packets > 0 {
                let p = *packets as f64 / total;
                sum -= p * p.log2();
                held += *packets;
            }
        }
        let rest = self.total_packets.saturating_sub(held);
        if rest > 0 {
            // Spread evenly over the unseen addresses: each has p = rest / (unseen · total).
            let unseen = self.distinct().saturating_sub(self.map.len() as u64).max(1) as f64;
            let r = rest as f64 / total;
            sum += r * (unseen / r).log2();
        }
        sum.max(0.0)
    }

    /// Whether counts are estimates (the cap was reached).
    pub fn is_approximate(&self) -> bool {
        self.sketch.is_some()
    }

    /// Entries dropped to stay within the cap.
    pub fn dropped_entries(&self) -> u64 {
        self.dropped_entries
    }

    /// The `n` addresses with the most bytes (ties broken by packets, then address).
    pub fn top_by_bytes(&self, n: usize) -> Vec<Talker> {
        self.top(n, |t| (t.bytes, t.packets))
    }

    /// The `n` addresses with the most packets (ties broken by bytes, then address).
    pub fn top_by_packets(&self, n: usize) -> Vec<Talker> {
        self.top(n, |t| (t.packets, t.bytes))
    }

    /// Empties the table, keeping its allocation.
    pub fn clear(&mut self) {
        self.map.clear();
        self.sketch = None;
        self.max_dropped = 0;
        self.dropped_entries = 0;
        self.total_packets = 0;
    }

    /// The `n` best by `rank`, best first: one pass with a heap of `n` entries, so a table
    /// of a million addresses costs no copy of itself (the dashboard asks every snapshot).
    fn top(&self, n: usize, rank: impl Fn(&Talker) -> (u64, u64)) -> Vec<Talker> {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        if n == 0 {
            return Vec::new();
        }
        // Ordered so that the heap's greatest is the worst kept: lowest rank, then the
        // highest address (ties go to the lower address).
        let key = |t: &Talker| (Reverse(rank(t)), t.ip);
        type Key = (Reverse<(u64, u64)>, std::net::IpAddr);
        let mut heap: BinaryHeap<(Key, u64, u64)> = BinaryHeap::with_capacity(n + 1);
        for (ip, (packets, bytes)) in &self.map {
            let t = Talker {
                ip: *ip,
                packets: *packets,
                bytes: *bytes,
            };
            let k = key(&t);
            if heap.len() < n {
                heap.push((k, t.packets, t.bytes));
            } else if heap.peek().is_some_and(|(worst, _, _)| k < *worst) {
                heap.pop();
                heap.push((k, t.packets, t.bytes));
            }
        }
        // A new vector of the right size (collecting would keep the heap's spare capacity in
        // every interval record).
        let mut all = Vec::with_capacity(heap.len());
        all.extend(
            heap.into_iter()
                .map(|((_, ip), packets, bytes)| Talker { ip, packets, bytes }),
        );
        all.sort_unstable_by_key(key);
        all
    }

    /// Drops the lower half of the entries by packets.
    fn shrink(&mut self) {
        if self.sketch.is_none() {
            let mut s = Box::new(HyperLogLog::new());
            for ip in self.map.keys() {
                s.insert(ip);
            }
            self.sketch = Some(s);
        }
        let mut counts: Vec<u64> = self.map.values().map(|v| v.0).collect();
        let mid = counts.len() / 2;
        let (_, median, _) = counts.select_nth_unstable(mid);
        let median = *median;
        let before = self.map.len();
        let mut max_dropped = self.max_dropped;
        self.map.retain(|_, v| {
            let keep = v.0 > median;
            if !keep {
                max_dropped = max_dropped.max(v.0);
            }
            keep
        });
        // All counts equal (e.g. a flood of one packet per source): drop entries arbitrarily.
        if self.map.len() >= self.cap {
            let excess = self.map.len() - self.cap / 2;
            let victims: Vec<IpAddr> = self.map.keys().take(excess).copied().collect();
            for ip in victims {
                if let Some(v) = self.map.remove(&ip) {
                    max_dropped = max_dropped.max(v.0);
                }
            }
        }
        self.max_dropped = max_dropped;
        self.dropped_entries += (before - self.map.len()) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn v4(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(n))
    }

    #[test]
    fn exact_while_small() {
        let mut t = TalkerTable::new(100);
        for i in 0..50u32 {
            for _ in 0..=i {
                t.add(v4(i), 10);
            }
        }
        assert_eq!(t.distinct(), 50);
        assert!(!t.is_approximate());
        let top = t.top_by_packets(3);
        assert_eq!(
            top.iter().map(|x| x.packets).collect::<Vec<_>>(),
            [50, 49, 48]
        );
        assert_eq!(top[0].ip, v4(49));
        assert_eq!(top[0].bytes, 500);
        assert_eq!(t.top_by_bytes(100).len(), 50);
    }

    #[test]
    fn the_top_equals_a_full_sort_ties_going_to_the_lower_address() {
        let mut t = TalkerTable::new(10_000);
        // Many ties: packets and bytes take few distinct values.
        for i in 0..2_000u32 {
            let ip = v4(i.wrapping_mul(2_654_435_761));
            t.add_counts(ip, u64::from(i % 7), u64::from(i % 5) * 100);
        }
        let mut all: Vec<Talker> = t
            .map
            .iter()
            .map(|(ip, (packets, bytes))| Talker {
                ip: *ip,
                packets: *packets,
                bytes: *bytes,
            })
            .collect();
        all.sort_by(|a, b| {
            (b.bytes, b.packets)
                .cmp(&(a.bytes, a.packets))
                .then(a.ip.cmp(&b.ip))
        });
        for n in [0, 1, 10, 1_999, 2_000, 5_000] {
            assert_eq!(
                t.top_by_bytes(n),
                all[..n.min(all.len())].to_vec(),
                "n = {n}"
            );
        }
    }

    #[test]
    fn heavy_hitters_survive_a_flood_of_one_packet_sources() {
        let mut t = TalkerTable::new(1000);
        for round in 0..200_000u32 {
            t.add(v4(round + 1_000_000), 60);
            if round % 10 == 0 {
                t.add(v4(7), 1500);
            }
        }
        assert!(t.is_approximate());
        assert!(t.map.len() <= 1000);
        let top = t.top_by_bytes(1);
        assert_eq!(top[0].ip, v4(7));
        assert_eq!(top[0].packets, 20_000);
        let d = t.distinct() as f64;
        assert!((d - 200_001.0).abs() / 200_001.0 < 0.05, "estimate {d}");
        assert!(t.dropped_entries() > 0);
    }

    #[test]
    fn merging_is_exact_while_small_and_unions_sketches() {
        let mut run = TalkerTable::new(1000);
        let mut a = TalkerTable::new(100);
        let mut b = TalkerTable::new(100);
        for i in 0..50 {
            a.add(v4(i), 10);
            b.add(v4(i + 25), 20);
        }
        run.merge(&a);
        run.merge(&b);
        assert_eq!(run.distinct(), 75);
        assert!(!run.is_approximate());
        let top = run.top_by_bytes(1)[0];
        assert_eq!((top.packets, top.bytes), (2, 30));
        // An interval that overflowed makes the run approximate, with a sane estimate.
        let mut big = TalkerTable::new(100);
        for i in 0..10_000 {
            big.add(v4(i + 1_000_000), 1);
        }
        run.merge(&big);
        assert!(run.is_approximate());
        let d = run.distinct() as f64;
        assert!((d - 10_075.0).abs() / 10_075.0 < 0.05, "estimate {d}");
    }

    #[test]
    fn entropy_is_exact_while_small() {
        let mut t = TalkerTable::new(100);
        assert_eq!(t.entropy_bits(), 0.0);
        t.add(v4(1), 10);
        t.add(v4(1), 10);
        assert_eq!(t.entropy_bits(), 0.0, "one address: no uncertainty");
        t.add(v4(2), 10);
        t.add(v4(2), 10);
        assert!(
            (t.entropy_bits() - 1.0).abs() < 1e-12,
            "two equal talkers: 1 bit"
        );
        for i in 3..=4 {
            t.add_counts(v4(i), 2, 20);
        }
        assert!(
            (t.entropy_bits() - 2.0).abs() < 1e-12,
            "four equal talkers: 2 bits"
        );
        // 1/2, 1/4, 1/4 -> 1.5 bits.
        let mut u = TalkerTable::new(100);
        u.add_counts(v4(1), 2, 0);
        u.add_counts(v4(2), 1, 0);
        u.add_counts(v4(3), 1, 0);
        assert!((u.entropy_bits() - 1.5).abs() < 1e-12);
        assert_eq!(u.total_packets(), 4);
    }

    #[test]
    fn entropy_estimate_survives_the_cap() {
        // 100,000 one-packet spoofed sources plus one source with half of all packets:
        // H = 0.5·1 + 0.5·log2(2·100,000) ≈ 9.30 bits.
        let mut t = TalkerTable::new(1000);
        for i in 0..100_000u32 {
            t.add(v4(i + 1_000_000), 60);
            t.add(v4(7), 60);
        }
        assert!(t.is_approximate());
        let want = 0.5 + 0.5 * (200_000f64).log2();
        let got = t.entropy_bits();
        assert!((got - want).abs() < 0.1, "{got} vs {want}");
        // Merging keeps the dropped packets in the total.
        let mut run = TalkerTable::new(1 << 20);
        run.merge(&t);
        assert_eq!(run.total_packets(), 200_000);
        assert!((run.entropy_bits() - want).abs() < 0.1);
    }

    #[test]
    fn clear_resets_everything() {
        let mut t = TalkerTable::new(2);
        for i in 0..10 {
            t.add(v4(i), 1);
        }
        t.clear();
        assert_eq!(t.distinct(), 0);
        assert_eq!((t.total_packets(), t.entropy_bits()), (0, 0.0));
        assert!(!t.is_approximate());
    }
}
