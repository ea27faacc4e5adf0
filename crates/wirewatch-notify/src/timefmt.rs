//! RFC 3339 time stamps (UTC, millisecond precision) for message bodies and syslog headers,
//! and the wall clock reading they are made from. The calendar is jiff's (through
//! [`Timestamp::format_utc`]); no time-zone database.

use std::time::{SystemTime, UNIX_EPOCH};
use wirewatch_core::time::Timestamp;

/// The RFC 3339 form written: UTC, milliseconds (truncated), `Z`.
const RFC3339_MILLIS: &str = "%Y-%m-%dT%H:%M:%S.%3fZ";

/// The wall clock now, as a [`Timestamp`] (zero if the clock is before 1970).
pub fn now() -> Timestamp {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    Timestamp(nanos)
}

/// `ts` as `YYYY-MM-DDThh:mm:ss.mmmZ`.
pub fn rfc3339_millis(ts: Timestamp) -> String {
    ts.format_utc(RFC3339_MILLIS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirewatch_core::time::NANOS_PER_SEC;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339_millis(Timestamp(0)), "1970-01-01T00:00:00.000Z");
        // 2017-01-17T17:10:25.976Z (a leap-year-free date in January).
        let t = Timestamp::from_secs_nanos(1_484_673_025, 976_144_000);
        assert_eq!(rfc3339_millis(t), "2017-01-17T17:10:25.976Z");
        // 2024-02-29T23:59:59.999Z: a leap day.
        let t = Timestamp::from_secs_nanos(1_709_251_199, 999_999_999);
        assert_eq!(rfc3339_millis(t), "2024-02-29T23:59:59.999Z");
        // 2000-03-01T00:00:00.000Z: the day after a 400-year leap day.
        let t = Timestamp::from_secs_nanos(951_868_800, 0);
        assert_eq!(rfc3339_millis(t), "2000-03-01T00:00:00.000Z");
        // The latest timestamp, in 2554: a date like any other, no panic.
        assert_eq!(
            rfc3339_millis(Timestamp(u64::MAX)),
            "2554-07-21T23:34:33.709Z"
        );
    }

    #[test]
    fn now_is_after_2020() {
        assert!(now().0 / NANOS_PER_SEC > 1_577_836_800);
    }
}
