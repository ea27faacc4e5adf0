//! Packet time: the capture timestamp of a frame, in nanoseconds since the Unix epoch.
//!
//! Every stateful stage takes time from here, never from the wall clock, so that a replayed
//! capture reproduces a live run exactly.
//!
//! Calendar work (civil dates, formatting, parsing) is [`jiff`]'s: [`Timestamp::to_jiff`] and
//! [`Timestamp::from_jiff`] convert, and [`Timestamp::format_utc`] writes a UTC time with
//! `strftime` directives, so no crate converts by hand.

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

    /// The same instant as a [`jiff::Timestamp`]. Every value fits: the latest, `u64::MAX`
    /// nanoseconds, is in the year 2554, and jiff reaches the year 9999.
    pub fn to_jiff(self) -> jiff::Timestamp {
        jiff::Timestamp::from_nanosecond(i128::from(self.0)).unwrap_or(jiff::Timestamp::MAX)
    }

    /// The same instant as a [`Timestamp`]: `None` before 1970 or after the latest one
    /// (`u64::MAX` nanoseconds, in the year 2554).
    pub fn from_jiff(t: jiff::Timestamp) -> Option<Timestamp> {
        u64::try_from(t.as_nanosecond()).ok().map(Timestamp)
    }

    /// This time in UTC, written with `strftime` directives (see [`jiff::fmt::strtime`]):
    /// `%Y-%m-%dT%H:%M:%S.%3fZ` gives `2024-02-29T23:59:59.999Z` (fractions are truncated, and
    /// `%z` is `+0000`). A format jiff rejects, a mistake the callers' tests catch, gives jiff's
    /// RFC 3339 form instead of a panic.
    pub fn format_utc(self, format: &str) -> String {
        let t = self.to_jiff();
        jiff::fmt::strtime::format(format, t).unwrap_or_else(|_| t.to_string())
    }
}

/// Parses Unix seconds (`1700000000.5`) or RFC 3339 UTC (`2024-01-01T00:00:00Z`,
/// `2024-01-01T00:00:00.25+02:00`, or a bare date `2024-01-01`).
pub fn parse_time(s: &str) -> Result<Timestamp, String> {
    let t = s.trim();
    if let Some(ts) = exact_seconds(t) {
        return Ok(ts);
    }
    if let Ok(secs) = t.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Ok(Timestamp((secs * 1e9).round() as u64));
        }
        return Err(format!("`{s}` is not a time: seconds must be positive"));
    }
    parse_rfc3339(t).ok_or_else(|| {
        format!("`{s}` is not a time: use Unix seconds or RFC 3339 such as 2024-01-01T00:00:00Z")
    })
}

/// A time as people write it on a command line or in a query: absolute, or some time before
/// "now" — and "now", for data that has its own time, is the newest packet time of that data
/// (a database, a live run), so `-1h` means the last hour of what was captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSpec {
    /// Unix seconds or RFC 3339 ([`parse_time`]).
    At(Timestamp),
    /// This many nanoseconds before the newest packet time (`-1h`, `now-30m`, `now`).
    BeforeNewest(u64),
}

impl TimeSpec {
    /// The instant, given the newest packet time (`None`: there is no data, so a relative time
    /// has nothing to count back from).
    pub fn resolve(self, newest: Option<Timestamp>) -> Option<Timestamp> {
        match self {
            TimeSpec::At(t) => Some(t),
            TimeSpec::BeforeNewest(back) => newest.map(|n| Timestamp(n.0.saturating_sub(back))),
        }
    }
}

/// Parses a [`TimeSpec`]: what [`parse_time`] reads, or `now`, `now-DURATION` or
/// `-DURATION` (a [`parse_duration_ns`] duration: `-30s`, `-1h30m`, `now-7d`).
pub fn parse_time_spec(s: &str) -> Result<TimeSpec, String> {
    let t = s.trim();
    let rel = match t.strip_prefix("now") {
        Some("") => return Ok(TimeSpec::BeforeNewest(0)),
        Some(rest) => rest.trim_start().strip_prefix('-').map(str::trim_start),
        None => t.strip_prefix('-'),
    };
    let parsed = match rel {
        Some(d) => parse_duration_ns(d).map(TimeSpec::BeforeNewest),
        None => parse_time(t).map(TimeSpec::At),
    };
    parsed.map_err(|_| {
        format!(
            "`{s}` is not a time: use Unix seconds, RFC 3339 such as \
             2024-01-01T00:00:00Z, or a relative time such as -30s, -1h30m, now-7d"
        )
    })
}

/// Parses a duration as people write it into nanoseconds: plain seconds (`90`, `0.5`), one
/// unit (`500ms`, `30s`, `5m`, `1h`, `7d`, `2w`) or several (`1h30m`, `1h 30m`, `2d12h`; jiff's
/// friendly format, which also reads ISO 8601 `PT1H30M`). Negative durations are refused.
pub fn parse_duration_ns(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let bad = || format!("`{text}` is not a duration (try 500ms, 30s, 5m, 1h30m, 7d)");
    if let Ok(secs) = t.parse::<f64>() {
        let ns = secs * 1e9;
        return (ns.is_finite() && ns >= 0.0 && ns < u64::MAX as f64)
            .then_some(ns.round() as u64)
            .ok_or_else(bad);
    }
    // Days and weeks are 24 and 168 hours: a duration of packet time has no calendar.
    let span: jiff::Span = t.parse().map_err(|_| bad())?;
    let d = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .map_err(|_| bad())?;
    u64::try_from(d.as_nanos()).map_err(|_| bad())
}

