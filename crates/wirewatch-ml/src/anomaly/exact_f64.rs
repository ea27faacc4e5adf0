//! Serde helpers that write an `f64` as its shortest round-trip decimal string, so that it
//! reads back bit for bit.
//!
//! `serde_json` (without its `float_roundtrip` feature, which this workspace does not enable)
//! may read a 17-digit number back one unit in the last place off; a reloaded model must give
//! the same scores and explanations as the one saved. Rust's `Display` for `f64` prints the
//! shortest string that parses back to the same value and `str::parse` rounds correctly.
//! Use with `#[serde(with = "exact_f64")]`.

use serde::{Deserialize, Deserializer, Serializer, de::Error};

/// Writes `v` as a string.
pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// Reads a value written by [`serialize`] (a plain JSON number is accepted too).
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr<'a> {
        Text(std::borrow::Cow<'a, str>),
        Number(f64),
    }
    match Repr::deserialize(d)? {
        Repr::Number(v) => Ok(v),
        Repr::Text(s) => s
            .parse::<f64>()
            .map_err(|e| D::Error::custom(format!("bad number {s:?}: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct W(#[serde(with = "super")] f64);

    #[test]
    fn round_trips_bit_for_bit() {
        let mut rng = wirewatch_core::rng::SplitMix64::new(5);
        let mut checked = 0;
        while checked < 10_000 {
            let x = f64::from_bits(rng.next_u64());
            if !x.is_finite() {
                continue;
            }
            let json = serde_json::to_string(&W(x)).unwrap();
            let back: W = serde_json::from_str(&json).unwrap();
            assert_eq!(back.0.to_bits(), x.to_bits(), "{json}");
            checked += 1;
        }
        assert_eq!(serde_json::from_str::<W>("0.5").unwrap(), W(0.5));
        assert_eq!(serde_json::to_string(&W(0.5)).unwrap(), r#""0.5""#);
        assert!(serde_json::from_str::<W>(r#""x""#).is_err());
    }
}
