//! The detectors, one per file. Each has a serde `Config` (`deny_unknown_fields`, defaults that
//! suit a typical LAN) and a module doc with the same sections: *What it detects / Signal /
//! Thresholds / False positives / Recommended action*.
//!
//! Detectors do no I/O, never read the clock and keep only bounded state: every cap is a config
//! value or a named constant, and what a cap turns away is counted in
//! [`Detector::evictions`].

pub mod brute_force;
pub mod dns;
pub mod dos;
pub mod flood;
pub mod ml_anomaly;
pub mod ml_threat;
pub mod port_scan;
pub mod reflection;
pub mod spike;
pub mod syn_flood;
pub mod threat_intel;

use crate::{DetectConfig, DetectError, Detector};
use wirewatch_core::IntervalMetrics;
use wirewatch_core::time::NANOS_PER_SEC;

/// The enabled detectors of `config`, validated.
pub(crate) fn build(config: &DetectConfig) -> Result<Vec<Box<dyn Detector>>, DetectError> {
    let mut v: Vec<Box<dyn Detector>> = Vec::new();
    if config.spike.enabled {
        v.push(Box::new(spike::Spike::new(&config.spike)?));
    }
    if config.syn_flood.enabled {
        v.push(Box::new(syn_flood::SynFlood::new(&config.syn_flood)?));
    }
    if config.port_scan.enabled {
        v.push(Box::new(port_scan::PortScan::new(&config.port_scan)?));
    }
    if config.dos.enabled {
        // DoS leaves bare-SYN traffic to syn_flood and UDP/ICMP traffic to flood, but only
        // when those run: a disabled specialist must not leave a blind spot.
        let defer = dos::Defer {
            syn: config.syn_flood.enabled,
            udp_icmp: config.flood.enabled,
        };
        v.push(Box::new(dos::Dos::new(&config.dos, defer)?));
    }
    if config.reflection.enabled {
        v.push(Box::new(reflection::Reflection::new(&config.reflection)?));
    }
    if config.brute_force.enabled {
        v.push(Box::new(brute_force::BruteForce::new(&config.brute_force)?));
    }
    if config.flood.enabled {
        v.push(Box::new(flood::Flood::new(&config.flood)?));
    }
    if config.dns.enabled {
        v.push(Box::new(dns::Dns::new(&config.dns)?));
    }
    if config.ml_anomaly.enabled {
        v.push(Box::new(ml_anomaly::MlAnomaly::new(&config.ml_anomaly)?));
    }
    if config.ml_threat.enabled {
        v.push(Box::new(ml_threat::MlThreat::new(&config.ml_threat)?));
    }
    if config.threat_intel.enabled {
        v.push(Box::new(threat_intel::ThreatIntel::new(
            &config.threat_intel,
        )?));
    }
    Ok(v)
}

/// The interval length in seconds (at least a nanosecond, so rates stay finite).
pub(crate) fn interval_secs(m: &IntervalMetrics) -> f64 {
    m.duration_ns.max(1) as f64 / NANOS_PER_SEC as f64
}

/// Orders drafts worst first (ties by incident key, so runs are reproducible): when a rate
/// limit cuts in, the important ones are kept.
pub(crate) fn worst_first(drafts: &mut [crate::AlertDraft]) {
    drafts.sort_by(|a, b| {
        b.magnitude
            .total_cmp(&a.magnitude)
            .then_with(|| a.incident_key.cmp(&b.incident_key))
    });
}

/// Checks that a setting is a finite number in `range`.
pub(crate) fn check(
    section: &'static str,
    field: &'static str,
    value: f64,
    ok: bool,
    reason: &'static str,
) -> Result<(), DetectError> {
    if value.is_finite() && ok {
        Ok(())
    } else {
        Err(DetectError::Invalid {
            section,
            field,
            value: value.to_string(),
            reason,
        })
    }
}

/// Shortest span a rate is taken over. An attack is judged on its own rate, not diluted by
/// the interval (8,000 packets in 0.15 s are 53,000/s, not 8,000/s), but a span this short
/// would make a handful of back-to-back packets look like a flood, so spans are at least this.
pub(crate) const MIN_BURST_SECS: f64 = 0.1;
/// Evidence a rate needs: at least this many seconds' worth of packets at the threshold rate
/// (100 SYNs for a 200 SYNs/s threshold), however short the burst.
pub(crate) const MIN_EVIDENCE_SECS: f64 = 0.5;

/// The rate of `count` events seen from `first` to `last` inside an interval of
/// `interval_secs`: over their own span (at least [`MIN_BURST_SECS`], at most the interval).
/// `None` when `count` is below [`MIN_EVIDENCE_SECS`] worth of `threshold`: too few to judge.
pub(crate) fn burst_rate(
    count: u64,
    first: wirewatch_core::Timestamp,
    last: wirewatch_core::Timestamp,
    interval_secs: f64,
    threshold: f64,
) -> Option<f64> {
    if (count as f64) < threshold * MIN_EVIDENCE_SECS || count == 0 {
        return None;
    }
    Some(count as f64 / active_secs(first, last, interval_secs))
}

/// The seconds a rate of events seen from `first` to `last` is taken over: their span, at
/// least [`MIN_BURST_SECS`], at most the interval.
pub(crate) fn active_secs(
    first: wirewatch_core::Timestamp,
    last: wirewatch_core::Timestamp,
    interval_secs: f64,
) -> f64 {
    let span = last.since(first) as f64 / NANOS_PER_SEC as f64;
    span.max(MIN_BURST_SECS)
        .min(interval_secs.max(MIN_BURST_SECS))
}

/// Share of an interval's bytes a talker must carry to be named by an interval-wide finding
/// (a spike, an anomaly): the hosts that made the change, not whoever else was talking.
pub(crate) const TALKER_SHARE: f64 = 0.1;

/// The first `max` of `v` (top talkers, heaviest first) carrying at least [`TALKER_SHARE`] of
/// the interval's `bytes`.
pub(crate) fn heavy_talkers(
    v: &[wirewatch_core::Talker],
    bytes: u64,
    max: usize,
) -> Vec<std::net::IpAddr> {
    v.iter()
        .take(max)
        .filter(|t| t.bytes as f64 >= TALKER_SHARE * bytes.max(1) as f64)
        .map(|t| t.ip)
        .collect()
}