/// `SECONDS[.FRACTION]` in plain digits, exact to the nanosecond (an `f64` is not: it keeps
/// about 16 digits, a few hundred nanoseconds at today's times).
fn exact_seconds(t: &str) -> Option<Timestamp> {
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 9 {
        return None;
    }
    let secs: u64 = whole.parse().ok()?;
    let nanos: u64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().ok()?
    };
    Some(Timestamp(
        secs.checked_mul(1_000_000_000)?.checked_add(nanos)?,
    ))
}

/// RFC 3339 (as jiff reads it: `T`, `t` or a space between date and time, `Z`, `z` or an
/// offset) or a bare date, taken as UTC midnight. `None` before 1970, and after 2262-04-11
/// (2^63 ns, the latest packet time the packet clock accepts), as always.
fn parse_rfc3339(t: &str) -> Option<Timestamp> {
    let instant = match t.parse::<jiff::Timestamp>() {
        Ok(instant) => instant,
        Err(_) => {
            let day = jiff::civil::Date::strptime("%Y-%m-%d", t).ok()?;
            jiff::tz::Offset::UTC.to_timestamp(day.into()).ok()?
        }
    };
    i64::try_from(instant.as_nanosecond()).ok()?;
    Timestamp::from_jiff(instant)
}

/// Serde helpers writing a [`Timestamp`] as fractional Unix seconds (`1700000000.123456`), the
/// unit of every time in reports and exports; reading takes the same (negative, non-finite or
/// past the year 2554 values are refused).
pub mod secs {
    use super::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `ts` as seconds.
    pub fn serialize<S: Serializer>(ts: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(ts.as_secs_f64())
    }

    /// Reads seconds.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let secs = f64::deserialize(d)?;
        let nanos = secs * 1e9;
        if !nanos.is_finite() || nanos < 0.0 || nanos >= u64::MAX as f64 {
            return Err(serde::de::Error::custom(format!(
                "{secs} is not a time in seconds since 1970"
            )));
        }
        Ok(Timestamp(nanos.round() as u64))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_as_people_write_them() {
        use super::parse_duration_ns as d;
        const S: u64 = 1_000_000_000;
        assert_eq!(d("90"), Ok(90 * S));
        assert_eq!(d("0.5"), Ok(S / 2));
        assert_eq!(d("500ms"), Ok(S / 2));
        assert_eq!(d("30s"), Ok(30 * S));
        assert_eq!(d("5m"), Ok(300 * S));
        assert_eq!(d("1h"), Ok(3600 * S));
        assert_eq!(d("1h30m"), Ok(5400 * S));
        assert_eq!(d("1h 30m"), Ok(5400 * S));
        assert_eq!(d("7d"), Ok(7 * 86_400 * S));
        assert_eq!(d("2w"), Ok(14 * 86_400 * S));
        assert_eq!(d("PT1H30M"), Ok(5400 * S));
        for bad in ["", "fast", "-5m", "1x", "NaN", "-1"] {
            assert!(d(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn times_absolute_or_before_the_newest_packet() {
        use super::{TimeSpec, Timestamp, parse_time_spec as t};
        const S: u64 = 1_000_000_000;
        assert_eq!(t("-1h"), Ok(TimeSpec::BeforeNewest(3600 * S)));
        assert_eq!(t("now-30m"), Ok(TimeSpec::BeforeNewest(1800 * S)));
        assert_eq!(t("now - 1h30m"), Ok(TimeSpec::BeforeNewest(5400 * S)));
        assert_eq!(t("now"), Ok(TimeSpec::BeforeNewest(0)));
        assert_eq!(
            t("1700000000"),
            Ok(TimeSpec::At(Timestamp(1_700_000_000 * S)))
        );
        assert!(t("2026-02-31T00:00:00Z").is_err());
        assert!(t("now+1h").is_err());
        assert!(t("-soon").is_err());
        let newest = Some(Timestamp(10_000 * S));
        assert_eq!(
            TimeSpec::BeforeNewest(3600 * S).resolve(newest),
            Some(Timestamp(6_400 * S))
        );
        assert_eq!(TimeSpec::BeforeNewest(S).resolve(None), None);
        assert_eq!(TimeSpec::At(Timestamp(5)).resolve(None), Some(Timestamp(5)));
    }

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

    #[test]
    fn every_timestamp_converts_to_jiff_and_back() {
        for t in [
            Timestamp(0),
            Timestamp(1_709_251_199_999_999_999),
            Timestamp(i64::MAX as u64 + 1),
            Timestamp(u64::MAX),
        ] {
            assert_eq!(i128::from(t.0), t.to_jiff().as_nanosecond());
            assert_eq!(Timestamp::from_jiff(t.to_jiff()), Some(t));
        }
        let before_1970 = jiff::Timestamp::from_second(-1).ok();
        assert_eq!(before_1970.and_then(Timestamp::from_jiff), None);
        assert_eq!(Timestamp::from_jiff(jiff::Timestamp::MAX), None);
    }

    #[test]
    fn formats_in_utc_to_the_latest_timestamp() {
        let fmt = "%Y-%m-%dT%H:%M:%S.%6f%z";
        assert_eq!(
            Timestamp(0).format_utc(fmt),
            "1970-01-01T00:00:00.000000+0000"
        );
        // Truncated, not rounded: 23:59:59.999999999 stays on the leap day.
        let t = Timestamp::from_secs_nanos(1_709_251_199, 999_999_999);
        assert_eq!(t.format_utc(fmt), "2024-02-29T23:59:59.999999+0000");
        assert_eq!(
            Timestamp(u64::MAX).format_utc(fmt),
            "2554-07-21T23:34:33.709551+0000"
        );
        // A format jiff rejects gives RFC 3339 rather than a panic.
        assert_eq!(t.format_utc("%K"), "2024-02-29T23:59:59.999999999Z");
    }
}
