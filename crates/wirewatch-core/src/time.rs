//! Packet time: the capture timestamp of a frame, in nanoseconds since the Unix epoch.
//!
//! Every stateful stage takes time from here, never from the wall clock, so that a replayed
//! capture reproduces a live run exactly.

use serde::{Deserialize, Serialize};

/// Nanoseconds in one second.
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

/// A capture timestamp in nanoseconds since the Unix epoch (UTC).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// Builds a timestamp from whole seconds and a nanosecond fraction (saturating).
    pub fn from_secs_nanos(secs: u64, nanos: u64) -> Self {
        Timestamp(secs.saturating_mul(NANOS_PER_SEC).saturating_add(nanos))
    }

    /// Builds a timestamp from a duration in nanoseconds.
    pub fn from_nanos(nanos: u64) -> Self {
        Timestamp(nanos)
    }

    /// The timestamp in nanoseconds.
    pub fn nanos(self) -> u64 {
        self.0
    }

    /// The timestamp in seconds as a float (microsecond precision survives for dates to 2200).
    pub fn as_secs_f64(self) -> f64 {
        (self.0 / NANOS_PER_SEC) as f64 + (self.0 % NANOS_PER_SEC) as f64 / NANOS_PER_SEC as f64
    }

    /// Rounds down to a multiple of `step` nanoseconds (`step` 0 leaves the value unchanged).
    pub fn floor_to(self, step: u64) -> Self {
        if step == 0 {
            self
        } else {
            Timestamp(self.0 - self.0 % step)
        }
    }

    /// Nanoseconds from `earlier` to `self`, zero when `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    /// This timestamp moved forward by `nanos` (saturating).
    pub fn plus(self, nanos: u64) -> Timestamp {
        Timestamp(self.0.saturating_add(nanos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_seconds_keep_microseconds() {
        let t = Timestamp::from_secs_nanos(1_484_673_025, 976_144_000);
        assert!((t.as_secs_f64() - 1_484_673_025.976_144).abs() < 1e-6);
    }

    #[test]
    fn floor_and_since() {
        let t = Timestamp(5_300_000_000);
        assert_eq!(t.floor_to(NANOS_PER_SEC), Timestamp(5_000_000_000));
        assert_eq!(t.since(Timestamp(5_000_000_000)), 300_000_000);
        assert_eq!(Timestamp(1).since(t), 0);
        assert_eq!(t.floor_to(0), t);
    }
}
