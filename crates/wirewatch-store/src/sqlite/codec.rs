//! Conversions between core types and their column values.

use wirewatch_core::{EndReason, Severity, TcpState};

/// A counter or timestamp as an SQLite INTEGER (i64). Values above `i64::MAX` (year 2262 in
/// nanoseconds, or a counter no capture reaches) saturate instead of wrapping.
pub(crate) fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// An INTEGER column back as a counter (negative values, written by another program, read 0).
pub(crate) fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Every end reason, for parsing.
const END_REASONS: [EndReason; 7] = [
    EndReason::IdleTimeout,
    EndReason::ActiveTimeout,
    EndReason::Fin,
    EndReason::Rst,
    EndReason::Evicted,
    EndReason::PortReuse,
    EndReason::EndOfCapture,
];

/// The snake_case name of an end reason, as its serde form.
pub(crate) fn end_reason_name(r: EndReason) -> &'static str {
    match r {
        EndReason::IdleTimeout => "idle_timeout",
        EndReason::ActiveTimeout => "active_timeout",
        EndReason::Fin => "fin",
        EndReason::Rst => "rst",
        EndReason::Evicted => "evicted",
        EndReason::PortReuse => "port_reuse",
        EndReason::EndOfCapture => "end_of_capture",
    }
}

pub(crate) fn parse_end_reason(s: &str) -> Option<EndReason> {
    END_REASONS.into_iter().find(|r| end_reason_name(*r) == s)
}

pub(crate) fn parse_state(s: &str) -> Option<TcpState> {
    [
        TcpState::None,
        TcpState::Handshake,
        TcpState::Established,
        TcpState::Closing,
        TcpState::Closed,
        TcpState::Reset,
    ]
    .into_iter()
    .find(|st| st.name() == s)
}

/// Severity as an ordered number (low 0 … critical 3) for `min_severity` filters and sorting.
pub(crate) fn severity_level(s: Severity) -> i64 {
    match s {
        Severity::Low => 0,
        Severity::Medium => 1,
        Severity::High => 2,
        Severity::Critical => 3,
    }
}

pub(crate) fn severity_of_level(level: i64) -> Severity {
    match level {
        i64::MIN..=0 => Severity::Low,
        1 => Severity::Medium,
        2 => Severity::High,
        _ => Severity::Critical,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_serde() {
        for r in END_REASONS {
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{}\"", end_reason_name(r)));
            assert_eq!(parse_end_reason(end_reason_name(r)), Some(r));
        }
        assert_eq!(parse_state("reset"), Some(TcpState::Reset));
        for s in [
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ] {
            assert_eq!(severity_of_level(severity_level(s)), s);
        }
        assert_eq!(i64_of(u64::MAX), i64::MAX);
        assert_eq!(u64_of(-5), 0);
    }
}
