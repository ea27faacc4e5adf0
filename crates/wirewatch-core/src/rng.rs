//! The one seeded pseudo-random generator of Wirewatch: SplitMix64 (Steele, Lea and Flood,
//! "Fast splittable pseudorandom number generators", OOPSLA 2014).
//!
//! Machine learning draws its sub-samples, split points and train/test splits from it, and the
//! traffic generator seeds its own streams with it. Written out here rather than taken from a
//! crate so that a seed gives the same model, split and capture forever, whatever version of a
//! dependency the lock file holds and on every platform: no method may ever change what it
//! returns for a seed (the reference-value tests below pin them). 64 bits of state, full period
//! 2^64, passes BigCrush. Not for cryptography.

/// Golden-ratio increment of SplitMix64 (2^64 / φ, odd).
const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;
/// 2^-53: turns the top 53 bits of a draw into a float in [0, 1).
const F64_UNIT: f64 = 1.0 / (1u64 << 53) as f64;

/// A SplitMix64 generator: its whole output is determined by the seed.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator seeded with `seed` (any value, zero included).
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A float uniform in [0, 1): the top 53 bits of a draw times 2^-53.
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * F64_UNIT
    }

    /// An integer uniform in `0..n` (0 when `n` is 0), by Lemire's multiply-shift: the high
    /// 64 bits of draw × `n`. The bias is below n / 2^64, nothing for the sizes used here.
    #[inline]
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Fisher–Yates shuffle: from the last position down, each swaps with one drawn by
    /// [`below`](Self::below) among itself and those before it.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_sequence() {
        // First outputs for seed 1234567 from the reference C implementation.
        let mut r = SplitMix64::new(1_234_567);
        let want = [
            6_457_827_717_110_365_317u64,
            3_203_168_211_198_807_973,
            9_817_491_932_198_370_423,
            4_593_380_528_125_082_431,
            16_408_922_859_458_223_821,
        ];
        for w in want {
            assert_eq!(r.next_u64(), w);
        }
        // Reference values of SplitMix64 seeded with 0.
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn floats_bounded_integers_and_shuffles_are_pinned() {
        // What the three former copies of this generator (anomaly detection, flow
        // classification, traffic synthesis) returned for these seeds.
        let mut r = SplitMix64::new(42);
        let floats: Vec<u64> = (0..4).map(|_| r.next_f64().to_bits()).collect();
        assert_eq!(
            floats,
            [
                4_604_854_642_168_692_077,
                4_594_929_399_376_720_760,
                4_598_690_451_703_514_086,
                4_599_872_008_648_626_872
            ]
        );
        let ints: Vec<usize> = (0..6).map(|_| r.below(1000)).collect();
        assert_eq!(ints, [38, 868, 218, 800, 339, 618]);
        let mut v: Vec<u32> = (0..10).collect();
        SplitMix64::new(7).shuffle(&mut v);
        assert_eq!(v, [9, 5, 8, 6, 1, 2, 4, 7, 0, 3]);
    }

    #[test]
    fn ranges_hold() {
        let mut r = SplitMix64::new(0);
        let mut hits = [0u32; 7];
        for _ in 0..70_000 {
            let f = r.next_f64();
            assert!((0.0..1.0).contains(&f));
            let i = r.below(7);
            hits[i] += 1;
        }
        assert_eq!(r.below(0), 0);
        for h in hits {
            assert!((9_000..11_000).contains(&h), "{hits:?}");
        }
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut v: Vec<usize> = (0..100).collect();
        SplitMix64::new(7).shuffle(&mut v);
        let mut sorted = v.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_ne!(v, sorted);
        let mut empty: [u8; 0] = [];
        SplitMix64::new(7).shuffle(&mut empty);
    }
}
