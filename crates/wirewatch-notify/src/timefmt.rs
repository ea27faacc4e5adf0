//! RFC 3339 time stamps (UTC, millisecond precision) for message bodies and syslog headers,
//! and the wall clock reading they are made from. Pure arithmetic; no time-zone database.

use std::time::{SystemTime, UNIX_EPOCH};
use wirewatch_core::time::{NANOS_PER_SEC, Timestamp};

/// Nanoseconds in one millisecond.
const NANOS_PER_MILLI: u64 = 1_000_000;
/// Seconds in one day.
const SECS_PER_DAY: u64 = 86_400;

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
    let secs = ts.0 / NANOS_PER_SEC;
    let millis = (ts.0 % NANOS_PER_SEC) / NANOS_PER_MILLI;
    let days = secs / SECS_PER_DAY;
    let rem = secs % SECS_PER_DAY;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date of `days` since 1970-01-01 (Howard Hinnant's algorithm,
/// restricted to dates on or after the epoch, which is all a `u64` timestamp can hold).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn now_is_after_2020() {
        assert!(now().0 / NANOS_PER_SEC > 1_577_836_800);
    }
}
