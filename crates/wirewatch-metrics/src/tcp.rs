//! TCP health of an interval: retransmissions, out-of-order segments and the percentiles of
//! the handshake round-trip times measured in it, in bounded memory.

use wirewatch_flow::TcpSegment;
use wirewatch_flow::tcp_health::marks;

/// Handshake RTTs kept exactly per interval; beyond, the percentiles come from the histogram.
pub const EXACT_RTTS: usize = 1024;
/// Sub-buckets per power of two in the histogram (relative error at most 1/32 at a bucket's
/// middle).
const SUB_BUCKETS: usize = 16;
const SUB_BITS: u32 = 4;
const BUCKETS: usize = 64 * SUB_BUCKETS;

/// Percentiles of nanosecond samples: exact for the first [`EXACT_RTTS`] samples, then from a
/// log-linear histogram (16 buckets per power of two). Fixed size: 8 KiB of samples and 4 KiB
/// of counters, allocated once.
#[derive(Debug, Clone)]
pub struct Percentiles {
    exact: Vec<u64>,
    histogram: Box<[u32; BUCKETS]>,
    count: u64,
}

impl Default for Percentiles {
    fn default() -> Self {
        Percentiles::new()
    }
}

/// The histogram bucket of `ns`.
fn bucket(ns: u64) -> usize {
    let v = ns.max(1);
    let exp = 63 - v.leading_zeros();
    let sub = if exp >= SUB_BITS {
        (v >> (exp - SUB_BITS)) as usize & (SUB_BUCKETS - 1)
    } else {
        (v << (SUB_BITS - exp)) as usize & (SUB_BUCKETS - 1)
    };
    exp as usize * SUB_BUCKETS + sub
}

/// The middle of bucket `i` (its value range's midpoint, rounded down).
fn bucket_value(i: usize) -> u64 {
    let exp = (i / SUB_BUCKETS) as u32;
    let sub = (i % SUB_BUCKETS) as u64;
    let mantissa = (SUB_BUCKETS as u64 + sub) * 2 + 1; // in halves of a step
    if exp > SUB_BITS {
        mantissa.saturating_mul(1 << (exp - SUB_BITS - 1))
    } else {
        // Small values: the bucket holds one integer at most.
        (mantissa >> (SUB_BITS + 1 - exp)).max(1)
    }
}

impl Percentiles {
    /// An empty set of samples.
    pub fn new() -> Self {
        Percentiles {
            exact: Vec::with_capacity(EXACT_RTTS),
            histogram: Box::new([0; BUCKETS]),
            count: 0,
        }
    }

    /// Adds one sample.
    pub fn add(&mut self, ns: u64) {
        if self.exact.len() < EXACT_RTTS {
            self.exact.push(ns);
        }
        if let Some(c) = self.histogram.get_mut(bucket(ns)) {
            *c = c.saturating_add(1);
        }
        self.count += 1;
    }

    /// Samples added.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The `q`-quantile (0 < q ≤ 1, nearest rank) in nanoseconds, `None` without samples:
    /// exact while at most [`EXACT_RTTS`] samples were added, else the middle of the
    /// histogram bucket that holds it.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        if self.count <= EXACT_RTTS as u64 {
            let mut sorted = self.exact.clone();
            sorted.sort_unstable();
            return sorted.get(rank as usize - 1).copied();
        }
        let mut seen = 0u64;
        for (i, &c) in self.histogram.iter().enumerate() {
            seen += u64::from(c);
            if seen >= rank {
                return Some(bucket_value(i));
            }
        }
        None
    }

    /// Forgets every sample (the memory stays).
    pub fn clear(&mut self) {
        self.exact.clear();
        self.histogram.fill(0);
        self.count = 0;
    }
}

/// TCP health counters of the open interval.
#[derive(Debug, Clone, Default)]
pub struct TcpIntervalHealth {
    /// Retransmitted segments (every kind).
    pub retransmissions: u64,
    /// Out-of-order segments.
    pub out_of_order: u64,
    /// Handshake RTTs measured in the interval.
    pub handshake_rtts: Percentiles,
}

impl TcpIntervalHealth {
    /// Counts what the TCP analysis said about one segment.
    #[inline]
    pub fn record(&mut self, s: &TcpSegment) {
        if s.marks != 0 {
            self.retransmissions += u64::from(s.marks & marks::RETRANSMISSION != 0);
            self.out_of_order += u64::from(s.marks & marks::OUT_OF_ORDER != 0);
        }
        if let Some(rtt) = s.handshake_rtt_ns {
            self.handshake_rtts.add(rtt);
        }
    }

    /// Starts the next interval.
    pub fn clear(&mut self) {
        self.retransmissions = 0;
        self.out_of_order = 0;
        if self.handshake_rtts.count() > 0 {
            self.handshake_rtts.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_samples_give_exact_percentiles() {
        let mut p = Percentiles::new();
        assert_eq!(p.quantile(0.5), None);
        for ms in [5u64, 1, 4, 2, 3] {
            p.add(ms * 1_000_000);
        }
        assert_eq!(p.quantile(0.5), Some(3_000_000));
        assert_eq!(p.quantile(0.95), Some(5_000_000));
        p.clear();
        assert_eq!(p.count(), 0);
        assert_eq!(p.quantile(0.5), None);
    }

    #[test]
    fn many_samples_stay_within_the_histogram_error() {
        let mut p = Percentiles::new();
        // 1..=10_000 µs: p50 = 5,000 µs, p95 = 9,500 µs.
        for us in 1..=10_000u64 {
            p.add(us * 1000);
        }
        let p50 = p.quantile(0.5).unwrap() as f64;
        let p95 = p.quantile(0.95).unwrap() as f64;
        assert!((p50 / 5e6 - 1.0).abs() < 0.04, "{p50}");
        assert!((p95 / 9.5e6 - 1.0).abs() < 0.04, "{p95}");
        assert_eq!(p.exact.capacity(), EXACT_RTTS);
    }

    #[test]
    fn buckets_cover_every_value_in_order() {
        let mut last = 0;
        for v in [0u64, 1, 2, 3, 15, 16, 17, 31, 1000, 1 << 40, u64::MAX] {
            let b = bucket(v);
            assert!(b < BUCKETS && b >= last, "{v}");
            last = b;
        }
        for v in [1u64, 7, 100, 12_345, 1 << 33, 987_654_321_000] {
            let mid = bucket_value(bucket(v)) as f64;
            assert!((mid / v as f64 - 1.0).abs() <= 1.0 / 16.0, "{v} {mid}");
        }
    }
}
