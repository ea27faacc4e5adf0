//! Small bounded summaries the detectors keep per destination or per source: a distinct-address
//! counter that is exact for a few addresses and a HyperLogLog beyond, and a space-saving top-k.
//!
//! Both have a fixed size whatever the traffic: a spoofed flood from a million sources costs one
//! 256-byte sketch per destination, not a million entries.

use foldhash::fast::FixedState;
use std::collections::HashMap;
use std::net::IpAddr;

/// The hasher of every detector map: fast, seeded, no per-map randomness (runs are
/// reproducible).
pub(crate) type Map<K, V> = HashMap<K, V, FixedState>;

/// An empty [`Map`].
pub(crate) fn new_map<K, V>() -> Map<K, V> {
    HashMap::with_hasher(FixedState::with_seed(0x77_6972_6577))
}

/// Addresses counted exactly (and kept as a sample) before the sketch takes over.
pub(crate) const EXACT_SOURCES: usize = 8;
/// HyperLogLog registers: 256 bytes, about 6.5 % standard error — enough to tell 40 sources
/// from 4,000.
type Hll = wirewatch_metrics::HyperLogLog<256>;

/// Distinct addresses: exact (and kept as a sample) up to [`EXACT_SOURCES`], then estimated.
#[derive(Debug, Clone)]
pub(crate) struct SourceCounter {
    sample: [IpAddr; EXACT_SOURCES],
    len: u8,
    sketch: Option<Box<Hll>>,
}

impl SourceCounter {
    /// A counter that has seen `first`.
    pub(crate) fn new(first: IpAddr) -> Self {
        SourceCounter {
            sample: [first; EXACT_SOURCES],
            len: 1,
            sketch: None,
        }
    }

    /// Counts `ip`.
    #[inline]
    pub(crate) fn insert(&mut self, ip: IpAddr) {
        if let Some(s) = &mut self.sketch {
            s.insert(&ip);
            return;
        }
        let len = usize::from(self.len);
        if self.sample[..len].contains(&ip) {
            return;
        }
        if len < EXACT_SOURCES {
            self.sample[len] = ip;
            self.len += 1;
            return;
        }
        let mut s = Box::new(Hll::new());
        for a in &self.sample {
            s.insert(a);
        }
        s.insert(&ip);
        self.sketch = Some(s);
    }

    /// Distinct addresses seen (exact up to [`EXACT_SOURCES`], then an estimate of at least
    /// [`EXACT_SOURCES`] + 1).
    pub(crate) fn estimate(&self) -> u64 {
        match &self.sketch {
            Some(s) => s.estimate().max(EXACT_SOURCES as u64 + 1),
            None => u64::from(self.len),
        }
    }

    /// Whether the count is an estimate.
    pub(crate) fn is_estimate(&self) -> bool {
        self.sketch.is_some()
    }

    /// The first distinct addresses seen.
    #[cfg(test)]
    pub(crate) fn sample(&self) -> &[IpAddr] {
        &self.sample[..usize::from(self.len)]
    }
}

/// The `N` heaviest keys by weight (space-saving: a newcomer takes the lightest slot, and
/// that slot's weight is remembered as the newcomer's possible overcount, so every reported
/// weight is a guaranteed lower bound).
#[derive(Debug, Clone)]
pub(crate) struct TopK<K: Copy + Eq, const N: usize> {
    /// (key, weight counted, of which possibly not the key's).
    slots: [(K, u64, u64); N],
    len: usize,
}

impl<K: Copy + Eq, const N: usize> TopK<K, N> {
    /// An empty summary (`fill` only initialises unused slots).
    pub(crate) fn new(fill: K) -> Self {
        TopK {
            slots: [(fill, 0, 0); N],
            len: 0,
        }
    }

    /// Adds `weight` to `key`.
    #[inline]
    pub(crate) fn add(&mut self, key: K, weight: u64) {
        let used = &mut self.slots[..self.len];
        if let Some(slot) = used.iter_mut().find(|(k, _, _)| *k == key) {
            slot.1 += weight;
            return;
        }
        if self.len < N {
            self.slots[self.len] = (key, weight, 0);
            self.len += 1;
            return;
        }
        if let Some(min) = self.slots.iter_mut().min_by_key(|(_, c, _)| *c) {
            *min = (key, min.1 + weight, min.1);
        }
    }

    /// Keys with their guaranteed weight (a lower bound), heaviest first; keys whose weight
    /// may be entirely someone else's are left out.
    pub(crate) fn top(&self) -> Vec<(K, u64)> {
        let mut v: Vec<(K, u64)> = self.slots[..self.len]
            .iter()
            .map(|(k, c, e)| (*k, c - e))
            .filter(|(_, c)| *c > 0)
            .collect();
        v.sort_by_key(|e| std::cmp::Reverse(e.1));
        v
    }

    /// The heaviest key and its guaranteed weight.
    pub(crate) fn first(&self) -> Option<(K, u64)> {
        self.top().first().copied()
    }
}

/// Share of a target's packets (or bytes) a source must carry to be named in an alert: a host
/// that sent one ping or one connection while someone else flooded took no part in the flood.
pub(crate) const NAMED_SOURCE_SHARE: f64 = 0.05;

/// The heavy hitters of `top` (from [`TopK::top`]) carrying at least
/// [`NAMED_SOURCE_SHARE`] of `total`: the only sources an alert names. A spoofed flood from
/// thousands of addresses has none (the count says how many there were).
pub(crate) fn named_sources(top: &[(IpAddr, u64)], total: u64) -> Vec<IpAddr> {
    top.iter()
        .filter(|(_, n)| *n as f64 >= NAMED_SOURCE_SHARE * total.max(1) as f64)
        .map(|(ip, _)| *ip)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(n))
    }

    #[test]
    fn source_counter_is_exact_then_close() {
        let mut c = SourceCounter::new(ip(1));
        for n in 1..=8 {
            c.insert(ip(n));
            c.insert(ip(n));
        }
        assert_eq!(c.estimate(), 8);
        assert!(!c.is_estimate());
        assert_eq!(c.sample().len(), 8);
        for n in 0..4000u32 {
            c.insert(ip(0x6440_0000 + n * 7));
        }
        let e = c.estimate() as f64;
        assert!(c.is_estimate());
        assert!((e - 4008.0).abs() < 0.2 * 4008.0, "{e}");
        // A second pass over the same addresses changes nothing.
        for n in 0..4000u32 {
            c.insert(ip(0x6440_0000 + n * 7));
        }
        assert!((c.estimate() as f64 - e).abs() < 1.0);
    }

    #[test]
    fn small_hll_counts_are_right() {
        let mut c = SourceCounter::new(ip(0));
        for n in 0..20 {
            c.insert(ip(n));
        }
        let e = c.estimate();
        assert!((18..=22).contains(&e), "{e}");
    }

    #[test]
    fn top_k_keeps_heavy_hitters() {
        let mut t: TopK<u16, 4> = TopK::new(0);
        for i in 0..1000u16 {
            t.add(80, 10);
            t.add(1000 + i, 1);
        }
        assert_eq!(t.first().map(|(k, _)| k), Some(80));
        assert_eq!(t.top()[0], (80, 10_000));
        // The churning keys are reported with what is guaranteed: their own last packet.
        assert!(t.top()[1..].iter().all(|(_, c)| *c == 1));
        let mut u: TopK<u16, 4> = TopK::new(0);
        for p in [1, 2, 3, 1] {
            u.add(p, 1);
        }
        assert_eq!(u.top(), vec![(1, 2), (2, 1), (3, 1)]);
    }
}
