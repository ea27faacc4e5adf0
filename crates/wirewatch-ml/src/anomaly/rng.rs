//! The seeded pseudo-random numbers of training: SplitMix64 (Steele, Lea and Flood, "Fast
//! splittable pseudorandom number generators", OOPSLA 2014).
//!
//! Written out here rather than taken from a crate so that a seed gives the same model forever,
//! whatever version of a dependency the lock file holds. 64 bits of state, full period 2^64,
//! passes BigCrush: ample for drawing sub-samples and split points. Not for cryptography.

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

    /// A float uniform in [0, 1).
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * F64_UNIT
    }

    /// An integer uniform in `0..n` (0 when `n` is 0), by Lemire's multiply-shift: the bias is
    /// below n / 2^64, nothing for the sizes used here.
    #[inline]
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
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
}
